"""The session co-simulation: what ``sim.run`` drives when a PyNN session has more than one
engine or a live loop: the point-neuron engine ("circuits"), the NEURON engine ("biophysics"),
a WholeBrain scaffold with its converters, field links, live links and real-time pacing, all as
components of one :class:`~neurohybrid.kernel.CoSimulation`. Built by ``Network`` at the first run.
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..adapters import Fused, MeanFieldComponent, SpikingComponent
from ..backends.meanfield import Bold, Raw
from ..converters import FieldSource, RatesToSpikes, SpikesToRates
from ..errors import ParameterError, PlacementError, SimulationStateError
from ..kernel import CoSimulation
from ..partition import NEURON, timing
from .simulator import state

_UNITS_HZ = "Hz"


def _vectorised(fn):
    """FieldSource calls fn on the held input row; a user fn of one value gets that value."""
    if fn is None:
        return None
    return lambda row: np.asarray(fn(row[0] if np.size(row) == 1 else row), dtype=float)


class SessionCoSimulation:
    """The co-simulation of one session, built at its first ``sim.run``: the point-neuron
    engine ("circuits"), the NEURON engine ("biophysics") when the model has biophysical
    populations, and the WholeBrain scaffold with its converters when there is one. Recording
    goes to the network's run store."""

    def __init__(self, brain, network):
        self.brain, self.network = brain, network
        self.sim, self.biophysics = None, None
        self.to_circuit, self.from_circuit = {}, {}
        self.exchange_ticks = None
        part = network.partition
        #: point-engine instance -> component name ("circuits" for the session's own engine)
        self.names = {inst: ("circuits" if inst == network.primary else f"circuits:{inst}") for inst in network.engines}
        ports = self._ports(brain, part)
        links, lives = list(state.field_links), list(state.live_links)
        self.circuits = {}
        for inst, engine in network.engines.items():
            c_in, c_out, c_fields = ports[inst]
            if engine.graph.nodes or c_in or c_out or c_fields:
                self.circuits[self.names[inst]] = SpikingComponent(self.names[inst], engine, inputs=c_in,
                                                                    outputs=c_out, fields=c_fields)
        # the session engine's component (benchmarks/cosim_overhead.py times it)
        self.spiking = self.circuits.get("circuits") or next(iter(self.circuits.values()), None)
        if network.neuron_engine is not None:
            bio_in, bio_out, bio_fields = ports[NEURON]
            self.biophysics = SpikingComponent(
                "biophysics", network.neuron_engine, inputs=bio_in, outputs=bio_out, fields=bio_fields,
                output_lag=timing(NEURON)[0],  # see neurohybrid.partition
                field_outputs={f"field:{fl.field}": (fl.source.label, fl.proxy, fl.field, fl.fn) for fl in links})
        # several numba-parallel engines must not run at once (their thread pools would compete)
        parallel = (brain.parallel if brain is not None else True) and len(self.circuits) <= 1
        cs = CoSimulation(dt=state.dt, parallel=parallel, macro_step=self._macro_step(brain, part))
        if brain is not None:
            self._add_brain(cs, brain)
        else:
            for comp in [*self.circuits.values(), self.biophysics]:
                if comp is not None:
                    cs.add(comp)
        for bridge in part.bridges:
            for pop in bridge.populations:
                cs.connect(self._component(bridge.source), f"spikes:{pop}", self._component(bridge.target),
                           f"spikes:{pop}", kind="spikes", delay=bridge.delay)
        for fl in links:
            for p in fl.targets:
                cs.connect("biophysics", f"field:{fl.field}", self.circuit_of(p.label), f"field:{fl.field}@{p.label}",
                           kind="fields", delay=max(1, int(round(fl.delay / state.dt))))
        for lk in lives:  # the live loop: one period each way
            name, period = lk.component.name, int(round(lk.period / state.dt))
            cs.add(lk.component)
            for port, pop in lk.read.items():
                cs.connect(self.circuit_of(pop.label), f"live:{name}:{port}", name, port, kind="spikes", delay=period)
            for port, pop in lk.write.items():
                cs.connect(name, port, self.circuit_of(pop.label), f"live:{name}:{port}", kind="spikes", delay=period)
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

    def _ports(self, brain, part) -> dict:
        """The ports of every engine's component, NEURON's included: {engine: (spike inputs,
        spike outputs, fields)}, each on the engine that runs its population."""
        network = self.network
        engines = [*network.engines, *([NEURON] if network.neuron_engine is not None else [])]
        ports = {inst: ({}, {}, {}) for inst in engines}  # inputs, outputs, fields of each engine

        def on(label: str, what: str):
            inst = part.engine_of_node(label)
            if inst not in ports or (inst == NEURON and what != "fields"):  # NEURON takes fields and bridges
                raise PlacementError(f"Population({label})", "engine", f"runs on {inst}, which cannot take {what}",
                                     "a point-neuron population")
            return ports[inst]

        if brain is not None:
            self._check_replacements(brain, part)
            for r in brain.replacements:
                on(r.input_population.label, "the scaffold's spikes")[0][f"in:{r.label}"] = r.input_population.label
                out_ports = on(r.populations[0].label, "spikes to the scaffold")[1]
                out_ports[f"out:{r.label}"] = [p.label for p in r.populations]
            for m in brain.modulations:
                for p in m.populations:
                    on(p.label, "fields")[2][f"field:{m.field}@{p.label}"] = (p.label, m.modulates, m.field)
            if brain.modulations and not any(n.kind in ("point", "biophysical")
                                             for n in network.full_graph.nodes.values()):
                raise PlacementError(f"WholeBrain({brain.label})", "modulate", "no spiking populations to modulate",
                                     "populations of spiking neurons in the session")
        for bridge in part.bridges:
            for pop in bridge.populations:
                ports[bridge.source][1][f"spikes:{pop}"] = [pop]
                ports[bridge.target][0][f"spikes:{pop}"] = bridge.mirrors[pop]
        for fl in state.field_links:
            for p in fl.targets:
                on(p.label, "fields")[2][f"field:{fl.field}@{p.label}"] = (p.label, fl.modulates, fl.field)
        lives = state.live_links
        if lives and not any(n.kind == "point" for g in network.parts.values() for n in g.nodes.values()):
            raise PlacementError("live", "read", "live links need point-neuron populations in the session",
                                 "populations on the emulator or Lava")
        for lk in lives:
            name = lk.component.name
            for port, pop in lk.read.items():
                on(pop.label, "live output")[1][f"live:{name}:{port}"] = [pop.label]
            for port, pop in lk.write.items():
                on(pop.label, "live input")[0][f"live:{name}:{port}"] = pop.label
        return ports

    def _component(self, instance: str) -> str:
        return "biophysics" if instance == NEURON else self.names[instance]

    def circuit_of(self, label: str) -> str:
        """The name of the component that runs population ``label``."""
        return self._component(self.network.partition.engine_of_node(label))

    @staticmethod
    def _check_replacements(brain, part) -> None:
        """The populations that replace one region (and their input) run on one engine: the
        seam's converters work on one engine's spikes."""
        for r in brain.replacements:
            where = {p.label: part.engine_of_node(p.label) for p in [r.input_population, *r.populations]}
            if len(set(where.values())) > 1:
                raise PlacementError(f"WholeBrain({brain.label})", "replace",
                                     f"the populations replacing {r.label} run on several engines ({where})",
                                     "one engine for a replaced region's populations (Population(..., engine=...))")

    def _macro_step(self, brain, part) -> int | None:
        """Links bound the macro-step; without any, ~100 ms windows (fewer kernel calls), or
        1 ms in a real-time session (its pacing resolution)."""
        seams = brain is not None and (brain.replacements or brain.modulations)
        if seams or part.bridges or state.field_links or state.live_links:
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
        D = self.exchange_ticks
        if self.biophysics is not None:
            cs.add(self.biophysics)
        circuit_of = {r.label: self.circuit_of(r.populations[0].label) for r in reps}
        if not brain.pipelined or not (reps or mods):
            cs.add(Fused(brain.label, brain_c, {**{f"afferent:{r.label}": self.to_circuit[r.label] for r in reps},
                                                **{f"field:{m.field}": fields[m.field] for m in mods}}))
            for name, comp in self.circuits.items():  # each replaced region's rates converter runs inline
                cs.add(Fused(name, comp, {f"out:{r.label}": self.from_circuit[r.label] for r in reps
                                          if circuit_of[r.label] == name}))
            for r in reps:
                cs.connect(brain.label, f"afferent:{r.label}", circuit_of[r.label], f"in:{r.label}", kind="spikes",
                           delay=D)
                cs.connect(circuit_of[r.label], f"out:{r.label}", brain.label, f"rates:{r.label}", kind="rates",
                           delay=D)
            for m in mods:
                for p in m.populations:
                    cs.connect(brain.label, f"field:{m.field}", self.circuit_of(p.label), f"field:{m.field}@{p.label}",
                               kind="fields", delay=D)
            return
        if D < 2:
            raise ParameterError(f"WholeBrain({brain.label})", "pipelined", f"exchange interval of {D} tick",
                                 "an exchange interval of at least 2 time steps")
        half = D // 2
        cs.add(brain_c)
        for comp in self.circuits.values():
            cs.add(comp)
        for r in reps:
            a, b = self.to_circuit[r.label], self.from_circuit[r.label]
            cs.add(a)
            cs.add(b)
            cs.connect(brain.label, f"afferent:{r.label}", a.name, "rates", delay=half)
            cs.connect(a.name, "spikes", circuit_of[r.label], f"in:{r.label}", delay=D - half)
            cs.connect(circuit_of[r.label], f"out:{r.label}", b.name, "spikes", delay=half)
            cs.connect(b.name, "rates", brain.label, f"rates:{r.label}", delay=D - half)
        for m in mods:
            cs.add(fields[m.field])
            cs.connect(brain.label, f"field:{m.field}", fields[m.field].name, "in", delay=half)
            for p in m.populations:
                cs.connect(fields[m.field].name, "field", self.circuit_of(p.label), f"field:{m.field}@{p.label}",
                           delay=D - half)

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
    def _engines_replaced(self) -> bool:
        """Whether the network rebuilt an engine after this co-simulation was built around it."""
        engines = self.network.engines
        return any(engines.get(inst) is not comp.engine for inst, name in self.names.items()
                   for comp in [self.circuits.get(name)] if comp is not None)

    def _owner(self) -> str:
        return f"WholeBrain({self.brain.label})" if self.brain is not None else "co-simulation"

    def run_until(self, target_tick: int) -> None:
        if self._engines_replaced():
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
        comps = [c for c in (*self.circuits.values(), self.biophysics) if c is not None]
        fields = {c.name: c.engine.modulation_report() for c in comps}
        if final and any(fields.values()):  # how each engine represented the fields (e.g. quantised)
            self.network.store.update_manifest(fields={k: v for k, v in fields.items() if v})
        for comp in comps:
            comp.flush(sync=sync)  # the network sink's flush ends with the store's (one HDF5 flush is enough)
        if not comps:
            self.network.store.flush(sync=sync)

    def reset(self) -> None:
        if self._engines_replaced():
            raise SimulationStateError(self._owner(), "network", "the spiking model changed "
                                       "structure after the co-simulation started",
                                       "all populations and projections created before the first sim.run()")
        self.cosim.reset()
        self._declared = set()

    def close(self) -> None:
        self.cosim.close()
