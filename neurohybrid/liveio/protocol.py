"""The live I/O wire protocol: constants, packet encoding/decoding and sequence tracking,
shared by :class:`~neurohybrid.liveio.LiveServer` and :class:`~neurohybrid.liveio.LiveClient`
(overview and timing: :mod:`neurohybrid.liveio`).

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
"""
from __future__ import annotations

import struct
import time
from dataclasses import dataclass

import numpy as np

from ..errors import NeurohybridError

__all__ = ["ProtocolError", "encode_packet", "decode_packet", "HEADER", "BLOCK", "MAGIC", "VERSION", "DATA",
           "HELLO", "BYE", "FLAG_ACK", "FLAG_ASAP"]

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
