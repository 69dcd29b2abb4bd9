"""Hippocampal sequence replay: a CA3 network learns the order of place fields while the
animal runs a linear track under theta, then replays it in a cued sharp wave.

The library module :func:`neurohybrid.library.hippocampus.hippocampus` (Ecker et al. 2022,
eLife 11:e71850): AdExpIF pyramidal (place) cells and basket cells; during exploration each
place cell is driven by a phase-precessing, theta-modulated (8 Hz) input, so each theta cycle
holds a compressed copy of the track order, and STDP on the recurrent PC->PC synapses
(cholinergic tone high: plasticity on) writes it into the weights. After a rest (ACh decays,
plasticity off) a sharp wave (unspecific mossy-fibre-like excitation) with a cue to the cells
at the start of the track sets off a wave that sweeps the track (forward replay, Diba &
Buzsaki 2007); a cue at the end (reverse, Foster & Wilson 2006) is tried when ``--reverse`` is
given: with ``--rule symmetric`` (Mishra et al. 2016's symmetric STDP window) it replays the
track backwards, with the default asymmetric rule it does not travel.

The figure: (A) exploration raster (one lap; cells sorted by place field) with the animal's
position, (B) a theta-cycle zoom (compressed sequences), (C) the learned weight matrix,
(D) the replay raster(s) with the Spearman rank correlation of replayed vs learned order.
Outputs: ``hippocampal_replay.png``, ``hippocampal_replay.h5``.

    python examples/hippocampal_replay.py [--n-place 100] [--laps 3] [--seed 1] [--reverse]
                                          [--rule asymmetric|symmetric] [--output DIR]
"""
from __future__ import annotations

import argparse
import os

import numpy as np

import neurohybrid.pynn as sim
from neurohybrid.library import hippocampus as hc


def draw(path: str, r: dict) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    m, pc = r["module"], r["pc"]
    n, p = m.parameters["n_place"], m.parameters
    lap = 1000.0 * n * p["field_spacing"] / p["speed"]
    t1 = m.extras["exploration"][1]
    t0 = t1 - lap
    fig = plt.figure(figsize=(15, 8))
    grid = fig.add_gridspec(2, 3)
    ax = fig.add_subplot(grid[0, :2])
    for i, st in enumerate(pc):
        st = st[(st >= t0) & (st < t1)]
        ax.plot(st / 1000.0, np.full(st.size, i), "|", color="k", ms=2)
    tt = np.linspace(t0, t1, 500)
    ax.plot(tt / 1000.0, hc.position(p, n, tt) / p["field_spacing"] - 0.5, color="tab:orange", lw=1,
            label="animal's position (in place-field units)")
    ax.set(xlabel="time (s)", ylabel="place cell (track order)",
           title=f"A. Exploration, last lap ({p['theta_frequency']:g} Hz theta, phase precession)")
    ax.legend(loc="upper left", fontsize=8)
    ax = fig.add_subplot(grid[0, 2])
    mid = t0 + lap / 2
    period = 1000.0 / p["theta_frequency"]
    for i, st in enumerate(pc):
        st = st[(st >= mid - 2 * period) & (st < mid + 2 * period)]
        ax.plot(st - mid, np.full(st.size, i), "|", color="k", ms=4)
    for k in range(-2, 3):
        ax.axvline(k * period, color="grey", lw=0.5, ls=":")
    x = hc.position(p, n, mid) / p["field_spacing"]
    ax.set(xlim=(-2 * period, 2 * period), ylim=(x - 12, x + 12), xlabel="time from mid-lap (ms)",
           ylabel="place cell", title="B. Compressed sequences within theta cycles")
    ax = fig.add_subplot(grid[1, 0])
    im = ax.imshow(np.nan_to_num(r["weights"]) * 1e3, cmap="viridis", origin="lower")
    fig.colorbar(im, ax=ax, label="weight (nS)")
    ax.set(xlabel="postsynaptic cell", ylabel="presynaptic cell", title="C. Learned PC->PC weights (STDP)")
    replays = [k for k in r if k.startswith("replay_")]
    for j, name in enumerate(replays[:2]):
        ax = fig.add_subplot(grid[1, 1 + j])
        ph = next(ph for ph in m.extras["phases"] if ph.name == name)
        for i, st in enumerate(pc):
            st = st[(st >= ph.start) & (st < ph.stop)]
            ax.plot(st - ph.start, np.full(st.size, i), "|", color="tab:blue", ms=3)
        res = r[name]
        ax.set(xlabel="time in sharp wave (ms)", ylabel="place cell (track order)", ylim=(-1, n),
               xlim=(0, ph.stop - ph.start),
               title=f"{'DE'[j]}. {name.replace('_', ' ')}: Spearman rho {res['rho']:.2f}, "
                     f"{100 * res['participation']:.0f} % of cells")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-place", type=int, default=100, help="place cells (3 cm of track each)")
    ap.add_argument("--laps", type=int, default=3, help="laps of exploration")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reverse", action="store_true", help="also try a reverse replay (cue at the end)")
    ap.add_argument("--rule", choices=hc.RULES, default="asymmetric",
                    help="recurrent STDP: Ecker et al.'s asymmetric rule, or the symmetric (Mishra et al. 2016) one")
    ap.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "output"))
    args = ap.parse_args()
    os.makedirs(args.output, exist_ok=True)
    replays = ("forward", "reverse") if args.reverse else ("forward",)
    (r,) = hc.replay_experiment(sim, seeds=(args.seed,), n_place=args.n_place, laps=args.laps, replays=replays,
                                rule=args.rule, recording_path=os.path.join(args.output, "hippocampal_replay.h5"))
    t1 = r["module"].extras["exploration"][1]
    rate = np.mean([np.sum(st < t1) for st in r["pc"]]) / t1 * 1e3
    w = np.nan_to_num(r["weights"])
    ahead = np.mean([np.diag(w, k).mean() for k in (1, 2, 3)]) * 1e3
    behind = np.mean([np.diag(w, -k).mean() for k in (1, 2, 3)]) * 1e3
    print(f"{args.rule} STDP; exploration: {args.laps} laps, {t1 / 1000:.1f} s, PC rate {rate:.2f} Hz; "
          f"learned weights to 1-3 cells ahead {ahead:.1f} nS, behind {behind:.1f} nS")
    for name in replays:
        res = r[f"replay_{name}"]
        print(f"{name} replay: Spearman rho {res['rho']:.3f} (issue 14 bar >= 0.8), participation "
              f"{100 * res['participation']:.0f} %, sweep {np.nanmax(res['first_spike']):.0f} ms")
    path = os.path.join(args.output, "hippocampal_replay.png")
    draw(path, r)
    print("outputs:", path)


if __name__ == "__main__":
    main()
