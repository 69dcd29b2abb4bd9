"""Long-range coupling functions, TVB ``tvb.simulator.coupling`` semantics.

Each class holds its parameters and a ``kind``; the simulation kernel
(:mod:`~neurohybrid.backends.meanfield.engine`) evaluates the function of that kind on the
delayed coupling variables, c_i = post(sum_j w_ij pre(x_i, x_j(t - d_ij))), with ``vector()``
(the parameters in a fixed order) as its arguments.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class Coupling:
    """Base of TVB's long-range coupling functions: c_i = post(sum_j w_ij pre(x_i, x_j(t - d_ij)))."""
    kind = -1
    param_names: tuple[str, ...] = ()

    def vector(self) -> np.ndarray:
        return np.array([float(getattr(self, n)) for n in self.param_names] + [0.0] * (5 - len(self.param_names)))

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self.param_names)})"


@dataclass(repr=False)
class Linear(Coupling):
    """TVB ``coupling.Linear``: c = a * sum_j w_ij x_j + b (a, b dimensionless; TVB defaults)."""
    a: float = 0.00390625
    b: float = 0.0
    kind = 0
    param_names = ("a", "b")


@dataclass(repr=False)
class Sigmoidal(Coupling):
    """TVB ``coupling.Sigmoidal``: c = cmin + (cmax - cmin) / (1 + exp(-a (gx - midpoint) / sigma)),
    gx = sum_j w_ij x_j."""
    cmin: float = -1.0
    cmax: float = 1.0
    midpoint: float = 0.0
    a: float = 1.0
    sigma: float = 230.0
    kind = 1
    param_names = ("cmin", "cmax", "midpoint", "a", "sigma")


@dataclass(repr=False)
class Difference(Coupling):
    """TVB ``coupling.Difference``: c = a * sum_j w_ij (x_j(t - d_ij) - x_i(t))."""
    a: float = 0.1
    kind = 2
    param_names = ("a",)


@dataclass(repr=False)
class KuramotoCoupling(Coupling):
    """TVB ``coupling.Kuramoto``: c = a * sum_j w_ij sin(x_j(t - d_ij) - x_i(t)). TVB's docstring
    says a/N, but its code divides by the number of coupling variables (1); we follow the code."""
    a: float = 1.0
    kind = 3
    param_names = ("a",)


@dataclass(repr=False)
class SigmoidalJansenRit(Coupling):
    """TVB ``coupling.SigmoidalJansenRit`` (for :class:`JansenRit`, coupling variables y1, y2):
    c = a * sum_j w_ij (cmin + (cmax - cmin) / (1 + exp(r (midpoint - (y1_j - y2_j)))))."""
    cmin: float = 0.0
    cmax: float = 2.0 * 0.0025
    midpoint: float = 6.0
    r: float = 0.56
    a: float = 1.0
    kind = 4
    param_names = ("cmin", "cmax", "midpoint", "r", "a")
