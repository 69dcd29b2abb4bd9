"""examples/thalamus_modes.py runs with short settings and draws its figure."""
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_thalamus_modes_example(tmp_path):
    out = subprocess.run([sys.executable, str(EXAMPLES / "thalamus_modes.py"), "--duration", "600", "--scale", "0.25",
                          "--sweep", "3", "--output", str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "burst mode" in out.stdout and "spindle peak" in out.stdout and "outputs:" in out.stdout
    assert (tmp_path / "thalamus_modes.png").stat().st_size > 20_000
