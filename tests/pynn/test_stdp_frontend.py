"""A plastic Projection through PyNN: weights read between and after runs (``get``, ``save``),
recorded as a time series (``Projection.record("weight")`` / ``get_data``), set between runs
(traces kept), reset, and the errors for what cannot change mid-run."""
from __future__ import annotations

import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.errors import ParameterError, ProjectionError, RecordingError

DT = 0.1


def _net(label="plastic"):
    sim.setup(timestep=DT, seed=9)
    pre = sim.Population(20, sim.SpikeSourcePoisson(rate=30.0), label="pre")
    post = sim.Population(5, sim.IF_curr_exp(i_offset=0.4, tau_refrac=2.0), label="post",
                          initial_values={"v": sim.RandomDistribution("uniform", low=-65.0, high=-52.0,
                                                                      rng=sim.NumpyRNG(seed=1))})
    mech = sim.STDPMechanism(timing_dependence=sim.SpikePairRule(A_plus=0.05, A_minus=0.05),
                             weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=1.0),
                             weight=0.5, delay=1.0)
    prj = sim.Projection(pre, post, sim.AllToAllConnector(), mech, label=label)
    return pre, post, prj


def _run_chunks(prj, chunks):
    seen = []
    for t in chunks:
        sim.run_until(t)
        seen.append(np.array(prj.get("weight", format="array")))
    return seen


def test_get_between_runs_equals_one_long_run():
    _, _, prj = _net()
    chunks = _run_chunks(prj, [100.0, 250.0, 400.0])
    sim.end()
    _, _, prj = _net()
    sim.run(400.0)
    once = np.array(prj.get("weight", format="array"))
    sim.end()
    np.testing.assert_array_equal(chunks[-1], once)
    assert not np.array_equal(chunks[0], chunks[1]) and not np.array_equal(chunks[1], chunks[2])
    assert np.all(once >= 0.0) and np.all(once <= 1.0)


def test_recorded_weights_time_series(tmp_path):
    _, _, prj = _net()
    prj.record("weight", sampling_interval=5.0, connections=[0, 3, 7])
    sim.run(200.0)
    final = np.array(prj.get("weight", format="list", with_address=False))
    block = prj.get_data()
    signal = block.segments[0].analogsignals[0]
    assert signal.name == "weight" and str(signal.units.dimensionality) == "nA"
    assert signal.shape == (41, 3)  # t = 0, 5, ..., 200 ms
    np.testing.assert_array_equal(signal.array_annotations["connection_index"], [0, 3, 7])
    np.testing.assert_array_equal(np.asarray(signal)[0], 0.5)
    np.testing.assert_array_equal(np.asarray(signal)[-1], final[[0, 3, 7]])
    assert len(np.unique(np.asarray(signal)[:, 0])) > 3
    path = tmp_path / "weights.txt"
    prj.save("weight", str(path), format="list")
    saved = np.loadtxt(path)
    np.testing.assert_allclose(saved[:, 2], final)
    sim.end()


def test_set_weights_between_runs_keeps_learning_state():
    """New weights reach the running synapses; their traces and the spike history stay."""
    _, _, prj = _net()
    sim.run(150.0)
    w = np.array(prj.get("weight", format="array"))
    prj.set(weight=w)  # the same weights, set back: nothing else may change
    sim.run_until(300.0)
    a = np.array(prj.get("weight", format="array"))
    sim.end()
    _, _, prj = _net()
    sim.run(300.0)
    b = np.array(prj.get("weight", format="array"))
    sim.end()
    np.testing.assert_array_equal(a, b)


def test_reset_restores_initial_weights():
    _, _, prj = _net()
    sim.run(200.0)
    learnt = np.array(prj.get("weight", format="array"))
    sim.reset()
    np.testing.assert_array_equal(np.array(prj.get("weight", format="array")), 0.5)
    sim.run(200.0)
    np.testing.assert_array_equal(np.array(prj.get("weight", format="array")), learnt)
    sim.end()


def test_rule_change_mid_run_is_refused_and_loses_nothing():
    pre, post, prj = _net(label="learning")
    post.record("spikes")
    sim.run(100.0)
    before = post.get_data().segments[0].spiketrains
    with pytest.raises(ParameterError) as info:
        prj.set(tau_plus=30.0)
    assert info.value.parameter == "tau_plus" and "learning" in str(info.value)
    with pytest.raises(ParameterError):
        prj.set(w_max=2.0)
    after = post.get_data().segments[0].spiketrains
    assert [len(s) for s in before] == [len(s) for s in after]
    sim.run(50.0)  # still runs, with the old rule
    sim.end()


def test_plastic_projection_to_a_spike_source_is_refused():
    sim.setup(timestep=DT)
    a = sim.Population(2, sim.SpikeSourcePoisson(rate=5.0))
    b = sim.Population(2, sim.SpikeSourcePoisson(rate=5.0), label="sources")
    mech = sim.STDPMechanism(timing_dependence=sim.SpikePairRule(),
                             weight_dependence=sim.AdditiveWeightDependence(), weight=0.3, delay=1.0)
    with pytest.raises(ProjectionError, match="spike sources"):
        sim.Projection(a, b, sim.AllToAllConnector(), mech)
    sim.end()


def test_recording_weights_of_a_static_projection_is_refused():
    sim.setup(timestep=DT)
    a = sim.Population(2, sim.SpikeSourcePoisson(rate=5.0))
    b = sim.Population(2, sim.IF_curr_exp())
    prj = sim.Projection(a, b, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1))
    with pytest.raises(RecordingError, match="do not change"):
        prj.record("weight")
    sim.end()
