"""The hybrid co-simulation of a model graph: what a run drives when the model has more than
one engine, a scaffold, fields or host modules: one component per point engine ("circuits",
"circuits:<engine>"), the NEURON engine ("biophysics"), the scaffold with its converters, the
field nodes, the host modules (live I/O, controllers) and real-time pacing, all as components of
one :class:`~neurohybrid.kernel.CoSimulation`, wired from the graph's typed links
(:mod:`neurohybrid.graph.hybrid`). Built by the :class:`~neurohybrid.runtime.Runtime` at its
first run; knows nothing of any front end.
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..adapters import Fused, MeanFieldComponent, SpikingComponent
from ..backends.meanfield import Bold, MeanFieldSimulation, Raw
from ..converters import FieldSource, RatesToSpikes, SpikesToRates
from ..errors import LinkError, ParameterError, PlacementError, SimulationStateError
from ..kernel import CoSimulation
from ..modulators import ModulatorField, check_composition
from ..partition import NEURON, timing
from .seams import fields_of, hosts_of, scaffold_of, seams_of

_UNITS_HZ = "Hz"


def _vectorised(fn):
    """FieldSource calls fn on the held input row; a user fn of one value gets that value."""
    if fn is None:
        return None
    return lambda row: np.asarray(fn(row[0] if np.size(row) == 1 else row), dtype=float)


class HybridCoSimulation:
    """The co-simulation of a runtime's model (see the module docstring). Recording goes to the
    runtime's run store."""

    def __init__(self, network):
        graph = network.full_graph
        self.graph = graph
        self.dt = graph.dt
        brain = self.brain = scaffold_of(graph)
        self.seams = seams_of(graph, brain) if brain is not None else []
        fields = fields_of(graph)
        self.modulations = [f for f in fields if f.source[0] == "scaffold"]
        self.network = network
        self.sim, self.biophysics = None, None
        self.to_circuit, self.from_circuit = {}, {}
        self.exchange_ticks = None
        part = network.partition
        #: point-engine instance -> component name ("circuits" for the session's own engine)
        self.names = {inst: ("circuits" if inst == network.primary else f"circuits:{inst}") for inst in network.engines}
        links = [f for f in fields if f.source[0] == "proxy"]
        self.links, self.hosts = links, hosts_of(graph)
        #: fields produced in the co-simulation: released by a nucleus or written by a host module
        self.produced = [f for f in fields if f.source[0] in ("nucleus", "host")]
        self.compose = self._compositions(fields)
        ports = self._ports(brain, part)
        self.circuits = {}
        for inst, engine in network.engines.items():
            c_in, c_out, c_fields = ports[inst]
            if engine.graph.nodes or c_in or c_out or c_fields:
                self.circuits[self.names[inst]] = SpikingComponent(self.names[inst], engine, inputs=c_in,
                                                                    outputs=c_out, fields=c_fields,
                                                                    input_lead=self._leads.get(inst),
                                                                    compose=self.compose,
                                                                    port_lag=self._lags.get(inst),
                                                                    field_outputs=self._proxies(links, inst))
        # the session engine's component (benchmarks/cosim_overhead.py times it)
        self.spiking = self.circuits.get("circuits") or next(iter(self.circuits.values()), None)
        if network.neuron_engine is not None:
            bio_in, bio_out, bio_fields = ports[NEURON]
            self.biophysics = SpikingComponent(
                "biophysics", network.neuron_engine, inputs=bio_in, outputs=bio_out, fields=bio_fields,
                input_lead=self._leads.get(NEURON), compose=self.compose,
                output_lag=timing(NEURON)[0],  # see neurohybrid.partition
                field_outputs=self._proxies(links, NEURON))
        # several numba-parallel engines must not run at once (their thread pools would compete)
        parallel = (brain.parallel if brain is not None else True) and len(self.circuits) <= 1
        cs = CoSimulation(dt=self.dt, parallel=parallel, macro_step=self._macro_step(brain, part))
        #: scaffold field -> (component, port, delay in ticks) it leaves from (host modules read it)
        self._signal_out = {}
        if brain is not None:
            self._add_brain(cs, brain)
        else:
            for comp in [*self.circuits.values(), self.biophysics]:
                if comp is not None:
                    cs.add(comp)
        for bridge in part.bridges:
            for pop in bridge.populations:
                cs.connect(self._component(bridge.source), f"spikes:{pop}", self._component(bridge.target),
                           f"spikes:{pop}", kind="spikes", delay=bridge.link_delay)
        for fl in links:
            for pop, _ in fl.targets:
                cs.connect(self.circuit_of(fl.source[1]), f"field:{fl.node.name}", self.circuit_of(pop),
                           f"field:{fl.node.name}@{pop}",
                           kind="fields", delay=max(1, int(round(fl.node.delay / self.dt))))
        for host in self.hosts:  # host modules (the live loop): one period each way
            name, period = host.node.component.name, int(round(host.node.period / self.dt))
            cs.add(host.node.component)
            for port, pop in host.read.items():
                lag = 1 if self.graph.nodes[pop].kind == "source" else 0
                cs.connect(self.circuit_of(pop), f"live:{name}:{port}", name, port, kind="spikes",
                           delay=max(1, period - lag))
            for port, pop in host.write.items():
                cs.connect(name, port, self.circuit_of(pop), f"live:{name}:{port}", kind="spikes", delay=period)
            for port, field in (host.signals or {}).items():  # a scaffold region's state, one exchange late
                if field not in self._signal_out:
                    raise LinkError(f"{name}.{port}", "source", f"field {field!r} is not computed by the scaffold",
                                    "a scaffold region's state (a WholeBrain region signal)")
                comp, out, delay = self._signal_out[field]
                cs.connect(comp, out, name, port, kind="fields", delay=delay)
            for port, targets in host.fields.items():
                for pop, _ in targets:
                    cs.connect(name, port, self.circuit_of(pop), f"host:{name}:{port}@{pop}", kind="fields",
                               delay=period)
            host.node.component.listeners.append(self._field_output)
        for host in self.hosts:  # host modules feeding host modules (a live link into a live encoder)
            period = int(round(host.node.period / self.dt))
            for port, readers in (host.feeds or {}).items():
                for module, in_port in readers:
                    cs.connect(host.node.component.name, port, self.graph.modules[module].component.name, in_port,
                               kind="fields", delay=period)
        for fl in self.produced:
            self._add_produced(cs, fl)
        cs.build()
        cs.on_macro_step(self._between_windows)
        self._last_flush = time.monotonic()
        self.cosim = cs
        self.pacer = None
        self._rt_written = 0
        if network.pacing is not None:
            self.set_pacing(network.pacing)
        self.recorder = network.recorder
        network.store.update_manifest(cosimulation=cs.describe())

    def _proxies(self, links: list, instance: str) -> dict:
        """The field proxies (NEURON's, a surrogate's) read from populations of engine ``instance``."""
        part = self.network.partition
        return {f"field:{fl.node.name}": (fl.source[1], fl.source[2], fl.node.name, fl.node.fn)
                for fl in links if part.engine_of_node(fl.source[1]) == instance}

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

        graph = self.graph
        if brain is not None:
            self._check_replacements(part)
            for r in self.seams:
                on(r.input_population, "the scaffold's spikes")[0][f"in:{r.region}"] = r.input_population
                on(r.populations[0], "spikes to the scaffold")[1][f"out:{r.region}"] = list(r.populations)
            if self.modulations and not any(n.kind in ("point", "biophysical") for n in graph.nodes.values()):
                raise PlacementError(f"WholeBrain({brain.name})", "modulate", "no spiking populations to modulate",
                                     "populations of spiking neurons in the session")
        self._leads = {}  # engine -> {bridge input port: ticks its spikes are pushed back (Bridge.lead)}
        for bridge in part.bridges:
            for pop in bridge.populations:
                ports[bridge.source][1][f"spikes:{pop}"] = [pop]
                ports[bridge.target][0][f"spikes:{pop}"] = bridge.mirrors[pop]
                if bridge.lead:
                    self._leads.setdefault(bridge.target, {})[f"spikes:{pop}"] = bridge.lead
        for fl in self.modulations + self.links:
            for pop, modulates in fl.targets:
                on(pop, "fields")[2][f"field:{fl.node.name}@{pop}"] = (pop, modulates, fl.node.name)
        if self.hosts and not any(n.kind == "point" for g in network.parts.values() for n in g.nodes.values()):
            raise PlacementError("live", "read", "live links need point-neuron populations in the session",
                                 "populations on the emulator or Lava")
        self._lags = {}  # engine -> {port: 1} for spike sources (reported up to a tick late)
        for host in self.hosts:
            comp = host.node.component
            name = comp.name
            for port, pop in host.read.items():
                if graph.nodes[pop].kind == "source":
                    self._lags.setdefault(part.engine_of_node(pop), {})[f"live:{name}:{port}"] = 1
            for port, pop in host.read.items():
                on(pop, "live output")[1][f"live:{name}:{port}"] = [pop]
            for port, pop in host.write.items():
                on(pop, "live input")[0][f"live:{name}:{port}"] = pop
            for port, targets in host.fields.items():
                field = comp.output_ports()[port].field or f"{name}.{port}"
                for pop, modulates in targets:
                    on(pop, "fields")[2][f"host:{name}:{port}@{pop}"] = (pop, modulates, field)
        for fl in self.produced:
            if fl.source[0] == "nucleus":
                on(fl.source[1], "spikes to a field")[1][f"nucleus:{fl.node.name}"] = [fl.source[1]]
                if graph.nodes[fl.source[1]].kind == "source":
                    self._lags.setdefault(part.engine_of_node(fl.source[1]), {})[f"nucleus:{fl.node.name}"] = 1
            for pop, modulates in fl.targets:
                on(pop, "fields")[2][f"field:{fl.node.name}@{pop}"] = (pop, modulates, fl.node.name)
        return ports

    def _compositions(self, fields) -> dict:
        """{(population, modulates): rule} of every target, checked (units, one rule per target:
        neurohybrid.modulators.check_composition)."""
        on: dict = {}
        for fl in fields:
            for pop, modulates in fl.targets:
                on.setdefault((pop, modulates), []).append((fl.node.name, fl.node.units, fl.node.compose))
        for host in self.hosts:
            comp = host.node.component
            for port, targets in host.fields.items():
                spec = comp.output_ports()[port]
                units = getattr(comp, "units", {}).get(port, "1")
                for pop, modulates in targets:
                    on.setdefault((pop, modulates), []).append((spec.field or f"{comp.name}.{port}", units, None))
        return {key: check_composition(key[0], key[1], entries) for key, entries in on.items()}

    def _add_produced(self, cs, fl) -> None:
        """A field released by a nucleus or written by a host module: its component (with
        dynamics: neurohybrid.modulators.ModulatorField; without: a FieldSource through its fn)
        and its links. Each link waits one sample period (``delay``, when given, split in two)."""
        node, who = fl.node, f"FieldNode({fl.node.name})"
        if fl.source[0] == "nucleus" and node.tau is None:
            raise ParameterError(who, "tau", "a field released by spikes needs dynamics",
                                 "an uptake/decay time constant tau in ms")
        period = max(1, int(round(node.period / self.dt)))
        if node.delay is None:
            d_in = d_out = period
        else:
            total = int(round(node.delay / self.dt))
            if total < 2:
                raise ParameterError(who, "delay", f"{node.delay!r} ms", f">= 2 time steps ({2 * self.dt} ms)")
            d_in, d_out = total // 2, total - total // 2
        name = f"field.{node.name}"
        if node.tau is not None:
            comp = ModulatorField(name, node.name, "spikes" if fl.source[0] == "nucleus" else "fields", node.tau,
                                  node.baseline, node.release, node.lower, node.upper, node.period, node.fn,
                                  node.units)
        else:
            comp = FieldSource(name, node.name, _vectorised(node.fn), input_kind="fields", period=node.period,
                               initial=None, units=node.units)
        comp.listeners.append(self._field_output)
        cs.add(comp)
        if fl.source[0] == "nucleus":
            lag = 1 if self.graph.nodes[fl.source[1]].kind == "source" else 0
            if d_in - lag < 1:
                raise ParameterError(who, "delay", f"{node.delay!r} ms", f">= {2 * (1 + lag)} time steps")
            cs.connect(self.circuit_of(fl.source[1]), f"nucleus:{node.name}", name, "spikes", kind="spikes",
                       delay=d_in - lag)
        else:
            host = next(h for h in self.hosts if h.node.name == fl.source[1])
            cs.connect(host.node.component.name, fl.source[2], name, "in", kind="fields",
                       delay=max(d_in, int(round(host.node.period / self.dt))))
        for pop, _ in fl.targets:
            cs.connect(name, "field", self.circuit_of(pop), f"field:{node.name}@{pop}", kind="fields", delay=d_out)

    def _component(self, instance: str) -> str:
        return "biophysics" if instance == NEURON else self.names[instance]

    def circuit_of(self, label: str) -> str:
        """The name of the component that runs population ``label``."""
        return self._component(self.network.partition.engine_of_node(label))

    def _check_replacements(self, part) -> None:
        """The populations that replace one region (and their input) run on one engine: the
        seam's converters work on one engine's spikes."""
        for r in self.seams:
            where = {p: part.engine_of_node(p) for p in [r.input_population, *r.populations]}
            if len(set(where.values())) > 1:
                raise PlacementError(f"WholeBrain({self.brain.name})", "replace",
                                     f"the populations replacing {r.region} run on several engines ({where})",
                                     "one engine for a replaced region's populations (Population(..., engine=...))")

    def _macro_step(self, brain, part) -> int | None:
        """Links bound the macro-step; without any, ~100 ms windows (fewer kernel calls), or
        1 ms in a real-time session (its pacing resolution)."""
        if self.seams or self.modulations or part.bridges or self.links or self.hosts or self.produced:
            return None
        if self.network.pacing is not None:
            return max(1, int(round(1.0 / self.dt)))
        st = int(round(brain.dt / self.dt)) if brain is not None else 1
        return st * max(1, int(round(100.0 / (st * self.dt))))

    def _simulation(self, brain, monitors) -> MeanFieldSimulation:
        return MeanFieldSimulation(brain.connectome, brain.model, brain.coupling, brain.speed, brain.dt,
                                   brain.integrator, list(monitors), brain.initial_state, seed=self.graph.seed)

    def _add_brain(self, cs, brain) -> None:
        """The scaffold, its converters and the links of its seams."""
        st = int(round(brain.dt / self.dt))
        mods, reps = self.modulations, self.seams
        extra = [Raw(variables=tuple(sorted({m.source[2] for m in mods})), name="fields")] if mods else []
        sim = self._simulation(brain, brain.monitors + extra)
        if reps:
            sim.replace([r.index for r in reps], self._lag_steps(sim, reps))
        self.sim = sim
        self.exchange_ticks = sim.lag * st if reps else self._field_interval(st)
        brain_c = MeanFieldComponent(brain.name, sim, {r.region: r.drive.gain for r in reps},
                                     {r.region: r.drive.baseline for r in reps}, on_monitors=self._monitors,
                                     fields={f"field:{m.node.name}": m.source[1:] for m in mods})
        brain_c.step_ticks = st  # known before bind: without links it sets the macro-step
        fields = {m.node.name: FieldSource(f"field.{m.node.name}", m.node.name, _vectorised(m.node.fn),
                                           input_kind="fields", period=m.node.period, units=m.node.units)
                  for m in mods}
        sizes_of = self.graph.nodes
        for r in reps:
            d = r.drive
            self.to_circuit[r.region] = RatesToSpikes(d.stream or d.name, d.size, d.process, seed=self.graph.seed,
                                                      order=d.order, t_ref=d.t_ref, shared=d.shared)
            sizes = np.cumsum([0] + [sizes_of[p].size for p in r.populations])
            groups = [np.arange(sizes[k], sizes[k + 1]) for k in range(len(r.populations))]
            self.from_circuit[r.region] = SpikesToRates(r.rates.name, r.rates.kernel, tau=r.rates.tau,
                                                        width=r.rates.width or brain.dt,
                                                        period=r.rates.period or brain.dt, groups=groups,
                                                        mix=r.rates.mix, bias=r.rates.bias)
        for conv in list(self.to_circuit.values()) + list(self.from_circuit.values()):
            conv.listeners.append(self._seam_output)
        brain_c.listeners.append(self._seam_output)
        D = self.exchange_ticks
        if self.biophysics is not None:
            cs.add(self.biophysics)
        circuit_of = {r.region: self.circuit_of(r.populations[0]) for r in reps}
        if not brain.pipelined or not (reps or mods):
            cs.add(Fused(brain.name, brain_c, {**{f"afferent:{r.region}": self.to_circuit[r.region] for r in reps},
                                               **{f"field:{m.node.name}": fields[m.node.name] for m in mods}}))
            for name, comp in self.circuits.items():  # each replaced region's rates converter runs inline
                cs.add(Fused(name, comp, {f"out:{r.region}": self.from_circuit[r.region] for r in reps
                                          if circuit_of[r.region] == name}))
            for r in reps:
                cs.connect(brain.name, f"afferent:{r.region}", circuit_of[r.region], f"in:{r.region}", kind="spikes",
                           delay=D)
                cs.connect(circuit_of[r.region], f"out:{r.region}", brain.name, f"rates:{r.region}", kind="rates",
                           delay=D)
            for m in mods:
                self._signal_out[m.node.name] = (brain.name, f"field:{m.node.name}", D)
                for pop, _ in m.targets:
                    cs.connect(brain.name, f"field:{m.node.name}", self.circuit_of(pop), f"field:{m.node.name}@{pop}",
                               kind="fields", delay=D)
            return
        if D < 2:
            raise ParameterError(f"WholeBrain({brain.name})", "pipelined", f"exchange interval of {D} tick",
                                 "an exchange interval of at least 2 time steps")
        half = D // 2
        cs.add(brain_c)
        for comp in self.circuits.values():
            cs.add(comp)
        for r in reps:
            a, b = self.to_circuit[r.region], self.from_circuit[r.region]
            cs.add(a)
            cs.add(b)
            cs.connect(brain.name, f"afferent:{r.region}", a.name, "rates", delay=half)
            cs.connect(a.name, "spikes", circuit_of[r.region], f"in:{r.region}", delay=D - half)
            cs.connect(circuit_of[r.region], f"out:{r.region}", b.name, "spikes", delay=half)
            cs.connect(b.name, "rates", brain.name, f"rates:{r.region}", delay=D - half)
        for m in mods:
            source = fields[m.node.name]
            cs.add(source)
            cs.connect(brain.name, f"field:{m.node.name}", source.name, "in", delay=half)
            self._signal_out[m.node.name] = (source.name, "field", D - half)
            for pop, _ in m.targets:
                cs.connect(source.name, "field", self.circuit_of(pop), f"field:{m.node.name}@{pop}", delay=D - half)

    def _field_interval(self, st: int) -> int:
        """Exchange interval (ticks) of a scaffold whose only seams are fields: ``exchange``."""
        b = self.brain
        if not self.modulations:
            return st
        if b.exchange is None:
            raise ParameterError(f"WholeBrain({b.name})", "exchange", "fields but no replaced region to set the "
                                 "exchange interval", "WholeBrain(exchange=<ms>) (the delay of the fields)")
        n = int(round(float(b.exchange) / b.dt))
        if n < 1 or abs(n * b.dt - float(b.exchange)) > 1e-9 * max(float(b.exchange), 1.0):
            raise ParameterError(f"WholeBrain({b.name})", "exchange", f"{b.exchange!r} ms",
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
                raise ParameterError(f"WholeBrain({b.name})", "exchange", f"{b.exchange!r} ms",
                                     f"a positive multiple of dt={b.dt} ms")
            return n
        idel = b.connectome.idelays(b.speed, b.dt) if math.isfinite(b.speed) else None
        rep = np.zeros(b.connectome.n_regions, bool)
        rep[[r.index for r in reps]] = True
        w = b.connectome.weights != 0
        np.fill_diagonal(w, False)
        touching = w & (rep[:, None] | rep[None, :])
        if idel is None or not touching.any():
            raise ParameterError(f"WholeBrain({b.name})", "exchange", "no conduction delay bounds the exchange "
                                 "interval (infinite speed or no connections)", "an explicit exchange= in ms")
        both = w & rep[:, None] & rep[None, :]
        lag = int(idel[touching].min())
        if both.any():
            lag = min(lag, int(idel[both].min()) // 2)
        if lag < 1:
            raise ParameterError(f"WholeBrain({b.name})", "speed", "a connection of a replaced region has a delay "
                                 "shorter than one mean-field step", "longer tracts or a lower speed")
        return lag

    # --------------------------------------------------------------- recording
    def _monitors(self, monitors: dict) -> None:
        for mon in self.brain.monitors:
            ts = monitors.get(mon.name)
            if ts is None or not len(ts.time):
                continue
            for k, var in enumerate(ts.variables):
                var = "bold" if isinstance(mon, Bold) else var
                period = mon.period
                t_start = mon.period if isinstance(mon, Bold) else mon.period / 2.0
                self.recorder.signal(self.brain.name, var, ts.data[:, k, :], units="dimensionless",
                                     interval_ms=period, t_start_ms=t_start)

    def _field_output(self, component, port, msg) -> None:
        """Record the fields that nuclei, rate models and controllers produce (signal
        ``<field>/value``, in the field's units)."""
        if getattr(msg, "kind", None) == "fields":
            label = msg.name or f"{component.name}.{port}"
            units = getattr(component, "units", "1")
            units = units.get(port, "1") if isinstance(units, dict) else units
            self.recorder.signal(label, "value", msg.values, units=units, interval_ms=msg.period * self.dt,
                                 t_start_ms=0.0)

    def _seam_output(self, component, port, msg) -> None:
        if port.startswith("afferent:"):
            label = f"{port.split(':', 1)[1]}.afferent"
        elif component.name.endswith(".rates"):
            label = component.name
        else:
            return  # generated spikes are recorded through their population
        self.recorder.signal(label, "rate", msg.values, units=_UNITS_HZ, interval_ms=msg.period * self.dt,
                             t_start_ms=0.0)

    # --------------------------------------------------------------- running
    def _engines_replaced(self) -> bool:
        """Whether the network rebuilt an engine after this co-simulation was built around it."""
        engines = self.network.engines
        return any(engines.get(inst) is not comp.engine for inst, name in self.names.items()
                   for comp in [self.circuits.get(name)] if comp is not None)

    def _owner(self) -> str:
        return f"WholeBrain({self.brain.name})" if self.brain is not None else "co-simulation"

    def run_until(self, target_tick: int) -> None:
        if self._engines_replaced():
            raise SimulationStateError(self._owner(), "network", "the spiking model changed "
                                       "structure after the co-simulation started",
                                       "all populations and projections created before the first sim.run()")
        if self.brain is not None:
            st = self.cosim.components[self.brain.name].step_ticks
            if target_tick % st:
                raise ParameterError(f"WholeBrain({self.brain.name})", "t_stop", f"{target_tick * self.dt} ms",
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
            self.recorder.signal("realtime", "timing_ms", timing, units="ms", interval_ms=self.cosim.M * self.dt,
                                 t_start_ms=0.0)
            self._rt_written = st.n
        # paced runs write in the slack of early windows (_write_in_slack); this is the fallback
        limit = 2.0 if self.pacer is not None else 0.5
        if self.recorder.pending > 500_000 or time.monotonic() - self._last_flush > limit:
            self.flush()

    def _write_in_slack(self, budget_s: float) -> None:
        """Pacer idle work: write recordings in small batches when a window left time to spare."""
        if budget_s > 2e-4 and time.monotonic() - self._last_flush > 0.02:
            self.flush(final=False, sync=False)  # datasets only; the file flush waits for the run's end

    def flush(self, final: bool = True, sync: bool = True) -> None:
        self._last_flush = time.monotonic()
        if final and self.pacer is not None and self.pacer.stats.n:
            self.network.store.update_manifest(realtime=self.pacer.stats.summary())
        comps = [c for c in (*self.circuits.values(), self.biophysics) if c is not None]
        fields = {c.name: c.engine.modulation_report() for c in comps}
        if final and any(fields.values()):  # how each engine represented the fields (e.g. quantised)
            self.network.store.update_manifest(fields={k: v for k, v in fields.items() if v})
        self.recorder.flush(sync=sync)  # every engine reports to the one recorder

    def reset(self) -> None:
        if self._engines_replaced():
            raise SimulationStateError(self._owner(), "network", "the spiking model changed "
                                       "structure after the co-simulation started",
                                       "all populations and projections created before the first sim.run()")
        self.cosim.reset()

    def close(self) -> None:
        self.cosim.close()
