"""The model graph's node kinds beyond populations, and the typed links between their ports.

A hybrid model is a federation: a whole-brain mean-field scaffold, converters between spikes
and rates, named fields, host modules (live I/O, controllers, surrogates) and the populations
of :mod:`neurohybrid.graph`. Each kind is one dataclass (as NIR does); what flows between them
is a :class:`Link` from an output port to an input port of the same kind:

- ``"spikes"``: times + neuron ids; ``"rates"``: Hz, one column per channel, at a sampling
  period; ``"fields"``: a slow value with units, one per sample.

Ports, by node kind (``<...>`` is free text):

=====================  =======================================  ==========================
node                   outputs                                  inputs
=====================  =======================================  ==========================
population             ``spikes``; ``proxy:<lfp|mean_v:loc>``   ``spikes`` (SpikeSourceExternal);
                       (fields, biophysical cells)              ``field:<modulates>`` (fields)
                                                                ``field:gate:<projection>`` (a gate
                                                                on a projection into it: fields)
volume transmitter     (none)                                   ``field:dopamine`` (fields)
(kind "modulator")
ScaffoldNode           ``afferent:<region>`` (rates: the        ``rates:<region>`` (rates from
                       coupling input of a replaced region);    the circuit replacing it)
                       ``state:<region>.<variable>`` (fields)
RatesToSpikesNode      ``spikes``                               ``rates``
SpikesToRatesNode      ``rates``                                ``spikes``
FieldNode              ``field``                                ``in`` (fields: a scaffold state,
                                                                a proxy, a controller, a rate
                                                                model); ``spikes`` (a spiking
                                                                nucleus: release per spike)
HostModuleNode         its component's outputs                  its component's inputs
=====================  =======================================  ==========================

Link delays are derived by the runtime (the exchange interval of the scaffold, a field's own
``delay``, a host module's ``period``), so a link carries no delay of its own.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..errors import LinkError, ParameterError

__all__ = ["PORT_KINDS", "COMPOSITION_RULES", "ScaffoldNode", "RatesToSpikesNode", "SpikesToRatesNode", "FieldNode", "HostModuleNode",
           "Link", "port_kind", "Affine", "Sigmoid", "TRANSFER_FUNCTIONS"]

#: What a port carries.
PORT_KINDS = ("spikes", "rates", "fields")


@dataclass
class ScaffoldNode:
    """A whole-brain mean-field scaffold, run by the mean-field engine.

    ``connectome``: regions, weights (j -> i, dimensionless) and tract lengths (mm);
    ``model``: a neural-mass model; ``coupling``, ``integrator``: as in
    :mod:`neurohybrid.backends.meanfield`; ``speed``: conduction speed (mm/ms); ``dt``: the
    mean-field step (ms, a multiple of the graph's); ``initial_state``: (nvar, n) or (nvar,)
    or None (random in the model's ranges, from the graph seed); ``monitors``: what it records
    (temporal averages, BOLD); ``exchange``: ms between exchanges with the spiking side (None:
    the shortest conduction delay touching a replaced region); ``pipelined``: converters as
    separate components on half the exchange interval; ``parallel``: components of one
    macro-step in threads.
    """

    name: str
    connectome: object
    model: object
    coupling: object
    integrator: object
    speed: float
    dt: float
    initial_state: object = None
    monitors: list = field(default_factory=list)
    exchange: float | None = None
    pipelined: bool = False
    parallel: bool = True
    kind: ClassVar[str] = "scaffold"

    def region_index(self, region: str) -> int:
        """Index of region ``region`` (LinkError naming the scaffold when unknown)."""
        try:
            return list(self.connectome.labels).index(region)
        except ValueError:
            raise LinkError(f"ScaffoldNode({self.name})", "region", f"no region {region!r}",
                            ", ".join(map(str, self.connectome.labels[:8])) + ", ...") from None


@dataclass
class RatesToSpikesNode:
    """Rates -> spikes: the input rate c becomes ``max(0, baseline + gain c)`` Hz driving one
    generator per output cell (``size`` cells; ``process``: ``"poisson"``, ``"gamma"`` of
    ``order``, ``"refractory"`` with dead time ``t_ref`` ms; ``shared``: one train for all),
    seeded by the graph seed and ``stream`` (default the node name)."""

    name: str
    size: int
    process: str = "poisson"
    gain: float = 1.0  # Hz per unit of the input
    baseline: float = 0.0  # Hz
    shared: bool = False
    order: float = 2.0
    t_ref: float = 2.0  # ms
    stream: str | None = None  # the name keying its random stream (None: its name)
    kind: ClassVar[str] = "rates_to_spikes"


@dataclass
class SpikesToRatesNode:
    """Spikes -> rates: the population rate (Hz) of each group of input cells (``groups``:
    sizes, inputs concatenated in link order) through a causal ``kernel`` (``"box"`` of
    ``width`` ms, ``"exponential"`` or ``"alpha"`` of ``tau`` ms), sampled every ``period`` ms;
    ``mix`` (n_out x n_groups, dimensionless) and ``bias`` (n_out, Hz): output column o is
    ``sum_g mix[o][g]·rate_g + bias[o]`` (None: one column per group)."""

    name: str
    groups: list
    kernel: str = "box"
    tau: float = 10.0  # ms
    width: float | None = None  # ms (None: the period)
    period: float | None = None  # ms (None: the scaffold step)
    mix: list | None = None
    bias: list | None = None
    kind: ClassVar[str] = "spikes_to_rates"


def _finite(owner: str, **values) -> None:
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ParameterError(owner, name, f"{v!r}", "a finite number")


@dataclass(frozen=True)
class Affine:
    """A field's transfer function as data: ``value -> scale * value + offset``.

    ``value`` is in the source's units (a region's state variable, or mV for a proxy of a
    biophysical population); ``scale`` is in field units per source unit, ``offset`` in field
    units (the :class:`FieldNode`'s ``units``). Vectorised: a float gives a float, an array an
    array. A graph file stores it as its two numbers (a Python function cannot be stored).
    """

    scale: float = 1.0
    offset: float = 0.0

    def __post_init__(self):
        _finite("Affine", scale=self.scale, offset=self.offset)

    def __call__(self, value):
        y = self.scale * np.asarray(value, dtype=float) + self.offset
        return float(y) if y.ndim == 0 else y


@dataclass(frozen=True)
class Sigmoid:
    """A field's transfer function as data, a logistic curve from ``low`` to ``high``:
    ``value -> low + (high - low) / (1 + exp(-(value - midpoint) / width))``.

    ``value``, ``midpoint`` and ``width`` (> 0) are in the source's units; ``low`` and ``high``
    in field units. Computed as ``low + (high - low) (1 + tanh((value - midpoint) / (2 width))) / 2``
    (the same curve, no overflow far from the midpoint). Vectorised as :class:`Affine`.
    """

    low: float = 0.0
    high: float = 1.0
    midpoint: float = 0.0
    width: float = 1.0

    def __post_init__(self):
        _finite("Sigmoid", low=self.low, high=self.high, midpoint=self.midpoint, width=self.width)
        if self.width <= 0:
            raise ParameterError("Sigmoid", "width", f"{self.width!r}", "a width > 0 in the source's units")

    def __call__(self, value):
        z = (np.asarray(value, dtype=float) - self.midpoint) / (2.0 * self.width)
        y = self.low + (self.high - self.low) * 0.5 * (1.0 + np.tanh(z))
        return float(y) if y.ndim == 0 else y


#: The transfer functions a graph file can hold, by class name (graph_io rebuilds them from
#: this registry only).
TRANSFER_FUNCTIONS = {cls.__name__: cls for cls in (Affine, Sigmoid)}


#: How several fields acting on one target combine (:func:`neurohybrid.modulators.compose`).
COMPOSITION_RULES = ("sum", "product")


@dataclass
class FieldNode:
    """A named slow field: its input sampled every ``period`` ms (a scaffold region's state) or
    once per exchange (a biophysical proxy), through ``fn`` (vectorised; None: identity), in
    ``units``; it reaches its targets ``delay`` ms later (None: the scaffold's exchange).
    ``fn`` may be any callable; :class:`Affine` and :class:`Sigmoid` are the ones a graph
    file can store (:mod:`neurohybrid.graph_io`).

    A field with dynamics (``tau`` not None) is a neuromodulator concentration ``c`` with its
    own state (:mod:`neurohybrid.modulators`): ``dc/dt = (baseline - c) / tau`` between
    releases, ``c += release`` per spike of its source population (input port ``spikes``: a
    spiking nucleus, e.g. VTA -> dopamine) or ``dc/dt += release * x`` for a ``fields`` input
    ``x`` (port ``in``: a rate model, a controller), clipped to ``[lower, upper]``; ``tau`` in
    ms, ``baseline``/``lower``/``upper`` in the concentration's units, ``release`` in those
    units per spike (or per unit of ``x`` per ms). What reaches the targets is ``fn(c)`` in
    ``units``. ``compose``: how this field combines with the other fields on the same target
    (``"sum"`` or ``"product"``; None: the target's own rule, product for factors such as
    ``gain``, sum for offsets such as ``threshold``)."""

    name: str
    fn: object = None
    period: float = 1.0  # ms
    units: str = "1"
    delay: float | None = None  # ms
    tau: float | None = None  # ms (None: no dynamics)
    baseline: float = 0.0  # concentration units
    release: float = 1.0  # concentration units per spike (or per unit input per ms)
    lower: float = -math.inf
    upper: float = math.inf
    compose: str | None = None
    kind: ClassVar[str] = "field"

    def __post_init__(self):
        who = f"FieldNode({self.name})"
        if self.tau is not None:
            _finite(who, tau=self.tau, baseline=self.baseline, release=self.release)
            if self.tau <= 0:
                raise ParameterError(who, "tau", f"{self.tau!r}", "an uptake/decay time constant > 0 in ms")
        for bound in ("lower", "upper"):
            v = getattr(self, bound)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
                raise ParameterError(who, bound, f"{v!r}", "a number (+-inf: unbounded)")
        if not self.lower <= self.baseline <= self.upper and self.tau is not None:
            raise ParameterError(who, "baseline", f"{self.baseline!r} outside [{self.lower}, {self.upper}]",
                                 "a baseline inside the bounds")
        if self.compose is not None and self.compose not in COMPOSITION_RULES:
            raise ParameterError(who, "compose", f"{self.compose!r}", " or ".join(map(repr, COMPOSITION_RULES)))
        if not isinstance(self.units, str) or not self.units:
            raise ParameterError(who, "units", f"{self.units!r}", "a unit string ('1', 'mV', 'nA', 'nM', ...)")


@dataclass
class HostModuleNode:
    """A host module: a co-simulation component (``neurohybrid.kernel.Component``: live I/O,
    controllers, surrogates) with its own typed ports, exchanging every ``period`` ms."""

    name: str
    component: object
    period: float = 1.0  # ms
    kind: ClassVar[str] = "host"


@dataclass(frozen=True)
class Link:
    """Data from ``source``'s output ``source_port`` to ``target``'s input ``target_port``."""

    source: str
    source_port: str
    target: str
    target_port: str

    @property
    def label(self) -> str:
        return f"{self.source}.{self.source_port} -> {self.target}.{self.target_port}"


def port_kind(node, port: str, side: str) -> str | None:
    """What ``node``'s port carries (:data:`PORT_KINDS`), ``side`` ``"out"`` or ``"in"``; None
    when the node has no such port."""
    kind = getattr(node, "kind", None)
    if kind == "modulator":  # a volume transmitter: its concentration may come from a field
        return "fields" if side == "in" and port == "field:dopamine" else None
    if kind in ("point", "source", "biophysical"):  # a PopulationNode
        if port == "spikes":
            return "spikes" if side == "out" or node.model == "SpikeSourceExternal" else None
        if side == "in" and port.startswith("field:") and kind in ("point", "biophysical"):
            return "fields"
        if side == "out" and port.startswith("proxy:") and kind == "biophysical":
            return "fields"
        return None
    if kind == "scaffold":
        head = port.split(":", 1)[0]
        if side == "out":
            return {"afferent": "rates", "state": "fields"}.get(head)
        return "rates" if head == "rates" else None
    fixed = {"rates_to_spikes": ({"spikes": "spikes"}, {"rates": "rates"}),
             "spikes_to_rates": ({"rates": "rates"}, {"spikes": "spikes"}),
             "field": ({"field": "fields"}, {"in": "fields", "spikes": "spikes"})}
    if kind in fixed:
        return fixed[kind][0 if side == "out" else 1].get(port)
    if kind == "host":
        ports = node.component.outputs if side == "out" else node.component.inputs
        spec = ports.get(port)
        return None if spec is None else getattr(spec, "kind", spec)
    return None


def check_link(nodes: dict, link: Link) -> None:
    """Typed error naming the link unless both ends exist and carry the same kind."""
    ends = []
    for name, port, side in ((link.source, link.source_port, "out"), (link.target, link.target_port, "in")):
        node = nodes.get(name)
        if node is None:
            raise LinkError(link.label, "source" if side == "out" else "target", f"no node {name!r} in the graph",
                            "a node of the graph")
        kind = port_kind(node, port, side)
        if kind is None:
            raise LinkError(link.label, "source_port" if side == "out" else "target_port",
                            f"{name!r} ({getattr(node, 'kind', '?')}) has no {side}put port {port!r}",
                            "a port of that node kind (neurohybrid.graph.hybrid)")
        ends.append(kind)
    if ends[0] != ends[1]:
        raise LinkError(link.label, "kind", f"{ends[0]} into a {ends[1]} port",
                        "a converter between them (spikes_to_rates, rates_to_spikes, a field)")

