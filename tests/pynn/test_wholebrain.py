"""``sim.WholeBrain``: a mean-field scaffold in a PyNN script, with regions replaced by spiking
populations.

* Without replacement the front end runs exactly the mean-field engine (same numbers).
* Recording: ``brain.get_data`` shapes, times and units; the HDF5 run store holds the scaffold's
  signals, both seam signals per replaced region, the circuit's spikes and a manifest that
  describes the scaffold and the co-simulation.
* Bad input: every mistake is a typed error that names the object and the parameter.
* ``sim.reset()`` replays the first segment exactly.
"""
import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.backends.meanfield import MeanFieldSimulation, TemporalAverage
from neurohybrid.errors import (CausalityError, LinkError, ParameterError, PlacementError, RecordingError,
                                SimulationStateError, UnknownParameterError, UnsupportedModelError)
from neurohybrid.recording import open_run

DT = 0.1
CELL = dict(tau_m=20.0, v_thresh=-50.0, v_reset=-60.0, v_rest=-60.0, tau_refrac=2.0, tau_syn_E=5.0,
            tau_syn_I=5.0, cm=0.5)


@pytest.fixture
def session():
    sim.setup(timestep=DT, seed=3, threads=1)
    yield
    sim.end()


def _conn(n=4):
    return sim.Connectome.synthetic(n, seed=1)


def _brain(**kw):
    kw.setdefault("model", sim.ReducedWongWangExcInh(G=0.5))
    return sim.WholeBrain(kw.pop("connectome", _conn()), coupling=sim.LinearCoupling(a=1.0), speed=3.0, **kw)


def _circuit(nE=40, nI=10):
    E = sim.Population(nE, sim.IF_curr_exp(**CELL), label="E")
    I = sim.Population(nI, sim.IF_curr_exp(**CELL), label="I")
    sim.Projection(E, sim.Assembly(E, I), sim.FixedProbabilityConnector(0.2, rng=sim.NumpyRNG(seed=5)),
                   sim.StaticSynapse(weight=0.05, delay=1.0), receptor_type="excitatory")
    sim.Projection(I, sim.Assembly(E, I), sim.FixedProbabilityConnector(0.2, rng=sim.NumpyRNG(seed=6)),
                   sim.StaticSynapse(weight=-0.2, delay=1.0), receptor_type="inhibitory")
    return E, I


def _inputs():
    return sim.rates_to_spikes(weight=0.2, gain=1000.0, baseline=500.0)


# ------------------------------------------------------------------ pure scaffold
@pytest.mark.parametrize("integrator", ["heun", "stochastic"])
def test_pure_scaffold_equals_the_mean_field_engine(session, integrator):
    conn = _conn()
    x0 = np.random.default_rng(0).uniform(0.05, 0.5, (2, 4))
    integ = (lambda: sim.HeunDeterministic()) if integrator == "heun" else (lambda: sim.HeunStochastic(nsig=1e-4, seed=9))
    brain = _brain(connectome=conn, integrator=integ(), initial_state=x0)
    brain.record(["S_e", "S_i"], sampling_interval=1.0)
    sim.run(100.0)
    ref = MeanFieldSimulation(conn, sim.ReducedWongWangExcInh(G=0.5), sim.LinearCoupling(a=1.0), 3.0, DT, integ(),
                              [TemporalAverage(1.0, ("S_e", "S_i"))], x0).run(100.0)["tavg"]
    for k, var in enumerate(("S_e", "S_i")):
        got = brain.get_data(var)
        np.testing.assert_allclose(got["values"], ref.data[:, k, :], rtol=0, atol=1e-12)
        np.testing.assert_allclose(got["times"], ref.time, rtol=0, atol=1e-9)
    assert np.ptp(ref.data[:, 0, :]) > 1e-3  # not trivially constant


def test_scaffold_dt_coarser_than_the_time_step(session):
    conn = _conn()
    x0 = np.full(2, 0.2)
    brain = _brain(connectome=conn, dt=0.5, initial_state=x0)
    brain.record("S_e", sampling_interval=2.0)
    sim.run(40.0)
    ref = MeanFieldSimulation(conn, sim.ReducedWongWangExcInh(G=0.5), sim.LinearCoupling(a=1.0), 3.0, 0.5,
                              sim.HeunDeterministic(), [TemporalAverage(2.0, ("S_e",))], x0).run(40.0)["tavg"]
    got = brain.get_data("S_e")
    assert got["values"].shape == (20, 4)
    np.testing.assert_allclose(got["values"], ref.data[:, 0, :], rtol=0, atol=1e-12)
    np.testing.assert_allclose(got["times"], 1.0 + 2.0 * np.arange(20), atol=1e-9)


def test_reset_replays_the_pure_scaffold(session):
    brain = _brain(integrator=sim.HeunStochastic(nsig=1e-4))
    brain.record("S_e")
    sim.run(50.0)
    first = brain.get_data("S_e")["values"].copy()
    sim.reset()
    sim.run(50.0)
    again = brain.get_data("S_e")["values"]
    assert brain.get_data("S_e", segment=1)["values"].shape == (50, 4)
    np.testing.assert_array_equal(again, first)
    np.testing.assert_array_equal(brain.get_data("S_e", segment=0)["values"], first)


def test_runs_continue_where_they_stopped(session):
    brain = _brain()
    brain.record("S_e")
    sim.run(30.0)
    sim.run(20.0)
    two = brain.get_data("S_e")["values"].copy()
    sim.reset()
    sim.run(50.0)
    np.testing.assert_array_equal(brain.get_data("S_e")["values"], two)


# ------------------------------------------------------------------ hybrid recording
def test_recording_shapes_units_and_run_store(tmp_path):
    path = tmp_path / "x.h5"
    sim.setup(timestep=DT, seed=3, recording_path=path, threads=1)
    try:
        brain = _brain(label="cortex")
        E, I = _circuit()
        brain.replace("R2", [E, I], inputs=_inputs(), output=sim.spikes_to_rates())
        brain.record(["S_e", "S_i"], sampling_interval=1.0)
        brain.record_bold(period=20.0)
        sim.run(100.0)
        for var in ("S_e", "S_i"):
            d = brain.get_data(var)
            assert d["values"].shape == (100, 4)
            np.testing.assert_allclose(d["times"], 0.5 + np.arange(100), atol=1e-9)
            assert d["units"] == "dimensionless"
            np.testing.assert_array_equal(d["columns"], np.arange(4))
            assert np.all(np.isfinite(d["values"]))
        bold = brain.get_data("bold")
        assert bold["values"].shape == (5, 4)
        np.testing.assert_allclose(bold["times"], [20.0, 40.0, 60.0, 80.0, 100.0], atol=1e-9)
        aff = brain.get_data("R2.afferent")
        assert aff["values"].shape == (1000, 1) and aff["units"] == "Hz"
        np.testing.assert_allclose(aff["times"], DT * np.arange(1000), atol=1e-9)
        assert np.all(aff["values"] >= 0) and aff["values"].mean() > 500.0  # baseline 500 Hz + gain * c
        rates = brain.get_data("R2.rates")
        assert rates["values"].shape == (1000, 2) and rates["units"] == "Hz"
        np.testing.assert_allclose(rates["times"], DT * np.arange(1000), atol=1e-9)
        # the rates on the seam are the circuit's spikes, binned per mean-field step (box kernel)
        store = sim.state.network.store
        t_e, _ = store.read_spikes("E")
        assert t_e.size > 0
        np.testing.assert_allclose(rates["values"][:, 0].sum() * DT / 1000.0 * E.size, t_e.size, rtol=0.02)
        assert E.get_data().segments[0].spiketrains[0].units.dimensionality.string == "ms"
        with pytest.raises(RecordingError):
            brain.get_data("R3.rates")  # not a replaced region: nothing recorded
    finally:
        sim.end()
    with open_run(path) as store:
        pops = store.populations(0)
        for label in ("cortex", "R2.afferent", "R2.rates", "E", "I"):
            assert label in pops, pops
        assert store.variables("cortex") == ["S_e", "S_i", "bold"]
        assert store.has_spikes("E") and store.has_spikes("I")
        assert store.population_size("E") == 40 and store.population_size("I") == 10
        assert store.read_signal("cortex", "S_e")["samples"].shape == (100, 4)
        assert store.read_signal("R2.rates", "rate")["samples"].shape == (1000, 2)
        m = store.manifest
        wb, cs = m["wholebrain"], m["cosimulation"]
        assert wb["label"] == "cortex" and wb["connectome"]["n_regions"] == 4
        assert wb["model"]["type"] == "ReducedWongWangExcInh"
        assert wb["replaced"][0]["region"] == "R2" and wb["replaced"][0]["populations"] == ["E", "I"]
        assert cs["macro_step_ticks"] >= 1 and "cortex" in cs["components"] and "circuits" in cs["components"]
        assert {(l["source"], l["target"]) for l in cs["links"]} == {("cortex", "circuits"), ("circuits", "cortex")}


def test_hybrid_with_a_scaffold_step_coarser_than_the_time_step(session):
    brain = _brain(dt=0.5)
    E, I = _circuit()
    brain.replace("R2", [E, I], inputs=_inputs())
    brain.record("S_e", sampling_interval=1.0)
    sim.run(50.0)
    assert sim.state.network.hybrid.cosim.M % 5 == 0
    assert brain.get_data("S_e")["values"].shape == (50, 4)
    rates = brain.get_data("R2.rates")
    assert rates["values"].shape == (100, 2)
    np.testing.assert_allclose(rates["times"], 0.5 * np.arange(100), atol=1e-9)
    assert rates["values"][:, 0].mean() > 0


def test_reset_replays_the_hybrid_run(session):
    brain = _brain()
    E, I = _circuit()
    brain.replace("R2", [E, I], inputs=_inputs())
    brain.record("S_e")
    sim.run(60.0)
    sim.reset()
    sim.run(60.0)
    store = sim.state.network.store
    sim.state.network.hybrid.flush()
    for label in ("E", "I"):
        t0, i0 = store.read_spikes(label, 0)
        t1, i1 = store.read_spikes(label, 1)
        np.testing.assert_array_equal(t1, t0)
        np.testing.assert_array_equal(i1, i0)
    assert store.read_spikes("E", 0)[0].size > 0
    for var in ("S_e", "R2.afferent", "R2.rates"):
        np.testing.assert_array_equal(brain.get_data(var, segment=1)["values"], brain.get_data(var, segment=0)["values"])


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("bad", ["non-square", "negative", "nan-weights", "nan-lengths", "shape-mismatch"])
def test_bad_connectomes_are_refused(session, bad):
    w = np.array([[0.0, 1.0], [0.5, 0.0]])
    L = np.array([[0.0, 20.0], [20.0, 0.0]])
    if bad == "non-square":
        w, pname = np.ones((2, 3)), "weights"
    elif bad == "negative":
        L, pname = -L, "lengths"
    elif bad == "nan-weights":
        w, pname = w.copy(), "weights"
        w[0, 1] = np.nan
    elif bad == "nan-lengths":
        L, pname = L.copy(), "lengths"
        L[1, 0] = np.nan
    else:
        L, pname = np.zeros((3, 3)), "lengths"
    with pytest.raises(ParameterError) as e:
        sim.Connectome(w, L)
    assert e.value.parameter == pname
    with pytest.raises(ParameterError) as e:
        sim.WholeBrain((w, L), model=sim.ReducedWongWang())
    assert e.value.parameter == pname
    assert sim.state.wholebrain is None  # nothing half-made is left in the session


def test_bad_scaffold_parameters_are_refused(session):
    with pytest.raises(ParameterError, match="connectome"):
        sim.WholeBrain(np.eye(3), model=sim.ReducedWongWang())
    with pytest.raises(ParameterError, match="model"):
        sim.WholeBrain(_conn(), model="ReducedWongWang")
    with pytest.raises(ParameterError, match="dt"):
        sim.WholeBrain(_conn(), model=sim.ReducedWongWang(), dt=0.15)
    assert sim.state.wholebrain is None


def test_bad_regions_are_refused(session):
    brain = _brain()
    E, I = _circuit()
    with pytest.raises(UnknownParameterError) as e:
        brain.replace("V1", [E, I])
    assert "V1" in str(e.value) and "WholeBrain(brain)" in str(e.value) and "R0" in str(e.value)
    with pytest.raises(ParameterError, match="region") as e:
        brain.replace(4, [E, I])
    assert e.value.parameter == "region"
    with pytest.raises(ParameterError, match="region"):
        brain.replace(-1, [E, I])
    brain.replace(2, [E, I])  # by index works
    with pytest.raises(ParameterError, match="already replaced") as e:
        brain.replace("R2", [E, I])
    assert e.value.parameter == "region"


def test_model_without_a_spike_seam_is_refused(session):
    brain = _brain(model=sim.SupHopf())  # Generic2dOscillator has a seam since issue 14 (its V)
    E, I = _circuit()
    with pytest.raises(UnsupportedModelError, match="spike_seam"):
        brain.replace("R1", [E])


def test_wrong_number_of_populations_is_refused(session):
    brain = _brain()
    E, I = _circuit()
    with pytest.raises(ParameterError, match="seam channels") as e:
        brain.replace("R1", [E])
    assert e.value.parameter == "populations"
    with pytest.raises(ParameterError, match="seam channels"):
        brain.replace("R1", E)
    with pytest.raises(ParameterError, match="seam channels"):
        brain.replace("R1", [E, I, E])


def test_populations_that_cannot_speak_spikes_are_refused(session):
    brain = _brain()
    E, I = _circuit()
    poisson = sim.Population(10, sim.SpikeSourcePoisson(rate=10.0), label="P")
    with pytest.raises(PlacementError, match="SpikeSourcePoisson") as e:
        brain.replace("R1", [E, poisson])
    assert e.value.parameter == "populations" and "'P'" in str(e.value)
    with pytest.raises(PlacementError, match="not a Population"):
        brain.replace("R1", [E, "I"])
    with pytest.raises(PlacementError, match="SpikeSourcePoisson"):
        brain.replace("R1", [E, I], inputs=sim.rates_to_spikes(targets=[poisson]))
    assert brain.replacements == []


def test_converter_kinds_must_match_the_seam(session):
    brain = _brain()
    E, I = _circuit()
    with pytest.raises(LinkError, match="spikes to rates") as e:
        brain.replace("R1", [E, I], inputs=sim.spikes_to_rates(), output=sim.spikes_to_rates())
    assert e.value.parameter == "inputs"
    with pytest.raises(LinkError, match="rates to spikes") as e:
        brain.replace("R1", [E, I], inputs=sim.rates_to_spikes(), output=sim.rates_to_spikes())
    assert e.value.parameter == "output"
    with pytest.raises(LinkError, match="output"):
        brain.replace("R1", [E, I], output="box")
    assert brain.replacements == []
    assert not any(p.label.endswith(".inputs") for p in sim.state.populations)  # no stray input population


def test_exchange_longer_than_a_conduction_delay_is_a_causality_error(tmp_path):
    path = tmp_path / "c.h5"
    sim.setup(timestep=DT, seed=3, recording_path=path, threads=1)
    try:
        brain = _brain(exchange=40.0)  # the shortest tract into R2 is 17.5 ms at 3 mm/ms
        E, I = _circuit()
        E.record("v")
        brain.replace("R2", [E, I], inputs=_inputs())
        brain.record("S_e")
        with pytest.raises(CausalityError, match="exchange interval") as e:
            sim.run(50.0)
        assert "R2" in str(e.value)
        assert sim.get_current_time() == 0.0
        with pytest.raises(CausalityError):  # reports the same, cleanly, on a second try
            sim.run(50.0)
    finally:
        sim.end()
    with open_run(path) as store:
        assert "wholebrain" not in store.manifest  # the co-simulation never started
        assert "E" in store.populations(0)


def test_a_causality_error_loses_nothing_already_recorded(tmp_path):
    path = tmp_path / "c.h5"
    sim.setup(timestep=DT, seed=3, recording_path=path, threads=1)
    try:
        brain = _brain(exchange=40.0)
        E, I = _circuit()
        E.record("v")
        brain.replace("R2", [E, I], inputs=_inputs())
        with pytest.raises(CausalityError):
            sim.run(50.0)
    finally:
        sim.end()
    with open_run(path) as store:  # the t = 0 sample of v was recorded before the error
        assert store.read_signal("E", "v")["samples"].shape == (1, 40)


def test_off_grid_exchange_is_refused(session):
    brain = _brain(exchange=0.25)
    E, I = _circuit()
    brain.replace("R2", [E, I], inputs=_inputs())
    with pytest.raises(ParameterError, match="exchange"):
        sim.run(10.0)


def test_replace_and_record_after_the_first_run_are_refused(session):
    brain = _brain()
    E, I = _circuit()
    brain.replace("R2", [E, I], inputs=_inputs())
    sim.run(20.0)
    for call in (lambda: brain.replace("R1", [E, I]), lambda: brain.record("S_e"),
                 lambda: brain.record_bold(period=10.0)):
        with pytest.raises(SimulationStateError, match="already started") as e:
            call()
        assert "WholeBrain(brain)" in str(e.value)
    assert [r.label for r in brain.replacements] == ["R2"]
    sim.reset()  # still frozen after a reset: the co-simulation exists
    with pytest.raises(SimulationStateError):
        brain.record("S_e")
    sim.run(20.0)  # and it still runs


def test_structure_change_after_the_start_is_a_typed_error(session):
    brain = _brain()
    E, I = _circuit()
    brain.replace("R2", [E, I], inputs=_inputs())
    sim.run(10.0)
    sim.Population(4, sim.IF_curr_exp(**CELL), label="late")
    with pytest.raises(SimulationStateError, match="structure"):
        sim.run(10.0)
    try:
        sim.reset()
    except SimulationStateError:
        return
    with pytest.raises(SimulationStateError, match="structure"):
        sim.run(10.0)


def test_one_wholebrain_per_session(session):
    _brain(label="first")
    with pytest.raises(ParameterError, match="already has a WholeBrain") as e:
        _brain(label="second")
    assert "first" in str(e.value)
    assert sim.state.wholebrain.label == "first"


def test_bold_twice_and_unknown_variables_are_refused(session):
    brain = _brain()
    brain.record_bold(period=100.0)
    with pytest.raises(ParameterError, match="already recorded"):
        brain.record_bold(period=100.0)
    with pytest.raises(UnknownParameterError):
        brain.record(["V_m"])


def test_wholebrain_after_end_is_refused():
    sim.setup(timestep=DT)
    sim.end()
    with pytest.raises(SimulationStateError):
        sim.WholeBrain(_conn(), model=sim.ReducedWongWang())


def test_wholebrain_created_after_a_run_covers_only_the_new_run(session):
    E, I = _circuit()
    sim.run(10.0)
    try:
        brain = _brain()
    except SimulationStateError:
        return  # refusing is a correct answer too
    brain.replace("R2", [E, I], inputs=_inputs())
    brain.record("S_e")
    sim.run(20.0)
    assert brain.get_data("S_e")["values"].shape[0] == 20
