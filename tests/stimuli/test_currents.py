"""Tests of the emulator's current sources: exact waveforms on the grid, noise statistics and
redraw interval, window independence, parameter validation."""
import math

import numpy as np
import pytest

from neurohybrid.stimuli.currents import (CURRENT_SOURCES, ACSource, DCSource, NoisyCurrentSource,
                                                    StepCurrentSource)
from neurohybrid.errors import ParameterError, UnknownParameterError
from neurohybrid.rng import stream_key

DT = 0.1
KEY = stream_key(11, "tests", "currents")


def in_windows(src, widths, t0=0, **kw):
    out = []
    for w in widths:
        out.append(src.values(t0, w, **kw))
        t0 += w
    return np.concatenate(out)


# --- exact waveforms -------------------------------------------------------------------------

def test_dc_is_on_for_start_le_t_lt_stop():
    v = DCSource({"amplitude": 0.75, "start": 1.0, "stop": 2.5}, KEY, DT).values(0, 40)
    expected = np.zeros(40)
    expected[10:25] = 0.75  # t = 1.0 .. 2.4 ms
    assert v.dtype == np.float64
    assert np.array_equal(v, expected)


def test_dc_defaults_and_offset_window():
    v = DCSource({}, KEY, DT).values(1_000_000, 5)
    assert np.array_equal(v, np.ones(5))


def test_times_are_rounded_to_the_nearest_grid_point():
    # 1.04 ms -> tick 10, 1.06 ms -> tick 11; 0.3 / 0.1 is 2.9999999999999996 -> tick 3
    assert np.flatnonzero(DCSource({"start": 1.04}, KEY, DT).values(0, 20))[0] == 10
    assert np.flatnonzero(DCSource({"start": 1.06}, KEY, DT).values(0, 20))[0] == 11
    assert np.flatnonzero(DCSource({"start": 0.3}, KEY, DT).values(0, 20))[0] == 3


def test_ac_matches_pynn_formula_on_the_grid():
    p = {"amplitude": 0.4, "offset": 0.1, "frequency": 37.0, "phase": 30.0, "start": 2.0, "stop": 50.0}
    src = ACSource(p, KEY, DT)
    k = np.arange(0, 600)
    t = k * DT
    expected = 0.1 + 0.4 * np.sin(2 * np.pi * 37.0 * (t - 2.0) / 1000.0 + np.pi / 6)
    expected[(t < 2.0 - 1e-9) | (t >= 50.0 - 1e-9)] = 0.0
    assert np.allclose(src.values(0, 600), expected, rtol=0, atol=1e-12)


def test_ac_phase_is_the_phase_at_start():
    src = ACSource({"amplitude": 2.0, "offset": -1.0, "frequency": 5.0, "phase": 90.0, "start": 7.0}, KEY, DT)
    v = src.values(69, 3)
    assert v[0] == 0.0 and v[1] == pytest.approx(1.0, abs=1e-15)  # offset + amplitude at t = start
    # a full period (200 ms = 2000 ticks) later the value repeats
    assert src.values(70 + 2000, 1)[0] == pytest.approx(1.0, abs=1e-12)


def test_step_current_takes_the_last_step_at_or_before_t():
    src = StepCurrentSource({"times": [0.5, 1.0, 2.0], "amplitudes": [1.0, -2.0, 3.0]}, KEY, DT)
    v = src.values(0, 40)
    expected = np.zeros(40)
    expected[5:10], expected[10:20], expected[20:] = 1.0, -2.0, 3.0
    assert np.array_equal(v, expected)
    assert src.values(10_000, 2).tolist() == [3.0, 3.0]


def test_step_times_rounding_to_one_tick_keep_the_later_amplitude():
    src = StepCurrentSource({"times": [0.5, 0.54, 0.7], "amplitudes": [1.0, 2.0, 3.0]}, KEY, DT)
    assert src.values(4, 4).tolist() == [0.0, 2.0, 2.0, 3.0]


def test_empty_step_current_is_zero():
    assert np.array_equal(StepCurrentSource({}, KEY, DT).values(0, 5), np.zeros(5))


# --- noise -----------------------------------------------------------------------------------

def test_noise_mean_and_stdev():
    src = NoisyCurrentSource({"mean": 0.3, "stdev": 0.05, "dt": DT}, KEY, DT)
    v = src.values(0, 100_000)
    assert v.mean() == pytest.approx(0.3, abs=5 * 0.05 / math.sqrt(v.size))
    assert v.std() == pytest.approx(0.05, rel=5 / math.sqrt(2 * v.size))
    # successive intervals are independent
    assert abs(np.corrcoef(v[:-1], v[1:])[0, 1]) < 5 / math.sqrt(v.size)


def test_noise_is_redrawn_every_noise_dt_from_start():
    src = NoisyCurrentSource({"mean": 1.0, "stdev": 1.0, "dt": 0.5, "start": 1.2, "stop": 21.2}, KEY, DT)
    v = src.values(0, 250)
    assert np.all(v[:12] == 0) and np.all(v[212:] == 0)
    blocks = v[12:212].reshape(-1, 5)  # 5 ticks per 0.5 ms interval, aligned to start
    assert np.all(blocks == blocks[:, :1])
    assert np.all(np.diff(blocks[:, 0]) != 0)
    assert np.unique(blocks[:, 0]).size == 40


def test_noise_channels_and_keys_are_independent():
    src = NoisyCurrentSource({"mean": 0.0, "stdev": 1.0}, KEY, DT)
    a, b = src.values(0, 50_000, channel=0), src.values(0, 50_000, channel=1)
    c = NoisyCurrentSource({"mean": 0.0, "stdev": 1.0}, stream_key(12, "x"), DT).values(0, 50_000)
    assert np.array_equal(a, src.values(0, 50_000))  # channel 0 is the default
    for x, y in ((a, b), (a, c)):
        assert abs(np.corrcoef(x, y)[0, 1]) < 5 / math.sqrt(a.size)


def test_zero_stdev_is_the_mean():
    v = NoisyCurrentSource({"mean": 0.2, "stdev": 0.0, "stop": 1.0}, KEY, DT).values(0, 20)
    assert np.array_equal(v, np.r_[np.full(10, 0.2), np.zeros(10)])


# --- window independence ---------------------------------------------------------------------

@pytest.mark.parametrize("cls,params", [
    (DCSource, {"amplitude": 0.5, "start": 3.0, "stop": 77.7}),
    (ACSource, {"amplitude": 0.5, "frequency": 13.0, "phase": 45.0, "start": 3.0, "stop": 177.7}),
    (StepCurrentSource, {"times": np.arange(1.0, 200.0, 2.3).round(1), "amplitudes": np.arange(87) * 0.1}),
    (NoisyCurrentSource, {"mean": 0.1, "stdev": 0.2, "dt": 0.3, "start": 5.0, "stop": 150.0}),
])
def test_same_values_whatever_the_window_sizes(cls, params):
    src = cls(params, KEY, DT)
    reference = src.values(0, 2500)
    assert np.count_nonzero(reference) > 500
    for widths in ([1] * 2500, [7] * 358, [15] * 167, [1000] * 3, [1, 7, 15, 1000] * 3):
        assert np.array_equal(in_windows(src, widths)[:2500], reference), widths
    # windows also need not be visited in order
    assert np.array_equal(np.concatenate([src.values(1000, 1500), src.values(0, 1000)]),
                          np.r_[reference[1000:], reference[:1000]])


def test_set_params_changes_the_waveform():
    src = DCSource({"amplitude": 1.0}, KEY, DT)
    src.set_params({"amplitude": 2.0, "stop": 0.2})
    assert src.values(0, 4).tolist() == [2.0, 2.0, 0.0, 0.0]
    with pytest.raises(ParameterError):
        src.set_params({"start": 5.0})  # stop 0.2 < start 5.0
    assert src.params["start"] == 0.0  # a refused change leaves the source as it was


def test_registry_names():
    assert set(CURRENT_SOURCES) == {"DCSource", "StepCurrentSource", "ACSource", "NoisyCurrentSource"}
    assert CURRENT_SOURCES["ACSource"] is ACSource


# --- bad inputs ------------------------------------------------------------------------------

@pytest.mark.parametrize("cls,params,name", [
    (DCSource, {"amplitude": math.nan}, "amplitude"),
    (DCSource, {"amplitude": math.inf}, "amplitude"),
    (DCSource, {"start": 5.0, "stop": 4.0}, "stop"),
    (DCSource, {"start": math.nan}, "start"),
    (ACSource, {"frequency": math.nan}, "frequency"),
    (ACSource, {"start": 2.0, "stop": 1.0}, "stop"),
    (StepCurrentSource, {"times": [1.0, 0.5], "amplitudes": [1.0, 2.0]}, "times"),
    (StepCurrentSource, {"times": [1.0, 1.0], "amplitudes": [1.0, 2.0]}, "times"),
    (StepCurrentSource, {"times": [-1.0, 1.0], "amplitudes": [1.0, 2.0]}, "times"),
    (StepCurrentSource, {"times": [1.0, math.nan], "amplitudes": [1.0, 2.0]}, "times"),
    (StepCurrentSource, {"times": [1.0, 2.0], "amplitudes": [1.0, math.nan]}, "amplitudes"),
    (StepCurrentSource, {"times": [1.0, 2.0], "amplitudes": [1.0]}, "amplitudes"),
    (NoisyCurrentSource, {"stdev": -0.1}, "stdev"),
    (NoisyCurrentSource, {"mean": math.nan}, "mean"),
    (NoisyCurrentSource, {"dt": 0.15}, "dt"),
    (NoisyCurrentSource, {"dt": 0.05}, "dt"),
    (NoisyCurrentSource, {"dt": 0.0}, "dt"),
    (NoisyCurrentSource, {"start": 3.0, "stop": 2.0}, "stop"),
])
def test_bad_parameters_raise_parameter_error(cls, params, name):
    with pytest.raises(ParameterError) as info:
        cls(params, KEY, DT)
    assert info.value.parameter == name
    assert name in str(info.value) and "accepted" in str(info.value)


def test_other_bad_inputs():
    with pytest.raises(UnknownParameterError, match="frequency"):
        DCSource({"frequency": 1.0}, KEY, DT)
    with pytest.raises(ParameterError, match="dt"):
        DCSource({}, KEY, -0.1)
    with pytest.raises(ParameterError, match="n_ticks"):
        DCSource({}, KEY, DT).values(0, -1)
    # a noise interval that is a multiple of a small step passes despite float round-off
    src = NoisyCurrentSource({"dt": 0.3}, KEY, 0.1)
    assert src._q == 3


def test_noise_added_for_all_targets_equals_each_channel():
    """``add_into`` (the engine's one call for every target) gives each target exactly the
    noise of its own channel."""
    src = NoisyCurrentSource({"mean": 0.2, "stdev": 0.4, "dt": 3 * DT, "start": 1.0, "stop": 9.0}, KEY, DT)
    cells = np.array([4, 0, 7, 2])
    out = np.zeros((50, 8))
    src.add_into(out, cells, 3, 50)
    for channel, cell in enumerate(cells):
        np.testing.assert_array_equal(out[:, cell], src.values(3, 50, channel=channel))
    assert not out[:, [1, 3, 5, 6]].any()
