"""Basal ganglia action selection: the spiking model of Humphries, Stewart & Gurney (2006).

Humphries MD, Stewart RD, Gurney KN (2006) A physiologically plausible model of action
selection and oscillatory activity in the basal ganglia. J Neurosci 26:12921-12942 (code:
ModelDB 83559, ``pars.m`` / ``BG_net_shunt_AMPA_NMDA.m``), on the channel architecture of
Gurney, Prescott & Redgrave (2001, Biol Cybern 84:401-423).

Per action channel: striatal D1 and D2 medium spiny neurons, subthalamic nucleus (STN), globus
pallidus external segment (GPe) and the output nucleus (GPi/SNr), ``n_per_channel`` leaky
integrate-and-fire cells each (the paper: 64). Focused (within-channel) pathways: cortex -> D1,
D2, STN; D1 -> GPi; D2 -> GPe; GPe -> STN, GPi. Diffuse (all channels): STN -> GPe, GPi; GPe ->
GPe and GPi -> GPi collaterals. In-degrees are those of the paper's connection probabilities
(0.25 within a channel of 64, 0.25/3 over the nucleus: 16 afferents per pathway), kept at every
size. Synaptic weights give the published PSP peaks (3 mV AMPA/GABA_A) times the published
relative strengths (D1 -> GPi and D2 -> GPe 4x); membrane time constants, input resistances
(10 % s.d. per cell), thresholds, spontaneous currents, delays and the membrane noise are the
paper's (``pars.m``).

Dopamine is a field ``c`` in the paper's units (0..1 of receptor activation; tonic 0.3): the
cortical input of D1 cells is scaled by ``1 + c``, of D2 cells by ``1 - c``, the synaptic input of
GPe by ``1 - 0.5 c`` and of STN by ``1 - 0.25 c`` (the paper's D1/D2, ``gpeda`` and ``stnda``
coefficients, applied as field gains). Corticostriatal synapses learn by dopamine-modulated STDP
(Izhikevich 2007; NEST ``stdp_dopamine_synapse``): ``dw/dt = e (n - b)`` with ``n = c`` and
``b`` the tonic level at D1 synapses, and the mirrored ``n = 2 - c`` (``b = 2 - tone``) at D2
synapses (dopamine bursts potentiate D1 and depress D2 inputs: Shen et al. 2008, Science
321:848). Not modelled (the paper's details beyond a standard LIF): shunting (proximal/somatic)
inhibition, the STN rebound-burst current, NMDA currents and the GABA reversal floor
(``mlimit``, 20 mV below rest). Consequences measured at 3 x 64 cells
(benchmarks/library_basal_ganglia.py): tonic STN/GPe/GPi ~10/17/21 Hz where the paper's code
calibrates to ~12/30/30 Hz, and dual selection where the paper reports switching (a second,
more salient channel is selected but the first stays below 5 Hz).
"""
from __future__ import annotations

import numpy as np

from ..errors import ParameterError
from .base import Module, Port, Range, check_parameters
from .cells import CellClass, SynapseFamily

SOURCE = ("Humphries, Stewart & Gurney (2006) J Neurosci 26:12921-12942 (ModelDB 83559); "
          "Gurney, Prescott & Redgrave (2001) Biol Cybern 84:401-423")
NUCLEI = ("D1", "D2", "STN", "GPe", "GPi")
FIELD_PERIOD = 5.0  # ms: dopamine samples reach the nuclei every 5 ms (its uptake is ~100 ms)
DT_NOISE = 0.1  # ms: the paper's time step (noise s.d. is per step)
WHO = "basal_ganglia module"

_SYN = (SynapseFamily("AMPA", "excitatory", 2.0), SynapseFamily("GABA_A", "inhibitory", 3.0))


def _cell(name: str, tau_m: float, r_mohm: float, theta: float, spon: float, notes: str) -> CellClass:
    """A cell class of the paper: tau_m (ms), input resistance (MOhm), threshold above rest
    (mV), spontaneous current (nA); rest -70 mV, reset to rest, 2 ms refractory."""
    return CellClass(
        name=name, model="IF_curr_exp", source=SOURCE, synapses=_SYN, notes=notes,
        plasticity=("DopamineSTDPSynapse",) if name.startswith("MSN") else (),
        initial_v=(-70.0, -70.0 + theta * 0.9),
        parameters={
            "tau_m": Range(tau_m, tau_m * 0.5, tau_m * 2.0, "ms"),
            "cm": Range(round(tau_m / r_mohm, 6), tau_m / r_mohm * 0.5, tau_m / r_mohm * 2.0, "nF"),
            "v_rest": Range(-70.0, -90.0, -50.0, "mV"),
            "v_reset": Range(-70.0, -90.0, -50.0, "mV"),
            "v_thresh": Range(-70.0 + theta, -70.0 + theta * 0.5, -70.0 + theta * 1.5, "mV"),
            "tau_refrac": Range(2.0, 0.0, 5.0, "ms"),
            "tau_syn_E": Range(2.0, 1.0, 5.0, "ms"),
            "tau_syn_I": Range(3.0, 1.0, 10.0, "ms"),
            "i_offset": Range(spon, min(spon * 2.0, 0.0), max(spon * 2.0, 0.0), "nA"),
        })


MSN_D1 = _cell("MSN_D1", 25.0, 42.0, 30.0, -0.25, "striatal D1 MSN (direct pathway)")
MSN_D2 = _cell("MSN_D2", 25.0, 42.0, 30.0, -0.25, "striatal D2 MSN (indirect pathway)")
STN_CELL = _cell("STN", 6.0, 18.0, 20.0, 1.1, "subthalamic projection neuron")
GPE_CELL = _cell("GPe", 14.0, 88.0, 30.0, 0.38, "GPe prototypic neuron")
GPI_CELL = _cell("GPi", 8.0, 112.0, 30.0, 0.39, "GPi/SNr output neuron")
CELLS = (MSN_D1, MSN_D2, STN_CELL, GPE_CELL, GPI_CELL)
_CLASS = dict(zip(NUCLEI, CELLS))

#: published parameters (pars.m) and the ranges the module accepts without override (the ranges
#: are this module's: 0.5-2x the published value, or the span the paper's parameter files explore)
PARAMETERS = {
    "k_focused": Range(16, 4, 64, "afferents"),       # 0.25 x 64 within a channel
    "k_diffuse": Range(16, 4, 64, "afferents"),       # 0.25 / 3 x 192 over the nucleus
    "psp_ampa": Range(3.0, 1.0, 6.0, "mV"),
    "psp_gaba": Range(3.0, 1.0, 6.0, "mV"),
    "w_ctx": Range(1.0, 0.5, 2.0, "1"),
    "w_ctx_stn": Range(1.0, 0.5, 2.0, "1"),
    "w_d1_gpi": Range(4.0, 1.0, 8.0, "1"),
    "w_d2_gpe": Range(4.0, 1.0, 8.0, "1"),
    "w_stn_gpe": Range(1.0, 0.5, 2.0, "1"),
    "w_stn_gpi": Range(1.0, 0.5, 2.0, "1"),
    "w_gpe_stn": Range(1.0, 0.5, 2.0, "1"),
    "w_gpe_gpi": Range(1.0, 0.5, 2.0, "1"),
    "w_gpe_gpe": Range(1.0, 0.0, 2.0, "1"),
    "w_gpi_gpi": Range(1.0, 0.0, 2.0, "1"),
    "noise_sigma": Range(0.3, 0.0, 1.0, "mV per 0.1 ms"),
    "heterogeneity": Range(0.1, 0.0, 0.3, "1 (s.d./mean of tau_m, R)"),
    "tonic_rate": Range(3.0, 0.0, 10.0, "Hz"),
    "dopamine_tone": Range(0.3, 0.0, 1.0, "1"),
    "dopamine_scale": Range(1.0, 0.0, 2.0, "paper units per field unit"),
    "da_stn": Range(0.25, 0.0, 1.0, "1"),
    "da_gpe": Range(0.5, 0.0, 1.0, "1"),
    # learning is not part of Humphries et al. (2006): dopamine STDP after Izhikevich (2007,
    # Cereb Cortex 17:2443; tau_c 1 s, tau+- 20 ms); amplitudes and bound chosen here (relative
    # to the initial weight) so that a few rewarded trials change the selected action
    "a_plus": Range(0.05, 0.0, 0.2, "1 (x initial weight)"),
    "a_minus": Range(0.0525, 0.0, 0.2, "1 (x initial weight)"),
    "tau_c": Range(1000.0, 100.0, 5000.0, "ms"),
    "w_max": Range(3.0, 1.0, 5.0, "1 (x initial weight)"),
}
#: axonal delays (ms), pars.m
DELAYS = {"ctx_msn": 10.0, "ctx_stn": 2.5, "d1_gpi": 4.0, "d2_gpe": 5.0, "stn_gpe": 2.0, "stn_gpi": 1.5,
          "gpe_stn": 4.0, "gpe_gpi": 3.0, "gpe_gpe": 1.0, "gpi_gpi": 1.0}
D2_MIRROR = 2.0  # the D2 volume transmitter sees 2 - c (dopamine bursts depress D2 synapses)


def psp_to_psc(psp: float, tau_s: float, tau_m: float, r_mohm: float) -> float:
    """The exponential-current amplitude (nA) whose PSP peaks at ``psp`` mV in a LIF cell of
    membrane time constant ``tau_m`` (ms) and input resistance ``r_mohm`` (MOhm) with synaptic
    time constant ``tau_s`` (ms) (the paper's ``PSPtoPSC``, 'step' form)."""
    t_peak = np.log(tau_m / tau_s) * tau_s * tau_m / (tau_m - tau_s)
    shape = r_mohm * tau_s / (tau_m - tau_s) * (np.exp(-t_peak / tau_m) - np.exp(-t_peak / tau_s))
    return float(psp / shape)


def _r(cell: CellClass) -> float:
    return cell.parameters["tau_m"].value / cell.parameters["cm"].value


def _check_args(n_channels, n_per_channel, seed, region, dopamine, sim, learning):
    if isinstance(n_channels, bool) or not isinstance(n_channels, (int, np.integer)) or not 2 <= n_channels <= 16:
        raise ParameterError(WHO, "n_channels", f"{n_channels!r}", "an integer in [2, 16]")
    if isinstance(n_per_channel, bool) or not isinstance(n_per_channel, (int, np.integer)) or \
            not 16 <= n_per_channel <= 512:
        raise ParameterError(WHO, "n_per_channel", f"{n_per_channel!r}",
                             "an integer in [16, 512] (the paper: 64; >= the 16 focused afferents)")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ParameterError(WHO, "seed", f"{seed!r}", "a non-negative integer or None")
    if region is not None and not isinstance(region, str):
        raise ParameterError(WHO, "region", f"{region!r}", "a region name (str) or None")
    if dopamine is not None and not isinstance(dopamine, sim.Field):
        raise ParameterError(WHO, "dopamine", f"{dopamine!r} is not a sim.Field", "a sim.Field or None")
    if dopamine is not None and dopamine.source is None:
        raise ParameterError(WHO, "dopamine", f"field {dopamine.name!r} has no source",
                             "a field with a source (a nucleus population or a controller port)")
    if not isinstance(learning, bool):
        raise ParameterError(WHO, "learning", f"{learning!r}", "True or False")


def _populations(sim, n_channels, n, rng, p, label):
    """The five nuclei (n_channels * n cells each, channel-major), heterogeneous tau_m and R."""
    pops = {}
    for i, name in enumerate(NUCLEI):
        cell = _CLASS[name]
        pop = cell.population(sim, n_channels * n, f"{label}.{name}", seed=int(rng.integers(2**31)))
        tau0, r0 = cell.parameters["tau_m"].value, _r(cell)
        size = n_channels * n
        tau = np.clip(tau0 * (1 + p["heterogeneity"] * rng.standard_normal(size)), 0.5 * tau0, 2 * tau0)
        r = np.clip(r0 * (1 + p["heterogeneity"] * rng.standard_normal(size)), 0.5 * r0, 2 * r0)
        pop.set(tau_m=tau, cm=tau / r)
        if p["noise_sigma"] > 0:
            # the paper adds N(0, sigma) mV to v every 0.1 ms step: a white current of s.d. sigma cm / dt
            cm = float(np.mean(tau / r))
            sim.NoisyCurrentSource(mean=0.0, stdev=p["noise_sigma"] * cm / DT_NOISE, dt=DT_NOISE).inject_into(pop)
        pops[name] = pop
    return pops


def _focused(rng, n_channels, n, k):
    """(pre, post) index arrays: every post cell draws k distinct pre cells of its own channel."""
    post = np.repeat(np.arange(n_channels * n), k)
    offs = np.argsort(rng.random((n_channels * n, n)), axis=1)[:, :k].ravel()
    pre = (post // n) * n + offs
    return pre, post


def _diffuse(rng, size, k, no_self=False):
    """(pre, post): every post cell draws k distinct pre cells of the whole nucleus."""
    keys = rng.random((size, size))
    if no_self:
        keys[np.arange(size), np.arange(size)] = 2.0
    pre = np.argsort(keys, axis=1)[:, :k].ravel()
    return pre, np.repeat(np.arange(size), k)


def _connect(sim, pre_pop, post_pop, idx, weight, delay, receptor, label, synapse=None):
    pre, post = idx
    conns = np.column_stack([pre, post, np.full(pre.size, weight), np.full(pre.size, delay)])
    syn = synapse if synapse is not None else sim.StaticSynapse()
    return sim.Projection(pre_pop, post_pop, sim.FromListConnector(conns, column_names=["weight", "delay"]),
                          syn, receptor_type=receptor, label=label)


def _weights(p):
    """Static weights (nA, inhibitory negative), from PSP peaks and relative strengths."""
    a, g = p["psp_ampa"], p["psp_gaba"]
    psc = lambda cell, psp, tau_s: psp_to_psc(psp, tau_s, cell.parameters["tau_m"].value, _r(cell))  # noqa: E731
    return {
        "ctx_d1": p["w_ctx"] * psc(MSN_D1, a, 2.0), "ctx_d2": p["w_ctx"] * psc(MSN_D2, a, 2.0),
        "ctx_stn": p["w_ctx"] * p["w_ctx_stn"] * psc(STN_CELL, a, 2.0),
        "d1_gpi": -p["w_d1_gpi"] * psc(GPI_CELL, g, 3.0), "d2_gpe": -p["w_d2_gpe"] * psc(GPE_CELL, g, 3.0),
        "stn_gpe": p["w_stn_gpe"] * psc(GPE_CELL, a, 2.0), "stn_gpi": p["w_stn_gpi"] * psc(GPI_CELL, a, 2.0),
        "gpe_stn": -p["w_gpe_stn"] * psc(STN_CELL, g, 3.0), "gpe_gpi": -p["w_gpe_gpi"] * psc(GPI_CELL, g, 3.0),
        "gpe_gpe": -p["w_gpe_gpe"] * psc(GPE_CELL, g, 3.0), "gpi_gpi": -p["w_gpi_gpi"] * psc(GPI_CELL, g, 3.0),
    }


def _twin(sim, field, name, fn, label, scale=1.0):
    """A field with ``field``'s producer and dynamics whose targets take ``fn(scale * c)`` (a
    Field has one transfer function, so each differently modulated target gets its own twin)."""
    node = field.node
    bounds = (None if node.lower == -np.inf else node.lower, None if node.upper == np.inf else node.upper)
    inner = node.fn if node.tau is None else None
    f = (lambda x: fn(scale * x)) if inner is None else (lambda x: fn(scale * inner(x)))
    twin = sim.Field(f"{label}.{name}", source=field.source, tau=node.tau, baseline=node.baseline,
                     release=node.release, bounds=bounds, units=node.units,
                     period=max(node.period, FIELD_PERIOD), delay=node.delay)
    return twin, f


def _dopamine(sim, dopamine, p, pops, label):
    """The dopamine field (given, or a constant tone) and its twins acting on the nuclei."""
    scale = 1.0 if dopamine is None else p["dopamine_scale"]
    if dopamine is None:
        silent = sim.Population(1, sim.SpikeSourceArray(spike_times=[]), label=f"{label}.tone")
        dopamine = sim.Field(f"{label}.dopamine", source=silent, tau=100.0, baseline=p["dopamine_tone"],
                             release=0.0, bounds=(0.0, 1.0), period=FIELD_PERIOD)
    das, dag = p["da_stn"], p["da_gpe"]
    gains = {"D1": lambda c: 1.0 + c, "D2": lambda c: np.maximum(1.0 - c, 0.0),
             "GPe": lambda c: np.maximum(1.0 - dag * c, 0.0), "STN": lambda c: np.maximum(1.0 - das * c, 0.0)}
    twins = {}
    for nucleus, fn in gains.items():
        twin, f = _twin(sim, dopamine, f"da->{nucleus}", fn, label, scale)
        twin.modulate(pops[nucleus], "gain", fn=f)
        twins[nucleus] = twin
    return dopamine, twins


def _plastic(sim, p, w0, dopamine, label, scale):
    """Dopamine STDP synapses for cortex -> D1 and -> D2 (mirrored dopamine at D2)."""
    syns, vts = {}, {}
    tone = p["dopamine_tone"]
    for nucleus, fn, b in (("D1", lambda c: c, tone), ("D2", lambda c: np.maximum(D2_MIRROR - c, 0.0), D2_MIRROR - tone)):
        vt = sim.Population(1, sim.VolumeTransmitter(), label=f"{label}.VT_{nucleus}")
        twin, f = _twin(sim, dopamine, f"da->VT_{nucleus}", fn, label, scale)
        twin.modulate(vt, "dopamine", fn=f)
        w = w0[f"ctx_{nucleus.lower()}"]
        syns[nucleus] = sim.DopamineSTDPMechanism(
            dopamine=vt, weight=w, delay=DELAYS["ctx_msn"], A_plus=p["a_plus"] * w, A_minus=p["a_minus"] * w,
            tau_plus=20.0, tau_minus=20.0, tau_c=p["tau_c"], tau_n=200.0, b=b, w_min=0.0, w_max=p["w_max"] * w)
        vts[nucleus] = vt
    return syns, vts


def basal_ganglia(sim, *, n_channels: int = 3, n_per_channel: int = 64, seed: int | None = None,
                  region: str | None = None, dopamine=None, learning: bool = True, override: bool = False,
                  label: str = "BG", **params) -> Module:
    """Add the Humphries et al. (2006) basal ganglia to the current session; returns its Module.

    ``n_channels`` action channels of ``n_per_channel`` cells per nucleus (D1, D2, STN, GPe,
    GPi; the paper: 3 x 64). ``dopamine``: a ``sim.Field`` whose concentration is the dopamine
    level in the paper's units (dimensionless, 0..1; tonic 0.3) once multiplied by
    ``dopamine_scale`` (e.g. 0.3 for ``neurohybrid.library.nuclei``' VTA field, 1 = tonic), and
    ``dopamine_tone`` is then the tonic level the learning rule takes as its baseline; None: a
    constant tone ``dopamine_tone``. ``learning``: cortex -> D1/D2 synapses are
    dopamine STDP (else static). ``params``: any of :data:`PARAMETERS` (published value and
    accepted range; ``override=True`` accepts values outside it). Salience enters through the
    cortical Poisson population ``CTX`` (``tonic_rate`` Hz per cell; set a channel's rate, Hz,
    with ``module.extras["set_salience"](rates)``); ports: ``salience<k>`` (rates in, Hz),
    ``cortex<k>`` (spikes in: the channel's D1, D2 and STN cells), ``gpi<k>`` (rates out, Hz),
    ``dopamine`` (field in). Time in ms, weights in nA.
    """
    _check_args(n_channels, n_per_channel, seed, region, dopamine, sim, learning)
    p, overrides = check_parameters(WHO, PARAMETERS, params, override)
    for k in ("k_focused", "k_diffuse"):
        if int(p[k]) != p[k]:
            raise ParameterError(WHO, k, f"{p[k]!r}", "an integer number of afferents")
    if p["k_focused"] > n_per_channel:
        raise ParameterError(WHO, "k_focused", f"{p['k_focused']} > n_per_channel {n_per_channel}",
                             "at most n_per_channel")
    rng = np.random.default_rng(seed)
    n, size = int(n_per_channel), int(n_channels * n_per_channel)
    kf, kd = int(p["k_focused"]), int(p["k_diffuse"])
    pops = _populations(sim, n_channels, n, rng, p, label)
    ctx = sim.Population(size, sim.SpikeSourcePoisson(rate=p["tonic_rate"]), label=f"{label}.CTX")
    w = _weights(p)
    dopamine_given = dopamine
    dopamine, twins = _dopamine(sim, dopamine, p, pops, label)
    prj, syns, vts = {}, {}, {}
    if learning:
        syns, vts = _plastic(sim, p, w, dopamine, label, 1.0 if dopamine_given is None else p["dopamine_scale"])
    for nucleus in ("D1", "D2"):
        prj[f"ctx_{nucleus.lower()}"] = _connect(sim, ctx, pops[nucleus], _focused(rng, n_channels, n, kf),
                                                 w[f"ctx_{nucleus.lower()}"], DELAYS["ctx_msn"], "excitatory",
                                                 f"{label}.ctx->{nucleus}", syns.get(nucleus))
    plan = (("ctx_stn", ctx, "STN", "f", "excitatory"), ("d1_gpi", "D1", "GPi", "f", "inhibitory"),
            ("d2_gpe", "D2", "GPe", "f", "inhibitory"), ("gpe_stn", "GPe", "STN", "f", "inhibitory"),
            ("gpe_gpi", "GPe", "GPi", "f", "inhibitory"), ("stn_gpe", "STN", "GPe", "d", "excitatory"),
            ("stn_gpi", "STN", "GPi", "d", "excitatory"), ("gpe_gpe", "GPe", "GPe", "s", "inhibitory"),
            ("gpi_gpi", "GPi", "GPi", "s", "inhibitory"))
    for name, src, tgt, kind, receptor in plan:
        if w[name] == 0.0:
            continue
        idx = _focused(rng, n_channels, n, kf) if kind == "f" else _diffuse(rng, size, kd, no_self=kind == "s")
        pre = src if not isinstance(src, str) else pops[src]
        prj[name] = _connect(sim, pre, pops[tgt], idx, w[name], DELAYS[name], receptor, f"{label}.{name}")
    pops["CTX"] = ctx
    pops["GPi"].record("spikes")
    return _handle(sim, pops, prj, dopamine, twins, vts, p, overrides, region, n_channels, n, label, w)


def _handle(sim, pops, prj, dopamine, twins, vts, p, overrides, region, n_channels, n, label, w):
    ports = {"dopamine": Port("dopamine", "field", "in", dopamine, "1 (0..1, tonic 0.3)",
                              "dopamine level: D1 gain 1+c, D2 1-c, GPe 1-0.5c, STN 1-0.25c; STDP third factor")}
    for k in range(n_channels):
        sl = slice(k * n, (k + 1) * n)
        ports[f"salience{k}"] = Port(f"salience{k}", "rates", "in", pops["CTX"][sl], "Hz",
                                     f"salience of channel {k}: the rate of its cortical Poisson cells "
                                     "(extras['set_salience'])")
        ports[f"cortex{k}"] = Port(f"cortex{k}", "spikes", "in", [pops[x][sl] for x in ("D1", "D2", "STN")], "",
                                   f"cortical spikes for channel {k}: project onto its D1, D2 and STN cells "
                                   "(excitatory; extras['weights'] has the module's own, nA)")
        ports[f"gpi{k}"] = Port(f"gpi{k}", "rates", "out", pops["GPi"][sl], "Hz",
                                f"GPi/SNr output of channel {k}: low rate = channel selected (disinhibited)")

    def set_salience(rates):
        """Set each channel's cortical input rate (Hz per cortical cell); takes effect at the next run."""
        r = np.asarray(rates, dtype=float)
        if r.shape != (n_channels,) or not np.all(np.isfinite(r)) or np.any(r < 0) or np.any(r > 200):
            raise ParameterError(WHO, "salience", f"{rates!r}", f"{n_channels} rates in [0, 200] Hz")
        pops["CTX"].set(rate=np.repeat(r, n))

    def channel_rates(nucleus="GPi", t_start=0.0, t_stop=None):
        """Mean rate (Hz) per channel of a recorded nucleus over [t_start, t_stop) ms."""
        return channel_rates_of(pops[nucleus], n_channels, n, t_start, t_stop if t_stop is not None else sim.get_current_time())

    extras = {"projections": prj, "weights": w, "dopamine_twins": twins, "volume_transmitters": vts,
              "set_salience": set_salience, "channel_rates": channel_rates, "n_per_channel": n,
              "n_channels": n_channels}
    return Module("basal_ganglia", pops, ports, dict(p), SOURCE, region, overrides, extras)


def channel_rates_of(pop, n_channels, n, t_start, t_stop):
    """Mean rate (Hz) per channel of ``pop``'s recorded spikes in [t_start, t_stop) ms."""
    if not t_stop > t_start:
        raise ParameterError(WHO, "t_stop", f"{t_stop!r} <= t_start {t_start!r}", "t_stop > t_start (ms)")
    trains = pop.get_data("spikes", clear=False).segments[-1].spiketrains
    counts = np.array([np.count_nonzero((np.asarray(s.magnitude) >= t_start) & (np.asarray(s.magnitude) < t_stop))
                       for s in trains], dtype=float)
    return counts.reshape(n_channels, n).mean(axis=1) / ((t_stop - t_start) * 1e-3)


def corticostriatal_weights(module, nucleus="D1"):
    """Mean cortex -> ``nucleus`` weight (nA) per channel."""
    prj = module.extras["projections"][f"ctx_{nucleus.lower()}"]
    n, c = module.extras["n_per_channel"], module.extras["n_channels"]
    conns = np.asarray(prj.get(["weight"], format="list", with_address=True), dtype=float)
    post, wt = conns[:, 1].astype(int), conns[:, 2]
    return np.array([wt[post // n == k].mean() for k in range(c)])


def run_schedule(sim, module, schedule, settle: float = 100.0, nucleus: str = "GPi") -> np.ndarray:
    """Run ``schedule`` = [(rates per channel Hz, duration ms), ...] (the salience of each
    channel's cortical input, held for the duration) and return the mean rate (Hz) of
    ``nucleus`` per segment and channel, skipping the first ``settle`` ms of each segment."""
    out = []
    for rates, duration in schedule:
        if not (isinstance(duration, (int, float)) and duration > settle):
            raise ParameterError(WHO, "schedule", f"segment duration {duration!r} ms", f"a number > settle ({settle} ms)")
        module.extras["set_salience"](rates)
        t = sim.get_current_time()
        sim.run(float(duration))
        out.append(module.extras["channel_rates"](nucleus, t + settle, t + duration))
    return np.array(out)


def selected(gpi_rates, threshold: float = 5.0) -> np.ndarray:
    """Channels whose GPi/SNr rate (Hz) is below ``threshold`` (the paper's selection criterion,
    5 Hz: ModelDB ``batch_selection_grid_DA.m`` / ``mean_outputs.m``)."""
    return np.asarray(gpi_rates) < threshold
