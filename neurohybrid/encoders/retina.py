"""A retina: centre-surround receptive fields, ON and OFF channels, a temporal filter,
rectification and spike generation, from a sequence of images.

Model (a linear-nonlinear-Poisson ganglion-cell layer)
------------------------------------------------------
1. *Contrast*: each frame is turned into contrast ``c = (I - background) / background``
   (Weber contrast; units ``"1"``: intensities in [0, 1], background 0.5 by default;
   ``"cd/m2"``: luminance, background the stimulus' mean by default) or used as is (units
   ``"contrast"``).
2. *Receptive fields*: ganglion cells sit on a square grid (``spacing`` pixels apart, centred
   on the image); cell j's linear response is ``x_j = sum_p D(p - p_j) c_p`` with the
   difference of Gaussians (Rodieck 1965; Enroth-Cugell & Robson 1966)
   ``D(r) = exp(-r^2 / 2 sc^2) / (2 pi sc^2) - w_s exp(-r^2 / 2 ss^2) / (2 pi ss^2)``
   sampled at pixel centres (``sigma_center`` = sc, ``sigma_surround`` = ss in pixels,
   ``surround_weight`` = w_s, the surround's integral relative to the centre's), truncated at
   3 ss; pixels outside the image count as background.
3. *Temporal filter*: ``y = L_fast(x) - biphasic_weight * L_slow(x)``, with L_tau a first-order
   low-pass of time constant tau (ms, exact per tick): biphasic (transient) for weights near
   1, low-pass (sustained) for 0.
4. *Rectification*: ON cells fire at ``clip(spontaneous_rate + gain * y, 0, max_rate)`` Hz, OFF
   cells at ``clip(spontaneous_rate - gain * y, 0, max_rate)`` (``gain`` in Hz per unit
   contrast-weighted response).
5. *Spikes*: ``generator="poisson"`` (keyed Poisson counts per channel and tick) or ``"lif"``
   (a deterministic leaky integrate-and-fire unit per channel, ``lif_tau`` ms, see
   :mod:`.spiking`).

Channels: ``n = 2 * rows * cols``; ON cells first (row-major over the grid), then OFF cells.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba import njit

from neurohybrid.errors import ParameterError

from .base import Encoder
from .spiking import GENERATORS, lif_counts, poisson_counts

__all__ = ["RetinaEncoder", "dog_kernel", "grid_centres"]


def grid_centres(size: int, spacing: float) -> np.ndarray:
    """Centre coordinates (pixels) of cells ``spacing`` apart along an axis of ``size`` pixels,
    the grid centred on the axis (integer positions when ``spacing`` is an integer)."""
    count = int(np.floor((size - 1) / spacing + 1e-9)) + 1
    offset = np.floor(((size - 1) - spacing * (count - 1)) / 2.0)
    return offset + spacing * np.arange(count)


def dog_kernel(dy: np.ndarray, dx: np.ndarray, sigma_center: float, sigma_surround: float,
               surround_weight: float) -> np.ndarray:
    """The difference of Gaussians (per unit contrast, per pixel) at offsets (dy, dx) in pixels."""
    r2 = dy * dy + dx * dx
    centre = np.exp(-r2 / (2 * sigma_center ** 2)) / (2 * np.pi * sigma_center ** 2)
    surround = np.exp(-r2 / (2 * sigma_surround ** 2)) / (2 * np.pi * sigma_surround ** 2)
    return centre - surround_weight * surround


@njit(cache=True)
def _temporal(resp, which, y1, y2, a1, a2, w, spont, gain, max_rate):
    """Rates [n, 2m] (Hz) of the ON and OFF cells for ticks whose frame response is
    ``resp[which[j]]``; the two low-pass states ``y1``, ``y2`` [m] are updated in place."""
    n = which.size
    m = resp.shape[1]
    out = np.empty((n, 2 * m))
    for j in range(n):
        x = resp[which[j]]
        for i in range(m):
            y1[i] = x[i] + (y1[i] - x[i]) * a1
            y2[i] = x[i] + (y2[i] - x[i]) * a2
            y = y1[i] - w * y2[i]
            out[j, i] = min(max(spont + gain * y, 0.0), max_rate)
            out[j, m + i] = min(max(spont - gain * y, 0.0), max_rate)
    return out


class RetinaEncoder(Encoder):
    """Retinal ganglion cells (ON and OFF) from images; see the module docstring.

    Parameters (units): ``stimulus`` [time, rows, cols] (``units`` "1", "contrast" or
    "cd/m2"), ``sampling_period`` (ms per frame), ``background`` (stimulus units; None: 0.5 for
    "1", the stimulus mean for "cd/m2"), ``sigma_center``, ``sigma_surround``, ``spacing``
    (pixels), ``surround_weight`` (dimensionless), ``tau_fast``, ``tau_slow`` (ms),
    ``biphasic_weight`` (dimensionless), ``gain`` (Hz per unit response), ``spontaneous_rate``,
    ``max_rate`` (Hz), ``generator`` ("poisson" or "lif"), ``lif_tau`` (ms), ``frame_shape``
    ((rows, cols): needed by a live retina, stimulus=None).
    """

    units_accepted = ("1", "contrast", "cd/m2")
    stimulus_ndim = 3
    defaults = {"background": None, "sigma_center": 1.0, "sigma_surround": 3.0, "surround_weight": 0.9,
                "spacing": 2.0, "tau_fast": 10.0, "tau_slow": 30.0, "biphasic_weight": 0.5, "gain": 150.0,
                "spontaneous_rate": 10.0, "max_rate": 300.0, "generator": "poisson", "lif_tau": 20.0,
                "frame_shape": None}

    def _configure(self) -> None:
        p = self.p
        if self._samples is None and p["frame_shape"] is None:
            raise ParameterError(self, "frame_shape", "a live retina (stimulus=None) without its frame shape",
                                 "frame_shape=(rows, cols)")
        rows, cols = self.frame_shape
        self.sigma_c = self._scalar("sigma_center", 0.0, strict=True)
        self.sigma_s = self._scalar("sigma_surround", self.sigma_c, strict=True)
        self.w_s = self._scalar("surround_weight", 0.0)
        spacing = self._scalar("spacing", 0.0, strict=True)
        self.tau_fast = self._scalar("tau_fast", 0.0, strict=True)
        self.tau_slow = self._scalar("tau_slow", 0.0, strict=True)
        self.w_t = self._scalar("biphasic_weight", 0.0)
        self.gain = self._scalar("gain", 0.0)
        self.spont = self._scalar("spontaneous_rate", 0.0)
        self.max_rate = self._scalar("max_rate", 0.0)
        self.generator = self._choice("generator", GENERATORS)
        self.lif_tau = self._scalar("lif_tau", 0.0, strict=True)
        bg = p["background"]
        units = p["units"]
        if units == "contrast":
            self.background = None
        elif bg is None or (np.ndim(bg) == 0 and np.isnan(float(bg))):
            if units == "1":
                self.background = 0.5
            elif self._samples is not None:
                self.background = float(self._samples.mean())
            else:
                raise ParameterError(self, "background", "a live retina in cd/m2 without a background luminance",
                                     "background=<cd/m2 > 0>")
        else:
            self.background = self._scalar("background", 0.0, strict=True)
        if self.background is not None and not self.background > 0:
            raise ParameterError(self, "background", f"{self.background!r}", "a background intensity > 0")
        self.centres_y, self.centres_x = grid_centres(rows, spacing), grid_centres(cols, spacing)
        self.grid = (self.centres_y.size, self.centres_x.size)
        self.cells = self.grid[0] * self.grid[1]
        self.n = 2 * self.cells
        self.weights = self._receptive_fields(rows, cols)

    def _receptive_fields(self, rows: int, cols: int) -> sp.csr_matrix:
        """The DoG weights [cells, rows * cols] (per unit contrast), truncated at 3 sigma_surround."""
        reach = int(np.ceil(3 * self.sigma_s))
        off = np.arange(-reach, reach + 1)
        dy, dx = np.meshgrid(off, off, indexing="ij")
        cy, cx = np.meshgrid(self.centres_y, self.centres_x, indexing="ij")
        # fractional centres (non-integer spacing) are handled by evaluating D at the exact offsets
        base_y, base_x = np.floor(cy).ravel().astype(int), np.floor(cx).ravel().astype(int)
        py = base_y[:, None] + dy.ravel()[None, :]
        px = base_x[:, None] + dx.ravel()[None, :]
        values = dog_kernel(py - cy.ravel()[:, None], px - cx.ravel()[:, None], self.sigma_c, self.sigma_s, self.w_s)
        inside = (py >= 0) & (py < rows) & (px >= 0) & (px < cols)
        cell = np.broadcast_to(np.arange(self.cells)[:, None], py.shape)
        return sp.csr_matrix((values[inside], (cell[inside], (py * cols + px)[inside])),
                             shape=(self.cells, rows * cols))

    def receptive_field(self, cell: int) -> np.ndarray:
        """The configured DoG of ON cell ``cell`` as an image [rows, cols] (per unit contrast)."""
        return self.weights[cell].toarray().reshape(self.frame_shape)

    def _contrast(self, frames: np.ndarray) -> np.ndarray:
        if self.background is None:
            return frames
        return frames / self.background - 1.0

    def _reset_state(self) -> None:
        self._y1 = np.zeros(self.cells)
        self._y2 = np.zeros(self.cells)
        self._v = np.zeros(self.n)
        self._cache = (-1, None)

    def _samples_changed(self) -> None:
        self._cache = (-1, None)

    def _state_arrays(self) -> dict:
        return {"y_fast": "_y1", "y_slow": "_y2", "lif_v": "_v"}

    def _responses(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(responses [u, cells] of the distinct frames, row of each tick)."""
        uniq, which = np.unique(frames, return_inverse=True)
        resp = np.empty((uniq.size, self.cells))
        todo = np.ones(uniq.size, bool)
        if self._cache[0] in uniq:  # the frame held over from the last window
            r = int(np.searchsorted(uniq, self._cache[0]))
            resp[r], todo[r] = self._cache[1], False
        if todo.any():
            images = self._contrast(self._sample_rows(uniq[todo])).reshape(int(todo.sum()), -1)
            resp[todo] = (self.weights @ images.T).T
        arrived = self._samples is not None and uniq[-1] < self._samples.shape[0]
        self._cache = (int(uniq[-1]), resp[-1].copy()) if arrived else (-1, None)  # never cache a late frame
        return resp, which.astype(np.int64)

    def rates(self, k0: int, n: int) -> np.ndarray:
        """Firing rates [n, channels] (Hz) of grid indices ``k0 .. k0+n-1``; advances the filters."""
        resp, which = self._responses(self.frame_of_ticks(k0, n))
        a1, a2 = np.exp(-self.dt / self.tau_fast), np.exp(-self.dt / self.tau_slow)
        return _temporal(resp, which, self._y1, self._y2, a1, a2, self.w_t, self.spont, self.gain, self.max_rate)

    def _advance(self, k0: int, n: int) -> np.ndarray:
        rates = self.rates(k0, n)
        if self.generator == "lif":
            return lif_counts(rates, self._v, self.lif_tau, self.dt)
        return poisson_counts(self.key, rates, np.int64(k0), self.dt)
