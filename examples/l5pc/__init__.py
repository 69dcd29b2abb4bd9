"""A reduced layer-5 pyramidal cell for NEURON (BAC firing); see :mod:`l5pc.cell`."""
from .cell import L5PC, LOCATIONS, MECHANISMS, RECEPTORS, load_mechanisms, run_bac_protocol

__all__ = ["L5PC", "LOCATIONS", "MECHANISMS", "RECEPTORS", "load_mechanisms", "run_bac_protocol"]
