"""The lifetime of Lava runtimes started by :class:`.process_graph.LavaGraph`: whether Lava
imports, and stopping every live runtime cleanly (at exit, or when one of its processes died)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import atexit
import weakref

from . import compat

if TYPE_CHECKING:  # annotations only (process_graph imports this module)
    from .process_graph import LavaGraph

_LIVE_GRAPHS: "weakref.WeakSet[LavaGraph]" = weakref.WeakSet()
_EXIT_HOOK: list = []


def _register_for_exit(graph: LavaGraph) -> None:
    """Stop ``graph`` at interpreter exit, before multiprocessing's own exit hook runs.

    atexit runs hooks last-registered first; the hook is registered once, after Lava (and so
    multiprocessing) was imported, hence before multiprocessing's join of its children.
    ``weakref.finalize``'s own exit hook may have been registered earlier (any TemporaryDirectory
    creates one) and would then run too late.
    """
    _LIVE_GRAPHS.add(graph)
    if not _EXIT_HOOK:
        atexit.register(_stop_live_graphs)
        _EXIT_HOOK.append(True)


def _stop_live_graphs() -> None:
    for graph in list(_LIVE_GRAPHS):
        try:
            graph.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


#: seconds Lava's stop handshake may take before its processes are terminated (a hang guard:
#: a stop takes well under a second; a process that died never answers and the handshake,
#: which waits on a pipe without a timeout, would block for ever)
STOP_GUARD_S = 120.0


def _shutdown(runtime, workdir) -> None:
    try:
        if runtime is not None and runtime._is_started:
            _stop_runtime(runtime)
    finally:
        if workdir is not None:
            workdir.cleanup()


def _stop_runtime(runtime) -> None:
    """Lava's ``Runtime.stop``, unless one of its processes is gone (it waits for an answer from
    every one): then, or when the handshake does not finish within STOP_GUARD_S, the
    processes are terminated instead, and the run's outputs already read are kept."""
    import threading
    actors = list(getattr(runtime._messaging_infrastructure, "actors", []))
    if all(a.is_alive() for a in actors):
        stopper = threading.Thread(target=runtime.stop, name="lava-stop", daemon=True)
        stopper.start()
        stopper.join(STOP_GUARD_S)
        if not stopper.is_alive():
            return
    import multiprocessing
    for actor in actors:
        if actor.is_alive():
            actor.terminate()
        multiprocessing.Process.join(actor, timeout=10)  # (Lava's SystemProcess.join takes no timeout)
    smm = getattr(runtime._messaging_infrastructure, "smm", None)
    if smm is not None:
        smm.shutdown()
    runtime._is_running = runtime._is_started = False


def lava_available() -> tuple[bool, str]:
    """(True, "") when Lava imports (through the compatibility shim), else (False, reason)."""
    if compat.import_lava():
        return True, ""
    return False, compat.last_error or "Lava failed to import"


def loihi_extension_available() -> bool:
    """True when Intel's proprietary Lava-Loihi extension is installed (then ``Loihi2HwCfg``
    can target a chip). ``lava.utils.loihi.is_installed`` looks for
    ``lava.utils.loihi2_profiler``, a module only that extension ships."""
    if not compat.import_lava():
        return False
    try:
        from lava.utils import loihi
        return bool(loihi.is_installed())
    except Exception:  # noqa: BLE001 - any failure means: no extension
        return False
