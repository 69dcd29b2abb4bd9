"""Real-time pacing (neurohybrid.realtime.Pacer): wall/brain ratio at several real-time factors,
the three overrun policies on an artificially slow component, stop from another thread and by
SIGINT at a macro-step boundary with the recorded data readable, typed errors.

No test depends on how fast the machine is or how loaded it is (every test must pass on a loaded
2-core machine). The schedule, the overrun policies and the statistics run on a simulated clock
(:class:`FakeClock`: its time moves only when the pacer sleeps or a component's "work" spends
it), so every figure is exact. Where the real clock is needed (stop from another thread,
Ctrl-C, the real wait), only what load cannot break is asserted: stops land on a macro-step
boundary, brain time never runs ahead of the wall clock, windows are never released early.
The real clock's speed and accuracy (lateness, jitter, overruns) are measured by
benchmarks/realtime_latency.py, not asserted here."""
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


class FakeClock:
    """A simulated wall clock (seconds): ``clock()`` reads it; ``sleep(s)`` (the pacer's wait)
    and ``advance(s)`` (a component's work) are the only things that move it."""

    def __init__(self, t0=100.0):
        self.t = float(t0)
        self.slept = 0.0
        self.sleeps = 0

    def __call__(self):
        return self.t

    def sleep(self, s):
        assert s > 0, s  # the pacer never asks for a zero or negative wait
        self.t += s
        self.slept += s
        self.sleeps += 1

    def advance(self, s):
        self.t += s


def fake_pacer(cs, clock, **kw):
    return Pacer(cs, clock=clock, sleep=clock.sleep, **kw)


class Slow(Component):
    """Spends ``cost_s`` (via ``spend``: time.sleep, or a FakeClock's advance) in the windows
    whose number (1, 2, ...) is ``phase`` modulo ``every``: an engine that cannot keep up
    sometimes (or, with every=1, the compute time of every window)."""

    outputs = {"spikes": "spikes"}

    def __init__(self, name, cost_s, every, spend=time.sleep, phase=0):
        super().__init__(name)
        self.cost_s, self.every, self.spend, self.phase = cost_s, every, spend, phase % every
        self.tick, self.windows = 0, 0

    def advance(self, t_stop, inbox):
        self.windows += 1
        if self.windows % self.every == self.phase:
            self.spend(self.cost_s)
        self.tick = t_stop
        return {}

    def reset(self):
        self.tick = 0

    def state(self):
        return {"tick": self.tick}

    def restore(self, state):
        self.tick = state["tick"]


def trivial(*slow):
    cs = CoSimulation(dt=DT)
    ticks = np.arange(0, 100_000, 37)
    cs.add(SpikeSource("src", ticks, ticks % 7))
    cs.add(Recorder("rec"))
    cs.connect("src", "spikes", "rec", "spikes", delay=M)
    for comp in slow:
        cs.add(comp)
    return cs


def stall(clock):
    """3.5 ms of work in windows 5, 15, ..., 395 of 1 ms: 2.5 ms late each time, 40 times in
    400 ms (no lateness is ever exactly 0, so no comparison is on a rounding edge)."""
    return Slow("slow", 0.0035, 10, spend=clock.advance, phase=5)


def test_real_time_pacing_accuracy():
    clock = FakeClock()
    cs = trivial(Slow("work", 0.00025, 1, spend=clock.advance))  # 0.25 ms of compute per 1-ms window
    pacer = fake_pacer(cs, clock, rtf=1.0, spin_ms=0.0)
    t0 = clock()
    assert pacer.run(2000.0) == "t_stop"
    wall = clock() - t0
    s = pacer.stats.summary()
    assert cs.tick == 20_000
    assert s["windows"] == 2000
    # brain time held to the wall clock: 2 s of brain in 2 s of wall, each window released at
    # its scheduled end (a window that finishes early waits exactly for the rest of its period)
    assert wall == pytest.approx(2.0, rel=1e-9)
    assert s["wall_per_brain"] == pytest.approx(1.0, rel=1e-9)
    assert clock.slept == pytest.approx(2.0 - 2000 * 0.00025, rel=1e-9)
    assert s["overruns"] == 0 and s["overrun_events"] == 0 and s["dropped_ms"] == 0.0
    assert s["compute_ms"]["p50"] == pytest.approx(0.25) and s["compute_ms"]["max"] == pytest.approx(0.25)
    assert s["lateness_ms"]["max"] == pytest.approx(0.0, abs=1e-9)
    assert s["jitter_ms"]["max"] == pytest.approx(0.0, abs=1e-9)
    # spikes kept flowing through the paced kernel
    assert len(cs.components["rec"].received()) == np.sum(np.arange(0, 100_000, 37) < 20_000 - M)
    arr = pacer.stats.arrays()
    assert arr["lateness"].shape == (2000,) and np.all(np.diff(arr["step"]) == 1)
    assert np.all(arr["lateness"] >= 0.0)  # never released before its scheduled end
    np.testing.assert_allclose(arr["t_ms"], np.arange(1, 2001) * 1.0)


def test_real_clock_never_runs_ahead_of_the_wall():
    """The real wait (sleep + spin on time.perf_counter): load can only make windows late, never
    early, so these bounds hold on any machine. How close to schedule the releases are is a
    benchmark figure (benchmarks/realtime_latency.py: lateness p99), not asserted here."""
    for rtf in (1.0, 4.0):
        cs = trivial()
        pacer = Pacer(cs, rtf=rtf)
        t0 = time.perf_counter()
        assert pacer.run(100.0 * rtf) == "t_stop"
        wall = time.perf_counter() - t0
        s = pacer.stats.summary()
        assert cs.tick == int(1000 * rtf) and s["windows"] == int(100 * rtf)
        eps = 1e-9  # float rounding of perf_counter sums
        assert wall >= 0.1 - eps and s["wall_s"] >= 0.1 - eps and s["wall_per_brain"] >= 1.0 / rtf - eps
        assert np.all(pacer.stats.arrays()["lateness"] >= 0.0)
        assert s["dropped_ms"] == 0.0


@pytest.mark.parametrize("rtf", [0.5, 4.0])
def test_real_time_factor(rtf):
    clock = FakeClock()
    cs = trivial()
    pacer = fake_pacer(cs, clock, rtf=rtf)
    brain_ms = 400.0 * rtf
    t0 = clock()
    pacer.run(brain_ms)
    wall = clock() - t0
    s = pacer.stats.summary()
    assert pacer.period_s == pytest.approx(1e-3 / rtf)
    assert wall == pytest.approx(brain_ms / rtf * 1e-3, rel=1e-9)  # brain ms per wall ms = rtf
    assert s["wall_per_brain"] == pytest.approx(1.0 / rtf, rel=1e-9)
    assert s["windows"] == int(brain_ms) and s["overruns"] == 0
    assert s["jitter_ms"]["max"] == pytest.approx(0.0, abs=1e-9)  # one release per period


def test_catch_up_keeps_brain_time_on_the_wall_clock():
    clock = FakeClock()
    cs = trivial(stall(clock))
    pacer = fake_pacer(cs, clock, rtf=1.0, policy="catch_up")
    t0 = clock()
    pacer.run(400.0)
    wall = clock() - t0
    s = pacer.stats.summary()
    # each stall is 2.5 ms late; the next windows run back to back (1.5, 0.5 ms late) and the
    # third after it is on schedule again: 3 late windows, one overrun event, per stall
    assert s["overruns"] == 40 * 3 and s["overrun_events"] == 40
    assert s["dropped_ms"] == 0.0
    assert wall == pytest.approx(0.4, rel=1e-9)  # caught up: no slip over the run
    assert s["compute_ms"]["max"] == pytest.approx(3.5)
    assert s["lateness_ms"]["max"] == pytest.approx(2.5)
    late = pacer.stats.arrays()["lateness"] * 1e3
    np.testing.assert_allclose(late[4:8], [2.5, 1.5, 0.5, 0.0], atol=1e-9)  # windows 5..8


def test_drop_gives_up_the_lost_time():
    clock = FakeClock()
    cs = trivial(stall(clock))
    pacer = fake_pacer(cs, clock, rtf=1.0, policy="drop")
    t0 = clock()
    pacer.run(400.0)
    wall = clock() - t0
    s = pacer.stats.summary()
    # only the stalled windows are late: the schedule is re-anchored at their end
    assert s["overruns"] == 40 and s["overrun_events"] == 40
    assert s["dropped_ms"] == pytest.approx(40 * 2.5)
    assert wall == pytest.approx(0.4 + s["dropped_ms"] * 1e-3, rel=1e-9)  # the wall clock slipped by the dropped time
    assert pacer.stats.last_overrun[:2] == (394, 395.0) and pacer.stats.last_overrun[2] == pytest.approx(2.5e-3)
    # every window (a late one included) is released on the re-anchored schedule
    np.testing.assert_allclose(pacer.stats.arrays()["lateness"], 0.0, atol=1e-9)


def test_stop_policy_raises_at_a_macro_step_boundary_and_can_resume():
    clock = FakeClock()
    cs = trivial(stall(clock))
    pacer = fake_pacer(cs, clock, rtf=1.0, policy="stop", tolerance_ms=1.0)
    with pytest.raises(RealTimeError, match=r"window 4 ending at 5 ms finished 2\.500 ms after its scheduled end") as e:
        pacer.run(400.0)
    assert isinstance(e.value, SimulationStateError) and isinstance(e.value, NeurohybridError)
    assert cs.tick == 5 * M  # the first stalled window, at its boundary
    assert pacer.stats.overruns == 1 and pacer.stats.last_overrun[:2] == (4, 5.0)
    got = len(cs.components["rec"].received())
    pacer.policy = "catch_up"
    pacer.run(400.0)  # resumes from the boundary
    assert cs.tick == 4000 and len(cs.components["rec"].received()) > got
    # 39 more stalls, each 2.5 then 1.5 ms late past the 1-ms tolerance (0.5 ms is within it)
    assert pacer.stats.overruns == 1 + 39 * 2 and pacer.stats.n == 400


def test_tolerance_and_idle_work_get_the_slack():
    """Lateness up to tolerance_ms is no overrun; idle work gets the wall time left before the
    deadline (minus the spin) and the window is still released on schedule."""
    clock = FakeClock()
    cs = trivial(Slow("work", 0.0004, 1, spend=clock.advance))
    pacer = fake_pacer(cs, clock, rtf=1.0, spin_ms=0.1)
    budgets = []

    def idle(budget_s):
        budgets.append(budget_s)
        clock.advance(budget_s / 2)
    pacer.idle.append(idle)
    pacer.run(50.0)
    assert len(budgets) == 50 and np.allclose(budgets, 0.0005)  # 1 - 0.4 - 0.1 ms
    assert pacer.stats.overruns == 0 and clock() - 100.0 == pytest.approx(0.05)
    for tol, overruns in ((0.6, 0), (0.4, 10)):
        clock2 = FakeClock()
        cs2 = trivial(Slow("slow", 0.0015, 10, spend=clock2.advance, phase=5))  # 0.5 ms late, 10 times
        p2 = fake_pacer(cs2, clock2, rtf=1.0, tolerance_ms=tol)
        p2.run(100.0)
        assert p2.stats.overruns == overruns and p2.stats.max_lateness == pytest.approx(0.5e-3)
        assert clock2() - 100.0 == pytest.approx(0.1)  # caught up either way


def test_stop_lands_on_the_next_macro_step_boundary():
    """stop() while the pacer waits after window 7 ends the run at tick 70; stop() in the middle
    of window 12's compute ends it when window 12 is done (tick 120), not a window later."""
    clock = FakeClock()
    cs = trivial()
    pacer = fake_pacer(cs, clock, rtf=1.0)

    def sleep_then_stop(s):
        clock.sleep(s)
        if cs.tick == 7 * M:
            pacer.stop("during the wait")
    pacer.sleep = sleep_then_stop
    assert pacer.run_forever(handle_sigint=False) == "during the wait" and cs.tick == 7 * M
    clock2 = FakeClock()
    holder = []
    cs2 = trivial(Slow("stopper", 0.0, 1000, spend=lambda s: holder[0].stop("mid-window"), phase=12))
    holder.append(fake_pacer(cs2, clock2, rtf=1.0))
    assert holder[0].run_forever(handle_sigint=False) == "mid-window" and cs2.tick == 12 * M
    assert clock2() - 100.0 == pytest.approx(12e-3)  # window 12 was still paced to its end


def test_bad_parameters_are_typed_errors():
    cs = trivial()
    for kw, pname in (({"rtf": 0}, "rtf"), ({"rtf": float("nan")}, "rtf"), ({"rtf": True}, "rtf"), ({"policy": "skip"}, "policy"),
                      ({"tolerance_ms": -1}, "tolerance_ms"), ({"spin_ms": "a"}, "spin_ms"),
                      ({"capacity": 0}, "capacity"), ({"clock": 1.0}, "clock"), ({"sleep": 0.1}, "sleep")):
        with pytest.raises(ParameterError) as e:
            Pacer(cs, **kw)
        assert pname in str(e.value)
    with pytest.raises(ParameterError, match="cosim"):
        Pacer(object())
    with pytest.raises(ParameterError, match="whole number of ticks"):
        Pacer(cs).run(1.05)


def test_unpaced_pacer_runs_flat_out_and_counts_no_overruns():
    clock = FakeClock()
    cs = trivial(Slow("work", 0.002, 1, spend=clock.advance))  # 2 ms of compute per 1-ms window
    pacer = fake_pacer(cs, clock, rtf=float("inf"))
    pacer.run(2000.0)
    assert clock.sleeps == 0  # never waits
    s = pacer.stats.summary()
    assert s["windows"] == 2000 and s["overruns"] == 0 and s["lateness_ms"]["max"] == 0.0
    assert s["compute_ms"]["p50"] == pytest.approx(2.0) and s["wall_s"] == pytest.approx(4.0)


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


def _stop_later(pacer, delay_s, after_tick, do, fired):
    """on_step callback: once the run is under way (past ``after_tick``, so the data checked
    afterwards exist whatever the load), start a timer thread that calls ``do()`` after
    ``delay_s``; ``fired`` gets the kernel tick right after ``do()``. Starting it from inside
    the run means the stop cannot come before the run (a stop before run_forever is not kept)."""
    def fire():
        do()
        fired.append(pacer.cosim.tick)

    def on_step(p):
        if not hasattr(on_step, "timer") and p.cosim.tick >= after_tick:
            on_step.timer = threading.Timer(delay_s, fire)
            on_step.timer.start()
    return on_step


def test_stop_from_another_thread_at_a_boundary(circuit):
    net, comp = circuit
    cs = _cosim(comp)
    rtf = 1.0
    pacer = Pacer(cs, rtf=rtf)
    fired = []
    on_step = _stop_later(pacer, 0.1, 20 * M, pacer.stop, fired)
    t0 = time.perf_counter()
    # max_ms only bounds the run if stop() were ignored (the timer fires long before 60 s of
    # brain time can pass, since the pacer never runs ahead of the wall clock)
    reason = pacer.run_forever(on_step=on_step, handle_sigint=False, max_ms=60_000.0)
    wall = time.perf_counter() - t0
    on_step.timer.join()
    assert reason == "stop()"
    assert cs.tick % M == 0 and net.engine.tick == cs.tick
    # the stop lands at the next boundary: at most the window running when it came is finished
    assert fired and cs.tick <= fired[0] + M, (cs.tick, fired)
    assert cs.tick >= 20 * M  # the timer started only after 20 ms of brain time
    # brain time never runs ahead of the wall clock (each window is released no earlier than its
    # scheduled end). No lower bound on progress per wall second and no upper bound on the wall
    # time: both depend on the machine's load (benchmarks/realtime_latency.py measures them).
    assert cs.t * 1e-3 <= wall * rtf + 1e-6
    assert np.all(pacer.stats.arrays()["lateness"] >= 0.0)
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
    fired = []
    # the SIGINT is sent from a timer started inside the run, i.e. once the handler is installed
    on_step = _stop_later(pacer, 0.05, 20 * M, lambda: os.kill(os.getpid(), signal.SIGINT), fired)
    before = signal.getsignal(signal.SIGINT)
    reason = pacer.run_forever(on_step=on_step, handle_sigint=True)
    on_step.timer.join()
    assert reason == "SIGINT"
    assert signal.getsignal(signal.SIGINT) is before  # handler restored
    assert cs.tick % M == 0 and cs.tick >= 20 * M
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
