"""Loihi quantisation and placement reports for the Brunel network of benchmarks/brunel.py.

Builds the network exactly as ``brunel.py`` does (IF_curr_delta, N_E = 0.8 N, in-degrees
C_E = 0.1 N_E and C_I = 0.1 N_I, Poisson drive) through ``neurohybrid.pynn`` — graph only,
nothing is simulated — then runs ``quantize`` and ``place`` and prints both reports.

Brunel's neurons reset to V_reset = 10 mV above rest; Loihi resets v to rest, so the mapping
needs the named approximation ``reset_to_rest`` (it is applied and reported, not hidden).

    python benchmarks/loihi_reports.py [--sizes 10000 100000] [--chips 8]

Each size runs in a fresh process (so that its peak memory is its own). The last line printed
is one JSON object summarising every size. Note: at N = 100,000 the network has
N * (C_E + C_I + 1) = 1.0e9 synapses (in-degree 10,001), not 1e8: the graph's index arrays
alone take ~7 GB, and the PyNN front end needs ~27 bytes per synapse while it builds them, more
than this machine has. Above 2e8 synapses the edges are therefore generated directly with the
same rules (``build_graph_direct``, printed in the report); the size is skipped, with a message,
when the machine has too little free memory.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numba
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brunel import PARAMS, build_network, derived  # noqa: E402


def build_graph(n):
    """The Brunel model of brunel.py as a neurohybrid ModelGraph (not run)."""
    import neurohybrid.pynn as sim
    build_network(sim, n)
    graph = sim.state.network.build_graph()
    return graph


FRONTEND_SYNAPSE_LIMIT = 200_000_000  # above this the front end would need tens of GB (see below)


@numba.njit(cache=True)
def _fixed_in_degree(n_post, n_pre, k, seed, out):
    """out[i*k:(i+1)*k] = k distinct presynaptic indices in [0, n_pre) for each of n_post cells
    (FixedNumberPreConnector without replacement, self-connections allowed)."""
    np.random.seed(seed)
    mark = np.zeros(n_pre, np.bool_)
    for i in range(n_post):
        base = i * k
        j = 0
        while j < k:
            c = np.random.randint(0, n_pre)
            if not mark[c]:
                mark[c] = True
                out[base + j] = c
                j += 1
        for j in range(k):
            mark[out[base + j]] = False


def build_graph_direct(n):
    """The same model with the connections generated here, lean (final index dtypes, no
    temporaries per synapse): the nodes come from neurohybrid.pynn as in build_graph, the edges
    follow the same rules (fixed in-degree without replacement, one-to-one drive) with a
    different random draw. Used where the front end would not fit in memory: building the
    N = 100,000 network (1.0e9 synapses) through PyNN's connectors peaks at ~27 bytes per
    synapse here (measured 2.5 GB for 9e7 synapses at N = 30,000)."""
    import neurohybrid.pynn as sim
    from neurohybrid.graph import ProjectionEdge
    p = PARAMS
    ne, ni, ce, ci, p_rate = derived(n)
    build_network(sim, n, connect=False)
    graph = sim.state.network.build_graph()
    dtype = lambda size: np.uint16 if size <= 65536 else np.uint32
    const = lambda v, m: np.broadcast_to(np.float64(v), (m,))
    seed = p["seed"]
    for pre, n_pre, k, w, receptor in (("E", ne, ce, p["J"], "excitatory"), ("I", ni, ci, -p["g"] * p["J"], "inhibitory")):
        for post, n_post in (("E", ne), ("I", ni)):
            seed += 1
            pre_idx = np.empty(n_post * k, dtype(n_pre))
            _fixed_in_degree(n_post, n_pre, k, seed, pre_idx)
            post_idx = np.repeat(np.arange(n_post, dtype=dtype(n_post)), k)
            graph.edges.append(ProjectionEdge(f"{pre}->both[{pre}->{post}]", pre, post, receptor, "StaticSynapse",
                                              pre_idx, post_idx, {"weight": const(w, pre_idx.size),
                                                                  "delay": const(p["delay"], pre_idx.size)},
                                              {"connector": "FixedNumberPreConnector", "n": k}, seed))
    for post, lo, n_post in (("E", 0, ne), ("I", ne, ni)):
        post_idx = np.arange(n_post, dtype=dtype(n_post))
        pre_idx = np.arange(lo, lo + n_post, dtype=dtype(n))
        graph.edges.append(ProjectionEdge(f"noise->both[noise->{post}]", "noise", post, "excitatory", "StaticSynapse",
                                          pre_idx, post_idx, {"weight": const(p["J"], n_post),
                                                              "delay": const(p["delay"], n_post)},
                                          {"connector": "OneToOneConnector"}, None))
    return graph


def _available_memory_mb():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("inf")


def child(n, chips):
    import resource

    from neurohybrid.errors import PlacementError
    from neurohybrid.mappings.loihi import format_placement, format_report, place, quantize

    t0 = time.perf_counter()
    ne, ni, ce, ci, _ = derived(n)
    n_syn = (ne + ni) * (ce + ci + 1)
    if n_syn <= FRONTEND_SYNAPSE_LIMIT:
        graph, path = build_graph(n), "neurohybrid.pynn front end"
    else:
        need_mb = n_syn * 8 / 2 ** 20 * 1.2  # two uint32 index arrays per synapse, plus slack
        if _available_memory_mb() < 1.5 * need_mb:
            print(json.dumps({"n": n, "synapses": n_syn, "skipped": f"needs ~{need_mb:.0f} MB, "
                              f"{_available_memory_mb():.0f} MB available"}))
            return
        graph, path = build_graph_direct(n), "edges generated directly (front end would need ~27 B/synapse)"
    t1 = time.perf_counter()
    print(f"(graph: {path}; {n_syn:,} synapses)")
    circuit = quantize(graph, approximations=("reset_to_rest",))
    t2 = time.perf_counter()
    print(f"===== Brunel N = {n:,}: quantisation =====")
    print(format_report(circuit.report))
    print()
    print(f"===== Brunel N = {n:,}: placement (chips={chips}) =====")
    placement_error = None
    try:
        place(circuit, chips=chips)
        print(format_placement(circuit.placement))
    except PlacementError as err:
        placement_error = {"message": str(err), "limit": err.limit, "required": err.required,
                           "available": err.available, "chips_needed": err.chips_needed}
        print(f"DOES NOT FIT: {err}")
        if err.chips_needed is not None and err.chips_needed > chips:
            # show the placement it would have on enough chips
            place(circuit, chips=err.chips_needed)
            print(f"\nwith chips={err.chips_needed}:")
            print(format_placement(circuit.placement))
    t3 = time.perf_counter()
    totals = circuit.report["totals"]
    out = {"n": n, "synapses": circuit.n_synapses, "graph_path": path, "graph_s": t1 - t0, "quantize_s": t2 - t1, "place_s": t3 - t2,
           "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
           "worst_weight_rel_error": totals["worst_weight_rel_error"],
           "worst_parameter_rel_error": totals["worst_parameter_rel_error"],
           "weights_lost_to_zero": totals["weights_lost_to_zero"], "weights_clipped": totals["weights_clipped"],
           "approximations": list(circuit.report["approximations_applied"]),
           "placement_error": placement_error}
    if circuit.placement is not None:
        pl = circuit.placement
        out.update({"cores_used": pl["cores_used"], "chips_used": pl["chips_used"],
                    "binding_limits": {k: v["binding_limit"] for k, v in pl["populations"].items()},
                    "utilisation_max_pct": {k: v["max_pct"] for k, v in pl["utilisation"].items()}})
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    ap.add_argument("--chips", type=int, default=1)
    ap.add_argument("--child", type=int)
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.chips)
    results = []
    for n in args.sizes:
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", str(n), "--chips",
                               str(args.chips)], capture_output=True, text=True)
        lines = proc.stdout.rstrip().splitlines()
        if proc.returncode != 0 or not lines:
            print(proc.stdout)
            err = (proc.stderr.strip().splitlines() or ["failed"])[-1]
            print(f"N = {n}: failed: {err}")
            results.append({"n": n, "error": err})
            continue
        print("\n".join(lines[:-1]), flush=True)
        print()
        results.append(json.loads(lines[-1]))
    print(json.dumps({"benchmark": "loihi_reports", "model": "brunel IF_curr_delta", "chips": args.chips,
                      "runs": results}))


if __name__ == "__main__":
    main()
