"""Random draws of the spike sources: numba kernels of the renewal processes and of the
Poisson counts per grid interval, and the checks the sources share (see spike_sources.py for the
time convention and the keyed streams)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from neurohybrid import rng
from neurohybrid.errors import ParameterError

_KIND_REFRACTORY = 0
_KIND_GAMMA = 1


# ---------------------------------------------------------------------------------------------
# numba kernels

@njit(cache=True)
def _grow(buf, m):
    out = np.empty(max(2 * buf.size, m + 16), dtype=buf.dtype)
    out[:buf.size] = buf
    return out


@njit(cache=True)
def _renewal_forward(kind, key, i, j, p1, p2):
    """Time (ticks) from an arbitrary origin to the next spike of a stationary renewal process.

    refractory: p1 = dead time d, p2 = mean of the exponential part m (ticks);
    gamma: p1 = shape alpha, p2 = scale (ticks).
    """
    if kind == _KIND_REFRACTORY:
        if p2 == math.inf:
            return math.inf
        # In equilibrium the origin lies in a dead time with probability d / (d + m), and
        # then uniformly inside it; one uniform serves both choices.
        u = rng.uniform(key, i, j)
        t = p2 * rng.exponential(key, i, j)
        total = p1 + p2
        if total > 0.0:
            p = p1 / total
            if u < p:
                t += (1.0 - u / p) * p1
        return t
    if p2 == math.inf:
        return math.inf
    # Forward recurrence time = U * (length-biased interval); the length-biased version of
    # Gamma(alpha) is Gamma(alpha + 1).
    return (1.0 - rng.uniform(key, i, j)) * rng.gamma(key, i, j, p1 + 1.0) * p2


@njit(cache=True)
def _renewal_isi(kind, key, i, j, p1, p2):
    if p2 == math.inf:
        return math.inf
    if kind == _KIND_REFRACTORY:
        return p1 + p2 * rng.exponential(key, i, j)
    return rng.gamma(key, i, j, p1) * p2


@njit(cache=True)
def _renewal_restart(kind, key, p1, p2, s, origin, t_next, draws, which):
    """Start the processes of neurons ``which`` in equilibrium at max(s, origin) (ticks)."""
    for idx in range(which.size):
        i = which[idx]
        t_next[i] = max(s[i], origin) + _renewal_forward(kind, key, i, draws[i], p1[i], p2[i])
        draws[i] += 1


@njit(cache=True)
def _renewal_kernel(kind, key, p1, p2, e, t_next, draws, k_from, k_to):
    """Advance the renewal processes through grid indices < k_to, returning spikes with k >= k_from."""
    n = p1.size
    cap = 64 + n
    ticks = np.empty(cap, dtype=np.int64)
    ids = np.empty(cap, dtype=np.int64)
    m = 0
    for i in range(n):
        t = t_next[i]
        while True:
            if t == math.inf or not (t <= e[i]):
                t = math.inf
                break
            k = np.int64(math.ceil(t))
            if k >= k_to:
                break
            if k >= k_from:
                if m == ticks.size:
                    ticks = _grow(ticks, m)
                    ids = _grow(ids, m)
                ticks[m] = k - 1
                ids[m] = i
                m += 1
            t += _renewal_isi(kind, key, i, draws[i], p1[i], p2[i])
            draws[i] += 1
        t_next[i] = t
    return _sort_by_tick(ticks[:m], ids[:m], k_from - 1, k_to - k_from + 1)


_CDF_LEN = 40  # enough terms of the Poisson CDF for any mean <= POISSON_INVERSION_MAX
_FAST_LEN = 16  # terms compared branch-free; beyond them (rare unless the mean is large) a loop continues


def poisson_cdf_tables(lam_per_tick: np.ndarray):
    """CDF tables of the Poisson distribution for each distinct mean (``[u, _CDF_LEN]``) and the
    table index of each neuron. Built once per parameter set, not per window."""
    values, index = np.unique(lam_per_tick, return_inverse=True)
    tables = np.empty((values.size, _CDF_LEN))
    for row, lam in enumerate(values):
        p = math.exp(-lam) if lam > 0 else 1.0
        acc = p
        for c in range(_CDF_LEN):
            tables[row, c] = acc
            p *= lam / (c + 1)
            acc += p
    return tables, index.astype(np.int64)


@njit(cache=True, parallel=True)
def _poisson_counts(key, lam_per_tick, cdf_tables, cdf_index, start_ticks, stop_ticks, k0, n_ticks, first, last):
    """Poisson spike counts [n_ticks, n] for grid intervals k0..k0+n_ticks-1 (interval k is
    ((k-1) dt, k dt]); the mean is lam_per_tick times the part of the interval inside
    (start, stop] (all in ticks). Full intervals use inversion against the neuron's CDF table
    (the same search, and the same values, as ``rng.poisson``'s inversion, without a division
    per step); partial intervals and large means call ``rng.poisson``. Only cells first..last-1
    are drawn (the others count 0): an engine running a copy of a source needs only the cells
    that drive its populations."""
    n = lam_per_tick.size
    if first == 0 and last == n:
        out = np.empty((n_ticks, n), dtype=np.uint16)  # every entry is written below: no serial memset
    else:
        out = np.zeros((n_ticks, n), dtype=np.uint16)
    for i in prange(first, last):
        lam = lam_per_tick[i]
        if not lam > 0.0:
            for j in range(n_ticks):
                out[j, i] = 0
            continue
        row = cdf_index[i]  # index the table directly: a view per neuron would contend on its refcount
        prefix = rng.counter_prefix(key, i)
        for j in range(n_ticks):
            k = k0 + j
            lo = max(float(k - 1), start_ticks[i])
            hi = min(float(k), stop_ticks[i])
            if hi <= lo:
                out[j, i] = 0
                continue
            if hi - lo < 1.0 or lam > rng.POISSON_INVERSION_MAX:
                c = rng.poisson(key, i, k, lam * (hi - lo))
            else:
                u = rng.uniform_from_prefix(prefix, k)
                # branch-free count of the CDF entries <= u over the first _FAST_LEN terms: the same
                # value as the sequential search (the CDF is monotone), without its mispredictions
                c = 0
                for q in range(_FAST_LEN):
                    c += u >= cdf_tables[row, q]
                if c == _FAST_LEN:  # beyond the short table: continue the search exactly
                    while c < _CDF_LEN - 1 and u >= cdf_tables[row, c]:
                        c += 1
                    if c == _CDF_LEN - 1:  # far tail
                        c = rng.poisson(key, i, k, lam)
            out[j, i] = min(c, 65535)
    return out


@njit(cache=True)
def _sort_by_tick(ticks, ids, first_tick, n_ticks):
    """Stable counting sort by tick: entries arrive in id order, so they leave sorted by (tick, id).
    O(m), where a comparison sort of the ~10^5 spikes of a busy window dominated the run time."""
    counts = np.zeros(n_ticks + 1, dtype=np.int64)
    for q in range(ticks.size):
        counts[ticks[q] - first_tick + 1] += 1
    for b in range(1, n_ticks + 1):
        counts[b] += counts[b - 1]
    out_ticks = np.empty_like(ticks)
    out_ids = np.empty_like(ids)
    for q in range(ticks.size):
        b = ticks[q] - first_tick
        out_ticks[counts[b]] = ticks[q]
        out_ids[counts[b]] = ids[q]
        counts[b] += 1
    return out_ticks, out_ids


# ---------------------------------------------------------------------------------------------
# helpers

def _check_dt(obj, dt) -> float:
    try:
        dt = float(dt)
    except (TypeError, ValueError):
        raise ParameterError(obj, "dt", f"{dt!r} is not a number", "a finite time step > 0 ms") from None
    if not (math.isfinite(dt) and dt > 0):
        raise ParameterError(obj, "dt", f"{dt!r} is not a valid time step", "a finite time step > 0 ms")
    return dt


def _check_key(obj, key) -> np.uint64:
    try:
        value = int(key)
    except (TypeError, ValueError):
        raise ParameterError(obj, "key", f"{key!r} is not an integer",
                             "an unsigned 64-bit integer, e.g. from neurohybrid.rng.stream_key") from None
    if not 0 <= value < 2 ** 64:
        raise ParameterError(obj, "key", f"{key!r} is out of range",
                             "an unsigned 64-bit integer, e.g. from neurohybrid.rng.stream_key")
    return np.uint64(value)


def _check_window(obj, t0, n_ticks) -> tuple[int, int]:
    t0, n_ticks = int(t0), int(n_ticks)
    if n_ticks < 0:
        raise ParameterError(obj, "n_ticks", f"{n_ticks} is negative", "an integer >= 0")
    return t0, n_ticks


def pushed_spikes(obj, ticks, ids) -> tuple[np.ndarray, np.ndarray]:
    """Spikes pushed into an external source: (emission ticks, neuron indices) as flat int64
    arrays of equal length (ParameterError otherwise). Shared by every engine's push()."""
    t = np.asarray(ticks, dtype=np.int64).ravel()
    i = np.asarray(ids, dtype=np.int64).ravel()
    if t.shape != i.shape:
        raise ParameterError(obj, "ids", f"{i.size} ids for {t.size} ticks", "as many ids as ticks")
    return t, i


def _ms_to_ticks(value_ms: np.ndarray, dt: float) -> np.ndarray:
    """Times in ms to (float) ticks, snapped to an integer when round-off is all that separates them."""
    with np.errstate(invalid="ignore"):
        x = np.asarray(value_ms, dtype=float) / dt
        r = np.rint(x)
        close = np.abs(x - r) <= 1e-9 * np.maximum(1.0, np.abs(x))
    return np.where(close & np.isfinite(x), r, x)


#: NEST's default time base: 1000 tics per ms (``Time::Range::TICS_PER_MS``)
TICS_PER_MS = 1000.0


def spike_time_steps(times_ms: np.ndarray, dt: float) -> np.ndarray:
    """Grid points (int64 steps of ``dt`` ms) of spike times (ms), by NEST's ``spike_generator``
    rule for times off the grid (``precise_times=False, allow_offgrid_times=True``; what pyNN.nest's
    spike generator and parrot neuron amount to as well): a time is first rounded to NEST's tic
    (1 µs, ``floor(t * 1000 + 0.5)``), then *up* to the end of the step that contains it; a time
    within half a tic of a grid point is that grid point."""
    tics = np.floor(np.asarray(times_ms, dtype=float) * TICS_PER_MS + 0.5).astype(np.int64)
    step_tics = int(round(dt * TICS_PER_MS))
    return -(-tics // step_tics)


def counts_to_spikes(counts: np.ndarray, t0: int) -> tuple[np.ndarray, np.ndarray]:
    """Spike counts ``[n_ticks, n]`` of grid indices ``t0 ..`` as (emission ticks, cell ids),
    int64, sorted by tick then cell; a cell that fires k times in a tick is listed k times."""
    rows, ids = np.nonzero(counts)
    ticks = rows.astype(np.int64) + (t0 - 1)
    mult = counts[rows, ids]
    if mult.size and mult.max() > 1:
        ticks, ids = np.repeat(ticks, mult), np.repeat(ids, mult)
    return ticks, ids.astype(np.int64)


def _empty() -> tuple[np.ndarray, np.ndarray]:
    return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
