"""examples/cortex_microcircuit.py runs at a small size and draws its figure."""
import subprocess
import sys
from pathlib import Path

import h5py

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cortex_microcircuit.py"


def test_cortex_microcircuit_example(tmp_path):
    out = subprocess.run([sys.executable, str(EXAMPLE), "--duration", "300", "--n-scale", "0.01",
                          "--k-scale", "0.05", "--thalamus", "--th-start", "200", "--output", str(tmp_path)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "population rates" in out.stdout and "L5E" in out.stdout
    assert (tmp_path / "cortex_microcircuit.png").stat().st_size > 20_000
    with h5py.File(tmp_path / "cortex_microcircuit.h5", "r") as f:
        assert f["spikes/L4E/timestamps"].size > 0
        assert f["spikes/TC/timestamps"].size > 0
