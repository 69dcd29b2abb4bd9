"""Cell builders: how the NEURON engine makes the cells of a biophysical population.

A population node of kind ``"biophysical"`` carries a *cell builder* (``node.cell``). The engine
calls ``builder.build(i)`` for every cell ``i`` of the population and talks to the returned
*built cell* only through this protocol::

    class CellBuilder:
        def describe(self) -> dict            # JSON-able; hashed into the model hash
        def build(self, index: int) -> BuiltCell

    class BuiltCell:
        spike_source -> (segment, threshold_mV)  # where outgoing spikes are detected
        def synapses(self, receptor: str, location: str | None = None) -> list
            # the point processes (NetCon targets) of ``receptor``; restricted to the sections
            # matching the section label ``location`` if given; typed error for an unknown
            # receptor or location
        def location(self, name: str) -> segment  # a named recording / injection place
        # optional, used when present:
        def location_names(self) -> list[str]      # names location() accepts (error messages, lfp)
        def ref(self, variable: str)               # NEURON pointer of a recordable variable
        def ref_segment(self, variable: str)       # (pointer, its segment): needed with threads
        def initialize(self, v: float) -> None     # set the membrane potential before INITIAL blocks

The built cell keeps references to every NEURON object of the cell (NEURON deletes sections
and point processes nobody references).

Two builders are provided:

* :class:`NeuronCellBuilder` wraps an existing NEURON cell class (a Python class or a hoc
  template), with its NMODL mechanisms compiled by ``nrnivmodl`` when the builder is made;
* :class:`MultiCompartmentBuilder` wraps a PyNN ``MultiCompartmentNeuron`` cell type instance of
  ``pyNN.neuron`` and builds each cell exactly as ``pyNN.neuron.Population`` does
  (``celltype.model(**native parameters)``, a ``NeuronTemplate``).

Variables (``ref``): ``"v"`` is the membrane potential at the spike location; ``"<location>.v"``
at a named location; ``"<location>.<mechanism>.<state>"`` a mechanism's state there (for PyNN
cells the PyNN ion-channel name and state, e.g. ``"soma.na.m"``, translated as pyNN.neuron does);
``"<location>.<point-process state>"`` is not supported.
"""
from __future__ import annotations

import copy
import hashlib
import inspect
import re

import numpy as np

from neurohybrid.errors import ParameterError, UnsupportedModelError

__all__ = ["NeuronCellBuilder", "MultiCompartmentBuilder", "NeuronBuiltCell", "MultiCompartmentCell",
           "resolve_path", "describe_value"]

_PATH = re.compile(r"^\s*(?P<path>[A-Za-z_]\w*(?:\[\d+\])*(?:\.[A-Za-z_]\w*(?:\[\d+\])*)*)"
                   r"\s*(?:\(\s*(?P<x>[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\s*\))?\s*$")
_STEP = re.compile(r"([A-Za-z_]\w*)((?:\[\d+\])*)")


def _is_section(obj) -> bool:
    from neuron import nrn
    return isinstance(obj, nrn.Section)


def _is_segment(obj) -> bool:
    from neuron import nrn
    return isinstance(obj, nrn.Segment)


def _follow(cell, path: str):
    obj = cell
    for step in path.split("."):
        m = _STEP.fullmatch(step)
        obj = getattr(obj, m.group(1))
        for idx in re.findall(r"\[(\d+)\]", m.group(2)):
            obj = obj[int(idx)]
    return obj


def resolve_path(cell, spec: str):
    """Resolve ``"soma"``, ``"soma(0.5)"``, ``"dend[3](0.8)"``, ``"parts.apic[0](1)"`` on ``cell``
    (attributes, indices, an optional position; a section without position means its middle,
    0.5) to a NEURON segment. Raises AttributeError/IndexError/ValueError when it cannot."""
    m = _PATH.match(spec)
    if not m:
        raise ValueError(f"{spec!r} is not of the form 'section(x)'")
    obj = _follow(cell, m.group("path"))
    x = float(m.group("x")) if m.group("x") is not None else 0.5
    if _is_segment(obj) and m.group("x") is None:
        return obj
    if not _is_section(obj):
        raise ValueError(f"{m.group('path')!r} is a {type(obj).__name__}, not a section")
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"position {x} is outside the section (0 <= x <= 1)")
    return obj(x)


def _section_base(sec) -> str:
    """``'Cell[0].apic[3]'`` -> ``'apic'``; ``'soma'`` -> ``'soma'``."""
    name = sec.name().rsplit(".", 1)[-1]
    return re.sub(r"\[\d+\]$", "", name)


def _ref(seg, variable: str, what) -> object:
    """NEURON pointer of ``variable`` (``"v"`` or ``"<mechanism>.<state>"``) at segment ``seg``."""
    try:
        if variable == "v":
            return seg._ref_v
        if "." in variable:
            mech, state = variable.split(".", 1)
            return getattr(getattr(seg, mech), "_ref_" + state)
        return getattr(seg, "_ref_" + variable)
    except (AttributeError, NameError, TypeError):
        raise ParameterError(what, "variable", f"{variable!r} does not exist at {seg}",
                             "'v' or '<mechanism>.<state>' of a mechanism inserted there") from None


def describe_value(value, depth: int = 0):
    """A JSON-able, address-free description of a parameter value (for model hashes)."""
    if depth > 6:
        return type(value).__name__
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, np.ndarray):
        if value.size <= 64:
            return value.tolist()
        return {"array_sha256": hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest(),
                "shape": list(value.shape)}
    if isinstance(value, dict):
        return {str(k): describe_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [describe_value(v, depth + 1) for v in items]
    if inspect.isfunction(value) or inspect.ismethod(value) or inspect.isbuiltin(value):
        try:
            src = inspect.getsource(value)
        except (OSError, TypeError):
            src = ""
        return {"callable": f"{value.__module__}.{value.__qualname__}",
                "source_sha256": hashlib.sha256(src.encode()).hexdigest() if src else None}
    if inspect.isclass(value):
        return {"class": f"{value.__module__}.{value.__qualname__}"}
    kind = type(value).__name__
    if kind == "LazyArray" and hasattr(value, "base_value"):  # pyNN.parameters: its value, not its cache
        return {"lazy": describe_value(value.base_value, depth + 1),
                "operations": describe_value(getattr(value, "operations", []), depth + 1)}
    if kind == "ParameterSpace" and hasattr(value, "items"):
        return {str(k): describe_value(v, depth + 1) for k, v in value.items()}
    try:
        attrs = vars(value)
    except TypeError:
        return {"type": type(value).__name__, "repr": re.sub(r" at 0x[0-9a-f]+", "", repr(value))}
    return {"type": f"{type(value).__module__}.{type(value).__qualname__}",
            **{k: describe_value(v, depth + 1) for k, v in sorted(attrs.items()) if not k.startswith("__")}}


def _parameters_for(parameters: dict, index: int, owner) -> dict:
    out = {}
    for name, value in parameters.items():
        if isinstance(value, np.ndarray) and value.ndim >= 1:
            if index >= value.shape[0]:
                raise ParameterError(owner, name, f"has {value.shape[0]} per-cell values, cell {index} asked for",
                                     "one value per cell (a numpy array indexed by cell), or a scalar")
            value = value[index]
            value = value.item() if isinstance(value, np.generic) else value
        out[name] = value
    return out


class _Recordable:
    """Variable lookup shared by the built cells: ``"v"``, ``"soma.v"``, ``"soma.na.m"``."""

    def _native_variable(self, var: str) -> str:
        return var

    def ref(self, variable: str):
        return self.ref_segment(variable)[0]

    def ref_segment(self, variable: str):
        """(NEURON pointer of ``variable``, the segment it lives in)."""
        loc, var = _split_variable(variable, self.location_names())
        seg = self.location(loc) if loc is not None else self.spike_source[0]
        return _ref(seg, self._native_variable(var), self._name), seg


# ============================================================================ user NEURON cells
class NeuronBuiltCell(_Recordable):
    """One cell of a :class:`NeuronCellBuilder`: the user's object plus the named places."""

    def __init__(self, builder: "NeuronCellBuilder", index: int, obj):
        self.builder, self.index, self.obj = builder, index, obj
        self._name = f"{builder.label}[{index}]"
        self._locations = {}
        self._syn_cache: dict = {}
        seg = self.location(builder.spike_location)
        self.spike_source = (seg, float(builder.threshold))

    def __repr__(self):
        return f"<{self._name}>"

    def location_names(self) -> list[str]:
        return list(self.builder.locations)

    def location(self, name: str):
        """The segment called ``name``: a key of the builder's ``locations``, else ``name`` itself
        read as an attribute path with optional position (``"dend[2](0.3)"``)."""
        seg = self._locations.get(name)
        if seg is not None:
            return seg
        spec = self.builder.locations.get(name, name)
        try:
            seg = spec(self.obj) if callable(spec) else resolve_path(self.obj, spec)
            if _is_section(seg):
                seg = seg(0.5)
            if not _is_segment(seg):
                raise ValueError(f"gave a {type(seg).__name__}, not a segment")
        except (AttributeError, IndexError, ValueError, TypeError, LookupError) as err:
            raise ParameterError(self._name, "location", f"{name!r} is not a place on the cell ({err})",
                                 ", ".join(self.builder.locations) + " or a path such as 'dend[0](0.5)'") from None
        self._locations[name] = seg
        return seg

    def _receptor(self, receptor: str) -> list:
        spec = self.builder.receptors.get(receptor)
        if spec is None:
            raise ParameterError(self._name, "receptor_type", f"the cell has no receptor {receptor!r}",
                                 ", ".join(self.builder.receptors) or "no receptors (give receptors=...)")
        try:
            value = spec(self.obj) if callable(spec) else _follow(self.obj, spec)
        except (AttributeError, IndexError, LookupError) as err:
            raise ParameterError(self._name, "receptors", f"receptor {receptor!r} -> {spec!r} is not on the "
                                 f"cell ({err})", "an attribute (path) of the cell or a callable(cell)") from None
        items = [value] if hasattr(value, "get_segment") else list(value)
        for pp in items:
            if not hasattr(pp, "get_segment"):
                raise ParameterError(self._name, "receptors", f"receptor {receptor!r} gave a {type(pp).__name__}",
                                     "point processes (e.g. h.ExpSyn) placed on the cell")
        return items

    def synapses(self, receptor: str, location: str | None = None) -> list:
        """Point processes of ``receptor``; with ``location``, only those on the section of the
        named location or on sections whose base name (``apic`` for ``Cell[0].apic[3]``) is
        ``location``."""
        key = (receptor, location)
        if key in self._syn_cache:
            return self._syn_cache[key]
        items = self._receptor(receptor)
        if location is not None:
            secs = set()
            if location in self.builder.locations:
                secs.add(self.location(location).sec.name())
            picked = [pp for pp in items if pp.get_segment().sec.name() in secs
                      or _section_base(pp.get_segment().sec) == location]
            if not picked:
                where = sorted({_section_base(pp.get_segment().sec) for pp in items})
                raise ParameterError(self._name, "location", f"no {receptor!r} synapse at {location!r}",
                                     ", ".join(where + list(self.builder.locations)) or "no location")
            items = picked
        self._syn_cache[key] = items
        return items


    def sections(self) -> list:
        """Every section of the cell (``obj.all`` if the cell has such a SectionList, else the
        tree of the spike location's section)."""
        sl = getattr(self.obj, "all", None)
        if sl is not None:
            try:
                return list(sl)
            except TypeError:
                pass
        return list(self.spike_source[0].sec.wholetree())

    def initialize(self, v: float) -> None:
        """Set v of every node of the cell, section ends included (as ``h.finitialize(v)``)."""
        for sec in self.sections():
            for seg in sec.allseg():
                seg.v = v


def _split_variable(variable: str, names) -> tuple[str | None, str]:
    """``"soma.v"`` -> ("soma", "v"); ``"v"`` -> (None, "v"); ``"na.m"`` (no location na) -> (None, "na.m");
    ``"dend[1](0.2).v"`` -> ("dend[1](0.2)", "v")."""
    m = re.match(r"^(.*\))\.(.+)$", variable)  # a path with an explicit position
    if m:
        return m.group(1), m.group(2)
    if "." in variable:
        head, rest = variable.split(".", 1)
        if head in names or rest == "v" or rest.count(".") == 1:
            return head, rest
    return None, variable


class NeuronCellBuilder:
    """Cells of an existing NEURON model: a Python class or a hoc template.

    Parameters
    ----------
    cell_class : a Python class (called as ``cell_class(**parameters)``), or the name of a hoc
        template (``h.<name>()`` with no arguments; ``parameters`` are then set as attributes of the
        new object) -- load the template with ``hoc_file``.
    parameters : keyword arguments for each cell; a numpy array value (ndim >= 1) gives one value
        per cell (cell i gets ``value[i]``), anything else is passed unchanged to every cell.
    spike_location : a location name (key of ``locations``) or a path such as ``"soma(0.5)"``:
        outgoing spikes are upward crossings of ``threshold`` (mV) of ``v`` there.
    receptors : receptor name -> the cell's synapses of that type, as an attribute path
        (``"ampa"``, ``"syns.AMPA"``; the attribute is one point process or a list of them) or a
        callable ``f(cell) -> point process or list of point processes``. Each connection of a
        projection onto this receptor targets one of them (chosen by the engine with a seeded
        stream; ``location=`` restricts the choice to synapses on sections whose base name
        -- ``apic`` for ``Cell[0].apic[3]`` -- or named location match).
    locations : name -> place, for recording, current injection and fields: a path
        ``"dend[0](0.9)"`` (a section alone means its middle) or a callable ``f(cell) -> segment``.
        Default ``{"soma": "soma(0.5)"}``. Names not in the mapping are tried as paths.
    mechanisms : a directory of NMODL ``.mod`` files, compiled with ``nrnivmodl`` (cached by
        content) and loaded when the builder is made; a compile error raises
        :class:`~neurohybrid.backends.neuron.mechanisms.MechanismError` with the compiler's output.
    hoc_file : a hoc file to ``load_file`` (defining the template ``cell_class``).
    index_argument : if given, the cell index is passed to the class as this keyword argument.
    label : name used in error messages and descriptions (default: the class name).
    """

    def __init__(self, cell_class, parameters: dict | None = None, spike_location: str = "soma",
                 threshold: float = -10.0, receptors: dict | None = None, locations: dict | None = None,
                 mechanisms=None, hoc_file=None, index_argument: str | None = None, label: str | None = None):
        from neuron import h

        self.label = label or (cell_class if isinstance(cell_class, str) else getattr(cell_class, "__name__",
                                                                                         "cell"))
        self.mechanisms_digest = None
        self.mechanisms = None if mechanisms is None else str(mechanisms)
        if mechanisms is not None:
            from .mechanisms import compile_mechanisms, mechanisms_digest
            compile_mechanisms(mechanisms)
            self.mechanisms_digest = mechanisms_digest(mechanisms)
        self.hoc_file = None if hoc_file is None else str(hoc_file)
        if hoc_file is not None:
            h.load_file("stdrun.hoc")
            if not h.load_file(str(hoc_file)):
                raise ParameterError(self.label, "hoc_file", f"{str(hoc_file)!r} could not be loaded",
                                     "an existing hoc file that NEURON parses")
        if isinstance(cell_class, str):
            if not hasattr(h, cell_class):
                raise ParameterError(self.label, "cell_class", f"no hoc template {cell_class!r} is defined",
                                     "a template defined by hoc_file, or a Python class")
        elif not callable(cell_class):
            raise ParameterError(self.label, "cell_class", f"{cell_class!r} is not a class",
                                 "a Python class or the name of a hoc template")
        self.cell_class = cell_class
        self.parameters = dict(parameters or {})
        self.spike_location = spike_location
        try:
            self.threshold = float(threshold)
        except (TypeError, ValueError):
            raise ParameterError(self.label, "threshold", f"{threshold!r} is not a number", "a voltage in mV") from None
        self.receptors = dict(receptors or {})
        for name, spec in self.receptors.items():
            if not (callable(spec) or isinstance(spec, str)):
                raise ParameterError(self.label, "receptors", f"{name!r} -> {spec!r}",
                                     "an attribute name of the cell or a callable(cell)")
        self.locations = dict(locations) if locations is not None else {"soma": "soma(0.5)"}
        self.index_argument = index_argument

    def __repr__(self):
        return f"NeuronCellBuilder({self.label})"

    def build(self, index: int) -> NeuronBuiltCell:
        from neuron import h

        params = _parameters_for(self.parameters, index, self.label)
        if isinstance(self.cell_class, str):
            obj = getattr(h, self.cell_class)()
            for name, value in params.items():
                try:
                    setattr(obj, name, value)
                except (AttributeError, LookupError, TypeError) as err:
                    raise ParameterError(self.label, name, f"cannot be set on the hoc template ({err})",
                                         "public variables of the template") from None
            if self.index_argument:
                setattr(obj, self.index_argument, index)
        else:
            if self.index_argument:
                params[self.index_argument] = index
            try:
                obj = self.cell_class(**params)
            except TypeError as err:
                raise ParameterError(self.label, "parameters", f"the cell class refused them ({err})",
                                     "keyword arguments the class accepts") from None
        return NeuronBuiltCell(self, index, obj)

    def describe(self) -> dict:
        cls = self.cell_class
        return {
            "builder": "NeuronCellBuilder", "label": self.label,
            "cell_class": cls if isinstance(cls, str) else describe_value(cls),
            "cell_source_sha256": None if isinstance(cls, str) else _source_hash(cls),
            "hoc_file": self.hoc_file,
            "hoc_file_sha256": _file_hash(self.hoc_file),
            "parameters": describe_value(self.parameters),
            "spike_location": self.spike_location, "threshold_mV": self.threshold,
            "receptors": {k: describe_value(v) for k, v in self.receptors.items()},
            "locations": {k: describe_value(v) for k, v in self.locations.items()},
            "mechanisms": self.mechanisms, "mechanisms_sha256": self.mechanisms_digest,
            "index_argument": self.index_argument,
        }


def _source_hash(obj):
    try:
        return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()
    except (OSError, TypeError):
        return None


def _file_hash(path):
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


# ============================================================================ PyNN multi-compartment
#: PyNN location-selector names (pyNN.morphology: dendrites(), apical_dendrites(), ...) -> the
#: section labels they select (NeuroML segment names or morphio section-type names)
_SELECTOR_LABELS = {
    "dendrites": ("dendrite", "apical_dendrite", "basal_dendrite", "dend"),
    "dendrite": ("dendrite", "apical_dendrite", "basal_dendrite", "dend"),
    "apical_dendrites": ("apical_dendrite", "apical", "apic"),
    "basal_dendrites": ("basal_dendrite", "basal", "dend"),
    "axon": ("axon",), "axons": ("axon",),
    "soma": ("soma",),
}


class MultiCompartmentCell(_Recordable):
    """One cell of a :class:`MultiCompartmentBuilder`: ``template`` is the pyNN.neuron
    ``NeuronTemplate`` instance (sections, ``section_labels``, ``locations``,
    ``synaptic_receptors[receptor][section_id]``)."""

    def __init__(self, builder: "MultiCompartmentBuilder", index: int, template):
        self.builder, self.index, self.template = builder, index, template
        self._name = f"{builder.label}[{index}]"
        self._cache: dict = {}
        threshold = builder.threshold
        self.spike_source = (template.source_section(0.5), float(threshold))

    def __repr__(self):
        return f"<{self._name}>"

    def _labels(self) -> dict[str, set]:
        return {str(getattr(k, "name", k)): set(v) for k, v in self.template.section_labels.items()}

    def location_names(self) -> list[str]:
        names = list(self._labels())
        names += [n for n in self.template.locations if n not in names]
        names += [s for s, labels in _SELECTOR_LABELS.items() if s not in names and self._ids_for(s, False)]
        return names

    def _ids_for(self, label: str, strict: bool = True) -> list:
        """Section ids of section label ``label`` (or of a PyNN selector name such as
        ``"apical_dendrites"``, or ``"all"``)."""
        if label == "all":
            return sorted(self.template.sections, key=str)
        labels = self._labels()
        if label in labels:
            return sorted(labels[label], key=str)
        ids = set()
        for alias in _SELECTOR_LABELS.get(label, ()):
            ids |= labels.get(alias, set())
        if not ids and label in ("dendrites", "dendrite"):
            for name, sec_ids in labels.items():
                if "dend" in name.lower():
                    ids |= sec_ids
        if not ids and strict:
            raise ParameterError(self._name, "location", f"the cell has no section labelled {label!r}",
                                 ", ".join(self.location_names()))
        return sorted(ids, key=str)

    def location(self, name: str):
        """A segment: a location PyNN generated (``template.locations``), a section label (the
        middle of that section; with several sections, of the middle one of them, as PyNN's
        ``centre()``), a selector name (``"dendrites"``, ``"apical_dendrites"``, ...) likewise, or
        ``"<label>(x)"`` for position x along it."""
        if name in self._cache:
            return self._cache[name]
        tpl = self.template
        if name in tpl.locations:
            loc = tpl.locations[name]
            seg = loc.section(loc.position)
        else:
            m = re.match(r"^\s*([\w-]+)\s*(?:\(\s*([-+]?\d*\.?\d+)\s*\))?\s*$", name)
            if not m:
                raise ParameterError(self._name, "location", f"{name!r} is not a location name",
                                     ", ".join(self.location_names()))
            ids = self._ids_for(m.group(1))
            x = float(m.group(2)) if m.group(2) is not None else 0.5
            if not 0.0 <= x <= 1.0:
                raise ParameterError(self._name, "location", f"position {x} in {name!r} is outside the section",
                                     "0 <= x <= 1")
            seg = tpl.sections[ids[len(ids) // 2]](x)
        self._cache[name] = seg
        return seg

    def synapses(self, receptor: str, location: str | None = None) -> list:
        """The post-synaptic entities of ``receptor`` PyNN placed, on every section or on the
        sections of label/selector ``location``."""
        key = ("syn", receptor, location)
        if key in self._cache:
            return self._cache[key]
        per_section = self.template.synaptic_receptors.get(receptor)
        if per_section is None:
            raise ParameterError(self._name, "receptor_type", f"the cell has no receptor {receptor!r}",
                                 ", ".join(self.template.synaptic_receptors) or "no post-synaptic entities")
        if location is None:
            ids = list(per_section)
        else:
            wanted = set(map(str, self._ids_for(location)))
            ids = [i for i in per_section if str(i) in wanted]
        items = [pp for i in ids for pp in per_section[i]]
        if location is not None and not items:
            raise ParameterError(self._name, "location", f"no {receptor!r} synapse was placed on {location!r}",
                                 "a section label with synapses of this receptor")
        self._cache[key] = items
        return items

    def _native_variable(self, var: str) -> str:
        """PyNN channel-state names ("na.m") as the NEURON mechanism names pyNN.neuron uses."""
        if var != "v" and "." in var:
            channel, state = var.split(".", 1)
            ic = self.template.ion_channels.get(channel)
            if ic is not None and state in getattr(ic, "variable_translations", {}):
                mech, hoc_state = ic.variable_translations[state]
                return f"{mech}.{hoc_state}"
        return var

    def initialize(self, v: float) -> None:
        """As pyNN.neuron's initializer: the template's ``memb_init`` with ``initial_values['v']``."""
        for sec in self.template.sections.values():
            for seg in sec.allseg():  # section ends too, as h.finitialize(v) does
                seg.v = v
        self.template.initial_values["v"] = v
        self.template.memb_init()


class MultiCompartmentBuilder:
    """Cells of a pyNN.neuron ``MultiCompartmentNeuron`` cell type (an instance with its
    parameters: morphology, cm, Ra, ionic species, ion channels, post-synaptic entities).

    ``build(i)`` evaluates the cell type's native parameters (as ``pyNN.neuron.Population``
    does; a per-cell array must have ``size`` entries) and calls ``celltype.model(**params)``.
    ``threshold`` (mV) of the spike detector at the template's source section (the axon initial
    segment if there is one, else the soma) defaults to 10 mV, NEURON's NetCon default that
    pyNN.neuron uses.
    """

    def __init__(self, celltype, size: int | None = None, threshold: float = 10.0, label: str | None = None):
        try:
            from pyNN.neuron.cells import NeuronTemplate
            model = celltype.model
        except Exception as err:  # noqa: BLE001 - anything that is not a pyNN.neuron MC cell type
            raise UnsupportedModelError(celltype, "celltype", f"not a pyNN.neuron MultiCompartmentNeuron ({err})",
                                        "an instance of a pyNN.neuron MultiCompartmentNeuron subclass") from None
        if not (isinstance(model, type) and issubclass(model, NeuronTemplate)):
            raise UnsupportedModelError(celltype, "celltype", "its model is not a NeuronTemplate",
                                        "an instance of a pyNN.neuron MultiCompartmentNeuron subclass")
        self.celltype = celltype
        self.size = size
        self.threshold = float(threshold)
        self.label = label or getattr(celltype, "label", None) or type(celltype).__name__
        self._params: list | None = None

    def __repr__(self):
        return f"MultiCompartmentBuilder({self.label})"

    def _evaluate(self, n: int) -> list:
        from pyNN.standardmodels import StandardCellType

        ct = self.celltype
        # MultiCompartmentNeuron.translate pops the component entries out of the parameter space it
        # is given (celltype.native_parameters works once): translate a copy
        ps = copy.copy(ct.parameter_space)
        ps._parameters = dict(ct.parameter_space._parameters)
        if isinstance(ct, StandardCellType):
            ps = ct.translate(ps)
        ps.shape = (n,)
        ps.evaluate(mask=None, simplify=True)
        return [p for p in ps]

    def build(self, index: int) -> MultiCompartmentCell:
        n = max(self.size or 0, index + 1)
        if self._params is None or len(self._params) < n:
            self._params = self._evaluate(n)
        params = dict(self._params[index])
        ct = self.celltype
        if hasattr(ct, "extra_parameters"):
            params.update(ct.extra_parameters)
        # the template pops "locations" out of the post-synaptic parameters: give it copies
        params = {k: (dict(v) if isinstance(v, dict) else v) for k, v in params.items()}
        psr_models = None
        if hasattr(ct, "post_synaptic_receptors"):
            psr_models = {name: psr.model for name, psr in ct.post_synaptic_receptors.items()}
        psr_params = {name: params.pop(name) for name in (psr_models or {})}
        try:
            template = ct.model(**params)
        except (ValueError, KeyError, TypeError) as err:  # e.g. a channel on a section label the morphology lacks
            raise ParameterError(self.label, "celltype", f"cell {index} cannot be built: {err}",
                                 "ion channels and synapses placed on sections the morphology has") from err
        if psr_models:  # as pyNN.neuron ID._build_cell (point-neuron-with-receptors cell types)
            template.set_parameters()
            for name, model in psr_models.items():
                obj = model(0.5, sec=template)
                setattr(template, name, obj)
                for pname, value in psr_params[name].items():
                    setattr(obj, pname, value)
        return MultiCompartmentCell(self, index, template)

    def describe(self) -> dict:
        ct = self.celltype
        params = {k: describe_value(v) for k, v in ct.parameter_space.items()}
        return {
            "builder": "MultiCompartmentBuilder", "label": self.label,
            "celltype": f"{type(ct).__module__}.{type(ct).__qualname__}",
            "ion_channels": {k: describe_value(type(v) if not inspect.isclass(v) else v)
                             for k, v in ct.ion_channels.items()},
            "post_synaptic_entities": {k: describe_value(type(v) if not inspect.isclass(v) else v)
                                       for k, v in ct.post_synaptic_entities.items()},
            "parameters": params, "threshold_mV": self.threshold,
        }
