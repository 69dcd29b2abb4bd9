"""Point neurons of a model graph → Loihi 2 fixed-point LIF (Lava ``lava.proc.lif`` semantics).

``quantize(graph)`` translates every point-neuron population of a :class:`ModelGraph` into a
:class:`~neurohybrid.mappings.loihi.circuit.LoihiPopulation`, every spike source into a
:class:`LoihiInput` and every projection into a :class:`LoihiProjection`, and writes a
quantisation report (``circuit.report``) that states, for every parameter, the value asked
for, the integer chosen, the value that integer stands for and the relative error.

The integer dynamics are those of ``backends/emulator/fixed.py`` (bit-exact with Lava 0.10
``fixed_pt``), per step::

    u = u * (4095 - du) / 4096 + (sum of weight mantissas << weight_exp) << 6
    v = v * (4096 - dv) / 4096 + u + (bias_mant << bias_exp)      (not while refractory)
    spike if v > vth << 6; then v = 0

Faithful maps (no approximation):

- ``IF_curr_delta`` (NEST ``iaf_psc_delta``): ``du = 4095`` clears u every step, so a weight
  is a jump of v in the step the spike arrives, as in NEST.
- ``IF_curr_exp`` (NEST ``iaf_psc_exp``) with ``tau_syn_E == tau_syn_I`` (one u per
  compartment).

Conventions (the choices the brief leaves open, and why):

- **Membrane potential**: ``v_loihi = (v_mV - v_rest) * scale``, so rest is 0 and Loihi's reset
  to 0 is a reset to ``v_rest``; hence ``v_reset`` must equal ``v_rest``.
- **Scale** (Loihi v units per mV, one per population): the largest threshold
  ``max(v_thresh - v_rest)`` maps to a vth mantissa ``M`` chosen in the octave below
  ``2**15`` (threshold at ``64 M <= 2**21`` v units). That leaves v (24 bit, saturating at
  ``±(2**23 - 1)``) and u (24 bit, *wrapping*) at least 4 thresholds of headroom each way, puts
  the largest 8-bit weight (``255 << 13``) at about one threshold per spike and the largest bias
  (``4095 << 7``) at a quarter threshold per step. Within that octave ``M`` is picked to minimise
  the relative error of the weights (and thresholds): weights of a projection often take one or
  two values, and a suitable ``M`` represents them exactly (for the Brunel network: J = 0.1 mV,
  -0.5 mV and θ = 20 mV are all exact). The octave moves down when larger weights, biases or
  initial potentials need the room, never below ``M = 2**10``.
- **Decays**: ``dv = rint(4096 (1 - e^{-dt/tau_m}))`` and ``du = rint(4095 - 4096
  e^{-dt/tau_syn})``: the representable decay factor nearest to ``e^{-dt/tau}`` (the 12-bit
  decay is the largest error source: at dt = 0.1 ms, tau_m = 20 ms becomes 20.43 ms).
  Loihi rounds each decayed product towards zero, less than one v unit per step (< 1e-6 θ).
- **Currents** (``i_offset`` and exponential PSCs) keep their steady-state effect on v exactly
  despite the rounded decays: a constant current I settles v at ``I tau_m / cm`` as in NEST,
  and a PSC of weight w (nA) adds ``w tau_syn tau_m / cm`` mV·ms to the membrane in total.
  Hence ``bias = i_offset tau_m/cm (1 - b)`` and the per-spike u increment
  ``w tau_syn tau_m / (cm dt) (1 - a)(1 - b)`` mV (``a``, ``b`` the represented u, v decay
  factors). Whether a neuron fires under a constant drive (the rheobase) is then preserved.
- **Voltage jumps** (``IF_curr_delta`` weights, mV) keep their height.
- **Delays** are rounded to steps (``rint(delay/dt)``; off-grid values are counted in the
  report). ``LoihiProjection.delays`` is the whole latency from the step a spike is emitted to
  the step it enters u: ``delay_steps`` for ``IF_curr_delta`` (NEST adds the jump in the
  arrival step) and ``delay_steps + 1`` for ``IF_curr_exp`` (NEST adds an arriving PSC to
  I_syn after the membrane update, so v first feels it one step later; in Loihi u enters v in
  the same step). With these latencies the integer dynamics follow NEST's step by step, up to
  quantisation. A spike emitted in step k (a neuron's, or an input's spike at emission tick
  k) reaches v in step ``k + delays``.
- **Refractoriness**: ``tau_refrac`` → ``refractory`` steps, counted as NEST does (nearest
  NEST tic, then up to whole steps); 0 is Lava ``LIF``, > 0 Lava ``LIFRefractory`` semantics.
- **Threshold**: Lava fires when ``v > vth << 6`` and NEST when ``V >= V_th``: one v unit
  apart (about 1e-6 of the threshold).

Plastic projections (``STDPSynapse``, ``VogelsSTDPSynapse``, ``DopamineSTDPSynapse``) become
learning connections (Lava ``LearningDense``) with a Loihi learning rule; the population they
target takes the scale at which their weight bound is the end of the mantissa range. The
mapping, its derivation and what it cannot represent: :mod:`neurohybrid.mappings.loihi.learning`
(its report is the projection's ``"learning"`` entry).

Everything else is refused with :class:`~neurohybrid.errors.UnsupportedModelError` (saying why
and what would work), unless a named approximation that covers it is requested in
``approximations`` (see :data:`APPROXIMATIONS`); applied approximations are recorded on the
population and in the report. Values that do not fit Loihi's registers raise
:class:`~neurohybrid.errors.ParameterError` / :class:`~neurohybrid.errors.DelayError` naming
the population or projection and the parameter.

Memory: projections are processed in chunks of :data:`CHUNK` synapses; the index arrays of the
graph are shared (not copied) by the circuit, and constant weights/delays (zero-stride
``np.broadcast_to`` arrays) stay constant (zero-copy) in the circuit. A circuit of 10**9
synapses with constant weights and delays costs no memory beyond the graph's own indices.

This module is the entry point; the work is split by concern: ``quantize_plan`` (per population
and projection: checks, decays, gains, and the choice of the scale), ``quantize_scale`` (the plan
made integer: registers, weight mantissas, latencies) and ``quantize_report`` (the report and its
text form, :func:`format_report`). The names other modules import from here stay here.
"""
from __future__ import annotations

import math

import neurohybrid
from neurohybrid.errors import ParameterError, UnsupportedModelError
from neurohybrid.graph import ModelGraph
from neurohybrid.graph.synapses import is_plastic

from .circuit import LoihiCircuit, LoihiInput
from .learning import plan_plastic
from .quantize_plan import (APPROXIMATIONS, CHUNK, FAITHFUL_MODELS, VTH_FLOOR, VTH_TARGET, _choose_scale,
                            _dc_currents, _EdgePlan, _plan_edge, _plan_population, plastic_extent, refractory_steps,
                            refusal)
from .quantize_report import CONVENTIONS, circuit_report, format_report
from .quantize_scale import _build_population, _build_projection, attach_learning

#: What this module offers (defined in the quantize_* modules, imported from here).
__all__ = ["quantize", "refusal", "format_report", "refractory_steps", "APPROXIMATIONS", "FAITHFUL_MODELS",
           "CONVENTIONS", "CHUNK", "VTH_TARGET", "VTH_FLOOR"]


def quantize(graph: ModelGraph, approximations=(), dt: float | None = None) -> LoihiCircuit:
    """Translate the point-neuron part of ``graph`` into a :class:`LoihiCircuit` (module docstring).

    ``approximations``: names from :data:`APPROXIMATIONS` the user accepts (anything not
    faithful and not covered is refused). ``dt`` (ms): the Loihi time step, a whole multiple
    of ``graph.dt`` (default ``graph.dt``). Nodes of kind ``"point"`` become populations, of
    kind ``"source"`` inputs; other kinds (handled by other engines) and the edges touching
    them are skipped and listed in ``circuit.report["skipped"]``.
    """
    approx = tuple(approximations or ())
    if isinstance(approximations, str):
        approx = (approximations,)
    unknown = [a for a in approx if a not in APPROXIMATIONS]
    if unknown:
        raise ParameterError("quantize", "approximations", f"unknown approximation(s) {unknown}",
                             ", ".join(APPROXIMATIONS))
    approx_set = set(approx)
    if dt is None:
        dt = float(graph.dt)
    dt = float(dt)
    if not (math.isfinite(dt) and dt > 0):
        raise ParameterError("quantize", "dt", f"{dt} ms", "a positive time step in ms")
    ratio = dt / graph.dt
    if abs(ratio - round(ratio)) > 1e-9 or round(ratio) < 1:
        raise ParameterError("quantize", "dt", f"{dt} ms is not a whole multiple of the graph's resolution "
                             f"{graph.dt} ms", f"k * {graph.dt} ms for an integer k >= 1")

    points = [n for n in graph.nodes.values() if n.kind == "point"]
    sources = [n for n in graph.nodes.values() if n.kind == "source"]
    mapped = {n.name for n in points}
    skipped_nodes = [n.name for n in graph.nodes.values() if n.kind not in ("point", "source")]
    extra = _dc_currents(graph, mapped)

    plans = {n.name: _plan_population(n, approx_set, dt, extra.get(n.name, 0.0)) for n in points}
    edge_plans: list[_EdgePlan] = []
    skipped_edges = []
    for edge in graph.edges:
        if edge.post not in plans or (edge.pre not in plans and edge.pre not in {s.name for s in sources}):
            skipped_edges.append(edge.name)
            continue
        plastic = is_plastic(edge.synapse)
        if edge.synapse != "StaticSynapse" and not plastic:
            why = ("short-term plasticity: Lava's Sparse/DelaySparse connections have static weights"
                   if edge.synapse == "TsodyksMarkramSynapse" else f"{edge.synapse} has no Loihi mapping")
            raise UnsupportedModelError(edge.name, "synapse_type", f"{edge.synapse}: {why}; no approximation is offered",
                                        "StaticSynapse, STDPSynapse, VogelsSTDPSynapse, DopamineSTDPSynapse")
        ep = _plan_edge(edge, plans[edge.post])
        if plastic:  # mappings/loihi/learning.py
            ep.plastic = plan_plastic(edge, plans[edge.post], ep.gain, graph.nodes[edge.pre].size, dt, approx_set)
            plastic_extent(ep)
        plans[edge.post].incoming.append(ep)
        edge_plans.append(ep)

    circuit = LoihiCircuit(dt_ms=dt)
    for name, plan in plans.items():
        _choose_scale(plan)
        circuit.populations[name] = _build_population(plan, dt)
    for s in sources:
        circuit.inputs[s.name] = LoihiInput(s.name, s.size, s.model)
    prj_reports = []
    for ep in edge_plans:
        prj, rep = _build_projection(ep, dt)
        if ep.plastic is not None:
            rep["learning"] = attach_learning(prj, ep, circuit.populations[ep.edge.post], dt, graph.seed)
        circuit.projections.append(prj)
        prj_reports.append({"name": prj.name, **rep})

    circuit.report = circuit_report(graph, dt, approx, plans, sources, prj_reports, skipped_nodes, skipped_edges,
                                    circuit)
    circuit.manifest = {"graph_seed": graph.seed, "graph_dt_ms": float(graph.dt), "dt_ms": dt,
                        "mapping": "neurohybrid.mappings.loihi.quantize", "neurohybrid_version": neurohybrid.__version__,
                        "semantics": "Lava 0.10 lava.proc.lif LIF / LIFRefractory, fixed_pt"}
    return circuit
