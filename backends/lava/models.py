"""Lava Processes and ProcessModels that Lava 0.10 lacks and the Loihi path needs.

Importing this module imports Lava (through the Python 3.11 shim of :mod:`.compat`); it raises
ImportError when Lava is unusable, so import it only after :func:`.compat.import_lava`
returned True.

What is here, and why
---------------------
- :class:`PyLifRefractoryModelFixed`: a ``fixed_pt`` model of Lava's own ``LIFRefractory``
  process, which Lava 0.10 ships with a ``floating_pt`` model only. It is made of Lava's code:
  the integer arithmetic of ``AbstractPyLifModelFixed``, the threshold of ``PyLifModelBitAcc``
  and the refractory rule of ``PyLifRefractoryModelFloat`` (v is not integrated while
  ``refractory_period_end >= time_step``; a spike sets ``refractory_period_end = time_step +
  refractory_period``; u keeps integrating). It is the model
  ``tests/backends/emulator/test_fixed_bitexact.py`` checks the emulator against.
- :class:`LoihiLIF`: a LIF population whose ``du``, ``dv``, ``vth`` and refractory period are
  per neuron. Lava's ``LIF`` declares them as one value per process (``Var(shape=(1,))``), but a
  PyNN population may have heterogeneous time constants or thresholds; on Loihi those are
  per-compartment profiles. Its models reuse the Lava code above unchanged (every operation of
  ``AbstractPyLifModelFixed`` is element-wise, so array-valued ``du``/``dv``/``vth`` give each
  neuron exactly the arithmetic of a one-neuron ``LIF``).
- :class:`PyLearningLifModelFixed3F`: a ``fixed_pt`` model of Lava's ``LearningLIF`` that
  drives its learning ports. Lava 0.10's own ``PyLearningLIFModelFixed`` is the plain LIF: it
  never reads ``a_third_factor_in`` nor sends ``s_out_bap``/``s_out_y1..3`` (a
  ``LearningDense`` whose ``s_in_bap`` is connected to it waits for ever); Lava's tests and
  tutorials supply their own neuron model for 3-factor rules. This one is Lava's fixed-point
  LIF plus an integer trace rule (the emulator's ``ThirdFactorTraces``): after the step's
  spike, ``y_k = clip(trunc(y_k * (4096 - y_decay_k) / 4096) + y_impulse_k * spike +
  y_reward_k * third_factor, -128, 127)``; it sends the spikes as the bAP and y1..y3.
- :class:`HostGradedSource`: graded int32 values fed from the host (the third factor).
- :class:`HostVarRecorder`: any Vars of any processes, read every step after the learning
  phase (post-management) into ring files: weights, tags and traces of learning connections.
- :class:`HostSpikeSource` and :class:`HostRecorder`: the host side of a run. Lava's
  ``RingBuffer``/``Monitor`` move data through ``Var.set``/``Var.get``, which the 0.10 runtime
  sends one element per channel message (``magma/runtime/runtime.py``, ``set_var``/``get_var``),
  and a Monitor's buffer is sized for a fixed number of steps. These two processes exchange
  data with the host through a shared memory-mapped file instead: a ring of ``buffer_steps``
  rows indexed by ``(time_step - 1) % buffer_steps``, exactly as Lava's ``RingBuffer`` indexes
  its data, which the host fills (inputs) or reads (spikes, u, v) between ``run()`` calls of
  at most ``buffer_steps`` steps. The values are the ones a Monitor reads: spikes from the
  ``s_out`` port in the spike phase, u and v through RefPorts in the post-management phase of
  the same step (after the neuron's update and reset).

Units: Loihi's integers in ``fixed_pt`` models (see ``backends/emulator/fixed.py``); in the
``floating_pt`` models of :class:`LoihiLIF`, ``du``, ``dv`` are decay fractions per step,
``vth`` and ``bias`` are in v units (the float LIF semantics of Lava's ``PyLifModelFloat``).
"""
from __future__ import annotations


import numpy as np

from . import compat

if not compat.import_lava():  # pragma: no cover - exercised only where Lava is missing
    raise ImportError(f"Lava is unusable: {compat.last_error}")

from lava.magma.core.decorator import implements, requires, tag  # noqa: E402
from lava.magma.core.model.py.model import PyLoihiProcessModel  # noqa: E402
from lava.magma.core.model.py.ports import PyInPort, PyOutPort, PyRefPort  # noqa: E402
from lava.magma.core.model.py.type import LavaPyType  # noqa: E402
from lava.magma.core.process.ports.ports import InPort, OutPort, RefPort  # noqa: E402
from lava.magma.core.process.process import AbstractProcess, LogConfig  # noqa: E402
from lava.magma.core.process.variable import Var  # noqa: E402
from lava.magma.core.resources import CPU  # noqa: E402
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol  # noqa: E402
from lava.proc.lif.models import (AbstractPyLifModelFixed, AbstractPyLifModelFloat, PyLearningLIFModelFixed,  # noqa: E402
                                  PyLifModelBitAcc)
from lava.proc.lif.process import LearningLIF, LIFRefractory  # noqa: E402

__all__ = ["PyLifRefractoryModelFixed", "LoihiLIF", "PyLoihiLifModelFixed", "PyLoihiLifModelFloat",
           "HostSpikeSource", "PyHostSpikeSourceModel", "HostRecorder", "PyHostRecorderModel",
           "PyHostStateRecorderModel", "PyLearningLifModelFixed3F", "HostGradedSource", "PyHostGradedSourceModel",
           "HostVarRecorder", "PyHostVarRecorderModel"]


# ---------------------------------------------------------------------------------------------
# Refractory LIF, fixed point
# ---------------------------------------------------------------------------------------------

class _RefractoryFixedMixin:
    """The refractory rule of ``PyLifRefractoryModelFloat`` (proc/lif/models.py L479-486) on top
    of ``AbstractPyLifModelFixed``: v is held (not integrated) while refractory, u is not."""

    def subthr_dynamics(self, activation_in):
        refractory = self.refractory_period_end >= self.time_step
        held = self.v[refractory].copy()
        super().subthr_dynamics(activation_in)
        self.v[refractory] = held

    def reset_voltage(self, spike_vector):
        spiked = np.asarray(spike_vector).astype(bool)
        period = np.broadcast_to(np.asarray(self.refractory_period), spiked.shape)
        # refractory_period may be per neuron (LoihiLIF): index it like the spike mask
        self.refractory_period_end[spiked] = self.time_step + period[spiked]
        super().reset_voltage(spike_vector)


@implements(proc=LIFRefractory, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyLifRefractoryModelFixed(_RefractoryFixedMixin, AbstractPyLifModelFixed):
    """Fixed-point model of Lava's ``LIFRefractory`` (Loihi integer units): Lava's
    ``AbstractPyLifModelFixed`` arithmetic, ``PyLifModelBitAcc``'s threshold ``v > vth << 6``,
    ``PyLifRefractoryModelFloat``'s refractory rule. Select it with
    ``exception_proc_model_map``."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    vth: int = LavaPyType(int, np.int32, precision=17)
    refractory_period_end: np.ndarray = LavaPyType(np.ndarray, int)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.effective_vth = 0
        self.refractory_period = proc_params["refractory_period"]

    scale_threshold = PyLifModelBitAcc.scale_threshold
    spiking_activation = PyLifModelBitAcc.spiking_activation


# ---------------------------------------------------------------------------------------------
# LIF with per-neuron decays, threshold and refractory period
# ---------------------------------------------------------------------------------------------

class LoihiLIF(AbstractProcess):
    """LIF neurons with per-neuron ``du``, ``dv``, ``vth`` and ``refractory_period``.

    Same ports (``a_in``, ``s_out``) and state (``u``, ``v``, ``refractory_period_end``) as
    Lava's ``LIFRefractory``; ``refractory_period = 0`` is Lava's ``LIF``. Units are those of
    the model the run configuration selects: Loihi integers for ``fixed_pt``
    (:class:`PyLoihiLifModelFixed`), Lava's float LIF units for ``floating_pt``
    (:class:`PyLoihiLifModelFloat`). Every parameter is a scalar or an array of shape ``shape``.
    """

    def __init__(self, *, shape: tuple[int, ...], u=0, v=0, du=0, dv=0, bias_mant=0, bias_exp=0, vth=10,
                 refractory_period=0, name: str | None = None, log_config: LogConfig | None = None) -> None:
        super().__init__(shape=shape, name=name, log_config=log_config)
        self.a_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.u = Var(shape=shape, init=u)
        self.v = Var(shape=shape, init=v)
        self.du = Var(shape=shape, init=du)
        self.dv = Var(shape=shape, init=dv)
        self.bias_mant = Var(shape=shape, init=bias_mant)
        self.bias_exp = Var(shape=shape, init=bias_exp)
        self.vth = Var(shape=shape, init=vth)
        self.refractory_period = Var(shape=shape, init=refractory_period)
        self.refractory_period_end = Var(shape=shape, init=0)


@implements(proc=LoihiLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_accurate_loihi", "fixed_pt")
class PyLoihiLifModelFixed(_RefractoryFixedMixin, AbstractPyLifModelFixed):
    """Fixed-point :class:`LoihiLIF`: ``PyLifRefractoryModelFixed`` with per-neuron parameters
    (du, dv: 12 bit; vth: 17 bit, fires when v > vth << 6; refractory period in steps)."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    du: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=12)
    dv: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=12)
    vth: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=17)
    refractory_period: np.ndarray = LavaPyType(np.ndarray, int)
    refractory_period_end: np.ndarray = LavaPyType(np.ndarray, int)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.effective_vth = 0

    def scale_threshold(self):
        # vth << 6 every step (Lava's LIF caches it after the first step): vth is a register
        # a field may change between steps (backends/lava/process_graph.py, live_threshold)
        self.effective_vth = np.left_shift(self.vth, self.vth_shift)

    spiking_activation = PyLifModelBitAcc.spiking_activation


@implements(proc=LoihiLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyLoihiLifModelFloat(AbstractPyLifModelFloat):
    """Floating-point :class:`LoihiLIF`: Lava's ``PyLifRefractoryModelFloat`` with per-neuron
    ``du``, ``dv`` (decay fractions), ``vth`` and refractory period."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    du: np.ndarray = LavaPyType(np.ndarray, float)
    dv: np.ndarray = LavaPyType(np.ndarray, float)
    vth: np.ndarray = LavaPyType(np.ndarray, float)
    refractory_period: np.ndarray = LavaPyType(np.ndarray, int)
    refractory_period_end: np.ndarray = LavaPyType(np.ndarray, int)

    def spiking_activation(self):
        return self.v > self.vth

    def subthr_dynamics(self, activation_in: np.ndarray):
        # PyLifRefractoryModelFloat.subthr_dynamics with array-valued du, dv
        self.u[:] = self.u * (1 - self.du)
        self.u[:] += activation_in
        free = self.refractory_period_end < self.time_step
        self.v[free] = self.v[free] * (1 - self.dv[free]) + self.u[free] + self.bias_mant[free]

    def reset_voltage(self, spike_vector: np.ndarray):
        spiked = np.asarray(spike_vector).astype(bool)
        self.refractory_period_end[spiked] = self.time_step + self.refractory_period[spiked]
        self.v[spiked] = 0


# ---------------------------------------------------------------------------------------------
# Host I/O through shared memory-mapped files
# ---------------------------------------------------------------------------------------------

def _open_ring(path: str, dtype, shape, mode: str) -> np.memmap:
    return np.memmap(path, dtype=np.dtype(dtype), mode=mode, shape=tuple(shape))


class _HostIO:
    """Failure handling of the host I/O models. Lava's blocking ``run`` waits for ever when a
    process model raises while the others wait on its channels, so these models never raise:
    they keep sending and receiving what the protocol expects (zeros for a source), and the
    first error goes to the file ``<error_path>`` that :meth:`LavaGraph.run
    <neurohybrid.backends.lava.process_graph.LavaGraph.run>` checks after every run."""

    _failed = False

    def _fail(self, exc: BaseException) -> None:
        if not self._failed:
            self._failed = True
            import traceback
            try:
                with open(self.proc_params["error_path"], "w") as f:
                    f.write(f"{self.proc_params.get('label', '')}: {type(exc).__name__}: {exc}\n")
                    f.write(traceback.format_exc())
            except OSError:
                pass


class HostSpikeSource(AbstractProcess):
    """Binary spikes fed from the host: at Lava time step t it sends row
    ``(t - 1) % buffer_steps`` of the uint8 file ``path`` (shape ``[buffer_steps, n]``), which
    the host fills before each ``run()`` — the indexing of Lava's ``RingBuffer``. Failures are
    written to ``path + ".error"``."""

    def __init__(self, *, shape: tuple[int], path: str, buffer_steps: int, name: str | None = None) -> None:
        super().__init__(shape=shape, path=path, buffer_steps=int(buffer_steps), error_path=path + ".error",
                         label=str(name), name=name)
        self.s_out = OutPort(shape=shape)


class _HostSpikeSourceBase(_HostIO, PyLoihiProcessModel):
    def __init__(self, proc_params):
        super().__init__(proc_params)
        self._ring = None
        self._zeros = np.zeros(tuple(proc_params["shape"]), self._send_dtype)

    def run_spk(self):
        try:
            if self._ring is None:  # opened in the runtime's worker process, not at build time
                p = self.proc_params
                self._ring = _open_ring(p["path"], np.uint8, (p["buffer_steps"],) + tuple(p["shape"]), "r")
            data = self._ring[(self.time_step - 1) % self._ring.shape[0]].astype(self._send_dtype)
        except Exception as exc:  # noqa: BLE001 - see _HostIO
            self._fail(exc)
            data = self._zeros
        self.s_out.send(data)


@implements(proc=HostSpikeSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyHostSpikeSourceModel(_HostSpikeSourceBase):
    """Fixed-point host spike source (sends int32 0/1, as Lava's fixed RingBuffer)."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32)
    _send_dtype = np.int32


@implements(proc=HostSpikeSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyHostSpikeSourceModelFloat(_HostSpikeSourceBase):
    """Floating-point host spike source (sends 0.0/1.0, as Lava's float RingBuffer)."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    _send_dtype = float


class HostRecorder(AbstractProcess):
    """Records a neuron process's spikes (InPort ``s_in``) and, when ``record_uv``, its ``u`` and
    ``v`` (RefPorts ``u_ref``, ``v_ref``, read after the step's update and reset) into ring files
    ``{prefix}.spikes`` (uint8), ``{prefix}.u`` and ``{prefix}.v`` (``dtype``), each of shape
    ``[buffer_steps, n]``, row ``(t - 1) % buffer_steps`` for Lava time step t. Failures are
    written to ``{prefix}.error``.

    ``link_in``/``link_out`` (one element, always 0) chain the recorders of a graph together so
    that it forms one connected Lava network (Lava compiles and runs only the processes
    connected to the one ``run`` is called on); an unconnected link is simply idle."""

    def __init__(self, *, shape: tuple[int], prefix: str, buffer_steps: int, record_uv: bool,
                 dtype: str = "int32", name: str | None = None) -> None:
        super().__init__(shape=shape, prefix=prefix, buffer_steps=int(buffer_steps), record_uv=bool(record_uv),
                         dtype=dtype, error_path=prefix + ".error", label=str(name), name=name)
        self.s_in = InPort(shape=shape)
        self.link_in = InPort(shape=(1,))
        self.link_out = OutPort(shape=(1,))
        if record_uv:
            self.u_ref = RefPort(shape=shape)
            self.v_ref = RefPort(shape=shape)


@implements(proc=HostRecorder, protocol=LoihiProtocol)
@requires(CPU)
class PyHostRecorderModel(_HostIO, PyLoihiProcessModel):
    """Model of a :class:`HostRecorder` that records spikes only (``record_uv=False``; any
    numerics: spikes are stored as 0/1)."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    link_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32)
    link_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self._rings = None
        self._link_zero = np.zeros(1, np.int32)

    def _store(self, name: str, data) -> None:
        try:
            if self._rings is None:  # opened in the runtime's worker process, not at build time
                p = self.proc_params
                shape = (p["buffer_steps"],) + tuple(p["shape"])
                rings = {"spikes": _open_ring(p["prefix"] + ".spikes", np.uint8, shape, "r+")}
                if p["record_uv"]:
                    for var in ("u", "v"):
                        rings[var] = _open_ring(f"{p['prefix']}.{var}", p["dtype"], shape, "r+")
                self._rings = rings
            self._rings[name][(self.time_step - 1) % self.proc_params["buffer_steps"]] = data
        except Exception as exc:  # noqa: BLE001 - see _HostIO
            self._fail(exc)

    def run_spk(self):
        self._store("spikes", self.s_in.recv() != 0)
        self.link_out.send(self._link_zero)
        self.link_in.recv()


@implements(proc=HostRecorder, protocol=LoihiProtocol)
@requires(CPU)
class PyHostStateRecorderModel(PyHostRecorderModel):
    """Model of a :class:`HostRecorder` with ``record_uv=True``: spikes, and u, v read through
    the RefPorts in the post-management phase (after the step's update and reset, where a
    Lava Monitor reads them), stored in the ring files' dtype (int32 holds Lava's fixed-point
    state exactly; float64 for floating point)."""

    u_ref: PyRefPort = LavaPyType(PyRefPort.VEC_DENSE, float)
    v_ref: PyRefPort = LavaPyType(PyRefPort.VEC_DENSE, float)

    def post_guard(self):
        return True

    def run_post_mgmt(self):
        self._store("u", self.u_ref.read())
        self._store("v", self.v_ref.read())


# ---------------------------------------------------------------------------------------------
# Learning: a fixed-point LearningLIF that drives its learning ports, graded host input, Var
# recording
# ---------------------------------------------------------------------------------------------

@implements(proc=LearningLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyLearningLifModelFixed3F(PyLearningLIFModelFixed):
    """Fixed-point ``LearningLIF`` for 3-factor rules (module docstring): Lava's LIF arithmetic
    (``PyLearningLIFModelFixed`` = ``AbstractPyLifModelFixed`` + ``v > vth << 6``), then the
    third factor from ``a_third_factor_in`` and the y1..y3 trace rule, then the bAP and the
    traces on ``s_out_bap``, ``s_out_y1..3``. Parameters (process kwargs, 3 ints each, one per
    trace): ``y_decay`` 0..4096, ``y_impulse`` 0..127, ``y_reward`` 0/1, ``y_frac_bits`` 0..12
    (the fractional bits the neuron keeps: ``fixed_learning.ThirdFactorTraces``)."""

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self._y_decay = np.asarray(proc_params.get("y_decay", (0, 0, 0)), np.int64).reshape(3, -1)
        self._y_impulse = np.asarray(proc_params.get("y_impulse", (0, 0, 0)), np.int64).reshape(3, -1)
        self._y_reward = np.asarray(proc_params.get("y_reward", (0, 0, 0)), np.int64).reshape(3, -1)
        self._y_frac = np.asarray(proc_params.get("y_frac_bits", (0, 0, 0)), np.int64).reshape(3, -1)
        self._y_kept = None  # the traces with their fractional bits (ThirdFactorTraces.frac_bits)

    def run_spk(self) -> None:
        super().run_spk()  # a_in, u, v, spikes, reset, s_out
        third = self.a_third_factor_in.recv().astype(np.int64)
        spiked = np.asarray(self.s_out_buff).astype(bool)
        if self._y_kept is None:  # the Vars' initial values, without fraction
            self._y_kept = [np.asarray(getattr(self, name)).astype(np.int64) << self._y_frac[k]
                            for k, name in enumerate(("y1", "y2", "y3"))]
        for k, name in enumerate(("y1", "y2", "y3")):
            f = self._y_frac[k]
            p = self._y_kept[k] * (4096 - self._y_decay[k])
            decayed = np.sign(p) * np.right_shift(np.abs(p), 12)
            new = decayed + ((self._y_impulse[k] * spiked + self._y_reward[k] * third) << f)
            kept = np.clip(new, -(128 << f), (128 << f) - 1)
            self._y_kept[k] = kept
            sent = np.where(f > 0, (kept + ((1 << f) >> 1)) >> f, kept)
            getattr(self, name)[:] = np.clip(sent, -128, 127)
        self.s_out_bap.send(spiked)
        self.s_out_y1.send(self.y1)
        self.s_out_y2.send(self.y2)
        self.s_out_y3.send(self.y3)


class HostGradedSource(AbstractProcess):
    """Graded int32 values fed from the host: at Lava time step t it sends row
    ``(t - 1) % buffer_steps`` of the int32 file ``path`` (shape ``[buffer_steps, n]``)
    (:class:`HostSpikeSource` with values instead of spikes)."""

    def __init__(self, *, shape: tuple[int], path: str, buffer_steps: int, name: str | None = None) -> None:
        super().__init__(shape=shape, path=path, buffer_steps=int(buffer_steps), error_path=path + ".error",
                         label=str(name), name=name)
        self.s_out = OutPort(shape=shape)


@implements(proc=HostGradedSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyHostGradedSourceModel(_HostIO, PyLoihiProcessModel):
    """Model of :class:`HostGradedSource` (sends int32)."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self._ring = None
        self._zeros = np.zeros(tuple(proc_params["shape"]), np.int32)

    def run_spk(self):
        try:
            if self._ring is None:
                p = self.proc_params
                self._ring = _open_ring(p["path"], np.int32, (p["buffer_steps"],) + tuple(p["shape"]), "r")
            data = np.array(self._ring[(self.time_step - 1) % self._ring.shape[0]], np.int32)
        except Exception as exc:  # noqa: BLE001 - see _HostIO
            self._fail(exc)
            data = self._zeros
        self.s_out.send(data)


class HostVarRecorder(AbstractProcess):
    """Reads Vars of other processes at every step t that is a multiple of ``period``, after
    the learning phase (post-management), into float64 ring files ``{prefix}.{k}`` of shape
    ``[rows, *shape_k]`` (row ``(t // period - 1) % rows``). ``shapes``: one shape per Var,
    connected in order to the RefPorts ``ref0``, ``ref1``, ... (``connect_var``)."""

    def __init__(self, *, shapes, prefix: str, rows: int, period: int = 1, name: str | None = None) -> None:
        shapes = [tuple(int(d) for d in sh) for sh in shapes]
        super().__init__(shapes=shapes, prefix=prefix, rows=int(rows), period=int(period),
                         error_path=prefix + ".error", label=str(name), name=name)
        self.link_in = InPort(shape=(1,))
        for k, sh in enumerate(shapes):
            setattr(self, f"ref{k}", RefPort(shape=sh))


@implements(proc=HostVarRecorder, protocol=LoihiProtocol)
@requires(CPU)
class PyHostVarRecorderModel(_HostIO, PyLoihiProcessModel):
    """Model of :class:`HostVarRecorder` (RefPorts are added per instance: Lava builds a
    model's ports from its class attributes, so :func:`var_recorder_model` makes the class)."""

    link_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self._rings = None

    def run_spk(self):
        self.link_in.recv()

    def post_guard(self):
        return self.time_step % self.proc_params["period"] == 0

    def run_post_mgmt(self):
        try:
            p = self.proc_params
            if self._rings is None:
                self._rings = [_open_ring(f"{p['prefix']}.{k}", np.float64, (p["rows"],) + tuple(sh), "r+")
                               for k, sh in enumerate(p["shapes"])]
            row = (self.time_step // p["period"] - 1) % p["rows"]
            for k, ring in enumerate(self._rings):
                ring[row] = getattr(self, f"ref{k}").read()
        except Exception as exc:  # noqa: BLE001 - see _HostIO
            self._fail(exc)


_RECORDER_MODELS: dict = {}


def var_recorder_model(n_refs: int):
    """The ProcessModel class of a :class:`HostVarRecorder` with ``n_refs`` RefPorts."""
    if n_refs not in _RECORDER_MODELS:
        attrs = {f"ref{k}": LavaPyType(PyRefPort.VEC_DENSE, float) for k in range(n_refs)}
        attrs["__annotations__"] = {f"ref{k}": PyRefPort for k in range(n_refs)}
        cls = type(f"PyHostVarRecorderModel{n_refs}", (PyHostVarRecorderModel,), attrs)
        cls = implements(proc=HostVarRecorder, protocol=LoihiProtocol)(requires(CPU)(cls))
        _RECORDER_MODELS[n_refs] = cls
    return _RECORDER_MODELS[n_refs]
