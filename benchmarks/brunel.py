"""Brunel (2000) sparse balanced network: neurohybrid's emulator against NEST 3.10, side by side.

Network: iaf/IF_curr_delta neurons (C_m 1, tau_m 20 ms, t_ref 2 ms, V_th 20 mV, V_reset 10 mV,
E_L 0), N_E = 0.8 N, fixed in-degree C_E = 0.1 N_E and C_I = 0.1 N_I, J = 0.1 mV, g = 5, eta = 2
(independent Poisson drive of rate eta * nu_th * C_E per neuron), delay 1.5 ms, dt 0.1 ms,
1 s simulated after build. neurohybrid runs the model as a PyNN script; NEST runs the same model
through its native API (its fastest path). Each configuration runs in a fresh process so that
peak memory (max RSS) belongs to it alone.

    python benchmarks/brunel.py [--sizes 10000 50000] [--threads 1 2] [--t-sim 1000]

The last line printed is one JSON object with every figure and the ratios neurohybrid / NEST.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

PARAMS = dict(J=0.1, g=5.0, eta=2.0, delay=1.5, tau_m=20.0, theta=20.0, v_reset=10.0, t_ref=2.0, dt=0.1,
              n_recorded=1000, seed=1234)


def derived(n):
    ne = int(0.8 * n)
    ni = n - ne
    ce, ci = int(0.1 * ne), int(0.1 * ni)
    nu_th = PARAMS["theta"] / (PARAMS["J"] * ce * PARAMS["tau_m"])  # kHz
    return ne, ni, ce, ci, 1000.0 * PARAMS["eta"] * nu_th * ce  # Hz


def build_network(sim, n, threads=None, connect=True, engines=None):
    """Set up the Brunel network in a neurohybrid.pynn session; returns (exc, inh, noise, exc + inh).
    With ``connect=False`` only the populations are created (benchmarks/loihi_reports.py builds
    the 100k network's edges itself). ``engines``: {"E"/"I": engine instance} places populations
    (benchmarks/partition_overhead.py splits the network over two engines)."""
    engines = engines or {}
    p = PARAMS
    ne, ni, ce, ci, p_rate = derived(n)
    sim.setup(timestep=p["dt"], min_delay=p["delay"], max_delay=p["delay"], threads=threads, seed=p["seed"])
    cells = dict(tau_m=p["tau_m"], cm=1.0, v_rest=0.0, v_reset=p["v_reset"], v_thresh=p["theta"],
                 tau_refrac=p["t_ref"], i_offset=0.0)
    exc = sim.Population(ne, sim.IF_curr_delta(**cells), label="E", engine=engines.get("E"))
    inh = sim.Population(ni, sim.IF_curr_delta(**cells), label="I", engine=engines.get("I"))
    rng = sim.NumpyRNG(seed=p["seed"])
    both = exc + inh
    both.initialize(v=sim.RandomDistribution("uniform", (0.0, p["theta"]), rng=rng))
    noise = sim.Population(n, sim.SpikeSourcePoisson(rate=p_rate), label="noise")
    if connect:
        sim.Projection(exc, both, sim.FixedNumberPreConnector(ce, rng=rng),
                       sim.StaticSynapse(weight=p["J"], delay=p["delay"]), receptor_type="excitatory")
        sim.Projection(inh, both, sim.FixedNumberPreConnector(ci, rng=rng),
                       sim.StaticSynapse(weight=-p["g"] * p["J"], delay=p["delay"]), receptor_type="inhibitory")
        sim.Projection(noise, both, sim.OneToOneConnector(), sim.StaticSynapse(weight=p["J"], delay=p["delay"]),
                       receptor_type="excitatory")
    return exc, inh, noise, both


def run_neurohybrid(n, threads, t_sim):
    import time
    t0 = time.perf_counter()
    import neurohybrid.pynn as sim
    p = PARAMS
    exc, inh, noise, both = build_network(sim, n, threads)
    exc[: p["n_recorded"]].record("spikes")
    sim.run(0.0)  # builds the engine (generation of the delivery tables counts as build)
    t1 = time.perf_counter()
    sim.run(t_sim)
    t2 = time.perf_counter()
    counts = exc[: p["n_recorded"]].get_spike_counts()
    rate = sum(counts.values()) / len(counts) / (t_sim / 1000.0)
    sim.end()
    return {"build_s": t1 - t0, "simulate_s": t2 - t1, "rate_hz": rate}


def run_nest(n, threads, t_sim):
    import time
    t0 = time.perf_counter()
    import nest
    import numpy as np
    p = PARAMS
    ne, ni, ce, ci, p_rate = derived(n)
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": p["dt"], "local_num_threads": threads, "rng_seed": p["seed"],
                          "print_time": False})
    neuron = {"C_m": 1.0, "tau_m": p["tau_m"], "t_ref": p["t_ref"], "E_L": 0.0, "V_reset": p["v_reset"],
              "V_th": p["theta"], "V_m": 0.0}
    exc = nest.Create("iaf_psc_delta", ne, params=neuron)
    inh = nest.Create("iaf_psc_delta", ni, params=neuron)
    allc = exc + inh
    allc.V_m = nest.random.uniform(0.0, p["theta"])
    noise = nest.Create("poisson_generator", params={"rate": p_rate})
    rec = nest.Create("spike_recorder")
    nest.Connect(noise, allc, syn_spec={"weight": p["J"], "delay": p["delay"]})
    # NEST holds at most 134,217,726 connections per thread and synapse model; at 50k neurons on one
    # thread the E projection alone has 200M, so targets are split over copies of static_synapse.
    per_model = 100_000_000 * threads
    for source, indegree, weight in ((exc, ce, p["J"]), (inh, ci, -p["g"] * p["J"])):
        chunk = max(1, per_model // indegree)
        for k, first in enumerate(range(0, n, chunk)):
            model = f"static_{source is exc}_{k}"
            nest.CopyModel("static_synapse", model)
            nest.Connect(source, allc[first:min(first + chunk, n)], {"rule": "fixed_indegree", "indegree": indegree},
                         {"synapse_model": model, "weight": weight, "delay": p["delay"]})
    nest.Connect(exc[: p["n_recorded"]], rec)
    nest.Prepare()
    nest.Run(0.1)  # NEST finalises connection infrastructure lazily; count it as build
    t1 = time.perf_counter()
    nest.Run(t_sim)
    t2 = time.perf_counter()
    nest.Cleanup()
    events = rec.get("events")
    rate = np.sum(events["times"] > 0.1) / p["n_recorded"] / (t_sim / 1000.0)
    return {"build_s": t1 - t0, "simulate_s": t2 - t1, "rate_hz": float(rate)}


def child(args):
    import resource
    fn = run_neurohybrid if args.engine == "neurohybrid" else run_nest
    out = fn(args.n, args.threads_one, args.t_sim)
    out["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(out))


def measure(engine, n, threads, t_sim):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", engine, "--n", str(n), "--threads-one",
           str(threads), "--t-sim", str(t_sim)]
    env = dict(os.environ, NUMBA_NUM_THREADS=str(max(threads, 1)), OMP_NUM_THREADS=str(threads))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:] or ["failed"]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000, 50000])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--t-sim", type=float, default=1000.0)
    ap.add_argument("--child", choices=["neurohybrid", "nest"])
    ap.add_argument("--n", type=int)
    ap.add_argument("--threads-one", type=int)
    args = ap.parse_args()
    if args.child:
        args.engine = args.child
        return child(args)

    results = []
    for n in args.sizes:
        for threads in args.threads:
            ours = measure("neurohybrid", n, threads, args.t_sim)
            ref = measure("nest", n, threads, args.t_sim)
            row = {"n": n, "threads": threads, "neurohybrid": ours, "nest": ref}
            if "error" not in ours and "error" not in ref:
                row["simulate_ratio"] = ours["simulate_s"] / ref["simulate_s"]
                row["build_ratio"] = ours["build_s"] / ref["build_s"]
                row["memory_ratio"] = ours["peak_memory_mb"] / ref["peak_memory_mb"]
                row["rate_rel_diff"] = abs(ours["rate_hz"] - ref["rate_hz"]) / ref["rate_hz"]
                row["realtime_factor_neurohybrid"] = ours["simulate_s"] / (args.t_sim / 1000.0)
                row["realtime_factor_nest"] = ref["simulate_s"] / (args.t_sim / 1000.0)
            print(json.dumps(row), flush=True)
            results.append(row)
    ok = [r for r in results if "simulate_ratio" in r]
    worst = max((r["simulate_ratio"] for r in ok), default=float("nan"))
    worst_mem = max((r["memory_ratio"] for r in ok), default=float("nan"))
    rates_ok = all(r["rate_rel_diff"] <= 0.05 for r in ok)
    met = bool(ok) and len(ok) == len(results) and worst <= 0.5 and worst_mem <= 1.0 and rates_ok
    print(json.dumps({"benchmark": "brunel", "ratio": worst, "target": "simulate <= 0.5 x NEST, memory <= NEST, "
                      "rates within 5%", "met": met, "memory_ratio": worst_mem, "rates_agree": rates_ok,
                      "t_sim_ms": args.t_sim, "runs": results}))


if __name__ == "__main__":
    main()
