"""`scalinglaws plot` (scalinglaws.outputs.cli.present): `plot isoflop` forms budgets with the
flags of `scalinglaws isoflop` (--budget, --n-bins, --bin-width-dex, --min-points), so runs of
continuous compute (Epoch's digitised Chinchilla runs, every run its own C) can be drawn from
the shell. Before, the only way out the error named was isoflop_fit's keywords."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalinglaws.outputs.cli import main

DATA = Path(__file__).resolve().parents[3] / "datasets" / "synthetic_chinchilla_sweep.csv"


@pytest.fixture(scope="module")
def continuous(tmp_path_factory):
    """The bundled sweep with each run's compute moved by up to 3% (every run its own C, as
    in a digitised figure) and no budget column; and its Chinchilla fit."""
    folder = tmp_path_factory.mktemp("continuous")
    frame = pd.read_csv(DATA).drop(columns="budget")
    frame["C"] *= np.exp(np.random.default_rng(0).uniform(-0.03, 0.03, len(frame)))
    frame["D"] = frame["C"] / (6 * frame["N"])
    frame.to_csv(folder / "runs.csv", index=False)
    assert main(["fit", str(folder / "runs.csv"), "--out", str(folder / "fit.json")]) == 0
    return folder


def test_plot_isoflop_takes_the_budget_flags_of_the_isoflop_command(continuous, capsys):
    runs, fit, out = (str(continuous / name) for name in ("runs.csv", "fit.json", "iso.png"))
    capsys.readouterr()
    assert main(["plot", "isoflop", fit, "--data", runs, "--out", out]) == 2
    err = capsys.readouterr().err
    assert "distinct values" in err and "--n-bins" in err and "--bin-width-dex" in err
    # the library's advice in this command's flags (it read "pass budget='bin' with ...",
    # then "(on the command line: --budget bin ...)")
    assert "pass --budget bin with --bin-width-dex or --n-bins" in err
    assert "budget='bin'" not in err and "on the command line" not in err
    # the sweep's 9 budgets are 0.3 dex apart; 9 equal bins of log C find them again
    assert main(["plot", "isoflop", fit, "--data", runs, "--out", out, "--budget", "bin",
                 "--n-bins", "9"]) == 0
    assert Path(out).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capsys.readouterr()
    assert main(["plot", "isoflop", fit, "--data", runs, "--out", out, "--n-bins", "9",
                 "--min-points", "109"]) == 2  # more runs than the table holds
    err = capsys.readouterr().err
    assert "found 0 of" in err and "a budget needs 109 runs" in err
    assert main(["plot", "isoflop", fit, "--data", runs, "--out", out, "--bin-width-dex",
                 "0.5"]) == 0  # --budget bin is implied, as in scalinglaws isoflop


@pytest.mark.parametrize("flags, message", [
    (["--n-bins", "9"], "they apply to plot isoflop, not fit"),
    (["--min-points", "6"], "they apply to plot isoflop, not fit"),
])
def test_the_budget_flags_are_refused_for_other_figures(continuous, capsys, flags, message):
    runs, fit = str(continuous / "runs.csv"), str(continuous / "fit.json")
    capsys.readouterr()
    assert main(["plot", "fit", fit, "--data", runs, "--out", str(continuous / "f.png"),
                 *flags]) == 2
    assert message in capsys.readouterr().err


def test_the_budget_flags_are_checked_as_the_isoflop_command_checks_them(continuous, capsys):
    runs, fit = str(continuous / "runs.csv"), str(continuous / "fit.json")
    capsys.readouterr()
    assert main(["plot", "isoflop", fit, "--data", runs, "--out", str(continuous / "i.png"),
                 "--budget", "C", "--n-bins", "9"]) == 2
    assert "use them with --budget bin, not --budget C" in capsys.readouterr().err
