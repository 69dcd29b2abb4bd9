"""Quadratic integrate-and-fire neuron (QIF) in the normalised form of Montbrió, Pazó & Roxin
(PRX 5, 021028, 2015), the neuron whose exact mean field is the MPR neural mass
(``neurohybrid.backends.meanfield.models.MontbrioPazoRoxin``).

Equation (one neuron)::

    tau_m dv/dt = v**2 + eta + i_offset + I(t) + s_exc(t) + s_inh(t)

- ``v``: membrane potential in *QIF units* (dimensionless, MPR's ``V``). A biophysical QIF
  ``C du/dt = k (u - u_*)**2 + I_u`` (u in mV, C in nF, k in µS/mV, I_u in nA) is this model
  with ``v = (k tau_m / C)(u - u_*)`` and drive ``eta + I = (k tau_m**2 / C**2) I_u``;
  neurohybrid keeps the normalised form so that the parameters are MPR's own. Where PyNN
  expects mV for ``v``, read "QIF units".
- ``tau_m`` (ms): membrane time constant, MPR's ``tau``.
- ``eta`` (QIF units, per neuron): excitability; MPR's ``eta`` is the centre of the Lorentzian
  distribution of the ``eta`` of the population and ``Delta`` its half-width.
- ``i_offset`` and current sources ``I(t)``: drive in the same units as ``eta`` (1 "nA" of a
  PyNN current source counts as 1 QIF unit), MPR's ``I``.
- ``v_peak`` (QIF units): peak ``V_p``; the reset is ``-v_peak``. As in Montbrió et al.
  (Methods), a neuron that reaches ``v_peak`` is held for ``2 tau_m / v_peak`` ms (the time the
  QIF takes from ``V_p`` to +infinity plus from -infinity to ``-V_p``, each ≈ ``tau_m/V_p``) and
  its spike is emitted at the midpoint, ``tau_m / v_peak`` after the peak (the moment v would
  pass through infinity); it then restarts from ``-v_peak``. The refractory time is
  continuous (not rounded to ticks), state row ``refrac`` (ms left). While refractory, ``v``
  reads ``+v_peak`` before the emission and ``-v_peak`` after it.
- Synapses (receptors ``excitatory``, ``inhibitory``): a weight ``w`` is the total
  displacement of v it causes (QIF units; inhibitory weights negative). ``tau_syn_exc`` /
  ``tau_syn_inh`` (ms) = 0 means instantaneous (delta) synapses: v jumps by ``w`` at the end of
  the tick the spike arrives (discarded while refractory, as NEST's delta neurons do); a
  jump to ``>= v_peak`` starts the refractory period there. ``tau_syn > 0``: exponential
  synapses, the drive ``s`` jumps by ``w tau_m / tau_syn`` and decays with ``tau_syn``, so that
  ``∫ s dt / tau_m = w`` as for the delta synapse. The MPR coupling ``J tau r(t)`` of an
  all-to-all population of N neurons is therefore a projection of weight ``J / N``.

Integration: exact. Within one tick the drive ``c = eta + i_offset + I + s̄`` is constant
(``s̄``: the exact tick average of the decaying exponential synaptic drive), and the QIF with
constant drive has a closed-form solution, ``v(t) = (v0 + c g)/(1 - v0 g)`` with
``g = tan(√c t/τ)/√c``, ``t/τ`` or ``tanh(√-c t/τ)/√-c`` for c > 0, = 0, < 0, and a
closed-form time to reach ``v_peak``. The crossing time is used inside the tick (sub-tick
refractory start and end); only the spike emission is on the tick grid (a spike whose
midpoint falls in tick k carries the stamp ``t_k + dt``, as for every emulator model). At most
one spike per tick and neuron is reported, which holds whenever ``dt <= 2 tau_m / v_peak``.
"""
from __future__ import annotations

import math

import numba

from . import ModelSpec, register
from ._common import record_positions

_PARAMS = ("tau_m", "eta", "v_peak", "i_offset", "tau_syn_exc", "tau_syn_inh")
_STATE = ("v", "isyn_exc", "isyn_inh", "refrac")


@numba.njit(cache=True)
def time_to_peak(v0, c, vp, tau):
    """Time (ms) for ``tau dv/dt = v**2 + c`` to go from ``v0`` to ``vp`` (> v0); inf if never."""
    if v0 >= vp:
        return 0.0
    if c > 0.0:
        s = math.sqrt(c)
        # atan(vp/s) - atan(v0/s), in (0, pi), without cancellation for small s
        return tau / s * math.atan2((vp - v0) * s, c + vp * v0)
    if c == 0.0:
        if v0 <= 0.0:
            return math.inf
        return tau * (vp - v0) / (vp * v0)
    a = math.sqrt(-c)
    if v0 <= a:
        return math.inf  # below the unstable fixed point: never fires
    return tau / (2.0 * a) * math.log1p(2.0 * a * (vp - v0) / ((vp + a) * (v0 - a)))


@numba.njit(cache=True)
def evolve(v0, c, t, tau):
    """v after ``t`` ms of ``tau dv/dt = v**2 + c`` from ``v0`` (``t`` before any blow-up)."""
    if c > 0.0:
        s = math.sqrt(c)
        th = s * t / tau
        if th >= 1.0:
            # far from the small-s regime: the angle form, which never divides by ~0
            return s * math.tan(th + math.atan(v0 / s))
        g = math.tan(th) / s
    elif c < 0.0:
        a = math.sqrt(-c)
        g = math.tanh(a * t / tau) / a
    else:
        g = t / tau
    return (v0 + c * g) / (1.0 - v0 * g)


@numba.njit(cache=True, parallel=True)
def step_qif(S, P, syn_in, i_ext, dt, spikes_out, rec_rows, rec_cells, rec_out):
    """Advance QIF neurons through ``syn_in.shape[0]`` ticks (see the models contract)."""
    n = S.shape[1]
    n_ticks = syn_in.shape[0]
    pos = record_positions(rec_cells, n)
    for i in numba.prange(n):
        tau = P[0, i]
        eta = P[1, i]
        vp = P[2, i]
        i_off = P[3, i]
        tse = P[4, i]
        tsi = P[5, i]
        half = tau / vp  # v_peak -> infinity (and -infinity -> -v_peak), ms
        # exponential synapses: decay per tick, tick average of the drive per unit start value,
        # jump of the drive per unit weight
        de = math.exp(-dt / tse) if tse > 0.0 else 0.0
        di = math.exp(-dt / tsi) if tsi > 0.0 else 0.0
        ae = tse / dt * (1.0 - de) if tse > 0.0 else 0.0
        ai = tsi / dt * (1.0 - di) if tsi > 0.0 else 0.0
        je = tau / tse if tse > 0.0 else 0.0
        ji = tau / tsi if tsi > 0.0 else 0.0
        v = S[0, i]
        se = S[1, i]
        si = S[2, i]
        ref = S[3, i]
        for k in range(n_ticks):
            c = eta + i_off + i_ext[k, i] + ae * se + ai * si
            t_left = dt
            for _ in range(64):  # phases within one tick: free, refractory, free, ...
                if t_left <= 0.0:
                    break
                if ref > 0.0:
                    use = ref if ref < t_left else t_left
                    if ref > half and ref - use <= half:
                        spikes_out[k, i] = 1
                        v = -vp
                    ref -= use
                    t_left -= use
                    if ref <= 1e-12 * dt:
                        ref = 0.0
                        v = -vp
                    continue
                t_star = time_to_peak(v, c, vp, tau)
                if t_star <= t_left:
                    t_left -= t_star
                    v = vp
                    ref = 2.0 * half
                else:
                    v = evolve(v, c, t_left, tau)
                    t_left = 0.0
            # synaptic input arriving in tick k (acts from the end of the tick)
            se = se * de
            si = si * di
            jump = 0.0
            if tse > 0.0:
                se += je * syn_in[k, 0, i]
            else:
                jump += syn_in[k, 0, i]
            if tsi > 0.0:
                si += ji * syn_in[k, 1, i]
            else:
                jump += syn_in[k, 1, i]
            if ref == 0.0 and jump != 0.0:
                v += jump
                if v >= vp:
                    v = vp
                    ref = 2.0 * half
            if pos[i] >= 0:
                S[0, i] = v
                S[1, i] = se
                S[2, i] = si
                S[3, i] = ref
                for a in range(rec_rows.shape[0]):
                    rec_out[k, a, pos[i]] = S[rec_rows[a], i]
        S[0, i] = v
        S[1, i] = se
        S[2, i] = si
        S[3, i] = ref


QIF = register(ModelSpec(
    name="QIF",
    params=_PARAMS,
    state=_STATE,
    receptors=("excitatory", "inhibitory"),
    recordables={"v": "v"},
    initial={"v": 0.0, "isyn_exc": 0.0, "isyn_inh": 0.0, "refrac": 0.0},
    step=step_qif,
    units={"v": "dimensionless", "isyn_exc": "dimensionless", "isyn_inh": "dimensionless", "refrac": "ms"},
    synapse_kind="voltage",
))
