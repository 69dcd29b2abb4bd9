"""Live stimuli through the PyNN session: ``sim.live(write={port: encoder population})`` sends
stimulus samples to a live encoder (built with ``stimulus=None``), which turns them into spikes
window by window. The spikes must be the ones the same encoder gives for the same stimulus as an
array, delayed by one link period (encoder -> population) when each sample is sent one period
ahead of its time (callback -> encoder), because the encoder draws from the same keyed stream;
a sample is never seen before it arrives."""
import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.errors import PlacementError

PERIOD = 1.0      # ms, the live link's period
SAMPLE = 5.0      # ms, the stimulus sampling period
SHAPE = (6, 6)
DURATION = 200.0


def _frames(n, seed=1):
    frames = (np.random.default_rng(seed).uniform(0.0, 1.0, size=(n,) + SHAPE) > 0.5).astype(float)  # binary noise
    frames[0] = 0.0  # what a live encoder holds before its first sample (its temporal filter remembers it)
    return frames


def _spikes(pop):
    trains = pop.get_data().segments[0].spiketrains
    return sorted((round(float(t), 6), int(st.annotations["source_index"])) for st in trains for t in st.magnitude)


def _run(live: bool, frames):
    sim.setup(timestep=0.1, seed=5)
    stim = None if live else frames
    celltype = sim.Retina(stimulus=stim, units="1", sampling_period=SAMPLE, frame_shape=SHAPE, max_rate=300.0, gain=1500.0)
    retina = sim.Population(celltype.size, celltype, label="retina")
    cells = sim.Population(10, sim.IF_curr_exp(), label="cells")
    sim.Projection(retina, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.05, delay=1.0))
    retina.record("spikes")
    if live:
        def camera(t_ms, inputs):  # frame k, sent one link period before its time k * SAMPLE
            k = int(round((t_ms + PERIOD) / SAMPLE))
            if abs(t_ms + PERIOD - k * SAMPLE) < 1e-9 and k < len(frames):
                return {"frame": frames[k]}
            return {}
        sim.live(camera, write={"frame": retina}, period=PERIOD)
    sim.run(DURATION)
    out = _spikes(retina)
    sim.end()
    return out


def test_a_live_retina_gives_the_array_retinas_spikes_shifted_by_the_link_latency():
    frames = _frames(int(DURATION / SAMPLE))
    offline = _run(False, frames)
    live = _run(True, frames)
    # each frame reaches the encoder at its own time (sent one period ahead), and the encoder's
    # spikes reach the population one period later
    latency = PERIOD
    assert len(live) > 100
    shifted = [(round(t + latency, 6), i) for t, i in offline if t + latency < DURATION]
    # frame 0 cannot be sent ahead (it would be due at t = -PERIOD): it is the zeros the live
    # encoder holds before its first sample, so the whole run agrees
    assert live == shifted


def test_live_write_to_an_encoder_with_a_stimulus_is_refused():
    sim.setup(timestep=0.1)
    celltype = sim.Retina(stimulus=_frames(3), units="1", sampling_period=SAMPLE)
    retina = sim.Population(celltype.size, celltype, label="retina")
    with pytest.raises(PlacementError, match=r"write\['frame'\].*live spikes or stimuli"):
        sim.live(lambda t, i: {}, write={"frame": retina})
    sim.end()
