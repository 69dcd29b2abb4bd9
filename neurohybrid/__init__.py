"""neurohybrid: a runtime for hybrid brain simulation targeting neuromorphic hardware.

Users write PyNN scripts (``import neurohybrid.pynn as sim``); neurohybrid builds a plain model
graph from them and runs it on its engines (today: the numba CPU emulator), streaming results to
HDF5. See README.md and DESIGN.md.
"""
__version__ = "0.1.0"
