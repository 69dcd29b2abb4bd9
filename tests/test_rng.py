"""Tests of neurohybrid.rng: stable keys, uniformity, distributions, independence, determinism.

Every statistical test uses fixed keys, so it is deterministic; thresholds (p > 1e-4, 5 sigma)
are loose enough for a correct generator and far too tight for a biased one.
"""
import hashlib
import math

import numpy as np
import pytest
from numba import njit
from scipy import stats

from neurohybrid import rng

KEY = rng.stream_key(20240601, "tests", "rng")
N = 200_000


@njit
def _uniform_along_a(key, n, b):
    out = np.empty(n)
    for i in range(n):
        out[i] = rng.uniform(key, i, b)
    return out


@njit
def _uniform_along_b(key, a, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = rng.uniform(key, a, i)
    return out


@njit
def _uniform_at_along_c(key, a, b, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = rng.uniform_at(key, a, b, i)
    return out


@njit
def _bits_along_a(key, n):
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        out[i] = rng.bits64(key, i, 0, 0)
    return out


@njit
def _normals(key, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = rng.normal(key, i, 7)
    return out


@njit
def _exponentials(key, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = rng.exponential(key, 3, i)
    return out


@njit
def _poissons(key, n, lam):
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = rng.poisson(key, i, 11, lam)
    return out


@njit
def _gammas(key, n, shape):
    out = np.empty(n)
    for i in range(n):
        out[i] = rng.gamma(key, 5, i, shape)
    return out


# --- keys -----------------------------------------------------------------------------------

def test_stream_key_is_blake2b_of_the_documented_encoding():
    expected = int.from_bytes(hashlib.blake2b("i:7\x1fs:pop\x1fi:3".encode(), digest_size=8).digest(), "little")
    key = rng.stream_key(7, "pop", 3)
    assert isinstance(key, np.uint64)
    assert int(key) == expected


def test_stream_key_distinguishes_parts_and_accepts_numpy_scalars():
    keys = {int(rng.stream_key(1, "pop", 3)), int(rng.stream_key(1, "pop3")), int(rng.stream_key(1, "pop", "3")),
            int(rng.stream_key(2, "pop", 3)), int(rng.stream_key(1, 3, "pop")), int(rng.stream_key(1))}
    assert len(keys) == 6
    assert rng.stream_key(np.int64(1), np.str_("pop"), np.int32(3)) == rng.stream_key(1, "pop", 3)


def test_stream_key_rejects_floats():
    with pytest.raises(TypeError, match="int or str"):
        rng.stream_key(1, 2.5)


def test_keys_above_2_63_and_below_work_in_any_order():
    small, large = np.uint64(5), np.uint64(2 ** 63 + 5)
    a = rng.uniform(small, 1, 2)
    b = rng.uniform(large, 1, 2)
    assert a != b
    assert rng.uniform(small, 1, 2) == a
    # a plain Python int key (int64 typed) gives the same stream as the same uint64
    assert rng.uniform(5, 1, 2) == a


# --- uniform ---------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["a", "b", "c", "keys"])
def test_uniform_is_uniform(which):
    if which == "a":
        u = _uniform_along_a(KEY, N, 0)
    elif which == "b":
        u = _uniform_along_b(KEY, -3, N)
    elif which == "c":
        u = _uniform_at_along_c(KEY, 1, 2, N)
    else:
        u = np.array([rng.uniform(rng.stream_key(9, i), 0, 0) for i in range(20_000)])
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-4
    counts = np.bincount((u * 64).astype(int), minlength=64)
    assert stats.chisquare(counts).pvalue > 1e-4


def test_uniform_has_53_bit_resolution():
    u = _uniform_along_a(KEY, 10_000, 1)
    m = u * 2.0 ** 53
    assert np.array_equal(m, np.floor(m))
    # the low mantissa bits are used, not only the top ones
    assert np.mean(m % 2 == 1) == pytest.approx(0.5, abs=0.03)
    assert np.unique(u).size == u.size


def test_every_bit_is_balanced():
    bits = _bits_along_a(KEY, 100_000)
    for j in range(64):
        frac = np.mean((bits >> np.uint64(j)) & np.uint64(1))
        assert abs(frac - 0.5) < 5 * 0.5 / math.sqrt(bits.size), j


def test_uniform_at_c0_is_uniform():
    assert rng.uniform_at(KEY, 4, 5, 0) == rng.uniform(KEY, 4, 5)
    assert rng.uniform_at(KEY, 4, 5, 1) != rng.uniform(KEY, 4, 5)


# --- independence ----------------------------------------------------------------------------

def _assert_uncorrelated(x, y):
    r = np.corrcoef(x, y)[0, 1]
    assert abs(r) < 5 / math.sqrt(x.size), r


def test_consecutive_counters_are_independent():
    u = _uniform_along_a(KEY, N, 0)
    _assert_uncorrelated(u[:-1], u[1:])
    # joint distribution of neighbours on a 16 x 16 grid
    h = np.histogram2d(u[:-1], u[1:], bins=16, range=[[0, 1], [0, 1]])[0].ravel()
    assert stats.chisquare(h).pvalue > 1e-4
    v = _uniform_along_b(KEY, 0, N)
    _assert_uncorrelated(v[:-1], v[1:])


def test_streams_of_nearby_keys_and_swapped_counters_are_independent():
    k = int(KEY)
    u0 = _uniform_along_a(np.uint64(k), N, 0)
    u1 = _uniform_along_a(np.uint64(k ^ 1), N, 0)
    u2 = _uniform_along_a(np.uint64(k ^ (1 << 63)), N, 0)
    u3 = _uniform_along_a(KEY, N, 1)
    _assert_uncorrelated(u0, u1)
    _assert_uncorrelated(u0, u2)
    _assert_uncorrelated(u0, u3)
    # uniform(k, a, b) is not symmetric in (a, b)
    swapped = _uniform_along_b(KEY, 0, N)
    _assert_uncorrelated(u0[1:], swapped[1:])


def test_distributions_at_the_same_counters_are_independent():
    n = 50_000
    u = _uniform_along_a(KEY, n, 7)
    z = np.array([rng.normal(KEY, i, 7) for i in range(n)])
    e = np.array([rng.exponential(KEY, i, 7) for i in range(n)])
    _assert_uncorrelated(u, z)
    _assert_uncorrelated(u, e)
    _assert_uncorrelated(z, e)


def test_subkeys_are_distinct_and_independent():
    kids = [rng.subkey(KEY, i) for i in range(1000)]
    assert len({int(k) for k in kids}) == 1000
    assert all(int(k) != int(KEY) for k in kids)
    a = _uniform_along_a(np.uint64(rng.subkey(KEY, 0)), N, 0)
    b = _uniform_along_a(np.uint64(rng.subkey(KEY, 1)), N, 0)
    _assert_uncorrelated(a, b)
    assert stats.kstest(a, "uniform").pvalue > 1e-4


# --- determinism -----------------------------------------------------------------------------

def test_draws_are_pure_functions_of_key_and_counters():
    forward = _uniform_along_a(KEY, 1000, 3)
    backward = np.array([rng.uniform(KEY, i, 3) for i in reversed(range(1000))])[::-1]
    assert np.array_equal(forward, backward)
    assert rng.normal(KEY, 1, 2) == rng.normal(KEY, 1, 2)
    assert rng.poisson(KEY, 1, 2, 50.0) == rng.poisson(KEY, 1, 2, 50.0)
    assert rng.gamma(KEY, 1, 2, 0.3) == rng.gamma(KEY, 1, 2, 0.3)
    # negative counters are taken modulo 2**64
    assert rng.uniform(KEY, -1, 0) == _uniform_at_along_c(KEY, -1, 0, 1)[0]
    assert rng.uniform(KEY, -1, 0) != rng.uniform(KEY, 1, 0)


# --- distributions ---------------------------------------------------------------------------

def test_normal_moments_and_shape():
    z = _normals(KEY, N)
    se = 1 / math.sqrt(N)
    assert abs(z.mean()) < 5 * se
    assert abs(z.var() - 1) < 5 * math.sqrt(2) * se
    assert abs(stats.skew(z)) < 5 * math.sqrt(6) * se
    assert abs(stats.kurtosis(z)) < 5 * math.sqrt(24) * se
    assert stats.kstest(z, "norm").pvalue > 1e-4


def test_exponential_moments_and_shape():
    e = _exponentials(KEY, N)
    assert e.min() >= 0
    assert abs(e.mean() - 1) < 5 / math.sqrt(N)
    assert abs(e.var() - 1) < 5 * math.sqrt(8) / math.sqrt(N)
    assert stats.kstest(e, "expon").pvalue > 1e-4


def _poisson_gof_pvalue(x, lam):
    """Chi-square goodness of fit against Poisson(lam), bins merged to >= 20 expected counts."""
    lo, hi = int(stats.poisson.ppf(1e-7, lam)), int(stats.poisson.isf(1e-7, lam)) + 1
    edges = [lo]
    for k in range(lo + 1, hi + 1):
        if (stats.poisson.cdf(k - 1, lam) - stats.poisson.cdf(edges[-1] - 1, lam)) * x.size >= 20:
            edges.append(k)
    edges = np.array(edges[:-1] + [hi])
    probs = np.diff(stats.poisson.cdf(edges - 1, lam))
    probs[0] += stats.poisson.cdf(edges[0] - 1, lam)
    probs[-1] += stats.poisson.sf(edges[-1] - 1, lam)
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)
    observed = np.bincount(idx, minlength=edges.size - 1)
    return stats.chisquare(observed, probs * x.size).pvalue


@pytest.mark.parametrize("lam", [0.01, 0.5, 3.0, 9.99, 10.0, 10.01, 25.0, 200.0, 1e4, 3e4])
def test_poisson_is_exact_in_distribution(lam):
    x = _poissons(KEY, N, lam)
    assert x.min() >= 0
    se = math.sqrt(lam / N)
    assert abs(x.mean() - lam) < 5 * se
    assert abs(x.var() / lam - 1) < 5 * math.sqrt(2 / N + 1 / (lam * N))
    assert _poisson_gof_pvalue(x, lam) > 1e-4


def test_poisson_edge_cases():
    assert np.all(_poissons(KEY, 1000, 0.0) == 0)
    assert rng.poisson(KEY, 0, 0, -1.0) == -1
    assert rng.poisson(KEY, 0, 0, math.nan) == -1
    assert rng.poisson(KEY, 0, 0, math.inf) == -1
    # very small means: P(X >= 1) ~ lam
    x = _poissons(KEY, N, 1e-3)
    assert abs(x.mean() - 1e-3) < 5 * math.sqrt(1e-3 / N)


@pytest.mark.parametrize("shape", [0.2, 0.9, 1.0, 2.5, 30.0])
def test_gamma_is_exact_in_distribution(shape):
    g = _gammas(KEY, N, shape)
    assert g.min() > 0
    assert abs(g.mean() - shape) < 5 * math.sqrt(shape / N)
    assert stats.kstest(g, "gamma", args=(shape,)).pvalue > 1e-4


def test_gamma_rejects_bad_shapes():
    assert math.isnan(rng.gamma(KEY, 0, 0, 0.0))
    assert math.isnan(rng.gamma(KEY, 0, 0, -1.0))
    assert math.isnan(rng.gamma(KEY, 0, 0, math.nan))
