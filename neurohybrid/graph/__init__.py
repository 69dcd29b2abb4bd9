"""The model graph: plain data that holds the whole model and that every engine consumes.

A front end (PyNN today; SONATA/NIR later) produces a :class:`ModelGraph`; nothing downstream
knows about PyNN. Nodes are populations of one model, edges are projections between two
nodes with their generated connections (kept with the rule and seed that generated them),
current injections and recordings are listed beside them. ``modules`` holds the other node
kinds of a hybrid model (scaffold, converters, fields, host modules: :mod:`.hybrid`) and
``links`` the typed connections between their ports and the populations'. ``content_hash()``
identifies the model in the run manifest.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from ..errors import LinkError
from .hybrid import (PORT_KINDS, TRANSFER_FUNCTIONS, Affine, FieldNode, HostModuleNode, Link,  # noqa: F401
                     RatesToSpikesNode, ScaffoldNode, Sigmoid, SpikesToRatesNode, check_link, port_kind)


@dataclass
class PopulationNode:
    """A population of ``size`` cells of one model. Parameters/initial values: per-cell arrays, PyNN units."""

    name: str
    model: str
    size: int
    parameters: dict[str, np.ndarray]
    initial: dict[str, np.ndarray] = field(default_factory=dict)
    kind: str = "point"  # "point" neurons, spike "source", "biophysical" (multi-compartment) cells, or a
    #: "modulator" (a volume transmitter: the dopamine of three-factor synapses, graph.synapses)
    engine: str | None = None  # None: the default engine for its kind
    #: for ``kind == "biophysical"``: the cell builder (backends/neuron/cells.py), which has a
    #: ``describe()`` (JSON-serialisable, hashed) and builds each cell in the engine
    cell: object = None
    #: for ``kind == "biophysical"``: a trained surrogate (``neurohybrid.surrogate.Surrogate``)
    #: that replaces the cell on the ``"surrogate"`` engine, with the same ports
    surrogate: object = None


@dataclass
class ProjectionEdge:
    """Connections from node ``pre`` to node ``post`` (node-local indices) on one receptor.

    ``rule`` records how the connections were generated (connector name and parameters) and
    ``seed`` the seed it used; ``values`` holds one array per synapse parameter (weight in
    nA/µS/mV, delay in ms, and the synapse model's own parameters).
    """

    name: str
    pre: str
    post: str
    receptor: str
    synapse: str
    pre_index: np.ndarray
    post_index: np.ndarray
    values: dict[str, np.ndarray]
    rule: dict = field(default_factory=dict)
    seed: int | None = None
    #: for a biophysical ``post``: where on the cell the synapses go (a section label such as
    #: ``"apical_dendrites"``, or None: any section with the receptor); the engine picks, per
    #: connection, one synapse there with a stream keyed by the edge name and the graph seed
    location: str | None = None
    #: for a three-factor synapse (``DopamineSTDPSynapse``): the volume-transmitter node whose
    #: dopamine concentration gates it
    modulator: str | None = None
    #: ms of ``delay`` already spent crossing engines before the edge's ``pre`` (a partition
    #: mirror) emitted the spike; ``delay`` here is what remains. Plasticity uses the whole delay
    #: (``delay + transit``) and the original emission time.
    transit: float = 0.0

    def connections_hash(self) -> str:
        """Hash of the generated connections (indices and parameter values)."""
        h = hashlib.sha256()
        for arr in (self.pre_index, self.post_index, *[self.values[k] for k in sorted(self.values)]):
            _hash_array(h, arr)
        return h.hexdigest()


@dataclass
class CurrentInjection:
    """A current source (``kind`` is the PyNN class name) injected into cells of one node."""

    name: str
    kind: str
    parameters: dict
    node: str
    index: np.ndarray


@dataclass
class RecordingSpec:
    """Record ``variable`` of cells ``index`` of ``node`` every ``sampling_interval`` ms (spikes: no interval)."""

    node: str
    variable: str
    index: np.ndarray
    sampling_interval: float | None = None
    #: units of the recorded values (None: those of ``variable`` for neurons, runtime.recorder)
    units: str | None = None


@dataclass
class ModelGraph:
    """The whole model: nodes, edges, current injections, recordings, resolution and seed."""

    dt: float
    seed: int
    nodes: dict[str, PopulationNode] = field(default_factory=dict)
    edges: list[ProjectionEdge] = field(default_factory=list)
    currents: list[CurrentInjection] = field(default_factory=list)
    recordings: list[RecordingSpec] = field(default_factory=list)
    modules: dict = field(default_factory=dict)  # name -> ScaffoldNode, converter, FieldNode, HostModuleNode
    links: list = field(default_factory=list)  # hybrid.Link between ports of nodes and modules

    def add_module(self, module):
        """Add a non-population node (names are unique across nodes and modules); returns it."""
        if module.name in self.nodes or module.name in self.modules:
            raise LinkError(f"{type(module).__name__}({module.name})", "name", "already used in the graph",
                            "a unique name")
        self.modules[module.name] = module
        return module

    def connect(self, source: str, source_port: str, target: str, target_port: str) -> Link:
        """Link ``source``'s output port to ``target``'s input port (typed: LinkError naming
        the link when either port is missing or the kinds differ)."""
        link = Link(source, source_port, target, target_port)
        check_link({**self.nodes, **self.modules}, link)
        self.links.append(link)
        return link

    def links_from(self, name: str, port: str | None = None) -> list:
        """Links out of node/module ``name`` (of output ``port`` if given), in graph order."""
        return [lk for lk in self.links if lk.source == name and (port is None or lk.source_port == port)]

    def links_to(self, name: str, port: str | None = None) -> list:
        """Links into node/module ``name`` (of input ``port`` if given), in graph order."""
        return [lk for lk in self.links if lk.target == name and (port is None or lk.target_port == port)]

    def content_hash(self) -> str:
        """SHA-256 over every number and name that defines the model (not the recordings)."""
        h = hashlib.sha256()
        h.update(json.dumps({"dt": self.dt, "seed": self.seed}).encode())
        for node in self.nodes.values():
            h.update(json.dumps([node.name, node.model, node.size, node.kind, node.engine]).encode())
            if node.cell is not None:
                h.update(json.dumps(node.cell.describe(), sort_keys=True, default=str).encode())
            if node.surrogate is not None:
                h.update(json.dumps(node.surrogate.describe(), sort_keys=True, default=str).encode())
            for mapping in (node.parameters, node.initial):
                for key in sorted(mapping):
                    h.update(key.encode())
                    _hash_value(h, mapping[key])
        for edge in self.edges:
            h.update(json.dumps([edge.name, edge.pre, edge.post, edge.receptor, edge.synapse, edge.location]
                                + ([edge.modulator] if edge.modulator is not None else [])).encode())
            h.update(edge.connections_hash().encode())
        for cur in self.currents:
            h.update(json.dumps([cur.name, cur.kind, cur.node]).encode())
            h.update(np.ascontiguousarray(cur.index).tobytes())
            for key in sorted(cur.parameters):
                h.update(key.encode())
                _hash_value(h, cur.parameters[key])
        for module in self.modules.values():
            h.update(json.dumps([type(module).__name__, module_description(module)], sort_keys=True,
                                default=str).encode())
        for link in self.links:
            h.update(link.label.encode())
        return h.hexdigest()

    def summary(self) -> dict:
        """A JSON-serialisable description for the run manifest."""
        return {
            "dt_ms": self.dt,
            "seed": self.seed,
            "content_hash": self.content_hash(),
            "nodes": {n.name: {"model": n.model, "size": n.size, "kind": n.kind, "engine": n.engine}
                      for n in self.nodes.values()},
            "modules": {m.name: {"kind": m.kind, **module_description(m)} for m in self.modules.values()},
            "links": [lk.label for lk in self.links],
            "edges": [{"name": e.name, "pre": e.pre, "post": e.post, "receptor": e.receptor,
                       "synapse": e.synapse, **({"modulator": e.modulator} if e.modulator else {}),
                       "n_connections": int(e.pre_index.size), "rule": e.rule,
                       "seed": e.seed, "connections_sha256": e.connections_hash()} for e in self.edges],
        }


def _hash_array(h, arr: np.ndarray) -> None:
    """Hash an array by dtype, shape and content; a constant (broadcast) array by its one value,
    so hashing never materialises it."""
    h.update(f"{arr.dtype.str}{arr.shape}".encode())
    if arr.size and arr.strides == (0,):
        h.update(b"const")
        h.update(np.ascontiguousarray(arr[:1]).tobytes())
    else:
        h.update(memoryview(np.ascontiguousarray(arr)).cast("B"))  # no copy for contiguous arrays


def _hash_value(h, value) -> None:
    if isinstance(value, str):  # e.g. the location of a current injected into a multi-compartment cell
        h.update(value.encode())
        return
    if isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.dtype == object):
        for item in value:
            _hash_value(h, item)
    else:
        h.update(np.ascontiguousarray(np.asarray(value, dtype=float)).tobytes())


def module_description(module) -> dict:
    """A JSON-able description of a module's defining content (hashed; in the manifest).

    Every part is described by class name and field values, never by an object's ``repr``, so
    the description (and the content hash) is the same in every process: a graph loaded from a
    file hashes as the one that was saved. Large arrays are described by their SHA-256.
    """
    out = {}
    for f in dataclasses.fields(module):
        value = getattr(module, f.name)
        if f.name == "connectome":
            out[f.name] = _connectome_description(value)
        elif f.name == "model":
            out[f.name] = {"type": type(value).__name__,
                           "parameters": {k: np.asarray(v).tolist() for k, v in value.params.items()},
                           "variables_of_interest": list(getattr(value, "variables_of_interest", ()))}
        elif f.name == "monitors":
            out[f.name] = [object_description(m) for m in value]
        elif f.name in ("fn", "coupling", "integrator"):
            out[f.name] = object_description(value)
        elif f.name == "component":  # a live object: its class and name
            out[f.name] = {"type": _qualified(type(value)), "name": getattr(value, "name", None)}
        else:
            out[f.name] = _plain(value)
    return out


def _connectome_description(conn) -> dict:
    h = hashlib.sha256()
    for arr in (conn.weights, conn.lengths):
        h.update(np.ascontiguousarray(arr, dtype=float).tobytes())
    centres = getattr(conn, "centres", None)
    return {"name": getattr(conn, "name", None), "labels": [str(x) for x in conn.labels], "sha256": h.hexdigest(),
            "centres_sha256": None if centres is None else
            hashlib.sha256(np.ascontiguousarray(centres, dtype=float).tobytes()).hexdigest()}


def object_description(value) -> object:
    """A part of a module (coupling, integrator, monitor, transfer function, Python function) as
    JSON-able data with no memory address in it: a dataclass by class name and fields, a
    function by qualified name and a digest of its byte code, anything else by class name and
    its public attributes."""
    if value is None:
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"type": type(value).__name__,
                **{f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    code = getattr(value, "__code__", None)
    if code is not None:
        return [getattr(value, "__qualname__", type(value).__name__), _code_digest(code)]
    name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    if name is not None:  # a builtin or numpy function
        return {"callable": name, "module": getattr(value, "__module__", None)}
    try:
        attrs = {k: _plain(v) for k, v in sorted(vars(value).items()) if not k.startswith("_")}
    except TypeError:
        attrs = {}
    return {"type": _qualified(type(value)), **attrs}


def _code_digest(code) -> str:
    """SHA-256 of a code object's byte code, constants and global names; nested code objects
    (lambdas, comprehensions) by their own digest, as their repr holds a memory address."""
    h = hashlib.sha256(code.co_code)
    for const in code.co_consts:
        h.update(_code_digest(const).encode() if hasattr(const, "co_code") else repr(const).encode())
    h.update(repr(code.co_names).encode())
    return h.hexdigest()


def _plain(value):
    """A field value as JSON-able data (arrays of more than 64 values by their SHA-256)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        if value.size <= 64 or value.dtype == object:
            return value.tolist()
        h = hashlib.sha256()
        _hash_array(h, value)
        return {"array_sha256": h.hexdigest()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return object_description(value)


def _qualified(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
