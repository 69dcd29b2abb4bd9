"""Live I/O for closed-loop runs: in process (:class:`LiveIO`) and over the network
(:class:`LiveServer` + :class:`LiveClient`, a small UDP protocol).

Both are co-simulation :class:`~neurohybrid.kernel.Component` s, linked to the network like any
other component, so the kernel's rules hold: what they emit lies in the window being advanced,
and links carry it on with a delay of at least one macro-step.

* ``inputs`` (component view): ports *fed by the network* — spikes of chosen populations (from
  a :class:`~neurohybrid.adapters.SpikingComponent` output port), rates or fields;
* ``outputs``: ports *into the network* — spikes (into a ``SpikeSourceExternal`` population
  through a SpikingComponent input port), rates (e.g. into a ``RatesToSpikes`` converter) or
  fields (a SpikingComponent field port).

Port declarations: a kind string (``"spikes"``), a tuple ``(kind, size)`` or
``(kind, size, field_name)``, or a :class:`LivePort`. Spikes outputs need their size (neuron ids
are checked against it), rates/fields their number of values.

Timing. In window ``[t0, t1)`` the component receives what the network emitted one link delay
earlier (spikes stamped with their *arrival* ticks = emission tick + link delay, in
``[t0, t1)``) and emits inputs stamped in ``[t0, t1)``, which reach the network a link delay
later. With links of one macro-step ``M`` each way, a spike emitted in window k reaches the
experiment in window k+1 and its answer acts on the network from window k+2 (over the wire the
answer arrives during window k+1 and is emitted in window k+2, acting from k+3: brain-time loop
latency 2M in process, 3M over the wire; use a smaller macro-step for a tighter loop).
Inputs stamped later than the current window are held until their window; spikes stamped
before it are *late*: counted and dropped; late rate/field samples are counted and applied at
the window start (they are held values).

In process::

    from neurohybrid.liveio import LiveIO
    def experiment(t_ms, inputs):            # once per macro-step
        n = len(inputs["motor"])             # spikes of the motor population (kernel Spikes)
        return {"sensory": np.arange(min(n, 50))}   # neuron ids spiking at the window start
    live = cs.add(LiveIO("env", inputs={"motor": "spikes"}, outputs={"sensory": ("spikes", 50)},
                         callback=experiment))
    cs.connect("circuit", "out", "env", "motor", delay=M)
    cs.connect("env", "sensory", "circuit", "in", delay=M)

A generator works too (``LiveIO(..., generator=gen)``): the component primes it with
``next(gen)`` and then calls ``gen.send((t_ms, inputs))`` each window; it yields the outputs.

Callback return values, per output port: spikes — an array of neuron ids (all at the window's
first tick), ``(ticks, ids)`` with absolute kernel ticks, or a :class:`~neurohybrid.kernel.Spikes`;
rates/fields — an array of values (sample at the window start), ``(tick, values)`` or a
:class:`~neurohybrid.kernel.Series`. Ports may be omitted; None is nothing.

Wire protocol (version 1)
-------------------------
UDP datagrams, little-endian, one datagram = one packet = 48-byte header + ``payload_length``
bytes of blocks. Each side numbers its packets (``seq``, uint32, +1 per packet, wrapping); the
receiver counts gaps as *lost*, a missing packet that shows up later as *reordered* (it is
still used) and repeats as *duplicates* (ignored). Nothing is silent: every anomaly is a counter
in ``report()``.

Header (48 bytes, ``struct`` format ``"<4sBBHIIqqIIq"``)::

    offset size type    field
     0      4   bytes   magic = b"NHLV"
     4      1   uint8   version = 1
     5      1   uint8   type: 1 DATA, 2 HELLO, 3 BYE
     6      2   uint16  flags: bit 0 ACK (the ack field is valid), bit 1 ASAP (client->server:
                        ignore `tick`, deliver from the earliest window the server can still
                        emit into); other bits 0
     8      4   uint32  seq: sender's packet number
    12      4   uint32  ack: the last seq the sender received from the peer (round-trip times)
    16      8   int64   step: server->client: macro-step index of the window; client->server: free
    24      8   int64   tick: base kernel tick of the packet (server->client: window start t0)
    32      4   uint32  span: server->client: window length in ticks (next window starts at
                        tick + span); client->server: 0
    36      4   uint32  payload_length: bytes after the header (must match the datagram)
    40      8   int64   time_ns: sender's wall clock (CLOCK_REALTIME, ns) at send

DATA payload: blocks, each an 8-byte block header ``"<BBHI"`` (kind: 1 spikes, 2 rates,
3 fields; reserved = 0; port id uint16; count uint32) followed by its body, zero-padded to a
multiple of 4 bytes:

* spikes: ``count`` uint32 neuron ids, then ``count`` uint16 tick offsets (spike tick = header
  tick + offset; from the server, spikes are stamped with their arrival tick at the server);
* rates and fields: a uint32 tick offset, then ``count`` float32 values (Hz for rates; the
  field's units), one sample held from tick + offset on.

Port ids: per direction, in the order the server declares them; the HELLO reply lists them.
HELLO (client->server: empty payload; server->client: UTF-8 JSON ``{"protocol": 1, "server":
name, "dt_ms": dt, "to_client": [{"id", "name", "kind", "size", "field"}...], "from_client":
[...]}``) makes the sender the server's peer: DATA goes to it every window from then on. BYE
ends it (counted as a disconnect); a peer silent for ``peer_timeout_s`` while the run goes on is
counted as ``silent_peer`` once per silence. Packets from other addresses are counted
(``foreign``) and ignored. Bad input is counted and skipped, the run goes on: ``oversized``
(> ``max_packet`` bytes), ``truncated`` (shorter than the header or than payload_length says),
``malformed`` (bad magic/version/type, trailing bytes, a block running past the end, wrong
value count), ``unknown_port``, ``kind_mismatch`` (a block kind unlike the port's),
``bad_ids`` (neuron ids >= port size), ``late_spikes`` / ``late_samples`` (stamped before the
window the server can still emit into).

Round trip: the server keeps the send time of its last 4096 DATA packets; the first client
packet acknowledging one (ACK flag) gives a round-trip time, from the server's send to the
datagram's arrival on the server's socket (kernel receive time stamp, SO_TIMESTAMPNS, where
available; else the time it is read). ``report()["rtt_ms"]`` summarises them.

External client::

    from neurohybrid.liveio import LiveClient
    with LiveClient(("127.0.0.1", 5005)) as client:
        info = client.hello()                       # port table, dt
        while True:
            frame = client.recv(timeout_s=1.0)      # one DATA packet of the server (a window)
            if frame is None:
                break
            ticks, ids = frame.spikes["motor"]
            client.reply(frame, spikes={"sensory": ids[ids < 50]})   # for the next window

Server side: ``LiveServer(name, inputs, outputs, host="127.0.0.1", port=5005)`` is added to
the co-simulation and linked like :class:`LiveIO`; each window it drains its socket (without
blocking), emits the inputs due in the window and sends one DATA packet with what the network
sent it. Under a :class:`~neurohybrid.realtime.Pacer` its socket is also drained while the pacer
waits, so replies are taken (and time-stamped) as they arrive. ``wait_for_client(timeout_s)``
blocks until a client said HELLO (before a run). ``await_reply_ms`` makes each window wait (up
to that long; ``inf``: lockstep with a client running at its own pace) for the client's answer
to the previous window's packet; by default a real-time run never waits and a late answer is
counted (``late_spikes``).
"""
from __future__ import annotations

import json
import select
import socket
import struct
import time
from dataclasses import dataclass, field

import numpy as np

from .errors import NeurohybridError, ParameterError
from .kernel import Component, Port, Series, Spikes

__all__ = ["LivePort", "LiveIO", "LiveServer", "LiveClient", "Frame", "ProtocolError", "encode_packet",
           "decode_packet", "HEADER", "BLOCK", "MAGIC", "VERSION", "DATA", "HELLO", "BYE", "FLAG_ACK", "FLAG_ASAP"]

MAGIC = b"NHLV"
VERSION = 1
DATA, HELLO, BYE = 1, 2, 3
FLAG_ACK, FLAG_ASAP = 1, 2
HEADER = struct.Struct("<4sBBHIIqqIIq")
BLOCK = struct.Struct("<BBHI")
KIND_CODE = {"spikes": 1, "rates": 2, "fields": 3}
CODE_KIND = {v: k for k, v in KIND_CODE.items()}
MAX_UDP = 65507
_U32 = 1 << 32
_RING = 4096
# kernel receive time stamps (CLOCK_REALTIME): Python does not always export the constant
_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35 if __import__("sys").platform == "linux" else None)

assert HEADER.size == 48 and BLOCK.size == 8


class ProtocolError(NeurohybridError, ValueError):
    """A packet that cannot be decoded; ``reason`` is the counter it goes to ("truncated",
    "malformed", "oversized")."""

    def __init__(self, reason: str, problem: str):
        self.reason = reason
        super().__init__(f"live packet: {problem}")


# ------------------------------------------------------------------------------ codec
def _pad(n: int) -> int:
    return (-n) % 4


def encode_packet(kind: int, seq: int, *, ack: int = 0, flags: int = 0, step: int = 0, tick: int = 0,
                  span: int = 0, blocks=(), payload: bytes | None = None, time_ns: int | None = None) -> bytes:
    """One packet. ``blocks``: (kind name, port id, body) with body ``(ids, offsets)`` for
    spikes and ``(offset, values)`` for rates/fields. ``payload`` replaces the blocks (HELLO)."""
    if payload is None:
        parts = []
        for bkind, pid, body in blocks:
            if bkind == "spikes":
                ids, offs = body
                ids = np.asarray(ids, dtype="<u4")
                offs = np.asarray(offs, dtype="<u2")
                raw = ids.tobytes() + offs.tobytes()
                count = ids.size
            else:
                off, values = body
                values = np.asarray(values, dtype="<f4").ravel()
                raw = struct.pack("<I", int(off)) + values.tobytes()
                count = values.size
            parts.append(BLOCK.pack(KIND_CODE[bkind], 0, int(pid), int(count)) + raw + b"\0" * _pad(len(raw)))
        payload = b"".join(parts)
    t_ns = time.time_ns() if time_ns is None else int(time_ns)
    return HEADER.pack(MAGIC, VERSION, int(kind), int(flags), int(seq) % _U32, int(ack) % _U32, int(step),
                       int(tick), int(span), len(payload), t_ns) + payload


@dataclass
class _Header:
    type: int
    flags: int
    seq: int
    ack: int
    step: int
    tick: int
    span: int
    length: int
    time_ns: int


def decode_packet(data: bytes, max_packet: int = MAX_UDP):
    """(header, blocks, payload) of a packet, or :class:`ProtocolError`. Blocks are (kind name,
    port id, body) with body ``(ids uint32, offsets uint16)`` or ``(offset, float32 values)``."""
    n = len(data)
    if n > max_packet:
        raise ProtocolError("oversized", f"{n} bytes > max_packet {max_packet}")
    if n < HEADER.size:
        raise ProtocolError("truncated", f"{n} bytes, shorter than the {HEADER.size}-byte header")
    magic, version, ptype, flags, seq, ack, step, tick, span, length, t_ns = HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise ProtocolError("malformed", f"magic {magic!r} (expected {MAGIC!r})")
    if version != VERSION:
        raise ProtocolError("malformed", f"version {version} (expected {VERSION})")
    if ptype not in (DATA, HELLO, BYE):
        raise ProtocolError("malformed", f"packet type {ptype}")
    if n - HEADER.size < length:
        raise ProtocolError("truncated", f"payload of {n - HEADER.size} bytes, header says {length}")
    if n - HEADER.size > length:
        raise ProtocolError("malformed", f"{n - HEADER.size - length} trailing bytes after the payload")
    hdr = _Header(ptype, flags, seq, ack, step, tick, span, length, t_ns)
    payload = memoryview(data)[HEADER.size:]
    blocks = []
    if ptype == DATA:
        pos, end = 0, length
        while pos < end:
            if end - pos < BLOCK.size:
                raise ProtocolError("malformed", f"{end - pos} stray bytes where a block header was expected")
            code, _, pid, count = BLOCK.unpack_from(payload, pos)
            pos += BLOCK.size
            kind = CODE_KIND.get(code)
            if kind is None:
                raise ProtocolError("malformed", f"block kind {code}")
            size = 6 * count if kind == "spikes" else 4 + 4 * count
            if pos + size > end:
                raise ProtocolError("malformed", f"{kind} block of {count} items runs past the payload")
            if kind == "spikes":
                ids = np.frombuffer(payload, dtype="<u4", count=count, offset=pos).astype(np.int64)
                offs = np.frombuffer(payload, dtype="<u2", count=count, offset=pos + 4 * count).astype(np.int64)
                body = (ids, offs)
            else:
                off = struct.unpack_from("<I", payload, pos)[0]
                body = (off, np.frombuffer(payload, dtype="<f4", count=count, offset=pos + 4).astype(np.float64))
            blocks.append((kind, pid, body))
            pos += size + _pad(size)
            if pos > end:
                raise ProtocolError("malformed", "block padding runs past the payload")
    return hdr, blocks, bytes(payload)


class _SeqTracker:
    """Loss / reordering / duplicate detection on a uint32 sequence."""

    def __init__(self, window: int = _RING):
        self.window = window
        self.reset()

    def reset(self):
        self.expected = None
        self.missing: dict[int, None] = {}  # insertion-ordered set
        self.received = self.lost = self.reordered = self.duplicates = 0

    def see(self, seq: int) -> str:
        """"ok", "reordered" (a packet counted lost arrived late: use it) or "duplicate" (drop it)."""
        if self.expected is None:
            self.expected = (seq + 1) % _U32
            self.received += 1
            return "ok"
        d = (seq - self.expected) % _U32
        if d >= _U32 // 2:
            d -= _U32
        if d == 0:
            self.expected = (seq + 1) % _U32
            self.received += 1
            return "ok"
        if d > 0:
            self.lost += d
            for s in range(max(0, d - self.window), d):
                self.missing[(self.expected + s) % _U32] = None
            while len(self.missing) > self.window:
                self.missing.pop(next(iter(self.missing)))
            self.expected = (seq + 1) % _U32
            self.received += 1
            return "ok"
        if seq in self.missing:
            del self.missing[seq]
            self.lost -= 1
            self.reordered += 1
            self.received += 1
            return "reordered"
        self.duplicates += 1
        return "duplicate"

    def report(self) -> dict:
        return {"received": self.received, "lost": self.lost, "reordered": self.reordered,
                "duplicates": self.duplicates}


# ------------------------------------------------------------------------------ ports
@dataclass(frozen=True)
class LivePort:
    """A live port: ``kind`` in spikes/rates/fields, ``size`` (neurons / values; None for an
    input of any size), ``field`` (fields: its name), ``modulates`` (fields into a population)."""

    kind: str
    size: int | None = None
    field: str | None = None
    modulates: str | None = None


def _live_port(owner: str, name: str, spec, need_size: bool) -> LivePort:
    if isinstance(spec, LivePort):
        p = spec
    elif isinstance(spec, str):
        p = LivePort(spec)
    elif isinstance(spec, (tuple, list)) and 1 <= len(spec) <= 3:
        p = LivePort(*spec)
    else:
        raise ParameterError(owner, name, f"port declaration {spec!r}",
                             "'spikes'/'rates'/'fields', (kind, size), (kind, size, field) or a LivePort")
    if p.kind not in KIND_CODE:
        raise ParameterError(owner, name, f"kind {p.kind!r}", "spikes, rates, fields")
    if p.size is not None and (isinstance(p.size, bool) or not isinstance(p.size, (int, np.integer)) or p.size < 1):
        raise ParameterError(owner, name, f"size {p.size!r}", "a positive integer")
    if need_size and p.size is None:
        raise ParameterError(owner, name, f"{p.kind} output without a size",
                             f"({p.kind!r}, n): the number of {'neurons' if p.kind == 'spikes' else 'values'}")
    return p


class _LiveBase(Component):
    """Port bookkeeping and the queue of inputs waiting for their window (shared by LiveIO and
    LiveServer)."""

    def __init__(self, name: str, inputs: dict | None, outputs: dict | None, record: bool = False):
        super().__init__(name, record)
        self.in_ports = {k: _live_port(name, k, v, False) for k, v in (inputs or {}).items()}
        self.out_ports = {k: _live_port(name, k, v, True) for k, v in (outputs or {}).items()}
        if len(self.in_ports) > 65535 or len(self.out_ports) > 65535:
            raise ParameterError(name, "ports", "more than 65535 ports", "at most 65535 per direction")
        self.inputs = {k: Port(p.kind, field=p.field) for k, p in self.in_ports.items()}
        self.outputs = {k: Port(p.kind, field=p.field, modulates=p.modulates) for k, p in self.out_ports.items()}
        self.counters = {"late_spikes": 0, "late_samples": 0, "bad_ids": 0, "bad_values": 0}
        self.tick = 0
        self._queue: dict[str, list] = {p: [] for p in self.out_ports}

    def bind(self, dt):
        super().bind(dt)
        self.step_ticks = 1

    # queue ----------------------------------------------------------------
    def _queue_spikes(self, port: str, ticks, ids) -> None:
        t = np.asarray(ticks, dtype=np.int64).ravel()
        i = np.asarray(ids, dtype=np.int64).ravel()
        if t.size != i.size:
            t = np.broadcast_to(t, i.shape) if t.size == 1 else t
            if t.size != i.size:
                self.counters["bad_values"] += 1
                return
        size = self.out_ports[port].size
        ok = (i >= 0) & (i < size)
        if not ok.all():
            self.counters["bad_ids"] += int((~ok).sum())
            t, i = t[ok], i[ok]
        late = t < self.tick
        if late.any():
            self.counters["late_spikes"] += int(late.sum())
            t, i = t[~late], i[~late]
        if t.size:
            self._queue[port].append(Spikes.make(t, i))

    def _queue_sample(self, port: str, tick: int, values) -> None:
        v = np.asarray(values, dtype=np.float64).ravel()
        p = self.out_ports[port]
        if v.size != p.size or not np.all(np.isfinite(v)):
            self.counters["bad_values"] += 1
            return
        if tick < self.tick:
            self.counters["late_samples"] += 1
            tick = self.tick
        self._queue[port].append((int(tick), v))

    def _emit(self, t0: int, t1: int) -> dict:
        out = {}
        for port, q in self._queue.items():
            if not q:
                continue
            p = self.out_ports[port]
            if p.kind == "spikes":
                now, later = Spikes.concat(q).split(t1)
                self._queue[port] = [later] if len(later) else []
                if len(now):
                    out[port] = now
            else:
                q.sort(key=lambda s: s[0])  # stable: equal ticks keep arrival order
                now = [s for s in q if s[0] < t1]
                self._queue[port] = [s for s in q if s[0] >= t1]
                if now:
                    ticks = np.array([s[0] for s in now], dtype=np.int64)
                    vals = np.stack([s[1] for s in now])
                    # one sample per tick (the last one given for it)
                    last = np.r_[ticks[1:] != ticks[:-1], True]
                    out[port] = Series(ticks[last], vals[last], max(1, t1 - t0), p.kind, p.field)
        return out

    def _accept(self, outputs, t0: int) -> None:
        """Callback results -> queue (see the module doc for the accepted forms)."""
        if outputs is None:
            return
        if not isinstance(outputs, dict):
            raise ParameterError(self.name, "callback", f"returned {type(outputs).__name__}",
                                 "a dict output port -> spikes/values, or None")
        for port, value in outputs.items():
            p = self.out_ports.get(port)
            if p is None:
                raise ParameterError(self.name, "callback", f"returned output port {port!r}",
                                     ", ".join(self.out_ports) or "no output ports")
            if value is None:
                continue
            if p.kind == "spikes":
                if isinstance(value, Spikes):
                    self._queue_spikes(port, value.ticks, value.index)
                elif isinstance(value, tuple) and len(value) == 2:
                    self._queue_spikes(port, value[0], value[1])
                else:
                    ids = np.asarray(value, dtype=np.int64).ravel()
                    self._queue_spikes(port, np.full(ids.size, t0, dtype=np.int64), ids)
            else:
                if isinstance(value, Series):
                    for t, v in zip(value.ticks, value.values):
                        self._queue_sample(port, int(t), v)
                elif isinstance(value, tuple) and len(value) == 2:
                    self._queue_sample(port, int(value[0]), value[1])
                else:
                    self._queue_sample(port, t0, value)

    # Component -------------------------------------------------------------
    def reset(self):
        self.tick, self._records = 0, {}
        self._queue = {p: [] for p in self.out_ports}

    def state(self):
        return {"tick": self.tick, "queue": {p: list(q) for p, q in self._queue.items()}}

    def restore(self, state):
        """Back to a snapshot's tick and queued inputs (the outside world is not rewound)."""
        self.tick = state["tick"]
        self._queue = {p: list(q) for p, q in state["queue"].items()}

    def report(self) -> dict:
        """Counters of everything refused or late (see the module doc)."""
        return dict(self.counters)

    def describe(self):
        return {**super().describe(), "live_inputs": {k: vars(p) for k, p in self.in_ports.items()},
                "live_outputs": {k: vars(p) for k, p in self.out_ports.items()}}


# ------------------------------------------------------------------------------ in process
class LiveIO(_LiveBase):
    """In-process live I/O: ``callback(t_ms, inputs) -> outputs`` once per window (see the
    module doc), or a ``generator`` that is sent ``(t_ms, inputs)`` and yields outputs.

    ``t_ms`` is the start of the window (ms); ``inputs`` maps every input port to the kernel
    message that reached it in the window (:class:`Spikes`: ``.ticks`` arrival ticks,
    ``.index`` neuron index; :class:`Series` for rates/fields). With ``parallel=True``
    co-simulations the callback may run in a worker thread.
    """

    def __init__(self, name: str, inputs: dict | None = None, outputs: dict | None = None, callback=None,
                 generator=None, record: bool = False):
        super().__init__(name, inputs, outputs, record)
        if (callback is None) == (generator is None):
            raise ParameterError(name, "callback", "give exactly one of callback and generator",
                                 "callback(t_ms, inputs) -> outputs, or a generator")
        if callback is not None and not callable(callback):
            raise ParameterError(name, "callback", f"{callback!r} is not callable", "a function")
        if generator is not None and not hasattr(generator, "send"):
            raise ParameterError(name, "generator", f"{generator!r} is not a generator", "a generator object")
        self.callback, self.generator = callback, generator
        self._primed = False
        self.calls = 0

    def advance(self, t_stop, inbox):
        t0 = self.tick
        if self.generator is not None:
            if not self._primed:
                next(self.generator)
                self._primed = True
            result = self.generator.send((t0 * self.dt, inbox))
        else:
            result = self.callback(t0 * self.dt, inbox)
        self.calls += 1
        self._accept(result, t0)
        out = self._emit(t0, t_stop)
        self.tick = t_stop
        return self._keep(out)


# ------------------------------------------------------------------------------ over UDP
def _summ(a: np.ndarray) -> dict:
    if not a.size:
        return {"n": 0, "p50": None, "p99": None, "max": None}
    return {"n": int(a.size), "p50": float(np.percentile(a, 50)), "p99": float(np.percentile(a, 99)),
            "max": float(a.max())}


class LiveServer(_LiveBase):
    """Live I/O over UDP (see the module doc for the protocol).

    Parameters
    ----------
    name, inputs, outputs : as :class:`LiveIO` (inputs are sent to the client, outputs come
        from it; sizes of inputs are advertised in the HELLO reply)
    host, port : address to bind (port 0: any free port; see :attr:`address`)
    peer : (host, port) to send to before any HELLO (else the first client saying HELLO)
    max_packet : largest datagram accepted (bytes); larger ones are counted ``oversized``
    peer_timeout_s : a peer silent this long is counted once as ``silent_peer``
    rtt_capacity : round-trip times kept for the percentiles
    await_reply_ms : before each window, wait up to this long (ms) for the client's answer to the
        previous window's packet (an ACK of it) if it has not come yet; 0 (default): never wait
        (real-time runs: a late answer is counted, the run goes on), ``math.inf``: lockstep with
        the client (a simulator or game engine running at its own pace). Timeouts are counted
        (``reply_timeouts``); waiting stops if the client says BYE.
    """

    def __init__(self, name: str, inputs: dict | None = None, outputs: dict | None = None, host: str = "127.0.0.1",
                 port: int = 0, peer=None, max_packet: int = MAX_UDP, peer_timeout_s: float = 2.0,
                 rtt_capacity: int = 1 << 17, await_reply_ms: float = 0.0, record: bool = False):
        super().__init__(name, inputs, outputs, record)
        if isinstance(await_reply_ms, bool) or not isinstance(await_reply_ms, (int, float)) or not await_reply_ms >= 0:
            raise ParameterError(name, "await_reply_ms", f"{await_reply_ms!r}", "a time >= 0 in ms (inf: lockstep)")
        self.await_reply_s = float(await_reply_ms) * 1e-3
        self._awaiting: int | None = None
        if not isinstance(max_packet, (int, np.integer)) or not HEADER.size <= max_packet <= MAX_UDP:
            raise ParameterError(name, "max_packet", f"{max_packet!r}", f"{HEADER.size}..{MAX_UDP} bytes")
        self.max_packet = int(max_packet)
        self.peer_timeout_s = float(peer_timeout_s)
        self.in_ids = {p: j for j, p in enumerate(self.in_ports)}       # to client
        self.out_by_id = list(self.out_ports)                            # from client
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
            self.sock.bind((host, int(port)))
        except OSError as e:
            self.sock.close()
            raise ParameterError(name, "port", f"cannot bind {host}:{port}: {e}", "a free UDP port") from None
        self.sock.setblocking(False)
        self._ts = _SO_TIMESTAMPNS is not None
        if self._ts:
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
            except OSError:
                self._ts = False
        self._anc = socket.CMSG_SPACE(16) if self._ts else 0
        self.peer = tuple(peer) if peer is not None else None
        self.seq = 0
        self.step = 0
        self.rx = _SeqTracker()
        self._send_ns = np.zeros(_RING, dtype=np.int64)
        self._send_seq = np.full(_RING, -1, dtype=np.int64)
        self._acked = np.zeros(_RING, dtype=bool)
        self._rtt = np.zeros(int(rtt_capacity))
        self._n_rtt = 0
        self._last_rx = time.monotonic()
        self._silent = False
        self.counters.update({"packets_in": 0, "packets_out": 0, "bytes_in": 0, "bytes_out": 0, "oversized": 0,
                              "truncated": 0, "malformed": 0, "unknown_port": 0, "kind_mismatch": 0, "foreign": 0,
                              "hellos": 0, "disconnects": 0, "silent_peer": 0, "send_errors": 0,
                              "socket_errors": 0, "spikes_in": 0, "spikes_out": 0, "reply_timeouts": 0})

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) the server listens on."""
        return self.sock.getsockname()

    def fileno(self) -> int:
        return self.sock.fileno()

    # receiving -----------------------------------------------------------
    def poll_io(self, timeout_s: float = 0.0, max_packets: int = 1024) -> int:
        """Read every datagram waiting (after waiting up to ``timeout_s`` for the first);
        returns how many were read. Called by the kernel window and by the Pacer while idle."""
        if timeout_s > 0:
            r, _, _ = select.select([self.sock], [], [], timeout_s)
            if not r:
                return 0
        n = 0
        while n < max_packets:
            try:
                data, anc, flags, addr = self.sock.recvmsg(self.max_packet + 1, self._anc)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.counters["socket_errors"] += 1
                break
            arrival = None
            for level, ctype, cdata in anc:
                if level == socket.SOL_SOCKET and ctype == _SO_TIMESTAMPNS and len(cdata) >= 16:
                    sec, nsec = struct.unpack_from("qq", cdata)
                    arrival = sec * 1_000_000_000 + nsec
            if arrival is None:
                arrival = time.time_ns()
            n += 1
            self._handle(data, flags, addr, arrival)
        return n

    def wait_for_client(self, timeout_s: float = 10.0) -> bool:
        """Block until a client says HELLO (answered); True if one did."""
        deadline = time.monotonic() + timeout_s
        before = self.counters["hellos"]
        while self.counters["hellos"] == before:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.poll_io(min(left, 0.1))
        return True

    def _hello_payload(self) -> bytes:
        def table(ports, ids):
            return [{"id": ids[k], "name": k, "kind": p.kind, "size": p.size, "field": p.field}
                    for k, p in ports.items()]
        return json.dumps({"protocol": VERSION, "server": self.name, "dt_ms": self.dt,
                           "to_client": table(self.in_ports, self.in_ids),
                           "from_client": table(self.out_ports, {k: j for j, k in enumerate(self.out_by_id)})}
                          ).encode()

    def _handle(self, data: bytes, flags: int, addr, arrival_ns: int) -> None:
        c = self.counters
        c["packets_in"] += 1
        c["bytes_in"] += len(data)
        if len(data) > self.max_packet or flags & getattr(socket, "MSG_TRUNC", 0):
            c["oversized"] += 1
            return
        try:
            hdr, blocks, _ = decode_packet(data, self.max_packet)
        except ProtocolError as e:
            c[e.reason] += 1
            return
        if hdr.type == HELLO:
            self.peer = addr
            self.rx.reset()
            self.rx.see(hdr.seq)
            c["hellos"] += 1
            self._last_rx, self._silent = time.monotonic(), False
            self._send(encode_packet(HELLO, self._next_seq(), payload=self._hello_payload()))
            return
        if self.peer is None:
            self.peer = addr  # implicit HELLO by the first DATA
        elif addr != self.peer:
            c["foreign"] += 1
            return
        self._last_rx, self._silent = time.monotonic(), False
        if hdr.type == BYE:
            c["disconnects"] += 1
            self.peer = None
            return
        if self.rx.see(hdr.seq) == "duplicate":
            return
        if hdr.flags & FLAG_ACK:
            j = hdr.ack % _RING
            if self._send_seq[j] == hdr.ack and not self._acked[j]:
                self._acked[j] = True
                self._rtt[self._n_rtt % self._rtt.size] = (arrival_ns - self._send_ns[j]) * 1e-6
                self._n_rtt += 1
        base = self.tick if hdr.flags & FLAG_ASAP else hdr.tick
        for kind, pid, body in blocks:
            if pid >= len(self.out_by_id):
                c["unknown_port"] += 1
                continue
            port = self.out_by_id[pid]
            if self.out_ports[port].kind != kind:
                c["kind_mismatch"] += 1
                continue
            if kind == "spikes":
                ids, offs = body
                c["spikes_in"] += int(ids.size)
                self._queue_spikes(port, base + offs, ids)
            else:
                off, values = body
                self._queue_sample(port, base + off, values)

    # sending ---------------------------------------------------------------
    def _next_seq(self) -> int:
        s = self.seq
        self.seq = (s + 1) % _U32
        return s

    def _send(self, packet: bytes) -> bool:
        if self.peer is None:
            return False
        try:
            self.sock.sendto(packet, self.peer)
        except OSError:
            self.counters["send_errors"] += 1
            return False
        self.counters["packets_out"] += 1
        self.counters["bytes_out"] += len(packet)
        return True

    def _await_reply(self) -> None:
        j = self._awaiting % _RING
        deadline = time.perf_counter() + self.await_reply_s
        while self.peer is not None and not (self._send_seq[j] == self._awaiting and self._acked[j]):
            left = deadline - time.perf_counter()
            if left <= 0:
                self.counters["reply_timeouts"] += 1
                return
            self.poll_io(min(left, 0.5))

    def advance(self, t_stop, inbox):
        t0 = self.tick
        self.poll_io(0.0)
        if self.await_reply_s > 0 and self._awaiting is not None:
            self._await_reply()
        if self.peer is not None and not self._silent and time.monotonic() - self._last_rx > self.peer_timeout_s:
            self.counters["silent_peer"] += 1
            self._silent = True
        out = self._emit(t0, t_stop)
        if self.peer is not None:
            span = t_stop - t0
            if span > 65535:
                raise ParameterError(self.name, "macro_step", f"windows of {span} ticks",
                                     "at most 65535 ticks (tick offsets are uint16)")
            blocks = []
            for port, msg in inbox.items():
                pid = self.in_ids[port]
                if isinstance(msg, Spikes):
                    if len(msg):
                        blocks.append(("spikes", pid, (msg.index, msg.ticks - t0)))
                        self.counters["spikes_out"] += len(msg)
                else:
                    for t, v in zip(msg.ticks, msg.values):
                        blocks.append((msg.kind, pid, (int(t) - t0, v)))
            seq = self._next_seq()
            ack = self.rx.expected - 1 if self.rx.expected is not None else 0
            now = time.time_ns()
            pkt = encode_packet(DATA, seq, ack=ack, flags=FLAG_ACK if self.rx.expected is not None else 0,
                                step=self.step, tick=t0, span=span, blocks=blocks, time_ns=now)
            if len(pkt) > MAX_UDP:
                self.counters["send_errors"] += 1
            elif self._send(pkt):
                j = seq % _RING
                self._send_ns[j], self._send_seq[j], self._acked[j] = now, seq, False
                self._awaiting = seq
        self.step += 1
        self.tick = t_stop
        return self._keep(out)

    # reporting -----------------------------------------------------------
    def rtt_ms(self) -> np.ndarray:
        """The round-trip times kept (ms, oldest first)."""
        n, cap = self._n_rtt, self._rtt.size
        if n <= cap:
            return self._rtt[:n].copy()
        j = n % cap
        return np.concatenate([self._rtt[j:], self._rtt[:j]])

    def report(self) -> dict:
        return {**self.counters, **{f"rx_{k}": v for k, v in self.rx.report().items()},
                "rtt_ms": _summ(self.rtt_ms()), "kernel_timestamps": self._ts}

    def close(self) -> None:
        """Tell the peer (BYE) and close the socket."""
        if self.sock.fileno() >= 0:
            if self.peer is not None:
                self._send(encode_packet(BYE, self._next_seq()))
            self.sock.close()

    def __del__(self):
        try:
            self.sock.close()
        except Exception:
            pass


# ------------------------------------------------------------------------------ client
@dataclass
class Frame:
    """One DATA packet from the server: the window ``[tick, tick + span)`` (macro-step ``step``)
    and what the network sent in it: ``spikes[port] = (ticks, ids)`` (absolute ticks),
    ``rates[port]`` / ``fields[port]`` = list of (tick, values)."""

    seq: int
    step: int
    tick: int
    span: int
    time_ns: int
    arrival_ns: int
    spikes: dict = field(default_factory=dict)
    rates: dict = field(default_factory=dict)
    fields: dict = field(default_factory=dict)


class LiveClient:
    """The external side of the protocol (see the module doc). ``address``: the server's
    (host, port). Counters in :meth:`report`; anomalies never raise during a run."""

    def __init__(self, address, timeout_s: float = 5.0, max_packet: int = MAX_UDP):
        self.address = (str(address[0]), int(address[1]))
        self.timeout_s = float(timeout_s)
        self.max_packet = int(max_packet)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
        self.sock.connect(self.address)
        self.sock.setblocking(False)
        self.seq = 0
        self.rx = _SeqTracker()
        self.info: dict | None = None
        self._to = {}      # port id -> (name, kind) of ports the server sends
        self._from = {}    # port name -> (id, kind, size) of ports the server takes
        self.counters = {"packets_in": 0, "packets_out": 0, "oversized": 0, "truncated": 0, "malformed": 0,
                         "unknown_port": 0, "server_bye": 0, "socket_errors": 0}

    def fileno(self) -> int:
        return self.sock.fileno()

    def _next_seq(self) -> int:
        s = self.seq
        self.seq = (s + 1) % _U32
        return s

    def _send(self, packet: bytes) -> None:
        try:
            self.sock.send(packet)
            self.counters["packets_out"] += 1
        except OSError:  # e.g. ECONNREFUSED: no server (yet / any more)
            self.counters["socket_errors"] += 1

    def hello(self, timeout_s: float | None = None, retries: int = 10) -> dict:
        """Say HELLO and wait for the server's port table (retrying: UDP may lose it)."""
        timeout = self.timeout_s if timeout_s is None else float(timeout_s)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._send(encode_packet(HELLO, self._next_seq()))
            wait_until = min(deadline, time.monotonic() + timeout / max(1, retries))
            while time.monotonic() < wait_until:
                got = self._recv_one(wait_until - time.monotonic())
                if got == "hello":
                    return self.info
        raise TimeoutError(f"LiveClient: no HELLO reply from {self.address} within {timeout} s")

    def _recv_one(self, timeout_s: float):
        if timeout_s > 0:
            r, _, _ = select.select([self.sock], [], [], timeout_s)
            if not r:
                return None
        try:
            data = self.sock.recv(self.max_packet + 1)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            self.counters["socket_errors"] += 1
            return None
        arrival = time.time_ns()
        self.counters["packets_in"] += 1
        try:
            hdr, blocks, payload = decode_packet(data, self.max_packet)
        except ProtocolError as e:
            self.counters[e.reason] += 1
            return "bad"
        if hdr.type == HELLO:
            self.info = json.loads(payload.decode())
            self._to = {d["id"]: (d["name"], d["kind"]) for d in self.info["to_client"]}
            self._from = {d["name"]: (d["id"], d["kind"], d["size"]) for d in self.info["from_client"]}
            self.rx.reset()
            self.rx.see(hdr.seq)
            return "hello"
        if hdr.type == BYE:
            self.counters["server_bye"] += 1
            return "bye"
        if self.rx.see(hdr.seq) == "duplicate":
            return "duplicate"
        frame = Frame(hdr.seq, hdr.step, hdr.tick, hdr.span, hdr.time_ns, arrival)
        for pid, (name, kind) in self._to.items():
            if kind == "spikes":
                frame.spikes[name] = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        for kind, pid, body in blocks:
            entry = self._to.get(pid)
            if entry is None or entry[1] != kind:
                self.counters["unknown_port"] += 1
                continue
            name = entry[0]
            if kind == "spikes":
                ids, offs = body
                frame.spikes[name] = (hdr.tick + offs, ids)
            else:
                off, values = body
                getattr(frame, kind).setdefault(name, []).append((hdr.tick + off, values))
        return frame

    def recv(self, timeout_s: float | None = None) -> Frame | None:
        """The next DATA frame (None after ``timeout_s`` without one; default the client's
        timeout). HELLO replies, BYE and bad packets are handled and counted on the way."""
        timeout = self.timeout_s if timeout_s is None else float(timeout_s)
        deadline = time.monotonic() + timeout
        while True:
            got = self._recv_one(max(0.0, deadline - time.monotonic()))
            if isinstance(got, Frame):
                return got
            if got is None and time.monotonic() >= deadline:
                return None

    def send(self, spikes: dict | None = None, rates: dict | None = None, fields: dict | None = None,
             tick: int | None = None, step: int = 0) -> int:
        """Send inputs; returns the packet's seq. ``spikes[port]``: neuron ids (at ``tick``) or
        ``(offsets, ids)`` with tick offsets; ``rates``/``fields[port]``: values (at ``tick``).
        ``tick`` None: ASAP (the earliest window the server can still emit into). Acknowledges
        the last packet received (round-trip measurement)."""
        if self.info is None:
            raise ParameterError("LiveClient", "send", "no port table yet", "hello() first")
        blocks = []
        for kind, table in (("spikes", spikes), ("rates", rates), ("fields", fields)):
            for name, value in (table or {}).items():
                if name not in self._from:
                    raise ParameterError("LiveClient", kind, f"unknown port {name!r}", ", ".join(self._from))
                pid, pkind, size = self._from[name]
                if pkind != kind:
                    raise ParameterError("LiveClient", name, f"a {pkind} port given {kind}", pkind)
                if kind == "spikes":
                    if isinstance(value, tuple) and len(value) == 2:
                        offs, ids = np.asarray(value[0]), np.asarray(value[1])
                    else:
                        ids = np.asarray(value)
                        offs = np.zeros(ids.size, dtype=np.int64)
                    blocks.append(("spikes", pid, (ids.ravel(), offs.ravel())))
                else:
                    blocks.append((kind, pid, (0, value)))
        flags = (FLAG_ACK if self.rx.expected is not None else 0) | (FLAG_ASAP if tick is None else 0)
        ack = self.rx.expected - 1 if self.rx.expected is not None else 0
        seq = self._next_seq()
        self._send(encode_packet(DATA, seq, ack=ack, flags=flags, step=step, tick=0 if tick is None else tick,
                                 blocks=blocks))
        return seq

    def reply(self, frame: Frame, spikes: dict | None = None, rates: dict | None = None,
              fields: dict | None = None) -> int:
        """Inputs for the window after ``frame``'s (tick = frame.tick + frame.span)."""
        return self.send(spikes, rates, fields, tick=frame.tick + frame.span, step=frame.step + 1)

    def report(self) -> dict:
        return {**self.counters, **{f"rx_{k}": v for k, v in self.rx.report().items()}}

    def close(self) -> None:
        """Say BYE and close."""
        if self.sock.fileno() >= 0:
            self._send(encode_packet(BYE, self._next_seq()))
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
