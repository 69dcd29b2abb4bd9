"""Trained surrogates of biophysical modules: a surrogate keeps the module's port contract
(spikes in by receptor and location, spikes out, voltages at named places) and replaces it on
the ``"surrogate"`` engine (``backends/surrogate``).

* :mod:`.inputs`: the randomised training input; :mod:`.recording`: running the module on it;
* :mod:`.network`: the surrogate network and its causal inference; :mod:`.training`: fitting
  and held-out evaluation; :mod:`.metrics`: AUC, coincidence factor, explained variance;
* :mod:`.artefact`: the versioned ``.nhs`` file.
"""
from .artefact import FORMAT_VERSION, ModelHashWarning, Surrogate, load, save
from .inputs import ChannelInput, InputDistribution
from .training import evaluate, fit, train

__all__ = ["Surrogate", "load", "save", "FORMAT_VERSION", "ModelHashWarning", "ChannelInput", "InputDistribution",
           "fit", "evaluate", "train"]
