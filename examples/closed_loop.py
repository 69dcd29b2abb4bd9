"""Closed loop in real time: a spiking circuit steers an agent towards targets.

The environment (written here, 2-D, no dependencies) has an agent moving at constant speed and a
target; each time the agent reaches it, a new one appears. Every millisecond of wall clock:

1. sensory encoding: the bearing of the target relative to the agent's heading drives two
   sensor populations (left, right) of 40 ``SpikeSourceExternal`` cells each, rate-coded
   (up to 400 Hz per cell, Bernoulli spikes per 1 ms period, seeded);
2. the circuit (emulator): sensors excite their motor population (40 IF_curr_exp cells per
   side), the two motor populations inhibit each other;
3. motor decoding: the turning rate is proportional to the difference of the motor rates,
   smoothed with a 20 ms exponential filter; the agent turns and moves.

The loop runs through ``sim.live`` and is paced with ``sim.realtime(1.0)``: the callback sees
the motor spikes one period after they happen and its sensory spikes act one period later. The
figure shows the trajectory, the bearing error and turning command over time, and the loop's
timing (lateness of each 1 ms window). Outputs: ``closed_loop.png``, ``closed_loop.h5``.

    python examples/closed_loop.py [--duration 10000] [--rtf 1.0] [--output DIR]
"""
from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np

import neurohybrid.pynn as sim

N = 40              # cells per sensor / motor population
RATE_MAX = 400.0    # Hz, sensor rate at a bearing of +-90 degrees
SPEED = 0.8         # m/s
GAIN = 0.08         # rad/s of turning per Hz of motor rate difference
ARENA = 2.0         # m, targets appear in [-ARENA, ARENA]^2
REACHED = 0.15      # m


class Environment:
    """The agent (position m, heading rad) and its target; ``step(turn_rate, dt_s)`` moves it."""

    def __init__(self, seed: int = 3):
        self.rng = np.random.default_rng(seed)
        self.pos, self.heading = np.zeros(2), 0.0
        self.target = self._new_target()
        self.reached = 0

    def _new_target(self):
        return self.rng.uniform(-ARENA, ARENA, 2)

    def bearing(self) -> float:
        """Angle from the heading to the target, in (-pi, pi] (positive: target on the left)."""
        d = self.target - self.pos
        return (math.atan2(d[1], d[0]) - self.heading + math.pi) % (2 * math.pi) - math.pi

    def step(self, turn_rate: float, dt_s: float) -> None:
        self.heading += turn_rate * dt_s
        self.pos += SPEED * dt_s * np.array([math.cos(self.heading), math.sin(self.heading)])
        if np.linalg.norm(self.target - self.pos) < REACHED:
            self.reached += 1
            self.target = self._new_target()


def build(period_ms: float = 1.0):
    """The circuit: sensor and motor populations, left and right. Returns them."""
    cell = dict(tau_m=10.0, tau_syn_E=2.0, tau_syn_I=5.0, tau_refrac=2.0, v_thresh=-55.0)
    sensors = {side: sim.Population(N, sim.SpikeSourceExternal(), label=f"sensor_{side}") for side in ("left", "right")}
    motor = {side: sim.Population(N, sim.IF_curr_exp(**cell), label=f"motor_{side}") for side in ("left", "right")}
    for side in ("left", "right"):
        sim.Projection(sensors[side], motor[side], sim.FixedProbabilityConnector(0.3, rng=sim.NumpyRNG(seed=1)),
                       sim.StaticSynapse(weight=1.2, delay=0.5), receptor_type="excitatory")
    sim.Projection(motor["left"], motor["right"], sim.AllToAllConnector(), sim.StaticSynapse(weight=-0.3, delay=1.0),
                   receptor_type="inhibitory")
    sim.Projection(motor["right"], motor["left"], sim.AllToAllConnector(), sim.StaticSynapse(weight=-0.3, delay=1.0),
                   receptor_type="inhibitory")
    for p in list(sensors.values()) + list(motor.values()):
        p.record("spikes")
    return sensors, motor


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10000.0, help="ms of (wall-clock paced) brain time")
    parser.add_argument("--rtf", type=float, default=1.0, help="real-time factor (1.0 = real time)")
    parser.add_argument("--output", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "output"))
    args = parser.parse_args(argv)
    os.makedirs(args.output, exist_ok=True)
    period = 1.0
    sim.setup(timestep=0.1, seed=11, threads=1, recording_path=os.path.join(args.output, "closed_loop.h5"))
    sensors, motor = build(period)
    env = Environment()
    rng = np.random.default_rng(5)
    log = {"t": [], "x": [], "y": [], "bearing": [], "turn": [], "tx": [], "ty": []}
    smooth = {"left": 0.0, "right": 0.0}
    decay = math.exp(-period / 20.0)

    def loop(t_ms, inputs):
        # decode: motor rates (Hz per cell) of the last period, exponentially smoothed
        for side in ("left", "right"):
            rate = len(inputs[f"motor_{side}"]) / N / (period * 1e-3)
            smooth[side] = smooth[side] * decay + rate * (1.0 - decay)
        turn = GAIN * (smooth["left"] - smooth["right"])
        env.step(turn, period * 1e-3)
        # encode: the target's bearing as left/right sensor rates
        b = env.bearing()
        p_left = RATE_MAX * max(0.0, math.sin(b)) * period * 1e-3 if abs(b) < math.pi / 2 else RATE_MAX * period * 1e-3 * (b > 0)
        p_right = RATE_MAX * max(0.0, -math.sin(b)) * period * 1e-3 if abs(b) < math.pi / 2 else RATE_MAX * period * 1e-3 * (b < 0)
        for key, value in (("t", t_ms), ("x", env.pos[0]), ("y", env.pos[1]), ("bearing", b), ("turn", turn),
                           ("tx", env.target[0]), ("ty", env.target[1])):
            log[key].append(value)
        return {"sensor_left": np.flatnonzero(rng.random(N) < p_left),
                "sensor_right": np.flatnonzero(rng.random(N) < p_right)}

    sim.live(loop, read={f"motor_{s}": motor[s] for s in ("left", "right")},
             write={f"sensor_{s}": sensors[s] for s in ("left", "right")}, period=period)
    sim.run(20.0)  # build and compile before the clock starts
    sim.realtime(args.rtf)
    t0 = time.perf_counter()
    sim.run(args.duration)
    wall = time.perf_counter() - t0
    stats = sim.realtime_stats()
    rates = {s: sum(motor[s].get_spike_counts().values()) / N / (sim.get_current_time() * 1e-3) for s in motor}
    sim.end()
    err = np.abs(np.asarray(log["bearing"]))
    half = len(err) // 2
    print(f"{args.duration:g} ms in {wall:.2f} s of wall clock (rtf {args.rtf:g}); windows {stats['windows']}, "
          f"overruns {stats['overruns']}, lateness p50 {stats['lateness_ms']['p50']:.3f} ms, "
          f"p99 {stats['lateness_ms']['p99']:.3f} ms, max {stats['lateness_ms']['max']:.2f} ms")
    print(f"targets reached: {env.reached}; mean |bearing| {np.degrees(err.mean()):.1f} deg "
          f"(second half {np.degrees(err[half:].mean()):.1f} deg); motor rates L {rates['left']:.1f} Hz, "
          f"R {rates['right']:.1f} Hz")
    png = os.path.join(args.output, "closed_loop.png")
    figure(log, stats, png)
    print(f"outputs: {png}\n         {os.path.join(args.output, 'closed_loop.h5')}")
    return env.reached, stats


def figure(log, stats, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    ax = axes[0]
    ax.plot(log["x"], log["y"], lw=0.8)
    ax.plot(log["tx"], log["ty"], "r+", ms=10, label="targets")
    ax.set(xlabel="x (m)", ylabel="y (m)", title="trajectory", aspect="equal")
    ax.legend(fontsize=8)
    ax = axes[1]
    t = np.asarray(log["t"]) / 1000.0
    ax.plot(t, np.degrees(log["bearing"]), lw=0.6, label="bearing of the target (deg)")
    ax.plot(t, np.degrees(log["turn"]), lw=0.6, label="turning command (deg/s)")
    ax.set(xlabel="time (s)", title="sensing and steering")
    ax.legend(fontsize=8)
    ax = axes[2]
    lat = stats["lateness_ms"]
    ax.bar(["p50", "p99", "max"], [lat["p50"], lat["p99"], lat["max"]])
    ax.set(ylabel="ms", title=f"loop timing: lateness per 1 ms window\n{stats['windows']} windows, "
                              f"{stats['overruns']} overruns, wall/brain {stats['wall_per_brain']:.3f}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
