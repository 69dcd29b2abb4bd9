"""NeuronEngine: exact against NEURON alone, event timing, chunking, reset, typed errors."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("neuron")
from neuron import h  # noqa: E402

from neurohybrid.backends.neuron import NeuronCellBuilder, NeuronEngine  # noqa: E402
from neurohybrid.errors import ParameterError, PastTimeError  # noqa: E402
from neurohybrid.graph import (CurrentInjection, ModelGraph, PopulationNode, ProjectionEdge,  # noqa: E402
                               RecordingSpec)

DT = 0.1


class PassiveCell:
    """One compartment, pas: tau = cm / g = 1 uF/cm2 / 1e-4 S/cm2 = 10 ms."""

    def __init__(self):
        self.soma = h.Section(name="soma", cell=self)
        self.soma.L = self.soma.diam = 10.0
        self.soma.cm = 1.0
        self.soma.insert("pas")
        self.soma.g_pas, self.soma.e_pas = 1e-4, -70.0
        self.syn = h.ExpSyn(self.soma(0.5))
        self.syn.tau = 3.0


class BallStick:
    """HH soma + passive dendrite, three ExpSyn on the dendrite."""

    def __init__(self, gna=0.12):
        self.soma = h.Section(name="soma", cell=self)
        self.soma.L = self.soma.diam = 20.0
        self.soma.insert("hh")
        for seg in self.soma:
            seg.hh.gnabar = gna
        self.dend = h.Section(name="dend", cell=self)
        self.dend.L, self.dend.diam, self.dend.nseg = 200.0, 2.0, 5
        self.dend.insert("pas")
        self.dend.connect(self.soma(1))
        self.syns = [h.ExpSyn(self.dend(x)) for x in (0.1, 0.5, 0.9)]
        for s in self.syns:
            s.tau = 2.0


class Sink:
    def __init__(self):
        self.spk, self.smp = [], {}

    def spikes(self, node, stamp, ids):
        self.spk.append((node, np.array(stamp), np.array(ids)))

    def samples(self, node, variable, values):
        self.smp.setdefault((node, variable), []).append(np.array(values))

    def flush(self):
        pass

    def spikes_of(self, node):
        parts = [(s, i) for n, s, i in self.spk if n == node]
        if not parts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def trace(self, node, variable):
        return np.concatenate(self.smp[(node, variable)])


def ball_graph(n_cells=3, n_src=6, gna=0.12, seed=5, delay=1.5):
    b = NeuronCellBuilder(BallStick, parameters={"gna": np.linspace(0.12, 0.14, n_cells)},
                          receptors={"AMPA": "syns"}, locations={"soma": "soma", "dendrite": "dend(0.5)"})
    g = ModelGraph(dt=DT, seed=seed)
    g.nodes["pyr"] = PopulationNode("pyr", "BallStick", n_cells, {}, {"v": np.full(n_cells, -65.0)},
                                    kind="biophysical", cell=b)
    g.nodes["mirror"] = PopulationNode("mirror", "SpikeSourceExternal", n_src, {}, kind="source")
    pre = np.repeat(np.arange(n_src), n_cells)
    post = np.tile(np.arange(n_cells), n_src)
    m = pre.size
    g.edges.append(ProjectionEdge("mirror_to_pyr", "mirror", "pyr", "AMPA", "StaticSynapse", pre, post,
                                  {"weight": np.linspace(0.004, 0.008, m), "delay": np.full(m, delay)}))
    g.recordings += [RecordingSpec("pyr", "spikes", np.arange(n_cells)),
                     RecordingSpec("pyr", "soma.v", np.arange(n_cells), DT),
                     RecordingSpec("pyr", "dendrite.v", np.arange(n_cells), 0.5)]
    return g


def input_spikes(n_src=6, ticks=400, rate_per_tick=0.08, seed=2):
    rng = np.random.default_rng(seed)
    counts = rng.random((ticks, n_src)) < rate_per_tick
    t, i = np.nonzero(counts)
    return t.astype(np.int64), i.astype(np.int64)


def run_engine(g, spikes, ticks=400, chunk=10, threads=1):
    eng = NeuronEngine(dt=0.025, threads=threads)
    sink = Sink()
    eng.build(g, sink)
    eng.initial_samples()
    t, i = spikes
    for t0 in range(0, ticks, chunk):
        sel = (t >= t0) & (t < t0 + chunk)
        eng.source_generator("mirror").push(t[sel], i[sel])
        eng.advance(min(t0 + chunk, ticks))
    return eng, sink


def test_passive_dc_step_matches_exponential():
    b = NeuronCellBuilder(PassiveCell, receptors={"AMPA": "syn"})
    g = ModelGraph(dt=DT, seed=1)
    g.nodes["p"] = PopulationNode("p", "Passive", 1, {}, {"v": np.array([-70.0])}, kind="biophysical", cell=b)
    amp = 0.002  # nA
    g.currents.append(CurrentInjection("dc", "DCSource", {"amplitude": amp, "start": 5.0, "stop": 1e12}, "p",
                                       np.array([0])))
    g.recordings.append(RecordingSpec("p", "v", np.array([0]), DT))
    eng, sink = NeuronEngine(dt=0.025), Sink()
    eng.build(g, sink)
    eng.initial_samples()
    eng.advance(600)
    v = sink.trace("p", "v")[:, 0]
    t = np.arange(v.size) * DT
    assert v.size == 601
    area = np.pi * 10.0 * 10.0 * 1e-8  # cm2
    dv = amp * 1e-9 / (1e-4 * area) * 1e3  # mV
    tau = 10.0
    expected = np.where(t < 5.0, -70.0, -70.0 + dv * (1 - np.exp(-(t - 5.0) / tau)))
    np.testing.assert_allclose(v, expected, atol=0.004 * dv)  # backward Euler, dt = 0.025 ms
    # and exactly NEURON's backward-Euler recursion v_n - v_inf = (v0 - v_inf) (1 + dt/tau)^-n
    n = np.maximum(np.rint((t - 5.0) / 0.025), 0)
    discrete = -70.0 + dv - dv * (1 + 0.025 / tau) ** -n
    np.testing.assert_allclose(v[t >= 5.0], discrete[t >= 5.0], atol=1e-9)
    eng.close()


def test_pushed_spike_arrives_at_spike_time_plus_delay():
    b = NeuronCellBuilder(PassiveCell, receptors={"AMPA": "syn"})
    g = ModelGraph(dt=DT, seed=1)
    g.nodes["p"] = PopulationNode("p", "Passive", 1, {}, kind="biophysical", cell=b)
    g.nodes["m"] = PopulationNode("m", "SpikeSourceExternal", 1, {}, kind="source")
    w, delay = 0.01, 1.3
    g.edges.append(ProjectionEdge("e", "m", "p", "AMPA", "StaticSynapse", np.array([0]), np.array([0]),
                                  {"weight": np.array([w]), "delay": np.array([delay])}))
    eng = NeuronEngine(dt=0.025)
    eng.build(g, Sink())
    syn = eng.cells["p"][0].obj.syn
    eng.source_generator("m").push([9], [0])  # emission tick 9: spike time 1.0 ms, due at 2.3 ms
    eng.advance(22)
    assert syn.g == 0.0
    eng.advance(23)  # 2.3 ms: delivered at the start of the step that begins at 2.3 ms
    assert syn.g == 0.0
    eng.advance(24)  # 0.1 ms after onset: w exp(-0.1 / tau)
    assert syn.g == pytest.approx(w * np.exp(-0.1 / 3.0), rel=1e-12)
    # a spike whose delivery time has passed is refused
    with pytest.raises(PastTimeError, match="emission tick 5"):
        eng.source_generator("m").push([5], [0])
    eng.close()


def standalone(n_cells, spikes, weights, delay, ticks, gna):
    """The same cells and inputs in plain NEURON, no neurohybrid."""
    cells = [BallStick(gna=g) for g in gna]
    pre = np.repeat(np.arange(6), n_cells)
    post = np.tile(np.arange(n_cells), 6)
    # the engine's synapse choice: one of the three synapses per connection, drawn from the seeded stream
    from neurohybrid.rng import stream_key
    u = np.random.default_rng(int(stream_key(5, "mirror_to_pyr", "synapse"))).random(pre.size)
    ncs = {}
    for j, (a, c) in enumerate(zip(pre, post)):
        nc = h.NetCon(None, cells[c].syns[min(int(u[j] * 3), 2)])
        nc.weight[0], nc.delay = weights[j], delay
        ncs.setdefault(a, []).append(nc)
    tv, iv = h.Vector(), h.Vector()
    dets = []
    for k, c in enumerate(cells):
        d = h.NetCon(c.soma(0.5)._ref_v, None, sec=c.soma)
        d.threshold = -10.0
        d.record(tv, iv, k)
        dets.append(d)
    vs = [h.Vector().record(c.soma(0.5)._ref_v, DT) for c in cells]
    h.dt = 0.025
    h.finitialize(-65.0)
    for t, i in zip(*spikes):
        for nc in ncs.get(i, []):
            nc.event((t + 1) * DT + delay)
    h.continuerun(ticks * DT)
    v = np.array([np.array(x) for x in vs]).T
    return np.array(tv), np.array(iv).astype(int), v


def test_identical_to_standalone_neuron():
    ticks, n_cells = 400, 3
    g = ball_graph(n_cells)
    spikes = input_spikes(ticks=ticks)
    eng, sink = run_engine(g, spikes, ticks=ticks, chunk=10)
    emitted, ids = sink.spikes_of("pyr")
    v = sink.trace("pyr", "soma.v")
    eng.close()
    assert emitted.size >= 3  # the input makes the cells fire
    weights = g.edges[0].values["weight"]
    t_ref, i_ref, v_ref = standalone(n_cells, spikes, weights, 1.5, ticks, np.linspace(0.12, 0.14, n_cells))
    order = np.lexsort((i_ref, np.ceil(t_ref / DT - 1e-6)))
    # a crossing at t in (k dt, (k + 1) dt] is emitted in tick k
    np.testing.assert_array_equal(emitted, np.ceil(t_ref / DT - 1e-6).astype(int)[order] - 1)
    np.testing.assert_array_equal(ids, i_ref[order])
    # NEURON alone records up to 39.9 ms (its sample at 40 ms comes with the next step): compare those
    assert v.shape == (ticks + 1, n_cells)
    np.testing.assert_array_equal(v[:v_ref.shape[0]], v_ref)


def test_chunked_advance_equals_one_advance_and_reset_reproduces():
    ticks = 300
    spikes = input_spikes(ticks=ticks, seed=7)
    eng1, s1 = run_engine(ball_graph(), spikes, ticks=ticks, chunk=ticks)
    one = (s1.spikes_of("pyr"), s1.trace("pyr", "soma.v"), s1.trace("pyr", "dendrite.v"))
    eng1.close()
    eng2, s2 = run_engine(ball_graph(), spikes, ticks=ticks, chunk=7)
    many = (s2.spikes_of("pyr"), s2.trace("pyr", "soma.v"), s2.trace("pyr", "dendrite.v"))
    for a, b in zip(one[0], many[0]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(one[1], many[1])
    np.testing.assert_array_equal(one[2], many[2])
    assert one[2].shape == (ticks // 5 + 1, 3)
    # reset: the same inputs again give the same results
    s2.spk, s2.smp = [], {}
    eng2.reset()
    eng2.initial_samples()
    t, i = spikes
    eng2.source_generator("mirror").push(t, i)
    eng2.advance(ticks)
    np.testing.assert_array_equal(s2.trace("pyr", "soma.v"), one[1])
    for a, b in zip(one[0], s2.spikes_of("pyr")):
        np.testing.assert_array_equal(a, b)
    assert eng2.field_value("pyr", "mean_v:soma") == pytest.approx(one[1][-1].mean())
    lfp = eng2.field_value("pyr", "lfp")
    assert lfp == pytest.approx(np.mean(one[2][-1] - one[1][-1]))
    eng2.close()


def test_native_connections_between_biophysical_cells():
    """A spike of cell 0 reaches cell 1 through a native NetCon (threshold detector -> synapse)."""
    g = ball_graph(n_cells=2)
    g.edges.append(ProjectionEdge("pyr_to_pyr", "pyr", "pyr", "AMPA", "StaticSynapse", np.array([0]),
                                  np.array([1]), {"weight": np.array([0.05]), "delay": np.array([2.0])},
                                  location="dend"))
    g.currents.append(CurrentInjection("dc", "DCSource", {"amplitude": 0.5, "start": 1.0, "stop": 3.0,
                                                         "location": "soma"}, "pyr", np.array([0])))
    eng, sink = run_engine(g, (np.zeros(0, np.int64), np.zeros(0, np.int64)), ticks=200)
    stamps, ids = sink.spikes_of("pyr")
    eng.close()
    assert 0 in ids and 1 in ids
    assert stamps[ids == 1].min() > stamps[ids == 0].min() + 20  # >= 2 ms synaptic delay later


def test_bad_inputs_are_typed_errors():
    g = ball_graph()
    with pytest.raises(ParameterError, match="does not divide"):
        NeuronEngine(dt=0.03).build(g, Sink())
    g = ball_graph()
    g.recordings.append(RecordingSpec("pyr", "nowhere.v", np.arange(1), DT))
    with pytest.raises(ParameterError, match="nowhere"):
        NeuronEngine().build(g, Sink())
    g = ball_graph()
    g.edges[0].receptor = "NMDA"
    with pytest.raises(ParameterError, match="NMDA"):
        NeuronEngine().build(g, Sink())
    g = ball_graph()
    g.edges[0].location = "axon"
    with pytest.raises(ParameterError, match="axon"):
        NeuronEngine().build(g, Sink())
    g = ball_graph()
    eng = NeuronEngine()
    eng.build(g, Sink())
    with pytest.raises(ParameterError, match="outside"):
        eng.source_generator("mirror").push([3], [99])
    with pytest.raises(ParameterError, match="not a spike source"):
        eng.source_generator("pyr")
    with pytest.raises(ParameterError, match="field"):
        eng.field_value("pyr", "csd")
    eng.close()


def test_two_threads_give_the_same_results():
    spikes = input_spikes(ticks=200, seed=7)
    runs = []
    for threads in (1, 2):
        eng, sink = run_engine(ball_graph(), spikes, ticks=200, chunk=10, threads=threads)
        runs.append((sink.spikes_of("pyr"), sink.trace("pyr", "soma.v"), sink.trace("pyr", "dendrite.v")))
        eng.close()
    (s1, v1, d1), (s2, v2, d2) = runs
    np.testing.assert_array_equal(s1[0], s2[0])
    np.testing.assert_array_equal(s1[1], s2[1])
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_array_equal(d1, d2)
    assert v1.shape == (201, 3) and d1.shape == (41, 3)
