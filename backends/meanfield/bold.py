"""BOLD monitor: the Balloon–Windkessel ODE (Friston et al. 2000, NeuroImage 12:466; Friston
et al. 2003), NOT TVB's default ``monitors.Bold`` (which convolves with a first-order Volterra
HRF kernel). The neural drive z is the region's variable of interest averaged over
``interim_period`` ms by the simulation kernel; the haemodynamic state (s, f, v, q) is
integrated with Euler steps of ``interim_period`` and sampled every ``period`` ms (the TR).

  ds/dt = z - kappa s - gamma (f - 1)          (vasodilatory signal)
  df/dt = s                                     (inflow)
  tau dv/dt = f - v^(1/alpha)                   (volume)
  tau dq/dt = f (1 - (1 - E0)^(1/f)) / E0 - v^(1/alpha) q / v      (deoxyhaemoglobin)
  BOLD = V0 (k1 (1 - q) + k2 (1 - q / v) + k3 (1 - v)),  k1 = 7 E0, k2 = 2, k3 = 2 E0 - 0.2

Haemodynamic rate constants are per second (the ODE runs in s internally; the API is in ms).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from neurohybrid.errors import ParameterError

from .monitors import TimeSeries


@njit(cache=True)
def _balloon(z, h, dt_s, kappa, gamma, tau, alpha, E0, scale, out):
    T, N = z.shape
    ia = 1.0 / alpha
    for t in range(T):
        for i in range(N):
            s, f, v, q = h[0, i], h[1, i], h[2, i], h[3, i]
            vpow = v ** ia
            ds = scale * z[t, i] - kappa * s - gamma * (f - 1.0)
            df = s
            dv = (f - vpow) / tau
            dq = (f * (1.0 - (1.0 - E0) ** (1.0 / f)) / E0 - vpow * q / v) / tau
            h[0, i] = s + dt_s * ds
            h[1, i] = max(f + dt_s * df, 1e-6)  # flow stays positive
            h[2, i] = max(v + dt_s * dv, 1e-6)
            h[3, i] = max(q + dt_s * dq, 1e-6)
            v2, q2 = h[2, i], h[3, i]
            out[t, i] = (7.0 * E0 * (1.0 - q2) + 2.0 * (1.0 - q2 / v2) + (2.0 * E0 - 0.2) * (1.0 - v2))


@dataclass
class Bold:
    """Balloon–Windkessel BOLD monitor.

    period : sampling period (TR) in ms, a multiple of ``interim_period`` (default 2000 ms).
    interim_period : drive averaging and ODE step in ms, a multiple of dt (default 1 ms).
    variables : the model variable driving it (default: the model's first variable of interest).
    scale : gain from the neural variable to the vasodilatory signal (1/s per unit of z).
    kappa (1/s), gamma (1/s), tau (s), alpha, E0, V0 : Friston et al. 2003 values.
    Output: BOLD signal (fractional signal change, dimensionless), shape (T, 1, n_regions),
    stamped at the end of each TR.
    """
    period: float = 2000.0
    interim_period: float = 1.0
    variables: tuple | None = None
    scale: float = 1.0
    kappa: float = 0.65
    gamma: float = 0.41
    tau: float = 0.98
    alpha: float = 0.32
    E0: float = 0.34
    V0: float = 0.02
    name: str = "bold"

    def _configure(self, n_regions, interim_ms):
        ratio = self.period / interim_ms
        if abs(ratio - round(ratio)) > 1e-9 or round(ratio) < 1:
            raise ParameterError(f"Bold({self.name})", "period", f"{self.period} ms",
                                 f"a whole multiple of interim_period={interim_ms} ms")
        self._every = int(round(ratio))
        self._interim_s = interim_ms / 1000.0
        self._h = np.vstack([np.zeros(n_regions), np.ones((3, n_regions))])  # s=0, f=v=q=1: rest
        self._count = 0
        if self.variables is None:
            self.variables = None  # the simulation passes the model default; only the first is used

    def _ingest(self, t, z, names, labels):
        z = np.ascontiguousarray(z[:, 0, :])
        y = np.empty_like(z)
        _balloon(z, self._h, self._interim_s, self.kappa, self.gamma, self.tau, self.alpha, self.E0, self.scale, y)
        y *= self.V0
        # interim sample j (global count) ends at t[j] + interim/2; keep those ending a TR
        idx = np.nonzero((self._count + np.arange(1, len(z) + 1)) % self._every == 0)[0]
        self._count += len(z)
        t_end = t[idx] + self._interim_s * 500.0
        return TimeSeries(t_end, y[idx][:, None, :], ("BOLD(" + names[0] + ")",), list(labels))
