"""The one flag vocabulary of every command (scalinglaws.outputs.cli: _common, _values,
_runs and in_flags): unit suffixes in numeric flags and lists that broadcast, the level
flags, one --group and one --figure, --verbose anywhere, help for every flag, errors and
warnings that name the flags the user typed, --loss-units and --duplicates, and
--zero-tokens in every command that reads runs (review s35). `fit`'s own flags are in
test_cli_fit_flags.py."""

import json

import pytest

from scalinglaws.outputs.cli import _common, main

from cli_json import DEFAULT_DATA, _json


def test_verbose_is_accepted_anywhere():
    for argv in (["--verbose", "fit", str(DEFAULT_DATA), "--form", "nope"],
                 ["fit", str(DEFAULT_DATA), "--form", "nope", "--verbose"],
                 ["fit", "--verbose", str(DEFAULT_DATA), "--form", "nope"]):
        with pytest.raises(Exception, match="`form` must be one of"):
            main(argv)  # --verbose re-raises: the traceback is shown


def test_unit_suffixes_in_numeric_flags(fit_file, capsys):
    assert main(["predict", str(fit_file), "--N", "7B", "70B", "--D", "1.4T", "--json"]) == 0
    with_suffixes = _json(capsys)
    assert main(["predict", str(fit_file), "--N", "7e9", "7e10", "--D", "1.4e12", "--json"]) == 0
    assert with_suffixes == _json(capsys)
    assert [row["N"] for row in with_suffixes["rows"]] == [7e9, 7e10]
    assert main(["optimal", str(fit_file), "--C", "1e24", "--json"]) == 0
    assert main(["optimal", str(fit_file), "--compute", "1e24", "--json"]) == 0
    first, second = _json_pair(capsys)
    assert first == second


def _json_pair(capsys):
    text = capsys.readouterr().out
    decoder, index, docs = json.JSONDecoder(), 0, []
    while index < len(text):
        if text[index].isspace():
            index += 1
            continue
        doc, index = decoder.raw_decode(text, index)
        docs.append(doc)
    return docs


def test_level_flags_of_the_commands_that_read_a_fit(boot_file, capsys):
    # the level defaults to the one the fit's bootstrap was made at; --level is the old
    # spelling of --confidence-level
    import scalinglaws as sl

    assert sl.load(boot_file).bootstrap.confidence_level == 0.95
    rows = {}
    for argv in (["--confidence-level", "0.8"], ["--level", "0.8"], []):
        assert main(["optimal", str(boot_file), "--C", "1e22", "--json", *argv]) == 0
        rows[tuple(argv)] = _json(capsys)["rows"][0]
    assert rows[("--confidence-level", "0.8")] == rows[("--level", "0.8")]
    assert rows[()]["N_high"] > rows[("--level", "0.8")]["N_high"]
    for command in ("predict", "diagnose"):
        assert main([command, str(boot_file), "--N", "7B", "--D", "1T", "--json",
                     "--confidence-level", "0.8"]) == 0, command
        capsys.readouterr()
    # a table's intervals say their level (an 80% interval looks like a 95% one otherwise)
    for command, values in (("predict", ["--N", "7B", "--D", "1T"]), ("optimal", ["--C", "1e22"])):
        assert main([command, str(boot_file), *values, "--confidence-level", "0.8"]) == 0
        assert "confidence intervals: 80% two-sided (bootstrap percentile, over 30 draws)" in \
            capsys.readouterr().out


def test_one_group_flag(tmp_path, capsys):
    """--group is the group column everywhere (fit's old --groups still works)."""
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    assert main(["fit", str(DEFAULT_DATA), "--bootstrap", "20", "--group", "budget",
                 "--out", str(a)]) == 0
    assert main(["fit", str(DEFAULT_DATA), "--bootstrap", "20", "--groups", "budget",
                 "--out", str(b)]) == 0
    assert a.read_text() == b.read_text()


def test_quantities_broadcast_and_name_both_flags():
    import argparse

    args = argparse.Namespace(N=[1e9, 2e9], D=[3e10], C=None)
    got = _common.quantities(args, ("N", "D", "C"))
    assert set(got) == {"N", "D"} and list(got["D"]) == [3e10, 3e10]
    args = argparse.Namespace(N=[1e9, 2e9], D=[1e10, 2e10, 3e10])
    with pytest.raises(ValueError, match="--N has 2 values but --D has 3"):
        _common.quantities(args, ("N", "D"))


def test_a_figure_is_asked_for_with_figure_in_every_command():
    import argparse

    from scalinglaws.outputs.cli import build_parser

    spellings = {}

    def walk(parser, name):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub_name, sub in action.choices.items():
                    walk(sub, f"{name} {sub_name}".strip())
            elif {"--plot", "--figure"} & set(action.option_strings):
                spellings[name] = action.option_strings[0]

    walk(build_parser(), "")
    assert {"backtest", "compare", "plan", "tasks fit"} <= set(spellings)
    assert set(spellings.values()) == {"--figure"}, spellings


def test_every_flag_of_every_command_has_help():
    import argparse

    from scalinglaws.outputs.cli import build_parser

    missing = []

    def walk(parser, name):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub_name, sub in action.choices.items():
                    walk(sub, f"{name} {sub_name}".strip())
            elif action.help is None and action.dest != "help":
                missing.append(f"{name}: {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), "")
    assert missing == []


def test_errors_name_the_flags_the_user_typed(capsys, tmp_path):
    import argparse

    from scalinglaws.outputs.cli import in_flags

    args = argparse.Namespace(fix=None, tie=None, form="chinchilla", scatter=None,
                              lr_policy="raise")
    assert in_flags("`fixed` names unknown key 'Q'", args) == "--fix names unknown key 'Q'"
    assert in_flags("`tied['beta']` must name", args) == "--tie beta must name"
    assert in_flags("pass `scatter=` (sd of log loss)", args) == "pass --scatter (sd of log loss)"
    assert in_flags("or load with lr_policy='interpolate'", args) == \
        "or load with --lr-policy interpolate"
    # names that are no flag of this command stay as they are
    assert in_flags("`runs` are not the data; n_params='x'", args) == \
        "`runs` are not the data; n_params='x'"
    assert main(["fit", str(DEFAULT_DATA), "--fix", "Q=1"]) == 2
    assert capsys.readouterr().err.startswith("scalinglaws: error: --fix names unknown key 'Q'")
    # advice to set an option reads as the flag; a positional argument is no flag
    args = argparse.Namespace(loss_units=None, duplicates="warn", fit="f.json", path="r.csv")
    assert in_flags("set loss_units to 'bits' to convert it", args) == \
        "pass --loss-units bits to convert it"
    from scalinglaws.outputs.cli import _running

    _running.update(positional=frozenset({"fit", "path"}))
    try:
        assert in_flags("`fit` must use the chinchilla form; `path` is a folder", args) == \
            "`fit` must use the chinchilla form; `path` is a folder"
    finally:
        _running.update(positional=frozenset())
    # warnings on the command line read in flags too
    import pandas as pd

    frame = pd.read_csv(DEFAULT_DATA)
    twice = tmp_path / "twice.csv"
    pd.concat([frame, frame.iloc[:2]]).to_csv(twice, index=False)
    capsys.readouterr()
    assert main(["fit", str(twice)]) == 0
    assert "pass --duplicates drop" in capsys.readouterr().err


def test_keyword_advice_reads_as_flags(tmp_path, capsys):
    """budget='bin' (no underscore in the name) stayed a Python keyword in the CLI's
    errors; a keyword inside a call (``bootstrap(..., method='bca')``) stays as it is."""
    import argparse

    from scalinglaws.outputs.cli import in_flags

    args = argparse.Namespace(budget=None, n_bins=None, bin_width_dex=None, method=None)
    assert in_flags("pass budget='bin' with `n_bins`", args) == "pass --budget bin with --n-bins"
    assert in_flags("run bootstrap(..., method='bca')", args) == "run bootstrap(..., method='bca')"


def test_loss_units_and_duplicates_flags(tmp_path, capsys):
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(DEFAULT_DATA)
    bits = tmp_path / "bits.csv"
    frame.assign(loss=frame["loss"] / np.log(2)).to_csv(bits, index=False)
    assert main(["fit", str(DEFAULT_DATA), "--json"]) == 0
    nats = json.loads(capsys.readouterr().out)["params"]
    assert main(["fit", str(bits), "--loss-units", "bits", "--json"]) == 0
    converted = json.loads(capsys.readouterr().out)["params"]
    assert converted["E"] == pytest.approx(nats["E"], rel=1e-6)
    twice = tmp_path / "twice.csv"
    pd.concat([frame, frame.iloc[:5]]).to_csv(twice, index=False)
    assert main(["fit", str(twice), "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["n_runs"] == len(frame) + 5 and "repeat an earlier row" in out.err
    assert main(["fit", str(twice), "--duplicates", "drop", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_runs"] == len(frame)
    assert main(["fit", str(twice), "--duplicates", "raise"]) == 2
    assert "repeat" in capsys.readouterr().err


def test_checkpoints_without_a_run_id_are_named_on_the_command_line(tmp_path, capsys):
    """Review s38: `scalinglaws fit ckpt.csv --bootstrap 50` resampled the checkpoints of
    exp_name's runs as rows without a word; --columns run_id=exp_name makes them runs, and
    --cluster exp_name (the column named to the bootstrap itself) needs no warning."""
    from scalinglaws.laws.synthetic import synthetic_training_curves

    frame = synthetic_training_curves(n_checkpoints=4, rng=0).frame.drop(columns="horizon")
    frame["exp_name"] = [f"run-{code}" for code in frame.pop("run_id")]
    path = tmp_path / "ckpt.csv"
    frame.to_csv(path, index=False)
    assert main(["fit", str(path), "--bootstrap", "20", "--json"]) == 0
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if "look like checkpoints" in line]
    assert len(said) == 1 and "--columns run_id=exp_name on the command line" in said[0]
    for flags in (["--columns", "run_id=exp_name"], ["--cluster", "exp_name"]):
        assert main(["fit", str(path), "--bootstrap", "20", *flags, "--json"]) == 0
        captured = capsys.readouterr()
        assert "look like checkpoints" not in captured.err
        assert json.loads(captured.out)["bootstrap"]["clusters"] in ("run_id", "exp_name")


# ------------------------------------------------------------------ --zero-tokens (s35)
def _with_untrained_rows(path):
    """Checkpoints of two runs, each with its step-0 row at 0 tokens (as the OLMo ladder's
    olmo_ladder_checkpoints.csv has two)."""
    import numpy as np
    import pandas as pd

    rows = []
    for run, n in zip("abcde", np.geomspace(1e8, 3e9, 5)):
        for d in (0.0, *np.geomspace(1e9, 3e11, 12)):
            loss = 11.0 if d == 0 else 1.8 + 400 / n ** 0.34 + 400 / d ** 0.28
            rows.append({"run_id": run, "N": n, "tokens": d, "flops": 6 * n * d, "loss": loss})
    frame = pd.DataFrame(rows)
    # only a and b log their step 0
    frame = frame[frame["run_id"].isin(["a", "b"]) | (frame["tokens"] > 0)]
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("command", ["fit", "envelope"])
def test_zero_tokens_is_offered_and_drops_untrained_checkpoints(command, tmp_path, capsys):
    """Review s35: `envelope olmo_ladder_checkpoints.csv` stopped at its step-0 rows with no
    flag past them; `tasks fit` had --zero-tokens drop. Every command reading runs has it
    now, from the shared data options."""
    path = _with_untrained_rows(tmp_path / "ckpt.csv")
    assert main([command, str(path)]) == 2
    err = capsys.readouterr().err
    assert "column 'tokens' (D): value 0 is not positive" in err
    assert err.strip().endswith("2 rows at D = 0 (untrained checkpoints?); to drop them, pass "
                                "--zero-tokens drop")
    assert main([command, str(path), "--zero-tokens", "drop"]) == 0
    err = capsys.readouterr().err
    assert (f"scalinglaws: warning: {path}: dropped 2 rows at D = 0 (untrained checkpoints; "
            f"--zero-tokens drop); the first is row 0 (line 2)") in err


def test_a_fit_records_zero_tokens_and_data_re_applies_it(tmp_path, capsys):
    path = _with_untrained_rows(tmp_path / "ckpt.csv")
    out = tmp_path / "fit.json"
    assert main(["fit", str(path), "--zero-tokens", "drop", "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["options"]["rows"]
    assert rows == {"zero_tokens": "drop", "dropped_rows": [0, 13]}
    capsys.readouterr()
    assert main(["plot", "fit", str(out), "--data", str(path),
                 "--out", str(tmp_path / "f.png")]) == 0
    assert ("reading the runs as the fit was made: --zero-tokens drop"
            in capsys.readouterr().err)


def test_zero_tokens_is_one_flag_in_every_command_reading_runs():
    import argparse

    from scalinglaws.outputs.cli import build_parser

    def walk(parser, name):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub_name, sub in action.choices.items():
                    yield from walk(sub, f"{name} {sub_name}".strip())
        yield name, parser

    having = {name: parser._option_string_actions.get("--zero-tokens")
              for name, parser in walk(build_parser(), "")
              if "--columns" in parser._option_string_actions}
    assert {"fit", "envelope", "isoflop", "tasks fit"} <= set(having)
    # curves read logs, not runs: their own options (no step-0 rows to drop there)
    missing = sorted(name for name, action in having.items()
                     if action is None and not name.startswith("curves"))
    assert missing == []
    assert {tuple(action.choices) for action in having.values() if action} == {("raise", "drop")}
