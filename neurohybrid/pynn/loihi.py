"""The Loihi path and NIR in the PyNN front end: the deployable bundle (:func:`export_loihi`)
and NIR export/import (:func:`export_nir`, :func:`import_nir`). Which engine a session runs
is chosen by :mod:`neurohybrid.runtime.engine_choice` (re-exported here: ``resolve_engine``,
``lava_status``).
"""
from __future__ import annotations

import os
import platform
from pathlib import Path

import numpy as np

from ..errors import ParameterError
from ..runtime.engine_choice import NUMERICS, lava_status, resolve_engine  # noqa: F401 (the front end's names)
from . import simulator

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
