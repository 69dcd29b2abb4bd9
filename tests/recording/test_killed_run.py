"""A run killed hard (SIGKILL) keeps everything flushed before it, readable as SONATA spikes."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np

from neurohybrid.recording import open_run

SCRIPT = textwrap.dedent("""
    import sys
    import neurohybrid.pynn as sim
    sim.setup(timestep=0.1, recording_path=sys.argv[1])
    cells = sim.Population(50, sim.IF_curr_exp(i_offset=1.0), label="cells")
    cells.record("spikes")
    sim.run(1e7)  # far longer than the test waits
""")


def _spike_count(path):
    try:
        store = open_run(path)
        try:
            return store.read_spikes("cells")[0].size
        finally:
            store.close()
    except Exception:
        return 0


def test_killed_run_keeps_flushed_spikes(tmp_path):
    path = tmp_path / "killed.h5"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(path)])
    try:
        deadline = time.monotonic() + 120
        while _spike_count(path) < 500 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
        time.sleep(1.0)  # let it write more, so the kill lands mid-stream
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    store = open_run(path)
    times, ids = store.read_spikes("cells")
    store.close()
    assert times.size >= 500
    assert np.all(np.diff(times) >= 0)
    # DC-driven cells fire regularly: every inter-spike interval is the same on the dt grid
    first = times[ids == 0]
    np.testing.assert_allclose(np.diff(first), np.diff(first)[0], atol=0.1 + 1e-9)
