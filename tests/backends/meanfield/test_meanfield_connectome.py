"""Connectome construction, TVB zip reading and typed input errors."""
import zipfile

import numpy as np
import pytest

from neurohybrid.backends.meanfield import Connectome
from neurohybrid.errors import ParameterError, UnknownParameterError


def _write_zip(path, w, L, labels, centres):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("weights.txt", "\n".join(" ".join(f"{v:.6f}" for v in row) for row in w))
        z.writestr("tract_lengths.txt", "\n".join(" ".join(f"{v:.6f}" for v in row) for row in L))
        z.writestr("centres.txt", "\n".join(f"{lab} {c[0]} {c[1]} {c[2]}" for lab, c in zip(labels, centres)))


def test_from_arrays_and_index():
    c = Connectome.synthetic(5, seed=1)
    assert c.n_regions == 5 and c.labels[2] == "R2"
    assert c.index("R3") == 3
    with pytest.raises(UnknownParameterError) as e:
        c.index("thalamus")
    assert "thalamus" in str(e.value) and "R0" in str(e.value)


def test_idelays_round_like_tvb():
    L = np.array([[0.0, 3.0], [4.6, 0.0]])
    c = Connectome(np.ones((2, 2)), L)
    # 3 mm at 2 mm/ms = 1.5 ms -> 15 steps at 0.1 ms; 4.6/2 = 2.3 ms -> 23 steps
    np.testing.assert_array_equal(c.idelays(2.0, 0.1), [[0, 15], [23, 0]])
    np.testing.assert_array_equal(c.idelays(2.0, 0.1), np.rint(L / 2.0 / 0.1))
    with pytest.raises(ParameterError, match="speed"):
        c.delays(0.0)


@pytest.mark.parametrize("w, L, param", [
    (np.ones((2, 3)), np.ones((2, 3)), "weights"),
    (np.ones((2, 2)), np.ones((3, 3)), "lengths"),
    (np.array([[0, -1.0], [0, 0]]), np.ones((2, 2)), "weights"),
    (np.array([[0, np.nan], [0, 0]]), np.ones((2, 2)), "weights"),
    (np.ones((2, 2)), np.array([[0, -5.0], [1, 0]]), "lengths"),
    (np.ones((2, 2)), np.array([[0, np.inf], [1, 0]]), "lengths"),
])
def test_bad_arrays(w, L, param):
    with pytest.raises(ParameterError) as e:
        Connectome(w, L)
    assert e.value.parameter == param and "Connectome" in str(e.value)


def test_bad_labels():
    with pytest.raises(ParameterError, match="labels"):
        Connectome(np.ones((2, 2)), np.ones((2, 2)), ["a"])
    with pytest.raises(ParameterError, match="duplicate"):
        Connectome(np.ones((2, 2)), np.ones((2, 2)), ["a", "a"])


def test_from_tvb_zip_roundtrip(tmp_path):
    src = Connectome.synthetic(6, seed=3)
    p = tmp_path / "conn.zip"
    _write_zip(p, src.weights, src.lengths, src.labels, src.centres)
    c = Connectome.from_tvb_zip(p)
    np.testing.assert_allclose(c.weights, src.weights, atol=1e-6)
    np.testing.assert_allclose(c.lengths, src.lengths, atol=1e-6)
    assert c.labels == src.labels and c.centres.shape == (6, 3)
    assert Connectome.default_76(p).n_regions == 6  # default_76 accepts an explicit path


def test_from_tvb_zip_errors(tmp_path):
    with pytest.raises(ParameterError, match="no such file"):
        Connectome.from_tvb_zip(tmp_path / "missing.zip")
    bad = tmp_path / "bad.zip"
    bad.write_text("not a zip")
    with pytest.raises(ParameterError, match="not a zip"):
        Connectome.from_tvb_zip(bad)
    partial = tmp_path / "partial.zip"
    with zipfile.ZipFile(partial, "w") as z:
        z.writestr("weights.txt", "0 1\n1 0")
    with pytest.raises(ParameterError, match="tract_lengths.txt"):
        Connectome.from_tvb_zip(partial)
    neg = tmp_path / "neg.zip"
    _write_zip(neg, [[0, -1], [1, 0]], [[0, 1], [1, 0]], ["a", "b"], [[0, 0, 0], [1, 1, 1]])
    with pytest.raises(ParameterError, match="negative"):
        Connectome.from_tvb_zip(neg)


def test_default_76_without_tvb_data(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "tvb_data", None)  # as in the main venv: not importable
    with pytest.raises(ParameterError, match="tvb_data"):
        Connectome.default_76()
