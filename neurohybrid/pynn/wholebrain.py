"""Whole-brain scaffolds in a PyNN script: ``sim.WholeBrain`` and the seam converters.

::

    sim.setup(timestep=0.1, seed=7, recording_path="hybrid.h5")
    brain = sim.WholeBrain(sim.Connectome.default_76(), model=sim.ReducedWongWangExcInh(G=0.5),
                           coupling=sim.LinearCoupling(a=1.0), speed=3.0)
    E = sim.Population(800, sim.IF_curr_exp(...), label="E")
    I = sim.Population(200, sim.IF_curr_exp(...), label="I")
    ...                                        # the circuit's own projections and drive
    brain.replace("rPFCDL", [E, I],
                  inputs=sim.rates_to_spikes("poisson", weight=0.05, delay=1.0, gain=400.0),
                  output=sim.spikes_to_rates("box"))
    brain.record(["S_e"], sampling_interval=1.0)
    brain.record_bold(period=720.0)
    sim.run(3000.0)
    activity = brain.get_data("S_e")           # {"times": ms, "values": (T, n_regions), ...}

Several populations can drive several scaffold variables: ``brain.replace("rPFCDL", {"S_e": [E1, E2],
"S_i": I}, ...)`` (pooled mean rates) or ``brain.replace("rPFCDL", [sim.seam("S_e", [E1, E2],
weights=[0.8, 0.2]), sim.seam("S_i", I, offset=2.0)], ...)`` (weighted, Hz offset). Models with a
seam (``model.spike_seam``; ``brain.seam_relations()`` states each relation with units):
ReducedWongWang (S), ReducedWongWangExcInh (S_e, S_i: the gating equations driven by the measured
rates), MontbrioPazoRoxin (r = rate/1000), JansenRit (y1: the potential whose pyramidal
firing-rate sigmoid, Jansen & Rit 1995 eq. 1, is the rate; y2 = 0; afferent a·sum w·S(y1 - y2) in
kHz), Generic2dOscillator (V = rate/10 Hz, a stated linear proxy; W held).

``replace(region, populations, inputs, output)`` hands a region over to spiking populations:
its coupling input becomes Poisson (or gamma / dead-time) spike trains into ``inputs.targets``
(one generator per target neuron), and the populations' spikes, smoothed into one rate per
``model.spike_seam`` channel (populations in channel order, e.g. [E, I] for
ReducedWongWangExcInh), drive the region's state in the scaffold. ``sim.run`` then runs the
co-simulation kernel: the mean-field engine, the converters and the point-neuron engine,
exchanging data every exchange interval (default: the shortest conduction delay into or out of
a replaced region, which keeps every delay exact — see ``MeanFieldSimulation.replace``).
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from ..backends.meanfield.engine import Coupling
from ..backends.meanfield import (Bold, Connectome, HeunDeterministic, Linear, MeanFieldSimulation,
                                  NeuralMassModel, TemporalAverage)
from ..errors import LinkError, ParameterError, PlacementError, SimulationStateError, UnknownParameterError
from .simulator import state

__all__ = ["WholeBrain", "rates_to_spikes", "spikes_to_rates", "seam", "RatesToSpikesSpec", "SpikesToRatesSpec",
           "SeamEntry"]


# ------------------------------------------------------------------------------ converter specs
@dataclass
class RatesToSpikesSpec:
    """How a replaced region's coupling input reaches its circuit (see :func:`rates_to_spikes`)."""

    process: str = "poisson"
    weight: float = 0.1
    delay: float | None = None
    receptor_type: str = "excitatory"
    gain: float = 1.0
    baseline: float = 0.0
    targets: list | None = None
    shared: bool = False
    order: float = 2.0
    t_ref: float = 2.0
    record: bool = False
    kind_in, kind_out = "rates", "spikes"


@dataclass
class SpikesToRatesSpec:
    """How a circuit's spikes become the region's rates (see :func:`spikes_to_rates`)."""

    kernel: str = "box"
    tau: float = 10.0
    width: float | None = None
    period: float | None = None
    kind_in, kind_out = "spikes", "rates"


def rates_to_spikes(process: str = "poisson", *, weight: float = 0.1, delay: float | None = None,
                    receptor_type: str = "excitatory", gain: float = 1.0, baseline: float = 0.0, targets=None,
                    shared: bool = False, order: float = 2.0, t_ref: float = 2.0, record: bool = False):
    """Converter spec for ``WholeBrain.replace(inputs=...)``.

    The region's coupling input c (the coupling's units) becomes the rate
    ``max(0, baseline + gain·c)`` (Hz; ``gain`` in Hz per unit of c, ``baseline`` in Hz), which
    drives one spike generator per target neuron (``process``: ``"poisson"``, ``"gamma"`` of
    ``order``, ``"refractory"`` with dead time ``t_ref`` ms; ``shared=True``: one train for all
    targets). Each generator's spikes reach its neuron through a one-to-one projection of
    ``weight`` (nA, or uS for conductance cells) and ``delay`` (ms; default one time step) on
    ``receptor_type``. ``targets``: populations (default: the replacing populations).
    ``record=True`` records the generated spikes like a population's.
    """
    return RatesToSpikesSpec(process, float(weight), delay, receptor_type, float(gain), float(baseline), targets,
                             bool(shared), float(order), float(t_ref), bool(record))


def spikes_to_rates(kernel: str = "box", *, tau: float = 10.0, width: float | None = None,
                    period: float | None = None):
    """Converter spec for ``WholeBrain.replace(output=...)``: the population rate (Hz) of each
    replacing population through a causal ``kernel`` (``"box"`` of ``width`` ms — default one
    mean-field step, i.e. the instantaneous rate, which the region's own synaptic gating then
    filters exactly as the model's equations do — ``"exponential"`` or ``"alpha"`` of ``tau`` ms),
    sampled every ``period`` ms (default one mean-field step)."""
    return SpikesToRatesSpec(kernel, float(tau), width, period)


@dataclass
class SeamEntry:
    """One entry of a region's seam (see :func:`seam`): the rate ``sum_k weights[k]·rate(populations[k])
    + offset`` (Hz) drives the scaffold state ``variable`` of the replaced region."""

    variable: str
    populations: list
    weights: list | None = None
    offset: float = 0.0


def seam(variable: str, populations, *, weights=None, offset: float = 0.0) -> SeamEntry:
    """A seam entry for ``WholeBrain.replace(region, [sim.seam(...), ...])``: the population
    rates (Hz) of ``populations`` (a Population or a list), weighted by ``weights`` (dimensionless,
    one per population; default the population sizes over their sum, i.e. the pooled mean rate of
    all their cells) plus ``offset`` (Hz), drive the scaffold state ``variable`` (a variable of
    the model's ``spike_seam``: e.g. ``"S_e"``, ``"S_i"`` of ReducedWongWangExcInh, ``"y1"`` of
    JansenRit, ``"V"`` of Generic2dOscillator, ``"r"`` of MontbrioPazoRoxin) through the model's
    seam relation (``WholeBrain.seam_relations()``)."""
    return SeamEntry(variable, populations, None if weights is None else list(np.ravel(weights)), offset)


@dataclass
class Replacement:
    """A region handed over to spiking populations (made by :meth:`WholeBrain.replace`)."""

    label: str
    index: int
    populations: list
    inputs: RatesToSpikesSpec
    output: SpikesToRatesSpec
    input_population: object = None
    targets: list = field(default_factory=list)
    #: the seam entries (variable, populations, weights, offset) and the spikes-to-rates mixing
    #: they make: one row per ``model.spike_seam`` channel, one column per population (None: one
    #: population per channel, in order)
    entries: list = field(default_factory=list)
    mix: list | None = None
    bias: list | None = None


@dataclass
class Modulation:
    """A field from a scaffold region acting on spiking populations (see :meth:`WholeBrain.modulate`)."""

    field: str
    region: str
    variable: str
    modulates: str
    populations: list
    fn: object = None
    period: float = 1.0
    units: str = "1"


@dataclass
class RegionSignal:
    """A scaffold region's state ``variable`` (its own units) sampled every ``period`` ms, as a
    controller's input (see :meth:`WholeBrain.signal`)."""

    brain: object
    region: str
    variable: str
    period: float = 1.0


# ------------------------------------------------------------------------------ the scaffold
class WholeBrain:
    """A mean-field whole-brain scaffold in the current ``sim.setup()`` session.

    Parameters
    ----------
    connectome : :class:`~neurohybrid.backends.meanfield.Connectome` (or a ``(weights, lengths)``
        pair of (n, n) arrays: weights j -> i dimensionless, tract lengths in mm).
    model : a neural-mass model instance (``sim.ReducedWongWang()``, ...).
    coupling : ``sim.LinearCoupling(...)`` (default), ``sim.SigmoidalCoupling``, ...
    speed : conduction speed, mm/ms (= m/s).
    dt : the mean-field integration step in ms, a multiple of the session's time step (default
        the session's time step).
    integrator : ``sim.HeunDeterministic()`` (default), ``sim.HeunStochastic(nsig=...)``, ...
    initial_state : (nvar, n) or (nvar,) array; default random in the model's ranges, drawn with
        the session seed.
    exchange : interval in ms at which the scaffold and the replacing circuits exchange data;
        default the shortest conduction delay into or out of a replaced region (the longest that
        keeps delays exact; a longer one is a CausalityError when the run starts).
    pipelined : run the converters as separate components, concurrently with the engines, on a
        macro-step of half the exchange interval (double buffering), instead of inline.
    parallel : advance the components of a macro-step in threads (default): the engines release
        the GIL, so the scaffold and the circuits overlap; results do not depend on it.
    label : name of the scaffold in recordings.
    """

    def __init__(self, connectome, model: NeuralMassModel, coupling: Coupling | None = None, speed: float = 3.0,
                 dt: float | None = None, integrator=None, initial_state=None, exchange: float | None = None,
                 pipelined: bool = False, parallel: bool = True, label: str = "brain"):
        state._check_usable("create a WholeBrain")
        if state.tick > 0:
            raise SimulationStateError("WholeBrain", "time", f"the session is at t = {state.t} ms",
                                       "create the WholeBrain before the first sim.run() or after sim.reset()")
        if getattr(state, "wholebrain", None) is not None:
            raise ParameterError("WholeBrain", "label", f"this session already has a WholeBrain "
                                 f"({state.wholebrain.label!r})", "one WholeBrain per sim.setup() session")
        if isinstance(connectome, tuple) and len(connectome) == 2:
            connectome = Connectome(*connectome)
        if not isinstance(connectome, Connectome):
            raise ParameterError("WholeBrain", "connectome", f"got {type(connectome).__name__}",
                                 "a sim.Connectome or a (weights, lengths) pair of arrays")
        if not isinstance(model, NeuralMassModel):
            raise ParameterError("WholeBrain", "model", f"got {type(model).__name__}",
                                 "a neural-mass model instance, e.g. sim.ReducedWongWang()")
        self.connectome, self.model = connectome, model
        self.coupling = Linear() if coupling is None else coupling
        self.speed = float(speed)
        self.dt = state.dt if dt is None else float(dt)
        state.ms_to_ticks(self.dt, "WholeBrain", "dt")
        if self.dt < state.dt - 1e-12:
            raise ParameterError("WholeBrain", "dt", f"{self.dt} ms", f"a multiple of the time step {state.dt} ms")
        self.integrator = HeunDeterministic() if integrator is None else integrator
        self.initial_state = initial_state
        self.exchange, self.pipelined, self.parallel = exchange, bool(pipelined), bool(parallel)
        self.label = str(label)
        self.replacements: list[Replacement] = []
        self.modulations: list[Modulation] = []
        self.monitors: list = []
        self._runner = None  # the co-simulation (neurohybrid.runtime.cosim.HybridCoSimulation) once running
        # Build the simulation now so that bad parameters fail here, not at run time.
        self._simulation()
        state.wholebrain = self
        state.network.mark_dirty("modules")

    # --------------------------------------------------------------- description
    @property
    def regions(self) -> list[str]:
        """Region labels, in connectome order."""
        return list(self.connectome.labels)

    def region_index(self, region) -> int:
        """Index of a region given by label or index (UnknownParameterError / ParameterError)."""
        if isinstance(region, (int, np.integer)):
            if not 0 <= int(region) < self.connectome.n_regions:
                raise ParameterError(f"WholeBrain({self.label})", "region", f"index {region}",
                                     f"0 <= index < {self.connectome.n_regions}")
            return int(region)
        if not isinstance(region, str):
            raise ParameterError(f"WholeBrain({self.label})", "region", f"{region!r}", "a region label or index")
        try:
            return self.connectome.labels.index(region)
        except ValueError:
            raise UnknownParameterError(f"WholeBrain({self.label})", f"region {region!r}",
                                        self.connectome.labels) from None

    def _simulation(self, monitors=()) -> MeanFieldSimulation:
        return MeanFieldSimulation(self.connectome, self.model, self.coupling, self.speed, self.dt,
                                   self.integrator, list(monitors), self.initial_state, seed=state.seed)

    def _frozen(self, action: str) -> None:
        state._check_usable(action)
        if self._runner is not None:
            raise SimulationStateError(f"WholeBrain({self.label})", action, "the co-simulation has already started",
                                       f"{action} before the first sim.run()")
        state.network.mark_dirty("modules")  # the model graph's scaffold changes

    # --------------------------------------------------------------- replacement
    def replace(self, region, populations, inputs: RatesToSpikesSpec | None = None,
                output: SpikesToRatesSpec | None = None) -> Replacement:
        """Hand ``region`` (label or index) over to spiking ``populations``.

        ``populations`` says which population rates drive which scaffold variables:

        * a list of Populations, one per ``model.spike_seam`` channel in order (e.g. ``[E, I]``
          for ReducedWongWangExcInh: E drives S_e, I drives S_i);
        * a dict ``{variable: Population or [Populations]}``: the pooled mean rate of the listed
          populations drives that variable, e.g. ``{"S_e": [E1, E2], "S_i": I}``;
        * a list of :func:`seam` entries, for weights and offsets:
          ``[sim.seam("S_e", [E1, E2], weights=[0.8, 0.2]), sim.seam("S_i", I)]``.

        A seam variable that no entry names is driven at 0 Hz. Each population is recorded and
        feeds one group of the region's spikes-to-rates converter (``output``, recorded as
        ``"<region>.rates"``: one column per seam channel, Hz); the region's long-range input
        (``model.seam_afferent``) reaches the ``inputs`` targets (default: every population named)
        through ``inputs`` (recorded as ``"<region>.afferent"``, Hz). Typed errors: a variable
        the model lacks or cannot drive (ParameterError naming the region and the variable), a
        variable or a population given twice, a population of another session or one that
        already replaces a region, weights that do not fit."""
        self._frozen("replace")
        who = f"WholeBrain({self.label}).replace"
        index = self.region_index(region)
        label = self.connectome.labels[index]
        if any(r.index == index for r in self.replacements):
            raise ParameterError(who, "region", f"{label!r} is already replaced", "each region once")
        seam_ch = self.model.spike_seam
        if not seam_ch:
            from ..backends.meanfield.models import seam_models
            from ..errors import UnsupportedModelError
            raise UnsupportedModelError(type(self.model).__name__, "spike_seam", "its state is not a rate, a "
                                        "rate-driven gating or a potential with a firing-rate sigmoid, so spiking "
                                        "populations cannot replace a region", ", ".join(seam_models()))
        entries, legacy = self._entries(who, label, populations)
        pops = []
        for e in entries:
            for p in e.populations:
                if not any(p is q for q in pops):
                    pops.append(p)
        for p in list((inputs.targets or []) if isinstance(inputs, RatesToSpikesSpec) else []):
            self._check_population(who, "inputs", p)
        inputs = rates_to_spikes() if inputs is None else inputs
        output = spikes_to_rates() if output is None else output
        for pname, spec, want, make in (("inputs", inputs, RatesToSpikesSpec, "rates_to_spikes"),
                                        ("output", output, SpikesToRatesSpec, "spikes_to_rates")):
            if not isinstance(spec, want):
                got = getattr(spec, "kind_in", None)
                what = (f"a converter from {got} to {spec.kind_out}" if got else f"{type(spec).__name__}")
                raise LinkError(who, pname, f"{what}; the {pname} of a replaced region must convert "
                                f"{want.kind_in} to {want.kind_out}", f"sim.{make}(...)")
        rep = Replacement(label, index, pops, inputs, output, entries=entries)
        if not legacy:
            rep.mix, rep.bias = self._mixing(entries, pops)
        self._wire_inputs(rep)
        self.replacements.append(rep)
        return rep

    def _check_population(self, who: str, parameter: str, p) -> None:
        from .populations import Population
        from .standardmodels import NEURON_TYPES
        if not isinstance(p, Population):
            raise PlacementError(who, parameter, f"{p!r} is not a Population of this session",
                                 "sim.Population objects of spiking cells")
        if not any(p is q for q in state.populations):
            raise ParameterError(who, parameter, f"population {p.label!r} is not in this session (made before the "
                                 "last sim.setup() or sim.end())", "populations of the current session")
        if type(p.celltype).__name__ not in NEURON_TYPES:
            raise PlacementError(who, parameter, f"{p.label!r} is made of {type(p.celltype).__name__}, "
                                 "which cannot stand in for a region (it does not integrate input into spikes "
                                 "on a spiking engine)", "populations of spiking neuron types: "
                                 + ", ".join(NEURON_TYPES))

    def _entries(self, who: str, label: str, populations) -> tuple[list, bool]:
        """The seam entries of ``replace``'s ``populations`` (checked), and whether they came as
        the plain list of one population per channel."""
        from .populations import Population
        seam_ch = self.model.spike_seam
        model = type(self.model).__name__
        if isinstance(populations, dict):
            raw = [SeamEntry(var, pops) for var, pops in populations.items()]
            legacy = False
        else:
            items = list(populations) if isinstance(populations, (list, tuple)) else [populations]
            if any(isinstance(x, SeamEntry) for x in items):
                bad = [x for x in items if not isinstance(x, SeamEntry)]
                if bad:
                    raise ParameterError(who, "populations", f"{bad[0]!r} among sim.seam() entries",
                                         "only sim.seam(...) entries, or only populations")
                raw, legacy = items, False
            else:
                if len(items) != len(seam_ch):
                    raise ParameterError(who, "populations", f"{len(items)} populations for the {len(seam_ch)} seam "
                                         f"channels of {model}", ", ".join(ch.variable for ch in seam_ch)
                                         + " (in order), or a {variable: populations} dict")
                raw, legacy = [SeamEntry(ch.variable, [p]) for ch, p in zip(seam_ch, items)], True
        if not raw:
            raise ParameterError(who, "populations", "no seam entry", "at least one variable driven by populations")
        drivable = [ch.variable for ch in seam_ch]
        where = f"{who}({label!r})"
        seen_var, entries = set(), []
        for e in raw:
            var = e.variable
            if not isinstance(var, str) or var not in self.model.state_variables:
                raise ParameterError(where, f"variable {var!r}", f"{model} has no state variable {var!r}",
                                     f"a seam variable of {model}: " + ", ".join(drivable))
            if var not in drivable:
                raise ParameterError(where, f"variable {var!r}", f"{var!r} is a state variable of {model} but no "
                                     "seam relation drives it from a rate", ", ".join(drivable))
            if var in seen_var:
                raise ParameterError(where, f"variable {var!r}", "given twice", "each seam variable once")
            seen_var.add(var)
            pops = list(e.populations) if isinstance(e.populations, (list, tuple)) else [e.populations]
            if not pops:
                raise ParameterError(where, f"variable {var!r}", "no population", "at least one population")
            for k, p in enumerate(pops):
                self._check_population(who, "populations", p)
                if any(p is q for q in pops[:k]):
                    raise ParameterError(where, f"variable {var!r}", f"population {p.label!r} listed twice",
                                         "each population once per variable")
                other = next((r.label for r in self.replacements if any(p is q for q in r.populations)), None)
                if other is not None:
                    raise ParameterError(who, "populations", f"population {p.label!r} already replaces {other!r}",
                                         "a population stands in for one region")
            if e.weights is None:
                sizes = np.array([p.size for p in pops], dtype=float)
                weights = (sizes / sizes.sum()).tolist()
            else:
                try:
                    weights = [float(w) for w in e.weights]
                except (TypeError, ValueError):
                    weights = None
                if weights is None or len(weights) != len(pops) or not all(np.isfinite(weights)):
                    raise ParameterError(where, f"weights of {var!r}", f"{e.weights!r} for {len(pops)} populations",
                                         f"{len(pops)} finite dimensionless weights")
            if isinstance(e.offset, bool) or not isinstance(e.offset, (int, float)) or not np.isfinite(e.offset):
                raise ParameterError(where, f"offset of {var!r}", f"{e.offset!r}", "a finite rate in Hz")
            entries.append(SeamEntry(var, pops, weights, float(e.offset)))
        return entries, legacy

    def _mixing(self, entries: list, pops: list) -> tuple[list, list]:
        """(n_channels x n_populations) weights and (n_channels) offsets in Hz of the region's
        spikes-to-rates converter: row = the model's seam channel, 0 where no entry names it."""
        mix = np.zeros((len(self.model.spike_seam), len(pops)))
        bias = np.zeros(len(self.model.spike_seam))
        for c, ch in enumerate(self.model.spike_seam):
            for e in entries:
                if e.variable == ch.variable:
                    for p, w in zip(e.populations, e.weights):
                        mix[c, next(k for k, q in enumerate(pops) if q is p)] += w
                    bias[c] = e.offset
        return mix.tolist(), bias.tolist()

    def seam_relations(self) -> dict:
        """How the model's seam works, with units: ``{"channels": [{"variable", "mode",
        "relation"}], "afferent": what the replaced region's long-range input is}``."""
        return {"model": type(self.model).__name__,
                "channels": [{"variable": ch.variable, "mode": ch.mode, "relation": ch.relation}
                             for ch in self.model.spike_seam],
                "afferent": self.model.seam_afferent}

    def _wire_inputs(self, rep: Replacement) -> None:
        """One SpikeSourceExternal cell per target neuron, one-to-one onto the targets."""
        from pyNN.connectors import OneToOneConnector
        from .populations import Population
        from .projections import Projection
        from .standardmodels import SpikeSourceExternal, StaticSynapse
        targets = list(rep.inputs.targets or rep.populations)
        n = sum(t.size for t in targets)
        src = Population(n, SpikeSourceExternal(), label=f"{rep.label}.inputs")
        delay = state.dt if rep.inputs.delay is None else rep.inputs.delay
        off = 0
        for t in targets:
            Projection(src[off:off + t.size], t, OneToOneConnector(),
                       StaticSynapse(weight=rep.inputs.weight, delay=delay), receptor_type=rep.inputs.receptor_type,
                       label=f"{rep.label}.inputs->{t.label}")
            off += t.size
        if rep.inputs.record:
            src.record("spikes")
        for p in rep.populations:
            p.record("spikes")  # the seam carries them; the run keeps them
        rep.input_population, rep.targets = src, targets

    # --------------------------------------------------------------- fields
    def _state_of(self, who: str, region, variable: str | None) -> tuple[str, str]:
        """(region label, state variable; default the model's first variable of interest)."""
        label = self.connectome.labels[self.region_index(region)]
        variable = variable or self.model.variables_of_interest[0]
        if variable not in self.model.state_variables:
            raise UnknownParameterError(who, f"variable {variable!r}", self.model.state_variables)
        return label, variable

    def signal(self, region, variable: str | None = None, period: float = 1.0) -> RegionSignal:
        """``region``'s state ``variable`` (default the model's first variable of interest) as a
        controller input: ``sim.Controller(c, read={"port": brain.signal("rPFCDL")})`` (the port
        declared ``"signal"``: :class:`neurohybrid.controllers.Controller`). Sampled every
        ``period`` ms; it reaches the controller one exchange interval after the scaffold
        computed it, as the fields of :meth:`modulate` do."""
        self._frozen("signal")
        who = f"WholeBrain({self.label}).signal"
        label, variable = self._state_of(who, region, variable)
        if not (isinstance(period, (int, float)) and period > 0):
            raise ParameterError(who, "period", f"{period!r}", "a sampling period > 0 in ms")
        return RegionSignal(self, label, variable, float(period))

    def modulate(self, populations, region, variable: str | None = None, modulates: str = "gain", fn=None,
                 field: str | None = None, period: float = 1.0, units: str = "1") -> "Modulation":
        """A slow field from the scaffold acting on spiking populations.

        The state ``variable`` (default the model's first variable of interest) of ``region``
        becomes the named ``field`` (default ``"<region>.<variable>"``) through ``fn`` (a function
        of the held value, vectorised over an array; default identity), sampled every ``period``
        ms, in ``units``. It acts on every cell of ``populations`` as ``modulates``: ``"gain"``
        (multiplies all synaptic input), ``"threshold"`` (mV added to v_thresh) or ``"current"``
        (nA added to i_offset), from its sample times on; biophysical (NEURON) populations take
        ``"<mechanism>.<parameter>"`` (e.g. ``"hh.gnabar"``: the parameter becomes its own value
        times the field, in every segment that has the mechanism). It reaches the populations one
        exchange interval after the scaffold computed it (``exchange``, which must be given when
        no region is replaced). On the Loihi path (fixed-point emulator, Lava) the field is
        quantised to the registers at its sample times, the quantisation in the run's manifest
        (``fields``)."""
        self._frozen("modulate")
        who = f"WholeBrain({self.label}).modulate"
        label, variable = self._state_of(who, region, variable)
        from .fields import modulated_populations
        pops = modulated_populations(who, "populations", populations, modulates)
        name = field or f"{label}.{variable}"
        if any(m.field == name for m in self.modulations):
            raise ParameterError(who, "field", f"a field named {name!r} already exists", "unique field names")
        if fn is not None and not callable(fn):
            raise ParameterError(who, "fn", f"{fn!r} is not callable", "a function of the region's value")
        mod = Modulation(name, label, variable, modulates, pops, fn, float(period), units)
        self.modulations.append(mod)
        return mod

    # --------------------------------------------------------------- recording
    def record(self, variables=None, sampling_interval: float = 1.0) -> None:
        """Record the region activity: the temporal average over ``sampling_interval`` ms (a
        multiple of ``dt``) of ``variables`` (default the model's variables of interest), every
        region. Stored as signals ``<label>/<variable>`` (samples stamped at window centres)."""
        self._frozen("record")
        variables = tuple([variables] if isinstance(variables, str) else (variables or self.model.variables_of_interest))
        self.model.voi_indices(variables)  # unknown names -> UnknownParameterError
        name = f"tavg{len(self.monitors)}"
        self.monitors.append(TemporalAverage(period=float(sampling_interval), variables=variables, name=name))
        self._simulation(self.monitors)

    def record_bold(self, period: float = 2000.0, interim_period: float = 1.0, variable: str | None = None,
                    **balloon) -> None:
        """Record BOLD (Balloon–Windkessel) of every region, one sample per ``period`` ms (the TR),
        driven by ``variable`` (default the model's first variable of interest). Stored as signal
        ``<label>/bold``."""
        self._frozen("record_bold")
        if any(isinstance(m, Bold) for m in self.monitors):
            raise ParameterError(f"WholeBrain({self.label})", "record_bold", "BOLD is already recorded", "once")
        variables = (variable,) if variable else None
        self.monitors.append(Bold(period=float(period), interim_period=float(interim_period), variables=variables,
                                  name="bold", **balloon))
        self._simulation(self.monitors)

    def get_data(self, variable: str, segment: int | None = None) -> dict:
        """A recorded signal: ``variable`` of the scaffold (``"bold"`` or a recorded state variable)
        or of a seam (``"<region>.afferent"``: the drive of its rates-to-spikes converter, Hz;
        ``"<region>.rates"``: the rates from its circuit, Hz, one column per seam channel).
        Returns ``{"times" (ms), "values" (T, n_columns), "units", "columns"}``."""
        store = state.network.store
        seg = state.network.segment if segment is None else int(segment)
        if "." in variable:
            label, var = variable, "rate"
        else:
            label, var = self.label, variable
        if state.network is not None and self._runner is not None and state.network.hybrid is self._runner:
            self._runner.flush()
        sig = store.read_signal(label, var, segment=seg)
        n = sig["samples"].shape[0]
        return {"times": sig["t_start"] + sig["sampling_interval"] * np.arange(n), "values": sig["samples"],
                "units": sig["units"], "columns": sig["channel_ids"]}

    def describe(self) -> dict:
        """JSON-serialisable description for the run manifest."""
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.connectome.weights).tobytes())
        h.update(np.ascontiguousarray(self.connectome.lengths).tobytes())
        integ = {"type": type(self.integrator).__name__,
                 **{k: (v if np.isscalar(v) else np.asarray(v).tolist()) for k, v in asdict(self.integrator).items()}}
        return {"label": self.label, "connectome": {"name": self.connectome.name, "n_regions": self.connectome.n_regions,
                                                    "sha256": h.hexdigest()},
                "model": {"type": type(self.model).__name__,
                          "parameters": {k: (v if np.isscalar(v) else np.asarray(v).tolist())
                                         for k, v in self.model.params.items()}},
                "coupling": repr(self.coupling), "speed_mm_per_ms": self.speed, "dt_ms": self.dt,
                "integrator": integ, "pipelined": self.pipelined,
                "replaced": [{"region": r.label, "populations": [p.label for p in r.populations],
                              "inputs": {f.name: getattr(r.inputs, f.name) for f in fields(r.inputs)
                                         if f.name != "targets"},
                              "input_targets": [t.label for t in r.targets],
                              "output": asdict(r.output),
                              "seam": [{"variable": e.variable, "populations": [p.label for p in e.populations],
                                        "weights": list(e.weights), "offset_hz": e.offset} for e in r.entries]}
                             for r in self.replacements],
                "fields": [{"field": m.field, "region": m.region, "variable": m.variable, "modulates": m.modulates,
                            "populations": [p.label for p in m.populations],
                            "fn": getattr(m.fn, "__name__", repr(m.fn)) if m.fn is not None else "identity",
                            "period_ms": m.period, "units": m.units} for m in self.modulations]}
