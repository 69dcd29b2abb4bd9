"""Delivery tables: the compact (weight-code) and direct storage deliver the same input, lists and
dense matrices deliver the same input, and the table holds exactly the graph's synapses."""
from types import SimpleNamespace

import numpy as np
import pytest

from neurohybrid.backends.emulator import tables
from neurohybrid.graph import ProjectionEdge


def _block(n=7, n_slots=20):
    spec = SimpleNamespace(receptors=("excitatory", "inhibitory"))
    return SimpleNamespace(node=SimpleNamespace(size=n), spec=spec, ring=np.zeros((n_slots, 2, n)))


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
    mult = np.array([1.0, 2.0, 1.0, 1.0, 3.0, 1.0])

    coded_block = _block()
    coded = tables.DeliveryTable(coded_block, edges, {"src": 0}, 0.1, n_blocks, 5)
    assert coded.wlut is not None
    coded.deliver(ticks, srcs, mult, 20)

    monkeypatch.setattr(tables.DeliveryTable, "MAX_CODES", 2)  # 3 distinct weights: stored directly
    direct_block = _block()
    direct = tables.DeliveryTable(direct_block, edges, {"src": 0}, 0.1, n_blocks, 5)
    assert direct.wlut is None
    direct.deliver(ticks, srcs, mult, 20)
    np.testing.assert_array_equal(coded_block.ring, direct_block.ring)

    # expected, by brute force
    expected = np.zeros((20, 2, 7))
    for t, s, m in zip(ticks, srcs, mult):
        for e, q in zip(edges, (0, 1)):
            for k in np.nonzero(e.pre_index == s)[0]:
                d = int(round(e.values["delay"][k] / 0.1))
                expected[(t + d) % 20, q, e.post_index[k]] += m * e.values["weight"][k]
    np.testing.assert_allclose(coded_block.ring, expected, rtol=1e-12)


def test_dense_and_list_delivery_agree():
    rng = np.random.default_rng(1)
    edges = [_edge(rng, 6, 7, lambda n: rng.normal(size=n), n_syn=60)]
    counts = rng.integers(0, 3, size=(4, 6)).astype(np.uint16)
    a, b = _block(), _block()
    ta = tables.DeliveryTable(a, edges, {"src": 0}, 0.1, 2, 6)
    tb = tables.DeliveryTable(b, edges, {"src": 0}, 0.1, 2, 6)
    ta.deliver_dense(counts, 5, 0, 20)
    rows, ids = np.nonzero(counts)
    tb.deliver(rows.astype(np.int64) + 5, ids.astype(np.int64), counts[rows, ids].astype(float), 20)
    np.testing.assert_array_equal(a.ring, b.ring)
    assert a.ring.any()
