"""The Lava engine (Loihi path): builds Lava process graphs, run on ``Loihi2SimCfg`` on a CPU.

Importing this package does not import Lava. Call :func:`import_lava` first: it applies the
Python 3.11 compatibility shim (:mod:`.compat`) and reports whether Lava is usable.
"""
from __future__ import annotations

from .compat import import_lava

__all__ = ["import_lava"]
