"""The Loihi path learns (mappings/loihi/learning.py): PyNN STDP scripts on the fixed-point
emulator and on Lava's ``LearningDense``, against each other (bit for bit) and against the
float emulator's NEST semantics, and what cannot be represented (typed refusals).

Short runs (Lava's learning model is slow); seeded; no test looks at the clock.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from pyNN.parameters import Sequence

import neurohybrid.pynn as sim
from neurohybrid.errors import SimulationStateError, UnsupportedModelError
from neurohybrid.mappings.loihi import format_report

APPROX = ("plastic_delay_one_step",)


def _lava_ok() -> bool:
    from neurohybrid.backends.lava import compat
    return bool(compat.import_lava())


needs_lava = pytest.mark.skipif(not _lava_ok(), reason="Lava unavailable")


def _setup(backend: str, seed: int = 1, approx=APPROX):
    kw = dict(backend="emulator", numerics="fixed") if backend == "fixed" else dict(backend=backend)
    if backend == "float":
        kw, approx = dict(backend="emulator", numerics="float"), ()
    sim.setup(timestep=0.1, seed=seed, loihi_approximations=approx, **kw)


def _stdp(rule: str):
    if rule == "multiplicative":
        return sim.STDPMechanism(timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01,
                                                                     A_minus=0.012),
                                 weight_dependence=sim.MultiplicativeWeightDependence(w_min=0.0, w_max=0.6),
                                 weight=0.3, delay=1.0)
    if rule == "apmd-delta":
        return sim.STDPMechanism(timing_dependence=sim.SpikePairRule(tau_plus=15.0, tau_minus=25.0, A_plus=0.02,
                                                                     A_minus=0.01),
                                 weight_dependence=sim.AdditivePotentiationMultiplicativeDepression(w_min=0.0,
                                                                                                    w_max=4.0),
                                 weight=2.0, delay=0.1)
    return sim.STDPMechanism(timing_dependence=sim.Vogels2011Rule(tau=20.0, eta=0.01, rho=5.0),
                             weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=0.6),
                             weight=0.3, delay=0.1)


def _pair_script(backend: str, rule: str, t_stop: float = 250.0):
    _setup(backend)
    pre = sim.Population(12, sim.SpikeSourcePoisson(rate=30.0), label="pre")
    cell = sim.IF_curr_delta(tau_m=12.0, i_offset=1.2) if rule.endswith("delta") else \
        sim.IF_curr_exp(tau_m=12.0, i_offset=1.2)
    post = sim.Population(4, cell, label="post")
    prj = sim.Projection(pre, post, sim.FixedProbabilityConnector(0.5, rng=sim.NumpyRNG(seed=3)), _stdp(rule),
                         label="stdp")
    post.record("spikes")
    prj.record("weight", sampling_interval=50.0, connections=[0, 3, 7])
    sim.run(t_stop)
    out = _results(post, prj)
    sim.end()
    return out


def _results(post, prj):
    weights = np.array(prj.get("weight", format="list"))
    spikes = [np.asarray(s) for s in post.get_data().segments[0].spiketrains]
    recorded = np.asarray(prj.get_data().segments[0].analogsignals[0])
    report = sim.simulator.state.network.engine_of(post.label).circuit.report \
        if sim.simulator.state.network.engine_of(post.label).name != "emulator" else None
    return weights, spikes, recorded, report


def _dopamine_script(backend: str, source: str, t_stop: float = 300.0):
    _setup(backend, seed=2)
    pre = sim.Population(8, sim.SpikeSourcePoisson(rate=30.0), label="pre")
    post = sim.Population(3, sim.IF_curr_exp(tau_m=12.0, i_offset=1.2, tau_refrac=0.0), label="post")
    da = sim.Population(1, sim.VolumeTransmitter(), label="dopamine")
    if source == "chip":
        vta = sim.Population(2, sim.IF_curr_exp(i_offset=1.5, tau_refrac=0.0), label="VTA")
    else:
        vta = sim.Population(5, sim.SpikeSourceArray(spike_times=[[80.0 + 2 * k, 200.0 + k] for k in range(5)]),
                             label="VTA")
    sim.Projection(vta, da, sim.AllToAllConnector(), sim.StaticSynapse(weight=1.0, delay=1.0),
                   receptor_type="dopamine")
    prj = sim.Projection(pre, post, sim.AllToAllConnector(), sim.DopamineSTDPMechanism(
        dopamine=da, weight=0.3, A_plus=0.01, A_minus=0.012, tau_c=200.0, tau_n=50.0, b=0.0, w_max=0.6, delay=1.0),
        label="da")
    post.record("spikes")
    prj.record("weight", sampling_interval=100.0, connections=[0, 5])
    sim.run(t_stop)
    out = _results(post, prj)
    sim.end()
    return out


def _same(a, b):
    wa, sa, ra, _ = a
    wb, sb, rb, _ = b
    assert np.array_equal(wa, wb), "learnt weights differ"
    assert all(np.array_equal(x, y) for x, y in zip(sa, sb)), "spikes differ"
    assert np.array_equal(ra, rb), "recorded weights differ"


# ------------------------------------------------------------------------------------------
# (a) fixed-point emulator == Lava LearningDense, bit for bit, from PyNN scripts
# ------------------------------------------------------------------------------------------

@needs_lava
@pytest.mark.parametrize("rule", ["multiplicative", "vogels", "apmd-delta"])
def test_pynn_stdp_script_fixed_equals_lava(rule):
    fixed, lava = _pair_script("fixed", rule), _pair_script("lava", rule)
    _same(fixed, lava)
    w0 = 2.0 if rule == "apmd-delta" else 0.3
    assert np.any(np.abs(fixed[0][:, 2] - w0) > 0.01), "nothing was learnt"
    assert sum(len(s) for s in fixed[1]) > 10
    assert fixed[2].shape == (6, 3)  # samples at 0, 50, ..., 250 ms


@needs_lava
@pytest.mark.parametrize("source", ["spikes", "chip"])
def test_pynn_dopamine_script_fixed_equals_lava(source):
    fixed, lava = _dopamine_script("fixed", source), _dopamine_script("lava", source)
    _same(fixed, lava)
    assert np.any(np.abs(fixed[0][:, 2] - 0.3) > 0.01)
    rep = fixed[3]["projections"][0]["learning"]
    assert rep["lava_rule"] == "Loihi3FLearningRule" and rep["dopamine"]["modulator"] == "dopamine"


def _field_engines():
    """The dopamine script's graph (a field instead of spikes) on both Loihi engines."""
    from neurohybrid.backends.emulator.fixed_engine import FixedEmulatorEngine, _ListSink
    from neurohybrid.backends.lava.engine import LavaEngine
    _setup("fixed", seed=2)
    pre = sim.Population(8, sim.SpikeSourcePoisson(rate=30.0), label="pre")
    post = sim.Population(3, sim.IF_curr_exp(tau_m=12.0, i_offset=1.2, tau_refrac=0.0), label="post")
    da = sim.Population(1, sim.VolumeTransmitter(), label="dopamine")
    sim.Projection(pre, post, sim.AllToAllConnector(), sim.DopamineSTDPMechanism(
        dopamine=da, weight=0.3, A_plus=0.01, A_minus=0.012, tau_c=200.0, tau_n=50.0, b=0.01, w_max=0.6, delay=1.0),
        label="da")
    post.record("spikes")
    graph = sim.simulator.state.network.model()
    sim.end()
    out = []
    for engine in (FixedEmulatorEngine(approximations=APPROX), LavaEngine(approximations=APPROX, target="sim")):
        sink = _ListSink()
        engine.build(graph, sink)
        engine.prepare_field("dopamine", "dopamine")
        for t0, value in ((0, 0.0), (800, 0.4), (1500, 0.05), (2200, 0.6)):
            engine.advance(t0)
            engine.set_modulation("dopamine", "dopamine", value)
        engine.advance(3000)
        edge = next(iter(engine.plastic))
        out.append((engine.synapse_values(edge), sink.spike_arrays("post")))
        engine.close()
    return out


@needs_lava
def test_dopamine_from_a_field_fixed_equals_lava():
    (wa, sa), (wb, sb) = _field_engines()
    assert np.array_equal(wa, wb) and np.array_equal(sa[0], sb[0]) and np.array_equal(sa[1], sb[1])
    assert np.any(np.abs(wa - 0.3) > 0.01)


# ------------------------------------------------------------------------------------------
# (b) the Loihi result against the float emulator's NEST semantics
# ------------------------------------------------------------------------------------------

def _window(numerics: str, dependence: str, n: int = 41, period: float = 100.0, reps: int = 10):
    """PyNN's simple_STDP protocol on a Loihi-mappable cell: pre cell i fires every ``period``
    at (i - n//2) ms from the post cell, which a strong input makes fire at the same times on
    both engines; the weights are too small to move it."""
    sim.setup(timestep=0.1, seed=3, backend="emulator", numerics=numerics)
    t_stop = reps * period + n
    pre = sim.Population(n, sim.SpikeSourceArray(spike_times=[
        Sequence(np.arange(period + (i - n // 2), t_stop, period)) for i in range(n)]), label="pre")
    post = sim.Population(1, sim.IF_curr_delta(tau_m=10.0, v_thresh=-50.0, v_reset=-65.0, v_rest=-65.0,
                                               tau_refrac=0.0), label="post")
    driver = sim.Population(1, sim.SpikeSourceArray(spike_times=np.arange(period - 0.1, t_stop, period)))
    prj = sim.Projection(pre, post, sim.AllToAllConnector(), sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012),
        weight_dependence=getattr(sim, dependence)(w_min=0.0, w_max=0.01), weight=0.005, delay=0.1), label="stdp")
    sim.Projection(driver, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=30.0, delay=0.1))
    post.record("spikes")
    sim.run(t_stop)
    w = np.array(prj.get("weight", format="array"))[:, 0]
    spikes = np.asarray(post.get_data().segments[0].spiketrains[0])
    report = None if numerics == "float" else sim.simulator.state.network.engine_of("post").circuit.report
    sim.end()
    return w, spikes, report


@pytest.mark.parametrize("dependence", ["AdditiveWeightDependence", "MultiplicativeWeightDependence"])
def test_stdp_window_on_loihi_agrees_with_nest_semantics(dependence):
    """Per synapse, the learnt change agrees with the float emulator within a bound derived
    from the report: the initial weight's rounding (<= 0.5 mantissa); stochastic rounding of
    the weight at every evaluation that touches it (10 pairings x 2 sides, each with an
    unbiased error of sd <= 0.5 mantissa); and the traces' stochastic decay, whose value after
    k steps has variance <= k/4 trace units, i.e. sd <= (rate / impulse) sqrt(k)/2 mantissas per
    pairing. The tolerance is 3 sd of their sum plus the initial rounding. The pair within
    |D| = 1 step of coincidence (pre and post spike in the same step: Loihi counts it both
    ways, NEST one way, ``not_represented`` in the report) is excluded."""
    wf, sf, _ = _window("float", dependence)
    wl, sl, report = _window("fixed", dependence)
    assert np.array_equal(sf, sl) and sf.size == 10
    rep = report["projections"][0]["learning"]
    unit = rep["weights"]["unit_per_mantissa"]
    assert rep["timing"]["pairing_shift_steps"] == 1 and rep["worst_rate_rel_error"] < 1e-3
    n = wf.size
    lags = np.abs(np.arange(n) - n // 2) * 10  # steps between the pre and the post spike
    per_value = max(r["represented"] / r["impulse"] for r in rep["learning_rates"])
    if dependence.startswith("Multiplicative"):  # the rate is per mantissa of distance to the bound (~128 here)
        per_value *= 128
    sd = np.sqrt(20 * 0.25 + 10 * per_value ** 2 * lags / 4.0)
    tol = 0.5 + 3 * sd
    diff = np.abs(wl - wf) / unit
    keep = lags > 0
    assert np.all(diff[keep] <= tol[keep]), (diff, tol)
    dw_f, dw_l = (wf - 0.005) / unit, (wl - 0.005) / unit
    assert np.corrcoef(dw_f[keep], dw_l[keep])[0, 1] > 0.98
    assert np.sign(dw_l[n // 2 + 1]) == -1 and np.sign(dw_l[n // 2 - 1]) == 1


def test_the_report_states_every_choice_and_what_is_not_represented():
    _, _, report = _window("fixed", "AdditiveWeightDependence", reps=1)
    rep = report["projections"][0]["learning"]
    assert rep["rule_strings"]["dw"].count("y0 * x1") == 1 and "x0 * y1" in rep["rule_strings"]["dw"]
    assert rep["t_epoch"] == 1 and rep["traces"]["x1"]["tau_steps"] == 200
    assert rep["weights"]["w_max"]["mantissa"] == 255 and rep["weights"]["w_min"]["mantissa"] == 0
    assert any("coincidence" in s for s in rep["not_represented"])
    text = format_report(report)
    assert "learning: stdp_synapse" in text and "potentiation" in text and "not represented" in text


# ------------------------------------------------------------------------------------------
# (c) refusals
# ------------------------------------------------------------------------------------------

def _placed(mech, engine=None, approx=APPROX, cell=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _setup("fixed", approx=approx)
        pre = sim.Population(5, sim.SpikeSourcePoisson(rate=10.0), label="pre")
        kw = {"engine": engine} if engine else {}
        post = sim.Population(2, cell or sim.IF_curr_exp(), label="post", **kw)
        sim.Projection(pre, post, sim.AllToAllConnector(), mech, label="plastic")
        try:
            sim.run(1.0)
            return sim.simulator.state.network.placement()["post"]
        finally:
            sim.end()


def _pair(w_min=0.0, w_max=0.5, delay=0.1, wd="AdditiveWeightDependence", **kw):
    return sim.STDPMechanism(timing_dependence=sim.SpikePairRule(), weight=0.5 * (w_min + w_max), delay=delay,
                             weight_dependence=getattr(sim, wd)(w_min=w_min, w_max=w_max, **kw))


@pytest.mark.parametrize("mech, parameter", [
    (lambda: _pair(wd="GutigWeightDependence", mu_plus=0.5, mu_minus=0.5), "mu_plus"),
    (lambda: _pair(w_min=0.1, w_max=0.5), "w_min"),
])
def test_what_loihi_cannot_learn_stays_on_the_host_with_the_reason(mech, parameter):
    p = _placed(mech())
    assert p["engine"] == "emulator" and "float emulator on the host" in p["reason"]
    assert "plastic" in p["reason"] and parameter in p["reason"]


def test_a_plastic_delay_needs_the_named_approximation():
    p = _placed(_pair(delay=1.0), approx=())
    assert p["engine"] == "emulator" and "latency" in p["reason"] and "plastic_delay_one_step" in p["reason"]
    p = _placed(_pair(delay=0.1), approx=(), cell=sim.IF_curr_delta())
    assert p["engine"] == "emulator-fixed"  # IF_curr_delta with delay = dt: latency 1, faithful
    p = _placed(_pair(delay=1.0))
    assert p["engine"] == "emulator-fixed"


@pytest.mark.parametrize("mech, parameter", [
    (lambda: _pair(wd="GutigWeightDependence", mu_plus=0.5, mu_minus=0.5), "mu_plus"),
    (lambda: _pair(w_min=0.1, w_max=0.5), "w_min"),
])
def test_forcing_the_loihi_engine_on_an_unrepresentable_rule_is_a_typed_error(mech, parameter):
    with pytest.raises(UnsupportedModelError) as info:
        _placed(mech(), engine="emulator-fixed")
    text = str(info.value)
    assert "Population(post)" in text and "plastic" in text and parameter in text


def test_quantize_names_the_projection_and_the_parameter():
    from neurohybrid.mappings.loihi import quantize
    _setup("float")
    pre = sim.Population(5, sim.SpikeSourcePoisson(rate=10.0), label="pre")
    post = sim.Population(2, sim.IF_curr_exp(), label="post")
    sim.Projection(pre, post, sim.AllToAllConnector(), _pair(delay=2.0), label="plastic")
    graph = sim.simulator.state.network.model()
    sim.end()
    with pytest.raises(UnsupportedModelError) as info:
        quantize(graph)
    assert info.value.args and "Projection(plastic[pre->post])" in str(info.value) and ".delay" in str(info.value)
    circuit = quantize(graph, approximations=APPROX)
    assert circuit.projections[0].learning is not None
    assert circuit.report["approximations_applied"]["plastic_delay_one_step"]["populations"] == ["plastic[pre->post]"]


def test_weights_are_readable_settable_and_reset_on_the_fixed_emulator():
    _setup("fixed")
    pre = sim.Population(6, sim.SpikeSourcePoisson(rate=40.0), label="pre")
    post = sim.Population(2, sim.IF_curr_exp(i_offset=1.2, tau_m=12.0), label="post")
    prj = sim.Projection(pre, post, sim.AllToAllConnector(), _stdp("multiplicative"), label="stdp")
    sim.run(200.0)
    learnt = np.array(prj.get("weight", format="list"))[:, 2]
    assert np.any(np.abs(learnt - 0.3) > 0.005)
    prj.set(weight=0.12)
    assert np.allclose(np.array(prj.get("weight", format="list"))[:, 2], 0.12, atol=0.6 / 255)
    sim.end()


@needs_lava
def test_lava_refuses_to_rebuild_a_running_plastic_graph():
    _setup("lava")
    pre = sim.Population(4, sim.SpikeSourcePoisson(rate=40.0), label="pre")
    post = sim.Population(2, sim.IF_curr_exp(i_offset=1.2, tau_m=12.0), label="post")
    sim.Projection(pre, post, sim.AllToAllConnector(), _stdp("multiplicative"), label="stdp")
    sim.run(5.0)
    post.set(i_offset=1.5)  # a new circuit: Lava would rebuild its processes
    with pytest.raises(SimulationStateError, match="learning connections"):
        sim.run(5.0)
    sim.end()
