"""The surrogate file: round trip, and every way a file can be unusable (typed errors)."""
import h5py
import numpy as np
import pytest
from surrogate_helpers import random_surrogate

from neurohybrid.errors import SurrogateFileError, UnsupportedModelError
from neurohybrid.surrogate import FORMAT_VERSION, ModelHashWarning, load, save


def test_round_trip_keeps_every_weight_and_the_contract(tmp_path):
    sur = random_surrogate()
    sur.metrics = {"held_out": {"auc": 0.5}}
    back = load(save(sur, tmp_path / "a.nhs"))
    assert back.channels == sur.channels and back.outputs == ["spikes", "soma.v", "tuft.v"]
    assert back.weights_hash() == sur.weights_hash()
    assert back.distribution == sur.distribution
    assert back.model_hash == sur.model_hash and back.metrics == sur.metrics
    np.testing.assert_array_equal(back.network.feature_scale, sur.network.feature_scale)
    assert back.network.threshold == sur.network.threshold


def test_truncated_file_is_refused(tmp_path):
    path = save(random_surrogate(), tmp_path / "a.nhs")
    data = open(path, "rb").read()
    cut = tmp_path / "cut.nhs"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(SurrogateFileError, match="cut.nhs"):
        load(cut)


def test_other_format_version_and_other_files_are_refused(tmp_path):
    path = save(random_surrogate(), tmp_path / "a.nhs")
    with h5py.File(path, "a") as f:
        f.attrs["version"] = FORMAT_VERSION + 1
    with pytest.raises(SurrogateFileError, match="version"):
        load(path)
    other = tmp_path / "b.nhs"
    with h5py.File(other, "w") as f:
        f.attrs["format"] = "something-else"
    with pytest.raises(SurrogateFileError, match="format"):
        load(other)
    with pytest.raises(SurrogateFileError, match="does not exist"):
        load(tmp_path / "missing.nhs")
    with h5py.File(path, "a") as f:  # weights missing
        f.attrs["version"] = FORMAT_VERSION
        del f["weights/spike_W1"]
    with pytest.raises(SurrogateFileError, match="incomplete or inconsistent|cannot be read"):
        load(path)


def test_ports_are_refused_and_another_model_warns():
    sur = random_surrogate()
    with pytest.raises(UnsupportedModelError, match="GABA_soma"):
        sur.check_against("L5", ["AMPA_basal", "GABA_soma"], sur.model_hash)
    with pytest.raises(UnsupportedModelError, match="hotzone.v"):
        sur.check_against("L5", ["AMPA_basal"], sur.model_hash, variables=["spikes", "hotzone.v"])
    sur.check_against("L5", ["AMPA_basal"], sur.model_hash, variables=["spikes", "v", "tuft.v"])
    with pytest.warns(ModelHashWarning, match="trained on the biophysical model"):
        sur.check_against("L5", ["AMPA_basal"], "f" * 64)


def test_the_shipped_l5_surrogate_matches_the_example_cell():
    """examples/l5pc/l5pc.nhs was trained on examples/l5pc's cell as it is now (retrain it
    with `python examples/l5_surrogate.py --train` after changing the cell)."""
    import warnings

    from surrogate_helpers import EXAMPLES, l5_builder

    from neurohybrid.graph import PopulationNode
    from neurohybrid.surrogate.recording import model_hash
    sur = load(EXAMPLES / "l5pc" / "l5pc.nhs")
    node = PopulationNode("L5", "NeuronCell", 1, {}, {}, kind="biophysical", cell=l5_builder())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sur.check_against("L5", ["AMPA_basal", "AMPA_tuft"], model_hash(node), ["spikes", "soma.v", "tuft.v"])
    held = sur.metrics["held_out"]
    print(f"shipped surrogate, held-out: AUC {held['auc']:.3f}, gamma {held['gamma']:.3f}, "
          f"soma EV {held['ev_soma']:.3f} (Beniaguev et al. 2021: AUC 0.99)")
    assert held["auc"] > 0.9 and held["cells"] >= 8
