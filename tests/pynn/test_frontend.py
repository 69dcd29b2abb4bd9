"""The PyNN front end: control flow, populations, recording to Neo, reset semantics, bad input."""
import h5py
import numpy as np
import pytest
import quantities as pq

import neurohybrid.pynn as sim
from neurohybrid import errors


@pytest.fixture
def session(tmp_path):
    sim.setup(timestep=0.1, min_delay=0.1, recording_path=tmp_path / "run.h5")
    yield tmp_path
    sim.end()


def test_time_queries_and_run_forms(session):
    assert sim.get_time_step() == 0.1
    assert sim.get_current_time() == 0.0
    sim.run(10.0)
    assert sim.get_current_time() == pytest.approx(10.0)
    sim.run_until(25.0)
    sim.run_for(5.0)
    assert sim.get_current_time() == pytest.approx(30.0)
    assert sim.get_min_delay() == 0.1


def test_population_parameters_get_set(session):
    p = sim.Population(4, sim.IF_curr_exp(tau_m=15.0), label="p")
    assert p.get("tau_m") == 15.0
    p.set(tau_m=[10.0, 11.0, 12.0, 13.0])
    np.testing.assert_array_equal(p.get("tau_m"), [10.0, 11.0, 12.0, 13.0])
    p[1:3].set(cm=2.0)
    np.testing.assert_array_equal(p.get("cm"), [1.0, 2.0, 2.0, 1.0])
    assert p[0].tau_m == 10.0


def test_dc_driven_neuron_spikes_and_neo_output(session):
    p = sim.Population(2, sim.IF_curr_exp(i_offset=[0.0, 1.0], tau_refrac=2.0), label="cells")
    p.record(["spikes", "v"])
    sim.run(100.0)
    block = p.get_data()
    seg = block.segments[0]
    assert len(seg.spiketrains) == 2
    assert len(seg.spiketrains[0]) == 0
    # V_inf = -65 + 1 nA * 20 MOhm = -45 mV: first crossing of -50 mV at 20 ln 4 = 27.73 ms,
    # stamped at the end of the step in which it happens
    assert float(seg.spiketrains[1][0].rescale(pq.ms).magnitude) == pytest.approx(27.8)
    assert len(seg.spiketrains[1]) == 3
    assert seg.spiketrains[1].units == pq.ms
    v = seg.filter(name="v")[0]
    assert v.shape == (1001, 2)
    assert v.units == pq.mV
    assert v.sampling_period == 0.1 * pq.ms
    np.testing.assert_allclose(v.magnitude[:, 0], -65.0)
    assert block.annotations["simulator"] == "neurohybrid"
    assert block.annotations["size"] == 2


def test_sampling_interval(session):
    p = sim.Population(3, sim.IF_curr_exp(i_offset=0.5), label="p")
    p.record("v", sampling_interval=1.0)
    sim.run(50.0)
    v = p.get_data().segments[0].filter(name="v")[0]
    assert v.shape == (51, 3)
    assert v.sampling_period == 1.0 * pq.ms


def test_reset_starts_new_segment_with_same_result(session):
    p = sim.Population(1, sim.IF_curr_exp(i_offset=1.0), label="p")
    p.record("spikes")
    sim.run(50.0)
    sim.reset()
    assert sim.get_current_time() == 0.0
    sim.run(50.0)
    segs = p.get_data().segments
    assert len(segs) == 2
    np.testing.assert_array_equal(segs[0].spiketrains[0].magnitude, segs[1].spiketrains[0].magnitude)


def test_run_twice_equals_run_once(tmp_path):
    def spikes(split):
        sim.setup(timestep=0.1, recording_path=tmp_path / f"r{split}.h5")
        src = sim.Population(20, sim.SpikeSourcePoisson(rate=200.0), label="src")
        p = sim.Population(10, sim.IF_curr_exp(), label="p")
        sim.Projection(src, p, sim.FixedProbabilityConnector(0.5, rng=sim.NumpyRNG(3)),
                       sim.StaticSynapse(weight=0.8, delay=1.0))
        p.record("spikes")
        if split:
            sim.run(37.3)
            sim.run(62.7)
        else:
            sim.run(100.0)
        trains = [st.magnitude.copy() for st in p.get_data().segments[0].spiketrains]
        sim.end()
        return trains

    a, b = spikes(False), spikes(True)
    assert sum(len(t) for t in a) > 0
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_hdf5_file_is_sonata_and_matches_neo(session):
    p = sim.Population(5, sim.IF_curr_exp(i_offset=1.0), label="cells")
    p.record("spikes")
    sim.run(100.0)
    neo_trains = p.get_data().segments[0].spiketrains
    with h5py.File(session / "run.h5", "r") as f:
        grp = f["spikes/cells"]
        assert grp["timestamps"].dtype == np.float64
        assert grp["node_ids"].dtype == np.uint64
        assert grp["timestamps"].attrs["units"] == "ms"
        ts, ids = grp["timestamps"][:], grp["node_ids"][:]
    assert np.all(np.diff(ts) >= 0)
    for i, train in enumerate(neo_trains):
        np.testing.assert_allclose(np.sort(ts[ids == i]), train.magnitude)


def test_procedural_api(session):
    cells = sim.create(sim.IF_cond_exp, {"i_offset": 0.2}, n=3)
    src = sim.create(sim.SpikeSourceArray(spike_times=[5.0, 10.0]))
    prj = sim.connect(src, cells, weight=0.01, delay=1.0, p=1.0)
    assert len(prj) == 3
    sim.record(["v", "spikes"], cells, str(session / "cells.pkl"))
    sim.initialize(cells, v=-60.0)
    sim.run(20.0)
    assert cells.get_data().segments[0].filter(name="v")[0][0, 0] == -60.0 * pq.mV


def test_write_data_roundtrip(session):
    from neo.io import PickleIO
    p = sim.Population(2, sim.IF_curr_exp(i_offset=1.0), label="w")
    p.record("spikes")
    sim.run(50.0)
    p.write_data(str(session / "out.pkl"))
    block = PickleIO(str(session / "out.pkl")).read_block()
    assert len(block.segments[0].spiketrains) == 2


def test_get_data_clear(session):
    p = sim.Population(1, sim.IF_curr_exp(i_offset=1.0), label="c")
    p.record("spikes")
    sim.run(50.0)
    first = p.get_data(clear=True).segments[0].spiketrains[0]
    sim.run(50.0)
    second = p.get_data().segments[0].spiketrains[0]
    assert len(first) > 0 and len(second) > 0
    assert second.magnitude.min() >= 50.0


# --- bad input ---------------------------------------------------------------------------------

def test_run_until_past_is_refused(session):
    sim.run(10.0)
    with pytest.raises(ValueError):
        sim.run_until(5.0)


def test_run_after_end_is_refused(tmp_path):
    sim.setup(recording_path=tmp_path / "x.h5")
    p = sim.Population(1, sim.IF_curr_exp(), label="p")
    p.record("spikes")
    sim.run(5.0)
    sim.end()
    with pytest.raises(errors.SimulationStateError, match="after end"):
        sim.run(5.0)


def test_unknown_parameter_name(session):
    with pytest.raises(KeyError, match="tau_mm"):
        sim.Population(2, sim.IF_curr_exp(tau_mm=3.0))


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nan_and_inf_parameters(session, value):
    with pytest.raises(errors.ParameterError, match="tau_m"):
        sim.Population(2, sim.IF_curr_exp(tau_m=value), label="bad")


def test_negative_time_constant(session):
    p = sim.Population(2, sim.IF_curr_exp(), label="p")
    with pytest.raises(errors.ParameterError, match="tau_m"):
        p.set(tau_m=-1.0)


def test_wrong_shape_parameter(session):
    p = sim.Population(3, sim.IF_curr_exp(), label="p")
    with pytest.raises(Exception):
        p.set(tau_m=[1.0, 2.0])


def test_recording_unrecordable_variable(session):
    p = sim.Population(2, sim.IF_curr_exp(), label="p")
    with pytest.raises(errors.RecordingError, match="w"):
        p.record("w")


def test_sampling_interval_off_grid(session):
    p = sim.Population(2, sim.IF_curr_exp(), label="p")
    with pytest.raises(errors.ParameterError, match="sampling_interval"):
        p.record("v", sampling_interval=0.25)


def test_unwritable_hdf5_path(tmp_path):
    with pytest.raises(errors.RecordingError):
        sim.setup(recording_path=tmp_path / "missing-dir" / "run.h5")


def test_bad_setup_values(tmp_path):
    with pytest.raises(errors.ParameterError, match="timestep"):
        sim.setup(timestep=-0.1)
    with pytest.raises(errors.ParameterError, match="seed"):
        sim.setup(seed=-3, recording_path=tmp_path / "s.h5")


def test_recorded_data_survives_a_failed_run(session):
    p = sim.Population(1, sim.IF_curr_exp(i_offset=1.0), label="p")
    p.record("spikes")
    sim.run(50.0)
    before = p.get_data().segments[0].spiketrains[0].magnitude.copy()
    with pytest.raises(ValueError):
        sim.run_until(10.0)
    after = p.get_data().segments[0].spiketrains[0].magnitude
    np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("celltype,variable,units", [
    ("IF_cond_exp", "gsyn_exc", pq.uS), ("IF_cond_alpha", "gsyn_inh", pq.uS),
    ("EIF_cond_exp_isfa_ista", "w", pq.nA), ("EIF_cond_alpha_isfa_ista", "v", pq.mV),
    ("Izhikevich", "u", pq.mV / pq.ms), ("HH_cond_exp", "v", pq.mV),
])
def test_recordable_signals_shapes_and_units(session, celltype, variable, units):
    cells = sim.Population(3, getattr(sim, celltype)(), label="cells")
    src = sim.Population(3, sim.SpikeSourceArray(spike_times=[2.0, 4.0]), label="src")
    receptor = "inhibitory" if variable == "gsyn_inh" else "excitatory"
    sim.Projection(src, cells, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.01, delay=1.0),
                   receptor_type=receptor)
    cells.record(variable, sampling_interval=0.5)
    sim.run(10.0)
    signal = cells.get_data().segments[0].filter(name=variable)[0]
    assert signal.shape == (21, 3)
    assert signal.units == units
    assert np.all(np.isfinite(signal.magnitude))
    if variable.startswith("gsyn"):
        assert signal.magnitude.max() > 0  # the synaptic input arrived


def test_parameters_with_units_are_converted_or_refused(session):
    p = sim.Population(2, sim.IF_curr_exp(tau_m=0.02 * pq.s, i_offset=500 * pq.pA), label="u")
    assert p.get("tau_m") == pytest.approx(20.0) and p.get("i_offset") == pytest.approx(0.5)
    with pytest.raises(errors.ParameterError, match="tau_m.*mV"):
        sim.IF_curr_exp(tau_m=20 * pq.mV)


def test_run_until_past_names_the_parameter(session):
    sim.run(10.0)
    with pytest.raises(errors.PastTimeError, match="tstop"):
        sim.run_until(5.0)
    with pytest.raises(errors.ParameterError, match="simtime"):
        sim.run(-1.0)
    assert sim.get_current_time() == pytest.approx(10.0)
