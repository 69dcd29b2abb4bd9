"""neurohybrid.library.thalamus: the TC-RE loop's modes under the tone field, spindles, ports, bad input.

Reduced size (40 TC + 40 RE, 1.2 s per tone); the full-size check is benchmarks/library_thalamus.py.
Published references: burst criterion of Lu, Guido & Sherman 1992 (J Neurophysiol 68:2185:
>= 100 ms silence, intervals <= 4 ms); bursts dominate when TC cells are hyperpolarised and are
rare when they are depolarised (McCormick 1992 Prog Neurobiol 39:337; Sherman 2001 TINS 24:122);
spindles at 7-14 Hz (Steriade, McCormick & Sejnowski 1993 Science 262:679; Destexhe et al. 1996
J Neurophysiol 76:2049).
"""
import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.errors import ParameterError
from neurohybrid.library import cell_class
from neurohybrid.library import thalamus as th

N, DURATION, SETTLE = 40, 1200.0, 200.0
TONES = (-0.003, -0.001, 0.002)   # nA: burst mode .. tonic mode


@pytest.fixture(scope="module")
def runs():
    return {tone: th.run_tone(sim, tone, DURATION, n_tc=N, n_re=N, seed=1) for tone in TONES}


def test_burst_fraction_falls_with_the_tone(runs):
    fractions = [th.burst_fraction(runs[t]["TC"], t_start=SETTLE) for t in TONES]
    print(f"burst fraction at tones {TONES} nA: ours {np.round(fractions, 3).tolist()}; published: high in "
          "burst mode, rare in tonic mode (Lu et al. 1992; Sherman 2001)")
    assert fractions[0] >= 0.12
    assert fractions[-1] <= 0.05
    assert all(a > b for a, b in zip(fractions, fractions[1:]))


def test_spindle_band_peak_in_burst_mode(runs):
    f, p = th.population_spectrum(runs[TONES[0]]["TC"], SETTLE, DURATION)
    peak = th.spindle_peak(f, p)
    share, flat = th.band_share(f, p)
    lo, hi = th.SPINDLE_BAND
    print(f"TC population spectrum in burst mode: ours peak {peak:.1f} Hz, 7-14 Hz power share {share:.3f} "
          f"(flat {flat:.3f}); published {lo}-{hi} Hz (Steriade et al. 1993; Destexhe et al. 1996)")
    assert lo <= peak <= hi
    assert share >= 2.0 * flat


def test_tonic_mode_fires_and_re_follows(runs):
    tonic = runs[TONES[-1]]
    rate = lambda tr: sum(s.size for s in tr) / len(tr) / (DURATION * 1e-3)  # noqa: E731
    assert rate(tonic["TC"]) > rate(runs[TONES[0]]["TC"]) > 0.5
    assert rate(tonic["RE"]) > 1.0


def test_burst_fraction_criterion():
    # a burst: >= 100 ms silence, then <= 4 ms intervals; tonic spikes every 10 ms are not bursts
    burst = np.array([150.0, 153.0, 156.5, 160.0, 400.0, 402.0])
    tonic = np.arange(0.0, 500.0, 10.0)
    assert th.burst_fraction([burst]) == pytest.approx(1.0)
    assert th.burst_fraction([tonic]) == 0.0
    # a 5 ms interval ends the burst; a start less than 100 ms after a spike is not a burst
    assert th.burst_fraction([np.array([150.0, 153.0, 158.0, 200.0, 202.0])]) == pytest.approx(2 / 5)
    assert np.isnan(th.burst_fraction([np.zeros(0)]))


def test_cell_classes_and_ports():
    assert cell_class("TC").parameters["b"].value == 0.25 and cell_class("TC").parameters["d"].value == 0.05
    assert cell_class("RE").parameters["c"].value == -52.0
    sim.setup(timestep=0.1)
    try:
        ctx = sim.Population(10, sim.SpikeSourcePoisson(rate=5.0), label="ctx")
        mod = th.thalamus(sim, n_tc=10, n_re=10, cortex=ctx, tone=[(200.0, -0.003), (200.0, 0.002)],
                          region="thal")
        assert mod.port("tone").kind == "field" and mod.port("tone").target is mod.extras["field"]
        assert mod.port("rates").direction == "out" and mod.port("rates").target is mod.populations["TC"]
        assert mod.port("corticothalamic").target is ctx
        assert {"ct_tc", "ct_re", "tc_re", "re_tc", "re_re"} <= set(mod.extras["projections"])
        assert mod.populations["TC"].label == "thal TC"
        assert mod.parameters["n_tc"] == 10
        # an existing field is used as is
        f2 = sim.Field("ach", source=(mod.extras["controller"], "tone"), units="nA")
        mod2 = th.thalamus(sim, n_tc=4, n_re=4, tone=f2, region="thal2")
        assert mod2.extras["field"] is f2 and mod2.extras["controller"] is None
        # Destexhe et al. 1996's fan-in: 2 x 5 + 1 afferents per cell, on the line or at random
        line = th.thalamus(sim, n_tc=30, n_re=30, topographic=True, region="thal3")
        weights = line.extras["projections"]["re_tc"].get("weight", format="array")
        assert np.all(np.sum(np.isfinite(weights), axis=0) == 11)
        conns = mod.extras["projections"]["tc_re"].get("delay", format="list")
        assert all(1.0 <= d <= 4.0 for _, _, d in conns)
        with pytest.raises(ParameterError):
            mod.port("nope")
    finally:
        sim.end()


@pytest.mark.parametrize("kwargs, name", [
    ({"w_re_tc": 1.0}, "w_re_tc"),            # inhibition must be <= 0 mV
    ({"tc_c": -70.0}, "tc_c"),                # outside Izhikevich 2003/2004's -65..-55 mV
    ({"bogus": 1}, "bogus"),
    ({"noise": "loud"}, "noise"),
    ({"delay_min": 10.0, "delay_max": 5.0}, "delay_min"),
    ({"fan": 2.5}, "fan"),
    ({"n_tc": 1}, "n_tc"),
    ({"n_re": 3.5}, "n_re"),
    ({"seed": -1}, "seed"),
    ({"scale": 0}, "scale"),
    ({"region": 5}, "region"),
    ({"cortex": "V1"}, "cortex"),
    ({"tone": "high"}, "tone"),
    ({"tone": 0.5}, "tone"),
    ({"tone": [(100.0, 0.001), (-5.0, 0.0)]}, "tone"),
    ({"tone": ((100.0, 0.001), (100.0, 0.03))}, "tone"),
    ({"topographic": "yes"}, "topographic"),
])
def test_bad_input(kwargs, name):
    sim.setup(timestep=0.1)
    try:
        with pytest.raises(ParameterError) as err:
            th.thalamus(sim, **{"n_tc": 4, "n_re": 4, **kwargs})
        assert "thalamus module" in str(err.value) and name in str(err.value)
    finally:
        sim.end()


def test_override_records_out_of_range():
    sim.setup(timestep=0.1)
    try:
        mod = th.thalamus(sim, n_tc=4, n_re=4, w_tc_re=25.0, override=True)
        assert mod.overrides == ("w_tc_re",)
    finally:
        sim.end()


def test_couples_to_the_scaffold_through_its_ports():
    """The loop replaces a scaffold region: TC and RE on the excitatory and inhibitory seam
    channels of ReducedWongWangExcInh, rates out (Hz), rates in as Poisson spikes."""
    sim.setup(timestep=0.1, seed=3)
    try:
        brain = sim.WholeBrain(sim.Connectome.synthetic(4, seed=1), model=sim.ReducedWongWangExcInh(G=0.5),
                               coupling=sim.LinearCoupling(a=1.0), speed=3.0)
        mod = th.thalamus(sim, n_tc=20, n_re=20, tone=-0.003, region="R2")
        brain.replace("R2", [mod.port("rates").target, mod.populations["RE"]],
                      inputs=sim.rates_to_spikes(weight=2.0, gain=100.0, baseline=20.0),
                      output=sim.spikes_to_rates())
        sim.run(50.0)
        rates = brain.get_data("R2.rates")["values"]
        assert rates.shape == (500, 2) and rates[:, 0].mean() > 0 and rates[:, 1].mean() > 0
    finally:
        sim.end()
