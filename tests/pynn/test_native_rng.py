"""sim.NativeRNG: PyNN's native generator, drawn from neurohybrid's keyed streams: reproducible
from setup(seed=...), exact in distribution, usable by connectors and RandomDistribution."""
import numpy as np
import pytest
import scipy.stats
from pyNN.random import RandomDistribution

import neurohybrid.pynn as sim
from neurohybrid import errors


@pytest.fixture
def session(tmp_path):
    sim.setup(timestep=0.1, recording_path=tmp_path / "run.h5", seed=11)
    yield tmp_path
    sim.end()


def _draw(seed, rng_seed, tmp_path):
    sim.setup(recording_path=tmp_path / f"{seed}.h5", seed=seed)
    values = sim.NativeRNG(seed=rng_seed).next(50)
    sim.end()
    return values


def test_reproducible_from_the_global_seed(tmp_path):
    a, b = _draw(1, 9, tmp_path), _draw(1, 9, tmp_path)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, _draw(2, 9, tmp_path))  # another global seed: another stream
    assert not np.array_equal(a, _draw(1, 8, tmp_path))  # another NativeRNG seed: another stream


def test_unseeded_instances_are_distinct_and_reproducible(session):
    first, second = sim.NativeRNG().next(20), sim.NativeRNG().next(20)
    assert not np.array_equal(first, second)
    sim.setup(recording_path=session / "again.h5", seed=11)
    np.testing.assert_array_equal(sim.NativeRNG().next(20), first)


def test_draws_continue_the_stream(session):
    rng = sim.NativeRNG(seed=4)
    head = np.concatenate([rng.next(7), rng.next(5)])
    np.testing.assert_array_equal(head, sim.NativeRNG(seed=4).next(12))


@pytest.mark.parametrize("name, params, dist", [
    ("uniform", {"low": -65.0, "high": -55.0}, scipy.stats.uniform(-65, 10)),
    ("normal", {"mu": -1.0, "sigma": 0.5}, scipy.stats.norm(-1, 0.5)),
    ("exponential", {"beta": 10.0}, scipy.stats.expon(scale=10)),
    ("gamma", {"k": 2.0, "theta": 0.5}, scipy.stats.gamma(2.0, scale=0.5)),
    ("lognormal", {"mu": 0.0, "sigma": 0.5}, scipy.stats.lognorm(0.5)),
    ("normal_clipped", {"mu": 0.5, "sigma": 0.5, "low": 0.0, "high": 10.0}, scipy.stats.truncnorm(-1, 19, 0.5, 0.5)),
])
def test_continuous_distributions(session, name, params, dist):
    x = RandomDistribution(name, rng=sim.NativeRNG(seed=1), **params).next(20000)
    assert scipy.stats.kstest(x, dist.cdf).pvalue > 1e-3


@pytest.mark.parametrize("name, params, mean, var", [
    ("poisson", {"lambda_": 3.0}, 3.0, 3.0),
    ("binomial", {"n": 10, "p": 0.3}, 3.0, 2.1),
    ("uniform_int", {"low": 0, "high": 4}, 1.5, 1.25),
])
def test_discrete_distributions(session, name, params, mean, var):
    x = RandomDistribution(name, rng=sim.NativeRNG(seed=2), **params).next(40000)
    assert x.dtype.kind == "i"
    assert abs(x.mean() - mean) < 5 * np.sqrt(var / x.size)
    assert abs(x.var() - var) < 0.05 * var


def test_clipped_to_boundary(session):
    x = RandomDistribution("normal_clipped_to_boundary", mu=0.0, sigma=1.0, low=-0.5, high=0.5,
                           rng=sim.NativeRNG()).next(10000)
    assert x.min() == -0.5 and x.max() == 0.5
    assert abs((x == 0.5).mean() - scipy.stats.norm.sf(0.5)) < 0.02


def test_connector_and_weights_from_a_native_rng(session):
    pre = sim.Population(30, sim.SpikeSourcePoisson(rate=10.0), label="pre")
    post = sim.Population(30, sim.IF_cond_exp(), label="post")
    native = sim.NativeRNG(seed=87354762)
    prj = sim.Projection(pre, post, sim.FixedProbabilityConnector(0.7, rng=native),
                         sim.StaticSynapse(weight=RandomDistribution("normal", mu=0.5, sigma=0.01, rng=native),
                                           delay=0.5))
    assert abs(len(prj) / 900 - 0.7) < 0.05
    w = prj.get("weight", format="list", with_address=False)
    assert abs(np.mean(w) - 0.5) < 0.005 and 0.005 < np.std(w) < 0.015
    sim.run(10.0)


def test_bad_distribution(session):
    with pytest.raises(errors.ParameterError, match="distribution"):
        sim.NativeRNG().next(3, "cauchy", {"x0": 0.0})
    with pytest.raises(errors.ParameterError, match="parameters"):
        sim.NativeRNG().next(3, "normal", {"mean": 0.0, "std": 1.0})


def test_drawing_before_setup_is_an_error(session):
    rng = sim.NativeRNG()
    sim.end()
    with pytest.raises(errors.SimulationStateError, match="NativeRNG"):
        rng.next(3)
