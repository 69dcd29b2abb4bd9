"""Fields from biophysical populations to point neurons: ``sim.modulate``."""
from __future__ import annotations

from dataclasses import dataclass

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


MODULATES = ("gain", "threshold", "current", "plasticity_rate", "dopamine")


def modulated_populations(who: str, parameter: str, targets, modulates: str) -> list:
    """The populations a field acts on (one or a list), checked with ``modulates``: point
    neurons take ``"gain"``, ``"threshold"``, ``"current"`` or ``"plasticity_rate"`` (a factor on
    the weight changes of their plastic synapses); volume transmitters ``"dopamine"`` (the
    concentration, 1/ms); biophysical cells a mechanism parameter, ``"<mechanism>.<parameter>"``
    (NEURON names, e.g. ``"hh.gnabar"``)."""
    from .multicompartment import is_biophysical
    from .populations import Population
    from .standardmodels import NEURON_TYPES
    mechanism = isinstance(modulates, str) and modulates.count(".") == 1 and all(modulates.split("."))
    if modulates not in MODULATES and not mechanism:
        raise ParameterError(who, "modulates", f"{modulates!r}",
                             "'gain', 'threshold', 'current', 'plasticity_rate' (point neurons), 'dopamine' "
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
