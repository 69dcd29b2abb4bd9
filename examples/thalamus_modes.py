"""Thalamic burst and tonic modes under a neuromodulatory tone: the library's thalamus module.

``neurohybrid.library.thalamus`` builds 100 relay (TC) and 100 reticular (RE) Izhikevich cells
(TC: Izhikevich 2003/2004; RE: Izhikevich 2004 "rebound burst") wired as in Destexhe et al.
1996 (TC -> RE excitation, RE -> TC and RE -> RE inhibition), with a depolarising ACh/NE tone
(a ``sim.Field``, ``modulates="current"``, nA) on the TC cells. The script runs:

* one session whose tone a ``TaskSequencer`` controller steps from burst mode (``--low`` nA) to
  tonic mode (``--high`` nA) halfway: rasters of both halves;
* a sweep of constant tones: the fraction of TC spikes in bursts (Lu, Guido & Sherman 1992:
  >= 100 ms silence, then intervals <= 4 ms) against the tone;
* the TC population-rate spectrum in burst mode, against the spindle band (7-14 Hz: Steriade
  et al. 1993; Destexhe et al. 1996). (In tonic mode the loop still synchronises, at ~15 Hz:
  TC cells fire single spikes at ~100 Hz, which drive RE hard; recorded tonic mode is
  desynchronised. See the module's docstring.)

Output: ``thalamus_modes.png``.

    python examples/thalamus_modes.py [--duration 2000] [--scale 1.0] [--sweep 5] [--output DIR]
"""
from __future__ import annotations

import argparse
import os

import numpy as np

import neurohybrid.pynn as sim
from neurohybrid.library import thalamus as th

SETTLE = 200.0   # ms left out of the measures


def switched(duration: float, low: float, high: float, n: int, seed: int) -> dict:
    """One session: tone ``low`` nA for the first half, ``high`` for the second."""
    return th.run_tone(sim, [(duration / 2, low), (duration / 2, high)], duration, n_tc=n, n_re=n, seed=seed)


def sweep(tones, duration: float, n: int, seed: int):
    """Burst fraction and TC rate (Hz) per constant tone; the lowest tone's TC trains."""
    fractions, rates, first = [], [], None
    for tone in tones:
        out = th.run_tone(sim, float(tone), duration, n_tc=n, n_re=n, seed=seed)
        first = first or out
        fractions.append(th.burst_fraction(out["TC"], t_start=SETTLE))
        rates.append(sum(s.size for s in out["TC"]) / n / (duration * 1e-3))
        print(f"tone {tone * 1000:+5.1f} pA: TC {rates[-1]:5.1f} Hz, burst fraction {fractions[-1]:.3f}", flush=True)
    return np.asarray(fractions), np.asarray(rates), first


def plot(sw: dict, tones, fractions, spec, duration: float, low: float, high: float, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=(11, 7.5))
    gs = fig.add_gridspec(2, 2, height_ratios=[1.3, 1])
    ax = fig.add_subplot(gs[0, :])
    n = len(sw["TC"])
    for i, s in enumerate(sw["TC"]):
        ax.plot(s, np.full(s.size, i), "|", ms=2, color="C0")
    for i, s in enumerate(sw["RE"]):
        ax.plot(s, np.full(s.size, n + i), "|", ms=2, color="C3")
    ax.axvline(duration / 2, color="k", lw=1)
    ax.set_xlim(0, duration)
    ax.set_yticks([n / 2, 1.5 * n], ["TC", "RE"])
    ax.set_xlabel("time (ms)")
    ax.set_title(f"tone {low * 1000:+.1f} pA (burst mode) | tone {high * 1000:+.1f} pA (tonic mode)")
    a1 = fig.add_subplot(gs[1, 0])
    a1.plot(np.asarray(tones) * 1000, fractions, "o-")
    a1.set_xlabel("tone on TC (pA)")
    a1.set_ylabel("TC spikes in bursts (fraction)")
    a1.set_title("burst criterion: >= 100 ms silence, ISI <= 4 ms (Lu et al. 1992)", fontsize=9)
    a2 = fig.add_subplot(gs[1, 1])
    f, p = spec
    keep = f <= 50
    a2.semilogy(f[keep], p[keep] + 1e-12)
    a2.axvspan(*th.SPINDLE_BAND, color="#e8f0e0", zorder=0, label="spindle band 7-14 Hz")
    a2.set_xlabel("frequency (Hz)")
    a2.set_ylabel("TC population power")
    share, flat = th.band_share(f, p)
    a2.set_title(f"burst mode (tone {tones[0] * 1000:+.1f} pA): 7-14 Hz share {share:.2f} (flat {flat:.2f})",
                 fontsize=9)
    a2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "output"), help="directory")
    ap.add_argument("--duration", type=float, default=2000.0, help="ms per session")
    ap.add_argument("--scale", type=float, default=1.0, help="x 100 TC and 100 RE cells")
    ap.add_argument("--sweep", type=int, default=5, help="number of tones in the sweep")
    ap.add_argument("--low", type=float, default=-0.003, help="burst-mode tone, nA")
    ap.add_argument("--high", type=float, default=0.002, help="tonic-mode tone, nA")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    os.makedirs(args.output, exist_ok=True)
    n = max(2, int(round(100 * args.scale)))
    sw = switched(args.duration, args.low, args.high, n, args.seed)
    half = args.duration / 2
    for label, (lo, hi) in (("burst mode", (SETTLE, half)), ("tonic mode", (half + SETTLE, args.duration))):
        trains = [s[(s >= lo) & (s < hi)] for s in sw["TC"]]
        print(f"{label}: TC {sum(s.size for s in trains) / n / ((hi - lo) * 1e-3):.1f} Hz, burst fraction "
              f"{th.burst_fraction(trains, t_start=lo):.3f}")
    tones = np.linspace(args.low, args.high, args.sweep)
    fractions, _, first = sweep(tones, args.duration, n, args.seed)
    spec = th.population_spectrum(first["TC"], SETTLE, args.duration)
    share, flat = th.band_share(*spec)
    print(f"spindle peak: ours {th.spindle_peak(*spec):.1f} Hz, 7-14 Hz power share {share:.3f} (flat spectrum "
          f"{flat:.3f}); published: spindles at 7-14 Hz (Steriade et al. 1993)")
    path = os.path.join(args.output, "thalamus_modes.png")
    plot(sw, tones, fractions, spec, args.duration, args.low, args.high, path)
    print("outputs:", path)


if __name__ == "__main__":
    main()
