"""Spike sources shared by every engine: SpikeSourcePoisson, SpikeSourcePoissonRefractory,
SpikeSourceGamma and SpikeSourceArray, with PyNN's parameters and units (Hz, ms).

Time convention
---------------
Ticks are integers of the global resolution ``dt`` (ms). A spike with time stamp ``s = k*dt``
is on the grid and is reported at *emission tick* ``k - 1`` (so a spike at t = 0 has emission
tick -1). ``emit(t0, n_ticks)`` returns every spike with emission tick in
``[t0 - 1, t0 + n_ticks - 1)``, i.e. with grid index ``k`` in ``[t0, t0 + n_ticks)``, sorted
by tick and then by neuron index; a neuron that fires several times in one tick appears as
many times (multiplicity).

Random sources are processes in continuous time. A grid point ``k`` stands for the interval
``((k-1)*dt, k*dt]``: every event of the process in that interval is stamped ``k*dt``
(rounded *up* to the grid, as NEST's grid-based generators do). Sources are active on
``(start, start + duration]``, so no random spike falls at ``start`` itself.

Randomness and windows
----------------------
All draws come from :mod:`neurohybrid.rng` counter-based streams, keyed by the ``key`` given to
the source and by (neuron index, draw number). Every random source is a renewal process per
neuron whose state (next spike time, draw number) is carried between windows, so the spikes are
the same whatever the window sizes, and ``reset()`` gives the same spikes again for the same key
and parameters. SpikeSourcePoisson is the renewal process with exponential intervals: its
counts per grid interval are exactly independent Poisson variates, and it costs one draw per
spike instead of one per neuron and tick (about 35x faster at 20 Hz and dt = 0.1 ms).
Give every source its own key (e.g. ``stream_key(seed, node, "spikes")``): sources of different
types built with one key share draws and are correlated.

Windows are expected in order. A window that starts later than the previous one ended skips
the gap (its spikes are dropped); one that starts earlier raises SimulationStateError (call
``reset()`` first). SpikeSourceArray is stateless and takes windows in any order.

``state()`` returns a source's dynamic state (the renewal state carried between windows, the
queue of an external source) as a flat dict of copies; ``restore(state)`` continues from it, so
a source restored into a fresh copy (same key and parameters) emits the same spikes as the one
the state was taken from. Engines put these in their snapshots (:mod:`neurohybrid.snapshot`).

Renewal sources start in equilibrium (stationary), as NEST's ppd_sup_generator and
gamma_sup_generator do: the time to the first spike after ``start`` is drawn from the forward
recurrence time distribution, so the firing rate is the stated one from ``start`` on rather
than building up after it.

Off-grid parameters: ``start`` and ``start + duration`` are used exactly (a grid interval only
partly inside the active period gets a proportionally smaller Poisson mean); they are snapped
to the grid when within 1e-9 (relative) of a grid point so that round-off never creates a sliver.
SpikeSourceArray puts a spike time off the grid on the end of the step that contains it (rounded
*up*), as NEST's ``spike_generator`` does (``draws.spike_time_steps``).
"""
from __future__ import annotations

import numpy as np

from neurohybrid.errors import ParameterError, SimulationStateError, UnknownParameterError

from .draws import (_KIND_GAMMA, _KIND_REFRACTORY, _check_dt, _check_key, _check_window, _empty, _ms_to_ticks,
                    _poisson_counts, counts_to_spikes, _renewal_kernel, _renewal_restart, poisson_cdf_tables, pushed_spikes,
                    spike_time_steps)

__all__ = [
    "SpikeSourcePoisson", "SpikeSourcePoissonRefractory", "SpikeSourceGamma", "SpikeSourceArray",
    "SpikeSourceExternal", "SPIKE_SOURCES", "source_class", "source_names",
]


class _SpikeSource:
    """Common parameter handling: PyNN defaults, broadcasting, size checks, validation."""

    defaults: dict[str, float] = {}

    def __init__(self, params: dict, key: int, dt: float):
        self.n = None
        self.dt = _check_dt(self, dt)
        self.key = _check_key(self, key)
        merged = dict(self.defaults)
        self._check_names(params)
        merged.update(params)
        self.params = self._normalise(merged)
        self.reset()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.n})"

    def _check_names(self, params):
        for name in params:
            if name not in self.defaults:
                raise UnknownParameterError(self, name, tuple(self.defaults))

    def _normalise(self, params: dict) -> dict[str, np.ndarray]:
        arrays = {}
        for name, value in params.items():
            try:
                a = np.asarray(value, dtype=float)
            except (TypeError, ValueError):
                raise ParameterError(self, name, f"{value!r} is not numeric",
                                     "a number or a 1-D array of numbers") from None
            if a.ndim > 1:
                raise ParameterError(self, name, f"has shape {a.shape}", "a number or a 1-D array of length n")
            arrays[name] = a
        lengths = {a.size for a in arrays.values() if a.ndim == 1}
        n = self.n
        if n is None:
            if len(lengths) > 1:
                raise ParameterError(self, None, f"parameter arrays have different lengths {sorted(lengths)}",
                                     "arrays of one common length n (or scalars)")
            n = lengths.pop() if lengths else 1
        for name, a in arrays.items():
            if a.ndim == 1 and a.size != n:
                raise ParameterError(self, name, f"has length {a.size}", f"a number or an array of length {n}")
            if np.isnan(a).any():
                raise ParameterError(self, name, "contains NaN", self._accepted(name))
            arrays[name] = np.array(np.broadcast_to(a, (n,)), dtype=float)
        self.n = n
        self._validate(arrays)
        return arrays

    def _accepted(self, name: str) -> str:
        return {
            "rate": "finite rates >= 0 Hz",
            "start": "finite times >= 0 ms",
            "duration": "durations >= 0 ms (inf allowed)",
            "tau_refrac": "finite dead times >= 0 ms with rate * tau_refrac <= 1000 (Hz * ms)",
            "alpha": "finite shapes > 0",
            "beta": "finite rate parameters >= 0 Hz",
        }.get(name, "finite numbers")

    def _require(self, params, name, ok):
        bad = ~ok
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ParameterError(self, name, f"value {params[name][i]!r} at index {i} is invalid",
                                 self._accepted(name))

    def _validate(self, p):
        self._require(p, "start", np.isfinite(p["start"]) & (p["start"] >= 0))
        self._require(p, "duration", p["duration"] >= 0)

    def _period_ticks(self):
        start = self.params["start"]
        return _ms_to_ticks(start, self.dt), _ms_to_ticks(start + self.params["duration"], self.dt)

    def set_params(self, params: dict) -> None:
        """Change parameters (between runs). ``params`` maps names to scalars or length-n arrays;
        names not given keep their values."""
        self._check_names(params)
        merged = dict(self.params)
        merged.update(params)
        old = self.params
        self.params = self._normalise(merged)
        self._params_changed(old)

    def _params_changed(self, old):
        pass

    def reset(self) -> None:
        """Go back to t = 0; with the same key and parameters the same spikes follow."""

    def state(self) -> dict:
        """The source's dynamic state, a flat dict of copies (ints, numpy arrays) that
        :meth:`restore` takes back (engine snapshots, :mod:`neurohybrid.snapshot`). Stateless
        sources (SpikeSourceArray) have none: ``{}``."""
        return {}

    def restore(self, state: dict) -> None:
        """Continue from a :meth:`state` of a source of the same type and size: with the same key
        and parameters the same spikes follow as from the source it was taken from. The
        snapshot is copied (it stays valid). ParameterError for a state of another layout."""
        self._check_state(state, {})

    def _check_state(self, state: dict, arrays: dict) -> None:
        """ParameterError unless ``state`` has exactly ``arrays`` (name -> length) and ``pos``
        when ``arrays`` is not empty."""
        want = set(arrays) | ({"pos"} if arrays else set())
        if not isinstance(state, dict) or set(state) != want:
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ParameterError(self, "state", f"has entries {got}", f"the entries {sorted(want)} of state()")
        for name, size in arrays.items():
            a = np.asarray(state[name])
            if a.ndim != 1 or (size is not None and a.size != size):
                raise ParameterError(self, "state", f"{name!r} has shape {a.shape}",
                                     f"({size},)" if size is not None else "a 1-D array")


class _RenewalSource(_SpikeSource):
    """Renewal process per neuron, started in equilibrium at ``start``; state carried between windows."""

    _kind = -1

    def _process_params(self):
        raise NotImplementedError

    def reset(self) -> None:
        """Go back to t = 0; with the same key and parameters the same spikes follow."""
        self._pos = 0
        self._draws = np.zeros(self.n, dtype=np.int64)
        self._t_next = np.empty(self.n, dtype=float)
        self._restart(np.arange(self.n, dtype=np.int64))

    def state(self) -> dict:
        """``pos``: the next grid index not yet emitted (ticks); ``t_next``: each cell's next
        spike time (float64, in ticks of dt); ``draws``: each cell's draw counter (int64)."""
        return {"pos": int(self._pos), "t_next": self._t_next.copy(), "draws": self._draws.copy()}

    def restore(self, state: dict) -> None:
        """Continue from :meth:`state` (see :meth:`_SpikeSource.restore`)."""
        self._check_state(state, {"t_next": self.n, "draws": self.n})
        self._pos = int(state["pos"])
        self._t_next = np.array(state["t_next"], dtype=float)
        self._draws = np.array(state["draws"], dtype=np.int64)

    def _restart(self, which):
        p1, p2 = self._process_params()
        s, _ = self._period_ticks()
        # Ticks already emitted cover continuous time up to (pos - 1) ticks.
        _renewal_restart(self._kind, self.key, p1, p2, s, float(self._pos - 1),
                         self._t_next, self._draws, which)

    def _params_changed(self, old):
        if self._pos == 0:
            self.reset()  # nothing emitted yet: same spikes as a source built with these params
            return
        changed = np.zeros(self.n, dtype=bool)
        for name, value in self.params.items():
            changed |= ~((old[name] == value) | (np.isnan(old[name]) & np.isnan(value)))
        # Neurons whose parameters changed restart, in equilibrium with the new parameters, at
        # the current time; the draw counter carries on so no random number is reused.
        self._restart(np.flatnonzero(changed).astype(np.int64))

    def emit(self, t0: int, n_ticks: int) -> tuple[np.ndarray, np.ndarray]:
        """Spikes with emission tick in [t0 - 1, t0 + n_ticks - 1): (ticks int64[], ids int64[]),
        sorted by tick then id.

        Windows must not go back in time (SimulationStateError; call ``reset()``); a gap
        (``t0`` later than the end of the previous window) is skipped over, its spikes dropped.
        """
        t0, n_ticks = _check_window(self, t0, n_ticks)
        if t0 < self._pos:
            raise SimulationStateError(self, "t0", f"window starts at tick {t0}, before tick {self._pos} "
                                       "which this source has already reached",
                                       f"t0 >= {self._pos}, or reset() first")
        _, e = self._period_ticks()
        p1, p2 = self._process_params()
        ticks, ids = _renewal_kernel(self._kind, self.key, p1, p2, e, self._t_next, self._draws,
                                     np.int64(t0), np.int64(t0 + n_ticks))
        self._pos = t0 + n_ticks
        return ticks, ids


class SpikeSourcePoisson(_RenewalSource):
    """Independent Poisson spike trains.

    Parameters (PyNN units): ``rate`` (Hz, >= 0), ``start`` (ms, >= 0), ``duration`` (ms, >= 0;
    active on ``(start, start + duration]``). Generated as exponential inter-spike intervals
    (mean ``1000/rate`` ms) in continuous time, rounded up to the grid, so the number of spikes
    at grid point k is Poisson with mean ``rate * |((k-1)dt, k dt] ∩ (start, start+duration]| /
    1000``, independently across ticks; several spikes in one tick are reported with
    multiplicity. A rate changed between runs takes effect at once (memorylessness makes the
    restart exact).
    """

    defaults = {"rate": 1.0, "start": 0.0, "duration": 1e10}
    _kind = _KIND_REFRACTORY

    def _validate(self, p):
        self._require(p, "rate", np.isfinite(p["rate"]) & (p["rate"] >= 0))
        super()._validate(p)

    def _process_params(self):
        rate = self.params["rate"]
        with np.errstate(divide="ignore"):
            m = np.where(rate > 0, 1000.0 / np.where(rate > 0, rate, 1.0) / self.dt, np.inf)
        return np.zeros(self.n), m

    def emit(self, t0: int, n_ticks: int) -> tuple[np.ndarray, np.ndarray]:
        """Spikes with emission tick in [t0 - 1, t0 + n_ticks - 1), sorted by tick then id.

        One Poisson count per neuron and grid interval, keyed by (neuron, grid index): the
        cost is one draw per neuron and tick whatever the rate (a renewal process costs one
        draw per spike, which is far slower for the kHz drives of balanced networks), and the
        counts do not depend on how time is cut into windows.
        """
        t0, n_ticks = _check_window(self, t0, n_ticks)
        if t0 < self._pos:
            raise SimulationStateError(self, "t0", f"window starts at tick {t0}, before tick {self._pos} "
                                       "which this source has already reached",
                                       f"t0 >= {self._pos}, or reset() first")
        return counts_to_spikes(self._counts(t0, n_ticks), t0)

    def _counts(self, t0: int, n_ticks: int) -> np.ndarray:
        if t0 < self._pos:
            raise SimulationStateError(self, "t0", f"window starts at tick {t0}, before tick {self._pos} "
                                       "which this source has already reached",
                                       f"t0 >= {self._pos}, or reset() first")
        lam, start_ticks, stop_ticks = self._draw_args()
        cached = getattr(self, "_cdf", None)
        if cached is None or cached[0] is not self.params["rate"]:
            self._cdf = (self.params["rate"], *poisson_cdf_tables(lam))
        counts = _poisson_counts(self.key, lam, self._cdf[1], self._cdf[2], start_ticks, stop_ticks, np.int64(t0),
                                 np.int64(n_ticks), *getattr(self, "_range", (np.int64(0), np.int64(lam.size))))
        self._pos = t0 + n_ticks
        return counts

    def _draw_args(self) -> tuple:
        """(mean per tick, start, stop in ticks) of every cell, for the current parameters and
        cell subset: built when these change, not every window (five array operations over the
        whole source cost 50 us a window, about a quarter of the draws of a 2000-cell copy)."""
        p = self.params
        key = (p["rate"], p["start"], p["duration"], getattr(self, "_used", None))
        cached = getattr(self, "_args", None)
        if cached is None or any(a is not b for a, b in zip(cached[0], key)):
            lam = p["rate"] * self.dt / 1000.0
            if key[3] is not None:
                lam = np.where(key[3], lam, 0.0)
            cached = self._args = (key, lam, p["start"] / self.dt, (p["start"] + p["duration"]) / self.dt)
        return cached[1:]

    def only(self, used) -> None:
        """Generate only the trains of cells where ``used`` (bool per cell) is true; the others
        count 0. For an engine that runs a copy of a source and needs some of its cells: every
        train is keyed by (source, cell), so a cell's train does not depend on the others."""
        used = None if used is None else np.asarray(used, dtype=bool)
        self._used = None if used is None or used.all() else used
        cells = np.flatnonzero(self._used) if self._used is not None else None
        self._range = (np.int64(0), np.int64(self.n)) if cells is None else \
            ((np.int64(cells[0]), np.int64(cells[-1] + 1)) if cells.size else (np.int64(0), np.int64(0)))
        self._cdf = self._args = None

    def counts_matrix(self, t0: int, n_ticks: int) -> np.ndarray:
        """The window's spikes as counts, uint16 ``[n_ticks, n]``: row j holds the spikes with
        emission tick ``t0 - 1 + j`` (the same spikes :meth:`emit` lists)."""
        t0, n_ticks = _check_window(self, t0, n_ticks)
        return self._counts(t0, n_ticks)


class SpikeSourcePoissonRefractory(_RenewalSource):
    """Poisson spike trains with a dead time after each spike (NEST ppd_sup_generator /
    poisson_generator_ps semantics).

    Parameters (PyNN units): ``rate`` (Hz, the true mean rate), ``tau_refrac`` (ms, dead time),
    ``start``, ``duration`` (ms; active on ``(start, start + duration]``). Inter-spike intervals
    are ``tau_refrac + Exp(mean = 1000/rate - tau_refrac)`` ms, so ``rate * tau_refrac <= 1000``
    is required (equality gives a regular train). Started in equilibrium at ``start``.
    Spike times are rounded up to the grid.
    """

    defaults = {"rate": 1.0, "tau_refrac": 0.0, "start": 0.0, "duration": 1e10}
    _kind = _KIND_REFRACTORY

    def _validate(self, p):
        self._require(p, "rate", np.isfinite(p["rate"]) & (p["rate"] >= 0))
        self._require(p, "tau_refrac", np.isfinite(p["tau_refrac"]) & (p["tau_refrac"] >= 0))
        self._require(p, "tau_refrac", p["rate"] * p["tau_refrac"] <= 1000.0)
        super()._validate(p)

    def _process_params(self):
        rate, tau = self.params["rate"], self.params["tau_refrac"]
        d = tau / self.dt
        with np.errstate(divide="ignore"):
            m = np.where(rate > 0, np.maximum(1000.0 / rate - tau, 0.0) / self.dt, np.inf)
        return d, m


class SpikeSourceGamma(_RenewalSource):
    """Gamma renewal spike trains, one independent process per neuron.

    Parameters (PyNN units): ``alpha`` (shape, > 0), ``beta`` (rate parameter, Hz, >= 0; mean
    inter-spike interval ``alpha / beta`` s, so mean rate ``beta / alpha`` Hz and CV
    ``1 / sqrt(alpha)``), ``start``, ``duration`` (ms; active on ``(start, start + duration]``).
    Started in equilibrium at ``start``. Spike times are rounded up to the grid, several spikes in
    one tick are reported with multiplicity.
    """

    defaults = {"alpha": 2.0, "beta": 1.0, "start": 0.0, "duration": 1e10}
    _kind = _KIND_GAMMA

    def _validate(self, p):
        self._require(p, "alpha", np.isfinite(p["alpha"]) & (p["alpha"] > 0))
        self._require(p, "beta", np.isfinite(p["beta"]) & (p["beta"] >= 0))
        super()._validate(p)

    def _process_params(self):
        beta = self.params["beta"]
        with np.errstate(divide="ignore"):
            scale = np.where(beta > 0, 1000.0 / np.where(beta > 0, beta, 1.0) / self.dt, np.inf)
        return self.params["alpha"].copy(), scale


class SpikeSourceArray(_SpikeSource):
    """Spikes at given times.

    Parameter ``spike_times``: a sequence of n 1-D arrays (ms; finite, >= 0, non-decreasing;
    repeated times give several spikes). PyNN ``Sequence`` objects are accepted. Each time is put
    on grid point ``k`` by NEST's rule (:func:`.draws.spike_time_steps`: up to the end of its step,
    unless within half a NEST tic of a grid point) and emitted at tick ``k - 1``. Stateless.
    """

    defaults = {"spike_times": None}

    def _normalise(self, params):
        value = params["spike_times"]
        if value is None:
            value = [np.empty(0)] * (self.n or 1)
        if isinstance(value, np.ndarray) and value.dtype != object and value.ndim != 2:
            raise ParameterError(self, "spike_times", f"is an array of shape {value.shape}",
                                 "a sequence of n 1-D arrays of times in ms, one per neuron")
        try:
            trains = list(value)
        except TypeError:
            raise ParameterError(self, "spike_times", f"{value!r} is not a sequence",
                                 "a sequence of n 1-D arrays of times in ms, one per neuron") from None
        if self.n is not None and len(trains) != self.n:
            raise ParameterError(self, "spike_times", f"has {len(trains)} trains",
                                 f"one train per neuron ({self.n})")
        out = []
        for i, train in enumerate(trains):
            train = getattr(train, "value", train)  # pyNN.parameters.Sequence
            try:
                a = np.asarray(train, dtype=float)
            except (TypeError, ValueError):
                raise ParameterError(self, "spike_times", f"train {i} ({train!r}) is not numeric",
                                     "1-D arrays of times in ms") from None
            if a.ndim != 1:
                raise ParameterError(self, "spike_times", f"train {i} has shape {a.shape}",
                                     "a sequence of n 1-D arrays of times in ms, one per neuron")
            if not np.isfinite(a).all():
                raise ParameterError(self, "spike_times", f"train {i} contains NaN or inf",
                                     "finite times >= 0 ms")
            if (a < 0).any():
                raise ParameterError(self, "spike_times", f"train {i} contains negative times",
                                     "finite times >= 0 ms")
            if (np.diff(a) < 0).any():
                raise ParameterError(self, "spike_times", f"train {i} is not sorted",
                                     "times in non-decreasing order")
            out.append(a)
        self.n = len(out)
        grid = [spike_time_steps(a, self.dt) for a in out]
        k = np.concatenate(grid) if grid else np.empty(0, dtype=np.int64)
        ids = np.repeat(np.arange(self.n, dtype=np.int64), [g.size for g in grid])
        order = np.lexsort((ids, k))
        self._k, self._ids = k[order], ids[order]
        return {"spike_times": out}

    def emit(self, t0: int, n_ticks: int) -> tuple[np.ndarray, np.ndarray]:
        """Spikes with emission tick in [t0 - 1, t0 + n_ticks - 1): (ticks int64[], ids int64[]),
        sorted by tick then id."""
        t0, n_ticks = _check_window(self, t0, n_ticks)
        lo, hi = np.searchsorted(self._k, [t0, t0 + n_ticks], side="left")
        return self._k[lo:hi] - 1, self._ids[lo:hi].copy()


class SpikeSourceExternal(_SpikeSource):
    """Spikes supplied while the simulation runs (by the co-simulation kernel's converters, or
    live I/O): ``push(ticks, ids)`` queues spikes at *emission ticks* (a spike pushed at tick k
    is delivered like a neuron spike emitted in tick k: it arrives at k + delay and is stamped
    (k + 1) dt). They must be pushed before the engine advances past them; ``emit`` hands them
    out window by window and forgets them. No parameters; ``reset()`` drops queued spikes."""

    defaults: dict[str, float] = {}

    def _normalise(self, params):
        self.n = self.n or 0
        return {}

    def reset(self) -> None:
        self._queue: list[tuple[np.ndarray, np.ndarray]] = []
        self._ordered = True  # the queue is one array pair sorted by (tick, id)

    def state(self) -> dict:
        """The queued spikes, ``ticks`` (emission ticks) and ``ids`` (int64), sorted by tick
        then id."""
        self._merge()
        t, i = self._queue[0] if self._queue else _empty()
        return {"ticks": t.copy(), "ids": i.copy()}

    def restore(self, state: dict) -> None:
        """Queue exactly the spikes of :meth:`state` (those queued now are dropped)."""
        self._check_state(state, {"ticks": None, "ids": None})
        t, i = pushed_spikes(self, state["ticks"], state["ids"])
        self.reset()
        self.push(t.copy(), i.copy())

    def _check_state(self, state: dict, arrays: dict) -> None:
        if not isinstance(state, dict) or set(state) != set(arrays):
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ParameterError(self, "state", f"has entries {got}", f"the entries {sorted(arrays)} of state()")

    def _merge(self) -> None:
        """Make the queue one array pair sorted by (tick, id) (usually one sorted chunk per push)."""
        if len(self._queue) > 1 or (self._queue and not self._ordered):
            t = np.concatenate([q[0] for q in self._queue])
            i = np.concatenate([q[1] for q in self._queue])
            order = np.lexsort((i, t))
            self._queue, self._ordered = [(t[order], i[order])], True

    def push(self, ticks, ids) -> None:
        """Queue spikes: emission ticks and neuron indices (int arrays, any order)."""
        t, i = pushed_spikes(self, ticks, ids)
        if not t.size:
            return
        sorted_chunk = t.size < 2 or bool(np.all((t[1:] > t[:-1]) | ((t[1:] == t[:-1]) & (i[1:] >= i[:-1]))))
        follows = not self._queue or (self._queue[-1][0][-1], self._queue[-1][1][-1]) <= (t[0], i[0])
        self._ordered = self._ordered and sorted_chunk and follows and not self._queue
        self._queue.append((t, i))

    def emit(self, t0: int, n_ticks: int) -> tuple[np.ndarray, np.ndarray]:
        """Queued spikes with emission tick in [t0 - 1, t0 + n_ticks - 1), sorted by tick then id;
        older queued spikes are dropped (their window has passed)."""
        t0, n_ticks = _check_window(self, t0, n_ticks)
        if not self._queue:
            return _empty()
        self._merge()
        t, i = self._queue[0]
        lo, hi = np.searchsorted(t, [t0 - 1, t0 + n_ticks - 1], side="left")
        self._queue = [(t[hi:], i[hi:])] if hi < t.size else []
        return t[lo:hi], i[lo:hi]


SPIKE_SOURCES = {cls.__name__: cls for cls in
                 (SpikeSourcePoisson, SpikeSourcePoissonRefractory, SpikeSourceGamma, SpikeSourceArray,
                  SpikeSourceExternal)}
"""PyNN cell-type name -> emulator spike-source class."""


def source_class(model: str):
    """The class that generates the spikes of a source node of model ``model``: a spike source
    above or a sensory encoder of :mod:`neurohybrid.encoders` (both built as ``cls(params, key,
    dt)`` with ``emit``, ``reset``, ``state``/``restore``); None for an unknown model."""
    if model in SPIKE_SOURCES:
        return SPIKE_SOURCES[model]
    from neurohybrid.encoders import ENCODERS  # imported on use: encoders build on this module
    return ENCODERS.get(model)


def source_names() -> list[str]:
    """Every model name :func:`source_class` knows (for error messages)."""
    from neurohybrid.encoders import ENCODERS
    return [*SPIKE_SOURCES, *ENCODERS]
