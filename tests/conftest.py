"""Shared fixtures, and the rules that keep the suite honest.

``shared_dir`` finds the public reference material that lives beside the
project (``../shared``) or at ``$SCALINGLAWS_SHARED``. Files there are read in
place, never copied. Outside CI a missing folder skips the tests that need it;
under ``CI=true`` (which ``.ci/run`` exports itself) it is an error.

Rules enforced here:

- Tests marked ``slow`` (long statistical simulations) are deselected unless
  ``--slow`` is given; ``.ci/run`` gives it, so CI runs every test.
- Under ``CI=true`` a skipped test fails the run: nothing may vanish as a skip.
- A skip from ``pytest.importorskip`` of the package itself or of a declared
  dependency (``pyproject.toml``: the dependencies and the ``test`` extra) is a
  failure anywhere: a broken import must not look like a missing optional package.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
#: the bundled synthetic IsoFLOP sweep (datasets/)
SWEEP_CSV = PROJECT_ROOT / "datasets" / "synthetic_chinchilla_sweep.csv"


def in_ci() -> bool:
    """``CI=true`` in the environment (``.ci/run`` exports it)."""
    return os.environ.get("CI", "").lower() == "true"


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", default=False,
                     help="also run the tests marked slow (long statistical simulations); "
                          ".ci/run does")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"):
        return
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if slow:
        items[:] = [item for item in items if item.get_closest_marker("slow") is None]
        config.hook.pytest_deselected(items=slow)


def _declared_modules() -> set[str]:
    """Top-level names of the package and of its declared runtime and test dependencies."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        requirements = requires("scalinglaws") or []
    except PackageNotFoundError:  # pragma: no cover - the package is installed to test it
        requirements = []
    names = {"scalinglaws"}
    for requirement in requirements:
        if "extra ==" in requirement and not re.search(r"extra\s*==\s*[\"']test[\"']",
                                                       requirement):
            continue
        match = re.match(r"[A-Za-z0-9_.\-]+", requirement)
        if match:
            names.add(match.group().lower().replace("-", "_"))
    return names


_IMPORTORSKIP = re.compile(r"could not import '([^']+)'")


def _fail_hidden_import_error(report) -> None:
    if not report.skipped or not isinstance(report.longrepr, tuple):
        return
    match = _IMPORTORSKIP.search(str(report.longrepr[2]))
    if match and match.group(1).split(".")[0].lower() in _declared_modules():
        report.outcome = "failed"
        report.longrepr = (f"{match.group(1)!r} is the package or a declared dependency "
                           f"(pyproject.toml): import it instead of importorskip; the import "
                           f"failed: {report.longrepr[2]}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_hidden_import_error(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_hidden_import_error(outcome.get_result())


def pytest_sessionfinish(session, exitstatus):
    if not in_ci():
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        lines = [f"  {r.nodeid}: {r.longrepr[2] if isinstance(r.longrepr, tuple) else r.longrepr}"
                 for r in skipped]
        if reporter is not None:
            reporter.write_line(f"CI=true: {len(skipped)} test(s) skipped, which CI does not "
                                "allow:", red=True)
            for line in lines:
                reporter.write_line(line)


def _find_shared() -> Path | None:
    # $SCALINGLAWS_SHARED, when set, is the only place looked at: a wrong path is an
    # absent folder, not a silent fall-back to ../shared.
    env = os.environ.get("SCALINGLAWS_SHARED")
    candidates = [Path(env)] if env else [PROJECT_ROOT.parent / "shared"]
    for path in candidates:
        if (path / "datasets").is_dir() and (path / "reference").is_dir():
            return path
    return None


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """Path of the shared reference folder (skip, or fail under CI, when absent)."""
    path = _find_shared()
    if path is None:
        message = (
            "shared reference folder not found: put it at ../shared beside the project "
            "or set SCALINGLAWS_SHARED"
        )
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def epoch_csv(shared_dir: Path) -> Path:
    """Epoch AI's digitised Chinchilla runs (245 rows)."""
    return shared_dir / "datasets" / "chinchilla_epoch" / "svg_extracted_data.csv"


@pytest.fixture(scope="session")
def luo_curves(shared_dir: Path):
    """Luo et al.'s 27 curves with their schedules (tests/luo_curves.py)."""
    from luo_curves import load_luo

    return load_luo(shared_dir)


@pytest.fixture(scope="session")
def published(shared_dir: Path) -> dict:
    """The published-coefficients reference sheet (JSON)."""
    import json

    return json.loads((shared_dir / "reference" / "published_coefficients.json").read_text())


# A synthetic IsoFLOP sweep, its Chinchilla fit, and the fit with 100 bootstrap draws:
# shared by the plot and report tests.
@pytest.fixture(scope="session")
def runs():
    from scalinglaws import generate_sweep

    return generate_sweep(rng=0)


@pytest.fixture(scope="session")
def plain_result(runs):
    from scalinglaws import fit

    return fit(runs, "chinchilla")


@pytest.fixture(scope="session")
def result(plain_result, runs):
    from scalinglaws.uncertainty.bootstrap import bootstrap

    return plain_result.with_bootstrap(bootstrap(plain_result, runs, 100, rng=0))


# A sweep whose N is `nonembedding_params`, beside a `params` column (1.2 N) that a table
# read without a column mapping takes as N (the column-mapping tests of data and report).
@pytest.fixture
def two_size_columns(tmp_path):
    import pandas as pd

    sweep = pd.read_csv(SWEEP_CSV)
    path = tmp_path / "ne.csv"
    pd.DataFrame({"nonembedding_params": sweep.N, "tokens": sweep.D, "loss": sweep.loss,
                  "params": 1.2 * sweep.N}).to_csv(path, index=False)
    return path


# The command-line tests' inputs (tests/outputs/test_cli.py and tests/outputs/cli/): the
# bundled sweep's Chinchilla fit saved by `scalinglaws fit`, without and with bootstrap
# draws. Here, not in a tests/outputs/conftest.py: a second module named conftest
# replaced this one for `from conftest import _find_shared` (test_readme.py), whose
# fixture then failed in a whole-suite run. A module defining a fixture of the same name
# (test_plan_cli.py's, test_hostile.py's `fit_file`) uses its own.
@pytest.fixture(scope="session")
def fit_file(tmp_path_factory):
    """The synthetic sweep's Chinchilla fit, saved by the CLI."""
    from scalinglaws.outputs.cli import main

    out = tmp_path_factory.mktemp("fit") / "fit.json"
    assert main(["fit", str(SWEEP_CSV), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def boot_file(tmp_path_factory):
    """The same fit with 30 bootstrap draws (seed 1)."""
    from scalinglaws.outputs.cli import main

    out = tmp_path_factory.mktemp("boot") / "fit.json"
    assert main(["fit", str(SWEEP_CSV), "--bootstrap", "30", "--seed", "1",
                 "--out", str(out)]) == 0
    return out


@pytest.fixture
def devnull_guarded(monkeypatch):
    """``os.replace`` fails the test if anything is renamed onto the null device (as root,
    the old writer did); yields the device's ``os.stat`` from before."""
    before = os.stat(os.devnull)
    real_replace = os.replace

    def guarded(source, destination, *args, **kwargs):
        if os.path.realpath(destination) == os.path.realpath(os.devnull):
            raise AssertionError("renamed a file onto the null device")
        return real_replace(source, destination, *args, **kwargs)

    monkeypatch.setattr(os, "replace", guarded)
    return before
