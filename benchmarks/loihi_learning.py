"""Loihi learning: the fixed-point emulator against Lava ``fixed_pt``, one plastic circuit, same run.

Network: 1,000 Loihi LIF compartments (Lava ``LIF``: du = 400, dv = 100, vth = 1000), driven
by 200 external Poisson channels at 2 % per step (a static ``Sparse`` projection, 10 inputs of
weight 12 per neuron), with a plastic all-to-all recurrent projection: one 1,000 x 1,000 Lava
``LearningDense`` (1 M plastic synapses, excitatory, 8-bit weights starting at 0..15, weight
exponent -7), about 1 % of the neurons firing per step, learning with Lava's own
``STDPLoihi(learning_rate=0.25, A_plus=1, A_minus=-2, tau_plus=20, tau_minus=20, t_epoch=1)``
(``dw = 2^-2 * (-2 x0*y1 + y0*x1)``: every epoch, i.e. every step here; depression wins, so the
recurrent excitation stays in check: about 0.8 % of the neurons fire per step). ``--rule rstdp`` uses a
``RewardModulatedSTDP``-shaped 3-factor rule instead (the post population is then a
``LearningLIF`` with neurohybrid's fixed-point model and a random sparse reward).

The same :class:`~neurohybrid.mappings.loihi.circuit.LoihiCircuit` runs

- on the emulator's :class:`~neurohybrid.backends.emulator.fixed.FixedPointNetwork`
  (``fixed_network``): ``--steps`` steps for the timing (median of three runs from the initial
  state, after a warm-up), and the steps Lava ran, for the comparison;
- on Lava ``Loihi2SimCfg(select_tag="fixed_pt")`` (``build_processes``): ``--lava-steps`` steps
  (default 300: Lava is slow), spikes recorded every step, the plastic Vars read once after the
  last step by a RefPort recorder (Lava's ``Var.get`` would move the 1 M weights one message
  each).

Steps per second are measured after compilation/JIT: Lava over the steps after its first
``--lava-warmup`` steps. The spikes of every step both ran, and the weights, tags and traces
after the last one, must be identical.

    python benchmarks/loihi_learning.py [--n 1000] [--steps 2000] [--lava-steps 300] [--rule stdp]

The last line printed is one JSON object:
``{"benchmark": "loihi_learning", "ratio": emulator_steps_per_s / lava_steps_per_s,
"target": 200, "met": ratio >= 200, ..., "weights_identical": ...}``.
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


def make_circuit(n: int = 1000, rule: str = "stdp", seed: int = 2024):
    """The benchmark's plastic circuit and its input (see the module docstring)."""
    from neurohybrid.mappings.loihi.circuit import LoihiCircuit, LoihiInput, LoihiPopulation, LoihiProjection
    from neurohybrid.mappings.loihi.learning_rules import compile_rule, parse_rule
    rng = np.random.default_rng(seed)
    circuit = LoihiCircuit(dt_ms=1.0, manifest={"seed": seed})
    third = {"decay": [200, 4096, 0], "impulse": [40, 0, 0], "reward": [0, 1, 0]} if rule == "rstdp" else None
    circuit.populations["E"] = LoihiPopulation(
        "E", n, du=np.full(n, 400), dv=np.full(n, 100), vth=np.full(n, 1000), bias_mant=np.zeros(n, np.int64),
        bias_exp=np.zeros(n, np.int64), refractory=np.zeros(n, np.int64), u0=np.zeros(n, np.int64),
        v0=rng.integers(0, 64 * 1000, n), scale=1000.0, v_rest=-65.0, source_model="IF_curr_exp", third_factor=third)
    n_in, k_in = 200, 10
    circuit.inputs["in"] = LoihiInput("in", n_in, "SpikeSourcePoisson")
    rows = np.repeat(np.arange(n), k_in)
    cols = np.concatenate([rng.choice(n_in, k_in, replace=False) for _ in range(n)])
    circuit.projections.append(LoihiProjection("in->E", "in", "E", rows, cols, np.full(rows.size, 12, np.int64),
                                               np.ones(rows.size, np.int64), 0))
    if rule == "stdp":
        from lava.proc.learning_rules.stdp_learning_rule import STDPLoihi
        lava_rule = STDPLoihi(learning_rate=0.25, A_plus=1, A_minus=-2, tau_plus=20, tau_minus=20, t_epoch=1,
                              rng_seed=seed)
    else:
        lava_rule = parse_rule(dw="u0*t*y2", dt="2^-1*y0*x1 - 2^-1*x0*y1 - u0*t*2^-3", three_factor=True,
                               x1_impulse=16, x1_tau=20, t_epoch=1, rng_seed=seed)
    r, c = np.nonzero(np.ones((n, n), bool))
    circuit.projections.append(LoihiProjection(
        "E->E", "E", "E", r, c, rng.integers(0, 16, r.size), np.ones(r.size, np.int64), -7,
        sign_mode="excitatory", learning=compile_rule(lava_rule)))
    return circuit


def drive(circuit, steps: int, seed: int = 7):
    """Input spikes [steps, 200] at 2 % per step, and the reward of 3-factor circuits."""
    rng = np.random.default_rng(seed)
    inputs = {"in": rng.random((steps, circuit.inputs["in"].size)) < 0.02}
    rewards = {}
    pop = circuit.populations["E"]
    if pop.third_factor is not None:
        r = rng.integers(0, 40, (steps, pop.size))
        r[rng.random((steps, pop.size)) < 0.98] = 0
        rewards["E"] = r
    return inputs, rewards


def run_emulator(circuit, inputs, rewards, steps: int, compare_steps: int) -> dict:
    from neurohybrid.crosscheck import fixed_network
    t0 = time.perf_counter()
    net, layout = fixed_network(circuit)
    t1 = time.perf_counter()

    def args(n):
        third = np.zeros((n, net.n), np.int64)
        for name, r in rewards.items():
            o, size = layout.populations[name]
            third[:, o:o + size] = r[:n]
        return layout.input_matrix({k: v[:n] for k, v in inputs.items()}, n), third

    inp, third = args(1)
    net.run(1, inp, record_uv=False, third_factor_input=third)  # JIT (or numba's cache)
    t2 = time.perf_counter()
    inp, third = args(steps)
    times = []
    for _ in range(3):
        net.reset()
        t = time.perf_counter()
        net.run(steps, inp, record_uv=False, third_factor_input=third)
        times.append(time.perf_counter() - t)
    run_s = float(np.median(times))
    net.reset()
    inp, third = args(compare_steps)
    record = net.run(compare_steps, inp, record_uv=False, third_factor_input=third)
    return {"build_s": t1 - t0, "warmup_s": t2 - t1, "run_s": run_s, "run_s_all": times, "steps": steps,
            "steps_per_s": steps / run_s, "spikes": layout.split(record)["E"].spikes,
            "plastic": net.plastic_state(0)}


def run_lava(circuit, inputs, rewards, steps: int, warmup: int) -> dict:
    from neurohybrid.backends.lava.process_graph import build_processes
    t0 = time.perf_counter()
    graph = build_processes(circuit, n_steps_hint=steps, record_uv=False, record_plastic=steps)
    t1 = time.perf_counter()
    try:
        graph.compile()
        t2 = time.perf_counter()
        sl = lambda d, a, b: {k: v[a:b] for k, v in d.items()}  # noqa: E731
        first = graph.run(warmup, sl(inputs, 0, warmup), rewards=sl(rewards, 0, warmup))
        t3 = time.perf_counter()
        rest = graph.run(steps - warmup, sl(inputs, warmup, steps), rewards=sl(rewards, warmup, steps))
        t4 = time.perf_counter()
        plastic = graph.plastic_record["E->E"]
    finally:
        graph.stop()
    spikes = np.vstack([first["E"].spikes, rest["E"].spikes])
    return {"build_s": t1 - t0, "compile_s": t2 - t1, "warmup_s": t3 - t2, "run_s": t4 - t3,
            "steps": steps - warmup, "steps_per_s": (steps - warmup) / (t4 - t3), "spikes": spikes,
            "plastic": plastic}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--lava-steps", type=int, default=300)
    ap.add_argument("--lava-warmup", type=int, default=20)
    ap.add_argument("--rule", choices=("stdp", "rstdp"), default="stdp")
    args = ap.parse_args(argv)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from neurohybrid.backends.lava import compat
    if not compat.import_lava():
        raise SystemExit(f"Lava unavailable: {compat.last_error}")
    circuit = make_circuit(args.n, args.rule)
    n_drive = max(args.steps, args.lava_steps)
    inputs, rewards = drive(circuit, n_drive)
    _log(f"circuit: {args.n} LIF, {args.n * args.n:,} plastic synapses ({circuit.projections[-1].learning.describe()})")
    ours = run_emulator(circuit, inputs, rewards, args.steps, args.lava_steps)
    _log(f"emulator: {ours['steps_per_s']:.1f} steps/s over {args.steps} steps (median of 3: "
         f"{', '.join(f'{t:.3f}' for t in ours['run_s_all'])} s); build {ours['build_s']:.2f} s, "
         f"JIT/cache {ours['warmup_s']:.2f} s")
    lava = run_lava(circuit, inputs, rewards, args.lava_steps, args.lava_warmup)
    _log(f"lava fixed_pt: {lava['steps_per_s']:.2f} steps/s over {lava['steps']} steps; build {lava['build_s']:.2f} s, "
         f"compile {lava['compile_s']:.2f} s, first {args.lava_warmup} steps {lava['warmup_s']:.2f} s")
    spikes_identical = bool(np.array_equal(ours["spikes"], lava["spikes"]))
    state_identical = {var: bool(np.array_equal(ours["plastic"][var], lava["plastic"][var]))
                       for var in ("weights", "tag_1", "tag_2", "x1", "x2", "y1", "y2", "y3")}
    w0 = np.zeros((args.n, args.n), np.int64)
    proj = circuit.projections[-1]
    w0[proj.rows, proj.cols] = proj.weights
    ratio = ours["steps_per_s"] / lava["steps_per_s"]
    result = {
        "benchmark": "loihi_learning", "ratio": ratio, "target": TARGET, "met": bool(ratio >= TARGET),
        "rule": args.rule, "neurons": args.n, "plastic_synapses": args.n * args.n,
        "emulator_steps": ours["steps"], "emulator_seconds": ours["run_s"], "emulator_steps_per_s": ours["steps_per_s"],
        "lava_steps": lava["steps"], "lava_seconds": lava["run_s"], "lava_steps_per_s": lava["steps_per_s"],
        "compared_steps": args.lava_steps, "spikes_identical": spikes_identical,
        "weights_identical": state_identical["weights"], "traces_and_tags_identical": all(state_identical.values()),
        "spikes": int(ours["spikes"].sum()),
        "weights_changed": int(np.count_nonzero(ours["plastic"]["weights"] != w0)),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
