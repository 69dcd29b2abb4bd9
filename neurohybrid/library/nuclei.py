"""Neuromodulatory nuclei: small spiking nuclei whose spikes release the fields of the control issue.

Three modules, each a function ``module(sim, *, scale=1.0, seed=..., region=None, override=False,
**params)`` returning a :class:`~neurohybrid.library.base.Module`:

* :func:`vta` (VTA/SNc): dopamine (DA) neurons firing tonically at ~4-5 Hz whose phasic response
  is a reward-prediction error (RPE): a burst to an unexpected reward, after cue-reward pairing a
  burst to the cue and none at the predicted reward, a pause when a predicted reward is omitted
  (Schultz, Dayan & Montague 1997, Science 275:1593, Fig. 1). The RPE is the temporal-difference
  error of the project's :class:`~neurohybrid.controllers.TDCritic` (Montague, Dayan & Sejnowski
  1996, J Neurosci 16:1936: TD(0) on a "complete serial compound" stimulus representation,
  as in SDM 1997), computed from spikes: a tapped delay line of relay cells (one per TD step
  after the cue) is the critic's state, a reward relay its reward. The critic's error is a
  depolarising/hyperpolarising current on the DA cells, so bursts and pauses are spikes, and the
  ``"dopamine"`` field is released by those spikes (``sim.Field(source=DA population)``).
* :func:`locus_coeruleus` (LC): noradrenaline (NE) neurons with the two modes of the adaptive
  gain theory (Aston-Jones & Cohen 2005, Annu Rev Neurosci 28:403, Fig. 3): a *phasic* mode
  (low tonic rate, phasic bursts ~90 ms after salient targets: Aston-Jones et al. 1994, J Neurosci
  14:4467) and a *tonic* mode (elevated tonic rate, attenuated phasic responses: Rajkowski et al.
  1994; Usher et al. 1999, Science 283:549). The mode is the tonic drive (the ACC/OFC input of
  Aston-Jones & Cohen 2005); the attenuation is the alpha2-autoreceptor shunt: NE released in the
  LC opens GIRK channels (Williams, Henderson & North 1985, Neuroscience 14:95; Egan et al. 1983,
  J Physiol 345:477), scaling the LC cells' synaptic input by g_L / (g_L + g_GIRK(NE)). Output:
  a ``"noradrenaline"`` field (relative; 1 = phasic-mode tonic level) usable as gain on targets.
* :func:`basal_forebrain` (BF): cholinergic (ChAT) neurons whose rate follows an attention /
  exploration drive (Lee et al. 2005, J Neurosci 25:4365: ~0.5-2 Hz in quiet states, several Hz
  in active waking) and release an ``"acetylcholine"`` tone field with a slow clearance (seconds:
  Parikh et al. 2007, Neuron 56:141), usable as a depolarising current or excitability on targets
  (muscarinic closure of K+ leak / M current: McCormick & Prince 1986; McCormick 1992, Prog
  Neurobiol 39:337: the switch of thalamic relay cells from burst to tonic mode).

Every input port is a relay population (``RELAY`` cells): one presynaptic spike of weight
``RELAY_WEIGHT`` nA onto a relay cell makes one relay spike, so a caller drives a port by
projecting its own spikes onto ``module.port(name).target``. Every module also has an input
port ``"drive"`` of kind field: a current (nA) field on the nucleus's cells (e.g. a controller
switching the LC mode). Field values are dimensionless concentrations relative to the
nucleus's nominal tonic level (1 = the tonic release of the reference rate); map them to a
target's units with ``field.modulate(targets, modulates, fn)``; :func:`another_field` gives a
second field with the same dynamics for a target that needs another ``fn``.

Limits: the critic is a host controller (spikes in, one TD step per ``period``), so a DA
response lasts one TD step; the LC's modes come from its drive and the alpha2 shunt, not from
the electrotonic coupling of Usher et al. 1999 (gap junctions are not supported); the LC's
phasic latency is the salience input's (the ~90 ms of monkey LC include the upstream target
detection, which is the caller's); cell membranes are LIF stand-ins tuned to the published
firing, not fitted to the cells' electrophysiology.
"""
from __future__ import annotations

import numpy as np

from ..errors import ParameterError
from .base import Module, Port, Range, check_integer, check_parameters
from .cells import CellClass, SynapseFamily

__all__ = ["vta", "locus_coeruleus", "basal_forebrain", "another_field", "volleys", "psth", "window_rate",
           "conditioning_schedule",
           "CELLS", "RELAY_WEIGHT", "VTA_PARAMETERS", "LC_PARAMETERS", "BF_PARAMETERS"]

#: nA: the weight of one presynaptic spike onto a relay cell that makes exactly one relay spike
RELAY_WEIGHT = 3.0
N_RELAY = 10        # relay cells per input port (independent of ``scale``)
#: ms between the samples a field sends its targets (and the co-simulation's exchange interval):
#: volume transmission acts over 100s of ms, so 10 ms samples lose nothing and cost 10x fewer windows
FIELD_PERIOD = 10.0

_SYN = (SynapseFamily("AMPA", "excitatory", 5.0), SynapseFamily("GABA_A", "inhibitory", 5.0))

#: midbrain dopamine neuron: pacemaker-like, depolarised threshold, slow single-spike firing
DA = CellClass(
    "VTA_DA", "IF_curr_exp",
    {"cm": Range(0.25, 0.05, 0.5, "nF"), "tau_m": Range(20.0, 10.0, 40.0, "ms"),
     "v_rest": Range(-60.0, -70.0, -50.0, "mV"), "v_reset": Range(-60.0, -70.0, -50.0, "mV"),
     "v_thresh": Range(-45.0, -50.0, -35.0, "mV"), "tau_refrac": Range(2.0, 1.0, 5.0, "ms"),
     "tau_syn_E": Range(5.0, 1.0, 10.0, "ms"), "tau_syn_I": Range(5.0, 1.0, 10.0, "ms"),
     "i_offset": Range(0.045, 0.0, 0.3, "nA")},
    synapses=_SYN, plasticity=(),
    source="Grace & Bunney 1984 J Neurosci 4:2866 (in vivo single-spike firing 2-8 Hz, mean ~4.5 Hz)",
    initial_v=(-60.0, -46.0),
    notes="a point LIF stand-in for the DA pacemaker: the published quantity is the firing (tonic rate set by "
          "i_offset and a Poisson background); membrane constants are the LIF's working range, not measurements")

#: locus coeruleus noradrenergic neuron
LC = CellClass(
    "LC_NE", "IF_curr_exp",
    {"cm": Range(0.2, 0.05, 0.5, "nF"), "tau_m": Range(20.0, 10.0, 50.0, "ms"),
     "v_rest": Range(-60.0, -70.0, -50.0, "mV"), "v_reset": Range(-60.0, -70.0, -50.0, "mV"),
     "v_thresh": Range(-50.0, -55.0, -40.0, "mV"), "tau_refrac": Range(2.0, 1.0, 5.0, "ms"),
     "tau_syn_E": Range(5.0, 1.0, 10.0, "ms"), "tau_syn_I": Range(5.0, 1.0, 10.0, "ms"),
     "i_offset": Range(0.0, -0.1, 0.3, "nA")},
    synapses=_SYN, plasticity=("alpha2 autoreceptor shunt (gain)",),
    source="Aston-Jones et al. 1994 J Neurosci 14:4467 and Aston-Jones & Cohen 2005 (monkey LC: a few Hz tonic, "
           "phasic bursts to targets)",
    initial_v=(-60.0, -51.0),
    notes="a point LIF: tonic rate from a drive current and white noise; membrane constants are the LIF's working "
          "range, not measurements")

#: basal forebrain cholinergic neuron
BF = CellClass(
    "BF_ChAT", "IF_curr_exp",
    {"cm": Range(0.2, 0.05, 0.5, "nF"), "tau_m": Range(20.0, 10.0, 50.0, "ms"),
     "v_rest": Range(-60.0, -70.0, -50.0, "mV"), "v_reset": Range(-60.0, -70.0, -50.0, "mV"),
     "v_thresh": Range(-50.0, -55.0, -40.0, "mV"), "tau_refrac": Range(2.0, 1.0, 5.0, "ms"),
     "tau_syn_E": Range(5.0, 1.0, 10.0, "ms"), "tau_syn_I": Range(5.0, 1.0, 10.0, "ms"),
     "i_offset": Range(0.0, -0.1, 0.3, "nA")},
    synapses=_SYN,
    source="Lee, Hassani, Alonso & Jones 2005 J Neurosci 25:4365 (cholinergic BF neurons: slow firing, "
           "faster in active waking and paradoxical sleep)",
    initial_v=(-60.0, -51.0),
    notes="a point LIF: rate from a drive current, white noise and the attention relay")

#: input relay: one presynaptic spike of RELAY_WEIGHT nA -> one spike (a device, not a cell type)
RELAY = CellClass(
    "nucleus_relay", "IF_curr_exp",
    {"cm": Range(0.1, None, None, "nF"), "tau_m": Range(5.0, None, None, "ms"),
     "v_rest": Range(-65.0, None, None, "mV"), "v_reset": Range(-65.0, None, None, "mV"),
     "v_thresh": Range(-55.0, None, None, "mV"), "tau_refrac": Range(5.0, None, None, "ms"),
     "tau_syn_E": Range(1.0, None, None, "ms"), "tau_syn_I": Range(1.0, None, None, "ms"),
     "i_offset": Range(0.0, None, None, "nA")},
    synapses=(SynapseFamily("AMPA", "excitatory", 1.0),),
    source="a relay device of neurohybrid.library.nuclei (no biological counterpart)")

CELLS = (DA, LC, BF, RELAY)

VTA_PARAMETERS = {
    "n_da": Range(40, 4, 2000, "cells at scale 1"),
    "period": Range(50.0, 10.0, 200.0, "ms (TD time step = critic period)"),
    "gamma": Range(0.98, 0.8, 1.0, "per TD step"),
    "alpha": Range(0.6, 0.01, 1.0, "TD learning rate"),
    "max_interval": Range(1000.0, 100.0, 3000.0, "ms (cue-reward intervals the delay line covers)"),
    "rpe_current": Range(0.06, 0.0, 0.5, "nA per unit RPE"),
    "background_rate": Range(250.0, 50.0, 2000.0, "Hz per DA cell"),
    "background_weight": Range(0.08, 0.0, 0.2, "nA"),
    "tau": Range(200.0, 50.0, 1000.0, "ms (DAT uptake)"),
    "reference_rate": Range(4.5, 1.0, 10.0, "Hz (rate at which the field is 1)"),
    "reward_spikes": Range(1.0, 0.5, 10.0, "relay spikes per reward cell that make a unit reward"),
}

LC_PARAMETERS = {
    "n_lc": Range(40, 4, 2000, "cells at scale 1"),
    "mode": Range("phasic", None, None, "'phasic' or 'tonic'"),
    "drive_phasic": Range(0.02, -0.1, 0.3, "nA"),
    "drive_tonic": Range(0.045, -0.1, 0.3, "nA"),
    "noise": Range(0.2, 0.0, 0.5, "nA (s.d. of the noise current)"),
    "salience_weight": Range(0.25, 0.0, 1.0, "nA per relay spike"),
    "alpha2_tau": Range(500.0, 100.0, 2000.0, "ms"),
    "alpha2_gmax": Range(8.0, 0.0, 20.0, "g_GIRK,max / g_L"),
    "alpha2_ec50": Range(4.0, 0.1, 10.0, "Hz of LC firing at half-maximal alpha2 activation"),
    "alpha2_hill": Range(3.0, 1.0, 4.0, "Hill coefficient of GIRK activation"),
    "tau": Range(1000.0, 100.0, 5000.0, "ms (NET uptake)"),
    "reference_rate": Range(1.5, 0.5, 10.0, "Hz (rate at which the field is 1)"),
}

BF_PARAMETERS = {
    "n_bf": Range(40, 4, 2000, "cells at scale 1"),
    "drive_weight": Range(0.05, 0.0, 1.0, "nA per relay spike"),
    "i_offset": Range(0.01, -0.1, 0.3, "nA"),
    "noise": Range(0.2, 0.0, 0.5, "nA (s.d. of the noise current)"),
    "tau": Range(1000.0, 100.0, 5000.0, "ms (ACh tone clearance)"),
    "reference_rate": Range(1.0, 0.2, 10.0, "Hz (rate at which the field is 1)"),
}


def _common(who: str, scale, seed, region):
    """Check the arguments every module takes (typed errors naming the module)."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not (0.0 < scale <= 10.0):
        raise ParameterError(who, "scale", f"{scale!r}", "a number in (0, 10]")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ParameterError(who, "seed", f"{seed!r}", "a non-negative integer or None")
    if region is not None and not (isinstance(region, str) and region):
        raise ParameterError(who, "region", f"{region!r}", "a scaffold region name (str) or None")
    from ..pynn.simulator import state
    brain = getattr(state, "wholebrain", None)
    if region is not None and brain is not None and region not in list(brain.connectome.labels):
        raise ParameterError(who, "region", f"{region!r} is not a region of the session's connectome",
                             "one of WholeBrain.regions()")


def _count(who: str, name: str, base, scale) -> int:
    """Cells at ``scale`` of ``base`` (the parameter ``name``, an integer), at least 2."""
    return max(2, int(round(check_integer(who, name, base, 1) * scale)))


def _relay(sim, label: str, seed, n: int = N_RELAY):
    """A relay population; on the host's float emulator whatever the session's backend (the delay
    line's delays, up to ``max_interval``, exceed Loihi's 64-step synaptic delays)."""
    return RELAY.population(sim, n, label, seed=seed, engine="emulator")


def _release_field(sim, name: str, source, n: int, tau: float, reference_rate: float):
    """A field released by ``source``'s spikes, 1 when its ``n`` cells fire at ``reference_rate``
    Hz (steady state of ``release * n * rate * tau``), cleared with ``tau`` ms, never negative."""
    release = 1000.0 / (n * reference_rate * tau)
    return sim.Field(name, source=source, tau=tau, release=release, baseline=0.0, bounds=(0.0, None),
                     period=FIELD_PERIOD)


def another_field(module: Module, name: str):
    """A second field with the output field's dynamics (same source, tau, release), for a target
    that takes the nucleus's concentration through another ``fn`` (one ``fn`` per field)."""
    out = module.extras.get("field")
    if out is None:
        raise ParameterError(f"{module.name} module", "field", "the module has no output field", "a nuclei module")
    import neurohybrid.pynn as sim
    node = out.node
    return sim.Field(name, source=out.source, tau=node.tau, release=node.release, baseline=node.baseline,
                     bounds=(0.0, None), period=node.period)


def _noise(sim, pop, sd: float, seed):
    """White noise of s.d. ``sd`` nA (1 ms samples) into every cell of ``pop``; its draws come from the
    session's keyed streams (``setup(seed=...)``), so ``seed`` (kept for the signature) is unused."""
    if sd > 0:
        src = sim.NoisyCurrentSource(mean=0.0, stdev=sd, dt=1.0, start=0.0, stop=1e12)
        src.inject_into(pop)


def vta(sim, *, scale: float = 1.0, seed: int | None = 1, region: str | None = None, override: bool = False,
        **params) -> Module:
    """A VTA/SNc dopamine nucleus whose spikes signal a TD reward-prediction error.

    Builds: ``DA`` (``n_da * scale`` VTA_DA cells, tonic ~4.5 Hz from ``i_offset`` and a Poisson
    background of ``background_rate`` Hz x ``background_weight`` nA), ``cue`` and ``reward``
    relays (input ports, spikes), a ``timing`` delay line (one relay cell per TD step of
    ``period`` ms up to ``max_interval`` ms after the cue: the complete serial compound of
    Montague et al. 1996; cell k gets the cue relay's spikes ``k * period`` ms late), a
    :class:`~neurohybrid.controllers.TDCritic` (``gamma``, ``alpha``; every ``period`` ms:
    delta = r + gamma V - V_prev, r = 1 per ``reward_spikes`` relay spikes per reward cell) whose
    error is a current of ``rpe_current`` nA per unit RPE on the DA cells (field ``"<VTA>.rpe"``),
    and the ``"dopamine"`` field released by the DA spikes (uptake ``tau`` ms; 1 = DA cells firing
    at ``reference_rate`` Hz). Timing: the critic receives a step's spikes one step late (the
    kernel's link delay of a controller is its period) and its error holds for one step, so the
    DA response starts 2-3 TD steps after the event and lasts one step (100-150 ms and 50 ms at
    the default 50 ms steps; Schultz 1998, J Neurophysiol 80:1: latency 50-110 ms, < 200 ms long).

    A cue or a reward is a volley: one spike per relay cell (project a source of ``N_RELAY`` cells
    one-to-one with weight ``RELAY_WEIGHT`` nA). Ports: in ``cue``, ``reward`` (spikes), ``drive``
    (field, nA on the DA cells); out ``dopamine`` (field, relative), ``spikes`` (the DA cells),
    ``rpe`` (field, the critic's delta). Published checks: tests/library/test_nuclei.py.
    """
    from ..controllers import TDCritic
    who = "vta module"
    _common(who, scale, seed, region)
    p, overrides = check_parameters(who, VTA_PARAMETERS, params, override)
    n = _count(who, "n_da", p["n_da"], scale)
    dt = sim.get_time_step()
    period = float(p["period"])
    if abs(period / dt - round(period / dt)) > 1e-9:
        raise ParameterError(who, "period", f"{period!r} ms", f"a multiple of the time step {dt} ms")
    tag = region or "VTA"
    da = DA.population(sim, n, f"{tag} DA", seed=seed)
    bg = sim.Population(n, sim.SpikeSourcePoisson(rate=float(p["background_rate"])), label=f"{tag} background")
    sim.Projection(bg, da, sim.OneToOneConnector(), sim.StaticSynapse(weight=float(p["background_weight"]), delay=1.0))
    cue = _relay(sim, f"{tag} cue", seed)
    reward = _relay(sim, f"{tag} reward", seed)
    k = int(np.ceil(float(p["max_interval"]) / period)) + 1
    timing = _relay(sim, f"{tag} timing", seed, k)
    delays = [(i, j, RELAY_WEIGHT / N_RELAY, 1.0 + j * period) for i in range(N_RELAY) for j in range(k)]
    sim.Projection(cue, timing, sim.FromListConnector(delays, column_names=["weight", "delay"]), sim.StaticSynapse())
    critic = TDCritic(f"{tag} critic", n_state=k, n_reward=N_RELAY, gamma=float(p["gamma"]),
                      alpha=float(p["alpha"]), rate_scale=1000.0 / period,
                      reward_scale=period / 1000.0 / float(p["reward_spikes"]), period=period)
    ctl = sim.Controller(critic, read={"state": timing, "reward": reward}, period=period)
    gain = float(p["rpe_current"])
    rpe = sim.Field(f"{tag}.rpe", source=(ctl, "rpe"), units="nA", period=FIELD_PERIOD)
    rpe.modulate(da, "current", fn=lambda d: gain * d)
    name = "dopamine" if region is None else f"{region}.dopamine"
    dopamine = _release_field(sim, name, da, n, float(p["tau"]), float(p["reference_rate"]))
    ports = {"cue": Port("cue", "spikes", "in", cue, "spikes", "cue volley: one spike per relay cell"),
             "reward": Port("reward", "spikes", "in", reward, "spikes", "reward volley (r = 1 per reward_spikes)"),
             "drive": Port("drive", "field", "in", da, "nA", "a current field on the DA cells"),
             "dopamine": Port("dopamine", "field", "out", dopamine, "1", "DA concentration, 1 = tonic"),
             "spikes": Port("spikes", "spikes", "out", da, "spikes", "the DA cells' spikes"),
             "rpe": Port("rpe", "field", "out", rpe, "nA", "the critic's TD error as a current on the DA cells")}
    return Module("vta", {"DA": da, "background": bg, "cue": cue, "reward": reward, "timing": timing}, ports,
                  {**p, "n_da": n, "timing_steps": k}, "Schultz, Dayan & Montague 1997 Science 275:1593; "
                  "Montague, Dayan & Sejnowski 1996 J Neurosci 16:1936", region, overrides,
                  {"field": dopamine, "rpe": rpe, "critic": critic, "controller": ctl})


def _alpha2_gain(gmax: float, ec50: float, hill: float):
    """The LC cells' synaptic gain under alpha2 autoinhibition: g_L / (g_L + g_GIRK), the GIRK
    conductance ``gmax * g_L * a`` with activation a = c^n / (c^n + ec50^n) (c: the LC's own
    low-passed rate, Hz; n: ``hill``; GIRK tetramers open cooperatively, up to 4 G-beta-gamma
    bound: Whorton & MacKinnon 2011 Cell 147:199)."""
    def fn(c):
        c = np.maximum(np.asarray(c, dtype=float), 0.0) ** hill
        return 1.0 / (1.0 + gmax * c / (c + ec50 ** hill))
    return fn


def locus_coeruleus(sim, *, scale: float = 1.0, seed: int | None = 2, region: str | None = None,
                    override: bool = False, **params) -> Module:
    """A locus coeruleus with the phasic and tonic modes of the adaptive gain theory.

    Builds ``LC`` (``n_lc * scale`` LC_NE cells: a tonic drive current, ``drive_phasic`` or
    ``drive_tonic`` nA by ``mode``, plus a white noise current of s.d. ``noise`` nA), a
    ``salience`` relay (input port: target/salient stimuli, each relay spike ``salience_weight``
    nA onto every LC cell), the alpha2 autoreceptor field ``"<LC>.alpha2"`` (the LC's own
    low-passed rate in Hz, ``alpha2_tau`` ms) acting on the LC cells as the synaptic gain
    ``1 / (1 + alpha2_gmax * c / (c + alpha2_ec50))``, and the ``"noradrenaline"`` field released
    by the LC spikes (clearance ``tau`` ms; 1 = LC cells at ``reference_rate`` Hz).

    Ports: in ``salience`` (spikes), ``drive`` (field, nA on the LC cells: e.g. a controller
    switching modes: add ``drive_tonic - drive_phasic`` nA); out ``noradrenaline`` (field,
    relative), ``spikes``. Mode check (tests/library/test_nuclei.py): tonic rate and phasic
    response in each mode against Aston-Jones & Cohen 2005.
    """
    who = "locus_coeruleus module"
    _common(who, scale, seed, region)
    p, overrides = check_parameters(who, LC_PARAMETERS, params, override)
    if p["mode"] not in ("phasic", "tonic"):
        raise ParameterError(who, "mode", f"{p['mode']!r}", "'phasic' or 'tonic'")
    n = _count(who, "n_lc", p["n_lc"], scale)
    tag = region or "LC"
    drive = float(p["drive_phasic"] if p["mode"] == "phasic" else p["drive_tonic"])
    lc = LC.population(sim, n, f"{tag} NE", seed=seed, i_offset=drive)
    _noise(sim, lc, float(p["noise"]), seed)
    salience = _relay(sim, f"{tag} salience", seed)
    sim.Projection(salience, lc, sim.AllToAllConnector(),
                   sim.StaticSynapse(weight=float(p["salience_weight"]), delay=1.0))
    tau_a = float(p["alpha2_tau"])
    alpha2 = sim.Field(f"{tag}.alpha2", source=lc, tau=tau_a, release=1000.0 / (n * tau_a), baseline=0.0,
                       bounds=(0.0, None), period=FIELD_PERIOD)
    shunt = _alpha2_gain(float(p["alpha2_gmax"]), float(p["alpha2_ec50"]), float(p["alpha2_hill"]))
    alpha2.modulate(lc, "gain", fn=shunt)
    name = "noradrenaline" if region is None else f"{region}.noradrenaline"
    ne = _release_field(sim, name, lc, n, float(p["tau"]), float(p["reference_rate"]))
    ports = {"salience": Port("salience", "spikes", "in", salience, "spikes", "salient/target stimuli"),
             "drive": Port("drive", "field", "in", lc, "nA", "a current field on the LC cells (mode)"),
             "noradrenaline": Port("noradrenaline", "field", "out", ne, "1", "NE concentration, 1 = phasic-mode tonic"),
             "spikes": Port("spikes", "spikes", "out", lc, "spikes", "the LC cells' spikes")}
    return Module("locus_coeruleus", {"NE": lc, "salience": salience}, ports, {**p, "n_lc": n},
                  "Aston-Jones & Cohen 2005 Annu Rev Neurosci 28:403; Usher et al. 1999 Science 283:549",
                  region, overrides, {"field": ne, "alpha2": alpha2})


def basal_forebrain(sim, *, scale: float = 1.0, seed: int | None = 3, region: str | None = None,
                    override: bool = False, **params) -> Module:
    """A basal forebrain cholinergic nucleus: its rate follows an attention/exploration drive and
    its spikes release a slow acetylcholine tone.

    Builds ``ChAT`` (``n_bf * scale`` BF_ChAT cells, ``i_offset`` nA plus noise of s.d. ``noise``
    nA: ~0.5-1 Hz without drive), an ``attention`` relay (input port: each relay spike
    ``drive_weight`` nA onto every ChAT cell, so the rate follows the drive's rate), and the
    ``"acetylcholine"`` field released by the ChAT spikes (clearance ``tau`` ms; 1 = cells at
    ``reference_rate`` Hz). Use it as a depolarising current (``modulates="current"``, fn: c ->
    nA) or as excitability (``"excitability"``, fn: c -> factor > 0) on targets.

    Ports: in ``attention`` (spikes), ``drive`` (field, nA on the ChAT cells); out
    ``acetylcholine`` (field, relative), ``spikes``.
    """
    who = "basal_forebrain module"
    _common(who, scale, seed, region)
    p, overrides = check_parameters(who, BF_PARAMETERS, params, override)
    n = _count(who, "n_bf", p["n_bf"], scale)
    tag = region or "BF"
    chat = BF.population(sim, n, f"{tag} ChAT", seed=seed, i_offset=float(p["i_offset"]))
    _noise(sim, chat, float(p["noise"]), seed)
    attention = _relay(sim, f"{tag} attention", seed)
    sim.Projection(attention, chat, sim.AllToAllConnector(),
                   sim.StaticSynapse(weight=float(p["drive_weight"]), delay=1.0))
    name = "acetylcholine" if region is None else f"{region}.acetylcholine"
    ach = _release_field(sim, name, chat, n, float(p["tau"]), float(p["reference_rate"]))
    ports = {"attention": Port("attention", "spikes", "in", attention, "spikes", "attention/exploration drive"),
             "drive": Port("drive", "field", "in", chat, "nA", "a current field on the ChAT cells"),
             "acetylcholine": Port("acetylcholine", "field", "out", ach, "1", "ACh tone, 1 = reference"),
             "spikes": Port("spikes", "spikes", "out", chat, "spikes", "the ChAT cells' spikes")}
    return Module("basal_forebrain", {"ChAT": chat, "attention": attention}, ports, {**p, "n_bf": n},
                  "Lee et al. 2005 J Neurosci 25:4365; Parikh et al. 2007 Neuron 56:141", region, overrides,
                  {"field": ach})


def volleys(sim, module: Module, port: str, times, label: str | None = None):
    """Drive ``module``'s spike input ``port`` with volleys at ``times`` (ms): a SpikeSourceArray of
    ``N_RELAY`` cells, each firing once per volley, projected one-to-one with ``RELAY_WEIGHT`` nA
    (one relay spike per volley and cell). Returns the source population."""
    target = module.port(port)
    if target.kind != "spikes" or target.direction != "in":
        raise ParameterError(f"{module.name} module", "port", f"{port!r} is not a spike input",
                             ", ".join(p.name for p in module.inputs() if p.kind == "spikes"))
    times = np.round(np.sort(np.atleast_1d(np.asarray(times, dtype=float))), 1)
    if times.size and (not np.all(np.isfinite(times)) or times[0] <= 0.0):
        raise ParameterError(f"{module.name} module", "times", "volley times must be finite and > 0 ms", "times > 0")
    src = sim.Population(N_RELAY, sim.SpikeSourceArray(spike_times=[times.tolist()] * N_RELAY),
                         label=label or f"{target.target.label} volleys")
    sim.Projection(src, target.target, sim.OneToOneConnector(), sim.StaticSynapse(weight=RELAY_WEIGHT, delay=1.0))
    return src


def psth(trains, events, before: float, after: float, bin_ms: float) -> tuple[np.ndarray, np.ndarray]:
    """Peri-event time histogram: (bin centres ms relative to the events, mean rate per cell Hz)
    of ``trains`` (a list of spike-time arrays, ms) around ``events`` (ms)."""
    events = np.atleast_1d(np.asarray(events, dtype=float))
    edges = np.arange(-before, after + bin_ms / 2, bin_ms)
    counts = np.zeros(edges.size - 1)
    spikes = np.concatenate([np.asarray(t, dtype=float) for t in trains]) if len(trains) else np.zeros(0)
    for e in events:
        counts += np.histogram(spikes - e, bins=edges)[0]
    norm = max(len(trains), 1) * max(events.size, 1) * bin_ms * 1e-3
    return (edges[:-1] + edges[1:]) / 2, counts / norm


def window_rate(trains, events, start: float, stop: float) -> float:
    """Mean rate per cell (Hz) of ``trains`` in [event + start, event + stop) ms over ``events``."""
    events = np.atleast_1d(np.asarray(events, dtype=float))
    spikes = np.concatenate([np.asarray(t, dtype=float) for t in trains]) if len(trains) else np.zeros(0)
    n = sum(int(((spikes >= e + start) & (spikes < e + stop)).sum()) for e in events)
    return n / max(len(trains), 1) / max(events.size, 1) / ((stop - start) * 1e-3)


def conditioning_schedule(n_unexpected: int, n_paired: int, n_omitted: int, interval: float = 500.0,
                          trial: float = 1500.0, onset: float = 510.0) -> dict:
    """The Schultz task's event times (ms): ``n_unexpected`` free rewards, then ``n_paired``
    cue -> reward trials (reward ``interval`` ms after the cue), then ``n_omitted`` cue-only trials;
    one event per ``trial`` ms, at ``onset`` ms into each trial. Returns ``{"reward_free",
    "cue_paired", "reward_paired", "cue_omitted", "omitted", "duration"}``."""
    for k, v in (("n_unexpected", n_unexpected), ("n_paired", n_paired), ("n_omitted", n_omitted)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ParameterError("conditioning_schedule", k, f"{v!r}", "a non-negative integer")
    if not (0 < interval and onset + interval < trial):
        raise ParameterError("conditioning_schedule", "interval", f"{interval!r}", "0 < interval < trial - onset")
    t = onset + trial * np.arange(n_unexpected + n_paired + n_omitted)
    free, paired, omitted = np.split(t, [n_unexpected, n_unexpected + n_paired])
    return {"reward_free": free, "cue_paired": paired, "reward_paired": paired + interval, "cue_omitted": omitted,
            "omitted": omitted + interval, "duration": float(trial * t.size)}
