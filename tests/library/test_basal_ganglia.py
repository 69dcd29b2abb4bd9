"""The basal ganglia module (Humphries, Stewart & Gurney 2006, J Neurosci 26:12921; ModelDB 83559)
at reduced size (3 channels x 20 cells per nucleus; the paper: 64): selection and switching,
dopamine shifting the selection threshold, reward learning changing the selected action, and
bad input. The selection criterion is the paper's: a channel is selected when its GPi/SNr rate
is below 5 Hz (ModelDB batch_selection_grid_DA.m, mean_outputs.m)."""
import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.errors import ParameterError
from neurohybrid.library import cell_class
from neurohybrid.library.basal_ganglia import (basal_ganglia, corticostriatal_weights, psp_to_psc, run_schedule,
                                               selected)

N = 20          # cells per channel and nucleus
TONIC = 3.0     # Hz, the paper's tonic cortical rate


def _build(**kw):
    sim.setup(timestep=0.1, seed=1)
    return basal_ganglia(sim, n_per_channel=N, seed=3, **kw)


def test_selection_and_switching():
    """The paper's switching paradigm (pars.m: tonic, then channel 1 salient, then channel 2
    more salient): the most salient channel's GPi rate drops below 5 Hz and below the others'
    (Humphries et al. 2006, 'Selection and switching'); when channel 2 overtakes, it becomes the
    most disinhibited and channel 1 is partly released. The paper reports switching (channel 1
    above 5 Hz again) over much of its input grid; this LIF version without the GABA floor and
    shunting inhibition gives dual selection here (channel 1 stays just under 5 Hz)."""
    bg = _build(learning=False)
    r = run_schedule(sim, bg, [([TONIC] * 3, 300.0), ([25.0, TONIC, TONIC], 400.0), ([25.0, 40.0, TONIC], 400.0)])
    sim.end()
    print("GPi rates (Hz) per segment x channel:\n", np.round(r, 1),
          "\npublished: tonic GPi/SNr ~30 Hz (pars.m calibration), selected channel < 5 Hz")
    assert not selected(r[0]).any() and np.all(r[0] > 10.0)          # tonic: nothing selected
    assert selected(r[1]).tolist() == [True, False, False]             # channel 0 selected
    assert r[1, 0] < 0.5 * r[1, 1:].min()
    assert selected(r[2])[1] and r[2, 1] == r[2].min()                # switched to channel 1
    assert r[2, 0] > r[1, 0]                                           # channel 0 released


def _threshold(tone):
    bg = _build(learning=False, dopamine_tone=tone)
    saliences = [9.0, 15.0, 21.0, 27.0]
    r = run_schedule(sim, bg, [([TONIC] * 3, 200.0)] + [([s, TONIC, TONIC], 300.0) for s in saliences])[1:, 0]
    sim.end()
    sel = selected(r)
    return (saliences[int(np.argmax(sel))] if sel.any() else np.inf), r


def test_dopamine_shifts_selection_threshold():
    """More tonic dopamine (D1 gain 1+c, D2 1-c, GPe 1-0.5c, STN 1-0.25c) selects at lower
    salience; depleted dopamine fails to select (the paper's dopamine results: selection
    deteriorates under dopamine depletion)."""
    low, r_low = _threshold(0.1)
    high, r_high = _threshold(0.6)
    print(f"selection threshold (Hz of cortical salience): dopamine 0.1 -> {low}, 0.6 -> {high}")
    print("GPi of the salient channel vs salience 9/15/21/27 Hz:", np.round(r_low, 1), np.round(r_high, 1))
    assert high < low
    assert np.all(r_high <= r_low + 2.0) and r_high[-1] < r_low[-1]


def test_reward_learning_changes_the_selected_action():
    """Dopamine bursts after channel 0's trials (never after channel 1's) potentiate channel 0's
    corticostriatal D1 synapses (dopamine STDP, Izhikevich 2007); with equal saliences the
    channel that was less selected before training becomes the selected one."""
    trials, tr, gap, sal = 3, 300.0, 500.0, 15.0
    t0 = 300.0 + 500.0
    bursts = [t0 + k * 2 * (tr + gap) + (tr + gap) + tr for k in range(trials)]   # end of each channel-0 trial
    sim.setup(timestep=0.1, seed=1)
    vta = sim.Population(20, sim.SpikeSourceArray(
        spike_times=[[round(b + 2.0 + 5.0 * j + 0.5 * i, 1) for b in bursts for j in range(4)] for i in range(20)]),
        label="VTA")
    da = sim.Field("DA", source=vta, tau=200.0, baseline=0.3, release=0.008, bounds=(0.0, 1.0), period=5.0)
    bg = basal_ganglia(sim, n_per_channel=N, seed=3, dopamine=da, a_plus=0.05, a_minus=0.0525, tau_c=200.0, w_max=3.0)
    before = run_schedule(sim, bg, [([TONIC] * 3, 300.0), ([sal, sal, TONIC], 500.0)])[1]
    w_before = corticostriatal_weights(bg)
    run_schedule(sim, bg, [([TONIC, sal, TONIC], tr), ([TONIC] * 3, gap), ([sal, TONIC, TONIC], tr),
                           ([TONIC] * 3, gap)] * trials)
    w_after = corticostriatal_weights(bg)
    after = run_schedule(sim, bg, [([sal, sal, TONIC], 700.0)])[0]
    sim.end()
    print("GPi (Hz) with equal salience, before:", np.round(before, 1), "after:", np.round(after, 1))
    print("cortex->D1 weight (nA) per channel, before:", np.round(w_before, 3), "after:", np.round(w_after, 3))
    assert before[0] > before[1]                       # channel 0 was not the favoured one
    assert w_after[0] > 1.2 * w_before[0]              # rewarded channel potentiated
    assert w_after[0] - w_before[0] > 3 * abs(w_after[1] - w_before[1])
    assert after[0] < 0.5 * after[1] and selected(after)[0] and not selected(after)[1]


def test_handle_ports_and_cells():
    bg = _build(learning=False)
    assert {p.name for p in bg.inputs()} == {"dopamine", "salience0", "salience1", "salience2", "cortex0",
                                             "cortex1", "cortex2"}
    assert [len(v) for v in bg.port("cortex2").target] == [N, N, N]
    assert {p.name for p in bg.outputs()} == {"gpi0", "gpi1", "gpi2"}
    assert bg.port("gpi1").kind == "rates" and len(bg.port("gpi1").target) == N
    assert set(bg.populations) == {"D1", "D2", "STN", "GPe", "GPi", "CTX"}
    sim.end()
    assert cell_class("GPi").parameters["tau_m"].value == 8.0
    # PSPtoPSC: the current gives the published 3 mV peak (GPi: tau_m 8 ms, R 112 MOhm, tau_s 2 ms)
    w, tm, ts, r = psp_to_psc(3.0, 2.0, 8.0, 112.0), 8.0, 2.0, 112.0
    t = np.linspace(0, 40, 40001)
    assert max(w * r * ts / (tm - ts) * (np.exp(-t / tm) - np.exp(-t / ts))) == pytest.approx(3.0, rel=1e-6)


@pytest.mark.parametrize("kw, parameter", [
    ({"w_d1_gpi": 20.0}, "w_d1_gpi"), ({"bogus": 1.0}, "bogus"), ({"dopamine_tone": float("nan")}, "dopamine_tone"),
    ({"n_channels": 1}, "n_channels"), ({"n_per_channel": 8}, "n_per_channel"), ({"n_per_channel": 20.5}, "n_per_channel"),
    ({"seed": -1}, "seed"), ({"dopamine": "DA"}, "dopamine"), ({"learning": "yes"}, "learning"),
    ({"region": 5}, "region"), ({"k_focused": 12.5}, "k_focused"), ({"tonic_rate": "fast"}, "tonic_rate"),
])
def test_bad_input(kw, parameter):
    sim.setup(timestep=0.1)
    args = {"n_per_channel": N, **kw}
    with pytest.raises(ParameterError) as err:
        basal_ganglia(sim, **args)
    assert err.value.parameter == parameter and "basal_ganglia" in str(err.value)
    sim.end()


def test_override_and_runtime_checks():
    sim.setup(timestep=0.1)
    bg = basal_ganglia(sim, n_per_channel=N, seed=1, learning=False, override=True, w_d1_gpi=10.0)
    assert bg.overrides == ("w_d1_gpi",) and bg.parameters["w_d1_gpi"] == 10.0
    with pytest.raises(ParameterError, match="salience"):
        bg.extras["set_salience"]([1.0, 2.0])
    with pytest.raises(ParameterError, match="salience"):
        bg.extras["set_salience"]([1.0, -2.0, 3.0])
    with pytest.raises(ParameterError, match="schedule"):
        run_schedule(sim, bg, [([3.0] * 3, 50.0)])
    sim.end()
    sim.setup(timestep=0.1)
    field = sim.Field("orphan", tau=100.0)
    with pytest.raises(ParameterError, match="no source"):
        basal_ganglia(sim, n_per_channel=N, dopamine=field)
    sim.end()


def test_cortex_port_takes_external_spikes():
    """Spikes projected onto a channel's cortex port (D1, D2, STN) with the module's weights
    select that channel as the module's own salience input does."""
    sim.setup(timestep=0.1, seed=1)
    bg = basal_ganglia(sim, n_per_channel=N, seed=3, learning=False)
    src = sim.Population(N, sim.SpikeSourcePoisson(rate=30.0), label="my cortex")
    w = bg.extras["weights"]
    for view, key in zip(bg.port("cortex1").target, ("ctx_d1", "ctx_d2", "ctx_stn")):
        sim.Projection(src, view, sim.FixedNumberPreConnector(16, rng=sim.NumpyRNG(seed=2)),
                       sim.StaticSynapse(weight=w[key], delay=10.0 if key != "ctx_stn" else 2.5),
                       receptor_type="excitatory")
    sim.run(600.0)
    r = bg.extras["channel_rates"]("GPi", 200.0, 600.0)
    sim.end()
    print("GPi (Hz) with external spikes on channel 1:", np.round(r, 1))
    assert selected(r).tolist() == [False, True, False]


def test_dopamine_field_in_other_units():
    """An external dopamine field (here a constant 2.0 in its own units) reaches the nuclei as the
    paper's level dopamine_scale x c: D1 gain 1 + 0.6, D2 1 - 0.6, GPe 1 - 0.3, STN 1 - 0.15."""
    sim.setup(timestep=0.1, seed=1)
    silent = sim.Population(1, sim.SpikeSourceArray(spike_times=[]), label="VTA")
    da = sim.Field("DA", source=silent, tau=100.0, baseline=2.0, release=0.0, bounds=(0.0, None), period=5.0)
    bg = basal_ganglia(sim, n_per_channel=N, seed=3, dopamine=da, dopamine_scale=0.3, learning=False)
    sim.run(30.0)
    got = {k: float(f.get_data()["values"][-1, 0]) for k, f in bg.extras["dopamine_twins"].items()}
    sim.end()
    assert got == pytest.approx({"D1": 1.6, "D2": 0.4, "GPe": 0.7, "STN": 0.85}, abs=1e-9)
    assert bg.port("dopamine").target is da
