"""The deployable Loihi bundle: one HDF5 file holding a quantised, placed :class:`LoihiCircuit`.

A bundle is everything needed to run a model on Loihi (or on its emulator) on another machine
without the script that built it: every field of the circuit (per-compartment parameters,
connectivity with weights and delays, placement, quantisation report) and a manifest (model
hash, seed, versions, format version, checksum; for runs with host spike sources also their
models and parameters under ``host_inputs``, so the same input spikes can be regenerated).
:func:`write_bundle` writes it; :func:`load_bundle` rebuilds the circuit, field for field.

Layout (format version 1)::

    /                        attrs: format = "neurohybrid-loihi-bundle", format_version = 1,
                                    checksum (sha256 hex, see below), dt_ms,
                                    manifest, report, placement (JSON strings),
                                    population_order, input_order (JSON lists of names)
    /populations/<i>/        i = position in population_order; attrs: name, size, scale
                             (Loihi v units per mV), v_rest (mV), source_model,
                             approximations (JSON list); datasets du, dv, vth, bias_mant,
                             bias_exp, refractory, u0, v0 (Loihi integers, one per compartment)
    /inputs/<i>/             attrs: name, size, source_model
    /projections/<i>/        i = position in circuit.projections; attrs: name, pre, post,
                             weight_exp, num_weight_bits, sign_mode ("" for None);
                             datasets rows (post), cols (pre), weights (int mantissas),
                             delays (steps, 1..64)

Groups are named by position so no name ever needs escaping; names live in attributes.
The checksum is the SHA-256 of a canonical serialisation of the circuit (:func:`circuit_digest`:
every name, number and array with its dtype and shape, the JSON of report, placement and
manifest without its ``checksum`` entry); :func:`load_bundle` recomputes it from what it read,
so any change to the content after writing is detected, whatever HDF5 object it hit.
Every problem while reading (missing file, truncation, corruption, wrong format, newer
version, inconsistent shapes) raises :class:`~neurohybrid.errors.BundleError` naming the file.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import h5py
import numpy as np

from neurohybrid.errors import BundleError

from .circuit import LoihiCircuit, LoihiInput, LoihiPopulation, LoihiProjection

__all__ = ["write_bundle", "load_bundle", "circuit_digest", "host_inputs_manifest", "FORMAT", "FORMAT_VERSION"]

FORMAT = "neurohybrid-loihi-bundle"
#: Version of the layout above; a reader refuses files of a newer version.
FORMAT_VERSION = 1

_POP_ARRAYS = ("du", "dv", "vth", "bias_mant", "bias_exp", "refractory", "u0", "v0")
_PROJ_ARRAYS = ("rows", "cols", "weights", "delays")
_COMPRESS_ABOVE = 65536  # arrays larger than this are gzip-compressed (elements)


def _json_default(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")


def _canonical_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, default=_json_default)


def _is_constant(arr: np.ndarray) -> bool:
    """A zero-stride (``np.broadcast_to``) 1-d array: one value repeated, stored as one."""
    return arr.ndim == 1 and arr.size > 1 and arr.strides == (0,)


def _hash_array(h, arr) -> None:
    # a constant array is hashed by its one value, so hashing never materialises it
    a = np.asarray(arr)
    h.update(f"{a.dtype.str}{a.shape}".encode())
    if _is_constant(a):
        h.update(b"const")
        h.update(np.ascontiguousarray(a[:1]).tobytes())
    else:
        h.update(np.ascontiguousarray(a).tobytes())


def circuit_digest(circuit: LoihiCircuit) -> str:
    """SHA-256 (hex) of every field of ``circuit`` (the manifest's own ``checksum`` excluded)."""
    h = hashlib.sha256()
    h.update(_canonical_json({"format": FORMAT, "dt_ms": float(circuit.dt_ms)}).encode())
    for pop in circuit.populations.values():
        h.update(_canonical_json([pop.name, int(pop.size), float(pop.scale), float(pop.v_rest),
                                  pop.source_model, list(pop.approximations)]).encode())
        for key in _POP_ARRAYS:
            _hash_array(h, _pop_array(pop, key))
    for inp in circuit.inputs.values():
        h.update(_canonical_json([inp.name, int(inp.size), inp.source_model]).encode())
    for proj in circuit.projections:
        h.update(_canonical_json([proj.name, proj.pre, proj.post, int(proj.weight_exp), int(proj.num_weight_bits),
                                  proj.sign_mode]).encode())
        for key in _PROJ_ARRAYS:
            _hash_array(h, _proj_array(proj, key))
    manifest = {k: v for k, v in (circuit.manifest or {}).items() if k != "checksum"}
    for part in (circuit.report or {}, circuit.placement, manifest):
        h.update(_canonical_json(part).encode())
    return h.hexdigest()


def _pop_array(pop: LoihiPopulation, key: str) -> np.ndarray:
    a = np.asarray(getattr(pop, key))
    return np.broadcast_to(a, (pop.size,)) if a.ndim == 0 else a


def _proj_array(proj: LoihiProjection, key: str) -> np.ndarray:
    a = np.asarray(getattr(proj, key))
    if a.shape != np.shape(proj.rows):
        a = np.broadcast_to(a, np.shape(proj.rows))
    return a


def host_inputs_manifest(graph, circuit: LoihiCircuit) -> dict:
    """The manifest entry ``host_inputs``: for every circuit input, the PyNN source model and
    its parameters from ``graph`` (PyNN units, JSON lists; floats round-trip exactly), which is
    what the engines need to regenerate the same input spikes from the seed."""
    out = {}
    for name in circuit.inputs:
        node = graph.nodes[name]
        params = {}
        for key, value in node.parameters.items():
            if key == "spike_times":
                params[key] = [np.asarray(v, dtype=float).tolist() for v in value]
            elif value is None or isinstance(value, str):  # an encoder's units, generator, NIR layer list
                params[key] = value
            else:
                params[key] = np.asarray(value, dtype=float).tolist()
        out[name] = {"model": node.model, "parameters": params}
    return out


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

def _dataset(group: h5py.Group, key: str, data: np.ndarray) -> None:
    if _is_constant(data):  # one value and the length: a constant array stays compact
        ds = group.create_dataset(key, data=np.ascontiguousarray(data[:1]))
        ds.attrs["broadcast_to"] = int(data.size)
    elif data.size > _COMPRESS_ABOVE:
        group.create_dataset(key, data=data, compression="gzip", compression_opts=4, shuffle=True)
    else:
        group.create_dataset(key, data=data)


def write_bundle(circuit: LoihiCircuit, path: str | os.PathLike) -> Path:
    """Write ``circuit`` to the bundle file ``path`` (replaced atomically) and return the path.

    ``circuit.manifest`` gets ``format``, ``format_version`` and ``checksum`` entries (in
    place), the checksum being :func:`circuit_digest` of the circuit written.
    """
    path = Path(path)
    manifest = dict(circuit.manifest or {})
    manifest.pop("checksum", None)
    manifest.update(format=FORMAT, format_version=FORMAT_VERSION)
    circuit.manifest = manifest
    checksum = circuit_digest(circuit)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["format_version"] = FORMAT_VERSION
            f.attrs["checksum"] = checksum
            f.attrs["dt_ms"] = float(circuit.dt_ms)
            f.attrs["manifest"] = _canonical_json(manifest)
            f.attrs["report"] = _canonical_json(circuit.report or {})
            f.attrs["placement"] = _canonical_json(circuit.placement)
            f.attrs["population_order"] = _canonical_json(list(circuit.populations))
            f.attrs["input_order"] = _canonical_json(list(circuit.inputs))
            pops = f.create_group("populations")
            for i, pop in enumerate(circuit.populations.values()):
                g = pops.create_group(str(i))
                g.attrs.update(name=pop.name, size=int(pop.size), scale=float(pop.scale), v_rest=float(pop.v_rest),
                               source_model=pop.source_model, approximations=_canonical_json(list(pop.approximations)))
                for key in _POP_ARRAYS:
                    _dataset(g, key, _pop_array(pop, key))
            inputs = f.create_group("inputs")
            for i, inp in enumerate(circuit.inputs.values()):
                inputs.create_group(str(i)).attrs.update(name=inp.name, size=int(inp.size), source_model=inp.source_model)
            projs = f.create_group("projections")
            for i, proj in enumerate(circuit.projections):
                g = projs.create_group(str(i))
                g.attrs.update(name=proj.name, pre=proj.pre, post=proj.post, weight_exp=int(proj.weight_exp),
                               num_weight_bits=int(proj.num_weight_bits), sign_mode=proj.sign_mode or "")
                for key in _PROJ_ARRAYS:
                    _dataset(g, key, _proj_array(proj, key))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    circuit.manifest = {**manifest, "checksum": checksum}
    return path


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------

class _Reader:
    """Reads one bundle, turning every low-level failure into a BundleError naming the file."""

    def __init__(self, path: Path, f: h5py.File):
        self.path, self.f = path, f

    def fail(self, problem: str, accepted: str | None = None):
        raise BundleError(self.path, problem, accepted)

    def attr(self, obj, key: str, where: str):
        try:
            value = obj.attrs[key]
        except KeyError:
            self.fail(f"attribute {key!r} of {where} is missing (the file is incomplete or corrupted)")
        except Exception as exc:  # noqa: BLE001 - h5py raises OSError/RuntimeError on damaged metadata
            self.fail(f"attribute {key!r} of {where} cannot be read ({type(exc).__name__}: {exc})")
        return value.decode() if isinstance(value, bytes) else value

    def json_attr(self, obj, key: str, where: str):
        text = self.attr(obj, key, where)
        try:
            return json.loads(text)
        except (TypeError, ValueError) as exc:
            self.fail(f"attribute {key!r} of {where} is not valid JSON ({exc})")

    def group(self, key: str) -> h5py.Group:
        try:
            g = self.f[key]
        except KeyError:
            self.fail(f"group {key!r} is missing (the file is incomplete or corrupted)")
        except Exception as exc:  # noqa: BLE001
            self.fail(f"group {key!r} cannot be read ({type(exc).__name__}: {exc})")
        if not isinstance(g, h5py.Group):
            self.fail(f"{key!r} is not a group")
        return g

    def array(self, group: h5py.Group, key: str, where: str, length: int | None) -> np.ndarray:
        try:
            ds = group[key]
            data = ds[()]
            length_attr = ds.attrs.get("broadcast_to")
        except KeyError:
            self.fail(f"dataset {key!r} of {where} is missing (the file is incomplete or corrupted)")
        except Exception as exc:  # noqa: BLE001 - truncated/corrupted chunks surface as OSError
            self.fail(f"dataset {key!r} of {where} cannot be read ({type(exc).__name__}: {exc})")
        data = np.asarray(data)
        if length_attr is not None:
            if data.shape != (1,) or int(length_attr) < 2:
                self.fail(f"dataset {key!r} of {where} is a damaged constant array")
            data = np.broadcast_to(data, (int(length_attr),))
        if data.ndim != 1 or (length is not None and data.size != length):
            self.fail(f"dataset {key!r} of {where} has shape {data.shape}",
                      f"a 1-D array of length {length}" if length is not None else "a 1-D array")
        if data.dtype.kind not in "iu":
            self.fail(f"dataset {key!r} of {where} has dtype {data.dtype}", "integers")
        return data

    def circuit(self) -> LoihiCircuit:
        f = self.f
        fmt = self.attr(f, "format", "the file")
        if fmt != FORMAT:
            self.fail(f"format attribute is {fmt!r}, not a Loihi bundle", repr(FORMAT))
        version = int(self.attr(f, "format_version", "the file"))
        if version > FORMAT_VERSION:
            self.fail(f"written in bundle format version {version}; this neurohybrid reads up to {FORMAT_VERSION}",
                      "upgrade neurohybrid")
        checksum = self.attr(f, "checksum", "the file")
        circuit = LoihiCircuit(dt_ms=float(self.attr(f, "dt_ms", "the file")))
        circuit.manifest = self.json_attr(f, "manifest", "the file")
        circuit.report = self.json_attr(f, "report", "the file")
        circuit.placement = self.json_attr(f, "placement", "the file")
        pop_order = self.json_attr(f, "population_order", "the file")
        input_order = self.json_attr(f, "input_order", "the file")
        pops = self.group("populations")
        if len(pops) != len(pop_order):
            self.fail(f"has {len(pops)} population groups, the index lists {len(pop_order)}")
        for i, name in enumerate(pop_order):
            where = f"population {name!r} (/populations/{i})"
            g = self.group(f"populations/{i}")
            size = int(self.attr(g, "size", where))
            arrays = {key: self.array(g, key, where, size) for key in _POP_ARRAYS}
            circuit.populations[name] = LoihiPopulation(
                name=self.attr(g, "name", where), size=size, **arrays, scale=float(self.attr(g, "scale", where)),
                v_rest=float(self.attr(g, "v_rest", where)), source_model=self.attr(g, "source_model", where),
                approximations=tuple(self.json_attr(g, "approximations", where)))
        inputs = self.group("inputs")
        if len(inputs) != len(input_order):
            self.fail(f"has {len(inputs)} input groups, the index lists {len(input_order)}")
        for i, name in enumerate(input_order):
            where = f"input {name!r} (/inputs/{i})"
            g = self.group(f"inputs/{i}")
            circuit.inputs[name] = LoihiInput(self.attr(g, "name", where), int(self.attr(g, "size", where)),
                                              self.attr(g, "source_model", where))
        projs = self.group("projections")
        for i in range(len(projs)):
            g = self.group(f"projections/{i}")
            name = self.attr(g, "name", f"/projections/{i}")
            where = f"projection {name!r} (/projections/{i})"
            rows = self.array(g, "rows", where, None)
            arrays = {key: self.array(g, key, where, rows.size) for key in _PROJ_ARRAYS[1:]}
            circuit.projections.append(LoihiProjection(
                name=name, pre=self.attr(g, "pre", where), post=self.attr(g, "post", where), rows=rows, **arrays,
                weight_exp=int(self.attr(g, "weight_exp", where)),
                num_weight_bits=int(self.attr(g, "num_weight_bits", where)),
                sign_mode=self.attr(g, "sign_mode", where) or None))
        digest = circuit_digest(circuit)
        if digest != checksum:
            self.fail(f"checksum mismatch: the content was changed or damaged after it was written "
                      f"(stored {checksum[:16]}..., computed {digest[:16]}...)")
        self._check_references(circuit)
        circuit.manifest["checksum"] = checksum
        return circuit

    def _check_references(self, circuit: LoihiCircuit) -> None:
        for proj in circuit.projections:
            if proj.post not in circuit.populations:
                self.fail(f"projection {proj.name!r} targets {proj.post!r}, which is not a population of the bundle")
            pre = circuit.populations.get(proj.pre) or circuit.inputs.get(proj.pre)
            if pre is None:
                self.fail(f"projection {proj.name!r} comes from {proj.pre!r}, which is neither a population nor an input")
            n_post = circuit.populations[proj.post].size
            if proj.rows.size and (proj.rows.min() < 0 or proj.rows.max() >= n_post
                                   or proj.cols.min() < 0 or proj.cols.max() >= pre.size):
                self.fail(f"projection {proj.name!r} has indices outside its populations")


def load_bundle(path: str | os.PathLike) -> LoihiCircuit:
    """Rebuild the :class:`LoihiCircuit` stored in the bundle file ``path``.

    Raises :class:`~neurohybrid.errors.BundleError` (naming the file and the problem) when the
    file is missing, is not a readable HDF5 file (e.g. truncated), is not a bundle, is of a
    newer format version, or fails its checksum.
    """
    path = Path(path)
    if not path.exists():
        raise BundleError(path, "no such file")
    try:
        f = h5py.File(path, "r")
    except Exception as exc:  # noqa: BLE001 - h5py reports truncation/corruption as OSError
        raise BundleError(path, f"not a readable HDF5 file: truncated or corrupted ({type(exc).__name__}: {exc})",
                          "a bundle written by sim.export_loihi() / write_bundle()") from None
    try:
        with f:
            return _Reader(path, f).circuit()
    except BundleError:
        raise
    except Exception as exc:  # noqa: BLE001 - any other low-level failure is still a damaged bundle
        raise BundleError(path, f"cannot be read: {type(exc).__name__}: {exc}") from None
