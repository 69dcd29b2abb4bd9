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

import os
import tempfile
import weakref
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from neurohybrid.errors import ParameterError, SimulationStateError, UnsupportedModelError
from neurohybrid.mappings.loihi.circuit import LoihiCircuit

from .builders import (MAX_DELAY, _build_connections, _build_inputs, _build_neurons,  # noqa: F401 (re-exported)
                       _build_recorders, _build_var_recorders, _LavaKit, population_parameters, projection_layers)
from .lifecycle import _register_for_exit, _shutdown, lava_available, loihi_extension_available  # noqa: F401

#: Upper bound of the host ring buffers, in steps: runs longer than this are cut into runs of
#: this many steps.
MAX_BUFFER_STEPS = 1024
#: Rough bound of the memory of all host ring buffers together (bytes).
BUFFER_BYTES = 256 * 2 ** 20



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


# ------------------------------------------------------------------------------------------------
# building
# ------------------------------------------------------------------------------------------------

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
