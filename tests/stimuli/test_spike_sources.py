"""Tests of the emulator's spike sources: statistics, time windows, window-size independence,
determinism, parameter changes and validation."""
import math

import numpy as np
import pytest

from neurohybrid.stimuli.spike_sources import (SPIKE_SOURCES, SpikeSourceArray, SpikeSourceGamma,
                                                   SpikeSourcePoisson, SpikeSourcePoissonRefractory)
from neurohybrid.errors import ParameterError, SimulationStateError, UnknownParameterError
from neurohybrid.rng import stream_key

DT = 0.1
KEY = stream_key(7, "tests", "sources")
OTHER_KEY = stream_key(8, "tests", "sources")


def run_windows(src, widths, t0=0):
    ticks, ids = [], []
    for w in widths:
        t, i = src.emit(t0, w)
        ticks.append(t)
        ids.append(i)
        t0 += w
    return np.concatenate(ticks), np.concatenate(ids)


def trains(ticks, ids, n):
    """Spike times (ms, the grid time k*dt of emission tick k-1) per neuron."""
    return [(ticks[ids == i] + 1) * DT for i in range(n)]


def isis(ticks, ids, n):
    return np.concatenate([np.diff(t) for t in trains(ticks, ids, n)])


def assert_sorted(ticks, ids):
    assert ticks.dtype == np.int64 and ids.dtype == np.int64
    order = np.lexsort((ids, ticks))
    assert np.array_equal(order, np.arange(ticks.size))


def make(cls, n=1, key=KEY, **params):
    params = {k: np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy() for k, v in params.items()}
    return cls(params, key, DT)


RANDOM_SOURCES = [
    (SpikeSourcePoisson, {"rate": 40.0}),
    (SpikeSourcePoissonRefractory, {"rate": 40.0, "tau_refrac": 3.0}),
    (SpikeSourceGamma, {"alpha": 3.0, "beta": 120.0}),
]


# --- statistics ------------------------------------------------------------------------------

def test_poisson_rate_fano_and_cv():
    n, ticks_total = 200, 100_000  # 10 s
    ticks, ids = make(SpikeSourcePoisson, n, rate=20.0).emit(0, ticks_total)
    assert_sorted(ticks, ids)
    rate = ticks.size / n / 10.0
    assert rate == pytest.approx(20.0, rel=0.03)
    per_neuron = np.bincount(ids, minlength=n)
    assert per_neuron.min() > 100  # every neuron fires, not a few at high rate
    counts = np.histogram2d(ids, ticks, bins=[n, 100], range=[[0, n], [-1, ticks_total - 1]])[0]
    fano = counts.var() / counts.mean()
    assert fano == pytest.approx(1.0, abs=0.08)
    d = isis(ticks, ids, n)
    assert d.std() / d.mean() == pytest.approx(1.0, abs=0.05)


def test_poisson_counts_per_tick_are_poisson_with_multiplicity():
    # rate * dt = 2 expected spikes per tick
    n, t = 5, 20_000
    ticks, ids = make(SpikeSourcePoisson, n, rate=20_000.0).emit(0, t)
    assert_sorted(ticks, ids)
    counts = np.zeros((n, t), dtype=int)
    np.add.at(counts, (ids, ticks + 1), 1)
    assert counts.max() >= 6  # several spikes in one tick are reported
    assert counts.mean() == pytest.approx(2.0, rel=0.02)
    assert counts.var() == pytest.approx(2.0, rel=0.05)
    assert np.mean(counts == 0) == pytest.approx(math.exp(-2), rel=0.05)
    assert abs(np.corrcoef(counts[0, :-1], counts[0, 1:])[0, 1]) < 0.04


def test_refractory_rate_min_isi_and_cv():
    n, total = 100, 100_000
    ticks, ids = make(SpikeSourcePoissonRefractory, n, rate=50.0, tau_refrac=5.0).emit(0, total)
    assert_sorted(ticks, ids)
    assert ticks.size / n / 10.0 == pytest.approx(50.0, rel=0.03)
    d = isis(ticks, ids, n)
    assert d.min() >= 5.0 - 1e-9
    assert d.min() < 5.0 + 2 * DT  # the dead time is not longer than asked either
    # ISI = 5 ms + Exp(15 ms): CV = 15 / 20
    assert d.std() / d.mean() == pytest.approx(0.75, abs=0.03)


def test_refractory_at_maximal_rate_is_regular():
    ticks, ids = make(SpikeSourcePoissonRefractory, 3, rate=100.0, tau_refrac=10.0).emit(0, 10_000)
    d = isis(ticks, ids, 3)
    assert d.size > 250
    assert np.allclose(d, 10.0)


@pytest.mark.parametrize("alpha", [0.5, 4.0])
def test_gamma_rate_and_cv(alpha):
    n, total = 100, 100_000
    rate = 20.0
    ticks, ids = make(SpikeSourceGamma, n, alpha=alpha, beta=alpha * rate).emit(0, total)
    assert_sorted(ticks, ids)
    assert ticks.size / n / 10.0 == pytest.approx(rate, rel=0.04)
    d = isis(ticks, ids, n)
    assert d.std() / d.mean() == pytest.approx(1 / math.sqrt(alpha), rel=0.05)


EQUILIBRIUM_CASES = RANDOM_SOURCES + [
    (SpikeSourceGamma, {"alpha": 8.0, "beta": 320.0}),
    (SpikeSourcePoissonRefractory, {"rate": 80.0, "tau_refrac": 10.0}),  # 80 % of time in dead time
]


@pytest.mark.parametrize("cls,params", EQUILIBRIUM_CASES)
def test_renewal_sources_start_in_equilibrium(cls, params):
    """The rate in the first few ms after start is already the stationary rate."""
    n = 16000  # ~6000 spikes expected: sd 1.3 %, so the 5 % tolerance is about 4 sd
    src = make(cls, n, start=100.0, **params)
    ticks, _ = src.emit(0, 1101)  # grid points up to 110.0 ms: the first 10 ms of activity
    rate = ticks.size / n / 0.010
    expected = params.get("rate", params.get("beta", 0) / params.get("alpha", 1))
    assert rate == pytest.approx(expected, rel=0.05)


def test_neurons_are_independent():
    n, total = 2, 200_000
    ticks, ids = make(SpikeSourcePoisson, n, rate=50.0).emit(0, total)
    c = np.histogram2d(ids, ticks, bins=[2, 2000], range=[[0, 2], [-1, total - 1]])[0]
    assert abs(np.corrcoef(c[0], c[1])[0, 1]) < 4 / math.sqrt(2000)


# --- time windows ----------------------------------------------------------------------------

@pytest.mark.parametrize("cls,params", RANDOM_SOURCES)
def test_start_and_duration_are_honoured(cls, params):
    n = 50
    src = make(cls, n, start=20.0, duration=30.0, **params)
    ticks, ids = src.emit(0, 1000)
    times = (ticks + 1) * DT
    assert ticks.size > 20
    # active on (start, start + duration]: grid points k with 200 < k <= 500
    assert ticks.min() + 1 > 200 and ticks.max() + 1 <= 500
    # and active all through it
    assert np.sum(times <= 25.0) > 0 and np.sum(times > 45.0) > 0


def test_poisson_partial_tick_at_off_grid_start_gets_a_proportional_mean():
    n = 20_000
    # start 10.05 ms: grid interval (10.0, 10.1] is half inside the active period
    ticks, _ = make(SpikeSourcePoisson, n, rate=1000.0, start=10.05, duration=0.15).emit(0, 200)
    per_tick = np.bincount(ticks + 1, minlength=200)
    assert per_tick[:101].sum() == 0 and per_tick[103:].sum() == 0
    # expected 0.05 and 0.1 spikes per neuron at grid 101 and 102 (0.05 ms and 0.1 ms)
    assert per_tick[101] / n == pytest.approx(0.05, rel=0.1)
    assert per_tick[102] / n == pytest.approx(0.10, rel=0.1)


def test_array_spikes_at_exactly_the_given_grid_ticks():
    times = [np.array([0.0, 0.1, 0.1, 5.0, 12.3]), np.array([]), np.array([0.26, 99.9])]
    src = SpikeSourceArray({"spike_times": times}, KEY, DT)
    ticks, ids = src.emit(0, 2000)
    assert_sorted(ticks, ids)
    expected = sorted([(-1, 0), (0, 0), (0, 0), (49, 0), (122, 0), (2, 2), (998, 2)])
    assert list(zip(ticks.tolist(), ids.tolist())) == expected


def test_array_times_off_the_grid_as_nest():
    """NEST 3.10's spike_generator (allow_offgrid_times=True; pyNN.nest's precise generator feeding
    an on-grid parrot neuron gives the same) at resolution 0.1 ms records these input times at the
    times below (nest.Create('spike_generator', ...) -> spike_recorder; numbers stored once)."""
    times = [0.02, 1.0004, 1.0006, 1.04, 1.05, 1.0995, 2.0, 3.15]
    nest_recorded = [0.1, 1.0, 1.1, 1.1, 1.1, 1.1, 2.0, 3.2]
    ticks, _ = SpikeSourceArray({"spike_times": [np.array(times)]}, KEY, 0.1).emit(0, 100)
    np.testing.assert_allclose((ticks + 1) * 0.1, nest_recorded)  # emission tick k is stamped (k + 1) dt


def test_array_windows_are_half_open():
    src = SpikeSourceArray({"spike_times": [np.array([0.0, 1.0, 1.1, 2.0])]}, KEY, DT)
    # window [t0, t0+n) returns emission ticks in [t0 - 1, t0 + n - 1)
    assert src.emit(0, 10)[0].tolist() == [-1]
    assert src.emit(10, 1)[0].tolist() == [9]
    assert src.emit(11, 9)[0].tolist() == [10]
    assert src.emit(20, 1)[0].tolist() == [19]
    assert src.emit(21, 100)[0].tolist() == []


def test_array_accepts_pynn_sequences():
    from pyNN.parameters import Sequence
    src = SpikeSourceArray({"spike_times": [Sequence([1.0, 2.0]), Sequence([0.5])]}, KEY, DT)
    ticks, ids = src.emit(0, 100)
    assert list(zip(ticks.tolist(), ids.tolist())) == [(4, 1), (9, 0), (19, 0)]


# --- window-size independence and determinism ------------------------------------------------

ALL_SOURCES = RANDOM_SOURCES + [
    (SpikeSourcePoisson, {"rate": 3000.0}),  # several spikes per tick
    (SpikeSourceGamma, {"alpha": 0.3, "beta": 60.0}),
]


@pytest.mark.parametrize("cls,params", ALL_SOURCES)
def test_same_spikes_whatever_the_window_sizes(cls, params):
    n, total = 20, 3000
    reference = make(cls, n, start=1.0, duration=250.0, **params).emit(0, total)
    assert reference[0].size > 50
    for widths in ([1] * total, [7] * (total // 7 + 1), [15] * 200, [1000] * 3, [1, 7, 15, 1000] * 3):
        src = make(cls, n, start=1.0, duration=250.0, **params)
        ticks, ids = run_windows(src, widths)
        keep = ticks < total - 1
        assert np.array_equal(ticks[keep], reference[0]) and np.array_equal(ids[keep], reference[1]), widths


def test_array_same_spikes_whatever_the_window_sizes():
    rng = np.random.default_rng(1)
    times = [np.sort(rng.uniform(0, 300, 40).round(1)) for _ in range(10)]
    reference = SpikeSourceArray({"spike_times": times}, KEY, DT).emit(0, 3001)
    for widths in ([1] * 3001, [7] * 429, [15] * 201, [1000] * 4):
        ticks, ids = run_windows(SpikeSourceArray({"spike_times": times}, KEY, DT), widths)
        keep = ticks < 3000
        assert np.array_equal(ticks[keep], reference[0]) and np.array_equal(ids[keep], reference[1])
    assert reference[0].size == 400


@pytest.mark.parametrize("cls,params", RANDOM_SOURCES)
def test_deterministic_and_reset_replays(cls, params):
    a = make(cls, 10, **params)
    first = a.emit(0, 5000)
    b = make(cls, 10, **params)
    assert all(np.array_equal(x, y) for x, y in zip(first, b.emit(0, 5000)))
    a.reset()
    assert all(np.array_equal(x, y) for x, y in zip(first, run_windows(a, [3000, 2000])))


@pytest.mark.parametrize("cls,params", RANDOM_SOURCES)
def test_different_keys_give_independent_trains(cls, params):
    n, total = 50, 20_000
    a = make(cls, n, **params).emit(0, total)
    b = make(cls, n, key=OTHER_KEY, **params).emit(0, total)
    sa = set(zip(*[x.tolist() for x in a]))
    sb = set(zip(*[x.tolist() for x in b]))
    assert len(sa) > 1000 and len(sb) > 1000
    # coincident (tick, neuron) pairs at chance level: P(spike in a given tick) = rate * dt
    p_tick = len(sb) / (n * total)
    expected = p_tick * len(sa)
    assert len(sa & sb) < expected + 5 * math.sqrt(expected) + 1


def test_going_back_in_time_is_refused_but_gaps_are_skipped():
    src = make(SpikeSourcePoisson, 5, rate=100.0)
    ref = src.emit(0, 3000)
    src.reset()
    src.emit(0, 1000)
    with pytest.raises(SimulationStateError):
        src.emit(500, 10)
    ticks, ids = src.emit(2000, 1000)  # ticks 1000..1999 skipped
    keep = ref[0] >= 1999
    assert np.array_equal(ticks, ref[0][keep]) and np.array_equal(ids, ref[1][keep])
    assert src.emit(3000, 0)[0].size == 0


# --- parameter changes -----------------------------------------------------------------------

@pytest.mark.parametrize("cls,low,high", [
    (SpikeSourcePoisson, {"rate": 10.0}, {"rate": 80.0}),
    (SpikeSourcePoissonRefractory, {"rate": 10.0, "tau_refrac": 2.0}, {"rate": 80.0}),
    (SpikeSourceGamma, {"alpha": 2.0, "beta": 20.0}, {"beta": 160.0}),
])
def test_set_params_between_runs_takes_effect(cls, low, high):
    n = 200
    src = make(cls, n, **low)
    first = src.emit(0, 10_000)
    src.set_params({k: np.full(n, v) for k, v in high.items()})
    second = src.emit(10_000, 10_000)
    assert first[0].size / n == pytest.approx(10.0, rel=0.1)
    assert second[0].size / n == pytest.approx(80.0, rel=0.05)
    assert second[0].min() >= 9999


def test_set_params_leaves_unchanged_neurons_alone():
    rates = np.array([10.0, 20.0, 30.0])
    src = make(SpikeSourceGamma, 3, alpha=3.0, beta=3 * rates)
    ref = make(SpikeSourceGamma, 3, alpha=3.0, beta=3 * rates).emit(0, 20_000)
    src.emit(0, 10_000)
    src.set_params({"beta": np.array([30.0, 60.0, 900.0])})
    ticks, ids = src.emit(10_000, 10_000)
    keep = (ref[1] < 2) & (ref[0] >= 9999)
    assert np.array_equal(ticks[ids < 2], ref[0][keep])
    assert not np.array_equal(ticks[ids == 2], ref[0][(ref[1] == 2) & (ref[0] >= 9999)])


def test_set_params_before_any_run_equals_building_with_them():
    a = make(SpikeSourcePoissonRefractory, 4, rate=10.0)
    a.set_params({"rate": 40.0, "tau_refrac": 1.0})
    b = make(SpikeSourcePoissonRefractory, 4, rate=40.0, tau_refrac=1.0)
    assert all(np.array_equal(x, y) for x, y in zip(a.emit(0, 5000), b.emit(0, 5000)))


def test_array_set_params_replaces_times():
    src = SpikeSourceArray({"spike_times": [np.array([1.0])]}, KEY, DT)
    src.set_params({"spike_times": [np.array([2.0, 3.0])]})
    assert src.emit(0, 100)[0].tolist() == [19, 29]


def test_scalars_broadcast_and_registry_names():
    src = SpikeSourcePoisson({"rate": np.full(7, 5.0), "start": 0.0}, KEY, DT)
    assert src.n == 7
    assert SPIKE_SOURCES["SpikeSourceGamma"] is SpikeSourceGamma
    assert set(SPIKE_SOURCES) == {"SpikeSourcePoisson", "SpikeSourcePoissonRefractory",
                                  "SpikeSourceGamma", "SpikeSourceArray", "SpikeSourceExternal"}


# --- bad inputs ------------------------------------------------------------------------------

@pytest.mark.parametrize("cls,params,name", [
    (SpikeSourcePoisson, {"rate": [1.0, -1.0]}, "rate"),
    (SpikeSourcePoisson, {"rate": [np.nan, 1.0]}, "rate"),
    (SpikeSourcePoisson, {"rate": [np.inf, 1.0]}, "rate"),
    (SpikeSourcePoisson, {"rate": 1.0, "start": -1.0}, "start"),
    (SpikeSourcePoisson, {"rate": 1.0, "duration": -1.0}, "duration"),
    (SpikeSourcePoissonRefractory, {"rate": 1.0, "tau_refrac": -1.0}, "tau_refrac"),
    (SpikeSourcePoissonRefractory, {"rate": 200.0, "tau_refrac": 6.0}, "tau_refrac"),
    (SpikeSourceGamma, {"alpha": 0.0}, "alpha"),
    (SpikeSourceGamma, {"alpha": -2.0}, "alpha"),
    (SpikeSourceGamma, {"alpha": np.nan}, "alpha"),
    (SpikeSourceGamma, {"beta": -1.0}, "beta"),
    (SpikeSourceArray, {"spike_times": [np.array([2.0, 1.0])]}, "spike_times"),
    (SpikeSourceArray, {"spike_times": [np.array([-1.0, 1.0])]}, "spike_times"),
    (SpikeSourceArray, {"spike_times": [np.array([np.nan])]}, "spike_times"),
    (SpikeSourceArray, {"spike_times": np.array([1.0, 2.0])}, "spike_times"),
])
def test_bad_parameters_raise_parameter_error(cls, params, name):
    with pytest.raises(ParameterError) as info:
        cls(params, KEY, DT)
    assert info.value.parameter == name
    assert name in str(info.value) and "accepted" in str(info.value)


def test_other_bad_inputs():
    with pytest.raises(ParameterError, match="different lengths"):
        SpikeSourcePoisson({"rate": np.ones(3), "start": np.zeros(4)}, KEY, DT)
    with pytest.raises(UnknownParameterError, match="tau_refrac"):
        SpikeSourcePoisson({"tau_refrac": 1.0}, KEY, DT)
    with pytest.raises(ParameterError, match="dt"):
        SpikeSourcePoisson({"rate": 1.0}, KEY, 0.0)
    with pytest.raises(ParameterError, match="key"):
        SpikeSourcePoisson({"rate": 1.0}, -1, DT)
    src = make(SpikeSourcePoisson, 3, rate=1.0)
    with pytest.raises(ParameterError, match="length"):
        src.set_params({"rate": np.ones(4)})
    with pytest.raises(ParameterError, match="rate"):
        src.set_params({"rate": -1.0})
    assert np.all(src.params["rate"] == 1.0)  # a refused change leaves the source as it was
    with pytest.raises(ParameterError, match="n_ticks"):
        src.emit(0, -1)
