"""Engine snapshots: the format every engine's ``state()`` returns and ``restore()`` checks.

A snapshot is one flat ``dict`` whose keys are ``/``-separated paths (``"blocks/exc/S"``) and
whose values are numpy arrays, Python ints or strings only, so that it maps one to one onto an
HDF5 file (a key is a dataset path; issue 15's checkpoints). Every snapshot starts with the
header of :func:`header`:

- ``"format"``: :data:`FORMAT` (the layout version);
- ``"engine"``: the engine's registry name (:mod:`neurohybrid.engines`);
- ``"content_hash"``: :meth:`ModelGraph.content_hash` of the model it was taken from;
- ``"tick"``: the engine's current tick (ticks of ``graph.dt``, ms).

Arrays are copies (a snapshot does not change when the engine runs on, and the engine does not
change when the snapshot is edited). Spike lists are stored as key pairs ``<path>/ticks`` and
``<path>/ids`` (int64, emission ticks and cell indices); they are the only arrays whose length
may differ between snapshots of one model (:func:`check`).

``restore`` validates the whole snapshot before changing anything (:func:`check` against a
template, typically the engine's own ``state()``), so a snapshot of another engine or another
model, or one that lost a key, raises :class:`~neurohybrid.errors.ParameterError` (object: the
engine, parameter: ``"state"``) and leaves the engine as it was.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .errors import ParameterError, SimulationStateError

__all__ = ["FORMAT", "HEADER", "header", "check", "require_built", "put", "take", "spikes", "spike_arrays",
           "is_spike_list", "error"]

#: layout version of the snapshots (bumped when a key changes meaning)
FORMAT = 1
#: keys every snapshot has
HEADER = ("format", "engine", "content_hash", "tick")


def _who(engine) -> str:
    return f"{type(engine).__name__} ({engine.name!r})" if getattr(engine, "name", "") else type(engine).__name__


def require_built(engine, what: str = "state") -> None:
    """SimulationStateError unless ``engine`` has been built (a snapshot needs its model)."""
    if getattr(engine, "graph", None) is None:
        raise SimulationStateError(_who(engine), what, "the engine has not been built",
                                   "build(graph, sink) first")


def header(engine) -> dict:
    """The header keys (see the module docstring) of a snapshot of ``engine`` now."""
    require_built(engine)
    return {"format": FORMAT, "engine": str(engine.name), "content_hash": engine.graph.content_hash(),
            "tick": int(engine.tick)}


def put(out: dict, prefix: str, part: Mapping) -> dict:
    """Add the entries of ``part`` (a component's own flat state) to ``out`` under ``prefix``."""
    for key, value in part.items():
        out[f"{prefix}/{key}"] = value
    return out


def take(state: Mapping, prefix: str) -> dict:
    """The entries of ``state`` under ``prefix`` (prefix removed): a component's own state."""
    head = prefix + "/"
    return {key[len(head):]: value for key, value in state.items() if key.startswith(head)}


def spikes(ticks=None, ids=None) -> dict:
    """A spike list as snapshot entries ``{"ticks", "ids"}`` (int64 copies; empty when None)."""
    empty = np.zeros(0, np.int64)
    return {"ticks": empty.copy() if ticks is None else np.array(ticks, dtype=np.int64),
            "ids": empty.copy() if ids is None else np.array(ids, dtype=np.int64)}


def spike_arrays(part: Mapping, prefix: str = "") -> tuple[np.ndarray, np.ndarray]:
    """(ticks, ids) copies of the spike list stored by :func:`spikes` (under ``prefix``)."""
    head = f"{prefix}/" if prefix else ""
    return (np.array(part[head + "ticks"], dtype=np.int64).ravel(),
            np.array(part[head + "ids"], dtype=np.int64).ravel())


def is_spike_list(key: str) -> bool:
    """Whether ``key`` is half of a spike list (variable length)."""
    return key.endswith("/ticks") or key.endswith("/ids") or key in ("ticks", "ids")


def error(engine, problem: str, accepted: str = "a snapshot taken by state() of this engine for this model"):
    return ParameterError(_who(engine), "state", problem, accepted)


def _kind(value) -> str:
    if isinstance(value, str):
        return "str"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, np.integer)):
        return "int"
    if isinstance(value, np.ndarray):
        return f"array of {value.dtype.kind}"
    return type(value).__name__


def check(engine, state, template: Mapping, same: tuple = (), free: tuple = ()) -> None:
    """Raise ParameterError (``engine``, ``"state"``) unless ``state`` fits ``template``.

    ``template``: what this engine's own snapshot looks like (its ``state()`` now, or arrays of
    the right shapes and dtypes). Checked, in this order: ``state`` is a mapping with the header;
    taken by this engine (registry name) from this model (content hash); the keys named in
    ``same`` (engine options such as ``"numerics"``) equal the template's; then every key of the
    template is present, no other key is, and each value has the template's type, dtype kind and
    shape (spike lists: any length, ticks and ids of equal length; keys in ``free``: any
    shape of the template's number of dimensions, for the caller to check). Nothing is changed.
    """
    if not isinstance(state, Mapping):
        raise error(engine, f"is a {type(state).__name__}, not a snapshot dict")
    missing = [k for k in HEADER if k not in state]
    if missing:
        raise error(engine, f"has no {', '.join(map(repr, missing))} (not a complete snapshot)")
    if state["format"] != template["format"]:
        raise error(engine, f"has snapshot format {state['format']!r}", f"format {template['format']}")
    if state["engine"] != template["engine"]:
        raise error(engine, f"is a snapshot of engine {state['engine']!r}",
                   f"a snapshot of engine {template['engine']!r}")
    if state["content_hash"] != template["content_hash"]:
        raise error(engine, "is a snapshot of another model (its content hash "
                   f"{str(state['content_hash'])[:12]}... differs from {template['content_hash'][:12]}...)",
                   "a snapshot of the model this engine was built from")
    for key in same:
        if key not in state:
            raise error(engine, f"has no {key!r} (not a complete snapshot)")
        if state[key] != template[key]:
            raise error(engine, f"was taken with {key} {state[key]!r}", f"{key} {template[key]!r} (this engine's)")
    missing = [k for k in template if k not in state]
    if missing:
        raise error(engine, f"has no {', '.join(map(repr, missing[:5]))}{' ...' if len(missing) > 5 else ''} "
                   "(truncated or from another layout)")
    extra = [k for k in state if k not in template]
    if extra:
        raise error(engine, f"has unexpected keys {', '.join(map(repr, extra[:5]))}"
                   f"{' ...' if len(extra) > 5 else ''}")
    if not isinstance(state["tick"], (int, np.integer)) or state["tick"] < 0:
        raise error(engine, f"tick {state['tick']!r} is not a tick", "an integer >= 0")
    for key, want in template.items():
        got = state[key]
        if _kind(got) != _kind(want):
            raise error(engine, f"{key!r} is a {_kind(got)}", f"a {_kind(want)}")
        if isinstance(want, np.ndarray):
            if is_spike_list(key) or key in free:
                if got.ndim != want.ndim:
                    raise error(engine, f"{key!r} has shape {got.shape}", f"a {want.ndim}-D array")
            elif got.shape != want.shape:
                raise error(engine, f"{key!r} has shape {got.shape}", f"shape {want.shape}")
    for key in template:
        if key.endswith("/ticks") and state[key].shape != state[key[:-len("ticks")] + "ids"].shape:
            raise error(engine, f"{key!r} and its ids differ in length", "as many ids as ticks")
