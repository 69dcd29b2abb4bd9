"""Loihi 2 mapping: quantisation of point-neuron models to Lava's fixed-point LIF, the Loihi 2
limits table, and placement onto neurocores and chips.

    from neurohybrid.mappings.loihi import quantize, place, format_report, format_placement
    circuit = quantize(graph, approximations=("reset_to_rest",))
    print(format_report(circuit.report))
    place(circuit, chips=8)
    print(format_placement(circuit.placement))
"""
from .circuit import LoihiCircuit, LoihiInput, LoihiPopulation, LoihiProjection
from .limits import LIMITS, SYSTEMS, Limit, format_limits, limit
from .placement import format_placement, place
from .quantize import APPROXIMATIONS, FAITHFUL_MODELS, format_report, quantize, refractory_steps

__all__ = ["LoihiCircuit", "LoihiInput", "LoihiPopulation", "LoihiProjection", "LIMITS", "SYSTEMS", "Limit",
           "limit", "format_limits", "quantize", "format_report", "APPROXIMATIONS", "FAITHFUL_MODELS",
           "refractory_steps", "place", "format_placement"]
