"""A hybrid brain model built directly as a model graph, run by the runtime: no PyNN anywhere.

The graph holds the whole federation (neurohybrid.graph, neurohybrid.graph.hybrid):

- a whole-brain scaffold of 4 regions (Reduced Wong-Wang, excitatory-inhibitory; Deco et al.
  2014) whose region R1 is replaced by a spiking E/I circuit of IF_curr_exp cells: R1's
  coupling input becomes Poisson drive (a rates->spikes converter), the circuit's spikes become
  R1's rates (a spikes->rates converter);
- two NEURON ball-and-stick cells (Hodgkin-Huxley soma, passive dendrite) driven by E;
- two fields: region R2's gating S_e lowers I's threshold, the NEURON cells' somatic potential
  adds current to E.

Links between typed ports (spikes, rates, fields) say how data flows; the runtime places every
node (E, I on the float emulator, the cells on NEURON, the scaffold on the mean-field engine),
derives the co-simulation's links and their delays, runs it and records into one HDF5 store.
tests/runtime checks that the same model written as a PyNN script gives the same spikes.

Writes ``graph_hybrid.png`` (raster by engine, R1's rates next to the scaffold's S_e) and
``graph_hybrid.h5``.

    python examples/graph_hybrid.py [--duration 200] [--output DIR]
"""
from __future__ import annotations

import argparse
import os

import numpy as np
from neuron import h

from neurohybrid.backends.meanfield import (Connectome, HeunDeterministic, Linear, ReducedWongWangExcInh,
                                            TemporalAverage)
from neurohybrid.backends.neuron import NeuronCellBuilder
from neurohybrid.graph import (FieldNode, ModelGraph, PopulationNode, ProjectionEdge, RatesToSpikesNode, RecordingSpec,
                               ScaffoldNode, SpikesToRatesNode)
from neurohybrid.runtime import Runtime

DT = 0.1  # ms
N_E, N_I, N_CELLS = 40, 10, 2
LIF = {"cm": 1.0, "tau_m": 20.0, "tau_refrac": 0.1, "tau_syn_E": 5.0, "tau_syn_I": 5.0, "v_rest": -65.0,
       "v_reset": -65.0, "v_thresh": -50.0, "i_offset": 0.0}  # nF, ms, mV, nA
LIF_INITIAL = {"v": -65.0, "isyn_exc": 0.0, "isyn_inh": 0.0}
E_TO_CELLS = [(0, 0), (2, 0), (1, 1), (3, 1)]  # (E cell, NEURON cell), ordered by target
W_CELLS, D_CELLS = 0.3, 2.0  # uS, ms
W_IN, D_IN, GAIN = 0.35, 1.0, 1000.0  # the scaffold's drive: nA, ms, Hz per unit of coupling


class BallStick:
    """HH soma (20 um) + passive dendrite (200 um), an excitatory ExpSyn (2 ms) on the dendrite."""

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
    """mV added to I's threshold: lower as R2's gating S_e (dimensionless) rises."""
    return -20.0 * s


def current_field(v):
    """nA added to E: more as the NEURON cells' soma (mV) depolarises from rest."""
    return 0.02 * (v + 65.0)


def _edge(name, pre, post, receptor, pre_index, post_index, weight, delay, constant=True):
    n = pre_index.size
    # constant values as zero-stride arrays (one value however many synapses, as a one-to-one
    # rule makes them); a list of connections has one value per synapse
    spread = (lambda v: np.broadcast_to(float(v), (n,))) if constant else (lambda v: np.full(n, float(v)))
    return ProjectionEdge(name, pre, post, receptor, "StaticSynapse", pre_index, post_index,
                          {"weight": spread(weight), "delay": spread(delay)})


def build_graph(seed: int = 5) -> ModelGraph:
    """The hybrid model (module docstring) as a model graph."""
    g = ModelGraph(dt=DT, seed=seed)
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


def plot(path, spikes, rates, s_e, duration):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    offset = 0
    for name, colour, where in (("E", "tab:red", "float emulator"), ("I", "tab:blue", "float emulator"),
                                ("cells", "tab:green", "NEURON")):
        t, i = spikes[name]
        ax1.scatter(t, i + offset, s=2, color=colour, label=f"{name} ({where})")
        offset += {"E": N_E, "I": N_I, "cells": N_CELLS}[name]
    ax1.set_ylabel("cell")
    ax1.legend(loc="upper right", fontsize=8, markerscale=4)
    ax1.set_title("A hybrid model built as a graph: R1 of the scaffold replaced by a spiking circuit")
    t = np.arange(rates.shape[0]) * DT
    window = np.ones(int(round(10.0 / DT))) / round(10.0 / DT)  # 10 ms average of the per-step rates
    for k, (name, colour) in enumerate((("E", "tab:red"), ("I", "tab:blue"))):
        ax2.plot(t, np.convolve(rates[:, k], window, mode="same"), color=colour, lw=1.0,
                 label=f"R1 rate from {name} (Hz, 10 ms mean)")
    ax2.set_ylabel("rate (Hz)")
    ax3 = ax2.twinx()
    ts = 0.5 + np.arange(s_e.shape[0])
    for k, style in zip(range(s_e.shape[1]), ("-", "--", ":", "-.")):
        ax3.plot(ts, s_e[:, k], "k" + style, lw=0.8, label=f"S_e R{k}")
    ax3.set_ylabel("S_e (scaffold)")
    ax2.set_xlabel("time (ms)")
    ax2.set_xlim(0, duration)
    ax2.legend(loc="upper left", fontsize=7)
    ax3.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=200.0, help="ms")
    ap.add_argument("--output", default=".")
    args = ap.parse_args()
    os.makedirs(args.output, exist_ok=True)
    graph = build_graph()
    rt = Runtime(graph, path=os.path.join(args.output, "graph_hybrid.h5"), neuron={"dt": 0.025, "celsius": 6.3})
    rt.run(args.duration)
    for name, p in rt.partition.placement.items():
        print(f"{name:10s} -> {p.engine:9s} ({p.reason})")
    spikes = {name: rt.spikes(name) for name in ("E", "I", "cells")}
    rates = rt.signal("R1.rates", "rate")["samples"]
    s_e = rt.signal("brain", "S_e")["samples"]
    for name, n in (("E", N_E), ("I", N_I), ("cells", N_CELLS)):
        print(f"{name}: {spikes[name][0].size / (n * args.duration * 1e-3):.1f} Hz")
    print(f"R1 rates from the circuit: E {rates[:, 0].mean():.1f} Hz, I {rates[:, 1].mean():.1f} Hz; "
          f"scaffold S_e at the end: {np.round(s_e[-1], 3).tolist()}")
    rt.close()
    out = os.path.join(args.output, "graph_hybrid.png")
    plot(out, spikes, rates, s_e, args.duration)
    print(f"outputs: {out}, {os.path.join(args.output, 'graph_hybrid.h5')}")


if __name__ == "__main__":
    main()
