"""The cortical microcircuit of Potjans & Diesmann (2014), as one library call.

Potjans TC, Diesmann M (2014) The cell-type specific cortical microcircuit: relating structure
and activity in a full-scale spiking network model. Cereb Cortex 24(3):785-806,
doi:10.1093/cercor/bhs358 ("PD14"). The network under 1 mm^2 of early sensory cortex: four
layers (L2/3, L4, L5, L6), an excitatory (E) and an inhibitory (I) population in each, 77,169
current-based LIF neurons (IF_curr_exp) and ~0.3 billion synapses; connection probabilities
from PD14 Table 5 (the ``conn_probs`` of NEST's PyNEST microcircuit example); Poisson
background of 8 Hz through ``K_ext`` external synapses per neuron (PD14 Table 5, layer-specific
"K_ext" column); optional thalamic input (902 neurons onto L4 and L6, PD14 Table 5, last column).

Downscaling (``n_scale`` < 1 scales the neuron numbers, ``k_scale`` < 1 the in-degrees) follows
NEST's microcircuit example (``helpers.adjust_weights_and_input_to_synapse_scaling``, van
Albada, Helias & Diesmann 2015, PLoS Comput Biol 11:e1004490): the in-degree of every
connection is kept at ``k_scale`` times the full-scale in-degree whatever ``n_scale`` is (the
total number of synapses, drawn with PyNN's ``FixedTotalNumberConnector`` as in PD14, is the
scaled in-degree times the scaled target size); when ``k_scale`` < 1 every weight is divided by
sqrt(k_scale) (keeps the input variance) and a DC current restores the lost mean input,
``I_dc = tau_syn * (1 - sqrt(k_scale)) * (sum_j J_ij K_ij r_j + J K_ext nu_bg)``, with the
full-scale rates ``r_j`` of NEST's example (``full_mean_rates``, the reference rates below).

Units: weights pA in the parameters (nA in PyNN), delays ms, rates Hz, currents nA on cells.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..errors import ParameterError
from .base import Module, Port, Range, check_parameters
from .cells import CellClass, SynapseFamily

SOURCE = ("Potjans TC, Diesmann M (2014) Cereb Cortex 24:785-806 (Tables 4-5); downscaling and "
          "reference rates: NEST 3 PyNEST microcircuit example (network_params.py, helpers.py)")

#: the eight populations, in PD14's order
POPULATIONS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")
#: full-scale population sizes (PD14 Table 5, "N")
N_FULL = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])
#: connection probabilities, row = target, column = source (PD14 Table 5)
CONN_PROBS = np.array([
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.1350, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.0600, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.0010, 0.0034, 0.0005, 0.0277, 0.0080, 0.0658, 0.1443]])
#: external (background) in-degrees per population (PD14 Table 5, "K_ext")
K_EXT = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])
#: thalamus: 902 neurons, connection probabilities onto each population (PD14 Table 5, "Th")
N_THAL = 902
TH_PROBS = np.array([0.0, 0.0, 0.0983, 0.0619, 0.0, 0.0, 0.0512, 0.0196])
#: full-scale rates (Hz) of NEST's PyNEST microcircuit (network_params.py "full_mean_rates":
#: N_scaling = K_scaling = 1, Poisson background); PD14 Fig. 6 shows the same ordering
#: (L2/3e lowest, L5 highest, L6e low)
REFERENCE_RATES = dict(zip(POPULATIONS, (0.943, 3.026, 4.368, 5.882, 7.733, 8.664, 1.096, 7.851)))
#: initial membrane potentials (mean, SD; mV) per population: NEST's "optimized" V0 (Jiang 2019),
#: used as a uniform distribution with the same mean and SD
V0 = dict(zip(POPULATIONS, ((-68.28, 5.36), (-63.16, 4.57), (-63.33, 4.74), (-63.45, 4.94),
                            (-63.11, 4.94), (-61.66, 4.55), (-66.72, 5.46), (-61.43, 4.48))))
#: populations a thalamic / cortico-cortical input reaches (PD14: L4 and L6)
INPUT_TARGETS = ("L4E", "L4I", "L6E", "L6I")


def _lif_class(name: str) -> CellClass:
    """The PD14 LIF (PD14 Table 4: C 250 pF, tau_m 10 ms, tau_syn 0.5 ms, E_L = V_reset = -65 mV,
    V_th -50 mV, t_ref 2 ms); ranges: the cortical pyramidal/interneuron values the point-model
    literature uses (not from PD14, which fixes one value)."""
    mean, sd = V0[name]
    half = math.sqrt(3.0) * sd
    return CellClass(
        name=name, model="IF_curr_exp",
        parameters={
            "cm": Range(0.25, 0.05, 1.0, "nF"),
            "tau_m": Range(10.0, 5.0, 40.0, "ms"),
            "tau_syn_E": Range(0.5, 0.1, 10.0, "ms"),
            "tau_syn_I": Range(0.5, 0.1, 20.0, "ms"),
            "v_rest": Range(-65.0, -80.0, -55.0, "mV"),
            "v_reset": Range(-65.0, -80.0, -55.0, "mV"),
            "v_thresh": Range(-50.0, -60.0, -40.0, "mV"),
            "tau_refrac": Range(2.0, 0.0, 5.0, "ms"),
            "i_offset": Range(0.0, -1.0, 1.0, "nA"),
        },
        synapses=(SynapseFamily("AMPA", "excitatory", 0.5), SynapseFamily("GABA_A", "inhibitory", 0.5)),
        source="Potjans & Diesmann (2014) Cereb Cortex 24:785, Table 4; V0: NEST microcircuit 'optimized'",
        initial_v=(round(mean - half, 3), round(mean + half, 3)),
        notes=f"{name} of the PD14 microcircuit")


#: the canonical cell classes of this file (one per population; identical dynamics, own V0)
CELLS = tuple(_lif_class(name) for name in POPULATIONS)
_CELL = {c.name: c for c in CELLS}

#: parameters of :func:`cortex`: published value, sanity range, units
PARAMETERS = {
    "n_scale": Range(0.1, 1e-4, 1.0, "1"),           # fraction of PD14's neurons
    "k_scale": Range(0.1, 1e-3, 1.0, "1"),           # fraction of PD14's in-degrees
    "J": Range(87.8, 10.0, 300.0, "pA"),             # PD14 Table 5: w = 87.8 pA (PSP 0.15 mV)
    "g": Range(-4.0, -8.0, -1.0, "1"),               # PD14: inhibitory weight = g * J
    "l4e_to_l23e": Range(2.0, 1.0, 4.0, "1"),        # PD14: L4E -> L2/3E weight doubled
    "weight_rel_sd": Range(0.1, 0.0, 0.5, "1"),      # PD14 Table 5: 87.8 +- 8.8 pA
    "delay_exc": Range(1.5, 0.1, 10.0, "ms"),        # PD14 Table 5: d_e = 1.5 +- 0.75 ms
    "delay_inh": Range(0.8, 0.1, 10.0, "ms"),        # PD14 Table 5: d_i = 0.8 +- 0.4 ms
    "delay_rel_sd": Range(0.5, 0.0, 1.0, "1"),
    "bg_rate": Range(8.0, 0.0, 30.0, "Hz"),          # PD14: nu_bg = 8 Hz per external synapse
    "th_rate": Range(120.0, 0.0, 500.0, "Hz"),       # NEST stimulus_params: 120 Hz pulse
    "th_start": Range(700.0, 0.0, None, "ms"),
    "th_duration": Range(10.0, 0.0, None, "ms"),
}
BACKGROUNDS = ("poisson", "dc")


def cortex(sim, *, n_scale: float = 0.1, k_scale: float = 0.1, seed: int = 1, region: str | None = None,
           thalamus: bool = False, background: str = "poisson", l5_island=None, override: bool = False,
           **params) -> Module:
    """Build the PD14 microcircuit in the current session and return its :class:`Module`.

    ``n_scale`` (0, 1]: fraction of PD14's 77,169 neurons; ``k_scale`` (0, 1]: fraction of its
    in-degrees (weights / sqrt(k_scale) and a DC compensation when < 1, see the module doc).
    ``seed`` (int): every random draw (initial V, connections, weights, delays, Poisson
    sources). ``thalamus``: add PD14's 902 * n_scale thalamic Poisson cells (``th_rate`` Hz
    from ``th_start`` for ``th_duration`` ms) onto L4/L6. ``background``: ``"poisson"`` (one
    generator per neuron at ``k_scale * K_ext * bg_rate`` Hz, weight J / sqrt(k_scale)) or ``"dc"``
    (its full-scale mean as a current, ``tau_syn * K_ext * bg_rate * J``, as NEST's
    ``poisson_input=False``). ``region``: prefixes the labels (``"<region>.L23E"``) and is kept in
    the handle. ``l5_island``: not implemented (must be None).
    ``params``: the entries of :data:`PARAMETERS` (J pA, g, delays ms, rates Hz, ...).

    Ports: ``<pop>.spikes`` (out, every population), ``<pop>.rates`` (out, Hz), ``input.spikes``
    / ``input.rates`` (in: spikes or rates onto L4E, L4I, L6E, L6I, e.g. a thalamus or a
    scaffold seam's ``rates_to_spikes(targets=list(port.target))``; :func:`connect_input`
    projects a spike source with PD14's thalamic in-degrees), ``gain`` and ``excitability``
    (field in: all eight populations, for ``Field.modulate``)."""
    who = "cortex module"
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ParameterError(who, "seed", f"{seed!r}", "an integer")
    if background not in BACKGROUNDS:
        raise ParameterError(who, "background", f"{background!r}", ", ".join(map(repr, BACKGROUNDS)))
    if not isinstance(thalamus, bool):
        raise ParameterError(who, "thalamus", f"{thalamus!r}", "True or False")
    if region is not None and not isinstance(region, str):
        raise ParameterError(who, "region", f"{region!r}", "a region name (str) or None")
    if l5_island is not None:
        raise ParameterError(who, "l5_island", f"{l5_island!r}: the L5 island is not implemented in this module yet",
                             "None (see examples/l5_island.py for NEURON L5 cells in a point circuit)")
    p, overrides = check_parameters(who, PARAMETERS, dict(params, n_scale=n_scale, k_scale=k_scale), override)
    for name in ("n_scale", "k_scale"):
        if not p[name] > 0:
            raise ParameterError(who, name, f"{p[name]!r}", "a number in (0, 1]")
    tag = f"{region}." if region else ""
    sizes = np.maximum(1, np.round(N_FULL * p["n_scale"]).astype(int))
    weights = weight_matrix(p)
    dc = dc_compensation(p, weights) + (background_dc(p) if background == "dc" else 0.0)
    pops = {}
    for i, name in enumerate(POPULATIONS):
        pops[name] = _CELL[name].population(sim, int(sizes[i]), f"{tag}{name}", seed=seed * 1009 + i,
                                            override=True, i_offset=float(dc[i]) * 1e-3)
    with warnings.catch_warnings():
        # PD14's normal delays are rounded to the time grid, as NEST does: no warning per projection
        warnings.filterwarnings("ignore", message=".*off the dt=.*grid rounded")
        projections = _recurrent(sim, pops, sizes, weights, p, seed)
        if background == "poisson":
            projections.update(_poisson_background(sim, pops, p, seed, tag))
    extras = {"projections": projections, "sizes": dict(zip(POPULATIONS, sizes.tolist())),
              "dc_pA": dict(zip(POPULATIONS, dc.tolist())), "weights_pA": weights}
    if thalamus:
        n_th = max(1, int(round(N_THAL * p["n_scale"])))
        th = sim.Population(n_th, sim.SpikeSourcePoisson(rate=p["th_rate"], start=p["th_start"],
                                                         duration=p["th_duration"]), label=f"{tag}TC")
        extras["thalamus"] = th
        extras["projections"].update(connect_input(sim, pops, th, n_source_full=N_THAL, seed=seed + 7,
                                                   k_scale=p["k_scale"], J=p["J"]))
    parameters = dict(p, seed=seed, thalamus=thalamus, background=background, region=region)
    return Module(name="cortex", populations=pops, ports=_ports(pops), parameters=parameters,
                  source=SOURCE, region=region, overrides=overrides, extras=extras)


def full_indegrees() -> np.ndarray:
    """PD14's full-scale in-degrees K_ij (synapses per target neuron; row target, column source):
    the expected number of synapses log(1 - p) / log(1 - 1 / (N_pre N_post)) over N_post."""
    prod = np.outer(N_FULL, N_FULL).astype(float)
    total = np.log(1.0 - CONN_PROBS) / np.log1p(-1.0 / prod)
    return total / N_FULL[:, None]


def weight_matrix(p: dict) -> np.ndarray:
    """Mean weights (pA, row target, column source): J from E, g J from I, L4E -> L2/3E scaled
    by ``l4e_to_l23e``; divided by sqrt(k_scale)."""
    w = np.tile(np.array([1.0, p["g"]] * 4), (8, 1)) * p["J"]
    w[0, 2] *= p["l4e_to_l23e"]
    return w / math.sqrt(p["k_scale"])


def dc_compensation(p: dict, weights: np.ndarray) -> np.ndarray:
    """The DC (pA per neuron) that restores the mean input lost when in-degrees are scaled by
    k_scale < 1 (van Albada et al. 2015; NEST microcircuit example): tau_syn (s) x (1 - sqrt(k))
    x (recurrent + background mean input at full scale, pA/s)."""
    k = p["k_scale"]
    full_w = weights * math.sqrt(k)
    rates = np.array([REFERENCE_RATES[n] for n in POPULATIONS])
    recurrent = (full_w * full_indegrees() * rates).sum(axis=1)
    external = p["J"] * K_EXT * p["bg_rate"]
    return 0.5e-3 * (1.0 - math.sqrt(k)) * (recurrent + external)


def background_dc(p: dict) -> np.ndarray:
    """The Poisson background's mean as a DC (pA): tau_syn x K_ext x nu_bg x J, the part the
    (in-degree-scaled) Poisson input would have carried: sqrt(k_scale) of the full mean."""
    return 0.5e-3 * K_EXT * p["bg_rate"] * p["J"] * math.sqrt(p["k_scale"])


def _total_number_connector():
    """PyNN's FixedTotalNumberConnector with its draws batched (defined lazily: PyNN is imported
    by the front end)."""
    global _TotalNumber
    if _TotalNumber is not None:
        return _TotalNumber
    from copy import copy

    from pyNN.connectors import FixedTotalNumberConnector

    class TotalNumberConnector(FixedTotalNumberConnector):
        """PyNN's FixedTotalNumberConnector: ``n`` synapses whose sources and targets are drawn
        uniformly, with replacement, autapses allowed (PD14's rule, NEST's ``fixed_total_number``
        with multapses and autapses); PyNN draws them one Python call per synapse, this draws
        them in two vectors from the same rng (same distribution; 30 M synapses in seconds).
        Other options fall back to PyNN's own implementation."""

        def connect(self, projection):
            if not (self.with_replacement and self.allow_self_connections is True and isinstance(self.n, int)
                    and projection._simulator.state.num_processes == 1):
                return super().connect(projection)
            n_pre, n_post = projection.pre.size, projection.post.size
            draw = self.rng.next
            src = np.asarray(draw(self.n, "uniform_int", {"low": 0, "high": n_pre}, mask=None), dtype=np.int64)
            tgt = np.asarray(draw(self.n, "uniform_int", {"low": 0, "high": n_post}, mask=None), dtype=np.int64)
            order = np.argsort(tgt, kind="stable")
            src, tgt = src[order], tgt[order]
            values = {}
            space = projection.synapse_type.native_parameters
            syn = projection.synapse_type
            for name, lazy in space.items():
                if lazy.is_homogeneous:
                    values[name] = lazy.evaluate(simplify=True)
                    continue
                flat = copy(lazy)
                flat.shape = (self.n,)
                values[name] = np.asarray(flat.evaluate(simplify=False), dtype=float)
            if self.safe:
                for pname, check in getattr(syn, "parameter_checks", {}).items():
                    native = syn.translations[pname]["translated_name"]
                    if native in values:
                        check(values[native], projection)
            bounds = np.searchsorted(tgt, np.arange(n_post + 1))
            cells = projection.post.id_to_index(projection.post.all_cells)
            for j in np.flatnonzero(np.diff(bounds)):
                a, b = bounds[j], bounds[j + 1]
                projection._convergent_connect(
                    src[a:b], cells[j], location_selector=self.location_selector,
                    **{k: (v[a:b] if np.ndim(v) else v) for k, v in values.items()})

    _TotalNumber = TotalNumberConnector
    return _TotalNumber


_TotalNumber = None


def _dist(sim, mean: float, rel_sd: float, seed: int, low: float, high: float):
    """A truncated-normal RandomDistribution (``normal_clipped``) with its own seeded stream."""
    if rel_sd <= 0:
        return mean
    return sim.RandomDistribution("normal_clipped", mu=mean, sigma=abs(mean) * rel_sd, low=low, high=high,
                                  rng=sim.NumpyRNG(seed=seed))


def _synapse(sim, w_pA: float, delay: float, p: dict, seed: int):
    """A StaticSynapse with PD14's weight (nA, clipped at 0 on its sign) and delay (ms, >= dt)."""
    w = w_pA * 1e-3
    low, high = (0.0, np.inf) if w >= 0 else (-np.inf, 0.0)
    dt = sim.get_time_step()
    return sim.StaticSynapse(weight=_dist(sim, w, p["weight_rel_sd"], seed, low, high),
                             delay=_dist(sim, delay, p["delay_rel_sd"], seed + 1, dt, np.inf))


def _recurrent(sim, pops: dict, sizes: np.ndarray, weights: np.ndarray, p: dict, seed: int) -> dict:
    """The 64 (minus the empty) recurrent projections: FixedTotalNumberConnector with
    round(k_scale K_ij N_post) synapses, autapses and multapses allowed (PD14)."""
    indeg = full_indegrees() * p["k_scale"]
    out = {}
    for i, post in enumerate(POPULATIONS):
        for j, pre in enumerate(POPULATIONS):
            n = int(round(indeg[i, j] * sizes[i]))
            if n == 0:
                continue
            s = seed * 7919 + 100 * i + 10 * j
            delay = p["delay_exc"] if j % 2 == 0 else p["delay_inh"]
            conn = _total_number_connector()(n, allow_self_connections=True, with_replacement=True,
                                             rng=sim.NumpyRNG(seed=s))
            out[f"{pre}->{post}"] = sim.Projection(
                pops[pre], pops[post], conn, _synapse(sim, weights[i, j], delay, p, s + 3),
                receptor_type="excitatory" if j % 2 == 0 else "inhibitory", label=f"{pre}->{post}")
    return out


def _poisson_background(sim, pops: dict, p: dict, seed: int, tag: str) -> dict:
    """One Poisson generator per neuron at k_scale K_ext nu_bg Hz, weight J / sqrt(k_scale) (pA),
    delay 1.5 ms (NEST's poisson_delay)."""
    out = {}
    w = p["J"] / math.sqrt(p["k_scale"]) * 1e-3
    for i, name in enumerate(POPULATIONS):
        rate = float(K_EXT[i] * p["bg_rate"] * p["k_scale"])
        if rate <= 0:
            continue
        src = sim.Population(pops[name].size, sim.SpikeSourcePoisson(rate=rate), label=f"{tag}bg->{name}")
        out[f"bg->{name}"] = sim.Projection(src, pops[name], sim.OneToOneConnector(),
                                            sim.StaticSynapse(weight=w, delay=1.5), receptor_type="excitatory",
                                            label=f"bg->{name}")
    return out


def connect_input(sim, target, source, *, n_source_full: int = N_THAL, probabilities=None, J: float = 87.8,
                  k_scale: float = 1.0, delay: float = 1.5, seed: int = 0) -> dict:
    """Project spike-source population ``source`` onto the input populations (L4E, L4I, L6E,
    L6I) of ``target`` (a cortex Module or its populations dict) with PD14's thalamic
    connectivity: ``probabilities`` (default PD14 Table 5 "Th" column) between a full-scale
    source of ``n_source_full`` cells and the full-scale targets give full in-degrees, scaled
    by ``k_scale`` (weights J / sqrt(k_scale) pA, delays ``delay`` +- 50 % ms). Returns the
    projections by name."""
    pops = target.populations if isinstance(target, Module) else target
    probs = TH_PROBS if probabilities is None else np.asarray(probabilities, dtype=float)
    if probs.shape != (8,) or np.any(probs < 0) or np.any(probs >= 1):
        raise ParameterError("cortex.connect_input", "probabilities", f"{probabilities!r}",
                             "8 connection probabilities in [0, 1)")
    prod = (N_FULL * float(n_source_full))
    indeg = np.log(1.0 - probs) / np.log1p(-1.0 / prod) / N_FULL * k_scale
    p = {"weight_rel_sd": 0.1, "delay_rel_sd": 0.5}
    out = {}
    for i, name in enumerate(POPULATIONS):
        n = int(round(indeg[i] * pops[name].size))
        if n == 0:
            continue
        conn = _total_number_connector()(n, with_replacement=True, rng=sim.NumpyRNG(seed=seed * 31 + i))
        syn = _synapse(sim, J / math.sqrt(k_scale), delay, p, seed * 31 + i + 500)
        with warnings.catch_warnings():   # normal delays rounded to the grid, as NEST does
            warnings.filterwarnings("ignore", message=".*off the dt=.*grid rounded")
            out[f"{source.label}->{name}"] = sim.Projection(source, pops[name], conn, syn,
                                                            receptor_type="excitatory", label=f"{source.label}->{name}")
    return out


def _ports(pops: dict) -> dict:
    ports = {}
    for name, pop in pops.items():
        ports[f"{name}.spikes"] = Port(f"{name}.spikes", "spikes", "out", pop, "ms, neuron id", f"spikes of {name}")
        ports[f"{name}.rates"] = Port(f"{name}.rates", "rates", "out", pop, "Hz", f"population rate of {name}")
    inputs = tuple(pops[n] for n in INPUT_TARGETS)
    ports["input.spikes"] = Port("input.spikes", "spikes", "in", inputs, "ms, neuron id",
                                 "thalamic / cortico-cortical spikes onto L4E, L4I, L6E, L6I (connect_input)")
    ports["input.rates"] = Port("input.rates", "rates", "in", inputs, "Hz",
                                "rates onto L4/L6 (a seam's rates_to_spikes(targets=list(target)))")
    every = list(pops.values())
    ports["gain"] = Port("gain", "field", "in", every, "1", "factor on synaptic input (Field.modulate 'gain')")
    ports["excitability"] = Port("excitability", "field", "in", every, "1",
                                 "factor dividing v_thresh - v_rest (Field.modulate 'excitability')")
    return ports


def layer_rates(module: Module, t_start: float = 0.0, t_stop: float | None = None) -> dict:
    """Mean firing rate (Hz) of every population of a recorded cortex ``module`` over
    [t_start, t_stop) ms (t_stop None: the current simulation time)."""
    out = {}
    for name, pop in module.populations.items():
        trains = pop.get_data("spikes", clear=False).segments[-1].spiketrains
        stop = float(trains[0].t_stop) if t_stop is None and trains else t_stop
        count = sum(int(np.count_nonzero((np.asarray(st.magnitude) >= t_start) & (np.asarray(st.magnitude) < stop)))
                    for st in trains)
        out[name] = count / (pop.size * (stop - t_start) * 1e-3)
    return out
