"""The cell types PyNN 0.13 defines beyond the classic ones, against NEST: IF_cond_exp_gsfa_grr
(NEST iaf_cond_exp_sfa_rr), IF_facets_hardware1 (iaf_cond_exp with fixed parameters),
GIF_cond_exp (gif_cond_exp; stochastic firing from the keyed streams) and PyNN's composed
PointNeuron (iaf_psc_exp_multisynapse, aeif_cond_alpha_multisynapse).

References: ``nest_cell_references.json``, the same scenarios (``make_cell_references.py``) run
once through pyNN.nest with NEST 3.10. Deterministic models: the same spike times (on the 0.1 ms
grid) and v within 1e-6 mV at the sampled times (the kernels replicate NEST's integrators; what
differs is rounding). Stochastic GIF: the population's spike count within 5 standard deviations
of NEST's (the two runs draw different random numbers). Then bad input: typed errors.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid import errors

import make_cell_references as scenarios

REFS = json.loads(Path(__file__).with_name("nest_cell_references.json").read_text())


@pytest.mark.parametrize("name", list(scenarios.SCENARIOS))
def test_spike_times_and_v_as_nest(name):
    spikes, v = scenarios.run(sim, scenarios.SCENARIOS[name])
    ref = REFS[name]
    assert sum(len(s) for s in ref["spikes"]) > 0
    for ours, theirs in zip(spikes, ref["spikes"]):
        np.testing.assert_allclose(ours, theirs, atol=1e-9, err_msg=f"{name}: spike times")
    np.testing.assert_allclose(v, ref["v"], atol=1e-6, err_msg=f"{name}: v at {scenarios.V_SAMPLES} ms")


def test_stochastic_gif_firing_as_nest():
    spikes, _ = scenarios.run(sim, scenarios.STOCHASTIC["GIF_cond_exp/stochastic"], record_v=False)
    count, ref = sum(len(s) for s in spikes), REFS["GIF_cond_exp/stochastic"]["spike_count"]
    assert ref > 500
    assert abs(count - ref) < 5 * np.sqrt(2 * ref), (count, ref)


def _gif_spikes(tmp_path, seed, engine=None):
    sim.setup(timestep=0.1, seed=seed, recording_path=tmp_path / f"{seed}{engine}.h5")
    cells = sim.Population(50, sim.GIF_cond_exp(delta_v=0.5, v_t_star=-55.0, a_gamma=(1.0, 1.0, 1.0)), label="gif",
                           **({"engine": engine} if engine else {}))
    drive = sim.Population(50, sim.SpikeSourcePoisson(rate=200.0), label="drive")
    sim.Projection(drive, cells, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.01, delay=1.0))
    sim.DCSource(amplitude=0.5).inject_into(cells)
    cells.record("spikes")
    sim.run(200.0)
    out = [np.asarray(st) for st in cells.get_data().segments[0].spiketrains]
    sim.end()
    return out


def test_gif_draws_are_keyed(tmp_path):
    """Same seed: same spikes (also on another engine instance); another seed: other spikes."""
    a, b, c = _gif_spikes(tmp_path, 1), _gif_spikes(tmp_path, 1, engine="emulator:gif"), _gif_spikes(tmp_path, 2)
    assert sum(x.size for x in a) > 50
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert any(x.size != y.size or not np.array_equal(x, y) for x, y in zip(a, c))


def test_composed_neuron_parameters_and_recording(tmp_path):
    sim.setup(timestep=0.1, recording_path=tmp_path / "c.h5")
    celltype = sim.PointNeuron(sim.AdExp(tau_m=10.0), AMPA=sim.AlphaPSR(tau_syn=1.0, e_syn=0.0),
                               GABAA=sim.AlphaPSR(tau_syn=1.5, e_syn=-70.0))
    cells = sim.Population(3, celltype, label="composed")
    assert celltype.receptor_types == ["AMPA", "GABAA"]
    assert cells.get("GABAA.e_syn") == -70.0 and cells.get("tau_m") == pytest.approx(10.0)
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0]), label="src")
    sim.Projection(src, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.02, delay=1.0), receptor_type="AMPA")
    cells.record(["v", "AMPA.gsyn", "GABAA.gsyn"])
    sim.run(20.0)
    seg = cells.get_data().segments[0]
    g = seg.filter(name="AMPA.gsyn")[0]
    assert g.units.dimensionality.string == "uS"
    assert np.asarray(g).max() == pytest.approx(0.02, rel=1e-3)  # an alpha conductance peaks at the weight
    assert np.asarray(seg.filter(name="GABAA.gsyn")[0]).max() == 0.0
    sim.end()


@pytest.mark.parametrize("make, match", [
    (lambda: sim.PointNeuron(sim.LIF(), AMPA=sim.AlphaPSR()), "LIF"),
    (lambda: sim.PointNeuron(sim.AdExp(), AMPA=sim.CurrExpPostSynapticResponse()), "AdExp"),
    (lambda: sim.PointNeuron(sim.AdExp(), AMPA=sim.AlphaPSR(), B=sim.BetaPSR()), "AdExp"),
])
def test_unsupported_compositions_are_typed_errors(make, match):
    with pytest.raises(errors.UnsupportedModelError, match=match):
        make()


@pytest.mark.parametrize("celltype, name", [
    (lambda: sim.PointNeuron(sim.LIF(), AMPA=sim.CurrExpPostSynapticResponse(tau_syn=-1.0)), "AMPA.tau_syn"),
    (lambda: sim.IF_cond_exp_gsfa_grr(tau_sfa=0.0), "tau_sfa"),
    (lambda: sim.GIF_cond_exp(delta_v=0.0), "delta_v"),
    (lambda: sim.GIF_cond_exp(tau_eta=(1.0, -2.0, 3.0)), "tau_eta"),
])
def test_bad_parameters_are_typed_errors(tmp_path, celltype, name):
    sim.setup(timestep=0.1, recording_path=tmp_path / "bad.h5")
    with pytest.raises(errors.ParameterError, match=name.replace(".", r"\.")):
        sim.Population(2, celltype(), label="bad")
    sim.end()


def test_gif_array_parameters_of_different_lengths_are_refused(tmp_path):
    sim.setup(timestep=0.1, recording_path=tmp_path / "bad.h5")
    cells = sim.Population(2, sim.GIF_cond_exp(tau_eta=[(1.0, 2.0), (1.0, 2.0, 3.0)],
                                               a_eta=[(0.1, 0.1), (0.1, 0.1, 0.1)]), label="ragged")
    cells.record("spikes")
    with pytest.raises(errors.ParameterError, match="tau_eta"):
        sim.run(1.0)
    sim.end()


def test_inhomogeneous_gamma_source_is_refused_with_the_reason():
    with pytest.raises(errors.UnsupportedModelError, match="inh_gamma_generator"):
        sim.SpikeSourceInhGamma()
