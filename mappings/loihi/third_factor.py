"""The third factor of the Loihi path's dopamine rules, computed on the host for both Loihi engines.

A ``DopamineSTDPSynapse`` mapped by :mod:`.learning` reads the dopamine concentration ``n``
(1/ms, NEST's ``volume_transmitter``) as the post neurons' ``y3`` trace, which each neuron takes
from its third-factor input every step (``y3`` decay 4096). :class:`DopamineHost` computes ``n``
per step from the graph's volume transmitters, exactly as the float emulator's events define it,
and quantises it (``y3 = clip(rint(n * scale), -128, 127)``, ``scale`` from the population's
``third_factor["source"]``):

- **spikes** onto the transmitter (from host spike sources or from populations of the circuit):
  a spike emitted in tick ``e`` through a projection of ``d`` steps arrives at step ``e + d``
  (NEST's stamp ``e + 1 + d``) and adds ``1/tau_n`` after that step's decay ``exp(-dt/tau_n)``;
  spikes of the circuit's own populations are known after the step they are emitted in, so the
  engines run at most :attr:`DopamineHost.max_chunk` steps at a time;
- a **field** (``set_field``): ``n`` is the field's value from the step it is set on.

Values beyond the trace's range are clipped; the steps where that happened are counted
(``saturated``) and the report says where ``n`` saturates (``learning.DOPAMINE_HEADROOM``).
"""
from __future__ import annotations

import math

import numpy as np

from neurohybrid.errors import UnsupportedModelError

__all__ = ["DopamineHost"]


class DopamineHost:
    """Per-step third factors of a circuit's 3-factor populations (module docstring).

    ``circuit``: the :class:`~.circuit.LoihiCircuit`; ``graph``: its model graph (the
    transmitters and the edges onto them); ``offsets``: where each population and input starts
    in the engine's index spaces (``runtime.circuit_layout``)."""

    def __init__(self, circuit, graph, dt: float):
        self.dt = float(dt)
        self.targets = []  # (population, transmitter, scale per 1/ms, tau_n)
        for name, pop in circuit.populations.items():
            src = (pop.third_factor or {}).get("source")
            if src:
                self.targets.append((name, src["modulator"], float(src["scale_per_ms"]), float(src["tau_n_ms"])))
        self.transmitters = sorted({t[1] for t in self.targets})
        self.inputs = {}  # transmitter -> [(pre node, pre ids (sorted), delay steps per id)]
        for vt in self.transmitters:
            parts = []
            for e in graph.edges if graph is not None else ():
                if e.post != vt or not e.pre_index.size:
                    continue
                d = np.rint((np.broadcast_to(np.asarray(e.values["delay"], float), e.pre_index.shape) + e.transit)
                            / self.dt).astype(np.int64)
                parts.append((e.pre, np.asarray(e.pre_index, np.int64), d))
            self.inputs[vt] = parts
        chip = {name for name in circuit.populations}
        delays = [int(d.min()) for vt in self.transmitters for pre, _, d in self.inputs[vt] if pre in chip]
        #: most steps an engine may run at once (spikes of chip neurons reach n no earlier)
        self.max_chunk = max(1, min(delays)) if delays else None
        self.reset()

    @property
    def active(self) -> bool:
        return bool(self.targets)

    def reset(self) -> None:
        """Back to t = 0: no dopamine, no pending arrivals, no field."""
        self.n = {(vt, tau): 0.0 for _, vt, _, tau in self.targets}
        self.pending = {vt: {} for vt in self.transmitters}  # arrival step -> spike count
        self.field = {}  # transmitter -> (first step, value)
        self.saturated = 0

    def set_field(self, transmitter: str, tick: int, value: float) -> None:
        """The dopamine concentration of ``transmitter`` is ``value`` (1/ms) from step ``tick`` on."""
        if transmitter not in self.pending:
            raise UnsupportedModelError(transmitter, "modulates", "no dopamine rule on this engine reads it",
                                        "a VolumeTransmitter gating projections of this engine")
        self.field[transmitter] = (int(tick), float(value))

    def spikes(self, node: str, ticks, ids) -> None:
        """Spikes of ``node`` (emission ticks, cell ids): those onto a transmitter become arrivals."""
        ticks, ids = np.asarray(ticks, np.int64), np.asarray(ids, np.int64)
        if not ticks.size:
            return
        for vt, parts in self.inputs.items():
            for pre, index, d in parts:
                if pre != node:
                    continue
                for k in range(index.size):  # connections onto the transmitter: few
                    hit = ids == index[k]
                    if hit.any():
                        arrivals, counts = np.unique(ticks[hit] + d[k], return_counts=True)
                        for a, c in zip(arrivals.tolist(), counts.tolist()):
                            self.pending[vt][a] = self.pending[vt].get(a, 0) + c

    def chunk(self, t0: int, n: int, sizes: dict) -> dict:
        """Third factor per population for steps ``t0 .. t0 + n - 1``: {population: int64 [n, size]}."""
        series = {}
        for (vt, tau), x in self.n.items():
            decay = math.exp(-self.dt / tau)
            values = np.zeros(n)
            f = self.field.get(vt)
            pending = self.pending[vt]
            for s in range(n):
                k = t0 + s
                if f is not None and k >= f[0]:
                    x = f[1]
                else:
                    x = x * decay + pending.get(k, 0) / tau
                values[s] = x
            series[(vt, tau)] = values
            self.n[(vt, tau)] = x
        for vt in self.transmitters:
            for a in [a for a in self.pending[vt] if a < t0 + n]:
                del self.pending[vt][a]
        out = {}
        for name, vt, scale, tau in self.targets:
            q = np.rint(series[(vt, tau)] * scale)
            self.saturated += int(np.count_nonzero((q > 127) | (q < -128)))
            out[name] = np.broadcast_to(np.clip(q, -128, 127).astype(np.int64)[:, None], (n, sizes[name]))
        return out

    def state(self) -> dict:
        """Flat snapshot entries: the concentrations, pending arrivals, fields, saturation count."""
        out = {"saturated": int(self.saturated)}
        for (vt, tau), x in self.n.items():
            out[f"n/{vt}/{tau!r}"] = np.array([x])
        for vt in self.transmitters:
            items = sorted(self.pending[vt].items())
            out[f"pending/{vt}/steps"] = np.array([a for a, _ in items], np.int64)
            out[f"pending/{vt}/counts"] = np.array([c for _, c in items], np.int64)
            f = self.field.get(vt)
            out[f"field/{vt}"] = np.array([-1.0, 0.0] if f is None else [float(f[0]), f[1]])
        return out

    def restore(self, state: dict) -> None:
        self.saturated = int(state["saturated"])
        for key in self.n:
            self.n[key] = float(np.asarray(state[f"n/{key[0]}/{key[1]!r}"])[0])
        for vt in self.transmitters:
            steps, counts = (np.asarray(state[f"pending/{vt}/{k}"], np.int64) for k in ("steps", "counts"))
            self.pending[vt] = dict(zip(steps.tolist(), counts.tolist()))
            f = np.asarray(state[f"field/{vt}"], float)
            self.field.pop(vt, None)
            if f[0] >= 0:
                self.field[vt] = (int(f[0]), float(f[1]))

    #: keys of :meth:`state` whose length varies
    VARIABLE = ("steps", "counts")
