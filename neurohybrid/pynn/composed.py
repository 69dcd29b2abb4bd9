"""PyNN's composed point neurons: ``PointNeuron(neuron, **receptors)`` with the neuron components
``LIF`` and ``AdExp`` and post-synaptic responses (``CurrExpPostSynapticResponse``,
``CondAlphaPostSynapticResponse`` = ``AlphaPSR``, ...), each receptor with its own parameters.

The graph node of a PointNeuron population has model ``PointNeuron(<neuron>+<response>)`` and
flat parameters: the neuron's (``tau_m`` ...) and each receptor's (``AMPA.tau_syn``,
``AMPA.e_syn``), in PyNN's names and units; its receptors are PyNN's ``receptor_types``
(sorted). The emulator's kernels for them are in ``backends/emulator/models/multisynapse.py``.
The combinations are NEST's (what pyNN.nest can run): LIF with current-based exponential
responses (``iaf_psc_exp_multisynapse``) and AdExp with alpha conductances
(``aeif_cond_alpha_multisynapse``); any other is an UnsupportedModelError when the population
is created. ``CondExpPostSynapticResponse`` is the multi-compartment one (NEURON) and no point
neuron takes it, as in pyNN.nest (which has no LIF or AdExp model with it).
"""
from __future__ import annotations

from pyNN.parameters import ParameterSpace
from pyNN.standardmodels import build_translations, cells, receptors

from ..errors import UnsupportedModelError
from .standardmodels import to_pynn_units

#: (neuron component, response) pairs with an engine kernel (models/multisynapse.py)
COMBINATIONS = (("LIF", "CurrExpPostSynapticResponse"), ("AdExp", "CondAlphaPostSynapticResponse"))


def _component(base, recordable=None):
    def __init__(self, **parameters):
        units = getattr(base, "units", {})
        base.__init__(self, **{k: to_pynn_units(base.__name__, k, v, units.get(k)) for k, v in parameters.items()})
    attrs = {"__doc__": base.__doc__, "__init__": __init__,
             "translations": build_translations(*[(n, n) for n in base.default_parameters])}
    if recordable is not None:
        attrs["recordable"] = recordable
    return type(base.__name__, (base,), attrs)


LIF = _component(cells.LIF)
AdExp = _component(cells.AdExp)
CurrExpPostSynapticResponse = _component(receptors.CurrExpPostSynapticResponse, ["isyn"])
CondAlphaPostSynapticResponse = _component(receptors.CondAlphaPostSynapticResponse, ["gsyn"])
CondBetaPostSynapticResponse = _component(receptors.CondBetaPostSynapticResponse, ["gsyn"])
AlphaPSR = CondAlphaPostSynapticResponse
BetaPSR = CondBetaPostSynapticResponse


class PointNeuron(cells.PointNeuron):
    """A point neuron composed of a neuron model and named post-synaptic receptors (PyNN's
    ``PointNeuron``). Parameters: the neuron's by name, a receptor's as ``<receptor>.<name>``;
    recordables: the neuron's and ``<receptor>.isyn`` (nA) / ``<receptor>.gsyn`` (µS)."""

    def __init__(self, neuron, **post_synaptic_receptors):
        super().__init__(neuron, **post_synaptic_receptors)
        responses = {type(psr).__name__ for psr in post_synaptic_receptors.values()}
        pair = (type(neuron).__name__, responses.pop() if len(responses) == 1 else None)
        if not post_synaptic_receptors or pair not in COMBINATIONS:
            raise UnsupportedModelError(
                "PointNeuron", "post_synaptic_receptors",
                f"{pair[0]} with {sorted({type(p).__name__ for p in post_synaptic_receptors.values()}) or 'no'} "
                "receptors has no engine kernel (nor a NEST model)",
                "; ".join(f"{n} with {r} receptors (all of one kind)" for n, r in COMBINATIONS))

    @property
    def graph_model(self) -> str:
        """The model name of the population's graph node."""
        psr = next(iter(self.post_synaptic_receptors.values()))
        return f"PointNeuron({type(self.neuron).__name__}+{type(psr).__name__})"

    def _flat(self, space_of):
        flat = dict(space_of(self.neuron).items())
        for name in self.receptor_types:
            for key, value in space_of(self.post_synaptic_receptors[name]).items():
                if key != "locations":  # a point neuron's receptors have no locations
                    flat[f"{name}.{key}"] = value
        return ParameterSpace(flat, schema=None, shape=self.parameter_space.shape)

    @property
    def native_parameters(self):
        """Flat: the neuron's parameters and ``<receptor>.<name>`` (identity translations)."""
        return self._flat(lambda component: component.native_parameters)

    def get_native_names(self, *names):
        if not names:
            return list(self._flat(lambda component: component.parameter_space).keys())
        return list(names)

    def reverse_translate(self, native_parameters):
        return native_parameters

    def translate(self, parameters, copy=True):
        return parameters

    @property
    def variable_map(self):
        return {}
