"""The fixed-point emulator against Lava ``fixed_pt``: one Loihi circuit, both simulators, same run.

Network: 10,000 Loihi LIF compartments (8,000 excitatory, 2,000 inhibitory), fixed in-degree
1,000 (800 excitatory + 200 inhibitory presynaptic neurons drawn without repetition), so 10
million synapses in four projections (E->E, E->I, I->E, I->I); Lava ``LIF`` neurons with
tau_m = 200 steps (dv = 20), u cleared every step (du = 4095: delta synapses), threshold
vth = 1000 (64,000 v units), suprathreshold heterogeneous biases and random initial v (an
asynchronous irregular regime), excitatory weight 6 and inhibitory weight -30 (g = 5),
spike-to-input latency 1 step by default (Lava ``Sparse``; ``--latency N`` > 1 uses
``DelaySparse``, much slower in Lava).

The same :class:`~neurohybrid.mappings.loihi.circuit.LoihiCircuit` runs

- on the emulator's :class:`~neurohybrid.backends.emulator.fixed.FixedPointNetwork`
  (``fixed_network``), ``--steps`` steps (default 1,000), spikes only;
- on Lava ``Loihi2SimCfg(select_tag="fixed_pt")`` (``build_processes``), ``--lava-steps`` steps
  (default 300: Lava is slow), spikes recorded by the host recorders.

Build times (circuit -> simulator objects; Lava: process construction, then compilation and
start of its runtime) are reported apart from the run. Steps per second are measured after
compilation/JIT: the emulator after a one-step warm-up (median of three runs from the initial
state), Lava over the steps after its first ``--lava-warmup`` steps (the first Lava step also
clips and truncates every weight).
The spikes of the steps both ran must be identical.

    python benchmarks/loihi_emulator.py [--n 10000] [--k 1000] [--steps 1000] [--lava-steps 300]
                                        [--latency 1] [--profile]

The last line printed is one JSON object:
``{"benchmark": "loihi_emulator", "ratio": emulator_steps_per_s / lava_steps_per_s,
"target": 200, "met": ..., ..., "spikes_identical": ...}``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

TARGET = 200


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def fixed_indegree(rng, n_post: int, n_pre: int, k: int, chunk: int = 500):
    """(rows, cols) of k distinct presynaptic neurons (of n_pre) per postsynaptic neuron."""
    rows = np.repeat(np.arange(n_post, dtype=np.int64), k)
    cols = np.empty(n_post * k, np.int64)
    for a in range(0, n_post, chunk):
        b = min(a + chunk, n_post)
        keys = rng.random((b - a, n_pre), dtype=np.float32)
        cols[a * k:b * k] = np.argpartition(keys, k - 1, axis=1)[:, :k].ravel()
    return rows, cols


def make_circuit(n: int = 10_000, k: int = 1_000, latency: int = 1, seed: int = 1234):
    """The benchmark's E/I circuit (see the module docstring)."""
    from neurohybrid.mappings.loihi.circuit import LoihiCircuit, LoihiPopulation, LoihiProjection
    rng = np.random.default_rng(seed)
    ne = int(0.8 * n)
    ni = n - ne
    ke = int(0.8 * k)
    ki = k - ke
    vth = 1000
    circuit = LoihiCircuit(dt_ms=0.1, manifest={"seed": seed})
    for name, size in (("E", ne), ("I", ni)):
        circuit.populations[name] = LoihiPopulation(
            name, size, du=np.full(size, 4095), dv=np.full(size, 20), vth=np.full(size, vth),
            # v settles at bias * 4096 / dv = 204.8 bias: 1.0-1.2 thresholds without input
            bias_mant=rng.integers(313, 375, size), bias_exp=np.zeros(size, np.int64),
            refractory=np.zeros(size, np.int64), u0=np.zeros(size, np.int64),
            v0=rng.integers(0, 64 * vth, size), scale=3200.0, v_rest=-65.0, source_model="IF_curr_delta")
    for pre, n_pre, kk, w in (("E", ne, ke, 6), ("I", ni, ki, -30)):
        for post, n_post in (("E", ne), ("I", ni)):
            rows, cols = fixed_indegree(rng, n_post, n_pre, kk)
            circuit.projections.append(LoihiProjection(
                f"{pre}->{post}", pre, post, rows, cols, np.full(rows.size, w, np.int64),
                np.full(rows.size, latency, np.int64), 0))
    return circuit


def run_emulator(circuit, steps: int) -> dict:
    from neurohybrid.crosscheck import fixed_network
    t0 = time.perf_counter()
    net, layout = fixed_network(circuit)
    t1 = time.perf_counter()
    net.run(1, record_uv=False)  # JIT (or load from numba's cache)
    t2 = time.perf_counter()
    # A run of 1,000 steps lasts a fraction of a second: take the median of three (the same
    # spikes each time, from the initial state) so that one hiccup of a shared machine does not
    # decide the figure.
    times, record = [], None
    for _ in range(3):
        net.reset()
        t = time.perf_counter()
        rec = net.run(steps, record_uv=False)
        times.append(time.perf_counter() - t)
        record = record or rec
    run_s = float(np.median(times))
    order = [name for name in circuit.populations]
    spikes = np.hstack([layout.split(record)[name].spikes for name in order])
    return {"build_s": t1 - t0, "warmup_s": t2 - t1, "run_s": run_s, "run_s_all": times, "steps": steps,
            "steps_per_s": steps / run_s, "spikes": spikes, "n_synapses": int(net.n_synapses)}


def _emulator_us_per_step(circuit, steps: int, repeats: int = 3) -> tuple[float, int]:
    from neurohybrid.crosscheck import fixed_network
    net, _ = fixed_network(circuit)
    net.run(1, record_uv=False)
    best, spikes = float("inf"), 0
    for _ in range(repeats):
        net.reset()
        t = time.perf_counter()
        record = net.run(steps, record_uv=False)
        best = min(best, time.perf_counter() - t)
        spikes = int(record.spikes.sum())
    return best / steps * 1e6, spikes


def emulator_profile(circuit, steps: int) -> dict:
    """Where the emulator's step goes (best of 3, microseconds per step): the neuron update
    alone (no projections, no spikes), plus the per-step scan of every connection's sources
    (projections, no spikes), plus spike delivery (the full network)."""
    import copy
    silent = copy.copy(circuit)
    silent.populations = {}
    for name, pop in circuit.populations.items():
        quiet = copy.copy(pop)
        quiet.vth = np.full(pop.size, 2 ** 17 - 1)
        quiet.bias_mant = np.zeros(pop.size, np.int64)
        quiet.v0 = np.zeros(pop.size, np.int64)
        silent.populations[name] = quiet
    bare = copy.copy(silent)
    bare.projections = []
    full, spikes = _emulator_us_per_step(circuit, steps)
    scan, _ = _emulator_us_per_step(silent, steps)
    neurons, _ = _emulator_us_per_step(bare, steps)
    events = spikes * sum(np.size(p.rows) for p in circuit.projections if p.pre in circuit.populations) \
        / max(circuit.n_neurons, 1) / steps  # synaptic events per step (fixed in-degree: fan-out = k)
    return {"neurons_only_us": neurons, "connection_scan_us": scan - neurons, "spike_delivery_us": full - scan,
            "full_us": full, "synaptic_events_per_step": events,
            "ns_per_synaptic_event": (full - scan) * 1e3 / max(events, 1e-9)}


def run_lava(circuit, steps: int, warmup: int) -> dict:
    from neurohybrid.backends.lava.process_graph import build_processes
    t0 = time.perf_counter()
    graph = build_processes(circuit, n_steps_hint=steps, record_uv=False, buffer_steps=steps)
    t1 = time.perf_counter()
    try:
        graph.compile("sim")
        t2 = time.perf_counter()
        first = graph.run(warmup)
        t3 = time.perf_counter()
        rest = graph.run(steps - warmup)
        t4 = time.perf_counter()
    finally:
        graph.stop()
    order = [name for name in circuit.populations]
    spikes = np.vstack([np.hstack([first[name].spikes for name in order]),
                        np.hstack([rest[name].spikes for name in order])])
    n_procs = (len(graph.neurons) + len(graph.inputs) + len(graph.recorders)
               + sum(len(p) for p in graph.connections.values()))
    return {"build_s": t1 - t0, "compile_s": t2 - t1, "warmup_steps": warmup, "warmup_s": t3 - t2,
            "run_s": t4 - t3, "steps": steps, "steps_per_s": (steps - warmup) / (t4 - t3),
            "spikes": spikes, "processes": n_procs}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="neurons")
    parser.add_argument("--k", type=int, default=1_000, help="synapses per neuron (in-degree)")
    parser.add_argument("--steps", type=int, default=1_000, help="emulator steps")
    parser.add_argument("--lava-steps", type=int, default=300, help="Lava steps (<= --steps)")
    parser.add_argument("--lava-warmup", type=int, default=10, help="Lava steps excluded from the rate")
    parser.add_argument("--latency", type=int, default=1, help="spike-to-input latency in steps (1..64)")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--profile", action="store_true",
                        help="also measure where the emulator's step goes (two more emulator builds)")
    args = parser.parse_args(argv)
    lava_steps = min(args.lava_steps, args.steps)
    warmup = max(1, min(args.lava_warmup, lava_steps - 1))

    from neurohybrid.backends.lava import lava_available
    t = time.perf_counter()
    circuit = make_circuit(args.n, args.k, args.latency, args.seed)
    circuit_s = time.perf_counter() - t
    _log(f"circuit: {circuit.n_neurons} neurons, {circuit.n_synapses} synapses ({circuit_s:.1f} s)")

    emu = run_emulator(circuit, args.steps)
    _log(f"emulator: build {emu['build_s']:.2f} s, {emu['steps']} steps in {emu['run_s']:.3f} s "
         f"= {emu['steps_per_s']:.0f} steps/s, {int(emu['spikes'].sum())} spikes")
    result = {"benchmark": "loihi_emulator", "ratio": None, "target": TARGET, "met": False,
              "n_neurons": circuit.n_neurons, "n_synapses": circuit.n_synapses, "latency_steps": args.latency,
              "emulator_steps": emu["steps"], "emulator_steps_per_s": emu["steps_per_s"],
              "emulator_build_s": emu["build_s"], "emulator_jit_warmup_s": emu["warmup_s"],
              "emulator_run_s": emu["run_s"], "emulator_run_s_repeats": emu["run_s_all"],
              "emulator_spikes": int(emu["spikes"].sum()),
              "mean_rate_hz": float(emu["spikes"].mean() / (circuit.dt_ms * 1e-3)),
              "circuit_build_s": circuit_s, "cpu_count": os.cpu_count(), "python": platform.python_version()}
    if args.profile:
        result["emulator_profile"] = emulator_profile(circuit, args.steps)
        _log(f"emulator profile: {result['emulator_profile']}")
    ok, reason = lava_available()
    if not ok:
        result.update(lava_error=reason, spikes_identical=None)
    else:
        lava = run_lava(circuit, lava_steps, warmup)
        _log(f"lava: build {lava['build_s']:.2f} s, compile {lava['compile_s']:.2f} s, first {warmup} steps "
             f"{lava['warmup_s']:.2f} s, {lava_steps - warmup} steps in {lava['run_s']:.2f} s = "
             f"{lava['steps_per_s']:.2f} steps/s")
        identical = bool(np.array_equal(lava["spikes"], emu["spikes"][:lava_steps]))
        ratio = emu["steps_per_s"] / lava["steps_per_s"]
        result.update(ratio=ratio, met=bool(ratio >= TARGET and identical), spikes_identical=identical,
                      compared_steps=lava_steps, lava_steps=lava_steps, lava_steps_per_s=lava["steps_per_s"],
                      lava_build_s=lava["build_s"], lava_compile_s=lava["compile_s"],
                      lava_warmup_steps=warmup, lava_warmup_s=lava["warmup_s"], lava_run_s=lava["run_s"],
                      lava_processes=lava["processes"], lava_spikes=int(lava["spikes"].sum()))
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
