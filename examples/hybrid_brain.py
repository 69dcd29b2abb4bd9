"""Flagship demo: a 76-region whole-brain scaffold with one cortical region replaced by a spiking
excitatory/inhibitory circuit on the Loihi path.

The scaffold is The Virtual Brain's 76-region connectome (tvb-data) running the reduced
Wong-Wang excitatory/inhibitory model (Deco et al. 2014) with conduction delays at 3 m/s and
noise. The right dorsolateral prefrontal cortex (``rPFCDL``) is handed over to 800 excitatory
and 200 inhibitory LIF neurons in Loihi 2 fixed-point arithmetic (the fixed-point emulator, or
Lava with ``--backend lava``). Its long-range input reaches the circuit as Poisson spike
trains; the circuit's excitatory and inhibitory population rates drive the region's NMDA and
GABA gating in the scaffold.

The seam is calibrated, not hand-tuned: a pure mean-field run gives the region's operating
point (rate, and the slope of its rate against its long-range input); two open-loop runs of
the circuit give its rate-input line; the rates-to-spikes converter's gain and baseline are
then the ones that make the circuit answer its long-range input like the region it replaces.

Writes ``pure.h5``, ``hybrid.h5`` (region activity, BOLD, both sides of the seam, spikes, run
manifest) and ``hybrid_brain.png`` (region activity, the replaced region's raster, FC of the
pure and hybrid runs).

    python examples/hybrid_brain.py [--duration 3000] [--backend emulator|lava] [--output DIR]
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings

import numpy as np

import neurohybrid.pynn as sim
from neurohybrid.errors import LavaUnavailableWarning, ParameterError

REGION = "rPFCDL"
MODEL = dict(G=0.01)                     # global coupling of ReducedWongWangExcInh (below its upper state)
COUPLING_A = 1.0
SPEED = 3.0                              # mm/ms
NOISE = 1e-6                             # additive noise intensity on the gating variables
CELL = dict(cm=0.25, tau_m=20.0, v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0, tau_refrac=2.0,
            tau_syn_E=5.0, tau_syn_I=5.0)  # equal synaptic time constants: a faithful Loihi CUBA LIF
N_E, N_I = 800, 200
J_E, G_INH, P_CONN = 0.05, 5.0, 0.1      # nA, inhibition/excitation ratio, connection probability
BACKGROUND = 400.0                       # Hz of Poisson background per neuron (the circuit's own drive)
ACTIVITY_INTERVAL = 10.0                 # ms, temporal average of the recorded region activity


def connectome() -> sim.Connectome:
    """TVB's 76-region connectome from tvb-data; a synthetic stand-in (with a note) without it."""
    try:
        return sim.Connectome.default_76()
    except ParameterError as err:
        print(f"note: {err}; using a synthetic 76-region connectome", file=sys.stderr)
        conn = sim.Connectome.synthetic(76, seed=1)
        labels = list(conn.labels)
        labels[0] = REGION
        return sim.Connectome(conn.weights, conn.lengths, labels, conn.centres, name="synthetic76")


def settled_state(conn, warmup: float = 3000.0) -> np.ndarray:
    """The scaffold's state after ``warmup`` ms from a uniform start (nvar, n_regions), so that
    runs begin on the attractor rather than in a shared transient that would dominate their FC."""
    from neurohybrid.backends.meanfield import MeanFieldSimulation
    mf = MeanFieldSimulation(conn, sim.ReducedWongWangExcInh(**MODEL), sim.LinearCoupling(a=COUPLING_A), SPEED,
                             0.1, sim.HeunStochastic(nsig=NOISE, seed=99), [], np.array([0.1, 0.1]))
    mf.run(warmup)
    return mf.state


def scaffold(conn, initial_state, noise_seed: int = 1, **options) -> sim.WholeBrain:
    """The mean-field scaffold in the current session, recording activity and BOLD."""
    brain = sim.WholeBrain(conn, model=sim.ReducedWongWangExcInh(**MODEL), coupling=sim.LinearCoupling(a=COUPLING_A),
                           speed=SPEED, integrator=sim.HeunStochastic(nsig=NOISE, seed=noise_seed),
                           initial_state=initial_state, **options)
    brain.record(["S_e", "S_i"], sampling_interval=ACTIVITY_INTERVAL)
    brain.record_bold(period=720.0)
    return brain


def circuit(background: float = BACKGROUND, afferent: float | None = None):
    """The E/I circuit (its own Poisson background; optionally a fixed extra Poisson drive of
    ``afferent`` Hz onto E, for calibration). Returns (E, I)."""
    E = sim.Population(N_E, sim.IF_curr_exp(**CELL), label="E")
    I = sim.Population(N_I, sim.IF_curr_exp(**CELL), label="I")
    EI = sim.Assembly(E, I)
    rng = sim.NumpyRNG(seed=11)
    EI.initialize(v=sim.RandomDistribution("uniform", (-65.0, -50.0), rng=rng))
    bg = sim.Population(N_E + N_I, sim.SpikeSourcePoisson(rate=background), label="background")
    sim.Projection(bg, EI, sim.OneToOneConnector(), sim.StaticSynapse(weight=J_E, delay=0.1))
    sim.Projection(E, EI, sim.FixedProbabilityConnector(P_CONN, rng=rng), sim.StaticSynapse(weight=J_E, delay=1.0),
                   receptor_type="excitatory")
    sim.Projection(I, EI, sim.FixedProbabilityConnector(P_CONN, rng=rng),
                   sim.StaticSynapse(weight=-G_INH * J_E, delay=1.0), receptor_type="inhibitory")
    if afferent:
        aff = sim.Population(N_E, sim.SpikeSourcePoisson(rate=afferent), label="afferent")
        sim.Projection(aff, E, sim.OneToOneConnector(), sim.StaticSynapse(weight=J_E, delay=0.1))
    return E, I


def setup(path, backend: str, seed: int):
    numerics = "fixed" if backend == "emulator" else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LavaUnavailableWarning)
        sim.setup(timestep=0.1, seed=seed, backend=backend, numerics=numerics, recording_path=path)


# ------------------------------------------------------------------------------ the three runs
def run_pure(conn, x0, duration, path, seed=7, noise_seed=1):
    """The scaffold alone from state ``x0``. Returns its recorded S_e, S_i (T, 76) and BOLD."""
    setup(path, "emulator", seed)
    brain = scaffold(conn, x0, noise_seed)
    sim.run(duration)
    out = {v: brain.get_data(v) for v in ("S_e", "S_i")}
    if duration >= 720.0:
        out["bold"] = brain.get_data("bold")
    sim.end()
    return out


def operating_point(conn, pure) -> dict:
    """The replaced region's mean E rate (Hz), mean long-range input c and dr/dc in the pure run."""
    p = sim.ReducedWongWangExcInh(**MODEL).params
    r = conn.labels.index(REGION)
    settle = pure["S_e"]["values"].shape[0] // 10
    se, si = (pure[v]["values"][settle:] for v in ("S_e", "S_i"))
    c = COUPLING_A * float(conn.weights[r] @ se.mean(0))
    x = p["w_p"] * p["J_N"] * se[:, r].mean() - p["J_i"] * si[:, r].mean() + p["W_e"] * p["I_o"] \
        + p["G"] * p["J_N"] * c
    u = p["a_e"] * x - p["b_e"]
    dh = p["a_e"] * (1 - math.exp(-p["d_e"] * u) - p["d_e"] * u * math.exp(-p["d_e"] * u)) / (1 - math.exp(-p["d_e"] * u)) ** 2
    s = se[:, r].mean()
    rate = s / ((1 - s) * p["gamma_e"] * p["tau_e"])  # the rate that holds the gating at its mean
    return {"rate_hz": rate, "c": c, "slope_hz_per_c": dh * p["G"] * p["J_N"], "S_e": s}


def calibrate(backend, target_rate, seed=7, duration=1000.0, drives=(0, 50, 100, 150, 200, 300, 400, 600)):
    """Open-loop E rate of the circuit against an afferent Poisson drive onto E (Hz): the drive
    that gives ``target_rate`` (interpolated) and the local slope there (Hz of E rate per Hz of
    drive). The circuit's response is a threshold-linear curve, so the seam is linearised
    around the operating point rather than over the whole range."""
    rates = []
    for nu in drives:
        setup(None, backend, seed)
        E, _ = circuit(afferent=float(nu))
        E.record("spikes")
        sim.run(duration)
        rates.append(sum(E.get_spike_counts().values()) / N_E / duration * 1000.0)
        sim.end()
    rates, drives = np.maximum.accumulate(np.array(rates)), np.array(drives, dtype=float)
    if not rates[0] <= target_rate <= rates[-1]:
        raise ParameterError("calibrate", "target_rate", f"{target_rate:.2f} Hz outside the circuit's range "
                             f"[{rates[0]:.2f}, {rates[-1]:.2f}] Hz", "a circuit that can reach the region's rate")
    j = int(np.clip(np.searchsorted(rates, target_rate), 1, len(rates) - 1))
    k = (rates[j] - rates[j - 1]) / (drives[j] - drives[j - 1])
    return drives[j - 1] + (target_rate - rates[j - 1]) / k, k


def run_hybrid(conn, x0, duration, path, backend, gain, baseline, seed=7, noise_seed=1, pipelined=False):
    """The scaffold from state ``x0`` with REGION replaced by the circuit. Returns the
    recordings, the circuit's spikes, the wall time of the run and the exchange interval."""
    setup(path, backend, seed)
    brain = scaffold(conn, x0, noise_seed, pipelined=pipelined)
    E, I = circuit()
    brain.replace(REGION, [E, I],
                  inputs=sim.rates_to_spikes("poisson", weight=J_E, delay=0.1, gain=gain, baseline=baseline,
                                             targets=[E]),
                  output=sim.spikes_to_rates("box"))
    t = time.perf_counter()
    sim.run(duration)
    wall = time.perf_counter() - t
    out = {v: brain.get_data(v) for v in ("S_e", "S_i", f"{REGION}.rates", f"{REGION}.afferent")}
    if duration >= 720.0:
        out["bold"] = brain.get_data("bold")
    out["spikes"] = {p.label: [np.asarray(st) for st in p.get_data().segments[0].spiketrains] for p in (E, I)}
    out["wall_s"] = wall
    out["exchange_ms"] = sim.simulator.state.network.hybrid.exchange_ticks * 0.1
    sim.end()
    return out


def fc(activity: np.ndarray, settle: int) -> np.ndarray:
    """Functional connectivity: Pearson correlation of the region time series after ``settle`` samples."""
    x = activity[settle:]
    x = x - x.mean(0)
    sd = x.std(0)
    sd[sd == 0] = 1.0
    return (x / sd).T @ (x / sd) / x.shape[0]


def fc_similarity(a: np.ndarray, b: np.ndarray) -> float:
    iu = np.triu_indices(a.shape[0], 1)
    return float(np.corrcoef(a[iu], b[iu])[0, 1])


# ------------------------------------------------------------------------------ figure
def figure(conn, pure, hybrid, fc_pure, fc_hybrid, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    r = conn.labels.index(REGION)
    fig = plt.figure(figsize=(14, 9))
    ax = fig.add_subplot(2, 3, (1, 2))
    t = hybrid["S_e"]["times"] / 1000.0
    im = ax.imshow(hybrid["S_e"]["values"].T, aspect="auto", origin="lower", cmap="viridis",
                   extent=[t[0], t[-1], -0.5, conn.n_regions - 0.5])
    ax.axhline(r, color="w", lw=0.6, ls="--")
    ax.set(xlabel="time (s)", ylabel="region", title=f"hybrid run: S_e of 76 regions ({REGION} = spiking circuit, dashed)")
    fig.colorbar(im, ax=ax, label="S_e")
    ax = fig.add_subplot(2, 3, 3)
    ax.plot(pure["S_e"]["times"] / 1000, pure["S_e"]["values"][:, r], label="pure mean field", lw=1)
    ax.plot(t, hybrid["S_e"]["values"][:, r], label="hybrid (from spikes)", lw=1)
    ax.set(xlabel="time (s)", ylabel="S_e", title=f"{REGION}: NMDA gating")
    ax.legend(fontsize=8)
    ax = fig.add_subplot(2, 3, 4)
    t_end = min(hybrid["S_e"]["times"][-1], 1000.0)
    for k, (label, color, offset) in enumerate((("E", "tab:red", 0), ("I", "tab:blue", N_E))):
        trains = hybrid["spikes"][label]
        step = max(1, len(trains) // (150 if label == "E" else 40))
        for i in range(0, len(trains), step):
            st = trains[i][trains[i] <= t_end]
            ax.plot(st, np.full(st.size, offset + i), ".", ms=1, color=color)
    ax.set(xlabel="time (ms)", ylabel="neuron", title=f"{REGION} circuit raster (first {t_end:.0f} ms)")
    for k, (m, name) in enumerate(((fc_pure, "pure mean field"), (fc_hybrid, "hybrid"))):
        ax = fig.add_subplot(2, 3, 5 + k)
        im = ax.imshow(m, vmin=-1, vmax=1, cmap="RdBu_r")
        ax.set(title=f"FC, {name}", xlabel="region", ylabel="region")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle(f"FC(pure) vs FC(hybrid): r = {fc_similarity(fc_pure, fc_hybrid):.3f}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def lava_check(conn, x0, gain, baseline, duration=50.0) -> str:
    """The hybrid through Lava and through the fixed-point emulator: identical circuit spikes?"""
    try:
        import lava  # noqa: F401
    except ImportError:
        return "Lava not installed: skipped the Lava cross-check"
    runs = {}
    for backend in ("lava", "emulator"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", LavaUnavailableWarning)
            out = run_hybrid(conn, x0, duration, None, backend, gain, baseline)
        if any(issubclass(w.category, LavaUnavailableWarning) for w in caught):
            return "Lava cannot run here (fell back to the emulator): skipped the Lava cross-check"
        runs[backend] = out["spikes"]
    same = all(np.array_equal(a, b) for p in ("E", "I") for a, b in zip(runs["lava"][p], runs["emulator"][p]))
    n = sum(len(s) for s in runs["lava"]["E"])
    return (f"Lava cross-check ({duration:g} ms of the hybrid): circuit spikes "
            f"{'IDENTICAL' if same else 'DIFFERENT'} to the fixed-point emulator's ({n} E spikes)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3000.0, help="brain time in ms")
    parser.add_argument("--backend", choices=("emulator", "lava"), default="emulator",
                        help="the Loihi path: fixed-point emulator (default) or Lava (slow: ~35 ms per ms)")
    parser.add_argument("--lava-check", type=float, default=50.0, help="ms of hybrid run through Lava and the "
                        "emulator to compare (0: skip)")
    parser.add_argument("--output", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "output"))
    args = parser.parse_args(argv)
    os.makedirs(args.output, exist_ok=True)
    t0 = time.perf_counter()
    conn = connectome()
    x0 = settled_state(conn)
    pure = run_pure(conn, x0, args.duration, os.path.join(args.output, "pure.h5"))
    op = operating_point(conn, pure)
    drive, k = calibrate(args.backend, op["rate_hz"])
    gain = op["slope_hz_per_c"] / k
    baseline = drive - gain * op["c"]
    print(f"{REGION} operating point: E rate {op['rate_hz']:.2f} Hz, long-range input c = {op['c']:.3f}, "
          f"dr/dc = {op['slope_hz_per_c']:.3f} Hz; circuit: {op['rate_hz']:.2f} Hz at a drive of {drive:.1f} Hz, "
          f"slope {k:.4f} -> rates_to_spikes(gain={gain:.2f} Hz per unit c, baseline={baseline:.1f} Hz)")
    hybrid = run_hybrid(conn, x0, args.duration, os.path.join(args.output, "hybrid.h5"), args.backend, gain, baseline)
    settle = pure["S_e"]["values"].shape[0] // 10
    fc_p, fc_h = fc(pure["S_e"]["values"], settle), fc(hybrid["S_e"]["values"], settle)
    r = conn.labels.index(REGION)
    rates = hybrid[f"{REGION}.rates"]["values"]
    print(f"hybrid: {args.duration:g} ms of brain time in {hybrid['wall_s']:.1f} s, exchange every "
          f"{hybrid['exchange_ms']:g} ms; circuit rates E {rates[:, 0].mean():.2f} Hz, I {rates[:, 1].mean():.2f} Hz; "
          f"{REGION} S_e pure {pure['S_e']['values'][settle:, r].mean():.3f} vs hybrid "
          f"{hybrid['S_e']['values'][settle:, r].mean():.3f}")
    print(f"FC similarity (pure vs hybrid, {ACTIVITY_INTERVAL:g} ms activity): {fc_similarity(fc_p, fc_h):.3f}")
    png = os.path.join(args.output, "hybrid_brain.png")
    figure(conn, pure, hybrid, fc_p, fc_h, png)
    if args.lava_check > 0 and args.backend == "emulator":
        print(lava_check(conn, x0, gain, baseline, args.lava_check))
    print(f"outputs: {png}\n         {os.path.join(args.output, 'hybrid.h5')}\n         "
          f"{os.path.join(args.output, 'pure.h5')}\ntotal {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
