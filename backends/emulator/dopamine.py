"""Dopamine-modulated STDP in the float emulator, with NEST 3.10's ``stdp_dopamine_synapse``.

Three factors (Izhikevich 2007): pre/post pairings change each synapse's eligibility trace
``c`` (``+A_plus K+`` per postsynaptic spike, ``-A_minus K-`` per presynaptic one; decay
``tau_c``, ms), and the weight follows ``dw/dt = c (n - b)`` where ``n`` is the dopamine
concentration of the synapse's volume transmitter. Between events everything is integrated
exactly (NEST's ``update_weight_``); ``w`` is clipped to ``[w_min, w_max]``.

A :class:`VolumeTransmitter` (a graph node of kind ``"modulator"``, NEST's
``volume_transmitter``) holds the dopamine events since its last delivery:

- **spikes** of the populations projecting onto it (each arriving spike, at its arrival stamp
  ``e + 1 + delay``, adds ``1/tau_n`` to ``n``, which decays with ``tau_n``), or
- a **field** (``set_field``): ``n`` is the field's value from the tick it is set on (no
  decay: the field is the concentration).

Every ``deliver_interval`` windows the transmitter delivers: every synapse it gates is brought
up to that time, as NEST's ``trigger_update_weight`` does, and the event list restarts.
Presynaptic spikes are processed at the start of the window after their emission (NEST's
delivery at the next slice), so the order of deliveries and presynaptic spikes is NEST's when
the window equals NEST's min-delay slice.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from neurohybrid.errors import ParameterError

from .plastic import PlasticTable, _at, _first_after, _flat, _trace_before
from .ring import add_fixed, to_fixed

DOPAMINE = 2


@njit(cache=True, inline="always")
def _update_weight(w, c0, n0, minus_dt, taus, tau_c, b, lo, hi, rate):
    """NEST's update_weight_: w over an interval of length -minus_dt (ms) with eligibility c0
    and dopamine n0 at its start (``rate``: the plasticity-rate field's factor)."""
    w = w - rate * c0 * (n0 / taus * np.expm1(taus * minus_dt) - b * tau_c * np.expm1(minus_dt / tau_c))
    if w < lo:
        return lo
    if w > hi:
        return hi
    return w


@njit(cache=True, inline="always")
def _next_n(n, value, minus_dt, inv_tau_n, field):
    """NEST's update_dopamine_ (spikes: n decays, plus value/tau_n); a field sets n."""
    if field:
        return value
    return n * np.exp(minus_dt * inv_tau_n) + value * inv_tau_n


@njit(cache=True)
def _propagate(w, c, n, idx, t0, t1, d_time, d_value, d_count, dt, taus, tau_c, inv_tau_n, b, lo, hi, rate,
               field):
    """NEST's process_dopa_spikes_: weight, eligibility and dopamine from stamp t0 to t1 over
    the dopamine events in (t0, t1] (ticks); returns (w, c, n, idx)."""
    if field:  # the concentration is the value of the newest event (no decay, no synapse state)
        n = d_value[idx]
    if d_count > idx + 1 and d_time[idx + 1] <= t1:
        n0 = n * np.exp((d_time[idx] - t0) * dt * inv_tau_n)
        w = _update_weight(w, c, n0, (t0 - d_time[idx + 1]) * dt, taus, tau_c, b, lo, hi, rate)
        n = _next_n(n, d_value[idx + 1], (d_time[idx] - d_time[idx + 1]) * dt, inv_tau_n, field)
        idx += 1
        while d_count > idx + 1 and d_time[idx + 1] <= t1:
            cd = c * np.exp((t0 - d_time[idx]) * dt / tau_c)
            w = _update_weight(w, cd, n, (d_time[idx] - d_time[idx + 1]) * dt, taus, tau_c, b, lo, hi, rate)
            n = _next_n(n, d_value[idx + 1], (d_time[idx] - d_time[idx + 1]) * dt, inv_tau_n, field)
            idx += 1
        cd = c * np.exp((t0 - d_time[idx]) * dt / tau_c)
        w = _update_weight(w, cd, n, (d_time[idx] - t1) * dt, taus, tau_c, b, lo, hi, rate)
    else:
        n0 = n * np.exp((d_time[idx] - t0) * dt * inv_tau_n)
        w = _update_weight(w, c, n0, (t0 - t1) * dt, taus, tau_c, b, lo, hi, rate)
    c = c * np.exp((t0 - t1) * dt / tau_c)
    return w, c, n, idx


@njit(parallel=True, cache=True)
def _send(ev_tick, ev_src, s, trigger, indptr, n_src, col, first_col, delay, transit, weight, kplus, tlast, c_arr,
          n_arr, idx_arr, tau_plus, a_plus, a_minus, tau_c, inv_tau_n, taus, b, w_min, w_max, rate, field,
          d_time, d_value, d_count, stamp, kminus, head, count, tau_minus_inv, minus_table, ring_hi, ring_lo, scale,
          n_slots, n_blocks, dt):
    """Presynaptic spikes (true emission ticks, global sources) reaching their synapses
    (NEST's send()), or with ``trigger`` >= 0 a delivery at stamp ``trigger`` to every synapse
    (trigger_update_weight; the spike lists are then unused)."""
    mask = stamp.shape[1] - 1  # capacities are powers of two
    for b_ in prange(n_blocks):
        base = b_ * n_src
        n_items = ev_tick.size if trigger < 0 else 1
        for i in range(n_items):
            if trigger < 0:
                lo_k, hi_k = indptr[base + ev_src[i]], indptr[base + ev_src[i] + 1]
                t_spike = ev_tick[i] + 1
            else:
                lo_k, hi_k = indptr[base], indptr[base + n_src]
                t_spike = trigger
            for k in range(lo_k, hi_k):
                D = np.int64(delay[k]) + transit  # purely dendritic (NEST)
                cell = col[k] - first_col
                w, c, n, idx = weight[k], c_arr[k], n_arr[k], idx_arr[k]
                tlu, kp = tlast[k], kplus[k]
                tp, lo, hi, r = _at(tau_plus, k), _at(w_min, k), _at(w_max, k), _at(rate, cell)
                t0 = tlu
                j = _first_after(tlu - D, stamp, head, count, cell)
                while j < count[cell]:  # postsynaptic spikes in (tlu - D, t_spike - D]
                    q = stamp[cell, (head[cell] + j) & mask]
                    j += 1
                    if q > t_spike - D or q > s:
                        break
                    w, c, n, idx = _propagate(w, c, n, idx, t0, q + D, d_time, d_value, d_count, dt, taus, tau_c,
                                              inv_tau_n, b, lo, hi, r, field)
                    t0 = q + D
                    if trigger >= 0 or t_spike - q > 0:  # send() skips a post spike at the same time
                        c += _at(a_plus, k) * kp * np.exp((tlu - t0) * dt / tp)
                w, c, n, idx = _propagate(w, c, n, idx, t0, t_spike, d_time, d_value, d_count, dt, taus, tau_c,
                                          inv_tau_n, b, lo, hi, r, field)
                if trigger < 0:
                    c -= _at(a_minus, k) * _trace_before(t_spike - D, stamp, kminus, head, count, cell, s,
                                                         tau_minus_inv, minus_table)
                    w_hi, w_lo = to_fixed(w, scale)
                    add_fixed(ring_hi, ring_lo, (ev_tick[i] + D) % n_slots, col[k], w_hi, w_lo)
                    kplus[k] = kp * np.exp((tlu - t_spike) * dt / tp) + 1.0
                else:
                    n = n * np.exp((d_time[idx] - t_spike) * dt * inv_tau_n)
                    kplus[k] = kp * np.exp((tlu - t_spike) * dt / tp)
                    idx = 0
                weight[k], c_arr[k], n_arr[k], idx_arr[k], tlast[k] = w, c, n, idx, t_spike


class VolumeTransmitter:
    """NEST's volume transmitter: the dopamine events of one ``"modulator"`` node (module
    docstring). ``inputs``: the graph edges onto it; ``offsets``: global index of each node;
    ``deliver_interval``: windows between deliveries."""

    def __init__(self, node, inputs, offsets: dict, dt: float, deliver_interval: int):
        self.node, self.dt, self.deliver_interval = node, dt, int(deliver_interval)
        gids, delays = [], []
        for e in inputs:
            gids.append(offsets[e.pre] + np.asarray(e.pre_index, np.int64))
            d = np.broadcast_to(np.asarray(e.values["delay"], float), e.pre_index.shape)
            delays.append(np.rint(d / dt).astype(np.int64))
        gids = np.concatenate(gids) if gids else np.zeros(0, np.int64)
        delays = np.concatenate(delays) if delays else np.zeros(0, np.int64)
        order = np.argsort(gids, kind="stable")
        self._gids, self._delays = gids[order], delays[order]
        self.field = False
        self.tables: list = []
        self.reset()

    def reset(self) -> None:
        """No events: the pseudo event at t = 0 of NEST's init_buffers."""
        self.times = np.zeros(1, dtype=np.int64)
        self.values = np.zeros(1)
        self.field_value = 0.0

    def deliver(self, ticks, sources, mult) -> None:
        """Spikes (emission ticks, global sources, counts): those of the transmitter's inputs
        become dopamine events at their arrival stamps."""
        if not ticks.size or not self._gids.size:
            return
        lo = np.searchsorted(self._gids, sources, "left")
        hi = np.searchsorted(self._gids, sources, "right")
        hits = hi - lo
        if not hits.any():
            return
        spike = np.repeat(np.arange(ticks.size), hits)
        conn = np.concatenate([np.arange(a, b) for a, b in zip(lo[hits > 0], hi[hits > 0])])
        self._add(ticks[spike] + 1 + self._delays[conn], mult[spike].astype(float))

    def deliver_dense(self, counts, first_tick, offset) -> None:
        """Dense spike counts of sources ``offset..`` (see the engine): only sources that project
        onto the transmitter are looked at."""
        lo = np.searchsorted(self._gids, offset)
        if lo == self._gids.size or self._gids[lo] >= offset + counts.shape[1]:
            return
        rows, ids = np.nonzero(counts)
        if rows.size:
            self.deliver(rows.astype(np.int64) + first_tick, ids.astype(np.int64) + offset,
                         counts[rows, ids].astype(np.int64))

    def _add(self, times, values) -> None:
        """Merge events in (one entry per time: multiplicities add, as NEST's spike counter)."""
        times = np.concatenate([self.times[1:], times])
        values = np.concatenate([self.values[1:], values])
        uniq, inverse = np.unique(times, return_inverse=True)
        summed = np.zeros(uniq.size)
        np.add.at(summed, inverse, values)
        self.times = np.concatenate([self.times[:1], uniq])
        self.values = np.concatenate([self.values[:1], summed])

    def set_field(self, tick: int, value: float) -> None:
        """The dopamine concentration is ``value`` from tick ``tick`` on (field mode)."""
        self.field = True
        self.field_value = float(value)
        keep = self.times < tick
        keep[0] = True
        self.times = np.concatenate([self.times[keep], [int(tick)]])
        self.values = np.concatenate([self.values[keep], [float(value)]])
        if self.times.size > 1 and self.times[-1] == self.times[-2]:  # a second value at the same tick wins
            self.times, self.values = self.times[:-1], np.concatenate([self.values[:-2], [float(value)]])

    def due(self, end: int, window: int) -> bool:
        """Whether a delivery falls at the end of the window ending at tick ``end``."""
        return end % (self.deliver_interval * window) == 0

    def restart(self, t_trig: int) -> None:
        """After a delivery at stamp ``t_trig``: a pseudo event there, later events kept."""
        later = self.times > t_trig
        later[0] = False
        pseudo = self.field_value if self.field else 0.0
        self.times = np.concatenate([[t_trig], self.times[later]])
        self.values = np.concatenate([[pseudo], self.values[later]])

    def state(self) -> dict:
        """``times`` (int64 stamps) and ``values`` (dopamine counts, or concentrations for a
        field) of the pending events, ``field`` (0/1) and ``field_value``."""
        return {"times": self.times.copy(), "values": self.values.copy(), "field": int(self.field),
                "field_value": np.array([self.field_value])}

    #: keys of :meth:`state` whose length varies
    VARIABLE = ("times", "values")

    def restore(self, state: dict) -> None:
        self.times = np.asarray(state["times"], np.int64).copy()
        self.values = np.asarray(state["values"], float).copy()
        self.field = bool(state["field"])
        self.field_value = float(np.asarray(state["field_value"])[0])


class DopamineTable(PlasticTable):
    """The synapses of one ``DopamineSTDPSynapse`` edge, gated by ``transmitter``."""

    RULES = {"DopamineSTDPSynapse": DOPAMINE}

    def __init__(self, block, edges, offsets, dt, n_blocks, n_sources, transmitter: VolumeTransmitter):
        self.transmitter = transmitter
        super().__init__(block, edges, offsets, dt, n_blocks, n_sources)
        transmitter.tables.append(self)

    def _timing(self, edge) -> None:
        f = _flat(np.asarray(edge.values["dendritic_delay_fraction"], float))
        if np.any(f != 1.0):
            raise ParameterError(f"Projection({edge.name})", "dendritic_delay_fraction",
                                 f"{float(f[0])!r}: dopamine-modulated STDP treats the whole delay as dendritic "
                                 "(NEST's stdp_dopamine_synapse)", "1")
        total = np.arange(int(self.delay.max(initial=0)) + self.transit + 1)
        self.shift, self.shift_by_synapse = total, False

    def _parameters(self, edge) -> None:
        v = edge.values
        get = lambda name: self._scatter(np.asarray(v[name], dtype=float))  # noqa: E731
        self.w_min, self.w_max, self.tau_plus = get("w_min"), get("w_max"), get("tau_plus")
        self.a_plus, self.a_minus = get("A_plus"), get("A_minus")
        for name in ("tau_c", "tau_n", "b", "tau_minus"):
            values = _flat(np.asarray(v[name], float))
            if np.any(values != values[0]):
                raise ParameterError(f"Projection({edge.name})", name, "differs between synapses (NEST keeps it "
                                     "common to all synapses of a volume transmitter)", "one value per projection")
        self.tau_c = float(_flat(v["tau_c"])[0])
        self.tau_n = float(_flat(v["tau_n"])[0])
        self.b = float(_flat(v["b"])[0])
        self.tau_minus = float(_flat(v["tau_minus"])[0])

    def reset(self) -> None:
        super().reset()
        self.c = np.zeros(self.col.size)
        self.n = np.zeros(self.col.size)
        self.idx = np.zeros(self.col.size, dtype=np.int64)

    def _dopamine_constants(self):
        """(1/tau_n, taus) as NEST computes them; a field's concentration does not decay."""
        if self.transmitter.field:
            return 0.0, 1.0 / self.tau_c
        return 1.0 / self.tau_n, (self.tau_c + self.tau_n) / (self.tau_c * self.tau_n)

    def _run(self, ticks, sources, s, trigger, n_slots) -> None:
        vt = self.transmitter
        inv_tau_n, taus = self._dopamine_constants()
        h = self.history
        _send(ticks, sources, s, trigger, self.indptr, self.n_src, self.col, self.first_col, self.delay, self.transit,
              self.weight, self.kplus, self.tlast, self.c, self.n, self.idx, self.tau_plus, self.a_plus,
              self.a_minus, self.tau_c, inv_tau_n, taus, self.b, self.w_min, self.w_max, self.rate, vt.field,
              vt.times, vt.values, vt.times.size, h.stamp, h.kminus, h.head, h.count, h.tau_minus_inv,
              h.decay_table, self.ring.hi, self.ring.lo, self.ring.scale, n_slots, self.n_blocks, self.dt)

    def process(self, s: int, n: int, n_slots: int) -> None:
        """Presynaptic spikes emitted before tick ``s`` reach their synapses (module docstring)."""
        t, src, seen = self.queue
        if t.size:
            if t.size > 1 and np.any(t[1:] < t[:-1]):
                order = np.argsort(t, kind="stable")
                t, src = t[order], src[order]
            now = t < s
            self._run(t[now], src[now], s, -1, n_slots)
            self.queue = (t[~now], src[~now], np.ones(int((~now).sum()), np.bool_))
        self.last_window = (s, n)

    def trigger(self, t_trig: int, n_slots: int) -> None:
        """The transmitter's delivery at stamp ``t_trig``: every synapse brought up to it."""
        empty = np.zeros(0, np.int64)
        self._run(empty, empty, t_trig, t_trig, n_slots)

    def state(self) -> dict:
        out = super().state()
        out.update(c=self._in_edge_order(self.c), n=self._in_edge_order(self.n), idx=self._in_edge_order(self.idx))
        return out

    def restore(self, state: dict) -> None:
        super().restore({k: v for k, v in state.items() if k not in ("c", "n", "idx")})
        self.c = np.asarray(state["c"], float)[self._order].copy()
        self.n = np.asarray(state["n"], float)[self._order].copy()
        self.idx = np.asarray(state["idx"], np.int64)[self._order].copy()
