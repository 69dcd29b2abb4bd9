"""Projections: every standard connector's statistics, reproducibility under a seed, get/set/save,
and bad delays / cross-simulator connections."""
import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid import errors


@pytest.fixture
def session(tmp_path):
    sim.setup(timestep=0.1, recording_path=tmp_path / "run.h5", seed=7)
    yield tmp_path
    sim.end()


def _pops(n_pre=40, n_post=30):
    pre = sim.Population(n_pre, sim.IF_curr_exp(), label="pre", structure=sim.space.Line())
    post = sim.Population(n_post, sim.IF_curr_exp(), label="post", structure=sim.space.Line())
    return pre, post


def _pairs(prj):
    rows = prj.get(["weight"], format="list", with_address=True)
    return np.array([(int(r[0]), int(r[1])) for r in rows], dtype=int).reshape(-1, 2)


def test_all_to_all(session):
    pre, post = _pops()
    prj = sim.Projection(pre, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.5, delay=1.0))
    assert len(prj) == 40 * 30
    w = prj.get("weight", format="array")
    assert np.all(w == 0.5)


def test_all_to_all_no_self_connections(session):
    pre, _ = _pops()
    prj = sim.Projection(pre, pre, sim.AllToAllConnector(allow_self_connections=False))
    pairs = _pairs(prj)
    assert len(prj) == 40 * 39 and not np.any(pairs[:, 0] == pairs[:, 1])


def test_one_to_one(session):
    pre = sim.Population(25, sim.IF_curr_exp(), label="a")
    post = sim.Population(25, sim.IF_curr_exp(), label="b")
    pairs = _pairs(sim.Projection(pre, post, sim.OneToOneConnector()))
    np.testing.assert_array_equal(pairs[:, 0], pairs[:, 1])
    assert len(pairs) == 25


def test_fixed_probability_statistics(session):
    pre = sim.Population(200, sim.IF_curr_exp(), label="a")
    post = sim.Population(200, sim.IF_curr_exp(), label="b")
    prj = sim.Projection(pre, post, sim.FixedProbabilityConnector(0.1, rng=sim.NumpyRNG(1)))
    # 40000 Bernoulli(0.1) trials: mean 4000, sd 60
    assert abs(len(prj) - 4000) < 300


def test_fixed_number_pre_and_post(session):
    pre, post = _pops()
    prj = sim.Projection(pre, post, sim.FixedNumberPreConnector(7, rng=sim.NumpyRNG(2)))
    counts = np.bincount(_pairs(prj)[:, 1], minlength=30)
    assert np.all(counts == 7)
    prj2 = sim.Projection(pre, post, sim.FixedNumberPostConnector(5, rng=sim.NumpyRNG(2)))
    out = np.bincount(_pairs(prj2)[:, 0], minlength=40)
    assert np.all(out == 5)


def test_fixed_total_number(session):
    pre, post = _pops()
    prj = sim.Projection(pre, post, sim.FixedTotalNumberConnector(123, rng=sim.NumpyRNG(4)))
    assert len(prj) == 123


def test_from_list_and_from_file(session):
    pre, post = _pops()
    conns = [(0, 1, 0.1, 1.0), (3, 2, 0.2, 2.0), (5, 5, 0.3, 0.5)]
    prj = sim.Projection(pre, post, sim.FromListConnector(conns, column_names=["weight", "delay"]))
    got = sorted(prj.get(["weight", "delay"], format="list"))
    np.testing.assert_allclose(np.array(got), np.array(sorted(conns)))
    path = session / "conns.txt"
    prj.save(["weight", "delay"], str(path), format="list")
    prj2 = sim.Projection(pre, post, sim.FromFileConnector(str(path)))
    np.testing.assert_allclose(np.array(sorted(prj2.get(["weight", "delay"], format="list"))),
                               np.array(sorted(conns)))


def test_array_connector(session):
    pre = sim.Population(3, sim.IF_curr_exp(), label="a")
    post = sim.Population(2, sim.IF_curr_exp(), label="b")
    mask = np.array([[1, 0], [0, 1], [1, 1]], dtype=bool)
    prj = sim.Projection(pre, post, sim.ArrayConnector(mask))
    w = prj.get("weight", format="array")
    np.testing.assert_array_equal(~np.isnan(w), mask)


def test_distance_dependent(session):
    pre = sim.Population(100, sim.IF_curr_exp(), structure=sim.space.Line(dx=1.0), label="a")
    post = sim.Population(100, sim.IF_curr_exp(), structure=sim.space.Line(dx=1.0), label="b")
    prj = sim.Projection(pre, post, sim.DistanceDependentProbabilityConnector("d < 3", rng=sim.NumpyRNG(5)))
    pairs = _pairs(prj)
    assert np.all(np.abs(pairs[:, 0] - pairs[:, 1]) < 3)
    assert len(prj) == 100 * 5 - 2 * 3  # |i-j| <= 2, minus the edges


def test_displacement_dependent_and_index_based(session):
    pre = sim.Population(20, sim.IF_curr_exp(), label="a")
    post = sim.Population(20, sim.IF_curr_exp(), label="b")
    prj = sim.Projection(pre, post, sim.DisplacementDependentProbabilityConnector(
        lambda d: (d[0] > 0) * 1.0, rng=sim.NumpyRNG(6)))
    pairs = _pairs(prj)
    assert len(pairs) > 0 and np.all(pairs[:, 1] > pairs[:, 0])

    class Diagonal(sim.IndexBasedExpression):
        def __call__(self, i, j):
            return (i == j).astype(float)

    prj2 = sim.Projection(pre, post, sim.IndexBasedProbabilityConnector(Diagonal(), rng=sim.NumpyRNG(6)))
    pairs2 = _pairs(prj2)
    np.testing.assert_array_equal(pairs2[:, 0], pairs2[:, 1])


def test_small_world(session):
    pre = sim.Population(50, sim.IF_curr_exp(), structure=sim.space.Line(dx=1.0), label="a")
    ring = sim.Projection(pre, pre, sim.SmallWorldConnector(degree=2.5, rewiring=0.0,
                                                            allow_self_connections=False, rng=sim.NumpyRNG(1)))
    pairs = _pairs(ring)
    assert np.all(np.abs(pairs[:, 0] - pairs[:, 1]) <= 2) and len(ring) == 50 * 4 - 6
    rewired = sim.Projection(pre, pre, sim.SmallWorldConnector(degree=2.5, rewiring=0.5,
                                                               allow_self_connections=False, rng=sim.NumpyRNG(1)))
    far = np.abs(_pairs(rewired)[:, 0] - _pairs(rewired)[:, 1]) > 2
    assert 0.3 < far.mean() < 0.6


@pytest.mark.parametrize("make", [
    lambda: sim.FixedProbabilityConnector(0.2),
    lambda: sim.FixedNumberPreConnector(4),
    lambda: sim.FixedNumberPostConnector(4),
    lambda: sim.FixedTotalNumberConnector(50),
])
def test_same_seed_same_connections(tmp_path, make):
    def build(seed):
        sim.setup(recording_path=tmp_path / f"{seed}.h5", seed=seed)
        pre, post = _pops()
        pairs = _pairs(sim.Projection(pre, post, make()))
        sim.end()
        return pairs

    a, b, c = build(1), build(1), build(2)
    np.testing.assert_array_equal(a, b)
    assert a.shape != c.shape or np.any(a != c)


def test_random_weights_reproducible(tmp_path):
    def build():
        sim.setup(recording_path=tmp_path / "w.h5", seed=3)
        pre, post = _pops()
        w = sim.RandomDistribution("uniform", (0.1, 0.2), rng=sim.NumpyRNG(9))
        prj = sim.Projection(pre, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=w, delay=1.0))
        values = np.array(prj.get("weight", format="list", with_address=False))
        sim.end()
        return values

    a, b = build(), build()
    np.testing.assert_array_equal(a, b)
    assert a.min() >= 0.1 and a.max() <= 0.2 and a.std() > 0.01


def test_set_weights_and_delays(session):
    pre, post = _pops(4, 3)
    prj = sim.Projection(pre, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1, delay=1.0))
    prj.set(weight=0.7, delay=2.0)
    assert np.all(prj.get("weight", format="array") == 0.7)
    assert np.all(prj.get("delay", format="array") == 2.0)
    matrix = np.arange(12, dtype=float).reshape(4, 3)
    prj.set(weight=matrix)
    np.testing.assert_array_equal(prj.get("weight", format="array"), matrix)
    assert prj.connections[5].weight == matrix[prj[5].presynaptic_index, prj[5].postsynaptic_index]


def test_assembly_and_view_projection(session):
    a = sim.Population(5, sim.IF_curr_exp(), label="a")
    b = sim.Population(5, sim.IF_curr_exp(), label="b")
    target = sim.Population(3, sim.IF_curr_exp(), label="t")
    prj = sim.Projection(a + b, target[0:2], sim.AllToAllConnector())
    assert len(prj) == 20
    assert prj.get("weight", format="array").shape == (10, 2)
    sim.run(1.0)


def test_tsodyks_markram_projection_runs(session):
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[10.0, 20.0, 30.0, 40.0]), label="s")
    cell = sim.Population(1, sim.IF_curr_exp(tau_syn_E=2.0), label="c")
    sim.Projection(src, cell, sim.OneToOneConnector(),
                   sim.TsodyksMarkramSynapse(weight=5.0, delay=1.0, U=0.5, tau_rec=200.0, tau_facil=0.0))
    cell.record("v")
    sim.run(60.0)
    v = cell.get_data().segments[0].filter(name="v")[0].magnitude[:, 0]
    peaks = [v[int(t / 0.1) + 10: int(t / 0.1) + 60].max() - v[int(t / 0.1) + 5] for t in (10.0, 20.0, 30.0)]
    assert peaks[0] > peaks[1] > peaks[2] > 0  # depression


# --- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("delay", [0.0, -1.0])
def test_non_positive_delay(session, delay):
    pre, post = _pops(3, 3)
    with pytest.raises(errors.DelayError, match="delay"):
        sim.Projection(pre, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1, delay=delay))


def test_delay_off_grid_refused_on_request(tmp_path):
    sim.setup(recording_path=tmp_path / "r.h5", delay_rounding="refuse")
    pre, post = _pops(3, 3)
    with pytest.raises(errors.DelayError, match="multiple of dt"):
        sim.Projection(pre, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1, delay=1.05))
    sim.end()


@pytest.mark.parametrize("rounding", [None, "nearest"])  # the default, and its explicit name
def test_delays_off_grid_rounded_like_nest(tmp_path, rounding):
    """NEST rounds delays to the nearest step, halves up (Time::delay_ms_to_steps); one warning
    per projection names it, and the manifest counts the rounded delays."""
    sim.setup(recording_path=tmp_path / "r.h5", **({} if rounding is None else {"delay_rounding": rounding}))
    pre, post = _pops(3, 2)
    delays = np.array([[1.04, 1.05], [0.96, 1.15], [0.1, 0.05]])  # (pre, post)
    with pytest.warns(errors.DelayRoundingWarning, match=r"Projection\('off-grid'\): 5 delay") as caught:
        prj = sim.Projection(pre, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1, delay=delays),
                             label="off-grid")
    assert len([w for w in caught if issubclass(w.category, errors.DelayRoundingWarning)]) == 1
    # what NEST 3.10 makes of these delays at resolution 0.1 ms (nest.Connect, then GetConnections)
    np.testing.assert_allclose(prj.get("delay", format="array"), [[1.0, 1.1], [1.0, 1.2], [0.1, 0.1]])
    assert prj.rounded_delays == 5
    sim.run(1.0)
    edge, = sim.state.network.store.manifest["model"]["edges"]
    assert edge["rule"]["rounded_delays"] == 5
    sim.end()


def test_delay_rounding_to_zero_steps_is_refused(session):
    pre, post = _pops(3, 3)
    with pytest.raises(errors.DelayError, match="0 steps"):
        sim.Projection(pre, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1, delay=0.04))  # NEST refuses it too


def test_bad_delay_rounding_option(tmp_path):
    with pytest.raises(errors.ParameterError, match="delay_rounding"):
        sim.setup(recording_path=tmp_path / "r.h5", delay_rounding="up")


def test_delay_below_min_delay(tmp_path):
    sim.setup(min_delay=1.0, recording_path=tmp_path / "m.h5")
    pre, post = _pops(3, 3)
    with pytest.raises(errors.DelayError, match="min_delay"):
        sim.Projection(pre, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1, delay=0.5))
    sim.end()


def test_nan_weight(session):
    pre, post = _pops(3, 3)
    with pytest.raises(errors.ParameterError, match="weight"):
        sim.Projection(pre, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=np.nan, delay=1.0),
                       receptor_type="excitatory")


def test_connecting_populations_of_different_simulators(session):
    import pyNN.mock as mock
    mock.setup()
    foreign = mock.Population(3, mock.IF_curr_exp())
    post = sim.Population(3, sim.IF_curr_exp(), label="post")
    with pytest.raises(errors.ProjectionError, match="simulator"):
        sim.Projection(foreign, post, sim.AllToAllConnector())


def test_projection_onto_spike_source(session):
    pre = sim.Population(3, sim.IF_curr_exp(), label="pre")
    src = sim.Population(3, sim.SpikeSourcePoisson(), label="src")
    with pytest.raises(Exception):
        sim.Projection(pre, src, sim.AllToAllConnector())


def test_view_to_assembly_reaches_the_right_cells(session):
    src = sim.Population(4, sim.SpikeSourceArray(spike_times=[5.0]), label="src")
    a = sim.Population(3, sim.IF_curr_exp(), label="a")
    b = sim.Population(3, sim.IF_curr_exp(), label="b")
    both = a + b
    sim.Projection(src[1:3], both[[1, 4]], sim.OneToOneConnector(), sim.StaticSynapse(weight=1.0, delay=1.0))
    a.record("v")
    b.record("v")
    sim.run(20.0)
    va = a.get_data().segments[0].filter(name="v")[0].magnitude
    vb = b.get_data().segments[0].filter(name="v")[0].magnitude
    moved = lambda v: np.abs(v - v[0]).max(axis=0) > 1e-6  # noqa: E731
    np.testing.assert_array_equal(moved(va), [False, True, False])
    np.testing.assert_array_equal(moved(vb), [False, True, False])
