"""The house rules of docs/architecture.md, checked on the source: data flows one way
through the stages, no import cycles, no file over 600 lines, and importing the
package stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "scalinglaws"

#: stage of each top-level folder or core module; a module may import its own stage or a
#: lower one, never a higher one (docs/architecture.md)
STAGES = {"_core": 0, "data": 1, "laws": 2, "fitting": 3, "uncertainty": 4, "analysis": 5,
          "outputs": 6}
#: the package's front door and the old-path aliases sit above every stage
TOP = {"scalinglaws", "scalinglaws._moved", "scalinglaws.__main__"}
MAX_LINES = 600  # "each file one job and under ~600 lines" (docs/architecture.md)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _stage(module: str) -> str | None:
    parts = module.split(".")
    if module in TOP:
        return None
    return parts[1] if len(parts) > 2 or parts[1] in STAGES else "_core"


def _imports(path: Path, module: str) -> set[str]:
    """Modules of the package imported anywhere in ``path`` (function bodies included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("scalinglaws"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("scalinglaws"):
                continue
            found.add(target)
            for alias in node.names:  # `from . import plot` imports a module
                candidate = f"{target}.{alias.name}"
                if _exists(candidate):
                    found.add(candidate)
    return {name for name in found if _exists(name)}


def _exists(module: str) -> bool:
    rel = Path(*module.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def _graph() -> dict[str, set[str]]:
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        graph[module] = _imports(path, module)
    return graph


def test_no_lower_stage_imports_a_higher_one():
    offenders = []
    for module, targets in _graph().items():
        stage = _stage(module)
        if stage is None:
            continue
        for target in targets:
            tstage = _stage(target)
            if tstage is not None and STAGES[tstage] > STAGES[stage]:
                offenders.append(f"{module} ({stage}) imports {target} ({tstage})")
    assert not offenders, "\n".join(offenders)


def test_no_import_cycles():
    graph = _graph()
    # a package's __init__ is imported by its own modules; edges into a package are not a cycle
    edges = {m: {t for t in ts if t != m and not m.startswith(t + ".")} for m, ts in graph.items()}
    state, stack, cycles = {}, [], []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in edges.get(node, ()):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in edges:
        if node not in state:
            visit(node)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_every_module_has_a_stage():
    for module in _graph():
        stage = _stage(module)
        assert stage is None or stage in STAGES, module


def test_files_stay_small():
    big = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not big, f"modules over {MAX_LINES} lines: {big}"


def test_import_is_light():
    code = ("import sys, scalinglaws; heavy = [m for m in ('scipy', 'pandas', 'matplotlib', "
            "'statsmodels', 'joblib', 'tqdm') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("old, new", [("scalinglaws.extrapolate", "scalinglaws.analysis.extrapolate"),
                                      ("scalinglaws.bootstrap", "scalinglaws.uncertainty.bootstrap"),
                                      ("scalinglaws.fit", "scalinglaws.fitting.estimator")])
def test_old_module_paths_still_import(old, new):
    import importlib

    import scalinglaws

    assert importlib.import_module(old) is importlib.import_module(new)
    # the top-level verbs stay functions even after their old module path was imported
    assert callable(scalinglaws.fit) and callable(scalinglaws.bootstrap)
    assert not isinstance(scalinglaws.backtest, type(scalinglaws))
