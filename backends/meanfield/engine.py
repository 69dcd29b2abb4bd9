"""Mean-field (neural-mass) simulation on a connectome with conduction delays, TVB semantics.

One numba kernel advances every region over a whole run (chunks of up to ``CHUNK`` steps; only
the noise for the next chunk is drawn in Python). Semantics follow TVB 2.10's region
``Simulator`` step by step:

* delays in whole steps, ``idelays = rint(lengths / speed / dt)``; a history ring buffer of
  ``max(idelays) + 1`` slots holds the coupling variables;
* the coupling that drives step ``k`` reads ``x_j`` at step ``k - 1 - idelay[i, j]`` and ``x_i`` at
  step ``k - 1``; it is held constant through both Heun stages (as TVB does);
* ``weights[i, j]`` is j -> i; only non-zero weights are visited (TVB's SparseHistory);
* state-variable boundaries are applied after the predictor and after the corrector;
* additive noise: ``sqrt(dt) * sqrt(2 * nsig) * N(0, 1)``, the same sample added to the Heun
  predictor and corrector (TVB ``HeunStochastic`` + ``noise.Additive``).
The history before t = 0 is constant, equal to the initial state (TVB with an explicit constant
``initial_conditions`` array of ``horizon`` samples).

Units: ms for time and dt, mm/ms (= m/s) for speed, mm for tract lengths.

Split as TVB splits its simulator: the coupling functions are in ``coupling.py``, the
integrators in ``integrators.py``, the monitors (and :class:`TimeSeries`) in ``monitors.py``
and ``bold.py``; this module holds the kernel and :class:`MeanFieldSimulation`, and still
offers the names once defined here (``from ...meanfield.engine import Linear`` keeps working).
"""
from __future__ import annotations

import copy
import math

import numpy as np
from numba import njit
from numba.typed import List as NumbaList

from neurohybrid.errors import CausalityError, ParameterError, SimulationStateError, UnsupportedModelError

from .bold import Bold
from .connectome import Connectome
from .coupling import Coupling, Difference, KuramotoCoupling, Linear, Sigmoidal, SigmoidalJansenRit
from .integrators import EulerDeterministic, EulerStochastic, HeunDeterministic, HeunStochastic
from .models import NeuralMassModel
from .monitors import Raw, TemporalAverage, TimeSeries

#: What this module offers: the simulation, and the names defined here before the split.
__all__ = ["MeanFieldSimulation", "CHUNK", "Coupling", "Linear", "Sigmoidal", "Difference", "KuramotoCoupling",
           "SigmoidalJansenRit", "HeunDeterministic", "EulerDeterministic", "HeunStochastic", "EulerStochastic",
           "Raw", "TemporalAverage", "TimeSeries"]

CHUNK = 20000  # steps per kernel call: bounds the pre-drawn noise to CHUNK x n x nvar doubles


def _whole_steps(obj, parameter, value_ms, dt):
    """A time in ms as a whole number of steps of ``dt``; off-grid -> ParameterError."""
    n = int(round(value_ms / dt))
    if n < 1 or abs(n * dt - value_ms) > 1e-9 * max(1.0, abs(value_ms)):
        raise ParameterError(obj, parameter, f"{value_ms!r} ms is not a positive whole multiple of dt={dt} ms",
                             f"a multiple of {dt} ms")
    return n


# ------------------------------------------------------------------------------ kernel
# not cached: numba cannot reuse a cache entry for a kernel taking a model's dfun as an argument
# (it writes a new entry every process); compiling takes ~1 s per model
@njit(nogil=True)
def _gating(S, rate, tau, gamma, saturating):
    return -S / tau + ((1.0 - S) if saturating else 1.0) * gamma * rate


@njit(cache=False, nogil=True)  # nogil: the co-simulation kernel overlaps it with other engines
def _kernel(dfun, P, lo, hi, x, buf, k0, n, cv, row_ptr, col, w, dl, ctype, cpar, scheme, dt, noise,
            m_istep, m_mode, m_voi, m_nvoi, m_acc, outs, m_widx,
            rep_idx, is_rep, rep_x, rep_var, rep_mode, rep_tau, rep_gam, rep_sat, rep_scale, rep_in, lag, c_out,
            rep_off, rep_sig):
    """``n`` steps from step ``k0``. Replaced regions (``rep_idx``; see ``MeanFieldSimulation.replace``)
    are integrated ``lag`` steps behind the others from the external rates ``rep_in`` (n, n_rep, n_ch; Hz),
    and their coupling input is computed ``lag`` steps ahead into ``c_out`` (n, n_rep, ncv). Seam modes
    (``rep_mode``): 0 gating, 1 direct (``scale·r + rep_off``), 2 sigmoid (the inverse of the sigmoid
    ``rep_sig[a, ch]`` = (cmin, cmax, v0, rho) at ``scale·r``; see ``SeamChannel``)."""
    N, nvar = x.shape
    n_rep = rep_idx.size
    n_ch = rep_var.size
    H = buf.shape[0]
    ncv = cv.size
    c = np.zeros((N, ncv))
    d1 = np.empty((N, nvar))
    d2 = np.empty((N, nvar))
    inter = np.empty((N, nvar))
    has_noise = noise.shape[0] > 0
    M = m_istep.size
    ne = col.size
    eslot = np.empty(ne, dtype=np.int64)
    for s in range(n):
        k = k0 + s + 1
        cur = (k - 1) % H
        # delayed long-range coupling from the ring buffer
        # ring slot of x_j(k - 1 - d), without a modulo per edge (dl <= H - 1)
        for e in range(ne):
            r = cur - dl[e]
            eslot[e] = r + H if r < 0 else r
        if ctype == 4:  # SigmoidalJansenRit: one input from two coupling variables
            for i in range(N):
                acc = 0.0
                for e in range(row_ptr[i], row_ptr[i + 1]):
                    j, sl = col[e], eslot[e]
                    acc += w[e] * (cpar[0] + (cpar[1] - cpar[0]) /
                                   (1.0 + math.exp(cpar[3] * (cpar[2] - (buf[sl, j, 0] - buf[sl, j, 1])))))
                c[i, 0] = cpar[4] * acc
                for q in range(1, ncv):
                    c[i, q] = 0.0
        for i in range(N if ctype != 4 else 0):
            for q in range(ncv):
                xi = buf[cur, i, q]
                acc = 0.0
                if ctype == 2:
                    for e in range(row_ptr[i], row_ptr[i + 1]):
                        acc += w[e] * (buf[eslot[e], col[e], q] - xi)
                elif ctype == 3:
                    for e in range(row_ptr[i], row_ptr[i + 1]):
                        acc += w[e] * math.sin(buf[eslot[e], col[e], q] - xi)
                else:
                    for e in range(row_ptr[i], row_ptr[i + 1]):
                        acc += w[e] * buf[eslot[e], col[e], q]
                if ctype == 0:
                    c[i, q] = cpar[0] * acc + cpar[1]
                elif ctype == 1:
                    c[i, q] = cpar[0] + (cpar[1] - cpar[0]) / (1.0 + math.exp(-cpar[3] * ((acc - cpar[2]) / cpar[4])))
                else:
                    c[i, q] = cpar[0] * acc
        # coupling of the replaced regions, ``lag`` steps ahead: x_j(k + lag - 1 - d), d >= lag
        for a in range(n_rep):
            i = rep_idx[a]
            for q in range(ncv):
                acc = 0.0
                if ctype == 4:  # SigmoidalJansenRit: one input from the two coupling variables
                    if q == 0:
                        for e in range(row_ptr[i], row_ptr[i + 1]):
                            sl = eslot[e] + lag
                            sl = sl - H if sl >= H else sl
                            acc += w[e] * (cpar[0] + (cpar[1] - cpar[0]) /
                                           (1.0 + math.exp(cpar[3] * (cpar[2] - (buf[sl, col[e], 0] -
                                                                                  buf[sl, col[e], 1])))))
                    c_out[s, a, q] = cpar[4] * acc
                    continue
                for e in range(row_ptr[i], row_ptr[i + 1]):
                    sl = eslot[e] + lag
                    acc += w[e] * buf[sl - H if sl >= H else sl, col[e], q]
                if ctype == 1:
                    c_out[s, a, q] = cpar[0] + (cpar[1] - cpar[0]) / (1.0 + math.exp(-cpar[3] * ((acc - cpar[2]) / cpar[4])))
                else:
                    c_out[s, a, q] = cpar[0] * acc + cpar[1]
        # one integration step
        dfun(x, c, P, d1)
        if scheme == 0:
            for i in range(N):
                for v in range(nvar):
                    y = x[i, v] + dt * d1[i, v]
                    if has_noise:
                        y += noise[s, i, v]
                    x[i, v] = min(max(y, lo[v]), hi[v])
        else:
            for i in range(N):
                for v in range(nvar):
                    y = x[i, v] + dt * d1[i, v]
                    if has_noise:
                        y += noise[s, i, v]
                    inter[i, v] = min(max(y, lo[v]), hi[v])
            dfun(inter, c, P, d2)
            for i in range(N):
                for v in range(nvar):
                    y = x[i, v] + (d1[i, v] + d2[i, v]) * dt / 2.0
                    if has_noise:
                        y += noise[s, i, v]
                    x[i, v] = min(max(y, lo[v]), hi[v])
        # replaced regions: state at step k - lag from the measured rates (history before that)
        if k > lag:
            for a in range(n_rep):
                for ch in range(n_ch):
                    v = rep_var[ch]
                    S = rep_x[a, v]
                    rate = rep_in[s, a, ch] * rep_scale[ch]
                    if rep_mode[ch] == 1:
                        S = rate + rep_off[ch]
                    elif rep_mode[ch] == 2:
                        cmin, cmax, v0, rho = rep_sig[a, ch, 0], rep_sig[a, ch, 1], rep_sig[a, ch, 2], rep_sig[a, ch, 3]
                        eps = 1e-9 * (cmax - cmin)
                        u = min(max(rate, cmin + eps), cmax - eps)
                        S = v0 - math.log((cmax - cmin) / (u - cmin) - 1.0) / rho
                    else:
                        f1 = _gating(S, rate, rep_tau[a, ch], rep_gam[a, ch], rep_sat[ch])
                        S1 = min(max(S + dt * f1, lo[v]), hi[v])
                        if scheme == 0:
                            S = S1
                        else:
                            S = S + dt / 2.0 * (f1 + _gating(S1, rate, rep_tau[a, ch], rep_gam[a, ch], rep_sat[ch]))
                    rep_x[a, v] = min(max(S, lo[v]), hi[v])
        for a in range(n_rep):
            for v in range(nvar):
                x[rep_idx[a], v] = rep_x[a, v]
        slot = k % H
        for i in range(N):
            if is_rep[i]:
                continue
            for q in range(ncv):
                buf[slot, i, q] = x[i, cv[q]]
        if k > lag:
            lslot = (k - lag) % H
            for a in range(n_rep):
                for q in range(ncv):
                    buf[lslot, rep_idx[a], q] = rep_x[a, cv[q]]
        # monitors
        for m in range(M):
            ist = m_istep[m]
            if m_mode[m] == 1:
                for a in range(m_nvoi[m]):
                    for i in range(N):
                        m_acc[m, a, i] += x[i, m_voi[m, a]]
            if k % ist == 0:
                out = outs[m]
                r = m_widx[m]
                for a in range(m_nvoi[m]):
                    for i in range(N):
                        if m_mode[m] == 1:
                            out[r, a, i] = m_acc[m, a, i] / ist
                            m_acc[m, a, i] = 0.0
                        else:
                            out[r, a, i] = x[i, m_voi[m, a]]
                m_widx[m] = r + 1


# ------------------------------------------------------------------------------ simulation
class MeanFieldSimulation:
    """A neural-mass model on every region of a connectome, TVB semantics.

    Parameters
    ----------
    connectome : :class:`Connectome` (weights j -> i, tract lengths mm).
    model : a :class:`~neurohybrid.backends.meanfield.models.NeuralMassModel` instance.
    coupling : :class:`Linear` (default), :class:`Sigmoidal`, :class:`Difference`, :class:`KuramotoCoupling`.
    speed : conduction speed in mm/ms (= m/s); TVB's default 3.0. ``inf`` means no delays.
    dt : integration step in ms (default 0.1).
    integrator : :class:`HeunDeterministic` (default), :class:`EulerDeterministic`,
        :class:`HeunStochastic`, :class:`EulerStochastic`.
    monitors : sequence of :class:`Raw`, :class:`TemporalAverage`, :class:`~.bold.Bold`.
    initial_state : (nvar, n_regions) or (nvar,) array, the state at t = 0 and (constant) history
        before it; None draws it uniformly from the model's ``state_variable_range`` with ``seed``.
    """

    def __init__(self, connectome: Connectome, model: NeuralMassModel, coupling: Coupling | None = None,
                 speed: float = 3.0, dt: float = 0.1, integrator=None, monitors=None,
                 initial_state=None, seed: int = 0):
        name = "MeanFieldSimulation"
        if not isinstance(connectome, Connectome):
            raise ParameterError(name, "connectome", f"got {type(connectome).__name__}", "a Connectome")
        if not isinstance(model, NeuralMassModel):
            raise ParameterError(name, "model", f"got {type(model).__name__}", "a NeuralMassModel instance")
        coupling = Linear() if coupling is None else coupling
        if not isinstance(coupling, Coupling):
            raise ParameterError(name, "coupling", f"got {type(coupling).__name__}",
                                 "Linear, Sigmoidal, Difference, KuramotoCoupling or SigmoidalJansenRit")
        if coupling.kind == 4 and len(model.cvar) != 2:
            raise ParameterError(name, "coupling", "SigmoidalJansenRit needs a model with two coupling variables",
                                 "JansenRit")
        if not (np.isfinite(dt) and dt > 0):
            raise ParameterError(name, "dt", f"{dt!r}", "a finite step > 0 in ms")
        integrator = HeunDeterministic() if integrator is None else integrator
        if not isinstance(integrator, (HeunDeterministic, EulerDeterministic, HeunStochastic)):
            raise ParameterError(name, "integrator", f"got {type(integrator).__name__}",
                                 "HeunDeterministic, EulerDeterministic, HeunStochastic, EulerStochastic")
        monitors = [Raw()] if monitors is None else list(monitors)
        self.connectome, self.model, self.coupling, self.dt = connectome, model, coupling, float(dt)
        self.integrator, self.monitors = integrator, monitors
        self.speed = float(speed)
        N, nvar = connectome.n_regions, model.nvar
        if self.speed == np.inf:
            idel = np.zeros((N, N), dtype=np.int64)
        else:
            idel = connectome.idelays(self.speed, self.dt)
        mask = connectome.weights != 0.0
        rows, cols = np.nonzero(mask)  # row-major order: grouped by target i
        self._row_ptr = np.zeros(N + 1, dtype=np.int64)
        np.add.at(self._row_ptr, rows + 1, 1)
        self._row_ptr = np.cumsum(self._row_ptr)
        self._col = cols.astype(np.int64)
        self._w = connectome.weights[rows, cols].astype(np.float64)
        self._dl = idel[rows, cols].astype(np.int64)
        self.horizon = int(self._dl.max()) + 1 if self._dl.size else 1
        self._P = model.parameter_matrix(N)
        self._lo, self._hi = model.bounds()
        self._cv = np.array(model.cvar, dtype=np.int64)
        self._cpar = coupling.vector()
        # initial state / history
        if initial_state is None:
            x0 = model.random_initial(N, np.random.default_rng(seed))
        else:
            x0 = np.array(initial_state, dtype=float)
            if x0.shape == (nvar,):
                x0 = np.repeat(x0[:, None], N, axis=1)
            if x0.shape != (nvar, N) or not np.all(np.isfinite(x0)):
                raise ParameterError(name, "initial_state", f"shape {x0.shape} or non-finite values",
                                     f"finite ({nvar}, {N}) or ({nvar},) array")
            x0 = np.clip(x0, self._lo[:, None], self._hi[:, None])
        self._x = np.ascontiguousarray(x0.T)  # (N, nvar): one region's state contiguous for dfun
        self._buf = np.repeat(self._x[None][:, :, self._cv], self.horizon, axis=0).copy()
        self.step = 0
        # noise
        if integrator.stochastic:
            nsig = np.asarray(integrator.nsig, dtype=float)
            if nsig.ndim == 0:
                nsig = np.full((nvar, N), float(nsig))
            elif nsig.shape == (nvar,):
                nsig = np.repeat(nsig[:, None], N, axis=1)
            if nsig.shape != (nvar, N) or np.any(nsig < 0) or not np.all(np.isfinite(nsig)):
                raise ParameterError("HeunStochastic", "nsig", f"shape {nsig.shape} or negative/non-finite",
                                     f"finite >= 0 scalar, ({nvar},) or ({nvar}, {N})")
            self._noise_scale = np.sqrt(self.dt) * np.sqrt(2.0 * nsig.T)  # (N, nvar)
            self._rng = np.random.default_rng(integrator.seed)
        # monitors
        self._mon = []
        names = set()
        for mon in monitors:
            if not isinstance(mon, (Raw, TemporalAverage, Bold)):
                raise ParameterError(name, "monitors", f"unsupported monitor {type(mon).__name__}",
                                     "Raw, TemporalAverage, Bold")
            if mon.name in names:
                raise ParameterError(name, "monitors", f"two monitors named {mon.name!r}", "unique monitor names")
            names.add(mon.name)
            voi = model.voi_indices(mon.variables)
            if isinstance(mon, Bold):
                istep = _whole_steps(f"Bold({mon.name})", "interim_period", mon.interim_period, self.dt)
                mon._configure(N, istep * self.dt)
                mode = 1
            else:
                istep = 1 if mon.period is None else _whole_steps(f"{type(mon).__name__}({mon.name})", "period",
                                                                   mon.period, self.dt)
                mode = mon.mode
            self._mon.append((mon, istep, mode, voi))
        M = len(self._mon)
        maxv = max([len(v) for *_, v in self._mon] + [1])
        self._m_istep = np.array([m[1] for m in self._mon], dtype=np.int64)
        self._m_mode = np.array([m[2] for m in self._mon], dtype=np.int64)
        self._m_voi = np.zeros((M, maxv), dtype=np.int64)
        self._m_nvoi = np.array([len(m[3]) for m in self._mon], dtype=np.int64)
        for m, (*_, voi) in enumerate(self._mon):
            self._m_voi[m, :len(voi)] = voi
        self._m_acc = np.zeros((M, maxv, N))
        self._no_replacement()
        self._outs_cache: dict = {}

    # ---------------------------------------------------------------- replaced regions
    def _no_replacement(self) -> None:
        nvar, ncv = self.model.nvar, self._cv.size
        self.replaced: list[int] = []
        self.lag = 0
        self._rep_idx = np.zeros(0, np.int64)
        self._is_rep = np.zeros(self.connectome.n_regions, np.bool_)
        self._rep_x = np.zeros((0, nvar))
        self._rep_var = np.zeros(0, np.int64)
        self._rep_mode = np.zeros(0, np.int64)
        self._rep_tau = np.ones((0, 0))
        self._rep_gam = np.zeros((0, 0))
        self._rep_sat = np.zeros(0, np.bool_)
        self._rep_scale = np.zeros(0)
        self._rep_off = np.zeros(0)
        self._rep_sig = np.zeros((0, 0, 4))
        self.afferent = np.zeros((0, 0, ncv))

    def replace(self, regions, lag_steps: int) -> None:
        """Hand ``regions`` (indices) over to external circuits, before the first run.

        A replaced region's own dynamics stop: its ``model.spike_seam`` variables are driven by
        rates (Hz) given to :meth:`run`, and its coupling input is reported in :attr:`afferent`.
        Both happen ``lag_steps`` ahead of the region's use by the others, which is what lets a
        co-simulation exchange data every ``lag_steps`` steps without adding any delay: the state
        of a replaced region is computed ``lag_steps`` behind the rest (its rates arrive that late)
        and its coupling input ``lag_steps`` early (so it reaches the circuit in time). That is
        exact as long as every conduction delay into or out of a replaced region is at least
        ``lag_steps`` (at least twice that between two replaced regions); a shorter one is a
        :class:`CausalityError`. A replaced region's self-connection is dropped (its circuit's
        own recurrence replaces it).
        """
        name = "MeanFieldSimulation.replace"
        if self.step:
            raise SimulationStateError(name, "regions", f"the simulation is already at t = {self.time} ms",
                                       "replace() before the first run")
        if not self.model.spike_seam:
            from .models import seam_models
            raise UnsupportedModelError(type(self.model).__name__, "spike_seam",
                                        "this model has no seam: no state variable is a rate, a rate-driven "
                                        "gating or a potential with a firing-rate sigmoid, so spikes cannot stand "
                                        "in for it", ", ".join(seam_models()))
        if self.coupling.kind not in (0, 1, 4):
            raise UnsupportedModelError(name, "coupling", f"{type(self.coupling).__name__} needs the replaced "
                                        "region's own state", "Linear, Sigmoidal or SigmoidalJansenRit coupling")
        N = self.connectome.n_regions
        idx = [int(r) for r in np.atleast_1d(regions)]
        for r in idx:
            if not 0 <= r < N:
                raise ParameterError(name, "regions", f"region index {r}", f"0 <= index < {N}")
        if len(set(idx)) != len(idx):
            raise ParameterError(name, "regions", "a region is replaced twice", "distinct regions")
        lag = int(lag_steps)
        if lag < 1:
            raise ParameterError(name, "lag_steps", f"{lag_steps!r}", "a positive number of steps")
        rep = np.zeros(N, np.bool_)
        rep[idx] = True
        rows = np.repeat(np.arange(N), np.diff(self._row_ptr))
        keep = ~(rep[rows] & (rows == self._col))  # drop replaced self-connections
        rows, col, w, dl = rows[keep], self._col[keep], self._w[keep], self._dl[keep]
        need = np.where(rep[rows] & rep[col], 2 * lag, np.where(rep[rows] | rep[col], lag, 0))
        bad = np.flatnonzero(dl < need)
        if bad.size:
            e = bad[np.argmin(dl[bad])]
            lab = self.connectome.labels
            raise CausalityError(f"{lab[col[e]]} -> {lab[rows[e]]}", "delay",
                                 f"{dl[e] * self.dt:g} ms is shorter than the exchange interval of {need[e] * self.dt:g} ms "
                                 "between the mean-field engine and the replacing circuit",
                                 f"conduction delays >= {need[e] * self.dt:g} ms on connections of replaced regions "
                                 "(a smaller exchange interval, or a lower speed)")
        self._row_ptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=N))]).astype(np.int64)
        self._col, self._w, self._dl = col, w, dl
        seam = self.model.spike_seam
        names = self.model.state_variables
        self.replaced, self.lag = idx, lag
        self._rep_idx = np.array(idx, np.int64)
        self._is_rep = rep
        self._rep_x = self._x[self._rep_idx].copy()
        self._rep_var = np.array([names.index(ch.variable) for ch in seam], np.int64)
        self._rep_mode = np.array([{"gating": 0, "direct": 1, "sigmoid": 2}[ch.mode] for ch in seam], np.int64)
        pcol = self.model.param_names.index
        self._rep_tau = np.array([[self._P[r, pcol(ch.tau)] if ch.tau else 1.0 for ch in seam] for r in idx])
        self._rep_gam = np.array([[self._P[r, pcol(ch.gamma)] if ch.gamma else 0.0 for ch in seam] for r in idx])
        self._rep_sat = np.array([ch.saturating for ch in seam], np.bool_)
        self._rep_scale = np.array([ch.scale for ch in seam])
        self._rep_off = np.array([ch.offset for ch in seam])
        self._rep_sig = np.array([[self._sigmoid(r, ch) for ch in seam] for r in idx]).reshape(len(idx), len(seam), 4)
        for ch in seam:  # variables a channel holds at 0 (JansenRit: y2, so that y1 - y2 = y1 from now on)
            k = names.index(ch.variable)
            for v in ch.zero:
                z = names.index(v)
                self._rep_x[:, k] -= self._rep_x[:, z]  # the same difference y1 - y2 before the first rates
                self._rep_x[:, z] = 0.0
        if any(ch.zero for ch in seam):
            self._x[self._rep_idx] = self._rep_x
            self._buf[:, self._rep_idx] = self._rep_x[:, self._cv]

    def _sigmoid(self, region: int, ch) -> tuple:
        """(cmin, cmax, v0, rho) of the firing-rate sigmoid a ``"sigmoid"`` channel inverts: the
        coupling's (SigmoidalJansenRit, which is what the other regions read) or the model's own
        (0, 2·nu_max, v0, r) of ``region``; zeros for other channels."""
        if ch.mode != "sigmoid":
            return (0.0, 0.0, 0.0, 0.0)
        if self.coupling.kind == 4:
            p = self._cpar
            return (p[0], p[1], p[2], p[3])
        col = self.model.param_names.index
        P = self._P[region]
        return (0.0, 2.0 * P[col("nu_max")], P[col("v0")], P[col("r")])

    def history_afferent(self) -> np.ndarray:
        """(n_replaced, n_coupling_vars): the coupling input of each replaced region computed
        from the history before t = 0 (the constant initial state), which drives its first
        ``lag`` steps. Only meaningful before the first run."""
        x0 = self._buf[0]  # every history slot holds the initial coupling variables
        out = np.zeros((self._rep_idx.size, self._cv.size))
        for a, i in enumerate(self._rep_idx):
            lo, hi = self._row_ptr[i], self._row_ptr[i + 1]
            acc = self._w[lo:hi] @ x0[self._col[lo:hi]]
            if self.coupling.kind == 1:
                p = self._cpar
                out[a] = p[0] + (p[1] - p[0]) / (1.0 + np.exp(-p[3] * ((acc - p[2]) / p[4])))
            elif self.coupling.kind == 4:  # the afferent pyramidal rate through the coupling's sigmoid
                p, x = self._cpar, x0[self._col[lo:hi]]
                out[a] = 0.0
                out[a, 0] = p[4] * (self._w[lo:hi] @ (p[0] + (p[1] - p[0]) / (1.0 + np.exp(p[3] * (p[2] - (x[:, 0] - x[:, 1]))))))
            else:
                out[a] = self._cpar[0] * acc + self._cpar[1]
        return out

    def snapshot(self) -> dict:
        """Everything that evolves during a run (state, history, monitor accumulators, noise
        generator, BOLD state), deep-copied; :meth:`restore` returns to it."""
        snap = {"step": self.step, "x": self._x.copy(), "buf": self._buf.copy(), "rep_x": self._rep_x.copy(),
                "m_acc": self._m_acc.copy(),
                "bold": [(m._h.copy(), m._count) for m, *_ in self._mon if hasattr(m, "_h")]}
        if self.integrator.stochastic:
            snap["rng"] = copy.deepcopy(self._rng.bit_generator.state)
        return snap

    def restore(self, snap: dict) -> None:
        """Return to a :meth:`snapshot` of this simulation."""
        if snap["x"].shape != self._x.shape or snap["rep_x"].shape != self._rep_x.shape:
            raise ParameterError("MeanFieldSimulation.restore", "snap", "a snapshot of another configuration",
                                 "a snapshot() of this simulation")
        self.step = int(snap["step"])
        self._x[:], self._buf[:], self._rep_x[:], self._m_acc[:] = snap["x"], snap["buf"], snap["rep_x"], snap["m_acc"]
        for (h, count), mon in zip(snap["bold"], [m for m, *_ in self._mon if hasattr(m, "_h")]):
            mon._h, mon._count = h.copy(), count
        if "rng" in snap:
            self._rng.bit_generator.state = copy.deepcopy(snap["rng"])

    @property
    def time(self) -> float:
        """Current simulation time in ms."""
        return self.step * self.dt

    @property
    def state(self) -> np.ndarray:
        """Current state, (nvar, n_regions)."""
        return self._x.T.copy()

    def run(self, duration_ms: float, replaced_rates=None) -> dict:
        """Advance by ``duration_ms`` (a whole number of steps) and return, per monitor name, a
        :class:`TimeSeries` of the samples taken during this call. Calls continue the run.

        With replaced regions (:meth:`replace`), ``replaced_rates`` (n_steps, n_replaced,
        n_seam_channels) gives the rates in Hz driving them at each step (see :meth:`replace`:
        step k uses the rate of time ``k - lag``); missing means 0 Hz. Afterwards
        :attr:`afferent` (n_steps, n_replaced, n_coupling_vars) holds their coupling input for
        steps ``k + lag`` (the value that drives step ``k + lag``, in the coupling's units)."""
        n = _whole_steps("MeanFieldSimulation.run", "duration_ms", duration_ms, self.dt)
        N = self.connectome.n_regions
        n_rep, n_ch = self._rep_idx.size, self._rep_var.size
        if replaced_rates is None:
            rep_in = np.zeros((n, n_rep, n_ch))
        else:
            rep_in = np.ascontiguousarray(replaced_rates, dtype=float)
            if rep_in.shape != (n, n_rep, n_ch) or not np.all(np.isfinite(rep_in)):
                raise ParameterError("MeanFieldSimulation.run", "replaced_rates", f"shape {rep_in.shape} or non-finite",
                                     f"finite rates in Hz of shape ({n}, {n_rep}, {n_ch})")
        self.afferent = c_out = np.zeros((n, n_rep, self._cv.size))
        k0 = self.step
        shapes = tuple(((k0 + n) // istep - k0 // istep, len(voi), N) for mon, istep, mode, voi in self._mon) \
            or ((0, 1, N),)
        outs = self._outs_cache.get(shapes)
        if outs is None:  # a typed list costs ~0.2 ms to build: co-simulation windows reuse theirs
            outs = NumbaList()
            for shape in shapes:
                outs.append(np.zeros(shape))
            if len(self._outs_cache) > 8:
                self._outs_cache.clear()
            self._outs_cache[shapes] = outs
        widx = np.zeros(len(self._mon) + 1, dtype=np.int64)
        empty_noise = np.zeros((0, N, self.model.nvar))
        done = 0
        while done < n:
            m = min(CHUNK, n - done)
            if self.integrator.stochastic:
                noise = self._rng.standard_normal((m, N, self.model.nvar)) * self._noise_scale
            else:
                noise = empty_noise
            _kernel(self.model.dfun, self._P, self._lo, self._hi, self._x, self._buf, k0 + done, m, self._cv,
                    self._row_ptr, self._col, self._w, self._dl, self.coupling.kind, self._cpar,
                    self.integrator.scheme, self.dt, noise, self._m_istep, self._m_mode, self._m_voi,
                    self._m_nvoi, self._m_acc, outs, widx,
                    self._rep_idx, self._is_rep, self._rep_x, self._rep_var, self._rep_mode, self._rep_tau,
                    self._rep_gam, self._rep_sat, self._rep_scale, rep_in[done:done + m], self.lag,
                    c_out[done:done + m], self._rep_off, self._rep_sig)
            done += m
            if not np.all(np.isfinite(self._x)):
                raise SimulationStateError("MeanFieldSimulation", "state",
                                           f"non-finite state at t = {(k0 + done) * self.dt} ms (unstable dt or parameters)",
                                           "a smaller dt or parameters in the model's stable range")
        self.step = k0 + n
        result = {}
        for (mon, istep, mode, voi), out in zip(self._mon, outs):
            ks = np.arange(k0 // istep + 1, (k0 + n) // istep + 1) * istep
            names = tuple(self.model.state_variables[v] for v in voi)
            if mode == 0:
                t = ks * self.dt
            else:
                t = (ks - istep / 2.0) * self.dt
            if hasattr(mon, "_ingest"):
                result[mon.name] = mon._ingest(t, out, names, self.connectome.labels)
            else:
                result[mon.name] = TimeSeries(t, out.copy(), names, list(self.connectome.labels))  # out is reused
        return result
