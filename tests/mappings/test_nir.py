"""NIR export and import: structure and SI units of the exported graph, an exact
neurohybrid -> NIR -> neurohybrid round trip (parameters, connections, and spikes of a rerun),
foreign graphs without neurohybrid metadata, and typed errors."""
import math

import nir
import numpy as np
import pytest
from pyNN.parameters import Sequence

import neurohybrid.pynn as sim
from neurohybrid.errors import ParameterError, UnsupportedModelError


def build_model(tmp_path, name):
    sim.setup(timestep=0.1, seed=3, recording_path=tmp_path / f"{name}.h5")
    rng = np.random.default_rng(0)
    drive = sim.Population(10, sim.SpikeSourcePoisson(rate=np.linspace(200, 400, 10)), label="drive")
    stim = sim.Population(3, sim.SpikeSourceArray(spike_times=[[1.0, 5.0], [2.5], []]), label="stim/x")
    exc = sim.Population(12, sim.IF_curr_exp(tau_m=rng.uniform(10, 30, 12), cm=0.5, tau_refrac=2.0,
                                             i_offset=rng.uniform(0, 0.3, 12), tau_syn_E=3.0, tau_syn_I=3.0),
                         label="exc")
    inh = sim.Population(4, sim.IF_curr_delta(tau_m=15.0, v_reset=-70.0, tau_refrac=1.0), label="inh")
    exc.initialize(v=rng.uniform(-70, -55, 12))
    sim.Projection(drive, exc, sim.FixedProbabilityConnector(0.5, rng=sim.NumpyRNG(1)),
                   sim.StaticSynapse(weight=0.4, delay=0.1))
    sim.Projection(stim, inh, sim.AllToAllConnector(), sim.StaticSynapse(weight=4.0, delay=1.0))
    ei = sim.Projection(exc, inh, sim.FixedProbabilityConnector(0.5, rng=sim.NumpyRNG(2)),
                        sim.StaticSynapse(weight=1.5, delay=1.0))
    ei.set(delay=np.random.RandomState(3).randint(5, 9, size=(12, 4)) * 0.1)  # per-synapse delays
    sim.Projection(inh, exc, sim.AllToAllConnector(), sim.StaticSynapse(weight=-0.7, delay=1.5),
                   receptor_type="inhibitory")
    for p in (exc, inh):
        p.record(["spikes", "v"])
    return exc, inh


def run_and_collect(exc, inh):
    sim.run(100.0)
    out = []
    for p in (exc, inh):
        seg = p.get_data().segments[0]
        out.append([np.asarray(t.magnitude) for t in seg.spiketrains])
        out.append(np.asarray(seg.filter(name="v")[0].magnitude))
    return out


def edge_set(graph):
    rows = []
    for e in graph.edges:
        w = np.broadcast_to(e.values["weight"], e.pre_index.shape)
        d = np.broadcast_to(e.values["delay"], e.pre_index.shape)
        rows += [(e.pre, e.post, e.receptor, int(i), int(j), float(a), float(b))
                 for i, j, a, b in zip(e.pre_index, e.post_index, w, d)]
    return sorted(rows)


def test_exported_graph_structure_and_units(tmp_path):
    build_model(tmp_path, "a")
    graph = sim.export_nir(tmp_path / "model.nir")
    sim.end()
    g = nir.read(tmp_path / "model.nir")
    kinds = {k: type(v).__name__ for k, v in g.nodes.items()}
    assert kinds["drive"] == kinds["stim%2Fx"] == "Input"
    assert kinds["exc"] == "CubaLIF" and kinds["inh"] == "LIF"
    assert kinds["exc.out"] == kinds["inh.out"] == "Output"
    assert sum(k == "Linear" for k in kinds.values()) == 2 + 4 + 1  # exc->inh split by its 4 delays
    assert sum(k == "Delay" for k in kinds.values()) == 1 + 4 + 1  # every projection but the 0.1 ms one
    exc = g.nodes["exc"]
    np.testing.assert_allclose(exc.tau_syn, 3e-3)
    np.testing.assert_allclose(exc.r, exc.tau_mem / 0.5e-9)  # r = tau_m / cm, in ohm
    meta = exc.metadata
    np.testing.assert_allclose(exc.v_leak, (meta["pynn_v_rest"] + exc.r / 1e6 * meta["pynn_i_offset"]) * 1e-3)
    np.testing.assert_allclose(exc.v_threshold, -50e-3)
    # a Dirac of weight W makes I jump by W / tau_syn: W = 0.4 nA * 3 ms
    lin = next(v for v in g.nodes.values() if isinstance(v, nir.Linear) and v.metadata["pre"] == "drive")
    values = np.unique(lin.weight)
    assert values[0] == 0.0 and values.size == 2
    np.testing.assert_allclose(values[1], 0.4e-9 * 3e-3)
    # LIF: a Dirac of weight W makes v jump by r W / tau: W = 4 mV * tau / r
    inh = g.nodes["inh"]
    lin = next(v for v in g.nodes.values() if isinstance(v, nir.Linear) and v.metadata["pre"] == "stim/x")
    np.testing.assert_allclose(lin.weight * inh.r[0] / inh.tau[0], 4e-3)
    delays = sorted(float(v.delay[0]) for v in g.nodes.values() if isinstance(v, nir.Delay))
    np.testing.assert_allclose(delays, [0.5e-3, 0.6e-3, 0.7e-3, 0.8e-3, 1e-3, 1.5e-3])
    assert g.metadata["units"].startswith("SI")
    assert graph.metadata["model_hash"]


def test_round_trip_is_exact_and_reruns_identically(tmp_path):
    exc, inh = build_model(tmp_path, "orig")
    sim.export_nir(tmp_path / "model.nir")
    original_graph = sim.simulator.state.network.build_graph()
    original = run_and_collect(exc, inh)
    sim.end()
    assert sum(t.size for t in original[0]) > 0 and sum(t.size for t in original[2]) > 0

    sim.setup(timestep=0.1, seed=3, recording_path=tmp_path / "copy.h5")
    objects = sim.import_nir(tmp_path / "model.nir")
    assert {"drive", "stim/x", "exc", "inh"} <= set(objects)
    assert len([o for o in objects.values() if isinstance(o, sim.Projection)]) == 4
    imported_graph = sim.simulator.state.network.build_graph()
    for name, node in original_graph.nodes.items():
        other = imported_graph.nodes[name]
        assert other.model == node.model and other.size == node.size
        for key, value in node.parameters.items():
            if key == "spike_times":
                for a, b in zip(value, other.parameters[key]):
                    np.testing.assert_array_equal(a, b)
            else:
                np.testing.assert_array_equal(value, other.parameters[key], err_msg=f"{name}.{key}")
        for key, value in node.initial.items():
            np.testing.assert_array_equal(value, other.initial[key])
    assert edge_set(original_graph) == edge_set(imported_graph)
    exc2, inh2 = objects["exc"], objects["inh"]
    for p in (exc2, inh2):
        p.record("v")
    again = run_and_collect(exc2, inh2)
    sim.end()
    for a, b in zip(original[0] + original[2], again[0] + again[2]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(original[1], again[1])
    np.testing.assert_array_equal(original[3], again[3])


def test_round_trip_from_an_in_memory_graph_without_metadata_keeps_the_dynamics(tmp_path):
    """A consumer that drops our metadata still gets the same dynamics from the NIR parameters
    (i_offset folded into v_leak; no refractoriness in NIR, so tau_refrac is 0 both sides)."""
    sim.setup(timestep=0.1, seed=5, recording_path=tmp_path / "a.h5")
    src = sim.Population(5, sim.SpikeSourceArray(spike_times=[[1.0, 4.0], [2.0], [3.0, 3.5], [], [6.0]]), label="src")
    cells = sim.Population(6, sim.IF_curr_exp(tau_refrac=0.0, i_offset=0.8, tau_syn_E=2.0, tau_syn_I=2.0), label="cells")
    sim.Projection(src, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.8, delay=0.1))
    sim.Projection(cells, cells, sim.FixedProbabilityConnector(0.4, rng=sim.NumpyRNG(9)),
                   sim.StaticSynapse(weight=-0.3, delay=0.1), receptor_type="inhibitory")
    graph = sim.export_nir(tmp_path / "m.nir")
    cells.record("spikes")
    sim.run(60.0)
    ref = [np.asarray(t.magnitude) for t in cells.get_data().segments[0].spiketrains]
    sim.end()
    assert sum(t.size for t in ref) > 5
    for node in graph.nodes.values():
        node.metadata = {}
    sim.setup(timestep=0.1, seed=5, recording_path=tmp_path / "b.h5")
    objects = sim.import_nir(graph)
    objects["src"].set(spike_times=[Sequence(t) for t in ([1.0, 4.0], [2.0], [3.0, 3.5], [], [6.0])])
    assert objects["cells"].get("i_offset") == 0.0  # folded into v_rest = v_leak
    sim.run(60.0)
    got = [np.asarray(t.magnitude) for t in objects["cells"].get_data().segments[0].spiketrains]
    sim.end()
    # without metadata, projections are named after their Linear node and split by weight sign
    assert sorted(k for k, o in objects.items() if isinstance(o, sim.Projection)) == [
        "cells→cells[cells->cells] [inh]", "src→cells[src->cells] [exc]"]
    for a, b in zip(ref, got):
        np.testing.assert_allclose(a, b, atol=1e-9)


def test_import_of_a_foreign_graph(tmp_path):
    """A hand-written NIR graph (SI units): LIF parameters and weights translated to PyNN's."""
    tau, r, v_leak, v_th = 0.02, 1e8, -0.040, -0.050  # 20 ms, 100 MOhm, leak above threshold
    g = nir.NIRGraph(
        nodes={"in": nir.Input(input_type={"input": np.array([2])}),
               "w": nir.Affine(weight=np.array([[1e-11, 0.0], [0.0, -2e-11], [0.0, 0.0]]),
                               bias=np.array([0.0, 0.0, 0.0])),
               "d": nir.Delay(delay=np.full(3, 2e-3)),
               "lif": nir.LIF(tau=np.full(3, tau), r=np.full(3, r), v_leak=np.full(3, v_leak),
                              v_threshold=np.full(3, v_th), v_reset=np.full(3, -0.065)),
               "out": nir.Output(output_type={"output": np.array([3])})},
        edges=[("in", "w"), ("w", "d"), ("d", "lif"), ("lif", "out")])
    nir.write(tmp_path / "foreign.nir", g)
    sim.setup(timestep=0.1, recording_path=tmp_path / "f.h5")
    objects = sim.import_nir(tmp_path / "foreign.nir", label_prefix="f_")
    lif = objects["lif"]
    assert lif.label == "f_lif" and type(lif.celltype).__name__ == "IF_curr_delta"
    np.testing.assert_allclose(lif.get("tau_m"), 20.0)
    np.testing.assert_allclose(lif.get("cm"), 20.0 / 100.0)  # nF = ms / MOhm
    np.testing.assert_allclose(lif.get("v_rest"), -40.0)
    np.testing.assert_allclose(lif.get("v_thresh"), -50.0)
    np.testing.assert_allclose(lif.get("v_reset"), -65.0)
    exc, inh = objects["w [exc]"], objects["w [inh]"]
    # v jumps by r W / tau: 1e8 * 1e-11 / 0.02 V = 50 mV
    np.testing.assert_allclose(exc.get("weight", format="list", with_address=False), [50.0])
    np.testing.assert_allclose(inh.get("weight", format="list", with_address=False), [-100.0])
    np.testing.assert_allclose(exc.get("delay", format="list", with_address=False), [2.0])
    assert inh.receptor_type == "inhibitory"
    sim.run(100.0)
    trains = lif.get_data().segments[0].spiketrains  # Output -> spikes recorded
    period = 20.0 * math.log((-65.0 + 40.0) / (-50.0 + 40.0))  # ms, from v_reset to threshold
    isi = np.diff(np.asarray(trains[2].magnitude))
    assert isi.size > 3
    np.testing.assert_allclose(isi, period, atol=0.11)
    sim.end()


def test_export_errors(tmp_path):
    sim.setup(timestep=0.1, recording_path=tmp_path / "e.h5")
    sim.Population(2, sim.IF_cond_exp(), label="cond")
    with pytest.raises(UnsupportedModelError, match="cond.*IF_cond_exp"):
        sim.export_nir(tmp_path / "x.nir")
    sim.end()
    sim.setup(timestep=0.1, recording_path=tmp_path / "e2.h5")
    a = sim.Population(2, sim.IF_curr_exp(tau_syn_E=2.0, tau_syn_I=8.0), label="a")
    sim.Projection(a, a, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1, delay=1.0))
    sim.export_nir(tmp_path / "ok.nir")  # only the excitatory receptor is used: fine
    sim.Projection(a, a, sim.AllToAllConnector(), sim.StaticSynapse(weight=-0.1, delay=1.0),
                   receptor_type="inhibitory")
    with pytest.raises(UnsupportedModelError, match="a.tau_syn_I"):
        sim.export_nir(tmp_path / "x.nir")
    sim.end()


def test_import_errors(tmp_path):
    sim.setup(timestep=0.1, recording_path=tmp_path / "i.h5")
    with pytest.raises(ParameterError, match="does not exist"):
        sim.import_nir(tmp_path / "missing.nir")
    (tmp_path / "junk.nir").write_bytes(b"\x89HDF junk")
    with pytest.raises(ParameterError, match="not a readable NIR graph"):
        sim.import_nir(tmp_path / "junk.nir")
    g = nir.NIRGraph(nodes={"in": nir.Input(input_type={"input": np.array([1])}),
                            "t": nir.Threshold(threshold=np.array([1.0])),
                            "out": nir.Output(output_type={"output": np.array([1])})},
                     edges=[("in", "t"), ("t", "out")])
    with pytest.raises(UnsupportedModelError, match="'t'.*Threshold"):
        sim.import_nir(g)
    sim.Population(1, sim.IF_curr_exp(), label="lif")
    g = nir.NIRGraph(nodes={"lif": nir.LIF(tau=np.ones(1), r=np.ones(1), v_leak=np.zeros(1), v_threshold=np.ones(1))},
                     edges=[], type_check=False)
    with pytest.raises(ParameterError, match="label_prefix.*'lif'"):
        sim.import_nir(g)
    assert "x_lif" in sim.import_nir(g, label_prefix="x_")["lif"].label
    sim.end()
