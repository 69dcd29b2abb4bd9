"""Point neurons of a model graph → Loihi 2 fixed-point LIF (Lava ``lava.proc.lif`` semantics).

``quantize(graph)`` translates every point-neuron population of a :class:`ModelGraph` into a
:class:`~neurohybrid.mappings.loihi.circuit.LoihiPopulation`, every spike source into a
:class:`LoihiInput` and every projection into a :class:`LoihiProjection`, and writes a
quantisation report (``circuit.report``) that states, for every parameter, the value asked
for, the integer chosen, the value that integer stands for and the relative error.

The integer dynamics are those of ``backends/emulator/fixed.py`` (bit-exact with Lava 0.10
``fixed_pt``), per step::

    u = u * (4095 - du) / 4096 + (sum of weight mantissas << weight_exp) << 6
    v = v * (4096 - dv) / 4096 + u + (bias_mant << bias_exp)      (not while refractory)
    spike if v > vth << 6; then v = 0

Faithful maps (no approximation):

- ``IF_curr_delta`` (NEST ``iaf_psc_delta``): ``du = 4095`` clears u every step, so a weight
  is a jump of v in the step the spike arrives, as in NEST.
- ``IF_curr_exp`` (NEST ``iaf_psc_exp``) with ``tau_syn_E == tau_syn_I`` (one u per
  compartment).

Conventions (the choices the brief leaves open, and why):

- **Membrane potential**: ``v_loihi = (v_mV - v_rest) * scale``, so rest is 0 and Loihi's reset
  to 0 is a reset to ``v_rest``; hence ``v_reset`` must equal ``v_rest``.
- **Scale** (Loihi v units per mV, one per population): the largest threshold
  ``max(v_thresh - v_rest)`` maps to a vth mantissa ``M`` chosen in the octave below
  ``2**15`` (threshold at ``64 M <= 2**21`` v units). That leaves v (24 bit, saturating at
  ``±(2**23 - 1)``) and u (24 bit, *wrapping*) at least 4 thresholds of headroom each way, puts
  the largest 8-bit weight (``255 << 13``) at about one threshold per spike and the largest bias
  (``4095 << 7``) at a quarter threshold per step. Within that octave ``M`` is picked to minimise
  the relative error of the weights (and thresholds): weights of a projection often take one or
  two values, and a suitable ``M`` represents them exactly (for the Brunel network: J = 0.1 mV,
  -0.5 mV and θ = 20 mV are all exact). The octave moves down when larger weights, biases or
  initial potentials need the room, never below ``M = 2**10``.
- **Decays**: ``dv = rint(4096 (1 - e^{-dt/tau_m}))`` and ``du = rint(4095 - 4096
  e^{-dt/tau_syn})``: the representable decay factor nearest to ``e^{-dt/tau}`` (the 12-bit
  decay is the largest error source: at dt = 0.1 ms, tau_m = 20 ms becomes 20.43 ms).
  Loihi rounds each decayed product towards zero, less than one v unit per step (< 1e-6 θ).
- **Currents** (``i_offset`` and exponential PSCs) keep their steady-state effect on v exactly
  despite the rounded decays: a constant current I settles v at ``I tau_m / cm`` as in NEST,
  and a PSC of weight w (nA) adds ``w tau_syn tau_m / cm`` mV·ms to the membrane in total.
  Hence ``bias = i_offset tau_m/cm (1 - b)`` and the per-spike u increment
  ``w tau_syn tau_m / (cm dt) (1 - a)(1 - b)`` mV (``a``, ``b`` the represented u, v decay
  factors). Whether a neuron fires under a constant drive (the rheobase) is then preserved.
- **Voltage jumps** (``IF_curr_delta`` weights, mV) keep their height.
- **Delays** are rounded to steps (``rint(delay/dt)``; off-grid values are counted in the
  report). ``LoihiProjection.delays`` is the whole latency from the step a spike is emitted to
  the step it enters u: ``delay_steps`` for ``IF_curr_delta`` (NEST adds the jump in the
  arrival step) and ``delay_steps + 1`` for ``IF_curr_exp`` (NEST adds an arriving PSC to
  I_syn after the membrane update, so v first feels it one step later; in Loihi u enters v in
  the same step). With these latencies the integer dynamics follow NEST's step by step, up to
  quantisation. A spike emitted in step k (a neuron's, or an input's spike at emission tick
  k) reaches v in step ``k + delays``.
- **Refractoriness**: ``tau_refrac`` → ``refractory`` steps, counted as NEST does (nearest
  NEST tic, then up to whole steps); 0 is Lava ``LIF``, > 0 Lava ``LIFRefractory`` semantics.
- **Threshold**: Lava fires when ``v > vth << 6`` and NEST when ``V >= V_th``: one v unit
  apart (about 1e-6 of the threshold).

Everything else is refused with :class:`~neurohybrid.errors.UnsupportedModelError` (saying why
and what would work), unless a named approximation that covers it is requested in
``approximations`` (see :data:`APPROXIMATIONS`); applied approximations are recorded on the
population and in the report. Values that do not fit Loihi's registers raise
:class:`~neurohybrid.errors.ParameterError` / :class:`~neurohybrid.errors.DelayError` naming
the population or projection and the parameter.

Memory: projections are processed in chunks of :data:`CHUNK` synapses; the index arrays of the
graph are shared (not copied) by the circuit, and constant weights/delays (zero-stride
``np.broadcast_to`` arrays) stay constant (zero-copy) in the circuit. A circuit of 10**9
synapses with constant weights and delays costs no memory beyond the graph's own indices.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

import neurohybrid
from neurohybrid.errors import DelayError, ParameterError, UnsupportedModelError
from neurohybrid.graph import ModelGraph, PopulationNode, ProjectionEdge

from .circuit import LoihiCircuit, LoihiInput, LoihiPopulation, LoihiProjection
from .limits import (ACT_SHIFT, BIAS_MANT_MAX, BIAS_MANT_MIN, DECAY_MAX, UV_MAX, VTH_MAX, VTH_SHIFT,
                     limit)

#: Named approximations a user may ask for, and what each one does.
APPROXIMATIONS: dict[str, str] = {
    "merge_synaptic_time_constants":
        "IF_curr_exp/alpha with tau_syn_E != tau_syn_I: one synaptic current u decaying with "
        "tau_syn_E for both receptors; inhibitory weights are rescaled by tau_syn_I/tau_syn_E so "
        "each inhibitory PSC keeps its total charge (its steady-state effect on v)",
    "reset_to_rest":
        "v_reset != v_rest: the neuron resets to v_rest (Loihi resets v to 0, which is v_rest "
        "in this mapping)",
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

#: Largest vth mantissa the scale aims at, and the smallest it may shrink to (module docstring).
VTH_TARGET = 1 << 15
VTH_FLOOR = 1 << 10
#: Synapses processed per chunk (bounds the temporaries of big projections: ~32 MB of float64).
CHUNK = 1 << 22
_N_REPRESENTATIVES = 64  # distinct values used to choose the scale
_TICS_PER_MS = 1000.0  # NEST's default time base (backends/emulator/models/_common.py)
_WEIGHT_EXP_MIN = limit("weight_exp_min")
_WEIGHT_EXP_MAX = limit("weight_exp_max")
_MAX_LATENCY = limit("max_delay_steps")
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


def _chunks(n: int):
    for start in range(0, n, CHUNK):
        yield start, min(n, start + CHUNK)


def _rint_steps(values_ms: np.ndarray, dt: float):
    """Whole steps of ``dt`` nearest to ``values_ms``; off-grid count and max rounding (ms)."""
    x = values_ms / dt
    steps = np.rint(x)
    off = np.abs(x - steps) > 1e-6
    return steps, int(np.count_nonzero(off)), float(np.max(np.abs(x - steps)) * dt) if x.size else 0.0


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
        # steady-state (charge) preserving PSC gain, mV of u per nA of weight (module docstring)
        shape = math.e if model == "IF_curr_alpha" else 1.0
        common = tau_m / (cm * dt) * (1.0 - a) * (1.0 - b) * shape
        gain = {"excitatory": tau_e * common, "inhibitory": tau_i * common}
    gain = {k: (float(_uniform(v)) if np.ndim(v) and _uniform(v) is not None else v) for k, v in gain.items()}

    # bias: keeps v_inf = i_offset tau_m / cm (module docstring)
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


# =============================================================================================
# integer parameters
# =============================================================================================

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
    bias_exp = np.zeros(n, np.int64)
    bias_mant = np.rint(bias_v).astype(np.int64)
    for e in range(1, limit("bias_exp_max") + 1):
        over = (bias_mant > BIAS_MANT_MAX) | (bias_mant < BIAS_MANT_MIN)
        if not over.any():
            break
        bias_exp[over] = e
        bias_mant[over] = np.rint(bias_v[over] / (1 << e)).astype(np.int64)
    over = (bias_mant > BIAS_MANT_MAX) | (bias_mant < BIAS_MANT_MIN)
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

    # ---- report --------------------------------------------------------------------------
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
    unit = float(1 << (_WEIGHT_SHIFT + wexp))
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
    return prj, rep


def _max_gain(g) -> float:
    return float(g) if np.ndim(g) == 0 else float(np.max(g))


def _chunked_min(arr: np.ndarray) -> float:
    if _is_const(arr):
        return float(arr[0])
    return min(float(np.min(arr[s:e])) for s, e in _chunks(arr.size))


def _chunked_max(arr: np.ndarray) -> float:
    if _is_const(arr):
        return float(arr[0])
    return max(float(np.max(arr[s:e])) for s, e in _chunks(arr.size))


# =============================================================================================
# entry point
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
        _plan_population(node, set(approximations or ()), float(graph.dt), extra.get(node.name, 0.0))
    except UnsupportedModelError as exc:  # "<node>.<parameter>: <why> (accepted: ...)" -> "<why>"
        return str(exc).split(": ", 1)[-1].split(" (accepted:", 1)[0]
    for edge in graph.edges:
        if edge.post == node.name and edge.synapse != "StaticSynapse":
            return f"projection {edge.name} uses {edge.synapse}, which Loihi's static synapses cannot run"
    return None


def quantize(graph: ModelGraph, approximations=(), dt: float | None = None) -> LoihiCircuit:
    """Translate the point-neuron part of ``graph`` into a :class:`LoihiCircuit` (module docstring).

    ``approximations``: names from :data:`APPROXIMATIONS` the user accepts (anything not
    faithful and not covered is refused). ``dt`` (ms): the Loihi time step, a whole multiple
    of ``graph.dt`` (default ``graph.dt``). Nodes of kind ``"point"`` become populations, of
    kind ``"source"`` inputs; other kinds (handled by other engines) and the edges touching
    them are skipped and listed in ``circuit.report["skipped"]``.
    """
    approx = tuple(approximations or ())
    if isinstance(approximations, str):
        approx = (approximations,)
    unknown = [a for a in approx if a not in APPROXIMATIONS]
    if unknown:
        raise ParameterError("quantize", "approximations", f"unknown approximation(s) {unknown}",
                             ", ".join(APPROXIMATIONS))
    approx_set = set(approx)
    if dt is None:
        dt = float(graph.dt)
    dt = float(dt)
    if not (math.isfinite(dt) and dt > 0):
        raise ParameterError("quantize", "dt", f"{dt} ms", "a positive time step in ms")
    ratio = dt / graph.dt
    if abs(ratio - round(ratio)) > 1e-9 or round(ratio) < 1:
        raise ParameterError("quantize", "dt", f"{dt} ms is not a whole multiple of the graph's resolution "
                             f"{graph.dt} ms", f"k * {graph.dt} ms for an integer k >= 1")

    points = [n for n in graph.nodes.values() if n.kind == "point"]
    sources = [n for n in graph.nodes.values() if n.kind == "source"]
    mapped = {n.name for n in points}
    skipped_nodes = [n.name for n in graph.nodes.values() if n.kind not in ("point", "source")]
    extra = _dc_currents(graph, mapped)

    plans = {n.name: _plan_population(n, approx_set, dt, extra.get(n.name, 0.0)) for n in points}
    edge_plans: list[_EdgePlan] = []
    skipped_edges = []
    for edge in graph.edges:
        if edge.post not in plans or (edge.pre not in plans and edge.pre not in {s.name for s in sources}):
            skipped_edges.append(edge.name)
            continue
        if edge.synapse != "StaticSynapse":
            why = ("short-term plasticity: Lava's Sparse/DelaySparse connections have static weights"
                   if edge.synapse == "TsodyksMarkramSynapse" else f"{edge.synapse} has no Loihi mapping")
            raise UnsupportedModelError(edge.name, "synapse_type", f"{edge.synapse}: {why}; no approximation is offered",
                                        "StaticSynapse")
        ep = _plan_edge(edge, plans[edge.post])
        plans[edge.post].incoming.append(ep)
        edge_plans.append(ep)

    circuit = LoihiCircuit(dt_ms=dt)
    pop_reports = {}
    for name, plan in plans.items():
        _choose_scale(plan)
        circuit.populations[name] = _build_population(plan, dt)
        pop_reports[name] = plan.report
    for s in sources:
        circuit.inputs[s.name] = LoihiInput(s.name, s.size, s.model)
    prj_reports = []
    for ep in edge_plans:
        prj, rep = _build_projection(ep, dt)
        circuit.projections.append(prj)
        prj_reports.append({"name": prj.name, **rep})

    applied = {}
    for name, plan in plans.items():
        for a in plan.approximations:
            applied.setdefault(a, []).append(name)
    circuit.report = {
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
    circuit.manifest = {"graph_seed": graph.seed, "graph_dt_ms": float(graph.dt), "dt_ms": dt,
                        "mapping": "neurohybrid.mappings.loihi.quantize", "neurohybrid_version": neurohybrid.__version__,
                        "semantics": "Lava 0.10 lava.proc.lif LIF / LIFRefractory, fixed_pt"}
    return circuit


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
    if report["skipped"]["nodes"] or report["skipped"]["edges"]:
        lines.append("")
        lines.append(f"Skipped (not point neurons / not on Loihi): nodes {report['skipped']['nodes']}, "
                     f"edges {report['skipped']['edges']}")
    return "\n".join(lines)
