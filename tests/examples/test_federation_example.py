"""The flagship federation (examples/federation.py) end to end at 300 ms: every library module
placed or coupled, the run written, the figure drawn, the scaffold finite."""
import json
import subprocess
import sys
from pathlib import Path

import h5py

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_federation_example(tmp_path):
    out = subprocess.run([sys.executable, str(EXAMPLES / "federation.py"), "--duration", "300", "--output",
                          str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["finite"]
    assert {"cortex", "thalamus", "hippocampus", "basal_ganglia", "vta", "locus_coeruleus",
            "basal_forebrain"} <= set(summary["modules"])
    assert summary["rates_hz"]["cortex:L4E"] > 0 and summary["rates_hz"]["thalamus:TC"] > 0
    assert "module cortex: region RM-PFCdl_R" in out.stdout and "seam calibration" in out.stdout
    assert (tmp_path / "federation.png").stat().st_size > 50_000
    with h5py.File(tmp_path / "federation.h5", "r") as f:
        assert f["signals/brain/S_e/data"].shape[1] == 96
        assert f["spikes/RM-PFCdl_R.L4E/timestamps"].size > 0
        manifest = json.loads(f.attrs["manifest"])
    assert {r["region"] for r in manifest["wholebrain"]["replaced"]} == {"RM-PFCdl_R", "TM-F_R", "RM-HC_R", "BG-Pu_R"}
