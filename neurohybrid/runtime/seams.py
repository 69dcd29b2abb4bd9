"""What the co-simulation reads off a model graph's modules and links: the scaffold's seams
(replaced regions), the fields and the host modules, with the populations they touch.

The graph says everything by its typed links (:mod:`neurohybrid.graph.hybrid`); these small
records gather, per scaffold seam or field, the nodes and converters the kernel wires together.
"""
from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as _field

from ..errors import LinkError
from ..graph import FieldNode, HostModuleNode, ModelGraph, RatesToSpikesNode, ScaffoldNode, SpikesToRatesNode


@dataclass
class Seam:
    """A region of the scaffold replaced by spiking populations: ``drive`` turns its afferent
    rates into the spikes of ``input_population``; ``rates`` turns the spikes of
    ``populations`` (in channel order) back into its rates."""

    region: str
    index: int
    drive: RatesToSpikesNode
    input_population: str
    rates: SpikesToRatesNode
    populations: list


@dataclass
class Field:
    """A field node with its source (``("scaffold", region, variable)``, ``("proxy",
    population, proxy)``, ``("nucleus", population)``: a population's spikes release it, or
    ``("host", module, port)``: a controller or rate model writes it) and its targets
    [(population, modulates)]."""

    node: FieldNode
    source: tuple
    targets: list
    #: host modules reading the field on an input port [(module, port)] (a scaffold region's
    #: state as a controller's input)
    readers: list = _field(default_factory=list)


@dataclass
class Host:
    """A host module with the populations its ports read and write ({port: population}):
    ``read`` spikes, ``write`` spikes into SpikeSourceExternal populations, ``fields``: field
    outputs written straight onto populations ({port: [(population, modulates)]}; a port
    feeding a FieldNode is that field's source instead)."""

    node: HostModuleNode
    read: dict
    write: dict
    fields: dict = None
    #: {input port: field node} sampled signals read (a scaffold region's state)
    signals: dict = None
    #: {output port: [(host module, input port)]} outputs feeding other host modules (a live
    #: link's stimulus samples into a live encoder)
    feeds: dict = None


def scaffold_of(graph: ModelGraph) -> ScaffoldNode | None:
    """The graph's scaffold (at most one)."""
    found = [m for m in graph.modules.values() if isinstance(m, ScaffoldNode)]
    if len(found) > 1:
        raise LinkError("ModelGraph", "modules", f"{len(found)} scaffolds ({', '.join(m.name for m in found)})",
                        "one whole-brain scaffold per model")
    return found[0] if found else None


def _one(links, what: str, who: str):
    if len(links) != 1:
        raise LinkError(who, what, f"{len(links)} links", "exactly one")
    return links[0]


def seams_of(graph: ModelGraph, scaffold: ScaffoldNode) -> list[Seam]:
    """The replaced regions, in link order: afferent:R -> drive -> population, populations ->
    rates converter -> rates:R."""
    seams = []
    for link in graph.links_from(scaffold.name):
        if not link.source_port.startswith("afferent:"):
            continue
        region = link.source_port.split(":", 1)[1]
        who = f"{scaffold.name}.{link.source_port}"
        drive = graph.modules.get(link.target)
        if not isinstance(drive, RatesToSpikesNode):
            raise LinkError(who, "target", f"{link.target!r} is not a rates_to_spikes converter", "a RatesToSpikesNode")
        target = _one(graph.links_from(drive.name, "spikes"), "spikes", drive.name).target
        back = _one(graph.links_to(scaffold.name, f"rates:{region}"), f"rates:{region}", scaffold.name)
        rates = graph.modules.get(back.source)
        if not isinstance(rates, SpikesToRatesNode):
            raise LinkError(back.label, "source", f"{back.source!r} is not a spikes_to_rates converter",
                            "a SpikesToRatesNode")
        pops = [lk.source for lk in graph.links_to(rates.name, "spikes")]
        seams.append(Seam(region, scaffold.region_index(region), drive, target, rates, pops))
    return seams


def fields_of(graph: ModelGraph) -> list[Field]:
    """Every field node with its source and targets (LinkError naming a field without a
    producer or with several)."""
    out = []
    for node in graph.modules.values():
        if not isinstance(node, FieldNode):
            continue
        into = graph.links_to(node.name)
        if len(into) != 1:
            raise LinkError(f"FieldNode({node.name})", "in", f"{len(into)} producers" if into else "no producer "
                            "(nothing releases or computes it)", "exactly one link into the field: a scaffold state, "
                            "a proxy, a population's spikes (a nucleus) or a controller's field port")
        src = into[0]
        origin = graph.modules.get(src.source) or graph.nodes.get(src.source)
        head, _, rest = src.source_port.partition(":")
        if src.target_port == "spikes":
            source = ("nucleus", src.source)
        elif isinstance(origin, HostModuleNode):
            source = ("host", src.source, src.source_port)
        elif isinstance(origin, ScaffoldNode) and head == "state":
            region, _, variable = rest.rpartition(".")
            source = ("scaffold", region, variable)
        elif head == "proxy":
            source = ("proxy", src.source, rest)
        else:
            raise LinkError(src.label, "source_port", f"{src.source_port!r}", "state:<region>.<variable> or proxy:<name>")
        links = graph.links_from(node.name, "field")
        targets = [(lk.target, lk.target_port.split(":", 1)[1]) for lk in links
                   if not isinstance(graph.modules.get(lk.target), HostModuleNode)]
        readers = [(lk.target, lk.target_port) for lk in links if isinstance(graph.modules.get(lk.target), HostModuleNode)]
        out.append(Field(node, source, targets, readers))
    return out


def hosts_of(graph: ModelGraph) -> list[Host]:
    """Every host module with the populations its ports read and write."""
    out = []
    for node in graph.modules.values():
        if isinstance(node, HostModuleNode):
            into = graph.links_to(node.name)
            read = {lk.target_port: lk.source for lk in into if lk.source in graph.nodes}
            signals = {lk.target_port: lk.source for lk in into if isinstance(graph.modules.get(lk.source), FieldNode)}
            write, fields, feeds = {}, {}, {}
            for lk in graph.links_from(node.name):
                if lk.target_port.startswith("field:"):
                    fields.setdefault(lk.source_port, []).append((lk.target, lk.target_port.split(":", 1)[1]))
                elif lk.target in graph.nodes:
                    write[lk.source_port] = lk.target
                elif isinstance(graph.modules.get(lk.target), HostModuleNode):
                    feeds.setdefault(lk.source_port, []).append((lk.target, lk.target_port))
            out.append(Host(node, read, write, fields, signals, feeds))
    return out


def spike_reads(graph: ModelGraph) -> set:
    """Populations whose every spike the co-simulation reads: host modules' inputs and the
    nuclei releasing fields."""
    hosts = {pop for host in hosts_of(graph) for pop in host.read.values()}
    return hosts | {f.source[1] for f in fields_of(graph) if f.source[0] == "nucleus"}
