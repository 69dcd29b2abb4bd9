"""``sim.NeuronCell``: an existing NEURON cell model as a neurohybrid cell type."""
from __future__ import annotations

import os

from pyNN.standardmodels import StandardCellType, build_translations

from ..errors import ParameterError


class NeuronCell(StandardCellType):
    """A cell model written for NEURON (a Python class or a hoc template), used as is.

    Parameters
    ----------
    cell_class : a Python class whose instances build one cell (``cell_class(**parameters)``),
        or the name of a hoc template (loaded from ``hoc_file``).
    parameters : keyword arguments for ``cell_class`` (the same for every cell).
    mechanisms : directory of the NMODL (.mod) files the cell uses; compiled with ``nrnivmodl``
        when the network is built (cached by content), a compile error shows the compiler's output.
    hoc_file : hoc file defining the template, when ``cell_class`` is a template name.
    spike_location : where spikes are detected, ``"<section attribute>(<x>)"``, e.g. ``"soma(0.5)"``.
    threshold : spike detection threshold in mV.
    receptors : receptor type name -> attribute of the cell holding a point process or a list of
        them (``{"AMPA": "ampa_synapses"}``); projections name these receptor types.
    locations : location name -> ``"<section attribute>(<x>)"``, for recording and current
        injection (``{"soma": "soma(0.5)", "dendrite": "apic(0.8)"}``).
    """

    default_parameters: dict = {}
    default_initial_values = {"v": -65.0}
    recordable = ["spikes", "v"]
    injectable = True
    conductance_based = True
    units = {"v": "mV"}
    translations = build_translations()

    def __init__(self, cell_class, parameters: dict | None = None, mechanisms: str | None = None,
                 hoc_file: str | None = None, spike_location: str = "soma(0.5)", threshold: float = -10.0,
                 receptors: dict | None = None, locations: dict | None = None):
        super().__init__()
        if not (callable(cell_class) or isinstance(cell_class, str)):
            raise ParameterError("NeuronCell", "cell_class", f"{cell_class!r}",
                                 "a Python cell class or the name of a hoc template")
        if isinstance(cell_class, str) and hoc_file is None:
            raise ParameterError("NeuronCell", "hoc_file", "a hoc template name without its file",
                                 "hoc_file='path/to/template.hoc'")
        for pname, path in (("mechanisms", mechanisms), ("hoc_file", hoc_file)):
            if path is not None and not os.path.exists(path):
                raise ParameterError("NeuronCell", pname, f"{path!r} does not exist", "an existing path")
        self.cell_class, self.cell_parameters = cell_class, dict(parameters or {})
        self.mechanisms, self.hoc_file = mechanisms, hoc_file
        self.spike_location, self.threshold = spike_location, float(threshold)
        self.receptors = dict(receptors or {})
        self.locations = {"soma": "soma(0.5)", **dict(locations or {})}
        self.receptor_types = tuple(self.receptors)

    def can_record(self, variable, location=None):
        return variable == "spikes" or (variable == "v" and (location is None or location in self.locations))

    def describe(self, template=None):
        name = self.cell_class if isinstance(self.cell_class, str) else \
            f"{self.cell_class.__module__}.{self.cell_class.__qualname__}"
        return {"cell_class": name, "parameters": self.cell_parameters, "mechanisms": self.mechanisms,
                "hoc_file": self.hoc_file, "spike_location": self.spike_location, "threshold": self.threshold,
                "receptors": self.receptors, "locations": self.locations}
