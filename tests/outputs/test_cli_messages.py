"""Messages a command-line user reads: an unknown option gets a close match from the
subcommand's own options and points to that subcommand's help."""

import json
from pathlib import Path

import pytest

from scalinglaws.outputs.cli import main

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "datasets" / "synthetic_chinchilla_sweep.csv"


@pytest.mark.parametrize("argv, expected", [
    (["fit", "sweep.csv", "--colums", "N=params"],
     "unrecognized arguments: --colums N=params; did you mean --columns? "
     "(see `scalinglaws fit --help`)"),
    # case-insensitive: --d is --D, an option of predict
    (["predict", "fit.json", "--d", "140B"],
     "unrecognized arguments: --d 140B; did you mean --D? (see `scalinglaws predict --help`)"),
    (["predict", "fit.json", "--N=7B", "--d=140B"], "did you mean --D? (see `scalinglaws predict"),
    # nested: the innermost subcommand's options and help
    (["curves", "fit", "logs.csv", "--metod", "ar1"],
     "did you mean --method? (see `scalinglaws curves fit --help`)"),
    # predict's --N and --D: one flag in tasks fit, which says so once (it named the
    # commands that take them, as if tasks fit had no target)
    (["tasks", "fit", "tasks.csv", "--N", "7B", "--D", "140B"],
     "unrecognized arguments: --N 7B --D 140B; the target model is one flag here: --target "
     "N=7B,D=140B (several targets: repeat --target) (see `scalinglaws tasks fit --help`)"),
])
def test_an_unknown_option_gets_the_subcommands_close_match(argv, expected, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("scalinglaws: error: "), err
    assert expected in err, err


def test_an_unknown_option_with_no_close_match_still_names_the_subcommands_help(capsys):
    assert main(["fit", "sweep.csv", "--no-such-flag"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("scalinglaws: error: unrecognized arguments: --no-such-flag "
                   "(see `scalinglaws fit --help`)")


def _one_token_count(path):
    """A reviewer's sweep: ten sizes, every run at 20B tokens, so beta ends on a bound."""
    import numpy as np
    import pandas as pd

    from scalinglaws.laws.forms import get_form
    from scalinglaws.laws.synthetic import DEFAULT_TRUTH

    n, d = np.logspace(7, 9, 10), np.full(10, 2e10)
    loss = get_form("chinchilla").predict(DEFAULT_TRUTH["chinchilla"], N=n, D=d)
    loss = loss * np.exp(np.random.default_rng(3).normal(0, 0.01, n.size))
    pd.DataFrame({"N": n, "D": d, "loss": loss}).to_csv(path, index=False)
    return path


# what to do about a fit on a bound: --fix on the command line, and widening bounds
# said to be Python's (the command line has no --bounds)
ON_A_BOUND = ("fix the parameter (fixed= in Python, --fix NAME=VALUE on the command line) or, "
              "in Python, widen `bounds`")


def test_a_fit_on_a_bound_advises_what_the_shell_can_do(tmp_path, capsys):
    import warnings

    import scalinglaws as sl

    path = _one_token_count(tmp_path / "oneD.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        result = sl.fit(sl.load_runs(path))
    assert result.status == 1 and ON_A_BOUND in result.message
    assert main(["fit", str(path)]) == 0  # converged, on a bound: not an error
    err = capsys.readouterr().err
    assert "optimum on a bound for" in err and ON_A_BOUND in err, err
    assert "--bounds" not in err


def test_a_grouped_fit_on_a_bound_advises_what_the_shell_can_do():
    from scalinglaws.fitting.grouped import _status

    status, message = _status(0.0, ("alpha",), 1.0)
    assert status == 1 and message == f"optimum on a bound for alpha; {ON_A_BOUND}"


def test_a_missing_groups_column_is_named_in_both_spellings(capsys):
    import pandas as pd

    import scalinglaws as sl
    from scalinglaws import InputError

    frame = pd.DataFrame({"N": [1e8, 2e8, 4e8, 8e8, 1.6e9, 3.2e9],
                          "D": [2e9, 4e9, 8e9, 1.6e10, 3.2e10, 6.4e10],
                          "loss": [3.4, 3.2, 3.0, 2.85, 2.7, 2.6]})
    result = sl.FitResult.from_params("chinchilla", {"E": 1.69, "A": 406.4, "B": 410.7,
                                                     "alpha": 0.34, "beta": 0.28})
    expected = "`groups` (--group) column 'run' is not in the runs (columns: N, D, C, loss"
    with pytest.raises(InputError) as caught:
        sl.bootstrap(result, frame, 5, rng=0, groups="run", progress=False)
    assert expected in str(caught.value)
    assert main(["fit", str(DEFAULT_DATA), "--uncertainty", "--bootstrap", "5",
                 "--group", "run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("scalinglaws: error: `groups` (--group) column 'run' is not in "
                          "the runs (columns: N, D, C, loss"), err


# a UnitsWarning on values that may be right: Python's way to silence it, and what it means
# on the command line (no flag silences it: --loss-units nats does not, the values are used)
SILENCE = ("they are used as given: in Python, silence this with warnings.filterwarnings("
           "'ignore', category=scalinglaws.UnitsWarning); on the command line it is a warning "
           "only")


def test_a_units_warning_advises_python_and_the_command_line(tmp_path, capsys):
    import scalinglaws as sl

    toy = tmp_path / "toy.csv"
    toy.write_text("N,D,loss\n70,1400,3.5\n160,3200,3.2\n410,8200,3.0\n1000,20000,2.8\n"
                   "2800,56000,2.6\n")
    with pytest.warns(sl.UnitsWarning) as caught:
        sl.load_runs(toy)
    said = [str(w.message) for w in caught if issubclass(w.category, sl.UnitsWarning)]
    assert said and all(f"if the values are right (a toy sweep), {SILENCE}" in text
                        for text in said), said
    high = tmp_path / "high.csv"
    high.write_text("N,D,loss\n7e7,1.4e9,35\n1.6e8,3.2e9,32\n4.1e8,8.2e9,30\n1e9,2e10,28\n"
                    "2.8e9,5.6e10,26\n")
    main(["fit", str(high), "--loss-units", "nats"])
    err = capsys.readouterr().err
    assert "exceeds 14.45 nats per token in 5 of 5 rows" in err
    assert f"If the values are right, {SILENCE}" in err, err


def test_loss_units_advice_reads_as_the_flag_on_the_command_line(tmp_path, capsys):
    ppl = tmp_path / "ppl.csv"
    ppl.write_text("N,D,val_ppl\n7e7,1.4e9,49\n1.6e8,3.2e9,33\n4.1e8,8.2e9,25\n1e9,2e10,20\n"
                   "2.8e9,5.6e10,16\n")
    assert main(["fit", str(ppl)]) == 2  # no loss column: the hint names the flag
    err = capsys.readouterr().err
    assert err.rstrip().endswith("'val_ppl' looks like a perplexity: set the columns option "
                                 "(loss=val_ppl), and say what it holds with loss_units "
                                 "(--loss-units on the command line): 'nats', 'bits' or "
                                 "'perplexity'"), err
    main(["fit", str(ppl), "--columns", "loss=val_ppl"])
    err = capsys.readouterr().err
    assert ("is named like a perplexity, but losses are fitted and reported in nats per token; "
            "nats = ln(perplexity): pass --loss-units perplexity to convert it, or --loss-units "
            "nats if it already holds nats\n") in err, err


def _parsers(parser, path=("scalinglaws",)):
    """Every parser of the command line, with the words that reach it."""
    import argparse

    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, (*path, name))


def test_no_parser_accepts_abbreviated_flags():
    from scalinglaws.outputs.cli import build_parser

    found = list(_parsers(build_parser()))
    assert len(found) > 20  # the top level, every command and the nested ones
    assert {" ".join(path) for path in [p for p, _ in found]} >= {
        "scalinglaws", "scalinglaws fit", "scalinglaws curves fit", "scalinglaws kaplan noise",
        "scalinglaws tasks fit"}
    assert [" ".join(path) for path, parser in found if parser.allow_abbrev] == []


@pytest.mark.parametrize("argv, expected", [
    (["fit", "sweep.csv", "--boot", "5"], "--boot 5; did you mean --bootstrap?"),
    (["fit", "sweep.csv", "--boot=5"], "--boot=5; did you mean --bootstrap?"),
    (["fit", "sweep.csv", "--flops", "8"], "--flops 8; did you mean --flops-per-token?"),
    (["fit", "sweep.csv", "--nan", "omit"], "--nan omit; did you mean --nan-policy?"),
    (["fit", "sweep.csv", "--los", "nats"], "--los nats; did you mean --loss or --loss-units?"),
    (["curves", "fit", "logs.csv", "--meth", "ar1"], "--meth ar1; did you mean --method?"),
])
def test_an_abbreviated_flag_is_refused_naming_the_flag_it_abbreviates(argv, expected, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("scalinglaws: error: "), err
    assert f"unrecognized arguments: {expected}" in err, err


@pytest.mark.parametrize("argv, expected", [
    # an unlisted old spelling mistyped: suggested as the flag it stands for, not as a
    # far-off listed one (--resample was "did you mean --preset?", --levle "--help?")
    (["fit", "sweep.csv", "--resample", "5"], "--resample 5; did you mean --bootstrap?"),
    (["predict", "fit.json", "--levle", "0.9"], "--levle 0.9; did you mean --confidence-level?"),
    (["isoflop", "sweep.csv", "--budget-col", "b"], "--budget-col b; did you mean --budget?"),
    # fit had no --level at all: "--levl" was "did you mean --help?", "--level" "--seed?"
    (["fit", "sweep.csv", "--levl", "0.9"], "--levl 0.9; did you mean --confidence-level?"),
])
def test_a_mistyped_old_spelling_suggests_the_flag_it_stands_for(argv, expected, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert f"unrecognized arguments: {expected}" in err, err


@pytest.mark.parametrize("argv, flag, said_before", [
    # a flag of another command was respelled as one of this command's (cutoff 0.6):
    # said_before is the suggestion made then
    (["fit", "sweep.csv", "--holdout", "N"], "--holdout", "--out"),
    (["predict", "fit.json", "--form", "chinchilla"], "--form", "--force"),
    (["predict", "fit.json", "--cluster", "auto"], "--cluster", "--compute"),
    (["optimal", "fit.json", "--C", "1e22", "--bootstrap", "10"], "--bootstrap", None),
])
def test_a_flag_of_another_command_names_the_commands_that_take_it(argv, flag, said_before,
                                                                   capsys):
    import re

    from scalinglaws.outputs.cli import build_parser

    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "did you mean" not in err, err
    named = re.search(rf"{flag} is a flag of (.*), not of `scalinglaws {argv[0]}`", err)
    assert named, err
    commands = re.findall(r"`([^`]+)`", named.group(1))
    # each command named takes the flag, and is not the one that refused it
    parsers = {" ".join(path): parser for path, parser in _parsers(build_parser())}
    assert commands and f"scalinglaws {argv[0]}" not in commands
    for command in commands:
        assert flag in parsers[command]._option_string_actions, command


def test_a_word_far_from_every_flag_gets_no_suggestion(capsys):
    assert main(["fit", "sweep.csv", "--frobnicate", "3"]) == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: --frobnicate 3 (see `scalinglaws fit --help`)" in err


@pytest.mark.parametrize("argv, expected", [
    # argparse kept the last list: `--N 7B --N 70B` predicted 70B alone, without a word
    (["predict", "fit.json", "--N", "7B", "--N", "70B", "--D", "1.4T"],
     "--N is given twice, and only the last list would be used; give all its values after "
     "one flag: --N A B ..."),
    (["optimal", "fit.json", "--C", "1e22", "--budgets=1e23"],
     "--C is given twice (--C and --budgets)"),
])
def test_a_list_flag_given_twice_is_refused(argv, expected, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expected in err, err


def test_every_command_with_confidence_level_takes_the_old_level_and_warnings_name_it(capsys):
    # --level, the old spelling, was accepted by the commands reading a fit only; the
    # bootstrap's too-few-draws warning said "a lower confidence_level" (the Python name)
    argv = ["fit", str(DEFAULT_DATA), "--bootstrap", "5", "--level", "0.8", "--json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["bootstrap"]["confidence_level"] == 0.8
    assert "(more resamples, or a lower --confidence-level)" in captured.err


@pytest.mark.parametrize("command", ["isoflop", "envelope"])
def test_by_a_column_the_runs_lack_names_the_flag_and_close_columns(command, capsys):
    """Review s35: `isoflop runs.csv --by nope` said "groupby: no column 'nope'; columns:
    [...]", the Python method's words, not the flag's."""
    assert main([command, str(DEFAULT_DATA), "--by", "budgte"]) == 2
    assert capsys.readouterr().err.strip() == (
        "scalinglaws: error: --by: no column 'budgte'. Did you mean 'budget'? Columns: N, D, "
        "C, loss, budget")
    assert main([command, str(DEFAULT_DATA), "--by", "nope"]) == 2
    assert capsys.readouterr().err.strip() == (
        "scalinglaws: error: --by: no column 'nope'. Columns: N, D, C, loss, budget")
