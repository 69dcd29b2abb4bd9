"""``pyNN.neurohybrid``: the module name PyNN's tools expect for the neurohybrid backend.

``pyNN.utility.get_simulator`` (and scripts that do ``import_module("pyNN." + name)`` or
``exec("from pyNN.%s import *" % name)``) import ``pyNN.<name>``; this module, shipped by the
neurohybrid distribution inside PyNN's package directory, *is* :mod:`neurohybrid.pynn`: it
replaces itself in ``sys.modules`` by that module, so ``python brunel.py neurohybrid`` runs the
script on neurohybrid exactly as ``import neurohybrid.pynn as sim`` does (same objects, same
session state).
"""
import sys

import neurohybrid.pynn as _backend

sys.modules[__name__] = _backend
