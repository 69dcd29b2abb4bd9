"""Controllers in a PyNN script: ``sim.Controller`` binds a host-module controller (a native
state machine of :mod:`neurohybrid.controllers`, or a Nengo network through
:class:`neurohybrid.controllers.nengo_adapter.NengoController`) to the session's populations:
its input ports read their spikes, its output ports feed :class:`~neurohybrid.pynn.fields.Field` s
(``sim.Field(name, source=(controller, port))``) that modulate populations or gate projections.
"""
from __future__ import annotations

from ..errors import LinkError, ParameterError
from .simulator import state

__all__ = ["Controller"]


class Controller:
    """A controller of the session: ``component`` (a :class:`neurohybrid.kernel.Component`
    with typed ports), ``read``: {input port: Population} whose spikes it reads every ``period``
    ms (every cell's spikes, whatever the population records), or {input port:
    ``brain.signal(region, variable)``}: a scaffold region's state (a port declared ``"signal"``). Its output ports become fields
    through ``sim.Field(name, source=(controller, port))``."""

    def __init__(self, component, read: dict | None = None, period: float = 1.0):
        from ..kernel import Component
        from .populations import Population
        state._check_usable("Controller")
        name = getattr(component, "name", None)
        who = f"Controller({name})"
        if not isinstance(component, Component):
            raise ParameterError(who, "component", f"{component!r}", "a neurohybrid.kernel.Component (a controller)")
        if any(c.name == name for c in state.controllers) or any(lk.component.name == name for lk in state.live_links):
            raise ParameterError(who, "name", f"a host module named {name!r} already exists", "unique names")
        from .wholebrain import RegionSignal
        read = dict(read or {})
        for port, pop in read.items():
            if port not in component.inputs:
                raise LinkError(who, port, f"no input port {port!r}", ", ".join(component.inputs) or "no inputs")
            takes = getattr(component.inputs[port], "kind", component.inputs[port])
            if isinstance(pop, RegionSignal):
                if pop.brain is not state.wholebrain:
                    raise LinkError(who, port, "a signal of a WholeBrain of another session", "brain.signal(...) "
                                    "of this session's WholeBrain")
                if takes != "fields":
                    raise LinkError(who, port, f"a region signal on a port that takes {takes}",
                                    "a port the controller declares 'signal'")
                continue
            if takes != "spikes":
                raise LinkError(who, port, f"a population on a port that takes {takes}",
                                "a region signal (brain.signal(region, variable))")
            if not isinstance(pop, Population) or pop not in state.populations:
                raise LinkError(who, port, f"{pop!r} is not a population of this session",
                                "a sim.Population created after setup()")
        if not (isinstance(period, (int, float)) and period >= state.dt):
            raise ParameterError(who, "period", f"{period!r}", f"a period >= the time step {state.dt} ms")
        self.name, self.component, self.read, self.period = name, component, read, float(period)
        state.controllers.append(self)
        state.network.mark_dirty("structure")
