"""The brain-partition library: validated modules a script adds to a session, one call each.

Each module is a function ``module(sim, ..., region=None, seed=..., override=False, **params)``
that adds its populations, projections, fields and seams to the current session of
``neurohybrid.pynn`` and returns a :class:`~neurohybrid.library.base.Module` handle with its
ports (what it reads and emits: spikes, rates, fields). Parameters come from a cited published
model; values outside their published range are refused unless ``override=True``. Cells are
built from the canonical :mod:`neurohybrid.library.cells` classes.
"""
from .base import Module, Port, check_integer, check_parameters  # noqa: F401
from .base import Range  # noqa: F401
from .cells import CellClass, SynapseFamily, all_cell_classes, cell_class  # noqa: F401
