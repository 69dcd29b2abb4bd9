"""``excitability`` as a field target (issue 13): a dimensionless factor x > 0 that divides the
distance from v_rest to v_thresh (neurohybrid.modulators.excitable_threshold). On the float
emulator a constant field equals the same change of v_thresh in the model, bit for bit, alone
and combined with a threshold field; bad values and engines without it are typed errors."""
import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.errors import LinkError, ParameterError, UnsupportedModelError
from neurohybrid.modulators import excitable_threshold


def _circuit(numerics="float", cell=None):
    sim.setup(timestep=0.1, seed=3, threads=1, numerics=numerics)
    bg = sim.Population(40, sim.SpikeSourcePoisson(rate=2500.0, start=5.0), label="bg")
    P = sim.Population(40, sim.IF_curr_exp(**(cell or {})), label="P")  # v_rest -65, v_thresh -50 mV
    sim.Projection(bg, P, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.1, delay=1.0))
    P.record("spikes")
    return P


def _tone(name, value, units="1"):
    nucleus = sim.Population(1, sim.SpikeSourceArray(spike_times=[]), label=f"{name}.nucleus")
    return sim.Field(name, source=nucleus, tau=10.0, baseline=value, release=0.0, units=units)


def _spikes(P):
    out = [np.asarray(st) for st in P.get_data().segments[0].spiketrains]
    sim.end()
    return [s[s > 3.0] for s in out]  # the field acts after its two links (2 ms)


def test_the_definition():
    assert excitable_threshold("P", -65.0, -50.0, 0.0, 1.25) == -53.0  # 15 mV / 1.25
    assert excitable_threshold("P", -65.0, -50.0, -2.0, 2.0) == -58.5  # (15 - 2) / 2
    assert excitable_threshold("P", -65.0, -50.0, -2.0, 1.0) == -52.0  # x = 1: exactly the shift
    with pytest.raises(ParameterError, match=r"Population\(P\).*excitability"):
        excitable_threshold("P", -65.0, -50.0, 0.0, 0.0)


@pytest.mark.parametrize("fields, v_thresh", [({"excitability": 1.25}, -53.0),
                                              ({"excitability": 2.0, "threshold": -2.0}, -58.5)])
def test_a_constant_excitability_field_equals_the_same_threshold_in_the_model(fields, v_thresh):
    P = _circuit()
    for target, value in fields.items():
        _tone(target, value, "mV" if target == "threshold" else "1").modulate(P, target)
    sim.run(150.0)
    with_field = _spikes(P)
    P = _circuit(cell={"v_thresh": v_thresh})
    sim.run(150.0)
    changed = _spikes(P)
    assert sum(map(len, changed)) > 0
    assert all(np.array_equal(a, b) for a, b in zip(with_field, changed))


def test_bad_excitability_is_a_typed_error():
    P = _circuit()
    _tone("x", 0.0).modulate(P, "excitability")
    with pytest.raises(ParameterError, match=r"Population\(P\).*excitability"):
        sim.run(10.0)
    sim.end()

    P = _circuit()
    _tone("x", 1.0, units="mV").modulate(P, "excitability")
    with pytest.raises(LinkError, match="units"):
        sim.run(5.0)
    sim.end()

    P = _circuit("fixed")  # the Loihi path declares no excitability target
    _tone("x", 1.2).modulate(P, "excitability")
    with pytest.raises(UnsupportedModelError, match="excitability"):
        sim.run(5.0)
    sim.end()

    sim.setup(timestep=0.1)
    izh = sim.Population(5, sim.Izhikevich(), label="izh")  # no v_thresh, no v_rest
    _tone("x", 1.2).modulate(izh, "excitability")
    with pytest.raises(UnsupportedModelError, match="izh"):
        sim.run(5.0)
    sim.end()
