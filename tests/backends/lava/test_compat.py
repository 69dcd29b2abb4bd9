"""The Python 3.11 compatibility shim for lava-nc 0.10 (``neurohybrid.backends.lava.compat``).

Shows why it is needed (without it Lava does not import on 3.11), that it is scoped to Lava's
own dataclasses and reversible, and that with it a small LIF network runs on
``Loihi2SimCfg(select_tag="fixed_pt")`` with the exact Loihi integer results.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from neurohybrid.backends.lava import compat, import_lava

LAVA_INSTALLED = importlib.util.find_spec("lava") is not None
needs_lava = pytest.mark.skipif(not LAVA_INSTALLED, reason="lava-nc is not installed")


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


@needs_lava
@pytest.mark.skipif(sys.version_info < (3, 11), reason="Python < 3.11 accepts Lava's dataclass defaults")
def test_lava_does_not_import_without_the_shim():
    # A fresh interpreter, so nothing in this process (shim already installed) interferes.
    result = _python("import lava.proc.lif.process")
    assert result.returncode != 0
    assert "ValueError: mutable default" in result.stderr
    assert "use default_factory" in result.stderr


@needs_lava
def test_lava_imports_with_the_shim_in_a_fresh_interpreter():
    result = _python(
        "from neurohybrid.backends.lava import import_lava\n"
        "assert import_lava()\n"
        "import lava.proc.lif.process, lava.proc.lif.models, lava.proc.sparse.models\n"
        "print('ok')\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_import_lava_reports_missing_lava():
    # Make `lava` unimportable in a fresh interpreter: None in sys.modules blocks the import.
    result = _python(
        "import sys\n"
        "sys.modules['lava'] = None\n"
        "from neurohybrid.backends.lava import compat\n"
        "print(compat.import_lava())\n"
        "print(compat.last_error)\n")
    assert result.returncode == 0, result.stderr
    ok, reason = result.stdout.strip().splitlines()
    assert ok == "False"
    assert "not installed" in reason


def test_shim_only_touches_lava_dataclasses():
    compat.install()
    try:
        @dataclasses.dataclass
        class Inner:
            a: int = 0

        # A non-lava class keeps Python's own rule.
        with pytest.raises(ValueError, match="mutable default"):
            @dataclasses.dataclass
            class Outer:
                inner: Inner = Inner()

        # A class defined in a lava module gets 3.10's semantics: one shared default object,
        # which also stays the class attribute.
        default = Inner(7)

        class LavaLike:
            __module__ = "lava.magma.fake_for_test"
            __annotations__ = {"inner": Inner, "n": int}
            inner = default
            n = 3

        LavaLike = dataclasses.dataclass(LavaLike)
        assert LavaLike().inner is default and LavaLike().n == 3
        assert LavaLike.inner is default
        assert LavaLike(Inner(1)).inner == Inner(1)
    finally:
        compat.uninstall()
    assert not compat.installed()
    assert dataclasses._get_field is compat._ORIGINAL_GET_FIELD

    # Reversible: once uninstalled, lava-module classes get Python's rule again (on 3.11+).
    if compat.needed():
        with pytest.raises(ValueError, match="mutable default"):
            class LavaLikeAgain:
                __module__ = "lava.magma.fake_for_test"
                __annotations__ = {"inner": Inner}
                inner = Inner()

            dataclasses.dataclass(LavaLikeAgain)
    compat.install()  # leave it as import_lava() would (other tests import lava lazily)


@needs_lava
def test_shim_keeps_lava_semantics():
    assert import_lava(), compat.last_error
    from lava.magma.compiler.var_model import ByteEncoder, CoreEncoder

    assert isinstance(CoreEncoder.x, ByteEncoder)
    # As on Python 3.10: every instance shares the one default object of the class.
    assert CoreEncoder().x is CoreEncoder().x is CoreEncoder.x
    assert CoreEncoder().x is not CoreEncoder().y
    assert CoreEncoder(x=ByteEncoder(1, 2, 3)).x == ByteEncoder(1, 2, 3)


@needs_lava
def test_small_lif_network_runs_on_loihi2simcfg_fixed_pt():
    assert import_lava(), compat.last_error
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.lif.process import LIF
    from lava.proc.monitor.process import Monitor
    from lava.proc.sparse.process import Sparse

    steps = 20
    # Neuron A: no leak (dv = 0), bias 100 per step, threshold 10 << 6 = 640: v = 100 k, fires
    # when v > 640, i.e. at steps 7, 14 (v resets to 0).
    a = LIF(shape=(1,), du=0, dv=0, vth=10, bias_mant=100, bias_exp=0)
    # Neuron B: current decays fully each step (du = 4095 → factor 4096 - 4096 = 0); A's spike
    # arrives one step later as u = 200 << 6 = 12800 > 640 → B fires at steps 8, 15.
    b = LIF(shape=(1,), du=4095, dv=0, vth=10)
    syn = Sparse(weights=np.array([[200]]))
    a.s_out.connect(syn.s_in)
    syn.a_out.connect(b.a_in)
    mon_a, mon_b, mon_u = Monitor(), Monitor(), Monitor()
    mon_a.probe(a.s_out, steps)
    mon_b.probe(b.s_out, steps)
    mon_u.probe(b.u, steps)
    try:
        a.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        spikes_a = mon_a.get_data()[a.name]["s_out"][:, 0]
        spikes_b = mon_b.get_data()[b.name]["s_out"][:, 0]
        u_b = mon_u.get_data()[b.name]["u"][:, 0]
    finally:
        a.stop()
    steps_a = list(np.flatnonzero(spikes_a) + 1)  # Lava time steps are 1-based
    steps_b = list(np.flatnonzero(spikes_b) + 1)
    assert steps_a == [7, 14]
    assert steps_b == [8, 15]
    assert u_b[7] == 200 << 6 and u_b[8] == 0
