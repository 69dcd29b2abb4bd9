"""A co-simulation snapshot with point engines: a model split over two float-emulator instances
(a bridge each way) is snapshotted mid-run; a fresh runtime of the same graph restored from it
continues with exactly the spikes of the original run (the engines' own snapshots, the kernel's
delay lines and the component ticks together)."""
import numpy as np
import pytest

from neurohybrid.errors import ParameterError, SimulationStateError
from neurohybrid.graph import ModelGraph, PopulationNode, ProjectionEdge, RecordingSpec
from neurohybrid.runtime import Runtime

DT = 0.1
LIF = {"cm": 0.25, "tau_m": 20.0, "tau_refrac": 2.0, "tau_syn_E": 5.0, "tau_syn_I": 5.0, "v_rest": -65.0,
       "v_reset": -65.0, "v_thresh": -50.0, "i_offset": 0.0}
INITIAL = {"v": -65.0, "isyn_exc": 0.0, "isyn_inh": 0.0}


def _edge(pre, post, receptor, n_pre, n_post, weight, seed):
    rng = np.random.default_rng(seed)
    pairs = np.argwhere(rng.random((n_pre, n_post)) < 0.2)
    n = len(pairs)
    return ProjectionEdge(f"{pre}->{post}", pre, post, receptor, "StaticSynapse", pairs[:, 0].astype(np.uint16),
                          pairs[:, 1].astype(np.uint16),
                          {"weight": np.broadcast_to(weight, (n,)), "delay": np.broadcast_to(1.5, (n,))})


def split_graph(engine_i="emulator:b"):
    g = ModelGraph(dt=DT, seed=3)
    for name, n, engine in (("E", 80, "emulator"), ("I", 20, engine_i)):
        g.nodes[name] = PopulationNode(name, "IF_curr_exp", n, {k: np.full(n, v) for k, v in LIF.items()},
                                       {k: np.full(n, v) for k, v in INITIAL.items()}, engine=engine)
        g.recordings.append(RecordingSpec(name, "spikes", np.arange(n)))
    g.nodes["noise"] = PopulationNode("noise", "SpikeSourcePoisson", 100,
                                      {"rate": np.full(100, 900.0), "start": np.zeros(100),
                                       "duration": np.full(100, 1e9)}, kind="source")
    g.edges += [_edge("noise", "E", "excitatory", 100, 80, 0.15, 1), _edge("noise", "I", "excitatory", 100, 20, 0.15, 2),
                _edge("E", "I", "excitatory", 80, 20, 0.1, 3), _edge("I", "E", "inhibitory", 20, 80, -0.3, 4)]
    return g


def _after(rt, name, t_ms):
    t, i = rt.spikes(name)
    keep = t > t_ms + 1e-9
    return t[keep], i[keep]


def test_a_split_cosimulation_restored_from_a_snapshot_continues_bit_for_bit():
    a = Runtime(split_graph())
    a.run(40.0)
    assert len(a.engines) == 2 and a.partition.bridges  # E and I on two engines, bridged both ways
    snap = a.hybrid.cosim.state()
    a.run(60.0)
    b = Runtime(split_graph())
    b.run_until(0)  # builds the engines and the co-simulation
    b.hybrid.cosim.restore(snap)
    b.tick = a_tick = 400
    b.run_until(1000)
    for name in ("E", "I"):
        (ta, ia), (tb, ib) = _after(a, name, 40.0), b.spikes(name)
        print(f"{name}: {ta.size} spikes after the snapshot, {tb.size} from the restored run")
        assert ta.size > 0 and np.array_equal(ta, tb) and np.array_equal(ia, ib), name
    assert a_tick == 400
    a.close()
    b.close()


def test_a_snapshot_of_another_model_is_refused_and_changes_nothing():
    a = Runtime(split_graph())
    a.run(10.0)
    snap = a.hybrid.cosim.state()
    a.close()
    other = split_graph()
    # another model in the second component only: the first restores, the second refuses and
    # the first must go back
    other.nodes["I"].parameters["v_thresh"] = np.full(20, -52.0)
    b = Runtime(other)
    b.run(5.0)
    before = b.hybrid.cosim.state()
    with pytest.raises(ParameterError, match="state"):
        b.hybrid.cosim.restore(snap)
    after = b.hybrid.cosim.state()
    assert after["tick"] == before["tick"] == 50
    for name, part in before["components"].items():  # every component as it was, not only the first
        engine_before, engine_after = part["engine"], after["components"][name]["engine"]
        assert engine_before.keys() == engine_after.keys()
        assert all(np.array_equal(engine_before[k], engine_after[k]) for k in engine_before), name
    bad = dict(before, components={k: {} for k in before["components"]})
    with pytest.raises((ParameterError, SimulationStateError), match="state"):
        b.hybrid.cosim.restore(bad)
    b.close()
