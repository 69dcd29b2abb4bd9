"""The Lava processes of a :class:`~neurohybrid.mappings.loihi.circuit.LoihiCircuit`, one
builder per kind of circuit object (neurons, inputs, connections, plastic connections,
recorders), called by :func:`.process_graph.build_processes`, and the parameter checks they
share with it. Lava is imported inside the builders (it is optional)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import os
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from neurohybrid.errors import DelayError, ParameterError, UnsupportedModelError
from neurohybrid.mappings.loihi.circuit import LoihiCircuit, LoihiPopulation, LoihiProjection

if TYPE_CHECKING:  # annotations only (process_graph imports this module)
    from .process_graph import LavaGraph

#: Largest circuit delay (steps): Lava's DelaySparse takes 0..63 (6 bits) plus the one step of
#: latency every connection has.
MAX_DELAY = 64
_SIGN_MODES = ("excitatory", "inhibitory", "mixed")


def _source_size(circuit: LoihiCircuit, name: str, proj: LoihiProjection) -> int:
    if name in circuit.populations:
        return circuit.populations[name].size
    if name in circuit.inputs:
        return circuit.inputs[name].size
    raise ParameterError(proj.name, "pre", f"{name!r} is neither a population nor an input of the circuit",
                         ", ".join([*circuit.populations, *circuit.inputs]))


def _uniform(a: np.ndarray) -> bool:
    a = np.asarray(a)
    return a.size == 0 or bool(np.all(a == a.flat[0]))


def _int_param(pop: LoihiPopulation, name: str) -> np.ndarray:
    value = np.asarray(getattr(pop, name))
    value = np.broadcast_to(value, (pop.size,)) if value.ndim == 0 else value
    if value.shape != (pop.size,):
        raise ParameterError(pop.name, name, f"shape {value.shape}", f"an array of shape ({pop.size},)")
    if value.size and not np.all(value == np.round(value)):
        raise ParameterError(pop.name, name, "is not integer-valued", "Loihi integers")
    return value.astype(np.int64)


def population_parameters(pop: LoihiPopulation) -> dict[str, np.ndarray]:
    """Per-neuron int64 arrays ``du, dv, vth, bias_mant, bias_exp, refractory, u0, v0`` of a
    population (scalars broadcast), checked for shape and integrality."""
    return {name: _int_param(pop, name)
            for name in ("du", "dv", "vth", "bias_mant", "bias_exp", "refractory", "u0", "v0")}


class _Synapses(NamedTuple):
    """One connection process worth of synapses (post, pre, weight, delay), unique pairs."""

    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray
    delays: np.ndarray


def projection_layers(proj: LoihiProjection, n_post: int, n_pre: int) -> tuple[str, list[_Synapses]]:
    """The sign mode of a projection and its synapses cut into groups with unique (post, pre)
    pairs, zero weights dropped: one Lava connection process per group, in order.

    Sign mode and grouping come from the shared Loihi runtime
    (``mappings/loihi/runtime.py``: ``projection_sign_mode``, ``connection_layers``), which the
    fixed-point emulator uses too, so both engines run the same connection processes.
    """
    from neurohybrid.mappings.loihi.runtime import connection_layers, projection_sign_mode
    rows = np.asarray(proj.rows, dtype=np.int64).ravel()
    cols = np.asarray(proj.cols, dtype=np.int64).ravel()
    w = np.asarray(proj.weights).ravel()
    d = np.asarray(proj.delays).ravel()
    if d.size == 1 and rows.size != 1:
        d = np.full(rows.size, d.item())
    if w.size == 1 and rows.size != 1:
        w = np.full(rows.size, w.item())
    if not (rows.size == cols.size == w.size == d.size):
        raise ParameterError(proj.name, "rows/cols/weights/delays",
                             f"lengths {rows.size}, {cols.size}, {w.size}, {d.size} differ", "equal lengths")
    if rows.size and (rows.min() < 0 or rows.max() >= n_post or cols.min() < 0 or cols.max() >= n_pre):
        raise ParameterError(proj.name, "rows/cols", "indices out of range",
                             f"post indices in [0, {n_post}), pre indices in [0, {n_pre})")
    if w.size and not np.all(w == np.round(w)):
        raise ParameterError(proj.name, "weights", "not integer-valued", "integer weight mantissas")
    if d.size and not np.all(d == np.round(d)):
        raise DelayError(proj.name, "delays", "not whole time steps", f"integers in [1, {MAX_DELAY}]")
    w, d = w.astype(np.int64), d.astype(np.int64)
    if d.size and (d.min() < 1 or d.max() > MAX_DELAY):
        raise DelayError(proj.name, "delays", f"values in [{d.min()}, {d.max()}] out of range",
                         f"integers in [1, {MAX_DELAY}] (Lava DelaySparse delay + 1)")
    if not -8 <= int(proj.weight_exp) <= 7:
        raise ParameterError(proj.name, "weight_exp", f"{proj.weight_exp}", "an integer in [-8, 7]")
    if not 1 <= int(proj.num_weight_bits) <= 8:
        raise ParameterError(proj.name, "num_weight_bits", f"{proj.num_weight_bits}", "1..8")
    mode = projection_sign_mode(proj, n_post, n_pre)
    if mode not in _SIGN_MODES:
        raise ParameterError(proj.name, "sign_mode", f"{mode!r}", ", ".join(_SIGN_MODES) + " or None")
    # A synapse whose weight Lava clips/truncates to 0 adds nothing, in Lava as in the emulator
    # (which drops it too); leaving it out also spares Lava's DelaySparse a change of sparsity
    # structure after its weight truncation.
    live = lava_effective(w, mode, int(proj.num_weight_bits)) != 0
    layers = []
    for sel in connection_layers(rows, cols):
        sel = sel[live[sel]]
        layers.append(_Synapses(rows[sel], cols[sel], w[sel], d[sel]))
    return mode, layers


class _LavaKit:
    """The Lava classes a build uses and the ProcessModel each process gets.

    Lava's compiler checks ``proc in exception_proc_model_map`` with the process *instance*
    (``compiler_graphs.py``, ``_map_proc_to_model``): keying the map by instance selects a model
    without Lava's search, which imports every module file next to the process's own.
    """

    def __init__(self, fixed: bool):
        from lava.proc.lif.models import PyLifModelBitAcc, PyLifModelFloat, PyLifRefractoryModelFloat
        from lava.proc.dense.models import PyLearningDenseModelBitApproximate
        from lava.proc.dense.process import LearningDense
        from lava.proc.lif.process import LIF, LearningLIF, LIFRefractory
        from lava.proc.sparse.models import (PyDelaySparseModelBitAcc, PyDelaySparseModelFloat,
                                             PySparseModelBitAcc, PySparseModelFloat)
        from lava.proc.sparse.process import DelaySparse, Sparse
        from lava.utils.weightutils import SignMode

        from . import models
        self.fixed, self.models, self.SignMode = fixed, models, SignMode
        self.LIF, self.LIFRefractory, self.Sparse, self.DelaySparse = LIF, LIFRefractory, Sparse, DelaySparse
        self.LearningDense, self.LearningLIF = LearningDense, LearningLIF
        # Lava's own processes: the models its tag selection picks on the CPU simulator
        self.lava_models = {LIF: PyLifModelBitAcc if fixed else PyLifModelFloat,
                            Sparse: PySparseModelBitAcc if fixed else PySparseModelFloat,
                            DelaySparse: PyDelaySparseModelBitAcc if fixed else PyDelaySparseModelFloat,
                            LearningDense: PyLearningDenseModelBitApproximate}
        # models of ours, on any target (LIFRefractory has no fixed-point model in Lava, nor
        # a neuro-core one we know of: it runs on the CPU everywhere)
        self.own_models = {
            LIFRefractory: models.PyLifRefractoryModelFixed if fixed else PyLifRefractoryModelFloat,
            models.LoihiLIF: models.PyLoihiLifModelFixed if fixed else models.PyLoihiLifModelFloat,
            models.HostSpikeSource: models.PyHostSpikeSourceModel if fixed else models.PyHostSpikeSourceModelFloat,
            LearningLIF: models.PyLearningLifModelFixed3F,
            models.HostGradedSource: models.PyHostGradedSourceModel,
        }

    def register(self, graph: LavaGraph, proc):
        """Record the model of ``proc`` in ``graph`` and return ``proc``."""
        cls = type(proc)
        if cls is self.models.HostRecorder:
            graph.model_map[proc] = (self.models.PyHostStateRecorderModel if proc.proc_params["record_uv"]
                                     else self.models.PyHostRecorderModel)
        elif cls in self.own_models:
            graph.model_map[proc] = self.own_models[cls]
        else:
            graph.lava_models[proc] = self.lava_models[cls]
        return proc


def _build_neurons(graph: LavaGraph, pops: dict, kit: _LavaKit, live_threshold: set) -> None:
    for name, pop in pops.items():
        p = population_parameters(pop)
        _check_population(pop, p)
        uniform = name not in live_threshold and all(_uniform(p[k]) for k in ("du", "dv", "vth", "refractory"))
        if kit.fixed:
            du, dv, vth = p["du"], p["dv"], p["vth"]
            bias, bias_exp = p["bias_mant"], p["bias_exp"]
            u0, v0 = p["u0"], p["v0"]
        else:  # the same dynamics in real numbers (see build_processes)
            du = (p["du"] + 1) / 4096.0
            dv = p["dv"] / 4096.0
            vth = p["vth"] * 64.0
            bias = p["bias_mant"] * np.power(2.0, p["bias_exp"])
            bias_exp = np.zeros(pop.size)
            u0, v0 = p["u0"].astype(float), p["v0"].astype(float)
        common = dict(shape=(pop.size,), u=u0, v=v0, bias_mant=bias, bias_exp=bias_exp, name=name)
        tf = getattr(pop, "third_factor", None)
        if tf:
            if not (kit.fixed and uniform and p["refractory"][0] == 0):
                raise UnsupportedModelError(name, "third_factor", "3-factor traces need Lava's LearningLIF: fixed-point "
                                            "numerics, one du, dv, vth per population, no refractory period",
                                            "a uniform LIF population on fixed_pt")
            proc = kit.LearningLIF(du=du[0].item(), dv=dv[0].item(), vth=vth[0].item(), learning_rule=None,
                                   y_decay=tuple(int(x) for x in tf.get("decay", (0, 0, 0))),
                                   y_impulse=tuple(int(x) for x in tf.get("impulse", (0, 0, 0))),
                                   y_reward=tuple(int(x) for x in tf.get("reward", (0, 0, 0))), **common)
            proc.proc_params.overwrite("y_frac_bits", tuple(int(x) for x in tf.get("frac_bits", (0, 0, 0))))
            graph.neurons[name] = kit.register(graph, proc)
            graph.neuron_kind[name] = "LearningLIF"
            path = os.path.join(graph._dir.name, f"reward{len(graph.rewards)}.values")
            graph._reward_rings[name] = np.memmap(path, dtype=np.int32, mode="w+", shape=(graph.buffer_steps, pop.size))
            src = kit.register(graph, kit.models.HostGradedSource(shape=(pop.size,), path=path,
                                                                  buffer_steps=graph.buffer_steps, name=f"reward:{name}"))
            src.s_out.connect(proc.a_third_factor_in)
            graph.rewards[name] = src
            continue
        if uniform and p["refractory"][0] == 0:
            proc, kind = kit.LIF(du=du[0].item(), dv=dv[0].item(), vth=vth[0].item(), **common), "LIF"
        elif uniform:
            proc = kit.LIFRefractory(du=du[0].item(), dv=dv[0].item(), vth=vth[0].item(),
                                     refractory_period=int(p["refractory"][0]), **common)
            kind = "LIFRefractory"
        else:
            proc = kit.models.LoihiLIF(du=du, dv=dv, vth=vth, refractory_period=p["refractory"], **common)
            kind = "LoihiLIF"
        graph.neurons[name] = kit.register(graph, proc)
        graph.neuron_kind[name] = kind


def _build_inputs(graph: LavaGraph, pops: dict, kit: _LavaKit) -> None:
    circuit, W = graph.circuit, graph.buffer_steps
    for name, inp in circuit.inputs.items():
        if inp.size == 0 or not any(pr.pre == name and pr.post in pops for pr in circuit.projections):
            continue  # nothing on the chip listens to it
        path = os.path.join(graph._dir.name, f"input{len(graph.inputs)}.spikes")
        graph._input_rings[name] = np.memmap(path, dtype=np.uint8, mode="w+", shape=(W, inp.size))
        graph.inputs[name] = kit.register(graph, kit.models.HostSpikeSource(
            shape=(inp.size,), path=path, buffer_steps=W, name=f"input:{name}"))


def _build_connections(graph: LavaGraph, pops: dict, kit: _LavaKit) -> None:
    circuit = graph.circuit
    for proj in circuit.projections:
        if proj.post not in circuit.populations:
            raise ParameterError(proj.name, "post", f"{proj.post!r} is not a population of the circuit",
                                 ", ".join(circuit.populations))
        n_pre = _source_size(circuit, proj.pre, proj)
        n_post = circuit.populations[proj.post].size
        if getattr(proj, "learning", None) is not None:
            _build_plastic(graph, kit, proj, pops, n_pre, n_post)
            continue
        mode, layers = projection_layers(proj, n_post, n_pre)  # validates, even if unused below
        if proj.post not in pops or n_pre == 0:
            continue
        source = graph.neurons.get(proj.pre) or graph.inputs.get(proj.pre)
        procs = []
        for k, syn in enumerate(layers):
            if kit.fixed:
                values, dtype = syn.weights, np.int64
            else:  # the weights the fixed-point model would use, in v units (see build_processes)
                values = lava_effective(syn.weights, mode, int(proj.num_weight_bits)) * 2.0 ** (proj.weight_exp + 6)
                dtype = float
            w = sp.csr_matrix((values, (syn.rows, syn.cols)), shape=(n_post, n_pre), dtype=dtype)
            kwargs = dict(weight_exp=int(proj.weight_exp), num_weight_bits=int(proj.num_weight_bits),
                          sign_mode=kit.SignMode[mode.upper()], name=f"{proj.name}#{k}")
            if syn.delays.size and syn.delays.max() > 1:
                d = sp.csr_matrix((syn.delays - 1, (syn.rows, syn.cols)), shape=(n_post, n_pre), dtype=np.int64)
                d.eliminate_zeros()  # DelaySparse reads a missing entry as Lava delay 0 (latency 1)
                proc = kit.DelaySparse(weights=w, delays=d, **kwargs)
            else:
                proc = kit.Sparse(weights=w, **kwargs)
            kit.register(graph, proc)
            source.s_out.connect(proc.s_in)
            proc.a_out.connect(graph.neurons[proj.post].a_in)
            procs.append(proc)
        graph.connections[proj.name] = procs


def _build_plastic(graph: LavaGraph, kit: _LavaKit, proj: LoihiProjection, pops: dict, n_pre: int, n_post: int) -> None:
    """One ``LearningDense`` for a plastic projection (see :func:`build_processes`)."""
    from neurohybrid.mappings.loihi.learning_rules import lava_rule, plastic_block
    from neurohybrid.mappings.loihi.runtime import projection_sign_mode
    if not kit.fixed:
        raise UnsupportedModelError(proj.name, "learning", "plastic projections run on fixed_pt only",
                                    "numerics='fixed'")
    weights, tag_1, tag_2 = plastic_block(proj, n_post, n_pre)
    mode = projection_sign_mode(proj, n_post, n_pre)
    if mode not in _SIGN_MODES:
        raise ParameterError(proj.name, "sign_mode", f"{mode!r}", ", ".join(_SIGN_MODES) + " or None")
    if proj.post not in pops or n_pre == 0:
        return
    rule = proj.learning
    post = graph.neurons[proj.post]
    if rule.three_factor and graph.neuron_kind[proj.post] != "LearningLIF":
        raise UnsupportedModelError(proj.name, "learning", f"a 3-factor rule onto {proj.post!r}, which keeps no "
                                    "third-factor traces", "a post population with third_factor")
    proc = kit.LearningDense(weights=weights.astype(np.int32), tag_1=tag_1, tag_2=tag_2,
                             learning_rule=lava_rule(rule), weight_exp=int(proj.weight_exp),
                             num_weight_bits=int(proj.num_weight_bits), sign_mode=kit.SignMode[mode.upper()],
                             name=f"{proj.name}#0")
    kit.register(graph, proc)
    source = graph.neurons.get(proj.pre) or graph.inputs.get(proj.pre)
    source.s_out.connect(proc.s_in)
    proc.a_out.connect(post.a_in)
    if graph.neuron_kind[proj.post] == "LearningLIF":
        post.s_out_bap.connect(proc.s_in_bap)
        if rule.three_factor:
            post.s_out_y1.connect(proc.s_in_y1)
            post.s_out_y2.connect(proc.s_in_y2)
            post.s_out_y3.connect(proc.s_in_y3)
    else:
        post.s_out.connect(proc.s_in_bap)  # the bAP is the post neurons' spikes (Lava's STDP usage)
    graph.connections[proj.name] = [proc]


_PLASTIC_VARS = ("weights", "tag_1", "tag_2", "x1", "x2", "y1", "y2", "y3", "tx", "ty")


def _build_var_recorders(graph: LavaGraph, kit: _LavaKit) -> None:
    """A :class:`.models.HostVarRecorder` per plastic projection and per LearningLIF population."""
    rows = graph.buffer_steps if graph.plastic_period == 1 else 1
    anchor = graph.anchor
    targets = []
    for proj in graph.circuit.projections:
        if getattr(proj, "learning", None) is not None and proj.name in graph.connections:
            proc = graph.connections[proj.name][0]
            targets.append((proj.name, [(v, getattr(proc, v)) for v in _PLASTIC_VARS]))
    for name, kind in graph.neuron_kind.items():
        if kind == "LearningLIF":
            proc = graph.neurons[name]
            targets.append((("neuron_y", name), [(v, getattr(proc, v)) for v in ("y1", "y2", "y3")]))
    for k, (key, variables) in enumerate(targets):
        prefix = os.path.join(graph._dir.name, f"vars{k}")
        shapes = [tuple(var.shape) for _, var in variables]
        rings = {}
        for q, (vname, var) in enumerate(variables):
            rings[vname] = np.memmap(f"{prefix}.{q}", dtype=np.float64, mode="w+", shape=(rows,) + shapes[q])
        rec = kit.models.HostVarRecorder(shapes=shapes, prefix=prefix, rows=rows, period=graph.plastic_period,
                                         name=f"vars:{key}")
        graph.model_map[rec] = kit.models.var_recorder_model(len(shapes))
        for q, (_, var) in enumerate(variables):
            getattr(rec, f"ref{q}").connect_var(var)
        if anchor is not None:
            anchor.link_out.connect(rec.link_in)
        graph.var_recorders.append(rec)
        graph._var_rings[key] = rings


def _build_recorders(graph: LavaGraph, kit: _LavaKit) -> None:
    W, dtype = graph.buffer_steps, "int32" if kit.fixed else "float64"
    previous = None
    for k, (name, proc) in enumerate(graph.neurons.items()):
        prefix = os.path.join(graph._dir.name, f"pop{k}")
        shape = (W, graph.circuit.populations[name].size)
        uv = graph.record_uv[name]
        rings = {"spikes": np.memmap(prefix + ".spikes", dtype=np.uint8, mode="w+", shape=shape)}
        if uv:
            rings["u"] = np.memmap(prefix + ".u", dtype=dtype, mode="w+", shape=shape)
            rings["v"] = np.memmap(prefix + ".v", dtype=dtype, mode="w+", shape=shape)
        graph._output_rings[name] = rings
        rec = kit.register(graph, kit.models.HostRecorder(shape=(shape[1],), prefix=prefix, buffer_steps=W,
                                                          record_uv=uv, dtype=dtype, name=f"recorder:{name}"))
        proc.s_out.connect(rec.s_in)
        if uv:
            rec.u_ref.connect_var(proc.u)
            rec.v_ref.connect_var(proc.v)
        if previous is not None:  # chain: one connected Lava network (see the module docstring)
            previous.link_out.connect(rec.link_in)
        previous = rec
        graph.recorders[name] = rec


def _check_population(pop: LoihiPopulation, p: dict) -> None:
    ranges = {"du": (0, 4095), "dv": (0, 4095), "vth": (0, 2 ** 17 - 1), "bias_mant": (-4096, 4095),
              "bias_exp": (-7, 7), "refractory": (0, 2 ** 31 - 1), "u0": (-(2 ** 31), 2 ** 31 - 1),
              "v0": (-(2 ** 31), 2 ** 31 - 1)}
    for name, (lo, hi) in ranges.items():
        a = p[name]
        if a.size and (a.min() < lo or a.max() > hi):
            raise ParameterError(pop.name, name, f"values in [{a.min()}, {a.max()}] out of range",
                                 f"integers in [{lo}, {hi}]")


def lava_effective(weights: np.ndarray, sign_mode: str, num_weight_bits: int) -> np.ndarray:
    """The integer weights Lava's fixed-point connections use (clipped to 8 bits for the sign
    mode, then truncated to ``num_weight_bits``): see
    :func:`neurohybrid.mappings.loihi.runtime.lava_effective_weights`."""
    from neurohybrid.mappings.loihi.runtime import lava_effective_weights
    return lava_effective_weights(weights, sign_mode, num_weight_bits)
