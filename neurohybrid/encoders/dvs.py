"""A DVS-like event camera from video frames (after Lichtsteiner, Posch & Delbruck 2008, IEEE
JSSC 43(2): 566-576, and the frame-to-event conversion of v2e, Hu, Liu & Delbruck 2021).

Each pixel i follows the log intensity ``L_i(t) = ln(I_i(t) + log_eps)`` and keeps a reference
level ``R_i`` (set to ``L_i(0)`` at the start). Whenever ``L_i - R_i >= theta_on_i`` it emits an
ON event and moves its reference up by ``theta_on_i``; whenever ``R_i - L_i >= theta_off_i`` an OFF
event and moves it down by ``theta_off_i``. So a change of the log intensity by D gives
``floor(D / theta)`` events. After an event the pixel is blind for ``refractory_period`` ms
(then at most one event per tick; with 0 every crossing of the tick is reported, with
multiplicity); the reference moves only with events, so a fast change gives its events late
rather than losing them.

- *Per-pixel threshold mismatch*: ``theta_on_i = threshold_on * max(0.05, 1 + threshold_mismatch * z_i)``
  (likewise OFF) with ``z_i`` standard normal from the encoder's keyed stream: the same
  seed gives the same camera.
- *Interpolation*: with ``interpolate=True`` the log intensity is interpolated linearly between
  frames (frame s is the image at ``s * sampling_period``), so the events of a change are spread
  over the frame interval, each at the tick where its level is crossed; this looks one frame
  ahead (a live camera then reports a frame's events when it arrives). ``False``: the frame is
  held until the next one (strictly causal).
- *Background noise*: each pixel also emits noise events as a Poisson process of
  ``noise_rate`` Hz, ON or OFF with equal probability (keyed draws per pixel and tick; they do
  not move the reference).

Units: ``stimulus`` [time, rows, cols] of intensities >= 0, ``"1"`` (normalised, e.g. 8-bit
frames / 255) or ``"cd/m2"``; ``log_eps`` in the same units; thresholds in natural-log units
(0.2 = a 22 % contrast step); ``refractory_period`` in ms; ``noise_rate`` in Hz per pixel.
Channels: ``n = 2 * rows * cols``; ON events of pixel (r, c) on channel ``r * cols + c``, OFF
events on ``rows * cols + r * cols + c``.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from neurohybrid import rng
from neurohybrid.errors import ParameterError

from .base import Encoder

__all__ = ["EventCameraEncoder"]


@njit(cache=True)
def _events(logs, ia, ib, frac, ref, last, started, th_on, th_off, refr, noise_p, key_noise, k0):
    """Event counts [n, 2 * npx] (ON, then OFF) for grid indices ``k0 ..``: tick j sees the log
    image ``(1 - frac[j]) logs[ia[j]] + frac[j] logs[ib[j]]``; ``ref``, ``last`` and ``started``
    (the pixels' state) are updated in place."""
    n = ia.size
    npx = logs.shape[1]
    out = np.zeros((n, 2 * npx), np.uint16)
    for j in range(n):
        k = k0 + j
        f = frac[j]
        a = logs[ia[j]]
        b = logs[ib[j]]
        if started[0] == 0:
            for i in range(npx):
                ref[i] = (1.0 - f) * a[i] + f * b[i]
            started[0] = 1
        for i in range(npx):
            level = (1.0 - f) * a[i] + f * b[i]
            if k - last[i] > refr:
                d = level - ref[i]
                c = 0
                if d >= th_on[i]:
                    c = int(math.floor(d / th_on[i] + 1e-12))
                    if refr > 0 and c > 1:
                        c = 1
                    ref[i] += c * th_on[i]
                    out[j, i] = min(c, 65535)
                elif -d >= th_off[i]:
                    c = int(math.floor(-d / th_off[i] + 1e-12))
                    if refr > 0 and c > 1:
                        c = 1
                    ref[i] -= c * th_off[i]
                    out[j, npx + i] = min(c, 65535)
                if c > 0:
                    last[i] = k
            if noise_p > 0.0 and rng.uniform(key_noise, i, k) < noise_p:
                if rng.uniform_at(key_noise, i, k, 1) < 0.5:
                    out[j, i] += 1
                else:
                    out[j, npx + i] += 1
    return out


@njit(cache=True)
def _normals(key, n):
    """Standard normals [2, n] keyed by (pixel, polarity)."""
    out = np.empty((2, n))
    for pol in range(2):
        for i in range(n):
            out[pol, i] = rng.normal(key, i, pol)
    return out


class EventCameraEncoder(Encoder):
    """ON/OFF events of a DVS-like camera from video frames; see the module docstring.

    Parameters (units): ``stimulus`` [time, rows, cols] (intensities >= 0, ``units`` "1" or
    "cd/m2"), ``sampling_period`` (ms per frame), ``threshold_on``, ``threshold_off`` (natural
    log units), ``threshold_mismatch`` (relative standard deviation), ``refractory_period`` (ms),
    ``noise_rate`` (Hz per pixel), ``log_eps`` (stimulus units), ``interpolate`` (bool),
    ``frame_shape`` ((rows, cols), for a live camera).
    """

    units_accepted = ("1", "cd/m2")
    stimulus_ndim = 3
    nonnegative = True
    defaults = {"threshold_on": 0.2, "threshold_off": 0.2, "threshold_mismatch": 0.03, "refractory_period": 0.5,
                "noise_rate": 0.1, "log_eps": 1e-3, "interpolate": True, "frame_shape": None}

    def _configure(self) -> None:
        if self._samples is None and self.p["frame_shape"] is None:
            raise ParameterError(self, "frame_shape", "a live camera (stimulus=None) without its frame shape",
                                 "frame_shape=(rows, cols)")
        rows, cols = self.frame_shape
        self.pixels = rows * cols
        self.n = 2 * self.pixels
        on = self._scalar("threshold_on", 0.0, strict=True)
        off = self._scalar("threshold_off", 0.0, strict=True)
        sigma = self._scalar("threshold_mismatch", 0.0)
        self.refractory_ticks = int(np.ceil(self._scalar("refractory_period", 0.0) / self.dt - 1e-9))
        rate = self._scalar("noise_rate", 0.0)
        self.noise_p = 1.0 - np.exp(-rate * self.dt / 1000.0)
        self.log_eps = self._scalar("log_eps", 0.0, strict=True)
        self.interpolate = bool(np.asarray(self.p["interpolate"]).ravel()[0])
        self.key_noise = np.uint64(rng.subkey(self.key, 1))
        key_mismatch = np.uint64(rng.subkey(self.key, 2))
        z = _normals(key_mismatch, self.pixels)
        self.th_on = on * np.maximum(0.05, 1.0 + sigma * z[0])
        self.th_off = off * np.maximum(0.05, 1.0 + sigma * z[1])

    def _reset_state(self) -> None:
        self._ref = np.zeros(self.pixels)
        self._last = np.full(self.pixels, np.iinfo(np.int64).min // 2, np.int64)
        self._started = np.zeros(1, np.int64)

    def _state_arrays(self) -> dict:
        return {"reference": "_ref", "last_event": "_last", "started": "_started"}

    def _advance(self, k0: int, n: int) -> np.ndarray:
        period = self.p["sampling_period"]
        t = np.arange(k0, k0 + n, dtype=np.float64) * self.dt  # tick k sees the image at k dt
        pos = np.maximum(t / period, 0.0)
        s = np.floor(pos + 1e-9).astype(np.int64)
        if self.interpolate:
            frac = np.clip(pos - s, 0.0, 1.0)
            nxt = s + 1
        else:
            frac, nxt = np.zeros(n), s
        if not self.live and self._samples is not None:  # after the last frame: hold it
            last = self._samples.shape[0] - 1
            frac = np.where(s >= last, 0.0, frac)
            s, nxt = np.minimum(s, last), np.minimum(nxt, last)
        frac = np.where(frac < 1e-9, 0.0, frac)
        uniq, inv = np.unique(np.concatenate([s, nxt]), return_inverse=True)
        logs = np.log(self._sample_rows(uniq).reshape(uniq.size, -1) + self.log_eps)
        ia, ib = inv[:n].astype(np.int64), inv[n:].astype(np.int64)
        return _events(logs, ia, ib, frac, self._ref, self._last, self._started, self.th_on, self.th_off,
                       np.int64(self.refractory_ticks), self.noise_p, self.key_noise, np.int64(k0))
