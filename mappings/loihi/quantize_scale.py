"""Scaling: a quantisation plan (:mod:`~neurohybrid.mappings.loihi.quantize_plan`) made integer.

:func:`_build_population` writes a population's Loihi registers at its chosen scale (vth, the
bias mantissa and exponent, v0, u0; the decays and refractory steps come from the plan) and
:func:`_build_projection` a projection's 8-bit weight mantissas with one weight exponent, and its
delays as latencies in steps; both raise when a value does not fit Loihi's registers. Big
projections are processed in chunks of ``CHUNK`` synapses; constant weights and delays stay
zero-copy. The rules are those of :mod:`neurohybrid.mappings.loihi.quantize`'s docstring; what
each step asked for, chose and represents goes to the report
(:mod:`~neurohybrid.mappings.loihi.quantize_report`).
"""
from __future__ import annotations

import numpy as np

from neurohybrid.errors import DelayError, ParameterError

from .circuit import LoihiPopulation, LoihiProjection
from .limits import BIAS_MANT_MAX, BIAS_MANT_MIN, UV_MAX, VTH_MAX, limit
from .quantize_plan import (PLASTIC_WEIGHT_EXP_MIN, _MANT_RANGE, _VTH_UNIT, _WEIGHT_BITS, _WEIGHT_EXP_MAX, _WEIGHT_SHIFT, _WEIGHT_UNITS,
                            _chunks, _EdgePlan, _is_const, _mantissa, _Plan, _weight_exp)
from .quantize_report import population_report, projection_report

_MAX_LATENCY = limit("max_delay_steps")


def bias_parts(bias_v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split a bias (v units per step, real) into Loihi's ``bias_mant`` (13-bit signed) and
    ``bias_exp`` (0..7): per cell the smallest exponent whose mantissa fits. Returns
    ``(mant, exp, over)``; ``over`` marks cells that do not fit even at the largest exponent
    (their mantissa is left unclipped: the caller refuses or clips)."""
    bias_v = np.asarray(bias_v, dtype=float)
    exp = np.zeros(bias_v.shape, np.int64)
    mant = np.rint(bias_v).astype(np.int64)
    for e in range(1, limit("bias_exp_max") + 1):
        over = (mant > BIAS_MANT_MAX) | (mant < BIAS_MANT_MIN)
        if not over.any():
            break
        exp[over] = e
        mant[over] = np.rint(bias_v[over] / (1 << e)).astype(np.int64)
    over = (mant > BIAS_MANT_MAX) | (mant < BIAS_MANT_MIN)
    return mant, exp, over

def _rint_steps(values_ms: np.ndarray, dt: float):
    """Whole steps of ``dt`` nearest to ``values_ms``; off-grid count and max rounding (ms)."""
    x = values_ms / dt
    steps = np.rint(x)
    off = np.abs(x - steps) > 1e-6
    return steps, int(np.count_nonzero(off)), float(np.max(np.abs(x - steps)) * dt) if x.size else 0.0


def _build_population(plan: _Plan, dt: float) -> LoihiPopulation:
    node, scale = plan.node, plan.scale
    n = node.size
    vth = np.rint(plan.theta * scale / _VTH_UNIT).astype(np.int64)
    if np.any(vth < 1):
        i = int(np.argmin(vth))
        raise ParameterError(node.name, "v_thresh", f"threshold {plan.theta[i] + plan.v_rest} mV (cell {i}) rounds to "
                             f"vth = 0 at the population's scale (set by its largest threshold "
                             f"{plan.theta.max() + plan.v_rest} mV): the thresholds span more than the 17-bit vth "
                             "resolves", "thresholds within a factor 2**10 of each other (relative to v_rest) "
                             "per population (split the population)")
    if np.any(vth > VTH_MAX):
        raise ParameterError(node.name, "v_thresh", "threshold exceeds the 17-bit vth", f"vth <= {VTH_MAX}")
    # bias: per-neuron exponent, the smallest that fits the 13-bit mantissa
    bias_v = plan.bias_mv * scale
    bias_mant, bias_exp, over = bias_parts(bias_v)
    if over.any():
        i = int(np.flatnonzero(over)[0])
        room = BIAS_MANT_MAX * (1 << limit("bias_exp_max")) / (scale * plan.tau_m[i] / plan.cm[i] * (1 - plan.b[i]))
        raise ParameterError(node.name, "i_offset", f"i_offset = {plan.i_offset[i]} nA (cell {i}) needs a bias of "
                             f"{bias_v[i]:.0f} v units per step, more than the 13-bit mantissa with exponent <= 7 holds "
                             f"({BIAS_MANT_MAX << 7})", f"|i_offset| <= {room:.4g} nA at this population's scale")
    v0 = np.rint(plan.v_init * scale).astype(np.int64)
    if np.any(np.abs(v0) > UV_MAX):
        i = int(np.argmax(np.abs(v0)))
        raise ParameterError(node.name, "initial v", f"v = {plan.v_init[i] + plan.v_rest} mV (cell {i}) maps to "
                             f"{v0[i]}, beyond v's 24-bit range ±{UV_MAX}",
                             f"initial v within v_rest ± {UV_MAX / scale:.4g} mV")
    u0 = np.rint(plan.u_init_mv * scale).astype(np.int64)
    if np.any(np.abs(u0) > UV_MAX):
        raise ParameterError(node.name, "initial isyn_exc/isyn_inh", "initial synaptic current beyond u's 24-bit range",
                             f"|u0| <= {UV_MAX}")

    population_report(plan, dt, vth, bias_mant, bias_exp, v0, u0)

    return LoihiPopulation(
        name=node.name, size=n, du=plan.du.astype(np.int32), dv=plan.dv.astype(np.int32),
        vth=vth.astype(np.int32), bias_mant=bias_mant.astype(np.int32), bias_exp=bias_exp.astype(np.int32),
        refractory=plan.refractory.astype(np.int32), u0=u0.astype(np.int32), v0=v0.astype(np.int32),
        scale=scale, v_rest=plan.v_rest, source_model=node.model, approximations=tuple(plan.approximations))


def _build_projection(ep: _EdgePlan, dt: float) -> tuple[LoihiProjection, dict]:
    edge, plan = ep.edge, ep.post
    n, scale = ep.n, plan.scale
    mode = ep.mode
    lo, hi = _MANT_RANGE[mode]
    e_need = int(_weight_exp(ep.xmax * scale, ep.xmin * scale, mode))
    wexp = min(e_need, _WEIGHT_EXP_MAX)
    if ep.plastic is not None:  # the exponent that puts the bound at the end of the range (learning.py)
        x = ep.plastic.bound * float(np.ravel(ep.gain)[0]) * scale / ep.plastic.bound_m
        wexp = e_need = int(np.clip(round(np.log2(x)) - _WEIGHT_SHIFT, PLASTIC_WEIGHT_EXP_MIN, _WEIGHT_EXP_MAX))
    unit = float(2.0 ** (_WEIGHT_SHIFT + wexp))
    w = edge.values["weight"]
    d = edge.values["delay"]
    g = ep.gain
    g_scalar = np.ndim(g) == 0
    stats = {"lost": 0, "clipped": 0, "nonzero": 0, "sum": 0.0, "sumsq": 0.0, "max": 0.0, "mmin": None, "mmax": None}

    def accumulate(wv: np.ndarray, count: int = 1):
        y = _mantissa(wv / unit, mode)
        clipped = (y < lo) | (y > hi)
        m = np.clip(y, lo, hi)
        nz = wv != 0
        lost = nz & (m == 0)
        rel = np.abs(m * unit - wv)[nz] / np.abs(wv[nz])
        stats["clipped"] += int(np.count_nonzero(clipped)) * count
        stats["lost"] += int(np.count_nonzero(lost)) * count
        stats["nonzero"] += int(np.count_nonzero(nz)) * count
        stats["sum"] += float(rel.sum()) * count
        stats["sumsq"] += float((rel * rel).sum()) * count
        if rel.size:
            stats["max"] = max(stats["max"], float(rel.max()))
        if m.size:
            lo_m, hi_m = int(m.min()), int(m.max())
            stats["mmin"] = lo_m if stats["mmin"] is None else min(stats["mmin"], lo_m)
            stats["mmax"] = hi_m if stats["mmax"] is None else max(stats["mmax"], hi_m)
        return m.astype(np.int16)

    if n == 0:
        weights = np.zeros(0, np.int16)
    elif _is_const(w) and g_scalar:
        m0 = accumulate(np.array([float(w[0]) * g * scale]), count=n)
        weights = np.broadcast_to(m0, (n,))
    else:
        weights = np.empty(n, np.int16)
        for s, e in _chunks(n):
            gc = g if g_scalar else g[edge.post_index[s:e]]
            weights[s:e] = accumulate(np.asarray(w[s:e], dtype=float) * gc * scale)
    if ep.xmax != 0 or ep.xmin != 0:
        if stats["lost"] == stats["nonzero"] and n:
            raise ParameterError(edge.name, "weight", f"all {n} weights (|w| <= {max(abs(ep.wmin), abs(ep.wmax)):.4g} "
                                 f"{_WEIGHT_UNITS.get(plan.node.model, '')}) quantise to zero: the smallest Loihi weight "
                                 f"onto {plan.node.name} is {64 / (scale * _max_gain(g)):.4g} "
                                 f"{_WEIGHT_UNITS.get(plan.node.model, '')} (one 64-unit step of u at the population's "
                                 "scale, set by its threshold)",
                                 f"weights of at least half that, or a smaller threshold range in {plan.node.name}")

    # delays → latency (steps)
    offset = plan.latency_offset
    delay_info = {"rounded": 0, "max_rounding_ms": 0.0, "steps_min": None, "steps_max": None}

    def latency(dc: np.ndarray) -> np.ndarray:
        dc = np.asarray(dc, dtype=float)
        if not np.all(np.isfinite(dc)):
            raise DelayError(edge.name, "delay", "contains NaN or infinite values", "finite delays in ms")
        steps, off, worst = _rint_steps(dc, dt)
        delay_info["rounded"] += off
        delay_info["max_rounding_ms"] = max(delay_info["max_rounding_ms"], worst)
        if steps.size:
            smin, smax = int(steps.min()), int(steps.max())
            if smin < 1:
                raise DelayError(edge.name, "delay", f"delay {dc.min()} ms is less than one step of {dt} ms",
                                 f"delays >= {dt} ms")
            if smax + offset > _MAX_LATENCY:
                raise DelayError(edge.name, "delay", f"delay {dc.max()} ms is {smax} steps of {dt} ms"
                                 + (f" (+{offset} step: {plan.model} PSCs reach v one step after arrival)" if offset else "")
                                 + f", beyond Loihi's {_MAX_LATENCY}-step maximum (6-bit DelaySparse delay + 1)",
                                 f"delays <= {(_MAX_LATENCY - offset) * dt:g} ms at dt = {dt} ms")
            delay_info["steps_min"] = smin if delay_info["steps_min"] is None else min(smin, delay_info["steps_min"])
            delay_info["steps_max"] = smax if delay_info["steps_max"] is None else max(smax, delay_info["steps_max"])
        return (steps + offset).astype(np.uint8)

    if n == 0:
        delays = np.zeros(0, np.uint8)
    elif _is_const(d):
        l0 = latency(np.asarray(d[:1]))
        delay_info["rounded"] *= n
        delays = np.broadcast_to(l0, (n,))
    else:
        delays = np.empty(n, np.uint8)
        for s, e in _chunks(n):
            delays[s:e] = latency(d[s:e])

    prj = LoihiProjection(name=edge.name, pre=edge.pre, post=edge.post, rows=edge.post_index, cols=edge.pre_index,
                          weights=weights, delays=delays, weight_exp=wexp, num_weight_bits=_WEIGHT_BITS, sign_mode=mode)
    return prj, projection_report(ep, wexp, e_need, stats, delay_info)


def _max_gain(g) -> float:
    return float(g) if np.ndim(g) == 0 else float(np.max(g))


def attach_learning(prj: LoihiProjection, ep: _EdgePlan, post: LoihiPopulation, dt: float, seed: int) -> dict:
    """Make ``prj`` (built from plastic edge plan ``ep``) a learning connection: its rule at the
    weight unit its exponent gives (``learning.compile_plastic``), latency 1, the connectivity
    mask, and, for a dopamine rule, the post population's 3-factor traces. Returns the
    ``"learning"`` entry of the projection's report."""
    from neurohybrid.errors import UnsupportedModelError

    from .learning import compile_plastic
    pp, plan = ep.plastic, ep.post
    g = float(np.ravel(ep.gain)[0])
    unit = float(2.0 ** (_WEIGHT_SHIFT + prj.weight_exp)) / (g * plan.scale)
    for name, clip, additive in (("w_max", pp.hi, pp.kind != "pair" or pp.p["mu_plus"] == 0),
                                 ("w_min", pp.lo, pp.kind != "pair" or pp.p["mu_minus"] == 0)):
        if additive and abs(pp.p[name] / unit - clip) > 0.5 and (pp.p[name] != 0 or clip != 0):
            raise UnsupportedModelError(f"Projection({ep.edge.name})", name, f"{name} = {pp.p[name]:g} maps onto "
                                        f"mantissa {pp.p[name] / unit:.4g}, not onto Loihi's clip {clip}: the scale "
                                        f"of {plan.node.name} is set by another plastic projection onto it",
                                        "plastic projections onto one population whose bounds are in ratios of "
                                        "powers of 2 (in units of their synaptic gain)")
    dop_unit = None
    if pp.kind == "dopamine" and post.third_factor:
        dop_unit = post.third_factor["source"]["scale_per_ms"]
    tables, tag_2, third, report = compile_plastic(pp, unit, dt, seed, dop_unit)
    prj.learning, prj.tag_2 = tables, tag_2
    prj.sign_mode = pp.sign_mode
    prj.delays = np.broadcast_to(np.uint8(1), (ep.n,))
    if third is not None:
        source = {"modulator": ep.edge.modulator, "scale_per_ms": report["dopamine"]["scale_per_ms"],
                  "tau_n_ms": pp.p["tau_n"]}
        third["source"] = source
        if post.third_factor and post.third_factor != third:
            raise UnsupportedModelError(f"Projection({ep.edge.name})", "dopamine", f"{post.name} already takes a third "
                                        "factor of another form (another volume transmitter, tau_n, tau_minus or "
                                        "learning rate): a neuron has one y1 and one y3",
                                        "dopamine-modulated projections onto one population sharing dopamine, tau_n, "
                                        "tau_minus and A_minus")
        post.third_factor = third
    return report
