"""Generate the NEST 3.10 reference numbers of ``test_stochastic_synapses.py``.

Run once with the project's venv (``make bench`` installs NEST)::

    python tests/backends/emulator/make_stochastic_references.py

and paste the printed ``NEST_REFERENCES`` literal into the test module. Each case connects one
parrot neuron (fed by a spike_generator) to ``N_TARGETS`` independent synapses of NEST's own
model (``bernoulli_synapse``, ``quantal_stp_synapse``) onto ``iaf_psc_delta`` neurons that only
count: tau_m = 1e9 ms, threshold out of reach, weight 1 mV, so V_m after a spike's arrival minus
V_m before it is the number of quanta that spike released on that synapse. The numbers are the
mean release per presynaptic spike over the targets (``stochastic_stp_synapse`` is not in NEST
3.10: it is PyNN's NEST extension and needs compiling; its test is against the analytic result).
"""
from __future__ import annotations

import numpy as np

N_TARGETS = 4000
DT = 0.1
#: the presynaptic spike train (ms) of every case: PyNN's multiquantal_synapses.py example's
SPIKE_TIMES = tuple(float(t) for t in np.hstack((np.arange(10, 100, 10), np.arange(250, 350, 10))))
CASES = {
    "bernoulli p=0.3": ("bernoulli_synapse", {"p_transmit": 0.3}),
    "quantal depressing n=5 (NEST's initial state)": (
        "quantal_stp_synapse", {"U": 0.8, "tau_rec": 100.0, "tau_fac": 0.0, "n": 5}),
    "quantal depressing n=5, a=5 u=0.8": (
        "quantal_stp_synapse", {"U": 0.8, "tau_rec": 100.0, "tau_fac": 0.0, "n": 5, "a": 5, "u": 0.8}),
    "quantal facilitating n=5, a=5 u=0.04": (
        "quantal_stp_synapse", {"U": 0.04, "tau_rec": 50.0, "tau_fac": 200.0, "n": 5, "a": 5, "u": 0.04}),
}


def run_case(model: str, params: dict) -> list[float]:
    import nest
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.resolution = DT
    nest.rng_seed = 1
    gen = nest.Create("spike_generator", params={"spike_times": [t - 1.0 for t in SPIKE_TIMES]})
    parrot = nest.Create("parrot_neuron")
    targets = nest.Create("iaf_psc_delta", N_TARGETS, params={"tau_m": 1e9, "V_th": 1e9, "E_L": 0.0, "V_m": 0.0,
                                                              "V_reset": 0.0, "C_m": 1.0})
    nest.Connect(gen, parrot, syn_spec={"delay": 1.0})
    nest.Connect(parrot, targets, syn_spec={"synapse_model": model, "weight": 1.0, "delay": 1.0, **params})
    meter = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": 1.0})
    nest.Connect(meter, targets)
    nest.Simulate(SPIKE_TIMES[-1] + 10.0)
    ev = meter.events
    times, senders, v = np.asarray(ev["times"]), np.asarray(ev["senders"]), np.asarray(ev["V_m"])
    at = {t: v[times == t] for t in np.unique(times)}
    # the spike sent at t arrives at t + 1 ms (delay) and shows in V_m from t + 1.1 on
    before = [at[t + 0.0] for t in SPIKE_TIMES]
    after = [at[t + 2.0] for t in SPIKE_TIMES]
    return [round(float(np.mean(a - b)), 5) for a, b in zip(after, before)]


if __name__ == "__main__":
    print("NEST_REFERENCES = {")
    for name, (model, params) in CASES.items():
        print(f"    {name!r}: {run_case(model, params)!r},")
    print("}")
