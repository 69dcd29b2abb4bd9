"""Graph files (neurohybrid.graph_io): a graph saved from a PyNN session and loaded in a fresh
process runs to bit-identical spikes and traces; truncated files, other format versions and
files whose content no longer matches their hash are refused with a typed error."""
import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid import graph_io
from neurohybrid.errors import UnsupportedModelError

RUN_GRAPH = """
import json, sys
import numpy as np
from neurohybrid import graph_io
from neurohybrid.backends.emulator.engine import EmulatorEngine

class Sink:
    def __init__(self): self.out = {}
    def spikes(self, node, ticks, ids): self.out.setdefault(node, []).extend(zip(ticks.tolist(), ids.tolist()))
    def samples(self, node, variable, values): self.out.setdefault(node + "." + variable, []).append(values.sum())
    def flush(self, sync=True): pass

graph = graph_io.load(sys.argv[1])
sink = Sink()
engine = EmulatorEngine(threads=1)
engine.build(graph, sink)
engine.initial_samples()
engine.advance(int(sys.argv[2]))
print(json.dumps({"hash": graph.content_hash(), "out": {k: repr(v) for k, v in sink.out.items()}}))
"""


def _model():
    """Sources, currents, three cell models, short-term plasticity, constant and random weights."""
    sim.setup(timestep=0.1, seed=11)
    a = sim.Population(20, sim.IF_cond_exp(), label="A")
    b = sim.Population(10, sim.Izhikevich(), label="B")
    p = sim.Population(20, sim.SpikeSourcePoisson(rate=500.0), label="P")
    arr = sim.Population(3, sim.SpikeSourceArray(spike_times=[[1.0, 4.0], [2.5], []]), label="arr")
    sim.Projection(p, a, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.02, delay=0.4))
    sim.Projection(arr, b, sim.AllToAllConnector(), sim.StaticSynapse(weight=8.0, delay=1.0))
    sim.Projection(a, b, sim.FixedProbabilityConnector(0.3, rng=sim.NumpyRNG(2)),
                   sim.TsodyksMarkramSynapse(U=0.5, tau_rec=100.0, weight=sim.RandomDistribution(
                       "uniform", (1.0, 3.0), rng=sim.NumpyRNG(3)), delay=0.8))
    sim.NoisyCurrentSource(mean=0.2, stdev=0.3, dt=1.0).inject_into(b[:5])
    sim.DCSource(amplitude=0.5, start=5.0, stop=30.0).inject_into(a[:4])
    a.record(["spikes", "v"])
    b.record("spikes")
    sim.run(40.0)
    graph = sim.simulator.state.network.full_graph
    return graph


def _run_in_new_process(path, ticks):
    proc = subprocess.run([sys.executable, "-c", RUN_GRAPH, str(path), str(ticks)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_saved_graph_runs_to_identical_results_in_a_new_process(tmp_path):
    graph = _model()
    digest = graph_io.save(graph, tmp_path / "model.h5")
    sim.end()
    assert digest == graph.content_hash()
    first = _run_in_new_process(tmp_path / "model.h5", 400)
    again = _run_in_new_process(tmp_path / "model.h5", 400)
    assert first["hash"] == digest
    assert first["out"] == again["out"] and {"A", "B", "A.v"} <= set(first["out"])
    loaded = graph_io.load(tmp_path / "model.h5")
    assert loaded.content_hash() == digest
    edge = [e for e in loaded.edges if e.pre == "P"][0]
    assert edge.values["weight"].strides == (0,)  # constant weights stay constant (no copy)


def test_a_loaded_graph_gives_what_the_original_gives(tmp_path):
    graph = _model()
    sim.end()
    graph_io.save(graph, tmp_path / "m.h5")
    layout, arrays = graph_io.to_dict(graph)
    again = graph_io.from_dict(json.loads(json.dumps(layout)), arrays)
    assert again.content_hash() == graph.content_hash()


def test_damaged_or_foreign_graph_files_are_refused(tmp_path):
    graph = _model()
    sim.end()
    path = tmp_path / "m.h5"
    graph_io.save(graph, path)
    data = path.read_bytes()
    (tmp_path / "truncated.h5").write_bytes(data[: len(data) // 2])
    with pytest.raises(graph_io.GraphFileError, match="truncated.h5.*cannot be read"):
        graph_io.load(tmp_path / "truncated.h5")
    with h5py.File(path, "a") as f:
        f.attrs["format_version"] = 99
    with pytest.raises(graph_io.GraphFileError, match="format_version: version 99"):
        graph_io.load(path)
    graph_io.save(graph, path)
    with h5py.File(path, "a") as f:
        f["arrays/0"][...] = f["arrays/0"][()] + 1  # a changed parameter
    with pytest.raises(graph_io.GraphFileError, match="content_hash"):
        graph_io.load(path)
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f.attrs["format"] = "something else"
    with pytest.raises(graph_io.GraphFileError, match="not a neurohybrid graph file"):
        graph_io.load(tmp_path / "other.h5")


def test_a_biophysical_node_is_refused_by_name():
    from neurohybrid.graph import ModelGraph, PopulationNode
    g = ModelGraph(0.1, 1)
    g.nodes["mc"] = PopulationNode("mc", "Cell", 1, {}, kind="biophysical", cell=object())
    with pytest.raises(UnsupportedModelError, match=r"Population\(mc\)\.cell"):
        graph_io.to_dict(g)
