"""Encoders in a PyNN script: a population of encoder channels drives a network on the emulator
(and on the Loihi path, where the encoder runs on the host like every spike source); its spikes
are the encoder's own, the same on every engine copy; a wrong population size is a typed error."""
import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.encoders import CochleaEncoder, RetinaEncoder
from neurohybrid.errors import ParameterError
from neurohybrid.rng import stream_key

FRAMES = np.random.default_rng(2).random((10, 12, 12))


def _trains(pop):
    return [np.asarray(st.magnitude) for st in pop.get_data().segments[0].spiketrains]


def _run_retina_circuit(seed, engines=("emulator", "emulator"), numerics="float"):
    sim.setup(timestep=0.1, seed=seed, numerics=numerics)
    retina = sim.Retina(stimulus=FRAMES, units="1", sampling_period=10.0, spacing=2.0, gain=300.0)
    r = sim.Population(retina.size, retina, label="retina")
    a = sim.Population(40, sim.IF_curr_exp(tau_syn_E=5.0, tau_syn_I=5.0), label="a", engine=engines[0])
    b = sim.Population(40, sim.IF_curr_exp(tau_syn_E=5.0, tau_syn_I=5.0), label="b", engine=engines[1])
    for post in (a, b):
        sim.Projection(r, post, sim.FixedProbabilityConnector(0.3, rng=sim.NumpyRNG(seed=1)),
                       sim.StaticSynapse(weight=0.6, delay=1.0))
    for p in (r, a, b):
        p.record("spikes")
    sim.run(100.0)
    out = [_trains(p) for p in (r, a, b)]
    sim.end()
    return out


def test_a_retina_population_drives_a_circuit_with_the_encoders_spikes():
    retina_spikes, a, b = _run_retina_circuit(5)
    assert sum(t.size for t in a) > 0
    enc = RetinaEncoder({"stimulus": FRAMES, "units": "1", "sampling_period": 10.0, "spacing": 2.0, "gain": 300.0},
                        stream_key(5, "retina", "spike-source"), 0.1)
    ticks, ids = enc.emit(0, 1000)
    for i in range(enc.n):  # recorded at (k + 1) dt, k the emission tick
        np.testing.assert_allclose(retina_spikes[i], (ticks[ids == i] + 1) * 0.1, atol=1e-9)
    # the same circuit with one target on another engine instance: the encoder is copied, same spikes
    split = _run_retina_circuit(5, engines=("emulator", "emulator:two"))
    for x, y in zip(retina_spikes + a + b, split[0] + split[1] + split[2]):
        np.testing.assert_array_equal(x, y)


def test_an_encoder_on_the_loihi_path():
    retina_spikes, a, _ = _run_retina_circuit(6, numerics="fixed")
    assert sum(t.size for t in a) > 0
    assert sum(t.size for t in retina_spikes) > 50


def test_cochlea_population_and_size_check():
    sim.setup(timestep=0.1, seed=1)
    tone = 0.05 * np.sin(2 * np.pi * 800 * np.arange(1600) / 16000)
    coch = sim.Cochlea(stimulus=tone, units="Pa", sampling_period=1000 / 16000, n_channels=8, fibres_per_channel=2)
    assert coch.size == 16
    with pytest.raises(ParameterError, match="size"):
        sim.Population(10, coch, label="wrong")
        sim.run(1.0)
    sim.end()
    sim.setup(timestep=0.1, seed=1)
    with pytest.raises(ParameterError, match="units"):
        sim.Cochlea(stimulus=tone, units="V", sampling_period=1000 / 16000)
    p = sim.Population(coch.size, coch, label="an")
    p.record("spikes")
    sim.run(100.0)
    got = _trains(p)
    sim.end()
    enc = CochleaEncoder(dict(coch.encoder_parameters), stream_key(1, "an", "spike-source"), 0.1)
    ticks, ids = enc.emit(0, 1000)
    assert sum(t.size for t in got) == ticks.size > 0


def test_encoders_in_a_loihi_bundle_and_nir_export(tmp_path):
    """A bundle keeps an encoder input (its string parameters too) and regenerates its spikes;
    NIR has no form for an encoder: a typed error naming it."""
    from neurohybrid.errors import UnsupportedModelError
    from neurohybrid.mappings.loihi.bundle import load_bundle
    from neurohybrid.mappings.loihi.runtime import HostInputs
    sim.setup(timestep=0.1, seed=8, numerics="fixed")
    r = sim.Retina(stimulus=FRAMES - 0.5, units="contrast", sampling_period=5.0, generator="poisson")
    src = sim.Population(r.size, r, label="ret")
    post = sim.Population(10, sim.IF_curr_exp(tau_syn_E=5.0, tau_syn_I=5.0), label="p")
    sim.Projection(src, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.5, delay=1.0))
    sim.run(10.0)
    sim.export_loihi(tmp_path / "b.h5")
    with pytest.raises(UnsupportedModelError, match="ret.*encoder"):
        sim.export_nir(tmp_path / "b.nir")
    sim.end()
    raster, generated = HostInputs(load_bundle(tmp_path / "b.h5"), 0.1).raster(0, 100)
    enc = RetinaEncoder({"stimulus": FRAMES - 0.5, "units": "contrast", "sampling_period": 5.0},
                        stream_key(8, "ret", "spike-source"), 0.1)
    ticks, ids = enc.emit(0, 100)
    np.testing.assert_array_equal(generated["ret"][1], ids[ticks < 99])
