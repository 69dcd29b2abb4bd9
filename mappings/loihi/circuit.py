"""The Loihi circuit: a model graph's point-neuron partition in Loihi 2 native integers.

This is the hand-off format of the Loihi path, plain data like the model graph:
``mappings.loihi.quantize`` produces it from a :class:`~neurohybrid.graph.ModelGraph`; the
fixed-point emulator and the Lava backend run it; the bundle writer stores it; placement
annotates it. Every number here is in the units of Lava's ``lava.proc.lif`` fixed-point models
(see ``backends/emulator/fixed.py`` for the arithmetic):

- ``du``, ``dv``: 12-bit decay mantissas (u is multiplied by (4095 - du)/4096 per step, v by
  (4096 - dv)/4096);
- ``vth``: 17-bit threshold mantissa (fires when v > vth << 6);
- ``bias_mant`` (13-bit signed), ``bias_exp``: bias added to v each step;
- ``refractory``: steps without v integration after a spike (0 = Lava ``LIF``);
- weights: 8-bit signed mantissas with one ``weight_exp`` per projection; delays: whole steps,
  the full spike-to-input latency, 1..64.

``scale`` records the affine map between PyNN's membrane potential and Loihi's v for each
population: ``v_loihi = (v_mV - v_rest) * scale``, so results can be reported in mV.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class LoihiPopulation:
    """A population of Loihi LIF compartments (per-neuron int arrays of length ``size``)."""

    name: str
    size: int
    du: np.ndarray
    dv: np.ndarray
    vth: np.ndarray
    bias_mant: np.ndarray
    bias_exp: np.ndarray
    refractory: np.ndarray
    u0: np.ndarray
    v0: np.ndarray
    scale: float  # Loihi v units per mV
    v_rest: float  # mV, the potential that maps to v = 0
    source_model: str  # the PyNN cell type it was mapped from
    approximations: tuple[str, ...] = ()  # named approximations the user asked for
    #: neurons that keep and send 3-factor learning traces (neurohybrid's fixed-point
    #: ``LearningLIF``): {"decay": 3 ints 0..4096, "impulse": 3 ints 0..127, "reward": 3 ints
    #: 0/1}, optionally "frac_bits": 3 ints 0..12 (default 0), one per trace y1, y2, y3 (``backends/emulator/fixed_learning.ThirdFactorTraces``);
    #: None: a plain LIF. The third factor itself comes from the host, per run.
    third_factor: dict | None = None


@dataclass
class LoihiInput:
    """A spike source fed into the chip from the host (one input channel per cell)."""

    name: str
    size: int
    source_model: str


@dataclass
class LoihiProjection:
    """Synapses from ``pre`` (a population or an input) to population ``post``: one Lava
    ``Sparse``/``DelaySparse`` process. ``rows``/``cols`` are post/pre indices (Lava's
    (post, pre) orientation), ``weights`` the int mantissas, ``delays`` steps (1..64).

    With ``learning`` (a compiled Loihi rule, ``mappings.loihi.learning_rules``) the projection
    is one Lava ``LearningDense``: every (post, pre) pair is a plastic synapse (pairs not listed
    start with weight 0), delays are 1 (Lava 0.10 has no learning connection with delays), each
    pair is listed at most once; ``tag_1``/``tag_2`` are the initial tags, dense
    (n_post, n_pre), or None (0)."""

    name: str
    pre: str
    post: str
    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray
    delays: np.ndarray
    weight_exp: int
    num_weight_bits: int = 8
    sign_mode: str | None = None  # None: inferred as Lava does
    learning: object | None = None  # LearningRuleTables: a plastic (LearningDense) projection
    tag_1: np.ndarray | None = None
    tag_2: np.ndarray | None = None


@dataclass
class LoihiCircuit:
    """Everything the chip (or its emulator) runs, with the reports that explain it."""

    dt_ms: float
    populations: dict[str, LoihiPopulation] = field(default_factory=dict)
    inputs: dict[str, LoihiInput] = field(default_factory=dict)
    projections: list[LoihiProjection] = field(default_factory=list)
    report: dict = field(default_factory=dict)  # quantisation report (JSON-serialisable)
    placement: dict | None = None  # placement / utilisation report (JSON-serialisable)
    manifest: dict = field(default_factory=dict)  # model hash, seed, versions

    @property
    def n_neurons(self) -> int:
        """Total number of compartments."""
        return int(sum(p.size for p in self.populations.values()))

    @property
    def n_synapses(self) -> int:
        """Total number of synapses (input synapses included)."""
        return int(sum(p.weights.size for p in self.projections))
