"""Quantisation of point-neuron graphs to Loihi fixed-point LIF (mappings/loihi/quantize.py).

Numbers are checked against hand computation from the rules in the module docstring; the
fixed-point circuit is also run on the bit-exact kernel and compared with the float emulator.
"""
from __future__ import annotations

import json
import math
import tracemalloc

import numpy as np
import pytest
from loihi_helpers import edge, graph, node, run_fixed

from neurohybrid.errors import DelayError, ParameterError, UnsupportedModelError
from neurohybrid.graph import CurrentInjection
from neurohybrid.mappings.loihi import APPROXIMATIONS, LoihiCircuit, format_report, quantize


def _delta_graph(**over):
    params = dict(v_rest=-65.0, v_thresh=-45.0, v_reset=-65.0, tau_m=20.0, cm=1.0,
                  tau_refrac=[2.0, 0.15, 0.0], i_offset=[0.0, 0.5, -0.25])
    params.update(over)
    n = node("n", "IF_curr_delta", 3, initial={"v": [-65.0, -55.0, -70.0]}, **params)
    s = node("s", "SpikeSourceArray", 1)
    e = edge("s->n", "s", "n", [0, 0, 0], [0, 1, 2], 0.1, 1.5)
    return graph([n, s], [e])


# ------------------------------------------------------------------------------------------
# faithful maps, by hand
# ------------------------------------------------------------------------------------------

def test_if_curr_delta_hand_computed():
    c = quantize(_delta_graph())
    p = c.populations["n"]
    # theta = 20 mV; weight 0.1 mV. The scale puts the threshold at 64 M v units with M the largest
    # in [2**14, 2**15] at which 0.1 mV is exact: 0.1 * 64 M / 20 = 0.32 M = 64 * m (m <= 255)
    # -> M = 200 m, m = 163 -> M = 32600, scale = 64 * 32600 / 20 = 104320 v units per mV.
    assert p.scale == pytest.approx(104320.0)
    assert list(p.vth) == [32600] * 3
    # dv = rint(4096 (1 - exp(-0.1/20))) = rint(20.43) = 20; du = 4095 (delta synapses)
    assert list(p.dv) == [20] * 3 and list(p.du) == [4095] * 3
    # tau_refrac 2.0, 0.15, 0 ms -> 20, 2 (NEST rounds up), 0 steps
    assert list(p.refractory) == [20, 2, 0]
    # bias = i_offset * tau_m / cm * (dv/4096) * scale: 0.5 nA -> 0.5*20*20/4096*104320 = 5093.75
    # -> exponent 1, mantissa rint(2546.875) = 2547; -0.25 nA -> -2546.875 -> -2547, exponent 0
    assert list(p.bias_mant) == [0, 2547, -2547] and list(p.bias_exp) == [0, 1, 0]
    # v0 = (v - v_rest) * scale
    assert list(p.v0) == [0, 1043200, -521600] and list(p.u0) == [0, 0, 0]
    assert p.v_rest == -65.0 and p.source_model == "IF_curr_delta" and p.approximations == ()
    (prj,) = c.projections
    assert prj.weight_exp == 0 and prj.sign_mode == "excitatory"
    assert list(prj.weights) == [163] * 3  # 163 * 64 = 10432 = 0.1 mV * 104320 exactly
    assert list(prj.delays) == [15] * 3  # 1.5 ms / 0.1 ms, latency offset 0 for delta
    assert c.inputs["s"].size == 1 and c.inputs["s"].source_model == "SpikeSourceArray"
    rep = c.report["populations"]["n"]["parameters"]
    assert rep["v_thresh"]["rel_error"]["max"] == 0.0
    assert rep["tau_m"]["represented"] == pytest.approx(-0.1 / math.log(4076 / 4096))
    assert rep["tau_m"]["rel_error"]["max"] == pytest.approx(-0.1 / math.log(4076 / 4096) / 20 - 1)
    assert c.report["projections"][0]["weights"]["rel_error"]["max"] == 0.0


def test_if_curr_exp_hand_computed():
    n = node("n", "IF_curr_exp", 1, initial={"v": -65.0}, v_rest=-65.0, v_thresh=-50.0, v_reset=-65.0, tau_m=20.0,
             cm=0.25, tau_syn_E=5.0, tau_syn_I=5.0, tau_refrac=0.0, i_offset=0.0)
    s = node("s", "SpikeSourceArray", 1)
    c = quantize(graph([n, s], [edge("s->n", "s", "n", [0], [0], 0.5, 1.0)]))
    p = c.populations["n"]
    # du = rint(4095 - 4096 exp(-0.1/5)) = rint(80.11) = 80; dv = 20
    assert p.du[0] == 80 and p.dv[0] == 20 and p.refractory[0] == 0
    a, b = (4095 - 80) / 4096, (4096 - 20) / 4096
    # charge-keeping gain: tau_syn tau_m / (cm dt) (1 - a)(1 - b) mV per nA
    gain = 5.0 * 20.0 / (0.25 * 0.1) * (1 - a) * (1 - b)
    theta = 15.0
    M = int(p.vth[0])
    assert 2 ** 14 <= M <= 2 ** 15 and p.scale == pytest.approx(64 * M / theta)
    (prj,) = c.projections
    wv = 0.5 * gain * p.scale
    e = next(e for e in range(8) if round(wv / 2 ** (6 + e)) <= 255)
    assert prj.weight_exp == e and prj.weights[0] == round(wv / 2 ** (6 + e))
    assert abs(prj.weights[0] * 2 ** (6 + e) - wv) / wv < 1 / 256
    # the scale search did at least as well as the plain 2**15 choice
    s15 = 64 * 2 ** 15 / theta
    e15 = next(e for e in range(8) if round(0.5 * gain * s15 / 2 ** (6 + e)) <= 255)
    err15 = abs(round(0.5 * gain * s15 / 2 ** (6 + e15)) * 2 ** (6 + e15) - 0.5 * gain * s15) / (0.5 * gain * s15)
    assert c.report["projections"][0]["weights"]["rel_error"]["max"] <= err15 + 1e-15
    assert prj.delays[0] == 11  # 10 steps + 1: NEST's PSC reaches v one step after it arrives


def test_if_curr_exp_initial_current_and_bias_keep_steady_state():
    n = node("n", "IF_curr_exp", 1, initial={"v": -65.0, "isyn_exc": 0.2, "isyn_inh": -0.1}, tau_m=10.0, cm=0.5,
             tau_syn_E=2.0, tau_syn_I=2.0, i_offset=0.3)
    c = quantize(graph([n]))
    p = c.populations["n"]
    b = (4096 - int(p.dv[0])) / 4096
    a = (4095 - int(p.du[0])) / 4096
    # bias keeps v_inf = i_offset tau_m / cm = 6 mV: bias / (1 - b) == 6 mV * scale (to the mantissa)
    bias = int(p.bias_mant[0]) << int(p.bias_exp[0])
    assert bias / (1 - b) / p.scale == pytest.approx(6.0, rel=2 ** -12)
    # u0: the initial current's charge: a u0 = (0.2 - 0.1) nA * gain * scale
    gain = 2.0 * 10.0 / (0.5 * 0.1) * (1 - a) * (1 - b)
    assert p.u0[0] == round(0.1 * gain * p.scale / a)


# ------------------------------------------------------------------------------------------
# the circuit against the float emulator (PyNN semantics), step by step
# ------------------------------------------------------------------------------------------

def _float_run(celltype, params, inputs, t_stop, v0):
    import neurohybrid.pynn as sim
    sim.setup(timestep=0.1)
    pop = sim.Population(1, getattr(sim, celltype)(**params), label="n")
    pop.initialize(v=v0)
    for i, (w, times, receptor, delay) in enumerate(inputs):
        src = sim.Population(1, sim.SpikeSourceArray(spike_times=times), label=f"s{i}")
        sim.Projection(src, pop, sim.AllToAllConnector(), sim.StaticSynapse(weight=w, delay=delay),
                       receptor_type=receptor)
    pop.record(["v", "spikes"])
    g = sim.state.network.build_graph()
    sim.run(t_stop)
    seg = pop.get_data().segments[0]
    v = np.asarray(seg.analogsignals[0]).ravel()
    spikes = np.asarray(seg.spiketrains[0])
    sim.end()
    return g, v, spikes


@pytest.mark.parametrize("celltype,extra,weights", [
    ("IF_curr_delta", {}, (4.0, -2.0)),
    ("IF_curr_exp", {"tau_syn_E": 5.0, "tau_syn_I": 5.0}, (1.5, -0.8)),
])
def test_fixed_point_circuit_follows_the_float_emulator(celltype, extra, weights):
    params = dict(tau_m=20.0, cm=0.25, v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0, tau_refrac=2.0, i_offset=0.0,
                  **extra)
    t_exc = [1.0, 5.0, 5.3, 6.0, 6.2, 6.4, 6.6, 12.3, 14.0, 14.2, 14.4, 14.6, 14.8]
    inputs = [(weights[0], t_exc, "excitatory", 1.5), (weights[1], [8.0, 9.0], "inhibitory", 1.0)]
    g, v_float, spk_float = _float_run(celltype, params, inputs, 30.0, -65.0)
    c = quantize(g)
    n_steps = 300
    feed = {}
    for i, (_, times, _, _) in enumerate(inputs):
        arr = np.zeros((n_steps, 1), bool)
        arr[np.rint(np.asarray(times) / 0.1).astype(int) - 1, 0] = True  # emission tick = grid index - 1
        feed[f"s{i}"] = arr
    spikes, v = run_fixed(c, n_steps, feed)
    v_fixed = v["n"][:, 0]
    # row r of the fixed-point run is the state at (r + 1) dt; sample j of the float run is at j dt
    vf = v_float[1:n_steps + 1]
    # the membrane leaves rest in the same step in both (latency convention)
    first_fixed = int(np.flatnonzero(np.abs(v_fixed + 65.0) > 1e-9)[0])
    first_float = int(np.flatnonzero(np.abs(vf + 65.0) > 1e-9)[0])
    assert first_fixed == first_float
    # same spike steps; v within the effect of the 12-bit decay rounding (tau_m 20 -> 20.43 ms)
    assert list(np.flatnonzero(spikes["n"][:, 0])) == list(np.rint(spk_float / 0.1).astype(int) - 1)
    assert len(spk_float) >= 2
    assert np.max(np.abs(v_fixed - vf)) < 0.03 * 15.0


# ------------------------------------------------------------------------------------------
# refusals and named approximations
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", ["IF_cond_exp", "IF_cond_alpha", "EIF_cond_exp_isfa_ista",
                                   "EIF_cond_alpha_isfa_ista", "HH_cond_exp", "Izhikevich"])
def test_unfaithful_models_are_refused_even_with_every_approximation(model):
    g = graph([node("n", model, 2)])
    with pytest.raises(UnsupportedModelError, match=f"n.celltype: {model}") as err:
        quantize(g, approximations=tuple(APPROXIMATIONS))
    assert "accepted: IF_curr_exp, IF_curr_delta" in str(err.value)
    if "cond" in model:
        assert "no approximation is offered" in str(err.value)


def test_alpha_refused_then_mapped_as_exp_with_the_same_charge():
    alpha = node("n", "IF_curr_alpha", 1, tau_syn_E=5.0, tau_syn_I=5.0)
    s = node("s", "SpikeSourceArray", 1)
    g = graph([alpha, s], [edge("s->n", "s", "n", [0], [0], 0.3, 1.0)])
    with pytest.raises(UnsupportedModelError, match="alpha_to_exp"):
        quantize(g)
    ca = quantize(g, approximations=("alpha_to_exp",))
    # an alpha PSC w has the charge of an exponential PSC e * w with the same tau_syn
    exp = node("n", "IF_curr_exp", 1, tau_syn_E=5.0, tau_syn_I=5.0)
    ce = quantize(graph([exp, s], [edge("s->n", "s", "n", [0], [0], 0.3 * math.e, 1.0)]))
    pa, pe = ca.populations["n"], ce.populations["n"]
    assert pa.approximations == ("alpha_to_exp",) and pa.source_model == "IF_curr_alpha"
    assert pa.scale == pe.scale and pa.du[0] == pe.du[0]
    assert ca.projections[0].weights[0] == ce.projections[0].weights[0]
    assert ca.projections[0].weight_exp == ce.projections[0].weight_exp
    assert "alpha_to_exp" in ca.report["approximations_applied"]


def test_different_tau_syn_refused_then_merged_keeping_inhibitory_charge():
    n = node("n", "IF_curr_exp", 1, tau_syn_E=5.0, tau_syn_I=10.0)
    s = node("s", "SpikeSourceArray", 2)
    g = graph([n, s], [edge("e", "s", "n", [0], [0], 0.4, 1.0, "excitatory"),
                       edge("i", "s", "n", [1], [0], -0.2, 1.0, "inhibitory")])
    with pytest.raises(UnsupportedModelError, match="tau_syn_I.*merge_synaptic_time_constants"):
        quantize(g)
    c = quantize(g, approximations=["merge_synaptic_time_constants"])
    p = c.populations["n"]
    assert p.du[0] == round(4095 - 4096 * math.exp(-0.1 / 5.0))  # tau_syn_E is kept
    assert p.approximations == ("merge_synaptic_time_constants",)
    # -0.2 nA decaying with 10 ms has the charge of -0.4 nA decaying with 5 ms
    e, i = c.projections
    assert i.weights[0] == -e.weights[0] and i.weight_exp == e.weight_exp
    assert i.sign_mode == "inhibitory" and e.sign_mode == "excitatory"
    assert c.report["approximations_applied"]["merge_synaptic_time_constants"]["populations"] == ["n"]


def test_v_reset_refused_then_reset_to_rest_recorded():
    g = graph([node("n", "IF_curr_delta", 2, v_rest=-65.0, v_reset=-60.0, v_thresh=-45.0)])
    with pytest.raises(UnsupportedModelError, match="n.v_reset.*reset_to_rest"):
        quantize(g)
    c = quantize(g, approximations=("reset_to_rest",))
    assert c.populations["n"].approximations == ("reset_to_rest",)
    entry = c.report["populations"]["n"]["parameters"]["v_reset"]
    assert entry["float"] == -60.0 and entry["represented"] == -65.0
    assert entry["rel_error"]["max"] == pytest.approx(5.0 / 20.0)  # relative to v_thresh - v_rest
    assert "APPROXIMATION reset_to_rest on n" in format_report(c.report)


def test_approximations_not_needed_are_not_recorded():
    c = quantize(_delta_graph(), approximations=("reset_to_rest", "merge_synaptic_time_constants"))
    assert c.populations["n"].approximations == () and c.report["approximations_applied"] == {}
    assert c.report["approximations_requested"] == ["reset_to_rest", "merge_synaptic_time_constants"]


def test_tsodyks_markram_refused_and_unknown_approximation():
    g = _delta_graph()
    g.edges[0].synapse = "TsodyksMarkramSynapse"
    with pytest.raises(UnsupportedModelError, match="short-term plasticity.*accepted: StaticSynapse"):
        quantize(g, approximations=tuple(APPROXIMATIONS))
    with pytest.raises(ParameterError, match="quantize.approximations.*'make_it_fit'"):
        quantize(_delta_graph(), approximations=("make_it_fit",))


def test_current_sources_dc_folds_into_bias_others_refused():
    g = _delta_graph(i_offset=0.0)
    g.currents.append(CurrentInjection("DCSource#0", "DCSource", {"amplitude": 0.5, "start": 0.0, "stop": 1e12},
                                       "n", np.array([1])))
    c = quantize(g)
    ref = quantize(_delta_graph())
    assert c.populations["n"].bias_mant[1] == ref.populations["n"].bias_mant[1] == 2547
    g.currents.append(CurrentInjection("ACSource#1", "ACSource", {"amplitude": 0.5, "start": 0.0, "stop": 1e12,
                                                                  "frequency": 10.0, "offset": 0.0, "phase": 0.0},
                                       "n", np.array([0])))
    with pytest.raises(UnsupportedModelError, match="ACSource#1.kind"):
        quantize(g)
    g.currents = [CurrentInjection("DCSource#2", "DCSource", {"amplitude": 0.5, "start": 10.0, "stop": 1e12},
                                   "n", np.array([0]))]
    with pytest.raises(UnsupportedModelError, match="time-varying"):
        quantize(g)


# ------------------------------------------------------------------------------------------
# the report
# ------------------------------------------------------------------------------------------

def test_report_counts_lost_and_clipped_weights_on_a_crafted_projection():
    n = node("n", "IF_curr_delta", 5, v_rest=0.0, v_reset=0.0, v_thresh=20.0, tau_refrac=0.0)
    s = node("s", "SpikeSourceArray", 5)
    w = np.array([1000.0, 800.0, 500.0, 1.0, 0.5])  # mV
    c = quantize(graph([n, s], [edge("big", "s", "n", np.arange(5), np.arange(5), w, 1.0)]))
    p = c.populations["n"]
    # 1000 mV per spike needs the scale floor M = 2**10 (scale 64 * 1024 / 20 = 3276.8) and
    # still exponent 8 > 7: with exponent 7 a mantissa step is 2**13 = 8192 v units.
    assert p.vth[0] == 1024 and p.scale == pytest.approx(3276.8)
    prj = c.projections[0]
    assert prj.weight_exp == 7
    # y = w * 3276.8 / 8192 = 400, 320, 200, 0.4, 0.2 -> 255 (clipped), 255 (clipped), 200, 0, 0 (lost)
    assert list(prj.weights) == [255, 255, 200, 0, 0]
    rep = c.report["projections"][0]["weights"]
    assert rep["clipped"] == 2 and rep["lost_to_zero"] == 2 and rep["nonzero"] == 5
    assert rep["float_min"] == 0.5 and rep["float_max"] == 1000.0
    assert rep["mantissa_min"] == 0 and rep["mantissa_max"] == 255 and rep["weight_exp"] == 7
    errs = [1 - 255 * 8192 / 3276800, 1 - 255 * 8192 / 2621440, 0.0, 1.0, 1.0]
    assert rep["rel_error"]["max"] == 1.0
    assert rep["rel_error"]["mean"] == pytest.approx(np.mean(errs))
    assert rep["rel_error"]["rms"] == pytest.approx(math.sqrt(np.mean(np.square(errs))))
    assert "weight_exp 8 > 7" in rep["note"]
    t = c.report["totals"]
    assert t["weights_clipped"] == 2 and t["weights_lost_to_zero"] == 2
    text = format_report(c.report)
    assert "lost to zero 2, clipped 2" in text


def test_report_is_json_and_names_every_parameter():
    c = quantize(_delta_graph())
    rep = json.loads(json.dumps(c.report))
    params = rep["populations"]["n"]["parameters"]
    for name in ("v_thresh", "tau_m", "tau_syn", "i_offset", "tau_refrac", "v_reset", "v_rest", "v_initial"):
        entry = params[name]
        assert {"float", "fixed", "represented", "rel_error"} <= set(entry)
    assert params["tau_refrac"]["fixed"] == {"min": 0, "max": 20, "mean": pytest.approx(22 / 3)}
    d = rep["projections"][0]["delays"]
    assert d["steps_min"] == d["steps_max"] == 15 and d["rounded"] == 0 and d["latency_offset"] == 0
    assert rep["totals"]["synapses"] == 3 and rep["totals"]["neurons"] == 3
    assert "tau_m" in format_report(c.report)


def test_coarser_loihi_step_rounds_delays_and_reports_it():
    g = _delta_graph(tau_refrac=0.0)
    c = quantize(g, dt=1.0)
    assert list(c.projections[0].delays) == [2, 2, 2]  # rint(1.5) = 2 (ties to even)
    d = c.report["projections"][0]["delays"]
    assert d["rounded"] == 3 and d["max_rounding_ms"] == pytest.approx(0.5)
    assert c.dt_ms == 1.0 and c.populations["n"].dv[0] == round(4096 * (1 - math.exp(-1 / 20)))
    with pytest.raises(ParameterError, match="quantize.dt.*whole multiple"):
        quantize(g, dt=0.25)


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------

def test_bias_overflow():
    with pytest.raises(ParameterError, match=r"n.i_offset.*13-bit") as err:
        quantize(_delta_graph(i_offset=[0.0, 5000.0, 0.0]))
    assert "accepted: |i_offset| <=" in str(err.value)


def test_thresholds_that_cannot_fit():
    with pytest.raises(ParameterError, match="n.v_thresh.*rounds to vth = 0"):
        quantize(_delta_graph(v_thresh=[-45.0, -65.0 + 1e-4, -45.0]))
    with pytest.raises(ParameterError, match="n.v_thresh.*not above v_rest"):
        quantize(_delta_graph(v_thresh=[-45.0, -70.0, -45.0]))


def test_projection_whose_weights_all_quantise_to_zero():
    g = _delta_graph()
    g.nodes["t"] = node("t", "SpikeSourceArray", 1)
    g.edges.append(edge("tiny", "t", "n", [0, 0], [0, 1], 1e-6, 1.0))
    with pytest.raises(ParameterError, match=r"tiny.weight: all 2 weights .* quantise to zero"):
        quantize(g)


def test_delays_beyond_64_steps_and_below_one_step():
    g = _delta_graph()
    g.edges[0].values["delay"] = np.broadcast_to(np.float64(6.4), (3,))
    assert list(quantize(g).projections[0].delays) == [64] * 3
    g.edges[0].values["delay"] = np.array([1.0, 6.5, 1.0])
    with pytest.raises(DelayError, match=r"s->n.delay.*65 steps.*64-step") as err:
        quantize(g)
    assert "accepted: delays <= 6.4 ms" in str(err.value)
    g.edges[0].values["delay"] = np.array([1.0, 0.04, 1.0])
    with pytest.raises(DelayError, match="less than one step"):
        quantize(g)
    # IF_curr_exp adds one step of latency: 6.4 ms no longer fits
    n = node("n", "IF_curr_exp", 1)
    s = node("s", "SpikeSourceArray", 1)
    with pytest.raises(DelayError, match=r"\+1 step") as err:
        quantize(graph([n, s], [edge("e", "s", "n", [0], [0], 0.1, 6.4)]))
    assert "accepted: delays <= 6.3 ms" in str(err.value)


def test_non_finite_values():
    g = _delta_graph()
    g.nodes["n"].parameters["tau_m"][1] = np.nan
    with pytest.raises(ParameterError, match="n.tau_m.*NaN"):
        quantize(g)
    g = _delta_graph()
    g.edges[0].values["weight"] = np.array([0.1, np.inf, 0.1])
    with pytest.raises(ParameterError, match=r"s->n.weight.*NaN or infinite"):
        quantize(g)
    g = _delta_graph()
    g.edges[0].values["delay"] = np.array([1.0, np.nan, 1.0])
    with pytest.raises(DelayError, match=r"s->n.delay.*NaN"):
        quantize(g)
    g = _delta_graph()
    g.nodes["n"].initial["v"] = np.array([-65.0, np.inf, -65.0])
    with pytest.raises(ParameterError, match="n.initial v"):
        quantize(g)


def test_other_register_limits():
    with pytest.raises(ParameterError, match=r"n.tau_m.*perfect integrator") as err:
        quantize(_delta_graph(tau_m=1e4))
    assert "tau_m <= 819.1 ms" in str(err.value)
    with pytest.raises(ParameterError, match="n.v_rest.*varies"):
        quantize(_delta_graph(v_rest=[-65.0, -64.0, -65.0], v_reset=[-65.0, -64.0, -65.0]))
    g = _delta_graph()
    g.nodes["n"].initial["v"] = np.array([-65.0, 1e5, -65.0])
    with pytest.raises(ParameterError, match="n.initial v.*24-bit"):
        quantize(g)
    n = node("n", "IF_curr_exp", 1, tau_syn_E=1e4, tau_syn_I=1e4)
    with pytest.raises(ParameterError, match="n.tau_syn_E.*slowest"):
        quantize(graph([n]))


# ------------------------------------------------------------------------------------------
# memory: no per-synapse copies for constant weights and delays
# ------------------------------------------------------------------------------------------

def test_constant_projections_stay_zero_copy():
    n_syn = 2_000_000
    post = np.zeros(n_syn, np.uint32)
    post[:] = np.arange(n_syn, dtype=np.uint32) % 1000
    pre = (np.arange(n_syn, dtype=np.uint32) * 7) % 1000
    nd = node("n", "IF_curr_delta", 1000, v_rest=0.0, v_reset=0.0, v_thresh=20.0)
    e = edge("big", "n", "n", pre, post, 0.1, 1.5)
    g = graph([nd], [e])
    tracemalloc.start()
    c = quantize(g)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    prj = c.projections[0]
    assert prj.weights.strides == (0,) and prj.delays.strides == (0,)
    assert prj.rows is e.post_index and prj.cols is e.pre_index
    assert prj.weights.size == n_syn and prj.weights[0] == 163
    assert peak < 3_000_000  # bytes: nothing proportional to the 2M synapses (8 MB per uint32 array)
    assert isinstance(c, LoihiCircuit) and c.n_synapses == n_syn


def test_varying_weights_are_chunked_and_exact_per_synapse():
    rng = np.random.default_rng(3)
    n_syn = 50_000
    nd = node("n", "IF_curr_delta", 100, v_rest=0.0, v_reset=0.0, v_thresh=20.0)
    w = rng.uniform(-1.0, 1.0, n_syn)
    e = edge("mixed", "n", "n", rng.integers(0, 100, n_syn), rng.integers(0, 100, n_syn), w,
             rng.choice([1.0, 2.0], n_syn))
    c = quantize(graph([nd], [e]))
    prj, p = c.projections[0], c.populations["n"]
    assert prj.sign_mode == "mixed" and prj.weights.dtype == np.int16
    assert np.all(prj.weights % 2 == 0)  # mixed sign: Lava clears the lowest mantissa bit
    unit = 2.0 ** (6 + prj.weight_exp)
    expected = np.clip(2 * np.rint(w * p.scale / unit / 2), -256, 254)
    assert np.array_equal(prj.weights, expected)
    assert set(np.unique(prj.delays)) == {10, 20}
