"""The delayed-response task of benchmarks/working_memory.py (issue 13's measurement) with a
few trials: the SPA controller remembers every cue and the gating latency is measured."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("nengo_spa")
BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "working_memory.py"


def test_the_working_memory_task_with_a_few_trials():
    out = subprocess.run([sys.executable, str(BENCH), "--trials", "6", "--seed", "2"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["benchmark"] == "working_memory" and res["trials"] == 6
    assert res["correct"] >= 5 and res["met"] is False  # met needs >= 100 trials
    assert 0.0 < res["gating_latency_ms"] < 100.0
    assert res["cued_rate_hz"] > res["other_rate_hz"] + 5.0
