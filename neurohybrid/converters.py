"""First-class converters between spikes, rates and fields (DESIGN.md, "Converters").

Converters are :class:`~neurohybrid.kernel.Component` s with parameters, state, seeds and
recordable outputs (``record=True``); the kernel never converts implicitly.

* :class:`SpikesToRates` — population rate (Hz) of index groups through an exponential, alpha
  or box kernel, sampled every ``period`` ms (sample ticks are the multiples of the period).
* :class:`RatesToSpikes` — inhomogeneous Poisson, gamma-renewal or dead-time (refractory)
  Poisson spike trains driven by a rate signal (Hz, zero-order hold), drawn from counter-based
  streams ``neurohybrid.rng.stream_key(seed, name, "rates_to_spikes")`` so the trains do not
  depend on the macro-step.
* :class:`FieldSource` — a named field (e.g. ``"dopamine"``) computed from a rates/fields input
  by a function, sampled every ``period`` ms.

Every result is a function of ticks only (never of window boundaries): the same spikes in give
the same rates out whatever the macro-step.
"""
from __future__ import annotations

import copy
import math

import numpy as np
from numba import njit

from . import rng
from .errors import ParameterError
from .kernel import Component, Port, Series, Spikes

__all__ = ["SpikesToRates", "RatesToSpikes", "FieldSource"]


def _ticks(obj, parameter, value_ms, dt, minimum=1):
    n = int(round(value_ms / dt))
    if n < minimum or abs(n * dt - value_ms) > 1e-9 * max(1.0, abs(value_ms)):
        raise ParameterError(obj, parameter, f"{value_ms!r} ms is not a whole number (>= {minimum}) of ticks "
                             f"of dt={dt} ms", f"a multiple of {dt} ms")
    return n


def _positive(obj, parameter, value):
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise ParameterError(obj, parameter, f"{value!r}", "a finite value > 0")
    return v


# ------------------------------------------------------------------------------ spikes -> rates
_KERNELS = {"exponential": 0, "alpha": 1, "box": 2}


@njit(cache=True, nogil=True)  # nogil: converters overlap with other components in the kernel's threads
def _filter_window(kind, counts, a, b, ring, rpos, rsum, decay, h, t0, period, out_idx, out):
    """Advance the filter over the ticks of ``counts`` (n_ticks, G) starting at tick ``t0``.

    State: exponential ``a`` (sum of e^{-(t-s)/tau}); alpha ``a``, ``b`` (b = sum of
    (t-s)/tau^2 e^{-(t-s)/tau}, 1/ms); box ``ring``/``rsum`` (counts of the last W ticks).
    A spike at tick s counts at tick s itself (kernel value h(0)). Writes the raw filter value
    at every sample tick (multiple of ``period``) to ``out`` rows, in order; returns rows written.
    """
    n, G = counts.shape
    W = ring.shape[0]
    r = 0
    for s in range(n):
        t = t0 + s
        if kind == 0:
            for g in range(G):
                a[g] = a[g] * decay + counts[s, g]
        elif kind == 1:
            for g in range(G):
                b[g] = (b[g] + a[g] * h) * decay
                a[g] = a[g] * decay + counts[s, g]
        else:
            p = rpos[0]
            for g in range(G):
                rsum[g] += counts[s, g] - ring[p, g]
                ring[p, g] = counts[s, g]
            rpos[0] = (p + 1) % W
        if t % period == 0:
            for g in range(G):
                if kind == 2:
                    out[r, g] = rsum[g]
                elif kind == 1:
                    out[r, g] = b[g]
                else:
                    out[r, g] = a[g]
            out_idx[r] = t
            r += 1
    return r


class SpikesToRates(Component):
    """Population firing rate (Hz) of groups of neurons through a causal kernel.

    Input port ``"spikes"``; output port ``"rates"``: :class:`~neurohybrid.kernel.Series` of
    ``(n_samples, n_groups)`` rates in Hz at the ticks that are multiples of ``period``.

    The rate of group g at time t is ``1000/|g| · sum_{spikes s of g, s <= t} h(t - s)`` with
    (times in ms):

    * ``"exponential"``: ``h(u) = exp(-u/tau)/tau``;
    * ``"alpha"``: ``h(u) = u/tau^2 · exp(-u/tau)`` (peak at u = tau, value 1/(e·tau));
    * ``"box"``: ``h(u) = 1/width`` for ``0 <= u < width`` (spikes in the last ``width`` ms,
      including the current tick).

    Each kernel integrates to 1, so a Poisson input at rate r gives a mean output r (Hz).

    Parameters
    ----------
    name : str
    kernel : "exponential" | "alpha" | "box"
    tau : float, ms (exponential/alpha time constant)
    width : float, ms (box width; a whole number of ticks)
    period : float, ms (sampling period of the output; a whole number of ticks)
    size : int or None — population size, for ``groups=None`` (one group of indices 0..size-1)
    groups : list of index arrays (disjoint) or None — per-subset rates; indices on the input
        port that are in no group are ignored.
    mix : (n_out, n_groups) array or None — output column o is ``sum_g mix[o, g]·rate_g + bias[o]``
        (Hz; ``mix`` dimensionless): several groups pooled into one rate, e.g. the rates a
        scaffold seam drives several variables with. None: one column per group.
    bias : (n_out,) array in Hz or None (0), only with ``mix``.
    """

    inputs = {"spikes": "spikes"}
    outputs = {"rates": "rates"}

    def __init__(self, name: str, kernel: str = "exponential", tau: float = 10.0, width: float = 10.0,
                 period: float = 1.0, size: int | None = None, groups=None, record: bool = False, mix=None,
                 bias=None):
        super().__init__(name, record)
        if kernel not in _KERNELS:
            raise ParameterError(name, "kernel", f"{kernel!r}", ", ".join(_KERNELS))
        self.kernel, self.tau, self.width, self.period_ms = kernel, _positive(name, "tau", tau), \
            _positive(name, "width", width), _positive(name, "period", period)
        if groups is None:
            if size is None or int(size) < 1:
                raise ParameterError(name, "size", f"{size!r}", "a population size >= 1 (or give groups)")
            groups = [np.arange(int(size))]
        groups = [np.asarray(g, dtype=np.int64).ravel() for g in groups]
        if not groups or any(g.size == 0 or np.any(g < 0) for g in groups):
            raise ParameterError(name, "groups", "empty group or negative index", "non-empty arrays of indices >= 0")
        n_idx = int(max(g.max() for g in groups)) + 1
        self._group_of = np.full(n_idx, -1, dtype=np.int64)
        for gi, g in enumerate(groups):
            if np.any(self._group_of[g] >= 0) or np.unique(g).size != g.size:
                raise ParameterError(name, "groups", f"group {gi} overlaps another group or repeats an index",
                                     "disjoint groups of distinct indices")
            self._group_of[g] = gi
        self.groups = groups
        self._sizes = np.array([g.size for g in groups], dtype=float)
        self.mix, self.bias = self._mixing(name, mix, bias, len(groups))

    @staticmethod
    def _mixing(name, mix, bias, n_groups):
        if mix is None:
            if bias is not None:
                raise ParameterError(name, "bias", "a bias without a mix", "bias only with mix")
            return None, None
        m = np.array(mix, dtype=float)
        if m.ndim != 2 or m.shape[1] != n_groups or m.shape[0] < 1 or not np.all(np.isfinite(m)):
            raise ParameterError(name, "mix", f"shape {m.shape} or non-finite", f"finite (n_out, {n_groups}) weights")
        b = np.zeros(m.shape[0]) if bias is None else np.array(bias, dtype=float).ravel()
        if b.shape != (m.shape[0],) or not np.all(np.isfinite(b)):
            raise ParameterError(name, "bias", f"shape {b.shape} or non-finite", f"{m.shape[0]} finite rates in Hz")
        return m, b

    def bind(self, dt):
        super().bind(dt)
        self.period = _ticks(self.name, "period", self.period_ms, dt)
        self._W = _ticks(self.name, "width", self.width, dt) if self.kernel == "box" else 1
        self._decay = math.exp(-dt / self.tau)
        # kernel value scale: raw filter -> Hz per neuron
        G = len(self.groups)
        if self.kernel == "exponential":
            self._scale = 1000.0 / self.tau / self._sizes
        elif self.kernel == "alpha":
            self._scale = 1000.0 / self._sizes
        else:
            self._scale = 1000.0 / (self._W * dt) / self._sizes
        self._G = G
        self.reset()

    def reset(self):
        G = len(self.groups)
        self.tick = 0
        self._a = np.zeros(G)
        self._b = np.zeros(G)
        self._ring = np.zeros((getattr(self, "_W", 1), G))
        self._rpos = np.zeros(1, dtype=np.int64)
        self._rsum = np.zeros(G)
        self._records = {}

    def advance(self, t_stop, inbox):
        t0 = self.tick
        n = t_stop - t0
        G = self._G
        sp = inbox.get("spikes", Spikes.empty())
        counts = np.zeros((n, G))
        if len(sp):
            idx = sp.index
            ok = idx < self._group_of.size
            g = np.full(idx.shape, -1, dtype=np.int64)
            g[ok] = self._group_of[idx[ok]]
            m = g >= 0
            np.add.at(counts, (sp.ticks[m] - t0, g[m]), 1.0)
        n_out = (t_stop - 1) // self.period - (t0 - 1) // self.period  # multiples of period in [t0, t_stop)
        out = np.empty((n_out, G))
        out_t = np.empty(n_out, dtype=np.int64)
        r = _filter_window(_KERNELS[self.kernel], counts, self._a, self._b, self._ring, self._rpos, self._rsum,
                           self._decay, self.dt / self.tau ** 2, t0, self.period, out_t, out)
        assert r == n_out
        out *= self._scale  # raw filter value -> Hz per neuron of the group
        if self.mix is not None:
            out = out @ self.mix.T + self.bias
        self.tick = t_stop
        return self._keep({"rates": Series(out_t, out, self.period, "rates")})

    def state(self):
        return copy.deepcopy({"tick": self.tick, "a": self._a, "b": self._b, "ring": self._ring, "rpos": self._rpos,
                              "rsum": self._rsum, "records": self._records})

    def restore(self, state):
        s = copy.deepcopy(state)
        self.tick, self._a, self._b, self._ring = s["tick"], s["a"], s["b"], s["ring"]
        self._rpos, self._rsum, self._records = s["rpos"], s["rsum"], s["records"]

    def describe(self):
        return {**super().describe(), "kernel": self.kernel, "tau_ms": self.tau, "width_ms": self.width,
                "period_ms": self.period_ms, "n_groups": len(self.groups),
                "group_sizes": [int(g.size) for g in self.groups], "units": "Hz",
                **({"mix": self.mix.tolist(), "bias_hz": self.bias.tolist()} if self.mix is not None else {})}


# ------------------------------------------------------------------------------ rates -> spikes
_PROCESSES = {"poisson": 0, "gamma": 1, "refractory": 2}


@njit(cache=True, nogil=True)
def _generate(process, key, t0, n, s_ticks, s_vals, rate, chan, gen_id, dt_s, order, ref_ticks,
              last, phase, thresh, out_t, out_i):
    """Spikes of ``len(chan)`` targets over ticks [t0, t0 + n). ``rate`` (per channel, Hz) is the
    zero-order-held input, updated in place at the sample ticks ``s_ticks``. Every draw is keyed
    by (generator id, tick) — or, for gamma, (generator id, tick of its previous spike) — so it
    is independent of window boundaries. Returns the number of spikes written."""
    N = chan.size
    m = 0
    si = 0
    for s in range(n):
        t = t0 + s
        while si < s_ticks.size and s_ticks[si] <= t:
            for c in range(rate.size):
                rate[c] = s_vals[si, c]
            si += 1
        for i in range(N):
            lam = rate[chan[i]]
            if lam <= 0.0:
                continue
            gid = gen_id[i]
            if process == 0:
                k = rng.poisson(key, gid, t, lam * dt_s)
                for _ in range(k):
                    if m < out_t.size:
                        out_t[m] = t
                        out_i[m] = i
                    m += 1
            elif process == 2:
                if last[i] >= 0 and t - last[i] < ref_ticks:
                    continue
                # dead-time Poisson: free rate lam' = lam / (1 - lam * t_ref) keeps the mean rate lam
                free = 1.0 - lam * ref_ticks * dt_s
                lam2 = lam / free if free > 1e-9 else 1e300
                if rng.uniform(key, gid, t) < -math.expm1(-lam2 * dt_s):
                    last[i] = t
                    if m < out_t.size:
                        out_t[m] = t
                        out_i[m] = i
                    m += 1
            else:
                # gamma renewal in operational time: spike when the integral of lam reaches a
                # Gamma(order)/order threshold drawn at the previous spike
                if thresh[i] < 0.0:
                    thresh[i] = rng.gamma(key, gid, last[i], order) / order
                phase[i] += lam * dt_s
                if phase[i] >= thresh[i]:
                    phase[i] = 0.0
                    last[i] = t
                    thresh[i] = rng.gamma(key, gid, t, order) / order
                    if m < out_t.size:
                        out_t[m] = t
                        out_i[m] = i
                    m += 1
    return m


@njit(cache=True, nogil=True)
def _generate_pooled(key, pick_key, t0, n, s_ticks, s_vals, rate, members, starts, dt_s, out_t, out_i):
    """Independent Poisson trains of the targets of each channel, drawn per channel and tick:
    the channel's total count K ~ Poisson(n_c·rate·dt) (keyed by (channel, tick)), then each of
    the K spikes goes to a target drawn uniformly (keyed by (channel, tick, k)). The union of n_c
    independent Poisson processes of one rate, split uniformly, *is* n_c independent Poisson
    processes, so this is exact in distribution and costs O(spikes) instead of O(targets) per
    tick. Spikes are ordered by tick, then target. Returns the number of spikes (writes at
    most out_t.size)."""
    m = 0
    si = 0
    n_ch = starts.size - 1
    for s in range(n):
        t = t0 + s
        while si < s_ticks.size and s_ticks[si] <= t:
            for c in range(rate.size):
                rate[c] = s_vals[si, c]
            si += 1
        first = m
        for c in range(n_ch):
            size = starts[c + 1] - starts[c]
            if size == 0 or rate[c] <= 0.0:
                continue
            k = rng.poisson(key, c, t, rate[c] * dt_s * size)
            for j in range(k):
                pick = starts[c] + int(rng.uniform_at(pick_key, c, t, j) * size)
                if m < out_t.size:
                    out_t[m] = t
                    out_i[m] = members[pick]
                m += 1
        if m <= out_t.size:  # order the tick's few spikes by target (insertion sort)
            for a in range(first + 1, m):
                x = out_i[a]
                b = a - 1
                while b >= first and out_i[b] > x:
                    out_i[b + 1] = out_i[b]
                    b -= 1
                out_i[b + 1] = x
    return m


class RatesToSpikes(Component):
    """Spike trains of ``n`` target neurons driven by a rate signal (Hz).

    Input port ``"rates"``: a :class:`~neurohybrid.kernel.Series` with ``n_channels`` columns;
    target ``i`` follows channel ``channel[i]`` (default: target i <- channel i, or channel 0
    for all when there is one channel). The rate is held from one sample to the next and is 0
    before the first sample. Output port ``"spikes"``: (tick, target index).

    Processes:

    * ``"poisson"``: inhomogeneous Poisson; each tick emits ``Poisson(rate·dt)`` spikes per
      target (a repeated (tick, index) is a multiple spike, as NEST's poisson_generator). Drawn
      per channel and tick (total count, then uniform targets: exact in distribution, cost per
      spike rather than per target) unless ``shared``.
    * ``"gamma"``: gamma renewal process of integer or real ``order`` (order 1 is Poisson), made
      inhomogeneous by time rescaling; CV of the ISIs = 1/sqrt(order). At most one spike per
      tick. The first interval starts at t = 0 (as if a spike had just occurred).
    * ``"refractory"``: Poisson with dead time ``t_ref`` ms, free rate ``r/(1 - r·t_ref)`` so the
      mean rate is ``r`` (needs ``r·t_ref < 1``).

    Randomness: stream ``rng.stream_key(seed, name, "rates_to_spikes")``, keyed by (target
    index, tick) — or by (channel, tick) with ``shared=True``, where all targets of a channel
    receive the same train; independent Poisson trains use the streams ``(..., "pooled")`` and
    ``(..., "pick")`` keyed by (channel, tick). Results do not depend on the macro-step.
    """

    inputs = {"rates": "rates"}
    outputs = {"spikes": "spikes"}

    def __init__(self, name: str, n: int, process: str = "poisson", seed: int = 0, channel=None,
                 order: float = 2.0, t_ref: float = 2.0, shared: bool = False, record: bool = False):
        super().__init__(name, record)
        if process not in _PROCESSES:
            raise ParameterError(name, "process", f"{process!r}", ", ".join(_PROCESSES))
        if int(n) < 1:
            raise ParameterError(name, "n", f"{n!r}", "a number of targets >= 1")
        self.n, self.process, self.seed, self.shared = int(n), process, int(seed), bool(shared)
        self.order = _positive(name, "order", order)
        self.t_ref = float(t_ref)
        if process == "refractory" and not (math.isfinite(self.t_ref) and self.t_ref >= 0):
            raise ParameterError(name, "t_ref", f"{t_ref!r}", "a dead time >= 0 ms")
        self.channel = None if channel is None else np.asarray(channel, dtype=np.int64).ravel()
        if self.channel is not None and (self.channel.size != self.n or np.any(self.channel < 0)):
            raise ParameterError(name, "channel", f"shape {self.channel.shape}", f"{self.n} channel indices >= 0")
        self.key = rng.stream_key(self.seed, name, "rates_to_spikes")
        self._pool_keys = (rng.stream_key(self.seed, name, "rates_to_spikes", "pooled"),
                           rng.stream_key(self.seed, name, "rates_to_spikes", "pick"))

    def bind(self, dt):
        super().bind(dt)
        self._ref = int(round(self.t_ref / dt))
        self.reset()

    def reset(self):
        self.tick = 0
        self._rate = None
        self._last = np.full(self.n, -1, dtype=np.int64)
        self._phase = np.zeros(self.n)
        self._thresh = np.full(self.n, -1.0)
        self._records = {}

    def _channels(self, n_ch):
        if self.channel is not None:
            if self.channel.max() >= n_ch:
                raise ParameterError(self.name, "channel", f"channel {int(self.channel.max())} but the input has "
                                     f"{n_ch} columns", f"indices < {n_ch}")
            return self.channel
        if n_ch == 1:
            return np.zeros(self.n, dtype=np.int64)
        if n_ch != self.n:
            raise ParameterError(self.name, "rates", f"input has {n_ch} columns for {self.n} targets",
                                 f"1 or {self.n} columns, or a channel map")
        return np.arange(self.n, dtype=np.int64)

    def advance(self, t_stop, inbox):
        t0 = self.tick
        msg = inbox.get("rates")
        if msg is not None and len(msg):
            vals = np.ascontiguousarray(msg.values, dtype=float).reshape(len(msg), -1)
            if not np.all(np.isfinite(vals)) or np.any(vals < 0):
                raise ParameterError(self.name, "rates", "negative or non-finite rate", "finite rates >= 0 Hz")
            if self._rate is None:
                self._rate = np.zeros(vals.shape[1])
                self._chan = self._channels(vals.shape[1])
                self._members = np.argsort(self._chan, kind="stable").astype(np.int64)
                self._starts = np.searchsorted(self._chan[self._members], np.arange(vals.shape[1] + 1)).astype(np.int64)
            ticks = np.asarray(msg.ticks, dtype=np.int64)
        else:
            vals, ticks = np.zeros((0, 1)), np.zeros(0, dtype=np.int64)
        self.tick = t_stop
        if self._rate is None:  # nothing received yet: rate 0
            return self._keep({"spikes": Spikes.empty()})
        gen = self._chan if self.shared else np.arange(self.n, dtype=np.int64)
        est = int(max(self._rate.max(), vals.max() if vals.size else 0.0) * (t_stop - t0) * self.dt * 1e-3 * self.n)
        cap = max(64, 2 * est + 64)
        while True:
            out_t = np.empty(cap, dtype=np.int64)
            out_i = np.empty(cap, dtype=np.int64)
            state = (self._rate.copy(), self._last.copy(), self._phase.copy(), self._thresh.copy())
            if self.process == "poisson" and not self.shared:
                m = _generate_pooled(self._pool_keys[0], self._pool_keys[1], t0, t_stop - t0, ticks, vals, state[0],
                                     self._members, self._starts, self.dt * 1e-3, out_t, out_i)
            else:
                m = _generate(_PROCESSES[self.process], self.key, t0, t_stop - t0, ticks, vals, state[0], self._chan,
                              gen, self.dt * 1e-3, self.order, self._ref, state[1], state[2], state[3], out_t, out_i)
            if m <= cap:
                break
            cap = m  # rerun from the saved state with room for every spike (draws are keyed, same result)
        self._rate, self._last, self._phase, self._thresh = state
        return self._keep({"spikes": Spikes(out_t[:m], out_i[:m])})

    def state(self):
        return copy.deepcopy({"tick": self.tick, "rate": self._rate, "chan": getattr(self, "_chan", None),
                              "last": self._last, "phase": self._phase, "thresh": self._thresh,
                              "records": self._records})

    def restore(self, state):
        s = copy.deepcopy(state)
        self.tick, self._rate, self._last, self._phase, self._thresh = s["tick"], s["rate"], s["last"], s["phase"], \
            s["thresh"]
        if s["chan"] is not None:
            self._chan = s["chan"]
            self._members = np.argsort(self._chan, kind="stable").astype(np.int64)
            self._starts = np.searchsorted(self._chan[self._members],
                                           np.arange(self._rate.size + 1)).astype(np.int64)
        self._records = s["records"]

    def describe(self):
        pooled = self.process == "poisson" and not self.shared
        return {**super().describe(), "n": self.n, "process": self.process, "seed": self.seed,
                "stream": [self.seed, self.name, "rates_to_spikes"] + (["pooled"] if pooled else []),
                "stream_key": int(self._pool_keys[0] if pooled else self.key),
                "shared": self.shared, "order": self.order if self.process == "gamma" else None,
                "t_ref_ms": self.t_ref if self.process == "refractory" else None}


# ------------------------------------------------------------------------------ fields
class FieldSource(Component):
    """A named field computed from an input: ``field = fn(x)`` sampled every ``period`` ms.

    Input port ``"in"`` (``input_kind`` "rates" or "fields"): held from sample to sample
    (``initial`` before the first sample). Output port ``"field"``: a ``"fields"``
    :class:`~neurohybrid.kernel.Series` named ``field`` at the multiples of ``period``.
    ``fn`` maps the held input row (1-d array) to a scalar or a 1-d array (default: identity);
    ``units`` is recorded in the manifest. Receivers declare what the field modulates on their
    own input :class:`~neurohybrid.kernel.Port` (``modulates="gain"``, ...). ``initial=None``:
    no sample before the first input arrives (the targets keep their own parameters).
    """

    outputs: dict = {}

    def __init__(self, name: str, field: str, fn=None, input_kind: str = "rates", period: float = 1.0,
                 initial=0.0, units: str = "1", record: bool = False):
        super().__init__(name, record)
        if input_kind not in ("rates", "fields"):
            raise ParameterError(name, "input_kind", f"{input_kind!r}", "'rates' or 'fields'")
        self.field, self.fn, self.units = str(field), fn, units
        self.period_ms = _positive(name, "period", period)
        self.initial = None if initial is None else np.atleast_1d(np.asarray(initial, dtype=float))
        self.inputs = {"in": Port(input_kind)}
        self.outputs = {"field": Port("fields", field=self.field)}

    def bind(self, dt):
        super().bind(dt)
        self.period = _ticks(self.name, "period", self.period_ms, dt)
        self.reset()

    def reset(self):
        self.tick = 0
        self._held = None if self.initial is None else self.initial.copy()
        self._records = {}

    def advance(self, t_stop, inbox):
        t0 = self.tick
        msg = inbox.get("in")
        first = -(-t0 // self.period) * self.period
        ts = np.arange(first, t_stop, self.period, dtype=np.int64)
        rows, kept = [], []
        j = 0
        n_in = len(msg) if msg is not None else 0
        for t in ts:
            while j < n_in and msg.ticks[j] <= t:
                self._held = np.asarray(msg.values[j], dtype=float).ravel().copy()
                j += 1
            if self._held is None:  # initial=None: nothing to send before the first input
                continue
            v = self._held if self.fn is None else self.fn(self._held.copy())
            rows.append(np.atleast_1d(np.asarray(v, dtype=float)))
            kept.append(t)
        ts = np.asarray(kept, dtype=np.int64)
        if j < n_in:
            self._held = np.asarray(msg.values[n_in - 1], dtype=float).ravel().copy()
        self.tick = t_stop
        vals = np.vstack(rows) if rows else np.zeros((0, 1))
        return self._keep({"field": Series(ts, vals, self.period, "fields", self.field)})

    def state(self):
        return copy.deepcopy({"tick": self.tick, "held": self._held, "records": self._records})

    def restore(self, state):
        s = copy.deepcopy(state)
        self.tick, self._held, self._records = s["tick"], s["held"], s["records"]

    def describe(self):
        return {**super().describe(), "field": self.field, "period_ms": self.period_ms, "units": self.units,
                "fn": getattr(self.fn, "__name__", repr(self.fn)) if self.fn is not None else "identity"}
