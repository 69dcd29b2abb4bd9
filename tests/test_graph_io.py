"""Graph files (neurohybrid.graph_io): a graph saved from a PyNN session and loaded in a fresh
process runs to bit-identical spikes and traces; so does a hybrid graph of every storable node
kind (scaffold with its model, coupling, integrator and monitors, converters, fields with
transfer functions given as data, NEURON cells of a Python class, links). Truncated files, other
format versions, files whose content no longer matches their hash, and graphs holding code (a
field's Python function, a host module) are refused with a typed error naming the object."""
import inspect
import json
import os
import pathlib
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


# ------------------------------------------------------------------ hybrid graphs, every node kind
RUNTIME_TESTS = pathlib.Path(__file__).resolve().parent / "runtime"  # hybrid_model.py: BallStick, the model


@pytest.fixture
def hm():
    """tests/runtime/hybrid_model.py (imports NEURON), importable by the same name in a subprocess."""
    if str(RUNTIME_TESTS) not in sys.path:
        sys.path.insert(0, str(RUNTIME_TESTS))
    import hybrid_model
    return hybrid_model


SPIKES = ("E", "I", "cells")
SIGNALS = (("brain", "S_e"), ("R1.rates", "rate"), ("R1.afferent", "rate"), ("E", "v"))
MORE_SIGNALS = (("brain", "S_i"), ("brain", "bold"))  # the hand-built graph's extra monitors


def _digests(rt, spikes, signals):
    """SHA-256 (and size) of every recorded spike train and signal of a run: bit-identical runs only match."""
    import hashlib
    import numpy as np
    out = {}
    for name in spikes:
        t, i = rt.spikes(name)
        h = hashlib.sha256(f"{t.dtype}{i.dtype}".encode() + np.ascontiguousarray(t).tobytes()
                           + np.ascontiguousarray(i).tobytes())
        out[name] = [int(t.size), h.hexdigest()]
    for label, variable in signals:
        s = np.ascontiguousarray(rt.signal(label, variable)["samples"])
        out[f"{label}/{variable}"] = [list(s.shape), hashlib.sha256(f"{s.dtype}".encode() + s.tobytes()).hexdigest()]
    return out


RUN_HYBRID = inspect.getsource(_digests) + """
import json, sys
sys.path.insert(0, sys.argv[2])
from hybrid_model import BallStick
from neurohybrid import graph_io
from neurohybrid.runtime import Runtime
graph = graph_io.load(sys.argv[1], cell_classes=[BallStick])
rt = Runtime(graph)
rt.run(float(sys.argv[3]))
spikes, signals = json.loads(sys.argv[4])
print(json.dumps({"hash": graph.content_hash(), "results": _digests(rt, spikes, signals)}))
rt.close()
"""


def _run_hybrid_in_new_process(path, t_run, spikes, signals):
    """Load ``path`` in a fresh interpreter (the worktree's PYTHONPATH inherited), run it on the
    Runtime for ``t_run`` ms and return its content hash and result digests."""
    proc = subprocess.run([sys.executable, "-c", RUN_HYBRID, str(path), str(RUNTIME_TESTS), str(t_run),
                           json.dumps([list(spikes), [list(s) for s in signals]])],
                          capture_output=True, text=True, env=os.environ, cwd=path.parent, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _storable_graph(hm):
    """tests/runtime/hybrid_model.py's hand-built graph with its fields' functions as data and
    more of every kind: per-region model parameters, a stochastic integrator with per-region
    noise, an initial state, Raw and BOLD monitors beside the temporal average, a current
    injection and a membrane trace."""
    from neurohybrid.backends.meanfield import Bold, HeunStochastic, Raw, ReducedWongWangExcInh
    from neurohybrid.graph import Affine, CurrentInjection, RecordingSpec, Sigmoid
    g = hm.graph_model()
    brain = g.modules["brain"]
    brain.model = ReducedWongWangExcInh(G=0.5, I_o=np.array([0.382, 0.382, 0.39, 0.37]))
    brain.integrator = HeunStochastic(nsig=np.array([[1e-5] * 4, [2e-5] * 4]), seed=3)
    brain.initial_state = np.array([[0.1, 0.2, 0.15, 0.05], [0.05, 0.1, 0.08, 0.02]])
    brain.monitors += [Raw(period=0.5, variables=("S_i",), name="raw0"), Bold(period=10.0, interim_period=1.0)]
    g.modules["tone"].fn = Sigmoid(low=0.0, high=-10.0, midpoint=0.2, width=0.05)  # mV from S_e
    g.modules["soma_v"].fn = Affine(scale=0.02, offset=1.3)  # nA from mV
    g.modules["R1.drive"].baseline = 400.0  # Hz: the circuit fires from the start, whatever the region does
    g.currents.append(CurrentInjection("dc", "DCSource", {"amplitude": 0.2, "start": 5.0, "stop": 20.0}, "E",
                                       np.arange(5)))
    g.recordings.append(RecordingSpec("E", "v", np.arange(4), 0.1))
    return g


def test_a_hybrid_graph_of_every_kind_runs_to_identical_results_in_a_new_process(tmp_path, hm):
    from neurohybrid.runtime import Runtime
    graph = _storable_graph(hm)
    digest = graph_io.save(graph, tmp_path / "hybrid.h5")
    assert digest == graph.content_hash()
    rt = Runtime(graph)
    rt.run(hm.T_RUN)
    here = _digests(rt, SPIKES, SIGNALS + MORE_SIGNALS)
    rt.close()
    there = _run_hybrid_in_new_process(tmp_path / "hybrid.h5", hm.T_RUN, SPIKES, SIGNALS + MORE_SIGNALS)
    assert there["hash"] == digest  # the loaded graph hashes as the saved one, in another process
    assert there["results"] == here  # spikes, rates, region states, BOLD, traces: bit for bit
    assert all(here[p][0] > 0 for p in SPIKES), here  # every population spiked
    n_steps = int(round(hm.T_RUN / hm.DT))
    assert here["R1.rates/rate"][0] == [n_steps, 2] and here["brain/bold"][0] == [int(hm.T_RUN // 10.0), 4]

    loaded = graph_io.load(tmp_path / "hybrid.h5", cell_classes=[hm.BallStick])
    assert set(loaded.modules) == set(graph.modules) and [lk.label for lk in loaded.links] == \
        [lk.label for lk in graph.links]
    brain = loaded.modules["brain"]
    assert type(brain.integrator).__name__ == "HeunStochastic" and brain.integrator.nsig.shape == (2, 4)
    assert np.array_equal(brain.connectome.weights, graph.modules["brain"].connectome.weights)
    assert np.array_equal(brain.connectome.centres, graph.modules["brain"].connectome.centres)
    assert loaded.modules["tone"].fn == graph.modules["tone"].fn  # a Sigmoid again, not a function
    assert loaded.nodes["cells"].cell.describe() == graph.nodes["cells"].cell.describe()


def test_a_hybrid_pynn_session_saved_runs_to_its_own_results_in_a_new_process(tmp_path, hm):
    """Item 3: a PyNN front end's fields take Affine/Sigmoid as any callable; the session's graph,
    saved and run on the Runtime in a fresh process, gives the session's own results."""
    from neurohybrid.graph import Affine, Sigmoid
    sim.setup(timestep=hm.DT, seed=5)
    brain = sim.WholeBrain(sim.Connectome.synthetic(4, seed=1), model=sim.ReducedWongWangExcInh(G=0.5),
                           coupling=sim.LinearCoupling(a=1.0), exchange=1.0, label="brain")
    E = sim.Population(hm.N_E, sim.IF_curr_exp(), label="E")
    I = sim.Population(hm.N_I, sim.IF_curr_exp(), label="I")
    cells = sim.Population(hm.N_CELLS, sim.NeuronCell(hm.BallStick, receptors={"exc": "syns"}), label="cells")
    sim.Projection(E, cells, sim.FromListConnector(hm.E_TO_CELLS),
                   sim.StaticSynapse(weight=hm.W_CELLS, delay=hm.D_CELLS), receptor_type="exc")
    brain.replace("R1", [E, I], inputs=sim.rates_to_spikes("poisson", weight=hm.W_IN, delay=hm.D_IN, gain=hm.GAIN),
                  output=sim.spikes_to_rates("box"))
    brain.modulate(I, "R2", "S_e", modulates="threshold", fn=Sigmoid(0.0, -10.0, 0.2, 0.05), field="tone")
    sim.modulate(E, cells, proxy="mean_v:soma", modulates="current", fn=Affine(0.02, 1.3), field="soma_v",
                 delay=1.0)
    for p in (E, I, cells):
        p.record("spikes")
    E[:4].record("v", sampling_interval=0.1)
    brain.record(["S_e"], sampling_interval=1.0)
    sim.run(hm.T_RUN)
    net = sim.state.network
    session = _digests(net, SPIKES, SIGNALS)
    graph = net.full_graph
    digest = graph_io.save(graph, tmp_path / "session.h5")
    fn = brain.describe()["fields"][0]["fn"]
    sim.end()
    assert fn.startswith("Sigmoid(")  # described as what it is, not as "identity"
    there = _run_hybrid_in_new_process(tmp_path / "session.h5", hm.T_RUN, SPIKES, SIGNALS)
    assert there["hash"] == digest
    assert there["results"] == session and session["E"][0] > 0 and session["cells"][0] > 0


def _layout_of(path):
    with h5py.File(path, "r") as f:
        return json.loads(f.attrs["layout"])


def _rewrite_layout(path, change):
    with h5py.File(path, "a") as f:
        layout = json.loads(f.attrs["layout"])
        change(layout)
        f.attrs["layout"] = json.dumps(layout)


def test_damaged_or_foreign_hybrid_graph_files_are_refused_by_name(tmp_path, hm):
    graph = _storable_graph(hm)
    path = tmp_path / "h.h5"
    graph_io.save(graph, path)
    layout, arrays = graph_io.to_dict(graph)  # JSON all the way down
    again = graph_io.from_dict(json.loads(json.dumps(layout)), arrays, cell_classes=[hm.BallStick])
    assert again.content_hash() == graph.content_hash()

    data = path.read_bytes()
    (tmp_path / "truncated.h5").write_bytes(data[: len(data) // 2])
    with pytest.raises(graph_io.GraphFileError, match="truncated.h5.*cannot be read"):
        graph_io.load(tmp_path / "truncated.h5", cell_classes=[hm.BallStick])
    with h5py.File(path, "a") as f:
        f.attrs["format_version"] = 3
    with pytest.raises(graph_io.GraphFileError, match=r"format_version: version 3 \(accepted: version 1 or 2\)"):
        graph_io.load(path, cell_classes=[hm.BallStick])

    graph_io.save(graph, path)
    weights = _layout_of(path)["modules"][0]["fields"]["connectome"]["weights"]["array"]
    with h5py.File(path, "a") as f:
        f[f"arrays/{weights}"][0, 1] += 0.5  # a changed connection of the scaffold
    with pytest.raises(graph_io.GraphFileError, match="content_hash: the content does not match"):
        graph_io.load(path, cell_classes=[hm.BallStick])

    for slot, cls, message in (("model", "Evil", r"ScaffoldNode\(brain\)\.model\.type: unknown neural-mass model "
                                                  r"'Evil' \(accepted: Generic2dOscillator"),
                               ("coupling", "os.system", r"ScaffoldNode\(brain\)\.coupling\.type: unknown class "
                                                         r"'os.system' \(accepted: Linear, Sigmoidal")):
        graph_io.save(graph, path)
        _rewrite_layout(path, lambda lay: lay["modules"][0]["fields"][slot].update(type=cls))
        with pytest.raises(graph_io.GraphFileError, match=message):
            graph_io.load(path, cell_classes=[hm.BallStick])

    graph_io.save(graph, path)
    with pytest.raises(graph_io.GraphFileError, match=r"Population\(cells\)\.cell\.cell_class: the graph's cells are "
                                                      r"of the Python class 'graph_hybrid.BallStick'.*cell_classes="
                                                      r"\[BallStick\]"):
        graph_io.load(path)  # the file names the class; the caller hands it over
    _rewrite_layout(path, lambda lay: lay["nodes"][2]["cell"].update(cell_source_sha256="0" * 64))
    with pytest.raises(graph_io.GraphFileError, match=r"cell_class: the class graph_hybrid.BallStick given is not "
                                                      r"the one saved"):
        graph_io.load(path, cell_classes=[hm.BallStick])


def test_what_is_code_is_refused_when_saving_by_name(tmp_path, hm):
    from neurohybrid.backends.meanfield import Linear
    from neurohybrid.graph import HostModuleNode
    from neurohybrid.kernel import Recorder

    graph = _storable_graph(hm)
    graph.modules["tone"].fn = lambda s: -20.0 * s
    with pytest.raises(UnsupportedModelError, match=r"FieldNode\(tone\)\.fn: a Python function \(.*<lambda>\) "
                                                    r"cannot be saved in a graph file.*neurohybrid.graph.Affine"):
        graph_io.save(graph, tmp_path / "g.h5")
    assert not (tmp_path / "g.h5").exists()  # nothing written

    graph = _storable_graph(hm)
    graph.add_module(HostModuleNode("live", Recorder("live", {"in": "spikes"}), period=1.0))
    with pytest.raises(UnsupportedModelError, match=r"HostModuleNode\(live\)\.component: a host module is a live "
                                                    r"component \(neurohybrid.kernel.Recorder\)"):
        graph_io.save(graph, tmp_path / "g.h5")

    class MyLinear(Linear):
        pass

    graph = _storable_graph(hm)
    graph.modules["brain"].coupling = MyLinear(a=1.0)
    with pytest.raises(UnsupportedModelError, match=r"ScaffoldNode\(brain\)\.coupling: .*MyLinear is not one of "
                                                    r"the couplings"):
        graph_io.save(graph, tmp_path / "g.h5")

    graph = _storable_graph(hm)
    graph.nodes["cells"].cell.receptors["exc"] = lambda cell: cell.syns
    with pytest.raises(UnsupportedModelError, match=r"Population\(cells\)\.cell\.receptors\['exc'\]: a Python "
                                                    r"function cannot be saved"):
        graph_io.save(graph, tmp_path / "g.h5")


def test_a_version_1_file_still_loads(tmp_path):
    graph = _model()
    sim.end()
    path = tmp_path / "v1.h5"
    graph_io.save(graph, path)

    def as_version_1(layout):  # version 1 layouts had neither modules, links nor cell builders
        del layout["modules"], layout["links"]
        for node in layout["nodes"]:
            del node["cell"]

    _rewrite_layout(path, as_version_1)
    with h5py.File(path, "a") as f:
        f.attrs["format_version"] = 1
    assert graph_io.load(path).content_hash() == graph.content_hash()


HASH_SCRIPT = """
from neurohybrid.graph import FieldNode, ModelGraph
def squash(x):
    return sum([v * v for v in [x]]) + (lambda y: y)(0.0)  # nested code objects: a list comprehension, a lambda
g = ModelGraph(0.1, 1)
g.add_module(FieldNode("f", squash))
print(g.content_hash())
"""


def test_the_content_hash_is_the_same_in_every_process():
    """A function with nested code objects (whose repr holds a memory address) hashes the same
    in two interpreters."""
    hashes = {subprocess.run([sys.executable, "-c", HASH_SCRIPT], capture_output=True, text=True, env=os.environ,
                             check=True).stdout.strip().splitlines()[-1] for _ in range(2)}
    assert len(hashes) == 1


def test_transfer_functions_are_vectorised_data():
    from neurohybrid.errors import ParameterError
    from neurohybrid.graph import Affine, Sigmoid
    f = Affine(scale=2.0, offset=-1.0)
    assert f(3.0) == 5.0 and isinstance(f(3.0), float)
    assert np.array_equal(f(np.array([0.0, 1.0])), [-1.0, 1.0])
    s = Sigmoid(low=-1.0, high=3.0, midpoint=0.5, width=0.1)
    assert s(0.5) == 1.0 and s(1e6) == 3.0 and s(-1e6) == -1.0  # no overflow far from the midpoint
    assert np.allclose(s(np.array([0.6])), -1.0 + 4.0 / (1.0 + np.exp(-1.0)))
    with pytest.raises(ParameterError, match=r"Sigmoid\.width"):
        Sigmoid(width=0.0)
    with pytest.raises(ParameterError, match=r"Affine\.scale"):
        Affine(scale=float("nan"))
