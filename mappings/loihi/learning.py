"""The graph's plastic synapses -> Loihi learning rules (Lava 0.10 ``LearningDense``, fixed_pt).

:func:`plan_plastic` checks a plastic edge (``STDPSynapse``, ``VogelsSTDPSynapse``,
``DopamineSTDPSynapse``, :mod:`neurohybrid.graph.synapses`) against what one Loihi learning
connection can do and fixes what does not depend on the post population's scale (sign mode,
bounds, timing); :func:`compile_plastic` then writes the rule (a Lava rule string with traces,
impulses, learning-rate literals, epoch and seed: :class:`~.learning_rules.LearningRuleTables`)
at the weight unit the quantiser chose, the initial tags, the 3-factor neuron traces, and the
projection's report. What cannot be represented is refused by name
(:class:`~neurohybrid.errors.UnsupportedModelError` naming the projection and the parameter),
which is what :func:`~.quantize_plan.refusal` tells the partition.

Derivation (NEST 3.10's equations; ``dt`` the step, all traces all-to-all)
-------------------------------------------------------------------------
**Loihi's side** (``backends/emulator/fixed_learning.py``), with ``t_epoch = 1`` (every step is
an epoch: ``x0``/``y0`` say "the pre/post neuron spiked in this step", so no pairing is merged):
a pre-synaptic trace ``x1`` gets ``+I_x`` at each pre spike and decays by ``exp(-1/tau)`` per
step with stochastic rounding (its expectation is exactly ``I_x K+``, ``K+`` NEST's trace;
fractional taus are exact); ``y1`` likewise for post spikes. A product ``s * dep * f1 * ...``
adds ``s * f1 * ... / 2**shift`` weight mantissas (``shift = max(0, widths + 4 - 15)``, Lava's
right shift back to the 15-bit accumulator: ``x1``/``y1`` 7 bits, ``w``/``d``/``t`` 9; the
scaling ``s = m 2**e``, ``m`` in -8..7, ``e`` in -7..8) with 7 fractional bits, then the weight
is rounded stochastically (unbiased) and clipped to the sign mode's range ([0, 255],
[-255, 0] or [-256, 255]).

**Learning rates.** A traced term ``A K`` (``K`` NEST's trace) is ``s * x1 = s I_x K``: the
impulse ``I_x`` (8 fractional bits) and the literal ``s`` are chosen together so that
``s I_x / 2**shift`` equals the rate in mantissas to ~1e-4 (relative), with the impulse near
``127 / TRACE_HEADROOM`` (the 7-bit trace saturates when NEST's trace reaches
``127 / I_x``: about 4 spikes within a fraction of tau). The 3-factor rule's post trace lives
in the neuron (integer impulses): there the error is that of the best integer impulse.
Constant terms (Vogels' depression, the eligibility decay) have no trace to absorb the
rounding: they are sums of up to a few products ``m 2**e`` (3 bits each), i.e. the constant
in units of 1/128 mantissa per evaluation, rounded once.

**Weights.** One weight unit per projection, shared with the quantiser: ``w = m * unit`` with
``unit = 2**(6 + weight_exp) / (gain * scale)`` (``quantize.py``). The population's scale is
set so that the bound of the largest magnitude is the end of the mantissa range exactly
(``w_max -> 255``, or ``w_min -> -255`` for inhibitory weights; mixed: the tighter of
``w_max -> 255`` and ``w_min -> -256``), so Loihi's hardware clip *is* NEST's bound there.
A bound where an additive rule pushes must be the hardware clip (Loihi has no other clip);
multiplicative sides carry their bound in the rule, ``(w - m_bound)``.

- ``STDPSynapse`` (NEST ``stdp_synapse``; in mantissas ``S = (w_max - w_min) / unit``):
  additive ``dw = A+ S/I_x * y0 x1 - A- S/I_y * x0 y1``; multiplicative potentiation
  ``- A+/I_x * y0 x1 (w - m_max)`` (NEST's ``A+ (1 - x) K+``), multiplicative depression
  ``- A-/I_y * x0 y1 (w - m_min)`` (``A- x K-``); APMD mixes them. Other ``mu`` (Gütig):
  refused, a product has no powers of ``w``.
- ``VogelsSTDPSynapse``: ``dw = eta/unit (y0 x1/I_x + x0 y1/I_y) - alpha eta/unit x0``.
- ``DopamineSTDPSynapse`` (3-factor, ``Loihi3FLearningRule``): the eligibility ``c`` is
  ``tag_1`` (``c = t * unit_c``): ``dt = A+/(unit_c I_x) y0 x1 - A-/(unit_c I_y) x0 y1 -
  q/128 u_k t``; the tag decays by ``q/128`` every ``h = 2**k`` steps (Lava's decimated
  ``u_k``), ``k`` and ``q`` chosen for ``(1 - q/128) = exp(-h dt/tau_c)`` with ``h dt <=
  tau_c/4`` and ``k <= 9`` (Lava 0.10 reads one digit of ``k``); the 1/128 steps of ``q`` make
  tau_c inexact (e.g. 1 s at dt = 0.1 ms: 1.067 s, in the report); the weight follows ``dw = s u_k t (y3 - B)`` every ``h`` steps: ``y3`` is the
  dopamine ``n`` (1/ms) times ``scale_n``, sent every step by the host through the post
  neurons' third factor (``y3`` decay 4096: the trace is this step's value), ``B = b scale_n``;
  ``unit_c`` is chosen so that ``s`` represents ``unit_c h dt rho / (unit scale_n)`` exactly,
  where ``rho = (tau_s / h dt)(1 - exp(-h dt / tau_s))`` (``tau_s = tau_c tau_n / (tau_c +
  tau_n)``) turns the sample at the start of each ``h`` steps into the integral of ``c n``
  over them. The post trace ``y1`` is the neuron's (12 fractional bits, 12-bit decay: the
  tau_minus error is that of the LIF's decays).

**Timing.** Loihi pairs spikes in the steps they are emitted, NEST ``D = d_dend - d_ax``
steps apart (dopamine: ``D = d``; ``d_dend = rint(f d)``, ``f = dendritic_delay_fraction``).
The rates of the terms read at the other side's spike are multiplied by ``exp(-D dt / tau)``
(potentiation) and ``exp(+D dt / tau)`` (depression): pairs more than ``|D|`` steps apart then
change the weight as in NEST; pairs within ``|D|`` steps do not (Loihi counts a coincident pair
both ways; NEST none or one way). A learning connection transmits with latency 1 (Lava 0.10 has
no learning ``DelayDense``): an edge whose static mapping needs another latency
(``delay`` steps, + 1 for IF_curr_exp) is refused unless ``"plastic_delay_one_step"`` is asked
for; then its spikes arrive ``latency - 1`` steps early (reported).

**Connectivity.** ``LearningDense`` makes every (post, pre) pair a synapse. When the edge does
not connect every pair, ``tag_2`` (``d``, learned by no rule here, delays nothing in Lava
0.10) is 128 on connected pairs and 0 elsewhere, and every pairing product carries the factor
``d`` (its extra right shift compensated in the literal; constant terms carry ``sgn(d)``):
unconnected pairs keep weight 0.

Everything chosen and its error goes to the projection's report (``"learning"``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from neurohybrid.errors import ParameterError, UnsupportedModelError
from neurohybrid.rng import stream_key

from .learning_rules import _FACTOR_WIDTH, _W_ACCUMULATOR_U, _W_S_MANT, SEED_RANGE, compile_rule, parse_rule

__all__ = ["APPROXIMATION", "PlasticPlan", "plan_plastic", "compile_plastic", "TRACE_HEADROOM", "TAG_HEADROOM",
           "DOPAMINE_HEADROOM", "Y_FRAC_BITS", "MASK_VALUE"]

#: the named approximation of a plastic edge whose latency is not one step (described in
#: quantize_plan.APPROXIMATIONS)
APPROXIMATION = "plastic_delay_one_step"
#: NEST trace value at which a 7-bit trace saturates, aimed at when choosing impulses
TRACE_HEADROOM = 4.0
#: eligibility, in units of max(A_plus, A_minus), at which the 9-bit tag saturates (aimed at)
TAG_HEADROOM = 8.0
#: dopamine, in spikes' worth (n = DOPAMINE_HEADROOM / tau_n, 1/ms), at which y3 saturates
DOPAMINE_HEADROOM = 32.0
#: fractional bits of the 3-factor neurons' post trace (fixed_learning.ThirdFactorTraces)
Y_FRAC_BITS = 12
#: tag_2 on connected pairs when the edge is not all-to-all (the connectivity mask)
MASK_VALUE = 128
_T_EPOCH = 1
#: largest decimation exponent k of ``u_k``: Lava 0.10 reads one digit of it
#: (``LoihiLearningRule._validate_uk``: ``int(uk_list[0][1])``, so ``u11`` would be ``u1``)
DECIMATION_MAX = 9
_RANGES = {"excitatory": (0, 255), "inhibitory": (-255, 0), "mixed": (-256, 255)}
_RULE_PARAMS = {"STDPSynapse": ("tau_plus", "tau_minus", "A_plus", "A_minus", "w_min", "w_max", "mu_plus", "mu_minus",
                                "dendritic_delay_fraction"),
                "VogelsSTDPSynapse": ("tau", "eta", "rho", "w_min", "w_max", "dendritic_delay_fraction"),
                "DopamineSTDPSynapse": ("tau_plus", "tau_minus", "A_plus", "A_minus", "tau_c", "tau_n", "b", "w_min",
                                        "w_max", "dendritic_delay_fraction")}
_LITERALS = [(m, e) for e in range(-7, 9) for m in range(1, 8)]  # |s_mantissa| 1..7, s_exp -7..8


@dataclass
class PlasticPlan:
    """What :func:`plan_plastic` fixed for one plastic edge (PyNN units; steps of ``dt``)."""

    edge: object
    kind: str  # "pair", "vogels", "dopamine"
    p: dict  # the rule's parameters (one value each)
    sign_mode: str
    lo: int  # hardware clip of the mantissas
    hi: int
    bound: float  # the bound (PyNN weight units) that maps exactly onto the mantissa bound_m
    bound_m: int
    latency: int  # the latency the static mapping would need (steps)
    shift: int  # NEST's pairing shift D (steps)
    approximations: list = field(default_factory=list)
    n_pre: int = 0
    n_post: int = 0
    masked: bool = False
    notes: list = field(default_factory=list)


def _refuse(edge, name: str, why: str, accepted: str):
    raise UnsupportedModelError(f"Projection({edge.name})", name, why, accepted)


def _one(edge, name: str) -> float:
    v = np.asarray(edge.values[name], dtype=float)
    v = v[:1] if v.size and v.strides == (0,) else v
    if v.size == 0:
        return 0.0
    if np.any(v != v.flat[0]):
        _refuse(edge, name, f"{name} differs across synapses ({float(v.min()):g}..{float(v.max()):g}): one Loihi "
                "learning connection applies one rule to all its synapses", f"one {name} for the whole projection")
    return float(v.flat[0])


def plan_plastic(edge, post, gain, n_pre: int, dt: float, approx=()) -> PlasticPlan:
    """Check plastic ``edge`` onto the population planned as ``post`` (a ``quantize_plan._Plan``)
    with synaptic ``gain`` (mV per weight unit per unit scale); raise what cannot be
    represented (module docstring), return the plan."""
    kind = {"STDPSynapse": "pair", "VogelsSTDPSynapse": "vogels", "DopamineSTDPSynapse": "dopamine"}.get(edge.synapse)
    if kind is None:
        _refuse(edge, "synapse_type", f"{edge.synapse} has no Loihi learning rule", ", ".join(_RULE_PARAMS))
    latency_offset, n_post = post.latency_offset, post.node.size
    p = {name: _one(edge, name) for name in _RULE_PARAMS[edge.synapse]}
    if kind == "dopamine":
        uniform = all(np.all(np.asarray(a) == np.asarray(a).flat[0]) for a in (post.du, post.dv, post.theta))
        if np.any(np.asarray(post.refractory) > 0) or not uniform:
            raise UnsupportedModelError(f"Population({post.node.name})", "tau_refrac" if uniform else "tau_m",
                                        "the target of a dopamine-modulated projection keeps 3-factor traces, i.e. is "
                                        "a Lava LearningLIF: one du, dv, vth for all cells and no refractory period",
                                        "tau_refrac = 0 and uniform tau_m, tau_syn, v_thresh")
    if np.ndim(gain) and np.any(np.asarray(gain) != np.asarray(gain).flat[0]):
        _refuse(edge, "post", "the synaptic gain (tau_m, cm, tau_syn) differs across the target cells: one learning "
                "rule scales all synapses of a LearningDense alike", "a target population with uniform tau_m, cm "
                "and tau_syn")
    if kind == "pair":
        for mu in ("mu_plus", "mu_minus"):
            if p[mu] not in (0.0, 1.0):
                _refuse(edge, mu, f"{mu} = {p[mu]:g} (Gütig weight dependence): (1 - x)**mu and x**mu need powers of "
                        "the weight, which a Loihi product (dependency x traces x w + constant) cannot form",
                        "mu 0 (additive) or 1 (multiplicative)")
    # timing: one latency, NEST's pairing shift
    delays = np.asarray(edge.values["delay"], dtype=float)
    total = np.rint((_distinct(delays) + edge.transit) / dt).astype(np.int64)
    if total.size > 1:
        _refuse(edge, "delay", f"delays differ ({total.min()}..{total.max()} steps): a learning connection has one "
                "latency", "one delay for the whole projection")
    d = int(total[0]) if total.size else 1
    latency = d + int(latency_offset)
    approximations = []
    if latency != 1:
        if APPROXIMATION not in approx:
            _refuse(edge, "delay", f"the projection needs a latency of {latency} steps (delay {d} steps"
                    + (" + 1: IF_curr_exp PSCs reach v one step after arrival" if latency_offset else "")
                    + "); Lava 0.10's learning connections (LearningDense) have latency 1 and no delays",
                    f"a latency of 1 step (IF_curr_delta with delay = dt), or approximations=('{APPROXIMATION}',)")
        approximations.append(APPROXIMATION)
    if kind == "dopamine":
        shift = d
    else:
        dd = int(np.rint(p["dendritic_delay_fraction"] * d))
        shift = 2 * dd - d
    # bounds -> sign mode and the bound that maps exactly
    w_min, w_max = p["w_min"], p["w_max"]
    mode = "excitatory" if w_min >= 0 else ("inhibitory" if w_max <= 0 else "mixed")
    lo, hi = _RANGES[mode]
    if mode == "excitatory":
        bound, bound_m = w_max, hi
    elif mode == "inhibitory":
        bound, bound_m = w_min, lo
    else:
        bound, bound_m = (w_max, hi) if w_max / hi >= w_min / lo else (w_min, lo)
    if bound == 0:
        _refuse(edge, "w_max", "w_min = w_max = 0: no weight range to learn in", "w_min < w_max")
    unit = bound / bound_m
    additive_up = kind in ("vogels", "dopamine") or p.get("mu_plus", 0.0) == 0.0
    additive_down = kind in ("vogels", "dopamine") or p.get("mu_minus", 0.0) == 0.0
    for name, value, clip, needed in (("w_max", w_max, hi, additive_up), ("w_min", w_min, lo, additive_down)):
        if needed and abs(value - clip * unit) > 0.5 * abs(unit) * (1 + 1e-9):
            _refuse(edge, name, f"{name} = {value:g} lies inside the weight range: Loihi clips learned weights only "
                    f"at the sign mode's range ({mode}: mantissas {lo}..{hi}, i.e. {lo * unit:g}..{hi * unit:g} here), "
                    f"and the {'additive' if kind == 'pair' else kind} rule needs its clip at {name}",
                    "w_min = 0 for non-negative weights, w_max = 0 for non-positive ones (or a multiplicative "
                    "weight dependence on that side)")
    for name, value in (("w_min", w_min), ("w_max", w_max)):
        if not lo - 0.5 <= value / unit <= hi + 0.5:
            raise ParameterError(f"Projection({edge.name})", name, f"{value:g} lies outside the mantissa range",
                                 f"bounds within {lo * unit:g}..{hi * unit:g}")
    n = int(edge.pre_index.size)
    if n:
        key = np.asarray(edge.post_index, np.int64) * max(n_pre, 1) + np.asarray(edge.pre_index, np.int64)
        if np.unique(key).size != key.size:
            _refuse(edge, "connector", "a (pre, post) pair connected twice: a LearningDense holds one synapse per pair",
                    "connectors without multiple synapses per pair")
    plan = PlasticPlan(edge, kind, p, mode, lo, hi, bound, bound_m, latency, shift, approximations, n_pre, n_post,
                       masked=n != n_pre * n_post)
    if kind == "dopamine" and edge.modulator is None:
        _refuse(edge, "dopamine", "no volume transmitter", "DopamineSTDPMechanism(dopamine=<VolumeTransmitter>)")
    return plan


def _distinct(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    return a[:1] if a.size and a.strides == (0,) else np.unique(a)


# --------------------------------------------------------------------------------------------
# literals
# --------------------------------------------------------------------------------------------

def _literal(m: int, e: int) -> str:
    return f"({m}) * 2 ^ {e}"


def _shift(factors) -> int:
    return max(0, sum(_FACTOR_WIDTH[f] for f in factors) + _W_S_MANT - _W_ACCUMULATOR_U)


def _fit_traced(rate: float, gain: float, integer: bool, target: float, edge) -> tuple[int, int, float, float]:
    """Literal (m, e) and impulse I with ``m 2**e * gain * I = rate`` (gain: what the product's
    shift and mask make of the literal), I in [1, 127] (8 fractional bits, or whole with
    ``integer``), near ``target``. Returns (m, e, I, represented rate)."""
    best = None
    for m, e in _LITERALS:
        c = m * 2.0 ** e * gain
        imp = rate / c
        if not 1.0 <= imp <= 127.0:
            continue
        q = float(np.clip(np.rint(imp) if integer else np.rint(imp * 256) / 256, 1.0, 127.0))
        err = abs(c * q - rate) / rate
        key = err + 2e-3 * abs(math.log2(q / target))
        if best is None or key < best[0]:
            best = (key, m, e, q, c * q)
    if best is None:
        raise ParameterError(f"Projection({edge.name})", "A_plus/A_minus/eta", f"a learning rate of {rate:g} "
                             "mantissas per trace unit", "rates Loihi's literals (m 2**e, m 1..7, e -7..8) and 7-bit "
                             "impulses can form: about 2**-7/127 to 7*2**8 mantissas per unit of NEST's trace")
    return best[1], best[2], best[3], best[4]


def _fit_constant(value: float, gain: float, max_terms: int = 4) -> tuple[list, float]:
    """``value`` (mantissas per evaluation, > 0) as a sum of literals m 2**e (times ``gain``):
    the value in units of ``2**-7 gain`` rounded once, split into 3-bit chunks. Returns
    ([(m, e)], represented)."""
    n = int(round(value / (gain * 2.0 ** -7)))
    terms = []
    while n > 0 and len(terms) < max_terms:
        top = n.bit_length()
        s = max(0, top - 3)  # the top 3 bits
        m = n >> s
        if s > 15:
            break
        terms.append((m, s - 7))
        n -= m << s
    return terms, sum(m * 2.0 ** e for m, e in terms) * gain


def _join(terms: list) -> str:
    """Signed terms (``"+ ..."``, ``"- ..."``) as one rule string."""
    text = " ".join(terms)
    return text[2:] if text.startswith("+ ") else ("-" + text[2:] if text.startswith("- ") else text)


def _entry(name: str, asked: float, represented: float, **extra) -> dict:
    return {"term": name, "float": asked, "represented": represented,
            "rel_error": abs(represented - asked) / abs(asked) if asked else 0.0, **extra}


# --------------------------------------------------------------------------------------------
# the rule
# --------------------------------------------------------------------------------------------

def compile_plastic(pp: PlasticPlan, unit: float, dt: float, seed: int, dopamine_unit: float | None = None):
    """The Loihi rule of plan ``pp`` at weight ``unit`` (PyNN weight per mantissa): returns
    ``(tables, tag_2, third_factor, report)`` (``tag_2``: the connectivity mask, dense
    [n_post, n_pre], or None; ``third_factor``: the post population's 3-factor neuron traces
    (dopamine rules), or None)."""
    p, edge = pp.p, pp.edge
    rng_seed = int(stream_key(seed, edge.name, "loihi-learning") % np.uint64(SEED_RANGE[1] + 1))
    mask = " * d" if pp.masked else ""
    mgain = MASK_VALUE if pp.masked else 1
    target = 127.0 / TRACE_HEADROOM
    terms, rates, traces = [], [], {}
    D = pp.shift
    not_repr = []
    if pp.kind in ("pair", "vogels"):
        tau_p = p["tau_plus"] if pp.kind == "pair" else p["tau"]
        tau_m = p["tau_minus"] if pp.kind == "pair" else p["tau"]
        comp_p, comp_m = math.exp(-D * dt / tau_p), math.exp(D * dt / tau_m)
        if pp.kind == "pair":
            span = (p["w_max"] - p["w_min"]) / unit
            pot = [("potentiation", p["A_plus"] * comp_p * (span if p["mu_plus"] == 0 else 1.0),
                    ["x1"] + ([] if p["mu_plus"] == 0 else ["w"]), "y0", "x1",
                    "" if p["mu_plus"] == 0 else f" * (w - {round(p['w_max'] / unit)})", p["mu_plus"] != 0),
                   ("depression", p["A_minus"] * comp_m * (span if p["mu_minus"] == 0 else 1.0),
                    ["y1"] + ([] if p["mu_minus"] == 0 else ["w"]), "x0", "y1",
                    "" if p["mu_minus"] == 0 else f" * (w - {round(p['w_min'] / unit)})", True)]
        else:
            eta = p["eta"] / unit
            pot = [("potentiation at post spikes", eta * comp_p, ["x1"], "y0", "x1", "", False),
                   ("potentiation at pre spikes", eta * comp_m, ["y1"], "x0", "y1", "", False)]
        for name, rate, factors, dep, trace, extra, negative in pot:
            if rate == 0:
                continue
            sh = _shift(factors + (["d"] if pp.masked else []))
            m, e, imp, rep = _fit_traced(rate, mgain * 2.0 ** -sh, False, target, edge)
            sign = "-" if negative else "+"
            terms.append(f"{sign} {_literal(m, e)} * {dep} * {trace}{extra}{mask}")
            traces[trace] = (imp, tau_p if trace == "x1" else tau_m)
            rates.append(_entry(name, rate, rep, literal=_literal(m, e), impulse=imp, shift=sh,
                                unit="mantissas per trace unit" + (" per mantissa of the distance to the bound"
                                                                   if extra else "")))
        if pp.kind == "vogels" and p["rho"] > 0:
            alpha = 2.0 * p["rho"] * p["tau"] / 1000.0
            value = alpha * p["eta"] / unit
            # masked by sgn(d) (0/1, no shift): d itself (128) would cost the constant 7 bits
            lits, rep = _fit_constant(value, 1.0)
            for m, e in lits:
                terms.append(f"- {_literal(m, e)} * x0" + (" * sgn(d)" if pp.masked else ""))
            rates.append(_entry("depression per pre spike (alpha eta)", value, rep,
                                literals=[_literal(m, e) for m, e in lits], unit="mantissas per pre spike"))
            if not lits:
                not_repr.append(f"alpha eta = {value:.3g} mantissas per pre spike rounds to 0 (< 1/256 mantissa)")
        strings = {"dw": _join(terms)}
        kw = {}
        for name in ("x1", "y1"):
            imp, tau = traces.get(name, (0.0, 0.0))
            kw[f"{name}_impulse"], kw[f"{name}_tau"] = imp, tau / dt if imp else 0
        rule = parse_rule(dw=strings["dw"], t_epoch=_T_EPOCH, rng_seed=rng_seed, **kw)
        third = None
        dop = None
    else:
        rule, strings, third, dop, rates, traces = _dopamine_rule(pp, unit, dt, rng_seed, mask, mgain, target,
                                                                  dopamine_unit, not_repr)
    tables = compile_rule(rule, owner=f"Projection({edge.name})")
    tag_2 = None
    if pp.masked:
        tag_2 = np.zeros((pp.n_post, pp.n_pre), np.int64)
        tag_2[np.asarray(edge.post_index, np.int64), np.asarray(edge.pre_index, np.int64)] = MASK_VALUE
    report = _report(pp, unit, dt, tables, strings, rates, traces, not_repr, dop)
    return tables, tag_2, third, report


def dopamine_decimation(tau_c: float, dt: float) -> tuple[int, int, float]:
    """(k, q, effective tau_c in ms): the eligibility decays by q/128 every 2**k steps, the
    choice with the smallest tau_c error among 2**k dt <= tau_c / 4 (module docstring)."""
    best = None
    for k in range(0, DECIMATION_MAX + 1):
        h = 2 ** k * dt
        if k and h > tau_c / 4:
            break
        q = int(round(128 * (1 - math.exp(-h / tau_c))))
        if q < 1:
            continue
        q = min(q, 127)
        eff = h / -math.log(1 - q / 128)
        err = abs(eff - tau_c) / tau_c
        if best is None or err < best[0] - 1e-12:
            best = (err, k, q, eff)
    if best is None:
        q = 1
        k = max(0, int(math.ceil(math.log2(tau_c / (128 * dt)))))
        return k, q, 2 ** k * dt / -math.log(1 - q / 128)
    return best[1], best[2], best[3]


def _dopamine_rule(pp, unit, dt, rng_seed, mask, mgain, target, dopamine_unit, not_repr):
    p = pp.p
    D = pp.shift
    k, q, tau_c_eff = dopamine_decimation(p["tau_c"], dt)
    h = 2 ** k
    H = h * dt
    tau_s = p["tau_c"] * p["tau_n"] / (p["tau_c"] + p["tau_n"])
    rho = (tau_s / H) * (1 - math.exp(-H / tau_s))
    # dopamine scale (trace units per 1/ms); b onto a whole B
    scale_n = dopamine_unit if dopamine_unit else 127.0 / (DOPAMINE_HEADROOM / p["tau_n"])
    B = int(round(p["b"] * scale_n))
    if p["b"] > 0:
        B = max(B, 1)
        scale_n = B / p["b"]
    # the weight-update literal s and the tag unit: s / 2**shift = unit_c H rho / (unit scale_n)
    sh_w = _shift(["t", "y3"])
    a_max = max(p["A_plus"], p["A_minus"], 1e-300)
    want_uc = TAG_HEADROOM * a_max / 255.0
    best = None
    for m, e in _LITERALS:
        uc = m * 2.0 ** (e - sh_w) * unit * scale_n / (H * rho)
        key = abs(math.log2(uc / want_uc))
        if best is None or key < best[0]:
            best = (key, m, e, uc)
    _, mw, ew, unit_c = best
    rates = [_entry("weight change per eligibility x dopamine", 1.0, 1.0, literal=_literal(mw, ew), shift=sh_w,
                    unit="exact by the choice of the tag unit", tag_unit=unit_c, rho=rho)]
    terms, traces = [], {}
    comp_p, comp_m = math.exp(-D * dt / p["tau_plus"]), math.exp(D * dt / p["tau_minus"])
    third_imp = 0
    for name, rate, trace, dep, integer, sign in (
            ("eligibility potentiation", p["A_plus"] * comp_p / unit_c, "x1", "y0", False, "+"),
            ("eligibility depression", p["A_minus"] * comp_m / unit_c, "y1", "x0", True, "-")):
        if rate == 0:
            continue
        sh = _shift([trace] + (["d"] if pp.masked else []))
        m, e, imp, rep = _fit_traced(rate, mgain * 2.0 ** -sh, integer, target, pp.edge)
        terms.append(f"{sign} {_literal(m, e)} * {dep} * {trace}{mask}")
        traces[trace] = (imp, p["tau_plus"] if trace == "x1" else p["tau_minus"])
        if trace == "y1":
            third_imp = int(imp)
        rates.append(_entry(name, rate, rep, literal=_literal(m, e), impulse=imp, shift=sh,
                            unit="tag units per trace unit"))
    lits, rep_q = _fit_constant(q / 128.0, 1.0)
    for m, e in lits:
        terms.append(f"- {_literal(m, e)} * u{k} * t")
    rates.append(_entry("eligibility decay per 2**k steps", q / 128.0, rep_q, k=k, q=q, tau_c_effective_ms=tau_c_eff,
                        unit="fraction of the tag"))
    dt_str = _join(terms)
    y3 = f"(y3 - {B})" if B else "y3"
    dw_str = f"{_literal(mw, ew)} * u{k} * t * {y3}"
    x1_imp, _ = traces.get("x1", (0.0, 0.0))
    rule = parse_rule(dw=dw_str, dt=dt_str, three_factor=True, t_epoch=_T_EPOCH, rng_seed=rng_seed,
                      x1_impulse=x1_imp, x1_tau=p["tau_plus"] / dt if x1_imp else 0)
    dec_y1 = int(np.clip(np.rint(4096 * (1 - math.exp(-dt / p["tau_minus"]))), 1, 4095))
    third = {"decay": [dec_y1, 4096, 4096], "impulse": [third_imp, 0, 0], "reward": [0, 0, 1],
             "frac_bits": [Y_FRAC_BITS, 0, 0]}
    tau_y1_eff = dt / -math.log((4096 - dec_y1) / 4096)
    traces["y1"] = (third_imp, p["tau_minus"], tau_y1_eff)
    dop = {"modulator": pp.edge.modulator, "scale_per_ms": scale_n, "b": p["b"], "B": B, "tau_n_ms": p["tau_n"],
           "saturates_at_per_ms": 127.0 / scale_n, "decimation_exponent": k, "update_every_steps": h,
           "update_every_ms": H, "tau_c_effective_ms": tau_c_eff,
           "tau_c_rel_error": abs(tau_c_eff - p["tau_c"]) / p["tau_c"], "tag_unit": unit_c,
           "tag_saturates_at": 255 * unit_c, "integration_factor_rho": rho}
    if B and abs(B / scale_n - p["b"]) > 1e-12 * abs(p["b"]):
        not_repr.append(f"b = {p['b']:g} /ms represented as {B / scale_n:g} /ms")
    not_repr.append(f"eligibility and weight change in steps of {H:g} ms (2**{k} steps): the weight follows "
                    "c (n - b) sampled at the start of each step and integrated over it with rho; dopamine arriving "
                    "within a step acts from the next one")
    if p["b"]:
        not_repr.append("the b term is integrated with tau_s's rho instead of tau_c's: relative error "
                        f"{abs((p['tau_c'] / H) * (1 - math.exp(-H / p['tau_c'])) / rho - 1):.2g} on it")
    return rule, {"dw": dw_str, "dt": dt_str}, third, dop, rates, traces


def _report(pp, unit, dt, tables, strings, rates, traces, not_repr, dop) -> dict:
    p = pp.p
    trace_rep = {}
    for name, t in traces.items():
        imp, tau = t[0], t[1]
        eff = t[2] if len(t) > 2 else tau  # connection traces decay by exp(-1/tau) exactly (stochastic rounding)
        trace_rep[name] = {"tau_ms": tau, "tau_steps": tau / dt, "effective_tau_ms": eff,
                           "tau_rel_error": abs(eff - tau) / tau if tau else 0.0, "impulse": imp,
                           "saturates_at_trace": 127.0 / imp if imp else None,
                           "where": "post neuron (12 fractional bits, 12-bit decay)" if len(t) > 2 else
                           "learning connection (7 bits, stochastic rounding)"}
    bounds = {}
    for name in ("w_min", "w_max"):
        m = int(round(p[name] / unit))
        bounds[name] = {"float": p[name], "mantissa": m, "represented": m * unit,
                        "rel_error": abs(m * unit - p[name]) / abs(p[name]) if p[name] else abs(m * unit)}
    D = pp.shift
    rep = {
        "rule": {"pair": "stdp_synapse (all-to-all)", "vogels": "vogels_sprekeler_synapse",
                 "dopamine": "stdp_dopamine_synapse"}[pp.kind],
        "lava_rule": "Loihi3FLearningRule" if tables.three_factor else "Loihi2FLearningRule",
        "rule_strings": strings, "t_epoch": tables.t_epoch, "rng_seed": tables.rng_seed,
        "traces": trace_rep, "learning_rates": rates,
        "worst_rate_rel_error": max((r["rel_error"] for r in rates), default=0.0),
        "weights": {"sign_mode": pp.sign_mode, "clip_mantissas": [pp.lo, pp.hi], "unit_per_mantissa": unit,
                    "bound_mapped_exactly": {"value": pp.bound, "mantissa": pp.bound_m}, **bounds,
                    "precision": "8-bit mantissas; learned changes rounded stochastically (unbiased)"},
        "timing": {"latency_needed_steps": pp.latency, "latency_loihi_steps": 1, "pairing_shift_steps": D,
                   "compensated": D != 0,
                   "exact_for": "every pair" if D == 0 else f"pairs more than {abs(D)} step(s) apart",
                   "coincidence": "a pre and a post spike in the same step both potentiate and depress on Loihi"},
        "connectivity": {"pairs": pp.n_pre * pp.n_post, "synapses": int(pp.edge.pre_index.size),
                         "mask": f"tag_2 = {MASK_VALUE} on connected pairs, 0 elsewhere (every pairing product "
                                 "times d)" if pp.masked else None},
        "approximations": list(pp.approximations),
        "not_represented": list(not_repr) + list(pp.notes),
    }
    if dop is not None:
        rep["dopamine"] = dop
    if pp.latency != 1:
        rep["not_represented"].append(f"transmission latency {pp.latency} steps -> 1 ({APPROXIMATION})")
    if D:
        rep["not_represented"].append(f"pairs within {abs(D)} step(s) of NEST's coincidence (shift D = {D} steps) "
                                      "pair differently")
    if any(r.get("shift", 0) > 0 for r in rates):
        rep["truncation"] = ("products with a right shift floor their value: at most 2**(e) mantissas (the literal's "
                             "exponent) less per evaluation")
    return rep
