"""Every example runs, with short durations, so that none of them rots."""
import subprocess
import sys
from pathlib import Path

import h5py

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_brunel_network_example(tmp_path):
    out = subprocess.run([sys.executable, str(EXAMPLES / "brunel_network.py"), "--n-neurons", "1000",
                          "--duration", "100", "--output", str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "excitatory rate" in out.stdout
    assert (tmp_path / "brunel_raster.png").stat().st_size > 10_000
    with h5py.File(tmp_path / "brunel.h5", "r") as f:
        assert f["spikes/excitatory/timestamps"].size > 0
