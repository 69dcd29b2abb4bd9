"""Dopamine-modulated STDP (``backends/emulator/dopamine.py``) beyond the NEST references of
``tests/pynn/test_stdp_vs_nest.py``: dopamine from a field (analytic), from a scaffold region,
from a population on another engine (partition invariance), snapshots, and bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.backends.emulator.engine import EmulatorEngine
from neurohybrid.backends.emulator.fixed_engine import _ListSink
from neurohybrid.errors import ParameterError, PlacementError

DT = 0.1
RULE = dict(A_plus=0.01, A_minus=0.012, tau_plus=20.0, tau_minus=20.0, tau_c=200.0, tau_n=100.0, b=0.002,
            w_min=0.0, w_max=1.0)


def _field_graph():
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=[10.0]), label="pre")
    kick = sim.Population(1, sim.SpikeSourceArray(spike_times=[13.0]), label="kick")
    post = sim.Population(1, sim.IF_curr_exp(tau_refrac=1000.0), label="post")  # fires once
    vt = sim.Population(1, sim.VolumeTransmitter(), label="DA")
    sim.Projection(kick, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=30.0, delay=1.0))
    sim.Projection(pre, post, sim.OneToOneConnector(),
                   sim.DopamineSTDPMechanism(dopamine=vt, weight=0.5, delay=2.0, **RULE), label="gated")
    post.record("spikes")


def _graph(build, seed=3):
    sim.setup(timestep=DT, seed=seed)
    try:
        build()
        return sim.state.network.build_graph()
    finally:
        sim.end()


def test_field_dopamine_matches_the_analytic_weight():
    """One pre spike, one post spike after it, a constant field n: the eligibility c jumps by
    A_plus K+ when the post spike reaches the synapse and decays with tau_c; the weight grows by
    the integral of c (n - b) (Izhikevich 2007, eq. 2-3 with a constant concentration)."""
    graph = _graph(_field_graph)
    engine, sink = EmulatorEngine(), _ListSink()
    engine.build(graph, sink)
    n = 0.05  # 1/ms
    engine.set_modulation("DA", "dopamine", n)
    engine.advance(5000)  # 500 ms
    ticks, _ = sink.spike_arrays("post")
    assert ticks.size == 1
    t_pre, t_post, delay = 100, int(ticks[0]) + 1, 20  # stamps (ticks)
    arrive = t_post + delay  # the post spike reaches the synapse (dendritic delay)
    c0 = RULE["A_plus"] * math.exp(-(arrive - t_pre) * DT / RULE["tau_plus"])
    span = (5000 - arrive) * DT
    expected = 0.5 + c0 * RULE["tau_c"] * (1 - math.exp(-span / RULE["tau_c"])) * (n - RULE["b"])
    assert engine.synapse_values("gated[pre->post]")[0] == pytest.approx(expected, rel=1e-12)


def test_dopamine_from_a_scaffold_region():
    """A region's state as the dopamine field (WholeBrain.modulate(..., modulates='dopamine')):
    above the baseline b the causal synapses grow, at b they do not move."""
    def run(value):
        sim.setup(timestep=DT, seed=3, threads=1)
        brain = sim.WholeBrain(sim.Connectome.synthetic(4, seed=1), model=sim.ReducedWongWangExcInh(G=0.5),
                               coupling=sim.LinearCoupling(a=1.0), exchange=2.0)
        pre = sim.Population(10, sim.SpikeSourcePoisson(rate=20.0), label="pre")
        post = sim.Population(5, sim.IF_curr_exp(i_offset=0.6, tau_refrac=2.0), label="post")
        vt = sim.Population(1, sim.VolumeTransmitter(), label="DA")
        prj = sim.Projection(pre, post, sim.AllToAllConnector(),
                             sim.DopamineSTDPMechanism(dopamine=vt, weight=0.5, delay=1.0, **RULE))
        brain.modulate(vt, "R1", "S_e", modulates="dopamine", fn=lambda s: 0.0 * s + value, field="DA tone")
        sim.run(400.0)
        w = np.array(prj.get("weight", format="list", with_address=False))
        sim.end()
        return w
    at_baseline, above = run(RULE["b"]), run(0.05)
    np.testing.assert_allclose(at_baseline, 0.5, rtol=1e-12)
    assert np.mean(above) > 0.5 and np.ptp(above) > 1e-3


def _spiking_dopamine(split: bool):
    """Dopamine cells (neurons, on their own engine instance when ``split``) -> transmitter."""
    sim.setup(timestep=DT, seed=5)
    pre = sim.Population(10, sim.SpikeSourcePoisson(rate=20.0), label="pre")
    post = sim.Population(5, sim.IF_curr_exp(i_offset=0.6, tau_refrac=2.0), label="post")
    drive = sim.Population(4, sim.SpikeSourcePoisson(rate=15.0), label="drive")
    vta = sim.Population(4, sim.IF_curr_exp(tau_refrac=1.0), label="vta", **({"engine": "emulator:vta"} if split else {}))
    sim.Projection(drive, vta, sim.OneToOneConnector(), sim.StaticSynapse(weight=20.0, delay=0.5))
    vt = sim.Population(1, sim.VolumeTransmitter(deliver_interval=3), label="DA")
    sim.Projection(vta, vt, sim.AllToAllConnector(), sim.StaticSynapse(weight=1.0, delay=1.5), receptor_type="dopamine")
    prj = sim.Projection(pre, post, sim.AllToAllConnector(),
                         sim.DopamineSTDPMechanism(dopamine=vt, weight=0.5, delay=1.0, **RULE))
    post.record("spikes")
    vta.record("spikes")
    sim.run(600.0)
    w = np.array(prj.get("weight", format="list", with_address=False))
    n_vta = sum(len(s) for s in vta.get_data().segments[0].spiketrains)
    placement = sim.state.network.placement()
    sim.end()
    return w, n_vta, placement


def test_dopamine_neurons_on_another_engine_give_the_same_weights():
    alone, n_alone, _ = _spiking_dopamine(split=False)
    split, n_split, where = _spiking_dopamine(split=True)
    assert where["vta"]["engine"] == "emulator:vta" and where["DA"]["engine"] == where["post"]["engine"]
    assert n_alone == n_split > 20
    np.testing.assert_array_equal(alone, split)
    assert np.ptp(alone) > 1e-3


def test_snapshot_continues_bit_for_bit():
    def build():
        pre = sim.Population(10, sim.SpikeSourcePoisson(rate=20.0), label="pre")
        post = sim.Population(5, sim.IF_curr_exp(i_offset=0.6, tau_refrac=2.0), label="post")
        vta = sim.Population(3, sim.SpikeSourcePoisson(rate=8.0), label="vta")
        vt = sim.Population(1, sim.VolumeTransmitter(deliver_interval=4), label="DA")
        sim.Projection(vta, vt, sim.AllToAllConnector(), sim.StaticSynapse(weight=1.0, delay=1.0),
                       receptor_type="dopamine")
        sim.Projection(pre, post, sim.AllToAllConnector(),
                       sim.DopamineSTDPMechanism(dopamine=vt, weight=0.5, delay=1.0, **RULE), label="gated")
    graph = _graph(build)
    a = EmulatorEngine()
    a.build(graph, _ListSink())
    a.advance(1234)
    snap = a.state()
    a.advance(5000)
    b = EmulatorEngine()
    b.build(graph, _ListSink())
    b.restore(snap)
    b.advance(5000)
    np.testing.assert_array_equal(a.synapse_values("gated[pre->post]"), b.synapse_values("gated[pre->post]"))


def test_bad_dopamine_sources_are_typed_errors():
    sim.setup(timestep=DT)
    cells = sim.Population(3, sim.IF_curr_exp(), label="cells")
    with pytest.raises(ParameterError, match="not a VolumeTransmitter"):
        sim.DopamineSTDPMechanism(dopamine=cells)
    with pytest.raises(ParameterError, match="not a VolumeTransmitter"):
        sim.DopamineSTDPMechanism(dopamine="DA")
    two = sim.Population(2, sim.VolumeTransmitter(), label="two")
    with pytest.raises(ParameterError, match="one VolumeTransmitter"):
        sim.DopamineSTDPMechanism(dopamine=two)
    sim.end()


def test_dopamine_field_onto_neurons_is_refused():
    sim.setup(timestep=DT)
    brain = sim.WholeBrain(sim.Connectome.synthetic(4, seed=1), model=sim.ReducedWongWangExcInh(G=0.5),
                           coupling=sim.LinearCoupling(a=1.0))
    cells = sim.Population(3, sim.IF_curr_exp(), label="cells")
    with pytest.raises(PlacementError, match="not a VolumeTransmitter"):
        brain.modulate(cells, "R1", "S_e", modulates="dopamine")
    sim.end()


def test_gated_synapses_on_two_engines_are_refused():
    sim.setup(timestep=DT)
    pre = sim.Population(2, sim.SpikeSourcePoisson(rate=5.0), label="pre")
    a = sim.Population(2, sim.IF_curr_exp(), label="a")
    b = sim.Population(2, sim.IF_curr_exp(), label="b", engine="emulator:other")
    vt = sim.Population(1, sim.VolumeTransmitter(), label="DA")
    for target in (a, b):
        sim.Projection(pre, target, sim.AllToAllConnector(), sim.DopamineSTDPMechanism(dopamine=vt, weight=0.1))
    with pytest.raises(PlacementError, match="DA"):
        sim.run(1.0)
    sim.end()


@pytest.mark.parametrize("parameter, value", [("tau_c", -1.0), ("w_min", 0.5), ("A_minus", -0.1),
                                              ("dendritic_delay_fraction", 0.5)])
def test_bad_rule_parameters_are_typed_errors(parameter, value):
    sim.setup(timestep=DT)
    pre = sim.Population(2, sim.SpikeSourcePoisson(rate=5.0), label="pre")
    post = sim.Population(2, sim.IF_curr_exp(), label="post")
    vt = sim.Population(1, sim.VolumeTransmitter(), label="DA")
    params = {**RULE, "weight": 0.3, parameter: value}
    with pytest.raises(ParameterError) as info:
        sim.Projection(pre, post, sim.AllToAllConnector(), sim.DopamineSTDPMechanism(dopamine=vt, **params))
        sim.run(1.0)
    assert info.value.parameter in (parameter, "weight", "w_max")
    sim.end()
