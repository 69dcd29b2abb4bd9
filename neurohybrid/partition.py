"""The partition station: splits one model graph between the point-neuron engine and the
biophysical (NEURON) engine, and says which spikes cross between them.

A projection that crosses engines becomes, on its target's side, a projection from a *mirror*:
a ``SpikeSourceExternal`` population standing in for the source population, fed by the
co-simulation kernel. The kernel link between the engines has a delay of ``exchange`` ticks,
which the crossing projections give up from their own delays, so every spike still arrives
exactly ``delay`` after it was emitted:

* point -> biophysical: NEURON receives the spike ``exchange`` ticks after its emission and
  schedules it at spike time + (delay - exchange); any ``exchange <= delay`` works;
* biophysical -> point: the point engine's mirror emits it ``exchange`` ticks late and delivers
  it with delay - exchange, which must stay >= one time step (the point engines' minimum).

NEURON detects a threshold crossing at the start of the step after it, so a spike in the last
NEURON step of a window is reported with the next window: NEURON's spikes therefore travel one
tick later in kernel time, on a link one tick shorter (``exchange - 1``), which keeps them exact.

``exchange`` is the largest value all allow: min(point->bio delays, bio->point delays - dt),
and at least 2 ticks when spikes go from NEURON to the point engine;
less than one tick is a :class:`CausalityError` naming the projection. Spike sources (Poisson,
arrays, ...) that drive biophysical cells are not mirrored: both engines generate them from the
same keyed streams.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from .errors import CausalityError
from .graph import ModelGraph, PopulationNode, RecordingSpec

__all__ = ["Partition", "partition", "MIRROR"]

#: model name of mirror nodes (and of every population that receives spikes from the kernel)
MIRROR = "SpikeSourceExternal"


@dataclass
class Partition:
    """Result of :func:`partition` (see the module docstring). Mirror names are
    ``"<source population>@<engine>"``."""

    point: ModelGraph
    bio: ModelGraph
    to_bio: dict[str, str] = field(default_factory=dict)  # point population -> its mirror in bio
    to_point: dict[str, str] = field(default_factory=dict)  # biophysical population -> its mirror in point
    exchange: int | None = None  # ticks; None when nothing crosses
    exported: set = field(default_factory=set)  # populations recorded only because their spikes cross


def _mirror(node: PopulationNode, engine: str) -> PopulationNode:
    return PopulationNode(f"{node.name}@{engine}", MIRROR, node.size, {}, {}, kind="source")


def partition(graph: ModelGraph) -> Partition:
    """Split ``graph`` (see the module docstring); the input graph is not modified."""
    bio_names = {n for n, node in graph.nodes.items() if node.kind == "biophysical"}
    part = Partition(ModelGraph(graph.dt, graph.seed), ModelGraph(graph.dt, graph.seed))
    for name, node in graph.nodes.items():
        (part.bio if name in bio_names else part.point).nodes[name] = node
    dt = graph.dt
    # Spike sources (Poisson, arrays, ...) that drive biophysical cells run on both sides: the
    # NEURON engine generates them from the same keyed streams, so no spike has to cross.
    shared = set()
    for e in graph.edges:
        pre = graph.nodes[e.pre]
        if e.post in bio_names and pre.kind == "source":
            if pre.model == MIRROR:
                raise CausalityError(f"Projection({e.name})", "pre", f"{e.pre!r} gets its spikes from the kernel "
                                     "and cannot also feed biophysical cells", "a point-neuron or spike-source population")
            part.bio.nodes[e.pre] = pre
            shared.add(e.pre)
    for name in shared:  # a source that only drives biophysical cells leaves the point engine
        if not any(e.pre == name and e.post not in bio_names for e in graph.edges) and \
                not any(r.node == name for r in graph.recordings):
            del part.point.nodes[name]
    crossing = [e for e in graph.edges if (e.pre in bio_names) != (e.post in bio_names) and e.pre not in shared]
    limits = []
    for e in crossing:
        ticks = int(np.rint(np.min(e.values["delay"]) / dt)) if e.pre_index.size else None
        if ticks is None:
            continue
        limits.append((ticks if e.post in bio_names else ticks - 1, e))
    if limits:
        part.exchange, worst = min(limits, key=lambda x: x[0])
        need = 2 if any(e.pre in bio_names for _, e in limits) else 1
        if part.exchange < need:
            raise CausalityError(f"Projection({worst.name})", "delay",
                                 f"{float(np.min(worst.values['delay'])):g} ms between engines (point neurons and "
                                 "NEURON) leaves no time to exchange the spikes",
                                 f"delays >= {3 * dt:g} ms on projections from biophysical to point populations "
                                 f"(and then >= {2 * dt:g} ms the other way), >= {dt:g} ms from point to "
                                 "biophysical populations alone")
    shift = (part.exchange or 0) * dt
    for e in graph.edges:
        if not any(e is c for c in crossing):
            (part.bio if e.post in bio_names else part.point).edges.append(e)
            continue
        to_bio = e.post in bio_names
        side, other = (part.bio, part.point) if to_bio else (part.point, part.bio)
        mirrors = part.to_bio if to_bio else part.to_point
        if e.pre not in mirrors:
            mirror = _mirror(graph.nodes[e.pre], "neuron" if to_bio else "point")
            side.nodes[mirror.name] = mirror
            mirrors[e.pre] = mirror.name
        values = dict(e.values)
        values["delay"] = np.asarray(e.values["delay"], dtype=float) - shift
        side.edges.append(dataclasses.replace(e, pre=mirrors[e.pre], values=values))
    for cur in graph.currents:
        (part.bio if cur.node in bio_names else part.point).currents.append(cur)
    recorded = {(r.node, r.variable) for r in graph.recordings}
    for rec in graph.recordings:
        (part.bio if rec.node in bio_names else part.point).recordings.append(rec)
    for source, into in ((part.to_bio, part.point), (part.to_point, part.bio)):
        for name in source:
            if (name, "spikes") not in recorded:  # the engine reports only recorded spikes
                into.recordings.append(RecordingSpec(name, "spikes", np.arange(graph.nodes[name].size)))
                part.exported.add(name)
    return part
