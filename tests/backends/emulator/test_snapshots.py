"""Snapshots of the point engines (``state()`` / ``restore()``): the float emulator and the
fixed-point emulator.

The check is always the same A/B identity: engine A is built from graph G, advanced to tick T1,
``s = A.state()``, advanced to T2 (spikes and samples X); a fresh engine B is built from G,
``B.restore(s)`` and advanced to T2: exactly X (same arrays, same chunks), bit for bit. It is
made for each part of the dynamic state: Poisson and renewal sources (RNG state), spike
arrays, current sources, input in flight over long delays (count and fixed-point rings),
conductance-based and adaptive cells (hidden ``.held`` rows), Tsodyks-Markram synapses,
pushed external spikes, fields, and the spikes of the last window that are delivered with
the next one (``settle``). Then the format (plain types, copies, an HDF5 round trip) and bad
snapshots (another model, another engine, missing keys): typed errors, engine unchanged.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.backends.emulator import models as model_registry
from neurohybrid.backends.emulator.engine import EmulatorEngine
from neurohybrid.backends.emulator.fixed_engine import FixedEmulatorEngine, _ListSink
from neurohybrid.errors import ParameterError, SimulationStateError

DT = 0.1


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------

def _graph(build, seed=5):
    """The model graph that the PyNN script ``build()`` makes (no run)."""
    sim.setup(timestep=DT, seed=seed)
    try:
        build()
        return sim.state.network.build_graph()
    finally:
        sim.end()


def _outputs(sink, spikes_from=None, samples_from=None):
    """What ``sink`` received after the given chunk counts: {node: (stamps, ids)}, {(node, var): values}."""
    spikes_from, samples_from = spikes_from or {}, samples_from or {}
    spikes = {}
    for node, parts in sink.spike_parts.items():
        parts = parts[spikes_from.get(node, 0):]
        if parts:
            spikes[node] = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    samples = {key: np.concatenate(parts[samples_from.get(key, 0):]) for key, parts in sink.sample_parts.items()
               if parts[samples_from.get(key, 0):]}
    return spikes, samples


def _mark(sink):
    return ({n: len(p) for n, p in sink.spike_parts.items()}, {k: len(p) for k, p in sink.sample_parts.items()})


def _assert_same(a, b, need=()):
    """Identical outputs; every node in ``need`` spiked."""
    assert a[0].keys() == b[0].keys() and a[1].keys() == b[1].keys()
    for node, (stamps, ids) in a[0].items():
        np.testing.assert_array_equal(stamps, b[0][node][0], err_msg=node)
        np.testing.assert_array_equal(ids, b[0][node][1], err_msg=node)
    for key, values in a[1].items():
        np.testing.assert_array_equal(values, b[1][key], err_msg=str(key))
    for node in need:
        assert node in a[0] and a[0][node][0].size > 0, f"{node} did not spike after the snapshot"


def _pair(graph, t1, t2, make=EmulatorEngine, prepare=None, make_b=None):
    """A: build, ``prepare(A)``, advance to t1, snapshot, advance to t2; B: fresh, restore, to t2.
    Returns (snapshot, A's outputs after t1, B's outputs, A, B)."""
    A, sa = make(), _ListSink()
    A.build(graph, sa)
    if prepare is not None:
        prepare(A)
    A.advance(t1)
    s = A.state()
    mark = _mark(sa)
    A.advance(t2)
    B, sb = (make_b or make)(), _ListSink()
    B.build(graph, sb)
    B.restore(s)
    assert B.tick == t1
    B.advance(t2)
    return s, _outputs(sa, *mark), _outputs(sb), A, B


def _same_state(x, y):
    assert x.keys() == y.keys()
    for key in x:
        if isinstance(x[key], np.ndarray):
            np.testing.assert_array_equal(x[key], y[key], err_msg=key)
        else:
            assert x[key] == y[key], key


# --------------------------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------------------------

def _sources_net():
    """Poisson, refractory Poisson, gamma sources (recorded and not) and a spike array onto LIF cells."""
    cells = sim.Population(12, sim.IF_curr_exp(tau_refrac=1.0), label="cells")
    for label, celltype in (("poisson", sim.SpikeSourcePoisson(rate=600.0)),
                            ("refractory", sim.SpikeSourcePoissonRefractory(rate=400.0, tau_refrac=2.0)),
                            ("gamma", sim.SpikeSourceGamma(alpha=3.0, beta=1500.0)),
                            ("quiet", sim.SpikeSourcePoisson(rate=300.0))):
        src = sim.Population(12, celltype, label=label)
        sim.Projection(src, cells, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.6, delay=0.7))
        if label != "quiet":
            src.record("spikes")
    arr = sim.Population(2, sim.SpikeSourceArray(spike_times=[[2.0, 13.8, 14.0, 30.0], [13.9, 25.0]]), label="arr")
    sim.Projection(arr, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=2.0, delay=1.1))
    arr.record("spikes")
    cells.record(["spikes", "v"])


def _delay_net():
    """A spike array and a Poisson drive onto two blocks over delays up to 12.7 ms: one block's
    static synapses have one weight (counted), the other's many (exact 128-bit ring)."""
    arr = sim.Population(3, sim.SpikeSourceArray(spike_times=[[1.0, 8.0, 14.0], [9.5], [12.0, 13.0]]), label="arr")
    drive = sim.Population(6, sim.SpikeSourcePoisson(rate=300.0), label="drive")
    counted = sim.Population(6, sim.IF_curr_exp(), label="counted")
    exact = sim.Population(6, sim.IF_curr_exp(), label="exact")
    sim.Projection(arr, counted, sim.AllToAllConnector(), sim.StaticSynapse(weight=4.0, delay=12.7))
    sim.Projection(drive, counted, sim.OneToOneConnector(), sim.StaticSynapse(weight=4.0, delay=5.3))
    weights = np.random.default_rng(3).uniform(2.0, 6.0, (3, 6))
    sim.Projection(arr, exact, sim.AllToAllConnector(), sim.StaticSynapse(weight=weights, delay=9.9))
    sim.Projection(drive, exact, sim.OneToOneConnector(), sim.StaticSynapse(weight=3.3, delay=11.0))
    sim.Projection(counted, exact, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.4, delay=7.7))
    for p in (counted, exact):
        p.record(["spikes", "v"])


def _current_net():
    cells = sim.Population(4, sim.IF_curr_exp(), label="cells")
    sim.DCSource(amplitude=0.6, start=3.0, stop=40.0).inject_into(cells[0:2])
    sim.ACSource(amplitude=0.8, offset=0.5, frequency=80.0, phase=30.0, start=2.0).inject_into(cells[1:3])
    sim.StepCurrentSource(times=[5.0, 12.3, 30.0], amplitudes=[0.9, 0.2, 1.4]).inject_into(cells[3:4])
    sim.NoisyCurrentSource(mean=0.7, stdev=0.6, dt=1.0, start=1.0).inject_into(cells)
    cells.record(["spikes", "v"])


def _cell_net(model):
    def build():
        celltype = getattr(sim, model)()
        cells = sim.Population(6, celltype, label="cells")
        drive = sim.Population(6, sim.SpikeSourcePoisson(rate=2000.0), label="drive")
        inh = sim.Population(6, sim.SpikeSourcePoisson(rate=400.0), label="inh")
        conductance = model.startswith(("IF_cond", "EIF", "HH"))
        w = 0.03 if conductance else (2.0 if model != "Izhikevich" else 3.0)
        sim.Projection(drive, cells, sim.OneToOneConnector(), sim.StaticSynapse(weight=w, delay=1.0))
        sim.Projection(inh, cells, sim.OneToOneConnector(),
                       sim.StaticSynapse(weight=w if conductance else -w, delay=2.5), receptor_type="inhibitory")
        sim.Projection(cells, cells, sim.AllToAllConnector(allow_self_connections=False),
                       sim.StaticSynapse(weight=w / 3, delay=1.7))
        sim.DCSource(amplitude=0.4 if model != "Izhikevich" else 5.0, start=4.0).inject_into(cells)
        cells.record(["spikes", "v"])
        if model.startswith("EIF"):
            cells.record("w")
        if conductance:
            cells.record("gsyn_exc")
    return build


def _stp_net():
    drive = sim.Population(10, sim.SpikeSourcePoisson(rate=150.0), label="drive")
    cells = sim.Population(10, sim.IF_curr_exp(), label="cells")
    sim.Projection(drive, cells, sim.FixedProbabilityConnector(0.6, rng=sim.NumpyRNG(4)),
                   sim.TsodyksMarkramSynapse(weight=2.5, delay=1.3, U=0.4, tau_rec=80.0, tau_facil=20.0))
    sim.Projection(cells, cells, sim.FixedProbabilityConnector(0.4, rng=sim.NumpyRNG(5)),
                   sim.TsodyksMarkramSynapse(weight=1.0, delay=2.6, U=0.2, tau_rec=50.0, tau_facil=0.0))
    sim.Projection(drive, cells, sim.OneToOneConnector(), sim.StaticSynapse(weight=1.0, delay=0.4))
    cells.record(["spikes", "v"])


def _external_net():
    ext = sim.Population(4, sim.SpikeSourceExternal(), label="ext")
    cells = sim.Population(4, sim.IF_curr_delta(v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0), label="cells")
    sim.Projection(ext, cells, sim.OneToOneConnector(), sim.StaticSynapse(weight=30.0, delay=2.0))
    cells.record("spikes")


def _push(engine):
    # emission ticks before, at and after the snapshot tick (T1 = 100), some arriving after T1
    engine.source_generator("ext").push([10, 60, 98, 99, 99, 100, 130, 250, 400], [0, 1, 2, 3, 0, 1, 2, 3, 0])


def _recurrent_net():
    """Recurrent cells that fire often, one-step-long windows are not needed: spikes of the last
    window wait in the engine (``_pending``) to be delivered with the next one."""
    drive = sim.Population(20, sim.SpikeSourcePoisson(rate=3000.0), label="drive")
    exc = sim.Population(20, sim.IF_curr_exp(tau_refrac=0.5), label="exc")
    sim.Projection(drive, exc, sim.OneToOneConnector(), sim.StaticSynapse(weight=1.0, delay=1.0))
    sim.Projection(exc, exc, sim.FixedProbabilityConnector(0.3, rng=sim.NumpyRNG(7)),
                   sim.StaticSynapse(weight=0.5, delay=1.0))
    sim.Projection(exc, exc, sim.FixedProbabilityConnector(0.3, rng=sim.NumpyRNG(8)),
                   sim.StaticSynapse(weight=-0.7, delay=3.4), receptor_type="inhibitory")
    exc.record(["spikes", "v"])


def _loihi_net():
    """What the Loihi path maps: IF_curr_exp, Poisson, array and external sources, delays."""
    d = sim.Population(20, sim.SpikeSourcePoisson(rate=800.0), label="drive")
    arr = sim.Population(3, sim.SpikeSourceArray(spike_times=[[1.0, 12.0, 30.0], [15.5], [20.0, 40.0]]), label="arr")
    ext = sim.Population(4, sim.SpikeSourceExternal(), label="ext")
    e = sim.Population(20, sim.IF_curr_exp(tau_refrac=2.0), label="exc")
    i = sim.Population(5, sim.IF_curr_exp(), label="inh")
    sim.Projection(d, e, sim.OneToOneConnector(), sim.StaticSynapse(weight=1.5, delay=1.0))
    sim.Projection(arr, i, sim.AllToAllConnector(), sim.StaticSynapse(weight=3.0, delay=2.5))
    sim.Projection(ext, e, sim.AllToAllConnector(), sim.StaticSynapse(weight=2.0, delay=1.5))
    sim.Projection(e, i, sim.FixedProbabilityConnector(0.5, rng=sim.NumpyRNG(2)), sim.StaticSynapse(weight=0.8, delay=3.7))
    sim.Projection(i, e, sim.FixedProbabilityConnector(0.5, rng=sim.NumpyRNG(3)),
                   sim.StaticSynapse(weight=-1.0, delay=1.2), receptor_type="inhibitory")
    e.record(["spikes", "v"])
    i.record("spikes")
    d.record("spikes")


def _loihi_push(engine):
    engine.source_generator("ext").push([50, 60, 136, 137, 400, 420], [0, 1, 2, 3, 2, 3])


@pytest.fixture(scope="module")
def graphs():
    return {name: _graph(build) for name, build in
            (("sources", _sources_net), ("delays", _delay_net), ("currents", _current_net), ("stp", _stp_net),
             ("external", _external_net), ("recurrent", _recurrent_net), ("loihi", _loihi_net))}


# --------------------------------------------------------------------------------------------
# float emulator: A/B identity per feature
# --------------------------------------------------------------------------------------------

def test_poisson_renewal_and_array_sources_continue_exactly(graphs):
    s, a, b, A, _ = _pair(graphs["sources"], 137, 600)
    _assert_same(a, b, need=("cells", "poisson", "refractory", "gamma", "arr"))
    assert s["sources/poisson/pos"] == 137
    assert np.all(s["sources/gamma/draws"] > 0)  # the renewal state carried between windows
    assert not any(k.startswith("sources/arr/") for k in s)  # stateless


def test_input_in_flight_over_long_delays(graphs):
    # at t1 = 125 (12.5 ms) spikes of the array (t = 8, 9.5, 12, 13 ms) are still on their way
    s, a, b, *_ = _pair(graphs["delays"], 125, 400)
    _assert_same(a, b, need=("counted", "exact"))
    assert np.any(s["blocks/counted/counts"]) and "blocks/counted/ring" not in s
    assert np.any(s["blocks/exact/ring"])
    assert s["blocks/exact/ring"].shape[0] == 127  # one row per tick up to the longest delay


def test_current_sources(graphs):
    s, a, b, *_ = _pair(graphs["currents"], 137, 500)
    _assert_same(a, b, need=("cells",))


@pytest.mark.parametrize("model", ["IF_cond_exp", "IF_cond_alpha", "EIF_cond_exp_isfa_ista",
                                   "EIF_cond_alpha_isfa_ista", "HH_cond_exp", "Izhikevich", "IF_curr_alpha"])
def test_conductance_and_adaptive_cells(model):
    graph = _graph(_cell_net(model))
    s, a, b, *_ = _pair(graph, 143, 500)
    _assert_same(a, b, need=("cells",))
    spec = model_registry.get(model)
    for row, name in enumerate(spec.state):
        if name.endswith(".held") or name == "h_ode":  # the hidden rows are part of the snapshot
            assert np.any(s["blocks/cells/S"][row] != 0), name


def test_tsodyks_markram_state_independent_of_threads(graphs):
    s, a, b, *_ = _pair(graphs["stp"], 171, 700, make=lambda: EmulatorEngine(threads=2),
                        make_b=lambda: EmulatorEngine(threads=1))
    _assert_same(a, b, need=("cells",))
    assert {s["stp/0/edge"], s["stp/1/edge"]} == {"drive→cells[drive->cells]", "cells→cells[cells->cells]"}
    assert np.any(s["stp/0/u"] > 0) and np.any(s["stp/0/x"] < 1) and np.any(s["stp/0/last_tick"] > 0)


def test_pushed_external_spikes_are_in_the_snapshot(graphs):
    s, a, b, *_ = _pair(graphs["external"], 100, 500, prepare=_push)
    _assert_same(a, b, need=("cells",))
    # queued and not yet emitted: emission ticks >= 99 (the window [100, ...) carries tick 99)
    np.testing.assert_array_equal(s["sources/ext/ticks"], [99, 99, 100, 130, 250, 400])
    # each of them fires its cell after the snapshot, and so does the one of tick 98, on its way
    np.testing.assert_array_equal(a[0]["cells"][0], [118, 119, 119, 120, 150, 270, 420])  # emission ticks


def test_fields_gain_current_threshold(graphs):
    def prepare(A):
        A.advance(40)
        A.set_modulation("exc", "gain", np.linspace(0.5, 1.5, 20))
        A.set_modulation("exc", "current", 0.3)
        A.advance(90)
        A.set_modulation("exc", "threshold", -2.0)
    s, a, b, A, B = _pair(graphs["recurrent"], 131, 400, prepare=prepare)
    _assert_same(a, b, need=("exc",))
    assert not np.all(s["blocks/exc/gain"] == 1.0)
    np.testing.assert_array_equal(B.blocks["exc"].gain, A.blocks["exc"].gain)
    np.testing.assert_array_equal(B.blocks["exc"].P, A.blocks["exc"].P)


def test_snapshot_restores_the_absence_of_fields(graphs):
    """A field set in B before the restore is gone after it (the snapshot had none)."""
    A, sa = EmulatorEngine(), _ListSink()
    A.build(graphs["recurrent"], sa)
    A.advance(77)
    s = A.state()
    mark = _mark(sa)
    A.advance(300)
    B, sb = EmulatorEngine(), _ListSink()
    B.build(graphs["recurrent"], sb)
    B.set_modulation("exc", "gain", 2.0)
    B.set_modulation("exc", "threshold", 5.0)
    B.advance(20)
    mark_b = _mark(sb)
    B.restore(s)
    B.advance(300)
    assert B.blocks["exc"].gain is None
    _assert_same(_outputs(sa, *mark), _outputs(sb, *mark_b), need=("exc",))


def test_pending_spikes_of_the_last_window_and_settle(graphs):
    graph = graphs["recurrent"]
    s, a, b, A, _ = _pair(graph, 130, 400)
    _assert_same(a, b, need=("exc",))
    assert A.window == 10 and s["pending/ticks"].size > 0  # spikes of [120, 130) not delivered yet
    # settle() delivers them into the rings first: another snapshot, the same future
    C, sc = EmulatorEngine(), _ListSink()
    C.build(graph, sc)
    C.advance(130)
    C.settle()
    settled = C.state()
    assert settled["pending/ticks"].size == 0
    assert not np.array_equal(settled["blocks/exc/counts"], s["blocks/exc/counts"])
    D, sd = EmulatorEngine(), _ListSink()
    D.build(graph, sd)
    D.restore(settled)
    D.advance(400)
    _assert_same(a, _outputs(sd), need=("exc",))


def test_snapshot_in_the_middle_of_a_window(graphs):
    s, a, b, A, _ = _pair(graphs["recurrent"], 133, 400)  # windows are 10 ticks long
    _assert_same(a, b, need=("exc",))


def test_window_length_of_the_restoring_engine_does_not_matter(graphs):
    """Rings are stored by tick, not by slot: an engine with 1-tick windows takes a snapshot of
    one with 10-tick windows (same spikes; v to rounding, as between the two window lengths)."""
    s, a, b, *_ = _pair(graphs["recurrent"], 130, 400, make_b=lambda: EmulatorEngine(max_window=1))
    np.testing.assert_array_equal(a[0]["exc"][0], b[0]["exc"][0])
    np.testing.assert_array_equal(a[0]["exc"][1], b[0]["exc"][1])
    np.testing.assert_allclose(a[1][("exc", "v")], b[1][("exc", "v")], rtol=0, atol=1e-9)


def test_snapshot_at_tick_zero_and_rewind(graphs):
    graph = graphs["stp"]
    A, sa = EmulatorEngine(), _ListSink()
    A.build(graph, sa)
    s0 = A.state()
    A.advance(300)
    first = _outputs(sa)
    s1 = A.state()
    A.restore(s0)  # back to the start, from an engine that ran on
    assert A.tick == 0
    mark = _mark(sa)
    A.advance(300)
    _assert_same(first, _outputs(sa, *mark), need=("cells",))
    _same_state(s1, A.state())


# --------------------------------------------------------------------------------------------
# format: plain, copies, HDF5
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make,graph", [(EmulatorEngine, "stp"), (EmulatorEngine, "external"),
                                        (FixedEmulatorEngine, "loihi")])
def test_snapshot_is_plain_and_a_copy(graphs, make, graph):
    A, sink = make(), _ListSink()
    A.build(graphs[graph], sink)
    if graph == "external":
        _push(A)
    if graph == "loihi":
        _loihi_push(A)
    A.advance(120)
    s = A.state()
    assert s["engine"] == A.name and s["tick"] == 120 and s["content_hash"] == graphs[graph].content_hash()
    for key, value in s.items():
        assert isinstance(key, str) and isinstance(value, (np.ndarray, int, str)), key
    kept = copy.deepcopy(s)
    A.advance(300)  # the engine runs on: the snapshot does not change
    _same_state(kept, s)
    B = make()
    B.build(graphs[graph], _ListSink())
    B.restore(s)
    for value in s.values():  # editing the snapshot after the restore does not reach the engine
        if isinstance(value, np.ndarray) and value.size:
            value[...] = 0
    _same_state(kept, B.state())
    B.restore(kept)  # a snapshot can be restored more than once
    _same_state(kept, B.state())


@pytest.mark.parametrize("make,graph", [(EmulatorEngine, "stp"), (EmulatorEngine, "external"),
                                        (FixedEmulatorEngine, "loihi")])
def test_snapshot_survives_an_hdf5_round_trip(graphs, make, graph, tmp_path):
    h5py = pytest.importorskip("h5py")
    prepare = {"external": _push, "loihi": _loihi_push}.get(graph)
    A, sa = make(), _ListSink()
    A.build(graphs[graph], sa)
    if prepare:
        prepare(A)
    A.advance(133)
    s = A.state()
    mark = _mark(sa)
    A.advance(400)
    with h5py.File(tmp_path / "snap.h5", "w") as f:
        for key, value in s.items():
            f[key] = value
    back = {}
    with h5py.File(tmp_path / "snap.h5", "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                value = obj[()]
                back[name] = value.decode() if isinstance(value, bytes) else \
                    (int(value) if np.ndim(value) == 0 else value)
        f.visititems(visit)
    B, sb = make(), _ListSink()
    B.build(graphs[graph], sb)
    B.restore(back)
    B.advance(400)
    _assert_same(_outputs(sa, *mark), _outputs(sb))


# --------------------------------------------------------------------------------------------
# fixed-point emulator
# --------------------------------------------------------------------------------------------

def test_fixed_sources_external_spikes_and_delays(graphs):
    s, a, b, *_ = _pair(graphs["loihi"], 137, 600, make=FixedEmulatorEngine, prepare=_loihi_push)
    _assert_same(a, b, need=("exc", "inh", "drive"))
    assert s["inputs/drive/held/ticks"].size > 0  # generated, reported with the next window
    assert s["inputs/ext/source/ticks"].size > 0 and np.any(s["net/ring"])
    assert s["net/time_step"] == 137


def test_fixed_fields_threshold_current_gain(graphs):
    def prepare(A):
        A.advance(50)
        A.set_modulation("exc", "threshold", 1.5)
        A.set_modulation("inh", "gain", np.linspace(0.8, 1.6, 5))
        A.advance(90)
        A.set_modulation("exc", "current", 0.2)
    s, a, b, A, B = _pair(graphs["loihi"], 117, 500, make=FixedEmulatorEngine, prepare=prepare)
    _assert_same(a, b, need=("exc", "inh"))
    assert np.all(s["fields/exc/threshold"] == 1.5) and np.all(s["fields/inh/current"] == 0.0)
    assert B.modulation_report() == A.modulation_report()
    np.testing.assert_array_equal(B.net._weights, A.net._weights)
    np.testing.assert_array_equal(B.net.vth, A.net.vth)


def test_fixed_restore_removes_fields_in_force(graphs):
    A, sa = FixedEmulatorEngine(), _ListSink()
    A.build(graphs["loihi"], sa)
    A.advance(60)
    s = A.state()
    mark = _mark(sa)
    A.advance(400)
    B, sb = FixedEmulatorEngine(), _ListSink()
    B.build(graphs["loihi"], sb)
    B.set_modulation("inh", "gain", 3.0)
    B.set_modulation("exc", "threshold", -4.0)
    B.restore(s)
    assert B.modulation.active == {}
    np.testing.assert_array_equal(B.net._weights, A.net._weights)
    B.advance(400)
    _assert_same(_outputs(sa, *mark), _outputs(sb), need=("exc", "inh"))


def test_fixed_snapshot_of_other_approximations_is_refused(graphs):
    A = FixedEmulatorEngine(approximations=("merge_synaptic_time_constants",))
    A.build(graphs["loihi"], _ListSink())
    B = FixedEmulatorEngine()
    B.build(graphs["loihi"], _ListSink())
    with pytest.raises(ParameterError, match="approximations"):
        B.restore(A.state())


# --------------------------------------------------------------------------------------------
# bad snapshots: typed errors, engine unchanged
# --------------------------------------------------------------------------------------------

def _other_graph():
    return _graph(_loihi_net, seed=6)  # same structure, another seed: another model


def _spoil(kind, s, engine_cls, graphs):
    if kind == "other model":
        other = engine_cls()
        other.build(_other_graph(), _ListSink())
        return other.state()
    if kind == "other engine":
        other = (FixedEmulatorEngine if engine_cls is EmulatorEngine else EmulatorEngine)()
        other.build(graphs["loihi"], _ListSink())
        return other.state()
    s = dict(s)
    if kind == "missing key":
        del s[next(k for k in s if k.startswith(("blocks/", "net/")) and k.endswith(("/S", "/u")))]
    elif kind == "missing header":
        del s["content_hash"]
    elif kind == "wrong shape":
        key = next(k for k in s if k.endswith(("/S", "/u")))
        s[key] = s[key][..., :-1]
    elif kind == "wrong type":
        key = next(k for k in s if k.endswith(("/pos",)))
        s[key] = np.zeros(3)
    elif kind == "extra key":
        s["blocks/ghost/S"] = np.zeros(3)
    elif kind == "not a dict":
        return [("tick", 3)]
    return s


@pytest.mark.parametrize("engine_cls", [EmulatorEngine, FixedEmulatorEngine])
@pytest.mark.parametrize("kind", ["other model", "other engine", "missing key", "missing header", "wrong shape",
                                  "wrong type", "extra key", "not a dict"])
def test_bad_snapshot_is_a_typed_error_and_changes_nothing(graphs, engine_cls, kind):
    A, sink = engine_cls(), _ListSink()
    A.build(graphs["loihi"], sink)
    _loihi_push(A)
    A.advance(90)
    bad = _spoil(kind, A.state(), engine_cls, graphs)
    A.advance(150)
    before = A.state()
    with pytest.raises(ParameterError) as info:
        A.restore(bad)
    assert info.value.parameter == "state" and type(A).__name__ in str(info.value)
    _same_state(before, A.state())
    assert A.tick == 150


@pytest.mark.parametrize("engine_cls", [EmulatorEngine, FixedEmulatorEngine])
def test_unbuilt_engine_has_no_snapshot(engine_cls, graphs):
    with pytest.raises(SimulationStateError):
        engine_cls().state()
    A = engine_cls()
    A.build(graphs["loihi"], _ListSink())
    with pytest.raises(SimulationStateError):
        engine_cls().restore(A.state())


# --------------------------------------------------------------------------------------------
# through the PyNN front end
# --------------------------------------------------------------------------------------------

def test_front_end_engine_snapshot_restored_into_a_fresh_engine():
    """The engine the PyNN front end runs: its snapshot after ``sim.run(20)``, restored into a
    fresh engine, gives the spikes the session records in the next 40 ms."""
    sim.setup(timestep=DT, seed=9)
    try:
        _stp_net()
        sim.run(20.0)
        network = sim.state.network
        engine = network.engines[network.primary]
        s, graph = engine.state(), engine.graph
        sim.run(40.0)
        cells = next(p for p in sim.state.populations if p.label == "cells")
        trains = [np.round(t.magnitude / DT).astype(np.int64) for t in cells.get_data().segments[0].spiketrains]
    finally:
        sim.end()
    B, sink = EmulatorEngine(), _ListSink()
    B.build(graph, sink)
    B.restore(s)
    B.advance(600)
    ticks, ids = sink.spike_arrays("cells")
    stamps = ticks + 1  # recorded at (emission tick + 1) dt
    expected = np.concatenate([t[t > 200] for t in trains])
    expected_ids = np.concatenate([np.full(np.count_nonzero(t > 200), i) for i, t in enumerate(trains)])
    order = np.lexsort((expected_ids, expected))
    assert stamps.size > 0
    np.testing.assert_array_equal(stamps, expected[order])
    np.testing.assert_array_equal(ids, expected_ids[order])
