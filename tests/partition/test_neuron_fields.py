"""Fields on NEURON cells: a WholeBrain region's field scales a mechanism parameter
(backends/neuron/fields.py), and targets an engine lacks are refused by name."""
import pytest
from partition_cells import mc_celltype

import neurohybrid.pynn as sim
from neurohybrid.errors import ParameterError, PlacementError, UnsupportedModelError


def _hh_cells(modulates=None, fn=None):
    """Two HH cells driven by a step current; a field of region R1 on a mechanism parameter."""
    sim.setup(timestep=0.025, seed=3)
    brain = sim.WholeBrain(sim.Connectome.synthetic(4, seed=1), model=sim.ReducedWongWangExcInh(),
                           coupling=sim.LinearCoupling(a=1.0), exchange=1.0)
    mc = sim.Population(2, mc_celltype(), label="mc")
    sim.DCSource(amplitude=0.5, start=1.0, stop=100.0).inject_into(mc, location="soma")
    mc.record("spikes")
    if modulates:
        brain.modulate(mc, "R1", modulates=modulates, fn=fn, field="tone")
    sim.run(60.0)
    n = sum(len(st) for st in mc.get_data().segments[0].spiketrains)
    sim.end()
    return n


def test_a_field_scales_a_mechanism_parameter_of_neuron_cells():
    """gnabar_hh times 0 silences the cells (no sodium current, no spikes); times 1 is the model."""
    base = _hh_cells()
    assert base > 0
    assert _hh_cells("hh.gnabar", lambda s: 0.0 * s + 1.0) == base
    assert _hh_cells("hh.gnabar", lambda s: 0.0 * s) == 0


def _session():
    sim.setup(timestep=0.025, seed=3)
    brain = sim.WholeBrain(sim.Connectome.synthetic(4, seed=1), model=sim.ReducedWongWangExcInh(),
                           coupling=sim.LinearCoupling(a=1.0), exchange=1.0)
    return brain, sim.Population(2, mc_celltype(), label="mc")


def test_a_field_target_an_engine_lacks_is_refused_by_name():
    brain, mc = _session()
    P = sim.Population(2, sim.IF_curr_exp(), label="P")
    with pytest.raises(ParameterError, match="P is a population of point neurons"):
        brain.modulate(P, "R1", modulates="hh.gnabar")
    with pytest.raises(PlacementError, match="mc is a population of biophysical cells"):
        brain.modulate(mc, "R1", modulates="gain")
    sim.end()
    for modulates, match in (("nope.g", "mc.*no section.*'nope'"), ("hh.gmood", "mc.*no parameter 'gmood'")):
        brain, mc = _session()
        brain.modulate(mc, "R1", modulates=modulates)
        with pytest.raises(UnsupportedModelError, match=match):
            sim.run(1.0)
        sim.end()


def test_the_neuron_engine_refuses_a_point_neuron_target():
    sim.setup(timestep=0.025, seed=3)
    sim.Population(1, mc_celltype(), label="mc")
    sim.run(0.5)
    engine = sim.state.network.neuron_engine
    with pytest.raises(UnsupportedModelError, match="mc.*modulates.*'gain'"):
        engine.prepare_field("mc", "gain")
    sim.end()
