"""Fields from biophysical populations to point neurons: ``sim.modulate``."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError, PlacementError
from .simulator import state


@dataclass
class FieldLink:
    """A field proxy of a biophysical population acting on point-neuron populations."""

    field: str
    source: object
    proxy: str
    targets: list
    modulates: str
    fn: object = None
    delay: float = 1.0


MODULATES = ("gain", "threshold", "current", "plasticity_rate", "dopamine", "excitability")


def modulated_populations(who: str, parameter: str, targets, modulates: str) -> list:
    """The populations a field acts on (one or a list), checked with ``modulates``: point
    neurons take ``"gain"``, ``"threshold"``, ``"current"``, ``"excitability"`` (a factor > 0
    dividing the distance from v_rest to v_thresh: :func:`neurohybrid.modulators.excitable_threshold`)
    or ``"plasticity_rate"`` (a factor on the weight changes of their plastic synapses); volume
    transmitters ``"dopamine"`` (the concentration, 1/ms); biophysical cells a mechanism parameter, ``"<mechanism>.<parameter>"``
    (NEURON names, e.g. ``"hh.gnabar"``)."""
    from .multicompartment import is_biophysical
    from .populations import Population
    from .standardmodels import NEURON_TYPES
    mechanism = isinstance(modulates, str) and modulates.count(".") == 1 and all(modulates.split("."))
    if modulates not in MODULATES and not mechanism:
        raise ParameterError(who, "modulates", f"{modulates!r}",
                             "'gain', 'threshold', 'current', 'excitability', 'plasticity_rate' (point neurons), "
                             "'dopamine' "
                             "(volume transmitters) or '<mechanism>.<parameter>' (biophysical cells)")
    pops = list(targets) if isinstance(targets, (list, tuple)) else [targets]
    if modulates == "dopamine":
        for p in pops:
            if not (isinstance(p, Population) and type(p.celltype).__name__ == "VolumeTransmitter"):
                raise PlacementError(who, parameter, f"{p!r} is not a VolumeTransmitter population: a 'dopamine' "
                                     "field sets a volume transmitter's concentration",
                                     "sim.Population(1, sim.VolumeTransmitter())")
        return pops
    for p in pops:
        point = isinstance(p, Population) and type(p.celltype).__name__ in NEURON_TYPES
        biophysical = isinstance(p, Population) and is_biophysical(p.celltype)
        if not (point or biophysical):
            raise PlacementError(who, parameter, f"{p!r} is not a population of neurons",
                                 "sim.Population objects of point-neuron or biophysical cell types")
        if point and mechanism:
            raise ParameterError(who, "modulates", f"{modulates!r}: {p.label} is a population of point neurons",
                                 "'gain', 'threshold' or 'current'")
        if biophysical and not mechanism:
            raise PlacementError(who, parameter, f"{p.label} is a population of biophysical cells: a {modulates!r} "
                                 "field acts on point neurons", "modulates='<mechanism>.<parameter>', e.g. 'hh.gnabar'")
    return pops


def modulate(targets, source, proxy: str = "lfp", modulates: str = "gain", fn=None, field: str | None = None,
             delay: float = 1.0) -> FieldLink:
    """Let a biophysical (NEURON) population's field proxy modulate point-neuron populations.

    ``proxy``: ``"lfp"`` (mean over the cells of v at the first dendritic location minus v at the
    soma, mV: a crude dipole proxy) or ``"mean_v:<location>"`` (mean membrane potential there,
    mV). ``fn`` maps the proxy value to the field (default identity); the field acts on every
    cell of ``targets`` as ``modulates``: ``"gain"`` (multiplies synaptic input), ``"threshold"``
    (mV added to v_thresh) or ``"current"`` (nA added to i_offset). The proxy is sampled once per
    exchange window and reaches the targets ``delay`` ms later (at least one window; rounded to
    the time step). Point-neuron targets on the Loihi path get the field quantised to their
    registers (see neurohybrid.mappings.loihi.modulation); biophysical targets take
    ``modulates="<mechanism>.<parameter>"`` (see :func:`modulated_populations`).
    """
    from .multicompartment import is_biophysical
    from .populations import Population
    state._check_usable("modulate")
    who = "modulate"
    if not isinstance(source, Population) or not is_biophysical(source.celltype):
        raise PlacementError(who, "source", f"{source!r} is not a biophysical population",
                             "a Population of sim.MultiCompartmentNeuron or sim.NeuronCell cells")
    if not (proxy == "lfp" or (isinstance(proxy, str) and proxy.startswith("mean_v:"))):
        raise ParameterError(who, "proxy", f"{proxy!r}", "'lfp' or 'mean_v:<location>'")
    pops = modulated_populations(who, "targets", targets, modulates)
    if fn is not None and not callable(fn):
        raise ParameterError(who, "fn", f"{fn!r} is not callable", "a function of the proxy value")
    if not (isinstance(delay, (int, float)) and delay >= state.dt):
        raise ParameterError(who, "delay", f"{delay!r}", f"a delay >= the time step {state.dt} ms")
    name = field or f"{source.label}.{proxy}"
    links = state.__dict__.setdefault("field_links", [])
    if any(link.field == name for link in links):
        raise ParameterError(who, "field", f"a field named {name!r} already exists", "unique field names")
    link = FieldLink(name, source, proxy, pops, modulates, fn, float(delay))
    links.append(link)
    state.network.mark_dirty("structure")
    return link


def _root(pop):
    """The Population a Population or PopulationView belongs to."""
    return getattr(pop, "grandparent", None) or pop


class Field:
    """A field as a model component (graph: :class:`neurohybrid.graph.FieldNode`): produced by
    ``source`` and acting on populations (:meth:`modulate`) and projections (:meth:`gate`).

    ``source``: a ``Population`` (a spiking nucleus: every spike releases ``release``), or
    ``(controller, port)`` (a :class:`~neurohybrid.pynn.controllers.Controller` output: a rate
    model, a Nengo network, a native controller), or None (refused at the first run: a field
    needs a producer). ``tau`` (ms), ``baseline``, ``release``, ``bounds`` (lower, upper; None:
    unbounded), in the concentration's ``units``: the dynamics of
    :mod:`neurohybrid.modulators` (``tau=None``: no dynamics, the controller's value through
    ``fn``). ``period``: ms between the samples sent to the targets; ``compose``: ``"sum"`` or
    ``"product"`` with other fields on a target. Each target takes ``fn(c)`` (:meth:`modulate`).
    """

    def __init__(self, name: str, source=None, tau: float | None = None, baseline: float = 0.0,
                 release: float = 1.0, bounds=(None, None), units: str = "1", period: float = 1.0,
                 compose: str | None = None, delay: float | None = None):
        import math

        from ..graph import FieldNode
        from .populations import Population
        state._check_usable("Field")
        who = f"Field({name})"
        if any(f.name == name for f in state.fields) or any(lk.field == name for lk in state.field_links):
            raise ParameterError(who, "name", f"a field named {name!r} already exists", "unique field names")
        if isinstance(source, tuple):
            if len(source) != 2 or source[0] not in state.controllers:
                raise PlacementError(who, "source", f"{source!r}", "(controller, port) of a sim.Controller")
            ctl, port = source
            if port not in ctl.component.outputs:
                raise ParameterError(who, "source", f"{ctl.name} has no output port {port!r}",
                                     ", ".join(ctl.component.outputs) or "no outputs")
        elif source is not None:
            if not isinstance(source, Population):
                raise PlacementError(who, "source", f"{source!r} is not a population",
                                     "a sim.Population (a nucleus), or (controller, port)")
        lower, upper = bounds
        self.name, self.source, self.targets, self.gates = name, source, [], []
        # the graph node checks the dynamics (typed errors naming the field)
        self.node = FieldNode(name, None, float(period), units, delay, tau, float(baseline), float(release),
                              -math.inf if lower is None else float(lower), math.inf if upper is None else float(upper),
                              compose)
        state.fields.append(self)
        state.network.mark_dirty("structure")

    def modulate(self, targets, modulates: str = "gain", fn=None) -> "Field":
        """Act on ``targets`` (one population or a list) as ``modulates`` (``"gain"``,
        ``"threshold"`` mV, ``"current"`` nA, ``"excitability"`` (dimensionless > 0: the distance
        from v_rest to v_thresh is divided by it), ``"plasticity_rate"``, ``"dopamine"``) through ``fn``
        (the field's value -> the target's units; None: identity). One ``fn`` per field: the
        last one given."""
        who = f"Field({self.name}).modulate"
        pops = modulated_populations(who, "targets", targets, modulates)
        if fn is not None and not callable(fn):
            raise ParameterError(who, "fn", f"{fn!r} is not callable", "a function of the field's value")
        if fn is not None:
            self.node.fn = fn
        self.targets.extend((p, modulates) for p in pops)
        state.network.mark_dirty("structure")
        return self

    def gate(self, projection, fn=None) -> "Field":
        """Multiply ``projection``'s efficacy by the field's value (through ``fn``), which must
        lie in [0, 1] (a ParameterError naming the projection at the sample that leaves it)."""
        from .projections import Projection
        who = f"Field({self.name}).gate"
        if not isinstance(projection, Projection):
            raise ParameterError(who, "projection", f"{projection!r}", "a sim.Projection")
        if fn is not None:
            self.node.fn = fn
        self.gates.append(projection)
        state.network.mark_dirty("structure")
        return self

    def edge_names(self, projection) -> tuple[str, str]:
        """(post population, graph edge name) of a gated projection."""
        pre, post = _root(projection.pre), _root(projection.post)
        return post.label, f"{projection.label}[{pre.label}->{post.label}]"

    def get_data(self, what: str = "value") -> dict:
        """The recorded field: ``what="value"`` (what reaches the targets, ``fn`` of the
        concentration, in ``units``) or ``"concentration"`` (fields with dynamics):
        ``{"times": ms, "values": (T, 1), "units"}``."""
        label = self.name if what == "value" else f"{self.name}.{what}"
        sig = state.network.signal(label, "value")
        n = sig["samples"].shape[0]
        return {"times": sig["t_start"] + sig["sampling_interval"] * np.arange(n), "values": sig["samples"],
                "units": sig["units"]}
