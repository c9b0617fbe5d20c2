"""Every module a test skips without (``pytest.importorskip``) is installed by the README's
test command: a runtime dependency or in the ``test`` extra of pyproject.toml. CI turns any
skip into a failure, so a module missing from the extras fails CI while the quick-start
command, run without ../shared, skips it among the expected skips (pyflakes did)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# distributions whose import name differs from the distribution's
IMPORT_NAME = {"mlflow-skinny": "mlflow"}


def _distributions(section: str) -> set[str]:
    """Import names of the requirements in one ``name = [...]`` list of pyproject.toml."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    body = re.search(rf"^{section} = \[(.*?)^\]", text, re.S | re.M)
    assert body, f"no {section} list in pyproject.toml"
    names = re.findall(r'^\s*"([A-Za-z0-9_.-]+)', body.group(1), re.M)
    return {IMPORT_NAME.get(n, n).replace("-", "_").lower() for n in names}


def test_every_importorskip_module_is_installed_by_the_test_command():
    installed = _distributions("dependencies") | _distributions("test")
    skipped = set()
    for path in (ROOT / "tests").rglob("*.py"):
        for name in re.findall(r"importorskip\(\s*[\"']([A-Za-z0-9_.]+)[\"']",
                               path.read_text(encoding="utf-8")):
            skipped.add(name.split(".")[0].lower())
    assert skipped, "the pattern found no importorskip: this test checks nothing"
    assert skipped <= installed, sorted(skipped - installed)


def test_one_conftest_holds_the_shared_fixtures():
    """A second conftest.py (tests/outputs/, stop 37) is imported under the same module
    name and replaced the first for `from conftest import _find_shared` in
    test_readme.py: every README block errored at setup in the whole-suite CI run, while
    runs of single folders passed. Shared fixtures go in tests/conftest.py."""
    tests = Path(__file__).resolve().parents[1]
    assert sorted(p.relative_to(tests).as_posix() for p in tests.rglob("conftest.py")) == [
        "conftest.py"]


def test_a_test_helper_module_is_importable_from_every_test_that_imports_it():
    """A helper module of the tests (curve_logs.py, cli_json.py) is importable from a test
    only when it sits in tests/ (put on the path by tests/conftest.py) or beside that
    test. cli_json.py in tests/outputs/ served tests/outputs/cli/ only when another file
    had put tests/outputs on the path first: in CI's collection order three files failed
    to import."""
    import ast

    tests = Path(__file__).resolve().parents[1]
    helpers = {p.stem: p.parent for p in tests.rglob("*.py")
               if not p.name.startswith(("test_", "conftest"))}
    misplaced = []
    for path in tests.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module
                     and node.level == 0 else
                     [alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [])
            for name in names:
                home = helpers.get(name.split(".")[0])
                if home is not None and home not in (tests, path.parent):
                    misplaced.append(f"{path.relative_to(tests)} imports {name} from "
                                     f"{home.relative_to(tests)}")
    assert not misplaced, misplaced
