"""The messages the co-simulation kernel (:mod:`neurohybrid.kernel`) carries between
components, one class per kind, all times in integer ticks of the kernel's ``dt``, and the
typed :class:`Port` components declare.

* ``"spikes"``: :class:`Spikes` — (tick, index) arrays sorted by tick; an index is the
  source port's neuron index (a target may remap it with ``Link(index_offset=...)``).
* ``"rates"``: :class:`Series` — samples at ``ticks`` of per-node values in Hz, with a stated
  sampling ``period`` (ticks).
* ``"fields"``: :class:`Series` with a ``name`` (e.g. ``"dopamine"``): a named scalar or per-node
  slow variable in its own units.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ParameterError

__all__ = ["KINDS", "Port", "Spikes", "Series"]

#: The three kinds of data exchanged between components.
KINDS = ("spikes", "rates", "fields")

_EMPTY_I = np.zeros(0, dtype=np.int64)


# ------------------------------------------------------------------------------ messages
@dataclass(frozen=True)
class Spikes:
    """Spikes as parallel int64 arrays ``ticks`` (global ticks of ``dt``) and ``index`` (neuron
    index on the emitting port), sorted by tick (stable: equal ticks keep their order)."""

    ticks: np.ndarray
    index: np.ndarray

    kind = "spikes"

    @staticmethod
    def empty() -> "Spikes":
        """No spikes."""
        return Spikes(_EMPTY_I, _EMPTY_I)

    @staticmethod
    def make(ticks, index) -> "Spikes":
        """Spikes from any integer sequences; sorts them by tick (stable)."""
        t = np.asarray(ticks, dtype=np.int64).ravel()
        i = np.asarray(index, dtype=np.int64).ravel()
        if t.shape != i.shape:
            raise ParameterError("Spikes", "index", f"{i.size} indices for {t.size} ticks", "as many indices as ticks")
        if t.size > 1 and np.any(t[1:] < t[:-1]):
            order = np.argsort(t, kind="stable")
            t, i = t[order], i[order]
        return Spikes(t, i)

    def __len__(self) -> int:
        return int(self.ticks.size)

    def shifted(self, delay: int, offset: int = 0) -> "Spikes":
        """The same spikes ``delay`` ticks later, indices moved by ``offset``."""
        return Spikes(self.ticks + delay, self.index + offset if offset else self.index)

    def split(self, t: int) -> tuple["Spikes", "Spikes"]:
        """(spikes with tick < t, spikes with tick >= t)."""
        j = int(np.searchsorted(self.ticks, t, side="left"))
        return Spikes(self.ticks[:j], self.index[:j]), Spikes(self.ticks[j:], self.index[j:])

    @staticmethod
    def concat(parts: list["Spikes"]) -> "Spikes":
        """Merge spike sets into one, sorted by tick; equal ticks keep the order of ``parts``."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return Spikes.empty()
        if len(parts) == 1:
            return parts[0]
        t = np.concatenate([p.ticks for p in parts])
        i = np.concatenate([p.index for p in parts])
        order = np.argsort(t, kind="stable")
        return Spikes(t[order], i[order])


@dataclass(frozen=True)
class Series:
    """Sampled values: ``values[s]`` (shape (n_samples, n_nodes)) holds at tick ``ticks[s]``.

    For ``kind="rates"`` the values are in Hz; for ``kind="fields"`` they are the field's own
    units and ``name`` is the field's name. ``period`` (ticks) is the stated sampling period;
    consumers hold the last sample until the next one (zero-order hold).
    """

    ticks: np.ndarray
    values: np.ndarray
    period: int
    kind: str = "rates"
    name: str | None = None

    @staticmethod
    def empty(kind: str = "rates", period: int = 1, name: str | None = None, n: int = 0) -> "Series":
        """No samples (``n`` columns)."""
        return Series(_EMPTY_I, np.zeros((0, n)), int(period), kind, name)

    def __len__(self) -> int:
        return int(self.ticks.size)

    def shifted(self, delay: int) -> "Series":
        """The same samples ``delay`` ticks later."""
        return Series(self.ticks + delay, self.values, self.period, self.kind, self.name)

    def split(self, t: int) -> tuple["Series", "Series"]:
        """(samples at tick < t, samples at tick >= t)."""
        j = int(np.searchsorted(self.ticks, t, side="left"))
        return (Series(self.ticks[:j], self.values[:j], self.period, self.kind, self.name),
                Series(self.ticks[j:], self.values[j:], self.period, self.kind, self.name))

    @staticmethod
    def concat(parts: list["Series"], like: "Series") -> "Series":
        """Concatenate samples in time order (parts are already in time order)."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return Series.empty(like.kind, like.period, like.name, like.values.shape[1] if like.values.ndim == 2 else 0)
        if len(parts) == 1:
            return parts[0]
        return Series(np.concatenate([p.ticks for p in parts]), np.concatenate([p.values for p in parts]),
                      like.period, like.kind, like.name)


@dataclass(frozen=True)
class Port:
    """A typed port: ``kind`` in :data:`KINDS`. For fields, ``field`` names the field the port
    carries/expects (None: any) and, on an input, ``modulates`` declares what the receiver does
    with it (``"gain"``, ``"threshold"``, ``"current"``, ``"plasticity"``, ...; free text)."""

    kind: str
    field: str | None = None
    modulates: str | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ParameterError("Port", "kind", f"{self.kind!r}", ", ".join(KINDS))


def _port(spec) -> Port:
    return spec if isinstance(spec, Port) else Port(str(spec))
