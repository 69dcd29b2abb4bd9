"""Structural connectome: coupling weights, tract lengths (mm), region labels and centres (mm).

Convention (TVB's): ``weights[i, j]`` is the strength of the connection FROM region j TO region i,
exactly as stored in TVB's ``weights.txt``; ``lengths[i, j]`` the tract length in mm.
"""
from __future__ import annotations

import io
import os
import zipfile

import numpy as np

from neurohybrid.errors import ParameterError, UnknownParameterError


class Connectome:
    """Region connectome.

    Parameters
    ----------
    weights : (n, n) array, dimensionless, >= 0, finite; ``weights[i, j]`` is j -> i.
    lengths : (n, n) array, tract lengths in mm, >= 0, finite.
    labels : n region names (default ``"r0"``, ``"r1"``, ...), unique.
    centres : optional (n, 3) array, region centres in mm.
    """

    def __init__(self, weights, lengths, labels=None, centres=None, name: str = "Connectome"):
        self.name = name
        w = np.array(weights, dtype=float)
        L = np.array(lengths, dtype=float)
        for pname, a in (("weights", w), ("lengths", L)):
            if a.ndim != 2 or a.shape[0] != a.shape[1]:
                raise ParameterError(name, pname, f"shape {a.shape} is not square", "an (n, n) array")
            if not np.all(np.isfinite(a)):
                raise ParameterError(name, pname, "contains NaN or inf", "finite values")
            if np.any(a < 0):
                raise ParameterError(name, pname, f"contains negative values (min {a.min()})", "values >= 0")
        if w.shape != L.shape:
            raise ParameterError(name, "lengths", f"shape {L.shape} differs from weights' {w.shape}",
                                 "the same (n, n) shape as weights")
        n = w.shape[0]
        if n == 0:
            raise ParameterError(name, "weights", "empty connectome", "at least one region")
        if labels is None:
            labels = [f"r{i}" for i in range(n)]
        labels = [str(s) for s in labels]
        if len(labels) != n:
            raise ParameterError(name, "labels", f"{len(labels)} labels for {n} regions", "one label per region")
        if len(set(labels)) != n:
            raise ParameterError(name, "labels", "duplicate region labels", "unique labels")
        if centres is not None:
            centres = np.array(centres, dtype=float)
            if centres.shape != (n, 3):
                raise ParameterError(name, "centres", f"shape {centres.shape}", f"({n}, 3) in mm")
        self.weights, self.lengths, self.labels, self.centres = w, L, labels, centres

    @property
    def n_regions(self) -> int:
        return self.weights.shape[0]

    def index(self, label: str) -> int:
        """Index of a region by label; raises UnknownParameterError naming the accepted labels."""
        try:
            return self.labels.index(label)
        except ValueError:
            raise UnknownParameterError(self.name, f"region {label!r}", self.labels) from None

    def delays(self, speed: float) -> np.ndarray:
        """Conduction delays in ms for a speed in mm/ms (= m/s)."""
        if not (np.isfinite(speed) and speed > 0):
            raise ParameterError(self.name, "speed", f"{speed!r}", "a finite speed > 0 in mm/ms")
        return self.lengths / float(speed)

    def idelays(self, speed: float, dt: float) -> np.ndarray:
        """Delays in whole integration steps, as TVB: ``rint(lengths / speed / dt)``."""
        return np.rint(self.delays(speed) / dt).astype(np.int64)

    # ---------------------------------------------------------------- constructors
    @classmethod
    def from_tvb_zip(cls, path) -> "Connectome":
        """Read a TVB connectivity zip (weights.txt, tract_lengths.txt, centres.txt with
        ``label x y z`` rows). Missing file or member -> ParameterError naming it."""
        path = os.fspath(path)
        name = f"Connectome({os.path.basename(path)!r})"
        if not os.path.isfile(path):
            raise ParameterError("Connectome.from_tvb_zip", "path", f"no such file {path!r}",
                                 "a TVB connectivity .zip")
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise ParameterError("Connectome.from_tvb_zip", "path", f"{path!r} is not a zip ({exc})",
                                 "a TVB connectivity .zip") from None
        with zf:
            members = {os.path.basename(m): m for m in zf.namelist()}

            def read(member):
                if member not in members:
                    raise ParameterError(name, member, "missing from the zip", ", ".join(sorted(members)))
                return zf.read(members[member]).decode()

            w = np.loadtxt(io.StringIO(read("weights.txt")))
            L = np.loadtxt(io.StringIO(read("tract_lengths.txt")))
            labels, centres = [], []
            for line in read("centres.txt").splitlines():
                parts = line.split()
                if len(parts) >= 4:
                    labels.append(parts[0])
                    centres.append([float(v) for v in parts[1:4]])
        return cls(w, L, labels, np.array(centres) if centres else None, name=name)

    @classmethod
    def default_76(cls, path=None) -> "Connectome":
        """TVB's 76-region connectome (tvb-data ``connectivity_76.zip``): from ``path`` if given,
        else from the installed ``tvb_data`` package."""
        if path is None:
            try:
                import tvb_data  # optional: not installed in the main venv
            except ImportError:
                raise ParameterError("Connectome.default_76", "path",
                                     "tvb_data is not importable and no path was given",
                                     "path to connectivity_76.zip, or tvb-data installed") from None
            path = os.path.join(os.path.dirname(tvb_data.__file__), "connectivity", "connectivity_76.zip")
        return cls.from_tvb_zip(path)

    @classmethod
    def synthetic(cls, n: int = 8, seed: int = 0, max_length: float = 120.0) -> "Connectome":
        """Small random connectome for tests: weights in [0, 1) with ~50 % zeros and an empty
        diagonal, symmetric lengths in (10, max_length) mm."""
        rng = np.random.default_rng(seed)
        w = rng.random((n, n)) * (rng.random((n, n)) < 0.5)
        np.fill_diagonal(w, 0.0)
        L = rng.uniform(10.0, max_length, (n, n))
        L = (L + L.T) / 2
        np.fill_diagonal(L, 0.0)
        return cls(w, L, [f"R{i}" for i in range(n)], rng.uniform(-50, 50, (n, 3)), name=f"synthetic{n}")

    def __repr__(self) -> str:
        return f"{self.name}(n_regions={self.n_regions})"
