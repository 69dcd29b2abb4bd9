"""Full-size check of neurohybrid.library.thalamus: burst fraction against the tone, and spindles.

100 TC + 100 RE cells (Destexhe et al. 1996) for ``--duration`` ms at each tone (nA on TC):

* (a) the fraction of TC spikes in bursts (Lu, Guido & Sherman 1992 J Neurophysiol 68:2185:
  >= 100 ms silence, then intervals <= 4 ms) falls monotonically as the depolarising tone rises
  (burst mode when hyperpolarised, tonic mode when depolarised: McCormick 1992; Sherman 2001);
* (b) in burst mode the TC population-rate spectrum peaks in the spindle band, 7-14 Hz
  (Steriade, McCormick & Sejnowski 1993 Science 262:679; Destexhe et al. 1996 J Neurophysiol
  76:2049).

The last stdout line is one JSON object: ratio = our spindle peak / 10.5 Hz (the band's centre),
met = peak in 7-14 Hz holding >= 1.5x a flat spectrum's share of the 2-40 Hz power, and the burst fraction monotone decreasing with the tone, high (>= 0.15)
at the lowest tone and low (<= 0.05) at the highest.

    python benchmarks/library_thalamus.py [--duration 3000] [--seed 1]
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

import neurohybrid.pynn as sim
from neurohybrid.library import thalamus as th

TONES = (-0.003, -0.002, -0.001, 0.0, 0.002)   # nA
BURST_TONE = -0.003


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=3000.0, help="ms per tone")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    t0 = time.time()
    settle = 200.0
    fractions, rates, peak = [], [], None
    for tone in TONES:
        out = th.run_tone(sim, tone, args.duration, seed=args.seed)
        bf = th.burst_fraction(out["TC"], t_start=settle)
        rate = sum(s.size for s in out["TC"]) / len(out["TC"]) / ((args.duration) * 1e-3)
        fractions.append(bf)
        rates.append(rate)
        line = f"tone {tone * 1000:+.1f} pA: TC {rate:5.1f} Hz, burst fraction {bf:.3f}"
        if tone == TONES[-1]:
            f, p = th.population_spectrum(out["TC"], settle, args.duration)
            tonic_peak, (tonic_share, _) = th.spindle_peak(f, p), th.band_share(f, p)
            line += f", TC spectrum peak {tonic_peak:.1f} Hz, 7-14 Hz share {tonic_share:.3f} (not desynchronised)"
        if tone == BURST_TONE:
            f, p = th.population_spectrum(out["TC"], settle, args.duration)
            peak = th.spindle_peak(f, p)
            share, flat = th.band_share(f, p)
            line += f", TC population spectrum peak {peak:.1f} Hz, 7-14 Hz power share {share:.3f} (flat {flat:.3f})"
        print(line, flush=True)
    lo, hi = th.SPINDLE_BAND
    monotone = bool(np.all(np.diff(fractions) <= 0.0))
    print(f"(a) burst fraction vs tone: {np.round(fractions, 3).tolist()} - published: high in burst mode "
          f"(hyperpolarised), rare in tonic mode (Lu, Guido & Sherman 1992; Sherman 2001 TINS 24:122); ours "
          f"monotone decreasing: {monotone}")
    print(f"(b) spindle peak: ours {peak:.1f} Hz (7-14 Hz power share {share:.3f}, flat {flat:.3f}), published {lo:.0f}-{hi:.0f} Hz (Steriade et al. 1993; "
          f"Destexhe et al. 1996)")
    met = bool(lo <= peak <= hi and share >= 1.5 * flat and monotone and fractions[0] >= 0.15 and fractions[-1] <= 0.05)
    print(json.dumps({"benchmark": "library_thalamus", "ratio": round(peak / ((lo + hi) / 2), 3),
                      "target": "spindle peak in 7-14 Hz (ratio 0.67-1.33 of 10.5 Hz) with >= 1.5x flat band share; burst fraction monotone "
                                "decreasing with tone, >= 0.15 burst mode, <= 0.05 tonic mode",
                      "met": met, "spindle_peak_hz": peak, "band_power_share": round(share, 4), "flat_share": round(flat, 4), "reference_band_hz": [lo, hi],
                      "tones_nA": list(TONES), "burst_fraction": [round(x, 4) for x in fractions],
                      "tc_rate_hz": [round(x, 2) for x in rates],
                      "tonic_peak_hz": tonic_peak, "tonic_band_share": round(tonic_share, 4), "burst_criterion_ms": [th.BURST_SILENCE, th.BURST_ISI],
                      "n_tc": 100, "n_re": 100, "duration_ms": args.duration, "wall_s": round(time.time() - t0, 1)}))


if __name__ == "__main__":
    main()
