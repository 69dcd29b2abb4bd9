"""PyNN 0.13's own example scripts (``examples/`` of its sdist, unpacked by the Makefile), run
unchanged with ``neurohybrid`` as the simulator argument, figures included.

Each script runs in a subprocess (so ``pyNN.utility.get_simulator`` really imports
``pyNN.neurohybrid``, the module this distribution installs), in a temporary directory, with a
timeout; it must exit with status 0, and a script that takes ``--plot-figure`` gets it and, if
it draws one (VAbenchmarks.py accepts the option but draws nothing), must write a PNG. Nothing in the scripts is shortened. Left out (listed in ``NOT_RUN`` with the
reason): scripts that need MPI, NineML, CSA or another simulator's own features.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(sys.prefix) / "pynn-sdist" / "pynn-0.13.0" / "examples"

NOT_RUN = {
    "distrib_example.py": "needs MPI (mpi4py) and several processes",
    "nineml_brunel.py": "needs NineML (and pyNN.nineml)",
    "nineml_neuron.py": "needs NineML (and pyNN.nineml)",
    "simpleRandomNetwork_csa.py": "needs the Connection Set Algebra (csa)",
    "nrn_artificial_cell.py": "needs NEURON's own artificial cells through pyNN.neuron",
    "random_distributions.py": "takes no simulator: it compares pyNN.neuron's NativeRNG with NumPy's",
}
XFAIL: dict = {}  # example -> reason, as strict xfails (none today)
#: the arguments after the script (PyNN's examples parse them in their own ways)
ARGS = {"VAbenchmarks.py/CUBA": ["--plot-figure", "neurohybrid", "CUBA"],
        "VAbenchmarks.py/COBA": ["--plot-figure", "neurohybrid", "COBA"],
        "connections.py": ["neurohybrid", "--plot-figure=connections"]}
TIMEOUT_S = 1800  # a hang guard only: the scripts take seconds, but the machine may be loaded


def _cases():
    if not EXAMPLES.is_dir():
        return []
    cases = []
    for path in sorted(EXAMPLES.glob("*.py")):
        if path.name in NOT_RUN:
            continue
        names = [key for key in ARGS if key.split("/")[0] == path.name] or [path.name]
        for name in names:
            args = ARGS.get(name) or (["--plot-figure", "neurohybrid"] if '"--plot-figure"' in path.read_text()
                                      else ["neurohybrid"])
            marks = [pytest.mark.xfail(reason=XFAIL[path.name], strict=True)] if path.name in XFAIL else []
            cases.append(pytest.param(path, args, id=name, marks=marks))
    return cases


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason=f"PyNN sdist examples not unpacked at {EXAMPLES} (run `make test`)")
@pytest.mark.parametrize("script, args", _cases() or [pytest.param(None, None, id="none")])
def test_pynn_example(script, args, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"}
    try:
        result = subprocess.run([sys.executable, str(script), *args], cwd=tmp_path, env=env, capture_output=True,
                                text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{script.name} did not finish in {TIMEOUT_S} s")
    assert result.returncode == 0, f"{script.name} {' '.join(args)} failed:\n{result.stderr[-3000:]}"
    if any(a.startswith("--plot-figure") for a in args) and "options.plot_figure" in script.read_text():
        assert list(tmp_path.rglob("*.png")), f"{script.name} wrote no figure"  # (VAbenchmarks.py draws none)


def test_pynn_neurohybrid_is_the_backend():
    """``pyNN.neurohybrid`` (installed by this distribution) is neurohybrid.pynn itself."""
    import pyNN.neurohybrid

    import neurohybrid.pynn
    assert pyNN.neurohybrid is neurohybrid.pynn
    from pyNN.utility import get_simulator  # noqa: F401  (what the examples use to import it)
    out = subprocess.run([sys.executable, "-c", "import importlib; sim = importlib.import_module('pyNN.neurohybrid'); "
                          "print(sim.__name__, sim.IF_curr_exp.__module__)"], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.split() == ["neurohybrid.pynn", "neurohybrid.pynn.standardmodels"], out.stderr
