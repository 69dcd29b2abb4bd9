"""Controllers as host modules (issue 13, item 1): a Nengo network inside neurohybrid gives the
outputs of the same network run alone on the same inputs; native state machines; bad inputs."""
import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.controllers import TaskSequencer, TDCritic, WTASelector
from neurohybrid.errors import LinkError, ParameterError

nengo = pytest.importorskip("nengo")
from neurohybrid.controllers.nengo_adapter import NengoController  # noqa: E402

SCALE = 1.0 / 40.0


def _network():
    net = nengo.Network(seed=11)
    with net:
        ens = nengo.Ensemble(60, 1)
        nengo.Connection(ens, ens, synapse=0.05)  # a leaky memory
    return net, ens


def _session():
    sim.setup(timestep=0.1, seed=2)
    times = [list(np.arange(5.0 + 3 * k, 80.0, 7.0 + k)) for k in range(10)]
    src = sim.Population(10, sim.SpikeSourceArray(spike_times=times), label="cue")
    P = sim.Population(10, sim.IF_curr_exp(), label="P")
    prj = sim.Projection(src, P, sim.OneToOneConnector(), sim.StaticSynapse(weight=2.0, delay=1.0), label="cue_P")
    P.record("spikes")
    return src, P, prj


def test_a_nengo_model_inside_gives_the_outputs_of_the_model_alone():
    src, P, prj = _session()
    net, ens = _network()
    ctl = NengoController("wm", net, inputs={"x": (ens, 10, lambda r: np.array([r.mean() * SCALE]))},
                          outputs={"y": (ens, 0.01)}, dt=1.0, period=5.0, seed=3)
    c = sim.Controller(ctl, read={"x": src}, period=5.0)
    sim.Field("gate", source=(c, "y")).gate(prj, fn=lambda v: np.clip(v, 0.0, 1.0))
    sim.run(100.0)
    inside = sim.state.network.signal("wm.y", "value")["samples"][:, 0]
    seen = np.array([s["x"][0] for s in ctl.seen])
    sim.end()
    assert seen.max() > 0 and inside.size == seen.size == 20

    # the same model run by Nengo alone on the same inputs: the same objects in the same order
    # (an input Node into the ensemble, the ensemble into an output Node through 10 ms)
    alone_net, alone_ens = _network()
    got = []
    with alone_net:
        stim = nengo.Node(lambda t: [seen[(int(round(t * 1e3)) - 1) // 5]], size_out=1)
        nengo.Connection(stim, alone_ens, synapse=None)
        out = nengo.Node(lambda t, x: got.append(float(x[0])), size_in=1)
        nengo.Connection(alone_ens, out, synapse=0.01)
    with nengo.Simulator(alone_net, dt=1e-3, seed=3, progress_bar=False) as s:
        s.run_steps(100)
    alone = np.array(got)[1:][4::5]  # got[0]: Nengo calls a Node once when it builds the model
    np.testing.assert_array_equal(inside, alone)


def test_a_nengo_dt_that_does_not_divide_the_period_is_refused():
    net, ens = _network()
    with pytest.raises(ParameterError, match=r"wm.*dt"):
        NengoController("wm", net, inputs={"x": (ens, 10)}, dt=0.3, period=1.0)


def test_a_controller_port_bound_to_no_population_is_refused():
    src, P, prj = _session()
    with pytest.raises(LinkError, match="wta"):
        sim.Controller(WTASelector("wta", {"a": 10, "b": 10}), read={"a": src, "b": "nowhere"})
    with pytest.raises(LinkError, match="missing"):
        sim.Controller(WTASelector("wta2", {"a": 10, "b": 10}), read={"missing": src})
    sim.end()


def _step(ctl, rates, t):
    return ctl.control(t, rates)


def test_native_controllers():
    seq = TaskSequencer("seq", [(50.0, {"go": 0.0}), (20.0, {"go": 1.0})])
    seq.bind(0.1)
    assert seq.values_at(10.0)["go"] == 0.0 and seq.values_at(55.0)["go"] == 1.0 and seq.values_at(500.0)["go"] == 1.0

    wta = WTASelector("wta", {"a": 3, "b": 3}, threshold=5.0, margin=2.0)
    wta.bind(0.1)
    assert _step(wta, {"a": np.full(3, 1.0), "b": np.full(3, 2.0)}, 10) == {"a_gate": 0.0, "b_gate": 0.0}
    assert _step(wta, {"a": np.full(3, 10.0), "b": np.full(3, 8.0)}, 20) == {"a_gate": 1.0, "b_gate": 0.0}
    assert _step(wta, {"a": np.full(3, 10.0), "b": np.full(3, 11.0)}, 30)["a_gate"] == 1.0  # hysteresis
    assert _step(wta, {"a": np.full(3, 10.0), "b": np.full(3, 13.0)}, 40)["b_gate"] == 1.0

    # TD(0): a reward that always follows state 0 is predicted; the RPE at the reward shrinks
    td = TDCritic("td", n_state=2, n_reward=1, gamma=0.0, alpha=0.5, rate_scale=1.0, reward_scale=1.0)
    td.bind(0.1)
    rpes = []
    for _ in range(10):
        _step(td, {"state": np.array([1.0, 0.0]), "reward": np.zeros(1)}, 0)
        rpes.append(_step(td, {"state": np.zeros(2), "reward": np.ones(1)}, 0)["rpe"])
    assert rpes[0] == pytest.approx(1.0) and abs(rpes[-1]) < 0.01


def test_a_wta_controller_gates_projections_in_a_run():
    sim.setup(timestep=0.1, seed=4)
    a = sim.Population(10, sim.SpikeSourcePoisson(rate=40.0), label="a")
    b = sim.Population(10, sim.SpikeSourcePoisson(rate=5.0), label="b")
    ma = sim.Population(10, sim.IF_curr_exp(), label="ma")
    mb = sim.Population(10, sim.IF_curr_exp(), label="mb")
    pa = sim.Projection(a, ma, sim.OneToOneConnector(), sim.StaticSynapse(weight=3.0, delay=1.0), label="pa")
    pb = sim.Projection(b, mb, sim.OneToOneConnector(), sim.StaticSynapse(weight=3.0, delay=1.0), label="pb")
    ma.record("spikes")
    mb.record("spikes")
    c = sim.Controller(WTASelector("wta", {"a": 10, "b": 10}), read={"a": a, "b": b}, period=10.0)
    sim.Field("ga", source=(c, "a_gate")).gate(pa)
    sim.Field("gb", source=(c, "b_gate")).gate(pb)
    sim.run(200.0)
    na, nb = (sum(len(s) for s in m.get_data().segments[0].spiketrains) for m in (ma, mb))
    sim.end()
    # a opens (40 Hz > 5 Hz threshold), b closes; both are open until the first step acts (20 ms)
    assert na > 10 and nb <= 2
