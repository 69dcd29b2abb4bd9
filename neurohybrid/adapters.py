"""Engine adapters: the mean-field engine and the point-neuron engines as co-simulation
:class:`~neurohybrid.kernel.Component` s, and :class:`Fused`, which runs converters inline.

* :class:`MeanFieldComponent` — a :class:`~neurohybrid.backends.meanfield.MeanFieldSimulation`
  whose replaced regions (``simulation.replace``) take rates (Hz) on input ports
  ``"rates:<label>"`` and emit their afferent drive on output ports ``"afferent:<label>"``.
* :class:`SpikingComponent` — any point-neuron engine (float emulator, fixed-point emulator,
  Lava): spikes on an input port are pushed into a ``SpikeSourceExternal`` population; the
  spikes of chosen populations come out on an output port.

Time: kernel ticks are ticks of the global ``dt``; a spike at tick k is a spike *emitted* in
tick k, as the engines report them (the recorder writes it at (k + 1)·dt).
"""
from __future__ import annotations

import copy

import numpy as np

from .errors import LinkError, ParameterError, SimulationStateError, UnsupportedModelError
from .kernel import Component, Port, Series, Spikes

__all__ = ["MeanFieldComponent", "SpikingComponent", "Fused"]


def _whole_ticks(owner: str, parameter: str, value_ms: float, dt: float) -> int:
    n = int(round(value_ms / dt))
    if n < 1 or abs(n * dt - value_ms) > 1e-9 * max(1.0, abs(value_ms)):
        raise ParameterError(owner, parameter, f"{value_ms!r} ms is not a whole number of ticks of dt={dt} ms",
                             f"a positive multiple of {dt} ms")
    return n


# ------------------------------------------------------------------------------ mean field
class MeanFieldComponent(Component):
    """A mean-field simulation as a component.

    Parameters
    ----------
    name : str
    simulation : MeanFieldSimulation, with its replaced regions already set (``replace``); its
        ``lag`` (steps) times its step must equal the total delay of the links on each path
        between it and the replacing circuits (the front end sets them so).
    afferent_gain : dict label -> Hz per unit of the coupling input (the region's long-range
        input c, in the coupling's units, becomes the rate ``max(0, baseline + gain·c)`` in Hz).
    afferent_baseline : dict label -> Hz (default 0).
    on_monitors : callable(dict of monitor name -> TimeSeries) called after every window with
        the monitor samples taken in it (recording hooks in here).

    Ports: input ``"rates:<label>"`` (rates, one column per ``model.spike_seam`` channel, Hz);
    output ``"afferent:<label>"`` (rates, one column, Hz, a sample per mean-field step).
    """

    def __init__(self, name: str, simulation, afferent_gain: dict | None = None, afferent_baseline: dict | None = None,
                 on_monitors=None, fields: dict | None = None, record: bool = False):
        super().__init__(name, record)
        self.simulation = simulation
        labels = simulation.connectome.labels
        self.labels = [labels[i] for i in simulation.replaced]
        gain, base = dict(afferent_gain or {}), dict(afferent_baseline or {})
        for which, table in (("afferent_gain", gain), ("afferent_baseline", base)):
            for label in table:
                if label not in self.labels:
                    raise ParameterError(name, which, f"{label!r} is not a replaced region",
                                         ", ".join(self.labels) or "no region is replaced")
        self.gain = np.array([float(gain.get(label, 1.0)) for label in self.labels])
        self.baseline = np.array([float(base.get(label, 0.0)) for label in self.labels])
        self.on_monitors = on_monitors
        seam = simulation.model.spike_seam
        self.channels = tuple(ch.name for ch in seam) if simulation.replaced else ()
        self.inputs = {f"rates:{label}": "rates" for label in self.labels}
        self.outputs = {f"afferent:{label}": "rates" for label in self.labels}
        # fields: port -> (region label, variable), read every step from a Raw monitor named "fields"
        self.field_ports = dict(fields or {})
        if self.field_ports:
            mon = next((m for m, *_ in simulation._mon if m.name == "fields"), None)
            if mon is None or mon.period is not None:
                raise ParameterError(name, "fields", "the simulation has no every-step Raw monitor named 'fields'",
                                     "a Raw(variables=..., name='fields') monitor")
            for port, (label, variable) in self.field_ports.items():
                if variable not in mon.variables:
                    raise ParameterError(name, port, f"variable {variable!r} not in the 'fields' monitor",
                                         ", ".join(mon.variables))
                simulation.connectome.index(label)
                self.outputs[port] = Port("fields", field=f"{label}.{variable}")
        self._initial = simulation.snapshot()

    def bind(self, dt):
        super().bind(dt)
        self.step_ticks = _whole_ticks(self.name, "dt", self.simulation.dt, dt)
        self.exchange_ticks = self.simulation.lag * self.step_ticks
        self.tick = self.simulation.step * self.step_ticks
        self._held = np.zeros((len(self.labels), len(self.channels)))
        self._field_last = self._initial_fields()

    def _initial_fields(self) -> dict:
        sim = self.simulation
        x = self._initial["x"]  # (n_regions, nvar), the state at t = 0
        return {port: float(x[sim.connectome.index(label), sim.model.state_variables.index(variable)])
                for port, (label, variable) in self.field_ports.items()}

    def _held_rates(self, inbox: dict, t0: int, n: int) -> np.ndarray:
        """(n, n_replaced, n_channels) rates held (zero order) at the step starts t0 + s·step."""
        st = self.step_ticks
        starts = t0 + st * np.arange(n)
        out = np.empty((n, len(self.labels), len(self.channels)))
        for a, label in enumerate(self.labels):
            msg = inbox.get(f"rates:{label}")
            if msg is None or not len(msg):
                out[:, a] = self._held[a]
                continue
            if msg.values.shape[1] != len(self.channels):
                raise LinkError(self.name, f"rates:{label}", f"{msg.values.shape[1]} rate columns",
                                f"{len(self.channels)} (one per seam channel: {', '.join(self.channels)})")
            j = np.searchsorted(msg.ticks, starts, side="right") - 1
            out[:, a] = np.where((j >= 0)[:, None], msg.values[np.maximum(j, 0)], self._held[a])
            self._held[a] = msg.values[-1]
        return out

    def advance(self, t_stop, inbox):
        sim, st = self.simulation, self.step_ticks
        t0 = self.tick
        n = (t_stop - t0) // st
        rates = self._held_rates(inbox, t0, n) if self.labels else None
        monitors = sim.run(n * sim.dt, rates)
        self.tick = t_stop
        if self.on_monitors is not None:
            self.on_monitors(monitors)
        out = {}
        ticks = t0 + st * np.arange(n, dtype=np.int64)
        if self.field_ports:
            raw = monitors["fields"]
            for port, (label, variable) in self.field_ports.items():
                col = raw.data[:, raw.variables.index(variable), self.simulation.connectome.index(label)]
                # Raw sample k is the state at tick t0 + (k + 1)·step: the value at each tick of
                # the window is the previous sample (the first one carried over from the last window)
                vals = np.concatenate([[self._field_last[port]], col[:-1]])
                self._field_last[port] = col[-1]
                out[port] = Series(ticks, vals[:, None], st, "fields", f"{label}.{variable}")
        if self.labels:
            hz = np.maximum(self.baseline + self.gain * sim.afferent[:, :, 0], 0.0)
            for a, label in enumerate(self.labels):
                out[f"afferent:{label}"] = Series(ticks, hz[:, a:a + 1].copy(), st, "rates")
        return self._keep(out)

    def history(self, port, n_ticks):
        """The afferent drive before t = 0: the coupling of the initial (constant) history, which
        is what drives the first ``lag`` steps (n_ticks must not exceed the exchange interval)."""
        st = self.step_ticks
        if port in self.field_ports and n_ticks >= st:  # the initial state held before t = 0
            ticks = -st * np.arange(n_ticks // st, 0, -1, dtype=np.int64)
            label, variable = self.field_ports[port]
            return Series(ticks, np.full((ticks.size, 1), self._field_last[port]), st, "fields", f"{label}.{variable}")
        if not port.startswith("afferent:") or n_ticks < 1:
            return None
        if n_ticks > self.exchange_ticks:
            raise ParameterError(self.name, port, f"history of {n_ticks} ticks asked, only the {self.exchange_ticks} "
                                 "ticks of the exchange interval are known before t = 0", "a link delay <= the interval")
        a = self.labels.index(port.split(":", 1)[1])
        c = self.simulation.history_afferent()[a, 0]
        st = self.step_ticks
        ticks = -st * np.arange(n_ticks // st, 0, -1, dtype=np.int64)
        hz = max(self.baseline[a] + self.gain[a] * c, 0.0)
        return Series(ticks, np.full((ticks.size, 1), hz), st, "rates")

    def reset(self):
        self.simulation.restore(self._initial)
        self.tick, self._records = 0, {}
        self._held[:] = 0.0
        self._field_last = self._initial_fields()

    def state(self):
        return {"tick": self.tick, "simulation": self.simulation.snapshot(), "held": self._held.copy(),
                "fields": dict(self._field_last), "records": copy.deepcopy(self._records)}

    def restore(self, state):
        self.simulation.restore(state["simulation"])
        self.tick, self._held = state["tick"], state["held"].copy()
        self._field_last = dict(state["fields"])
        self._records = copy.deepcopy(state["records"])

    def describe(self):
        sim = self.simulation
        return {**super().describe(), "model": type(sim.model).__name__, "coupling": repr(sim.coupling),
                "dt_ms": sim.dt, "speed_mm_per_ms": sim.speed, "n_regions": sim.connectome.n_regions,
                "replaced": self.labels, "seam_channels": list(self.channels), "lag_steps": sim.lag,
                "afferent_gain_hz_per_unit": self.gain.tolist(), "afferent_baseline_hz": self.baseline.tolist()}


# ------------------------------------------------------------------------------ point neurons
class _Tap:
    """Wraps an engine's result sink: hands the spikes of ``nodes`` to ``collect`` and passes
    everything on. The engine's own flushes (after every ``advance``, i.e. every macro-step
    here, possibly in a worker thread) are ignored: the owner flushes with ``force=True`` from
    the kernel's thread (see :meth:`SpikingComponent.flush`)."""

    def __init__(self, sink, nodes, collect):
        self.inner, self.nodes, self.collect = sink, set(nodes), collect

    def spikes(self, node, ticks, ids):
        if node in self.nodes:
            self.collect(node, ticks, ids)
        self.inner.spikes(node, ticks, ids)

    def samples(self, node, variable, values):
        self.inner.samples(node, variable, values)

    def flush(self, force: bool = False, sync: bool = True):
        if force:
            if sync:
                self.inner.flush()
            else:  # sinks that can write without an HDF5 file flush say so with a `sync` parameter
                try:
                    self.inner.flush(sync=False)
                except TypeError:
                    self.inner.flush()


class SpikingComponent(Component):
    """A point-neuron engine (built, with its sink) as a component.

    Parameters
    ----------
    name : str
    engine : an engine of :mod:`neurohybrid.engines` after ``build(graph, sink)``.
    inputs : dict port -> name of a ``SpikeSourceExternal`` node; spike index i on the port is
        neuron i of that node.
    outputs : dict port -> list of node names; the spikes of these populations, indexed
        consecutively in the order given (the first population's cells first). Their spikes must
        be recorded in the engine's graph (the front end records them).
    fields : dict port -> (population, modulates, field name): fields applied to populations.
    compose : dict (population, modulates) -> ``"sum"`` or ``"product"``: how the fields of
        several ports acting on one target combine (:func:`neurohybrid.modulators.compose`; a
        port with no sample yet counts as the rule's neutral value). A target fed by one port
        takes that field's value as it is.
    field_outputs : dict port -> (population, proxy, field name, fn or None): a field proxy of the
        engine (``engine.field_value(population, proxy)``, e.g. NEURON's ``"lfp"``), through
        ``fn``, emitted once per window at its last tick.
    output_lag : output spikes travel this many ticks after their emission tick (for engines
        that report a spike up to that late, e.g. NEURON's threshold detection; spikes whose
        lagged tick falls past the window go out with the next window); the links from this
        component must be that much shorter, so arrival times stay exact.
    port_lag : dict output port -> ticks added to ``output_lag`` on that port (spike sources,
        which an engine may report one tick after the window they were emitted in, send to a
        field's dynamics with a lag of 1 on a link one tick shorter).
    input_lead : dict port -> ticks: spikes arriving on the port at tick t are pushed at tick
        t - lead (links that carry a spike at its earliest arrival tick rather than its mirror's
        emission tick: ``neurohybrid.partition.Bridge.lead``); at most the engine's
        ``capabilities.input_lead``.
    """

    def __init__(self, name: str, engine, inputs: dict | None = None, outputs: dict | None = None,
                 fields: dict | None = None, output_lag: int = 0, field_outputs: dict | None = None,
                 record: bool = False, input_lead: dict | None = None, compose: dict | None = None,
                 port_lag: dict | None = None):
        super().__init__(name, record)
        self.port_lag = {p: int(v) for p, v in (port_lag or {}).items() if v}
        self.engine = engine
        self.compose = dict(compose or {})
        self._field_held: dict = {}  # port -> the value of its field in force
        self.output_lag = int(output_lag)
        self.field_outputs = dict(field_outputs or {})
        for port, (node, proxy, field, fn) in self.field_outputs.items():
            if not hasattr(engine, "field_value"):
                raise UnsupportedModelError(name, port, f"{type(engine).__name__} has no field proxies",
                                            "the NEURON engine (biophysical populations)")
        graph = engine.graph
        self.field_targets = dict(fields or {})
        for port, (node, modulates, field) in self.field_targets.items():
            gnode = graph.nodes.get(node)
            if gnode is None or gnode.kind not in ("point", "biophysical", "modulator"):
                raise LinkError(name, port, f"{node!r} is not a population of the engine's model a field can act on",
                                ", ".join(n for n, g in graph.nodes.items()
                                          if g.kind in ("point", "biophysical", "modulator")))
            engine.prepare_field(node, modulates)  # a typed error when the engine cannot apply it
        self.in_nodes = dict(inputs or {})
        self.out_nodes = {p: list(nodes) for p, nodes in (outputs or {}).items()}
        for port, node in self.in_nodes.items():
            gnode = graph.nodes.get(node)
            if gnode is None or gnode.model != "SpikeSourceExternal":
                raise LinkError(name, port, f"{node!r} is not a SpikeSourceExternal population of the engine's model",
                                "a population of sim.SpikeSourceExternal cells")
        self.input_lead = {p: int(v) for p, v in (input_lead or {}).items() if v}
        most = int(getattr(getattr(engine, "capabilities", None), "input_lead", 0))
        for port, lead in self.input_lead.items():
            if port not in self.in_nodes or not 0 <= lead <= most:
                raise ParameterError(name, "input_lead", f"{lead} ticks on {port!r}",
                                     f"0..{most} ticks on a spike input port ({', '.join(self.in_nodes) or 'none'})")
        self._offset: dict[str, list[tuple[str, int]]] = {}  # node -> every (port, offset) it sends to
        recorded = {r.node for r in graph.recordings if r.variable == "spikes"}
        for port, nodes in self.out_nodes.items():
            off = 0
            for node in nodes:
                gnode = graph.nodes.get(node)
                if gnode is None:
                    raise LinkError(name, port, f"no population {node!r} in the engine's model",
                                    ", ".join(graph.nodes))
                if gnode.kind not in ("point", "source", "biophysical"):
                    raise LinkError(name, port, f"{node!r} runs on another engine ({gnode.kind}) and cannot "
                                    "send spikes from here", "a point-neuron population")
                if node not in recorded:
                    raise LinkError(name, port, f"spikes of {node!r} are not recorded", f"{node}.record('spikes')")
                self._offset.setdefault(node, []).append((port, off))
                off += gnode.size
        self.inputs = {p: "spikes" for p in self.in_nodes}
        self.inputs.update({p: Port("fields", field=f, modulates=m) for p, (_, m, f) in self.field_targets.items()})
        self.outputs = {p: "spikes" for p in self.out_nodes}
        self.outputs.update({p: Port("fields", field=f) for p, (_, _, f, _) in self.field_outputs.items()})
        self._tap = _Tap(engine.sink, self._offset, self._collect)
        engine.sink = self._tap
        self._got: dict[str, list] = {}
        self._carry: dict[str, list] = {}

    def _collect(self, node, ticks, ids):
        # emission ticks, plus output_lag for engines that may report a spike up to that many
        # ticks late
        ticks = np.asarray(ticks, np.int64) + self.output_lag
        ids = np.asarray(ids, np.int64)
        for port, off in self._offset[node]:  # a population may feed several ports (a seam and a bridge)
            lag = self.port_lag.get(port)
            self._got.setdefault(port, []).append(Spikes(ticks + lag if lag else ticks, ids + off))

    def bind(self, dt):
        super().bind(dt)
        if abs(self.engine.dt - dt) > 1e-12:
            raise ParameterError(self.name, "dt", f"engine resolution {self.engine.dt} ms", f"the kernel's {dt} ms")
        self.step_ticks = 1
        self.tick = self.engine.tick

    def advance(self, t_stop, inbox):
        for port, node in self.in_nodes.items():
            msg = inbox.get(port)
            if msg is not None and len(msg):
                lead = self.input_lead.get(port)
                self.engine.source_generator(node).push(msg.ticks - lead if lead else msg.ticks, msg.index)
        self._got = {}
        t0 = self.tick
        # fields take effect at their sample ticks: the engine stops there to apply them
        changes = sorted((int(t), port, msg.values[j]) for port in self.field_targets
                         for msg in [inbox.get(port)] if msg is not None and len(msg)
                         for j, t in enumerate(msg.ticks))
        for t, port, value in changes:
            self.engine.advance(t)
            node, modulates, _ = self.field_targets[port]
            self._field_held[port] = value if value.size > 1 else value[0]
            self.engine.set_modulation(node, modulates, self._composed(node, modulates, port))
        self.engine.advance(t_stop)
        self.tick = t_stop
        out = {}
        for p in self.out_nodes:
            spikes = Spikes.concat(self._carry.pop(p, []) + self._got.get(p, []))
            if self.output_lag or p in self.port_lag:  # lagged ticks past the window go out with the next one
                spikes, later = spikes.split(t_stop)
                if len(later):
                    self._carry[p] = [later]
            out[p] = spikes
        for port, (node, proxy, field, fn) in self.field_outputs.items():
            # a field proxy is sampled once per window, at its last tick
            value = float(self.engine.field_value(node, proxy))
            value = value if fn is None else float(fn(value))
            out[port] = Series(np.array([t_stop - 1], np.int64), np.array([[value]]), max(1, t_stop - t0), "fields",
                               field)
        return self._keep(out)

    def _composed(self, node: str, modulates: str, port: str):
        """The value the fields on (node, modulates) make together (see ``compose``)."""
        ports = [p for p, (n, m, _) in self.field_targets.items() if n == node and m == modulates]
        if len(ports) == 1:
            return self._field_held[port]
        from .modulators import compose, natural_rule, neutral
        rule = self.compose.get((node, modulates)) or natural_rule(modulates)
        return compose(rule, [self._field_held.get(p, neutral(rule)) for p in ports])

    def flush(self, sync: bool = True):
        """Write everything recorded so far to the run store (call it between windows, from the
        thread running the kernel; standalone users call it after ``CoSimulation.run``);
        ``sync=False`` skips the HDF5 file flush (see RunStore.flush)."""
        self._tap.flush(force=True, sync=sync)

    def reset(self):
        self.engine.reset()
        for node in self.in_nodes.values():
            self.engine.source_generator(node).reset()
        self.tick, self._records, self._carry, self._field_held = 0, {}, {}, {}

    def state(self):
        """The engine's snapshot (:meth:`neurohybrid.engine.Engine.state`), the tick, and the
        lagged output spikes still to be sent (engines with ``output_lag``)."""
        try:
            engine = self.engine.state()
        except NotImplementedError as exc:
            raise SimulationStateError(self.name, "state", str(exc), "engines with snapshots (the emulators, Lava)") \
                from None
        carry = {p: Spikes.concat(parts) for p, parts in self._carry.items()}
        return {"engine": engine, "tick": int(self.tick),
                "carry": {p: (sp.ticks.copy(), sp.index.copy()) for p, sp in carry.items()},
                "fields": copy.deepcopy(self._field_held)}

    def restore(self, state):
        """Back to a :meth:`state` (the engine checks its own part and refuses another model's)."""
        for key in ("engine", "tick", "carry"):
            if key not in state:
                raise ParameterError(self.name, "state", f"no {key!r} in the snapshot", "a state() of this component")
        self.engine.restore(state["engine"])
        self.tick = int(state["tick"])
        self._carry = {p: [Spikes(np.asarray(t, np.int64).copy(), np.asarray(i, np.int64).copy())]
                       for p, (t, i) in state["carry"].items()}
        self._field_held = copy.deepcopy(state.get("fields", {}))

    def describe(self):
        return {**super().describe(), "engine": type(self.engine).__name__,
                "inputs_from": self.in_nodes, "outputs_of": self.out_nodes,
                "fields": {p: {"population": n, "modulates": m, "field": f}
                           for p, (n, m, f) in self.field_targets.items()}}


# ------------------------------------------------------------------------------ fusion
class Fused(Component):
    """A producer with converters applied inline, in the same window, as one component.

    ``converters`` maps a producer output port to a converter component (one input port); the
    fused component's outputs are the converters' outputs, named ``"<producer port>"`` (the
    converter output replaces the raw one) — a converter runs right after its producer in the
    same window, so the seam needs one link (and one macro-step of delay) instead of two. The
    alternative, converters as separate components behind links, lets them run concurrently
    with the engines (pipelining) at the price of a macro-step half as long.
    """

    def __init__(self, name: str, producer: Component, converters: dict):
        super().__init__(name)
        self.producer, self.converters = producer, dict(converters)
        outs = producer.output_ports()
        for port, conv in self.converters.items():
            if port not in outs:
                raise LinkError(name, port, f"{producer.name} has no output port {port!r}", ", ".join(outs))
            (cin, cport), = conv.input_ports().items()
            if cport.kind != outs[port].kind:
                raise LinkError(name, port, f"{producer.name}.{port} emits {outs[port].kind!r}, converter "
                                f"{conv.name} takes {cport.kind!r}", f"a converter taking {outs[port].kind!r}")
            if len(conv.output_ports()) != 1:
                raise ParameterError(name, "converters", f"{conv.name} has several outputs", "one output port")
        self.inputs = producer.inputs
        self.outputs = {p: (next(iter(self.converters[p].output_ports().values())) if p in self.converters else k)
                        for p, k in producer.output_ports().items()}
        self.step_ticks = producer.step_ticks

    def bind(self, dt):
        super().bind(dt)
        self.producer.bind(dt)
        for conv in self.converters.values():
            conv.bind(dt)
        self.step_ticks = self.producer.step_ticks

    def advance(self, t_stop, inbox):
        out = dict(self.producer.advance(t_stop, inbox) or {})
        for port, conv in self.converters.items():
            cin = next(iter(conv.input_ports()))
            msg = out.get(port)
            if msg is None:
                kind = conv.input_ports()[cin].kind
                msg = Spikes.empty() if kind == "spikes" else Series.empty(kind)
            (cout, value), = conv.advance(t_stop, {cin: msg}).items()
            out[port] = value
        return out

    def history(self, port, n_ticks):
        """The producer's history on ``port``, passed through its converter (which then starts
        at tick ``-n_ticks``)."""
        msg = self.producer.history(port, n_ticks)
        conv = self.converters.get(port)
        if conv is None or msg is None:
            return msg
        conv.reset()
        conv.tick = -n_ticks
        (_, value), = conv.advance(0, {next(iter(conv.input_ports())): msg}).items()
        return value

    def reset(self):
        self.producer.reset()
        for conv in self.converters.values():
            conv.reset()

    def state(self):
        return {"producer": self.producer.state(), "converters": {p: c.state() for p, c in self.converters.items()}}

    def restore(self, state):
        self.producer.restore(state["producer"])
        for p, c in self.converters.items():
            c.restore(state["converters"][p])

    def describe(self):
        return {**super().describe(), "producer": self.producer.describe(),
                "converters": {p: c.describe() for p, c in self.converters.items()}}

