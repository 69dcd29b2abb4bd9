"""NMODL mechanisms: compile a directory of ``.mod`` files with ``nrnivmodl`` and load it once.

:func:`compile_mechanisms` is what a cell builder calls for its ``mechanisms=`` directory:

* the build happens in a cache directory keyed by the SHA-256 of the ``.mod`` files (names and
  contents) and of the NEURON version, so building the same mechanisms again -- in this process
  or a later one -- costs a hash and a directory lookup (``nrnivmodl`` itself takes ~1.5 s);
  the cache root is ``$NEUROHYBRID_CACHE/nrnivmodl`` or ``~/.cache/neurohybrid/nrnivmodl``;
* a build is made in a temporary directory and renamed into place when it succeeded, so an
  interrupted or failed build never leaves a half-built library in the cache, and concurrent
  processes building the same mechanisms do not see each other's partial output;
* the library is loaded into this process with ``h.nrn_load_dll`` once: a second call with the
  same files (even from another directory) returns the same path without loading again
  (NEURON refuses to load a mechanism twice).

Failures raise :class:`MechanismError` (a :class:`neurohybrid.errors.ParameterError`) naming the
directory; a compile failure carries the compiler's output (``.output``) in its message.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from neurohybrid.errors import ParameterError

__all__ = ["MechanismError", "compile_mechanisms", "mechanisms_digest", "cache_root"]

_LOCK = threading.Lock()
_LOADED: dict[str, Path] = {}  # digest -> loaded library


class MechanismError(ParameterError):
    """NMODL mechanisms that cannot be used: a missing directory, no ``.mod`` files, a compile
    error (``output`` holds the compiler's messages) or a library NEURON refuses to load."""

    def __init__(self, obj, parameter, problem, accepted=None, output: str = ""):
        super().__init__(obj, parameter, problem, accepted)
        self.output = output


def cache_root() -> Path:
    """Where compiled mechanisms are kept (one sub-directory per digest)."""
    base = os.environ.get("NEUROHYBRID_CACHE")
    root = Path(base) if base else Path.home() / ".cache" / "neurohybrid"
    return root / "nrnivmodl"


def _mod_files(directory) -> tuple[Path, list[Path]]:
    path = Path(directory).expanduser()
    if not path.is_dir():
        raise MechanismError(f"mechanisms directory {str(directory)!r}", "mechanisms",
                             "does not exist or is not a directory", "a directory containing NMODL .mod files")
    mods = sorted(p for p in path.iterdir() if p.suffix == ".mod" and p.is_file())
    if not mods:
        raise MechanismError(f"mechanisms directory {str(directory)!r}", "mechanisms", "contains no .mod files",
                             "a directory containing NMODL .mod files")
    return path.resolve(), mods


def mechanisms_digest(directory) -> str:
    """SHA-256 over the names and contents of the ``.mod`` files of ``directory`` and the NEURON
    version (typed error if there is no such directory or no ``.mod`` file)."""
    import neuron

    _, mods = _mod_files(directory)
    h = hashlib.sha256(f"neuron {neuron.__version__}".encode())
    for p in mods:
        h.update(b"\x1f" + p.name.encode() + b"\x1f")
        h.update(p.read_bytes())
    return h.hexdigest()


def _find_library(build_dir: Path) -> Path | None:
    for pattern in ("*/libnrnmech.so", "*/.libs/libnrnmech.so", "*/libnrnmech.dylib", "*/.libs/libnrnmech.dylib"):
        found = sorted(build_dir.glob(pattern))
        if found:
            return found[0]
    return None


def _nrnivmodl() -> str:
    local = Path(sys.executable).with_name("nrnivmodl")
    if local.exists():
        return str(local)
    found = shutil.which("nrnivmodl")
    if found is None:
        raise MechanismError("nrnivmodl", None, "the NMODL compiler is not installed",
                             "the 'neuron' package (pip install neuron), which provides nrnivmodl")
    return found


def compile_mechanisms(directory, load: bool = True) -> Path:
    """Compile the ``.mod`` files of ``directory`` (cached by content) and load them into NEURON
    (once per process). Returns the path of the compiled library (``libnrnmech.so``)."""
    source, mods = _mod_files(directory)
    digest = mechanisms_digest(source)
    with _LOCK:
        if digest in _LOADED:
            return _LOADED[digest]
        target = cache_root() / digest
        lib = _find_library(target) if target.is_dir() else None
        if lib is None:
            lib = _build(source, mods, target)
        if load:
            from neuron import h
            try:
                ok = h.nrn_load_dll(str(lib))
            except RuntimeError as err:  # e.g. a mechanism name that is already loaded
                raise MechanismError(f"mechanisms directory {str(directory)!r}", "mechanisms",
                                     f"NEURON could not load {lib}: {err}",
                                     "mechanisms whose names are not already loaded (by another directory)") from None
            if not ok:
                raise MechanismError(f"mechanisms directory {str(directory)!r}", "mechanisms",
                                     f"NEURON could not load {lib}",
                                     "mechanisms whose names are not already loaded (by another directory)")
            _LOADED[digest] = lib
        return lib


def _build(source: Path, mods: list[Path], target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=target.name[:12] + ".", dir=target.parent))
    try:
        for p in mods:
            shutil.copy2(p, work / p.name)
        proc = subprocess.run([_nrnivmodl()], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, errors="replace")
        lib = _find_library(work)
        if proc.returncode != 0 or lib is None:
            output = proc.stdout.strip()
            raise MechanismError(f"mechanisms directory {str(source)!r}", "mechanisms",
                                 f"nrnivmodl failed (exit code {proc.returncode}); compiler output:\n{output}",
                                 "NMODL files that nrnivmodl compiles", output=output)
        try:
            work.rename(target)
        except OSError:  # another process finished the same build first
            if _find_library(target) is None:
                raise
            shutil.rmtree(work, ignore_errors=True)
        return _find_library(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
