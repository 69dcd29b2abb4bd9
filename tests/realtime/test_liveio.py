"""Live I/O: the in-process callback loop (LiveIO) and the UDP protocol (LiveServer/LiveClient):
codec, loss/reordering/duplicate detection on both sides, bad packets counted while the run goes
on, late spikes, disconnects, and closed loops through a PyNN-built emulator network."""
import socket
import struct
import threading
import time

import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.adapters import SpikingComponent
from neurohybrid.errors import ParameterError
from neurohybrid.kernel import CoSimulation, Recorder, SpikeSource, Spikes
from neurohybrid.liveio import (BYE, DATA, FLAG_ACK, FLAG_ASAP, HELLO, LiveClient, LiveIO, LiveServer,
                                ProtocolError, _SeqTracker, decode_packet, encode_packet)
from neurohybrid.realtime import Pacer

DT = 0.1
M = 10


# ------------------------------------------------------------------ codec
def test_packet_round_trip_and_byte_layout():
    pkt = encode_packet(DATA, 7, ack=3, flags=FLAG_ACK, step=11, tick=110, span=10, time_ns=123,
                        blocks=[("spikes", 2, ([5, 1, 4000000], [0, 9, 3])), ("rates", 0, (4, [1.5, 2.0])),
                                ("fields", 1, (0, [0.25]))])
    assert pkt[:4] == b"NHLV" and pkt[4] == 1 and pkt[5] == DATA
    assert struct.unpack_from("<HIIqqIIq", pkt, 6) == (FLAG_ACK, 7, 3, 11, 110, 10, len(pkt) - 48, 123)
    # spikes block: 8-byte header, 3 uint32 ids, 3 uint16 offsets, padded to 20 bytes
    assert struct.unpack_from("<BBHI", pkt, 48) == (1, 0, 2, 3)
    assert len(pkt) == 48 + (8 + 20) + (8 + 4 + 8) + (8 + 4 + 4)
    hdr, blocks, _ = decode_packet(pkt)
    assert (hdr.type, hdr.seq, hdr.ack, hdr.step, hdr.tick, hdr.span, hdr.time_ns) == (DATA, 7, 3, 11, 110, 10, 123)
    (k0, p0, (ids, offs)), (k1, p1, (o1, v1)), (k2, p2, (o2, v2)) = blocks
    assert (k0, p0, k1, p1, o1, k2, p2, o2) == ("spikes", 2, "rates", 0, 4, "fields", 1, 0)
    np.testing.assert_array_equal(ids, [5, 1, 4000000])
    np.testing.assert_array_equal(offs, [0, 9, 3])
    np.testing.assert_allclose(v1, [1.5, 2.0])
    np.testing.assert_allclose(v2, [0.25])


@pytest.mark.parametrize("mangle, reason", [
    (lambda p: p[:20], "truncated"),
    (lambda p: p[:-4], "truncated"),
    (lambda p: b"XXXX" + p[4:], "malformed"),
    (lambda p: p[:4] + b"\x09" + p[5:], "malformed"),
    (lambda p: p[:5] + b"\x07" + p[6:], "malformed"),
    (lambda p: p + b"\0\0\0\0", "malformed"),
    (lambda p: p[:36] + struct.pack("<I", 8) + p[40:48] + struct.pack("<BBHI", 1, 0, 0, 1000), "malformed"),
    (lambda p: p[:36] + struct.pack("<I", 8) + p[40:48] + struct.pack("<BBHI", 9, 0, 0, 0), "malformed"),
    (lambda p: p + b"\0" * 70000, "oversized"),
])
def test_bad_packets_raise_protocol_errors(mangle, reason):
    pkt = encode_packet(DATA, 0, tick=0, blocks=[("spikes", 0, ([1, 2], [0, 1]))])
    with pytest.raises(ProtocolError) as e:
        decode_packet(mangle(pkt))
    assert e.value.reason == reason


def test_sequence_tracker_counts_loss_reordering_and_duplicates():
    tr = _SeqTracker()
    outcomes = [tr.see(s) for s in (0, 1, 3, 4, 2, 2, 7, 6, 5, 5, 8)]
    assert outcomes == ["ok", "ok", "ok", "ok", "reordered", "duplicate", "ok", "reordered", "reordered",
                        "duplicate", "ok"]
    assert tr.report() == {"received": 9, "lost": 0, "reordered": 3, "duplicates": 2}
    tr.see(20)
    assert tr.lost == 11
    # wrap-around of the uint32 sequence is not a loss
    tr = _SeqTracker()
    for s in (2**32 - 2, 2**32 - 1, 0, 1):
        assert tr.see(s) == "ok"
    assert tr.lost == 0


# ------------------------------------------------------------------ server: a raw socket as the client
def _server_cosim(**kw):
    cs = CoSimulation(dt=DT)
    ticks = np.arange(0, 10_000, 13)
    cs.add(SpikeSource("src", ticks, ticks % 4))
    srv = cs.add(LiveServer("live", inputs={"motor": ("spikes", 4)},
                            outputs={"sensory": ("spikes", 8), "drive": ("rates", 2)}, **kw))
    rec = cs.add(Recorder("rec", {"spikes": "spikes", "rates": "rates"}))
    cs.connect("src", "spikes", "live", "motor", delay=M)
    cs.connect("live", "sensory", "rec", "spikes", delay=M)
    cs.connect("live", "drive", "rec", "rates", delay=M)
    return cs, srv, rec


def _raw(srv):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(srv.address)
    s.settimeout(2.0)
    return s


def test_server_detects_loss_reordering_duplicates_and_bad_input_and_goes_on():
    cs, srv, rec = _server_cosim()
    raw = _raw(srv)
    raw.send(encode_packet(HELLO, 0))
    assert srv.wait_for_client(2.0)
    hdr, _, payload = decode_packet(raw.recv(65535))
    assert hdr.type == HELLO
    import json
    info = json.loads(payload)
    assert [p["name"] for p in info["from_client"]] == ["sensory", "drive"]
    assert info["to_client"][0] == {"id": 0, "name": "motor", "kind": "spikes", "size": 4, "field": None}
    cs.run(2.0)  # to tick 20: the next window the server can emit into starts at 20

    def data(seq, tick, ids, offs=None, pid=0, flags=0):
        offs = np.zeros(len(ids), int) if offs is None else offs
        return encode_packet(DATA, seq, tick=tick, flags=flags, blocks=[("spikes", pid, (ids, offs))])

    # seq 0 was the HELLO; 1, 2, 4, 3 (reordered), 3 again (duplicate), 6 (5 lost)
    for seq, ids in ((1, [0]), (2, [1]), (4, [2]), (3, [3]), (3, [3]), (6, [4])):
        raw.send(data(seq, 30, ids))
    raw.send(b"garbage that is not a packet at all!" * 3)        # malformed (bad magic)
    raw.send(data(7, 30, [5])[:60])                             # truncated
    raw.send(data(8, 30, [5], pid=9))                           # unknown port
    raw.send(encode_packet(DATA, 9, tick=30, blocks=[("rates", 0, (0, [1.0, 2.0]))]))  # rates on a spikes port
    raw.send(data(10, 30, [5, 99]))                             # neuron 99 >= 8: bad id
    raw.send(data(11, 5, [6, 7]))                               # stamped in the past: late
    raw.send(encode_packet(DATA, 12, tick=31, blocks=[("rates", 1, (0, [5.0, 6.0]))]))
    raw.send(encode_packet(DATA, 13, tick=0, flags=FLAG_ASAP, blocks=[("spikes", 0, ([7], [2]))]))
    time.sleep(0.05)
    cs.run(6.0)  # the run goes on
    r = srv.report()
    # lost: 5, and 7 (its packet was truncated: a sequence number that is not trusted)
    assert (r["rx_lost"], r["rx_reordered"], r["rx_duplicates"]) == (2, 1, 1)
    assert (r["malformed"], r["truncated"], r["unknown_port"], r["kind_mismatch"]) == (1, 1, 1, 1)
    assert r["bad_ids"] == 1 and r["late_spikes"] == 2
    got = rec.received("spikes")
    # delivered: ids 0,1,2,3,4 and 5 at tick 30, id 7 ASAP at tick 20 + 2 (one link delay later at rec)
    assert sorted(zip((got.ticks - M).tolist(), got.index.tolist())) == \
        [(22, 7)] + [(30, i) for i in range(6)]
    rates = rec.received("rates")
    np.testing.assert_array_equal(rates.ticks - M, [31])
    np.testing.assert_allclose(rates.values, [[5.0, 6.0]])
    # the server sent one DATA packet per window with the network's spikes
    frames = []
    raw.settimeout(0.2)
    try:
        while True:
            frames.append(decode_packet(raw.recv(65535)))
    except socket.timeout:
        pass
    assert len(frames) == 6 and [h.tick for h, _, _ in frames] == list(range(0, 60, 10))
    sent = np.concatenate([b[0][2][1] + h.tick for h, b, _ in frames if b])
    np.testing.assert_array_equal(np.sort(sent), np.arange(0, 60 - M, 13) + M)
    # a client that says BYE is a disconnect; the server stops sending and goes on
    raw.send(encode_packet(BYE, 14))
    time.sleep(0.02)
    n_out = srv.report()["packets_out"]
    cs.run(8.0)
    assert srv.report()["disconnects"] == 1 and srv.report()["packets_out"] == n_out
    srv.close()
    raw.close()


def test_oversized_and_foreign_packets_and_silent_peer():
    cs, srv, rec = _server_cosim(max_packet=200, peer_timeout_s=0.05)
    raw = _raw(srv)
    raw.send(encode_packet(HELLO, 0))
    assert srv.wait_for_client(2.0)
    raw.send(encode_packet(DATA, 1, tick=0, blocks=[("spikes", 0, (np.zeros(50, int), np.zeros(50, int)))]))
    other = _raw(srv)
    other.send(encode_packet(DATA, 0, tick=50, blocks=[("spikes", 0, ([1], [0]))]))
    time.sleep(0.02)
    cs.run(1.0)
    time.sleep(0.1)
    cs.run(2.0)
    r = srv.report()
    assert r["oversized"] == 1 and r["foreign"] == 1 and r["silent_peer"] == 1
    assert len(rec.received("spikes")) == 0
    for s in (raw, other):
        s.close()
    srv.close()


def test_bad_server_declarations_are_typed_errors():
    with pytest.raises(ParameterError, match="size"):
        LiveServer("x", outputs={"a": "spikes"})
    with pytest.raises(ParameterError, match="kind"):
        LiveIO("x", outputs={"a": ("volts", 3)}, callback=lambda t, i: None)
    with pytest.raises(ParameterError, match="max_packet"):
        LiveServer("x", max_packet=10)
    with pytest.raises(ParameterError, match="callback"):
        LiveIO("x", outputs={"a": ("spikes", 3)})


# ------------------------------------------------------------------ client: a raw socket as the server
def test_client_counts_loss_reordering_and_bad_packets():
    fake = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fake.bind(("127.0.0.1", 0))
    client = LiveClient(fake.getsockname(), timeout_s=0.2)
    import json
    table = {"protocol": 1, "server": "fake", "dt_ms": 0.1,
             "to_client": [{"id": 0, "name": "motor", "kind": "spikes", "size": 4, "field": None}],
             "from_client": [{"id": 0, "name": "sensory", "kind": "spikes", "size": 8, "field": None}]}
    threading.Timer(0.05, lambda: fake.sendto(encode_packet(HELLO, 0, payload=json.dumps(table).encode()),
                                              client.sock.getsockname())).start()
    assert client.hello(timeout_s=2.0)["server"] == "fake"
    addr = client.sock.getsockname()
    for seq in (1, 2, 5, 3, 3, 6):  # 4 lost, 3 reordered then duplicated
        fake.sendto(encode_packet(DATA, seq, tick=10 * seq, span=10,
                                  blocks=[("spikes", 0, ([seq % 4], [1]))]), addr)
    fake.sendto(b"NHLV" + b"\0" * 10, addr)
    fake.sendto(encode_packet(DATA, 7, tick=70, span=10, blocks=[("spikes", 3, ([1], [1]))]), addr)
    frames = []
    while (f := client.recv(timeout_s=0.2)) is not None:
        frames.append(f)
    assert [f.seq for f in frames] == [1, 2, 5, 3, 6, 7]
    assert frames[0].spikes["motor"][0].tolist() == [11] and frames[0].spikes["motor"][1].tolist() == [1]
    r = client.report()
    assert (r["rx_lost"], r["rx_reordered"], r["rx_duplicates"]) == (1, 1, 1)
    assert r["truncated"] == 1 and r["unknown_port"] == 1
    # the reply acknowledges the last packet and targets the next window
    client.reply(frames[-1], spikes={"sensory": [3, 4]})
    while (got := decode_packet(fake.recv(65535)))[0].type == HELLO:  # hello() may have said it twice
        pass
    hdr, blocks, _ = got
    assert hdr.flags & FLAG_ACK and hdr.ack == 7 and hdr.tick == 80 and not hdr.flags & FLAG_ASAP
    assert blocks[0][2][0].tolist() == [3, 4]
    with pytest.raises(ParameterError, match="unknown port"):
        client.send(spikes={"nope": [1]})
    client.close()
    assert decode_packet(fake.recv(65535))[0].type == BYE
    fake.close()


# ------------------------------------------------------------------ closed loops through a PyNN-built network
CELL = dict(tau_m=20.0, v_thresh=-50.0, v_reset=-65.0, v_rest=-65.0, tau_refrac=0.5)


@pytest.fixture
def circuit():
    """ext -> A one-to-one, weight 30 mV on IF_curr_delta cells 15 mV below threshold: each input
    spike fires its cell 5 ticks later (delay 0.5 ms)."""
    sim.setup(timestep=DT, seed=1, threads=1)
    ext = sim.Population(10, sim.SpikeSourceExternal(), label="ext")
    A = sim.Population(10, sim.IF_curr_delta(**CELL), label="A")
    sim.Projection(ext, A, sim.OneToOneConnector(), sim.StaticSynapse(weight=30.0, delay=0.5))
    A.record("spikes")
    net = sim.state.network
    net._prepare()
    comp = SpikingComponent("circuit", net.engine, inputs={"in": "ext"}, outputs={"out": ["A"]})
    yield net, comp
    sim.end()


def _loop(comp, live):
    cs = CoSimulation(dt=DT)
    cs.add(live)
    cs.add(comp)
    cs.connect("circuit", "out", live.name, "motor", delay=M)
    cs.connect(live.name, "sensory", "circuit", "in", delay=M)
    return cs


def _a_spikes(net, comp):
    comp.flush()
    t, i = net.store.read_spikes("A")
    return np.rint(t / DT).astype(np.int64) - 1, i.astype(np.int64)  # emission ticks


def test_in_process_callback_closes_the_loop(circuit):
    net, comp = circuit
    calls = []

    def experiment(t_ms, inputs):
        calls.append(t_ms)
        if t_ms == 0.0:
            return {"sensory": [0, 1, 2]}  # seed: three neurons at tick 0
        return {"sensory": inputs["motor"].index}  # echo every motor spike as a sensory spike
    live = LiveIO("env", inputs={"motor": "spikes"}, outputs={"sensory": ("spikes", 10)}, callback=experiment)
    cs = _loop(comp, live)
    cs.run(50.0)
    assert len(calls) == 50 and calls[:3] == [0.0, 1.0, 2.0]
    ticks, ids = _a_spikes(net, comp)
    # spike at tick s (window w) -> env in window w+1 -> echoed at (w+1)M -> circuit at (w+2)M, fires 5 later
    for n in (0, 1, 2):
        t = ticks[ids == n]
        assert t[0] == M + 5 and np.all(np.diff(t) == 2 * M), t
        assert t.size == 25  # 15, 35, ..., 495
    assert set(ids.tolist()) == {0, 1, 2}


def test_generator_api_and_value_forms(circuit):
    net, comp = circuit

    def gen():
        t_ms, inputs = yield
        while True:
            if t_ms == 0.0:
                out = {"sensory": (np.array([3, 25]), np.array([4, 5]))}  # (absolute ticks, ids): 25 is later
            elif t_ms == 5.0:
                out = {"sensory": Spikes.make([59, 58], [6, 7])}
            elif t_ms == 7.0:
                out = {"sensory": [8, 99]}  # 99 is no neuron of the port
            elif t_ms == 9.0:
                out = {"sensory": (np.array([10]), np.array([9]))}  # in the past: late
            else:
                out = None
            t_ms, inputs = yield out
    live = LiveIO("env", inputs={"motor": "spikes"}, outputs={"sensory": ("spikes", 10)}, generator=gen())
    cs = _loop(comp, live)
    cs.run(20.0)
    ticks, ids = _a_spikes(net, comp)
    fired = dict(zip(ids.tolist(), ticks.tolist()))
    # fires at emitted tick + link (M) + synaptic delay (5)
    assert fired == {4: 3 + 15, 5: 25 + 15, 7: 58 + 15, 6: 59 + 15, 8: 70 + 15}
    assert live.report()["bad_ids"] == 1 and live.report()["late_spikes"] == 1


def test_callback_errors_are_typed(circuit):
    net, comp = circuit
    live = LiveIO("env", inputs={"motor": "spikes"}, outputs={"sensory": ("spikes", 10)},
                  callback=lambda t, i: {"nope": [1]})
    with pytest.raises(ParameterError, match="nope"):
        _loop(comp, live).run(1.0)


def test_wire_loop_paced_with_an_external_client(circuit):
    """A LiveClient in a thread echoes the motor spikes with reply(): at rtf 0.25 the replies
    are on time (a bounded wait for them covers a loaded machine), the loop period is 3
    macro-steps, round trips are measured."""
    net, comp = circuit
    srv = LiveServer("env", inputs={"motor": ("spikes", 10)}, outputs={"sensory": ("spikes", 10)},
                     await_reply_ms=100.0)
    cs = _loop(comp, srv)
    report = {}

    def client():
        with LiveClient(srv.address, timeout_s=1.0) as c:
            c.hello()
            while (f := c.recv(timeout_s=1.0)) is not None:
                _, ids = f.spikes["motor"]
                c.reply(f, spikes={"sensory": [0, 1] if f.step == 0 else ids})
            report.update(c.report())
    th = threading.Thread(target=client)
    th.start()
    assert srv.wait_for_client(5.0)
    pacer = Pacer(cs, rtf=0.25)
    t0 = time.perf_counter()
    pacer.run(60.0)
    run_ms = (time.perf_counter() - t0) * 1e3
    srv.close()
    th.join(5.0)
    r = srv.report()
    ticks, ids = _a_spikes(net, comp)
    on_time = r["late_spikes"] == 0
    for n in (0, 1):
        t = ticks[ids == n]
        assert t.size >= 10, (t, r)
        if on_time:  # seed sent in reply to window 0: emitted at tick M, fires at 2M + 5; then every 3M
            assert t[0] == 2 * M + 5 and np.all(np.diff(t) == 3 * M), t
    assert r["rx_lost"] == 0 and r["rx_reordered"] == 0 and report["rx_lost"] == 0
    # round trips are measured (one per answered window), in ms, within the run. No bound on
    # their latency (it was p50 < 20 ms): it depends on the machine's load (another process may
    # hold the CPU), and benchmarks/realtime_latency.py measures it (rtt p50/p99/max). What load
    # cannot change: each one was sent and answered during the run (catches a unit or clock bug).
    rtt = srv.rtt_ms()
    assert r["rtt_ms"]["n"] >= 50 and rtt.size == r["rtt_ms"]["n"]
    assert np.all(rtt >= 0.0) and rtt.max() <= run_ms, (rtt.max(), run_ms)
    assert report["server_bye"] == 1


def test_lockstep_with_a_slow_client(circuit):
    """await_reply_ms=inf: the server waits for each answer, so a client slower than the
    simulation (3 ms per window, unpaced run) still closes the loop exactly, with no late spike."""
    net, comp = circuit
    srv = LiveServer("env", inputs={"motor": ("spikes", 10)}, outputs={"sensory": ("spikes", 10)},
                     await_reply_ms=float("inf"))
    cs = _loop(comp, srv)

    def client():
        with LiveClient(srv.address, timeout_s=1.0) as c:
            c.hello()
            while (f := c.recv(timeout_s=1.0)) is not None:
                time.sleep(0.003)
                _, ids = f.spikes["motor"]
                c.reply(f, spikes={"sensory": [3] if f.step == 0 else ids})
    th = threading.Thread(target=client)
    th.start()
    assert srv.wait_for_client(5.0)
    cs.run(30.0)
    srv.close()
    th.join(5.0)
    r = srv.report()
    assert r["late_spikes"] == 0 and r["reply_timeouts"] == 0
    ticks, ids = _a_spikes(net, comp)
    t = ticks[ids == 3]
    assert t[0] == 2 * M + 5 and np.all(np.diff(t) == 3 * M) and t.size == 10, t  # 25, 55, ..., 295
    with pytest.raises(ParameterError, match="await_reply_ms"):
        LiveServer("x", await_reply_ms=-1)
