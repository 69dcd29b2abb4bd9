"""The one recorder: everything a run records reaches the run store through it.

Engines report to it as their sink (``spikes(node, ticks, ids)``: emission ticks,
``samples(node, variable, values)``: one row per sample); the co-simulation reports
its own signals to it (the scaffold's monitors, the seams' rates, the pacing timing:
:meth:`Recorder.signal`). It keeps them in memory and writes them in batches: when
:meth:`Recorder.flush` is called (by the co-simulation after a batch of macro-steps, from the
kernel's thread, or by an engine running alone), or when more than :data:`MAX_PENDING` values
of an engine wait. It declares what it
writes (populations, signals with units) once per segment. Spikes that only cross to another
engine are not stored; of a population whose every cell crosses, only the cells the user
records are.
"""
from __future__ import annotations

import numpy as np

from ..graph import ModelGraph

__all__ = ["Recorder", "MAX_PENDING", "UNITS"]

MAX_PENDING = 2_000_000  # values buffered before a write, whoever reports them

#: units of the recordable variables of point neurons (the rest are dimensionless)
UNITS = {"v": "mV", "gsyn_exc": "uS", "gsyn_inh": "uS", "w": "nA", "u": "mV/ms"}


class Recorder:
    """Writes a runtime's results to its run store (see the module docstring).

    ``runtime``: supplies ``store``, ``segment``, ``dt`` (ms), ``exported`` (populations whose
    spikes are reported only to cross engines) and ``store_subset`` (population -> the cells
    whose spikes are stored).
    """

    def __init__(self, runtime):
        self.runtime = runtime
        self._spikes: dict[str, list] = {}
        self._samples: dict[tuple, list] = {}
        self._signals: dict[tuple, list] = {}
        self._declared: set = set()
        self._masks: dict[str, tuple] = {}  # node -> (store subset, bool mask of its cells)
        self.pending = 0  # values buffered

    # --- engines (the sink interface) -----------------------------------------------------------
    def spikes(self, node: str, ticks: np.ndarray, ids: np.ndarray) -> None:
        """Spikes of ``node``: emission ticks and cell ids."""
        rt = self.runtime
        if node in rt.exported:
            return  # reported only so that they cross to another engine; the user did not record them
        subset = rt.store_subset.get(node)
        if subset is not None:  # all cells cross, the user records some
            keep = self._kept(node, subset, ids)
            ticks, ids = ticks[keep], ids[keep]
            if not ids.size:
                return
        self._spikes.setdefault(node, []).append((ticks, ids))
        self._count(ticks.size)

    def _kept(self, node: str, subset: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Which of ``ids`` are in ``subset`` (a lookup in a per-cell mask: np.isin sorts both
        every call, and this runs for every window of a population that crosses engines)."""
        cached = self._masks.get(node)
        if cached is None or cached[0] is not subset:
            mask = np.zeros(int(subset.max()) + 1 if subset.size else 0, dtype=bool)
            mask[subset] = True
            cached = self._masks[node] = (subset, mask)
        mask = cached[1]
        inside = ids < mask.size
        return mask[np.where(inside, ids, 0)] & inside if mask.size else np.zeros(ids.shape, dtype=bool)

    def samples(self, node: str, variable: str, values: np.ndarray) -> None:
        """Rows of samples of a recorded variable of ``node`` (declared from the graph)."""
        self._samples.setdefault((node, variable), []).append(values)
        self._count(values.size)

    # --- the co-simulation's own signals --------------------------------------------------------
    def signal(self, label: str, variable: str, values: np.ndarray, *, units: str, interval_ms: float,
               t_start_ms: float) -> None:
        """Rows of a signal the co-simulation produces (one column per channel), declared at
        its first rows with ``units``, sampling interval and first sample time (ms)."""
        # buffered only: this may run in a component's worker thread; the store is written by
        # flush(), from the kernel's thread
        entry = self._signals.setdefault((label, variable), (units, interval_ms, t_start_ms, []))
        entry[3].append(values)
        self.pending += values.size

    def declare(self, graph: ModelGraph) -> None:
        """Declare what ``graph``'s recordings will write in the current segment (once)."""
        rt = self.runtime
        store, seg = rt.store, rt.segment
        for rec in graph.recordings:
            if rec.node in rt.exported and rec.variable == "spikes":
                continue
            key = (seg, rec.node, rec.variable)
            if key in self._declared:
                continue
            if rec.variable == "spikes":
                if (seg, rec.node) not in self._declared:
                    store.add_population(rec.node, graph.nodes[rec.node].size, segment=seg)
                    self._declared.add((seg, rec.node))
            else:
                units = rec.units or UNITS.get(rec.variable.rsplit(".", 1)[-1], "dimensionless")  # "soma.v": mV
                store.add_signal(rec.node, rec.variable, units, rec.sampling_interval, 0.0,
                                 np.asarray(rec.index, dtype=np.int64), segment=seg)
            self._declared.add(key)

    # --- writing --------------------------------------------------------------------------------
    def _count(self, n: int) -> None:
        self.pending += n
        if self.pending > MAX_PENDING:
            self.flush()

    def flush(self, sync: bool = True) -> None:
        """Write everything buffered; ``sync``: flush the HDF5 file too (else datasets only)."""
        rt = self.runtime
        store, seg, dt = rt.store, rt.segment, rt.dt
        for node, parts in self._spikes.items():
            ticks = np.concatenate([p[0] for p in parts])
            ids = np.concatenate([p[1] for p in parts])
            order = np.argsort(ticks, kind="stable")
            # the one spike-time convention: a spike emitted in tick k is recorded at (k + 1) dt,
            # the end of its step (PyNN's and NEST's)
            store.append_spikes(node, (ticks[order] + 1) * dt, ids[order].astype(np.uint64), segment=seg)
        for (node, variable), parts in self._samples.items():
            store.append_signal(node, variable, np.concatenate(parts, axis=0), segment=seg)
        for (label, variable), (units, interval, t_start, parts) in self._signals.items():
            values = np.concatenate(parts, axis=0)
            if (seg, label, variable) not in self._declared:
                store.add_signal(label, variable, units, interval, t_start,
                                 np.arange(values.shape[1], dtype=np.int64), segment=seg)
                self._declared.add((seg, label, variable))
            store.append_signal(label, variable, values, segment=seg)
        self._spikes, self._samples, self._signals, self.pending = {}, {}, {}, 0
        store.flush(sync=sync)
