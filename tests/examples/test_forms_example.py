"""examples/cell_forms.py runs with a short duration: both cell classes agree across their engines
and the figure is written."""
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_cell_forms_example(tmp_path):
    pytest.importorskip("neuron")
    out = subprocess.run([sys.executable, str(EXAMPLES / "cell_forms.py"), "--duration", "150",
                          "--output", str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("all within tolerance") == 2, out.stdout
    assert "skipped emulator-fixed: Izhikevich cannot run on Loihi's LIF" in out.stdout
    assert (tmp_path / "cell_forms.png").stat().st_size > 20_000
