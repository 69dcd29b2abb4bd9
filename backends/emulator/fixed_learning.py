"""Loihi's on-chip learning in fixed point, bit-exact with Lava 0.10's ``LearningDense``.

The spec is Lava 0.10's ``fixed_pt`` model of ``LearningDense``,
``PyLearningDenseModelBitApproximate`` (``proc/dense/models.py``), i.e.
``LearningConnectionModelBitApproximate`` (``magma/core/model/py/connection.py``) with
``LearningRuleApplierBitApprox`` (``magma/core/learning/learning_rule_applier.py``),
``TraceRandom``/``ConnVarRandom`` (``magma/core/learning/random.py``) and ``stochastic_round``
(``magma/core/learning/utils.py``). Everything here re-implements that code in numba; the rule
arrives as plain arrays (:class:`neurohybrid.mappings.loihi.learning_rules.LearningRuleTables`),
Lava is never imported.

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
from typing import NamedTuple

import numba
import numpy as np

from neurohybrid.errors import DelayError, ParameterError
from neurohybrid.mappings.loihi.learning_rules import LearningRuleTables

__all__ = ["PlasticArrays", "PlasticSet", "ThirdFactorTraces", "Y_FRAC_BITS_MAX", "FixedLearningDense", "SIGN_CODES",
           "weight_range", "TAG1_RANGE", "TAG2_RANGE"]

SIGN_CODES = {"mixed": 1, "excitatory": 2, "inhibitory": 3}  # lava.utils.weightutils.SignMode
TAG1_RANGE = (-257, 255)  # _saturate_synaptic_variable: [-(2**8) - 1, 2**8 - 1]
TAG2_RANGE = (0, 255)
_ACC_LO, _ACC_HI = -32769, 32767  # [-(2**15) - 1, 2**15 - 1]
_Y_RANGE = (-128, 127)  # 3-factor y traces sent by a neuron (7 bits + sign: the factor saturation)

# meta columns of a plastic connection
(M_SRC, M_PRE0, M_NPRE, M_POST0, M_NPOST, M_WOFF, M_EXP, M_SIGN, M_TEPOCH, M_THREEF, M_P0, M_NP, M_DECK,
 M_XOFF, M_YOFF, M_UNSTABLE, M_DEPX0, M_DEPY0, M_DEPU, M_HAS_T, M_EPOCH) = range(21)
N_META = 21


def weight_range(sign_mode: str) -> tuple[int, int]:
    """The range ``clip_weights(..., num_bits=8)`` keeps for a sign mode."""
    return {"mixed": (-256, 255), "excitatory": (0, 255), "inhibitory": (-255, 0)}[sign_mode]


class PlasticArrays(NamedTuple):
    """Everything the kernel needs of the plastic connections of a network, packed (numba takes
    a NamedTuple of arrays). Synapse arrays are pre-major: synapse (post i, pre j) of
    connection c is at ``meta[c, M_WOFF] + j * n_post + i``."""

    meta: np.ndarray        # int64 [K, N_META]
    prod: np.ndarray        # int64 [P, 7]: target, dep, mant, exp, shift, f0, nf
    fac: np.ndarray         # int64 [F, 5]: kind, const, sgn, lo, hi
    imp_int: np.ndarray     # int64 [K, 5]
    imp_frac: np.ndarray    # int64 [K, 5]
    decay: np.ndarray       # float64 [K, 5]
    tau_zero: np.ndarray    # bool [K, 5]
    w: np.ndarray           # int16 [S]
    tag2: np.ndarray        # int16 [S]
    tag1: np.ndarray        # int16 [S]
    x: np.ndarray           # int64 [2, total pre]
    y: np.ndarray           # int64 [3, total post]
    tx: np.ndarray          # int64 [total pre]
    ty: np.ndarray          # int64 [total post]
    xh: np.ndarray          # int64 scratch [T + 1, 2, max pre]
    yh: np.ndarray          # int64 scratch [T + 1, 3, max post]
    acc: np.ndarray         # int64 scratch [max post]
    rows: np.ndarray        # int64 scratch [max post]
    mv: np.ndarray          # int64 scratch [max products, max(pre, post)]
    act: np.ndarray         # int64 scratch [max products]
    lacc: np.ndarray        # int64 scratch [max(pre, post)]
    lidx: np.ndarray        # int64 scratch [max(pre, post)]


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
# numba kernels
# --------------------------------------------------------------------------------------------

@numba.njit(cache=True, inline="always")
def _wrap32(x):
    return ((x + 2147483648) & 4294967295) - 2147483648


@numba.njit(cache=True, inline="always")
def _clip(x, lo, hi):
    return lo if x < lo else (hi if x > hi else x)


@numba.njit(cache=True, inline="always")
def _frac1(q):
    # numpy's float remainder q % 1.0 (npy_divmod: fmod(q, 1), + 1.0 when negative): the
    # same double as q - floor(q) (fmod is exact, and for negative q both round the same exact
    # value once), without the libm call
    return q - np.floor(q)


@numba.njit(cache=True, inline="always")
def _decay_trace(v, f, r):
    # _decay_trace: p = f * v (float64); floor(p) + (r < p % 1)
    p = f * np.float64(v)
    fl = np.floor(p)
    return np.int64(fl) + (1 if r < _frac1(p) else 0)


@numba.njit(cache=True, inline="always")
def _add_impulse(v, r, ii, fr):
    # _add_impulse: clip(v + int + (r < frac), 0, 127)
    return _clip(v + ii + (1 if r < fr else 0), 0, 127)


@numba.njit(cache=True, nogil=True)
def plastic_deliver(P, c, k, pre_spk, ring):
    """Spiking phase, first half: the pre spikes of step k (bool array over the source's index
    space) summed over connection c's current weights, shifted by weight_exp, into the ring
    row of step k + 1 (latency 1)."""
    m = P.meta[c]
    npre, npost, p0, q0, woff, exp = m[M_NPRE], m[M_NPOST], m[M_PRE0], m[M_POST0], m[M_WOFF], m[M_EXP]
    row = ring[(k + 1) % ring.shape[0]]
    w = P.w
    if exp >= 0:
        for j in range(npre):
            if pre_spk[p0 + j]:
                base = woff + j * npost
                for i in range(npost):
                    row[q0 + i] += np.int64(w[base + i]) << exp
        return
    acc = P.acc
    any_spike = False
    for j in range(npre):
        if pre_spk[p0 + j]:
            if not any_spike:
                for i in range(npost):
                    acc[i] = 0
                any_spike = True
            base = woff + j * npost
            for i in range(npost):
                acc[i] += w[base + i]
    if any_spike:
        for i in range(npost):
            row[q0 + i] += acc[i] >> (-exp)


@numba.njit(cache=True, nogil=True)
def plastic_traces(P, c, time_step, pre_spk, post_spk, y_in, r_y_imp):
    """Spiking phase, second half (``recv_traces``) of connection c in Lava time step
    ``time_step``: pre spikes (a), post spikes (c) with the y generator's integer ``r_y_imp``
    (the draw after the first advance), and the 3-factor y values ``y_in`` ([3, n] over the
    post index space of the network)."""
    m = P.meta[c]
    npre, npost, p0, q0 = m[M_NPRE], m[M_NPOST], m[M_PRE0], m[M_POST0]
    xo, yo, T = m[M_XOFF], m[M_YOFF], m[M_TEPOCH]
    e = time_step % T
    if e == 0:
        e = T
    ii, fr = P.imp_int[c], P.imp_frac[c]
    x, y, tx, ty = P.x, P.y, P.tx, P.ty
    for j in range(npre):
        if pre_spk[p0 + j]:
            if tx[xo + j] > 0:
                x[0, xo + j] = _add_impulse(x[0, xo + j], 0, ii[0], fr[0])
                x[1, xo + j] = _add_impulse(x[1, xo + j], 0, ii[1], fr[1])
            tx[xo + j] = e
    for i in range(npost):
        if post_spk[q0 + i]:
            if ty[yo + i] > 0:
                for kk in range(3):
                    y[kk, yo + i] = _add_impulse(y[kk, yo + i], r_y_imp, ii[2 + kk], fr[2 + kk])
            ty[yo + i] = e
    if m[M_THREEF]:
        for kk in range(3):
            for i in range(npost):
                y[kk, yo + i] = y_in[kk, q0 + i]


@numba.njit(cache=True, inline="always")
def _bounds(target, sign):
    """The accumulator's sign saturation (``_saturate_synaptic_variable_accumulator``: weights
    of one sign, tag_2 >= 0) and the hardware range (``_saturate_synaptic_variable``) of a
    target, as (acc_lo, acc_hi, lo, hi)."""
    if target == 0:
        if sign == 2:
            return 0, _ACC_HI, 0, 255
        if sign == 3:
            return _ACC_LO, 0, -255, 0
        return _ACC_LO, _ACC_HI, -256, 255
    if target == 1:
        return 0, _ACC_HI, 0, 255
    return _ACC_LO, _ACC_HI, TAG1_RANGE[0], TAG1_RANGE[1]


@numba.njit(cache=True, inline="always")
def _finish(acc, rk, alo, ahi, lo, hi):
    # sign saturation, _stochastic_round_synaptic_variable (>> 7 included), hardware range.
    # acc / 128 is exact in float64 (|acc| < 2**16), so floor is acc >> 7 and the fraction
    # (acc mod 128) / 128; Lava's ``r < frac`` is then ``acc & 127 > rk`` with rk =
    # floor(128 r) (128 r is exact, and for an integer k: r * 128 < k iff floor(r * 128) < k)
    acc = _clip(acc, alo, ahi)
    return _clip((acc >> 7) + (1 if (acc & 127) > rk else 0), lo, hi)


@numba.njit(cache=True, inline="always")
def _factor(fv, cst, sgn, lo, hi):
    # one factor of a product: its constant, sgn(), saturation to its width
    fv += cst
    if sgn:
        fv = np.int64(1) if fv > 0 else (np.int64(-1) if fv < 0 else np.int64(0))
    return _clip(fv, lo, hi)


@numba.njit(cache=True, inline="always")
def _scaled(cur, mant, shift, sexp):
    # the factors' product times the mantissa (int32 wrap-around at each step), shifted to
    # the accumulator's scale, saturated: what one product adds to the accumulator
    return _clip(_wrap32(_wrap32(cur * mant) >> shift << sexp), _ACC_LO, _ACC_HI)


@numba.njit(cache=True, inline="always")
def _synaptic(kind, W, TAG2, TAG1):
    # the synaptic variable a factor of kind 7 (w), 8 (d) or 9 (t) reads
    return W if kind == 7 else (TAG2 if kind == 8 else TAG1)


@numba.njit(cache=True, inline="always")
def _product_at(PROD, FAC, p, td, x0, y0, j, i, s, XH, YH, W, TAG2, TAG1):
    """What product p adds at synapse s = (post i, pre j) when its dependency is 1, with the
    traces at step ``td`` of the history."""
    cur = np.int64(1)
    for f in range(PROD[p, 5], PROD[p, 5] + PROD[p, 6]):
        kind = FAC[f, 0]
        if kind == 0:
            fv = np.int64(x0)
        elif kind == 1:
            fv = np.int64(y0)
        elif kind <= 3:
            fv = XH[td, kind - 2, j]
        elif kind <= 6:
            fv = YH[td, kind - 4, i]
        elif kind <= 9:
            fv = np.int64(_synaptic(kind, W, TAG2, TAG1)[s])
        else:
            fv = np.int64(0)
        cur = _wrap32(cur * _factor(fv, FAC[f, 1], FAC[f, 2], FAC[f, 3], FAC[f, 4]))
    return _scaled(cur, PROD[p, 2], PROD[p, 4], PROD[p, 3])


@numba.njit(cache=True, inline="always")
def _product_lanes(out, PROD, FAC, p, td, by_pre, fixed, n, own0, tx, ty, xo, yo, XH, YH, W, TAG2, TAG1, base,
                   stride):
    """``out[:n]``: what product p adds on each lane of a pass when its dependency is 1 on all
    of them, with the traces at step ``td``. Column pass (``by_pre``): pre ``fixed``, lanes
    the posts; row pass: post ``fixed``, lanes the pres; lane q is synapse ``base + q *
    stride``; ``own0``: x0 (column) or y0 (row) of the fixed neuron. A factor that is the same
    on every lane is taken once; when one of those is 0 the product is 0 everywhere: returns 0
    (``out`` is then not valid), else 1. (Lanes index views from 0: LLVM vectorises the loops.)"""
    for q in range(n):
        out[q] = 1
    for f in range(PROD[p, 5], PROD[p, 5] + PROD[p, 6]):
        kind, cst, sgn, lo, hi = FAC[f, 0], FAC[f, 1], FAC[f, 2], FAC[f, 3], FAC[f, 4]
        if kind >= 10 or (by_pre and (kind == 0 or 2 <= kind <= 3)) or (not by_pre and (kind == 1 or 4 <= kind <= 6)):
            if kind >= 10:
                fv = np.int64(0)
            elif kind <= 1:
                fv = np.int64(own0)
            elif kind <= 3:
                fv = XH[td, kind - 2, fixed]
            else:
                fv = YH[td, kind - 4, fixed]
            a = _factor(fv, cst, sgn, lo, hi)
            if a == 0:
                return 0
            for q in range(n):
                out[q] = _wrap32(out[q] * a)
        elif kind >= 7:
            A = _synaptic(kind, W, TAG2, TAG1)
            for q in range(n):
                out[q] = _wrap32(out[q] * _factor(np.int64(A[base + q * stride]), cst, sgn, lo, hi))
        elif kind <= 1:  # x0 of each pre (row pass) or y0 of each post (column pass)
            tv = tx[xo:xo + n] if kind == 0 else ty[yo:yo + n]
            for q in range(n):
                out[q] = _wrap32(out[q] * _factor(np.int64(1 if tv[q] > 0 else 0), cst, sgn, lo, hi))
        else:  # x traces of each pre (row pass) or y traces of each post (column pass)
            hv = XH[td, kind - 2, :n] if kind <= 3 else YH[td, kind - 4, :n]
            for q in range(n):
                out[q] = _wrap32(out[q] * _factor(hv[q], cst, sgn, lo, hi))
    mant, shift, sexp = PROD[p, 2], PROD[p, 4], PROD[p, 3]
    for q in range(n):
        out[q] = _scaled(out[q], mant, shift, sexp)
    return 1


@numba.njit(cache=True, inline="always")
def _learn_pass(W, TAG2, TAG1, PROD, FAC, XH, YH, tx, ty, xo, yo, npre, npost, woff, fixed, by_pre, skip_x0, spiked,
                n_spiked, u, rk, T, sign, p0, npr, keep_t, MV, ACT, ACC, IDX):
    """Step e of the module docstring on the synapses of one pass, all values read before any
    is written: a column pass (``by_pre``) changes every synapse of pre ``fixed``, a row pass
    those of post ``fixed`` with the pres that have no column pass (``skip_x0``: those with x0
    = 1 have one). ``spiked[:n_spiked]``: the posts with y0 = 1. ``rk = floor(128 r)`` of the
    generator's number. ``keep_t``: a tag_1 may be at -257 (then every tag_1 of the pass is
    saturated even where nothing is added). Scratch: ``MV`` [>= npr, >= n] (each product's
    values), ``ACT`` [>= npr], ``ACC``, ``IDX`` [>= n]. Returns True when a tag_1 ends at -257.

    A product adds 0 where its dependency is 0, and adding 0 to an accumulator within
    [-32769, 32767] leaves it as it is: only tag_1 = -257 starts outside (``keep_t``), so a
    product is evaluated only where its dependency is 1: in a column pass a y0 product only on
    the posts that spiked (x0 and u are the same on every lane), in a row pass never an x0
    product (its pres with x0 = 1 have a column pass); a row pass (strided in memory) touches
    only the synapses to which a product adds."""
    if by_pre:
        n, base, stride = npost, woff + fixed * npost, 1
        own0 = 1 if tx[xo + fixed] > 0 else 0
        own_t = tx[xo + fixed]
    else:
        n, base, stride = npre, woff + fixed, npost
        own0 = 1 if ty[yo + fixed] > 0 else 0
        own_t = ty[yo + fixed]
    # ACT: 0 = the product adds nothing, 1 = MV row on every lane, 2 = MV on the posts that spiked only
    for p in range(p0, p0 + npr):
        r = p - p0
        dep = PROD[p, 1]
        ACT[r] = 0
        if dep == 2:
            if u:
                ACT[r] = _product_lanes(MV[r], PROD, FAC, p, T, by_pre, fixed, n, own0, tx, ty, xo, yo, XH, YH, W, TAG2,
                                        TAG1, base, stride)
        elif dep == (0 if by_pre else 1):
            if own0:
                ACT[r] = _product_lanes(MV[r], PROD, FAC, p, own_t, by_pre, fixed, n, own0, tx, ty, xo, yo, XH, YH, W,
                                        TAG2, TAG1, base, stride)
        elif by_pre and n_spiked:
            row = MV[r]
            if keep_t:
                for q in range(n):
                    row[q] = 0
            for k in range(n_spiked):
                i = spiked[k]
                row[i] = _product_at(PROD, FAC, p, ty[yo + i], own0, 1, fixed, i, base + i, XH, YH, W, TAG2, TAG1)
            ACT[r] = 1 if keep_t else 2
    n257 = 0
    g0 = p0
    while g0 < p0 + npr:  # the products of one target are consecutive (compile_rule)
        tgt = PROD[g0, 0]
        g1 = g0
        n_act = 0
        while g1 < p0 + npr and PROD[g1, 0] == tgt:
            n_act += ACT[g1 - p0] != 0
            g1 += 1
        keep = tgt == 2 and keep_t
        if n_act or keep:
            A = W if tgt == 0 else (TAG2 if tgt == 1 else TAG1)
            alo, ahi, lo, hi = _bounds(tgt, sign)
            if by_pre:
                Av = A[base:base + n]
                for q in range(n):
                    ACC[q] = np.int64(Av[q]) << 7
                for r in range(g0 - p0, g1 - p0):
                    row = MV[r]
                    if ACT[r] == 1:
                        for q in range(n):
                            ACC[q] = _clip(ACC[q] + row[q], _ACC_LO, _ACC_HI)
                    elif ACT[r] == 2:
                        for k in range(n_spiked):
                            i = spiked[k]
                            ACC[i] = _clip(ACC[i] + row[i], _ACC_LO, _ACC_HI)
                if n_act == 0:
                    for q in range(n):
                        ACC[q] = _clip(ACC[q], _ACC_LO, _ACC_HI)
                for q in range(n):
                    Av[q] = _finish(ACC[q], rk, alo, ahi, lo, hi)
                if tgt == 2:
                    for q in range(n):
                        n257 += Av[q] == -257
            else:
                # the pres something is added to (all when a tag_1 may be -257) but those with
                # a column pass, listed without branches
                txv = tx[xo:xo + n]
                for q in range(n):
                    ACC[q] = 1 if keep else 0
                for r in range(g0 - p0, g1 - p0):
                    if ACT[r]:
                        row = MV[r]
                        for q in range(n):
                            ACC[q] |= 1 if row[q] != 0 else 0
                if skip_x0:
                    for q in range(n):
                        ACC[q] &= 1 if txv[q] == 0 else 0
                n_t = 0
                for q in range(n):
                    IDX[n_t] = q
                    n_t += ACC[q]
                for k in range(n_t):
                    q = IDX[k]
                    s = base + q * npost
                    acc = np.int64(A[s]) << 7
                    for r in range(g0 - p0, g1 - p0):
                        if ACT[r]:
                            acc = _clip(acc + MV[r, q], _ACC_LO, _ACC_HI)
                    if n_act == 0:
                        acc = _clip(acc, _ACC_LO, _ACC_HI)
                    v = _finish(acc, rk, alo, ahi, lo, hi)
                    A[s] = v
                    n257 += v == -257
        g0 = g1
    return n257 > 0


@numba.njit(cache=True, nogil=True)
def plastic_epoch(P, c, time_step, r_x_dec, r_x_imp, r_y_dec, r_y_imp, r_conn):
    """Learning phase of connection c at the end of an epoch (Lava time step ``time_step``):
    trace histories, trace update, the rule on every synapse it can change, reset of the
    within-epoch spike times. ``r_*``: the generators' current numbers (module docstring)."""
    m = P.meta[c]
    npre, npost, xo, yo, T = m[M_NPRE], m[M_NPOST], m[M_XOFF], m[M_YOFF], m[M_TEPOCH]
    x, y, tx, ty, xh, yh = P.x, P.y, P.tx, P.ty, P.xh, P.yh
    rows = P.rows
    ii, fr, dec, tz = P.imp_int[c], P.imp_frac[c], P.decay[c], P.tau_zero[c]
    # c. histories
    for kk in range(2):
        for j in range(npre):
            xh[0, kk, j] = x[kk, xo + j]
    for kk in range(3):
        for i in range(npost):
            yh[0, kk, i] = y[kk, yo + i]
    for t in range(1, T + 1):
        for kk in range(2):
            if tz[kk]:
                for j in range(npre):
                    xh[t, kk, j] = 0
            else:
                for j in range(npre):
                    xh[t, kk, j] = _decay_trace(xh[t - 1, kk, j], dec[kk], r_x_dec)
        for kk in range(3):
            if tz[2 + kk]:
                for i in range(npost):
                    yh[t, kk, i] = 0
            else:
                for i in range(npost):
                    yh[t, kk, i] = _decay_trace(yh[t - 1, kk, i], dec[2 + kk], r_y_dec)
        for j in range(npre):
            if tx[xo + j] == t:
                for kk in range(2):
                    xh[t, kk, j] = _add_impulse(xh[t, kk, j], r_x_imp, ii[kk], fr[kk])
        for i in range(npost):
            if ty[yo + i] == t:
                for kk in range(3):
                    yh[t, kk, i] = _add_impulse(yh[t, kk, i], r_y_imp, ii[2 + kk], fr[2 + kk])
    # d. trace update
    for kk in range(2):
        for j in range(npre):
            x[kk, xo + j] = xh[T, kk, j]
    if not m[M_THREEF]:
        for kk in range(3):
            for i in range(npost):
                y[kk, yo + i] = yh[T, kk, i]
    # e. the rule
    u = 0
    if m[M_DECK] >= 0:
        u = 1 if (time_step // T) % (1 << m[M_DECK]) == 0 else 0
    if m[M_NP] > 0:
        sign, p0, npr, woff = m[M_SIGN], m[M_P0], m[M_NP], m[M_WOFF]
        W, TAG2, TAG1, PROD, FAC = P.w, P.tag2, P.tag1, P.prod, P.fac
        MV, ACT, ACC, IDX = P.mv, P.act, P.lacc, P.lidx
        rk = np.int64(np.floor(r_conn * 128.0))
        unstable = False
        keep_t = m[M_UNSTABLE] != 0
        full = (m[M_DEPU] and u) or keep_t
        n_rows = 0
        if m[M_DEPY0]:
            for i in range(npost):
                if ty[yo + i] > 0:
                    rows[n_rows] = i
                    n_rows += 1
        # columns: every synapse of a pre neuron that spiked (or all, for a u term); rows: the
        # other synapses of post neurons that spiked
        for j in range(npre):
            if full or (m[M_DEPX0] and tx[xo + j] > 0):
                unstable |= _learn_pass(W, TAG2, TAG1, PROD, FAC, xh, yh, tx, ty, xo, yo, npre, npost, woff, j, True,
                                        m[M_DEPX0], rows, n_rows, u, rk, T, sign, p0, npr, keep_t, MV, ACT, ACC, IDX)
        if not full:
            for q in range(n_rows):
                unstable |= _learn_pass(W, TAG2, TAG1, PROD, FAC, xh, yh, tx, ty, xo, yo, npre, npost, woff, rows[q],
                                        False, m[M_DEPX0], rows, n_rows, u, rk, T, sign, p0, npr, keep_t, MV, ACT, ACC,
                                        IDX)
        if full:
            m[M_UNSTABLE] = 1 if unstable else 0
        elif unstable:
            m[M_UNSTABLE] = 1
    # f. reset
    for j in range(npre):
        tx[xo + j] = 0
    for i in range(npost):
        ty[yo + i] = 0
    m[M_EPOCH] += 1


@numba.njit(cache=True, inline="always")
def third_factor_update(ys, yint, mask_idx, ydec, yimp, yrew, yfrac, spk, r3):
    """Neuron side of 3-factor learning (:class:`ThirdFactorTraces`), after the step's spikes:
    ``spk`` (bool [n]) and third factor ``r3`` (int64 [n]); ``yint`` the kept traces (with
    ``yfrac`` fractional bits), ``ys`` the values sent."""
    for q in range(mask_idx.shape[0]):
        i = mask_idx[q]
        for kk in range(3):
            f = yfrac[kk, i]
            p = yint[kk, i] * (4096 - ydec[kk, i])
            d = -((-p) >> 12) if p < 0 else p >> 12
            v = d + (((yimp[kk, i] if spk[i] else 0) + yrew[kk, i] * r3[i]) << f)
            v = _clip(v, -(np.int64(128) << f), (np.int64(128) << f) - 1)
            yint[kk, i] = v
            if f > 0:
                v = (v + (np.int64(1) << (f - 1))) >> f
            ys[kk, i] = _clip(v, -128, 127)


@numba.njit(cache=True, nogil=True)
def plastic_step(P, k, pre_net, pre_inp, ring, ys, RXD, RXI, RYD, RYI, RC, s):
    """Every plastic connection's part of network step k (chunk step s): delivery, traces, and
    the learning epoch when step k + 1 ends one. ``pre_net``: spikes of the network's neurons
    in step k (also the bAP), ``pre_inp``: external input spikes of step k. ``R*``: per
    connection random numbers of the chunk (``plastic_randoms``)."""
    K = P.meta.shape[0]
    time_step = k + 1
    for c in range(K):
        pre = pre_net if P.meta[c, M_SRC] == 0 else pre_inp
        plastic_deliver(P, c, k, pre, ring)
        plastic_traces(P, c, time_step, pre, pre_net, ys, RYI[c, 2 * s + 1])
    for c in range(K):
        T = P.meta[c, M_TEPOCH]
        if time_step % T == 0:
            e = P.meta[c, M_EPOCH]
            plastic_epoch(P, c, time_step, RXD[c, 2 * s + 2], RXI[c, 2 * s + 2], RYD[c, 2 * s + 2],
                          RYI[c, 2 * s + 2], RC[c, e + 1])


# --------------------------------------------------------------------------------------------
# Python side: building, randoms, state
# --------------------------------------------------------------------------------------------

def _check_int_matrix(owner, name, value, shape, lo, hi):
    arr = np.asarray(value)
    if arr.ndim == 0:
        arr = np.full(shape, arr.item())
    if arr.shape != shape:
        raise ParameterError(owner, name, f"shape {arr.shape}", f"a scalar or a matrix of shape {shape}")
    if arr.size and (not np.all(np.isfinite(arr.astype(np.float64))) or not np.all(arr == np.round(arr))):
        raise ParameterError(owner, name, "not integer-valued", f"integers in [{lo}, {hi}]")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < lo or arr.max() > hi):
        raise ParameterError(owner, name, f"values in [{arr.min()}, {arr.max()}] out of Loihi's range",
                             f"integers in [{lo}, {hi}]")
    return arr


def truncate_weights(w: np.ndarray, sign_mode: str, num_weight_bits: int) -> np.ndarray:
    """Lava's ``truncate_weights`` (``utils/weightutils.py``; int32, arithmetic shifts; inhibitory
    weights shifted while negated)."""
    w = np.asarray(w).astype(np.int32).astype(np.int64)
    k = 8 - int(num_weight_bits) + int(sign_mode == "mixed")
    if sign_mode == "inhibitory":
        return -((-w >> k) << k)
    return (w >> k) << k


class _RuleRandoms:
    """Lava's three random generators of one learning connection (``TraceRandom`` x and y,
    ``ConnVarRandom``), as numpy generators, with the number each currently holds."""

    def __init__(self, seed: int):
        self.gens = [np.random.default_rng(seed), np.random.default_rng(seed + 1),
                     np.random.default_rng(seed + 2), np.random.default_rng(seed + 3),
                     np.random.default_rng(2)]
        g = self.gens
        # TraceRandom.__init__ / ConnVarRandom.__init__ draw once
        self.cur = [g[0].random(1)[0], g[1].integers(0, 128, size=1, dtype=int)[0],
                    g[2].random(1)[0], g[3].integers(0, 128, size=1, dtype=int)[0], g[4].random(1)[0]]

    def draw(self, n_steps: int, n_epochs: int):
        """Numbers for a chunk: index 0 = current, then 2 trace advances per step, one
        synaptic-variable advance per epoch; the last ones become current."""
        g = self.gens
        out = []
        for q, kind in enumerate("fifi"):
            d = g[q].random(2 * n_steps) if kind == "f" else g[q].integers(0, 128, size=2 * n_steps, dtype=int)
            out.append(np.r_[self.cur[q], d])
        out.append(np.r_[self.cur[4], g[4].random(n_epochs)])
        self.cur = [o[-1] for o in out]
        return out

    def state(self) -> np.ndarray:
        """The five generators' PCG64 states and current numbers, as uint64 words."""
        words = []
        for g in self.gens:
            s = g.bit_generator.state
            for big in (s["state"]["state"], s["state"]["inc"]):
                words += [big >> 64, big & (2 ** 64 - 1)]
            words += [s["has_uint32"], s["uinteger"]]
        cur = np.array([self.cur[0], self.cur[2], self.cur[4]], np.float64).view(np.uint64).tolist()
        words += cur + [int(self.cur[1]), int(self.cur[3])]
        return np.array(words, np.uint64)

    def restore(self, words) -> None:
        w = [int(v) for v in np.asarray(words, np.uint64)]
        for q, g in enumerate(self.gens):
            base = 6 * q
            s = g.bit_generator.state
            s["state"]["state"] = (w[base] << 64) | w[base + 1]
            s["state"]["inc"] = (w[base + 2] << 64) | w[base + 3]
            s["has_uint32"], s["uinteger"] = w[base + 4], w[base + 5]
            g.bit_generator.state = s
        f = np.array(w[30:33], np.uint64).view(np.float64)
        self.cur = [f[0], np.int64(w[33]), f[1], np.int64(w[34]), f[2]]


@dataclass
class PlasticSpec:
    """One plastic connection as :class:`PlasticSet` takes it (Loihi integers, Lava's (post,
    pre) orientation): ``weights`` dense [n_post, n_pre] (every entry is a synapse, as in
    ``LearningDense``), ``tag_1``/``tag_2`` likewise (or None: 0), ``rule`` compiled
    (:func:`~neurohybrid.mappings.loihi.learning_rules.compile_rule`), ``sign_mode``
    (``"mixed"``, ``"excitatory"``, ``"inhibitory"``), ``num_weight_bits`` 1..8, ``weight_exp``
    -8..7; ``source`` 0 = the network's neurons, 1 = the external input; ``pre0``/``post0``:
    offsets of the pre and post neurons in those index spaces."""

    weights: np.ndarray
    rule: LearningRuleTables
    sign_mode: str
    num_weight_bits: int = 8
    weight_exp: int = 0
    tag_1: np.ndarray | None = None
    tag_2: np.ndarray | None = None
    source: int = 0
    pre0: int = 0
    post0: int = 0
    name: str = "plastic"


class PlasticSet:
    """The plastic connections of one network: validated, packed into :class:`PlasticArrays`,
    with their random generators. ``owner``: the object named in errors."""

    def __init__(self, specs, owner: object = "PlasticSet"):
        self.owner = owner
        self.specs = list(specs)
        self.n = len(self.specs)
        meta, prods, facs, ii, ff, dec, tz = [], [], [], [], [], [], []
        w_parts, t1_parts, t2_parts = [], [], []
        woff = xoff = yoff = 0
        max_pre = max_post = 1
        max_t = max_np = 1
        self._initial = []
        for c, spec in enumerate(self.specs):
            who = f"{owner}.connections[{spec.name}]"
            rule = spec.rule
            if not isinstance(rule, LearningRuleTables):
                raise ParameterError(who, "learning", f"{type(rule).__name__}",
                                     "LearningRuleTables (mappings.loihi.learning_rules.compile_rule)")
            targets = np.asarray(rule.prod_target)
            if targets.size and np.count_nonzero(np.diff(targets)) + 1 != np.unique(targets).size:
                raise ParameterError(who, "learning", "the products of one target are not consecutive",
                                     "LearningRuleTables as compile_rule makes them (one product series per target)")
            if spec.sign_mode not in SIGN_CODES:
                raise ParameterError(who, "sign_mode", f"{spec.sign_mode!r}", ", ".join(SIGN_CODES))
            if not 1 <= int(spec.num_weight_bits) <= 8:
                raise ParameterError(who, "num_weight_bits", f"{spec.num_weight_bits}", "1..8")
            if not -8 <= int(spec.weight_exp) <= 7:
                raise ParameterError(who, "weight_exp", f"{spec.weight_exp}", "an integer in [-8, 7]")
            w = np.asarray(spec.weights)
            if w.ndim != 2:
                raise ParameterError(who, "weights", f"shape {w.shape}", "a dense (n_post, n_pre) matrix")
            n_post, n_pre = w.shape
            lo, hi = weight_range(spec.sign_mode)
            w = _check_int_matrix(who, "weights", w, (n_post, n_pre), lo, hi)
            w = truncate_weights(w, spec.sign_mode, spec.num_weight_bits)
            t1 = _check_int_matrix(who, "tag_1", 0 if spec.tag_1 is None else spec.tag_1, (n_post, n_pre), *TAG1_RANGE)
            t2 = _check_int_matrix(who, "tag_2", 0 if spec.tag_2 is None else spec.tag_2, (n_post, n_pre), *TAG2_RANGE)
            self._initial.append((w, t1, t2))
            p0 = sum(len(p) for p in prods)
            f_base = sum(len(f) for f in facs)
            pr = np.stack([rule.prod_target, rule.prod_dep, rule.prod_mant, rule.prod_exp, rule.prod_shift,
                           rule.prod_f0 + f_base, rule.prod_nf], axis=1) if rule.prod_target.size else np.zeros((0, 7), np.int64)
            fa = np.stack([rule.fac_kind, rule.fac_const, rule.fac_sgn, rule.fac_lo, rule.fac_hi], axis=1) \
                if rule.fac_kind.size else np.zeros((0, 5), np.int64)
            prods.append(pr)
            facs.append(fa)
            deps = set(rule.prod_dep.tolist())
            mrow = np.zeros(N_META, np.int64)
            mrow[[M_SRC, M_PRE0, M_NPRE, M_POST0, M_NPOST, M_WOFF, M_EXP, M_SIGN, M_TEPOCH, M_THREEF, M_P0, M_NP,
                  M_DECK, M_XOFF, M_YOFF]] = [
                spec.source, spec.pre0, n_pre, spec.post0, n_post, woff, int(spec.weight_exp),
                SIGN_CODES[spec.sign_mode], rule.t_epoch, int(rule.three_factor), p0, len(pr),
                rule.decimate_exponent, xoff, yoff]
            mrow[M_DEPX0], mrow[M_DEPY0], mrow[M_DEPU] = 0 in deps, 1 in deps, 2 in deps
            mrow[M_HAS_T] = 2 in set(rule.prod_target.tolist())
            mrow[M_UNSTABLE] = int(np.any(t1 == TAG1_RANGE[0]))
            meta.append(mrow)
            ii.append(rule.impulse_int)
            ff.append(rule.impulse_frac)
            dec.append(rule.decay)
            tz.append(rule.tau_zero)
            w_parts.append(w.T.ravel())  # pre-major
            t1_parts.append(t1.T.ravel())
            t2_parts.append(t2.T.ravel())
            woff += n_pre * n_post
            xoff += n_pre
            yoff += n_post
            max_pre, max_post, max_t = max(max_pre, n_pre), max(max_post, n_post), max(max_t, rule.t_epoch)
            max_np = max(max_np, len(pr))
        cat16 = lambda parts: np.concatenate(parts).astype(np.int16) if parts else np.zeros(0, np.int16)  # noqa: E731
        stack = lambda parts, shape, dt: np.stack(parts).astype(dt) if parts else np.zeros(shape, dt)  # noqa: E731
        self.arrays = PlasticArrays(
            meta=stack(meta, (0, N_META), np.int64),
            prod=np.concatenate(prods).astype(np.int64) if prods else np.zeros((0, 7), np.int64),
            fac=np.concatenate(facs).astype(np.int64) if facs else np.zeros((0, 5), np.int64),
            imp_int=stack(ii, (0, 5), np.int64), imp_frac=stack(ff, (0, 5), np.int64),
            decay=stack(dec, (0, 5), np.float64), tau_zero=stack(tz, (0, 5), np.bool_),
            w=cat16(w_parts), tag2=cat16(t2_parts), tag1=cat16(t1_parts),
            x=np.zeros((2, xoff), np.int64), y=np.zeros((3, yoff), np.int64),
            tx=np.zeros(xoff, np.int64), ty=np.zeros(yoff, np.int64),
            xh=np.zeros((max_t + 1, 2, max_pre), np.int64), yh=np.zeros((max_t + 1, 3, max_post), np.int64),
            acc=np.zeros(max_post, np.int64), rows=np.zeros(max_post, np.int64),
            mv=np.zeros((max_np, max(max_pre, max_post)), np.int64), act=np.zeros(max_np, np.int64),
            lacc=np.zeros(max(max_pre, max_post), np.int64), lidx=np.zeros(max(max_pre, max_post), np.int64))
        self._meta0 = self.arrays.meta.copy()
        self.randoms = [_RuleRandoms(s.rule.rng_seed) for s in self.specs]

    # -- per run ---------------------------------------------------------------------------
    def draw(self, t0: int, n_steps: int):
        """Random numbers for steps t0 .. t0 + n_steps - 1 (0-based): arrays RXD, RXI, RYD, RYI
        [K, 2 n + 1] and RC [K, epochs + 1] (index by the connection's epoch counter)."""
        K = self.n
        out = [np.zeros((K, 2 * n_steps + 1)), np.zeros((K, 2 * n_steps + 1), np.int64),
               np.zeros((K, 2 * n_steps + 1)), np.zeros((K, 2 * n_steps + 1), np.int64)]
        epochs = [((t0 + n_steps) // s.rule.t_epoch) - (t0 // s.rule.t_epoch) for s in self.specs]
        rc = np.zeros((K, max(epochs, default=0) + 1))
        meta = self.arrays.meta
        for c, rnd in enumerate(self.randoms):
            parts = rnd.draw(n_steps, epochs[c])
            for q in range(4):
                out[q][c] = parts[q]
            rc[c, :epochs[c] + 1] = parts[4]
        meta[:, M_EPOCH] = 0  # epoch counter restarts with each chunk's RC
        return (*out, rc)

    # -- state -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Initial weights and tags, traces 0, generators re-seeded."""
        a = self.arrays
        for c, (w, t1, t2) in enumerate(self._initial):
            sl = self._slice(c)
            a.w[sl], a.tag1[sl], a.tag2[sl] = w.T.ravel(), t1.T.ravel(), t2.T.ravel()
        a.meta[:] = self._meta0
        for arr in (a.x, a.y, a.tx, a.ty):
            arr[:] = 0
        self.randoms = [_RuleRandoms(s.rule.rng_seed) for s in self.specs]

    def _slice(self, c: int) -> slice:
        m = self.arrays.meta[c]
        return slice(int(m[M_WOFF]), int(m[M_WOFF] + m[M_NPRE] * m[M_NPOST]))

    def read(self, c: int) -> dict:
        """Copies of connection c's state in Lava's layout: ``weights``, ``tag_1``, ``tag_2``
        [n_post, n_pre] (int64); traces ``x1``, ``x2``, ``tx`` [n_pre]; ``y1``, ``y2``, ``y3``,
        ``ty`` [n_post]."""
        a, m = self.arrays, self.arrays.meta[c]
        npre, npost, xo, yo = int(m[M_NPRE]), int(m[M_NPOST]), int(m[M_XOFF]), int(m[M_YOFF])
        sl = self._slice(c)
        mat = lambda v: v[sl].reshape(npre, npost).T.astype(np.int64)  # noqa: E731
        return {"weights": mat(a.w), "tag_1": mat(a.tag1), "tag_2": mat(a.tag2),
                "x1": a.x[0, xo:xo + npre].copy(), "x2": a.x[1, xo:xo + npre].copy(),
                "y1": a.y[0, yo:yo + npost].copy(), "y2": a.y[1, yo:yo + npost].copy(),
                "y3": a.y[2, yo:yo + npost].copy(),
                "tx": a.tx[xo:xo + npre].copy(), "ty": a.ty[yo:yo + npost].copy()}

    def state(self) -> dict:
        """Flat snapshot entries (arrays only)."""
        a = self.arrays
        out = {"w": a.w.copy(), "tag1": a.tag1.copy(), "tag2": a.tag2.copy(), "x": a.x.copy(), "y": a.y.copy(),
               "tx": a.tx.copy(), "ty": a.ty.copy(), "unstable": a.meta[:, M_UNSTABLE].copy()}
        for c, rnd in enumerate(self.randoms):
            out[f"rng{c}"] = rnd.state()
        return out

    def restore(self, state: dict) -> None:
        """Restore :meth:`state` entries (shapes checked by the caller's snapshot template)."""
        a = self.arrays
        for key, arr in (("w", a.w), ("tag1", a.tag1), ("tag2", a.tag2), ("x", a.x), ("y", a.y),
                         ("tx", a.tx), ("ty", a.ty)):
            arr[...] = np.asarray(state[key])
        a.meta[:, M_UNSTABLE] = np.asarray(state["unstable"])
        for c, rnd in enumerate(self.randoms):
            rnd.restore(state[f"rng{c}"])


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
