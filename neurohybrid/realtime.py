"""Real-time pacing of a co-simulation: macro-steps released on the wall clock.

A :class:`Pacer` drives a :class:`~neurohybrid.kernel.CoSimulation` so that brain time ``t``
(ms) is reached at wall time ``anchor + t / rtf`` (``rtf`` = real-time factor: 1.0 is real
time, 0.5 half speed, 2.0 twice as fast). It hooks into the kernel with
:meth:`CoSimulation.on_macro_step`: after each window it measures how late the window's compute
finished against its scheduled end and waits for the schedule (a hybrid wait: ``select``/sleep
until ``spin_ms`` before the deadline, then a spin on :func:`time.perf_counter`, for
sub-millisecond accuracy). While it waits it services live I/O: every component with a
``poll_io(timeout_s)`` method (e.g. :class:`neurohybrid.liveio.LiveServer`) gets its socket
drained (and its packets time-stamped on arrival) during the idle time instead of at the next
window.

The clock and the wait are injectable (``Pacer(..., clock=..., sleep=...)``, seconds): by
default the real :func:`time.perf_counter` and the hybrid wait above; a simulated clock whose
time advances only when the pacer sleeps (or when a component's "work" advances it) makes the
schedule, the overrun policies and the statistics exact and independent of the machine's load
(the tests do this; ``benchmarks/realtime_latency.py`` measures the real clock's accuracy).

Overruns (a window whose compute ends after its scheduled end + ``tolerance_ms``):

* ``"catch_up"`` (default): counted; the next windows run back to back until the schedule is
  met again (brain time never slips against the wall clock in the long run);
* ``"drop"``: counted; the schedule is re-anchored at the late window's end, so the lost wall
  time is given up (``stats.dropped_ms`` sums it) and the next windows keep their pace;
* ``"stop"``: :class:`RealTimeError` is raised at that macro-step boundary (the kernel state
  and everything recorded so far stay valid; the run can be resumed).

Statistics (:class:`RealTimeStats`, ``pacer.stats``): per window, preallocated ring buffers of
the compute time (release of the previous window to end of this window's compute), the lateness
(actual release - scheduled end; >= 0, a few µs when on time) and the jitter (|release interval
- nominal period|); counts of windows, overruns (late windows) and overrun events (runs of consecutive late
windows: one stall that catch-up recovers over several windows is one event), dropped wall time; ``summary()`` gives
p50/p99/max in ms (percentiles over the last ``capacity`` windows, maxima and counts over the
whole run) and the wall/brain ratio.

Open-ended runs: :meth:`Pacer.run_forever` advances one macro-step at a time until
:meth:`Pacer.stop` is called (from any thread, a signal handler or a live-I/O callback), until
Ctrl-C (with ``handle_sigint=True`` in the main thread the first Ctrl-C stops cleanly, a second
one raises KeyboardInterrupt), or until an optional limit. It always stops at a macro-step
boundary, so every component is at the same tick and recordings can be flushed and read.

Usage::

    from neurohybrid.kernel import CoSimulation
    from neurohybrid.realtime import Pacer

    cs = CoSimulation(dt=0.1)            # ... add components and links ...
    pacer = Pacer(cs, rtf=1.0, policy="catch_up")
    pacer.run(1000.0)                    # 1 s of brain time in 1 s of wall clock
    threading.Timer(5.0, pacer.stop).start()
    pacer.run_forever()                  # until stop() / Ctrl-C; returns the stop reason
    print(pacer.stats.summary())

Wiring into a PyNN session (for the front end): ``neurohybrid.runtime.cosim.HybridCoSimulation`` builds ``cosim``; a real-time
session makes ``Pacer(cosim, rtf, policy)`` once and calls ``pacer.run_ticks(target)`` where it
calls ``cosim.run_ticks(target)`` today, ``pacer.run_forever(on_step=...)`` for
``sim.run_forever()`` and ``pacer.stop()`` for ``sim.stop()``; ``pacer.stats.summary()`` goes to
the run manifest and ``pacer.stats.arrays()`` to the store.
"""
from __future__ import annotations

import gc
import math
import select
import signal
import threading
import time

import numpy as np

from .errors import ParameterError, SimulationStateError

__all__ = ["Pacer", "RealTimeStats", "RealTimeError", "POLICIES", "precise_wait"]

#: Overrun policies.
POLICIES = ("catch_up", "drop", "stop")


class RealTimeError(SimulationStateError):
    """A real-time run that cannot keep its schedule under ``policy="stop"``: names the window
    (macro-step index, brain time) and by how much it was late."""


_yield = getattr(__import__("os"), "sched_yield", lambda: None)


def precise_wait(deadline: float, spin_s: float = 3e-4, pollers=(), fds=None,
                 clock=time.perf_counter, sleep=None) -> None:
    """Wait until ``clock() >= deadline`` (seconds; default clock :func:`time.perf_counter`).

    With ``sleep=None`` (the real wait): sleep (or ``select`` on the pollers' sockets ``fds``,
    calling ``poll_io(0)`` of the readable ones) until ``spin_s`` before the deadline, then spin
    (yielding the CPU and the GIL each turn and polling the pollers without blocking).
    ``select.select`` is used, not epoll: epoll rounds timeouts up to whole ms.

    With a custom ``sleep(seconds)`` (which must let ``clock`` advance by at least that much,
    e.g. a simulated clock): the whole remaining time is slept (no spin, no ``select``), and the
    pollers get ``poll_io(0)`` after each sleep."""
    now = clock()
    while True:
        remaining = deadline - now
        if remaining <= 0:
            return
        if sleep is not None:
            sleep(remaining)
            for p in pollers:
                p.poll_io(0.0)
        elif remaining > spin_s:
            timeout = remaining - spin_s
            if fds:
                readable, _, _ = select.select(list(fds), [], [], timeout)
                for fd in readable:
                    fds[fd].poll_io(0.0)
            else:
                time.sleep(timeout)
        else:
            for p in pollers:
                p.poll_io(0.0)
            _yield()  # releases the GIL; time.sleep(0) would cost the timer slack (~50-70 µs)
        now = clock()


def _pct(a: np.ndarray, q: float) -> float:
    return float(np.percentile(a, q)) if a.size else 0.0


class RealTimeStats:
    """Per-window timing of a paced run, in preallocated ring buffers of ``capacity`` windows.

    Arrays (seconds): ``compute`` (previous release -> end of this window's compute, hooks
    before the pacer included), ``lateness`` (release - scheduled end), ``jitter`` (|interval
    between releases - nominal period|); ``step`` (macro-step index) and ``t_ms`` (window end).
    """

    def __init__(self, capacity: int = 1 << 17):
        if not isinstance(capacity, (int, np.integer)) or capacity < 1:
            raise ParameterError("RealTimeStats", "capacity", f"{capacity!r}", "an integer >= 1")
        self.capacity = int(capacity)
        self.compute = np.zeros(self.capacity)
        self.lateness = np.zeros(self.capacity)
        self.jitter = np.zeros(self.capacity)
        self.step = np.zeros(self.capacity, dtype=np.int64)
        self.t_ms = np.zeros(self.capacity)
        self.reset()

    def reset(self) -> None:
        """Forget everything (arrays are kept, not reallocated)."""
        self.n = 0                    # windows recorded over the whole run
        self.overruns = 0             # windows whose compute ended past schedule + tolerance
        self.overrun_events = 0       # runs of consecutive overruns (one stall late by several
        self._late = False            # windows counts once here, once per window in overruns)
        self.dropped_s = 0.0          # wall time given up by policy "drop"
        self.max_lateness = 0.0
        self.max_compute = 0.0
        self.max_jitter = 0.0
        self.wall_s = 0.0             # wall time spent in paced runs
        self.brain_ms = 0.0           # brain time advanced in paced runs
        self.last_overrun: tuple | None = None  # (step, t_ms, late_s)

    def add(self, step: int, t_ms: float, compute: float, lateness: float, jitter: float) -> None:
        j = self.n % self.capacity
        self.step[j], self.t_ms[j] = step, t_ms
        self.compute[j], self.lateness[j], self.jitter[j] = compute, lateness, jitter
        self.n += 1
        self.max_lateness = max(self.max_lateness, lateness)
        self.max_compute = max(self.max_compute, compute)
        self.max_jitter = max(self.max_jitter, jitter)

    def _ordered(self, a: np.ndarray) -> np.ndarray:
        if self.n <= self.capacity:
            return a[:self.n].copy()
        j = self.n % self.capacity
        return np.concatenate([a[j:], a[:j]])

    def arrays(self) -> dict:
        """The recorded windows (oldest first; at most ``capacity``) as a dict of arrays."""
        return {k: self._ordered(getattr(self, k)) for k in ("step", "t_ms", "compute", "lateness", "jitter")}

    def summary(self) -> dict:
        """JSON-serialisable figures (times in ms)."""
        m = min(self.n, self.capacity)
        late, comp, jit = self.lateness[:m] * 1e3, self.compute[:m] * 1e3, self.jitter[:m] * 1e3
        return {"windows": int(self.n), "overruns": int(self.overruns), "overrun_events": int(self.overrun_events),
                "dropped_ms": self.dropped_s * 1e3,
                "lateness_ms": {"p50": _pct(late, 50), "p99": _pct(late, 99), "max": self.max_lateness * 1e3},
                "jitter_ms": {"p50": _pct(jit, 50), "p99": _pct(jit, 99), "max": self.max_jitter * 1e3},
                "compute_ms": {"p50": _pct(comp, 50), "p99": _pct(comp, 99), "max": self.max_compute * 1e3},
                "wall_s": self.wall_s, "brain_ms": self.brain_ms,
                "wall_per_brain": (self.wall_s * 1e3 / self.brain_ms) if self.brain_ms else None,
                "percentiles_over_windows": int(m)}


class Pacer:
    """Paces a :class:`~neurohybrid.kernel.CoSimulation` to the wall clock (see the module doc).

    Parameters
    ----------
    cosim : CoSimulation (built or not; the pacer builds it)
    rtf : float > 0, real-time factor (brain ms per wall ms); ``math.inf``: never wait and never
        count overruns (an unpaced run that still stops cleanly and records compute times)
    policy : "catch_up" | "drop" | "stop" — what an overrun does
    tolerance_ms : float >= 0 — lateness of a window's compute (wall ms) that still is not an
        overrun
    spin_ms : float >= 0 — the last ``spin_ms`` before a deadline are spun, not slept
    capacity : int — windows kept in the statistics ring buffers
    pollers : components/objects with ``poll_io(timeout_s)`` (and ``fileno()`` for the
        sleeping phase) serviced while waiting; by default every component of ``cosim`` that
        has ``poll_io``.
    freeze_gc : collect and ``gc.freeze()`` before a paced run, so that the objects built so far
        (engines, tables) are never scanned again by the cyclic collector (its full collections
        otherwise pause a run for milliseconds)
    clock : callable ``clock() -> float``, monotonic time in seconds (default
        :func:`time.perf_counter`): the schedule, the lateness/compute/jitter statistics and
        ``stats.wall_s`` are all read from it
    sleep : callable ``sleep(seconds)`` or None (default): how the pacer waits for a window's
        scheduled end. None is the real wait (sleep or ``select`` on the pollers' sockets, then a
        spin for the last ``spin_ms``; see :func:`precise_wait`). A custom ``sleep`` must let
        ``clock`` advance by (at least) the time asked; it is given the whole wait (no spin, no
        ``select``) and the pollers get ``poll_io(0)`` after each sleep. Pass both to run on a
        simulated clock (deterministic tests); keep the defaults for real time.
    """

    def __init__(self, cosim, rtf: float = 1.0, policy: str = "catch_up", tolerance_ms: float = 0.0,
                 spin_ms: float = 0.3, capacity: int = 1 << 17, pollers=None, freeze_gc: bool = True,
                 clock=time.perf_counter, sleep=None):
        from .kernel import CoSimulation
        if not isinstance(cosim, CoSimulation):
            raise ParameterError("Pacer", "cosim", f"got {type(cosim).__name__}", "a neurohybrid.kernel.CoSimulation")
        if isinstance(rtf, bool) or not isinstance(rtf, (int, float)) or not rtf > 0:
            raise ParameterError("Pacer", "rtf", f"{rtf!r}", "a real-time factor > 0 (1.0 = real time; "
                                 "math.inf: unpaced, for stop()/Ctrl-C and timing only)")
        if policy not in POLICIES:
            raise ParameterError("Pacer", "policy", f"{policy!r}", ", ".join(POLICIES))
        for pname, v in (("tolerance_ms", tolerance_ms), ("spin_ms", spin_ms)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v >= 0):
                raise ParameterError("Pacer", pname, f"{v!r}", "a finite number of ms >= 0")
        if not callable(clock):
            raise ParameterError("Pacer", "clock", f"{clock!r}", "a callable returning seconds (e.g. time.perf_counter)")
        if sleep is not None and not callable(sleep):
            raise ParameterError("Pacer", "sleep", f"{sleep!r}", "None (the real wait) or a callable sleep(seconds)")
        self.cosim = cosim
        #: time source (s) and wait (None: the real hybrid wait); see the class doc
        self.clock, self.sleep = clock, sleep
        #: callables ``f(budget_s)`` run after a window that finished early, before the wait, with
        #: the wall time left until the deadline (minus the spin); they must stay within it (e.g.
        #: write recordings in small batches in the slack instead of stalling a window)
        self.idle: list = []
        self.freeze_gc = bool(freeze_gc)
        self.rtf, self.policy = float(rtf), policy
        self.tolerance_s, self.spin_s = tolerance_ms * 1e-3, spin_ms * 1e-3
        self.stats = RealTimeStats(capacity)
        self._explicit_pollers = None if pollers is None else list(pollers)
        self._stop = threading.Event()
        self._running = False
        self._anchor: tuple[float, int] | None = None  # (wall s, tick) at which the schedule starts
        self._last_release: float | None = None
        self.stop_reason: str | None = None
        cosim.on_macro_step(self._on_step)

    # ------------------------------------------------------------ schedule
    @property
    def period_s(self) -> float:
        """Nominal wall time of one macro-step (s)."""
        return self.cosim.M * self.cosim.dt * 1e-3 / self.rtf

    def reanchor(self) -> None:
        """Start the schedule afresh now, at the kernel's current tick."""
        now = self.clock()
        self._anchor = (now, self.cosim.tick)
        self._last_release = now

    def _setup_pollers(self) -> None:
        if self._explicit_pollers is not None:
            pollers = self._explicit_pollers
        else:
            pollers = [c for c in self.cosim.components.values() if callable(getattr(c, "poll_io", None))]
        self._pollers = pollers
        self._fds = None
        if pollers and all(callable(getattr(p, "fileno", None)) for p in pollers):
            self._fds = {p.fileno(): p for p in pollers}

    def _close_pollers(self) -> None:
        self._fds = None

    def _on_step(self, k: int, t_ms: float, outboxes: dict) -> None:
        """Kernel hook: measure this window, handle an overrun, wait for the schedule."""
        if not self._running:
            return
        now = self.clock()
        if self._anchor is None:
            self.reanchor()
            return
        if math.isinf(self.rtf):
            self.stats.add(k, t_ms, now - self._last_release, 0.0, 0.0)
            self._last_release = now
            return
        wall0, tick0 = self._anchor
        dt = self.cosim.dt
        target = wall0 + (t_ms - tick0 * dt) * 1e-3 / self.rtf
        compute = now - self._last_release
        late = now - target
        if late > self.tolerance_s:
            self.stats.overruns += 1
            if not self.stats._late:
                self.stats.overrun_events += 1
            self.stats._late = True
            self.stats.last_overrun = (int(k), float(t_ms), float(late))
            if self.policy == "stop":
                self._last_release = now
                self.stats.add(k, t_ms, compute, late, abs(compute - self.period_s))
                raise RealTimeError("Pacer", "policy", f"window {k} ending at {t_ms:g} ms finished "
                                    f"{late * 1e3:.3f} ms after its scheduled end (tolerance "
                                    f"{self.tolerance_s * 1e3:g} ms, rtf {self.rtf:g})",
                                    "policy='catch_up' or 'drop', a lower rtf, or a faster model")
            if self.policy == "drop":
                self.stats.dropped_s += late
                self._anchor = (now, int(round(t_ms / dt)))
                target = now
        else:
            self.stats._late = False
            for work in self.idle:
                budget = target - self.clock() - self.spin_s
                if budget > 0:
                    work(budget)
            precise_wait(target, self.spin_s, self._pollers, self._fds, self.clock, self.sleep)
            now = self.clock()
        interval = now - self._last_release
        self.stats.add(k, t_ms, compute, now - target, abs(interval - self.period_s))
        self._last_release = now

    # ------------------------------------------------------------ running
    def stop(self, reason: str = "stop()") -> None:
        """Ask a running :meth:`run_forever` / :meth:`run_ticks` to stop at the next macro-step
        boundary (thread-safe; callable from signal handlers and live-I/O callbacks)."""
        self.stop_reason = reason
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self, t_stop_ms: float) -> str:
        """Paced :meth:`CoSimulation.run` to ``t_stop_ms`` (stoppable); returns the stop reason."""
        cs = self.cosim
        n = int(round(t_stop_ms / cs.dt))
        if abs(n * cs.dt - t_stop_ms) > 1e-9 * max(1.0, abs(t_stop_ms)):
            raise ParameterError("Pacer.run", "t_stop", f"{t_stop_ms!r} ms is not a whole number of ticks",
                                 f"a multiple of dt={cs.dt} ms")
        return self.run_ticks(n)

    def run_ticks(self, t_stop: int | None, on_step=None, handle_sigint: bool = False) -> str:
        """Advance the co-simulation to tick ``t_stop`` (None: open-ended) one macro-step at a
        time, paced; returns why it ended: ``"t_stop"``, the reason given to :meth:`stop`, or
        ``"SIGINT"``. ``on_step(pacer)`` is called after each paced window (e.g. to flush
        recordings; its time counts against the next window)."""
        cs = self.cosim
        if self._running:
            raise SimulationStateError("Pacer", "run", "already running", "one paced run at a time")
        if not cs._built:
            cs.build()
        if t_stop is not None and int(t_stop) < cs.tick:
            from .errors import PastTimeError
            raise PastTimeError("Pacer", "t_stop", f"tick {t_stop} is before the current tick {cs.tick}",
                                f">= {cs.tick}")
        M = cs.M
        self._stop.clear()
        self.stop_reason = None
        old_handler = None
        interrupts = [0]
        if handle_sigint and threading.current_thread() is threading.main_thread():
            def _sigint(signum, frame):
                interrupts[0] += 1
                if interrupts[0] > 1:
                    raise KeyboardInterrupt
                self.stop("SIGINT")
            old_handler = signal.signal(signal.SIGINT, _sigint)
        self._setup_pollers()
        if self.freeze_gc:
            gc.collect()
            gc.freeze()
        self._running = True
        tick0, wall_start = cs.tick, self.clock()
        self.reanchor()
        reason = "t_stop"
        try:
            while t_stop is None or cs.tick < t_stop:
                if self._stop.is_set():
                    reason = self.stop_reason or "stop()"
                    break
                nxt = (cs.tick // M + 1) * M
                cs.run_ticks(nxt if t_stop is None else min(nxt, int(t_stop)))
                if on_step is not None:
                    on_step(self)
            else:
                if self._stop.is_set():
                    reason = self.stop_reason or "stop()"
        except KeyboardInterrupt:
            reason = "KeyboardInterrupt"
            raise
        finally:
            self._running = False
            self._close_pollers()
            self.stats.wall_s += self.clock() - wall_start
            self.stats.brain_ms += (cs.tick - tick0) * cs.dt
            if old_handler is not None:
                signal.signal(signal.SIGINT, old_handler)
            self.stop_reason = reason
        return reason

    def run_forever(self, on_step=None, handle_sigint: bool = True, max_ms: float | None = None) -> str:
        """Run paced until :meth:`stop` (any thread), Ctrl-C (first one: clean stop at a
        macro-step boundary, if called from the main thread) or ``max_ms`` more brain time.
        Returns the stop reason. ``on_step(pacer)`` as in :meth:`run_ticks`."""
        t_stop = None
        if max_ms is not None:
            t_stop = self.cosim.tick + int(round(float(max_ms) / self.cosim.dt))
        return self.run_ticks(t_stop, on_step=on_step, handle_sigint=handle_sigint)
