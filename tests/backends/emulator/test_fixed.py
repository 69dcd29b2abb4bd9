"""Fixed-point emulator (``neurohybrid.backends.emulator.fixed``) on its own, without Lava.

Hand-computed Loihi integer arithmetic, windowed runs, checkpoints and parameter validation.
Bit-exactness with Lava itself is in ``test_fixed_bitexact.py``.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from neurohybrid.backends.emulator.fixed import (
    MAX_DELAY, FixedConnection, FixedPointNetwork, lava_effective_weights, lava_sign_mode)
from neurohybrid.errors import DelayError, ParameterError


def test_current_and_voltage_decay_round_towards_zero():
    # u decays by (4096 - du - 1)/4096 (Lava's ds_offset = 1), v by (4096 - dv)/4096, both
    # as sign(p) * (|p| >> 12).
    net = FixedPointNetwork(2, du=0, dv=1, vth=2 ** 17 - 1, u0=[1000, -1000], v0=[-100001, 100001])
    _, u, v = net.run(1)
    assert list(u[0]) == [999, -999]  # 1000 * 4095 >> 12 = 999
    # v: decayed -100001 * 4095 / 4096 → -99976 (towards 0), then + u
    assert list(v[0]) == [-(100001 * 4095 >> 12) + 999, (100001 * 4095 >> 12) - 999]


def test_bias_threshold_and_reset():
    # No leak, bias 100 per step, vth 10 → fires when v > 640: at steps 7, 14, 21 (1-based).
    net = FixedPointNetwork(1, du=0, dv=0, vth=10, bias_mant=25, bias_exp=2)
    spikes, _, v = net.run(21)
    assert list(np.flatnonzero(spikes[:, 0]) + 1) == [7, 14, 21]
    assert v[5, 0] == 600 and v[6, 0] == 0
    # negative exponent: arithmetic right shift, i.e. floor (-5 >> 1 = -3)
    net = FixedPointNetwork(1, du=0, dv=0, vth=10, bias_mant=-5, bias_exp=-1)
    _, _, v = net.run(2)
    assert list(v[:, 0]) == [-3, -6]


def test_delays_and_weight_exponent_floor_the_sum():
    # Two input channels with weight 1 onto one neuron, weight_exp = -1: together they deliver
    # (1 + 1) >> 1 = 1 (u += 64); alone, 1 >> 1 = 0.
    w = np.array([[1, 1]])
    inputs = np.zeros((10, 2), bool)
    inputs[0, :] = True  # together, delay 3 → arrives at step 4
    inputs[5, 0] = True  # alone → nothing
    net = FixedPointNetwork(1, du=4095, dv=4095, vth=1000, input_weights=w, input_delays=3, input_weight_exp=-1)
    _, u, _ = net.run(10, inputs)
    assert list(np.flatnonzero(u[:, 0])) == [3]  # 0-based step 3 = Lava time_step 4
    assert u[3, 0] == 64


def test_u_wraps_once_and_v_saturates():
    n_in = 40
    exc = np.zeros((2, n_in), np.int64)
    exc[0] = 255
    inh = np.zeros((2, n_in), np.int64)
    inh[1] = -255
    inputs = np.zeros((2, n_in), bool)
    inputs[0] = True
    conns = [FixedConnection(exc, 1, 7, source="input"), FixedConnection(inh, 1, 7, source="input")]
    net = FixedPointNetwork(2, du=4095, dv=0, vth=2 ** 17 - 1, connections=conns)
    spikes, u, v = net.run(2, inputs)
    raw = (40 * 255 << 7) << 6
    # one wrap only (> 2**23 → -2**24, <= -2**23 → +2**24): still far outside 24 bits
    assert list(u[1]) == [raw - 2 ** 24, -raw + 2 ** 24]
    # v saturates at +-(2**23 - 1); +2**23 - 1 exceeds any threshold, so that neuron fires
    assert list(spikes[1]) == [True, False]
    assert list(v[1]) == [0, -(2 ** 23) + 1]


def test_refractory_period_holds_v():
    net = FixedPointNetwork(1, du=0, dv=0, vth=0, bias_mant=1, refractory_period=2)
    spikes, _, v = net.run(9)
    assert list(np.flatnonzero(spikes[:, 0]) + 1) == [1, 4, 7]
    assert list(v[:, 0]) == [0, 0, 0] * 3
    plain = FixedPointNetwork(1, du=0, dv=0, vth=0, bias_mant=1)  # refractory_period 0 = LIF
    assert plain.run(3).spikes.all()


def test_lava_weight_preprocessing():
    mixed = np.array([-300, -3, -1, 1, 3, 300])
    assert lava_sign_mode(mixed) == "mixed"
    assert list(lava_effective_weights(mixed, "mixed")) == [-256, -4, -2, 0, 2, 254]
    assert list(lava_effective_weights(np.array([-5, -300]), "inhibitory", 6)) == [-4, -252]
    assert list(lava_effective_weights(np.array([5, 300]), "excitatory", 6)) == [4, 252]
    assert lava_sign_mode(sp.csr_matrix(np.array([[0, -2]]))) == "inhibitory"


def _random_net(seed):
    rng = np.random.default_rng(seed)
    n, n_in = 60, 8
    w = sp.random(n, n, density=0.1, random_state=seed, data_rvs=lambda k: rng.integers(-200, 256, k))
    d = w.copy()
    d.data = rng.integers(1, MAX_DELAY + 1, d.nnz).astype(float)
    win = rng.integers(0, 256, (n, n_in))
    net = FixedPointNetwork(n, du=300, dv=200, vth=400, bias_mant=rng.integers(0, 100, n), bias_exp=3,
                            refractory_period=2, weights=w, delays=d, weight_exp=1,
                            connections=[FixedConnection(win, 5, 0, 8, None, "input")])
    inputs = rng.random((300, n_in)) < 0.1
    return net, inputs


def test_windowed_runs_and_restore_match_one_run():
    net, inputs = _random_net(1)
    whole = net.run(300, inputs)
    assert 0 < whole.spikes.sum() < whole.spikes.size
    net.reset()
    parts = [net.run(100, inputs[:100])]
    checkpoint = net.state()
    parts.append(net.run(137, inputs[100:237]))
    parts.append(net.run(63, inputs[237:]))
    for k, name in enumerate(("spikes", "u", "v")):
        assert np.array_equal(np.concatenate([p[k] for p in parts]), whole[k]), name
    net.restore(checkpoint)
    again = net.run(200, inputs[100:], record_uv=False)
    assert again.u is None
    assert np.array_equal(again.spikes, whole.spikes[100:])


def test_validation():
    with pytest.raises(ParameterError, match="du"):
        FixedPointNetwork(3, du=4096, dv=0, vth=1)
    with pytest.raises(ParameterError, match="vth"):
        FixedPointNetwork(3, du=0, dv=0, vth=[1, 2])
    with pytest.raises(DelayError, match="delays"):
        FixedPointNetwork(2, du=0, dv=0, vth=1, weights=np.ones((2, 2)), delays=0)
    with pytest.raises(DelayError, match="delays"):
        FixedPointNetwork(2, du=0, dv=0, vth=1, weights=np.ones((2, 2)), delays=MAX_DELAY + 1)
    with pytest.raises(ParameterError, match="weights"):
        FixedPointNetwork(2, du=0, dv=0, vth=1, weights=np.full((2, 2), 0.5))
    with pytest.raises(ParameterError, match="weights"):
        FixedPointNetwork(2, du=0, dv=0, vth=1, weights=np.ones((3, 2)))
    net = FixedPointNetwork(2, du=0, dv=0, vth=1, input_weights=np.ones((2, 4)))
    assert net.n_inputs == 4
    with pytest.raises(ParameterError, match="input_spikes"):
        net.run(5, np.zeros((5, 3), bool))
