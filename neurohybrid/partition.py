"""The partition station: places every node of a model graph on an engine instance and splits
the graph into one part per engine, with a bridge for every pair of engines that exchange spikes.

Placement (:func:`place`): a node's ``engine`` (a user override, e.g. ``"emulator"``) or else
the default engine for its kind: point populations go to the session's point engine when it can
run them (the Loihi path runs only what has a faithful Loihi form), else to the float emulator,
with the reason; biophysical cells go to NEURON. An engine instance is an engine name with an
optional tag (``"emulator:thalamus"``): two tags are two instances of one engine.

A projection that crosses engines becomes, on its target's side, a projection from a *mirror*:
a ``SpikeSourceExternal`` population named ``"<source population>@<target engine>"``, fed by
the co-simulation kernel. For every ordered pair of engines A -> B that exchange spikes there
is one kernel link (a :class:`Bridge`) of ``delay`` ticks. Every spike still arrives exactly
``delay`` after it was emitted:

* engine A reports a spike emitted at tick e at tick e + ``latency(A)`` (NEURON detects a
  threshold crossing at the start of the step after it: 1; point engines: 0);
* the link adds ``L`` ticks; B's mirror emits it at e + latency(A) + L and delivers it with the
  projection's delay minus that shift, which must stay >= ``min_input_delay(B)`` (point
  engines: one tick, the smallest PyNN delay; NEURON: 0).

So ``L = min over A->B projections of (delay - min_input_delay(B) - latency(A))`` ticks, and
``L < 1`` is a :class:`CausalityError` naming the projection. The kernel link itself may be
``input_lead(B)`` ticks longer (:attr:`Bridge.link_delay`): the float emulator uses a spike
pushed at tick k from the window that integrates tick k + 1 on, so its component takes the
spike at its earliest arrival tick and pushes it back to the mirror's emission tick; the
macro-step (bounded by the links) is then the whole synaptic delay, as in the unsplit model
(Brunel split over two emulators: 15-tick windows instead of 14). Spike sources generated from
keyed streams (Poisson, arrays, ...) are not mirrored: every engine with targets of a source
runs its own copy, which gives the same spikes; it is recorded only at its home engine.
Sources fed from outside (``SpikeSourceExternal``) cannot be copied and cross like neurons.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from .errors import CausalityError, PlacementError, UnsupportedModelError
from .graph import ModelGraph, PopulationNode, RecordingSpec

__all__ = ["Partition", "Bridge", "Placement", "place", "partition", "MIRROR", "engine_of", "NEURON"]

#: model name of mirror nodes (and of every population that receives spikes from the kernel)
MIRROR = "SpikeSourceExternal"
#: engine instance of biophysical populations
NEURON = "neuron"



def engine_of(instance: str) -> str:
    """The engine name of an engine instance (``"emulator:thalamus"`` -> ``"emulator"``)."""
    return instance.split(":", 1)[0]


def input_lead(instance: str) -> int:
    """Ticks a bridge into engine ``instance`` may be longer than its mirrors' shift (the
    engine's ``Capabilities.input_lead``, module docstring)."""
    from .engines import engine_class
    return int(getattr(engine_class(engine_of(instance)).capabilities, "input_lead", 0))


def timing(instance: str) -> tuple[int, int]:
    """(latency, min_input_delay) in ticks of an engine instance: what its engine declares in
    its :class:`~neurohybrid.engine.Capabilities` (module docstring)."""
    from .engines import engine_class
    caps = engine_class(engine_of(instance)).capabilities
    return int(caps.latency), int(caps.min_input_delay)


@dataclass
class Placement:
    """Where one node runs and why."""

    node: str
    engine: str  # engine instance
    reason: str
    kind: str = "point"
    model: str = ""
    copies: tuple = ()  # for spike sources: the other engines that run a copy of it

    def line(self) -> str:
        extra = f" (copies on {', '.join(self.copies)})" if self.copies else ""
        return f"{self.node} ({self.model}, {self.kind}) -> {self.engine}{extra}: {self.reason}"


@dataclass
class Bridge:
    """The kernel link from engine ``source`` to engine ``target``: the spikes of ``populations``
    (each on its own port), the target's mirrors ``mirrors[population]``. ``delay`` (ticks): a
    spike reported at tick t is emitted by its mirror at t + delay; the kernel link is
    ``link_delay = delay + lead`` ticks (``lead``: the target's input lead, module docstring) and
    the target's component pushes what it receives ``lead`` ticks back."""

    source: str
    target: str
    delay: int
    populations: list = field(default_factory=list)
    mirrors: dict = field(default_factory=dict)
    lead: int = 0

    @property
    def link_delay(self) -> int:
        """The delay (ticks) of the kernel link."""
        return self.delay + self.lead


@dataclass
class Partition:
    """Result of :func:`partition` (see the module docstring)."""

    parts: dict[str, ModelGraph]  # engine instance -> the part of the model it runs
    placement: dict[str, Placement]
    bridges: list[Bridge] = field(default_factory=list)
    #: populations whose spikes are recorded only because they cross (the user did not record them)
    exported: set = field(default_factory=set)
    #: populations whose spikes cross but of which the user records only some cells: their
    #: engines report every cell, the run store keeps these cells only
    store_subset: dict = field(default_factory=dict)

    def engine_of_node(self, node: str) -> str:
        return self.placement[node].engine

    def report(self) -> str:
        """What runs where and why, one line per node, then the bridges."""
        lines = [p.line() for p in self.placement.values()]
        lines += [f"bridge {b.source} -> {b.target}: {len(b.populations)} population(s), {b.delay} ticks"
                  for b in self.bridges]
        return "\n".join(lines)


def place(graph: ModelGraph, default: str, refusal, note=None) -> dict[str, Placement]:
    """Place every node (module docstring). ``default``: the session's point engine instance;
    ``refusal(instance, node, graph)`` returns why an engine cannot run a node, or None;
    ``note(instance, node, graph)`` an optional remark for the report (e.g. that a population
    placed on Lava stays on the host CPU under Loihi2HwCfg). An override that cannot run its
    node is an :class:`UnsupportedModelError` naming both."""
    out = _place(graph, default, refusal)
    if note is not None:
        for name, p in out.items():
            remark = note(p.engine, graph.nodes[name], graph)
            if remark:
                p.reason = f"{p.reason}; {remark}"
    return out


def _place(graph: ModelGraph, default: str, refusal) -> dict[str, Placement]:
    out: dict[str, Placement] = {}
    for name, node in graph.nodes.items():
        if node.kind == "biophysical":
            chosen = node.engine or NEURON
            why = refusal(chosen, node, graph)
            if why:
                raise UnsupportedModelError(f"Population({name})", "engine", f"{chosen!r} cannot run it: {why}",
                                            "'neuron', or 'surrogate' with a trained surrogate")
            reason = ("multi-compartment cell: NEURON" if chosen == NEURON else
                      "multi-compartment cell replaced by its trained surrogate" if getattr(node, "surrogate", None)
                      is not None else "chosen by the user")
            out[name] = Placement(name, chosen, reason, node.kind, node.model)
            continue
        if node.engine is not None:
            why = refusal(node.engine, node, graph)
            if why:
                raise UnsupportedModelError(f"Population({name})", "engine",
                                            f"{node.engine!r} cannot run {node.model}: {why}",
                                            "an engine that has this cell type (see sim.placement())")
            out[name] = Placement(name, node.engine, "chosen by the user", node.kind, node.model)
            continue
        why = refusal(default, node, graph)
        if why is None:
            out[name] = Placement(name, default, "the session's engine", node.kind, node.model)
        else:
            out[name] = Placement(name, "emulator", f"{why} -> float emulator on the host", node.kind, node.model)
    _follow_targets(graph, out, refusal)
    _follow_gated(graph, out, refusal)
    return out


def _follow_gated(graph: ModelGraph, placement: dict, refusal) -> None:
    """A volume transmitter (kind ``"modulator"``) runs where the synapses it gates run: their
    plasticity reads its dopamine at every presynaptic spike. Gated synapses on several engines
    are refused (PlacementError naming the transmitter)."""
    for name, node in graph.nodes.items():
        if node.kind != "modulator":
            continue
        homes = list(dict.fromkeys(placement[e.post].engine for e in graph.edges if e.modulator == name))
        if len(homes) > 1:
            raise PlacementError(f"VolumeTransmitter({name})", "engine",
                                 f"the synapses it gates run on {', '.join(homes)}",
                                 "gated projections onto populations of one engine")
        if homes and homes[0] != placement[name].engine:
            why = refusal(homes[0], node, graph)
            if why:
                raise PlacementError(f"VolumeTransmitter({name})", "engine",
                                     f"{homes[0]} runs the synapses it gates but cannot run it: {why}",
                                     "gated projections onto an engine with volume transmitters (the float emulator)")
            placement[name] = Placement(name, homes[0], "runs where the synapses it gates run", node.kind,
                                        node.model)


def _follow_targets(graph: ModelGraph, placement: dict, refusal) -> None:
    """A kernel-fed source (``SpikeSourceExternal``: a scaffold's afferent spikes, a live input)
    without an override runs where its first target runs, so its spikes need no bridge."""
    for name, node in graph.nodes.items():
        if node.model != MIRROR or node.engine is not None:
            continue
        targets = [placement[e.post].engine for e in graph.edges if e.pre == name]
        if targets and targets[0] != placement[name].engine and refusal(targets[0], node, graph) is None:
            placement[name] = Placement(name, targets[0], "fed by the kernel: runs where its targets run",
                                        node.kind, node.model)


def _mirror(node: PopulationNode, engine: str) -> PopulationNode:
    return PopulationNode(f"{node.name}@{engine}", MIRROR, node.size, {}, {}, kind="source")


def _copyable(node: PopulationNode) -> bool:
    """Spike sources generated from keyed streams: every engine can run its own copy."""
    return node.kind == "source" and node.model != MIRROR


def partition(graph: ModelGraph, placement: dict[str, Placement]) -> Partition:
    """Split ``graph`` by ``placement`` (see the module docstring); ``graph`` is not modified,
    ``placement`` gains the copies of stream sources (and their moved homes). With a single
    engine the part is ``graph`` itself."""
    home = {n: p.engine for n, p in placement.items()}
    engines = list(dict.fromkeys(home.values()))
    if len(engines) <= 1:
        return Partition({e: graph for e in engines} or {}, placement)
    parts = {e: ModelGraph(graph.dt, graph.seed) for e in engines}
    for name, node in graph.nodes.items():
        parts[home[name]].nodes[name] = node
    # copies of stream sources on every engine that has targets of them
    for e in graph.edges:
        pre = graph.nodes[e.pre]
        where = home[e.post]
        if _copyable(pre) and where != home[e.pre]:
            parts[where].nodes[e.pre] = pre
            if where not in placement[e.pre].copies:
                placement[e.pre].copies = placement[e.pre].copies + (where,)
    _move_unused_sources(graph, parts, placement, home)
    crossing = [e for e in graph.edges if home[e.pre] != home[e.post] and not _copyable(graph.nodes[e.pre])]
    bridges = _bridges(graph, crossing, home)
    by_pair = {(b.source, b.target): b for b in bridges}
    for e in graph.edges:
        target = home[e.post]
        if any(e is c for c in crossing) and not e.pre_index.size:
            continue  # a crossing projection without connections carries nothing
        if not any(e is c for c in crossing):
            parts[target].edges.append(e)
            continue
        bridge = by_pair[(home[e.pre], target)]
        if e.pre not in bridge.mirrors:
            mirror = _mirror(graph.nodes[e.pre], target)
            parts[target].nodes[mirror.name] = mirror
            bridge.mirrors[e.pre] = mirror.name
            bridge.populations.append(e.pre)
        shift = (bridge.delay + timing(bridge.source)[0]) * graph.dt
        values = dict(e.values)
        values["delay"] = np.asarray(e.values["delay"], dtype=float) - shift
        # plasticity pairs the original emission time with the whole delay: the edge keeps the shift
        parts[target].edges.append(dataclasses.replace(e, pre=bridge.mirrors[e.pre], values=values,
                                                       transit=e.transit + shift))
    for cur in graph.currents:
        parts[home[cur.node]].currents.append(cur)
    crossing_pops = {name for b in bridges for name in b.populations}
    spikes_of = {r.node: r for r in graph.recordings if r.variable == "spikes"}
    part = Partition(parts, placement, bridges)
    edge_home = {e.name: home[e.post] for e in graph.edges}  # a projection's weights: where its synapses are
    for rec in graph.recordings:
        if rec.node in edge_home and rec.node not in home:
            parts[edge_home[rec.node]].recordings.append(rec)
        elif not (rec.variable == "spikes" and rec.node in crossing_pops):
            parts[home[rec.node]].recordings.append(rec)
    for name in sorted(crossing_pops):  # engines report recorded spikes only: every cell must be
        size = graph.nodes[name].size
        parts[home[name]].recordings.append(RecordingSpec(name, "spikes", np.arange(size)))
        if name not in spikes_of:
            part.exported.add(name)
        elif np.asarray(spikes_of[name].index).size != size:
            part.store_subset[name] = np.asarray(spikes_of[name].index, dtype=np.int64)
    return part


def _move_unused_sources(graph: ModelGraph, parts: dict, placement: dict, home: dict) -> None:
    """A copied source whose home engine neither drives nor records it moves home to its first
    copy (a Poisson source driving only host populations leaves the Loihi path)."""
    for name, p in placement.items():
        if not p.copies or any(e.pre == name and home[e.post] == p.engine for e in graph.edges) or \
                any(r.node == name for r in graph.recordings):
            continue
        del parts[p.engine].nodes[name]
        p.engine, p.copies = p.copies[0], p.copies[1:]
        p.reason = f"runs where its targets are ({p.reason})"
        home[name] = p.engine


def _bridges(graph: ModelGraph, crossing: list, home: dict) -> list[Bridge]:
    """One bridge per engine pair, its delay the largest every crossing projection allows."""
    limits: dict[tuple, tuple] = {}
    for e in crossing:
        if not e.pre_index.size:
            continue
        pair = (home[e.pre], home[e.post])
        ticks = int(np.rint(np.min(e.values["delay"]) / graph.dt))
        allowed = ticks - timing(pair[1])[1] - timing(pair[0])[0]
        if pair not in limits or allowed < limits[pair][0]:
            limits[pair] = (allowed, e)
    bridges = []
    for (source, target), (allowed, worst) in limits.items():
        if allowed < 1:
            need = (1 + timing(target)[1] + timing(source)[0]) * graph.dt
            raise CausalityError(f"Projection({worst.name})", "delay",
                                 f"{float(np.min(worst.values['delay'])):g} ms from {source} to {target} leaves no "
                                 "time to exchange the spikes between the engines",
                                 f"delays >= {need:g} ms on projections from {source} to {target}")
        bridges.append(Bridge(source, target, int(allowed), lead=min(input_lead(target), timing(target)[1])))
    return bridges
