"""Parameter identity across tools, full size: every cell class of the library (plus the PD14,
Vogels-Abbott COBA and Izhikevich RS reference classes of examples/cell_forms.py and the tests)
through ``neurohybrid.library.agreement.agreement`` on every engine that has a form, with long runs.

The figure of merit is the worst |engine - float emulator| / tolerance over all bounded
comparisons (f-I per current level, PSP peak and time to peak, Poisson-driven rate): <= 1 means
every form agrees within its stated tolerance (quantisation-limited for the Loihi path,
integration-method-limited for NEURON; neurohybrid/library/forms.py says where each comes from).

    python benchmarks/library_forms.py [--duration 1000] [--classes all|NAME,NAME]
"""
import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from neurohybrid.library.base import Range  # noqa: E402
from neurohybrid.library.cells import CellClass, all_cell_classes  # noqa: E402
from neurohybrid.library.agreement import agreement  # noqa: E402

COBA = CellClass("Vogels-Abbott COBA", "IF_cond_exp",
                 {k: Range(v) for k, v in dict(cm=0.2, tau_m=20.0, v_rest=-60.0, v_reset=-60.0, v_thresh=-50.0,
                                               tau_refrac=5.0, tau_syn_E=5.0, tau_syn_I=10.0, e_rev_E=0.0,
                                               e_rev_I=-80.0, i_offset=0.0).items()},
                 source="Vogels & Abbott (2005) J Neurosci 25:10786")


def classes(which: str) -> dict:
    from cell_forms import IZH_RS, PD14_L23E
    pool = {c.name: c for c in (PD14_L23E, COBA, IZH_RS)}
    pool.update(all_cell_classes())
    if which == "all":
        return pool
    names = which.split(",")
    missing = [n for n in names if n not in pool]
    if missing:
        raise SystemExit(f"unknown classes {missing}; known: {sorted(pool)}")
    return {n: pool[n] for n in names}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=1000.0, help="ms per agreement run")
    ap.add_argument("--classes", default="all")
    args = ap.parse_args()
    t0, load = time.perf_counter(), os.getloadavg()
    worst, worst_what, n_comp, per_class = 0.0, None, 0, {}
    for name, cc in classes(args.classes).items():
        t = time.perf_counter()
        rep = agreement(cc, engines=None, duration=args.duration)
        print(rep.format(), flush=True)
        bounded = [c for c in rep.comparisons if math.isfinite(c.tol)]
        n_comp += len(bounded)
        ratios = [abs(c.value - c.reference) / c.tol for c in bounded]
        cls_worst = max(ratios, default=math.nan)
        per_class[name] = {"model": cc.model, "engines": sorted(e for e in rep.forms), "skipped": rep.skipped,
                           "worst_ratio": cls_worst, "ok": rep.ok, "seconds": time.perf_counter() - t}
        for c, r in zip(bounded, ratios):
            if r > worst:
                worst, worst_what = r, f"{name}: {c.quantity} on {c.engine} ({c.value:.4g} vs {c.reference:.4g}, tol {c.tol:.3g})"
    print(json.dumps({"benchmark": "library_forms", "ratio": worst, "target": 1.0, "met": bool(worst <= 1.0),
                      "reference": "the float emulator (PyNN/NEST semantics) running the same cell class",
                      "worst": worst_what, "comparisons": n_comp, "classes": per_class, "duration_ms": args.duration,
                      "load_before": load, "total_s": time.perf_counter() - t0}))


if __name__ == "__main__":
    main()
