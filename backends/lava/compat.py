"""Scoped compatibility shim that lets ``lava-nc`` 0.10 import on Python 3.11.

Why it exists
-------------
Lava 0.10 declares ``Requires-Python <3.11``. The only thing that actually breaks on 3.11 is
that a few of its dataclasses use *instances* as field defaults, e.g. in
``lava/magma/compiler/var_model.py``::

    @dataclass
    class CoreEncoder:
        x: ByteEncoder = ByteEncoder()

Python 3.11 rejects any default whose class is unhashable (``__hash__ is None``, which every
``@dataclass`` with ``eq=True`` and without ``frozen=True`` is) with
``ValueError: mutable default <class '...ByteEncoder'> for field x is not allowed: use
default_factory``; 3.10 only rejected ``list``, ``dict`` and ``set``.

What it does
------------
While installed, ``dataclasses._get_field`` is wrapped. For a class defined in a ``lava``
module only, a field whose class-level default is an unhashable instance is handed to the
original ``_get_field`` as ``field(default_factory=lambda: <that same instance>)``. That is
exactly what Python 3.10 did at run time: every instance of the dataclass shares the one
default object, and the class attribute keeps that object. Classes of every other module go
through the original function untouched, so no other library's dataclasses change behaviour.

``install()`` is idempotent and ``uninstall()`` restores the original function. The shim stays
installed after :func:`import_lava`, because Lava imports some of its modules lazily (the
compiler loads ProcessModel modules while compiling), and those must get the same treatment;
the ``lava`` module filter keeps that scope narrow.
"""
from __future__ import annotations

import contextlib
import dataclasses
import importlib
import sys

# The original function, captured once at import of this module (never re-captured, so an
# install/uninstall cycle cannot stack wrappers).
_ORIGINAL_GET_FIELD = dataclasses._get_field

#: Reason the last :func:`import_lava` call failed, or ``None`` after a successful one.
last_error: str | None = None


def _is_lava_class(cls: type) -> bool:
    module = getattr(cls, "__module__", "") or ""
    return module == "lava" or module.startswith("lava.")


def _needs_factory(default: object) -> bool:
    # Same test Python 3.11 applies ("unhashable class" as proxy for mutability), restricted to
    # plain defaults: Field objects, MISSING and slot descriptors are left to the original code.
    if default is dataclasses.MISSING or isinstance(default, dataclasses.Field):
        return False
    return type(default).__hash__ is None


def _shared_default_factory(default: object):
    # Returns the very same object each time, reproducing 3.10's shared-default semantics.
    return lambda: default


def _patched_get_field(cls, a_name, a_type, *args, **kwargs):
    """``dataclasses._get_field`` with unhashable instance defaults of lava classes turned
    into ``default_factory`` (see the module docstring)."""
    if _is_lava_class(cls):
        default = cls.__dict__.get(a_name, dataclasses.MISSING)
        if _needs_factory(default):
            setattr(cls, a_name, dataclasses.field(default_factory=_shared_default_factory(default)))
            try:
                return _ORIGINAL_GET_FIELD(cls, a_name, a_type, *args, **kwargs)
            finally:
                # Put the instance back as the class attribute: ``_process_class`` then sees a
                # non-Field attribute and leaves it alone, as 3.10 did.
                setattr(cls, a_name, default)
    return _ORIGINAL_GET_FIELD(cls, a_name, a_type, *args, **kwargs)


def installed() -> bool:
    """True while the shim is active."""
    return dataclasses._get_field is _patched_get_field


def needed() -> bool:
    """True on Python versions that reject unhashable dataclass defaults (3.11 and later)."""
    return sys.version_info >= (3, 11)


def install() -> None:
    """Activate the shim (idempotent). It only affects dataclasses defined in ``lava`` modules."""
    if not installed():
        dataclasses._get_field = _patched_get_field


def uninstall() -> None:
    """Deactivate the shim, restoring the original ``dataclasses._get_field``.

    Lava classes already created keep their (3.10-equivalent) fields; lava modules imported
    after this may fail to import again on Python >= 3.11.
    """
    if installed():
        dataclasses._get_field = _ORIGINAL_GET_FIELD


# Modules whose import covers the Lava API the Loihi path uses: the process base, the Loihi
# run configurations and run conditions.
_CORE_MODULES = (
    "lava.magma.core.process.process",
    "lava.magma.core.run_configs",
    "lava.magma.core.run_conditions",
)


@contextlib.contextmanager
def _tolerant_start_method():
    """Lava's message infrastructure calls ``multiprocessing.set_start_method('fork')`` at import,
    which raises once the start method is fixed (numba's parallel launch fixes it, so Lava failed
    to import after any emulator run). While Lava imports, asking again for the method already in
    force is accepted; asking for a different one still raises."""
    import multiprocessing as mp
    original = mp.set_start_method

    def set_start_method(method, force=False):
        if not force and mp.get_start_method(allow_none=True) == method:
            return None
        return original(method, force=force)

    mp.set_start_method = set_start_method
    try:
        yield
    finally:
        mp.set_start_method = original


def import_lava() -> bool:
    """Install the shim if this Python needs it, then import Lava's core modules.

    Returns True when Lava is importable. Returns False when it is not installed or fails to
    import for another reason; the reason is then in :data:`last_error`.
    """
    global last_error
    if needed():
        install()
    try:
        with _tolerant_start_method():
            for name in _CORE_MODULES:
                importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (exc.name == "lava" or exc.name.startswith("lava.")):
            last_error = "lava-nc is not installed (pip install --no-deps --ignore-requires-python lava-nc==0.10.0)"
        else:
            last_error = f"a dependency of lava-nc is missing: {exc}"
        return False
    except Exception as exc:  # noqa: BLE001 - any import failure means "Lava unusable here"
        last_error = f"lava-nc failed to import: {type(exc).__name__}: {exc}"
        return False
    last_error = None
    return True
