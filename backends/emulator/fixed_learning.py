"""Loihi's on-chip learning in fixed point, bit-exact with Lava 0.10's ``LearningDense``.

The spec is Lava 0.10's ``fixed_pt`` model of ``LearningDense``,
``PyLearningDenseModelBitApproximate`` (``proc/dense/models.py``), i.e.
``LearningConnectionModelBitApproximate`` (``magma/core/model/py/connection.py``) with
``LearningRuleApplierBitApprox`` (``magma/core/learning/learning_rule_applier.py``),
``TraceRandom``/``ConnVarRandom`` (``magma/core/learning/random.py``) and ``stochastic_round``
(``magma/core/learning/utils.py``). The emulator re-implements that code in numba; the rule
arrives as plain arrays (:class:`neurohybrid.mappings.loihi.learning_rules.LearningRuleTables`),
Lava is never imported. This module is the spec (below) and the public face; the engine is
``fixed_learning_set.py`` (layout, packing, random streams, state), ``fixed_learning_kernels.py``
(the per-step kernels) and ``fixed_learning_rule.py`` (step e, the rule on the synapses).

Units: Loihi integers. Weights are 8-bit mantissas (the ``weight_exp`` shift is applied to the
summed input, as in ``Dense``); ``tag_2`` (the "delay" variable ``d``) is 0..255; ``tag_1`` (the
tag ``t``) -257..255; traces x1, x2 (per pre-synaptic neuron), y1, y2, y3 (per post-synaptic
neuron) are 7-bit (0..127; 3-factor y values come from the post-synaptic neuron, -128..127);
time in time steps; ``t_epoch`` is the learning epoch in steps.

One time step ``t`` (Lava ``time_step``, 1-based), in Lava's order:

1. spiking phase (``run_spk``): the input buffered in step ``t - 1`` is sent on (latency 1: a
   learning connection has no delays in Lava 0.10 — there is no learning ``DelayDense`` or
   ``DelaySparse``; ``tag_2`` is learned but delays nothing); the pre-synaptic spikes of step
   ``t`` are summed over the *current* weights and shifted by ``weight_exp`` (floor for
   negative exponents) into the buffer; then ``recv_traces``:

   a. pre spikes (``_process_pre_spikes``): a neuron that already spiked in this epoch
      (``tx > 0``) gets x1 and x2 impulses now, rounded with random number 0 (i.e. a
      fractional impulse always rounds up), saturated to [0, 127]; ``tx = e``, the
      within-epoch step ``e = t mod t_epoch`` (``t_epoch`` when 0);
   b. both trace generators advance (one ``random()`` and one ``integers(0, 128)`` draw each);
   c. post spikes (the bAP: the post-synaptic neuron's spikes of step ``t``): a neuron with
      ``ty > 0`` gets y1..y3 impulses now, rounded with the y generator's current integer
      (``r < frac``), saturated; ``ty = e``;
   d. 3-factor rules: y1, y2, y3 are overwritten by the values the post-synaptic neuron sends
      in this step;
   e. both trace generators advance again.

2. learning phase (``run_lrn``, only when ``t mod t_epoch == 0``), after every process's
   spiking phase:

   a. the synaptic-variable generator advances (one ``random()``; Lava seeds it with 2, for
      every connection);
   b. ``x0 = tx > 0``, ``y0 = ty > 0``;
   c. trace histories over the epoch, h[0] = the traces now, for s = 1..t_epoch:
      ``h[s] = floor(f * h[s-1]) + (r_decay < frac(f * h[s-1]))`` with ``f = np.exp(-1/tau)``
      (float64; ``tau = 0``: h[s] = 0), then for neurons whose ``tx`` (``ty``) is s:
      ``h[s] = clip(h[s] + int(impulse) + (r_impulse < frac_256(impulse)), 0, 127)``; the
      same two random numbers (the generators' current ones) for every s;
   d. the x traces become h[t_epoch]; the y traces too for 2-factor rules;
   e. each active target (weights, tag_2, tag_1), from the *old* values of all three:
      ``acc = v << 7``; per product: ``m = dependency`` (x0 of the pre, y0 of the post, or the
      scalar u = 1 when ``(t / t_epoch) mod 2**k == 0``), times each factor (trace values at
      the dependency's time: ``h[tx]`` for x0, ``h[ty]`` for y0, ``h[t_epoch]`` for u; factor
      + constant saturated to [-2**width, 2**width - 1]) with int32 wrap-around, times the
      mantissa (int32), ``>> max(0, widths + 4 - 15)``, ``<< (exponent + 7)`` (int32),
      saturated to [-32769, 32767]; ``acc = clip(acc + m, -32769, 32767)``. Then the sign
      saturation (weights: excitatory ``max(0, acc)``, inhibitory ``min(0, acc)``; tag_2
      ``max(0, acc)``), stochastic rounding to a multiple of 128 with the generator's number
      (``floor(acc / 128) + (r < frac(acc / 128))``), ``>> 7``, and the hardware range
      (weights: mixed [-256, 255], excitatory [0, 255], inhibitory [-255, 0]; tag_2 [0, 255];
      tag_1 [-257, 255]);
   f. ``tx = ty = 0``.

Random numbers: Lava's generators are numpy ``default_rng`` (PCG64) streams; they are drawn
here with numpy too, ahead of each run (a vector of draws equals Lava's draws one at a time),
so the kernel gets them as arrays. A synapse whose dependencies are all 0 in an epoch is
unchanged by the rule (any value in its hardware range is a fixed point of steps e), except
tag_1 = -257, which is tracked), so an epoch only visits the synapses of neurons that spiked
in it, unless the rule has a ``u`` term.

Weights: initial weights are truncated to ``num_weight_bits`` once (``truncate_weights``,
Lava's first ``run_spk``), not clipped; learned weights are not truncated again, only clipped.
"""
from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from neurohybrid.errors import ParameterError
from neurohybrid.mappings.loihi.learning_rules import LearningRuleTables

from .fixed_learning_kernels import (plastic_deliver, plastic_epoch, plastic_step, plastic_traces,  # noqa: F401
                                     third_factor_update)
from .fixed_learning_set import (M_EPOCH, M_NPOST, M_NPRE, M_TEPOCH, M_UNSTABLE, M_WOFF, M_XOFF,  # noqa: F401
                                 M_YOFF, N_META, SIGN_CODES, TAG1_RANGE, TAG2_RANGE, PlasticArrays, PlasticSet,
                                 PlasticSpec, truncate_weights, weight_range)

__all__ = ["PlasticArrays", "PlasticSet", "PlasticSpec", "ThirdFactorTraces", "Y_FRAC_BITS_MAX", "FixedLearningDense",
           "SIGN_CODES", "weight_range", "truncate_weights", "TAG1_RANGE", "TAG2_RANGE", "plastic_step",
           "third_factor_update"]


@dataclass
class ThirdFactorTraces:
    """The y1, y2, y3 traces that post-synaptic neurons of 3-factor rules keep and send to their
    learning connections every step (neurohybrid's fixed-point ``LearningLIF`` model, see
    ``backends/lava/models.py``): per neuron and trace k, after the neuron's update in step t,

    ``y_k = clip(trunc((y_k * (4096 - decay_k)) / 4096) + impulse_k * spike + reward_k * r, -128, 127)``

    where ``trunc`` rounds towards zero (the LIF's decay arithmetic) and ``r`` is the third
    factor the neuron receives in step t (graded, Loihi trace units). Arrays of shape [3, n]
    (or [3] broadcast): ``decay`` 0..4096 (4096: the trace holds only this step's input),
    ``impulse`` 0..127 per own spike, ``reward`` 0/1 (does trace k add the third factor).
    ``mask`` (bool [n]): the neurons that keep these traces (the others send none).

    ``frac_bits`` (0..12, [3, n] or [3]; default 0, the rule above): the neuron keeps trace k
    with F = frac_bits_k fractional bits, ``Y_k`` (the rule above on ``Y_k``, with the inputs
    shifted by F and the range ``[-128 << F, (128 << F) - 1]``), and sends
    ``y_k = clip((Y_k + 2**(F-1)) >> F, -128, 127)`` (rounded to nearest). With 7 bits and no
    fraction, ``trunc`` loses up to one unit per step, which for slow decays (a few units of
    1/4096 per step) turns the exponential into a line; 12 fractional bits make that loss
    1/4096 of a unit (see ``mappings/loihi/learning.py``)."""

    mask: np.ndarray
    decay: np.ndarray
    impulse: np.ndarray
    reward: np.ndarray
    frac_bits: np.ndarray | int = 0

#: largest number of fractional bits of a neuron's 3-factor trace (ThirdFactorTraces.frac_bits)
Y_FRAC_BITS_MAX = 12


# --------------------------------------------------------------------------------------------
# A single learning connection driven by given spikes (LearningDense fed by spike sources)
# --------------------------------------------------------------------------------------------

@numba.njit(cache=True)
def _drive(P, t0, n_steps, pre, post, y_in, RXD, RXI, RYD, RYI, RC, out_a, out_w, out_t1, out_t2, out_x, out_y,
           ring, record):
    n_post = P.meta[0, M_NPOST]
    for s in range(n_steps):
        k = t0 + s
        # Lava sends last step's buffer first: the activation record of step k is what the
        # connection emits in step k (computed in step k - 1)
        slot = k % ring.shape[0]
        for i in range(n_post):
            out_a[s, i] = ring[slot, i]
            ring[slot, i] = 0
        plastic_deliver(P, 0, k, pre[s], ring)
        plastic_traces(P, 0, k + 1, pre[s], post[s], y_in[s], RYI[0, 2 * s + 1])
        if (k + 1) % P.meta[0, M_TEPOCH] == 0:
            e = P.meta[0, M_EPOCH]
            plastic_epoch(P, 0, k + 1, RXD[0, 2 * s + 2], RXI[0, 2 * s + 2], RYD[0, 2 * s + 2], RYI[0, 2 * s + 2],
                          RC[0, e + 1])
        if record:
            S = P.w.shape[0]
            for q in range(S):
                out_w[s, q] = P.w[q]
                out_t1[s, q] = P.tag1[q]
                out_t2[s, q] = P.tag2[q]
            for kk in range(2):
                for j in range(P.x.shape[1]):
                    out_x[s, kk, j] = P.x[kk, j]
            for kk in range(3):
                for i in range(P.y.shape[1]):
                    out_y[s, kk, i] = P.y[kk, i]


class FixedLearningDense:
    """One Lava ``LearningDense`` (fixed_pt) driven by given pre and post spikes: the learning
    engine alone, for checks and experiments (a network uses :class:`PlasticSet` inside
    :class:`~.fixed.FixedPointNetwork`).

    ``weights`` [n_post, n_pre] (Loihi 8-bit mantissas within the sign mode's range), ``rule``
    (:class:`LearningRuleTables`), ``sign_mode``, ``num_weight_bits``, ``weight_exp``,
    ``tag_1``, ``tag_2`` as in :class:`PlasticSpec`.
    """

    def __init__(self, weights, rule: LearningRuleTables, *, sign_mode: str = "mixed", num_weight_bits: int = 8,
                 weight_exp: int = 0, tag_1=None, tag_2=None):
        self.set = PlasticSet([PlasticSpec(np.asarray(weights), rule, sign_mode, num_weight_bits, weight_exp,
                                           tag_1, tag_2)], owner=self)
        m = self.set.arrays.meta[0]
        self.n_pre, self.n_post = int(m[M_NPRE]), int(m[M_NPOST])
        self.ring = np.zeros((2, self.n_post), np.int64)
        self.time_step = 0

    def run(self, pre_spikes, post_spikes, y_in=None, record: bool = True) -> dict:
        """Advance ``len(pre_spikes)`` steps. ``pre_spikes`` bool [n, n_pre] (what ``s_in``
        receives in each step), ``post_spikes`` bool [n, n_post] (the bAP), ``y_in`` int
        [n, 3, n_post] (3-factor rules: y1..y3 sent by the post neuron). Returns per-step
        arrays after each step: ``a_out`` (activation the connection sends in that step),
        ``weights``/``tag_1``/``tag_2`` [n, n_post, n_pre], ``x`` [n, 2, n_pre], ``y`` [n, 3, n_post]."""
        pre = np.asarray(pre_spikes).astype(np.bool_)
        post = np.asarray(post_spikes).astype(np.bool_)
        n = pre.shape[0]
        if pre.shape != (n, self.n_pre) or post.shape != (n, self.n_post):
            raise ParameterError(self, "pre_spikes/post_spikes", f"shapes {pre.shape}, {post.shape}",
                                 f"({n}, {self.n_pre}) and ({n}, {self.n_post})")
        y = np.zeros((n, 3, self.n_post), np.int64) if y_in is None else np.asarray(y_in, np.int64)
        S = self.n_pre * self.n_post
        shp = (n, S) if record else (0, S)
        out_w, out_t1, out_t2 = (np.zeros(shp, np.int16) for _ in range(3))
        out_x = np.zeros((n if record else 0, 2, self.n_pre), np.int64)
        out_y = np.zeros((n if record else 0, 3, self.n_post), np.int64)
        out_a = np.zeros((n, self.n_post), np.int64)
        R = self.set.draw(self.time_step, n)
        _drive(self.set.arrays, self.time_step, n, pre, post, y, *R, out_a, out_w, out_t1, out_t2, out_x, out_y,
               self.ring, record)
        self.time_step += n
        mat = lambda v: v.reshape(v.shape[0], self.n_pre, self.n_post).transpose(0, 2, 1).astype(np.int64)  # noqa: E731
        return {"a_out": out_a, "weights": mat(out_w), "tag_1": mat(out_t1), "tag_2": mat(out_t2),
                "x": out_x, "y": out_y}

    def read(self) -> dict:
        """The connection's current state (:meth:`PlasticSet.read`)."""
        return self.set.read(0)

    def __repr__(self) -> str:
        return f"FixedLearningDense({getattr(self, 'n_post', '?')}x{getattr(self, 'n_pre', '?')})"
