"""Adaptive exponential integrate-and-fire models: EIF_cond_exp_isfa_ista, EIF_cond_alpha_isfa_ista.

The kernels follow NEST's ``aeif_cond_exp`` and ``aeif_cond_alpha``: GSL's adaptive
Runge–Kutta–Fehlberg 4(5) with NEST's error control (``gsl_odeiv_control_yp_new`` with
``gsl_error_tol = 1e-6``: |error| <= 1e-6 (1 + h |dy/dt|) per component, NEST units), the step size carried from tick to tick per neuron, spike detection (v >= v_spike,
or v >= v_thresh when delta_T == 0) after every accepted sub-step, reset to v_reset with
w += b, v clamped to v_reset (dv/dt = 0) while refractory, and v capped at v_spike inside
the right-hand side so the exponential cannot overflow. Conductance jumps arrive after the
tick's integration. Inside a window the state is held in NEST's units (pF, nS, pA);
``S`` holds PyNN units (mV, µS, nA, ms).

State rows: v (mV), w (nA), gsyn_* (µS), dgsyn_* (µS/ms, alpha only), refrac (ms of
refractoriness left), h_ode (ms, the solver's carried step size, see ``_common``).

Known differences from NEST: NEST aborts the run with NumericalInstability when
v < -1000 mV or |w| > 1e6 pA, these kernels keep integrating; with tau_refrac = 0 a neuron
can fire more than once within one tick (as in NEST), but ``spikes_out`` records one spike.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from . import ModelSpec, register
from ._common import (RKF45_WORK, load_held, record_positions, refractory_steps, rkf45_evolve_apply,
                      store_held, units_with_held, with_held, initial_with_held)

PARAMS = ("cm", "tau_refrac", "v_spike", "v_reset", "v_rest", "tau_m", "i_offset", "a", "b", "delta_T",
          "tau_w", "v_thresh", "e_rev_E", "tau_syn_E", "e_rev_I", "tau_syn_I")
_TOL = 1e-6  # NEST's gsl_error_tol default, eps_abs and eps_rel of gsl_odeiv_control_yp_new

_VRESET, _VPEAK, _EL, _GL, _CM, _DT, _VTH, _EEX, _EIN, _TEX, _TIN, _A, _TW, _IE, _ISTIM, _REFR = range(16)


@numba.njit(cache=True)
def _load_p(P, i, p):
    p[_CM] = P[0, i] * 1000.0
    p[_VPEAK] = P[2, i]
    p[_VRESET] = P[3, i]
    p[_EL] = P[4, i]
    p[_GL] = P[0, i] / P[5, i] * 1000.0  # PyNN→NEST translation g_L = cm/tau_m*1000
    p[_IE] = P[6, i] * 1000.0
    p[_A] = P[7, i]
    p[_DT] = P[9, i]
    p[_TW] = P[10, i]
    p[_VTH] = P[11, i]
    p[_EEX] = P[12, i]
    p[_TEX] = P[13, i]
    p[_EIN] = P[14, i]
    p[_TIN] = P[15, i]
    p[_ISTIM] = 0.0
    p[_REFR] = 0.0


@numba.njit(cache=True)
def _membrane(v_state, w, g_ex, g_in, p):
    """dV/dt (mV/ms) and the voltage the currents see, NEST's aeif right-hand side."""
    refractory = p[_REFR] > 0.0
    v = p[_VRESET] if refractory else min(v_state, p[_VPEAK])
    i_syn_exc = g_ex * (v - p[_EEX])
    i_syn_inh = g_in * (v - p[_EIN])
    if p[_DT] == 0.0:
        i_spike = 0.0
    else:
        i_spike = p[_GL] * p[_DT] * math.exp((v - p[_VTH]) / p[_DT])
    if refractory:
        dv = 0.0
    else:
        dv = (-p[_GL] * (v - p[_EL]) + i_spike - i_syn_exc - i_syn_inh - w + p[_IE] + p[_ISTIM]) / p[_CM]
    return dv, v


@numba.njit(cache=True)
def rhs_aeif_exp(y, f, p):
    """dy/dt of aeif_cond_exp; y = (V mV, g_ex nS, g_in nS, w pA)."""
    dv, v = _membrane(y[0], y[3], y[1], y[2], p)
    f[0] = dv
    f[1] = -y[1] / p[_TEX]
    f[2] = -y[2] / p[_TIN]
    f[3] = (p[_A] * (v - p[_EL]) - y[3]) / p[_TW]


@numba.njit(cache=True)
def rhs_aeif_alpha(y, f, p):
    """dy/dt of aeif_cond_alpha; y = (V mV, dg_ex nS/ms, g_ex nS, dg_in nS/ms, g_in nS, w pA)."""
    dv, v = _membrane(y[0], y[5], y[2], y[4], p)
    f[0] = dv
    f[1] = -y[1] / p[_TEX]
    f[2] = y[1] - y[2] / p[_TEX]
    f[3] = -y[3] / p[_TIN]
    f[4] = y[3] - y[4] / p[_TIN]
    f[5] = (p[_A] * (v - p[_EL]) - y[5]) / p[_TW]


@numba.njit(cache=True, inline="always")  # inlined so the kernels stay cacheable (see _common)
def _aeif_tick(rhs, y, p, h, work, dt, r, ref_counts, b_pa, iv, iw):
    """One NEST aeif tick of integration with in-loop spike handling; returns (h, r, spiked).

    ``r`` is NEST's refractory counter before the end-of-tick decrement.
    """
    v_detect = p[_VPEAK] if p[_DT] > 0.0 else p[_VTH]
    spiked = False
    t = 0.0
    while t < dt:
        p[_REFR] = 1.0 if r > 0 else 0.0
        t, h = rkf45_evolve_apply(rhs, p, y, t, dt, h, work, _TOL, _TOL, 0.0, 1.0)
        if r > 0:
            y[iv] = p[_VRESET]
        elif y[iv] >= v_detect:
            y[iv] = p[_VRESET]
            y[iw] += b_pa
            # +1 compensates the decrement at the end of the tick; with no refractory time the
            # neuron may fire again within the same tick, as in NEST
            r = ref_counts + 1 if ref_counts > 0 else 0
            spiked = True
    if r > 0:
        r -= 1
    return h, r, spiked


STATE_EXP = with_held(("v", "w", "gsyn_exc", "gsyn_inh", "refrac", "h_ode"), ("w", "gsyn_exc", "gsyn_inh"))


@numba.njit(cache=True, parallel=True)
def step_eif_cond_exp(S, P, syn_in, i_ext, dt, spikes_out, rec_rows, rec_cells, rec_out):
    """Advance EIF_cond_exp_isfa_ista neurons through ``syn_in.shape[0]`` ticks (models contract)."""
    n = S.shape[1]
    n_ticks = syn_in.shape[0]
    pos = record_positions(rec_cells, n)
    for i in numba.prange(n):
        p = np.empty(16)
        _load_p(P, i, p)
        b_pa = P[8, i] * 1000.0
        ref_counts = refractory_steps(P[1, i], dt)
        y = np.empty(4)
        work = np.empty((RKF45_WORK, 4))
        y[0] = S[0, i]
        y[3] = load_held(S, 1, 6, i, 1000.0)
        y[1] = load_held(S, 2, 7, i, 1000.0)
        y[2] = load_held(S, 3, 8, i, 1000.0)
        r = int(round(S[4, i] / dt))
        h = S[5, i] if S[5, i] > 0.0 else dt
        for k in range(n_ticks):
            p[_ISTIM] = i_ext[k, i] * 1000.0
            h, r, spiked = _aeif_tick(rhs_aeif_exp, y, p, h, work, dt, r, ref_counts, b_pa, 0, 3)
            if spiked:
                spikes_out[k, i] = 1
            y[1] += syn_in[k, 0, i] * 1000.0
            y[2] += syn_in[k, 1, i] * 1000.0
            if pos[i] >= 0:
                S[0, i] = y[0]
                store_held(S, 1, 6, i, y[3], 1000.0)
                store_held(S, 2, 7, i, y[1], 1000.0)
                store_held(S, 3, 8, i, y[2], 1000.0)
                S[4, i] = r * dt
                S[5, i] = h
                for a in range(rec_rows.shape[0]):
                    rec_out[k, a, pos[i]] = S[rec_rows[a], i]
        S[0, i] = y[0]
        store_held(S, 1, 6, i, y[3], 1000.0)
        store_held(S, 2, 7, i, y[1], 1000.0)
        store_held(S, 3, 8, i, y[2], 1000.0)
        S[4, i] = r * dt
        S[5, i] = h


STATE_ALPHA = with_held(("v", "w", "gsyn_exc", "dgsyn_exc", "gsyn_inh", "dgsyn_inh", "refrac", "h_ode"),
                        ("w", "gsyn_exc", "dgsyn_exc", "gsyn_inh", "dgsyn_inh"))


@numba.njit(cache=True, parallel=True)
def step_eif_cond_alpha(S, P, syn_in, i_ext, dt, spikes_out, rec_rows, rec_cells, rec_out):
    """Advance EIF_cond_alpha_isfa_ista neurons through ``syn_in.shape[0]`` ticks (models contract)."""
    n = S.shape[1]
    n_ticks = syn_in.shape[0]
    pos = record_positions(rec_cells, n)
    for i in numba.prange(n):
        p = np.empty(16)
        _load_p(P, i, p)
        b_pa = P[8, i] * 1000.0
        g0_e = 1.0 * math.e / p[_TEX]
        g0_i = 1.0 * math.e / p[_TIN]
        ref_counts = refractory_steps(P[1, i], dt)
        y = np.empty(6)
        work = np.empty((RKF45_WORK, 6))
        y[0] = S[0, i]
        y[5] = load_held(S, 1, 8, i, 1000.0)
        y[2] = load_held(S, 2, 9, i, 1000.0)
        y[1] = load_held(S, 3, 10, i, 1000.0)
        y[4] = load_held(S, 4, 11, i, 1000.0)
        y[3] = load_held(S, 5, 12, i, 1000.0)
        r = int(round(S[6, i] / dt))
        h = S[7, i] if S[7, i] > 0.0 else dt
        for k in range(n_ticks):
            p[_ISTIM] = i_ext[k, i] * 1000.0
            h, r, spiked = _aeif_tick(rhs_aeif_alpha, y, p, h, work, dt, r, ref_counts, b_pa, 0, 5)
            if spiked:
                spikes_out[k, i] = 1
            y[1] += syn_in[k, 0, i] * 1000.0 * g0_e
            y[3] += syn_in[k, 1, i] * 1000.0 * g0_i
            if pos[i] >= 0:
                S[0, i] = y[0]
                store_held(S, 1, 8, i, y[5], 1000.0)
                store_held(S, 2, 9, i, y[2], 1000.0)
                store_held(S, 3, 10, i, y[1], 1000.0)
                store_held(S, 4, 11, i, y[4], 1000.0)
                store_held(S, 5, 12, i, y[3], 1000.0)
                S[6, i] = r * dt
                S[7, i] = h
                for a in range(rec_rows.shape[0]):
                    rec_out[k, a, pos[i]] = S[rec_rows[a], i]
        S[0, i] = y[0]
        store_held(S, 1, 8, i, y[5], 1000.0)
        store_held(S, 2, 9, i, y[2], 1000.0)
        store_held(S, 3, 10, i, y[1], 1000.0)
        store_held(S, 4, 11, i, y[4], 1000.0)
        store_held(S, 5, 12, i, y[3], 1000.0)
        S[6, i] = r * dt
        S[7, i] = h


_UNITS = {"v": "mV", "w": "nA", "gsyn_exc": "uS", "gsyn_inh": "uS", "dgsyn_exc": "uS/ms", "dgsyn_inh": "uS/ms",
          "refrac": "ms", "h_ode": "ms"}
_RECORDABLES = {"v": "v", "w": "w", "gsyn_exc": "gsyn_exc", "gsyn_inh": "gsyn_inh"}

EIF_COND_EXP = register(ModelSpec(
    name="EIF_cond_exp_isfa_ista",
    params=PARAMS,
    state=STATE_EXP,
    receptors=("excitatory", "inhibitory"),
    recordables=dict(_RECORDABLES),
    initial=initial_with_held({"v": -70.6, "w": 0.0, "gsyn_exc": 0.0, "gsyn_inh": 0.0, "refrac": 0.0, "h_ode": 0.0},
                              STATE_EXP),
    step=step_eif_cond_exp,
    units=units_with_held(_UNITS, STATE_EXP),
    synapse_kind="conductance",
))

EIF_COND_ALPHA = register(ModelSpec(
    name="EIF_cond_alpha_isfa_ista",
    params=PARAMS,
    state=STATE_ALPHA,
    receptors=("excitatory", "inhibitory"),
    recordables=dict(_RECORDABLES),
    initial=initial_with_held({"v": -70.6, "w": 0.0, "gsyn_exc": 0.0, "dgsyn_exc": 0.0, "gsyn_inh": 0.0,
                               "dgsyn_inh": 0.0, "refrac": 0.0, "h_ode": 0.0}, STATE_ALPHA),
    step=step_eif_cond_alpha,
    units=units_with_held(_UNITS, STATE_ALPHA),
    synapse_kind="conductance",
))
