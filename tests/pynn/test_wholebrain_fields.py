"""Fields from the scaffold acting on spiking populations (WholeBrain.modulate).

A constant field must be indistinguishable from the same change made to the model itself:
a current field of c nA is i_offset + c, a threshold field of d mV is v_thresh + d, a gain of
2 is every weight doubled (exact in binary). Spike trains are compared bit for bit.
"""
import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.errors import ParameterError, PlacementError, UnknownParameterError, UnsupportedModelError


def _run(modulates=None, value=None, cell=None, weight=0.1, numerics="float"):
    sim.setup(timestep=0.1, seed=3, threads=1, numerics=numerics)
    brain = sim.WholeBrain(sim.Connectome.synthetic(4, seed=1), model=sim.ReducedWongWangExcInh(G=0.5),
                           coupling=sim.LinearCoupling(a=1.0), exchange=2.0)
    P = sim.Population(60, sim.IF_curr_exp(**(cell or {})), label="P")
    bg = sim.Population(60, sim.SpikeSourcePoisson(rate=2500.0), label="bg")
    sim.Projection(bg, P, sim.OneToOneConnector(), sim.StaticSynapse(weight=weight, delay=1.0))
    P.record("spikes")
    if modulates:
        brain.modulate(P, "R1", "S_e", modulates=modulates, fn=lambda s: 0.0 * s + value, field="tone")
    sim.run(200.0)
    trains = [np.asarray(st) for st in P.get_data().segments[0].spiketrains]
    sim.end()
    return trains


@pytest.mark.parametrize("modulates, value, equivalent", [
    ("current", 0.3, dict(cell={"i_offset": 0.3})),
    ("threshold", -4.0, dict(cell={"v_thresh": -54.0})),
    ("gain", 2.0, dict(weight=0.2)),
])
def test_a_constant_field_equals_the_same_change_to_the_model(modulates, value, equivalent):
    with_field = _run(modulates, value)
    changed = _run(**equivalent)
    baseline = _run()
    assert all(np.array_equal(a, b) for a, b in zip(with_field, changed))
    assert sum(map(len, with_field)) != sum(map(len, baseline))


def test_a_time_varying_field_follows_the_region():
    """current = 6 nA * S_e(R1): the population's rate rises with the region's gating."""
    sim.setup(timestep=0.1, seed=3, threads=1)
    brain = sim.WholeBrain(sim.Connectome.synthetic(4, seed=1), model=sim.ReducedWongWangExcInh(G=0.5),
                           coupling=sim.LinearCoupling(a=1.0), exchange=2.0, initial_state=np.array([0.0, 0.0]))
    brain.record(["S_e"], sampling_interval=10.0)
    P = sim.Population(100, sim.IF_curr_exp(), label="P")
    P.record("spikes")
    brain.modulate(P, "R1", "S_e", modulates="current", fn=lambda s: 6.0 * s)
    sim.run(400.0)
    se = brain.get_data("S_e")["values"][:, 1]
    spikes = np.concatenate([np.asarray(st) for st in P.get_data().segments[0].spiketrains])
    counts = np.histogram(spikes, bins=np.arange(0.0, 401.0, 100.0))[0]
    sim.end()
    assert se[0] < 0.05 and se[-1] > 0.15  # the region's gating rises from 0 ...
    assert counts[0] < counts[-1]  # ... and the population follows it


def test_fields_are_refused_where_they_cannot_act():
    sim.setup(timestep=0.1, seed=3)
    brain = sim.WholeBrain(sim.Connectome.synthetic(4, seed=1), model=sim.ReducedWongWangExcInh(),
                           coupling=sim.LinearCoupling(a=1.0))
    P = sim.Population(10, sim.IF_curr_exp(), label="P")
    src = sim.Population(10, sim.SpikeSourcePoisson(rate=10.0), label="src")
    with pytest.raises(ParameterError, match="modulates"):
        brain.modulate(P, "R1", modulates="dopamine")
    with pytest.raises(UnknownParameterError):
        brain.modulate(P, "nowhere")
    with pytest.raises(UnknownParameterError):
        brain.modulate(P, "R1", variable="V")
    with pytest.raises(PlacementError):
        brain.modulate(src, "R1")
    brain.modulate(P, "R1", field="tone")
    with pytest.raises(ParameterError, match="already exists"):
        brain.modulate(P, "R2", field="tone")
    with pytest.raises(ParameterError, match="exchange"):  # no replaced region sets the interval
        sim.run(10.0)
    sim.end()


def test_the_loihi_path_refuses_fields():
    sim.setup(timestep=0.1, seed=3, numerics="fixed")
    brain = sim.WholeBrain(sim.Connectome.synthetic(4, seed=1), model=sim.ReducedWongWangExcInh(),
                           coupling=sim.LinearCoupling(a=1.0), exchange=2.0)
    P = sim.Population(10, sim.IF_curr_exp(tau_syn_E=5.0, tau_syn_I=5.0), label="P")
    brain.modulate(P, "R1", modulates="threshold")
    with pytest.raises(UnsupportedModelError, match="fields"):
        sim.run(10.0)
    sim.end()
