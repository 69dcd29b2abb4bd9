"""Generate the NEST 3.10 STDP references used by ``test_stdp_vs_nest.py``.

Run with the project's venv after ``pip install -e '.[bench]'`` (NEST must be importable)::

    python tests/pynn/make_stdp_references.py

It writes ``stdp_references.json`` next to this file. Each protocol is built with pyNN.nest
(so spike sources, parrot neurons and delays are exactly what a PyNN user gets) and the
plastic connections' NEST parameters are then set directly with ``nest.SetStatus``:
pyNN.nest's ``GutigWeightDependence`` drops ``mu_plus``/``mu_minus`` (its ``__init__`` does not
pass them on) and pyNN.nest has no ``Vogels2011Rule``, so the NEST models are configured
by hand and the test gives neurohybrid the same rule through PyNN.

Protocols (``PROTOCOLS``):

* ``pairs-<dependence>``: PyNN's ``examples/simple_STDP.py`` (60 presynaptic spike trains at
  100 ms period shifted by 1 ms each, one postsynaptic IF_cond_exp cell forced to fire every
  100 ms, dt 0.01 ms, delay 3 ms, tiny weights) with NEST ``stdp_synapse`` and
  (mu_plus, mu_minus) of each PyNN weight dependence;
* ``poisson-<dependence>``: 40 Poisson trains (10 Hz, fixed seed, as spike arrays) onto 5
  IF_curr_exp cells driven to fire irregularly, large weights (the plastic input shapes the
  postsynaptic spikes), dt 0.1 ms, delays 1.0-2.5 ms: all-to-all pairing with many spikes;
* ``vogels``: the Poisson protocol with NEST ``vogels_sprekeler_synapse``;
* ``dopamine-<deliver_interval>``: 20 Poisson trains onto 4 cells through NEST's
  ``stdp_dopamine_synapse``, its volume transmitter fed by 3 bursting dopamine cells; built with
  NEST's own API (pyNN.nest has no dopamine synapse).

The JSON holds, per protocol, the final weights (PyNN units) as [pre, post, weight] rows (an
all-to-all projection has one connection per pair) and the postsynaptic spike times.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("stdp_references.json")

#: weight dependences as (mu_plus, mu_minus) of NEST's stdp_synapse
DEPENDENCES = {"additive": (0.0, 0.0), "multiplicative": (1.0, 1.0), "apmd": (0.0, 1.0), "gutig": (0.3, 0.7)}
PAIR_RULE = dict(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012)
VOGELS = dict(tau=20.0, eta=0.002, rho=5.0)  # eta in nA; rho in Hz


def poisson_trains(n=40, rate=10.0, t_stop=2000.0, seed=20261207):
    """The presynaptic spike trains of the Poisson protocols (ms, on the 0.1 ms grid)."""
    rng = np.random.default_rng(seed)
    trains = []
    for _ in range(n):
        t = np.cumsum(rng.exponential(1000.0 / rate, size=int(3 * rate * t_stop / 1000) + 10))
        t = np.round(t[t < t_stop - 5.0], 1)
        trains.append(np.unique(t[t >= 1.0]))
    return trains


def delays(n_pre=40, n_post=5, seed=7) -> np.ndarray:
    """Per-connection delays of the Poisson protocols, ms on the 0.1 ms grid (1.0 to 2.5)."""
    return np.round(1.0 + 0.1 * np.random.default_rng(seed).integers(0, 16, size=(n_pre, n_post)), 1)


def pair_protocol(sim, dependence: str):
    """simple_STDP.py; returns (plastic projection, post population, t_stop)."""
    from pyNN.parameters import Sequence
    period, n, delta_t, delay = 100.0, 60, 1.0, 3.0
    t_stop = 10 * period + n * delta_t
    sim.setup(timestep=0.01, min_delay=delay, max_delay=delay)
    cell = dict(tau_m=10.0, v_thresh=-50.0, v_reset=-60.0, v_rest=-60.0, cm=1.0, tau_refrac=period / 2)
    pre = sim.Population(n, sim.SpikeSourceArray(spike_times=lambda i: [
        Sequence(np.arange(period + j * delta_t, t_stop, period)) for j in (i - n // 2)]), label="pre")
    post = sim.Population(1, sim.IF_cond_exp(**cell), initial_values={"v": -60.0}, label="post")
    driver = sim.Population(1, sim.SpikeSourceArray(spike_times=np.arange(period - delay, t_stop, period)))
    wd = {"additive": sim.AdditiveWeightDependence, "multiplicative": sim.MultiplicativeWeightDependence,
          "apmd": sim.AdditivePotentiationMultiplicativeDepression, "gutig": sim.GutigWeightDependence}[dependence]
    kwargs = dict(mu_plus=DEPENDENCES["gutig"][0], mu_minus=DEPENDENCES["gutig"][1]) if dependence == "gutig" else {}
    stdp = sim.STDPMechanism(timing_dependence=sim.SpikePairRule(**PAIR_RULE),
                             weight_dependence=wd(w_min=0.0, w_max=1e-7, **kwargs), weight=5e-8, delay=delay)
    prj = sim.Projection(pre, post, sim.AllToAllConnector(), stdp)
    sim.Projection(driver, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=10.0, delay=delay))
    post.record("spikes")
    return prj, post, t_stop


def poisson_protocol(sim, synapse):
    """Poisson trains onto 5 cells; ``synapse``: the plastic synapse type. Returns
    (plastic projection, post population, t_stop)."""
    t_stop = 2000.0
    extra = {"spike_precision": "on_grid"} if sim.__name__ == "pyNN.nest" else {}  # pyNN.nest: no precise models
    sim.setup(timestep=0.1, min_delay=1.0, max_delay=2.5, **extra)
    trains = poisson_trains(t_stop=t_stop)
    pre = sim.Population(len(trains), sim.SpikeSourceArray(spike_times=trains), label="pre")
    post = sim.Population(5, sim.IF_curr_exp(tau_m=15.0, tau_syn_E=3.0, tau_syn_I=5.0, v_thresh=-52.0,
                                             tau_refrac=2.0, i_offset=0.6), label="post")
    prj = sim.Projection(pre, post, sim.AllToAllConnector(), synapse)
    prj.set(delay=delays())  # (pre, post) array: PyNN's STDPMechanism takes only a scalar delay
    post.record("spikes")
    return prj, post, t_stop


def poisson_stdp(sim, dependence: str):
    wd = {"additive": sim.AdditiveWeightDependence, "multiplicative": sim.MultiplicativeWeightDependence,
          "apmd": sim.AdditivePotentiationMultiplicativeDepression, "gutig": sim.GutigWeightDependence}[dependence]
    kwargs = dict(mu_plus=DEPENDENCES["gutig"][0], mu_minus=DEPENDENCES["gutig"][1]) if dependence == "gutig" else {}
    return sim.STDPMechanism(timing_dependence=sim.SpikePairRule(**PAIR_RULE),
                             weight_dependence=wd(w_min=0.0, w_max=0.4, **kwargs), weight=0.2, delay=1.0)


def _post_times(post) -> list:
    return [np.asarray(st.magnitude).round(6).tolist() for st in post.get_data().segments[0].spiketrains]


def _nest_connections(prj):
    import nest
    return nest.GetConnections(synapse_model=prj.nest_synapse_model)


def _weights_by_pair(prj) -> list:
    """[[pre index, post index, weight (nA)], ...] (all-to-all: one connection per pair)."""
    return [[int(i), int(j), float(w)] for i, j, w in prj.get("weight", format="list", with_address=True)]


def run_nest(name: str) -> dict:
    import nest
    import pyNN.nest as sim
    if name.startswith("pairs-"):
        dependence = name.split("-", 1)[1]
        prj, post, t_stop = pair_protocol(sim, dependence)
        mu_plus, mu_minus = DEPENDENCES[dependence]
        nest.SetStatus(_nest_connections(prj), {"mu_plus": mu_plus, "mu_minus": mu_minus})
    elif name.startswith("poisson-"):
        dependence = name.split("-", 1)[1]
        prj, post, t_stop = poisson_protocol(sim, poisson_stdp(sim, dependence))
        mu_plus, mu_minus = DEPENDENCES[dependence]
        nest.SetStatus(_nest_connections(prj), {"mu_plus": mu_plus, "mu_minus": mu_minus})
    else:  # vogels: NEST's model through pyNN.nest's native synapse types
        v = VOGELS
        native = sim.native_synapse_type("vogels_sprekeler_synapse")(
            weight=200.0, delay=1.0,
            tau=v["tau"], eta=v["eta"] * 1000.0, alpha=2 * v["rho"] * v["tau"] / 1000.0, Wmax=400.0)
        prj, post, t_stop = poisson_protocol(sim, native)
        nest.SetStatus(post.node_collection, {"tau_minus": v["tau"]})
    sim.run(t_stop)
    out = {"weights": _weights_by_pair(prj), "post_spikes": _post_times(post), "t_stop": t_stop}
    sim.end()
    return out


#: dopamine-modulated STDP (NEST stdp_dopamine_synapse), PyNN units: weights and A in nA, b in 1/ms
DOPAMINE = dict(A_plus=0.001, A_minus=0.0013, tau_plus=20.0, tau_minus=15.0, tau_c=300.0, tau_n=150.0, b=0.003,
                w_min=0.0, w_max=0.6)
DOPA_T_STOP = 3000.0
DOPA_DELAY_VT = 2.0  # ms, dopamine neurons -> volume transmitter


def dopamine_trains(seed=3):
    """(presynaptic trains (20 cells, 15 Hz), dopamine neuron trains (3 cells, bursts)), ms."""
    pre = poisson_trains(n=20, rate=15.0, t_stop=DOPA_T_STOP, seed=seed)
    rng = np.random.default_rng(seed + 1)
    bursts = np.sort(rng.uniform(100.0, DOPA_T_STOP - 100.0, 12))
    dopa = [np.unique(np.round(np.concatenate([b + np.arange(0, 30.0, rng.uniform(3.0, 8.0)) for b in bursts]), 1))
            for _ in range(3)]
    return pre, dopa


def dopamine_protocol(sim, deliver_interval=1):
    """20 Poisson trains onto 4 driven IF_curr_exp cells through dopamine-modulated STDP,
    gated by a volume transmitter fed by 3 bursting dopamine cells (neurohybrid's PyNN API)."""
    pre_trains, dopa_trains = dopamine_trains()
    sim.setup(timestep=0.1, min_delay=1.0)
    pre = sim.Population(20, sim.SpikeSourceArray(spike_times=pre_trains), label="pre")
    post = sim.Population(4, sim.IF_curr_exp(tau_m=15.0, v_thresh=-52.0, tau_refrac=2.0, i_offset=0.5), label="post")
    vta = sim.Population(3, sim.SpikeSourceArray(spike_times=dopa_trains), label="vta")
    vt = sim.Population(1, sim.VolumeTransmitter(deliver_interval=deliver_interval), label="DA")
    sim.Projection(vta, vt, sim.AllToAllConnector(), sim.StaticSynapse(weight=1.0, delay=DOPA_DELAY_VT),
                   receptor_type="dopamine")
    prj = sim.Projection(pre, post, sim.AllToAllConnector(),
                         sim.DopamineSTDPMechanism(dopamine=vt, weight=0.3, delay=1.0, **DOPAMINE))
    prj.set(delay=delays(20, 4, seed=8))
    post.record("spikes")
    return prj, post, DOPA_T_STOP


def run_nest_dopamine(deliver_interval: int) -> dict:
    """The dopamine protocol in NEST itself (pyNN.nest has no dopamine synapse): spike
    generators through parrot neurons (1 ms, times shifted back by it), iaf_psc_exp cells."""
    import nest
    nest.ResetKernel()
    nest.set(resolution=0.1, print_time=False)
    pre_trains, dopa_trains = dopamine_trains()
    d = DOPAMINE
    post = nest.Create("iaf_psc_exp", 4, params={"tau_m": 15.0, "V_th": -52.0, "t_ref": 2.0, "I_e": 500.0,
                                                  "C_m": 1000.0, "E_L": -65.0, "V_reset": -65.0, "V_m": -65.0,
                                                  "tau_syn_ex": 5.0, "tau_syn_in": 5.0,
                                                  "tau_minus": d["tau_minus"]})

    def parrots(trains):
        gens = nest.Create("spike_generator", len(trains))
        for g, t in zip(gens, trains):
            g.spike_times = [float(x) - 1.0 for x in t]  # the parrot delays each spike by 1 ms
        out = nest.Create("parrot_neuron", len(trains))
        nest.Connect(gens, out, "one_to_one", {"delay": 1.0})
        return out
    pre, vta = parrots(pre_trains), parrots(dopa_trains)
    vt = nest.Create("volume_transmitter", params={"deliver_interval": deliver_interval})
    nest.Connect(vta, vt, "all_to_all", {"delay": DOPA_DELAY_VT})
    nest.CopyModel("stdp_dopamine_synapse", "dopa", {
        "volume_transmitter": vt, "A_plus": d["A_plus"] * 1000.0, "A_minus": d["A_minus"] * 1000.0,
        "tau_plus": d["tau_plus"], "tau_c": d["tau_c"], "tau_n": d["tau_n"], "b": d["b"],
        "Wmin": d["w_min"] * 1000.0, "Wmax": d["w_max"] * 1000.0})
    dl = delays(20, 4, seed=8)
    for i in range(20):
        for j in range(4):
            nest.Connect(pre[i], post[j], syn_spec={"synapse_model": "dopa", "weight": 300.0, "delay": float(dl[i, j])})
    rec = nest.Create("spike_recorder")
    nest.Connect(post, rec)
    nest.Simulate(DOPA_T_STOP)
    ev = rec.events
    spikes = [sorted(np.round(ev["times"][ev["senders"] == p.global_id], 6).tolist()) for p in post]
    weights = []
    for i in range(20):
        for j in range(4):
            c = nest.GetConnections(pre[i], post[j])
            weights.append([i, j, float(c.weight) / 1000.0])
    return {"weights": weights, "post_spikes": spikes, "t_stop": DOPA_T_STOP}


PROTOCOLS = [f"pairs-{d}" for d in DEPENDENCES] + [f"poisson-{d}" for d in DEPENDENCES] + ["vogels"]
DOPAMINE_PROTOCOLS = {"dopamine-1": 1, "dopamine-7": 7}


def main() -> None:
    import nest
    refs = {"nest_version": nest.__version__, "generator": "tests/pynn/make_stdp_references.py", "protocols": {}}
    for name in PROTOCOLS:
        refs["protocols"][name] = run_nest(name)
        print(name, "post spikes:", sum(len(t) for t in refs["protocols"][name]["post_spikes"]))
    for name, interval in DOPAMINE_PROTOCOLS.items():
        refs["protocols"][name] = run_nest_dopamine(interval)
        print(name, "post spikes:", sum(len(t) for t in refs["protocols"][name]["post_spikes"]))
    OUT.write_text(json.dumps(refs, indent=0))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
