"""The co-simulation kernel: advances components macro-step by macro-step (DESIGN.md, station 6).

Time is an integer tick of the global resolution ``dt`` (ms). Components (engines, converters,
host modules) are connected by typed :class:`Link` s with a delay in whole ticks. The macro-step
``M`` (ticks) is the smallest link delay, so what a component emits in window
``[k·M, (k+1)·M)`` is due at ``t + delay >= (k+1)·M``: no component ever needs another's output
of the same window, and all components can advance a window concurrently.

Loop of :meth:`CoSimulation.run` for each window ``[t0, t1)`` (half-open everywhere)::

    inbox_c   = every message due in [t0, t1) on the links into c   (from the delay lines)
    outbox_c  = c.advance(t1, inbox_c)                               (all c, maybe in threads)
    delay lines <- outbox_c shifted by each outgoing link's delay
    hooks(k, t1 in ms, outboxes)

Messages (one class per kind, all times in ticks; defined in :mod:`neurohybrid.messages`):

* ``"spikes"``: :class:`Spikes` — (tick, index) arrays sorted by tick; an index is the
  source port's neuron index (a target may remap it with ``Link(index_offset=...)``).
* ``"rates"``: :class:`Series` — samples at ``ticks`` of per-node values in Hz, with a stated
  sampling ``period`` (ticks).
* ``"fields"``: :class:`Series` with a ``name`` (e.g. ``"dopamine"``): a named scalar or per-node
  slow variable in its own units.

The kernel never converts between kinds: a rates port feeding a spikes port is refused at
:meth:`~CoSimulation.build` (put a converter from :mod:`neurohybrid.converters` between them).
"""
from __future__ import annotations

import copy
import math
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .errors import CausalityError, DelayError, LinkError, ParameterError, PastTimeError, SimulationStateError
from .messages import KINDS, Port, Series, Spikes, _port  # noqa: F401 (the kernel's vocabulary, re-exported)

__all__ = ["KINDS", "Port", "Spikes", "Series", "Component", "Link", "CoSimulation", "SpikeSource", "Recorder"]


# ------------------------------------------------------------------------------ components
class Component(ABC):
    """Anything the kernel can advance: an engine adapter, a converter, a host module.

    Subclasses set ``inputs``/``outputs`` (port name -> kind string or :class:`Port`) and
    ``step_ticks`` (internal step in ticks; must divide the macro-step), and implement
    :meth:`advance`, :meth:`reset`, :meth:`state`, :meth:`restore`. The kernel calls
    :meth:`bind` once at build time with the global resolution ``dt`` (ms).

    ``advance(t_stop, inbox)`` moves the component from its current tick ``t0`` to ``t_stop``
    (ticks). ``inbox`` maps every input port to one message (:class:`Spikes` or
    :class:`Series`; empty if nothing is due) whose times all lie in ``[t0, t_stop)``. It returns
    a dict output port -> message with times in ``[t0, t_stop)`` (ports may be omitted).
    It must not keep references into the inbox arrays it then mutates.

    If ``record`` is true, components that support it keep their outputs (see :meth:`recorded`).
    """

    inputs: dict = {}
    outputs: dict = {}
    step_ticks: int = 1

    def __init__(self, name: str, record: bool = False):
        if not isinstance(name, str) or not name:
            raise ParameterError(type(self).__name__, "name", f"{name!r}", "a non-empty string")
        self.name = name
        self.record = bool(record)
        self.dt: float | None = None
        self._records: dict[str, list] = {}
        #: callables ``f(component, port, message)`` told of every non-empty output (recording)
        self.listeners: list = []

    def bind(self, dt: float) -> None:
        """Called by the kernel at build time with the global resolution ``dt`` (ms)."""
        self.dt = float(dt)

    def input_ports(self) -> dict[str, Port]:
        return {k: _port(v) for k, v in self.inputs.items()}

    def output_ports(self) -> dict[str, Port]:
        return {k: _port(v) for k, v in self.outputs.items()}

    @abstractmethod
    def advance(self, t_stop: int, inbox: dict) -> dict:
        """Advance to tick ``t_stop`` consuming ``inbox``; return the outbox (see class doc)."""

    @abstractmethod
    def reset(self) -> None:
        """Back to tick 0 and the initial state (parameters kept, recordings cleared)."""

    @abstractmethod
    def state(self) -> dict:
        """A snapshot (deep-copied plain data) that :meth:`restore` accepts."""

    @abstractmethod
    def restore(self, state: dict) -> None:
        """Return to a snapshot taken by :meth:`state`."""

    def history(self, port: str, n_ticks: int):
        """What output ``port`` carried during the ``n_ticks`` ticks before t = 0 (a message with
        times in ``[-n_ticks, 0)``), or None for nothing. The kernel asks once, before the first
        window, for each outgoing link with ``n_ticks`` = the link's delay, so that a consumer
        has input from t = 0 on (e.g. a mean-field model's coupling from its initial history)."""
        return None

    def describe(self) -> dict:
        """JSON-serialisable description for the run manifest."""
        return {"type": type(self).__name__, "name": self.name, "step_ticks": int(self.step_ticks),
                "inputs": {k: p.kind for k, p in self.input_ports().items()},
                "outputs": {k: p.kind for k, p in self.output_ports().items()}}

    # recording helpers -------------------------------------------------------
    def _keep(self, outbox: dict) -> dict:
        if self.record or self.listeners:
            for port, msg in outbox.items():
                if len(msg):
                    if self.record:
                        self._records.setdefault(port, []).append(msg)
                    for listener in self.listeners:
                        listener(self, port, msg)
        return outbox

    def recorded(self, port: str):
        """Everything emitted on ``port`` since the last reset (if ``record``), as one message."""
        parts = self._records.get(port, [])
        kind = self.output_ports()[port].kind
        if kind == "spikes":
            return Spikes.concat(parts)
        if not parts:
            return Series.empty(kind)
        return Series.concat(parts, parts[0])


@dataclass
class Link:
    """A typed connection ``source.source_port -> target.target_port`` of ``kind``.

    ``delay`` is in whole ticks of ``dt`` (int); alternatively give ``delay_ms`` (must be a whole
    number of ticks). ``index_offset`` is added to spike indices on the way (so several sources
    can feed one spikes port with disjoint index ranges).
    """

    kind: str
    source: str
    source_port: str
    target: str
    target_port: str
    delay: int | None = None
    delay_ms: float | None = None
    index_offset: int = 0

    @property
    def label(self) -> str:
        return f"Link({self.source}.{self.source_port} -> {self.target}.{self.target_port})"


class _DelayLine:
    """Messages in flight on one link, already shifted to their arrival ticks, in time order."""

    def __init__(self, link: Link, delay: int):
        self.link, self.delay = link, delay
        self.pending: list = []

    def push(self, msg) -> None:
        if len(msg):
            self.pending.append(msg.shifted(self.delay, self.link.index_offset) if isinstance(msg, Spikes)
                                else msg.shifted(self.delay))

    def pop_before(self, t: int) -> list:
        """Remove and return the parts of pending messages due before tick ``t``."""
        due, keep = [], []
        for msg in self.pending:
            if msg.ticks[0] >= t:
                keep.append(msg)
                continue
            a, b = msg.split(t)
            due.append(a)
            if len(b):
                keep.append(b)
        self.pending = keep
        return due


# ------------------------------------------------------------------------------ kernel
class CoSimulation:
    """Macro-step co-simulation of :class:`Component` s connected by :class:`Link` s.

    Parameters
    ----------
    dt : float
        Global resolution in ms (one tick).
    parallel : bool
        Advance the components of a window concurrently in a thread pool (engines that release
        the GIL overlap). Results do not depend on it.
    macro_step : int or None
        Macro-step in ticks; default (None) the smallest link delay. A smaller value is allowed
        (more, shorter windows; same results), a larger one is a :class:`CausalityError`.
    """

    def __init__(self, dt: float = 0.1, parallel: bool = False, macro_step: int | None = None):
        if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
            raise ParameterError("CoSimulation", "dt", f"{dt!r}", "a finite resolution > 0 in ms")
        self.dt = float(dt)
        self.parallel = bool(parallel)
        self._macro_override = macro_step
        self.components: dict[str, Component] = {}
        self.links: list[Link] = []
        self._hooks: list = []
        self._built = False
        self._primed = False
        self._pool: ThreadPoolExecutor | None = None
        self.tick = 0
        self.M: int | None = None

    # construction ------------------------------------------------------------
    def add(self, component: Component) -> Component:
        """Add a component (names are unique); returns it."""
        if not isinstance(component, Component):
            raise ParameterError("CoSimulation", "component", f"got {type(component).__name__}",
                                 "a neurohybrid.kernel.Component")
        if component.name in self.components:
            raise ParameterError("CoSimulation", "component", f"two components named {component.name!r}",
                                 "unique names")
        self.components[component.name] = component
        self._built = False
        return component

    def connect(self, source: str, source_port: str, target: str, target_port: str, *, kind: str | None = None,
                delay: int | None = None, delay_ms: float | None = None, index_offset: int = 0) -> Link:
        """Add a :class:`Link` (``kind`` defaults to the source port's kind); checked at build."""
        if kind is None:
            comp = self.components.get(source)
            port = comp.output_ports().get(source_port) if comp is not None else None
            kind = port.kind if port is not None else "spikes"
        link = Link(kind, source, source_port, target, target_port, delay, delay_ms, int(index_offset))
        self.links.append(link)
        self._built = False
        return link

    def on_macro_step(self, callback) -> None:
        """Call ``callback(k, t_ms, outboxes)`` after each window (``k`` macro-step index, ``t_ms``
        end of the window in ms, ``outboxes`` dict component -> outbox). Pacing, live I/O and
        checkpoints hook in here. A window cut short by ``run``'s ``t_stop`` is reported once per
        piece, with the same ``k``."""
        self._hooks.append(callback)

    def _link_delay(self, link: Link) -> int:
        if link.delay is not None and link.delay_ms is not None:
            raise DelayError(link.label, "delay", "both delay (ticks) and delay_ms given", "one of them")
        if link.delay is not None:
            d = link.delay
            if isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)):
                if isinstance(d, (float, np.floating)) and float(d).is_integer():
                    d = int(d)
                else:
                    raise DelayError(link.label, "delay", f"{d!r} ticks is not a whole number of ticks",
                                     "a positive integer number of ticks")
            return int(d)
        if link.delay_ms is not None:
            n = int(round(link.delay_ms / self.dt))
            if abs(n * self.dt - link.delay_ms) > 1e-9 * max(1.0, abs(link.delay_ms)):
                raise DelayError(link.label, "delay_ms", f"{link.delay_ms!r} ms is not a whole number of "
                                 f"ticks of dt={self.dt} ms", f"a multiple of {self.dt} ms")
            return n
        raise DelayError(link.label, "delay", "no delay given", "delay (ticks) or delay_ms >= one macro-step")

    def build(self) -> None:
        """Check the links and components and set the macro-step ``M`` (ticks); see the module doc."""
        if not self.components:
            raise SimulationStateError("CoSimulation", "components", "nothing to simulate", "at least one component")
        lines, delays, fed = [], [], {}
        for link in self.links:
            if link.kind not in KINDS:
                raise LinkError(link.label, "kind", f"{link.kind!r}", ", ".join(KINDS))
            for role, cname, pname, ports in (("source", link.source, link.source_port, "output_ports"),
                                               ("target", link.target, link.target_port, "input_ports")):
                comp = self.components.get(cname)
                if comp is None:
                    raise LinkError(link.label, role, f"no component named {cname!r}",
                                    ", ".join(sorted(self.components)))
                port = getattr(comp, ports)().get(pname)
                if port is None:
                    raise LinkError(link.label, f"{role}_port", f"{cname} has no {ports[:-6]} port {pname!r}",
                                    ", ".join(sorted(getattr(comp, ports)())) or "none")
                if port.kind != link.kind:
                    raise LinkError(link.label, "kind", f"{cname}.{pname} is a {port.kind!r} port, the link "
                                    f"carries {link.kind!r} (the kernel never converts implicitly)",
                                    f"a {link.kind!r} port, or a converter from neurohybrid.converters in between")
            src = self.components[link.source].output_ports()[link.source_port]
            dst = self.components[link.target].input_ports()[link.target_port]
            if link.kind == "fields" and src.field and dst.field and src.field != dst.field:
                raise LinkError(link.label, "field", f"source carries field {src.field!r}, target expects "
                                f"{dst.field!r}", repr(dst.field))
            key = (link.target, link.target_port)
            if link.kind != "spikes" and key in fed:
                raise LinkError(link.label, "target_port", f"{link.kind} port already fed by {fed[key].label}",
                                "one link per rates/fields input port (spikes ports merge several)")
            fed[key] = link
            d = self._link_delay(link)
            if d < 1:
                raise CausalityError(link.label, "delay", f"{d} ticks", "a delay of at least one tick")
            delays.append(d)
            lines.append(_DelayLine(link, d))
        M = min(delays) if delays else None
        if self._macro_override is not None:
            m = self._macro_override
            if not isinstance(m, (int, np.integer)) or m < 1:
                raise ParameterError("CoSimulation", "macro_step", f"{m!r}", "a positive integer number of ticks")
            if M is not None and m > M:
                bad = lines[int(np.argmin(delays))].link
                raise CausalityError(bad.label, "delay", f"{M} ticks is shorter than the macro-step of {m} ticks "
                                     "(a message would be due inside the window that produced it)",
                                     f"delays >= {m} ticks, or macro_step <= {M}")
            M = int(m)
        if M is None:
            M = int(np.lcm.reduce([max(1, int(c.step_ticks)) for c in self.components.values()]))
        for line in lines:  # an explicit macro_step is checked above; keep the general guard
            if line.delay < M:
                raise CausalityError(line.link.label, "delay", f"{line.delay} ticks < macro-step {M} ticks",
                                     f">= {M} ticks")
        for comp in self.components.values():
            s = comp.step_ticks
            if not isinstance(s, (int, np.integer)) or s < 1 or M % s:
                raise ParameterError(comp.name, "step_ticks", f"internal step {s!r} ticks does not divide the "
                                     f"macro-step of {M} ticks", f"a positive divisor of {M}")
            comp.bind(self.dt)
        self.M = M
        self._lines = lines
        self._in_lines: dict[str, dict[str, list[_DelayLine]]] = {n: {} for n in self.components}
        self._out_lines: dict[str, dict[str, list[_DelayLine]]] = {n: {} for n in self.components}
        for line in lines:
            self._in_lines[line.link.target].setdefault(line.link.target_port, []).append(line)
            self._out_lines[line.link.source].setdefault(line.link.source_port, []).append(line)
        self._built = True

    # running -----------------------------------------------------------------
    def _inbox(self, name: str, t1: int) -> dict:
        comp = self.components[name]
        inbox = {}
        for pname, port in comp.input_ports().items():
            parts = []
            for line in self._in_lines[name].get(pname, []):
                parts.extend(line.pop_before(t1))
            if port.kind == "spikes":
                inbox[pname] = Spikes.concat(parts)
            elif parts:
                inbox[pname] = Series.concat(parts, parts[0])
            else:
                inbox[pname] = Series.empty(port.kind, name=port.field)
        return inbox

    def _check_outbox(self, name: str, outbox, t0: int, t1: int) -> dict:
        if outbox is None:
            return {}
        ports = self.components[name].output_ports()
        for pname, msg in outbox.items():
            port = ports.get(pname)
            if port is None:
                raise LinkError(name, "outbox", f"message on unknown output port {pname!r}", ", ".join(ports))
            ok = isinstance(msg, Spikes) if port.kind == "spikes" else (isinstance(msg, Series) and msg.kind == port.kind)
            if not ok:
                raise LinkError(name, pname, f"emitted {type(msg).__name__} on a {port.kind!r} port",
                                "Spikes on spikes ports, Series of the port's kind otherwise")
            if port.kind != "spikes":
                if msg.values.ndim != 2 or msg.values.shape[0] != msg.ticks.size:
                    raise ParameterError(name, pname, f"values of shape {msg.values.shape} for {msg.ticks.size} "
                                         "sample ticks", "values of shape (n_samples, n_nodes)")
                if port.field and msg.name != port.field:
                    raise LinkError(name, pname, f"emitted field {msg.name!r} on a port declared for "
                                    f"{port.field!r}", repr(port.field))
            elif msg.index.shape != msg.ticks.shape:
                raise ParameterError(name, pname, f"{msg.index.size} indices for {msg.ticks.size} ticks",
                                     "as many indices as ticks")
            if len(msg) > 1 and np.any(msg.ticks[1:] < msg.ticks[:-1]):
                raise ParameterError(name, pname, "message times not sorted", "ticks in non-decreasing order")
            if len(msg) and (msg.ticks[0] < t0 or msg.ticks[-1] >= t1):
                raise CausalityError(name, pname, f"emitted at ticks [{msg.ticks[0]}, {msg.ticks[-1]}] outside "
                                     f"the window [{t0}, {t1})", "times inside the window being advanced")
        return outbox

    def run(self, t_stop_ms: float) -> None:
        """Advance every component to ``t_stop_ms`` (ms; a whole number of ticks)."""
        n = int(round(t_stop_ms / self.dt))
        if abs(n * self.dt - t_stop_ms) > 1e-9 * max(1.0, abs(t_stop_ms)):
            raise ParameterError("CoSimulation.run", "t_stop", f"{t_stop_ms!r} ms is not a whole number of ticks",
                                 f"a multiple of dt={self.dt} ms")
        self.run_ticks(n)

    def run_ticks(self, t_stop: int) -> None:
        """Advance every component to tick ``t_stop``, window by window (see the module doc)."""
        if not self._built:
            self.build()
        t_stop = int(t_stop)
        if t_stop < self.tick:
            raise PastTimeError("CoSimulation", "t_stop", f"tick {t_stop} is before the current tick {self.tick}",
                                f">= {self.tick}")
        for comp in self.components.values():
            if t_stop % comp.step_ticks:
                raise ParameterError(comp.name, "step_ticks", f"cannot stop at tick {t_stop}: not a multiple of its "
                                     f"step of {comp.step_ticks} ticks", f"a multiple of {comp.step_ticks}")
        if self.parallel and self._pool is None and len(self.components) > 1:
            self._pool = ThreadPoolExecutor(max_workers=len(self.components), thread_name_prefix="neurohybrid-kernel")
        M = self.M
        names = list(self.components)
        if self.tick == 0 and not self._primed:
            self._prime()
        while self.tick < t_stop:
            t0 = self.tick
            k = t0 // M
            t1 = min((k + 1) * M, t_stop)
            inboxes = {n: self._inbox(n, t1) for n in names}
            if self._pool is not None and self.parallel:
                futures = {n: self._pool.submit(self.components[n].advance, t1, inboxes[n]) for n in names}
                outs = {n: futures[n].result() for n in names}
            else:
                outs = {n: self.components[n].advance(t1, inboxes[n]) for n in names}
            # deliver in component and port order, so delay-line contents do not depend on threads
            for n in names:
                out = self._check_outbox(n, outs[n], t0, t1)
                outs[n] = out
                for pname, msg in out.items():
                    for line in self._out_lines[n].get(pname, []):
                        line.push(msg)
            self.tick = t1
            for hook in self._hooks:
                hook(k, t1 * self.dt, outs)

    def _prime(self) -> None:
        """Fill the delay lines with what each link carried before t = 0 (Component.history)."""
        for line in self._lines:
            link = line.link
            msg = self.components[link.source].history(link.source_port, line.delay)
            if msg is None or not len(msg):
                continue
            if msg.ticks[0] < -line.delay or msg.ticks[-1] >= 0:
                raise CausalityError(link.source, link.source_port, f"history at ticks [{msg.ticks[0]}, "
                                     f"{msg.ticks[-1]}]", f"times in [-{line.delay}, 0)")
            line.push(msg)
        self._primed = True

    @property
    def t(self) -> float:
        """Current time in ms."""
        return self.tick * self.dt

    # state -------------------------------------------------------------------
    def reset(self) -> None:
        """Back to tick 0: components reset, delay lines emptied."""
        for comp in self.components.values():
            comp.reset()
        if self._built:
            for line in self._lines:
                line.pending = []
        self.tick = 0
        self._primed = False

    def state(self) -> dict:
        """Snapshot of the whole co-simulation: tick, every component's state and the delay lines."""
        if not self._built:
            self.build()
        return {"tick": self.tick, "components": {n: c.state() for n, c in self.components.items()},
                "delay_lines": [copy.deepcopy(line.pending) for line in self._lines], "primed": self._primed}

    def restore(self, state: dict) -> None:
        """Return to a snapshot from :meth:`state` (same components and links); when a component
        refuses its part, every component is left as it was."""
        if not self._built:
            self.build()
        if len(state["delay_lines"]) != len(self._lines) or set(state["components"]) != set(self.components):
            raise ParameterError("CoSimulation", "state", "snapshot of a different set of components/links",
                                 "a state() of this co-simulation")
        saved = {n: c.state() for n, c in self.components.items()}
        try:
            for n, c in self.components.items():
                c.restore(state["components"][n])
        except BaseException:  # a component refused its part: the ones already restored go back
            for n, c in self.components.items():
                c.restore(saved[n])
            raise
        for line, pending in zip(self._lines, state["delay_lines"]):
            line.pending = copy.deepcopy(pending)
        self.tick = int(state["tick"])
        self._primed = bool(state.get("primed", True))

    def describe(self) -> dict:
        """JSON-serialisable description for the run manifest."""
        if not self._built:
            self.build()
        return {"dt_ms": self.dt, "macro_step_ticks": self.M, "macro_step_ms": self.M * self.dt,
                "parallel": self.parallel,
                "components": {n: c.describe() for n, c in self.components.items()},
                "links": [{"kind": l.link.kind, "source": l.link.source, "source_port": l.link.source_port,
                           "target": l.link.target, "target_port": l.link.target_port, "delay_ticks": l.delay,
                           "index_offset": l.link.index_offset} for l in self._lines]}

    def close(self) -> None:
        """Stop the thread pool (components are not closed: they belong to the caller)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ------------------------------------------------------------------------------ simple components
class SpikeSource(Component):
    """Emits fixed spikes (``ticks``, ``index``; global ticks) on output port ``"spikes"``."""

    outputs = {"spikes": "spikes"}

    def __init__(self, name: str, ticks, index, record: bool = False):
        super().__init__(name, record)
        self.spikes = Spikes.make(ticks, index)
        self.tick = 0

    def advance(self, t_stop, inbox):
        a = int(np.searchsorted(self.spikes.ticks, self.tick, side="left"))
        b = int(np.searchsorted(self.spikes.ticks, t_stop, side="left"))
        self.tick = t_stop
        return self._keep({"spikes": Spikes(self.spikes.ticks[a:b], self.spikes.index[a:b])})

    def reset(self):
        self.tick, self._records = 0, {}

    def state(self):
        return {"tick": self.tick}

    def restore(self, state):
        self.tick = state["tick"]

    def describe(self):
        return {**super().describe(), "n_spikes": len(self.spikes)}


class Recorder(Component):
    """Keeps everything it receives on its input ports (``ports``: name -> kind or Port).
    ``received(port)`` returns it as one message. ``step_ticks`` can be set to test step checks."""

    def __init__(self, name: str, ports: dict | None = None, step_ticks: int = 1):
        super().__init__(name)
        self.inputs = dict(ports or {"spikes": "spikes"})
        self.step_ticks = step_ticks
        self.tick = 0
        self._got: dict[str, list] = {p: [] for p in self.inputs}
        self.windows: list[tuple[int, int]] = []

    def advance(self, t_stop, inbox):
        for p, msg in inbox.items():
            if len(msg):
                if msg.ticks[0] < self.tick or msg.ticks[-1] >= t_stop:  # the kernel's window contract
                    raise AssertionError(f"{self.name}: inbox outside [{self.tick}, {t_stop})")
                self._got[p].append(msg)
        self.windows.append((self.tick, t_stop))
        self.tick = t_stop
        return {}

    def received(self, port: str | None = None):
        port = port or next(iter(self.inputs))
        parts = self._got[port]
        if _port(self.inputs[port]).kind == "spikes":
            return Spikes.concat(parts)
        return Series.concat(parts, parts[0]) if parts else Series.empty(_port(self.inputs[port]).kind)

    def reset(self):
        self.tick, self.windows = 0, []
        self._got = {p: [] for p in self.inputs}

    def state(self):
        return {"tick": self.tick, "got": copy.deepcopy(self._got), "windows": list(self.windows)}

    def restore(self, state):
        self.tick, self._got, self.windows = state["tick"], copy.deepcopy(state["got"]), list(state["windows"])
