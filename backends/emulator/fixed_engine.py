"""The CPU emulator engine in fixed-point mode: runs a graph's Loihi circuit bit-exactly.

The point-neuron part of a :class:`~neurohybrid.graph.ModelGraph` is quantised by
:func:`neurohybrid.mappings.loihi.quantize` into a :class:`~neurohybrid.mappings.loihi.circuit.LoihiCircuit`
(Loihi integers) and run on :class:`.fixed.FixedPointNetwork`, the kernel that is bit-exact with
Lava's ``fixed_pt`` models. The engine has the interface of the float
:class:`~neurohybrid.backends.emulator.engine.EmulatorEngine` (``build``, ``advance``, ``reset``,
``update_parameters``, ``configure_recording``, ``initial_samples``, ``get_state``, ``close``,
``.tick``, ``.graph``), so the PyNN front end drives either the same way.

How a circuit maps onto one FixedPointNetwork
---------------------------------------------
All compartments of all populations form ONE network, populations laid out one after the other
in ``circuit.populations`` order (a population's *offset* is the sum of the sizes before it).
All host inputs form the network's external input channels, in ``circuit.inputs`` order. Each
:class:`~neurohybrid.mappings.loihi.circuit.LoihiProjection` is one
:class:`~.fixed.FixedConnection` (one Lava ``Sparse``/``DelaySparse`` process), its
(post, pre) indices shifted by the offsets; its sign mode is the one Lava infers from the
projection's own (n_post, n_pre) matrix. A projection that lists the same (post, pre) pair
more than once is split into as many connections as the largest multiplicity (the k-th
occurrence of a pair goes to the k-th one), so every synapse keeps its own weight and delay
(a Lava build must split it the same way: a scipy matrix would sum the duplicates, delays
included). See :func:`connection_layers`.

Time
----
One Loihi step is one tick of ``graph.dt``: step ``k`` (0-based; Lava ``time_step = k + 1``)
integrates tick ``k``. As in the float engine a neuron that fires in step ``k`` has emission
tick ``k`` (recorded at ``(k + 1) dt``: the recorder's convention), and a signal sampled after
step ``k`` has time ``(k + 1) dt``; the sample at
``t = 0`` is the initial state.

Host spike sources are the float engine's own generators (``neurohybrid/stimuli/spike_sources.py``),
keyed exactly as there (``stream_key(graph.seed, node name, "spike-source")``), so a seed gives
the same input spikes on both engines. A source spike with grid time ``s = j dt`` has emission
tick ``j - 1`` (the sources' convention) and is sent into the chip at step ``j - 1``: it travels
through a projection of latency ``D`` steps and enters ``u`` at step ``j - 1 + D``, exactly as a
spike of a chip neuron fired in step ``j - 1``. Two losses, both of Loihi's binary spike input,
and both applied identically by the Lava engine's input raster (:class:`HostInputs`):

- a spike at ``t = 0`` (emission tick -1, before the chip's first step) is sent at step 0;
- several spikes of one source cell in one tick (Poisson multiplicity) are sent as one. The
  number of such merged spikes is counted in ``HostInputs.merged_spikes``.

Recorded source spikes are the generated ones (with multiplicity, at their own times), as the
float engine records them.

Units: everything crossing the engine boundary is in PyNN units (ms, mV); the membrane
potential is converted back from Loihi's ``v`` with the population's affine map,
``v_mV = v_loihi / scale + v_rest``.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from neurohybrid import snapshot
from neurohybrid.engine import Capabilities, Engine
from neurohybrid.errors import ParameterError, RecordingError, UnsupportedModelError
from neurohybrid.graph import ModelGraph
from neurohybrid.mappings.loihi.modulation import FIELD_TARGETS, CircuitModulation
from neurohybrid.mappings.loihi.runtime import (RECORDABLE, HostInputs, LoihiOutputs, circuit_layout,
                                                connection_layers, graph_for_circuit, projection_sign_mode)

from .fixed import FixedConnection, FixedPointNetwork
from .fixed_learning import PlasticSpec, ThirdFactorTraces

MAX_CHUNK_STEPS = 1000  # steps per kernel call (bounds the per-call u/v record arrays)
MAX_RECORD_VALUES = 4_000_000  # u + v values per kernel call when v is recorded


# --------------------------------------------------------------------------------------------
# Circuit -> FixedPointNetwork
# --------------------------------------------------------------------------------------------

def build_network(circuit) -> FixedPointNetwork:
    """One :class:`FixedPointNetwork` holding every compartment and synapse of ``circuit``."""
    pop_off, in_off, n, n_inputs = circuit_layout(circuit)
    pops = list(circuit.populations.values())

    def cat(field, dtype=np.int64):
        if not pops:
            return np.zeros(0, dtype)
        return np.concatenate([np.broadcast_to(np.asarray(getattr(p, field)), (p.size,)) for p in pops]).astype(dtype)

    connections, plastic = [], []
    for proj in circuit.projections:
        if proj.post not in circuit.populations:
            raise ParameterError(f"projection {proj.name!r}", "post", f"{proj.post!r} is not a population of the circuit",
                                 ", ".join(circuit.populations))
        n_post = circuit.populations[proj.post].size
        if proj.pre in circuit.populations:
            source, n_pre, col0 = "network", circuit.populations[proj.pre].size, pop_off[proj.pre]
            width = n
        elif proj.pre in circuit.inputs:
            source, n_pre, col0 = "input", circuit.inputs[proj.pre].size, in_off[proj.pre]
            width = n_inputs
        else:
            raise ParameterError(f"projection {proj.name!r}", "pre", f"{proj.pre!r} is neither a population nor an input",
                                 ", ".join([*circuit.populations, *circuit.inputs]))
        mode = projection_sign_mode(proj, n_post, n_pre)
        if getattr(proj, "learning", None) is not None:
            # one Lava LearningDense: a dense block, latency 1 (fixed_learning.py)
            from neurohybrid.mappings.loihi.learning_rules import plastic_block
            w, t1, t2 = plastic_block(proj, n_post, n_pre)
            plastic.append(PlasticSpec(w, proj.learning, mode, int(proj.num_weight_bits), int(proj.weight_exp),
                                       t1, t2, source=0 if source == "network" else 1, pre0=col0,
                                       post0=pop_off[proj.post], name=proj.name))
            continue
        rows = np.asarray(proj.rows, np.int64)
        cols = np.asarray(proj.cols, np.int64)
        weights = np.asarray(proj.weights, np.int64)
        delays = np.broadcast_to(np.asarray(proj.delays, np.int64), rows.shape)
        for layer in connection_layers(rows, cols):
            r = rows[layer] + pop_off[proj.post]
            c = cols[layer] + col0
            w = sp.csr_matrix((weights[layer], (r, c)), shape=(n, width))
            d = delays[layer]
            if d.size and np.all(d == d[0]):
                dly = int(d[0])
            else:
                dly = sp.csr_matrix((d, (r, c)), shape=(n, width))
            connections.append(FixedConnection(w, dly, int(proj.weight_exp), int(proj.num_weight_bits), mode, source))
    return FixedPointNetwork(n, du=cat("du"), dv=cat("dv"), vth=cat("vth"), bias_mant=cat("bias_mant"),
                             bias_exp=cat("bias_exp"), refractory_period=cat("refractory"),
                             u0=cat("u0"), v0=cat("v0"), connections=connections, n_inputs=n_inputs,
                             plastic=plastic, third_factor=third_factor_traces(circuit))


def third_factor_traces(circuit) -> ThirdFactorTraces | None:
    """The neurons of ``circuit`` that keep 3-factor traces (populations with ``third_factor``),
    as one :class:`ThirdFactorTraces` over the whole network (None when there are none)."""
    pops = list(circuit.populations.values())
    if not any(getattr(p, "third_factor", None) for p in pops):
        return None
    n = sum(p.size for p in pops)
    mask = np.zeros(n, bool)
    arrays = {k: np.zeros((3, n), np.int64) for k in ("decay", "impulse", "reward", "frac_bits")}
    off = 0
    for p in pops:
        tf = getattr(p, "third_factor", None)
        if tf:
            mask[off:off + p.size] = True
            for k in arrays:
                arrays[k][:, off:off + p.size] = np.asarray(tf.get(k, (0, 0, 0)), np.int64).reshape(3, 1)
        off += p.size
    return ThirdFactorTraces(mask, arrays["decay"], arrays["impulse"], arrays["reward"], arrays["frac_bits"])


class FixedEmulatorEngine(LoihiOutputs, Engine):
    """Numba CPU emulator of a graph's Loihi circuit, bit-exact with Lava ``fixed_pt``.

    ``approximations``: names of the approximations :func:`~neurohybrid.mappings.loihi.quantize`
    may make (e.g. ``"merge_synaptic_time_constants"``). ``threads`` is accepted for interface
    compatibility (the fixed-point kernel is sequential: its results must not depend on order).
    """

    name = "emulator-fixed"
    capabilities = Capabilities(kinds=("point", "source", "modulator"), cell_types=("IF_curr_exp", "IF_curr_delta"),
                                numerics="fixed", recordables=("spikes", "v", "weight"),
                                field_targets=FIELD_TARGETS + ("dopamine", "gate"), latency=0, min_input_delay=1)

    def __init__(self, numerics: str = "fixed", threads: int | None = None, approximations=()):
        if numerics != "fixed":
            raise UnsupportedModelError("FixedEmulatorEngine", "numerics", f"{numerics!r}", "'fixed'")
        self.numerics = numerics
        self.threads = threads
        self.approximations = tuple(approximations or ())
        self.graph: ModelGraph | None = None
        self.circuit = None
        self.net: FixedPointNetwork | None = None
        self.modulation: CircuitModulation | None = None  # fields acting on the circuit
        self.tick = 0

    # --- build -------------------------------------------------------------------------------
    def quantize(self, graph: ModelGraph):
        """The graph's Loihi circuit (``quantize`` of neurohybrid.mappings.loihi)."""
        from neurohybrid.mappings.loihi import quantize
        return quantize(graph, approximations=self.approximations, dt=graph.dt)

    def build(self, graph: ModelGraph, sink) -> None:
        """Quantise ``graph`` and allocate the fixed-point network; results go to ``sink``.

        Raises what ``quantize`` raises for a model it cannot map (UnsupportedModelError).
        """
        circuit = self.quantize(graph)
        self.build_circuit(circuit, sink, graph)

    def build_circuit(self, circuit, sink, graph: ModelGraph | None = None) -> None:
        """Run ``circuit`` directly (e.g. one loaded from a bundle). Without ``graph`` the host
        inputs and what to record come from the circuit: its manifest's ``host_inputs``, and
        the spikes of every population (set ``self.graph`` recordings to change that)."""
        host_graph = graph  # None: the host inputs are described in the circuit's manifest
        if graph is None:
            graph = graph_for_circuit(circuit)
        # current sources are the quantiser's business (a constant DCSource becomes part of the
        # bias, anything else is refused there)
        self.graph, self.sink, self.circuit = graph, sink, circuit
        self.dt = float(circuit.dt_ms if circuit.dt_ms else graph.dt)
        self.offsets, self.input_offsets, self.n, self.n_inputs = circuit_layout(circuit)
        self.net = build_network(circuit)
        self.modulation = CircuitModulation(circuit, graph)
        self.inputs = HostInputs(circuit, self.dt, host_graph)
        self._setup_learning(host_graph)
        self.configure_recording()
        self.tick = 0

    def configure_recording(self) -> None:
        """(Re)read what to record from the graph (signal cells as indices into the whole network)."""
        self._read_recordings(lambda node, index: index + self.offsets[node])

    # --- changes between runs -------------------------------------------------------------------
    def update_parameters(self, graph: ModelGraph) -> None:
        """Take new parameter values (same structure) from ``graph``: re-quantise, keep the state."""
        circuit = self.quantize(graph)
        self.graph, self.circuit = graph, circuit
        self._rebase_modulation()
        self._swap_network(self.modulation.circuit)
        for name in circuit.inputs:
            self.inputs.set_params(name, dict(graph.nodes[name].parameters))

    def reset(self, graph: ModelGraph | None = None) -> None:
        """Back to tick 0: initial state, empty synaptic buffers, sources restarted."""
        if graph is not None:
            self.graph, self.circuit = graph, self.quantize(graph)
            self._rebase_modulation()
            self.net = build_network(self.modulation.circuit)
            self._setup_learning(graph)
            for name in self.circuit.inputs:
                self.inputs.set_params(name, dict(graph.nodes[name].parameters))
        self.net.reset()
        self.inputs.reset()
        self.dopamine.reset()
        self.tick = 0

    def _swap_network(self, circuit) -> None:
        """Run ``circuit`` (same populations and sizes) from now on, keeping u, v, refractory
        state and the synaptic input already on its way."""
        state = self.net.state()
        old_slots = self.net.ring.shape[0]
        self.net = build_network(circuit)
        self.net.u, self.net.v, self.net.ref_end = state["u"], state["v"], state["ref_end"]
        self.net.time_step = state["time_step"]
        if self.net.plastic.n and "neuron_y" in state:  # learned weights, tags and traces go on
            self.net.restore({**self.net.state(), **{k: v for k, v in state.items()
                                                     if k.startswith(("plastic/", "neuron_y"))}})
        self.net.ring[:] = _remap_ring(state["ring"], old_slots, self.net.ring.shape[0], self.tick)

    def _rebase_modulation(self) -> None:
        """The fields in force act on the newly quantised circuit too."""
        old = self.modulation
        self.modulation = CircuitModulation(self.circuit, self.graph)
        for (node, modulates), values in (old.active.items() if old is not None else ()):
            if node in self.circuit.populations:
                self.modulation.set(node, modulates, values)

    # --- fields -------------------------------------------------------------------------------
    def prepare_field(self, node: str, modulates: str) -> None:
        """Check that a ``modulates`` field can act on population ``node`` (module
        :mod:`neurohybrid.mappings.loihi.modulation`; ``"dopamine"`` on a volume transmitter:
        :mod:`neurohybrid.mappings.loihi.third_factor`)."""
        super().prepare_field(node, modulates)
        if not self._dopamine_field(node, modulates, check=True):
            self.modulation.check(node, modulates)

    def set_modulation(self, node: str, modulates: str, values) -> None:
        """Apply a field from the current tick on, quantised to Loihi registers now
        (:mod:`neurohybrid.mappings.loihi.modulation`: threshold and current change the vth and
        bias registers; gain rescales the weight mantissas onto the cells)."""
        if self._dopamine_field(node, modulates, values):
            return
        changed = self.modulation.set(node, modulates, values)
        run = self.modulation.circuit
        if changed is None:
            return
        if changed == "weights":
            self._swap_network(run)
            return
        pop, off = run.populations[node], self.offsets[node]
        self.net.set_neuron_parameters(slice(off, off + pop.size), vth=pop.vth, bias_mant=pop.bias_mant,
                                       bias_exp=pop.bias_exp)

    def modulation_report(self) -> dict:
        """The quantisation of every field applied so far (CircuitModulation.report)."""
        return self.modulation.report() if self.modulation is not None else {}

    def carry_state(self, old) -> None:
        """After a structural rebuild: keep u, v, refractory state and in-flight synaptic input
        of every population that ``old`` (a FixedEmulatorEngine) also had, with the same size."""
        if not isinstance(old, FixedEmulatorEngine) or old.net is None:
            return
        slots_new, slots_old = self.net.ring.shape[0], old.net.ring.shape[0]
        for name, pop in self.circuit.populations.items():
            prev = old.circuit.populations.get(name)
            if prev is None or prev.size != pop.size:
                continue
            a, b = self.offsets[name], old.offsets[name]
            sl_new, sl_old = slice(a, a + pop.size), slice(b, b + pop.size)
            self.net.u[sl_new] = old.net.u[sl_old]
            self.net.v[sl_new] = old.net.v[sl_old]
            self.net.ref_end[sl_new] = old.net.ref_end[sl_old]
            self.net.ring[:, sl_new] = _remap_ring(old.net.ring[:, sl_old], slots_old, slots_new, old.tick)
        self.net.time_step = old.net.time_step
        self.tick = old.tick
        # host sources continue from the current tick (they skip ahead by themselves); spikes
        # generated but not yet reported by the old engine are reported by this one
        self.inputs._held = {k: v for k, v in old.inputs._held.items() if k in self.inputs.generators}
        for (node, modulates), values in (old.modulation.active.items() if old.modulation else ()):
            pop = self.circuit.populations.get(node)
            if pop is not None and pop.size == values.size:  # the fields in force stay in force
                self.set_modulation(node, modulates, values)

    # --- running ------------------------------------------------------------------------------
    def initial_samples(self) -> None:
        """Send the t = 0 sample of every recorded signal (PyNN includes it)."""
        for node, variable, _, cells in self.signals:
            self.sink.samples(node, variable, self._to_mv(node, self.net.v[cells][None, :]))
        self._send_weights(0, lambda edge: self.synapse_values(edge))

    def advance(self, t_stop: int) -> None:
        """Run chip steps until tick ``t_stop`` (exclusive), streaming results into the sink,
        which is flushed at least every ``FLUSH_SECONDS`` (mappings.loihi.runtime) of wall-clock time."""
        chunk = MAX_CHUNK_STEPS
        if self.signals:
            chunk = max(1, min(chunk, MAX_RECORD_VALUES // max(2 * self.n, 1)))
        self._advance_in_chunks(t_stop, chunk)

    def _run_chunk(self, t0: int, n: int) -> None:
        raster, generated = self.inputs.raster(t0, n)
        for name, (ticks, ids) in generated.items():
            self.report_spikes(name, ticks, ids)
        third = self._third_factor(t0, n, generated)
        r3 = None
        if third:
            r3 = np.zeros((n, self.n), np.int64)
            for name, values in third.items():
                r3[:, self.offsets[name]:self.offsets[name] + values.shape[1]] = values
        record = self.net.run(n, raster, record_uv=bool(self.signals), third_factor_input=r3)
        if self.dopamine.active:  # the chip's spikes that reach a volume transmitter
            rows, cols = np.nonzero(record.spikes)
            for name, off in self.offsets.items():
                size = self.circuit.populations[name].size
                mine = (cols >= off) & (cols < off + size)
                if mine.any():
                    self.dopamine.spikes(name, t0 + rows[mine].astype(np.int64), (cols[mine] - off).astype(np.int64))
        self._send_weights(t0 + n, lambda edge: self.synapse_values(edge))
        if self.spike_recorded:
            # one scan of the contiguous raster (a strided scan per population cost more than the kernel)
            rows, cols = np.nonzero(record.spikes)
            for name, off in self.offsets.items():
                if name in self.spike_recorded:
                    size = self.circuit.populations[name].size
                    mine = (cols >= off) & (cols < off + size)
                    # a neuron that fires in step k has emission tick k, as in the float engine
                    self.report_spikes(name, t0 + rows[mine].astype(np.int64), (cols[mine] - off).astype(np.int64))
        self._send_signals(t0, n, lambda node: record.v)

    # --- inspection ---------------------------------------------------------------------------
    def get_state(self, node: str, variable: str) -> np.ndarray:
        """Current value of ``variable`` of every cell of ``node`` in PyNN units ("v", mV)."""
        if node not in self.circuit.populations or variable not in RECORDABLE:
            raise RecordingError(node, variable, "has no state on the Loihi fixed-point path",
                                 "v of neuron populations")
        off = self.offsets[node]
        return self._to_mv(node, self.net.v[off:off + self.circuit.populations[node].size])

    def synapse_values(self, edge: str, variable: str = "weight") -> np.ndarray:
        """Current ``variable`` (``"weight"``, PyNN units: nA or mV) of every synapse of plastic
        edge ``edge`` in the edge's order: the learning connection's mantissas times its unit."""
        self._plastic_error(edge, variable)
        return self._edge_values(edge, self.net.plastic.read(self.plastic[edge][0])["weights"])

    def set_synapse_values(self, edge: str, variable: str, values) -> None:
        """Set the weights of plastic edge ``edge`` (edge order, PyNN units), quantised to its
        mantissas; traces and tags are kept."""
        self._plastic_error(edge, variable)
        c = self.plastic[edge][0]
        dense = self._edge_mantissas(edge, values, self.net.plastic.read(c)["weights"])
        P, sl = self.net.plastic.arrays, self.net.plastic._slice(c)
        P.w[sl] = dense.T.ravel()

    def loihi_state(self, node: str) -> dict[str, np.ndarray]:
        """Raw Loihi state of population ``node``: ``u``, ``v`` (int, Loihi units)."""
        off, size = self.offsets[node], self.circuit.populations[node].size
        return {"u": self.net.u[off:off + size].copy(), "v": self.net.v[off:off + size].copy()}

    # --- snapshots ------------------------------------------------------------------------------
    def state(self) -> dict:
        """A snapshot of the complete dynamic state at the current tick (:mod:`neurohybrid.snapshot`
        format, copies): the header, ``approximations`` (the quantiser's, comma-separated: they
        define the circuit), the chip state in Loihi integers (``net/u``, ``net/v`` int64;
        ``net/ref_end``: the Lava time step up to which each v is held; ``net/ring``: int64
        ``[max_delay + 1, n]`` activations on their way, slot = absolute step mod length;
        ``net/time_step``: steps done), the host inputs (``inputs/...``: HostInputs.state) and
        the fields in force (``fields/...``: CircuitModulation.state, in PyNN units)."""
        snapshot.require_built(self)
        out = snapshot.header(self)
        out["approximations"] = ",".join(self.approximations)
        net = self.net.state()  # copies
        for key in ("u", "v", "ref_end", "ring"):
            out[f"net/{key}"] = net[key]
        out["net/time_step"] = int(net["time_step"])
        for key, value in net.items():  # learning: weights, tags, traces, generators
            if key.startswith(("plastic/", "neuron_y")):
                out[f"net/{key}"] = value
        if self.dopamine.active:
            snapshot.put(out, "dopamine", self.dopamine.state())
        snapshot.put(out, "inputs", self.inputs.state())
        snapshot.put(out, "fields", self.modulation.state())
        return out

    def restore(self, state: dict) -> None:
        """Continue from snapshot ``state`` (this model, this engine type, same approximations):
        what follows is bit-identical to what followed where it was taken. ParameterError for
        another engine's or model's snapshot or an incomplete one; the engine is then unchanged."""
        snapshot.require_built(self, "restore")
        template = self.state()
        snapshot.check(self, state, template, same=("approximations",),
                       free=("net/ring",) + tuple(k for k in template if k.startswith("dopamine/pending/")))
        modulation = CircuitModulation(self.circuit, self.graph)
        try:
            modulation.restore(snapshot.take(state, "fields"))
        except ParameterError as exc:
            raise snapshot.error(self, f"its fields cannot be applied ({exc})") from None
        same = modulation.active.keys() == self.modulation.active.keys() and all(
            np.array_equal(v, self.modulation.active[k]) for k, v in modulation.active.items())
        net = self.net if same else build_network(modulation.circuit)  # the network those fields make
        if np.shape(state["net/ring"]) != net.ring.shape:
            raise snapshot.error(self, f"'net/ring' has shape {np.shape(state['net/ring'])}", f"shape {net.ring.shape}")
        net.restore({key: np.asarray(state[f"net/{key}"], dtype=np.int64) for key in ("u", "v", "ref_end", "ring")}
                    | {"time_step": state["net/time_step"]}
                    | {k[len("net/"):]: np.asarray(v) for k, v in state.items()
                       if k.startswith(("net/plastic/", "net/neuron_y"))})
        if self.dopamine.active:
            self.dopamine.restore(snapshot.take(state, "dopamine"))
        self.net, self.modulation = net, modulation
        self.inputs.restore(snapshot.take(state, "inputs"))
        self.tick = int(state["tick"])

    def close(self) -> None:
        """Release buffers."""
        self.net = None


def _remap_ring(ring: np.ndarray, old_slots: int, new_slots: int, tick: int) -> np.ndarray:
    """Re-index a synaptic ring buffer (slot = absolute step mod n_slots) to ``new_slots`` slots,
    keeping the input of steps ``tick .. tick + min(old, new) - 1``."""
    if old_slots == new_slots:
        return ring.copy()
    out = np.zeros((new_slots,) + ring.shape[1:], ring.dtype)
    for j in range(min(old_slots, new_slots)):
        out[(tick + j) % new_slots] = ring[(tick + j) % old_slots]
    return out


class _ListSink:
    """Collects what an engine sends (spikes per node as (emission ticks, ids); samples per
    (node, variable))."""

    def __init__(self):
        self.spike_parts: dict[str, list] = {}
        self.sample_parts: dict[tuple, list] = {}

    def spikes(self, node, ticks, ids):
        self.spike_parts.setdefault(node, []).append((np.asarray(ticks), np.asarray(ids)))

    def samples(self, node, variable, values):
        self.sample_parts.setdefault((node, variable), []).append(np.asarray(values))

    def flush(self):
        pass

    def spike_arrays(self, node) -> tuple[np.ndarray, np.ndarray]:
        parts = self.spike_parts.get(node, [])
        if not parts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        ticks = np.concatenate([p[0] for p in parts]).astype(np.int64)
        ids = np.concatenate([p[1] for p in parts]).astype(np.int64)
        order = np.lexsort((ids, ticks))
        return ticks[order], ids[order]


def run_circuit(circuit, n_steps: int, graph: ModelGraph | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Run ``circuit`` alone for ``n_steps`` chip steps on the fixed-point emulator.

    Host inputs come from ``graph`` or from the circuit's manifest (a loaded bundle). Returns
    ``{population: (ticks, ids)}``, spikes sorted by tick then id (tick k: fired in step k).
    """
    engine = FixedEmulatorEngine()
    sink = _ListSink()
    engine.build_circuit(circuit, sink, graph)
    engine.advance(int(n_steps))
    return {name: sink.spike_arrays(name) for name in circuit.populations}
