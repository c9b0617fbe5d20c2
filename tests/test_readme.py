"""Every code block of the README runs as written, in order, as a new user would run it.

``python`` blocks run in one namespace (a session), ``bash`` blocks with the installed
``scalinglaws`` command, and blocks of ``>>>`` lines as doctests (their printed output
must match). All run in one temporary folder holding the files the README tells the
reader to provide (:data:`USER_FILES`). Blocks of other languages and plain blocks
without ``>>>`` (program output, transcripts, file trees) are text.

A block is left out only with ``<!-- readme-test: skip REASON -->`` on the line before
its fence; :func:`test_only_the_quick_start_is_left_out` keeps that list short. A
failure names the block by its README line (tracebacks of python blocks point at
README lines).
"""

from __future__ import annotations

import doctest
import os
import re
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SWEEP = ROOT / "datasets" / "synthetic_chinchilla_sweep.csv"

_FENCE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
_SKIP = re.compile(r"<!--\s*readme-test:\s*skip\b\s*(.*?)\s*-->")
_LANGUAGES = {"python": "python", "py": "python", "pycon": "doctest", "bash": "shell",
              "sh": "shell", "shell": "shell", "console": "shell"}


@dataclass(frozen=True)
class Block:
    line: int        # README line of the opening fence
    kind: str        # python | shell | doctest
    text: str
    skip: str | None  # reason given in a readme-test: skip comment

    @property
    def id(self) -> str:
        return f"L{self.line}-{self.kind}"


def readme_blocks(text: str | None = None) -> list[Block]:
    """The runnable blocks of the README, in order."""
    text = README.read_text(encoding="utf-8") if text is None else text
    blocks = []
    for match in _FENCE.finditer(text):
        language, body = match.group(1).lower(), match.group(2)
        kind = _LANGUAGES.get(language)
        if kind is None and not language and body.lstrip().startswith(">>>"):
            kind = "doctest"
        if kind is None:
            continue
        line = text.count("\n", 0, match.start()) + 1
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = _SKIP.search(before)
        blocks.append(Block(line, kind, body, skip.group(1) if skip else None))
    return blocks


BLOCKS = readme_blocks()
RUN = [b for b in BLOCKS if b.skip is None]


# ------------------------------------------------------------------ the reader's files
def _renamed_sweep(folder: Path, name: str, renames: dict) -> None:
    import pandas as pd

    pd.read_csv(SWEEP).rename(columns=renames).to_csv(folder / name, index=False)


def _checkpoints(folder: Path, name: str) -> None:
    try:
        from scalinglaws.laws.synthetic import synthetic_training_curves
    except ImportError:  # not moved to laws.synthetic yet
        from scalinglaws.fitting.isoflop import synthetic_training_curves
    runs = synthetic_training_curves(rng=0)
    runs.to_frame().to_csv(folder / name, index=False)


#: files the README asks the reader to bring, and how the test makes each one
USER_FILES = {
    "my_sweep.csv": lambda folder, name: shutil.copy(SWEEP, folder / name),
    "runs.csv": lambda folder, name: shutil.copy(SWEEP, folder / name),
    "sweep.csv": lambda folder, name: shutil.copy(SWEEP, folder / name),
    # an export with its own headers, mapped with --columns
    "wandb_export.csv": lambda folder, name: _renamed_sweep(
        folder, name, {"N": "nonembedding_params", "loss": "eval/lm_loss"}),
    "checkpoints.csv": _checkpoints,
}
#: files the README says to take from ../shared (linked, never copied)
SHARED_FILES = {
    "svg_extracted_data.csv": ("datasets", "chinchilla_epoch", "svg_extracted_data.csv"),
    "porian2024_isoflop.csv": ("datasets", "porian2024", "porian2024_isoflop.csv"),
}


class Session:
    """The reader's folder and Python session, shared by the blocks in README order."""

    def __init__(self, folder: Path, shared: Path | None):
        self.folder = folder
        self.namespace: dict = {"__name__": "__readme__"}
        for name, make in USER_FILES.items():
            make(folder, name)
        # The README's commands run from the repository root: datasets/ is there.
        (folder / "datasets").symlink_to(ROOT / "datasets")
        for name, parts in SHARED_FILES.items():
            target = shared.joinpath(*parts) if shared is not None else None
            if target is not None and target.exists():
                (folder / name).symlink_to(target)
        # commands that name ../shared/... as the README's reader has it beside the project
        beside = folder.parent / "shared"
        if shared is not None and not beside.exists():
            beside.symlink_to(shared)
        bin_dir = Path(sys.executable).parent
        self.env = dict(os.environ, MPLBACKEND="Agg",
                        PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")

    def run(self, block: Block) -> None:
        getattr(self, f"_run_{block.kind}")(block)

    def _run_python(self, block: Block) -> None:
        # Padding with blank lines makes tracebacks point at README lines.
        code = compile("\n" * block.line + block.text, str(README), "exec")
        with _cwd(self.folder):
            exec(code, self.namespace)
            _close_figures()

    def _run_doctest(self, block: Block) -> None:
        parser = doctest.DocTestParser()
        test = parser.get_doctest(block.text, self.namespace, f"README.md:{block.line}",
                                  str(README), block.line)
        runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE
                                       | doctest.ELLIPSIS)
        report = []
        with _cwd(self.folder):
            runner.run(test, out=report.append, clear_globs=False)
        if runner.failures:
            pytest.fail(f"README.md:{block.line}: doctest failed\n" + "".join(report),
                        pytrace=False)

    def _run_shell(self, block: Block) -> None:
        for line, command in _commands(block):
            done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", command],
                                  cwd=self.folder, env=self.env, capture_output=True, text=True,
                                  timeout=600)
            if done.returncode != 0:
                pytest.fail(f"README.md:{line}: `{command}` exited with {done.returncode}\n"
                            f"--- stderr\n{done.stderr[-3000:]}\n--- stdout\n"
                            f"{done.stdout[-2000:]}", pytrace=False)


def _commands(block: Block):
    """``(README line, command)`` for each command of a shell block (``\\`` joins lines)."""
    pending, start = "", None
    for offset, raw in enumerate(block.text.splitlines(), start=1):
        if not pending and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        start = start or block.line + offset
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        yield start, pending + raw
        pending, start = "", None


class _cwd:
    def __init__(self, folder):
        self.folder = folder

    def __enter__(self):
        self.previous = os.getcwd()
        os.chdir(self.folder)

    def __exit__(self, *exc):
        os.chdir(self.previous)


def _close_figures() -> None:
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    import matplotlib

    from conftest import _find_shared

    matplotlib.use("Agg")
    return Session(tmp_path_factory.mktemp("reader"), _find_shared())


# ------------------------------------------------------------------ the tests
@pytest.mark.parametrize("block", RUN, ids=[b.id for b in RUN])
def test_readme_block_runs(block, session, request):
    if "../shared" in block.text or any(name in block.text for name in SHARED_FILES):
        request.getfixturevalue("shared_dir")  # skips without ../shared, fails under CI
    with warnings.catch_warnings():
        # A reader sees the package's warnings; they are not errors in a README example.
        warnings.simplefilter("default")
        session.run(block)


def test_the_readme_has_runnable_blocks_of_each_kind():
    kinds = {b.kind for b in RUN}
    assert {"python", "shell", "doctest"} <= kinds, kinds
    assert len(RUN) >= 15


def test_only_the_quick_start_is_left_out():
    """The quick start installs a virtual environment and runs the suite; the rest runs."""
    skipped = [b for b in BLOCKS if b.skip is not None]
    assert len(skipped) == 1 and all(b.skip for b in skipped), skipped
    quick_start = skipped[0].text
    assert "pip install -q -e \".[test]\"" in quick_start and "python -m pytest -q" in quick_start
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install -q -e \".[test]\"" in ci and "python3 -m pytest" in ci


def test_quick_start_fit_command_runs(tmp_path):
    """The quick start's first command, with the entry point of this environment."""
    block = next(b for b in BLOCKS if b.skip is not None)
    command = re.search(r"\.venv/bin/(scalinglaws fit [^\n&|]*)", block.text).group(1)
    (tmp_path / "datasets").symlink_to(ROOT / "datasets")
    done = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True,
                          env=dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}"
                                                    f"{os.environ.get('PATH', '')}"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "fit.json").is_file() and "alpha" in done.stdout


@pytest.mark.parametrize("ci, status, outcome", [("true", 1, "1 error"),
                                                 ("", 0, "1 skipped")])
def test_missing_shared_folder_fails_under_ci_and_skips_otherwise(ci, status, outcome):
    """The quick start's promise about ../shared (tests/conftest.py)."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", "--no-header",
         "--durations=0", "tests/outputs/test_cli.py::test_fit_options"],
        cwd=ROOT, capture_output=True, text=True,
        env=dict(os.environ, CI=ci, SCALINGLAWS_SHARED=str(ROOT / "no-such-folder")))
    assert done.returncode == status, done.stdout[-2000:]
    assert outcome in done.stdout and "shared reference folder not found" in done.stdout


# ------------------------------------------------------------------ the extractor itself
SAMPLE = """intro
```python
x = 1
```
<!-- readme-test: skip installs things -->
```bash
pip install x
```
```
>>> x + 1
2
```
```
$ output only
```
```bash
scalinglaws fit a.csv \\
    --out b.json   # comment
# a comment line
scalinglaws predict b.json --N 1e9 --D 2e10
```
"""


def test_extractor_finds_kinds_lines_and_skips():
    blocks = readme_blocks(SAMPLE)
    assert [(b.line, b.kind, b.skip) for b in blocks] == [
        (2, "python", None), (6, "shell", "installs things"), (9, "doctest", None),
        (16, "shell", None)]
    commands = list(_commands(blocks[3]))
    assert commands == [(17, "scalinglaws fit a.csv      --out b.json   # comment"),
                        (20, "scalinglaws predict b.json --N 1e9 --D 2e10")]


def test_a_failing_block_is_named_by_its_readme_line(tmp_path):
    session = Session.__new__(Session)
    session.folder, session.namespace, session.env = tmp_path, {}, dict(os.environ)
    with pytest.raises(ZeroDivisionError) as info:
        session.run(Block(40, "python", "x = 1\ny = 1 / 0\n", None))
    assert info.traceback[-1].lineno + 1 == 42  # pytest's lineno is 0-based
    with pytest.raises(pytest.fail.Exception, match=r"README.md:12: `false` exited with 1"):
        session.run(Block(10, "shell", "true\nfalse\n", None))
    with pytest.raises(pytest.fail.Exception, match=r"README.md:7: doctest failed"):
        session.run(Block(7, "doctest", ">>> 1 + 1\n3\n", None))
