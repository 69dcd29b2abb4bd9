"""The CPU emulator engine (float mode): runs the point-neuron part of a model graph.

Execution is window by window (NEST's min-delay scheme): a window is at most the smallest
synaptic delay long, so no spike emitted inside it can arrive inside it, and every neuron can
integrate the whole window without talking to any other. Per window:

1. spike sources emit their spikes for the window and these are delivered into the targets'
   ring buffers (they arrive no earlier than this window, which has not been integrated yet);
2. each neuron block runs its numba kernel over the window (``models`` contract);
3. the spikes the neurons emitted are delivered (they arrive in later windows).

Windows are aligned on multiples of the window length and ring buffers hold a whole number of
windows, so the input of a window is one contiguous slice of the ring. Rings are exact
(``ring.py``: spike counts per weight, or 128-bit fixed-point sums): the input a cell receives
does not depend on the order its spikes were added in, so a model split over several engine
instances (or threads) gives bit-identical results. Delivery tables are per target block, CSR
over global source index, split into one sub-table per thread block of target neurons so
that threads never write the same ring entry.
Weights are stored as small integer codes into a per-table lookup table when a table has
few distinct weights (the common case), which keeps memory near 6 bytes per synapse.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numba
import numpy as np

from neurohybrid.engine import Capabilities, Engine
from neurohybrid.errors import ParameterError, SimulationStateError, UnsupportedModelError
from neurohybrid.graph import ModelGraph, PopulationNode
from neurohybrid.rng import stream_key

from . import models as model_registry
from . import snapshot
from neurohybrid.stimuli import currents as current_kinds
from neurohybrid.stimuli import spike_sources as source_kinds
from neurohybrid.graph.synapses import is_plastic

from .dopamine import VolumeTransmitter
from .plastic import PlasticTable, window_bound
from .ring import CountRing, FixedRing
from .tables import GatedTable, _distinct, build_tables
from neurohybrid.modulators import excitable_threshold, gate_value

MAX_WINDOW_TICKS = 64
FLUSH_SECONDS = 0.5  # wall-clock interval between flushes of recorded data to the run store


#: below these sizes a model runs on one thread unless the user asks for more (a parallel
#: region costs 5-25 us on a quiet 2-core machine, about 1 ms on a loaded one, per window and
#: kernel; a small model's window is done in less)
SMALL_CELLS, SMALL_SYNAPSES = 2000, 200_000
SMALL_CELL_STEPS = 20_000


def _small(graph: ModelGraph, window: int) -> bool:
    """Too little work per window for a second thread: few cells and synapses, or windows so
    short (``window`` steps: the minimum delay) that each holds under SMALL_CELL_STEPS
    cell-updates (PD14's 0.1 ms minimum delays make every window one step; waking the worker
    threads 10,000 times per second then costs far more than they save, worst on a loaded machine)."""
    cells = sum(n.size for n in graph.nodes.values() if n.kind == "point")
    synapses = sum(int(e.pre_index.size) for e in graph.edges)
    return (cells < SMALL_CELLS and synapses < SMALL_SYNAPSES) or cells * window < SMALL_CELL_STEPS


@dataclass
class NeuronBlock:
    """State and buffers of one population of neurons of one model."""

    node: PopulationNode
    spec: model_registry.ModelSpec
    offset: int  # first global index
    S: np.ndarray
    P: np.ndarray
    ring: FixedRing  # [n_slots, n_receptors, n] exact sums of the arriving weights
    syn_in: np.ndarray  # [W, n_receptors, n] the window's input as floats, read from the ring
    i_ext: np.ndarray  # [W, n] nA
    spikes: np.ndarray  # [W, n] uint8
    rec_rows: np.ndarray
    rec_cells: np.ndarray
    rec_out: np.ndarray
    rec_vars: list  # [(variable, sampling_ticks, row position in rec_rows, cell positions)]
    gain: np.ndarray | None = None  # per-cell factor on all synaptic input (a "gain" field), None = 1
    counts: CountRing | None = None  # spike counts per weight of a static table with few weights


@dataclass
class SourceBlock:
    node: PopulationNode
    offset: int
    generator: object


class EmulatorEngine(Engine):
    """Numba CPU emulator of point-neuron populations (float numerics, PyNN semantics)."""

    name = "emulator"
    capabilities = Capabilities(
        kinds=("point", "source", "modulator"), numerics="float",
        synapses=("StaticSynapse", "TsodyksMarkramSynapse", "SimpleStochasticSynapse",
                  "StochasticTsodyksMarkramSynapse", "MultiQuantalSynapse", "STDPSynapse", "VogelsSTDPSynapse",
                  "DopamineSTDPSynapse"),
        recordables=("spikes", "v", "gsyn_exc", "gsyn_inh", "w", "u", "weight"),
        field_targets=("current", "threshold", "gain", "plasticity_rate", "dopamine", "gate", "excitability"),
        latency=0, min_input_delay=1, input_lead=1)

    def __init__(self, numerics: str = "float", threads: int | None = None, max_window: int | None = None):
        if numerics != "float":
            raise UnsupportedModelError("EmulatorEngine", "numerics", f"{numerics!r} is not available yet",
                                        "'float'")
        if max_window is not None and (not isinstance(max_window, (int, np.integer)) or max_window < 1):
            raise ParameterError("EmulatorEngine", "max_window", f"{max_window!r}", "a positive number of ticks")
        self.numerics = numerics
        #: longest internal window (ticks): the co-simulation's macro-step, so windows align with it
        self.max_window = MAX_WINDOW_TICKS if max_window is None else min(int(max_window), MAX_WINDOW_TICKS)
        self.requested_threads = threads
        self.threads = threads or min(os.cpu_count() or 1, numba.config.NUMBA_NUM_THREADS)
        self.graph: ModelGraph | None = None
        self.tick = 0

    @staticmethod
    def refusal(node: PopulationNode, graph: ModelGraph, options: dict | None = None) -> str | None:
        """Why this engine cannot run ``node`` (None: it can), for the partition."""
        if node.kind == "source":
            return None if source_kinds.source_class(node.model) else f"the emulator has no {node.model} source"
        if node.kind == "modulator":
            return None if node.model == "VolumeTransmitter" else f"the emulator has no {node.model} modulator"
        if node.kind != "point":
            return f"the point-neuron emulator cannot run a {node.kind} population"
        try:
            model_registry.spec_for(node)
        except KeyError:
            return f"the emulator has no {node.model} model"
        return None

    # --- build -------------------------------------------------------------------------------
    def build(self, graph: ModelGraph, sink) -> None:
        """Allocate state, ring buffers and delivery tables for ``graph``; results go to ``sink``."""
        self.graph, self.sink = graph, sink
        self._vth_mods = {}  # population -> {"threshold": mV shift, "excitability": factor}: both set v_thresh
        self.dt = graph.dt
        delays = [(graph.nodes[e.pre].kind, np.rint(_distinct(e.values["delay"]) / graph.dt).astype(np.int64))
                  for e in graph.edges if e.pre_index.size]
        # Only neurons' spikes bound the window: a source's spikes for a window (kernel-fed
        # mirrors included) are all known, and delivered, before the window is integrated.
        from_neurons = [int(d.min()) for kind, d in delays if kind == "point"]
        self.min_delay = min(from_neurons) if from_neurons else MAX_WINDOW_TICKS
        self.max_delay = max(int(d.max()) for _, d in delays) if delays else 1
        self.window = max(1, min(self.min_delay, self.max_window))
        plastic = window_bound([e for e in graph.edges if is_plastic(e.synapse)], self.dt)
        if plastic is not None:  # plastic synapses pair with postsynaptic spikes of the same window
            self.window = min(self.window, plastic)
        self.n_slots = -(-(self.window + self.max_delay) // self.window) * self.window
        if self.requested_threads is None and _small(graph, self.window):
            self.threads = 1  # waking worker threads for every window costs more than they save
        numba.set_num_threads(self.threads)
        self.blocks: dict[str, NeuronBlock] = {}
        self.sources: dict[str, SourceBlock] = {}
        modulators = []
        offset = 0
        for node in graph.nodes.values():
            if node.kind == "source":
                self.sources[node.name] = SourceBlock(node, offset, self._make_source(node))
            elif node.kind == "modulator":
                modulators.append(node)
                continue
            else:
                self.blocks[node.name] = self._make_block(node, offset)
            offset += node.size
        self.n_global = offset
        offsets = self._offsets()
        self.transmitters = {m.name: VolumeTransmitter(
            m, [e for e in graph.edges if e.post == m.name], offsets, self.dt,
            int(np.asarray(m.parameters.get("deliver_interval", 1)).ravel()[0])) for m in modulators}
        self._gated: set = set()  # edges with a gate field (GatedTable)
        self.tables = build_tables(graph, offsets, self.blocks, self.threads, self.transmitters)
        self.plastic = {t.edge.name: t for t in self.tables if isinstance(t, PlasticTable)}
        self._pending = None  # neuron spikes of the last window, delivered with the next one
        self.configure_recording()
        self._configure_currents()
        self.tick = 0

    def _offsets(self) -> dict[str, int]:
        return {**{n: b.offset for n, b in self.blocks.items()}, **{n: s.offset for n, s in self.sources.items()}}

    def _make_source(self, node: PopulationNode):
        cls = source_kinds.source_class(node.model)
        if cls is None:
            raise UnsupportedModelError(node.name, "celltype", f"the emulator has no {node.model} source",
                                        ", ".join(source_kinds.source_names()))
        key = stream_key(self.graph.seed, node.name, "spike-source")
        return cls(dict(node.parameters), key, self.dt)

    def _make_block(self, node: PopulationNode, offset: int) -> NeuronBlock:
        try:
            spec = model_registry.spec_for(node)
        except KeyError:
            raise UnsupportedModelError(node.name, "celltype", f"the emulator has no {node.model} model",
                                        ", ".join(model_registry.names())) from None
        n, W = node.size, self.window
        S = np.empty((len(spec.state), n))
        P = np.empty((len(spec.params), n))
        block = NeuronBlock(node, spec, offset, S, P,
                            ring=FixedRing(self.n_slots, len(spec.receptors), n),
                            syn_in=np.zeros((W, len(spec.receptors), n)),
                            i_ext=np.zeros((W, n)), spikes=np.zeros((W, n), dtype=np.uint8),
                            rec_rows=np.zeros(0, np.int64), rec_cells=np.zeros(0, np.int64),
                            rec_out=np.zeros((W, 0, 0)), rec_vars=[])
        self._load_parameters(block)
        self._load_initial(block)
        return block

    def _load_parameters(self, block: NeuronBlock) -> None:
        fixed = dict(block.spec.constants)
        if block.spec.keyed:  # the population's stream key, in two exact 32-bit halves
            key = int(stream_key(self.graph.seed, block.node.name, "cell"))
            fixed.update(key_hi=float(key >> 32), key_lo=float(key & 0xFFFFFFFF))
        for row, name in enumerate(block.spec.params):
            block.P[row] = fixed[name] if name in fixed else block.node.parameters[name]

    def _load_initial(self, block: NeuronBlock) -> None:
        spec, node = block.spec, block.node
        for row, name in enumerate(spec.state):
            block.S[row] = spec.initial[name]
        for variable, values in node.initial.items():
            row = spec.recordables.get(variable, variable)
            if row in spec.state:
                block.S[spec.row(row)] = values

    def configure_recording(self) -> None:
        """(Re)read what to record from the graph."""
        W = self.window
        per_node: dict[str, list] = {}
        self.spike_recorded: dict[str, np.ndarray] = {}
        for table in self.plastic.values():
            table.recorded = None
        for rec in self.graph.recordings:
            if rec.node in self.plastic:  # a projection's weights (rec.variable "weight")
                self.plastic[rec.node].record_weights(rec.index, int(round(rec.sampling_interval / self.dt)))
            elif rec.variable == "spikes":
                self.spike_recorded[rec.node] = np.asarray(rec.index, dtype=np.int64)
            else:
                per_node.setdefault(rec.node, []).append(rec)
        for name, block in self.blocks.items():
            recs = per_node.get(name, [])
            cells = np.unique(np.concatenate([r.index for r in recs])) if recs else np.zeros(0, np.int64)
            rows = [block.spec.row(block.spec.recordables[r.variable]) for r in recs]
            block.rec_rows = np.asarray(rows, dtype=np.int64)
            block.rec_cells = cells.astype(np.int64)
            block.rec_out = np.zeros((W, len(rows), cells.size))
            block.rec_vars = [(r.variable, int(round(r.sampling_interval / self.dt)), a,
                               np.searchsorted(cells, r.index)) for a, r in enumerate(recs)]
        self._restrict_sources()

    def _restrict_sources(self) -> None:
        """Sources that can skip cells (Poisson) generate only the cells this engine needs: the
        ones with synapses here, or all when the source is recorded here (a copy of a source
        whose other cells drive another engine's populations)."""
        for name, src in self.sources.items():
            if not hasattr(src.generator, "only"):
                continue
            if name in self.spike_recorded:
                src.generator.only(None)
                continue
            used = np.zeros(src.node.size, bool)
            for e in self.graph.edges:
                if e.pre == name:
                    used[e.pre_index] = True
            src.generator.only(used)

    def _configure_currents(self) -> None:
        self.currents = []
        for block in self.blocks.values():
            block.i_ext[:] = 0.0  # blocks without current sources keep an all-zero i_ext
        for cur in self.graph.currents:
            cls = getattr(current_kinds, cur.kind)
            key = stream_key(self.graph.seed, cur.name, "current")
            self.currents.append((self.blocks[cur.node], np.asarray(cur.index, np.int64), cls(cur.parameters, key, self.dt)))

    # --- changes between runs -------------------------------------------------------------------
    def update_parameters(self, graph: ModelGraph) -> None:
        """Take new parameter values (same structure) from ``graph``."""
        self.graph = graph
        for name, block in self.blocks.items():
            block.node = graph.nodes[name]
            self._load_parameters(block)
        for name, src in self.sources.items():
            src.node = graph.nodes[name]
            src.generator.set_params(dict(src.node.parameters))
        self._configure_currents()

    def reset(self, graph: ModelGraph | None = None) -> None:
        """Back to tick 0: initial state, empty ring buffers, sources restarted."""
        if graph is not None:
            self.update_parameters(graph)
        self._vth_mods = {}
        for block in self.blocks.values():
            self._load_initial(block)
            block.ring.clear()
            if block.counts is not None:
                block.counts.clear()
        for src in self.sources.values():
            src.generator.reset()
        for table in self.tables:
            table.reset()
        for vt in self.transmitters.values():
            vt.reset()
        self._pending = None
        self.tick = 0

    # --- running ------------------------------------------------------------------------------
    def initial_samples(self) -> None:
        """Send the t = 0 sample of every recorded signal (PyNN includes it)."""
        for name, block in self.blocks.items():
            for variable, _, a, cols in block.rec_vars:
                row = block.rec_rows[a]
                self.sink.samples(name, variable, block.S[row, block.rec_cells[cols]][None, :].copy())
        for name, table in self.plastic.items():
            rows = table.initial_sample()
            if rows is not None:
                self.sink.samples(name, "weight", rows)

    def advance(self, t_stop: int) -> None:
        """Integrate until tick ``t_stop`` (exclusive), streaming results into the sink, which is
        flushed at least every ``FLUSH_SECONDS`` of wall-clock time so a killed run keeps its data."""
        last_flush = time.monotonic()
        try:
            while self.tick < t_stop:
                t0 = self.tick
                n = min(self.window - t0 % self.window, t_stop - t0)
                self._run_window(t0, n)
                self.tick = t0 + n
                if time.monotonic() - last_flush > FLUSH_SECONDS:
                    self.sink.flush()
                    last_flush = time.monotonic()
        finally:  # whatever happens (an error, Ctrl-C), what was recorded reaches the file
            self.sink.flush()

    def _run_window(self, t0: int, n: int) -> None:
        lists = [self._pending] if self._pending is not None else []
        self._pending = None
        for src in self.sources.values():
            listed = self._emit_source(src, t0, n)
            if listed is not None:
                lists.append(listed)
        self._deliver(lists)
        self._learn(t0, n)
        self._apply_currents(t0, n)
        emitted = [self._integrate(block, t0, n) for block in self.blocks.values()]
        self._deliver_dopamine(t0 + n)
        # Every block has integrated the window before any of its spikes is delivered. They are
        # delivered with the next window's listed source spikes, in one call: the ring's sums do
        # not depend on the order, and none of them can arrive before the next window.
        ticks = np.concatenate([e[0] for e in emitted]) if emitted else np.zeros(0, np.int64)
        if ticks.size:
            self._pending = (ticks, np.concatenate([e[1] for e in emitted]))

    def _learn(self, t0: int, n: int) -> None:
        """Plastic synapses process the presynaptic spikes due at this window (their weights
        reach the rings before the window reads them) and record their weights."""
        for name, table in self.plastic.items():
            table.process(t0, n, self.n_slots)
            rows = table.samples(t0, n)
            if rows is not None:
                self.sink.samples(name, "weight", rows)

    def _deliver_dopamine(self, end: int) -> None:
        """Volume transmitters due at the end of the window (tick ``end``) bring their synapses
        up to it and restart their event lists (NEST's trigger_update_weight)."""
        for vt in self.transmitters.values():
            if vt.due(end, self.window):
                for table in vt.tables:
                    table.trigger(end, self.n_slots)
                vt.restart(end)

    def settle(self) -> None:
        """Deliver the spikes of the last window into the rings (before they are copied)."""
        if self._pending is not None:
            self._deliver([self._pending])
            self._pending = None

    def _deliver(self, lists: list) -> None:
        """Deliver (emission ticks, global ids) lists, merged in tick order (stable), to every table."""
        lists = [part for part in lists if part[0].size]
        if not lists:
            return
        ticks = np.concatenate([p[0] for p in lists])
        gids = np.concatenate([p[1] for p in lists])
        if len(lists) > 1 or (ticks.size > 1 and np.any(ticks[1:] < ticks[:-1])):
            order = np.argsort(ticks, kind="stable")
            ticks, gids = ticks[order], gids[order]
        mult = np.ones(ticks.size, np.int64)
        for table in self.tables:
            table.deliver(ticks, gids, mult, self.n_slots)
        for vt in self.transmitters.values():
            vt.deliver(ticks, gids, mult)

    def _emit_source(self, src: SourceBlock, t0: int, n: int):
        """Generate a source's spikes for the window and record them; dense counts are delivered
        here, listed spikes are returned as (emission ticks, global ids) for :meth:`_deliver`."""
        if hasattr(src.generator, "counts_matrix"):
            counts = src.generator.counts_matrix(t0, n)  # [n, size], row j: emission tick t0 - 1 + j
            if src.node.name in self.spike_recorded:
                rows, ids = np.nonzero(counts)
                reps = counts[rows, ids].astype(np.int64)
                self._record_spikes(src.node.name, np.repeat(rows + t0 - 1, reps), np.repeat(ids, reps))
            for table in self.tables:
                table.deliver_dense(counts, t0 - 1, src.offset, self.n_slots)
            for vt in self.transmitters.values():
                vt.deliver_dense(counts, t0 - 1, src.offset)
            return None
        ticks, ids = src.generator.emit(t0, n)
        self._record_spikes(src.node.name, ticks, ids)
        return (ticks, ids + src.offset) if ticks.size else None

    def _apply_currents(self, t0: int, n: int) -> None:
        if not self.currents:
            return  # i_ext stays all zero
        for block in {id(b): b for b, _, _ in self.currents}.values():
            block.i_ext[:n] = 0.0
        for block, index, source in self.currents:
            if getattr(source, "independent_per_target", False):
                # as NEST's noise_generator: each target cell gets its own noise stream
                source.add_into(block.i_ext, index, t0, n)
            else:
                block.i_ext[:n, index] += source.values(t0, n)[:, None]

    def _integrate(self, block: NeuronBlock, t0: int, n: int):
        """Run a block's kernel over the window; returns its spikes (emission ticks, global ids)."""
        syn_in, first = block.syn_in[:n], t0 % self.n_slots
        if block.counts is not None:
            block.counts.read(first, n, syn_in)
        if block.ring.in_use:  # written by tables of many weights or with short-term plasticity
            block.ring.read(first, n, syn_in, accumulate=block.counts is not None)
        if block.gain is not None:
            syn_in *= block.gain
        block.spikes[:n] = 0
        block.spec.step(block.S, block.P, syn_in, block.i_ext[:n], self.dt, block.spikes[:n],
                        block.rec_rows, block.rec_cells, block.rec_out[:n])
        rows, cells = np.nonzero(block.spikes[:n])
        ticks, cells = t0 + rows.astype(np.int64), cells.astype(np.int64)
        for table in self.plastic.values():
            if table.block is block:
                table.post_spikes(ticks, cells)
        self._record_spikes(block.node.name, ticks, cells)
        self._record_samples(block, t0, n)
        return ticks, cells + block.offset

    def _record_spikes(self, name: str, ticks: np.ndarray, ids: np.ndarray) -> None:
        self.report_spikes(name, ticks, ids)  # emission ticks (the recorder writes (k + 1) dt)

    def _record_samples(self, block: NeuronBlock, t0: int, n: int) -> None:
        for variable, every, a, cols in block.rec_vars:
            ends = t0 + 1 + np.arange(n)
            rows = np.nonzero(ends % every == 0)[0]
            if rows.size:
                self.sink.samples(block.node.name, variable, block.rec_out[rows, a][:, cols])

    # --- inspection ---------------------------------------------------------------------------
    #: what a field can modulate, and the parameter it shifts (None: the synaptic input gain)
    MODULATION_TARGETS = {"current": "i_offset", "threshold": "v_thresh", "gain": None, "plasticity_rate": None,
                          "excitability": "v_thresh"}

    def prepare_field(self, node: str, modulates: str) -> None:
        """Check that a ``modulates`` field can act on population ``node`` (its cell type has
        the parameter the field shifts)."""
        self._modulated(node, modulates)

    def _modulated(self, node: str, modulates: str):
        """(block, index of the parameter shifted or None for the input gain), or a typed error."""
        super().prepare_field(node, modulates)
        if modulates.startswith("gate:"):
            return self._gate_table(node, modulates[5:]), None
        if (modulates == "dopamine") != (node in self.transmitters):
            raise UnsupportedModelError(node, "modulates", "a 'dopamine' field acts on a VolumeTransmitter, and a "
                                        "VolumeTransmitter takes only a 'dopamine' field",
                                        "modulates='dopamine' on a VolumeTransmitter population")
        if modulates == "dopamine":
            return None, None
        block = self.blocks.get(node)
        if block is None:
            raise UnsupportedModelError(node, "modulates", "not a neuron population of this engine",
                                        ", ".join(self.blocks) or "no neuron populations")
        param = self.MODULATION_TARGETS[modulates]
        if modulates == "plasticity_rate" and not self._plastic_into(node):
            raise UnsupportedModelError(node, "modulates", "no plastic projection targets it",
                                        "a population with incoming STDP projections")
        if param is not None and param not in block.spec.params:
            raise UnsupportedModelError(node, "modulates", f"{block.node.model} has no {param} to shift",
                                        "a cell type with " + param)
        if modulates == "excitability" and "v_rest" not in block.node.parameters:
            raise UnsupportedModelError(node, "modulates", f"{block.node.model} has no v_rest: excitability scales "
                                        "the distance from v_rest to v_thresh", "a cell type with v_rest and v_thresh")
        return block, None if param is None else block.spec.params.index(param)

    def set_modulation(self, node: str, modulates: str, values) -> None:
        """Apply a field to population ``node`` from now on: ``"current"`` adds ``values`` (nA) to
        ``i_offset``; ``"threshold"`` adds them (mV) to ``v_thresh``; ``"gain"`` multiplies every
        synaptic input the cells receive as it arrives (dimensionless); ``"excitability"`` divides
        the distance from v_rest to the (shifted) v_thresh (dimensionless, > 0;
        :func:`neurohybrid.modulators.excitable_threshold`). ``values``: scalar or one per cell.
        Offsets are relative to the model's own parameters, so successive calls do not
        accumulate."""
        block, row = self._modulated(node, modulates)
        if modulates.startswith("gate:"):  # block is the edge's GatedTable
            block.set_gate(gate_value(modulates[5:], values))
            return
        if modulates == "dopamine":  # the concentration itself (NEST's n: 1/ms scale), from now on
            self.transmitters[node].set_field(self.tick, float(np.asarray(values, dtype=float).ravel()[0]))
            return
        v = np.broadcast_to(np.asarray(values, dtype=float), (block.node.size,))
        if modulates == "plasticity_rate":
            for table in self._plastic_into(node):
                table.set_rate(v)
            return
        if row is None:
            block.gain = None if np.all(v == 1.0) else v.copy()
            return
        if modulates in ("threshold", "excitability"):  # both set v_thresh: kept apart, combined
            mods = self._vth_mods.setdefault(node, {"threshold": 0.0, "excitability": 1.0})
            mods[modulates] = v.copy()
            p = block.node.parameters
            block.P[row] = excitable_threshold(node, p.get("v_rest"), p["v_thresh"], mods["threshold"],
                                               mods["excitability"])
            return
        block.P[row] = block.node.parameters[self.MODULATION_TARGETS[modulates]] + v

    def _gate_table(self, node: str, edge: str) -> GatedTable:
        """The GatedTable of static projection ``edge`` into ``node`` (its tables are rebuilt
        with the edge apart the first time, before the run starts)."""
        e = next((e for e in self.graph.edges if e.name == edge), None)
        if e is None or e.post != node:
            raise UnsupportedModelError(node, f"gate:{edge}", f"no projection {edge!r} into {node} on this engine",
                                        ", ".join(x.name for x in self.graph.edges if x.post == node) or "none")
        if e.synapse != "StaticSynapse":
            raise UnsupportedModelError(f"Projection({edge})", "gate", f"a {e.synapse} cannot be gated on the "
                                        "float emulator", "a StaticSynapse projection")
        if edge not in self._gated:
            if self.tick != 0:
                raise SimulationStateError(f"Projection({edge})", "gate", "a gate added after the run started",
                                           "gates declared before the first run")
            self._gated.add(edge)
            for block in self.blocks.values():
                block.counts, block.ring.in_use = None, False
            self.tables = build_tables(self.graph, self._offsets(), self.blocks, self.threads, self.transmitters,
                                       gated=self._gated)
            self.plastic = {t.edge.name: t for t in self.tables if isinstance(t, PlasticTable)}
        return next(t for t in self.tables if isinstance(t, GatedTable) and t.edges[0].name == edge)

    def _plastic_into(self, node: str) -> list:
        return [t for t in self.plastic.values() if t.block.node.name == node]

    def synapse_values(self, edge: str, variable: str = "weight") -> np.ndarray:
        """Current ``variable`` of every synapse of plastic projection edge ``edge``, in the
        edge's order (``"weight"``: PyNN units, nA or µS)."""
        table = self._plastic_table(edge, variable)
        return table.weights()

    def set_synapse_values(self, edge: str, variable: str, values) -> None:
        """Set ``variable`` (``"weight"``) of every synapse of plastic edge ``edge`` (edge order),
        keeping the rest of its plastic state (traces, spike history)."""
        table = self._plastic_table(edge, variable)
        w = np.broadcast_to(np.asarray(values, dtype=float), (table.col.size,))
        table.weight = w[table.synapse_order()].copy()

    def _plastic_table(self, edge: str, variable: str):
        if edge not in self.plastic:
            raise ParameterError(f"Projection({edge})", variable, "not a plastic projection of this engine",
                                 ", ".join(self.plastic) or "no plastic projections")
        if variable != "weight":
            raise ParameterError(f"Projection({edge})", variable, "not a synapse variable the engine changes",
                                 "weight")
        return self.plastic[edge]

    def source_generator(self, node: str):
        """The spike generator of source population ``node`` (e.g. to push spikes into a
        ``SpikeSourceExternal``)."""
        return self.sources[node].generator

    def get_state(self, node: str, variable: str) -> np.ndarray:
        """Current value of state ``variable`` of every cell of ``node`` (PyNN units)."""
        block = self.blocks[node]
        return block.S[block.spec.row(block.spec.recordables.get(variable, variable))].copy()

    def state(self) -> dict:
        """A snapshot of the complete dynamic state at the current tick (``backends/emulator/
        snapshot.py`` lists its keys and units): a flat dict of copies."""
        return snapshot.capture(self)

    def restore(self, state: dict) -> None:
        """Continue from snapshot ``state`` (of this model, taken by this engine type): what
        follows is bit-identical to what followed where it was taken. ParameterError for a
        snapshot of another engine or model or an incomplete one; the engine is then unchanged."""
        snapshot.restore(self, state)

    def close(self) -> None:
        """Release buffers."""
        self.blocks, self.sources, self.tables, self.plastic, self.transmitters = {}, {}, [], {}, {}
