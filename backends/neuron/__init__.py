"""Biophysics on NEURON: the engine (:class:`NeuronEngine`), cell builders for user NEURON cells
and PyNN multi-compartment cell types, and NMODL compilation (see the modules' docstrings)."""
from .cells import MultiCompartmentBuilder, NeuronCellBuilder
from .engine import EventSource, NeuronEngine
from .mechanisms import MechanismError, compile_mechanisms

__all__ = ["NeuronEngine", "EventSource", "NeuronCellBuilder", "MultiCompartmentBuilder", "compile_mechanisms",
           "MechanismError"]
