"""PyNN standard cell, synapse and current-source types for neurohybrid.

The canonical definitions (parameter names, defaults, units) are PyNN's own; neurohybrid's
engines take their parameters in those names and units, so every translation here is the
identity. A backend-specific model (the QIF neuron used by the mean-field seam, later) would
be added here in the same style.
"""
from __future__ import annotations

import numpy as np
import quantities as pq
from pyNN.standardmodels import StandardSynapseType as _StandardSynapseType
from pyNN.standardmodels import build_translations, cells, electrodes, synapses

from ..errors import ParameterError
from .simulator import state


def _identity(base):
    return build_translations(*[(name, name) for name in base.default_parameters])


def _plain_number(magnitude: np.ndarray):
    return float(magnitude) if np.ndim(magnitude) == 0 else np.asarray(magnitude, dtype=float)


def to_pynn_units(owner: str, name: str, value, unit: str | None):
    """A parameter value in PyNN's unit for it: a ``quantities`` Quantity is rescaled to ``unit``
    (ParameterError if its dimensions differ); anything else is returned unchanged."""
    if not isinstance(value, pq.Quantity):
        return value
    if unit in (None, "dimensionless"):
        if value.dimensionality.string != "dimensionless":
            raise ParameterError(owner, name, f"has units {value.dimensionality.string}", "a plain number")
        return _plain_number(value.magnitude)
    try:
        return _plain_number(value.rescale(unit.replace("µ", "u")).magnitude)
    except ValueError:
        raise ParameterError(owner, name, f"has units {value.dimensionality.string}, not compatible with {unit}",
                             f"a number in {unit} or a quantity convertible to {unit}") from None


def _cell(base):
    def __init__(self, **parameters):
        units = getattr(base, "units", {})
        base.__init__(self, **{k: to_pynn_units(base.__name__, k, v, units.get(k)) for k, v in parameters.items()})
    return type(base.__name__, (base,), {"__doc__": base.__doc__, "translations": _identity(base),
                                          "__init__": __init__})


IF_curr_exp = _cell(cells.IF_curr_exp)
IF_curr_alpha = _cell(cells.IF_curr_alpha)
IF_curr_delta = _cell(cells.IF_curr_delta)
IF_cond_exp = _cell(cells.IF_cond_exp)
IF_cond_alpha = _cell(cells.IF_cond_alpha)
EIF_cond_exp_isfa_ista = _cell(cells.EIF_cond_exp_isfa_ista)
EIF_cond_alpha_isfa_ista = _cell(cells.EIF_cond_alpha_isfa_ista)
Izhikevich = _cell(cells.Izhikevich)
HH_cond_exp = _cell(cells.HH_cond_exp)
SpikeSourcePoisson = _cell(cells.SpikeSourcePoisson)
SpikeSourcePoissonRefractory = _cell(cells.SpikeSourcePoissonRefractory)
SpikeSourceGamma = _cell(cells.SpikeSourceGamma)
SpikeSourceArray = _cell(cells.SpikeSourceArray)
IF_cond_exp_gsfa_grr = _cell(cells.IF_cond_exp_gsfa_grr)
GIF_cond_exp = _cell(cells.GIF_cond_exp)


class IF_facets_hardware1(_cell(cells.IF_facets_hardware1)):
    __doc__ = (cells.IF_facets_hardware1.__doc__ or "") + """
    As pyNN.nest runs it: NEST's ``iaf_cond_exp`` with C_m = 0.2 nF, t_ref = 1 ms, e_rev_E = 0 mV,
    no offset current, and tau_m = C_m / g_leak (the graph holds IF_cond_exp's parameters).
    """

    @staticmethod
    def graph_parameters(p: dict) -> dict:
        """IF_cond_exp's parameters (PyNN units) of cells with these parameters (per-cell arrays)."""
        ones = np.ones_like(np.asarray(p["v_rest"], dtype=float))
        return {"v_rest": p["v_rest"], "cm": 0.2 * ones, "tau_m": 0.2 / (np.asarray(p["g_leak"]) * 1e-3),
                "tau_refrac": 1.0 * ones, "tau_syn_E": p["tau_syn_E"], "tau_syn_I": p["tau_syn_I"],
                "e_rev_E": 0.0 * ones, "e_rev_I": p["e_rev_I"], "v_thresh": p["v_thresh"], "v_reset": p["v_reset"],
                "i_offset": 0.0 * ones}


NEURON_TYPES = ("IF_curr_exp", "IF_curr_alpha", "IF_curr_delta", "IF_cond_exp", "IF_cond_alpha",
                "EIF_cond_exp_isfa_ista", "EIF_cond_alpha_isfa_ista", "Izhikevich", "HH_cond_exp",
                "IF_cond_exp_gsfa_grr", "IF_facets_hardware1", "GIF_cond_exp")
SOURCE_TYPES = ("SpikeSourcePoisson", "SpikeSourcePoissonRefractory", "SpikeSourceGamma", "SpikeSourceArray")


class _SynapseMixin:
    def _get_minimum_delay(self):
        d = state.min_delay
        return state.dt if d == "auto" else d


class StaticSynapse(_SynapseMixin, synapses.StaticSynapse):
    __doc__ = synapses.StaticSynapse.__doc__
    translations = build_translations(("weight", "weight"), ("delay", "delay"))


class TsodyksMarkramSynapse(_SynapseMixin, synapses.TsodyksMarkramSynapse):
    __doc__ = (synapses.TsodyksMarkramSynapse.__doc__ or "") + """
    neurohybrid integrates the (u, x) form of the model at each presynaptic spike (as NEST's
    ``tsodyks2_synapse``): x recovers to 1 with tau_rec, u decays to U with tau_facil
    (tau_facil = 0 means no facilitation, u = U at each spike), the transmitted weight is
    ``weight * u * x``.
    """
    translations = build_translations(("weight", "weight"), ("delay", "delay"), ("U", "U"),
                                      ("tau_rec", "tau_rec"), ("tau_facil", "tau_facil"))


def _make_source(base):
    from .electrodes import CurrentSourceMixin
    return type(base.__name__, (CurrentSourceMixin, base),
                {"__doc__": base.__doc__, "translations": _identity(base)})


DCSource = _make_source(electrodes.DCSource)
ACSource = _make_source(electrodes.ACSource)
StepCurrentSource = _make_source(electrodes.StepCurrentSource)
NoisyCurrentSource = _make_source(electrodes.NoisyCurrentSource)


def _not_supported(name: str, what: str, supported: str):
    def __init__(self, *args, **kwargs):
        from ..errors import UnsupportedModelError
        raise UnsupportedModelError(name, None, f"{what} is not supported by neurohybrid's engines yet; "
                                    "it is refused rather than silently replaced", supported)
    return type(name, (), {"__init__": __init__, "__doc__": f"Not supported yet: {what}."})


class SimpleStochasticSynapse(_SynapseMixin, synapses.SimpleStochasticSynapse):
    __doc__ = (synapses.SimpleStochasticSynapse.__doc__ or "") + """
    As NEST's ``bernoulli_synapse``: each spike is transmitted, with the full weight, with
    probability ``p`` (dimensionless, in [0, 1]); the draws come from neurohybrid's keyed
    streams (reproducible, independent of threads and partitioning).
    """
    translations = build_translations(("weight", "weight"), ("delay", "delay"), ("p", "p"))
    value_ranges = {"p": (0.0, 1.0)}


class StochasticTsodyksMarkramSynapse(_SynapseMixin, synapses.StochasticTsodyksMarkramSynapse):
    __doc__ = (synapses.StochasticTsodyksMarkramSynapse.__doc__ or "") + """
    As PyNN's NEST extension ``stochastic_stp_synapse``: one release site that releases with
    probability u (U in [0, 1]; facilitation with tau_facil in ms, 0 = none) and recovers after a
    release as a Poisson process of time constant tau_rec (ms); a release transmits the weight.
    """
    translations = build_translations(("weight", "weight"), ("delay", "delay"), ("U", "U"),
                                      ("tau_rec", "tau_rec"), ("tau_facil", "tau_facil"))
    value_ranges = {"U": (0.0, 1.0), "tau_rec": (0.0, None), "tau_facil": (0.0, None)}
    #: state a projection may initialise: PyNN name -> (engine's name, (low, high)); default u = 0
    initial_state = {"u": ("u", (0.0, 1.0))}


class MultiQuantalSynapse(_SynapseMixin, synapses.MultiQuantalSynapse):
    __doc__ = """Stochastic short-term plasticity with ``n`` release sites: NEST's
    ``quantal_stp_synapse`` (Loebel et al. 2009), as pyNN.nest runs it. Each available site
    releases with probability u (U in [0, 1]; facilitation with tau_facil in ms, 0 = none), a
    depleted site recovers with time constant tau_rec (ms), and k released sites transmit
    k x weight. As in NEST, a synapse starts with one available site and u = 0.5 (NEST's
    constructor defaults, which pyNN.nest does not override); the others become available by
    recovery. ``Projection.initialize(a=..., u=...)`` sets the available sites and u (PyNN's
    multiquantal_synapses.py example starts with ``a = n, u = U``).
    """
    translations = build_translations(("weight", "weight"), ("delay", "delay"), ("U", "U"), ("n", "n"),
                                      ("tau_rec", "tau_rec"), ("tau_facil", "tau_facil"))
    value_ranges = {"U": (0.0, 1.0), "n": (1.0, None), "tau_rec": (0.0, None), "tau_facil": (0.0, None)}
    integer_values = ("n",)
    initial_state = {"a": ("available", (0.0, None)), "u": ("u", (0.0, 1.0))}


_SYNAPSES_OK = ("StaticSynapse, TsodyksMarkramSynapse, SimpleStochasticSynapse, StochasticTsodyksMarkramSynapse, "
                "MultiQuantalSynapse, STDPMechanism (SpikePairRule or Vogels2011Rule with any standard weight "
                "dependence), DopamineSTDPMechanism")
ElectricalSynapse = _not_supported("ElectricalSynapse", "gap junctions", _SYNAPSES_OK)
SpikeSourceInhGamma = _not_supported(
    "SpikeSourceInhGamma", "the inhomogeneous gamma source (pyNN.nest maps it to inh_gamma_generator, which NEST "
    "3.10 no longer has, so there is no reference semantics to reproduce)",
    "SpikeSourcePoisson, SpikeSourcePoissonRefractory, SpikeSourceGamma, SpikeSourceArray")


# --- spike-timing-dependent plasticity --------------------------------------------------------
# The graph's canonical plastic synapses (neurohybrid.graph.synapses) have NEST's semantics; a
# PyNN STDPMechanism names one of them through the intersection of its components'
# ``possible_models``, and its parameters reach the graph in PyNN's names and units.

def _stdp_component(base, models: set, extra: dict | None = None):
    cls = _cell(base)
    cls.possible_models = set(models)
    cls.extra_parameters = dict(extra or {})
    return cls


SpikePairRule = _stdp_component(synapses.SpikePairRule, {"STDPSynapse"})
Vogels2011Rule = _stdp_component(synapses.Vogels2011Rule, {"VogelsSTDPSynapse"})
Vogels2011Rule.__doc__ = (synapses.Vogels2011Rule.__doc__ or "") + """
    neurohybrid follows NEST's ``vogels_sprekeler_synapse`` (all-to-all pairing through traces
    of time constant ``tau``, ms); ``eta`` is in weight units (nA or µS) and ``rho`` is the target
    rate in Hz: the constant depression per presynaptic spike is ``2 rho tau / 1000`` times
    ``eta`` (Vogels et al. 2011's alpha). Use it with ``AdditiveWeightDependence`` (the bounds).
    """
AdditiveWeightDependence = _stdp_component(synapses.AdditiveWeightDependence, {"STDPSynapse", "VogelsSTDPSynapse"},
                                           {"mu_plus": 0.0, "mu_minus": 0.0})
MultiplicativeWeightDependence = _stdp_component(synapses.MultiplicativeWeightDependence, {"STDPSynapse"},
                                                 {"mu_plus": 1.0, "mu_minus": 1.0})
AdditivePotentiationMultiplicativeDepression = _stdp_component(
    synapses.AdditivePotentiationMultiplicativeDepression, {"STDPSynapse"}, {"mu_plus": 0.0, "mu_minus": 1.0})
GutigWeightDependence = _stdp_component(synapses.GutigWeightDependence, {"STDPSynapse"})


class STDPMechanism(_SynapseMixin, synapses.STDPMechanism):
    __doc__ = (synapses.STDPMechanism.__doc__ or "") + """
    neurohybrid runs it on the float emulator with NEST 3.10's semantics (``stdp_synapse`` for
    ``SpikePairRule``, all-to-all pairing; ``vogels_sprekeler_synapse`` for ``Vogels2011Rule``);
    ``w_min`` may be non-zero (the rule works in weights normalised to [w_min, w_max]), and
    ``dendritic_delay_fraction`` may be any value in [0, 1] (NEST allows only 1). The weights of
    a plastic projection are read with ``Projection.get`` between and after runs, and recorded
    as a time series with ``Projection.record("weight", sampling_interval=...)``.
    """
    base_translations = build_translations(("weight", "weight"), ("delay", "delay"),
                                           ("dendritic_delay_fraction", "dendritic_delay_fraction"))

    def __init__(self, timing_dependence=None, weight_dependence=None, voltage_dependence=None,
                 dendritic_delay_fraction=1.0, weight=0.0, delay=None):
        from ..errors import ParameterError, UnsupportedModelError
        if timing_dependence is None or weight_dependence is None:
            raise ParameterError("STDPMechanism", "timing_dependence" if timing_dependence is None
                                 else "weight_dependence", "is missing", "a timing and a weight dependence")
        if voltage_dependence is not None:
            raise UnsupportedModelError("STDPMechanism", "voltage_dependence", "PyNN defines no standard "
                                        "voltage dependence and neurohybrid has none", "None")
        if isinstance(dendritic_delay_fraction, bool) or not isinstance(dendritic_delay_fraction, (int, float)) \
                or not 0 <= dendritic_delay_fraction <= 1:
            raise ParameterError("STDPMechanism", "dendritic_delay_fraction", f"{dendritic_delay_fraction!r}",
                                 "a fraction in [0, 1]")
        super().__init__(timing_dependence, weight_dependence, None, dendritic_delay_fraction, weight, delay)
        self.translations = dict(self.base_translations)  # PyNN's base class updates a shared dict
        for component in (self.timing_dependence, self.weight_dependence):
            self.translations.update(component.translations)

    @property
    def graph_synapse(self) -> str:
        """The canonical synapse model of the model graph this mechanism is."""
        (model,) = self.possible_models
        return model


from pyNN.standardmodels import StandardCellType  # noqa: E402  (used only by the QIF cell type below)


class QIF(StandardCellType):
    """Quadratic integrate-and-fire neuron in Montbrió–Pazó–Roxin's normalised form
    (PRX 5, 021028, 2015): ``tau_m dv/dt = v**2 + eta + i_offset + I(t) + synaptic drive``.

    ``v``, ``eta``, ``i_offset``, ``v_peak`` and weights are in dimensionless QIF units (a
    current source's "nA" counts as one QIF unit of drive); ``tau_m``, ``tau_syn_exc``,
    ``tau_syn_inh`` in ms. A neuron reaching ``v_peak`` is held for ``2 tau_m / v_peak``, emits its
    spike at the midpoint and restarts at ``-v_peak``. A weight is the total displacement of v
    it causes; ``tau_syn_exc/inh = 0`` makes it an instantaneous jump, ``> 0`` an exponential drive
    with the same integral. The MPR coupling ``J`` of an all-to-all population of N cells is a
    projection of weight ``J / N``. The exact mean field of N → ∞ such cells with Lorentzian
    ``eta`` (centre ``eta``, half-width ``Delta``) is the mean-field engine's
    ``MontbrioPazoRoxin``. Engine kernel: ``neurohybrid.backends.emulator.models.qif``.
    """

    default_parameters = {
        "tau_m": 10.0,     # membrane time constant, ms (MPR's tau)
        "eta": -5.0,       # excitability, QIF units
        "v_peak": 100.0,   # peak; reset at -v_peak, QIF units
        "i_offset": 0.0,   # constant drive, QIF units
        "tau_syn_exc": 0.0,  # ms; 0 = instantaneous (delta) synapses
        "tau_syn_inh": 0.0,  # ms; 0 = instantaneous (delta) synapses
    }
    recordable = ["spikes", "v"]
    conductance_based = False
    default_initial_values = {"v": 0.0, "isyn_exc": 0.0, "isyn_inh": 0.0}
    units = {"v": "dimensionless", "isyn_exc": "dimensionless", "isyn_inh": "dimensionless",
             "tau_m": "ms", "eta": "dimensionless", "v_peak": "dimensionless", "i_offset": "dimensionless",
             "tau_syn_exc": "ms", "tau_syn_inh": "ms"}
    translations = build_translations(*[(name, name) for name in default_parameters])

    def __init__(self, **parameters):
        super().__init__(**{k: to_pynn_units("QIF", k, v, self.units.get(k)) for k, v in parameters.items()})


NEURON_TYPES = NEURON_TYPES + ("QIF",)


class _SourceCellType(StandardCellType):
    """A spike source without PyNN parameters (its own state is elsewhere): spikes only."""

    default_parameters: dict = {}
    default_initial_values: dict = {}
    recordable = ["spikes"]
    injectable = False
    receptor_types = ()
    units: dict = {}
    translations = build_translations()


class SpikeSourceExternal(_SourceCellType):
    """A spike source whose spikes are supplied while the simulation runs: by a rates-to-spikes
    converter of the co-simulation kernel (``WholeBrain.replace(..., inputs=...)`` creates one)
    or by live input. Connect it with ordinary Projections; it has no parameters."""


SOURCE_TYPES = SOURCE_TYPES + ("SpikeSourceExternal",)


# --- three-factor learning: dopamine-modulated STDP -------------------------------------------
class VolumeTransmitter(StandardCellType):
    """A volume transmitter (NEST's ``volume_transmitter``): the dopamine signal of the
    synapses of :class:`DopamineSTDPMechanism` projections that name it. Make a population of
    one (``sim.Population(1, sim.VolumeTransmitter(), label="DA")``) and either project spiking
    populations onto it (receptor ``"dopamine"``; each arriving spike adds ``1/tau_n`` to the
    concentration ``n``, 1/ms, which decays with ``tau_n``: a VTA population), or drive it with
    a field (``WholeBrain.modulate(vt, region, ..., modulates="dopamine")`` or
    ``sim.modulate(vt, cells, modulates="dopamine")``: the field's value is ``n``).
    ``deliver_interval``: the transmitter brings its synapses up to date every that many
    min-delay windows (NEST's parameter; results do not depend on it beyond rounding)."""

    default_parameters = {"deliver_interval": 1}
    default_initial_values: dict = {}
    recordable: list = []
    injectable = True
    receptor_types = ("dopamine",)
    conductance_based = False
    units = {"deliver_interval": "dimensionless"}
    translations = build_translations(("deliver_interval", "deliver_interval"))


MODULATOR_TYPES = ("VolumeTransmitter",)



class DopamineSTDPMechanism(_SynapseMixin, _StandardSynapseType):
    """Dopamine-modulated STDP (Izhikevich 2007), with NEST 3.10's ``stdp_dopamine_synapse``
    semantics: all-to-all pairings change an eligibility trace ``c`` (``+A_plus K+`` at a
    postsynaptic spike, ``-A_minus K-`` at a presynaptic one, traces of ``tau_plus``/``tau_minus``
    ms; ``c`` decays with ``tau_c`` ms); the weight follows ``dw/dt = c (n - b)``, ``n`` being the
    dopamine concentration of the :class:`VolumeTransmitter` given as ``dopamine`` (1/ms; ``b``
    the baseline, 1/ms), and stays in ``[w_min, w_max]``. ``A_plus``, ``A_minus``, ``w_min``,
    ``w_max`` are in weight units (nA or µS). The delay is all dendritic (NEST's only choice).
    Runs on the float emulator (and, mapped, on Loihi's learning engine)."""

    default_parameters = {
        "weight": 0.0, "delay": None, "A_plus": 0.001, "A_minus": 0.0015, "tau_plus": 20.0, "tau_minus": 20.0,
        "tau_c": 1000.0, "tau_n": 200.0, "b": 0.0, "w_min": 0.0, "w_max": 0.2, "dendritic_delay_fraction": 1.0}
    translations = build_translations(*[(name, name) for name in default_parameters])
    graph_synapse = "DopamineSTDPSynapse"

    def __init__(self, dopamine=None, **parameters):
        from ..errors import ParameterError
        from .populations import Population
        if not (isinstance(dopamine, Population) and type(dopamine.celltype).__name__ in MODULATOR_TYPES):
            raise ParameterError("DopamineSTDPMechanism", "dopamine", f"{dopamine!r} is not a VolumeTransmitter "
                                 "population", "sim.Population(1, sim.VolumeTransmitter()), fed by spikes "
                                 "(Projections onto it) or by a field (modulate(..., modulates='dopamine'))")
        if dopamine.size != 1:
            raise ParameterError("DopamineSTDPMechanism", "dopamine", f"{dopamine.label} has {dopamine.size} "
                                 "transmitters", "a population of one VolumeTransmitter")
        self.dopamine = dopamine
        super().__init__(**parameters)
