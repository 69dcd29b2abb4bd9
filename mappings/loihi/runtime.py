"""The Loihi circuit runtime shared by the engines that run a quantised circuit (the
fixed-point emulator and Lava): what Lava does to weights (sign modes, clipping and
truncation), how a circuit's populations and inputs are laid out in one index space, the
host-side spike sources and the binary raster they send to the chip, and the recording both
engines do alike (spikes of recorded cells, v back in mV, signals subsampled).

Neither engine imports the other: both import this module.
"""
from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from neurohybrid import snapshot
from neurohybrid.errors import RecordingError, UnsupportedModelError, ParameterError
from neurohybrid.graph import ModelGraph, PopulationNode, RecordingSpec
from neurohybrid.rng import stream_key
from neurohybrid.stimuli import spike_sources as source_kinds

__all__ = ["lava_sign_mode", "lava_effective_weights", "connection_layers", "projection_sign_mode",
           "circuit_layout", "host_input_parameters", "HostInputs", "LoihiOutputs", "graph_for_circuit",
           "RECORDABLE", "FLUSH_SECONDS"]

FLUSH_SECONDS = 0.5  # wall-clock interval between flushes of recorded data to the run store

#: Variables a fixed-point population can record (besides "spikes").
RECORDABLE = ("v",)


# --------------------------------------------------------------------------------------------
# Weights: what Lava's fixed-point Sparse/DelaySparse do to them on the first time step
# (proc/sparse/models.py L82-91 and L339-348), done once here.
# --------------------------------------------------------------------------------------------

def lava_sign_mode(weights: np.ndarray | sp.spmatrix) -> str:
    """Sign mode Lava infers for a weight matrix (weightutils.determine_sign_mode, L36-41).

    For a sparse matrix the implicit zeros take part in min/max, as they do in Lava.
    """
    w_min, w_max = weights.min(), weights.max()
    if w_min >= 0:
        return "excitatory"
    if w_max <= 0:
        return "inhibitory"
    return "mixed"


def lava_effective_weights(values: np.ndarray, sign_mode: str, num_weight_bits: int = 8) -> np.ndarray:
    """The integer weights Lava's fixed-point connections actually use (int64 array).

    ``clip_weights(w, sign_mode, num_bits=8)`` (weightutils L275-295): mixed → [-256, 255],
    excitatory → [0, 255], inhibitory → [-255, 0] (clipped after negation); then
    ``truncate_weights(w, sign_mode, num_weight_bits)`` (L230-247): the
    ``8 - num_weight_bits + is_mixed`` lowest bits are cleared by ``>>`` then ``<<`` —
    an arithmetic shift, so mixed-sign weights round towards -inf (e.g. -3 → -4, 3 → 2) and
    inhibitory ones, shifted while negated, towards 0.
    """
    w = np.asarray(values).astype(np.int32).astype(np.int64)
    mixed = int(sign_mode == "mixed")
    inhibitory = sign_mode == "inhibitory"
    # clip_weights, L277-293
    if inhibitory:
        w = -w
    w = np.clip(w, (-(2 ** 8)) * mixed, 2 ** 8 - 1)
    if inhibitory:
        w = -w
    # truncate_weights, L232-245
    if inhibitory:
        w = -w
    num_truncate_bits = 8 - num_weight_bits + mixed
    w = (w >> num_truncate_bits) << num_truncate_bits
    if inhibitory:
        w = -w
    return w


# --------------------------------------------------------------------------------------------
# Circuit layout
# --------------------------------------------------------------------------------------------

def connection_layers(rows: np.ndarray, cols: np.ndarray) -> list[np.ndarray]:
    """Split synapses so that no (row, col) pair occurs twice in one layer.

    Returns a list of index arrays into ``rows``/``cols``: layer k holds the k-th occurrence of
    every pair (in the order given). One layer (all synapses) when there are no duplicates,
    which is the usual case; each layer becomes one Lava connection process.
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    if rows.size == 0:
        return [np.arange(0, dtype=np.int64)]
    key = rows * (int(cols.max()) + 1) + cols
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.r_[True, sorted_key[1:] != sorted_key[:-1]]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(key.size), 0))
    occurrence = np.empty(key.size, np.int64)
    occurrence[order] = np.arange(key.size) - group_start
    n_layers = int(occurrence.max()) + 1
    if n_layers == 1:
        return [np.arange(key.size, dtype=np.int64)]
    return [np.flatnonzero(occurrence == k) for k in range(n_layers)]


def projection_sign_mode(proj, n_post: int, n_pre: int) -> str:
    """The sign mode Lava uses for ``proj``: its own ``sign_mode`` or, when None, the one Lava
    infers from the (n_post, n_pre) weight matrix (implicit zeros included)."""
    if proj.sign_mode is not None:
        return proj.sign_mode
    w = sp.csr_matrix((np.asarray(proj.weights, dtype=np.int64),
                       (np.asarray(proj.rows, np.int64), np.asarray(proj.cols, np.int64))),
                      shape=(n_post, n_pre))
    return lava_sign_mode(w) if w.nnz or n_post * n_pre else "excitatory"


def circuit_layout(circuit) -> tuple[dict[str, int], dict[str, int], int, int]:
    """(population offsets, input offsets, number of compartments, number of input channels)."""
    pop_off, in_off = {}, {}
    n = 0
    for name, pop in circuit.populations.items():
        pop_off[name] = n
        n += int(pop.size)
    m = 0
    for name, inp in circuit.inputs.items():
        in_off[name] = m
        m += int(inp.size)
    return pop_off, in_off, n, m


# --------------------------------------------------------------------------------------------
# Host inputs
# --------------------------------------------------------------------------------------------

def host_input_parameters(circuit, graph: ModelGraph | None = None) -> tuple[int, dict[str, tuple[str, dict]]]:
    """(seed, {input name: (PyNN source model, parameters)}) of the circuit's host inputs.

    Taken from ``graph`` when given, else from ``circuit.manifest`` (``seed`` and
    ``host_inputs``: what :func:`neurohybrid.mappings.loihi.bundle.host_inputs_manifest` stores,
    so a bundle is runnable without the script that made it).
    """
    if graph is not None:
        return graph.seed, {name: (graph.nodes[name].model, dict(graph.nodes[name].parameters))
                            for name in circuit.inputs}
    manifest = circuit.manifest or {}
    hosts = manifest.get("host_inputs", {})
    missing = [name for name in circuit.inputs if name not in hosts]
    if missing or "seed" not in manifest:
        raise ParameterError("LoihiCircuit", "manifest", f"no host-input description for {missing or 'the seed'}",
                             "a circuit exported by sim.export_loihi() (manifest 'seed' and 'host_inputs')")
    out = {}
    for name in circuit.inputs:
        entry = hosts[name]
        params = {}
        for key, value in entry["parameters"].items():
            if key == "spike_times":
                params[key] = [np.asarray(v, dtype=float) for v in value]
            elif value is None or isinstance(value, str):
                params[key] = value
            else:
                params[key] = np.asarray(value, dtype=float)
        out[name] = (entry["model"], params)
    return int(manifest["seed"]), out


class HostInputs:
    """The host-side spike sources of a circuit and the binary spike raster they send to the chip.

    ``raster(t0, n)`` returns the bool array [n, n_inputs] whose row j holds the channels that
    spike in chip step ``t0 + j`` (what a Lava ``RingBuffer`` sends at ``time_step = t0 + j + 1``)
    and the generated spikes per source, ``{name: (emission ticks, ids)}`` (for recording). Windows
    must follow each other; a later start skips the gap. See the module docstring for the two
    losses of binary input (spikes at t = 0 sent at step 0, multiplicity merged).
    """

    def __init__(self, circuit, dt: float, graph: ModelGraph | None = None):
        seed, specs = host_input_parameters(circuit, graph)
        self.dt = dt
        _, self.offsets, _, self.n_inputs = circuit_layout(circuit)
        self.generators = {}
        for name, (model, params) in specs.items():
            cls = source_kinds.source_class(model)
            if cls is None:
                raise UnsupportedModelError(name, "celltype", f"{model} is not a host spike source",
                                            ", ".join(source_kinds.source_names()))
            self.generators[name] = cls(dict(params), stream_key(seed, name, "spike-source"), dt)
        self.reset()

    def reset(self) -> None:
        """Back to t = 0 (the same spikes follow again)."""
        for gen in self.generators.values():
            gen.reset()
        self.next_grid = 0  # next grid index (spike time / dt) not yet generated
        self._held = {}  # generated spikes to be reported with the next window
        self.merged_spikes = 0

    def set_params(self, name: str, params: dict) -> None:
        """New parameters for source ``name`` (between runs)."""
        self.generators[name].set_params(dict(params))

    def state(self) -> dict:
        """The dynamic state, for engine snapshots (:mod:`neurohybrid.snapshot`): ``next_grid``
        (the next grid index not generated yet, ticks), ``merged_spikes``, and per source
        ``<name>/held/ticks``, ``<name>/held/ids`` (spikes generated but reported with the next
        window: emission ticks, cell indices) and ``<name>/source/...`` (the generator's state)."""
        out = {"next_grid": int(self.next_grid), "merged_spikes": int(self.merged_spikes)}
        for name, gen in self.generators.items():
            snapshot.put(out, f"{name}/held", snapshot.spikes(*self._held.get(name, (None, None))))
            snapshot.put(out, f"{name}/source", gen.state())
        return out

    def restore(self, state: dict) -> None:
        """Back to a :meth:`state` (its layout checked by the engine)."""
        for name, gen in self.generators.items():
            gen.restore(snapshot.take(state, f"{name}/source"))
        self._held = {name: snapshot.spike_arrays(state, f"{name}/held") for name in self.generators}
        self.next_grid, self.merged_spikes = int(state["next_grid"]), int(state["merged_spikes"])

    def raster(self, t0: int, n: int) -> tuple[np.ndarray, dict]:
        """Input raster of chip steps ``[t0, t0 + n)`` and the generated spikes (see the class)."""
        out = np.zeros((n, self.n_inputs), np.bool_)
        generated = {}
        # Steps [t0, t0+n) carry emission ticks [t0, t0+n) = grid indices [t0+1, t0+n+1);
        # grid index 0 (t = 0) is generated with the first window and sent at step 0.
        first = 0 if t0 == 0 and self.next_grid == 0 else max(self.next_grid, t0 + 1)
        last = t0 + n + 1
        for name, gen in self.generators.items():
            ticks, ids = gen.emit(first, last - first)
            # Report the spikes emitted in [t0 - 1, t0 + n - 1), as the float engine does for this
            # window; those of tick t0 + n - 1 (sent in the window's last step) go with the next one.
            held_ticks, held_ids = self._held.get(name, (ticks[:0], ids[:0]))
            now = ticks + 1 < t0 + n
            generated[name] = (np.concatenate([held_ticks, ticks[now]]), np.concatenate([held_ids, ids[now]]))
            self._held[name] = (ticks[~now], ids[~now])
            if ticks.size:
                rows = np.maximum(ticks - t0, 0)
                cols = ids + self.offsets[name]
                out[rows, cols] = True
                if ticks.size > 1:  # sources own disjoint columns: only their own spikes can merge
                    self.merged_spikes += int(ticks.size - np.unique(rows * self.n_inputs + cols).size)
        self.next_grid = last
        return out, generated


class LoihiOutputs:
    """Recording shared by the engines that run Loihi circuits (this one and the Lava engine):
    spikes filtered to the recorded cells, v converted back to mV, signals subsampled; and the
    placement question both answer alike (:meth:`refusal`)."""

    @staticmethod
    def refusal(node, graph: ModelGraph, options: dict | None = None) -> str | None:
        """Why the Loihi path cannot run ``node`` of ``graph`` (None: it can), for the partition."""
        if node.kind == "source":
            return None if source_kinds.source_class(node.model) else f"{node.model} is not a host spike source"
        if node.kind == "modulator":  # its dopamine is computed on the host (third_factor.py)
            return None if node.model == "VolumeTransmitter" else f"the Loihi path has no {node.model} modulator"
        from neurohybrid.mappings.loihi.quantize import refusal
        return refusal(node, graph, (options or {}).get("approximations", ()))

    def source_generator(self, node: str):
        """The host-side spike generator of input ``node`` (e.g. to push spikes into a
        ``SpikeSourceExternal``)."""
        return self.inputs.generators[node]

    def _to_mv(self, node: str, v: np.ndarray) -> np.ndarray:
        pop = self.circuit.populations[node]
        return np.asarray(v, dtype=float) / pop.scale + pop.v_rest

    def _read_recordings(self, cells_of) -> None:
        """Fill ``spike_recorded`` and ``signals`` [(node, variable, every ticks, cells)] from the
        graph; ``cells_of(node, local_index)`` gives the cell columns the engine's v arrays use."""
        self.spike_recorded: dict[str, np.ndarray] = {}
        self.signals: list[tuple[str, str, int, np.ndarray]] = []
        self.weight_signals: list[tuple[str, int, np.ndarray]] = []  # (edge, every ticks, connection indices)
        for rec in self.graph.recordings:
            if rec.variable == "weight" and rec.node in getattr(self, "plastic", {}):
                every = max(int(round(rec.sampling_interval / self.dt)), 1)
                self.weight_signals.append((rec.node, every, np.asarray(rec.index, dtype=np.int64)))
                continue
            if rec.variable == "spikes":
                self.spike_recorded[rec.node] = np.asarray(rec.index, dtype=np.int64)
                continue
            if rec.node not in self.circuit.populations or rec.variable not in RECORDABLE:
                raise RecordingError(rec.node, rec.variable, "cannot be recorded on the Loihi path",
                                     "spikes, and v of neuron populations")
            every = max(int(round(rec.sampling_interval / self.dt)), 1)
            self.signals.append((rec.node, rec.variable, every,
                                 cells_of(rec.node, np.asarray(rec.index, dtype=np.int64))))

    # --- learning (mappings/loihi/learning.py) ---------------------------------------------------
    def _setup_learning(self, graph) -> None:
        """The plastic projections of the circuit (``self.plastic``: edge name -> (index among
        the circuit's learning projections, weight unit in PyNN units per mantissa, the graph
        edge or None)) and the host side of its dopamine (``self.dopamine``)."""
        from .third_factor import DopamineHost
        units = {r["name"]: r["learning"]["weights"]["unit_per_mantissa"]
                 for r in (self.circuit.report or {}).get("projections", ()) if "learning" in r}
        edges = {e.name: e for e in graph.edges} if graph is not None else {}
        self.plastic = {}
        for proj in self.circuit.projections:
            if getattr(proj, "learning", None) is not None:
                self.plastic[proj.name] = (len(self.plastic), units.get(proj.name), edges.get(proj.name), proj)
        self.dopamine = DopamineHost(self.circuit, graph, self.dt)

    def _chunk_limit(self, chunk: int) -> int:
        """Steps one kernel call may run: dopamine from the chip's own neurons is known one
        delay later (third_factor.py)."""
        limit = self.dopamine.max_chunk if self.dopamine.active else None
        return chunk if limit is None else max(1, min(chunk, limit))

    def _third_factor(self, t0: int, n: int, generated: dict) -> dict | None:
        """{population: int64 [n, size]} third factor of the chunk (None without dopamine rules);
        ``generated``: the host sources' spikes of the chunk (HostInputs.raster)."""
        if not self.dopamine.active:
            return None
        for name, (ticks, ids) in generated.items():
            self.dopamine.spikes(name, ticks, ids)
        sizes = {name: pop.size for name, pop in self.circuit.populations.items()}
        return self.dopamine.chunk(t0, n, sizes)

    def _dopamine_field(self, node: str, modulates: str, values=None, check: bool = False) -> bool:
        """A ``"dopamine"`` field on a volume transmitter (True: handled here)."""
        if modulates != "dopamine":
            return False
        if node not in self.dopamine.pending:
            raise UnsupportedModelError(node, "modulates", "a 'dopamine' field acts on a VolumeTransmitter whose "
                                        "dopamine rules run on this engine", "modulates='dopamine' on such a "
                                        "VolumeTransmitter")
        if not check:
            self.dopamine.set_field(node, self.tick, float(np.asarray(values, dtype=float).ravel()[0]))
        return True

    def _edge_values(self, edge: str, mantissas: np.ndarray) -> np.ndarray:
        """PyNN weights of plastic ``edge`` (the graph edge's order) from the dense [n_post,
        n_pre] mantissas of its learning connection."""
        _, unit, e, proj = self.plastic[edge]
        rows = np.asarray(proj.rows, np.int64)
        cols = np.asarray(proj.cols, np.int64)
        return mantissas[rows, cols].astype(float) * unit

    def _edge_mantissas(self, edge: str, values, current: np.ndarray) -> np.ndarray:
        """The dense mantissas of plastic ``edge`` with its synapses set to PyNN weights
        ``values`` (edge order): rounded to the nearest mantissa (even ones for mixed signs)
        and clipped to the sign mode's range."""
        _, unit, e, proj = self.plastic[edge]
        lo, hi = {"mixed": (-256, 254), "excitatory": (0, 255), "inhibitory": (-255, 0)}[proj.sign_mode]
        v = np.broadcast_to(np.asarray(values, dtype=float), np.shape(proj.rows)) / unit
        m = 2 * np.rint(v / 2) if proj.sign_mode == "mixed" else np.rint(v)
        out = np.array(current, dtype=np.int64)
        out[np.asarray(proj.rows, np.int64), np.asarray(proj.cols, np.int64)] = np.clip(m, lo, hi).astype(np.int64)
        return out

    def _plastic_error(self, edge: str, variable: str) -> None:
        if edge not in getattr(self, "plastic", {}):
            raise ParameterError(f"Projection({edge})", variable, "not a plastic projection of this engine",
                                 ", ".join(getattr(self, "plastic", {})) or "no plastic projections")
        if variable != "weight":
            raise ParameterError(f"Projection({edge})", variable, "not a synapse variable of the Loihi path", "weight")

    def _send_weights(self, end: int, read) -> None:
        """Weight samples due at tick ``end`` (``read(edge)``: its PyNN weights now)."""
        for edge, every, index in self.weight_signals:
            if end % every == 0:
                self.sink.samples(edge, "weight", read(edge)[index][None, :])

    def _weight_chunk(self, t0: int, n: int) -> int:
        """``n`` shortened so that the chunk ends at the next weight sample."""
        for _, every, _ in self.weight_signals:
            n = min(n, every - t0 % every)
        return n

    def _advance_in_chunks(self, t_stop: int, chunk: int) -> None:
        """Run ``_run_chunk`` over chunks of at most ``chunk`` steps up to ``t_stop``, flushing the
        sink at least every ``FLUSH_SECONDS`` of wall clock and whatever happens at the end."""
        last_flush = time.monotonic()
        chunk = self._chunk_limit(chunk) if hasattr(self, "dopamine") else chunk
        try:
            while self.tick < t_stop:
                t0 = self.tick
                n = min(chunk, t_stop - t0)
                if getattr(self, "weight_signals", None):
                    n = self._weight_chunk(t0, n)
                self._run_chunk(t0, n)
                self.tick = t0 + n
                if time.monotonic() - last_flush > FLUSH_SECONDS:
                    self.sink.flush()
                    last_flush = time.monotonic()
        finally:  # whatever happens, what was recorded reaches the file
            self.sink.flush()

    def _send_signals(self, t0: int, n: int, v_of) -> None:
        """Send the samples of ticks t0..t0+n-1 that fall on each signal's sampling grid;
        ``v_of(node)`` gives the [n, cells] Loihi v of that chunk."""
        ends = t0 + 1 + np.arange(n)
        for node, variable, every, cells in self.signals:
            rows = np.flatnonzero(ends % every == 0)
            if rows.size:
                self.sink.samples(node, variable, self._to_mv(node, v_of(node)[np.ix_(rows, cells)]))


def graph_for_circuit(circuit) -> ModelGraph:
    """A minimal graph for a circuit run on its own: its nodes (for sizes) and spike recording
    of every population."""
    seed = int((circuit.manifest or {}).get("seed", 0))
    graph = ModelGraph(dt=float(circuit.dt_ms), seed=seed)
    for name, pop in circuit.populations.items():
        graph.nodes[name] = PopulationNode(name, pop.source_model, pop.size, {}, kind="point")
        graph.recordings.append(RecordingSpec(name, "spikes", np.arange(pop.size)))
    for name, inp in circuit.inputs.items():
        graph.nodes[name] = PopulationNode(name, inp.source_model, inp.size, {}, kind="source")
    return graph
