"""HDF5 run store: spikes, analog signals and a run manifest streamed to disk during a run.

Layout (segment 0 is plain SONATA at the root, so any SONATA spike reader opens it)::

    /                                   attrs: manifest (JSON str), neurohybrid_store (format version)
    /spikes/<pop>                       attrs: sorting (HDF5 enum none=0/by_id=1/by_time=2) = by_time,
                                               size (number of nodes of the population)
    /spikes/<pop>/timestamps            float64 [n_spikes], attr units = "ms"
    /spikes/<pop>/node_ids              uint64  [n_spikes], 0-based population-local indices
    /signals/<pop>/<variable>/data      float64 [n_samples, n_channels], attrs: units (e.g. "mV"),
                                               sampling_interval (ms), t_start (ms), time_units = "ms"
    /signals/<pop>/<variable>/channel_ids  uint64 [n_channels], population-local indices
    /segments/<k>/spikes/...            the same for segment k > 0 (PyNN's reset() starts one)
    /segments/<k>/signals/...

``<pop>`` and ``<variable>`` are the labels with ``%``, ``/`` and NUL percent-escaped (and a
label that is exactly ``.`` written ``%2E``), so every label maps to one legal HDF5 name and back.

Durability. Appends are buffered in memory and written in whole chunks; :meth:`RunStore.flush`
writes what is buffered and flushes HDF5, after which everything appended so far is in the file
as the OS sees it. Guaranteed (and tested with SIGKILL and ``os._exit``): a process killed after
a flush returned, while it is not writing, leaves a file that plain h5py and SONATA tools open,
holding exactly what was flushed. A kill while an append or flush is under way leaves, in every
trial we made (about 200 random kills while streaming, including 16-element chunks that split the
chunk index on nearly every flush), a readable file with at least everything flushed before, but
HDF5 gives no formal promise there: its metadata cache normally keeps dirty metadata in memory
until the flush and writes raw chunks before the metadata that points at them, which is why it
works. Readers return the common prefix of ``timestamps``/``node_ids`` should a kill land between
the two writes. Flushes do not fsync: a power loss can lose what the OS had not yet written back.

Why not SWMR: a killed SWMR writer leaves the superblock marked "open for writing", so every
non-SWMR reader (and most SONATA tools) refuses the file until ``h5clear`` is run, and SWMR
forbids new datasets and attributes once started (new segments, manifest updates). The file is
written with HDF5's default (earliest) format versions, whose superblock has no such flag.
:func:`open_run` still falls back to a SWMR read, and to an unlocked read of a run that is still
being written (which then sees its last flush, best effort).

Not thread-safe: one writer thread per store.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import h5py
import numpy as np

from neurohybrid.errors import ParameterError, RecordingError

__all__ = [
    "RunStore", "open_run", "read_spikes", "read_signal", "read_manifest", "segments", "populations",
    "encode_name", "decode_name", "SORTING_DTYPE", "FORMAT_VERSION",
]

#: Version of this layout, stored as root attribute ``neurohybrid_store``.
FORMAT_VERSION = 1

#: SONATA's ``sorting`` attribute type (libsonata reads it as this enum).
SORTING_DTYPE = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype="u1")

_ACCEPTED_PATH = "a file path in an existing, writable directory (the file is created or truncated)"
_ACCEPTED_MODES = "'w' (create or truncate, write) or 'r' (read-only)"


def encode_name(label: str) -> str:
    """Turn a population label or variable name into one legal HDF5 link name (reversible)."""
    if label == ".":
        return "%2E"
    return label.replace("%", "%25").replace("/", "%2F").replace("\x00", "%00")


def decode_name(name: str) -> str:
    """Inverse of :func:`encode_name`."""
    # Every '%' in an encoded name starts one of our escapes, so generic unquoting is exact.
    return unquote(name)


def _json_default(obj: Any) -> Any:
    # Manifests are built from numpy-heavy code; numpy scalars and arrays are common and harmless.
    if isinstance(obj, (np.generic, np.ndarray)):
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _segment_root(segment: int) -> str:
    return "/" if segment == 0 else f"/segments/{segment}/"


def _append_rows(ds: h5py.Dataset, block: np.ndarray) -> None:
    """Grow ``ds`` along axis 0 and write ``block`` (same dtype, C-contiguous) at the end.

    Low-level h5py calls: the high-level ``resize`` + slice assignment costs twice as much per
    call, which matters when a run flushes many small batches."""
    dsid = ds.id
    shape = dsid.shape
    start = shape[0]
    dsid.set_extent((start + block.shape[0],) + shape[1:])
    if block.size == 0:
        return
    fspace = dsid.get_space()
    fspace.select_hyperslab((start,) + (0,) * (block.ndim - 1), block.shape)
    dsid.write(h5py.h5s.create_simple(block.shape), fspace, np.ascontiguousarray(block))


class _SpikeSink:
    """Write side of one population's spikes: the two datasets plus the not-yet-written batch."""

    __slots__ = ("times", "ids", "size", "last_time", "pending", "n_pending")

    def __init__(self, times: h5py.Dataset, ids: h5py.Dataset, size: int):
        self.times, self.ids, self.size = times, ids, size
        self.last_time = -np.inf
        self.pending: list[tuple[np.ndarray, np.ndarray]] = []
        self.n_pending = 0

    def write(self) -> None:
        if not self.pending:
            return
        if len(self.pending) == 1:
            t, n = self.pending[0]
        else:
            t = np.concatenate([p[0] for p in self.pending])
            n = np.concatenate([p[1] for p in self.pending])
        self.pending, self.n_pending = [], 0
        # Timestamps first: if a kill lands between the two, the readers keep the common prefix.
        _append_rows(self.times, t)
        _append_rows(self.ids, n)


class _SignalSink:
    """Write side of one recorded variable of one population."""

    __slots__ = ("data", "n_channels", "pending", "n_pending", "rows_per_write")

    def __init__(self, data: h5py.Dataset, n_channels: int, rows_per_write: int):
        self.data, self.n_channels, self.rows_per_write = data, n_channels, rows_per_write
        self.pending: list[np.ndarray] = []
        self.n_pending = 0

    def write(self) -> None:
        if not self.pending:
            return
        block = self.pending[0] if len(self.pending) == 1 else np.concatenate(self.pending, axis=0)
        self.pending, self.n_pending = [], 0
        _append_rows(self.data, block)


class RunStore:
    """HDF5 store of one run: spikes (SONATA layout), sampled signals and a JSON manifest.

    Parameters
    ----------
    path:
        File to create or truncate (``mode="w"``) or to read (``mode="r"``).
    manifest:
        JSON-serialisable dict describing the run (model hash, seeds, versions, ``dt`` in ms, ...);
        numpy scalars and arrays are accepted and stored as lists. Ignored in ``mode="r"``.
    mode:
        ``"w"`` or ``"r"``; :func:`open_run` is the usual way to read.

    Times are in ms, signal values in the units given to :meth:`add_signal`. Node and channel
    ids are 0-based population-local indices. See the module docstring for the layout and for
    what survives a killed process.
    """

    #: Spikes per chunk of ``timestamps``/``node_ids`` (128 KiB of float64): large enough that
    #: 1e6-spike batches are a few dozen whole-chunk writes, small enough that a silent population
    #: costs little disk (HDF5 allocates whole chunks).
    spike_chunk = 16384
    #: Target bytes per chunk of a signal dataset.
    signal_chunk_bytes = 1 << 18
    #: Buffered signal bytes above which an append writes to HDF5 before the next flush.
    signal_pending_bytes = 1 << 23

    def __init__(self, path: str | os.PathLike, manifest: dict | None = None, mode: str = "w"):
        if mode not in ("w", "r"):
            raise ParameterError("RunStore", "mode", f"{mode!r} is not a store mode", _ACCEPTED_MODES)
        try:
            self._path = Path(os.fspath(path))
        except TypeError:
            raise RecordingError("RunStore", "path", f"{path!r} is not a file path", _ACCEPTED_PATH) from None
        self._mode = mode
        self._spikes: dict[tuple[int, str], _SpikeSink] = {}
        self._signals: dict[tuple[int, str, str], _SignalSink] = {}
        self._file: h5py.File | None = None
        if mode == "r":
            self._file = _open_for_reading(self._path)
            self._manifest = None
            return
        if manifest is None:
            manifest = {}
        if not isinstance(manifest, dict):
            raise ParameterError("RunStore", "manifest", f"got {type(manifest).__name__}",
                                 "a JSON-serialisable dict")
        self._manifest = dict(manifest)
        text = self._manifest_json(self._manifest)  # before touching the file: a bad manifest truncates nothing
        self._file = _create(self._path)
        try:
            self._file.attrs["manifest"] = text
            self._file.attrs["neurohybrid_store"] = FORMAT_VERSION
            self._file.flush()
        except BaseException:
            self._file.close()
            raise

    # ------------------------------------------------------------------ housekeeping
    def __repr__(self) -> str:
        state = "closed" if self._file is None else self._mode
        return f"RunStore('{self._path}', {state})"

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: h5py may already be gone
            pass

    @property
    def path(self) -> Path:
        """The file this store writes or reads."""
        return self._path

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._file is None

    def _require_open(self) -> h5py.File:
        if self._file is None:
            raise RecordingError(self, None, "the store is closed", "calls before close()")
        return self._file

    def _require_writable(self) -> h5py.File:
        f = self._require_open()
        if self._mode != "w":
            raise RecordingError(self, None, "the store was opened read-only",
                                 "writing through a store created with mode='w'")
        return f

    def _manifest_json(self, manifest: dict) -> str:
        try:
            return json.dumps(manifest, sort_keys=True, default=_json_default, allow_nan=True)
        except (TypeError, ValueError) as exc:
            raise ParameterError(self if self._file is not None else "RunStore", "manifest", str(exc),
                                 "a dict of JSON-serialisable values (numbers, strings, lists, dicts, "
                                 "numpy scalars/arrays)") from None

    def flush(self, sync: bool = True) -> None:
        """Write everything appended so far and flush HDF5: a later kill keeps all of it.
        ``sync=False`` writes the datasets but skips the file flush (cheaper, for the slack of
        real-time windows; what a kill keeps is then up to HDF5's cache)."""
        f = self._require_open()
        if self._mode != "w":
            return
        self._write_pending()
        if sync:
            f.flush()

    def close(self) -> None:
        """Flush and close the file. Calling it again does nothing."""
        f = self._file
        if f is None:
            return
        try:
            if self._mode == "w" and f.id.valid:
                self._write_pending()
                f.flush()
        finally:
            self._file = None
            self._spikes.clear()
            self._signals.clear()
            f.close()

    def _write_pending(self) -> None:
        for sink in self._spikes.values():
            sink.write()
        for sig in self._signals.values():
            sig.write()

    # ------------------------------------------------------------------ manifest
    @property
    def manifest(self) -> dict:
        """The run manifest (a copy; use :meth:`update_manifest` to change it)."""
        f = self._require_open()
        if self._manifest is None:
            raw = f.attrs.get("manifest", "{}")
            if isinstance(raw, bytes):
                raw = raw.decode("utf-8")
            try:
                self._manifest = json.loads(str(raw))
            except json.JSONDecodeError as exc:
                raise RecordingError(self, "manifest", f"attribute '/manifest' is not JSON ({exc})",
                                     "a JSON object string") from None
        return json.loads(json.dumps(self._manifest, default=_json_default))

    def update_manifest(self, **items: Any) -> None:
        """Add or replace manifest entries (JSON-serialisable values) and write them at once."""
        f = self._require_writable()
        updated = {**self._manifest, **items}
        text = self._manifest_json(updated)
        self._manifest = updated
        f.attrs["manifest"] = text

    # ------------------------------------------------------------------ checks
    def _check_segment(self, segment: Any) -> int:
        if isinstance(segment, (bool, np.bool_)) or not isinstance(segment, (int, np.integer)) or segment < 0:
            raise ParameterError(self, "segment", f"{segment!r} is not a segment index",
                                 "an integer >= 0 (0 is the first segment)")
        return int(segment)

    def _check_label(self, label: Any, what: str = "label") -> str:
        if not isinstance(label, str) or not label:
            raise ParameterError(self, what, f"{label!r} is not a usable name", "a non-empty str")
        return label

    # ------------------------------------------------------------------ spikes: write
    def add_population(self, label: str, size: int, segment: int = 0) -> None:
        """Declare a population whose spikes are recorded in ``segment``.

        ``size`` is the number of neurons; node ids given to :meth:`append_spikes` must lie in
        ``[0, size)``.
        """
        f = self._require_writable()
        label = self._check_label(label)
        segment = self._check_segment(segment)
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)) or size < 0:
            raise ParameterError(self, "size", f"{size!r} is not a population size", "an integer >= 0")
        if (segment, label) in self._spikes:
            raise RecordingError(self, "label", f"population {label!r} already added to segment {segment}",
                                 "each label once per segment")
        group = f.require_group(_segment_root(segment) + "spikes").create_group(encode_name(label))
        group.attrs.create("sorting", 2, dtype=SORTING_DTYPE)
        group.attrs["size"] = np.uint64(size)
        chunk = (self.spike_chunk,)
        times = group.create_dataset("timestamps", shape=(0,), maxshape=(None,), dtype="f8", chunks=chunk)
        times.attrs["units"] = "ms"
        ids = group.create_dataset("node_ids", shape=(0,), maxshape=(None,), dtype="u8", chunks=chunk)
        self._spikes[(segment, label)] = _SpikeSink(times, ids, int(size))

    def _spike_sink(self, label: str, segment: int) -> _SpikeSink:
        segment = self._check_segment(segment)
        try:
            return self._spikes[(segment, label)]
        except (KeyError, TypeError):
            known = sorted(lbl for seg, lbl in self._spikes if seg == segment)
            raise RecordingError(self, "label", f"no population {label!r} added to segment {segment}",
                                 ", ".join(map(repr, known)) or "none added yet; call add_population() first"
                                 ) from None

    def append_spikes(self, label: str, times_ms: np.ndarray, node_ids: np.ndarray, segment: int = 0) -> None:
        """Append one batch of spikes of population ``label``.

        ``times_ms`` (ms) must be sorted within the batch and not earlier than the previous batch's
        last spike; ``node_ids`` are integers in ``[0, size)``. The arrays are copied, so the caller
        may reuse them. Data reaches the file in whole chunks or at the next :meth:`flush`.
        """
        self._require_writable()
        sink = self._spike_sink(label, segment)
        times = np.array(times_ms, dtype=np.float64, copy=True, ndmin=1)
        ids = np.asarray(node_ids)
        if times.ndim != 1 or ids.shape != times.shape:
            raise ParameterError(self, "node_ids", f"shapes {times.shape} (times) and {ids.shape} (node_ids) "
                                 f"of population {label!r} differ or are not 1-D",
                                 "two 1-D arrays of equal length")
        if times.size == 0:
            return
        if ids.dtype.kind not in "iu":
            raise ParameterError(self, "node_ids", f"dtype {ids.dtype} for population {label!r}",
                                 "an integer array")
        lo, hi = ids.min(), ids.max()
        if lo < 0 or hi >= sink.size:
            raise ParameterError(self, "node_ids", f"ids range over [{lo}, {hi}] for population {label!r} "
                                 f"of size {sink.size}", f"population-local indices in [0, {sink.size})")
        if not np.isfinite(times).all():
            raise ParameterError(self, "times_ms", f"non-finite spike time for population {label!r}",
                                 "finite times in ms")
        if times[0] < sink.last_time or (times.size > 1 and bool((times[1:] < times[:-1]).any())):
            raise ParameterError(self, "times_ms", f"spikes of population {label!r} are not in time order "
                                 f"(previous batch ended at {sink.last_time} ms)",
                                 "batches sorted by time, each starting at or after the previous one's end")
        sink.last_time = float(times[-1])
        sink.pending.append((times, ids.astype(np.uint64, copy=True)))
        sink.n_pending += times.size
        if sink.n_pending >= self.spike_chunk:
            sink.write()

    # ------------------------------------------------------------------ signals: write
    def add_signal(self, label: str, variable: str, units: str, sampling_interval_ms: float,
                   t_start_ms: float, channel_ids: np.ndarray, segment: int = 0) -> None:
        """Declare a sampled variable of population ``label`` recorded in ``segment``.

        ``units`` is the value unit (e.g. ``"mV"``, ``"nA"``, ``"uS"``); ``sampling_interval_ms``
        (> 0) and ``t_start_ms`` are in ms; ``channel_ids`` are the population-local indices of the
        recorded neurons, one per column of the samples given to :meth:`append_signal`.
        """
        f = self._require_writable()
        label = self._check_label(label)
        variable = self._check_label(variable, "variable")
        segment = self._check_segment(segment)
        if not isinstance(units, str):
            raise ParameterError(self, "units", f"{units!r} is not a unit string", "e.g. 'mV', 'nA', 'uS'")
        dt = float(sampling_interval_ms)
        t0 = float(t_start_ms)
        if not np.isfinite(dt) or dt <= 0:
            raise ParameterError(self, "sampling_interval_ms", f"{sampling_interval_ms!r}",
                                 "a finite interval > 0 ms")
        if not np.isfinite(t0):
            raise ParameterError(self, "t_start_ms", f"{t_start_ms!r}", "a finite time in ms")
        channels = np.asarray(channel_ids)
        if channels.ndim != 1 or (channels.size and (channels.dtype.kind not in "iu" or channels.min() < 0)):
            raise ParameterError(self, "channel_ids", f"{channels.dtype} array of shape {channels.shape}",
                                 "a 1-D array of non-negative integer population-local indices")
        key = (segment, label, variable)
        if key in self._signals:
            raise RecordingError(self, "variable", f"signal {variable!r} of population {label!r} already "
                                 f"added to segment {segment}", "each (label, variable) once per segment")
        n = int(channels.size)
        group = f.require_group(_segment_root(segment) + "signals").require_group(encode_name(label))
        group = group.create_group(encode_name(variable))
        col_chunk = max(1, min(n, self.signal_chunk_bytes // 8))
        row_chunk = max(1, self.signal_chunk_bytes // (8 * col_chunk))
        data = group.create_dataset("data", shape=(0, n), maxshape=(None, n if n else None), dtype="f8",
                                    chunks=(row_chunk, col_chunk))
        data.attrs["units"] = units
        data.attrs["sampling_interval"] = dt
        data.attrs["t_start"] = t0
        data.attrs["time_units"] = "ms"
        group.create_dataset("channel_ids", data=channels.astype(np.uint64))
        rows_per_write = max(row_chunk, self.signal_pending_bytes // (8 * max(n, 1)))
        self._signals[key] = _SignalSink(data, n, rows_per_write)

    def append_signal(self, label: str, variable: str, samples: np.ndarray, segment: int = 0) -> None:
        """Append samples (float, ``[n_samples, n_channels]``, in the declared units) along time."""
        self._require_writable()
        segment = self._check_segment(segment)
        sink = self._signals.get((segment, label, variable))
        if sink is None:
            known = sorted(f"{lbl!r}/{var!r}" for seg, lbl, var in self._signals if seg == segment)
            raise RecordingError(self, "variable", f"no signal {variable!r} of population {label!r} added to "
                                 f"segment {segment}", ", ".join(known) or "none added yet; call add_signal() first")
        block = np.array(samples, dtype=np.float64, copy=True)
        if block.ndim != 2 or block.shape[1] != sink.n_channels:
            raise ParameterError(self, "samples", f"shape {block.shape} for {label!r}/{variable!r}",
                                 f"a 2-D array [n_samples, {sink.n_channels}]")
        if block.shape[0] == 0:
            return
        sink.pending.append(block)
        sink.n_pending += block.shape[0]
        if sink.n_pending >= sink.rows_per_write:
            sink.write()

    # ------------------------------------------------------------------ readers
    def segments(self) -> list[int]:
        """Indices of the segments in the file, ascending; segment 0 always exists."""
        f = self._require_open()
        extra = sorted(int(k) for k in f["segments"]) if "segments" in f else []
        return [0] + [k for k in extra if k != 0]

    def _segment_group(self, segment: Any) -> h5py.Group:
        f = self._require_open()
        segment = self._check_segment(segment)
        root = _segment_root(segment)
        if root not in f:
            raise RecordingError(self, "segment", f"no segment {segment} in the file",
                                 ", ".join(map(str, self.segments())))
        return f[root]

    def populations(self, segment: int = 0) -> list[str]:
        """Labels of the populations with spikes or signals in ``segment``, sorted."""
        g = self._segment_group(segment)
        names: set[str] = set()
        for kind in ("spikes", "signals"):
            if kind in g:
                names.update(decode_name(n) for n in g[kind])
        return sorted(names)

    def variables(self, label: str, segment: int = 0) -> list[str]:
        """Names of the signals recorded for population ``label`` in ``segment``, sorted."""
        g = self._segment_group(segment)
        key = "signals/" + encode_name(self._check_label(label))
        return sorted(decode_name(v) for v in g[key]) if key in g else []

    def has_spikes(self, label: str, segment: int = 0) -> bool:
        """Whether spikes of population ``label`` were recorded in ``segment``."""
        g = self._segment_group(segment)
        return "spikes/" + encode_name(self._check_label(label)) in g

    def _spike_group(self, label: str, segment: int) -> h5py.Group:
        g = self._segment_group(segment)
        label = self._check_label(label)
        key = "spikes/" + encode_name(label)
        if key not in g:
            known = [decode_name(n) for n in g["spikes"]] if "spikes" in g else []
            raise RecordingError(self, "label", f"no spikes of population {label!r} in segment {segment}",
                                 ", ".join(map(repr, sorted(known))) or "no population has spikes there")
        sink = self._spikes.get((int(segment), label))
        if sink is not None:
            sink.write()  # an open writer's buffered batch belongs to what the reader sees
        return g[key]

    def population_size(self, label: str, segment: int = 0) -> int | None:
        """Number of neurons of a spike-recorded population (None if the file does not say)."""
        size = self._spike_group(label, segment).attrs.get("size")
        return None if size is None else int(size)

    def read_spikes(self, label: str, segment: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Spikes of population ``label``: (times in ms as float64, node ids as uint64), time order."""
        g = self._spike_group(label, segment)
        times, ids = g["timestamps"], g["node_ids"]
        # Unequal lengths only after a kill between the two writes: the common prefix is whole.
        n = min(times.shape[0], ids.shape[0])
        return times[:n].astype(np.float64, copy=False), ids[:n].astype(np.uint64, copy=False)

    def read_signal(self, label: str, variable: str, segment: int = 0) -> dict:
        """One recorded variable: ``{'samples' [n_samples, n_channels], 'units', 'sampling_interval'
        (ms), 't_start' (ms), 'channel_ids'}``."""
        g = self._segment_group(segment)
        label = self._check_label(label)
        variable = self._check_label(variable, "variable")
        base = "signals/" + encode_name(label)
        key = base + "/" + encode_name(variable)
        if key not in g:
            if base in g:
                known = ", ".join(repr(decode_name(v)) for v in g[base])
                problem = f"no signal {variable!r} of population {label!r} in segment {segment}"
            else:
                known = ", ".join(repr(decode_name(p)) for p in g["signals"]) if "signals" in g else ""
                problem = f"no signals of population {label!r} (variable {variable!r}) in segment {segment}"
            raise RecordingError(self, "variable", problem, known or "nothing recorded there")
        sink = self._signals.get((int(segment), label, variable))
        if sink is not None:
            sink.write()
        data = g[key + "/data"]
        units = data.attrs.get("units", "")
        return {
            "samples": data[()],
            "units": units.decode() if isinstance(units, bytes) else str(units),
            "sampling_interval": float(data.attrs["sampling_interval"]),
            "t_start": float(data.attrs["t_start"]),
            "channel_ids": g[key + "/channel_ids"][()].astype(np.uint64, copy=False),
        }


def _create(path: Path) -> h5py.File:
    # Checked up front so the error says what is wrong in words, not in HDF5's errno dump.
    if path.is_dir():
        raise RecordingError("RunStore", "path", f"'{path}' is a directory", _ACCEPTED_PATH)
    parent = path.parent
    if not parent.is_dir():
        raise RecordingError("RunStore", "path", f"cannot create '{path}': directory '{parent}' does not exist",
                             _ACCEPTED_PATH)
    try:
        return h5py.File(path, "w")
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise RecordingError("RunStore", "path", f"cannot create '{path}' ({reason})", _ACCEPTED_PATH) from None


def _open_for_reading(path: Path) -> h5py.File:
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        raise RecordingError("open_run", "path", f"'{path}' {what}", "the path of a run store (HDF5 file)")
    errors = []
    # Plain open first; then SWMR (a file from a killed SWMR writer); then without HDF5's file lock
    # (a writer is still running: the reader sees its last flush, best effort).
    for kwargs in ({}, {"swmr": True}, {"locking": False}):
        try:
            return h5py.File(path, "r", **kwargs)
        except (OSError, ValueError) as exc:
            errors.append(str(exc))
    raise RecordingError("open_run", "path", f"cannot open '{path}' as HDF5 ({errors[0]})",
                         "the path of a readable run store (HDF5 file)")


def open_run(path: str | os.PathLike) -> RunStore:
    """Open a run store read-only: a finished run, a killed one, or (best effort) one still running."""
    return RunStore(path, None, mode="r")


def read_spikes(path: str | os.PathLike, label: str, segment: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`RunStore.read_spikes` on the file at ``path`` (times in ms, node ids)."""
    with open_run(path) as store:
        return store.read_spikes(label, segment)


def read_signal(path: str | os.PathLike, label: str, variable: str, segment: int = 0) -> dict:
    """:meth:`RunStore.read_signal` on the file at ``path``."""
    with open_run(path) as store:
        return store.read_signal(label, variable, segment)


def read_manifest(path: str | os.PathLike) -> dict:
    """The manifest of the run store at ``path``."""
    with open_run(path) as store:
        return store.manifest


def segments(path: str | os.PathLike) -> list[int]:
    """:meth:`RunStore.segments` on the file at ``path``."""
    with open_run(path) as store:
        return store.segments()


def populations(path: str | os.PathLike, segment: int = 0) -> list[str]:
    """:meth:`RunStore.populations` on the file at ``path``."""
    with open_run(path) as store:
        return store.populations(segment)
