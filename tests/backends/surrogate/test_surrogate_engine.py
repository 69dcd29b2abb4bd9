"""The surrogate engine on a model graph: the binning convention, windows, causality,
snapshots and bad input (random-weight surrogates: no training, no NEURON)."""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "surrogate"))
from surrogate_helpers import random_surrogate  # noqa: E402

from neurohybrid.backends.surrogate.engine import SurrogateEngine  # noqa: E402
from neurohybrid.errors import ParameterError, UnsupportedModelError  # noqa: E402
from neurohybrid.graph import ModelGraph, PopulationNode, ProjectionEdge, RecordingSpec  # noqa: E402
from neurohybrid.surrogate.network import InferenceState, run_bins  # noqa: E402

DT, N = 0.1, 6


class Sink:
    def __init__(self):
        self.ticks, self.ids, self.rows = [], [], {}

    def spikes(self, node, ticks, ids):
        self.ticks.append(np.asarray(ticks))
        self.ids.append(np.asarray(ids))

    def samples(self, node, variable, values):
        self.rows.setdefault(variable, []).append(np.asarray(values))

    def flush(self):
        pass

    def result(self):
        t = np.concatenate(self.ticks) if self.ticks else np.empty(0, int)
        i = np.concatenate(self.ids) if self.ids else np.empty(0, int)
        return t, i, {k: np.concatenate(v) for k, v in self.rows.items()}


def graph(sur=None, receptor="AMPA_basal", delay=1.0, times=None):
    g = ModelGraph(dt=DT, seed=4)
    g.nodes["L5"] = PopulationNode("L5", "NeuronCell", N, {}, {"v": np.full(N, -70.0)}, kind="biophysical",
                                   engine="surrogate", surrogate=sur or random_surrogate())
    if times is None:
        g.nodes["src"] = PopulationNode("src", "SpikeSourcePoisson", 20, {"rate": np.full(20, 80.0)}, {},
                                        kind="source")
    else:
        g.nodes["src"] = PopulationNode("src", "SpikeSourceArray", len(times), {"spike_times": times}, {},
                                        kind="source")
    n_src = g.nodes["src"].size
    pre = np.repeat(np.arange(n_src), N)
    post = np.tile(np.arange(N), n_src)
    w = np.random.default_rng(1).uniform(0.0005, 0.002, pre.size)
    g.edges.append(ProjectionEdge("src->L5", "src", "L5", receptor, "StaticSynapse", pre, post,
                                  {"weight": w, "delay": np.full(pre.size, delay)}))
    g.recordings += [RecordingSpec("L5", "spikes", np.arange(N)), RecordingSpec("L5", "soma.v", np.arange(N)),
                     RecordingSpec("L5", "tuft.v", np.arange(N), sampling_interval=0.5)]
    return g


def run(g, windows):
    eng, sink = SurrogateEngine(), Sink()
    eng.build(g, sink)
    eng.initial_samples()
    t = 0
    for w in windows:
        t += w
        eng.advance(t)
    return sink.result()


def test_window_splits_give_identical_spikes_and_voltages():
    g = graph()
    a = run(g, [2000])
    b = run(g, [3, 7, 10, 1, 499, 17, 463, 1000])
    assert a[0].size > 20  # the input drives spikes
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    for k in a[2]:
        np.testing.assert_array_equal(a[2][k], b[2][k])
    assert a[2]["soma.v"].shape == (2001, N) and a[2]["tuft.v"].shape == (401, N)


def test_binning_convention_matches_the_network_run_directly():
    """A spike at grid time s over a delay d reaches the cell at s + d ms (NEURON's event time)
    and counts in bin floor((s + d) / bin); spikes are emitted at the bin's last tick."""
    times = [np.array([0.3, 5.0, 5.1, 12.9]), np.array([4.95, 20.0])]  # 4.95 goes up to 5.0 (NEST's rule)
    g = graph(times=times, delay=0.7)
    sur = g.nodes["L5"].surrogate
    ticks, ids, v = run(g, [400])
    w = g.edges[0].values["weight"].reshape(2, N)
    inputs = np.zeros((40, N, 2))
    for k, train in enumerate(([0.3, 5.0, 5.1, 12.9], [5.0, 20.0])):
        for s in train:
            inputs[int(np.floor((s + 0.7) / 1.0 + 1e-9)), :, 0] += w[k]
    _, spikes, vv = run_bins(sur.network, InferenceState(sur.network, N, v0=-70.0), inputs, True)
    b, i = np.nonzero(spikes)
    np.testing.assert_array_equal(ticks, (b + 1) * 10 - 1)
    np.testing.assert_array_equal(ids, i)
    np.testing.assert_allclose(v["soma.v"][10::10], vv[:, :, 0])  # bin ends


def test_input_after_a_time_changes_nothing_before_it():
    base = [np.array([1.0, 2.0, 30.0])]
    late = [np.array([1.0, 2.0, 30.0, 61.0])]
    a = run(graph(times=base), [1000])
    b = run(graph(times=late), [1000])
    end = 610 + 10  # arrival 61 + 1 ms delay: bin 62 is the first that may differ
    for x, y in ((a[2]["soma.v"], b[2]["soma.v"]),):
        np.testing.assert_array_equal(x[: end - 10], y[: end - 10])
    before = a[0] < 619
    np.testing.assert_array_equal(a[0][before], b[0][b[0] < 619])


def test_snapshot_continues_bit_for_bit():
    g = graph()
    eng, sink = SurrogateEngine(), Sink()
    eng.build(g, sink)
    eng.advance(777)
    snap = eng.state()
    eng.advance(2000)
    ref = sink.result()
    fresh, sink2 = SurrogateEngine(), Sink()
    fresh.build(g, sink2)
    fresh.restore(snap)
    fresh.advance(2000)
    t2, i2, _ = sink2.result()
    keep = ref[0] >= 777
    np.testing.assert_array_equal(ref[0][keep], t2)
    np.testing.assert_array_equal(ref[1][keep], i2)
    with pytest.raises(ParameterError, match="snapshot"):
        fresh.restore({"engine": "emulator"})


def test_bad_input_is_refused_by_name():
    with pytest.raises(UnsupportedModelError, match="GABA_soma"):
        run(graph(receptor="GABA_soma"), [10])
    g = graph()
    g.recordings.append(RecordingSpec("L5", "hotzone.v", np.arange(N)))
    with pytest.raises(UnsupportedModelError, match="hotzone.v"):
        run(g, [10])
    with pytest.raises(ParameterError, match="bin"):
        run(graph(sur=random_surrogate(bin_ms=0.25)), [10])
    g = graph()
    g.edges.append(ProjectionEdge("L5->L5", "L5", "L5", "AMPA_tuft", "StaticSynapse", np.arange(N), np.arange(N),
                                  {"weight": np.full(N, 0.001), "delay": np.full(N, 1.0)}))
    with pytest.raises(UnsupportedModelError, match="recurrent"):
        run(g, [10])
    point = PopulationNode("E", "IF_cond_exp", 3, {}, {})
    assert "trained surrogate" in SurrogateEngine.refusal(point, g)
    assert SurrogateEngine.refusal(g.nodes["L5"], g) is None
