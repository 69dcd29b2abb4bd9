"""sim.surrogate: one call swaps a NEURON population for a surrogate; the rest of the script
is unchanged; bad swaps are typed errors."""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "surrogate"))
from surrogate_helpers import l5_builder, random_surrogate  # noqa: E402

import neurohybrid.pynn as sim  # noqa: E402
from neurohybrid.errors import ParameterError, UnsupportedModelError  # noqa: E402
from neurohybrid.surrogate import ModelHashWarning, save  # noqa: E402
from neurohybrid.surrogate.recording import model_hash  # noqa: E402


def island(n_l5=4):
    b = l5_builder()
    cell = sim.NeuronCell(b.cell_class, mechanisms=b.mechanisms, receptors=b.receptors, locations=b.locations,
                          spike_location="soma(0.5)", threshold=-10.0)
    L5 = sim.Population(n_l5, cell, label="L5")
    src = sim.Population(20, sim.SpikeSourcePoisson(rate=60.0), label="src")
    E = sim.Population(10, sim.IF_cond_exp(), label="E")
    sim.Projection(src, L5, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.001, delay=1.0),
                   receptor_type="AMPA_basal")
    sim.Projection(L5, E, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.02, delay=1.0),
                   receptor_type="excitatory")
    sim.Projection(E, L5, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.001, delay=1.0),
                   receptor_type="AMPA_tuft")
    for p in (L5, E):
        p.record("spikes")
    L5.record("v", locations=["soma", "tuft"])
    return L5, E


def matching_surrogate(L5):
    """A random-weight surrogate whose model hash is that of ``L5``'s cell (no warning)."""
    from neurohybrid.pynn.translate import biophysical_node
    return random_surrogate(model_hash=model_hash(biophysical_node(L5)))


def test_one_call_swaps_the_population_and_spikes_cross_engines(tmp_path):
    sim.setup(timestep=0.1, seed=3)
    L5, E = island()
    from neurohybrid.pynn.translate import biophysical_node
    path = save(random_surrogate(model_hash=model_hash(biophysical_node(L5))), tmp_path / "l5.nhs")
    sim.surrogate(L5, model=path)
    where = sim.placement()
    assert where["L5"]["engine"] == "surrogate" and "surrogate" in where["L5"]["reason"]
    assert where["E"]["engine"] == "emulator"
    sim.run(300.0)
    seg = L5.get_data().segments[0]
    assert sum(len(s) for s in seg.spiketrains) > 10
    assert {a.name for a in seg.analogsignals} == {"soma.v", "tuft.v"}
    assert seg.analogsignals[0].shape == (3001, 4)
    assert sum(len(s) for s in E.get_data().segments[0].spiketrains) > 0  # the surrogate's spikes reach E
    sim.end()


def test_bad_swaps_are_typed_errors(tmp_path):
    sim.setup(timestep=0.1, seed=3)
    L5, E = island()
    with pytest.raises(ParameterError, match="multi-compartment"):
        sim.surrogate(E, model=random_surrogate())
    with pytest.warns(ModelHashWarning):
        sim.surrogate(L5, model=random_surrogate(channels=("AMPA_basal", "AMPA_tuft")))
        sim.run(10.0)
    with pytest.raises(ParameterError, match="after the run started"):
        sim.surrogate(L5, model=None)
    sim.end()
    sim.setup(timestep=0.1, seed=3)
    L5, E = island()
    sim.surrogate(L5, model=random_surrogate(channels=("AMPA_basal",)))
    with pytest.raises(UnsupportedModelError, match="AMPA_tuft"):
        sim.run(10.0)
    sim.end()


def test_a_field_proxy_of_the_surrogate_reaches_point_neurons(tmp_path):
    """sim.modulate with proxy="mean_v:soma" reads the surrogate's predicted soma voltage, as it
    reads NEURON's; a proxy the surrogate does not predict is refused by name."""
    seen = []

    def fn(v):
        seen.append(v)
        return 0.0

    sim.setup(timestep=0.1, seed=3)
    L5, E = island()
    sim.surrogate(L5, model=matching_surrogate(L5))
    sim.modulate(E, L5, proxy="mean_v:soma", modulates="current", fn=fn, delay=1.0)
    sim.run(50.0)
    v = L5.get_data().segments[0].analogsignals
    soma = next(a for a in v if a.name == "soma.v")
    assert len(seen) >= 40 and np.isfinite(seen).all()
    assert min(seen) >= float(np.min(soma)) - 1e-9 and max(seen) <= float(np.max(soma)) + 1e-9
    sim.end()
    sim.setup(timestep=0.1, seed=3)
    L5, E = island()
    sim.surrogate(L5, model=matching_surrogate(L5))
    sim.modulate(E, L5, proxy="lfp", modulates="current", fn=fn, delay=1.0)
    with pytest.raises(ParameterError, match="lfp"):
        sim.run(10.0)
    sim.end()
