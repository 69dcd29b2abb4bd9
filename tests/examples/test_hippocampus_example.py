"""examples/hippocampal_replay.py runs at reduced size (20 place cells, 3 laps) and draws its figure."""
import re
import subprocess
import sys
from pathlib import Path

import h5py

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hippocampal_replay.py"


def test_hippocampal_replay_example(tmp_path):
    out = subprocess.run([sys.executable, str(EXAMPLE), "--n-place", "20", "--laps", "3", "--seed", "1",
                          "--output", str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    rho = float(re.search(r"forward replay: Spearman rho (-?[\d.]+)", out.stdout).group(1))
    assert rho >= 0.8, out.stdout  # issue 14's bar, one seed at this size
    assert (tmp_path / "hippocampal_replay.png").stat().st_size > 30_000
    with h5py.File(tmp_path / "hippocampal_replay.h5", "r") as f:
        assert f["spikes/CA3 s1 PC/timestamps"].size > 0
