"""Tests of the HDF5 run store: round trips, the SONATA layout, survival of killed runs, errors."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import h5py
import numpy as np
import pytest

from neurohybrid.errors import ParameterError, RecordingError
from neurohybrid.recording import (
    RunStore, decode_name, encode_name, open_run, populations, read_manifest, read_signal, read_spikes,
    segments,
)

REPO = Path(__file__).resolve().parents[2]


def spike_batches(rng, n_batches, size, per_batch, t0=0.0, span=10.0):
    """Time-ordered random batches: list of (times ms, node ids)."""
    out = []
    for k in range(n_batches):
        n = int(per_batch[k]) if np.ndim(per_batch) else per_batch
        t = np.sort(rng.uniform(t0 + k * span, t0 + (k + 1) * span, n))
        out.append((t, rng.integers(0, size, n)))
    return out


def cat(batches):
    return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches]).astype(np.uint64)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# --------------------------------------------------------------------------- round trips
def test_round_trip_spikes_and_signals_two_segments(tmp_path, rng):
    path = tmp_path / "run.h5"
    manifest = {"model_hash": "abc123", "seeds": [1, 2], "dt": 0.1}
    # A small chunk makes the batches cross chunk boundaries and mixes buffered and direct writes.
    store = RunStore(path, manifest)
    store.spike_chunk = 64
    expected = {}
    for seg in (0, 1):
        store.add_population("exc", 50, segment=seg)
        store.add_population("inh", 7, segment=seg)
        store.add_signal("exc", "v", "mV", 0.1, 0.0, np.array([0, 3, 9]), segment=seg)
        store.add_signal("inh", "gsyn_exc", "uS", 0.5, 1.0, np.array([2]), segment=seg)
        exc = spike_batches(rng, 5, 50, [3, 0, 200, 1, 70], t0=seg * 100.0)
        inh = spike_batches(rng, 5, 7, [10, 20, 0, 5, 129], t0=seg * 100.0)
        v = [rng.normal(-65.0, 5.0, (n, 3)) for n in (10, 1, 0, 40, 7)]
        g = [rng.uniform(0, 0.01, (n, 1)) for n in (2, 3, 5, 0, 4)]
        for k in range(5):
            store.append_spikes("exc", *exc[k], segment=seg)
            store.append_spikes("inh", *inh[k], segment=seg)
            store.append_signal("exc", "v", v[k], segment=seg)
            store.append_signal("inh", "gsyn_exc", g[k], segment=seg)
            if k % 2:
                store.flush()
        expected[seg] = {"exc": cat(exc), "inh": cat(inh), "v": np.concatenate(v), "g": np.concatenate(g)}

    def check(reader):
        assert reader.segments() == [0, 1]
        assert reader.manifest == manifest
        for seg in (0, 1):
            assert reader.populations(seg) == ["exc", "inh"]
            for label in ("exc", "inh"):
                t, n = reader.read_spikes(label, segment=seg)
                np.testing.assert_array_equal(t, expected[seg][label][0])
                np.testing.assert_array_equal(n, expected[seg][label][1])
                assert t.dtype == np.float64 and n.dtype == np.uint64
            sig = reader.read_signal("exc", "v", segment=seg)
            np.testing.assert_array_equal(sig["samples"], expected[seg]["v"])
            assert sig["units"] == "mV" and sig["sampling_interval"] == 0.1 and sig["t_start"] == 0.0
            np.testing.assert_array_equal(sig["channel_ids"], [0, 3, 9])
            sig = reader.read_signal("inh", "gsyn_exc", segment=seg)
            np.testing.assert_array_equal(sig["samples"], expected[seg]["g"])
            assert (sig["units"], sig["sampling_interval"], sig["t_start"]) == ("uS", 0.5, 1.0)
            assert reader.variables("exc", seg) == ["v"]
            assert reader.population_size("inh", seg) == 7

    check(store)  # an open writer reads its own buffered data too
    store.close()
    store.close()  # idempotent
    with open_run(path) as reader:
        check(reader)
    t, n = read_spikes(path, "inh", segment=1)
    np.testing.assert_array_equal(t, expected[1]["inh"][0])
    np.testing.assert_array_equal(read_signal(path, "exc", "v", 1)["samples"], expected[1]["v"])
    assert segments(path) == [0, 1]
    assert populations(path, 1) == ["exc", "inh"]
    assert read_manifest(path) == manifest


def test_append_copies_caller_arrays(tmp_path):
    store = RunStore(tmp_path / "r.h5", {})
    store.add_population("p", 10)
    store.add_signal("p", "v", "mV", 1.0, 0.0, np.arange(2))
    t, n, s = np.array([1.0, 2.0]), np.array([3, 4]), np.ones((2, 2))
    store.append_spikes("p", t, n)
    store.append_signal("p", "v", s)
    t[:], n[:], s[:] = 99.0, 9, 0.0  # engines reuse their buffers
    store.close()
    with open_run(tmp_path / "r.h5") as r:
        np.testing.assert_array_equal(r.read_spikes("p")[0], [1.0, 2.0])
        np.testing.assert_array_equal(r.read_spikes("p")[1], [3, 4])
        np.testing.assert_array_equal(r.read_signal("p", "v")["samples"], np.ones((2, 2)))


def test_escaped_labels_round_trip(tmp_path):
    labels = ["exc/L2/3", "a%2Fb", ".", "..", "x y", "ä/ö"]
    for label in labels:
        assert decode_name(encode_name(label)) == label
        assert "/" not in encode_name(label)
    assert encode_name("exc/L2") != encode_name("exc%2FL2")
    path = tmp_path / "names.h5"
    with RunStore(path, {}) as store:
        for i, label in enumerate(labels):
            store.add_population(label, 5)
            store.append_spikes(label, np.array([float(i)]), np.array([i % 5]))
            store.add_signal(label, "v/soma", "mV", 1.0, 0.0, np.array([0]))
            store.append_signal(label, "v/soma", np.full((1, 1), float(i)))
    with open_run(path) as r:
        assert r.populations() == sorted(labels)
        for i, label in enumerate(labels):
            assert r.read_spikes(label)[0].tolist() == [float(i)]
            assert r.variables(label) == ["v/soma"]
            assert r.read_signal(label, "v/soma")["samples"].tolist() == [[float(i)]]
    with h5py.File(path, "r") as f:
        assert "exc%2FL2%2F3" in f["spikes"] and "a%252Fb" in f["spikes"] and "%2E" in f["spikes"]


def test_manifest_json_and_updates(tmp_path):
    path = tmp_path / "m.h5"
    store = RunStore(path, {"seed": np.int64(7), "dt": np.float64(0.1), "versions": {"numpy": np.__version__}})
    store.update_manifest(placement={"exc": "emulator"}, weights_hash="ff" * 16)
    store.flush()
    raw = path.read_bytes()  # in the file before close (the writer process holds the HDF5 lock)
    assert b'"weights_hash": "' + b"ff" * 16 in raw and b'"placement": {"exc": "emulator"}' in raw
    assert store.manifest == {"seed": 7, "dt": 0.1, "versions": {"numpy": np.__version__},
                              "placement": {"exc": "emulator"}, "weights_hash": "ff" * 16}
    with pytest.raises(ParameterError, match="manifest"):
        store.update_manifest(bad=object())
    assert "bad" not in store.manifest
    store.update_manifest(big="x" * 200_000)  # beyond compact attribute storage (64 KiB)
    store.close()
    assert read_manifest(path)["big"] == "x" * 200_000
    # A bad manifest is refused before the existing file is truncated.
    with pytest.raises(ParameterError, match="manifest"):
        RunStore(path, {"f": lambda: 0})
    assert read_manifest(path)["seed"] == 7


# --------------------------------------------------------------------------- SONATA layout
def test_sonata_layout_with_plain_h5py(tmp_path, rng):
    path = tmp_path / "sonata.h5"
    exc = spike_batches(rng, 3, 20, 40)
    with RunStore(path, {"dt": 0.1}) as store:
        store.add_population("exc", 20)
        store.add_population("exc", 20, segment=2)
        store.add_signal("exc", "v", "mV", 0.1, 0.0, np.array([1, 4]))
        for t, n in exc:
            store.append_spikes("exc", t, n)
            store.append_spikes("exc", t + 500.0, n, segment=2)
            store.append_signal("exc", "v", np.zeros((3, 2)))
            store.flush()
    with h5py.File(path, "r") as f:
        for root, offset in (("/spikes/exc", 0.0), ("/segments/2/spikes/exc", 500.0)):
            pop = f[root]
            enum = h5py.check_enum_dtype(pop.attrs.get_id("sorting").dtype)
            assert enum == {"none": 0, "by_id": 1, "by_time": 2}
            assert pop.attrs["sorting"] == enum["by_time"]
            ts, ids = pop["timestamps"], pop["node_ids"]
            assert ts.dtype == np.dtype("float64") and ids.dtype == np.dtype("uint64")
            assert ts.attrs["units"] == "ms"
            assert ts.maxshape == (None,) and ids.maxshape == (None,) and ts.chunks is not None
            assert np.all(np.diff(ts[()]) >= 0)
            assert ids[()].max() < 20 and ids[()].min() >= 0  # 0-based population-local
            np.testing.assert_array_equal(ts[()], cat(exc)[0] + offset)
            np.testing.assert_array_equal(ids[()], cat(exc)[1])
            assert int(pop.attrs["size"]) == 20
        data = f["/signals/exc/v/data"]
        assert data.shape == (9, 2) and data.dtype == np.float64 and data.maxshape[0] is None
        assert data.attrs["units"] == "mV" and data.attrs["sampling_interval"] == 0.1
        assert data.attrs["t_start"] == 0.0 and data.attrs["time_units"] == "ms"
        assert f["/signals/exc/v/channel_ids"][()].tolist() == [1, 4]
        assert json.loads(f.attrs["manifest"]) == {"dt": 0.1}
        assert "1" not in f.get("segments", {})  # segments exist only where written
    assert segments(path) == [0, 2]


def test_readable_by_libsonata(tmp_path, rng):
    libsonata = pytest.importorskip("libsonata")
    path = tmp_path / "ls.h5"
    exc = spike_batches(rng, 2, 30, 25)
    with RunStore(path, {}) as store:
        store.add_population("exc", 30)
        for t, n in exc:
            store.append_spikes("exc", t, n)
    pop = libsonata.SpikeReader(str(path))["exc"]
    assert pop.sorting == "by_time"
    got = np.array(pop.get())
    np.testing.assert_array_equal(got[:, 0], cat(exc)[1])
    np.testing.assert_array_equal(got[:, 1], cat(exc)[0])


# --------------------------------------------------------------------------- killed runs
_CHILD = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    from neurohybrid.recording import RunStore

    path, how = sys.argv[1], sys.argv[2]
    store = RunStore(path, {"run": "killed"})
    store.add_population("exc", 100)
    store.add_signal("exc", "v", "mV", 0.1, 0.0, np.arange(4))

    def batch(k):
        t = np.linspace(10.0 * k, 10.0 * k + 9.0, 50 + k)
        return t, (np.arange(t.size) * 7 + k) % 100, np.full((5, 4), float(k))

    k = 0
    while True:
        t, n, v = batch(k)
        store.append_spikes("exc", t, n)
        store.append_signal("exc", "v", v)
        store.flush()
        print(k, flush=True)
        k += 1
        if how != "stream" and k == 3:
            break
    t, n, v = batch(k)  # appended, never flushed
    store.append_spikes("exc", t, n)
    store.append_signal("exc", "v", v)
    print("ready", flush=True)
    sys.stdin.readline()  # hold the file open until the parent has looked
    if how == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(0)
""")


def _expected_batches(n_batches):
    ts, ns, vs = [], [], []
    for k in range(n_batches):
        t = np.linspace(10.0 * k, 10.0 * k + 9.0, 50 + k)
        ts.append(t)
        ns.append((np.arange(t.size) * 7 + k) % 100)
        vs.append(np.full((5, 4), float(k)))
    return np.concatenate(ts), np.concatenate(ns), np.concatenate(vs)


def _start_child(tmp_path, path, how):
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    return subprocess.Popen([sys.executable, str(script), str(path), how], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _check_flushed(path, n_batches, exact):
    t_exp, n_exp, v_exp = _expected_batches(n_batches)
    with open_run(path) as r:
        assert r.manifest == {"run": "killed"}
        t, n = r.read_spikes("exc")
        v = r.read_signal("exc", "v")["samples"]
    if exact:
        np.testing.assert_array_equal(t, t_exp)
        np.testing.assert_array_equal(n, n_exp)
        np.testing.assert_array_equal(v, v_exp)
    else:  # more than the flushed batches may have reached the disk, never less, never garbage
        assert t.size >= t_exp.size and v.shape[0] >= v_exp.shape[0]
        k, n_spikes = n_batches, t_exp.size  # batch k holds 50 + k spikes and 5 samples
        while n_spikes < t.size or 5 * k < v.shape[0]:
            n_spikes += 50 + k
            k += 1
        t_all, n_all, v_all = _expected_batches(k)
        np.testing.assert_array_equal(t, t_all[: t.size])
        np.testing.assert_array_equal(n, n_all[: n.size])
        np.testing.assert_array_equal(v, v_all[: v.shape[0]])


@pytest.mark.parametrize("how", ["sigkill", "os_exit"])
def test_killed_run_keeps_flushed_batches(tmp_path, how):
    path = tmp_path / "killed.h5"
    child = _start_child(tmp_path, path, how)
    try:
        lines = [child.stdout.readline().strip() for _ in range(4)]
        assert lines == ["0", "1", "2", "ready"], child.stderr.read()
        # While the writer still holds the file open: a best-effort reader sees the last flush.
        _check_flushed(path, 3, exact=True)
        child.stdin.write("go\n")
        child.stdin.flush()
        child.wait(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == (-signal.SIGKILL if how == "sigkill" else 0)
    _check_flushed(path, 3, exact=True)  # the unflushed 4th batch is gone, the rest intact
    with h5py.File(path, "r") as f:  # plain h5py (any SONATA tool) opens the killed run
        assert f["/spikes/exc/timestamps"].shape == f["/spikes/exc/node_ids"].shape


def test_run_killed_while_streaming(tmp_path):
    path = tmp_path / "stream.h5"
    child = _start_child(tmp_path, path, "stream")
    try:
        flushed = -1
        while flushed < 4:
            line = child.stdout.readline()
            assert line, child.stderr.read()
            flushed = int(line)
        child.send_signal(signal.SIGKILL)  # lands anywhere: mid-append, mid-flush or between
        child.wait(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    _check_flushed(path, flushed + 1, exact=False)


# --------------------------------------------------------------------------- large batches
def test_million_spike_batches_are_memory_light(tmp_path):
    n, size = 1_000_000, 10_000
    path = tmp_path / "big.h5"
    with RunStore(path, {}) as store:
        store.add_population("big", size)
        for k in range(3):
            t = np.linspace(k * 1000.0, k * 1000.0 + 999.0, n)
            ids = (np.arange(n, dtype=np.int64) * 31 + k) % size
            tracemalloc.start()
            store.append_spikes("big", t, ids)
            store.flush()
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            # One copy of the batch (16 MB) plus scratch; a per-spike Python path or repeated
            # concatenation would be far above this.
            assert peak < 3 * (t.nbytes + ids.nbytes), peak
    with h5py.File(path, "r") as f:
        ts = f["/spikes/big/timestamps"]
        assert ts.shape == (3 * n,)
        assert ts[n - 1] == 999.0 and ts[n] == 1000.0 and ts[-1] == 2999.0
        assert f["/spikes/big/node_ids"][2 * n + 1] == (31 + 2) % size


# --------------------------------------------------------------------------- errors
def test_missing_directory_is_recording_error(tmp_path):
    path = tmp_path / "nope" / "run.h5"
    with pytest.raises(RecordingError, match="does not exist") as info:
        RunStore(path, {})
    assert str(path) in str(info.value) and "accepted" in str(info.value)


def test_directory_as_path_is_recording_error(tmp_path):
    with pytest.raises(RecordingError, match="is a directory") as info:
        RunStore(tmp_path, {})
    assert str(tmp_path) in str(info.value) and "accepted" in str(info.value)


def test_read_only_location_is_recording_error(tmp_path):
    if os.geteuid() == 0:
        # root ignores permission bits; sysfs refuses new files even to root.
        if not os.path.isdir("/sys/kernel"):
            pytest.skip("needs sysfs when running as root")
        path = Path("/sys/kernel/neurohybrid_run.h5")
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        path = ro / "run.h5"
    with pytest.raises(RecordingError) as info:
        RunStore(path, {})
    assert str(path) in str(info.value) and "accepted" in str(info.value)
    assert not path.exists()


def test_bad_paths_on_read(tmp_path):
    with pytest.raises(RecordingError, match="does not exist"):
        open_run(tmp_path / "missing.h5")
    junk = tmp_path / "junk.h5"
    junk.write_text("not hdf5")
    with pytest.raises(RecordingError, match="junk.h5"):
        open_run(junk)


def test_unknown_names_on_read_are_named(tmp_path):
    path = tmp_path / "r.h5"
    with RunStore(path, {}) as store:
        store.add_population("exc", 3)
        store.add_signal("exc", "v", "mV", 1.0, 0.0, np.arange(3))
    with open_run(path) as r:
        with pytest.raises(RecordingError, match="'inh'") as info:
            r.read_spikes("inh")
        assert "'exc'" in str(info.value)  # says what exists
        with pytest.raises(RecordingError, match="'gsyn_exc'") as info:
            r.read_signal("exc", "gsyn_exc")
        assert "'v'" in str(info.value)
        with pytest.raises(RecordingError, match="'inh'"):
            r.read_signal("inh", "v")
        with pytest.raises(RecordingError, match="segment 3"):
            r.read_spikes("exc", segment=3)
        with pytest.raises(RecordingError, match="read-only"):
            r.add_population("inh", 2)
    with pytest.raises(RecordingError, match="'nope'"):
        read_spikes(path, "nope")


def test_bad_appends(tmp_path):
    store = RunStore(tmp_path / "r.h5", {})
    store.add_population("p", 10)
    store.add_signal("p", "v", "mV", 0.1, 0.0, np.arange(3))
    with pytest.raises(RecordingError, match="'q'"):
        store.append_spikes("q", np.array([1.0]), np.array([0]))
    with pytest.raises(RecordingError, match="already added"):
        store.add_population("p", 10)
    store.add_population("p", 10, segment=1)  # the same label in another segment is fine
    store.append_spikes("p", np.array([1.0, 2.0]), np.array([0, 9]))
    with pytest.raises(ParameterError, match="time order"):
        store.append_spikes("p", np.array([1.5]), np.array([0]))  # before the previous batch's end
    with pytest.raises(ParameterError, match="time order"):
        store.append_spikes("p", np.array([5.0, 4.0]), np.array([0, 1]))
    with pytest.raises(ParameterError, match=r"\[0, 10\)"):
        store.append_spikes("p", np.array([3.0]), np.array([10]))
    with pytest.raises(ParameterError, match="node_ids"):
        store.append_spikes("p", np.array([3.0, 4.0]), np.array([1]))
    with pytest.raises(ParameterError, match="finite"):
        store.append_spikes("p", np.array([np.nan]), np.array([1]))
    with pytest.raises(ParameterError, match="samples"):
        store.append_signal("p", "v", np.zeros((2, 4)))
    with pytest.raises(RecordingError, match="'w'"):
        store.append_signal("p", "w", np.zeros((2, 3)))
    with pytest.raises(ParameterError, match="sampling_interval_ms"):
        store.add_signal("p", "u", "mV", 0.0, 0.0, np.arange(3))
    with pytest.raises(ParameterError, match="mode"):
        RunStore(tmp_path / "x.h5", {}, mode="a")
    store.close()
    with pytest.raises(RecordingError, match="closed"):
        store.append_spikes("p", np.array([9.0]), np.array([1]))
    # Rejected batches left nothing behind.
    t, n = read_spikes(tmp_path / "r.h5", "p")
    assert t.tolist() == [1.0, 2.0] and n.tolist() == [0, 9]
