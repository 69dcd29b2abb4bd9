"""Monitors, TVB ``tvb.simulator.monitors`` semantics, and the :class:`TimeSeries` they return.

:class:`Raw` and :class:`TemporalAverage` are sampled (and averaged) inside the simulation
kernel (:mod:`~neurohybrid.backends.meanfield.engine`); the Balloon-Windkessel BOLD monitor,
which post-processes a temporal average, is in :mod:`~neurohybrid.backends.meanfield.bold`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Raw:
    """Every ``period`` ms (default: every step), the state of ``variables`` (default the model's
    variables of interest); TVB ``Raw`` / ``SubSample``. Sample k is at time k·period."""
    period: float | None = None
    variables: tuple | None = None
    name: str = "raw"
    mode = 0


@dataclass
class TemporalAverage:
    """Mean of ``variables`` over each window of ``period`` ms (TVB ``TemporalAverage``); stamped at
    the window centre. Windows start at t = 0 of the simulation (TVB aligns them to its absolute
    step counter, which includes the initial history)."""
    period: float = 1.0
    variables: tuple | None = None
    name: str = "tavg"
    mode = 1


@dataclass
class TimeSeries:
    """Recorded data: ``time`` (ms, shape T), ``data`` (T, n_variables, n_regions)."""
    time: np.ndarray
    data: np.ndarray
    variables: tuple
    labels: list = field(default_factory=list)
