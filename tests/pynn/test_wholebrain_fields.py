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
        brain.modulate(P, "R1", modulates="serotonin")
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


@pytest.mark.parametrize("modulates, value, equivalent", [
    ("current", 0.3, dict(cell={"i_offset": 0.3})),
    ("threshold", -4.0, dict(cell={"v_thresh": -54.0})),
    ("gain", 2.0, dict(weight=0.2)),
])
def test_fields_act_on_the_loihi_path(modulates, value, equivalent):
    """On the fixed-point emulator a field is quantised to Loihi registers (vth steps of
    64/scale mV, bias steps, 8-bit weights) at its sample times, so it equals the same change
    to the model up to that quantisation (the quantiser picks the scale from the changed
    model): within 2 % in spike count, and far from the unmodulated run."""
    with_field = _run(modulates, value, numerics="fixed")
    changed = _run(**equivalent, numerics="fixed")
    baseline = _run(numerics="fixed")
    n_field, n_changed, n_base = (sum(map(len, t)) for t in (with_field, changed, baseline))
    print(f"{modulates}: field {n_field} spikes, same change to the model {n_changed}, unmodulated {n_base}")
    assert abs(n_field - n_changed) <= 0.02 * n_changed
    assert abs(n_field - n_base) > 0.2 * n_base


def test_the_field_quantisation_is_in_the_run_report():
    sim.setup(timestep=0.1, seed=3, numerics="fixed")
    brain = sim.WholeBrain(sim.Connectome.synthetic(4, seed=1), model=sim.ReducedWongWangExcInh(),
                           coupling=sim.LinearCoupling(a=1.0), exchange=2.0)
    P = sim.Population(10, sim.IF_curr_exp(), label="P")
    brain.modulate(P, "R1", modulates="threshold", fn=lambda s: -3.0 * s - 1.0, field="tone")
    sim.run(10.0)
    manifest = sim.state.network.store.manifest
    sim.end()
    entry = manifest["fields"]["circuits"]["P.threshold"]
    assert entry["unit"] == "mV" and entry["changes"] >= 1 and entry["quantum"] > 0
    assert entry["max_abs_error"] <= entry["quantum"] / 2 + 1e-12


def _three_fields(backend):
    """Three populations, each under a time-varying field of the region R1 (current, threshold,
    gain); spikes per population."""
    sim.setup(timestep=0.1, seed=3, numerics="fixed", backend=backend)
    brain = sim.WholeBrain(sim.Connectome.synthetic(4, seed=1), model=sim.ReducedWongWangExcInh(G=0.5),
                           coupling=sim.LinearCoupling(a=1.0), exchange=2.0, initial_state=np.array([0.0, 0.0]))
    bg = sim.Population(30, sim.SpikeSourcePoisson(rate=2500.0), label="bg")
    pops = {}
    for modulates, fn in (("current", lambda s: 6.0 * s), ("threshold", lambda s: -40.0 * s),
                          ("gain", lambda s: 1.0 + 8.0 * s)):
        p = pops[modulates] = sim.Population(30, sim.IF_curr_exp(), label=modulates)
        sim.Projection(bg, p, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.1, delay=1.0))
        p.record("spikes")
        brain.modulate(p, "R1", "S_e", modulates=modulates, fn=fn, field=f"f:{modulates}", period=10.0)
    sim.run(60.0)
    out = {m: [np.asarray(st) for st in p.get_data().segments[0].spiketrains] for m, p in pops.items()}
    sim.end()
    return out


def test_time_varying_fields_give_identical_spikes_on_lava_and_the_fixed_emulator():
    """The field is quantised once, by the shared Loihi modulation (mappings/loihi/modulation.py);
    Lava applies it through its Vars (threshold, current) or a rebuilt process graph (gain)."""
    from neurohybrid.backends.lava import lava_available
    ok, why = lava_available()
    if not ok:
        pytest.skip(why)
    fixed, lava = _three_fields("emulator"), _three_fields("lava")
    for modulates in fixed:
        n = sum(map(len, fixed[modulates]))
        print(f"{modulates}: {n} spikes on the fixed emulator, {sum(map(len, lava[modulates]))} on Lava")
        assert n > 0
        assert all(np.array_equal(a, b) for a, b in zip(fixed[modulates], lava[modulates])), modulates

