"""Snapshots of the Lava engine (``state()`` / ``restore()``), the A/B identity of
``tests/backends/emulator/test_snapshots.py``: A runs to T1, ``s = A.state()``, runs on to T2;
a fresh B restores ``s`` (its process graph is rebuilt from the snapshot) and runs to T2: the
same spikes and samples, bit for bit. Covers Poisson, array and pushed external spikes, input
in flight over delays, refractory state and the three fields; a snapshot taken before the
first run; bad snapshots (another engine, another model, other numerics, a missing key)."""
from __future__ import annotations

import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.backends.emulator.fixed_engine import FixedEmulatorEngine, _ListSink
from neurohybrid.backends.lava import lava_available
from neurohybrid.errors import ParameterError

OK, WHY = lava_available()
pytestmark = pytest.mark.skipif(not OK, reason=f"Lava unavailable: {WHY}")

DT = 0.1


def _loihi_net():
    d = sim.Population(20, sim.SpikeSourcePoisson(rate=800.0), label="drive")
    arr = sim.Population(3, sim.SpikeSourceArray(spike_times=[[1.0, 12.0, 30.0], [15.5], [20.0, 40.0]]), label="arr")
    ext = sim.Population(4, sim.SpikeSourceExternal(), label="ext")
    e = sim.Population(20, sim.IF_curr_exp(tau_refrac=2.0), label="exc")
    i = sim.Population(5, sim.IF_curr_exp(), label="inh")
    sim.Projection(d, e, sim.OneToOneConnector(), sim.StaticSynapse(weight=1.5, delay=1.0))
    sim.Projection(arr, i, sim.AllToAllConnector(), sim.StaticSynapse(weight=3.0, delay=2.5))
    sim.Projection(ext, e, sim.AllToAllConnector(), sim.StaticSynapse(weight=2.0, delay=1.5))
    sim.Projection(e, i, sim.FixedProbabilityConnector(0.5, rng=sim.NumpyRNG(2)), sim.StaticSynapse(weight=0.8, delay=3.7))
    sim.Projection(i, e, sim.FixedProbabilityConnector(0.5, rng=sim.NumpyRNG(3)),
                   sim.StaticSynapse(weight=-1.0, delay=1.2), receptor_type="inhibitory")
    e.record(["spikes", "v"])
    i.record("spikes")
    d.record("spikes")


def _graph(seed=5):
    sim.setup(timestep=DT, seed=seed)
    try:
        _loihi_net()
        return sim.state.network.build_graph()
    finally:
        sim.end()


@pytest.fixture(scope="module")
def graph():
    return _graph()


def _lava(**kw):
    from neurohybrid.backends.lava.engine import LavaEngine
    return LavaEngine(target="sim", **kw)


def _outputs(sink, mark=None):
    spikes_from, samples_from = mark or ({}, {})
    spikes = {n: (np.concatenate([p[0] for p in parts[spikes_from.get(n, 0):]]),
                  np.concatenate([p[1] for p in parts[spikes_from.get(n, 0):]]))
              for n, parts in sink.spike_parts.items() if parts[spikes_from.get(n, 0):]}
    samples = {k: np.concatenate(parts[samples_from.get(k, 0):]) for k, parts in sink.sample_parts.items()
               if parts[samples_from.get(k, 0):]}
    return spikes, samples


def _mark(sink):
    return ({n: len(p) for n, p in sink.spike_parts.items()}, {k: len(p) for k, p in sink.sample_parts.items()})


def _assert_same(a, b, need=()):
    assert a[0].keys() == b[0].keys() and a[1].keys() == b[1].keys()
    for node in a[0]:
        np.testing.assert_array_equal(a[0][node][0], b[0][node][0], err_msg=node)
        np.testing.assert_array_equal(a[0][node][1], b[0][node][1], err_msg=node)
    for key in a[1]:
        np.testing.assert_array_equal(a[1][key], b[1][key], err_msg=str(key))
    for node in need:
        assert node in a[0] and a[0][node][0].size, node


def test_lava_snapshot_with_sources_delays_and_fields(graph):
    A, sa = _lava(), _ListSink()
    A.build(graph, sa)
    A.source_generator("ext").push([50, 60, 136, 137, 400, 420], [0, 1, 2, 3, 2, 3])
    try:
        A.advance(60)
        A.set_modulation("exc", "threshold", 1.5)
        A.set_modulation("inh", "gain", np.linspace(0.8, 1.6, 5))
        A.advance(100)
        A.set_modulation("exc", "current", 0.2)
        A.advance(137)
        s = A.state()
        mark = _mark(sa)
        A.advance(500)
        a = _outputs(sa, mark)
        assert s["live_threshold/exc"] == 1 and np.all(s["fields/exc/threshold"] == 1.5)
        assert s["inputs/ext/source/ticks"].size and np.any(s["neurons/exc/refractory_period_end"] > 0)
        assert any(np.any(v) for k, v in s.items() if k.startswith("connections/"))  # input on its way
        # the fixed-point emulator ran the same: A's snapshot has its chip state in Lava's layout
        F, sf = FixedEmulatorEngine(), _ListSink()
        F.build(graph, sf)
        F.source_generator("ext").push([50, 60, 136, 137, 400, 420], [0, 1, 2, 3, 2, 3])
        F.advance(60)
        F.set_modulation("exc", "threshold", 1.5)
        F.set_modulation("inh", "gain", np.linspace(0.8, 1.6, 5))
        F.advance(100)
        F.set_modulation("exc", "current", 0.2)
        F.advance(137)
        np.testing.assert_array_equal(s["neurons/exc/v"], F.state()["net/v"][:20])
    finally:
        A.close()
    B, sb = _lava(), _ListSink()
    B.build(graph, sb)
    try:
        B.restore(s)
        assert B.tick == 137 and "exc" in B.live_threshold
        B.advance(500)
        _assert_same(a, _outputs(sb), need=("exc", "inh", "drive"))
        assert B.modulation_report() == A.modulation_report()
    finally:
        B.close()


def test_lava_snapshot_before_the_first_run_rewinds_a_running_engine(graph):
    A, sa = _lava(), _ListSink()
    A.build(graph, sa)
    try:
        s0 = A.state()  # tick 0, nothing compiled: the circuit's initial state
        assert s0["tick"] == 0 and not any(np.any(v) for k, v in s0.items() if k.startswith("connections/"))
        A.advance(150)
        first = _outputs(sa)
        A.restore(s0)
        assert A.tick == 0
        mark = _mark(sa)
        A.advance(150)
        _assert_same(first, _outputs(sa, mark), need=("exc",))
    finally:
        A.close()


@pytest.mark.parametrize("kind", ["other engine", "other model", "other numerics", "missing key", "wrong shape"])
def test_lava_bad_snapshot_is_a_typed_error_and_changes_nothing(graph, kind):
    A = _lava()
    A.build(graph, _ListSink())
    try:
        s = A.state()
        if kind == "other engine":
            F = FixedEmulatorEngine()
            F.build(graph, _ListSink())
            bad = F.state()
        elif kind == "other model":
            O = _lava()
            O.build(_graph(seed=6), _ListSink())
            bad = O.state()
            O.close()
        elif kind == "other numerics":
            O = _lava(numerics="float")
            O.build(graph, _ListSink())
            bad = O.state()
            O.close()
        else:
            bad = dict(s)
            key = "neurons/exc/u"
            if kind == "missing key":
                del bad[key]
            else:
                bad[key] = bad[key][:-1]
        lava_before = A.lava
        with pytest.raises(ParameterError) as info:
            A.restore(bad)
        assert info.value.parameter == "state" and "LavaEngine" in str(info.value)
        assert A.lava is lava_before and A.tick == 0
        after = A.state()
        assert after.keys() == s.keys()
        for k in s:
            assert np.array_equal(s[k], after[k]) if isinstance(s[k], np.ndarray) else s[k] == after[k]
    finally:
        A.close()
