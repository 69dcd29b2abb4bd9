"""What every library module shares: ports, the returned handle, and the parameter ranges.

A module is a function that adds populations, projections and fields to the current session
and returns a :class:`Module`. Its parameters carry the published value and the range the
source supports; a value outside that range is a :class:`~neurohybrid.errors.ParameterError`
naming the module and the parameter, unless the caller passes ``override=True`` (the value is
then used and the override recorded in the handle, so a figure can say so).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ParameterError

PORT_KINDS = ("spikes", "rates", "field")
DIRECTIONS = ("in", "out")


@dataclass(frozen=True)
class Port:
    """One contract point of a module.

    ``kind``: ``"spikes"`` (a population's spikes, time in ms + neuron id), ``"rates"`` (a
    population's smoothed activity, Hz) or ``"field"`` (a slow modulator, in the field's units).
    ``direction``: ``"in"`` (the module reads it: project onto ``target``, or modulate it) or
    ``"out"`` (the module emits it). ``target``: the population, assembly or field behind it.
    """

    name: str
    kind: str
    direction: str
    target: Any
    units: str = ""
    doc: str = ""

    def __post_init__(self):
        if self.kind not in PORT_KINDS:
            raise ParameterError(f"Port({self.name})", "kind", repr(self.kind), ", ".join(PORT_KINDS))
        if self.direction not in DIRECTIONS:
            raise ParameterError(f"Port({self.name})", "direction", repr(self.direction), "'in', 'out'")


@dataclass
class Module:
    """The handle a library module returns.

    ``name``: the module's name (``"cortex"``, ...); ``region``: the scaffold region it sits
    in (None: free-standing); ``populations``: label -> population; ``ports``: name -> Port;
    ``parameters``: the values used (published defaults merged with the caller's);
    ``overrides``: parameters used outside their published range (``override=True``);
    ``source``: the citation the parameters come from; ``extras``: anything else the module
    exposes (projections, fields, controllers), by name.
    """

    name: str
    populations: dict
    ports: dict
    parameters: dict
    source: str
    region: str | None = None
    overrides: tuple = ()
    extras: dict = field(default_factory=dict)

    def port(self, name: str) -> Port:
        """The port called ``name`` (a ParameterError listing the module's ports otherwise)."""
        try:
            return self.ports[name]
        except KeyError:
            raise ParameterError(f"{self.name} module", "port", f"no port {name!r}",
                                 ", ".join(sorted(self.ports)) or "none") from None

    def inputs(self) -> list[Port]:
        """The ports the module reads."""
        return [p for p in self.ports.values() if p.direction == "in"]

    def outputs(self) -> list[Port]:
        """The ports the module emits."""
        return [p for p in self.ports.values() if p.direction == "out"]

    def record(self, variables="spikes") -> None:
        """Record ``variables`` on every population of the module."""
        for pop in self.populations.values():
            pop.record(variables)


def check_integer(who: str, name: str, value, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int (a whole float such as a Range's 40.0 is accepted; bools are not),
    else a ParameterError naming ``who`` and ``name`` with the accepted interval."""
    import numpy as np
    accepted = "an integer" + (f" in [{low}, {high}]" if low is not None and high is not None
                               else f" >= {low}" if low is not None else f" <= {high}" if high is not None else "")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or int(value) != value:
        raise ParameterError(who, name, f"{value!r} is not an integer", accepted)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ParameterError(who, name, f"{value!r} is outside the supported range", accepted)
    return int(value)


@dataclass(frozen=True)
class Range:
    """A parameter's published value and the closed interval its source supports (same units)."""

    value: Any
    low: float | None = None
    high: float | None = None
    units: str = ""

    def contains(self, x) -> bool:
        """True when every element of ``x`` lies in [low, high] (a None bound is open)."""
        import numpy as np
        arr = np.asarray(x, dtype=float)
        if not np.all(np.isfinite(arr)):
            return False
        return bool((self.low is None or np.all(arr >= self.low)) and (self.high is None or np.all(arr <= self.high)))


def check_parameters(who: str, ranges: dict[str, Range], given: dict, override: bool = False):
    """The parameters a module runs with: ``ranges``' published values updated by ``given``.

    ``who`` names the object in errors (``"cortex module"``). Returns ``(parameters,
    overrides)``. An unknown name is a ParameterError listing the
    accepted ones; a value outside its Range (or NaN) is a ParameterError naming ``who`` and
    the parameter unless ``override`` (then it is used and listed in ``overrides``; NaN never is).
    """
    import numpy as np
    params, overrides = {k: r.value for k, r in ranges.items()}, []
    for name, value in given.items():
        if name not in ranges:
            raise ParameterError(who, name, "no such parameter", ", ".join(sorted(ranges)))
        rng = ranges[name]
        if rng.low is not None or rng.high is not None:
            try:
                finite = bool(np.all(np.isfinite(np.asarray(value, dtype=float))))
            except (TypeError, ValueError):
                raise ParameterError(who, name, f"{value!r} is not a number",
                                     f"[{rng.low}, {rng.high}] {rng.units}") from None
            if not finite:
                raise ParameterError(who, name, f"{value!r} is not finite", "a finite number")
            if not rng.contains(value):
                if not override:
                    raise ParameterError(who, name,
                                         f"{value!r} {rng.units} is outside the published range",
                                         f"[{rng.low}, {rng.high}] {rng.units}, or override=True")
                overrides.append(name)
        params[name] = value
    return params, tuple(overrides)
