"""Izhikevich (2003) model: Izhikevich.

The kernel follows NEST's ``izhikevich`` with its default ``consistent_integration = True``:
one forward-Euler step per tick for v and u from the values at the start of the tick, the
synaptic voltage jumps of the tick added to v in the same tick, then the threshold test
(v >= 30 mV, NEST's fixed ``V_th``) with reset v = c, u += d. There is no refractory period.

Units (PyNN/NEST): v mV, u mV/ms, a and b 1/ms, c mV, d mV/ms. Currents (``i_offset``,
``i_ext``, nA) enter dv/dt as 1000·I, i.e. as NEST's ``I_e`` in pA. Synaptic weights are
voltage jumps in mV (both receptors add to v; inhibitory weights are negative).
"""
from __future__ import annotations

import numba

from . import ModelSpec, register
from ._common import record_positions

PARAMS = ("a", "b", "c", "d", "i_offset")
STATE = ("v", "u")
V_TH = 30.0  # mV, NEST's izhikevich V_th (not a PyNN parameter)


@numba.njit(cache=True, parallel=True)
def step_izhikevich(S, P, syn_in, i_ext, dt, spikes_out, rec_rows, rec_cells, rec_out):
    """Advance Izhikevich neurons through ``syn_in.shape[0]`` ticks (see the models contract)."""
    n = S.shape[1]
    n_ticks = syn_in.shape[0]
    n_rec = syn_in.shape[1]
    pos = record_positions(rec_cells, n)
    for i in numba.prange(n):
        a = P[0, i]
        b = P[1, i]
        c = P[2, i]
        d = P[3, i]
        i_e = P[4, i] * 1000.0
        v = S[0, i]
        u = S[1, i]
        for k in range(n_ticks):
            jump = 0.0
            for q in range(n_rec):
                jump += syn_in[k, q, i]
            v_old = v
            u_old = u
            v += dt * (0.04 * v_old * v_old + 5.0 * v_old + 140.0 - u_old + i_ext[k, i] * 1000.0 + i_e) + jump
            u += dt * a * (b * v_old - u_old)
            if v >= V_TH:
                v = c
                u = u + d
                spikes_out[k, i] = 1
            if pos[i] >= 0:
                S[0, i] = v
                S[1, i] = u
                for r in range(rec_rows.shape[0]):
                    rec_out[k, r, pos[i]] = S[rec_rows[r], i]
        S[0, i] = v
        S[1, i] = u


IZHIKEVICH = register(ModelSpec(
    name="Izhikevich",
    params=PARAMS,
    state=STATE,
    receptors=("excitatory", "inhibitory"),
    recordables={"v": "v", "u": "u"},
    initial={"v": -70.0, "u": -14.0},
    step=step_izhikevich,
    units={"v": "mV", "u": "mV/ms"},
    synapse_kind="voltage",
))
