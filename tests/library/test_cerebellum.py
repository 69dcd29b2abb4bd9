"""The cerebellar timing module (Yamazaki & Tanaka 2007, Eur J Neurosci 26:2279) at reduced size."""
import numpy as np
import pytest

import neurohybrid.pynn as sim
from neurohybrid.errors import ParameterError
from neurohybrid.library import cell_class
from neurohybrid.library import cerebellum as cb


def _module(**kw):
    sim.setup(timestep=0.1)
    kw.setdefault("n_granule", 200)
    kw.setdefault("seed", 3)
    return cb.cerebellum(sim, **kw)


@pytest.mark.parametrize("kw, name", [
    ({"nonsense": 1}, "nonsense"),
    ({"cs_rate": 500.0}, "cs_rate"),
    ({"cs_rate": float("nan")}, "cs_rate"),
    ({"ltd_rate": "a lot"}, "ltd_rate"),
    ({"n_granule": 0}, "n_granule"),
    ({"n_granule": 10.5}, "n_granule"),
    ({"n_granule": 210}, "n_granule"),            # not a multiple of cluster_size=20
    ({"interval": 50.0}, "interval"),             # below the published 100-2000 ms
    ({"interval": "500"}, "interval"),
    ({"interval": 790.0}, "interval"),            # the US must fall inside the CS (cs_duration 800)
    ({"seed": -1}, "seed"),
    ({"n_purkinje": 2.5}, "n_purkinje"),
    ({"mf_per_granule": 8, "n_mossy": 5, "override": True}, "mf_per_granule"),
])
def test_bad_inputs_name_module_and_parameter(kw, name):
    with pytest.raises(ParameterError) as err:
        _module(**kw)
    assert "cerebellum module" in str(err.value) and name in str(err.value)


def test_override_is_used_and_recorded():
    mod = _module(cs_rate=150.0, override=True)
    assert mod.parameters["cs_rate"] == 150.0 and mod.overrides == ("cs_rate",)
    with pytest.raises(ParameterError, match="n_trials"):
        cb.train(sim, mod, 0)
    with pytest.raises(ParameterError, match="probes"):
        cb.learned_response(mod, [])
    with pytest.raises(ParameterError, match="port"):
        mod.port("nope")


def test_structure_ports_cells_and_wiring():
    mod = _module()
    assert {p.name for p in mod.inputs()} == {"cs", "us"}
    assert {p.name for p in mod.outputs()} == {"pf", "pc", "dcn", "dcn_rate"}
    assert mod.port("dcn_rate").kind == "rates" and mod.port("us").target is mod.populations["PkC"]
    assert cell_class("GrC").parameters["cm"].value == pytest.approx(0.0031)       # 3.1 pF (Yamazaki & Tanaka 2007 Table 1)
    assert cell_class("PkC").parameters["v_thresh"].value == -55.0
    prj = mod.extras["projections"]
    mf = prj["mf_grc"].get("weight", format="array")
    assert (np.isfinite(mf).sum(axis=0) == 4).all()                                # 4 MF per granule cell
    go = np.isfinite(prj["goc_grc"].get("weight", format="array"))
    assert (go.sum(axis=0) == 2).all()                                             # 2 Golgi cells per cluster
    assert (go[:, :20] == go[:, :1]).all()                                         # shared within a cluster


def test_plasticity_depresses_pfs_active_before_the_cf_spike():
    """One conditioning trial: PFs with spikes in [US - 50 ms, US) lose weight; silent ones keep it."""
    mod = _module(interval=300.0, cs_duration=400.0, rest=100.0)
    mod.record("spikes")
    trial = cb.run_trial(sim, mod, us=True)
    ids, t = trial["GrC"]
    us = trial["us_time"]
    assert us == mod.parameters["cs_onset"] + 300.0
    w = mod.extras["projections"]["pf"].get("weight", format="array")[:, 0]
    w0 = mod.extras["w0"][:, 0]
    in_window = np.unique(ids[(t >= us - 50.0) & (t < us)])
    silent = np.setdiff1d(np.arange(200), ids)
    assert in_window.size > 5 and (w[in_window] < w0[in_window]).all()
    assert np.array_equal(w[silent], w0[silent])
    assert len(trial["PkC"][0]) > 0 and np.any(trial["PkC"][1] > us - 1)         # the CF made the PCs fire


def test_granule_sequence_does_not_recur():
    """Yamazaki & Tanaka 2007: the similarity index of granule population vectors falls
    monotonically with the time between them over the CS; ours at 400 granule cells, one trial
    (the fall is shallow here: a large static part of the population vector remains)."""
    mod = _module(n_granule=400, cs_duration=600.0, rest=100.0)
    mod.record("spikes")
    trial = cb.run_trial(sim, mod, us=False)
    onset = mod.parameters["cs_onset"]
    _, c = cb.similarity_index(trial["GrC"], 400, onset + 100.0, onset + 600.0, 20.0)
    lag = [np.mean(np.diagonal(c, k)) for k in (1, 5, 10, 20)]
    print("similarity at 20, 100, 200, 400 ms lags:", np.round(lag, 2), "(Yamazaki & Tanaka 2007: decreasing)")
    assert lag[0] > lag[1] > lag[2] > lag[3]
