"""A thalamocortical loop: relay (TC) and reticular (RE) cells whose mode a neuromodulatory tone sets.

Cells (``CELLS``) are Izhikevich (2003) point neurons, which the float emulator runs
(``dv/dt = 0.04 v^2 + 5 v + 140 - u + I``, ``du/dt = a (b v - u)``, v >= 30 mV: v = c,
u += d; I = 1000 x current in nA; synapses are voltage jumps in mV):

* ``TC``: the "thalamo-cortical" cell of Izhikevich 2003 (IEEE TNN 14:1569, Fig. 2: a = 0.02/ms,
  b = 0.25/ms, c = -65 mV, d = 0.05 mV/ms): tonic spiking when depolarised, a rebound burst on
  release from hyperpolarisation (the T-current's low-threshold spike is, in this model, the slow
  recovery variable u lagging v). The reset ``c`` ranges to -55 mV, the "phasic bursting" cell
  of Izhikevich 2004 (IEEE TNN 15:1063, Fig. 1D: same a, b, d). The module uses ``tc_c = -55``
  mV: with -65 mV the model's rebound bursts have 5-13 ms intervals, longer than the <= 4 ms of
  recorded TC bursts and of the burst criterion.
* ``RE``: reticular (nRT) cell, the "rebound burst" cell of Izhikevich 2004 (Fig. 1N: a = 0.03,
  b = 0.25, c = -52 mV, d = 0): a long high-frequency burst after inhibition or from a threshold
  excitation at rest, tonic firing when depolarised. (Izhikevich & Edelman 2008's RTN cell uses
  the 2007 form C dv/dt = k (v - vr)(v - vt) ..., which the engines do not run.)

Circuit (Destexhe, Bal, McCormick & Sejnowski 1996, J Neurophysiol 76:2049: 100 TC and 100 RE
cells, each getting 2 x 5 + 1 afferents from the other layer, RE also from RE): TC -> RE
excitation (AMPA, delays 1-``delay_ampa`` ms), RE -> TC and RE -> RE inhibition (GABA_A), all
voltage jumps. Partners are drawn at random with that fan-in unless ``topographic=True``
(Destexhe's nearest neighbours on a line: propagating waves rather than a synchronous population
rhythm). TC and RE cells get white-noise current (``noise``, ``re_noise`` nA s.d.). The RE -> TC
and RE -> RE delays, uniform in [``delay_min``, ``delay_max``] = [20, 35] ms, stand in for the
IPSP's time course, which sets when the TC rebound comes (with 1-12 ms the loop cycles at
17-21 Hz, our measurement).

The tone is a ``sim.Field`` acting as ``modulates="current"`` (nA) on the TC cells: ACh and NE
from the brainstem and basal forebrain depolarise TC cells (McCormick 1992 Prog Neurobiol
39:337), while ACh hyperpolarises RE cells (McCormick & Prince 1986 Nature 319:402), so RE get
the fixed bias ``re_offset`` instead. Low tone (hyperpolarised TC) -> burst mode and spindle-like
7-14 Hz oscillations (Steriade, McCormick & Sejnowski 1993 Science 262:679; Destexhe et al.
1996: an RE burst inhibits TC cells, which fire a rebound burst when the inhibition ends and
re-excite RE); high tone -> tonic relay mode. :func:`burst_fraction` applies the burst
criterion of Lu, Guido & Sherman 1992 (J Neurophysiol 68:2185): a burst starts with a spike
preceded by >= 100 ms of silence and goes on while the intervals are <= 4 ms.

Known limits: in tonic mode the TC cells (d = 0.05 mV/ms: almost no adaptation) fire single
spikes at ~100 Hz (recorded tonic rates are lower, tens of Hz) and drive the RE cells so hard
that the loop still synchronises, at ~15 Hz, where recorded tonic mode is desynchronised
(Steriade et al. 1993); the burst fraction in burst mode is ~0.25-0.3 because the model's
bursts end in intervals > 4 ms, which the criterion leaves out.
"""
from __future__ import annotations

import numpy as np

from ..errors import ParameterError
from .base import Module, Port, Range, check_integer, check_parameters
from .cells import CellClass, SynapseFamily

__all__ = ["CELLS", "TC", "RE", "PARAMETERS", "thalamus", "burst_fraction", "population_spectrum",
           "spindle_peak", "band_share", "run_tone", "BURST_SILENCE", "BURST_ISI", "SPINDLE_BAND"]

#: Lu, Guido & Sherman 1992: >= 100 ms silence before the first spike, <= 4 ms between burst spikes
BURST_SILENCE, BURST_ISI = 100.0, 4.0
#: spindle frequency band, Hz (Steriade et al. 1993; Destexhe et al. 1996: 7-14 Hz)
SPINDLE_BAND = (7.0, 14.0)

_SYN = (SynapseFamily("AMPA", "excitatory", 0.0), SynapseFamily("GABA_A", "inhibitory", 0.0))

TC = CellClass(
    name="TC", model="Izhikevich",
    parameters={"a": Range(0.02, 0.02, 0.02, "1/ms"), "b": Range(0.25, 0.25, 0.25, "1/ms"),
                "c": Range(-65.0, -65.0, -55.0, "mV"), "d": Range(0.05, 0.05, 0.05, "mV/ms"),
                "i_offset": Range(0.0, -0.02, 0.02, "nA")},
    synapses=_SYN, source="Izhikevich 2003 IEEE TNN 14:1569, Fig. 2 'thalamo-cortical' (c up to -55 mV: "
    "Izhikevich 2004 IEEE TNN 15:1063, Fig. 1D 'phasic bursting', same a, b, d)",
    initial_v=(-70.0, -60.0),
    notes="delta (voltage-jump) synapses: the SynapseFamily tau is 0")

RE = CellClass(
    name="RE", model="Izhikevich",
    parameters={"a": Range(0.03, 0.03, 0.03, "1/ms"), "b": Range(0.25, 0.25, 0.25, "1/ms"),
                "c": Range(-52.0, -52.0, -52.0, "mV"), "d": Range(0.0, 0.0, 0.0, "mV/ms"),
                "i_offset": Range(0.0, -0.02, 0.02, "nA")},
    synapses=_SYN, source="Izhikevich 2004 IEEE TNN 15:1063, Fig. 1N 'rebound burst'",
    initial_v=(-70.0, -60.0),
    notes="stands in for the nRT cell: Izhikevich & Edelman 2008's RTN cell needs the 2007 model form")

CELLS = (TC, RE)

#: the module's parameters: published value (or the value we chose, said so) and range
PARAMETERS = {
    "tc_c": Range(-55.0, -65.0, -55.0, "mV"),          # TC reset: 2003 TC (-65) .. 2004 phasic bursting (-55)
    "fan": Range(5, 1, 20, "cells"),                   # Destexhe et al. 1996: fan-in 2 x 5 + 1
    "topographic": Range(False),                       # True: nearest neighbours on a line (waves)
    "w_tc_re": Range(8.0, 0.0, 20.0, "mV"),            # TC -> RE jump (AMPA)
    "w_re_tc": Range(-4.0, -10.0, 0.0, "mV"),          # RE -> TC jump (GABA_A)
    "w_re_re": Range(-0.2, -10.0, 0.0, "mV"),          # RE -> RE jump (GABA_A)
    "delay_min": Range(20.0, 0.1, 40.0, "ms"),         # GABA_A delays: uniform in [delay_min, delay_max],
    "delay_max": Range(35.0, 0.1, 60.0, "ms"),         # a boxcar standing in for the IPSP's time course
    "delay_ampa": Range(4.0, 1.0, 20.0, "ms"),         # TC -> RE delays: uniform in [1, delay_ampa]
    "re_offset": Range(-0.002, -0.01, 0.01, "nA"),     # RE bias (ACh hyperpolarises nRT: McCormick & Prince 1986)
    "noise": Range(0.004, 0.0, 0.02, "nA"),            # white-noise s.d. on the TC cells
    "re_noise": Range(0.001, 0.0, 0.02, "nA"),         # white-noise s.d. on the RE cells
    "w_ct": Range(2.0, 0.0, 20.0, "mV"),               # corticothalamic jump onto TC and RE
    "p_ct": Range(0.1, 0.0, 1.0, "1"),                 # corticothalamic connection probability
    "field_period": Range(10.0, 0.1, 100.0, "ms"),     # ms between tone samples
}
SOURCE = ("Izhikevich 2003 IEEE TNN 14:1569 (TC); Izhikevich 2004 IEEE TNN 15:1063 (RE); circuit: Destexhe, "
          "Bal, McCormick & Sejnowski 1996 J Neurophysiol 76:2049; burst criterion: Lu, Guido & Sherman 1992 "
          "J Neurophysiol 68:2185")
WHO = "thalamus module"


def _count(name: str, n, scale) -> int:
    return max(2, int(round(check_integer(WHO, name, n, 2) * scale)))


def _check_common(scale, seed, region):
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not (0.0 < scale <= 10.0):
        raise ParameterError(WHO, "scale", f"{scale!r}", "a number in (0, 10]")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(WHO, "seed", f"{seed!r}", "a non-negative integer")
    if region is not None and not (isinstance(region, str) and region):
        raise ParameterError(WHO, "region", f"{region!r}", "a scaffold region name (str) or None")


def _connections(n_pre: int, n_post: int, fan: int, weight: float, dmin: float, dmax: float, rng,
                 topographic: bool, self_connections: bool = True) -> list:
    """Each post cell gets 2 fan + 1 pre cells (Destexhe et al. 1996's fan-in): its nearest on the
    line (wrapped) when ``topographic``, else drawn at random without replacement; each with a
    uniform delay in [dmin, dmax] ms. Returns FromListConnector rows (pre, post, weight, delay)."""
    k = 2 * fan + 1
    if topographic:
        centre = np.round(np.arange(n_post) * n_pre / n_post).astype(int)
        pre = (centre[:, None] + np.arange(-fan, fan + 1)[None, :]) % n_pre
    else:
        pool = n_pre - (0 if self_connections else 1)
        keys = rng.random((n_post, n_pre))
        if not self_connections:
            keys[np.arange(n_post), np.arange(n_post)] = np.inf
        pre = np.argsort(keys, axis=1)[:, :min(k, pool)]
    post = np.repeat(np.arange(n_post), pre.shape[1])
    pre = pre.ravel()
    keep = np.ones(pre.size, bool) if self_connections else pre != post
    pairs = np.unique(np.stack([pre[keep], post[keep]], 1), axis=0)
    delays = np.round(rng.uniform(dmin, dmax, len(pairs)), 1)
    return [(int(i), int(j), float(weight), float(d)) for (i, j), d in zip(pairs, delays)]


def _tone_field(sim, tone, name: str, period: float):
    """The tone field from ``tone``: a number (nA, constant), a list of (duration ms, nA) phases,
    a (controller, port) pair, or an existing ``sim.Field`` (used as is: its value is in nA)."""
    from ..controllers import TaskSequencer
    if isinstance(tone, sim.Field):
        return tone, None
    if isinstance(tone, tuple) and len(tone) == 2 and isinstance(tone[0], sim.Controller):
        return sim.Field(name, source=tone, units="nA", period=period), None
    if isinstance(tone, (int, float)) and not isinstance(tone, bool):
        phases = [(1e12, {"tone": float(tone)})]
    elif isinstance(tone, (list, tuple)) and tone and all(
            isinstance(p, (list, tuple)) and len(p) == 2 for p in tone):
        phases = [(float(d), {"tone": float(v)}) for d, v in tone]
    else:
        raise ParameterError(WHO, "tone", f"{tone!r}", "a current in nA, a list of (duration ms, nA) phases, "
                             "(controller, port) or a sim.Field")
    for d, v in phases:
        if not (np.isfinite(v["tone"]) and -0.02 <= v["tone"] <= 0.02) or not (np.isfinite(d) and d > 0):
            raise ParameterError(WHO, "tone", f"{tone!r}", "currents in [-0.02, 0.02] nA, durations > 0 ms")
    seq = TaskSequencer(f"{name}.sequencer", phases, units={"tone": "nA"},
                        initial={"tone": phases[0][1]["tone"]}, period=period)
    ctl = sim.Controller(seq, period=period)
    return sim.Field(name, source=(ctl, "tone"), units="nA", period=period), ctl


def thalamus(sim, *, n_tc: int = 100, n_re: int = 100, scale: float = 1.0, seed: int = 1,
             region: str | None = None, cortex=None, tone=0.0, override: bool = False, **params) -> Module:
    """Add a TC-RE thalamic loop to the current session; return its :class:`Module`.

    ``n_tc``, ``n_re``: cells (times ``scale``; Destexhe et al. 1996: 100 each). ``tone``: the
    depolarising neuromodulatory tone on the TC cells, nA (``modulates="current"``): a number
    (constant), a list of ``(duration ms, nA)`` phases (a ``TaskSequencer`` controller plays
    them), ``(controller, port)`` (a ``sim.Controller`` output in nA) or an existing ``sim.Field``
    whose value (through its own ``fn``) is in nA. About -0.002 nA and below: burst mode (spindles at
    -0.003 nA); 0 nA and above: tonic mode. ``cortex``: a population whose spikes excite TC and RE
    (connection probability ``p_ct``, jump ``w_ct`` mV). ``region``: the scaffold region the loop
    stands for (labels; couple it with ``brain.replace(region, [TC, RE], inputs=..., output=...)``
    through the ports). ``params``: see ``PARAMETERS`` (units there).

    Ports: in ``tone`` (field, nA), ``corticothalamic`` (spikes onto TC and RE); out ``spikes``
    and ``rates`` (TC, the relay output to cortex; Hz through ``sim.spikes_to_rates``),
    ``re_spikes``.
    """
    _check_common(scale, seed, region)
    p, overrides = check_parameters(WHO, PARAMETERS, params, override)
    if p["delay_min"] > p["delay_max"]:
        raise ParameterError(WHO, "delay_min", f"{p['delay_min']!r} > delay_max {p['delay_max']!r}",
                             "delay_min <= delay_max")
    if not isinstance(p["topographic"], bool):
        raise ParameterError(WHO, "topographic", f"{p['topographic']!r}", "True or False")
    if isinstance(p["fan"], bool) or int(p["fan"]) != p["fan"]:
        raise ParameterError(WHO, "fan", f"{p['fan']!r}", "an integer number of neighbours")
    ntc, nre = _count("n_tc", n_tc, scale), _count("n_re", n_re, scale)
    if cortex is not None and not isinstance(cortex, (sim.Population, sim.PopulationView, sim.Assembly)):
        raise ParameterError(WHO, "cortex", f"{cortex!r}", "a sim.Population (its spikes excite TC and RE) or None")
    tag = region or "thalamus"
    tc = TC.population(sim, ntc, f"{tag} TC", seed=seed, override=True, c=float(p["tc_c"]))
    re = RE.population(sim, nre, f"{tag} RE", seed=seed + 1, i_offset=float(p["re_offset"]))
    rng = np.random.default_rng(seed)
    fan, dmin, dmax = int(p["fan"]), float(p["delay_min"]), float(p["delay_max"])
    proj = {}
    for key, pre, post, n_pre, n_post, w, rtype, top in (
            ("tc_re", tc, re, ntc, nre, p["w_tc_re"], "excitatory", float(p["delay_ampa"])),
            ("re_tc", re, tc, nre, ntc, p["w_re_tc"], "inhibitory", dmax),
            ("re_re", re, re, nre, nre, p["w_re_re"], "inhibitory", dmax)):
        if w == 0:
            continue
        low = 1.0 if rtype == "excitatory" else dmin
        conns = _connections(n_pre, n_post, fan, float(w), low, top, rng, bool(p["topographic"]),
                             self_connections=pre is not post)
        proj[key] = sim.Projection(pre, post, sim.FromListConnector(conns, column_names=["weight", "delay"]),
                                   sim.StaticSynapse(), receptor_type=rtype, label=f"{tag} {key}")
    for pop, sd in ((tc, float(p["noise"])), (re, float(p["re_noise"]))):
        if sd > 0:
            sim.NoisyCurrentSource(mean=0.0, stdev=sd, dt=1.0, start=0.0, stop=1e12).inject_into(pop)
    if cortex is not None and float(p["p_ct"]) > 0:
        for key, post in (("ct_tc", tc), ("ct_re", re)):
            proj[key] = sim.Projection(cortex, post, sim.FixedProbabilityConnector(
                float(p["p_ct"]), rng=sim.NumpyRNG(seed=seed + 2)), sim.StaticSynapse(weight=float(p["w_ct"]),
                delay=2.0), receptor_type="excitatory", label=f"{tag} {key}")
    field, ctl = _tone_field(sim, tone, f"{tag}.tone", float(p["field_period"]))
    field.modulate(tc, "current")
    ports = {
        "tone": Port("tone", "field", "in", field, "nA", "depolarising ACh/NE tone on TC: low = burst mode"),
        "corticothalamic": Port("corticothalamic", "spikes", "in", cortex if cortex is not None else [tc, re],
                                "spikes", "layer-6 input: project onto TC and RE (excitatory)"),
        "spikes": Port("spikes", "spikes", "out", tc, "spikes", "TC spikes, the relay output to cortex"),
        "rates": Port("rates", "rates", "out", tc, "Hz", "TC rate (sim.spikes_to_rates in brain.replace)"),
        "re_spikes": Port("re_spikes", "spikes", "out", re, "spikes", "RE spikes"),
    }
    return Module("thalamus", {"TC": tc, "RE": re}, ports, {**p, "n_tc": ntc, "n_re": nre}, SOURCE, region,
                  overrides, {"field": field, "controller": ctl, "projections": proj})


def _trains(trains) -> list:
    return [np.sort(np.asarray(getattr(s, "magnitude", s), dtype=float)) for s in trains]


def burst_fraction(trains, silence: float = BURST_SILENCE, isi: float = BURST_ISI, t_start: float = 0.0) -> float:
    """Fraction of the spikes (times in ms, one array per cell) that belong to bursts (Lu, Guido
    & Sherman 1992): a burst's first spike follows >= ``silence`` ms without spikes (spikes
    before ``t_start`` + silence cannot start one), the next ones follow at <= ``isi`` ms, and a
    burst has >= 2 spikes. NaN when there is no spike."""
    total = in_burst = 0
    for s in _trains(trains):
        s = s[s >= t_start]
        total += s.size
        if s.size < 2:
            continue
        gaps = np.diff(s)
        before = np.concatenate([[s[0] - t_start], gaps])
        start = (before >= silence) & np.concatenate([gaps <= isi, [False]])
        # burst spikes: a start, then every spike reached by a run of <= isi intervals
        label = np.cumsum(start | np.concatenate([[True], gaps > isi]))
        started = np.zeros(label.max() + 1, bool)
        started[label[start]] = True
        in_burst += int(started[label].sum())
    return float("nan") if total == 0 else in_burst / total


def population_spectrum(trains, t_start: float, t_stop: float, bin_ms: float = 2.0, segment_ms: float = 1000.0):
    """(frequencies Hz, power) of the population spike count (``bin_ms`` bins, mean removed),
    Welch-averaged over Hann windows of ``segment_ms`` ms with half overlap."""
    from scipy.signal import welch
    s = np.concatenate([t[(t >= t_start) & (t < t_stop)] for t in _trains(trains)] or [np.zeros(0)])
    edges = np.arange(t_start, t_stop + bin_ms / 2, bin_ms)
    counts = np.histogram(s, bins=edges)[0].astype(float)
    nper = min(counts.size, int(round(segment_ms / bin_ms)))
    return welch(counts - counts.mean(), fs=1000.0 / bin_ms, nperseg=nper)


def band_share(freqs, power, band=SPINDLE_BAND, low: float = 2.0, high: float = 40.0) -> tuple[float, float]:
    """(share of the [low, high] Hz power in ``band``, the share a flat spectrum would give)."""
    inside = (freqs >= low) & (freqs <= high)
    b = inside & (freqs >= band[0]) & (freqs <= band[1])
    return float(power[b].sum() / power[inside].sum()), float(b.sum() / inside.sum())


def spindle_peak(freqs, power, low: float = 2.0, high: float = 40.0) -> float:
    """The frequency (Hz) of the spectrum's largest peak in [low, high] Hz."""
    keep = (freqs >= low) & (freqs <= high)
    return float(freqs[keep][np.argmax(power[keep])])


def run_tone(sim, tone, duration: float, *, n_tc: int = 100, n_re: int = 100, seed: int = 1,
             timestep: float = 0.1, **params) -> dict:
    """One session: the loop at ``tone`` (nA, or anything :func:`thalamus` takes) for
    ``duration`` ms. Returns {"TC": spike trains, "RE": spike trains} (ms, one array per cell)."""
    sim.setup(timestep=timestep, seed=seed)
    try:
        mod = thalamus(sim, n_tc=n_tc, n_re=n_re, seed=seed, tone=tone, **params)
        mod.record("spikes")
        sim.run(duration)
        return {k: _trains(pop.get_data().segments[0].spiketrains) for k, pop in mod.populations.items()}
    finally:
        sim.end()
