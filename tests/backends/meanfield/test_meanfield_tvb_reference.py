"""Agreement with The Virtual Brain (tvb-library 2.10): stored TVB output (data/tvb_reference.npz,
made by data/make_tvb_reference.py) against our engine on the same connectome, model, coupling,
speed, dt, integrator and constant initial history."""
import json
import os

import numpy as np
import pytest

from neurohybrid.backends.meanfield import (MODELS, Connectome, Difference, EulerDeterministic, HeunDeterministic,
                                            KuramotoCoupling, Linear, MeanFieldSimulation, Raw, Sigmoidal, SigmoidalJansenRit)

REF = np.load(os.path.join(os.path.dirname(__file__), "data", "tvb_reference.npz"))
CASES = json.loads(str(REF["cases"]))
COUPLINGS = {"Linear": Linear, "Sigmoidal": Sigmoidal, "Difference": Difference, "Kuramoto": KuramotoCoupling,
             "SigmoidalJansenRit": SigmoidalJansenRit}
INTEGRATORS = {"HeunDeterministic": HeunDeterministic, "EulerDeterministic": EulerDeterministic}


def _connectome(name):
    if name == "c76":
        return Connectome(REF["c76_weights"], REF["c76_lengths"], list(REF["c76_labels"]))
    return Connectome.synthetic(8, seed=0)


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_tvb(case):
    model_name, params, cpl, cpar, integ, cname, duration, _seed = CASES[case]
    dt, speed, every = float(REF["dt"]), float(REF["speed"]), int(REF["every"])
    conn = _connectome(cname)
    model = MODELS[model_name](**params)
    sim = MeanFieldSimulation(conn, model, COUPLINGS[cpl](**cpar), speed=speed, dt=dt,
                              integrator=INTEGRATORS[integ](), monitors=[Raw(period=every * dt)],
                              initial_state=REF[f"{case}_x0"])
    ours = sim.run(duration)["raw"]
    tvb = REF[f"{case}_data"]
    assert ours.data.shape == tvb.shape
    np.testing.assert_allclose(ours.time, np.arange(1, len(tvb) + 1) * every * dt)
    for v in range(tvb.shape[1]):
        a, b = ours.data[:, v], tvb[:, v]
        for i in range(a.shape[1]):
            if np.std(b[:, i]) > 1e-9:
                assert np.corrcoef(a[:, i], b[:, i])[0, 1] >= 0.999, (case, v, i)
        # TVB stores weights as float32 in its sparse history: differences of ~1e-8 remain
        scale = max(1.0, float(np.abs(b).max()))
        assert np.max(np.abs(a - b)) <= 1e-5 * scale, (case, v, float(np.max(np.abs(a - b))))
