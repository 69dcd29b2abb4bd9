"""Current sources (DCSource, ACSource, StepCurrentSource, NoisyCurrentSource).

A current source is plain data here: its parameters (PyNN units: nA, ms, Hz, degrees) and the
cells it is injected into. The engine turns it into a per-tick waveform.
StepCurrentSource times are mapped to the dt grid when set (nearest grid point; where two
times fall on one grid point the later amplitude wins), as PyNN specifies for every backend.
"""
from __future__ import annotations

import numpy as np
from pyNN.common import Assembly, BasePopulation
from pyNN.parameters import ParameterSpace, Sequence

from ..errors import ParameterError
from .simulator import state


def _plain(value):
    """A float, or a float array for sequence parameters."""
    if isinstance(value, np.ndarray) and value.dtype == object and value.size == 1:
        value = value.flat[0]
    if isinstance(value, Sequence):
        value = value.value
    if hasattr(value, "evaluate"):
        value = value.evaluate(simplify=True)
        return _plain(value)
    arr = np.asarray(value, dtype=float)
    return arr.ravel() if arr.ndim else float(arr)


class CurrentSourceMixin:
    """Backend part of every standard current source: parameters, targets, recording."""

    def __init__(self, **parameters):
        object.__setattr__(self, "_params", {k: _plain(v) for k, v in self.default_parameters.items()})
        object.__setattr__(self, "_targets", [])  # list of ID
        object.__setattr__(self, "_target_locations", [])  # location label (or None) of each target
        object.__setattr__(self, "_recording", False)
        object.__setattr__(self, "index", len(state.current_sources))
        self._update(parameters)
        state.current_sources.append(self)

    def __repr__(self):
        return f"{type(self).__name__}#{self.index}"

    def _update(self, parameters: dict) -> None:
        new = dict(self._params)
        for name, value in parameters.items():
            if name not in self.default_parameters:
                from ..errors import UnknownParameterError
                raise UnknownParameterError(self, name, list(self.default_parameters))
            new[name] = _plain(value)
        for name, value in new.items():
            if not np.all(np.isfinite(value)) and name != "stop":
                raise ParameterError(self, name, f"{value!r} is not finite", "finite numbers")
        if "times" in new:
            new["times"], new["amplitudes"] = self._grid_steps(np.atleast_1d(new["times"]),
                                                               np.atleast_1d(new["amplitudes"]))
        if new.get("stdev", 0.0) < 0:
            raise ParameterError(self, "stdev", f"{new['stdev']} nA is negative", "stdev >= 0 nA")
        object.__setattr__(self, "_params", new)

    def _grid_steps(self, times, amplitudes):
        if times.size != amplitudes.size:
            raise ParameterError(self, "amplitudes", f"{amplitudes.size} amplitudes for {times.size} times",
                                 "one amplitude per time")
        if np.any(times < 0):
            raise ParameterError(self, "times", "contains negative times", "times >= 0 ms")
        if np.any(np.diff(times) <= 0):
            raise ParameterError(self, "times", "are not strictly increasing", "strictly increasing times in ms")
        ticks = np.rint(times / state.dt).astype(np.int64)
        last = np.append(ticks[1:] != ticks[:-1], True)  # keep the last time of each grid point
        return ticks[last] * state.dt, amplitudes[last]

    def inject_into(self, cells, location=None):
        """Inject this current into ``cells`` (Population, PopulationView, Assembly or list of IDs);
        for multi-compartment cells at ``location`` (a location label, default the soma)."""
        from .multicompartment import is_biophysical
        cells = list(cells.all_cells) if isinstance(cells, (BasePopulation, Assembly)) else list(cells)
        for cell in cells:
            if not cell.celltype.injectable:
                raise TypeError(f"{self}: cannot inject current into {cell.celltype.__class__.__name__} "
                                f"cell {int(cell)} (spike sources are not injectable)")
            if location is not None and not is_biophysical(cell.celltype):
                from ..errors import ParameterError
                raise ParameterError(self, "location", f"{location!r}: point neurons have no locations", "None")
        if location is not None and not isinstance(location, str):
            from ..errors import ParameterError
            raise ParameterError(self, "location", f"{location!r}", "a location label such as 'soma'")
        self._targets.extend(cells)
        self._target_locations.extend([location] * len(cells))
        state.network.mark_dirty("currents")

    def set_native_parameters(self, parameters):
        self._update({name: value for name, value in parameters.items()})
        if state.network is not None:
            state.network.mark_dirty("currents")

    def get_native_parameters(self):
        return ParameterSpace({k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self._params.items()})

    def native_values(self) -> dict:
        """Parameter values as plain floats / float arrays (PyNN units)."""
        return dict(self._params)

    def record(self):
        """Record the injected current (available through ``get_data()``)."""
        object.__setattr__(self, "_recording", True)

    def _get_data(self):
        n = state.tick
        values = state.network.current_waveform(self, 0, n + 1)
        return np.arange(n + 1) * state.dt, values
