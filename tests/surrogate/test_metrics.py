"""AUC, the coincidence factor and explained variance on cases with known answers."""
import numpy as np
import pytest

from neurohybrid.surrogate.metrics import auc, coincidence_factor, explained_variance


def test_auc_known_values():
    assert auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 1.0
    assert auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]) == 0.0
    assert auc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]) == 0.5  # ties count half
    rng = np.random.default_rng(1)
    s, y = rng.random(20000), rng.random(20000) < 0.1
    assert abs(auc(s, y) - 0.5) < 0.02
    assert np.isnan(auc([1.0, 2.0], [0, 0]))


def test_coincidence_factor_identical_shifted_and_independent_trains():
    """Γ = 1 for identical trains, 1 within the window, ~0 for independent Poisson trains
    (Kistler et al. 1997; Jolivet et al. 2008)."""
    t = np.arange(10.0, 10000.0, 97.0)
    assert coincidence_factor(t, t, 2.0, 10000.0) == pytest.approx(1.0)
    assert coincidence_factor(t, t + 1.5, 2.0, 10000.0) == pytest.approx(1.0)
    assert coincidence_factor(t, t + 5.0, 2.0, 10000.0) < 0.0
    rng = np.random.default_rng(2)
    a = np.sort(rng.uniform(0, 1e6, 10000))
    b = np.sort(rng.uniform(0, 1e6, 10000))
    assert abs(coincidence_factor(a, b, 2.0, 1e6)) < 0.03
    assert coincidence_factor([t, t], [t, t[:-1]], 2.0, 10000.0) < 1.0


def test_explained_variance():
    x = np.sin(np.linspace(0, 20, 1000))
    assert explained_variance(x, x) == 1.0
    assert explained_variance(x, x + 0.1) == pytest.approx(1.0)  # an offset is not variance
    assert explained_variance(x, np.zeros_like(x)) == pytest.approx(0.0)
