"""PyNN Recorder of the neurohybrid backend.

The engine streams spikes and signals into the run's HDF5 store while it runs; this recorder
only says what to record and reads the data back (as PyNN's Neo structures) from the store.
"""
from __future__ import annotations

import numpy as np
from pyNN import recording

from ..errors import ParameterError, RecordingError
from . import simulator


class Recorder(recording.Recorder):
    """Records spikes and state variables of one population into the run store."""
    _simulator = simulator

    def __init__(self, population, file=None):
        super().__init__(population, file)
        self._clear_tick = 0

    def record(self, variables, ids, sampling_interval=None, locations=None):
        if isinstance(variables, str) and variables != "all":
            variables = [variables]
        if variables == "all":
            variables = [v for v in self.population.celltype.recordable]
        if locations is not None:
            return self._record_at(variables, ids, sampling_interval, locations)
        for name in variables:
            if not self.population.can_record(name):
                raise RecordingError(self.population, name,
                                     f"{type(self.population.celltype).__name__} cannot record {name!r}",
                                     ", ".join(self.population.celltype.recordable))
        super().record(variables, ids, sampling_interval, locations)

    def _record_at(self, variables, ids, sampling_interval, locations):
        """Record at named locations of multi-compartment cells: ``locations`` is a label, a
        list of labels, or PyNN's ``centre(<section selector>)``; the signal of variable ``v`` at
        location ``soma`` is named ``soma.v`` (as pyNN.neuron names it)."""
        from pyNN.recording import Variable
        from .multicompartment import is_biophysical, location_label
        if not is_biophysical(self.population.celltype):
            raise RecordingError(self.population, "locations", "point neurons have no locations", "locations=None")
        self._check_sampling_interval(sampling_interval)
        items = locations if isinstance(locations, (list, tuple)) else [locations]
        ids = set(ids)
        for item in items:
            if isinstance(item, str):
                label = item
            elif type(item).__name__ == "centre":
                label = location_label(item.selector if hasattr(item, "selector") else None)
            else:
                raise RecordingError(self.population, "locations", f"{item!r} is not supported",
                                     "a location label, a list of labels, or centre(<section selector>)")
            for name in variables:
                var = Variable(location=label, name=name, label=label)
                self.recorded[var] = self.recorded[var].union(ids)
                self._record(var, ids, sampling_interval)

    def _record(self, variable, new_ids, sampling_interval=None):
        if variable.name != "spikes" and sampling_interval is not None:
            state = self._simulator.state
            state.ms_to_ticks(sampling_interval, self.population, "sampling_interval")
            if sampling_interval <= 0:
                raise ParameterError(self.population, "sampling_interval", "must be > 0",
                                     f"a positive multiple of dt={state.dt} ms")
            self.sampling_interval = sampling_interval
        if self._simulator.state.network is not None:
            self._simulator.state.network.mark_dirty("recording")

    @staticmethod
    def key(variable) -> str:
        """Store name of a recorded variable: ``v``, or ``soma.v`` at a location."""
        return f"{variable.label}.{variable.name}" if variable.location else variable.name

    def recorded_indices(self, name: str) -> np.ndarray:
        """Population-local indices of the cells recorded for variable ``name`` (sorted)."""
        ids = [int(i) for v, cells in self.recorded.items() if self.key(v) == name for i in cells]
        return np.unique(np.asarray(self.population.id_to_index(np.asarray(ids, dtype=int)), dtype=np.int64)
                         if ids else np.empty(0, dtype=np.int64))

    def recorded_variables(self) -> list[str]:
        """Names of the variables with at least one recorded cell."""
        return sorted({self.key(v) for v, cells in self.recorded.items() if cells})

    # --- reading back -----------------------------------------------------------
    def _store(self):
        return self._simulator.state.network.store

    def _get_spiketimes(self, ids, clear=False):
        state = self._simulator.state
        times, index = self._store().read_spikes(self.population.label, segment=state.segment_counter)
        start = self._clear_tick * state.dt
        keep = times >= start - 1e-9 if self._clear_tick else np.ones(times.shape, bool)
        id_array = np.asarray(self.population.first_id, dtype=np.int64) + index[keep].astype(np.int64)
        wanted = np.isin(id_array, np.asarray([int(i) for i in ids], dtype=np.int64))
        return id_array[wanted], np.asarray(times[keep][wanted], dtype=float)

    def _get_all_signals(self, variable, ids, clear=False):
        state = self._simulator.state
        data = self._store().read_signal(self.population.label, self.key(variable), segment=state.segment_counter)
        channels = np.asarray(data["channel_ids"], dtype=np.int64)
        wanted = np.asarray(self.population.id_to_index(np.asarray([int(i) for i in ids], dtype=int)),
                            dtype=np.int64)
        columns = np.searchsorted(channels, wanted)
        samples = np.asarray(data["samples"])[:, columns]
        if self._clear_tick:
            first = int(round((self._clear_tick * state.dt - data["t_start"]) / data["sampling_interval"]))
            samples = samples[first:]
        return samples, None

    def _local_count(self, variable, filter_ids=None):
        ids = sorted(self.filter_recorded(variable, filter_ids))
        id_array, _ = self._get_spiketimes(ids)
        counts = dict.fromkeys((int(i) for i in ids), 0)
        uniq, n = np.unique(id_array, return_counts=True)
        counts.update({int(i): int(c) for i, c in zip(uniq, n)})
        return counts

    def _clear_simulator(self):
        self._clear_tick = self._simulator.state.tick

    def _reset(self):
        self._clear_tick = 0

    def store_to_cache(self, annotations=None):
        super().store_to_cache(annotations)
        self._clear_tick = 0
