"""The external side of live I/O: :class:`LiveClient`, the code another process uses to talk
to a running simulation's :class:`~neurohybrid.liveio.LiveServer`, and the :class:`Frame` s
(one per server window) it receives. Example and timing: :mod:`neurohybrid.liveio`; the wire
format: :mod:`neurohybrid.liveio.protocol`.
"""
from __future__ import annotations

import json
import select
import socket
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import ParameterError
from .protocol import (BYE, DATA, FLAG_ACK, FLAG_ASAP, HELLO, MAX_UDP, _U32, ProtocolError, _SeqTracker,
                       decode_packet, encode_packet)

__all__ = ["LiveClient", "Frame"]


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
    """The external side of the protocol (see :mod:`neurohybrid.liveio.protocol`). ``address``:
    the server's (host, port). Counters in :meth:`report`; anomalies never raise during a run."""

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
