"""Cell builders and NMODL compilation of the NEURON engine: PyNN multi-compartment cells agree
with pyNN.neuron, user cells with their own mechanisms, typed errors for bad inputs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("neuron")
pytest.importorskip("neuroml")
from neuron import h  # noqa: E402

from neurohybrid.backends.neuron import (MechanismError, MultiCompartmentBuilder, NeuronCellBuilder,  # noqa: E402
                                         NeuronEngine, compile_mechanisms)
from neurohybrid.errors import ParameterError, UnsupportedModelError  # noqa: E402
from neurohybrid.graph import CurrentInjection, ModelGraph, PopulationNode, RecordingSpec  # noqa: E402

DATA = Path(__file__).parent / "data"
sys.path.insert(0, str(DATA))
import pyNN.neuron as pynn_neuron  # noqa: E402
from mc_model import make_celltype  # noqa: E402


class Sink:
    def __init__(self):
        self.smp = {}

    def spikes(self, node, stamp, ids):
        pass

    def samples(self, node, variable, values):
        self.smp.setdefault((node, variable), []).append(np.array(values))

    def flush(self):
        pass


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("NEUROHYBRID_CACHE", str(tmp_path_factory.getbasetemp() / "nh-cache"))


def test_multicompartment_dc_response_agrees_with_pynn_neuron(tmp_path):
    ref = tmp_path / "ref.npz"
    proc = subprocess.run([sys.executable, str(DATA / "pynn_reference.py"), str(ref)], capture_output=True,
                          text=True, env={k: v for k, v in os.environ.items() if k != "DISPLAY"})
    assert proc.returncode == 0, proc.stderr
    expected = np.load(ref)
    builder = MultiCompartmentBuilder(make_celltype(pynn_neuron), size=2)
    g = ModelGraph(dt=0.1, seed=1)
    g.nodes["mc"] = PopulationNode("mc", "TwoCompartment", 2, {}, {"v": np.full(2, -65.0)}, kind="biophysical",
                                   cell=builder)
    for i, where in enumerate(("soma", "dendrite")):
        g.currents.append(CurrentInjection(f"dc{i}", "DCSource", {"amplitude": 0.01, "start": 20.0, "stop": 80.0,
                                                                  "location": where}, "mc", np.array([i])))
    g.recordings += [RecordingSpec("mc", "soma.v", np.arange(2), 0.1),
                     RecordingSpec("mc", "dendrite.v", np.arange(2), 0.1)]
    eng, sink = NeuronEngine(dt=0.025), Sink()
    eng.build(g, sink)
    eng.initial_samples()
    for stop in range(100, 1001, 100):
        eng.advance(stop)
    soma = np.concatenate(sink.smp[("mc", "soma.v")])
    dend = np.concatenate(sink.smp[("mc", "dendrite.v")])
    n = expected["soma"].shape[0]  # PyNN's samples (its last one is 100 ms)
    assert soma.shape == (1001, 2)
    assert np.ptp(soma[:, 0]) > 0.5 and soma[400, 0] > soma[400, 1]  # the soma-injected cell responds more
    np.testing.assert_allclose(soma[:n], expected["soma"], atol=1e-9)
    np.testing.assert_allclose(dend[:n], expected["dendrite"], atol=1e-9)
    # the state PyNN would record through its translations
    m = eng.get_state("mc", "soma.na.m")
    assert m.shape == (2,) and np.all((m > 0) & (m < 1))
    eng.close()


def test_multicompartment_cell_protocol():
    builder = MultiCompartmentBuilder(make_celltype(pynn_neuron))
    cell = builder.build(0)
    seg, thr = cell.spike_source
    assert "soma" in str(seg.sec) and thr == 10.0
    assert len(cell.synapses("AMPA")) == 2
    (dsyn,) = cell.synapses("AMPA", "dendrite")
    assert dsyn.get_segment().sec == cell.location("dendrite").sec
    assert cell.synapses("AMPA", "dendrites") == [dsyn]  # PyNN selector name
    assert cell.location("dendrite(0.9)").x == pytest.approx(0.9, abs=0.1)
    assert {"soma", "dendrite"} <= set(cell.location_names())
    with pytest.raises(ParameterError, match="axon"):
        cell.location("axon")
    with pytest.raises(ParameterError, match="GABA"):
        cell.synapses("GABA", None)
    d1, d2 = builder.describe(), MultiCompartmentBuilder(make_celltype(pynn_neuron)).describe()
    assert json.dumps(d1, sort_keys=True) == json.dumps(d2, sort_keys=True)  # no addresses in the description
    with pytest.raises(UnsupportedModelError):
        MultiCompartmentBuilder(pynn_neuron.IF_cond_exp())


class LeakyCell:
    """A cell using the test mechanism nhleak (compiled from data/mod_ok)."""

    def __init__(self, g=1e-4):
        self.soma = h.Section(name="soma", cell=self)
        self.soma.L = self.soma.diam = 10.0
        self.soma.insert("nhleak")
        for seg in self.soma:
            seg.nhleak.g, seg.nhleak.e = g, -60.0
        self.syn = h.ExpSyn(self.soma(0.5))


def test_user_cell_with_compiled_mechanism():
    builder = NeuronCellBuilder(LeakyCell, parameters={"g": np.array([1e-4, 2e-4])}, receptors={"AMPA": "syn"},
                                mechanisms=DATA / "mod_ok")
    g = ModelGraph(dt=0.1, seed=1)
    g.nodes["c"] = PopulationNode("c", "Leaky", 2, {}, {"v": np.full(2, -70.0)}, kind="biophysical", cell=builder)
    g.recordings.append(RecordingSpec("c", "soma.nhleak.g", np.arange(2), 1.0))
    g.recordings.append(RecordingSpec("c", "v", np.arange(2), 1.0))
    eng, sink = NeuronEngine(dt=0.025), Sink()
    eng.build(g, sink)
    eng.initial_samples()
    eng.advance(500)
    np.testing.assert_array_equal(np.concatenate(sink.smp[("c", "soma.nhleak.g")])[-1], [1e-4, 2e-4])
    v = np.concatenate(sink.smp[("c", "v")])
    tau = np.array([10.0, 5.0])  # cm / g
    np.testing.assert_allclose(v[-1], -60.0 - 10.0 * np.exp(-50.0 / tau), atol=0.01)
    eng.close()
    # compiling again is a cache hit (same library), and the description names the mechanisms' hash
    assert compile_mechanisms(DATA / "mod_ok") == compile_mechanisms(DATA / "mod_ok")
    assert len(builder.describe()["mechanisms_sha256"]) == 64


def test_hoc_template_cell(tmp_path):
    hoc = tmp_path / "cell.hoc"
    hoc.write_text("begintemplate NHTestCell\npublic soma, syn, gl\ncreate soma\nobjref syn\n"
                   "proc init() { gl = 1e-4\n soma { L = 10 diam = 10 insert pas g_pas = gl }\n"
                   " soma syn = new ExpSyn(0.5) }\nendtemplate NHTestCell\n")
    builder = NeuronCellBuilder("NHTestCell", hoc_file=hoc, receptors={"AMPA": "syn"})
    cell = builder.build(0)
    assert cell.synapses("AMPA")[0].hname().startswith("ExpSyn")
    assert cell.location("soma").sec == cell.spike_source[0].sec


def test_mechanism_errors(tmp_path):
    with pytest.raises(MechanismError, match="does not exist"):
        compile_mechanisms(tmp_path / "missing")
    with pytest.raises(MechanismError, match="no .mod files"):
        compile_mechanisms(tmp_path)
    with pytest.raises(MechanismError) as err:
        NeuronCellBuilder(LeakyCell, mechanisms=DATA / "mod_bad")
    assert "mod_bad" in str(err.value) and "broken" in err.value.output
    assert isinstance(err.value, ParameterError)


def test_user_cell_bad_places():
    builder = NeuronCellBuilder(LeakyCell, receptors={"AMPA": "syn", "GABA": "nosuchattribute"},
                                mechanisms=DATA / "mod_ok")
    cell = builder.build(0)
    with pytest.raises(ParameterError, match="apical"):
        cell.location("apical")
    with pytest.raises(ParameterError, match="outside"):
        cell.location("soma(1.5)")
    with pytest.raises(ParameterError, match="NMDA"):
        cell.synapses("NMDA")
    with pytest.raises(ParameterError, match="nosuchattribute"):
        cell.synapses("GABA")
    with pytest.raises(ParameterError, match="dend"):
        cell.synapses("AMPA", "dend")
    with pytest.raises(ParameterError, match="axon"):
        NeuronCellBuilder(LeakyCell, spike_location="axon(0.5)").build(0)
