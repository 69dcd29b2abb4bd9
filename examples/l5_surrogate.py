"""The L5 island of examples/l5_island.py with its NEURON cells swapped for a trained surrogate.

One call swaps it: ``sim.surrogate(L5, model="examples/l5pc/l5pc.nhs")``; the rest of the
island's script (projections onto the L5 receptors, recordings at soma and tuft) is unchanged.
The script runs the island twice on the same seed, with NEURON and with the surrogate, and
compares them: L5 soma and tuft voltages, rasters, the circuit's evoked rates per phase and the
BAC effect (evoked E rate of basal + tuft vs basal volleys).

The shipped surrogate ``examples/l5pc/l5pc.nhs`` was trained by this script
(``--train``): randomised input on the four L5 receptors (``neurohybrid.surrogate.inputs``),
the reduced L5 cell on NEURON, scikit-learn fitting, held-out evaluation; its metrics are in
the file (``neurohybrid.surrogate.load(path).metrics``).

    python examples/l5_surrogate.py [--duration 600] [--output DIR]
    python examples/l5_surrogate.py --train [--train-cells 24 --train-ms 25000] [--model PATH]
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
import l5_island as island  # noqa: E402
from l5pc import LOCATIONS, RECEPTORS, L5PC  # noqa: E402

MODEL = os.path.join(HERE, "l5pc", "l5pc.nhs")


def training_distribution():
    """The randomised input the shipped surrogate was trained on: the four receptors of the
    L5 cell, weights and rates spanning what the island gives them (µS, Hz), and synchronous
    volleys often enough (8 per second, each channel in 60 % of them, basal-tuft lags of
    0-8 ms) that the island's regime, volleys and their BAC coincidences, is well covered."""
    from neurohybrid.surrogate import ChannelInput, InputDistribution
    return InputDistribution((ChannelInput("AMPA_basal", 40, (0.0002, 0.003), (0.5, 15.0)),
                              ChannelInput("AMPA_tuft", 40, (0.0002, 0.003), (0.5, 15.0)),
                              ChannelInput("AMPA_trunk", 20, (0.0002, 0.002), (0.5, 15.0)),
                              ChannelInput("GABA_soma", 20, (0.0005, 0.004), (0.5, 20.0))),
                             volley_rate=8.0, volley_channels=0.6, volley_share=(0.3, 1.0), volley_lag=(0.0, 8.0))


def l5_cell():
    """The island's L5 cell type, as examples/l5_island.py builds it."""
    return sim.NeuronCell(L5PC, mechanisms=os.path.join(HERE, "l5pc"), receptors=RECEPTORS, locations=LOCATIONS,
                          spike_location="soma(0.5)", threshold=-10.0)


def train(args) -> None:
    """Train the surrogate (the whole workflow) and write it to ``args.model``."""
    from neurohybrid.pynn.translate import biophysical_node
    from neurohybrid.surrogate import save, train as train_surrogate
    sim.setup(timestep=0.1, neuron_dt=0.025, seed=args.seed)
    L5 = sim.Population(1, l5_cell(), label="L5")
    L5.initialize(v=-70.0)
    node = biophysical_node(L5)
    sim.end()
    t0 = time.perf_counter()
    sur, _ = train_surrogate(node, training_distribution(), train_cells=args.train_cells, train_ms=args.train_ms,
                             test_cells=args.test_cells, test_ms=args.test_ms, seed=args.seed,
                             neuron={"dt": 0.025, "celsius": 6.3}, locations=("soma", "tuft"), threads=2)
    save(sur, args.model)
    held = sur.metrics["held_out"]
    print(f"trained in {time.perf_counter() - t0:.0f} s -> {args.model}")
    print("held out: " + ", ".join(f"{k} {v:.3f}" for k, v in held.items() if isinstance(v, float)))


def run_island(duration: float, seed: int, model: str | None):
    """Run the island (NEURON, or the surrogate ``model``): ``l5_island.simulate``."""
    return island.simulate(duration, seed, surrogate=model)


def figure(runs: dict, vt: dict, duration: float, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=(13, 10))
    colours = {"NEURON": "k", "surrogate": "tab:orange"}
    for k, where in enumerate(("soma", "tuft")):
        ax = fig.add_subplot(3, 2, 1 + k)
        for name, data in runs.items():
            sig = data[f"{where}.v"]
            ax.plot(sig["t"], sig["v"][:, 0], lw=0.8, color=colours[name], label=name)
        ax.set(xlabel="time (ms)", ylabel="mV", title=f"L5 cell 0, {where} voltage")
        ax.legend(fontsize=8)
    for k, (name, data) in enumerate(runs.items()):
        ax = fig.add_subplot(3, 2, 3 + k)
        for i, train in enumerate(data["spikes"]["L5"]):
            ax.plot(train, np.full(len(train), i), "|", color=colours[name], ms=4)
        for ph, times in vt.items():
            for t in times:
                ax.axvspan(t, t + island.WINDOW, color={"basal": "tab:blue", "tuft": "tab:green",
                                                         "basal + tuft": "tab:red"}[ph], alpha=0.1, lw=0)
        ax.set(xlim=(0, duration), xlabel="time (ms)", ylabel="L5 cell", title=f"L5 spikes ({name})")
    ax = fig.add_subplot(3, 2, 5)
    x = np.arange(3)
    for j, (name, data) in enumerate(runs.items()):
        ax.bar(x + (j - 0.5) * 0.4, [data["rates"][ph]["E"] for ph in island.PHASES], 0.4, color=colours[name],
               label=f"{name} (BAC effect {data['bac']:.2f}x)")
    ax.set(xticks=x, xticklabels=island.PHASES, ylabel="evoked circuit E rate (Hz)",
           title="circuit E response per phase")
    ax.legend(fontsize=8)
    ax = fig.add_subplot(3, 2, 6)
    pops = ("E", "I", "L5")
    for j, (name, data) in enumerate(runs.items()):
        ax.bar(np.arange(3) + (j - 0.5) * 0.4, [data["mean_rates"][p] for p in pops], 0.4, color=colours[name],
               label=f"{name} ({data['wall']:.1f} s wall)")
    ax.set(xticks=np.arange(3), xticklabels=pops, ylabel="mean rate (Hz)", title="mean rates over the run")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600.0, help="ms (three equal phases)")
    parser.add_argument("--output", default=os.path.join(HERE, "output"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--model", default=MODEL, help="the surrogate file (.nhs)")
    parser.add_argument("--train", action="store_true", help="train the surrogate and write --model")
    parser.add_argument("--train-cells", type=int, default=48)
    parser.add_argument("--train-ms", type=float, default=25000.0)
    parser.add_argument("--test-cells", type=int, default=8)
    parser.add_argument("--test-ms", type=float, default=10000.0)
    args = parser.parse_args(argv)
    if args.train:
        train(args)
        return
    os.makedirs(args.output, exist_ok=True)
    runs, vt = {}, None
    for name, model in (("NEURON", None), ("surrogate", args.model)):
        runs[name], vt = run_island(args.duration, args.seed, model)
    for name, data in runs.items():
        r = data["mean_rates"]
        print(f"{name:>9}: rates E {r['E']:.2f} Hz, I {r['I']:.2f} Hz, L5 {r['L5']:.2f} Hz; BAC effect "
              f"{data['bac']:.2f}x; {args.duration:g} ms in {data['wall']:.1f} s")
    n, s = runs["NEURON"]["mean_rates"]["E"], runs["surrogate"]["mean_rates"]["E"]
    print(f"circuit E rate surrogate / NEURON: {s / max(n, 1e-9):.3f}")
    png = os.path.join(args.output, "l5_surrogate.png")
    figure(runs, vt, args.duration, png)
    print(f"outputs: {png}")


if __name__ == "__main__":
    main()
