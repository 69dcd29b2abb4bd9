"""Spike-timing-dependent plasticity in the float emulator, with NEST 3.10's semantics.

A :class:`PlasticTable` delivers one plastic projection edge (``STDPSynapse``: NEST's
``stdp_synapse``; ``VogelsSTDPSynapse``: ``vogels_sprekeler_synapse``; see
:mod:`neurohybrid.graph.synapses`). Each synapse holds its weight, its presynaptic trace ``K+``
and the stamp of its previous presynaptic spike; the target cells' spikes are kept in a
:class:`~.history.PostHistory`. As in NEST, a synapse changes only when a presynaptic spike
reaches it: first one potentiation per postsynaptic spike since its previous presynaptic
spike, then one depression by the postsynaptic trace, then it transmits the new weight.

Time, in ticks (stamps: a spike emitted in tick ``e`` has stamp ``e + 1``). A synapse of total
delay ``d`` and dendritic part ``d_d = round(f d)`` (``f``: ``dendritic_delay_fraction``) sees a
presynaptic spike ``d - d_d`` after its emission and a postsynaptic one ``d_d`` after its
emission; pairing uses the difference ``D = d_d - (d - d_d)``: the postsynaptic stamps in
``(t_last - D, t_spike - D]`` potentiate, the trace at ``t_spike - D`` depresses (NEST's
``get_history``/``get_K_value``; ``f = 1`` gives NEST's ``D = d``).

When it is processed. Presynaptic spikes queue in the table; at the start of each window
``[s, s + n)`` a synapse's spike is processed as soon as every postsynaptic spike it pairs with
is known (emitted before ``s``: ``e - D < s``), and at the latest in the window where it
arrives (``e + d < s + n``), so its weight is in the ring before it is read. The engine keeps
windows no longer than ``2 d_d`` (:func:`window_bound`), which makes the two coincide whenever
``d_d >= 1``: the result is then exact. With ``f = 1`` and a neuron as the source this is the
first window after the spike, where NEST delivers it too. (``d_d = 0``, all-axonal: the windows
are one tick and a postsynaptic spike in the very tick a presynaptic one arrives counts as
after it.)

Fields: ``plasticity_rate`` (per target cell, dimensionless) scales every weight change.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from neurohybrid.errors import ParameterError

from .history import DECAY_TABLE_TICKS, PostHistory, _decay, decay_table
from .ring import add_fixed, to_fixed
from .tables import DeliveryTable, _per_synapse, _scatter_rows, each_spike

#: rule codes of the kernel
PAIR, VOGELS = 0, 1


@njit(cache=True, inline="always")
def _at(arr, k):
    """A per-synapse parameter: one value for all (size 1) or one per synapse."""
    return arr[0] if arr.size == 1 else arr[k]


@njit(cache=True, inline="always")
def _power(x, mu):
    """``x ** mu``, exactly, without calling pow for the common exponents 0 and 1."""
    if mu == 0.0:
        return 1.0
    if mu == 1.0:
        return x
    return x ** mu


@njit(cache=True, inline="always")
def _facilitate(rule, w, k, lam, mu_plus, w_min, w_max):
    """One potentiation of weight ``w`` by trace value ``k`` (lam: learning rate x field)."""
    if rule == PAIR:  # NEST stdp_synapse::facilitate_, in weights normalised to [w_min, w_max]
        span = w_max - w_min
        x = (w - w_min) / span
        norm = x + lam * _power(1.0 - x, mu_plus) * k
        return norm * span + w_min if norm < 1.0 else w_max
    new = w + lam * k  # vogels_sprekeler_synapse::facilitate_
    return new if new < w_max else w_max


@njit(cache=True, inline="always")
def _depress(rule, w, k, lam_minus, mu_minus, w_min, w_max):
    """One depression of weight ``w`` (pair rule: by trace value ``k``; Vogels: by a constant)."""
    if rule == PAIR:  # NEST stdp_synapse::depress_
        span = w_max - w_min
        x = (w - w_min) / span
        norm = x - lam_minus * _power(x, mu_minus) * k
        return norm * span + w_min if norm > 0.0 else w_min
    new = w - lam_minus  # vogels_sprekeler_synapse::depress_: alpha eta
    return new if new > w_min else w_min


@njit(cache=True, inline="always")
def _trace_before(t, stamp, kminus, head, count, c, known, tau_minus_inv, table):
    """NEST's get_K_value(t): the trace just before stamp t from the newest entry strictly
    before it (only entries with stamps <= ``known`` exist yet); ``table``: decay_table of
    ``tau_minus_inv`` (per tick)."""
    mask = stamp.shape[1] - 1  # capacities are powers of two
    for j in range(count[c] - 1, -1, -1):
        q = stamp[c, (head[c] + j) & mask]
        if q < t and q <= known:
            return kminus[c, (head[c] + j) & mask] * _decay(table, t - q, tau_minus_inv)
    return 0.0


@njit(cache=True, inline="always")
def _first_after(t, stamp, head, count, c):
    """Index (oldest = 0) of cell c's first history entry with a stamp > t, searched from the
    newest: a synapse reads only the few spikes since its previous presynaptic spike."""
    mask = stamp.shape[1] - 1  # capacities are powers of two
    j = count[c]
    while j > 0 and stamp[c, (head[c] + j - 1) & mask] > t:
        j -= 1
    return j


@njit(parallel=True, cache=True)
def _process(ev_tick, ev_src, ev_seen, s, n, s_prev, n_prev, indptr, n_src, col, first_col, delay, transit,
             shift, shift_by_synapse, weight, kplus, tlast, rule, tau_plus, lam_plus, lam_minus, mu_plus, mu_minus,
             w_min, w_max, rate, stamp, kminus, head, count, tau_minus_inv, plus_table, minus_table,
             ring_hi, ring_lo, scale, n_slots, n_blocks, dt, out_changed):
    """Process the queued presynaptic spikes that are due at the window [s, s + n) (module
    docstring) for every synapse of their rows, thread block by thread block; returns nothing,
    ``out_changed[b]`` counts the synapses block b processed. ``plus_table``: decay_table of
    dt / tau_plus when tau_plus is one value for all synapses (else empty)."""
    mask = stamp.shape[1] - 1  # capacities are powers of two
    for b in prange(n_blocks):
        base = b * n_src
        done = 0
        for i in range(ev_tick.size):
            e = ev_tick[i]
            row = base + ev_src[i]
            for k in range(indptr[row], indptr[row + 1]):
                d = np.int64(delay[k]) + transit
                D = shift[k] if shift_by_synapse else shift[d]
                if not (e - D < s or e + d < s + n):
                    continue
                if ev_seen[i] and (e - D < s_prev or e + d < s_prev + n_prev):
                    continue  # processed at the previous window already
                c = col[k] - first_col
                t_spike = e + 1
                upper = min(t_spike - D, s)  # post stamps <= upper pair with it (<= s: known)
                w, tl, kp = weight[k], tlast[k], kplus[k]
                r = _at(rate, c)
                lam, lam_m = _at(lam_plus, k) * r, _at(lam_minus, k) * r
                mu_p, mu_m = _at(mu_plus, k), _at(mu_minus, k)
                lo, hi = _at(w_min, k), _at(w_max, k)
                per_tick = dt / _at(tau_plus, k)
                j = _first_after(tl - D, stamp, head, count, c)
                while j < count[c]:  # facilitation: post stamps in (tl - D, upper]
                    q = stamp[c, (head[c] + j) & mask]
                    if q > upper:
                        break
                    w = _facilitate(rule, w, kp * _decay(plus_table, q + D - tl, per_tick), lam, mu_p, lo, hi)
                    j += 1
                km = _trace_before(t_spike - D, stamp, kminus, head, count, c, s, tau_minus_inv, minus_table)
                if rule == PAIR:
                    w = _depress(rule, w, km, lam_m, mu_m, lo, hi)
                else:  # Vogels: the postsynaptic trace potentiates, then the constant depression
                    w = _facilitate(rule, w, km, lam, mu_p, lo, hi)
                    w = _depress(rule, w, 0.0, lam_m, mu_m, lo, hi)
                weight[k] = w
                kplus[k] = kp * _decay(plus_table, t_spike - tl, per_tick) + 1.0
                tlast[k] = t_spike
                w_hi, w_lo = to_fixed(w, scale)
                add_fixed(ring_hi, ring_lo, (e + d) % n_slots, col[k], w_hi, w_lo)
                done += 1
        out_changed[b] = done


@njit(cache=True)
def _history_bounds(indptr, col, first_col, delay, transit, shift, shift_by_synapse, tlast, n_cells, out):
    """Per target cell, the smallest ``t_last - D`` over its synapses: stamps at or before it
    are not read again (PostHistory pruning). One thread: rows write scattered cells."""
    out[:] = np.iinfo(np.int64).max
    for k in range(col.size):
        d = np.int64(delay[k]) + transit
        D = shift[k] if shift_by_synapse else shift[d]
        c = col[k] - first_col
        v = tlast[k] - D
        if v < out[c]:
            out[c] = v


def plastic_table(block, edge, offsets, dt, n_blocks, n_sources, transmitters=None):
    """The delivery table of plastic edge ``edge`` (its synapse model's kind of table);
    ``transmitters``: the engine's volume transmitters by node name (three-factor edges)."""
    if edge.synapse == "DopamineSTDPSynapse":
        from .dopamine import DopamineTable
        transmitter = (transmitters or {}).get(edge.modulator)
        if transmitter is None:
            raise ParameterError(f"Projection({edge.name})", "modulator",
                                 f"{edge.modulator!r} is not a volume transmitter of this engine",
                                 ", ".join(transmitters or {}) or "a VolumeTransmitter population")
        return DopamineTable(block, [edge], offsets, dt, n_blocks, n_sources, transmitter)
    return PlasticTable(block, [edge], offsets, dt, n_blocks, n_sources)


def _ticks(ms, dt: float) -> np.ndarray:
    return np.rint(np.asarray(ms, dtype=float) / dt).astype(np.int64)


def window_bound(edges, dt: float) -> int | None:
    """The longest window (ticks) that keeps the plastic edges exact: ``2 d_d`` of the synapse
    with the shortest dendritic delay (at least 1), the shortest delay of a dopamine-modulated
    edge (its spikes are processed a window after they are emitted), None without plastic edges."""
    bound = None
    for e in edges:
        if not e.pre_index.size:
            continue
        total = _ticks(_flat(e.values["delay"]), dt) + int(round(e.transit / dt))
        if e.synapse == "DopamineSTDPSynapse":  # processed a window after emission: arrival must be later
            bound = int(total.min()) if bound is None else min(bound, int(total.min()))
            continue
        f = _flat(e.values["dendritic_delay_fraction"])
        dendritic = np.rint(f * total) if f.size == total.size or f.size == 1 else np.rint(f[0] * total)
        b = max(1, int(2 * dendritic.min()))
        bound = b if bound is None else min(bound, b)
    return bound


def _flat(arr) -> np.ndarray:
    arr = np.asarray(arr)
    return arr[:1] if arr.size and arr.strides == (0,) else arr


class PlasticTable(DeliveryTable):
    """Delivery of one STDP edge into its target block, with the synapses' plastic state (see
    the module docstring). ``weights()`` and :meth:`state` give them in the edge's own order."""

    RULES = {"STDPSynapse": PAIR, "VogelsSTDPSynapse": VOGELS}

    def __init__(self, block, edges, offsets, dt, n_blocks, n_sources):
        super().__init__(block, edges, offsets, dt, n_blocks, n_sources)
        (edge,) = edges
        self.edge, self.dt, self.edges, self._offsets = edge, dt, list(edges), offsets
        self.rule = self.RULES[edge.synapse]
        self.first_col = block.spec.receptors.index(edge.receptor) * block.node.size
        self.transit = int(round(edge.transit / dt))
        self._timing(edge)
        self._parameters(edge)
        self.rate = np.ones(1)
        self.history = PostHistory(block.node.size, self.tau_minus, dt)
        self.plus_table = (decay_table(DECAY_TABLE_TICKS, dt / float(self.tau_plus[0])) if self.tau_plus.size == 1
                           else np.zeros(0))
        self.recorded = None  # (synapse positions in table order, sampling ticks)
        self.reset()

    # --- construction --------------------------------------------------------------------------
    def _scatter(self, values: np.ndarray, dtype=np.float64) -> np.ndarray:
        """A per-synapse array in table order; a constant stays one value."""
        if values.size == 0 or values.strides == (0,) or np.all(values == values[0]):
            return np.array([values[0] if values.size else 0.0], dtype=dtype)
        out = np.empty(self.col.size, dtype=dtype)
        cursor = self.indptr[:-1].copy()
        e = self.edge
        _scatter_rows(e.pre_index, e.post_index, self._offsets[e.pre], 0, self.block.node.size, self.n_blocks,
                      self.n_src, cursor, _per_synapse(e.values["delay"], self.delay_dtype,
                                                       lambda x: np.rint(x / self.dt)),
                      _per_synapse(values, dtype), np.empty_like(self.col), np.empty_like(self.delay), out)
        return out

    def _timing(self, edge) -> None:
        """The pairing shift D (ticks) per total delay, or per synapse when the dendritic
        fraction varies."""
        f = _flat(edge.values["dendritic_delay_fraction"])
        if f.size == 1 or np.all(f == f[0]):
            total = np.arange(int(self.delay.max(initial=0)) + self.transit + 1)
            dendritic = np.rint(float(f[0]) * total).astype(np.int64)
            self.shift, self.shift_by_synapse = 2 * dendritic - total, False
        else:
            total = self.delay.astype(np.int64) + self.transit
            frac = self._scatter(np.asarray(edge.values["dendritic_delay_fraction"], dtype=float))
            dendritic = np.rint(frac * total).astype(np.int64)
            self.shift, self.shift_by_synapse = 2 * dendritic - total, True

    def _parameters(self, edge) -> None:
        v = edge.values
        get = lambda name: self._scatter(np.asarray(v[name], dtype=float))  # noqa: E731
        self.w_min, self.w_max = get("w_min"), get("w_max")
        if self.rule == PAIR:
            self.tau_plus = get("tau_plus")
            a_plus, a_minus = np.asarray(v["A_plus"], float), np.asarray(v["A_minus"], float)
            # NEST's lambda and alpha (pyNN.nest: alpha = A_minus / A_plus); depression alpha * lambda
            alpha = np.divide(a_minus, a_plus, out=np.zeros_like(a_minus), where=a_plus != 0)
            self.lam_plus = self._scatter(a_plus)
            self.lam_minus = self._scatter(np.where(a_plus != 0, alpha * a_plus, a_minus))
            self.mu_plus, self.mu_minus = get("mu_plus"), get("mu_minus")
            tau_minus = _flat(np.asarray(v["tau_minus"], float))
        else:
            self.tau_plus = get("tau")
            eta = np.asarray(v["eta"], float)
            alpha = 2.0 * np.asarray(v["rho"], float) * np.asarray(v["tau"], float) / 1000.0
            self.lam_plus, self.lam_minus = self._scatter(eta), self._scatter(alpha * eta)
            self.mu_plus = self.mu_minus = np.zeros(1)
            tau_minus = _flat(np.asarray(v["tau"], float))
        if np.any(tau_minus != tau_minus[0]):
            raise ParameterError(f"Projection({edge.name})", "tau_minus" if self.rule == PAIR else "tau",
                                 "differs between synapses; the postsynaptic trace belongs to the target cell",
                                 "one value per projection")
        self.tau_minus = float(tau_minus[0])

    def _weight_encoding(self, edges) -> None:
        self.wlut, self.counted = None, None
        self.ring.in_use = True
        self._encoders = [lambda w: _per_synapse(w, np.float64)] * len(edges)

    def reset(self) -> None:
        """Weights back to the edge's, no spikes seen (NEST: K+ = 0, t_last = 0)."""
        self.weight = self._scatter_weights()
        self.kplus = np.zeros(self.col.size)
        self.tlast = np.zeros(self.col.size, dtype=np.int64)
        self.history.reset()
        self.queue = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.bool_))
        self.last_window = (0, 0)

    def _scatter_weights(self) -> np.ndarray:
        w = self._scatter(np.asarray(self.edge.values["weight"], dtype=float))
        return np.broadcast_to(w, self.col.shape).copy() if w.size == 1 else w

    # --- running ------------------------------------------------------------------------------
    def deliver(self, ticks, sources, mult, n_slots) -> None:
        """Queue presynaptic spikes (emission ticks in the engine's frame, global source ids);
        several spikes of one source in one tick are separate spikes."""
        if not ticks.size:
            return
        ticks, sources = each_spike(ticks, sources, mult)
        mine = self._rows_used(sources)
        if not mine.any():
            return
        t, src, seen = self.queue
        self.queue = (np.concatenate([t, ticks[mine] - self.transit]), np.concatenate([src, sources[mine]]),
                      np.concatenate([seen, np.zeros(int(mine.sum()), np.bool_)]))

    def _rows_used(self, sources: np.ndarray) -> np.ndarray:
        """Which global sources have synapses in this table."""
        if not hasattr(self, "_has_rows"):
            per_source = np.zeros(self.n_src, dtype=bool)
            lengths = np.diff(self.indptr).reshape(self.n_blocks, self.n_src)
            per_source[np.any(lengths > 0, axis=0)] = True
            self._has_rows = per_source
        return self._has_rows[sources]

    deliver_dense = DeliveryTable.deliver_dense_as_spikes

    def process(self, s: int, n: int, n_slots: int) -> None:
        """Process the spikes due at the window [s, s + n) (module docstring) and drop the ones
        every synapse has seen."""
        t, src, seen = self.queue
        if t.size:
            if t.size > 1 and np.any(t[1:] < t[:-1]):
                order = np.argsort(t, kind="stable")
                t, src, seen = t[order], src[order], seen[order]
            changed = np.zeros(self.n_blocks, dtype=np.int64)
            s_prev, n_prev = self.last_window
            _process(t, src, seen, s, n, s_prev, n_prev, self.indptr, self.n_src, self.col, self.first_col,
                     self.delay, self.transit, self.shift, self.shift_by_synapse, self.weight, self.kplus,
                     self.tlast, self.rule, self.tau_plus, self.lam_plus, self.lam_minus, self.mu_plus,
                     self.mu_minus, self.w_min, self.w_max, self.rate, self.history.stamp, self.history.kminus,
                     self.history.head, self.history.count, self.history.tau_minus_inv, self.plus_table,
                     self.history.decay_table, self.ring.hi,
                     self.ring.lo, self.ring.scale, n_slots, self.n_blocks, self.dt, changed)
            d_min = int(self.shift.min())
            d_max = int(self.delay.max(initial=0)) + self.transit
            finished = (t - d_min < s) | (t + d_max < s + n)
            self.queue = (t[~finished], src[~finished], np.ones(int((~finished).sum()), np.bool_))
        self.last_window = (s, n)

    def post_spikes(self, ticks: np.ndarray, cells: np.ndarray) -> None:
        """Spikes of the target cells (emission ticks in order, cell indices)."""
        if ticks.size:
            self.history.append(ticks, cells, self._bounds)

    def _bounds(self) -> np.ndarray:
        out = np.empty(self.block.node.size, dtype=np.int64)
        _history_bounds(self.indptr, self.col, self.first_col, self.delay, self.transit, self.shift,
                        self.shift_by_synapse, self.tlast, self.block.node.size, out)
        return out

    def set_rate(self, values) -> None:
        """The ``plasticity_rate`` field: a factor (dimensionless, per target cell or one for
        all) on every weight change from now on."""
        v = np.asarray(values, dtype=float).ravel()
        self.rate = np.ones(1) if np.all(v == 1.0) else np.broadcast_to(v, (self.block.node.size,)).copy()

    # --- reading ------------------------------------------------------------------------------
    def synapse_order(self) -> np.ndarray:
        """For each table position, the synapse's number in the edge's own order."""
        number = np.empty(self.col.size, dtype=np.int64)
        e = self.edge
        _scatter_rows(e.pre_index, e.post_index, self._offsets[e.pre], 0, self.block.node.size, self.n_blocks,
                      self.n_src, self.indptr[:-1].copy(),
                      _per_synapse(e.values["delay"], self.delay_dtype, lambda d: np.rint(d / self.dt)),
                      np.arange(e.pre_index.size, dtype=np.int64), np.empty_like(self.col),
                      np.empty_like(self.delay), number)
        return number

    def _in_edge_order(self, values: np.ndarray) -> np.ndarray:
        if not hasattr(self, "_order"):
            self._order = self.synapse_order()
        out = np.empty_like(values)
        out[self._order] = values
        return out

    def weights(self) -> np.ndarray:
        """The current weights (PyNN units), in the edge's synapse order."""
        return self._in_edge_order(self.weight)

    def record_weights(self, index: np.ndarray, every: int) -> None:
        """Sample the weights of synapses ``index`` (edge order) every ``every`` ticks."""
        if not hasattr(self, "_order"):
            self._order = self.synapse_order()
        position = np.empty(self._order.size, dtype=np.int64)
        position[self._order] = np.arange(self._order.size)
        self.recorded = (position[np.asarray(index, dtype=np.int64)], int(every))

    def samples(self, s: int, n: int):
        """Rows of recorded weights for the sampling times in (s, s + n] (the weights in effect
        during the window), or None."""
        if self.recorded is None:
            return None
        positions, every = self.recorded
        ends = s + 1 + np.arange(n)
        m = int(np.count_nonzero(ends % every == 0))
        return np.repeat(self.weight[positions][None, :], m, axis=0) if m else None

    def initial_sample(self) -> np.ndarray | None:
        return None if self.recorded is None else self.weight[self.recorded[0]][None, :].copy()

    # --- snapshots ----------------------------------------------------------------------------
    def state(self) -> dict:
        """Per synapse in the edge's order: ``weight`` (PyNN units), ``kplus``, ``tlast`` (stamp,
        ticks); the target cells' history (``history/...``); the queued presynaptic spikes
        (``queue/ticks``, ``queue/ids``: true emission ticks, global sources) with ``queue_seen``
        as 0/1 in ``queue_flags/ticks`` (a spike list, so its length may vary); the previous
        window (``window``: [s, n])."""
        t, src, seen = self.queue
        out = {"weight": self.weights(), "kplus": self._in_edge_order(self.kplus),
               "tlast": self._in_edge_order(self.tlast), "window": np.array(self.last_window, dtype=np.int64),
               "queue/ticks": t.copy(), "queue/ids": src.copy(),
               "queue_flags/ticks": seen.astype(np.int64), "queue_flags/ids": np.zeros(t.size, np.int64)}
        for key, value in self.history.state().items():
            out[f"history/{key}"] = value
        return out

    def free_keys(self) -> tuple:
        """Keys of :meth:`state` whose length varies (besides the spike lists)."""
        return tuple(f"history/{k}" for k in PostHistory.VARIABLE)

    def restore(self, state: dict) -> None:
        """Back to a :meth:`state` (checked by the engine: same keys)."""
        if not hasattr(self, "_order"):
            self._order = self.synapse_order()
        self.weight = np.asarray(state["weight"], dtype=float)[self._order].copy()
        self.kplus = np.asarray(state["kplus"], dtype=float)[self._order].copy()
        self.tlast = np.asarray(state["tlast"], dtype=np.int64)[self._order].copy()
        self.last_window = tuple(int(x) for x in state["window"])
        self.queue = (np.asarray(state["queue/ticks"], np.int64).copy(), np.asarray(state["queue/ids"], np.int64).copy(),
                      np.asarray(state["queue_flags/ticks"]).astype(np.bool_))
        self.history.restore({k[len("history/"):]: v for k, v in state.items() if k.startswith("history/")})

    @property
    def nbytes(self) -> int:
        return super().nbytes + self.kplus.nbytes + self.tlast.nbytes + self.history.stamp.nbytes * 2
