"""The training workflow on the reduced L5 cell (NEURON), at a size a test can afford: the
recording is what NEURON did, the artefact carries the contract, the hash and the metrics."""
import numpy as np
import pytest
from surrogate_helpers import l5_builder

from neurohybrid.errors import ParameterError
from neurohybrid.graph import PopulationNode
from neurohybrid.surrogate import ChannelInput, InputDistribution, load, save, train
from neurohybrid.surrogate.recording import model_hash, record_module

NEURON = {"dt": 0.025, "celsius": 6.3}


def l5_node():
    return PopulationNode("L5", "NeuronCell", 1, {}, {"v": np.array([-70.0])}, kind="biophysical",
                          cell=l5_builder())


DIST = InputDistribution((ChannelInput("AMPA_basal", 30, (0.001, 0.003), (2.0, 20.0)),
                          ChannelInput("AMPA_tuft", 30, (0.001, 0.003), (2.0, 20.0))), volley_rate=6.0)


def test_recording_bins_what_neuron_received_and_did():
    rec = record_module(l5_node(), DIST, n_cells=2, duration_ms=600.0, seed=5, neuron=NEURON,
                        locations=("soma", "tuft"))
    sample = DIST.sample(2, 600.0, 5, 0.1)  # the same draw
    total = sum(float(np.dot(w, [len(x) for x in trains])) for trains, w in zip(sample.trains, sample.weights))
    assert rec.inputs.shape == (600, 2, 2)
    assert rec.inputs.sum() == pytest.approx(total - _late(sample), rel=1e-12)
    assert rec.spikes.sum() == sum(len(t) for t in rec.spike_times) > 0
    assert set(rec.v) == {"soma", "tuft"} and rec.v["soma"].shape == (600, 2)
    assert -90 < rec.v["soma"].min() and rec.v["soma"].max() > 0  # action potentials at the soma


def _late(sample):
    """Weight of spikes that arrive after the end (not binned)."""
    out = 0.0
    for trains, w in zip(sample.trains, sample.weights):
        for k, t in enumerate(trains):
            out += w[k] * np.sum(np.asarray(t) + 0.1 >= sample.duration_ms)
    return out


def test_workflow_writes_a_complete_artefact(tmp_path):
    node = l5_node()
    sur, held = train(node, DIST, train_cells=2, train_ms=1500.0, test_cells=1, test_ms=500.0, seed=2,
                      neuron=NEURON, locations=("soma",), hidden=(8, 4), log=lambda *_: None)
    back = load(save(sur, tmp_path / "l5.nhs"))
    assert back.model_hash == model_hash(node)
    assert back.distribution == DIST
    assert back.channels == ["AMPA_basal", "AMPA_tuft"] and back.outputs == ["spikes", "soma.v"]
    for key in ("auc", "gamma", "ev_soma", "rate_module_hz", "rate_surrogate_hz"):
        assert key in back.metrics["held_out"]
    assert held.n_cells == 1 and held.n_bins == 500


def test_bad_training_input_is_refused():
    with pytest.raises(ParameterError, match="n_inputs"):
        ChannelInput("AMPA_basal", 0, (0.001, 0.002))
    with pytest.raises(ParameterError, match="weight"):
        ChannelInput("AMPA_basal", 5, (0.002, 0.001))
    with pytest.raises(ParameterError, match="channels"):
        InputDistribution((ChannelInput("A", 1, (1, 2)), ChannelInput("A", 1, (1, 2))))
    with pytest.raises(ParameterError, match="bin_ms"):
        record_module(l5_node(), DIST, n_cells=1, duration_ms=10.0, seed=1, bin_ms=0.15)
    with pytest.raises(ParameterError, match="cell"):
        from neurohybrid.surrogate.recording import model_hash as mh
        mh(PopulationNode("x", "IF_cond_exp", 1, {}, {}))
