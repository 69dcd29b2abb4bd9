"""The reduced L5 pyramidal cell of examples/l5pc in plain NEURON (no neurohybrid): BAC firing
(Larkum et al. 1999), its synapses and named places; and the l5_island example end to end."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("neuron")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))

import l5pc  # noqa: E402


@pytest.fixture(scope="module")
def bac():
    l5pc.load_mechanisms()
    return {cond: l5pc.run_bac_protocol(cond) for cond in ("soma", "tuft", "both")}


def test_somatic_step_alone_gives_one_spike_and_no_ca_spike(bac):
    r = bac["soma"]
    assert len(r["spikes"]) == 1
    assert r["hotzone"].max() < -25.0  # the bAP reaches the hot zone attenuated, below the Ca spike


def test_tuft_epsp_alone_is_subthreshold_at_the_soma(bac):
    r = bac["tuft"]
    assert len(r["spikes"]) == 0
    assert r["soma"].max() < -55.0
    assert r["tuft"].max() - r["tuft"][0] > 20.0  # a large local EPSP in the tuft
    assert r["hotzone"].max() < -25.0


def test_coincidence_gives_a_dendritic_ca_spike_and_a_somatic_burst(bac):
    both, soma = bac["both"], bac["soma"]
    assert len(both["spikes"]) >= 2  # BAC firing: a burst
    assert np.all(np.diff(both["spikes"]) < 20.0)  # at burst frequency (> 50 Hz)
    assert both["hotzone"].max() > 0.0  # the Ca spike
    assert both["ica"].min() < 5 * soma["ica"].min()  # inward Ca current >5x the bAP's alone
    # the Ca spike is broad: the hot zone stays above -30 mV for > 10 ms
    dt = both["t"][1] - both["t"][0]
    assert np.sum(both["hotzone"] > -30.0) * dt > 10.0


def test_coincidence_window():
    l5pc.load_mechanisms()
    assert len(l5pc.run_bac_protocol("both", delay=15.0, tstop=120.0)["spikes"]) == 1  # too late: no burst
    assert len(l5pc.run_bac_protocol("both", delay=0.0, tstop=120.0)["spikes"]) >= 2


def test_synapses_locations_and_size():
    l5pc.load_mechanisms()
    cell = l5pc.L5PC(gid=3)
    assert 80 <= cell.n_segments() <= 130
    for receptor, attr in l5pc.RECEPTORS.items():
        syns = getattr(cell, attr)
        assert len(syns) > 0 and all(s.hname().startswith("Exp2Syn") for s in syns), receptor
    base = lambda pp: pp.get_segment().sec.name().split(".")[-1].split("[")[0]  # noqa: E731
    assert {base(s) for s in cell.ampa_tuft} == {"tuft"}
    assert {base(s) for s in cell.ampa_basal} == {"basal"}
    assert {base(s) for s in cell.gaba_soma} == {"soma"}
    assert all(s.e < -70 for s in cell.gaba_soma)
    assert cell.locations() == l5pc.LOCATIONS
    for name, spec in l5pc.LOCATIONS.items():
        seg = cell.segment(spec)
        assert seg.sec in cell.all and cell.segment(name) == seg, name
    assert cell.soma.name() == "L5PC[3].soma"


def _integration_ready() -> str | None:
    """Why the hybrid example cannot run yet (None when it can)."""
    if not (EXAMPLES / "l5_island.py").exists():
        return "examples/l5_island.py is not written yet"
    try:
        import neurohybrid.backends.neuron.engine  # noqa: F401
    except Exception as exc:  # noqa: BLE001
        return f"the NEURON engine is not available yet ({exc})"
    return None


def test_l5_island_example(tmp_path):
    reason = _integration_ready()
    if reason:
        pytest.skip(f"the front-end integration of NeuronCell has not landed: {reason}")
    env = dict(os.environ)
    out = subprocess.run([sys.executable, str(EXAMPLES / "l5_island.py"), "--duration", "150",
                          "--output", str(tmp_path)], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-4000:]
    assert "outputs:" in out.stdout and "BAC firing raises" in out.stdout
    assert (tmp_path / "l5_island.png").stat().st_size > 20_000
    import h5py
    with h5py.File(tmp_path / "l5_island.h5", "r") as f:
        assert f["spikes/L5/timestamps"].size > 0 and f["spikes/E/timestamps"].size > 0
