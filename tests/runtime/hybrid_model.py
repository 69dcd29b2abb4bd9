"""One hybrid model two ways: as a PyNN script and as a model graph built by hand (no PyNN).

A 4-region mean-field scaffold (Reduced Wong-Wang, excitatory-inhibitory) whose region R1 is
replaced by an E/I circuit of IF_curr_exp cells; two NEURON ball-and-stick cells driven by
E; a field of region R2 (S_e) that lowers I's threshold; a field of the NEURON cells' somatic
potential that adds current to E. Deterministic connectivity (one-to-one, from lists), so the
hand-built graph holds exactly the connections PyNN generates.
"""
from __future__ import annotations

import numpy as np
from neuron import h

DT = 0.1
N_E, N_I, N_CELLS = 40, 10, 2
T_RUN = 30.0
LIF = {"cm": 1.0, "tau_m": 20.0, "tau_refrac": 0.1, "tau_syn_E": 5.0, "tau_syn_I": 5.0, "v_rest": -65.0,
       "v_reset": -65.0, "v_thresh": -50.0, "i_offset": 0.0}
LIF_INITIAL = {"v": -65.0, "isyn_exc": 0.0, "isyn_inh": 0.0}
E_TO_CELLS = [(0, 0), (2, 0), (1, 1), (3, 1)]  # (E cell, NEURON cell), by target as PyNN orders them
W_CELLS, D_CELLS = 0.1, 2.0  # uS, ms
W_IN, D_IN, GAIN = 1.0, 1.0, 4000.0  # the scaffold's drive: nA, ms, Hz per unit of coupling


class BallStick:
    """HH soma + passive dendrite, excitatory ExpSyn on the dendrite."""

    def __init__(self):
        self.soma = h.Section(name="soma", cell=self)
        self.soma.L = self.soma.diam = 20.0
        self.soma.insert("hh")
        self.dend = h.Section(name="dend", cell=self)
        self.dend.L, self.dend.diam, self.dend.nseg = 200.0, 2.0, 3
        self.dend.insert("pas")
        self.dend.connect(self.soma(1))
        self.syns = [h.ExpSyn(self.dend(0.5))]
        self.syns[0].tau = 2.0


def threshold_field(s):
    """mV added to I's threshold: lower as R2's gating S_e rises."""
    return -20.0 * s


def current_field(v):
    """nA added to E: more as the NEURON cells depolarise from rest."""
    return 0.02 * (v + 65.0)


def pynn_model():
    """The model as a PyNN script (session left open: the caller runs and ends it)."""
    import neurohybrid.pynn as sim
    sim.setup(timestep=DT, seed=5)
    brain = sim.WholeBrain(sim.Connectome.synthetic(4, seed=1), model=sim.ReducedWongWangExcInh(G=0.5),
                           coupling=sim.LinearCoupling(a=1.0), exchange=1.0, label="brain")
    E = sim.Population(N_E, sim.IF_curr_exp(), label="E")
    I = sim.Population(N_I, sim.IF_curr_exp(), label="I")
    cells = sim.Population(N_CELLS, sim.NeuronCell(BallStick, receptors={"exc": "syns"}), label="cells")
    sim.Projection(E, cells, sim.FromListConnector(E_TO_CELLS), sim.StaticSynapse(weight=W_CELLS, delay=D_CELLS),
                   receptor_type="exc", label="E->cells")
    brain.replace("R1", [E, I], inputs=sim.rates_to_spikes("poisson", weight=W_IN, delay=D_IN, gain=GAIN),
                  output=sim.spikes_to_rates("box"))
    brain.modulate(I, "R2", "S_e", modulates="threshold", fn=threshold_field, field="tone")
    sim.modulate(E, cells, proxy="mean_v:soma", modulates="current", fn=current_field, field="soma_v", delay=1.0)
    cells.record("spikes")
    brain.record(["S_e"], sampling_interval=1.0)
    return sim


def graph_model():
    """The same model built directly as a model graph."""
    from neurohybrid.backends.meanfield import Connectome, HeunDeterministic, Linear, ReducedWongWangExcInh
    from neurohybrid.backends.meanfield import TemporalAverage
    from neurohybrid.backends.neuron import NeuronCellBuilder
    from neurohybrid.graph import (FieldNode, ModelGraph, PopulationNode, ProjectionEdge, RatesToSpikesNode,
                                   RecordingSpec, ScaffoldNode, SpikesToRatesNode)

    g = ModelGraph(dt=DT, seed=5)
    for name, n in (("E", N_E), ("I", N_I)):
        g.nodes[name] = PopulationNode(name, "IF_curr_exp", n, {k: np.full(n, v) for k, v in LIF.items()},
                                       {k: np.full(n, v) for k, v in LIF_INITIAL.items()})
    g.nodes["cells"] = PopulationNode(
        "cells", "NeuronCell", N_CELLS, {}, {"v": np.full(N_CELLS, -65.0)}, kind="biophysical", engine="neuron",
        cell=NeuronCellBuilder(BallStick, parameters={}, spike_location="soma(0.5)", threshold=-10.0,
                               receptors={"exc": "syns"}, locations={"soma": "soma(0.5)"}, label="cells"))
    g.nodes["R1.inputs"] = PopulationNode("R1.inputs", "SpikeSourceExternal", N_E + N_I, {}, {}, kind="source")
    pre, post = (np.array(x, np.uint16) for x in zip(*E_TO_CELLS))
    g.edges.append(_edge("E->cells[E->cells]", "E", "cells", "exc", pre, post, W_CELLS, D_CELLS, constant=False))
    for name, lo, n in (("E", 0, N_E), ("I", N_E, N_I)):
        g.edges.append(_edge(f"R1.inputs->{name}[R1.inputs->{name}]", "R1.inputs", name, "excitatory",
                             np.arange(lo, lo + n, dtype=np.uint16), np.arange(n, dtype=np.uint16), W_IN, D_IN))
    for name, n in (("E", N_E), ("I", N_I), ("cells", N_CELLS)):
        g.recordings.append(RecordingSpec(name, "spikes", np.arange(n)))

    scaffold = g.add_module(ScaffoldNode(
        "brain", Connectome.synthetic(4, seed=1), ReducedWongWangExcInh(G=0.5), Linear(a=1.0), HeunDeterministic(),
        speed=3.0, dt=DT, monitors=[TemporalAverage(period=1.0, variables=("S_e",), name="tavg0")], exchange=1.0))
    drive = g.add_module(RatesToSpikesNode("R1.drive", N_E + N_I, "poisson", gain=GAIN, stream="R1.inputs"))
    rates = g.add_module(SpikesToRatesNode("R1.rates", [N_E, N_I], "box"))
    g.connect(scaffold.name, "afferent:R1", drive.name, "rates")
    g.connect(drive.name, "spikes", "R1.inputs", "spikes")
    g.connect("E", "spikes", rates.name, "spikes")
    g.connect("I", "spikes", rates.name, "spikes")
    g.connect(rates.name, "rates", scaffold.name, "rates:R1")
    g.add_module(FieldNode("tone", threshold_field))
    g.connect(scaffold.name, "state:R2.S_e", "tone", "in")
    g.connect("tone", "field", "I", "field:threshold")
    g.add_module(FieldNode("soma_v", current_field, delay=1.0))
    g.connect("cells", "proxy:mean_v:soma", "soma_v", "in")
    g.connect("soma_v", "field", "E", "field:current")
    return g


def _edge(name, pre, post, receptor, pre_index, post_index, weight, delay, constant=True):
    from neurohybrid.graph import ProjectionEdge
    n = pre_index.size
    # constant values as zero-stride arrays (one value however many synapses, as a one-to-one
    # rule makes them); a list of connections has one value per synapse
    spread = (lambda v: np.broadcast_to(float(v), (n,))) if constant else (lambda v: np.full(n, float(v)))
    values = {"weight": spread(weight), "delay": spread(delay)}
    return ProjectionEdge(name, pre, post, receptor, "StaticSynapse", pre_index, post_index, values)
