"""Mean-field engine: The Virtual Brain's region-level neural-mass models on a connectome with
conduction delays, in one numba step loop (issue #4; standalone, the co-simulation kernel will
drive it later). Units: ms, mm, mm/ms, as TVB.

Models (TVB 2.10 equations and defaults, each checked against stored TVB output in the tests):
Generic2dOscillator, ReducedWongWang (Deco et al. 2013: the reduced Wong-Wang TVB's docs and
tutorials use by default), ReducedWongWangExcInh (Deco et al. 2014), WilsonCowan, JansenRit,
MontbrioPazoRoxin, SupHopf (Stuart-Landau / Hopf normal form), Kuramoto.
Couplings: Linear, Sigmoidal, Difference, KuramotoCoupling, SigmoidalJansenRit.
Integrators: HeunDeterministic, EulerDeterministic, HeunStochastic, EulerStochastic (additive).
Monitors: Raw (optionally sub-sampled), TemporalAverage, Bold (Balloon-Windkessel ODE, not TVB's
default Volterra-kernel HRF).

    conn = Connectome.from_tvb_zip("connectivity_76.zip")
    sim = MeanFieldSimulation(conn, ReducedWongWang(), Linear(a=0.5), speed=3.0, dt=0.1,
                              integrator=HeunStochastic(nsig=1e-4), monitors=[TemporalAverage(1.0), Bold()])
    out = sim.run(10_000.0)   # {"tavg": TimeSeries(time, data, ...), "bold": TimeSeries(...)}
"""
from .bold import Bold
from .connectome import Connectome
from .coupling import Difference, KuramotoCoupling, Linear, Sigmoidal, SigmoidalJansenRit
from .engine import MeanFieldSimulation
from .integrators import EulerDeterministic, EulerStochastic, HeunDeterministic, HeunStochastic
from .models import (MODELS, Generic2dOscillator, JansenRit, Kuramoto, MontbrioPazoRoxin, NeuralMassModel,
                     ReducedWongWang, ReducedWongWangExcInh, SupHopf, WilsonCowan)
from .monitors import Raw, TemporalAverage, TimeSeries

__all__ = ["Bold", "Connectome", "Difference", "EulerDeterministic", "EulerStochastic", "HeunDeterministic",
           "HeunStochastic", "KuramotoCoupling", "Linear", "MeanFieldSimulation", "Raw", "Sigmoidal",
           "TemporalAverage", "TimeSeries", "MODELS", "Generic2dOscillator", "Kuramoto", "NeuralMassModel",
           "ReducedWongWang", "ReducedWongWangExcInh", "SupHopf", "WilsonCowan", "MontbrioPazoRoxin", "JansenRit",
           "SigmoidalJansenRit"]
