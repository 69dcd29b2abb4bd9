"""Which point engine a session runs: ``backend`` / ``numerics`` / Loihi approximations ->
engine class and options (:func:`resolve_engine`), with Lava's fallback.

=====================  ============  ==================================================
``backend``            ``numerics``  engine
=====================  ============  ==================================================
``"emulator"``         ``"float"``   float emulator (PyNN semantics; the default)
``"emulator"``         ``"fixed"``   fixed-point emulator: the quantised Loihi circuit,
                                     bit-exact with Lava ``fixed_pt``
``"lava"``             ``"fixed"``   Lava ``Loihi2SimCfg(select_tag="fixed_pt")`` (the
                                     default numerics for this backend); where Lava
                                     cannot be used, the fixed-point emulator with ONE
                                     :class:`~neurohybrid.errors.LavaUnavailableWarning`
``"lava"``             ``"float"``   the same circuit on Lava's ``floating_pt`` models
                                     (falls back like ``"fixed"``)
=====================  ============  ==================================================

Loihi approximations (a sequence of names) are handed to the quantiser on the Loihi path; on
the float emulator they are refused (they would silently mean nothing).
"""
from __future__ import annotations

import importlib
import inspect
import warnings

from ..engines import engine_class
from ..errors import LavaUnavailableWarning, ParameterError, UnsupportedModelError

__all__ = ["resolve_engine", "lava_status", "NUMERICS"]

FIXED_ENGINE = "neurohybrid.backends.emulator.fixed_engine:FixedEmulatorEngine"
NUMERICS = {"emulator": ("float", "fixed"), "lava": ("fixed", "float")}


def _fixed_engine_class():
    module, _, cls = FIXED_ENGINE.partition(":")
    return getattr(importlib.import_module(module), cls)


def _check_approximations(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = (value,)
    try:
        names = tuple(value)
    except TypeError:
        raise ParameterError("setup", "loihi_approximations", f"{value!r} is not a sequence of names",
                             "a tuple of approximation names, e.g. ('merge_synaptic_time_constants',)") from None
    for name in names:
        if not isinstance(name, str):
            raise ParameterError("setup", "loihi_approximations", f"{name!r} is not a name",
                                 "strings naming approximations, e.g. 'merge_synaptic_time_constants'")
    known = _known_approximations()
    unknown = [n for n in names if known is not None and n not in known]
    if unknown:
        raise ParameterError("setup", "loihi_approximations", f"unknown approximation(s) {unknown}",
                             ", ".join(known))
    return names


def _known_approximations():
    """Names the quantiser knows, or None when it cannot be imported (it then checks itself)."""
    try:
        from ..mappings.loihi.quantize import APPROXIMATIONS
    except ImportError:
        return None
    return tuple(APPROXIMATIONS)


def lava_status() -> tuple[bool, str]:
    """(usable, reason): whether ``backend="lava"`` can run Lava here, and why not."""
    try:
        cls = engine_class("lava")
    except UnsupportedModelError:
        return False, "no Lava engine is registered in neurohybrid.engines"
    except ImportError as exc:
        return False, f"the Lava engine cannot be imported ({exc})"
    module = importlib.import_module(cls.__module__)
    check = getattr(module, "lava_available", None)
    if check is None:
        check = getattr(importlib.import_module("neurohybrid.backends.lava"), "lava_available", None)
    if check is not None:
        ok, reason = check()
        return bool(ok), str(reason or "")
    from ..backends.lava import compat
    ok = compat.import_lava()
    return ok, compat.last_error or ""


def _accepts(cls, name: str) -> bool:
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return True
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def resolve_engine(backend: str = "emulator", numerics: str | None = None, approximations=()):
    """Pick the engine for ``setup(backend=..., numerics=..., loihi_approximations=...)``.

    Returns ``(engine class, constructor keyword arguments, info)``; ``info`` (for the run
    manifest) has the resolved ``numerics``, the ``engine`` that will run and, after a
    fallback, ``fallback_reason``. Unknown backends raise UnsupportedModelError (from the
    engine registry), unknown numerics ParameterError; a missing Lava warns once
    (:class:`LavaUnavailableWarning`) and selects the fixed-point emulator.
    """
    approximations = _check_approximations(approximations)
    if not isinstance(backend, str):
        raise ParameterError("setup", "backend", f"{backend!r} is not an engine name", "'emulator' or 'lava'")
    if numerics is None:
        numerics = "fixed" if backend == "lava" else "float"
    if backend in NUMERICS and numerics not in NUMERICS[backend]:
        raise ParameterError("setup", "numerics", f"{numerics!r} is not available with backend={backend!r}",
                             " or ".join(repr(n) for n in NUMERICS[backend]))
    if backend == "emulator" and numerics == "float":
        if approximations:
            raise ParameterError("setup", "loihi_approximations", "only apply on the Loihi path",
                                 "numerics='fixed' or backend='lava' (or no approximations)")
        return engine_class("emulator"), {"numerics": "float"}, {"numerics": "float", "engine": "emulator"}
    fixed_kwargs = {"numerics": "fixed", "approximations": approximations}
    if backend == "emulator":
        return _fixed_engine_class(), fixed_kwargs, {"numerics": "fixed", "engine": "emulator-fixed"}
    if backend == "lava":
        ok, reason = lava_status()
        if ok:
            cls = engine_class("lava")
            kwargs = {"numerics": numerics}
            if approximations:
                if not _accepts(cls, "approximations"):
                    raise UnsupportedModelError("setup", "loihi_approximations",
                                                "the Lava engine does not take approximations",
                                                "backend='emulator', numerics='fixed'")
                kwargs["approximations"] = approximations
            return cls, kwargs, {"numerics": numerics, "engine": "lava"}
        warnings.warn(LavaUnavailableWarning(
            f"backend='lava' cannot use Lava here ({reason}); running the fixed-point emulator instead, "
            "which is bit-exact with Lava's fixed_pt models" + (" (numerics='float' asked for Lava's floating_pt "
                                                                  "models, which have no emulator)"
                                                                  if numerics == "float" else "")), stacklevel=4)
        return _fixed_engine_class(), fixed_kwargs, {"numerics": "fixed", "engine": "emulator-fixed",
                                                     "fallback_reason": reason}
    if backend == "neuron":
        raise ParameterError("setup", "backend", "NEURON runs the multi-compartment cells of every session; it is "
                             "not a point-neuron backend", "'emulator' or 'lava'")
    if approximations:
        raise ParameterError("setup", "loihi_approximations", f"do not apply to backend={backend!r}",
                             "backend='lava' or numerics='fixed'")
    return engine_class(backend), {"numerics": numerics}, {"numerics": numerics, "engine": backend}
