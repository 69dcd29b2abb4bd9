"""examples/basal_ganglia_selection.py runs end to end with short settings (16 cells per channel)."""
import re
import subprocess
import sys
from pathlib import Path

import h5py

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_basal_ganglia_selection_example(tmp_path):
    out = subprocess.run([sys.executable, str(EXAMPLES / "basal_ganglia_selection.py"), "--n-per-channel", "16",
                          "--segment", "400", "--saliences", "30", "--trials", "0", "--output", str(tmp_path)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("selection:"))
    assert "selected: [[], [0]" in line                       # tonic: none; channel 1 salient: channel 1
    assert len(re.findall(r"^dopamine [0-9.]+: threshold", out.stdout, flags=re.M)) == 3
    assert "learning: skipped" in out.stdout          # learning is tested in tests/library (time budget)
    assert (tmp_path / "basal_ganglia_selection.png").stat().st_size > 25_000
    with h5py.File(tmp_path / "basal_ganglia_selection.h5", "r") as f:
        assert f["spikes/BG.GPi/timestamps"].size > 0
