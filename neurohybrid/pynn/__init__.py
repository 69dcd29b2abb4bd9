"""neurohybrid as a PyNN backend: ``import neurohybrid.pynn as sim`` runs an unchanged PyNN script.

Built on ``pyNN.common`` like ``pyNN.nest``: PyNN's semantics live in PyNN; this package is the
glue to neurohybrid's model graph, engines and HDF5 recording.
"""
from pyNN import errors, random, space  # noqa: F401
from pyNN.connectors import *  # noqa: F401,F403
from pyNN.network import Network as _PyNNNetwork  # noqa: F401
from pyNN.parameters import Sequence  # noqa: F401
from pyNN.random import GSLRNG, NumpyRNG, RandomDistribution  # noqa: F401
from pyNN.recording import *  # noqa: F401,F403
from pyNN.space import Space  # noqa: F401
from pyNN.standardmodels import StandardCellType

from .connectors import SmallWorldConnector  # noqa: F401  (PyNN's own is not implemented)
from .control import (end, get_current_time, get_max_delay, get_min_delay, get_time_step,  # noqa: F401
                      initialize, num_processes, placement, rank, reset, run, run_for, run_until, setup)
from .encoders import Cochlea, EventCamera, NIREncoder, Retina  # noqa: F401  (sensory encoders: neurohybrid.encoders)
from .composed import (AdExp, AlphaPSR, BetaPSR, CondAlphaPostSynapticResponse,  # noqa: F401
                       CondBetaPostSynapticResponse, CurrExpPostSynapticResponse, LIF, PointNeuron)
from .native_rng import NativeRNG  # noqa: F401  (draws from neurohybrid's keyed streams)
from .loihi import export_loihi, export_nir, import_nir  # noqa: F401  (Loihi bundle, NIR)
from .populations import Assembly, Population, PopulationView  # noqa: F401
from .procedural_api import connect, create, record, record_gsyn, record_v  # noqa: F401
from .projections import Projection  # noqa: F401
from .standardmodels import *  # noqa: F401,F403
from .standardmodels import (ACSource, DCSource, NoisyCurrentSource, StaticSynapse,  # noqa: F401
                             StepCurrentSource, TsodyksMarkramSynapse)
from .wholebrain import WholeBrain, rates_to_spikes, seam, spikes_to_rates  # noqa: F401
from .fields import Field, modulate  # noqa: F401
from .controllers import Controller  # noqa: F401  (host-module controllers: neurohybrid.controllers)
from .surrogates import surrogate  # noqa: F401  (trained surrogates of biophysical populations)
from .live import live, realtime, realtime_stats, run_forever, serve, stop  # noqa: F401
# the mean-field scaffold's vocabulary (couplings renamed so they read as such in a PyNN script)
from ..backends.meanfield import (Connectome, EulerDeterministic, EulerStochastic, Generic2dOscillator,  # noqa: F401
                                  HeunDeterministic, HeunStochastic, JansenRit, Kuramoto, MontbrioPazoRoxin,
                                  ReducedWongWang, ReducedWongWangExcInh, SupHopf, WilsonCowan)
from ..backends.meanfield import Difference as DifferenceCoupling  # noqa: F401
from ..backends.meanfield import KuramotoCoupling  # noqa: F401
from ..backends.meanfield import Linear as LinearCoupling  # noqa: F401
from ..backends.meanfield import Sigmoidal as SigmoidalCoupling  # noqa: F401
from ..backends.meanfield import SigmoidalJansenRit as SigmoidalJansenRitCoupling  # noqa: F401


def list_standard_models():
    """Names of the standard cell types this backend runs."""
    return [obj.__name__ for obj in globals().values()
            if isinstance(obj, type) and issubclass(obj, StandardCellType) and obj.__module__.startswith(__name__)]


def __getattr__(name):
    """Biophysical cell types and PyNN's morphology tools, imported on first use (NEURON)."""
    from .multicompartment import LAZY_NAMES, lazy
    if name in LAZY_NAMES:
        value = lazy(name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
