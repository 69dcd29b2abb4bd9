"""Projection of the neurohybrid PyNN backend.

Connections are generated once, at construction, by PyNN's own connector code (so every
standard connector keeps its PyNN semantics), seeded from the model's global seed when the
user gave no seed, and stored as flat arrays: presynaptic index, postsynaptic index, and one
array per synapse parameter (weight in nA/µS/mV, delay in ms, ...). The engine builds its
delivery tables from these arrays.
"""
from __future__ import annotations

import warnings

import numpy as np
from pyNN import common
from lazyarray import larray as LazyArray
from pyNN.random import NumpyRNG, RandomDistribution
from pyNN.space import Space

from ..errors import DelayError, DelayRoundingWarning, ParameterError, ProjectionError, RecordingError
from ..graph.synapses import check_edge, is_plastic
from ..rng import stream_key
from . import simulator
from .standardmodels import StaticSynapse


class Connection(common.Connection):
    """One connection of a projection, a view onto the projection's arrays."""

    def __init__(self, projection, index):
        self._projection, self._index = projection, index

    @property
    def presynaptic_index(self):
        return int(self._projection._pre[self._index])

    @property
    def postsynaptic_index(self):
        return int(self._projection._post[self._index])

    def __getattr__(self, name):
        values = self.__dict__["_projection"]._values
        if name in values:
            return float(values[name][self.__dict__["_index"]])
        raise AttributeError(name)

    def __setattr__(self, name, value):
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        prj = self._projection
        if name not in prj._values:
            raise ParameterError(prj, name, "no such connection attribute", ", ".join(sorted(prj._values)))
        single = {name: np.asarray([float(value)])}
        prj._check_values(single, replaces_all=False)
        prj._values[name] = np.array(prj._values[name], dtype=float)  # writable even if it was broadcast
        prj._values[name][self._index] = single[name][0]
        simulator.state.network.mark_dirty("structure")

    def as_tuple(self, *attribute_names):
        return tuple(getattr(self, name) for name in attribute_names)


# PyNN's connectors fall back to NumpyRNG(seed=151985012) when given no rng.
_PYNN_DEFAULT_CONNECTOR_SEED = 151985012


def seed_if_unseeded(obj, purpose: tuple) -> None:
    """Give an RNG the user did not seed (on a connector or RandomDistribution) a seed derived
    from the global seed and ``purpose``: the model is reproducible by default and the global
    seed (``setup(seed=...)``) drives every stream the user did not seed explicitly."""
    rng = getattr(obj, "rng", None)
    if isinstance(rng, NumpyRNG) and rng.seed in (None, _PYNN_DEFAULT_CONNECTOR_SEED):
        seed = int(stream_key(simulator.state.seed, *purpose)) % (2**32)
        obj.rng = NumpyRNG(seed=seed, parallel_safe=rng.parallel_safe)


def _compact(parts: list, sizes: list) -> np.ndarray:
    """Concatenate per-chunk values (floats or arrays); all-equal values become a broadcast view."""
    total = int(sum(sizes))
    first = parts[0] if parts else 0.0
    if all(np.isscalar(p) or (isinstance(p, np.ndarray) and p.strides == (0,)) for p in parts):
        scalars = [float(p) if np.isscalar(p) else float(p[0]) for p, n in zip(parts, sizes) if n]
        if not scalars or all(x == scalars[0] or (x != x and scalars[0] != scalars[0]) for x in scalars):
            value = scalars[0] if scalars else float(np.asarray(first).ravel()[0]) if np.size(first) else 0.0
            return np.broadcast_to(np.float64(value), (total,))
    out = np.empty(total)
    at = 0
    for p, n in zip(parts, sizes):
        out[at:at + n] = p
        at += n
    return out


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse

    def __init__(self, presynaptic_population, postsynaptic_population, connector, synapse_type=None,
                 source=None, receptor_type=None, space=Space(), label=None):
        state = simulator.state
        state._check_usable("create a Projection")
        for role, pop in (("presynaptic_population", presynaptic_population),
                          ("postsynaptic_population", postsynaptic_population)):
            if getattr(pop, "_simulator", simulator) is not simulator:
                raise ProjectionError(f"Projection({label!r})", role,
                                      f"{pop!r} belongs to the simulator {pop._simulator.__name__}",
                                      "populations created with neurohybrid.pynn")
        post = postsynaptic_population
        if not getattr(post.celltype if hasattr(post, "celltype") else post.populations[0].celltype,
                       "injectable", True):  # checked first: PyNN's own code fails on it untyped
            raise ProjectionError(f"Projection({label!r})", "postsynaptic_population",
                                  f"{post!r} is made of spike sources, which cannot receive synapses",
                                  "a population of neurons")
        with warnings.catch_warnings():
            if type(getattr(post, "celltype", None)).__name__ == "VolumeTransmitter":  # weights are not used
                warnings.filterwarnings("ignore", "Can't check weight, conductance status unknown")
            self._build(state, presynaptic_population, postsynaptic_population, connector, synapse_type, source,
                        receptor_type, space, label)

    def _build(self, state, presynaptic_population, postsynaptic_population, connector, synapse_type, source,
               receptor_type, space, label):
        """PyNN's construction, then the connections generated and stored (class docstring)."""
        common.Projection.__init__(self, presynaptic_population, postsynaptic_population, connector,
                                   synapse_type, source, receptor_type, space, label)
        self.index = len(state.projections)
        self._chunks = []
        self._pre = np.empty(0, dtype=self._index_dtype(self.pre.size))
        self._post = np.empty(0, dtype=self._index_dtype(self.post.size))
        self._values = {}
        seed_if_unseeded(connector, ("projection", self.index, "connector"))
        for name, value in self.synapse_type.parameter_space.items():
            base = value.base_value
            if isinstance(base, (int, float, np.number)) and not np.isfinite(base):
                raise ParameterError(self, name, f"{base!r} is not finite", "finite numbers")
            if isinstance(base, RandomDistribution):
                seed_if_unseeded(value.base_value, ("projection", self.index, name))
        self._edge_positions = {}
        self.weight_recording = None  # (connection indices, sampling interval in ms), see record()
        connector.connect(self)
        self._consolidate()
        if self.plastic:
            from .translate import graph_synapse, synapse_values
            check_edge(_EdgeView(self.label, graph_synapse(self.synapse_type),
                                 synapse_values(graph_synapse(self.synapse_type), self._values)), repr(self))
        state.projections.append(self)
        state.network.mark_dirty("structure")

    def __repr__(self):
        return f"Projection({self.label!r})"

    # --- connection storage -------------------------------------------------------
    def _convergent_connect(self, presynaptic_indices, postsynaptic_index, location_selector=None,
                            **connection_parameters):
        if location_selector is not None:
            from .multicompartment import is_biophysical, location_label
            if not is_biophysical(self.post.celltype):
                raise ParameterError(self, "location_selector", "point neurons have no locations", "None")
            label = location_label(location_selector)
            if getattr(self, "_location", label) != label:
                raise ParameterError(self, "location_selector", "different locations within one projection",
                                     "one location selector per projection")
            self._location = label
        pre = np.asarray(presynaptic_indices).ravel().astype(self._index_dtype(self.pre.size))
        params = {}
        for name, value in connection_parameters.items():
            arr = np.asarray(value, dtype=float)
            params[name] = float(arr) if arr.ndim == 0 else arr.ravel()
        self._chunks.append((pre, int(postsynaptic_index), params))

    @staticmethod
    def _index_dtype(size: int):
        return np.uint16 if size <= 65536 else np.uint32

    def _consolidate(self):
        """Turn the per-postsynaptic-cell chunks into flat arrays. A parameter that has one value
        everywhere is kept as a zero-copy broadcast of that value (most weights and delays are)."""
        if not self._chunks:
            return
        chunks, self._chunks = self._chunks, []
        total = len(self._pre) + sum(c[0].size for c in chunks)
        pre = np.empty(total, dtype=self._index_dtype(self.pre.size))
        post = np.empty(total, dtype=self._index_dtype(self.post.size))
        pre[:len(self._pre)], post[:len(self._pre)] = self._pre, self._post
        at = len(self._pre)
        for c in chunks:
            pre[at:at + c[0].size] = c[0]
            post[at:at + c[0].size] = c[1]
            at += c[0].size
        values = {}
        for name in chunks[0][2]:
            parts = [self._values[name]] if name in self._values and len(self._pre) else []
            parts += [c[2][name] for c in chunks]
            values[name] = _compact(parts, [len(self._pre)] * bool(len(parts) > len(chunks))
                                    + [c[0].size for c in chunks])
        self._pre, self._post = pre, post
        self._check_values(values)
        self._values = values

    def _check_values(self, values, replaces_all=True):
        for name, arr in values.items():
            if not np.all(np.isfinite(_distinct(arr))):
                raise ParameterError(self, name, "contains NaN or infinite values", "finite numbers")
        check_ranges(self, values)
        if "delay" in values:
            values["delay"], rounded = check_delays(self, values["delay"])
            self.rounded_delays = rounded + (0 if replaces_all else getattr(self, "rounded_delays", 0))
        if "weight" in values and self.synapse_type.__class__ is not None:
            conductance = getattr(self.post, "conductance_based", False)
            if conductance and np.any(_distinct(values["weight"]) < 0):
                raise ParameterError(self, "weight", "conductance-based synapses need weights >= 0",
                                     "non-negative weights in µS (the receptor type sets the sign)")

    def __len__(self):
        return int(self._pre.size)

    @property
    def plastic(self) -> bool:
        """Whether the weights change while the model runs (STDP)."""
        from .translate import graph_synapse
        return is_plastic(graph_synapse(self.synapse_type))

    def _runtime_edges(self):
        """{edge name: positions} of this projection in the running model, or None when its
        weights live only here (not built yet, or not plastic)."""
        net = simulator.state.network
        if not self.plastic or net is None or not net.engines or not self._edge_positions:
            return None
        return self._edge_positions if all(net.has_synapses(e) for e in self._edge_positions) else None

    def current_values(self, name: str) -> np.ndarray:
        """The values of connection attribute ``name`` now: a plastic projection's weights as the
        engines hold them (PyNN units), anything else as set."""
        name = self._attribute(name)
        edges = self._runtime_edges() if name == "weight" else None
        if edges is None:
            return self._values[name]
        out = np.array(self._values[name], dtype=float)
        for edge, positions in edges.items():
            values = simulator.state.network.synapse_values(edge, "weight")
            if positions is None:
                out[:] = values
            else:
                out[positions] = values
        return out

    def __getitem__(self, i):
        if isinstance(i, (int, np.integer)):
            if i < -len(self) or i >= len(self):
                raise IndexError(f"{self}: connection index {i} out of range (0..{len(self) - 1})")
            return Connection(self, int(i) % max(len(self), 1))
        return [Connection(self, j) for j in range(len(self))[i]]

    @property
    def connections(self):
        """All connections as a list of :class:`Connection` views (slow for huge projections)."""
        return [Connection(self, j) for j in range(len(self))]

    def arrays(self):
        """(pre indices, post indices, {parameter: values}) of all connections (PyNN units)."""
        return self._pre, self._post, self._values

    # --- PyNN accessors -------------------------------------------------------------
    def _get_attributes_as_list(self, names):
        columns = []
        for name in names:
            if name == "presynaptic_index":
                columns.append(self._pre)
            elif name == "postsynaptic_index":
                columns.append(self._post)
            else:
                columns.append(self.current_values(name))
        return [tuple(row) for row in zip(*[c.tolist() for c in columns])] if columns else []

    def _attribute(self, name):
        if name in self._values:
            return name
        if name.endswith("s") and name[:-1] in self._values:
            return name[:-1]
        raise ParameterError(self, name, "no such connection attribute", ", ".join(sorted(self._values)))

    def _get_attributes_as_arrays(self, names, multiple_synapses="sum"):
        op = {"sum": np.add, "min": np.minimum, "max": np.maximum}.get(multiple_synapses)
        result = []
        for name in names:
            values = self.current_values(name)
            out = np.full((self.pre.size, self.post.size), np.nan)
            if op is None:  # 'first' / 'last'
                order = np.arange(values.size)
                order = order[::-1] if multiple_synapses == "first" else order
                out[self._pre[order], self._post[order]] = values[order]
            else:
                filled = np.zeros(out.shape, dtype=bool)
                filled[self._pre, self._post] = True
                acc = np.full(out.shape, {"sum": 0.0, "min": np.inf, "max": -np.inf}[multiple_synapses])
                op.at(acc, (self._pre, self._post), values)
                out[filled] = acc[filled]
            result.append(out)
        return result

    def _set_attributes(self, parameter_space):
        new_values = {}
        for name, value in parameter_space.items():
            if name not in self._values:
                raise ParameterError(self, name, "no such connection attribute", ", ".join(sorted(self._values)))
            if getattr(value, "is_homogeneous", True):
                scalar = value.evaluate(simplify=True) if hasattr(value, "evaluate") else value
                new_values[name] = np.broadcast_to(np.float64(scalar), (len(self),))
            else:
                full = np.asarray(value.evaluate(simplify=False), dtype=float)
                new_values[name] = full[self._pre, self._post]
        self._check_values(new_values)
        if self.plastic:
            self._set_plastic(new_values)
            return
        self._values.update(new_values)
        simulator.state.network.mark_dirty("structure")

    def _set_plastic(self, new_values: dict) -> None:
        """New weights of a plastic projection reach the running synapses, which keep their
        traces; its rule (timing, bounds, delays) cannot change once the segment has run."""
        from .translate import graph_synapse, synapse_values
        net = simulator.state.network
        started = net is not None and net.tick > 0
        rule = [name for name in new_values if name != "weight"]
        if started and rule:
            raise ParameterError(self, rule[0], "the learning rule of a plastic projection cannot change in the "
                                 "middle of a run segment", "set it before the first run or after sim.reset()")
        merged = {**self._values, **new_values}
        check_edge(_EdgeView(self.label, graph_synapse(self.synapse_type),
                             synapse_values(graph_synapse(self.synapse_type), merged)), repr(self))
        edges = self._runtime_edges()
        self._values.update(new_values)
        if rule or edges is None:
            net.mark_dirty("structure")
            return
        for edge, positions in edges.items():
            w = new_values["weight"] if positions is None else new_values["weight"][positions]
            net.set_synapse_values(edge, "weight", w)
        net.mark_dirty("parameters")  # sim.reset() returns to these weights

    # --- recording synaptic weights (an extension: PyNN has no standard call for it) --------------
    def record(self, variables="weight", sampling_interval=None, connections=None):
        """Record the weights of a plastic projection as a time series, PyNN-style.

        ``variables``: ``"weight"`` (the only variable a synapse records) or None to stop;
        ``sampling_interval``: ms, a multiple of dt (default dt); ``connections``: indices into
        the projection's connections (default all). Read with :meth:`get_data`. A sample at time
        t holds the weights in effect during the time step that ends at t (a weight changes when
        a presynaptic spike reaches its synapse, NEST's semantics).
        """
        if variables is None:
            self.weight_recording = None
            simulator.state.network.mark_dirty("recording")
            return
        if variables not in ("weight", ["weight"], ("weight",)):
            raise RecordingError(self, "variables", f"{variables!r} cannot be recorded from a projection", "'weight'")
        if not self.plastic:
            raise RecordingError(self, "variables", f"{type(self.synapse_type).__name__} weights do not change",
                                 "a projection with an STDPMechanism")
        state = simulator.state
        interval = state.dt if sampling_interval is None else float(sampling_interval)
        state.ms_to_ticks(interval, self, "sampling_interval")
        if interval <= 0:
            raise ParameterError(self, "sampling_interval", "must be > 0", f"a positive multiple of dt={state.dt} ms")
        index = np.arange(len(self)) if connections is None else np.asarray(connections, dtype=np.int64).ravel()
        if index.size and (index.min() < 0 or index.max() >= len(self)):
            raise RecordingError(self, "connections", f"indices {int(index.min())}..{int(index.max())}",
                                 f"connection indices 0..{len(self) - 1}")
        self.weight_recording = (np.unique(index), interval)
        state.network.mark_dirty("structure")

    def get_data(self, variables="weight", clear=False):
        """The recorded weights as a Neo Block: one Segment per recorded segment, each with an
        AnalogSignal ``"weight"`` (one channel per recorded connection; array annotations
        ``presynaptic_index``, ``postsynaptic_index``, ``connection_index``)."""
        from .weights import weight_block
        if variables not in ("weight", "all", ["weight"], ("weight",)):
            raise RecordingError(self, "variables", f"{variables!r} is not recorded by a projection", "'weight'")
        return weight_block(self)

    def _set_initial_value_array(self, variable, initial_value):
        """``Projection.initialize(variable=value)``: the initial synaptic state (a scalar, a
        sequence of one value per connection or a RandomDistribution), for the synapse types
        that declare ``initial_state``; it is part of the model (the edge's values)."""
        states = getattr(self.synapse_type, "initial_state", {})
        if variable not in states:
            raise ParameterError(self, variable, f"{type(self.synapse_type).__name__} has no initial state "
                                 f"{variable!r} that this backend can set", ", ".join(states) or "none")
        value = initial_value
        while isinstance(value, LazyArray):
            if value.operations:
                raise ParameterError(self, variable, "a computed initial value", "a number, a sequence or a "
                                     "RandomDistribution")
            value = value.base_value
        if isinstance(value, RandomDistribution):
            value = value.next(len(self))
        arr = np.asarray(value, dtype=float)
        if arr.ndim and arr.size != len(self):
            raise ParameterError(self, variable, f"{arr.size} values for {len(self)} connections",
                                 "one value, or one per connection")
        name, (low, high) = states[variable]
        if not np.all(np.isfinite(arr)) or np.any(arr < low) or (high is not None and np.any(arr > high)):
            raise ParameterError(self, variable, f"{arr.ravel()[0] if arr.ndim else float(arr)} is out of range",
                                 f"finite values >= {low}" + ("" if high is None else f" and <= {high}"))
        self._values[name] = np.broadcast_to(np.float64(arr), (len(self),)) if arr.ndim == 0 else arr.copy()
        simulator.state.network.mark_dirty("structure")


class _EdgeView:
    """The parts of a graph edge :func:`check_edge` reads (name, synapse model, values)."""

    def __init__(self, name, synapse, values):
        self.name, self.synapse, self.values = name, synapse, values


def _distinct(arr: np.ndarray) -> np.ndarray:
    """The values worth checking: one element of a broadcast (constant) array, else all."""
    return arr[:1] if arr.size and arr.strides == (0,) else arr


def check_ranges(prj, values: dict) -> None:
    """Synapse parameters against the synapse type's ``value_ranges`` ({name: (low, high)}, high
    None = unbounded; inclusive, except tau_rec > low) and ``integer_values``: ParameterError
    naming the projection and the parameter."""
    synapse = prj.synapse_type
    for name, (low, high) in getattr(synapse, "value_ranges", {}).items():
        if name not in values:
            continue
        arr = _distinct(values[name])
        bad = (arr <= low) if name == "tau_rec" else (arr < low)
        if high is not None:
            bad |= arr > high
        if np.any(bad):
            accepted = f"{'>' if name == 'tau_rec' else '>='} {low}" + ("" if high is None else f" and <= {high}")
            raise ParameterError(prj, name, f"{arr[bad][0]} is out of range for {type(synapse).__name__}", accepted)
        if name in getattr(synapse, "integer_values", ()) and np.any(arr != np.round(arr)):
            raise ParameterError(prj, name, f"{arr[arr != np.round(arr)][0]} is not a whole number", "integers")


def check_delays(obj, delays: np.ndarray) -> tuple[np.ndarray, int]:
    """Validate synaptic delays (ms) against the time grid and min/max delay; return them (on
    the grid) and how many were rounded.

    A delay off the dt grid is rounded to the nearest grid point, halves up, as NEST does
    (``Time::delay_ms_to_steps``: ``floor(d * (1 / dt) + 0.5)`` steps), with one
    :class:`DelayRoundingWarning` naming ``obj``; under ``setup(delay_rounding="refuse")`` it is a
    DelayError. A delay that rounds to 0 steps is a DelayError (NEST refuses it too)."""
    state = simulator.state
    if delays.size == 0:
        return delays, 0
    if delays.strides == (0,):
        one, rounded = check_delays(obj, np.array(delays[:1]))
        return np.broadcast_to(one, delays.shape), rounded * delays.size
    if np.any(delays <= 0):
        raise DelayError(obj, "delay", f"delays must be > 0 ms (got min {delays.min()} ms)",
                         f"positive multiples of dt={state.dt} ms")
    ticks = delays / state.dt
    off_grid = np.abs(ticks - np.rint(ticks)) > 1e-6
    rounded = int(np.count_nonzero(off_grid))
    if rounded:
        if state.delay_rounding == "refuse":
            bad = delays[off_grid][0]
            raise DelayError(obj, "delay", f"{bad} ms is not a multiple of dt={state.dt} ms",
                             "multiples of dt, or sim.setup(..., delay_rounding='nearest') to round them")
        steps = np.where(off_grid, np.floor(delays * (1.0 / state.dt) + 0.5), np.rint(ticks))
        if np.any(steps < 1):
            raise DelayError(obj, "delay", f"{delays[steps < 1][0]} ms rounds to 0 steps of dt={state.dt} ms",
                             f"delays >= {state.dt / 2} ms")
        delays = steps * state.dt
        warnings.warn(DelayRoundingWarning(f"{obj}: {rounded} delay(s) off the dt={state.dt} ms grid rounded to "
                                           "the nearest grid point (setup(delay_rounding='refuse') refuses them)"),
                      stacklevel=4)
    if state.min_delay != "auto" and np.any(delays < state.min_delay - 1e-9):
        raise DelayError(obj, "delay", f"{delays.min()} ms is below min_delay={state.min_delay} ms",
                         f"delays >= {state.min_delay} ms")
    if state.max_delay != "auto" and np.any(delays > state.max_delay + 1e-9):
        raise DelayError(obj, "delay", f"{delays.max()} ms is above max_delay={state.max_delay} ms",
                         f"delays <= {state.max_delay} ms")
    return delays, rounded
