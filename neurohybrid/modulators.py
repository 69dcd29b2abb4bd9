"""Neuromodulator fields with their own dynamics, and how several fields on one target combine.

:class:`ModulatorField` is the kernel component of a :class:`~neurohybrid.graph.FieldNode` that
has dynamics (``tau`` not None): a concentration ``c`` (in the field's concentration units) that

- relaxes to ``baseline`` with the uptake/decay time constant ``tau`` (ms),
- rises by ``release`` for every spike of its source population (input port ``"spikes"``: a
  spiking nucleus: VTA -> dopamine, LC -> noradrenaline, basal forebrain -> acetylcholine), or
  by ``release * x * dt`` for a ``"fields"`` input ``x`` held from sample to sample (input port
  ``"in"``: a low-dimensional rate model, a controller),
- and is clipped to ``[lower, upper]``.

This is the first-order release-and-uptake model of volume-transmitted dopamine (Montague,
Dayan & Sejnowski 1996; the phasic/tonic split of Dreyer et al. 2010, J Neurosci 30:14273,
uses the same form with tau of ~100 ms for the DAT uptake) and NEST's volume transmitter
trace (``stdp_dopamine_synapse``: ``n`` jumps by 1/tau_n per spike and decays with tau_n).
Each tick of ``dt``: ``c <- baseline + (c - baseline) exp(-dt/tau) + release * (spikes in the
tick)`` (exact between spikes), then clipped. The value sent to the targets every ``period`` ms
is ``fn(c)`` at the sample tick (the concentration after that tick's releases).

Composition: several fields acting on one target (population, modulates) combine by one
declared rule (:data:`~neurohybrid.graph.hybrid.COMPOSITION_RULES`): ``"sum"`` (offsets:
threshold, current) or ``"product"`` (factors: gain, plasticity_rate, gates); fields composed on
one target must share units (:func:`check_composition`).
"""
from __future__ import annotations

import copy
import math

import numba
import numpy as np

from .errors import LinkError, ParameterError
from .kernel import Component, Port, Series

__all__ = ["ModulatorField", "compose", "natural_rule", "neutral", "check_composition", "gate_value",
           "excitable_threshold", "TARGET_UNITS"]

#: The units a field must have (after its ``fn``) to act as each target; ``"1"`` is also taken
#: as "already in the target's units" (the default of every field before units were checked).
TARGET_UNITS = {"gain": "1", "plasticity_rate": "1", "threshold": "mV", "current": "nA", "gate": "1",
                "dopamine": "1/ms", "excitability": "1"}

_FACTORS = ("gain", "plasticity_rate", "gate", "excitability")


def _target(modulates: str) -> str:
    return "gate" if modulates.startswith("gate:") else modulates


def natural_rule(modulates: str) -> str:
    """The rule fields compose by on a target when none is declared: factors multiply, offsets add."""
    return "product" if _target(modulates) in _FACTORS else "sum"


def neutral(rule: str) -> float:
    """The value of no field under ``rule`` (0 for a sum, 1 for a product)."""
    return 1.0 if rule == "product" else 0.0


def compose(rule: str, values: list) -> np.ndarray:
    """The combined value of ``values`` (scalars or per-cell arrays) under ``rule``."""
    out = np.asarray(neutral(rule), dtype=float)
    for v in values:
        out = out * np.asarray(v, float) if rule == "product" else out + np.asarray(v, float)
    return out


def check_composition(target: str, modulates: str, fields: list) -> str:
    """The rule of the fields ``[(name, units, compose)]`` acting on ``target`` as ``modulates``:
    a LinkError naming the target when they declare different rules, different units, or units
    the target cannot take (e.g. a field in nA as a gain)."""
    who = f"Population({target}).field:{modulates}"
    want = TARGET_UNITS.get(_target(modulates))
    for name, units, _ in fields:
        if want is not None and units not in (want, "1"):
            raise LinkError(who, "units", f"field {name!r} is in {units!r}, a {modulates!r} target takes {want!r}",
                            f"a field in {want!r} (map it with the field's fn)")
    units = sorted({u for _, u, _ in fields})
    if len(units) > 1:
        raise LinkError(who, "units", "fields of incompatible units composed on one target: " +
                        ", ".join(f"{n!r} in {u!r}" for n, u, _ in fields), "fields of one unit on one target")
    rules = sorted({c for _, _, c in fields if c is not None})
    if len(rules) > 1:
        raise LinkError(who, "compose", "fields declare different composition rules: " +
                        ", ".join(f"{n!r}: {c!r}" for n, _, c in fields if c is not None), "one rule per target")
    return rules[0] if rules else natural_rule(modulates)


def gate_value(projection: str, values) -> float:
    """A gate's value as a float: one finite number in [0, 1] (the fraction of the projection's
    efficacy let through); ParameterError naming the projection otherwise. A gate above 1 would
    exceed the input range the engines sized their synaptic buffers and Loihi weights for."""
    v = np.asarray(values, dtype=float).ravel()
    who = f"Projection({projection})"
    if v.size != 1 or not np.isfinite(v[0]):
        raise ParameterError(who, "gate", f"{v.tolist()!r}", "one finite value in [0, 1] per projection")
    if not 0.0 <= v[0] <= 1.0:
        raise ParameterError(who, "gate", f"{float(v[0])!r} outside [0, 1]", "a gate value in [0, 1] (map the field "
                             "into it with the field's fn, e.g. graph.Sigmoid(0, 1, ...))")
    return float(v[0])


def excitable_threshold(who: str, v_rest, v_thresh, shift, excitability):
    """The firing threshold (mV) of cells with ``v_rest``, ``v_thresh`` (mV), a ``"threshold"``
    field ``shift`` (mV, added to v_thresh) and an ``"excitability"`` field (dimensionless, > 0;
    1 = the cell as modelled): the distance from rest to threshold is divided by the
    excitability, ``v_rest + (v_thresh + shift - v_rest) / excitability``. For a leaky
    integrate-and-fire cell the rheobase current ``g_L (v_thresh - v_rest)`` is divided by it
    too: excitability 1.25 means 20 % less depolarisation (and current) to reach threshold, 0.8
    means 25 % more; the membrane, synapses and reset are untouched. With excitability 1 the
    result is exactly ``v_thresh + shift``. ``who``: the population, named by the
    ParameterError a non-positive or non-finite excitability raises."""
    x = np.asarray(excitability, dtype=float)
    if not (np.all(np.isfinite(x)) and np.all(x > 0)):
        bad = x[~(np.isfinite(x) & (x > 0))].ravel()
        raise ParameterError(f"Population({who})", "excitability", f"{float(bad[0])!r}",
                             "a finite factor > 0 (1: the cell as modelled)")
    theta = np.asarray(v_thresh, dtype=float) + shift
    if np.all(x == 1.0):
        return theta
    return v_rest + (theta - v_rest) / x


@numba.njit(cache=True)
def _integrate(c, baseline, decay, release, drive, lower, upper, out):
    """c after each tick: relax to baseline by ``decay``, add ``release * drive[k]``, clip."""
    for k in range(drive.size):
        c = baseline + (c - baseline) * decay + release * drive[k]
        if c < lower:
            c = lower
        elif c > upper:
            c = upper
        out[k] = c
    return c


class ModulatorField(Component):
    """A field with dynamics as a kernel component (see the module docstring).

    ``name``: the component; ``field``: the field's name (its Series carry it); ``source``:
    ``"spikes"`` (a nucleus) or ``"fields"`` (a rate model or controller); ``tau`` (ms),
    ``baseline``, ``release``, ``lower``, ``upper``: the dynamics; ``period``: ms between the
    samples sent on; ``fn``: concentration -> field value in ``units`` (None: identity).
    Input port ``"spikes"`` or ``"in"``; output ports ``"field"`` (``fn(c)``, to the targets)
    and ``"concentration"`` (``c`` itself, named ``<field>.concentration``, for recording).
    """

    def __init__(self, name: str, field: str, source: str, tau: float, baseline: float = 0.0, release: float = 1.0,
                 lower: float = -math.inf, upper: float = math.inf, period: float = 1.0, fn=None, units: str = "1"):
        super().__init__(name)
        if source not in ("spikes", "fields"):
            raise ParameterError(name, "source", f"{source!r}", "'spikes' (a nucleus) or 'fields' (a rate model)")
        if not (isinstance(tau, (int, float)) and tau > 0):
            raise ParameterError(name, "tau", f"{tau!r}", "an uptake/decay time constant > 0 in ms")
        self.field, self.source, self.fn, self.units = field, source, fn, units
        self.tau, self.baseline, self.release = float(tau), float(baseline), float(release)
        self.lower, self.upper, self.period_ms = float(lower), float(upper), float(period)
        self.inputs = {"spikes": "spikes"} if source == "spikes" else {"in": Port("fields")}
        self.outputs = {"field": Port("fields", field=field),
                        "concentration": Port("fields", field=f"{field}.concentration")}

    def bind(self, dt):
        super().bind(dt)
        n = int(round(self.period_ms / dt))
        if n < 1 or abs(n * dt - self.period_ms) > 1e-9 * max(1.0, self.period_ms):
            raise ParameterError(f"FieldNode({self.field})", "period", f"{self.period_ms!r} ms",
                                 f"a positive multiple of dt={dt} ms")
        self.period = n
        self.decay = math.exp(-dt / self.tau)
        self.reset()

    def reset(self):
        self.tick, self.c, self._held, self._records = 0, self.baseline, 0.0, {}
        self.last = self.baseline

    def _drive(self, msg, t0: int, n: int) -> np.ndarray:
        """Per tick of the window: spikes in that tick (nucleus) or the held input times dt."""
        if self.source == "spikes":
            return np.bincount(msg.ticks - t0, minlength=n).astype(float) if msg is not None and len(msg) else \
                np.zeros(n)
        held = np.full(n, self._held)
        if msg is not None and len(msg):
            for t, v in zip(msg.ticks, msg.values[:, 0]):
                held[int(t) - t0:] = float(v)
            self._held = float(msg.values[-1, 0])
        return held * self.dt

    def advance(self, t_stop, inbox):
        t0 = self.tick
        n = t_stop - t0
        trace = np.empty(n)
        msg = inbox.get("spikes" if self.source == "spikes" else "in")
        self.c = _integrate(self.c, self.baseline, self.decay, self.release, self._drive(msg, t0, n), self.lower,
                            self.upper, trace)
        first = -(-t0 // self.period) * self.period
        ts = np.arange(first, t_stop, self.period, dtype=np.int64)
        conc = trace[ts - t0]
        if conc.size:
            self.last = float(conc[-1])
        vals = conc if self.fn is None else np.asarray(self.fn(conc), dtype=float).reshape(conc.shape)
        self.tick = t_stop
        return self._keep({"field": Series(ts, vals[:, None], self.period, "fields", self.field),
                           "concentration": Series(ts, conc[:, None], self.period, "fields",
                                                   f"{self.field}.concentration")})

    def state(self):
        return copy.deepcopy({"tick": self.tick, "c": self.c, "held": self._held, "last": self.last})

    def restore(self, state):
        self.tick, self.c, self._held, self.last = state["tick"], state["c"], state["held"], state["last"]

    def describe(self):
        return {**super().describe(), "field": self.field, "source": self.source, "tau_ms": self.tau,
                "baseline": self.baseline, "release": self.release, "bounds": [self.lower, self.upper],
                "period_ms": self.period_ms, "units": self.units}
