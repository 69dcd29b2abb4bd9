"""PyNN STDP on the float emulator against NEST 3.10 (issue 11, item 1).

The protocols and the stored NEST results come from ``make_stdp_references.py`` in this
directory (NEST ``stdp_synapse`` with each PyNN weight dependence's (mu_plus, mu_minus),
``vogels_sprekeler_synapse``, and ``stdp_dopamine_synapse`` with a volume transmitter fed by
dopamine neurons, delivering every 1 and every 7 min-delay slices: issue 11, item 2). The same PyNN script runs here on neurohybrid; the issue's bar
is final weights equal to NEST's to <= 1e-9 relative, and the postsynaptic spikes must be
NEST's exactly (the Poisson protocols' plastic weights shape them).
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import neurohybrid.pynn as sim

_spec = importlib.util.spec_from_file_location("make_stdp_references",
                                               Path(__file__).with_name("make_stdp_references.py"))
protocols = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(protocols)
REFERENCES = json.loads(Path(__file__).with_name("stdp_references.json").read_text())

TOLERANCE = 1e-9  # relative, issue 11


def _run(name: str):
    if name.startswith("dopamine-"):
        prj, post, t_stop = protocols.dopamine_protocol(sim, protocols.DOPAMINE_PROTOCOLS[name])
    elif name.startswith("pairs-"):
        prj, post, t_stop = protocols.pair_protocol(sim, name.split("-", 1)[1])
    elif name.startswith("poisson-"):
        prj, post, t_stop = protocols.poisson_protocol(sim, protocols.poisson_stdp(sim, name.split("-", 1)[1]))
    else:
        v = protocols.VOGELS
        rule = sim.STDPMechanism(timing_dependence=sim.Vogels2011Rule(tau=v["tau"], eta=v["eta"], rho=v["rho"]),
                                 weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=0.4),
                                 weight=0.2, delay=1.0)
        prj, post, t_stop = protocols.poisson_protocol(sim, rule)
    sim.run(t_stop)
    weights = prj.get("weight", format="list", with_address=True)
    spikes = [np.asarray(st.magnitude) for st in post.get_data().segments[0].spiketrains]
    sim.end()
    return {(int(i), int(j)): w for i, j, w in weights}, spikes


@pytest.mark.parametrize("name", protocols.PROTOCOLS + list(protocols.DOPAMINE_PROTOCOLS))
def test_final_weights_equal_nest(name):
    ref = REFERENCES["protocols"][name]
    weights, spikes = _run(name)
    for ours, theirs in zip(spikes, ref["post_spikes"]):
        np.testing.assert_allclose(ours, theirs, atol=1e-9, err_msg=f"{name}: postsynaptic spikes differ from NEST's")
    expected = {(i, j): w for i, j, w in ref["weights"]}
    assert weights.keys() == expected.keys()
    ours = np.array([weights[k] for k in expected])
    theirs = np.array(list(expected.values()))
    worst = float(np.max(np.abs(ours - theirs) / np.abs(theirs)))
    print(f"{name}: {len(theirs)} synapses, largest relative difference to NEST {worst:.2e} (bar {TOLERANCE:g})")
    assert worst <= TOLERANCE
    initial = {"pairs": 5e-8, "dopamine": 0.3}.get(name.split("-")[0], 0.2)
    assert np.ptp(theirs) > 0.05 * initial, "the protocol must move the weights"
