"""Action selection by the spiking basal ganglia of Humphries, Stewart & Gurney (2006), with
dopamine and reward learning (``neurohybrid.library.basal_ganglia``).

Three experiments on 3 action channels (D1, D2, STN, GPe, GPi: ``--n-per-channel`` cells each):

* **A. Selection and switching** (the paper's switching paradigm, ModelDB ``pars.m``): all
  channels at the tonic cortical rate (3 Hz), then channel 1 salient (``--salience1`` Hz), then
  channel 2 more salient (``--salience2`` Hz). A channel is selected when its GPi/SNr rate falls
  below 5 Hz (the paper's criterion); the figure shows the GPi rate per channel over time.
  (The paper reports switching over much of its input grid; without its GABA floor and
  shunting inhibition this version mostly gives dual selection once channel 2 is salient.)
* **B. Dopamine shifts the selection threshold**: the GPi rate of a channel against its salience
  for three tonic dopamine levels (0.1 depleted, 0.3 the paper's tonic level, 0.6 excess).
* **C. Reward learning**: channels 1 and 2 take turns (300 ms each, 500 ms apart); a VTA burst
  (dopamine field) follows every channel-1 trial, never channel 2's. Corticostriatal D1/D2
  synapses learn by dopamine STDP; with equal saliences the rewarded channel becomes selected.

Outputs: ``basal_ganglia_selection.png``, ``basal_ganglia_selection.h5`` (experiment A's run).

    python examples/basal_ganglia_selection.py [--n-per-channel 32] [--segment 800] [--trials 3] [--output DIR]
"""
from __future__ import annotations

import argparse
import os

import numpy as np

import neurohybrid.pynn as sim
from neurohybrid.library.basal_ganglia import basal_ganglia, corticostriatal_weights, run_schedule, selected

TONIC = 3.0                     # Hz, the paper's tonic cortical rate
TONES = (0.1, 0.3, 0.6)         # tonic dopamine levels (paper units)
BIN = 25.0                      # ms, rate bins of panel A


def switching(n, seed, segment, s1, s2, path):
    """Experiment A: (bin centres ms, GPi rate per channel per bin, segment rates, segment edges)."""
    sim.setup(timestep=0.1, seed=seed, recording_path=path)
    bg = basal_ganglia(sim, n_per_channel=n, seed=seed, learning=False)
    schedule = [([TONIC] * 3, segment), ([s1, TONIC, TONIC], segment), ([s1, s2, TONIC], segment)]
    seg = run_schedule(sim, bg, schedule, settle=150.0)
    trains = bg.populations["GPi"].get_data().segments[0].spiketrains
    sim.end()
    edges = np.arange(0.0, 3 * segment + BIN / 2, BIN)
    rates = np.array([np.histogram(np.concatenate([np.asarray(s.magnitude) for s in trains[k * n:(k + 1) * n]]),
                                   bins=edges)[0] / n / (BIN * 1e-3) for k in range(3)])
    return (edges[:-1] + edges[1:]) / 2, rates, seg, segment * np.arange(4)


def dopamine_scan(n, seed, saliences, segment):
    """Experiment B: GPi rate of channel 1 vs its salience, per tonic dopamine level."""
    out = {}
    for tone in TONES:
        sim.setup(timestep=0.1, seed=seed)
        bg = basal_ganglia(sim, n_per_channel=n, seed=seed, learning=False, dopamine_tone=tone)
        r = run_schedule(sim, bg, [([TONIC] * 3, 200.0)] + [([s, TONIC, TONIC], segment) for s in saliences])
        out[tone] = r[1:, 0]
        sim.end()
    return out


def threshold(saliences, gpi):
    """The lowest salience (Hz) at which the channel is selected (inf: never)."""
    sel = selected(gpi)
    return float(saliences[int(np.argmax(sel))]) if sel.any() else float("inf")


def learning(n, seed, trials, sal=15.0, tr=300.0, gap=500.0):
    """Experiment C: GPi with equal salience and corticostriatal weights, before and after."""
    t0 = 300.0 + 500.0
    bursts = [t0 + k * 2 * (tr + gap) + (tr + gap) + tr for k in range(trials)]   # after each channel-1 trial
    sim.setup(timestep=0.1, seed=seed)
    vta = sim.Population(20, sim.SpikeSourceArray(
        spike_times=[[round(b + 2.0 + 5.0 * j + 0.5 * i, 1) for b in bursts for j in range(4)] for i in range(20)]),
        label="VTA")
    da = sim.Field("dopamine", source=vta, tau=200.0, baseline=0.3, release=0.008, bounds=(0.0, 1.0), period=5.0)
    bg = basal_ganglia(sim, n_per_channel=n, seed=seed, dopamine=da, tau_c=200.0)
    before = run_schedule(sim, bg, [([TONIC] * 3, 300.0), ([sal, sal, TONIC], 500.0)])[1]
    w = [(corticostriatal_weights(bg, "D1"), corticostriatal_weights(bg, "D2"))]
    run_schedule(sim, bg, [([TONIC, sal, TONIC], tr), ([TONIC] * 3, gap), ([sal, TONIC, TONIC], tr),
                           ([TONIC] * 3, gap)] * trials)
    w.append((corticostriatal_weights(bg, "D1"), corticostriatal_weights(bg, "D2")))
    after = run_schedule(sim, bg, [([sal, sal, TONIC], 700.0)])[0]
    sim.end()
    return before, after, w


def plot(a, b, saliences, c, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 3, figsize=(16, 4.6))
    t, rates, _, edges = a
    for k in range(3):
        ax[0].plot(t, rates[k], label=f"channel {k + 1}")
    for x in edges[1:-1]:
        ax[0].axvline(x, color="0.6", ls=":")
    ax[0].axhline(5.0, color="k", lw=0.8, ls="--", label="selection (5 Hz)")
    ax[0].set(xlabel="time (ms)", ylabel="GPi/SNr rate (Hz)",
              title="A. Selection: tonic | ch1 salient | ch2 more salient")
    ax[0].legend(fontsize=8)
    for tone, r in b.items():
        ax[1].plot(saliences, r, "o-", label=f"dopamine {tone} (threshold {threshold(saliences, r):g} Hz)")
    ax[1].axhline(5.0, color="k", lw=0.8, ls="--")
    ax[1].set(xlabel="salience of channel 1 (Hz per cortical cell)", ylabel="GPi rate of channel 1 (Hz)",
              title="B. Dopamine shifts the selection threshold")
    ax[1].legend(fontsize=8)
    if c is None:
        ax[2].text(0.5, 0.5, "reward learning not run (--trials 0)", ha="center", transform=ax[2].transAxes)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        return
    before, after, w = c
    x = np.arange(3)
    for i, (label, (d1, d2)) in enumerate((("before", w[0]), ("after", w[1]))):
        ax[2].bar(x + (i - 0.5) * 0.2, d1, 0.2, label=f"D1 {label}", color=("C0", "C3")[i])
        ax[2].bar(x + 0.45 + (i - 0.5) * 0.2, d2, 0.2, label=f"D2 {label}", color=("C7", "C1")[i], alpha=0.7)
    ax[2].set_xticks(x + 0.22, [f"ch{k + 1}" + (" (rewarded)" if k == 0 else "") for k in range(3)])
    ax[2].set(ylabel="mean cortex->MSN weight (nA)",
              title=f"C. Reward learning; GPi at equal salience: before {before[0]:.0f}/{before[1]:.0f} Hz, "
                    f"after {after[0]:.0f}/{after[1]:.0f} Hz")
    ax[2].title.set_fontsize(9)
    ax[2].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "output"), help="directory")
    ap.add_argument("--n-per-channel", type=int, default=32, help="cells per channel and nucleus (paper: 64)")
    ap.add_argument("--segment", type=float, default=800.0, help="ms per schedule segment")
    ap.add_argument("--salience1", type=float, default=25.0, help="Hz")
    ap.add_argument("--salience2", type=float, default=40.0, help="Hz")
    ap.add_argument("--saliences", default="6,12,18,24,30", help="Hz, comma-separated (experiment B)")
    ap.add_argument("--trials", type=int, default=3, help="rewarded trials (experiment C; 0: skip it)")
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    os.makedirs(args.output, exist_ok=True)
    n, seed = args.n_per_channel, args.seed
    saliences = np.array([float(s) for s in args.saliences.split(",")])
    a = switching(n, seed, args.segment, args.salience1, args.salience2,
                  os.path.join(args.output, "basal_ganglia_selection.h5"))
    seg = a[2]
    print("selection: GPi rates (Hz) per segment [tonic | ch1 | ch1+ch2]:",
          "; ".join(" ".join(f"{x:.1f}" for x in row) for row in seg),
          "| selected:", [np.flatnonzero(selected(row)).tolist() for row in seg])
    b = dopamine_scan(n, seed, saliences, min(args.segment, 400.0))
    for tone, r in b.items():
        print(f"dopamine {tone}: threshold {threshold(saliences, r):g} Hz; GPi {np.round(r, 1).tolist()}")
    if args.trials == 0:
        print("learning: skipped (--trials 0)")
        plot(a, b, saliences, None, os.path.join(args.output, "basal_ganglia_selection.png"))
        print("outputs:", os.path.join(args.output, "basal_ganglia_selection.png"))
        return
    c = learning(n, seed, args.trials)
    print(f"learning: GPi equal salience before {c[0][0]:.1f} {c[0][1]:.1f} Hz, after {c[1][0]:.1f} {c[1][1]:.1f} Hz;"
          f" D1 weight ch1 {c[2][0][0][0]:.3f} -> {c[2][1][0][0]:.3f} nA, ch2 {c[2][0][0][1]:.3f} -> "
          f"{c[2][1][0][1]:.3f} nA")
    path = os.path.join(args.output, "basal_ganglia_selection.png")
    plot(a, b, saliences, c, path)
    print("outputs:", path)


if __name__ == "__main__":
    main()
