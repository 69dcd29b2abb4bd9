"""Spike generators of the encoders: numba kernels from a rate (Hz) per channel and tick to spike
counts per channel and tick, all draws keyed by (channel, grid index) on the project's
counter-based streams (:mod:`neurohybrid.rng`), so a window split never changes a spike.

- :func:`poisson_counts`: independent Poisson counts, mean ``rate * dt / 1000`` per tick;
- :func:`refractory_counts`: at most one spike per tick, probability ``1 - exp(-rate dt / 1000)``,
  none during an absolute refractory period after a spike (auditory nerve fibres, DVS pixels);
- :func:`lif_counts`: a deterministic leaky integrate-and-fire unit per channel
  (``tau dv/dt = I - v``, threshold 1, reset by subtraction) whose input is calibrated so that a
  constant rate r fires at r Hz: ``I = 1 / (1 - exp(-1000 / (r tau)))`` (r in Hz, tau in ms).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from neurohybrid import rng

__all__ = ["poisson_counts", "refractory_counts", "lif_counts", "GENERATORS"]

#: spike generators a rate encoder (retina) offers
GENERATORS = ("poisson", "lif")


@njit(cache=True)
def _rate_counts(key, rates, k0, dt, poisson, last, refractory_ticks):
    """The kernel of :func:`poisson_counts` (``poisson``) and :func:`refractory_counts`."""
    n, m = rates.shape
    out = np.zeros((n, m), np.uint16)
    scale = dt / 1000.0
    for j in range(n):
        k = k0 + j
        for i in range(m):
            r = rates[j, i]
            if r <= 0.0:
                continue
            if poisson:
                out[j, i] = min(rng.poisson(key, i, k, r * scale), 65535)
            elif k - last[i] > refractory_ticks and rng.uniform(key, i, k) < 1.0 - math.exp(-r * scale):
                out[j, i] = 1
                last[i] = k
    return out


def poisson_counts(key, rates, k0, dt):
    """Counts uint16 [n, m] of Poisson spikes: row j is grid index ``k0 + j``, column i channel
    i, mean ``rate * dt / 1000``; ``rates`` [n, m] in Hz (negative rates count as 0)."""
    return _rate_counts(key, rates, np.int64(k0), dt, True, np.zeros(0, np.int64), np.int64(0))


def refractory_counts(key, rates, k0, dt, last, refractory_ticks):
    """Counts uint16 [n, m], at most 1 per tick: a channel that is not refractory (its last spike,
    ``last[i]`` grid index, more than ``refractory_ticks`` ago) fires with probability
    ``1 - exp(-rate dt / 1000)``; ``last`` is updated in place."""
    return _rate_counts(key, rates, np.int64(k0), dt, False, last, np.int64(refractory_ticks))


@njit(cache=True)
def lif_counts(rates, v, tau, dt):
    """Counts uint16 [n, m] of a leaky integrate-and-fire unit per channel driven by ``rates``
    (Hz): ``v = I + (v - I) exp(-dt / tau)`` (exact for an input held over the tick) with
    ``I = 1 / (1 - exp(-1000 / (rate tau)))`` (a constant rate fires at that rate), threshold 1,
    reset by subtraction; ``v`` is updated in place."""
    n, m = rates.shape
    out = np.zeros((n, m), np.uint16)
    decay = math.exp(-dt / tau)
    for j in range(n):
        for i in range(m):
            r = rates[j, i]
            drive = 1.0 / (1.0 - math.exp(-1000.0 / (r * tau))) if r > 0.0 else 0.0
            v[i] = drive + (v[i] - drive) * decay
            c = 0
            while v[i] >= 1.0 and c < 65535:
                v[i] -= 1.0
                c += 1
            out[j, i] = c
    return out
