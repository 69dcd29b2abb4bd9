"""Delivery tables: the compact (weight-code) and direct storage deliver the same input, lists and
dense matrices deliver the same input, the ring's sums do not depend on the order spikes arrive
in, and the table holds exactly the graph's synapses."""
from types import SimpleNamespace

import numpy as np
import pytest

from neurohybrid.backends.emulator import tables
from neurohybrid.backends.emulator.ring import FixedRing, choose_shift
from neurohybrid.graph import ProjectionEdge


def _block(n=7, n_slots=20, max_input=50.0):
    spec = SimpleNamespace(receptors=("excitatory", "inhibitory"))
    return SimpleNamespace(node=SimpleNamespace(size=n), spec=spec,
                           ring=FixedRing(n_slots, 2, n, choose_shift(max_input)), counts=None)


def _input(block):
    """Everything the block's rings hold, as floats [slots, receptors, cells]."""
    counted = block.counts.values() if block.counts is not None else 0.0
    return counted + block.ring.values()


def _edge(rng, n_pre, n_post, weights, receptor="excitatory", n_syn=40, pre="src"):
    return ProjectionEdge("e", pre, "dst", receptor, "StaticSynapse",
                          rng.integers(0, n_pre, n_syn).astype(np.uint16),
                          rng.integers(0, n_post, n_syn).astype(np.uint16),
                          {"weight": weights(n_syn), "delay": rng.integers(1, 8, n_syn) * 0.1})


@pytest.mark.parametrize("n_blocks", [1, 2, 3])
def test_codes_and_direct_weights_deliver_the_same(n_blocks, monkeypatch):
    rng = np.random.default_rng(0)
    few = lambda n: rng.choice([0.5, -1.25, 2.0], n)  # noqa: E731
    edges = [_edge(rng, 5, 7, few), _edge(rng, 5, 7, few, receptor="inhibitory")]
    ticks = np.array([0, 0, 1, 3, 3, 3], dtype=np.int64)
    srcs = np.array([0, 4, 2, 1, 2, 4], dtype=np.int64)
    mult = np.array([1, 2, 1, 1, 3, 1], dtype=np.int64)

    coded_block = _block()
    coded = tables.DeliveryTable(coded_block, edges, {"src": 0}, 0.1, n_blocks, 5)
    assert coded.wlut is not None
    coded.deliver(ticks, srcs, mult, 20)

    monkeypatch.setattr(tables.DeliveryTable, "MAX_CODES", 2)  # 3 distinct weights: stored directly
    direct_block = _block()
    direct = tables.DeliveryTable(direct_block, edges, {"src": 0}, 0.1, n_blocks, 5)
    assert direct.wlut is None
    direct.deliver(ticks, srcs, mult, 20)
    assert coded.counted is not None and direct.counted is None  # 3 weights are counted per weight
    np.testing.assert_array_equal(_input(coded_block), _input(direct_block))

    # expected, by brute force
    expected = np.zeros((20, 2, 7))
    for t, s, m in zip(ticks, srcs, mult):
        for e, q in zip(edges, (0, 1)):
            for k in np.nonzero(e.pre_index == s)[0]:
                d = int(round(e.values["delay"][k] / 0.1))
                expected[(t + d) % 20, q, e.post_index[k]] += m * e.values["weight"][k]
    np.testing.assert_allclose(_input(coded_block), expected, rtol=1e-12)


def test_dense_and_list_delivery_agree():
    rng = np.random.default_rng(1)
    edges = [_edge(rng, 6, 7, lambda n: rng.normal(size=n), n_syn=60)]
    counts = rng.integers(0, 3, size=(4, 6)).astype(np.uint16)
    a, b = _block(), _block()
    ta = tables.DeliveryTable(a, edges, {"src": 0}, 0.1, 2, 6)
    tb = tables.DeliveryTable(b, edges, {"src": 0}, 0.1, 2, 6)
    ta.deliver_dense(counts, 5, 0, 20)
    rows, ids = np.nonzero(counts)
    tb.deliver(rows.astype(np.int64) + 5, ids.astype(np.int64), counts[rows, ids].astype(np.int64), 20)
    np.testing.assert_array_equal(a.ring.values(), b.ring.values())
    assert a.ring.values().any()


def test_ring_sums_do_not_depend_on_the_order_of_arrival():
    """Float addition is not associative; the fixed-point ring is, so the same spikes delivered
    in another order (as when a model is split over two engines) give bit-identical input."""
    rng = np.random.default_rng(2)
    edges = [_edge(rng, 50, 7, lambda n: rng.normal(size=n) * np.exp(rng.normal(size=n) * 5), n_syn=400)]
    ticks = np.zeros(50, np.int64)
    srcs = np.arange(50, dtype=np.int64)
    ones = np.ones(50, np.int64)
    a, b = _block(max_input=1e4), _block(max_input=1e4)
    ta = tables.DeliveryTable(a, edges, {"src": 0}, 0.1, 1, 50)
    tb = tables.DeliveryTable(b, edges, {"src": 0}, 0.1, 1, 50)
    ta.deliver(ticks, srcs, ones, 20)
    for half in (srcs[25:][::-1], srcs[:25][::-1]):
        tb.deliver(ticks[:25], half, ones[:25], 20)
    np.testing.assert_array_equal(a.ring.values(), b.ring.values())
    out_a, out_b = np.zeros((20, 2, 7)), np.zeros((20, 2, 7))
    a.ring.read(0, 20, out_a)
    b.ring.read(0, 20, out_b)
    assert out_a.tobytes() == out_b.tobytes() and out_a.any()
    assert not a.ring.values().any()  # reading clears the slots


def test_ring_shift_leaves_headroom_for_the_largest_input():
    ring = FixedRing(2, 1, 1, choose_shift(3.0))
    from neurohybrid.backends.emulator.ring import HEADROOM
    assert 3.0 * HEADROOM * ring.scale < 2.0 ** 63



def test_counted_input_does_not_depend_on_the_order_of_arrival():
    """A table of few weights counts spikes per weight; its input is sum(count * w) in weight
    order, whatever order the spikes came in."""
    rng = np.random.default_rng(3)
    edges = [_edge(rng, 50, 7, lambda n: rng.choice([0.1, -0.7, 0.3], n), n_syn=300)]
    ticks, srcs, ones = np.zeros(50, np.int64), np.arange(50, dtype=np.int64), np.ones(50, np.int64)
    a, b = _block(), _block()
    ta = tables.DeliveryTable(a, edges, {"src": 0}, 0.1, 2, 50)
    tb = tables.DeliveryTable(b, edges, {"src": 0}, 0.1, 2, 50)
    assert ta.counted is not None and not a.ring.in_use
    ta.deliver(ticks, srcs, ones, 20)
    tb.deliver(ticks[:25], srcs[25:][::-1].copy(), ones[:25], 20)
    tb.deliver(ticks[:25], srcs[:25][::-1].copy(), ones[:25], 20)
    out_a, out_b = np.zeros((20, 2, 7)), np.zeros((20, 2, 7))
    a.counts.read(0, 20, out_a)
    b.counts.read(0, 20, out_b)
    assert out_a.tobytes() == out_b.tobytes() and out_a.any()
    assert not a.counts.counts.any()  # reading clears the counts
