"""One hybrid model two ways: the model graph of examples/graph_hybrid.py (built by hand, no
PyNN) and the same model as a PyNN script. Deterministic connectivity (one-to-one, from a
list), so the hand-built graph holds exactly the connections PyNN generates."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
from graph_hybrid import (D_CELLS, D_IN, DT, E_TO_CELLS, GAIN, N_CELLS, N_E, N_I, W_CELLS, W_IN,  # noqa: E402,F401
                          BallStick, build_graph, current_field, threshold_field)

T_RUN = 100.0  # ms


def graph_model():
    """The model built directly as a model graph (examples/graph_hybrid.py)."""
    return build_graph(seed=5)


def pynn_model():
    """The model as a PyNN script (session left open: the caller runs and ends it)."""
    import neurohybrid.pynn as sim
    sim.setup(timestep=DT, seed=5)
    brain = sim.WholeBrain(sim.Connectome.synthetic(4, seed=1), model=sim.ReducedWongWangExcInh(G=0.5),
                           coupling=sim.LinearCoupling(a=1.0), exchange=1.0, label="brain")
    E = sim.Population(N_E, sim.IF_curr_exp(), label="E")
    I = sim.Population(N_I, sim.IF_curr_exp(), label="I")
    cells = sim.Population(N_CELLS, sim.NeuronCell(BallStick, receptors={"exc": "syns"}), label="cells")
    sim.Projection(E, cells, sim.FromListConnector(E_TO_CELLS), sim.StaticSynapse(weight=W_CELLS, delay=D_CELLS),
                   receptor_type="exc", label="E->cells")
    brain.replace("R1", [E, I], inputs=sim.rates_to_spikes("poisson", weight=W_IN, delay=D_IN, gain=GAIN),
                  output=sim.spikes_to_rates("box"))
    brain.modulate(I, "R2", "S_e", modulates="threshold", fn=threshold_field, field="tone")
    sim.modulate(E, cells, proxy="mean_v:soma", modulates="current", fn=current_field, field="soma_v", delay=1.0)
    cells.record("spikes")
    brain.record(["S_e"], sampling_interval=1.0)
    return sim
