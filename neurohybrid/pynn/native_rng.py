"""``sim.NativeRNG``: PyNN's "use the simulator's own generator", drawing from neurohybrid's
counter-based keyed streams (:mod:`neurohybrid.rng`).

The i-th number an instance draws in a session is a pure function of the session's global seed
(``setup(seed=...)``), the instance's own seed (or, for an unseeded instance, the order in which
the session's unseeded instances first drew) and i: the same script gives the same numbers on
every run, thread count and partitioning, and a new ``setup()`` restarts every instance's
stream. Each number comes from one keyed uniform u in (0, 1), mapped through the inverse of the
distribution's cumulative distribution function (SciPy's ``ppf``), so every distribution PyNN
names is exact in distribution; ``normal_clipped`` is the truncated normal (what PyNN's
redrawing produces), ``normal_clipped_to_boundary`` the normal clipped to [low, high].
"""
from __future__ import annotations

import numpy as np
import scipy.stats
from numba import njit
from pyNN import random as pynn_random

from .. import rng as keyed
from ..errors import ParameterError
from . import simulator


@njit(cache=True)
def _uniforms(key, first, n):
    """n keyed uniforms in (0, 1) (midpoints of the 2**-53 grid), numbers first..first+n-1."""
    out = np.empty(n)
    for i in range(n):
        out[i] = keyed.uniform(key, 0, first + i) + 2.0 ** -54
    return out


def _uniform_int(u, low, high):  # numpy's randint(low, high): integers low..high-1
    return np.floor(low + u * (high - low))


#: distribution -> (its PyNN parameter names, u -> values)
_INVERSE_CDF = {
    "uniform": (("low", "high"), lambda u, low, high: low + u * (high - low)),
    "uniform_int": (("low", "high"), _uniform_int),
    "normal": (("mu", "sigma"), lambda u, mu, sigma: scipy.stats.norm.ppf(u, mu, sigma)),
    "normal_clipped": (("mu", "sigma", "low", "high"), lambda u, mu, sigma, low, high: scipy.stats.truncnorm.ppf(
        u, (low - mu) / sigma, (high - mu) / sigma, mu, sigma)),
    "normal_clipped_to_boundary": (("mu", "sigma", "low", "high"), lambda u, mu, sigma, low, high: np.clip(
        scipy.stats.norm.ppf(u, mu, sigma), low, high)),
    "lognormal": (("mu", "sigma"), lambda u, mu, sigma: np.exp(scipy.stats.norm.ppf(u, mu, sigma))),
    "exponential": (("beta",), lambda u, beta: scipy.stats.expon.ppf(u, scale=beta)),
    "gamma": (("k", "theta"), lambda u, k, theta: scipy.stats.gamma.ppf(u, k, scale=theta)),
    "poisson": (("lambda_",), lambda u, lam: scipy.stats.poisson.ppf(u, lam)),
    "binomial": (("n", "p"), lambda u, n, p: scipy.stats.binom.ppf(u, n, p)),
    "vonmises": (("mu", "kappa"), lambda u, mu, kappa: scipy.stats.vonmises.ppf(u, kappa, loc=mu)),
}


class NativeRNG(pynn_random.NativeRNG, pynn_random.WrappedRNG):
    """The backend's own generator (neurohybrid's keyed streams), usable wherever PyNN takes an
    RNG (connectors, ``RandomDistribution``). ``seed`` (int, optional) selects the stream within
    the session; without it, unseeded instances get distinct streams in the order they first
    draw. ``parallel_safe`` is accepted for PyNN compatibility (the streams always are)."""

    def __init__(self, seed=None, parallel_safe=True):
        pynn_random.WrappedRNG.__init__(self, seed, parallel_safe)
        self._session = None  # the session the stream belongs to
        self._key = None
        self._drawn = 0

    def __deepcopy__(self, memo):  # a copy continues the same stream independently
        other = NativeRNG(self.seed, self.parallel_safe)
        other._session, other._key, other._drawn = self._session, self._key, self._drawn
        return other

    def _stream(self):
        state = simulator.state
        state._check_usable("draw from a NativeRNG")
        if self._session is not state.network:
            self._session, self._drawn = state.network, 0
            if self.seed is None:
                number = getattr(state.network, "unseeded_native_rngs", 0)
                state.network.unseeded_native_rngs = number + 1
                self._key = keyed.stream_key(state.seed, "NativeRNG", "unseeded", number)
            else:
                self._key = keyed.stream_key(state.seed, "NativeRNG", "seed", int(self.seed))
        return self._key

    def _next(self, distribution, n, parameters):
        if distribution not in _INVERSE_CDF:
            raise ParameterError(self, "distribution", f"{distribution!r} is not a PyNN distribution",
                                 ", ".join(sorted(_INVERSE_CDF)))
        names, inverse = _INVERSE_CDF[distribution]
        if set(parameters) != set(names):
            raise ParameterError(self, "parameters", f"{distribution} got {sorted(parameters)}", ", ".join(names))
        key = self._stream()
        u = _uniforms(key, self._drawn, int(n))
        self._drawn += int(n)
        values = np.asarray(inverse(u, *[parameters[k] for k in names]), dtype=float)
        if distribution in ("uniform_int", "poisson", "binomial"):
            values = values.astype(int)
        return values

    def describe(self):
        return f"NativeRNG(seed={self.seed}): neurohybrid's keyed streams (keyed by setup(seed=...) and this seed)"
