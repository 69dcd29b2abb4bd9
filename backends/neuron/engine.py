"""The NEURON engine: biophysical (multi-compartment) populations of a model graph on NEURON.

It has the interface of the point-neuron engines, so :class:`neurohybrid.adapters.SpikingComponent`
drives it like the others: attributes ``graph``, ``sink``, ``dt`` (the *global* resolution, ms),
``tick`` (global ticks); ``build(graph, sink)``, ``advance(t_stop_tick)``, ``reset(graph=None)``,
``close()``, ``source_generator(node).push(ticks, ids)``, ``initial_samples()``,
``configure_recording()``, ``update_parameters(graph)``, ``get_state(node, variable)``, and
``field_value(node, name)`` for field proxies.

Time
----
NEURON integrates with its own fixed step ``NeuronEngine(dt=0.025)``, which must divide the
graph's resolution ``graph.dt`` (typed error otherwise); ``advance(T)`` runs NEURON to
``T * graph.dt`` (``h.continuerun``; ``ParallelContext.psolve`` when ``threads > 1``). The model
is initialised (``h.finitialize``) by ``build`` and ``reset``, with each cell's membrane
potential set from ``node.initial["v"]`` (default -65 mV) in an ``FInitializeHandler`` before the
mechanisms' INITIAL blocks run -- for one value per population this is exactly
``h.finitialize(v)``.

Which nodes and edges it runs
-----------------------------
* nodes of kind ``"biophysical"``: ``node.cell.build(i)`` for every cell (protocol in
  :mod:`.cells`); other point-neuron nodes are ignored (they run elsewhere);
* edges between biophysical nodes: native ``NetCon`` (spike detector of the source cell ->
  a synapse of the target; weight = edge weight, in µS for conductance synapses; delay = edge
  delay, ms);
* edges from spike-source nodes into biophysical nodes: one ``NetCon(None, synapse)`` per
  connection, held in a CSR table by source neuron. ``SpikeSourceExternal`` nodes (mirrors of
  populations on other engines) get their spikes from ``source_generator(node).push(ticks, ids)``;
  other source models (Poisson, arrays, ...) are generated with the emulator's source classes
  (same streams as the emulator) window by window. A spike of *emission tick* k (recorded at
  ``(k+1) dt``) becomes ``nc.event((k + 1) * dt + delay)`` on every connection of its source
  neuron -- NEURON's own convention: spike time + delay.
  Constraint: spikes must be pushed before ``advance`` covers their delivery time (they are
  handed to NEURON at the start of the next ``advance``); an event time earlier than the engine's
  current time raises :class:`~neurohybrid.errors.PastTimeError` at ``push``.
* synapse choice: a connection onto receptor R of a cell with several synapses of R (restricted
  to ``edge.location`` if given) targets one of them drawn uniformly with a numpy Generator
  seeded from ``stream_key(graph.seed, edge.name, "synapse")`` -- deterministic, independent of
  the engine instance.

Output
------
* spikes of nodes with ``RecordingSpec(node, "spikes", index)``: upward threshold crossings at
  the cell's ``spike_source``, recorded by ``NetCon.record``; after each ``advance`` the new ones
  go to ``sink.spikes(node, ticks, ids)`` with emission tick ``ceil(t / dt - 1e-6) - 1``, i.e.
  a spike at time t in (k dt, (k + 1) dt] has emission tick k (the point engines' convention;
  a crossing detected a hair after a grid point, as NEURON's fixed step reports them, stays on
  that grid point);
* samples of ``RecordingSpec(node, variable, index, sampling_interval)``: ``variable`` as in
  :mod:`.cells` (``"v"``, ``"soma.v"``, ``"dendrite.v"``, ``"soma.na.m"``...), recorded with
  ``Vector.record(ref, sampling_interval)`` (a whole multiple of ``graph.dt``, default
  ``graph.dt``; with ``threads > 1`` every NEURON step is recorded and sub-sampled, because NEURON 9
  drops Dt-recordings of cells on threads other than the first); each ``advance`` sends the samples at ``j * interval`` in ``(t_prev, T]`` as one
  ``sink.samples`` array ``(n_samples, n_cells)``; the t = 0 sample is sent by
  ``initial_samples()`` (as the float emulator). NEURON appends the sample due exactly at the end
  of a run only in the next step; that value (the state at T) is read directly.
* current injections on biophysical nodes (``graph.currents``): ``DCSource`` (IClamp with
  ``del = start``, ``dur = stop - start``) and ``StepCurrentSource`` (IClamp whose ``amp`` is
  played step-wise from the step times), at ``parameters["location"]`` (default ``"soma"``).
* fields, ``field_value(node, name)``: ``"mean_v:<location>"`` -- mean over the cells of v at
  that location (mV); ``"lfp"`` -- mean over the cells of ``v(first dendritic location) -
  v(soma)`` (mV), a crude dipole proxy: the sign and size of the soma-dendrite potential
  difference that drives the axial current, not an extracellular potential.

NEURON is one global simulator per process: building an engine closes the previously built
one (whose ``advance`` then raises SimulationStateError).

Interface notes (deviations from the shared brief)
---------------------------------------------------
* ``build`` calls ``h.finitialize`` (not the first ``advance``), so events pushed before the
  first ``advance`` are valid and ``initial_samples()`` can send the t = 0 values.
* Source nodes other than ``SpikeSourceExternal`` feeding biophysical nodes are supported.
"""
from __future__ import annotations

import gc
import math
import weakref

import numpy as np

from neurohybrid.engine import Capabilities, Engine
from neurohybrid.errors import (ParameterError, PastTimeError, RecordingError, SimulationStateError,
                                UnsupportedModelError)
from neurohybrid.graph import ModelGraph
from neurohybrid.rng import stream_key

from .fields import MechanismField, is_mechanism_target

__all__ = ["NeuronEngine", "EventSource"]

_ACTIVE: list = []  # weakref of the engine currently owning NEURON
_STAMP_EPS = 1e-6  # ticks


def _h():
    from neuron import h
    h.load_file("stdrun.hoc")
    return h


def _broadcast(values, n, dtype=float) -> np.ndarray:
    return np.broadcast_to(np.asarray(values, dtype=dtype), (n,))


class EventSource:
    """Spikes of one source node, delivered to NEURON as NetCon events.

    ``push(ticks, ids)``: emission ticks k and source-neuron indices; every connection c of
    neuron i gets ``nc.event((k + 1) * dt + delay_c)`` at the start of the engine's next advance.
    """

    def __init__(self, engine: "NeuronEngine", node: str, size: int):
        self.engine, self.node, self.size = engine, node, size
        self.netcons: list = []
        self.ptr = np.zeros(size + 1, np.int64)
        self.delay = np.zeros(0)
        self.generator = None  # emulator source class for generated (non-external) sources
        self.reset()

    def __repr__(self):
        return f"NeuronEngine.source_generator({self.node!r})"

    def set_table(self, pre: np.ndarray, netcons: list, delays: np.ndarray) -> None:
        order = np.argsort(pre, kind="stable")
        self.netcons = [netcons[j] for j in order]
        self.delay = np.asarray(delays, float)[order]
        counts = np.bincount(pre, minlength=self.size) if pre.size else np.zeros(self.size, np.int64)
        self.ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def reset(self) -> None:
        self._pending: list[np.ndarray] = []  # arrays of (time, connection) rows
        if self.generator is not None:
            self.generator.reset()

    def push(self, ticks, ids) -> None:
        from neurohybrid.stimuli.spike_sources import pushed_spikes
        t, i = pushed_spikes(self, ticks, ids)
        if not t.size:
            return
        if i.min() < 0 or i.max() >= self.size:
            raise ParameterError(self, "ids", f"index {int(i.max() if i.max() >= self.size else i.min())} "
                                 f"outside the population", f"0 .. {self.size - 1}")
        counts = self.ptr[i + 1] - self.ptr[i]
        total = int(counts.sum())
        if not total:
            return
        starts = np.repeat(self.ptr[i], counts)
        within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        conn = starts + within
        dt = self.engine.dt
        times = np.repeat((t + 1) * dt, counts) + self.delay[conn]
        now = self.engine._now()
        late = times < now - 1e-9 * max(1.0, now)
        if late.any():
            j = int(np.flatnonzero(late)[0])
            raise PastTimeError(self, "ticks", f"a spike of emission tick {int(np.repeat(t, counts)[j])} is due at "
                                f"{times[j]:g} ms, before the engine's time {now:g} ms",
                                "spikes pushed before the engine advances past their delivery time "
                                "(emission tick + 1) * dt + delay")
        self._pending.append(np.column_stack([times, conn.astype(float)]))

    def _schedule(self) -> int:
        if not self._pending:
            return 0
        rows = np.concatenate(self._pending)
        self._pending = []
        ncs = self.netcons
        for tev, c in rows.tolist():
            ncs[int(c)].event(tev)
        return rows.shape[0]


class NeuronEngine(Engine):
    """Biophysical populations on NEURON (fixed step ``dt`` ms, ``threads`` NEURON threads, temperature
    ``celsius`` degrees C, set when the model is built; default NEURON's 6.3)."""

    name = "neuron"
    # a threshold crossing is detected at the start of the step after it: spikes come a tick late;
    # an arriving spike is scheduled as a NetCon event, any remaining delay >= 0 works
    capabilities = Capabilities(kinds=("biophysical", "source"), numerics="float", synapses=("StaticSynapse",),
                                recordables=("spikes", "v"), field_targets=("<mechanism>.<parameter>",),
                                latency=1, min_input_delay=0)

    def __init__(self, dt: float = 0.025, threads: int | None = 1, celsius: float = 6.3):
        try:
            self.celsius = float(celsius)
        except (TypeError, ValueError):
            self.celsius = math.nan
        if not math.isfinite(self.celsius):
            raise ParameterError("NeuronEngine", "celsius", f"{celsius!r}", "a temperature in degrees Celsius")
        try:
            self.neuron_dt = float(dt)
        except (TypeError, ValueError):
            self.neuron_dt = math.nan
        if not (math.isfinite(self.neuron_dt) and self.neuron_dt > 0):
            raise ParameterError("NeuronEngine", "dt", f"{dt!r}", "a positive NEURON time step in ms")
        threads = 1 if threads is None else threads
        if not isinstance(threads, (int, np.integer)) or threads < 1:
            raise ParameterError("NeuronEngine", "threads", f"{threads!r}", "an integer >= 1")
        self.threads = int(threads)
        self.graph: ModelGraph | None = None
        self.sink = None
        self.tick = 0
        self._closed = True

    @staticmethod
    def refusal(node, graph: ModelGraph, options: dict | None = None) -> str | None:
        """Why NEURON cannot run ``node`` (None: it can), for the partition: it runs the
        multi-compartment cells (spike sources only as copies beside them)."""
        if node.kind == "biophysical":
            return None
        return f"NEURON runs multi-compartment cells; {node.model} is a {node.kind} population"

    # --- build -----------------------------------------------------------------------------------
    def build(self, graph: ModelGraph, sink) -> None:
        """Build every biophysical cell, connection, current source and recording of ``graph``."""
        ratio = graph.dt / self.neuron_dt
        if abs(ratio - round(ratio)) > 1e-9 * max(1.0, ratio) or round(ratio) < 1:
            raise ParameterError("NeuronEngine", "dt", f"NEURON dt {self.neuron_dt} ms does not divide the "
                                 f"model resolution {graph.dt} ms", f"{graph.dt} / n ms for an integer n >= 1")
        for other in list(_ACTIVE):
            eng = other()
            if eng is not None and eng is not self:
                eng.close()
        _ACTIVE[:] = [weakref.ref(self)]
        gc.collect()  # cells of models dropped without close() go now, not inside finitialize (see close)
        h = _h()
        self.h = h
        self.graph, self.sink, self.dt = graph, sink, float(graph.dt)
        self.substeps = int(round(ratio))
        h.CVode().active(0)
        # NEURON's temperature is process-global: set it for this model (cell classes may still
        # set their own when built, as many published cells do)
        h.celsius = self.celsius
        h.dt = self.neuron_dt
        h.steps_per_ms = 1.0 / self.neuron_dt
        self.pc = h.ParallelContext()
        self.pc.nthread(self.threads)
        self.cells: dict[str, list] = {}
        for node in graph.nodes.values():
            if node.kind != "biophysical":
                continue
            if node.cell is None:
                raise UnsupportedModelError(node.name, "cell", "a biophysical population without a cell builder",
                                            "a NeuronCellBuilder or MultiCompartmentBuilder")
            self.cells[node.name] = [node.cell.build(i) for i in range(node.size)]
        self._fih = h.FInitializeHandler(0, self._set_initial_v)
        self.sources: dict[str, EventSource] = {}
        self.native: list = []
        self._connect()
        self._closed = False
        self._field_refs: dict = {}
        self._fields: dict = {}  # (node, "<mechanism>.<parameter>") -> MechanismField
        self._configure_currents()
        self.configure_recording()
        self._initialize()

    def _connect(self) -> None:
        graph, h = self.graph, self.h
        tables: dict[str, list] = {}
        for edge in graph.edges:
            post = graph.nodes.get(edge.post)
            if post is None or post.kind != "biophysical":
                continue
            pre = graph.nodes[edge.pre]
            n = edge.pre_index.size
            if not n:
                continue
            if edge.synapse != "StaticSynapse":  # a NetCon would silently make it static
                raise UnsupportedModelError(f"Projection({edge.name})", "synapse_type", f"{edge.synapse} onto "
                                            "multi-compartment cells is not supported on NEURON yet",
                                            "StaticSynapse (plasticity runs on point-neuron engines)")
            w = _broadcast(edge.values["weight"], n)
            d = _broadcast(edge.values.get("delay", 0.0), n)
            if (d < 0).any() or not np.isfinite(d).all():
                raise ParameterError(edge.name, "delay", "contains negative or non-finite delays", "delays >= 0 ms")
            syn = self._choose_synapses(edge)
            if pre.kind == "biophysical":
                pcells = self.cells[pre.name]
                for j in range(n):
                    seg, thr = pcells[int(edge.pre_index[j])].spike_source
                    nc = h.NetCon(seg._ref_v, syn[j], sec=seg.sec)
                    nc.threshold, nc.weight[0], nc.delay = thr, float(w[j]), float(d[j])
                    self.native.append(nc)
            elif pre.kind == "source" or pre.model == "SpikeSourceExternal":
                ncs = []
                for j in range(n):
                    nc = h.NetCon(None, syn[j])
                    nc.weight[0], nc.delay = float(w[j]), float(d[j])
                    ncs.append(nc)
                tables.setdefault(pre.name, []).append((np.asarray(edge.pre_index, np.int64), ncs, d))
            else:
                raise UnsupportedModelError(edge.name, "pre", f"{pre.name!r} is a {pre.kind} population, not "
                                            "on this engine", "biophysical populations or spike sources "
                                            "(mirrors, SpikeSourceExternal, of populations on other engines)")
        for node in graph.nodes.values():
            if node.kind == "source" or node.model == "SpikeSourceExternal":
                src = EventSource(self, node.name, node.size)
                parts = tables.get(node.name, [])
                if parts:
                    src.set_table(np.concatenate([p[0] for p in parts]), [nc for p in parts for nc in p[1]],
                                  np.concatenate([p[2] for p in parts]))
                if node.model != "SpikeSourceExternal" and parts:
                    from neurohybrid.stimuli import spike_sources as source_kinds
                    cls = source_kinds.source_class(node.model)
                    if cls is None:
                        raise UnsupportedModelError(node.name, "celltype", f"no spike source {node.model}",
                                                    ", ".join(source_kinds.source_names()))
                    src.generator = cls(dict(node.parameters), stream_key(graph.seed, node.name, "spike-source"),
                                        self.dt)
                self.sources[node.name] = src

    def _choose_synapses(self, edge) -> list:
        cells = self.cells[edge.post]
        post = np.asarray(edge.post_index, np.int64)
        rng = np.random.default_rng(int(stream_key(self.graph.seed, edge.name, "synapse")))
        u = rng.random(post.size)
        out = [None] * post.size
        lists = {}
        for j, c in enumerate(post.tolist()):
            syns = lists.get(c)
            if syns is None:
                if not 0 <= c < len(cells):
                    raise ParameterError(edge.name, "post_index", f"cell {c} outside {edge.post!r}",
                                         f"0 .. {len(cells) - 1}")
                syns = lists[c] = cells[c].synapses(edge.receptor, edge.location)
                if not syns:
                    raise ParameterError(edge.name, "receptor_type", f"cell {c} of {edge.post!r} has no "
                                         f"{edge.receptor!r} synapse" + (f" at {edge.location!r}" if edge.location
                                                                         else ""), "a receptor placed on the cell")
            out[j] = syns[min(int(u[j] * len(syns)), len(syns) - 1)]
        return out

    def _configure_currents(self) -> None:
        h = self.h
        self.clamps: list = []
        for cur in self.graph.currents:
            if cur.node not in self.cells:
                continue
            p = dict(cur.parameters)
            where = str(p.pop("location", "soma"))
            cells = self.cells[cur.node]
            for i in np.asarray(cur.index, np.int64).tolist():
                seg = cells[i].location(where)
                ic = h.IClamp(seg)
                keep = [ic]
                if cur.kind == "DCSource":
                    start = float(p.get("start", 0.0))
                    stop = float(p.get("stop", 1e12))
                    ic.delay, ic.dur, ic.amp = start, max(stop - start, 0.0), float(p.get("amplitude", 1.0))
                elif cur.kind == "StepCurrentSource":
                    times = np.asarray(getattr(p.get("times", ()), "value", p.get("times", ())), float)
                    amps = np.asarray(getattr(p.get("amplitudes", ()), "value", p.get("amplitudes", ())), float)
                    if times.size != amps.size:
                        raise ParameterError(cur.name, "amplitudes", f"{amps.size} values for {times.size} times",
                                             "one amplitude per step time")
                    ic.delay, ic.dur, ic.amp = 0.0, 1e12, 0.0
                    times = np.rint(times / self.dt) * self.dt  # onto the grid, as PyNN does
                    tv, av = h.Vector(np.r_[0.0, times]), h.Vector(np.r_[0.0, amps])
                    av.play(ic._ref_amp, tv, 0)
                    keep += [tv, av]
                else:
                    raise UnsupportedModelError(cur.name, "kind", f"{cur.kind} on biophysical cells",
                                                "DCSource, StepCurrentSource")
                self.clamps.append(keep)

    def configure_recording(self) -> None:
        """(Re)read what to record from the graph (re-initialises NEURON if at t = 0)."""
        h = self.h
        self.spike_rec: dict[str, list] = {}
        self.sample_rec: list = []
        for rec in self.graph.recordings:
            cells = self.cells.get(rec.node)
            if cells is None:
                continue
            index = np.asarray(rec.index, np.int64)
            if rec.variable == "spikes":
                tvec, ivec = h.Vector(), h.Vector()
                dets = []
                for i in index.tolist():
                    seg, thr = cells[i].spike_source
                    nc = h.NetCon(seg._ref_v, None, sec=seg.sec)
                    nc.threshold = thr
                    nc.record(tvec, ivec, i)
                    dets.append(nc)
                self.spike_rec[rec.node] = [tvec, ivec, dets, 0]
                continue
            interval = rec.sampling_interval or self.dt
            every = interval / self.dt
            if abs(every - round(every)) > 1e-9 * max(1.0, every) or round(every) < 1:
                raise RecordingError(rec.node, "sampling_interval", f"{interval} ms is not a multiple of the "
                                     f"resolution {self.dt} ms", f"n * {self.dt} ms")
            refs, vecs = [], []
            for i in index.tolist():
                cell = cells[i]
                if hasattr(cell, "ref_segment"):
                    ref, seg = cell.ref_segment(rec.variable)
                else:
                    ref, seg = self._ref(cell, rec.variable)
                vec = h.Vector()
                if self.threads > 1:  # NEURON 9 misses Dt-recordings of cells on threads > 0: every step
                    vec.record(ref, sec=seg.sec)
                else:
                    vec.record(ref, float(interval), sec=seg.sec)
                refs.append(ref)
                vecs.append(vec)
            self.sample_rec.append({"node": rec.node, "variable": rec.variable, "interval": float(interval),
                                    "every": int(round(every)), "refs": refs, "vecs": vecs, "sent": 1,
                                    "stride": int(round(every)) * self.substeps if self.threads > 1 else 1})
        if getattr(self, "_initialized", False) and self.tick == 0:
            self._initialize()

    def _ref(self, cell, variable):
        loc, _, var = variable.rpartition(".")
        seg = cell.location(loc) if loc else cell.spike_source[0]
        try:
            return (seg._ref_v if var == "v" else getattr(seg, "_ref_" + var)), seg
        except AttributeError:
            raise RecordingError(cell, "variable", f"{variable!r} cannot be recorded", "'v', '<location>.v'") from None

    # --- initialisation -------------------------------------------------------------------------
    def _set_initial_v(self) -> None:
        for name, cells in self.cells.items():
            v0 = self.graph.nodes[name].initial.get("v")
            v0 = _broadcast(-65.0 if v0 is None else v0, len(cells))
            for cell, v in zip(cells, v0.tolist()):
                if hasattr(cell, "initialize"):
                    cell.initialize(v)
                else:
                    for sec in cell.spike_source[0].sec.wholetree():
                        for seg in sec.allseg():
                            seg.v = v

    def _initialize(self) -> None:
        h = self.h
        for src in self.sources.values():
            src.reset()
        for rec in self.spike_rec.values():
            rec[0].resize(0)
            rec[1].resize(0)
            rec[3] = 0
        for rec in self.sample_rec:
            rec["sent"] = 1
        h.dt = self.neuron_dt
        h.finitialize()
        self.tick = 0
        self._initialized = True

    def _now(self) -> float:
        return self.tick * self.dt

    # --- running --------------------------------------------------------------------------------
    def initial_samples(self) -> None:
        """Send the t = 0 sample of every recorded signal (PyNN includes it)."""
        self._check_open()
        for rec in self.sample_rec:
            row = np.array([[v.x[0] if v.size() else r[0] for v, r in zip(rec["vecs"], rec["refs"])]])
            self.sink.samples(rec["node"], rec["variable"], row)

    def advance(self, t_stop: int) -> None:
        """Run NEURON to ``t_stop * dt`` ms, then send the new spikes and samples to the sink."""
        self._check_open()
        t_stop = int(t_stop)
        if t_stop < self.tick:
            raise PastTimeError("NeuronEngine", "t_stop", f"tick {t_stop} is before the current tick {self.tick}",
                                "a later tick, or reset() first")
        if t_stop == self.tick:
            return
        for src in self.sources.values():
            if src.generator is not None:
                ticks, ids = src.generator.emit(self.tick, t_stop - self.tick)
                src.push(ticks, ids)
            src._schedule()
        h = self.h
        t_end = t_stop * self.dt
        try:
            if self.threads > 1:
                self.pc.psolve(t_end)
            else:
                h.continuerun(t_end)
            self.tick = t_stop
            self._report_spikes()
            self._report_samples()
        finally:
            self.sink.flush()

    def _report_spikes(self) -> None:
        for name, rec in self.spike_rec.items():
            tvec, ivec, _, done = rec
            n = int(tvec.size())
            if n <= done:
                continue
            t = tvec.as_numpy()[done:n].copy()
            ids = ivec.as_numpy()[done:n].astype(np.int64)
            rec[3] = n
            # a crossing at t in (k dt, (k + 1) dt] happened in tick k
            tick = np.ceil(t / self.dt - _STAMP_EPS).astype(np.int64) - 1
            order = np.lexsort((ids, tick))
            self.sink.spikes(name, tick[order], ids[order])

    def _report_samples(self) -> None:
        t_now = self.tick * self.dt
        for rec in self.sample_rec:
            due = int(math.floor(self.tick / rec["every"] + 1e-9)) + 1  # samples at 0 .. (due-1) * interval
            start = rec["sent"]
            if due <= start:
                continue
            cols = []
            k = rec["stride"]
            for vec, ref in zip(rec["vecs"], rec["refs"]):
                a = vec.as_numpy()
                got = a[start * k:min((due - 1) * k + 1, a.size):k]
                if got.size < due - start:  # the sample at t_now is appended by NEURON's next step
                    missing = due - start - got.size
                    if missing > 1 or abs((due - 1) * rec["interval"] - t_now) > 1e-6:
                        raise SimulationStateError("NeuronEngine", rec["variable"],
                                                   f"NEURON recorded {a.size} values, {due} samples expected", None)
                    got = np.r_[got, ref[0]]
                cols.append(got)
            rec["sent"] = due
            self.sink.samples(rec["node"], rec["variable"], np.column_stack(cols))

    # --- changes between runs -------------------------------------------------------------------
    def update_parameters(self, graph: ModelGraph) -> None:
        """Take new current sources and initial values from ``graph`` (same structure); cell
        parameters live in the cell builders and need a rebuild."""
        self.graph = graph
        self._configure_currents()

    def reset(self, graph: ModelGraph | None = None) -> None:
        """Back to t = 0 (``h.finitialize``): queued and pending spikes dropped, recordings
        restarted; the same inputs then give the same results."""
        self._check_open()
        if graph is not None:
            self.update_parameters(graph)
        self._initialize()

    def close(self) -> None:
        """Release every NEURON object of this engine."""
        if self._closed:
            return
        self._closed = True
        self.cells, self.sources, self.native, self.clamps = {}, {}, [], []
        self.spike_rec, self.sample_rec, self._field_refs, self._fields = {}, [], {}, {}
        self._fih = None
        try:
            self.pc.nthread(1)
        except Exception:  # noqa: BLE001 - NEURON may already be shutting down
            pass
        _ACTIVE[:] = [r for r in _ACTIVE if r() is not self]
        # cells are reference cycles (h.Section(cell=self)): delete their sections now, while
        # NEURON's node storage is not frozen; collected later, inside another model's
        # finitialize, they raise "acquire_owning_identifier() called on a frozen structure"
        gc.collect()

    def _check_open(self) -> None:
        if self._closed:
            raise SimulationStateError("NeuronEngine", None, "the engine is closed (another NeuronEngine was built, "
                                       "or close() was called)", "build() again")

    # --- inspection -----------------------------------------------------------------------------
    def source_generator(self, node: str) -> EventSource:
        """The event source of spike-source node ``node`` (``push(ticks, ids)``)."""
        src = getattr(self, "sources", {}).get(node)
        if src is None:
            raise ParameterError("NeuronEngine", "node", f"{node!r} is not a spike source of this engine",
                                 ", ".join(getattr(self, "sources", {})) or "no spike sources")
        return src

    def get_state(self, node: str, variable: str) -> np.ndarray:
        """Current value of ``variable`` (as in recordings) of every cell of ``node``."""
        self._check_open()
        cells = self._cells_of(node)
        return np.array([(c.ref(variable) if hasattr(c, "ref") else self._ref(c, variable)[0])[0] for c in cells])

    def _cells_of(self, node):
        cells = self.cells.get(node)
        if cells is None:
            raise ParameterError("NeuronEngine", "node", f"{node!r} is not a biophysical population of this engine",
                                 ", ".join(self.cells) or "none")
        return cells

    # --- fields ----------------------------------------------------------------------------------
    def prepare_field(self, node: str, modulates: str) -> None:
        """Check that a field can scale mechanism parameter ``modulates`` (``"hh.gnabar"``) of
        population ``node``, and find the segments it acts on (backends/neuron/fields.py)."""
        self._check_open()
        if not is_mechanism_target(modulates):
            raise UnsupportedModelError(node, "modulates", f"NEURON cells cannot apply a {modulates!r} field",
                                        "a mechanism parameter '<mechanism>.<parameter>', e.g. 'hh.gnabar'")
        key = (node, modulates)
        if key not in self._fields:
            self._fields[key] = MechanismField(node, self._cells_of(node), modulates)

    def set_modulation(self, node: str, modulates: str, values) -> None:
        """Scale mechanism parameter ``modulates`` of ``node``'s cells by ``values`` (its value
        at build time times the field) from the current tick on."""
        self.prepare_field(node, modulates)
        self._fields[(node, modulates)].set(values)

    def field_value(self, node: str, name: str) -> float:
        """A field proxy of population ``node``: ``"mean_v:<location>"`` (mV) or ``"lfp"`` (mV;
        mean of v(first dendritic location) - v(soma), a crude dipole proxy)."""
        self._check_open()
        key = (node, name)
        refs = self._field_refs.get(key)
        if refs is None:
            cells = self._cells_of(node)
            if name.startswith("mean_v:"):
                loc = name.split(":", 1)[1]
                refs = ([c.location(loc)._ref_v for c in cells], None)
            elif name == "lfp":
                dend, soma = [], []
                for c in cells:
                    names = c.location_names() if hasattr(c, "location_names") else []
                    where = next((n for n in names if "dend" in n.lower()), None)
                    if where is None:
                        raise ParameterError(f"{node}[{c}]", "field", "'lfp' needs a dendritic location "
                                             "(a location whose name contains 'dend')", ", ".join(names))
                    dend.append(c.location(where)._ref_v)
                    soma.append(c.location("soma")._ref_v)
                refs = (dend, soma)
            else:
                raise ParameterError(node, "field", f"{name!r}", "'mean_v:<location>', 'lfp'")
            self._field_refs[key] = refs
        a, b = refs
        va = np.fromiter((r[0] for r in a), float, len(a))
        if b is None:
            return float(va.mean())
        return float((va - np.fromiter((r[0] for r in b), float, len(b))).mean())
