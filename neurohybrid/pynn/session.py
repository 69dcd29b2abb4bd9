"""The PyNN session's runtime (``state.network``): a :class:`~neurohybrid.runtime.Runtime`
whose model is the session's PyNN objects, translated into one model graph on demand (populations, projections,
current sources and recordings by :mod:`.translate`; the WholeBrain scaffold, its seams and
fields, field links and live links by :mod:`.hybrid_nodes`). Everything else (placement,
engines, co-simulation, run store) is the runtime's.
"""
from __future__ import annotations

from ..graph import ModelGraph
from ..runtime import Runtime
from .hybrid_nodes import add_hybrid_nodes
from .translate import current_injections, population_node, projection_edges, recordings_of, weight_recordings


class SessionRuntime(Runtime):
    """The runtime of the current ``setup()`` session (``state``: the PyNN simulator state)."""

    def __init__(self, state, backend: str = "emulator", numerics: str | None = "float", path=None, threads=None,
                 approximations=()):
        self.state = state
        super().__init__(None, backend, numerics, path, threads, approximations, dt=state.dt, seed=state.seed)

    @property
    def pacing(self):
        """The session's real-time pacing (``sim.realtime``), or None."""
        return self.state.realtime

    @pacing.setter
    def pacing(self, value):  # the runtime's own default; the session's setting wins
        pass

    @property
    def neuron_options(self) -> dict:
        return {"dt": self.state.neuron_dt, "celsius": self.state.neuron_celsius}

    @neuron_options.setter
    def neuron_options(self, value):
        pass

    def model(self) -> ModelGraph:
        """The session's PyNN objects as one model graph."""
        st = self.state
        graph = ModelGraph(dt=st.dt, seed=st.seed)
        for pop in st.populations:
            graph.nodes[pop.label] = population_node(pop)
        for prj in st.projections:
            graph.edges.extend(projection_edges(prj))
        for src in st.current_sources:
            graph.currents.extend(current_injections(src))
        for pop in st.populations:
            graph.recordings.extend(recordings_of(pop))
        for prj in st.projections:
            graph.recordings.extend(weight_recordings(prj))
        add_hybrid_nodes(graph, st)
        return graph

    def _manifest_base(self) -> dict:
        import pyNN
        return {**super()._manifest_base(), "pyNN": pyNN.__version__}

    def _cosimulation_started(self, hybrid) -> None:
        brain = self.state.wholebrain
        if brain is not None:
            brain._runner = hybrid
            self.store.update_manifest(wholebrain=brain.describe())

    def get_state(self, population, variable: str):
        """Current values of a state variable (PyNN units) of every cell of ``population``."""
        return super().get_state(population.label, variable)

    def current_waveform(self, source, t0: int, n: int):
        """The current (nA) PyNN current source ``source`` injects during ticks t0..t0+n-1."""
        kind = type(source).__name__
        return super().current_waveform(kind, f"{kind}#{source.index}", source.native_values(), t0, n)
