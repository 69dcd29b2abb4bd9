"""Saving and loading a :class:`~neurohybrid.graph.ModelGraph` (HDF5), kept apart from the classes.

Layout of a graph file (one HDF5 file):

* root attributes ``format`` (``"neurohybrid-graph"``), ``format_version`` (:data:`VERSION`),
  ``content_hash`` (:meth:`ModelGraph.content_hash` of the saved graph) and ``layout``, a JSON
  document with every name, model, kind, rule and seed, and the shape of what is stored as
  arrays: ``dt`` (ms), ``seed``, ``nodes`` (populations, with a biophysical population's
  ``cell`` builder as data), ``edges``, ``currents``, ``recordings``, ``modules`` (scaffold,
  converters and fields, each ``{"kind", "fields"}``: a scaffold's connectome as its arrays,
  labels, centres and name, its model, coupling, integrator and monitors by class name and
  parameters; :mod:`neurohybrid.graph_codec`) and ``links`` (``[source, source_port, target,
  target_port]``);
* ``arrays/<n>``: every array of the graph (parameters, initial values, connection indices,
  synapse values, current parameters, recorded cell indices, connectome weights and lengths,
  per-region parameters), referenced from ``layout`` by number. A constant array (zero-stride,
  as PyNN's constant weights are) is stored as its one value with attribute ``size``, and comes
  back as a zero-stride array again.

:func:`load` refuses (a :class:`GraphFileError` naming the file and what is wrong) a file that
is not a graph file, is truncated or unreadable, has a format version it does not read (it
reads :data:`READABLE`: version 1 files, which hold populations only, load as they are), names a
class it does not know, or whose content does not hash to the saved ``content_hash``: a refused
graph is never run. :func:`save` refuses, naming the module and parameter, what is code and has
no data form (:mod:`neurohybrid.graph_codec`): a field's Python function (use
:class:`~neurohybrid.graph.Affine` or :class:`~neurohybrid.graph.Sigmoid`), a host module, a
cell builder other than a NeuronCellBuilder of a Python class -- whose class the loader hands
back: ``load(path, cell_classes=[Cls])``.
"""
from __future__ import annotations

import json
import os

import numpy as np

from .errors import NeurohybridError
from .graph import CurrentInjection, ModelGraph, PopulationNode, ProjectionEdge, RecordingSpec
from .graph_codec import Arrays as _Arrays
from .graph_codec import GraphFileError, decode_cell, decode_module, encode_cell, encode_module

__all__ = ["save", "load", "to_dict", "from_dict", "GraphFileError", "FORMAT", "VERSION", "READABLE"]

FORMAT = "neurohybrid-graph"
#: 2: hybrid modules, links and NEURON cell builders; 1: populations, edges, currents, recordings
VERSION = 2
READABLE = (1, 2)


def _put_value(arrays: _Arrays, value):
    """A parameter value: a string, a list of arrays (spike times per cell) or an array."""
    if isinstance(value, str):
        return {"str": value}
    if isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.dtype == object):
        return {"list": [_put_value(arrays, v) for v in value]}
    if value is None:
        return {"none": True}
    return arrays.put(np.asarray(value, dtype=float) if not isinstance(value, np.ndarray) else value)


def _get_value(arrays: _Arrays, ref):
    if "str" in ref:
        return ref["str"]
    if "none" in ref:
        return None
    if "list" in ref:
        return [_get_value(arrays, r) for r in ref["list"]]
    return arrays.get(ref)


def to_dict(graph: ModelGraph) -> tuple[dict, list[np.ndarray]]:
    """(layout, arrays): a JSON-serialisable description and the arrays it refers to by index."""
    arrays = _Arrays()
    nodes = []
    for node in graph.nodes.values():
        nodes.append({"name": node.name, "model": node.model, "size": int(node.size), "kind": node.kind,
                      "engine": node.engine,
                      "parameters": {k: _put_value(arrays, v) for k, v in node.parameters.items()},
                      "initial": {k: _put_value(arrays, v) for k, v in node.initial.items()},
                      "cell": None if node.cell is None else encode_cell(node.cell, node.name, arrays)})
    edges = [{"name": e.name, "pre": e.pre, "post": e.post, "receptor": e.receptor, "synapse": e.synapse,
              "pre_index": arrays.put(e.pre_index), "post_index": arrays.put(e.post_index),
              "values": {k: arrays.put(v) for k, v in e.values.items()}, "rule": e.rule, "seed": e.seed,
              "location": e.location, "modulator": e.modulator, "transit": e.transit} for e in graph.edges]
    currents = [{"name": c.name, "kind": c.kind, "node": c.node, "index": arrays.put(c.index),
                 "parameters": {k: _put_value(arrays, v) for k, v in c.parameters.items()}} for c in graph.currents]
    recordings = [{"node": r.node, "variable": r.variable, "index": arrays.put(r.index),
                   "sampling_interval": r.sampling_interval, "units": r.units} for r in graph.recordings]
    modules = [encode_module(m, arrays) for m in graph.modules.values()]
    links = [[lk.source, lk.source_port, lk.target, lk.target_port] for lk in graph.links]
    layout = {"dt": graph.dt, "seed": graph.seed, "nodes": nodes, "edges": edges, "currents": currents,
              "recordings": recordings, "modules": modules, "links": links}
    return layout, arrays.items


def from_dict(layout: dict, arrays: list[np.ndarray], cell_classes=(), where: str = "graph layout") -> ModelGraph:
    """The graph described by ``to_dict``'s (layout, arrays). ``cell_classes``: the Python
    classes of its NeuronCellBuilder cells (looked up by qualified name); ``where`` names the
    source in errors."""
    store = _Arrays(list(arrays))
    graph = ModelGraph(float(layout["dt"]), layout["seed"])
    for n in layout["nodes"]:
        cell = n.get("cell")
        graph.nodes[n["name"]] = PopulationNode(
            n["name"], n["model"], int(n["size"]), {k: _get_value(store, v) for k, v in n["parameters"].items()},
            {k: _get_value(store, v) for k, v in n["initial"].items()}, kind=n["kind"], engine=n["engine"],
            cell=None if cell is None else decode_cell(cell, store, cell_classes, f"{where}: Population({n['name']})"
                                                                                   ".cell"))
    for e in layout["edges"]:
        graph.edges.append(ProjectionEdge(e["name"], e["pre"], e["post"], e["receptor"], e["synapse"],
                                          store.get(e["pre_index"]), store.get(e["post_index"]),
                                          {k: store.get(v) for k, v in e["values"].items()}, e["rule"], e["seed"],
                                          location=e["location"], modulator=e.get("modulator"),
                                          transit=float(e.get("transit", 0.0))))
    for c in layout["currents"]:
        graph.currents.append(CurrentInjection(c["name"], c["kind"], {k: _get_value(store, v)
                                                                     for k, v in c["parameters"].items()},
                                               c["node"], store.get(c["index"])))
    for r in layout["recordings"]:
        graph.recordings.append(RecordingSpec(r["node"], r["variable"], store.get(r["index"]),
                                              r["sampling_interval"], r.get("units")))
    for entry in layout.get("modules", []):  # a version-1 layout has neither modules nor links
        graph.add_module(decode_module(entry, store, where))
    for source, source_port, target, target_port in layout.get("links", []):
        graph.connect(source, source_port, target, target_port)  # typed: both ports exist, same kind
    return graph


def save(graph: ModelGraph, path) -> str:
    """Write ``graph`` to the HDF5 file ``path`` (module docstring); returns its content hash.
    Refuses (UnsupportedModelError naming the module or population and the parameter) a graph
    holding code, before anything is written; the file appears whole or not at all."""
    import h5py
    layout, arrays = to_dict(graph)
    digest = graph.content_hash()
    path = os.fspath(path)
    partial = f"{path}.partial"
    try:
        with h5py.File(partial, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["format_version"] = VERSION
            f.attrs["content_hash"] = digest
            f.attrs["layout"] = json.dumps(layout)
            group = f.create_group("arrays")
            for k, arr in enumerate(arrays):
                group.create_dataset(str(k), data=arr)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return digest


def load(path, cell_classes=()) -> ModelGraph:
    """Read a graph written by :func:`save`; refuses (GraphFileError) anything else, a truncated
    file, a format version not in :data:`READABLE`, a layout naming an unknown class or link,
    or content that does not match its hash. ``cell_classes``: the Python classes of the
    graph's NeuronCellBuilder cells (the file names them; it cannot hold them)."""
    import h5py
    where = f"graph file {os.fspath(path)!r}"
    try:
        with h5py.File(os.fspath(path), "r") as f:
            if f.attrs.get("format") != FORMAT:
                raise GraphFileError(where, "format", f"is not a neurohybrid graph file (format "
                                     f"{f.attrs.get('format')!r})", f"a file written by neurohybrid.graph_io.save")
            version = int(f.attrs.get("format_version", -1))
            if version not in READABLE:
                raise GraphFileError(where, "format_version", f"version {version}",
                                     "version " + " or ".join(map(str, READABLE)))
            layout = json.loads(f.attrs["layout"])
            saved_hash = str(f.attrs["content_hash"])
            group = f["arrays"]
            arrays = [group[str(k)][()] for k in range(len(group))]
    except GraphFileError:
        raise
    except (OSError, KeyError, ValueError) as exc:  # truncated, corrupt or incomplete
        raise GraphFileError(where, None, f"cannot be read ({exc})", "a complete file written by save()") from exc
    try:
        graph = from_dict(layout, arrays, cell_classes, where)
    except GraphFileError:
        raise
    except (NeurohybridError, KeyError, TypeError, ValueError, IndexError) as exc:  # a layout that does not hold
        raise GraphFileError(where, "layout", f"does not describe a valid graph ({exc})",
                             "a graph file written by neurohybrid.graph_io.save") from exc
    if graph.content_hash() != saved_hash:
        raise GraphFileError(where, "content_hash", "the content does not match the hash it was saved with (the "
                             "file was changed or damaged)", "an unmodified graph file")
    return graph
