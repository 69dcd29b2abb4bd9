"""A hybrid model built directly as a model graph, without PyNN, runs on the runtime and gives
the results of the same model written as a PyNN script (issue 10, item 2): scaffold + replaced
region + NEURON cells + a scaffold field + a biophysical field (tests/runtime/hybrid_model.py)."""
import numpy as np
import pytest
from hybrid_model import N_E, N_I, T_RUN, graph_model, pynn_model

from neurohybrid.errors import LinkError
from neurohybrid.graph import FieldNode, ModelGraph, PopulationNode, SpikesToRatesNode
from neurohybrid.runtime import Runtime


def _results(spikes, signal):
    return {**{name: spikes(name) for name in ("E", "I", "cells")}, "S_e": signal("brain", "S_e")["samples"],
            "rates": signal("R1.rates", "rate")["samples"]}


def test_the_graph_built_model_equals_the_pynn_built_one():
    sim = pynn_model()
    sim.run(T_RUN)
    net = sim.state.network
    pynn_hash = net.full_graph.content_hash()
    from_pynn = _results(net.spikes, net.signal)
    sim.end()

    graph = graph_model()
    assert graph.content_hash() == pynn_hash  # the same model, node for node
    rt = Runtime(graph, neuron={"dt": 0.025, "celsius": 6.3})
    rt.run(T_RUN)
    from_graph = _results(rt.spikes, rt.signal)
    placement = {name: p.engine for name, p in rt.partition.placement.items()}
    rt.close()

    assert placement["cells"] == "neuron" and placement["E"] == "emulator"
    for name in ("E", "I", "cells"):
        (t_a, i_a), (t_b, i_b) = from_pynn[name], from_graph[name]
        print(f"{name}: {t_a.size} spikes from PyNN, {t_b.size} from the graph")
        assert np.array_equal(t_a, t_b) and np.array_equal(i_a, i_b), name
    assert from_graph["E"][0].size > 0 and from_graph["cells"][0].size > 0
    assert np.array_equal(from_pynn["S_e"], from_graph["S_e"]) and from_graph["S_e"].shape[1] == 4
    assert np.array_equal(from_pynn["rates"], from_graph["rates"]) and from_graph["rates"].shape[1] == 2
    # the seam's rates are the circuit's: E feeds both the seam and the bridge to NEURON
    # (a population sending to two ports once lost one of them)
    n_e, n_i = (from_graph[p][0].size for p in ("E", "I"))
    rate_e, rate_i = from_graph["rates"].mean(axis=0)
    assert rate_e == pytest.approx(n_e / (N_E * T_RUN * 1e-3), rel=0.05)
    assert rate_i == pytest.approx(n_i / (N_I * T_RUN * 1e-3), rel=0.05)


def test_links_between_ports_of_other_kinds_are_refused_by_name():
    g = ModelGraph(dt=0.1, seed=1)
    g.nodes["P"] = PopulationNode("P", "IF_curr_exp", 3, {}, {})
    g.add_module(SpikesToRatesNode("rates", [3]))
    g.add_module(FieldNode("tone"))
    with pytest.raises(LinkError, match="rates.rates -> P.spikes.*target_port"):
        g.connect("rates", "rates", "P", "spikes")  # P is no SpikeSourceExternal: no spike input
    with pytest.raises(LinkError, match="rates.rates -> tone.in.*rates into a fields port"):
        g.connect("rates", "rates", "tone", "in")
    with pytest.raises(LinkError, match="nowhere"):
        g.connect("P", "spikes", "nowhere", "spikes")
    with pytest.raises(LinkError, match="tone.*already used"):
        g.add_module(FieldNode("tone"))
    g.connect("P", "spikes", "rates", "spikes")  # a right one is kept
    assert len(g.links) == 1
