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
* ``vogels``: the Poisson protocol with NEST ``vogels_sprekeler_synapse``.

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


PROTOCOLS = [f"pairs-{d}" for d in DEPENDENCES] + [f"poisson-{d}" for d in DEPENDENCES] + ["vogels"]


def main() -> None:
    import nest
    refs = {"nest_version": nest.__version__, "generator": "tests/pynn/make_stdp_references.py", "protocols": {}}
    for name in PROTOCOLS:
        refs["protocols"][name] = run_nest(name)
        print(name, "post spikes:", sum(len(t) for t in refs["protocols"][name]["post_spikes"]))
    OUT.write_text(json.dumps(refs, indent=0))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
