"""One script, every engine (issue 10): an IF_curr_exp E/I circuit on the Loihi path replacing
a WholeBrain region, AdEx and Izhikevich populations that the partition places on the float
emulator, and multi-compartment NEURON cells, connected both ways.

Checked: the placement; that every bridge delivers each spike exactly ``delay`` after its
emission (per bridge, with probes whose delta synapses make them fire in the very step a spike
arrives: the probe's spike time is the arrival time); and that the Loihi path on Lava and on
the fixed-point emulator gives identical spikes for every population of the session.
"""
import warnings

import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.errors import LavaUnavailableWarning

from partition_cells import mc_celltype

DT = 0.1
CELL = dict(tau_m=20.0, v_thresh=-50.0, v_reset=-60.0, v_rest=-60.0, tau_refrac=2.0, tau_syn_E=5.0,
            tau_syn_I=5.0, cm=0.5)
PROBE = dict(tau_m=20.0, cm=1.0, v_rest=-65.0, v_reset=-65.0, v_thresh=-55.0, tau_refrac=5.0, i_offset=0.0)
D = {"loihi->host": 1.3, "host->loihi": 0.8, "host->neuron": 1.0, "neuron->host": 1.5, "loihi->neuron": 2.0}


def _session(backend):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LavaUnavailableWarning)
        if backend == "lava":
            sim.setup(timestep=DT, seed=3, threads=1, backend="lava")
        else:
            sim.setup(timestep=DT, seed=3, threads=1, numerics="fixed")
    brain = sim.WholeBrain(sim.Connectome.synthetic(4, seed=1), model=sim.ReducedWongWangExcInh(G=0.5),
                           coupling=sim.LinearCoupling(a=1.0), speed=3.0)
    E = sim.Population(40, sim.IF_curr_exp(**CELL), label="E")
    I = sim.Population(10, sim.IF_curr_exp(**CELL), label="I")
    ei = sim.Assembly(E, I)
    sim.Projection(E, ei, sim.FixedProbabilityConnector(0.2, rng=sim.NumpyRNG(seed=5)),
                   sim.StaticSynapse(weight=0.05, delay=1.0), receptor_type="excitatory")
    sim.Projection(I, ei, sim.FixedProbabilityConnector(0.2, rng=sim.NumpyRNG(seed=6)),
                   sim.StaticSynapse(weight=-0.2, delay=1.0), receptor_type="inhibitory")
    brain.replace("R2", [E, I], inputs=sim.rates_to_spikes(weight=0.2, gain=1000.0, baseline=500.0))
    adex = sim.Population(8, sim.EIF_cond_exp_isfa_ista(), label="AdEx")
    izh = sim.Population(6, sim.Izhikevich(), label="TC")
    mc = sim.Population(2, mc_celltype(), initial_values={"v": -65.0}, label="MC")
    # the populations, both ways across every pair of engines
    sim.Projection(E, adex, sim.FixedProbabilityConnector(0.5, rng=sim.NumpyRNG(seed=7)),
                   sim.StaticSynapse(weight=0.01, delay=1.5))
    sim.Projection(adex, I, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1, delay=2.0))
    sim.Projection(izh, E, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.05, delay=1.2))
    sim.Projection(E, mc, sim.FixedProbabilityConnector(0.5, rng=sim.NumpyRNG(seed=8)),
                   sim.StaticSynapse(weight=0.02, delay=D["loihi->neuron"]), receptor_type="AMPA")
    sim.Projection(mc, izh, sim.AllToAllConnector(), sim.StaticSynapse(weight=10.0, delay=1.5))
    # probes: a delta synapse of 50 mV makes a probe fire in the step a spike arrives
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[20.0]), label="src")
    p_loihi = sim.Population(1, sim.IF_curr_delta(**PROBE), label="probe.loihi")
    p_host = sim.Population(1, sim.IF_curr_delta(**PROBE), label="probe.host", engine="emulator")
    p_back = sim.Population(1, sim.IF_curr_delta(**PROBE), label="probe.back")
    p_after_mc = sim.Population(1, sim.IF_curr_delta(**PROBE), label="probe.after_mc", engine="emulator")
    jump = lambda d: sim.StaticSynapse(weight=50.0, delay=d)  # noqa: E731
    sim.Projection(src, p_loihi, sim.OneToOneConnector(), jump(0.5))
    sim.Projection(p_loihi, p_host, sim.OneToOneConnector(), jump(D["loihi->host"]))
    sim.Projection(p_host, p_back, sim.OneToOneConnector(), jump(D["host->loihi"]))
    sim.Projection(p_host, mc, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.3, delay=D["host->neuron"]),
                   receptor_type="AMPA")
    sim.Projection(mc, p_after_mc, sim.AllToAllConnector(), jump(D["neuron->host"]))
    pops = [E, I, adex, izh, mc, p_loihi, p_host, p_back, p_after_mc]
    for p in pops:
        p.record("spikes")
    return pops


def _run(backend, t_stop=100.0):
    pops = _session(backend)
    rows = sim.placement(show=False)
    sim.run(t_stop)
    spikes = {p.label: [np.asarray(t.magnitude) for t in p.get_data().segments[0].spiketrains] for p in pops}
    engine = sim.simulator.state.network.primary
    sim.end()
    return rows, spikes, engine


def test_a_mixed_session_places_every_population_and_every_bridge_is_exact():
    rows, spikes, _ = _run("fixed")
    where = {label: row["engine"] for label, row in rows.items()}
    assert where["E"] == where["I"] == "emulator-fixed" and where["probe.loihi"] == "emulator-fixed"
    assert where["AdEx"] == "emulator" and "EIF_cond_exp_isfa_ista" in rows["AdEx"]["reason"]
    assert where["TC"] == "emulator" and where["MC"] == "neuron" and where["probe.host"] == "emulator"
    assert where["R2.inputs"] == "emulator-fixed"  # the scaffold's afferent spikes, fed by the kernel
    first = {k: v[0] for k, v in spikes.items() if k.startswith("probe")}
    assert all(t.size == 1 for t in first.values()), first
    assert first["probe.host"][0] == pytest.approx(first["probe.loihi"][0] + D["loihi->host"], abs=1e-9)
    assert first["probe.back"][0] == pytest.approx(first["probe.host"][0] + D["host->loihi"], abs=1e-9)
    mc_first = min(t[0] for t in spikes["MC"] if t.size)
    stamp_mc = np.ceil(mc_first / DT - 1e-6) * DT  # NEURON spike time -> its step's stamp
    assert first["probe.after_mc"][0] == pytest.approx(stamp_mc + D["neuron->host"], abs=1e-9)
    for label in ("E", "I", "AdEx", "TC", "MC"):
        assert sum(map(len, spikes[label])) > 0, label


def test_the_mixed_session_on_lava_and_on_the_fixed_point_emulator_gives_identical_spikes():
    rows_f, fixed, engine_f = _run("fixed")
    rows_l, lava, engine_l = _run("lava")
    if engine_l != "lava":
        pytest.skip("Lava cannot run here (the session fell back to the fixed-point emulator)")
    assert engine_f == "emulator-fixed"
    assert {k: r["engine"] for k, r in rows_l.items() if r["engine"] == "lava"} == \
        {k: "lava" for k, r in rows_f.items() if r["engine"] == "emulator-fixed"}
    for label in fixed:
        for a, b in zip(fixed[label], lava[label]):
            np.testing.assert_array_equal(a, b, err_msg=label)
