"""Working memory gates a motor pathway: a nengo-spa controller holds a cue through a delay,
then opens the projection of one of two spiking populations onto a motor population.

The task (a delayed-response / delayed-match task; one trial every ``TRIAL`` ms, run back to
back in one session):

* cue (0-100 ms): one of two cue populations (``cue A``, ``cue B``: 20 spike sources each)
  fires at 60 Hz Poisson (the other at 2 Hz, noise); the cue of each trial is drawn from the
  seeded trial generator;
* delay (100-400 ms): nothing signals the cue any more; the controller must remember it;
* go (400-550 ms): the controller opens the gate of the projection from the premotor population
  matching the cue (``A`` or ``B``: 40 IF_curr_exp cells each, both tonically active at ~30 Hz)
  onto its half of the ``motor`` population (80 IF_curr_exp cells: A drives cells 0-39, B cells
  40-79), and keeps the other closed;
* reset (550-600 ms): the memory is cleared (its neurons inhibited).

The controller (``neurohybrid.controllers.nengo_adapter.NengoController``, stepped every
``PERIOD`` ms at Nengo's dt of 1 ms) is a nengo-spa network: a ``spa.State`` working memory
(16-D semantic pointers, 800 LIF neurons, feedback 1 through 100 ms: an integrator) fed by the
cue populations' mean rates (``0.75 rate / 60 Hz`` times the pointer ``A`` or ``B``), and two
selection ensembles (50 neurons each, intercepts 0.3-0.9) that read the memory's similarity
to ``A`` and ``B``, held silent by inhibition except during the go phase. Each selection
ensemble's decoded ``x > 0.5`` is one gate (a ``sim.Field`` gating one projection, clipped to
[0, 1]). A trial is correct when the cued half of the motor population fires at least 5 Hz
more than the other half over the go window.

The figure: the controller's state (memory similarity to A and B), the two gate values, and
rasters of the cues, premotor populations and motor population, for the first trials.
Outputs: ``working_memory.png``, ``working_memory.h5``.

    python examples/working_memory.py [--trials 6] [--seed 1] [--output DIR]
"""
from __future__ import annotations

import argparse
import os

import numpy as np

import neurohybrid.pynn as sim

TRIAL = 600.0              # ms per trial
CUE, DELAY_END, GO_END = 100.0, 400.0, 550.0   # ms within a trial: cue end, go start, go end
PERIOD = 5.0               # ms, the controller's period
N_CUE, N_PRE = 20, 40      # cells per cue population, per premotor population (motor: 2 N_PRE)
CUE_RATE, NOISE_RATE = 60.0, 2.0   # Hz
D = 16                     # semantic pointer dimensions


def cue_spikes(cues: list, rng: np.random.Generator) -> tuple[list, list]:
    """Spike times (ms) of the two cue populations for the trial cues ``cues`` (0: A, 1: B):
    Poisson at CUE_RATE during the cue of a trial cueing the population, NOISE_RATE otherwise."""
    out = ([[] for _ in range(N_CUE)], [[] for _ in range(N_CUE)])
    for k, cue in enumerate(cues):
        for which in (0, 1):
            rate = CUE_RATE if cue == which else NOISE_RATE
            for cell in range(N_CUE):
                n = rng.poisson(rate * CUE * 1e-3)
                times = np.sort(rng.uniform(0.0, CUE, n)) + k * TRIAL + 1.0
                out[which][cell].extend(np.round(times, 1).tolist())
    return tuple([sorted(set(t)) for t in pop] for pop in out)


def phase(t_ms: float) -> float:
    """Where ``t_ms`` falls in its trial (ms since the trial's start)."""
    return t_ms % TRIAL


def spa_controller(seed: int):
    """The nengo-spa network and the NengoController around it (module docstring); returns
    (controller, network, memory probe, vocabulary)."""
    import nengo
    import nengo_spa as spa

    from neurohybrid.controllers.nengo_adapter import NengoController
    vocab = spa.Vocabulary(D, pointer_gen=np.random.RandomState(seed))
    vocab.populate("A; B")
    va, vb = vocab["A"].v, vocab["B"].v
    with spa.Network(seed=seed) as net:
        memory = spa.State(vocab, feedback=1.0, feedback_synapse=0.1)
        sel = nengo.networks.EnsembleArray(50, 2, intercepts=nengo.dists.Uniform(0.3, 0.9),
                                           encoders=nengo.dists.Choice([[1.0]]))
        nengo.Connection(memory.output, sel.input, transform=np.vstack([va, vb]), synapse=0.01)
        go = lambda t: 0.0 if DELAY_END <= phase(t * 1e3) < GO_END else 1.0  # noqa: E731
        reset = lambda t: 1.0 if phase(t * 1e3) >= GO_END else 0.0  # noqa: E731
        hold, clear = nengo.Node(go), nengo.Node(reset)
        for ens in sel.ensembles:
            nengo.Connection(hold, ens.neurons, transform=-3.0 * np.ones((ens.n_neurons, 1)), synapse=None)
        for ens in memory.all_ensembles:
            nengo.Connection(clear, ens.neurons, transform=-3.0 * np.ones((ens.n_neurons, 1)), synapse=None)
        probe = nengo.Probe(memory.output, synapse=0.01, sample_every=PERIOD * 1e-3)
    step = lambda x: float(x[0] > 0.5)  # noqa: E731
    ctl = NengoController(
        "wm", net,
        inputs={"cue_a": (memory.input, N_CUE, lambda r: 0.75 * r.mean() / CUE_RATE * va),
                "cue_b": (memory.input, N_CUE, lambda r: 0.75 * r.mean() / CUE_RATE * vb)},
        outputs={"gate_a": (sel.ensembles[0], 0.005, step), "gate_b": (sel.ensembles[1], 0.005, step)},
        dt=1.0, period=PERIOD, seed=seed)
    return ctl, net, probe, vocab


def build(cues: list, seed: int, recording_path: str | None = None) -> dict:
    """The session: cue populations, premotor A and B, motor, the SPA controller and its two
    gates. Returns the objects by name."""
    sim.setup(timestep=0.1, seed=seed, recording_path=recording_path)
    rng = np.random.default_rng(seed)
    times_a, times_b = cue_spikes(cues, rng)
    cue_a = sim.Population(N_CUE, sim.SpikeSourceArray(spike_times=times_a), label="cue A")
    cue_b = sim.Population(N_CUE, sim.SpikeSourceArray(spike_times=times_b), label="cue B")
    cell = sim.IF_curr_exp(i_offset=0.8)
    pre = {k: sim.Population(N_PRE, cell, label=k) for k in ("A", "B")}
    motor = sim.Population(2 * N_PRE, sim.IF_curr_exp(), label="motor")
    noise = sim.Population(2 * N_PRE, sim.SpikeSourcePoisson(rate=400.0), label="noise")
    sim.Projection(noise[:N_PRE], pre["A"], sim.OneToOneConnector(), sim.StaticSynapse(weight=0.2, delay=1.0))
    sim.Projection(noise[N_PRE:], pre["B"], sim.OneToOneConnector(), sim.StaticSynapse(weight=0.2, delay=1.0))
    sim.Projection(noise, motor, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.1, delay=1.0))
    prj = {}
    for k, offset in (("A", 0), ("B", N_PRE)):
        pairs = [(i, offset + j, 0.5, 1.0) for i in range(N_PRE) for j in range(N_PRE) if rng.random() < 0.25]
        prj[k] = sim.Projection(pre[k], motor, sim.FromListConnector(pairs, column_names=["weight", "delay"]),
                                sim.StaticSynapse(), label=f"{k}_motor")
    ctl, net, probe, vocab = spa_controller(seed)
    c = sim.Controller(ctl, read={"cue_a": cue_a, "cue_b": cue_b}, period=PERIOD)
    clip = lambda v: np.clip(v, 0.0, 1.0)  # noqa: E731
    gates = {"A": sim.Field("gate A", source=(c, "gate_a")).gate(prj["A"], fn=clip),
             "B": sim.Field("gate B", source=(c, "gate_b")).gate(prj["B"], fn=clip)}
    for p in (cue_a, cue_b, pre["A"], pre["B"], motor):
        p.record("spikes")
    return {"cue_a": cue_a, "cue_b": cue_b, "pre": pre, "motor": motor, "ctl": ctl, "probe": probe,
            "vocab": vocab, "gates": gates, "prj": prj}


def spike_arrays(pop) -> list:
    return [np.asarray(st.magnitude) for st in pop.get_data().segments[0].spiketrains]


def score(cues: list, motor_spikes: list) -> np.ndarray:
    """Per trial: the motor halves' rates (Hz) over the go window, [trials, 2] (A half, B half)."""
    rates = np.zeros((len(cues), 2))
    for k in range(len(cues)):
        lo, hi = k * TRIAL + DELAY_END, k * TRIAL + GO_END
        for half in (0, 1):
            n = sum(int(((s >= lo) & (s < hi)).sum()) for s in motor_spikes[half * N_PRE:(half + 1) * N_PRE])
            rates[k, half] = n / N_PRE / ((hi - lo) * 1e-3)
    return rates


def correct(cues: list, rates: np.ndarray, margin: float = 5.0) -> np.ndarray:
    """A trial is correct when the cued half fires ``margin`` Hz more than the other half."""
    c = np.asarray(cues)
    return rates[np.arange(len(c)), c] >= rates[np.arange(len(c)), 1 - c] + margin


def gating_latency(cues: list, gates: dict, motor_spikes: list) -> float:
    """Gate command -> change of target rate (ms), over the trials: from the first controller
    sample of a go phase whose gate (of the cued half) exceeds 0.5, to the first 1 ms bin where
    the trial-averaged rate of the gated motor half (smoothed over 3 ms) exceeds half way from
    its rate before the command to its rate over the last 100 ms of the go window."""
    lats_cmd, psth = [], np.zeros(250)
    for k, cue in enumerate(cues):
        g = gates["AB"[cue]]
        t, v = g["times"], g["values"][:, 0]
        sel = (t >= k * TRIAL + DELAY_END - 50) & (t < k * TRIAL + GO_END) & (v > 0.5)
        if not sel.any():
            continue
        t_cmd = float(t[sel][0])
        lats_cmd.append(t_cmd)
        cells = motor_spikes[cue * N_PRE:(cue + 1) * N_PRE]
        s = np.concatenate(cells) - t_cmd + 100.0
        psth += np.histogram(s, bins=250, range=(0.0, 250.0))[0]
    if not lats_cmd:
        return float("nan")
    rate = np.convolve(psth / len(lats_cmd) / N_PRE * 1e3, np.ones(3) / 3, mode="same")
    before, after = rate[50:100].mean(), rate[150:250].mean()
    cross = np.nonzero(rate[100:] > before + 0.5 * (after - before))[0]
    return float(cross[0]) if cross.size else float("nan")


def run(trials: int, seed: int, recording_path: str | None = None) -> dict:
    """Run ``trials`` trials; returns cues, per-trial rates, correctness, latency (ms), the
    controller's similarity trace and the recorded data for the figure."""
    cues = list(np.random.default_rng(seed + 1000).integers(0, 2, trials))
    objs = build(cues, seed, recording_path)
    sim.run(trials * TRIAL)
    motor = spike_arrays(objs["motor"])
    gates = {k: f.get_data() for k, f in objs["gates"].items()}
    rates = score(cues, motor)
    mem = objs["ctl"].sim.data[objs["probe"]]
    sims = mem @ np.vstack([objs["vocab"]["A"].v, objs["vocab"]["B"].v]).T
    out = {"cues": cues, "rates": rates, "correct": correct(cues, rates),
           "latency_ms": gating_latency(cues, gates, motor), "gates": gates, "similarity": sims,
           "sim_times": PERIOD * np.arange(1, sims.shape[0] + 1) - PERIOD + 1.0,
           "rasters": {p.label: spike_arrays(p) for p in (objs["cue_a"], objs["cue_b"], objs["pre"]["A"],
                                                          objs["pre"]["B"])},
           "motor": motor, "n_nengo": objs["ctl"].describe()["n_neurons"]}
    sim.end()
    return out


def plot(res: dict, path: str, show_trials: int = 3) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    t_end = min(len(res["cues"]), show_trials) * TRIAL
    fig, ax = plt.subplots(4, 1, figsize=(10, 9), sharex=True, gridspec_kw={"height_ratios": [1, 1, 1.4, 1.4]})
    keep = res["sim_times"] <= t_end
    ax[0].plot(res["sim_times"][keep], res["similarity"][keep, 0], label="memory . A")
    ax[0].plot(res["sim_times"][keep], res["similarity"][keep, 1], label="memory . B")
    ax[0].set_ylabel("SPA state\n(similarity)")
    ax[0].legend(loc="upper right", fontsize=8)
    for k, g in res["gates"].items():
        keep = g["times"] <= t_end
        ax[1].plot(g["times"][keep], g["values"][keep, 0], label=f"gate {k} -> motor")
    ax[1].set_ylabel("gate")
    ax[1].legend(loc="upper right", fontsize=8)
    row, ticks = 0, []
    for label, trains in res["rasters"].items():
        for s in trains:
            s = s[s <= t_end]
            ax[2].plot(s, np.full(s.size, row), "|", ms=2, color="C0" if "A" in label else "C1")
            row += 1
        ticks.append((row - len(trains) / 2, label))
    ax[2].set_yticks([r for r, _ in ticks], [lab for _, lab in ticks])
    for i, s in enumerate(res["motor"]):
        s = s[s <= t_end]
        ax[3].plot(s, np.full(s.size, i), "|", ms=2, color="C0" if i < N_PRE else "C1")
    ax[3].set_ylabel("motor cell\n(A half | B half)")
    for a in ax:
        for k in range(min(len(res["cues"]), show_trials)):
            a.axvspan(k * TRIAL, k * TRIAL + CUE, color="0.9", zorder=0)
            a.axvspan(k * TRIAL + DELAY_END, k * TRIAL + GO_END, color="#e6f2e6", zorder=0)
    ax[0].set_title("cues: " + " ".join("AB"[c] for c in res["cues"][:show_trials]) +
                    "   (grey: cue, green: go)")
    ax[3].set_xlabel("time (ms)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "output"))
    args = ap.parse_args()
    os.makedirs(args.output, exist_ok=True)
    res = run(args.trials, args.seed, os.path.join(args.output, "working_memory.h5"))
    print(f"controller: nengo-spa, {res['n_nengo']} Nengo neurons, period {PERIOD} ms")
    for k, (cue, r, ok) in enumerate(zip(res["cues"], res["rates"], res["correct"])):
        print(f"trial {k}: cue {'AB'[cue]}, motor A half {r[0]:.1f} Hz, B half {r[1]:.1f} Hz: "
              f"{'correct' if ok else 'wrong'}")
    print(f"correct {int(res['correct'].sum())}/{len(res['cues'])}; gating latency {res['latency_ms']:.1f} ms")
    path = os.path.join(args.output, "working_memory.png")
    plot(res, path)
    print("outputs:", path)


if __name__ == "__main__":
    main()
