"""The contract every encoder keeps: the same seed gives the same spikes whatever the window
split; state()/restore() continue bit for bit; reset() replays; a live encoder fed its stimulus
ahead of time gives the spikes of the array; bad stimuli and parameters are typed errors naming
the encoder and the parameter."""
import numpy as np
import pytest

from neurohybrid.encoders import ENCODERS, CochleaEncoder, EventCameraEncoder, RetinaEncoder, Stimulus
from neurohybrid.errors import ParameterError, SimulationStateError, UnknownParameterError
from neurohybrid.rng import stream_key
from neurohybrid.stimuli.spike_sources import source_class

DT = 0.1
_rng = np.random.default_rng(4)
VIDEO = _rng.random((12, 10, 12))
SOUND = 0.05 * np.sin(2 * np.pi * 440 * np.arange(4000) / 16000) + 0.01 * _rng.normal(size=4000)

CASES = {
    "retina": (RetinaEncoder, {"stimulus": VIDEO, "units": "1", "sampling_period": 7.0, "spacing": 2.0}),
    "retina-lif": (RetinaEncoder, {"stimulus": VIDEO, "units": "1", "sampling_period": 7.0, "generator": "lif",
                                   "gain": 400.0}),
    "dvs": (EventCameraEncoder, {"stimulus": VIDEO, "units": "1", "sampling_period": 7.0, "noise_rate": 5.0}),
    "cochlea": (CochleaEncoder, {"stimulus": SOUND, "units": "Pa", "sampling_period": 1000 / 16000, "n_channels": 8,
                                 "fibres_per_channel": 3}),
}


def windows(enc, widths, t0=0):
    out = [enc.emit(t, w) for t, w in zip(np.cumsum([t0, *widths[:-1]]), widths)]
    return np.concatenate([o[0] for o in out]), np.concatenate([o[1] for o in out])


@pytest.mark.parametrize("case", CASES)
def test_same_seed_same_spikes_for_any_window_split(case):
    cls, params = CASES[case]
    key = stream_key(9, case)
    whole = cls(dict(params), key, DT).emit(0, 1000)
    assert whole[0].size > 20
    split = windows(cls(dict(params), key, DT), [1, 7, 64, 128, 300, 500])
    ones = windows(cls(dict(params), key, DT), [10] * 100)
    for other in (split, ones):
        assert np.array_equal(whole[0], other[0]) and np.array_equal(whole[1], other[1])
    order = np.lexsort((whole[1], whole[0]))
    assert np.array_equal(order, np.arange(order.size))
    other_key = cls(dict(params), stream_key(10, case), DT).emit(0, 1000)
    if case != "retina-lif":  # the LIF generator is deterministic
        assert not (other_key[0].size == whole[0].size and np.array_equal(other_key[1], whole[1]))


@pytest.mark.parametrize("case", CASES)
def test_state_restore_and_reset(case):
    cls, params = CASES[case]
    key = stream_key(2, case)
    a = cls(dict(params), key, DT)
    a.emit(0, 333)
    snap = a.state()
    rest = a.emit(333, 400)
    b = cls(dict(params), key, DT)
    b.restore(snap)
    again = b.emit(333, 400)
    assert np.array_equal(rest[0], again[0]) and np.array_equal(rest[1], again[1])
    a.reset()
    first = a.emit(0, 733)
    c = cls(dict(params), key, DT).emit(0, 733)
    assert np.array_equal(first[1], c[1])
    with pytest.raises(SimulationStateError, match="t0"):
        a.emit(100, 10)
    with pytest.raises(ParameterError, match="state"):
        b.restore({"pos": 3})


@pytest.mark.parametrize("case", ["retina", "dvs", "cochlea"])
def test_a_live_encoder_fed_ahead_gives_the_spikes_of_the_array(case):
    cls, params = CASES[case]
    key = stream_key(4, case)
    offline = cls(dict(params), key, DT).emit(0, 750)
    stim = params["stimulus"]
    live = cls({**params, "stimulus": None, **({"frame_shape": stim.shape[1:]} if stim.ndim == 3 else {})}, key, DT)
    chunks = np.array_split(np.arange(stim.shape[0]), 5)
    live.push(stim[chunks[0]], at=0)
    got = []
    for w in range(5):  # a window's samples (and, for the camera's interpolation, the next frame) come first
        if w + 1 < len(chunks):
            live.push(stim[chunks[w + 1]], at=int(chunks[w + 1][0]))
        got.append(live.emit(150 * w, 150))
    ticks = np.concatenate([g[0] for g in got])
    ids = np.concatenate([g[1] for g in got])
    assert live.late == 0
    assert np.array_equal(ticks, offline[0]) and np.array_equal(ids, offline[1])


def test_engines_find_the_encoders():
    for name, cls in ENCODERS.items():
        assert source_class(name) is cls
    assert source_class("SpikeSourcePoisson").__name__ == "SpikeSourcePoisson"
    assert source_class("NoSuchEncoder") is None


def test_a_stimulus_object_carries_units_and_period():
    s = Stimulus(VIDEO, "1", 7.0)
    a = RetinaEncoder({"stimulus": s}, stream_key(1, "s"), DT).emit(0, 300)
    b = RetinaEncoder({"stimulus": VIDEO, "units": "1", "sampling_period": 7.0}, stream_key(1, "s"), DT).emit(0, 300)
    assert np.array_equal(a[1], b[1]) and s.duration == 84.0


BAD = [
    (RetinaEncoder, {"stimulus": VIDEO[0], "sampling_period": 5.0}, "stimulus", "shape"),
    (RetinaEncoder, {"stimulus": VIDEO, "units": "lux", "sampling_period": 5.0}, "units", "lux"),
    (RetinaEncoder, {"stimulus": VIDEO, "sampling_period": 0.0}, "sampling_period", "ms"),
    (RetinaEncoder, {"stimulus": VIDEO, "sampling_period": float("nan")}, "sampling_period", "ms"),
    (RetinaEncoder, {"stimulus": np.where(VIDEO > 0.99, np.nan, VIDEO), "sampling_period": 5.0}, "stimulus", "NaN"),
    (RetinaEncoder, {"stimulus": VIDEO, "sigma_surround": 0.5}, "sigma_surround", "range"),
    (RetinaEncoder, {"stimulus": VIDEO, "generator": "izhikevich"}, "generator", "izhikevich"),
    (RetinaEncoder, {"stimulus": None}, "frame_shape", "live"),
    (EventCameraEncoder, {"stimulus": VIDEO - 0.5}, "stimulus", "negative"),
    (EventCameraEncoder, {"stimulus": VIDEO, "units": "contrast"}, "units", "contrast"),
    (CochleaEncoder, {"stimulus": VIDEO, "units": "Pa"}, "stimulus", "shape"),
    (CochleaEncoder, {"stimulus": SOUND, "units": "dB"}, "units", "dB"),
    (CochleaEncoder, {"stimulus": SOUND, "units": "Pa", "sampling_period": 1.0}, "f_max", "Nyquist"),
    (CochleaEncoder, {"stimulus": SOUND, "units": "Pa", "sampling_period": 1 / 16, "n_channels": 2.5},
     "n_channels", "integer"),
]


@pytest.mark.parametrize("cls,params,parameter,words", BAD)
def test_bad_stimuli_and_parameters_are_typed_errors(cls, params, parameter, words):
    with pytest.raises(ParameterError) as info:
        cls(params, stream_key(1, "bad"), DT)
    assert info.value.parameter == parameter and cls.__name__ in str(info.value)
    assert words.lower() in str(info.value).lower()


def test_unknown_parameters_and_pushing_into_an_array_encoder():
    with pytest.raises(UnknownParameterError, match="sigma"):
        RetinaEncoder({"stimulus": VIDEO, "sigma": 1.0}, stream_key(1, "x"), DT)
    enc = RetinaEncoder({"stimulus": VIDEO}, stream_key(1, "x"), DT)
    with pytest.raises(SimulationStateError, match="push"):
        enc.push(VIDEO)
    live = RetinaEncoder({"stimulus": None, "frame_shape": (10, 12)}, stream_key(1, "x"), DT)
    with pytest.raises(ParameterError, match="frames of shape"):
        live.push(np.zeros((2, 3, 3)))
    live.emit(0, 50)  # nothing pushed yet: the missing samples are counted
    assert live.late > 0
