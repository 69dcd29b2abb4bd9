"""Saving and loading a :class:`~neurohybrid.graph.ModelGraph` (HDF5), kept apart from the classes.

Layout of a graph file (one HDF5 file):

* root attributes ``format`` (``"neurohybrid-graph"``), ``format_version`` (:data:`VERSION`),
  ``content_hash`` (:meth:`ModelGraph.content_hash` of the saved graph) and ``layout``, a JSON
  document with every name, model, kind, rule and seed, and the shape of what is stored as
  arrays;
* ``arrays/<n>``: every array of the graph (parameters, initial values, connection indices,
  synapse values, current parameters, recorded cell indices), referenced from ``layout`` by
  number. A constant array (zero-stride, as PyNN's constant weights are) is stored as its one
  value with attribute ``size``, and comes back as a zero-stride array again.

:func:`load` refuses (a :class:`GraphFileError` naming the file and what is wrong) a file that
is not a graph file, is truncated or unreadable, has another format version, or whose content
does not hash to the saved ``content_hash``: a refused graph is never run. Biophysical nodes
carry a cell builder object, which is not serialisable yet: saving one is refused.
"""
from __future__ import annotations

import json
import os

import numpy as np

from .errors import ParameterError, UnsupportedModelError
from .graph import CurrentInjection, ModelGraph, PopulationNode, ProjectionEdge, RecordingSpec

__all__ = ["save", "load", "to_dict", "from_dict", "GraphFileError", "FORMAT", "VERSION"]

FORMAT = "neurohybrid-graph"
VERSION = 1


class GraphFileError(ParameterError):
    """A graph file that cannot be loaded: names the file and what is wrong with it."""


class _Arrays:
    """Collects arrays while a graph is flattened (to_dict) and hands them back (from_dict)."""

    def __init__(self, items: list | None = None):
        self.items = [] if items is None else items

    def put(self, value) -> dict:
        arr = np.asarray(value)
        if arr.dtype == object:
            raise ParameterError("graph", "array", "holds Python objects", "numbers")
        if arr.ndim == 1 and arr.size > 1 and arr.strides == (0,):
            self.items.append(np.ascontiguousarray(arr[:1]))
            return {"array": len(self.items) - 1, "const": int(arr.size)}
        self.items.append(np.ascontiguousarray(arr))
        return {"array": len(self.items) - 1}

    def get(self, ref: dict) -> np.ndarray:
        arr = self.items[ref["array"]]
        if "const" in ref:
            return np.broadcast_to(arr[:1], (ref["const"],))
        return arr


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
        if node.kind == "biophysical" or node.cell is not None:
            raise UnsupportedModelError(f"Population({node.name})", "cell", "a biophysical cell builder cannot be "
                                        "saved in a graph file yet", "point populations and spike sources")
        nodes.append({"name": node.name, "model": node.model, "size": int(node.size), "kind": node.kind,
                      "engine": node.engine,
                      "parameters": {k: _put_value(arrays, v) for k, v in node.parameters.items()},
                      "initial": {k: _put_value(arrays, v) for k, v in node.initial.items()}})
    edges = [{"name": e.name, "pre": e.pre, "post": e.post, "receptor": e.receptor, "synapse": e.synapse,
              "pre_index": arrays.put(e.pre_index), "post_index": arrays.put(e.post_index),
              "values": {k: arrays.put(v) for k, v in e.values.items()}, "rule": e.rule, "seed": e.seed,
              "location": e.location} for e in graph.edges]
    currents = [{"name": c.name, "kind": c.kind, "node": c.node, "index": arrays.put(c.index),
                 "parameters": {k: _put_value(arrays, v) for k, v in c.parameters.items()}} for c in graph.currents]
    recordings = [{"node": r.node, "variable": r.variable, "index": arrays.put(r.index),
                   "sampling_interval": r.sampling_interval} for r in graph.recordings]
    layout = {"dt": graph.dt, "seed": graph.seed, "nodes": nodes, "edges": edges, "currents": currents,
              "recordings": recordings}
    return layout, arrays.items


def from_dict(layout: dict, arrays: list[np.ndarray]) -> ModelGraph:
    """The graph described by ``to_dict``'s (layout, arrays)."""
    store = _Arrays(list(arrays))
    graph = ModelGraph(float(layout["dt"]), layout["seed"])
    for n in layout["nodes"]:
        graph.nodes[n["name"]] = PopulationNode(
            n["name"], n["model"], int(n["size"]), {k: _get_value(store, v) for k, v in n["parameters"].items()},
            {k: _get_value(store, v) for k, v in n["initial"].items()}, kind=n["kind"], engine=n["engine"])
    for e in layout["edges"]:
        graph.edges.append(ProjectionEdge(e["name"], e["pre"], e["post"], e["receptor"], e["synapse"],
                                          store.get(e["pre_index"]), store.get(e["post_index"]),
                                          {k: store.get(v) for k, v in e["values"].items()}, e["rule"], e["seed"],
                                          location=e["location"]))
    for c in layout["currents"]:
        graph.currents.append(CurrentInjection(c["name"], c["kind"], {k: _get_value(store, v)
                                                                     for k, v in c["parameters"].items()},
                                               c["node"], store.get(c["index"])))
    for r in layout["recordings"]:
        graph.recordings.append(RecordingSpec(r["node"], r["variable"], store.get(r["index"]),
                                              r["sampling_interval"]))
    return graph


def save(graph: ModelGraph, path) -> str:
    """Write ``graph`` to the HDF5 file ``path`` (module docstring); returns its content hash."""
    import h5py
    layout, arrays = to_dict(graph)
    digest = graph.content_hash()
    with h5py.File(os.fspath(path), "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = VERSION
        f.attrs["content_hash"] = digest
        f.attrs["layout"] = json.dumps(layout)
        group = f.create_group("arrays")
        for k, arr in enumerate(arrays):
            group.create_dataset(str(k), data=arr)
    return digest


def load(path) -> ModelGraph:
    """Read a graph written by :func:`save`; refuses (GraphFileError) anything else, a truncated
    file, another format version, or content that does not match its hash."""
    import h5py
    where = f"graph file {os.fspath(path)!r}"
    try:
        with h5py.File(os.fspath(path), "r") as f:
            if f.attrs.get("format") != FORMAT:
                raise GraphFileError(where, "format", f"is not a neurohybrid graph file (format "
                                     f"{f.attrs.get('format')!r})", f"a file written by neurohybrid.graph_io.save")
            version = int(f.attrs.get("format_version", -1))
            if version != VERSION:
                raise GraphFileError(where, "format_version", f"version {version}", f"version {VERSION}")
            layout = json.loads(f.attrs["layout"])
            saved_hash = str(f.attrs["content_hash"])
            group = f["arrays"]
            arrays = [group[str(k)][()] for k in range(len(group))]
    except GraphFileError:
        raise
    except (OSError, KeyError, ValueError) as exc:  # truncated, corrupt or incomplete
        raise GraphFileError(where, None, f"cannot be read ({exc})", "a complete file written by save()") from exc
    graph = from_dict(layout, arrays)
    if graph.content_hash() != saved_hash:
        raise GraphFileError(where, "content_hash", "the content does not match the hash it was saved with (the "
                             "file was changed or damaged)", "an unmodified graph file")
    return graph
