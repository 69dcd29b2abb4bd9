"""The plastic connections of a fixed-point network as the learning kernels take them: the
packed layout (:class:`PlasticArrays`, its ``meta`` columns), the connections as given
(:class:`PlasticSpec`), their validation and packing, Lava's random streams and the state
(:class:`PlasticSet`). The arithmetic is ``fixed_learning_kernels.py``; the spec is
``fixed_learning.py``'s docstring."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from neurohybrid.errors import ParameterError
from neurohybrid.mappings.loihi.learning_rules import LearningRuleTables

from .fixed_arith import checked_ints

SIGN_CODES = {"mixed": 1, "excitatory": 2, "inhibitory": 3}  # lava.utils.weightutils.SignMode
TAG1_RANGE = (-257, 255)  # _saturate_synaptic_variable: [-(2**8) - 1, 2**8 - 1]
TAG2_RANGE = (0, 255)

# meta columns of a plastic connection
(M_SRC, M_PRE0, M_NPRE, M_POST0, M_NPOST, M_WOFF, M_EXP, M_SIGN, M_TEPOCH, M_THREEF, M_P0, M_NP, M_DECK,
 M_XOFF, M_YOFF, M_UNSTABLE, M_DEPX0, M_DEPY0, M_DEPU, M_HAS_T, M_EPOCH) = range(21)
N_META = 21


def weight_range(sign_mode: str) -> tuple[int, int]:
    """The range ``clip_weights(..., num_bits=8)`` keeps for a sign mode."""
    return {"mixed": (-256, 255), "excitatory": (0, 255), "inhibitory": (-255, 0)}[sign_mode]


class PlasticArrays(NamedTuple):
    """Everything the kernel needs of the plastic connections of a network, packed (numba takes
    a NamedTuple of arrays). Synapse arrays are pre-major: synapse (post i, pre j) of
    connection c is at ``meta[c, M_WOFF] + j * n_post + i``."""

    meta: np.ndarray        # int64 [K, N_META]
    prod: np.ndarray        # int64 [P, 7]: target, dep, mant, exp, shift, f0, nf
    fac: np.ndarray         # int64 [F, 5]: kind, const, sgn, lo, hi
    imp_int: np.ndarray     # int64 [K, 5]
    imp_frac: np.ndarray    # int64 [K, 5]
    decay: np.ndarray       # float64 [K, 5]
    tau_zero: np.ndarray    # bool [K, 5]
    w: np.ndarray           # int16 [S]
    tag2: np.ndarray        # int16 [S]
    tag1: np.ndarray        # int16 [S]
    x: np.ndarray           # int64 [2, total pre]
    y: np.ndarray           # int64 [3, total post]
    tx: np.ndarray          # int64 [total pre]
    ty: np.ndarray          # int64 [total post]
    xh: np.ndarray          # int64 scratch [T + 1, 2, max pre]
    yh: np.ndarray          # int64 scratch [T + 1, 3, max post]
    acc: np.ndarray         # int64 scratch [max post]
    rows: np.ndarray        # int64 scratch [max post]
    mv: np.ndarray          # int64 scratch [max products, max(pre, post)]
    act: np.ndarray         # int64 scratch [max products]
    lacc: np.ndarray        # int64 scratch [max(pre, post)]
    lidx: np.ndarray        # int64 scratch [max(pre, post)]


def _check_int_matrix(owner, name, value, shape, lo, hi):
    arr = np.asarray(value)
    if arr.ndim == 0:
        arr = np.full(shape, arr.item())
    if arr.shape != shape:
        raise ParameterError(owner, name, f"shape {arr.shape}", f"a scalar or a matrix of shape {shape}")
    return checked_ints(owner, name, arr, lo, hi)


def truncate_weights(w: np.ndarray, sign_mode: str, num_weight_bits: int) -> np.ndarray:
    """Lava's ``truncate_weights`` (``utils/weightutils.py``; int32, arithmetic shifts; inhibitory
    weights shifted while negated)."""
    w = np.asarray(w).astype(np.int32).astype(np.int64)
    k = 8 - int(num_weight_bits) + int(sign_mode == "mixed")
    if sign_mode == "inhibitory":
        return -((-w >> k) << k)
    return (w >> k) << k


class _RuleRandoms:
    """Lava's three random generators of one learning connection (``TraceRandom`` x and y,
    ``ConnVarRandom``), as numpy generators, with the number each currently holds."""

    def __init__(self, seed: int):
        self.gens = [np.random.default_rng(seed), np.random.default_rng(seed + 1),
                     np.random.default_rng(seed + 2), np.random.default_rng(seed + 3),
                     np.random.default_rng(2)]
        g = self.gens
        # TraceRandom.__init__ / ConnVarRandom.__init__ draw once
        self.cur = [g[0].random(1)[0], g[1].integers(0, 128, size=1, dtype=int)[0],
                    g[2].random(1)[0], g[3].integers(0, 128, size=1, dtype=int)[0], g[4].random(1)[0]]

    def draw(self, n_steps: int, n_epochs: int):
        """Numbers for a chunk: index 0 = current, then 2 trace advances per step, one
        synaptic-variable advance per epoch; the last ones become current."""
        g = self.gens
        out = []
        for q, kind in enumerate("fifi"):
            d = g[q].random(2 * n_steps) if kind == "f" else g[q].integers(0, 128, size=2 * n_steps, dtype=int)
            out.append(np.r_[self.cur[q], d])
        out.append(np.r_[self.cur[4], g[4].random(n_epochs)])
        self.cur = [o[-1] for o in out]
        return out

    def state(self) -> np.ndarray:
        """The five generators' PCG64 states and current numbers, as uint64 words."""
        words = []
        for g in self.gens:
            s = g.bit_generator.state
            for big in (s["state"]["state"], s["state"]["inc"]):
                words += [big >> 64, big & (2 ** 64 - 1)]
            words += [s["has_uint32"], s["uinteger"]]
        cur = np.array([self.cur[0], self.cur[2], self.cur[4]], np.float64).view(np.uint64).tolist()
        words += cur + [int(self.cur[1]), int(self.cur[3])]
        return np.array(words, np.uint64)

    def restore(self, words) -> None:
        w = [int(v) for v in np.asarray(words, np.uint64)]
        for q, g in enumerate(self.gens):
            base = 6 * q
            s = g.bit_generator.state
            s["state"]["state"] = (w[base] << 64) | w[base + 1]
            s["state"]["inc"] = (w[base + 2] << 64) | w[base + 3]
            s["has_uint32"], s["uinteger"] = w[base + 4], w[base + 5]
            g.bit_generator.state = s
        f = np.array(w[30:33], np.uint64).view(np.float64)
        self.cur = [f[0], np.int64(w[33]), f[1], np.int64(w[34]), f[2]]


@dataclass
class PlasticSpec:
    """One plastic connection as :class:`PlasticSet` takes it (Loihi integers, Lava's (post,
    pre) orientation): ``weights`` dense [n_post, n_pre] (every entry is a synapse, as in
    ``LearningDense``), ``tag_1``/``tag_2`` likewise (or None: 0), ``rule`` compiled
    (:func:`~neurohybrid.mappings.loihi.learning_rules.compile_rule`), ``sign_mode``
    (``"mixed"``, ``"excitatory"``, ``"inhibitory"``), ``num_weight_bits`` 1..8, ``weight_exp``
    -8..7; ``source`` 0 = the network's neurons, 1 = the external input; ``pre0``/``post0``:
    offsets of the pre and post neurons in those index spaces."""

    weights: np.ndarray
    rule: LearningRuleTables
    sign_mode: str
    num_weight_bits: int = 8
    weight_exp: int = 0
    tag_1: np.ndarray | None = None
    tag_2: np.ndarray | None = None
    source: int = 0
    pre0: int = 0
    post0: int = 0
    name: str = "plastic"


class PlasticSet:
    """The plastic connections of one network: validated, packed into :class:`PlasticArrays`,
    with their random generators. ``owner``: the object named in errors."""

    def __init__(self, specs, owner: object = "PlasticSet"):
        self.owner = owner
        self.specs = list(specs)
        self.n = len(self.specs)
        meta, prods, facs, ii, ff, dec, tz = [], [], [], [], [], [], []
        w_parts, t1_parts, t2_parts = [], [], []
        woff = xoff = yoff = 0
        max_pre = max_post = 1
        max_t = max_np = 1
        self._initial = []
        for c, spec in enumerate(self.specs):
            who = f"{owner}.connections[{spec.name}]"
            rule = spec.rule
            if not isinstance(rule, LearningRuleTables):
                raise ParameterError(who, "learning", f"{type(rule).__name__}",
                                     "LearningRuleTables (mappings.loihi.learning_rules.compile_rule)")
            targets = np.asarray(rule.prod_target)
            if targets.size and np.count_nonzero(np.diff(targets)) + 1 != np.unique(targets).size:
                raise ParameterError(who, "learning", "the products of one target are not consecutive",
                                     "LearningRuleTables as compile_rule makes them (one product series per target)")
            if spec.sign_mode not in SIGN_CODES:
                raise ParameterError(who, "sign_mode", f"{spec.sign_mode!r}", ", ".join(SIGN_CODES))
            if not 1 <= int(spec.num_weight_bits) <= 8:
                raise ParameterError(who, "num_weight_bits", f"{spec.num_weight_bits}", "1..8")
            if not -8 <= int(spec.weight_exp) <= 7:
                raise ParameterError(who, "weight_exp", f"{spec.weight_exp}", "an integer in [-8, 7]")
            w = np.asarray(spec.weights)
            if w.ndim != 2:
                raise ParameterError(who, "weights", f"shape {w.shape}", "a dense (n_post, n_pre) matrix")
            n_post, n_pre = w.shape
            lo, hi = weight_range(spec.sign_mode)
            w = _check_int_matrix(who, "weights", w, (n_post, n_pre), lo, hi)
            w = truncate_weights(w, spec.sign_mode, spec.num_weight_bits)
            t1 = _check_int_matrix(who, "tag_1", 0 if spec.tag_1 is None else spec.tag_1, (n_post, n_pre), *TAG1_RANGE)
            t2 = _check_int_matrix(who, "tag_2", 0 if spec.tag_2 is None else spec.tag_2, (n_post, n_pre), *TAG2_RANGE)
            self._initial.append((w, t1, t2))
            p0 = sum(len(p) for p in prods)
            f_base = sum(len(f) for f in facs)
            pr = np.stack([rule.prod_target, rule.prod_dep, rule.prod_mant, rule.prod_exp, rule.prod_shift,
                           rule.prod_f0 + f_base, rule.prod_nf], axis=1) if rule.prod_target.size else np.zeros((0, 7), np.int64)
            fa = np.stack([rule.fac_kind, rule.fac_const, rule.fac_sgn, rule.fac_lo, rule.fac_hi], axis=1) \
                if rule.fac_kind.size else np.zeros((0, 5), np.int64)
            prods.append(pr)
            facs.append(fa)
            deps = set(rule.prod_dep.tolist())
            mrow = np.zeros(N_META, np.int64)
            mrow[[M_SRC, M_PRE0, M_NPRE, M_POST0, M_NPOST, M_WOFF, M_EXP, M_SIGN, M_TEPOCH, M_THREEF, M_P0, M_NP,
                  M_DECK, M_XOFF, M_YOFF]] = [
                spec.source, spec.pre0, n_pre, spec.post0, n_post, woff, int(spec.weight_exp),
                SIGN_CODES[spec.sign_mode], rule.t_epoch, int(rule.three_factor), p0, len(pr),
                rule.decimate_exponent, xoff, yoff]
            mrow[M_DEPX0], mrow[M_DEPY0], mrow[M_DEPU] = 0 in deps, 1 in deps, 2 in deps
            mrow[M_HAS_T] = 2 in set(rule.prod_target.tolist())
            mrow[M_UNSTABLE] = int(np.any(t1 == TAG1_RANGE[0]))
            meta.append(mrow)
            ii.append(rule.impulse_int)
            ff.append(rule.impulse_frac)
            dec.append(rule.decay)
            tz.append(rule.tau_zero)
            w_parts.append(w.T.ravel())  # pre-major
            t1_parts.append(t1.T.ravel())
            t2_parts.append(t2.T.ravel())
            woff += n_pre * n_post
            xoff += n_pre
            yoff += n_post
            max_pre, max_post, max_t = max(max_pre, n_pre), max(max_post, n_post), max(max_t, rule.t_epoch)
            max_np = max(max_np, len(pr))
        cat16 = lambda parts: np.concatenate(parts).astype(np.int16) if parts else np.zeros(0, np.int16)  # noqa: E731
        stack = lambda parts, shape, dt: np.stack(parts).astype(dt) if parts else np.zeros(shape, dt)  # noqa: E731
        self.arrays = PlasticArrays(
            meta=stack(meta, (0, N_META), np.int64),
            prod=np.concatenate(prods).astype(np.int64) if prods else np.zeros((0, 7), np.int64),
            fac=np.concatenate(facs).astype(np.int64) if facs else np.zeros((0, 5), np.int64),
            imp_int=stack(ii, (0, 5), np.int64), imp_frac=stack(ff, (0, 5), np.int64),
            decay=stack(dec, (0, 5), np.float64), tau_zero=stack(tz, (0, 5), np.bool_),
            w=cat16(w_parts), tag2=cat16(t2_parts), tag1=cat16(t1_parts),
            x=np.zeros((2, xoff), np.int64), y=np.zeros((3, yoff), np.int64),
            tx=np.zeros(xoff, np.int64), ty=np.zeros(yoff, np.int64),
            xh=np.zeros((max_t + 1, 2, max_pre), np.int64), yh=np.zeros((max_t + 1, 3, max_post), np.int64),
            acc=np.zeros(max_post, np.int64), rows=np.zeros(max_post, np.int64),
            mv=np.zeros((max_np, max(max_pre, max_post)), np.int64), act=np.zeros(max_np, np.int64),
            lacc=np.zeros(max(max_pre, max_post), np.int64), lidx=np.zeros(max(max_pre, max_post), np.int64))
        self._meta0 = self.arrays.meta.copy()
        self.randoms = [_RuleRandoms(s.rule.rng_seed) for s in self.specs]

    # -- per run ---------------------------------------------------------------------------
    def draw(self, t0: int, n_steps: int):
        """Random numbers for steps t0 .. t0 + n_steps - 1 (0-based): arrays RXD, RXI, RYD, RYI
        [K, 2 n + 1] and RC [K, epochs + 1] (index by the connection's epoch counter)."""
        K = self.n
        out = [np.zeros((K, 2 * n_steps + 1)), np.zeros((K, 2 * n_steps + 1), np.int64),
               np.zeros((K, 2 * n_steps + 1)), np.zeros((K, 2 * n_steps + 1), np.int64)]
        epochs = [((t0 + n_steps) // s.rule.t_epoch) - (t0 // s.rule.t_epoch) for s in self.specs]
        rc = np.zeros((K, max(epochs, default=0) + 1))
        meta = self.arrays.meta
        for c, rnd in enumerate(self.randoms):
            parts = rnd.draw(n_steps, epochs[c])
            for q in range(4):
                out[q][c] = parts[q]
            rc[c, :epochs[c] + 1] = parts[4]
        meta[:, M_EPOCH] = 0  # epoch counter restarts with each chunk's RC
        return (*out, rc)

    # -- state -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Initial weights and tags, traces 0, generators re-seeded."""
        a = self.arrays
        for c, (w, t1, t2) in enumerate(self._initial):
            sl = self._slice(c)
            a.w[sl], a.tag1[sl], a.tag2[sl] = w.T.ravel(), t1.T.ravel(), t2.T.ravel()
        a.meta[:] = self._meta0
        for arr in (a.x, a.y, a.tx, a.ty):
            arr[:] = 0
        self.randoms = [_RuleRandoms(s.rule.rng_seed) for s in self.specs]

    def _slice(self, c: int) -> slice:
        m = self.arrays.meta[c]
        return slice(int(m[M_WOFF]), int(m[M_WOFF] + m[M_NPRE] * m[M_NPOST]))

    def read(self, c: int) -> dict:
        """Copies of connection c's state in Lava's layout: ``weights``, ``tag_1``, ``tag_2``
        [n_post, n_pre] (int64); traces ``x1``, ``x2``, ``tx`` [n_pre]; ``y1``, ``y2``, ``y3``,
        ``ty`` [n_post]."""
        a, m = self.arrays, self.arrays.meta[c]
        npre, npost, xo, yo = int(m[M_NPRE]), int(m[M_NPOST]), int(m[M_XOFF]), int(m[M_YOFF])
        sl = self._slice(c)
        mat = lambda v: v[sl].reshape(npre, npost).T.astype(np.int64)  # noqa: E731
        return {"weights": mat(a.w), "tag_1": mat(a.tag1), "tag_2": mat(a.tag2),
                "x1": a.x[0, xo:xo + npre].copy(), "x2": a.x[1, xo:xo + npre].copy(),
                "y1": a.y[0, yo:yo + npost].copy(), "y2": a.y[1, yo:yo + npost].copy(),
                "y3": a.y[2, yo:yo + npost].copy(),
                "tx": a.tx[xo:xo + npre].copy(), "ty": a.ty[yo:yo + npost].copy()}

    def state(self) -> dict:
        """Flat snapshot entries (arrays only)."""
        a = self.arrays
        out = {"w": a.w.copy(), "tag1": a.tag1.copy(), "tag2": a.tag2.copy(), "x": a.x.copy(), "y": a.y.copy(),
               "tx": a.tx.copy(), "ty": a.ty.copy(), "unstable": a.meta[:, M_UNSTABLE].copy()}
        for c, rnd in enumerate(self.randoms):
            out[f"rng{c}"] = rnd.state()
        return out

    def restore(self, state: dict) -> None:
        """Restore :meth:`state` entries (shapes checked by the caller's snapshot template)."""
        a = self.arrays
        for key, arr in (("w", a.w), ("tag1", a.tag1), ("tag2", a.tag2), ("x", a.x), ("y", a.y),
                         ("tx", a.tx), ("ty", a.ty)):
            arr[...] = np.asarray(state[key])
        a.meta[:, M_UNSTABLE] = np.asarray(state["unstable"])
        for c, rnd in enumerate(self.randoms):
            rnd.restore(state[f"rng{c}"])
