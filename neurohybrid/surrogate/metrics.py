"""How close a surrogate is to the module it replaces: spike-prediction AUC, the coincidence
factor Γ and the explained variance of a voltage."""
from __future__ import annotations

import numpy as np

__all__ = ["auc", "coincidence_factor", "explained_variance"]


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve of ``scores`` for binary ``labels`` (rank statistic, ties
    counted half: the Mann–Whitney U / (n_pos n_neg)). NaN when a class is empty."""
    s = np.asarray(scores, float).ravel()
    y = np.asarray(labels).ravel() > 0
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if not n_pos or not n_neg:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(s.size)
    sorted_s = s[order]
    # average ranks over ties
    edges = np.flatnonzero(np.diff(sorted_s)) + 1
    starts = np.r_[0, edges]
    ends = np.r_[edges, s.size]
    avg = (starts + ends - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, ends - starts)
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def coincidence_factor(reference, model, window_ms: float, duration_ms: float) -> float:
    """Γ of Kistler, Gerstner & van Hemmen (1997, Neural Comput 9:1015), as used by Jolivet et
    al. (2008, J Neurosci Methods 169:417): ``(N_coinc - <N_coinc>) / (N_ref + N_model) / 2``
    normalised by ``1 - 2 ν Δ``, with ``<N_coinc> = 2 ν Δ N_ref`` the coincidences expected of a
    Poisson train of the model's rate ν; Δ = ``window_ms``. 1: identical trains, 0: chance.
    ``reference``/``model``: spike times (ms) of one cell each, or lists of trains (summed
    over cells)."""
    if len(reference) and np.ndim(reference[0]) == 0:
        reference, model = [reference], [model]
    n_c = n_r = n_m = 0.0
    for r, m in zip(reference, model):
        r, m = np.sort(np.asarray(r, float)), np.sort(np.asarray(m, float))
        n_r += r.size
        n_m += m.size
        if r.size and m.size:
            # each reference spike is matched by at most one model spike within the window
            j = np.searchsorted(m, r - window_ms, side="left")
            used = np.zeros(m.size, bool)
            for ri, ji in zip(r, j):
                while ji < m.size and m[ji] <= ri + window_ms:
                    if not used[ji]:
                        used[ji] = True
                        n_c += 1
                        break
                    ji += 1
    if n_r + n_m == 0:
        return 1.0
    nu = n_m / (len(model) * duration_ms)  # per ms per cell
    expected = 2.0 * nu * window_ms * n_r
    norm = 1.0 - 2.0 * nu * window_ms
    return float((n_c - expected) / (0.5 * (n_r + n_m)) / norm)


def explained_variance(reference: np.ndarray, model: np.ndarray) -> float:
    """``1 - var(reference - model) / var(reference)``."""
    r, m = np.asarray(reference, float).ravel(), np.asarray(model, float).ravel()
    return float(1.0 - np.var(r - m) / np.var(r))
