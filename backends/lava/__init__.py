"""The Lava engine (Loihi path): builds Lava process graphs, run on ``Loihi2SimCfg`` on a CPU
(``Loihi2HwCfg`` where Intel's Lava-Loihi extension is installed).

Importing this package does not import Lava. :func:`lava_available` says whether Lava is usable
here (and why not); :func:`import_lava` applies the Python 3.11 compatibility shim
(:mod:`.compat`) and imports it. The engine is :class:`.engine.LavaEngine` (registered as
``"lava"`` in :mod:`neurohybrid.engines`); :func:`.process_graph.build_processes` builds the
Lava processes of a :class:`~neurohybrid.mappings.loihi.circuit.LoihiCircuit`.
"""
from __future__ import annotations

from .compat import import_lava


def lava_available() -> tuple[bool, str]:
    """(True, "") when Lava imports (through the compatibility shim), else (False, reason)."""
    from .process_graph import lava_available as check
    return check()


__all__ = ["import_lava", "lava_available"]
