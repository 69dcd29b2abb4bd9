"""Fields on biophysical cells: a mechanism parameter scaled by a slow modulator.

A field with target ``"<mechanism>.<parameter>"`` (NEURON's names: ``"hh.gnabar"`` is the range
variable ``gnabar_hh``) sets, in every segment of every cell that has the mechanism, the
parameter to its value at build time times the field (dimensionless; one value for all cells
or one per cell). The way neuromodulators act on channel densities: a dopamine-like field of
0.8 on ``"hh.gkbar"`` is 20 % fewer delayed-rectifier channels. A field of 1 restores the
model; successive values do not accumulate.
"""
from __future__ import annotations

import numpy as np

from neurohybrid.errors import ParameterError, UnsupportedModelError

__all__ = ["MechanismField", "is_mechanism_target"]


def is_mechanism_target(modulates) -> bool:
    """True for ``"<mechanism>.<parameter>"``."""
    return isinstance(modulates, str) and modulates.count(".") == 1 and all(modulates.split("."))


def _sections(cell) -> list:
    if hasattr(cell, "sections"):
        return cell.sections()
    return list(cell.spike_source[0].sec.wholetree())


class MechanismField:
    """The segments of population ``node`` (``cells``: its built cells) whose mechanism
    parameter a field scales, with their values at build time."""

    def __init__(self, node: str, cells: list, modulates: str):
        if not is_mechanism_target(modulates):
            raise UnsupportedModelError(node, "modulates", f"{modulates!r} is not a mechanism parameter",
                                        "'<mechanism>.<parameter>', e.g. 'hh.gnabar'")
        mechanism, parameter = modulates.split(".")
        self.node, self.range_name = node, f"{parameter}_{mechanism}"
        # materialise the segments first: raising inside NEURON's segment iterator would leave
        # its node storage frozen until the iterator is collected (a later finitialize fails)
        pairs = [(i, seg) for i, cell in enumerate(cells) for sec in _sections(cell)
                 if sec.has_membrane(mechanism) for seg in list(sec)]
        if not pairs:
            raise UnsupportedModelError(node, "modulates", f"no section of its cells has the mechanism {mechanism!r}",
                                        "a mechanism inserted in the cells")
        if not hasattr(pairs[0][1], self.range_name):
            raise UnsupportedModelError(node, "modulates", f"mechanism {mechanism!r} has no parameter {parameter!r}",
                                        "a parameter of the mechanism (NEURON name)")
        self.segments = [seg for _, seg in pairs]
        self.cell_of = [i for i, _ in pairs]
        base = [getattr(seg, self.range_name) for seg in self.segments]
        self.base = np.asarray(base, float)
        self.cell_of = np.asarray(self.cell_of, np.int64)
        self.n_cells = len(cells)

    def set(self, values) -> None:
        """Scale the parameter by ``values`` (scalar or one per cell) from now on."""
        v = np.asarray(values, dtype=float).reshape(-1)
        if v.size not in (1, self.n_cells) or not np.all(np.isfinite(v)):
            raise ParameterError(self.node, self.range_name, f"field values {v!r}",
                                 f"a finite scalar or {self.n_cells} values (one per cell)")
        scaled = self.base * (v[0] if v.size == 1 else v[self.cell_of])
        name = self.range_name
        for seg, value in zip(self.segments, scaled):  # once per field sample, not per time step
            setattr(seg, name, float(value))
