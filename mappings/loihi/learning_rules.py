"""Loihi learning rules as plain arrays: what the fixed-point emulator's learning engine runs.

Lava 0.10 describes on-chip learning with a :class:`lava.magma.core.learning.learning_rule.
LoihiLearningRule` (``Loihi2FLearningRule``, ``Loihi3FLearningRule``, ``STDPLoihi``,
``RewardModulatedSTDP``): rule strings for the weight (``dw``), the delay tag (``dd``, Lava's
``tag_2``) and the tag (``dt``, ``tag_1``), parsed by Lava's ``SymbolicEquation`` into a
``ProductSeries`` per target, plus trace impulses, trace time constants, the epoch length and a
random seed. :func:`compile_rule` turns such a rule into :class:`LearningRuleTables` once, at
build time: integer/float arrays that ``backends/emulator/fixed_learning.py`` evaluates in numba.
The engine never sees Lava: this module reads the rule's attributes (duck typing) and imports
Lava's parser only in :func:`parse_rule`, for rule strings.

What the tables hold (spec: ``lava/magma/core/model/py/connection.py``,
``LearningConnectionModelBitApproximate``, and ``lava/magma/core/learning/``):

- traces, index 0..4 = x1, x2, y1, y2, y3: the impulse split as Lava does
  (``_decompose_impulses``: ``int = floor(impulse)``, ``frac = round((impulse - int) * 2**8)``)
  and the per-step decay factor ``np.exp(-1 / tau)`` computed with numpy exactly as Lava does
  (numpy's vectorised ``exp`` differs from the C library's ``exp`` in the last bit for about half
  of all taus, and Lava multiplies the trace by numpy's value); ``tau == 0`` means the trace is
  0 after every step of the epoch's history (Lava only decays traces with ``tau != 0`` and
  starts the history at 0);
- products: target (0 = weights, 1 = tag_2 (``d``), 2 = tag_1 (``t``)), dependency
  (0 = x0, 1 = y0, 2 = u), scaling mantissa, exponent (Lava's ``s_exp``, already + 7), the
  right shift back to the 15-bit accumulator (``max(0, sum of factor widths + 4 - 15)``) and a
  slice of factors;
- factors: kind (:data:`FACTOR_KINDS`), constant, ``sgn`` flag, and the saturation bounds
  ``[-(2**width), 2**width - 1]`` of ``LearningRuleApplierBitApprox.apply``.

Ranges (Loihi's, as Lava's fixed-point model uses them; outside: :class:`ParameterError`):
``t_epoch`` 1..63 (6-bit epoch time, ``W_EPOCH_TIME``), impulses 0..127 (7-bit traces), taus
>= 0, ``rng_seed`` 0..2**31 - 4 (Lava seeds four generators from seed .. seed + 3).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neurohybrid.errors import ParameterError, UnsupportedModelError

__all__ = ["LearningRuleTables", "compile_rule", "parse_rule", "lava_rule", "plastic_block", "FACTOR_KINDS", "TARGETS", "DEPENDENCIES",
           "TRACE_NAMES", "T_EPOCH_RANGE", "IMPULSE_RANGE", "SEED_RANGE", "rule_kind"]

#: synaptic variables a rule can change, in Lava's order (``dw``, ``dd``, ``dt``) and Lava's names
TARGETS = ("weights", "tag_2", "tag_1")
_TARGET_INDEX = {"dw": 0, "dd": 1, "dt": 2}
#: dependencies (index = code in the tables)
DEPENDENCIES = ("x0", "y0", "u")
#: factor kinds (index = code in the tables); "w", "d", "t" are weights, tag_2, tag_1
FACTOR_KINDS = ("x0", "y0", "x1", "x2", "y1", "y2", "y3", "w", "d", "t", "C")
#: traces (index = code in the trace arrays)
TRACE_NAMES = ("x1", "x2", "y1", "y2", "y3")

# Widths of lava/magma/core/learning/constants.py
_W_TRACE = 7  # traces x1..y3
_W_TRACE_FRACTIONAL_PART = 8
_W_ACCUMULATOR_U = 15
_W_S_MANT = 4
_FACTOR_WIDTH = {"x0": 1, "y0": 1, "x1": _W_TRACE, "x2": _W_TRACE, "y1": _W_TRACE, "y2": _W_TRACE,
                 "y3": _W_TRACE, "w": 9, "d": 9, "t": 9, "C": 8}  # FACTOR_TO_WIDTH_DICT

T_EPOCH_RANGE = (1, 63)
IMPULSE_RANGE = (0.0, 127.0)
SEED_RANGE = (0, 2 ** 31 - 4)
#: the y-trace tau Lava's ``Loihi3FLearningRule`` sets (np.iinfo(np.uint16).max)
THREE_FACTOR_Y_TAU = 65535


@dataclass
class LearningRuleTables:
    """A Loihi learning rule compiled to arrays (see the module docstring).

    ``three_factor``: True for a ``Loihi3FLearningRule`` (the post-synaptic neuron supplies y1,
    y2, y3 every step; the connection does not keep them), False for ``Loihi2FLearningRule``.
    ``t_epoch``: learning epoch in time steps. ``rng_seed``: the rule's seed (trace random
    generators: seed, seed + 1 for x; seed + 2, seed + 3 for y; the synaptic-variable generator
    is Lava's ``ConnVarRandom()``, always seed 2). ``decimate_exponent``: k of the ``uk``
    dependency, -1 without one. Arrays: ``impulse_int``/``impulse_frac`` (int64 [5]),
    ``decay`` (float64 [5], ``np.exp(-1/tau)``; 0 where ``tau == 0``), ``tau_zero`` (bool [5]);
    products ``prod_*`` (int64 [P]); factors ``fac_*`` (int64 [F]). ``strings``: the rule
    strings by target (``dw``/``dd``/``dt``, None when absent), ``taus``/``impulses``: the
    rule's values, for reports and equality.
    """

    three_factor: bool
    t_epoch: int
    rng_seed: int
    decimate_exponent: int
    impulse_int: np.ndarray
    impulse_frac: np.ndarray
    decay: np.ndarray
    tau_zero: np.ndarray
    prod_target: np.ndarray
    prod_dep: np.ndarray
    prod_mant: np.ndarray
    prod_exp: np.ndarray
    prod_shift: np.ndarray
    prod_f0: np.ndarray
    prod_nf: np.ndarray
    fac_kind: np.ndarray
    fac_const: np.ndarray
    fac_sgn: np.ndarray
    fac_lo: np.ndarray
    fac_hi: np.ndarray
    strings: dict = field(default_factory=dict)
    taus: tuple = ()
    impulses: tuple = ()

    @property
    def targets(self) -> tuple[str, ...]:
        """Names of the synaptic variables the rule changes (``"weights"``, ``"tag_2"``, ``"tag_1"``)."""
        return tuple(TARGETS[t] for t in sorted(set(self.prod_target.tolist())))

    @property
    def dependencies(self) -> set[str]:
        """Dependencies the products use."""
        return {DEPENDENCIES[d] for d in self.prod_dep.tolist()}

    def describe(self) -> str:
        """One line: kind, rule strings, epoch and seed."""
        kind = "3-factor" if self.three_factor else "2-factor"
        rules = ", ".join(f"{k} = {v}" for k, v in self.strings.items() if v is not None)
        return f"{kind} Loihi rule ({rules}; t_epoch={self.t_epoch}, seed={self.rng_seed})"


def rule_kind(rule) -> str:
    """``"3F"`` for a Lava ``Loihi3FLearningRule`` (subclasses included), else ``"2F"``; by class
    name along the MRO, so that Lava need not be imported."""
    names = {cls.__name__ for cls in type(rule).__mro__}
    return "3F" if "Loihi3FLearningRule" in names else "2F"


def _number(owner, name, value, lo, hi) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ParameterError(owner, name, f"{value!r} is not a number", f"a number in [{lo}, {hi}]") from None
    if not np.isfinite(x) or x < lo or x > hi:
        raise ParameterError(owner, name, f"{value!r} is out of Loihi's range", f"a number in [{lo}, {hi}]")
    return x


def _products(owner, product_series: dict) -> dict:
    """Flatten Lava ProductSeries objects (by target name ``dw``/``dd``/``dt``) into arrays."""
    pt, pd, pm, pe, ps, pf0, pnf = [], [], [], [], [], [], []
    fk, fc, fs, flo, fhi = [], [], [], [], []
    for target in ("dw", "dd", "dt"):
        series = product_series.get(target)
        if series is None:
            continue
        for product in series.products:
            dep = product.dependency
            if dep not in DEPENDENCIES:
                raise ParameterError(owner, target, f"dependency {dep!r}", ", ".join(DEPENDENCIES))
            width_sum = 0
            pf0.append(len(fk))
            for factor in product.factors:
                kind = factor.state_var
                if kind not in FACTOR_KINDS:
                    raise ParameterError(owner, target, f"factor {kind!r}", ", ".join(FACTOR_KINDS))
                width = _FACTOR_WIDTH[kind]
                width_sum += width
                fk.append(FACTOR_KINDS.index(kind))
                fc.append(int(factor.const) if factor.has_const() else 0)
                fs.append(int(bool(factor.is_sgn)))
                flo.append(-(2 ** width))
                fhi.append(2 ** width - 1)
            pnf.append(len(fk) - pf0[-1])
            width_sum += _W_S_MANT
            pt.append(_TARGET_INDEX[target])
            pd.append(DEPENDENCIES.index(dep))
            pm.append(int(product.s_mantissa))
            pe.append(int(product.s_exp))
            ps.append(max(0, width_sum - _W_ACCUMULATOR_U))
    a = lambda x: np.asarray(x, np.int64)  # noqa: E731
    return dict(prod_target=a(pt), prod_dep=a(pd), prod_mant=a(pm), prod_exp=a(pe), prod_shift=a(ps),
                prod_f0=a(pf0), prod_nf=a(pnf), fac_kind=a(fk), fac_const=a(fc), fac_sgn=a(fs),
                fac_lo=a(flo), fac_hi=a(fhi))


def _trace_constants(impulses, taus):
    """Lava's ``_store_impulses_and_taus`` + the decay factor of ``_decay_trace``."""
    imp = np.asarray(impulses)
    imp_int = np.floor(imp)
    imp_frac = np.round((imp - imp_int) * 2 ** _W_TRACE_FRACTIONAL_PART)
    taus = np.asarray(taus)
    decay = np.zeros(taus.size, np.float64)
    nz = taus != 0
    # exactly Lava's expression: np.exp(-t / taus[taus != 0][:, np.newaxis]) with t = 1
    decay[nz] = np.exp(-1 / taus[nz][:, np.newaxis]).ravel()
    return imp_int.astype(np.int64), imp_frac.astype(np.int64), decay, ~nz


def compile_rule(rule, owner: object = None) -> LearningRuleTables:
    """Compile a Lava ``LoihiLearningRule`` object (any object with its attributes:
    ``active_product_series``, ``x1_impulse`` .. ``y3_tau``, ``t_epoch``, ``rng_seed``,
    ``decimate_exponent``) into :class:`LearningRuleTables`.

    Raises :class:`ParameterError` (naming ``owner``, default the rule) for values outside
    Loihi's ranges (module docstring) or a missing seed: Lava draws a random seed when
    ``rng_seed`` is None, which no other engine can reproduce.
    """
    owner = owner if owner is not None else type(rule).__name__
    t_epoch = getattr(rule, "t_epoch", None)
    if not isinstance(t_epoch, (int, np.integer)) or not T_EPOCH_RANGE[0] <= int(t_epoch) <= T_EPOCH_RANGE[1]:
        raise ParameterError(owner, "t_epoch", f"{t_epoch!r}",
                             f"an integer in [{T_EPOCH_RANGE[0]}, {T_EPOCH_RANGE[1]}] (6-bit epoch time)")
    seed = getattr(rule, "rng_seed", None)
    if not isinstance(seed, (int, np.integer)) or not SEED_RANGE[0] <= int(seed) <= SEED_RANGE[1]:
        raise ParameterError(owner, "rng_seed", f"{seed!r}",
                             f"an explicit integer in [{SEED_RANGE[0]}, {SEED_RANGE[1]}] (None makes Lava draw one)")
    three = rule_kind(rule) == "3F"
    impulses, taus = [], []
    for name in TRACE_NAMES:
        imp = getattr(rule, f"{name}_impulse")
        tau = getattr(rule, f"{name}_tau")
        if three and name.startswith("y"):
            impulses.append(float(imp))  # set by Loihi3FLearningRule itself (0, 65535)
            taus.append(tau)
            continue
        impulses.append(_number(owner, f"{name}_impulse", imp, *IMPULSE_RANGE))
        _number(owner, f"{name}_tau", tau, 0.0, np.inf)
        taus.append(tau)
    graded = getattr(rule, "graded_spike_cfg", 0)
    if int(graded) != 0:
        raise UnsupportedModelError(owner, "graded_spike_cfg", f"{graded!r}",
                                    "GradedSpikeCfg.USE_REGULAR_IMPULSE (binary spikes)")
    series = dict(rule.active_product_series)
    if not series:
        raise ParameterError(owner, "dw/dd/dt", "no learning rule string", "at least one of dw, dd, dt")
    tables = _products(owner, series)
    imp_int, imp_frac, decay, tau_zero = _trace_constants(impulses[:2], taus[:2])
    y_int, y_frac, y_decay, y_zero = _trace_constants(impulses[2:], taus[2:])
    dec = rule.decimate_exponent
    strings = {k: getattr(rule, f"{k}_str", None) for k in ("dw", "dd", "dt")}
    return LearningRuleTables(
        three_factor=three, t_epoch=int(t_epoch), rng_seed=int(seed),
        decimate_exponent=-1 if dec is None else int(dec),
        impulse_int=np.r_[imp_int, y_int], impulse_frac=np.r_[imp_frac, y_frac],
        decay=np.r_[decay, y_decay], tau_zero=np.r_[tau_zero, y_zero],
        strings=strings, taus=tuple(float(t) for t in taus), impulses=tuple(impulses), **tables)


def parse_rule(*, dw: str | None = None, dd: str | None = None, dt: str | None = None,
               three_factor: bool = False, t_epoch: int = 1, rng_seed: int = 0, **traces):
    """A Lava ``Loihi2FLearningRule`` (or ``Loihi3FLearningRule`` with ``three_factor``) from rule
    strings, parsed by Lava's own ``SymbolicEquation``; ``traces``: ``x1_impulse``, ``x1_tau``,
    ... (3F rules take x traces only). Needs Lava (imported here, lazily). A string Lava
    refuses raises :class:`ParameterError` with Lava's reason, and so does a missing seed.
    (A Lava rule made without a seed draws one; :func:`compile_rule` takes that seed.)"""
    try:
        from lava.magma.core.learning.learning_rule import Loihi2FLearningRule, Loihi3FLearningRule
    except ImportError as exc:  # pragma: no cover - Lava is installed with the project
        raise UnsupportedModelError("parse_rule", "lava", f"Lava's rule parser is unavailable: {exc}",
                                    "lava-nc 0.10") from None
    cls = Loihi3FLearningRule if three_factor else Loihi2FLearningRule
    if not isinstance(rng_seed, (int, np.integer)) or not SEED_RANGE[0] <= int(rng_seed) <= SEED_RANGE[1]:
        raise ParameterError(f"{cls.__name__}(dw={dw!r}, dd={dd!r}, dt={dt!r})", "rng_seed", f"{rng_seed!r}",
                             f"an explicit integer in [{SEED_RANGE[0]}, {SEED_RANGE[1]}] (runs must be reproducible)")
    try:
        return cls(dw=dw, dd=dd, dt=dt, t_epoch=t_epoch, rng_seed=rng_seed, **traces)
    except (ValueError, TypeError, IndexError, AttributeError, SyntaxError) as exc:
        raise ParameterError(f"{cls.__name__}(dw={dw!r}, dd={dd!r}, dt={dt!r})", "rule",
                             f"Lava refuses it: {exc}", "a learning rule in Loihi's product-series form") from None


def lava_rule(tables: LearningRuleTables):
    """The Lava rule object a :class:`LearningRuleTables` was compiled from (rebuilt from its
    strings, impulses, taus, epoch and seed as a ``Loihi2FLearningRule`` or
    ``Loihi3FLearningRule``: the same product series, so the same fixed-point behaviour as
    ``STDPLoihi``/``RewardModulatedSTDP`` objects). Needs Lava."""
    traces = {}
    names = TRACE_NAMES[:2] if tables.three_factor else TRACE_NAMES
    for k, name in enumerate(names):
        traces[f"{name}_impulse"] = tables.impulses[k]
        traces[f"{name}_tau"] = tables.taus[k]
    return parse_rule(dw=tables.strings.get("dw"), dd=tables.strings.get("dd"), dt=tables.strings.get("dt"),
                      three_factor=tables.three_factor, t_epoch=tables.t_epoch, rng_seed=tables.rng_seed, **traces)


def plastic_block(proj, n_post: int, n_pre: int):
    """The dense (n_post, n_pre) int64 weights, tag_1 and tag_2 of a plastic
    :class:`~neurohybrid.mappings.loihi.circuit.LoihiProjection` (pairs not listed: weight 0).
    Raises :class:`DelayError` for delays other than 1 and :class:`ParameterError` for
    repeated pairs or indices out of range."""
    from neurohybrid.errors import DelayError
    rows = np.asarray(proj.rows, np.int64).ravel()
    cols = np.asarray(proj.cols, np.int64).ravel()
    w = np.broadcast_to(np.asarray(proj.weights), rows.shape)
    d = np.broadcast_to(np.asarray(proj.delays), rows.shape)
    if d.size and np.any(d != 1):
        raise DelayError(proj.name, "delays", f"values {sorted(set(np.unique(d).tolist()))[:5]} on a plastic projection",
                         "1 (Lava 0.10 has no learning connection with delays: LearningDense has latency 1)")
    if rows.size and (rows.min() < 0 or rows.max() >= n_post or cols.min() < 0 or cols.max() >= n_pre):
        raise ParameterError(proj.name, "rows/cols", "indices out of range",
                             f"post indices in [0, {n_post}), pre indices in [0, {n_pre})")
    key = rows * max(n_pre, 1) + cols
    if np.unique(key).size != key.size:
        raise ParameterError(proj.name, "rows/cols", "a (post, pre) pair listed twice on a plastic projection",
                             "each pair at most once (one LearningDense holds one synapse per pair)")
    if w.size and not np.all(w == np.round(w)):
        raise ParameterError(proj.name, "weights", "not integer-valued", "integer weight mantissas")
    dense = np.zeros((n_post, n_pre), np.int64)
    dense[rows, cols] = w
    tags = []
    for name in ("tag_1", "tag_2"):
        t = getattr(proj, name, None)
        t = np.zeros((n_post, n_pre), np.int64) if t is None else np.asarray(t)
        if t.shape != (n_post, n_pre):
            raise ParameterError(proj.name, name, f"shape {t.shape}", f"a dense ({n_post}, {n_pre}) matrix or None")
        tags.append(t.astype(np.int64))
    return dense, tags[0], tags[1]
