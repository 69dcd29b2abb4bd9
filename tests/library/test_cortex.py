"""The Potjans & Diesmann (2014) microcircuit module (neurohybrid.library.cortex).

Structure is checked against PD14 Table 4/5 and NEST's downscaling; activity at a reduced size
(n_scale 0.01, k_scale 0.1, 500 ms) against the layer rates of NEST's full-scale microcircuit
(network_params.py ``full_mean_rates``): the ordering PD14 Fig. 6 shows (L2/3E and L6E the
quietest populations, L5E the busiest excitatory one, I above E in every layer) and each rate
within a factor the reduced network supports.
"""
import math

import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.errors import ParameterError
from neurohybrid.library import cell_class
from neurohybrid.library.cortex import (CONN_PROBS, K_EXT, N_FULL, POPULATIONS, REFERENCE_RATES, cortex,
                                        connect_input, full_indegrees, layer_rates)


@pytest.fixture
def session():
    sim.setup(timestep=0.1, seed=11)
    yield sim
    sim.end()


def test_cell_classes_are_pd14_table4():
    """PD14 Table 4: C 250 pF, tau_m 10 ms, tau_syn 0.5 ms, E_L = V_reset -65, V_th -50 mV, t_ref 2 ms."""
    for name in POPULATIONS:
        p = cell_class(name).resolved()
        assert (p["cm"], p["tau_m"], p["tau_syn_E"], p["tau_syn_I"]) == (0.25, 10.0, 0.5, 0.5)
        assert (p["v_rest"], p["v_reset"], p["v_thresh"], p["tau_refrac"]) == (-65.0, -65.0, -50.0, 2.0)


def test_indegrees_match_pd14():
    """Full-scale in-degrees from Table 5's probabilities: L2/3E <- L2/3E about 2,200 and the
    total number of synapses about 0.3 billion (PD14: 'about 0.3 billion')."""
    k = full_indegrees()
    assert k[0, 0] == pytest.approx(2199, abs=2)
    total = (k * N_FULL[:, None]).sum()
    print(f"total synapses {total:.3g} (PD14: ~3e8)")
    assert 2.8e8 < total < 3.1e8
    assert np.all(k[CONN_PROBS == 0] == 0)


def test_structure_scaling_and_ports(session):
    """Sizes scale with n_scale, each projection holds round(k_scale K N_post) synapses
    (FixedTotalNumberConnector), weights are J/sqrt(k) (L4E->L2/3E doubled, I = -4 J), and the
    DC compensation follows NEST's formula."""
    k = 0.05
    m = cortex(sim, n_scale=0.01, k_scale=k, seed=3, thalamus=True)
    sizes = m.extras["sizes"]
    assert [sizes[n] for n in POPULATIONS] == [int(round(n * 0.01)) for n in N_FULL]
    prj = m.extras["projections"]
    kin = full_indegrees() * k
    for i, post in enumerate(POPULATIONS):
        for j, pre in enumerate(POPULATIONS):
            n = int(round(kin[i, j] * sizes[post]))
            if n:
                assert prj[f"{pre}->{post}"].size() == n
            else:
                assert f"{pre}->{post}" not in prj
    w = np.asarray(prj["L4E->L23E"].get("weight", format="list"))[:, 2]     # nA, multapses kept apart
    assert w.mean() == pytest.approx(2 * 0.0878 / math.sqrt(k), rel=0.03) and w.min() >= 0
    assert w.std() / w.mean() == pytest.approx(0.1, rel=0.15)                 # 87.8 +- 8.8 pA
    wi = np.asarray(prj["L23I->L23E"].get("weight", format="list"))[:, 2]
    assert wi.mean() == pytest.approx(-4 * 0.0878 / math.sqrt(k), rel=0.03) and wi.max() <= 0
    d = np.asarray(prj["L23I->L23E"].get("delay", format="list"))[:, 2]
    assert d.min() >= 0.1 and 0.7 < d.mean() < 1.1         # 0.8 +- 0.4 ms, clipped at dt
    # NEST's compensation for L4E: tau_syn (1 - sqrt k) (sum J K r + J K_ext nu)
    full_w = np.array([87.8, -351.2] * 4)
    rates = np.array([REFERENCE_RATES[n] for n in POPULATIONS])
    expect = 0.5e-3 * (1 - math.sqrt(k)) * ((full_w * full_indegrees()[2] * rates).sum() + 87.8 * K_EXT[2] * 8)
    assert m.extras["dc_pA"]["L4E"] == pytest.approx(expect, rel=1e-9)
    assert np.ravel(m.populations["L4E"].get("i_offset"))[0] == pytest.approx(expect * 1e-3)
    # thalamus only onto L4 and L6
    assert {key.split("->")[1] for key in prj if key.startswith("TC->")} == {"L4E", "L4I", "L6E", "L6I"}
    # ports
    assert {p.name for p in m.outputs()} >= {"L23E.spikes", "L5E.rates", "L23E.rates"}
    assert m.port("input.spikes").direction == "in"
    assert [p.label for p in m.port("input.rates").target] == ["L4E", "L4I", "L6E", "L6I"]
    assert m.port("gain").kind == "field"
    with pytest.raises(ParameterError, match="port"):
        m.port("L7E.spikes")


def test_reduced_network_rates(session):
    """Rates of the downscaled network (n 0.01, k 0.1, 500 ms, first 150 ms dropped) beside NEST's
    full-scale rates: PD14's ordering and each rate within 0.25x-3x of the reference."""
    m = cortex(sim, n_scale=0.01, k_scale=0.1, seed=5)
    m.record("spikes")
    sim.run(500.0)
    r = layer_rates(m, 150.0, 500.0)
    for name in POPULATIONS:
        print(f"{name}: ours {r[name]:.2f} Hz, NEST full scale {REFERENCE_RATES[name]:.2f} Hz")
    for layer in ("L23", "L4", "L5", "L6"):
        assert r[layer + "I"] > r[layer + "E"]
    assert r["L23E"] < r["L4E"] < r["L5E"]
    assert r["L6E"] < r["L4E"]
    for name in POPULATIONS:
        assert 0.25 * REFERENCE_RATES[name] < r[name] < 3.0 * REFERENCE_RATES[name], name


def test_connect_input_onto_l4_l6(session):
    """A spike source projected with PD14's thalamic in-degrees reaches L4 and L6 only."""
    m = cortex(sim, n_scale=0.005, k_scale=0.05, seed=1)
    src = sim.Population(5, sim.SpikeSourcePoisson(rate=10.0), label="ctx")
    prj = connect_input(sim, m, src, k_scale=0.05, seed=2)
    assert sorted(prj) == ["ctx->L4E", "ctx->L4I", "ctx->L6E", "ctx->L6I"]
    with pytest.raises(ParameterError, match="probabilities"):
        connect_input(sim, m, src, probabilities=[0.1] * 3)


@pytest.mark.parametrize("kwargs, name", [
    ({"J": 1000.0}, "J"),
    ({"bogus": 1.0}, "bogus"),
    ({"n_scale": 0.0}, "n_scale"),
    ({"n_scale": 2.0}, "n_scale"),
    ({"k_scale": "x"}, "k_scale"),
    ({"g": float("nan")}, "g"),
    ({"seed": 1.5}, "seed"),
    ({"background": "white"}, "background"),
    ({"thalamus": "yes"}, "thalamus"),
    ({"l5_island": 5}, "l5_island"),
    ({"region": 3}, "region"),
])
def test_bad_inputs(session, kwargs, name):
    with pytest.raises(ParameterError) as err:
        cortex(sim, **kwargs)
    assert "cortex module" in str(err.value) and name in str(err.value)


def test_override_records_out_of_range(session):
    m = cortex(sim, n_scale=0.002, k_scale=0.02, J=400.0, override=True, background="dc")
    assert m.overrides == ("J",) and m.parameters["J"] == 400.0
    assert "bg->L23E" not in m.extras["projections"]


def _rates(excitability):
    """Rates (Hz) of a tiny circuit (n 0.005, k 0.05, 200 ms) with a constant excitability field
    on the module's ``excitability`` port (None: no field)."""
    sim.setup(timestep=0.1, seed=4)
    m = cortex(sim, n_scale=0.005, k_scale=0.05, seed=2)
    if excitability is not None:
        silent = sim.Population(1, sim.SpikeSourcePoisson(rate=0.0), label="silent nucleus")
        field = sim.Field("ctx excitability", source=silent, tau=100.0, baseline=excitability, release=0.0)
        field.modulate(m.port("excitability").target, "excitability")
    m.record("spikes")
    sim.run(200.0)
    r = layer_rates(m, 50.0, 200.0)
    sim.end()
    return r


def test_excitability_port():
    """The field-in port: excitability 1 leaves the circuit as modelled (identical rates); 0.8
    (threshold distance x 1.25) silences it; 1.5 raises every inhibitory population (E rates
    need not rise: the circuit is inhibition-stabilised, L2/3E falls)."""
    plain, one, low, high = (_rates(x) for x in (None, 1.0, 0.8, 1.5))
    for n in POPULATIONS:
        print(f"{n}: {plain[n]:.2f} Hz; excitability 1.0 {one[n]:.2f}, 0.8 {low[n]:.2f}, 1.5 {high[n]:.2f} Hz")
    assert one == plain
    assert sum(low.values()) < 0.2 * sum(plain.values())
    assert all(high[n] > 1.2 * plain[n] for n in POPULATIONS if n.endswith("I"))
