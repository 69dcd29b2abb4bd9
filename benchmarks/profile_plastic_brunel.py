"""Where the plastic Brunel run of ``plasticity_vs_nest.py`` spends its simulate time (numba-aware).

py-spy sees a numba kernel only as the Python line that calls it; this helper wraps those calls
(``plastic._process``, the post-history kernels, the engine's per-window stages) with wall-clock
timers, runs the same network as ``plasticity_vs_nest.py --parts brunel`` in this process, and
prints one JSON line: seconds per stage, calls, and counts that explain them (windows, presynaptic
spikes processed, synapse updates, post-history lengths scanned). Nothing in the engine changes:
the timers only wrap module-level names the engine looks up at call time.

    NUMBA_NUM_THREADS=1 python benchmarks/profile_plastic_brunel.py [--n 10000] [--threads 1] [--t-sim 1000]
"""
from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

TIMES: dict = defaultdict(float)
CALLS: dict = defaultdict(int)
COUNTS: dict = defaultdict(int)
ACTIVE = [False]


def timed(owner, name: str, label: str | None = None, after=None):
    """Replace ``owner.name`` by a wrapper adding its wall time to TIMES[label] (while ACTIVE)."""
    fn = getattr(owner, name)
    label = label or name

    def wrapper(*args, **kwargs):
        if not ACTIVE[0]:
            return fn(*args, **kwargs)
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        TIMES[label] += time.perf_counter() - t
        CALLS[label] += 1
        if after is not None:
            after(args, out)
        return out
    setattr(owner, name, wrapper)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--t-sim", type=float, default=1000.0)
    ap.add_argument("--dependence", default="additive")
    ap.add_argument("--alpha", type=float, default=1.2)
    args = ap.parse_args()

    from neurohybrid.backends.emulator import engine, history, plastic, tables

    def count_process(a, _):  # _process(ev_tick, ...): events queued; out_changed = synapses updated
        COUNTS["events_in_queue"] += a[0].size
        COUNTS["synapse_updates"] += int(a[-1].sum())

    def count_append(a, _):  # _append(ticks, cells, first, stamp, kminus, head, count, ...)
        COUNTS["post_spikes"] += a[0].size - a[2]

    def history_stats(a, _):  # PlasticTable.process(self, s, n, n_slots): history lengths now
        table = a[0]
        c = table.history.count
        COUNTS["history_len_sum"] += int(c.sum())
        COUNTS["history_len_cells"] += int(c.size)
        COUNTS["history_capacity"] = int(table.history.capacity)

    timed(plastic, "_process", "plastic._process (numba: STDP of every due presynaptic spike)", count_process)
    timed(plastic.PlasticTable, "process", "PlasticTable.process (total, incl. sort/queue)", history_stats)
    timed(plastic.PlasticTable, "deliver", "PlasticTable.deliver (queue presynaptic spikes)")
    timed(plastic, "_history_bounds", "plastic._history_bounds (numba: prune bounds, one thread)")
    timed(history, "_append", "history._append (numba: post spikes into the history)", count_append)
    timed(history, "_prune", "history._prune (numba)")
    timed(history.PostHistory, "_grow", "PostHistory._grow")
    timed(tables.DeliveryTable, "deliver", "static DeliveryTable.deliver")
    for stage in ("_deliver", "_learn", "_apply_currents", "_integrate", "_emit_source", "_deliver_dopamine",
                  "_run_window"):
        timed(engine.EmulatorEngine, stage, f"engine.{stage}")

    import neurohybrid.pynn as sim
    bench = __import__("importlib.util").util
    spec = bench.spec_from_file_location("pvn", Path(__file__).with_name("plasticity_vs_nest.py"))
    pvn = bench.module_from_spec(spec)
    spec.loader.exec_module(pvn)

    real_run = sim.run

    def run(t, *a, **k):  # time only the simulate call (the build happens in run(0))
        ACTIVE[0] = t > 0
        try:
            return real_run(t, *a, **k)
        finally:
            ACTIVE[0] = False
    sim.run = run
    out = pvn.brunel_neurohybrid(args.n, args.threads, args.t_sim, args.dependence, args.alpha)
    stages = {k: {"s": round(v, 3), "calls": CALLS[k], "share_of_simulate": round(v / out["simulate_s"], 3)}
              for k, v in sorted(TIMES.items(), key=lambda kv: -kv[1])}
    counts = dict(COUNTS)
    if counts.get("history_len_cells"):
        counts["mean_history_len"] = counts["history_len_sum"] / counts["history_len_cells"]
    if counts.get("synapse_updates"):
        k = "plastic._process (numba: STDP of every due presynaptic spike)"
        counts["ns_per_synapse_update"] = 1e9 * TIMES[k] / counts["synapse_updates"]
    print(json.dumps({"run": out, "stages": stages, "counts": counts}, indent=1))


if __name__ == "__main__":
    main()
