"""The surrogate engine: biophysical populations run by a trained surrogate instead of NEURON.

A population whose graph node carries a surrogate (:class:`neurohybrid.surrogate.Surrogate`,
``node.surrogate``) and names this engine keeps every port it had on NEURON: the spikes of the
projections onto it, grouped into the surrogate's input channels (receptor, or
receptor@location), the spikes it sends, and the voltages it records at the locations the
surrogate predicts. Spike sources that drive it run here as copies (same keyed streams, same
spikes), mirrors of populations on other engines are fed by the co-simulation kernel.

Time: the surrogate works in bins of ``bin_ms`` (a multiple of the graph's dt). A spike emitted
at tick k over a connection of ``delay`` ms reaches the cell at ``(k + 1) dt + delay`` ms (as
on NEURON) and adds its weight to the input of the bin holding that time. A bin is computed
once the engine has advanced to its end, never before: the spikes it makes are emitted at the
bin's last tick (recorded at the bin's end), so nothing looks ahead. Voltages are linearly
interpolated between bin ends. All cells of a population advance together (numba kernel,
:mod:`neurohybrid.surrogate.network`).
"""
from __future__ import annotations

import math

import numpy as np

from neurohybrid.engine import Capabilities, Engine
from neurohybrid.errors import ParameterError, PastTimeError, SimulationStateError, UnsupportedModelError
from neurohybrid.rng import stream_key
from neurohybrid.surrogate.network import InferenceState, run_bins
from neurohybrid.surrogate.recording import model_hash

__all__ = ["SurrogateEngine"]


class _Population:
    """One surrogate population: its network, state, pending input and recordings."""

    def __init__(self, node, dt: float):
        sur = node.surrogate
        self.name, self.size, self.surrogate, self.net = node.name, node.size, sur, sur.network
        ratio = self.net.bin_ms / dt
        if abs(ratio - round(ratio)) > 1e-9 * max(1.0, ratio) or round(ratio) < 1:
            raise ParameterError(f"Population({node.name})", "surrogate", f"its bin of {self.net.bin_ms} ms is not "
                                 f"a multiple of the model's dt {dt} ms", f"a model dt dividing {self.net.bin_ms} ms")
        self.ticks_per_bin = int(round(ratio))
        v0 = node.initial.get("v")
        self.v0 = self.net.v_rest if v0 is None else np.broadcast_to(np.asarray(v0, float), (self.size,)).copy()
        self.reset()

    def reset(self) -> None:
        self.state = InferenceState(self.net, self.size, v0=self.v0)
        self.pending = np.zeros((8, self.size, len(self.net.channels)))  # bins next_bin, next_bin + 1, ...
        self.next_bin = 0

    def add(self, bins: np.ndarray, cells: np.ndarray, channels: np.ndarray, weights: np.ndarray) -> None:
        """Add input landing in absolute ``bins`` (none may be computed already)."""
        rel = bins - self.next_bin
        if rel.size and rel.min() < 0:
            raise PastTimeError(f"Population({self.name})", "ticks", "a spike reaches a surrogate bin that was "
                                "already computed", "spikes pushed before the engine advances past their arrival")
        need = int(rel.max()) + 1 if rel.size else 0
        if need > self.pending.shape[0]:
            grown = np.zeros((max(need, 2 * self.pending.shape[0]),) + self.pending.shape[1:])
            grown[:self.pending.shape[0]] = self.pending
            self.pending = grown
        np.add.at(self.pending, (rel, cells, channels), weights)

    def take(self, n_bins: int) -> np.ndarray:
        """The input of the next ``n_bins`` bins, removed from the pending buffer."""
        if n_bins > self.pending.shape[0]:
            self.add(np.array([self.next_bin + n_bins - 1]), np.zeros(1, np.int64), np.zeros(1, np.int64),
                     np.zeros(1))
        out = self.pending[:n_bins].copy()
        self.pending = np.concatenate([self.pending[n_bins:], np.zeros_like(self.pending[:n_bins])])
        self.next_bin += n_bins
        return out


class SurrogateEngine(Engine):
    """Runs biophysical populations with trained surrogates (module docstring); ``threads`` is
    accepted for the runtime's uniform construction (the kernel is serial per population)."""

    name = "surrogate"
    capabilities = Capabilities(kinds=("biophysical", "source"), numerics="float", synapses=("StaticSynapse",),
                                recordables=("spikes", "v"), latency=0, min_input_delay=1, input_lead=1)

    def __init__(self, threads: int | None = None, **_options):
        self.threads = threads
        self.graph = None
        self.tick = 0
        self._closed = True

    @staticmethod
    def refusal(node, graph, options: dict | None = None) -> str | None:
        """Why a surrogate cannot run ``node`` (None: it can): it runs biophysical populations
        given a surrogate (``sim.surrogate``) and spike sources beside them."""
        if node.kind == "source":
            return None
        if node.kind == "biophysical" and getattr(node, "surrogate", None) is not None:
            return None
        return (f"the surrogate engine runs biophysical populations that have a trained surrogate; {node.model} "
                f"is a {node.kind} population" + (" without one" if node.kind == "biophysical" else ""))

    # --- build ------------------------------------------------------------------------------
    def build(self, graph, sink) -> None:
        """Check every surrogate against its population's ports and build the input tables."""
        self.graph, self.sink, self.dt = graph, sink, float(graph.dt)
        self.pops = {name: _Population(node, self.dt) for name, node in graph.nodes.items()
                     if node.kind == "biophysical"}
        self._tables = self._connect(graph)
        self._sources = self._make_sources(graph)
        self._check_ports(graph)
        self.configure_recording()
        self.tick = 0
        self._closed = False

    def _connect(self, graph) -> dict:
        """Per source node: its connections onto surrogate cells as a CSR table."""
        parts: dict = {}
        for edge in graph.edges:
            pop = self.pops.get(edge.post)
            if pop is None:
                continue
            pre = graph.nodes[edge.pre]
            if pre.kind != "source":
                raise UnsupportedModelError(f"Projection({edge.name})", "pre", f"{edge.pre!r} is a {pre.kind} "
                                            "population on the surrogate engine", "spike sources and populations "
                                            "on other engines (recurrent surrogate populations: not yet)")
            if edge.synapse != "StaticSynapse":
                raise UnsupportedModelError(f"Projection({edge.name})", "synapse_type", f"{edge.synapse} onto a "
                                            "surrogate", "StaticSynapse (the surrogate was trained on static input)")
            channel = _channel(edge)
            if channel not in pop.net.channels:
                continue  # _check_ports names it
            n = edge.pre_index.size
            delay = np.broadcast_to(np.asarray(edge.values.get("delay", 0.0), float), (n,))
            if (delay < 0).any() or not np.isfinite(delay).all():
                raise ParameterError(f"Projection({edge.name})", "delay", "negative or non-finite", "delays >= 0 ms")
            parts.setdefault(edge.pre, []).append((
                np.asarray(edge.pre_index, np.int64), edge.post, np.asarray(edge.post_index, np.int64),
                np.full(n, pop.net.channels.index(channel), np.int64),
                np.broadcast_to(np.asarray(edge.values["weight"], float), (n,)), delay))
        tables = {}
        for src, chunks in parts.items():
            for post in {c[1] for c in chunks}:
                mine = [c for c in chunks if c[1] == post]
                pre = np.concatenate([c[0] for c in mine])
                order = np.argsort(pre, kind="stable")
                ptr = np.concatenate([[0], np.cumsum(np.bincount(pre, minlength=graph.nodes[src].size))])
                tables.setdefault(src, []).append((post, ptr.astype(np.int64), *(np.concatenate([c[k] for c in mine])[order]
                                                                                for k in (2, 3, 4, 5))))
        return tables

    def _make_sources(self, graph) -> dict:
        from neurohybrid.stimuli import spike_sources as kinds
        out = {}
        for name, node in graph.nodes.items():
            if node.kind != "source":
                continue
            cls = getattr(kinds, node.model, None)
            if cls is None:
                raise UnsupportedModelError(name, "celltype", f"no spike source {node.model}",
                                            ", ".join(kinds.SPIKE_SOURCES))
            src = cls(dict(node.parameters), stream_key(graph.seed, name, "spike-source"), self.dt)
            src.n = node.size
            out[name] = src
        return out

    def _check_ports(self, graph) -> None:
        for name, pop in self.pops.items():
            node = graph.nodes[name]
            channels = sorted({_channel(e) for e in graph.edges if e.post == name})
            variables = [r.variable for r in graph.recordings if r.node == name]
            pop.surrogate.check_against(name, channels, model_hash(node) if node.cell is not None else None, variables)

    def configure_recording(self) -> None:
        """(Re)read what to record from the graph."""
        self.spike_recorded = {r.node: np.asarray(r.index, np.int64) for r in self.graph.recordings
                               if r.variable == "spikes" and r.node in self.pops}
        self._samples = []
        for rec in self.graph.recordings:
            pop = self.pops.get(rec.node)
            if pop is None or rec.variable == "spikes":
                continue
            loc = rec.variable.rpartition(".")[0] or "soma"
            every = (rec.sampling_interval or self.dt) / self.dt
            if abs(every - round(every)) > 1e-9 * max(1.0, every) or round(every) < 1:
                raise ParameterError(rec.node, "sampling_interval", f"{rec.sampling_interval} ms is not a multiple "
                                     f"of the resolution {self.dt} ms", f"n * {self.dt} ms")
            self._samples.append({"pop": pop, "variable": rec.variable, "m": pop.net.v_locations.index(loc),
                                  "index": np.asarray(rec.index, np.int64), "every": int(round(every)), "sent": 0})
        self._wants_v = {name for name in self.pops if any(s["pop"].name == name for s in self._samples)}

    # --- running ------------------------------------------------------------------------------
    def initial_samples(self) -> None:
        """The t = 0 value of every recorded voltage."""
        for s in self._samples:
            pop = s["pop"]
            self.sink.samples(pop.name, s["variable"], pop.state.v[s["index"], s["m"]][None, :])

    def source_generator(self, node: str):
        """The spike source object of ``node`` (``push`` feeds a SpikeSourceExternal mirror)."""
        return self._sources[node]

    def advance(self, t_stop: int) -> None:
        """Deliver the window's input spikes, then compute every bin that ends by ``t_stop``."""
        if self._closed:
            raise SimulationStateError("SurrogateEngine", None, "the engine is closed", "build() first")
        t_stop = int(t_stop)
        if t_stop < self.tick:
            raise PastTimeError("SurrogateEngine", "t_stop", f"tick {t_stop} is before tick {self.tick}",
                                "a later tick, or reset() first")
        if t_stop == self.tick:
            return
        for name, src in self._sources.items():
            tables = self._tables.get(name)
            ticks, ids = src.emit(self.tick, t_stop - self.tick)
            if tables and ticks.size:
                self._deliver(tables, ticks, ids)
        for pop in self.pops.values():
            n_bins = t_stop // pop.ticks_per_bin - pop.next_bin
            if n_bins > 0:
                self._compute(pop, n_bins)
        self.tick = t_stop

    def _deliver(self, tables: list, ticks: np.ndarray, ids: np.ndarray) -> None:
        for post, ptr, cells, channels, weights, delays in tables:
            counts = ptr[ids + 1] - ptr[ids]
            total = int(counts.sum())
            if not total:
                continue
            first = np.repeat(ptr[ids], counts)
            conn = first + np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
            pop = self.pops[post]
            arrival = np.repeat((ticks + 1) * self.dt, counts) + delays[conn]
            bins = np.floor(arrival / pop.net.bin_ms + 1e-9).astype(np.int64)
            pop.add(bins, cells[conn], channels[conn], weights[conn])

    def _compute(self, pop: _Population, n_bins: int) -> None:
        first = pop.next_bin
        v_before = pop.state.v.copy()
        _, spikes, v = run_bins(pop.net, pop.state, pop.take(n_bins), pop.name in self._wants_v)
        b, i = np.nonzero(spikes)
        ticks = (first + b + 1) * pop.ticks_per_bin - 1
        if ticks.size:
            self.report_spikes(pop.name, ticks.astype(np.int64), i.astype(np.int64))
        for s in self._samples:
            if s["pop"] is pop:
                self._send_samples(s, pop, first, n_bins, v_before, v)

    def _send_samples(self, s: dict, pop: _Population, first: int, n_bins: int, v_before, v) -> None:
        """Samples at every multiple of the interval up to the last computed bin's end, linear
        between bin ends."""
        T = pop.ticks_per_bin
        end = (first + n_bins) * T
        start = s["sent"] + s["every"]
        ticks = np.arange(start, end + 1, s["every"])
        if not ticks.size:
            return
        u = ticks / T - first  # in (0, n_bins]
        k = np.ceil(u - 1e-12).astype(np.int64) - 1
        frac = (u - k)[:, None]
        ends = np.concatenate([v_before[None, s["index"], s["m"]], v[:, s["index"], s["m"]]])  # (n_bins + 1, cells)
        rows = (1 - frac) * ends[k] + frac * ends[k + 1]
        self.sink.samples(pop.name, s["variable"], rows)
        s["sent"] = int(ticks[-1])

    def field_value(self, node: str, name: str) -> float:
        """A field proxy of population ``node``, as NEURON gives it: ``"mean_v:<location>"``
        (mV, the mean over cells of the voltage at the last computed bin's end) or ``"lfp"`` (mV,
        mean of v(first location whose name contains 'dend') - v(soma)); only locations the
        surrogate predicts."""
        pop = self.pops.get(node)
        if pop is None:
            raise ParameterError(node, "field", "not a surrogate population of this engine", ", ".join(self.pops))
        locs = pop.net.v_locations
        if name.startswith("mean_v:") and name.split(":", 1)[1] in locs:
            return float(pop.state.v[:, locs.index(name.split(":", 1)[1])].mean())
        dend = next((loc for loc in locs if "dend" in loc.lower()), None)
        if name == "lfp" and dend is not None and "soma" in locs:
            return float((pop.state.v[:, locs.index(dend)] - pop.state.v[:, locs.index("soma")]).mean())
        raise ParameterError(f"Population({node})", "field", f"{name!r}: the surrogate predicts the voltage at "
                             f"{', '.join(locs) or 'no location'}", "'mean_v:<one of those>', or 'lfp' when it "
                             "predicts soma and a location named '*dend*'")

    # --- state ------------------------------------------------------------------------------
    def reset(self, graph=None) -> None:
        """Back to tick 0 (a new graph of the same structure may come with it)."""
        if graph is not None and graph is not self.graph:
            self.build(graph, self.sink)
            return
        for pop in self.pops.values():
            pop.reset()
        for src in self._sources.values():
            src.reset()
        for s in self._samples:
            s["sent"] = 0
        self.tick = 0

    def update_parameters(self, graph) -> None:
        """Surrogate cells have no parameters to change; sources take their new values."""
        self.graph = graph
        self._sources = self._make_sources(graph)

    def carry_state(self, old: "SurrogateEngine") -> None:
        """Continue from ``old`` after a rebuild: surrogate state and pending input of every
        population of the same name and size."""
        for name, pop in self.pops.items():
            prev = getattr(old, "pops", {}).get(name)
            if prev is not None and prev.size == pop.size and prev.net is pop.net:
                pop.state.restore(prev.state.state())
                pop.pending, pop.next_bin = prev.pending.copy(), prev.next_bin
        for s in self._samples:
            s["sent"] = old.tick - old.tick % s["every"]

    def state(self) -> dict:
        """Snapshot: every population's inference state and pending input, and the sources'."""
        out = {"engine": self.name, "tick": int(self.tick)}
        for name, pop in self.pops.items():
            for k, v in pop.state.state().items():
                out[f"pop/{name}/{k}"] = v
            out[f"pop/{name}/pending"] = pop.pending.copy()
            out[f"pop/{name}/next_bin"] = int(pop.next_bin)
        for name, src in self._sources.items():
            for k, v in src.state().items():
                out[f"source/{name}/{k}"] = v
        return out

    def restore(self, state: dict) -> None:
        """Continue from :meth:`state` of an engine built from the same graph."""
        if not isinstance(state, dict) or state.get("engine") != self.name:
            raise ParameterError("SurrogateEngine", "state", "is not a surrogate engine's snapshot",
                                 "SurrogateEngine.state() of the same model")
        for name, pop in self.pops.items():
            pop.state.restore({k: state[f"pop/{name}/{k}"] for k in pop.state.state()})
            pop.pending, pop.next_bin = state[f"pop/{name}/pending"].copy(), int(state[f"pop/{name}/next_bin"])
        for name, src in self._sources.items():
            prefix = f"source/{name}/"
            src.restore({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)})
        self.tick = int(state["tick"])
        for s in self._samples:
            s["sent"] = self.tick - self.tick % s["every"]

    def close(self) -> None:
        """Nothing external to release."""
        self._closed = True


def _channel(edge) -> str:
    """The surrogate input channel of a projection: its receptor, at its location if any."""
    return edge.receptor if edge.location is None else f"{edge.receptor}@{edge.location}"
