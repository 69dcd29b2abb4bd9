"""Run the biophysical module on randomised input and record what a surrogate learns from:
binned input per channel, output spikes per bin and the voltage at named locations.

The module runs as it runs in any model: one graph (a biophysical population whose inputs are
:class:`~neurohybrid.stimuli.spike_sources.SpikeSourceArray` populations, one per channel) on
the :class:`~neurohybrid.runtime.Runtime`, so NEURON, its time step and temperature are the
same as in the model the surrogate will replace.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from ..graph import ModelGraph, PopulationNode, ProjectionEdge, RecordingSpec
from .inputs import InputDistribution, SampledInput

__all__ = ["ModuleRecording", "record_module", "module_graph", "model_hash", "spike_bins", "concatenate"]

#: delay of the training connections (ms): any fixed delay; binning uses the arrival time
TRAINING_DELAY = 0.1


#: description entries that say where a model is, not what it is (their content is hashed apart)
_WHERE = ("label", "mechanisms", "hoc_file")


def model_hash(node: PopulationNode) -> str:
    """SHA-256 of the biophysical model of ``node`` (its cell builder's description: class,
    source, parameters, the content of its mechanisms and hoc files; not the population's label
    nor where the files are), the hash a surrogate file records."""
    if node.cell is None or not hasattr(node.cell, "describe"):
        raise ParameterError(f"Population({node.name})", "cell", "has no cell builder to describe",
                             "a biophysical population (NeuronCellBuilder, MultiCompartmentBuilder)")
    description = {k: v for k, v in node.cell.describe().items() if k not in _WHERE}
    text = json.dumps(description, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def concatenate(recordings: list) -> "ModuleRecording":
    """Recordings of equal length side by side (their cells one after the other)."""
    first = recordings[0]
    return ModuleRecording(first.bin_ms, np.concatenate([r.inputs for r in recordings], axis=1),
                           np.concatenate([r.spikes for r in recordings], axis=1),
                           {k: np.concatenate([r.v[k] for r in recordings], axis=1) for k in first.v},
                           [t for r in recordings for t in r.spike_times])


@dataclass
class ModuleRecording:
    """What one run of the module gave, per 1 bin of ``bin_ms``: ``inputs`` (bins, cells,
    channels; summed weights, µS), ``spikes`` (bins, cells; spike counts), ``v`` (location ->
    (bins, cells) mV at each bin's end), and the spike times (ms) per cell."""

    bin_ms: float
    inputs: np.ndarray
    spikes: np.ndarray
    v: dict
    spike_times: list

    def __post_init__(self):
        self.n_bins, self.n_cells = self.spikes.shape


def spike_bins(times: np.ndarray, ids: np.ndarray, n_cells: int, n_bins: int, bin_ms: float) -> np.ndarray:
    """Spike counts per (bin, cell): a spike recorded at t ms belongs to the bin whose end is
    the first at or after t (the recorded time of a surrogate spike is its bin's end)."""
    out = np.zeros((n_bins, n_cells))
    b = np.ceil(np.asarray(times) / bin_ms - 1e-9).astype(np.int64) - 1
    keep = (b >= 0) & (b < n_bins)
    np.add.at(out, (b[keep], np.asarray(ids, np.int64)[keep]), 1.0)
    return out


def module_graph(node: PopulationNode, sample: SampledInput, dt: float, seed: int, locations: list) -> ModelGraph:
    """The graph :func:`record_module` runs: ``sample``'s inputs (one SpikeSourceArray
    population per channel) onto copies of ``node``'s cells (population ``"module"``), its
    spikes and the voltages at ``locations`` recorded."""
    g = ModelGraph(dt=dt, seed=seed)
    cells = PopulationNode("module", node.model, sample.n_cells, {}, {"v": np.full(sample.n_cells, -70.0)},
                           kind="biophysical", engine="neuron", cell=node.cell)
    if "v" in node.initial:
        cells.initial["v"] = np.full(sample.n_cells, float(np.asarray(node.initial["v"]).ravel()[0]))
    g.nodes["module"] = cells
    for k, chan in enumerate(sample.distribution.channels):
        name = f"input{k}"
        trains = sample.trains[k]
        g.nodes[name] = PopulationNode(name, "SpikeSourceArray", len(trains), {"spike_times": trains}, {},
                                       kind="source")
        n = len(trains)
        g.edges.append(ProjectionEdge(f"{name}->module", name, "module", chan.receptor, "StaticSynapse",
                                      np.arange(n, dtype=np.int64), sample.owners(k),
                                      {"weight": sample.weights[k], "delay": np.full(n, TRAINING_DELAY)},
                                      location=chan.location))
    g.recordings.append(RecordingSpec("module", "spikes", np.arange(sample.n_cells)))
    for loc in locations:
        g.recordings.append(RecordingSpec("module", f"{loc}.v", np.arange(sample.n_cells)))
    return g


def record_module(node: PopulationNode, distribution: InputDistribution, *, n_cells: int, duration_ms: float,
                  seed: int, dt: float = 0.1, neuron: dict | None = None, bin_ms: float = 1.0,
                  locations=("soma",), threads: int | None = None) -> ModuleRecording:
    """Run ``n_cells`` copies of the biophysical model of ``node`` for ``duration_ms`` on input
    drawn from ``distribution`` (``seed``) and bin what they did (``bin_ms``, a multiple of
    ``dt``). ``neuron``: NEURON's ``dt`` and ``celsius`` (as the Runtime takes them);
    ``locations``: named places whose voltage is recorded (the cell's ``location()`` names)."""
    from ..runtime import Runtime

    every = bin_ms / dt
    if not (math.isfinite(every) and abs(every - round(every)) < 1e-9 and round(every) >= 1):
        raise ParameterError("record_module", "bin_ms", f"{bin_ms!r}", f"a multiple of dt = {dt} ms")
    sample = distribution.sample(n_cells, duration_ms, seed, dt)
    graph = module_graph(node, sample, dt, seed, list(locations))
    for rec in graph.recordings[1:]:
        rec.sampling_interval = bin_ms
    rt = Runtime(graph, neuron=neuron, threads=threads)
    try:
        rt.run(duration_ms)
        times, ids = rt.spikes("module")
        v = {}
        n_bins = int(round(duration_ms / bin_ms))
        for loc in locations:
            samples = np.asarray(rt.signal("module", f"{loc}.v")["samples"], float)
            v[loc] = samples[1:n_bins + 1]  # the sample at each bin's end (sample 0 is t = 0)
    finally:
        rt.close()
    binned = sample.binned(bin_ms, TRAINING_DELAY)[:n_bins]
    counts = spike_bins(times, ids, n_cells, n_bins, bin_ms)
    per_cell = [np.sort(times[ids == i]) for i in range(n_cells)]
    return ModuleRecording(bin_ms, binned, counts, v, per_cell)
