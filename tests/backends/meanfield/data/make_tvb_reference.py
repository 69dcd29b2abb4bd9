"""Generate the TVB reference time series that tests/backends/meanfield/test_meanfield_tvb_reference.py
compares against (the tests themselves never need TVB).

Run from the repository root with the project interpreter; TVB runs in a subprocess with the
interpreter of the separate TVB venv (see benchmarks/meanfield_vs_tvb.py):

    .venv/bin/python tests/backends/meanfield/data/make_tvb_reference.py [--tvb-python .venv-tvb/bin/python]

Writes ``tvb_reference.npz``: the 76-region connectome (weights, tract lengths), and per case the
constant initial history ``x0`` and TVB's state (every variable) every ``EVERY`` steps.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
sys.path.insert(0, ROOT)

from meanfield_vs_tvb import run_tvb  # noqa: E402

DT, SPEED, EVERY = 0.1, 3.0, 20

# name: (model, model params, coupling, coupling params, integrator, connectome, duration ms, seed)
CASES = {
    "g2d_76": ("Generic2dOscillator", {"a": 0.3, "tau": 2.0}, "Linear", {"a": 0.0042}, "HeunDeterministic", "c76", 1000.0, 1),
    "rww_76": ("ReducedWongWang", {}, "Linear", {"a": 0.5}, "HeunDeterministic", "c76", 1000.0, 2),
    "g2d_sigmoidal": ("Generic2dOscillator", {"a": 0.3, "tau": 2.0}, "Sigmoidal", {"a": 1.0, "sigma": 2.0},
                      "HeunDeterministic", "syn", 500.0, 3),
    "g2d_difference_euler": ("Generic2dOscillator", {"a": 0.3, "tau": 2.0}, "Difference", {"a": 0.05},
                             "EulerDeterministic", "syn", 500.0, 4),
    "rwwei_linear": ("ReducedWongWangExcInh", {}, "Linear", {"a": 1.0}, "HeunDeterministic", "syn", 500.0, 5),
    "suphopf_linear": ("SupHopf", {"a": 0.2, "omega": 0.06}, "Linear", {"a": 0.05}, "HeunDeterministic", "syn",
                       500.0, 6),
    "kuramoto": ("Kuramoto", {"omega": 0.05}, "Kuramoto", {"a": 0.02}, "HeunDeterministic", "syn", 500.0, 7),
    "wilsoncowan": ("WilsonCowan", {"P": 1.0}, "Linear", {"a": 0.5}, "HeunDeterministic", "syn", 500.0, 8),
    "mpr": ("MontbrioPazoRoxin", {}, "Linear", {"a": 0.01}, "HeunDeterministic", "syn", 500.0, 9),
    "jansenrit": ("JansenRit", {}, "SigmoidalJansenRit", {"a": 10.0}, "HeunDeterministic", "syn", 500.0, 10),
}
# initial states are drawn from the model's state_variable_range times this factor: SupHopf at
# |x| ~ 5 and JansenRit's wide ranges are explicit-Heun unstable at dt 0.1 in both simulators
X0_SCALE = {"SupHopf": 0.1, "JansenRit": 0.02}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tvb-python", default=os.path.join(ROOT, ".venv-tvb", "bin", "python"))
    args = ap.parse_args()
    from neurohybrid.backends.meanfield import Connectome, MODELS
    path = subprocess.run([args.tvb_python, "-c", "import tvb_data, os; print(os.path.join(os.path.dirname("
                           "tvb_data.__file__), 'connectivity', 'connectivity_76.zip'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    conns = {"c76": Connectome.default_76(path), "syn": Connectome.synthetic(8, seed=0)}
    out = {"c76_weights": conns["c76"].weights, "c76_lengths": conns["c76"].lengths,
           "c76_labels": np.array(conns["c76"].labels), "dt": DT, "speed": SPEED, "every": EVERY,
           "cases": json.dumps({k: v for k, v in CASES.items()})}
    for name, (model, params, cpl, cpar, integ, cname, dur, seed) in CASES.items():
        conn = conns[cname]
        x0 = MODELS[model](**params).random_initial(conn.n_regions, np.random.default_rng(seed))
        x0 *= X0_SCALE.get(model, 1.0)
        t, y, wall = run_tvb(args.tvb_python, model, params, None, conn.weights, conn.lengths, SPEED, DT, dur,
                             x0, every=EVERY, coupling=cpl, cparams=cpar, integrator=integ)
        out[f"{name}_x0"] = x0
        out[f"{name}_data"] = y
        print(name, y.shape, f"{wall:.2f} s", float(np.std(y[len(y) // 2:, 0])))
    np.savez_compressed(os.path.join(HERE, "tvb_reference.npz"), **out)


if __name__ == "__main__":
    main()
