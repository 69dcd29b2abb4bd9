"""Generate the NEST 3.10 references of ``test_more_cell_types.py``: the same PyNN scenarios run
through pyNN.nest (so NEST's own models: ``iaf_cond_exp_sfa_rr``, ``iaf_cond_exp`` for
IF_facets_hardware1, ``gif_cond_exp``, ``iaf_psc_exp_multisynapse``, ``aeif_cond_alpha_multisynapse``).

Run once with the project's venv (``make bench`` installs NEST)::

    python tests/pynn/make_cell_references.py

It writes ``nest_cell_references.json`` beside this file: per scenario, each recorded cell's
spike times (ms) and v (mV) at ``V_SAMPLES`` (ms), or, for the stochastic GIF population, the
total spike count. The scenario functions are shared with the test, which runs them on
neurohybrid.pynn.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

DT = 0.1
T_STOP = 300.0
V_SAMPLES = (5.0, 25.0, 48.3, 75.0, 102.1, 150.0, 199.9, 240.0, 280.0)
OUT = Path(__file__).with_name("nest_cell_references.json")

_EXC = [10.0, 11.0, 12.0, 13.0, 14.0, 90.3, 150.5, 151.0, 151.5, 270.0, 270.4]
_INH = [30.0, 120.7, 180.1, 182.3, 260.0]


def _drive(sim, cells, exc_w, inh_w, receptors=("excitatory", "inhibitory"), amp=0.0):
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[_EXC, _INH]), label="drive")
    sim.Projection(src[0:1], cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=exc_w, delay=1.0),
                   receptor_type=receptors[0])
    sim.Projection(src[1:2], cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=inh_w, delay=1.0),
                   receptor_type=receptors[1])
    if amp:
        sim.DCSource(amplitude=amp, start=50.0, stop=250.0).inject_into(cells)


def gsfa_grr(sim):
    cells = sim.Population(1, sim.IF_cond_exp_gsfa_grr(tau_refrac=2.0, q_sfa=20.0, q_rr=2000.0, tau_rr=3.0),
                           initial_values={"v": -65.0}, label="gsfa_grr")
    _drive(sim, cells, 0.05, 0.06, amp=1.1)
    return cells


def facets(sim):
    cells = sim.Population(1, sim.IF_facets_hardware1(g_leak=20.0, tau_syn_E=5.0, v_thresh=-58.0),
                           initial_values={"v": -65.0}, label="facets")
    _drive(sim, cells, 0.02, 0.01)
    return cells


def lif_multi(sim):
    celltype = sim.PointNeuron(sim.LIF(tau_m=10.0, v_rest=-60.0, v_thresh=-52.0, tau_refrac=2.0, cm=0.25),
                               AMPA=sim.CurrExpPostSynapticResponse(tau_syn=1.0),
                               GABAA=sim.CurrExpPostSynapticResponse(tau_syn=3.5),
                               NMDA=sim.CurrExpPostSynapticResponse(tau_syn=20.0))
    cells = sim.Population(1, celltype, initial_values={"v": -60.0}, label="lif_multi")
    _drive(sim, cells, 0.8, -0.6, receptors=("AMPA", "GABAA"), amp=0.45)
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[[60.0, 61.0, 200.0]]), label="nmda")
    sim.Projection(src, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.2, delay=2.0), receptor_type="NMDA")
    return cells


def adexp_multi(sim):
    celltype = sim.PointNeuron(sim.AdExp(tau_m=10.0, v_rest=-60.0, tau_refrac=1.0),
                               AMPA=sim.AlphaPSR(tau_syn=1.0, e_syn=0.0),
                               GABAA=sim.AlphaPSR(tau_syn=1.5, e_syn=-70.0),
                               NMDA=sim.AlphaPSR(tau_syn=20.0, e_syn=0.0))
    cells = sim.Population(1, celltype, initial_values={"v": -60.0}, label="adexp_multi")
    _drive(sim, cells, 0.03, 0.05, receptors=("AMPA", "GABAA"), amp=0.4)
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[[60.0, 200.0]]), label="nmda")
    sim.Projection(src, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.01, delay=2.0), receptor_type="NMDA")
    return cells


_GIF = dict(v_rest=-65.0, cm=1.0, tau_m=20.0, tau_refrac=4.0, v_reset=-65.0, v_t_star=-55.0, lambda0=1.0,
            tau_eta=(1.0, 10.0, 100.0), tau_gamma=(1.0, 10.0, 100.0))


def gif_deterministic(sim):
    """PyNN's gif_neuron.py example's first two cells: delta_v = 1e-6 mV makes firing certain as
    soon as v passes the threshold (and impossible below), so spike times are deterministic."""
    cells = sim.Population(2, sim.GIF_cond_exp(**_GIF, delta_v=1e-6, a_eta=[(0.1, 0.1, 0.1), (0.0, 0.0, 0.0)],
                                               a_gamma=[(0.0, 0.0, 0.0), (5.0, 5.0, 5.0)]),
                           initial_values={"v": -65.0, "v_t": -55.0}, label="gif")
    sim.DCSource(amplitude=0.6, start=20.0, stop=280.0).inject_into(cells)
    return cells


def gif_stochastic(sim):
    params = {**_GIF, "lambda0": 10.0}
    cells = sim.Population(400, sim.GIF_cond_exp(**params, delta_v=0.5, a_eta=(0.05, 0.05, 0.05),
                                                 a_gamma=(1.0, 1.0, 1.0)),
                           initial_values={"v": -65.0}, label="gif_stochastic")
    sim.DCSource(amplitude=0.55, start=20.0, stop=280.0).inject_into(cells)
    return cells


SCENARIOS = {"IF_cond_exp_gsfa_grr": gsfa_grr, "IF_facets_hardware1": facets,
             "PointNeuron(LIF+CurrExp)": lif_multi, "PointNeuron(AdExp+CondAlpha)": adexp_multi,
             "GIF_cond_exp/deterministic": gif_deterministic}
STOCHASTIC = {"GIF_cond_exp/stochastic": gif_stochastic}


def run(sim, scenario, record_v=True):
    """Run one scenario on ``sim``: ([spike times per cell], [v at V_SAMPLES per cell] or None)."""
    sim.setup(timestep=DT, min_delay=1.0)
    cells = scenario(sim)
    cells.record(["spikes", "v"] if record_v else "spikes")
    sim.run(T_STOP)
    seg = cells.get_data().segments[0]
    spikes = [np.asarray(st.magnitude, dtype=float).round(6).tolist() for st in seg.spiketrains]
    v = None
    if record_v:
        sig = seg.filter(name="v")[0]
        t = np.asarray(sig.times.magnitude)
        rows = [int(np.argmin(np.abs(t - s))) for s in V_SAMPLES]
        v = np.asarray(sig.magnitude)[rows].T.tolist()
    sim.end()
    return spikes, v


def main() -> None:
    import nest
    import pyNN.nest as sim
    # pyNN.nest 0.13 maps IF_cond_exp_gsfa_grr's variables as 'g_rr'/'g_sfa', but PyNN's standard
    # names (and default initial values) are 'g_r'/'g_s' (nS, NEST's units): without this, pyNN.nest
    # cannot even create the population
    gsfa = sim.IF_cond_exp_gsfa_grr
    gsfa.variable_map = {**gsfa.variable_map, "g_r": "g_rr", "g_s": "g_sfa"}
    gsfa.scale_factors = {**gsfa.scale_factors, "g_r": 1.0, "g_s": 1.0}
    refs = {"source": f"NEST {nest.__version__} through pyNN.nest, tests/pynn/make_cell_references.py",
            "v_samples_ms": list(V_SAMPLES)}
    for name, scenario in SCENARIOS.items():
        spikes, v = run(sim, scenario)
        refs[name] = {"spikes": spikes, "v": v}
    for name, scenario in STOCHASTIC.items():
        spikes, _ = run(sim, scenario, record_v=False)
        refs[name] = {"spike_count": int(sum(len(s) for s in spikes)), "cells": len(spikes)}
    OUT.write_text("{\n" + ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in refs.items()) + "\n}\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    sys.exit(main())
