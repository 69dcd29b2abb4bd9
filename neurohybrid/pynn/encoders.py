"""Sensory encoders as PyNN cell types: ``sim.Population(enc.size, sim.Retina(stimulus=...))``.

Thin: the encoders live in :mod:`neurohybrid.encoders`; a cell type here only holds the
encoder's parameters (stimulus array, units, sampling period, model parameters), checks them
once by building the encoder (typed errors at the line of the script that is wrong), and
hands them to the model graph as a spike-source node (``translate.population_node``).
"""
from __future__ import annotations

import numpy as np
import quantities as pq

from ..encoders import ENCODERS, Stimulus
from ..errors import ParameterError
from ..rng import stream_key
from .standardmodels import _SourceCellType, to_pynn_units

__all__ = ["Retina", "EventCamera", "Cochlea", "NIREncoder", "EncoderCellType", "is_encoder"]


class EncoderCellType(_SourceCellType):
    """A sensory encoder as a population of spike sources (one cell per encoder channel)."""

    graph_model = ""

    def __init__(self, stimulus=None, units=None, sampling_period=None, **parameters):
        super().__init__()
        name = type(self).__name__
        if isinstance(stimulus, str) or hasattr(stimulus, "__fspath__"):
            from ..encoders.files import load_stimulus
            stimulus = load_stimulus(stimulus)
        params = dict(parameters)
        if isinstance(stimulus, Stimulus):
            units = stimulus.units if units is None else units
            sampling_period = stimulus.sampling_period if sampling_period is None else sampling_period
            stimulus = stimulus.data
        params["stimulus"] = None if stimulus is None else np.asarray(stimulus, dtype=float)
        if units is not None:
            params["units"] = units
        if sampling_period is not None:
            params["sampling_period"] = to_pynn_units(name, "sampling_period", sampling_period, "ms")
        for key, value in list(params.items()):
            if isinstance(value, pq.Quantity):
                params[key] = to_pynn_units(name, key, value, _UNITS.get(key))
        self.encoder_parameters = params
        # built once here so that a wrong parameter is reported where the script gives it
        probe = ENCODERS[self.graph_model](params, stream_key(0, name), 0.1)
        self.size = int(probe.n)
        self.encoder = probe

    def describe(self, template=None):
        return f"{type(self).__name__} encoder with {self.size} channels"


_UNITS = {"sigma_center": None, "sigma_surround": None, "tau_fast": "ms", "tau_slow": "ms", "gain": None,
          "spontaneous_rate": "Hz", "max_rate": "Hz", "lif_tau": "ms", "refractory_period": "ms", "noise_rate": "Hz",
          "f_min": "Hz", "f_max": "Hz", "full_scale": "Pa"}


def _encoder_type(model: str, doc_of) -> type:
    return type(model, (EncoderCellType,), {"graph_model": model, "__doc__": (
        f"PyNN cell type of the {model} encoder (``sim.Population(enc.size, sim.{model}(stimulus=..., "
        f"units=..., sampling_period=<ms>, ...))``; one cell per channel). Parameters and units: "
        f"{doc_of.__module__}.{doc_of.__name__}.\n\n" + (doc_of.__doc__ or ""))})


Retina = _encoder_type("Retina", ENCODERS["Retina"])
EventCamera = _encoder_type("EventCamera", ENCODERS["EventCamera"])
Cochlea = _encoder_type("Cochlea", ENCODERS["Cochlea"])


class NIREncoder(EncoderCellType):
    """A learned encoder from a NIR graph (``nir``: a NIR file or a ``nir.NIRGraph``) as a
    population, one cell per neuron of its last spiking layer:
    ``sim.NIREncoder("encoder.nir", stimulus=x, units="1", sampling_period=1.0)``. ``target``:
    "emulator" (float) or "loihi" (Loihi 2 fixed-point arithmetic); by default "loihi" in a
    session on the Loihi path (``numerics="fixed"`` or ``backend="lava"``), else "emulator".
    A primitive the target lacks is an UnsupportedModelError naming the NIR node. Semantics and
    units: neurohybrid.encoders.nir."""

    graph_model = "NIREncoder"

    def __init__(self, nir, stimulus=None, units=None, sampling_period=None, target=None):
        from ..encoders.nir import NIREncoder as _Encoder
        from .simulator import state
        if target is None:
            net = getattr(state, "network", None)
            fixed = getattr(net, "numerics", None) == "fixed" or getattr(net, "backend", None) == "lava"
            target = "loihi" if fixed else "emulator"
        super().__init__(stimulus, units, sampling_period, **_Encoder.parameters(nir, target))


def is_encoder(celltype) -> bool:
    """True for the encoder cell types of this module."""
    return isinstance(celltype, EncoderCellType)


def encoder_node_parameters(pop) -> dict:
    """The graph node parameters of an encoder population (ParameterError if its size is not the
    encoder's number of channels)."""
    ct = pop.celltype
    if pop.size != ct.size:
        raise ParameterError(pop, "size", f"{pop.size} cells for a {type(ct).__name__} encoder of {ct.size} channels",
                             f"Population({ct.size}, ...) (the encoder's .size)")
    return dict(ct.encoder_parameters)
