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


@njit(parallel=True, cache=True)
def read_window(hi, lo, first, n, inv_hi, inv_lo, out):
    """``out[k, c] = ring[first + k, c]`` as floats for the window's n slots, then zero them
    (every thread converts and clears its own columns)."""
    n_cols = hi.shape[1]
    for c in numba.prange(n_cols):
        for k in range(n):
            s = first + k
            h = hi[s, c]
            low = lo[s, c]
            if h == 0 and low == 0:
                out[k, c] = 0.0
                continue
            out[k, c] = h * inv_hi + low * inv_lo
            hi[s, c] = 0
            lo[s, c] = 0


class FixedRing:
    """The synaptic input ring of one neuron block: ``n_slots`` ticks of ``n_cols`` (receptor
    x cell) 128-bit fixed-point sums with binary scaling ``shift`` (see the module docstring)."""

    def __init__(self, n_slots: int, n_receptors: int, n_cells: int, shift: int = 0):
        self.shape = (n_slots, n_receptors, n_cells)
        words = np.zeros((n_slots, n_receptors * n_cells, 2), dtype=np.int64)
        self._words = words
        self.hi = words[:, :, 0]
        self.lo = words.view(np.uint64)[:, :, 1]
        self.set_shift(shift)

    def set_shift(self, shift: int) -> None:
        """Use binary scaling ``shift`` (only while the ring is empty)."""
        self.shift = int(shift)
        self.scale = math.ldexp(1.0, self.shift)
        self.inv_hi = math.ldexp(1.0, -self.shift)
        self.inv_lo = math.ldexp(1.0, -self.shift - 64)

    def read(self, first: int, n: int, out: np.ndarray) -> np.ndarray:
        """The input of slots first..first+n-1 as floats [n, receptors, cells] in ``out``;
        the slots are cleared."""
        flat = out[:n].reshape(n, -1)
        read_window(self.hi, self.lo, first, n, self.inv_hi, self.inv_lo, flat)
        return out[:n]

    def values(self) -> np.ndarray:
        """Every slot as floats [n_slots, receptors, cells] (inspection; the ring is unchanged)."""
        out = self.hi * self.inv_hi + self.lo.astype(np.float64) * self.inv_lo
        return out.reshape(self.shape)

    def clear(self) -> None:
        self._words[:] = 0

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

    def state(self) -> np.ndarray:
        return self._words.copy()

    def restore(self, words: np.ndarray) -> None:
        self._words[:] = words

    @property
    def nbytes(self) -> int:
        return int(self._words.nbytes)
