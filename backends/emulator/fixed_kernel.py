"""The fixed-point network's numba kernel: Loihi LIF neurons, static ``Sparse``/``DelaySparse``
connections and, through ``fixed_learning_kernels.plastic_step``, the plastic ones, one time
step after the other in Lava's order (``fixed.py``'s docstring). Each integer operation names
the line of Lava 0.10's ``proc/lif/models.py`` or ``proc/sparse/models.py`` it mirrors."""
from __future__ import annotations

import numba
import numpy as np

from .fixed_arith import wrap32
from .fixed_learning_kernels import plastic_step, third_factor_update

# Bit widths and shifts of AbstractPyLifModelFixed.__init__ (proc/lif/models.py L94-108).
_DS_OFFSET = 1  # L94: added to du, so u is multiplied by (4096 - du - 1) / 4096 each step
_DM_OFFSET = 0  # L95: added to dv
_UV_BITWIDTH = 24  # L101
_MAX_UV = 1 << (_UV_BITWIDTH - 1)  # L102: 2**23
_DECAY_SHIFT = 12  # L104
_DECAY_UNITY = 1 << _DECAY_SHIFT  # L105: 4096
_VTH_SHIFT = 6  # L107
_ACT_SHIFT = 6  # L108



@numba.njit(cache=True, inline="always")
def _decay(x, factor):
    # proc/lif/models.py L149-153 (u) and L180-184 (v): the int64 product, then
    # sign(p) * (|p| >> 12), i.e. rounding towards zero, then np.int32(...).
    # Branch-free form of that: (p + 4095) >> 12 is ceil(p / 4096) = trunc for p < 0.
    p = x * factor
    return wrap32((p + ((p >> 63) & 4095)) >> 12)


@numba.njit(cache=True, nogil=True)  # nogil: overlaps with other engines in the co-simulation kernel
def run_kernel(n_steps, t0, u, v, ref_end, ring, decay_u, decay_v, vth_eff, bias_eff, refr,
                conn_source, conn_exp, conn_ptr0, conn_delay, conn_weight, indptr, targets, weights, delays,
                raw, touched, touched_list, input_spikes, fired_list, input_list,
                spikes_out, u_out, v_out, record_uv,
                P, RXD, RXI, RYD, RYI, RC, ys, yint, tf_idx, ydec, yimp, yrew, yfrac, r3,
                rec_w, rec_t1, rec_t2, rec_x, rec_y, rec_ys, record_plastic):
    """Advance ``n_steps`` steps from absolute step ``t0`` (0-based; Lava time_step = t0+1).

    State (``u``, ``v``, ``ref_end``, ``ring``) is updated in place. ``ring[slot, i]`` holds
    the activation (sum of shifted weight sums) that neuron i receives at the step whose
    absolute index is congruent to ``slot`` modulo ``ring.shape[0]``.

    ``weights`` of a connection with ``conn_exp >= 0`` are stored already shifted
    (``w << exp``); ``conn_delay[c] > 0`` means every synapse of connection c has that delay;
    ``conn_weight[c] != 0`` means every synapse of connection c has that (stored) weight.

    Learning (after the static connections of each step): ``P`` the plastic connections
    (:class:`.fixed_learning.PlasticArrays`) with their chunk's random numbers ``R*``; ``ys``
    the 3-factor traces neurons ``tf_idx`` send, ``yint`` those they keep (parameters ``ydec``,
    ``yimp``, ``yrew``, ``yfrac``, third factor input ``r3`` [n_steps, n]); ``rec_*`` their per-step records when ``record_plastic``.
    """
    n = u.shape[0]
    n_slots = ring.shape[0]
    n_conn = conn_source.shape[0]
    n_in = input_spikes.shape[1]
    has_input = False
    for c in range(n_conn):
        if conn_source[c] != 0:
            has_input = True
    max_uv = 8388608  # 2**23, L102
    learning = P.meta.shape[0] > 0 or tf_idx.shape[0] > 0
    for s in range(n_steps):
        k = t0 + s
        time_step = k + 1  # Lava's PyLoihiProcessModel.time_step starts at 1
        slot = k % n_slots
        ring_now = ring[slot]
        spk = spikes_out[s]
        # Written without branches (selects only) so that LLVM vectorises the loop; the
        # neurons that fired are collected in a second, cheap pass.
        for i in range(n):
            # 1. synaptic input: the a_in.recv() of L200 — the sum of every connection's
            #    a_out (magma/core/model/py/ports.py, PyInPortVectorDense.recv); ring holds
            #    it exactly in int64, the int32 wrap Lava applies is taken once below.
            a = ring_now[i]
            ring_now[i] = 0
            # 2a. current, L145-171: decay with du + ds_offset, add activation << 6, then a
            #     single wrap: > 2**23 → -2**24, <= -2**23 → +2**24 (not a modulo: values
            #     further out stay out, as in Lava). All of activation << 6 (L155) and
            #     decayed_curr += (L157) are int32 operations, hence the one wrap32.
            uc = wrap32(_decay(u[i], decay_u[i]) + a * 64)
            uc = uc - 2 * max_uv if uc > max_uv else uc
            uc = uc + 2 * max_uv if uc <= -max_uv else uc
            u[i] = uc
            # 2b. voltage, L174-186, only outside the refractory period
            #     (PyLifRefractoryModelFloat L479-481: refractory_period_end < time_step).
            vv = wrap32(_decay(v[i], decay_v[i]) + uc + bias_eff[i])  # L185, int32 adds
            # L186: np.clip to [-(2**23) + 1, 2**23 - 1] (saturation, unlike u)
            vv = -max_uv + 1 if vv < -max_uv + 1 else vv
            vv = max_uv - 1 if vv > max_uv - 1 else vv
            re = ref_end[i]
            vv = vv if re < time_step else v[i]
            # 2c. spike, L278: v > vth << 6; reset, L192: v = 0; refractory end, L484-485.
            fire = vv > vth_eff[i]
            v[i] = 0 if fire else vv
            ref_end[i] = time_step + refr[i] if fire else re
            spk[i] = fire
        n_fired = 0
        for i in range(n):
            if spk[i]:
                fired_list[n_fired] = i  # the sources step 3 delivers from
                n_fired += 1
        if record_uv:
            for i in range(n):
                u_out[s, i] = u[i]
                v_out[s, i] = v[i]
        n_active_in = 0
        if has_input:
            for j in range(n_in):
                if input_spikes[s, j]:
                    input_list[n_active_in] = j
                    n_active_in += 1
        # 3. connections: each one sums its weights per (delay, target) for this step's spikes
        #    (proc/sparse/models.py L365 calc_act / L99-102), shifts each sum by weight_exp
        #    (L368-372: << for exp > 0, else >> -exp, floor) and adds it to its buffer.
        for c in range(n_conn):
            exp = conn_exp[c]
            p0 = conn_ptr0[c]
            dc = conn_delay[c]
            if conn_source[c] == 0:
                active = fired_list
                n_active = n_fired
            else:
                active = input_list
                n_active = n_active_in
            if exp >= 0:
                # A left shift distributes over the sum exactly (int64), so every synapse
                # adds its pre-shifted weight straight into the ring.
                wc = conn_weight[c]
                if dc > 0 and wc != 0:
                    row = ring[(k + dc) % n_slots]
                    for a_i in range(n_active):
                        j = active[a_i]
                        for q in range(indptr[p0 + j], indptr[p0 + j + 1]):
                            row[targets[q]] += wc
                elif dc > 0:
                    row = ring[(k + dc) % n_slots]
                    for a_i in range(n_active):
                        j = active[a_i]
                        for q in range(indptr[p0 + j], indptr[p0 + j + 1]):
                            row[targets[q]] += weights[q]
                else:
                    for a_i in range(n_active):
                        j = active[a_i]
                        for q in range(indptr[p0 + j], indptr[p0 + j + 1]):
                            sl = slot + delays[q]
                            if sl >= n_slots:
                                sl -= n_slots
                            ring[sl, targets[q]] += weights[q]
                continue
            # exp < 0: Lava floors the shifted per-(delay, target) sum of this step, so the
            # raw sums are collected first.
            n_touched = 0
            for a_i in range(n_active):
                j = active[a_i]
                for q in range(indptr[p0 + j], indptr[p0 + j + 1]):
                    idx = np.int64(delays[q]) * n + targets[q]
                    if not touched[idx]:
                        touched[idx] = True
                        touched_list[n_touched] = idx
                        n_touched += 1
                    raw[idx] += weights[q]
            for q in range(n_touched):
                idx = touched_list[q]
                d = idx // n
                i = idx - d * n
                ring[(k + d) % n_slots, i] += raw[idx] >> (-exp)
                raw[idx] = 0
                touched[idx] = False
        # 4. learning: the neurons' 3-factor traces (they send them in this step), then each
        #    plastic connection (fixed_learning.py: delivery, traces, epoch)
        if learning:
            third_factor_update(ys, yint, tf_idx, ydec, yimp, yrew, yfrac, spk, r3[s])
            plastic_step(P, k, spk, input_spikes[s], ring, ys, RXD, RXI, RYD, RYI, RC, s)
            if record_plastic:
                rec_w[s] = P.w
                rec_t1[s] = P.tag1
                rec_t2[s] = P.tag2
                rec_x[s] = P.x
                rec_y[s] = P.y
                rec_ys[s] = ys
