"""Region-level neural-mass models, with the equations and default parameters of The Virtual
Brain (tvb-library 2.10, ``tvb.simulator.models``).

A model here is plain data (names, defaults, state-variable ranges and boundaries, coupling
variables) plus one numba function ``dfun(X, C, P, DX)`` that computes the derivatives of all regions:
``X`` the states (n_regions, nvar), ``C`` the long-range coupling input (n_regions, ncvar), ``P``
the parameters (n_regions, n_params, in ``param_names`` order), ``DX`` the output (n_regions,
nvar). The engine's compiled step loop calls it twice per Heun step (one call per step for all
regions: per-region calls through array views cost more than the arithmetic) (Lava style: the model says what the thing is, the engine how
it is computed). Time is in ms, as in TVB; each model's variables keep TVB's units.

Local (surface) coupling is not supported: TVB's region simulations have it equal to 0.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from neurohybrid.errors import ParameterError, UnknownParameterError


class SeamChannel:
    """How a population rate (Hz) measured on a spiking circuit drives one state variable of a
    region that the circuit replaces (see ``NeuralMassModel.spike_seam``).

    ``mode="gating"``: the variable is a synaptic gating driven by the rate r,
    ``dS/dt = -S/tau + (1 - S)·gamma·k·r`` (``saturating``) or ``-S/tau + gamma·k·r``, with ``tau``
    and ``gamma`` read from the model parameters named ``tau``/``gamma`` of the region and k =
    ``scale`` converting Hz to the model's rate unit — exactly the model's own gating equation
    with its transfer function H(x) replaced by the measured rate.
    ``mode="direct"``: the variable is an affine function of the rate, ``variable = scale·r +
    offset`` (the rate itself when ``offset`` is 0).
    ``mode="sigmoid"``: the variable is the potential whose sigmoid firing rate is the measured
    rate (Jansen & Rit 1995, eq. 1 inverted): with the sigmoid ``S(v) = cmin + (cmax - cmin) /
    (1 + exp(rho·(v0 - v)))`` of the coupling (``SigmoidalJansenRit``: cmin, cmax, midpoint, r)
    or else of the model (0, 2·``nu_max``, ``v0``, ``r``), ``variable = v0 - ln((cmax - cmin) /
    (k·r - cmin) - 1)/rho``, k·r clipped into (cmin, cmax) by 1e-9 of the range; the variables
    in ``zero`` are held at 0 (so the difference the coupling reads, y1 - y2, is that potential).

    ``relation`` states the relation in words (units included) for reports and manifests.
    """

    MODES = ("gating", "direct", "sigmoid")

    def __init__(self, name: str, variable: str, mode: str, scale: float, tau: str | None = None,
                 gamma: str | None = None, saturating: bool = False, offset: float = 0.0, zero: tuple = (),
                 relation: str = ""):
        if mode not in self.MODES:
            raise ParameterError("SeamChannel", "mode", f"{mode!r}", ", ".join(self.MODES))
        self.name, self.variable, self.mode, self.scale = name, variable, mode, float(scale)
        self.tau, self.gamma, self.saturating = tau, gamma, bool(saturating)
        self.offset, self.zero, self.relation = float(offset), tuple(zero), str(relation)

    def __repr__(self) -> str:
        return f"SeamChannel({self.name!r} -> {self.variable}, {self.mode})"


class NeuralMassModel:
    """Base class. Subclasses set the class attributes below and a numba ``dfun``.

    Parameters given to the constructor override TVB's defaults; each is a scalar or an array
    with one value per region (TVB's "spatialised" parameters).
    """

    #: TVB class name this model reproduces (e.g. ``"Generic2dOscillator"``).
    tvb_name: str = ""
    #: parameter names, in the order ``dfun`` reads them from ``p``.
    param_names: tuple[str, ...] = ()
    defaults: dict[str, float] = {}
    state_variables: tuple[str, ...] = ()
    #: indices of the state variables that couple between regions (TVB's ``cvar``).
    cvar: tuple[int, ...] = (0,)
    #: default variables of interest recorded by monitors (TVB's ``variables_of_interest``).
    variables_of_interest: tuple[str, ...] = ()
    #: ranges from which random initial conditions are drawn (TVB's ``state_variable_range``).
    state_variable_range: dict[str, tuple[float, float]] = {}
    #: hard bounds applied after every integration stage (TVB's ``state_variable_boundaries``).
    state_variable_boundaries: dict[str, tuple[float, float]] = {}
    #: channels through which spiking populations can replace a region (empty: not replaceable)
    spike_seam: tuple = ()
    #: what the long-range input c of a replaced region is (its coupling's output), with units:
    #: ``sim.rates_to_spikes(gain=...)`` turns it into Hz
    seam_afferent: str = ""
    dfun = None

    def __init__(self, **params):
        self.params: dict[str, object] = dict(self.defaults)
        for name, value in params.items():
            if name not in self.defaults:
                raise UnknownParameterError(type(self).__name__, name, self.param_names)
            arr = np.asarray(value, dtype=float)
            if not np.all(np.isfinite(arr)):
                raise ParameterError(type(self).__name__, name, f"non-finite value {value!r}",
                                     "finite float or array of one value per region")
            self.params[name] = float(arr) if arr.ndim == 0 else arr
        self.variables_of_interest = tuple(self.variables_of_interest or self.state_variables)

    @property
    def nvar(self) -> int:
        return len(self.state_variables)

    def parameter_matrix(self, n_regions: int) -> np.ndarray:
        """Parameters as an (n_regions, n_params) float64 array (scalars broadcast)."""
        P = np.empty((n_regions, len(self.param_names)))
        for k, name in enumerate(self.param_names):
            v = np.asarray(self.params[name], dtype=float).ravel()
            if v.size not in (1, n_regions):
                raise ParameterError(type(self).__name__, name,
                                     f"{v.size} values for {n_regions} regions", "a scalar or one value per region")
            P[:, k] = v
        return P

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bound per state variable (-inf/inf where unbounded)."""
        lo = np.full(self.nvar, -np.inf)
        hi = np.full(self.nvar, np.inf)
        for name, (a, b) in self.state_variable_boundaries.items():
            k = self.state_variables.index(name)
            lo[k] = -np.inf if a is None else a
            hi[k] = np.inf if b is None else b
        return lo, hi

    def random_initial(self, n_regions: int, rng: np.random.Generator) -> np.ndarray:
        """Initial state (nvar, n_regions), uniform in ``state_variable_range`` then bounded."""
        x = np.empty((self.nvar, n_regions))
        for k, name in enumerate(self.state_variables):
            a, b = self.state_variable_range[name]
            x[k] = rng.uniform(a, b, n_regions)
        lo, hi = self.bounds()
        return np.clip(x, lo[:, None], hi[:, None])

    def voi_indices(self, variables=None) -> np.ndarray:
        names = tuple(variables) if variables is not None else self.variables_of_interest
        out = []
        for v in names:
            if v not in self.state_variables:
                raise UnknownParameterError(type(self).__name__, f"variables_of_interest[{v!r}]", self.state_variables)
            out.append(self.state_variables.index(v))
        return np.array(out, dtype=np.int64)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.params.items() if not isinstance(v, np.ndarray))})"


# --------------------------------------------------------------------------------------------
@njit(cache=True, fastmath=False)
def _g2d(X, C, P, DX):
    # TVB _numba_dfun_g2d, local coupling 0
    for i in range(X.shape[0]):
        tau, I, a, b, cc, d, e, f, g, alpha, beta, gamma = (P[i, 0], P[i, 1], P[i, 2], P[i, 3], P[i, 4], P[i, 5],
                                                            P[i, 6], P[i, 7], P[i, 8], P[i, 9], P[i, 10], P[i, 11])
        V = X[i, 0]
        V2 = V * V
        W = X[i, 1]
        DX[i, 0] = d * tau * (alpha * W - f * V2 * V + e * V2 + g * V + gamma * I + gamma * C[i, 0])
        DX[i, 1] = d * (a + b * V + cc * V2 - beta * W) / tau


class Generic2dOscillator(NeuralMassModel):
    """TVB ``Generic2dOscillator`` (Sanz-Leon et al. 2015): V fast, W slow, dimensionless;
    time in ms. dV = d·tau·(alpha W − f V³ + e V² + g V + gamma I + gamma c),
    dW = d (a + b V + c V² − beta W)/tau. Couples through V."""
    tvb_name = "Generic2dOscillator"
    param_names = ("tau", "I", "a", "b", "c", "d", "e", "f", "g", "alpha", "beta", "gamma")
    defaults = dict(tau=1.0, I=0.0, a=-2.0, b=-10.0, c=0.0, d=0.02, e=3.0, f=1.0, g=0.0,
                    alpha=1.0, beta=1.0, gamma=1.0)
    state_variables = ("V", "W")
    cvar = (0,)
    variables_of_interest = ("V",)
    state_variable_range = {"V": (-2.0, 4.0), "W": (-6.0, 6.0)}
    # V is dimensionless: a stated linear rate proxy, not a published relation (a seam entry's
    # weights and offset change it). W is held at its initial value in a replaced region.
    spike_seam = (SeamChannel("V", "V", "direct", 0.1, relation="V = r / 10 Hz (a linear rate proxy: V = 1 at "
                              "10 Hz, V = 0 at 0 Hz; W held)"),)
    seam_afferent = "c = coupling of V (Linear: a·sum_j w_ij V_j, dimensionless V units)"
    dfun = _g2d


@njit(cache=True)
def _rww(X, C, P, DX):
    # TVB wong_wang._numba_dfun
    for i in range(X.shape[0]):
        a, b, d, gamma, tau_s, w, J_N, I_o = P[i, 0], P[i, 1], P[i, 2], P[i, 3], P[i, 4], P[i, 5], P[i, 6], P[i, 7]
        S = X[i, 0]
        xx = w * J_N * S + I_o + J_N * C[i, 0]
        h = (a * xx - b) / (1.0 - math.exp(-d * (a * xx - b)))
        DX[i, 0] = -(S / tau_s) + (1.0 - S) * h * gamma


class ReducedWongWang(NeuralMassModel):
    """TVB ``ReducedWongWang`` (Deco et al. 2013, J Neurosci 32:11239; the one-population
    reduction TVB's tutorials use): S is the NMDA gating (dimensionless, bounded to [0, 1]);
    a in nC⁻¹, b in kHz, d in ms, tau_s in ms, I_o in nA. Couples through S."""
    tvb_name = "ReducedWongWang"
    param_names = ("a", "b", "d", "gamma", "tau_s", "w", "J_N", "I_o")
    defaults = dict(a=0.270, b=0.108, d=154.0, gamma=0.641, tau_s=100.0, w=0.6, J_N=0.2609, I_o=0.33)
    state_variables = ("S",)
    cvar = (0,)
    variables_of_interest = ("S",)
    state_variable_range = {"S": (0.0, 1.0)}
    state_variable_boundaries = {"S": (0.0, 1.0)}
    # H(x) is in kHz here (b in kHz): a rate in Hz enters as r / 1000
    spike_seam = (SeamChannel("excitatory", "S", "gating", 1e-3, "tau_s", "gamma", saturating=True,
                              relation="dS/dt = -S/tau_s + (1 - S)·gamma·r/1000 (r in Hz; H(x) in kHz)"),)
    seam_afferent = "c = coupling of S (Linear: a·sum_j w_ij S_j, dimensionless gating)"
    dfun = _rww


@njit(cache=True)
def _rww_ei(X, C, P, DX):
    # TVB wong_wang_exc_inh._numba_dfun
    for i in range(X.shape[0]):
        p = P[i]
        ae, be, de, ge, te, wp, we, jn, ai, bi, di, gi, ti, wi, ji, G, lam, io, ie = (
            p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14],
            p[15], p[16], p[17], p[18])
        Se, Si = X[i, 0], X[i, 1]
        cc = G * jn * C[i, 0]
        jnSe = jn * Se
        xe = wp * jnSe - ji * Si + we * io + cc + ie
        xe = ae * xe - be
        he = xe / (1.0 - math.exp(-de * xe))
        DX[i, 0] = -(Se / te) + (1.0 - Se) * he * ge
        xi = jnSe - Si + wi * io + lam * cc
        xi = ai * xi - bi
        hi = xi / (1.0 - math.exp(-di * xi))
        DX[i, 1] = -(Si / ti) + hi * gi


class ReducedWongWangExcInh(NeuralMassModel):
    """TVB ``ReducedWongWangExcInh`` (Deco et al. 2014, J Neurosci 34:7886): excitatory and
    inhibitory NMDA/GABA gating S_e, S_i (dimensionless, bounded to [0, 1]); a in nC⁻¹, b in Hz,
    d in s, gamma per ms, tau in ms, currents in nA; G is the global coupling scale. Couples
    through S_e."""
    tvb_name = "ReducedWongWangExcInh"
    param_names = ("a_e", "b_e", "d_e", "gamma_e", "tau_e", "w_p", "W_e", "J_N", "a_i", "b_i", "d_i",
                   "gamma_i", "tau_i", "W_i", "J_i", "G", "lamda", "I_o", "I_ext")
    defaults = dict(a_e=310.0, b_e=125.0, d_e=0.160, gamma_e=0.641 / 1000, tau_e=100.0, w_p=1.4, W_e=1.0,
                    J_N=0.15, a_i=615.0, b_i=177.0, d_i=0.087, gamma_i=1.0 / 1000, tau_i=10.0, W_i=0.7,
                    J_i=1.0, G=2.0, lamda=0.0, I_o=0.382, I_ext=0.0)
    state_variables = ("S_e", "S_i")
    cvar = (0,)
    variables_of_interest = ("S_e", "S_i")
    state_variable_range = {"S_e": (0.0, 1.0), "S_i": (0.0, 1.0)}
    state_variable_boundaries = {"S_e": (0.0, 1.0), "S_i": (0.0, 1.0)}
    spike_seam = (SeamChannel("excitatory", "S_e", "gating", 1.0, "tau_e", "gamma_e", saturating=True,
                              relation="dS_e/dt = -S_e/tau_e + (1 - S_e)·gamma_e·r_E (r_E in Hz)"),
                  SeamChannel("inhibitory", "S_i", "gating", 1.0, "tau_i", "gamma_i", saturating=False,
                              relation="dS_i/dt = -S_i/tau_i + gamma_i·r_I (r_I in Hz)"))
    seam_afferent = "c = coupling of S_e (Linear: a·sum_j w_ij S_e_j, dimensionless gating; G·J_N·c in nA)"
    dfun = _rww_ei


@njit(cache=True)
def _suphopf(X, C, P, DX):
    for i in range(X.shape[0]):
        a, omega = P[i, 0], P[i, 1]
        x, y = X[i, 0], X[i, 1]
        r2 = x * x + y * y
        DX[i, 0] = (a - r2) * x - omega * y + C[i, 0]
        DX[i, 1] = (a - r2) * y + omega * x + C[i, 1]


class SupHopf(NeuralMassModel):
    """TVB ``SupHopf``: normal form of a supercritical Hopf bifurcation (Stuart–Landau), x and y
    dimensionless, a the bifurcation parameter, omega in rad/ms. Couples through x and y."""
    tvb_name = "SupHopf"
    param_names = ("a", "omega")
    defaults = dict(a=-0.5, omega=1.0)
    state_variables = ("x", "y")
    cvar = (0, 1)
    variables_of_interest = ("x",)
    state_variable_range = {"x": (-5.0, 5.0), "y": (-5.0, 5.0)}
    dfun = _suphopf


@njit(cache=True)
def _kuramoto(X, C, P, DX):
    for i in range(X.shape[0]):
        DX[i, 0] = P[i, 0] + C[i, 0]


class Kuramoto(NeuralMassModel):
    """TVB ``Kuramoto``: phase theta (rad), d theta/dt = omega + coupling; omega in rad/ms.
    Use with :class:`~neurohybrid.backends.meanfield.coupling.KuramotoCoupling`."""
    tvb_name = "Kuramoto"
    param_names = ("omega",)
    defaults = dict(omega=1.0)
    state_variables = ("theta",)
    cvar = (0,)
    variables_of_interest = ("theta",)
    state_variable_range = {"theta": (0.0, 2 * np.pi)}
    dfun = _kuramoto


@njit(cache=True)
def _wc(X, C, P, DX):
    # TVB wilson_cowan._numba_dfun, local coupling 0
    for i in range(X.shape[0]):
        p = P[i]
        (c_ee, c_ei, c_ie, c_ii, tau_e, tau_i, a_e, b_e, c_e, theta_e, a_i, b_i, theta_i, c_i, r_e, r_i, k_e, k_i,
         PP, Q, alpha_e, alpha_i, shift) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11],
                                            p[12], p[13], p[14], p[15], p[16], p[17], p[18], p[19], p[20], p[21], p[22])
        E, I = X[i, 0], X[i, 1]
        x_e = alpha_e * (c_ee * E - c_ei * I + PP - theta_e + C[i, 0])
        x_i = alpha_i * (c_ie * E - c_ii * I + Q - theta_i)
        if shift != 0.0:
            s_e = c_e * (1.0 / (1.0 + math.exp(-a_e * (x_e - b_e))) - 1.0 / (1.0 + math.exp(-a_e * -b_e)))
            s_i = c_i * (1.0 / (1.0 + math.exp(-a_i * (x_i - b_i))) - 1.0 / (1.0 + math.exp(-a_i * -b_i)))
        else:
            s_e = c_e / (1.0 + math.exp(-a_e * (x_e - b_e)))
            s_i = c_i / (1.0 + math.exp(-a_i * (x_i - b_i)))
        DX[i, 0] = (-E + (k_e - r_e * E) * s_e) / tau_e
        DX[i, 1] = (-I + (k_i - r_i * I) * s_i) / tau_i


class WilsonCowan(NeuralMassModel):
    """TVB ``WilsonCowan`` (Wilson & Cowan 1972, eqs. 11-12): excitatory and inhibitory activity
    E, I (dimensionless proportions), tau in ms; ``shift_sigmoid`` 1.0 (TVB's default True)
    shifts the sigmoids to pass through 0. Couples through E (TVB's cvar is [E, I] but only the
    E coupling enters the equations)."""
    tvb_name = "WilsonCowan"
    param_names = ("c_ee", "c_ei", "c_ie", "c_ii", "tau_e", "tau_i", "a_e", "b_e", "c_e", "theta_e", "a_i", "b_i",
                   "theta_i", "c_i", "r_e", "r_i", "k_e", "k_i", "P", "Q", "alpha_e", "alpha_i", "shift_sigmoid")
    defaults = dict(c_ee=12.0, c_ei=4.0, c_ie=13.0, c_ii=11.0, tau_e=10.0, tau_i=10.0, a_e=1.2, b_e=2.8, c_e=1.0,
                    theta_e=0.0, a_i=1.0, b_i=4.0, theta_i=0.0, c_i=1.0, r_e=1.0, r_i=1.0, k_e=1.0, k_i=1.0,
                    P=0.0, Q=0.0, alpha_e=1.0, alpha_i=1.0, shift_sigmoid=1.0)
    state_variables = ("E", "I")
    cvar = (0, 1)
    variables_of_interest = ("E",)
    state_variable_range = {"E": (0.0, 1.0), "I": (0.0, 1.0)}
    dfun = _wc


@njit(cache=True)
def _mpr(X, C, P, DX):
    # TVB infinite_theta.MontbrioPazoRoxin.dfun
    for i in range(X.shape[0]):
        tau, I, Delta, J, eta, cr, cv = P[i, 0], P[i, 1], P[i, 2], P[i, 3], P[i, 4], P[i, 5], P[i, 6]
        r, V = X[i, 0], X[i, 1]
        DX[i, 0] = 1.0 / tau * (Delta / (math.pi * tau) + 2.0 * V * r)
        DX[i, 1] = 1.0 / tau * (V * V - math.pi * math.pi * tau * tau * r * r + eta + J * tau * r + I
                                + cr * C[i, 0] + cv * C[i, 1])


class MontbrioPazoRoxin(NeuralMassModel):
    """TVB ``MontbrioPazoRoxin`` (Montbrió, Pazó & Roxin 2015): firing rate r (kHz, bounded >= 0)
    and mean membrane potential V (dimensionless QIF units) of an infinite QIF population; tau in
    ms. Couples through r (weight cr) and V (weight cv)."""
    tvb_name = "MontbrioPazoRoxin"
    param_names = ("tau", "I", "Delta", "J", "eta", "cr", "cv")
    defaults = dict(tau=1.0, I=0.0, Delta=1.0, J=15.0, eta=-5.0, cr=1.0, cv=0.0)
    state_variables = ("r", "V")
    cvar = (0, 1)
    variables_of_interest = ("r", "V")
    state_variable_range = {"r": (0.0, 2.0), "V": (-2.0, 1.5)}
    state_variable_boundaries = {"r": (0.0, None)}
    spike_seam = (SeamChannel("rate", "r", "direct", 1e-3, relation="r = rate/1000 (r in kHz, rate in Hz)"),)
    seam_afferent = "c = coupling of r (Linear: a·sum_j w_ij r_j, in kHz: gain 1000 gives Hz)"
    dfun = _mpr


@njit(cache=True)
def _jr(X, C, P, DX):
    # TVB jansen_rit._numba_dfun_jr, local coupling 0
    for i in range(X.shape[0]):
        nu_max, r, v0, a, a_1, a_2, a_3, a_4, A, b, B, J, mu = (P[i, 0], P[i, 1], P[i, 2], P[i, 3], P[i, 4], P[i, 5],
                                                               P[i, 6], P[i, 7], P[i, 8], P[i, 9], P[i, 10],
                                                               P[i, 11], P[i, 12])
        y0, y1, y2, y3, y4, y5 = X[i, 0], X[i, 1], X[i, 2], X[i, 3], X[i, 4], X[i, 5]
        s12 = 2.0 * nu_max / (1.0 + math.exp(r * (v0 - (y1 - y2))))
        s01 = 2.0 * nu_max / (1.0 + math.exp(r * (v0 - (a_1 * J * y0))))
        s03 = 2.0 * nu_max / (1.0 + math.exp(r * (v0 - (a_3 * J * y0))))
        DX[i, 0] = y3
        DX[i, 1] = y4
        DX[i, 2] = y5
        DX[i, 3] = A * a * s12 - 2.0 * a * y3 - a * a * y0
        DX[i, 4] = A * a * (mu + a_2 * J * s01 + C[i, 0]) - 2.0 * a * y4 - a * a * y1
        DX[i, 5] = B * b * (a_4 * J * s03) - 2.0 * b * y5 - b * b * y2


class JansenRit(NeuralMassModel):
    """TVB ``JansenRit`` (Jansen & Rit 1995): post-synaptic potentials y0-y2 (mV) and their
    derivatives y3-y5 (mV/ms); a, b in 1/ms, nu_max in 1/ms, r in 1/mV, v0 in mV. Couples
    through y1 - y2; use with :class:`~neurohybrid.backends.meanfield.coupling.SigmoidalJansenRit`."""
    tvb_name = "JansenRit"
    param_names = ("nu_max", "r", "v0", "a", "a_1", "a_2", "a_3", "a_4", "A", "b", "B", "J", "mu")
    defaults = dict(nu_max=0.0025, r=0.56, v0=5.52, a=0.1, a_1=1.0, a_2=0.8, a_3=0.25, a_4=0.25, A=3.25, b=0.05,
                    B=22.0, J=135.0, mu=0.22)
    state_variables = ("y0", "y1", "y2", "y3", "y4", "y5")
    cvar = (1, 2)
    variables_of_interest = ("y0", "y1", "y2", "y3")
    state_variable_range = {"y0": (-1.0, 1.0), "y1": (-500.0, 500.0), "y2": (-50.0, 50.0), "y3": (-6.0, 6.0),
                            "y4": (-20.0, 20.0), "y5": (-500.0, 500.0)}
    # the pyramidal population's rate is what leaves a region (the coupling reads S(y1 - y2))
    spike_seam = (SeamChannel("pyramidal", "y1", "sigmoid", 1e-3, zero=("y2",),
                              relation="y1 = v0 - ln((cmax - cmin)/(r/1000 - cmin) - 1)/rho, y2 = 0: the "
                              "pyramidal potential whose sigmoid firing rate (Jansen & Rit 1995 eq. 1; cmax = "
                              "2·e0 = 5 Hz by default) is the circuit's rate r in Hz"),)
    seam_afferent = ("c = a·sum_j w_ij S(y1_j - y2_j) (SigmoidalJansenRit: the afferent pyramidal firing rate, "
                     "in 1/ms = kHz; gain 1000 gives Hz; it enters dy4 beside mu)")
    dfun = _jr


def seam_models() -> list[str]:
    """Names of the models whose regions spiking populations can replace (a non-empty
    ``spike_seam``)."""
    return [name for name, cls in MODELS.items() if cls.spike_seam]


MODELS = {cls.__name__: cls for cls in (Generic2dOscillator, ReducedWongWang, ReducedWongWangExcInh, SupHopf, Kuramoto,
                                        WilsonCowan, MontbrioPazoRoxin, JansenRit)}
