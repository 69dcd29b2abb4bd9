"""The plan of the Loihi quantiser: what each population and projection becomes, before any
integer is written (the arithmetic and its conventions: :mod:`neurohybrid.mappings.loihi.quantize`).

A population's plan (:class:`_Plan`) checks its cell type, parameters and the approximations
asked for, and fixes everything that does not depend on the scale: the model the integer
dynamics realise, the decays ``dv``/``du`` (and the decay factors they represent), the
charge-keeping gain of each receptor, the bias in mV per step, the refractory steps, the initial
state. A projection's plan (:class:`_EdgePlan`) is one pass over its weights: range, sign mode
and a few representative values. :func:`_choose_scale` then picks, per population, the vth
mantissa of the largest threshold (the octave and the value within it) and with it the scale
(Loihi v units per mV). :func:`refusal` runs the planning alone to say why a population has no
faithful Loihi form.

Also here: the named approximations, the refused cell types, the register constants the plan
and the scaling share, and the small array helpers of the other quantize modules.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from neurohybrid.errors import ParameterError, UnsupportedModelError
from neurohybrid.graph import ModelGraph, PopulationNode, ProjectionEdge

from .limits import ACT_SHIFT, BIAS_MANT_MAX, DECAY_MAX, UV_MAX, VTH_SHIFT, limit

#: Named approximations a user may ask for, and what each one does.
APPROXIMATIONS: dict[str, str] = {
    "merge_synaptic_time_constants":
        "IF_curr_exp/alpha with tau_syn_E != tau_syn_I: one synaptic current u decaying with "
        "tau_syn_E for both receptors; inhibitory weights are rescaled by tau_syn_I/tau_syn_E so "
        "each inhibitory PSC keeps its total charge (its steady-state effect on v)",
    "reset_to_rest":
        "v_reset != v_rest: the neuron resets to v_rest (Loihi resets v to 0, which is v_rest "
        "in this mapping)",
    "plastic_delay_one_step":
        "a plastic projection whose static mapping needs a latency other than 1 step (its delay in steps, + 1 for "
        "IF_curr_exp) transmits with the learning connection's latency of 1 step (Lava 0.10's LearningDense has no "
        "delays): its spikes arrive latency - 1 steps early",
    "alpha_to_exp":
        "IF_curr_alpha: each alpha-shaped PSC w (t/tau) e^(1 - t/tau) is replaced by an "
        "exponential PSC with the same tau_syn and the same total charge (e w tau_syn), i.e. "
        "mapped as IF_curr_exp with weights scaled by e; the PSC peaks earlier and higher",
}

FAITHFUL_MODELS = ("IF_curr_exp", "IF_curr_delta")

_CURRENT_OK = "IF_curr_exp, IF_curr_delta (or IF_curr_alpha with approximations=('alpha_to_exp',))"
_REFUSED = {
    "IF_cond_exp": "conductance-based synapses (the synaptic current depends on v - E_rev) have no "
                   "counterpart in Loihi's LIF, whose synaptic current u is added to v independently of "
                   "v; no approximation is offered for them",
    "IF_cond_alpha": "conductance-based synapses (the synaptic current depends on v - E_rev) have no "
                     "counterpart in Loihi's LIF, whose synaptic current u is added to v independently "
                     "of v; no approximation is offered for them",
    "EIF_cond_exp_isfa_ista": "AdEx has an exponential spike-initiation current, an adaptation current and "
                              "conductance-based synapses; Lava's LIF has none of them",
    "EIF_cond_alpha_isfa_ista": "AdEx has an exponential spike-initiation current, an adaptation current and "
                                "conductance-based synapses; Lava's LIF has none of them",
    "HH_cond_exp": "Hodgkin-Huxley ion channels (and conductance-based synapses) are not LIF dynamics",
    "Izhikevich": "the Izhikevich model's quadratic membrane equation and recovery variable are not LIF "
                  "dynamics",
    "IF_curr_alpha": "Loihi's LIF synaptic current is a first-order (exponential) filter; an alpha-shaped "
                     "PSC needs a second state per receptor",
}

#: Largest vth mantissa the scale aims at, and the smallest it may shrink to (quantize.py docstring).
VTH_TARGET = 1 << 15
VTH_FLOOR = 1 << 10
#: Synapses processed per chunk (bounds the temporaries of big projections: ~32 MB of float64).
CHUNK = 1 << 22
_N_REPRESENTATIVES = 64  # distinct values used to choose the scale
_TICS_PER_MS = 1000.0  # NEST's default time base (backends/emulator/models/_common.py)
_WEIGHT_EXP_MIN = limit("weight_exp_min")
_WEIGHT_EXP_MAX = limit("weight_exp_max")
#: learning connections may use negative weight exponents (Lava floors the step's summed
#: mantissas to multiples of 2**-e before the shift; learning.py reports it)
PLASTIC_WEIGHT_EXP_MIN = -8
_WEIGHT_BITS = limit("weight_bits")
_WEIGHT_SHIFT = ACT_SHIFT  # a mantissa m with exponent e moves u by m << (6 + e)
_VTH_UNIT = float(1 << VTH_SHIFT)  # v units per vth mantissa step (fires when v > vth << 6)
_MANT_RANGE = {"excitatory": (0, (1 << _WEIGHT_BITS) - 1), "inhibitory": (-((1 << _WEIGHT_BITS) - 1), 0),
               # mixed: Lava clips to [-256, 255] and clears the lowest bit (weightutils.truncate_weights)
               "mixed": (-(1 << _WEIGHT_BITS), (1 << _WEIGHT_BITS) - 2)}
_WEIGHT_UNITS = {"IF_curr_exp": "nA", "IF_curr_delta": "mV", "IF_curr_alpha": "nA"}


# =============================================================================================
# small helpers
# =============================================================================================

def _is_const(arr: np.ndarray) -> bool:
    """A zero-stride (np.broadcast_to) 1-d array, or one of length <= 1: one value."""
    return arr.ndim == 1 and (arr.size <= 1 or arr.strides == (0,))


def _uniform(arr: np.ndarray):
    """The single value of ``arr`` if all its values are equal, else None."""
    arr = np.asarray(arr)
    if arr.size == 0:
        return None
    first = arr.flat[0]
    if _is_const(arr) or np.all(arr == first):
        return first
    return None


def _summary(arr) -> float | dict | None:
    """A scalar when all values are equal, else {min, max, mean} (JSON-serialisable)."""
    arr = np.asarray(arr)
    if arr.dtype.kind not in "iub":
        arr = arr.astype(float)
    if arr.size == 0:
        return None
    u = _uniform(arr)
    if u is not None:
        return _num(u)
    return {"min": _num(arr.min()), "max": _num(arr.max()), "mean": _num(arr.mean(dtype=float))}


def _num(x) -> float | int | None:
    x = x.item() if hasattr(x, "item") else x
    if isinstance(x, float) and not math.isfinite(x):
        return None if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return x


def _chunks(n: int):
    for start in range(0, n, CHUNK):
        yield start, min(n, start + CHUNK)


def refractory_steps(t_ref_ms: np.ndarray, dt: float) -> np.ndarray:
    """``tau_refrac`` (ms) → whole steps of ``dt`` as NEST counts them: ``t_ref`` to the nearest
    NEST tic (1 µs), then rounded *up* to whole steps (0.15 ms at dt = 0.1 ms is 2 steps)."""
    t = np.asarray(t_ref_ms, dtype=float)
    tics = np.floor(t * _TICS_PER_MS + 0.5)
    step_tics = math.floor(dt * _TICS_PER_MS + 0.5)
    return np.where(t > 0, -(-tics // step_tics), 0).astype(np.int64)


# =============================================================================================
# population plans (everything except the scale, which needs the incoming weights)
# =============================================================================================

@dataclass
class _Plan:
    node: PopulationNode
    model: str  # the model the integer dynamics realise ("IF_curr_exp" or "IF_curr_delta")
    approximations: list[str]
    v_rest: float
    theta: np.ndarray  # v_thresh - v_rest, mV
    tau_m: np.ndarray
    cm: np.ndarray
    dv: np.ndarray
    du: np.ndarray
    b: np.ndarray  # represented v decay factor (4096 - dv)/4096
    a: np.ndarray  # represented u decay factor (4095 - du)/4096
    gain: dict[str, np.ndarray | float]  # per receptor: mV of v-input per unit weight (per unit scale)
    i_offset: np.ndarray  # nA, DC sources folded in
    bias_mv: np.ndarray  # mV per step (per unit scale) that the bias must add
    refractory: np.ndarray
    v_init: np.ndarray  # mV relative to v_rest
    u_init_mv: np.ndarray  # mV per step (per unit scale) of u0
    latency_offset: int
    notes: list[str] = field(default_factory=list)
    report: dict = field(default_factory=dict)
    incoming: list = field(default_factory=list)  # _EdgePlan
    scale: float = 0.0
    vth_target: int = 0


def _param(node: PopulationNode, name: str) -> np.ndarray:
    if name not in node.parameters:
        raise ParameterError(node.name, name, f"missing from the {node.model} population's parameters",
                             "the PyNN parameters of the cell type")
    arr = np.asarray(node.parameters[name], dtype=float)
    if arr.ndim == 0:
        arr = np.full(node.size, float(arr))
    if not np.all(np.isfinite(arr)):
        raise ParameterError(node.name, name, "contains NaN or infinite values", "finite numbers")
    return arr


def _initial(node: PopulationNode, name: str, default: float) -> np.ndarray:
    if name not in node.initial:
        return np.full(node.size, default)
    arr = np.asarray(node.initial[name], dtype=float)
    arr = np.broadcast_to(arr, (node.size,)) if arr.ndim == 0 else arr
    if not np.all(np.isfinite(arr)):
        raise ParameterError(node.name, f"initial {name}", "contains NaN or infinite values", "finite numbers")
    return arr


def _plan_population(node: PopulationNode, approx: set[str], dt: float, extra_current: np.ndarray) -> _Plan:
    model = node.model
    applied: list[str] = []
    notes: list[str] = []
    if model == "IF_curr_alpha":
        if "alpha_to_exp" not in approx:
            raise UnsupportedModelError(node.name, "celltype", f"{model}: {_REFUSED[model]}",
                                        "IF_curr_exp or IF_curr_delta, or approximations=('alpha_to_exp',) "
                                        "(same total charge, exponential shape)")
        applied.append("alpha_to_exp")
    elif model in _REFUSED:
        why = _REFUSED[model]
        if "no approximation" not in why:
            why += "; no approximation is offered"
        raise UnsupportedModelError(node.name, "celltype", f"{model} cannot run on Loihi's LIF: {why}", _CURRENT_OK)
    elif model not in FAITHFUL_MODELS:
        raise UnsupportedModelError(node.name, "celltype", f"{model} has no Loihi mapping", _CURRENT_OK)
    delta = model == "IF_curr_delta"

    v_rest_arr = _param(node, "v_rest")
    v_rest = _uniform(v_rest_arr)
    if v_rest is None:
        raise ParameterError(node.name, "v_rest", "varies within the population; a Loihi population has one "
                             "v_rest (v = 0) and one scale", "one v_rest per population (split the population)")
    v_rest = float(v_rest)
    v_thresh = _param(node, "v_thresh")
    theta = v_thresh - v_rest
    if np.any(theta <= 0):
        i = int(np.argmin(theta))
        raise ParameterError(node.name, "v_thresh", f"v_thresh ({v_thresh[i]} mV, cell {i}) is not above v_rest "
                             f"({v_rest} mV); Loihi's threshold is an unsigned offset from v = 0 = v_rest",
                             "v_thresh > v_rest")
    v_reset = _param(node, "v_reset")
    if np.any(v_reset != v_rest):
        if "reset_to_rest" not in approx:
            i = int(np.flatnonzero(v_reset != v_rest)[0])
            raise UnsupportedModelError(node.name, "v_reset", f"v_reset = {v_reset[i]} mV differs from v_rest = "
                                        f"{v_rest} mV (cell {i}); Loihi resets v to 0, which is v_rest in this "
                                        "mapping", "v_reset == v_rest, or approximations=('reset_to_rest',)")
        applied.append("reset_to_rest")
    tau_m = _param(node, "tau_m")
    cm = _param(node, "cm")
    for name, arr in (("tau_m", tau_m), ("cm", cm)):
        if np.any(arr <= 0):
            raise ParameterError(node.name, name, f"must be > 0 (min {arr.min()})", "positive values")
    t_ref = _param(node, "tau_refrac")
    if np.any(t_ref < 0):
        raise ParameterError(node.name, "tau_refrac", f"must be >= 0 (min {t_ref.min()})", "non-negative ms")
    i_offset = _param(node, "i_offset") + extra_current

    # v decay: the representable factor nearest e^{-dt/tau_m}
    p22 = np.exp(-dt / tau_m)
    dv_f = 4096.0 * (1.0 - p22)
    if np.any(dv_f < 0.5):
        i = int(np.argmin(dv_f))
        raise ParameterError(node.name, "tau_m", f"tau_m = {tau_m[i]} ms at dt = {dt} ms decays by less than half "
                             "a step of Loihi's 12-bit dv (1/4096 per step): it would become a perfect integrator",
                             f"tau_m <= {8191 * dt:g} ms at dt = {dt} ms")
    dv = np.clip(np.rint(dv_f), 1, DECAY_MAX).astype(np.int64)
    b = (4096 - dv) / 4096.0

    if delta:
        du = np.full(node.size, DECAY_MAX, np.int64)  # u cleared every step: a weight is a jump of v
        a = np.zeros(node.size)
        gain: dict = {"excitatory": 1.0, "inhibitory": 1.0}
        tau_syn_used = None
    else:
        tau_e = _param(node, "tau_syn_E")
        tau_i = _param(node, "tau_syn_I")
        for name, arr in (("tau_syn_E", tau_e), ("tau_syn_I", tau_i)):
            if np.any(arr <= 0):
                raise ParameterError(node.name, name, f"must be > 0 (min {arr.min()})", "positive values")
        if np.any(tau_e != tau_i):
            if "merge_synaptic_time_constants" not in approx:
                i = int(np.flatnonzero(tau_e != tau_i)[0])
                raise UnsupportedModelError(
                    node.name, "tau_syn_I", f"tau_syn_E = {tau_e[i]} ms and tau_syn_I = {tau_i[i]} ms differ (cell {i}); "
                    "a Loihi LIF compartment has one synaptic current u with one decay du",
                    "tau_syn_E == tau_syn_I, or approximations=('merge_synaptic_time_constants',) "
                    "(tau_syn_E for both, inhibitory charge kept)")
            applied.append("merge_synaptic_time_constants")
        tau_syn_used = tau_e
        p11 = np.exp(-dt / tau_e)
        du_f = 4095.0 - 4096.0 * p11
        if np.any(du_f < -0.5):
            i = int(np.argmin(du_f))
            raise ParameterError(node.name, "tau_syn_E", f"tau_syn = {tau_e[i]} ms at dt = {dt} ms decays slower than "
                                 "Loihi's slowest current decay (4095/4096 per step)",
                                 f"tau_syn <= {8191 * dt:g} ms at dt = {dt} ms")
        du = np.clip(np.rint(du_f), 0, DECAY_MAX).astype(np.int64)
        a = (DECAY_MAX - du) / 4096.0
        # steady-state (charge) preserving PSC gain, mV of u per nA of weight (quantize.py docstring)
        shape = math.e if model == "IF_curr_alpha" else 1.0
        common = tau_m / (cm * dt) * (1.0 - a) * (1.0 - b) * shape
        gain = {"excitatory": tau_e * common, "inhibitory": tau_i * common}
    gain = {k: (float(_uniform(v)) if np.ndim(v) and _uniform(v) is not None else v) for k, v in gain.items()}

    # bias: keeps v_inf = i_offset tau_m / cm (quantize.py docstring)
    bias_mv = i_offset * tau_m / cm * (1.0 - b)

    refractory = refractory_steps(t_ref, dt)
    v_init = _initial(node, "v", v_rest) - v_rest
    u_init = np.zeros(node.size)
    if not delta:
        i_exc = _initial(node, "isyn_exc", 0.0)
        i_inh = _initial(node, "isyn_inh", 0.0)
        if np.any(i_exc != 0) or np.any(i_inh != 0):
            # NEST's I_syn at t = 0 reaches v in step 1 as a * u0 (u = a u + input, v += u).
            ge, gi = (np.broadcast_to(gain[k], (node.size,)) for k in ("excitatory", "inhibitory"))
            with np.errstate(divide="ignore", invalid="ignore"):
                u_init = np.where(a > 0, (i_exc * ge + i_inh * gi) / (np.where(a > 0, a, 1.0) * (
                    math.e if model == "IF_curr_alpha" else 1.0)), 0.0)
            if np.any((a == 0) & ((i_exc != 0) | (i_inh != 0))):
                notes.append("initial synaptic currents dropped where tau_syn << dt (du = 4095 clears u)")
        if model == "IF_curr_alpha" and any(np.any(_initial(node, n, 0.0) != 0) for n in ("disyn_exc", "disyn_inh")):
            notes.append("initial disyn_exc/disyn_inh (alpha-kernel second state) ignored")

    plan = _Plan(node=node, model="IF_curr_delta" if delta else "IF_curr_exp", approximations=applied,
                 v_rest=v_rest, theta=theta, tau_m=tau_m, cm=cm, dv=dv, du=du, b=b, a=a, gain=gain,
                 i_offset=i_offset, bias_mv=bias_mv, refractory=refractory, v_init=v_init, u_init_mv=u_init,
                 latency_offset=0 if delta else 1, notes=notes)
    plan.report = {"tau_syn_used_ms": None if tau_syn_used is None else _summary(tau_syn_used)}
    return plan


# =============================================================================================
# projection plans: one pass over the weights (range, sign, representative values)
# =============================================================================================

@dataclass
class _EdgePlan:
    edge: ProjectionEdge
    post: _Plan
    gain: np.ndarray | float  # mV per weight unit (per unit scale), per post neuron or scalar
    wmin: float
    wmax: float
    xmax: float  # max of w * gain over the projection (>= 0 part)
    xmin: float  # min of w * gain (<= 0 part)
    reps: np.ndarray  # representative nonzero values of w * gain
    rep_w: np.ndarray  # their weights (sum 1)
    mode: str
    n: int
    plastic: object = None  # learning.PlasticPlan of a plastic edge


def plastic_extent(ep: _EdgePlan) -> None:
    """A plastic edge's weights may go anywhere between its bounds: the sign mode and the range
    the scale must leave room for are the bounds' (learning.py), not the initial weights'."""
    pp = ep.plastic
    g = float(np.ravel(ep.gain)[0])
    ep.mode = pp.sign_mode
    ep.wmin, ep.wmax = min(ep.wmin, pp.p["w_min"]), max(ep.wmax, pp.p["w_max"])
    ep.xmax, ep.xmin = max(0.0, pp.p["w_max"] * g), min(0.0, pp.p["w_min"] * g)


def _gain_for(plan: _Plan, edge: ProjectionEdge):
    if edge.receptor not in plan.gain:
        raise ParameterError(edge.name, "receptor_type", f"{edge.receptor!r} is not a receptor of {plan.node.model}",
                             "'excitatory' or 'inhibitory'")
    return plan.gain[edge.receptor]


def _plan_edge(edge: ProjectionEdge, plan: _Plan) -> _EdgePlan:
    w = edge.values["weight"]
    n = int(edge.pre_index.size)
    gain = _gain_for(plan, edge)
    g_scalar = np.ndim(gain) == 0
    if n == 0:
        return _EdgePlan(edge, plan, gain, 0.0, 0.0, 0.0, 0.0, np.zeros(0), np.zeros(0), "excitatory", 0)
    if _is_const(w) and g_scalar:
        w0 = float(w[0])
        if not math.isfinite(w0):
            raise ParameterError(edge.name, "weight", "contains NaN or infinite values", "finite numbers")
        x0 = w0 * gain
        wmin = wmax = w0
        xmin, xmax = min(x0, 0.0), max(x0, 0.0)
        sample = np.array([x0])
    else:
        wmin, wmax, xmin, xmax = math.inf, -math.inf, 0.0, 0.0
        step = max(1, n // 4096)
        sample = (np.asarray(w[::step], dtype=float) * (gain if g_scalar else gain[edge.post_index[::step]]))
        for s, e in _chunks(n):
            wc = np.asarray(w[s:e], dtype=float)
            lo, hi = float(wc.min()), float(wc.max())
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise ParameterError(edge.name, "weight", "contains NaN or infinite values", "finite numbers")
            wmin, wmax = min(wmin, lo), max(wmax, hi)
            xc = wc * (gain if g_scalar else gain[edge.post_index[s:e]])
            xmin, xmax = min(xmin, float(xc.min())), max(xmax, float(xc.max()))
    mode = "mixed" if (wmin < 0 < wmax) else ("inhibitory" if wmax <= 0 and wmin < 0 else "excitatory")
    sample = sample[sample != 0]
    if sample.size:
        vals, counts = np.unique(sample, return_counts=True)
        if vals.size > _N_REPRESENTATIVES:
            vals = np.quantile(sample, np.linspace(0, 1, _N_REPRESENTATIVES))
            counts = np.ones(vals.size)
        rep_w = counts / counts.sum()
    else:
        vals, rep_w = np.zeros(0), np.zeros(0)
    return _EdgePlan(edge, plan, gain, wmin, wmax, xmax, xmin, vals, rep_w, mode, n)


def _weight_exp(xmax_v, xmin_v, mode: str):
    """Smallest weight exponent (per candidate, array) at which the extreme weights (v units)
    do not clip; _WEIGHT_EXP_MAX + 1 where even the largest exponent clips."""
    lo, hi = _MANT_RANGE[mode]
    xmax_v, xmin_v = np.asarray(xmax_v, float), np.asarray(xmin_v, float)
    out = np.full(np.broadcast(xmax_v, xmin_v).shape, _WEIGHT_EXP_MAX + 1, np.int64)
    for e in range(_WEIGHT_EXP_MAX, _WEIGHT_EXP_MIN - 1, -1):
        unit = float(1 << (_WEIGHT_SHIFT + e))
        ok = (_mantissa(xmax_v / unit, mode) <= hi) & (_mantissa(xmin_v / unit, mode) >= lo)
        out = np.where(ok, e, out)
    return out


def _mantissa(y, mode: str):
    """Nearest representable mantissa (unclipped) of y (in units of one mantissa step)."""
    return 2.0 * np.rint(np.asarray(y) / 2.0) if mode == "mixed" else np.rint(y)


def _mean_weight_error(ep: _EdgePlan, scales: np.ndarray) -> np.ndarray:
    """Mean relative weight error of the representative values for each candidate scale."""
    if ep.reps.size == 0:
        return np.zeros(scales.size)
    e = np.minimum(_weight_exp(ep.xmax * scales, ep.xmin * scales, ep.mode), _WEIGHT_EXP_MAX)
    unit = np.ldexp(1.0, (_WEIGHT_SHIFT + e).astype(np.int64))[:, None]
    wv = scales[:, None] * ep.reps[None, :]
    lo, hi = _MANT_RANGE[ep.mode]
    m = np.clip(_mantissa(wv / unit, ep.mode), lo, hi)
    rel = np.abs(m * unit - wv) / np.abs(wv)
    return rel @ ep.rep_w


def _choose_scale(plan: _Plan) -> None:
    """Pick the vth mantissa M of the largest threshold and the scale 64 M / max(theta)."""
    th_max = float(plan.theta.max())
    caps = [VTH_TARGET]
    per_mv = _VTH_UNIT / th_max  # v units per mV per unit of M
    for ep in plan.incoming:
        lo, hi = _MANT_RANGE[ep.mode]
        top = float(hi << _WEIGHT_EXP_MAX << _WEIGHT_SHIFT)
        bottom = float(-lo << _WEIGHT_EXP_MAX << _WEIGHT_SHIFT)
        if ep.xmax > 0:
            caps.append(int(top / (ep.xmax * per_mv)))
        if ep.xmin < 0:
            caps.append(int(bottom / (-ep.xmin * per_mv)))
    b_max = float(np.abs(plan.bias_mv).max())
    if b_max > 0:
        caps.append(int(BIAS_MANT_MAX * (1 << limit("bias_exp_max")) / (b_max * per_mv)))
    v_max = float(np.abs(plan.v_init).max())
    if v_max > 0:
        caps.append(int(UV_MAX / (v_max * per_mv)))
    u_max = float(np.abs(plan.u_init_mv).max())
    if u_max > 0:
        caps.append(int(UV_MAX / (u_max * per_mv)))
    m_hi = max(VTH_FLOOR, min(caps))
    cands = np.arange(max(VTH_FLOOR, m_hi // 2), m_hi + 1, dtype=np.float64)
    scales = cands * per_mv
    # threshold error (representative thresholds)
    th = np.unique(plan.theta)
    if th.size > _N_REPRESENTATIVES:
        th = np.quantile(plan.theta, np.linspace(0, 1, _N_REPRESENTATIVES))
    tv = scales[:, None] * th[None, :]
    cost = np.mean(np.abs(np.rint(tv / _VTH_UNIT) * _VTH_UNIT - tv) / tv, axis=1)
    for ep in plan.incoming:
        cost = cost + _mean_weight_error(ep, scales)
    # smallest cost; among equals (to 1e-12) the largest M (finest resolution)
    best = np.flatnonzero(cost <= cost.min() + 1e-12)[-1]
    plan.vth_target = int(cands[best])
    plan.scale = float(scales[best])
    plan.report["vth_octave"] = [int(cands[0]), int(cands[-1])]
    plan.report["vth_cap_reason"] = None if m_hi == VTH_TARGET else "weights, bias or initial state need room"
    plastic = [ep for ep in plan.incoming if ep.plastic is not None and ep.n]
    if plastic:
        _plastic_scale(plan, plastic[0], m_hi * per_mv)


def _plastic_scale(plan: _Plan, ep: _EdgePlan, cap: float) -> None:
    """The scale of a population with plastic input: the one at which the first plastic
    edge's bound is the end of the mantissa range exactly (learning.py), at the largest weight
    exponent that leaves the room the other inputs need (``cap``: the largest scale allowed)."""
    pp, g = ep.plastic, float(np.ravel(ep.gain)[0])
    for e in range(_WEIGHT_EXP_MAX, PLASTIC_WEIGHT_EXP_MIN - 1, -1):
        scale = pp.bound_m * 2.0 ** (_WEIGHT_SHIFT + e) / (pp.bound * g)
        if scale <= cap * (1 + 1e-12):
            break
    else:
        raise ParameterError(ep.edge.name, "w_max" if pp.bound_m > 0 else "w_min",
                             f"the bound {pp.bound:g} needs a scale above what {plan.node.name}'s thresholds, "
                             "weights and bias leave room for", "smaller bounds relative to the threshold")
    plan.scale = scale
    plan.vth_target = int(round(scale * float(plan.theta.max()) / _VTH_UNIT))
    plan.report["scale_set_by"] = (f"plastic projection {ep.edge.name}: {pp.bound:g} -> mantissa {pp.bound_m} at "
                                   f"weight_exp {e}")


# =============================================================================================
# currents folded into the bias, and the refusal the partition asks for
# =============================================================================================

def _dc_currents(graph: ModelGraph, mapped: set[str]) -> dict[str, np.ndarray]:
    """Constant, always-on DCSources fold into i_offset (faithful); others are refused."""
    extra: dict[str, np.ndarray] = {}
    for cur in graph.currents:
        if cur.node not in mapped:
            continue
        p = cur.parameters
        stop = p.get("stop")
        if cur.kind == "DCSource" and float(np.asarray(p.get("start", 0.0))) <= 0.0 and (
                stop is None or not np.isfinite(float(np.asarray(stop))) or float(np.asarray(stop)) >= 1e11):
            amp = float(np.asarray(p.get("amplitude", 0.0)))
            if not math.isfinite(amp):
                raise ParameterError(cur.name, "amplitude", "is not finite", "finite nA")
            size = graph.nodes[cur.node].size
            arr = extra.setdefault(cur.node, np.zeros(size))
            np.add.at(arr, np.asarray(cur.index, dtype=np.int64), amp)
            continue
        raise UnsupportedModelError(cur.name, "kind", f"{cur.kind} into {cur.node}: only a DCSource that is on for the "
                                    "whole run maps onto Loihi (as part of the constant bias); time-varying current "
                                    "sources have no counterpart in the LIF process",
                                    "i_offset, or a DCSource with start = 0 and no stop")
    return extra


def refusal(node: PopulationNode, graph: ModelGraph, approximations=()) -> str | None:
    """Why ``node`` has no faithful Loihi form in ``graph`` (its cell type, its incoming
    synapses, the currents injected into it), or None when the quantiser would map it; what the
    partition uses to keep such populations on the host. Parameter values that do not fit
    Loihi's registers are not a refusal: they raise when the circuit is built."""
    if node.kind != "point":
        return None if node.kind == "source" else f"a {node.kind} population has no Loihi form"
    try:
        extra = _dc_currents(ModelGraph(graph.dt, graph.seed, {node.name: node},
                                        currents=[c for c in graph.currents if c.node == node.name]), {node.name})
        plan = _plan_population(node, set(approximations or ()), float(graph.dt), extra.get(node.name, 0.0))
    except UnsupportedModelError as exc:  # "<node>.<parameter>: <why> (accepted: ...)" -> "<why>"
        return str(exc).split(": ", 1)[-1].split(" (accepted:", 1)[0]
    from neurohybrid.graph.synapses import is_plastic

    from .learning import plan_plastic
    for edge in graph.edges:
        if edge.post != node.name or edge.synapse == "StaticSynapse":
            continue
        if not is_plastic(edge.synapse):
            return f"projection {edge.name} uses {edge.synapse}, which Loihi's static synapses cannot run"
        try:
            plan_plastic(edge, plan, _gain_for(plan, edge), graph.nodes[edge.pre].size, float(graph.dt),
                         set(approximations or ()))
        except UnsupportedModelError as exc:
            return f"projection {edge.name} ({edge.synapse}) has no Loihi learning rule: " + str(exc).split(": ", 1)[-1]
    return None
