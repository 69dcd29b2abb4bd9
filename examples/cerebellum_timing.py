"""Eyeblink conditioning in a spiking cerebellum (Yamazaki & Tanaka 2007): the granular layer
keeps time, the PF-PC synapses learn when the US comes, the nucleus fires just before it.

    python examples/cerebellum_timing.py --interval 500 --trials 12 --output out/

A sustained Poisson CS on the mossy fibres drives granule and Golgi cells (random recurrent
inhibition); the granule population vector changes over the CS without recurring (similarity
index, Yamazaki & Tanaka 2007). Conditioning trials pair the CS with a climbing-fibre US at
``--interval`` ms; after each trial the PF-PC weights are updated (LTD of PFs active just before
the CF spike, slight LTP otherwise). Probe trials (CS alone) before and after training show the
learned PC pause and nucleus (DCN) response at the interval. Figure: cerebellum_timing.png.
"""
import argparse
import json
from pathlib import Path

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-granule", type=int, default=1000, help="granule cells")
    ap.add_argument("--interval", type=float, default=500.0, help="CS-US interval (ms)")
    ap.add_argument("--trials", type=int, default=12, help="conditioning trials")
    ap.add_argument("--probes", type=int, default=3, help="probe trials (CS alone) before and after")
    ap.add_argument("--cs-duration", type=float, default=800.0, help="CS length (ms)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--output", default="out", help="directory for cerebellum_timing.png / .json")
    args = ap.parse_args(argv)

    import neurohybrid.pynn as sim
    from neurohybrid.library import cerebellum as cb

    sim.setup(timestep=0.1)
    mod = cb.cerebellum(sim, n_granule=args.n_granule, seed=args.seed, interval=args.interval,
                        cs_duration=args.cs_duration)
    mod.record("spikes")
    cb.run_trial(sim, mod, us=False)                      # warm-up: the first CS from rest
    before = [cb.run_trial(sim, mod, us=False) for _ in range(args.probes)]
    cb.train(sim, mod, args.trials)
    after = [cb.run_trial(sim, mod, us=False) for _ in range(args.probes)]
    rb, ra = cb.learned_response(mod, before), cb.learned_response(mod, after)
    p = mod.parameters
    onset = p["cs_onset"]
    t_sim, sim_c = cb.similarity_index(after[0]["GrC"], args.n_granule, onset, onset + p["cs_duration"], 20.0)
    summary = {"interval_ms": args.interval, "dcn_peak_ms": ra["dcn_peak"], "pc_pause_ms": ra["pc_pause"],
               "dcn_error": ra["dcn_error"], "pc_error": ra["pc_error"], "trials": args.trials,
               "n_granule": args.n_granule}
    print(f"CS-US interval {args.interval:.0f} ms; after {args.trials} trials: DCN peak {ra['dcn_peak']:.0f} ms "
          f"(error {100 * ra['dcn_error']:.1f} %), PC pause {ra['pc_pause']:.0f} ms (error {100 * ra['pc_error']:.1f} %); "
          f"Yamazaki & Tanaka 2007: learned response at the ISI (criterion here: within 10 %)")
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "cerebellum_timing.json").write_text(json.dumps(summary, indent=1))
    _figure(out / "cerebellum_timing.png", mod, after[0], t_sim, sim_c, rb, ra)


def _figure(path, mod, trial, t_sim, sim_c, rb, ra):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    p = mod.parameters
    onset, iv = p["cs_onset"], p["interval"]
    fig, ax = plt.subplots(2, 2, figsize=(11, 7.5))
    ids, times = trial["GrC"]
    n_show = min(300, p["n_granule"])
    show = ids < n_show
    first = np.full(n_show, np.inf)
    np.minimum.at(first, ids[show], np.where(times[show] > onset, times[show], np.inf))
    order = np.argsort(np.argsort(first))
    ax[0, 0].plot(times[show] - onset, order[ids[show]], ",k")
    ax[0, 0].axvline(0, color="g", lw=1)
    ax[0, 0].set(xlabel="time from CS onset (ms)", ylabel="granule cell (by first spike)",
                 title=f"granule raster (probe trial, {n_show} of {p['n_granule']})")
    im = ax[0, 1].imshow(sim_c, origin="lower", cmap="viridis", vmin=0, vmax=1,
                         extent=[0, p["cs_duration"], 0, p["cs_duration"]])
    fig.colorbar(im, ax=ax[0, 1], label="similarity index C(t1, t2)")
    ax[0, 1].set(xlabel="t1 from CS onset (ms)", ylabel="t2 (ms)", title="granule population similarity")
    for a, key, name in ((ax[1, 0], "pc_rate", "Purkinje cells"), (ax[1, 1], "dcn_rate", "nucleus (DCN)")):
        a.plot(rb["t"], rb[key], color="0.5", label="before training")
        a.plot(ra["t"], ra[key], color="C3", label="after training")
        a.axvline(iv, color="b", ls="--", label=f"US ({iv:.0f} ms)")
        a.axvspan(0, p["cs_duration"], color="g", alpha=0.06, label="CS")
        a.set(xlabel="time from CS onset (ms)", ylabel="rate (Hz)", title=f"{name}, probe trials (CS alone)")
        a.legend(fontsize=8)
    fig.suptitle(f"Cerebellar conditioning after Yamazaki & Tanaka 2007: US at {iv:.0f} ms; learned DCN peak "
                 f"{ra['dcn_peak']:.0f} ms, PC pause {ra['pc_pause']:.0f} ms (target: within 10 % of the US time)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
