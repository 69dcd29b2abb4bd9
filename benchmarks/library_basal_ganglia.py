"""Full-size check of the basal ganglia module (Humphries, Stewart & Gurney 2006, J Neurosci
26:12921; ModelDB 83559): 3 channels x 64 cells per nucleus, over seeds.

* tonic rates (all channels at 3 Hz cortical input) beside the paper code's calibration target
  (pars.m: "30-30-12 for GPe-GPi-STN", Hz);
* selection and switching (the paper's switching schedule, pars.m): the salient channel's GPi
  rate < 5 Hz (the paper's criterion, mean_outputs.m) and the others not; the outcome coded as in
  mean_outputs.m (0 none, 1/6 single, 4 interference, 5 switching, 7 dual selection);
* dopamine: the salience at which a channel is selected, for tonic dopamine 0.1 / 0.3 / 0.6
  (the paper's dopamine results: depletion impairs selection, more dopamine selects at lower
  salience);
* reward learning (dopamine STDP at corticostriatal synapses): the rewarded channel, not
  favoured before training, is selected after it at equal salience.

The last stdout line is one JSON object; ``ratio`` is our tonic GPi rate over the 30 Hz target.

    python benchmarks/library_basal_ganglia.py [--seeds 3] [--n-per-channel 64]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
import basal_ganglia_selection as ex  # noqa: E402  (the experiments)

import neurohybrid.pynn as sim  # noqa: E402
from neurohybrid.library.basal_ganglia import basal_ganglia, selected  # noqa: E402

TARGET = {"STN": 12.0, "GPe": 30.0, "GPi": 30.0}   # Hz, pars.m tonic calibration


def tonic(n, seed, duration=1500.0, settle=500.0):
    sim.setup(timestep=0.1, seed=seed)
    bg = basal_ganglia(sim, n_per_channel=n, seed=seed, learning=False)
    bg.record("spikes")
    sim.run(duration)
    out = {k: float(bg.extras["channel_rates"](k, settle, duration).mean()) for k in ("D1", "D2", "STN", "GPe", "GPi")}
    sim.end()
    return out


def outcome(seg):
    """mean_outputs.m's code from the last two segments: bits (ch1 sel at t1, ch1 at t2, ch2 at t2)."""
    s1, s2 = selected(seg[1]), selected(seg[2])
    return int(s1[0]) * 4 + int(s2[0]) * 2 + int(s2[1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--n-per-channel", type=int, default=64)
    ap.add_argument("--segment", type=float, default=1000.0, help="ms per switching segment")
    args = ap.parse_args()
    n, t0 = args.n_per_channel, time.perf_counter()
    saliences = np.array([6.0, 10.0, 14.0, 18.0, 22.0, 26.0, 30.0])
    rows = []
    for seed in range(1, args.seeds + 1):
        rates = tonic(n, seed)
        _, _, seg, _ = ex.switching(n, seed, args.segment, 25.0, 40.0, None)
        scan = ex.dopamine_scan(n, seed, saliences, 500.0)
        thr = {tone: ex.threshold(saliences, r) for tone, r in scan.items()}
        before, after, w = ex.learning(n, seed, 3)
        sel_ok = (not selected(seg[0]).any()) and selected(seg[1]).tolist() == [True, False, False]
        da_ok = thr[0.6] <= thr[0.3] <= thr[0.1] and thr[0.6] < thr[0.1]
        learn_ok = bool(selected(after)[0] and not selected(after)[1] and not selected(before)[0])
        rows.append({"seed": seed, "tonic_hz": rates, "switching_gpi_hz": np.round(seg, 2).tolist(),
                     "outcome_code": outcome(seg), "selection_ok": sel_ok, "thresholds_hz": thr,
                     "dopamine_ok": da_ok, "gpi_equal_salience_before": np.round(before, 2).tolist(),
                     "gpi_equal_salience_after": np.round(after, 2).tolist(),
                     "d1_weight_ratio": np.round(w[1][0] / w[0][0], 3).tolist(), "learning_ok": learn_ok})
        print(f"seed {seed}: tonic STN {rates['STN']:.1f} GPe {rates['GPe']:.1f} GPi {rates['GPi']:.1f} Hz "
              f"(pars.m target 12/30/30); switching GPi {np.round(seg, 1).tolist()} (code {outcome(seg)}); "
              f"thresholds {thr} Hz; learning GPi {np.round(before, 1).tolist()} -> {np.round(after, 1).tolist()}",
              flush=True)
    wall = time.perf_counter() - t0
    gpi = float(np.mean([r["tonic_hz"]["GPi"] for r in rows]))
    checks = {k: int(sum(r[k] for r in rows)) for k in ("selection_ok", "dopamine_ok", "learning_ok")}
    ratio = gpi / TARGET["GPi"]
    met = all(v == len(rows) for v in checks.values()) and 0.5 <= ratio <= 1.5
    print(json.dumps({"benchmark": "library_basal_ganglia", "ratio": ratio, "reference_gpi_tonic_hz": TARGET["GPi"],
                      "target": "every seed: salient channel GPi < 5 Hz and others not; selection threshold falls "
                                "with dopamine (0.1 > 0.6); rewarded channel selected after learning; tonic GPi "
                                "0.5-1.5 x pars.m's 30 Hz",
                      "met": bool(met), "checks_passed": checks, "seeds": len(rows), "n_per_channel": n,
                      "tonic_reference_hz": TARGET, "wall_s": wall, "runs": rows}))


if __name__ == "__main__":
    main()
