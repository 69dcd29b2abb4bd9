"""The mean-field side of a hybrid seam, checked against an exact stand-in.

A component that integrates the replaced region's own reduced Wong-Wang equation (Euler) and
emits its rate H(x) in Hz is a perfect replacement: the hybrid run must then reproduce the pure
mean-field run to rounding, for every region, although the data cross the seam only every
exchange interval. This pins down the lag bookkeeping (afferent input computed ``lag`` steps
early, replaced state integrated ``lag`` steps late) with no statistical slack.
"""
import math

import numpy as np
import pytest

from neurohybrid.adapters import MeanFieldComponent
from neurohybrid.backends.meanfield import (Connectome, EulerDeterministic, Linear, MeanFieldSimulation, Raw,
                                            ReducedWongWang, ReducedWongWangExcInh, Difference, SupHopf)
from neurohybrid.errors import CausalityError, LinkError, ParameterError, SimulationStateError, UnsupportedModelError
from neurohybrid.kernel import CoSimulation, Component, Series

DT = 0.1


class WongWangRegion(Component):
    """One ReducedWongWang region as a rate model: afferent c (as Hz = c, gain 1) in, H in Hz out."""

    inputs = {"afferent": "rates"}
    outputs = {"rates": "rates"}

    def __init__(self, name, S0, p):
        super().__init__(name)
        self.S, self.p, self.c = S0, p, 0.0
        self.tick = 0

    def advance(self, t_stop, inbox):
        msg = inbox["afferent"]
        p = self.p
        ticks = np.arange(self.tick, t_stop)
        out = np.empty((ticks.size, 1))
        j = 0
        for s, t in enumerate(ticks):
            while j < len(msg) and msg.ticks[j] <= t:
                self.c = msg.values[j, 0]
                j += 1
            x = p["w"] * p["J_N"] * self.S + p["I_o"] + p["J_N"] * self.c
            h = (p["a"] * x - p["b"]) / (1.0 - math.exp(-p["d"] * (p["a"] * x - p["b"])))
            out[s, 0] = 1000.0 * h  # kHz -> Hz
            S = self.S + DT * (-(self.S / p["tau_s"]) + (1.0 - self.S) * h * p["gamma"])
            self.S = min(max(S, 0.0), 1.0)
        self.tick = t_stop
        return {"rates": Series(ticks, out, 1, "rates")}

    def reset(self):
        raise NotImplementedError

    def state(self):
        return {"S": self.S, "c": self.c, "tick": self.tick}

    def restore(self, state):
        self.S, self.c, self.tick = state["S"], state["c"], state["tick"]


def _simulation(conn, x0, model=None, coupling=None):
    return MeanFieldSimulation(conn, model or ReducedWongWang(), coupling or Linear(a=0.5), speed=3.0, dt=DT,
                               integrator=EulerDeterministic(), monitors=[Raw()], initial_state=x0)


@pytest.mark.parametrize("lag", [1, 10, 30])
def test_exact_stand_in_reproduces_the_pure_run(lag):
    conn = Connectome.synthetic(8, seed=3)
    x0 = np.random.default_rng(0).uniform(0.05, 0.3, (1, 8))
    pure = _simulation(conn, x0).run(300.0)["raw"].data[:, 0, :]

    sim = _simulation(conn, x0)
    r = 3
    sim.replace([r], lag)
    got = []
    brain = MeanFieldComponent("brain", sim, on_monitors=lambda m: got.append(m["raw"].data[:, 0, :]))
    region = WongWangRegion("R3", x0[0, r], ReducedWongWang().params)
    cs = CoSimulation(dt=DT)
    cs.add(brain)
    cs.add(region)
    cs.connect("brain", "afferent:R3", "R3", "afferent", delay=lag)
    cs.connect("R3", "rates", "brain", "rates:R3", delay=lag)
    cs.run(300.0)
    assert cs.M == lag
    hybrid = np.concatenate(got)
    others = [i for i in range(8) if i != r]
    np.testing.assert_allclose(hybrid[:, others], pure[:, others], rtol=0, atol=1e-12)
    # the replaced region's recorded state runs ``lag`` steps behind
    np.testing.assert_allclose(hybrid[lag:, r], pure[:-lag, r], rtol=0, atol=1e-12)
    assert np.ptp(pure[:, others]) > 1e-3  # the run is not trivially constant


def test_snapshot_restore_continues_identically():
    conn = Connectome.synthetic(6, seed=1)
    sim = _simulation(conn, np.full((1, 6), 0.2))
    sim.replace([2], 5)
    sim.run(50.0, np.full((500, 1, 1), 3.0))
    snap = sim.snapshot()
    a = sim.run(20.0, np.full((200, 1, 1), 3.0))["raw"].data
    sim.restore(snap)
    b = sim.run(20.0, np.full((200, 1, 1), 3.0))["raw"].data
    np.testing.assert_array_equal(a, b)


def test_gating_follows_the_measured_rate():
    """A replaced RWWExcInh region at constant rates settles where its gating equations say."""
    conn = Connectome.synthetic(4, seed=2)
    sim = MeanFieldSimulation(conn, ReducedWongWangExcInh(), Linear(a=1.0), speed=3.0, dt=DT,
                              integrator=EulerDeterministic(), monitors=[Raw()], initial_state=np.zeros(2))
    sim.replace([1], 10)
    out = sim.run(2000.0, np.tile([4.0, 12.0], (20000, 1, 1)))["raw"].data[-1, :, 1]
    p = ReducedWongWangExcInh().params
    ge, te, gi, ti = p["gamma_e"], p["tau_e"], p["gamma_i"], p["tau_i"]
    se = ge * 4.0 / (1.0 / te + ge * 4.0)
    si = gi * 12.0 * ti
    np.testing.assert_allclose(out, [se, si], rtol=1e-3)


# ------------------------------------------------------------------ refused at build time
def test_delay_shorter_than_the_exchange_interval_is_refused():
    conn = Connectome.synthetic(6, seed=1)  # shortest tract 10 mm -> >= 3.3 ms at 3 mm/ms
    sim = _simulation(conn, np.full((1, 6), 0.2))
    with pytest.raises(CausalityError, match="exchange interval"):
        sim.replace([0], 200)  # 20 ms: longer than some of its tracts (10-120 mm at 3 mm/ms)


def test_two_replaced_regions_need_twice_the_interval():
    w = np.array([[0, 1.0], [1.0, 0]])
    L = np.array([[0, 9.0], [9.0, 0]])  # 3 ms at 3 mm/ms
    sim = MeanFieldSimulation(Connectome(w, L), ReducedWongWang(), Linear(a=0.5), speed=3.0, dt=DT,
                              initial_state=np.full(1, 0.2))
    sim.replace([0], 30)  # one replaced: 3 ms suffices
    sim2 = MeanFieldSimulation(Connectome(w, L), ReducedWongWang(), Linear(a=0.5), speed=3.0, dt=DT,
                               initial_state=np.full(1, 0.2))
    with pytest.raises(CausalityError):
        sim2.replace([0, 1], 30)


def test_models_without_a_seam_and_bad_regions_are_refused():
    conn = Connectome.synthetic(4, seed=2)
    hopf = MeanFieldSimulation(conn, SupHopf(), Linear(a=0.01), speed=3.0, dt=DT)  # Generic2dOscillator has one
    with pytest.raises(UnsupportedModelError, match="spike_seam"):
        hopf.replace([0], 5)
    sim = _simulation(conn, np.full((1, 4), 0.2))
    with pytest.raises(ParameterError, match="region index"):
        sim.replace([7], 5)
    with pytest.raises(ParameterError, match="twice"):
        sim.replace([1, 1], 5)
    diff = _simulation(conn, np.full((1, 4), 0.2), coupling=Difference())
    with pytest.raises(UnsupportedModelError, match="coupling"):
        diff.replace([0], 5)
    sim.run(1.0)
    with pytest.raises(SimulationStateError):
        sim.replace([0], 5)


def test_wrong_number_of_rate_columns_is_a_link_error():
    conn = Connectome.synthetic(4, seed=2)
    sim = _simulation(conn, np.full((1, 4), 0.2))
    sim.replace([0], 10)
    brain = MeanFieldComponent("brain", sim)
    brain.bind(DT)
    bad = Series(np.array([0]), np.ones((1, 2)), 1, "rates")
    with pytest.raises(LinkError, match="seam channel"):
        brain.advance(10, {"rates:R0": bad})
    with pytest.raises(ParameterError, match="not a replaced region"):
        MeanFieldComponent("b2", sim, afferent_gain={"R3": 1.0})
