"""Multi-compartment (biophysical) cells in a neurohybrid PyNN script; they run on NEURON.

PyNN 0.13's multi-compartment API, unchanged: ``sim.MultiCompartmentNeuron`` with a morphology
(``pyNN.morphology``: NeuroML segments, SWC files through morphio), ion channels
(``sim.PassiveLeak``, ``sim.NaChannel``, ``sim.KdrChannel``, ``sim.PassiveLeakHH``), post-synaptic
entities (``sim.CondExpPostSynapticResponse``) placed with ``sim.morphology`` location
generators, ``record(..., locations=...)`` and ``DCSource.inject_into(cells, location=...)``.
The cells are built by PyNN's own NEURON templates (``pyNN.neuron``), so a description means
the same cell here as under ``pyNN.neuron``; neurohybrid only runs them, inside its co-simulation
kernel, beside point neurons on the emulator or Lava.

``sim.NeuronCell(cell_class, ...)`` wraps an existing NEURON cell (a Python class or hoc
template using NMODL mechanisms, compiled with ``nrnivmodl`` at build time) as a cell type.

``pyNN.neuron`` is imported on first use (it loads NEURON and compiles PyNN's own mechanisms
once); scripts without biophysical cells never import NEURON.
"""
from __future__ import annotations

import os
import sys

from ..errors import UnsupportedModelError

#: names this module adds to ``neurohybrid.pynn`` (resolved lazily by its ``__getattr__``)
LAZY_NAMES = ("MultiCompartmentNeuron", "PassiveLeak", "NaChannel", "KdrChannel", "PassiveLeakHH",
              "CondExpPostSynapticResponse", "morphology", "IonicSpecies", "NeuronCell", "load_morphology")


def pynn_neuron():
    """``pyNN.neuron``, imported with the venv's ``nrnivmodl`` on PATH (PyNN compiles its own
    NMODL mechanisms on first import and looks for the compiler there)."""
    bindir = os.path.dirname(sys.executable)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    try:
        import warnings
        with warnings.catch_warnings():  # pyNN.neuron warns that MPI is absent; we run one process
            warnings.filterwarnings("ignore", message="mpi4py not available")
            import pyNN.neuron as pnrn
    except Exception as exc:  # NEURON missing or PyNN's mechanisms failed to compile
        raise UnsupportedModelError("MultiCompartmentNeuron", None, f"NEURON is not usable here ({exc})",
                                    "the neuron package (pip install neuron) and a C compiler for nrnivmodl") from exc
    return pnrn


def lazy(name: str):
    """The object ``neurohybrid.pynn.<name>`` for a name of :data:`LAZY_NAMES`."""
    if name == "NeuronCell":
        from .neuroncell import NeuronCell
        return NeuronCell
    if name == "load_morphology":
        return load_morphology
    if name == "IonicSpecies":
        from pyNN.parameters import IonicSpecies
        return IonicSpecies
    pnrn = pynn_neuron()
    return getattr(pnrn, name)


def is_biophysical(celltype) -> bool:
    """True for cell types that run on NEURON (multi-compartment or wrapped NEURON cells)."""
    from pyNN.standardmodels.cells import MultiCompartmentNeuron as BaseMC
    from .neuroncell import NeuronCell
    return isinstance(celltype, (BaseMC, NeuronCell))


def location_label(selector) -> str | None:
    """A projection's ``location_selector`` as the section label the engine filters on: a
    string is taken as is; PyNN's ``dendrites()``, ``apical_dendrites()``, ``basal_dendrites()``,
    ``axon()``, ``soma()`` and ``with_label(name)`` (optionally inside ``random_section(...)``)
    map to their section labels; None means any section with the receptor."""
    if selector is None or isinstance(selector, str):
        return selector
    inner = getattr(selector, "f", None) if type(selector).__name__ == "random_section" else None
    if inner is not None:
        return location_label(inner)
    labels = getattr(selector, "labels", None)  # with_label("dendrite")
    if type(selector).__name__ == "with_label" and labels and len(labels) == 1:
        return str(labels[0])
    names = {"dendrites": "dendrite", "apical_dendrites": "apical_dendrite", "basal_dendrites": "basal_dendrite",
             "axon": "axon", "soma": "soma"}
    kind = type(selector).__name__
    if kind in names:
        return names[kind]
    raise UnsupportedModelError("Projection", "location_selector", f"{selector!r} is not understood",
                                "a section label string, dendrites(), apical_dendrites(), basal_dendrites(), "
                                "axon(), soma(), or random_section(<one of those>)")


def load_morphology(path, use_library: str = "neuroml"):
    """A morphology from an SWC file (``use_library="neuroml"`` or ``"morphio"``), as PyNN's
    ``pyNN.morphology.load_morphology`` but never downloading: a path that does not exist or a
    file that does not parse is a :class:`~neurohybrid.errors.ParameterError` naming it."""
    from ..errors import ParameterError
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ParameterError("load_morphology", "path", f"no such file {path!r}", "an existing SWC file")
    if use_library not in ("neuroml", "morphio"):
        raise ParameterError("load_morphology", "use_library", f"{use_library!r}", "'neuroml' or 'morphio'")
    from pyNN.morphology import load_morphology as pynn_load
    try:
        return pynn_load(path, use_library=use_library)
    except Exception as err:  # the readers raise assorted errors on malformed files
        raise ParameterError("load_morphology", "path", f"{path!r} does not parse as a morphology ({err})",
                             "a valid SWC file") from err
