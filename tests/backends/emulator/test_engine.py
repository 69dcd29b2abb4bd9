"""The emulator engine as a whole: windows, delays, threads, reset, recording alignment."""
import numpy as np
import pytest

import neurohybrid.pynn as sim


def _network(tmp_path, name, threads=None, extra_short_delay=False, seed=11, n=60):
    sim.setup(timestep=0.1, recording_path=tmp_path / f"{name}.h5", seed=seed, threads=threads)
    drive = sim.Population(n, sim.SpikeSourcePoisson(rate=900.0), label="drive")
    exc = sim.Population(n, sim.IF_curr_exp(tau_syn_E=2.0, tau_syn_I=4.0), label="exc")
    inh = sim.Population(n // 4, sim.IF_cond_exp(), label="inh")
    sim.Projection(drive, exc, sim.OneToOneConnector(), sim.StaticSynapse(weight=1.2, delay=1.0))
    recurrent = sim.Projection(exc, exc, sim.FixedProbabilityConnector(0.1, rng=sim.NumpyRNG(1)),
                               sim.StaticSynapse(weight=0.3, delay=1.0))
    recurrent.set(delay=np.random.RandomState(2).randint(10, 31, size=(n, n)) * 0.1)  # 1.0 to 3.0 ms
    sim.Projection(exc, inh, sim.FixedProbabilityConnector(0.2, rng=sim.NumpyRNG(3)),
                   sim.StaticSynapse(weight=0.02, delay=1.5))
    sim.Projection(inh, exc, sim.FixedProbabilityConnector(0.3, rng=sim.NumpyRNG(4)),
                   sim.StaticSynapse(weight=-0.8, delay=2.0), receptor_type="inhibitory")
    if extra_short_delay:
        # a silent projection with the shortest possible delay forces one-tick windows
        sim.Projection(exc, inh, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.0, delay=0.1))
    exc.record(["spikes", "v"])
    inh.record("spikes")
    return exc, inh


def _result(exc, inh, t=200.0):
    sim.run(t)
    seg_e = exc.get_data().segments[0]
    seg_i = inh.get_data().segments[0]
    out = ([s.magnitude.copy() for s in seg_e.spiketrains], [s.magnitude.copy() for s in seg_i.spiketrains],
           seg_e.filter(name="v")[0].magnitude.copy())
    sim.end()
    return out


def _assert_same(a, b, v_atol=0.0):
    for trains_a, trains_b in zip(a[:2], b[:2]):
        assert sum(len(x) for x in trains_a) > 0
        for x, y in zip(trains_a, trains_b):
            np.testing.assert_array_equal(x, y)
    np.testing.assert_allclose(a[2], b[2], rtol=0, atol=v_atol)


def test_window_length_does_not_change_results(tmp_path):
    """Windows of min_delay (10 ticks) and of one tick give identical spikes; v agrees to rounding
    (inputs arriving in the same tick are summed in a different order)."""
    _assert_same(_result(*_network(tmp_path, "long")), _result(*_network(tmp_path, "short", extra_short_delay=True)),
                 v_atol=1e-9)


def test_thread_count_does_not_change_results(tmp_path):
    _assert_same(_result(*_network(tmp_path, "one", threads=1)), _result(*_network(tmp_path, "two", threads=2)))


def test_seed_changes_results_and_is_reproducible(tmp_path):
    a = _result(*_network(tmp_path, "a", seed=5))
    b = _result(*_network(tmp_path, "b", seed=5))
    c = _result(*_network(tmp_path, "c", seed=6))
    _assert_same(a, b)
    assert not np.array_equal(a[2], c[2])


@pytest.mark.parametrize("delay", [0.1, 1.0, 2.3, 12.7])
def test_delay_is_exact(tmp_path, delay):
    """A spike emitted at t arrives at t + delay: the PSP of IF_curr_exp starts rising in the step
    after the arrival (NEST semantics), for any delay, including ones longer than a window."""
    sim.setup(timestep=0.1, recording_path=tmp_path / "d.h5")
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0]), label="src")
    cell = sim.Population(1, sim.IF_curr_exp(), label="cell")
    sim.Projection(src, cell, sim.OneToOneConnector(), sim.StaticSynapse(weight=1.0, delay=delay))
    cell.record("v")
    sim.run(30.0)
    v = cell.get_data().segments[0].filter(name="v")[0].magnitude[:, 0]
    sim.end()
    first_change = np.nonzero(v != v[0])[0][0]
    assert first_change == int(round((5.0 + delay) / 0.1)) + 1


def test_reset_gives_identical_second_segment(tmp_path):
    exc, inh = _network(tmp_path, "r")
    sim.run(100.0)
    sim.reset()
    sim.run(100.0)
    segs = exc.get_data().segments
    sim.end()
    for x, y in zip(segs[0].spiketrains, segs[1].spiketrains):
        np.testing.assert_array_equal(x.magnitude, y.magnitude)
    np.testing.assert_array_equal(segs[0].filter(name="v")[0].magnitude, segs[1].filter(name="v")[0].magnitude)


def test_parameter_change_between_runs_takes_effect(tmp_path):
    sim.setup(timestep=0.1, recording_path=tmp_path / "p.h5")
    cell = sim.Population(1, sim.IF_curr_exp(i_offset=0.0), label="cell")
    cell.record("spikes")
    sim.run(50.0)
    cell.set(i_offset=2.0)
    sim.run(50.0)
    spikes = cell.get_data().segments[0].spiketrains[0].magnitude
    sim.end()
    assert spikes.size > 2 and spikes.min() > 50.0


def test_noisy_current_is_independent_per_target(tmp_path):
    sim.setup(timestep=0.1, recording_path=tmp_path / "n.h5")
    cells = sim.Population(2, sim.IF_curr_exp(v_thresh=100.0), label="cells")
    sim.NoisyCurrentSource(mean=0.0, stdev=0.5, dt=1.0).inject_into(cells)
    cells.record("v")
    sim.run(50.0)
    v = cells.get_data().segments[0].filter(name="v")[0].magnitude
    sim.end()
    assert v[:, 0].std() > 0.1 and not np.allclose(v[:, 0], v[:, 1])


def test_current_source_timing(tmp_path):
    """DCSource with start/stop: the membrane starts moving in the step after `start` (the
    value of step k is the source at t_k, integrated over the step)."""
    sim.setup(timestep=0.1, recording_path=tmp_path / "c.h5")
    cell = sim.Population(1, sim.IF_curr_exp(v_thresh=100.0), label="cell")
    sim.DCSource(amplitude=1.0, start=10.0, stop=20.0).inject_into(cell)
    cell.record("v")
    sim.run(40.0)
    v = cell.get_data().segments[0].filter(name="v")[0].magnitude[:, 0]
    sim.end()
    moving = np.nonzero(np.abs(np.diff(v)) > 1e-12)[0]
    assert moving[0] == 100
    # exact solution at the end of the pulse: 20 mV * (1 - exp(-10/20))
    assert v[200] - v[0] == pytest.approx(20.0 * (1 - np.exp(-0.5)), rel=1e-9)


def test_a_bad_window_limit_is_a_typed_error():
    from neurohybrid.backends.emulator.engine import EmulatorEngine
    from neurohybrid.errors import ParameterError
    for bad in (0, -3, 2.5, "10"):
        with pytest.raises(ParameterError, match=r"EmulatorEngine\.max_window.*accepted: a positive number of ticks"):
            EmulatorEngine(max_window=bad)
