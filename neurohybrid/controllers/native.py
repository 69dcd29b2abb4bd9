"""Native controllers: small state machines on the :class:`~.base.Controller` ports, for users
who do not want Nengo. Each step is a few vector operations per control period."""
from __future__ import annotations

import numpy as np

from ..errors import ParameterError
from .base import Controller

__all__ = ["TaskSequencer", "TDCritic", "WTASelector"]


class TaskSequencer(Controller):
    """Phases of a task in time: ``phases`` [(duration ms, {output port: value})], each output
    holding its value through the phase (a port a phase leaves out keeps its previous value,
    ``initial`` before any); ``repeat``: start again after the last phase (else hold it).
    ``units``: {port: units} (default "1"). No inputs."""

    _state = ("phase",)

    def __init__(self, name: str, phases: list, units: dict | None = None, initial: dict | None = None,
                 repeat: bool = False, period: float = 1.0):
        ports = sorted({p for _, values in phases for p in values} | set(initial or {}))
        if not phases or any(not (isinstance(d, (int, float)) and d > 0) for d, _ in phases):
            raise ParameterError(name, "phases", f"{phases!r}", "a list of (duration > 0 ms, {port: value})")
        super().__init__(name, None, {p: (units or {}).get(p, "1") for p in ports}, period)
        self.phases, self.repeat = [(float(d), dict(v)) for d, v in phases], bool(repeat)
        self.initial = {p: float((initial or {}).get(p, 0.0)) for p in ports}
        self.ends = np.cumsum([d for d, _ in self.phases])

    def initial_state(self):
        self.phase = -1

    def values_at(self, t_ms: float) -> dict:
        """The outputs in force at ``t_ms``."""
        total = self.ends[-1]
        t = t_ms % total if self.repeat else min(t_ms, np.nextafter(total, 0))
        k = int(np.searchsorted(self.ends, t, side="right"))
        out = dict(self.initial)
        for _, values in self.phases[:min(k, len(self.phases) - 1) + 1]:
            out.update(values)
        return out

    def control(self, t_ms, rates):
        # the value for the period that starts now (the step runs at the end of the previous one)
        return self.values_at(t_ms)


class TDCritic(Controller):
    """A temporal-difference critic emitting the reward-prediction error (Sutton & Barto 2018,
    ch. 6, TD(0) with linear features; the dopamine RPE of Schultz, Dayan & Montague 1997).

    Features: the per-cell rates of the ``"state"`` population divided by ``rate_scale`` (Hz);
    reward: the mean rate of the ``"reward"`` population times ``reward_scale`` (per Hz).
    Each period: ``V = w . x``, ``delta = r + gamma V - V_prev``, ``w += alpha delta x_prev``;
    output ``"rpe"`` = delta (dimensionless), a field (e.g. a dopamine source's input).
    """

    _state = ("w", "x_prev", "v_prev")

    def __init__(self, name: str, n_state: int, n_reward: int, gamma: float = 0.9, alpha: float = 0.1,
                 rate_scale: float = 100.0, reward_scale: float = 0.01, period: float = 10.0):
        super().__init__(name, {"state": n_state, "reward": n_reward}, {"rpe": "1"}, period)
        for k, v in (("gamma", gamma), ("alpha", alpha)):
            if not 0.0 <= v <= 1.0:
                raise ParameterError(name, k, f"{v!r}", "a value in [0, 1]")
        self.gamma, self.alpha = float(gamma), float(alpha)
        self.rate_scale, self.reward_scale = float(rate_scale), float(reward_scale)

    def initial_state(self):
        self.w = np.zeros(self.sizes["state"])
        self.x_prev = np.zeros(self.sizes["state"])
        self.v_prev = 0.0

    def control(self, t_ms, rates):
        x = rates["state"] / self.rate_scale
        r = float(rates["reward"].mean()) * self.reward_scale
        v = float(self.w @ x)
        delta = r + self.gamma * v - self.v_prev
        self.w = self.w + self.alpha * delta * self.x_prev
        self.x_prev, self.v_prev = x, v
        return {"rpe": delta}


class WTASelector(Controller):
    """Winner-take-all action selection: reads one population per candidate (``candidates``
    {port: cells}) and opens the gate ``"<port>_gate"`` of the one with the highest mean rate
    (1) and closes the others (0); nothing opens while every rate is below ``threshold`` Hz,
    and the current winner is kept unless another exceeds it by ``margin`` Hz (hysteresis)."""

    _state = ("winner",)

    def __init__(self, name: str, candidates: dict, threshold: float = 5.0, margin: float = 2.0,
                 period: float = 10.0):
        if len(candidates) < 2:
            raise ParameterError(name, "candidates", f"{len(candidates)} candidates", "at least two populations")
        super().__init__(name, candidates, {f"{p}_gate": "1" for p in candidates}, period)
        self.names = list(candidates)
        self.threshold, self.margin = float(threshold), float(margin)

    def initial_state(self):
        self.winner = None

    def control(self, t_ms, rates):
        mean = {p: float(rates[p].mean()) for p in self.names}
        best = max(self.names, key=lambda p: mean[p])
        if mean[best] < self.threshold:
            self.winner = None
        elif self.winner is None or mean[best] > mean[self.winner] + self.margin:
            self.winner = best
        return {f"{p}_gate": 1.0 if p == self.winner else 0.0 for p in self.names}
