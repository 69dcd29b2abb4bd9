"""Delivery tables of the emulator's stochastic synapses, with NEST's semantics:

- ``SimpleStochasticSynapse`` (NEST ``bernoulli_synapse``): each spike is transmitted with
  probability ``p``, with the full weight;
- ``StochasticTsodyksMarkramSynapse`` (PyNN's NEST extension ``stochastic_stp_synapse``, Fuhrmann
  et al. 2002): one release site, recovered or not; at a spike at time t the release probability
  is updated (``u <- u e^{-Δt/tau_facil}; u <- u + U (1 - u)``, or ``u = U`` without
  facilitation), an unrecovered site recovers with probability ``1 - e^{-(t - t_surv)/tau_rec}``
  (else ``t_surv = t``), and a recovered site releases with probability u (then it is
  unrecovered from t on); a release transmits the weight;
- ``MultiQuantalSynapse`` (NEST ``quantal_stp_synapse``, Loebel et al. 2009): ``n`` release sites,
  ``a`` of them available; at each spike after the first, ``u = U + u (1 - U) e^{-Δt/tau_facil}``
  (0 for ``tau_facil`` = 0) and each depleted site recovers with probability
  ``1 - e^{-Δt/tau_rec}``; then each available site releases with probability u, and
  ``n_release`` releases transmit ``n_release * weight``. As in NEST (and so in pyNN.nest, which
  sets neither), a new synapse starts with ``a = 1`` available site and ``u = 0.5``, whatever
  ``n`` and ``U`` (NEST's constructor defaults): the other sites become available by recovery.
  ``Projection.initialize(a=..., u=...)`` sets them (edge values ``available`` and ``u``).

Times are spike time stamps (emission tick + 1) times dt, as in the Tsodyks–Markram table.
Every random number is a keyed draw (:mod:`neurohybrid.rng`): key = (graph seed, edge name,
"synapse"), counters = (the synapse's number in its edge's own order, the number of spikes the
synapse has seen before this one, the draw's index within the spike). So a run is reproducible,
and the draws (and the spikes) do not depend on threads, windows or how the model is split over
engines. Several spikes of one source in one tick are several spikes here (NEST draws per spike
of an event's multiplicity in ``bernoulli_synapse``).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from neurohybrid.rng import stream_key, uniform_at

from .ring import add_fixed, add_fixed_times, to_fixed
from .tables import DeliveryTable, TsodyksTable, _per_synapse, _scatter_rows, each_spike


@njit(parallel=True, cache=True)
def _deliver_bernoulli(ticks, sources, indptr, n_src, col, weight, delay, p, number, seen, key,
                       ring_hi, ring_lo, scale, n_slots, n_blocks):
    for b in prange(n_blocks):
        base = b * n_src
        for s in range(ticks.size):
            row = base + sources[s]
            t = (ticks[s] + n_slots) % n_slots
            for k in range(indptr[row], indptr[row + 1]):
                released = uniform_at(key, number[k], seen[k], 0) < p[k]
                seen[k] += 1
                if released:
                    w_hi, w_lo = to_fixed(weight[k], scale)
                    add_fixed(ring_hi, ring_lo, (t + delay[k]) % n_slots, col[k], w_hi, w_lo)


@njit(parallel=True, cache=True)
def _deliver_stochastic_tm(stamps, sources, indptr, n_src, col, weight, delay, U, tau_rec, tau_facil,
                           number, seen, u, recovered, t_surv, t_last, key, ring_hi, ring_lo, scale, n_slots,
                           n_blocks, dt):
    """``stamps``: spike time stamps in ticks (emission tick + 1); ``delay`` one less than the
    synapse's, so stamp + delay is the arrival tick."""
    for b in prange(n_blocks):
        base = b * n_src
        for s in range(stamps.size):
            row = base + sources[s]
            t = stamps[s]
            for k in range(indptr[row], indptr[row + 1]):
                if tau_facil[k] > 1.0e-10:
                    u[k] *= math.exp(-(t - t_last[k]) * dt / tau_facil[k])
                    u[k] += U[k] * (1.0 - u[k])
                else:
                    u[k] = U[k]
                if recovered[k] == 0:
                    if uniform_at(key, number[k], seen[k], 0) > math.exp(-(t - t_surv[k]) * dt / tau_rec[k]):
                        recovered[k] = 1
                    else:
                        t_surv[k] = t
                if recovered[k] == 1 and uniform_at(key, number[k], seen[k], 1) < u[k]:
                    recovered[k] = 0
                    t_surv[k] = t
                    w_hi, w_lo = to_fixed(weight[k], scale)
                    add_fixed(ring_hi, ring_lo, (t + delay[k]) % n_slots, col[k], w_hi, w_lo)
                t_last[k] = t
                seen[k] += 1


@njit(parallel=True, cache=True)
def _deliver_quantal(stamps, sources, indptr, n_src, col, weight, delay, U, tau_rec, tau_facil, n_sites,
                     number, seen, u, available, t_last, key, ring_hi, ring_lo, scale, n_slots, n_blocks, dt):
    """As :func:`_deliver_stochastic_tm`; ``t_last`` < 0: no spike yet. Draws: recoveries at
    indices 0..n-a-1, releases at n.. (n + a - 1)."""
    for b in prange(n_blocks):
        base = b * n_src
        for s in range(stamps.size):
            row = base + sources[s]
            t = stamps[s]
            for k in range(indptr[row], indptr[row + 1]):
                c = 0
                if t_last[k] >= 0:
                    h = (t - t_last[k]) * dt
                    p_decay = math.exp(-h / tau_rec[k])
                    u_decay = 0.0 if tau_facil[k] < 1.0e-10 else math.exp(-h / tau_facil[k])
                    u[k] = U[k] + u[k] * (1.0 - U[k]) * u_decay
                    for _ in range(n_sites[k] - available[k]):
                        if uniform_at(key, number[k], seen[k], c) < 1.0 - p_decay:
                            available[k] += 1
                        c += 1
                c = n_sites[k]
                n_release = 0
                for _ in range(available[k]):
                    if uniform_at(key, number[k], seen[k], c) < u[k]:
                        n_release += 1
                    c += 1
                if n_release > 0:
                    w_hi, w_lo = to_fixed(weight[k], scale)
                    add_fixed_times(ring_hi, ring_lo, (t + delay[k]) % n_slots, col[k], w_hi, w_lo, n_release)
                    available[k] -= n_release
                t_last[k] = t
                seen[k] += 1


class _KeyedTable(DeliveryTable):
    """A table of one edge whose synapses draw from the edge's keyed stream; per-synapse
    parameters are scattered into table order like the weights. Subclasses name their
    ``PARAMS`` and their state rows ``STATE`` (name -> (dtype, initial value))."""

    PARAMS: tuple = ()
    STATE: dict = {}
    #: state rows a projection may set (PyNN's ``Projection.initialize``): given in the edge's values
    INITIAL: tuple = ()
    stateful = True

    def __init__(self, block, edges, offsets, dt, n_blocks, n_sources, seed: int = 0):
        super().__init__(block, edges, offsets, dt, n_blocks, n_sources)
        self.dt = dt
        self.edges, self._offsets = list(edges), offsets
        for name in self.PARAMS:
            setattr(self, name, self._scatter(name))
        self.number = self.synapse_order()
        self.key = stream_key(seed, edges[0].name, "synapse")
        self.reset()

    synapse_order = TsodyksTable.synapse_order
    _weight_encoding = TsodyksTable._weight_encoding

    def _scatter(self, name: str) -> np.ndarray:
        out = np.empty(self.col.size)
        cursor = self.indptr[:-1].copy()
        scratch_col, scratch_delay = np.empty_like(self.col), np.empty_like(self.delay)
        for e in self.edges:
            _scatter_rows(e.pre_index, e.post_index, self._offsets[e.pre], 0, self.block.node.size, self.n_blocks,
                          self.n_src, cursor, _per_synapse(e.values["delay"], self.delay_dtype,
                                                           lambda d: np.rint(d / self.dt)),
                          _per_synapse(e.values[name], np.float64), scratch_col, scratch_delay, out)
        return out

    def reset(self) -> None:
        """Every synapse back to its initial state (``STATE``, or the edge's values of the
        ``INITIAL`` rows that the projection set), no spike seen."""
        for name, (dtype, initial) in self.STATE.items():
            if name in self.INITIAL and name in self.edges[0].values:
                setattr(self, name, self._scatter(name).astype(dtype))
            else:
                setattr(self, name, np.full(self.col.size, initial, dtype=dtype))

    def state(self) -> dict:
        """Per synapse, in the edge's own order: the ``STATE`` rows (``seen``: spikes the synapse
        has received, the counter of its draws; times in ticks of the spike time stamps)."""
        order = self.number
        out = {}
        for name in self.STATE:
            values = getattr(self, name)
            arr = np.empty_like(values)
            arr[order] = values
            out[name] = arr
        return out

    def restore(self, state: dict) -> None:
        """Back to a :meth:`state` (checked by the engine: same keys and shapes)."""
        for name, (dtype, _) in self.STATE.items():
            setattr(self, name, np.array(state[name], dtype=dtype)[self.number])

    deliver_dense = DeliveryTable.deliver_dense_as_spikes

    def deliver(self, ticks, sources, mult, n_slots) -> None:
        ticks, sources = each_spike(ticks, sources, mult)  # several spikes of a source in one tick: one draw each
        self._deliver(ticks, sources, n_slots)


class BernoulliTable(_KeyedTable):
    """``SimpleStochasticSynapse``: NEST's ``bernoulli_synapse`` (parameter ``p``, dimensionless)."""

    PARAMS = ("p",)
    STATE = {"seen": (np.int64, 0)}

    def _deliver(self, ticks, sources, n_slots):
        _deliver_bernoulli(ticks, sources, self.indptr, self.n_src, self.col, self.weight, self.delay, self.p,
                           self.number, self.seen, self.key, self.ring.hi, self.ring.lo, self.ring.scale, n_slots,
                           self.n_blocks)


class StochasticTsodyksTable(_KeyedTable):
    """``StochasticTsodyksMarkramSynapse``: PyNN's ``stochastic_stp_synapse`` for NEST (U
    dimensionless, tau_rec and tau_facil in ms). State: u, recovered (0/1), t_surv and t_last
    (ticks of spike time stamps), seen."""

    PARAMS = ("U", "tau_rec", "tau_facil")
    STATE = {"u": (np.float64, 0.0), "recovered": (np.int8, 1), "t_surv": (np.int64, 0),
             "t_last": (np.int64, 0), "seen": (np.int64, 0)}
    INITIAL = ("u",)

    def _deliver(self, ticks, sources, n_slots):
        _deliver_stochastic_tm(ticks + 1, sources, self.indptr, self.n_src, self.col, self.weight, self.delay - 1,
                               self.U, self.tau_rec, self.tau_facil, self.number, self.seen, self.u, self.recovered,
                               self.t_surv, self.t_last, self.key, self.ring.hi, self.ring.lo, self.ring.scale,
                               n_slots, self.n_blocks, self.dt)


class QuantalTable(_KeyedTable):
    """``MultiQuantalSynapse``: NEST's ``quantal_stp_synapse`` (U dimensionless, n sites, tau_rec
    and tau_facil in ms). State: u, available sites, t_last (ticks of spike time stamps, -1: none
    yet), seen."""

    PARAMS = ("U", "tau_rec", "tau_facil", "n")
    STATE = {"u": (np.float64, 0.5), "available": (np.int64, 1), "t_last": (np.int64, -1), "seen": (np.int64, 0)}
    INITIAL = ("u", "available")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.n_sites = self.n.astype(np.int64)

    def _deliver(self, ticks, sources, n_slots):
        _deliver_quantal(ticks + 1, sources, self.indptr, self.n_src, self.col, self.weight, self.delay - 1, self.U,
                         self.tau_rec, self.tau_facil, self.n_sites, self.number, self.seen, self.u, self.available,
                         self.t_last, self.key, self.ring.hi, self.ring.lo, self.ring.scale, n_slots, self.n_blocks,
                         self.dt)


#: synapse type (PyNN name) -> its table class
TABLES = {"SimpleStochasticSynapse": BernoulliTable, "StochasticTsodyksMarkramSynapse": StochasticTsodyksTable,
          "MultiQuantalSynapse": QuantalTable}
