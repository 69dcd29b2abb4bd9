"""The live I/O kernel components: :class:`LiveIO` (in process) and :class:`LiveServer` (over
UDP), both co-simulation :class:`~neurohybrid.kernel.Component` s linked to the network like
any other component (overview, port directions and timing: :mod:`neurohybrid.liveio`; the
wire format: :mod:`neurohybrid.liveio.protocol`).

Port declarations: a kind string (``"spikes"``), a tuple ``(kind, size)`` or
``(kind, size, field_name)``, or a :class:`LivePort`. Spikes outputs need their size (neuron ids
are checked against it), rates/fields their number of values.

A generator works too (``LiveIO(..., generator=gen)``): the component primes it with
``next(gen)`` and then calls ``gen.send((t_ms, inputs))`` each window; it yields the outputs.

Callback return values, per output port: spikes — an array of neuron ids (all at the window's
first tick), ``(ticks, ids)`` with absolute kernel ticks, or a :class:`~neurohybrid.kernel.Spikes`;
rates/fields — an array of values (sample at the window start), ``(tick, values)`` or a
:class:`~neurohybrid.kernel.Series`. Ports may be omitted; None is nothing.

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
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from ..kernel import Component, Port, Series, Spikes
from .protocol import (BYE, DATA, FLAG_ACK, FLAG_ASAP, HEADER, HELLO, KIND_CODE, MAX_UDP, VERSION, _RING, _U32,
                       ProtocolError, _SeqTracker, decode_packet, encode_packet)

__all__ = ["LivePort", "LiveIO", "LiveServer"]

# kernel receive time stamps (CLOCK_REALTIME): Python does not always export the constant
_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35 if __import__("sys").platform == "linux" else None)


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
        """Counters of everything refused or late (see :mod:`neurohybrid.liveio` and
        :mod:`neurohybrid.liveio.protocol`)."""
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
    """Live I/O over UDP (see :mod:`neurohybrid.liveio.protocol` for the protocol).

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
