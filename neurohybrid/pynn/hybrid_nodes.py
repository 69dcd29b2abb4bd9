"""The session's hybrid objects as model-graph modules and links (:mod:`neurohybrid.graph.hybrid`):
a ``WholeBrain`` becomes a :class:`ScaffoldNode` with one rates->spikes and one spikes->rates
converter per replaced region and one :class:`FieldNode` per ``modulate``; ``sim.modulate``
field links become field nodes fed by a biophysical population's proxy; ``sim.Field`` s become
field nodes fed by a nucleus or a ``sim.Controller`` (a host module); ``sim.live`` /
``sim.serve`` links become :class:`HostModuleNode` s reading and writing populations (and
feeding the live encoders they write to, each a host module of its own).
"""
from __future__ import annotations

from ..graph import FieldNode, HostModuleNode, ModelGraph, RatesToSpikesNode, ScaffoldNode, SpikesToRatesNode


def add_hybrid_nodes(graph: ModelGraph, state) -> None:
    """Add the scaffold, fields and live links of PyNN session ``state`` to ``graph``."""
    if state.wholebrain is not None:
        _add_scaffold(graph, state.wholebrain)
    for fl in state.field_links:
        graph.add_module(FieldNode(fl.field, fl.fn, units="1", delay=fl.delay))
        graph.connect(fl.source.label, f"proxy:{fl.proxy}", fl.field, "in")
        for p in fl.targets:
            graph.connect(fl.field, "field", p.label, f"field:{fl.modulates}")
    for ctl in state.controllers:
        graph.add_module(HostModuleNode(ctl.name, ctl.component, ctl.period))
        for port, pop in ctl.read.items():
            if hasattr(pop, "region"):  # a scaffold region's state: a field node into the port
                name = f"{ctl.name}.{port}.signal"
                graph.add_module(FieldNode(name, None, pop.period, "1"))
                graph.connect(pop.brain.label, f"state:{pop.region}.{pop.variable}", name, "in")
                graph.connect(name, "field", ctl.name, port)
            else:
                graph.connect(pop.label, "spikes", ctl.name, port)
    for f in state.fields:
        graph.add_module(f.node)
        if isinstance(f.source, tuple):
            graph.connect(f.source[0].name, f.source[1], f.name, "in")
        elif f.source is not None:
            graph.connect(f.source.label, "spikes", f.name, "spikes")
        for pop, modulates in f.targets:
            graph.connect(f.name, "field", pop.label, f"field:{modulates}")
        for prj in f.gates:
            post, edge = f.edge_names(prj)
            graph.connect(f.name, "field", post, f"field:gate:{edge}")
    for lk in state.live_links:
        name = lk.component.name
        graph.add_module(HostModuleNode(name, lk.component, lk.period))
        for port, pop in lk.read.items():
            graph.connect(pop.label, "spikes", name, port)
        for port, pop in lk.write.items():
            encoder = (lk.encoders or {}).get(port)
            if encoder is None:
                graph.connect(name, port, pop.label, "spikes")
                continue
            # a live encoder: the link's stimulus samples -> the encoder (a host module) -> its population
            graph.add_module(HostModuleNode(encoder.name, encoder, lk.period))
            graph.connect(name, port, encoder.name, "stimulus")
            graph.connect(encoder.name, "spikes", pop.label, "spikes")


def _add_scaffold(graph: ModelGraph, brain) -> None:
    sc = graph.add_module(ScaffoldNode(brain.label, brain.connectome, brain.model, brain.coupling, brain.integrator,
                                       brain.speed, brain.dt, brain.initial_state, list(brain.monitors),
                                       brain.exchange, brain.pipelined, brain.parallel))
    for r in brain.replacements:
        i, o = r.inputs, r.output
        drive = graph.add_module(RatesToSpikesNode(f"{r.label}.drive", r.input_population.size, i.process, i.gain,
                                                   i.baseline, i.shared, i.order, i.t_ref,
                                                   stream=f"{r.label}.inputs"))
        rates = graph.add_module(SpikesToRatesNode(f"{r.label}.rates", [p.size for p in r.populations], o.kernel,
                                                   o.tau, o.width, o.period, r.mix, r.bias))
        graph.connect(sc.name, f"afferent:{r.label}", drive.name, "rates")
        graph.connect(drive.name, "spikes", r.input_population.label, "spikes")
        for p in r.populations:
            graph.connect(p.label, "spikes", rates.name, "spikes")
        graph.connect(rates.name, "rates", sc.name, f"rates:{r.label}")
    for m in brain.modulations:
        graph.add_module(FieldNode(m.field, m.fn, m.period, m.units))
        graph.connect(sc.name, f"state:{m.region}.{m.variable}", m.field, "in")
        for p in m.populations:
            graph.connect(m.field, "field", p.label, f"field:{m.modulates}")
