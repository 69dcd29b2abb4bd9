"""Spike delivery tables of the emulator: who receives what, when, from each source neuron.

A table serves one target neuron block. Rows are global source indices (CSR), split into one
sub-table per thread block of target neurons so that parallel delivery never writes the same
ring-buffer entry twice. A static table stores per synapse: the ring column
(``receptor * n_target + target``, int32), a weight code into a small lookup table (uint8 or
uint16 where the table has few distinct weights, else the weight itself) and the delay in
ticks (the narrowest unsigned type that holds it). A Tsodyks–Markram table also keeps the
per-synapse (u, x) state and the time of the source's previous spike.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from neurohybrid.graph import ModelGraph, ProjectionEdge
from neurohybrid.graph.synapses import is_plastic

from .ring import MAX_COUNTED, CountRing, add_fixed, add_fixed_times, choose_shift, to_fixed

_SAMPLE = 4096
_NO_CODES = np.zeros(1, dtype=np.uint8)  # placeholder code array when weights are stored directly
_NO_LUT_HI = np.zeros(1, dtype=np.int64)  # placeholder fixed-point lookup table (weights stored directly)
_NO_LUT_LO = np.zeros(1, dtype=np.uint64)


@njit(cache=True)
def _count_rows(pre, post, src_offset, n_target, n_blocks, n_src, counts):
    """Count synapses per CSR row (thread block of the target, global source)."""
    for k in range(pre.size):
        b = np.int64(post[k]) * n_blocks // n_target
        counts[b * n_src + src_offset + np.int64(pre[k]) + 1] += 1


@njit(cache=True)
def _scatter_rows(pre, post, src_offset, col_offset, n_target, n_blocks, n_src, cursor,
                  delay_in, weight_in, col_out, delay_out, weight_out):
    """Write one edge's synapses into their CSR rows; edges and synapses keep their order
    within a row, so the table (and the summation order at delivery) is deterministic."""
    for k in range(pre.size):
        row = np.int64(post[k]) * n_blocks // n_target * n_src + src_offset + np.int64(pre[k])
        pos = cursor[row]
        cursor[row] = pos + 1
        col_out[pos] = col_offset + post[k]
        delay_out[pos] = delay_in[k]
        weight_out[pos] = weight_in[k]


@njit(cache=True, inline="always")
def _fixed_weight(k, direct, wcode, weights, lut_hi, lut_lo, scale):
    """(hi, lo) of synapse k's weight: converted from the float (direct) or from the code's
    precomputed fixed-point value."""
    if direct:
        return to_fixed(weights[k], scale)
    c = wcode[k]
    return lut_hi[c], lut_lo[c]


#: spikes whose table rows are touched ahead of their delivery (see _touch_rows)
_AHEAD = 32
#: synapses of a row touched at most (the hardware streams the rest of a long row by itself;
#: touching all of 32 long rows would evict what it touched before it is used)
_TOUCH_SYNAPSES = 512


@njit(cache=True, inline="always")
def _touch_rows(sources, s0, s1, base, indptr, col, delay, direct, wcode, weights):
    """Read one word per cache line of the table rows of spikes s0..s1-1 and return their sum.
    The rows of the spikes of a window are scattered over the table and usually not cached:
    delivering spike by spike waits for each row's first lines in turn, while these loads are
    independent, so the memory system fetches many rows at once (the delivery of a window's
    spikes from a cold table took about twice as long without this pass). The caller keeps the
    sum alive so that the loads are not optimised away."""
    acc = 0
    for s in range(s0, s1):
        row = base + sources[s]
        lo = indptr[row]
        hi = min(indptr[row + 1], lo + _TOUCH_SYNAPSES)
        if hi <= lo:
            continue
        for k in range(lo, hi, 16):  # 4-byte columns: 16 a line
            acc += col[k]
        if direct:  # weights stored as 8-byte floats, no codes
            for k in range(lo, hi, 32):
                acc += delay[k]
            for k in range(lo, hi, 8):
                acc += np.int64(weights[k] != 0.0)
        else:
            for k in range(lo, hi, 32):  # 1- or 2-byte delays and weight codes
                acc += delay[k] + wcode[k]
        acc += col[hi - 1]
    return acc


@njit(parallel=True, cache=True)
def _deliver_list(ticks, sources, mult, indptr, n_src, col, direct, wcode, weights, lut_hi, lut_lo, scale, delay,
                  ring_hi, ring_lo, n_slots, n_blocks):
    """Spikes given as (emission tick, global source, count) lists, sorted by tick; in chunks of
    _AHEAD spikes whose rows are touched first (_touch_rows). Returns the (meaningless) sum of
    the touched words."""
    touched = 0
    for b in prange(n_blocks):
        base = b * n_src
        acc = 0
        for s0 in range(0, ticks.size, _AHEAD):
            s1 = min(s0 + _AHEAD, ticks.size)
            acc += _touch_rows(sources, s0, s1, base, indptr, col, delay, direct, wcode, weights)
            for s in range(s0, s1):
                row = base + sources[s]
                t = (ticks[s] + n_slots) % n_slots  # one modulo per spike, not per synapse (delays < n_slots)
                m = mult[s]
                for k in range(indptr[row], indptr[row + 1]):
                    slot = t + delay[k]
                    if slot >= n_slots:
                        slot -= n_slots
                    w_hi, w_lo = _fixed_weight(k, direct, wcode, weights, lut_hi, lut_lo, scale)
                    if m == 1:
                        add_fixed(ring_hi, ring_lo, slot, col[k], w_hi, w_lo)
                    else:
                        add_fixed_times(ring_hi, ring_lo, slot, col[k], w_hi, w_lo, m)
        touched += acc
    return touched


@njit(parallel=True, cache=True)
def _deliver_dense(counts, first_tick, offset, lo, hi, indptr, n_src, col, direct, wcode, weights, lut_hi, lut_lo,
                   scale, delay, ring_hi, ring_lo, n_slots, n_blocks):
    """counts[j, i]: spikes of source offset+i emitted in tick first_tick+j (a spike matrix or
    Poisson counts); the same sums as _deliver_list on the nonzero entries. Thread block b only
    scans sources lo[b]..hi[b]-1, the ones with synapses onto its targets: with one-to-one
    drives, scanning every source in every block made delivery cost O(sources) per thread, and
    it did not scale with threads."""
    for b in prange(n_blocks):
        base = b * n_src + offset
        for j in range(counts.shape[0]):
            t = (first_tick + j + n_slots) % n_slots
            for i in range(lo[b], hi[b]):
                m = counts[j, i]
                if m == 0:
                    continue
                row = base + i
                for k in range(indptr[row], indptr[row + 1]):
                    slot = t + delay[k]
                    if slot >= n_slots:
                        slot -= n_slots
                    w_hi, w_lo = _fixed_weight(k, direct, wcode, weights, lut_hi, lut_lo, scale)
                    add_fixed_times(ring_hi, ring_lo, slot, col[k], w_hi, w_lo, np.int64(m))


@njit(parallel=True, cache=True)
def _count_list(ticks, sources, mult, indptr, n_src, col, wcode, n_codes, delay, counts, n_slots, n_blocks):
    """_deliver_list for a CountRing: one integer add per synapse (counts[slot, col * K + code])."""
    touched = 0
    no_weights = np.zeros(1)
    for b in prange(n_blocks):
        base = b * n_src
        acc = 0
        for s0 in range(0, ticks.size, _AHEAD):
            s1 = min(s0 + _AHEAD, ticks.size)
            acc += _touch_rows(sources, s0, s1, base, indptr, col, delay, False, wcode, no_weights)
            for s in range(s0, s1):
                row = base + sources[s]
                t = (ticks[s] + n_slots) % n_slots
                m = mult[s]
                for k in range(indptr[row], indptr[row + 1]):
                    slot = t + delay[k]
                    if slot >= n_slots:
                        slot -= n_slots
                    counts[slot, col[k] * n_codes + wcode[k]] += m
        touched += acc
    return touched


@njit(parallel=True, cache=True)
def _count_dense(counts_in, first_tick, offset, lo, hi, indptr, n_src, col, wcode, n_codes, delay, counts, n_slots,
                 n_blocks):
    """_deliver_dense for a CountRing."""
    for b in prange(n_blocks):
        base = b * n_src + offset
        for j in range(counts_in.shape[0]):
            t = (first_tick + j + n_slots) % n_slots
            for i in range(lo[b], hi[b]):
                m = counts_in[j, i]
                if m == 0:
                    continue
                row = base + i
                for k in range(indptr[row], indptr[row + 1]):
                    slot = t + delay[k]
                    if slot >= n_slots:
                        slot -= n_slots
                    counts[slot, col[k] * n_codes + wcode[k]] += m


@njit(parallel=True, cache=True)
def _deliver_tsodyks(ticks, sources, indptr, n_src, col, weight, delay, U, tau_rec, tau_facil,
                     u, x, last_tick, ring_hi, ring_lo, scale, n_slots, n_blocks, dt):
    for b in prange(n_blocks):
        base = b * n_src
        for s in range(ticks.size):
            row = base + sources[s]
            t = ticks[s]
            for k in range(indptr[row], indptr[row + 1]):
                # tsodyks2 form: recover x and relax u over the interval since the last spike
                h = (t - last_tick[k]) * dt
                x_decay = np.exp(-h / tau_rec[k])
                u_decay = np.exp(-h / tau_facil[k]) if tau_facil[k] > 1e-10 else 0.0
                x[k] = 1.0 + (x[k] - x[k] * u[k] - 1.0) * x_decay
                u[k] = U[k] + u[k] * (1.0 - U[k]) * u_decay
                last_tick[k] = t
                w_hi, w_lo = to_fixed(weight[k] * u[k] * x[k], scale)
                add_fixed(ring_hi, ring_lo, (t + delay[k]) % n_slots, col[k], w_hi, w_lo)


def _smallest_uint(max_value: int):
    for dtype in (np.uint8, np.uint16, np.uint32):
        if max_value <= np.iinfo(dtype).max:
            return dtype
    return np.int64


def _is_constant(arr: np.ndarray) -> bool:
    return arr.size == 0 or (arr.strides == (0,)) or bool(arr.min() == arr.max())


def _distinct(arr: np.ndarray) -> np.ndarray:
    return arr[:1] if arr.size and arr.strides == (0,) else arr


def _per_synapse(values: np.ndarray, dtype, transform=None) -> np.ndarray:
    """``values`` converted to ``dtype``; a constant (broadcast) array stays a zero-copy broadcast."""
    if values.size and values.strides == (0,):
        scalar = values[0] if transform is None else transform(values[:1])[0]
        return np.broadcast_to(np.asarray(scalar, dtype=dtype), values.shape)
    return (values if transform is None else transform(values)).astype(dtype)


class DeliveryTable:
    """Static-synapse delivery into one target block."""

    MAX_CODES = 65535  # more distinct weights than this: store the weights themselves
    stateful = False  # whether the synapses have dynamic state (in engine snapshots)

    def __init__(self, block, edges: list[ProjectionEdge], offsets: dict, dt: float, n_blocks: int,
                 n_sources: int):
        self.block, self.n_blocks, self.n_src = block, n_blocks, n_sources
        n = block.node.size
        self.ring = block.ring
        self._receives = {}
        to_ticks = lambda d: np.rint(d / dt)  # noqa: E731
        max_delay = max(int(to_ticks(_distinct(e.values["delay"])).max()) for e in edges)
        self.delay_dtype = _smallest_uint(max_delay)
        self._weight_encoding(edges)
        counts = np.zeros(n_blocks * n_sources + 1, dtype=np.int64)
        for e in edges:
            _count_rows(e.pre_index, e.post_index, offsets[e.pre], n, n_blocks, n_sources, counts)
        self.indptr = np.cumsum(counts)
        total = int(self.indptr[-1])
        self.col = np.empty(total, dtype=np.int32)
        self.delay = np.empty(total, dtype=self.delay_dtype)
        weights = np.empty(total, dtype=self.wcode_dtype if self.wlut is not None else np.float64)
        cursor = self.indptr[:-1].copy()
        receptors = block.spec.receptors
        for e, encode in zip(edges, self._encoders):
            _scatter_rows(e.pre_index, e.post_index, offsets[e.pre], receptors.index(e.receptor) * n, n, n_blocks,
                          n_sources, cursor, _per_synapse(e.values["delay"], self.delay_dtype, to_ticks),
                          encode(e.values["weight"]), self.col, self.delay, weights)
        if self.wlut is None:
            self.weight = weights
        else:
            self.wcode = weights

    def _weight_encoding(self, edges) -> None:
        """Weights as codes into a small lookup table when the table has few distinct weights
        (uint8/uint16 per synapse instead of float64), else stored directly."""
        distinct = []
        for e in edges:
            w = e.values["weight"]
            if w.size == 0 or w.strides == (0,):
                distinct.append(np.unique(w[:1]))
            elif np.unique(w[:_SAMPLE]).size < 256:
                distinct.append(np.unique(w))
            else:
                distinct = None
                break
        lut = np.unique(np.concatenate(distinct)) if distinct else None
        self.counted = None
        if lut is None or lut.size > self.MAX_CODES:
            self.ring.in_use = True
            self.wlut = None
            self._encoders = [lambda w: _per_synapse(w, np.float64)] * len(edges)
            return
        self.wlut = lut.astype(np.float64)
        receptors = self.block.spec.receptors
        per_receptor = [np.unique(np.concatenate([d for d, e in zip(distinct, edges) if e.receptor == r]
                                                 or [np.zeros(0)])) for r in receptors]
        if max(x.size for x in per_receptor) <= MAX_COUNTED:  # few weights: count spikes per weight (ring.py)
            self.block.counts = self.counted = CountRing(self.ring.shape[0], self.block.node.size, per_receptor)
            self.wcode_dtype = np.uint8
            self._encoders = [lambda w, lut=per_receptor[receptors.index(e.receptor)]:
                              _per_synapse(w, np.uint8, lambda x: np.searchsorted(lut, x)) for e in edges]
            return
        fixed = [to_fixed(float(w), self.ring.scale) for w in self.wlut]
        self.lut_hi = np.array([f[0] for f in fixed], dtype=np.int64)
        self.lut_lo = np.array([f[1] for f in fixed], dtype=np.uint64)
        if self.counted is None:
            self.ring.in_use = True
        self.wcode_dtype = _smallest_uint(lut.size - 1)
        self._encoders = [lambda w, lut=lut: _per_synapse(w, self.wcode_dtype, lambda x: np.searchsorted(lut, x))
                          ] * len(edges)

    def _weight_args(self):
        if self.wlut is None:
            return True, _NO_CODES, self.weight, _NO_LUT_HI, _NO_LUT_LO, self.ring.scale
        return False, self.wcode, self.wlut, self.lut_hi, self.lut_lo, self.ring.scale

    def deliver(self, ticks: np.ndarray, sources: np.ndarray, mult: np.ndarray, n_slots: int) -> None:
        """Add the weights of the spikes (emission ticks, global sources, int64 spike counts)
        into the ring."""
        if self.counted is not None:
            _count_list(ticks, sources, mult, self.indptr, self.n_src, self.col, self.wcode, self.counted.n_codes,
                        self.delay, self.counted.counts, n_slots, self.n_blocks)
            return
        _deliver_list(ticks, sources, mult, self.indptr, self.n_src, self.col, *self._weight_args(), self.delay,
                      self.ring.hi, self.ring.lo, n_slots, self.n_blocks)

    def source_ranges(self, offset: int, size: int):
        """For each thread block, the range [lo, hi) of sources offset..offset+size-1 (relative to
        offset) that have synapses in it; None when no source of the range has any."""
        lo = np.zeros(self.n_blocks, dtype=np.int64)
        hi = np.zeros(self.n_blocks, dtype=np.int64)
        for b in range(self.n_blocks):
            start = b * self.n_src + offset
            nonempty = np.flatnonzero(np.diff(self.indptr[start:start + size + 1]))
            if nonempty.size:
                lo[b], hi[b] = nonempty[0], nonempty[-1] + 1
        return (lo, hi) if np.any(hi > lo) else None

    def receives_from(self, offset: int, size: int) -> bool:
        """Whether any synapse of this table comes from global sources offset..offset+size-1."""
        return self._ranges(offset, size) is not None

    def _ranges(self, offset: int, size: int):
        """:meth:`source_ranges`, computed once per source range (the table does not change)."""
        key = (offset, size)
        if key not in self._receives:
            self._receives[key] = self.source_ranges(offset, size)
        return self._receives[key]

    def deliver_dense(self, counts: np.ndarray, first_tick: int, offset: int, n_slots: int) -> None:
        """Deliver a [ticks, sources] matrix of spike counts of sources ``offset..`` emitted from
        ``first_tick`` on; same result as :meth:`deliver` on its nonzero entries, without building them."""
        key = (offset, counts.shape[1])
        if self._ranges(*key) is None:
            return
        if self.counted is not None:
            _count_dense(counts, first_tick, offset, *self._receives[key], self.indptr, self.n_src, self.col,
                         self.wcode, self.counted.n_codes, self.delay, self.counted.counts, n_slots, self.n_blocks)
            return
        _deliver_dense(counts, first_tick, offset, *self._receives[key], self.indptr, self.n_src, self.col,
                       *self._weight_args(), self.delay, self.ring.hi, self.ring.lo, n_slots, self.n_blocks)

    def deliver_dense_as_spikes(self, counts: np.ndarray, first_tick: int, offset: int, n_slots: int) -> None:
        """:meth:`deliver_dense` for tables whose synapses change at each spike: the nonzero
        counts become a spike list for their own :meth:`deliver` (which may repeat a spike of
        multiplicity m as m spikes: one synaptic update each)."""
        if not self.receives_from(offset, counts.shape[1]):
            return
        rows, ids = np.nonzero(counts)
        self.deliver(rows.astype(np.int64) + first_tick, ids.astype(np.int64) + offset,
                     counts[rows, ids].astype(np.int64), n_slots)

    def reset(self) -> None:
        """Static synapses have no state."""

    def state(self) -> dict:
        """Dynamic synapse state for a snapshot (flat dict of copies): static synapses have none."""
        return {}

    def restore(self, state: dict) -> None:
        """Back to a :meth:`state` (checked by the engine: same keys and shapes)."""

    @property
    def nbytes(self) -> int:
        """Memory held by the table, bytes."""
        arrays = [self.indptr, self.col, self.delay] + ([self.weight] if self.wlut is None else [self.wcode])
        return int(sum(a.nbytes for a in arrays))


class TsodyksTable(DeliveryTable):
    """Tsodyks–Markram (short-term plasticity) delivery from one projection edge."""

    stateful = True

    def __init__(self, block, edges, offsets, dt, n_blocks, n_sources):
        super().__init__(block, edges, offsets, dt, n_blocks, n_sources)
        self.dt = dt
        # the synapse parameters, scattered into the table's order exactly like the weights
        params = {}
        for name in ("U", "tau_rec", "tau_facil"):
            out = np.empty(self.col.size)
            cursor = self.indptr[:-1].copy()
            scratch_col = np.empty_like(self.col)
            scratch_delay = np.empty_like(self.delay)
            for e in edges:
                _scatter_rows(e.pre_index, e.post_index, offsets[e.pre], 0, block.node.size, n_blocks, n_sources,
                              cursor, _per_synapse(e.values["delay"], self.delay_dtype, lambda d: np.rint(d / dt)),
                              _per_synapse(e.values[name], np.float64), scratch_col, scratch_delay, out)
            params[name] = out
        self.U, self.tau_rec, self.tau_facil = params["U"], params["tau_rec"], params["tau_facil"]
        self.edges, self._offsets = list(edges), offsets  # for the snapshot order (synapse_order)
        self.reset()

    def synapse_order(self) -> np.ndarray:
        """For each table position, the synapse's number in the edges' own order (edge by edge,
        ``pre_index``/``post_index`` order): the table's order depends on the thread blocks,
        a snapshot's must not."""
        number = np.empty(self.col.size, dtype=np.int64)
        cursor = self.indptr[:-1].copy()
        scratch_col, scratch_delay = np.empty_like(self.col), np.empty_like(self.delay)
        first = 0
        for e in self.edges:
            k = np.arange(first, first + e.pre_index.size, dtype=np.int64)
            _scatter_rows(e.pre_index, e.post_index, self._offsets[e.pre], 0, self.block.node.size, self.n_blocks,
                          self.n_src, cursor, _per_synapse(e.values["delay"], self.delay_dtype,
                                                           lambda d: np.rint(d / self.dt)),
                          k, scratch_col, scratch_delay, number)
            first += e.pre_index.size
        return number

    def state(self) -> dict:
        """Per synapse, in the edges' order (:meth:`synapse_order`): ``u`` (utilisation) and
        ``x`` (available resources), dimensionless float64, and ``last_tick`` (int64, the time
        stamp of the source's previous spike in ticks: emission tick + 1)."""
        number = self.synapse_order()
        out = {}
        for name in ("u", "x", "last_tick"):
            values = getattr(self, name)
            arr = np.empty_like(values)
            arr[number] = values
            out[name] = arr
        return out

    def restore(self, state: dict) -> None:
        """Back to a :meth:`state` (checked by the engine: same keys and shapes)."""
        number = self.synapse_order()
        self.u = np.array(state["u"], dtype=float)[number]
        self.x = np.array(state["x"], dtype=float)[number]
        self.last_tick = np.array(state["last_tick"], dtype=np.int64)[number]

    def _weight_encoding(self, edges) -> None:
        self.wlut, self.counted = None, None
        self.ring.in_use = True
        self._encoders = [lambda w: _per_synapse(w, np.float64)] * len(edges)

    def reset(self) -> None:
        """Back to the resting synapse: x = 1, u = 0, no previous spike (time 0)."""
        self.u = np.zeros(self.col.size)
        self.x = np.ones(self.col.size)
        self.last_tick = np.zeros(self.col.size, dtype=np.int64)

    deliver_dense = DeliveryTable.deliver_dense_as_spikes

    def deliver(self, ticks, sources, mult, n_slots) -> None:
        ticks, sources = each_spike(ticks, sources, mult)  # each of several spikes depresses the synapse again
        # the spike time stamp is emission tick + 1
        _deliver_tsodyks(ticks + 1, sources, self.indptr, self.n_src, self.col, self.weight, self.delay - 1,
                         self.U, self.tau_rec, self.tau_facil, self.u, self.x, self.last_tick, self.ring.hi,
                         self.ring.lo, self.ring.scale, n_slots, self.n_blocks, self.dt)


def each_spike(ticks: np.ndarray, sources: np.ndarray, mult: np.ndarray):
    """(ticks, sources) with a spike of multiplicity m repeated m times (for synapses that
    change at every spike)."""
    if mult.size and mult.max() > 1:
        reps = mult.astype(np.int64)
        return np.repeat(ticks, reps), np.repeat(sources, reps)
    return ticks, sources


def max_input(edges: list[ProjectionEdge], n_cells: int) -> float:
    """The largest sum of absolute weights over the synapses of any one cell (per spike round);
    a plastic synapse counts with the largest weight its rule allows."""
    total = np.zeros(n_cells)
    for e in edges:
        w = e.values["w_max"] if is_plastic(e.synapse) else e.values["weight"]
        if w.size and w.strides == (0,):
            total += abs(float(w[0])) * np.bincount(e.post_index, minlength=n_cells)
        else:
            total += np.bincount(e.post_index, weights=np.abs(w), minlength=n_cells)
    return float(total.max()) if total.size else 0.0


class GatedTable(DeliveryTable):
    """Static delivery from one projection edge whose efficacy a gate field scales: weights
    stored per synapse (``base_weight`` as built), ``weight = base_weight * gate`` from the
    gate's change on; the gate scales spikes as they are sent (as Loihi's synapse memory does),
    spikes already in the ring keep the weight they left with."""

    def __init__(self, block, edges, offsets, dt, n_blocks, n_sources):
        super().__init__(block, edges, offsets, dt, n_blocks, n_sources)
        self.edges = list(edges)
        self.base_weight = self.weight.copy()
        self.gate = 1.0

    _weight_encoding = TsodyksTable._weight_encoding

    def set_gate(self, gate: float) -> None:
        """Scale the edge's efficacy to ``gate`` (dimensionless, in [0, 1]) times its weights."""
        self.gate = float(gate)
        self.weight = self.base_weight * self.gate if self.gate != 1.0 else self.base_weight.copy()


def build_tables(graph: ModelGraph, offsets: dict, blocks: dict, n_threads: int, transmitters=None,
                 gated=()) -> list:
    """One static table per target block (all its static edges merged) and one per edge with
    short- or long-term plasticity (``transmitters``: volume transmitters by node name, for
    dopamine-modulated edges) or with a gate (``gated``: edge names, :class:`GatedTable`).
    Sets each block ring's fixed-point scaling from the largest input a cell can receive."""
    n_sources = sum(node.size for node in graph.nodes.values())
    tables = []
    for name, block in blocks.items():
        n_blocks = max(1, min(n_threads, block.node.size))
        incoming = [e for e in graph.edges if e.post == name and e.pre_index.size]
        block.ring.set_shift(choose_shift(max_input(incoming, block.node.size)))
        static = [e for e in incoming if e.synapse == "StaticSynapse" and e.name not in gated]
        for edge in incoming:
            if edge.name in gated:
                tables.append(GatedTable(block, [edge], offsets, graph.dt, n_blocks, n_sources))
        if static:
            tables.append(DeliveryTable(block, static, offsets, graph.dt, n_blocks, n_sources))
        from .stochastic import TABLES as STOCHASTIC  # stochastic synapses (stochastic.py)
        for edge in incoming:
            if edge.synapse == "TsodyksMarkramSynapse":
                tables.append(TsodyksTable(block, [edge], offsets, graph.dt, n_blocks, n_sources))
            elif is_plastic(edge.synapse):
                from .plastic import plastic_table  # plastic tables build on this module
                tables.append(plastic_table(block, edge, offsets, graph.dt, n_blocks, n_sources, transmitters))
            elif edge.synapse in STOCHASTIC:
                tables.append(STOCHASTIC[edge.synapse](block, [edge], offsets, graph.dt, n_blocks, n_sources,
                                                       seed=graph.seed))
    return tables
