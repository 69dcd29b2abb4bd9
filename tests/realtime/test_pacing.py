"""Real-time pacing (neurohybrid.realtime.Pacer): wall/brain ratio at several real-time factors,
the three overrun policies on an artificially slow component, stop from another thread and by
SIGINT at a macro-step boundary with the recorded data readable, typed errors.

Timing assertions are ratios with wide margins (the machine has 2 cores and other jobs)."""
import os
import signal
import threading
import time

import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.adapters import SpikingComponent
from neurohybrid.errors import NeurohybridError, ParameterError, SimulationStateError
from neurohybrid.kernel import Component, CoSimulation, Recorder, SpikeSource
from neurohybrid.realtime import Pacer, RealTimeError

DT = 0.1
M = 10  # 1 ms macro-steps


class Slow(Component):
    """Sleeps ``cost_s`` in every ``every``-th window (an engine that cannot keep up sometimes)."""

    outputs = {"spikes": "spikes"}

    def __init__(self, name, cost_s, every):
        super().__init__(name)
        self.cost_s, self.every, self.tick, self.windows = cost_s, every, 0, 0

    def advance(self, t_stop, inbox):
        self.windows += 1
        if self.windows % self.every == 0:
            time.sleep(self.cost_s)
        self.tick = t_stop
        return {}

    def reset(self):
        self.tick = 0

    def state(self):
        return {"tick": self.tick}

    def restore(self, state):
        self.tick = state["tick"]


def trivial(slow=None):
    cs = CoSimulation(dt=DT)
    ticks = np.arange(0, 100_000, 37)
    cs.add(SpikeSource("src", ticks, ticks % 7))
    cs.add(Recorder("rec"))
    cs.connect("src", "spikes", "rec", "spikes", delay=M)
    if slow is not None:
        cs.add(slow)
    return cs


def test_real_time_pacing_accuracy():
    cs = trivial()
    pacer = Pacer(cs, rtf=1.0)
    t0 = time.perf_counter()
    assert pacer.run(2000.0) == "t_stop"
    wall = time.perf_counter() - t0
    s = pacer.stats.summary()
    assert cs.tick == 20_000
    assert s["windows"] == 2000
    assert 0.9 <= wall / 2.0 <= 1.2, wall
    assert 0.9 <= s["wall_per_brain"] <= 1.2
    assert s["overruns"] <= 0.2 * s["windows"], s  # few; a loaded 2-core machine preempts some windows
    # spikes kept flowing through the paced kernel
    assert len(cs.components["rec"].received()) == np.sum(np.arange(0, 100_000, 37) < 20_000 - M)
    assert s["lateness_ms"]["p50"] < 0.5  # the hybrid wait releases windows close to schedule
    arr = pacer.stats.arrays()
    assert arr["lateness"].shape == (2000,) and np.all(np.diff(arr["step"]) == 1)


@pytest.mark.parametrize("rtf", [0.5, 4.0])
def test_real_time_factor(rtf):
    cs = trivial()
    pacer = Pacer(cs, rtf=rtf)
    brain_ms = 400.0 * rtf
    t0 = time.perf_counter()
    pacer.run(brain_ms)
    wall = time.perf_counter() - t0
    assert 0.85 <= wall / (brain_ms / rtf * 1e-3) <= 1.3, wall


def test_catch_up_keeps_brain_time_on_the_wall_clock():
    slow = Slow("slow", 0.004, 10)  # 4 ms every 10 windows of 1 ms: late, but 40% duty on average
    cs = trivial(slow)
    pacer = Pacer(cs, rtf=1.0, policy="catch_up")
    t0 = time.perf_counter()
    pacer.run(400.0)
    wall = time.perf_counter() - t0
    s = pacer.stats.summary()
    assert s["overruns"] >= 40 * 0.8  # each slow window is late (and some after it, catching up)
    assert s["dropped_ms"] == 0.0
    assert 0.9 <= wall / 0.4 <= 1.3, wall  # caught up: no slip over the run
    assert s["compute_ms"]["max"] >= 4.0


def test_drop_gives_up_the_lost_time():
    slow = Slow("slow", 0.004, 10)
    cs = trivial(slow)
    pacer = Pacer(cs, rtf=1.0, policy="drop")
    t0 = time.perf_counter()
    pacer.run(400.0)
    wall = time.perf_counter() - t0
    s = pacer.stats.summary()
    assert s["overruns"] >= 40 * 0.8
    assert s["dropped_ms"] >= 40 * 2.0  # >= ~3 ms lost per slow window
    assert wall >= 0.4 + 0.8 * s["dropped_ms"] * 1e-3  # the wall clock slipped by the dropped time


def test_stop_policy_raises_at_a_macro_step_boundary_and_can_resume():
    slow = Slow("slow", 0.004, 10)
    cs = trivial(slow)
    pacer = Pacer(cs, rtf=1.0, policy="stop", tolerance_ms=1.0)
    with pytest.raises(RealTimeError, match="scheduled end") as e:
        pacer.run(400.0)
    assert isinstance(e.value, SimulationStateError) and isinstance(e.value, NeurohybridError)
    assert cs.tick % M == 0 and 0 < cs.tick < 4000
    assert pacer.stats.overruns == 1
    got = len(cs.components["rec"].received())
    pacer.policy = "catch_up"
    pacer.run(400.0)  # resumes from the boundary
    assert cs.tick == 4000 and len(cs.components["rec"].received()) > got


def test_bad_parameters_are_typed_errors():
    cs = trivial()
    for kw, pname in (({"rtf": 0}, "rtf"), ({"rtf": float("nan")}, "rtf"), ({"rtf": True}, "rtf"), ({"policy": "skip"}, "policy"),
                      ({"tolerance_ms": -1}, "tolerance_ms"), ({"spin_ms": "a"}, "spin_ms"),
                      ({"capacity": 0}, "capacity")):
        with pytest.raises(ParameterError) as e:
            Pacer(cs, **kw)
        assert pname in str(e.value)
    with pytest.raises(ParameterError, match="cosim"):
        Pacer(object())
    with pytest.raises(ParameterError, match="whole number of ticks"):
        Pacer(cs).run(1.05)


def test_unpaced_pacer_runs_flat_out_and_counts_no_overruns():
    cs = trivial()
    pacer = Pacer(cs, rtf=float("inf"))
    t0 = time.perf_counter()
    pacer.run(2000.0)
    assert time.perf_counter() - t0 < 1.5
    s = pacer.stats.summary()
    assert s["windows"] == 2000 and s["overruns"] == 0 and s["lateness_ms"]["max"] == 0.0


# ------------------------------------------------------------------ open-ended runs on a PyNN-built network
CELL = dict(tau_m=20.0, v_thresh=-50.0, v_reset=-65.0, v_rest=-65.0, tau_refrac=2.0)


@pytest.fixture
def circuit():
    """ext (SpikeSourceExternal) -> A one-to-one (each input spike fires its cell) and a Poisson
    drive into B; A and B recorded; wrapped as a SpikingComponent."""
    sim.setup(timestep=DT, seed=1, threads=1)
    ext = sim.Population(20, sim.SpikeSourceExternal(), label="ext")
    A = sim.Population(20, sim.IF_curr_delta(**CELL), label="A")
    B = sim.Population(50, sim.IF_curr_delta(**CELL), label="B")
    noise = sim.Population(50, sim.SpikeSourcePoisson(rate=200.0), label="noise")
    sim.Projection(ext, A, sim.OneToOneConnector(), sim.StaticSynapse(weight=30.0, delay=0.5))
    sim.Projection(noise, B, sim.OneToOneConnector(), sim.StaticSynapse(weight=16.0, delay=0.5))
    A.record("spikes")
    B.record("spikes")
    net = sim.state.network
    net._prepare()
    comp = SpikingComponent("circuit", net.engine, inputs={"in": "ext"}, outputs={"out": ["A", "B"]})
    yield net, comp
    sim.end()


def _cosim(comp):
    cs = CoSimulation(dt=DT)
    cs.add(comp)
    cs.add(Recorder("rec"))
    cs.connect("circuit", "out", "rec", "spikes", delay=M)
    return cs


def _check_readable(net, comp, cs):
    comp.flush()
    t_a, _ = net.store.read_spikes("A")
    t_b, i_b = net.store.read_spikes("B")
    assert t_b.size > 50
    assert t_b.max() <= cs.t + 1e-9 and i_b.max() < 50
    # everything the kernel saw of B was recorded (the recorder lags by the link delay)
    rec = cs.components["rec"].received()
    assert np.sum(rec.index >= 20) <= t_b.size


def test_stop_from_another_thread_at_a_boundary(circuit):
    net, comp = circuit
    cs = _cosim(comp)
    pacer = Pacer(cs, rtf=1.0)
    timer = threading.Timer(0.4, pacer.stop)
    timer.start()
    t0 = time.perf_counter()
    reason = pacer.run_forever(handle_sigint=False)
    wall = time.perf_counter() - t0
    timer.join()
    assert reason == "stop()"
    assert cs.tick % M == 0 and net.engine.tick == cs.tick
    assert 0.25 <= cs.t * 1e-3 <= wall + 0.05
    assert wall < 5.0
    _check_readable(net, comp, cs)
    # the run can go on after a stop
    tick = cs.tick
    pacer.run_forever(handle_sigint=False, max_ms=20.0)
    assert cs.tick == tick + 200


def test_first_ctrl_c_stops_cleanly(circuit):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals go to the main thread")
    net, comp = circuit
    cs = _cosim(comp)
    pacer = Pacer(cs, rtf=1.0)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    before = signal.getsignal(signal.SIGINT)
    reason = pacer.run_forever(handle_sigint=True)
    timer.join()
    assert reason == "SIGINT"
    assert signal.getsignal(signal.SIGINT) is before  # handler restored
    assert cs.tick % M == 0 and cs.tick > 0
    _check_readable(net, comp, cs)


def test_on_step_can_stop_and_one_run_at_a_time(circuit):
    net, comp = circuit
    cs = _cosim(comp)
    pacer = Pacer(cs, rtf=2.0)
    seen = []

    def on_step(p):
        seen.append(cs.tick)
        if cs.tick >= 500:
            with pytest.raises(SimulationStateError, match="already running"):
                p.run(100.0)
            p.stop("enough")
    assert pacer.run_forever(on_step=on_step, handle_sigint=False) == "enough"
    assert seen[-1] == 500 and cs.tick == 500
