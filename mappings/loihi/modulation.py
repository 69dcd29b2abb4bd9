"""Fields on a quantised Loihi circuit: threshold, current and gain modulation in Loihi integers.

The engines that run a :class:`~neurohybrid.mappings.loihi.circuit.LoihiCircuit` (the
fixed-point emulator and Lava) apply a field the way the float emulator does, in Loihi's
registers. A field value arrives at a macro-step boundary and is quantised once, there:

- ``"threshold"`` (mV added to ``v_thresh``): ``vth = vth0 + rint(dθ · scale / 64)``; one vth
  step is ``64 / scale`` mV;
- ``"current"`` (nA added to ``i_offset``): the bias gains ``dI · tau_m / cm · (1 - b) · scale``
  v units per step (``b`` the represented v decay, as the quantiser keeps ``i_offset``'s
  steady state), re-split into a 13-bit mantissa and an exponent;
- ``"gain"`` (dimensionless, multiplies every synaptic input of a cell): every weight mantissa
  onto the cell is rescaled, ``w = rint(w0 · g)``, then clipped and truncated as Lava does
  (the projection's sign mode is kept). Unlike the float emulator, which scales input as it
  arrives, the gain applies to spikes *sent* after the change: spikes already on their way
  keep the weight they left with, as in Loihi's synapse memory;
- ``"gate:<projection>"`` (dimensionless in [0, 1], one value): that projection's weight
  mantissas are rescaled the same way, ``w = rint(w0 · gain · gate)`` (a gate of 0 silences
  it, 1 restores it exactly); the report has one entry ``"<post>.gate[<projection>]"`` with the
  represented fraction and its error.

Values a register cannot hold are clipped (vth to ``0 .. 2**17 - 1``, the bias to the 13-bit
mantissa at exponent 7, weights to 8 bits) and counted. The report
(:meth:`CircuitModulation.report`) states, per population and target, the quantum, the last
value asked for and represented, the largest error seen and the clipped cells.

A modulation is always relative to the circuit it was made from: the same field value twice
gives the same registers, and a zero offset (or a gain of 1) gives the unmodulated circuit.
"""
from __future__ import annotations

import dataclasses
import json

import numpy as np

from neurohybrid.errors import ParameterError, UnsupportedModelError
from neurohybrid.modulators import gate_value

from .circuit import LoihiCircuit
from .limits import BIAS_MANT_MAX, BIAS_MANT_MIN, VTH_MAX, VTH_SHIFT, limit
from .quantize_scale import bias_parts
from .runtime import lava_effective_weights, projection_sign_mode

__all__ = ["FIELD_TARGETS", "CircuitModulation"]

#: What a field can modulate on the Loihi path (the float emulator's names and units).
FIELD_TARGETS = ("current", "threshold", "gain")

_VTH_UNIT = float(1 << VTH_SHIFT)  # v units per vth step


def _neutral(target: str) -> float:
    """The field value that changes nothing (a gain of 1, an offset of 0)."""
    return 1.0 if target == "gain" else 0.0


def _per_cell(values, size: int, who: str, parameter: str) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if v.ndim > 1 or (v.ndim == 1 and v.size not in (1, size)):
        raise ParameterError(who, parameter, f"{v.size} values for {size} cells", "a scalar or one value per cell")
    if not np.all(np.isfinite(v)):
        raise ParameterError(who, parameter, "NaN or infinite field value", "finite numbers")
    return np.broadcast_to(v.reshape(-1) if v.ndim else v, (size,)).astype(float)


class CircuitModulation:
    """The fields acting on one circuit and the modulated circuit they make.

    ``circuit``: the unmodulated circuit (kept unchanged); ``graph``: the model graph it was
    quantised from (``tau_m`` and ``cm`` of each population, to turn nA into bias). Call
    :meth:`set` with a field value; :attr:`circuit` is then the modulated circuit.
    """

    def __init__(self, circuit: LoihiCircuit, graph):
        self.base = circuit
        self.graph = graph
        self.circuit = circuit
        self.active: dict[tuple[str, str], np.ndarray] = {}
        self._report: dict[str, dict] = {}

    def check(self, node: str, modulates: str) -> None:
        """Typed error unless a ``modulates`` field can act on population ``node``."""
        if modulates.startswith("gate:"):
            proj = modulates[5:]
            if not any(p.name == proj and p.post == node for p in self.base.projections):
                raise UnsupportedModelError(node, modulates, f"no projection {proj!r} into {node} in the Loihi circuit",
                                            ", ".join(p.name for p in self.base.projections if p.post == node)
                                            or "none")
            return
        if modulates not in FIELD_TARGETS:
            raise UnsupportedModelError(node, "modulates", f"{modulates!r} is not a field target on the Loihi path",
                                        ", ".join(FIELD_TARGETS))
        if node not in self.base.populations:
            raise UnsupportedModelError(node, "modulates", "not a neuron population of the Loihi circuit",
                                        ", ".join(self.base.populations) or "no populations")

    def set(self, node: str, modulates: str, values) -> str:
        """Apply field ``values`` (scalar or one per cell, units of :data:`FIELD_TARGETS` as in
        the module docstring) to ``node`` from now on. Returns what changed: ``"neurons"``
        (vth/bias registers), ``"weights"``, or ``None`` (the value in force already)."""
        self.check(node, modulates)
        size = self.base.populations[node].size
        if modulates.startswith("gate:"):
            values = gate_value(modulates[5:], np.unique(np.asarray(values, dtype=float).ravel()))
        v = _per_cell(values, size, node, modulates)
        neutral = _neutral(modulates)
        if np.array_equal(self.active.get((node, modulates), np.full(size, neutral)), v):
            return None
        if np.all(v == neutral):
            self.active.pop((node, modulates), None)
        else:
            self.active[(node, modulates)] = v.copy()
        if modulates == "gain" or modulates.startswith("gate:"):
            self.circuit = dataclasses.replace(self.circuit, projections=self._projections())
            return "weights"
        pops = dict(self.circuit.populations)
        pops[node] = self._population(node)
        self.circuit = dataclasses.replace(self.circuit, populations=pops)
        return "neurons"

    # --- snapshots ----------------------------------------------------------------------------
    def state(self) -> dict:
        """The fields in force, for engine snapshots (:mod:`neurohybrid.snapshot`): for every
        population and target, ``<population>/<target>`` = one value per cell in the target's
        units (float64; neutral where no field acts: 0, a gain of 1), and ``report`` (the JSON
        text of :meth:`report`)."""
        out = {}
        for node, pop in self.base.populations.items():
            for target in FIELD_TARGETS:
                v = self.active.get((node, target))
                out[f"{node}/{target}"] = np.full(pop.size, _neutral(target)) if v is None else v.copy()
        for proj in self.base.projections:
            v = self.active.get((proj.post, f"gate:{proj.name}"))
            out[f"{proj.post}/gate:{proj.name}"] = np.ones(self.base.populations[proj.post].size) if v is None \
                else v.copy()
        out["report"] = json.dumps(self._report)
        return out

    def restore(self, state: dict) -> None:
        """Make exactly the fields of :meth:`state` act (on :attr:`base`): :attr:`circuit` is then
        the circuit those fields make, as successive :meth:`set` calls made it."""
        active = {}
        for node, pop in self.base.populations.items():
            for target in FIELD_TARGETS:
                v = _per_cell(state[f"{node}/{target}"], pop.size, node, target)
                if not np.all(v == _neutral(target)):
                    active[(node, target)] = v
        for proj in self.base.projections:
            key = f"{proj.post}/gate:{proj.name}"
            if key in state and not np.all(np.asarray(state[key]) == 1.0):
                active[(proj.post, f"gate:{proj.name}")] = np.asarray(state[key], float).copy()
        self.active = active
        circuit = self.base
        shifted = sorted({node for node, target in active if target in ("threshold", "current")})
        if shifted:
            circuit = dataclasses.replace(circuit, populations={**circuit.populations,
                                                                **{n: self._population(n) for n in shifted}})
        if any(target == "gain" or target.startswith("gate:") for _, target in active):
            circuit = dataclasses.replace(circuit, projections=self._projections())
        self.circuit = circuit
        self._report = json.loads(state["report"])

    # --- registers ----------------------------------------------------------------------------
    def _population(self, node: str):
        pop = self.base.populations[node]
        n = pop.size
        changes = {}
        dth = self.active.get((node, "threshold"))
        if dth is not None:
            steps = np.rint(dth * pop.scale / _VTH_UNIT).astype(np.int64)
            vth = np.broadcast_to(np.asarray(pop.vth, np.int64), (n,)) + steps
            clipped = (vth < 0) | (vth > VTH_MAX)
            vth = np.clip(vth, 0, VTH_MAX)
            represented = (vth - np.broadcast_to(np.asarray(pop.vth, np.int64), (n,))) * _VTH_UNIT / pop.scale
            self._note(node, "threshold", "mV", _VTH_UNIT / pop.scale, dth, represented, clipped)
            changes["vth"] = vth.astype(np.int32)
        di = self.active.get((node, "current"))
        if di is not None:
            per_na = self._bias_per_na(node)  # v units per step per nA
            mant0 = np.broadcast_to(np.asarray(pop.bias_mant, np.int64), (n,))
            exp0 = np.broadcast_to(np.asarray(pop.bias_exp, np.int64), (n,))
            base = mant0 * (2.0 ** exp0)
            mant, exp, over = bias_parts(base + di * per_na)
            mant = np.where(over, np.where(mant > 0, BIAS_MANT_MAX, BIAS_MANT_MIN), mant)
            exp = np.where(over, limit("bias_exp_max"), exp)
            represented = (mant * (2.0 ** exp) - base) / per_na
            self._note(node, "current", "nA", 1.0 / per_na, di, represented, over)
            changes["bias_mant"], changes["bias_exp"] = mant.astype(np.int32), exp.astype(np.int32)
        return dataclasses.replace(pop, **changes) if changes else pop

    def _bias_per_na(self, node: str) -> np.ndarray:
        """v units per step that one nA of ``i_offset`` adds to the bias of each cell."""
        pop = self.base.populations[node]
        gnode = self.graph.nodes[node]
        tau_m = np.broadcast_to(np.asarray(gnode.parameters["tau_m"], float), (pop.size,))
        cm = np.broadcast_to(np.asarray(gnode.parameters["cm"], float), (pop.size,))
        one_minus_b = np.broadcast_to(np.asarray(pop.dv, float), (pop.size,)) / 4096.0
        return tau_m / cm * one_minus_b * pop.scale

    def _projections(self) -> list:
        out = []
        for proj in self.base.projections:
            g = self.active.get((proj.post, "gain"))
            gate = self.active.get((proj.post, f"gate:{proj.name}"))
            if g is None and gate is None:
                out.append(proj)
                continue
            n_post = self.base.populations[proj.post].size
            g = (np.ones(n_post) if g is None else g) * (1.0 if gate is None else gate[0])
            pre = self.base.populations.get(proj.pre) or self.base.inputs[proj.pre]
            mode = projection_sign_mode(proj, n_post, pre.size)
            rows = np.asarray(proj.rows, np.int64)
            w0 = np.broadcast_to(np.asarray(proj.weights, np.int64), rows.shape)
            ideal = w0 * g[rows]
            w = lava_effective_weights(np.clip(np.rint(ideal), -(1 << 15), (1 << 15) - 1), mode, proj.num_weight_bits)
            eff0 = lava_effective_weights(w0, mode, proj.num_weight_bits)
            with np.errstate(divide="ignore", invalid="ignore"):
                represented = np.where(eff0 != 0, w / np.where(eff0 != 0, eff0, 1), g[rows])
            lo, hi = {"mixed": (-256, 255), "excitatory": (0, 255), "inhibitory": (-255, 0)}[mode]
            clipped = (np.rint(ideal) < lo) | (np.rint(ideal) > hi)
            self._note(proj.post, "gain" if gate is None else "gate", "", None, g[rows], represented, clipped,
                       what=proj.name)
            out.append(dataclasses.replace(proj, weights=w.astype(np.int64), sign_mode=mode))
        return out

    # --- report -------------------------------------------------------------------------------
    def _note(self, node, modulates, unit, quantum, requested, represented, clipped, what=None):
        key = f"{node}.{modulates}" + (f"[{what}]" if what else "")
        entry = self._report.setdefault(key, {"population": node, "modulates": modulates, "unit": unit,
                                              "changes": 0, "max_abs_error": 0.0, "clipped_cells": 0})
        if quantum is not None:
            q = np.asarray(quantum, float)
            entry["quantum"] = float(q.max()) if q.size else 0.0
        err = np.abs(np.asarray(represented, float) - np.asarray(requested, float))
        entry["changes"] += 1
        entry["last_requested"] = float(np.mean(requested)) if np.size(requested) else 0.0
        entry["last_represented"] = float(np.mean(represented)) if np.size(represented) else 0.0
        entry["max_abs_error"] = max(entry["max_abs_error"], float(err.max()) if err.size else 0.0)
        entry["clipped_cells"] = max(entry["clipped_cells"], int(np.count_nonzero(clipped)))

    def report(self) -> dict:
        """Per ``"<population>.<target>"``: quantum (one register step, in ``unit``), number of
        changes, last value asked for / represented (means over cells), largest error, cells
        clipped at a register's range. For gain, one entry per projection, relative to 1."""
        return {k: dict(v) for k, v in self._report.items()}
