"""Hodgkin–Huxley model of Traub & Miles as in Brette et al. (2007): HH_cond_exp.

The kernel follows NEST's ``hh_cond_exp_traub``: GSL's adaptive Runge–Kutta–Fehlberg 4(5)
per tick (absolute error 1e-3 in NEST units, step size carried from tick to tick per
neuron), then the arriving conductance jumps, then spike detection: a spike is emitted
when v >= v_offset + 30 mV and v fell during the tick, unless the neuron is within NEST's
fixed 2 ms refractory period (``t_ref``, not a PyNN parameter), which only blocks further
detections, it does not clamp v. Inside a window the state is held in NEST's units (pF, nS,
pA); ``S`` holds PyNN units (mV, µS, ms; m, h, n dimensionless). State rows: v, m, h, n,
gsyn_exc, gsyn_inh, refrac (ms left), h_ode (ms, the solver's carried step size).
"""
from __future__ import annotations

import math

import numba
import numpy as np

from . import ModelSpec, register
from ._common import RKF45_WORK, record_positions, refractory_steps, rkf45_evolve_apply

PARAMS = ("gbar_Na", "gbar_K", "g_leak", "cm", "v_offset", "e_rev_Na", "e_rev_K", "e_rev_leak", "e_rev_E",
          "e_rev_I", "tau_syn_E", "tau_syn_I", "i_offset")
STATE = ("v", "m", "h", "n", "gsyn_exc", "gsyn_inh", "refrac", "h_ode")
T_REF = 2.0  # ms, NEST's hh_cond_exp_traub default t_ref (PyNN does not set it)
_ATOL = 1e-3  # gsl_odeiv_control_y_new(1e-3, 0.0) in NEST's hh_cond_exp_traub

_GNA, _GK, _GL, _CM, _VT, _ENA, _EK, _EL, _EEX, _EIN, _TEX, _TIN, _IE, _ISTIM = range(14)


@numba.njit(cache=True)
def rhs_hh(y, f, p):
    """dy/dt of hh_cond_exp_traub; y = (V mV, m, h, n, g_ex nS, g_in nS)."""
    v = y[0]
    m = y[1]
    h = y[2]
    n = y[3]
    g_ex = y[4]
    g_in = y[5]
    vt = v - p[_VT]
    alpha_n = 0.032 * (15.0 - vt) / (math.exp((15.0 - vt) / 5.0) - 1.0)
    beta_n = 0.5 * math.exp((10.0 - vt) / 40.0)
    alpha_m = 0.32 * (13.0 - vt) / (math.exp((13.0 - vt) / 4.0) - 1.0)
    beta_m = 0.28 * (vt - 40.0) / (math.exp((vt - 40.0) / 5.0) - 1.0)
    alpha_h = 0.128 * math.exp((17.0 - vt) / 18.0)
    beta_h = 4.0 / (1.0 + math.exp((40.0 - vt) / 5.0))
    i_na = p[_GNA] * m * m * m * h * (v - p[_ENA])
    i_k = p[_GK] * n * n * n * n * (v - p[_EK])
    i_l = p[_GL] * (v - p[_EL])
    i_syn_exc = g_ex * (v - p[_EEX])
    i_syn_inh = g_in * (v - p[_EIN])
    f[0] = (-i_na - i_k - i_l - i_syn_exc - i_syn_inh + p[_ISTIM] + p[_IE]) / p[_CM]
    f[1] = alpha_m - (alpha_m + beta_m) * m
    f[2] = alpha_h - (alpha_h + beta_h) * h
    f[3] = alpha_n - (alpha_n + beta_n) * n
    f[4] = -g_ex / p[_TEX]
    f[5] = -g_in / p[_TIN]


@numba.njit(cache=True, parallel=True)
def step_hh_cond_exp(S, P, syn_in, i_ext, dt, spikes_out, rec_rows, rec_cells, rec_out):
    """Advance HH_cond_exp neurons through ``syn_in.shape[0]`` ticks (see the models contract).

    ``syn_in`` is in µS (both receptors positive).
    """
    n = S.shape[1]
    n_ticks = syn_in.shape[0]
    pos = record_positions(rec_cells, n)
    ref_counts = refractory_steps(T_REF, dt)
    for i in numba.prange(n):
        p = np.empty(14)
        p[_GNA] = P[0, i] * 1000.0
        p[_GK] = P[1, i] * 1000.0
        p[_GL] = P[2, i] * 1000.0
        p[_CM] = P[3, i] * 1000.0
        p[_VT] = P[4, i]
        p[_ENA] = P[5, i]
        p[_EK] = P[6, i]
        p[_EL] = P[7, i]
        p[_EEX] = P[8, i]
        p[_EIN] = P[9, i]
        p[_TEX] = P[10, i]
        p[_TIN] = P[11, i]
        p[_IE] = P[12, i] * 1000.0
        v_spike = p[_VT] + 30.0
        y = np.empty(6)
        work = np.empty((RKF45_WORK, 6))
        for q in range(4):
            y[q] = S[q, i]
        y[4] = S[4, i] * 1000.0
        y[5] = S[5, i] * 1000.0
        r = int(round(S[6, i] / dt))
        h = S[7, i] if S[7, i] > 0.0 else dt
        for k in range(n_ticks):
            p[_ISTIM] = i_ext[k, i] * 1000.0
            u_old = y[0]
            t = 0.0
            while t < dt:
                t, h = rkf45_evolve_apply(rhs_hh, p, y, t, dt, h, work, _ATOL, 0.0, 1.0, 0.0)
            y[4] += syn_in[k, 0, i] * 1000.0
            y[5] += syn_in[k, 1, i] * 1000.0
            if r > 0:
                r -= 1
            elif y[0] >= v_spike and u_old > y[0]:
                r = ref_counts
                spikes_out[k, i] = 1
            if pos[i] >= 0:
                for q in range(4):
                    S[q, i] = y[q]
                S[4, i] = y[4] / 1000.0
                S[5, i] = y[5] / 1000.0
                S[6, i] = r * dt
                S[7, i] = h
                for a in range(rec_rows.shape[0]):
                    rec_out[k, a, pos[i]] = S[rec_rows[a], i]
        for q in range(4):
            S[q, i] = y[q]
        S[4, i] = y[4] / 1000.0
        S[5, i] = y[5] / 1000.0
        S[6, i] = r * dt
        S[7, i] = h


HH_COND_EXP = register(ModelSpec(
    name="HH_cond_exp",
    params=PARAMS,
    state=STATE,
    receptors=("excitatory", "inhibitory"),
    recordables={"v": "v", "gsyn_exc": "gsyn_exc", "gsyn_inh": "gsyn_inh"},
    initial={"v": -65.0, "m": 0.0, "h": 1.0, "n": 0.0, "gsyn_exc": 0.0, "gsyn_inh": 0.0,
             "refrac": 0.0, "h_ode": 0.0},
    step=step_hh_cond_exp,
    units={"v": "mV", "m": "", "h": "", "n": "", "gsyn_exc": "uS", "gsyn_inh": "uS", "refrac": "ms",
           "h_ode": "ms"},
    synapse_kind="conductance",
))
