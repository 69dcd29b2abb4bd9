"""Measured agreement of a cell class's engine forms (:mod:`neurohybrid.library.forms`).

:func:`agreement` runs the forms side by side in one session (every engine's populations get the
same input: stream sources are copied per engine with the same keyed streams) and measures the
f-I curve (Hz per current step, one neuron per level), the PSP (peak, mV; time to peak after
arrival, ms; one excitatory and one inhibitory spike at rest) and the rate under Poisson drive
(Hz), each against the reference engine (the float emulator) within a tolerance computed per
engine pair (:func:`tolerance`):

* float vs fixed, **quantisation-limited**: the represented decays (12-bit dv/du), the bias and
  the 8-bit weight mantissa errors as the quantiser reports them for these very populations and
  projections (``mappings/loihi/quantize.py``; tau_m 20 -> 20.43 ms at dt 0.1 ms is the largest,
  README "Loihi reports"), plus one step of spike-time grid per inter-spike interval. A form with
  a named approximation is held to these against the *approximated* class in float; the
  approximation's own effect is reported beside it, unbounded.
* float vs NEURON, **integration-method-limited**: the emulator integrates IF_curr cells exactly
  on the grid (Rotter & Diesmann 1999, Biol Cybern 81:381) and conductance cells with adaptive
  RKF45 (as NEST), its spikes up to one dt late (Morrison et al. 2007, Neural Comput 19:47);
  NEURON's fixed step is backward Euler, first order: relative error dt_n / (2 tau) on the
  fastest time constant (Hines & Carnevale 1997, Neural Comput 9:1179), crossings found at the
  end of a step. For models the emulator steps with forward Euler (Izhikevich, as NEST), the
  float error is measured by Richardson extrapolation (a second float run at dt/2) and NEURON's
  taken equal and opposite per unit step (modified equations v' = f -/+ (h/2) f'f; Hairer,
  Lubich & Wanner 2006, Geometric Numerical Integration, ch. IX).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..errors import ParameterError
from .cells import CellClass
from .forms import (CHECKS, ENGINES, FIRST_ORDER_FLOAT, HALF_STEP, EngineForm, FormUnavailableError, _engines,
                    _float_method, _initial_v, _pynn_parameters, _relmax, forms, loihi_quantisation)

__all__ = ["agreement", "AgreementReport", "Comparison", "tolerance", "PyNNSection", "APPROXIMATED"]


class PyNNSection:
    """The NEURON form of a standard PyNN cell: one cell built by PyNN's NEURON template
    ``template`` (``pyNN.neuron.cells``) from its native parameters (``pyNN.neuron`` names and
    units: ms, nF, mV, nA, uS). ``u_init`` (mV/ms) sets the Izhikevich recovery variable's start.
    ``soma`` is the section; ``excitatory``/``inhibitory`` its synapses (point processes)."""

    def __init__(self, template: str = "StandardIFStandardReceptors", u_init: float | None = None, **native):
        from pyNN.neuron import cells as pc
        self.soma = getattr(pc, template)(**native)
        self.excitatory, self.inhibitory = self.soma.excitatory, self.soma.inhibitory
        if u_init is not None:
            self.soma.izh.uinit = float(u_init)



@dataclass(frozen=True)
class Comparison:
    """One measured quantity on one engine against the reference engine: ``|value - reference|
    <= tol`` passes. ``quantity`` names it with its units (``"rate at 0.45 nA (Hz)"``);
    ``basis`` says where the tolerance comes from."""

    check: str
    quantity: str
    engine: str
    reference: float
    value: float
    tol: float
    basis: str

    @property
    def passed(self) -> bool:
        return bool(abs(self.value - self.reference) <= self.tol + 1e-12)


@dataclass
class AgreementReport:
    """What :func:`agreement` measured. ``comparisons``: every :class:`Comparison`; ``measured``:
    engine -> check -> raw results (``"fI"``, ``"rate"``: Hz per neuron; ``"psp"``: receptor ->
    (peak mV, time to peak ms) and ``"trace"``: (ms after arrival, mV [time, exc/inh])); ``forms``: the forms used;
    ``skipped``: engine -> reason (engines without a form when ``engines=None``)."""

    cell_class: str
    reference: str
    comparisons: list
    measured: dict
    forms: dict
    skipped: dict
    settings: dict

    @property
    def ok(self) -> bool:
        """True when at least one engine was compared and every comparison is within its tolerance."""
        return bool(self.comparisons) and all(c.passed for c in self.comparisons)

    def failures(self) -> list:
        return [c for c in self.comparisons if not c.passed]

    def format(self) -> str:
        """A text table: quantity, engine, reference value, value, tolerance, pass, basis."""
        lines = [f"agreement of cell class {self.cell_class} (reference engine: {self.reference})"]
        for c in self.comparisons:
            lines.append(f"  {c.check:4s} {c.quantity:34s} {c.engine:15s} ref {c.reference:9.4f} got {c.value:9.4f} "
                         f"tol {c.tol:8.4f} {'ok' if c.passed else 'FAIL'}  [{c.basis}]")
        for eng, why in self.skipped.items():
            lines.append(f"  skipped {eng}: {why}")
        return "\n".join(lines)


def _default_levels(cc: CellClass, params: dict) -> np.ndarray:
    """Current steps (nA) around the rheobase: 0.8, 1.05, 1.3, ... 3.3 x rheobase (11 levels)."""
    if cc.model == "Izhikevich":  # saddle-node: 0.04 v^2 + (5 - b) v + 140 + I has a double root
        rheo = max(((5.0 - params["b"]) ** 2 / 0.16 - 140.0) * 1e-3, 1e-3)  # pA (C = 1 pF) -> nA
    elif cc.model.startswith("EIF_"):  # AdEx, saddle-node case (Touboul 2008 SIAM J Appl Math 68:1045)
        gl, a = params["cm"] / params["tau_m"], params["a"] * 1e-3  # uS
        rheo = (gl + a) * (params["v_thresh"] - params["v_rest"] - params["delta_T"]) + gl * params["delta_T"]
    elif {"v_thresh", "v_rest", "cm", "tau_m"} <= set(params):
        rheo = (params["v_thresh"] - params["v_rest"]) * params["cm"] / params["tau_m"]  # nA: theta * g_L
    else:
        raise ParameterError(f"cell class {cc.name}", "currents", f"no rheobase estimate for {cc.model}",
                             "currents=[...] (nA)")
    return rheo * np.concatenate([[0.8], np.linspace(1.05, 3.3, 10)])


def _unit_psp(params: dict, model: str, receptor: str) -> float:
    """Peak |PSP| (mV) at rest per unit weight (nA, uS or mV) of the linear subthreshold model:
    closed forms of v' = -v/tau_m + I(t)/cm for I = e^(-t/tau_s) (exp) and (t/tau_s) e^(1 - t/tau_s)
    (alpha), with g = 1/tau_s - 1/tau_m; conductances at the driving force |E_rev - v_rest|."""
    if model == "Izhikevich":
        return 1.0  # a weight is a jump of v (mV)
    tau_m, cm = params["tau_m"], params["cm"]
    tau_s = params["tau_syn_E" if receptor == "excitatory" else "tau_syn_I"]
    g = 1.0 / tau_s - 1.0 / tau_m
    if abs(g) < 1e-9:
        tau_s, g = tau_s * (1 + 1e-6), 1.0 / (tau_s * (1 + 1e-6)) - 1.0 / tau_m
    t = np.linspace(0.0, 10.0 * max(tau_m, tau_s), 20001)
    if "alpha" in model:
        v = math.e / (cm * tau_s) * np.exp(-t / tau_m) * (1.0 - np.exp(-g * t) * (1.0 + g * t)) / g ** 2
    else:
        v = np.exp(-t / tau_m) * (1.0 - np.exp(-g * t)) / (g * cm)
    if "cond" in model:
        v = v * abs(params["e_rev_E" if receptor == "excitatory" else "e_rev_I"] - params["v_rest"])
    return float(np.max(np.abs(v)))


def _weights(cc: CellClass, params: dict, psp_mv: float) -> dict:
    """PyNN weights giving PSPs of about ``psp_mv`` mV at rest (inhibitory ones negative for
    current-based synapses, PyNN's convention)."""
    out = {}
    for rec in ("excitatory", "inhibitory"):
        w = psp_mv / _unit_psp(params, cc.model, rec)
        out[rec] = -w if rec == "inhibitory" and "cond" not in cc.model else w
    return out


def _population(sim, cc: CellClass, form: EngineForm, n: int, label: str, i_offset, v0: float, params: dict):
    """``n`` cells of ``cc`` in ``form``'s engine with per-cell ``i_offset`` (nA), all at v0 (mV)."""
    i_offset = np.broadcast_to(np.asarray(i_offset, float), (n,)).copy()
    if form.engine == "neuron":
        nat = dict(form.native["parameters"])
        nat["i_offset"] = i_offset
        if cc.model == "Izhikevich":
            nat["u_init"] = float(params["b"]) * v0
        kind = sim.NeuronCell if "cond" in cc.model else _current_neuron_cell()
        ct = kind(PyNNSection, parameters={"template": form.native["template"], **nat},
                  receptors={"excitatory": "excitatory", "inhibitory": "inhibitory"}, threshold=form.native["threshold_mV"])
        pop = sim.Population(n, ct, label=label)
        pop.initialize(v=v0)
        return pop
    pop = sim.Population(n, cc.cell_type(sim), label=label, engine=form.engine)
    pop.set(i_offset=i_offset)
    init = {"v": v0}
    if cc.model == "Izhikevich":
        init["u"] = float(params["b"]) * v0
    pop.initialize(**init)
    return pop


def _current_neuron_cell():
    """``sim.NeuronCell`` for current-based forms (PyNN's weight sign check: inhibitory weights
    negative, as ExpISyn/AlphaISyn/Izhikevich take them)."""
    global _CURRENT_CELL
    if _CURRENT_CELL is None:
        from neurohybrid.pynn.neuroncell import NeuronCell
        _CURRENT_CELL = type("CurrentNeuronCell", (NeuronCell,), {"conductance_based": False})
    return _CURRENT_CELL


_CURRENT_CELL = None
_DELAY = 1.0  # ms, every input projection of the agreement runs


def _rates(pop, duration: float, steady: bool = False) -> np.ndarray:
    """Spike rate (Hz) per neuron: spike count / duration, or with ``steady`` the inverse mean
    inter-spike interval where a neuron fired >= 3 spikes (no count granularity, no first-spike
    latency: the f-I curve's regular firing)."""
    out = []
    for st in pop.get_data().segments[0].spiketrains:
        t = np.asarray(st.rescale("ms").magnitude, float)
        out.append(1000.0 * (t.size - 1) / (t[-1] - t[0]) if steady and t.size >= 3 else 1000.0 * t.size / duration)
    return np.array(out)


def _psp_shape(pop, t_spike: float, dt: float) -> dict:
    """Peak deviation (mV, signed) and time to peak (ms after the input spike's arrival) of the
    excitatory (cell 0) and inhibitory (cell 1) PSP, from v sampled every dt."""
    sig = pop.get_data().segments[0].filter(name="v")[0]
    v = np.asarray(sig.magnitude, float)
    t = np.asarray(sig.times.rescale("ms").magnitude, float)
    k0 = int(np.searchsorted(t, t_spike - 1e-9))
    dv = v[k0:] - v[k0]
    out = {"trace": (t[k0:] - t_spike - _DELAY, dv)}  # ms after arrival, mV (excitatory, inhibitory)
    for j, rec in enumerate(("excitatory", "inhibitory")):
        k = int(np.argmax(dv[:, j])) if rec == "excitatory" else int(np.argmin(dv[:, j]))
        out[rec] = (float(dv[k, j]), float(t[k0 + k] - t_spike - _DELAY))
    return out


APPROXIMATED = "emulator (approximated)"


def _approximated(cc: CellClass, approx: tuple) -> tuple[CellClass, dict]:
    """``cc`` as the named Loihi approximations change it, for the float emulator, and the factor
    each receptor's weights take (mappings/loihi/quantize_plan.APPROXIMATIONS)."""
    from .base import Range
    params, model = _pynn_parameters(cc), cc.model
    factors = {"excitatory": 1.0, "inhibitory": 1.0}
    if "reset_to_rest" in approx:
        params["v_reset"] = params["v_rest"]
    if "merge_synaptic_time_constants" in approx:
        factors["inhibitory"] = params["tau_syn_I"] / params["tau_syn_E"]
        params["tau_syn_I"] = params["tau_syn_E"]
    if "alpha_to_exp" in approx:
        model = model.replace("alpha", "exp")
        factors = {k: v * math.e for k, v in factors.items()}
    return CellClass(f"{cc.name} ({', '.join(approx)})", model, {k: Range(v) for k, v in params.items()},
                     source=cc.source), factors


def _run(sim, runs: dict, checks: tuple, o: dict) -> dict:
    """One session with every population set of ``runs``; the measurements per key and check."""
    _setup(sim, o["dt"], o["neuron_dt"], o["seed"], o["approx"])
    try:
        pops: dict = {k: {} for k in runs}
        if "psp" in checks:
            src = sim.Population(1, sim.SpikeSourceArray(spike_times=[o["t_in"]]), label="psp input")
        if "rate" in checks:
            drive = {rec: sim.Population(o["n_rate"], sim.SpikeSourcePoisson(rate=o["drive_rate"]), label=f"drive {rec}")
                     for rec in ("excitatory", "inhibitory")}
        for key, (cc, f, wf) in runs.items():
            params = _pynn_parameters(cc)
            syn = {rec: sim.StaticSynapse(weight=o["weights"][rec] * wf[rec], delay=_DELAY) for rec in wf}
            if "fI" in checks:
                pops[key]["fI"] = p = _population(sim, cc, f, o["levels"].size, f"fI {key}", o["levels"], o["v0"], params)
                p.record("spikes")
            if "psp" in checks:
                pops[key]["psp"] = p = _population(sim, cc, f, 2, f"psp {key}", 0.0, o["v0"], params)
                for j, rec in enumerate(("excitatory", "inhibitory")):
                    sim.Projection(src, p[j:j + 1], sim.AllToAllConnector(), syn[rec], receptor_type=rec)
                p.record("v")
            if "rate" in checks:
                pops[key]["rate"] = p = _population(sim, cc, f, o["n_rate"], f"rate {key}", o["dc"], o["v0"], params)
                for rec, s in drive.items():
                    sim.Projection(s, p, sim.OneToOneConnector(), syn[rec], receptor_type=rec)
                p.record("spikes")
        sim.run(o["duration"])
        measured = {}
        for key, ps in pops.items():
            m = measured[key] = {}
            for check, pop in ps.items():
                m[check] = _psp_shape(pop, o["t_in"], o["dt"]) if check == "psp" else \
                    _rates(pop, o["duration"], steady=check == "fI")
    finally:
        sim.end()
    return measured


def _setup(sim, dt: float, neuron_dt: float, seed: int, approx: tuple):
    # the named approximations are a Loihi-path session's option; every point population of the
    # agreement runs names its engine, so the session's default engine does not matter
    kw = {"loihi_approximations": approx, "numerics": "fixed"} if approx else {}
    sim.setup(timestep=dt, seed=seed, threads=1, neuron_dt=neuron_dt, **kw)


def _check_arguments(checks, n_rate, **positive) -> tuple:
    checks = (checks,) if isinstance(checks, str) else tuple(checks)
    bad = [c for c in checks if c not in CHECKS]
    if bad:
        raise ParameterError("agreement", "checks", f"unknown check(s) {bad}", ", ".join(CHECKS))
    for name, val in positive.items():
        if not (isinstance(val, (int, float)) and math.isfinite(val) and val > 0):
            raise ParameterError("agreement", name, f"{val!r}", "a positive number")
    if int(n_rate) != n_rate or n_rate < 1:
        raise ParameterError("agreement", "n_rate", f"{n_rate!r}", "a positive integer")
    return checks


def _rheobase(cc: CellClass, params: dict, currents) -> float:
    """nA: the class's rheobase estimate; without one, half the largest of ``currents``."""
    try:
        return float(_default_levels(cc, params)[0] / 0.8)
    except ParameterError:
        if currents is None:
            raise
        return float(np.max(currents)) / 2.0


def agreement(cell_class: CellClass, engines=ENGINES, checks=CHECKS, *, duration: float = 300.0, dt: float = 0.1,
              neuron_dt: float = 0.025, currents=None, psp_mv: float = 1.0, drive_rate: float = 500.0,
              n_rate: int = 20, rate_dc=(0.75, 2.0), seed: int = 1, approximations="named") -> AgreementReport:
    """Run ``cell_class``'s forms side by side and compare each with the float emulator's.

    ``engines``: engine names, the float emulator among them (a named engine without a form
    raises :class:`FormUnavailableError`; None: every engine with a form, the others in
    ``report.skipped``); ``checks``: any of ``"fI"`` (rate in Hz, from the mean inter-spike
    interval, for each current of ``currents``, nA, one neuron per level; default 0.8-3.3 x the
    rheobase), ``"psp"`` (one excitatory and one inhibitory input spike of about ``psp_mv`` mV
    at rest at t = duration/3: peak in mV, time to peak after arrival in ms) and ``"rate"``
    (``n_rate`` neurons with DC currents spread over ``rate_dc`` x the rheobase, each with its
    own excitatory and inhibitory Poisson input at ``drive_rate`` Hz with the PSP check's weights:
    the mean rate in Hz). ``duration`` (ms) of the run; ``dt`` (ms) the session's step (and the
    Loihi step); ``neuron_dt`` (ms) NEURON's step; ``approximations``: as :func:`forms`. Runs its
    own session (ends any open one). Returns an :class:`AgreementReport`.
    """
    import neurohybrid.pynn as sim
    checks = _check_arguments(checks, n_rate, duration=duration, dt=dt, neuron_dt=neuron_dt, psp_mv=psp_mv,
                              drive_rate=drive_rate)
    all_forms = forms(cell_class, _engines(engines), dt, approximations)
    if "emulator" not in all_forms:
        raise ParameterError("agreement", "engines", f"{tuple(all_forms)} lack the float emulator, the reference",
                             "engines including 'emulator'")
    skipped = {}
    for eng, f in list(all_forms.items()):
        if not f.available:
            if engines is not None:
                f.require()
            skipped[eng] = f.reason
            del all_forms[eng]
    params = _pynn_parameters(cell_class)
    levels = np.asarray(_default_levels(cell_class, params) if currents is None else currents, float)
    o = dict(dt=dt, neuron_dt=neuron_dt, seed=seed, duration=duration, levels=levels, t_in=round(duration / 3 / dt) * dt,
             dc=_rheobase(cell_class, params, currents) * np.linspace(float(rate_dc[0]), float(rate_dc[1]), int(n_rate)),
             weights=_weights(cell_class, params, psp_mv), drive_rate=drive_rate, n_rate=int(n_rate),
             v0=_initial_v(cell_class, params), approx=tuple(sorted({a for f in all_forms.values() for a in f.approximations})))
    # population sets: key -> (cell class, form, weight factor per receptor); a Loihi form with named
    # approximations is compared with the float emulator running the approximated class
    runs = {eng: (cell_class, f, {"excitatory": 1.0, "inhibitory": 1.0}) for eng, f in all_forms.items()}
    if o["approx"] and "emulator-fixed" in all_forms:
        acc, factors = _approximated(cell_class, o["approx"])
        runs[APPROXIMATED] = (acc, forms(acc, ("emulator",))["emulator"], factors)
    measured = _run(sim, runs, checks, o)
    if "neuron" in all_forms and cell_class.model in FIRST_ORDER_FLOAT:  # Richardson: the float run at dt/2
        half = dict(o, dt=dt / 2, neuron_dt=min(neuron_dt, dt / 2), approx=())
        measured[HALF_STEP] = _run(sim, {"emulator": runs["emulator"]}, checks, half)["emulator"]
    settings = {"duration_ms": duration, "dt_ms": dt, "neuron_dt_ms": neuron_dt, "currents_nA": levels.tolist(),
                "weights": o["weights"], "psp_input_ms": o["t_in"], "rate_dc_nA": o["dc"].tolist(),
                "drive_rate_Hz": drive_rate, "seed": seed, "approximations": o["approx"]}
    comps = []
    for eng in all_forms:
        if eng != "emulator":
            ref = APPROXIMATED if (eng == "emulator-fixed" and APPROXIMATED in runs) else "emulator"
            comps += _compare(cell_class, all_forms, eng, ref, measured, settings, levels, o["dc"])
    if APPROXIMATED in runs:  # the approximation's own effect: reported, not bounded
        why = f"effect of the named approximation(s) {', '.join(o['approx'])} (float): reported, not bounded"
        comps += [replace(c, engine=APPROXIMATED, tol=math.inf, basis=why) for c in
                  _compare(cell_class, all_forms, APPROXIMATED, "emulator", measured, settings, levels, o["dc"])]
    return AgreementReport(cell_class.name, "emulator", comps, measured, dict(all_forms), skipped, settings)


def tolerance(cell_class: CellClass, engine: str, forms_: dict, settings: dict) -> dict:
    """The error budget of ``engine`` against the float emulator for ``cell_class``: a dict of
    relative errors ``tau`` (decays), ``current`` (i_offset), ``weight`` and a spike-time
    ``grid`` (ms per inter-spike interval), with ``basis``, a sentence saying where they come from.

    emulator-fixed: the quantiser's own reported errors for these populations and projections;
    neuron: backward Euler's first-order error dt_n / (2 tau) on the fastest time constant
    (Hines & Carnevale 1997) and grid + NEURON-step spike timing (Morrison et al. 2007)."""
    params = _pynn_parameters(cell_class)
    dt, dtn = settings["dt_ms"], settings["neuron_dt_ms"]
    if engine == "emulator-fixed":
        f = forms_[engine]
        w = settings["weights"]
        levels = np.concatenate([settings["currents_nA"], settings["rate_dc_nA"]])
        prep, prj, _ = loihi_quantisation(cell_class, dt, f.approximations, i_offset=levels,
                                          weights=[("excitatory", w["excitatory"]), ("inhibitory", w["inhibitory"])])
        eps_w = max(_relmax(p.get("weights", {})) for p in prj.values()) if prj else 0.0
        return {"tau": max(f.native["tau_m_rel_error"], f.native["tau_syn_rel_error"]),
                "current": _relmax(prep["parameters"]["i_offset"]), "weight": eps_w, "grid": dt,
                "basis": "quantisation: represented decays, bias and weight mantissas (quantiser report), 1 step/ISI"}
    if cell_class.model in FIRST_ORDER_FLOAT:
        # measured, not assumed: the Richardson estimate of the float emulator's first-order error
        # (a second float run at dt/2), and NEURON's backward Euler errs by the same amount the
        # other way per unit step (modified equations v' = f -/+ (h/2) f' f; Hairer, Lubich &
        # Wanner 2006, Geometric Numerical Integration, ch. IX): 2 |x(dt) - x(dt/2)| (1 + dt_n/dt)
        return {"tau": 0.0, "current": 0.0, "weight": 0.0, "grid": dt + dtn, "richardson": 2.0 * (1.0 + dtn / dt),
                "basis": f"integration: {FIRST_ORDER_FLOAT[cell_class.model]} vs backward Euler dt_n; "
                         "Richardson 2|x(dt) - x(dt/2)|(1 + dt_n/dt), spike grid dt + dt_n"}
    else:
        tau_fast = min(params["tau_m"], params.get("tau_syn_E", np.inf), params.get("tau_syn_I", np.inf))
        eps = dtn / (2.0 * tau_fast)
        basis = f"integration: {_float_method(cell_class.model)} vs backward Euler dt_n/(2 tau_fast), grid dt + dt_n"
    return {"tau": eps, "current": 0.0, "weight": 0.0, "grid": dt + dtn, "basis": basis}


def _jump_sampling(cc: CellClass, amp: float, settings: dict) -> float:
    """A voltage-jump PSP (Izhikevich synapses) is read one sample step apart by engines that
    apply it at the step (the float emulator, NEST) and at the event time (NEURON): it decays
    meanwhile at the membrane's local rate |0.08 v + 5| (1/ms, Izhikevich 2003), v = rest +- amp:
    |amp| (1 - e^(-rate dt)) mV."""
    if cc.model != "Izhikevich":
        return 0.0
    v0 = _initial_v(cc, _pynn_parameters(cc))
    rate = max(abs(0.08 * (v0 - abs(amp)) + 5.0), abs(0.08 * (v0 + abs(amp)) + 5.0))
    return abs(amp) * (1.0 - math.exp(-rate * settings["dt_ms"]))


def _log_slope(levels: np.ndarray, rates: np.ndarray) -> float:
    """Largest d ln(rate) / d ln(current) between firing levels of the reference f-I curve (>= 1)."""
    ok = (rates > 0) & (levels > 0)
    lv, rt = np.log(levels[ok]), np.log(rates[ok])
    if lv.size < 2:
        return 1.0
    return float(max(1.0, np.max(np.abs(np.diff(rt) / np.diff(lv)))))


def _compare(cc, forms_, eng, ref, measured, settings, levels, dc) -> list:
    budget = tolerance(cc, eng, forms_, settings)
    basis = budget["basis"]
    T = settings["duration_ms"]
    grid = budget["grid"]
    out = []
    a, b = measured[ref], measured[eng]
    k = budget.get("richardson", 0.0) if ref == "emulator" else 0.0
    h = measured.get(HALF_STEP, a) if k else a  # the float emulator at dt/2 (first-order float models)
    slope = _log_slope(levels, a["fI"]) if "fI" in a else 3.0
    if "fI" in a:
        for j, (lvl, fr, fv) in enumerate(zip(levels, a["fI"], b["fI"])):
            # rates from mean ISIs (>= 3 spikes): per ISI the grid term; fewer spikes: +- 2 spikes
            count = 2000.0 / T if fr * T / 1000.0 < 3.5 else 0.0
            tol = fr * (budget["tau"] + slope * budget["current"] + fr * grid / 1000.0) + count + \
                k * abs(fr - h["fI"][j])
            out.append(Comparison("fI", f"rate at {lvl:.4g} nA (Hz)", eng, float(fr), float(fv), tol, basis))
    if "psp" in a:
        for rec in ("excitatory", "inhibitory"):
            (ar, tr), (av, tv), (ah, th) = a["psp"][rec], b["psp"][rec], h["psp"][rec]
            eps = budget["weight"] + 2.0 * budget["tau"] + budget["current"]
            out.append(Comparison("psp", f"{rec[:3]} PSP peak (mV)", eng, ar, av,
                                  abs(ar) * eps + 1e-3 + k * abs(ar - ah) + _jump_sampling(cc, ar, settings), basis))
            out.append(Comparison("psp", f"{rec[:3]} PSP time to peak (ms)", eng, tr, tv,
                                  tr * budget["tau"] + grid + settings["dt_ms"] + k * abs(tr - th), basis))
    if "rate" in a:
        fr, fv = float(np.mean(a["rate"])), float(np.mean(b["rate"]))
        eps = slope * (budget["tau"] + budget["weight"] + budget["current"])
        floor = 1000.0 / (T * len(dc))
        tol = fr * (eps + fr * grid / 1000.0) + floor + k * (abs(fr - float(np.mean(h["rate"]))) + floor)
        out.append(Comparison("rate", "mean rate, Poisson drive (Hz)", eng, fr, fv, tol, basis))
    return out
