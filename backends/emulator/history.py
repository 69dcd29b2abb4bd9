"""Postsynaptic spike histories for the emulator's plastic synapses (NEST's archiving node).

Spike-timing rules read, at each presynaptic spike, the postsynaptic spikes since the
synapse's previous presynaptic spike and the postsynaptic trace ``K-`` just before it. A
:class:`PostHistory` keeps, per postsynaptic cell, its recent spikes as time stamps (ticks: a
spike emitted in tick ``p`` has stamp ``p + 1``, NEST's) with the trace value right after each
(``K- <- K- exp(-(t - t_last)/tau_minus) + 1``, computed as NEST computes it). Entries no
synapse can read any more are dropped when a cell's buffer fills; when that frees nothing the
buffer doubles.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

INITIAL_CAPACITY = 16


@njit(cache=True)
def _append(ticks, cells, first, stamp, kminus, head, count, last_stamp, last_k, tau_minus_inv):
    """Append spikes first.. (tick order) to the cells' rings; returns the index of the first
    spike that did not fit (its cell's ring is full), or ticks.size when all did."""
    mask = stamp.shape[1] - 1  # capacities are powers of two
    for i in range(first, ticks.size):
        c = cells[i]
        if count[c] > mask:  # full
            return i
        t = ticks[i] + 1
        k = last_k[c] * np.exp((last_stamp[c] - t) * tau_minus_inv) + 1.0
        slot = (head[c] + count[c]) & mask
        stamp[c, slot] = t
        kminus[c, slot] = k
        count[c] += 1
        last_stamp[c] = t
        last_k[c] = k
    return ticks.size


@njit(parallel=True, cache=True)
def _prune(bound, stamp, head, count):
    """Drop, per cell, the entries older than the newest one at or before ``bound[c]`` (no
    synapse reads a stamp <= its bound any more except for the trace just before a later time)."""
    mask = stamp.shape[1] - 1  # capacities are powers of two
    for c in prange(bound.size):
        keep_from = 0
        for j in range(count[c]):
            if stamp[c, (head[c] + j) & mask] <= bound[c]:
                keep_from = j
            else:
                break
        head[c] = (head[c] + keep_from) & mask
        count[c] -= keep_from


#: ticks of trace decay held in a lookup table (longer gaps call exp; 64 KB per table)
DECAY_TABLE_TICKS = 8192


@njit(cache=True)
def decay_table(n, scale):
    """``exp(-j * scale)`` for j = 0..n-1, computed as the kernels compute it without the table
    (so a value read from it is the value exp would give)."""
    out = np.empty(n)
    for j in range(n):
        out[j] = np.exp((-j) * scale)
    return out


@njit(cache=True, inline="always")
def _decay(table, j, scale):
    """``exp(-j * scale)`` for a tick difference j >= 0: from ``table`` when it holds it."""
    if j < table.size:
        return table[j]
    return np.exp((-j) * scale)


class PostHistory:
    """Recent spikes of ``n`` postsynaptic cells, with the trace ``K-`` of time constant
    ``tau_minus`` (ms) at each; ``dt``: ms per tick (see the module docstring)."""

    def __init__(self, n: int, tau_minus: float, dt: float, capacity: int = INITIAL_CAPACITY):
        self.n, self.tau_minus, self.dt = int(n), float(tau_minus), float(dt)
        # NEST multiplies by the inverse time constant (ArchivingNode::tau_minus_inv_)
        self.tau_minus_inv = 1.0 / (self.tau_minus / self.dt)  # per tick
        #: exp(-j tau_minus_inv) for tick differences j (the trace read at a presynaptic spike)
        self.decay_table = decay_table(DECAY_TABLE_TICKS, self.tau_minus_inv)
        self.stamp = np.zeros((self.n, capacity), dtype=np.int64)
        self.kminus = np.zeros((self.n, capacity))
        self.reset()

    def reset(self) -> None:
        """No spikes yet (NEST: ``K- = 0``)."""
        self.head = np.zeros(self.n, dtype=np.int64)
        self.count = np.zeros(self.n, dtype=np.int64)
        self.last_stamp = np.zeros(self.n, dtype=np.int64)
        self.last_k = np.zeros(self.n)

    @property
    def capacity(self) -> int:
        return int(self.stamp.shape[1])

    def append(self, ticks: np.ndarray, cells: np.ndarray, bounds) -> None:
        """Add spikes (emission ticks in order, cell indices). ``bounds()`` gives, per cell, the
        stamp at or before which no synapse reads the history any more (called only when a
        cell's buffer is full)."""
        first = 0
        while first < ticks.size:
            first = _append(ticks, cells, first, self.stamp, self.kminus, self.head, self.count,
                            self.last_stamp, self.last_k, self.tau_minus_inv)
            if first < ticks.size:
                _prune(bounds(), self.stamp, self.head, self.count)
                # pruning scans every synapse: when it frees little, grow instead of pruning again soon
                if self.count.max() * 2 > self.capacity:
                    self._grow()

    def _grow(self) -> None:
        """Double every cell's buffer, entries kept in order from slot 0."""
        cap = self.capacity
        order = (self.head[:, None] + np.arange(cap)[None, :]) % cap
        rows = np.arange(self.n)[:, None]
        stamp, kminus = self.stamp[rows, order], self.kminus[rows, order]
        self.stamp = np.zeros((self.n, 2 * cap), dtype=np.int64)
        self.kminus = np.zeros((self.n, 2 * cap))
        self.stamp[:, :cap], self.kminus[:, :cap] = stamp, kminus
        self.head[:] = 0

    # --- snapshots --------------------------------------------------------------------------
    def state(self) -> dict:
        """Entries oldest first: ``stamps``/``traces`` (int64 ticks / float64, concatenated over
        cells), ``counts`` per cell, and each cell's last stamp and trace."""
        cap = self.capacity
        idx = [(self.head[c] + np.arange(self.count[c])) % cap for c in range(self.n)]
        stamps = np.concatenate([self.stamp[c, i] for c, i in enumerate(idx)]) if self.n else np.zeros(0, np.int64)
        traces = np.concatenate([self.kminus[c, i] for c, i in enumerate(idx)]) if self.n else np.zeros(0)
        return {"stamps": stamps.astype(np.int64), "traces": traces.astype(float), "counts": self.count.copy(),
                "last_stamp": self.last_stamp.copy(), "last_trace": self.last_k.copy()}

    def restore(self, state: dict) -> None:
        """Back to a :meth:`state`."""
        counts = np.asarray(state["counts"], dtype=np.int64)
        cap = INITIAL_CAPACITY
        while cap < (int(counts.max()) if counts.size else 0):
            cap *= 2  # the kernels index the rings with a mask
        self.stamp = np.zeros((self.n, cap), dtype=np.int64)
        self.kminus = np.zeros((self.n, cap))
        at = 0
        for c, m in enumerate(counts):
            self.stamp[c, :m] = state["stamps"][at:at + m]
            self.kminus[c, :m] = state["traces"][at:at + m]
            at += m
        self.head = np.zeros(self.n, dtype=np.int64)
        self.count = counts.copy()
        self.last_stamp = np.asarray(state["last_stamp"], dtype=np.int64).copy()
        self.last_k = np.asarray(state["last_trace"], dtype=float).copy()

    #: keys of :meth:`state` whose length varies
    VARIABLE = ("stamps", "traces")
