"""Generate the NEST 3.10 reference spike times used by ``test_neuron_models.py``.

Run with the project's venv (NEST must be importable)::

    python tests/backends/emulator/make_nest_references.py

and paste the printed ``NEST_REFERENCES`` literal into the test module. Each scenario is one
neuron of a PyNN standard cell type, driven by a DC step (applied in NEST as a change of
``I_e`` between ``Simulate`` calls, i.e. exactly at a tick boundary) plus a few excitatory and
inhibitory input spikes from a ``spike_generator``. Parameters are translated to NEST with
pyNN.nest's own translation tables, so the references are what ``pyNN.nest`` would run.

The same scenario description (``SCENARIOS``) is used by the test to build the kernel
inputs: the DC step goes into ``i_ext`` (nA) and a spike sent at time t_s with delay d
arrives in tick ``round((t_s + d)/dt) - 1`` (it changes the state at t_s + d, as in NEST).
"""
from __future__ import annotations

import sys

DT = 0.1  # ms
T_STOP = 300.0  # ms
DELAY = 1.0  # ms
STEP_ON, STEP_OFF = 50.0, 250.0  # ms, DC step window
# ticks after which v is compared (NEST's multimeter does not deliver the last min-delay)
V_SAMPLE_TICKS = (99, 115, 149, 499, 1019, 1500, 2222, 2600, 2985)

# model -> (PyNN parameters, PyNN initial values, DC step amplitude nA (added to i_offset),
#           excitatory spikes [(time ms, weight)], inhibitory spikes [(time ms, weight)])
# Weights in PyNN units: nA (current-based; inhibitory negative), µS (conductance-based,
# positive), mV (IF_curr_delta, Izhikevich; inhibitory negative).
_EXC_TIMES = (10.0, 11.0, 12.0, 13.0, 14.0, 90.3, 150.5, 151.0, 151.5, 270.0, 270.4, 270.8, 271.2)
_INH_TIMES = (30.0, 120.7, 180.1, 182.3, 260.0)


_COBA_CELL = dict(tau_m=20.0, cm=0.2, v_rest=-60.0, v_reset=-60.0, v_thresh=-50.0, tau_refrac=5.0,
                  tau_syn_E=5.0, tau_syn_I=10.0, e_rev_E=0.0, e_rev_I=-80.0)
_KICK_TIMES = (0.5, 2.0, 3.1, 20.0, 20.1, 24.0, 60.0, 62.5, 63.0, 140.0, 140.2, 141.0, 200.0, 203.7, 290.0)


def model_of(scenario: str) -> str:
    """The PyNN cell type of a scenario (``"IF_cond_exp/COBA"`` -> ``"IF_cond_exp"``)."""
    return scenario.split("/", 1)[0]


def _spikes(times, weight):
    return [(t, weight) for t in times]


SCENARIOS = {
    "IF_curr_exp": (
        dict(tau_refrac=2.0, tau_m=15.0, cm=0.5, tau_syn_E=3.0, tau_syn_I=6.0, v_thresh=-52.0, v_reset=-70.0),
        dict(v=-66.0), 0.62, _spikes(_EXC_TIMES, 1.6), _spikes(_INH_TIMES, -1.5)),
    "IF_curr_alpha": (
        dict(tau_refrac=2.0, tau_m=15.0, cm=0.5, tau_syn_E=1.0, tau_syn_I=2.0, v_thresh=-52.0, v_reset=-70.0),
        dict(v=-66.0), 0.62, _spikes(_EXC_TIMES, 1.5), _spikes(_INH_TIMES, -1.5)),
    "IF_curr_delta": (
        dict(tau_refrac=2.0, tau_m=15.0, cm=0.5, v_thresh=-52.0, v_reset=-70.0),
        dict(v=-66.0), 0.62, _spikes(_EXC_TIMES, 3.5), _spikes(_INH_TIMES, -4.0)),
    "IF_cond_exp": (
        dict(tau_refrac=2.0, tau_m=15.0, cm=0.5, tau_syn_E=3.0, tau_syn_I=6.0, v_thresh=-52.0, v_reset=-70.0),
        dict(v=-66.0), 0.7, _spikes(_EXC_TIMES, 0.04), _spikes(_INH_TIMES, 0.06)),
    "IF_cond_alpha": (
        dict(tau_refrac=2.0, tau_m=15.0, cm=0.5, tau_syn_E=1.0, tau_syn_I=2.0, v_thresh=-52.0, v_reset=-70.0),
        dict(v=-66.0), 0.7, _spikes(_EXC_TIMES, 0.05), _spikes(_INH_TIMES, 0.06)),
    "EIF_cond_exp_isfa_ista": (
        dict(tau_refrac=0.5, v_reset=-60.0, tau_syn_E=3.0, tau_syn_I=6.0, i_offset=0.1),
        dict(v=-70.6, w=0.0), 0.8, _spikes(_EXC_TIMES, 0.04), _spikes(_INH_TIMES, 0.06)),
    "EIF_cond_alpha_isfa_ista": (
        dict(tau_refrac=0.5, v_reset=-60.0, tau_syn_E=1.0, tau_syn_I=2.0),
        dict(v=-70.6, w=0.0), 0.8, _spikes(_EXC_TIMES, 0.05), _spikes(_INH_TIMES, 0.06)),
    "Izhikevich": (
        dict(a=0.02, b=0.2, c=-55.0, d=4.0, i_offset=0.002),
        dict(v=-70.0, u=-14.0), 0.012, _spikes(_EXC_TIMES, 9.0), _spikes(_INH_TIMES, -8.0)),
    "HH_cond_exp": (
        dict(i_offset=0.05),
        dict(v=-65.0, m=0.0, h=1.0, n=0.0), 0.5, _spikes(_EXC_TIMES, 0.03), _spikes(_INH_TIMES, 0.05)),
    # The Vogels-Abbott COBA cell (Brette et al. 2007, benchmark 1) under its external drive:
    # 100 nS kicks that cross the threshold within one tick and arrive while refractory, where
    # NEST's right-hand side clamps v (min(v, v_thresh); v_reset and dv/dt = 0 while refractory).
    # One cell does not show the clamp in its spike times; the network does (tests/pynn/test_va_benchmarks.py).
    "IF_cond_exp/COBA": (
        _COBA_CELL, dict(v=-51.5), 0.0, _spikes(_KICK_TIMES, 0.1), _spikes(_INH_TIMES, 0.051)),
    "IF_cond_alpha/COBA": (
        _COBA_CELL, dict(v=-51.5), 0.0, _spikes(_KICK_TIMES, 0.1), _spikes(_INH_TIMES, 0.051)),
}

# PyNN cell type -> NEST initial-value names and scale (NEST value = PyNN value * scale)
_INITIAL_MAP = {"v": ("V_m", 1.0), "w": ("w", 1000.0), "u": ("U_m", 1.0), "m": ("Act_m", 1.0),
                "h": ("Inact_h", 1.0), "n": ("Act_n", 1.0)}


def run_nest(model: str, traces: bool = False, record_from=("V_m",)):
    """Run one scenario in NEST; return spike times (ms) and, if asked, the v trace.

    Traces (NEST names in ``record_from``, NEST units) hold the state after every tick (times
    dt, 2 dt, ...), the values a kernel writes to ``rec_out``; NEST does not deliver the last
    min-delay of samples.
    """
    import nest
    import numpy as np
    from pyNN.nest.standardmodels import cells

    params, initial, amp, exc, inh = SCENARIOS[model]
    model = model_of(model)
    celltype = getattr(cells, model)(**params)
    native = celltype.native_parameters
    native.shape = (1,)
    native.evaluate(simplify=True)
    native = {k: float(v) for k, v in native.items()}
    native.update(celltype.extra_parameters if hasattr(celltype, "extra_parameters") else {})

    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.resolution = DT
    nest.local_num_threads = 1
    neuron = nest.Create(celltype.nest_name["on_grid"], params=native)
    for name, value in initial.items():
        nest_name, scale = _INITIAL_MAP[name]
        neuron.set({nest_name: value * scale})
    conductance = celltype.conductance_based
    # PyNN → NEST weights: nA→pA and µS→nS (x1000, inhibitory conductances negated); mV unchanged
    voltage = model in ("IF_curr_delta", "Izhikevich")
    for spikes, sign in ((exc, 1.0), (inh, -1.0 if conductance else 1.0)):
        for t, w in spikes:
            gen = nest.Create("spike_generator", params={"spike_times": [t]})
            nest.Connect(gen, neuron, syn_spec={"weight": sign * w * (1.0 if voltage else 1000.0),
                                                "delay": DELAY})
    rec = nest.Create("spike_recorder")
    nest.Connect(neuron, rec)
    mm = None
    if traces:
        mm = nest.Create("multimeter", params={"record_from": list(record_from), "interval": DT})
        nest.Connect(mm, neuron)
    i_e = native.get("I_e", 0.0)
    nest.Simulate(STEP_ON)
    neuron.set({"I_e": i_e + amp * 1000.0})
    nest.Simulate(STEP_OFF - STEP_ON)
    neuron.set({"I_e": i_e})
    nest.Simulate(T_STOP - STEP_OFF)
    times = [round(float(t), 10) for t in rec.get("events")["times"]]
    if not traces:
        return times
    ev = mm.get("events")
    return times, np.asarray(ev["times"]), {name: np.asarray(ev[name]) for name in record_from}


def main() -> None:
    import nest

    out = ["# generated by tests/backends/emulator/make_nest_references.py with NEST " + nest.__version__,
           "# model: (spike times ms, v (mV) after the ticks in V_SAMPLE_TICKS)",
           f"V_SAMPLE_TICKS = {V_SAMPLE_TICKS!r}",
           "NEST_REFERENCES = {"]
    for model in SCENARIOS:
        times, _, trace = run_nest(model, traces=True)
        samples = tuple(float(trace["V_m"][k]) for k in V_SAMPLE_TICKS)
        out.append(f"    {model!r}: (")
        out.append(f"        {times!r},")
        out.append(f"        {samples!r}),")
    out.append("}")
    print("\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
