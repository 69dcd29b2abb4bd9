"""Generalized integrate-and-fire neuron with conductance-based synapses: GIF_cond_exp.

The kernel follows NEST's ``gif_cond_exp`` (Mensi et al. 2012, Pozzorini et al. 2015), what
pyNN.nest runs. Per tick: the spike-triggered current ``eta`` (sum of K1 exponentials, pA in
NEST) and the threshold ``v_t = v_t_star + sum of K2 exponentials`` (mV) are read and decayed;
v and the two conductances are integrated with GSL's RKF45 (``gsl_odeiv_control_y_new(1e-3,
0)``, the step size carried per neuron, see ``_common``) with
``C dv/dt = -g_L (v - E_L) - g_ex (v - E_ex) - g_in (v - E_in) - eta + I_e + I_stim``
(v clamped to v_reset and dv/dt = 0 while refractory; no cap at a threshold); the arriving
conductance jumps are added; then a neuron that is not refractory fires with probability
``1 - exp(-lambda dt)``, ``lambda = lambda0 exp((v - v_t) / delta_v)`` (lambda0 in Hz: 1/1000 per
ms); a spike adds ``a_eta`` to the eta elements and ``a_gamma`` to the threshold elements and
starts the refractory period, during which v is put back to v_reset at the end of each tick.
v itself is not reset by the spike (as in NEST).

Randomness: the draw of cell i at tick t is ``uniform(key, i, t)`` with the population's key
(graph seed, population name, "cell"; the engine loads it into the two ``key_hi``/``key_lo``
parameter rows; ``n_eta`` is K1): reproducible, the same in any window or partition. The tick is state row
``tick`` (counted from 0 at reset).

Array parameters (``tau_eta``, ``a_eta``: K1 values; ``tau_gamma``, ``a_gamma``: K2 values) are
one parameter row per element (``tau_eta.0`` ...), K1 and K2 read from the node's parameters.
State rows: v (mV), gsyn_exc, gsyn_inh (µS), i_eta (nA, the eta of the last tick), v_t (mV, the
threshold of the last tick), refrac (ms), h_ode (ms), tick, eta.k (pA), gamma.k (mV), and the
held rows of the conductances (nS).
"""
from __future__ import annotations

import math

import numba
import numpy as np

from neurohybrid.rng import uniform

from . import FAMILIES, ModelSpec
from ._common import (RKF45_WORK, initial_with_held, load_held, record_positions, refractory_steps,
                      rkf45_evolve_apply, store_held, units_with_held, with_held)

BASE_PARAMS = ("v_rest", "cm", "tau_m", "tau_refrac", "tau_syn_E", "tau_syn_I", "e_rev_E", "e_rev_I", "v_reset",
               "i_offset", "delta_v", "v_t_star", "lambda0", "key_hi", "key_lo", "n_eta")
_ATOL = 1e-3  # gsl_error_tol default of gif_cond_exp, gsl_odeiv_control_y_new(tol, 0.0)

_EL, _GL, _CM, _EEX, _EIN, _TEX, _TIN, _IE, _ISTIM, _VRESET, _REFR, _STC = range(12)


@numba.njit(cache=True)
def rhs_gif_cond_exp(y, f, p):
    """dy/dt of gif_cond_exp; y = (V mV, g_ex nS, g_in nS)."""
    refractory = p[_REFR] > 0.0
    v = p[_VRESET] if refractory else y[0]
    i_syn_exc = y[1] * (v - p[_EEX])
    i_syn_inh = y[2] * (v - p[_EIN])
    i_l = p[_GL] * (v - p[_EL])
    f[0] = 0.0 if refractory else (-i_l + p[_ISTIM] + p[_IE] - i_syn_exc - i_syn_inh - p[_STC]) / p[_CM]
    f[1] = -y[1] / p[_TEX]
    f[2] = -y[2] / p[_TIN]


@numba.njit(cache=True, parallel=True)
def step_gif_cond_exp(S, P, syn_in, i_ext, dt, spikes_out, rec_rows, rec_cells, rec_out):
    """Advance GIF_cond_exp neurons through ``syn_in.shape[0]`` ticks (models contract). P rows:
    BASE_PARAMS (the last, n_eta, is K1), tau_eta.k, a_eta.k (K1 each), tau_gamma.k, a_gamma.k (K2
    each)."""
    n = S.shape[1]
    n_ticks = syn_in.shape[0]
    nb = 16
    K = (P.shape[0] - nb) // 2  # K1 + K2
    held = 8 + K
    pos = record_positions(rec_cells, n)
    for i in numba.prange(n):
        K1 = int(P[15, i])
        K2 = K - K1
        p = np.empty(12)
        p[_EL] = P[0, i]
        p[_CM] = P[1, i] * 1000.0
        p[_GL] = P[1, i] / P[2, i] * 1000.0
        p[_TEX] = P[4, i]
        p[_TIN] = P[5, i]
        p[_EEX] = P[6, i]
        p[_EIN] = P[7, i]
        p[_VRESET] = P[8, i]
        p[_IE] = P[9, i] * 1000.0
        delta_v = P[10, i]
        v_t_star = P[11, i]
        lambda0 = P[12, i] / 1000.0
        key = (np.uint64(P[13, i]) << np.uint64(32)) | np.uint64(P[14, i])
        p_stc = np.empty(K1)
        q_stc = np.empty(K1)
        p_sfa = np.empty(K2)
        q_sfa = np.empty(K2)
        for j in range(K1):
            p_stc[j] = math.exp(-dt / P[nb + j, i])
            q_stc[j] = P[nb + K1 + j, i] * 1000.0
        for j in range(K2):
            p_sfa[j] = math.exp(-dt / P[nb + 2 * K1 + j, i])
            q_sfa[j] = P[nb + 2 * K1 + K2 + j, i]
        ref_counts = refractory_steps(P[3, i], dt)
        y = np.empty(3)
        work = np.empty((RKF45_WORK, 3))
        y[0] = S[0, i]
        y[1] = load_held(S, 1, held, i, 1000.0)
        y[2] = load_held(S, 2, held + 1, i, 1000.0)
        r = int(round(S[5, i] / dt))
        h = S[6, i] if S[6, i] > 0.0 else dt
        tick = np.int64(S[7, i])
        for k in range(n_ticks):
            stc = 0.0
            for j in range(K1):
                stc += S[8 + j, i]
                S[8 + j, i] = p_stc[j] * S[8 + j, i]
            sfa = v_t_star
            for j in range(K2):
                sfa += S[8 + K1 + j, i]
                S[8 + K1 + j, i] = p_sfa[j] * S[8 + K1 + j, i]
            p[_STC] = stc
            p[_ISTIM] = i_ext[k, i] * 1000.0
            p[_REFR] = 1.0 if r > 0 else 0.0
            t = 0.0
            while t < dt:
                t, h = rkf45_evolve_apply(rhs_gif_cond_exp, p, y, t, dt, h, work, _ATOL, 0.0, 1.0, 0.0)
            y[1] += syn_in[k, 0, i] * 1000.0
            y[2] += syn_in[k, 1, i] * 1000.0
            if r == 0:
                lam = lambda0 * math.exp((y[0] - sfa) / delta_v)
                if lam > 0.0 and uniform(key, i, tick) < -math.expm1(-lam * dt):
                    for j in range(K1):
                        S[8 + j, i] += q_stc[j]
                    for j in range(K2):
                        S[8 + K1 + j, i] += q_sfa[j]
                    r = ref_counts
                    spikes_out[k, i] = 1
            else:
                r -= 1
                y[0] = p[_VRESET]
            tick += 1
            S[3, i] = stc / 1000.0
            S[4, i] = sfa
            if pos[i] >= 0 or k == n_ticks - 1:
                S[0, i] = y[0]
                store_held(S, 1, held, i, y[1], 1000.0)
                store_held(S, 2, held + 1, i, y[2], 1000.0)
                S[5, i] = r * dt
                S[6, i] = h
                S[7, i] = tick
                if pos[i] >= 0:
                    for a in range(rec_rows.shape[0]):
                        rec_out[k, a, pos[i]] = S[rec_rows[a], i]


def _count(node, name: str) -> int:
    return sum(1 for key in node.parameters if key.startswith(name + "."))


def _gif(node) -> ModelSpec:
    k1, k2 = _count(node, "tau_eta"), _count(node, "tau_gamma")
    if k1 != _count(node, "a_eta") or k2 != _count(node, "a_gamma"):
        raise KeyError(node.model)
    arrays = (tuple(f"tau_eta.{j}" for j in range(k1)) + tuple(f"a_eta.{j}" for j in range(k1))
              + tuple(f"tau_gamma.{j}" for j in range(k2)) + tuple(f"a_gamma.{j}" for j in range(k2)))
    base = (("v", "gsyn_exc", "gsyn_inh", "i_eta", "v_t", "refrac", "h_ode", "tick")
            + tuple(f"eta.{j}" for j in range(k1)) + tuple(f"gamma.{j}" for j in range(k2)))
    state = with_held(base, ("gsyn_exc", "gsyn_inh"))
    units = {"v": "mV", "gsyn_exc": "uS", "gsyn_inh": "uS", "i_eta": "nA", "v_t": "mV", "refrac": "ms",
             "h_ode": "ms", "tick": "1", **{f"eta.{j}": "pA" for j in range(k1)},
             **{f"gamma.{j}": "mV" for j in range(k2)}}
    initial = {name: 0.0 for name in base}
    initial.update(v=-65.0, v_t=-48.0)
    return ModelSpec(name="GIF_cond_exp", params=BASE_PARAMS + arrays, state=state,
                     receptors=("excitatory", "inhibitory"),
                     recordables={"v": "v", "gsyn_exc": "gsyn_exc", "gsyn_inh": "gsyn_inh", "i_eta": "i_eta",
                                  "v_t": "v_t"},
                     initial=initial_with_held(initial, state), step=step_gif_cond_exp,
                     units=units_with_held(units, state), synapse_kind="conductance", keyed=True,
                     constants={"n_eta": float(k1)})


FAMILIES["GIF_cond_exp"] = _gif
