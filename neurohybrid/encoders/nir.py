"""Learned encoders loaded from NIR graphs (trained elsewhere: snnTorch, Norse, lava-dl export
NIR): an analog stimulus through the graph's linear maps into its spiking layers, window by
window, on the emulator (float) or in Loihi 2 fixed-point arithmetic (the Loihi path).

The graph is read by :func:`neurohybrid.mappings.nir_io.nir_encoder_layers` (the project's NIR
import, extended), which checks every primitive against the target and returns plain arrays;
:meth:`NIREncoder.parameters` flattens them into model-graph node parameters (``layers`` a JSON
list of ``{"op", "name", "keys"}``, arrays ``layer<i>.<key>``), so a NIR encoder is data like any
other node (hashed, saved in graph files).

Dynamics (NIR's equations in SI units, NIR parameters as stored; forward Euler with the
simulation step, as NIR's PyTorch importers discretise them; spikes between layers are Dirac
deltas, so a spike adds ``W / dt`` to the next layer's input for one tick):

- ``LIF``: ``tau dv/dt = (v_leak - v) + r I``; ``CubaLIF``: ``tau_syn dI_s/dt = -I_s + w_in I``,
  ``tau_mem dv/dt = (v_leak - v) + r I_s``; ``IF``: ``dv/dt = r I``; a spike when
  ``v > v_threshold``, then ``v = v_reset``; ``Threshold``: a spike in every tick with
  ``I >= threshold``.
- Target ``"loihi"``: each spiking layer becomes Loihi's CUBA compartment in integers (Lava's
  ``LIF`` fixed_pt rules: ``u = u (4096 - du) >> 12 + a_in``, ``v = v (4096 - dv) >> 12 + u``,
  spike when ``v > vth``, ``v = 0``; 24-bit saturation), with ``du = round(4096 dt / tau_syn)``
  (4096 for LIF and IF), ``dv = round(4096 dt / tau_mem)`` (0 for IF), voltages scaled so the
  largest threshold is 2**17, spike-driven weights quantised to 8-bit mantissas with one
  exponent per layer, and the analog input rounded to integers every tick (what the host
  sends as graded input). Loihi resets v to 0: ``v_reset`` must equal ``v_leak``.

Stimulus: [time, *input_shape] in units ``"1"`` (the units the network was trained on), held
for its ``sampling_period`` (ms); silence (zeros) after its end. Channels: the neurons of the
last spiking layer.
"""
from __future__ import annotations

import json

import numpy as np
from numba import njit

from neurohybrid.errors import ParameterError, UnsupportedModelError

from .base import Encoder, _as_str

__all__ = ["NIREncoder"]

_LIF, _CUBA, _IF, _THRESHOLD = 0, 1, 2, 3
_OPS = {"LIF": _LIF, "CubaLIF": _CUBA, "IF": _IF, "Threshold": _THRESHOLD}
_V_MAX = 2 ** 23 - 1  # Loihi's 24-bit state


@njit(cache=True)
def _float_layer(current, kind, dt, v, isyn, tau, tau_syn, r, v_leak, vth, v_reset, w_in):
    """Spike counts (0/1) [n, m] of one spiking layer driven by ``current`` [n, m] (A); ``v``,
    ``isyn`` updated in place (forward Euler, step ``dt`` seconds)."""
    n, m = current.shape
    out = np.zeros((n, m), np.uint16)
    for j in range(n):
        for i in range(m):
            c = current[j, i]
            if kind == _THRESHOLD:
                out[j, i] = 1 if c >= vth[i] else 0
                continue
            if kind == _CUBA:
                isyn[i] += dt / tau_syn[i] * (w_in[i] * c - isyn[i])
                c = isyn[i]
            if kind == _IF:
                v[i] += dt * r[i] * c
            else:
                v[i] += dt / tau[i] * (v_leak[i] - v[i] + r[i] * c)
            if v[i] > vth[i]:
                out[j, i] = 1
                v[i] = v_reset[i]
    return out


@njit(cache=True)
def _decay(x, d):
    """Lava's fixed-point decay: sign(x) * ((|x| * (4096 - d)) >> 12)."""
    y = (abs(x) * (4096 - d)) >> 12
    return -y if x < 0 else y


@njit(cache=True)
def _loihi_layer(a_in, u, v, du, dv, vth):
    """Spike counts (0/1) [n, m] of a Loihi CUBA layer driven by integer input ``a_in`` [n, m];
    ``u``, ``v`` (int64) updated in place."""
    n, m = a_in.shape
    out = np.zeros((n, m), np.uint16)
    for j in range(n):
        for i in range(m):
            u[i] = min(max(_decay(u[i], du[i]) + a_in[j, i], -_V_MAX), _V_MAX)
            v[i] = min(max(_decay(v[i], dv[i]) + u[i], -_V_MAX), _V_MAX)
            if v[i] > vth[i]:
                out[j, i] = 1
                v[i] = 0
    return out


def _mantissa(w: np.ndarray) -> np.ndarray:
    """Integer weights as Loihi stores them: 8-bit mantissas times one power-of-two exponent."""
    top = float(np.abs(w).max()) if w.size else 0.0
    exp = max(0, int(np.ceil(np.log2(top / 255.0)))) if top > 255 else 0
    return np.clip(np.rint(w / 2.0 ** exp), -256, 255).astype(np.int64) << exp


class NIREncoder(Encoder):
    """A learned encoder from a NIR graph; see the module docstring.

    Parameters (units): ``stimulus`` [time, *input_shape] (units "1"), ``sampling_period`` (ms),
    ``target`` ("emulator" or "loihi"), and the layers: either ``nir`` (a NIR file path or a
    ``nir.NIRGraph``, read when the encoder is built) or the flattened ``layers`` / ``layer<i>.<key>``
    / ``input_shape`` that :meth:`parameters` returns (what a model graph stores).
    """

    units_accepted = ("1",)
    stimulus_ndim = 2
    after_end = "zero"
    defaults = {"target": "emulator", "nir": None, "layers": None, "input_shape": None}

    @staticmethod
    def parameters(nir_graph, target: str = "emulator") -> dict:
        """Model-graph parameters of the encoder in ``nir_graph`` (a path or a ``nir.NIRGraph``) for
        ``target``: ``layers`` (JSON), ``layer<i>.<key>`` arrays, ``input_shape``, ``target``."""
        from neurohybrid.mappings.nir_io import nir_encoder_layers
        spec = nir_encoder_layers(nir_graph, target)
        out = {"target": target, "input_shape": np.asarray(spec["input_shape"], dtype=float)}
        index = []
        for i, layer in enumerate(spec["layers"]):
            keys = [k for k in layer if k not in ("op", "name")]
            index.append({"op": layer["op"], "name": layer["name"], "keys": keys})
            out.update({f"layer{i}.{k}": np.asarray(layer[k], dtype=float) for k in keys})
        out["layers"] = json.dumps(index)
        return out

    def __init__(self, params: dict, key, dt: float):
        params = dict(params)
        if params.get("nir") is not None:
            nir_graph = params.pop("nir")
            target = _as_str(params.get("target", "emulator"))
            params.update(self.parameters(nir_graph, target))
        self._layer_arrays = {k: params.pop(k) for k in list(params) if k.startswith("layer") and "." in k}
        shape = params.get("input_shape")
        self.stimulus_ndim = 1 + (np.size(shape) if shape is not None else 1)
        super().__init__(params, key, dt)

    def _expected_frame(self, p: dict):
        return p.get("input_shape")

    @property
    def frame_shape(self) -> tuple:
        return tuple(int(x) for x in np.ravel(self.p["input_shape"]))

    def _configure(self) -> None:
        if self.p["layers"] is None or self.p["input_shape"] is None:
            raise ParameterError(self, "nir", "no NIR graph", "nir=<path or nir.NIRGraph>")
        self.target = self._choice("target", ("emulator", "loihi"))
        index = json.loads(_as_str(self.p["layers"]))
        self.layers = []
        for i, entry in enumerate(index):
            arrays = {k: np.asarray(self._layer_arrays[f"layer{i}.{k}"], dtype=float) for k in entry["keys"]}
            self.layers.append({"op": entry["op"], "name": entry["name"], **arrays})
        if self.target == "loihi":
            self._quantise()
        last = self.layers[-1]
        self.n = int(np.size(last["v_threshold"]))

    def _quantise(self) -> None:
        """Loihi registers of each spiking layer (see the module docstring)."""
        dt_s = self.dt / 1000.0
        for q in range(1, len(self.layers), 2):
            lin, neu = self.layers[q - 1], self.layers[q]
            op, m = neu["op"], neu["v_threshold"].size
            if op == "Threshold":
                raise UnsupportedModelError(f"NIR node {neu['name']!r}", "type", "primitive Threshold has no form "
                                            "on the loihi engine", "LIF, CubaLIF, IF")
            v_leak = neu.get("v_leak", np.zeros(m))
            if op != "IF" and np.any(neu["v_reset"] != v_leak):
                raise UnsupportedModelError(f"NIR node {neu['name']!r}", "v_reset", "differs from v_leak; Loihi "
                                            "resets v to its rest value", "v_reset == v_leak on the loihi engine")
            theta = neu["v_threshold"] - v_leak
            if np.any(theta <= 0):
                raise ParameterError(f"NIR node {neu['name']!r}", "v_threshold", "not above v_leak", "v_threshold > v_leak")
            scale = 2.0 ** 17 / float(theta.max())
            tau_m = neu.get("tau_mem", neu.get("tau"))
            if op == "IF":
                gain, dv, du = scale * dt_s * neu["r"], np.zeros(m), np.full(m, 4096.0)
            elif op == "LIF":
                gain, dv, du = scale * dt_s / tau_m * neu["r"], np.rint(4096 * dt_s / tau_m), np.full(m, 4096.0)
            else:
                gain = scale * dt_s / tau_m * neu["r"] * dt_s / neu["tau_syn"] * neu["w_in"]
                dv, du = np.rint(4096 * dt_s / tau_m), np.rint(4096 * dt_s / neu["tau_syn"])
            neu.update(gain=gain, du=du.astype(np.int64), dv=dv.astype(np.int64),
                       vth=np.rint(theta * scale).astype(np.int64))
            if q > 1:  # spike-driven: a spike adds W / dt for one tick -> integer weights
                lin["weight_q"] = _mantissa(gain[:, None] * lin["weight"] / dt_s)
                lin["bias_q"] = np.rint(gain * lin["bias"]).astype(np.int64)

    def _reset_state(self) -> None:
        self._v = [np.array(layer.get("v_leak", np.zeros(layer["v_threshold"].size)), dtype=float)
                   if self.target == "emulator" else np.zeros(layer["v_threshold"].size, np.int64)
                   for layer in self.layers[1::2]]
        self._u = [np.zeros(layer["v_threshold"].size, np.float64 if self.target == "emulator" else np.int64)
                   for layer in self.layers[1::2]]

    def state(self) -> dict:
        """``pos``, ``late`` and each spiking layer's ``v<i>``, ``u<i>`` (synaptic current)."""
        out = {"pos": int(self._pos), "late": int(self.late)}
        for i, (v, u) in enumerate(zip(self._v, self._u)):
            out[f"v{i}"], out[f"u{i}"] = v.copy(), u.copy()
        return out

    def restore(self, state: dict) -> None:
        want = {"pos", "late", *(f"{x}{i}" for i in range(len(self._v)) for x in "vu")}
        if not isinstance(state, dict) or set(state) != want:
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ParameterError(self, "state", f"has entries {got}", f"the entries {sorted(want)} of state()")
        self._v = [np.array(state[f"v{i}"], dtype=v.dtype) for i, v in enumerate(self._v)]
        self._u = [np.array(state[f"u{i}"], dtype=u.dtype) for i, u in enumerate(self._u)]
        self._pos, self.late = int(state["pos"]), int(state["late"])

    def _advance(self, k0: int, n: int) -> np.ndarray:
        frames = self.frame_of_ticks(k0, n)
        uniq, which = np.unique(frames, return_inverse=True)
        x = self._sample_rows(uniq).reshape(uniq.size, -1)
        first = self.layers[0]
        current = (x @ first["weight"].T + first["bias"])[which]  # analog drive, held per frame
        dt_s = self.dt / 1000.0
        spikes = None
        for q in range(1, len(self.layers), 2):
            lin, neu, s = self.layers[q - 1], self.layers[q], q // 2
            if self.target == "emulator":
                if q > 1:
                    current = spikes.astype(float) @ lin["weight"].T / dt_s + lin["bias"]
                m = neu["v_threshold"].size
                ones = np.ones(m)
                tau = neu.get("tau", neu.get("tau_mem", ones))
                spikes = _float_layer(current, _OPS[neu["op"]], dt_s, self._v[s], self._u[s], tau,
                                      neu.get("tau_syn", ones), neu.get("r", ones), neu.get("v_leak", ones * 0),
                                      neu["v_threshold"], neu.get("v_reset", ones * 0), neu.get("w_in", ones))
            else:
                if q == 1:
                    a_in = np.rint(current * neu["gain"]).astype(np.int64)
                else:
                    a_in = spikes.astype(np.int64) @ lin["weight_q"].T + lin["bias_q"]
                spikes = _loihi_layer(a_in, self._u[s], self._v[s], neu["du"], neu["dv"], neu["vth"])
        return spikes
