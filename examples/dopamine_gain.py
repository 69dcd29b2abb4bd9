"""Dopamine from a spiking VTA population modulates the gain of a striatal population.

* ``VTA``: 30 spike sources firing tonically at 4 Hz, with phasic bursts (25 Hz) in
  ``BURSTS`` (ms), Poisson, from the seeded generator;
* ``dopamine``: a ``sim.Field`` with dynamics (``neurohybrid.modulators``): every VTA spike
  releases ``RELEASE`` (dimensionless concentration, relative units) and the concentration
  relaxes to 0 with the uptake time constant ``TAU`` (200 ms, DAT uptake); the value
  ``1 + c`` multiplies the synaptic input of every striatal cell (``modulates="gain"``);
* ``striatum``: 100 IF_curr_exp cells driven by 100 cortical Poisson sources (one each,
  1,200 Hz, 0.12 nA): near threshold, so the gain sets their rate.

The same circuit runs a second time without the field (the control). The figure shows the VTA
raster, the dopamine concentration, and the striatal population rate (20 ms bins) with and
without dopamine. Outputs: ``dopamine_gain.png``, ``dopamine_gain.h5``.

    python examples/dopamine_gain.py [--duration 2000] [--seed 5] [--output DIR]
"""
from __future__ import annotations

import argparse
import os

import numpy as np

import neurohybrid.pynn as sim

N_VTA, N_STR = 30, 100
TONIC, PHASIC = 4.0, 25.0          # Hz
BURSTS = [(400.0, 600.0), (1200.0, 1300.0)]   # ms
TAU, RELEASE = 200.0, 0.004        # ms; concentration per spike (relative units)
BIN = 20.0                         # ms, population rate bins


def vta_spikes(duration: float, rng: np.random.Generator) -> list:
    """Per VTA cell: Poisson spike times (ms), TONIC Hz with PHASIC Hz inside BURSTS."""
    edges = sorted({0.0, duration, *[t for b in BURSTS for t in b if t < duration]})
    out = []
    for _ in range(N_VTA):
        times = []
        for lo, hi in zip(edges[:-1], edges[1:]):
            rate = PHASIC if any(a <= lo < b for a, b in BURSTS) else TONIC
            n = rng.poisson(rate * (hi - lo) * 1e-3)
            times.extend(rng.uniform(lo, hi, n).tolist())
        out.append(sorted(set(np.round(np.asarray(times), 1).clip(0.1).tolist())))
    return out


def simulate(duration: float, seed: int, dopamine: bool, recording_path: str | None = None) -> dict:
    """One run; returns the VTA and striatal spike trains, and the dopamine field's
    concentration and applied gain (``dopamine=True``)."""
    sim.setup(timestep=0.1, seed=seed, recording_path=recording_path)
    vta = sim.Population(N_VTA, sim.SpikeSourceArray(spike_times=vta_spikes(duration, np.random.default_rng(seed))),
                         label="VTA")
    ctx = sim.Population(N_STR, sim.SpikeSourcePoisson(rate=1200.0), label="cortex")
    striatum = sim.Population(N_STR, sim.IF_curr_exp(tau_refrac=2.0), label="striatum")
    sim.Projection(ctx, striatum, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.12, delay=1.0))
    field = None
    if dopamine:
        field = sim.Field("dopamine", source=vta, tau=TAU, release=RELEASE, baseline=0.0, bounds=(0.0, None))
        field.modulate(striatum, "gain", fn=lambda c: 1.0 + c)
    vta.record("spikes")
    striatum.record("spikes")
    sim.run(duration)
    trains = lambda p: [np.asarray(s.magnitude) for s in p.get_data().segments[0].spiketrains]  # noqa: E731
    out = {"vta": trains(vta), "striatum": trains(striatum)}
    if field is not None:
        out["concentration"], out["gain"] = field.get_data("concentration"), field.get_data()
    sim.end()
    return out


def population_rate(trains: list, duration: float) -> tuple[np.ndarray, np.ndarray]:
    """(bin centres ms, mean rate Hz per cell) in BIN ms bins."""
    edges = np.arange(0.0, duration + BIN / 2, BIN)
    counts = np.histogram(np.concatenate(trains), bins=edges)[0] if trains else np.zeros(edges.size - 1)
    return (edges[:-1] + edges[1:]) / 2, counts / len(trains) / (BIN * 1e-3)


def plot(with_da: dict, control: dict, duration: float, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(3, 1, figsize=(9, 7), sharex=True, gridspec_kw={"height_ratios": [1.2, 1, 1.2]})
    for i, s in enumerate(with_da["vta"]):
        ax[0].plot(s, np.full(s.size, i), "|", ms=3, color="k")
    ax[0].set_ylabel("VTA cell")
    c = with_da["concentration"]
    ax[1].plot(c["times"], c["values"][:, 0], color="C2")
    ax[1].set_ylabel("dopamine\n(relative; gain = 1 + c)")
    for res, label, color in ((with_da, "with dopamine", "C3"), (control, "without (control)", "0.5")):
        t, r = population_rate(res["striatum"], duration)
        ax[2].step(t, r, where="mid", label=label, color=color)
    ax[2].set_ylabel("striatal rate (Hz)")
    ax[2].set_xlabel("time (ms)")
    ax[2].legend(loc="upper right", fontsize=8)
    for a in ax:
        for lo, hi in BURSTS:
            if lo < duration:
                a.axvspan(lo, min(hi, duration), color="#fbeaea", zorder=0)
    ax[0].set_title("VTA bursts (shaded) release dopamine, which raises the striatal gain")
    fig.savefig(path, dpi=100, bbox_inches="tight")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "output"), help="directory")
    ap.add_argument("--duration", type=float, default=2000.0, help="ms")
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    os.makedirs(args.output, exist_ok=True)
    with_da = simulate(args.duration, args.seed, True, os.path.join(args.output, "dopamine_gain.h5"))
    control = simulate(args.duration, args.seed, False)
    c = with_da["concentration"]["values"][:, 0]
    t = with_da["concentration"]["times"]
    for label, (lo, hi) in (("tonic", (BURSTS[0][0] - 150.0, BURSTS[0][0])), ("burst", BURSTS[0])):
        if hi > args.duration:
            continue
        keep = (t >= lo) & (t < hi)
        rate = lambda tr: sum(int(((s >= lo) & (s < hi)).sum()) for s in tr) / N_STR / ((hi - lo) * 1e-3)  # noqa
        print(f"{label} {lo:.0f}-{hi:.0f} ms: dopamine {c[keep].mean():.3f} (gain {1 + c[keep].mean():.3f}), "
              f"striatum {rate(with_da['striatum']):.1f} Hz with dopamine, {rate(control['striatum']):.1f} Hz without")
    path = os.path.join(args.output, "dopamine_gain.png")
    plot(with_da, control, args.duration, path)
    print("outputs:", path)


if __name__ == "__main__":
    main()
