"""A thalamocortical loop split across engines: the cortex on the Loihi path, the thalamus on the host.

The cortical E/I circuit is made of IF_curr_exp cells with equal synaptic time constants, which
have a faithful Loihi 2 form: it runs in Loihi fixed-point arithmetic (the fixed-point emulator,
or Lava with ``--backend lava``). Thalamocortical relay cells are Izhikevich neurons with the
parameters of Izhikevich (2003, Fig. 2, "thalamo-cortical"), which Loihi's LIF cannot run: the
partition places them on the float emulator on the host, says why (``sim.placement()``), and
carries the spikes both ways through the co-simulation kernel, each one arriving exactly its
synaptic delay after it was emitted.

Writes ``thalamocortical.png`` (raster coloured by engine, population rates) and
``thalamocortical.h5`` (spikes, manifest with the placement).

    python examples/thalamocortical_placement.py [--duration 1000] [--backend emulator|lava] [--output DIR]
"""
from __future__ import annotations

import argparse
import os
import warnings

import numpy as np

import neurohybrid.pynn as sim
from neurohybrid.errors import LavaUnavailableWarning

CORTEX = dict(cm=0.25, tau_m=20.0, v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0, tau_refrac=2.0,
              tau_syn_E=5.0, tau_syn_I=5.0, i_offset=0.15)
TC = dict(a=0.02, b=0.25, c=-65.0, d=0.05, i_offset=0.0)  # Izhikevich (2003) Fig. 2, thalamo-cortical
N_E, N_I, N_TC = 400, 100, 50


def build(backend: str, path: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LavaUnavailableWarning)
        if backend == "lava":
            sim.setup(timestep=0.1, seed=7, backend="lava", recording_path=path)
        else:
            sim.setup(timestep=0.1, seed=7, numerics="fixed", recording_path=path)
    rng = sim.NumpyRNG(seed=11)
    exc = sim.Population(N_E, sim.IF_curr_exp(**CORTEX), label="cortex E")
    inh = sim.Population(N_I, sim.IF_curr_exp(**CORTEX), label="cortex I")
    tc = sim.Population(N_TC, sim.Izhikevich(**TC), initial_values={"v": -65.0, "u": -16.25}, label="thalamus TC")
    drive = sim.Population(N_TC, sim.SpikeSourcePoisson(rate=30.0), label="sensory drive")
    cortex = exc + inh
    sim.Projection(drive, tc, sim.OneToOneConnector(), sim.StaticSynapse(weight=4.0, delay=1.0))
    sim.Projection(tc, cortex, sim.FixedProbabilityConnector(0.2, rng=rng), sim.StaticSynapse(weight=0.1, delay=2.0))
    sim.Projection(exc, cortex, sim.FixedProbabilityConnector(0.1, rng=rng), sim.StaticSynapse(weight=0.01, delay=1.0))
    sim.Projection(inh, cortex, sim.FixedProbabilityConnector(0.1, rng=rng), sim.StaticSynapse(weight=-0.05, delay=1.0),
                   receptor_type="inhibitory")
    sim.Projection(exc, tc, sim.FixedProbabilityConnector(0.1, rng=rng), sim.StaticSynapse(weight=0.5, delay=5.0))
    for p in (exc, inh, tc):
        p.record("spikes")
    return exc, inh, tc


def draw(path: str, trains: dict, placement: dict, duration: float) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    colours = {"lava": "tab:red", "emulator-fixed": "tab:red", "emulator": "tab:blue"}
    fig, (ax, bx) = plt.subplots(2, 1, figsize=(9, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    offset = 0
    for label, cells in trains.items():
        where = placement[label]["engine"]
        for i, t in enumerate(cells):
            ax.plot(t, np.full(t.size, offset + i), "|", ms=2, color=colours.get(where, "k"))
        ax.text(duration * 1.01, offset + len(cells) / 2, f"{label}\n({where})", va="center", fontsize=8)
        offset += len(cells)
        counts, edges = np.histogram(np.concatenate(cells) if cells else [], bins=np.arange(0, duration + 5, 5))
        bx.plot(edges[:-1], counts / len(cells) / 0.005, label=label)
    ax.set_ylabel("cell")
    ax.set_title("Cortex on the Loihi path (red), thalamus on the host emulator (blue)")
    bx.set_xlabel("time (ms)")
    bx.set_ylabel("rate (Hz)")
    bx.legend(fontsize=8, loc="upper right")
    fig.subplots_adjust(left=0.08, right=0.84, top=0.94, bottom=0.08, hspace=0.08)
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=1000.0)
    ap.add_argument("--backend", choices=["emulator", "lava"], default="emulator")
    ap.add_argument("--output", default=".")
    args = ap.parse_args()
    os.makedirs(args.output, exist_ok=True)
    pops = build(args.backend, os.path.join(args.output, "thalamocortical.h5"))
    placement = sim.placement()
    sim.run(args.duration)
    trains = {p.label: [np.asarray(t.magnitude) for t in p.get_data().segments[0].spiketrains] for p in pops}
    for label, cells in trains.items():
        rate = sum(t.size for t in cells) / len(cells) / (args.duration / 1000.0)
        print(f"{label}: {rate:.1f} Hz on {placement[label]['engine']}")
    sim.end()
    draw(os.path.join(args.output, "thalamocortical.png"), trains, placement, args.duration)
    print("outputs:", os.path.join(args.output, "thalamocortical.png"))


if __name__ == "__main__":
    main()
