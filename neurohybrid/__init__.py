"""neurohybrid: a runtime for hybrid brain simulation targeting neuromorphic hardware.

Users write PyNN scripts (``import neurohybrid.pynn as sim``); neurohybrid builds a plain model
graph from them and runs it on its engines (today: the numba CPU emulator), streaming results to
HDF5. See README.md and DESIGN.md.
"""
import os as _os

# numba's OpenMP threading layer runs its parallel loops on a single thread on this class of
# machine unless OMP_NUM_THREADS is set (measured: a prange kernel took the same wall time with
# 1 and 2 numba threads, and half with OMP_NUM_THREADS=2). It must be set before numba starts
# its thread pool, i.e. before the first parallel kernel runs; a user's own setting wins.
_os.environ.setdefault("OMP_NUM_THREADS", str(_os.cpu_count() or 1))

__version__ = "0.1.0"
