"""The training workflow, end to end: draw randomised input, run the biophysical module
(:func:`.recording.record_module`), fit the surrogate, evaluate it on held-out input it never
saw, and return a :class:`.artefact.Surrogate` that :func:`.artefact.save` writes.

Learning library: scikit-learn's multi-layer perceptrons (Adam, early stopping), already a
dependency (Lava needs it), built for numpy < 2 and two CPU cores; inference does not use it
(:mod:`.network` runs the weights in numba, window by window).
"""
from __future__ import annotations

import warnings

import numpy as np

from ..errors import ParameterError
from .artefact import Surrogate
from .inputs import InputDistribution
from .metrics import auc, coincidence_factor, explained_variance
from .network import InferenceState, SurrogateNetwork, features, run_bins
from .recording import ModuleRecording, concatenate, model_hash, record_module

__all__ = ["fit", "evaluate", "train", "finish", "INPUT_TAUS", "HISTORY_TAUS"]

#: time constants (ms) of the input traces and of the spike-history traces
INPUT_TAUS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
HISTORY_TAUS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)
#: coincidence window of Γ (ms): ±2 ms, as in the issue and Jolivet et al. 2008
GAMMA_WINDOW = 2.0


def _layers(mlp) -> list:
    return [(np.ascontiguousarray(W, float), np.ascontiguousarray(b, float))
            for W, b in zip(mlp.coefs_, mlp.intercepts_)]


def _check_recording(rec: ModuleRecording, channels: list) -> None:
    if rec.inputs.ndim != 3 or rec.inputs.shape[2] != len(channels):
        raise ParameterError("fit", "recording", f"inputs of shape {rec.inputs.shape}",
                             f"(bins, cells, {len(channels)} channels)")
    if not np.isfinite(rec.inputs).all():
        raise ParameterError("fit", "recording", "inputs contain NaN or inf", "finite input")


def fit(rec: ModuleRecording, distribution: InputDistribution, *, model: dict, hash_: str,
        hidden=(64, 32), v_clip: float = -55.0, seed: int = 0, max_iter: int = 60, rounds: int = 2,
        history: str = "spikes") -> Surrogate:
    """Fit a surrogate to ``rec``, then choose the spike threshold that makes the closed-loop
    surrogate agree best (Γ) with the recorded spikes. The spike head is trained first with the
    recorded spikes as its history (teacher forcing), then for ``rounds`` more rounds on the
    data set aggregated with the history the surrogate itself produces in closed loop (DAgger,
    Ross, Gordon & Bagnell 2011): a surrogate running alone must recover from its own timing
    errors. ``history``: what feeds the history traces in closed loop (:class:`.network.SurrogateNetwork`).
    ``model``/``hash_``: the module's description and hash."""
    from sklearn.neural_network import MLPRegressor

    channels = distribution.keys
    _check_recording(rec, channels)
    net = SurrogateNetwork(rec.bin_ms, channels, np.array(INPUT_TAUS), np.array(HISTORY_TAUS),
                           np.zeros(0), np.zeros(0), [], 0.0, v_locations=list(rec.v), v_clip=v_clip,
                           history=history)
    X = features(rec.inputs, rec.spikes, net)
    net.feature_mean = X.mean(0)
    net.feature_scale = np.where(X.std(0) > 0, X.std(0), 1.0)
    y = (rec.spikes.reshape(-1) > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: early stopping decides
        sets = _fit_spikes(net, rec, X, y, hidden, seed, max_iter, rounds)
        if rec.v:  # on the same aggregated histories: the voltage head runs on the surrogate's own spikes too
            V = np.stack([np.minimum(rec.v[loc], v_clip).reshape(-1) for loc in net.v_locations], axis=1)
            net.v_mean, net.v_scale = V.mean(0), np.where(V.std(0) > 0, V.std(0), 1.0)
            reg = MLPRegressor(hidden_layer_sizes=hidden, alpha=1e-4, batch_size=512, learning_rate_init=2e-3,
                               max_iter=max_iter, early_stopping=True, n_iter_no_change=6, random_state=seed)
            reg.fit((np.concatenate(sets) - net.feature_mean) / net.feature_scale,
                    np.tile((V - net.v_mean) / net.v_scale, (len(sets), 1)))
            net.v_layers = _layers(reg)
            net.v_rest = float(np.median(V[:, 0]))
    net.threshold = _choose_threshold(net, rec)
    return Surrogate(net, distribution, hash_, model)


def _fit_spikes(net: SurrogateNetwork, rec: ModuleRecording, X0: np.ndarray, y: np.ndarray, hidden, seed: int,
                max_iter: int, rounds: int) -> list:
    """Train the spike head (see :func:`fit`); returns the feature sets it was trained on
    (teacher forcing first, then one per round of the surrogate's own history)."""
    from sklearn.neural_network import MLPClassifier

    net.refractory_bins = _refractory_bins(rec.spikes)
    sets = [X0]
    for r in range(rounds + 1):
        X = (np.concatenate(sets) - net.feature_mean) / net.feature_scale
        clf = MLPClassifier(hidden_layer_sizes=hidden, alpha=1e-4, batch_size=512, learning_rate_init=2e-3,
                            max_iter=max_iter, early_stopping=True, n_iter_no_change=6, random_state=seed + r)
        clf.fit(X, np.tile(y, len(sets)))
        net.spike_layers = _layers(clf)
        if r < rounds:  # the history the surrogate makes itself, on the same input
            net.threshold = _choose_threshold(net, rec)
            logits, own, _ = run_bins(net, InferenceState(net, rec.n_cells), rec.inputs, False)
            made = 1.0 / (1.0 + np.exp(-logits)) if net.history == "probability" else own.astype(float)
            sets.append(features(rec.inputs, made, net))
    return sets


def _refractory_bins(spikes: np.ndarray) -> int:
    """Bins after a spike in which the module never spiked again in ``spikes`` (bins, cells):
    the shortest interspike interval minus one bin (0 without two spikes in a cell)."""
    shortest = None
    for i in range(spikes.shape[1]):
        b = np.flatnonzero(spikes[:, i])
        if b.size > 1:
            d = int(np.diff(b).min())
            shortest = d if shortest is None else min(shortest, d)
    if shortest is None or (spikes > 1).any():
        return 0
    return max(shortest - 1, 0)


def _choose_threshold(net: SurrogateNetwork, rec: ModuleRecording) -> float:
    """The logit threshold whose closed-loop spikes match the recorded ones best (Γ)."""
    duration = rec.n_bins * rec.bin_ms
    truth = [_times(rec.spikes[:, i], rec.bin_ms) for i in range(rec.n_cells)]
    best, best_gamma = 0.0, -np.inf
    for thr in np.linspace(-4.0, 2.0, 13):
        net.threshold = float(thr)
        _, spikes, _ = run_bins(net, InferenceState(net, rec.n_cells), rec.inputs, False)
        model = [_times(spikes[:, i], rec.bin_ms) for i in range(rec.n_cells)]
        g = coincidence_factor(truth, model, GAMMA_WINDOW, duration)
        if g > best_gamma:
            best, best_gamma = float(thr), g
    return best


def _times(counts: np.ndarray, bin_ms: float) -> np.ndarray:
    """Spike times (ms) of binned spikes: each bin's end (several spikes in one bin: one each)."""
    b = np.repeat(np.arange(counts.size), np.asarray(counts, np.int64))
    return (b + 1) * bin_ms


def evaluate(surrogate: Surrogate, rec: ModuleRecording) -> dict:
    """Run the surrogate closed-loop on the input of ``rec`` and compare: spike-prediction AUC
    at the bin (its spike probability vs the module's spikes), Γ (±2 ms), explained variance of
    each voltage (clipped at ``v_clip`` as in training), and both spike rates (Hz)."""
    net = surrogate.network
    state = InferenceState(net, rec.n_cells, v0=net.v_rest)
    logits, spikes, v = run_bins(net, state, rec.inputs, True)
    duration = rec.n_bins * rec.bin_ms
    truth = [_times(rec.spikes[:, i], rec.bin_ms) for i in range(rec.n_cells)]
    model = [_times(spikes[:, i], rec.bin_ms) for i in range(rec.n_cells)]
    out = {"auc": auc(logits, rec.spikes > 0),
           "gamma": coincidence_factor(truth, model, GAMMA_WINDOW, duration),
           "rate_module_hz": float(rec.spikes.sum() / rec.n_cells / duration * 1000.0),
           "rate_surrogate_hz": float(spikes.sum() / rec.n_cells / duration * 1000.0),
           "bins": int(rec.n_bins), "cells": int(rec.n_cells)}
    for m, loc in enumerate(net.v_locations):
        if loc in rec.v and v is not None:
            out[f"ev_{loc}"] = explained_variance(np.minimum(rec.v[loc], net.v_clip), v[:, :, m])
    return out


def train(node, distribution: InputDistribution, *, train_cells: int = 48, train_ms: float = 25000.0,
          test_cells: int = 8, test_ms: float = 10000.0, seed: int = 1, dt: float = 0.1,
          neuron: dict | None = None, locations=("soma",), hidden=(64, 32), threads: int | None = None,
          chunk_cells: int = 24, log=print) -> tuple[Surrogate, dict]:
    """The whole workflow for biophysical population ``node`` (a graph node with a cell
    builder): record ``train_cells`` x ``train_ms`` of the module on input from
    ``distribution`` (in runs of ``chunk_cells`` cells, seeds ``seed``, ``seed + 2``, ...) and
    ``test_cells`` x ``test_ms`` of held-out input (seed ``seed + 1``), fit, evaluate on the
    held-out part. Returns (surrogate with its metrics, the held-out recording)."""
    kw = dict(dt=dt, neuron=neuron, locations=tuple(locations), threads=threads)
    chunks = []
    for k, start in enumerate(range(0, train_cells, chunk_cells)):
        n = min(chunk_cells, train_cells - start)
        log(f"recording the module: {n} cells x {train_ms:g} ms (training, seed {seed + 2 * k})")
        chunks.append(record_module(node, distribution, n_cells=n, duration_ms=train_ms, seed=seed + 2 * k, **kw))
    log(f"recording the module: {test_cells} cells x {test_ms:g} ms (held out, seed {seed + 1})")
    held = record_module(node, distribution, n_cells=test_cells, duration_ms=test_ms, seed=seed + 1, **kw)
    log("fitting")
    return finish(node, distribution, concatenate(chunks), held, hidden=hidden, seed=seed,
                  settings={"train_cells": train_cells, "train_ms": train_ms, "test_cells": test_cells,
                            "test_ms": test_ms, "seed": seed, "dt": dt, "neuron": neuron or {},
                            "chunk_cells": chunk_cells}), held


def finish(node, distribution: InputDistribution, rec: ModuleRecording, held: ModuleRecording, *, hidden,
           seed: int, settings: dict) -> Surrogate:
    """Fit on ``rec``, evaluate on ``held`` (the last steps of :func:`train`)."""
    sur = fit(rec, distribution, model=node.cell.describe(), hash_=model_hash(node), hidden=hidden, seed=seed)
    sur.metrics = {"held_out": evaluate(sur, held), "training": evaluate(sur, rec), **settings}
    return sur
