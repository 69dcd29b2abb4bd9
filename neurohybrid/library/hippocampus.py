"""CA3-like hippocampus: sequence learning in theta-paced exploration, replay in sharp waves.

The circuit and its protocol follow Ecker et al. (2022), "Hippocampal sharp wave-ripples and
the associated sequence replay emerge from structured synaptic interactions in a network model
of area CA3", eLife 11:e71850 (code: github.com/KaliLab/ca3net):

* **cells**: CA3 pyramidal cells (``"CA3_PC"``) and perisomatic basket cells (``"CA3_BC"``) as
  adaptive exponential integrate-and-fire cells with conductance synapses, with the fitted
  parameters of Ecker et al. 2022 (Methods, "Single cell models"; ``spw_network.py``). The
  model's dual-exponential synapses become single exponentials with the published decay
  times (PC AMPA 9.5 ms, PC GABA 3.3 ms, BC AMPA 4.1 ms, BC GABA 1.2 ms).
* **exploration**: the animal runs laps of a linear track; each place cell's input is an
  inhomogeneous Poisson process (peak 40 Hz; Ecker et al.: 20 Hz) with a Gaussian place field
  (30 cm) multiplied by
  a rectified theta cosine whose preferred phase precesses by 180 deg across the field (Ecker
  et al. 2022 Eq. 1, after O'Keefe & Recce 1993 and Skaggs et al. 1996). Within one theta
  cycle the cells whose fields lie ahead fire later: the track order, compressed to ~10 ms
  lags (Skaggs et al. 1996; Mehta, Lee & Wilson 2002), which pair-based STDP (Ecker's
  asymmetric rule: tau = 20 ms, A+ = A-) writes into the recurrent PC->PC weights. Ecker et
  al. learn over 400 s (~40 laps) with A = 0.01 of w_max per pair; here 3 laps, so the peak
  rate is doubled and A = 0.2 (the learned weights are comparable, the run 10x shorter).
* **ACh** switches the two modes (Hasselmo 1999, Trends Cogn Sci 3:351): high during
  exploration (septal cholinergic drive: plasticity on, recurrent CA3 transmission
  suppressed, so the input, not the network, sets the spike timing, as in Ecker et al.'s
  learning run on the spike trains alone), decaying (tau 100 ms) at rest, where recurrent
  transmission is back and plasticity off. Two ``sim.Field`` s (sampled every 5 ms) from one
  septal source (a spike source firing every 2 ms through the exploration, so ACh saturates
  at 1; a ``basal forebrain`` nucleus could drive the same fields):
  ``plasticity_rate`` = ACh on the PCs, and a gain ``1 - 0.8 ACh`` on the PCs' synaptic input
  (the float emulator gates only static projections, so the suppression acts on all of the
  PCs' synaptic input and the afferent place drive ``w_input`` is scaled to survive it).
* **rules**: ``rule="asymmetric"`` (default; Ecker et al.'s "asym" pair rule) stores the
  direction of travel: forward replay only. ``rule="symmetric"``: the symmetric window of
  Mishra et al. (2016, Nat Commun 7:11552; Ecker et al.'s "sym" rule, tau = 62.5 ms) as
  PyNN's ``Vogels2011Rule`` (symmetric potentiation, a fixed depression per presynaptic
  spike); the weights then store the track's topology and a cue replays it forward from the
  start or in reverse from the end (Ecker et al. 2022 report replay in both directions with
  the symmetric rule).
* **sharp wave**: brief unspecific excitation (mossy-fibre-like Poisson drive to all PCs,
  below threshold alone) plus a cue to the cells at one end of the track; activity spreads
  along the learned weights, forward from the start (Diba & Buzsaki 2007) or, when the learned
  weights allow it (symmetric rule), backward from the end (Foster & Wilson 2006). Adaptation
  (b = 0.21 nA, tau_w = 85 ms) keeps the wave from turning back.

Scale: Ecker et al. use 8000 PCs (4000 place cells, 10 % connectivity) and 150 BCs; here the
place cells are all-to-all connected and the inhibition is scaled to the population
(``n_inh`` ~ n_place / 5). The check (issue 14): the replayed order's Spearman rank correlation
with the learned order (cells ranked by the track position they fired at in exploration)
>= 0.8 over seeded runs; see :func:`replay_correlation`.

Units: ms, mV, nF, uS (conductances), nA, Hz, cm (track), cm/s (speed).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from .base import Module, Port, Range, check_integer, check_parameters
from .cells import CellClass, SynapseFamily

SOURCE = ("Ecker A, Bagi B, Vertes E, Steinbach-Nemeth O, Karlocza MR, Papp OI, Miklos I, Hajos N, "
          "Freund TF, Gulyas AI, Kali S (2022) Hippocampal sharp wave-ripples and the associated "
          "sequence replay emerge from structured synaptic interactions in a network model of area "
          "CA3. eLife 11:e71850; ACh switch: Hasselmo ME (1999) Trends Cogn Sci 3:351-359")

CA3_PC = CellClass(
    name="CA3_PC", model="EIF_cond_exp_isfa_ista",
    parameters={
        "cm": Range(0.18013, 0.05, 0.5, "nF"),             # tau_mem * g_leak = 41.75 ms * 4.315 nS
        "tau_m": Range(41.749, 10.0, 100.0, "ms"),
        "v_rest": Range(-75.188, -85.0, -60.0, "mV"),
        "v_reset": Range(-29.739, -70.0, -20.0, "mV"),
        "v_thresh": Range(-24.426, -60.0, -20.0, "mV"),      # theta (V_T)
        "delta_T": Range(4.234, 0.5, 10.0, "mV"),
        "v_spike": Range(-24.426 + 5 * 4.234, -40.0, 10.0, "mV"),  # theta + 5 delta_T
        "a": Range(-0.27435, -2.0, 5.0, "nS"),
        "b": Range(0.20684, 0.0, 0.5, "nA"),
        "tau_w": Range(84.936, 10.0, 300.0, "ms"),
        "tau_refrac": Range(5.963, 0.5, 10.0, "ms"),
        "tau_syn_E": Range(9.5, 2.0, 20.0, "ms"),            # Guzman et al. 2016 (decay)
        "tau_syn_I": Range(3.3, 1.0, 10.0, "ms"),            # Bartos et al. 2002 (decay)
        "e_rev_E": Range(0.0, -10.0, 10.0, "mV"),
        "e_rev_I": Range(-70.0, -90.0, -60.0, "mV"),
        "i_offset": Range(0.0, -1.0, 1.0, "nA"),
    },
    synapses=(SynapseFamily("AMPA", "excitatory", 9.5, 0.0), SynapseFamily("GABA_A", "inhibitory", 3.3, -70.0)),
    plasticity=("STDPMechanism(SpikePairRule, AdditiveWeightDependence)",),
    source="Ecker et al. 2022 eLife 11:e71850, Methods (AdExpIF PC re-optimised to in vitro data)",
    initial_v=(-76.0, -74.0))

CA3_BC = CellClass(
    name="CA3_BC", model="EIF_cond_exp_isfa_ista",
    parameters={
        "cm": Range(0.11853, 0.03, 0.4, "nF"),             # 15.77 ms * 7.515 nS
        "tau_m": Range(15.773, 5.0, 40.0, "ms"),
        "v_rest": Range(-74.742, -85.0, -55.0, "mV"),
        "v_reset": Range(-64.992, -80.0, -45.0, "mV"),
        "v_thresh": Range(-57.709, -65.0, -40.0, "mV"),
        "delta_T": Range(4.584, 0.5, 10.0, "mV"),
        "v_spike": Range(-57.709 + 5 * 4.584, -50.0, 10.0, "mV"),
        "a": Range(3.0564, 0.0, 10.0, "nS"),
        "b": Range(0.000916, 0.0, 0.1, "nA"),
        "tau_w": Range(178.58, 10.0, 500.0, "ms"),
        "tau_refrac": Range(1.156, 0.5, 5.0, "ms"),
        "tau_syn_E": Range(4.1, 1.0, 10.0, "ms"),            # Lee et al. 2014 (decay)
        "tau_syn_I": Range(1.2, 0.5, 5.0, "ms"),             # Bartos et al. 2002 (decay)
        "e_rev_E": Range(0.0, -10.0, 10.0, "mV"),
        "e_rev_I": Range(-70.0, -90.0, -60.0, "mV"),
        "i_offset": Range(0.0, -1.0, 1.0, "nA"),
    },
    synapses=(SynapseFamily("AMPA", "excitatory", 4.1, 0.0), SynapseFamily("GABA_A", "inhibitory", 1.2, -70.0)),
    source="Ecker et al. 2022 eLife 11:e71850, Methods (AdExpIF PV+ basket cell)",
    initial_v=(-75.0, -74.0))

CELLS = (CA3_PC, CA3_BC)

#: module parameters: published value (or the value this reduced model uses) and range
PARAMETERS = {
    # exploration (Ecker et al. 2022, poisson_proc.py: 7 Hz theta, 32.4 cm/s, 30 cm fields, 20 Hz;
    # theta 4-12 Hz: Buzsaki 2002; peak rate doubled for 3 laps, see the module docstring)
    "theta_frequency": Range(8.0, 4.0, 12.0, "Hz"),
    "speed": Range(32.4, 5.0, 100.0, "cm/s"),
    "field_width": Range(30.0, 10.0, 100.0, "cm"),
    "field_spacing": Range(3.0, 0.5, 20.0, "cm"),
    "peak_rate": Range(40.0, 5.0, 60.0, "Hz"),
    "laps": Range(3, 1, 200, "laps"),
    "w_input": Range(0.5, 0.0, 2.0, "uS"),
    # recurrent STDP (Ecker et al. 2022 asymmetric rule: tau 20 ms, A+ = A-; A scaled for 3 laps)
    "tau_plus": Range(20.0, 5.0, 100.0, "ms"),
    "tau_minus": Range(20.0, 5.0, 100.0, "ms"),
    "A_plus": Range(0.2, 0.0, 1.0, "1"),
    "A_minus": Range(0.2, 0.0, 1.0, "1"),
    "w_max": Range(0.06, 0.0, 0.2, "uS"),
    # symmetric rule (rule="symmetric"; Mishra et al. 2016 window, tau of Ecker et al. 2022 sym)
    "tau_sym": Range(62.5, 10.0, 200.0, "ms"),
    "eta": Range(0.004, 0.0, 0.02, "uS"),
    "w_max_sym": Range(0.04, 0.0, 0.2, "uS"),
    "rho": Range(6.0, 0.0, 50.0, "Hz"),
    "w_init": Range(1e-5, 0.0, 0.1, "uS"),
    "delay_pc": Range(2.2, 0.1, 10.0, "ms"),                 # Guzman et al. 2016
    # inhibition (Ecker et al. 2022 weights, scaled to all-to-all connectivity of a small net)
    "w_pc_bc": Range(0.002, 0.0, 0.1, "uS"),
    "w_bc_pc": Range(0.002, 0.0, 0.1, "uS"),
    "w_bc_bc": Range(0.005, 0.0, 0.1, "uS"),
    "p_pc_bc": Range(0.25, 0.0, 1.0, "1"),
    "p_bc_pc": Range(0.5, 0.0, 1.0, "1"),
    # ACh switch (Hasselmo 1999; strong cholinergic suppression of CA3 recurrent synapses:
    # Hasselmo, Schnell & Barkai 1995)
    "ach_tau": Range(100.0, 10.0, 2000.0, "ms"),
    "ach_suppression": Range(0.8, 0.0, 0.95, "1"),
    "rest": Range(600.0, 100.0, 10000.0, "ms"),
    # sharp wave
    "swr_duration": Range(200.0, 50.0, 1000.0, "ms"),
    "swr_rate": Range(15.0, 0.0, 100.0, "Hz"),               # mossy fibres, Ecker et al. 2022
    "w_swr": Range(0.01, 0.0, 0.1, "uS"),
    "cue_fraction": Range(0.15, 0.01, 0.5, "1"),
    "w_cue": Range(0.1, 0.0, 0.5, "uS"),
}

DIRECTIONS = ("forward", "reverse")
RULES = ("asymmetric", "symmetric")


@dataclass(frozen=True)
class Phase:
    """One phase of the protocol: ``name`` (``"exploration"``, ``"rest"``, ``"replay_forward"``,
    ``"replay_reverse"``), ``start``/``stop`` (ms, session time)."""

    name: str
    start: float
    stop: float


def _check_replays(who: str, replays) -> tuple:
    if isinstance(replays, str):
        replays = (replays,)
    try:
        replays = tuple(replays)
    except TypeError:
        raise ParameterError(who, "replays", f"{replays!r}", "a sequence of 'forward', 'reverse'") from None
    if not replays or any(r not in DIRECTIONS for r in replays):
        raise ParameterError(who, "replays", f"{replays!r}", "a non-empty sequence of 'forward', 'reverse'")
    return replays


def schedule(params: dict, n_place: int, replays: tuple) -> list[Phase]:
    """The protocol's phases (ms): exploration (``laps`` runs along the track), then for each
    replay direction a rest (ACh decays) and a sharp wave."""
    lap = 1000.0 * n_place * params["field_spacing"] / params["speed"]
    phases, t = [Phase("exploration", 0.0, lap * params["laps"])], lap * params["laps"]
    for direction in replays:
        phases.append(Phase("rest", t, t + params["rest"]))
        t += params["rest"]
        phases.append(Phase(f"replay_{direction}", t, t + params["swr_duration"]))
        t += params["swr_duration"]
    return phases


def place_spikes(params: dict, n_place: int, t_stop: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Place-cell input spike times (ms) for the exploration (Ecker et al. 2022 Eq. 1): a
    homogeneous Poisson process at ``peak_rate`` thinned by
    ``G(x) * max(0, cos(2 pi f t - phi(x)))``, ``G`` a Gaussian of s.d. ``field_width / 4``
    around the cell's centre, ``phi`` precessing from 360 to 180 deg across the field."""
    spacing, width = params["field_spacing"], params["field_width"]
    centres = (np.arange(n_place) + 0.5) * spacing
    counts = rng.poisson(params["peak_rate"] * t_stop * 1e-3, n_place)
    cell = np.repeat(np.arange(n_place), counts)
    t = rng.uniform(0.0, t_stop, cell.size)
    x = position(params, n_place, t)
    d = x - centres[cell]
    field = np.exp(-d ** 2 / (2 * (width / 4) ** 2))
    phase = 1.5 * np.pi - np.pi * d / width
    theta = np.maximum(0.0, np.cos(2 * np.pi * params["theta_frequency"] * t * 1e-3 - phase))
    keep = rng.uniform(size=t.size) < field * theta
    return _trains(cell[keep], t[keep], n_place)


def position(params: dict, n_place: int, t) -> np.ndarray:
    """The animal's position (cm) at times ``t`` (ms): laps from 0 to the track's end."""
    length = n_place * params["field_spacing"]
    return np.mod(params["speed"] * np.asarray(t, dtype=float) * 1e-3, length)


def _trains(cell: np.ndarray, t: np.ndarray, n: int, dt: float = 0.1) -> list[np.ndarray]:
    """Per-cell sorted spike times rounded up to the grid ``dt`` (ms), one per step at most."""
    t = np.ceil(np.round(t / dt, 6)) * dt + dt
    order = np.lexsort((t, cell))
    cell, t = cell[order], t[order]
    keep = np.ones(t.size, bool)
    keep[1:] = (cell[1:] != cell[:-1]) | (t[1:] - t[:-1] > dt / 2)
    cell, t = cell[keep], t[keep]
    bounds = np.searchsorted(cell, np.arange(n + 1))
    return [np.round(t[bounds[i]:bounds[i + 1]], 4) for i in range(n)]


def sharp_wave_spikes(params: dict, n_place: int, phases: list[Phase], rng: np.random.Generator):
    """(cue trains, background trains) (ms) of the sharp-wave phases: the cue fires 3 spikes
    (5 ms apart) in the ``cue_fraction`` of cells at the start (forward) or end (reverse) of
    the track at the phase's start + 5 ms; the background is Poisson at ``swr_rate`` to
    every PC throughout each sharp wave."""
    n_cue = max(1, int(round(params["cue_fraction"] * n_place)))
    cue_cell, cue_t, bg_cell, bg_t = [], [], [], []
    for ph in phases:
        if not ph.name.startswith("replay_"):
            continue
        cells = np.arange(n_cue) if ph.name.endswith("forward") else np.arange(n_place - n_cue, n_place)
        for k in range(3):
            cue_cell.append(cells)
            cue_t.append(np.full(n_cue, ph.start + 5.0 + 5.0 * k))
        counts = rng.poisson(params["swr_rate"] * (ph.stop - ph.start) * 1e-3, n_place)
        bg_cell.append(np.repeat(np.arange(n_place), counts))
        bg_t.append(rng.uniform(ph.start, ph.stop, counts.sum()))
    cat = (lambda parts, dtype: np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype))
    return (_trains(cat(cue_cell, int), cat(cue_t, float), n_place),
            _trains(cat(bg_cell, int), cat(bg_t, float), n_place))


def hippocampus(sim, *, n_place: int = 100, n_inh: int | None = None, seed: int = 1, region: str | None = None,
                override: bool = False, replays=DIRECTIONS, rule: str = "asymmetric", label: str = "CA3",
                **params) -> Module:
    """Add the CA3 module to the current session of ``sim`` and return its handle.

    ``n_place``: place cells (PCs, one per ``field_spacing`` cm of track); ``n_inh``: basket
    cells (default ``max(2, n_place // 5)``); ``seed``: the module's random stream (inputs,
    connectivity, initial potentials); ``region``: the scaffold region it stands for (a name, or
    None); ``replays``: the sharp waves to schedule after the exploration, in order
    (``"forward"``: cue at the track's start, ``"reverse"``: at its end); ``rule``: the
    recurrent plasticity, ``"asymmetric"`` or ``"symmetric"`` (:func:`_timing`); ``label``: prefix of
    the populations and fields; ``params``: :data:`PARAMETERS` (units there). The stimuli of
    every phase are laid out at build time: run them with :func:`run_phases` (or ``sim.run``
    per ``extras["phases"]``), then read the result with :func:`replay_correlation`.
    """
    who = "hippocampus module"
    n_place = check_integer(who, "n_place", n_place, 10, 2000)
    n_inh = max(2, n_place // 5) if n_inh is None else check_integer(who, "n_inh", n_inh, 1, 500)
    seed = check_integer(who, "seed", seed, 0, 2 ** 31 - 100)
    if region is not None and not isinstance(region, str):
        raise ParameterError(who, "region", f"{region!r}", "a region name (str) or None")
    if not isinstance(label, str) or not label:
        raise ParameterError(who, "label", f"{label!r}", "a non-empty string")
    replays = _check_replays(who, replays)
    if rule not in RULES:
        raise ParameterError(who, "rule", f"{rule!r}", ", ".join(map(repr, RULES)))
    p, overrides = check_parameters(who, PARAMETERS, params, override)
    p["laps"] = check_integer(who, "laps", p["laps"], 1, 200)
    p["rule"] = rule
    phases = schedule(p, n_place, replays)
    rng = np.random.default_rng(seed)
    explore = phases[0]
    pcs = CA3_PC.population(sim, n_place, f"{label} PC", seed=seed, engine="emulator")
    bcs = CA3_BC.population(sim, n_inh, f"{label} BC", seed=seed + 1, engine="emulator")
    ports, extras = _wire(sim, p, pcs, bcs, phases, rng, label, seed)
    extras["phases"] = phases
    extras["centres"] = (np.arange(n_place) + 0.5) * p["field_spacing"]
    extras["exploration"] = (explore.start, explore.stop)
    return Module("hippocampus", {"PC": pcs, "BC": bcs, **extras.pop("sources")}, ports, {
        **p, "n_place": n_place, "n_inh": n_inh, "seed": seed, "replays": replays}, SOURCE,
        region=region, overrides=overrides, extras=extras)


def _wire(sim, p, pcs, bcs, phases, rng, label, seed):
    """The sources, projections and ACh fields of the module; (ports, extras)."""
    n = pcs.size
    explore = phases[0]
    place = place_spikes(p, n, explore.stop, rng)
    cue, background = sharp_wave_spikes(p, n, phases, rng)
    src = {"place": sim.Population(n, sim.SpikeSourceArray(spike_times=place), label=f"{label} place input"),
           "cue": sim.Population(n, sim.SpikeSourceArray(spike_times=cue), label=f"{label} cue"),
           "sharp wave": sim.Population(n, sim.SpikeSourceArray(spike_times=background), label=f"{label} sharp wave"),
           "septum": sim.Population(1, sim.SpikeSourceArray(
               spike_times=np.round(np.arange(1.0, explore.stop, 2.0), 1)), label=f"{label} septum")}
    one = sim.OneToOneConnector()
    prj = {
        "place": sim.Projection(src["place"], pcs, one, sim.StaticSynapse(weight=p["w_input"], delay=1.0),
                                receptor_type="excitatory", label=f"{label} place"),
        "cue": sim.Projection(src["cue"], pcs, one, sim.StaticSynapse(weight=p["w_cue"], delay=1.0),
                              receptor_type="excitatory", label=f"{label} cue"),
        "sharp wave": sim.Projection(src["sharp wave"], pcs, one, sim.StaticSynapse(weight=p["w_swr"], delay=1.0),
                                     receptor_type="excitatory", label=f"{label} sharp wave"),
    }
    w_max = p["w_max_sym"] if p["rule"] == "symmetric" else p["w_max"]
    stdp = sim.STDPMechanism(timing_dependence=_timing(sim, p),
                             weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=w_max),
                             weight=min(p["w_init"], w_max), delay=p["delay_pc"])
    prj["recurrent"] = sim.Projection(pcs, pcs, sim.AllToAllConnector(allow_self_connections=False), stdp,
                                      receptor_type="excitatory", label=f"{label} PC->PC")
    rngs = [sim.NumpyRNG(seed=seed + k) for k in (11, 12, 13)]
    for name, pre, post, prob, w, rec, delay, r in (
            ("PC->BC", pcs, bcs, p["p_pc_bc"], p["w_pc_bc"], "excitatory", 0.9, rngs[0]),
            ("BC->PC", bcs, pcs, p["p_bc_pc"], p["w_bc_pc"], "inhibitory", 1.1, rngs[1]),
            ("BC->BC", bcs, bcs, p["p_pc_bc"], p["w_bc_bc"], "inhibitory", 0.6, rngs[2])):
        prj[name] = sim.Projection(pre, post, sim.FixedProbabilityConnector(prob, rng=r),
                                   sim.StaticSynapse(weight=w, delay=delay), receptor_type=rec,
                                   label=f"{label} {name}")
    bounds = (0.0, 1.0)
    ach = sim.Field(f"{label}.ACh", source=src["septum"], tau=p["ach_tau"], release=1.0, bounds=bounds,
                    period=5.0)
    ach.modulate(pcs, "plasticity_rate", fn=lambda c: np.clip(c, 0.0, 1.0))
    # the engine gates only static projections: the suppression of recurrent transmission acts
    # as a gain on the PCs' synaptic input, the afferent drive (w_input) scaled to survive it
    s = p["ach_suppression"]
    suppress = sim.Field(f"{label}.ACh suppression", source=src["septum"], tau=p["ach_tau"], release=1.0,
                         bounds=bounds, period=5.0)
    suppress.modulate(pcs, "gain", fn=lambda c: 1.0 - s * np.clip(c, 0.0, 1.0))
    ports = {
        "place_in": Port("place_in", "spikes", "in", pcs, "ms",
                         "extrinsic excitation (EC/DG): project spikes onto the PCs (excitatory)"),
        "ACh": Port("ACh", "field", "in", ach, "1 (0..1)",
                    "cholinergic tone: plasticity rate of the PCs' recurrent synapses"),
        "ACh_suppression": Port("ACh_suppression", "field", "in", suppress, "1 (0..1)",
                                "cholinergic suppression of the PCs' synaptic input (gain 1 - s ACh)"),
        "PC_spikes": Port("PC_spikes", "spikes", "out", pcs, "ms", "place-cell spikes (sequences, replay)"),
        "BC_spikes": Port("BC_spikes", "spikes", "out", bcs, "ms", "basket-cell spikes"),
        "PC_rate": Port("PC_rate", "rates", "out", pcs, "Hz", "PC population rate (sim.spikes_to_rates)"),
    }
    return ports, {"projections": prj, "fields": {"ACh": ach, "ACh_suppression": suppress}, "sources": src}


def _timing(sim, p):
    """The recurrent rule's timing dependence: ``"asymmetric"``, Ecker et al.'s pair rule
    (tau+ = tau- = 20 ms, A+ = A-; pre-before-post potentiates, the reverse depresses), or
    ``"symmetric"``: Mishra et al.'s (2016) symmetric potentiation window (Ecker et al.'s
    "sym" rule, tau = 62.5 ms) as PyNN's Vogels2011Rule (both orders potentiate by ``eta``
    times ``exp(-|dt| / tau_sym)``; each presynaptic spike depresses by ``2 rho tau_sym eta``)."""
    if p["rule"] == "symmetric":
        return sim.Vogels2011Rule(tau=p["tau_sym"], eta=p["eta"], rho=p["rho"])
    return sim.SpikePairRule(tau_plus=p["tau_plus"], tau_minus=p["tau_minus"], A_plus=p["A_plus"],
                             A_minus=p["A_minus"])


def run_phases(sim, module: Module, phases=None) -> None:
    """``sim.run`` each of ``phases`` (default: all of the module's) for its duration."""
    for ph in module.extras["phases"] if phases is None else phases:
        sim.run(ph.stop - ph.start)


def learned_order(module: Module, trains) -> np.ndarray:
    """Each PC's place (cm): the mean track position at its exploration spikes (NaN: silent)."""
    t0, t1 = module.extras["exploration"]
    n = module.parameters["n_place"]
    out = np.full(n, np.nan)
    for i, st in enumerate(trains):
        st = st[(st >= t0) & (st < t1)]
        if st.size:
            out[i] = position(module.parameters, n, st).mean()
    return out


def replay_correlation(module: Module, trains, phase: str) -> dict:
    """The replayed order in ``phase`` against the learned order.

    ``trains``: the PCs' spike times (ms, one array per cell). In the sharp wave, each PC that
    fires (the cued cells excluded) is ranked by its first spike; ``rho`` is the Spearman rank
    correlation of that time with the learned place (:func:`learned_order`), sign-flipped
    for a reverse replay so that 1 is the expected order in both directions. Returns
    ``{"rho", "participation" (fraction of non-cued PCs firing), "cells", "first_spike" (ms
    after the phase's start, NaN: silent), "place" (cm)}``; ``rho`` is 0 when fewer than 5
    cells fire.
    """
    from scipy.stats import spearmanr
    matches = [ph for ph in module.extras["phases"] if ph.name == phase]
    if not matches:
        raise ParameterError("hippocampus module", "phase", f"no phase {phase!r}",
                             ", ".join(ph.name for ph in module.extras["phases"] if ph.name.startswith("replay")))
    ph, n = matches[0], module.parameters["n_place"]
    n_cue = max(1, int(round(module.parameters["cue_fraction"] * n)))
    cued = np.arange(n_cue) if phase.endswith("forward") else np.arange(n - n_cue, n)
    first = np.full(n, np.nan)
    for i, st in enumerate(trains):
        st = st[(st >= ph.start) & (st < ph.stop)]
        if st.size:
            first[i] = st[0] - ph.start
    place = learned_order(module, trains)
    ok = np.isfinite(first) & np.isfinite(place)
    ok[cued] = False
    cells = np.flatnonzero(ok)
    rho = 0.0
    if cells.size >= 5:
        rho = float(spearmanr(place[cells], first[cells])[0])
        rho = -rho if phase.endswith("reverse") else rho
    return {"rho": rho if np.isfinite(rho) else 0.0, "participation": cells.size / (n - n_cue),
            "cells": cells, "first_spike": first, "place": place}


def spike_trains(pop) -> list[np.ndarray]:
    """A recorded population's spike times (ms), one array per cell."""
    return [np.asarray(st.magnitude, dtype=float) for st in pop.get_data().segments[0].spiketrains]


def replay_experiment(sim, *, seeds=(1,), networks=None, n_place: int = 100, replays=DIRECTIONS,
                      timestep: float = 0.1, recording_path: str | None = None, **params) -> list[dict]:
    """The whole protocol in one session, with independent networks side by side: one per seed
    (labels ``CA3 s<seed>``), or ``networks``: a list of dicts, each a ``seed`` and the
    parameters that differ from ``params`` for that network (labels ``CA3 #<k> s<seed>``).
    Exploration, then the sharp waves. Returns one dict per network: ``{"seed", "rule",
    "module", "pc", "bc" (spike trains, ms), "weights" (n x n, uS, NaN on the diagonal),
    <phase>: replay_correlation(...) for each replay}``. ``params``: as :func:`hippocampus`."""
    who = "hippocampus replay_experiment"
    if networks is None:
        seeds = (seeds,) if isinstance(seeds, (int, np.integer)) else tuple(seeds)
        if not seeds or len(set(seeds)) != len(seeds):
            raise ParameterError(who, "seeds", f"{seeds!r}", "distinct integer seeds")
        specs = [(f"CA3 s{s}", {"seed": s}) for s in seeds]
    else:
        if not networks or not all(isinstance(d, dict) and "seed" in d for d in networks):
            raise ParameterError(who, "networks", f"{networks!r}", "a non-empty list of dicts with a 'seed'")
        specs = [(f"CA3 #{k} s{d['seed']}", d) for k, d in enumerate(networks)]
    sim.setup(timestep=timestep, seed=int(specs[0][1]["seed"]), **({} if recording_path is None else
                                                                   {"recording_path": recording_path}))
    mods = [hippocampus(sim, n_place=n_place, replays=replays, label=label, **{**params, **d}) for label, d in specs]
    for m in mods:
        m.populations["PC"].record("spikes")
        m.populations["BC"].record("spikes")
    run_phases(sim, mods[0])
    out = []
    for m in mods:
        pc = spike_trains(m.populations["PC"])
        res = {"seed": m.parameters["seed"], "rule": m.parameters["rule"], "module": m, "pc": pc,
               "bc": spike_trains(m.populations["BC"]),
               "weights": np.array(m.extras["projections"]["recurrent"].get("weight", format="array"), float)}
        for ph in m.extras["phases"]:
            if ph.name.startswith("replay_"):
                res[ph.name] = replay_correlation(m, pc, ph.name)
        out.append(res)
    sim.end()
    return out
