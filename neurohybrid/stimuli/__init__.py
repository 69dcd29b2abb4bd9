"""Stimuli shared by every engine: spike sources (:mod:`.spike_sources`, their random draws in
:mod:`.draws`) and current sources (:mod:`.currents`), with PyNN's parameters and units.

Every random train or noise current is drawn from a counter-based stream keyed by the graph
seed and the source's name (:func:`neurohybrid.rng.stream_key`), so two engines that run a copy
of the same source produce the same spikes, which is how the partition runs a source on every
engine that has targets of it.
"""
from .currents import CURRENT_SOURCES
from .spike_sources import SPIKE_SOURCES

__all__ = ["SPIKE_SOURCES", "CURRENT_SOURCES"]
