"""Fields as model components with their own dynamics (issue 13, items 2 and 3): a nucleus's
spikes release a concentration that decays to baseline (neurohybrid.modulators), consumed as
gain/threshold on every engine; several fields on one target by a declared rule; gates on
projections. Exactness: a constant field equals the same change to the model, bit for bit, on
the float emulator; the concentration equals its analytic solution."""
import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.errors import LinkError, ParameterError, UnsupportedModelError

DA_SPIKES = [5.0, 20.0, 21.0, 60.0]  # ms, spike times of the nucleus


def _circuit(numerics="float", weight=0.1, cell=None, backend="emulator"):
    sim.setup(timestep=0.1, seed=3, threads=1, numerics=numerics, backend=backend)
    bg = sim.Population(40, sim.SpikeSourcePoisson(rate=2500.0, start=5.0), label="bg")  # after the fields arrive
    P = sim.Population(40, sim.IF_curr_exp(**(cell or {})), label="P")
    prj = sim.Projection(bg, P, sim.OneToOneConnector(), sim.StaticSynapse(weight=weight, delay=1.0), label="bg_P")
    P.record("spikes")
    return P, prj


def _spikes(P):
    return [np.asarray(st) for st in P.get_data().segments[0].spiketrains]


def _tone(name, value):
    """A field held at ``value``: dynamics with no release, baseline ``value``."""
    nucleus = sim.Population(1, sim.SpikeSourceArray(spike_times=[]), label=f"{name}.nucleus")
    return sim.Field(name, source=nucleus, tau=10.0, baseline=value, release=0.0)


def test_the_concentration_is_the_analytic_release_and_uptake():
    """c(t) = sum over spikes of release * exp(-(t - t_s - lag) / tau), sampled every ms; a
    spike at t_s (emitted in the step ending at t_s) is released two periods after its emission
    step (the two links of the field)."""
    P, _ = _circuit()
    vta = sim.Population(1, sim.SpikeSourceArray(spike_times=DA_SPIKES), label="VTA")
    da = sim.Field("dopamine", source=vta, tau=50.0, release=0.5, units="1")
    da.modulate(P, "gain", fn=lambda c: 1.0 + c)
    sim.run(100.0)
    got = da.get_data("concentration")
    applied = da.get_data()
    sim.end()
    t = got["times"]
    emitted = np.array(DA_SPIKES) - 0.1  # emission step start
    lag = 1.0  # one period (1 ms) on the link into the field
    expect = np.zeros_like(t)
    for ts in emitted:
        dt = t - (ts + lag)
        expect += np.where(dt >= -1e-9, 0.5 * np.exp(-np.maximum(dt, 0.0) / 50.0), 0.0)
    np.testing.assert_allclose(got["values"][:, 0], expect, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(applied["values"][:, 0], 1.0 + expect, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("modulates, value, equivalent", [
    ("gain", 2.0, dict(weight=0.2)),
    ("threshold", -4.0, dict(cell={"v_thresh": -54.0})),
])
def test_a_constant_field_with_dynamics_equals_the_same_change_to_the_model(modulates, value, equivalent):
    P, _ = _circuit()
    _tone("tone", value).modulate(P, modulates)
    sim.run(150.0)
    with_field = _spikes(P)
    sim.end()
    P, _ = _circuit(**equivalent)
    sim.run(150.0)
    changed = _spikes(P)
    sim.end()
    # the field reaches the cells after its two links (2 ms): compare from then on
    late = [a[a > 3.0] for a in with_field], [b[b > 3.0] for b in changed]
    assert sum(map(len, late[0])) > 0
    assert all(np.array_equal(a, b) for a, b in zip(*late))


def test_two_fields_on_one_target_compose_by_product():
    P, _ = _circuit()
    _tone("a", 1.25).modulate(P, "gain")
    _tone("b", 1.6).modulate(P, "gain")
    sim.run(150.0)
    two = _spikes(P)
    sim.end()
    P, _ = _circuit(weight=0.2)  # 0.1 * 1.25 * 1.6 = 0.2
    sim.run(150.0)
    one = _spikes(P)
    sim.end()
    assert all(np.array_equal(a, b) for a, b in zip(two, one))


def test_a_gate_multiplies_the_projection_efficacy():
    runs = {}
    for gate in (1.0, 0.5, 0.0):
        P, prj = _circuit()
        _tone(f"g", gate).gate(prj)
        sim.run(150.0)
        runs[gate] = _spikes(P)
        sim.end()
    for weight in (0.1, 0.05):
        P, _ = _circuit(weight=weight)
        sim.run(150.0)
        runs[weight] = _spikes(P)
        sim.end()
    same = lambda a, b: all(np.array_equal(x, y) for x, y in zip(a, b))  # noqa: E731
    assert same(runs[1.0], runs[0.1]) and same(runs[0.5], runs[0.05])
    assert sum(len(x[x > 3.0]) for x in runs[0.0]) == 0


def _loihi_run(backend):
    P, prj = _circuit("fixed", backend=backend)
    vta = sim.Population(5, sim.SpikeSourcePoisson(rate=40.0), label="VTA")
    sim.Field("dopamine", source=vta, tau=20.0, release=0.2, bounds=(0.0, 3.0)).modulate(P, "gain",
                                                                                      fn=lambda c: 1.0 + c)
    sim.Field("g", source=vta, tau=20.0, baseline=1.0, release=-0.05, bounds=(0.0, 1.0)).gate(prj)
    sim.run(40.0)
    out = _spikes(P)
    manifest = sim.state.network.store.manifest
    sim.end()
    return out, manifest


def test_fields_and_gates_give_identical_spikes_on_the_fixed_emulator_and_lava():
    from neurohybrid.backends.lava import lava_available
    fixed, manifest = _loihi_run("emulator")
    entry = manifest["fields"]["circuits"]
    assert any(k.startswith("P.gate[") for k in entry)  # gain x gate of the gated projection, quantised
    assert sum(map(len, fixed)) > 0
    ok, why = lava_available()
    if not ok:
        pytest.skip(why)
    lava, _ = _loihi_run("lava")
    assert all(np.array_equal(a, b) for a, b in zip(fixed, lava))


def test_bad_fields_are_typed_errors():
    P, prj = _circuit()
    sim.Field("orphan").modulate(P, "gain")
    with pytest.raises(LinkError, match="orphan.*producer"):
        sim.run(5.0)
    sim.end()

    P, _ = _circuit()
    with pytest.raises(ParameterError, match="tau"):
        sim.Field("bad", source=P, tau=-1.0)
    sim.Field("nm", source=P, tau=10.0, units="nA").modulate(P, "gain")
    with pytest.raises(LinkError, match="units"):
        sim.run(5.0)
    sim.end()

    P, _ = _circuit()
    _tone("x", 0.1).modulate(P, "current")
    sim.Field("y", source=P, tau=10.0, units="mV").modulate(P, "current")
    with pytest.raises(LinkError, match="units"):
        sim.run(5.0)
    sim.end()

    P, _ = _circuit()
    sim.Field("x", source=P, tau=10.0, compose="sum").modulate(P, "gain")
    sim.Field("y", source=P, tau=10.0, compose="product").modulate(P, "gain")
    with pytest.raises(LinkError, match="compose"):
        sim.run(5.0)
    sim.end()

    P, _ = _circuit("fixed")  # the Loihi path has no plasticity_rate target on a static circuit
    _tone("x", 1.0).modulate(P, "plasticity_rate")
    with pytest.raises(UnsupportedModelError, match="plasticity_rate"):
        sim.run(5.0)
    sim.end()


def test_a_gate_outside_0_1_is_an_error_that_keeps_what_was_recorded():
    P, prj = _circuit()
    vta = sim.Population(1, sim.SpikeSourceArray(spike_times=[30.0]), label="VTA")
    sim.Field("g", source=vta, tau=10.0, baseline=1.0, release=0.5).gate(prj)  # 1.5 after the spike
    with pytest.raises(ParameterError, match=r"Projection\(bg_P.*gate"):
        sim.run(100.0)
    times, _ = sim.state.network.spikes("P")  # the run store: everything before the error is there
    sim.end()
    assert times.size > 0 and times.max() < 35.0
