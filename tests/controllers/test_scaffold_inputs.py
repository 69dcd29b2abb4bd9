"""Scaffold regions as controller inputs (issue 13): a controller reads a WholeBrain region's
state through ``brain.signal(region, variable)`` (a port declared ``"signal"``) and acts on the
spiking circuit through a field; the values it sees are the region's own; bad bindings are
typed errors."""
import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.controllers import SIGNAL, Controller
from neurohybrid.errors import LinkError


class Echo(Controller):
    """Writes 6 nA per unit of the region's value; keeps every value it saw."""

    def __init__(self, name, period=5.0):
        super().__init__(name, {"region": SIGNAL}, {"out": "nA"}, period)

    def initial_state(self):
        self.seen = []

    def control(self, t_ms, rates):
        v = float(rates["region"][0])
        self.seen.append(v)
        return {"out": 6.0 * v}


def _brain(pipelined=False):
    sim.setup(timestep=0.1, seed=3, threads=1)
    return sim.WholeBrain(sim.Connectome.synthetic(4, seed=1), model=sim.ReducedWongWangExcInh(G=0.5),
                          coupling=sim.LinearCoupling(a=1.0), exchange=2.0, initial_state=np.array([0.0, 0.0]),
                          pipelined=pipelined)


@pytest.mark.parametrize("pipelined", [False, True])
def test_a_controller_reads_a_region_and_drives_the_circuit_through_a_field(pipelined):
    brain = _brain(pipelined)
    brain.record(["S_e"], sampling_interval=0.1)
    P = sim.Population(100, sim.IF_curr_exp(), label="P")
    P.record("spikes")
    echo = Echo("echo")
    c = sim.Controller(echo, read={"region": brain.signal("R1", "S_e")}, period=5.0)
    sim.Field("drive", source=(c, "out"), units="nA").modulate(P, "current")
    sim.run(400.0)
    se = brain.get_data("S_e")["values"][:, 1]
    spikes = np.concatenate([np.asarray(st) for st in P.get_data().segments[0].spiketrains])
    sim.end()
    seen = np.array(echo.seen)
    assert seen.size == 80 and seen[0] < 0.05 and seen[-1] > 0.15  # the region's gating rises
    # every value the controller saw is one of the region's own states (a sample, one exchange late)
    assert all(np.isclose(se, v, rtol=0, atol=1e-12).any() for v in seen[seen > 0])
    counts = np.histogram(spikes, bins=np.arange(0.0, 401.0, 100.0))[0]
    assert counts[0] < counts[-1]  # the circuit follows the controller's field


def test_bad_region_bindings_are_typed_errors():
    brain = _brain()
    P = sim.Population(10, sim.IF_curr_exp(), label="P")
    with pytest.raises(LinkError, match=r"Controller\(echo\).*region"):
        sim.Controller(Echo("echo"), read={"region": P})  # a population on a signal port
    from neurohybrid.controllers import WTASelector
    with pytest.raises(LinkError, match=r"Controller\(wta\).*a"):
        sim.Controller(WTASelector("wta", {"a": 10, "b": 10}), read={"a": brain.signal("R1"), "b": P})
    with pytest.raises(Exception, match="R9"):
        brain.signal("R9")
    sim.end()
