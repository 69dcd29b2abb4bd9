"""Cost of the partition: the Brunel (2000) 10k network split over two float-emulator instances
against the same network unsplit, side by side in one run (issue 10).

Split: the excitatory population on engine ``emulator``, the inhibitory one on ``emulator:b``;
every E->I and I->E projection crosses engines through a bridge of the co-simulation kernel (a
mirror population on the target side), the Poisson drive is generated on both sides. The model
is the one of ``benchmarks/brunel.py`` (dt 0.1 ms, delay 1.5 ms, 1 s). Each configuration runs
in a fresh process; the spikes of the first 1000 E cells must be identical in both (the
partition-invariance contract), and the simulate time of the split run over the unsplit one is
the ratio (target <= 1.10).

    python benchmarks/partition_overhead.py [--n 10000] [--threads 2] [--t-sim 1000] [--repeat 2]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brunel import PARAMS, build_network  # noqa: E402

SPLIT = {"E": "emulator", "I": "emulator:b"}


def run(n, threads, t_sim, split):
    import numpy as np
    import neurohybrid.pynn as sim
    exc, inh, noise, both = build_network(sim, n, threads, engines=SPLIT if split else None)
    exc[: PARAMS["n_recorded"]].record("spikes")
    sim.run(0.0)
    t0 = time.perf_counter()
    sim.run(t_sim)
    t1 = time.perf_counter()
    trains = exc[: PARAMS["n_recorded"]].get_data().segments[0].spiketrains
    h = hashlib.sha256()
    for tr in trains:
        h.update(np.asarray(tr.magnitude, dtype=np.float64).tobytes())
    n_spikes = int(sum(len(tr) for tr in trains))
    engines = sorted(sim.simulator.state.network.engines)
    sim.end()
    return {"simulate_s": t1 - t0, "spikes": n_spikes, "spikes_sha256": h.hexdigest(), "engines": engines}


def measure(n, threads, t_sim, split):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "split" if split else "whole", "--n", str(n),
           "--threads", str(threads), "--t-sim", str(t_sim)]
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--t-sim", type=float, default=1000.0)
    ap.add_argument("--repeat", type=int, default=2, help="runs of each configuration (the fastest counts)")
    ap.add_argument("--child", choices=["whole", "split"])
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run(args.n, args.threads, args.t_sim, args.child == "split")))
        return
    whole, split = [], []
    for _ in range(args.repeat):  # interleaved, so a busy machine slows both alike
        whole.append(measure(args.n, args.threads, args.t_sim, False))
        split.append(measure(args.n, args.threads, args.t_sim, True))
    best_w = min(whole, key=lambda r: r["simulate_s"])
    best_s = min(split, key=lambda r: r["simulate_s"])
    identical = all(r["spikes_sha256"] == whole[0]["spikes_sha256"] for r in whole + split)
    ratio = best_s["simulate_s"] / best_w["simulate_s"]
    print(f"Brunel {args.n}: unsplit {best_w['simulate_s']:.2f} s ({best_w['engines']}), split "
          f"{best_s['simulate_s']:.2f} s ({best_s['engines']}); spikes identical: {identical} "
          f"({best_w['spikes']} spikes of 1000 E cells)")
    print(json.dumps({"benchmark": "partition_overhead", "ratio": ratio, "target": "split simulate <= 1.10 x unsplit, "
                      "identical spikes", "met": bool(ratio <= 1.10 and identical), "spikes_identical": identical,
                      "n": args.n, "threads": args.threads, "t_sim_ms": args.t_sim,
                      "unsplit_simulate_s": [r["simulate_s"] for r in whole],
                      "split_simulate_s": [r["simulate_s"] for r in split], "spikes": best_w["spikes"]}))


if __name__ == "__main__":
    main()
