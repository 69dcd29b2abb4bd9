"""Plasticity on the float emulator: PyNN's STDP and dopamine-modulated (three-factor) learning.

Three experiments, written as a PyNN user writes them (NEST 3.10 semantics throughout):

A. **The STDP window** (PyNN's ``examples/simple_STDP.py`` protocol): 60 presynaptic cells fire
   every 100 ms, shifted by 1 ms each, onto one cell forced to fire every 100 ms; the final
   weight change against the pre/post timing traces the pair-based window, for the additive and
   the multiplicative weight dependence (Song, Miller & Abbott 2000; van Rossum et al. 2000).
B. **Weights as a time series**: a Poisson-driven population with all-to-all STDP; a few
   synapses' weights recorded with ``Projection.record("weight")`` (a PyNN-style extension).
C. **Distal reward** (Izhikevich 2007): two groups of synapses are each paired once
   (pre before post); dopamine arrives 1 s after group A's pairing and 1.8 s after group B's.
   The eligibility trace (tau_c = 1 s) has decayed further for B: A gets most of the credit.

Writes ``plasticity.png`` and ``plasticity.h5`` (the last experiment's run store).

    python examples/plasticity.py [--duration 4000] [--output DIR]
"""
from __future__ import annotations

import argparse
import os

import numpy as np
from pyNN.parameters import Sequence

import neurohybrid.pynn as sim


def stdp_window(dependence: str, dt: float = 0.1):
    """(timings t_post - t_pre in ms, relative weight change) of the simple_STDP protocol."""
    period, n, delta_t, delay = 100.0, 60, 1.0, 3.0
    t_stop = 10 * period + n * delta_t
    sim.setup(timestep=dt, min_delay=delay, max_delay=delay)
    pre = sim.Population(n, sim.SpikeSourceArray(spike_times=lambda i: [
        Sequence(np.arange(period + j * delta_t, t_stop, period)) for j in (i - n // 2)]), label="pre")
    post = sim.Population(1, sim.IF_cond_exp(tau_m=10.0, v_thresh=-50.0, v_reset=-60.0, v_rest=-60.0,
                                             tau_refrac=period / 2), initial_values={"v": -60.0}, label="post")
    driver = sim.Population(1, sim.SpikeSourceArray(spike_times=np.arange(period - delay, t_stop, period)))
    wd = getattr(sim, dependence)(w_min=0.0, w_max=1e-7)
    prj = sim.Projection(pre, post, sim.AllToAllConnector(), sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012),
        weight_dependence=wd, weight=5e-8, delay=delay))
    sim.Projection(driver, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=10.0, delay=delay))
    sim.run(t_stop)
    w = np.array(prj.get("weight", format="array"))[:, 0]
    sim.end()
    # neuron i fires (i - n/2) ms after the postsynaptic cell's input time, which the delay brings
    # to the post spike's time: t_post - t_pre = n/2 - i (plus the post cell's latency)
    return delta_t * (n // 2 - np.arange(n)), w / 5e-8 - 1.0


def weight_series(duration: float):
    """Recorded weights (times ms, [time, synapse] nA) of a Poisson network with STDP."""
    sim.setup(timestep=0.1, seed=4)
    pre = sim.Population(50, sim.SpikeSourcePoisson(rate=15.0), label="pre")
    post = sim.Population(10, sim.IF_curr_exp(tau_refrac=2.0), label="post", initial_values={
        "v": sim.RandomDistribution("uniform", low=-65.0, high=-50.0, rng=sim.NumpyRNG(seed=5))})
    prj = sim.Projection(pre, post, sim.AllToAllConnector(), sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.0105),
        weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=0.6), weight=0.3, delay=1.0), label="stdp")
    prj.record("weight", sampling_interval=10.0, connections=np.arange(3, 500, 53))
    sim.run(duration)
    signal = prj.get_data().segments[0].analogsignals[0]
    sim.end()
    return signal.times.rescale("ms").magnitude, np.asarray(signal)


def distal_reward(duration: float, path: str):
    """Experiment C (module docstring): (times ms, recorded weights of one synapse of each group,
    final weights, (pairing A, pairing B, dopamine) ms)."""
    pair_a, pair_b, reward = 1000.0, 200.0, 2000.0
    sim.setup(timestep=0.1, seed=2, recording_path=path)
    pre = sim.Population(20, sim.SpikeSourceArray(spike_times=[[pair_b]] * 10 + [[pair_a]] * 10), label="pre")
    kick = sim.Population(1, sim.SpikeSourceArray(spike_times=[pair_b + 4.0, pair_a + 4.0]), label="kick")
    post = sim.Population(1, sim.IF_curr_exp(tau_refrac=5.0), label="post")
    vta = sim.Population(20, sim.SpikeSourceArray(spike_times=[[reward + 2.0 * k] for k in range(20)]), label="VTA")
    da = sim.Population(1, sim.VolumeTransmitter(), label="dopamine")
    sim.Projection(kick, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=40.0, delay=1.0))
    sim.Projection(vta, da, sim.AllToAllConnector(), sim.StaticSynapse(weight=1.0, delay=1.0),
                   receptor_type="dopamine")
    prj = sim.Projection(pre, post, sim.AllToAllConnector(), sim.DopamineSTDPMechanism(
        dopamine=da, weight=0.1, delay=1.0, A_plus=0.05, A_minus=0.06, tau_c=1000.0, tau_n=200.0, b=0.0,
        w_min=0.0, w_max=1.0), label="gated")
    prj.record("weight", sampling_interval=10.0, connections=[0, 19])
    post.record("spikes")
    sim.run(duration)
    signal = prj.get_data().segments[0].analogsignals[0]
    w = np.array(prj.get("weight", format="array"))[:, 0]
    sim.end()
    return signal.times.rescale("ms").magnitude, np.asarray(signal), w, (pair_a, pair_b, reward)


def draw(path, window, series, reward):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ax = axes[0]
    for name, (dts, dw) in window.items():
        ax.plot(dts, 100 * dw, "o-", ms=3, label=name.replace("WeightDependence", ""))
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xlabel="t_post - t_pre (ms); the synapse sees the post spike 3 ms later (dendritic delay)",
           ylabel="weight change (%)", title="A. STDP window (simple_STDP protocol)")
    ax.legend(fontsize=8)
    t, w = series
    axes[1].plot(t / 1000.0, w)
    axes[1].set(xlabel="time (s)", ylabel="weight (nA)", title="B. Recorded weights, Poisson input")
    t, w, _, (pair_a, pair_b, rew) = reward
    ax = axes[2]
    ax.plot(t / 1000.0, w[:, 1], label="group A (paired 1 s before dopamine)")
    ax.plot(t / 1000.0, w[:, 0], label="group B (paired 1.8 s before)")
    for x, lab in ((pair_b, "B paired"), (pair_a, "A paired"), (rew, "dopamine")):
        ax.axvline(x / 1000.0, color="grey", ls=":", lw=1)
        ax.text(x / 1000.0, ax.get_ylim()[1], lab, rotation=90, va="top", ha="right", fontsize=8)
    ax.set(xlabel="time (s)", ylabel="weight (nA)", title="C. Distal reward (dopamine-modulated STDP)")
    ax.legend(fontsize=8, loc="center right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=4000.0, help="ms of experiments B and C")
    ap.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "output"))
    args = ap.parse_args()
    os.makedirs(args.output, exist_ok=True)
    window = {dep: stdp_window(dep) for dep in ("AdditiveWeightDependence", "MultiplicativeWeightDependence")}
    for name, (dts, dw) in window.items():
        print(f"{name}: largest potentiation {100 * dw.max():.1f} % at {dts[dw.argmax()]:+.0f} ms, "
              f"largest depression {100 * dw.min():.1f} % at {dts[dw.argmin()]:+.0f} ms")
    series = weight_series(args.duration)
    print(f"recorded weights: {series[1].shape[1]} synapses, {series[1].shape[0]} samples, "
          f"spread {series[1][-1].min():.3f}..{series[1][-1].max():.3f} nA")
    reward = distal_reward(max(args.duration, 3000.0), os.path.join(args.output, "plasticity.h5"))
    w = reward[2]
    print(f"distal reward: group A weight {w[10:].mean():.3f} nA, group B {w[:10].mean():.3f} nA (initial 0.100)")
    draw(os.path.join(args.output, "plasticity.png"), window, series, reward)
    print("outputs:", os.path.join(args.output, "plasticity.png"))


if __name__ == "__main__":
    main()
