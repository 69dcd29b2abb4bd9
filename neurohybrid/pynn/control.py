"""setup / end / run / reset and the state queries of the neurohybrid PyNN backend."""
from __future__ import annotations

import numpy as np
from pyNN import common
from pyNN.common.control import DEFAULT_MAX_DELAY, DEFAULT_MIN_DELAY, DEFAULT_TIMESTEP
from pyNN.recording import get_io

from ..errors import ParameterError
from . import simulator
from .session import SessionRuntime

DEFAULT_SEED = 12345
#: accepted values of setup(delay_rounding=...) -> the rule (``"strict"`` is the old name of "refuse")
DELAY_ROUNDING = {"nearest": "nearest", "refuse": "refuse", "strict": "refuse"}


def setup(timestep=DEFAULT_TIMESTEP, min_delay=DEFAULT_MIN_DELAY, **extra_params):
    """Start a new simulation session.

    Besides PyNN's ``timestep``, ``min_delay`` and ``max_delay`` (ms), neurohybrid accepts:
    ``seed`` (int, global seed of every random stream; default 12345), ``backend``
    ("emulator" or "lava"), ``numerics`` ("float" or "fixed" on the emulator; default "float",
    and "fixed" for "lava", which falls back to the fixed-point emulator with one
    LavaUnavailableWarning where Lava cannot run), ``loihi_approximations`` (names of
    approximations the Loihi quantiser may make), ``threads`` (int, default: all cores),
    ``recording_path`` (HDF5 file the run streams into; default a temporary file),
    ``neuron_dt`` (NEURON's own step for biophysical cells, ms; default min(0.025, timestep); it
    must divide ``timestep``), ``neuron_celsius`` (NEURON's temperature, default 6.3) and
    ``delay_rounding``: "nearest" (default; as NEST, a delay off the dt grid is rounded to the
    nearest grid point, with one DelayRoundingWarning per projection and the count in the run
    manifest) or "refuse" (such a delay is a DelayError; "strict" is an alias).
    """
    max_delay = extra_params.get("max_delay", DEFAULT_MAX_DELAY)
    for name, value in (("timestep", timestep), ("min_delay", min_delay), ("max_delay", max_delay)):
        if value != "auto" and (not isinstance(value, (int, float)) or not value > 0 or value != value
                                or value == float("inf")):
            raise ParameterError("setup", name, f"{value!r} is not a positive finite time", "a time in ms > 0")
    common.setup(timestep, min_delay, **extra_params)
    state = simulator.state
    state.clear()
    state.ended = False
    state.dt = float(timestep)
    state.min_delay = min_delay if min_delay == "auto" else float(min_delay)
    state.max_delay = max_delay if max_delay == "auto" else float(max_delay)
    for name, value in (("min_delay", state.min_delay), ("max_delay", state.max_delay)):
        if value != "auto":
            state.ms_to_ticks(value, "setup", name)
    seed = extra_params.get("seed", DEFAULT_SEED)
    if not isinstance(seed, int) or seed < 0:
        raise ParameterError("setup", "seed", f"{seed!r}", "a non-negative integer")
    state.seed = seed
    rounding = extra_params.get("delay_rounding", "nearest")
    if rounding not in DELAY_ROUNDING:
        raise ParameterError("setup", "delay_rounding", f"{rounding!r}", "'nearest' or 'refuse'")
    state.delay_rounding = DELAY_ROUNDING[rounding]
    neuron_dt = extra_params.get("neuron_dt", min(0.025, float(timestep)))
    if not (isinstance(neuron_dt, (int, float)) and 0 < neuron_dt < float("inf")):
        raise ParameterError("setup", "neuron_dt", f"{neuron_dt!r}", "a positive NEURON time step in ms")
    state.neuron_dt = float(neuron_dt)
    celsius = extra_params.get("neuron_celsius", 6.3)
    if not (isinstance(celsius, (int, float)) and abs(celsius) < float("inf")):
        raise ParameterError("setup", "neuron_celsius", f"{celsius!r}", "a temperature in degrees Celsius")
    state.neuron_celsius = float(celsius)
    state.network = SessionRuntime(state, backend=extra_params.get("backend", "emulator"),
                            numerics=extra_params.get("numerics"),
                            path=extra_params.get("recording_path"), threads=extra_params.get("threads"),
                            approximations=extra_params.get("loihi_approximations", ()))
    return rank()


def end(compatible_output=True):
    """Write data requested with ``record(..., to_file)``, close the run store, end the session."""
    state = simulator.state
    if state.ended:
        return
    for population, variables, filename in state.write_on_end:
        population.write_data(get_io(filename), variables)
    state.write_on_end = []
    if state.network is not None:
        state.network.close()
    state.ended = True


_common_run, _common_run_until = common.build_run(simulator)


def run_until(time_point, callbacks=None):
    """Advance the simulation until ``time_point`` (ms); see PyNN's run_until."""
    state = simulator.state
    state._check_usable("run")
    if time_point - state.t < -state.dt / 2.0:
        state.run_until(time_point)  # raises PastTimeError, naming the parameter
    return _common_run_until(time_point, callbacks)


def run(simtime, callbacks=None):
    """Advance the simulation by ``simtime`` ms; see PyNN's run."""
    if not simtime >= 0:
        from ..errors import ParameterError
        raise ParameterError("run", "simtime", f"{simtime!r} ms", "a duration >= 0 ms")
    return run_until(simulator.state.t + simtime, callbacks)


run_for = run
_common_reset = common.build_reset(simulator)


def reset(annotations=None):
    """Back to t = 0 with the initial state; recorded data so far becomes a finished segment."""
    simulator.state._check_usable("reset")
    _common_reset(annotations or {})


initialize = common.initialize

get_current_time, get_time_step, _get_min_delay, _get_max_delay, num_processes, rank = \
    common.build_state_queries(simulator)


def _delays():
    delays = [prj._values["delay"] for prj in simulator.state.projections if len(prj)]
    return np.concatenate(delays) if delays else np.zeros(0)


def get_min_delay():
    """The minimum synaptic delay (ms): the value given to setup(), or with 'auto' the smallest
    delay in the network (dt when there is none)."""
    value = _get_min_delay()
    if value != "auto":
        return value
    delays = _delays()
    return float(delays.min()) if delays.size else simulator.state.dt


def get_max_delay():
    """The maximum synaptic delay (ms): the value given to setup(), or with 'auto' the largest
    delay in the network (dt when there is none)."""
    value = _get_max_delay()
    if value != "auto":
        return value
    delays = _delays()
    return float(delays.max()) if delays.size else simulator.state.dt


def placement(show: bool = True) -> dict:
    """What runs where and why, for every population of the session: ``{label: {"engine",
    "reason", "model", "kind", "copies"}}`` (``copies``: other engines that run a copy of a
    spike source). With ``show`` it is also printed, one line per population and one per bridge
    between engines (its delay in ticks), e.g.
    ``TC (Izhikevich, point) -> emulator: Izhikevich has no Loihi mapping -> float emulator on the host``.
    """
    state = simulator.state
    state._check_usable("placement")
    rows = state.network.placement()
    if show:  # one line per population, then the bridges between engines
        print(state.network.partition.report())
    return rows
