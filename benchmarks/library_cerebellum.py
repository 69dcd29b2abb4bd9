"""Full-size check of the cerebellar timing module: the learned response peaks at the CS-US interval.

Yamazaki & Tanaka (2007, Eur J Neurosci 26:2279; conditioning figures): after conditioning with a
US at the ISI, the Purkinje cell pauses and the nucleus fires around the ISI. Criterion (issue 14):
the nucleus (DCN) rate peak of probe trials (CS alone) within 10 % of the interval, for several
intervals. Prints per interval our peak beside the published one (= the interval), and last one JSON
line: ratio = mean(our peak / interval), met when every interval is within 10 %.

    python benchmarks/library_cerebellum.py [--n-granule 2000] [--trials 15] [--intervals 200 350 500]
"""
import argparse
import json
import time

import numpy as np


def one(interval, n_granule, trials, probes, seed):
    import neurohybrid.pynn as sim
    from neurohybrid.library import cerebellum as cb
    sim.setup(timestep=0.1)
    mod = cb.cerebellum(sim, n_granule=n_granule, seed=seed, interval=interval)
    mod.record("spikes")
    cb.run_trial(sim, mod, us=False)
    cb.train(sim, mod, trials)
    res = cb.learned_response(mod, [cb.run_trial(sim, mod, us=False) for _ in range(probes)])
    sim.end()
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-granule", type=int, default=2000)
    ap.add_argument("--trials", type=int, default=15)
    ap.add_argument("--probes", type=int, default=4)
    ap.add_argument("--intervals", type=float, nargs="+", default=[200.0, 350.0, 500.0])
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    t0 = time.time()
    rows = []
    for iv in args.intervals:
        r = one(iv, args.n_granule, args.trials, args.probes, args.seed)
        rows.append({"interval": iv, "dcn_peak": r["dcn_peak"], "pc_pause": r["pc_pause"],
                     "dcn_error": round(r["dcn_error"], 3), "pc_error": round(r["pc_error"], 3)})
        print(f"ISI {iv:.0f} ms: DCN peak ours {r['dcn_peak']:.0f} ms vs published {iv:.0f} ms "
              f"(error {100 * r['dcn_error']:.1f} %), PC pause ours {r['pc_pause']:.0f} ms "
              f"(error {100 * r['pc_error']:.1f} %)", flush=True)
    ratio = float(np.mean([r["dcn_peak"] / r["interval"] for r in rows]))
    print(json.dumps({"benchmark": "library_cerebellum", "ratio": round(ratio, 3), "target": "each DCN peak within 10 % of its ISI",
                      "reference": "Yamazaki & Tanaka 2007 EJN 26:2279: learned response at the ISI",
                      "met": all(r["dcn_error"] <= 0.10 for r in rows), "n_granule": args.n_granule,
                      "trials": args.trials, "rows": rows, "seconds": round(time.time() - t0, 1)}))


if __name__ == "__main__":
    main()
