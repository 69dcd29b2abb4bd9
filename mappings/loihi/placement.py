"""Placement of a :class:`LoihiCircuit` onto Loihi 2 neurocores and chips, with a utilisation report.

``place(circuit, chips=1)`` assigns every population to neurocores and the cores to chips,
under the limits of :mod:`.limits` (one table, each number sourced there):

- **neurons** per core;
- **synaptic memory** per core: the synapses that *target* a core's neurons live in its
  synaptic memory; a synapse costs ``weight bits + delay bits + target-index bits``
  (``delay bits`` = 0 for a projection whose latencies are all 1 step — Lava ``Sparse`` —
  else ``ceil(log2(max latency))``, as ``DelaySparse`` stores ``latency - 1``);
- **fan-in axons** per core: one per distinct presynaptic neuron or input channel that reaches
  the core;
- **fan-out axons** per core: one per (neuron on the core, distinct destination core), whatever
  chip the destination core is on;
- **cores per chip**, **neurons per chip** and **synapses per chip** when cores are given to
  chips; spikes that cross chips (axon routes between chips) are counted and reported.

The algorithm is a simple greedy packing, as Lava's compiler maps processes: a core holds
neurons of one population only, each population is cut into contiguous slices of ``k`` neurons
(one slice per core), and ``k`` is the largest size at which every slice meets the neuron,
synaptic-memory and fan-in limits (binary search, each candidate checked exactly). Fan-out
depends on where the targets went, so it is checked afterwards; populations whose cores
exceed it get a smaller ``k`` (proportionally) and the check repeats until every limit holds.
Cores are then filled into chips in order. Spike sources (:class:`LoihiInput`) are injected
by the host: they use fan-in axons on the cores they reach but no core of their own.

Memory and time: per-neuron counts are vectorised numba passes over the synapse index arrays
(no copies of them); distinct-axon counts use a bit set [presynaptic neuron × destination
core], processed in blocks of cores that fit ``memory_budget`` bytes.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from neurohybrid.errors import ParameterError, PlacementError

from .circuit import LoihiCircuit
from .limits import LIMITS, SYSTEMS, limit

_MEMORY_BUDGET = 64 << 20  # bytes for the axon bit sets


# =============================================================================================
# numba kernels
# =============================================================================================

@numba.njit(cache=True)
def _add_post_counts(rows, weights, use_w, counts):
    """counts[post] += 1 for every synapse with a nonzero weight (all, if not use_w)."""
    for s in range(rows.size):
        if use_w and weights[s] == 0:
            continue
        counts[rows[s]] += 1


@numba.njit(cache=True)
def _mark(rows, cols, weights, use_w, core_of_row_base, k, c0, c1, col_offset, bits):
    """Set bit (core - c0) of row (col_offset + pre) for every synapse whose target core
    ``core_of_row_base + post // k`` lies in [c0, c1)."""
    one = np.uint64(1)
    for s in range(rows.size):
        if use_w and weights[s] == 0:
            continue
        c = core_of_row_base + rows[s] // k
        if c < c0 or c >= c1:
            continue
        b = c - c0
        j = col_offset + cols[s]
        bits[j, b >> 6] |= one << np.uint64(b & 63)


@numba.njit(cache=True)
def _count_by_core(bits, n_cores, out):
    """out[b] += number of rows with bit b set (distinct presynaptic axons per core)."""
    n_rows, n_words = bits.shape
    for j in range(n_rows):
        for w in range(n_words):
            x = bits[j, w]
            if x == 0:
                continue
            for t in range(64):
                if (x >> np.uint64(t)) & np.uint64(1):
                    b = w * 64 + t
                    if b < n_cores:
                        out[b] += 1


@numba.njit(cache=True)
def _count_by_row(bits, c0, n_cores_block, src_chip, chip_of_core, per_row, routes):
    """per_row[j] += number of destination cores of row j; routes[src_chip[j] + 1, chip(dest)] += 1."""
    n_rows, n_words = bits.shape
    for j in range(n_rows):
        for w in range(n_words):
            x = bits[j, w]
            if x == 0:
                continue
            for t in range(64):
                if (x >> np.uint64(t)) & np.uint64(1):
                    b = w * 64 + t
                    if b < n_cores_block:
                        per_row[j] += 1
                        routes[src_chip[j] + 1, chip_of_core[c0 + b]] += 1


@numba.njit(cache=True)
def _mark_one(rows, cols, weights, use_w, target, col_offset, seen):
    """seen[col_offset + pre] = True for the synapses onto neuron ``target``."""
    for s in range(rows.size):
        if rows[s] != target:
            continue
        if use_w and weights[s] == 0:
            continue
        seen[col_offset + cols[s]] = True


# =============================================================================================
# helpers
# =============================================================================================

def _weights_arg(prj):
    """(weights array, use_w) for the kernels: constant weights are passed as a flag only."""
    w = prj.weights
    if w.size == 0:
        return np.zeros(1, np.int16), False
    if w.strides == (0,) or w.size == 1:
        return np.zeros(1, np.int16), False
    return np.ascontiguousarray(w), True


def _active(prj) -> bool:
    """False for an empty projection or one whose (constant) weight is 0."""
    w = prj.weights
    if w.size == 0:
        return False
    if w.strides == (0,) or w.size == 1:
        return int(w[0]) != 0
    return True


def _max_latency(prj) -> int:
    d = prj.delays
    if d.size == 0:
        return 1
    if d.strides == (0,) or d.size == 1:
        return int(d[0])
    return int(d.max())


def _synapse_bits(prj) -> int:
    lat = _max_latency(prj)
    delay_bits = 0 if lat <= 1 else math.ceil(math.log2(lat))
    return int(prj.num_weight_bits) + delay_bits + limit("synapse_index_bits")


def _n_chips(chips) -> int:
    if isinstance(chips, str):
        key = SYSTEMS.get(chips.lower().replace(" ", "_").replace("-", "_"))
        if key is None:
            raise ParameterError("place", "chips", f"unknown system {chips!r}",
                                 "a number of chips or one of " + ", ".join(SYSTEMS))
        return limit(key)
    if isinstance(chips, bool) or int(chips) != chips or chips < 1:
        raise ParameterError("place", "chips", f"{chips!r}", "an integer >= 1 or a system name")
    return int(chips)


class _Pop:
    def __init__(self, name, size):
        self.name, self.size = name, size
        self.incoming = []  # (projection, pre offset in this population's pre space)
        self.pre_offsets = {}  # pre node -> offset
        self.n_pre_space = 0
        self.syn_bits = np.zeros(size, np.int64)  # synaptic memory bits per neuron
        self.in_degree = np.zeros(size, np.int64)
        self.k = 1
        self.binding = None
        self.base = 0  # first global core


def _slice_sums(values: np.ndarray, k: int) -> np.ndarray:
    return np.add.reduceat(values, np.arange(0, values.size, k)) if values.size else np.zeros(0, values.dtype)


def _fan_in(pop: _Pop, k: int, budget: int) -> np.ndarray:
    """Distinct presynaptic axons of each core when ``pop`` is cut into slices of ``k``."""
    n_cores = -(-pop.size // k)
    out = np.zeros(n_cores, np.int64)
    if pop.n_pre_space == 0:
        return out
    words = max(1, budget // (8 * pop.n_pre_space))
    block = 64 * words
    for c0 in range(0, n_cores, block):
        c1 = min(n_cores, c0 + block)
        bits = np.zeros((pop.n_pre_space, -(-(c1 - c0) // 64)), np.uint64)
        for prj, off in pop.incoming:
            w, use_w = _weights_arg(prj)
            _mark(prj.rows, prj.cols, w, use_w, 0, k, c0, c1, off, bits)
        sub = np.zeros(c1 - c0, np.int64)
        _count_by_core(bits, c1 - c0, sub)
        out[c0:c1] = sub
    return out


def _distinct_inputs_of(pop: _Pop, neuron: int) -> int:
    seen = np.zeros(pop.n_pre_space, np.bool_)
    for prj, off in pop.incoming:
        w, use_w = _weights_arg(prj)
        _mark_one(prj.rows, prj.cols, w, use_w, neuron, off, seen)
    return int(seen.sum())


def _largest_k(pop: _Pop, k_hi: int, ok) -> int:
    """Largest k in [1, k_hi] with ok(k) (assumed monotone; verified on the way down)."""
    if ok(k_hi):
        return k_hi
    lo, hi = 1, k_hi  # ok(lo) is known (checked by the caller), not ok(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo


# =============================================================================================
# placement
# =============================================================================================

def place(circuit: LoihiCircuit, chips=1, *, memory_budget: int = _MEMORY_BUDGET) -> dict:
    """Place ``circuit`` on ``chips`` Loihi 2 chips (an int, or a system name from
    :data:`~neurohybrid.mappings.loihi.limits.SYSTEMS`). Stores the placement and its utilisation
    report (JSON-serialisable) in ``circuit.placement`` and returns it. Raises
    :class:`~neurohybrid.errors.PlacementError` naming the limit, the excess and the number of
    chips needed when the circuit does not fit."""
    n_chips = _n_chips(chips)
    L = {k: limit(k) for k in ("neurons_per_core", "synaptic_memory_bytes_per_core", "fan_in_axons_per_core",
                               "fan_out_axons_per_core", "cores_per_chip", "neurons_per_chip", "synapses_per_chip")}
    mem_bits = 8 * L["synaptic_memory_bytes_per_core"]
    pops = {name: _Pop(name, p.size) for name, p in circuit.populations.items()}
    sizes = {**{n: p.size for n, p in circuit.populations.items()}, **{n: i.size for n, i in circuit.inputs.items()}}
    prj_bits = {}
    synapses_per_neuron = {name: np.zeros(p.size, np.int64) for name, p in pops.items()}
    for prj in circuit.projections:
        if prj.post not in pops:
            raise ParameterError(prj.name, "post", f"{prj.post!r} is not a population of the circuit",
                                 ", ".join(pops))
        if prj.pre not in sizes:
            raise ParameterError(prj.name, "pre", f"{prj.pre!r} is not a population or input of the circuit",
                                 ", ".join(sizes))
        if not _active(prj):
            continue
        pop = pops[prj.post]
        if prj.pre not in pop.pre_offsets:
            pop.pre_offsets[prj.pre] = pop.n_pre_space
            pop.n_pre_space += sizes[prj.pre]
        pop.incoming.append((prj, pop.pre_offsets[prj.pre]))
        bits = _synapse_bits(prj)
        prj_bits[prj.name] = bits
        counts = np.zeros(pop.size, np.int64)
        w, use_w = _weights_arg(prj)
        _add_post_counts(prj.rows, w, use_w, counts)
        pop.in_degree += counts
        pop.syn_bits += counts * bits
        synapses_per_neuron[prj.post] += counts

    # ---- 1. per population: neurons, synaptic memory, fan-in ------------------------------
    for pop in pops.values():
        _size_population(pop, L, mem_bits, memory_budget, pop.size)

    # ---- 2. fan-out (depends on every population's slicing) ------------------------------
    for _ in range(64):
        total_cores = _assign_bases(pops)
        fan_out_neuron, _ = _fan_out(circuit, pops, total_cores, np.zeros(total_cores, np.int64), memory_budget)
        worst = None
        for pop in pops.values():
            per_core = _slice_sums(fan_out_neuron[pop.name], pop.k)
            if per_core.size and per_core.max() > L["fan_out_axons_per_core"]:
                if pop.k == 1:
                    j = int(np.argmax(fan_out_neuron[pop.name]))
                    f = int(fan_out_neuron[pop.name][j])
                    raise PlacementError(
                        pop.name, "fan_out", f"neuron {j} projects to {f} distinct neurocores, {f - L['fan_out_axons_per_core']} "
                        f"more than the {L['fan_out_axons_per_core']} output axons of one core "
                        f"({100.0 * f / L['fan_out_axons_per_core']:.0f}%); no number of chips helps "
                        "(this mapping does not relay spikes through intermediate neurons)",
                        f"fan-out <= {L['fan_out_axons_per_core']} destination cores per neuron",
                        limit="fan_out_axons_per_core", required=f, available=L["fan_out_axons_per_core"],
                        chips_needed=None)
                new_k = max(1, int(pop.k * L["fan_out_axons_per_core"] / per_core.max()))
                new_k = min(new_k, pop.k - 1)
                worst = pop
                _size_population(pop, L, mem_bits, memory_budget, new_k)
                pop.binding = "fan_out_axons_per_core"
        if worst is None:
            break
    total_cores = _assign_bases(pops)

    # ---- 3. cores → chips ------------------------------------------------------------------
    core_pop, core_first, core_neurons, core_syn, core_bits = [], [], [], [], []
    for pop in pops.values():
        starts = np.arange(0, pop.size, pop.k)
        core_pop += [pop.name] * starts.size
        core_first.append(starts)
        core_neurons.append(np.minimum(pop.k, pop.size - starts))
        core_syn.append(_slice_sums(synapses_per_neuron[pop.name], pop.k))
        core_bits.append(_slice_sums(pop.syn_bits, pop.k))
    cat = (lambda parts: np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64))
    core_first, core_neurons, core_syn, core_bits = map(cat, (core_first, core_neurons, core_syn, core_bits))
    chip_of_core = np.zeros(total_cores, np.int64)
    chip, in_chip_cores, in_chip_neurons, in_chip_syn = 0, 0, 0, 0
    for c in range(total_cores):
        if in_chip_cores and (in_chip_cores + 1 > L["cores_per_chip"]
                              or in_chip_neurons + core_neurons[c] > L["neurons_per_chip"]
                              or in_chip_syn + core_syn[c] > L["synapses_per_chip"]):
            chip, in_chip_cores, in_chip_neurons, in_chip_syn = chip + 1, 0, 0, 0
        chip_of_core[c] = chip
        in_chip_cores += 1
        in_chip_neurons += int(core_neurons[c])
        in_chip_syn += int(core_syn[c])
    chips_needed = int(chip_of_core.max()) + 1 if total_cores else 0
    if chips_needed > n_chips:
        binding = _binding_summary(pops)
        raise PlacementError(
            "circuit", "chips", f"needs {total_cores} neurocores on {chips_needed} chips ({binding}); "
            f"{n_chips} chip(s) offer {n_chips * L['cores_per_chip']} cores: short by "
            f"{total_cores - n_chips * L['cores_per_chip'] if total_cores > n_chips * L['cores_per_chip'] else 0} cores "
            f"/ {chips_needed - n_chips} chip(s)", f"chips >= {chips_needed}",
            limit="cores_per_chip", required=total_cores, available=n_chips * L["cores_per_chip"],
            chips_needed=chips_needed)

    # ---- 4. final fan-out and routes with the chip assignment -------------------------------
    fan_out_neuron, routes = _fan_out(circuit, pops, total_cores, chip_of_core, memory_budget, n_chips_used=chips_needed)
    fan_in = np.concatenate([_fan_in(p, p.k, memory_budget) for p in pops.values()]) if pops else np.zeros(0, np.int64)
    fan_out = cat([_slice_sums(fan_out_neuron[p.name], p.k) for p in pops.values()])
    mem_bytes = -(-core_bits // 8)

    placement = _report(circuit, pops, L, n_chips, chips_needed, chip_of_core, core_pop, core_first, core_neurons,
                        core_syn, mem_bytes, fan_in, fan_out, routes, prj_bits)
    circuit.placement = placement
    return placement


def _size_population(pop: _Pop, L: dict, mem_bits: int, budget: int, k_max: int) -> None:
    """Largest slice size <= k_max meeting neurons, synaptic memory and fan-in per core."""
    n_lim, fi_lim = L["neurons_per_core"], L["fan_in_axons_per_core"]
    k_hi = max(1, min(n_lim, pop.size, k_max))
    binding = "neurons_per_core" if k_hi == n_lim else None
    # synaptic memory
    worst = int(pop.syn_bits.max()) if pop.size else 0
    if worst > mem_bits:
        j = int(np.argmax(pop.syn_bits))
        need = -(-worst // 8)
        raise PlacementError(
            pop.name, "synaptic_memory", f"neuron {j} alone needs {need} bytes of synaptic memory "
            f"({pop.in_degree[j]} synapses), {need - mem_bits // 8} bytes more than one core's "
            f"{mem_bits // 8} ({100.0 * need / (mem_bits // 8):.0f}%); no number of chips helps (its synapses must "
            "sit on its core)", f"<= {mem_bits // 8} bytes of synapses per neuron",
            limit="synaptic_memory_bytes_per_core", required=need, available=mem_bits // 8, chips_needed=None)
    k_mem = _largest_k(pop, k_hi, lambda k: _slice_sums(pop.syn_bits, k).max() <= mem_bits)
    if k_mem < k_hi:
        binding = "synaptic_memory_bytes_per_core"
    # fan-in: a neuron's distinct inputs bound every core that holds it
    if pop.size and pop.in_degree.max() > fi_lim:
        j = int(np.argmax(pop.in_degree))
        f = _distinct_inputs_of(pop, j)
        if f > fi_lim:
            raise PlacementError(
                pop.name, "fan_in", f"neuron {j} receives {f} distinct axons, {f - fi_lim} more than the {fi_lim} "
                f"input axons of one neurocore ({100.0 * f / fi_lim:.0f}%); no number of chips helps: a neuron's "
                "inputs must all enter its core (this mapping does not split a neuron's dendrite over several "
                "compartments or cores)", f"<= {fi_lim} distinct presynaptic neurons/inputs per neuron",
                limit="fan_in_axons_per_core", required=f, available=fi_lim, chips_needed=None)
        if _fan_in(pop, 1, budget).max() > fi_lim:
            f = int(_fan_in(pop, 1, budget).max())
            raise PlacementError(pop.name, "fan_in", f"a neuron receives {f} distinct axons > {fi_lim} per core",
                                 f"<= {fi_lim}", limit="fan_in_axons_per_core", required=f, available=fi_lim,
                                 chips_needed=None)
    k = _largest_k(pop, k_mem, lambda k: _fan_in(pop, k, budget).max(initial=0) <= fi_lim)
    if k < k_mem:
        binding = "fan_in_axons_per_core"
    pop.k = k
    pop.binding = binding


def _assign_bases(pops: dict) -> int:
    base = 0
    for pop in pops.values():
        pop.base = base
        base += -(-pop.size // pop.k)
    return base


def _fan_out(circuit, pops, total_cores, chip_of_core, budget, n_chips_used=1):
    """Distinct destination cores per presynaptic neuron (populations and inputs) and the routes
    matrix [source chip + 1 (0 = host input), destination chip]."""
    n_ch = max(1, n_chips_used)
    routes = np.zeros((n_ch + 1, n_ch), np.int64)
    by_pre: dict = {}
    for prj in circuit.projections:
        if _active(prj) and prj.post in pops:
            by_pre.setdefault(prj.pre, []).append(prj)
    sizes = {**{n: p.size for n, p in circuit.populations.items()}, **{n: i.size for n, i in circuit.inputs.items()}}
    per_neuron = {name: np.zeros(size, np.int64) for name, size in sizes.items()}
    chip_of_core = np.asarray(chip_of_core, np.int64)
    if chip_of_core.size < total_cores:
        chip_of_core = np.zeros(total_cores, np.int64)
    for pre, prjs in by_pre.items():
        n = sizes[pre]
        if pre in pops:
            p = pops[pre]
            src_chip = chip_of_core[p.base + np.arange(n) // p.k] if total_cores else np.zeros(n, np.int64)
        else:
            src_chip = np.full(n, -1, np.int64)
        words = max(1, budget // (8 * max(n, 1)))
        block = 64 * words
        for c0 in range(0, total_cores, block):
            c1 = min(total_cores, c0 + block)
            bits = np.zeros((n, -(-(c1 - c0) // 64)), np.uint64)
            for prj in prjs:
                post = pops[prj.post]
                w, use_w = _weights_arg(prj)
                _mark(prj.rows, prj.cols, w, use_w, post.base, post.k, c0, c1, 0, bits)
            _count_by_row(bits, c0, c1 - c0, src_chip, chip_of_core, per_neuron[pre], routes)
    return per_neuron, routes


def _binding_summary(pops: dict) -> str:
    return "; ".join(f"{p.name}: {p.k} neurons/core, {-(-p.size // p.k)} cores"
                     + (f" (bound by {p.binding})" if p.binding else "") for p in pops.values())


def _pct(x, lim):
    return 100.0 * float(x) / float(lim)


def _report(circuit, pops, L, n_chips, chips_used, chip_of_core, core_pop, core_first, core_neurons, core_syn,
            mem_bytes, fan_in, fan_out, routes, prj_bits) -> dict:
    mem_lim = L["synaptic_memory_bytes_per_core"]
    util = {}
    for key, arr, lim in (("neurons", core_neurons, L["neurons_per_core"]),
                          ("synaptic_memory", mem_bytes, mem_lim),
                          ("fan_in", fan_in, L["fan_in_axons_per_core"]),
                          ("fan_out", fan_out, L["fan_out_axons_per_core"])):
        util[key] = {"limit": lim, "max": int(arr.max()) if arr.size else 0,
                     "max_pct": _pct(arr.max(), lim) if arr.size else 0.0,
                     "mean_pct": _pct(arr.mean(), lim) if arr.size else 0.0}
    chips = []
    for c in range(chips_used):
        sel = chip_of_core == c
        chips.append({"chip": c, "cores": int(sel.sum()), "neurons": int(core_neurons[sel].sum()),
                      "synapses": int(core_syn[sel].sum()),
                      "cores_pct": _pct(sel.sum(), L["cores_per_chip"]),
                      "neurons_pct": _pct(core_neurons[sel].sum(), L["neurons_per_chip"]),
                      "synapses_pct_of_published_max": _pct(core_syn[sel].sum(), L["synapses_per_chip"]),
                      "routes_out_to_other_chips": int(routes[c + 1].sum() - routes[c + 1, c]),
                      "routes_in_from_other_chips": int(routes[1:, c].sum() - routes[c + 1, c]),
                      "host_input_routes_in": int(routes[0, c])})
    inter = int(routes[1:].sum() - np.trace(routes[1:])) if routes.shape[0] > 1 else 0
    pop_rep = {}
    for p in pops.values():
        n_cores = -(-p.size // p.k)
        first_chip = int(chip_of_core[p.base]) if n_cores else None
        last_chip = int(chip_of_core[p.base + n_cores - 1]) if n_cores else None
        pop_rep[p.name] = {"neurons": p.size, "neurons_per_core": p.k, "cores": [p.base, p.base + n_cores],
                           "n_cores": n_cores, "chips": [first_chip, last_chip], "binding_limit": p.binding,
                           "max_in_degree": int(p.in_degree.max()) if p.size else 0}
    return {
        "chips_available": n_chips, "chips_used": chips_used, "cores_used": int(core_neurons.size),
        "cores_available": n_chips * L["cores_per_chip"],
        "limits": {k: {"value": v, "status": LIMITS[k].status} for k, v in L.items()},
        "synapse_bits": prj_bits,
        "populations": pop_rep,
        "inputs": {n: {"channels": i.size, "injected_by": "host"} for n, i in circuit.inputs.items()},
        "utilisation": util,
        "totals": {"neurons": int(core_neurons.sum()), "synapses": int(core_syn.sum()),
                   "synaptic_memory_bytes": int(mem_bytes.sum()), "fan_in_axons": int(fan_in.sum()),
                   "fan_out_axons": int(fan_out.sum()), "inter_chip_routes": inter,
                   "intra_chip_routes": int(np.trace(routes[1:])) if routes.shape[0] > 1 else 0,
                   "host_input_routes": int(routes[0].sum())},
        "chips": chips,
        "cores": {"population": core_pop, "first_neuron": core_first.tolist(), "neurons": core_neurons.tolist(),
                  "chip": chip_of_core.tolist(), "synapses": core_syn.tolist(),
                  "synaptic_memory_bytes": mem_bytes.tolist(), "fan_in": fan_in.tolist(),
                  "fan_out": fan_out.tolist()},
        "assumptions": {k: LIMITS[k].note or LIMITS[k].source for k in L if LIMITS[k].status in ("assumed", "derived")},
        "method": "greedy: one population per core, contiguous slices of k neurons, k the largest meeting neurons, "
                  "synaptic memory and fan-in per core, then reduced where fan-out is exceeded; cores filled into "
                  "chips in order",
    }


def format_placement(placement: dict, max_cores: int = 12) -> str:
    """The placement / utilisation report as text (per population, per chip, the ``max_cores``
    most loaded cores, totals and % of each limit)."""
    p = placement
    lines = [f"Loihi 2 placement: {p['cores_used']} neurocores on {p['chips_used']} of {p['chips_available']} chip(s) "
             f"({p['cores_available']} cores available)"]
    lines.append(f"  {'population':14s} {'neurons':>9s} {'n/core':>7s} {'cores':>7s} {'chips':>9s}  bound by")
    for name, r in p["populations"].items():
        lines.append(f"  {name:14s} {r['neurons']:>9d} {r['neurons_per_core']:>7d} {r['n_cores']:>7d} "
                     f"{str(r['chips'][0]) + '-' + str(r['chips'][1]):>9s}  {r['binding_limit'] or '-'}")
    lines.append("  utilisation per core (max / mean % of limit):")
    for key, u in p["utilisation"].items():
        lines.append(f"    {key:16s} max {u['max']:>9,} of {u['limit']:>9,}  ({u['max_pct']:6.1f}% max, "
                     f"{u['mean_pct']:6.1f}% mean)")
    t = p["totals"]
    lines.append(f"  totals: {t['neurons']:,} neurons, {t['synapses']:,} synapses, {t['synaptic_memory_bytes']:,} bytes "
                 f"of synaptic memory, {t['fan_in_axons']:,} input axons, {t['fan_out_axons']:,} output axons")
    lines.append(f"  axon routes: {t['intra_chip_routes']:,} within chips, {t['inter_chip_routes']:,} between chips, "
                 f"{t['host_input_routes']:,} from host inputs")
    if p["chips"]:
        lines.append(f"  {'chip':>5s} {'cores':>6s} {'neurons':>9s} {'synapses':>12s} {'%cores':>7s} {'routes out':>11s} "
                     f"{'routes in':>10s}")
        for c in p["chips"][:max_cores]:
            lines.append(f"  {c['chip']:>5d} {c['cores']:>6d} {c['neurons']:>9,} {c['synapses']:>12,} "
                         f"{c['cores_pct']:>6.1f}% {c['routes_out_to_other_chips']:>11,} {c['routes_in_from_other_chips']:>10,}")
        if len(p["chips"]) > max_cores:
            lines.append(f"  ... {len(p['chips']) - max_cores} more chips")
    cores = p["cores"]
    if cores["neurons"]:
        mem_lim = p["limits"]["synaptic_memory_bytes_per_core"]["value"]
        fi_lim = p["limits"]["fan_in_axons_per_core"]["value"]
        fo_lim = p["limits"]["fan_out_axons_per_core"]["value"]
        load = [max(m / mem_lim, fi / fi_lim, fo / fo_lim) for m, fi, fo in
                zip(cores["synaptic_memory_bytes"], cores["fan_in"], cores["fan_out"])]
        order = sorted(range(len(load)), key=lambda i: -load[i])[:max_cores]
        lines.append(f"  most loaded cores: {'core':>6s} {'chip':>5s} {'population':>12s} {'neurons':>8s} "
                     f"{'syn.mem %':>9s} {'fan-in %':>8s} {'fan-out %':>9s}")
        for i in order:
            lines.append(f"  {'':19s}{i:>6d} {cores['chip'][i]:>5d} {cores['population'][i]:>12s} {cores['neurons'][i]:>8d} "
                         f"{100 * cores['synaptic_memory_bytes'][i] / mem_lim:>8.1f}% {100 * cores['fan_in'][i] / fi_lim:>7.1f}% "
                         f"{100 * cores['fan_out'][i] / fo_lim:>8.1f}%")
    if p.get("assumptions"):
        lines.append("  assumed/derived limits (not published for Loihi 2; see limits.py):")
        for k, note in p["assumptions"].items():
            lines.append(f"    {k}: {note}")
    return "\n".join(lines)
