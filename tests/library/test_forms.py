"""Parameter identity across tools (issue 14): one canonical cell class -> each engine's native
form (float emulator, Loihi fixed point, NEURON) -> measured agreement within stated tolerances.

Classes (defined here; the library's own are run through ``agreement`` by the lead):
- PD14 L2/3 pyramidal cell, IF_curr_exp: Potjans & Diesmann (2014) Cereb Cortex 24:785, Table 5
  (C_m 250 pF, tau_m 10 ms, tau_ref 2 ms, E_L = V_reset -65 mV, V_th -50 mV, tau_syn 0.5 ms;
  a PSP of 0.15 mV <-> w = 87.8 pA);
- COBA cell, IF_cond_exp: Vogels & Abbott (2005) J Neurosci 25:10786 (tau_m 20 ms, g_L 10 nS,
  V_rest = V_reset -60 mV, V_th -50 mV, tau_ref 5 ms, E_ex 0 mV, E_inh -80 mV, tau 5 / 10 ms);
- regular-spiking Izhikevich cell: Izhikevich (2003) IEEE TNN 14:1569, Fig. 2 (a 0.02, b 0.2,
  c -65 mV, d 8).
"""
import math

import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.errors import ParameterError
from neurohybrid.library import agreement as A
from neurohybrid.library import forms as F
from neurohybrid.library.base import Range
from neurohybrid.library.cells import CellClass, SynapseFamily

pytest.importorskip("neuron")

PD14 = CellClass(
    "test PD14 L23E", "IF_curr_exp",
    {"cm": Range(0.25, 0.1, 0.5, "nF"), "tau_m": Range(10.0, 5.0, 30.0, "ms"), "v_rest": Range(-65.0, -80, -55, "mV"),
     "v_reset": Range(-65.0, -80, -55, "mV"), "v_thresh": Range(-50.0, -60, -40, "mV"),
     "tau_refrac": Range(2.0, 0.0, 5.0, "ms"), "tau_syn_E": Range(0.5, 0.1, 5.0, "ms"),
     "tau_syn_I": Range(0.5, 0.1, 10.0, "ms"), "i_offset": Range(0.0, None, None, "nA")},
    synapses=(SynapseFamily("AMPA", "excitatory", 0.5), SynapseFamily("GABA_A", "inhibitory", 0.5)),
    source="Potjans & Diesmann (2014) Cereb Cortex 24:785, Table 5")
COBA = CellClass(
    "test COBA", "IF_cond_exp",
    {k: Range(v) for k, v in dict(cm=0.2, tau_m=20.0, v_rest=-60.0, v_reset=-60.0, v_thresh=-50.0, tau_refrac=5.0,
                                  tau_syn_E=5.0, tau_syn_I=10.0, e_rev_E=0.0, e_rev_I=-80.0, i_offset=0.0).items()},
    source="Vogels & Abbott (2005) J Neurosci 25:10786")
IZH_RS = CellClass("test Izhikevich RS", "Izhikevich",
                   {k: Range(v) for k, v in dict(a=0.02, b=0.2, c=-65.0, d=8.0, i_offset=0.0).items()},
                   source="Izhikevich (2003) IEEE TNN 14:1569, Fig. 2 (RS)")


def test_forms_of_the_pd14_cell():
    fs = F.forms(PD14)
    assert set(fs) == {"emulator", "emulator-fixed", "neuron"} and all(f.available for f in fs.values())
    fx = fs["emulator-fixed"].native
    # the quantiser's decays: the representable factor nearest e^(-dt/tau) (mappings/loihi/quantize.py)
    assert fx["dv"] == round(4096 * (1 - math.exp(-0.1 / 10.0))) == 41
    assert fx["du"] == round(4095 - 4096 * math.exp(-0.1 / 0.5))
    assert fx["tau_m_represented_ms"] == pytest.approx(-0.1 / math.log((4096 - 41) / 4096))
    assert fs["emulator-fixed"].approximations == ()
    nat = fs["neuron"].native
    assert nat["template"] == "StandardIFStandardReceptors" and nat["threshold_mV"] == -50.0
    p = nat["parameters"]
    assert (p["c_m"], p["tau_m"], p["t_refrac"], p["tau_e"], p["tau_i"], p["v_reset"]) == (0.25, 10.0, 2.0, 0.5, 0.5, -65.0)
    assert p["syn_type"] == "current" and p["syn_shape"] == "exp"
    print("\n".join(f"{e}: {f.description}" for e, f in fs.items()))


def test_pd14_psp_weight_is_the_published_one():
    # PD14 Table 5: a 0.15 mV PSP is w = 87.8 pA for C_m = 250 pF, tau_m = 10 ms, tau_syn = 0.5 ms
    w = A._weights(PD14, F._pynn_parameters(PD14), 0.15)
    print(f"PSP 0.15 mV: w = {w['excitatory'] * 1e3:.2f} pA (published 87.8 pA)")
    assert w["excitatory"] == pytest.approx(0.0878, rel=1e-3) and w["inhibitory"] == -w["excitatory"]


@pytest.mark.parametrize("cc", [COBA, IZH_RS], ids=["IF_cond_exp", "Izhikevich"])
def test_no_loihi_form_gives_the_placements_reason(cc):
    form = F.forms(cc, engines=("emulator-fixed",))["emulator-fixed"]
    assert not form.available
    sim.setup(timestep=0.1, seed=1, numerics="fixed")
    try:
        cc.population(sim, 2, "probe")
        row = sim.placement(show=False)["probe"]
    finally:
        sim.end()
    assert row["engine"] == "emulator" and form.reason in row["reason"]
    with pytest.raises(F.FormUnavailableError, match="emulator-fixed"):
        form.require()
    with pytest.raises(F.FormUnavailableError, match=cc.name):
        A.agreement(cc, engines=("emulator", "emulator-fixed"))


def test_named_approximation_is_used_and_said():
    split = CellClass("test split tau", "IF_curr_exp", {**PD14.parameters, "tau_syn_I": Range(2.0)})
    strict = F.forms(split, engines=("emulator-fixed",), approximations=())["emulator-fixed"]
    assert not strict.available and "tau_syn" in strict.reason
    named = F.forms(split, engines=("emulator-fixed",))["emulator-fixed"]
    assert named.available and named.approximations == ("merge_synaptic_time_constants",)
    assert "merge_synaptic_time_constants" in named.description and "no faithful form" in named.reason


def _lif_count(I, T, p):
    """Spikes in [0, T] of an LIF from rest under a current step (no synaptic input): first
    spike at tau ln(RI / (RI - theta)), then every t_ref + that (e.g. Burkitt 2006, Biol Cybern
    95:1, eq. 11), each interval rounded up to the 0.1 ms grid as a grid-based simulator does."""
    R, theta = p["tau_m"] / p["cm"], p["v_thresh"] - p["v_rest"]
    if R * I <= theta:
        return 0
    t1 = math.ceil(p["tau_m"] * math.log(R * I / (R * I - theta)) / 0.1 - 1e-9) * 0.1
    return int((T - t1) // (t1 + p["tau_refrac"])) + 1


def test_agreement_pd14_all_engines():
    rep = A.agreement(PD14, psp_mv=0.15, duration=300.0)
    print(rep.format())
    assert rep.ok, rep.failures()
    assert {c.engine for c in rep.comparisons} == {"emulator-fixed", "neuron"}
    assert {c.check for c in rep.comparisons} == {"fI", "psp", "rate"}
    # the float form against the analytic LIF f-I curve (spike counts, one spike of grid slack)
    p = F._pynn_parameters(PD14)
    counts = rep.measured["emulator"]["fI"] * 0.3
    for I, n in zip(rep.settings["currents_nA"], counts):
        print(f"I = {I:.3f} nA: {n:.0f} spikes (analytic LIF {_lif_count(I, 300.0, p)})")
        assert abs(n - _lif_count(I, 300.0, p)) <= 1
    amp, t_peak = rep.measured["emulator"]["psp"]["excitatory"]
    print(f"EPSP {amp:.4f} mV at {t_peak:.1f} ms (published 0.15 mV; analytic peak at "
          f"{0.5 * 10 / 9.5 * math.log(20):.2f} ms)")
    assert amp == pytest.approx(0.15, rel=0.02) and abs(t_peak - 0.5 * 10 / 9.5 * math.log(20)) <= 0.2
    assert rep.measured["emulator"]["rate"].mean() > 5.0  # the Poisson check is in a firing regime


@pytest.mark.parametrize("cc", [COBA, IZH_RS], ids=["IF_cond_exp", "Izhikevich"])
def test_agreement_without_loihi_form(cc):
    rep = A.agreement(cc, engines=None, duration=200.0, n_rate=10)
    print(rep.format())
    assert "emulator-fixed" in rep.skipped and {c.engine for c in rep.comparisons} == {"neuron"}
    assert rep.ok, rep.failures()
    assert rep.measured["emulator"]["fI"].max() > 10.0 and rep.measured["emulator"]["rate"].mean() > 1.0


def test_agreement_detects_a_wrong_form(monkeypatch):
    real = F._neuron_native

    def wrong(cc, params):  # a NEURON form whose capacitance is 20 % off (tau_m kept)
        template, native, thr = real(cc, params)
        return template, {**native, "c_m": native["c_m"] * 1.2}, thr

    monkeypatch.setattr(F, "_neuron_native", wrong)
    rep = A.agreement(PD14, engines=("emulator", "neuron"), checks=("fI", "psp"), duration=200.0)
    print(rep.format())
    assert not rep.ok and {c.check for c in rep.failures()} == {"fI", "psp"}


def test_bad_inputs():
    with pytest.raises(ParameterError, match="checks"):
        A.agreement(PD14, checks=("fI", "gain"))
    with pytest.raises(ParameterError, match="engines"):
        F.forms(PD14, engines=("loihi3",))
    with pytest.raises(ParameterError, match="float emulator"):
        A.agreement(PD14, engines=("neuron",))
    with pytest.raises(ParameterError, match="duration"):
        A.agreement(PD14, duration=-5.0)
    with pytest.raises(ParameterError, match="n_rate"):
        A.agreement(PD14, n_rate=0)
    with pytest.raises(ParameterError, match="cell_class"):
        F.forms("L23E")
    with pytest.raises(ParameterError, match="model"):
        F.forms(CellClass("bad", "IF_curr_nothing", {}))


def test_agreement_through_a_named_approximation():
    # a test variant of the PD14 cell (v_reset 5 mV below rest): its Loihi form needs reset_to_rest;
    # the fixed form is held to quantisation tolerances against the approximated class in float,
    # and the approximation's own effect on the float cell is reported, unbounded
    variant = CellClass("test PD14 reset -70", "IF_curr_exp", {**PD14.parameters, "v_reset": Range(-70.0)})
    rep = A.agreement(variant, engines=("emulator", "emulator-fixed"), checks=("fI", "psp"), duration=200.0)
    print(rep.format())
    assert rep.forms["emulator-fixed"].approximations == ("reset_to_rest",)
    fixed = [c for c in rep.comparisons if c.engine == "emulator-fixed"]
    effect = [c for c in rep.comparisons if c.engine == A.APPROXIMATED]
    assert fixed and all(c.passed and math.isfinite(c.tol) for c in fixed)
    assert effect and all(math.isinf(c.tol) for c in effect)
    # resetting to rest (-65) instead of -70 mV shortens every ISI: the approximated cell fires faster
    fi = rep.measured
    assert np.all(fi[A.APPROXIMATED]["fI"] >= fi["emulator"]["fI"]) and fi[A.APPROXIMATED]["fI"][-1] > fi["emulator"]["fI"][-1]


def test_adex_and_unrepresentable_forms():
    adex = CellClass("test AdEx", "EIF_cond_exp_isfa_ista",
                     {k: Range(v) for k, v in dict(cm=0.281, tau_m=9.3667, v_rest=-70.6, v_thresh=-50.4, delta_T=2.0,
                                                   a=4.0, b=0.0805, tau_w=144.0, v_spike=-40.0).items()},
                     source="Brette & Gerstner (2005) J Neurophysiol 94:3637 (PyNN's defaults)")
    fs = F.forms(adex)
    assert not fs["emulator-fixed"].available and "AdEx" in fs["emulator-fixed"].reason
    nat = fs["neuron"].native
    assert nat["template"] == "BretteGerstnerIFStandardReceptors" and nat["threshold_mV"] == -40.0
    assert nat["parameters"]["A"] == pytest.approx(0.004) and nat["parameters"]["syn_type"] == "conductance"  # nS -> uS
    # a resting potential above threshold cannot map (Loihi's threshold is an offset above rest)
    above = CellClass("test above", "IF_curr_exp", {**PD14.parameters, "v_rest": Range(-49.0)})
    form = F.forms(above, engines=("emulator-fixed",))["emulator-fixed"]
    assert not form.available and "v_thresh" in form.reason
