"""The surrogate file (``.nhs``): one versioned HDF5 file holding everything a surrogate is.

* ``format`` = ``"neurohybrid-surrogate"``, ``version`` (:data:`FORMAT_VERSION`);
* the **port contract**: input channels (``receptor`` or ``receptor@location``, µS per bin),
  outputs (``spikes`` and ``<location>.v``), the bin (ms);
* the **input distribution** it was trained on (:class:`.inputs.InputDistribution`, exactly);
* the **model hash** of the biophysical module it replaces (:func:`.recording.model_hash`) and
  a description of that module;
* the **weights** (:class:`.network.SurrogateNetwork`) and the **training metrics**
  (held-out AUC, coincidence factor, explained variance, ...).

:func:`load` refuses a file that is not one (truncated, another format or version) with a
:class:`~neurohybrid.errors.SurrogateFileError`; :meth:`Surrogate.check_against` refuses a
population whose input channels the surrogate does not have and warns when the population's
model hash differs from the one it was trained on.
"""
from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..errors import ParameterError, SurrogateFileError, UnsupportedModelError
from .inputs import InputDistribution
from .network import SurrogateNetwork

__all__ = ["Surrogate", "load", "save", "FORMAT", "FORMAT_VERSION", "ModelHashWarning"]

FORMAT = "neurohybrid-surrogate"
FORMAT_VERSION = 1


class ModelHashWarning(UserWarning):
    """A surrogate is used for a biophysical model other than the one it was trained on."""


@dataclass
class Surrogate:
    """A trained surrogate (see the module docstring). ``path``: where it was loaded from."""

    network: SurrogateNetwork
    distribution: InputDistribution
    model_hash: str
    model: dict
    metrics: dict = field(default_factory=dict)
    path: str | None = None

    @property
    def channels(self) -> list[str]:
        """Input channels, in order (the port contract)."""
        return list(self.network.channels)

    @property
    def outputs(self) -> list[str]:
        """Output ports: ``spikes`` and one ``<location>.v`` per voltage it predicts."""
        return ["spikes"] + [f"{loc}.v" for loc in self.network.v_locations]

    def describe(self) -> dict:
        """JSON-able summary (for the graph's content hash and the manifest)."""
        return {"format": FORMAT, "version": FORMAT_VERSION, "channels": self.channels, "outputs": self.outputs,
                "bin_ms": self.network.bin_ms, "model_hash": self.model_hash, "path": self.path,
                "weights_sha256": self.weights_hash()}

    def weights_hash(self) -> str:
        """SHA-256 of every weight array."""
        import hashlib
        h = hashlib.sha256()
        for W, b in [*self.network.spike_layers, *self.network.v_layers]:
            h.update(np.ascontiguousarray(W).tobytes())
            h.update(np.ascontiguousarray(b).tobytes())
        return h.hexdigest()

    def check_against(self, population: str, channels: list[str], model_hash: str | None,
                      variables=()) -> None:
        """Refuse input channels (``receptor`` or ``receptor@location``) or recorded variables
        the surrogate does not have (UnsupportedModelError naming the population); warn
        (:class:`ModelHashWarning`) when ``model_hash`` is not the one it was trained on."""
        owner = f"Population({population})"
        missing = [c for c in channels if c not in self.network.channels]
        if missing:
            raise UnsupportedModelError(owner, "surrogate", f"{self.path or 'the surrogate'} has no input channel "
                                        f"{', '.join(map(repr, missing))}", "projections onto its channels: "
                                        + ", ".join(self.network.channels))
        bad = [v for v in variables if v != "spikes" and v not in self.outputs and
               not (v == "v" and "soma.v" in self.outputs)]
        if bad:
            raise UnsupportedModelError(owner, "record", f"the surrogate predicts no {', '.join(map(repr, bad))}",
                                        ", ".join(self.outputs))
        if model_hash is not None and model_hash != self.model_hash:
            warnings.warn(f"{owner}: the surrogate {self.path or ''} was trained on the biophysical model "
                          f"{self.model_hash[:12]}, this population's model is {model_hash[:12]}",
                          ModelHashWarning, stacklevel=3)


def save(surrogate: Surrogate, path) -> str:
    """Write ``surrogate`` to ``path`` (the ``.nhs`` HDF5 format); returns the path."""
    import h5py
    net = surrogate.network
    path = os.fspath(path)
    with h5py.File(path, "w") as f:
        f.attrs["format"], f.attrs["version"] = FORMAT, FORMAT_VERSION
        meta = {"channels": list(net.channels), "outputs": surrogate.outputs, "bin_ms": net.bin_ms,
                "v_locations": list(net.v_locations), "threshold": float(net.threshold),
                "v_clip": float(net.v_clip), "v_rest": float(net.v_rest), "history": net.history,
                "refractory_bins": int(net.refractory_bins),
                "model_hash": surrogate.model_hash, "model": surrogate.model,
                "input_distribution": surrogate.distribution.describe(), "metrics": surrogate.metrics}
        f.attrs["contract"] = json.dumps(meta, sort_keys=True, default=float)
        g = f.create_group("weights")
        for name in ("input_taus", "history_taus", "feature_mean", "feature_scale"):
            g[name] = np.asarray(getattr(net, name), float)
        for head, layers in (("spike", net.spike_layers), ("v", net.v_layers)):
            for k, (W, b) in enumerate(layers):
                g[f"{head}_W{k}"], g[f"{head}_b{k}"] = W, b
        if net.v_layers:
            g["v_mean"], g["v_scale"] = net.v_mean, net.v_scale
    return path


def load(path) -> Surrogate:
    """Read a surrogate file (SurrogateFileError naming the file and what is wrong)."""
    import h5py
    path = os.fspath(path)
    owner = f"surrogate file {path}"
    if not os.path.exists(path):
        raise SurrogateFileError(owner, "path", "does not exist", "a .nhs file written by neurohybrid.surrogate")
    try:
        with h5py.File(path, "r") as f:
            fmt, version = f.attrs.get("format"), f.attrs.get("version")
            if fmt != FORMAT:
                raise SurrogateFileError(owner, "format", f"{fmt!r}", repr(FORMAT))
            if version != FORMAT_VERSION:
                raise SurrogateFileError(owner, "version", f"format version {version!r}",
                                         f"version {FORMAT_VERSION} (retrain or convert the surrogate)")
            meta = json.loads(f.attrs["contract"])
            g = f["weights"]
            arrays = {k: np.asarray(g[k][()], float) for k in g}
    except SurrogateFileError:
        raise
    except (OSError, KeyError, ValueError) as exc:
        raise SurrogateFileError(owner, "contents", f"cannot be read ({exc})",
                                 "a complete .nhs file (truncated or not HDF5?)") from None
    try:
        net = _network(meta, arrays)
        net.check(owner)
        dist = InputDistribution.from_description(meta["input_distribution"])
    except (KeyError, TypeError, ParameterError) as exc:
        raise SurrogateFileError(owner, "contents", f"is incomplete or inconsistent ({exc})",
                                 "a file written by neurohybrid.surrogate.save") from None
    return Surrogate(net, dist, meta["model_hash"], meta.get("model", {}), meta.get("metrics", {}), path)


def _layers(arrays: dict, head: str) -> list:
    out, k = [], 0
    while f"{head}_W{k}" in arrays:
        out.append((np.ascontiguousarray(arrays[f"{head}_W{k}"]), np.ascontiguousarray(arrays[f"{head}_b{k}"])))
        k += 1
    return out


def _network(meta: dict, arrays: dict) -> SurrogateNetwork:
    v_layers = _layers(arrays, "v")
    return SurrogateNetwork(
        bin_ms=float(meta["bin_ms"]), channels=list(meta["channels"]), input_taus=arrays["input_taus"],
        history_taus=arrays["history_taus"], feature_mean=arrays["feature_mean"],
        feature_scale=arrays["feature_scale"], spike_layers=_layers(arrays, "spike"),
        threshold=float(meta["threshold"]), v_locations=list(meta["v_locations"]), v_layers=v_layers,
        v_mean=arrays.get("v_mean"), v_scale=arrays.get("v_scale"), v_clip=float(meta["v_clip"]),
        v_rest=float(meta["v_rest"]), history=str(meta["history"]),
        refractory_bins=int(meta["refractory_bins"]))
