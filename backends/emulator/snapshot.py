"""Snapshots of the float emulator (:class:`.engine.EmulatorEngine`): ``state()``/``restore()``.

The format is :mod:`neurohybrid.snapshot`'s (a flat dict of copies with the header keys
``format``, ``engine``, ``content_hash``, ``tick``). The float emulator's dynamic state is:

- ``blocks/<population>/S``: the state rows (``ModelSpec.state`` order, PyNN units; hidden
  kernel-unit ``.held`` rows and the ODE step size ``h_ode`` included), float64 ``[rows, n]``;
- ``blocks/<population>/P``: the parameter rows (PyNN units) as fields leave them (a
  ``"current"`` or ``"threshold"`` field shifts ``i_offset``/``v_thresh``), float64;
- ``blocks/<population>/gain``: the ``"gain"`` field (dimensionless, 1 = none), float64 ``[n]``;
- ``blocks/<population>/ring``: the synaptic input on its way, the exact 128-bit sums as raw
  words, int64 ``[max_delay, receptors x cells, 2]``, row j = input arriving in tick ``tick + j``
  (only for blocks whose ring is in use: tables of many weights or short-term plasticity);
  ``blocks/<population>/counts`` (blocks whose static synapses count spikes per weight): int32
  ``[max_delay, receptors x cells x codes]``, same rows. Rows are by tick, not ring slot, so the
  layout does not depend on the window length;
- ``sources/<population>/...``: each spike source's own ``state()`` (renewal state, queued
  external spikes; none for SpikeSourceArray);
- ``stp/<k>/u``, ``x``, ``last_tick`` (+ ``stp/<k>/edge``, the projection's name): the k-th
  table of synapses with state (Tsodyks–Markram; the stochastic synapses of ``stochastic.py``,
  whose rows their ``state()`` names) per synapse, in the projection's own synapse order (so it
  does not depend on the thread count);
- ``plastic/<k>/...`` (+ ``plastic/<k>/edge``): the k-th plastic (STDP) table's state
  (``plastic.PlasticTable.state``: weights, traces and last spike per synapse in the edge's
  order, the target cells' spike history, the queued presynaptic spikes);
- ``transmitters/<node>/...``: each volume transmitter's pending dopamine events
  (``dopamine.VolumeTransmitter.state``);
- ``pending/ticks``, ``pending/ids``: neuron spikes of the last window not yet delivered
  (emission ticks, global cell indices): they reach the rings with the next window.

Current sources have no state (their values are functions of the tick and the stream key).
"""
from __future__ import annotations

import numpy as np

from neurohybrid import snapshot as snap
from neurohybrid.errors import SimulationStateError

from .dopamine import VolumeTransmitter


def _stp_tables(engine) -> list:
    return [t for t in engine.tables if t.stateful]


def capture(engine) -> dict:
    """The engine's complete dynamic state now (see the module docstring), as copies."""
    out = snap.header(engine)
    rows = max(int(engine.max_delay), 1)
    for name, block in engine.blocks.items():
        prefix = f"blocks/{name}"
        out[f"{prefix}/S"] = block.S.copy()
        out[f"{prefix}/P"] = block.P.copy()
        out[f"{prefix}/gain"] = np.ones(block.node.size) if block.gain is None else np.array(block.gain, float)
        try:
            if block.ring.in_use:  # else it is never written (all its input is counted)
                out[f"{prefix}/ring"] = block.ring.snapshot(engine.tick, rows)
            if block.counts is not None:
                out[f"{prefix}/counts"] = block.counts.snapshot(engine.tick, rows)
        except ValueError as exc:  # the rings' invariant: nothing arrives max_delay ticks ahead or more
            raise SimulationStateError(name, "state", f"cannot be snapshot: {exc}", None) from None
    for name, src in engine.sources.items():
        snap.put(out, f"sources/{name}", src.generator.state())
    for k, table in enumerate(_stp_tables(engine)):
        snap.put(out, f"stp/{k}", table.state())
        out[f"stp/{k}/edge"] = ",".join(e.name for e in table.edges)
    for k, table in enumerate(engine.plastic.values()):
        snap.put(out, f"plastic/{k}", table.state())
        out[f"plastic/{k}/edge"] = table.edge.name
    for name, vt in engine.transmitters.items():
        snap.put(out, f"transmitters/{name}", vt.state())
    pending = engine._pending
    snap.put(out, "pending", snap.spikes(*(pending if pending is not None else (None, None))))
    return out


def restore(engine, state) -> None:
    """Return ``engine`` to snapshot ``state`` of :func:`capture`; checked completely first (a
    typed error leaves the engine unchanged)."""
    snap.require_built(engine, "restore")
    template = capture(engine)
    free = tuple(f"plastic/{k}/{key}" for k, t in enumerate(engine.plastic.values()) for key in t.free_keys())
    free += tuple(f"transmitters/{name}/{key}" for name in engine.transmitters for key in VolumeTransmitter.VARIABLE)
    snap.check(engine, state, template, free=free)
    for key in template:
        if key.endswith("/edge") and state[key] != template[key]:
            raise snap.error(engine, f"{key!r} is {state[key]!r}", repr(template[key]))
    tick = int(state["tick"])
    for name, block in engine.blocks.items():
        prefix = f"blocks/{name}"
        block.S[:] = state[f"{prefix}/S"]
        block.P[:] = state[f"{prefix}/P"]
        gain = np.asarray(state[f"{prefix}/gain"], dtype=float)
        block.gain = None if np.all(gain == 1.0) else gain.copy()
        if block.ring.in_use:
            block.ring.restore(tick, state[f"{prefix}/ring"])
        if block.counts is not None:
            block.counts.restore(tick, state[f"{prefix}/counts"])
    for name, src in engine.sources.items():
        src.generator.restore(snap.take(state, f"sources/{name}"))
    for k, table in enumerate(_stp_tables(engine)):
        part = snap.take(state, f"stp/{k}")
        part.pop("edge")
        table.restore(part)
    for k, table in enumerate(engine.plastic.values()):
        part = snap.take(state, f"plastic/{k}")
        part.pop("edge")
        table.restore(part)
    for name, vt in engine.transmitters.items():
        vt.restore(snap.take(state, f"transmitters/{name}"))
    ticks, ids = snap.spike_arrays(state, "pending")
    engine._pending = (ticks, ids) if ticks.size else None
    engine.tick = tick
