"""Engine registry: engines are found by name, imported only when used.

``neurohybrid`` never imports a specific engine at module level (DESIGN.md), so a missing
optional dependency (Lava, NEURON) costs only the engine that needs it.
"""
from __future__ import annotations

import importlib

from .errors import UnsupportedModelError

_ENGINES: dict[str, str] = {
    "emulator": "neurohybrid.backends.emulator.engine:EmulatorEngine",
    "emulator-fixed": "neurohybrid.backends.emulator.fixed_engine:FixedEmulatorEngine",
    "lava": "neurohybrid.backends.lava.engine:LavaEngine",
    "neuron": "neurohybrid.backends.neuron.engine:NeuronEngine",
    "surrogate": "neurohybrid.backends.surrogate.engine:SurrogateEngine",
}


def register(name: str, target: str) -> None:
    """Register an engine class by ``"module.path:ClassName"`` under ``name``."""
    _ENGINES[name] = target


def available() -> list[str]:
    """Names of the registered engines."""
    return sorted(_ENGINES)


def engine_class(name: str):
    """Import and return the engine class registered under ``name``."""
    if name not in _ENGINES:
        raise UnsupportedModelError("setup", "backend", f"no engine named {name!r}", ", ".join(available()))
    module, _, cls = _ENGINES[name].partition(":")
    return getattr(importlib.import_module(module), cls)
