"""An encoder fed by live I/O through the co-simulation kernel: it takes its stimulus window by
window, causally, and gives the spikes of the same encoder run on the stimulus as it arrived."""
import numpy as np

from neurohybrid.encoders import RetinaEncoder
from neurohybrid.encoders.live import EncoderComponent
from neurohybrid.kernel import CoSimulation, Recorder
from neurohybrid.liveio import LiveIO
from neurohybrid.rng import stream_key

DT, M = 0.1, 10  # ms; ticks per window (1 ms)


def test_live_retina_equals_the_offline_retina_on_the_arrived_frames():
    video = np.random.default_rng(0).random((30, 8, 8))
    key = stream_key(1, "live-retina")
    params = {"units": "1", "sampling_period": 1.0, "spacing": 2.0, "gain": 400.0, "spontaneous_rate": 100.0}
    calls = []

    def camera(t_ms, inputs):  # one frame per 1 ms window, as a camera would deliver it
        w = int(round(t_ms / 1.0))
        calls.append(w)
        return {"frames": video[w].ravel()} if w < len(video) else None

    sim = CoSimulation(dt=DT, macro_step=M)
    sim.add(LiveIO("camera", outputs={"frames": ("fields", 64, "stimulus")}, callback=camera))
    retina = RetinaEncoder({**params, "stimulus": None, "frame_shape": (8, 8)}, key, DT)
    sim.add(EncoderComponent("retina", retina))
    rec = sim.add(Recorder("rec", {"spikes": "spikes"}))
    sim.connect("camera", "frames", "retina", "stimulus", delay=M)
    sim.connect("retina", "spikes", "rec", "spikes", delay=M)
    sim.run(30.0)
    got = rec.received("spikes")
    # frame w, sent in window w, arrives one window later: the offline retina sees [nothing, v0, v1, ...]
    arrived = np.concatenate([np.zeros((1, 8, 8)), video])
    offline = RetinaEncoder({**params, "stimulus": arrived}, key, DT)
    ticks, ids = offline.emit(1, 290)  # emission ticks 0 .. 289, recorded one window later
    assert len(got) > 50
    np.testing.assert_array_equal(got.ticks - M, ticks)
    np.testing.assert_array_equal(got.index, ids)
    assert retina.late > 0  # the first window had no frame yet (and was told so)
