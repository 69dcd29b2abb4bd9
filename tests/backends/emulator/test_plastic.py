"""STDP in the float emulator (``backends/emulator/plastic.py``), against an independent oracle.

The oracle is a direct, synapse-by-synapse transcription of NEST 3.10's ``stdp_synapse`` /
``vogels_sprekeler_synapse`` ``send()`` and ``ArchivingNode`` (``get_history``: stamps in
(t1, t2]; ``get_K_value``: the newest stamp strictly before t), extended as the module
docstring says for ``w_min`` and a dendritic delay fraction. It replays the presynaptic spikes
(known) against the postsynaptic spikes the engine recorded. (NEST itself is the reference of
``tests/pynn/test_stdp_vs_nest.py``.) Then: partition and thread invariance, snapshots,
history pruning, and bad input.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.backends.emulator.engine import EmulatorEngine
from neurohybrid.backends.emulator.fixed_engine import _ListSink
from neurohybrid.errors import ParameterError

DT = 0.1


def _oracle(pre_stamps, post_stamps, w0, d, D, p, rule="pair", all_axonal=False):
    """Final weight of one synapse: NEST's send() replayed (module docstring). Stamps in ticks,
    ``d``/``D`` total delay / pairing shift in ticks, ``p`` the rule's parameters (ms, PyNN)."""
    tau_plus = p["tau_plus"] if rule == "pair" else p["tau"]
    tau_minus = p["tau_minus"] if rule == "pair" else p["tau"]
    lo, hi = p["w_min"], p["w_max"]
    history, k, last = [], 0.0, 0
    for q in post_stamps:  # ArchivingNode::set_spiketime
        k = k * math.exp((last - q) * DT / tau_minus) + 1.0
        history.append((q, k))
        last = q

    def facilitate(w, kv):
        if rule == "pair":
            x = (w - lo) / (hi - lo)
            n = x + p["A_plus"] * (1 - x) ** p["mu_plus"] * kv
            return n * (hi - lo) + lo if n < 1 else hi
        return min(w + p["eta"] * kv, hi)

    def depress(w, kv):
        if rule == "pair":
            x = (w - lo) / (hi - lo)
            n = x - p["A_minus"] * x ** p["mu_minus"] * kv
            return n * (hi - lo) + lo if n > 0 else lo
        return max(w - 2 * p["rho"] * p["tau"] / 1000 * p["eta"], lo)

    w, kplus, tlast = w0, 0.0, 0
    for t in pre_stamps:
        upper = t - D if not all_axonal else min(t - D, t - 1 + d)  # all-axonal: known before arrival
        for q, _ in history:
            if tlast - D < q <= upper:
                w = facilitate(w, kplus * math.exp((tlast - (q + D)) * DT / tau_plus))
        before = [(q, kq) for q, kq in history if q < t - D and q <= upper]
        km = before[-1][1] * math.exp((before[-1][0] - (t - D)) * DT / tau_minus) if before else 0.0
        w = depress(w, km) if rule == "pair" else depress(facilitate(w, km), 0.0)
        kplus = kplus * math.exp((tlast - t) * DT / tau_plus) + 1.0
        tlast = t
    return w


def _trains(n, rate, t_stop, seed):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        t = np.round(rng.uniform(1.0, t_stop - 1.0, rng.poisson(rate * t_stop / 1000.0)), 1)
        out.append(np.unique(t))
    return out


def _plastic_net(rule_params, fraction=1.0, rule="pair", n_pre=12, n_post=4, seed=1, weights=None,
                 delays=None, t_stop=800.0, threads=None, engine=None, split=False):
    """Spike arrays onto driven LIF cells through one plastic projection; returns the run's
    (pre trains, post spike stamps per cell, final weights rows (i, j, w), projection arrays)."""
    sim.setup(timestep=DT, seed=seed, threads=threads)
    trains = _trains(n_pre, 25.0, t_stop, seed)
    pre = sim.Population(n_pre, sim.SpikeSourceArray(spike_times=trains), label="pre")
    post = sim.Population(n_post, sim.IF_curr_exp(tau_m=12.0, v_thresh=-54.0, tau_refrac=2.0, i_offset=0.55),
                          label="post", **({"engine": engine} if engine else {}))
    if rule == "pair":
        mech = sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(**{k: rule_params[k] for k in ("tau_plus", "tau_minus", "A_plus",
                                                                            "A_minus")}),
            weight_dependence=sim.GutigWeightDependence(w_min=rule_params["w_min"], w_max=rule_params["w_max"],
                                                        mu_plus=rule_params["mu_plus"],
                                                        mu_minus=rule_params["mu_minus"]),
            weight=0.5 * (rule_params["w_min"] + rule_params["w_max"]), delay=1.0, dendritic_delay_fraction=fraction)
    else:
        mech = sim.STDPMechanism(
            timing_dependence=sim.Vogels2011Rule(tau=rule_params["tau"], eta=rule_params["eta"], rho=rule_params["rho"]),
            weight_dependence=sim.AdditiveWeightDependence(w_min=rule_params["w_min"], w_max=rule_params["w_max"]),
            weight=0.5 * (rule_params["w_min"] + rule_params["w_max"]), delay=1.0, dendritic_delay_fraction=fraction)
    if split:  # the presynaptic side on its own engine: the plastic projection crosses engines
        relay = sim.Population(n_pre, sim.IF_curr_exp(tau_refrac=0.1), label="relay", engine="emulator:b")
        sim.Projection(pre, relay, sim.OneToOneConnector(), sim.StaticSynapse(weight=20.0, delay=0.1))
        source = relay
    else:
        source = pre
    prj = sim.Projection(source, post, sim.AllToAllConnector(), mech)
    if weights is not None:
        prj.set(weight=weights)
    if delays is not None:
        prj.set(delay=delays)
    post.record("spikes")
    source.record("spikes")
    sim.run(t_stop)
    stamps = _stamps(post, n_post)
    pre_stamps = _stamps(source, n_pre)
    rows = prj.get("weight", format="list", with_address=True)
    arrays = prj.arrays()
    sim.end()
    return pre_stamps, stamps, rows, arrays


def _stamps(pop, n):
    trains = pop.get_data().segments[0].spiketrains
    return [np.rint(np.asarray(st.magnitude) / DT).astype(int) for st in trains[:n]]


PAIR = dict(tau_plus=17.0, tau_minus=23.0, A_plus=0.05, A_minus=0.06, w_min=0.1, w_max=1.3, mu_plus=0.4,
            mu_minus=0.9)
VOGELS = dict(tau=15.0, eta=0.05, rho=8.0, w_min=0.2, w_max=1.5)


@pytest.mark.parametrize("fraction", [1.0, 0.5, 0.8])
@pytest.mark.parametrize("rule", ["pair", "vogels"])
def test_weights_equal_the_oracle(rule, fraction):
    """Random spike trains, heterogeneous weights and delays: every final weight is the
    oracle's (dendritic delay fractions below 1 included)."""
    params = PAIR if rule == "pair" else VOGELS
    rng = np.random.default_rng(11)
    weights = rng.uniform(params["w_min"], params["w_max"], (12, 4))
    delays = np.round(rng.uniform(1.0, 4.0, (12, 4)), 1)
    pre, post, rows, _ = _plastic_net(params, fraction, rule, weights=weights, delays=delays)
    assert sum(len(s) for s in post) > 20
    changed = 0
    for i, j, w in rows:
        d = int(round(delays[int(i), int(j)] / DT))
        dd = int(round(fraction * d))
        expected = _oracle(pre[int(i)], post[int(j)], weights[int(i), int(j)], d, 2 * dd - d, params, rule)
        assert w == pytest.approx(expected, rel=1e-12, abs=1e-15), (i, j)
        changed += abs(w - weights[int(i), int(j)]) > 1e-6
    assert changed > 0.8 * len(rows)


def test_all_axonal_delays():
    """dendritic_delay_fraction = 0 (pyNN.brian2's choice): one-tick windows; a postsynaptic
    spike in the tick the presynaptic spike arrives in counts as after it."""
    rng = np.random.default_rng(4)
    weights = rng.uniform(PAIR["w_min"], PAIR["w_max"], (12, 4))
    pre, post, rows, _ = _plastic_net(PAIR, 0.0, weights=weights, t_stop=300.0)
    for i, j, w in rows:
        d = int(round(1.0 / DT))
        expected = _oracle(pre[int(i)], post[int(j)], weights[int(i), int(j)], d, -d, PAIR, all_axonal=True)
        assert w == pytest.approx(expected, rel=1e-12), (i, j)


def test_same_weights_on_any_partitioning_and_thread_count():
    """The plastic projection crossing from another engine instance, and 1 vs 2 threads: the
    same spikes and weights, bit for bit."""
    base = _plastic_net(PAIR, split=False, threads=1)
    two_threads = _plastic_net(PAIR, split=False, threads=2)
    assert [w for *_, w in base[2]] == [w for *_, w in two_threads[2]]
    relay_alone = _plastic_net(PAIR, split=True, engine=None)
    relay_split = _plastic_net(PAIR, split=True, engine="emulator:a")
    for a, b in zip(relay_alone[1], relay_split[1]):
        np.testing.assert_array_equal(a, b)
    assert [w for *_, w in relay_alone[2]] == [w for *_, w in relay_split[2]]


def _graph(build, seed=3):
    sim.setup(timestep=DT, seed=seed)
    try:
        build()
        return sim.state.network.build_graph()
    finally:
        sim.end()


def _recurrent_plastic():
    drive = sim.Population(30, sim.SpikeSourcePoisson(rate=40.0), label="drive")
    cells = sim.Population(30, sim.IF_curr_exp(tau_refrac=2.0), label="cells")
    sim.Projection(drive, cells, sim.OneToOneConnector(), sim.StaticSynapse(weight=1.2, delay=1.0))
    sim.Projection(cells, cells, sim.FixedProbabilityConnector(0.3, rng=sim.NumpyRNG(seed=2)),
                   sim.STDPMechanism(timing_dependence=sim.SpikePairRule(A_plus=0.02, A_minus=0.021),
                                     weight_dependence=sim.MultiplicativeWeightDependence(w_min=0.0, w_max=0.5),
                                     weight=0.25, delay=1.5), label="rec")
    sim.Projection(drive, cells, sim.FixedProbabilityConnector(0.2, rng=sim.NumpyRNG(seed=3)),
                   sim.STDPMechanism(timing_dependence=sim.Vogels2011Rule(eta=0.01),
                                     weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=0.6),
                                     weight=0.3, delay=0.8, dendritic_delay_fraction=0.5), label="ff")
    cells.record("spikes")


def test_snapshot_continues_bit_for_bit():
    graph = _graph(_recurrent_plastic)
    a, sa = EmulatorEngine(), _ListSink()
    a.build(graph, sa)
    a.advance(1500)
    snap = a.state()
    assert any(k.startswith("plastic/0/history/") for k in snap)
    a.advance(4000)
    b, sb = EmulatorEngine(), _ListSink()
    b.build(graph, sb)
    b.restore(snap)
    b.advance(4000)
    for edge in a.plastic:
        np.testing.assert_array_equal(a.synapse_values(edge), b.synapse_values(edge))
    ta, _ = sa.spike_arrays("cells")
    tb, _ = sb.spike_arrays("cells")
    np.testing.assert_array_equal(ta[ta >= 1500], tb)
    w = a.synapse_values("rec[cells->cells]")
    assert 0.0 <= w.min() and w.max() <= 0.5 and np.ptp(w) > 0.01


def test_history_grows_and_prunes():
    """A postsynaptic cell firing far more often than its presynaptic partners: its history
    outgrows the initial buffer, the old part is dropped, weights still equal the oracle."""
    sim.setup(timestep=DT)
    pre = sim.Population(2, sim.SpikeSourceArray(spike_times=[[5.0, 400.0, 900.0], [700.0]]), label="pre")
    post = sim.Population(1, sim.IF_curr_exp(i_offset=3.0, tau_refrac=1.0), label="post")
    prj = sim.Projection(pre, post, sim.AllToAllConnector(),
                         sim.STDPMechanism(timing_dependence=sim.SpikePairRule(),
                                           weight_dependence=sim.AdditiveWeightDependence(w_max=1.0),
                                           weight=0.5, delay=1.0))
    post.record("spikes")
    sim.run(1000.0)
    table = next(iter(sim.state.network.engine.plastic.values()))
    assert table.history.capacity > 16
    post_stamps = _stamps(post, 1)[0]
    assert post_stamps.size > 100
    weights = prj.get("weight", format="array")[:, 0]
    sim.end()
    for i, times in enumerate([[5.0, 400.0, 900.0], [700.0]]):
        stamps = np.rint(np.asarray(times) / DT).astype(int)
        p = dict(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.01, w_min=0.0, w_max=1.0, mu_plus=0.0,
                 mu_minus=0.0)
        assert weights[i] == pytest.approx(_oracle(stamps, post_stamps, 0.5, 10, 10, p), rel=1e-12)


@pytest.mark.parametrize("wd, params, problem", [
    ("AdditiveWeightDependence", dict(w_min=1.0, w_max=0.5), "bounds inverted"),
    ("AdditiveWeightDependence", dict(w_min=0.0, w_max=0.1), "outside"),
])
def test_bad_bounds_are_typed_errors(wd, params, problem):
    sim.setup(timestep=DT)
    a = sim.Population(2, sim.SpikeSourcePoisson(rate=5.0))
    b = sim.Population(2, sim.IF_curr_exp())
    mech = sim.STDPMechanism(timing_dependence=sim.SpikePairRule(),
                             weight_dependence=getattr(sim, wd)(**params), weight=0.3, delay=1.0)
    with pytest.raises(ParameterError, match=problem):
        sim.Projection(a, b, sim.AllToAllConnector(), mech)
    sim.end()


@pytest.mark.parametrize("timing, parameter", [
    (dict(tau_plus=-5.0), "tau_plus"), (dict(tau_minus=0.0), "tau_minus"), (dict(A_plus=-0.1), "A_plus"),
    (dict(A_minus=-0.01), "A_minus"),
])
def test_bad_timing_parameters_are_typed_errors(timing, parameter):
    sim.setup(timestep=DT)
    a = sim.Population(2, sim.SpikeSourcePoisson(rate=5.0))
    b = sim.Population(2, sim.IF_curr_exp())
    mech = sim.STDPMechanism(timing_dependence=sim.SpikePairRule(**timing),
                             weight_dependence=sim.AdditiveWeightDependence(w_max=1.0), weight=0.3, delay=1.0)
    with pytest.raises(ParameterError) as info:
        sim.Projection(a, b, sim.AllToAllConnector(), mech, label="learning")
    assert info.value.parameter == parameter and "learning" in str(info.value)
    sim.end()


def test_bad_dendritic_fraction_is_a_typed_error():
    with pytest.raises(ParameterError, match="dendritic_delay_fraction"):
        sim.STDPMechanism(timing_dependence=sim.SpikePairRule(), weight_dependence=sim.AdditiveWeightDependence(),
                          dendritic_delay_fraction=1.5)


def test_plasticity_rate_field():
    """The ``plasticity_rate`` field target: 0 freezes the weights, 1 is no field at all, and
    a population without plastic input refuses it (typed error naming it)."""
    graph = _graph(_recurrent_plastic)

    def final(rate):
        engine = EmulatorEngine()
        engine.build(graph, _ListSink())
        if rate is not None:
            engine.set_modulation("cells", "plasticity_rate", rate)
        engine.advance(2000)
        return engine.synapse_values("rec[cells->cells]")

    initial = final(0.0)
    np.testing.assert_array_equal(initial, 0.25)
    np.testing.assert_array_equal(final(1.0), final(None))
    assert not np.array_equal(final(0.5), final(None))
    engine = EmulatorEngine()
    engine.build(_graph(lambda: sim.Population(3, sim.IF_curr_exp(), label="lonely")), _ListSink())
    with pytest.raises(Exception, match="lonely.*no plastic projection"):
        engine.set_modulation("lonely", "plasticity_rate", 0.5)
