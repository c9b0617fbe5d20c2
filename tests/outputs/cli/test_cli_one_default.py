"""One ``--flops-per-token`` flag (``cli._runs.add_flops_per_token_option``, its default
``DEFAULT_FLOPS_PER_TOKEN``) in every command, and one bootstrap call for ``fit`` and
``fit --uncertainty`` (``cli.fitting._bootstrap``)."""

import argparse
import json
from pathlib import Path

import numpy as np

from scalinglaws.outputs.cli import _runs, build_parser, main

DATA = Path(__file__).resolve().parents[3] / "datasets" / "synthetic_chinchilla_sweep.csv"


def _helps(parser, name="scalinglaws"):
    """(command, action) for every option of every (sub)command."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, subparser in action.choices.items():
                yield from _helps(subparser, f"{name} {sub}")
        else:
            yield name, action


def test_every_flops_per_token_flag_states_the_one_default(monkeypatch):
    # the default changed in one place shows in every command's flag and its help (the
    # fit-reading commands and plan had their own "else 6" before)
    monkeypatch.setattr(_runs, "DEFAULT_FLOPS_PER_TOKEN", 7.5)
    flags = [(command, action) for command, action in _helps(build_parser())
             if "--flops-per-token" in action.option_strings]
    assert len(flags) >= 10  # fit, optimal, diagnose, plan, isoflop, backtest, plot, ...
    for command, action in flags:
        assert action.default == 7.5, command
        assert "7.5)" in action.help and "6" not in action.help, (command, action.help)


def test_no_help_says_default_twice():
    # `plot`/`report` (--data beside a fit) printed "(default; default: what the fit ...)"
    for command, action in _helps(build_parser()):
        assert "(default;" not in (action.help or ""), (command, action.help)


def test_fit_and_fit_uncertainty_attach_the_same_bootstrap(tmp_path, capsys):
    flags = ["--bootstrap", "30", "--confidence-level", "0.8", "--ci-method", "basic",
             "--group", "budget", "--seed", "4"]
    assert main(["fit", str(DATA), *flags, "--out", str(tmp_path / "plain.json")]) == 0
    assert main(["fit", str(DATA), "--uncertainty", *flags,
                 "--out", str(tmp_path / "calibrated.json")]) == 0
    capsys.readouterr()
    plain, calibrated = (json.loads((tmp_path / f"{name}.json").read_text())["bootstrap"]
                         for name in ("plain", "calibrated"))
    for key in ("confidence_level", "method", "groups", "n_resamples"):
        assert plain[key] == calibrated[key], key
    assert (plain["confidence_level"], plain["method"], plain["groups"]) == (0.8, "basic",
                                                                             "budget")
    np.testing.assert_array_equal(np.asarray(plain["draws"], float),
                                  np.asarray(calibrated["draws"], float))
