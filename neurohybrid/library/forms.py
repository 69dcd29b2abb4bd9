"""Parameter identity across tools: one canonical cell class, each engine's native form, and a
measured check that they agree (:mod:`neurohybrid.library.agreement`; issue 14, "cell classes first").

:func:`forms` turns a :class:`~neurohybrid.library.cells.CellClass` into an :class:`EngineForm`
per engine:

* ``"emulator"``: the PyNN standard type on the float emulator (PyNN/NEST semantics);
* ``"emulator-fixed"`` (the Loihi path): the partition's own quantiser
  (:func:`neurohybrid.mappings.loihi.quantize.quantize`) applied to a population of the class;
  the form holds the registers (dv, du, vth, scale) and the values they represent. A class
  without a faithful form uses the named approximation the project offers for it
  (``reset_to_rest``, ``merge_synaptic_time_constants``, ``alpha_to_exp``; said in the form), or
  has none, with the placement's reason (Izhikevich, conductance-based cells, AdEx);
* ``"neuron"``: a single-compartment NEURON cell of the same dynamics built by PyNN's own NEURON
  templates (``pyNN.neuron.cells``: ``pas`` + ``ResetRefrac`` + ``ExpISyn``/``ExpSyn``/alpha
  synapses, ``AdExpIF``, or the ``Izhikevich`` point process) from pyNN.neuron's translation of
  the parameters, run by the NEURON engine through ``sim.NeuronCell`` (:class:`PyNNSection`);
  spikes are upward crossings of the model's threshold at the soma (the step PyNN's WATCH fires).

A surrogate form is out of scope: surrogates are trained per NEURON model (hours of NEURON runs,
``neurohybrid.surrogate.train``), not generated from parameters.

The measured check that the forms agree is :mod:`neurohybrid.library.agreement`.

An engine asked for by name that has no form raises :class:`FormUnavailableError` (class,
engine, why); ``engines=None`` runs those that have one and lists the others in ``report.skipped``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ParameterError, UnsupportedModelError
from .cells import CellClass

__all__ = ["ENGINES", "CHECKS", "EngineForm", "FormUnavailableError", "forms", "loihi_quantisation", "NEURON_FORMS"]

ENGINES = ("emulator", "emulator-fixed", "neuron")
CHECKS = ("fI", "psp", "rate")
#: float-emulator models integrated by a first-order method (their float-vs-NEURON tolerance is a
#: Richardson estimate from a second float run at dt/2), and the method
FIRST_ORDER_FLOAT = {"Izhikevich": "forward Euler at dt (NEST izhikevich)"}
HALF_STEP = "emulator @ dt/2"

#: PyNN standard type -> (pyNN.neuron template class, threshold rule for spike detection at the soma)
NEURON_FORMS = {
    "IF_curr_exp": ("StandardIFStandardReceptors", "v_thresh"),
    "IF_curr_alpha": ("StandardIFStandardReceptors", "v_thresh"),
    "IF_cond_exp": ("StandardIFStandardReceptors", "v_thresh"),
    "IF_cond_alpha": ("StandardIFStandardReceptors", "v_thresh"),
    "Izhikevich": ("Izhikevich_", 30.0),  # pyNN's izhikevich.mod: vthresh = 30 mV
    "EIF_cond_exp_isfa_ista": ("BretteGerstnerIFStandardReceptors", "v_spike"),  # adexp.mod: WATCH v > vspike
    "EIF_cond_alpha_isfa_ista": ("BretteGerstnerIFStandardReceptors", "v_spike"),
}


class FormUnavailableError(UnsupportedModelError):
    """A cell class has no native form on an engine (``.cell_class``, ``.engine``, ``.reason``)."""

    def __init__(self, cell_class: str, engine: str, reason: str, accepted: str | None = None):
        self.cell_class, self.engine, self.reason = cell_class, engine, reason
        super().__init__(f"cell class {cell_class}", "engine", f"no {engine} form: {reason}", accepted)


@dataclass(frozen=True)
class EngineForm:
    """A cell class's native form on one engine.

    ``available``: False when the engine has none (``reason`` says why: for the Loihi path, the
    placement's reason); ``native``: the engine's own parameters (PyNN units for the emulator;
    Loihi registers and the values they represent, ms/mV, for ``emulator-fixed``; pyNN.neuron's
    native names for ``neuron``); ``approximations``: named approximations the form uses;
    ``description``: one human-readable line.
    """

    engine: str
    cell_class: str
    model: str
    available: bool
    description: str
    native: dict = field(default_factory=dict)
    approximations: tuple = ()
    reason: str | None = None

    def require(self) -> "EngineForm":
        """This form, or a :class:`FormUnavailableError` when it is unavailable."""
        if not self.available:
            raise FormUnavailableError(self.cell_class, self.engine, self.reason or "no form",
                                       "an engine listed by forms() as available")
        return self


def _pynn_parameters(cc: CellClass) -> dict:
    """Every parameter of the class's PyNN type (defaults of the type, then the class's values)."""
    import neurohybrid.pynn as sim
    try:
        cls = getattr(sim, cc.model)
    except AttributeError:
        raise ParameterError(f"cell class {cc.name}", "model", f"{cc.model!r} is not a cell type of neurohybrid.pynn",
                             ", ".join(sim.list_standard_models())) from None
    params = dict(cls.default_parameters)
    params.update(cc.resolved())
    return params


def _initial_v(cc: CellClass, params: dict) -> float:
    """The deterministic initial v (mV) of the agreement runs: v_rest; for Izhikevich cells the
    stable rest of 0.04 v^2 + (5 - b) v + 140 = 0 (u = b v) when it has one; else the type's default."""
    if "v_rest" in params:
        return float(params["v_rest"])
    if cc.model == "Izhikevich":
        disc = (5.0 - params["b"]) ** 2 - 4 * 0.04 * 140.0
        if disc >= 0:
            return float((-(5.0 - params["b"]) - math.sqrt(disc)) / 0.08)
    import neurohybrid.pynn as sim
    return float(getattr(sim, cc.model).default_initial_values["v"])


def _loihi_graph(cc: CellClass, params: dict, dt: float, i_offset=None, weights=None):
    """A graph of one population of the class (``i_offset`` per neuron, nA) and, for each
    ``(receptor, weight)`` of ``weights``, one source projecting onto it."""
    from neurohybrid.graph import ModelGraph, PopulationNode, ProjectionEdge
    levels = np.atleast_1d(np.asarray(params["i_offset"] if i_offset is None else i_offset, float))
    n = levels.size
    p = {k: np.full(n, float(v)) for k, v in params.items() if np.ndim(v) == 0 and isinstance(v, (int, float))}
    p["i_offset"] = levels
    nodes = {"cells": PopulationNode("cells", cc.model, n, p, {"v": np.full(n, _initial_v(cc, params))})}
    edges = []
    for k, (receptor, w) in enumerate(weights or ()):
        nodes[f"src{k}"] = PopulationNode(f"src{k}", "SpikeSourceArray", 1, {}, kind="source")
        edges.append(ProjectionEdge(f"in{k}", f"src{k}", "cells", receptor, "StaticSynapse", np.zeros(1, np.int64),
                                    np.zeros(1, np.int64), {"weight": np.array([float(w)]), "delay": np.array([1.0])}))
    return ModelGraph(dt, 1, nodes, edges)


def loihi_quantisation(cc: CellClass, dt: float = 0.1, approximations=(), i_offset=None, weights=None):
    """The quantiser's report for a population of ``cc`` (``i_offset``: nA per neuron; ``weights``:
    ``[(receptor, weight)]`` of single input projections) and the population's registers:
    ``(population_report, projection_reports, LoihiPopulation)``. Raises the quantiser's
    UnsupportedModelError when the class has no form under ``approximations``."""
    from neurohybrid.mappings.loihi.quantize import quantize
    graph = _loihi_graph(cc, _pynn_parameters(cc), dt, i_offset, weights)
    circuit = quantize(graph, approximations=tuple(approximations), dt=dt)
    rep = circuit.report
    pops = rep.get("populations", {})
    prep = pops["cells"] if isinstance(pops, dict) else next(p for p in pops if p.get("name") == "cells")
    return prep, {p["name"]: p for p in rep.get("projections", [])}, circuit.populations["cells"]


def _loihi_form(cc: CellClass, dt: float, approximations) -> EngineForm:
    from neurohybrid.mappings.loihi.quantize import APPROXIMATIONS, refusal
    params = _pynn_parameters(cc)
    graph = _loihi_graph(cc, params, dt)
    node = graph.nodes["cells"]
    try:
        why = refusal(node, graph, ())
        used: tuple = ()
        if why is not None:
            allowed = tuple(APPROXIMATIONS) if approximations == "named" else tuple(approximations or ())
            if allowed and refusal(node, graph, allowed) is None:
                used = allowed
            else:
                return EngineForm("emulator-fixed", cc.name, cc.model, False, f"no Loihi form: {why}", reason=why)
        prep, _, pop = loihi_quantisation(cc, dt, used)
    except ParameterError as err:  # values Loihi's registers cannot hold (the partition raises these at build)
        why = str(err)
        return EngineForm("emulator-fixed", cc.name, cc.model, False, f"no Loihi form: {why}", reason=why)
    applied = tuple(prep.get("approximations", ()))
    P = prep["parameters"]
    native = {"dv": int(np.ravel(pop.dv)[0]), "du": int(np.ravel(pop.du)[0]), "vth": int(np.ravel(pop.vth)[0]),
              "refractory_steps": int(np.ravel(pop.refractory)[0]), "scale_v_per_mV": float(pop.scale),
              "tau_m_represented_ms": _first(P["tau_m"]["represented"]),
              "tau_m_rel_error": _relmax(P["tau_m"]),
              "tau_syn_represented_ms": _first(P.get("tau_syn_E", P.get("tau_syn", {})).get("represented")),
              "tau_syn_rel_error": _relmax(P.get("tau_syn_E", P.get("tau_syn", {}))),
              "v_thresh_represented_mV": _first(P["v_thresh"]["represented"]), "dt_ms": dt, "report": prep}
    how = f"with the named approximation(s) {', '.join(applied)}: " + "; ".join(APPROXIMATIONS[a] for a in applied) \
        if applied else "faithful"
    desc = (f"Loihi 2 fixed-point LIF ({prep.get('mapped_as', cc.model)}, {how}): dv={native['dv']} (tau_m "
            f"{native['tau_m_represented_ms']:.4g} ms), du={native['du']}, vth={native['vth']} at "
            f"{native['scale_v_per_mV']:.6g} v units/mV")
    return EngineForm("emulator-fixed", cc.name, cc.model, True, desc, native, applied,
                      reason=(f"no faithful form ({why}); uses {', '.join(applied)}" if applied else None))


def _first(x):
    if isinstance(x, dict):
        return float(x.get("mean", x.get("max", math.nan)))
    if x is None:
        return math.nan
    return float(np.ravel(x)[0])


def _relmax(entry: dict) -> float:
    err = (entry or {}).get("rel_error", 0.0)
    if isinstance(err, dict):
        err = err.get("max", 0.0)
    return float(err or 0.0)


def _neuron_native(cc: CellClass, params: dict) -> tuple[str, dict, float]:
    """(pyNN.neuron template, its native parameters, spike threshold mV) for the class."""
    template, thr = NEURON_FORMS[cc.model]
    from pyNN.neuron.standardmodels import cells as pnc
    ct = getattr(pnc, cc.model)(**params)
    ps = ct.native_parameters
    ps.shape = (1,)
    ps.evaluate(simplify=True)
    native = {k: (float(v) if np.ndim(v) == 0 else float(np.ravel(v)[0])) for k, v in ps.items()}
    native.update(getattr(ct, "extra_parameters", {}))
    threshold = float(params[thr]) if isinstance(thr, str) else float(thr)
    return template, native, threshold


def _neuron_form(cc: CellClass) -> EngineForm:
    if cc.model not in NEURON_FORMS:
        why = (f"{cc.model} has no single-compartment NEURON form here (supported: {', '.join(NEURON_FORMS)})")
        return EngineForm("neuron", cc.name, cc.model, False, why, reason=why)
    try:
        template, native, thr = _neuron_native(cc, _pynn_parameters(cc))
    except ImportError as err:
        why = f"NEURON / pyNN.neuron cannot be imported ({err})"
        return EngineForm("neuron", cc.name, cc.model, False, why, reason=why)
    desc = (f"single-compartment NEURON cell built by pyNN.neuron.cells.{template} from pyNN.neuron's translation "
            f"of the parameters; spikes = upward crossings of {thr:g} mV at the soma")
    return EngineForm("neuron", cc.name, cc.model, True, desc,
                      {"template": template, "parameters": native, "threshold_mV": thr})


def forms(cell_class: CellClass, engines=ENGINES, dt: float = 0.1, approximations="named") -> dict[str, EngineForm]:
    """Each engine's native form of ``cell_class``: engine name -> :class:`EngineForm`.

    ``dt``: the time step (ms) of the Loihi quantisation; ``approximations``: the named Loihi
    approximations a form may use when the class has no faithful Loihi form (``"named"``: any
    the project offers, ``()``: none).
    """
    if not isinstance(cell_class, CellClass):
        raise ParameterError("forms", "cell_class", f"{type(cell_class).__name__}", "a CellClass")
    out = {}
    for eng in _engines(engines):
        if eng == "emulator":
            params = _pynn_parameters(cell_class)
            out[eng] = EngineForm(eng, cell_class.name, cell_class.model, True, f"{cell_class.model} on the float "
                                  f"emulator (PyNN/NEST semantics; {_float_method(cell_class.model)})", params)
        elif eng == "emulator-fixed":
            out[eng] = _loihi_form(cell_class, dt, approximations)
        else:
            out[eng] = _neuron_form(cell_class)
    return out


def _float_method(model: str) -> str:
    if model in FIRST_ORDER_FLOAT:
        return FIRST_ORDER_FLOAT[model]
    return "adaptive RKF45 as NEST" if "cond" in model else "exact propagators (Rotter & Diesmann 1999)"


def _engines(engines) -> tuple:
    engines = ENGINES if engines is None else ((engines,) if isinstance(engines, str) else tuple(engines))
    bad = [e for e in engines if e not in ENGINES]
    if bad:
        raise ParameterError("forms", "engines", f"unknown engine(s) {bad}", ", ".join(ENGINES))
    return engines
