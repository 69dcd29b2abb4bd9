"""The surrogate network and its causal, window-by-window inference.

Architecture: a temporal-convolution front end with fixed causal kernels, then a small
multi-layer perceptron (Beniaguev, Segev & London 2021 use a TCN whose first layer learns its
causal kernels; here the first layer is a fixed bank of exponential kernels, which makes the
temporal state a handful of traces per channel, exact across windows and O(1) per bin).

Per cell and bin b (``bin_ms``), the features are

* input traces ``x[c, j](b) = exp(-bin/τ_j) x[c, j](b-1) + in[c](b)`` for every channel c and
  input time constant τ_j (``input_taus``, ms): the input of bin b acts in bin b;
* spike-history traces ``h[j](b) = exp(-bin/τ_j) h[j](b-1) + s(b-1)`` (``history_taus``): the
  cell's own spikes up to the previous bin (refractoriness, adaptation, bursts);

standardised (``feature_mean``, ``feature_scale``). The spike head (two ReLU layers, a logit)
gives the probability of a spike in the bin; the cell spikes when the logit exceeds
``threshold``. The voltage head (two ReLU layers, one output per location) gives the voltage at
the bin's end (mV, clipped at ``v_clip`` as in training). Nothing looks ahead: bin b uses input
up to bin b and spikes up to bin b - 1.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np

from ..errors import ParameterError

__all__ = ["SurrogateNetwork", "InferenceState", "features"]


@dataclass
class SurrogateNetwork:
    """Trained weights and the feature definition (see the module docstring). Units: ms for
    ``bin_ms`` and the time constants, µS for input, mV for voltages."""

    bin_ms: float
    channels: list
    input_taus: np.ndarray
    history_taus: np.ndarray
    feature_mean: np.ndarray
    feature_scale: np.ndarray
    spike_layers: list  # [(W, b)] * 3: hidden, hidden, logit
    threshold: float
    v_locations: list = field(default_factory=list)
    v_layers: list = field(default_factory=list)  # [(W, b)] * 3: hidden, hidden, one output per location
    v_mean: np.ndarray = None
    v_scale: np.ndarray = None
    v_clip: float = -55.0
    v_rest: float = -70.0
    #: what feeds the history traces: "spikes" (the cell's own spikes) or "probability" (its
    #: spike probability per bin: a smooth recurrence that does not compound timing errors)
    history: str = "spikes"
    #: bins after a spike in which the cell cannot spike again (absolute refractoriness; from the
    #: shortest interspike interval in the training data)
    refractory_bins: int = 0

    @property
    def n_features(self) -> int:
        """Features per cell and bin."""
        return len(self.channels) * len(self.input_taus) + len(self.history_taus)

    def check(self, owner: str) -> None:
        """Shapes agree with each other (ParameterError naming ``owner`` otherwise)."""
        nf = self.n_features
        if self.feature_mean.shape != (nf,) or self.feature_scale.shape != (nf,):
            raise ParameterError(owner, "feature_mean", f"shape {self.feature_mean.shape}", f"({nf},)")
        for name, layers, outs in (("spike_layers", self.spike_layers, 1), ("v_layers", self.v_layers,
                                                                           len(self.v_locations))):
            if name == "v_layers" and not layers:
                continue
            if len(layers) != 3:
                raise ParameterError(owner, name, f"{len(layers)} layers", "3 (two hidden, one output)")
            width = nf
            for W, b in layers:
                if W.ndim != 2 or W.shape[0] != width or b.shape != (W.shape[1],):
                    raise ParameterError(owner, name, f"a layer of shape {W.shape} after width {width}",
                                         "consecutive layers whose shapes chain")
                width = W.shape[1]
            if width != outs:
                raise ParameterError(owner, name, f"{width} outputs", f"{outs}")


class InferenceState:
    """What a population of ``n`` surrogate cells carries from one window to the next: the
    input and history traces, the last bin's spikes and voltage."""

    def __init__(self, net: SurrogateNetwork, n: int, v0=None):
        self.x = np.zeros((n, len(net.channels), len(net.input_taus)))
        self.h = np.zeros((n, len(net.history_taus)))
        self.s = np.zeros(n)
        self.refractory = np.zeros(n, np.int64)  # bins of absolute refractoriness left
        v = np.full(n, net.v_rest) if v0 is None else np.broadcast_to(np.asarray(v0, float), (n,)).copy()
        self.v = np.repeat(v[:, None], max(len(net.v_locations), 1), axis=1)

    def state(self) -> dict:
        """Copies of the arrays (for snapshots)."""
        return {"x": self.x.copy(), "h": self.h.copy(), "s": self.s.copy(), "v": self.v.copy(),
                "refractory": self.refractory.copy()}

    def restore(self, state: dict) -> None:
        """Continue from :meth:`state`."""
        for k in ("x", "h", "s", "v", "refractory"):
            getattr(self, k)[...] = state[k]


def features(inputs: np.ndarray, spikes: np.ndarray, net: SurrogateNetwork) -> np.ndarray:
    """Unstandardised features of every (bin, cell) of recorded ``inputs`` (bins, cells,
    channels) with the recorded ``spikes`` (bins, cells) as history (teacher forcing), for
    training: shape (bins * cells, n_features)."""
    nb, n, c = inputs.shape
    x = np.zeros((n, c, len(net.input_taus)))
    h = np.zeros((n, len(net.history_taus)))
    dx = np.exp(-net.bin_ms / np.asarray(net.input_taus))
    dh = np.exp(-net.bin_ms / np.asarray(net.history_taus))
    out = np.empty((nb, n, net.n_features))
    prev = np.zeros(n)
    for b in range(nb):  # one vectorised step per bin (training only)
        x = x * dx + inputs[b][:, :, None]
        h = h * dh + prev[:, None]
        out[b, :, :c * len(dx)] = x.reshape(n, -1)
        out[b, :, c * len(dx):] = h
        prev = np.minimum(spikes[b], 1.0)
    return out.reshape(nb * n, -1)


@numba.njit(cache=True)
def _mlp(f, W1, b1, W2, b2, W3, b3):
    a = np.maximum(f @ W1 + b1, 0.0)
    a = np.maximum(a @ W2 + b2, 0.0)
    return a @ W3 + b3


@numba.njit(cache=True)
def _run(inputs, x, h, s, v, refr, n_refr, dx, dh, mean, scale, S1, sb1, S2, sb2, S3, sb3, threshold,
         V1, vb1, V2, vb2, V3, vb3, vmean, vscale, vclip, want_v, soft, logits, spikes, vout):
    nb, n, c = inputs.shape
    nj, nh = dx.size, dh.size
    f = np.empty((n, c * nj + nh))
    for b in range(nb):
        for i in range(n):
            for k in range(c):
                for j in range(nj):
                    x[i, k, j] = x[i, k, j] * dx[j] + inputs[b, i, k]
                    f[i, k * nj + j] = (x[i, k, j] - mean[k * nj + j]) / scale[k * nj + j]
            for j in range(nh):
                h[i, j] = h[i, j] * dh[j] + s[i]
                f[i, c * nj + j] = (h[i, j] - mean[c * nj + j]) / scale[c * nj + j]
        z = _mlp(f, S1, sb1, S2, sb2, S3, sb3)
        for i in range(n):
            logits[b, i] = z[i, 0]
            if refr[i] > 0:
                refr[i] -= 1
                spikes[b, i] = False
            else:
                spikes[b, i] = z[i, 0] > threshold
                if spikes[b, i]:
                    refr[i] = n_refr
            if soft:
                s[i] = 1.0 / (1.0 + np.exp(-z[i, 0]))
            else:
                s[i] = 1.0 if spikes[b, i] else 0.0
        if want_v:
            y = _mlp(f, V1, vb1, V2, vb2, V3, vb3)
            for i in range(n):
                for m in range(y.shape[1]):
                    v[i, m] = min(y[i, m] * vscale[m] + vmean[m], vclip)
                    vout[b, i, m] = v[i, m]


def run_bins(net: SurrogateNetwork, state: InferenceState, inputs: np.ndarray, want_v: bool):
    """Advance ``state`` over ``inputs`` (bins, cells, channels; µS per bin), in place.
    Returns (logits (bins, cells), spikes (bins, cells) bool, v (bins, cells, locations) mV or
    None)."""
    nb, n = inputs.shape[:2]
    logits = np.empty((nb, n))
    spikes = np.zeros((nb, n), np.bool_)
    want_v = bool(want_v and net.v_layers)
    vout = np.empty((nb, n, len(net.v_locations) if want_v else 0))
    dx = np.exp(-net.bin_ms / np.asarray(net.input_taus, float))
    dh = np.exp(-net.bin_ms / np.asarray(net.history_taus, float))
    (S1, sb1), (S2, sb2), (S3, sb3) = net.spike_layers
    if want_v:
        (V1, vb1), (V2, vb2), (V3, vb3) = net.v_layers
        vmean, vscale = net.v_mean, net.v_scale
    else:  # typed placeholders: numba compiles one signature
        V1, vb1, V2, vb2, V3, vb3 = S1, sb1, S2, sb2, S3, sb3
        vmean = vscale = np.zeros(1)
    _run(np.ascontiguousarray(inputs, float), state.x, state.h, state.s, state.v, state.refractory,
         int(net.refractory_bins), dx, dh, net.feature_mean,
         net.feature_scale, S1, sb1, S2, sb2, S3, sb3, float(net.threshold), V1, vb1, V2, vb2, V3, vb3,
         vmean, vscale, float(net.v_clip), want_v, net.history == "probability", logits, spikes, vout)
    return logits, spikes, (vout if want_v else None)
