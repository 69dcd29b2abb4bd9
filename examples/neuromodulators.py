"""Three neuromodulatory nuclei of neurohybrid.library.nuclei in one run, and what their fields do.

* VTA (``nu.vta``): spiking dopamine cells whose phasic response is the TD error of a critic
  reading a delay line of the cue and a reward relay. The Schultz task: free rewards, cue ->
  reward pairings (``--paired``), then cues without reward. The figure shows Schultz, Dayan &
  Montague's (1997, Fig. 1) three cases as peri-event histograms of the DA spikes: a burst to the
  unexpected reward, after learning a burst to the cue and none at the reward, a pause where an
  expected reward is omitted.
* LC (``nu.locus_coeruleus``): phasic mode for the first half, then a controller
  (``TaskSequencer``) adds the tonic-mode drive through the module's ``drive`` port: the tonic
  rate rises and the bursts to salient targets (one per second) shrink (Aston-Jones & Cohen 2005).
* BF (``nu.basal_forebrain``): an attention drive (20 Hz relay input) in the middle third raises
  the cholinergic rate and the ACh tone.

Each field acts on a target population (IF_curr_exp near threshold): dopamine as gain on a
"striatum", noradrenaline as gain on a "cortex", acetylcholine as a depolarising current on a
"thalamus"; a "control" population gets no field. Outputs: ``neuromodulators.png``,
``neuromodulators.h5``.

    python examples/neuromodulators.py [--paired 20] [--alpha 0.5] [--scale 1] [--seed 3] [--output DIR]
"""
from __future__ import annotations

import argparse
import os

import numpy as np

import neurohybrid.pynn as sim
from neurohybrid.controllers import TaskSequencer
from neurohybrid.library import nuclei as nu

INTERVAL, TRIAL, ONSET = 300.0, 1000.0, 525.0     # ms: cue -> reward, trial length, event onset in a trial
BIN = 25.0                                        # ms, histogram bins
N_TARGET = 30


def trains(pop) -> list:
    return [np.asarray(s.magnitude) for s in pop.get_data().segments[0].spiketrains]


def target(label: str):
    """A target population near threshold (Poisson drive 2 kHz x 0.06 nA into IF_curr_exp)."""
    pop = sim.Population(N_TARGET, sim.IF_curr_exp(tau_refrac=2.0), label=label)
    drive = sim.Population(N_TARGET, sim.SpikeSourcePoisson(rate=2000.0), label=f"{label} input")
    sim.Projection(drive, pop, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.06, delay=1.0))
    pop.record("spikes")
    return pop


def simulate(args) -> dict:
    sch = nu.conditioning_schedule(args.unexpected, args.paired, args.omitted, INTERVAL, TRIAL, ONSET)
    T = sch["duration"]
    sim.setup(timestep=0.1, seed=args.seed, recording_path=os.path.join(args.output, "neuromodulators.h5"))
    # VTA and the Schultz task
    vta = nu.vta(sim, scale=args.scale, max_interval=INTERVAL + 100.0, alpha=args.alpha)
    nu.volleys(sim, vta, "cue", np.concatenate([sch["cue_paired"], sch["cue_omitted"]]))
    nu.volleys(sim, vta, "reward", np.concatenate([sch["reward_free"], sch["reward_paired"]]))
    # LC: phasic mode, switched to the tonic mode at T/2 by a controller on the drive port
    lc = nu.locus_coeruleus(sim, scale=args.scale, mode="phasic")
    switch = T / 2
    step = lc.parameters["drive_tonic"] - lc.parameters["drive_phasic"]
    seq = sim.Controller(TaskSequencer("LC mode", [(switch, {"drive": 0.0}), (T, {"drive": step})],
                                       units={"drive": "nA"}, period=10.0), period=10.0)
    sim.Field("LC mode drive", source=(seq, "drive"), units="nA", period=10.0).modulate(lc.port("drive").target,
                                                                                       "current")
    salient = np.arange(1000.0, T - 200.0, 1000.0) + 3.0
    nu.volleys(sim, lc, "salience", salient)
    # BF: attention drive in the middle third
    bf = nu.basal_forebrain(sim, scale=args.scale)
    attention = (T / 3, 2 * T / 3)
    drive = sim.Population(nu.N_RELAY, sim.SpikeSourcePoisson(rate=20.0, start=attention[0],
                                                              duration=attention[1] - attention[0]),
                           label="attention input")
    sim.Projection(drive, bf.port("attention").target, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=nu.RELAY_WEIGHT, delay=1.0))
    # targets of the fields
    tg = {k: target(k) for k in ("striatum", "cortex", "thalamus", "control")}
    vta.port("dopamine").target.modulate(tg["striatum"], "gain", fn=lambda c: c)
    lc.port("noradrenaline").target.modulate(tg["cortex"], "gain", fn=lambda c: 1.0 + 0.3 * (c - 1.0))
    bf.port("acetylcholine").target.modulate(tg["thalamus"], "current", fn=lambda c: 0.03 * c)   # nA
    for m in (vta, lc, bf):
        m.port("spikes").target.record("spikes")
    sim.run(T)
    out = {"sch": sch, "T": T, "switch": switch, "salient": salient, "attention": attention,
           "da": trains(vta.populations["DA"]), "lc": trains(lc.populations["NE"]),
           "bf": trains(bf.populations["ChAT"]),
           "targets": {k: trains(p) for k, p in tg.items()},
           "fields": {k: m.extras["field"].get_data("concentration") for k, m in
                      (("dopamine", vta), ("noradrenaline", lc), ("acetylcholine", bf))},
           "w": vta.extras["critic"].w.copy(), "period": vta.parameters["period"]}
    sim.end()
    return out


def summary(r) -> dict:
    """The measured numbers (Hz), printed and plotted."""
    sch, da = r["sch"], r["da"]
    resp = (100.0, 225.0)
    events = np.concatenate([sch["reward_free"], sch["cue_paired"], sch["cue_omitted"]])
    learnt = sch["cue_paired"][-5:]
    s = {"baseline": nu.window_rate(da, events, -300.0, 0.0),
         "unexpected": nu.window_rate(da, sch["reward_free"], *resp),
         "cue_after": nu.window_rate(da, learnt, *resp),
         "reward_after": nu.window_rate(da, learnt + INTERVAL, *resp),
         "omitted": nu.window_rate(da, sch["omitted"], *resp)}
    for mode, stims in (("phasic", r["salient"][r["salient"] < r["switch"] - 500]),
                        ("tonic", r["salient"][r["salient"] > r["switch"] + 1500])):
        base = nu.window_rate(r["lc"], stims, -300.0, 0.0) if stims.size else float("nan")
        evoked = (nu.window_rate(r["lc"], stims, 0.0, 100.0) - base) * 0.1 if stims.size else float("nan")
        s[f"lc_{mode}"] = (base, evoked)
    a0, a1 = r["attention"]
    s["bf_off"] = nu.window_rate(r["bf"], [0.0], 200.0, a0)
    s["bf_on"] = nu.window_rate(r["bf"], [0.0], a0 + 500.0, a1)
    return s


def plot(r, s, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sch, da = r["sch"], r["da"]
    fig = plt.figure(figsize=(13, 10))
    gs = fig.add_gridspec(3, 3, height_ratios=[1, 1, 1.1], hspace=0.45, wspace=0.25)
    cases = [("no prediction, reward occurs", sch["reward_free"], [(0.0, "R")]),
             ("reward predicted, reward occurs", sch["cue_paired"][-5:], [(0.0, "CS"), (INTERVAL, "R")]),
             ("reward predicted, no reward occurs", sch["cue_omitted"], [(0.0, "CS"), (INTERVAL, "(no R)")])]
    top = 0.0
    axes = []
    for k, (title, ev, marks) in enumerate(cases):
        ax = fig.add_subplot(gs[0, k])
        t, h = nu.psth(da, ev, 400.0, 700.0, BIN)
        ax.bar(t, h, width=BIN, color="k")
        for x, lab in marks:
            ax.axvline(x, color="C3", lw=1)
            ax.text(x, 1.0, lab, color="C3", ha="center", va="bottom", transform=ax.get_xaxis_transform())
        ax.axhline(s["baseline"], color="0.6", lw=0.8, ls="--")
        ax.set_title(title, fontsize=9, pad=14)
        ax.set_xlabel("ms from " + ("reward" if k == 0 else "cue"))
        top = max(top, h.max())
        axes.append(ax)
    for ax in axes:
        ax.set_ylim(0, top * 1.1)
    axes[0].set_ylabel("DA rate (Hz)")
    # TD values learnt per step of the delay line
    # LC modes: PSTH around salient targets in each mode
    for k, mode in enumerate(("phasic", "tonic")):
        ax = fig.add_subplot(gs[1, k])
        stims = r["salient"][r["salient"] < r["switch"] - 500] if mode == "phasic" else \
            r["salient"][r["salient"] > r["switch"] + 1500]
        if stims.size:
            t, h = nu.psth(r["lc"], stims, 400.0, 600.0, BIN)
            ax.bar(t, h, width=BIN, color="C0" if mode == "phasic" else "C1")
        ax.axvline(0.0, color="C3", lw=1)
        base, ev = s[f"lc_{mode}"]
        ax.set_title(f"LC {mode} mode: tonic {base:.1f} Hz, {ev:.2f} evoked spikes/target", fontsize=9)
        ax.set_xlabel("ms from salient target")
        ax.set_ylabel("LC rate (Hz)")
    ax = fig.add_subplot(gs[1, 2])
    ax.plot(np.arange(r["w"].size) * r["period"], r["w"], "o-", color="k")
    ax.axvline(INTERVAL, color="C3", lw=1)
    ax.set_title("critic's value per delay-line step (end of run)", fontsize=9)
    ax.set_xlabel("ms after the cue")
    ax.set_ylabel("V (reward units)")
    # fields and targets over time
    ax = fig.add_subplot(gs[2, :2])
    for name, color in (("dopamine", "C2"), ("noradrenaline", "C1"), ("acetylcholine", "C4")):
        f = r["fields"][name]
        ax.plot(f["times"] / 1000.0, f["values"][:, 0], color=color, label=name, lw=1)
    ax.axvline(r["switch"] / 1000.0, color="C1", ls=":", lw=1)
    ax.axvspan(r["attention"][0] / 1000.0, r["attention"][1] / 1000.0, color="C4", alpha=0.08)
    ax.set_ylabel("field (1 = tonic level)")
    ax.set_xlabel("time (s)  (dotted: LC switched to tonic mode; shaded: BF attention drive)")
    ax.legend(fontsize=8, loc="upper left")
    ax = fig.add_subplot(gs[2, 2])
    edges = np.arange(0.0, r["T"] + 1.0, 500.0)
    for name, color in (("striatum", "C2"), ("cortex", "C1"), ("thalamus", "C4"), ("control", "0.5")):
        spikes = np.concatenate(r["targets"][name])
        ax.step(edges[:-1] / 1000.0, np.histogram(spikes, edges)[0] / N_TARGET / 0.5, where="post", label=name,
                color=color, lw=1)
    ax.set_title("targets: DA gain, NE gain, ACh current", fontsize=9)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("rate (Hz)")
    ax.legend(fontsize=7)
    fig.suptitle("VTA reward-prediction error (Schultz, Dayan & Montague 1997), LC modes (Aston-Jones & Cohen 2005), "
                 "BF acetylcholine tone", fontsize=10)
    fig.savefig(path, dpi=90, bbox_inches="tight")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "output"), help="directory")
    ap.add_argument("--unexpected", type=int, default=3, help="free rewards before the pairings")
    ap.add_argument("--paired", type=int, default=20, help="cue -> reward trials")
    ap.add_argument("--omitted", type=int, default=3, help="cue-only trials at the end")
    ap.add_argument("--alpha", type=float, default=0.5, help="the critic's learning rate")
    ap.add_argument("--scale", type=float, default=1.0, help="nucleus size (1: 40 cells each)")
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    os.makedirs(args.output, exist_ok=True)
    r = simulate(args)
    s = summary(r)
    print(f"VTA: baseline {s['baseline']:.1f} Hz; unexpected reward {s['unexpected']:.1f} Hz; after learning: cue "
          f"{s['cue_after']:.1f} Hz, reward {s['reward_after']:.1f} Hz; omitted reward {s['omitted']:.1f} Hz")
    for mode in ("phasic", "tonic"):
        base, ev = s[f"lc_{mode}"]
        print(f"LC {mode} mode: tonic {base:.2f} Hz, evoked {ev:.2f} spikes per target")
    print(f"BF: {s['bf_off']:.2f} Hz without drive, {s['bf_on']:.2f} Hz with the attention drive")
    path = os.path.join(args.output, "neuromodulators.png")
    plot(r, s, path)
    print("outputs:", path, os.path.join(args.output, "neuromodulators.h5"))


if __name__ == "__main__":
    main()
