"""The model graph's canonical synapse models: names, per-synapse parameters (PyNN units) and
the checks every front end and engine shares. Stochastic synapses (NEST ``bernoulli_synapse``,
``stochastic_stp_synapse``, ``quantal_stp_synapse``) are described in
``backends/emulator/stochastic.py``.

An edge's ``synapse`` names one of :data:`SYNAPSES`; its ``values`` hold one array per
parameter listed here (``weight`` in nA for current-based and µS for conductance-based targets,
``delay`` in ms, the rest as documented). Engines generate their native parameters from these
(the float emulator uses them as they are; the Loihi quantiser maps them onto the learning
engine), so one synapse behaves the same whichever engine runs it.

Plastic models (semantics of NEST 3.10, which is their reference):

``STDPSynapse``
    Pair-based STDP with all-to-all pairing (NEST ``stdp_synapse``): a presynaptic trace
    ``K+`` (time constant ``tau_plus``, ms, +1 per presynaptic spike) and a postsynaptic trace
    ``K-`` (``tau_minus``, ms, +1 per postsynaptic spike). At a presynaptic spike the synapse
    first potentiates once for every postsynaptic spike since the previous presynaptic spike,
    then depresses once by ``K-``; in weights normalised to ``x = (w - w_min)/(w_max - w_min)``:
    ``x += A_plus (1 - x)**mu_plus K+`` (clipped at 1) and ``x -= A_minus x**mu_minus K-``
    (clipped at 0). ``(mu_plus, mu_minus)`` = (0, 0) additive, (1, 1) multiplicative, (0, 1)
    additive potentiation / multiplicative depression, anything else Gütig et al. (2003).
    With ``w_min = 0`` this is NEST's formula to the last bit.
``VogelsSTDPSynapse``
    Inhibitory plasticity of Vogels et al. (Science 2011; NEST ``vogels_sprekeler_synapse``):
    one symmetric trace of time constant ``tau`` (ms) on each side; every pairing potentiates
    by ``eta`` (weight units) times the other side's trace, every presynaptic spike depresses
    by ``alpha eta`` with ``alpha = 2 rho tau / 1000`` (``rho``: target rate, Hz); the weight
    stays in ``[w_min, w_max]``.
``DopamineSTDPSynapse``
    Dopamine-modulated STDP (Izhikevich 2007; NEST ``stdp_dopamine_synapse``): pairings change
    an eligibility trace ``c`` (``A_plus K+`` at a postsynaptic spike, ``-A_minus K-`` at a
    presynaptic one; time constant ``tau_c``, ms), the dopamine concentration ``n`` of the edge's
    ``modulator`` (a volume-transmitter node: ``+1/tau_n`` per dopamine spike, decaying with
    ``tau_n``, ms; or a field's value) gates ``dw/dt = c (n - b)``; ``w`` stays in
    ``[w_min, w_max]``.

Every plastic model also has ``dendritic_delay_fraction`` (PyNN's: the part of ``delay`` that is
dendritic; 1, NEST's only choice, means the synapse sees presynaptic spikes at once and
postsynaptic spikes ``delay`` later).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ParameterError

__all__ = ["SynapseModel", "SYNAPSES", "is_plastic", "check_edge", "PLASTIC_BOUNDS"]


@dataclass(frozen=True)
class SynapseModel:
    """A canonical synapse model: its per-synapse parameters {name: unit} besides ``weight``
    and ``delay``, and whether its weights change while the model runs."""

    name: str
    parameters: dict
    plastic: bool = False
    #: optional per-synapse initial state an edge may carry (``Projection.initialize``), {name: unit}
    initial: dict = field(default_factory=dict)


_PAIR_TIMING = {"tau_plus": "ms", "tau_minus": "ms", "A_plus": "1", "A_minus": "1"}
_BOUNDS = {"w_min": "weight", "w_max": "weight"}

SYNAPSES = {m.name: m for m in (
    SynapseModel("StaticSynapse", {}),
    SynapseModel("TsodyksMarkramSynapse", {"U": "1", "tau_rec": "ms", "tau_facil": "ms"}),
    SynapseModel("SimpleStochasticSynapse", {"p": "1"}),
    SynapseModel("StochasticTsodyksMarkramSynapse", {"U": "1", "tau_rec": "ms", "tau_facil": "ms"},
                 initial={"u": "1"}),
    SynapseModel("MultiQuantalSynapse", {"U": "1", "n": "1", "tau_rec": "ms", "tau_facil": "ms"},
                 initial={"u": "1", "available": "1"}),
    SynapseModel("STDPSynapse", {**_PAIR_TIMING, **_BOUNDS, "mu_plus": "1", "mu_minus": "1",
                                 "dendritic_delay_fraction": "1"}, plastic=True),
    SynapseModel("VogelsSTDPSynapse", {"tau": "ms", "eta": "weight", "rho": "Hz", **_BOUNDS,
                                       "dendritic_delay_fraction": "1"}, plastic=True),
    SynapseModel("DopamineSTDPSynapse", {**_PAIR_TIMING, "tau_c": "ms", "tau_n": "ms", "b": "1/ms", **_BOUNDS,
                                         "dendritic_delay_fraction": "1"}, plastic=True),
)}

#: per-synapse parameters that bound a plastic weight (the emulator sizes its rings from w_max)
PLASTIC_BOUNDS = ("w_min", "w_max")

_POSITIVE = ("tau_plus", "tau_minus", "tau", "tau_c", "tau_n")
_NON_NEGATIVE = ("A_plus", "A_minus", "eta", "rho", "mu_plus", "mu_minus")


def is_plastic(synapse: str) -> bool:
    """Whether the canonical synapse model ``synapse`` changes its weights while running."""
    model = SYNAPSES.get(synapse)
    return bool(model and model.plastic)


def _values(edge, name: str) -> np.ndarray:
    v = np.asarray(edge.values[name], dtype=float)
    return v[:1] if v.size and v.strides == (0,) else v


def check_edge(edge, owner: str | None = None) -> None:
    """Typed errors (:class:`ParameterError` naming ``owner`` or the edge, and the parameter)
    for an edge whose synapse model is unknown, lacks a parameter, or has values its model does
    not allow: inverted weight bounds, weights outside them, time constants <= 0, negative
    learning rates or exponents, a dendritic delay fraction outside [0, 1]."""
    owner = owner or f"Projection({edge.name})"
    model = SYNAPSES.get(edge.synapse)
    if model is None:
        raise ParameterError(owner, "synapse", f"{edge.synapse!r} is not a synapse model of the graph",
                             ", ".join(SYNAPSES))
    missing = [p for p in ("weight", "delay", *model.parameters) if p not in edge.values]
    if missing:
        raise ParameterError(owner, missing[0], f"{edge.synapse} needs it", ", ".join(model.parameters))
    if not model.plastic:
        return
    for name in model.parameters:
        v = _values(edge, name)
        if not np.all(np.isfinite(v)):
            raise ParameterError(owner, name, "contains NaN or infinite values", "finite numbers")
        if name in _POSITIVE and np.any(v <= 0):
            raise ParameterError(owner, name, f"{float(v.min())!r} ms: a time constant must be > 0",
                                 "time constants > 0 ms")
        if name in _NON_NEGATIVE and np.any(v < 0):
            raise ParameterError(owner, name, f"{float(v.min())!r}: must be >= 0 (the rule sets the sign)",
                                 "values >= 0")
    f = _values(edge, "dendritic_delay_fraction")
    if np.any((f < 0) | (f > 1)):
        raise ParameterError(owner, "dendritic_delay_fraction", f"{float(f.min())!r}..{float(f.max())!r}",
                             "a fraction in [0, 1]")
    lo, hi = np.asarray(edge.values["w_min"], float), np.asarray(edge.values["w_max"], float)
    if np.any(lo > hi) or (edge.synapse == "STDPSynapse" and np.any(lo >= hi)):
        raise ParameterError(owner, "w_max", "weight bounds inverted (w_max below w_min)"
                             if np.any(lo > hi) else "w_max equals w_min: the STDP rule normalises by w_max - w_min",
                             "w_min < w_max")
    w = np.asarray(edge.values["weight"], float)
    if w.size and (np.any(w < lo - 1e-12 * np.abs(lo)) or np.any(w > hi + 1e-12 * np.abs(hi))):
        raise ParameterError(owner, "weight", f"weights {float(w.min())!r}..{float(w.max())!r} lie outside "
                             "the rule's bounds [w_min, w_max]", "weights within [w_min, w_max]")
