"""PyNN objects -> model-graph nodes: populations, projections (split by root population),
current sources and recordings, in PyNN's names and units. The only place that reads PyNN's
objects to build the graph; the runtime and the engines see the graph only."""
from __future__ import annotations

import numpy as np
from pyNN.parameters import ArrayParameter, Sequence

from ..errors import ParameterError, UnsupportedModelError
from ..graph import CurrentInjection, PopulationNode, ProjectionEdge, RecordingSpec
from ..graph.synapses import SYNAPSES
from ..partition import NEURON
from .standardmodels import MODULATOR_TYPES, NEURON_TYPES, SOURCE_TYPES

SUPPORTED_SYNAPSES = ("StaticSynapse", "TsodyksMarkramSynapse", "SimpleStochasticSynapse",
                      "StochasticTsodyksMarkramSynapse", "MultiQuantalSynapse", "STDPSynapse", "VogelsSTDPSynapse",
                      "DopamineSTDPSynapse")


def graph_synapse(synapse_type) -> str:
    """The model graph's synapse model of a PyNN synapse type (``STDPMechanism`` names its own)."""
    return getattr(synapse_type, "graph_synapse", type(synapse_type).__name__)


def synapse_values(synapse: str, values: dict) -> dict:
    """The per-synapse arrays the graph's synapse model ``synapse`` takes (PyNN's extra
    parameters of the components a model does not use are dropped)."""
    wanted = {"weight", "delay", *SYNAPSES[synapse].parameters, *SYNAPSES[synapse].initial}
    return {k: v for k, v in values.items() if k in wanted}


def biophysical_node(pop) -> PopulationNode:
    from ..backends.neuron.cells import MultiCompartmentBuilder, NeuronCellBuilder
    from .neuroncell import NeuronCell
    ct = pop.celltype
    if isinstance(ct, NeuronCell):
        builder = NeuronCellBuilder(ct.cell_class, parameters=ct.cell_parameters, mechanisms=ct.mechanisms,
                                    hoc_file=ct.hoc_file, spike_location=ct.spike_location, threshold=ct.threshold,
                                    receptors=ct.receptors, locations=ct.locations, label=pop.label)
    else:
        builder = MultiCompartmentBuilder(ct, size=pop.size, label=pop.label)
    initial = {}
    for name, value in pop.initial_values.items():
        if name == "v":
            initial[name] = np.broadcast_to(np.asarray(value.evaluate(simplify=False), dtype=float),
                                            (pop.size,)).copy()
    return PopulationNode(pop.label, type(ct).__name__, pop.size, {}, initial, kind="biophysical",
                          engine=getattr(pop, "engine", None) or NEURON, cell=builder,
                          surrogate=getattr(pop, "_surrogate", None))


def population_node(pop) -> PopulationNode:
    """The graph node of a Population (point neurons, spike sources or biophysical cells)."""
    from .encoders import encoder_node_parameters, is_encoder
    from .multicompartment import is_biophysical
    if is_biophysical(pop.celltype):
        return biophysical_node(pop)
    if is_encoder(pop.celltype) and pop.celltype.encoder.live:  # fed window by window by a live link's encoder
        encoder_node_parameters(pop)  # the size check
        return PopulationNode(pop.label, "SpikeSourceExternal", pop.size, {}, {}, kind="source",
                              engine=getattr(pop, "engine", None))
    if is_encoder(pop.celltype):  # a sensory encoder: a stream spike source (neurohybrid.encoders)
        return PopulationNode(pop.label, pop.celltype.graph_model, pop.size, encoder_node_parameters(pop), {},
                              kind="source", engine=getattr(pop, "engine", None))
    model = type(pop.celltype).__name__
    known = NEURON_TYPES + SOURCE_TYPES + MODULATOR_TYPES + ("PointNeuron",)
    if model not in known:
        raise UnsupportedModelError(pop, "celltype", f"{model} has no engine in neurohybrid", ", ".join(known))
    params = {}
    for name, value in pop._parameters.items():
        if name == "spike_times":
            params[name] = [np.asarray(v.value if isinstance(v, Sequence) else v, dtype=float)
                            for v in np.atleast_1d(value)]
            if len(params[name]) == 1 and pop.size > 1:
                params[name] = params[name] * pop.size
        elif _is_array_parameter(value):
            params.update(_array_parameter(pop, name, value))
        else:
            params[name] = np.broadcast_to(np.asarray(value, dtype=float), (pop.size,)).copy()
    if hasattr(pop.celltype, "graph_parameters"):  # a cell type run as another's (IF_facets_hardware1)
        params = {k: np.broadcast_to(np.asarray(v, dtype=float), (pop.size,)).copy()
                  for k, v in pop.celltype.graph_parameters(params).items()}
    model = getattr(pop.celltype, "graph_model", model)
    initial = {name: np.broadcast_to(np.asarray(value.evaluate(simplify=False), dtype=float), (pop.size,)).copy()
               for name, value in pop.initial_values.items()}
    kind = "source" if model in SOURCE_TYPES else "modulator" if model in MODULATOR_TYPES else "point"
    return PopulationNode(pop.label, model, pop.size, params, initial, kind=kind, engine=getattr(pop, "engine", None))


def _is_array_parameter(value) -> bool:
    first = np.asarray(value, dtype=object).ravel()[:1]
    return bool(first.size) and isinstance(first[0], ArrayParameter)


def _array_parameter(pop, name: str, value) -> dict:
    """An array-valued parameter (one ArrayParameter per cell, e.g. GIF_cond_exp's tau_eta) as
    one per-cell parameter per element: ``name.0``, ``name.1``, ..."""
    rows = [np.asarray(v.value, dtype=float).ravel() for v in np.broadcast_to(np.asarray(value, dtype=object),
                                                                                (pop.size,))]
    if len({r.size for r in rows}) != 1:
        raise ParameterError(pop, name, "has arrays of different lengths in different cells", "one length")
    table = np.array(rows).reshape(pop.size, -1)
    return {f"{name}.{k}": table[:, k].copy() for k in range(table.shape[1])}


def _index_dtype(size: int):
    return np.uint16 if size <= 65536 else np.uint32


def _members(side):
    """(root population, root index of each of this side's cells) for each population behind a
    Population, PopulationView or Assembly, in the side's own index order."""
    parts = side.populations if hasattr(side, "populations") else [side]
    for part in parts:
        if hasattr(part, "grandparent"):
            root = part.grandparent
            yield root, part.index_in_grandparent(np.arange(part.size)).astype(_index_dtype(root.size))
        else:
            yield part, None


def _split_by_root(side, index: np.ndarray):
    """Split indices into a Population/PopulationView/Assembly by root population: yields
    (root, mask or None, root-local indices). Works in the side's index space with narrow
    integer types, so a billion-synapse projection onto an Assembly needs no int64 arrays."""
    start = 0
    for root, to_root in _members(side):
        size = to_root.size if to_root is not None else root.size
        if start == 0 and size == side.size:
            mask, local = None, index
        else:
            mask = (index >= start) & (index < start + size)
            if not mask.any():
                start += size
                continue
            local = (index[mask] - start).astype(_index_dtype(size))
        if to_root is not None:
            local = to_root[local]
        yield root, mask, local
        start += size


def projection_edges(prj) -> list[ProjectionEdge]:
    """The edges of a Projection, one per (pre root population, post root population). Each
    edge's synapses are the projection's connections ``prj._edge_positions[edge name]`` (None:
    all of them, in order)."""
    synapse = graph_synapse(prj.synapse_type)
    if synapse not in SUPPORTED_SYNAPSES:
        raise UnsupportedModelError(prj, "synapse_type", f"{synapse} is not supported by the emulator",
                                    ", ".join(SUPPORTED_SYNAPSES))
    pre, post, values = prj.arrays()
    values = synapse_values(synapse, values)
    prj._edge_positions = {}
    modulator = getattr(getattr(prj.synapse_type, "dopamine", None), "label", None)
    connector = prj._connector
    rule = {"connector": type(connector).__name__,
            "parameters": {k: repr(v) for k, v in connector.get_parameters().items()}}
    if getattr(prj, "rounded_delays", 0):  # delays off the dt grid rounded to it (projections.check_delays)
        rule["rounded_delays"] = int(prj.rounded_delays)
    seed = getattr(getattr(connector, "rng", None), "seed", None)
    edges = []
    for pre_root, pre_mask, pre_local in _split_by_root(prj.pre, pre):
        post_sel = post if pre_mask is None else post[pre_mask]
        for post_root, post_mask, post_local in _split_by_root(prj.post, post_sel):
            if pre_mask is None and post_mask is None:
                sel_values, pre_sel, positions = values, pre_local, None
            else:
                if pre_mask is None:
                    keep = post_mask
                elif post_mask is None:
                    keep = pre_mask
                else:
                    keep = pre_mask.copy()
                    keep[pre_mask] = post_mask
                sel_values = {k: (np.broadcast_to(v[:1], (int(keep.sum()),)) if v.strides == (0,) else v[keep])
                              for k, v in values.items()}
                pre_sel = pre_local if post_mask is None else pre_local[post_mask]
                positions = np.flatnonzero(keep)
            name = f"{prj.label}[{pre_root.label}->{post_root.label}]"
            prj._edge_positions[name] = positions
            edges.append(ProjectionEdge(name, pre_root.label, post_root.label, prj.receptor_type, synapse, pre_sel,
                                        post_local, sel_values, rule, seed, location=getattr(prj, "_location", None),
                                        modulator=modulator))
    return edges


def current_injections(src) -> list[CurrentInjection]:
    """The injections of a current source, one per (root population, location)."""
    out = []
    by_root: dict = {}
    locations = getattr(src, "_target_locations", [None] * len(src._targets))
    for cell, location in zip(src._targets, locations):
        by_root.setdefault((cell.parent, location), []).append(cell.parent.id_to_index(cell))
    for (root, location), index in by_root.items():
        params = src.native_values() if location is None else {**src.native_values(), "location": location}
        suffix = "" if location is None else f"@{location}"
        out.append(CurrentInjection(f"{type(src).__name__}#{src.index}{suffix}", type(src).__name__, params,
                                    root.label, np.asarray(sorted(index), dtype=np.int64)))
    return out


def recordings_of(pop) -> list[RecordingSpec]:
    """What the user records of a Population."""
    out = []
    for variable in pop.recorder.recorded_variables():
        index = pop.recorder.recorded_indices(variable)
        interval = None if variable == "spikes" else pop.recorder.sampling_interval
        out.append(RecordingSpec(pop.label, variable, index, interval))
    return out


def weight_recordings(prj) -> list[RecordingSpec]:
    """What the user records of a Projection's weights (``Projection.record``): one recording
    per edge, its index the edge's own synapse numbers."""
    if prj.weight_recording is None:
        return []
    wanted, interval = prj.weight_recording
    units = "uS" if getattr(prj.post, "conductance_based", False) else "nA"
    out = []
    for name, positions in prj._edge_positions.items():
        index = wanted if positions is None else np.flatnonzero(np.isin(positions, wanted))
        if index.size:
            out.append(RecordingSpec(name, "weight", index.astype(np.int64), interval, units))
    return out
