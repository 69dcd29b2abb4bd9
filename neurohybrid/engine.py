"""The engine contract: what every engine (float emulator, fixed-point emulator, Lava, NEURON)
implements, and the capabilities it declares to the partition.

Time is an integer tick of the graph's resolution ``dt`` (ms). An engine runs the part of a
:class:`~neurohybrid.graph.ModelGraph` the partition gave it and reports what it records to a
*sink* (``spikes(node, ticks, ids)``, ``samples(node, variable, values)``, ``flush()``).
One spike-time convention everywhere: a spike is reported, carried by the kernel and pushed
into mirrors with its *emission tick* k; only the run store's recorder turns it into the
recorded time (k + 1) dt (the end of its step, PyNN's and NEST's convention). The
co-simulation kernel drives an engine through :class:`neurohybrid.adapters.SpikingComponent`,
which hands it the spikes arriving from other engines (into its ``SpikeSourceExternal``
mirrors) and the fields, and collects the spikes it sends.

Engines are found by name in :mod:`neurohybrid.engines` (third-party engines register there)
and are imported only when used.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from .errors import UnsupportedModelError

__all__ = ["Capabilities", "Engine"]


@dataclass(frozen=True)
class Capabilities:
    """What an engine can run, declared for the partition and the placement report.

    ``kinds``: node kinds it runs (``"point"``, ``"source"``, ``"biophysical"``); ``cell_types``:
    the models it has (None: decided per node by :meth:`Engine.refusal`); ``numerics``:
    ``"float"`` or ``"fixed"``; ``synapses``: synapse types; ``recordables``: recordable state
    variables; ``field_targets``: what a field can modulate (``"gain"``, ``"threshold"``,
    ``"current"``, ...; ``"gate"``: the efficacy of one projection into the population, a field
    target ``"gate:<projection>"``, dimensionless in [0, 1]); ``hardware``: whether it runs on neuromorphic hardware;
    ``latency``: ticks between a spike's emission and the window it is reported in (NEURON
    detects a threshold crossing at the start of the next step: 1); ``min_input_delay``: the
    smallest remaining delay (ticks) a spike arriving from another engine may have (point
    engines deliver a PyNN delay of at least one step: 1); ``input_lead``: how many ticks
    after its emission tick a spike pushed into a ``SpikeSourceExternal`` may still arrive (the
    float emulator's sources emit one tick ahead: a spike pushed at tick k is used by the window
    that integrates tick k + 1, so it may come with that window's inbox: 1), at most
    ``min_input_delay``; the kernel link into the engine is that much longer (neurohybrid.partition).
    """

    kinds: tuple = ("point", "source")
    cell_types: tuple | None = None
    numerics: str = "float"
    synapses: tuple = ("StaticSynapse",)
    recordables: tuple = ("spikes",)
    field_targets: tuple = ()
    hardware: bool = False
    latency: int = 0
    min_input_delay: int = 1
    input_lead: int = 0


class Engine(ABC):
    """Base class of every engine (see the module docstring). Units: ticks of ``graph.dt``
    for times, PyNN units (mV, nA, uS, ms) for parameters and recorded values."""

    #: registry name (``neurohybrid.engines``)
    name: str = ""
    #: what the engine can run
    capabilities: Capabilities = Capabilities()

    graph = None
    tick: int = 0

    #: node -> recorded cell indices (int64); each engine fills it from ``graph.recordings``
    spike_recorded: dict
    sink = None

    def report_spikes(self, name: str, ticks, ids) -> None:
        """Send the spikes of ``name`` (emission ticks, cell ids) that are recorded to the sink,
        keeping only the recorded cells when not all of them are."""
        wanted = self.spike_recorded.get(name)
        if wanted is None or ticks.size == 0:
            return
        if wanted.size != self.graph.nodes[name].size:
            keep = np.isin(ids, wanted)
            ticks, ids = ticks[keep], ids[keep]
        self.sink.spikes(name, ticks, ids)

    @staticmethod
    def refusal(node, graph, options: dict | None = None) -> str | None:
        """Why the engine cannot run ``node`` of ``graph`` (None: it can); ``options`` are the
        engine's constructor options (e.g. Loihi approximations). Used by the partition."""
        return None

    @abstractmethod
    def build(self, graph, sink) -> None:
        """Allocate everything for ``graph`` (tick 0); results go to ``sink``."""

    @abstractmethod
    def advance(self, t_stop: int) -> None:
        """Integrate from the current tick to ``t_stop`` (exclusive), reporting to the sink."""

    @abstractmethod
    def reset(self, graph=None) -> None:
        """Back to tick 0 and the initial state (new parameter values from ``graph`` if given)."""

    @abstractmethod
    def close(self) -> None:
        """Release what the engine holds (processes, buffers, simulator state)."""

    def initial_samples(self) -> None:
        """Send the t = 0 sample of every recorded signal to the sink (PyNN records it)."""

    def update_parameters(self, graph) -> None:
        """New parameter values of the same structure, between runs."""
        raise NotImplementedError(f"{type(self).__name__} cannot change parameters between runs")

    def configure_recording(self) -> None:
        """(Re)read what to record from ``self.graph``."""

    def prepare_field(self, node: str, modulates: str) -> None:
        """Declare, before the run, that a field will act on population ``node`` as
        ``modulates`` (one of ``capabilities.field_targets``); engines set up what the field
        needs. A typed error names the population and the target the engine cannot apply."""
        targets = self.capabilities.field_targets
        if (modulates.split(":", 1)[0] if modulates.startswith("gate:") else modulates) not in targets:
            raise UnsupportedModelError(node, "modulates", f"the {self.name or type(self).__name__} engine cannot "
                                        f"apply a {modulates!r} field",
                                        ", ".join(targets) if targets else "an engine with field targets")

    def set_modulation(self, node: str, modulates: str, values) -> None:
        """Apply a field to population ``node`` from the current tick on. ``values``: a scalar or
        one value per cell, in the target's units (``"current"``: nA added to ``i_offset``;
        ``"threshold"``: mV added to ``v_thresh``; ``"gain"``: factor on synaptic input;
        ``"gate:<projection>"``: factor in [0, 1] on that projection's weights, a scalar;
        engine-specific targets say theirs). Relative to the model's own parameters: successive
        calls do not accumulate."""
        self.prepare_field(node, modulates)
        raise NotImplementedError(f"{type(self).__name__} declares {modulates!r} but does not apply it")

    def modulation_report(self) -> dict:
        """How the fields applied so far were represented (e.g. their quantisation), JSON-able."""
        return {}

    def source_generator(self, node: str):
        """The spike generator of source ``node`` (``push(ticks, ids)`` for kernel-fed mirrors)."""
        raise NotImplementedError(f"{type(self).__name__} has no spike sources")

    def get_state(self, node: str, variable: str):
        """Current values of state ``variable`` of every cell of ``node`` (PyNN units)."""
        raise NotImplementedError(f"{type(self).__name__} cannot read state")

    def state(self) -> dict:
        """A snapshot of the engine's complete dynamic state at its current tick: a flat dict of
        copies (numpy arrays, ints, strings) in the format of :mod:`neurohybrid.snapshot`
        (header ``format``, ``engine``, ``content_hash``, ``tick``). Another engine of the same
        type built from the same graph that restores it and advances gives bit-identical
        spikes and samples."""
        raise NotImplementedError(f"{type(self).__name__} has no snapshots yet")

    def restore(self, state: dict) -> None:
        """Continue from a snapshot taken by :meth:`state` (of this engine or another instance
        built from the same graph). ParameterError (parameter ``"state"``) for a snapshot of
        another engine or model or an incomplete one; the engine is then unchanged."""
        raise NotImplementedError(f"{type(self).__name__} has no snapshots yet")
