"""Controllers: host-module components of the model graph (:class:`~neurohybrid.graph.HostModuleNode`)
that read the spikes of populations and write fields (modulators, gates).

* :mod:`.base` — :class:`Controller`, the port contract: spike inputs read as per-cell rates
  (Hz) over each control period, scalar field outputs in declared units.
* :mod:`.native` — small state machines: :class:`TaskSequencer`, :class:`TDCritic`,
  :class:`WTASelector`.
* :mod:`.nengo_adapter` — :class:`NengoController`: a Nengo (or nengo-spa) network stepped per
  control period at its own dt, its inputs and outputs bound to ports through ``nengo.Node`` s
  (the only module that knows Nengo; imported on use).
"""
from .base import SIGNAL, Controller
from .native import TaskSequencer, TDCritic, WTASelector

__all__ = ["Controller", "SIGNAL", "TaskSequencer", "TDCritic", "WTASelector"]
