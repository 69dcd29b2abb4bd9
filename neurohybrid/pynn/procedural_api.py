"""PyNN's procedural API (create, connect, record) for neurohybrid."""
from pyNN import common
from pyNN.connectors import FixedProbabilityConnector

from . import simulator
from .populations import Population
from .projections import Projection
from .standardmodels import StaticSynapse

create = common.build_create(Population)
connect = common.build_connect(Projection, FixedProbabilityConnector, StaticSynapse)
record = common.build_record(simulator)


def record_v(source, filename):
    """Record membrane potential of ``source`` into ``filename`` at end()."""
    return record(["v"], source, filename)


def record_gsyn(source, filename):
    """Record synaptic conductances of ``source`` into ``filename`` at end()."""
    return record(["gsyn_exc", "gsyn_inh"], source, filename)
