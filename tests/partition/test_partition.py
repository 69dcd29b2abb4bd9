"""The partition station: point neurons and NEURON cells in one model, spikes both ways, exact.

A spike crossing engines must arrive exactly ``delay`` after it was emitted, whatever the
exchange interval. Checked end to end: an array source drives a point neuron (P1), whose spike
drives a two-compartment NEURON cell (MC), whose spike drives another point neuron (P2); P2's
delta synapse makes it fire in the very step the spike arrives. The MC cell's spike time must
equal that of the same cell fed the same event in a NEURON-only model.
"""
import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.errors import CausalityError
from neurohybrid.graph import ModelGraph, PopulationNode, ProjectionEdge
from neurohybrid.partition import MIRROR, Placement, partition

from partition_cells import mc_celltype as _mc_celltype  # noqa: E402

DT = 0.1


DELTA = dict(tau_m=20.0, v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0, tau_refrac=5.0, cm=1.0)


def _chain(d_in, d_out, spike_at=10.0):
    sim.setup(timestep=DT, neuron_dt=0.025, seed=2)
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[spike_at]), label="src")
    p1 = sim.Population(1, sim.IF_curr_delta(**DELTA), label="P1")
    mc = sim.Population(1, _mc_celltype(), initial_values={"v": -65.0}, label="MC")
    p2 = sim.Population(1, sim.IF_curr_delta(**DELTA), label="P2")
    sim.Projection(src, p1, sim.OneToOneConnector(), sim.StaticSynapse(weight=30.0, delay=0.5))
    sim.Projection(p1, mc, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.2, delay=d_in), receptor_type="AMPA")
    sim.Projection(mc, p2, sim.OneToOneConnector(), sim.StaticSynapse(weight=30.0, delay=d_out))
    for p in (p1, mc, p2):
        p.record("spikes")
    sim.run(60.0)
    out = {p.label: np.asarray(p.get_data().segments[0].spiketrains[0]) for p in (p1, mc, p2)}
    bridges = {(b.source, b.target): b.delay for b in sim.simulator.state.network.partition.bridges}
    sim.end()
    return out, bridges


def _mc_alone(event_time):
    """The MC cell alone on NEURON (through neurohybrid, no point neurons): one input spike."""
    sim.setup(timestep=DT, neuron_dt=0.025, seed=2)
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[event_time]), label="src")
    mc = sim.Population(1, _mc_celltype(), initial_values={"v": -65.0}, label="MC")
    sim.Projection(src, mc, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.2, delay=0.0 + DT),
                   receptor_type="AMPA")
    mc.record("spikes")
    sim.run(60.0)
    t = np.asarray(mc.get_data().segments[0].spiketrains[0])
    sim.end()
    return t


@pytest.mark.parametrize("d_in, d_out", [(1.0, 2.0), (3.0, 0.5), (0.4, 5.0)])
def test_spikes_cross_engines_exactly_on_time(d_in, d_out):
    out, bridges = _chain(d_in, d_out)
    # the longest links each way that keep every arrival exact (neurohybrid.partition): NEURON
    # reports a spike one tick late and a point engine's mirror needs one tick of delay
    assert bridges == {("emulator", "neuron"): int(round(d_in / DT)),
                       ("neuron", "emulator"): int(round(d_out / DT)) - 2}
    assert out["P1"].size == 1 and out["MC"].size >= 1 and out["P2"].size >= 1
    # P2 fires in the step the MC spike arrives: stamp(P2) = stamp(MC) + d_out
    stamp_mc = np.ceil(out["MC"][0] / DT - 1e-6) * DT
    assert out["P2"][0] == pytest.approx(stamp_mc + d_out, abs=1e-9)
    # the MC cell saw P1's spike exactly at P1's spike time + d_in: same spike as when fed that event alone
    alone = _mc_alone(out["P1"][0] + d_in - DT)
    np.testing.assert_allclose(out["MC"], alone, rtol=0, atol=1e-9)


def test_a_crossing_delay_too_short_is_refused_before_anything_runs():
    with pytest.raises(CausalityError, match="Projection"):
        _chain(1.0, 0.2)
    sim.end()


def _node(name, kind, model="IF_curr_exp", size=3):
    return PopulationNode(name, model, size, {}, {}, kind=kind)


def _edge(pre, post, delay):
    n = 3
    return ProjectionEdge(f"{pre}->{post}", pre, post, "excitatory", "StaticSynapse", np.arange(n), np.arange(n),
                          {"weight": np.ones(n), "delay": np.full(n, delay)})


def _placed(g, engines):
    return {n: Placement(n, engines.get(n, "emulator"), "test", g.nodes[n].kind, g.nodes[n].model) for n in g.nodes}


def test_partition_mirrors_crossing_projections_and_shifts_their_delays():
    g = ModelGraph(DT, 1)
    for name, kind in (("A", "point"), ("B", "biophysical"), ("C", "point")):
        g.nodes[name] = _node(name, kind)
    g.nodes["S"] = _node("S", "source", "SpikeSourcePoisson")
    g.edges = [_edge("A", "B", 1.5), _edge("B", "C", 2.0), _edge("A", "C", 1.0), _edge("S", "B", 0.1)]
    part = partition(g, _placed(g, {"B": "neuron"}))
    bridges = {(b.source, b.target): b.delay for b in part.bridges}
    assert bridges == {("emulator", "neuron"): 15, ("neuron", "emulator"): 18}  # 1.5 ms; 2.0 ms - 2 dt
    # NEURON takes a mirror's spikes at their emission tick (no lead); the emulator a tick later
    assert {(b.source, b.target): b.link_delay for b in part.bridges} == {("emulator", "neuron"): 15,
                                                                         ("neuron", "emulator"): 19}
    point, bio = part.parts["emulator"], part.parts["neuron"]
    assert set(point.nodes) == {"A", "C", "B@emulator"} and point.nodes["B@emulator"].model == MIRROR
    assert set(bio.nodes) == {"B", "A@neuron", "S"}  # the Poisson source moves to its only target's engine
    assert part.placement["S"].engine == "neuron"
    into_b = {e.pre: e for e in bio.edges}
    np.testing.assert_allclose(into_b["A@neuron"].values["delay"], 0.0)
    np.testing.assert_allclose(into_b["S"].values["delay"], 0.1)  # not crossing: unchanged
    into_c = [e for e in point.edges if e.post == "C" and e.pre == "B@emulator"][0]
    np.testing.assert_allclose(into_c.values["delay"], DT)  # 2.0 ms - (18 ticks + NEURON's 1 tick)
    assert part.exported == {"A", "B"}  # recorded only because their spikes cross
    assert g.edges[0].values["delay"][0] == 1.5  # the input graph is untouched


def test_point_populations_on_two_engines_get_one_bridge_each_way():
    g = ModelGraph(DT, 1)
    for name in "AB":
        g.nodes[name] = _node(name, "point")
    g.nodes["S"] = _node("S", "source", "SpikeSourcePoisson")
    g.edges = [_edge("A", "B", 1.5), _edge("B", "A", 0.3), _edge("S", "A", 0.1), _edge("S", "B", 0.1)]
    part = partition(g, _placed(g, {"B": "emulator:b"}))
    assert {(b.source, b.target): b.delay for b in part.bridges} == {("emulator", "emulator:b"): 14,
                                                                    ("emulator:b", "emulator"): 2}
    # the float emulator takes a mirror's spikes a tick late (input_lead): the kernel links are
    # the whole delays, so the macro-step of a split model is that of the unsplit one
    assert {(b.source, b.target): b.link_delay for b in part.bridges} == {("emulator", "emulator:b"): 15,
                                                                         ("emulator:b", "emulator"): 3}
    assert part.placement["S"].copies == ("emulator:b",)  # both engines generate the same Poisson spikes
    assert "S" in part.parts["emulator:b"].nodes and "S" in part.parts["emulator"].nodes
    into_a = [e for e in part.parts["emulator"].edges if e.pre == "B@emulator"][0]
    np.testing.assert_allclose(into_a.values["delay"], DT)


def test_a_crossing_delay_below_the_exchange_minimum_is_refused_naming_the_projection():
    g = ModelGraph(DT, 1)
    for name in "AB":
        g.nodes[name] = _node(name, "point")
    g.edges = [_edge("A", "B", 0.1)]
    with pytest.raises(CausalityError, match=r"Projection\(A->B\)\.delay.*emulator to emulator:b"):
        partition(g, _placed(g, {"B": "emulator:b"}))


def test_a_biophysical_field_proxy_modulates_point_neurons():
    """The MC cells' soma voltage (raised by a current pulse from 50 to 150 ms) drives a current
    into point neurons: their rate follows the pulse, after the field's delay."""
    def run(with_field):
        sim.setup(timestep=DT, neuron_dt=0.025, seed=4)
        mc = sim.Population(3, _mc_celltype(), initial_values={"v": -65.0}, label="MC")
        sim.DCSource(amplitude=0.3, start=50.0, stop=150.0).inject_into(mc, location="soma")
        e = sim.Population(50, sim.IF_curr_exp(), label="E")
        bg = sim.Population(50, sim.SpikeSourcePoisson(rate=2500.0), label="bg")
        sim.Projection(bg, e, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.1, delay=1.0))
        e.record("spikes")
        if with_field:
            sim.modulate(e, mc, "mean_v:soma", modulates="current", fn=lambda v: 0.04 * (v + 65.0), delay=2.0)
        sim.run(200.0)
        spikes = np.concatenate([np.asarray(s) for s in e.get_data().segments[0].spiketrains])
        sim.end()
        return np.histogram(spikes, bins=[0.0, 50.0, 150.0, 200.0])[0]
    base, mod = run(False), run(True)
    assert mod[1] > 1.3 * base[1]  # during the pulse the field adds drive
    assert abs(int(mod[0]) - int(base[0])) <= 0.25 * base[0] + 5  # before it, only the resting offset acts


def test_field_links_refuse_bad_input():
    sim.setup(timestep=DT, seed=4)
    mc = sim.Population(2, _mc_celltype(), label="MC")
    e = sim.Population(5, sim.IF_curr_exp(), label="E")
    from neurohybrid.errors import ParameterError, PlacementError
    with pytest.raises(PlacementError, match="source"):
        sim.modulate(e, e)  # a point population has no field proxies
    with pytest.raises(PlacementError, match="targets"):
        sim.modulate(mc, mc)
    with pytest.raises(ParameterError, match="proxy"):
        sim.modulate(e, mc, proxy="power")
    with pytest.raises(ParameterError, match="modulates"):
        sim.modulate(e, mc, modulates="mood")
    with pytest.raises(ParameterError, match="delay"):
        sim.modulate(e, mc, delay=0.0)
    sim.end()


def test_biophysical_bad_input_is_typed_and_leaves_the_model_usable(tmp_path):
    from neurohybrid.errors import ParameterError
    sim.setup(timestep=DT, seed=4)
    with pytest.raises(ParameterError, match="no such file"):
        sim.load_morphology(tmp_path / "missing.swc")
    bad = tmp_path / "bad.swc"
    bad.write_text("this is not\nan swc file\n")
    with pytest.raises(ParameterError, match="does not parse"):
        sim.load_morphology(bad)
    good = tmp_path / "good.swc"
    good.write_text("1 1 0 0 0 5 -1\n2 3 0 10 0 1 1\n3 3 0 20 0 1 2\n")
    assert sim.load_morphology(good) is not None
    # a channel on a section label the morphology does not have: refused when the cells are built
    from neuroml import Morphology, Point3DWithDiam as P, Segment
    from pyNN.morphology import NeuroMLMorphology
    soma = Segment(proximal=P(x=0, y=0, z=0, diameter=10), distal=P(x=10, y=0, z=0, diameter=10), name="soma", id=0)

    class Cell(sim.MultiCompartmentNeuron):
        ion_channels = {"pas": sim.PassiveLeak}
        post_synaptic_entities = {}

    ct = Cell(morphology=NeuroMLMorphology(Morphology(segments=(soma,))), cm=1.0, Ra=100.0, ionic_species={},
              pas={"conductance_density": sim.morphology.uniform("apical_tuft", 0.0003), "e_rev": -65.0})
    p = sim.Population(1, sim.IF_curr_exp(), label="P")
    p.record("spikes")
    sim.run(5.0)  # the point part runs
    mc = sim.Population(1, ct, label="MC")
    with pytest.raises(ParameterError, match="apical_tuft"):
        sim.run(5.0)
    assert sim.get_current_time() == pytest.approx(5.0)
    assert len(p.get_data().segments[0].spiketrains) == 1  # what was recorded is still there
    sim.end()
