"""Stochastic synapses on the float emulator (``backends/emulator/stochastic.py``):
SimpleStochasticSynapse (NEST bernoulli_synapse), StochasticTsodyksMarkramSynapse (PyNN's NEST
extension stochastic_stp_synapse), MultiQuantalSynapse (NEST quantal_stp_synapse).

Statistics are compared with NEST 3.10 (numbers generated once by ``make_stochastic_references.py``,
same protocol) and with the exact expectation of each model: the mean release per spike obeys a
linear recursion (u is deterministic, each site's recovery and release are independent
Bernoulli draws), so it is known exactly for any spike train. Each synapse drives its own
counting cell (IF_curr_delta, tau_m = 1e9 ms, threshold out of reach, weight 1 mV): the jump of
v at a spike's arrival is the number of quanta released. Tolerances are 5 standard errors.
Then: keyed draws make the spikes independent of threads and of splitting the model over two
emulator instances; snapshots continue bit for bit; bad parameters are typed errors.
"""
from __future__ import annotations

import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid import errors
from neurohybrid.backends.emulator.engine import EmulatorEngine
from neurohybrid.backends.emulator.fixed_engine import _ListSink

from make_stochastic_references import N_TARGETS, SPIKE_TIMES

# make_stochastic_references.py, NEST 3.10.0, resolution 0.1 ms, 4000 synapses per case
NEST_REFERENCES = {
    'bernoulli p=0.3': [0.312, 0.29325, 0.29775, 0.28675, 0.32375, 0.28975, 0.30925, 0.29325, 0.301, 0.294, 0.30775,
                        0.30425, 0.3055, 0.30925, 0.298, 0.3045, 0.3045, 0.29325, 0.30925],
    "quantal depressing n=5 (NEST's initial state)": [0.506, 0.739, 0.536, 0.477, 0.4785, 0.47, 0.4685, 0.47975,
                                                      0.45575, 3.22775, 0.95175, 0.5465, 0.476, 0.45575, 0.4645, 0.4725,
                                                      0.4915, 0.46275, 0.46775],
    'quantal depressing n=5, a=5 u=0.8': [3.979, 1.12, 0.59725, 0.48325, 0.48125, 0.47375, 0.47325, 0.46, 0.4555,
                                          3.227, 0.93175, 0.556, 0.47725, 0.4635, 0.466, 0.497, 0.46325, 0.4585, 0.4725],
    'quantal facilitating n=5, a=5 u=0.04': [0.204, 0.38025, 0.52175, 0.58775, 0.6655, 0.693, 0.72575, 0.7045,
                                             0.69125, 0.72525, 0.76675, 0.759, 0.7455, 0.76025, 0.715, 0.751, 0.733,
                                             0.70675, 0.721],
}

COUNTER = dict(tau_m=1e9, v_thresh=1e9, v_rest=0.0, v_reset=0.0, cm=1.0, tau_refrac=0.1)
DT = 0.1


def _releases(synapse, initialize=None, n=N_TARGETS, seed=3, threads=None):
    """[spikes, n] quanta released per presynaptic spike of SPIKE_TIMES on each of n synapses."""
    sim.setup(timestep=DT, seed=seed, **({} if threads is None else {"threads": threads}))
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=list(SPIKE_TIMES)), label="src")
    counters = sim.Population(n, sim.IF_curr_delta(**COUNTER), label="counters")
    prj = sim.Projection(src, counters, sim.AllToAllConnector(), synapse, label="stochastic")
    if initialize:
        prj.initialize(**initialize)
    counters.record("v")
    sim.run(SPIKE_TIMES[-1] + 5.0)
    v = counters.get_data().segments[0].filter(name="v")[0].magnitude
    sim.end()
    at = lambda t: v[int(round(t / DT))]  # noqa: E731
    return np.array([at(t + 2.0) - at(t) for t in SPIKE_TIMES])


def _quantal_expectation(U, tau_rec, tau_facil, n, a0, u0):
    """Exact mean release per spike of quantal_stp_synapse for SPIKE_TIMES."""
    out, a, u, t_last = [], float(a0), u0, None
    for t in SPIKE_TIMES:
        if t_last is not None:
            h = t - t_last
            u = U + u * (1 - U) * (np.exp(-h / tau_facil) if tau_facil > 0 else 0.0)
            a = a + (n - a) * (1 - np.exp(-h / tau_rec))
        out.append(u * a)
        a -= u * a
        t_last = t
    return np.array(out)


def _stochastic_tm_expectation(U, tau_rec, tau_facil):
    """Exact mean release per spike of stochastic_stp_synapse for SPIKE_TIMES (recovered at start,
    u = 0; an unrecovered site's survival clock restarts at every spike, so it recovers between
    consecutive spikes with probability 1 - e^{-Δt/tau_rec})."""
    out, r, u, t_last = [], 1.0, 0.0, 0.0
    for t in SPIKE_TIMES:
        u = (U + u * np.exp(-(t - t_last) / tau_facil) * (1 - U)) if tau_facil > 0 else U
        s = r + (1 - r) * (1 - np.exp(-(t - t_last) / tau_rec))
        out.append(u * s)
        r = s * (1 - u)
        t_last = t
    return np.array(out)


def _within(measured: np.ndarray, expected, other_sample=False):
    """Each spike's mean release within 5 standard errors (of a difference of two samples if
    ``other_sample``: NEST's, of the same size)."""
    mean, se = measured.mean(axis=1), measured.std(axis=1) / np.sqrt(measured.shape[1])
    se = np.maximum(se, 1.0 / measured.shape[1]) * (np.sqrt(2) if other_sample else 1.0)
    np.testing.assert_array_less(np.abs(mean - np.asarray(expected)), 5 * se)


def test_bernoulli_transmits_with_probability_p():
    r = _releases(sim.SimpleStochasticSynapse(weight=1.0, delay=1.0, p=0.3))
    assert set(np.unique(np.round(r, 6))) <= {0.0, 1.0}
    _within(r, NEST_REFERENCES["bernoulli p=0.3"], other_sample=True)
    _within(r, [0.3] * len(SPIKE_TIMES))
    assert abs(r.mean() - 0.3) < 5 * np.sqrt(0.21 / r.size)


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_bernoulli_certain_outcomes(p):
    r = _releases(sim.SimpleStochasticSynapse(weight=1.0, delay=1.0, p=p), n=50)
    np.testing.assert_allclose(r, p, atol=1e-6)


@pytest.mark.parametrize("case, params, initialize", [
    ("quantal depressing n=5 (NEST's initial state)", dict(U=0.8, tau_rec=100.0, tau_facil=0.0, n=5), None),
    ("quantal depressing n=5, a=5 u=0.8", dict(U=0.8, tau_rec=100.0, tau_facil=0.0, n=5), dict(a=5, u=0.8)),
    ("quantal facilitating n=5, a=5 u=0.04", dict(U=0.04, tau_rec=50.0, tau_facil=200.0, n=5), dict(a=5, u=0.04)),
])
def test_multi_quantal_mean_release_as_nest_and_exact(case, params, initialize):
    r = _releases(sim.MultiQuantalSynapse(weight=1.0, delay=1.0, **params), initialize=initialize)
    np.testing.assert_allclose(r, np.round(r), atol=1e-6)  # whole quanta
    assert r.min() >= 0 and r.max() <= params["n"] + 1e-6
    _within(r, NEST_REFERENCES[case], other_sample=True)
    a0, u0 = (initialize["a"], initialize["u"]) if initialize else (1, 0.5)  # NEST's constructor defaults
    _within(r, _quantal_expectation(params["U"], params["tau_rec"], params["tau_facil"], params["n"], a0, u0))


@pytest.mark.parametrize("params", [dict(U=0.5, tau_rec=50.0, tau_facil=0.0),
                                    dict(U=0.1, tau_rec=30.0, tau_facil=100.0)])
def test_stochastic_tsodyks_markram_mean_release_exact(params):
    r = _releases(sim.StochasticTsodyksMarkramSynapse(weight=1.0, delay=1.0, **params))
    assert set(np.unique(np.round(r, 6))) <= {0.0, 1.0}
    _within(r, _stochastic_tm_expectation(**params))


def test_stochastic_tsodyks_markram_initial_u():
    r = _releases(sim.StochasticTsodyksMarkramSynapse(weight=1.0, delay=1.0, U=0.2, tau_rec=1e-3, tau_facil=1e6),
                  initialize=dict(u=0.6), n=2000)
    # first spike: u = 0.6 e^{-10/1e6} (1 - 0.2) + 0.2 ~ 0.68 (tau_rec ~ 0: always recovered)
    assert abs(r[0].mean() - (0.2 + 0.8 * 0.6)) < 5 * np.sqrt(0.25 / 2000)


def _network(engine_b=None):
    """Poisson -> A (stochastic synapses of all three kinds) -> B (quantal, maybe on a second engine)."""
    src = sim.Population(40, sim.SpikeSourcePoisson(rate=80.0), label="src")
    a = sim.Population(30, sim.IF_curr_exp(tau_refrac=2.0), label="A")
    b = sim.Population(20, sim.IF_curr_exp(tau_refrac=2.0), label="B", **({"engine": engine_b} if engine_b else {}))
    sim.Projection(src, a, sim.FixedProbabilityConnector(0.5), sim.SimpleStochasticSynapse(weight=2.0, p=0.5, delay=1.0))
    sim.Projection(src, a, sim.FixedProbabilityConnector(0.3),
                   sim.StochasticTsodyksMarkramSynapse(weight=1.5, U=0.4, tau_rec=60.0, delay=0.5))
    sim.Projection(a, b, sim.FixedProbabilityConnector(0.4),
                   sim.MultiQuantalSynapse(weight=1.2, U=0.5, n=3, tau_rec=80.0, tau_facil=20.0, delay=2.0))
    a.record("spikes")
    b.record("spikes")
    return a, b


def _spikes(tmp_path, name, engine_b=None, threads=None):
    sim.setup(timestep=DT, seed=21, recording_path=tmp_path / f"{name}.h5", **({"threads": threads} if threads else {}))
    a, b = _network(engine_b)
    sim.run(300.0)
    out = [[np.asarray(st) for st in p.get_data().segments[0].spiketrains] for p in (a, b)]
    sim.end()
    return out


def test_same_spikes_split_over_two_engines_and_any_thread_count(tmp_path):
    whole = _spikes(tmp_path, "whole")
    assert sum(st.size for st in whole[1]) > 20  # B is driven through the quantal synapses
    for other in (_spikes(tmp_path, "split", engine_b="emulator:b"), _spikes(tmp_path, "one", threads=1)):
        for pop_whole, pop_other in zip(whole, other):
            for x, y in zip(pop_whole, pop_other):
                np.testing.assert_array_equal(x, y)


def test_snapshot_continues_bit_for_bit():
    sim.setup(timestep=DT, seed=8)
    _network()
    graph = sim.state.network.build_graph()
    sim.end()
    A, sa = EmulatorEngine(), _ListSink()
    A.build(graph, sa)
    A.advance(1000)
    state = A.state()
    assert any(k.endswith("/seen") for k in state) and any(k.endswith("/available") for k in state)
    n_before = {k: len(v) for k, v in sa.spike_parts.items()}
    A.advance(3000)
    B, sb = EmulatorEngine(), _ListSink()
    B.build(graph, sb)
    B.restore(state)
    B.advance(3000)
    for node in ("A", "B"):
        after_a = np.concatenate([p[0] for p in sa.spike_parts[node][n_before.get(node, 0):]])
        after_b = np.concatenate([p[0] for p in sb.spike_parts[node]])
        assert after_a.size > 0
        np.testing.assert_array_equal(after_a, after_b)


@pytest.mark.parametrize("synapse, name", [
    (lambda: sim.SimpleStochasticSynapse(weight=1.0, delay=1.0, p=1.5), "p"),
    (lambda: sim.StochasticTsodyksMarkramSynapse(weight=1.0, delay=1.0, U=-0.1), "U"),
    (lambda: sim.StochasticTsodyksMarkramSynapse(weight=1.0, delay=1.0, tau_rec=0.0), "tau_rec"),
    (lambda: sim.MultiQuantalSynapse(weight=1.0, delay=1.0, n=0), "n"),
    (lambda: sim.MultiQuantalSynapse(weight=1.0, delay=1.0, tau_facil=-1.0), "tau_facil"),
])
def test_bad_parameters_are_typed_errors_naming_them(tmp_path, synapse, name):
    sim.setup(timestep=DT, recording_path=tmp_path / "bad.h5")
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[5.0]), label="src")
    cells = sim.Population(2, sim.IF_curr_exp(), label="cells")
    with pytest.raises(errors.ParameterError, match=rf"\.{name}"):
        sim.Projection(src, cells, sim.AllToAllConnector(), synapse(), label="bad")
    sim.end()


def test_bad_initial_state_is_a_typed_error(tmp_path):
    sim.setup(timestep=DT, recording_path=tmp_path / "bad.h5")
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[5.0]), label="src")
    cells = sim.Population(2, sim.IF_curr_exp(), label="cells")
    prj = sim.Projection(src, cells, sim.AllToAllConnector(), sim.MultiQuantalSynapse(weight=1.0, delay=1.0, n=3))
    with pytest.raises(errors.ParameterError, match=r"\.u"):
        prj.initialize(u=1.5)
    with pytest.raises(errors.ParameterError, match=r"\.x"):
        prj.initialize(x=1.0)
    bernoulli = sim.Projection(src, cells, sim.AllToAllConnector(), sim.SimpleStochasticSynapse(weight=1.0, delay=1.0))
    with pytest.raises(errors.ParameterError, match=r"\.u.*none"):
        bernoulli.initialize(u=0.5)
    sim.end()
