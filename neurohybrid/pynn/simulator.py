"""Simulator state of the neurohybrid PyNN backend.

PyNN keeps the semantics in ``pyNN.common``; this module holds only what a backend must: the
``ID`` type and a ``State`` object that owns time, the network objects created since
``setup()``, the engine that runs them and the HDF5 run store that records them.
Time is kept as an integer tick count of the global resolution ``dt`` (DESIGN.md: no float
time comparisons); ``state.t`` (ms) is derived from it.
"""
from __future__ import annotations

import math

from pyNN import common

from ..errors import ParameterError, PastTimeError, SimulationStateError

name = "neurohybrid"


class ID(int, common.IDMixin):
    """A cell identifier: a global integer id that knows its parent population."""

    def __init__(self, n):
        int.__init__(n)
        common.IDMixin.__init__(self)


class State(common.control.BaseState):
    """Global simulator state: time in ticks, network objects, engine and run store."""

    def __init__(self):
        super().__init__()
        self.mpi_rank = 0
        self.num_processes = 1
        self.dt = 0.1
        self.min_delay = 0.1
        self.max_delay = 10.0
        self.ended = True  # nothing is usable before setup()
        self.clear()

    # --- time -----------------------------------------------------------------
    @property
    def t(self) -> float:
        """Current simulation time in ms."""
        return self.tick * self.dt

    def ms_to_ticks(self, value_ms: float, what: object = "time", parameter: str = "t") -> int:
        """Convert a time in ms to whole ticks; ParameterError if it is not on the dt grid."""
        ticks = value_ms / self.dt
        rounded = round(ticks)
        if not math.isfinite(ticks) or abs(ticks - rounded) > 1e-6 * max(1.0, abs(ticks)):
            raise ParameterError(what, parameter, f"{value_ms!r} ms is not a multiple of dt={self.dt} ms",
                                 f"multiples of {self.dt} ms")
        return int(rounded)

    # --- lifecycle --------------------------------------------------------------
    def clear(self):
        """Forget every network object (called by setup())."""
        if getattr(self, "network", None) is not None:
            self.network.close(keep_readable=False)
        self.recorders = set()
        self.populations = []
        self.projections = []
        self.current_sources = []
        self.id_counter = 0
        self.segment_counter = -1
        self.write_on_end = []
        self.network = None  # neurohybrid.pynn.session.SessionRuntime, created by setup()
        self.wholebrain = None  # neurohybrid.pynn.wholebrain.WholeBrain of the session, if any
        self.field_links = []  # neurohybrid.pynn.fields.FieldLink: biophysical proxies -> point neurons
        self.live_links = []  # neurohybrid.pynn.live.LiveLink: closed-loop I/O
        self.fields = []  # neurohybrid.pynn.fields.Field: fields with dynamics, nuclei, controller outputs, gates
        self.controllers = []  # neurohybrid.pynn.controllers.Controller: host-module controllers
        self.realtime = None  # pacing of the session (neurohybrid.pynn.live.realtime)
        self.reset()

    def reset(self):
        """Back to t = 0 with initial state; a new recording segment begins."""
        self.running = False
        self.tick = 0
        self.t_start = 0
        self.segment_counter += 1
        if getattr(self, "network", None) is not None:
            self.network.reset(self.segment_counter)

    def _check_usable(self, action: str):
        if self.ended:
            raise SimulationStateError("simulator", None, f"cannot {action} after end() or before setup()",
                                       "call sim.setup() first")

    def run(self, simtime: float):
        """Advance by ``simtime`` ms."""
        self.run_until(self.t + simtime)

    def run_until(self, tstop: float):
        """Advance until ``tstop`` ms (rounded to the dt grid)."""
        self._check_usable("run")
        if not math.isfinite(tstop):
            raise ParameterError("run_until", "tstop", f"{tstop!r} is not a finite time", "a finite time in ms")
        target = int(round(tstop / self.dt))
        if target < self.tick:
            raise PastTimeError("run_until", "tstop",
                                       f"{tstop} ms is in the past (current time {self.t} ms)",
                                       f"a time >= {self.t} ms")
        self.running = True
        self.network.run_until(target)
        self.tick = target


state = State()
