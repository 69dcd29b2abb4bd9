"""Mean-field engine semantics: delays in whole steps, continuation, monitors, noise, errors, BOLD."""
import numpy as np
import pytest

from neurohybrid.backends.meanfield import (Bold, Connectome, EulerDeterministic, EulerStochastic, Generic2dOscillator,
                                            HeunDeterministic, HeunStochastic, Kuramoto, Linear, MeanFieldSimulation,
                                            Raw, ReducedWongWang, SupHopf, TemporalAverage)
from neurohybrid.errors import ParameterError, SimulationStateError, UnknownParameterError


def _two_regions(length_mm):
    w = np.array([[0.0, 0.0], [1.0, 0.0]])  # region 0 -> region 1 only (w[i, j] is j -> i)
    L = np.array([[0.0, length_mm], [length_mm, 0.0]])
    return Connectome(w, L, ["src", "dst"])


def test_delay_in_whole_steps():
    # theta_0 = t (omega 1 rad/ms), theta_1 integrates theta_0(t - D): with Euler,
    # theta_1[k] = sum_{s=1..k} dt * theta_0[s - 1 - D], theta_0[m] = m dt for m >= 0, 0 before (history).
    dt, speed, length = 0.1, 2.0, 2.96  # 1.48 ms -> rint(14.8) = 15 steps
    model = Kuramoto(omega=np.array([1.0, 0.0]))
    sim = MeanFieldSimulation(_two_regions(length), model, Linear(a=1.0, b=0.0), speed=speed, dt=dt,
                              integrator=EulerDeterministic(), monitors=[Raw()], initial_state=np.zeros((1, 2)))
    assert sim.horizon == 16
    out = sim.run(5.0)["raw"].data[:, 0, :]
    D, n = 15, 50
    th0 = np.arange(0, n + 1) * dt
    expect = np.cumsum([dt * (th0[s - 1 - D] if s - 1 - D >= 0 else 0.0) for s in range(1, n + 1)])
    np.testing.assert_allclose(out[:, 0], th0[1:], rtol=1e-12)
    np.testing.assert_allclose(out[:, 1], expect, rtol=1e-12, atol=1e-15)
    assert out[D, 1] == 0.0 and out[D + 1, 1] > 0.0  # first non-zero input acts at step D + 2


def test_infinite_speed_means_no_delay():
    sim = MeanFieldSimulation(_two_regions(50.0), Kuramoto(), speed=np.inf, dt=0.1)
    assert sim.horizon == 1


@pytest.mark.parametrize("integrator", [HeunDeterministic(), HeunStochastic(nsig=1e-4, seed=3)])
def test_continuation_equals_one_run(integrator):
    conn = Connectome.synthetic(6, seed=2)
    mk = lambda: MeanFieldSimulation(conn, Generic2dOscillator(a=0.3, tau=2.0), Linear(a=0.01), dt=0.1,
                                     integrator=integrator, monitors=[Raw(), TemporalAverage(1.0)], seed=4)
    a = mk()
    r1, r2 = a.run(12.3), a.run(7.7)
    b = mk().run(20.0)
    np.testing.assert_array_equal(np.concatenate([r1["raw"].data, r2["raw"].data]), b["raw"].data)
    np.testing.assert_array_equal(np.concatenate([r1["raw"].time, r2["raw"].time]), b["raw"].time)
    np.testing.assert_array_equal(np.concatenate([r1["tavg"].data, r2["tavg"].data]), b["tavg"].data)
    assert a.time == pytest.approx(20.0)


def test_temporal_average_is_block_mean_of_raw():
    sim = MeanFieldSimulation(Connectome.synthetic(4), ReducedWongWang(), Linear(a=0.5), dt=0.1,
                              monitors=[Raw(), TemporalAverage(period=2.0, name="avg")], seed=1)
    r = sim.run(10.0)
    raw, avg = r["raw"].data, r["avg"].data
    np.testing.assert_allclose(avg, raw.reshape(5, 20, 1, 4).mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(r["avg"].time, [1.0, 3.0, 5.0, 7.0, 9.0])
    np.testing.assert_allclose(r["raw"].time[:3], [0.1, 0.2, 0.3])


def test_subsampled_raw():
    sim = MeanFieldSimulation(Connectome.synthetic(3), ReducedWongWang(), dt=0.1, monitors=[Raw(), Raw(0.5, name="sub")])
    r = sim.run(3.0)
    np.testing.assert_array_equal(r["sub"].data, r["raw"].data[4::5])


def test_bounds_are_applied():
    # a coarse Euler step with strong input overshoots S = 1; TVB's boundary clamps it to exactly 1
    sim = MeanFieldSimulation(Connectome.synthetic(6), ReducedWongWang(), Linear(a=100.0), dt=5.0,
                              integrator=EulerDeterministic(), seed=0)
    d = sim.run(50.0)["raw"].data
    assert d.min() >= 0.0 and d.max() == 1.0 and (d == 1.0).sum() > 0


def _ou_variance(a, dt, nsig, heun):
    # exact stationary variance of the discrete scheme for dx = a x dt + sqrt(2 nsig) dW
    if heun:
        g, h = 1 + a * dt + (a * dt) ** 2 / 2, 1 + a * dt / 2
    else:
        g, h = 1 + a * dt, 1.0
    return h * h * 2 * nsig * dt / (1 - g * g)


@pytest.mark.parametrize("cls", [HeunStochastic, EulerStochastic])
def test_additive_noise_convention(cls):
    n, a, nsig, dt = 40, -0.5, 1e-4, 0.1  # small: the cubic term of SupHopf stays negligible
    conn = Connectome(np.zeros((n, n)), np.zeros((n, n)))
    sim = MeanFieldSimulation(conn, SupHopf(a=a, omega=0.0), dt=dt, integrator=cls(nsig=nsig, seed=11),
                              monitors=[Raw(period=1.0, variables=("x", "y"))], initial_state=np.zeros(2))
    d = sim.run(1500.0)["raw"].data[50:]
    expect = _ou_variance(a, dt, nsig, cls is HeunStochastic)
    assert abs(d.var() / expect - 1) < 0.04
    assert abs(d.mean()) < 0.001
    # same seed, same stream
    sim2 = MeanFieldSimulation(conn, SupHopf(a=a, omega=0.0), dt=dt, integrator=cls(nsig=nsig, seed=11),
                               monitors=[Raw(period=1.0, variables=("x", "y"))], initial_state=np.zeros(2))
    np.testing.assert_array_equal(sim2.run(100.0)["raw"].data[:50], sim.__class__(
        conn, SupHopf(a=a, omega=0.0), dt=dt, integrator=cls(nsig=nsig, seed=11),
        monitors=[Raw(period=1.0, variables=("x", "y"))], initial_state=np.zeros(2)).run(50.0)["raw"].data)


def test_bold_rest_and_response():
    conn = Connectome(np.zeros((2, 2)), np.zeros((2, 2)))
    # theta is constant (omega 0): region 0 drive 0 -> BOLD stays 0; region 1 drive 0.5 -> BOLD rises
    sim = MeanFieldSimulation(conn, Kuramoto(omega=0.0), dt=1.0, integrator=EulerDeterministic(),
                              monitors=[Bold(period=1000.0, interim_period=1.0)], initial_state=np.array([[0.0, 0.5]]))
    r1 = sim.run(3000.0)["bold"]
    r2 = sim.run(17000.0)["bold"]
    assert r1.data.shape == (3, 1, 2) and r2.data.shape == (17, 1, 2)
    np.testing.assert_allclose(r1.time, [1000.0, 2000.0, 3000.0])
    y = np.concatenate([r1.data, r2.data])[:, 0]
    assert np.all(y[:, 0] == 0.0)
    assert y[1, 1] > 0 and y[-1, 1] > 0 and np.isfinite(y).all()
    assert abs(y[-1, 1] - y[-2, 1]) < 0.01 * abs(y[-1, 1])  # settles to a steady state


def test_bold_period_must_be_multiple():
    with pytest.raises(ParameterError, match="period"):
        MeanFieldSimulation(Connectome.synthetic(2), Kuramoto(), dt=0.1, monitors=[Bold(period=1000.5)])


def test_errors():
    conn = Connectome.synthetic(3)
    with pytest.raises(UnknownParameterError, match="taux"):
        Generic2dOscillator(taux=1.0)
    with pytest.raises(ParameterError, match="tau"):
        Generic2dOscillator(tau=np.nan)
    with pytest.raises(ParameterError, match="tau"):
        MeanFieldSimulation(conn, Generic2dOscillator(tau=np.ones(5)))
    sim = MeanFieldSimulation(conn, Generic2dOscillator(), dt=0.1)
    with pytest.raises(ParameterError, match="duration_ms"):
        sim.run(0.05)
    with pytest.raises(ParameterError, match="duration_ms"):
        sim.run(1.05 + 0.01)
    with pytest.raises(ParameterError, match="initial_state"):
        MeanFieldSimulation(conn, Generic2dOscillator(), initial_state=np.zeros((3, 3)))
    with pytest.raises(ParameterError, match="dt"):
        MeanFieldSimulation(conn, Generic2dOscillator(), dt=-0.1)
    with pytest.raises(ParameterError, match="nsig"):
        MeanFieldSimulation(conn, Generic2dOscillator(), integrator=HeunStochastic(nsig=-1.0))
    with pytest.raises(UnknownParameterError, match="Q"):
        MeanFieldSimulation(conn, Generic2dOscillator(), monitors=[Raw(variables=("Q",))])
    with pytest.raises(ParameterError, match="monitor"):
        MeanFieldSimulation(conn, Generic2dOscillator(), monitors=[Raw(), Raw()])
    with pytest.raises(ParameterError, match="period"):
        MeanFieldSimulation(conn, Generic2dOscillator(), dt=0.1, monitors=[TemporalAverage(period=0.25)])
    with pytest.raises(ParameterError, match="coupling"):
        MeanFieldSimulation(conn, Generic2dOscillator(), coupling="linear")
    # explicit Heun on |x| ~ 50 blows up: a typed error, not silent NaNs
    bad = MeanFieldSimulation(conn, SupHopf(), dt=0.1, initial_state=np.full(2, 50.0))
    with pytest.raises(SimulationStateError, match="non-finite"):
        bad.run(10.0)


def test_spatialised_parameters():
    conn = Connectome(np.zeros((3, 3)), np.zeros((3, 3)))
    sim = MeanFieldSimulation(conn, Kuramoto(omega=np.array([0.1, 0.2, 0.3])), dt=0.1,
                              integrator=EulerDeterministic(), initial_state=np.zeros(1))
    d = sim.run(1.0)["raw"].data
    np.testing.assert_allclose(d[-1, 0], [0.1, 0.2, 0.3], rtol=1e-12)


def test_jansen_rit_needs_two_coupling_variables():
    from neurohybrid.backends.meanfield import SigmoidalJansenRit
    with pytest.raises(ParameterError, match="SigmoidalJansenRit"):
        MeanFieldSimulation(Connectome.synthetic(3), Generic2dOscillator(), SigmoidalJansenRit())
