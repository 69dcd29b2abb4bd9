"""Full-size check of the neuromodulatory nuclei (neurohybrid.library.nuclei), published values beside ours.

* VTA at scale 1 (40 DA cells) with its default critic (50 ms TD steps, alpha 0.6, gamma 0.98) on
  the Schultz task with a 1 s cue-reward interval: 5 free rewards, ``--paired`` pairings, 5
  omissions (the pause is measured on the first two: each omission extinguishes part of the
  prediction, as TD learning does). Published (Schultz, Dayan & Montague 1997 Fig. 1; Grace & Bunney 1984): tonic 3-8 Hz
  (mean ~4.5 Hz); burst to the unexpected reward; after learning a burst at the cue and no change
  at the reward; a pause at the omitted reward.
* LC at scale 1 in each mode, salient targets every 1.5 s for ``--lc-duration`` ms. Published
  (Aston-Jones & Cohen 2005; Aston-Jones et al. 1994): phasic mode ~1-2 Hz tonic with phasic
  bursts, tonic mode a higher tonic rate with attenuated phasic responses.
* BF at scale 1: attention drive on for 4 s; the ACh tone follows within its time constant.

The last stdout line is one JSON object: ``ratio`` = our VTA tonic rate / 4.5 Hz, ``met`` = every
check holds, and the raw figures.

    python benchmarks/library_nuclei.py [--paired 60] [--lc-duration 12000]
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

import neurohybrid.pynn as sim
from neurohybrid.library import nuclei as nu

RESP = (100.0, 225.0)


def trains(pop):
    return [np.asarray(s.magnitude) for s in pop.get_data().segments[0].spiketrains]


def schultz(n_paired: int, seed: int) -> dict:
    sch = nu.conditioning_schedule(5, n_paired, 5, interval=1000.0, trial=2500.0, onset=1025.0)
    sim.setup(timestep=0.1, seed=seed)
    vta = nu.vta(sim, scale=1.0)
    nu.volleys(sim, vta, "cue", np.concatenate([sch["cue_paired"], sch["cue_omitted"]]))
    nu.volleys(sim, vta, "reward", np.concatenate([sch["reward_free"], sch["reward_paired"]]))
    vta.populations["DA"].record("spikes")
    sim.run(sch["duration"])
    da = trains(vta.populations["DA"])
    sim.end()
    events = np.concatenate([sch["reward_free"], sch["cue_paired"], sch["cue_omitted"]])
    learnt = sch["cue_paired"][-5:]
    return {"baseline_hz": nu.window_rate(da, events, -500.0, 0.0),
            "unexpected_reward_hz": nu.window_rate(da, sch["reward_free"], *RESP),
            "cue_after_hz": nu.window_rate(da, learnt, *RESP),
            "reward_after_hz": nu.window_rate(da, learnt + 1000.0, *RESP),
            "omitted_hz": nu.window_rate(da, sch["omitted"][:2], *RESP), "brain_ms": sch["duration"]}


def lc_and_bf(duration: float, seed: int) -> dict:
    sim.setup(timestep=0.1, seed=seed)
    stim = np.arange(1500.0, duration - 200.0, 1500.0) + 3.0
    lcs = {}
    for mode in ("phasic", "tonic"):
        lc = nu.locus_coeruleus(sim, scale=1.0, region=f"LC {mode}", mode=mode)
        nu.volleys(sim, lc, "salience", stim)
        lc.populations["NE"].record("spikes")
        lcs[mode] = lc
    bf = nu.basal_forebrain(sim, scale=1.0)
    on = (2000.0, 6000.0)
    drive = sim.Population(nu.N_RELAY, sim.SpikeSourcePoisson(rate=20.0, start=on[0], duration=on[1] - on[0]))
    sim.Projection(drive, bf.port("attention").target, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=nu.RELAY_WEIGHT, delay=1.0))
    bf.populations["ChAT"].record("spikes")
    sim.run(duration)
    out = {}
    for mode, lc in lcs.items():
        tr = trains(lc.populations["NE"])
        base = nu.window_rate(tr, stim, -500.0, 0.0)
        out[f"lc_{mode}_tonic_hz"] = base
        out[f"lc_{mode}_evoked_spikes"] = (nu.window_rate(tr, stim, 0.0, 100.0) - base) * 0.1
    ach = bf.extras["field"].get_data("concentration")
    c, t = ach["values"][:, 0], ach["times"]
    c_off = c[(t > 1000) & (t < on[0])].mean()
    c_on = c[(t > on[1] - 1000) & (t < on[1])].mean()
    tr = trains(bf.populations["ChAT"])
    out.update(bf_off_hz=nu.window_rate(tr, [0.0], 500.0, on[0]), bf_on_hz=nu.window_rate(tr, [0.0], on[0] + 1000, on[1]),
               ach_off=float(c_off), ach_on=float(c_on),
               ach_rise_ms=float(t[(t > on[0]) & (c > c_off + 0.63 * (c_on - c_off))][0] - on[0]))
    sim.end()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--paired", type=int, default=60)
    ap.add_argument("--lc-duration", type=float, default=12000.0)
    ap.add_argument("--seed", type=int, default=21)
    args = ap.parse_args()
    t0 = time.perf_counter()
    v = schultz(args.paired, args.seed)
    t1 = time.perf_counter()
    m = lc_and_bf(args.lc_duration, args.seed + 1)
    t2 = time.perf_counter()
    b = v["baseline_hz"]
    checks = {
        "vta_tonic_3_8_hz": 3.0 <= b <= 8.0,
        "vta_unexpected_reward_burst": v["unexpected_reward_hz"] > 2.0 * b,
        "vta_cue_burst_after_learning": v["cue_after_hz"] > 1.8 * b,
        "vta_no_response_to_predicted_reward": v["reward_after_hz"] < 1.3 * b,
        "vta_pause_at_omission": v["omitted_hz"] < 0.6 * b,
        "lc_phasic_mode_tonic_0.3_3_hz": 0.3 <= m["lc_phasic_tonic_hz"] <= 3.0,
        "lc_tonic_mode_higher_tonic": m["lc_tonic_tonic_hz"] > 2.0 * m["lc_phasic_tonic_hz"],
        "lc_phasic_burst": m["lc_phasic_evoked_spikes"] > 1.0,
        "lc_tonic_mode_attenuated": m["lc_phasic_evoked_spikes"] > 1.8 * m["lc_tonic_evoked_spikes"],
        "bf_tracks_drive": m["ach_on"] > 3.0 * m["ach_off"] and 400.0 < m["ach_rise_ms"] < 2000.0,
    }
    print(f"VTA tonic {b:.2f} Hz (published 3-8, mean ~4.5 Hz); unexpected reward {v['unexpected_reward_hz']:.1f} Hz "
          f"(burst); after {args.paired} pairings: cue {v['cue_after_hz']:.1f} Hz (burst), reward "
          f"{v['reward_after_hz']:.1f} Hz (baseline); omission {v['omitted_hz']:.1f} Hz (pause)  [{t1 - t0:.0f} s wall "
          f"for {v['brain_ms'] / 1000:.0f} s]")
    print(f"LC phasic mode: tonic {m['lc_phasic_tonic_hz']:.2f} Hz, evoked {m['lc_phasic_evoked_spikes']:.2f} spikes; "
          f"tonic mode: tonic {m['lc_tonic_tonic_hz']:.2f} Hz, evoked {m['lc_tonic_evoked_spikes']:.2f} spikes "
          f"(published: ~1-2 Hz + bursts vs higher tonic, attenuated bursts)")
    print(f"BF {m['bf_off_hz']:.2f} -> {m['bf_on_hz']:.2f} Hz; ACh {m['ach_off']:.2f} -> {m['ach_on']:.2f}, "
          f"63 % in {m['ach_rise_ms']:.0f} ms (tau 1000 ms)  [{t2 - t1:.0f} s wall]")
    for k, ok in checks.items():
        print(f"  {'ok ' if ok else 'FAIL'} {k}")
    print(json.dumps({"benchmark": "library_nuclei", "ratio": round(b / 4.5, 3),
                      "target": "VTA tonic rate 3-8 Hz (ratio 0.67-1.78 of 4.5 Hz) and every Schultz/LC/BF check",
                      "reference": {"vta_tonic_hz": 4.5, "source": "Grace & Bunney 1984; Schultz, Dayan & Montague 1997;"
                                    " Aston-Jones & Cohen 2005"},
                      "met": all(checks.values()), "checks": checks, **{k: round(float(x), 3) for k, x in {**v, **m}.items()}}))


if __name__ == "__main__":
    main()
