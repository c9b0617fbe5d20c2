"""No unused import and no undefined name in the source (pyflakes, a test extra; skipped only outside CI when missing): an
import kept on purpose (a re-export, an availability check) says so with ``# noqa``."""

from __future__ import annotations

from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "scalinglaws"


def test_pyflakes_finds_nothing_unmarked():
    pytest.importorskip("pyflakes")
    from pyflakes import api, messages
    from pyflakes.reporter import Reporter

    kinds = (messages.UnusedImport, messages.UndefinedName, messages.UndefinedExport,
             messages.UndefinedLocal, messages.ImportStarUsage)
    found = []

    class Collect(Reporter):
        def __init__(self):
            super().__init__(None, None)

        def flake(self, message):
            found.append(message)

        def syntaxError(self, filename, msg, lineno, offset, text):  # noqa: N802
            found.append(f"{filename}:{lineno}: syntax error {msg}")

        def unexpectedError(self, filename, msg):  # noqa: N802
            found.append(f"{filename}: {msg}")

    reporter = Collect()
    for path in sorted(PACKAGE.rglob("*.py")):
        api.checkPath(str(path), reporter)
    offenders = []
    for message in found:
        if isinstance(message, str):
            offenders.append(message)
            continue
        if not isinstance(message, kinds):
            continue
        line = Path(message.filename).read_text(encoding="utf-8").splitlines()[message.lineno - 1]
        if "# noqa" not in line:
            offenders.append(str(message))
    assert not offenders, "\n".join(offenders)
