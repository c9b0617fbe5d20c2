"""Fixtures of the command-line tests (test_cli.py and the files under cli/ split from it):
the bundled sweep's Chinchilla fit saved by `scalinglaws fit`, without and with bootstrap
draws, each made once per session (once per worker under xdist). A module that defines a
fixture of the same name (test_plan_cli.py's `fit_file`) uses its own."""

import pytest

from scalinglaws.outputs.cli import main

from cli_json import DEFAULT_DATA


@pytest.fixture(scope="session")
def fit_file(tmp_path_factory):
    """The synthetic sweep's Chinchilla fit, saved by the CLI."""
    out = tmp_path_factory.mktemp("fit") / "fit.json"
    assert main(["fit", str(DEFAULT_DATA), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def boot_file(tmp_path_factory):
    """The same fit with 30 bootstrap draws (seed 1)."""
    out = tmp_path_factory.mktemp("boot") / "fit.json"
    assert main(["fit", str(DEFAULT_DATA), "--bootstrap", "30", "--seed", "1",
                 "--out", str(out)]) == 0
    return out
