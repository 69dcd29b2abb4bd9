"""The Vogels–Abbott COBA network (Brette et al. 2007, J Comput Neurosci 23:349, benchmark 1;
PyNN's ``examples/VAbenchmarks.py COBA``) with its external drive made deterministic, so that
one simulator's spikes can be compared with another's spike for spike.

Everything is as in PyNN's script (4,000 IF_cond_exp cells, 4:1 E/I, p = 0.02 from the seeded
``NumpyRNG(98765)``, 4 nS / 51 nS, 0.2 ms delays, v uniform in [v_reset, v_thresh]) except the
20 external sources: instead of ``SpikeSourcePoisson(rate=100, duration=50)`` (whose spikes no
two simulators draw alike) they are ``SpikeSourceArray``s with Poisson-like trains drawn here.
Their times are on the 0.1 ms grid, at least 0.5 ms, and chosen so that ``t - min_delay`` is
exact in binary: pyNN.nest shifts array times by ``min_delay`` for its parrot neurons and a
time like 1.1 - 0.2 = 0.9000000000000001 would land one step late in NEST.

Used by ``test_va_benchmarks.py`` and by ``make_va_references.py`` (which runs it on pyNN.nest).
"""
from __future__ import annotations

import hashlib

import numpy as np

DT = 0.1  # ms
MIN_DELAY = 0.2  # ms, the recurrent delay of the benchmark
N_EXC, N_INH = 3200, 800
CELL = dict(tau_m=20.0, tau_syn_E=5.0, tau_syn_I=10.0, v_rest=-60.0, v_reset=-60.0, v_thresh=-50.0,
            cm=0.2, tau_refrac=5.0, e_rev_E=0.0, e_rev_I=-80.0)


def external_trains(seed: int = 42, n: int = 20, rate_hz: float = 100.0, duration_ms: float = 50.0):
    """Poisson-like spike trains (ms) of the external sources, grid-aligned and NEST-safe."""
    rs = np.random.RandomState(seed)
    trains = []
    for _ in range(n):
        times = np.unique(np.round(rs.uniform(0.5, duration_ms, rs.poisson(rate_hz * duration_ms / 1000.0)), 1))
        keep = [float(t) - MIN_DELAY == round(float(t) - MIN_DELAY, 1) for t in times]
        trains.append(times[np.asarray(keep, dtype=bool)] if times.size else times)
    return trains


def build(sim, ext_seed: int = 2):
    """Build the network in the current ``sim`` session; returns the excitatory population.

    With the default seeds, the NEST-incompatible integration this guards against (v not
    clamped inside the right-hand side) changes the spikes within 500 ms; with other seeds
    such rounding-level differences can stay invisible for a whole second.
    """
    from pyNN.parameters import Sequence
    from pyNN.random import NumpyRNG, RandomDistribution

    exc = sim.Population(N_EXC, sim.IF_cond_exp(**CELL), label="Excitatory_Cells")
    inh = sim.Population(N_INH, sim.IF_cond_exp(**CELL), label="Inhibitory_Cells")
    ext = sim.Population(20, sim.SpikeSourceArray(spike_times=[Sequence(t) for t in external_trains()]),
                         label="expoisson")
    rng = NumpyRNG(seed=98765, parallel_safe=True)
    v_init = RandomDistribution("uniform", low=CELL["v_reset"], high=CELL["v_thresh"], rng=rng)
    exc.initialize(v=v_init)
    inh.initialize(v=v_init)
    connector = sim.FixedProbabilityConnector(0.02, rng=rng)
    exc_syn = sim.StaticSynapse(weight=4e-3, delay=MIN_DELAY)
    inh_syn = sim.StaticSynapse(weight=51e-3, delay=MIN_DELAY)
    for pre, post, syn, receptor in ((exc, exc, exc_syn, "excitatory"), (exc, inh, exc_syn, "excitatory"),
                                     (inh, exc, inh_syn, "inhibitory"), (inh, inh, inh_syn, "inhibitory")):
        sim.Projection(pre, post, connector, syn, receptor_type=receptor)
    ext_conn = sim.FixedProbabilityConnector(0.01, rng=NumpyRNG(seed=ext_seed))
    for post in (exc, inh):
        sim.Projection(ext, post, ext_conn, sim.StaticSynapse(weight=0.1, delay=MIN_DELAY), receptor_type="excitatory")
    exc.record("spikes")
    return exc


def spike_summary(population, t_stop: float, bin_ms: float = 50.0) -> dict:
    """Count, per-bin counts and a SHA-256 of the sorted (tick, cell) pairs of the recorded spikes."""
    trains = population.get_data().segments[0].spiketrains
    ticks = np.concatenate([np.rint(np.asarray(s.magnitude) / DT).astype(np.int64) for s in trains])
    cells = np.concatenate([np.full(len(s), k, dtype=np.int64) for k, s in enumerate(trains)])
    order = np.lexsort((cells, ticks))
    pairs = np.column_stack([ticks[order], cells[order]])
    counts = np.histogram(ticks * DT, bins=np.arange(0.0, t_stop + bin_ms / 2, bin_ms))[0]
    return {"n_spikes": int(ticks.size), "per_bin": counts.tolist(),
            "sha256": hashlib.sha256(np.ascontiguousarray(pairs).tobytes()).hexdigest()}
