"""Placement of every population on its own engine (issue 10, item 4), and the partition's
contract: a model split over several engines gives the results of the unsplit model.

* partition invariance: a 10k Brunel network and a model with Poisson sources, current
  injections and recordings, forced across two float-emulator instances, give bit-identical
  spikes and traces (the emulator sums synaptic input exactly, so the order spikes arrive in
  from two engines does not matter);
* the Loihi path keeps what has a faithful Loihi form and places the rest on the float
  emulator, saying why (``sim.placement()``); spikes crossing between the two arrive exactly
  ``delay`` after emission, both ways;
* an override an engine cannot run is a typed error naming the population and the engine, and
  loses nothing already recorded.
"""
import warnings

import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.errors import CausalityError, LavaUnavailableWarning, ParameterError, UnsupportedModelError

DT = 0.1
CELLS = dict(tau_m=20.0, cm=1.0, v_rest=0.0, v_reset=10.0, v_thresh=20.0, tau_refrac=2.0, i_offset=0.0)


def _brunel(engines, n=10000, t_sim=100.0):
    """Brunel (2000) model A network of benchmarks/brunel.py, E and I on the given engines."""
    sim.setup(timestep=DT, seed=1234)
    ne = int(0.8 * n)
    ce, ci = int(0.1 * ne), int(0.1 * (n - ne))
    exc = sim.Population(ne, sim.IF_curr_delta(**CELLS), label="E", engine=engines.get("E"))
    inh = sim.Population(n - ne, sim.IF_curr_delta(**CELLS), label="I", engine=engines.get("I"))
    rng = sim.NumpyRNG(seed=1234)
    both = exc + inh
    both.initialize(v=sim.RandomDistribution("uniform", (0.0, 20.0), rng=rng))
    rate = 1000.0 * 2.0 * 20.0 / (0.1 * ce * 20.0) * ce
    noise = sim.Population(n, sim.SpikeSourcePoisson(rate=rate), label="noise")
    sim.Projection(exc, both, sim.FixedNumberPreConnector(ce, rng=rng), sim.StaticSynapse(weight=0.1, delay=1.5),
                   receptor_type="excitatory")
    sim.Projection(inh, both, sim.FixedNumberPreConnector(ci, rng=rng), sim.StaticSynapse(weight=-0.5, delay=1.5),
                   receptor_type="inhibitory")
    sim.Projection(noise, both, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.1, delay=1.5),
                   receptor_type="excitatory")
    exc.record("spikes")
    inh.record("spikes")
    exc[:20].record("v")
    sim.run(t_sim)
    out = {p.label: [np.asarray(t.magnitude) for t in p.get_data().segments[0].spiketrains] for p in (exc, inh)}
    out["v"] = np.asarray(exc.get_data().segments[0].filter(name="v")[0].magnitude)
    out["engines"] = sorted(sim.simulator.state.network.engines)
    hybrid = sim.simulator.state.network.hybrid
    out["macro_step"] = hybrid.cosim.M if hybrid is not None else None
    sim.end()
    return out


def _assert_identical(a, b, keys):
    for key in keys:
        if key == "v" or isinstance(a[key], np.ndarray):
            assert a[key].tobytes() == b[key].tobytes(), key
        else:
            assert len(a[key]) == len(b[key])
            for x, y in zip(a[key], b[key]):
                assert x.tobytes() == y.tobytes(), key


def test_brunel_10k_split_over_two_float_emulators_is_bit_identical():
    whole = _brunel({})
    split = _brunel({"I": "emulator:b"})
    assert whole["engines"] == ["emulator"] and split["engines"] == ["emulator", "emulator:b"]
    assert split["macro_step"] == 15  # the whole 1.5 ms delay, the unsplit engine's window
    assert sum(map(len, whole["E"])) > 10000  # the network is active (~40 Hz)
    _assert_identical(whole, split, ("E", "I", "v"))


def _driven(engines):
    """Poisson and array sources, DC/step/noisy currents, three cell models, recordings."""
    sim.setup(timestep=DT, seed=5)
    a = sim.Population(30, sim.IF_cond_exp(), label="A", engine=engines.get("A"))
    b = sim.Population(20, sim.EIF_cond_exp_isfa_ista(), label="B", engine=engines.get("B"))
    c = sim.Population(10, sim.Izhikevich(), label="C", engine=engines.get("C"))
    poisson = sim.Population(30, sim.SpikeSourcePoisson(rate=800.0), label="poisson")
    array = sim.Population(5, sim.SpikeSourceArray(spike_times=[5.0, 17.3, 40.0]), label="array")
    sim.Projection(poisson, a, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.05, delay=0.5))
    sim.Projection(poisson, b, sim.FixedProbabilityConnector(0.3, rng=sim.NumpyRNG(1)),
                   sim.StaticSynapse(weight=0.004, delay=1.0))
    sim.Projection(array, c, sim.AllToAllConnector(), sim.StaticSynapse(weight=5.0, delay=0.3))
    sim.Projection(a, b, sim.FixedProbabilityConnector(0.5, rng=sim.NumpyRNG(2)),
                   sim.StaticSynapse(weight=0.003, delay=0.7))
    sim.Projection(b, a, sim.FixedProbabilityConnector(0.5, rng=sim.NumpyRNG(3)),
                   sim.StaticSynapse(weight=0.02, delay=1.2), receptor_type="inhibitory")
    sim.Projection(a, c, sim.FixedProbabilityConnector(0.4, rng=sim.NumpyRNG(4)),
                   sim.StaticSynapse(weight=2.0, delay=0.9))
    sim.DCSource(amplitude=1.5, start=10.0, stop=80.0).inject_into(a[:10])
    sim.StepCurrentSource(times=[20.0, 60.0], amplitudes=[0.6, 0.0]).inject_into(b)
    sim.NoisyCurrentSource(mean=0.1, stdev=0.2, dt=1.0, start=0.0, stop=100.0).inject_into(c)
    for p in (a, b, c):
        p.record(["spikes", "v"])
    poisson.record("spikes")
    sim.run(100.0)
    out = {}
    for p in (a, b, c, poisson):
        seg = p.get_data().segments[0]
        out[p.label] = [np.asarray(t.magnitude) for t in seg.spiketrains]
        if p is not poisson:
            out[f"{p.label}.v"] = np.asarray(seg.filter(name="v")[0].magnitude)
    sim.end()
    return out


def test_sources_currents_and_recordings_split_over_two_engines_are_bit_identical():
    whole = _driven({})
    split = _driven({"B": "emulator:2", "C": "emulator:2"})
    assert sum(map(len, whole["A"])) > 0 and sum(map(len, whole["B"])) > 0 and sum(map(len, whole["C"])) > 0
    _assert_identical(whole, split, ("A", "B", "C", "poisson", "A.v", "B.v", "C.v"))


def _fixed_session(tmp_path=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LavaUnavailableWarning)
        sim.setup(timestep=DT, seed=3, numerics="fixed", **({"recording_path": tmp_path} if tmp_path else {}))


DELTA = dict(tau_m=20.0, cm=1.0, v_rest=-65.0, v_reset=-65.0, v_thresh=-55.0, tau_refrac=5.0, i_offset=0.0)


@pytest.mark.parametrize("delay", [0.2, 1.0, 2.7])
def test_spikes_cross_between_the_loihi_path_and_the_host_exactly_on_time(delay):
    """A spike array makes L1 (Loihi path) fire; L1 -> H (Izhikevich: host) -> ... is awkward to
    time, so H is an IF_curr_delta forced onto the host: a 50 mV jump makes it fire in the very
    step the spike arrives, so stamp(H) = stamp(L1) + delay; and back: stamp(L2) = stamp(H) + delay."""
    _fixed_session()
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[3.0]), label="src")
    l1 = sim.Population(1, sim.IF_curr_delta(**DELTA), label="L1")
    host = sim.Population(1, sim.IF_curr_delta(**DELTA), label="H", engine="emulator")
    l2 = sim.Population(1, sim.IF_curr_delta(**DELTA), label="L2")
    izh = sim.Population(2, sim.Izhikevich(), label="TC")
    sim.Projection(src, l1, sim.OneToOneConnector(), sim.StaticSynapse(weight=50.0, delay=0.5))
    sim.Projection(l1, host, sim.OneToOneConnector(), sim.StaticSynapse(weight=50.0, delay=delay))
    sim.Projection(host, l2, sim.OneToOneConnector(), sim.StaticSynapse(weight=50.0, delay=delay))
    sim.Projection(l1, izh, sim.AllToAllConnector(), sim.StaticSynapse(weight=1.0, delay=delay))
    for p in (l1, host, l2):
        p.record("spikes")
    rows = sim.placement(show=False)
    assert rows["L1"]["engine"] == "emulator-fixed" and rows["L2"]["engine"] == "emulator-fixed"
    assert rows["H"] == {**rows["H"], "engine": "emulator", "reason": "chosen by the user"}
    assert rows["TC"]["engine"] == "emulator" and "Izhikevich" in rows["TC"]["reason"]
    sim.run(30.0)
    t = {p.label: np.asarray(p.get_data().segments[0].spiketrains[0].magnitude) for p in (l1, host, l2)}
    assert t["L1"].size == 1 and t["H"].size == 1 and t["L2"].size == 1
    assert t["H"][0] == pytest.approx(t["L1"][0] + delay, abs=1e-9)
    assert t["L2"][0] == pytest.approx(t["H"][0] + delay, abs=1e-9)
    sim.end()


def test_placement_prints_what_runs_where_and_why(capsys):
    _fixed_session()
    sim.Population(3, sim.IF_curr_exp(tau_syn_E=5.0, tau_syn_I=5.0), label="cortex")
    sim.Population(2, sim.Izhikevich(), label="thalamus TC")
    rows = sim.placement()
    printed = capsys.readouterr().out
    assert "cortex (IF_curr_exp, point) -> emulator-fixed: the session's engine" in printed
    assert "thalamus TC (Izhikevich, point) -> emulator: " in printed and "float emulator on the host" in printed
    assert set(rows) == {"cortex", "thalamus TC"}
    sim.end()


def test_an_override_an_engine_cannot_run_is_a_typed_error_and_loses_nothing(tmp_path):
    _fixed_session(tmp_path / "run.h5")
    ok = sim.Population(2, sim.IF_curr_delta(**{**DELTA, "i_offset": 1.0}), label="ok")
    ok.record("spikes")
    sim.run(50.0)
    before = [np.asarray(t.magnitude) for t in ok.get_data().segments[0].spiketrains]
    assert sum(map(len, before)) > 0
    sim.Population(2, sim.Izhikevich(), label="bursting", engine="emulator-fixed")
    with pytest.raises(UnsupportedModelError, match=r"Population\(bursting\)\.engine: 'emulator-fixed' cannot run "
                                                    r"Izhikevich"):
        sim.run(10.0)
    assert sim.get_current_time() == pytest.approx(50.0)
    after = [np.asarray(t.magnitude) for t in ok.get_data().segments[0].spiketrains]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
    sim.end()


def test_bad_engine_names_are_typed_errors():
    sim.setup(timestep=DT)
    with pytest.raises(ParameterError, match="engine"):
        sim.Population(2, sim.IF_curr_exp(), label="p", engine=3)
    sim.Population(2, sim.IF_curr_exp(), label="q", engine="gpu")
    with pytest.raises(UnsupportedModelError, match=r"Population\(q\)\.engine.*no engine named 'gpu'"):
        sim.run(1.0)
    sim.end()
    sim.setup(timestep=DT)
    sim.Population(2, sim.IF_curr_exp(), label="r", engine="neuron")
    with pytest.raises(UnsupportedModelError, match=r"Population\(r\)\.engine.*multi-compartment"):
        sim.run(1.0)
    sim.end()


def test_a_crossing_delay_too_short_for_the_bridge_is_refused_naming_the_projection():
    sim.setup(timestep=DT)
    a = sim.Population(2, sim.IF_curr_exp(), label="a")
    b = sim.Population(2, sim.IF_curr_exp(), label="b", engine="emulator:2")
    sim.Projection(a, b, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1, delay=0.1), label="a_to_b")
    with pytest.raises(CausalityError, match=r"Projection\(a_to_b.*\)\.delay"):
        sim.run(5.0)
    sim.end()


def test_the_placement_says_where_on_the_lava_side_a_population_runs(monkeypatch):
    """Honest about hardware: without Intel's Loihi extension Lava is a CPU simulator; with it,
    a population with a refractory period still runs on the host (LIFRefractory has no Loihi 2
    process model)."""
    from neurohybrid.backends.lava import engine as lava_engine
    note = lava_engine.LavaEngine.placement_note
    from neurohybrid.graph import ModelGraph, PopulationNode
    g = ModelGraph(DT, 1)
    refr = PopulationNode("r", "IF_curr_exp", 2, {"tau_refrac": np.full(2, 2.0)})
    plain = PopulationNode("p", "IF_curr_exp", 2, {"tau_refrac": np.zeros(2)})
    monkeypatch.setattr(lava_engine, "loihi_extension_available", lambda: False)
    assert "CPU simulator" in note(refr, g, {})
    monkeypatch.setattr(lava_engine, "loihi_extension_available", lambda: True)
    assert "stays on the host CPU" in note(refr, g, {}) and "LIFRefractory" in note(refr, g, {})
    assert note(plain, g, {}).startswith("on Loihi 2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LavaUnavailableWarning)
        sim.setup(timestep=DT, backend="lava")
    monkeypatch.setattr(lava_engine, "loihi_extension_available", lambda: False)
    sim.Population(2, sim.IF_curr_exp(), label="cortex")
    row = sim.placement(show=False)["cortex"]
    if row["engine"] == "lava":
        assert "CPU simulator" in row["reason"]
    sim.end()
