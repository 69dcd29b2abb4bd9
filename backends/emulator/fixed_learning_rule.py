"""Step e of the learning phase (``fixed_learning.py``'s docstring): a learning rule's product
series applied to the synapses of one column or row pass, in numba, bit-exact with Lava 0.10's
``LearningRuleApplierBitApprox`` and the connection's saturations and stochastic rounding."""
from __future__ import annotations

import numba
import numpy as np

from .fixed_arith import clip, wrap32
from .fixed_learning_set import TAG1_RANGE

_ACC_LO, _ACC_HI = -32769, 32767  # [-(2**15) - 1, 2**15 - 1]


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
    acc = clip(acc, alo, ahi)
    return clip((acc >> 7) + (1 if (acc & 127) > rk else 0), lo, hi)


@numba.njit(cache=True, inline="always")
def _factor(fv, cst, sgn, lo, hi):
    # one factor of a product: its constant, sgn(), saturation to its width
    fv += cst
    if sgn:
        fv = np.int64(1) if fv > 0 else (np.int64(-1) if fv < 0 else np.int64(0))
    return clip(fv, lo, hi)


@numba.njit(cache=True, inline="always")
def _scaled(cur, mant, shift, sexp):
    # the factors' product times the mantissa (int32 wrap-around at each step), shifted to
    # the accumulator's scale, saturated: what one product adds to the accumulator
    return clip(wrap32(wrap32(cur * mant) >> shift << sexp), _ACC_LO, _ACC_HI)


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
        cur = wrap32(cur * _factor(fv, FAC[f, 1], FAC[f, 2], FAC[f, 3], FAC[f, 4]))
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
                out[q] = wrap32(out[q] * a)
        elif kind >= 7:
            A = _synaptic(kind, W, TAG2, TAG1)
            for q in range(n):
                out[q] = wrap32(out[q] * _factor(np.int64(A[base + q * stride]), cst, sgn, lo, hi))
        elif kind <= 1:  # x0 of each pre (row pass) or y0 of each post (column pass)
            tv = tx[xo:xo + n] if kind == 0 else ty[yo:yo + n]
            for q in range(n):
                out[q] = wrap32(out[q] * _factor(np.int64(1 if tv[q] > 0 else 0), cst, sgn, lo, hi))
        else:  # x traces of each pre (row pass) or y traces of each post (column pass)
            hv = XH[td, kind - 2, :n] if kind <= 3 else YH[td, kind - 4, :n]
            for q in range(n):
                out[q] = wrap32(out[q] * _factor(hv[q], cst, sgn, lo, hi))
    mant, shift, sexp = PROD[p, 2], PROD[p, 4], PROD[p, 3]
    for q in range(n):
        out[q] = _scaled(out[q], mant, shift, sexp)
    return 1


@numba.njit(cache=True, inline="always")
def learn_pass(W, TAG2, TAG1, PROD, FAC, XH, YH, tx, ty, xo, yo, npre, npost, woff, fixed, by_pre, skip_x0, spiked,
                n_spiked, u, rk, T, sign, p0, npr, keep_t, MV, ACT, ACC, IDX):
    """Step e of the module docstring on the synapses of one pass, all values read before any
    is written: a column pass (``by_pre``) changes every synapse of pre ``fixed``, a row pass
    those of post ``fixed`` with the pres that have no column pass (``skip_x0``: those with x0
    = 1 have one). ``spiked[:n_spiked]``: the posts with y0 = 1. ``rk = floor(128 r)`` of the
    generator's number. ``keep_t``: a tag_1 may be at -257 (then every tag_1 of the pass is
    saturated even where nothing is added). Scratch: ``MV`` [>= npr, >= n] (each product's
    values), ``ACT`` [>= npr], ``ACC``, ``IDX`` [>= n]. Returns True when a tag_1 ends at -257.

    A product adds 0 where its dependency is 0, and adding 0 to an accumulator within
    [-32769, 32767] leaves it as it is: only tag_1 = -257 starts outside (``keep_t``: it is
    saturated first when the first product of its series is skipped), so a
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
        # Lava saturates the accumulator after every product: only a start outside its range
        # (tag_1 = -257) feels that of a product that adds 0, and only of the group's first
        first_clip = keep and ACT[g0 - p0] == 0
        if n_act or keep:
            A = W if tgt == 0 else (TAG2 if tgt == 1 else TAG1)
            alo, ahi, lo, hi = _bounds(tgt, sign)
            if by_pre:
                Av = A[base:base + n]
                for q in range(n):
                    ACC[q] = np.int64(Av[q]) << 7
                if first_clip:
                    for q in range(n):
                        ACC[q] = clip(ACC[q], _ACC_LO, _ACC_HI)
                for r in range(g0 - p0, g1 - p0):
                    row = MV[r]
                    if ACT[r] == 1:
                        for q in range(n):
                            ACC[q] = clip(ACC[q] + row[q], _ACC_LO, _ACC_HI)
                    elif ACT[r] == 2:
                        for k in range(n_spiked):
                            i = spiked[k]
                            ACC[i] = clip(ACC[i] + row[i], _ACC_LO, _ACC_HI)
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
                    if first_clip:
                        acc = clip(acc, _ACC_LO, _ACC_HI)
                    for r in range(g0 - p0, g1 - p0):
                        if ACT[r]:
                            acc = clip(acc + MV[r, q], _ACC_LO, _ACC_HI)
                    v = _finish(acc, rk, alo, ahi, lo, hi)
                    A[s] = v
                    n257 += v == -257
        g0 = g1
    return n257 > 0
