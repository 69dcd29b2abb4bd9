"""Bit-exactness of Loihi learning: Lava 0.10 ``fixed_pt`` against the fixed-point emulator.

Each case is a random plastic :class:`~neurohybrid.mappings.loihi.circuit.LoihiCircuit`: one or
two populations (5 to 30 neurons in all: Lava's learning model is slow), an external spike
input, static projections (``Sparse``/``DelaySparse``, delays 1..20) that make the neurons fire,
and one or two plastic projections (Lava ``LearningDense``) from the input or a population, with
a random learning rule: two-factor (``Loihi2FLearningRule``; STDP-like pairs or random product
series over x0, y0, uk, the five traces, w, d, t, constants and sgn) or three-factor
(``Loihi3FLearningRule`` onto a ``LearningLIF`` population whose y1..y3 traces get random
decays, impulses and a random third factor; R-STDP-like rules with tags), random trace taus
(0 included) and impulses (fractional), random learning rates (mantissas and exponents),
t_epoch 1..8, random seeds, weight precisions (4..8 bits), weight exponents and sign modes.

Lava runs the circuit built by :func:`~neurohybrid.backends.lava.process_graph.build_processes`
with ``record_plastic=True`` (a recorder reads every plastic Var after every step's learning
phase) in as few ``run`` calls as its host buffers allow; the emulator runs
:func:`neurohybrid.crosscheck.fixed_network`. Spikes, u, v, and weights, tag_1, tag_2, x1, x2,
y1, y2, y3 of every plastic projection (and the LearningLIF neurons' y traces) must be identical
at every step. Tests are seeded and never look at the clock.
"""
from __future__ import annotations

import numpy as np
import pytest

from neurohybrid.backends.lava import compat
from neurohybrid.mappings.loihi.circuit import LoihiCircuit, LoihiInput, LoihiPopulation, LoihiProjection

if not compat.import_lava():
    pytest.skip(f"Lava unavailable: {compat.last_error}", allow_module_level=True)

from neurohybrid.backends.lava.process_graph import build_processes  # noqa: E402
from neurohybrid.crosscheck import fixed_network  # noqa: E402
from neurohybrid.mappings.loihi.learning_rules import compile_rule, parse_rule  # noqa: E402

N_CASES = 52
MIN_STEPS = 200
VARS = ("weights", "tag_1", "tag_2", "x1", "x2", "y1", "y2", "y3")


# --------------------------------------------------------------------------------------------
# random rules
# --------------------------------------------------------------------------------------------

def _scale(rng) -> str:
    """A learning rate Loihi can represent: mantissa (-7..7, not 0) * 2^exponent."""
    mant = int(rng.choice([1, 1, 1, 2, 3, 5, 7]))
    exp = int(rng.integers(-6, 3))
    return f"{mant}*2^{exp}" if exp else f"{mant}"


def _trace(rng, allowed) -> str:
    return str(rng.choice(allowed))


def _random_product(rng, dep: str, three: bool) -> str:
    traces = ["x1", "x2", "y1", "y2", "y3"]
    parts = [_scale(rng), dep]
    for _ in range(int(rng.integers(1, 3))):
        kind = rng.random()
        if kind < 0.65:
            parts.append(_trace(rng, traces))
        elif kind < 0.75:
            parts.append(f"(w{int(rng.integers(-20, 20)):+d})")
        elif kind < 0.82:
            parts.append(f"sgn(t{int(rng.integers(-5, 5)):+d})")
        elif kind < 0.88:
            parts.append("d")
        elif kind < 0.94:
            parts.append(f"({_trace(rng, traces)}{int(rng.integers(-30, 30)):+d})")
        else:
            parts.append("y0" if dep != "y0" else "x0")
    return "*".join(parts)


def _random_series(rng, uk: str, three: bool, n_max: int = 3) -> str:
    terms = []
    for _ in range(int(rng.integers(1, n_max + 1))):
        dep = str(rng.choice(["x0", "y0", uk], p=[0.4, 0.4, 0.2]))
        sign = "-" if rng.random() < 0.5 else "+"
        terms.append(f"{sign} {_random_product(rng, dep, three)}")
    text = " ".join(terms)
    return text[2:] if text.startswith("+ ") else text


def random_rule(rng, three: bool, seed: int):
    """A random Lava rule (2-factor or 3-factor) and a short description of its kind."""
    t_epoch = int(rng.choice([1, 1, 2, 3, 4, 8]))
    x_traces = dict(x1_impulse=float(np.round(rng.uniform(0, 40), 2)), x1_tau=int(rng.choice([0, 2, 5, 10, 20, 40])),
                    x2_impulse=float(np.round(rng.uniform(0, 30), 2)), x2_tau=int(rng.choice([0, 3, 8, 30])))
    uk = f"u{int(rng.choice([0, 0, 1, 2]))}"
    if three:
        kind = rng.choice(["rstdp", "random"])
        if kind == "rstdp":
            dt = f"{_scale(rng)}*x0*y1 - {_scale(rng)}*y0*x1 - {uk}*t*{_scale(rng)}"
            dw = f"{uk}*t*y2" + (f" + {_scale(rng)}*y0*y3" if rng.random() < 0.4 else "")
            dd = None
        else:
            dw = _random_series(rng, uk, True)
            dt = _random_series(rng, uk, True) if rng.random() < 0.7 else None
            dd = _random_series(rng, uk, True, 1) if rng.random() < 0.3 else None
        return parse_rule(dw=dw, dd=dd, dt=dt, three_factor=True, t_epoch=t_epoch, rng_seed=seed, **x_traces), \
            f"3F-{kind}"
    y_traces = dict(y1_impulse=float(np.round(rng.uniform(0, 40), 2)), y1_tau=int(rng.choice([0, 4, 10, 25])),
                    y2_impulse=float(np.round(rng.uniform(0, 20), 2)), y2_tau=int(rng.choice([0, 6, 15])),
                    y3_impulse=float(np.round(rng.uniform(0, 20), 2)), y3_tau=int(rng.choice([0, 2, 50])))
    kind = rng.choice(["stdp", "random"])
    if kind == "stdp":
        dw = f"{_scale(rng)}*x0*y1 - {_scale(rng)}*y0*x1"
        dd = dt = None
    else:
        dw = _random_series(rng, uk, False)
        dd = _random_series(rng, uk, False, 1) if rng.random() < 0.3 else None
        dt = _random_series(rng, uk, False, 2) if rng.random() < 0.4 else None
    return parse_rule(dw=dw, dd=dd, dt=dt, t_epoch=t_epoch, rng_seed=seed, **x_traces, **y_traces), f"2F-{kind}"


# --------------------------------------------------------------------------------------------
# random circuits
# --------------------------------------------------------------------------------------------

def _population(rng, name: str, n: int, third_factor: bool, kind: str) -> LoihiPopulation:
    du, dv = int(rng.integers(100, 2000)), int(rng.integers(50, 1000))
    vth = int(rng.integers(50, 600))
    full = lambda x: np.full(n, x, np.int64)  # noqa: E731
    du_a, dv_a, vth_a, ref_a = full(du), full(dv), full(vth), full(0)
    if not third_factor and kind == "refractory":
        ref_a[:] = int(rng.integers(1, 4))
    elif not third_factor and kind == "hetero":
        du_a, vth_a, ref_a = rng.integers(100, 2000, n), rng.integers(50, 600, n), rng.integers(0, 3, n)
    tf = None
    if third_factor:
        tf = {"decay": [int(rng.choice([200, 600, 1500])), int(rng.choice([0, 1000, 4096])), int(rng.choice([300, 4096]))],
              "impulse": [int(rng.integers(5, 60)), int(rng.integers(0, 10)), int(rng.integers(0, 40))],
              "reward": [0, 1, int(rng.integers(0, 2))]}
    return LoihiPopulation(name, n, du=du_a, dv=dv_a, vth=vth_a, bias_mant=rng.integers(0, 60, n),
                           bias_exp=np.full(n, 6), refractory=ref_a, u0=np.zeros(n, np.int64),
                           v0=rng.integers(0, 64 * 100, n), scale=1000.0, v_rest=-65.0, source_model="IF_curr_exp",
                           third_factor=tf)


def _static(rng, name, pre, post, n_pre, n_post, exp, max_delay, excitatory=False) -> LoihiProjection:
    fan_in = min(n_pre, int(rng.integers(2, 6)))
    pairs = rng.choice(n_pre * n_post, size=min(fan_in * n_post, n_pre * n_post), replace=False)
    rows, cols = pairs // n_pre, pairs % n_pre
    w = rng.integers(20, 200, pairs.size) * (1 if excitatory or rng.random() < 0.8 else -1)
    delays = rng.integers(1, max_delay + 1, pairs.size)
    return LoihiProjection(name, pre, post, rows, cols, w, delays, exp)


def _plastic(rng, name, pre, post, n_pre, n_post, rule) -> LoihiProjection:
    mode = str(rng.choice(["excitatory", "inhibitory", "mixed"], p=[0.5, 0.2, 0.3]))
    lo, hi = {"mixed": (-256, 255), "excitatory": (0, 255), "inhibitory": (-255, 0)}[mode]
    density = rng.uniform(0.3, 1.0)
    mask = rng.random((n_post, n_pre)) < density
    rows, cols = np.nonzero(mask)
    w = rng.integers(lo, hi + 1, rows.size)
    if mode == "mixed":
        w = np.clip(w, -60, 120)
    elif mode == "excitatory":
        w = w // 2
    tag_1 = rng.integers(-30, 30, (n_post, n_pre)) if rng.random() < 0.3 else None
    tag_2 = rng.integers(0, 30, (n_post, n_pre)) if rng.random() < 0.2 else None
    return LoihiProjection(name, pre, post, rows, cols, w, np.ones(rows.size, np.int64),
                           weight_exp=int(rng.integers(-2, 3)), num_weight_bits=int(rng.integers(4, 9)),
                           sign_mode=mode, learning=compile_rule(rule), tag_1=tag_1, tag_2=tag_2)


def make_circuit(seed: int):
    """A random plastic circuit, its input spikes, third factors, step count, buffer length and
    a description of its rules."""
    rng = np.random.default_rng(7000 + seed)
    circuit = LoihiCircuit(dt_ms=1.0)
    total = int(rng.integers(5, 31))
    n_pops = 1 if total < 10 or rng.random() < 0.4 else 2
    sizes = [total] if n_pops == 1 else [int(total // 2), total - int(total // 2)]
    three_pop = rng.random() < 0.45
    for k, n in enumerate(sizes):
        tf = three_pop and k == len(sizes) - 1
        kind = str(rng.choice(["lif", "refractory", "hetero"], p=[0.6, 0.2, 0.2]))
        circuit.populations[f"p{k}"] = _population(rng, f"p{k}", n, tf, kind)
    n_in = int(rng.integers(3, 16))
    circuit.inputs["in"] = LoihiInput("in", n_in, "SpikeSourcePoisson")
    names = list(circuit.populations)
    for post in names:
        n_post = circuit.populations[post].size
        circuit.projections.append(_static(rng, f"in->{post}", "in", post, n_in, n_post, 2, 4, excitatory=True))
        for pre in names:
            if rng.random() < 0.4:
                circuit.projections.append(_static(rng, f"{pre}->{post}", pre, post, circuit.populations[pre].size,
                                                   n_post, 0, int(rng.choice([1, 5, 20]))))
    kinds = []
    for q in range(int(rng.integers(1, 3))):
        post = names[-1] if (three_pop and q == 0) else str(rng.choice(names))
        three = circuit.populations[post].third_factor is not None and rng.random() < 0.85
        pre = str(rng.choice(["in", *names]))
        n_pre = n_in if pre == "in" else circuit.populations[pre].size
        rule, kind = random_rule(rng, three, int(rng.integers(0, 10_000)))
        kinds.append(kind)
        circuit.projections.append(_plastic(rng, f"plastic{q}:{pre}->{post}", pre, post, n_pre,
                                            circuit.populations[post].size, rule))
    n_steps = MIN_STEPS + int(rng.integers(0, 20))
    inputs = {"in": rng.random((n_steps, n_in)) < rng.uniform(0.05, 0.25)}
    rewards = {}
    for name, pop in circuit.populations.items():
        if pop.third_factor is not None:
            r = rng.integers(-20, 60, (n_steps, pop.size))
            r[rng.random((n_steps, pop.size)) < 0.7] = 0
            rewards[name] = r
    buffer_steps = None if seed % 4 else int(rng.integers(60, 150))
    return circuit, inputs, rewards, n_steps, buffer_steps, kinds


def run_both(seed: int):
    circuit, inputs, rewards, n_steps, buffer_steps, _ = make_circuit(seed)
    net, layout = fixed_network(circuit)
    third = np.zeros((n_steps, net.n), np.int64)
    for name, r in rewards.items():
        o, n = layout.populations[name]
        third[:, o:o + n] = r
    record = net.run(n_steps, layout.input_matrix(inputs, n_steps), third_factor_input=third, record_plastic=True)
    reference = layout.split(record)
    record = net.plastic_record
    graph = build_processes(circuit, n_steps_hint=n_steps, buffer_steps=buffer_steps, record_plastic=True)
    try:
        lava = graph.run(n_steps, inputs, rewards=rewards)
    finally:
        graph.stop()
    return circuit, layout, graph, lava, reference, record


@pytest.mark.parametrize("seed", range(N_CASES))
def test_lava_learning_equals_fixed_point_emulator(seed):
    circuit, layout, graph, lava, reference, record = run_both(seed)
    total_spikes = 0
    for name in circuit.populations:
        for field in ("spikes", "u", "v"):
            ours, theirs = getattr(reference[name], field), getattr(lava[name], field)
            bad = np.argwhere(ours != theirs)
            assert bad.size == 0, (f"seed {seed}: {name}.{field} differs first at step {bad[0][0]} neuron "
                                   f"{bad[0][1]}: Lava {theirs[tuple(bad[0])]} vs emulator {ours[tuple(bad[0])]}")
        total_spikes += int(reference[name].spikes.sum())
    plastic = [p for p in circuit.projections if p.learning is not None]
    changed = 0
    for c, proj in enumerate(plastic):
        ours, theirs = record[c], graph.plastic_record[proj.name]
        for var in VARS:
            bad = np.argwhere(ours[var] != theirs[var])
            assert bad.size == 0, (f"seed {seed}: {proj.name}.{var} differs first at step {bad[0][0]} "
                                   f"index {tuple(bad[0][1:])}: Lava {theirs[var][tuple(bad[0])]} vs emulator "
                                   f"{ours[var][tuple(bad[0])]} ({proj.learning.describe()})")
        changed += int(np.any(ours["weights"][-1] != ours["weights"][0]))
    for name, pop in circuit.populations.items():
        if pop.third_factor is not None:
            o, n = layout.populations[name]
            theirs = np.stack([graph.plastic_record[("neuron_y", name)][v] for v in ("y1", "y2", "y3")], axis=1)
            assert np.array_equal(record["neuron_y"][:, :, o:o + n], theirs), f"seed {seed}: {name} y traces"
    assert total_spikes > 0


def test_cases_cover_the_issue():
    """The cases span two- and three-factor rules, taus, epochs, precisions, sign modes, delays."""
    kinds, epochs, bits, modes, taus0, delays, steps, sizes, chunked = set(), set(), set(), set(), 0, set(), [], [], 0
    for seed in range(N_CASES):
        circuit, inputs, rewards, n_steps, buffer_steps, k = make_circuit(seed)
        kinds.update(k)
        steps.append(n_steps)
        sizes.append(circuit.n_neurons)
        chunked += buffer_steps is not None and buffer_steps < n_steps
        for proj in circuit.projections:
            if proj.learning is None:
                delays.update(np.unique(proj.delays).tolist())
                continue
            epochs.add(proj.learning.t_epoch)
            bits.add(proj.num_weight_bits)
            modes.add(proj.sign_mode)
            taus0 += bool(np.any(proj.learning.tau_zero))
    assert N_CASES >= 50 and min(steps) >= MIN_STEPS and max(sizes) <= 30 and min(sizes) >= 5
    assert {"2F-stdp", "2F-random", "3F-rstdp", "3F-random"} <= kinds
    assert {1, 2, 8} <= epochs and {4, 8} <= bits and modes == {"excitatory", "inhibitory", "mixed"}
    assert taus0 > 0 and max(delays) > 1 and chunked > 3


def test_tag_1_at_its_lower_bound_is_saturated_as_lava_does():
    """A tag_1 at -257 (below the accumulator's range) is saturated after every product, also
    after one that adds 0: the emulator skips products whose dependency is 0 and must still
    saturate such a tag_1 before the next one (here x0*x2, whose pre did not spike, then y0*y2)."""
    rng = np.random.default_rng(11)
    circuit, inputs, _, n_steps, _, _ = make_circuit(1)  # two 2-factor projections, no third factor
    rule = parse_rule(dw="-2^2*y0*d", dt="-2*2^-6*x0*x2 + 5*2^2*y0*y2", t_epoch=1, rng_seed=5,
                      x1_impulse=10, x1_tau=10, x2_impulse=20, x2_tau=8, y1_impulse=10, y1_tau=10,
                      y2_impulse=12, y2_tau=6, y3_impulse=0, y3_tau=0)
    for proj in circuit.projections:
        if proj.learning is not None:
            n_post = circuit.populations[proj.post].size
            n_pre = circuit.inputs[proj.pre].size if proj.pre in circuit.inputs else circuit.populations[proj.pre].size
            t1 = rng.integers(-30, 30, (n_post, n_pre))
            t1[rng.random((n_post, n_pre)) < 0.3] = -257
            proj.tag_1, proj.learning = t1, compile_rule(rule)
    net, layout = fixed_network(circuit)
    net.run(n_steps, layout.input_matrix(inputs, n_steps), record_plastic=True,
            third_factor_input=np.zeros((n_steps, net.n), np.int64))
    graph = build_processes(circuit, n_steps_hint=n_steps, record_plastic=True)
    try:
        graph.run(n_steps, inputs, rewards={})
    finally:
        graph.stop()
    plastic = [p for p in circuit.projections if p.learning is not None]
    for c, proj in enumerate(plastic):
        for var in VARS:
            assert np.array_equal(net.plastic_record[c][var], graph.plastic_record[proj.name][var]), (proj.name, var)
