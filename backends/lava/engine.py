"""The Lava engine: runs a model graph's Loihi circuit as a Lava process graph.

``build(graph, sink)`` quantises the graph's point neurons (``neurohybrid.mappings.loihi.quantize``)
into a :class:`~neurohybrid.mappings.loihi.circuit.LoihiCircuit`, builds its Lava processes
(:func:`.process_graph.build_processes`) and runs them on

- ``Loihi2SimCfg(select_tag="fixed_pt")`` (``numerics="fixed"``, the default): Lava's
  bit-accurate CPU models, or ``"floating_pt"`` (``numerics="float"``: the same circuit in real
  numbers, see :func:`.process_graph.build_processes`);
- ``Loihi2HwCfg`` when Intel's Lava-Loihi extension is installed (``target="auto"`` or
  ``"hw"``; fixed point only). The host-side processes (inputs, recorders, and the neuron
  models Lava has no chip model for) stay on the host CPU. Not tested here: no chip.

The interface is the emulator engines' (``build``, ``advance``, ``reset``, ``update_parameters``,
``configure_recording``, ``initial_samples``, ``get_state``, ``close``, ``.tick``, ``.graph``), and
the conventions are those of the fixed-point emulator engine
(``backends/emulator/fixed_engine.py``), whose results this engine reproduces exactly:

- one Lava time step per tick of ``graph.dt``: tick ``k`` is Lava ``time_step = k + 1``;
- a neuron that fires in tick ``k`` is reported with emission tick ``k`` (recorded at
  ``(k + 1) dt``); a signal sampled after tick ``k``
  has time ``(k + 1) dt`` (the sample at ``t = 0`` is the initial state);
- host spike sources are the emulator's generators keyed as there (same seed, same spikes),
  turned into the chip's binary input raster by the same ``HostInputs`` object (a spike of a
  source in tick ``j`` is sent in step ``j - 1``; spikes at t = 0 are sent at step 0; several
  spikes of one source cell in one tick are sent as one);
- ``v`` is reported in mV: ``v_mV = v_loihi / scale + v_rest`` of the population.

Where Lava is not usable, :func:`lava_available` says why and the engine refuses to build
(the front end falls back to the fixed-point emulator with one warning).

Compilation (Lava's compiler and the start of its worker processes) happens on the first
``advance`` (or :meth:`LavaEngine.compile`); ``reset`` and parameter changes rebuild the
process graph, carrying the dynamic state over when the engine is not at tick 0.
"""
from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np

from neurohybrid import snapshot
from neurohybrid.engine import Capabilities, Engine
from neurohybrid.errors import ParameterError, RecordingError, SimulationStateError, UnsupportedModelError
from neurohybrid.graph import ModelGraph

from neurohybrid.mappings.loihi.modulation import FIELD_TARGETS, CircuitModulation
from neurohybrid.mappings.loihi.runtime import LoihiOutputs, graph_for_circuit

from .process_graph import LavaGraph, apply_state, build_processes, lava_available, loihi_extension_available

__all__ = ["LavaEngine", "lava_available", "loihi_extension_available", "same_circuit"]

RECORDABLE = ("v",)  # signals a population can record (besides spikes)


class LavaEngine(LoihiOutputs, Engine):
    """Runs the Loihi circuit of a model graph on Lava (see the module docstring).

    ``numerics``: ``"fixed"`` (Lava ``fixed_pt``, bit-exact Loihi arithmetic) or ``"float"``
    (Lava ``floating_pt``). ``threads``: accepted for interface compatibility (Lava runs one
    worker process per Lava process). ``approximations``: names handed to ``quantize``.
    ``target``: ``"auto"`` (the chip when the Lava-Loihi extension is installed and numerics
    are fixed, else the CPU simulator), ``"sim"`` or ``"hw"``. ``buffer_steps``: length of the
    host buffers, i.e. the most steps one Lava ``run`` call makes (default: sized by
    :func:`.process_graph.build_processes`).
    """

    name = "lava"
    #: ``hardware`` is the class's claim for the CPU simulator; an instance with target "hw" runs
    #: on Loihi 2 (see :attr:`target`)
    capabilities = Capabilities(kinds=("point", "source", "modulator"), cell_types=("IF_curr_exp", "IF_curr_delta"),
                                numerics="fixed", recordables=("spikes", "v", "weight"),
                                field_targets=FIELD_TARGETS + ("dopamine", "gate"), latency=0, min_input_delay=1)

    @staticmethod
    def placement_note(node, graph: ModelGraph, options: dict | None = None) -> str | None:
        """Where on the Lava side a neuron population really runs, for the placement report:
        on the CPU simulator without Intel's Loihi extension; with it (Loihi2HwCfg) only Lava's
        own LIF runs on the chip, so a population with a refractory period (LIFRefractory) or
        per-cell decays/thresholds (LoihiLIF) stays on the host CPU (process_graph.py)."""
        if node.kind != "point":
            return None
        target = (options or {}).get("target", "auto")
        if target == "sim" or (target == "auto" and not loihi_extension_available()):
            return "runs on Lava's CPU simulator (Loihi2SimCfg; Intel's Loihi extension is not installed)"
        t_ref = np.asarray(node.parameters.get("tau_refrac", 0.0), dtype=float)
        if np.any(t_ref > 0):
            return ("on Loihi2HwCfg it stays on the host CPU: tau_refrac > 0 needs LIFRefractory, which has no "
                    "Loihi 2 process model")
        return "on Loihi 2 if its decays and threshold are uniform (Lava's LIF), else on the host CPU (LoihiLIF)"

    def __init__(self, numerics: str = "fixed", threads: int | None = None, approximations=(),
                 target: str = "auto", buffer_steps: int | None = None):
        if numerics not in ("fixed", "float"):
            raise UnsupportedModelError("LavaEngine", "numerics", f"{numerics!r} is not available",
                                        "'fixed' or 'float'")
        if target not in ("auto", "sim", "hw"):
            raise ParameterError("LavaEngine", "target", f"{target!r}", "'auto', 'sim' or 'hw'")
        ok, reason = lava_available()
        if not ok:
            raise UnsupportedModelError("LavaEngine", "lava", reason,
                                        "an environment with lava-nc 0.10 (or the fixed-point emulator)")
        if target == "auto":
            target = "hw" if numerics == "fixed" and loihi_extension_available() else "sim"
        if target == "hw" and numerics != "fixed":
            raise ParameterError("LavaEngine", "numerics", "Loihi hardware runs fixed point only", "'fixed'")
        self.numerics, self.threads, self.target = numerics, threads, target
        self.buffer_steps = buffer_steps
        self.approximations = tuple(approximations or ())
        self.graph: ModelGraph | None = None
        self.circuit = None
        self.lava: LavaGraph | None = None
        self.blocks: dict = {}  # the float engine's state layout, which the front end may inspect
        self.tick = 0
        self._step0 = 0  # tick at which the current Lava graph runs its time_step 1
        self._pending_state = None
        self.modulation: CircuitModulation | None = None  # fields acting on the circuit
        self.live_threshold: set = set()  # populations whose vth a field changes
        self.timings = {"build_s": 0.0, "compile_s": 0.0, "run_s": 0.0, "steps": 0}

    # --- build -------------------------------------------------------------------------------
    def quantize(self, graph: ModelGraph):
        """The graph's Loihi circuit (``quantize`` of neurohybrid.mappings.loihi)."""
        from neurohybrid.mappings.loihi import quantize
        return quantize(graph, approximations=self.approximations, dt=graph.dt)

    def build(self, graph: ModelGraph, sink) -> None:
        """Quantise ``graph`` and build its Lava processes; results go to ``sink``."""
        self.build_circuit(self.quantize(graph), sink, graph)

    def build_circuit(self, circuit, sink, graph: ModelGraph | None = None) -> None:
        """Run ``circuit`` directly (e.g. one loaded from a bundle, or built by hand).

        ``graph`` supplies the host spike sources (nodes named as the circuit's inputs), the seed
        and what to record; without it they come from the circuit (its manifest's
        ``host_inputs`` and ``seed``; spikes of every population are recorded).
        """
        from neurohybrid.mappings.loihi.runtime import HostInputs, circuit_layout
        self.close()  # a second build replaces the first
        self._pending_state = None
        host_graph = graph
        if graph is None:
            graph = graph_for_circuit(circuit)
        self.graph, self.sink, self.circuit = graph, sink, circuit
        self.dt = float(circuit.dt_ms if circuit.dt_ms else graph.dt)
        if abs(self.dt - graph.dt) > 1e-9 * max(graph.dt, 1.0):
            raise UnsupportedModelError(f"circuit (dt {self.dt} ms)", "dt_ms",
                                        f"differs from the graph's dt {graph.dt} ms",
                                        "a circuit quantised at the graph's resolution (one Loihi step per tick)")
        _, self.input_offsets, _, self.n_inputs = circuit_layout(circuit)
        self.inputs = HostInputs(circuit, self.dt, host_graph)
        self.modulation = CircuitModulation(circuit, graph)
        self._setup_learning(host_graph)
        self.configure_recording()
        self.tick = 0
        self._step0 = 0
        self._rebuild(state=None)

    def _rebuild(self, state, graph: LavaGraph | None = None) -> None:
        """(Re)create the Lava process graph for the current circuit (or take ``graph``, built
        for it already); Lava compiles it on the next advance. ``state``: dynamic state to start
        from (see :meth:`_snapshot`)."""
        if self.tick > 0 and getattr(self, "plastic", None):
            raise SimulationStateError(type(self).__name__, "rebuild", "a Lava graph with learning connections cannot "
                                       "be rebuilt in the middle of a run: Lava's LearningDense restarts its weights' "
                                       "random generators and keeps no trace state across builds",
                                       "change recordings, parameters and fields of plastic circuits on Lava before "
                                       "the first run or after sim.reset() (the fixed-point emulator has no such limit)")
        if self.lava is not None:
            self.lava.stop()
            self.lava = None
        self.lava = graph if graph is not None else self._processes(self.modulation.circuit, self.live_threshold, state)
        self._step0 = self.tick

    def _processes(self, circuit, live_threshold, state=None) -> LavaGraph:
        t = time.perf_counter()
        graph = build_processes(circuit, numerics=self.numerics, record_uv=self._uv_populations(),
                                buffer_steps=self.buffer_steps, state=state, live_threshold=live_threshold)
        self.timings["build_s"] += time.perf_counter() - t
        return graph

    def compile(self) -> None:
        """Compile the Lava processes and start Lava's runtime now (else: on the first advance)."""
        if self.lava is not None and self.lava.target is None:
            t = time.perf_counter()
            self.lava.compile(self.target)
            self.timings["compile_s"] += time.perf_counter() - t

    def _uv_populations(self) -> set:
        return {node for node, _, _, _ in self.signals}

    def configure_recording(self) -> None:
        """(Re)read what to record from the graph (the Lava graph is rebuilt when the set of
        populations whose v is recorded changes)."""
        self._read_recordings(lambda node, index: index)  # Lava records per population
        if self.lava is not None:
            have = {n for n, uv in self.lava.record_uv.items() if uv}
            if have != self._uv_populations():
                self._rebuild(self._snapshot())

    # --- changes between runs -------------------------------------------------------------------
    def _snapshot(self):
        """Dynamic state of the running Lava graph, re-timed for a graph started at this tick
        (None at tick 0 or before the first run: the circuit's initial state is then right)."""
        lava = self.lava
        if lava is None:
            return None
        if self.tick == self._step0:  # nothing ran since this graph was built: its starting state
            return self._pending_state
        state = lava.read_state()
        shift = self.tick - self._step0  # old time_step t  <->  new time_step t - shift
        for entry in state["neurons"].values():
            if "refractory_period_end" in entry:
                entry["refractory_period_end"] = entry["refractory_period_end"] - shift
        return state

    def update_parameters(self, graph: ModelGraph) -> None:
        """Take new parameter values (same structure) from ``graph``: re-quantise and rebuild the
        Lava graph, keeping u, v, refractory state and in-flight synaptic input."""
        circuit = self.quantize(graph)
        self.graph = graph
        for name in circuit.inputs:
            if name in graph.nodes:
                self.inputs.set_params(name, dict(graph.nodes[name].parameters))
        if same_circuit(circuit, self.circuit):
            return  # only host-side parameters (spike sources) changed: the chip keeps running
        state = self._snapshot()
        self.circuit = circuit
        self._rebase_modulation()
        self._pending_state = state
        self._rebuild(state)

    def _rebase_modulation(self) -> None:
        """The fields in force act on the newly quantised circuit too."""
        old = self.modulation
        self.modulation = CircuitModulation(self.circuit, self.graph)
        for (node, modulates), values in old.active.items():
            if node in self.circuit.populations:
                self.modulation.set(node, modulates, values)

    # --- fields -------------------------------------------------------------------------------
    def prepare_field(self, node: str, modulates: str) -> None:
        """Check that a ``modulates`` field can act on population ``node``; a threshold field
        makes the population a ``LoihiLIF`` (a vth register per cell, read every step; it has
        no Loihi 2 process model, so on the chip that population stays on the host CPU)."""
        super().prepare_field(node, modulates)
        if self._dopamine_field(node, modulates, check=True):
            return
        self.modulation.check(node, modulates)
        if modulates == "threshold" and node not in self.live_threshold:
            self.live_threshold.add(node)
            if self.lava is not None and self.lava.neuron_kind.get(node, "LoihiLIF") != "LoihiLIF":
                self._rebuild_running()

    def set_modulation(self, node: str, modulates: str, values) -> None:
        """Apply a field from the current tick on, quantised to Loihi registers now (as the
        fixed-point emulator does: :mod:`neurohybrid.mappings.loihi.modulation`). Threshold and
        current set the vth and bias Vars in Lava's runtime; a gain changes weights, which Lava
        cannot set safely at run time (its sparse Var.set drops zero weights): the process graph
        is rebuilt from the current state and recompiled, costly on the CPU simulator."""
        if self._dopamine_field(node, modulates, values):
            return
        if modulates == "threshold" and node not in self.live_threshold:
            self.prepare_field(node, modulates)
        changed = self.modulation.set(node, modulates, values)
        if changed is None:
            return
        if changed == "weights":
            self._rebuild_running()
            return
        pop = self.modulation.circuit.populations[node]
        self.lava.set_registers(node, vth=pop.vth if modulates == "threshold" else None,
                                bias_mant=pop.bias_mant if modulates == "current" else None, bias_exp=pop.bias_exp)

    def _rebuild_running(self) -> None:
        """Rebuild the Lava graph for the running circuit, keeping the dynamic state."""
        state = self._snapshot()
        self._pending_state = state
        self._rebuild(state)

    def modulation_report(self) -> dict:
        """The quantisation of every field applied so far (CircuitModulation.report)."""
        return self.modulation.report() if self.modulation is not None else {}

    def reset(self, graph: ModelGraph | None = None) -> None:
        """Back to tick 0: initial state, empty synaptic buffers, sources restarted."""
        changed = False
        if graph is not None:
            self.graph = graph
            circuit = self.quantize(graph)
            changed = not same_circuit(circuit, self.circuit)
            self.circuit = circuit
            self._rebase_modulation()
            for name in self.circuit.inputs:
                if name in graph.nodes:
                    self.inputs.set_params(name, dict(graph.nodes[name].parameters))
        self.inputs.reset()
        self.dopamine.reset()
        self.tick = 0
        fresh = self.lava is not None and self.lava.target is None and self._pending_state is None
        self._pending_state = None
        if changed or not fresh:  # Lava cannot rewind a runtime: a new graph starts at tick 0
            self._rebuild(state=None)
        self._step0 = 0  # a graph that has not run yet starts at whatever tick it is first run

    def carry_state(self, old) -> None:
        """After a structural rebuild by the front end: start from ``old``'s state (another
        LavaEngine) for the populations and projections both have, at ``old``'s tick."""
        if not isinstance(old, LavaEngine) or old.lava is None:
            return
        self.live_threshold |= old.live_threshold & set(self.circuit.populations)
        for (node, modulates), values in old.modulation.active.items():
            pop = self.circuit.populations.get(node)
            if pop is not None and pop.size == values.size:  # the fields in force stay in force
                self.modulation.set(node, modulates, values)
        state = old._snapshot()
        self.tick = old.tick
        if state is not None:
            self._pending_state = state
            self._rebuild(state)
        else:
            self._step0 = self.tick
        self.inputs._held = {k: v for k, v in old.inputs._held.items() if k in self.inputs.generators}
        self.inputs.next_grid = old.inputs.next_grid

    # --- running ------------------------------------------------------------------------------
    def initial_samples(self) -> None:
        """Send the t = 0 sample of every recorded signal (PyNN includes it)."""
        for node, variable, _, cells in self.signals:
            v0 = np.broadcast_to(np.asarray(self.circuit.populations[node].v0), (self.circuit.populations[node].size,))
            self.sink.samples(node, variable, self._to_mv(node, v0[cells][None, :]))
        self._send_weights(0, lambda edge: self.synapse_values(edge))

    def advance(self, t_stop: int) -> None:
        """Run Lava time steps until tick ``t_stop`` (exclusive), streaming results into the sink,
        which is flushed at least every ``FLUSH_SECONDS`` of wall-clock time."""
        if self.tick >= t_stop:
            return
        self.compile()
        self._advance_in_chunks(t_stop, self.lava.buffer_steps)
        self._pending_state = None

    def _run_chunk(self, t0: int, n: int) -> None:
        raster, generated = self.inputs.raster(t0, n)
        for name, (ticks, ids) in generated.items():
            self.report_spikes(name, ticks, ids)
        inputs = {name: raster[:, o:o + self.circuit.inputs[name].size]
                  for name, o in self.input_offsets.items() if name in self.lava.inputs}
        third = self._third_factor(t0, n, generated)
        t = time.perf_counter()
        records = self.lava.run(n, inputs, target=self.target, rewards=third)
        self.timings["run_s"] += time.perf_counter() - t
        self.timings["steps"] += n
        if self.dopamine.active:  # the chip's spikes that reach a volume transmitter
            for name, rec in records.items():
                rows, cells = np.nonzero(rec.spikes)
                self.dopamine.spikes(name, t0 + rows.astype(np.int64), cells.astype(np.int64))
        self._send_weights(t0 + n, lambda edge: self.synapse_values(edge))
        for name, rec in records.items():
            if name in self.spike_recorded:
                rows, cells = np.nonzero(rec.spikes)
                # a neuron that fires in tick k has emission tick k, as in the emulator engines
                self.report_spikes(name, t0 + rows.astype(np.int64), cells.astype(np.int64))
        self._send_signals(t0, n, lambda node: records[node].v)

    # --- snapshots ------------------------------------------------------------------------------
    def state(self) -> dict:
        """A snapshot of the complete dynamic state at the current tick (:mod:`neurohybrid.snapshot`
        format, copies): the header; ``numerics`` and ``approximations`` (they define what runs);
        Lava's state re-timed for a process graph started at this tick
        (``neurons/<population>/u``, ``v``: Loihi units, int64 in fixed point, float64 in floating
        point; ``refractory_period_end``, int64 time steps of that graph, for neuron processes
        that have it; ``connections/<projection>/<k>``: the k-th connection process's
        ``a_buff``, activations on their way); ``live_threshold/<population>`` (1: built with a
        per-cell threshold for a field); the host inputs (``inputs/...``) and the fields in force
        (``fields/...``). Reads Lava's runtime Var by Var: costly for large graphs."""
        out = self._host_state()
        out.update(self._lava_state())
        return out

    def _host_state(self) -> dict:
        """Everything in a snapshot but Lava's own state (cheap)."""
        snapshot.require_built(self)
        out = snapshot.header(self)
        out["numerics"] = self.numerics
        out["approximations"] = ",".join(self.approximations)
        for node in self.circuit.populations:
            out[f"live_threshold/{node}"] = int(node in self.live_threshold)
        snapshot.put(out, "inputs", self.inputs.state())
        snapshot.put(out, "fields", self.modulation.state())
        return out

    def _lava_state(self) -> dict:
        if self.lava is None:
            raise SimulationStateError(type(self).__name__, "state", "the engine is closed", "a built engine")
        # nothing ran since this graph was built: its Vars hold its starting state
        state = self.lava.read_state() if self.tick == self._step0 else self._snapshot()
        values = {}
        for name, entry in state["neurons"].items():
            for var, value in entry.items():
                values[f"neurons/{name}/{var}"] = value
        for name, buffers in state["connections"].items():
            for k, value in enumerate(buffers):
                values[f"connections/{name}/{k}"] = value
        layout = _var_layout(self.lava)
        return {key: np.broadcast_to(np.asarray(values[key]), want.shape).astype(want.dtype)
                for key, want in layout.items()}

    def restore(self, state: dict) -> None:
        """Continue from snapshot ``state`` (this model, this engine type, same numerics and
        approximations): what follows is bit-identical to what followed where it was taken.
        The process graph is rebuilt from the snapshot (and compiled on the next advance).
        ParameterError for another engine's or model's snapshot or an incomplete one; the
        engine is then unchanged."""
        host = self._host_state()
        lava_keys = ("neurons/", "connections/")
        rest = {k: v for k, v in state.items() if not k.startswith(lava_keys)} if isinstance(state, Mapping) else state
        snapshot.check(self, rest, host, same=("numerics", "approximations"))
        modulation = CircuitModulation(self.circuit, self.graph)
        try:
            modulation.restore(snapshot.take(state, "fields"))
        except ParameterError as exc:
            raise snapshot.error(self, f"its fields cannot be applied ({exc})") from None
        live = {node for node in self.circuit.populations if state[f"live_threshold/{node}"]}
        graph = self._processes(modulation.circuit, live)
        try:
            layout = _var_layout(graph)
            snapshot.check(self, {**{k: state[k] for k in snapshot.HEADER},
                                  **{k: v for k, v in state.items() if k.startswith(lava_keys)}},
                           {**{k: host[k] for k in snapshot.HEADER}, **layout})
            lava_state = {"neurons": {}, "connections": {}}
            for name, proc in graph.neurons.items():
                lava_state["neurons"][name] = {var: np.array(state[f"neurons/{name}/{var}"])
                                               for var in _NEURON_VARS if hasattr(proc, var)}
            for name, procs in graph.connections.items():
                lava_state["connections"][name] = [np.array(state[f"connections/{name}/{k}"])
                                                   for k in range(len(procs))]
            apply_state(graph, lava_state)
        except BaseException:
            graph.stop()
            raise
        self.modulation, self.live_threshold = modulation, live
        self.inputs.restore(snapshot.take(state, "inputs"))
        self.tick = int(state["tick"])
        self._pending_state = lava_state
        self._rebuild(lava_state, graph)

    # --- inspection ---------------------------------------------------------------------------
    def loihi_state(self, node: str, variables=("u", "v")) -> dict[str, np.ndarray]:
        """Raw state of population ``node``: ``u``, ``v`` in Loihi units (int64 in fixed point,
        float in floating point). Read from Lava's runtime, which transfers a Var element by
        element: costly for large populations."""
        if node not in self.circuit.populations:
            raise RecordingError(node, None, "is not a population of the Loihi circuit",
                                 ", ".join(self.circuit.populations))
        pop = self.circuit.populations[node]
        proc = self.lava.neurons.get(node) if self.lava is not None else None
        if proc is None or self.lava.target is None:
            state = (self._pending_state or {}).get("neurons", {}).get(node)
            if state is not None:
                return {"u": np.asarray(state["u"]).copy(), "v": np.asarray(state["v"]).copy()}
            return {"u": np.broadcast_to(np.asarray(pop.u0), (pop.size,)).astype(np.int64),
                    "v": np.broadcast_to(np.asarray(pop.v0), (pop.size,)).astype(np.int64)}
        dtype = np.int64 if self.numerics == "fixed" else float
        return {name: np.asarray(getattr(proc, name).get()).astype(dtype) for name in variables}

    def synapse_values(self, edge: str, variable: str = "weight") -> np.ndarray:
        """Current ``variable`` (``"weight"``, PyNN units) of every synapse of plastic edge
        ``edge`` in the edge's order, read from Lava's ``LearningDense`` (``Var.get``: one
        message per element, slow for large matrices)."""
        self._plastic_error(edge, variable)
        return self._edge_values(edge, self._plastic_weights(edge))

    def _plastic_weights(self, edge: str) -> np.ndarray:
        from neurohybrid.mappings.loihi.learning_rules import plastic_block
        proj = self.plastic[edge][3]
        procs = self.lava.connections.get(edge) if self.lava is not None else None
        if procs and self.lava.target is not None:
            return np.asarray(procs[0].weights.get()).astype(np.int64)
        n_pre = (self.circuit.populations.get(proj.pre) or self.circuit.inputs[proj.pre]).size
        return plastic_block(proj, self.circuit.populations[proj.post].size, n_pre)[0]

    def set_synapse_values(self, edge: str, variable: str, values) -> None:
        """Set the weights of plastic edge ``edge`` (edge order, PyNN units) before the first
        run (or after a reset): the learning connection is rebuilt with them. Lava cannot
        change a running ``LearningDense`` safely: SimulationStateError then."""
        self._plastic_error(edge, variable)
        if self.tick > 0 or (self.lava is not None and self.lava.target is not None):
            raise SimulationStateError(f"Projection({edge})", "weight", "the learning connection runs in Lava already",
                                       "set plastic weights on Lava before the first run or after sim.reset()")
        proj = self.plastic[edge][3]
        dense = self._edge_mantissas(edge, values, self._plastic_weights(edge))
        proj.weights = dense[np.asarray(proj.rows, np.int64), np.asarray(proj.cols, np.int64)]
        self._rebuild(state=None)

    def get_state(self, node: str, variable: str) -> np.ndarray:
        """Current value of ``variable`` of every cell of ``node`` in PyNN units ("v", mV)."""
        if node not in self.circuit.populations or variable not in RECORDABLE:
            raise RecordingError(node, variable, "has no state on the Loihi path", "v of neuron populations")
        return self._to_mv(node, self.loihi_state(node, ("v",))["v"])

    def close(self) -> None:
        """Stop Lava's runtime and release the host buffers."""
        if self.lava is not None:
            self.lava.stop()
            self.lava = None


_NEURON_VARS = ("u", "v", "refractory_period_end")


def _var_layout(graph: LavaGraph) -> dict:
    """Snapshot keys of a process graph's dynamic Vars, as zero arrays of their shapes and of
    the dtypes snapshots use (int64 in fixed point, float64 in floating point; refractory ends
    int64)."""
    value = np.int64 if graph.numerics == "fixed" else np.float64
    out = {}
    for name, proc in graph.neurons.items():
        for var in _NEURON_VARS:
            if hasattr(proc, var):
                dtype = np.int64 if var == "refractory_period_end" else value
                out[f"neurons/{name}/{var}"] = np.zeros(tuple(getattr(proc, var).shape), dtype)
    for name, procs in graph.connections.items():
        for k, proc in enumerate(procs):
            out[f"connections/{name}/{k}"] = np.zeros(tuple(proc.a_buff.shape), value)
    return out


def same_circuit(a, b) -> bool:
    """True when two circuits hold the same populations and projections (names, parameters,
    synapses), i.e. run identically on the chip. Reports, placement and manifest are ignored."""
    if a is b:
        return True
    if a is None or b is None or a.dt_ms != b.dt_ms or list(a.populations) != list(b.populations):
        return False
    if {n: i.size for n, i in a.inputs.items()} != {n: i.size for n, i in b.inputs.items()}:
        return False
    for name, pa in a.populations.items():
        pb = b.populations[name]
        if (pa.size, pa.scale, pa.v_rest) != (pb.size, pb.scale, pb.v_rest):
            return False
        for key in ("du", "dv", "vth", "bias_mant", "bias_exp", "refractory", "u0", "v0"):
            if not np.array_equal(np.broadcast_to(getattr(pa, key), (pa.size,)),
                                  np.broadcast_to(getattr(pb, key), (pb.size,))):
                return False
    if len(a.projections) != len(b.projections):
        return False
    for pa, pb in zip(a.projections, b.projections):
        if (pa.name, pa.pre, pa.post, pa.weight_exp, pa.num_weight_bits, pa.sign_mode) != \
                (pb.name, pb.pre, pb.post, pb.weight_exp, pb.num_weight_bits, pb.sign_mode):
            return False
        n = np.shape(pa.rows)
        if np.shape(pb.rows) != n:
            return False
        for key in ("rows", "cols", "weights", "delays"):
            if not np.array_equal(np.broadcast_to(getattr(pa, key), n), np.broadcast_to(getattr(pb, key), n)):
                return False
    return True
