"""Neuromodulatory nuclei (neurohybrid.library.nuclei) at reduced size: the published behaviours
measured on spikes, each field changing a target population's rate, and bad input.

Two sessions (module-scoped fixtures): the Schultz task on the VTA (8.4 s of brain time), and
the LC in both modes beside the basal forebrain under an attention step (5 s).
"""
import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.errors import ParameterError
from neurohybrid.library import cell_class, nuclei as nu
from neurohybrid.library.base import Module

N_TARGET = 20


def trains(pop):
    return [np.asarray(s.magnitude) for s in pop.get_data().segments[0].spiketrains]


def target(label, rate=2000.0, weight=0.06):
    """A target population (IF_curr_exp near threshold: Poisson drive of ``rate`` Hz x ``weight`` nA)."""
    pop = sim.Population(N_TARGET, sim.IF_curr_exp(tau_refrac=2.0), label=label)
    drive = sim.Population(N_TARGET, sim.SpikeSourcePoisson(rate=rate), label=f"{label} input")
    sim.Projection(drive, pop, sim.OneToOneConnector(), sim.StaticSynapse(weight=weight, delay=1.0))
    pop.record("spikes")
    return pop


# --- the Schultz task -------------------------------------------------------------------------
SCHEDULE = dict(n_unexpected=2, n_paired=8, n_omitted=2, interval=200.0, trial=700.0, onset=325.0)
RESPONSE = (100.0, 225.0)  # ms after the event: the critic sees a step one step late and acts one step later
BASELINE = (-300.0, 0.0)


@pytest.fixture(scope="module")
def schultz():
    sim.setup(timestep=0.1, seed=11)
    vta = nu.vta(sim, scale=0.5, max_interval=300.0, alpha=0.8)
    sch = nu.conditioning_schedule(**SCHEDULE)
    nu.volleys(sim, vta, "cue", np.concatenate([sch["cue_paired"], sch["cue_omitted"]]))
    nu.volleys(sim, vta, "reward", np.concatenate([sch["reward_free"], sch["reward_paired"]]))
    vta.record("spikes")
    da_target, control = target("DA target"), target("DA control")
    vta.port("dopamine").target.modulate(da_target, "gain", fn=lambda c: c)
    sim.run(sch["duration"])
    out = {"da": trains(vta.populations["DA"]), "target": trains(da_target), "control": trains(control),
           "dopamine": vta.extras["field"].get_data("concentration"), "sch": sch, "module": vta}
    sim.end()
    return out


def test_vta_baseline_rate(schultz):
    """Tonic DA firing 3-8 Hz (Grace & Bunney 1984: 2-8 Hz, mean ~4.5 Hz; Schultz 1998: 3-6 Hz)."""
    sch = schultz["sch"]
    events = np.concatenate([sch["reward_free"], sch["cue_paired"], sch["cue_omitted"]])
    base = nu.window_rate(schultz["da"], events, *BASELINE)
    print(f"VTA baseline {base:.2f} Hz (published 3-8 Hz, ~4.5 Hz)")
    assert 3.0 <= base <= 8.0


def test_vta_schultz_three_cases(schultz):
    """Schultz, Dayan & Montague 1997 Fig. 1: (1) a burst to an unexpected reward; (2) after
    cue-reward pairing, a burst at the cue and none at the (predicted) reward; (3) a pause at the
    time of an omitted reward."""
    da, sch = schultz["da"], schultz["sch"]
    events = np.concatenate([sch["reward_free"], sch["cue_paired"], sch["cue_omitted"]])
    base = nu.window_rate(da, events, *BASELINE)
    free = nu.window_rate(da, sch["reward_free"], *RESPONSE)
    learnt = sch["cue_paired"][-2:]
    cue_after = nu.window_rate(da, learnt, *RESPONSE)
    reward_after = nu.window_rate(da, learnt + SCHEDULE["interval"], *RESPONSE)
    cue_before = nu.window_rate(da, sch["cue_paired"][:2], *RESPONSE)
    reward_before = nu.window_rate(da, sch["cue_paired"][:1] + SCHEDULE["interval"], *RESPONSE)
    omitted = nu.window_rate(da, sch["omitted"], *RESPONSE)
    print(f"baseline {base:.1f} Hz | unexpected reward {free:.1f} Hz (published: burst) | first pairing: cue "
          f"{cue_before:.1f}, reward {reward_before:.1f} Hz | after learning: cue {cue_after:.1f} Hz (burst), "
          f"reward {reward_after:.1f} Hz (no change) | omitted reward {omitted:.1f} Hz (pause)")
    assert free > 2.0 * base                          # (1) burst to unexpected reward
    assert reward_before > 2.0 * base and cue_before < 1.5 * base   # before learning: reward, not cue
    assert cue_after > 1.8 * base                     # (2) the response transferred to the cue ...
    assert reward_after < 1.3 * base                  # ... and left the predicted reward
    assert omitted < 0.6 * base                       # (3) pause at the omitted reward


def test_dopamine_field_changes_target_rate(schultz):
    """The dopamine field (released by the DA spikes) raises a target's gain after the bursts."""
    sch = schultz["sch"]
    bursts = np.concatenate([sch["reward_free"], sch["cue_paired"][-3:]])
    mod = nu.window_rate(schultz["target"], bursts, 100.0, 300.0)
    ctl = nu.window_rate(schultz["control"], bursts, 100.0, 300.0)
    c = schultz["dopamine"]
    peak = c["values"][:, 0].max()
    print(f"after DA bursts: target {mod:.1f} Hz vs control {ctl:.1f} Hz; dopamine peak {peak:.2f} (tonic 1)")
    assert peak > 1.5 and mod > 1.2 * ctl


# --- LC modes and BF tone ---------------------------------------------------------------------
STIM = np.arange(1000.0, 5000.0, 1000.0) + 3.0       # salient targets, ms
ATTENTION = (1500.0, 3500.0)                          # ms, the BF drive is on


@pytest.fixture(scope="module")
def modes():
    sim.setup(timestep=0.1, seed=5)
    out = {}
    for mode in ("phasic", "tonic"):
        lc = nu.locus_coeruleus(sim, scale=0.5, region=f"LC {mode}", mode=mode)
        nu.volleys(sim, lc, "salience", STIM)
        lc.record("spikes")
        tgt = target(f"NE target {mode}")
        lc.port("noradrenaline").target.modulate(tgt, "gain", fn=lambda c: 1.0 + 0.3 * (c - 1.0))
        out[mode] = (lc, tgt)
    bf = nu.basal_forebrain(sim, scale=0.5)
    on = sim.SpikeSourcePoisson(rate=20.0, start=ATTENTION[0], duration=ATTENTION[1] - ATTENTION[0])
    drive = sim.Population(nu.N_RELAY, on, label="attention input")
    sim.Projection(drive, bf.port("attention").target, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=nu.RELAY_WEIGHT, delay=1.0))
    bf.record("spikes")
    ach_target, ach_control = target("ACh target"), target("ACh control")
    bf.port("acetylcholine").target.modulate(ach_target, "current", fn=lambda c: 0.03 * c)   # nA
    sim.run(5000.0)
    res = {mode: {"lc": trains(lc.populations["NE"]), "target": trains(tgt),
                  "ne": lc.extras["field"].get_data("concentration")} for mode, (lc, tgt) in out.items()}
    res["bf"] = {"chat": trains(bf.populations["ChAT"]), "ach": bf.extras["field"].get_data("concentration"),
                 "target": trains(ach_target), "control": trains(ach_control)}
    sim.end()
    return res


def test_lc_tonic_and_phasic_modes(modes):
    """Aston-Jones & Cohen 2005 (Fig. 3; Aston-Jones et al. 1994, Usher et al. 1999): in the
    phasic mode a low tonic rate (~1-2 Hz in monkey LC) and a phasic burst to salient targets; in
    the tonic mode an elevated tonic rate and attenuated phasic responses."""
    r = {}
    for mode in ("phasic", "tonic"):
        lc = modes[mode]["lc"]
        base, resp = nu.window_rate(lc, STIM, -300.0, 0.0), nu.window_rate(lc, STIM, 0.0, 100.0)
        r[mode] = (base, (resp - base) * 0.1)       # Hz; evoked spikes per cell and target
        print(f"LC {mode} mode: tonic {base:.2f} Hz, evoked {r[mode][1]:.2f} spikes/target (response {resp:.1f} Hz)")
    assert 0.3 <= r["phasic"][0] <= 3.0
    assert r["tonic"][0] > 2.0 * r["phasic"][0]
    assert r["phasic"][1] > 1.0                      # a burst: > 1 extra spike per cell
    assert r["phasic"][1] > 1.8 * r["tonic"][1]      # attenuated in the tonic mode


def test_noradrenaline_field_changes_target_rate(modes):
    """More NE (tonic mode) -> larger gain on the target -> higher target rate."""
    late = modes["phasic"]["ne"]["times"] > 1000.0
    ne = {m: modes[m]["ne"]["values"][late, 0].mean() for m in ("phasic", "tonic")}
    rate = {m: nu.window_rate(modes[m]["target"], [0.0], 1000.0, 5000.0) for m in ("phasic", "tonic")}
    print(f"NE phasic mode {ne['phasic']:.2f}, tonic mode {ne['tonic']:.2f} (1 = 1.5 Hz); "
          f"target {rate['phasic']:.1f} vs {rate['tonic']:.1f} Hz")
    assert ne["tonic"] > 1.5 * ne["phasic"]
    assert rate["tonic"] > 1.2 * rate["phasic"]


def test_bf_field_tracks_its_drive(modes):
    """ChAT cells slow (<= 2 Hz) without drive, faster with the attention drive (Lee et al. 2005);
    the ACh tone follows with its clearance time constant (1 s) and relaxes after."""
    bf = modes["bf"]
    off = nu.window_rate(bf["chat"], [0.0], 500.0, ATTENTION[0])
    on = nu.window_rate(bf["chat"], [0.0], ATTENTION[0] + 500.0, ATTENTION[1])
    c, t = bf["ach"]["values"][:, 0], bf["ach"]["times"]
    c_off, c_on = c[(t > 1000) & (t < ATTENTION[0])].mean(), c[(t > ATTENTION[1] - 500) & (t < ATTENTION[1])].mean()
    c_after = c[t > 4800].mean()
    # time to 63 % of the step
    rise = t[(t > ATTENTION[0]) & (c > c_off + 0.63 * (c_on - c_off))][0] - ATTENTION[0]
    print(f"BF ChAT {off:.2f} Hz off, {on:.2f} Hz on; ACh {c_off:.2f} -> {c_on:.2f} (63 % in {rise:.0f} ms, "
          f"tau 1000 ms) -> {c_after:.2f} after")
    assert off <= 2.0 and on > 3.0 * max(off, 0.3)
    assert c_on > 3.0 * c_off and 400.0 < rise < 2000.0
    assert c_after < c_off + 0.35 * (c_on - c_off)


def test_acetylcholine_field_changes_target_rate(modes):
    bf = modes["bf"]
    win = (ATTENTION[0] + 500.0, ATTENTION[1])
    mod, ctl = nu.window_rate(bf["target"], [0.0], *win), nu.window_rate(bf["control"], [0.0], *win)
    mod0, ctl0 = nu.window_rate(bf["target"], [0.0], 200.0, 1400.0), nu.window_rate(bf["control"], [0.0], 200.0, 1400.0)
    print(f"ACh target {mod0:.1f} -> {mod:.1f} Hz, control {ctl0:.1f} -> {ctl:.1f} Hz")
    assert mod > ctl + 3.0 and mod > mod0 + 3.0 and abs(mod0 - ctl0) < 2.0


# --- structure and bad input -----------------------------------------------------------------
def test_ports_cells_and_parameters():
    sim.setup(timestep=0.1, seed=1)
    for fn, outs in ((nu.vta, {"dopamine", "spikes", "rpe"}), (nu.locus_coeruleus, {"noradrenaline", "spikes"}),
                     (nu.basal_forebrain, {"acetylcholine", "spikes"})):
        m = fn(sim, scale=0.1)
        assert isinstance(m, Module) and {p.name for p in m.outputs()} == outs
        assert all(p.units for p in m.ports.values())
        assert {p.name for p in m.inputs()} >= {"drive"}
    second = nu.another_field(m, "ACh for thalamus")
    assert second.node.tau == m.extras["field"].node.tau and second.source is m.extras["field"].source
    sim.end()
    for name in ("VTA_DA", "LC_NE", "BF_ChAT"):
        assert cell_class(name).name == name


def test_bad_input():
    sim.setup(timestep=0.1, seed=1)
    with pytest.raises(ParameterError, match="vta module.*no_such"):
        nu.vta(sim, no_such=1.0)
    with pytest.raises(ParameterError, match="vta module.*gamma.*outside the published range"):
        nu.vta(sim, gamma=1.5)
    with pytest.raises(ParameterError, match="locus_coeruleus module.*alpha2_tau.*not a number"):
        nu.locus_coeruleus(sim, alpha2_tau="slow")
    with pytest.raises(ParameterError, match="locus_coeruleus module.*mode"):
        nu.locus_coeruleus(sim, mode="sleepy")
    with pytest.raises(ParameterError, match="basal_forebrain module.*tau.*not finite"):
        nu.basal_forebrain(sim, tau=float("nan"))
    with pytest.raises(ParameterError, match="basal_forebrain module.*scale"):
        nu.basal_forebrain(sim, scale=0.0)
    with pytest.raises(ParameterError, match="vta module.*seed"):
        nu.vta(sim, seed=-1)
    with pytest.raises(ParameterError, match="vta module.*region"):
        nu.vta(sim, region=7)
    with pytest.raises(ParameterError, match="vta module.*period"):
        nu.vta(sim, period=50.05)
    with pytest.raises(ParameterError, match="vta module.*n_da"):
        nu.vta(sim, n_da=10.5)
    m = nu.vta(sim, scale=0.1, gamma=0.5, override=True)       # out of range, explicitly allowed
    assert m.overrides == ("gamma",) and m.parameters["gamma"] == 0.5
    with pytest.raises(ParameterError, match="vta module.*port"):
        m.port("serotonin")
    with pytest.raises(ParameterError, match="vta module.*port"):
        nu.volleys(sim, m, "dopamine", [10.0])
    with pytest.raises(ParameterError, match="vta module.*times"):
        nu.volleys(sim, m, "cue", [0.0, 10.0])
    with pytest.raises(ParameterError, match="conditioning_schedule.*n_paired"):
        nu.conditioning_schedule(1, -2, 0)
    with pytest.raises(ParameterError, match="conditioning_schedule.*interval"):
        nu.conditioning_schedule(1, 2, 0, interval=2000.0, trial=1000.0)
    sim.end()


def test_region_must_be_in_the_connectome():
    sim.setup(timestep=0.1, seed=1)
    w = np.ones((2, 2)) - np.eye(2)
    sim.WholeBrain(sim.Connectome(w, 10 * w, labels=["rVTA", "rLC"]), model=sim.ReducedWongWang())
    with pytest.raises(ParameterError, match="locus_coeruleus module.*region.*'rBF'"):
        nu.locus_coeruleus(sim, scale=0.1, region="rBF")
    m = nu.vta(sim, scale=0.1, region="rVTA")
    assert m.region == "rVTA" and m.port("dopamine").target.name == "rVTA.dopamine"
    sim.end()
