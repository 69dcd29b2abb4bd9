"""The Loihi path and NIR in the PyNN front end: engine selection for ``backend="lava"`` /
``numerics="fixed"``, the deployable bundle (:func:`export_loihi`) and NIR export/import
(:func:`export_nir`, :func:`import_nir`).

Engine selection (:func:`resolve_engine`, used by ``setup()``):

=====================  ============  ==================================================
``backend``            ``numerics``  engine
=====================  ============  ==================================================
``"emulator"``         ``"float"``   float emulator (PyNN semantics; the default)
``"emulator"``         ``"fixed"``   fixed-point emulator: the quantised Loihi circuit,
                                     bit-exact with Lava ``fixed_pt``
``"lava"``             ``"fixed"``   Lava ``Loihi2SimCfg(select_tag="fixed_pt")`` (the
                                     default numerics for this backend); where Lava
                                     cannot be used, the fixed-point emulator with ONE
                                     :class:`~neurohybrid.errors.LavaUnavailableWarning`
``"lava"``             ``"float"``   the same circuit on Lava's ``floating_pt`` models
                                     (falls back like ``"fixed"``)
=====================  ============  ==================================================

``loihi_approximations`` (a sequence of names) is handed to the quantiser on the Loihi path;
on the float emulator it is refused (it would silently mean nothing).
"""
from __future__ import annotations

import importlib
import inspect
import os
import platform
import warnings
from pathlib import Path

import numpy as np

from ..engines import engine_class
from ..errors import LavaUnavailableWarning, ParameterError, UnsupportedModelError
from . import simulator

FIXED_ENGINE = "neurohybrid.backends.emulator.fixed_engine:FixedEmulatorEngine"
NUMERICS = {"emulator": ("float", "fixed"), "lava": ("fixed", "float")}


def _fixed_engine_class():
    module, _, cls = FIXED_ENGINE.partition(":")
    return getattr(importlib.import_module(module), cls)


def _check_approximations(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = (value,)
    try:
        names = tuple(value)
    except TypeError:
        raise ParameterError("setup", "loihi_approximations", f"{value!r} is not a sequence of names",
                             "a tuple of approximation names, e.g. ('merge_synaptic_time_constants',)") from None
    for name in names:
        if not isinstance(name, str):
            raise ParameterError("setup", "loihi_approximations", f"{name!r} is not a name",
                                 "strings naming approximations, e.g. 'merge_synaptic_time_constants'")
    known = _known_approximations()
    unknown = [n for n in names if known is not None and n not in known]
    if unknown:
        raise ParameterError("setup", "loihi_approximations", f"unknown approximation(s) {unknown}",
                             ", ".join(known))
    return names


def _known_approximations():
    """Names the quantiser knows, or None when it cannot be imported (it then checks itself)."""
    try:
        from ..mappings.loihi.quantize import APPROXIMATIONS
    except ImportError:
        return None
    return tuple(APPROXIMATIONS)


def lava_status() -> tuple[bool, str]:
    """(usable, reason): whether ``backend="lava"`` can run Lava here, and why not."""
    try:
        cls = engine_class("lava")
    except UnsupportedModelError:
        return False, "no Lava engine is registered in neurohybrid.engines"
    except ImportError as exc:
        return False, f"the Lava engine cannot be imported ({exc})"
    module = importlib.import_module(cls.__module__)
    check = getattr(module, "lava_available", None)
    if check is None:
        check = getattr(importlib.import_module("neurohybrid.backends.lava"), "lava_available", None)
    if check is not None:
        ok, reason = check()
        return bool(ok), str(reason or "")
    from ..backends.lava import compat
    ok = compat.import_lava()
    return ok, compat.last_error or ""


def _accepts(cls, name: str) -> bool:
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return True
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def resolve_engine(backend: str = "emulator", numerics: str | None = None, approximations=()):
    """Pick the engine for ``setup(backend=..., numerics=..., loihi_approximations=...)``.

    Returns ``(engine class, constructor keyword arguments, info)``; ``info`` (for the run
    manifest) has the resolved ``numerics``, the ``engine`` that will run and, after a
    fallback, ``fallback_reason``. Unknown backends raise UnsupportedModelError (from the
    engine registry), unknown numerics ParameterError; a missing Lava warns once
    (:class:`LavaUnavailableWarning`) and selects the fixed-point emulator.
    """
    approximations = _check_approximations(approximations)
    if not isinstance(backend, str):
        raise ParameterError("setup", "backend", f"{backend!r} is not an engine name", "'emulator' or 'lava'")
    if numerics is None:
        numerics = "fixed" if backend == "lava" else "float"
    if backend in NUMERICS and numerics not in NUMERICS[backend]:
        raise ParameterError("setup", "numerics", f"{numerics!r} is not available with backend={backend!r}",
                             " or ".join(repr(n) for n in NUMERICS[backend]))
    if backend == "emulator" and numerics == "float":
        if approximations:
            raise ParameterError("setup", "loihi_approximations", "only apply on the Loihi path",
                                 "numerics='fixed' or backend='lava' (or no approximations)")
        return engine_class("emulator"), {"numerics": "float"}, {"numerics": "float", "engine": "emulator"}
    fixed_kwargs = {"numerics": "fixed", "approximations": approximations}
    if backend == "emulator":
        return _fixed_engine_class(), fixed_kwargs, {"numerics": "fixed", "engine": "emulator-fixed"}
    if backend == "lava":
        ok, reason = lava_status()
        if ok:
            cls = engine_class("lava")
            kwargs = {"numerics": numerics}
            if approximations:
                if not _accepts(cls, "approximations"):
                    raise UnsupportedModelError("setup", "loihi_approximations",
                                                "the Lava engine does not take approximations",
                                                "backend='emulator', numerics='fixed'")
                kwargs["approximations"] = approximations
            return cls, kwargs, {"numerics": numerics, "engine": "lava"}
        warnings.warn(LavaUnavailableWarning(
            f"backend='lava' cannot use Lava here ({reason}); running the fixed-point emulator instead, "
            "which is bit-exact with Lava's fixed_pt models" + (" (numerics='float' asked for Lava's floating_pt "
                                                                  "models, which have no emulator)"
                                                                  if numerics == "float" else "")), stacklevel=4)
        return _fixed_engine_class(), fixed_kwargs, {"numerics": "fixed", "engine": "emulator-fixed",
                                                     "fallback_reason": reason}
    if backend == "neuron":
        raise ParameterError("setup", "backend", "NEURON runs the multi-compartment cells of every session; it is "
                             "not a point-neuron backend", "'emulator' or 'lava'")
    if approximations:
        raise ParameterError("setup", "loihi_approximations", f"do not apply to backend={backend!r}",
                             "backend='lava' or numerics='fixed'")
    return engine_class(backend), {"numerics": numerics}, {"numerics": numerics, "engine": backend}


# --------------------------------------------------------------------------------------------
# The deployable bundle
# --------------------------------------------------------------------------------------------

def _network(action: str):
    state = simulator.state
    state._check_usable(action)
    return state.network


def _versions() -> dict:
    from importlib import metadata

    import h5py
    import numba
    from .. import __version__
    out = {"neurohybrid": __version__, "python": platform.python_version(),
           "numpy": np.__version__, "h5py": h5py.__version__, "numba": numba.__version__}
    for dist in ("lava-nc", "nir", "PyNN"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def loihi_circuit(chips: int | str = 1):
    """The current model quantised (with the session's ``loihi_approximations``) and placed on
    ``chips`` chips (a count, or a system name known to ``place``), its manifest filled in
    (model hash, seed, versions, host inputs)."""
    from ..mappings.loihi import place, quantize
    from ..mappings.loihi.bundle import host_inputs_manifest
    network = _network("export_loihi")
    graph = network.build_graph()
    circuit = quantize(graph, approximations=getattr(network, "approximations", ()), dt=graph.dt)
    placed = place(circuit, chips=chips)  # validates chips (a count or a system name)
    if placed is not None and placed is not circuit:
        if hasattr(placed, "populations"):  # a placed copy of the circuit
            circuit = placed
        else:  # the placement report
            circuit.placement = placed if isinstance(placed, dict) else getattr(placed, "__dict__", placed)
    circuit.manifest = {**(circuit.manifest or {}), "model_hash": graph.content_hash(), "seed": int(graph.seed),
                        "dt_ms": float(graph.dt), "chips": chips if isinstance(chips, str) else int(chips),
                        "versions": _versions(),
                        "host_inputs": host_inputs_manifest(graph, circuit),
                        "model": {"nodes": graph.summary()["nodes"]}}
    return circuit


def export_loihi(path: str | os.PathLike, chips: int | str = 1) -> Path:
    """Write the current model as a deployable Loihi bundle (one HDF5 file) and return its path.

    The bundle holds the quantised circuit (Loihi integers), its placement on ``chips`` chips,
    the quantisation report and a manifest (model hash, seed, versions, format version,
    checksum, host spike sources). ``neurohybrid.mappings.loihi.bundle.load_bundle(path)``
    rebuilds it anywhere. Raises what quantisation or placement raise for a model that does
    not map or fit (typed errors naming the population).
    """
    from ..mappings.loihi.bundle import write_bundle
    return write_bundle(loihi_circuit(chips), path)


# --------------------------------------------------------------------------------------------
# NIR
# --------------------------------------------------------------------------------------------

def export_nir(path: str | os.PathLike):
    """Write the spiking part of the current model as a NIR graph (HDF5) and return the
    ``nir.NIRGraph`` (see :mod:`neurohybrid.mappings.nir_io` for units and conventions)."""
    from ..mappings.nir_io import write_nir
    return write_nir(_network("export_nir").build_graph(), path)


def import_nir(path_or_graph, label_prefix: str = "") -> dict:
    """Create the populations and projections a NIR graph describes in the current session.

    ``path_or_graph``: a NIR file or a ``nir.NIRGraph``. Returns ``{name: Population or
    Projection}`` (populations by node label, projections by the label they were exported
    with, split ``[exc]``/``[inh]`` by weight sign for foreign graphs). Labels get
    ``label_prefix`` in front. Populations that feed an Output node record their spikes.
    """
    from pyNN.connectors import FromListConnector

    from . import standardmodels
    from .populations import Population
    from .projections import Projection
    from ..mappings.nir_io import nir_to_model

    state = simulator.state
    state._check_usable("import_nir")
    model = nir_to_model(path_or_graph, dt=state.dt)
    taken = {p.label for p in state.populations} & {label_prefix + name for name in model.populations}
    if taken:
        raise ParameterError("import_nir", "label_prefix", f"populations {sorted(taken)} already exist in this session",
                             "a label_prefix that makes the imported labels unique")
    out = {}
    for name, spec in model.populations.items():
        celltype = getattr(standardmodels, spec.celltype)(**spec.parameters)
        pop = Population(spec.size, celltype, label=label_prefix + name)
        if spec.initial:
            pop.initialize(**spec.initial)
        if spec.record_spikes:
            pop.record("spikes")
        out[name] = pop
    for spec in model.projections:
        conns = np.column_stack([spec.pre_index, spec.post_index, spec.weights, spec.delays])
        connector = FromListConnector(conns, column_names=["weight", "delay"])
        key = spec.name if spec.name not in out else f"{spec.name}[{spec.pre}->{spec.post}]"
        out[key] = Projection(out[spec.pre], out[spec.post], connector, standardmodels.StaticSynapse(),
                              receptor_type=spec.receptor, label=label_prefix + spec.name)
    return out
