"""Canonical cell classes: one typed definition per cell class, from which each engine's form is made.

A :class:`CellClass` holds a cell class's intrinsic dynamics (a PyNN standard cell type and its
parameters, each a :class:`~neurohybrid.library.base.Range` with the published value and the
range the source supports), its synapse families (receptor, time constant, reversal
potential), and the plasticity rules its synapses may carry. ``population()`` builds it in the
current session; the partition then generates the engine's native form (float emulator,
Loihi fixed point or its named approximation, NEURON via a section of the same dynamics),
so the class is written once. ``forms()`` shows each engine's form and ``agreement()`` measures
that they agree (f-I curve, PSP, Poisson-driven rate; :mod:`neurohybrid.library.agreement`).

Library modules define their classes beside their circuits and list them in a module-level
``CELLS`` tuple; :func:`cell_class` finds any class by name across the library.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ParameterError
from .base import Range, check_parameters

#: the library files whose ``CELLS`` tuples are searched by :func:`cell_class`
LIBRARY_FILES = ("cortex", "thalamus", "hippocampus", "basal_ganglia", "cerebellum", "nuclei")


@dataclass(frozen=True)
class SynapseFamily:
    """A receptor family of a cell class: ``receptor`` (PyNN receptor type, ``"excitatory"``
    or ``"inhibitory"``), decay time constant ``tau`` (ms), reversal potential ``e_rev`` (mV; None
    for current-based synapses) and the transmitter's name (``"AMPA"``, ``"GABA_A"``, ...)."""

    transmitter: str
    receptor: str
    tau: float
    e_rev: float | None = None


@dataclass(frozen=True)
class CellClass:
    """A canonical cell class.

    ``name``: unique name (``"L23E"``, ``"TC"``, ...); ``model``: the PyNN standard cell type
    (e.g. ``"IF_curr_exp"``); ``parameters``: name -> Range (units of the PyNN type: mV, ms, nF,
    nA); ``synapses``: its SynapseFamily list; ``plasticity``: names of the rules its afferent
    synapses may carry; ``source``: the citation; ``initial_v``: (low, high) mV of the uniform
    initial membrane potential.
    """

    name: str
    model: str
    parameters: dict
    synapses: tuple = ()
    plasticity: tuple = ()
    source: str = ""
    initial_v: tuple | None = None
    notes: str = field(default="", compare=False)

    def resolved(self, override: bool = False, **changes) -> dict:
        """The PyNN parameters with ``changes`` applied (out-of-range values refused unless
        ``override``)."""
        params, _ = check_parameters(f"cell class {self.name}", self.parameters, changes, override)
        return params

    def cell_type(self, sim, override: bool = False, **changes):
        """The PyNN cell-type instance of this class for the front end ``sim``."""
        try:
            cls = getattr(sim, self.model)
        except AttributeError:
            raise ParameterError(f"cell class {self.name}", "model", f"{self.model!r} is not a cell type of {sim.__name__}",
                                 "a PyNN standard cell type") from None
        return cls(**self.resolved(override, **changes))

    def population(self, sim, n: int, label: str, seed: int | None = None, engine: str | None = None,
                   override: bool = False, **changes):
        """``n`` cells of this class in the current session, labelled ``label``, with the
        initial membrane potential drawn uniformly from ``initial_v`` by ``seed``."""
        if int(n) != n or n < 1:
            raise ParameterError(f"cell class {self.name}", "n", f"{n!r}", "a positive integer")
        kwargs = {} if engine is None else {"engine": engine}
        pop = sim.Population(int(n), self.cell_type(sim, override, **changes), label=label, **kwargs)
        if self.initial_v is not None:
            rng = sim.NumpyRNG(seed=seed) if seed is not None else None
            pop.initialize(v=sim.RandomDistribution("uniform", self.initial_v, rng=rng))
        return pop

    def forms(self, engines=None, dt: float = 0.1, approximations="named") -> dict:
        """Each engine's native form of this class (:func:`neurohybrid.library.forms.forms`)."""
        from .forms import forms
        return forms(self, engines, dt, approximations)

    def agreement(self, engines=None, checks=("fI", "psp", "rate"), **options):
        """Measured agreement of this class's engine forms (:func:`neurohybrid.library.agreement.agreement`;
        ``engines=None``: every engine with a form)."""
        from .agreement import agreement
        return agreement(self, engines, checks, **options)


def cell_class(name: str) -> CellClass:
    """The library's cell class called ``name`` (a ParameterError listing them otherwise)."""
    classes = all_cell_classes()
    if name not in classes:
        raise ParameterError("cell_class", "name", f"no cell class {name!r}", ", ".join(sorted(classes)))
    return classes[name]


def all_cell_classes() -> dict[str, CellClass]:
    """Every cell class the library defines, by name (collected from each file's ``CELLS``)."""
    import importlib
    out: dict[str, CellClass] = {}
    for stem in LIBRARY_FILES:
        try:
            mod = importlib.import_module(f"{__package__}.{stem}")
        except ModuleNotFoundError as err:
            if err.name != f"{__package__}.{stem}":
                raise
            continue
        for cls in getattr(mod, "CELLS", ()):
            if cls.name in out and out[cls.name] != cls:
                raise ParameterError("cell classes", cls.name, f"defined twice ({stem})", "unique names")
            out[cls.name] = cls
    return out


