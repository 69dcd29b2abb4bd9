"""Converters: spikes->rates kernels against analytic responses, rates->spikes statistics and
seeding, independence from the window (macro-step) size, field source, state round trip."""
import json

import numba
import numpy as np
import pytest

from neurohybrid import rng
from neurohybrid.converters import FieldSource, RatesToSpikes, SpikesToRates
from neurohybrid.errors import ParameterError
from neurohybrid.kernel import CoSimulation, Recorder, Series, SpikeSource, Spikes

numba.set_num_threads(1)
DT = 0.1


def drive_s2r(conv, spikes, t_stop, chunk):
    """Advance a bound converter directly in windows of ``chunk`` ticks; return all rate samples."""
    conv.bind(DT)
    t, parts = 0, []
    while t < t_stop:
        t1 = min(t + chunk, t_stop)
        a = int(np.searchsorted(spikes.ticks, t)), int(np.searchsorted(spikes.ticks, t1))
        out = conv.advance(t1, {"spikes": Spikes(spikes.ticks[a[0]:a[1]], spikes.index[a[0]:a[1]])})
        parts.append(out["rates"])
        t = t1
    return Series.concat(parts, parts[0])


def drive_r2s(conv, ticks, values, t_stop, chunk):
    """Advance a bound rates->spikes converter with rate samples (ticks, values) in windows."""
    conv.bind(DT)
    ticks = np.asarray(ticks, dtype=np.int64)
    values = np.asarray(values, dtype=float).reshape(ticks.size, -1)
    t, parts = 0, []
    while t < t_stop:
        t1 = min(t + chunk, t_stop)
        a, b = int(np.searchsorted(ticks, t)), int(np.searchsorted(ticks, t1))
        parts.append(conv.advance(t1, {"rates": Series(ticks[a:b], values[a:b], 1)})["spikes"])
        t = t1
    return Spikes.concat(parts)


# ------------------------------------------------------------------------------ spikes -> rates
SPIKE = 50  # tick of the single test spike


def analytic(kernel, u_ms, tau=4.0, width=2.0):
    u = np.asarray(u_ms, dtype=float)
    if kernel == "exponential":
        h = np.exp(-u / tau) / tau
    elif kernel == "alpha":
        h = u / tau ** 2 * np.exp(-u / tau)
    else:
        h = np.where(u < width - 1e-9, 1.0 / width, 0.0)
    return np.where(u >= -1e-9, 1000.0 * h, 0.0)


@pytest.mark.parametrize("kernel", ["exponential", "alpha", "box"])
@pytest.mark.parametrize("chunk", [1, 7, 100])
def test_single_spike_matches_analytic_kernel(kernel, chunk):
    conv = SpikesToRates("s2r", kernel, tau=4.0, width=2.0, period=DT, size=1)
    out = drive_s2r(conv, Spikes.make([SPIKE], [0]), 300, chunk)
    np.testing.assert_array_equal(out.ticks, np.arange(300))
    expected = analytic(kernel, (out.ticks - SPIKE) * DT)
    np.testing.assert_allclose(out.values[:, 0], expected, rtol=1e-12, atol=1e-9)
    # the response integrates to one spike (box exactly; the others up to the 30 ms horizon)
    area = out.values[:, 0].sum() * DT / 1000.0
    assert area == pytest.approx(1.0, abs=0.02 if kernel != "box" else 1e-12)


def test_sampling_period_groups_and_population_normalisation():
    # groups {0,1} and {5}: a spike of neuron 1 counts half in group 0; index 3 is in no group
    conv = SpikesToRates("s2r", "exponential", tau=2.0, period=0.5, groups=[[0, 1], [5]])
    out = drive_s2r(conv, Spikes.make([10, 10, 12], [1, 3, 5]), 40, 9)
    np.testing.assert_array_equal(out.ticks, [0, 5, 10, 15, 20, 25, 30, 35])
    assert out.period == 5
    u = (out.ticks - 10) * DT
    np.testing.assert_allclose(out.values[:, 0], np.where(u >= 0, 0.5 * 1000 / 2.0 * np.exp(-u / 2.0), 0.0))
    u = (out.ticks - 12) * DT
    np.testing.assert_allclose(out.values[:, 1], np.where(u >= 0, 1000 / 2.0 * np.exp(-u / 2.0), 0.0))


@pytest.mark.parametrize("kernel", ["exponential", "alpha", "box"])
def test_poisson_input_gives_its_mean_rate(kernel):
    r = np.random.default_rng(0)
    n, T, rate = 100, 20000, 30.0
    counts = r.poisson(rate * DT * 1e-3, size=(T, n))
    t, i = np.nonzero(counts)
    conv = SpikesToRates("s2r", kernel, tau=5.0, width=5.0, period=1.0, size=n)
    out = drive_s2r(conv, Spikes.make(t, i), T, 250)
    assert out.values[out.ticks > 500, 0].mean() == pytest.approx(counts.sum() / (n * T * DT * 1e-3), rel=0.02)


def test_spikes_to_rates_refuses_bad_parameters():
    with pytest.raises(ParameterError, match="kernel"):
        SpikesToRates("x", "gauss", size=3)
    with pytest.raises(ParameterError, match="groups"):
        SpikesToRates("x", groups=[[0, 1], [1, 2]])
    with pytest.raises(ParameterError, match="size"):
        SpikesToRates("x")
    with pytest.raises(ParameterError, match="period"):
        SpikesToRates("x", period=0.15, size=1).bind(DT)


# ------------------------------------------------------------------------------ rates -> spikes
N, T = 200, 20000  # 2 s


def counts_per_window(sp, n, t_stop, w):
    c = np.zeros((n, t_stop // w), dtype=np.int64)
    np.add.at(c, (sp.index, sp.ticks // w), 1)
    return c


def isis(sp, n):
    out = []
    for i in range(n):
        t = sp.ticks[sp.index == i]
        out.append(np.diff(t))
    return np.concatenate(out)


def test_poisson_rate_and_fano():
    sp = drive_r2s(RatesToSpikes("r2s", N, "poisson", seed=1), [0], [50.0], T, 1000)
    rate = len(sp) / (N * T * DT * 1e-3)
    assert rate == pytest.approx(50.0, rel=0.03)
    c = counts_per_window(sp, N, T, 1000)  # 100 ms windows, mean 5
    fano = c.var() / c.mean()
    assert 0.93 < fano < 1.07, fano


def test_gamma_rate_and_regularity():
    sp = drive_r2s(RatesToSpikes("r2s", N, "gamma", seed=2, order=4.0), [0], [50.0], T, 333)
    assert len(sp) / (N * T * DT * 1e-3) == pytest.approx(50.0, rel=0.04)
    d = isis(sp, N) * DT
    cv = d.std() / d.mean()
    assert cv == pytest.approx(0.5, abs=0.03), cv  # CV of a gamma renewal process = 1/sqrt(order)
    c = counts_per_window(sp, N, T, 5000)  # 500 ms windows, ~25 ISIs: Fano -> CV^2
    assert 0.18 < c.var() / c.mean() < 0.35


def test_refractory_poisson():
    sp = drive_r2s(RatesToSpikes("r2s", N, "refractory", seed=3, t_ref=2.0), [0], [50.0], T, 64)
    assert len(sp) / (N * T * DT * 1e-3) == pytest.approx(50.0, rel=0.03)
    d = isis(sp, N)
    assert d.min() >= 20
    cv = d.std() / d.mean()
    assert cv == pytest.approx(1 - 50.0 * 2e-3, abs=0.03)


@pytest.mark.parametrize("process", ["poisson", "gamma", "refractory"])
def test_inhomogeneous_rate_follows_a_step(process):
    sp = drive_r2s(RatesToSpikes("r2s", N, process, seed=4), [0, 10000], [10.0, 80.0], T, 500)
    before = np.sum(sp.ticks < 10000) / (N * 1.0)
    after = np.sum(sp.ticks >= 10200) / (N * 0.98)  # skip 20 ms of gamma's transient
    assert before == pytest.approx(10.0, rel=0.1)
    assert after == pytest.approx(80.0, rel=0.05)
    # no spikes before the first rate sample
    sp2 = drive_r2s(RatesToSpikes("r2s", N, process, seed=4), [3000], [50.0], 5000, 500)
    assert sp2.ticks.min() >= 3000


@pytest.mark.parametrize("process", ["poisson", "gamma", "refractory"])
def test_independent_of_window_size_and_seeded(process):
    ticks, vals = np.arange(0, 3000, 37), np.abs(np.sin(np.arange(0, 3000, 37) / 300.0))[:, None] * 80
    ref = drive_r2s(RatesToSpikes("r2s", 50, process, seed=9), ticks, vals, 3000, 3000)
    assert len(ref) > 100
    for chunk in (1, 13, 250):
        sp = drive_r2s(RatesToSpikes("r2s", 50, process, seed=9), ticks, vals, 3000, chunk)
        np.testing.assert_array_equal(sp.ticks, ref.ticks)
        np.testing.assert_array_equal(sp.index, ref.index)
    other = drive_r2s(RatesToSpikes("r2s", 50, process, seed=10), ticks, vals, 3000, 3000)
    assert not (len(other) == len(ref) and np.array_equal(other.ticks, ref.ticks))
    renamed = drive_r2s(RatesToSpikes("other", 50, process, seed=9), ticks, vals, 3000, 3000)
    assert not (len(renamed) == len(ref) and np.array_equal(renamed.ticks, ref.ticks))


def test_stream_is_the_documented_counter_based_stream():
    """Shared trains: one Poisson draw per (channel, tick) of the documented stream."""
    conv = RatesToSpikes("conv", 3, "poisson", seed=5, shared=True)
    sp = drive_r2s(conv, [0], [400.0], 200, 50)
    key = rng.stream_key(5, "conv", "rates_to_spikes")
    assert conv.key == key
    expected = [(t, i) for t in range(200) for i in range(3) for _ in range(rng.poisson(key, 0, t, 400.0 * DT * 1e-3))]
    assert list(zip(sp.ticks.tolist(), sp.index.tolist())) == expected


def test_independent_poisson_trains_are_pooled_per_channel():
    """Independent trains: K ~ Poisson(n·rate·dt) per (channel, tick) from the "pooled" stream,
    each spike to target floor(u·n) with u from the "pick" stream at (channel, tick, k)."""
    n, rate = 4, 900.0
    sp = drive_r2s(RatesToSpikes("conv", n, "poisson", seed=5), [0], [rate], 300, 70)
    pool = rng.stream_key(5, "conv", "rates_to_spikes", "pooled")
    pick = rng.stream_key(5, "conv", "rates_to_spikes", "pick")
    expected = [(t, int(rng.uniform_at(pick, 0, t, k) * n)) for t in range(300)
                for k in range(rng.poisson(pool, 0, t, n * rate * DT * 1e-3))]
    assert sorted(zip(sp.ticks.tolist(), sp.index.tolist())) == sorted(expected)
    assert len(expected) > 50


def test_pooled_trains_are_independent_poisson_processes():
    """Per-target counts: mean rate·T, Fano factor 1, no correlation between targets."""
    n, rate, ticks = 200, 50.0, 20000  # 2 s
    sp = drive_r2s(RatesToSpikes("conv", n, "poisson", seed=8), [0], [rate], ticks, 1000)
    counts = np.zeros((20, n))  # 100 ms bins
    np.add.at(counts, (sp.ticks // 1000, sp.index), 1)
    per_target = counts.sum(0)
    assert abs(per_target.mean() - rate * 2.0) < 4 * np.sqrt(rate * 2.0 / n)
    fano = counts.var(0).mean() / counts.mean()
    assert 0.85 < fano < 1.15
    c = np.corrcoef(counts.T)
    assert abs(c[np.triu_indices(n, 1)].mean()) < 0.02


def test_shared_generators_and_channel_map():
    chan = np.array([0, 0, 0, 1, 1])
    sp = drive_r2s(RatesToSpikes("r2s", 5, "poisson", seed=6, channel=chan, shared=True), [0], [[100.0, 100.0]],
                   5000, 500)
    trains = [sp.ticks[sp.index == i] for i in range(5)]
    np.testing.assert_array_equal(trains[0], trains[1])
    np.testing.assert_array_equal(trains[0], trains[2])
    np.testing.assert_array_equal(trains[3], trains[4])
    assert not np.array_equal(trains[0], trains[3])
    # channel 1 silent: only targets 0..2 fire
    sp = drive_r2s(RatesToSpikes("r2s", 5, "poisson", seed=6, channel=chan), [0], [[100.0, 0.0]], 5000, 500)
    assert set(sp.index.tolist()) == {0, 1, 2}
    with pytest.raises(ParameterError, match="columns"):
        drive_r2s(RatesToSpikes("r2s", 5), [0], [[1.0, 2.0]], 10, 10)
    with pytest.raises(ParameterError, match="rates"):
        drive_r2s(RatesToSpikes("r2s", 1), [0], [-1.0], 10, 10)


def test_many_spikes_in_one_window_grow_the_buffer():
    # 1 kHz on 50 targets for 100 ms in one window: the first output estimate is from rate 0
    sp = drive_r2s(RatesToSpikes("r2s", 50, "poisson", seed=1), [0, 10], [0.0, 1000.0], 1000, 1000)
    ref = drive_r2s(RatesToSpikes("r2s", 50, "poisson", seed=1), [0, 10], [0.0, 1000.0], 1000, 1)
    assert len(sp) > 4000
    np.testing.assert_array_equal(sp.ticks, ref.ticks)


# ------------------------------------------------------------------------------ fields
def test_field_source_holds_and_transforms():
    fs = FieldSource("fs", "dopamine", fn=lambda x: 2.0 * x.sum(), period=0.5, initial=[1.0, 1.0])
    fs.bind(DT)
    out = fs.advance(12, {"in": Series(np.array([3, 7]), np.array([[1.0, 2.0], [3.0, 4.0]]), 1)})["field"]
    np.testing.assert_array_equal(out.ticks, [0, 5, 10])
    np.testing.assert_array_equal(out.values[:, 0], [4.0, 6.0, 14.0])
    assert out.kind == "fields" and out.name == "dopamine"
    out = fs.advance(20, {"in": Series.empty()})["field"]
    np.testing.assert_array_equal(out.ticks, [15])
    np.testing.assert_array_equal(out.values[:, 0], [14.0])


# ------------------------------------------------------------------------------ through the kernel
def test_converters_in_the_kernel_record_and_round_trip():
    sim = CoSimulation(dt=DT)
    sim.add(SpikeSource("src", [0, 100, 101], [0, 1, 1]))
    s2r = sim.add(SpikesToRates("s2r", "box", width=1.0, period=1.0, size=2, record=True))
    sim.add(Recorder("rec", {"r": "rates"}))
    sim.connect("src", "spikes", "s2r", "spikes", delay=5)
    sim.connect("s2r", "rates", "rec", "r", delay=5)
    sim.run(10.0)
    snap = sim.state()
    sim.run(20.0)
    got = sim.components["rec"].received("r")
    rec = s2r.recorded("rates")
    np.testing.assert_array_equal(rec.ticks, np.arange(0, 200, 10))
    # spike at 0 arrives at 5, counted by the sample at tick 10 (box of 10 ticks: (0, 10]); two at 105/106 -> 110
    expected = np.zeros(20)
    expected[1] = 1000.0 / 1.0 / 2
    expected[11] = 2 * 1000.0 / 1.0 / 2
    np.testing.assert_allclose(rec.values[:, 0], expected)
    np.testing.assert_array_equal(got.ticks, rec.ticks[rec.ticks + 5 < 200] + 5)
    sim.restore(snap)
    sim.run(20.0)
    np.testing.assert_array_equal(s2r.recorded("rates").values, rec.values)
    json.dumps(sim.describe())
    for conv in (s2r, RatesToSpikes("x", 3, seed=1), FieldSource("f", "dopamine")):
        json.dumps(conv.describe())
