"""NIR (Neuromorphic Intermediate Representation, ``nir`` 1.0) export and import of the spiking
partition of a model graph.

Export (:func:`graph_to_nir`, :func:`write_nir`)
-----------------------------------------------
Each node of the graph becomes NIR nodes:

- a spike source population → ``Input`` (shape ``(size,)``);
- ``IF_curr_exp`` → ``CubaLIF``; ``IF_curr_delta`` → ``LIF``; each is followed by an
  ``Output`` node named ``<population>.out``;
- each projection edge → one ``Linear`` node (``Affine`` is read, never written: PyNN's constant
  input is the neuron's ``i_offset``) per distinct delay, weights as an (n_post, n_pre) matrix
  (synapses on the same pair with the same delay are summed, which is exact for
  current-based synapses); when the delay is not one time step a ``Delay`` node follows it.

Units and semantics. NIR states continuous-time equations and no units; we write SI units
(s, V, A, Ω) and read the equations literally, spikes being Dirac deltas:

- ``CubaLIF``: ``tau_syn dI/dt = -I + w_in S``, ``tau_mem dv/dt = (v_leak - v) + r I``. From
  IF_curr_exp: ``tau_mem = tau_m``, ``tau_syn = tau_syn_E`` (= ``tau_syn_I``; a population whose
  two receptors are both used with different time constants cannot be one CubaLIF and is
  refused), ``r = tau_m / cm``, ``v_leak = v_rest + r i_offset`` (the constant input folded into
  the leak potential, exact), ``w_in = 1``. A PyNN weight ``w`` (nA, a jump of I) is written
  ``W = w tau_syn`` (A·s), since a Dirac of weight W makes I jump by ``W / tau_syn``.
- ``LIF``: ``tau dv/dt = (v_leak - v) + r I``. From IF_curr_delta (``w`` in mV, a jump of v):
  ``W = w tau / r``.
- ``Delay``: the whole PyNN delay in s (graph metadata ``delay_convention``); no Delay node
  means a delay of one time step.

NIR has no refractory period, and the constant input is folded into ``v_leak``: every node
therefore also carries its exact PyNN parameters in its metadata (``neurohybrid_model``,
``pynn_<parameter>`` arrays; a source's ``spike_times`` as ``pynn_spike_times`` +
``pynn_spike_counts``), and each Linear node its ``pre``, ``post``, ``receptor`` and ``label``,
so that a neurohybrid → NIR → neurohybrid round trip is exact. Node names are the labels with
``%`` and ``/`` percent-escaped (NIR files are HDF5: ``/`` separates groups).

Import (:func:`read_nir`, :func:`nir_to_model`)
------------------------------------------------
Accepts graphs of ``Input``, ``Output``, ``CubaLIF``, ``LIF``, ``Affine``, ``Linear`` and
``Delay`` nodes (with the conventions above; metadata written by neurohybrid takes precedence).
A CubaLIF becomes an IF_curr_exp (``cm = tau_mem / r``, ``v_rest = v_leak``, ``i_offset = 0``,
both synaptic time constants ``tau_syn``), a LIF an IF_curr_delta; an Input a
SpikeSourceArray (empty unless the metadata describes the source); an Affine bias is added to
the target's ``i_offset`` (exact for LIF; for CubaLIF a constant current bias, which differs
from filtering the bias through the synapse only during the first ``tau_syn``). Weights are
split by sign into excitatory (>= 0) and inhibitory (< 0, kept negative as PyNN's
current-based synapses want them) projections unless the metadata names the receptor.
Populations feeding an ``Output`` node are marked for spike recording. Anything else
(convolutions, pooling, nested graphs, LI/IF/CubaLI neurons) is an UnsupportedModelError.
Learned sensory encoders in NIR are read by :mod:`.nir_encoders`.

"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurohybrid.errors import ParameterError, UnsupportedModelError
from neurohybrid.graph import ModelGraph

from .nir_encoders import ENCODER_PRIMITIVES, nir_encoder_layers  # noqa: F401 (learned encoders: nir_encoders.py)

__all__ = ["graph_to_nir", "write_nir", "read_nir", "nir_to_model", "NIRPopulation", "NIRProjection", "NIRModel",
           "nir_encoder_layers", "ENCODER_PRIMITIVES"]

_MS = 1e-3  # ms -> s
_MV = 1e-3  # mV -> V
_NA = 1e-9  # nA -> A
_MOHM = 1e6  # MΩ -> Ω

EXPORTABLE = {"IF_curr_exp": "CubaLIF", "IF_curr_delta": "LIF"}
_SPIKE_SOURCE_MODELS = ("SpikeSourcePoisson", "SpikeSourcePoissonRefractory", "SpikeSourceGamma", "SpikeSourceArray",
                        "SpikeSourceExternal")
IMPORTABLE_NODES = ("Input", "Output", "CubaLIF", "LIF", "Affine", "Linear", "Delay")


def _nir():
    import nir
    return nir


def node_name(label: str) -> str:
    """NIR node name of a label: ``%`` and ``/`` percent-escaped (HDF5 group names)."""
    return label.replace("%", "%25").replace("/", "%2F")


def label_of(name: str) -> str:
    """Inverse of :func:`node_name`."""
    return name.replace("%2F", "/").replace("%25", "%")


# --------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------

def _pynn_metadata(node) -> dict:
    meta = {"neurohybrid_model": node.model, "label": node.name}
    for key, value in node.parameters.items():
        if key == "spike_times":
            trains = [np.asarray(v, dtype=float) for v in value]
            meta["pynn_spike_times"] = np.concatenate(trains) if trains else np.zeros(0)
            meta["pynn_spike_counts"] = np.asarray([t.size for t in trains], dtype=np.int64)
        else:
            meta[f"pynn_{key}"] = np.asarray(value, dtype=float)
    for key, value in node.initial.items():
        meta[f"pynn_initial_{key}"] = np.asarray(value, dtype=float)
    return meta


def _used_receptors(graph: ModelGraph) -> dict[str, set]:
    used: dict[str, set] = {}
    for e in graph.edges:
        if e.pre_index.size:
            used.setdefault(e.post, set()).add(e.receptor)
    return used


def _neuron_node(node, receptors: set):
    nir = _nir()
    p = {k: np.asarray(v, dtype=float) for k, v in node.parameters.items()}
    r = p["tau_m"] / p["cm"]  # MΩ
    common = dict(r=r * _MOHM, v_leak=(p["v_rest"] + r * p["i_offset"]) * _MV, v_threshold=p["v_thresh"] * _MV,
                  v_reset=p["v_reset"] * _MV, metadata=_pynn_metadata(node))
    if node.model == "IF_curr_delta":
        return nir.LIF(tau=p["tau_m"] * _MS, **common)
    tau_e, tau_i = p["tau_syn_E"], p["tau_syn_I"]
    if {"excitatory", "inhibitory"} <= receptors and not np.array_equal(tau_e, tau_i):
        raise UnsupportedModelError(node.name, "tau_syn_I",
                                    "differs from tau_syn_E while both receptors receive input; NIR's CubaLIF "
                                    "has one synaptic time constant",
                                    "tau_syn_E == tau_syn_I, or input on one receptor type only")
    tau_syn = tau_i if receptors == {"inhibitory"} else tau_e
    return nir.CubaLIF(tau_syn=tau_syn * _MS, tau_mem=p["tau_m"] * _MS, w_in=np.ones(node.size), **common)


def _weight_to_nir(post_node, post_index: np.ndarray, receptor: str, w: np.ndarray) -> np.ndarray:
    """PyNN weights (nA for IF_curr_exp, mV for IF_curr_delta) -> NIR Linear weights (SI, Dirac)."""
    p = post_node.parameters
    if post_node.model == "IF_curr_delta":
        tau = np.asarray(p["tau_m"], float)[post_index] * _MS
        r = (np.asarray(p["tau_m"], float) / np.asarray(p["cm"], float))[post_index] * _MOHM
        return w * _MV * tau / r
    key = "tau_syn_I" if receptor == "inhibitory" else "tau_syn_E"
    return w * _NA * np.asarray(p[key], float)[post_index] * _MS


def _projection_label(edge) -> str:
    """The PyNN projection label of an edge (edge names are ``<label>[<pre>-><post>]``)."""
    suffix = f"[{edge.pre}->{edge.post}]"
    return edge.name[:-len(suffix)] if edge.name.endswith(suffix) and len(edge.name) > len(suffix) else edge.name


def graph_to_nir(graph: ModelGraph):
    """The spiking partition of ``graph`` as a ``nir.NIRGraph`` (see the module docstring).

    Raises UnsupportedModelError for cell types other than IF_curr_exp / IF_curr_delta and
    synapse types other than StaticSynapse, naming the population or projection.
    """
    nir = _nir()
    nodes, edges = {}, []
    receptors = _used_receptors(graph)
    for node in graph.nodes.values():
        name = node_name(node.name)
        if node.kind == "source" and node.model not in _SPIKE_SOURCE_MODELS:
            raise UnsupportedModelError(node.name, "celltype", f"{node.model} is a sensory encoder, computed on "
                                        "the host; NIR has no form for it", "spike sources ("
                                        + ", ".join(_SPIKE_SOURCE_MODELS) + ") as NIR Input nodes")
        if node.kind == "source":
            nodes[name] = nir.Input(input_type={"input": np.array([node.size])}, metadata=_pynn_metadata(node))
        elif node.model in EXPORTABLE:
            nodes[name] = _neuron_node(node, receptors.get(node.name, set()))
            nodes[name + ".out"] = nir.Output(output_type={"output": np.array([node.size])})
            edges.append((name, name + ".out"))
        else:
            raise UnsupportedModelError(node.name, "celltype", f"{node.model} has no NIR equivalent here",
                                        ", ".join(EXPORTABLE) + " and spike sources")
    for k, e in enumerate(graph.edges):
        if e.synapse != "StaticSynapse":
            raise UnsupportedModelError(e.name, "synapse_type", f"{e.synapse} has no NIR equivalent",
                                        "StaticSynapse")
        pre, post = graph.nodes[e.pre], graph.nodes[e.post]
        pre_i = np.asarray(e.pre_index, np.int64)
        post_i = np.asarray(e.post_index, np.int64)
        w = np.broadcast_to(np.asarray(e.values["weight"], float), pre_i.shape)
        d = np.broadcast_to(np.asarray(e.values["delay"], float), pre_i.shape)
        d_ticks = np.rint(d / graph.dt).astype(np.int64)
        for ticks in np.unique(d_ticks) if d_ticks.size else [1]:
            sel = d_ticks == ticks
            W = np.zeros((post.size, pre.size))
            np.add.at(W, (post_i[sel], pre_i[sel]), _weight_to_nir(post, post_i[sel], e.receptor, w[sel]))
            lin = node_name(e.name) + (f"@{int(ticks)}" if len(np.unique(d_ticks)) > 1 else "")
            # the exact PyNN synapses ride along, so a round trip keeps every synapse as it was
            nodes[lin] = nir.Linear(weight=W, metadata={"label": _projection_label(e), "pre": e.pre, "post": e.post,
                                                        "receptor": e.receptor, "synapse": e.synapse,
                                                        "pynn_pre": pre_i[sel], "pynn_post": post_i[sel],
                                                        "pynn_weight": np.array(w[sel]),
                                                        "pynn_delay": np.array(d[sel]),
                                                        "pynn_order": np.flatnonzero(sel)})
            edges.append((node_name(e.pre), lin))
            if ticks != 1:
                nodes[lin + ".delay"] = nir.Delay(delay=np.full(post.size, ticks * graph.dt * _MS))
                edges += [(lin, lin + ".delay"), (lin + ".delay", node_name(e.post))]
            else:
                edges.append((lin, node_name(e.post)))
    metadata = {"source": "neurohybrid", "units": "SI (s, V, A, ohm)", "spikes": "Dirac deltas",
                "delay_convention": "Delay = whole synaptic delay; none = one time step",
                "dt": float(graph.dt * _MS), "seed": int(graph.seed), "model_hash": graph.content_hash()}
    # NIR's type inference starts from Input nodes: a model without sources cannot be checked
    has_input = any(n.kind == "source" for n in graph.nodes.values())
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata, type_check=has_input)


def write_nir(graph: ModelGraph, path: str | os.PathLike):
    """Write :func:`graph_to_nir` of ``graph`` to ``path`` (NIR's HDF5 format); returns the NIRGraph."""
    nir_graph = graph_to_nir(graph)
    _nir().write(Path(path), nir_graph)
    return nir_graph


# --------------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------------

@dataclass
class NIRPopulation:
    """A population to create: PyNN ``celltype`` name, ``size``, per-cell ``parameters`` (PyNN
    units), ``initial`` values, and whether its spikes should be recorded (it feeds an Output)."""

    name: str
    celltype: str
    size: int
    parameters: dict
    initial: dict = field(default_factory=dict)
    record_spikes: bool = False


@dataclass
class NIRProjection:
    """Connections to create: ``pre``/``post`` population names, PyNN receptor, and per synapse
    pre/post indices, weights (nA or mV) and delays (ms)."""

    name: str
    pre: str
    post: str
    receptor: str
    pre_index: np.ndarray
    post_index: np.ndarray
    weights: np.ndarray
    delays: np.ndarray
    order: np.ndarray | None = None  # position of each synapse in the exported projection


@dataclass
class NIRModel:
    """What a NIR graph describes, in PyNN terms."""

    populations: dict[str, NIRPopulation]
    projections: list[NIRProjection]
    metadata: dict


def read_nir(path_or_graph):
    """A ``nir.NIRGraph`` from a file path (NIR HDF5) or a graph given as is."""
    nir = _nir()
    if isinstance(path_or_graph, nir.NIRGraph):
        return path_or_graph
    path = Path(path_or_graph)
    if not path.exists():
        raise ParameterError("import_nir", "path", f"{str(path)!r} does not exist", "a NIR file or a nir.NIRGraph")
    try:
        # shapes are checked while translating; NIR's own check cannot handle graphs without inputs
        return nir.read(path, type_check=False)
    except Exception as exc:  # noqa: BLE001 - nir/h5py raise ValueError/OSError/KeyError on bad files
        raise ParameterError("import_nir", "path", f"{str(path)!r} is not a readable NIR graph "
                             f"({type(exc).__name__}: {exc})", "a file written by nir.write") from None


def _meta(node) -> dict:
    meta = getattr(node, "metadata", None) or {}
    return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in meta.items()}


def _arr(x, n) -> np.ndarray:
    return np.array(np.broadcast_to(np.asarray(x, dtype=float), (n,)))


def _size(node) -> int:
    nir = _nir()
    if isinstance(node, nir.Input):
        shape = np.asarray(node.input_type["input"]).ravel()
    elif isinstance(node, nir.LIF):
        shape = np.shape(node.tau) or (1,)
    else:
        shape = np.shape(node.tau_mem) or (1,)
    return int(np.prod(shape))


def _population(name, node, outputs: set) -> NIRPopulation:
    nir = _nir()
    meta = _meta(node)
    n = _size(node)
    model = meta.get("neurohybrid_model")
    params = {k[5:]: v for k, v in meta.items() if k.startswith("pynn_") and not k.startswith("pynn_initial_")}
    initial = {k[13:]: _arr(v, n) for k, v in meta.items() if k.startswith("pynn_initial_")}
    if isinstance(node, nir.Input):
        model = model or "SpikeSourceArray"
        if "spike_times" in params:
            times, counts = np.asarray(params.pop("spike_times"), float), np.asarray(params.pop("spike_counts"), int)
            params["spike_times"] = np.split(times, np.cumsum(counts)[:-1]) if counts.size else []
        elif model == "SpikeSourceArray":
            params["spike_times"] = [np.zeros(0) for _ in range(n)]
        params = {k: (v if k == "spike_times" else _arr(v, n)) for k, v in params.items()}
        return NIRPopulation(name, model, n, params, initial)
    expected = "IF_curr_delta" if isinstance(node, nir.LIF) else "IF_curr_exp"
    if model == expected and params:
        params = {k: _arr(v, n) for k, v in params.items()}
    else:  # a foreign graph: derive PyNN parameters from the NIR ones (SI -> PyNN units)
        tau = node.tau if isinstance(node, nir.LIF) else node.tau_mem
        tau_m = _arr(tau, n) / _MS
        r = _arr(node.r, n) / _MOHM
        if np.any(r <= 0) or np.any(tau_m <= 0):
            raise ParameterError(name, "r" if np.any(r <= 0) else "tau", "must be positive", "r > 0, tau > 0")
        v_reset = node.v_reset if node.v_reset is not None else 0.0
        params = {"tau_m": tau_m, "cm": tau_m / r, "v_rest": _arr(node.v_leak, n) / _MV,
                  "v_thresh": _arr(node.v_threshold, n) / _MV, "v_reset": _arr(v_reset, n) / _MV,
                  "i_offset": np.zeros(n), "tau_refrac": np.zeros(n)}
        if expected == "IF_curr_exp":
            params["tau_syn_E"] = params["tau_syn_I"] = _arr(node.tau_syn, n) / _MS
    return NIRPopulation(name, expected, n, params, initial, record_spikes=name in outputs)


def _weight_from_nir(node, W: np.ndarray, post_index: np.ndarray) -> np.ndarray:
    """NIR Linear weights (SI, Dirac) of synapses onto ``post_index`` -> PyNN weights."""
    nir = _nir()
    n = _size(node)
    if isinstance(node, nir.LIF):
        return W * _arr(node.r, n)[post_index] / _arr(node.tau, n)[post_index] / _MV
    return W * _arr(node.w_in, n)[post_index] / _arr(node.tau_syn, n)[post_index] / _NA


def _exact_synapses(meta, W, post_node, post_pop, delays, post_i, pre_i):
    """The PyNN synapses stored in a Linear node's metadata by :func:`graph_to_nir`, if they
    still describe the node's weight matrix and delays (a tool may have edited the node)."""
    keys = ("pynn_pre", "pynn_post", "pynn_weight", "pynn_delay", "pynn_order")
    if not all(k in meta for k in keys):
        return None
    pre, post = np.asarray(meta["pynn_pre"], np.int64), np.asarray(meta["pynn_post"], np.int64)
    w, d = np.asarray(meta["pynn_weight"], float), np.asarray(meta["pynn_delay"], float)
    if not (pre.shape == post.shape == w.shape == d.shape) or (pre.size and (
            pre.min() < 0 or pre.max() >= W.shape[1] or post.min() < 0 or post.max() >= W.shape[0])):
        return None
    expected = np.zeros_like(W)
    np.add.at(expected, (post, pre), w)
    got = np.zeros_like(W)
    got[post_i, pre_i] = _weight_from_nir(post_node, W[post_i, pre_i], post_i)
    if not np.allclose(expected, got, rtol=1e-9, atol=0):
        return None
    nominal = np.zeros_like(W)
    nominal[post_i, pre_i] = delays
    live = W[post, pre] != 0  # synapses of weight 0 are not in the matrix: their delay is unchecked
    if pre.size and not np.allclose(nominal[post, pre][live], d[live], rtol=1e-9, atol=0):
        return None
    return pre, post, w, d, np.asarray(meta["pynn_order"], np.int64)


def _merge(projections: list[NIRProjection]) -> list[NIRProjection]:
    """One projection per (label, pre, post, receptor): the Linear nodes an exported projection
    was split into (one per delay) become one again, synapses back in their original order."""
    groups: dict[tuple, list] = {}
    for p in projections:
        groups.setdefault((p.name, p.pre, p.post, p.receptor), []).append(p)
    out = []
    for (name, pre, post, receptor), parts in groups.items():
        if len(parts) == 1:
            out.append(parts[0])
            continue
        cat = lambda key: np.concatenate([getattr(p, key) for p in parts])
        merged = NIRProjection(name, pre, post, receptor, cat("pre_index"), cat("post_index"), cat("weights"),
                               cat("delays"), order=None)
        if all(p.order is not None for p in parts):
            order = np.argsort(cat("order"), kind="stable")
            for key in ("pre_index", "post_index", "weights", "delays"):
                setattr(merged, key, getattr(merged, key)[order])
        out.append(merged)
    return out


def _successors(graph) -> dict[str, list]:
    """Each node's successors (ParameterError for an edge naming a node that does not exist)."""
    succ: dict[str, list] = {name: [] for name in graph.nodes}
    for a, b in graph.edges:
        if a not in graph.nodes or b not in graph.nodes:
            raise ParameterError("NIR graph", "edges", f"edge ({a!r}, {b!r}) names a node that does not exist",
                                 "edges between nodes of the graph")
        succ[a].append(b)
    return succ


def nir_to_model(path_or_graph, dt: float) -> NIRModel:
    """Translate a NIR graph into populations and projections in PyNN terms.

    ``dt`` (ms) is the delay given to connections that pass through no Delay node.
    Raises UnsupportedModelError for node types outside :data:`IMPORTABLE_NODES` and for
    topologies other than ``source -> (Linear|Affine) -> [Delay] -> neuron``.
    """
    nir = _nir()
    graph = read_nir(path_or_graph)
    kinds = {name: type(node).__name__ for name, node in graph.nodes.items()}
    for name, kind in kinds.items():
        if kind not in IMPORTABLE_NODES:
            raise UnsupportedModelError(f"NIR node {name!r}", "type", f"{kind} cannot be imported",
                                        ", ".join(IMPORTABLE_NODES))
    succ = _successors(graph)
    spiking = {n for n, k in kinds.items() if k in ("Input", "CubaLIF", "LIF")}
    outputs = {a for a, b in graph.edges if kinds[b] == "Output" and a in spiking}
    pops = {}
    for name in graph.nodes:
        if name in spiking:
            pop = _population(label_of(name), graph.nodes[name], outputs)
            pops[label_of(name)] = pop
    projections = []
    for src in sorted(spiking, key=list(graph.nodes).index):
        for first in succ[src]:
            if kinds[first] == "Output":
                continue
            chain = [first]
            while kinds[chain[-1]] in ("Linear", "Affine", "Delay"):
                nxt = succ[chain[-1]]
                if len(nxt) != 1:
                    raise UnsupportedModelError(f"NIR node {chain[-1]!r}", "edges",
                                                f"has {len(nxt)} successors",
                                                "one successor for Linear/Affine/Delay nodes")
                chain.append(nxt[0])
            target = chain[-1]
            middle = chain[:-1]
            n_weights = sum(kinds[m] in ("Linear", "Affine") for m in middle)
            n_delays = sum(kinds[m] == "Delay" for m in middle)
            if target not in spiking or kinds[target] == "Input" or n_weights > 1 or n_delays > 1:
                raise UnsupportedModelError(f"NIR path {' -> '.join([src, *chain])}", "topology",
                                            "is not source -> weights -> [Delay] -> neuron",
                                            "Input|CubaLIF|LIF -> Linear|Affine -> [Delay] -> CubaLIF|LIF")
            projections.extend(_projections(graph, src, middle, target, pops, dt))
    return NIRModel(pops, _merge(projections), _meta(graph))


def _projections(graph, src, middle, target, pops, dt) -> list[NIRProjection]:
    nir = _nir()
    n_pre, n_post = pops[label_of(src)].size, pops[label_of(target)].size
    weight_node = next((graph.nodes[m] for m in middle if isinstance(graph.nodes[m], (nir.Linear, nir.Affine))), None)
    delay_node = next((graph.nodes[m] for m in middle if isinstance(graph.nodes[m], nir.Delay)), None)
    W = np.eye(n_post, n_pre) if weight_node is None else np.asarray(weight_node.weight, dtype=float)
    where = f"NIR node {next((m for m in middle), src)!r}"
    if W.shape != (n_post, n_pre):
        raise ParameterError(where, "weight", f"has shape {W.shape}", f"({n_post}, {n_pre}) for {src} -> {target}")
    post_node = graph.nodes[target]
    if isinstance(weight_node, nir.Affine):
        bias = np.broadcast_to(np.asarray(weight_node.bias, float), (n_post,))
        params = pops[label_of(target)].parameters
        if isinstance(post_node, nir.LIF):
            params["i_offset"] = params["i_offset"] + bias / _NA
        else:
            params["i_offset"] = params["i_offset"] + bias * _arr(post_node.w_in, n_post) / _NA
    post_i, pre_i = np.nonzero(W)
    weights = _weight_from_nir(post_node, W[post_i, pre_i], post_i)
    if delay_node is None:
        delays = np.full(post_i.size, dt)
    else:
        d = np.broadcast_to(np.asarray(delay_node.delay, float), (n_post,))
        delays = d[post_i] / _MS
    meta = _meta(weight_node) if weight_node is not None else {}
    exact = _exact_synapses(meta, W, post_node, pops[label_of(target)], delays, post_i, pre_i)
    order = None
    if exact is not None:
        pre_i, post_i, weights, delays, order = exact
    weight_name = next((m for m in middle if m is not None and not isinstance(graph.nodes[m], nir.Delay)), None)
    label = meta.get("label", label_of(weight_name) if weight_name else f"{label_of(src)}->{label_of(target)}")
    if "receptor" in meta:
        groups = [(meta["receptor"], np.ones(post_i.size, bool), label)]
    else:
        groups = [("excitatory", weights >= 0, label + " [exc]"), ("inhibitory", weights < 0, label + " [inh]")]
    out = []
    for receptor, sel, name in groups:
        if sel.any() or len(groups) == 1:
            out.append(NIRProjection(name, label_of(src), label_of(target), receptor, pre_i[sel].astype(np.int64),
                                     post_i[sel].astype(np.int64), weights[sel], delays[sel],
                                     None if order is None else order[sel]))
    return out
