"""Learned encoders from NIR graphs (as snnTorch / Norse / lava-dl export them): the encoder runs
the graph's equations on the emulator and in Loihi fixed-point arithmetic, is driven into a
PyNN circuit, and a primitive the target engine lacks is a typed error naming it."""
import nir
import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.encoders import NIREncoder
from neurohybrid.errors import ParameterError, UnsupportedModelError
from neurohybrid.mappings.nir_io import nir_encoder_layers
from neurohybrid.rng import stream_key

DT = 0.1  # ms


def encoder_graph(neuron="LIF", n_in=4, n_out=6, seed=0, extra=None):
    """Input(n_in) -> Affine -> LIF/CubaLIF/IF(n_out) -> Output, SI units (as snnTorch exports)."""
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.5, 1.5, (n_out, n_in)) * 1e-9  # A per unit of input
    ones = np.ones(n_out)
    neurons = {"LIF": lambda: nir.LIF(tau=0.01 * ones, r=1e7 * ones, v_leak=0 * ones, v_threshold=0.01 * ones,
                                      v_reset=0 * ones),
               "CubaLIF": lambda: nir.CubaLIF(tau_syn=0.005 * ones, tau_mem=0.01 * ones, r=1e7 * ones,
                                              v_leak=0 * ones, v_threshold=0.01 * ones, v_reset=0 * ones,
                                              w_in=ones),
               "IF": lambda: nir.IF(r=1e9 * ones, v_threshold=0.01 * ones, v_reset=0 * ones),  # dv/dt = r I
               "Threshold": lambda: nir.Threshold(threshold=2e-9 * ones)}
    nodes = {"input": nir.Input(input_type={"input": np.array([n_in])}),
             "fc": nir.Affine(weight=w, bias=np.zeros(n_out)), "lif": neurons[neuron](),
             "output": nir.Output(output_type={"output": np.array([n_out])})}
    edges = [("input", "fc"), ("fc", "lif"), ("lif", "output")]
    if extra:
        nodes, edges = extra(nodes, edges)
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def reference_lif(x, w, dt_s, tau=0.01, r=1e7, vth=0.01):
    """The NIR LIF by forward Euler, spelled out: the reference the encoder must match."""
    v = np.zeros(w.shape[0])
    out = []
    for row in x:
        v = v + dt_s / tau * (-v + r * (w @ row))
        s = v > vth
        v[s] = 0.0
        out.append(s)
    return np.array(out)


def test_lif_encoder_follows_the_nir_equations():
    g = encoder_graph()
    x = np.random.default_rng(1).uniform(0, 3, (50, 4))  # 50 samples of 4 features, 1 ms each
    enc = NIREncoder({"nir": g, "stimulus": x, "sampling_period": 1.0}, stream_key(1, "nir"), DT)
    counts = enc.counts_matrix(0, 500)
    held = x[np.maximum(np.floor((np.arange(500) - 1) * DT / 1.0 + 1e-9), 0).astype(int)]
    expected = reference_lif(held, g.nodes["fc"].weight, DT / 1000)
    assert counts.sum() > 50
    np.testing.assert_array_equal(counts.astype(bool), expected)


@pytest.mark.parametrize("neuron", ["LIF", "CubaLIF", "IF"])
def test_the_loihi_target_matches_the_float_encoder(neuron):
    g = encoder_graph(neuron)
    x = np.random.default_rng(2).uniform(0, 3, (100, 4))
    params = {"nir": g, "stimulus": x, "sampling_period": 1.0}
    fl = NIREncoder({**params, "target": "emulator"}, stream_key(1, "x"), DT).counts_matrix(0, 1000)
    fx = NIREncoder({**params, "target": "loihi"}, stream_key(1, "x"), DT).counts_matrix(0, 1000)
    rate_fl, rate_fx = fl.sum(axis=0).astype(int), fx.sum(axis=0).astype(int)
    print(f"\n{neuron}: spikes per neuron float {rate_fl.tolist()} vs Loihi fixed point {rate_fx.tolist()}")
    assert rate_fl.sum() > 100
    assert np.all(np.abs(rate_fx - rate_fl) <= 0.05 * rate_fl + 2)


def test_two_layer_encoder_and_convolution():
    def conv(nodes, edges):
        nodes = {"input": nir.Input(input_type={"input": np.array([1, 6, 6])}),
                 "conv": nir.Conv2d(input_shape=np.array([6, 6]), weight=np.ones((2, 1, 3, 3)) * 1e-9, stride=1,
                                    padding=0, dilation=1, groups=1, bias=np.zeros(2)),
                 "flat": nir.Flatten(input_type={"input": np.array([2, 4, 4])}, start_dim=0),
                 "lif": nir.LIF(tau=0.01 * np.ones(32), r=1e7 * np.ones(32), v_leak=np.zeros(32),
                                v_threshold=0.01 * np.ones(32), v_reset=np.zeros(32)),
                 "fc2": nir.Linear(weight=np.full((3, 32), 2e-13)),
                 "lif2": nir.LIF(tau=0.01 * np.ones(3), r=1e7 * np.ones(3), v_leak=np.zeros(3),
                                 v_threshold=0.01 * np.ones(3), v_reset=np.zeros(3)),
                 "output": nir.Output(output_type={"output": np.array([3])})}
        return nodes, [("input", "conv"), ("conv", "flat"), ("flat", "lif"), ("lif", "fc2"), ("fc2", "lif2"),
                       ("lif2", "output")]
    g = encoder_graph(extra=conv)
    spec = nir_encoder_layers(g)
    W = spec["layers"][0]["weight"]
    assert W.shape == (32, 36) and np.isclose(W[0].reshape(6, 6)[:3, :3].sum(), 9e-9) and W[0].reshape(6, 6)[3:, 3:].sum() == 0
    img = np.zeros((20, 1, 6, 6))
    img[:, 0, :3, :3] = 1.0  # light in the top-left corner only
    enc = NIREncoder({"nir": g, "stimulus": img, "sampling_period": 1.0}, stream_key(1, "c"), DT)
    assert enc.n == 3
    counts = enc.counts_matrix(0, 200)
    assert counts.sum() > 0
    again = NIREncoder({"nir": g, "stimulus": img, "sampling_period": 1.0}, stream_key(1, "c"), DT)
    parts = np.concatenate([again.counts_matrix(0, 77), again.counts_matrix(77, 123)])
    np.testing.assert_array_equal(counts, parts)


def test_primitives_the_target_lacks_are_typed_errors(tmp_path):
    with pytest.raises(UnsupportedModelError) as info:
        NIREncoder({"nir": encoder_graph("Threshold"), "stimulus": np.zeros((2, 4)), "target": "loihi"},
                   stream_key(1, "t"), DT)
    assert "Threshold" in str(info.value) and "'lif'" in str(info.value) and "loihi" in str(info.value)
    NIREncoder({"nir": encoder_graph("Threshold"), "stimulus": np.ones((2, 4)), "target": "emulator"},
               stream_key(1, "t"), DT)

    def li(nodes, edges):
        nodes["lif"] = nir.LI(tau=np.ones(6), r=np.ones(6), v_leak=np.zeros(6))
        return nodes, edges
    with pytest.raises(UnsupportedModelError, match="primitive LI has no form on the emulator"):
        nir_encoder_layers(encoder_graph(extra=li))

    def reset(nodes, edges):
        nodes["lif"].v_reset = -0.005 * np.ones(6)
        return nodes, edges
    with pytest.raises(UnsupportedModelError, match="v_reset"):
        NIREncoder({"nir": encoder_graph(extra=reset), "stimulus": np.zeros((2, 4)), "target": "loihi"},
                   stream_key(1, "t"), DT)
    with pytest.raises(ParameterError, match="stimulus"):
        NIREncoder({"nir": encoder_graph(), "stimulus": np.zeros((2, 5))}, stream_key(1, "t"), DT)
    (tmp_path / "bad.nir").write_text("nope")
    with pytest.raises(ParameterError, match="not a readable NIR graph"):
        NIREncoder({"nir": tmp_path / "bad.nir", "stimulus": np.zeros((2, 4))}, stream_key(1, "t"), DT)


def test_nir_encoder_file_in_a_pynn_script(tmp_path):
    path = tmp_path / "encoder.nir"
    nir.write(path, encoder_graph("CubaLIF"))
    x = np.random.default_rng(3).uniform(0, 3, (200, 4))
    counts = {}
    for numerics in ("float", "fixed"):
        sim.setup(timestep=DT, seed=4, numerics=numerics)
        enc = sim.NIREncoder(str(path), stimulus=x, units="1", sampling_period=1.0)
        assert enc.encoder_parameters["target"] == ("loihi" if numerics == "fixed" else "emulator")
        src = sim.Population(enc.size, enc, label="encoder")
        post = sim.Population(10, sim.IF_curr_exp(tau_syn_E=5.0, tau_syn_I=5.0), label="post")
        sim.Projection(src, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=1.0, delay=1.0))
        src.record("spikes")
        post.record("spikes")
        sim.run(200.0)
        counts[numerics] = sum(len(s) for s in src.get_data().segments[0].spiketrains)
        assert sum(len(s) for s in post.get_data().segments[0].spiketrains) > 0
        sim.end()
    assert abs(counts["fixed"] - counts["float"]) <= 0.05 * counts["float"]
