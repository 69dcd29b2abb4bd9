"""The deployable Loihi bundle: lossless round trip, checksum, typed errors on damaged files,
export from a PyNN session, and a rerun of the bundle on Lava (and on the emulator) that
reproduces the original run's spikes."""
import importlib
import json
import shutil

import h5py
import numpy as np
import pytest

from neurohybrid.backends.emulator.fixed_engine import run_circuit
from neurohybrid.errors import BundleError
from neurohybrid.mappings.loihi.bundle import FORMAT_VERSION, circuit_digest, load_bundle, write_bundle
from neurohybrid.mappings.loihi.circuit import LoihiCircuit, LoihiInput, LoihiPopulation, LoihiProjection


def make_circuit(seed=0):
    rng = np.random.default_rng(seed)

    def pop(name, n, source_model="IF_curr_exp"):
        i = lambda lo, hi, dtype=np.int64: rng.integers(lo, hi, n).astype(dtype)
        return LoihiPopulation(name, n, i(0, 4096), i(0, 4096, np.int32), i(1, 2000), i(-100, 100), i(-3, 4),
                               i(0, 5, np.int16), i(-50, 50), i(-500, 500), scale=float(rng.uniform(5, 500)),
                               v_rest=-65.0 - rng.random(), source_model=source_model,
                               approximations=("merge_synaptic_time_constants",))

    def proj(name, pre, post, n_pre, n_post, density):
        r, c = np.nonzero(rng.random((n_post, n_pre)) < density)
        return LoihiProjection(name, pre, post, r, c, rng.integers(-256, 256, r.size), rng.integers(1, 65, r.size),
                               int(rng.integers(-3, 4)), int(rng.integers(6, 9)), rng.choice([None, "mixed"]))

    circuit = LoihiCircuit(dt_ms=0.1,
                           populations={"exc/é": pop("exc/é", 30), "inh": pop("inh", 8, "IF_curr_delta")},
                           inputs={"drive": LoihiInput("drive", 12, "SpikeSourcePoisson")})
    circuit.projections = [proj("drive->exc", "drive", "exc/é", 12, 30, 0.3),
                           proj("exc->inh", "exc/é", "inh", 30, 8, 0.4),
                           proj("inh->exc", "inh", "exc/é", 8, 30, 0.5),
                           proj("exc->exc", "exc/é", "exc/é", 30, 30, 0.1)]
    circuit.report = {"max_relative_error": {"weights": 0.0123, "tau_m": 1e-3}, "approximations": ["x"], "n": 3}
    circuit.placement = {"chips": 1, "cores": [{"core": 0, "populations": ["exc/é"], "compartments": 30}],
                         "utilisation": 0.01}
    circuit.manifest = {"model_hash": "abc", "seed": 7, "versions": {"neurohybrid": "0.1.0"},
                        "host_inputs": {"drive": {"model": "SpikeSourcePoisson",
                                                  "parameters": {"rate": [400.0] * 12, "start": [0.0] * 12,
                                                                 "duration": [1e10] * 12}}}}
    return circuit


def assert_same_circuit(a, b):
    assert a.dt_ms == b.dt_ms
    assert list(a.populations) == list(b.populations)
    for name, p in a.populations.items():
        q = b.populations[name]
        for field in ("name", "size", "scale", "v_rest", "source_model", "approximations"):
            assert getattr(p, field) == getattr(q, field), field
        for field in ("du", "dv", "vth", "bias_mant", "bias_exp", "refractory", "u0", "v0"):
            np.testing.assert_array_equal(getattr(p, field), getattr(q, field))
            assert np.asarray(getattr(p, field)).dtype == np.asarray(getattr(q, field)).dtype
    assert {k: vars(v) for k, v in a.inputs.items()} == {k: vars(v) for k, v in b.inputs.items()}
    assert len(a.projections) == len(b.projections)
    for p, q in zip(a.projections, b.projections):
        for field in ("name", "pre", "post", "weight_exp", "num_weight_bits", "sign_mode"):
            assert getattr(p, field) == getattr(q, field), field
        for field in ("rows", "cols", "weights", "delays"):
            np.testing.assert_array_equal(getattr(p, field), getattr(q, field))
    assert json.dumps(a.report, sort_keys=True) == json.dumps(b.report, sort_keys=True)
    assert json.dumps(a.placement, sort_keys=True) == json.dumps(b.placement, sort_keys=True)


def test_round_trip_is_lossless(tmp_path):
    circuit = make_circuit()
    path = write_bundle(circuit, tmp_path / "net.h5")
    loaded = load_bundle(path)
    assert_same_circuit(circuit, loaded)
    assert loaded.manifest["checksum"] == circuit.manifest["checksum"] == circuit_digest(loaded)
    assert loaded.manifest["format_version"] == FORMAT_VERSION
    assert loaded.manifest["seed"] == 7 and loaded.manifest["model_hash"] == "abc"
    assert loaded.n_neurons == 38 and loaded.n_synapses == circuit.n_synapses
    # the loaded circuit runs to the same spikes (inputs regenerated from the manifest)
    a, b = run_circuit(circuit, 300), run_circuit(loaded, 300)
    assert a["exc/é"][0].size > 0
    for name in a:
        np.testing.assert_array_equal(a[name][0], b[name][0])
        np.testing.assert_array_equal(a[name][1], b[name][1])
    # writing again gives the same checksum; no temporary file is left behind
    write_bundle(loaded, tmp_path / "again.h5")
    assert load_bundle(tmp_path / "again.h5").manifest["checksum"] == circuit.manifest["checksum"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.h5", "net.h5"]


def test_large_arrays_are_compressed_and_round_trip(tmp_path):
    circuit = make_circuit()
    n = 70_000
    rng = np.random.default_rng(1)
    circuit.projections.append(LoihiProjection("big", "exc/é", "inh", rng.integers(0, 8, n), rng.integers(0, 30, n),
                                               rng.integers(-5, 5, n), np.full(n, 3), 0))
    path = write_bundle(circuit, tmp_path / "big.h5")
    with h5py.File(path) as f:
        assert f["projections/4/weights"].compression == "gzip"
    assert_same_circuit(circuit, load_bundle(path))


def _offset_of(path, dataset):
    with h5py.File(path) as f:
        return f[dataset].id.get_offset()


def test_corrupted_dataset_fails_the_checksum(tmp_path):
    path = write_bundle(make_circuit(), tmp_path / "net.h5")
    offset = _offset_of(path, "projections/1/weights")
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="checksum mismatch") as err:
        load_bundle(path)
    assert "net.h5" in str(err.value)


def test_edited_attribute_fails_the_checksum(tmp_path):
    path = write_bundle(make_circuit(), tmp_path / "net.h5")
    with h5py.File(path, "a") as f:
        f["populations/0"].attrs["scale"] = 1.0
    with pytest.raises(BundleError, match="checksum"):
        load_bundle(path)


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.3, 0.6, 0.95])
def test_truncated_bundle_is_a_typed_error(tmp_path, fraction):
    path = write_bundle(make_circuit(), tmp_path / "net.h5")
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * fraction)])
    with pytest.raises(BundleError) as err:
        load_bundle(path)
    assert str(path) in str(err.value)


def test_random_damage_never_escapes_as_another_error(tmp_path):
    """Flip bytes anywhere: the bundle either loads unchanged (the byte was unused) or raises BundleError."""
    original = make_circuit()
    path = write_bundle(original, tmp_path / "net.h5")
    clean = path.read_bytes()
    rng = np.random.default_rng(0)
    outcomes = {"loaded": 0, "error": 0}
    for _ in range(60):
        data = bytearray(clean)
        for pos in rng.integers(0, len(data), 3):
            data[pos] ^= int(rng.integers(1, 256))
        path.write_bytes(bytes(data))
        try:
            loaded = load_bundle(path)
        except BundleError:
            outcomes["error"] += 1
        else:
            assert_same_circuit(original, loaded)
            outcomes["loaded"] += 1
    assert outcomes["error"] > 0


def test_other_bad_files(tmp_path):
    with pytest.raises(BundleError, match="no such file"):
        load_bundle(tmp_path / "missing.h5")
    (tmp_path / "text.h5").write_text("not hdf5 at all")
    with pytest.raises(BundleError, match="not a readable HDF5 file"):
        load_bundle(tmp_path / "text.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = 1
    with pytest.raises(BundleError, match="'format' of the file is missing"):
        load_bundle(tmp_path / "other.h5")
    path = write_bundle(make_circuit(), tmp_path / "net.h5")
    newer = tmp_path / "newer.h5"
    shutil.copy(path, newer)
    with h5py.File(newer, "a") as f:
        f.attrs["format_version"] = FORMAT_VERSION + 1
    with pytest.raises(BundleError, match="newer|version"):
        load_bundle(newer)
    missing = tmp_path / "missing_ds.h5"
    shutil.copy(path, missing)
    with h5py.File(missing, "a") as f:
        del f["projections/2/delays"]
    with pytest.raises(BundleError, match="'delays' of projection 'inh->exc'.*missing"):
        load_bundle(missing)


# --------------------------------------------------------------------------------------------
# From a PyNN session to a bundle, and back on Lava
# --------------------------------------------------------------------------------------------

def _have(module, attr):
    try:
        return getattr(importlib.import_module(module), attr, None) is not None
    except ImportError:
        return False


needs_quantize = pytest.mark.skipif(not _have("neurohybrid.mappings.loihi", "quantize"),
                                    reason="neurohybrid.mappings.loihi.quantize is not available yet")


def _session(tmp_path, backend="emulator", numerics="fixed"):
    import neurohybrid.pynn as sim
    sim.setup(timestep=0.1, seed=21, backend=backend, numerics=numerics, recording_path=tmp_path / "run.h5")
    drive = sim.Population(20, sim.SpikeSourcePoisson(rate=300.0), label="drive")
    stim = sim.Population(2, sim.SpikeSourceArray(spike_times=[[2.0, 7.5], [4.0]]), label="stim")
    exc = sim.Population(16, sim.IF_curr_exp(tau_refrac=2.0), label="exc")
    inh = sim.Population(4, sim.IF_curr_exp(), label="inh")
    sim.Projection(drive, exc, sim.FixedProbabilityConnector(0.5, rng=sim.NumpyRNG(1)),
                   sim.StaticSynapse(weight=0.6, delay=1.0))
    sim.Projection(stim, inh, sim.AllToAllConnector(), sim.StaticSynapse(weight=1.5, delay=0.5))
    sim.Projection(exc, inh, sim.FixedProbabilityConnector(0.5, rng=sim.NumpyRNG(2)),
                   sim.StaticSynapse(weight=0.5, delay=1.0))
    sim.Projection(inh, exc, sim.AllToAllConnector(), sim.StaticSynapse(weight=-0.8, delay=1.5),
                   receptor_type="inhibitory")
    exc.record("spikes")
    inh.record("spikes")
    return sim, exc, inh


def _spikes(pop):
    trains = pop.get_data().segments[0].spiketrains
    return [np.asarray(t.magnitude) for t in trains]


@needs_quantize
def test_export_loihi_from_a_session_and_rerun_from_the_bundle(tmp_path):
    sim, exc, inh = _session(tmp_path)
    path = sim.export_loihi(tmp_path / "model.nhb", chips=1)
    sim.run(100.0)
    original = {"exc": _spikes(exc), "inh": _spikes(inh)}
    model_hash = sim.simulator.state.network.graph.content_hash()
    sim.end()
    assert sum(t.size for t in original["exc"]) > 0
    circuit = load_bundle(path)
    assert circuit.manifest["model_hash"] == model_hash
    assert circuit.manifest["seed"] == 21
    assert circuit.placement is not None
    assert {"neurohybrid", "numpy", "h5py"} <= set(circuit.manifest["versions"])
    rerun = run_circuit(circuit, 1000)
    for name, trains in original.items():
        ticks, ids = rerun[name]
        for i, train in enumerate(trains):
            np.testing.assert_allclose(train, (ticks[ids == i] + 1) * 0.1, rtol=0, atol=1e-9)  # recorded at (k + 1) dt


def _lava_runner():
    """(run(circuit, n_steps) -> {population: (emission ticks, ids)}, reason): the bundle's circuit
    rebuilt as a Lava process graph by the Lava backend's ``build_processes`` and run on
    ``Loihi2SimCfg(fixed_pt)``, with the host inputs regenerated from the bundle's manifest;
    (None, reason) when Lava or ``build_processes`` is not available."""
    from neurohybrid.backends.lava import compat
    if not compat.import_lava():
        return None, f"Lava unavailable: {compat.last_error}"
    try:
        from neurohybrid.backends.lava.process_graph import build_processes
    except ImportError as exc:
        return None, f"build_processes is not available ({exc})"
    from neurohybrid.backends.emulator.fixed_engine import HostInputs, circuit_layout

    def run(circuit, n_steps):
        raster, _ = HostInputs(circuit, circuit.dt_ms).raster(0, n_steps)
        _, offsets, _, _ = circuit_layout(circuit)
        inputs = {name: raster[:, offsets[name]:offsets[name] + inp.size] for name, inp in circuit.inputs.items()}
        graph = build_processes(circuit, n_steps, record_uv=False)
        try:
            records = graph.run(n_steps, inputs)
        finally:
            graph.stop()
        out = {}
        for name, rec in records.items():
            rows, ids = np.nonzero(rec.spikes)
            out[name] = (rows, ids)  # fired in step k: emission tick k
        return out

    return run, None


# Evaluated at collection, before any simulation: importing Lava sets multiprocessing's start
# method, which fails once numba's parallel launch has fixed it in this process.
LAVA_RUN, LAVA_REASON = _lava_runner()


@needs_quantize
def test_bundle_rebuilt_as_lava_process_graph_matches_original_run(tmp_path):
    """The original run is on the fixed-point emulator; the bundle is rebuilt as Lava processes
    (no script, no model graph: only the file) and run on Lava: the same spikes."""
    if LAVA_RUN is None:
        pytest.skip(LAVA_REASON)
    sim, exc, inh = _session(tmp_path)
    path = sim.export_loihi(tmp_path / "model.nhb")
    sim.run(50.0)
    original = {"exc": _spikes(exc), "inh": _spikes(inh)}
    sim.end()
    assert sum(t.size for t in original["exc"]) > 0 and sum(t.size for t in original["inh"]) > 0
    spikes = LAVA_RUN(load_bundle(path), 500)
    for name, trains in original.items():
        ticks, ids = spikes[name]
        for i, train in enumerate(trains):
            np.testing.assert_allclose(train, (np.asarray(ticks)[np.asarray(ids) == i] + 1) * 0.1, rtol=0, atol=1e-9)


def test_constant_arrays_stay_constant(tmp_path):
    """Zero-stride weights/delays (as the quantiser makes them for constant projections) are
    stored as one value and come back zero-copy, hashed without materialising."""
    circuit = make_circuit()
    n = 5_000_000
    rng = np.random.default_rng(2)
    circuit.projections.append(LoihiProjection("const", "exc/é", "inh", np.broadcast_to(np.int64(3), (n,)),
                                               np.broadcast_to(np.int64(7), (n,)), np.broadcast_to(np.int64(-5), (n,)),
                                               np.broadcast_to(np.int64(2), (n,)), 1))
    path = write_bundle(circuit, tmp_path / "const.h5")
    assert path.stat().st_size < 200_000
    loaded = load_bundle(path)
    proj = loaded.projections[-1]
    assert proj.weights.strides == (0,) and proj.weights.size == n and proj.weights[0] == -5
    assert_same_circuit(circuit, loaded)
