"""Fixed-point mode of the emulator: Loihi integer LIF dynamics, bit-exact with Lava ``fixed_pt``.

The spec is the Lava 0.10 source; each integer operation of the kernel (``fixed_kernel.py``;
this module is the Python API) names the line it mirrors (paths relative to
``site-packages/lava``):

- neuron: ``proc/lif/models.py`` — ``AbstractPyLifModelFixed`` (L72-216) and
  ``PyLifModelBitAcc`` (L240-278); the refractory rule of ``PyLifRefractoryModelFloat``
  (L452-502), see *Refractoriness* below;
- synapses: ``proc/sparse/models.py`` — ``AbstractPySparseModelBitAcc`` (L58-107) and
  ``PyDelaySparseModelBitAcc`` (L310-372), with ``utils/weightutils.py``
  (``determine_sign_mode`` L21, ``truncate_weights`` L204, ``clip_weights`` L250);
- external input: ``proc/io/source.py`` — ``RingBuffer`` (``data[..., (time_step-1) % T]``).

Units: everything here is in Loihi's native integers. Time is in whole time steps (one Lava
``time_step``); ``u``, ``v`` are 24-bit-style state integers; ``du``, ``dv`` are 12-bit decay
mantissas (units of 1/4096 per step); ``vth`` is in units of 2**6 of ``v``; biases are
``bias_mant * 2**bias_exp`` in units of ``v`` per step; weights are 8-bit mantissas scaled by
``2**weight_exp`` in units of ``2**-6`` of ``u``. Conversion from PyNN units happens in
``neurohybrid.mappings``, not here.

One time step, exactly as Lava orders it (time step ``t`` = Lava's ``time_step``, 1-based):

1. every neuron receives the activation that the connections buffered for step ``t``;
2. ``u``, then ``v`` are updated, spikes are ``v > vth << 6``, ``v`` of spiking neurons is 0;
3. the spikes of step ``t`` (and the external input of step ``t``) go through the connections
   and land in a ring buffer at step ``t + delay``.

Delays: ``delay`` here is the whole latency, in steps, from a spike to the step in which it
enters ``u``, from 1 to :data:`MAX_DELAY` = 64. Lava's ``Sparse`` has latency 1 (its ``a_out``
sends last step's buffer, L93-96); ``DelaySparse`` with Lava delay ``k`` (0..63, 6 bits, L351)
has latency ``k + 1``. So ``DelaySparse(delays=d - 1)`` ≡ ``delay = d`` here.

Refractoriness: Lava 0.10 ships ``LIFRefractory`` with a ``floating_pt`` model only. With
``refractory_period = r > 0`` this module combines the fixed-point LIF arithmetic above with
that model's rule (L479-486): after a spike at step ``t`` the voltage is not integrated (it
stays at its reset value 0) during steps ``t+1 .. t+r``, while ``u`` keeps integrating.
``r = 0`` is exactly the plain ``LIF`` model. The bit-exact test checks this against Lava's own
``AbstractPyLifModelFixed`` code with that rule added (the composition a fixed-point
``LIFRefractory`` model in Lava would have).

``Dense``/``DelayDense`` (``proc/dense/models.py``) compute the same as ``Sparse``/``DelaySparse``,
so they map onto :class:`FixedConnection` too.

Exact as long as the weights reaching one neuron in one step sum to less than 2**31 in
magnitude (Lava's DelaySparse sums in int32 before its shift; far beyond any real fan-in).
Learning: plastic connections (Lava's ``LearningDense``, latency 1) and the neuron side of
3-factor rules run in the same step loop, in Lava's order (neurons, spikes, static connections,
then each plastic connection's delivery, traces and learning epoch): see ``fixed_learning.py``.

Not modelled: graded spikes (``num_message_bits > 0``), ``LIFReset``, ternary LIF.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from neurohybrid.errors import DelayError, ParameterError, SimulationStateError
from neurohybrid.mappings.loihi.runtime import lava_effective_weights, lava_sign_mode

from .fixed_arith import checked_ints
from .fixed_kernel import _DECAY_UNITY, _DM_OFFSET, _DS_OFFSET, _VTH_SHIFT, run_kernel
from .fixed_learning import Y_FRAC_BITS_MAX, ThirdFactorTraces
from .fixed_learning_set import PlasticSet, PlasticSpec

#: Longest spike-to-input latency, in time steps: Lava's DelaySparse delays are 6-bit (0..63,
#: ``proc/sparse/models.py`` L351) and add the one-step latency every connection has.
MAX_DELAY = 64


# Parameter ranges accepted (Loihi register widths, PyLifModelBitAcc docstring L250-258).
_DECAY_RANGE = (0, 4095)  # du, dv: unsigned 12 bit
_VTH_RANGE = (0, (1 << 17) - 1)  # unsigned 17 bit
_BIAS_MANT_RANGE = (-4096, 4095)  # signed 13 bit
_BIAS_EXP_RANGE = (-7, 7)  # 3-bit exponent; Lava also right-shifts for negative values (L117-121)
_WEIGHT_EXP_RANGE = (-8, 7)
_UV_RANGE = (-(1 << 31), (1 << 31) - 1)  # initial u, v: Lava stores them as int32

_SIGN_MODES = {"excitatory": 2, "inhibitory": 3, "mixed": 1}  # lava.utils.weightutils.SignMode


@dataclass
class FixedConnection:
    """One Lava fixed-point ``Sparse``/``DelaySparse`` process, as the emulator runs it.

    ``weights``: integer matrix of shape (n_target, n_source) — Lava's (post, pre) orientation —
    dense or scipy.sparse, 8-bit mantissas (Lava clips and truncates them, see
    :func:`lava_effective_weights`). ``delays``: latency in time steps (1..64), a scalar or a
    matrix of the same shape (dense, or sparse with an entry for every synapse).
    ``weight_exp``: shared exponent, applied by Lava to the *sum* of the weights that arrive
    together (same step, same delay, same target) — a floor for negative exponents.
    ``num_weight_bits``: 1..8. ``sign_mode``: ``"excitatory"``, ``"inhibitory"``, ``"mixed"``
    or None to infer it as Lava does. ``source``: ``"network"`` (the network's own neurons,
    n_source = n) or ``"input"`` (the external spike input, n_source = n_inputs).
    """

    weights: np.ndarray | sp.spmatrix
    delays: int | np.ndarray | sp.spmatrix = 1
    weight_exp: int = 0
    num_weight_bits: int = 8
    sign_mode: str | None = None
    source: str = "network"


class FixedPointRecord(NamedTuple):
    """What :meth:`FixedPointNetwork.run` returns: per-step arrays of shape [n_steps, n].

    ``spikes`` (bool): neuron fired in that step. ``u``, ``v`` (int32, Loihi state units): the
    values after that step's update and reset (what a Lava Monitor reads). ``u``/``v`` are None
    when the run was made with ``record_uv=False``.
    """

    spikes: np.ndarray
    u: np.ndarray | None
    v: np.ndarray | None


# --------------------------------------------------------------------------------------------
# Python API
# --------------------------------------------------------------------------------------------

def _int_array(owner, name, value, n, lo, hi):
    arr = np.asarray(value)
    if arr.ndim == 0:
        arr = np.full(n, arr.item())
    if arr.shape != (n,):
        raise ParameterError(owner, name, f"shape {arr.shape} does not match {n} neurons",
                             f"a scalar or an array of shape ({n},)")
    return checked_ints(owner, name, arr, lo, hi)


def _int_matrix3(owner, name, value, n, lo, hi):
    arr = np.asarray(value)
    if arr.ndim == 1 and arr.shape == (3,):
        arr = np.repeat(arr[:, None], n, axis=1)
    if arr.ndim == 0:
        arr = np.full((3, n), arr.item())
    if arr.shape != (3, n):
        raise ParameterError(owner, name, f"shape {arr.shape}", f"a scalar, 3 values or an array of shape (3, {n})")
    return checked_ints(owner, name, arr, lo, hi)


class FixedPointNetwork:
    """A network of Loihi fixed-point LIF neurons with sparse delayed connections.

    Bit-exact with Lava 0.10 ``Loihi2SimCfg(select_tag="fixed_pt")`` running one ``LIF``
    process (or ``LIFRefractory``, see the module docstring) fed by ``Sparse``/``DelaySparse``
    processes and a ``RingBuffer`` input: identical spikes, ``u`` and ``v`` at every step.

    Parameters (all in Loihi integer units, see the module docstring; per-neuron ones accept a
    scalar or an array of shape (n,)):

    - ``n``: number of neurons.
    - ``du``, ``dv``: decay mantissas, 0..4095: each step u is multiplied by (4095 - du)/4096
      (Lava's ``ds_offset`` of 1: du = 0 still leaks, du = 4095 clears u) and v by
      (4096 - dv)/4096 (dv = 0: no leak).
    - ``vth``: threshold mantissa, 0..131071; a neuron fires when v > vth * 64.
    - ``bias_mant`` (-4096..4095), ``bias_exp`` (-7..7): bias added to v every step,
      ``bias_mant << bias_exp`` (arithmetic ``>>`` for negative exponents).
    - ``refractory_period``: steps without v integration after a spike, 0 = plain LIF.
    - ``u0``, ``v0``: initial state.
    - ``weights``, ``delays``, ``weight_exp``, ``num_weight_bits``, ``sign_mode``: one
      recurrent connection (n × n, post × pre), as :class:`FixedConnection`.
    - ``input_weights`` (n × n_inputs), ``input_delays``, ``input_weight_exp``,
      ``input_num_weight_bits``, ``input_sign_mode``: one connection from the external input.
    - ``connections``: further :class:`FixedConnection` objects, each one Lava connection
      process (each has its own sign mode and applies its weight exponent on its own sums).
    - ``n_inputs``: number of external input channels (inferred from the input connections).
    - ``plastic``: :class:`~.fixed_learning.PlasticSpec` objects, each one Lava
      ``LearningDense`` (latency 1, a dense (n_post, n_pre) block of neurons ``post0..``, from
      neurons or inputs ``pre0..``), learning with its compiled rule; the bAP is the post
      neurons' spikes.
    - ``third_factor``: :class:`~.fixed_learning.ThirdFactorTraces`, the y1..y3 traces that
      post-synaptic neurons of 3-factor rules keep (neurohybrid's fixed-point ``LearningLIF``),
      fed by the ``third_factor_input`` of :meth:`run`.

    State persists across :meth:`run` calls, so a long run can be cut into windows.
    """

    def __init__(self, n: int, *, du, dv, vth, bias_mant=0, bias_exp=0, refractory_period=0,
                 u0=0, v0=0,
                 weights=None, delays=1, weight_exp: int = 0, num_weight_bits: int = 8,
                 sign_mode: str | None = None,
                 input_weights=None, input_delays=1, input_weight_exp: int = 0,
                 input_num_weight_bits: int = 8, input_sign_mode: str | None = None,
                 connections=(), n_inputs: int | None = None, plastic=(),
                 third_factor: ThirdFactorTraces | None = None):
        if int(n) != n or n < 0:
            raise ParameterError(self, "n", f"{n!r} is not a neuron count", "an integer >= 0")
        self.n = n = int(n)
        self.du = _int_array(self, "du", du, n, *_DECAY_RANGE)
        self.dv = _int_array(self, "dv", dv, n, *_DECAY_RANGE)
        self.vth = _int_array(self, "vth", vth, n, *_VTH_RANGE)
        self.bias_mant = _int_array(self, "bias_mant", bias_mant, n, *_BIAS_MANT_RANGE)
        self.bias_exp = _int_array(self, "bias_exp", bias_exp, n, *_BIAS_EXP_RANGE)
        self.refractory_period = _int_array(self, "refractory_period", refractory_period, n, 0, 2 ** 31 - 1)

        # Decay factors: L145/L149 (4096 - (du + ds_offset)) and L174/L180 (4096 - (dv + dm_offset)).
        self._decay_u = _DECAY_UNITY - (self.du + _DS_OFFSET)
        self._decay_v = _DECAY_UNITY - (self.dv + _DM_OFFSET)
        self._effective_registers()

        conns = [FixedConnection(c.weights if sp.issparse(c.weights) else np.asarray(c.weights), c.delays,
                                 c.weight_exp, c.num_weight_bits, c.sign_mode, c.source)
                 for c in connections]
        if weights is not None:
            weights = weights if sp.issparse(weights) else np.asarray(weights)
            conns.insert(0, FixedConnection(weights, delays, weight_exp, num_weight_bits, sign_mode, "network"))
        if input_weights is not None:
            input_weights = input_weights if sp.issparse(input_weights) else np.asarray(input_weights)
            conns.append(FixedConnection(input_weights, input_delays, input_weight_exp,
                                         input_num_weight_bits, input_sign_mode, "input"))
        self.n_inputs = self._infer_inputs(conns, n_inputs)
        self._build_connections(conns)
        self._build_plastic(list(plastic), third_factor)

        u0 = _int_array(self, "u0", u0, n, *_UV_RANGE)
        v0 = _int_array(self, "v0", v0, n, *_UV_RANGE)
        self._initial = (u0, v0)
        self.reset()

    def _effective_registers(self) -> None:
        # L273: effective_vth = vth << 6.
        self._vth_eff = self.vth << _VTH_SHIFT
        # L116-121: bias_mant (promoted to int32) << bias_exp, or >> -bias_exp when negative.
        self._bias_eff = np.where(self.bias_exp >= 0, self.bias_mant << np.maximum(self.bias_exp, 0),
                                  self.bias_mant >> np.maximum(-self.bias_exp, 0)).astype(np.int64)

    def set_neuron_parameters(self, cells: slice, *, vth=None, bias_mant=None, bias_exp=None) -> None:
        """Change the threshold and bias registers of neurons ``cells`` from the next step on
        (Loihi units as in the constructor; a field changes them between steps). State is kept."""
        n = len(range(*cells.indices(self.n)))
        for name, value, rng in (("vth", vth, _VTH_RANGE), ("bias_mant", bias_mant, _BIAS_MANT_RANGE),
                                 ("bias_exp", bias_exp, _BIAS_EXP_RANGE)):
            if value is not None:
                getattr(self, name)[cells] = _int_array(self, name, value, n, *rng)
        self._effective_registers()

    # -- construction helpers ------------------------------------------------------------

    def _infer_inputs(self, conns, n_inputs):
        widths = {c.weights.shape[1] for c in conns if c.source == "input"}
        if n_inputs is not None:
            widths.add(int(n_inputs))
        if len(widths) > 1:
            raise ParameterError(self, "input_weights", f"input connections disagree on the number of inputs {sorted(widths)}",
                                 "input weight matrices of shape (n, n_inputs) with one n_inputs")
        return widths.pop() if widths else 0

    def _build_connections(self, conns):
        n = self.n
        sources, exps, ptr0, nsrc, cdelay, cweight = [], [], [], [], [], []
        indptr_parts, tgt_parts, w_parts, d_parts = [], [], [], []
        offset_syn = 0
        offset_ptr = 0
        self.max_delay = 1
        for ci, conn in enumerate(conns):
            name = f"connections[{ci}]"
            if conn.source not in ("network", "input"):
                raise ParameterError(self, f"{name}.source", f"{conn.source!r}", "'network' or 'input'")
            n_src = n if conn.source == "network" else self.n_inputs
            if conn.weights.ndim != 2 or conn.weights.shape != (n, n_src):
                raise ParameterError(self, f"{name}.weights", f"shape {conn.weights.shape}",
                                     f"a (n_target, n_source) = ({n}, {n_src}) matrix")
            if not (_WEIGHT_EXP_RANGE[0] <= int(conn.weight_exp) <= _WEIGHT_EXP_RANGE[1]):
                raise ParameterError(self, f"{name}.weight_exp", f"{conn.weight_exp}",
                                     f"an integer in {list(_WEIGHT_EXP_RANGE)}")
            if not 1 <= int(conn.num_weight_bits) <= 8:
                raise ParameterError(self, f"{name}.num_weight_bits", f"{conn.num_weight_bits}", "1..8")
            w = sp.csr_matrix(conn.weights)
            if w.nnz and not np.all(w.data == np.round(w.data)):
                raise ParameterError(self, f"{name}.weights", "not integer-valued", "integer weight mantissas")
            mode = conn.sign_mode if conn.sign_mode is not None else lava_sign_mode(w)
            if mode not in _SIGN_MODES:
                raise ParameterError(self, f"{name}.sign_mode", f"{mode!r}", ", ".join(_SIGN_MODES))
            coo = w.tocoo()
            nonzero = coo.data != 0  # explicit zeros are not synapses (and need no delay)
            rows, cols = coo.row[nonzero].astype(np.int64), coo.col[nonzero].astype(np.int64)
            dly = self._synapse_delays(name, conn.delays, rows, cols, (n, n_src))
            eff = lava_effective_weights(coo.data[nonzero], mode, int(conn.num_weight_bits))
            keep = eff != 0  # zero weights contribute nothing (Lava's truncate drops them too)
            rows, cols, eff, dly = rows[keep], cols[keep], eff[keep], dly[keep]
            if dly.size:
                self.max_delay = max(self.max_delay, int(dly.max()))
            # Column-major (by source) so a spike reads one contiguous run of synapses.
            order = np.lexsort((rows, cols))
            rows, cols, eff, dly = rows[order], cols[order], eff[order], dly[order]
            counts = np.bincount(cols, minlength=n_src)
            ip = np.zeros(n_src + 1, np.int64)
            np.cumsum(counts, out=ip[1:])
            indptr_parts.append(ip + offset_syn)
            tgt_parts.append(rows)
            # exp >= 0: stored as w << exp (at most 255 << 7 in magnitude: fits int16), added
            # straight into the ring by the kernel; exp < 0: the raw mantissa, summed first.
            w_stored = eff << max(int(conn.weight_exp), 0)
            w_parts.append(w_stored)
            # One weight for the whole connection (PyNN's scalar weights) spares reading it
            # per event; 0 = weights differ (stored weights are never 0).
            uniform_w = w_stored.size and np.all(w_stored == w_stored[0])
            cweight.append(int(w_stored[0]) if uniform_w and conn.weight_exp >= 0 else 0)
            d_parts.append(dly)
            # One delay for the whole connection (the usual case) spares a lookup per event.
            cdelay.append(int(dly[0]) if dly.size and np.all(dly == dly[0]) else 0)
            sources.append(0 if conn.source == "network" else 1)
            exps.append(int(conn.weight_exp))
            ptr0.append(offset_ptr)
            nsrc.append(n_src)
            offset_syn += rows.size
            offset_ptr += n_src + 1
        # Compact synapse storage (the kernel is bound by streaming these): int32 targets,
        # int16 weights (8-bit mantissas, shifted by at most 7), uint8 delays (1..64).
        cat = lambda parts, dt: np.concatenate(parts).astype(dt) if parts else np.zeros(0, dt)
        self._conn_source = np.asarray(sources, np.int64)
        self._conn_exp = np.asarray(exps, np.int64)
        self._conn_ptr0 = np.asarray(ptr0, np.int64)
        self._conn_nsrc = np.asarray(nsrc, np.int64)
        self._conn_delay = np.asarray(cdelay, np.int64)
        self._conn_weight = np.asarray(cweight, np.int64)
        self._indptr = cat(indptr_parts, np.int64)
        self._targets = cat(tgt_parts, np.int32)
        self._weights = cat(w_parts, np.int16)
        self._delays = cat(d_parts, np.uint8)
        self.n_synapses = int(self._targets.size)

    def _build_plastic(self, specs, third_factor) -> None:
        n = self.n
        tf = third_factor
        mask = np.zeros(n, np.bool_)
        full = lambda name, a, lo, hi: _int_matrix3(self, f"third_factor.{name}", a, n, lo, hi)  # noqa: E731
        if tf is not None:
            mask = np.asarray(tf.mask, np.bool_)
            if mask.shape != (n,):
                raise ParameterError(self, "third_factor.mask", f"shape {mask.shape}", f"a bool array of shape ({n},)")
            self._ydec, self._yimp = full("decay", tf.decay, 0, 4096), full("impulse", tf.impulse, 0, 127)
            self._yrew = full("reward", tf.reward, 0, 1)
            self._yfrac = full("frac_bits", getattr(tf, "frac_bits", 0), 0, Y_FRAC_BITS_MAX)
        else:
            self._ydec = self._yimp = self._yrew = self._yfrac = np.zeros((3, n), np.int64)
        self._tf_idx = np.flatnonzero(mask).astype(np.int64)
        self._tf_mask = mask
        for c, spec in enumerate(specs):
            if not isinstance(spec, PlasticSpec):
                raise ParameterError(self, f"plastic[{c}]", f"{type(spec).__name__}", "PlasticSpec objects")
            w = np.asarray(spec.weights)
            n_src = n if spec.source == 0 else self.n_inputs
            if spec.source not in (0, 1):
                raise ParameterError(self, f"plastic[{c}].source", f"{spec.source!r}", "0 (network) or 1 (input)")
            if w.ndim != 2 or not (0 <= spec.post0 and spec.post0 + w.shape[0] <= n
                                   and 0 <= spec.pre0 and spec.pre0 + w.shape[1] <= n_src):
                raise ParameterError(self, f"plastic[{c}].weights", f"shape {w.shape} at post0={spec.post0}, "
                                     f"pre0={spec.pre0}", f"a block inside ({n}, {n_src})")
            if spec.rule.three_factor and not np.all(mask[spec.post0:spec.post0 + w.shape[0]]):
                raise ParameterError(self, f"plastic[{c}].rule", "a 3-factor rule onto neurons without third-factor "
                                     "traces", "third_factor=ThirdFactorTraces(mask covering the post neurons)")
        self.plastic = PlasticSet(specs, owner=self)

    def _synapse_delays(self, name, delays, rows, cols, shape):
        if sp.issparse(delays):
            d = np.asarray(sp.csr_matrix(delays)[rows, cols]).ravel() if rows.size else np.zeros(0)
        else:
            arr = np.asarray(delays)
            if arr.ndim == 0:
                d = np.full(rows.size, arr.item())
            elif arr.shape == shape:
                d = arr[rows, cols]
            else:
                raise DelayError(self, f"{name}.delays", f"shape {arr.shape}",
                                 f"a scalar or a matrix of shape {shape}")
        if d.size and not np.all(d == np.round(d)):
            raise DelayError(self, f"{name}.delays", "not whole time steps", f"integers in [1, {MAX_DELAY}]")
        d = d.astype(np.int64)
        if d.size and (d.min() < 1 or d.max() > MAX_DELAY):
            raise DelayError(self, f"{name}.delays", f"values in [{d.min()}, {d.max()}] out of range",
                             f"integers in [1, {MAX_DELAY}] (Lava DelaySparse delay + 1)")
        return d

    # -- state -----------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to step 0 with the initial u, v and empty synaptic buffers."""
        u0, v0 = self._initial
        self.u = u0.copy()
        self.v = v0.copy()
        self.ref_end = np.zeros(self.n, np.int64)  # Lava's refractory_period_end Var, init 0
        self.ring = np.zeros((self.max_delay + 1, self.n), np.int64)
        self.time_step = 0  # number of steps done; the next step is Lava time_step + 1
        self.neuron_y = np.zeros((3, self.n), np.int64)  # 3-factor traces the neurons send
        self.neuron_yint = np.zeros((3, self.n), np.int64)  # ... and keep (ThirdFactorTraces.frac_bits)
        self.plastic_record = None  # per-step learning state of the last run (run(record_plastic=True))
        if hasattr(self, "plastic"):
            self.plastic.reset()

    def state(self) -> dict:
        """A copy of the full dynamic state (for checkpoints)."""
        out = {"u": self.u.copy(), "v": self.v.copy(), "ref_end": self.ref_end.copy(),
               "ring": self.ring.copy(), "time_step": self.time_step}
        if self.plastic.n or self._tf_idx.size:
            out["neuron_y"] = self.neuron_y.copy()
            out["neuron_yint"] = self.neuron_yint.copy()
            out.update({f"plastic/{k}": v for k, v in self.plastic.state().items()})
        return out

    def restore(self, state: dict) -> None:
        """Restore a state returned by :meth:`state`."""
        self.u, self.v = state["u"].copy(), state["v"].copy()
        self.ref_end, self.ring = state["ref_end"].copy(), state["ring"].copy()
        self.time_step = int(state["time_step"])
        if self.plastic.n or self._tf_idx.size:
            self.neuron_y = np.asarray(state["neuron_y"], np.int64).copy()
            self.neuron_yint = np.asarray(state.get("neuron_yint", state["neuron_y"]), np.int64).copy()
            self.plastic.restore({k[len("plastic/"):]: v for k, v in state.items() if k.startswith("plastic/")})

    def plastic_state(self, index: int) -> dict:
        """Plastic connection ``index``'s weights, tags and traces now (Lava's layout; see
        :meth:`.fixed_learning.PlasticSet.read`)."""
        if not 0 <= index < self.plastic.n:
            raise ParameterError(self, "plastic_state", f"index {index}", f"0..{self.plastic.n - 1}")
        return self.plastic.read(index)

    # -- running ---------------------------------------------------------------------------

    def run(self, n_steps: int, input_spikes=None, record_uv: bool = True, third_factor_input=None,
            record_plastic: bool = False) -> FixedPointRecord:
        """Advance ``n_steps`` time steps.

        ``input_spikes``: bool array [n_steps, n_inputs], the external spikes emitted in each
        step (row k is what a Lava ``RingBuffer`` sends at its time step k+1, i.e. its
        ``data[:, k].T``); None means no input. ``third_factor_input``: int array
        [n_steps, n], the third factor each neuron receives in each step (used by neurons with
        third-factor traces; Loihi trace units). ``record_plastic``: record every plastic
        connection's weights, tags and traces after every step into :attr:`plastic_record`:
        per plastic connection c, ``plastic_record[c]`` = dict of per-step arrays (Lava's
        layout) ``weights``, ``tag_1``, ``tag_2`` [n_steps, n_post, n_pre], ``x1``, ``x2``
        [n_steps, n_pre], ``y1``, ``y2``, ``y3`` [n_steps, n_post]; and
        ``plastic_record["neuron_y"]``: the neurons' 3-factor traces [n_steps, 3, n].
        Returns a :class:`FixedPointRecord`.
        """
        if int(n_steps) != n_steps or n_steps < 0:
            raise SimulationStateError(self, "n_steps", f"{n_steps!r}", "an integer >= 0")
        n_steps = int(n_steps)
        if input_spikes is None:
            inp = np.zeros((n_steps, self.n_inputs), np.bool_)
        else:
            inp = np.asarray(input_spikes)
            if inp.shape != (n_steps, self.n_inputs):
                raise ParameterError(self, "input_spikes", f"shape {inp.shape}",
                                     f"a bool array of shape (n_steps, n_inputs) = ({n_steps}, {self.n_inputs})")
            inp = inp.astype(np.bool_)
        spikes = np.zeros((n_steps, self.n), np.bool_)
        shape_uv = (n_steps, self.n) if record_uv else (0, self.n)
        u_out = np.zeros(shape_uv, np.int32)
        v_out = np.zeros(shape_uv, np.int32)
        n_slots = self.max_delay + 1
        # Scratch for the per-step sums of negative-exponent connections only.
        n_scratch = n_slots * self.n if np.any(self._conn_exp < 0) else 0
        raw = np.zeros(n_scratch, np.int64)
        touched = np.zeros(n_scratch, np.bool_)
        touched_list = np.zeros(n_scratch, np.int64)
        fired_list = np.zeros(self.n, np.int64)
        input_list = np.zeros(self.n_inputs, np.int64)
        if third_factor_input is None:
            r3 = np.zeros((n_steps if self._tf_idx.size else 0, self.n), np.int64)
        else:
            r3 = np.asarray(third_factor_input)
            if r3.shape != (n_steps, self.n) or (r3.size and not np.all(r3 == np.round(r3))):
                raise ParameterError(self, "third_factor_input", f"shape {r3.shape}",
                                     f"an integer array of shape (n_steps, n) = ({n_steps}, {self.n})")
            r3 = r3.astype(np.int64)
        P = self.plastic.arrays
        R = self.plastic.draw(self.time_step, n_steps)
        rec = self._plastic_records(n_steps if record_plastic and (self.plastic.n or self._tf_idx.size) else 0)
        run_kernel(n_steps, self.time_step, self.u, self.v, self.ref_end, self.ring,
                    self._decay_u, self._decay_v, self._vth_eff, self._bias_eff,
                    self.refractory_period,
                    self._conn_source, self._conn_exp, self._conn_ptr0, self._conn_delay,
                    self._conn_weight,
                    self._indptr, self._targets, self._weights, self._delays,
                    raw, touched, touched_list, inp, fired_list, input_list,
                    spikes, u_out, v_out, record_uv,
                    P, *R, self.neuron_y, self.neuron_yint, self._tf_idx, self._ydec, self._yimp, self._yrew,
                    self._yfrac, r3,
                    *rec, bool(record_plastic))
        self.time_step += n_steps
        self.plastic_record = self._split_plastic(rec) if record_plastic else None
        return FixedPointRecord(spikes, u_out if record_uv else None, v_out if record_uv else None)

    def _plastic_records(self, n_steps: int):
        P = self.plastic.arrays
        return (np.zeros((n_steps, P.w.size), np.int16), np.zeros((n_steps, P.w.size), np.int16),
                np.zeros((n_steps, P.w.size), np.int16), np.zeros((n_steps,) + P.x.shape, np.int64),
                np.zeros((n_steps,) + P.y.shape, np.int64), np.zeros((n_steps, 3, self.n), np.int64))

    def _split_plastic(self, rec) -> dict:
        from .fixed_learning_set import M_NPOST, M_NPRE, M_WOFF, M_XOFF, M_YOFF
        rw, rt1, rt2, rx, ry, rys = rec
        out = {"neuron_y": rys}
        for c in range(self.plastic.n):
            m = self.plastic.arrays.meta[c]
            npre, npost, wo, xo, yo = (int(m[q]) for q in (M_NPRE, M_NPOST, M_WOFF, M_XOFF, M_YOFF))
            mat = lambda a: a[:, wo:wo + npre * npost].reshape(-1, npre, npost).transpose(0, 2, 1).astype(np.int64)  # noqa: E731
            out[c] = {"weights": mat(rw), "tag_1": mat(rt1), "tag_2": mat(rt2),
                      "x1": rx[:, 0, xo:xo + npre], "x2": rx[:, 1, xo:xo + npre],
                      "y1": ry[:, 0, yo:yo + npost], "y2": ry[:, 1, yo:yo + npost], "y3": ry[:, 2, yo:yo + npost]}
        return out

    def __repr__(self) -> str:
        # Also used in error messages raised while __init__ is still running.
        parts = [f"n={getattr(self, 'n', '?')}"]
        if hasattr(self, "n_synapses"):
            parts += [f"synapses={self.n_synapses}", f"inputs={self.n_inputs}"]
        return f"FixedPointNetwork({', '.join(parts)})"
