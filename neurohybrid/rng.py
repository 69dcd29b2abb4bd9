"""Counter-based random streams keyed by (global seed, node, purpose).

DESIGN.md asks that a result does not depend on how the model is partitioned, on the engine,
on the window (macro-step) size or on the number of threads. A sequential generator cannot
promise that: its n-th number depends on how many numbers were drawn before. Here every random
number is instead a pure function of a *key* and of *counters*::

    key = stream_key(seed, "population-3", "poisson")   # once, in Python
    u   = uniform(key, neuron_index, tick)               # anywhere, in any order, in numba

so the draw for (neuron 17, tick 4096) is the same whether it is computed first or last, in one
window or in another, on one thread or on eight.

How a draw is made
------------------
``bits64(key, a, b, c)`` hashes the 64-bit key and three 64-bit counters with a chain of
SplitMix64 finalisers (Steele, Lea & Flood 2014; each finaliser is a bijection of 64-bit words
with full avalanche). Each counter is first multiplied by its own odd constant (a bijection), so
for fixed other inputs distinct counter values give distinct outputs. ``uniform`` keeps the top
53 bits, so it returns one of the 2**53 doubles ``m * 2**-53`` in [0, 1).

The distribution functions take a key and two counters (``a``, ``b``) and draw as many
uniforms as they need from the third counter ``c``. Each distribution uses its own range of
``c`` (tagged in the top byte), so ``uniform(k, a, b)``, ``normal(k, a, b)`` and
``poisson(k, a, b, lam)`` are independent of each other. ``uniform_at(k, a, b, c)`` exposes
the third counter for callers that need several uniforms per cell; it is the same stream as
``uniform`` (``uniform(k, a, b) == uniform_at(k, a, b, 0)``), and callers must keep ``c``
below ``2**56`` to stay clear of the tagged ranges.

Counters may be any integers (negative ones are taken modulo 2**64); from Python pass counters
below 2**63 (numba types larger Python ints as uint64, and a dispatcher already compiled for
int64 refuses them). Keys are the ``numpy.uint64`` values returned by :func:`stream_key`;
:func:`subkey` derives a child key inside numba code.

All numba functions are ``@njit(cache=True)`` and can be called from other numba kernels or
from Python (they then compile on first use). Numba's on-disk cache of a *calling* kernel does
not notice edits to this file: after changing a draw here, delete the ``*.nbi``/``*.nbc`` files
of the callers (or all ``__pycache__``) or they keep the old draws.
"""
from __future__ import annotations

import hashlib
import math
import numbers

import numpy as np
from numba import njit

__all__ = [
    "stream_key", "subkey", "bits64", "uniform", "uniform_at", "normal", "exponential",
    "poisson", "gamma", "POISSON_INVERSION_MAX",
]

# SplitMix64 constants (Steele, Lea & Flood 2014) and distinct odd multipliers for the
# counters, taken from the "golden ratio"/Weyl family used by SplitMix and xxHash.
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_CA = np.uint64(0xD1B54A32D192ED03)
_CB = np.uint64(0xAEF17502108EF2D9)
_CC = np.uint64(0xDB4F0B9175AE2165)
_CK = np.uint64(0x8CB92BA72F3D8DD7)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TWO_M53 = 1.0 / 9007199254740992.0  # 2**-53

# Tags in the top byte of the third counter keep the distributions' sub-streams apart.
_TAG_NORMAL = np.uint64(1 << 56)
_TAG_EXPONENTIAL = np.uint64(2 << 56)
_TAG_POISSON = np.uint64(3 << 56)
_TAG_GAMMA = np.uint64(4 << 56)

#: Means up to this use sequential-search inversion; larger ones use PTRS (Hörmann 1993).
POISSON_INVERSION_MAX = 10.0

_TWO_PI = 2.0 * math.pi


def stream_key(seed: int, *names) -> np.uint64:
    """Return the 64-bit key of the random stream named by ``seed`` and ``names``.

    The key is the first 8 bytes (little-endian) of BLAKE2b over a canonical text encoding of
    the parts: each part is written as ``i:<decimal>`` (integers, including numpy integers and
    bools) or ``s:<text>`` (strings), and the parts are joined with the ASCII unit separator
    (0x1f). So the key is stable across Python and numpy versions and platforms, and
    ``stream_key(1, "pop", 3)`` differs from ``stream_key(1, "pop3")`` and from
    ``stream_key(1, "pop", "3")``.

    Parameters
    ----------
    seed : int
        The global seed of the run.
    *names : int or str
        What the stream is for, from the outermost scope inwards, e.g. node name and purpose.

    Returns
    -------
    numpy.uint64
        The key. It is a ``numpy.uint64`` rather than a Python ``int`` so that numba always
        types it as uint64: a dispatcher that has compiled for an int64 key would otherwise
        refuse a later key of 2**63 or more with OverflowError. ``int(key)`` gives the
        Python integer.
    """
    parts = []
    for part in (seed,) + names:
        if isinstance(part, (numbers.Integral, np.integer)):
            parts.append(f"i:{int(part)}")
        elif isinstance(part, (str, np.str_)):
            parts.append(f"s:{str(part)}")
        else:
            raise TypeError(f"stream_key: part {part!r} has type {type(part).__name__} "
                            f"(accepted: int or str)")
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


@njit(cache=True, inline="always")
def _mix(z):
    """SplitMix64 finaliser: a bijection of uint64 with full avalanche."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def bits64(key, a, b, c):
    """64 random bits (uint64) for key ``key`` and counters ``a``, ``b``, ``c`` (any integers)."""
    h = _mix(np.uint64(key) ^ _GOLDEN)
    h = _mix(h ^ (np.uint64(a) * _CA))
    h = _mix(h ^ (np.uint64(b) * _CB))
    h = _mix(h ^ (np.uint64(c) * _CC))
    return h


@njit(cache=True, inline="always")
def counter_prefix(key, a):
    """The part of :func:`bits64` that depends only on ``key`` and ``a``: hoisting it out of a
    loop over ``b`` makes each draw two mixing rounds instead of four (same values)."""
    return _mix(_mix(np.uint64(key) ^ _GOLDEN) ^ (np.uint64(a) * _CA))


@njit(cache=True, inline="always")
def uniform_from_prefix(prefix, b):
    """``uniform(key, a, b)`` given ``prefix = counter_prefix(key, a)`` (identical value)."""
    h = _mix(_mix(prefix ^ (np.uint64(b) * _CB)) ^ (np.uint64(0) * _CC))
    return np.float64(h >> _S11) * _TWO_M53


@njit(cache=True)
def subkey(key, x):
    """Child key (uint64) of ``key`` for integer ``x``: ``subkey(k, x)`` is a new, independent stream.

    Called from Python, numba returns the key as a Python ``int``; wrap it in ``numpy.uint64``
    before passing it to these functions from Python (see :func:`stream_key` for why).
    """
    return _mix(_mix(np.uint64(key) ^ _CK) ^ (np.uint64(x) * _CA + _GOLDEN))


@njit(cache=True, inline="always")
def _u(key, a, b, c):
    return float(bits64(key, a, b, c) >> _S11) * _TWO_M53


@njit(cache=True)
def uniform_at(key, a, b, c):
    """The ``c``-th uniform float64 in [0, 1) of cell (``a``, ``b``) of stream ``key`` (keep c < 2**56)."""
    return _u(key, a, b, c)


@njit(cache=True)
def uniform(key, a, b):
    """Uniform float64 in [0, 1) (53 random bits) for stream ``key`` at counters ``a``, ``b``."""
    return _u(key, a, b, 0)


@njit(cache=True, inline="always")
def _normal_c(key, a, b, c):
    # Box-Muller with the first uniform mapped to (0, 1] so the log is finite.
    u1 = 1.0 - _u(key, a, b, c)
    u2 = _u(key, a, b, c + np.uint64(1))
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(_TWO_PI * u2)


@njit(cache=True)
def normal(key, a, b):
    """Standard normal float64 (mean 0, sd 1; Box-Muller) for stream ``key`` at counters ``a``, ``b``."""
    return _normal_c(key, a, b, _TAG_NORMAL)


@njit(cache=True)
def exponential(key, a, b):
    """Exponential float64 with mean 1 (inversion) for stream ``key`` at counters ``a``, ``b``."""
    return -math.log(1.0 - _u(key, a, b, _TAG_EXPONENTIAL))


@njit(cache=True)
def poisson(key, a, b, lam):
    """Poisson-distributed int64 with mean ``lam`` for stream ``key`` at counters ``a``, ``b``.

    Exact in distribution for every finite ``lam >= 0``: sequential-search inversion for
    ``lam <= POISSON_INVERSION_MAX`` (one uniform), PTRS transformed rejection (Hörmann 1993,
    the method numpy uses) above. Returns -1 for a negative, NaN or infinite ``lam``.
    """
    if not (lam >= 0.0) or lam == math.inf:
        return np.int64(-1)
    if lam == 0.0:
        return np.int64(0)
    c = _TAG_POISSON
    one = np.uint64(1)
    if lam <= POISSON_INVERSION_MAX:
        u = _u(key, a, b, c)
        p = math.exp(-lam)
        s = p
        x = np.int64(0)
        # p > 0 stops the search if rounding leaves s just below a u very close to 1.
        while u >= s and p > 0.0:
            x += 1
            p *= lam / x
            s += p
        return x
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    bb = 0.931 + 2.53 * slam
    aa = -0.059 + 0.02483 * bb
    invalpha = 1.1239 + 1.1328 / (bb - 3.4)
    vr = 0.9277 - 3.6224 / (bb - 2.0)
    while True:
        uu = _u(key, a, b, c) - 0.5
        v = _u(key, a, b, c + one)
        c += np.uint64(2)
        us = 0.5 - abs(uu)
        k = math.floor((2.0 * aa / us + bb) * uu + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return np.int64(k)
        if k < 0.0 or (us < 0.013 and v > us):
            continue
        if (math.log(v) + math.log(invalpha) - math.log(aa / (us * us) + bb)
                <= -lam + k * loglam - math.lgamma(k + 1.0)):
            return np.int64(k)


@njit(cache=True)
def gamma(key, a, b, shape):
    """Gamma-distributed float64 with shape ``shape`` and scale 1 (mean = ``shape``).

    Marsaglia & Tsang (2000) squeeze/rejection for shape >= 1; for 0 < shape < 1 the
    boost ``G(shape + 1) * U**(1/shape)``. Exact in distribution. Returns NaN for a shape that is
    not > 0 (or is infinite).
    """
    if not (shape > 0.0) or shape == math.inf:
        return math.nan
    c = _TAG_GAMMA
    boost = 1.0
    if shape < 1.0:
        boost = (1.0 - _u(key, a, b, c)) ** (1.0 / shape)  # (0, 1]: avoids 0 ** (1/shape)
        c += np.uint64(1)
        shape += 1.0
    d = shape - 1.0 / 3.0
    cc = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = _normal_c(key, a, b, c)
        u = _u(key, a, b, c + np.uint64(2))
        c += np.uint64(3)
        v = 1.0 + cc * x
        if v <= 0.0:
            continue
        v = v * v * v
        x2 = x * x
        if u < 1.0 - 0.0331 * x2 * x2:
            return d * v * boost
        if u > 0.0 and math.log(u) < 0.5 * x2 + d * (1.0 - v + math.log(v)):
            return d * v * boost
