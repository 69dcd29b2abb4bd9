"""Current sources of the emulator: DCSource, StepCurrentSource, ACSource, NoisyCurrentSource,
with PyNN's parameters and units (nA, ms, Hz, degrees).

Convention: ``values(t0, n_ticks)`` returns the current (nA) during each tick
``k = t0 .. t0 + n_ticks - 1``, which is the source evaluated at ``t_k = k * dt``. A source with
``start``/``stop`` is active iff ``start <= t_k < stop`` (0 nA otherwise). StepCurrentSource
gives the amplitude of the last step time ``<= t_k`` (0 nA before the first).

Times are **rounded to the nearest grid point** (``numpy.rint(t / dt)``, ties to even, as PyNN's
``_round_timestamp`` does), so all comparisons are between integer ticks; ``stop`` may be
``inf``. Two step times that round to the same tick keep the later amplitude (as pyNN.nest).
The NoisyCurrentSource ``dt`` is the exception: it must be a whole multiple of the simulation
step (within 1e-9 relative), otherwise ParameterError.

ACSource follows PyNN's definition (pyNN.nest corrects NEST's phase to match it): the phase is
the phase at ``start``, ``I(t) = offset + amplitude * sin(2π·frequency·(t - start)/1000 +
phase·π/180)``.

NoisyCurrentSource holds ``mean + stdev * N(0, 1)`` for each noise interval
``[start + m*dt_noise, start + (m+1)*dt_noise)``; the normal variate is drawn from the
counter-based stream (key, m, channel) of :mod:`neurohybrid.rng`, so values do not depend on the
window sizes. ``values(..., channel=c)`` gives independent noise for different channels (e.g.
one per target cell, which is what NEST's noise_generator does); deterministic sources ignore
``channel``.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from neurohybrid import rng
from neurohybrid.errors import ParameterError, UnknownParameterError

from .draws import _check_dt, _check_key  # the checks every stimulus shares

__all__ = ["DCSource", "StepCurrentSource", "ACSource", "NoisyCurrentSource", "CURRENT_SOURCES"]

_TICK_MAX = 2 ** 62  # stands in for an infinite stop: far beyond any run, no int64 overflow


@njit(cache=True)
def _add_noise_kernel(out, cells, first, key, mean, stdev, k_start, k_stop, q, t0, n_ticks):
    """``out[idx, cells[c]] +=`` the noise of channel ``first + c`` at tick ``t0 + idx``: a new
    normal draw (keyed by channel and interval) every ``q`` ticks from ``k_start``, zero outside
    ``[k_start, k_stop)``; every target in one call."""
    for c in range(cells.size):
        last = np.int64(-1)
        value = 0.0
        for idx in range(n_ticks):
            k = t0 + idx
            if k < k_start or k >= k_stop:
                continue
            interval = (k - k_start) // q
            if interval != last:
                value = mean + stdev * rng.normal(key, interval, np.int64(first + c))
                last = interval
            out[idx, cells[c]] += value


class _CurrentSource:
    """Common parameter handling: PyNN defaults, type and range checks, ms -> tick conversion."""

    defaults: dict = {}

    def __init__(self, params: dict, key: int, dt: float):
        self.dt = _check_dt(self, dt)
        self.key = _check_key(self, key)
        self.params = {}
        self.set_params({**self.defaults, **params})

    def __repr__(self) -> str:
        return type(self).__name__

    def set_params(self, params: dict) -> None:
        """Change parameters (PyNN units); names not given keep their values."""
        for name in params:
            if name not in self.defaults:
                raise UnknownParameterError(self, name, tuple(self.defaults))
        merged = {**self.params, **params}
        clean = {name: self._scalar(name, value) for name, value in merged.items()
                 if name not in ("times", "amplitudes")}
        clean.update({name: merged[name] for name in ("times", "amplitudes") if name in merged})
        self._prepare(clean)  # raises before anything is changed
        self.params = clean

    def _scalar(self, name, value) -> float:
        value = getattr(value, "value", value)  # pyNN Sequence / quantities
        try:
            a = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise ParameterError(self, name, f"{value!r} is not a number", "a number") from None
        if a.size != 1:
            raise ParameterError(self, name, f"{value!r} is not a single number", "a number")
        x = float(a.reshape(()))
        if math.isnan(x):
            raise ParameterError(self, name, "is NaN", "a number")
        return x

    def _ticks(self, name, value_ms) -> int:
        x = value_ms / self.dt
        if x == math.inf or x >= _TICK_MAX:
            return _TICK_MAX
        if x == -math.inf or x <= -_TICK_MAX:
            return -_TICK_MAX
        return int(np.rint(x))

    def _window(self, p):
        """(k_start, k_stop) from start/stop (ms): start finite, stop >= start (inf allowed)."""
        if not math.isfinite(p["start"]):
            raise ParameterError(self, "start", f"{p['start']!r} is not finite", "a finite time in ms")
        if p["stop"] < p["start"]:
            raise ParameterError(self, "stop", f"stop {p['stop']!r} ms is before start {p['start']!r} ms",
                                 "stop >= start")
        return self._ticks("start", p["start"]), self._ticks("stop", p["stop"])

    def _finite(self, p, *names):
        for name in names:
            if not math.isfinite(p[name]):
                raise ParameterError(self, name, f"{p[name]!r} is not finite", "a finite number")

    def _prepare(self, p):
        raise NotImplementedError

    def values(self, t0: int, n_ticks: int, channel: int = 0) -> np.ndarray:
        """Current (nA) during ticks t0 .. t0 + n_ticks - 1, as float64[n_ticks].

        ``channel`` selects an independent noise realisation (NoisyCurrentSource only; e.g. the
        target cell's index); other sources ignore it. Windows may be asked in any order.
        """
        t0, n_ticks = int(t0), int(n_ticks)
        if n_ticks < 0:
            raise ParameterError(self, "n_ticks", f"{n_ticks} is negative", "an integer >= 0")
        return self._values(t0, n_ticks, int(channel))

    def _active(self, t0, n_ticks):
        k = np.arange(t0, t0 + n_ticks, dtype=np.int64)
        return k, (k >= self._k_start) & (k < self._k_stop)


class DCSource(_CurrentSource):
    """Constant current ``amplitude`` (nA) while ``start <= t < stop`` (ms)."""

    defaults = {"amplitude": 1.0, "start": 0.0, "stop": 1e12}

    def _prepare(self, p):
        self._finite(p, "amplitude")
        self._k_start, self._k_stop = self._window(p)

    def _values(self, t0, n_ticks, channel):
        _, active = self._active(t0, n_ticks)
        return np.where(active, self.params["amplitude"], 0.0)


class ACSource(_CurrentSource):
    """Sinusoidal current ``offset + amplitude * sin(2π f (t - start)/1000 + phase π/180)`` (nA)
    while ``start <= t < stop`` (ms); ``frequency`` in Hz, ``phase`` in degrees (phase at start)."""

    defaults = {"amplitude": 1.0, "start": 0.0, "stop": 1e12, "frequency": 10.0, "offset": 0.0,
                "phase": 0.0}

    def _prepare(self, p):
        self._finite(p, "amplitude", "offset", "frequency", "phase")
        self._k_start, self._k_stop = self._window(p)

    def _values(self, t0, n_ticks, channel):
        k, active = self._active(t0, n_ticks)
        p = self.params
        since_start = (k - self._k_start) * self.dt  # ms, from integer ticks: no drift
        wave = p["offset"] + p["amplitude"] * np.sin(2.0 * np.pi * p["frequency"] * since_start / 1000.0
                                                     + np.deg2rad(p["phase"]))
        return np.where(active, wave, 0.0)


class StepCurrentSource(_CurrentSource):
    """Piecewise-constant current: ``amplitudes[j]`` (nA) from ``times[j]`` (ms) until the next
    step time; 0 nA before the first. ``times`` strictly increasing, finite, >= 0."""

    defaults = {"times": (), "amplitudes": ()}

    def _prepare(self, p):
        times = self._array("times", p["times"])
        amplitudes = self._array("amplitudes", p["amplitudes"])
        if times.size != amplitudes.size:
            raise ParameterError(self, "amplitudes", f"has {amplitudes.size} values for {times.size} times",
                                 "one amplitude per step time")
        if (times < 0).any():
            raise ParameterError(self, "times", "contains negative times", "times >= 0 ms")
        if (np.diff(times) <= 0).any():
            raise ParameterError(self, "times", "is not strictly increasing", "strictly increasing times in ms")
        ticks = np.rint(times / self.dt).astype(np.int64)
        # Rounding may merge steps: keep the last amplitude for each tick.
        last = np.r_[ticks[1:] != ticks[:-1], True] if ticks.size else np.zeros(0, dtype=bool)
        self._step_ticks, self._step_amps = ticks[last], amplitudes[last]
        p["times"], p["amplitudes"] = times, amplitudes

    def _array(self, name, value):
        value = getattr(value, "value", value)
        try:
            a = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise ParameterError(self, name, f"{value!r} is not numeric", "a 1-D array of numbers") from None
        if a.ndim != 1:
            raise ParameterError(self, name, f"has shape {a.shape}", "a 1-D array of numbers")
        if not np.isfinite(a).all():
            raise ParameterError(self, name, "contains NaN or inf", "finite numbers")
        return a.copy()

    def _values(self, t0, n_ticks, channel):
        k = np.arange(t0, t0 + n_ticks, dtype=np.int64)
        if self._step_ticks.size == 0:
            return np.zeros(n_ticks)
        j = np.searchsorted(self._step_ticks, k, side="right") - 1
        return np.where(j >= 0, self._step_amps[np.maximum(j, 0)], 0.0)


class NoisyCurrentSource(_CurrentSource):
    """Gaussian noise current: ``mean + stdev * N(0,1)`` (nA), redrawn every ``dt`` ms (a whole
    multiple of the simulation step) from ``start``, while ``start <= t < stop`` (ms)."""

    independent_per_target = True  # the engine asks for one channel per target cell

    defaults = {"mean": 0.0, "stdev": 1.0, "start": 0.0, "stop": 1e12, "dt": 0.1}

    def _prepare(self, p):
        self._finite(p, "mean", "stdev", "dt")
        if p["stdev"] < 0:
            raise ParameterError(self, "stdev", f"{p['stdev']!r} is negative", "a standard deviation >= 0 nA")
        q = p["dt"] / self.dt
        q_int = round(q)
        if not (q_int >= 1 and abs(q - q_int) <= 1e-9 * q):
            raise ParameterError(self, "dt", f"{p['dt']!r} ms is not a whole multiple of the time step "
                                 f"{self.dt!r} ms", f"a multiple of {self.dt!r} ms, at least {self.dt!r} ms")
        self._k_start, self._k_stop = self._window(p)
        self._q = int(q_int)

    def add_into(self, out: np.ndarray, cells: np.ndarray, t0: int, n_ticks: int) -> None:
        """Add each target's own noise (nA; channel = the target's position in ``cells``) into
        ``out[:n_ticks, cells]`` for ticks t0..t0 + n_ticks - 1."""
        p = self.params
        _add_noise_kernel(out, np.asarray(cells, np.int64), np.int64(0), self.key, p["mean"], p["stdev"], np.int64(self._k_start),
                          np.int64(self._k_stop), np.int64(self._q), np.int64(t0), np.int64(n_ticks))

    def _values(self, t0, n_ticks, channel):
        p = self.params
        out = np.zeros((n_ticks, 1))
        _add_noise_kernel(out, np.zeros(1, np.int64), np.int64(channel), self.key, p["mean"], p["stdev"],
                          np.int64(self._k_start), np.int64(self._k_stop), np.int64(self._q), np.int64(t0),
                          np.int64(n_ticks))
        return out[:, 0]


CURRENT_SOURCES = {cls.__name__: cls for cls in (DCSource, StepCurrentSource, ACSource, NoisyCurrentSource)}
"""PyNN current-source name -> emulator current-source class."""
