"""The quantisation report: for every parameter of every population and projection, the value
asked for, the integer chosen, the value that integer stands for and the relative error
(``circuit.report``, JSON-serialisable), its totals and conventions, and the same as text
(:func:`format_report`). Nothing here changes the circuit: the entries are built from the plan
(:mod:`~neurohybrid.mappings.loihi.quantize_plan`) and the integers the scaling chose
(:mod:`~neurohybrid.mappings.loihi.quantize_scale`).
"""
from __future__ import annotations

import math

import numpy as np

from .circuit import LoihiCircuit
from .limits import BIAS_MANT_MAX, DECAY_MAX, UV_MAX, limit
from .quantize_plan import (_MANT_RANGE, _VTH_UNIT, _WEIGHT_BITS, _WEIGHT_EXP_MAX, _WEIGHT_SHIFT, _WEIGHT_UNITS,
                            APPROXIMATIONS, _chunks, _EdgePlan, _is_const, _num, _param, _Plan, _summary)

CONVENTIONS = {
    "v": "v_loihi = (v_mV - v_rest) * scale; rest is 0, Loihi's reset to 0 is a reset to v_rest",
    "scale": "largest (v_thresh - v_rest) -> vth mantissa M in the octave below 2**15 (threshold at 64 M v units), "
             "M picked there to minimise the relative weight and threshold error",
    "decays": "dv = rint(4096 (1 - exp(-dt/tau_m))), du = rint(4095 - 4096 exp(-dt/tau_syn)): nearest decay factor",
    "currents": "i_offset and exponential PSCs keep their steady-state effect on v (I tau_m / cm) under the rounded "
                "decays; delta weights keep their jump height",
    "delays": "rint(delay / dt) steps; latency = steps (IF_curr_delta) or steps + 1 (IF_curr_exp: NEST adds an arriving "
              "PSC to I_syn after the membrane update); a spike emitted in step k reaches v in step k + latency",
    "refractory": "NEST's count: tau_refrac to the nearest 1 us tic, then up to whole steps",
    "threshold": "Lava fires when v > vth << 6, NEST when V >= V_th: one v unit (~1e-6 threshold) apart",
    "weights": "8-bit mantissas, one weight_exp in 0..7 per projection (the smallest at which no weight clips); "
               "sign-homogeneous projections use 0..255 or -255..0, mixed ones even values in -256..254",
}


def _entry(float_vals, fixed, represented, unit: str, reference=None, fixed_name: str = "") -> dict:
    """Report entry of one parameter: asked-for value(s), integer(s), represented value(s), error.

    The relative error is ``|represented - float| / |reference|`` (reference defaults to the
    float value itself; thresholds use v_thresh - v_rest)."""
    f = np.asarray(float_vals, dtype=float)
    r = np.asarray(represented, dtype=float)
    ref = np.abs(np.asarray(f if reference is None else reference, dtype=float))
    err = np.abs(r - f)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(ref > 0, err / np.where(ref > 0, ref, 1.0), np.where(err > 0, np.inf, 0.0))
    out = {"unit": unit, "float": _summary(f), "fixed": fixed if isinstance(fixed, dict) else _summary(fixed),
           "represented": _summary(r),
           "rel_error": {"max": _num(rel.max()) if rel.size else 0.0,
                         "mean": _num(rel.mean()) if rel.size else 0.0}}
    if fixed_name:
        out["fixed_name"] = fixed_name
    return out


# =============================================================================================
# population and projection entries
# =============================================================================================

def population_report(plan: _Plan, dt: float, vth: np.ndarray, bias_mant: np.ndarray, bias_exp: np.ndarray,
                      v0: np.ndarray, u0: np.ndarray) -> None:
    """A population's report (into ``plan.report``): every parameter as asked for, as the integer
    chosen at the population's scale, as represented, and the headroom that scale leaves."""
    node, scale = plan.node, plan.scale
    n = node.size
    b_q = plan.b
    with np.errstate(divide="ignore"):
        tau_m_repr = -dt / np.log(b_q)
    bias_eff = np.where(bias_exp >= 0, bias_mant * (2.0 ** bias_exp), 0.0)
    rep: dict = {"model": node.model, "mapped_as": plan.model, "size": n, "approximations": list(plan.approximations),
                 "scale_v_per_mV": scale, "v_rest_mV": plan.v_rest, "vth_mantissa_of_largest_threshold": plan.vth_target,
                 "vth_octave_searched": plan.report.get("vth_octave"),
                 "latency_offset_steps": plan.latency_offset, "parameters": {}, "notes": list(plan.notes)}
    P = rep["parameters"]
    P["v_thresh"] = _entry(plan.theta + plan.v_rest, vth, vth * _VTH_UNIT / scale + plan.v_rest, "mV",
                           reference=plan.theta, fixed_name="vth")
    P["tau_m"] = _entry(plan.tau_m, plan.dv, tau_m_repr, "ms", fixed_name="dv")
    if plan.model == "IF_curr_exp":
        tau_e = _param(node, "tau_syn_E")
        tau_i = _param(node, "tau_syn_I")
        with np.errstate(divide="ignore"):
            tau_s_repr = np.where(plan.a > 0, -dt / np.log(np.where(plan.a > 0, plan.a, 0.5)), 0.0)
        P["tau_syn_E"] = _entry(tau_e, plan.du, tau_s_repr, "ms", fixed_name="du")
        P["tau_syn_I"] = _entry(tau_i, plan.du, tau_s_repr, "ms", fixed_name="du")
    else:
        P["tau_syn"] = {"unit": "ms", "float": None, "fixed": DECAY_MAX, "fixed_name": "du", "represented": 0.0,
                        "rel_error": {"max": 0.0, "mean": 0.0}, "note": "delta synapses: du = 4095 clears u every step"}
    with np.errstate(divide="ignore", invalid="ignore"):
        i_repr = bias_eff / (scale * plan.tau_m / plan.cm * (1.0 - b_q))
    P["i_offset"] = _entry(plan.i_offset, {"bias_mant": _summary(bias_mant), "bias_exp": _summary(bias_exp)},
                           i_repr, "nA", fixed_name="bias_mant << bias_exp")
    P["i_offset"]["note"] = "relative to the steady-state v (i_offset tau_m / cm), which the bias keeps exactly"
    P["tau_refrac"] = _entry(_param(node, "tau_refrac"), plan.refractory, plan.refractory * dt, "ms",
                             fixed_name="refractory")
    P["v_reset"] = _entry(_param(node, "v_reset"), 0, np.full(n, plan.v_rest), "mV", reference=plan.theta,
                          fixed_name="v (after a spike)")
    P["v_rest"] = _entry(np.full(n, plan.v_rest), 0, np.full(n, plan.v_rest), "mV", fixed_name="v")
    P["cm"] = {"unit": "nF", "float": _summary(plan.cm), "fixed": None, "represented": _summary(plan.cm),
               "rel_error": {"max": 0.0, "mean": 0.0}, "note": "absorbed into the weights and the bias"}
    P["v_initial"] = _entry(plan.v_init + plan.v_rest, v0, v0 / scale + plan.v_rest, "mV", reference=plan.theta,
                            fixed_name="v0")
    if np.any(u0 != 0):
        P["u_initial"] = {"unit": "v units", "fixed": _summary(u0), "fixed_name": "u0"}
    rep["headroom"] = {
        "v_range_in_thresholds": UV_MAX / (plan.theta.max() * scale),
        "u_range_in_thresholds": UV_MAX / (plan.theta.max() * scale),
        "largest_weight_in_thresholds": float((((1 << _WEIGHT_BITS) - 1) << _WEIGHT_EXP_MAX << _WEIGHT_SHIFT)
                                              / (plan.theta.max() * scale)),
        "largest_bias_per_step_in_thresholds": float(BIAS_MANT_MAX * (1 << limit("bias_exp_max"))
                                                     / (plan.theta.max() * scale)),
    }
    plan.report.update(rep)


def projection_report(ep: _EdgePlan, wexp: int, e_need: int, stats: dict, delay_info: dict) -> dict:
    """A projection's report: its weights (float range, mantissas, exponent, errors, lost and
    clipped) and delays (float range, steps, latency, rounding), from the statistics the
    scaling gathered (``stats``, ``delay_info``)."""
    edge, plan = ep.edge, ep.post
    n, scale, mode = ep.n, plan.scale, ep.mode
    g = ep.gain
    g_scalar = np.ndim(g) == 0
    d = edge.values["delay"]
    offset = plan.latency_offset
    nz = max(stats["nonzero"], 1)
    mean = stats["sum"] / nz
    rep = {
        "pre": edge.pre, "post": edge.post, "receptor": edge.receptor, "synapse": edge.synapse, "n_synapses": n,
        "weights": {
            "unit": _WEIGHT_UNITS.get(plan.node.model, ""),
            "float_min": _num(ep.wmin) if n else None, "float_max": _num(ep.wmax) if n else None,
            "sign_mode": mode, "weight_exp": wexp, "mantissa_min": stats["mmin"], "mantissa_max": stats["mmax"],
            "mantissa_range": list(_MANT_RANGE[mode]),
            "v_units_per_weight_unit": _num(g * scale) if g_scalar else _summary(g * scale),
            "rel_error": {"mean": mean, "rms": math.sqrt(stats["sumsq"] / nz), "max": stats["max"]},
            "lost_to_zero": stats["lost"], "clipped": stats["clipped"], "nonzero": stats["nonzero"],
        },
        "delays": {"float_min_ms": _num(_chunked_min(d)) if n else None, "float_max_ms": _num(_chunked_max(d)) if n else None,
                   "steps_min": delay_info["steps_min"], "steps_max": delay_info["steps_max"],
                   "latency_offset": offset,
                   "latency_min": None if delay_info["steps_min"] is None else delay_info["steps_min"] + offset,
                   "latency_max": None if delay_info["steps_max"] is None else delay_info["steps_max"] + offset,
                   "rounded": delay_info["rounded"], "max_rounding_ms": delay_info["max_rounding_ms"]},
    }
    if e_need > _WEIGHT_EXP_MAX:
        rep["weights"]["note"] = (f"the largest weights need weight_exp {e_need} > {_WEIGHT_EXP_MAX}: "
                                  f"{stats['clipped']} weights clipped to the largest mantissa")
    if plan.model == "IF_curr_exp" and "merge_synaptic_time_constants" in plan.approximations \
            and edge.receptor == "inhibitory":
        rep["weights"]["note"] = "inhibitory PSCs decay with tau_syn_E (merge_synaptic_time_constants); charge kept"
    return rep


def _chunked_min(arr: np.ndarray) -> float:
    if _is_const(arr):
        return float(arr[0])
    return min(float(np.min(arr[s:e])) for s, e in _chunks(arr.size))


def _chunked_max(arr: np.ndarray) -> float:
    if _is_const(arr):
        return float(arr[0])
    return max(float(np.max(arr[s:e])) for s, e in _chunks(arr.size))


# =============================================================================================
# the circuit's report
# =============================================================================================

def circuit_report(graph, dt: float, approx: tuple, plans: dict, sources: list, prj_reports: list,
                   skipped_nodes: list, skipped_edges: list, circuit: LoihiCircuit) -> dict:
    """``circuit.report``: the approximations asked for and applied, every population's and
    projection's report, what was skipped, the totals and the conventions."""
    pop_reports = {name: plan.report for name, plan in plans.items()}
    applied = {}
    for name, plan in plans.items():
        for a in plan.approximations:
            applied.setdefault(a, []).append(name)
    for rep in prj_reports:
        for a in rep.get("learning", {}).get("approximations", ()):
            applied.setdefault(a, []).append(rep["name"])
    return {
        "dt_ms": dt,
        "graph_dt_ms": float(graph.dt),
        "approximations_requested": list(approx),
        "approximations_applied": {a: {"populations": pops, "what": APPROXIMATIONS[a]} for a, pops in applied.items()},
        "populations": pop_reports,
        "inputs": {s.name: {"model": s.model, "size": s.size} for s in sources},
        "projections": prj_reports,
        "skipped": {"nodes": skipped_nodes, "edges": skipped_edges},
        "totals": _totals(pop_reports, prj_reports, circuit),
        "conventions": CONVENTIONS,
    }


def _totals(pops: dict, prjs: list, circuit: LoihiCircuit) -> dict:
    worst_w = max((p["weights"]["rel_error"]["max"] for p in prjs if p["n_synapses"]), default=0.0)
    worst_p: dict = {}
    for rep in pops.values():
        for name, entry in rep["parameters"].items():
            err = entry.get("rel_error", {}).get("max")
            if isinstance(err, (int, float)) and err is not None:
                worst_p[name] = max(worst_p.get(name, 0.0), err)
    return {"neurons": circuit.n_neurons, "inputs": int(sum(i.size for i in circuit.inputs.values())),
            "synapses": circuit.n_synapses, "projections": len(circuit.projections),
            "weights_lost_to_zero": int(sum(p["weights"]["lost_to_zero"] for p in prjs)),
            "weights_clipped": int(sum(p["weights"]["clipped"] for p in prjs)),
            "delays_rounded": int(sum(p["delays"]["rounded"] for p in prjs)),
            "worst_weight_rel_error": worst_w, "worst_parameter_rel_error": worst_p}


# =============================================================================================
# text report
# =============================================================================================

def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, dict):
        if "min" in x:
            return f"{_fmt(x['min'])}..{_fmt(x['max'])}"
        return ", ".join(f"{k}={_fmt(v)}" for k, v in x.items())
    if isinstance(x, float):
        return f"{x:.6g}"
    return str(x)


def format_report(report: dict) -> str:
    """The quantisation report (``circuit.report``) as human-readable text."""
    lines = [f"Loihi quantisation report  (dt = {report['dt_ms']} ms; graph dt = {report['graph_dt_ms']} ms)"]
    t = report["totals"]
    lines.append(f"  {t['neurons']} neurons, {t['inputs']} input channels, {t['synapses']} synapses in "
                 f"{t['projections']} projections; weights lost to zero: {t['weights_lost_to_zero']}, clipped: "
                 f"{t['weights_clipped']}; delays rounded: {t['delays_rounded']}")
    if report["approximations_applied"]:
        for a, info in report["approximations_applied"].items():
            lines.append(f"  APPROXIMATION {a} on {', '.join(info['populations'])}: {info['what']}")
    else:
        lines.append("  no approximations applied (faithful mapping up to quantisation)")
    for name, rep in report["populations"].items():
        lines.append("")
        lines.append(f"Population {name}: {rep['model']} x {rep['size']} -> Lava LIF"
                     f"{'Refractory' if rep['parameters']['tau_refrac']['fixed'] not in (0, None) else ''}"
                     f" (as {rep['mapped_as']}); scale {rep['scale_v_per_mV']:.6g} v units/mV, v_rest "
                     f"{rep['v_rest_mV']} mV -> 0; vth mantissa {rep['vth_mantissa_of_largest_threshold']}")
        h = rep["headroom"]
        lines.append(f"  headroom: v and u +-{h['v_range_in_thresholds']:.3g} thresholds, largest weight "
                     f"{h['largest_weight_in_thresholds']:.3g} thresholds, largest bias "
                     f"{h['largest_bias_per_step_in_thresholds']:.3g} thresholds/step")
        lines.append(f"  {'parameter':12s} {'float':>22s} {'fixed':>26s} {'represented':>22s} {'rel.err max':>12s}")
        for pname, e in rep["parameters"].items():
            fixed = e.get("fixed")
            if isinstance(fixed, dict) and "min" not in fixed:
                fixed_s = _fmt(fixed)
            elif fixed is not None:
                fixed_s = e.get("fixed_name", "") + "=" + _fmt(fixed)
            else:
                fixed_s = e.get("note", "-")
            err = e.get("rel_error", {}).get("max")
            err_s = "-" if err is None else (f"{err:.3g}" if isinstance(err, float) else str(err))
            lines.append(f"  {pname:12s} {_fmt(e.get('float')):>22s} {fixed_s:>26s} {_fmt(e.get('represented')):>22s} "
                         f"{err_s:>12s}  {e.get('unit', '')}")
        for note in rep["notes"]:
            lines.append(f"  note: {note}")
    for p in report["projections"]:
        w, d = p["weights"], p["delays"]
        lines.append("")
        lines.append(f"Projection {p['name']}: {p['pre']} -> {p['post']} ({p['receptor']}), {p['n_synapses']} synapses")
        lines.append(f"  weights {_fmt(w['float_min'])}..{_fmt(w['float_max'])} {w['unit']} -> mantissas "
                     f"{w['mantissa_min']}..{w['mantissa_max']} ({w['sign_mode']}, range {w['mantissa_range']}), "
                     f"weight_exp {w['weight_exp']}; rel. error mean {w['rel_error']['mean']:.3g}, rms "
                     f"{w['rel_error']['rms']:.3g}, max {w['rel_error']['max']:.3g}; lost to zero {w['lost_to_zero']}, "
                     f"clipped {w['clipped']}")
        if "note" in w:
            lines.append(f"  note: {w['note']}")
        lines.append(f"  delays {_fmt(d['float_min_ms'])}..{_fmt(d['float_max_ms'])} ms -> {d['steps_min']}..{d['steps_max']} "
                     f"steps, latency {d['latency_min']}..{d['latency_max']} (offset {d['latency_offset']}); "
                     f"rounded {d['rounded']} (max {d['max_rounding_ms']:.3g} ms)")
        if "learning" in p:
            lines.extend(_learning_lines(p["learning"]))
    if report["skipped"]["nodes"] or report["skipped"]["edges"]:
        lines.append("")
        lines.append(f"Skipped (not point neurons / not on Loihi): nodes {report['skipped']['nodes']}, "
                     f"edges {report['skipped']['edges']}")
    return "\n".join(lines)


def _learning_lines(rep: dict) -> list[str]:
    """A plastic projection's learning entry (mappings/loihi/learning.py) as text."""
    w, t = rep["weights"], rep["timing"]
    lines = [f"  learning: {rep['rule']} -> Lava {rep['lava_rule']} (t_epoch {rep['t_epoch']}, seed {rep['rng_seed']})"]
    for target, text in rep["rule_strings"].items():
        lines.append(f"    {target} = {text}")
    for name, tr in rep["traces"].items():
        lines.append(f"    trace {name}: tau {tr['tau_ms']:g} ms ({tr['tau_steps']:g} steps) -> {tr['effective_tau_ms']:.6g} ms "
                     f"(rel. error {tr['tau_rel_error']:.3g}), impulse {tr['impulse']:g}, saturates at "
                     f"{_fmt(tr['saturates_at_trace'])} (NEST trace units); {tr['where']}")
    for r in rep["learning_rates"]:
        lit = r.get("literal") or ", ".join(r.get("literals", [])) or "-"
        lines.append(f"    {r['term']}: {_fmt(r['float'])} -> {lit}"
                     + (f" x impulse {r['impulse']:g}" if "impulse" in r else "")
                     + f" = {_fmt(r['represented'])} (rel. error {r['rel_error']:.3g}) {r.get('unit', '')}")
    lines.append(f"    weights {w['sign_mode']}, clip {w['clip_mantissas']}, {w['unit_per_mantissa']:.6g} per mantissa; "
                 f"w_min {w['w_min']['float']:g} -> {w['w_min']['mantissa']}, w_max {w['w_max']['float']:g} -> "
                 f"{w['w_max']['mantissa']}")
    lines.append(f"    timing: latency {t['latency_needed_steps']} -> {t['latency_loihi_steps']}; pairing shift "
                 f"{t['pairing_shift_steps']} steps, exact for {t['exact_for']}")
    if rep["connectivity"]["mask"]:
        lines.append(f"    connectivity: {rep['connectivity']['mask']}")
    if "dopamine" in rep:
        d = rep["dopamine"]
        lines.append(f"    dopamine from {d['modulator']}: y3 = n x {d['scale_per_ms']:.6g} (saturates at "
                     f"{d['saturates_at_per_ms']:.4g}/ms), b -> {d['B']}; updates every {d['update_every_steps']} steps "
                     f"({d['update_every_ms']:g} ms), tau_c -> {d['tau_c_effective_ms']:.6g} ms")
    for note in rep["not_represented"]:
        lines.append(f"    not represented: {note}")
    return lines
