"""The PD14 microcircuit module at full in-degree: per-population rates vs the published ones.

Builds ``neurohybrid.library.cortex.cortex`` at ``--n-scale`` (default 0.1: 7,712 neurons) with
``--k-scale 1`` (the full in-degrees: no weight scaling, no DC compensation; ~30 M synapses at
n 0.1), Poisson background, runs ``--duration`` ms and compares each population's rate (after
``--transient`` ms) with the full-scale rates of NEST's PyNEST microcircuit (network_params.py
``full_mean_rates``: N_scaling = K_scaling = 1). Target: every population within
[1/1.5, 1.5] x its reference. The last stdout line is one JSON object; ``ratio`` is the ratio
furthest from 1 (in log), ``ratios`` all of them.

    python benchmarks/library_cortex.py [--n-scale 0.1] [--k-scale 1] [--duration 1000]
"""
from __future__ import annotations

import argparse
import json
import math
import time

import neurohybrid.pynn as sim
from neurohybrid.library.cortex import POPULATIONS, REFERENCE_RATES, cortex, layer_rates

TOLERANCE = 1.5


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-scale", type=float, default=0.1)
    ap.add_argument("--k-scale", type=float, default=1.0)
    ap.add_argument("--duration", type=float, default=1000.0, help="ms")
    ap.add_argument("--transient", type=float, default=200.0, help="ms")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    t0 = time.time()
    sim.setup(timestep=0.1, seed=args.seed)
    ctx = cortex(sim, n_scale=args.n_scale, k_scale=args.k_scale, seed=args.seed)
    ctx.record("spikes")
    n_syn = sum(p.size() for p in ctx.extras["projections"].values())
    t1 = time.time()
    sim.run(args.duration)
    t2 = time.time()
    rates = layer_rates(ctx, args.transient, args.duration)
    sim.end()
    ratios = {n: rates[n] / REFERENCE_RATES[n] for n in POPULATIONS}
    for n in POPULATIONS:
        print(f"{n:5s} ours {rates[n]:6.2f} Hz  NEST full scale {REFERENCE_RATES[n]:6.2f} Hz  ratio {ratios[n]:.2f}")
    worst = max(ratios.values(), key=lambda r: abs(math.log(r)) if r > 0 else math.inf)
    met = all(r > 0 and 1 / TOLERANCE <= r <= TOLERANCE for r in ratios.values())
    print(json.dumps({
        "benchmark": "library_cortex", "ratio": round(worst, 3),
        "target": f"every population's rate within [{1 / TOLERANCE:.2f}, {TOLERANCE}] x NEST full-scale",
        "met": met, "reference": "NEST PyNEST microcircuit full_mean_rates (Hz)",
        "reference_rates": REFERENCE_RATES, "rates": {n: round(r, 3) for n, r in rates.items()},
        "ratios": {n: round(r, 3) for n, r in ratios.items()}, "n_scale": args.n_scale, "k_scale": args.k_scale,
        "neurons": sum(ctx.extras["sizes"].values()), "synapses": n_syn, "duration_ms": args.duration,
        "build_s": round(t1 - t0, 1), "run_s": round(t2 - t1, 1)}))


if __name__ == "__main__":
    main()
