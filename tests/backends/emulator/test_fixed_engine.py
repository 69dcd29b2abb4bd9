"""The fixed-point emulator engine: a LoihiCircuit run through the engine interface.

Circuits are built by hand here, so these tests do not depend on the quantiser: the engine's
results are compared with a FixedPointNetwork driven directly, and its time and source
conventions with the float engine's.
"""
import numpy as np
import pytest
import scipy.sparse as sp

from neurohybrid.stimuli import spike_sources as source_kinds
from neurohybrid.backends.emulator.engine import EmulatorEngine
from neurohybrid.backends.emulator.fixed import FixedConnection, FixedPointNetwork
from neurohybrid.backends.emulator.fixed_engine import (FixedEmulatorEngine, HostInputs, _ListSink, build_network,
                                                        connection_layers, run_circuit)
from neurohybrid.errors import RecordingError, UnsupportedModelError
from neurohybrid.graph import ModelGraph, PopulationNode, ProjectionEdge, RecordingSpec
from neurohybrid.mappings.loihi.circuit import LoihiCircuit, LoihiInput, LoihiPopulation, LoihiProjection
from neurohybrid.rng import stream_key

DT = 0.1


def lpop(name, size, *, du=400, dv=200, vth=100, bias_mant=0, bias_exp=0, refractory=0, scale=64.0 * 100 / 15.0,
         v_rest=-65.0, v0=0):
    full = lambda x: np.broadcast_to(np.asarray(x, dtype=np.int64), (size,)).copy()
    return LoihiPopulation(name, size, full(du), full(dv), full(vth), full(bias_mant), full(bias_exp),
                           full(refractory), full(0), full(v0), scale, v_rest, "IF_curr_exp")


def lproj(name, pre, post, rows, cols, weights, delays, weight_exp=0, sign_mode=None):
    a = lambda x: np.asarray(x, dtype=np.int64)
    return LoihiProjection(name, pre, post, a(rows), a(cols), a(weights), a(np.broadcast_to(delays, np.shape(rows))),
                           weight_exp, 8, sign_mode)


def two_population_circuit(seed=0):
    """exc (20) <- Poisson drive (20) one-to-one, exc -> inh (5), inh -| exc, exc -> exc, all delayed."""
    rng = np.random.default_rng(seed)
    exc = lpop("exc", 20, bias_mant=rng.integers(0, 40, 20), refractory=2)
    inh = lpop("inh", 5, du=800, vth=60, v_rest=-70.0, scale=30.0)
    projections = [
        lproj("drive->exc", "drive", "exc", np.arange(20), np.arange(20), np.full(20, 120), 1, weight_exp=3),
        lproj("arr->inh", "arr", "inh", [0, 1, 2], [0, 1, 2], [255, 255, 255], 3, weight_exp=4),
    ]
    r, c = np.nonzero(rng.random((5, 20)) < 0.5)
    projections.append(lproj("exc->inh", "exc", "inh", r, c, rng.integers(20, 120, r.size), rng.integers(1, 6, r.size), 2))
    r, c = np.nonzero(rng.random((20, 5)) < 0.6)
    projections.append(lproj("inh->exc", "inh", "exc", r, c, -rng.integers(20, 200, r.size), 4, 2))
    r, c = np.nonzero(rng.random((20, 20)) < 0.2)
    projections.append(lproj("exc->exc", "exc", "exc", r, c, rng.integers(-50, 100, r.size), rng.integers(1, 10, r.size), 1))
    circuit = LoihiCircuit(dt_ms=DT, populations={"exc": exc, "inh": inh},
                           inputs={"drive": LoihiInput("drive", 20, "SpikeSourcePoisson"),
                                   "arr": LoihiInput("arr", 3, "SpikeSourceArray")},
                           projections=projections)
    graph = ModelGraph(dt=DT, seed=7)
    graph.nodes["drive"] = PopulationNode("drive", "SpikeSourcePoisson", 20,
                                          {"rate": np.full(20, 150.0), "start": np.zeros(20), "duration": np.full(20, 1e10)},
                                          kind="source")
    graph.nodes["arr"] = PopulationNode("arr", "SpikeSourceArray", 3,
                                        {"spike_times": [np.array([0.0, 2.0]), np.array([5.5]), np.array([])]}, kind="source")
    graph.nodes["exc"] = PopulationNode("exc", "IF_curr_exp", 20, {})
    graph.nodes["inh"] = PopulationNode("inh", "IF_curr_exp", 5, {})
    graph.recordings = [RecordingSpec("exc", "spikes", np.arange(20)), RecordingSpec("inh", "spikes", np.arange(5)),
                        RecordingSpec("drive", "spikes", np.arange(20)),
                        RecordingSpec("exc", "v", np.array([1, 4, 7]), DT),
                        RecordingSpec("inh", "v", np.array([0, 2]), 0.5)]
    return circuit, graph


class HandEngine(FixedEmulatorEngine):
    """The engine with the quantiser replaced by a fixed circuit."""

    def __init__(self, circuit, **kw):
        super().__init__(**kw)
        self._circuit = circuit

    def quantize(self, graph):
        return self._circuit


def run_engine(circuit, graph, steps, cut=()):
    eng = HandEngine(circuit)
    sink = _ListSink()
    eng.build(graph, sink)
    eng.initial_samples()
    for t in (*cut, steps):
        eng.advance(t)
    return eng, sink


def reference_raster(graph, circuit, steps):
    """Input raster built independently: grid index j (time j dt) -> chip step j - 1 (0 for j = 0)."""
    raster = np.zeros((steps, 23), bool)
    gen = source_kinds.SpikeSourcePoisson(dict(graph.nodes["drive"].parameters),
                                          stream_key(graph.seed, "drive", "spike-source"), DT)
    ticks, ids = gen.emit(0, steps + 1)
    raster[np.maximum(ticks, 0), ids] = True
    for i, train in enumerate(graph.nodes["arr"].parameters["spike_times"]):
        for t in train:
            raster[max(int(round(t / DT)) - 1, 0), 20 + i] = True
    return raster


def test_engine_matches_direct_fixed_point_network():
    circuit, graph = two_population_circuit()
    steps = 600
    eng, sink = run_engine(circuit, graph, steps)
    ref = build_network(circuit).run(steps, reference_raster(graph, circuit, steps))
    for name, off, size in (("exc", 0, 20), ("inh", 20, 5)):
        rows, cells = np.nonzero(ref.spikes[:, off:off + size])
        ticks, ids = sink.spike_arrays(name)
        order = np.lexsort((cells, rows))
        np.testing.assert_array_equal(ticks, rows[order])
        np.testing.assert_array_equal(ids, cells[order])
    assert 0 < sink.spike_arrays("exc")[0].size
    assert 0 < sink.spike_arrays("inh")[0].size
    # v in mV: v_loihi / scale + v_rest; sample after step k at (k+1) dt, plus t = 0
    v_exc = np.concatenate(sink.sample_parts[("exc", "v")])
    assert v_exc.shape == (steps + 1, 3)
    np.testing.assert_array_equal(v_exc[0], -65.0)
    np.testing.assert_allclose(v_exc[1:], ref.v[:, [1, 4, 7]] / circuit.populations["exc"].scale - 65.0, rtol=0, atol=0)
    v_inh = np.concatenate(sink.sample_parts[("inh", "v")])
    assert v_inh.shape == (steps // 5 + 1, 2)
    np.testing.assert_allclose(v_inh[1:], ref.v[4::5, [20, 22]] / 30.0 - 70.0, rtol=0, atol=0)
    np.testing.assert_allclose(eng.get_state("exc", "v"), ref.v[-1, :20] / circuit.populations["exc"].scale - 65.0)


def test_chunking_and_run_splits_do_not_change_results(monkeypatch):
    circuit, graph = two_population_circuit(seed=3)
    _, whole = run_engine(circuit, graph, 400)
    import neurohybrid.backends.emulator.fixed_engine as fe
    monkeypatch.setattr(fe, "MAX_CHUNK_STEPS", 7)
    _, split = run_engine(circuit, graph, 400, cut=(1, 2, 55, 56, 200))
    for name in ("exc", "inh", "drive"):
        for a, b in zip(whole.spike_arrays(name), split.spike_arrays(name)):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.concatenate(whole.sample_parts[("exc", "v")]),
                                  np.concatenate(split.sample_parts[("exc", "v")]))


def test_source_spikes_identical_to_float_engine():
    """Same seed, same node name: the recorded input spikes are the float engine's."""
    circuit, graph = two_population_circuit()
    graph.recordings = [RecordingSpec("drive", "spikes", np.arange(20)), RecordingSpec("arr", "spikes", np.arange(3))]
    _, fixed = run_engine(circuit, graph, 300)
    float_graph = ModelGraph(dt=DT, seed=graph.seed, nodes={k: graph.nodes[k] for k in ("drive", "arr")},
                             recordings=graph.recordings)
    flt = EmulatorEngine()
    sink = _ListSink()
    flt.build(float_graph, sink)
    flt.advance(300)
    for name in ("drive", "arr"):
        a, b = fixed.spike_arrays(name), sink.spike_arrays(name)
        assert a[0].size > (0 if name == "arr" else 50)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_time_convention_of_spikes_and_inputs():
    """A neuron that fires in step k is reported with emission tick k (recorded at (k+1) dt); an
    input spike at time j dt enters u at step j - 1 + D (D = latency), as a chip neuron's spike
    of step j - 1 would."""
    circuit = LoihiCircuit(dt_ms=DT, populations={"p": lpop("p", 2, du=4095, dv=4095, vth=10)},
                           inputs={"in": LoihiInput("in", 1, "SpikeSourceArray")},
                           projections=[lproj("in->p", "in", "p", [0, 1], [0, 0], [255, 255], [1, 5], weight_exp=6)])
    graph = ModelGraph(dt=DT, seed=1)
    graph.nodes["in"] = PopulationNode("in", "SpikeSourceArray", 1, {"spike_times": [np.array([1.0])]}, kind="source")
    graph.nodes["p"] = PopulationNode("p", "IF_curr_exp", 2, {})
    graph.recordings = [RecordingSpec("p", "spikes", np.arange(2))]
    _, sink = run_engine(circuit, graph, 40)
    ticks, ids = sink.spike_arrays("p")
    # grid 10 -> sent at step 9 -> enters u (and v) at step 9 + D, which fires: tick 9 + D
    np.testing.assert_array_equal(ticks, [10, 14])
    np.testing.assert_array_equal(ids, [0, 1])


def test_spike_at_time_zero_and_multiplicity_are_merged_into_binary_input():
    circuit = LoihiCircuit(dt_ms=DT, populations={"p": lpop("p", 1)},
                           inputs={"in": LoihiInput("in", 2, "SpikeSourceArray")}, projections=[])
    graph = ModelGraph(dt=DT, seed=1)
    graph.nodes["in"] = PopulationNode("in", "SpikeSourceArray", 2,
                                       {"spike_times": [np.array([0.0, 0.1, 0.3, 0.3]), np.array([0.2])]}, kind="source")
    graph.nodes["p"] = PopulationNode("p", "IF_curr_exp", 1, {})
    inputs = HostInputs(circuit, DT, graph)
    raster, generated = inputs.raster(0, 3)
    # t=0 -> step 0 (clamped), t=0.1 -> step 0, t=0.2 -> step 1, 2 x t=0.3 -> step 2
    np.testing.assert_array_equal(raster, [[True, False], [False, True], [True, False]])
    assert inputs.merged_spikes == 2
    # reported as the float engine does for ticks [0, 3): emission ticks -1..1; those of tick 2
    # (grid 3) come next
    np.testing.assert_array_equal(generated["in"][0], [-1, 0, 1])
    raster2, generated2 = inputs.raster(3, 2)
    assert not raster2.any()
    np.testing.assert_array_equal(generated2["in"][0], [2, 2])


def test_duplicate_synapses_keep_their_own_weight_and_delay():
    layers = connection_layers(np.array([0, 1, 0, 0, 2]), np.array([1, 1, 1, 1, 0]))
    assert [list(x) for x in layers] == [[0, 1, 4], [2], [3]]
    # Two synapses of 200 on one pair are two synapses (400 in total), not one clipped to 255.
    circuit = LoihiCircuit(dt_ms=DT, populations={"p": lpop("p", 1, du=4095, dv=0, vth=2 ** 17 - 1)},
                           inputs={"in": LoihiInput("in", 1, "SpikeSourceArray")},
                           projections=[lproj("in->p", "in", "p", [0, 0], [0, 0], [200, 200], [1, 2])])
    net = build_network(circuit)
    assert net.n_synapses == 2
    rec = net.run(4, np.array([[True], [False], [False], [False]]))
    np.testing.assert_array_equal(np.diff(rec.v[:, 0]), [200 * 64, 200 * 64, 0])


def test_reset_update_parameters_and_carry_state():
    circuit, graph = two_population_circuit(seed=5)
    eng, sink = run_engine(circuit, graph, 200)
    first = sink.spike_arrays("exc")
    eng.reset(graph)
    sink2 = _ListSink()
    eng.sink = sink2
    eng.advance(200)
    for a, b in zip(first, sink2.spike_arrays("exc")):
        np.testing.assert_array_equal(a, b)
    # parameters changed mid-run: the state is kept, the new bias acts from now on
    before = eng.loihi_state("exc")
    circuit.populations["exc"].bias_mant[:] = 0
    eng.update_parameters(graph)
    after = eng.loihi_state("exc")
    np.testing.assert_array_equal(before["v"], after["v"])
    assert eng.net.time_step == 200
    # a rebuilt engine that carries the state continues exactly as the original one
    other = HandEngine(circuit)
    other.build(graph, _ListSink())
    other.carry_state(eng)
    ref_sink, other_sink = _ListSink(), _ListSink()
    eng.sink, other.sink = ref_sink, other_sink
    eng.advance(300)
    other.advance(300)
    for name in ("exc", "inh"):
        for a, b in zip(ref_sink.spike_arrays(name), other_sink.spike_arrays(name)):
            np.testing.assert_array_equal(a, b)


def test_run_circuit_uses_manifest_host_inputs():
    circuit, graph = two_population_circuit()
    circuit.manifest = {"seed": graph.seed, "host_inputs": {
        "drive": {"model": "SpikeSourcePoisson", "parameters": {"rate": [150.0] * 20, "start": [0.0] * 20,
                                                                "duration": [1e10] * 20}},
        "arr": {"model": "SpikeSourceArray", "parameters": {"spike_times": [[0.0, 2.0], [5.5], []]}}}}
    standalone = run_circuit(circuit, 300)
    _, sink = run_engine(circuit, graph, 300)
    for name in ("exc", "inh"):
        for a, b in zip(standalone[name], sink.spike_arrays(name)):
            np.testing.assert_array_equal(a, b)


def test_bad_input():
    with pytest.raises(UnsupportedModelError, match="numerics"):
        FixedEmulatorEngine(numerics="float")
    circuit, graph = two_population_circuit()
    graph.recordings.append(RecordingSpec("exc", "gsyn_exc", np.arange(2), DT))
    with pytest.raises(RecordingError, match="gsyn_exc"):
        HandEngine(circuit).build(graph, _ListSink())
    circuit, graph = two_population_circuit()
    circuit.manifest = {}
    with pytest.raises(Exception, match="host_inputs"):
        run_circuit(circuit, 10)


def test_through_pynn_reset_parameter_change_and_sampling(tmp_path):
    """numerics="fixed" behind PyNN: reset replays the same segment, a parameter set between
    runs acts from then on without resetting the state, v sampled every 1 ms."""
    import neurohybrid.pynn as sim
    sim.setup(timestep=DT, seed=4, numerics="fixed", recording_path=tmp_path / "run.h5")
    drive = sim.Population(10, sim.SpikeSourcePoisson(rate=500.0), label="drive")
    cells = sim.Population(10, sim.IF_curr_exp(i_offset=0.5), label="cells")
    sim.Projection(drive, cells, sim.OneToOneConnector(), sim.StaticSynapse(weight=1.0, delay=1.0))
    cells.record(["spikes", "v"], sampling_interval=1.0)
    sim.run(50.0)
    sim.reset()
    sim.run(50.0)
    block = cells.get_data()
    seg0, seg1 = block.segments
    assert sum(len(t) for t in seg0.spiketrains) > 0
    for a, b in zip(seg0.spiketrains, seg1.spiketrains):
        np.testing.assert_array_equal(a.magnitude, b.magnitude)
    v0 = seg0.filter(name="v")[0]
    assert v0.shape == (51, 10) and float(v0.sampling_period.rescale("ms").magnitude) == 1.0
    np.testing.assert_array_equal(v0.magnitude, seg1.filter(name="v")[0].magnitude)
    engine = sim.simulator.state.network.engine
    v_before = engine.get_state("cells", "v").copy()
    cells.set(i_offset=0.0)
    drive.set(rate=0.0)
    sim.run(0.1)  # one step: v goes on from where it was (the state survived re-quantisation)
    v_after = engine.get_state("cells", "v")
    assert isinstance(engine, FixedEmulatorEngine)
    assert np.abs(v_before + 65.0).max() > 3.0
    assert np.abs(v_after - v_before).max() < 1.0
    sim.run(100.0)
    late = [t.magnitude[t.magnitude > 60.0] for t in cells.get_data().segments[1].spiketrains]
    assert sum(t.size for t in late) == 0
    sim.end()
