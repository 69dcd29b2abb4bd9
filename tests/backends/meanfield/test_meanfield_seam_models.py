"""The mean-field engine's seams for JansenRit and Generic2dOscillator (issue 14, item 7), without
the co-simulation: constant rates into a replaced region, its state and its afferent read back.

* JansenRit (Jansen & Rit 1995, eq. 1): y1 of a replaced region is the potential whose firing-rate
  sigmoid is the given rate, y2 = 0; the sigmoid is the SigmoidalJansenRit coupling's (cmin,
  cmax = 2·e0 = 5 Hz, midpoint 6 mV, r 0.56/mV), else the model's (0, 2·nu_max, v0, r). Rates at
  or beyond the sigmoid's range stay finite (clipped to 1e-9 of the range).
* The afferent of a replaced JansenRit region is a·sum_j w_ij S(y1_j - y2_j) (1/ms), before t = 0
  too (``history_afferent``).
* Generic2dOscillator: V = 0.1/Hz·r.
"""
import numpy as np
import pytest

from neurohybrid.backends.meanfield import (Connectome, HeunDeterministic, Linear, MeanFieldSimulation, Raw,
                                            SigmoidalJansenRit)
from neurohybrid.backends.meanfield.models import Generic2dOscillator, JansenRit, seam_models
from neurohybrid.errors import UnsupportedModelError

DT = 0.1
X0 = np.array([0.1, 10.0, 5.0, 0.0, 0.0, 0.0])


def _jr(coupling, lag=5):
    conn = Connectome.synthetic(4, seed=1)
    s = MeanFieldSimulation(conn, JansenRit(), coupling, 3.0, DT, HeunDeterministic(), [Raw(variables=("y1", "y2"))],
                            initial_state=X0)
    s.replace([1], lag)
    return conn, s


def test_models_with_a_seam():
    assert set(seam_models()) == {"Generic2dOscillator", "ReducedWongWang", "ReducedWongWangExcInh",
                                  "MontbrioPazoRoxin", "JansenRit"}


@pytest.mark.parametrize("coupling", [SigmoidalJansenRit(a=1.0), Linear(a=0.01)], ids=["sigmoidal", "linear"])
def test_jansen_rit_rate_sets_the_pyramidal_potential(coupling):
    conn, s = _jr(coupling)
    if isinstance(coupling, SigmoidalJansenRit):
        cmin, cmax, v0, rho = coupling.cmin, coupling.cmax, coupling.midpoint, coupling.r
    else:  # the model's own sigmoid
        m = JansenRit()
        cmin, cmax, v0, rho = 0.0, 2.0 * m.params["nu_max"], m.params["v0"], m.params["r"]
    out = s.run(20.0, np.full((200, 1, 1), 3.0))["raw"].data  # 3 Hz
    want = v0 - np.log((cmax - cmin) / (3e-3 - cmin) - 1.0) / rho
    print(f"JansenRit y1 at 3 Hz: {out[-1, 0, 1]:.6f} mV (inverse sigmoid {want:.6f} mV)")
    assert out[-1, 0, 1] == pytest.approx(want, abs=1e-12)
    assert np.all(out[:, 1, 1] == 0.0)
    # beyond the sigmoid's range (max 2·e0 = 5 Hz): finite, at the clipped ends
    out = s.run(5.0, np.full((50, 1, 1), 50.0))["raw"].data
    assert np.all(np.isfinite(out)) and out[-1, 0, 1] > v0 + 20.0 / rho
    out = s.run(5.0, np.zeros((50, 1, 1)))["raw"].data
    assert np.all(np.isfinite(out)) and out[-1, 0, 1] < v0 - 20.0 / rho


def test_jansen_rit_afferent_is_the_sigmoidal_coupling():
    coupling = SigmoidalJansenRit(a=1.0)
    conn, s = _jr(coupling)

    def S(v):
        return coupling.cmin + (coupling.cmax - coupling.cmin) / (1 + np.exp(coupling.r * (coupling.midpoint - v)))

    w = conn.weights[1].copy()
    w[1] = 0.0  # a replaced region's self-connection is dropped
    # before t = 0 the history is the constant initial state
    want0 = coupling.a * (w * S(X0[1] - X0[2])).sum()
    assert s.history_afferent()[0, 0] == pytest.approx(want0, rel=1e-12) and want0 > 0
    s.run(20.0, np.full((200, 1, 1), 3.0))
    # the first ``lag`` afferent samples come from the history (delays here are >= 13 ms)
    np.testing.assert_allclose(s.afferent[:50, 0, 0], want0, rtol=1e-12)
    assert s.afferent.shape == (200, 1, 2) and np.all(s.afferent[:, 0, 1] == 0.0)


def test_generic_2d_oscillator_v_is_a_linear_rate_proxy():
    conn = Connectome.synthetic(4, seed=1)
    s = MeanFieldSimulation(conn, Generic2dOscillator(), Linear(a=0.1), 3.0, DT, HeunDeterministic(),
                            [Raw(variables=("V", "W"))], initial_state=np.array([0.0, 0.0]))
    s.replace([2], 5)
    out = s.run(10.0, np.full((100, 1, 1), 7.0))["raw"].data
    assert out[-1, 0, 2] == pytest.approx(0.7, abs=1e-15)  # V = r / 10 Hz
    assert np.all(out[:, 1, 2] == 0.0)  # W held at its initial value


def test_a_coupling_without_a_replaced_state_is_refused():
    from neurohybrid.backends.meanfield import Difference
    conn = Connectome.synthetic(4, seed=1)
    s = MeanFieldSimulation(conn, Generic2dOscillator(), Difference(a=0.1), 3.0, DT)
    with pytest.raises(UnsupportedModelError, match="SigmoidalJansenRit"):
        s.replace([0], 5)
