"""Library modules in one whole-brain scaffold: placed in regions, coupled to each other.

A :class:`Federation` holds one ``sim.WholeBrain`` and the library modules a script puts into it:

* :meth:`Federation.place` hands a region of the scaffold to a module, one call: the region's
  long-range input reaches the module's input populations as Poisson spikes (a rates-to-spikes
  converter), and the rates of the module's chosen populations drive the region's scaffold
  variables (``seam``: ``{variable: [population labels]}``, a spikes-to-rates converter per
  region; see ``WholeBrain.replace``);
* :meth:`Federation.connect` projects one module's spikes onto another's populations (modules
  without a region of their own, such as the cerebellum or the neuromodulatory nuclei, take part
  this way);
* :meth:`Federation.describe` is the placement report: which module sits where, its seam, its
  ports.

Typed errors name the module and the parameter: a region the connectome lacks, two modules in
one region, a seam variable the scaffold model lacks or cannot drive, a seam population that is
not the module's. Nothing is kept outside the Federation object (no global registry).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ParameterError
from .base import Module


def operating_rates(model, s_e: float, s_i: float) -> dict:
    """The rates (Hz) that hold a ReducedWongWangExcInh region's gatings at ``s_e``, ``s_i``
    (their time averages in a pure scaffold run): at the steady state of
    ``dS/dt = -S/tau + (1 - S) gamma r``, ``r = S / ((1 - S) gamma tau)`` (Deco et al. 2014,
    Eqs. 5-6; gamma in 1/(ms Hz) as TVB states it, tau in ms, r in Hz). A module whose pooled seam rate is ``m`` Hz
    is calibrated by ``scale = r / m``."""
    p = model.params
    if not {"gamma_e", "tau_e", "gamma_i", "tau_i"} <= set(p):
        raise ParameterError("operating_rates", "model", f"{type(model).__name__}", "ReducedWongWangExcInh")
    rate = lambda s, gamma, tau: s / ((1.0 - s) * gamma * tau)  # noqa: E731
    return {"S_e": rate(s_e, p["gamma_e"], p["tau_e"]), "S_i": rate(s_i, p["gamma_i"], p["tau_i"])}


@dataclass
class Placement:
    """A module in a region: ``seam`` ({scaffold variable: [population labels]}), ``inputs``
    (labels of the populations the region's long-range input reaches) and the
    ``WholeBrain.replace`` record it made (``replacement``)."""

    module: Module
    region: str
    seam: dict
    inputs: list
    replacement: object = None


@dataclass
class Coupling:
    """A projection between two modules' populations (``Federation.connect``)."""

    source: str
    target: str
    projection: object
    weight: float
    delay: float


@dataclass
class Federation:
    """Library modules placed in the regions of ``brain`` (a ``sim.WholeBrain``) and coupled to
    each other. ``sim``: the front end (``neurohybrid.pynn``) the modules were built with."""

    sim: object
    brain: object
    placements: dict = field(default_factory=dict)   # region label -> Placement
    couplings: list = field(default_factory=list)
    members: list = field(default_factory=list)      # every module added (placed or not)

    # ------------------------------------------------------------------ placing
    def place(self, module: Module, region: str, seam: dict, inputs=None, *, weight: float = 0.1,
              gain: float = 1.0, baseline: float = 0.0, kernel: str = "box", tau: float = 10.0,
              engine: str | None = None, scale: dict | None = None) -> Placement:
        """Hand ``region`` (a label of the connectome) over to ``module``.

        ``seam``: ``{scaffold variable: population label or [labels]}``: the pooled mean rate
        (Hz) of those populations of the module drives the variable through the scaffold
        model's seam relation (``brain.seam_relations()``); ``scale``: ``{variable: factor}``
        (dimensionless) multiplying that pooled rate, to calibrate a module to the region's
        operating point (see :func:`operating_rates`). ``inputs``: labels of the
        populations the region's long-range input reaches (default: the populations behind the
        module's ``"in"`` spike ports), as Poisson spikes of rate ``gain * afferent + baseline``
        (Hz) through synapses of ``weight`` (nA or uS, the targets' units). ``kernel``/``tau``
        (ms): the spikes-to-rates converter. ``engine``: run every population of the module on
        that engine instance (e.g. ``"emulator-fixed"``: the Loihi path), else the partition's choice.
        """
        who = f"{getattr(module, 'name', module)} module"
        if not isinstance(module, Module):
            raise ParameterError("Federation.place", "module", f"{module!r}", "a library Module handle")
        label = self._region_label(who, region)
        if label in self.placements:
            raise ParameterError(who, "region", f"{label!r} already holds the {self.placements[label].module.name} "
                                 "module", "one module per region (free regions: see brain.regions)")
        if any(p.module is module for p in self.placements.values()):
            raise ParameterError(who, "region", f"the module is already placed in {module.region!r}",
                                 "each module in one region")
        seam_pops = self._seam(who, module, seam)
        targets = self._inputs(who, module, inputs)
        self._engine(who, module, engine)
        sim = self.sim
        spec = sim.rates_to_spikes("poisson", weight=weight, gain=gain, baseline=baseline, targets=targets)
        entries = [sim.seam(v, pops, weights=self._weights(who, v, pops, scale)) for v, pops in seam_pops.items()]
        rep = self.brain.replace(label, entries, inputs=spec, output=sim.spikes_to_rates(kernel, tau=tau))
        module.region = label
        placement = Placement(module, label, {v: [p.label for p in pops] for v, pops in seam_pops.items()},
                              [t.label for t in targets], rep)
        self.placements[label] = placement
        self._member(module)
        return placement

    def _region_label(self, who: str, region) -> str:
        labels = list(self.brain.regions)
        if not isinstance(region, str) or region not in labels:
            raise ParameterError(who, "region", f"{region!r} is not a region of the connectome "
                                 f"{getattr(self.brain.connectome, 'name', '')}", "a label of brain.regions, e.g. "
                                 + ", ".join(labels[:4]) + ", ...")
        return region

    def _population(self, who: str, parameter: str, module: Module, name):
        """The module's population called ``name`` (a label or the population itself)."""
        for label, pop in module.populations.items():
            if name is pop or name == label or name == getattr(pop, "label", None):
                return pop
        raise ParameterError(who, parameter, f"{getattr(name, 'label', name)!r} is not a population of the module",
                             ", ".join(module.populations))

    def _seam(self, who: str, module: Module, seam) -> dict:
        if not isinstance(seam, dict) or not seam:
            raise ParameterError(who, "seam", f"{seam!r}", "{scaffold variable: population label(s)}")
        model = self.brain.model
        drivable = [ch.variable for ch in model.spike_seam]
        out = {}
        for variable, names in seam.items():
            if variable not in model.state_variables or variable not in drivable:
                problem = (f"{type(model).__name__} has no state variable {variable!r}"
                           if variable not in model.state_variables else
                           f"{variable!r} of {type(model).__name__} is not driven from a rate")
                raise ParameterError(who, f"seam[{variable!r}]", problem,
                                     "a seam variable of the scaffold model: " + (", ".join(drivable) or "none"))
            names = names if isinstance(names, (list, tuple)) else [names]
            out[variable] = [self._population(who, f"seam[{variable!r}]", module, n) for n in names]
        return out

    @staticmethod
    def _weights(who: str, variable: str, pops: list, scale) -> list:
        """Pooled-mean weights (population sizes over their sum) times ``scale[variable]``."""
        factor = 1.0 if not scale or variable not in scale else scale[variable]
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not factor >= 0:
            raise ParameterError(who, f"scale[{variable!r}]", f"{factor!r}", "a factor >= 0")
        sizes = [p.size for p in pops]
        return [factor * n / sum(sizes) for n in sizes]

    def _inputs(self, who: str, module: Module, inputs) -> list:
        if inputs is None:
            inputs = [p.target for p in module.inputs() if p.kind in ("spikes", "rates")]
            if not inputs:
                raise ParameterError(who, "inputs", "the module declares no input spike or rate port",
                                     "the labels of the populations the region's input reaches")
        names = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        return [self._population(who, "inputs", module, n) for n in names]

    # ------------------------------------------------------------------ module to module
    def connect(self, source: Module, port: str, target: Module, population, *, connector=None,
                weight: float = 0.1, delay: float = 1.0, receptor_type: str = "excitatory"):
        """Project the spikes of ``source``'s output port ``port`` onto ``target``'s population
        (label) with ``connector`` (default: each target cell receives 10 % of the source's
        cells, seeded by the session), synapses of ``weight`` (nA or uS, the target's units) and
        ``delay`` (ms) on ``receptor_type``."""
        sim = self.sim
        out = source.port(port)
        if out.kind != "spikes" or out.direction != "out":
            raise ParameterError(f"{source.name} module", "port", f"{port!r} is a {out.direction} {out.kind} port",
                                 "an output spike port: " + ", ".join(p.name for p in source.outputs()
                                                                       if p.kind == "spikes"))
        post = self._population(f"{target.name} module", "population", target, population)
        connector = sim.FixedProbabilityConnector(0.1) if connector is None else connector
        prj = sim.Projection(out.target, post, connector, sim.StaticSynapse(weight=weight, delay=delay),
                             receptor_type=receptor_type, label=f"{source.name}.{port}->{target.name}.{post.label}")
        self.couplings.append(Coupling(f"{source.name}.{port}", f"{target.name}.{post.label}", prj, weight, delay))
        self._member(source)
        self._member(target)
        return prj

    def add(self, module: Module, engine: str | None = None) -> Module:
        """Take part in the federation without a region (fields, module-to-module projections);
        ``engine`` as in :meth:`place`."""
        self._engine(f"{getattr(module, 'name', module)} module", module, engine)
        self._member(module)
        return module

    @staticmethod
    def _engine(who: str, module: Module, engine) -> None:
        """Pin the module's populations to ``engine`` (None: leave the partition's choice)."""
        if engine is None:
            return
        if not isinstance(engine, str) or not engine.split(":", 1)[0]:
            raise ParameterError(who, "engine", f"{engine!r}", "an engine instance name, e.g. 'emulator-fixed'")
        for pop in module.populations.values():
            if hasattr(pop, "engine"):
                pop.engine = engine  # read when the model graph is built (Population(engine=...))

    def _member(self, module: Module) -> None:
        if not any(m is module for m in self.members):
            self.members.append(module)

    # ------------------------------------------------------------------ report
    def describe(self) -> dict:
        """The placement report: per module its region (or None), seam, inputs, ports, and the
        engine each population runs on (``sim.placement()``)."""
        where = self.sim.placement(show=False)  # {label: {"engine", "reason", ...}}
        report = []
        for m in self.members:
            placed = next((p for p in self.placements.values() if p.module is m), None)
            report.append({
                "module": m.name, "region": placed.region if placed else None,
                "seam": placed.seam if placed else None, "inputs": placed.inputs if placed else None,
                "source": m.source, "overrides": list(m.overrides),
                "ports": {p.name: f"{p.direction} {p.kind}" for p in m.ports.values()},
                "populations": {label: {"size": pop.size,
                                        "engine": where.get(pop.label, {}).get("engine")}
                                for label, pop in m.populations.items() if hasattr(pop, "size")},
            })
        return {"scaffold": type(self.brain.model).__name__, "regions": len(self.brain.regions),
                "modules": report, "couplings": [(c.source, c.target, c.weight, c.delay) for c in self.couplings]}
