"""How :mod:`neurohybrid.graph_io` turns the parts of a model graph that are objects into data
and back: the hybrid modules (scaffold, converters, fields), a biophysical population's cell
builder, and the values inside them. Kept apart from the classes (:mod:`neurohybrid.graph`).

Every object is stored as its class name and its fields, and rebuilt only through a registry of
known classes (the mean-field models, couplings, integrators and monitors of
:mod:`neurohybrid.backends.meanfield`, the transfer functions of :mod:`neurohybrid.graph.hybrid`):
nothing a file says is imported, evaluated or called. Values are JSON scalars as they are;
``{"tuple": [...]}``, ``{"list": [...]}``, ``{"dict": {...}}``, ``{"strings": [...]}`` and
``{"array": n}`` (the n-th stored array) otherwise.

What is code has no data form and is refused when saving, by name (UnsupportedModelError): a
field's Python function (use :class:`~neurohybrid.graph.Affine` / ``Sigmoid``), a host module
(a live component), a cell builder of a hoc template, NMODL mechanisms or a PyNN cell type. A
:class:`~neurohybrid.backends.neuron.cells.NeuronCellBuilder` of a Python class is stored as data
plus the class's qualified name; loading it needs that class handed back by the caller
(``load(path, cell_classes=[Cls])``), and checks it is the one saved (its source hash).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .errors import ParameterError, UnsupportedModelError
from .graph import TRANSFER_FUNCTIONS, FieldNode, HostModuleNode, RatesToSpikesNode, ScaffoldNode, SpikesToRatesNode

__all__ = ["Arrays", "GraphFileError", "encode_value", "decode_value", "encode_module", "decode_module",
           "encode_cell", "decode_cell", "MODULE_KINDS"]

#: The module kinds a graph file holds, by ``kind`` (a HostModuleNode is refused).
MODULE_KINDS = {cls.kind: cls for cls in (ScaffoldNode, RatesToSpikesNode, SpikesToRatesNode, FieldNode)}


class GraphFileError(ParameterError):
    """A graph file that cannot be loaded: names the file and what is wrong with it."""


class Arrays:
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


def _qualified(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# ------------------------------------------------------------------------------------- values
def encode_value(value, arrays: Arrays, where: str):
    """A field value as JSON (module docstring); UnsupportedModelError naming ``where`` for
    anything that is not numbers, strings, arrays or containers of them."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, tuple):
        return {"tuple": [encode_value(v, arrays, f"{where}[{k}]") for k, v in enumerate(value)]}
    if isinstance(value, list):
        return {"list": [encode_value(v, arrays, f"{where}[{k}]") for k, v in enumerate(value)]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: encode_value(v, arrays, f"{where}[{k!r}]") for k, v in value.items()}}
    if isinstance(value, np.ndarray) and value.dtype.kind in "US":
        return {"strings": value.astype(str).tolist(), "shape": list(value.shape)}
    if isinstance(value, np.ndarray) and value.dtype != object:
        return arrays.put(value)
    what = "a Python function" if callable(value) else f"a {type(value).__name__} object"
    raise UnsupportedModelError(where, None, f"{what} ({_qualified(type(value))}) cannot be saved in a graph file",
                                "numbers, strings, numpy arrays, lists and tuples of them")


def decode_value(ref, arrays: Arrays, where: str):
    """The value :func:`encode_value` described."""
    if not isinstance(ref, dict):
        return ref
    if "tuple" in ref:
        return tuple(decode_value(v, arrays, where) for v in ref["tuple"])
    if "list" in ref:
        return [decode_value(v, arrays, where) for v in ref["list"]]
    if "dict" in ref:
        return {k: decode_value(v, arrays, where) for k, v in ref["dict"].items()}
    if "strings" in ref:
        return np.array(ref["strings"], dtype=str).reshape(ref["shape"])
    if "array" in ref:
        arr = arrays.get(ref)
        return arr if isinstance(arr, np.ndarray) else np.asarray(arr)  # a 0-d array reads back as a scalar
    raise GraphFileError(where, None, f"unknown value {ref!r}", "a value written by neurohybrid.graph_io")


# ------------------------------------------------------------------------------ data objects
def _meanfield_registry(slot: str) -> dict:
    """The classes a graph file may name for a scaffold's ``slot``, by class name."""
    from .backends.meanfield import bold, coupling, integrators, models, monitors
    return {"model": models.MODELS,
            "coupling": {c.__name__: c for c in (coupling.Linear, coupling.Sigmoidal, coupling.Difference,
                                                 coupling.KuramotoCoupling, coupling.SigmoidalJansenRit)},
            "integrator": {c.__name__: c for c in (integrators.HeunDeterministic, integrators.EulerDeterministic,
                                                   integrators.HeunStochastic, integrators.EulerStochastic)},
            "monitor": {c.__name__: c for c in (monitors.Raw, monitors.TemporalAverage, bold.Bold)}}[slot]


def _encode_object(obj, registry: dict, arrays: Arrays, where: str, what: str) -> dict:
    name = type(obj).__name__
    if registry.get(name) is not type(obj):
        raise UnsupportedModelError(where, None, f"{_qualified(type(obj))} is not one of the {what} a graph file "
                                    "can hold", ", ".join(registry))
    return {"type": name, "fields": {f.name: encode_value(getattr(obj, f.name), arrays, f"{where}.{f.name}")
                                     for f in dataclasses.fields(obj) if f.init}}


def _decode_object(entry: dict, registry: dict, arrays: Arrays, where: str):
    cls = registry.get(entry["type"])
    if cls is None:
        raise GraphFileError(where, "type", f"unknown class {entry['type']!r}", ", ".join(registry))
    try:
        return cls(**{k: decode_value(v, arrays, where) for k, v in entry["fields"].items()})
    except TypeError as exc:
        raise GraphFileError(where, "fields", f"do not fit {entry['type']} ({exc})", "its dataclass fields") from None


def _encode_fn(fn, arrays: Arrays, where: str):
    if fn is None:
        return None
    if TRANSFER_FUNCTIONS.get(type(fn).__name__) is type(fn):
        return _encode_object(fn, TRANSFER_FUNCTIONS, arrays, where, "transfer functions")
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    raise UnsupportedModelError(where, None, f"a Python function ({name}) cannot be saved in a graph file",
                                "None (identity) or a transfer function given as data: "
                                "neurohybrid.graph.Affine(scale, offset) or neurohybrid.graph.Sigmoid(...)")


def _decode_fn(entry, arrays: Arrays, where: str):
    return None if entry is None else _decode_object(entry, TRANSFER_FUNCTIONS, arrays, where)


_CONNECTOME_ATTRS = ("name", "weights", "lengths", "labels", "centres")


def _encode_connectome(conn, arrays: Arrays, where: str) -> dict:
    from .backends.meanfield.connectome import Connectome
    if type(conn) is not Connectome:
        raise UnsupportedModelError(where, None, f"a {_qualified(type(conn))} cannot be saved in a graph file",
                                    "neurohybrid.backends.meanfield.Connectome")
    extra = sorted(set(vars(conn)) - set(_CONNECTOME_ATTRS))
    if extra:
        raise UnsupportedModelError(where, extra[0], "an attribute set on the connectome is not part of what a "
                                    "graph file holds", ", ".join(_CONNECTOME_ATTRS))
    return {"name": conn.name, "weights": arrays.put(conn.weights), "lengths": arrays.put(conn.lengths),
            "labels": [str(s) for s in conn.labels],
            "centres": None if conn.centres is None else arrays.put(conn.centres)}


def _decode_connectome(entry: dict, arrays: Arrays, where: str):
    from .backends.meanfield.connectome import Connectome
    centres = entry["centres"]
    return Connectome(arrays.get(entry["weights"]), arrays.get(entry["lengths"]), entry["labels"],
                      None if centres is None else arrays.get(centres), name=entry["name"])


def _encode_model(model, arrays: Arrays, where: str) -> dict:
    registry = _meanfield_registry("model")
    name = type(model).__name__
    if registry.get(name) is not type(model):
        raise UnsupportedModelError(where, None, f"{_qualified(type(model))} is not one of the neural-mass models a "
                                    "graph file can hold", ", ".join(registry))
    extra = sorted(set(vars(model)) - {"params", "variables_of_interest"})
    if extra:
        raise UnsupportedModelError(where, extra[0], "an attribute set on the model instance is not part of what a "
                                    "graph file holds", "the model's parameters and variables_of_interest")
    return {"type": name, "params": {k: encode_value(v, arrays, f"{where}.{k}") for k, v in model.params.items()},
            "variables_of_interest": list(model.variables_of_interest)}


def _decode_model(entry: dict, arrays: Arrays, where: str):
    registry = _meanfield_registry("model")
    cls = registry.get(entry["type"])
    if cls is None:
        raise GraphFileError(where, "type", f"unknown neural-mass model {entry['type']!r}", ", ".join(registry))
    model = cls(**{k: decode_value(v, arrays, where) for k, v in entry["params"].items()})
    model.variables_of_interest = tuple(entry["variables_of_interest"])
    return model


_SCAFFOLD_PARTS = {
    "connectome": (_encode_connectome, _decode_connectome),
    "model": (_encode_model, _decode_model),
    "coupling": (lambda v, a, w: _encode_object(v, _meanfield_registry("coupling"), a, w, "couplings"),
                 lambda e, a, w: _decode_object(e, _meanfield_registry("coupling"), a, w)),
    "integrator": (lambda v, a, w: _encode_object(v, _meanfield_registry("integrator"), a, w, "integrators"),
                   lambda e, a, w: _decode_object(e, _meanfield_registry("integrator"), a, w)),
    "monitors": (lambda v, a, w: [_encode_object(m, _meanfield_registry("monitor"), a, f"{w}[{k}]", "monitors")
                                  for k, m in enumerate(v)],
                 lambda e, a, w: [_decode_object(m, _meanfield_registry("monitor"), a, f"{w}[{k}]")
                                  for k, m in enumerate(e)]),
}


# ----------------------------------------------------------------------------------- modules
def encode_module(module, arrays: Arrays) -> dict:
    """A hybrid module as ``{"kind", "fields"}``; refuses (UnsupportedModelError naming the
    module and field) a host module and any field that is code."""
    who = f"{type(module).__name__}({module.name})"
    if isinstance(module, HostModuleNode):
        comp = module.component
        raise UnsupportedModelError(who, "component", f"a host module is a live component "
                                    f"({_qualified(type(comp))}), code and state: it cannot be saved in a graph file",
                                    "rebuild it after load() and add it with graph.add_module(HostModuleNode(...)) "
                                    "and graph.connect(...)")
    kind = getattr(module, "kind", None)
    if MODULE_KINDS.get(kind) is not type(module):
        raise UnsupportedModelError(who, None, "this kind of module cannot be saved in a graph file",
                                    ", ".join(c.__name__ for c in MODULE_KINDS.values()))
    fields = {}
    for f in dataclasses.fields(module):
        value, where = getattr(module, f.name), f"{who}.{f.name}"
        if kind == "scaffold" and f.name in _SCAFFOLD_PARTS:
            fields[f.name] = _SCAFFOLD_PARTS[f.name][0](value, arrays, where)
        elif f.name == "fn":
            fields[f.name] = _encode_fn(value, arrays, where)
        else:
            fields[f.name] = encode_value(value, arrays, where)
    return {"kind": kind, "fields": fields}


def decode_module(entry: dict, arrays: Arrays, where: str):
    """The module :func:`encode_module` described (GraphFileError naming ``where`` and the
    module on anything unknown)."""
    cls = MODULE_KINDS.get(entry["kind"])
    if cls is None:
        raise GraphFileError(where, "modules", f"unknown module kind {entry['kind']!r}", ", ".join(MODULE_KINDS))
    who = f"{where}: {cls.__name__}({entry['fields'].get('name')})"
    fields = {}
    for name, ref in entry["fields"].items():
        if entry["kind"] == "scaffold" and name in _SCAFFOLD_PARTS:
            fields[name] = _SCAFFOLD_PARTS[name][1](ref, arrays, f"{who}.{name}")
        elif name == "fn":
            fields[name] = _decode_fn(ref, arrays, f"{who}.{name}")
        else:
            fields[name] = decode_value(ref, arrays, f"{who}.{name}")
    try:
        return cls(**fields)
    except TypeError as exc:
        raise GraphFileError(who, "fields", f"do not fit {cls.__name__} ({exc})", "its dataclass fields") from None


# ------------------------------------------------------------------------------ cell builders
_NEURON_BUILDER = ("neurohybrid.backends.neuron.cells", "NeuronCellBuilder")


def encode_cell(cell, node: str, arrays: Arrays) -> dict:
    """A biophysical population's cell builder as data: a NeuronCellBuilder of a Python class,
    with string receptors and locations, no hoc file and no NMODL directory. Anything else is
    code and is refused (UnsupportedModelError naming the population and the parameter)."""
    where = f"Population({node}).cell"
    if (type(cell).__module__, type(cell).__name__) != _NEURON_BUILDER:
        raise UnsupportedModelError(where, None, f"a {type(cell).__name__} (e.g. a PyNN multi-compartment cell type: "
                                    "morphology, channels and synapses as Python objects) cannot be saved in a graph "
                                    "file", "a NeuronCellBuilder of a Python cell class")
    cls = cell.cell_class
    if isinstance(cls, str) or cell.hoc_file is not None:
        raise UnsupportedModelError(where, "cell_class", "a hoc template is code in a hoc file: it cannot be saved in "
                                    "a graph file", "a Python cell class (handed back to load(cell_classes=...))")
    if cell.mechanisms is not None:
        raise UnsupportedModelError(where, "mechanisms", "NMODL mechanisms are compiled code: a graph file cannot "
                                    "hold them", "cells of mechanisms NEURON has built in")
    qualname = _qualified(cls)
    if "<locals>" in qualname:
        raise UnsupportedModelError(where, "cell_class", f"{qualname} is defined inside a function: no one can hand "
                                    "it back by name", "a class defined at module level")
    for part in ("receptors", "locations"):
        for key, spec in getattr(cell, part).items():
            if not isinstance(spec, str):
                raise UnsupportedModelError(where, f"{part}[{key!r}]", "a Python function cannot be saved in a "
                                            "graph file", "an attribute path or a location path (a string)")
    if not isinstance(cell.spike_location, str):
        raise UnsupportedModelError(where, "spike_location", "only a location name or path can be saved", "a string")
    return {"builder": "NeuronCellBuilder", "cell_class": qualname,
            "cell_source_sha256": cell.describe()["cell_source_sha256"],
            "parameters": {k: encode_value(v, arrays, f"{where}.parameters[{k!r}]")
                           for k, v in cell.parameters.items()},
            "spike_location": cell.spike_location, "threshold": cell.threshold, "receptors": dict(cell.receptors),
            "locations": dict(cell.locations), "index_argument": cell.index_argument, "label": cell.label}


def decode_cell(entry: dict, arrays: Arrays, cell_classes, where: str):
    """The NeuronCellBuilder :func:`encode_cell` described, of the class named in the file and
    found among ``cell_classes`` (classes the caller hands over; the file's name is only looked
    up, never imported). GraphFileError when the class is not given or differs from the saved one."""
    qualname = entry["cell_class"]
    given = {_qualified(c): c for c in cell_classes}
    if entry.get("builder") != "NeuronCellBuilder":
        raise GraphFileError(where, "builder", f"unknown cell builder {entry.get('builder')!r}", "NeuronCellBuilder")
    if qualname not in given:
        raise GraphFileError(where, "cell_class", f"the graph's cells are of the Python class {qualname!r}, which is "
                             "code: a graph file names it but cannot hold it",
                             f"load(path, cell_classes=[{qualname.rsplit('.', 1)[-1]}]) with that class importable")
    from .backends.neuron.cells import NeuronCellBuilder
    builder = NeuronCellBuilder(given[qualname], {k: decode_value(v, arrays, where)
                                                  for k, v in entry["parameters"].items()},
                                spike_location=entry["spike_location"], threshold=entry["threshold"],
                                receptors=entry["receptors"], locations=entry["locations"],
                                index_argument=entry["index_argument"], label=entry["label"])
    if builder.describe()["cell_source_sha256"] != entry["cell_source_sha256"]:
        raise GraphFileError(where, "cell_class", f"the class {qualname} given is not the one saved (its source "
                             "differs)", "the cell class the graph was saved with")
    return builder
