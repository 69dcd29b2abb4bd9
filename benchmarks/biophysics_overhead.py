"""Biophysics overhead: 100 multi-compartment cells on NEURON, standalone versus inside a hybrid
run with a 10,000-neuron emulator circuit (target: the NEURON part's wall time inside the hybrid
<= 1.2x standalone).

The cells: 100 reduced L5 pyramidal cells of examples/l5pc (87 segments each, Na/K, HVA Ca, SK,
Ca decay; NEURON dt 0.025 ms). Their input: 1000 Poisson spike trains (10 Hz, pregenerated with
numpy, seed 1) and a fixed random wiring (every cell: 20 trains on basal AMPA synapses, 10 on
tuft AMPA synapses, delay 1.5 ms). 1 s of biological time.

* standalone (a fresh process, plain NEURON, no neurohybrid): the cells built from the class,
  one ``NetCon`` per connection with its train's spikes queued as events (``NetCon.event``), spike detectors on the somata;
  ``h.finitialize(-70)`` + ``h.continuerun(1000)`` timed;
* hybrid (a fresh process): a neurohybrid session with the Brunel (2000) network of 10,000
  neurons (benchmarks/brunel.py: 8000 E + 2000 I, IF_curr_delta, on the emulator) plus the 100
  cells as ``sim.NeuronCell(L5PC, ...)``, the same trains in a ``SpikeSourceArray`` population
  wired by ``FromListConnector`` with the same lists, and spikes both ways (Brunel E -> L5 basal,
  p = 0.01; L5 -> Brunel E and I, p = 0.1, 0.1 mV; delays 1.5 ms). The NEURON part's wall time is
  the time spent in ``NeuronEngine.advance`` (event delivery, NEURON integration, reading the
  spikes back), accumulated by wrapping that method; the build (``sim.run(0)``) is not timed.

ratio = NEURON time inside the hybrid / standalone time; each is the fastest of ``--repeats``.

    .venv/bin/python benchmarks/biophysics_overhead.py [--duration 1000] [--repeats 2]

The last line printed is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "output")
N_CELLS, N_TRAINS, RATE = 100, 1000, 10.0
N_BASAL, N_TUFT, W_BASAL, W_TUFT, DELAY = 20, 10, 0.002, 0.0015, 1.5
N_CIRCUIT = 10_000
TARGET = 1.2


def inputs(duration: float, seed: int = 1):
    """Poisson trains (list of arrays, ms) and the wiring: lists of (train, cell) for basal and tuft."""
    rng = np.random.default_rng(seed)
    trains = []
    for _ in range(N_TRAINS):
        n = rng.poisson(RATE * duration / 1000.0)
        t = np.sort(rng.uniform(0.0, duration, n))
        trains.append(np.unique(np.round(t, 1)[np.round(t, 1) > 0.1]))  # on the 0.1 ms grid, > 0
    basal = [(int(j), i) for i in range(N_CELLS) for j in rng.choice(N_TRAINS, N_BASAL, replace=False)]
    tuft = [(int(j), i) for i in range(N_CELLS) for j in rng.choice(N_TRAINS, N_TUFT, replace=False)]
    return trains, basal, tuft


def run_standalone(duration: float) -> dict:
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    import l5pc
    from neuron import h
    t0 = time.perf_counter()
    l5pc.load_mechanisms()
    h.load_file("stdrun.hoc")
    trains, basal, tuft = inputs(duration)
    cells = [l5pc.L5PC(gid=i) for i in range(N_CELLS)]
    ncs = []  # one NetCon per connection, its train's spikes queued as events at finitialize
    for wiring, attr, w in ((basal, "ampa_basal", W_BASAL), (tuft, "ampa_tuft", W_TUFT)):
        for k, (j, i) in enumerate(wiring):
            syns = getattr(cells[i], attr)
            nc = h.NetCon(None, syns[k % len(syns)])
            nc.weight[0], nc.delay = w, DELAY
            ncs.append((nc, trains[j] + DELAY))

    def queue():
        for nc, times in ncs:
            for t in times:
                nc.event(t)

    fih = h.FInitializeHandler(queue)  # noqa: F841
    spikes = h.Vector()
    ids = h.Vector()
    dets = []
    for i, c in enumerate(cells):
        d = h.NetCon(c.soma(0.5)._ref_v, None, sec=c.soma)
        d.threshold = -10.0
        d.record(spikes, ids, i)
        dets.append(d)
    h.dt = 0.025
    h.steps_per_ms = 40
    t1 = time.perf_counter()
    h.finitialize(-70.0)
    h.continuerun(duration)
    t2 = time.perf_counter()
    return {"build_s": t1 - t0, "neuron_s": t2 - t1, "spikes": int(spikes.size()),
            "segments_per_cell": cells[0].n_segments(), "connections": len(ncs)}


def run_hybrid(duration: float) -> dict:
    sys.path.insert(0, HERE)
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    import brunel
    import neurohybrid.pynn as sim
    from neurohybrid.backends.neuron import NeuronEngine
    from l5pc import LOCATIONS, RECEPTORS, L5PC

    spent = {"s": 0.0, "calls": 0}
    advance = NeuronEngine.advance

    def timed(self, t_stop):
        t = time.perf_counter()
        try:
            return advance(self, t_stop)
        finally:
            spent["s"] += time.perf_counter() - t
            spent["calls"] += 1

    NeuronEngine.advance = timed
    t0 = time.perf_counter()
    exc, inh, noise, both = brunel.build_network(sim, N_CIRCUIT, threads=1)
    trains, basal, tuft = inputs(duration)
    cell = sim.NeuronCell(L5PC, mechanisms=os.path.join(ROOT, "examples", "l5pc"), receptors=RECEPTORS,
                          locations=LOCATIONS)
    l5 = sim.Population(N_CELLS, cell, label="L5")
    l5.initialize(v=-70.0)
    src = sim.Population(N_TRAINS, sim.SpikeSourceArray(spike_times=trains), label="trains")
    for wiring, receptor, w in ((basal, "AMPA_basal", W_BASAL), (tuft, "AMPA_tuft", W_TUFT)):
        sim.Projection(src, l5, sim.FromListConnector(wiring), sim.StaticSynapse(weight=w, delay=DELAY),
                       receptor_type=receptor, label=receptor)
    rng = sim.NumpyRNG(seed=5)
    sim.Projection(exc, l5, sim.FixedProbabilityConnector(0.01, rng=rng), sim.StaticSynapse(weight=0.0002, delay=DELAY),
                   receptor_type="AMPA_basal", label="E->L5")
    sim.Projection(l5, both, sim.FixedProbabilityConnector(0.1, rng=rng),
                   sim.StaticSynapse(weight=brunel.PARAMS["J"], delay=DELAY), receptor_type="excitatory",
                   label="L5->EI")
    l5.record("spikes")
    exc[:1000].record("spikes")
    sim.run(0.0)
    build = time.perf_counter() - t0
    spent["s"], spent["calls"] = 0.0, 0
    t1 = time.perf_counter()
    sim.run(duration)
    wall = time.perf_counter() - t1
    n_l5 = int(sum(l5.get_spike_counts().values()))
    rate_e = sum(exc[:1000].get_spike_counts().values()) / 1000 / (duration / 1000.0)
    exchange = getattr(sim.simulator.state.network.partition, "exchange", None)
    sim.end()
    return {"build_s": build, "hybrid_wall_s": wall, "neuron_s": spent["s"], "advance_calls": spent["calls"],
            "spikes": n_l5, "circuit_rate_hz": rate_e, "exchange_ticks": exchange}


def child(part: str, duration: float) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", part, "--duration", str(duration)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, NUMBA_NUM_THREADS="1",
                                                                        OMP_NUM_THREADS="1"))
    if proc.returncode != 0:
        raise RuntimeError(f"{part} run failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=1000.0)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--child", choices=("standalone", "hybrid"))
    args = ap.parse_args(argv)
    if args.child:
        out = (run_standalone if args.child == "standalone" else run_hybrid)(args.duration)
        print(json.dumps(out))
        return
    alone = [child("standalone", args.duration) for _ in range(args.repeats)]
    hyb = [child("hybrid", args.duration) for _ in range(args.repeats)]
    a = min(alone, key=lambda r: r["neuron_s"])
    b = min(hyb, key=lambda r: r["neuron_s"])
    ratio = b["neuron_s"] / a["neuron_s"]
    print(f"standalone NEURON: {N_CELLS} cells x {a['segments_per_cell']} segments, {args.duration:g} ms in "
          f"{a['neuron_s']:.2f} s ({a['spikes']} spikes; runs {[round(r['neuron_s'], 2) for r in alone]})")
    print(f"hybrid: NEURON part {b['neuron_s']:.2f} s in {b['advance_calls']} windows of {b['exchange_ticks']} ticks "
          f"(runs {[round(r['neuron_s'], 2) for r in hyb]}); whole hybrid {b['hybrid_wall_s']:.2f} s with the "
          f"{N_CIRCUIT}-neuron circuit at {b['circuit_rate_hz']:.1f} Hz; L5 spikes {b['spikes']}")
    print(f"ratio {ratio:.3f} (target <= {TARGET})")
    print(json.dumps({"benchmark": "biophysics_overhead", "ratio": ratio, "target": TARGET, "met": ratio <= TARGET,
                      "duration_ms": args.duration, "cells": N_CELLS, "segments_per_cell": a["segments_per_cell"],
                      "circuit_neurons": N_CIRCUIT, "standalone": alone, "hybrid": hyb}))


if __name__ == "__main__":
    main()
