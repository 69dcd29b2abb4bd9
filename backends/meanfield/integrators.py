"""Integration schemes, TVB ``tvb.simulator.integrators`` semantics: Heun and Euler, deterministic
or with additive noise (TVB ``noise.Additive``). Each class selects a ``scheme`` (0 Euler, 1 Heun)
of the simulation kernel (:mod:`~neurohybrid.backends.meanfield.engine`), which applies the
state-variable boundaries after the predictor and after the corrector and adds the same noise
sample to both.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class HeunDeterministic:
    """TVB ``HeunDeterministic`` (predictor-corrector, 2nd order)."""
    scheme = 1
    stochastic = False


@dataclass
class EulerDeterministic:
    """TVB ``EulerDeterministic``."""
    scheme = 0
    stochastic = False


@dataclass
class HeunStochastic:
    """TVB ``HeunStochastic`` with ``noise.Additive(nsig)``: the increment sqrt(dt)·sqrt(2·nsig)·N(0,1)
    is added to predictor and corrector. ``nsig`` (the diffusion D, state units²/ms) is a scalar,
    one value per state variable, or an (nvar, n_regions) array. ``seed`` keys numpy's
    default_rng (our streams differ from TVB's, the statistics are the same)."""
    nsig: object = 1.0
    seed: int = 42
    scheme = 1
    stochastic = True


@dataclass
class EulerStochastic(HeunStochastic):
    """TVB ``EulerStochastic`` (Euler–Maruyama) with additive noise, conventions as HeunStochastic."""
    scheme = 0
