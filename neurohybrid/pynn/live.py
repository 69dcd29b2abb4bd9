"""Real-time and closed-loop sessions: ``sim.realtime``, ``sim.live``, ``sim.serve``,
``sim.run_forever``, ``sim.stop``.

::

    sim.setup(timestep=0.1)
    sensors = sim.Population(50, sim.SpikeSourceExternal(), label="sensors")
    motor = sim.Population(20, sim.IF_curr_exp(), label="motor")
    ...
    def experiment(t_ms, inputs):                 # once per period, in the kernel's loop
        n = len(inputs["motor"])                  # motor spikes of the last period (kernel Spikes)
        return {"sensors": np.arange(n % 50)}     # sensor neurons spiking at the next period
    sim.live(experiment, read={"motor": motor}, write={"sensors": sensors}, period=1.0)
    sim.realtime(1.0)                             # pace to the wall clock (1 ms per ms)
    sim.run(5000.0)                               # or sim.run_forever() until sim.stop() / Ctrl-C
    print(sim.realtime_stats())

``sim.serve(read=..., write=..., port=5005)`` does the same over the UDP protocol of
:mod:`neurohybrid.liveio`, for an external program using :class:`neurohybrid.liveio.LiveClient`;
its ``address`` is known as soon as it is created. What a live link reads arrives one
``period`` after it was emitted, and what it writes acts one ``period`` after it was returned
(kernel links; see :mod:`neurohybrid.liveio`). Populations written to must be
``SpikeSourceExternal`` populations, or sensory encoders built with ``stimulus=None`` (live
encoders): the link then sends stimulus samples (one frame per message, flattened, in the
encoder's units; a callback returns ``{port: frame}``, a client sends ``fields={port: frame}``),
the encoder turns them into spikes window by window (:class:`neurohybrid.encoders.EncoderComponent`)
and its spikes reach the network one ``period`` after the sample. The session's co-simulation (as for WholeBrain or NEURON
cells) carries the loop; recordings keep streaming to HDF5 and a stopped run can be continued.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ParameterError, PlacementError, SimulationStateError
from .simulator import state

__all__ = ["realtime", "live", "serve", "run_forever", "stop", "realtime_stats"]


@dataclass
class LiveLink:
    """A live component of the session (made by :func:`live` or :func:`serve`)."""

    component: object
    read: dict
    write: dict
    period: float
    #: {write port: EncoderComponent} live encoders the link feeds stimulus samples to
    encoders: dict = None

    @property
    def address(self):
        """(host, port) of a :func:`serve` link."""
        return getattr(self.component, "address", None)

    def report(self) -> dict:
        """Counters and round-trip figures of the link (see neurohybrid.liveio)."""
        return self.component.report()


def _ports(read, write, who):
    from .populations import Population
    from .standardmodels import NEURON_TYPES
    read, write = dict(read or {}), dict(write or {})
    for name, pop in read.items():
        if not isinstance(pop, Population) or type(pop.celltype).__name__ not in NEURON_TYPES + ("SpikeSourceExternal",):
            raise PlacementError(who, f"read[{name!r}]", f"{pop!r} is not a population of this session's point "
                                 "neurons", "sim.Population of a point-neuron cell type")
    for name, pop in write.items():
        if not isinstance(pop, Population) or not (type(pop.celltype).__name__ == "SpikeSourceExternal"
                                                   or _live_encoder(pop)):
            raise PlacementError(who, f"write[{name!r}]", f"{pop!r} does not take live spikes or stimuli",
                                 "a sim.Population of sim.SpikeSourceExternal() cells, or of a sensory encoder "
                                 "built with stimulus=None (a live encoder: the link sends it stimulus samples)")
    if set(read) & set(write):
        raise ParameterError(who, "write", f"names used for both reading and writing: {sorted(set(read) & set(write))}",
                             "distinct port names")
    ins = {name: ("spikes", pop.size) for name, pop in read.items()}
    outs = {name: ("fields", _frame_size(pop), f"{pop.label}.stimulus") if _live_encoder(pop) else ("spikes", pop.size)
            for name, pop in write.items()}
    return read, write, ins, outs


def _live_encoder(pop) -> bool:
    from .encoders import is_encoder
    return is_encoder(pop.celltype) and pop.celltype.encoder.live


def _frame_size(pop) -> int:
    """Values per stimulus sample of a live encoder population (its frame, flattened)."""
    import numpy as np
    return int(np.prod(pop.celltype.encoder.frame_shape))


def _encoders(label: str, write: dict) -> dict:
    """{port: EncoderComponent} for the live encoder populations in ``write``: each encoder
    draws its noise from the population's keyed stream, as a stimulus-array encoder does."""
    from ..encoders import ENCODERS, EncoderComponent
    from ..rng import stream_key
    out = {}
    for port, pop in write.items():
        if _live_encoder(pop):
            ct = pop.celltype
            encoder = ENCODERS[ct.graph_model](dict(ct.encoder_parameters),
                                               stream_key(state.seed, pop.label, "spike-source"), state.dt)
            out[port] = EncoderComponent(f"{label}.{port}.encoder", encoder, field=f"{pop.label}.stimulus")
    return out


def _period(period, who) -> float:
    if isinstance(period, bool) or not isinstance(period, (int, float)) or not period > 0:
        raise ParameterError(who, "period", f"{period!r}", f"a positive multiple of the time step {state.dt} ms")
    state.ms_to_ticks(period, who, "period")
    return float(period)


def _add(link: LiveLink) -> LiveLink:
    if state.network.hybrid is not None:
        raise SimulationStateError("live", "session", "the co-simulation has already started",
                                   "live links before the first sim.run() (or after sim.setup())")
    names = {link_.component.name for link_ in state.live_links}
    if link.component.name in names:
        raise ParameterError("live", "label", f"two live links named {link.component.name!r}", "unique labels")
    state.live_links.append(link)
    state.network.mark_dirty("structure")
    return link


def live(callback=None, generator=None, read: dict | None = None, write: dict | None = None, period: float = 1.0,
         label: str = "live") -> LiveLink:
    """An in-process closed loop: ``callback(t_ms, inputs) -> outputs`` (or a ``generator``)
    once per ``period`` ms. ``read``: port name -> population whose spikes the callback gets;
    ``write``: port name -> SpikeSourceExternal population it sends spikes to (return neuron
    ids, or (ticks, ids)). See :class:`neurohybrid.liveio.LiveIO`."""
    from ..liveio import LiveIO
    state._check_usable("live")
    who = f"live({label})"
    read, write, ins, outs = _ports(read, write, who)
    comp = LiveIO(label, inputs=ins, outputs=outs, callback=callback, generator=generator)
    return _add(LiveLink(comp, read, write, _period(period, who), _encoders(label, write)))


def serve(read: dict | None = None, write: dict | None = None, host: str = "127.0.0.1", port: int = 0,
          period: float = 1.0, await_reply_ms: float = 0.0, label: str = "server") -> LiveLink:
    """Live I/O over UDP (:class:`neurohybrid.liveio.LiveServer`): every ``period`` ms the spikes
    of ``read`` populations go to the client and its spikes for ``write`` populations come in.
    The socket is bound now: ``link.address`` tells the client where to connect."""
    from ..liveio import LiveServer
    state._check_usable("serve")
    who = f"serve({label})"
    read, write, ins, outs = _ports(read, write, who)
    comp = LiveServer(label, inputs=ins, outputs=outs, host=host, port=port, await_reply_ms=await_reply_ms)
    return _add(LiveLink(comp, read, write, _period(period, who), _encoders(label, write)))


def realtime(factor: float = 1.0, overrun: str = "catch_up", tolerance_ms: float = 0.0) -> None:
    """Pace the session to the wall clock: ``factor`` brain ms per wall ms (1.0 = real time);
    ``overrun``: ``"catch_up"``, ``"drop"`` or ``"stop"`` (see :mod:`neurohybrid.realtime`).
    Per-window timing goes to the run store (signal ``realtime/timing_ms``: lateness, compute,
    jitter) and a summary to the manifest; :func:`realtime_stats` returns it."""
    from ..realtime import POLICIES
    state._check_usable("realtime")
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not (math.isfinite(factor) and factor > 0):
        raise ParameterError("realtime", "factor", f"{factor!r}", "a finite real-time factor > 0")
    if overrun not in POLICIES:
        raise ParameterError("realtime", "overrun", f"{overrun!r}", ", ".join(POLICIES))
    if not (isinstance(tolerance_ms, (int, float)) and tolerance_ms >= 0):
        raise ParameterError("realtime", "tolerance_ms", f"{tolerance_ms!r}", "a time >= 0 ms")
    state.realtime = {"factor": float(factor), "overrun": overrun, "tolerance_ms": float(tolerance_ms)}
    if state.network.hybrid is not None:
        state.network.hybrid.set_pacing(state.realtime)


def run_forever(max_ms: float | None = None) -> str:
    """Run until :func:`stop` (from any thread or a live callback), Ctrl-C, or ``max_ms`` more
    brain time; paced if :func:`realtime` was called, else as fast as possible. Stops cleanly at
    a macro-step boundary with everything recorded readable; returns the reason."""
    state._check_usable("run")
    network = state.network
    network.ensure_cosimulation()
    state.running = True  # PyNN's recorders read the current segment only after a run
    try:
        reason = network.hybrid.run_forever(max_ms)
    finally:
        state.tick = network.hybrid.cosim.tick
    return reason


def stop(reason: str = "sim.stop()") -> None:
    """Stop a running :func:`run_forever` (or a paced ``sim.run``) at the next macro-step."""
    hybrid = state.network.hybrid if state.network is not None else None
    if hybrid is not None:
        hybrid.stop(reason)


def realtime_stats() -> dict:
    """Timing summary of the paced runs so far (ms): windows, overruns, lateness/jitter/compute
    percentiles, wall per brain time; plus the live links' reports."""
    hybrid = state.network.hybrid if state.network is not None else None
    if hybrid is None or hybrid.pacer is None:
        return {}
    return {**hybrid.pacer.stats.summary(), "live": {link.component.name: link.report() for link in state.live_links}}
