"""Helpers shared by the float-mode model kernels: NEST's refractory step count, the
recording map, and a replica of the GSL adaptive Runge–Kutta–Fehlberg 4(5) stepper
(``gsl_odeiv_evolve_apply`` with ``gsl_odeiv_step_rkf45`` and the standard step-size
control) that NEST's conductance-based, AdEx and Hodgkin–Huxley models use.

The GSL replica follows the C code operation for operation (same coefficients, same
evaluation order, same step-size controller, same carried-over step size), so that a
neuron integrated here takes the same sub-steps as in NEST and its trajectory agrees with
NEST's to rounding error; that is what makes spike times agree on the grid. The step size
the solver suggests is model state (row ``h_ode``, ms; 0 means "start with dt"), carried
across windows exactly as NEST carries ``IntegrationStep_`` across time steps.

Maintenance note: numba's on-disk cache of a kernel is invalidated only by changes to the
kernel's own source file, and ``rkf45_evolve_apply`` is inlined into the kernels; after
editing this file, delete ``models/__pycache__`` (or touch the model files).
"""
from __future__ import annotations

import math

import numba
import numpy as np

from neurohybrid.stimuli.draws import TICS_PER_MS  # noqa: F401  (NEST's time base, 1000 tics per ms)

# Fehlberg coefficients as written in GSL's ode-initval/rkf45.c (zero entries left out).
_AH0, _AH1, _AH2, _AH3, _AH4 = 1.0 / 4.0, 3.0 / 8.0, 12.0 / 13.0, 1.0, 1.0 / 2.0
_B30, _B31 = 3.0 / 32.0, 9.0 / 32.0
_B40, _B41, _B42 = 1932.0 / 2197.0, -7200.0 / 2197.0, 7296.0 / 2197.0
_B50, _B51, _B52, _B53 = 8341.0 / 4104.0, -32832.0 / 4104.0, 29440.0 / 4104.0, -845.0 / 4104.0
_B60, _B61, _B62, _B63, _B64 = (-6080.0 / 20520.0, 41040.0 / 20520.0, -28352.0 / 20520.0,
                                9295.0 / 20520.0, -5643.0 / 20520.0)
_C1, _C3, _C4, _C5, _C6 = (902880.0 / 7618050.0, 3953664.0 / 7618050.0, 3855735.0 / 7618050.0,
                           -1371249.0 / 7618050.0, 277020.0 / 7618050.0)
_EC1, _EC3, _EC4, _EC5, _EC6 = 1.0 / 360.0, -128.0 / 4275.0, -2197.0 / 75240.0, 1.0 / 50.0, 2.0 / 55.0
_ORDER = 5.0  # gsl_odeiv_step_order(rkf45)
_DBL_MIN = 2.2250738585072014e-308

#: number of rows of the work array ``rkf45_evolve_apply`` needs (``np.empty((RKF45_WORK, dim))``)
RKF45_WORK = 11


@numba.njit(cache=True)
def refractory_steps(t_ref, dt):
    """Refractory period ``t_ref`` (ms) as a number of ``dt`` (ms) steps, the way NEST counts it.

    NEST converts ``t_ref`` to tics (rounding to the nearest tic) and then to steps rounding
    *up* (``Time(Time::ms(t_ref)).get_steps()``), so 0.15 ms at dt = 0.1 ms is 2 steps.
    """
    if t_ref <= 0.0:
        return 0
    tics = int(math.floor(t_ref * TICS_PER_MS + 0.5))
    step_tics = int(math.floor(dt * TICS_PER_MS + 0.5))
    return (tics + step_tics - 1) // step_tics


@numba.njit(cache=True, inline="always")
def load_held(S, row, held_row, i, factor):
    """State row ``row`` of cell i (PyNN units) in the kernel's units (times ``factor``).

    Kernels that integrate in NEST's units (pA, nS) keep the exact kernel-unit value in a
    hidden ``held_row`` between windows: converting to PyNN units and back is not exact in
    floating point, which made results depend on where the windows fall (and so on how a
    model is split over engines). The held value is used unless the PyNN-unit row was changed
    since it was stored (an initial value or a state set by the user)."""
    held = S[held_row, i]
    return held if S[row, i] == held / factor else S[row, i] * factor


@numba.njit(cache=True, inline="always")
def store_held(S, row, held_row, i, value, factor):
    """Store kernel-unit ``value`` exactly in ``held_row`` and in PyNN units in ``row``."""
    S[held_row, i] = value
    S[row, i] = value / factor


def with_held(state: tuple, scaled: tuple) -> tuple:
    """``state`` plus one hidden row per name in ``scaled`` (see :func:`load_held`); row
    ``state.index(name) + len(state) - 1`` holds ``name``'s kernel-unit value."""
    return state + tuple(f"{name}.held" for name in scaled)


def units_with_held(units: dict, state: tuple) -> dict:
    """Units of the rows of ``state`` (those of ``units``), the hidden rows in kernel units."""
    return {**{name: units[name] for name in state if name in units},
            **{name: f"1e-3 {units[name[:-5]]}" for name in state if name.endswith(".held")}}


def initial_with_held(initial: dict, state: tuple) -> dict:
    """Default initial values plus 0 for the hidden rows of :func:`with_held`."""
    return {**initial, **{name: 0.0 for name in state if name.endswith(".held")}}


@numba.njit(cache=True)
def record_positions(rec_cells, n):
    """Column of each neuron in ``rec_out`` (-1 where the neuron is not recorded)."""
    pos = np.full(n, -1, dtype=np.int64)
    for b in range(rec_cells.shape[0]):
        pos[rec_cells[b]] = b
    return pos


# Inlined at numba-IR level: a jitted function received as an argument is otherwise lowered as
# a process-specific pointer, which would make every kernel calling this uncacheable.
@numba.njit(cache=True, inline="always")
def rkf45_evolve_apply(rhs, p, y, t, t1, h, work, eps_abs, eps_rel, a_y, a_dydt):
    """One ``gsl_odeiv_evolve_apply`` call: advance ``y`` from ``t`` towards ``t1`` (ms).

    ``rhs(y, f, p)`` writes dy/dt into ``f``; ``p`` holds the model's parameters and inputs.
    ``h`` is the step size to try (ms, carried between calls like NEST's
    ``IntegrationStep_``). The standard GSL control is used: a step is accepted if
    ``|yerr_i| <= 1.1 (eps_abs + eps_rel (a_y |y_i| + a_dydt h |dy_i/dt|))`` for all i
    (``gsl_odeiv_control_y_new(eps_abs, eps_rel)`` is ``a_y = 1, a_dydt = 0``,
    ``gsl_odeiv_control_yp_new`` is ``a_y = 0, a_dydt = 1``). A step whose error is too large is
    undone and retried with a smaller one. Returns ``(t, h)``: the time reached and the step
    size suggested for the next call.
    """
    dim = y.shape[0]
    y0 = work[0]
    k1 = work[1]
    k2 = work[2]
    k3 = work[3]
    k4 = work[4]
    k5 = work[5]
    k6 = work[6]
    ytmp = work[7]
    yerr = work[8]
    dydt_out = work[9]
    t0 = t
    h0 = h
    dt = t1 - t0
    for i in range(dim):
        y0[i] = y[i]
    rhs(y, k1, p)  # dydt_in: rkf45 can use it, so GSL evaluates it once per call
    while True:
        final_step = False
        if h0 > dt:
            h0 = dt
            final_step = True
        for i in range(dim):
            ytmp[i] = y[i] + _AH0 * h0 * k1[i]
        rhs(ytmp, k2, p)
        for i in range(dim):
            ytmp[i] = y[i] + h0 * (_B30 * k1[i] + _B31 * k2[i])
        rhs(ytmp, k3, p)
        for i in range(dim):
            ytmp[i] = y[i] + h0 * (_B40 * k1[i] + _B41 * k2[i] + _B42 * k3[i])
        rhs(ytmp, k4, p)
        for i in range(dim):
            ytmp[i] = y[i] + h0 * (_B50 * k1[i] + _B51 * k2[i] + _B52 * k3[i] + _B53 * k4[i])
        rhs(ytmp, k5, p)
        for i in range(dim):
            ytmp[i] = y[i] + h0 * (_B60 * k1[i] + _B61 * k2[i] + _B62 * k3[i] + _B63 * k4[i]
                                   + _B64 * k5[i])
        rhs(ytmp, k6, p)
        for i in range(dim):
            d_i = _C1 * k1[i] + _C3 * k3[i] + _C4 * k4[i] + _C5 * k5[i] + _C6 * k6[i]
            y[i] += h0 * d_i
        if a_dydt != 0.0:
            rhs(y, dydt_out, p)
        else:
            for i in range(dim):
                dydt_out[i] = 0.0
        for i in range(dim):
            yerr[i] = h0 * (_EC1 * k1[i] + _EC3 * k3[i] + _EC4 * k4[i] + _EC5 * k5[i] + _EC6 * k6[i])
        t_new = t1 if final_step else t0 + h0

        # gsl_odeiv_control standard hadjust
        h_old = h0
        rmax = _DBL_MIN
        for i in range(dim):
            d0 = eps_rel * (a_y * abs(y[i]) + a_dydt * abs(h_old * dydt_out[i])) + eps_abs
            r = abs(yerr[i]) / abs(d0)
            if r > rmax:
                rmax = r
        if rmax > 1.1:
            r = 0.9 / rmax ** (1.0 / _ORDER)
            if r < 0.2:
                r = 0.2
            h_try = r * h_old
            if abs(h_try) < abs(h_old) and t_new + h_try != t_new:
                for i in range(dim):
                    y[i] = y0[i]
                h0 = h_try
                continue
            return t_new, h_old
        elif rmax < 0.5:
            r = 0.9 / rmax ** (1.0 / (_ORDER + 1.0))
            if r > 5.0:
                r = 5.0
            if r < 1.0:
                r = 1.0
            return t_new, r * h_old
        return t_new, h_old
