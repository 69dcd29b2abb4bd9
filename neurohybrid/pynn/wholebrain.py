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
import math
import time
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from ..adapters import Fused, MeanFieldComponent, SpikingComponent
from ..backends.meanfield.engine import Coupling
from ..backends.meanfield import (Bold, Connectome, HeunDeterministic, Linear, MeanFieldSimulation, Raw,
                                  NeuralMassModel, TemporalAverage)
from ..converters import FieldSource, RatesToSpikes, SpikesToRates
from ..errors import LinkError, ParameterError, PlacementError, SimulationStateError, UnknownParameterError
from ..kernel import CoSimulation
from .simulator import state

__all__ = ["WholeBrain", "rates_to_spikes", "spikes_to_rates", "RatesToSpikesSpec", "SpikesToRatesSpec"]


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
class Replacement:
    """A region handed over to spiking populations (made by :meth:`WholeBrain.replace`)."""

    label: str
    index: int
    populations: list
    inputs: RatesToSpikesSpec
    output: SpikesToRatesSpec
    input_population: object = None
    targets: list = field(default_factory=list)


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
        self._runner: _HybridRun | None = None
        # Build the simulation now so that bad parameters fail here, not at run time.
        self._simulation()
        state.wholebrain = self

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

    # --------------------------------------------------------------- replacement
    def replace(self, region, populations, inputs: RatesToSpikesSpec | None = None,
                output: SpikesToRatesSpec | None = None) -> Replacement:
        """Hand ``region`` (label or index) over to spiking ``populations`` (one per
        ``model.spike_seam`` channel, in order). See the module docstring."""
        from .populations import Population
        from .standardmodels import NEURON_TYPES
        self._frozen("replace")
        who = f"WholeBrain({self.label}).replace"
        index = self.region_index(region)
        label = self.connectome.labels[index]
        if any(r.index == index for r in self.replacements):
            raise ParameterError(who, "region", f"{label!r} is already replaced", "each region once")
        seam = self.model.spike_seam
        if not seam:
            from ..errors import UnsupportedModelError
            raise UnsupportedModelError(type(self.model).__name__, "spike_seam", "its state is not a rate or a "
                                        "rate-driven gating, so spiking populations cannot replace a region",
                                        "ReducedWongWang, ReducedWongWangExcInh, MontbrioPazoRoxin")
        pops = list(populations) if isinstance(populations, (list, tuple)) else [populations]
        if len(pops) != len(seam):
            raise ParameterError(who, "populations", f"{len(pops)} populations for the {len(seam)} seam channels "
                                 f"of {type(self.model).__name__}", ", ".join(ch.name for ch in seam) + " (in order)")
        for p in pops + list((inputs.targets or []) if isinstance(inputs, RatesToSpikesSpec) else []):
            if not isinstance(p, Population):
                raise PlacementError(who, "populations", f"{p!r} is not a Population of this session",
                                     "sim.Population objects of spiking cells")
            if type(p.celltype).__name__ not in NEURON_TYPES:
                raise PlacementError(who, "populations", f"{p.label!r} is made of {type(p.celltype).__name__}, "
                                     "which cannot stand in for a region (it does not integrate input into spikes "
                                     "on a spiking engine)", "populations of spiking neuron types: "
                                     + ", ".join(NEURON_TYPES))
        inputs = rates_to_spikes() if inputs is None else inputs
        output = spikes_to_rates() if output is None else output
        for pname, spec, want, make in (("inputs", inputs, RatesToSpikesSpec, "rates_to_spikes"),
                                        ("output", output, SpikesToRatesSpec, "spikes_to_rates")):
            if not isinstance(spec, want):
                got = getattr(spec, "kind_in", None)
                what = (f"a converter from {got} to {spec.kind_out}" if got else f"{type(spec).__name__}")
                raise LinkError(who, pname, f"{what}; the {pname} of a replaced region must convert "
                                f"{want.kind_in} to {want.kind_out}", f"sim.{make}(...)")
        rep = Replacement(label, index, pops, inputs, output)
        self._wire_inputs(rep)
        self.replacements.append(rep)
        return rep

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
    def modulate(self, populations, region, variable: str | None = None, modulates: str = "gain", fn=None,
                 field: str | None = None, period: float = 1.0, units: str = "1") -> "Modulation":
        """A slow field from the scaffold acting on spiking populations.

        The state ``variable`` (default the model's first variable of interest) of ``region``
        becomes the named ``field`` (default ``"<region>.<variable>"``) through ``fn`` (a function
        of the held value, vectorised over an array; default identity), sampled every ``period``
        ms, in ``units``. It acts on every cell of ``populations`` as ``modulates``: ``"gain"``
        (multiplies all synaptic input), ``"threshold"`` (mV added to v_thresh) or ``"current"``
        (nA added to i_offset), from its sample times on. It reaches the populations one exchange
        interval after the scaffold computed it (``exchange``, which must be given when no region
        is replaced). Applying fields needs the float emulator."""
        from .populations import Population
        from .standardmodels import NEURON_TYPES
        self._frozen("modulate")
        who = f"WholeBrain({self.label}).modulate"
        label = self.connectome.labels[self.region_index(region)]
        variable = variable or self.model.variables_of_interest[0]
        if variable not in self.model.state_variables:
            raise UnknownParameterError(who, f"variable {variable!r}", self.model.state_variables)
        if modulates not in ("gain", "threshold", "current"):
            raise ParameterError(who, "modulates", f"{modulates!r}", "'gain', 'threshold' or 'current'")
        pops = list(populations) if isinstance(populations, (list, tuple)) else [populations]
        for p in pops:
            if not isinstance(p, Population) or type(p.celltype).__name__ not in NEURON_TYPES:
                raise PlacementError(who, "populations", f"{p!r} is not a population of spiking neurons",
                                     "sim.Population objects of spiking cell types")
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
                              "output": asdict(r.output)} for r in self.replacements],
                "fields": [{"field": m.field, "region": m.region, "variable": m.variable, "modulates": m.modulates,
                            "populations": [p.label for p in m.populations],
                            "fn": getattr(m.fn, "__name__", "identity") if m.fn else "identity",
                            "period_ms": m.period, "units": m.units} for m in self.modulations]}


# ------------------------------------------------------------------------------ the run
_UNITS_HZ = "Hz"


def _vectorised(fn):
    """FieldSource calls fn on the held input row; a user fn of one value gets that value."""
    if fn is None:
        return None
    return lambda row: np.asarray(fn(row[0] if np.size(row) == 1 else row), dtype=float)


class _HybridRun:
    """The co-simulation of one session, built at its first ``sim.run``: the point-neuron
    engine ("circuits"), the NEURON engine ("biophysics") when the model has biophysical
    populations, and the WholeBrain scaffold with its converters when there is one. Recording
    goes to the network's run store."""

    def __init__(self, brain: WholeBrain | None, network):
        self.brain, self.network = brain, network
        self.sim, self.spiking, self.biophysics = None, None, None
        self.to_circuit, self.from_circuit = {}, {}
        self.exchange_ticks = None
        part = network.partition
        engine = network.engine
        has_points = engine is not None and any(n.kind == "point" for n in engine.graph.nodes.values())
        # ports of the point engine: the scaffold's seams and fields, and spikes crossing to NEURON
        c_in, c_out, c_fields = {}, {}, {}
        if brain is not None:
            c_in.update({f"in:{r.label}": r.input_population.label for r in brain.replacements})
            c_out.update({f"out:{r.label}": [p.label for p in r.populations] for r in brain.replacements})
            c_fields.update({f"field:{m.field}@{p.label}": (p.label, m.modulates, m.field)
                             for m in brain.modulations for p in m.populations})
            if brain.modulations and not has_points:
                raise PlacementError(f"WholeBrain({brain.label})", "modulate", "no spiking populations to modulate",
                                     "populations of spiking neurons in the session")
        links = list(state.field_links)
        if part is not None:
            c_out.update({f"spikes:{q}": [q] for q in part.to_bio})
            c_in.update({f"spikes:{p}": mirror for p, mirror in part.to_point.items()})
        c_fields.update({f"field:{fl.field}@{p.label}": (p.label, fl.modulates, fl.field)
                         for fl in links for p in fl.targets})
        lives = list(state.live_links)
        for lk in lives:
            name = lk.component.name
            c_out.update({f"live:{name}:{port}": [pop.label] for port, pop in lk.read.items()})
            c_in.update({f"live:{name}:{port}": pop.label for port, pop in lk.write.items()})
        if lives and not has_points:
            raise PlacementError("live", "read", "live links need point-neuron populations in the session",
                                 "populations on the emulator or Lava")
        if has_points:
            self.spiking = SpikingComponent("circuits", engine, inputs=c_in, outputs=c_out, fields=c_fields)
        if part is not None and part.bio.nodes:
            self.biophysics = SpikingComponent(
                "biophysics", network.neuron_engine,
                inputs={f"spikes:{q}": mirror for q, mirror in part.to_bio.items()},
                outputs={f"spikes:{p}": [p] for p in part.to_point}, output_lag=1,  # see neurohybrid.partition
                field_outputs={f"field:{fl.field}": (fl.source.label, fl.proxy, fl.field, fl.fn) for fl in links})
        parallel = brain.parallel if brain is not None else True
        cs = CoSimulation(dt=state.dt, parallel=parallel, macro_step=self._macro_step(brain, part))
        if brain is not None:
            self._add_brain(cs, brain)
        else:
            for comp in (self.spiking, self.biophysics):
                if comp is not None:
                    cs.add(comp)
        if part is not None and part.exchange is not None:
            for q in part.to_bio:
                cs.connect("circuits", f"spikes:{q}", "biophysics", f"spikes:{q}", kind="spikes", delay=part.exchange)
            for p in part.to_point:
                cs.connect("biophysics", f"spikes:{p}", "circuits", f"spikes:{p}", kind="spikes",
                           delay=part.exchange - 1)
        for fl in links:
            for p in fl.targets:
                cs.connect("biophysics", f"field:{fl.field}", "circuits", f"field:{fl.field}@{p.label}", kind="fields",
                           delay=max(1, int(round(fl.delay / state.dt))))
        for lk in lives:  # the live loop: one period each way
            name, period = lk.component.name, int(round(lk.period / state.dt))
            cs.add(lk.component)
            for port in lk.read:
                cs.connect("circuits", f"live:{name}:{port}", name, port, kind="spikes", delay=period)
            for port in lk.write:
                cs.connect(name, port, "circuits", f"live:{name}:{port}", kind="spikes", delay=period)
        cs.build()
        cs.on_macro_step(self._between_windows)
        self._last_flush = time.monotonic()
        self.cosim = cs
        self.pacer = None
        self._rt_written = 0
        if state.realtime is not None:
            self.set_pacing(state.realtime)
        self._declared: set = set()
        self._pending: dict = {}
        self._pending_rows = 0
        network.store.update_manifest(cosimulation=cs.describe(),
                                      **({"wholebrain": brain.describe()} if brain is not None else {}))

    def _macro_step(self, brain, part) -> int | None:
        """Links bound the macro-step; without any, ~100 ms windows (fewer kernel calls), or
        1 ms in a real-time session (its pacing resolution)."""
        seams = brain is not None and (brain.replacements or brain.modulations)
        if seams or (part is not None and part.exchange is not None) or state.field_links or state.live_links:
            return None
        if state.realtime is not None:
            return max(1, int(round(1.0 / state.dt)))
        st = int(round(brain.dt / state.dt)) if brain is not None else 1
        return st * max(1, int(round(100.0 / (st * state.dt))))

    def _add_brain(self, cs, brain) -> None:
        """The scaffold, its converters and the links of its seams."""
        st = int(round(brain.dt / state.dt))
        mods, reps = brain.modulations, brain.replacements
        extra = [Raw(variables=tuple(sorted({m.variable for m in mods})), name="fields")] if mods else []
        sim = brain._simulation(brain.monitors + extra)
        if reps:
            sim.replace([r.index for r in reps], self._lag_steps(sim, reps))
        self.sim = sim
        self.exchange_ticks = sim.lag * st if reps else self._field_interval(st)
        brain_c = MeanFieldComponent(brain.label, sim, {r.label: r.inputs.gain for r in reps},
                                     {r.label: r.inputs.baseline for r in reps}, on_monitors=self._monitors,
                                     fields={f"field:{m.field}": (m.region, m.variable) for m in mods})
        brain_c.step_ticks = st  # known before bind: without links it sets the macro-step
        fields = {m.field: FieldSource(f"field.{m.field}", m.field, _vectorised(m.fn), input_kind="fields",
                                       period=m.period, units=m.units) for m in mods}
        for r in reps:
            self.to_circuit[r.label] = RatesToSpikes(f"{r.label}.inputs", r.input_population.size, r.inputs.process,
                                                     seed=state.seed, order=r.inputs.order, t_ref=r.inputs.t_ref,
                                                     shared=r.inputs.shared)
            sizes = np.cumsum([0] + [p.size for p in r.populations])
            groups = [np.arange(sizes[k], sizes[k + 1]) for k in range(len(r.populations))]
            self.from_circuit[r.label] = SpikesToRates(f"{r.label}.rates", r.output.kernel, tau=r.output.tau,
                                                       width=r.output.width or brain.dt,
                                                       period=r.output.period or brain.dt, groups=groups)
        for conv in list(self.to_circuit.values()) + list(self.from_circuit.values()):
            conv.listeners.append(self._seam_output)
        brain_c.listeners.append(self._seam_output)
        spiking, D = self.spiking, self.exchange_ticks
        if self.biophysics is not None:
            cs.add(self.biophysics)
        if not brain.pipelined or not (reps or mods):
            cs.add(Fused(brain.label, brain_c, {**{f"afferent:{r.label}": self.to_circuit[r.label] for r in reps},
                                                **{f"field:{m.field}": fields[m.field] for m in mods}}))
            if spiking is not None:
                cs.add(Fused("circuits", spiking, {f"out:{r.label}": self.from_circuit[r.label] for r in reps}))
            for r in reps:
                cs.connect(brain.label, f"afferent:{r.label}", "circuits", f"in:{r.label}", kind="spikes", delay=D)
                cs.connect("circuits", f"out:{r.label}", brain.label, f"rates:{r.label}", kind="rates", delay=D)
            for m in mods:
                for p in m.populations:
                    cs.connect(brain.label, f"field:{m.field}", "circuits", f"field:{m.field}@{p.label}",
                               kind="fields", delay=D)
            return
        if D < 2:
            raise ParameterError(f"WholeBrain({brain.label})", "pipelined", f"exchange interval of {D} tick",
                                 "an exchange interval of at least 2 time steps")
        half = D // 2
        cs.add(brain_c)
        cs.add(spiking)
        for r in reps:
            a, b = self.to_circuit[r.label], self.from_circuit[r.label]
            cs.add(a)
            cs.add(b)
            cs.connect(brain.label, f"afferent:{r.label}", a.name, "rates", delay=half)
            cs.connect(a.name, "spikes", "circuits", f"in:{r.label}", delay=D - half)
            cs.connect("circuits", f"out:{r.label}", b.name, "spikes", delay=half)
            cs.connect(b.name, "rates", brain.label, f"rates:{r.label}", delay=D - half)
        for m in mods:
            cs.add(fields[m.field])
            cs.connect(brain.label, f"field:{m.field}", fields[m.field].name, "in", delay=half)
            for p in m.populations:
                cs.connect(fields[m.field].name, "field", "circuits", f"field:{m.field}@{p.label}", delay=D - half)

    def _field_interval(self, st: int) -> int:
        """Exchange interval (ticks) of a scaffold whose only seams are fields: ``exchange``."""
        b = self.brain
        if not b.modulations:
            return st
        if b.exchange is None:
            raise ParameterError(f"WholeBrain({b.label})", "exchange", "fields but no replaced region to set the "
                                 "exchange interval", "WholeBrain(exchange=<ms>) (the delay of the fields)")
        n = int(round(float(b.exchange) / b.dt))
        if n < 1 or abs(n * b.dt - float(b.exchange)) > 1e-9 * max(float(b.exchange), 1.0):
            raise ParameterError(f"WholeBrain({b.label})", "exchange", f"{b.exchange!r} ms",
                                 f"a positive multiple of dt={b.dt} ms")
        return n * st

    def _lag_steps(self, sim, reps) -> int:
        """Exchange interval in mean-field steps: the given one, or the shortest delay on any
        connection of a replaced region (the check itself is ``MeanFieldSimulation.replace``)."""
        b = self.brain
        if b.exchange is not None:
            ex = float(b.exchange)
            n = int(round(ex / b.dt))
            if n < 1 or abs(n * b.dt - ex) > 1e-9 * max(ex, 1.0):
                raise ParameterError(f"WholeBrain({b.label})", "exchange", f"{b.exchange!r} ms",
                                     f"a positive multiple of dt={b.dt} ms")
            return n
        idel = b.connectome.idelays(b.speed, b.dt) if math.isfinite(b.speed) else None
        rep = np.zeros(b.connectome.n_regions, bool)
        rep[[r.index for r in reps]] = True
        w = b.connectome.weights != 0
        np.fill_diagonal(w, False)
        touching = w & (rep[:, None] | rep[None, :])
        if idel is None or not touching.any():
            raise ParameterError(f"WholeBrain({b.label})", "exchange", "no conduction delay bounds the exchange "
                                 "interval (infinite speed or no connections)", "an explicit exchange= in ms")
        both = w & rep[:, None] & rep[None, :]
        lag = int(idel[touching].min())
        if both.any():
            lag = min(lag, int(idel[both].min()) // 2)
        if lag < 1:
            raise ParameterError(f"WholeBrain({b.label})", "speed", "a connection of a replaced region has a delay "
                                 "shorter than one mean-field step", "longer tracts or a lower speed")
        return lag

    # --------------------------------------------------------------- recording
    def _append(self, label, variable, values) -> None:
        """Buffer samples for the store; written in batches (one store call per window and
        signal cost as much as the mean-field step itself), and only from the thread that runs
        the kernel loop, so components advancing in worker threads never touch the store."""
        self._pending.setdefault((label, variable), []).append(values)
        self._pending_rows += values.shape[0]  # written by _between_windows, in the kernel's thread

    def _write_pending(self) -> None:
        seg = self.network.segment
        for (label, variable), parts in self._pending.items():
            self.network.store.append_signal(label, variable, np.concatenate(parts), segment=seg)
        self._pending, self._pending_rows = {}, 0

    def _declare(self, label, variable, units, interval, t_start, n) -> None:
        key = (self.network.segment, label, variable)
        if key not in self._declared:
            self.network.store.add_signal(label, variable, units, interval, t_start, np.arange(n, dtype=np.int64),
                                          segment=self.network.segment)
            self._declared.add(key)

    def _monitors(self, monitors: dict) -> None:
        for mon in self.brain.monitors:
            ts = monitors.get(mon.name)
            if ts is None or not len(ts.time):
                continue
            for k, var in enumerate(ts.variables):
                var = "bold" if isinstance(mon, Bold) else var
                period = mon.period
                t_start = mon.period if isinstance(mon, Bold) else mon.period / 2.0
                self._declare(self.brain.label, var, "dimensionless", period, t_start, ts.data.shape[2])
                self._append(self.brain.label, var, ts.data[:, k, :])

    def _seam_output(self, component, port, msg) -> None:
        if port.startswith("afferent:"):
            label = f"{port.split(':', 1)[1]}.afferent"
        elif component.name.endswith(".rates"):
            label = component.name
        else:
            return  # generated spikes are recorded through their population
        self._declare(label, "rate", _UNITS_HZ, msg.period * state.dt, 0.0, msg.values.shape[1])
        self._append(label, "rate", msg.values)

    # --------------------------------------------------------------- running
    def _owner(self) -> str:
        return f"WholeBrain({self.brain.label})" if self.brain is not None else "co-simulation"

    def run_until(self, target_tick: int) -> None:
        if self.spiking is not None and self.network.engine is not self.spiking.engine:
            raise SimulationStateError(self._owner(), "network", "the spiking model changed "
                                       "structure after the co-simulation started",
                                       "all populations and projections created before the first sim.run()")
        if self.brain is not None:
            st = self.cosim.components[self.brain.label].step_ticks
            if target_tick % st:
                raise ParameterError(f"WholeBrain({self.brain.label})", "t_stop", f"{target_tick * state.dt} ms",
                                     f"a multiple of the mean-field step {self.brain.dt} ms")
        try:
            if self.pacer is not None:
                self.pacer.run_ticks(target_tick)
            else:
                self.cosim.run_ticks(target_tick)
        finally:
            self.flush()

    def set_pacing(self, pacing: dict) -> None:
        """Pace the co-simulation to the wall clock (see neurohybrid.pynn.live.realtime)."""
        from ..realtime import Pacer
        if self.pacer is not None:
            self.pacer.rtf, self.pacer.policy = pacing["factor"], pacing["overrun"]
            self.pacer.tolerance_s = pacing["tolerance_ms"] * 1e-3
            return
        self.pacer = Pacer(self.cosim, rtf=pacing["factor"], policy=pacing["overrun"],
                           tolerance_ms=pacing["tolerance_ms"])
        self.pacer.idle.append(self._write_in_slack)

    def run_forever(self, max_ms=None) -> str:
        """Open-ended run (paced if the session is real-time): until stop(), Ctrl-C or max_ms."""
        from ..realtime import Pacer
        pacer = self.pacer
        if pacer is None:  # unpaced: a pacer that never waits, for its stop() and Ctrl-C handling
            pacer = self._fast_pacer = getattr(self, "_fast_pacer", None) or Pacer(self.cosim, rtf=math.inf,
                                                                                     freeze_gc=False)
        self._active = pacer
        try:
            return pacer.run_forever(max_ms=max_ms)
        finally:
            self._active = None
            self.flush()

    def stop(self, reason: str) -> None:
        """Stop an open-ended or paced run at the next macro-step boundary (any thread)."""
        for pacer in (getattr(self, "_active", None), self.pacer):
            if pacer is not None:
                pacer.stop(reason)

    def _between_windows(self, k, t_ms, outboxes) -> None:
        """Kernel hook (main thread): write recordings at most every half second of wall clock
        or when much is buffered, so a killed run keeps what was recorded before."""
        pacer = self.pacer
        if pacer is not None and pacer.stats.n > self._rt_written:
            st = pacer.stats
            new = min(st.n - self._rt_written, st.capacity)
            rows = [(st.n - new + i) % st.capacity for i in range(new)]
            timing = np.column_stack([st.lateness[rows], st.compute[rows], st.jitter[rows]]) * 1e3
            self._declare("realtime", "timing_ms", "ms", self.cosim.M * state.dt, 0.0, 3)
            self._append("realtime", "timing_ms", timing)
            self._rt_written = st.n
        # paced runs write in the slack of early windows (_write_in_slack); this is the fallback
        limit = 2.0 if self.pacer is not None else 0.5
        if self._pending_rows > 50_000 or time.monotonic() - self._last_flush > limit:
            self.flush()

    def _write_in_slack(self, budget_s: float) -> None:
        """Pacer idle work: write recordings in small batches when a window left time to spare."""
        if budget_s > 2e-4 and time.monotonic() - self._last_flush > 0.02:
            self.flush(final=False, sync=False)  # datasets only; the file flush waits for the run's end

    def flush(self, final: bool = True, sync: bool = True) -> None:
        self._last_flush = time.monotonic()
        self._write_pending()
        if final and self.pacer is not None and self.pacer.stats.n:
            self.network.store.update_manifest(realtime=self.pacer.stats.summary())
        comps = [c for c in (self.spiking, self.biophysics) if c is not None]
        for comp in comps:
            comp.flush(sync=sync)  # the network sink's flush ends with the store's (one HDF5 flush is enough)
        if not comps:
            self.network.store.flush(sync=sync)

    def reset(self) -> None:
        if self.spiking is not None and self.network.engine is not self.spiking.engine:
            raise SimulationStateError(self._owner(), "network", "the spiking model changed "
                                       "structure after the co-simulation started",
                                       "all populations and projections created before the first sim.run()")
        self.cosim.reset()
        self._declared = set()

    def close(self) -> None:
        self.cosim.close()
