"""Connectors that PyNN declares but does not implement generically.

PyNN 0.13's ``SmallWorldConnector.connect`` raises NotImplementedError in every backend but
NEST's native one; neurohybrid implements it (Watts & Strogatz 1998 on the cells' positions).
"""
from __future__ import annotations

import numpy as np
from pyNN import connectors


class SmallWorldConnector(connectors.SmallWorldConnector, connectors.MapConnector):
    """Small-world connectivity: every pair closer than ``degree`` (in the projection's space)
    is connected, then each connection is rewired, with probability ``rewiring``, to a
    presynaptic cell drawn uniformly at random (self-connections excluded unless allowed).
    With ``n_connections`` set, each postsynaptic cell instead keeps its ``n_connections``
    nearest presynaptic cells before rewiring."""

    def connect(self, projection):
        n_pre = projection.pre.size
        distance_map = self._generate_distance_map(projection)
        same = projection.pre == projection.post

        def sources(mask=None):
            for col in range(projection.post.size):
                d = np.asarray(distance_map[:, col], dtype=float)
                if self.n_connections is not None:
                    order = np.argsort(d, kind="stable")
                    if same and not self.allow_self_connections:
                        order = order[order != col]
                    chosen = order[: self.n_connections]
                else:
                    chosen = np.nonzero(d < float(self.d_expression.split("<")[1]))[0]
                    if same and not self.allow_self_connections:
                        chosen = chosen[chosen != col]
                rewire = self.rng.next(chosen.size, "uniform", {"low": 0.0, "high": 1.0}) < self.rewiring
                if rewire.any():
                    replacement = self.rng.next(int(rewire.sum()), "uniform_int", {"low": 0, "high": n_pre})
                    if same and not self.allow_self_connections:
                        clash = replacement == col
                        replacement[clash] = (replacement[clash] + 1) % n_pre
                    chosen = chosen.copy()
                    chosen[rewire] = replacement
                yield np.sort(np.atleast_1d(chosen).astype(int))

        self._standard_connect(projection, sources, distance_map)
