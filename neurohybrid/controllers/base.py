"""The controller port contract (see the package docstring)."""
from __future__ import annotations

import numpy as np

from ..errors import ParameterError, SimulationStateError
from ..kernel import Component, Port, Series

__all__ = ["Controller", "SIGNAL"]

#: what ``reads`` gives for an input port that takes a sampled signal instead of spikes
SIGNAL = "signal"


class Controller(Component):
    """A host-module controller with typed ports, stepped once per control ``period`` (ms).

    ``reads``: {input port: number of cells of the population bound to it}: each period the
    controller gets every cell's rate (Hz) over the period's arriving spikes; or {input port:
    ``"signal"``}: a sampled signal (e.g. a scaffold region's state, in its own units), of which
    the controller gets the latest sample at the period's end (a 1-element array; 0 before the
    first); ``writes``:
    {output port: units}: :meth:`control` returns one value per output port, sent as a field
    sample named ``"<name>.<port>"`` at the period's last tick (it acts one link delay later).
    Subclasses implement :meth:`control` (and keep their state in plain attributes listed in
    ``_state``, which :meth:`state`/:meth:`restore` copy).
    """

    _state: tuple = ()

    def __init__(self, name: str, reads: dict | None = None, writes: dict | None = None, period: float = 1.0):
        super().__init__(name)
        reads = dict(reads or {})
        self.signals = [p for p, n in reads.items() if n == SIGNAL]
        self.sizes = {p: n for p, n in reads.items() if n != SIGNAL}
        for port, n in self.sizes.items():
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ParameterError(name, port, f"{n!r} cells", "the size (>= 1) of the population read on the "
                                     f"port, or {SIGNAL!r} (a sampled signal)")
        self.sizes = {p: int(n) for p, n in self.sizes.items()}
        self.units = dict(writes or {})
        if not (isinstance(period, (int, float)) and period > 0):
            raise ParameterError(name, "period", f"{period!r}", "a control period > 0 in ms")
        self.period_ms = float(period)
        self.inputs = {**{p: "spikes" for p in self.sizes}, **{p: Port("fields") for p in self.signals}}
        self.outputs = {p: Port("fields", field=f"{name}.{p}") for p in self.units}

    def bind(self, dt):
        super().bind(dt)
        n = int(round(self.period_ms / dt))
        if n < 1 or abs(n * dt - self.period_ms) > 1e-9 * max(1.0, self.period_ms):
            raise ParameterError(self.name, "period", f"{self.period_ms!r} ms", f"a positive multiple of dt={dt} ms")
        self.period = n
        self.reset()

    def control(self, t_ms: float, rates: dict) -> dict:
        """One control step at ``t_ms`` (the end of the period): ``rates`` {input port: per-cell
        Hz}; returns {output port: value in its units}."""
        raise NotImplementedError

    def advance(self, t_stop, inbox):
        t0 = self.tick
        msgs = {p: inbox.get(p) for p in self.sizes}
        signals = {p: inbox.get(p) for p in self.signals}
        ticks, rows = [], []
        end = (t0 // self.period + 1) * self.period
        start = t0
        while start < t_stop:
            stop = min(end, t_stop)
            self._add(msgs, start, stop)
            self._hold(signals, stop)
            if stop == end:  # the period ends: one control step on its spikes
                seconds = self.period * self.dt * 1e-3
                values = self.control(end * self.dt, {**{p: c / seconds for p, c in self._counts.items()},
                                                      **{p: v.copy() for p, v in self._held.items()}})
                ticks.append(end - 1)
                rows.append([float(values[p]) for p in self.units])
                self._counts = {p: np.zeros(n) for p, n in self.sizes.items()}
            start, end = stop, end + self.period
        self.tick = t_stop
        arr = np.asarray(rows, dtype=float).reshape(len(ticks), len(self.units))
        t = np.asarray(ticks, np.int64)
        return self._keep({p: Series(t, arr[:, k:k + 1].copy(), self.period, "fields", f"{self.name}.{p}")
                           for k, p in enumerate(self.units)})

    def _add(self, msgs: dict, start: int, stop: int) -> None:
        """Count the spikes arriving in ticks [start, stop) per cell."""
        for port, msg in msgs.items():
            if msg is None or not len(msg):
                continue
            n = self.sizes[port]
            keep = (msg.ticks >= start) & (msg.ticks < stop) & (msg.index < n)
            if keep.any():
                self._counts[port] += np.bincount(msg.index[keep], minlength=n)[:n]

    def _hold(self, signals: dict, stop: int) -> None:
        """Keep the latest sample before tick ``stop`` of each signal port."""
        for port, msg in signals.items():
            if msg is not None and len(msg):
                keep = msg.ticks < stop
                if keep.any():
                    self._held[port] = np.asarray(msg.values[keep][-1], dtype=float).ravel()

    def reset(self):
        self.tick, self._records = 0, {}
        self._counts = {p: np.zeros(n) for p, n in self.sizes.items()}
        self._held = {p: np.zeros(1) for p in self.signals}
        self.initial_state()

    def initial_state(self) -> None:
        """Set the controller's own state to its initial values (subclasses)."""

    def state(self):
        import copy
        return copy.deepcopy({"tick": self.tick, "counts": self._counts, "held": self._held,
                              "own": {k: getattr(self, k) for k in self._state}})

    def restore(self, state):
        import copy
        if "own" not in state:
            raise SimulationStateError(self.name, "state", "not a snapshot of this controller", "a state() of it")
        s = copy.deepcopy(state)
        self.tick, self._counts, self._held = s["tick"], s["counts"], s.get("held", {})
        for k, v in s["own"].items():
            setattr(self, k, v)

    def describe(self):
        return {**super().describe(), "period_ms": self.period_ms, "reads_cells": self.sizes, "reads_signals": self.signals,
                "units": self.units}
