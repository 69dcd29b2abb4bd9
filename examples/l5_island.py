"""An island of biophysical layer-5 pyramidal cells (NEURON) in a point-neuron cortical circuit
(emulator): BAC firing in the island changes the circuit's output.

The circuit: 800 excitatory and 200 inhibitory conductance-based LIF neurons (IF_cond_exp),
sparse recurrent connections and Poisson background, on the emulator. The island: 30 reduced
L5 pyramidal cells (examples/l5pc: soma, axon, basal dendrites, a tapering apical trunk with a
calcium hot zone near the bifurcation, a tuft; 87 segments, NMODL mechanisms compiled by
``nrnivmodl`` when the network is built), wrapped as they are with ``sim.NeuronCell``. Spikes
go both ways: circuit E cells excite the L5 basal dendrites, L5 cells excite the circuit's E and
I cells.

Protocol, three phases of equal length, a volley every 100 ms (25 ms after each phase start):

1. *basal*: a volley on the L5 basal dendrites (somatic drive): one AP per L5 cell;
2. *tuft*: a volley on the L5 tufts (distal drive) alone: subthreshold at the L5 somata;
3. *basal + tuft*: both, the tuft volley 2 ms after the basal one: the back-propagating AP
   meets the distal EPSP in the hot zone, a dendritic Ca spike fires and the L5 cells burst
   (BAC firing, Larkum et al. 1999); the bursts drive the circuit harder than single APs.

Writes ``l5_island.png`` (rasters, L5 soma and tuft voltages, evoked rates per phase) and
``l5_island.h5`` (spikes of every population, L5 voltages at soma and tuft).

    python examples/l5_island.py [--duration 600] [--output DIR]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import neurohybrid.pynn as sim

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from l5pc import LOCATIONS, RECEPTORS, L5PC  # noqa: E402

N_E, N_I, N_L5 = 800, 200, 30
CELL = dict(cm=0.2, tau_m=20.0, v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0, tau_refrac=2.0,
            tau_syn_E=5.0, tau_syn_I=10.0, e_rev_E=0.0, e_rev_I=-80.0)
P_CONN = 0.05
W_EE, W_EI_RATIO = 0.001, 6.0         # uS; inhibitory weight = ratio * W_EE
BACKGROUND, W_BG = 1000.0, 0.00055     # Hz of Poisson background per point neuron, uS
W_E_L5, P_E_L5 = 0.0002, 0.1          # circuit E -> L5 basal (uS per connection)
W_L5, P_L5 = 0.004, 0.3               # L5 -> E and I
N_VOLLEY, W_BASAL, W_TUFT = 20, 0.002, 0.0015   # volley inputs per L5 cell (each connection: one synapse)
TUFT_LAG = 2.0                        # ms, tuft volley after the basal one in phase 3
PERIOD, OFFSET, WINDOW = 100.0, 25.0, 50.0     # volley period, first volley in a phase, evoked window (ms)
PHASES = ("basal", "tuft", "basal + tuft")


def volley_times(duration: float) -> dict:
    """Volley times (ms) of each phase."""
    length = duration / 3
    out = {}
    for k, name in enumerate(PHASES):
        t = np.arange(k * length + OFFSET, (k + 1) * length - WINDOW + 1e-9, PERIOD)
        out[name] = t if t.size else np.array([k * length + min(OFFSET, length / 4)])
    return out


def build(duration: float):
    vt = volley_times(duration)
    E = sim.Population(N_E, sim.IF_cond_exp(**CELL), label="E")
    I = sim.Population(N_I, sim.IF_cond_exp(**CELL), label="I")
    EI = sim.Assembly(E, I)
    rng = sim.NumpyRNG(seed=11)
    EI.initialize(v=sim.RandomDistribution("uniform", (-65.0, -52.0), rng=rng))
    bg = sim.Population(N_E + N_I, sim.SpikeSourcePoisson(rate=BACKGROUND), label="background")
    sim.Projection(bg, EI, sim.OneToOneConnector(), sim.StaticSynapse(weight=W_BG, delay=0.1),
                   receptor_type="excitatory")
    sim.Projection(E, EI, sim.FixedProbabilityConnector(P_CONN, rng=rng), sim.StaticSynapse(weight=W_EE, delay=1.0),
                   receptor_type="excitatory")
    sim.Projection(I, EI, sim.FixedProbabilityConnector(P_CONN, rng=rng),
                   sim.StaticSynapse(weight=W_EI_RATIO * W_EE, delay=1.0), receptor_type="inhibitory")

    l5 = sim.NeuronCell(L5PC, mechanisms=os.path.join(HERE, "l5pc"), receptors=RECEPTORS, locations=LOCATIONS,
                        spike_location="soma(0.5)", threshold=-10.0)
    L5 = sim.Population(N_L5, l5, label="L5")
    L5.initialize(v=-70.0)
    basal_t = np.concatenate([vt["basal"], vt["basal + tuft"]])
    tuft_t = np.concatenate([vt["tuft"], vt["basal + tuft"] + TUFT_LAG])
    basal = sim.Population(N_VOLLEY, sim.SpikeSourceArray(spike_times=np.sort(basal_t)), label="basal_volley")
    tuft = sim.Population(N_VOLLEY, sim.SpikeSourceArray(spike_times=np.sort(tuft_t)), label="tuft_volley")
    sim.Projection(basal, L5, sim.AllToAllConnector(), sim.StaticSynapse(weight=W_BASAL, delay=1.0),
                   receptor_type="AMPA_basal", label="basal volley")
    sim.Projection(tuft, L5, sim.AllToAllConnector(), sim.StaticSynapse(weight=W_TUFT, delay=1.0),
                   receptor_type="AMPA_tuft", label="tuft volley")
    sim.Projection(E, L5, sim.FixedProbabilityConnector(P_E_L5, rng=rng), sim.StaticSynapse(weight=W_E_L5, delay=1.0),
                   receptor_type="AMPA_basal", label="E->L5")
    sim.Projection(L5, EI, sim.FixedProbabilityConnector(P_L5, rng=rng), sim.StaticSynapse(weight=W_L5, delay=1.0),
                   receptor_type="excitatory", label="L5->EI")
    for p in (E, I, L5):
        p.record("spikes")
    L5[:3].record("v", locations=["soma", "tuft"])
    return E, I, L5, vt


def evoked_rates(trains, times: np.ndarray, n: int) -> float:
    """Mean rate (Hz per cell) in the WINDOW ms after each volley."""
    spikes = np.concatenate([np.asarray(t, dtype=float) for t in trains]) if trains else np.empty(0)
    count = sum(int(np.sum((spikes >= t) & (spikes < t + WINDOW))) for t in times)
    return count / (n * len(times) * WINDOW / 1000.0)


def figure(data, vt, duration, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=(13, 9))
    colors = {"basal": "tab:blue", "tuft": "tab:green", "basal + tuft": "tab:red"}
    ax = fig.add_subplot(3, 2, (1, 2))
    offset = 0
    for label, color, step in (("E", "tab:red", 4), ("I", "tab:blue", 1), ("L5", "k", 1)):
        trains = data["spikes"][label]
        for i in range(0, len(trains), step):
            ax.plot(trains[i], np.full(len(trains[i]), offset), ".", ms=1.5 if label == "L5" else 0.8, color=color)
            offset += 1
        ax.text(duration * 1.005, offset - len(trains) / step / 2, label, va="center")
    for name, times in vt.items():
        for t in times:
            ax.axvspan(t, t + WINDOW, color=colors[name], alpha=0.12, lw=0)
    ax.set(xlim=(0, duration), xlabel="time (ms)", ylabel="cell (E: every 4th)",
           title="rasters: circuit E/I (emulator) and the L5 island (NEURON); shading = evoked windows "
                 "(blue basal, green tuft, red basal + tuft)")
    for k, where in enumerate(("soma", "tuft")):
        ax = fig.add_subplot(3, 2, 3 + k)
        sig = data[f"{where}.v"]
        ax.plot(sig["t"], sig["v"][:, 0], lw=0.8, color="k")
        for name, times in vt.items():
            for t in times:
                ax.axvspan(t, t + WINDOW, color=colors[name], alpha=0.12, lw=0)
        ax.set(xlabel="time (ms)", ylabel="mV", title=f"L5 cell 0: {where} voltage")
    ax = fig.add_subplot(3, 2, 5)
    sig = data["soma.v"]
    for name in PHASES:
        t0 = vt[name][0]
        keep = (sig["t"] >= t0 - 5) & (sig["t"] < t0 + WINDOW)
        ax.plot(sig["t"][keep] - t0, sig["v"][keep, 0], color=colors[name], label=name, lw=1)
    ax.set(xlabel="time after the volley (ms)", ylabel="soma v (mV)", title="L5 cell 0, first volley of each phase")
    ax.legend(fontsize=8)
    ax = fig.add_subplot(3, 2, 6)
    x = np.arange(3)
    for j, pop in enumerate(("E", "I", "L5")):
        ax.bar(x + (j - 1) * 0.27, [data["rates"][name][pop] for name in PHASES], 0.27, label=pop)
    ax.set(xticks=x, xticklabels=PHASES, ylabel=f"rate in the {WINDOW:g} ms after a volley (Hz)",
           title="evoked rates per phase")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def simulate(duration: float, seed: int, recording_path=None, surrogate=None) -> tuple[dict, dict]:
    """Build and run the island (``surrogate``: a surrogate file or object that replaces the L5
    cells, ``sim.surrogate``); returns (data, volley times): spike trains per population, the
    L5 voltages, evoked rates per phase, mean rates, the BAC effect and the run's wall time."""
    sim.setup(timestep=0.1, neuron_dt=0.025, seed=seed, **({"recording_path": recording_path}
                                                             if recording_path else {}))
    E, I, L5, vt = build(duration)
    if surrogate is not None:
        sim.surrogate(L5, model=surrogate)
    t1 = time.perf_counter()
    sim.run(duration)
    wall = time.perf_counter() - t1
    data = {"spikes": {p.label: [np.asarray(st, dtype=float) for st in p.get_data().segments[0].spiketrains]
                       for p in (E, I, L5)}, "wall": wall}
    for sig in L5.get_data().segments[0].analogsignals:
        data[sig.name] = {"t": np.asarray(sig.times, dtype=float), "v": np.asarray(sig, dtype=float)}
    sizes = {"E": N_E, "I": N_I, "L5": N_L5}
    data["rates"] = {name: {p: evoked_rates(data["spikes"][p], vt[name], sizes[p]) for p in sizes} for name in PHASES}
    data["mean_rates"] = {p: sum(len(s) for s in data["spikes"][p]) / sizes[p] / (duration / 1000.0) for p in sizes}
    data["bac"] = data["rates"]["basal + tuft"]["E"] / max(data["rates"]["basal"]["E"], 1e-9)
    sim.end()
    return data, vt


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600.0, help="ms (three equal phases)")
    parser.add_argument("--output", default=os.path.join(HERE, "output"))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    os.makedirs(args.output, exist_ok=True)
    h5 = os.path.join(args.output, "l5_island.h5")
    t0 = time.perf_counter()
    data, vt = simulate(args.duration, args.seed, h5)
    for name in PHASES:
        l5_counts = [int(np.sum((s >= t) & (s < t + WINDOW))) for t in vt[name] for s in data["spikes"]["L5"]]
        r = data["rates"][name]
        print(f"{name:>13}: L5 spikes per cell per volley {np.mean(l5_counts):.2f}; evoked rates E {r['E']:.1f} Hz, "
              f"I {r['I']:.1f} Hz, L5 {r['L5']:.1f} Hz")
    print(f"BAC firing raises the circuit's evoked E rate {data['bac']:.2f}x (basal + tuft vs basal alone); "
          f"{args.duration:g} ms simulated in {data['wall']:.1f} s")
    png = os.path.join(args.output, "l5_island.png")
    figure(data, vt, args.duration, png)
    print(f"outputs: {png}\n         {h5}\ntotal {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
