"""Composed point neurons (PyNN's ``PointNeuron``): one neuron model with any number of named
post-synaptic receptors, each with its own time constant (and reversal potential). One kernel
per dynamics family, for any number of receptors R (``syn_in.shape[1]``):

- ``PointNeuron(LIF+CurrExpPostSynapticResponse)``: NEST's ``iaf_psc_exp_multisynapse`` (what
  pyNN.nest runs): exact integration, ``V <- V P22 + (I_e + I) P20``, then ``+ P21_r i_r`` for
  each receptor in order, ``i_r <- i_r e^{-dt/tau_r} + input_r``, threshold, reset, refractory
  counting as ``iaf_psc_exp``. Weights in nA (any sign on any receptor).
- ``PointNeuron(AdExp+CondAlphaPostSynapticResponse)``: NEST's ``aeif_cond_alpha_multisynapse``:
  the ``aeif`` tick of :mod:`.adex` (GSL RKF45 with NEST's error control, in-loop spike
  detection) with ``I_syn = sum_r g_r (E_r - V)`` and an alpha conductance per receptor (a
  weight w µS peaks at w). Weights must be >= 0.

A node's model name is ``PointNeuron(<neuron>+<response>)``; its receptors are the prefixes of
its parameters ``<receptor>.tau_syn`` (sorted, the order of PyNN's ``receptor_types``), and
recordables ``<receptor>.isyn`` (nA) / ``<receptor>.gsyn`` (µS) name the receptor's state.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from . import FAMILIES, ModelSpec
from ._common import (RKF45_WORK, initial_with_held, load_held, record_positions, refractory_steps, store_held,
                      units_with_held, with_held)
from .adex import _A, _CM, _DT, _EL, _GL, _IE, _ISTIM, _REFR, _TW, _VPEAK, _VRESET, _VTH, _aeif_tick
from .lif import propagators

PREFIX = "PointNeuron("
LIF_PARAMS = ("v_rest", "cm", "tau_m", "tau_refrac", "i_offset", "v_reset", "v_thresh")
ADEXP_PARAMS = ("cm", "tau_refrac", "v_spike", "v_reset", "v_rest", "tau_m", "i_offset", "a", "b", "delta_T",
                "tau_w", "v_thresh")


# --- LIF + CurrExp (iaf_psc_exp_multisynapse) --------------------------------------------------
@numba.njit(cache=True, parallel=True)
def step_lif_curr_exp(S, P, syn_in, i_ext, dt, spikes_out, rec_rows, rec_cells, rec_out):
    """Advance LIF neurons with R current-based exponential receptors. P rows: LIF_PARAMS, then
    tau_syn of each receptor; S rows: v, isyn of each receptor, refrac."""
    n = S.shape[1]
    n_ticks = syn_in.shape[0]
    R = syn_in.shape[1]
    pos = record_positions(rec_cells, n)
    for i in numba.prange(n):
        v_rest = P[0, i]
        cm = P[1, i]
        tau_m = P[2, i]
        i_offset = P[4, i]
        v_reset = P[5, i] - v_rest
        theta = P[6, i] - v_rest
        p22 = math.exp(-dt / tau_m)
        p20 = tau_m / cm * (1.0 - p22)
        p11 = np.empty(R)
        p21 = np.empty(R)
        isyn = np.empty(R)
        for r in range(R):
            p11[r] = math.exp(-dt / P[7 + r, i])
            p21[r] = propagators(P[7 + r, i], tau_m, cm, dt)[1]
            isyn[r] = S[1 + r, i]
        ref_counts = refractory_steps(P[3, i], dt)
        y = S[0, i] - v_rest
        steps = int(round(S[1 + R, i] / dt))
        for k in range(n_ticks):
            if steps == 0:
                y = y * p22 + (i_offset + i_ext[k, i]) * p20
                for r in range(R):
                    y += p21[r] * isyn[r]
            else:
                steps -= 1
            for r in range(R):
                isyn[r] = isyn[r] * p11[r] + syn_in[k, r, i]
            if y >= theta:
                steps = ref_counts
                y = v_reset
                spikes_out[k, i] = 1
            if pos[i] >= 0:
                S[0, i] = y + v_rest
                for r in range(R):
                    S[1 + r, i] = isyn[r]
                S[1 + R, i] = steps * dt
                for a in range(rec_rows.shape[0]):
                    rec_out[k, a, pos[i]] = S[rec_rows[a], i]
        S[0, i] = y + v_rest
        for r in range(R):
            S[1 + r, i] = isyn[r]
        S[1 + R, i] = steps * dt


# --- AdExp + CondAlpha (aeif_cond_alpha_multisynapse) ------------------------------------------
_NP = 16  # the aeif parameter vector of .adex; receptors' E_rev then tau_syn follow it


@numba.njit(cache=True)
def rhs_aeif_alpha_multi(y, f, p):
    """dy/dt of aeif_cond_alpha_multisynapse; y = (V mV, w pA, then per receptor dg nS/ms, g nS)."""
    R = (p.shape[0] - _NP) // 2
    refractory = p[_REFR] > 0.0
    v = p[_VRESET] if refractory else min(y[0], p[_VPEAK])
    w = y[1]
    i_syn = 0.0
    for r in range(R):
        i_syn += y[3 + 2 * r] * (p[_NP + r] - v)
    i_spike = 0.0 if p[_DT] == 0.0 else p[_DT] * p[_GL] * math.exp((v - p[_VTH]) / p[_DT])
    f[0] = 0.0 if refractory else (-p[_GL] * (v - p[_EL]) + i_spike + i_syn - w + p[_IE] + p[_ISTIM]) / p[_CM]
    f[1] = (p[_A] * (v - p[_EL]) - w) / p[_TW]
    for r in range(R):
        tau = p[_NP + R + r]
        f[2 + 2 * r] = -y[2 + 2 * r] / tau
        f[3 + 2 * r] = y[2 + 2 * r] - y[3 + 2 * r] / tau


@numba.njit(cache=True, parallel=True)
def step_adexp_cond_alpha(S, P, syn_in, i_ext, dt, spikes_out, rec_rows, rec_cells, rec_out):
    """Advance AdExp neurons with R alpha conductances. P rows: ADEXP_PARAMS, e_syn of each
    receptor, tau_syn of each receptor. S rows: v, w, (gsyn, dgsyn) per receptor, refrac, h_ode,
    then the held rows of w and of each gsyn, dgsyn (NEST units)."""
    n = S.shape[1]
    n_ticks = syn_in.shape[0]
    R = syn_in.shape[1]
    dim = 2 + 2 * R
    first_held = 4 + 2 * R  # w.held, then gsyn.held, dgsyn.held per receptor
    pos = record_positions(rec_cells, n)
    for i in numba.prange(n):
        p = np.zeros(_NP + 2 * R)
        p[_CM] = P[0, i] * 1000.0
        p[_VPEAK] = P[2, i]
        p[_VRESET] = P[3, i]
        p[_EL] = P[4, i]
        p[_GL] = P[0, i] / P[5, i] * 1000.0
        p[_IE] = P[6, i] * 1000.0
        p[_A] = P[7, i]
        p[_DT] = P[9, i]
        p[_TW] = P[10, i]
        p[_VTH] = P[11, i]
        g0 = np.empty(R)
        for r in range(R):
            p[_NP + r] = P[12 + r, i]
            p[_NP + R + r] = P[12 + R + r, i]
            g0[r] = 1.0 * math.e / P[12 + R + r, i]
        b_pa = P[8, i] * 1000.0
        ref_counts = refractory_steps(P[1, i], dt)
        y = np.empty(dim)
        work = np.empty((RKF45_WORK, dim))
        y[0] = S[0, i]
        y[1] = load_held(S, 1, first_held, i, 1000.0)
        for r in range(R):
            y[3 + 2 * r] = load_held(S, 2 + 2 * r, first_held + 1 + 2 * r, i, 1000.0)
            y[2 + 2 * r] = load_held(S, 3 + 2 * r, first_held + 2 + 2 * r, i, 1000.0)
        r_steps = int(round(S[2 + 2 * R, i] / dt))
        h = S[3 + 2 * R, i] if S[3 + 2 * R, i] > 0.0 else dt
        for k in range(n_ticks):
            p[_ISTIM] = i_ext[k, i] * 1000.0
            h, r_steps, spiked = _aeif_tick(rhs_aeif_alpha_multi, y, p, h, work, dt, r_steps, ref_counts, b_pa, 0, 1)
            if spiked:
                spikes_out[k, i] = 1
            for r in range(R):
                y[2 + 2 * r] += syn_in[k, r, i] * 1000.0 * g0[r]
            if pos[i] >= 0 or k == n_ticks - 1:
                S[0, i] = y[0]
                store_held(S, 1, first_held, i, y[1], 1000.0)
                for r in range(R):
                    store_held(S, 2 + 2 * r, first_held + 1 + 2 * r, i, y[3 + 2 * r], 1000.0)
                    store_held(S, 3 + 2 * r, first_held + 2 + 2 * r, i, y[2 + 2 * r], 1000.0)
                S[2 + 2 * R, i] = r_steps * dt
                S[3 + 2 * R, i] = h
                if pos[i] >= 0:
                    for a in range(rec_rows.shape[0]):
                        rec_out[k, a, pos[i]] = S[rec_rows[a], i]


def receptors_of(node) -> tuple[str, ...]:
    """The receptor names of a composed node (sorted, as PyNN's receptor_types)."""
    return tuple(sorted({name.split(".", 1)[0] for name in node.parameters if "." in name}))


def _lif_curr_exp(node) -> ModelSpec:
    rec = receptors_of(node)
    state = ("v",) + tuple(f"{r}.isyn" for r in rec) + ("refrac",)
    return ModelSpec(
        name=node.model, params=LIF_PARAMS + tuple(f"{r}.tau_syn" for r in rec), state=state, receptors=rec,
        recordables={"v": "v", **{f"{r}.isyn": f"{r}.isyn" for r in rec}},
        initial={"v": -65.0, **{f"{r}.isyn": 0.0 for r in rec}, "refrac": 0.0}, step=step_lif_curr_exp,
        units={"v": "mV", "refrac": "ms", **{f"{r}.isyn": "nA" for r in rec}}, synapse_kind="current")


def _adexp_cond_alpha(node) -> ModelSpec:
    rec = receptors_of(node)
    per_receptor = tuple(x for r in rec for x in (f"{r}.gsyn", f"{r}.dgsyn"))
    state = with_held(("v", "w") + per_receptor + ("refrac", "h_ode"), ("w",) + per_receptor)
    units = {"v": "mV", "w": "nA", "refrac": "ms", "h_ode": "ms",
             **{f"{r}.gsyn": "uS" for r in rec}, **{f"{r}.dgsyn": "uS/ms" for r in rec}}
    return ModelSpec(
        name=node.model,
        params=ADEXP_PARAMS + tuple(f"{r}.e_syn" for r in rec) + tuple(f"{r}.tau_syn" for r in rec),
        state=state, receptors=rec, recordables={"v": "v", "w": "w", **{f"{r}.gsyn": f"{r}.gsyn" for r in rec}},
        initial=initial_with_held({"v": -70.6, "w": 0.0, **{x: 0.0 for x in per_receptor}, "refrac": 0.0,
                                   "h_ode": 0.0}, state),
        step=step_adexp_cond_alpha, units=units_with_held(units, state), synapse_kind="conductance")


#: (neuron component, post-synaptic response) -> spec builder; other pairs have no kernel (NEST
#: has no model for them either, so pyNN.nest refuses them too)
COMBINATIONS = {("LIF", "CurrExpPostSynapticResponse"): _lif_curr_exp,
                ("AdExp", "CondAlphaPostSynapticResponse"): _adexp_cond_alpha}


def model_name(neuron: str, response: str) -> str:
    """The graph model name of a composed neuron."""
    return f"{PREFIX}{neuron}+{response})"


def _build(node) -> ModelSpec:
    neuron, response = node.model[len(PREFIX):-1].split("+")
    if (neuron, response) not in COMBINATIONS:
        raise KeyError(node.model)
    return COMBINATIONS[(neuron, response)](node)


FAMILIES[PREFIX] = _build
