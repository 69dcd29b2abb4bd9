"""Placement of Loihi circuits onto neurocores and chips (mappings/loihi/placement.py) and the
limits table it reads (mappings/loihi/limits.py)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from neurohybrid.errors import ParameterError, PlacementError
from neurohybrid.mappings.loihi import (LIMITS, Limit, LoihiCircuit, LoihiInput, LoihiPopulation, LoihiProjection,
                                        format_limits, format_placement, limit, place)


def _pop(name, n):
    z = np.zeros(n, np.int32)
    return LoihiPopulation(name, n, du=z + 4095, dv=z + 20, vth=z + 1000, bias_mant=z, bias_exp=z, refractory=z,
                           u0=z, v0=z, scale=1.0, v_rest=0.0, source_model="IF_curr_delta")


def _prj(name, pre, post, pre_idx, post_idx, weight=10, latency=1):
    pre_idx = np.asarray(pre_idx, np.uint32)
    post_idx = np.asarray(post_idx, np.uint32)
    n = pre_idx.size
    w = np.broadcast_to(np.int16(weight), (n,)) if np.ndim(weight) == 0 else np.asarray(weight, np.int16)
    d = np.broadcast_to(np.uint8(latency), (n,)) if np.ndim(latency) == 0 else np.asarray(latency, np.uint8)
    return LoihiProjection(name, pre, post, rows=post_idx, cols=pre_idx, weights=w, delays=d, weight_exp=0,
                           sign_mode="excitatory")


def _circuit(pops, inputs=(), prjs=()):
    c = LoihiCircuit(dt_ms=0.1)
    for p in pops:
        c.populations[p.name] = p
    for name, n in inputs:
        c.inputs[name] = LoihiInput(name, n, "SpikeSourcePoisson")
    c.projections.extend(prjs)
    return c


def _all_to_all(n_pre, n_post):
    pre, post = np.meshgrid(np.arange(n_pre), np.arange(n_post), indexing="ij")
    return pre.ravel(), post.ravel()


# ------------------------------------------------------------------------------------------
# the limits table
# ------------------------------------------------------------------------------------------

def test_every_limit_is_sourced_and_assumptions_explained():
    for name, lim in LIMITS.items():
        assert lim.source and lim.status in ("lava", "published", "derived", "assumed"), name
        if lim.status in ("assumed", "derived"):
            assert lim.note, f"{name}: an assumption must say what is assumed"
    assert limit("neurons_per_core") == 8192 and limit("cores_per_chip") == 128
    assert limit("max_delay_steps") == 64 and limit("weight_bits") == 8
    assert "synaptic_memory_bytes_per_core" in format_limits()


# ------------------------------------------------------------------------------------------
# small models, limits hand-checked
# ------------------------------------------------------------------------------------------

def test_neurons_per_core_bind_without_synapses():
    c = _circuit([_pop("A", 20000), _pop("B", 10)])
    pl = place(c)
    assert c.placement is pl
    a, b = pl["populations"]["A"], pl["populations"]["B"]
    assert a["neurons_per_core"] == 8192 and a["n_cores"] == 3 and a["binding_limit"] == "neurons_per_core"
    assert b["cores"] == [3, 4] and pl["cores_used"] == 4 and pl["chips_used"] == 1
    assert pl["cores"]["neurons"] == [8192, 8192, 3616, 10]
    assert pl["utilisation"]["neurons"]["max_pct"] == 100.0
    json.dumps(pl)


def test_synaptic_memory_binds():
    # 100 neurons, each with 1000 synapses from 1000 inputs (latency 1: no delay bits):
    # 8 weight + 13 index = 21 bits per synapse -> 21000 bits per neuron; 128 KiB = 1048576 bits
    # hold 49 neurons (1029000 bits), not 50 (1050000).
    pre, post = _all_to_all(1000, 100)
    c = _circuit([_pop("P", 100)], [("in", 1000)], [_prj("in->P", "in", "P", pre, post)])
    pl = place(c)
    p = pl["populations"]["P"]
    assert p["neurons_per_core"] == 49 and p["binding_limit"] == "synaptic_memory_bytes_per_core"
    assert pl["cores"]["neurons"] == [49, 49, 2]
    assert pl["cores"]["synaptic_memory_bytes"] == [-(-49 * 21000 // 8), -(-49 * 21000 // 8), -(-2 * 21000 // 8)]
    assert pl["cores"]["fan_in"] == [1000, 1000, 1000]
    assert pl["synapse_bits"]["in->P"] == 21
    assert pl["totals"]["host_input_routes"] == 3000  # every input channel reaches all 3 cores


def test_delay_bits_cost_memory():
    # latency 16 -> DelaySparse stores 0..15: 4 bits -> 25 bits per synapse -> 41 neurons per core
    pre, post = _all_to_all(1000, 100)
    c = _circuit([_pop("P", 100)], [("in", 1000)], [_prj("in->P", "in", "P", pre, post, latency=16)])
    pl = place(c)
    assert pl["synapse_bits"]["in->P"] == 25 and pl["populations"]["P"]["neurons_per_core"] == 41


def test_fan_in_binds():
    # neuron i receives from its own 100 input channels 100 i .. 100 i + 99: a core of k neurons
    # has 100 k input axons <= 4096 -> k = 40 (memory would allow 499)
    post = np.repeat(np.arange(100), 100)
    pre = np.arange(10000)
    c = _circuit([_pop("P", 100)], [("in", 10000)], [_prj("in->P", "in", "P", pre, post)])
    pl = place(c)
    assert pl["populations"]["P"]["neurons_per_core"] == 40
    assert pl["populations"]["P"]["binding_limit"] == "fan_in_axons_per_core"
    assert pl["cores"]["fan_in"] == [4000, 4000, 2000]


def test_fan_out_binds_with_small_limit(monkeypatch):
    # limits shrunk to 8 output axons and 3 neurons per core: A (4 neurons) projects to every
    # neuron of B (9 neurons, 3 cores)
    monkeypatch.setitem(LIMITS, "fan_out_axons_per_core", Limit(8, "", "test", "assumed", "test"))
    monkeypatch.setitem(LIMITS, "neurons_per_core", Limit(3, "", "test", "assumed", "test"))
    pre, post = _all_to_all(4, 9)
    c = _circuit([_pop("A", 4), _pop("B", 9)], prjs=[_prj("A->B", "A", "B", pre, post)])
    pl = place(c)
    # B: 3 cores of 3; each A neuron reaches 3 cores -> 3 output axons per neuron; 8 per core
    # allows 2 A neurons per core (6), not 3 (9)
    assert pl["populations"]["A"]["neurons_per_core"] == 2
    assert pl["populations"]["A"]["binding_limit"] == "fan_out_axons_per_core"
    assert pl["cores"]["fan_out"] == [6, 6, 0, 0, 0]
    assert pl["cores"]["fan_in"] == [0, 0, 4, 4, 4]


def test_counts_match_brute_force_on_a_random_circuit():
    rng = np.random.default_rng(7)
    na, nb, ni = 300, 500, 200
    prjs = []
    for name, pre, npre, post, npost, n in (("A->B", "A", na, "B", nb, 6000), ("B->A", "B", nb, "A", na, 4000),
                                            ("B->B", "B", nb, "B", nb, 5000), ("in->A", "in", ni, "A", na, 3000)):
        prjs.append(_prj(name, pre, post, rng.integers(0, npre, n), rng.integers(0, npost, n),
                         weight=rng.integers(-3, 4, n), latency=rng.integers(1, 5, n)))
    c = _circuit([_pop("A", na), _pop("B", nb)], [("in", ni)], prjs)
    pl = place(c, chips="kapoho_point")
    assert pl["chips_available"] == 4
    cores = pl["cores"]
    k = {name: r["neurons_per_core"] for name, r in pl["populations"].items()}
    base = {name: r["cores"][0] for name, r in pl["populations"].items()}
    core_of = lambda pop, i: base[pop] + i // k[pop]
    fan_in = [set() for _ in cores["neurons"]]
    dest = {}
    syn = np.zeros(len(cores["neurons"]), int)
    bits = np.zeros(len(cores["neurons"]), int)
    for prj in prjs:
        keep = np.asarray(prj.weights) != 0  # zero-weight synapses are not stored
        b = pl["synapse_bits"][prj.name]
        assert b == 8 + 2 + 13  # latencies up to 4 -> 2 delay bits
        for pre, post in zip(np.asarray(prj.cols)[keep], np.asarray(prj.rows)[keep]):
            cc = core_of(prj.post, int(post))
            fan_in[cc].add((prj.pre, int(pre)))
            syn[cc] += 1
            bits[cc] += b
            if prj.pre != "in":
                dest.setdefault((prj.pre, int(pre)), set()).add(cc)
    fan_out = np.zeros(len(cores["neurons"]), int)
    for (pop, i), cs in dest.items():
        fan_out[core_of(pop, i)] += len(cs)
    assert cores["fan_in"] == [len(s) for s in fan_in]
    assert cores["fan_out"] == list(fan_out)
    assert cores["synapses"] == list(syn)
    assert cores["synaptic_memory_bytes"] == list(-(-bits // 8))
    assert pl["totals"]["fan_in_axons"] == sum(len(s) for s in fan_in)
    routes = pl["totals"]["intra_chip_routes"] + pl["totals"]["inter_chip_routes"]
    assert routes == sum(len(cs) for cs in dest.values())
    text = format_placement(pl)
    assert "neurocores" in text and "fan_in" in text and "most loaded cores" in text
    json.dumps(pl)


# ------------------------------------------------------------------------------------------
# models that do not fit
# ------------------------------------------------------------------------------------------

def test_too_many_cores_for_the_chips():
    # 1.1 million neurons need 135 cores of 8192: two chips (128 cores each)
    c = _circuit([_pop("big", 1_100_000)])
    with pytest.raises(PlacementError) as err:
        place(c, chips=1)
    e = err.value
    assert e.limit == "cores_per_chip" and e.chips_needed == 2 and e.required == 135 and e.available == 128
    assert "needs 135 neurocores on 2 chips" in str(e) and "short by 7 cores" in str(e)
    assert "accepted: chips >= 2" in str(e)
    pl = place(c, chips=2)
    assert pl["chips_used"] == 2 and [ch["cores"] for ch in pl["chips"]] == [122, 13]
    # the published 1M neurons per chip binds before 128 cores of 8192 neurons (1,048,576)
    assert pl["chips"][0]["neurons"] <= 1_000_000


def test_a_neuron_with_too_many_inputs_fits_on_no_number_of_chips():
    pre = np.arange(5000)
    c = _circuit([_pop("P", 2)], [("in", 5000)], [_prj("in->P", "in", "P", pre, np.zeros(5000))])
    with pytest.raises(PlacementError, match=r"P.fan_in: neuron 0 receives 5000 distinct axons, 904 more") as err:
        place(c, chips=1000)
    assert err.value.chips_needed is None and err.value.limit == "fan_in_axons_per_core"
    assert "no number of chips helps" in str(err.value)


def test_a_neuron_with_too_much_synaptic_memory():
    # 60000 synapses onto one neuron from 3000 channels (20 each): 60000 * 21 bits > 128 KiB,
    # fan-in 3000 would fit
    pre = np.tile(np.arange(3000), 20)
    c = _circuit([_pop("P", 1)], [("in", 3000)], [_prj("in->P", "in", "P", pre, np.zeros(pre.size))])
    with pytest.raises(PlacementError, match=r"P.synaptic_memory: neuron 0 alone needs 157500 bytes") as err:
        place(c)
    assert err.value.limit == "synaptic_memory_bytes_per_core" and err.value.chips_needed is None


def test_fan_out_of_one_neuron_too_large(monkeypatch):
    monkeypatch.setitem(LIMITS, "fan_out_axons_per_core", Limit(2, "", "test", "assumed", "test"))
    monkeypatch.setitem(LIMITS, "neurons_per_core", Limit(1, "", "test", "assumed", "test"))
    c = _circuit([_pop("A", 1), _pop("B", 3)], prjs=[_prj("A->B", "A", "B", [0, 0, 0], [0, 1, 2])])
    with pytest.raises(PlacementError, match="A.fan_out: neuron 0 projects to 3 distinct neurocores") as err:
        place(c)
    assert err.value.limit == "fan_out_axons_per_core"


def test_bad_arguments():
    c = _circuit([_pop("A", 3)])
    with pytest.raises(ParameterError, match="place.chips"):
        place(c, chips=0)
    with pytest.raises(ParameterError, match="place.chips.*unknown system"):
        place(c, chips="pohoiki")
    c.projections.append(_prj("X->A", "X", "A", [0], [0]))
    with pytest.raises(ParameterError, match="X->A.pre"):
        place(c)
