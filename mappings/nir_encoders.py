"""Learned sensory encoders from NIR (:func:`nir_encoder_layers`).

A sensory encoder trained elsewhere (snnTorch, Norse, lava-dl export NIR) takes an *analog*
stimulus: ``Input -> (Affine|Linear|Conv2d|Flatten|Scale|pooling)* -> spiking layer -> ... ->
Output``. :func:`nir_encoder_layers` reads such a chain into plain arrays (linear maps as dense
matrices, convolutions unrolled) for :class:`neurohybrid.encoders.NIREncoder`, checking each
primitive against the target: ``"emulator"`` (float) runs every primitive of
:data:`ENCODER_PRIMITIVES`; ``"loihi"`` (Loihi 2 fixed-point arithmetic) runs the linear maps and
CubaLIF/LIF/IF neurons (Loihi's CUBA compartment), not ``Threshold`` (a stateless Heaviside). A
primitive outside the target's list is an UnsupportedModelError naming the node and primitive.
"""
from __future__ import annotations

import numpy as np

from neurohybrid.errors import ParameterError, UnsupportedModelError

_LINEAR_OPS = ("Affine", "Linear", "Conv2d", "Flatten", "Scale", "SumPool2d", "AvgPool2d")
_NEURON_OPS = ("LIF", "CubaLIF", "IF", "Threshold")
#: the NIR primitives an encoder may use on each target (besides Input and Output)
ENCODER_PRIMITIVES = {"emulator": _LINEAR_OPS + _NEURON_OPS,
                      "loihi": _LINEAR_OPS + ("LIF", "CubaLIF", "IF")}


def _conv2d_matrix(node, shape: tuple) -> tuple[np.ndarray, np.ndarray, tuple]:
    """A NIR Conv2d (or pooling) on inputs of ``shape`` (C, H, W) as a dense matrix, its bias and
    its output shape (O, H', W')."""
    from .nir_io import _nir  # nir_io re-exports this module: imported on use
    nir = _nir()
    C, H, W = shape
    if isinstance(node, nir.Conv2d):
        weight = np.asarray(node.weight, float)
        if int(np.asarray(node.groups).ravel()[0]) != 1:
            raise UnsupportedModelError("NIR Conv2d", "groups", f"{node.groups}", "groups = 1")
        stride, pad, dil = (np.broadcast_to(np.asarray(v, dtype=int).ravel(), (2,))
                            for v in (node.stride, node.padding, node.dilation))
        bias = np.broadcast_to(np.asarray(node.bias if node.bias is not None else 0.0, float), (weight.shape[0],))
    else:  # SumPool2d / AvgPool2d: one kernel of ones per channel
        k = np.broadcast_to(np.asarray(node.kernel_size, dtype=int).ravel(), (2,))
        stride = np.broadcast_to(np.asarray(node.stride, dtype=int).ravel(), (2,))
        pad, dil = np.broadcast_to(np.asarray(node.padding, dtype=int).ravel(), (2,)), np.ones(2, int)
        weight = np.zeros((C, C, k[0], k[1]))
        weight[np.arange(C), np.arange(C)] = 1.0 / (k[0] * k[1]) if isinstance(node, nir.AvgPool2d) else 1.0
        bias = np.zeros(C)
    O, Ci, kh, kw = weight.shape
    if Ci != C:
        raise ParameterError("NIR Conv2d", "weight", f"takes {Ci} channels, its input has {C}", f"{C}")
    Ho = (H + 2 * pad[0] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    Wo = (W + 2 * pad[1] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    M = np.zeros((O, Ho, Wo, C, H, W))
    for i in range(kh):
        for j in range(kw):
            ys = np.arange(Ho) * stride[0] - pad[0] + i * dil[0]
            xs = np.arange(Wo) * stride[1] - pad[1] + j * dil[1]
            oy, ox = np.flatnonzero((ys >= 0) & (ys < H)), np.flatnonzero((xs >= 0) & (xs < W))
            for c in range(C):
                M[:, oy[:, None], ox[None, :], c, ys[oy][:, None], xs[ox][None, :]] += weight[:, c, i, j][:, None, None]
    bias_full = np.repeat(bias, Ho * Wo)
    return M.reshape(O * Ho * Wo, C * H * W), bias_full, (O, Ho, Wo)


def nir_encoder_layers(path_or_graph, target: str = "emulator") -> dict:
    """The layers of a learned NIR encoder as plain data (see the module docstring).

    Returns ``{"input_shape": array, "layers": [{"op": ..., "name": ..., arrays...}, ...]}``
    where consecutive linear primitives are folded into one ``"linear"`` layer (``weight``
    [out, in], ``bias`` [out], in SI units as NIR states them) and each spiking layer is
    ``{"op": "LIF"|"CubaLIF"|"IF"|"Threshold", parameters as arrays of the layer size}``.
    UnsupportedModelError names a node whose primitive the target lacks, or a graph that is not
    one chain from Input to Output; ParameterError a file that cannot be read or shapes that
    do not fit.
    """
    from .nir_io import _nir, _successors, read_nir  # nir_io re-exports this module: imported on use
    nir = _nir()
    if target not in ENCODER_PRIMITIVES:
        raise ParameterError("nir_encoder_layers", "target", f"{target!r}", ", ".join(ENCODER_PRIMITIVES))
    graph = read_nir(path_or_graph)
    allowed = ENCODER_PRIMITIVES[target]
    for name, node in graph.nodes.items():
        kind = type(node).__name__
        if kind not in ("Input", "Output") and kind not in allowed:
            raise UnsupportedModelError(f"NIR node {name!r}", "type",
                                        f"primitive {kind} has no form on the {target} engine",
                                        ", ".join(("Input", "Output") + allowed))
    succ = _successors(graph)
    inputs = [n for n, node in graph.nodes.items() if isinstance(node, nir.Input)]
    if len(inputs) != 1:
        raise UnsupportedModelError("NIR graph", "nodes", f"{len(inputs)} Input nodes", "one Input (the stimulus)")
    shape = tuple(int(x) for x in np.asarray(graph.nodes[inputs[0]].input_type["input"]).ravel())
    layers, pending, name = [], None, inputs[0]
    size = int(np.prod(shape))
    while True:
        nxt = succ[name]
        if len(nxt) != 1:
            raise UnsupportedModelError(f"NIR node {name!r}", "edges", f"has {len(nxt)} successors",
                                        "one chain Input -> ... -> Output")
        name = nxt[0]
        node = graph.nodes[name]
        kind = type(node).__name__
        if kind == "Output":
            break
        if kind in _LINEAR_OPS:
            if kind == "Flatten":
                shape = (int(np.prod(shape)),)
                continue
            if kind in ("Conv2d", "SumPool2d", "AvgPool2d"):
                if len(shape) != 3:
                    raise ParameterError(f"NIR node {name!r}", "input_shape", f"{shape}", "(channels, rows, cols)")
                W, b, shape = _conv2d_matrix(node, shape)
            elif kind == "Scale":
                W, b = np.diag(np.broadcast_to(np.asarray(node.scale, float).ravel(), (size,))), np.zeros(size)
            else:
                W = np.asarray(node.weight, float)
                b = np.broadcast_to(np.asarray(getattr(node, "bias", 0.0), float), (W.shape[0],))
                if W.ndim != 2 or W.shape[1] != size:
                    raise ParameterError(f"NIR node {name!r}", "weight", f"has shape {W.shape}",
                                         f"(n_out, {size}) for its input of {size} values")
                shape = (W.shape[0],)
            pending = (W, np.array(b)) if pending is None else (W @ pending[0], W @ pending[1] + b)
            size = int(np.prod(shape))
            continue
        if pending is None:
            pending = (np.eye(size), np.zeros(size))
        layers.append({"op": "linear", "name": name + ".in", "weight": pending[0], "bias": pending[1]})
        pending = None
        n = size

        def arr(value, default=0.0):
            return np.array(np.broadcast_to(np.asarray(default if value is None else value, float).ravel(), (n,)))

        if kind == "LIF":
            layer = {"tau": arr(node.tau), "r": arr(node.r), "v_leak": arr(node.v_leak),
                     "v_threshold": arr(node.v_threshold), "v_reset": arr(node.v_reset)}
        elif kind == "CubaLIF":
            layer = {"tau_syn": arr(node.tau_syn), "tau_mem": arr(node.tau_mem), "r": arr(node.r),
                     "v_leak": arr(node.v_leak), "v_threshold": arr(node.v_threshold), "v_reset": arr(node.v_reset),
                     "w_in": arr(node.w_in, 1.0)}
        elif kind == "IF":
            layer = {"r": arr(node.r), "v_threshold": arr(node.v_threshold), "v_reset": arr(node.v_reset)}
        else:
            layer = {"v_threshold": arr(node.threshold)}
        layers.append({"op": kind, "name": name, **layer})
    if pending is not None:
        raise UnsupportedModelError(f"NIR node {name!r}", "edges", "the chain ends in an analog (linear) layer",
                                    "a spiking layer (LIF, CubaLIF, IF, Threshold) before the Output")
    if not layers:
        raise UnsupportedModelError("NIR graph", "nodes", "no spiking layer", "at least one LIF/CubaLIF/IF layer")
    return {"input_shape": np.asarray(graph.nodes[inputs[0]].input_type["input"]).ravel(), "layers": layers}
