"""Population, PopulationView and Assembly of the neurohybrid PyNN backend.

Parameters are held as plain numpy arrays in PyNN names and units (``Population._parameters``);
initial values as PyNN's lazy arrays (``Population.initial_values``). The engine reads both
when the network is (re)built; changes between runs mark the network dirty.
"""
from __future__ import annotations

import numpy as np
from pyNN import common
from pyNN.parameters import ArrayParameter, ParameterSpace, Sequence, simplify
from pyNN.standardmodels import StandardCellType
from lazyarray import larray

from ..errors import ParameterError
from . import simulator
from .recording import Recorder

# Parameters that must be strictly positive (time constants, capacitance) or non-negative.
_POSITIVE = {"tau_m", "cm", "tau_syn_E", "tau_syn_I", "tau_w", "gbar_Na", "gbar_K", "g_leak", "alpha", "beta",
             "v_peak", "tau_syn", "tau_sfa", "tau_rr", "delta_v", "tau_eta", "tau_gamma"}
_NON_NEGATIVE = {"tau_refrac", "rate", "duration", "a", "b", "tau_syn_exc", "tau_syn_inh"}


def validate_parameters(obj, parameters: dict) -> None:
    """ParameterError for NaN/inf values or values outside a parameter's physical range."""
    for name, value in parameters.items():
        if name == "spike_times":
            for seq in np.atleast_1d(value):
                times = np.asarray(seq.value if isinstance(seq, Sequence) else seq, dtype=float)
                if times.size and (not np.all(np.isfinite(times)) or np.any(times < 0)):
                    raise ParameterError(obj, name, "spike times must be finite and >= 0 ms",
                                         "a sorted sequence of non-negative times in ms")
                if times.size > 1 and np.any(np.diff(times) < 0):
                    raise ParameterError(obj, name, "spike times are not sorted", "an ascending sequence in ms")
            continue
        if np.asarray(value, dtype=object).ravel()[:1].size and isinstance(
                np.asarray(value, dtype=object).ravel()[0], ArrayParameter):  # GIF's tau_eta ...: per element
            value = np.concatenate([np.asarray(v.value, dtype=float).ravel() for v in np.atleast_1d(value)])
        base = name.rsplit(".", 1)[-1]  # a composed neuron's receptor parameter: AMPA.tau_syn -> tau_syn
        arr = np.asarray(value, dtype=float)
        if not np.all(np.isfinite(arr)) and not (name in ("duration", "stop") and np.all(~np.isnan(arr))):
            raise ParameterError(obj, name, "contains NaN or infinite values", "finite numbers")
        if base in _POSITIVE and np.any(arr <= 0):
            raise ParameterError(obj, name, f"must be > 0 (got min {arr.min()})", "positive values")
        if base in _NON_NEGATIVE and np.any(arr < 0) and base not in ("a", "b"):
            raise ParameterError(obj, name, f"must be >= 0 (got min {arr.min()})", "non-negative values")


def _reverse(celltype, native: ParameterSpace) -> ParameterSpace:
    return celltype.reverse_translate(native) if isinstance(celltype, StandardCellType) else native


class _InitializeOnce:
    """Evaluate initial values once, so random initial values are drawn exactly once (and
    from a seeded stream when the user gave no seed)."""

    def initialize(self, **initial_values):
        from pyNN.random import RandomDistribution
        from .projections import seed_if_unseeded
        evaluated = {}
        for variable, value in initial_values.items():
            if isinstance(value, RandomDistribution):
                seed_if_unseeded(value, ("population", self.label, variable))
                value = np.asarray(larray(value, shape=(self.size,), dtype=float).evaluate(simplify=False),
                                   dtype=float)
            evaluated[variable] = value
        super().initialize(**evaluated)


class Assembly(common.Assembly):
    """A group of populations treated as one (PyNN semantics)."""
    _simulator = simulator

    @property
    def receptor_types(self):
        """Receptor types common to all populations, in the first population's order. PyNN
        returns them in set order, which changes from process to process, so a projection onto
        an Assembly without an explicit receptor_type got a random default receptor."""
        common_types = set.intersection(*(set(p.celltype.receptor_types) for p in self.populations))
        return [rt for rt in self.populations[0].celltype.receptor_types if rt in common_types]


class PopulationView(_InitializeOnce, common.PopulationView):
    """A subset of a population's cells (PyNN semantics)."""
    _assembly_class = Assembly
    _simulator = simulator

    def _get_parameters(self, *names):
        return _reverse(self.celltype, self._get_native_parameters(*self._native_names(names)))

    def _native_names(self, names):
        if any(name in self.celltype.computed_parameters() for name in names):
            return self.celltype.get_native_names()
        return self.celltype.get_native_names(*names)

    @property
    def _root_indices(self) -> np.ndarray:
        """Indices of this view's cells in the underlying Population (views of views resolved)."""
        return self.index_in_grandparent(np.arange(self.size))

    def _get_native_parameters(self, *names):
        idx = self._root_indices
        values = {name: simplify(self.grandparent._parameters[name][idx]) for name in names}
        return ParameterSpace(values, shape=(self.size,))

    def _set_parameters(self, parameter_space):
        parameter_space.evaluate(simplify=False)
        values = dict(parameter_space.items())
        validate_parameters(self, values)
        idx = self._root_indices
        for name, value in values.items():
            self.grandparent._parameters[name][idx] = value
        simulator.state.network.mark_dirty("parameters")

    def _set_initial_value_array(self, variable, initial_values):
        root = self.grandparent
        root._check_initial_variable(variable)
        values = initial_values.evaluate(simplify=False) if hasattr(initial_values, "evaluate") else initial_values
        full = np.array(root.initial_values[variable].evaluate(simplify=False), dtype=float) * np.ones(root.size)
        full[self._root_indices] = values
        root._set_initial_value_array(variable, full)
        root.initial_values[variable] = larray(full[0] if np.all(full == full[0]) else full, shape=(root.size,))

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)


class Population(_InitializeOnce, common.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def __init__(self, size, cellclass, cellparams=None, structure=None, initial_values={}, label=None, engine=None):
        """PyNN's Population; ``engine`` (neurohybrid) names the engine instance that runs it
        (``"emulator"``, ``"emulator-fixed"``, ``"lava"``, ``"neuron"``, optionally with a
        ``":tag"`` for a separate instance), overriding the session's placement."""
        simulator.state._check_usable("create a Population")
        if isinstance(size, (int, np.integer)) and size <= 0:
            raise ParameterError(f"Population({label!r})", "size", f"{size} cells", "a positive integer")
        if engine is not None and (not isinstance(engine, str) or not engine.split(":", 1)[0]):
            raise ParameterError(f"Population({label!r})", "engine", f"{engine!r} is not an engine name",
                                 "'emulator', 'emulator-fixed', 'lava' or 'neuron' (optionally with ':tag')")
        self.engine = engine
        super().__init__(size, cellclass, cellparams, structure, initial_values, label)
        simulator.state.populations.append(self)
        simulator.state.network.mark_dirty("structure")

    def _create_cells(self):
        first = simulator.state.id_counter
        self.all_cells = np.array([simulator.ID(i) for i in range(first, first + self.size)],
                                  dtype=simulator.ID)
        self._mask_local = np.ones(self.size, dtype=bool)
        from .multicompartment import is_biophysical
        if is_biophysical(self.celltype):  # the NEURON engine's cell builder evaluates the parameters
            self._parameters = {}
            for cell in self.all_cells:
                cell.parent = self
            simulator.state.id_counter += self.size
            return
        native = (self.celltype.native_parameters if isinstance(self.celltype, StandardCellType)
                  else self.celltype.parameter_space)
        native.shape = (self.size,)
        native.evaluate(mask=self._mask_local, simplify=False)
        self._parameters = dict(native.as_dict())
        validate_parameters(self, self._parameters)
        for cell in self.all_cells:
            cell.parent = self
        simulator.state.id_counter += self.size

    def _check_initial_variable(self, variable):
        allowed = set(self.celltype.default_initial_values)
        if variable not in allowed:
            raise ParameterError(self, variable, "is not a state variable of " + type(self.celltype).__name__,
                                 ", ".join(sorted(allowed)) or "none (spike sources have no state)")

    def _set_initial_value_array(self, variable, initial_values):
        self._check_initial_variable(variable)
        values = initial_values.evaluate(simplify=False) if hasattr(initial_values, "evaluate") else initial_values
        if not np.all(np.isfinite(np.asarray(values, dtype=float))):
            raise ParameterError(self, variable, "initial value contains NaN or infinite values", "finite numbers")
        if getattr(simulator.state, "network", None) is not None:
            simulator.state.network.mark_dirty("initial")

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)

    def _get_parameters(self, *names):
        native_names = (self.celltype.get_native_names()
                        if any(name in self.celltype.computed_parameters() for name in names)
                        else self.celltype.get_native_names(*names))
        return _reverse(self.celltype, self._get_native_parameters(*native_names))

    def _get_native_parameters(self, *names):
        return ParameterSpace({name: simplify(self._parameters[name]) for name in names}, shape=(self.local_size,))

    def _set_parameters(self, parameter_space):
        parameter_space.evaluate(simplify=False, mask=self._mask_local)
        values = dict(parameter_space.items())
        validate_parameters(self, values)
        for name, value in values.items():
            self._parameters[name] = value
        simulator.state.network.mark_dirty("parameters")

    def __repr__(self):
        return f"Population({self.label!r})"
