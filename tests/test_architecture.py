"""The layering the README's architecture section states, checked on the source: no engine
imports another engine (what two share lives in neurohybrid.stimuli or mappings.loihi.runtime),
and the runtime side (graph, runtime, partition, kernel, engine contract, stimuli) knows nothing of PyNN."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
ENGINES = ("emulator", "lava", "neuron", "meanfield")


def _imports(path: pathlib.Path) -> list[str]:
    """Absolute module names imported by a file (relative imports resolved inside the package)."""
    tree = ast.parse(path.read_text())
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[0] in ("backends", "mappings"):
        parts = ["neurohybrid"] + parts
    package = parts[:-1]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                out.append(".".join(base + ([node.module] if node.module else [])))
            else:
                out.append(node.module)
    return out


@pytest.mark.parametrize("engine", ENGINES)
def test_no_engine_imports_another_engine(engine):
    offenders = []
    for path in (ROOT / "backends" / engine).rglob("*.py"):
        for name in _imports(path):
            for other in ENGINES:
                if other != engine and name.startswith(f"neurohybrid.backends.{other}"):
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offenders, offenders


@pytest.mark.parametrize("module", ["graph", "graph_io.py", "graph_codec.py", "partition.py", "kernel.py",
                                    "engine.py", "engines.py", "stimuli", "encoders", "runtime", "adapters.py", "converters.py"])
def test_the_runtime_side_knows_no_pynn(module):
    paths = [ROOT / "neurohybrid" / module] if module.endswith(".py") else \
        list((ROOT / "neurohybrid" / module).rglob("*.py"))
    for path in paths:
        names = _imports(path)
        assert not [n for n in names if n.split(".")[0] == "pyNN" or n.startswith("neurohybrid.pynn")], path
