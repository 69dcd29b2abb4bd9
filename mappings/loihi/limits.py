"""Loihi 2 limits: the one table that quantisation and placement read.

Every number has its source next to it. Sources, abbreviated in the table:

- ``brief``: Intel Labs, "Taking Neuromorphic Computing to the Next Level with Loihi 2",
  technology brief (2021), Table 1 (Loihi vs Loihi 2 features).
- ``davies2018``: M. Davies et al., "Loihi: A Neuromorphic Manycore Processor with On-Chip
  Learning", IEEE Micro 38(1):82-99 (2018), Table 1 and Section "Architecture" (Loihi 1).
- ``davies2021``: M. Davies et al., "Advancing Neuromorphic Computing With Loihi: A Survey of
  Results and Outlook", Proc. IEEE 109(5):911-934 (2021).
- ``lava``: the Lava 0.10 source installed here (paths relative to ``site-packages/lava``);
  where Lava encodes a limit (a register width in a ``LavaPyType(precision=...)`` or an
  explicit check) that is the number the bit-accurate models, and so our circuit, obey.

``status`` says how firm a number is: ``"lava"`` (encoded in the Lava source: exact for what
Lava runs), ``"published"`` (stated in a source above), ``"derived"`` (computed from published
numbers, the computation is given) or ``"assumed"`` (not published for Loihi 2: the note says
what we assume and why). The published figures were transcribed from the documents as cited
and could not be re-checked against them offline; the Lava ones were read from the installed
source. Loihi 2's per-core resource split (synaptic memory, axon tables) is not public; the
assumptions below are conservative Loihi 1 figures so that a circuit that places here is
unlikely to be refused by Intel's compiler for lack of memory.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    """One hardware limit: ``value`` in ``unit``, where it comes from and how firm it is."""

    value: int
    unit: str
    source: str
    status: str  # "lava" | "published" | "derived" | "assumed"
    note: str = ""


KIB = 1024

#: The table. Keys are used by name in the quantize_* modules and placement.py.
LIMITS: dict[str, Limit] = {
    # ---- chip and system -----------------------------------------------------------------
    "cores_per_chip": Limit(
        128, "neurocores", "brief, Table 1: 'Max # neuron cores/chip: 128' (same as Loihi 1)", "published"),
    "embedded_cpus_per_chip": Limit(
        6, "x86 cores", "brief, Table 1: 'Max # processor cores/chip: 6' (Loihi 1: 3)", "published",
        "not used by placement: spike sources run on the host and enter through them"),
    "neurons_per_chip": Limit(
        1_000_000, "neurons", "brief, Table 1: 'Max # neurons/chip: 1 million'", "published"),
    "synapses_per_chip": Limit(
        120_000_000, "synapses", "brief, Table 1: 'Max # synapses/chip: 120 million'", "published",
        "a best case (narrow synapses in compressed formats); reported, never binding before the "
        "per-core synaptic memory with 8-bit weights"),
    # ---- neurocore -------------------------------------------------------------------------
    "neurons_per_core": Limit(
        8192, "compartments", "derived from brief, Table 1: 1 million neurons / 128 neuron cores "
        "= 7812.5, taken as the power of two 2**13 = 8192", "derived",
        "the per-core figure is not stated in the brief; 8192 assumes a LIF compartment uses "
        "the minimal state allocation"),
    "core_memory_bytes": Limit(
        192 * KIB, "bytes", "brief, Table 1: 'Memory/neuron core: 192 KB, flexible allocation' "
        "(Loihi 1: 208 KB, fixed allocation)", "published",
        "shared between synapses, neuron state and axon routing tables"),
    "synaptic_memory_bytes_per_core": Limit(
        128 * KIB, "bytes", "assumed: Loihi 1's 128 KB of synaptic memory per core "
        "(davies2018, Table 1: 16 MB per chip over 128 cores)", "assumed",
        "Loihi 2 splits its 192 KB per core flexibly and the split is not published; we give "
        "synapses 128 KB and leave 64 KB for neuron state and axon tables"),
    "fan_in_axons_per_core": Limit(
        4096, "input axons", "assumed: Loihi 1's 4096 input axons per core (davies2018, Table 1)",
        "assumed",
        "not published for Loihi 2; every distinct presynaptic neuron or input channel that "
        "reaches a core uses one input axon there"),
    "fan_out_axons_per_core": Limit(
        4096, "output axons", "assumed: Loihi 1's 4096 output axons per core (davies2018, Table 1)",
        "assumed",
        "not published for Loihi 2; a neuron uses one output axon per distinct destination core "
        "(on any chip)"),
    # ---- synapses (what one synapse costs in synaptic memory) -------------------------------
    "weight_bits": Limit(
        8, "bits", "lava: proc/sparse/models.py L69 (weights precision=8) and "
        "utils/weightutils.py clip_weights(num_bits=8); davies2018: 1-9 bit weights", "lava",
        "sign-homogeneous projections use 8 magnitude bits, mixed-sign ones 7 bits + sign"),
    "weight_exp_min": Limit(
        0, "", "lava: proc/sparse/models.py L104-106, L369-371 (sum >> -weight_exp for negative exponents)",
        "lava",
        "Lava accepts -8..7, but a negative exponent floors the per-step sum (a lone spike of "
        "mantissa m delivers m >> -exp), so it never adds resolution; the mapping uses 0..7"),
    "weight_exp_max": Limit(
        7, "", "assumed: Loihi's weight exponent as a 4-bit signed field (-8..7), as in Intel's NxSDK "
        "documentation for Loihi 1 and backends/emulator/fixed.py _WEIGHT_EXP_RANGE", "assumed",
        "Lava 0.10 itself does not bound weight_exp (it shifts by any amount); with 8-bit mantissas "
        "and exponent 7 a single weight reaches 255 << 13 in u"),
    "delay_bits": Limit(
        6, "bits", "lava: proc/sparse/models.py L326 (delays precision=6), L317 ('Loihi 2 has a "
        "maximum of 6 bits for delays') and L351 (delays > 63 refused)", "lava"),
    "max_delay_steps": Limit(
        64, "time steps", "lava: DelaySparse delay 0..63 plus the one-step latency every "
        "connection has (backends/emulator/fixed.py MAX_DELAY)", "lava",
        "the whole spike-to-input latency"),
    "synapse_index_bits": Limit(
        13, "bits", "assumed: a sparse synapse names its target compartment, log2(8192) bits",
        "assumed",
        "Loihi's synapse encodings are not published in detail for Loihi 2; davies2018 describes "
        "sparse, dense and run-length formats; we cost every synapse as sparse"),
    # ---- neuron registers (Lava LIF fixed point) --------------------------------------------
    "uv_bits": Limit(24, "bits", "lava: proc/lif/models.py L80-81 (u, v precision=24) and L101", "lava",
                     "u wraps at 2**23, v saturates at +-(2**23 - 1)"),
    "vth_bits": Limit(17, "bits", "lava: proc/lif/models.py L262 (vth precision=17), compared as vth << 6",
                      "lava"),
    "decay_bits": Limit(12, "bits", "lava: proc/lif/models.py L82-83 (du, dv precision=12)", "lava"),
    "bias_mant_bits": Limit(13, "bits (signed)", "lava: proc/lif/models.py L84 and L254 (-4096..4095)",
                            "lava"),
    "bias_exp_max": Limit(7, "", "lava: proc/lif/models.py L85 and L256 (unsigned 3 bits, 0..7)", "lava"),
    "activation_bits": Limit(
        16, "bits (signed)", "lava: proc/lif/models.py L78 (a_in int16, precision=16)", "lava",
        "the summed synaptic input a neuron takes in one step; reported as headroom, not enforced "
        "(Lava's CPU models sum in int32)"),
    # ---- systems: chips per system ---------------------------------------------------------
    "chips_oheo_gulch": Limit(1, "chips", "lava: magma/core/resources.py OheoGulch ('a single Loihi 2 chip')",
                              "lava"),
    "chips_kapoho_point": Limit(
        4, "chips", "lava: magma/core/resources.py KapohoPoint ('four Loihi 2 chips')", "lava",
        "Intel's 2022 announcement describes an 8-chip Kapoho Point board (not re-checked here); "
        "pass chips=8 for that board"),
    "chips_hala_point": Limit(
        1152, "chips", "Intel press release, April 2024 (Hala Point: 1,152 Loihi 2 processors)",
        "published"),
}

#: System names accepted by ``place(circuit, chips=...)``.
SYSTEMS = {"oheo_gulch": "chips_oheo_gulch", "kapoho_point": "chips_kapoho_point",
           "hala_point": "chips_hala_point"}


def limit(name: str) -> int:
    """The value of limit ``name`` (see :data:`LIMITS`)."""
    return LIMITS[name].value


# Derived constants used by the mapping (all from the table above).
VTH_MAX = (1 << limit("vth_bits")) - 1  # 131071
UV_MAX = (1 << (limit("uv_bits") - 1)) - 1  # 2**23 - 1: largest |v| (v saturates there)
DECAY_MAX = (1 << limit("decay_bits")) - 1  # 4095
BIAS_MANT_MIN = -(1 << (limit("bias_mant_bits") - 1))  # -4096
BIAS_MANT_MAX = (1 << (limit("bias_mant_bits") - 1)) - 1  # 4095
ACT_SHIFT = 6  # lava proc/lif/models.py L108: activation << 6 enters u
VTH_SHIFT = 6  # lava proc/lif/models.py L107: fires when v > vth << 6


def as_table() -> list[dict]:
    """The table as JSON-serialisable rows (name, value, unit, status, source, note)."""
    return [{"name": k, "value": v.value, "unit": v.unit, "status": v.status, "source": v.source, "note": v.note}
            for k, v in LIMITS.items()]


def format_limits() -> str:
    """The table as text, one limit per line with its status and source."""
    lines = []
    for k, v in LIMITS.items():
        lines.append(f"{k:32s} {v.value:>12,} {v.unit:16s} [{v.status}] {v.source}")
    return "\n".join(lines)
