"""The runtime: graph -> partition -> engines -> co-simulation kernel -> run store.

:class:`Runtime` runs a :class:`~neurohybrid.graph.ModelGraph` that holds the whole model
(populations, projections, scaffold, converters, fields, host modules and their typed links);
:mod:`.cosim` wires the hybrid co-simulation from the graph's links; :mod:`.engine_choice`
picks the point engine for a backend and numerics. No front end is imported here.
"""
from .engine_choice import lava_status, resolve_engine
from .runtime import Runtime

__all__ = ["Runtime", "resolve_engine", "lava_status"]
