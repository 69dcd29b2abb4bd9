"""examples/neuromodulators.py with short settings (5 trials of 1 s, nuclei of 12 cells)."""
import re
import subprocess
import sys
from pathlib import Path

import h5py

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_neuromodulators_example(tmp_path):
    out = subprocess.run([sys.executable, str(EXAMPLES / "neuromodulators.py"), "--unexpected", "1", "--paired", "3",
                          "--omitted", "1", "--alpha", "1.0", "--scale", "0.3", "--output", str(tmp_path)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    vta = next(x for x in out.stdout.splitlines() if x.startswith("VTA:"))
    base, unexpected = (float(x) for x in re.findall(r"([0-9.]+) Hz", vta)[:2])
    assert unexpected > 1.5 * base                       # the free reward's burst
    lc = {m: float(re.search(rf"LC {m} mode: tonic ([0-9.]+) Hz", out.stdout).group(1)) for m in ("phasic", "tonic")}
    assert lc["tonic"] > lc["phasic"]                    # the controller switched the mode
    assert "BF:" in out.stdout and "outputs:" in out.stdout
    assert (tmp_path / "neuromodulators.png").stat().st_size > 50_000
    with h5py.File(tmp_path / "neuromodulators.h5", "r") as f:
        assert f["spikes/VTA DA/timestamps"].size > 0 and f["spikes/LC NE/timestamps"].size > 0
