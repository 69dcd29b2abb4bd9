"""Bit-exactness of the emulator's fixed-point mode with Lava ``Loihi2SimCfg(select_tag="fixed_pt")``.

Random seeded networks (10-300 LIF or refractory LIF neurons; excitatory, inhibitory and
mixed-sign connection processes with weight exponents and delays 1..64; biases; spike input
from a Lava ``RingBuffer``) run for 200 steps on Lava and on
:class:`neurohybrid.backends.emulator.fixed.FixedPointNetwork`: spikes, ``u`` and ``v`` must be
identical at every step. Lava's values are read every step with Monitors.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from neurohybrid.backends.emulator.fixed import MAX_DELAY, FixedConnection, FixedPointNetwork
from neurohybrid.backends.lava import compat

if not compat.import_lava():
    pytest.skip(f"Lava unavailable: {compat.last_error}", allow_module_level=True)

from lava.magma.core.decorator import implements, requires, tag  # noqa: E402
from lava.magma.core.model.py.ports import PyOutPort  # noqa: E402
from lava.magma.core.model.py.type import LavaPyType  # noqa: E402
from lava.magma.core.resources import CPU  # noqa: E402
from lava.magma.core.run_conditions import RunSteps  # noqa: E402
from lava.magma.core.run_configs import Loihi2SimCfg  # noqa: E402
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol  # noqa: E402
from lava.proc.io.source import RingBuffer  # noqa: E402
from lava.proc.lif.models import AbstractPyLifModelFixed, PyLifModelBitAcc  # noqa: E402
from lava.proc.lif.process import LIF, LIFRefractory  # noqa: E402
from lava.proc.monitor.process import Monitor  # noqa: E402
from lava.proc.sparse.process import DelaySparse, Sparse  # noqa: E402

N_STEPS = 200


@implements(proc=LIFRefractory, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyLifRefractoryModelFixed(AbstractPyLifModelFixed):
    """Fixed-point LIFRefractory, which Lava 0.10 lacks (it has only a floating_pt one).

    Made only of Lava's own code: the arithmetic of ``AbstractPyLifModelFixed`` and the
    threshold of ``PyLifModelBitAcc``, plus the refractory rule of
    ``PyLifRefractoryModelFloat`` (v is not integrated while refractory_period_end >= time_step;
    a spike sets refractory_period_end = time_step + refractory_period).
    """

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    vth: int = LavaPyType(int, np.int32, precision=17)
    refractory_period_end: np.ndarray = LavaPyType(np.ndarray, int)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.effective_vth = 0
        self.refractory_period = proc_params["refractory_period"]

    scale_threshold = PyLifModelBitAcc.scale_threshold
    spiking_activation = PyLifModelBitAcc.spiking_activation

    def subthr_dynamics(self, activation_in):
        refractory = self.refractory_period_end >= self.time_step
        held = self.v[refractory].copy()
        super().subthr_dynamics(activation_in)
        self.v[refractory] = held

    def reset_voltage(self, spike_vector):
        self.refractory_period_end[spike_vector] = self.time_step + self.refractory_period
        super().reset_voltage(spike_vector)


def random_matrix(rng, shape, density, low, high):
    """Integer sparse matrix with entries drawn from [low, high] (zeros dropped)."""
    mask = rng.random(shape) < density
    values = rng.integers(low, high + 1, size=shape)
    return sp.csr_matrix(np.where(mask, values, 0))


def random_delays(rng, weights, max_latency):
    """Latency matrix (1..max_latency) with an entry for every synapse of ``weights``."""
    d = weights.copy().astype(np.int64)
    d.data = rng.integers(1, max_latency + 1, size=d.nnz)
    return d


def make_case(seed):
    """A random network description: neuron parameters, connections, input spikes."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(10, 301))
    n_in = int(rng.integers(1, 40))
    extreme = seed % 5 == 4  # large weights: exercises u wrap-around and v saturation
    params = dict(
        # decay mantissas from time constants of 1.2 to 100 steps (4096 / tau)
        du=int(4096 / np.exp(rng.uniform(np.log(1.2), np.log(100)))),
        dv=int(4096 / np.exp(rng.uniform(np.log(1.2), np.log(100)))),
        vth=int(rng.integers(2 ** 16, 2 ** 17)) if extreme else int(rng.integers(100, 4000)),
        bias_mant=rng.integers(-200, 200, n), bias_exp=rng.integers(-2, 6, n),
        refractory_period=int(rng.integers(1, 6)) if seed % 2 else 0,
    )
    if extreme:
        params["du"] = int(rng.integers(0, 64))  # slow current decay: u runs past 2**23
    density = 10.0 / n
    wmax = 255
    conns = [
        # excitatory, delayed, up to the longest delay Lava supports (DelaySparse 63 -> 64 steps)
        ("network", random_matrix(rng, (n, n), density, 1, wmax), MAX_DELAY if seed % 3 == 0 else 20,
         int(rng.integers(5, 8)) if extreme else int(rng.integers(-3, 3)), 8),
        # inhibitory, delayed
        ("network", random_matrix(rng, (n, n), density, -wmax, -1), 10, int(rng.integers(-3, 3)), 8),
        # mixed-sign, one-step (Lava Sparse), fewer weight bits
        ("network", random_matrix(rng, (n, n), density / 2, -256, 255), 1, int(rng.integers(-3, 2)),
         int(rng.integers(5, 9))),
        # external input, delayed
        ("input", random_matrix(rng, (n, n_in), 0.3, 0, wmax), 8, int(rng.integers(4, 7)) if extreme else int(rng.integers(-1, 3)), 8),
    ]
    conns = [(src, w, random_delays(rng, w, dmax), exp, bits) for src, w, dmax, exp, bits in conns]
    rate = rng.uniform(0.01, 0.15)
    inputs = rng.random((N_STEPS, n_in)) < rate
    return n, n_in, params, conns, inputs


def run_lava(n, params, conns, inputs):
    """Run the case on Lava fixed_pt; returns spikes (bool), u, v (int64) of shape [steps, n]."""
    common = dict(shape=(n,), du=params["du"], dv=params["dv"], vth=params["vth"],
                  bias_mant=params["bias_mant"], bias_exp=params["bias_exp"])
    if params["refractory_period"]:
        lif = LIFRefractory(refractory_period=params["refractory_period"], **common)
    else:
        lif = LIF(**common)
    source = RingBuffer(data=inputs.T.astype(np.int32))
    for src, w, d, exp, bits in conns:
        lava_delays = d.copy()
        lava_delays.data = lava_delays.data - 1  # Lava: extra steps beyond the one every connection has
        if lava_delays.nnz and lava_delays.max() > 0:
            proc = DelaySparse(weights=w, delays=lava_delays.astype(int), weight_exp=exp, num_weight_bits=bits)
        else:
            proc = Sparse(weights=w, weight_exp=exp, num_weight_bits=bits)
        (lif.s_out if src == "network" else source.s_out).connect(proc.s_in)
        proc.a_out.connect(lif.a_in)
    # One Monitor per probe: Lava's PyMonitorModel declares a single port (ref_port_0 or
    # in_port_0), so a Monitor probing two targets fails to compile.
    n_steps = inputs.shape[0]
    monitors = {}
    for name, target in (("u", lif.u), ("v", lif.v), ("s_out", lif.s_out)):
        monitors[name] = Monitor()
        monitors[name].probe(target, n_steps)
    cfg = Loihi2SimCfg(select_tag="fixed_pt", exception_proc_model_map={LIFRefractory: PyLifRefractoryModelFixed})
    try:
        lif.run(condition=RunSteps(num_steps=n_steps), run_cfg=cfg)
        data = {k: m.get_data()[lif.name][k] for k, m in monitors.items()}
    finally:
        lif.stop()
    return data["s_out"].astype(bool), data["u"].astype(np.int64), data["v"].astype(np.int64)


def run_emulator(n, n_in, params, conns, inputs):
    connections = [FixedConnection(w, d, exp, bits, None, src) for src, w, d, exp, bits in conns]
    net = FixedPointNetwork(n, connections=connections, n_inputs=n_in, **params)
    return net.run(inputs.shape[0], inputs)


def assert_identical(case):
    n, n_in, params, conns, inputs = case
    spikes, u, v = run_emulator(n, n_in, params, conns, inputs)
    l_spikes, l_u, l_v = run_lava(n, params, conns, inputs)
    for name, ours, theirs in (("spikes", spikes, l_spikes), ("u", u, l_u), ("v", v, l_v)):
        mismatch = np.argwhere(ours != theirs)
        assert mismatch.size == 0, (
            f"{name} differs first at step {mismatch[0][0] + 1} (Lava time_step) neuron "
            f"{mismatch[0][1]}: emulator {ours[tuple(mismatch[0])]} vs Lava {theirs[tuple(mismatch[0])]}")
    return spikes, u, v


@pytest.mark.parametrize("seed", range(10))
def test_bit_exact_with_lava_fixed_pt(seed):
    spikes, u, v = assert_identical(make_case(seed))
    # The comparison must be meaningful: some, but not all, neurons fire.
    assert 0 < spikes.sum() < spikes.size


def edge_case(kind):
    """Hand-made networks aimed at one subtle piece of Lava's integer semantics each."""
    rng = np.random.default_rng(123)
    steps = 40
    if kind == "overflow":
        # Huge synchronous input: u goes past 2**23 and Lava wraps it only once (u can end up
        # far outside 24 bits); v saturates at +-(2**23 - 1); du = 4095 → u decays fully.
        n, n_in = 4, 40
        params = dict(du=4095, dv=0, vth=2 ** 17 - 1, bias_mant=0, bias_exp=0, refractory_period=0)
        exc = np.zeros((n, n_in), np.int64)
        exc[0, :] = 255
        exc[1, :3] = 255
        exc[3, :20] = 255
        inh = np.zeros((n, n_in), np.int64)
        inh[2, :] = -255
        inh[3, :] = -255
        inputs = np.zeros((steps, n_in), bool)
        inputs[[0, 5, 6, 7, 20], :] = True
        conns = [("input", sp.csr_matrix(exc), 1, 7, 8), ("input", sp.csr_matrix(inh), 3, 6, 8)]
    elif kind == "floor":
        # Negative weight exponents floor the *sum* of the weights arriving together; mixed-sign
        # weights lose their LSB (1 → 0, -1 → -2); inhibitory ones are truncated towards 0.
        n, n_in = 30, 12
        params = dict(du=1000, dv=200, vth=20, bias_mant=rng.integers(-10, 30, n),
                      bias_exp=rng.integers(-7, 5, n), refractory_period=0)
        mixed = sp.csr_matrix(rng.integers(-3, 8, (n, n_in)))
        inh = sp.csr_matrix(-rng.integers(0, 6, (n, n_in)))
        rec = sp.csr_matrix(rng.integers(-5, 6, (n, n)) * (rng.random((n, n)) < 0.3))
        inputs = rng.random((steps, n_in)) < 0.5
        conns = [("input", mixed, 1, -2, 8), ("input", inh, 2, -3, 6),
                 ("network", rec, random_delays(rng, rec, 4), -1, 7)]
    elif kind == "refractory":
        # vth = 0 and positive biases: neurons fire whenever they may; the refractory period
        # holds v at 0 for exactly refractory_period steps while u keeps integrating.
        n, n_in = 16, 4
        params = dict(du=100, dv=50, vth=0, bias_mant=rng.integers(-5, 40, n), bias_exp=rng.integers(0, 3, n),
                      refractory_period=3)
        w = sp.csr_matrix(rng.integers(-100, 100, (n, n_in)))
        inputs = rng.random((steps, n_in)) < 0.3
        conns = [("input", w, 2, 0, 8)]
    conns = [(src, w, d if sp.issparse(d) else random_delays(rng, w, 1) * d, exp, bits)
             for src, w, d, exp, bits in conns]
    return n, n_in, params, conns, inputs


@pytest.mark.parametrize("kind", ["overflow", "floor", "refractory"])
def test_bit_exact_edge_cases(kind):
    spikes, u, v = assert_identical(edge_case(kind))
    if kind == "overflow":
        assert np.abs(u).max() > 2 ** 24  # past 24 bits: the single wrap really happened
        assert (v == -(2 ** 23) + 1).any()  # negative saturation
    if kind == "floor":
        assert spikes.any(axis=0).sum() > 5
    if kind == "refractory":
        fired = spikes.any(axis=0)
        n_fired_min = spikes.shape[1] // 2
        # refractory: never two spikes closer than refractory_period + 1 steps
        for i in np.flatnonzero(fired):
            assert np.diff(np.flatnonzero(spikes[:, i])).min(initial=99) >= 4
        assert fired.sum() > n_fired_min
