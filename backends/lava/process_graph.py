"""Lava process graphs from a :class:`~neurohybrid.mappings.loihi.circuit.LoihiCircuit`.

:func:`build_processes` turns the hand-off format of the Loihi path into Lava processes, one
per circuit object:

- a population becomes one neuron process: Lava's ``LIF`` when its ``du``, ``dv``, ``vth`` are
  uniform and it has no refractory period; Lava's ``LIFRefractory`` (with the fixed-point model
  of :mod:`.models`) when the refractory period is uniform and > 0; :class:`.models.LoihiLIF`
  when any of ``du``, ``dv``, ``vth``, ``refractory`` varies across the population (Lava's LIF
  holds one value of each per process);
- a projection becomes one ``Sparse`` (all delays 1) or ``DelaySparse`` (Lava delays =
  circuit delays - 1, see ``backends/emulator/fixed.py``) process; its sign mode is fixed for
  the whole projection (the projection's own, or the one Lava would infer from its matrix).
  A projection that connects a (post, pre) pair several times is split into as many processes
  (a sparse matrix holds one weight per pair), each with the projection's sign mode and
  weight exponent;
- an input becomes a :class:`.models.HostSpikeSource` fed by the host before each run;
- every population gets a :class:`.models.HostRecorder` (spikes, and u, v when asked).
  The recorders are chained by a one-element link so the whole graph is one connected Lava
  network even when populations do not talk to each other (Lava compiles only the processes
  connected to the one ``run`` is called on).

:meth:`LavaGraph.run` runs a number of steps with given input spikes and returns spikes, u
and v per population. The tests build the fixed-point emulator's equivalent (same processes,
same sign modes, same splitting; neurohybrid/crosscheck.py), the reference the
Lava results must equal bit for bit.

Time: :meth:`LavaGraph.run` step k (0-based, counted from the graph's first run) is Lava
``time_step`` k + 1 and ``FixedPointNetwork`` step k; input row k is what the sources send at
that step; output row k holds the spikes of that step and u, v after its update and reset.
"""
from __future__ import annotations

import atexit
import os
import tempfile
import weakref
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from neurohybrid.errors import DelayError, ParameterError, SimulationStateError, UnsupportedModelError
from neurohybrid.mappings.loihi.circuit import LoihiCircuit, LoihiPopulation, LoihiProjection

from . import compat

#: Largest circuit delay (steps): Lava's DelaySparse takes 0..63 (6 bits) plus the one step of
#: latency every connection has.
MAX_DELAY = 64
#: Upper bound of the host ring buffers, in steps: runs longer than this are cut into runs of
#: this many steps.
MAX_BUFFER_STEPS = 1024
#: Rough bound of the memory of all host ring buffers together (bytes).
BUFFER_BYTES = 256 * 2 ** 20

_SIGN_MODES = ("excitatory", "inhibitory", "mixed")


class PopulationRecord(NamedTuple):
    """Per-step results of one population, arrays of shape [n_steps, size]: ``spikes`` (bool);
    ``u``, ``v`` (int32 Loihi units in fixed point, float64 in floating point) after the step's
    update and reset, or None when not recorded."""

    spikes: np.ndarray
    u: np.ndarray | None
    v: np.ndarray | None


@dataclass(eq=False)  # identity semantics: graphs are hashable (tracked for shutdown at exit)
class LavaGraph:
    """The Lava processes of one circuit, by name, with the host buffers that feed and read them.

    ``neurons``: population name -> neuron process (``neuron_kind`` says which class);
    ``connections``: projection name -> list of ``Sparse``/``DelaySparse`` processes;
    ``inputs``: input name -> :class:`.models.HostSpikeSource`; ``recorders``: population name ->
    :class:`.models.HostRecorder`. ``model_map``: the ProcessModel of each process whose model
    is ours (host I/O, ``LoihiLIF``, ``LIFRefractory``), on any target; ``lava_models``: the
    models of Lava's own processes, pinned on the CPU simulator to those Lava's tag selection
    picks (keyed by instance, which spares the compiler its module search). Both go into the
    run configuration's ``exception_proc_model_map``.
    ``steps_done``: Lava time steps run so far (the next step is ``time_step = steps_done + 1``).
    """

    circuit: LoihiCircuit
    numerics: str
    buffer_steps: int
    neurons: dict = field(default_factory=dict)
    neuron_kind: dict = field(default_factory=dict)
    connections: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)
    recorders: dict = field(default_factory=dict)
    var_recorders: list = field(default_factory=list)
    rewards: dict = field(default_factory=dict)
    record_uv: dict = field(default_factory=dict)
    model_map: dict = field(default_factory=dict)
    lava_models: dict = field(default_factory=dict)
    steps_done: int = 0
    target: str | None = None
    plastic_record: dict = field(default_factory=dict)
    plastic_period: int = 1
    _dir: object = None
    _reward_rings: dict = field(default_factory=dict)
    _var_rings: dict = field(default_factory=dict)
    _input_rings: dict = field(default_factory=dict)
    _output_rings: dict = field(default_factory=dict)
    _finalizer: object = None

    # --- compilation ----------------------------------------------------------------------------
    @property
    def anchor(self):
        """The process ``run`` is called on (every process is connected to it)."""
        return next(iter(self.recorders.values()), None)

    def run_config(self, target: str = "sim"):
        """The Lava run configuration: ``Loihi2SimCfg`` (``target="sim"``) or ``Loihi2HwCfg``
        (``"hw"``), with the tag of the graph's numerics (``fixed_pt``/``floating_pt``)."""
        from lava.magma.core.run_configs import Loihi2HwCfg, Loihi2SimCfg
        tag = "fixed_pt" if self.numerics == "fixed" else "floating_pt"
        if target == "sim":
            return Loihi2SimCfg(select_tag=tag, exception_proc_model_map={**self.lava_models, **self.model_map})
        if target == "hw":
            # On the chip Lava picks its neuro-core models for its own processes; ours stay on the host CPU.
            return Loihi2HwCfg(select_tag=tag, exception_proc_model_map=dict(self.model_map))
        raise ParameterError("LavaGraph", "target", f"{target!r}", "'sim' or 'hw'")

    def compile(self, target: str = "sim") -> None:
        """Compile the processes and start Lava's runtime (the expensive part of a first run)."""
        if self.target is not None or self.anchor is None:
            return
        self.anchor.create_runtime(run_cfg=self.run_config(target))
        self.target = target
        runtime = self.anchor.runtime
        # Lava's runtime keeps (non-daemon) worker processes alive until stopped: stop them when
        # this graph is collected, or at exit before multiprocessing joins its children (which
        # would wait for ever).
        self._finalizer = weakref.finalize(self, _shutdown, runtime, self._dir)
        _register_for_exit(self)

    # --- running --------------------------------------------------------------------------------
    def run(self, n_steps: int, inputs: dict | None = None, target: str = "sim",
            rewards: dict | None = None) -> dict[str, PopulationRecord]:
        """Run ``n_steps`` Lava time steps.

        ``inputs``: input name -> array [n_steps, size] of spikes (nonzero = spike) emitted at
        each step; missing inputs send nothing. Returns population name ->
        :class:`PopulationRecord`. Runs longer than ``buffer_steps`` are cut into several Lava
        ``run`` calls (state carries over: Lava pauses between them).
        ``rewards``: population name -> int array [n_steps, size], the third factor its
        ``LearningLIF`` neurons receive in each step (populations with ``third_factor``).
        With ``build_processes(..., record_plastic=True)`` the learning state after every step
        is in :attr:`plastic_record`: ``{projection: {var: [n_steps, ...]}, ("neuron_y",
        population): {"y1", "y2", "y3": [n_steps, size]}}`` (Lava's Var names: weights, tag_1,
        tag_2, x1, x2, y1, y2, y3, tx, ty); with ``record_plastic=k`` (an int > 1) only the
        state after the last step that is a multiple of k, without the step axis.
        """
        n_steps = int(n_steps)
        if n_steps < 0:
            raise SimulationStateError("LavaGraph", "n_steps", f"{n_steps}", "an integer >= 0")
        inputs = self._check_inputs(inputs or {}, n_steps)
        rewards = dict(rewards or {})
        for name in rewards:
            if name not in self._reward_rings:
                raise ParameterError("LavaGraph", f"rewards[{name!r}]", "no such population with third-factor traces",
                                     ", ".join(self._reward_rings) or "none")
        out = {name: self._empty_record(name, n_steps) for name in self.circuit.populations}
        every_step = self.plastic_period == 1
        if every_step:
            self.plastic_record = {key: {var: np.zeros((n_steps,) + ring.shape[1:], np.int64)
                                         for var, ring in rings.items()} for key, rings in self._var_rings.items()}
        if self.anchor is None:  # no neurons: nothing runs on the chip
            self.steps_done += n_steps
            return out
        self.compile(target)
        from lava.magma.core.run_conditions import RunSteps
        W = self.buffer_steps
        done = 0
        while done < n_steps:
            chunk = min(W, n_steps - done)
            rows = (self.steps_done + np.arange(chunk)) % W
            for name, ring in self._input_rings.items():
                spikes = inputs.get(name)
                ring[rows] = 0 if spikes is None else (spikes[done:done + chunk] != 0)
            for name, ring in self._reward_rings.items():
                r = rewards.get(name)
                ring[rows] = 0 if r is None else np.asarray(r)[done:done + chunk]
            self.anchor.run(condition=RunSteps(num_steps=chunk, blocking=True))
            self._check_host_io()
            for name, rings in self._output_rings.items():
                rec = out[name]
                rec.spikes[done:done + chunk] = rings["spikes"][rows] != 0
                if rec.u is not None:
                    rec.u[done:done + chunk] = rings["u"][rows]
                    rec.v[done:done + chunk] = rings["v"][rows]
            if every_step:
                for key, rings in self._var_rings.items():
                    for var, ring in rings.items():
                        self.plastic_record[key][var][done:done + chunk] = ring[rows]
            self.steps_done += chunk
            done += chunk
        if not every_step and self.steps_done >= self.plastic_period:
            self.plastic_record = {key: {var: ring[0].astype(np.int64) for var, ring in rings.items()}
                                   for key, rings in self._var_rings.items()}
        return out

    def _check_host_io(self) -> None:
        """Raise if a host I/O process failed (they report to ``*.error`` files, see
        :class:`.models.HostSpikeSource`)."""
        for proc in [*self.inputs.values(), *self.recorders.values(), *self.var_recorders]:
            path = proc.proc_params["error_path"]
            if os.path.exists(path):
                with open(path) as f:
                    message = f.read()
                raise SimulationStateError("LavaGraph", "run", f"the host I/O of Lava failed: {message}",
                                           "a writable shared-memory directory that stays in place during the run")

    def _check_inputs(self, inputs: dict, n_steps: int) -> dict:
        checked = {}
        for name, spikes in inputs.items():
            if name not in self.circuit.inputs:
                raise ParameterError("LavaGraph", f"inputs[{name!r}]", "no such input",
                                     ", ".join(self.circuit.inputs) or "no inputs")
            arr = np.asarray(spikes)
            size = self.circuit.inputs[name].size
            if arr.shape != (n_steps, size):
                raise ParameterError("LavaGraph", f"inputs[{name!r}]", f"shape {arr.shape}",
                                     f"an array of shape (n_steps, size) = ({n_steps}, {size})")
            if name in self._input_rings:
                checked[name] = arr
        return checked

    def _empty_record(self, name: str, n_steps: int) -> PopulationRecord:
        size = self.circuit.populations[name].size
        dtype = np.int32 if self.numerics == "fixed" else np.float64
        uv = self.record_uv.get(name, False)
        return PopulationRecord(np.zeros((n_steps, size), bool),
                                np.zeros((n_steps, size), dtype) if uv else None,
                                np.zeros((n_steps, size), dtype) if uv else None)

    # --- registers ------------------------------------------------------------------------------
    def set_registers(self, name: str, *, vth=None, bias_mant=None, bias_exp=None) -> None:
        """New threshold/bias registers (Loihi integers, one per cell) of population ``name``
        from the next step on: set in Lava's runtime when it runs (it must be paused, as it is
        between :meth:`run` calls), else as the processes' initial values. A population whose
        threshold changes must have been built with ``live_threshold`` (a per-cell vth)."""
        proc = self.neurons.get(name)
        if proc is None:
            return  # an empty population has no process
        fixed = self.numerics == "fixed"
        values = {}
        if vth is not None:
            if self.neuron_kind[name] != "LoihiLIF":
                raise SimulationStateError(name, "vth", f"{self.neuron_kind[name]} has one threshold for all cells",
                                           "build_processes(..., live_threshold=[...]) for threshold fields")
            values["vth"] = np.asarray(vth, np.int64) if fixed else np.asarray(vth, float) * 64.0
        if bias_mant is not None:
            mant, exp = np.asarray(bias_mant, np.int64), np.asarray(bias_exp, np.int64)
            values["bias_mant"] = mant if fixed else mant * np.power(2.0, exp)
            values["bias_exp"] = exp if fixed else np.zeros(mant.shape)
        for var_name, value in values.items():
            var = getattr(proc, var_name)
            value = value.astype(np.asarray(var.init).dtype if np.ndim(var.init) else value.dtype)
            if self.target is None:
                var.init = value
            else:
                var.set(value)

    # --- state ----------------------------------------------------------------------------------
    def read_state(self) -> dict:
        """Current dynamic state, read from the runtime (or the initial values before the first
        run): ``{"neurons": {population: {"u", "v", "refractory_period_end"}}, "connections":
        {projection: [a_buff, ...]}, "steps_done": int}``. Costly for large graphs (Lava's
        runtime transfers Var values element by element): meant for rare events such as a
        parameter change in the middle of a run."""
        state = {"neurons": {}, "connections": {}, "steps_done": self.steps_done}
        for name, proc in self.neurons.items():
            entry = {"u": np.array(proc.u.get()), "v": np.array(proc.v.get())}
            if hasattr(proc, "refractory_period_end"):
                entry["refractory_period_end"] = np.array(proc.refractory_period_end.get()).astype(np.int64)
            state["neurons"][name] = entry
        for name, procs in self.connections.items():
            state["connections"][name] = [np.array(p.a_buff.get()) for p in procs]
        return state

    def stop(self) -> None:
        """Stop Lava's runtime and delete the host buffers (idempotent)."""
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
        elif self._dir is not None:
            self._dir.cleanup()
        self._dir = None
        self._input_rings, self._output_rings = {}, {}
        self._reward_rings, self._var_rings = {}, {}


_LIVE_GRAPHS: "weakref.WeakSet[LavaGraph]" = weakref.WeakSet()
_EXIT_HOOK: list = []


def _register_for_exit(graph: LavaGraph) -> None:
    """Stop ``graph`` at interpreter exit, before multiprocessing's own exit hook runs.

    atexit runs hooks last-registered first; the hook is registered once, after Lava (and so
    multiprocessing) was imported, hence before multiprocessing's join of its children.
    ``weakref.finalize``'s own exit hook may have been registered earlier (any TemporaryDirectory
    creates one) and would then run too late.
    """
    _LIVE_GRAPHS.add(graph)
    if not _EXIT_HOOK:
        atexit.register(_stop_live_graphs)
        _EXIT_HOOK.append(True)


def _stop_live_graphs() -> None:
    for graph in list(_LIVE_GRAPHS):
        try:
            graph.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


#: seconds Lava's stop handshake may take before its processes are terminated (a hang guard:
#: a stop takes well under a second; a process that died never answers and the handshake,
#: which waits on a pipe without a timeout, would block for ever)
STOP_GUARD_S = 120.0


def _shutdown(runtime, workdir) -> None:
    try:
        if runtime is not None and runtime._is_started:
            _stop_runtime(runtime)
    finally:
        if workdir is not None:
            workdir.cleanup()


def _stop_runtime(runtime) -> None:
    """Lava's ``Runtime.stop``, unless one of its processes is gone (it waits for an answer from
    every one): then, or when the handshake does not finish within STOP_GUARD_S, the
    processes are terminated instead, and the run's outputs already read are kept."""
    import threading
    actors = list(getattr(runtime._messaging_infrastructure, "actors", []))
    if all(a.is_alive() for a in actors):
        stopper = threading.Thread(target=runtime.stop, name="lava-stop", daemon=True)
        stopper.start()
        stopper.join(STOP_GUARD_S)
        if not stopper.is_alive():
            return
    import multiprocessing
    for actor in actors:
        if actor.is_alive():
            actor.terminate()
        multiprocessing.Process.join(actor, timeout=10)  # (Lava's SystemProcess.join takes no timeout)
    smm = getattr(runtime._messaging_infrastructure, "smm", None)
    if smm is not None:
        smm.shutdown()
    runtime._is_running = runtime._is_started = False


# ------------------------------------------------------------------------------------------------
# building
# ------------------------------------------------------------------------------------------------

def lava_available() -> tuple[bool, str]:
    """(True, "") when Lava imports (through the compatibility shim), else (False, reason)."""
    if compat.import_lava():
        return True, ""
    return False, compat.last_error or "Lava failed to import"


def loihi_extension_available() -> bool:
    """True when Intel's proprietary Lava-Loihi extension is installed (then ``Loihi2HwCfg``
    can target a chip). ``lava.utils.loihi.is_installed`` looks for
    ``lava.utils.loihi2_profiler``, a module only that extension ships."""
    if not compat.import_lava():
        return False
    try:
        from lava.utils import loihi
        return bool(loihi.is_installed())
    except Exception:  # noqa: BLE001 - any failure means: no extension
        return False


def _uniform(a: np.ndarray) -> bool:
    a = np.asarray(a)
    return a.size == 0 or bool(np.all(a == a.flat[0]))


def _int_param(pop: LoihiPopulation, name: str) -> np.ndarray:
    value = np.asarray(getattr(pop, name))
    value = np.broadcast_to(value, (pop.size,)) if value.ndim == 0 else value
    if value.shape != (pop.size,):
        raise ParameterError(pop.name, name, f"shape {value.shape}", f"an array of shape ({pop.size},)")
    if value.size and not np.all(value == np.round(value)):
        raise ParameterError(pop.name, name, "is not integer-valued", "Loihi integers")
    return value.astype(np.int64)


def population_parameters(pop: LoihiPopulation) -> dict[str, np.ndarray]:
    """Per-neuron int64 arrays ``du, dv, vth, bias_mant, bias_exp, refractory, u0, v0`` of a
    population (scalars broadcast), checked for shape and integrality."""
    return {name: _int_param(pop, name)
            for name in ("du", "dv", "vth", "bias_mant", "bias_exp", "refractory", "u0", "v0")}


class _Synapses(NamedTuple):
    """One connection process worth of synapses (post, pre, weight, delay), unique pairs."""

    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray
    delays: np.ndarray


def projection_layers(proj: LoihiProjection, n_post: int, n_pre: int) -> tuple[str, list[_Synapses]]:
    """The sign mode of a projection and its synapses cut into groups with unique (post, pre)
    pairs, zero weights dropped: one Lava connection process per group, in order.

    Sign mode and grouping come from the shared Loihi runtime
    (``mappings/loihi/runtime.py``: ``projection_sign_mode``, ``connection_layers``), which the
    fixed-point emulator uses too, so both engines run the same connection processes.
    """
    from neurohybrid.mappings.loihi.runtime import connection_layers, projection_sign_mode
    rows = np.asarray(proj.rows, dtype=np.int64).ravel()
    cols = np.asarray(proj.cols, dtype=np.int64).ravel()
    w = np.asarray(proj.weights).ravel()
    d = np.asarray(proj.delays).ravel()
    if d.size == 1 and rows.size != 1:
        d = np.full(rows.size, d.item())
    if w.size == 1 and rows.size != 1:
        w = np.full(rows.size, w.item())
    if not (rows.size == cols.size == w.size == d.size):
        raise ParameterError(proj.name, "rows/cols/weights/delays",
                             f"lengths {rows.size}, {cols.size}, {w.size}, {d.size} differ", "equal lengths")
    if rows.size and (rows.min() < 0 or rows.max() >= n_post or cols.min() < 0 or cols.max() >= n_pre):
        raise ParameterError(proj.name, "rows/cols", "indices out of range",
                             f"post indices in [0, {n_post}), pre indices in [0, {n_pre})")
    if w.size and not np.all(w == np.round(w)):
        raise ParameterError(proj.name, "weights", "not integer-valued", "integer weight mantissas")
    if d.size and not np.all(d == np.round(d)):
        raise DelayError(proj.name, "delays", "not whole time steps", f"integers in [1, {MAX_DELAY}]")
    w, d = w.astype(np.int64), d.astype(np.int64)
    if d.size and (d.min() < 1 or d.max() > MAX_DELAY):
        raise DelayError(proj.name, "delays", f"values in [{d.min()}, {d.max()}] out of range",
                         f"integers in [1, {MAX_DELAY}] (Lava DelaySparse delay + 1)")
    if not -8 <= int(proj.weight_exp) <= 7:
        raise ParameterError(proj.name, "weight_exp", f"{proj.weight_exp}", "an integer in [-8, 7]")
    if not 1 <= int(proj.num_weight_bits) <= 8:
        raise ParameterError(proj.name, "num_weight_bits", f"{proj.num_weight_bits}", "1..8")
    mode = projection_sign_mode(proj, n_post, n_pre)
    if mode not in _SIGN_MODES:
        raise ParameterError(proj.name, "sign_mode", f"{mode!r}", ", ".join(_SIGN_MODES) + " or None")
    # A synapse whose weight Lava clips/truncates to 0 adds nothing, in Lava as in the emulator
    # (which drops it too); leaving it out also spares Lava's DelaySparse a change of sparsity
    # structure after its weight truncation.
    live = lava_effective(w, mode, int(proj.num_weight_bits)) != 0
    layers = []
    for sel in connection_layers(rows, cols):
        sel = sel[live[sel]]
        layers.append(_Synapses(rows[sel], cols[sel], w[sel], d[sel]))
    return mode, layers


def _source_size(circuit: LoihiCircuit, name: str, proj: LoihiProjection) -> int:
    if name in circuit.populations:
        return circuit.populations[name].size
    if name in circuit.inputs:
        return circuit.inputs[name].size
    raise ParameterError(proj.name, "pre", f"{name!r} is neither a population nor an input of the circuit",
                         ", ".join([*circuit.populations, *circuit.inputs]))


def _buffer_steps(circuit: LoihiCircuit, n_steps_hint, record_uv: dict) -> int:
    per_step = sum(p.size * (1 + (8 if record_uv.get(n) else 0)) for n, p in circuit.populations.items())
    per_step += sum(i.size for i in circuit.inputs.values())
    cap = max(1, min(MAX_BUFFER_STEPS, BUFFER_BYTES // max(per_step, 1)))
    return int(max(1, min(cap, n_steps_hint))) if n_steps_hint else int(cap)


def build_processes(circuit: LoihiCircuit, n_steps_hint: int | None = None, *, numerics: str = "fixed",
                    record_uv=True, buffer_steps: int | None = None, state: dict | None = None,
                    live_threshold=(), record_plastic: bool | int = False) -> LavaGraph:
    """Build the Lava processes of ``circuit`` (see the module docstring) and return them.

    ``numerics``: ``"fixed"`` (Loihi integers, Lava ``fixed_pt`` models, bit-exact with the chip's
    arithmetic) or ``"float"`` (the same circuit in real numbers on Lava's ``floating_pt`` models:
    u decays by (du + 1)/4096, v by dv/4096, bias = bias_mant * 2**bias_exp, threshold vth * 64,
    weights w * 2**(weight_exp + 6), no rounding, wrapping or saturation).
    ``record_uv``: True/False for every population, or a collection of population names whose
    u and v are recorded every step (spikes always are). ``n_steps_hint``: expected length of
    one :meth:`LavaGraph.run` call, used to size the host buffers (``buffer_steps`` overrides).
    ``state``: start from this dynamic state instead of the circuit's initial one — a dict shaped
    like :meth:`LavaGraph.read_state` (``refractory_period_end`` counted in the new graph's own
    time steps); entries whose population/projection is missing or whose shape differs are
    ignored. ``live_threshold``: populations whose threshold a field changes during the run
    (:meth:`LavaGraph.set_registers`); they are built as ``LoihiLIF`` (a vth per cell, read
    every step), which has no Loihi 2 process model. Works for any ``LoihiCircuit``, e.g. one
    loaded from a bundle file.

    Learning: a projection with ``learning`` becomes a ``LearningDense`` (Lava's
    ``PyLearningDenseModelBitApproximate``, the ``fixed_pt`` model), fed by its pre neurons or
    input, with the post population's spikes as bAP; a population with ``third_factor``
    becomes a ``LearningLIF`` with :class:`.models.PyLearningLifModelFixed3F` (its bAP and y1..y3
    go to every 3-factor projection onto it) and a :class:`.models.HostGradedSource` for its
    third factor. ``record_plastic``: record weights, tags and traces of every plastic
    projection and the y traces of every LearningLIF after every step (True) or after every
    k-th step (an int k; only the latest is kept): :attr:`LavaGraph.plastic_record`. (Lava's
    ``Var.get`` moves values one message per element: too slow for large weight matrices.)
    """
    ok, reason = lava_available()
    if not ok:
        raise UnsupportedModelError("build_processes", "lava", reason, "an environment with lava-nc 0.10 installed")
    if numerics not in ("fixed", "float"):
        raise ParameterError("build_processes", "numerics", f"{numerics!r}", "'fixed' or 'float'")
    fixed = numerics == "fixed"
    pops = {n: p for n, p in circuit.populations.items() if p.size > 0}
    if isinstance(record_uv, bool):
        uv = {n: record_uv for n in circuit.populations}
    else:
        wanted = set(record_uv)
        unknown = wanted - set(circuit.populations)
        if unknown:
            raise ParameterError("build_processes", "record_uv", f"unknown populations {sorted(unknown)}",
                                 ", ".join(circuit.populations))
        uv = {n: n in wanted for n in circuit.populations}
    W = int(buffer_steps) if buffer_steps else _buffer_steps(circuit, n_steps_hint, uv)
    if W < 1:
        raise ParameterError("build_processes", "buffer_steps", f"{W}", "an integer >= 1")
    # host buffers in RAM-backed files where there is /dev/shm (Linux)
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    workdir = tempfile.TemporaryDirectory(prefix="neurohybrid-lava-", dir=shm)
    graph = LavaGraph(circuit=circuit, numerics=numerics, buffer_steps=W, record_uv=uv, _dir=workdir)
    try:
        kit = _LavaKit(fixed)
        _build_neurons(graph, pops, kit, set(live_threshold))
        _build_inputs(graph, pops, kit)
        _build_connections(graph, pops, kit)
        _build_recorders(graph, kit)
        if record_plastic:
            graph.plastic_period = 1 if record_plastic is True else int(record_plastic)
            _build_var_recorders(graph, kit)
        if state:
            apply_state(graph, state)
    except BaseException:
        workdir.cleanup()
        raise
    return graph


def apply_state(graph: LavaGraph, state: dict) -> None:
    """Set the initial values of the processes' Vars from ``state`` (before compilation)."""
    def put(var, value):
        value = np.asarray(value)
        if value.shape == tuple(var.shape):
            var.init = value.astype(np.asarray(var.init).dtype if np.ndim(var.init) else value.dtype)
            return True
        return False

    for name, entry in state.get("neurons", {}).items():
        proc = graph.neurons.get(name)
        if proc is None:
            continue
        put(proc.u, entry["u"])
        put(proc.v, entry["v"])
        if hasattr(proc, "refractory_period_end") and "refractory_period_end" in entry:
            put(proc.refractory_period_end, np.asarray(entry["refractory_period_end"]).astype(np.int64))
    for name, buffers in state.get("connections", {}).items():
        procs = graph.connections.get(name, [])
        if len(procs) == len(buffers):
            for proc, buf in zip(procs, buffers):
                put(proc.a_buff, buf)


class _LavaKit:
    """The Lava classes a build uses and the ProcessModel each process gets.

    Lava's compiler checks ``proc in exception_proc_model_map`` with the process *instance*
    (``compiler_graphs.py``, ``_map_proc_to_model``): keying the map by instance selects a model
    without Lava's search, which imports every module file next to the process's own.
    """

    def __init__(self, fixed: bool):
        from lava.proc.lif.models import PyLifModelBitAcc, PyLifModelFloat, PyLifRefractoryModelFloat
        from lava.proc.dense.models import PyLearningDenseModelBitApproximate
        from lava.proc.dense.process import LearningDense
        from lava.proc.lif.process import LIF, LearningLIF, LIFRefractory
        from lava.proc.sparse.models import (PyDelaySparseModelBitAcc, PyDelaySparseModelFloat,
                                             PySparseModelBitAcc, PySparseModelFloat)
        from lava.proc.sparse.process import DelaySparse, Sparse
        from lava.utils.weightutils import SignMode

        from . import models
        self.fixed, self.models, self.SignMode = fixed, models, SignMode
        self.LIF, self.LIFRefractory, self.Sparse, self.DelaySparse = LIF, LIFRefractory, Sparse, DelaySparse
        self.LearningDense, self.LearningLIF = LearningDense, LearningLIF
        # Lava's own processes: the models its tag selection picks on the CPU simulator
        self.lava_models = {LIF: PyLifModelBitAcc if fixed else PyLifModelFloat,
                            Sparse: PySparseModelBitAcc if fixed else PySparseModelFloat,
                            DelaySparse: PyDelaySparseModelBitAcc if fixed else PyDelaySparseModelFloat,
                            LearningDense: PyLearningDenseModelBitApproximate}
        # models of ours, on any target (LIFRefractory has no fixed-point model in Lava, nor
        # a neuro-core one we know of: it runs on the CPU everywhere)
        self.own_models = {
            LIFRefractory: models.PyLifRefractoryModelFixed if fixed else PyLifRefractoryModelFloat,
            models.LoihiLIF: models.PyLoihiLifModelFixed if fixed else models.PyLoihiLifModelFloat,
            models.HostSpikeSource: models.PyHostSpikeSourceModel if fixed else models.PyHostSpikeSourceModelFloat,
            LearningLIF: models.PyLearningLifModelFixed3F,
            models.HostGradedSource: models.PyHostGradedSourceModel,
        }

    def register(self, graph: LavaGraph, proc):
        """Record the model of ``proc`` in ``graph`` and return ``proc``."""
        cls = type(proc)
        if cls is self.models.HostRecorder:
            graph.model_map[proc] = (self.models.PyHostStateRecorderModel if proc.proc_params["record_uv"]
                                     else self.models.PyHostRecorderModel)
        elif cls in self.own_models:
            graph.model_map[proc] = self.own_models[cls]
        else:
            graph.lava_models[proc] = self.lava_models[cls]
        return proc


def _build_neurons(graph: LavaGraph, pops: dict, kit: _LavaKit, live_threshold: set) -> None:
    for name, pop in pops.items():
        p = population_parameters(pop)
        _check_population(pop, p)
        uniform = name not in live_threshold and all(_uniform(p[k]) for k in ("du", "dv", "vth", "refractory"))
        if kit.fixed:
            du, dv, vth = p["du"], p["dv"], p["vth"]
            bias, bias_exp = p["bias_mant"], p["bias_exp"]
            u0, v0 = p["u0"], p["v0"]
        else:  # the same dynamics in real numbers (see build_processes)
            du = (p["du"] + 1) / 4096.0
            dv = p["dv"] / 4096.0
            vth = p["vth"] * 64.0
            bias = p["bias_mant"] * np.power(2.0, p["bias_exp"])
            bias_exp = np.zeros(pop.size)
            u0, v0 = p["u0"].astype(float), p["v0"].astype(float)
        common = dict(shape=(pop.size,), u=u0, v=v0, bias_mant=bias, bias_exp=bias_exp, name=name)
        tf = getattr(pop, "third_factor", None)
        if tf:
            if not (kit.fixed and uniform and p["refractory"][0] == 0):
                raise UnsupportedModelError(name, "third_factor", "3-factor traces need Lava's LearningLIF: fixed-point "
                                            "numerics, one du, dv, vth per population, no refractory period",
                                            "a uniform LIF population on fixed_pt")
            proc = kit.LearningLIF(du=du[0].item(), dv=dv[0].item(), vth=vth[0].item(), learning_rule=None,
                                   y_decay=tuple(int(x) for x in tf.get("decay", (0, 0, 0))),
                                   y_impulse=tuple(int(x) for x in tf.get("impulse", (0, 0, 0))),
                                   y_reward=tuple(int(x) for x in tf.get("reward", (0, 0, 0))), **common)
            proc.proc_params.overwrite("y_frac_bits", tuple(int(x) for x in tf.get("frac_bits", (0, 0, 0))))
            graph.neurons[name] = kit.register(graph, proc)
            graph.neuron_kind[name] = "LearningLIF"
            path = os.path.join(graph._dir.name, f"reward{len(graph.rewards)}.values")
            graph._reward_rings[name] = np.memmap(path, dtype=np.int32, mode="w+", shape=(graph.buffer_steps, pop.size))
            src = kit.register(graph, kit.models.HostGradedSource(shape=(pop.size,), path=path,
                                                                  buffer_steps=graph.buffer_steps, name=f"reward:{name}"))
            src.s_out.connect(proc.a_third_factor_in)
            graph.rewards[name] = src
            continue
        if uniform and p["refractory"][0] == 0:
            proc, kind = kit.LIF(du=du[0].item(), dv=dv[0].item(), vth=vth[0].item(), **common), "LIF"
        elif uniform:
            proc = kit.LIFRefractory(du=du[0].item(), dv=dv[0].item(), vth=vth[0].item(),
                                     refractory_period=int(p["refractory"][0]), **common)
            kind = "LIFRefractory"
        else:
            proc = kit.models.LoihiLIF(du=du, dv=dv, vth=vth, refractory_period=p["refractory"], **common)
            kind = "LoihiLIF"
        graph.neurons[name] = kit.register(graph, proc)
        graph.neuron_kind[name] = kind


def _build_inputs(graph: LavaGraph, pops: dict, kit: _LavaKit) -> None:
    circuit, W = graph.circuit, graph.buffer_steps
    for name, inp in circuit.inputs.items():
        if inp.size == 0 or not any(pr.pre == name and pr.post in pops for pr in circuit.projections):
            continue  # nothing on the chip listens to it
        path = os.path.join(graph._dir.name, f"input{len(graph.inputs)}.spikes")
        graph._input_rings[name] = np.memmap(path, dtype=np.uint8, mode="w+", shape=(W, inp.size))
        graph.inputs[name] = kit.register(graph, kit.models.HostSpikeSource(
            shape=(inp.size,), path=path, buffer_steps=W, name=f"input:{name}"))


def _build_connections(graph: LavaGraph, pops: dict, kit: _LavaKit) -> None:
    circuit = graph.circuit
    for proj in circuit.projections:
        if proj.post not in circuit.populations:
            raise ParameterError(proj.name, "post", f"{proj.post!r} is not a population of the circuit",
                                 ", ".join(circuit.populations))
        n_pre = _source_size(circuit, proj.pre, proj)
        n_post = circuit.populations[proj.post].size
        if getattr(proj, "learning", None) is not None:
            _build_plastic(graph, kit, proj, pops, n_pre, n_post)
            continue
        mode, layers = projection_layers(proj, n_post, n_pre)  # validates, even if unused below
        if proj.post not in pops or n_pre == 0:
            continue
        source = graph.neurons.get(proj.pre) or graph.inputs.get(proj.pre)
        procs = []
        for k, syn in enumerate(layers):
            if kit.fixed:
                values, dtype = syn.weights, np.int64
            else:  # the weights the fixed-point model would use, in v units (see build_processes)
                values = lava_effective(syn.weights, mode, int(proj.num_weight_bits)) * 2.0 ** (proj.weight_exp + 6)
                dtype = float
            w = sp.csr_matrix((values, (syn.rows, syn.cols)), shape=(n_post, n_pre), dtype=dtype)
            kwargs = dict(weight_exp=int(proj.weight_exp), num_weight_bits=int(proj.num_weight_bits),
                          sign_mode=kit.SignMode[mode.upper()], name=f"{proj.name}#{k}")
            if syn.delays.size and syn.delays.max() > 1:
                d = sp.csr_matrix((syn.delays - 1, (syn.rows, syn.cols)), shape=(n_post, n_pre), dtype=np.int64)
                d.eliminate_zeros()  # DelaySparse reads a missing entry as Lava delay 0 (latency 1)
                proc = kit.DelaySparse(weights=w, delays=d, **kwargs)
            else:
                proc = kit.Sparse(weights=w, **kwargs)
            kit.register(graph, proc)
            source.s_out.connect(proc.s_in)
            proc.a_out.connect(graph.neurons[proj.post].a_in)
            procs.append(proc)
        graph.connections[proj.name] = procs


def _build_plastic(graph: LavaGraph, kit: _LavaKit, proj: LoihiProjection, pops: dict, n_pre: int, n_post: int) -> None:
    """One ``LearningDense`` for a plastic projection (see :func:`build_processes`)."""
    from neurohybrid.mappings.loihi.learning_rules import lava_rule, plastic_block
    from neurohybrid.mappings.loihi.runtime import projection_sign_mode
    if not kit.fixed:
        raise UnsupportedModelError(proj.name, "learning", "plastic projections run on fixed_pt only",
                                    "numerics='fixed'")
    weights, tag_1, tag_2 = plastic_block(proj, n_post, n_pre)
    mode = projection_sign_mode(proj, n_post, n_pre)
    if mode not in _SIGN_MODES:
        raise ParameterError(proj.name, "sign_mode", f"{mode!r}", ", ".join(_SIGN_MODES) + " or None")
    if proj.post not in pops or n_pre == 0:
        return
    rule = proj.learning
    post = graph.neurons[proj.post]
    if rule.three_factor and graph.neuron_kind[proj.post] != "LearningLIF":
        raise UnsupportedModelError(proj.name, "learning", f"a 3-factor rule onto {proj.post!r}, which keeps no "
                                    "third-factor traces", "a post population with third_factor")
    proc = kit.LearningDense(weights=weights.astype(np.int32), tag_1=tag_1, tag_2=tag_2,
                             learning_rule=lava_rule(rule), weight_exp=int(proj.weight_exp),
                             num_weight_bits=int(proj.num_weight_bits), sign_mode=kit.SignMode[mode.upper()],
                             name=f"{proj.name}#0")
    kit.register(graph, proc)
    source = graph.neurons.get(proj.pre) or graph.inputs.get(proj.pre)
    source.s_out.connect(proc.s_in)
    proc.a_out.connect(post.a_in)
    if graph.neuron_kind[proj.post] == "LearningLIF":
        post.s_out_bap.connect(proc.s_in_bap)
        if rule.three_factor:
            post.s_out_y1.connect(proc.s_in_y1)
            post.s_out_y2.connect(proc.s_in_y2)
            post.s_out_y3.connect(proc.s_in_y3)
    else:
        post.s_out.connect(proc.s_in_bap)  # the bAP is the post neurons' spikes (Lava's STDP usage)
    graph.connections[proj.name] = [proc]


_PLASTIC_VARS = ("weights", "tag_1", "tag_2", "x1", "x2", "y1", "y2", "y3", "tx", "ty")


def _build_var_recorders(graph: LavaGraph, kit: _LavaKit) -> None:
    """A :class:`.models.HostVarRecorder` per plastic projection and per LearningLIF population."""
    rows = graph.buffer_steps if graph.plastic_period == 1 else 1
    anchor = graph.anchor
    targets = []
    for proj in graph.circuit.projections:
        if getattr(proj, "learning", None) is not None and proj.name in graph.connections:
            proc = graph.connections[proj.name][0]
            targets.append((proj.name, [(v, getattr(proc, v)) for v in _PLASTIC_VARS]))
    for name, kind in graph.neuron_kind.items():
        if kind == "LearningLIF":
            proc = graph.neurons[name]
            targets.append((("neuron_y", name), [(v, getattr(proc, v)) for v in ("y1", "y2", "y3")]))
    for k, (key, variables) in enumerate(targets):
        prefix = os.path.join(graph._dir.name, f"vars{k}")
        shapes = [tuple(var.shape) for _, var in variables]
        rings = {}
        for q, (vname, var) in enumerate(variables):
            rings[vname] = np.memmap(f"{prefix}.{q}", dtype=np.float64, mode="w+", shape=(rows,) + shapes[q])
        rec = kit.models.HostVarRecorder(shapes=shapes, prefix=prefix, rows=rows, period=graph.plastic_period,
                                         name=f"vars:{key}")
        graph.model_map[rec] = kit.models.var_recorder_model(len(shapes))
        for q, (_, var) in enumerate(variables):
            getattr(rec, f"ref{q}").connect_var(var)
        if anchor is not None:
            anchor.link_out.connect(rec.link_in)
        graph.var_recorders.append(rec)
        graph._var_rings[key] = rings


def _build_recorders(graph: LavaGraph, kit: _LavaKit) -> None:
    W, dtype = graph.buffer_steps, "int32" if kit.fixed else "float64"
    previous = None
    for k, (name, proc) in enumerate(graph.neurons.items()):
        prefix = os.path.join(graph._dir.name, f"pop{k}")
        shape = (W, graph.circuit.populations[name].size)
        uv = graph.record_uv[name]
        rings = {"spikes": np.memmap(prefix + ".spikes", dtype=np.uint8, mode="w+", shape=shape)}
        if uv:
            rings["u"] = np.memmap(prefix + ".u", dtype=dtype, mode="w+", shape=shape)
            rings["v"] = np.memmap(prefix + ".v", dtype=dtype, mode="w+", shape=shape)
        graph._output_rings[name] = rings
        rec = kit.register(graph, kit.models.HostRecorder(shape=(shape[1],), prefix=prefix, buffer_steps=W,
                                                          record_uv=uv, dtype=dtype, name=f"recorder:{name}"))
        proc.s_out.connect(rec.s_in)
        if uv:
            rec.u_ref.connect_var(proc.u)
            rec.v_ref.connect_var(proc.v)
        if previous is not None:  # chain: one connected Lava network (see the module docstring)
            previous.link_out.connect(rec.link_in)
        previous = rec
        graph.recorders[name] = rec


def _check_population(pop: LoihiPopulation, p: dict) -> None:
    ranges = {"du": (0, 4095), "dv": (0, 4095), "vth": (0, 2 ** 17 - 1), "bias_mant": (-4096, 4095),
              "bias_exp": (-7, 7), "refractory": (0, 2 ** 31 - 1), "u0": (-(2 ** 31), 2 ** 31 - 1),
              "v0": (-(2 ** 31), 2 ** 31 - 1)}
    for name, (lo, hi) in ranges.items():
        a = p[name]
        if a.size and (a.min() < lo or a.max() > hi):
            raise ParameterError(pop.name, name, f"values in [{a.min()}, {a.max()}] out of range",
                                 f"integers in [{lo}, {hi}]")


def lava_effective(weights: np.ndarray, sign_mode: str, num_weight_bits: int) -> np.ndarray:
    """The integer weights Lava's fixed-point connections use (clipped to 8 bits for the sign
    mode, then truncated to ``num_weight_bits``): see
    :func:`neurohybrid.mappings.loihi.runtime.lava_effective_weights`."""
    from neurohybrid.mappings.loihi.runtime import lava_effective_weights
    return lava_effective_weights(weights, sign_mode, num_weight_bits)
