"""The Potjans & Diesmann (2014) cortical microcircuit from the library, one call.

``neurohybrid.library.cortex.cortex(sim, ...)`` builds the 8-population layered circuit
(L2/3, L4, L5, L6, E and I each; PD14 Table 5 connectivity, FixedTotalNumberConnector,
Poisson background at 8 Hz per external synapse) at ``--n-scale`` of its 77,169 neurons and
``--k-scale`` of its in-degrees (weights / sqrt(k) and a DC compensation, as NEST's
microcircuit example does). With ``--thalamus`` PD14's thalamic population fires a 10 ms pulse
at 120 Hz from ``--th-start`` ms onto L4 and L6.

Writes ``cortex_microcircuit.png``: a raster of the last 200 ms (every population, top L2/3,
bottom L6) and the per-population rates beside the full-scale rates of NEST's PyNEST
microcircuit (network_params.py ``full_mean_rates``), and ``cortex_microcircuit.h5``.

    python examples/cortex_microcircuit.py [--duration 1000] [--n-scale 0.05] [--k-scale 0.1]
                                           [--thalamus] [--output DIR]
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

import neurohybrid.pynn as sim
from neurohybrid.library.cortex import POPULATIONS, REFERENCE_RATES, cortex, layer_rates

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=1000.0, help="ms of model time")
    ap.add_argument("--transient", type=float, default=200.0, help="ms dropped before measuring rates")
    ap.add_argument("--n-scale", type=float, default=0.05)
    ap.add_argument("--k-scale", type=float, default=0.1)
    ap.add_argument("--background", default="poisson", choices=("poisson", "dc"))
    ap.add_argument("--thalamus", action="store_true")
    ap.add_argument("--th-start", type=float, default=700.0, help="ms, start of the thalamic pulse")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--output", default=os.path.join(HERE, "output"))
    args = ap.parse_args(argv)
    os.makedirs(args.output, exist_ok=True)

    t0 = time.time()
    sim.setup(timestep=0.1, seed=args.seed, recording_path=os.path.join(args.output, "cortex_microcircuit.h5"))
    extra = {"th_start": args.th_start} if args.thalamus else {}
    ctx = cortex(sim, n_scale=args.n_scale, k_scale=args.k_scale, seed=args.seed, thalamus=args.thalamus,
                 background=args.background, **extra)
    ctx.record("spikes")
    if args.thalamus:
        ctx.extras["thalamus"].record("spikes")
    t1 = time.time()
    sim.run(args.duration)
    t2 = time.time()
    rates = layer_rates(ctx, min(args.transient, args.duration / 2), args.duration)
    n = sum(ctx.extras["sizes"].values())
    n_syn = sum(p.size() for p in ctx.extras["projections"].values())
    print(f"{n} neurons, {n_syn} synapses (n_scale {args.n_scale}, k_scale {args.k_scale}); "
          f"build {t1 - t0:.1f} s, run {t2 - t1:.1f} s for {args.duration:.0f} ms")
    print("population rates (ours vs NEST full-scale microcircuit):")
    for name in POPULATIONS:
        print(f"  {name:5s} {rates[name]:6.2f} Hz   reference {REFERENCE_RATES[name]:6.2f} Hz   "
              f"ratio {rates[name] / REFERENCE_RATES[name]:.2f}")
    if args.thalamus and args.th_start + 20.0 <= args.duration:
        pulse = layer_rates(ctx, args.th_start, args.th_start + 20.0)
        print("thalamic pulse (20 ms from its start) vs the rest:  " + ",  ".join(
            f"{n} {pulse[n]:.1f} vs {rates[n]:.1f} Hz" for n in ("L4E", "L6E", "L23E", "L5E")))
    path = os.path.join(args.output, "cortex_microcircuit.png")
    draw(ctx, rates, args, path)
    sim.end()
    print(f"outputs: {path}")


def draw(ctx, rates, args, path):
    """Raster of the last 200 ms (up to 60 cells per population) and the rate bar chart."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 6), gridspec_kw={"width_ratios": [3, 2]})
    t_lo = max(0.0, args.duration - 200.0)
    offset, ticks = 0, []
    for k, name in enumerate(POPULATIONS):
        trains = ctx.populations[name].get_data("spikes").segments[-1].spiketrains[:60]
        colour = "tab:blue" if name.endswith("E") else "tab:red"
        for i, st in enumerate(trains):
            t = np.asarray(st.magnitude)
            t = t[t >= t_lo]
            ax.plot(t, np.full(t.size, -(offset + i)), "|", ms=4, mew=1.2, color=colour)
        ticks.append((-(offset + len(trains) / 2), name))
        offset += len(trains) + 5
    if args.thalamus:
        ax.axvspan(args.th_start, args.th_start + 10.0, color="gold", alpha=0.3, label="thalamic pulse")
        ax.legend(loc="upper right")
    ax.set_yticks([t for t, _ in ticks], [n for _, n in ticks])
    ax.set_xlabel("time (ms)")
    ax.set_xlim(t_lo, args.duration)
    ax.set_title(f"PD14 microcircuit, n_scale {args.n_scale}, k_scale {args.k_scale}"
                 + (" + thalamic pulse" if args.thalamus else ""))
    x = np.arange(len(POPULATIONS))
    bx.barh(x + 0.2, [rates[n] for n in POPULATIONS], 0.4, label="neurohybrid", color="tab:green")
    bx.barh(x - 0.2, [REFERENCE_RATES[n] for n in POPULATIONS], 0.4, label="NEST full scale", color="0.6")
    bx.set_yticks(x, POPULATIONS)
    bx.invert_yaxis()
    bx.set_xlabel("rate (Hz)")
    bx.legend(loc="lower right")
    bx.set_title("population rates")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
