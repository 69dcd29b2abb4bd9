"""Exact synaptic accumulation: the emulator's ring buffers hold 128-bit fixed-point sums.

Why: a float sum depends on the order of its terms, and the order in which spikes reach a
ring entry depends on how the model is partitioned (a spike that crosses from another engine
arrives later than a local one), on the engine's windowing and on the thread layout. The
contract "same model + same seed = same spikes on any partitioning" therefore needs a sum that
does not depend on order. Each ring entry is a two's-complement 128-bit integer in units of
``2**-(shift + 64)`` (``hi``: the upper 64 bits, signed; ``lo``: the lower 64 bits, unsigned).
A float weight ``w`` is converted *exactly* (``w * 2**shift`` is a power-of-two scaling, its
floor and fraction are exact in binary), integer addition is associative, and the window's
input is converted back to float once when the neurons read it: the result is the exact sum of
the float weights, rounded once, whatever the order.

``shift`` is chosen per neuron block so that the largest possible input of any cell (the sum
of the absolute weights of all its synapses, times ``HEADROOM`` spikes per synapse in one
tick) fits in the 63 bits of ``hi``; the 64 bits of ``lo`` keep ~2**-64 relative precision
below that, far finer than a float's 2**-53.

The common case is cheaper still: when a block's static synapses have at most
:data:`MAX_COUNTED` distinct weights (Brunel's J and -gJ, a COBA network's two conductances),
a :class:`CountRing` counts the spikes per (slot, receptor x cell, weight) in int32 and the
input is ``sum_c count_c * w_c`` in weight order when read: one integer add per synapse, and
again independent of the order the spikes came in.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit

#: spikes per synapse and tick that a ring entry can take before it could overflow
HEADROOM = 1 << 20
_TWO64 = 18446744073709551616.0  # 2**64


def choose_shift(max_input: float) -> int:
    """Binary scaling exponent for a block whose cells receive at most ``max_input`` (the sum
    of absolute weights of a cell's synapses, in the receptor's units) per spike round."""
    if not max_input > 0:  # no input at all: any scaling works
        return 0
    return int(62 - math.ceil(math.log2(float(max_input) * HEADROOM)))


@njit(cache=True, inline="always")
def to_fixed(w, scale):
    """(hi, lo) of the float ``w`` times ``scale`` (a power of two): exact."""
    x = w * scale
    hi = math.floor(x)
    lo = np.uint64((x - hi) * _TWO64)
    return np.int64(hi), lo


@njit(cache=True, inline="always")
def add_fixed(hi, lo, slot, col, w_hi, w_lo):
    """ring[slot, col] += (w_hi, w_lo), with the carry from the lower word."""
    old = lo[slot, col]
    new = old + w_lo
    lo[slot, col] = new
    hi[slot, col] += w_hi + (np.int64(1) if new < old else np.int64(0))


@njit(cache=True, inline="always")
def add_fixed_times(hi, lo, slot, col, w_hi, w_lo, m):
    """ring[slot, col] += m * (w_hi, w_lo) for a spike count m >= 1 (m additions: counts per
    synapse and tick are small)."""
    for _ in range(m):
        add_fixed(hi, lo, slot, col, w_hi, w_lo)


def slots_of(tick: int, n_rows: int, n_slots: int) -> np.ndarray:
    """Ring slots of ticks ``tick .. tick + n_rows - 1`` (a slot is the tick modulo ``n_slots``)."""
    return (int(tick) + np.arange(n_rows, dtype=np.int64)) % n_slots


def take_rows(buf: np.ndarray, tick: int, n_rows: int) -> np.ndarray:
    """Copy of the slots of ticks ``tick .. tick + n_rows - 1`` of ring buffer ``buf`` (first axis:
    slots), row j holding tick ``tick + j``: a layout that does not depend on the ring's length.
    ValueError if another slot holds input (it would be lost)."""
    rows = slots_of(tick, n_rows, buf.shape[0])
    rest = np.ones(buf.shape[0], bool)
    rest[rows] = False
    if buf[rest].any():
        raise ValueError(f"ring input beyond {n_rows} ticks ahead of tick {tick}")
    return buf[rows]


def put_rows(buf: np.ndarray, tick: int, rows: np.ndarray) -> None:
    """Inverse of :func:`take_rows`: ``buf`` cleared, then row j of ``rows`` in the slot of tick
    ``tick + j`` (``len(rows) <= buf.shape[0]``)."""
    buf[:] = 0
    buf[slots_of(tick, rows.shape[0], buf.shape[0])] = rows


#: a static table with at most this many distinct weights counts spikes per weight (CountRing)
MAX_COUNTED = 4


@njit(parallel=True, cache=True)
def read_window(hi, lo, first, n, inv_hi, inv_lo, out, accumulate):
    """``out[k, c] (+)= ring[first + k, c]`` as floats for the window's n slots, then zero them.
    Threads take whole slots: a slot is one contiguous row (column-wise loops strode a row apart)."""
    n_cols = hi.shape[1]
    for k in numba.prange(n):
        s = first + k
        for c in range(n_cols):
            h = hi[s, c]
            low = lo[s, c]
            if h == 0 and low == 0:
                if not accumulate:
                    out[k, c] = 0.0
                continue
            value = h * inv_hi + low * inv_lo
            out[k, c] = out[k, c] + value if accumulate else value
            hi[s, c] = 0
            lo[s, c] = 0


@njit(parallel=True, cache=True)
def read_counts(counts, first, n, lut, n_cells, out):
    """``out[k, c] = sum_q counts[first + k, c * K + q] * lut[c // n_cells, q]`` (q in weight
    order; lut row per receptor) for the window's n slots, then zero the counts. Threads take
    whole slots: a slot is one contiguous row."""
    n_codes = lut.shape[1]
    n_cols = out.shape[1]
    for k in numba.prange(n):
        s = first + k
        row = counts[s]
        for c in range(n_cols):
            r = c // n_cells
            base = c * n_codes
            total = 0.0
            for q in range(n_codes):
                m = row[base + q]
                if m:
                    total += m * lut[r, q]
                    row[base + q] = 0
            out[k, c] = total


class FixedRing:
    """The synaptic input ring of one neuron block: ``n_slots`` ticks of ``n_cols`` (receptor
    x cell) 128-bit fixed-point sums with binary scaling ``shift`` (see the module docstring)."""

    def __init__(self, n_slots: int, n_receptors: int, n_cells: int, shift: int = 0):
        self.shape = (n_slots, n_receptors, n_cells)
        words = np.zeros((n_slots, n_receptors * n_cells, 2), dtype=np.int64)
        self._words = words
        self.in_use = False  # set by the tables that add into it (an unused ring is never read)
        self.hi = words[:, :, 0]
        self.lo = words.view(np.uint64)[:, :, 1]
        self.set_shift(shift)

    def set_shift(self, shift: int) -> None:
        """Use binary scaling ``shift`` (only while the ring is empty)."""
        self.shift = int(shift)
        self.scale = math.ldexp(1.0, self.shift)
        self.inv_hi = math.ldexp(1.0, -self.shift)
        self.inv_lo = math.ldexp(1.0, -self.shift - 64)

    def read(self, first: int, n: int, out: np.ndarray, accumulate: bool = False) -> np.ndarray:
        """The input of slots first..first+n-1 as floats [n, receptors, cells] in ``out`` (added
        to it with ``accumulate``); the slots are cleared."""
        flat = out[:n].reshape(n, -1)
        read_window(self.hi, self.lo, first, n, self.inv_hi, self.inv_lo, flat, accumulate)
        return out[:n]

    def add_values(self, values: np.ndarray) -> None:
        """Add float inputs [n_slots, receptors, cells] (carrying in-flight input over a rebuild)."""
        flat = np.asarray(values, dtype=float).reshape(self.hi.shape)
        for idx in zip(*np.nonzero(flat)):
            h, low = to_fixed(float(flat[idx]), self.scale)
            old = int(self.lo[idx])
            new = (old + int(low)) % (1 << 64)
            self.lo[idx] = np.uint64(new)
            self.hi[idx] += int(h) + (1 if new < old else 0)

    def values(self) -> np.ndarray:
        """Every slot as floats [n_slots, receptors, cells] (inspection; the ring is unchanged)."""
        out = self.hi * self.inv_hi + self.lo.astype(np.float64) * self.inv_lo
        return out.reshape(self.shape)

    def clear(self) -> None:
        self._words[:] = 0

    def snapshot(self, tick: int, n_rows: int) -> np.ndarray:
        """The input of ticks ``tick .. tick + n_rows - 1`` as the raw 128-bit words, int64
        ``[n_rows, receptors x cells, 2]`` (hi, lo bits; units ``2**-(shift + 64)``), a copy."""
        return take_rows(self._words, tick, n_rows)

    def restore(self, tick: int, words: np.ndarray) -> None:
        """Hold exactly the input of :meth:`snapshot` (taken at ``tick``) again."""
        put_rows(self._words, tick, np.asarray(words, dtype=np.int64))

    def copy_from(self, other: "FixedRing") -> None:
        """Take ``other``'s contents (same shape), rescaled to this ring's shift if it differs."""
        if other.shift == self.shift:
            self._words[:] = other._words
            return
        self.clear()
        vals = other.values().reshape(self.hi.shape)
        for idx in zip(*np.nonzero(vals)):
            h, low = to_fixed(float(vals[idx]), self.scale)
            self.hi[idx], self.lo[idx] = h, low



class CountRing:
    """Spike counts of a block's static synapses per (slot, receptor x cell, weight code), for
    tables of at most :data:`MAX_COUNTED` distinct weights per receptor (``luts``: the sorted
    weights of each receptor); see the module docstring. The input of an entry is
    ``sum_q count_q * lut[q]`` in code order. With one weight per receptor (Brunel, COBA) an
    entry is one int32, the size of a float ring's entry."""

    def __init__(self, n_slots: int, n_cells: int, luts: list):
        self.n_codes = max(1, max(len(x) for x in luts))
        self.lut = np.zeros((len(luts), self.n_codes))
        for r, values in enumerate(luts):
            self.lut[r, :len(values)] = values
        self.n_cells = int(n_cells)
        self.shape = (n_slots, len(luts), n_cells)
        self.counts = np.zeros((n_slots, len(luts) * n_cells * self.n_codes), dtype=np.int32)

    def read(self, first: int, n: int, out: np.ndarray) -> np.ndarray:
        """The input of slots first..first+n-1 as floats [n, receptors, cells] in ``out``;
        the counts are cleared."""
        read_counts(self.counts, first, n, self.lut, self.n_cells, out[:n].reshape(n, -1))
        return out[:n]

    def values(self) -> np.ndarray:
        """Every slot as floats [n_slots, receptors, cells] (inspection; the ring is unchanged)."""
        c = self.counts.reshape(self.shape + (self.n_codes,)).astype(np.float64)
        total = np.zeros(self.shape)
        for q in range(self.n_codes):  # in code order, as read() sums
            total += c[..., q] * self.lut[None, :, None, q]
        return total

    def clear(self) -> None:
        self.counts[:] = 0

    def snapshot(self, tick: int, n_rows: int) -> np.ndarray:
        """The spike counts of ticks ``tick .. tick + n_rows - 1``, int32
        ``[n_rows, receptors x cells x codes]``, a copy."""
        return take_rows(self.counts, tick, n_rows)

    def restore(self, tick: int, counts: np.ndarray) -> None:
        """Hold exactly the counts of :meth:`snapshot` (taken at ``tick``) again."""
        put_rows(self.counts, tick, np.asarray(counts, dtype=np.int32))
