"""The federation at length: examples/federation.py's model for ``--duration`` ms of brain time
(issue 14: 10 s), measured against the pure scaffold with the same noise in the same run.

Reported:
* wall time per brain second of the whole run and of each co-simulation component (the time
  spent inside each component's ``advance``: the scaffold, every engine, the converters, the
  fields and controllers), measured with the components advanced one after the other;
* the co-simulation overhead: run wall time / the sum of the components' own time (target
  <= 1.15x: what the kernel, the links and the seams add to the engines);
* scaffold FC (S_e) with the modules vs the pure scaffold (target r >= 0.9);
* the cortex on the Loihi path cross-checked through Lava for 20 ms (identical spikes);
* NaN check and rate drift: each module's pooled rate in the first vs the last fifth of the run
  (issue's bar: < 2 % over 10 min of brain time; this run is shorter and says so).

    .venv/bin/python benchmarks/federation.py [--duration 10000] [--scale 1.0]

The last line printed is one JSON object (``ratio`` = the co-simulation overhead).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
import federation as fx  # noqa: E402  (examples/federation.py: the model)

import neurohybrid.pynn as sim  # noqa: E402


def timed_components(cosim) -> dict:
    """Wrap each component's ``advance`` to accumulate its wall time (s), by component name."""
    spent = defaultdict(float)
    for name, comp in cosim.components.items():
        inner = comp.advance

        def advance(t_stop, inbox, _inner=inner, _name=name):
            t = time.perf_counter()
            try:
                return _inner(t_stop, inbox)
            finally:
                spent[_name] += time.perf_counter() - t
        comp.advance = advance
    return spent


def run(conn, x0, duration, scale, factors):
    fx.setup(None)
    fed, modules, recorded = fx.federate(conn, x0, scale, factors)
    sim.run(0.0)
    cosim = sim.simulator.state.network.hybrid.cosim
    cosim.parallel = False  # components one after the other: their own times add up to the run's
    spent = timed_components(cosim)
    t0 = time.perf_counter()
    sim.run(duration)
    wall = time.perf_counter() - t0
    se = fed.brain.get_data("S_e")["values"]
    si = fed.brain.get_data("S_i")["values"]
    drift = {}
    for key, pop in recorded.items():
        trains = [np.asarray(s.magnitude) for s in pop.get_data("spikes").segments[0].spiketrains]
        times = np.concatenate(trains) if trains else np.zeros(0)
        fifth = duration / 5
        first = np.count_nonzero(times < fifth)
        last = np.count_nonzero(times >= duration - fifth)
        if first + last >= 50:
            drift[key] = (last - first) / max(first, 1)
    sim.end()
    return {"wall_s": wall, "components_s": dict(spent), "S_e": se, "S_i": si, "drift": drift}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10000.0)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    conn = fx.connectome()
    x0 = fx.settled_state(conn)
    pure = fx.run_pure(conn, x0, args.duration, None)
    factors = fx.calibrate(conn, x0, pure, args.scale)
    lava = fx.lava_check(conn, x0, args.scale, factors, 20.0)
    print(lava)
    out = run(conn, x0, args.duration, args.scale, factors)
    seconds = args.duration / 1000.0
    settle = max(1, pure["S_e"].shape[0] // 10)
    r = fx.fc_similarity(fx.fc(pure["S_e"], settle), fx.fc(out["S_e"], settle))
    own = sum(out["components_s"].values())
    overhead = out["wall_s"] / own
    finite = bool(np.all(np.isfinite(out["S_e"])) and np.all(np.isfinite(out["S_i"])))
    worst = max(out["drift"].items(), key=lambda kv: abs(kv[1])) if out["drift"] else (None, 0.0)
    print(f"brain time {args.duration:.0f} ms, wall {out['wall_s']:.1f} s ({out['wall_s'] / seconds:.2f} s per brain s)")
    for name, s in sorted(out["components_s"].items(), key=lambda kv: -kv[1]):
        print(f"  {name:40s} {s / seconds:8.3f} s per brain s")
    print(f"co-simulation overhead: {overhead:.3f}x the components' own time (target <= 1.15x)")
    print(f"scaffold FC with the modules vs pure (S_e): r = {r:.3f} (target >= 0.9)")
    print(f"finite: {finite}; largest rate drift first vs last fifth: {worst[0]} {100 * worst[1]:+.1f} % "
          f"(issue's bar < 2 % over 10 min; this run is {seconds:.0f} s)")
    print(json.dumps({"benchmark": "federation", "ratio": overhead, "target": 1.15, "met": bool(overhead <= 1.15),
                      "fc_r": r, "fc_met": bool(r >= 0.9), "finite": finite, "duration_ms": args.duration,
                      "wall_s": out["wall_s"], "wall_per_brain_s": out["wall_s"] / seconds,
                      "components_per_brain_s": {k: v / seconds for k, v in out["components_s"].items()},
                      "worst_drift": {"population": worst[0], "relative": worst[1]},
                      "drift_bar_met": None, "drift_note": "10 min of brain time not run",
                      "lava_cross_check": lava}))


if __name__ == "__main__":
    main()
