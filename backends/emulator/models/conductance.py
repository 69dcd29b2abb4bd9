"""Conductance-based leaky integrate-and-fire models: IF_cond_exp, IF_cond_alpha,
IF_cond_exp_gsfa_grr (and IF_facets_hardware1, which is IF_cond_exp with fixed parameters).

The kernels follow NEST's ``iaf_cond_exp`` and ``iaf_cond_alpha``: each tick is integrated
with GSL's adaptive Runge–Kutta–Fehlberg 4(5) (absolute error 1e-3 in NEST units, the
step size carried from tick to tick per neuron, see ``_common.rkf45_evolve_apply``), then
the arriving conductance jumps are added, then refractoriness / threshold are handled.
As in NEST's right-hand sides, the currents see v clamped to v_reset while refractory (and
dv/dt = 0 then) and capped at v_thresh otherwise: without the cap, a large conductance jump
(COBA's 100 nS Poisson kicks) makes a Runge–Kutta stage overshoot the threshold with too
large a driving force, and the neuron fires a tick earlier than in NEST.
Inside a window the state is held in NEST's units (pF, nS, pA) so that the error control
sees the same numbers as NEST's; ``S`` holds PyNN units (mV, µS, ms).

State rows: v (mV), gsyn_* (µS), dgsyn_* (µS/ms, alpha only), refrac (ms of refractoriness
left), h_ode (ms, the solver's carried step size, see ``_common``).

IF_cond_exp_gsfa_grr follows NEST's ``iaf_cond_exp_sfa_rr`` (Muller et al. 2007): IF_cond_exp
plus a spike-frequency-adaptation and a relative-refractory conductance (``g_s``, ``g_r``, nS,
reversal ``e_rev_sfa``/``e_rev_rr``, decaying with ``tau_sfa``/``tau_rr``), each incremented by
``q_sfa``/``q_rr`` (nS) at a spike; same solver, clamp and order as IF_cond_exp. While refractory, v is
integrated and then put back to v_reset at the end of every tick, as NEST does.
"""
from __future__ import annotations

import dataclasses
import math

import numba
import numpy as np

from . import ModelSpec, register
from ._common import (RKF45_WORK, load_held, record_positions, refractory_steps, rkf45_evolve_apply,
                      store_held, units_with_held, with_held, initial_with_held)

PARAMS = ("v_rest", "cm", "tau_m", "tau_refrac", "tau_syn_E", "tau_syn_I", "e_rev_E", "e_rev_I",
          "v_thresh", "v_reset", "i_offset")
_ATOL = 1e-3  # gsl_odeiv_control_y_new(1e-3, 0.0) in NEST's iaf_cond_* models

# layout of the per-neuron parameter vector handed to the right-hand sides
_EL, _GL, _CM, _EEX, _EIN, _TEX, _TIN, _IE, _ISTIM, _VRESET, _VTH, _REFR = range(12)
_NP = 12
_ESFA, _ERR, _TSFA, _TRR = range(12, 16)  # iaf_cond_exp_sfa_rr's extra entries


@numba.njit(cache=True)
def _load_p(P, i, p):
    p[_EL] = P[0, i]
    p[_CM] = P[1, i] * 1000.0
    p[_GL] = P[1, i] / P[2, i] * 1000.0  # PyNN→NEST translation g_L = cm/tau_m*1000
    p[_TEX] = P[4, i]
    p[_TIN] = P[5, i]
    p[_EEX] = P[6, i]
    p[_EIN] = P[7, i]
    p[_IE] = P[10, i] * 1000.0
    p[_ISTIM] = 0.0
    p[_VRESET] = P[9, i]
    p[_VTH] = P[8, i]
    p[_REFR] = 0.0


@numba.njit(cache=True)
def _clamped_v(v, p):
    """The membrane potential the currents see: NEST clamps it to V_reset while refractory
    and bounds it by V_th otherwise."""
    return p[_VRESET] if p[_REFR] > 0.0 else min(v, p[_VTH])


@numba.njit(cache=True)
def rhs_cond_exp(y, f, p):
    """dy/dt of iaf_cond_exp; y = (V mV, g_ex nS, g_in nS)."""
    v = _clamped_v(y[0], p)
    i_syn_exc = y[1] * (v - p[_EEX])
    i_syn_inh = y[2] * (v - p[_EIN])
    i_l = p[_GL] * (v - p[_EL])
    f[0] = 0.0 if p[_REFR] > 0.0 else (-i_l + p[_ISTIM] + p[_IE] - i_syn_exc - i_syn_inh) / p[_CM]
    f[1] = -y[1] / p[_TEX]
    f[2] = -y[2] / p[_TIN]


@numba.njit(cache=True)
def rhs_cond_alpha(y, f, p):
    """dy/dt of iaf_cond_alpha; y = (V mV, dg_ex nS/ms, g_ex nS, dg_in nS/ms, g_in nS)."""
    v = _clamped_v(y[0], p)
    i_syn_exc = y[2] * (v - p[_EEX])
    i_syn_inh = y[4] * (v - p[_EIN])
    i_leak = p[_GL] * (v - p[_EL])
    f[0] = 0.0 if p[_REFR] > 0.0 else (-i_leak - i_syn_exc - i_syn_inh + p[_ISTIM] + p[_IE]) / p[_CM]
    f[1] = -y[1] / p[_TEX]
    f[2] = y[1] - y[2] / p[_TEX]
    f[3] = -y[3] / p[_TIN]
    f[4] = y[3] - y[4] / p[_TIN]


STATE_EXP = with_held(("v", "gsyn_exc", "gsyn_inh", "refrac", "h_ode"), ("gsyn_exc", "gsyn_inh"))


@numba.njit(cache=True, parallel=True)
def step_if_cond_exp(S, P, syn_in, i_ext, dt, spikes_out, rec_rows, rec_cells, rec_out):
    """Advance IF_cond_exp neurons through ``syn_in.shape[0]`` ticks (see the models contract).

    ``syn_in`` is in µS (both receptors positive).
    """
    n = S.shape[1]
    n_ticks = syn_in.shape[0]
    pos = record_positions(rec_cells, n)
    for i in numba.prange(n):
        p = np.empty(_NP)
        _load_p(P, i, p)
        v_th = P[8, i]
        v_reset = P[9, i]
        ref_counts = refractory_steps(P[3, i], dt)
        y = np.empty(3)
        work = np.empty((RKF45_WORK, 3))
        y[0] = S[0, i]
        y[1] = load_held(S, 1, 5, i, 1000.0)
        y[2] = load_held(S, 2, 6, i, 1000.0)
        r = int(round(S[3, i] / dt))
        h = S[4, i] if S[4, i] > 0.0 else dt
        for k in range(n_ticks):
            p[_ISTIM] = i_ext[k, i] * 1000.0
            p[_REFR] = 1.0 if r > 0 else 0.0
            t = 0.0
            while t < dt:
                t, h = rkf45_evolve_apply(rhs_cond_exp, p, y, t, dt, h, work, _ATOL, 0.0, 1.0, 0.0)
            y[1] += syn_in[k, 0, i] * 1000.0
            y[2] += syn_in[k, 1, i] * 1000.0
            if r > 0:
                r -= 1
                y[0] = v_reset
            elif y[0] >= v_th:
                r = ref_counts
                y[0] = v_reset
                spikes_out[k, i] = 1
            if pos[i] >= 0:
                S[0, i] = y[0]
                store_held(S, 1, 5, i, y[1], 1000.0)
                store_held(S, 2, 6, i, y[2], 1000.0)
                S[3, i] = r * dt
                S[4, i] = h
                for a in range(rec_rows.shape[0]):
                    rec_out[k, a, pos[i]] = S[rec_rows[a], i]
        S[0, i] = y[0]
        store_held(S, 1, 5, i, y[1], 1000.0)
        store_held(S, 2, 6, i, y[2], 1000.0)
        S[3, i] = r * dt
        S[4, i] = h


STATE_ALPHA = with_held(("v", "gsyn_exc", "dgsyn_exc", "gsyn_inh", "dgsyn_inh", "refrac", "h_ode"),
                        ("gsyn_exc", "dgsyn_exc", "gsyn_inh", "dgsyn_inh"))


@numba.njit(cache=True, parallel=True)
def step_if_cond_alpha(S, P, syn_in, i_ext, dt, spikes_out, rec_rows, rec_cells, rec_out):
    """Advance IF_cond_alpha neurons through ``syn_in.shape[0]`` ticks (see the models contract).

    A weight w (µS) starts an alpha conductance w·(t/tau_syn)·e^{1 - t/tau_syn}, peaking at w.
    """
    n = S.shape[1]
    n_ticks = syn_in.shape[0]
    pos = record_positions(rec_cells, n)
    for i in numba.prange(n):
        p = np.empty(_NP)
        _load_p(P, i, p)
        v_th = P[8, i]
        v_reset = P[9, i]
        ps_e = 1.0 * math.e / p[_TEX]
        ps_i = 1.0 * math.e / p[_TIN]
        ref_counts = refractory_steps(P[3, i], dt)
        y = np.empty(5)
        work = np.empty((RKF45_WORK, 5))
        y[0] = S[0, i]
        y[2] = load_held(S, 1, 7, i, 1000.0)
        y[1] = load_held(S, 2, 8, i, 1000.0)
        y[4] = load_held(S, 3, 9, i, 1000.0)
        y[3] = load_held(S, 4, 10, i, 1000.0)
        r = int(round(S[5, i] / dt))
        h = S[6, i] if S[6, i] > 0.0 else dt
        for k in range(n_ticks):
            p[_ISTIM] = i_ext[k, i] * 1000.0
            p[_REFR] = 1.0 if r > 0 else 0.0
            t = 0.0
            while t < dt:
                t, h = rkf45_evolve_apply(rhs_cond_alpha, p, y, t, dt, h, work, _ATOL, 0.0, 1.0, 0.0)
            if r > 0:
                r -= 1
                y[0] = v_reset
            elif y[0] >= v_th:
                r = ref_counts
                y[0] = v_reset
                spikes_out[k, i] = 1
            y[1] += syn_in[k, 0, i] * 1000.0 * ps_e
            y[3] += syn_in[k, 1, i] * 1000.0 * ps_i
            if pos[i] >= 0:
                S[0, i] = y[0]
                store_held(S, 1, 7, i, y[2], 1000.0)
                store_held(S, 2, 8, i, y[1], 1000.0)
                store_held(S, 3, 9, i, y[4], 1000.0)
                store_held(S, 4, 10, i, y[3], 1000.0)
                S[5, i] = r * dt
                S[6, i] = h
                for a in range(rec_rows.shape[0]):
                    rec_out[k, a, pos[i]] = S[rec_rows[a], i]
        S[0, i] = y[0]
        store_held(S, 1, 7, i, y[2], 1000.0)
        store_held(S, 2, 8, i, y[1], 1000.0)
        store_held(S, 3, 9, i, y[4], 1000.0)
        store_held(S, 4, 10, i, y[3], 1000.0)
        S[5, i] = r * dt
        S[6, i] = h


SFA_PARAMS = PARAMS + ("tau_sfa", "e_rev_sfa", "q_sfa", "tau_rr", "e_rev_rr", "q_rr")


@numba.njit(cache=True)
def rhs_cond_exp_sfa_rr(y, f, p):
    """dy/dt of iaf_cond_exp_sfa_rr; y = (V mV, g_ex nS, g_in nS, g_sfa nS, g_rr nS)."""
    v = _clamped_v(y[0], p)
    i_syn_exc = y[1] * (v - p[_EEX])
    i_syn_inh = y[2] * (v - p[_EIN])
    i_l = p[_GL] * (v - p[_EL])
    i_sfa = y[3] * (v - p[_ESFA])
    i_rr = y[4] * (v - p[_ERR])
    f[0] = 0.0 if p[_REFR] > 0.0 else (-i_l + p[_ISTIM] + p[_IE] - i_syn_exc - i_syn_inh - i_sfa - i_rr) / p[_CM]
    f[1] = -y[1] / p[_TEX]
    f[2] = -y[2] / p[_TIN]
    f[3] = -y[3] / p[_TSFA]
    f[4] = -y[4] / p[_TRR]


STATE_SFA_RR = with_held(("v", "gsyn_exc", "gsyn_inh", "g_s", "g_r", "refrac", "h_ode"), ("gsyn_exc", "gsyn_inh"))


@numba.njit(cache=True, parallel=True)
def step_if_cond_exp_gsfa_grr(S, P, syn_in, i_ext, dt, spikes_out, rec_rows, rec_cells, rec_out):
    """Advance IF_cond_exp_gsfa_grr neurons through ``syn_in.shape[0]`` ticks (models contract);
    P rows: SFA_PARAMS; g_s, g_r rows in nS (PyNN's units for them, and NEST's)."""
    n = S.shape[1]
    n_ticks = syn_in.shape[0]
    pos = record_positions(rec_cells, n)
    for i in numba.prange(n):
        p = np.empty(16)
        _load_p(P, i, p)
        p[_TSFA] = P[11, i]
        p[_ESFA] = P[12, i]
        p[_TRR] = P[14, i]
        p[_ERR] = P[15, i]
        q_sfa = P[13, i]
        q_rr = P[16, i]
        v_th = P[8, i]
        v_reset = P[9, i]
        ref_counts = refractory_steps(P[3, i], dt)
        y = np.empty(5)
        work = np.empty((RKF45_WORK, 5))
        y[0] = S[0, i]
        y[1] = load_held(S, 1, 7, i, 1000.0)
        y[2] = load_held(S, 2, 8, i, 1000.0)
        y[3] = S[3, i]
        y[4] = S[4, i]
        r = int(round(S[5, i] / dt))
        h = S[6, i] if S[6, i] > 0.0 else dt
        for k in range(n_ticks):
            p[_ISTIM] = i_ext[k, i] * 1000.0
            p[_REFR] = 1.0 if r > 0 else 0.0
            t = 0.0
            while t < dt:
                t, h = rkf45_evolve_apply(rhs_cond_exp_sfa_rr, p, y, t, dt, h, work, _ATOL, 0.0, 1.0, 0.0)
            y[1] += syn_in[k, 0, i] * 1000.0
            y[2] += syn_in[k, 1, i] * 1000.0
            if r > 0:
                r -= 1
                y[0] = v_reset
            elif y[0] >= v_th:
                r = ref_counts
                y[0] = v_reset
                spikes_out[k, i] = 1
                y[3] += q_sfa
                y[4] += q_rr
            if pos[i] >= 0 or k == n_ticks - 1:
                S[0, i] = y[0]
                store_held(S, 1, 7, i, y[1], 1000.0)
                store_held(S, 2, 8, i, y[2], 1000.0)
                S[3, i] = y[3]
                S[4, i] = y[4]
                S[5, i] = r * dt
                S[6, i] = h
                if pos[i] >= 0:
                    for a in range(rec_rows.shape[0]):
                        rec_out[k, a, pos[i]] = S[rec_rows[a], i]


_UNITS = {"v": "mV", "gsyn_exc": "uS", "gsyn_inh": "uS", "dgsyn_exc": "uS/ms", "dgsyn_inh": "uS/ms",
          "refrac": "ms", "h_ode": "ms", "g_s": "nS", "g_r": "nS"}
_RECORDABLES = {"v": "v", "gsyn_exc": "gsyn_exc", "gsyn_inh": "gsyn_inh"}

IF_COND_EXP = register(ModelSpec(
    name="IF_cond_exp",
    params=PARAMS,
    state=STATE_EXP,
    receptors=("excitatory", "inhibitory"),
    recordables=dict(_RECORDABLES),
    initial=initial_with_held({"v": -65.0, "gsyn_exc": 0.0, "gsyn_inh": 0.0, "refrac": 0.0, "h_ode": 0.0}, STATE_EXP),
    step=step_if_cond_exp,
    units=units_with_held(_UNITS, STATE_EXP),
    synapse_kind="conductance",
))

IF_COND_ALPHA = register(ModelSpec(
    name="IF_cond_alpha",
    params=PARAMS,
    state=STATE_ALPHA,
    receptors=("excitatory", "inhibitory"),
    recordables=dict(_RECORDABLES),
    initial=initial_with_held({"v": -65.0, "gsyn_exc": 0.0, "dgsyn_exc": 0.0, "gsyn_inh": 0.0,
                               "dgsyn_inh": 0.0, "refrac": 0.0, "h_ode": 0.0}, STATE_ALPHA),
    step=step_if_cond_alpha,
    units=units_with_held(_UNITS, STATE_ALPHA),
    synapse_kind="conductance",
))

IF_COND_EXP_GSFA_GRR = register(ModelSpec(
    name="IF_cond_exp_gsfa_grr",
    params=SFA_PARAMS,
    state=STATE_SFA_RR,
    receptors=("excitatory", "inhibitory"),
    recordables={**_RECORDABLES, "g_s": "g_s", "g_r": "g_r"},
    initial=initial_with_held({"v": -65.0, "gsyn_exc": 0.0, "gsyn_inh": 0.0, "g_s": 0.0, "g_r": 0.0, "refrac": 0.0,
                               "h_ode": 0.0}, STATE_SFA_RR),
    step=step_if_cond_exp_gsfa_grr,
    units=units_with_held(_UNITS, STATE_SFA_RR),
    synapse_kind="conductance",
))

#: IF_facets_hardware1 is NEST's iaf_cond_exp with C_m = 0.2 nF, t_ref = 1 ms, E_ex = 0 mV, I_e = 0
#: (pyNN.nest's extra_parameters); the front end gives it IF_cond_exp's parameters
IF_FACETS_HARDWARE1 = register(dataclasses.replace(IF_COND_EXP, name="IF_facets_hardware1"))
