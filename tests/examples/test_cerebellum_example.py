"""examples/cerebellum_timing.py runs with short settings and draws its figure."""
import json
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_cerebellum_timing_example(tmp_path):
    out = subprocess.run([sys.executable, str(EXAMPLES / "cerebellum_timing.py"), "--n-granule", "200",
                          "--interval", "300", "--cs-duration", "500", "--trials", "2", "--probes", "1",
                          "--output", str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "DCN peak" in out.stdout and "PC pause" in out.stdout
    assert (tmp_path / "cerebellum_timing.png").stat().st_size > 30_000
    summary = json.loads((tmp_path / "cerebellum_timing.json").read_text())
    assert summary["interval_ms"] == 300.0 and 0.0 <= summary["dcn_peak_ms"] <= 500.0
