"""Cross-checks between engines: the fixed-point emulator's equivalent of a Lava process graph,
which the tests and benchmarks/loihi_emulator.py compare bit for bit with Lava. It imports both
engines on purpose; the engines themselves never import each other."""
from dataclasses import dataclass

import numpy as np

from neurohybrid.backends.emulator.fixed_engine import build_network
from neurohybrid.backends.lava.process_graph import PopulationRecord
from neurohybrid.mappings.loihi.circuit import LoihiCircuit
from neurohybrid.mappings.loihi.runtime import circuit_layout


@dataclass
class FixedLayout:
    """Where each population and input of a circuit sits in the single
    :class:`~neurohybrid.backends.emulator.fixed.FixedPointNetwork` :func:`fixed_network` builds:
    ``populations``/``inputs``: name -> (offset, size) in the neuron / input index space."""

    populations: dict
    inputs: dict

    def split(self, record) -> dict[str, PopulationRecord]:
        """Cut a FixedPointRecord into per-population :class:`PopulationRecord` objects."""
        out = {}
        for name, (o, n) in self.populations.items():
            out[name] = PopulationRecord(record.spikes[:, o:o + n],
                                         None if record.u is None else record.u[:, o:o + n],
                                         None if record.v is None else record.v[:, o:o + n])
        return out

    def input_matrix(self, inputs: dict, n_steps: int) -> np.ndarray:
        """Stack per-input spike arrays ([n_steps, size]) into the network's input matrix."""
        total = sum(n for _, n in self.inputs.values())
        m = np.zeros((n_steps, total), bool)
        for name, spikes in inputs.items():
            o, n = self.inputs[name]
            m[:, o:o + n] = np.asarray(spikes) != 0
        return m


def fixed_network(circuit: LoihiCircuit):
    """The :class:`~neurohybrid.backends.emulator.fixed.FixedPointNetwork` that computes what
    :func:`build_processes` runs on Lava ``fixed_pt`` (the fixed-point emulator engine's
    ``build_network``: all populations side by side, one connection per Lava connection
    process). Returns ``(network, FixedLayout)``."""
    pop_off, in_off, _, _ = circuit_layout(circuit)
    layout = FixedLayout({n: (pop_off[n], p.size) for n, p in circuit.populations.items()},
                         {n: (in_off[n], i.size) for n, i in circuit.inputs.items()})
    return build_network(circuit), layout
