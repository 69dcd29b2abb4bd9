"""A cochlea: gammatone filterbank on ERB-spaced centre frequencies, half-wave rectification
and compression, and spiking auditory nerve fibres, from a sound waveform.

Model
-----
1. *Filterbank*: ``n_channels`` 4th-order gammatone filters (Patterson et al. 1992, "Complex
   sounds and auditory images") with centre frequencies equally spaced on the ERB-number scale
   ``E(f) = 21.4 log10(4.37 f / 1000 + 1)`` between ``f_min`` and ``f_max`` and bandwidth
   ``b = erb_factor * ERB(fc)``, ``ERB(f) = 24.7 (4.37 f / 1000 + 1)`` Hz (Glasberg & Moore
   1990, Hear. Res. 47: 103-138; ``erb_factor`` 1.019 makes the filter's equivalent rectangular
   bandwidth one ERB). Each filter is Hohmann's (2002, Acta Acustica 88: 433-442) cascade of
   four complex one-pole filters ``z[t] = x[t] + lambda e^{i beta} z[t-1]`` (``lambda =
   exp(-2 pi b T)``, ``beta = 2 pi fc T``), normalised to unit gain at ``fc``; the output is
   its real part, in Pa.
2. *Inner hair cells*: half-wave rectification and power-law compression,
   ``d = (max(y, 0) / 20 uPa) ^ compression``.
3. *Auditory nerve fibres*: ``fibres_per_channel`` fibres per channel fire with the
   instantaneous rate ``spontaneous_rate + (max_rate - spontaneous_rate) d^2 / (d^2 + d50^2)`` Hz
   (``d50`` is ``d`` at the peak of a tone of ``half_saturation_db`` dB SPL), averaged over each
   tick, at most one spike per tick and none during ``refractory_period`` ms after a spike
   (keyed draws per fibre and tick: :func:`.spiking.refractory_counts`). Low-frequency
   channels phase-lock, since the rate follows the rectified waveform.

Units: ``stimulus`` [time] in ``"Pa"`` or ``"1"`` (dimensionless; times ``full_scale`` Pa);
``sampling_period`` in ms (e.g. ``1000 / 16000``); frequencies in Hz. The samples of tick k are
those at times in ``[(k - 1) dt, k dt)``; after the end of a stimulus array there is silence.
Channels: ``n = n_channels * fibres_per_channel``, fibre f of channel c on ``c * fibres + f``
(channel 0 is the lowest frequency).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from neurohybrid.errors import ParameterError

from .base import Encoder
from .spiking import refractory_counts

__all__ = ["CochleaEncoder", "erb", "erb_space", "gammatone_filterbank", "P_REF"]

P_REF = 20e-6  #: reference sound pressure (Pa), 0 dB SPL


def erb(f):
    """Equivalent rectangular bandwidth (Hz) of the auditory filter at ``f`` Hz (Glasberg & Moore 1990)."""
    return 24.7 * (4.37 * np.asarray(f, dtype=float) / 1000.0 + 1.0)


def erb_space(f_min: float, f_max: float, n: int) -> np.ndarray:
    """``n`` centre frequencies (Hz) equally spaced on the ERB-number scale from ``f_min`` to ``f_max``."""
    e = np.linspace(21.4 * np.log10(4.37 * f_min / 1000 + 1), 21.4 * np.log10(4.37 * f_max / 1000 + 1), n)
    return (10 ** (e / 21.4) - 1) * 1000 / 4.37


def _coefficients(fc: np.ndarray, fs: float, erb_factor: float):
    lam = np.exp(-2 * np.pi * erb_factor * erb(fc) / fs)
    beta = 2 * np.pi * fc / fs
    return lam * np.cos(beta), lam * np.sin(beta), 2 * (1 - lam) ** 4


@njit(cache=True)
def _filter(x, ar, ai, norm, zr, zi):
    """Gammatone outputs [S, channels] (Pa) of samples ``x``; states ``zr``, ``zi`` [channels, 4]
    (real and imaginary parts of the four stages) updated in place."""
    S = x.size
    m = ar.size
    out = np.empty((S, m))
    for s in range(S):
        for c in range(m):
            inr, ini = x[s], 0.0
            for q in range(4):
                r = inr + ar[c] * zr[c, q] - ai[c] * zi[c, q]
                i = ini + ar[c] * zi[c, q] + ai[c] * zr[c, q]
                zr[c, q], zi[c, q] = r, i
                inr, ini = r, i
            out[s, c] = inr * norm[c]
    return out


@njit(cache=True)
def _tick_rates(y, bounds, held, compression, d50, spont, max_rate):
    """Mean fibre rate (Hz) per tick [n, channels]: samples ``bounds[j] .. bounds[j+1]-1`` of
    the filter outputs ``y`` belong to tick j; a tick without samples keeps ``held``."""
    n = bounds.size - 1
    m = y.shape[1]
    out = np.empty((n, m))
    d50sq = d50 * d50
    for j in range(n):
        a, b = bounds[j], bounds[j + 1]
        for c in range(m):
            if b > a:
                acc = 0.0
                for s in range(a, b):
                    v = y[s, c]
                    if v > 0.0:
                        d = (v / 20e-6) ** compression
                        acc += d * d / (d * d + d50sq)
                held[c] = spont + (max_rate - spont) * acc / (b - a)
            out[j, c] = held[c]
    return out


def gammatone_filterbank(x: np.ndarray, sampling_period: float, fc: np.ndarray, erb_factor: float = 1.019):
    """Outputs [samples, channels] (units of ``x``) of the gammatone filters at ``fc`` (Hz) for the
    waveform ``x`` sampled every ``sampling_period`` ms, from rest (module docstring, step 1)."""
    fc = np.asarray(fc, dtype=float)
    ar, ai, norm = _coefficients(fc, 1000.0 / sampling_period, erb_factor)
    z = np.zeros((2, fc.size, 4))
    return _filter(np.ascontiguousarray(x, dtype=float), ar, ai, norm, z[0], z[1])


class CochleaEncoder(Encoder):
    """Auditory nerve fibres from a sound; see the module docstring.

    Parameters (units): ``stimulus`` [time] (``units`` "Pa" or "1"), ``sampling_period`` (ms),
    ``full_scale`` (Pa per unit for "1"), ``n_channels``, ``f_min``, ``f_max`` (Hz),
    ``erb_factor``, ``fibres_per_channel``, ``compression`` (exponent), ``spontaneous_rate``,
    ``max_rate`` (Hz), ``half_saturation_db`` (dB SPL), ``refractory_period`` (ms).
    """

    units_accepted = ("Pa", "1")
    stimulus_ndim = 1
    after_end = "zero"
    defaults = {"full_scale": 1.0, "n_channels": 32, "f_min": 100.0, "f_max": 6000.0, "erb_factor": 1.019,
                "fibres_per_channel": 5, "compression": 0.3, "spontaneous_rate": 50.0, "max_rate": 250.0,
                "half_saturation_db": 40.0, "refractory_period": 0.75}

    def _configure(self) -> None:
        period = self.p["sampling_period"]
        fs = 1000.0 / period
        self.n_channels = int(self._scalar("n_channels", 1, integer=True))
        f_min = self._scalar("f_min", 0.0, strict=True)
        f_max = self._scalar("f_max", f_min)
        if f_max >= fs / 2:
            raise ParameterError(self, "f_max", f"{f_max} Hz is not below the Nyquist frequency {fs / 2:g} Hz of "
                                 f"sampling_period {period} ms", f"f_max < {fs / 2:g} Hz, or a shorter sampling_period")
        erb_factor = self._scalar("erb_factor", 0.0, strict=True)
        self.fibres = int(self._scalar("fibres_per_channel", 1, integer=True))
        self.scale = self._scalar("full_scale", 0.0, strict=True) if self.p["units"] == "1" else 1.0
        self.compression = self._scalar("compression", 0.0, 1.0, strict=True)
        self.spont = self._scalar("spontaneous_rate", 0.0)
        self.max_rate = self._scalar("max_rate", self.spont)
        half = self._scalar("half_saturation_db", -50.0, 200.0)
        self.d50 = (P_REF * 10 ** (half / 20) * np.sqrt(2) / P_REF) ** self.compression
        self.refractory_ticks = int(np.ceil(self._scalar("refractory_period", 0.0) / self.dt - 1e-9))
        self.fc = erb_space(f_min, f_max, self.n_channels)
        self._ar, self._ai, self._norm = _coefficients(self.fc, fs, erb_factor)
        self.n = self.n_channels * self.fibres

    def _reset_state(self) -> None:
        self._z = np.zeros((2, self.n_channels, 4))
        self._held = np.full(self.n_channels, self.spont)
        self._last = np.full(self.n, np.iinfo(np.int64).min // 2, np.int64)

    def _state_arrays(self) -> dict:
        return {"filters": "_z", "held_rate": "_held", "last_spike": "_last"}

    def _bounds(self, k0: int, n: int) -> np.ndarray:
        """First sample index of grid intervals ``k0 .. k0+n`` (samples of tick k: times in [(k-1) dt, k dt))."""
        t = (np.arange(k0, k0 + n + 1, dtype=np.float64) - 1.0) * self.dt
        return np.maximum(np.ceil(t / self.p["sampling_period"] - 1e-9), 0).astype(np.int64)

    def rates(self, k0: int, n: int) -> np.ndarray:
        """Mean rate (Hz) of each channel's fibres for grid indices ``k0 .. k0+n-1`` [n, n_channels];
        advances the filters."""
        b = self._bounds(k0, n)
        x = self._sample_rows(np.arange(b[0], b[-1], dtype=np.int64)) * self.scale
        zr, zi = self._z[0].copy(), self._z[1].copy()
        y = _filter(np.ascontiguousarray(x, dtype=float), self._ar, self._ai, self._norm, zr, zi)
        self._z = np.stack([zr, zi])
        return _tick_rates(y, b - b[0], self._held, self.compression, self.d50, self.spont, self.max_rate)

    def _advance(self, k0: int, n: int) -> np.ndarray:
        rates = np.repeat(self.rates(k0, n), self.fibres, axis=1)
        return refractory_counts(self.key, rates, np.int64(k0), self.dt, self._last, np.int64(self.refractory_ticks))
