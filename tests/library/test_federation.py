"""Library modules placed in a whole-brain scaffold (neurohybrid.library.federation): one call
per module, the seam carrying both ways, module-to-module projections, and the typed errors of
issue 14 (a region the connectome lacks, two modules in one region, a seam variable the scaffold
lacks), each naming the module and the parameter."""
import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.errors import ParameterError
from neurohybrid.library import Module, Port
from neurohybrid.library.federation import Federation

CELL = dict(cm=0.25, tau_m=20.0, v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0, tau_refrac=2.0,
            tau_syn_E=5.0, tau_syn_I=5.0)


def circuit(name: str, n_e: int = 80, n_i: int = 20, seed: int = 1) -> Module:
    """A small E/I module with its own Poisson background (a stand-in for a library module)."""
    E = sim.Population(n_e, sim.IF_curr_exp(**CELL), label=f"{name}.E")
    I = sim.Population(n_i, sim.IF_curr_exp(**CELL), label=f"{name}.I")
    rng = sim.NumpyRNG(seed=seed)
    bg = sim.Population(n_e + n_i, sim.SpikeSourcePoisson(rate=1000.0), label=f"{name}.bg")
    EI = sim.Assembly(E, I)
    sim.Projection(bg, EI, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.05, delay=0.1))
    sim.Projection(E, EI, sim.FixedProbabilityConnector(0.1, rng=rng), sim.StaticSynapse(weight=0.05, delay=1.0))
    sim.Projection(I, EI, sim.FixedProbabilityConnector(0.1, rng=rng), sim.StaticSynapse(weight=-0.25, delay=1.0),
                   receptor_type="inhibitory")
    ports = {"E.spikes": Port("E.spikes", "spikes", "out", E), "I.spikes": Port("I.spikes", "spikes", "out", I),
             "input": Port("input", "spikes", "in", E)}
    return Module(name, {"E": E, "I": I}, ports, {}, "test circuit")


def scaffold():
    conn = sim.Connectome.synthetic(6, seed=2)
    brain = sim.WholeBrain(conn, model=sim.ReducedWongWangExcInh(G=0.01), coupling=sim.LinearCoupling(a=1.0),
                           speed=3.0, integrator=sim.HeunStochastic(nsig=1e-6, seed=1))
    brain.record(["S_e", "S_i"], sampling_interval=10.0)
    return brain


def test_two_modules_in_two_regions_and_a_coupling_run_and_carry_the_seam(tmp_path):
    sim.setup(timestep=0.1, seed=3, recording_path=str(tmp_path / "fed.h5"))
    fed = Federation(sim, scaffold())
    a, b, c = circuit("a", seed=1), circuit("b", seed=2), circuit("c", seed=3)
    fed.place(a, "R1", seam={"S_e": "E", "S_i": "I"})
    fed.place(b, "R4", seam={"S_e": ["E"], "S_i": ["I"]}, inputs=["E", "I"], gain=2.0)
    fed.connect(c, "E.spikes", a, "E", weight=0.05)  # c has no region: it reaches the scaffold through a
    report = fed.describe()
    sim.run(300.0)
    rates = fed.brain.get_data("R1.rates")["values"]
    se = fed.brain.get_data("S_e")["values"]
    sim.end()
    assert [m["region"] for m in report["modules"]] == ["R1", "R4", None]
    assert report["modules"][0]["seam"] == {"S_e": ["a.E"], "S_i": ["a.I"]}
    assert report["modules"][1]["inputs"] == ["b.E", "b.I"]
    assert report["couplings"][0][:2] == ("c.E.spikes", "a.a.E")
    assert report["modules"][0]["populations"]["E"]["engine"] is not None
    assert rates.shape[1] == 2 and np.all(np.isfinite(rates)) and rates[5:, 0].mean() > 1.0  # Hz
    assert np.all(np.isfinite(se)) and se.shape[1] == 6


@pytest.mark.parametrize("case, match", [
    ("no_region", r"a module\.region: 'nowhere' is not a region"),
    ("twice", r"b module\.region: 'R1' already holds the a module"),
    ("bad_variable", r"a module\.seam\['V'\]: ReducedWongWangExcInh has no state variable 'V'"),
    ("foreign_population", r"a module\.seam\['S_e'\]: 'b.E' is not a population of the module"),
    ("no_seam", r"a module\.seam"),
])
def test_bad_placements_are_typed_errors_naming_the_module_and_the_parameter(case, match):
    sim.setup(timestep=0.1)
    fed = Federation(sim, scaffold())
    a, b = circuit("a"), circuit("b")
    with pytest.raises(ParameterError, match=match):
        if case == "no_region":
            fed.place(a, "nowhere", seam={"S_e": "E"})
        elif case == "twice":
            fed.place(a, "R1", seam={"S_e": "E", "S_i": "I"})
            fed.place(b, "R1", seam={"S_e": "E", "S_i": "I"})
        elif case == "bad_variable":
            fed.place(a, "R1", seam={"V": "E"})
        elif case == "foreign_population":
            fed.place(a, "R1", seam={"S_e": b.populations["E"]})
        else:
            fed.place(a, "R1", seam={})
    assert fed.placements.get("R1") is None or fed.placements["R1"].module.name == "a"
    sim.end()
