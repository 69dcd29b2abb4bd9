"""The contract every sensory encoder keeps: a stimulus with units and a sampling period in,
spikes per encoder channel out, window by window, with the same spikes whatever the windows.

An encoder is a *stream spike source* (like :mod:`neurohybrid.stimuli.spike_sources`): it is
built as ``cls(params, key, dt)`` from a model-graph node's parameters, a 64-bit stream key
(:func:`neurohybrid.rng.stream_key`) and the resolution ``dt`` (ms), and it answers
``emit(t0, n_ticks)`` with the spikes of grid indices ``[t0, t0 + n_ticks)`` (emission ticks
``k - 1``, sorted by tick then channel; see the time convention of ``spike_sources``). So every
engine that runs a spike source runs an encoder too, and the partition copies it onto every
engine that has targets of it (same key, same spikes).

Stimulus
--------
``params["stimulus"]`` is an array whose first axis is time: sample ``s`` is the stimulus at
``s * sampling_period`` ms. ``params["units"]`` names its units (each encoder accepts its own
list) and ``params["sampling_period"]`` its sampling period in ms. A stimulus of ``None`` makes
a *live* encoder: samples arrive while it runs through :meth:`Encoder.push` (for instance from
:class:`neurohybrid.encoders.live.EncoderComponent`, fed by live I/O); a sample that has not
arrived when a tick needs it is replaced by the last one that has (and counted in ``late``).

Causality and windows
---------------------
The spikes of grid index ``k`` depend only on the stimulus before ``k * dt`` (frame encoders:
the frame shown at ``(k - 1) * dt``; the cochlea: the samples in ``[(k - 1) dt, k dt)``). Filter
states are carried from window to window and every random draw is keyed by (channel, grid
index), so the spikes do not depend on how time is cut into windows. Windows must go forward:
a window that starts before the end of the last one is a SimulationStateError (``reset()``
first); a gap is processed (states advance) and its spikes are dropped.
``state()`` / ``restore()`` give the dynamic state as a flat dict of copies (engine snapshots).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurohybrid.errors import ParameterError, SimulationStateError, UnknownParameterError
from neurohybrid.stimuli.draws import _check_dt, _check_key, _check_window, counts_to_spikes

__all__ = ["Encoder", "Stimulus", "check_stimulus", "counts_to_spikes"]


@dataclass(frozen=True)
class Stimulus:
    """A stimulus: ``data`` (time first: [time] for a sound, [time, rows, cols] for frames),
    its ``units`` (e.g. "1" for normalised intensities or full-scale waveforms, "Pa",
    "cd/m2", "contrast") and ``sampling_period`` (ms between samples). What the file loaders of
    :mod:`.files` return; an encoder takes it as its ``stimulus`` parameter."""

    data: np.ndarray
    units: str
    sampling_period: float

    @property
    def duration(self) -> float:
        """Length in ms (samples times the sampling period)."""
        return float(np.shape(self.data)[0] * self.sampling_period)


def check_stimulus(owner, data, units, sampling_period, *, ndim: int, units_accepted: tuple,
                   frame_shape: tuple | None = None, nonnegative: bool = False):
    """The stimulus of ``owner`` as a float64 array (time first), its units and sampling period
    (ms), checked: a ParameterError names ``owner`` and the parameter for a wrong number of
    dimensions or frame shape, units not in ``units_accepted``, a sampling period that is not a
    finite number > 0 ms, NaN/inf samples, or negative samples where ``nonnegative``."""
    if not isinstance(units, str) or units not in units_accepted:
        raise ParameterError(owner, "units", f"{units!r} is not a unit this encoder takes",
                             ", ".join(repr(u) for u in units_accepted))
    try:
        period = float(sampling_period)
    except (TypeError, ValueError):
        raise ParameterError(owner, "sampling_period", f"{sampling_period!r} is not a number",
                             "a finite time > 0 ms") from None
    if not (np.isfinite(period) and period > 0):
        raise ParameterError(owner, "sampling_period", f"{sampling_period!r} ms", "a finite time > 0 ms")
    if data is None:
        return None, units, period
    try:
        a = np.asarray(data, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(owner, "stimulus", f"a {type(data).__name__} that is not numeric",
                             "a numeric array") from None
    time_axis = "(time, " + ", ".join(f"d{i}" for i in range(1, ndim)) + ")" if ndim > 1 else "(time,)"
    if a.ndim != ndim:
        raise ParameterError(owner, "stimulus", f"has shape {a.shape}", f"a {ndim}-D array {time_axis}")
    if a.shape[0] < 1:
        raise ParameterError(owner, "stimulus", "has no samples", "at least one sample")
    if frame_shape is not None and tuple(a.shape[1:]) != tuple(frame_shape):
        raise ParameterError(owner, "stimulus", f"has frames of shape {a.shape[1:]}", f"frames of shape {frame_shape}")
    if not np.all(np.isfinite(a)):
        bad = int(np.flatnonzero((~np.isfinite(a.reshape(a.shape[0], -1))).any(axis=1))[0])
        raise ParameterError(owner, "stimulus", f"sample {bad} contains NaN or inf", "finite numbers")
    if nonnegative and (a < 0).any():
        raise ParameterError(owner, "stimulus", f"has negative values (min {a.min()!r}) in units {units!r}",
                             "intensities >= 0")
    return a, units, period


class Encoder:
    """Base class of the sensory encoders (see the module docstring for the contract).

    Subclasses set ``defaults`` (parameter name -> default; ``stimulus``, ``units`` and
    ``sampling_period`` are always there), ``units_accepted``, ``stimulus_ndim``, and implement
    ``_configure()`` (derive constants from ``self.p`` and set ``self.n``, the number of
    channels), ``_reset_state()``, ``_state_arrays()`` (name -> the array attribute holding it)
    and ``_advance(k0, n) -> counts [n, self.n]`` (the spikes of grid indices ``k0 .. k0+n-1``).
    """

    defaults: dict = {}
    units_accepted: tuple = ()
    stimulus_ndim = 1
    nonnegative = False
    #: what a frame encoder sees after the last sample: "hold" the last one, or "zero"
    after_end = "hold"

    def __init__(self, params: dict, key, dt: float):
        self.n = None
        self.dt = _check_dt(self, dt)
        self.key = _check_key(self, key)
        base = {"stimulus": None, "units": self.units_accepted[0], "sampling_period": 1.0}
        allowed = {**base, **self.defaults}
        for name in params:
            if name not in allowed:
                raise UnknownParameterError(self, name, tuple(allowed))
        p = {**allowed, **params}
        if isinstance(p["stimulus"], Stimulus):
            given = p["stimulus"]
            p.update(stimulus=given.data, units=params.get("units", given.units),
                     sampling_period=params.get("sampling_period", given.sampling_period))
        frame = self._expected_frame(p)
        stim, units, period = check_stimulus(
            self, p["stimulus"], _as_str(p["units"]), p["sampling_period"], ndim=self.stimulus_ndim,
            units_accepted=self.units_accepted, nonnegative=self.nonnegative,
            frame_shape=None if frame is None else tuple(int(x) for x in np.ravel(frame)))
        p.update(stimulus=stim, units=units, sampling_period=period)
        self.p = p
        self.live = stim is None
        self._samples = stim  # live: grows by push()
        self._configure()
        self.reset()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.n})"

    # parameters ----------------------------------------------------------------------------
    def _scalar(self, name: str, low: float | None = None, high: float | None = None, *, strict: bool = False,
                integer: bool = False) -> float:
        """Parameter ``name`` as a float checked against [low, high] (``strict``: low excluded)."""
        value = self.p[name]
        try:
            x = float(np.asarray(value, dtype=float).ravel()[0]) if np.size(value) == 1 else float(value)
        except (TypeError, ValueError):
            raise ParameterError(self, name, f"{value!r} is not a number", "a finite number") from None
        ok = np.isfinite(x) and (low is None or (x > low if strict else x >= low)) and (high is None or x <= high)
        if integer and ok:
            ok = x == int(x)
        if not ok:
            rng = f"{'>' if strict else '>='} {low}" if low is not None else ""
            rng += (" and " if rng and high is not None else "") + (f"<= {high}" if high is not None else "")
            raise ParameterError(self, name, f"{value!r} is out of range",
                                 f"{'an integer' if integer else 'a finite number'} {rng}".strip())
        return x

    def _choice(self, name: str, options: tuple) -> str:
        value = _as_str(self.p[name])
        if value not in options:
            raise ParameterError(self, name, f"{value!r}", ", ".join(repr(o) for o in options))
        return value

    def set_params(self, params: dict) -> None:
        """New parameters between runs (names not given keep their values). The state carries on
        when its layout is unchanged (a new stimulus array is read on the same absolute time
        base: sample s at ``s * sampling_period``); otherwise the encoder starts again from t = 0."""
        merged = {k: v for k, v in self.p.items() if k in params or k in self.defaults or
                  k in ("stimulus", "units", "sampling_period")}
        merged.update(params)
        if all(_same(merged[k], self.p.get(k)) for k in merged):
            return
        saved = self.state()
        self.__init__(merged, self.key, self.dt)
        try:
            self.restore(saved)
        except ParameterError:
            self.reset()

    # stimulus ------------------------------------------------------------------------------
    @property
    def frame_shape(self) -> tuple:
        """Shape of one stimulus sample (a frame: (rows, cols); a sound sample: ())."""
        if self._samples is not None:
            return tuple(self._samples.shape[1:])
        return tuple(int(x) for x in np.ravel(self.p.get("frame_shape", ())))

    def push(self, samples, at: int | None = None) -> None:
        """Live encoders: append stimulus samples (time first, in the encoder's units); sample
        ``s`` (counting from the first ever pushed) is the stimulus at ``s * sampling_period``.
        ``at``: the sample index of the first one; the samples missing before it repeat the last
        one received (zeros before the first), samples already there are replaced."""
        if not self.live:
            raise SimulationStateError(self, "push", "this encoder plays a stimulus array",
                                       "push() on an encoder built with stimulus=None")
        a, _, _ = check_stimulus(self, samples, self.p["units"], self.p["sampling_period"], ndim=self.stimulus_ndim,
                                 units_accepted=self.units_accepted, frame_shape=self.frame_shape,
                                 nonnegative=self.nonnegative)
        have = 0 if self._samples is None else self._samples.shape[0]
        if at is not None and int(at) != have:
            at = max(int(at), 0)
            if at < have:
                self._samples = self._samples[:at]
            else:
                fill = self._samples[-1:] if have else np.zeros((1,) + a.shape[1:])
                gap = np.repeat(fill, at - have, axis=0)
                self._samples = gap if self._samples is None else np.concatenate([self._samples, gap])
        self._samples = a if self._samples is None else np.concatenate([self._samples, a])
        self._samples_changed()

    def _expected_frame(self, p: dict):
        """The shape one stimulus sample must have (None: any), from the parameters ``p``."""
        return p.get("frame_shape")

    def _samples_changed(self) -> None:
        """Called after a push (a subclass drops what it cached of old samples)."""

    def _sample_rows(self, index: np.ndarray) -> np.ndarray:
        """Rows of the stimulus for sample indices ``index`` (clipped: after the end, the last
        sample is held, or zeros when ``after_end == "zero"`` for a stimulus array; a live
        encoder holds the last sample it has and counts the late ones)."""
        if self._samples is None:
            self.late += int(index.size)
            return np.zeros((index.size,) + self.frame_shape)
        last = self._samples.shape[0] - 1
        beyond = index > last
        if self.live:
            self.late += int(beyond.sum())
        rows = self._samples[np.minimum(index, last)]
        if beyond.any() and self.after_end == "zero" and not self.live:
            rows = rows.copy()
            rows[beyond] = 0.0
        return rows

    def frame_of_ticks(self, k0: int, n: int) -> np.ndarray:
        """Index of the sample shown during grid intervals ``k0 .. k0+n-1`` (interval k is
        ``((k-1) dt, k dt]``: the sample at ``(k-1) dt``, held until the next one)."""
        t = (np.arange(k0, k0 + n, dtype=np.float64) - 1.0) * self.dt
        return np.maximum(np.floor(t / self.p["sampling_period"] + 1e-9), 0).astype(np.int64)

    # windows -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to t = 0 (with the same key and stimulus the same spikes follow). A live encoder
        keeps the samples pushed so far."""
        self._pos = 0
        self.late = 0
        self._reset_state()

    def emit(self, t0: int, n_ticks: int) -> tuple[np.ndarray, np.ndarray]:
        """Spikes with emission tick in ``[t0 - 1, t0 + n_ticks - 1)``: (ticks int64[], channel
        ids int64[]) sorted by tick then id (see the module docstring)."""
        counts = self.counts_matrix(t0, n_ticks)
        return counts_to_spikes(counts, t0)

    def counts_matrix(self, t0: int, n_ticks: int) -> np.ndarray:
        """The window's spikes as counts ``[n_ticks, n]`` (uint16); row j holds emission tick
        ``t0 - 1 + j`` (the spikes :meth:`emit` lists)."""
        t0, n_ticks = _check_window(self, t0, n_ticks)
        if t0 < self._pos:
            raise SimulationStateError(self, "t0", f"window starts at tick {t0}, before tick {self._pos} "
                                       "which this encoder has already reached", f"t0 >= {self._pos}, or reset() first")
        if t0 > self._pos:  # a gap: advance the state through it, drop its spikes
            self._advance(self._pos, t0 - self._pos)
        counts = self._advance(t0, n_ticks) if n_ticks else np.zeros((0, self.n), np.uint16)
        self._pos = t0 + n_ticks
        return counts

    # snapshots -----------------------------------------------------------------------------
    def state(self) -> dict:
        """``pos`` (next grid index, ticks), ``late`` (live samples that were late) and the
        encoder's filter/generator state arrays (copies)."""
        out = {"pos": int(self._pos), "late": int(self.late)}
        out.update({name: np.array(getattr(self, attr)) for name, attr in self._state_arrays().items()})
        return out

    def restore(self, state: dict) -> None:
        """Continue from a :meth:`state` of an encoder of the same type and parameters."""
        names = self._state_arrays()
        want = {"pos", "late", *names}
        if not isinstance(state, dict) or set(state) != want:
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ParameterError(self, "state", f"has entries {got}", f"the entries {sorted(want)} of state()")
        for name, attr in names.items():
            old = getattr(self, attr)
            new = np.asarray(state[name])
            if new.shape != old.shape:
                raise ParameterError(self, "state", f"{name!r} has shape {new.shape}", f"{old.shape}")
            setattr(self, attr, np.array(new, dtype=old.dtype))
        self._pos, self.late = int(state["pos"]), int(state["late"])

    # subclass hooks ------------------------------------------------------------------------
    def _configure(self) -> None:
        raise NotImplementedError

    def _reset_state(self) -> None:
        raise NotImplementedError

    def _state_arrays(self) -> dict:
        return {}

    def _advance(self, k0: int, n: int) -> np.ndarray:
        raise NotImplementedError


def _as_str(value) -> str:
    """A string parameter (graph files hand strings back as 0-d numpy string arrays)."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "US":
        return str(value.reshape(-1)[0]) if value.size else ""
    return value if isinstance(value, str) else value


def _same(a, b) -> bool:
    if a is b:
        return True
    if isinstance(a, str) or isinstance(b, str) or a is None or b is None:
        return a == b if not (a is None) ^ (b is None) else False
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    except (TypeError, ValueError):
        return False
