"""The `scalinglaws` command: each subcommand's core output (fit, predict, generate, backtest,
forms, plot and report), bad input and help, `--json` and `--out`, seeds, progress and pipes.

The rest is split by subject: hostile arguments, output-path safety and signals are in
test_cli_hostile.py; under cli/, `isoflop` in test_cli_isoflop.py, `optimal` and `diagnose`
in test_cli_optimal.py, and the one flag vocabulary every command shares (unit suffixes,
level flags, errors in flags, --zero-tokens...) in test_cli_flags.py. The saved fits the
tests read (`fit_file`, `boot_file`) are fixtures in tests/conftest.py.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scalinglaws.outputs.cli import _common, main

from cli_json import DEFAULT_DATA, _json

HEAVY = ("scipy", "pandas", "matplotlib", "statsmodels", "joblib", "tqdm", "sklearn", "dask")


# ------------------------------------------------------------------ commands
def test_fit_default_data_prints_table_and_writes_json(fit_file, capsys):
    assert main(["fit", str(DEFAULT_DATA)]) == 0
    printed = capsys.readouterr().out
    for name in ("E", "A", "B", "alpha", "beta", "converged", "108"):
        assert name in printed
    doc = json.loads(fit_file.read_text())
    assert doc["form"]["name"] == "chinchilla"


def test_predict_from_saved_fit(fit_file, capsys):
    assert main(["predict", str(fit_file), "--N", "7e10", "--D", "1.4e12", "2.8e12",
                 "--json"]) == 0
    doc = _json(capsys)  # the document `--out x.json` writes: kind, what the rows are, rows
    assert doc["kind"] == "scalinglaws.predict"
    rows = doc["rows"]
    assert len(rows) == 2 and rows[0]["loss"] > rows[1]["loss"] > 1.5


def test_fit_options(capsys, epoch_csv):
    assert main(["fit", str(epoch_csv), "--exclude-top-loss", "5", "--tie", "beta=alpha",
                 "--json"]) == 0
    doc = _json(capsys)
    assert doc["n_runs"] == 240 and doc["params"]["alpha"] == doc["params"]["beta"]
    assert main(["fit", str(DEFAULT_DATA), "--form", "kaplan_nd", "--loss", "squared",
                 "--json"]) == 0


def test_fit_says_how_well_the_law_fits(shared_dir, tmp_path, capsys):
    """The audit's case: Porian et al.'s tuned setting converges (status 0) and misfits; the
    summary gives the residuals' size and the misfit, the warning the same, and no hint
    that the loss column is a perplexity."""
    import pandas as pd

    frame = pd.read_csv(shared_dir / "datasets" / "porian2024" / "porian2024_isoflop.csv")
    path = tmp_path / "tuned.csv"
    frame[frame["setting"] == "rw/tuned/short/const/standard/val"][
        ["N", "D", "C", "loss"]].to_csv(path, index=False)
    assert main(["fit", str(path)]) == 0
    captured = capsys.readouterr()
    assert "status     0: converged" in captured.out
    assert "residuals  RMS 8.6%, largest 31% (log residuals, % of the loss)" in captured.out
    assert "misfit     the residuals trend with C" in captured.out
    warned = captured.err.splitlines()
    assert len(warned) == 1 and "the fit converged, but the law's form misfits" in warned[0]
    assert "perplexity" not in captured.err
    assert main(["fit", str(DEFAULT_DATA)]) == 0  # a law that fits: its residuals, no misfit
    captured = capsys.readouterr()
    assert "residuals  RMS 0.95%, largest 2.4%" in captured.out
    assert "misfit" not in captured.out and not captured.err


def test_generate_reproduces_bundled_default_data(tmp_path):
    out = tmp_path / "sweep.csv"
    assert main(["generate", "--out", str(out), "--seed", "0"]) == 0
    assert out.read_text() == DEFAULT_DATA.read_text()
    # the one default seed is 0: without --seed, the same file
    again = tmp_path / "again.csv"
    assert main(["generate", "--out", str(again)]) == 0
    assert again.read_text() == DEFAULT_DATA.read_text()


@pytest.mark.parametrize("argv, message", [
    (["fit", "missing.csv"], "missing.csv"),
    (["fit", str(DEFAULT_DATA), "--form", "nope"], "--form must be one of"),
    (["fit", str(DEFAULT_DATA), "--fix", "E"], "NAME=VALUE"),
    (["fit", str(DEFAULT_DATA), "--columns", "N=nothing"], "nothing"),
    (["predict", "missing.json", "--N", "1e9"], "missing.json"),
])
def test_bad_input_one_line_on_stderr(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_bad_cell_names_row_and_column(tmp_path, capsys):
    path = tmp_path / "runs.csv"
    path.write_text("N,D,loss\n1e9,2e10,3.0\n2e9,abc,2.9\n")
    assert main(["fit", str(path)]) == 2
    err = capsys.readouterr().err
    assert "row 1" in err and "line 3" in err and "'D'" in err


def test_format_and_sep_read_a_table_the_suffix_does_not_name(fit_file, tmp_path, capsys):
    text = DEFAULT_DATA.read_text()
    semicolons = tmp_path / "runs.data"
    semicolons.write_text(text.replace(",", ";"))
    tabs = tmp_path / "runs.txt"
    tabs.write_text(text.replace(",", "\t"))
    assert main(["fit", str(semicolons)]) == 2
    assert "--format on the command line" in capsys.readouterr().err
    expected = json.loads(fit_file.read_text())["params"]
    for path, sep in ((semicolons, ";"), (tabs, "tab")):
        out = tmp_path / f"{path.stem}-{path.suffix[1:]}.json"
        assert main(["fit", str(path), "--format", "csv", "--sep", sep, "--out", str(out)]) == 0
        assert json.loads(out.read_text())["params"] == expected  # the same runs, the same fit
    assert main(["fit", str(tabs), "--format", "csv", "--sep", "||"]) == 2
    assert "--sep takes one character" in capsys.readouterr().err


def test_help_explains_units():
    result = subprocess.run([sys.executable, "-m", "scalinglaws", "fit", "--help"],
                            capture_output=True, text=True, check=True)
    assert "FLOP" in result.stdout and "nats per token" in result.stdout
    assert "tokens" in result.stdout and "parameters" in result.stdout


def test_help_imports_only_what_it_needs():
    """`scalinglaws --help` and `COMMAND --help` import no scipy, pandas, matplotlib...:
    each command imports its heavy dependencies inside its handler."""
    code = ("import sys\nfrom scalinglaws.outputs.cli import build_parser\n"
            "parser = build_parser()\n"
            "for argv in (['--help'], *[[c, '--help'] for c in parser._subparsers._actions[-1]"
            ".choices]):\n"
            "    try:\n        parser.parse_args(argv)\n    except SystemExit:\n        pass\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_backtest_command(epoch_csv, capsys, tmp_path):
    out = tmp_path / "backtest.json"
    assert main(["backtest", str(epoch_csv), "--exclude-top-loss", "5", "--threshold", "1e21",
                 "--json", "--out", str(out)]) == 0
    doc = _json(capsys)
    assert doc["summary"]["n_held_out"] == 23
    # README: median relative error 0.87% on the 23 held-out Epoch runs
    assert doc["summary"]["median_relative_error"] == pytest.approx(0.0087, abs=5e-5)
    # the file names itself (so a second run may replace it unasked); otherwise as printed
    assert json.loads(out.read_text()) == doc  # the document, named inside, as printed
    assert doc["kind"] == "scalinglaws.backtest"


@pytest.mark.parametrize("argv, kind", [
    (["predict", "BOOT", "--N", "7B", "70B", "--D", "1.4T"], "scalinglaws.predict"),
    (["predict", "FIT", "--N", "7B", "--D", "1.4T"], "scalinglaws.predict"),
    (["optimal", "BOOT", "--C", "1e22", "1e24", "--confidence-level", "0.8"],
     "scalinglaws.optimal"),
    (["diagnose", "BOOT", "--N", "175B", "--D", "300B"], "scalinglaws.diagnose"),
    (["diagnose", "FIT", "--N", "7B", "175B", "--D", "300B"], "scalinglaws.diagnose"),
    (["isoflop", str(DEFAULT_DATA)], "scalinglaws.isoflop"),
    (["backtest", str(DEFAULT_DATA)], "scalinglaws.backtest"),
    (["plan", "--target-compute", "1e24", "--sweep-budget", "1e21", "--max-draws", "30"],
     "scalinglaws.plan"),
], ids=lambda v: " ".join(v[:2]) if isinstance(v, list) else None)
def test_json_prints_the_document_that_out_writes(argv, kind, fit_file, boot_file, tmp_path,
                                                  capsys):
    """`--json` printed bare records for the tables (predict, optimal) and left out the
    `kind` of the documents, while `--out x.json` wrote the named document with what its
    intervals are: both are now the same document."""
    argv = [{"BOOT": str(boot_file), "FIT": str(fit_file)}.get(a, a) for a in argv]
    out = tmp_path / "result.json"
    assert main(argv + ["--json", "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out.read_text())
    assert printed["kind"] == kind
    if "175B" in argv and "7B" in argv:  # several models: one diagnosis each, under models
        assert len(printed["models"]) == 2 and "loss" not in printed
    if argv[0] in ("predict", "optimal"):
        assert list(printed)[0] == "kind" and list(printed)[-1] == "rows"
        assert printed["rows"] and all(isinstance(row, dict) for row in printed["rows"])
    if argv[1] == str(boot_file) and argv[0] in ("predict", "optimal"):
        level = 0.8 if "0.8" in argv else 0.95
        assert (printed["interval"], printed["confidence_level"], printed["n_draws"]) == \
            ("confidence", level, 30)
        assert printed["method"] == "bootstrap percentile"
    # a re-run replaces its own document unasked (it is named inside; a list was not)
    assert main(argv + ["--out", str(out)]) == 0


def test_same_seed_same_json_from_cli(tmp_path):
    paths = [tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"]
    for path, extra in zip(paths, (["--seed", "7", "--jobs", "1"], ["--seed", "7", "--jobs", "2"],
                                   ["--seed", "8"])):
        assert main(["fit", str(DEFAULT_DATA), "--bootstrap", "40", *extra,
                     "--out", str(path)]) == 0
    assert paths[0].read_text() == paths[1].read_text() != paths[2].read_text()


def test_default_seed_is_zero_so_a_command_repeats(tmp_path):
    """One default seed for every command (was None in fit and isoflop: each run differed)."""
    outs = [tmp_path / f"{i}.json" for i in range(3)]
    assert main(["fit", str(DEFAULT_DATA), "--bootstrap", "20", "--out", str(outs[0])]) == 0
    assert main(["fit", str(DEFAULT_DATA), "--bootstrap", "20", "--out", str(outs[1])]) == 0
    assert main(["fit", str(DEFAULT_DATA), "--bootstrap", "20", "--seed", "0",
                 "--out", str(outs[2])]) == 0
    assert outs[0].read_text() == outs[1].read_text() == outs[2].read_text()


def test_jobs_beyond_the_cores_are_capped_with_a_warning(capsys):
    assert main(["fit", str(DEFAULT_DATA), "--bootstrap", "10", "--jobs", "1000"]) == 0
    err = capsys.readouterr().err
    assert "scalinglaws: warning: --jobs 1000 is more than the" in err


def test_plot_and_report_commands(boot_file, tmp_path, capsys, monkeypatch):
    out = tmp_path / "frontier.png"
    assert main(["plot", "frontier", str(boot_file), "--out", str(out)]) == 0
    assert out.stat().st_size > 10_000
    assert main(["plot", "fit", str(boot_file), "--out", str(tmp_path / "x.png")]) == 2
    assert "needs the runs" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
    # The report's own content is tested in test_report.py (and the README's report command
    # runs in test_readme.py); here: the command's arguments, progress and atomic write.
    from scalinglaws.outputs import report

    seen = {}

    def fake_report(result, runs, out, budgets, title, **kwargs):
        seen.update(n_runs=len(runs), budgets=list(budgets), title=title, out=Path(out),
                    **kwargs)
        Path(out).write_text("<html></html>")
        return Path(out)

    monkeypatch.setattr(report, "make_report", fake_report)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # as on a terminal
    html = tmp_path / "report.html"
    assert main(["report", str(boot_file), "--data", str(DEFAULT_DATA), "--C", "1e22", "1e23",
                 "--title", "T", "--out", str(html)]) == 0
    assert html.read_text() == "<html></html>"
    assert seen["n_runs"] == 108 and seen["budgets"] == [1e22, 1e23] and seen["title"] == "T"
    assert seen["out"].parent == tmp_path and seen["out"] != html  # written beside, renamed
    assert seen["progress"] is True  # the report's bar over its figures, on a terminal
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_plot_shows_progress_that_moves(boot_file, tmp_path, capsys, monkeypatch):
    import time

    from scalinglaws.outputs import report

    def slow_figure(kind, result, runs, out, **kwargs):
        time.sleep(1.2)
        Path(out).write_bytes(b"png")

    monkeypatch.setattr(report, "save_figure", slow_figure)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # as on a terminal
    assert main(["plot", "corner", str(boot_file), "--out", str(tmp_path / "c.png")]) == 0
    assert capsys.readouterr().err.count("scalinglaws: drawing corner ... ") >= 2


# ------------------------------------------------------------------ --out, forms, progress, pipes
def test_out_on_every_command_that_produces_a_result(fit_file, tmp_path, capsys):
    outs = {"predict.csv": ["predict", str(fit_file), "--N", "7B", "--D", "1T", "2T"],
            "predict.json": ["predict", str(fit_file), "--N", "7B", "--D", "1T", "2T"],
            "optimal.csv": ["optimal", str(fit_file), "--C", "1e22", "1e23"],
            "diagnose.json": ["diagnose", str(fit_file), "--N", "7B", "--D", "1T"]}
    for name, argv in outs.items():
        assert main([*argv, "--out", str(tmp_path / name)]) == 0, name
    capsys.readouterr()
    import pandas as pd

    table = pd.read_csv(tmp_path / "predict.csv")
    assert list(table["D"]) == [1e12, 2e12] and table["loss"].is_monotonic_decreasing
    document = json.loads((tmp_path / "predict.json").read_text())
    assert document["kind"] == "scalinglaws.predict"
    assert document["rows"][0]["loss"] == table["loss"][0]
    # the interval's kind and level travel with the rows (they were lost in a bare list)
    booted = tmp_path / "booted.json"
    assert main(["fit", str(DEFAULT_DATA), "--bootstrap", "20", "--out", str(booted)]) == 0
    assert main(["predict", str(booted), "--N", "7B", "--D", "1T", "--confidence-level",
                 "0.8", "--out", str(tmp_path / "predict.json")]) == 0  # its own file again
    document = json.loads((tmp_path / "predict.json").read_text())
    assert (document["interval"], document["confidence_level"], document["n_draws"]) == (
        "confidence", 0.8, 20)
    assert document["method"] == "bootstrap percentile"
    # a file of another scalinglaws kind is not replaced unasked
    assert main(["optimal", str(booted), "--C", "1e22", "--out",
                 str(tmp_path / "diagnose.json")]) == 2
    assert "another scalinglaws document ('scalinglaws.diagnose'" in capsys.readouterr().err
    assert len(pd.read_csv(tmp_path / "optimal.csv")) == 2
    assert json.loads((tmp_path / "diagnose.json").read_text())["loss"] > 1.5
    parser_commands = {"fit", "predict", "optimal", "diagnose", "generate", "isoflop",
                       "backtest", "reproduce", "plot", "report"}
    from scalinglaws.outputs.cli import build_parser

    sub = build_parser()._subparsers._actions[-1]
    for command in parser_commands:
        assert "--out" in sub.choices[command]._option_string_actions, command


def test_out_never_replaces_a_table_unasked(fit_file, tmp_path, capsys):
    # a user's sweep replaced by one prediction row, or by a synthetic sweep, is data lost
    sweep = tmp_path / "mysweep.csv"
    original = DEFAULT_DATA.read_text()
    sweep.write_text(original)
    for argv in (["predict", str(fit_file), "--N", "7B", "--D", "1T"],
                 ["optimal", str(fit_file), "--C", "1e22"], ["generate"]):
        assert main([*argv, "--out", str(sweep)]) == 2, argv
        err = capsys.readouterr().err
        assert "may be data" in err and "pass --force" in err and "force=True" not in err
        assert sweep.read_text() == original
    assert main(["predict", str(fit_file), "--N", "7B", "--D", "1T", "--out", str(sweep),
                 "--force"]) == 0
    assert sweep.read_text().count("\n") == 2  # header and one prediction
    fit_again = tmp_path / "fit.json"
    for _ in range(2):  # a fit file (the package's own) is replaced by a new fit
        assert main(["fit", str(DEFAULT_DATA), "--out", str(fit_again)]) == 0


def test_forms_are_aligned_and_distinct(capsys):
    assert main(["forms"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if line and not line.startswith(" ")]
    header = rows[0]
    column = header.index("parameters")
    for row in rows[1:]:
        assert row[column - 2:column] == "  " and row[column] != " ", row
    laws = {row.split()[0]: row[header.index("law"):] for row in rows[1:]}
    assert "chinchilla" in laws and "data_constrained" in laws
    assert laws["data_constrained_linear_decay"].startswith("as data_constrained")


def test_activity_line_moves():
    import io

    stream = io.StringIO()
    real, sys.stderr = sys.stderr, stream
    try:
        with _common.activity("drawing", every=0.05, force=True):
            import time

            time.sleep(0.3)
    finally:
        sys.stderr = real
    ticks = stream.getvalue().count("scalinglaws: drawing ... ")
    assert ticks >= 3


@pytest.mark.skipif(os.name != "posix", reason="pipes and signals as on POSIX")
def test_closed_pipe_is_quiet():
    # with pipefail the status is the command's: 0, as the reader left having read enough
    # (review s35: `scalinglaws forms | head -1` exited 1)
    done = subprocess.run(["bash", "-o", "pipefail", "-c",
                           f"{sys.executable} -m scalinglaws forms | head -1"],
                          capture_output=True, text=True)
    assert done.stdout.startswith("name") and done.stderr == ""
    assert done.returncode == 0


def test_fit_bootstrap_shows_its_progress_bar_on_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # as on a terminal
    assert main(["fit", str(DEFAULT_DATA), "--bootstrap", "20"]) == 0
    assert "bootstrap" in capsys.readouterr().err  # tqdm's bar, even for a short bootstrap
