"""Float-mode neuron models of the CPU emulator.

Each model is a :class:`ModelSpec`: a plain description (parameter rows, state rows,
receptors, recordables) plus one numba kernel that advances a block of neurons of that model
through a window of ticks. The engine owns everything else (ring buffers, spike routing,
recording buffers); a kernel touches only the arrays it is given, so models can be added
without touching the engine.

Kernel contract (every ``ModelSpec.step`` has exactly this signature)::

    step(S, P, syn_in, i_ext, dt, spikes_out, rec_rows, rec_cells, rec_out) -> None

- ``S``: float64[n_state, n], state rows in ``ModelSpec.state`` order, updated in place.
  Units are PyNN's (mV, nA, µS, ms). Refractory time left is a state row (``"refrac"``, ms).
- ``P``: float64[n_param, n], parameter rows in ``ModelSpec.params`` order, PyNN names/units.
- ``syn_in``: float64[n_ticks, n_receptors, n]: the summed weights of the spikes that arrive
  at each tick of the window, per receptor (``ModelSpec.receptors`` order): nA for
  current-based, µS for conductance-based, mV for delta (voltage-jump) synapses.
- ``i_ext``: float64[n_ticks, n]: injected current (nA) from current sources, per tick, added
  to ``i_offset``.
- ``dt``: ms.
- ``spikes_out``: uint8[n_ticks, n], zeroed by the caller; the kernel sets 1 where a neuron
  fires during tick k.
- ``rec_rows`` int64[k], ``rec_cells`` int64[m], ``rec_out`` float64[n_ticks, k, m]: after
  updating tick k the kernel writes ``S[rec_rows[a], rec_cells[b]]`` to ``rec_out[k, a, b]``.

Time semantics (identical to NEST, so spike times agree on the grid): tick ``k`` of the
window advances the state from ``t_k`` to ``t_k + dt``. Input ``syn_in[k]`` is added to the
synaptic state at the *end* of tick k (after the membrane update), so it first affects ``v``
in tick k+1. A spike found during tick k carries time stamp ``t_k + dt``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class ModelSpec:
    """Description of one float-mode neuron model and its numba step kernel."""

    name: str
    params: tuple[str, ...]
    state: tuple[str, ...]
    receptors: tuple[str, ...]
    recordables: dict[str, str]  # PyNN variable name -> state row name
    initial: dict[str, float]  # default initial values of state rows (PyNN units)
    step: Callable
    units: dict[str, str] = field(default_factory=dict)  # state row -> unit string
    synapse_kind: str = "current"  # "current" (nA), "conductance" (µS) or "voltage" (mV)
    #: the kernel draws random numbers: the engine loads the population's stream key (graph seed,
    #: population name, "cell") into parameter rows "key_hi" and "key_lo" (32 bits each)
    keyed: bool = False
    #: parameter rows whose values the model fixes (not the node), e.g. sizes of array parameters
    constants: dict = field(default_factory=dict)

    def row(self, name: str) -> int:
        """Index of a state row by name."""
        return self.state.index(name)


REGISTRY: dict[str, ModelSpec] = {}
#: model families whose spec depends on the node (receptors of a composed PointNeuron, lengths of
#: array parameters): model-name prefix -> builder(node) -> ModelSpec
FAMILIES: dict[str, Callable] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Add a model to the registry (keyed by PyNN cell-type name) and return it."""
    REGISTRY[spec.name] = spec
    return spec


def get(name: str) -> ModelSpec:
    """The model registered under ``name``; KeyError if none."""
    _load_all()
    return REGISTRY[name]


def spec_for(node) -> ModelSpec:
    """The spec that runs graph node ``node`` (a registered model, or one built by its family
    from the node's parameters); KeyError if none."""
    _load_all()
    if node.model in REGISTRY:
        return REGISTRY[node.model]
    for prefix, build in FAMILIES.items():
        if node.model.startswith(prefix):
            return build(node)
    raise KeyError(node.model)


def names() -> list[str]:
    """Registered model names and family prefixes (for error messages)."""
    _load_all()
    return sorted(REGISTRY) + sorted(f"{prefix}..." for prefix in FAMILIES)


def _load_all() -> None:
    # Imported lazily so that compiling one family's kernels does not pay for all of them.
    from . import lif, conductance, adex, izhikevich, hh  # noqa: F401
    from . import qif  # noqa: F401
    from . import multisynapse, gif  # noqa: F401
