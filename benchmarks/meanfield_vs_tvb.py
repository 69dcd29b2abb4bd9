"""Mean-field engine vs The Virtual Brain: same model, 76-region connectome, Linear coupling,
speed, dt and deterministic Heun, same constant initial history; compares region time series
(Pearson correlation) and wall times.

TVB runs in a subprocess with the interpreter of a separate venv (TVB pins a numpy/numba that
the project venv cannot take): ``python3 -m venv .venv-tvb && .venv-tvb/bin/pip install
tvb-library tvb-data``; override with ``--tvb-python`` or ``$TVB_PYTHON``. Ours runs in-process
after a warm-up compile. The last line printed is one JSON object.

    .venv/bin/python benchmarks/meanfield_vs_tvb.py [--duration 10000] [--dt 0.1]

This file is also the TVB worker: ``<tvb python> meanfield_vs_tvb.py --tvb-worker in.npz out.npz``
(it must then import only numpy and tvb).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Models compared, with the parameters given to both simulators; coupling is TVB's Linear.
CASES = {
    # a=0.3, tau=2 puts the oscillator on a limit cycle (TVB's defaults settle to a fixed point in < 1 s)
    "Generic2dOscillator": dict(params={"a": 0.3, "tau": 2.0}, coupling_a=0.0042, seed=1),
    "ReducedWongWang": dict(params={}, coupling_a=0.5, seed=2),
}


# ---------------------------------------------------------------------------------- TVB side
def tvb_worker(inp: str, outp: str) -> None:
    """Run TVB on the case described in ``inp`` (npz) and write ``time``, ``data``, ``wall``."""
    import warnings
    warnings.filterwarnings("ignore")
    from tvb.simulator import coupling, integrators, models, monitors, simulator
    from tvb.datatypes import connectivity
    d = np.load(inp, allow_pickle=False)
    model_name = str(d["model"])
    params = json.loads(str(d["params"]))
    conn = connectivity.Connectivity(weights=d["weights"], tract_lengths=d["lengths"],
                                     region_labels=np.array([f"r{i}" for i in range(len(d["weights"]))]),
                                     centres=np.zeros((len(d["weights"]), 3)), speed=np.array([float(d["speed"])]))
    conn.configure()
    model = getattr(models, model_name)(**{k: np.array([v]) for k, v in params.items()})
    dt = float(d["dt"])
    cpl = getattr(coupling, str(d["coupling"]))(**{k: np.array([v]) for k, v in json.loads(str(d["cparams"])).items()})
    integ = getattr(integrators, str(d["integrator"]))(dt=dt)
    sim = simulator.Simulator(model=model, connectivity=conn, coupling=cpl,
                              integrator=integ, monitors=(monitors.Raw(variables_of_interest=np.arange(len(model.state_variables))),),
                              simulation_length=float(d["duration"]))
    x0 = d["x0"]  # (nvar, n): constant history
    conn.set_idelays(dt)
    horizon = conn.idelays.max() + 1
    sim.initial_conditions = np.repeat(x0[None, :, :, None], horizon, axis=0)
    sim.configure()
    t0 = time.perf_counter()
    (t, y), = sim.run()
    wall = time.perf_counter() - t0
    every = int(d["every"])
    np.savez(outp, time=t[every - 1::every], data=y[every - 1::every, :, :, 0].astype(np.float64), wall=wall)


def run_tvb(tvb_python, model_name, params, a, weights, lengths, speed, dt, duration, x0, every=1,
            coupling="Linear", cparams=None, integrator="HeunDeterministic"):
    """Run TVB in a subprocess; returns (time, data (T, nvar, n): every state variable, wall seconds).
    ``a`` is the Linear coupling's slope unless ``cparams`` (TVB coupling parameters) is given."""
    cparams = {"a": a} if cparams is None else cparams
    with tempfile.TemporaryDirectory() as tmp:
        inp, outp = os.path.join(tmp, "in.npz"), os.path.join(tmp, "out.npz")
        np.savez(inp, model=model_name, params=json.dumps(params), a=a, weights=weights, lengths=lengths,
                 speed=speed, dt=dt, duration=duration, x0=x0, every=every,
                 coupling=coupling, cparams=json.dumps(cparams), integrator=integrator)
        subprocess.run([tvb_python, os.path.abspath(__file__), "--tvb-worker", inp, outp], check=True,
                       stdout=subprocess.DEVNULL)
        r = np.load(outp)
        return r["time"], r["data"], float(r["wall"])


def correlations(a, b):
    """Per-region Pearson correlation of (T, n) arrays, and the correlation of the flattened arrays."""
    per = []
    for i in range(a.shape[1]):
        x, y = a[:, i], b[:, i]
        if np.std(x) == 0 or np.std(y) == 0:
            per.append(1.0 if np.allclose(x, y) else 0.0)
        else:
            per.append(float(np.corrcoef(x, y)[0, 1]))
    return np.array(per), float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


# ---------------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=10000.0, help="ms")
    ap.add_argument("--dt", type=float, default=0.1, help="ms")
    ap.add_argument("--speed", type=float, default=3.0, help="mm/ms")
    ap.add_argument("--tvb-python", default=os.environ.get("TVB_PYTHON", os.path.join(ROOT, ".venv-tvb", "bin", "python")))
    ap.add_argument("--connectome", default=None, help="connectivity_76.zip (default: from the TVB venv's tvb_data)")
    args = ap.parse_args()

    sys.path.insert(0, ROOT)
    from neurohybrid.backends.meanfield import (Connectome, HeunDeterministic, Linear, MeanFieldSimulation, MODELS,
                                                Raw)
    path = args.connectome
    if path is None:
        path = subprocess.run([args.tvb_python, "-c", "import tvb_data, os; print(os.path.join(os.path.dirname("
                               "tvb_data.__file__), 'connectivity', 'connectivity_76.zip'))"],
                              check=True, capture_output=True, text=True).stdout.strip()
    conn = Connectome.default_76(path)
    result = {"benchmark": "meanfield_vs_tvb", "n_regions": conn.n_regions, "duration_ms": args.duration,
              "dt_ms": args.dt, "speed_mm_per_ms": args.speed, "models": {}}
    ours_total = tvb_total = 0.0
    for name, case in CASES.items():
        model = MODELS[name](**case["params"])
        x0 = model.random_initial(conn.n_regions, np.random.default_rng(case["seed"]))

        def make():
            return MeanFieldSimulation(conn, MODELS[name](**case["params"]), Linear(a=case["coupling_a"]),
                                       speed=args.speed, dt=args.dt, integrator=HeunDeterministic(),
                                       monitors=[Raw()], initial_state=x0)
        make().run(10 * args.dt)  # warm-up compile
        sim = make()
        t0 = time.perf_counter()
        ours = sim.run(args.duration)["raw"]
        wall_ours = time.perf_counter() - t0
        t_tvb, y_tvb, wall_tvb = run_tvb(args.tvb_python, name, case["params"], case["coupling_a"], conn.weights,
                                         conn.lengths, args.speed, args.dt, args.duration, x0)
        n = min(len(y_tvb), len(ours.data))
        per, flat = correlations(ours.data[:n, 0], y_tvb[:n, 0])
        maxabs = float(np.max(np.abs(ours.data[:n, 0] - y_tvb[:n, 0])))
        result["models"][name] = {"wall_ours_s": wall_ours, "wall_tvb_s": wall_tvb, "ratio": wall_ours / wall_tvb,
                                  "corr_min_region": float(per.min()), "corr_mean_region": float(per.mean()),
                                  "corr_flat": flat, "max_abs_diff": maxabs, "n_samples": n,
                                  "corr_target": 0.999, "corr_met": bool(per.min() >= 0.999)}
        print(f"{name}: ours {wall_ours:.3f} s, TVB {wall_tvb:.3f} s, ratio {wall_ours / wall_tvb:.4f}, "
              f"corr min/mean over regions {per.min():.6f}/{per.mean():.6f}, max|diff| {maxabs:.3g}", flush=True)
        ours_total += wall_ours
        tvb_total += wall_tvb
    ratio = ours_total / tvb_total
    result.update({"ratio": ratio, "target": 0.1, "met": bool(ratio <= 0.1 and all(
        m["corr_met"] for m in result["models"].values())), "wall_ours_s": ours_total, "wall_tvb_s": tvb_total})
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--tvb-worker":
        tvb_worker(sys.argv[2], sys.argv[3])
    else:
        main()
