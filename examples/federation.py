"""The federation: the brain-partition library's modules in one whole-brain scaffold, one run.

The scaffold is The Virtual Brain's 96-region connectome (tvb-data ``connectivity_96``: the
76 cortical regions of the Kötter-Wanke map plus thalamus and basal ganglia; the 76-region one
has neither) running the reduced Wong-Wang excitatory/inhibitory model (Deco et al. 2014) with
delays and noise. Library modules (``neurohybrid.library``) take over four regions, each with
one ``Federation.place`` call, and the rest join through module-to-module projections and fields:

=================  ===============  ==========================================================
module             where            coupling
=================  ===============  ==========================================================
cortex (PD14)      ``RM-PFCdl_R``   seam: E layers -> S_e, I layers -> S_i; afferent -> L4E/L6E
thalamus (TC/RE)   ``TM-F_R``       seam: TC -> S_e, RE -> S_i; L6E -> TC/RE; TC -> L4E
hippocampus (CA3)  ``RM-HC_R``      seam: PC -> S_e, BC -> S_i
basal ganglia      ``BG-Pu_R``      seam: STN -> S_e, GPe+GPi -> S_i; L5E -> D1; VTA dopamine
cerebellum         (no region)      DCN -> thalamus TC (cerebello-thalamic), if installed
VTA / LC / BF      (brainstem)      dopamine -> basal ganglia; noradrenaline -> CA3 gain;
                                    acetylcholine -> thalamic tone (burst <-> tonic)
=================  ===============  ==========================================================

The cortex runs on the Loihi path (the fixed-point emulator, Loihi 2 arithmetic); the other
modules on the float emulator (Izhikevich thalamic cells have no Loihi form; the nuclei's
second-long delay lines exceed Loihi's 64-step delays); ``sim.placement()`` says which. A pure scaffold run with the same noise is the reference for the scaffold's FC.

Writes ``federation.h5`` (the run: spikes, scaffold activity, fields, manifest), ``pure.h5`` and
``federation.png`` (scaffold activity, a raster per module, the fields, FC pure vs federated).

    python examples/federation.py [--duration 2000] [--scale 1.0] [--lava-check 20] [--output DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np

import neurohybrid.pynn as sim
from neurohybrid.errors import LavaUnavailableWarning, ParameterError
from neurohybrid.library import basal_ganglia, cortex, hippocampus, nuclei, thalamus
from neurohybrid.library.federation import Federation, operating_rates

MODEL = dict(G=0.01)          # ReducedWongWangExcInh global coupling (as examples/hybrid_brain.py)
NOISE = 1e-6                  # additive noise on the gating variables
SPEED = 3.0                   # mm/ms
ACTIVITY_INTERVAL = 10.0      # ms
REGIONS = {"cortex": "RM-PFCdl_R", "thalamus": "TM-F_R", "hippocampus": "RM-HC_R", "basal_ganglia": "BG-Pu_R"}
#: which populations of each placed module drive which scaffold variable (pooled mean rate)
SEAMS = {"cortex": {"S_e": ["L23E", "L4E", "L5E", "L6E"], "S_i": ["L23I", "L4I", "L5I", "L6I"]},
         "thalamus": {"S_e": ["TC"], "S_i": ["RE"]},
         "hippocampus": {"S_e": ["PC"], "S_i": ["BC"]},
         # the module's only excitatory nucleus (STN) stands for the region's excitatory activity:
         # the striatal cells are silent at tonic input (as in Humphries et al. 2006)
         "basal_ganglia": {"S_e": ["STN"], "S_i": ["GPe", "GPi"]}}
CALIBRATION = 300.0           # ms of the open-loop calibration run


def connectome() -> sim.Connectome:
    """TVB's 96-region connectome; a synthetic stand-in with these labels (and a note) without tvb-data."""
    try:
        import tvb_data
        return sim.Connectome.from_tvb_zip(os.path.join(os.path.dirname(tvb_data.__file__), "connectivity",
                                                        "connectivity_96.zip"))
    except (ImportError, ParameterError) as err:
        print(f"note: {err}; using a synthetic 96-region connectome", file=sys.stderr)
        conn = sim.Connectome.synthetic(96, seed=1)
        labels = list(conn.labels)
        labels[:4] = list(REGIONS.values())
        return sim.Connectome(conn.weights, conn.lengths, labels, conn.centres, name="synthetic96")


def settled_state(conn, warmup: float = 2000.0) -> np.ndarray:
    """The scaffold's state after ``warmup`` ms, so both runs start on the attractor."""
    from neurohybrid.backends.meanfield import MeanFieldSimulation
    mf = MeanFieldSimulation(conn, sim.ReducedWongWangExcInh(**MODEL), sim.LinearCoupling(a=1.0), SPEED, 0.1,
                             sim.HeunStochastic(nsig=NOISE, seed=99), [], np.array([0.1, 0.1]))
    mf.run(warmup)
    return mf.state


def scaffold(conn, x0) -> sim.WholeBrain:
    brain = sim.WholeBrain(conn, model=sim.ReducedWongWangExcInh(**MODEL), coupling=sim.LinearCoupling(a=1.0),
                           speed=SPEED, integrator=sim.HeunStochastic(nsig=NOISE, seed=1), initial_state=x0)
    brain.record(["S_e", "S_i"], sampling_interval=ACTIVITY_INTERVAL)
    return brain


def setup(path: str, seed: int = 7) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim.setup(timestep=0.1, seed=seed, backend="emulator", recording_path=path)


# ------------------------------------------------------------------------------ the federation
def federate(conn, x0, scale: float = 1.0, calibration: dict | None = None,
             cortex_engine: str = "emulator-fixed") -> tuple[Federation, dict, dict]:
    """The scaffold with every module in the current session: returns the Federation, the
    modules by name and the populations recording spikes ("module:population" -> population).
    ``calibration``: {module: {variable: factor}} on each seam (see :func:`calibrate`);
    ``cortex_engine``: where the cortex runs (the Loihi path: its emulator, or ``"lava"``)."""
    calibration = calibration or {}
    fed = Federation(sim, scaffold(conn, x0))
    n = lambda k: max(2, int(round(k * scale)))  # noqa: E731 - module sizes at this scale
    vta = fed.add(nuclei.vta(sim, scale=0.5 * scale))
    lc = fed.add(nuclei.locus_coeruleus(sim, scale=0.5 * scale))
    bf = fed.add(nuclei.basal_forebrain(sim, scale=0.5 * scale))
    ctx = cortex.cortex(sim, n_scale=0.01 * scale, k_scale=0.05, seed=1, region=REGIONS["cortex"])
    # acetylcholine as the thalamus' depolarising tone: reference ACh 1 -> 0 nA (tonic); low ACh bursts
    tone = nuclei.another_field(bf, "ACh.thalamus")
    tone.node.fn = lambda c: 0.003 * (np.minimum(np.asarray(c), 2.0) - 1.0)
    th = thalamus.thalamus(sim, n_tc=n(40), n_re=n(40), seed=2, region=REGIONS["thalamus"],
                           cortex=ctx.populations["L6E"], tone=tone)
    hc = hippocampus.hippocampus(sim, n_place=n(40), seed=3, region=REGIONS["hippocampus"], label="CA3")
    # noradrenaline as gain on the hippocampal cells (adaptive gain: 1 = the phasic-mode tonic level).
    # Not on the cortex: on the Loihi path a gain rescales the weights, a rebuild per field sample
    lc.port("noradrenaline").target.modulate([hc.populations["PC"], hc.populations["BC"]], "gain",
                                             fn=lambda c: 1.0 + 0.05 * (np.asarray(c) - 1.0))
    bg = basal_ganglia.basal_ganglia(sim, n_per_channel=n(16), seed=4, region=REGIONS["basal_ganglia"],
                                     dopamine=vta.port("dopamine").target, dopamine_scale=0.3)
    inputs = {"cortex": (["L4E", "L6E"], 0.0878), "thalamus": (["TC"], 0.5), "hippocampus": (["PC"], 0.002),
              "basal_ganglia": (["D1", "D2", "STN"], 0.05)}
    modules = {"cortex": ctx, "thalamus": th, "hippocampus": hc, "basal_ganglia": bg}
    for name, module in modules.items():
        targets, weight = inputs[name]
        fed.place(module, REGIONS[name], seam=SEAMS[name], inputs=targets, weight=weight, gain=20.0,
                  scale=calibration.get(name), engine=cortex_engine if name == "cortex" else None)
    fed.connect(th, "spikes", ctx, "L4E", weight=0.0878, delay=2.0)
    fed.connect(ctx, "L5E.spikes", bg, "D1", weight=0.02, delay=5.0)
    modules.update(vta=vta, lc=lc, bf=bf)
    cb = _cerebellum(fed, th, scale)
    if cb is not None:
        modules["cerebellum"] = cb
    recorded = {}
    for name, m in modules.items():
        for label, pop in m.populations.items():
            if isinstance(pop, sim.Population) and type(pop.celltype).__name__ in sim.list_standard_models() \
                    and not type(pop.celltype).__name__.startswith("SpikeSource"):
                pop.record("spikes")
                recorded[f"{name}:{label}"] = pop
    return fed, modules, recorded


def _cerebellum(fed, th, scale):
    """The cerebellar timing circuit, without a region of its own: its deep nuclei excite the
    thalamus' relay cells (the cerebello-thalamic pathway). None where the module is missing."""
    try:
        from neurohybrid.library import cerebellum
    except ImportError:
        return None
    cb = cerebellum.cerebellum(sim, n_granule=max(100, int(round(500 * scale / 50)) * 50), seed=5)
    port = next(p.name for p in cb.outputs() if p.kind == "spikes" and "DCN" in p.name.upper())
    fed.connect(cb, port, th, "TC", weight=0.5, delay=3.0)
    return cb


# ------------------------------------------------------------------------------ runs
def run_pure(conn, x0, duration, path):
    setup(path)
    brain = scaffold(conn, x0)
    sim.run(duration)
    out = {v: brain.get_data(v)["values"] for v in ("S_e", "S_i")}
    sim.end()
    return out


def run_federation(conn, x0, duration, path, scale, calibration=None, cortex_engine="emulator-fixed"):
    setup(path)
    fed, modules, recorded = federate(conn, x0, scale, calibration, cortex_engine)
    placement = sim.placement(show=False)
    t0 = time.perf_counter()
    sim.run(duration)
    wall = time.perf_counter() - t0
    out = {v: fed.brain.get_data(v)["values"] for v in ("S_e", "S_i")}
    out["spikes"] = {key: [np.asarray(s.magnitude) for s in pop.get_data("spikes").segments[0].spiketrains]
                     for key, pop in recorded.items()}
    out["fields"] = {}
    for name, port in (("dopamine", modules["vta"].port("dopamine")), ("noradrenaline", modules["lc"].port(
            "noradrenaline")), ("acetylcholine", modules["bf"].port("acetylcholine"))):
        data = port.target.get_data()
        out["fields"][name] = (data["times"], data["values"][:, 0])
    out["report"] = fed.describe()
    out["placement"] = placement
    out["wall_s"] = wall
    sim.end()
    return out


def calibrate(conn, x0, pure, scale) -> dict:
    """Seam factors that put each placed module at its region's operating point: the rates
    that hold the region's mean S_e and S_i in the pure run (``operating_rates``) over the
    module's pooled seam rates in an open-loop run of CALIBRATION ms: {module: {variable: factor}}."""
    settle = max(1, pure["S_e"].shape[0] // 10)
    run = run_federation(conn, x0, CALIBRATION, None, scale)
    out = {}
    for name, seam in SEAMS.items():
        r = conn.labels.index(REGIONS[name])
        target = operating_rates(sim.ReducedWongWangExcInh(**MODEL), pure["S_e"][settle:, r].mean(),
                                 pure["S_i"][settle:, r].mean())
        out[name] = {}
        for variable, labels in seam.items():
            trains = [t for label in labels for t in run["spikes"][f"{name}:{label}"]]
            rate = sum(len(t) for t in trains) / len(trains) / CALIBRATION * 1000.0
            out[name][variable] = float(np.clip(target[variable] / rate, 0.02, 50.0)) if rate > 0 else 1.0
    return out


def lava_check(conn, x0, scale, factors, duration) -> str:
    """The federation with the cortex on Lava and on the fixed-point emulator: identical spikes?"""
    try:
        import lava  # noqa: F401
    except ImportError:
        return "Lava not installed: skipped the Lava cross-check"
    runs = {}
    for engine in ("lava", "emulator-fixed"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", LavaUnavailableWarning)
            runs[engine] = run_federation(conn, x0, duration, None, scale, factors, engine)["spikes"]
        if any(issubclass(w.category, LavaUnavailableWarning) for w in caught):
            return "Lava cannot run here (fell back to the emulator): skipped the Lava cross-check"
    keys = [k for k in runs["lava"] if k.startswith("cortex:")]
    same = all(np.array_equal(a, b) for k in keys for a, b in zip(runs["lava"][k], runs["emulator-fixed"][k]))
    n = sum(len(s) for k in keys for s in runs["lava"][k])
    return (f"Lava cross-check ({duration:g} ms of the federation): cortex spikes "
            f"{'IDENTICAL' if same else 'DIFFERENT'} to the fixed-point emulator's ({n} spikes)")


def fc(x: np.ndarray, settle: int) -> np.ndarray:
    x = x[settle:] - x[settle:].mean(0)
    sd = x.std(0)
    sd[sd == 0] = 1.0
    return (x / sd).T @ (x / sd) / x.shape[0]


def fc_similarity(a: np.ndarray, b: np.ndarray) -> float:
    iu = np.triu_indices(a.shape[0], 1)
    return float(np.corrcoef(a[iu], b[iu])[0, 1])


def rates(spikes: dict, duration: float) -> dict:
    """Mean rate (Hz) per recorded population."""
    return {k: float(sum(len(s) for s in v) / max(1, len(v)) / duration * 1000.0) for k, v in spikes.items()}


# ------------------------------------------------------------------------------ figure
def figure(conn, pure, fed, duration, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=(15, 10))
    grid = fig.add_gridspec(3, 3)
    t = np.arange(pure["S_e"].shape[0]) * ACTIVITY_INTERVAL
    ax = fig.add_subplot(grid[0, :2])
    for k, (name, region) in enumerate(REGIONS.items()):
        r = conn.labels.index(region)
        ax.plot(t, pure["S_e"][:, r], color=f"C{k}", ls="--", lw=1)
        ax.plot(t, fed["S_e"][:, r], color=f"C{k}", lw=1.5, label=f"{region} ({name})")
    ax.set(xlabel="time (ms)", ylabel="S_e", title="scaffold: placed regions (solid federated, dashed pure)")
    ax.legend(fontsize=7, loc="upper right")
    ax = fig.add_subplot(grid[0, 2])
    settle = max(1, pure["S_e"].shape[0] // 10)
    fp, ff = fc(pure["S_e"], settle), fc(fed["S_e"], settle)
    iu = np.triu_indices(fp.shape[0], 1)
    ax.plot(fp[iu], ff[iu], ".", ms=1, alpha=0.4)
    ax.plot([-1, 1], [-1, 1], "k-", lw=0.5)
    ax.set(xlabel="FC pure", ylabel="FC federated", title=f"scaffold FC (r = {fc_similarity(fp, ff):.3f})")
    ax = fig.add_subplot(grid[1:, :2])
    offset, ticks, labels = 0, [], []
    for k, (key, trains) in enumerate(sorted(fed["spikes"].items())):
        trains = trains[:60]
        for i, s in enumerate(trains):
            ax.plot(s, np.full(len(s), offset + i), "|", ms=2, color=f"C{k % 10}")
        ticks.append(offset + len(trains) / 2)
        labels.append(key)
        offset += len(trains) + 5
    ax.set_yticks(ticks, labels, fontsize=6)
    ax.set(xlabel="time (ms)", xlim=(0, duration), title="modules (up to 60 cells each)")
    ax = fig.add_subplot(grid[1, 2])
    for name, (tf, v) in fed["fields"].items():
        ax.plot(tf, v, label=name)
    ax.set(xlabel="time (ms)", ylabel="concentration (1 = tonic)", title="neuromodulatory fields")
    ax.legend(fontsize=7)
    ax = fig.add_subplot(grid[2, 2])
    r = rates(fed["spikes"], duration)
    keys = sorted(r)
    ax.barh(range(len(keys)), [r[k] for k in keys])
    ax.set_yticks(range(len(keys)), keys, fontsize=5)
    ax.set(xlabel="rate (Hz)", title="population rates")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=2000.0, help="brain time, ms")
    parser.add_argument("--scale", type=float, default=1.0, help="module size factor")
    parser.add_argument("--output", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "output"))
    parser.add_argument("--lava-check", type=float, default=0.0, help="ms (>= 20) of the federation run with the "
                        "cortex through Lava and through the fixed-point emulator, compared (0: skip; Lava "
                        "compiles the cortex for about 1.5 minutes, so the demo skips it)")
    args = parser.parse_args(argv)
    os.makedirs(args.output, exist_ok=True)
    conn = connectome()
    x0 = settled_state(conn)
    pure = run_pure(conn, x0, args.duration, os.path.join(args.output, "pure.h5"))
    factors = calibrate(conn, x0, pure, args.scale)
    print("seam calibration (factor on each module's pooled rate):", json.dumps(factors))
    fed = run_federation(conn, x0, args.duration, os.path.join(args.output, "federation.h5"), args.scale, factors)
    print("placement:")
    for label, row in fed["placement"].items():
        print(f"  {label}: {row['engine']} ({row['reason']})")
    for m in fed["report"]["modules"]:
        print(f"module {m['module']}: region {m['region']}, seam {m['seam']}")
    settle = max(1, pure["S_e"].shape[0] // 10)
    similarity = fc_similarity(fc(pure["S_e"], settle), fc(fed["S_e"], settle))
    finite = all(np.all(np.isfinite(fed[v])) for v in ("S_e", "S_i"))
    r = rates(fed["spikes"], args.duration)
    print(f"FC similarity (federated vs pure scaffold, S_e): r = {similarity:.3f}")
    if args.lava_check > 0:
        print(lava_check(conn, x0, args.scale, factors, max(args.lava_check, 2 * ACTIVITY_INTERVAL)))
    print(f"wall time {fed['wall_s']:.1f} s for {args.duration:.0f} ms of brain time")
    figure(conn, pure, fed, args.duration, os.path.join(args.output, "federation.png"))
    print("outputs:", ", ".join(os.path.join(args.output, f) for f in ("federation.h5", "pure.h5", "federation.png")))
    print(json.dumps({"fc_similarity": similarity, "finite": bool(finite), "wall_s": fed["wall_s"],
                      "duration_ms": args.duration, "modules": sorted(fed["report"]["modules"][i]["module"]
                                                                      for i in range(len(fed["report"]["modules"]))),
                      "rates_hz": r}))


if __name__ == "__main__":
    main()
