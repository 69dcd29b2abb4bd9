"""Typed errors raised by neurohybrid.

Every error names the object and the parameter at fault and says what would be accepted.
They subclass PyNN's own error types where one exists, so PyNN scripts that catch
``pyNN.errors.*`` keep working, and ``ValueError``/``TypeError`` where that is the
natural Python category.
"""
from __future__ import annotations

from pyNN import errors as pynn_errors


class NeurohybridError(Exception):
    """Base class of every error neurohybrid raises on purpose."""


def _describe(obj: object, parameter: str | None, problem: str, accepted: str | None) -> str:
    where = f"{obj}" + (f".{parameter}" if parameter else "")
    message = f"{where}: {problem}"
    if accepted:
        message += f" (accepted: {accepted})"
    return message


class ParameterError(NeurohybridError, pynn_errors.InvalidParameterValueError, ValueError):
    """A parameter value is invalid (wrong range, NaN/inf, wrong shape or units)."""

    def __init__(self, obj: object, parameter: str | None, problem: str, accepted: str | None = None):
        self.obj, self.parameter = obj, parameter
        super().__init__(_describe(obj, parameter, problem, accepted))


class UnknownParameterError(NeurohybridError, pynn_errors.NonExistentParameterError, KeyError):
    """A parameter name that the object does not have."""

    def __init__(self, obj: object, parameter: str, accepted: list[str] | tuple[str, ...]):
        self.obj, self.parameter = obj, parameter
        self.args = (_describe(obj, parameter, "no such parameter", ", ".join(sorted(accepted))),)

    def __str__(self) -> str:
        return self.args[0]


class DelayError(ParameterError):
    """A synaptic or bridge delay that is non-positive, off the time grid, or out of range."""


class ProjectionError(NeurohybridError, pynn_errors.ConnectionError):
    """A projection that cannot be built (e.g. populations belonging to different simulators)."""

    def __init__(self, obj: object, parameter: str | None, problem: str, accepted: str | None = None):
        Exception.__init__(self, _describe(obj, parameter, problem, accepted))

    def __str__(self) -> str:
        return self.args[0]


class RecordingError(NeurohybridError, pynn_errors.RecordingError):
    """A variable that the cell type cannot record, or an output that cannot be written."""

    def __init__(self, obj: object, parameter: str | None, problem: str, accepted: str | None = None):
        Exception.__init__(self, _describe(obj, parameter, problem, accepted))
        self.obj, self.parameter = obj, parameter

    def __str__(self) -> str:
        return self.args[0]


class SimulationStateError(NeurohybridError, RuntimeError):
    """A call that the simulator's current state does not allow (run after end(), time going backwards)."""

    def __init__(self, obj: object, parameter: str | None, problem: str, accepted: str | None = None):
        super().__init__(_describe(obj, parameter, problem, accepted))


class PastTimeError(SimulationStateError, ValueError):
    """A time in the past was given where a future time is needed (e.g. run_until)."""


class UnsupportedModelError(NeurohybridError, pynn_errors.NoModelAvailableError, NotImplementedError):
    """A model (cell type, synapse type, feature) that the selected engine cannot run faithfully."""

    def __init__(self, obj: object, parameter: str | None, problem: str, accepted: str | None = None):
        Exception.__init__(self, _describe(obj, parameter, problem, accepted))

    def __str__(self) -> str:
        return self.args[0]


class BundleError(NeurohybridError, ValueError):
    """A deployable Loihi bundle (HDF5) that cannot be read back: missing, truncated, corrupted
    (checksum mismatch), of another format or of a newer format version. Names the file."""

    def __init__(self, path: object, problem: str, accepted: str | None = None):
        self.path = path
        super().__init__(_describe(f"bundle {str(path)!r}", None, problem, accepted))


class LavaUnavailableWarning(UserWarning):
    """``backend="lava"`` was asked for but Lava cannot be used here; the fixed-point emulator
    (bit-exact with Lava's ``fixed_pt`` models) runs instead. The message gives the reason."""


class DelayRoundingWarning(UserWarning):
    """Synaptic delays of a projection were off the dt grid and were rounded to the nearest
    grid point (as NEST and pyNN.nest do); the message names the projection and how many. The
    count per projection is in the run manifest (``model.edges[*].rule.rounded_delays``).
    ``sim.setup(delay_rounding="refuse")`` makes such delays a :class:`DelayError` instead."""


class PlacementError(NeurohybridError):
    """A circuit that does not fit the target hardware (Loihi placement): names the limit that is
    exceeded, by how much, and how many chips would be needed (None: no number of chips helps)."""

    def __init__(self, obj: object, parameter: str | None, problem: str, accepted: str | None = None, *,
                 limit: str | None = None, required: float | None = None, available: float | None = None,
                 chips_needed: int | None = None):
        Exception.__init__(self, _describe(obj, parameter, problem, accepted))
        self.obj, self.parameter = obj, parameter
        self.limit, self.required, self.available, self.chips_needed = limit, required, available, chips_needed

    def __str__(self) -> str:
        return self.args[0]


class CausalityError(DelayError):
    """A co-simulation link whose delay is shorter than one macro-step (a message would be due
    inside the window that produced it, so engines could not run a window concurrently), or a
    message emitted outside the window being advanced. Names the link and the delay."""


class LinkError(NeurohybridError, ValueError):
    """A co-simulation link that cannot be made: unknown component or port, or port kinds that do
    not match (the kernel never converts implicitly: put a converter between them)."""

    def __init__(self, obj: object, parameter: str | None, problem: str, accepted: str | None = None):
        self.obj, self.parameter = obj, parameter
        super().__init__(_describe(obj, parameter, problem, accepted))


class SurrogateFileError(NeurohybridError, ValueError):
    """A surrogate file that cannot be used: missing, truncated, not a surrogate, or of another
    format version (``neurohybrid.surrogate.artefact``)."""

    def __init__(self, obj: object, parameter: str | None, problem: str, accepted: str | None = None):
        self.obj, self.parameter = obj, parameter
        super().__init__(_describe(obj, parameter, problem, accepted))
