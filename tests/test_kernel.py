"""The macro-step co-simulation kernel: causality checks, exact delays across component
boundaries, window contract, parallel/serial and macro-step independence, state round trip."""
import json
import time

import numba
import numpy as np
import pytest

from neurohybrid.errors import CausalityError, DelayError, LinkError, ParameterError
from neurohybrid.kernel import Component, CoSimulation, Port, Recorder, Series, SpikeSource, Spikes

numba.set_num_threads(1)


class RateSignal(Component):
    """Test driver: a rate (Hz) per channel that is ``lo`` before ``t_switch`` ticks and ``hi`` after,
    one sample every ``period`` ticks."""

    outputs = {"rates": "rates"}

    def __init__(self, name, lo, hi, t_switch=10 ** 9, period=1, n=1):
        super().__init__(name)
        self.lo, self.hi, self.t_switch, self.p, self.n = lo, hi, t_switch, period, n
        self.tick = 0

    def advance(self, t_stop, inbox):
        first = -(-self.tick // self.p) * self.p
        ts = np.arange(first, t_stop, self.p, dtype=np.int64)
        v = np.where(ts < self.t_switch, self.lo, self.hi).astype(float)
        self.tick = t_stop
        return {"rates": Series(ts, np.repeat(v[:, None], self.n, axis=1), self.p)}

    def reset(self):
        self.tick = 0

    def state(self):
        return {"tick": self.tick}

    def restore(self, s):
        self.tick = s["tick"]


class Liar(Component):
    """Emits a spike at the end of the window it is asked to advance + ``shift`` (a bug)."""

    outputs = {"spikes": "spikes"}

    def __init__(self, name, shift):
        super().__init__(name)
        self.shift = shift

    def advance(self, t_stop, inbox):
        return {"spikes": Spikes.make([t_stop - 1 + self.shift], [0])}

    def reset(self):
        pass

    def state(self):
        return {}

    def restore(self, s):
        pass


def two(delay=5, **kw):
    sim = CoSimulation(dt=0.1, **kw)
    sim.add(SpikeSource("src", [0, 3, 9, 9, 40, 41, 99], [0, 1, 2, 0, 1, 5, 3]))
    sim.add(Recorder("rec"))
    return sim


# ------------------------------------------------------------------------------ build checks
def test_macro_step_is_smallest_delay():
    sim = two()
    sim.add(Recorder("rec2"))
    sim.connect("src", "spikes", "rec", "spikes", delay=7)
    sim.connect("src", "spikes", "rec2", "spikes", delay_ms=0.4)
    sim.build()
    assert sim.M == 4


def test_refuses_delay_shorter_than_macro_step():
    sim = two(macro_step=5)
    sim.connect("src", "spikes", "rec", "spikes", delay=4)
    with pytest.raises(CausalityError, match="rec"):
        sim.build()
    sim = two()
    sim.connect("src", "spikes", "rec", "spikes", delay=0)
    with pytest.raises(CausalityError):
        sim.build()


def test_refuses_off_grid_delays():
    for kw in ({"delay": 2.5}, {"delay_ms": 0.25}, {}):
        sim = two()
        sim.connect("src", "spikes", "rec", "spikes", **kw)
        with pytest.raises(DelayError):
            sim.build()
    sim = two()
    sim.connect("src", "spikes", "rec", "spikes", delay=3.0)  # a float that is a whole number is fine
    sim.build()
    assert sim.M == 3


def test_refuses_kind_mismatch_and_unknown_names():
    sim = CoSimulation()
    sim.add(RateSignal("drive", 1.0, 1.0))
    sim.add(Recorder("rec"))
    sim.connect("drive", "rates", "rec", "spikes", delay=2)
    with pytest.raises(LinkError, match="converter"):
        sim.build()
    for args in (("nope", "rates", "rec", "spikes"), ("drive", "nope", "rec", "spikes"),
                 ("drive", "rates", "rec", "nope"), ("drive", "rates", "nope", "x")):
        sim = CoSimulation()
        sim.add(RateSignal("drive", 1.0, 1.0))
        sim.add(Recorder("rec", {"spikes": "spikes", "r": "rates"}))
        sim.connect(*args, kind="rates", delay=2)
        with pytest.raises(LinkError):
            sim.build()


def test_refuses_field_name_mismatch_and_two_links_on_a_rates_port():
    from neurohybrid.converters import FieldSource
    sim = CoSimulation()
    sim.add(RateSignal("drive", 1.0, 1.0))
    sim.add(FieldSource("fs", "dopamine"))
    sim.add(Recorder("rec", {"f": Port("fields", field="serotonin", modulates="gain")}))
    sim.connect("drive", "rates", "fs", "in", delay=2)
    sim.connect("fs", "field", "rec", "f", delay=2)
    with pytest.raises(LinkError, match="serotonin"):
        sim.build()
    sim = CoSimulation()
    sim.add(RateSignal("a", 1.0, 1.0))
    sim.add(RateSignal("b", 1.0, 1.0))
    sim.add(Recorder("rec", {"r": "rates"}))
    sim.connect("a", "rates", "rec", "r", delay=2)
    sim.connect("b", "rates", "rec", "r", delay=2)
    with pytest.raises(LinkError, match="one link"):
        sim.build()


def test_component_step_must_divide_macro_step():
    sim = CoSimulation()
    sim.add(SpikeSource("src", [0], [0]))
    sim.add(Recorder("rec", step_ticks=3))
    sim.connect("src", "spikes", "rec", "spikes", delay=4)
    with pytest.raises(ParameterError, match="step_ticks"):
        sim.build()
    sim = CoSimulation()
    sim.add(SpikeSource("src", [0], [0]))
    sim.add(Recorder("rec", step_ticks=2))
    sim.connect("src", "spikes", "rec", "spikes", delay=4)
    sim.build()


@pytest.mark.parametrize("shift", [1, -1000])
def test_emission_outside_window_is_refused(shift):
    sim = CoSimulation()
    sim.add(Liar("liar", shift))
    sim.add(Recorder("rec"))
    sim.connect("liar", "spikes", "rec", "spikes", delay=3)
    with pytest.raises(CausalityError, match="liar"):
        sim.run(1.0)


class Emits(Component):
    """Emits a fixed message at every window (to test the kernel's outbox checks)."""

    def __init__(self, name, port, msg):
        super().__init__(name)
        self.outputs = {"out": port}
        self.msg = msg

    def advance(self, t_stop, inbox):
        return {"out": self.msg}

    def reset(self):
        pass

    def state(self):
        return {}

    def restore(self, s):
        pass


@pytest.mark.parametrize("port,msg,error,match", [
    ("spikes", Spikes(np.array([3, 1]), np.array([0, 0])), ParameterError, "sorted"),
    ("spikes", Series(np.array([0]), np.zeros((1, 1)), 1), LinkError, "Series"),
    ("rates", Spikes.make([0], [0]), LinkError, "Spikes"),
    ("rates", Series(np.array([0, 1]), np.zeros((1, 1)), 1), ParameterError, "shape"),
    (Port("fields", field="dopamine"), Series(np.array([0]), np.zeros((1, 1)), 1, "fields", "ach"), LinkError,
     "dopamine"),
])
def test_outbox_contract_is_checked(port, msg, error, match):
    sim = CoSimulation()
    sim.add(Emits("e", port, msg))
    sim.add(Recorder("rec", {"in": port}))
    sim.connect("e", "out", "rec", "in", delay=10)
    with pytest.raises(error, match=match):
        sim.run(1.0)


# ------------------------------------------------------------------------------ delays and windows
@pytest.mark.parametrize("delay,macro", [(1, None), (5, None), (7, 3), (10, 1), (13, 13)])
def test_arrival_exactly_at_t_plus_d(delay, macro):
    sim = two(macro_step=macro)
    sim.connect("src", "spikes", "rec", "spikes", delay=delay, index_offset=100)
    sim.run(20.0)  # 200 ticks, not necessarily whole windows
    got = sim.components["rec"].received()
    src = sim.components["src"].spikes
    np.testing.assert_array_equal(got.ticks, src.ticks + delay)
    np.testing.assert_array_equal(got.index, src.index + 100)
    # half-open windows tile [0, 200) exactly, no window longer than M
    w = sim.components["rec"].windows
    assert w[0][0] == 0 and w[-1][1] == 200
    assert all(a[1] == b[0] for a, b in zip(w, w[1:]))
    assert all(0 < b - a <= sim.M for a, b in w)


def test_spike_at_window_seam_and_run_in_pieces():
    # spikes at ticks 9 and 10 with M = 10: one emitted in window 0, one in window 1
    sim = CoSimulation(dt=0.1)
    sim.add(SpikeSource("src", [9, 10, 19, 20], [1, 2, 3, 4]))
    sim.add(Recorder("rec"))
    sim.connect("src", "spikes", "rec", "spikes", delay=10)
    for t in (0.3, 1.0, 2.0, 2.9, 3.0, 4.0):
        sim.run(t)
    got = sim.components["rec"].received()
    np.testing.assert_array_equal(got.ticks, [19, 20, 29, 30])
    # the recorder saw tick 19 in window [10, 20) and tick 20 in window [20, 30)


def test_several_sources_merge_sorted_by_tick():
    sim = CoSimulation()
    sim.add(SpikeSource("a", [0, 5, 9], [0, 1, 2]))
    sim.add(SpikeSource("b", [1, 5, 8], [0, 1, 2]))
    sim.add(Recorder("rec"))
    sim.connect("a", "spikes", "rec", "spikes", delay=10)
    sim.connect("b", "spikes", "rec", "spikes", delay=12, index_offset=10)
    sim.run(5.0)
    got = sim.components["rec"].received()
    np.testing.assert_array_equal(got.ticks, [10, 13, 15, 17, 19, 20])
    np.testing.assert_array_equal(got.index, [0, 10, 1, 11, 2, 12])


def test_rates_delivered_at_true_time():
    sim = CoSimulation()
    sim.add(RateSignal("drive", 5.0, 7.0, t_switch=30, period=4))
    sim.add(Recorder("rec", {"r": "rates"}))
    sim.connect("drive", "rates", "rec", "r", delay=6)
    sim.run(10.0)
    got = sim.components["rec"].received("r")
    np.testing.assert_array_equal(got.ticks, np.arange(0, 100 - 6, 4) + 6)
    np.testing.assert_array_equal(got.values[:, 0], np.where(got.ticks - 6 < 30, 5.0, 7.0))
    assert got.period == 4


# ------------------------------------------------------------------------------ hooks, state, parallel
def test_on_macro_step_hook():
    sim = two()
    sim.connect("src", "spikes", "rec", "spikes", delay=25)
    calls = []
    sim.on_macro_step(lambda k, t, outs: calls.append((k, round(t, 6), len(outs["src"]["spikes"]))))
    sim.run(10.0)
    assert [c[0] for c in calls] == [0, 1, 2, 3]
    assert [c[1] for c in calls] == [2.5, 5.0, 7.5, 10.0]
    assert sum(c[2] for c in calls) == 7


def test_state_restore_round_trip_includes_delay_lines():
    sim = two()
    sim.connect("src", "spikes", "rec", "spikes", delay=30)
    sim.run(3.0)  # spikes at ticks 0..9 are in flight, due at 30..39
    snap = sim.state()
    assert sum(len(m) for m in snap["delay_lines"][0]) == 4
    sim.run(15.0)
    first = sim.components["rec"].received()
    sim.restore(snap)
    assert sim.tick == 30
    sim.run(15.0)
    second = sim.components["rec"].received()
    np.testing.assert_array_equal(first.ticks, second.ticks)
    np.testing.assert_array_equal(first.index, second.index)
    np.testing.assert_array_equal(first.ticks, [30, 33, 39, 39, 70, 71, 129])
    sim.reset()
    sim.run(15.0)
    np.testing.assert_array_equal(sim.components["rec"].received().ticks, first.ticks)


def test_describe_is_json():
    sim = two()
    sim.connect("src", "spikes", "rec", "spikes", delay=3)
    d = sim.describe()
    json.dumps(d)
    assert d["macro_step_ticks"] == 3 and d["links"][0]["delay_ticks"] == 3


def hybrid(parallel=False, macro=None, seed=3):
    """Rate drive -> Poisson converter -> spikes-to-rates converter -> recorder, and a field."""
    from neurohybrid.converters import FieldSource, RatesToSpikes, SpikesToRates
    sim = CoSimulation(dt=0.1, parallel=parallel, macro_step=macro)
    sim.add(RateSignal("drive", 20.0, 60.0, t_switch=500, period=5, n=4))
    sim.add(RatesToSpikes("r2s", 200, seed=seed, channel=np.repeat(np.arange(4), 50)))
    sim.add(SpikesToRates("s2r", "alpha", tau=5.0, period=1.0, groups=[np.arange(50 * g, 50 * g + 50) for g in range(4)]))
    sim.add(FieldSource("fs", "dopamine", fn=lambda x: x.mean() / 100.0, period=2.0))
    sim.add(Recorder("rec", {"spikes": "spikes", "rates": "rates", "field": Port("fields", "dopamine", "gain")}))
    sim.connect("drive", "rates", "r2s", "rates", delay=12)
    sim.connect("r2s", "spikes", "s2r", "spikes", delay=10)
    sim.connect("r2s", "spikes", "rec", "spikes", delay=15)
    sim.connect("s2r", "rates", "rec", "rates", delay=10)
    sim.connect("s2r", "rates", "fs", "in", delay=20)
    sim.connect("fs", "field", "rec", "field", delay=10)
    return sim


def _outputs(sim):
    rec = sim.components["rec"]
    return rec.received("spikes"), rec.received("rates"), rec.received("field")


def test_parallel_and_macro_step_do_not_change_results():
    ref = hybrid()
    ref.run(100.0)
    ref_out = _outputs(ref)
    assert len(ref_out[0]) > 100 and len(ref_out[1]) > 90 and len(ref_out[2]) > 40
    for kw in ({"parallel": True}, {"macro": 1}, {"macro": 7}, {"parallel": True, "macro": 3}):
        sim = hybrid(**kw)
        sim.run(100.0)
        out = _outputs(sim)
        sim.close()
        np.testing.assert_array_equal(out[0].ticks, ref_out[0].ticks)
        np.testing.assert_array_equal(out[0].index, ref_out[0].index)
        for a, b in ((out[1], ref_out[1]), (out[2], ref_out[2])):
            np.testing.assert_array_equal(a.ticks, b.ticks)
            np.testing.assert_array_equal(a.values, b.values)  # bit-identical
    assert ref_out[2].name == "dopamine"


def test_hybrid_state_restore():
    sim = hybrid()
    sim.run(40.0)
    snap = sim.state()
    sim.run(80.0)
    a = _outputs(sim)
    sim.restore(snap)
    sim.run(80.0)
    b = _outputs(sim)
    np.testing.assert_array_equal(a[0].ticks, b[0].ticks)
    np.testing.assert_array_equal(a[1].values, b[1].values)
    np.testing.assert_array_equal(a[2].values, b[2].values)


# ------------------------------------------------------------------------------ overhead
class Busy(Component):
    """A toy engine: a numpy LIF-like update of n cells per tick, emitting threshold crossings."""

    inputs = {"spikes": "spikes"}
    outputs = {"spikes": "spikes"}

    def __init__(self, name, n=2000, seed=0):
        super().__init__(name)
        self.n = n
        self.v = np.random.default_rng(seed).uniform(0, 1, n)
        self.tick = 0

    def advance(self, t_stop, inbox):
        sp = inbox.get("spikes")
        ts, ids = [], []
        for t in range(self.tick, t_stop):
            self.v += 0.011
            if sp is not None and len(sp):
                self.v[sp.index[sp.ticks == t] % self.n] += 0.001
            f = np.flatnonzero(self.v >= 1.0)
            self.v[f] = 0.0
            ts.append(np.full(f.size, t))
            ids.append(f)
        self.tick = t_stop
        return {"spikes": Spikes(np.concatenate(ts).astype(np.int64), np.concatenate(ids).astype(np.int64))}

    def reset(self):
        self.tick = 0

    def state(self):
        return {"v": self.v.copy(), "tick": self.tick}

    def restore(self, s):
        self.v, self.tick = s["v"].copy(), s["tick"]


def test_kernel_overhead_is_measured(capsys):
    """Two toy engines coupled both ways: time inside the components vs the whole run."""
    ticks, M = 5000, 10
    results = {}
    for parallel in (False, True):
        sim = CoSimulation(dt=0.1, parallel=parallel)
        a, b = sim.add(Busy("a", seed=1)), sim.add(Busy("b", seed=2))
        sim.connect("a", "spikes", "b", "spikes", delay=M)
        sim.connect("b", "spikes", "a", "spikes", delay=M)
        inside = [0.0]
        for comp in (a, b):
            orig = comp.advance

            def timed(t, inbox, orig=orig):
                t0 = time.perf_counter()
                out = orig(t, inbox)
                inside[0] += time.perf_counter() - t0
                return out
            comp.advance = timed
        t0 = time.perf_counter()
        sim.run_ticks(ticks)
        total = time.perf_counter() - t0
        sim.close()
        results[parallel] = (total, inside[0], a.v.copy(), b.v.copy())
    np.testing.assert_array_equal(results[False][2], results[True][2])
    # the kernel alone: two components that do nothing but exchange empty spike messages
    sim = CoSimulation(dt=0.1)
    sim.add(SpikeSource("a", [], []))
    sim.add(Recorder("b"))
    sim.connect("a", "spikes", "b", "spikes", delay=M)
    t0 = time.perf_counter()
    sim.run_ticks(ticks)
    bare = (time.perf_counter() - t0) / (ticks // M)
    total, inside = results[False][:2]
    with capsys.disabled():
        print(f"\n[kernel overhead] {ticks // M} macro-steps of {M} ticks, 2 components: total {total * 1e3:.1f} ms, "
              f"inside components {inside * 1e3:.1f} ms, kernel {1e6 * (total - inside) / (ticks // M):.1f} us "
              f"per macro-step ({100 * (total - inside) / total:.1f} %); parallel total "
              f"{results[True][0] * 1e3:.1f} ms; bare kernel {bare * 1e6:.1f} us per macro-step")
    assert inside > 0 and total > 0
