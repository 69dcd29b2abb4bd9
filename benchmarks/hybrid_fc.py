"""Region replacement: over 60 s of brain time the functional connectivity (FC) of the hybrid run
must correlate >= 0.9 with the pure mean-field run's; and long-run stability of the hybrid
(10 minutes of brain time: no NaN, mean rates drifting <= 2% between the first and last minute).

The configuration is the flagship demo's (examples/hybrid_brain.py, whose functions are used
as they are): TVB's 76-region scaffold with ``rPFCDL`` replaced by the 800E/200I circuit on the
fixed-point Loihi emulator, the seam calibrated on the pure run as the demo does.

FC: Pearson correlation of the regions' S_e (10 ms averages, first tenth dropped as the demo's
``fc``), compared by ``fc_similarity`` (correlation of the upper triangles). The target figure
is hybrid vs pure with the same settled initial state and the same scaffold noise seed. For
context: two pure runs with different noise seeds, and hybrid vs pure with different seeds (how
much of the FC is reproducible structure rather than the shared noise realisation); and the
same comparisons on BOLD (TR 720 ms: ~83 samples in 60 s, first 10 dropped for the haemodynamic
transient).

Stability: the hybrid run for ``--stability-minutes`` minutes in 60 s ``sim.run`` chunks, recorded
to benchmarks/output/ (memory stays bounded); no NaN in S_e, S_i, the seam rates and afferent
drive; relative change of the circuit's mean E and I rates (the ``rPFCDL.rates`` seam signal) and
of the scaffold's mean S_e over all regions between minute 1 and the last minute.

    .venv/bin/python benchmarks/hybrid_fc.py [--duration 60000] [--no-stability] [--stability-minutes 10]

The last line printed is one JSON object ("ratio": the FC similarity, target 0.9; stability as
extra fields with their own "met").
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "output")


def fc_block(hb, runs, key, settle):
    """FC similarities of the named runs on signal ``key``."""
    fcs = {name: hb.fc(run[key]["values"], settle) for name, run in runs.items()}
    pairs = {"hybrid_vs_pure_same_noise": ("hybrid1", "pure1"),
             "pure_vs_pure_other_noise": ("pure1", "pure2"),
             "hybrid_vs_pure_other_noise": ("hybrid1", "pure2"),
             "hybrid_other_noise_vs_pure": ("hybrid2", "pure1"),
             "hybrid_vs_hybrid_other_noise": ("hybrid1", "hybrid2")}
    return {k: hb.fc_similarity(fcs[a], fcs[b]) for k, (a, b) in pairs.items() if a in fcs and b in fcs}


def stability(hb, np, conn, x0, gain, baseline, minutes, threads, path):
    from cosim_overhead import hybrid_session
    sim = hb.sim
    brain, E, I, net = hybrid_session(conn, x0, gain, baseline, threads, path=path)
    t0 = time.perf_counter()
    for m in range(minutes):
        t = time.perf_counter()
        sim.run(60000.0)
        print(f"stability: minute {m + 1}/{minutes} in {time.perf_counter() - t:.1f} s", flush=True)
    wall = time.perf_counter() - t0
    region = hb.REGION
    sig = {v: brain.get_data(v) for v in ("S_e", "S_i", f"{region}.rates", f"{region}.afferent")}
    sim.end()
    finite = {v: bool(np.all(np.isfinite(s["values"]))) for v, s in sig.items()}

    def per_minute(s):
        t, x = s["times"], s["values"]
        k = np.minimum((t // 60000.0).astype(int), minutes - 1)
        return np.array([x[k == j].mean(0) for j in range(minutes)])
    rates = per_minute(sig[f"{region}.rates"])        # (minutes, 2): E, I Hz
    se = per_minute(sig["S_e"]).mean(1)                # mean over regions
    aff = per_minute(sig[f"{region}.afferent"])[:, 0]
    drift = {"E_rate": float(rates[-1, 0] / rates[0, 0] - 1.0), "I_rate": float(rates[-1, 1] / rates[0, 1] - 1.0),
             "S_e_mean": float(se[-1] / se[0] - 1.0)}
    worst = max(abs(v) for v in drift.values())
    no_nan = all(finite.values())
    return {"minutes": minutes, "wall_s": wall, "no_nan": no_nan, "finite": finite,
            "E_rate_hz_per_minute": rates[:, 0].tolist(), "I_rate_hz_per_minute": rates[:, 1].tolist(),
            "S_e_mean_per_minute": se.tolist(), "afferent_hz_per_minute": aff.tolist(),
            "drift_first_to_last_minute": drift, "max_abs_drift": worst, "drift_target": 0.02,
            "met": bool(no_nan and worst <= 0.02)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=60000.0, help="brain time of the FC runs, ms")
    ap.add_argument("--stability", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--stability-minutes", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1, help="engine threads (sim.setup, NUMBA_NUM_THREADS)")
    ap.add_argument("--output", default=OUT)
    args = ap.parse_args()
    os.environ["NUMBA_NUM_THREADS"] = str(args.threads)
    sys.path.insert(0, ROOT)
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    sys.path.insert(0, HERE)
    import numpy as np
    import hybrid_brain as hb
    from cosim_overhead import setup as setup_threads
    # the demo's sessions, with the thread count given explicitly
    hb.setup = lambda path, backend, seed: setup_threads(path, seed, args.threads)
    os.makedirs(args.output, exist_ok=True)
    t_start = time.perf_counter()
    conn = hb.connectome()
    x0 = hb.settled_state(conn)
    runs, walls = {}, {}
    h5 = lambda name: os.path.join(args.output, f"hybrid_fc_{name}.h5")  # noqa: E731
    t = time.perf_counter()
    runs["pure1"] = hb.run_pure(conn, x0, args.duration, h5("pure1"), noise_seed=1)
    walls["pure1"] = time.perf_counter() - t
    op = hb.operating_point(conn, runs["pure1"])
    drive, k = hb.calibrate("emulator", op["rate_hz"])
    gain = op["slope_hz_per_c"] / k
    baseline = drive - gain * op["c"]
    print(f"calibration: {hb.REGION} at {op['rate_hz']:.2f} Hz, c = {op['c']:.3f}: gain {gain:.3f} Hz per unit c, "
          f"baseline {baseline:.2f} Hz", flush=True)
    for seed in (1, 2):
        t = time.perf_counter()
        runs[f"hybrid{seed}"] = hb.run_hybrid(conn, x0, args.duration, h5(f"hybrid{seed}"), "emulator", gain, baseline,
                                              noise_seed=seed)
        walls[f"hybrid{seed}"] = time.perf_counter() - t
        print(f"hybrid, noise seed {seed}: {args.duration:g} ms in {runs[f'hybrid{seed}']['wall_s']:.1f} s", flush=True)
    t = time.perf_counter()
    runs["pure2"] = hb.run_pure(conn, x0, args.duration, h5("pure2"), noise_seed=2)
    walls["pure2"] = time.perf_counter() - t
    settle = runs["pure1"]["S_e"]["values"].shape[0] // 10
    fc_se = fc_block(hb, runs, "S_e", settle)
    n_bold = min(r["bold"]["values"].shape[0] for r in runs.values())
    bold_settle = 10
    if n_bold - bold_settle >= 3:
        fc_bold = fc_block(hb, {k: {"bold": {"values": r["bold"]["values"][:n_bold]}} for k, r in runs.items()},
                           "bold", bold_settle)
        # second half only: how much of the BOLD FC is the runs' shared haemodynamic transient
        late = n_bold // 2
        fc_bold["second_half"] = fc_block(hb, {k: {"bold": {"values": r["bold"]["values"][:n_bold]}}
                                                for k, r in runs.items()}, "bold", late)
        fc_bold["second_half"]["n_samples"] = int(n_bold - late)
    else:  # too short a run for BOLD FC
        fc_bold = {}
    r = conn.labels.index(hb.REGION)
    rates = runs["hybrid1"][f"{hb.REGION}.rates"]["values"]
    region = {"S_e_pure": float(runs["pure1"]["S_e"]["values"][settle:, r].mean()),
              "S_e_hybrid": float(runs["hybrid1"]["S_e"]["values"][settle:, r].mean()),
              "E_rate_hz": float(rates[:, 0].mean()), "I_rate_hz": float(rates[:, 1].mean()),
              "target_rate_hz": float(op["rate_hz"])}
    for name, v in fc_se.items():
        print(f"FC similarity (S_e) {name}: {v:.4f}", flush=True)
    for name, v in fc_bold.items():
        if not isinstance(v, dict):
            print(f"FC similarity (BOLD, {n_bold - bold_settle} samples) {name}: {v:.4f}", flush=True)
    for name, v in fc_bold.get("second_half", {}).items():
        if name != "n_samples":
            print(f"FC similarity (BOLD, second half, {fc_bold['second_half']['n_samples']} samples) {name}: {v:.4f}",
                  flush=True)
    print(f"{hb.REGION}: S_e pure {region['S_e_pure']:.4f} vs hybrid {region['S_e_hybrid']:.4f}; circuit E "
          f"{region['E_rate_hz']:.2f} Hz (target {region['target_rate_hz']:.2f}), I {region['I_rate_hz']:.2f} Hz",
          flush=True)
    ratio = fc_se["hybrid_vs_pure_same_noise"]
    result = {"benchmark": "hybrid_fc", "ratio": ratio, "target": 0.9, "met": bool(ratio >= 0.9),
              "duration_ms": args.duration, "threads": args.threads, "fc_S_e": fc_se,
              "fc_bold": ({**fc_bold, "n_samples": int(n_bold - bold_settle), "tr_ms": 720.0} if fc_bold else None),
              "replaced_region": region, "calibration": {"gain_hz_per_c": float(gain), "baseline_hz": float(baseline)},
              "wall_s": {k: float(v) for k, v in walls.items()},
              "hybrid_run_wall_s": {k: float(runs[k]["wall_s"]) for k in ("hybrid1", "hybrid2")}}
    runs.clear()
    if args.stability:
        st = stability(hb, np, conn, x0, gain, baseline, args.stability_minutes, args.threads,
                       h5("stability"))
        print(f"stability: {st['minutes']} min of brain time in {st['wall_s']:.1f} s; no NaN: {st['no_nan']}; "
              f"drift first->last minute {st['drift_first_to_last_minute']}", flush=True)
        result["stability"] = st
        result["stability_met"] = st["met"]
    result["total_s"] = time.perf_counter() - t_start
    print(json.dumps(result))


if __name__ == "__main__":
    main()
