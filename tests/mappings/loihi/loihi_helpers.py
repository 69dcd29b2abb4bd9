"""Helpers for the Loihi mapping tests: hand-built model graphs and a fixed-point runner."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from pyNN.standardmodels import cells

from neurohybrid.backends.emulator.fixed import FixedConnection, FixedPointNetwork
from neurohybrid.graph import ModelGraph, PopulationNode, ProjectionEdge


def node(name: str, model: str, n: int = 1, initial: dict | None = None, **params) -> PopulationNode:
    """A population node of PyNN ``model`` with PyNN's defaults overridden by ``params``."""
    base = getattr(cells, model)
    values = dict(base.default_parameters)
    values.update(params)
    kind = "source" if model.startswith("SpikeSource") else "point"
    arrays = {k: np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy() for k, v in values.items()
              if k != "spike_times"}
    init = {}
    if kind == "point":
        init = {k: np.full(n, float(v)) for k, v in base.default_initial_values.items()}
        for k, v in (initial or {}).items():
            init[k] = np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy()
    return PopulationNode(name, model, n, arrays, init, kind=kind)


def edge(name, pre, post, pre_index, post_index, weight, delay, receptor="excitatory", synapse="StaticSynapse",
         **extra) -> ProjectionEdge:
    """An edge; scalar weight/delay become zero-stride arrays, as the front end makes them."""
    pre_index = np.asarray(pre_index, dtype=np.uint32)
    post_index = np.asarray(post_index, dtype=np.uint32)
    n = pre_index.size

    def arr(v):
        v = np.asarray(v, dtype=float)
        return np.broadcast_to(v, (n,)) if v.ndim == 0 else v

    values = {"weight": arr(weight), "delay": arr(delay), **{k: arr(v) for k, v in extra.items()}}
    return ProjectionEdge(name, pre, post, receptor, synapse, pre_index, post_index, values)


def graph(nodes, edges=(), dt=0.1, currents=()) -> ModelGraph:
    g = ModelGraph(dt=dt, seed=1)
    for n in nodes:
        g.nodes[n.name] = n
    g.edges.extend(edges)
    g.currents.extend(currents)
    return g


def run_fixed(circuit, n_steps: int, inputs: dict | None = None):
    """Run ``circuit`` on the bit-exact fixed-point kernel; returns ({pop: spikes[n_steps, n]},
    {pop: v[n_steps, n] in mV}). ``inputs``: {input name: bool [n_steps, size]}, row k = the
    input spikes emitted in step k."""
    pops = list(circuit.populations.values())
    offsets, total = {}, 0
    for p in pops:
        offsets[p.name] = total
        total += p.size
    in_offsets, n_in = {}, 0
    for name, i in circuit.inputs.items():
        in_offsets[name] = n_in
        n_in += i.size
    cat = lambda attr: np.concatenate([getattr(p, attr) for p in pops])
    conns = []
    for prj in circuit.projections:
        post0 = offsets[prj.post]
        if prj.pre in offsets:
            src, pre0, n_src = "network", offsets[prj.pre], total
        else:
            src, pre0, n_src = "input", in_offsets[prj.pre], n_in
        rows = np.asarray(prj.rows, np.int64) + post0
        cols = np.asarray(prj.cols, np.int64) + pre0
        w = sp.csr_matrix((np.asarray(prj.weights, np.int64), (rows, cols)), shape=(total, n_src))
        d = sp.csr_matrix((np.asarray(prj.delays, np.int64), (rows, cols)), shape=(total, n_src))
        conns.append(FixedConnection(w, d, prj.weight_exp, prj.num_weight_bits, prj.sign_mode, src))
    net = FixedPointNetwork(total, du=cat("du"), dv=cat("dv"), vth=cat("vth"), bias_mant=cat("bias_mant"),
                            bias_exp=cat("bias_exp"), refractory_period=cat("refractory"), u0=cat("u0"),
                            v0=cat("v0"), connections=conns, n_inputs=n_in)
    inp = np.zeros((n_steps, n_in), bool)
    for name, spikes in (inputs or {}).items():
        inp[:, in_offsets[name]:in_offsets[name] + circuit.inputs[name].size] = spikes
    rec = net.run(n_steps, inp)
    spikes = {p.name: rec.spikes[:, offsets[p.name]:offsets[p.name] + p.size] for p in pops}
    v = {p.name: rec.v[:, offsets[p.name]:offsets[p.name] + p.size] / p.scale + p.v_rest for p in pops}
    return spikes, v
