"""Nengo networks as controllers: the only module that knows Nengo.

:class:`NengoController` runs a ``nengo.Network`` (plain Nengo or nengo-spa) in Nengo's reference
simulator, stepped once per control period at its own ``dt``, as a host component of the
co-simulation. Its ports are ``nengo.Node`` s the adapter adds to the network:

* an input port ``p`` bound to ``(target, cells, fn)``: a Node whose output, through the whole
  period, is ``fn(rates)`` (``rates``: per-cell Hz of the population read on ``p`` over the
  previous period; default ``fn``: the mean rate), connected to ``target`` without synapse;
  ``cells`` = ``"signal"`` binds the port to a sampled signal instead (a scaffold region's
  state, ``brain.signal(region)``): ``fn`` gets its latest sample, a 1-element array;
* an output port ``p`` bound to ``(source, synapse)`` or ``(source, synapse, function)``: a Node
  receiving ``source``'s decoded value through ``synapse`` (s); the value at the period's last
  Nengo step is the field sample (one dimension).

``dt`` (ms) must divide the period (else a ParameterError naming the controller and ``dt``).
Nengo's simulator has no snapshot: :meth:`NengoController.state` is a typed error.
"""
from __future__ import annotations

import numpy as np

from ..errors import ParameterError, SimulationStateError
from .base import Controller

__all__ = ["NengoController"]


class NengoController(Controller):
    """A Nengo network as a controller (module docstring). ``inputs`` {port: (target, cells) or
    (target, cells, fn)}; ``outputs`` {port: (source, synapse[, function])}; ``units`` {port:
    units} (default "1"); ``dt``: Nengo's step (ms); ``period``: ms between control steps;
    ``seed``: the simulator's seed. :attr:`seen` keeps every input vector given to Nengo."""

    def __init__(self, name: str, network, inputs: dict | None = None, outputs: dict | None = None,
                 units: dict | None = None, dt: float = 1.0, period: float = 10.0, seed: int = 0):
        import nengo
        inputs, outputs = dict(inputs or {}), dict(outputs or {})
        super().__init__(name, {p: spec[1] for p, spec in inputs.items()},
                         {p: (units or {}).get(p, "1") for p in outputs}, period)
        if not isinstance(network, nengo.Network):
            raise ParameterError(name, "network", f"{network!r}", "a nengo.Network")
        if not (isinstance(dt, (int, float)) and dt > 0):
            raise ParameterError(name, "dt", f"{dt!r}", "Nengo's time step > 0 in ms")
        steps = self.period_ms / dt
        if abs(steps - round(steps)) > 1e-9 * max(1.0, steps) or round(steps) < 1:
            raise ParameterError(name, "dt", f"Nengo dt {dt!r} ms does not divide the control period "
                                 f"{self.period_ms!r} ms", "a dt that divides the period (e.g. 1.0 ms)")
        self.network, self.nengo_dt, self.steps, self.seed = network, float(dt), int(round(steps)), int(seed)
        self._fn, self._in, self._out = {}, {}, {}
        with network:
            for port, spec in inputs.items():
                target, cells = spec[0], spec[1]
                self._fn[port] = spec[2] if len(spec) > 2 else (lambda r: np.array([r.mean()]))
                dim = int(target.size_in)
                self._in[port] = np.zeros(dim)
                node = nengo.Node(output=lambda t, p=port: self._in[p], size_out=dim, label=f"{name}.{port}")
                nengo.Connection(node, target, synapse=None)
            for port, spec in outputs.items():
                source, synapse = spec[0], spec[1]
                function = spec[2] if len(spec) > 2 else None
                self._out[port] = 0.0
                node = nengo.Node(output=lambda t, x, p=port: self._capture(p, x), size_in=1, label=f"{name}.{port}")
                kw = {"function": function} if function is not None else {}
                nengo.Connection(source, node, synapse=synapse, **kw)
        self.sim = None
        self.seen: list = []

    def _capture(self, port, x):
        self._out[port] = float(x[0])

    def bind(self, dt):
        super().bind(dt)

    def initial_state(self):
        import nengo
        if getattr(self, "sim", None) is not None:
            self.sim.close()
        self.sim = nengo.Simulator(self.network, dt=self.nengo_dt * 1e-3, seed=self.seed, progress_bar=False)
        self.seen = []

    def control(self, t_ms, rates):
        for port, fn in self._fn.items():
            v = np.atleast_1d(np.asarray(fn(rates[port]), dtype=float))
            if v.shape != self._in[port].shape:
                raise ParameterError(self.name, port, f"input of shape {v.shape}",
                                     f"shape {self._in[port].shape} (the target's size_in)")
            self._in[port][:] = v
        self.seen.append({p: v.copy() for p, v in self._in.items()})
        self.sim.run_steps(self.steps)
        return dict(self._out)

    def state(self):
        raise SimulationStateError(self.name, "state", "Nengo's reference simulator has no snapshot",
                                   "a model without a Nengo controller, or native controllers")

    def restore(self, state):
        self.state()

    def describe(self):
        return {**super().describe(), "nengo_dt_ms": self.nengo_dt, "steps_per_period": self.steps,
                "seed": self.seed, "n_neurons": int(sum(e.n_neurons for e in self.network.all_ensembles))}
