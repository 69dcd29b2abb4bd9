"""Current-based leaky integrate-and-fire models: IF_curr_exp, IF_curr_alpha, IF_curr_delta.

Subthreshold dynamics are linear and are integrated exactly (Rotter & Diesmann 1999): the
state is multiplied by the propagator matrix of one step, computed once per window from the
parameters. The kernels follow NEST's ``iaf_psc_exp``, ``iaf_psc_alpha`` and
``iaf_psc_delta`` update step by step (membrane potential kept relative to ``v_rest``
inside the window, the same propagator formulas including the ``tau_m == tau_syn`` limit,
the same order of membrane update, synaptic update, threshold test and reset), so spike
times agree with NEST on the dt grid.

Units (PyNN): v mV, synaptic currents nA, cm nF, times ms, i_offset nA. Synaptic input is in
nA for IF_curr_exp/alpha (inhibitory weights negative, as in PyNN) and in mV (a jump of v)
for IF_curr_delta. State rows: v (mV), isyn_exc/isyn_inh (nA), disyn_* (nA/ms, the alpha
kernel's second state), refrac (ms of refractoriness left; counted in whole ticks as NEST
does, see ``_common.refractory_steps``).
"""
from __future__ import annotations

import math

import numba
import numpy as np

from . import ModelSpec, register
from ._common import record_positions, refractory_steps

# Regular P31 is used only for h > _STABILITY * tau_m**2 / |tau_m - tau_syn| (NEST's IAFPropagator).
_STABILITY = 1e-7


@numba.njit(cache=True)
def propagators(tau_syn, tau_m, c_m, h):
    """Exact-integration propagators from a synaptic current to v over one step ``h``.

    Returns ``(P31, P32)``: the response of v (mV) to a unit d(current)/dt (nA/ms) and to a
    unit current (nA) over ``h`` (ms) for a membrane ``tau_m`` (ms), ``c_m`` (nF) and synaptic
    ``tau_syn`` (ms). As in NEST's ``IAFPropagator``, the closed forms of the degenerate case
    ``tau_m == tau_syn`` are used there (``P32 = h/c_m e^{-h/tau_m}``, ``P31 = h²/(2 c_m)
    e^{-h/tau_m}``), and for P31 also where the regular formula loses precision by
    cancellation (``tau_m`` within ``1e-7 tau_m²/h`` of ``tau_syn``).
    """
    if tau_m == tau_syn:
        exp_h_tau = math.exp(-h / tau_m)
        return 0.5 / c_m * h * h * exp_h_tau, 1.0 / c_m * h * exp_h_tau
    beta = tau_syn * tau_m / (tau_m - tau_syn)
    gamma = beta / c_m
    exp_h_tau_syn = math.exp(-h / tau_syn)
    expm1_h_tau = math.expm1(h * (1.0 / beta))
    p32 = gamma * exp_h_tau_syn * expm1_h_tau
    singular_p32 = not math.isfinite(p32)
    h_min_regular = _STABILITY * tau_m * tau_m / abs(tau_m - tau_syn)
    if singular_p32 or h < h_min_regular:
        exp_h_tau = math.exp(-h / tau_m)
        p31 = 0.5 / c_m * h * h * exp_h_tau
        if singular_p32:
            p32 = 1.0 / c_m * h * exp_h_tau
    else:
        p31 = gamma * exp_h_tau_syn * (beta * expm1_h_tau - h)
    return p31, p32


# --- IF_curr_exp (NEST iaf_psc_exp) ------------------------------------------------------------
_EXP_PARAMS = ("v_rest", "cm", "tau_m", "tau_refrac", "tau_syn_E", "tau_syn_I", "i_offset", "v_reset", "v_thresh")
_EXP_STATE = ("v", "isyn_exc", "isyn_inh", "refrac")


@numba.njit(cache=True, parallel=True)
def step_if_curr_exp(S, P, syn_in, i_ext, dt, spikes_out, rec_rows, rec_cells, rec_out):
    """Advance IF_curr_exp neurons through ``syn_in.shape[0]`` ticks (see the models contract)."""
    n = S.shape[1]
    n_ticks = syn_in.shape[0]
    pos = record_positions(rec_cells, n)
    for i in numba.prange(n):
        v_rest = P[0, i]
        cm = P[1, i]
        tau_m = P[2, i]
        tau_syn_e = P[4, i]
        tau_syn_i = P[5, i]
        i_offset = P[6, i]
        theta = P[8, i] - v_rest
        v_reset = P[7, i] - v_rest
        p22 = math.exp(-dt / tau_m)
        p11e = math.exp(-dt / tau_syn_e)
        p11i = math.exp(-dt / tau_syn_i)
        p21e = propagators(tau_syn_e, tau_m, cm, dt)[1]
        p21i = propagators(tau_syn_i, tau_m, cm, dt)[1]
        p20 = tau_m / cm * (1.0 - p22)
        ref_counts = refractory_steps(P[3, i], dt)

        y = S[0, i] - v_rest
        ie = S[1, i]
        ii = S[2, i]
        r = int(round(S[3, i] / dt))
        for k in range(n_ticks):
            if r == 0:
                y = y * p22 + ie * p21e + ii * p21i + (i_offset + i_ext[k, i]) * p20
            else:
                r -= 1
            ie = ie * p11e + syn_in[k, 0, i]
            ii = ii * p11i + syn_in[k, 1, i]
            if y >= theta:
                r = ref_counts
                y = v_reset
                spikes_out[k, i] = 1
            if pos[i] >= 0:
                S[0, i] = y + v_rest
                S[1, i] = ie
                S[2, i] = ii
                S[3, i] = r * dt
                for a in range(rec_rows.shape[0]):
                    rec_out[k, a, pos[i]] = S[rec_rows[a], i]
        S[0, i] = y + v_rest
        S[1, i] = ie
        S[2, i] = ii
        S[3, i] = r * dt


# --- IF_curr_alpha (NEST iaf_psc_alpha) -------------------------------------------------------
_ALPHA_STATE = ("v", "isyn_exc", "disyn_exc", "isyn_inh", "disyn_inh", "refrac")


@numba.njit(cache=True, parallel=True)
def step_if_curr_alpha(S, P, syn_in, i_ext, dt, spikes_out, rec_rows, rec_cells, rec_out):
    """Advance IF_curr_alpha neurons through ``syn_in.shape[0]`` ticks (see the models contract).

    A weight w (nA) starts an alpha current w·(t/tau_syn)·e^{1 - t/tau_syn}, peaking at w.
    """
    n = S.shape[1]
    n_ticks = syn_in.shape[0]
    pos = record_positions(rec_cells, n)
    for i in numba.prange(n):
        v_rest = P[0, i]
        cm = P[1, i]
        tau_m = P[2, i]
        tau_e = P[4, i]
        tau_i = P[5, i]
        i_offset = P[6, i]
        theta = P[8, i] - v_rest
        v_reset = P[7, i] - v_rest
        p11e = math.exp(-dt / tau_e)
        p11i = math.exp(-dt / tau_i)
        p21e = dt * p11e
        p21i = dt * p11i
        expm1_tau_m = math.expm1(-dt / tau_m)
        p30 = -tau_m / cm * expm1_tau_m
        p31e, p32e = propagators(tau_e, tau_m, cm, dt)
        p31i, p32i = propagators(tau_i, tau_m, cm, dt)
        psc_e = 1.0 * math.e / tau_e
        psc_i = 1.0 * math.e / tau_i
        ref_counts = refractory_steps(P[3, i], dt)

        y = S[0, i] - v_rest
        ie = S[1, i]
        die = S[2, i]
        ii = S[3, i]
        dii = S[4, i]
        r = int(round(S[5, i] / dt))
        for k in range(n_ticks):
            if r == 0:
                y = (p30 * (i_ext[k, i] + i_offset) + p31e * die + p32e * ie + p31i * dii + p32i * ii
                     + expm1_tau_m * y + y)
            else:
                r -= 1
            ie = p21e * die + p11e * ie
            die *= p11e
            die += psc_e * syn_in[k, 0, i]
            ii = p21i * dii + p11i * ii
            dii *= p11i
            dii += psc_i * syn_in[k, 1, i]
            if y >= theta:
                r = ref_counts
                y = v_reset
                spikes_out[k, i] = 1
            if pos[i] >= 0:
                S[0, i] = y + v_rest
                S[1, i] = ie
                S[2, i] = die
                S[3, i] = ii
                S[4, i] = dii
                S[5, i] = r * dt
                for a in range(rec_rows.shape[0]):
                    rec_out[k, a, pos[i]] = S[rec_rows[a], i]
        S[0, i] = y + v_rest
        S[1, i] = ie
        S[2, i] = die
        S[3, i] = ii
        S[4, i] = dii
        S[5, i] = r * dt


# --- IF_curr_delta (NEST iaf_psc_delta) -------------------------------------------------------
_DELTA_PARAMS = ("v_rest", "cm", "tau_m", "tau_refrac", "i_offset", "v_reset", "v_thresh")
_DELTA_STATE = ("v", "refrac")


_CHUNK = 256  # neurons per block of the tick-major loop


@numba.njit(cache=True, parallel=True)
def step_if_curr_delta(S, P, syn_in, i_ext, dt, spikes_out, rec_rows, rec_cells, rec_out):
    """Advance IF_curr_delta neurons through ``syn_in.shape[0]`` ticks (see the models contract).

    Weights are voltage jumps (mV) applied in the tick they arrive, before the threshold test
    (as in NEST). Input arriving while the neuron is refractory is discarded (NEST's default
    ``refractory_input = False``).

    Loop order: blocks of neurons in parallel, ticks, then the neurons of the block, so that each
    tick reads contiguous rows of ``syn_in`` (neuron-major order streamed ~30 strided rows per
    neuron and was the slowest part of a balanced-network run). Per neuron, the arithmetic is
    the same as a neuron-by-neuron loop.
    """
    n = S.shape[1]
    n_ticks = syn_in.shape[0]
    n_rec = syn_in.shape[1]
    pos = record_positions(rec_cells, n)
    n_chunks = (n + _CHUNK - 1) // _CHUNK
    for c in numba.prange(n_chunks):
        lo = c * _CHUNK
        m = min(n, lo + _CHUNK) - lo
        y = np.empty(m)
        r = np.empty(m, dtype=np.int64)
        p33 = np.empty(m)
        p30 = np.empty(m)
        drive = np.empty(m)
        theta = np.empty(m)
        v_reset = np.empty(m)
        ref_counts = np.empty(m, dtype=np.int64)
        for q in range(m):
            i = lo + q
            v_rest = P[0, i]
            p33[q] = math.exp(-dt / P[2, i])
            p30[q] = 1.0 / P[1, i] * (1.0 - p33[q]) * P[2, i]
            drive[q] = P[4, i]
            v_reset[q] = P[5, i] - v_rest
            theta[q] = P[6, i] - v_rest
            ref_counts[q] = refractory_steps(P[3, i], dt)
            y[q] = S[0, i] - v_rest
            r[q] = int(round(S[1, i] / dt))
        for k in range(n_ticks):
            for q in range(m):
                i = lo + q
                if r[q] == 0:
                    jump = 0.0
                    for rr in range(n_rec):
                        jump += syn_in[k, rr, i]
                    y[q] = p30[q] * (i_ext[k, i] + drive[q]) + p33[q] * y[q] + jump
                else:
                    r[q] -= 1
                if y[q] >= theta[q]:
                    r[q] = ref_counts[q]
                    y[q] = v_reset[q]
                    spikes_out[k, i] = 1
                if pos[i] >= 0:
                    S[0, i] = y[q] + P[0, i]
                    S[1, i] = r[q] * dt
                    for a in range(rec_rows.shape[0]):
                        rec_out[k, a, pos[i]] = S[rec_rows[a], i]
        for q in range(m):
            i = lo + q
            S[0, i] = y[q] + P[0, i]
            S[1, i] = r[q] * dt


_LIF_UNITS = {"v": "mV", "isyn_exc": "nA", "isyn_inh": "nA", "disyn_exc": "nA/ms", "disyn_inh": "nA/ms",
              "refrac": "ms"}

IF_CURR_EXP = register(ModelSpec(
    name="IF_curr_exp",
    params=_EXP_PARAMS,
    state=_EXP_STATE,
    receptors=("excitatory", "inhibitory"),
    recordables={"v": "v"},
    initial={"v": -65.0, "isyn_exc": 0.0, "isyn_inh": 0.0, "refrac": 0.0},
    step=step_if_curr_exp,
    units={s: _LIF_UNITS[s] for s in _EXP_STATE},
    synapse_kind="current",
))

IF_CURR_ALPHA = register(ModelSpec(
    name="IF_curr_alpha",
    params=_EXP_PARAMS,
    state=_ALPHA_STATE,
    receptors=("excitatory", "inhibitory"),
    recordables={"v": "v"},
    initial={"v": -65.0, "isyn_exc": 0.0, "disyn_exc": 0.0, "isyn_inh": 0.0, "disyn_inh": 0.0, "refrac": 0.0},
    step=step_if_curr_alpha,
    units={s: _LIF_UNITS[s] for s in _ALPHA_STATE},
    synapse_kind="current",
))

IF_CURR_DELTA = register(ModelSpec(
    name="IF_curr_delta",
    params=_DELTA_PARAMS,
    state=_DELTA_STATE,
    receptors=("excitatory", "inhibitory"),
    recordables={"v": "v"},
    initial={"v": -65.0, "refrac": 0.0},
    step=step_if_curr_delta,
    units={s: _LIF_UNITS[s] for s in _DELTA_STATE},
    synapse_kind="voltage",
))
