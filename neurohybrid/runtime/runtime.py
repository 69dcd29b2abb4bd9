"""The runtime: model graph -> partition -> engines -> co-simulation kernel -> run store.

A :class:`Runtime` runs a :class:`~neurohybrid.graph.ModelGraph` (given, or produced on demand
by a front end through :meth:`Runtime.model`): it places every population on an engine
(:mod:`neurohybrid.partition`), builds one engine per part, drives them (straight, or through
the hybrid co-simulation of :mod:`.cosim` when the model has several engines, a scaffold,
fields, host modules or pacing) and streams what they record into the run's HDF5 store. It
knows nothing of any front end.

A front end marks what changed between runs (``mark_dirty``); before the next run the runtime
brings the engines up to date as cheaply as the change allows: new parameter values are copied
in place, a structural change (new population or projection) rebuilds the engine.
"""
from __future__ import annotations

import dataclasses
import os
import platform
import tempfile
import time

import numpy as np

from .. import __version__
from ..engines import engine_class
from ..errors import ParameterError, RecordingError, UnsupportedModelError
from ..graph import ModelGraph, RecordingSpec
from ..partition import NEURON, engine_of, partition, place
from ..recording import RunStore, open_run
from ..adapters import _whole_ticks
from .engine_choice import resolve_engine
from .recorder import Recorder
from .seams import spike_reads


class Runtime:
    """Owns the engines and the run store of one model.

    Every population is placed on an engine instance (:mod:`neurohybrid.partition`): the
    runtime's point engine (``primary``, from ``backend``/``numerics``, see
    :mod:`.engine_choice`) unless it cannot run the population or the population names another
    one; NEURON for multi-compartment cells (``neuron``: its ``dt`` in ms and ``celsius``).
    ``engines`` holds one built point engine per instance in use. ``graph``: the model (or
    override :meth:`model`); ``dt`` (ms) and ``seed`` default to the graph's. ``path``: the
    HDF5 run store (default a temporary file); ``pacing``: real-time pacing of the
    co-simulation (``{"factor", "overrun", "tolerance_ms"}``, see :mod:`neurohybrid.realtime`).
    """

    def __init__(self, graph: ModelGraph | None = None, backend: str = "emulator", numerics: str | None = "float",
                 path=None, threads=None, approximations=(), dt: float | None = None, seed: int | None = None,
                 neuron: dict | None = None, pacing: dict | None = None):
        self._graph = graph
        self._dt = float(graph.dt if dt is None else dt)
        self.seed = int(graph.seed if seed is None else seed)
        self.neuron_options = {"dt": 0.025, "celsius": 6.3, **(neuron or {})}
        self.pacing = pacing
        self.backend, self.threads = backend, threads
        self.engine_cls, self.engine_options, self.engine_info = resolve_engine(backend, numerics, approximations)
        self.numerics = self.engine_info["numerics"]
        self.approximations = tuple(self.engine_options.get("approximations", ()))
        self.primary = self.engine_info["engine"]  # the session's point-engine instance
        self._specs: dict[str, tuple] = {self.primary: (self.engine_cls, self.engine_options)}
        self._tmpdir = None
        if path is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="neurohybrid-")
            path = os.path.join(self._tmpdir.name, "run.h5")
        self.path = os.fspath(path)
        self.store = RunStore(self.path, manifest=self._manifest_base())
        self.engines: dict[str, object] = {}  # point-engine instance -> built engine
        self.parts: dict[str, ModelGraph] = {}  # point-engine instance -> the part of the model it runs
        self.dirty = {"structure"}
        self.segment = 0
        self.recorder = Recorder(self)  # the one writer of the run store (engines' sink)
        self._initial_sent: dict[str, int] = {}  # engine instance -> segment whose t = 0 samples were sent
        self.full_graph = None  # the whole model
        self.partition = None  # neurohybrid.partition.Partition of the whole model
        self.exported: set = set()
        self.store_subset: dict = {}  # population -> the cells whose spikes the run store keeps
        self.neuron_engine = None
        self.tick = 0  # where the last run ended
        self.hybrid = None  # the co-simulation (cosim.HybridCoSimulation), when runs need one

    @property
    def dt(self) -> float:
        """The model's resolution (ms)."""
        return self._dt

    def model(self) -> ModelGraph:
        """The whole model (a front end overrides this to translate its objects on demand)."""
        return self._graph

    @property
    def engine(self):
        """The session's own point engine (None before the first build)."""
        return self.engines.get(self.primary)

    @property
    def graph(self) -> ModelGraph | None:
        """The part of the model the session's own point engine runs."""
        return self.parts.get(self.primary)

    def engine_of(self, label: str):
        """The built engine that runs population ``label``."""
        instance = self.partition.engine_of_node(label)
        return self.neuron_engine if engine_of(instance) == NEURON else self.engines[instance]

    def placement(self) -> dict:
        """What runs where and why: {population: {"engine", "reason", "model", "kind", "copies"}}
        (placed as the next run would place them; no engine is built)."""
        self._build_parts()
        return {name: {"engine": p.engine, "reason": p.reason, "model": p.model, "kind": p.kind,
                       "copies": list(p.copies)} for name, p in self.partition.placement.items()}

    def _manifest_base(self) -> dict:
        import numba
        return {"neurohybrid_version": __version__, "backend": self.backend, "numerics": self.numerics,
                "engine": self.engine_info["engine"], **({"engine_fallback": self.engine_info["fallback_reason"]}
                                                         if "fallback_reason" in self.engine_info else {}),
                **({"loihi_approximations": list(self.approximations)} if self.approximations else {}),
                "dt_ms": self.dt, "seed": self.seed, "python": platform.python_version(),
                "numpy": np.__version__, "numba": numba.__version__,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}

    def mark_dirty(self, what: str) -> None:
        """Record that something changed since the engine was last brought up to date."""
        self.dirty.add(what)

    # --- engines --------------------------------------------------------------------------------
    def _engine_spec(self, instance: str) -> tuple:
        """(engine class, constructor options) of an engine instance."""
        if instance not in self._specs:
            name = engine_of(instance)
            if name == engine_of(self.primary):
                spec = (self.engine_cls, self.engine_options)
            elif name == "emulator":
                spec = (engine_class("emulator"), {"numerics": "float"})
            elif name in ("emulator-fixed", "lava"):
                backend, numerics = ("emulator", "fixed") if name == "emulator-fixed" else ("lava", None)
                spec = resolve_engine(backend, numerics, self.approximations)[:2]
            else:
                spec = (engine_class(name), {})
            self._specs[instance] = spec
        return self._specs[instance]

    def _refusal(self, instance: str, node, graph: ModelGraph) -> str | None:
        """Why engine ``instance`` cannot run ``node`` (None: it can)."""
        if not isinstance(instance, str) or not instance:
            return f"{instance!r} is not an engine name"
        if engine_of(instance) == NEURON and instance != NEURON:
            return "NEURON runs in one instance per process (no tags)"
        try:
            cls, options = self._engine_spec(instance)
        except UnsupportedModelError as exc:
            return str(exc)
        check = getattr(cls, "refusal", None)
        return None if check is None else check(node, graph, options)

    def _note(self, instance: str, node, graph: ModelGraph) -> str | None:
        """The engine's remark on running ``node`` (e.g. where on the hardware it would run)."""
        note = getattr(self._engine_spec(instance)[0], "placement_note", None)
        return None if note is None else note(node, graph, self._engine_spec(instance)[1])

    # --- graph ------------------------------------------------------------------------------
    def build_graph(self) -> ModelGraph:
        """The part of the model the runtime's own point engine runs (e.g. what a Loihi bundle holds)."""
        return self._build_parts()[self.primary]

    def _build_parts(self) -> dict[str, ModelGraph]:
        """Take the whole model (``self.full_graph``), place and partition it
        (``self.partition``); returns each point engine's part."""
        graph = self.model()
        self.full_graph = graph
        self.partition = partition(graph, place(graph, self.primary, self._refusal, self._note))
        self.exported = set(self.partition.exported)
        self.store_subset = dict(self.partition.store_subset)
        self._export_live_reads(graph)
        parts = {e: g for e, g in self.partition.parts.items() if engine_of(e) != NEURON}
        if self.primary not in parts:  # the primary engine always exists (it keeps the model's time)
            parts = {self.primary: ModelGraph(graph.dt, graph.seed), **parts}
        return parts

    def _export_live_reads(self, graph: ModelGraph) -> None:
        """Populations read live send every cell's spikes, whatever the user records of them."""
        for name in sorted(spike_reads(graph)):
            instance = self.partition.engine_of_node(name)
            part = self.partition.parts[instance]
            if part is graph:  # the engine runs the whole model: change its copy, not the model
                part = self.partition.parts[instance] = dataclasses.replace(graph, recordings=list(graph.recordings))
            size = graph.nodes[name].size
            mine = [r for r in graph.recordings if r.node == name and r.variable == "spikes"]
            if mine and np.asarray(mine[0].index).size == size:
                continue
            if not mine:
                self.exported.add(name)
            elif name not in self.exported:
                self.store_subset.setdefault(name, np.asarray(mine[0].index, dtype=np.int64))
            part.recordings = [r for r in part.recordings if not (r.node == name and r.variable == "spikes")]
            part.recordings.append(RecordingSpec(name, "spikes", np.arange(size)))

    # --- running ------------------------------------------------------------------------------
    def run(self, duration_ms: float) -> None:
        """Advance the model by ``duration_ms`` (a whole number of time steps)."""
        self.run_until(self.tick + _whole_ticks("Runtime.run", "duration_ms", duration_ms, self.dt))

    def run_until(self, target_tick: int) -> None:
        """Bring the engines up to date and advance them to ``target_tick``."""
        self._prepare()
        self.recorder.declare(self.full_graph)
        self._send_initial_samples()
        if not self.needs_cosimulation():
            self.engine.advance(target_tick)
        else:
            self._start_cosimulation()
            self.hybrid.run_until(target_tick)
        self.tick = target_tick

    def flush(self) -> None:
        """Write everything recorded so far to the run store."""
        if self.hybrid is not None:
            self.hybrid.flush()
        else:
            self.recorder.flush()

    def spikes(self, label: str) -> tuple[np.ndarray, np.ndarray]:
        """(times in ms, cell ids) of population ``label`` recorded in the current segment."""
        self.flush()
        return self.store.read_spikes(label, segment=self.segment)

    def signal(self, label: str, variable: str) -> dict:
        """A recorded signal of the current segment (``RunStore.read_signal``)."""
        self.flush()
        return self.store.read_signal(label, variable, segment=self.segment)

    def _send_initial_samples(self) -> None:
        """The t = 0 samples of every engine, once per segment (PyNN includes them)."""
        engines = dict(self.engines)
        if self.neuron_engine is not None:
            engines[NEURON] = self.neuron_engine
        for instance, engine in engines.items():
            if engine.tick == 0 and self._initial_sent.get(instance) != self.segment:
                engine.initial_samples()
                self._initial_sent[instance] = self.segment

    def needs_cosimulation(self) -> bool:
        """Whether runs go through the co-simulation kernel (several engines, a scaffold,
        fields, host modules or real-time pacing) rather than straight to the one point engine."""
        return (bool(self.full_graph.modules) or self.pacing is not None or len(self.engines) > 1
                or self.neuron_engine is not None)

    def _start_cosimulation(self) -> None:
        if self.hybrid is None:  # the co-simulation starts: scaffold, converters, circuits, biophysics
            from .cosim import HybridCoSimulation
            try:
                self.hybrid = HybridCoSimulation(self)
            finally:  # a refused model loses nothing already recorded
                self.recorder.flush()
            self._cosimulation_started(self.hybrid)

    def _cosimulation_started(self, hybrid) -> None:
        """Hook for a front end (e.g. to tie its scaffold object to the running co-simulation)."""

    def ensure_cosimulation(self) -> None:
        """Bring the engines up to date and build the session's co-simulation (for open-ended
        runs, which always go through it)."""
        self._prepare()
        self.recorder.declare(self.full_graph)
        self._send_initial_samples()
        self._start_cosimulation()

    def _prepare(self) -> None:
        if not self.dirty and self.engines:
            return
        parts = self._build_parts()
        if not self.engines or "structure" in self.dirty or set(parts) != set(self.engines):
            self._rebuild(parts)
        else:
            for instance, engine in self.engines.items():
                graph = parts[instance]
                engine.graph = graph
                if self.dirty & {"parameters", "currents"}:
                    engine.update_parameters(graph)
                if "recording" in self.dirty:
                    if engine.tick > 0 and _signal_set(graph) != _signal_set(self.parts.get(instance)):
                        raise RecordingError("record()", None, "the set of cells whose signals are recorded "
                                             "changed in the middle of a segment",
                                             "record() of signals before the first run or after sim.reset()")
                    engine.configure_recording()
        if "initial" in self.dirty:
            for instance, engine in self.engines.items():
                if engine.tick == 0:
                    engine.reset(parts[instance])
        self._prepare_biophysics()
        self.parts = parts
        self.recorder.declare(self.full_graph)
        self.store.update_manifest(model=self.full_graph.summary(),
                                   placement={n: p.engine for n, p in self.partition.placement.items()})
        self.dirty = set()

    def _prepare_biophysics(self) -> None:
        """(Re)build the NEURON engine for the biophysical part, before the first run of a
        segment; after that its model is fixed (NEURON cells are not rebuilt mid-run)."""
        bio = self.partition.parts.get(NEURON)
        if bio is None or not bio.nodes:
            return
        if self.neuron_engine is not None and self.neuron_engine.tick > 0:
            return
        cls = engine_class(NEURON)
        if self.neuron_engine is not None:
            self.neuron_engine.close()
        engine = cls(dt=self.neuron_options["dt"], threads=self.threads or 1, celsius=self.neuron_options["celsius"])
        engine.build(bio, self.recorder)
        self.neuron_engine = engine
        if self.hybrid is not None:  # the co-simulation holds the old engine: rebuild it at the next run
            self.hybrid.close()
            self.hybrid = None

    def _rebuild(self, parts: dict) -> None:
        """Build one engine per part; state carries over from an instance's old engine. If any
        build fails (e.g. a model the Loihi path cannot map), the old engines and everything
        recorded so far are kept."""
        tick = max((e.tick for e in self.engines.values()), default=0)
        new: dict = {}
        try:
            for instance, graph in parts.items():
                cls, options = self._engine_spec(instance)
                new[instance] = cls(threads=self.threads, **options, **self._window_option(instance))
                new[instance].build(graph, self.recorder)
        except BaseException:
            for engine in new.values():
                _close_quietly(engine)
            raise
        for instance, engine in new.items():
            old = self.engines.get(instance)
            if old is not None:
                carry = getattr(engine, "carry_state", None)  # engines with their own state layout
                if carry is not None:
                    carry(old)
                else:
                    _carry_state(old, engine)
            engine.tick = tick
        for old in self.engines.values():
            old.close()
        self.engines = new

    def _window_option(self, instance: str) -> dict:
        """The float emulator's longest window: the shortest bridge (kernel link) at its side, so
        its windows line up with the co-simulation's macro-steps."""
        delays = [b.link_delay for b in self.partition.bridges if instance in (b.source, b.target)]
        return {"max_window": min(delays)} if delays and engine_of(instance) == "emulator" else {}

    def reset(self, segment: int | None = None) -> None:
        """Back to t = 0 for a new recording segment (default: the next one)."""
        self.segment = self.segment + 1 if segment is None else segment
        self.tick = 0
        if self.engines:
            self._prepare()
            for instance, engine in self.engines.items():
                engine.reset(self.parts[instance])
        if self.hybrid is not None:
            self.hybrid.reset()

    def current_waveform(self, kind: str, name: str, parameters: dict, t0: int, n: int) -> np.ndarray:
        """The current (nA) that current source ``name`` of ``kind`` (a class of
        :mod:`neurohybrid.stimuli.currents`) injects during ticks t0..t0+n-1."""
        from ..stimuli import currents as kinds
        from ..rng import stream_key
        gen = getattr(kinds, kind)(parameters, stream_key(self.seed, name, "current"), self.dt)
        return gen.values(t0, n)

    def get_state(self, label: str, variable: str) -> np.ndarray:
        """Current values of a state variable (PyNN units) of every cell of population ``label``."""
        self._prepare()
        return self.engine_of(label).get_state(label, variable)

    # --- plastic synapses ------------------------------------------------------------------------
    def _synapse_engine(self, edge: str):
        """The built engine that holds the synapses of edge ``edge`` (its target's), or None."""
        if not self.engines or self.full_graph is None:
            return None
        for e in self.full_graph.edges:
            if e.name == edge:
                engine = self.engine_of(e.post)
                return engine if edge in getattr(engine, "plastic", {}) else None
        return None

    def has_synapses(self, edge: str) -> bool:
        """Whether the engines hold plastic edge ``edge`` (its weights live there)."""
        return self._synapse_engine(edge) is not None

    def synapse_values(self, edge: str, variable: str = "weight") -> np.ndarray:
        """``variable`` of every synapse of plastic edge ``edge`` now, in the edge's order (PyNN
        units); ParameterError when no engine holds such an edge."""
        return self._require_synapses(edge, variable).synapse_values(edge, variable)

    def set_synapse_values(self, edge: str, variable: str, values) -> None:
        """Set ``variable`` of plastic edge ``edge``'s synapses in its engine (edge order)."""
        self._require_synapses(edge, variable).set_synapse_values(edge, variable, values)

    def _require_synapses(self, edge: str, variable: str):
        engine = self._synapse_engine(edge)
        if engine is None:
            raise ParameterError(f"Projection({edge})", variable, "no engine holds plastic synapses of that name",
                                 "a plastic projection of a model that has been run")
        return engine

    def close(self, keep_readable: bool = True) -> None:
        """Flush and close the store and release the engines. With ``keep_readable`` the recorded
        data stay readable (PyNN allows ``get_data()`` after ``end()``)."""
        if self.hybrid is not None:
            self.hybrid.flush()
            self.hybrid.close()
            self.hybrid = None
        if self.neuron_engine is not None:
            self.neuron_engine.close()
            self.neuron_engine = None
        for engine in self.engines.values():
            engine.close()
        self.engines = {}
        self.store.close()
        self.store = open_run(self.path) if keep_readable else self.store


def _close_quietly(engine) -> None:
    """Release a half-built engine (its own close may fail on what it never allocated)."""
    try:
        engine.close()
    except Exception:  # noqa: BLE001 - the build error is the one to report
        pass


def _signal_set(graph) -> set:
    return {(r.node, r.variable, r.sampling_interval, tuple(np.asarray(r.index).tolist()))
            for r in (graph.recordings if graph is not None else []) if r.variable != "spikes"}


def _carry_state(old, new) -> None:
    """Keep neuron state and in-flight spikes of blocks, and the plastic state of projections,
    that survive a rebuild."""
    old.settle()
    for name, block in new.blocks.items():
        previous = old.blocks.get(name)
        if previous is not None and previous.S.shape == block.S.shape:
            block.S[:] = previous.S
            if previous.ring.shape == block.ring.shape:
                _carry_input(previous, block)
    for name, table in getattr(new, "plastic", {}).items():  # learnt weights, traces, spike history
        previous = getattr(old, "plastic", {}).get(name)
        if previous is not None and previous.col.size == table.col.size:
            table.restore(previous.state())


def _carry_input(old, new) -> None:
    """In-flight synaptic input of a block into its rebuilt twin: exactly when both count the
    same weights, else through the fixed-point ring (the rebuild changed the synapses anyway)."""
    leftover = None
    if old.counts is not None:
        if new.counts is not None and np.array_equal(old.counts.lut, new.counts.lut):
            new.counts.counts[:] = old.counts.counts
        else:
            leftover = old.counts.values()
    if old.ring.in_use:
        new.ring.copy_from(old.ring)  # the new ring is empty: this is its whole content
        new.ring.in_use = True
    if leftover is not None:
        new.ring.add_values(leftover)
        new.ring.in_use = True
