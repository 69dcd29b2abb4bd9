"""The fixed-point learning engine on its own: typed errors for parameters outside Loihi's
ranges, snapshots that continue bit for bit, the epoch shortcut (only synapses of neurons that
spiked are visited) against a full pass, and the bookkeeping of Lava's random streams.
Bit-exactness with Lava itself is tests/backends/lava/test_learning_bitexact.py."""
from __future__ import annotations

import numpy as np
import pytest

from neurohybrid.backends.emulator.fixed import FixedPointNetwork
from neurohybrid.backends.emulator.fixed_learning import (M_UNSTABLE, FixedLearningDense, PlasticSpec,
                                                          ThirdFactorTraces, truncate_weights)
from neurohybrid.errors import DelayError, ParameterError
from neurohybrid.mappings.loihi.circuit import LoihiProjection
from neurohybrid.mappings.loihi.learning_rules import compile_rule, parse_rule, plastic_block

STDP = dict(dw="2^-2*x0*y1 - 2^-2*y0*x1", x1_impulse=16, x1_tau=10, y1_impulse=16, y1_tau=10)


def stdp(**kw):
    args = dict(STDP, t_epoch=2, rng_seed=3)
    args.update(kw)
    return compile_rule(parse_rule(**args))


def _network(rng, n=12, rule=None, third=False, mode="excitatory"):
    rule = rule or stdp()
    lo, hi = {"mixed": (-40, 40), "excitatory": (0, 60), "inhibitory": (-60, 0)}[mode]
    tf = ThirdFactorTraces(np.ones(n, bool), [300, 4096, 0], [30, 0, 0], [0, 1, 0]) if third else None
    return FixedPointNetwork(n, du=500, dv=200, vth=150, bias_mant=rng.integers(0, 80, n), bias_exp=6,
                             plastic=[PlasticSpec(rng.integers(lo, hi, (n, n)), rule, mode, 7, 0)],
                             third_factor=tf)


# --------------------------------------------------------------------------------------------
# typed errors
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change, parameter", [
    (dict(t_epoch=0), "t_epoch"), (dict(t_epoch=64), "t_epoch"), (dict(rng_seed=None), "rng_seed"),
    (dict(rng_seed=-1), "rng_seed"), (dict(x1_impulse=200.0), "x1_impulse"), (dict(y1_tau=-3), "y1_tau"),
    (dict(x1_impulse=float("nan")), "x1_impulse")])
def test_rule_parameters_out_of_loihi_range_are_typed_errors(change, parameter):
    args = dict(STDP, t_epoch=1, rng_seed=0)
    args.update(change)
    # Lava's rule refuses some itself (its ValueError becomes a ParameterError), the compiler
    # the others (Loihi's ranges)
    with pytest.raises(ParameterError) as info:
        compile_rule(parse_rule(**args))
    assert parameter in str(info.value) or "Lava refuses" in str(info.value)


def test_a_rule_lava_cannot_parse_is_a_typed_error():
    with pytest.raises(ParameterError, match="Lava refuses"):
        parse_rule(dw="x1*y1", t_epoch=1, rng_seed=0)  # no dependency
    with pytest.raises(ParameterError, match="Lava refuses"):
        parse_rule(dw="9*x0*y1", t_epoch=1, rng_seed=0)  # mantissa too large


@pytest.mark.parametrize("mode, weights", [("excitatory", -1), ("inhibitory", 1), ("mixed", 256), ("excitatory", 256)])
def test_initial_weights_outside_the_sign_modes_range_are_refused(mode, weights):
    with pytest.raises(ParameterError, match="weights"):
        FixedLearningDense(np.full((2, 3), weights), stdp(), sign_mode=mode)


@pytest.mark.parametrize("kw, parameter", [
    (dict(sign_mode="both"), "sign_mode"), (dict(num_weight_bits=9), "num_weight_bits"),
    (dict(weight_exp=8), "weight_exp"), (dict(tag_1=np.full((2, 3), 300)), "tag_1"),
    (dict(tag_2=np.full((2, 3), -1)), "tag_2")])
def test_connection_parameters_out_of_range_are_typed_errors(kw, parameter):
    with pytest.raises(ParameterError, match=parameter):
        FixedLearningDense(np.zeros((2, 3)), stdp(), **kw)


def test_plastic_projections_refuse_delays_and_repeated_pairs():
    proj = LoihiProjection("p", "a", "b", np.array([0, 1]), np.array([0, 0]), np.array([3, 4]), np.array([1, 2]), 0,
                           learning=stdp())
    with pytest.raises(DelayError, match="Lava 0.10 has no learning connection with delays"):
        plastic_block(proj, 2, 2)
    proj.delays = np.array([1, 1])
    proj.rows = np.array([0, 0])
    with pytest.raises(ParameterError, match="listed twice"):
        plastic_block(proj, 2, 2)


def test_a_three_factor_rule_needs_post_neurons_with_third_factor_traces():
    rule = compile_rule(parse_rule(dw="u0*t*y2", dt="x0*y1", three_factor=True, x1_impulse=10, x1_tau=5,
                                   t_epoch=1, rng_seed=1))
    with pytest.raises(ParameterError, match="third-factor"):
        _network(np.random.default_rng(0), rule=rule)
    with pytest.raises(ParameterError, match="third_factor.decay"):
        FixedPointNetwork(3, du=1, dv=1, vth=1, third_factor=ThirdFactorTraces(np.ones(3, bool), [5000, 0, 0],
                                                                                [0, 0, 0], [0, 0, 0]))


# --------------------------------------------------------------------------------------------
# behaviour
# --------------------------------------------------------------------------------------------

def test_truncation_matches_lavas_rule():
    w = np.array([-7, -3, 3, 7, 255])
    assert truncate_weights(w, "mixed", 8).tolist() == [-8, -4, 2, 6, 254]
    assert truncate_weights(-np.abs(w), "inhibitory", 6).tolist() == [-4, 0, 0, -4, -252]


@pytest.mark.parametrize("third", [False, True])
def test_a_snapshot_continues_bit_for_bit(third):
    rng = np.random.default_rng(5)
    rule = compile_rule(parse_rule(dw="u0*t*y2 + 2^-3*y0*x1", dt="x0*y1 - y0*x1 - u0*t*2^-2", three_factor=True,
                                   x1_impulse=12.5, x1_tau=6, t_epoch=3, rng_seed=9)) if third else stdp(t_epoch=3)
    a = _network(rng, rule=rule, third=third)
    b = _network(np.random.default_rng(5), rule=rule, third=third)
    reward = np.random.default_rng(1).integers(0, 30, (120, 12)) * (np.random.default_rng(2).random((120, 12)) < .2)
    a.run(50, third_factor_input=reward[:50])
    snap = a.state()
    rest = a.run(70, third_factor_input=reward[50:], record_plastic=True)
    rest_plastic = a.plastic_record
    b.run(20, third_factor_input=reward[:20])  # elsewhere, then restored
    b.restore(snap)
    again = b.run(70, third_factor_input=reward[50:], record_plastic=True)
    assert np.array_equal(rest.spikes, again.spikes) and rest.spikes.any()
    for var, values in rest_plastic[0].items():
        assert np.array_equal(values, b.plastic_record[0][var]), var
    initial = a.plastic._initial[0][0]
    assert np.any(rest_plastic[0]["weights"][-1] != initial)


def test_runs_cut_into_windows_equal_one_run():
    whole = _network(np.random.default_rng(8), mode="mixed")
    one = whole.run(90, record_plastic=True)
    net = _network(np.random.default_rng(8), mode="mixed")
    parts, records = [], []
    for n in (1, 29, 60):
        parts.append(net.run(n, record_plastic=True))
        records.append(net.plastic_record[0])
    assert np.array_equal(one.spikes, np.vstack([p.spikes for p in parts]))
    for var in ("weights", "tag_1", "x1", "y1"):
        assert np.array_equal(whole.plastic_record[0][var], np.concatenate([r[var] for r in records])), var


def test_reset_starts_again_from_the_initial_state():
    net = _network(np.random.default_rng(3))
    net.run(40, record_plastic=True)
    first = net.plastic_record[0]["weights"]
    net.reset()
    net.run(40, record_plastic=True)
    assert np.array_equal(first, net.plastic_record[0]["weights"])


def test_the_epoch_shortcut_equals_a_full_pass():
    """Visiting only the synapses of neurons that spiked gives what visiting all of them gives
    (a full pass is what a u0 term forces: the same rule plus ``u0*0``-free terms cannot be
    written, so the check flips the connection's 'unstable' flag, which forces full passes)."""
    rng = np.random.default_rng(11)
    rule = compile_rule(parse_rule(dw="3*2^-3*x0*y1*(w-20) - 2^-2*y0*x1 + y0*x2*sgn(t+1)", dt="5*x0*y2 - 3*y0*x1",
                                   dd="2^-1*y0*y1", x1_impulse=20.4, x1_tau=7, x2_impulse=9, x2_tau=0,
                                   y1_impulse=30, y1_tau=12, y2_impulse=5.5, y2_tau=3, t_epoch=2, rng_seed=4))
    w = rng.integers(-60, 60, (9, 7))
    pre = rng.random((150, 7)) < 0.15
    post = rng.random((150, 9)) < 0.15
    fast = FixedLearningDense(w, rule, sign_mode="mixed").run(pre, post)
    slow_conn = FixedLearningDense(w, rule, sign_mode="mixed")
    meta = slow_conn.set.arrays.meta
    out = []
    for k in range(150):
        meta[0, M_UNSTABLE] = 1  # full pass at every epoch
        out.append(slow_conn.run(pre[k:k + 1], post[k:k + 1]))
    for var in ("weights", "tag_1", "tag_2"):
        assert np.array_equal(fast[var], np.concatenate([o[var] for o in out])), var
    assert np.any(fast["tag_1"][-1] != 0) and np.any(fast["tag_2"][-1] != 0)


def test_tag_1_at_its_lower_bound_is_not_a_fixed_point():
    """Lava saturates tag_1 to [-257, 255] but its accumulator to [-32769, 32767] (= -256.0078
    << 7): a tag at -257 moves even without a contribution, with probability 127/128."""
    rule = compile_rule(parse_rule(dt="x0*y0", t_epoch=1, rng_seed=1))  # no spike: no contribution
    conn = FixedLearningDense(np.zeros((3, 2)), rule, tag_1=np.full((3, 2), -257))
    rec = conn.run(np.zeros((5, 2), bool), np.zeros((5, 3), bool))
    assert np.any(rec["tag_1"][-1] == -256)
