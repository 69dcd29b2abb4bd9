"""The learning engine's numba kernels, per plastic connection and time step in Lava's order
(``fixed_learning.py``'s docstring): delivery and trace updates of the spiking phase, the
learning epoch (trace histories, the rule from ``fixed_learning_rule.py``, reset), the
neurons' side of 3-factor rules, and ``plastic_step``, which the network kernel calls."""
from __future__ import annotations

import numba
import numpy as np

from .fixed_arith import clip
from .fixed_learning_rule import learn_pass
from .fixed_learning_set import (M_DECK, M_DEPU, M_DEPX0, M_DEPY0, M_EPOCH, M_EXP, M_NP, M_NPOST, M_NPRE, M_P0,
                                 M_POST0, M_PRE0, M_SIGN, M_SRC, M_TEPOCH, M_THREEF, M_UNSTABLE, M_WOFF, M_XOFF,
                                 M_YOFF)


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
    return clip(v + ii + (1 if r < fr else 0), 0, 127)


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
                unstable |= learn_pass(W, TAG2, TAG1, PROD, FAC, xh, yh, tx, ty, xo, yo, npre, npost, woff, j, True,
                                        m[M_DEPX0], rows, n_rows, u, rk, T, sign, p0, npr, keep_t, MV, ACT, ACC, IDX)
        if not full:
            for q in range(n_rows):
                unstable |= learn_pass(W, TAG2, TAG1, PROD, FAC, xh, yh, tx, ty, xo, yo, npre, npost, woff, rows[q],
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
            v = clip(v, -(np.int64(128) << f), (np.int64(128) << f) - 1)
            yint[kk, i] = v
            if f > 0:
                v = (v + (np.int64(1) << (f - 1))) >> f
            ys[kk, i] = clip(v, -128, 127)


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
