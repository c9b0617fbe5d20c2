"""The `scalinglaws` command: each subcommand's output, and the one flag vocabulary they share.

Hostile arguments, output-path safety and signals are in test_cli_hostile.py.
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scalinglaws.outputs.cli import _common, main

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "datasets" / "synthetic_chinchilla_sweep.csv"
HEAVY = ("scipy", "pandas", "matplotlib", "statsmodels", "joblib", "tqdm", "sklearn", "dask")


@pytest.fixture(scope="module")
def fit_file(tmp_path_factory):
    """The synthetic sweep's Chinchilla fit, saved by the CLI."""
    out = tmp_path_factory.mktemp("fit") / "fit.json"
    assert main(["fit", str(DEFAULT_DATA), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def boot_file(tmp_path_factory):
    """The same fit with 30 bootstrap draws (seed 1)."""
    out = tmp_path_factory.mktemp("boot") / "fit.json"
    assert main(["fit", str(DEFAULT_DATA), "--bootstrap", "30", "--seed", "1",
                 "--out", str(out)]) == 0
    return out


def _json(capsys):
    return json.loads(capsys.readouterr().out)


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


def test_optimal_of_a_tied_fit_says_its_intervals_hold_the_tie(boot_file, tmp_path, capsys):
    """A preset-extrapolate law ties beta = alpha, which makes N_opt grow as C^0.5 exactly
    in every bootstrap refit: its interval is conditional on that, and optimal says so
    (a reviewer took such an interval for the data's). A free fit has no note."""
    tied = tmp_path / "tied.json"
    assert main(["fit", str(DEFAULT_DATA), "--preset", "extrapolate", "--bootstrap", "30",
                 "--seed", "1", "--out", str(tied)]) == 0
    capsys.readouterr()
    assert main(["optimal", str(tied), "--C", "1e21"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().splitlines()[-1] == (
        "note: the intervals hold beta = alpha as exact (every bootstrap refit keeps it; "
        "with beta = alpha, N_opt and D_opt grow as C^0.5 exactly); a fit without it gives "
        "the data's own spread, and a calibrated law (fit --uncertainty) widens them to it")
    assert main(["optimal", str(boot_file), "--C", "1e21"]) == 0
    assert "note:" not in capsys.readouterr().out


def test_optimal_of_a_calibrated_tied_law_widens_its_intervals(tmp_path, capsys):
    """A calibrated preset-extrapolate law carries the fit without the tie: optimal's
    intervals reach its delta-method interval (analysis/restricted.py), and the table's
    JSON and the note say so."""
    tied, law = tmp_path / "tied.json", tmp_path / "law.json"
    for out, extra in ((tied, []), (law, ["--uncertainty"])):
        assert main(["fit", str(DEFAULT_DATA), "--preset", "extrapolate", "--bootstrap", "30",
                     "--seed", "1", *extra, "--out", str(out)]) == 0
    capsys.readouterr()
    rows = {}
    for name, path in (("tied", tied), ("law", law)):
        assert main(["optimal", str(path), "--C", "1e23", "--json"]) == 0
        doc = _json(capsys)
        rows[name] = doc["rows"][0]
        if name == "law":
            assert doc["interval"] == "confidence"
            assert doc["method"] == ("bootstrap percentile, widened to the fit without the "
                                     "tie (delta method)")
    assert rows["law"]["N"] == pytest.approx(rows["tied"]["N"], rel=1e-12)
    assert rows["law"]["N_low"] <= rows["tied"]["N_low"]
    assert rows["law"]["N_high"] >= rows["tied"]["N_high"]
    assert main(["optimal", str(law), "--C", "1e23"]) == 0
    assert capsys.readouterr().out.rstrip().splitlines()[-1].startswith(
        "note: the fit holds beta = alpha; with beta = alpha, N_opt and D_opt grow as C^0.5 "
        "exactly; the intervals are widened to the fit without it")


def test_optimal_and_diagnose_commands(boot_file, capsys):
    assert main(["optimal", str(boot_file), "--compute", "5.76e23", "1e24", "--json"]) == 0
    doc = _json(capsys)
    rows = doc["rows"]
    assert len(rows) == 2 and rows[0]["N_low"] < rows[0]["N"] < rows[0]["N_high"]
    # the kind and the method, as predict's document has them, and the FLOP accounting:
    # each row's C is k N_opt D_opt with the k the document states
    assert (doc["interval"], doc["method"], doc["n_draws"]) == ("confidence",
                                                                "bootstrap percentile", 30)
    assert doc["flops_per_token"] == 6.0
    for row in rows:
        assert row["C"] == pytest.approx(doc["flops_per_token"] * row["N"] * row["D"], rel=1e-9)
    assert main(["diagnose", str(boot_file), "--N", "175e9", "--D", "300e9"]) == 0
    assert "under-trained" in capsys.readouterr().out
    assert main(["predict", str(boot_file), "--N", "7e10", "--D", "1.4e12", "--json"]) == 0
    doc = _json(capsys)
    row = doc["rows"][0]
    assert row["confidence_low"] < row["loss"] < row["confidence_high"]
    assert doc["interval"] == "confidence" and doc["confidence_level"] == 0.95


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


def test_isoflop_command(capsys, shared_dir, tmp_path):
    import scalinglaws as sl
    from scalinglaws import InputError

    out = tmp_path / "iso.json"
    assert main(["isoflop", str(DEFAULT_DATA), "--json", "--out", str(out)]) == 0
    doc = _json(capsys)
    # the sweep's true law has a = beta/(alpha+beta) = 0.3658/0.7136 = 0.5126 (laws.synthetic)
    assert doc["a_interval"][0] < 0.3658 / (0.3478 + 0.3658) < doc["a_interval"][1]
    assert json.loads(out.read_text()) == {"kind": "scalinglaws.isoflop", **doc}
    # the file is IsoFLOPResult.save's document: it loads back with the numbers printed
    from scalinglaws.outputs.io.isoflop import load_isoflop

    assert load_isoflop(out).to_dict() == json.loads(out.read_text())
    porian = shared_dir / "datasets" / "porian2024" / "porian2024_isoflop.csv"
    grouped = tmp_path / "by_setting.json"
    argv = ["isoflop", str(porian), "--by", "setting", "--curve", "akima"]
    assert main([*argv, "--json", "--out", str(grouped)]) == 0
    docs = _json(capsys)
    assert docs == json.loads(grouped.read_text())
    # one document named inside (a bare list carried no kind: a re-run asked for --force)
    assert list(docs)[:5] == ["kind", "schema_version", "package_version", "by", "groups"]
    assert docs["by"] == "setting" and docs["schema_version"] == 1  # IsoFLOPResult's
    assert docs["kind"] == "scalinglaws.isoflop"
    assert len(docs["groups"]) == 15 and all("group" in d for d in docs["groups"])
    assert main([*argv, "--out", str(grouped)]) == 0  # the same command replaces its own file
    capsys.readouterr()
    # load_isoflop reads one group of it, and says how when no group is named
    first = docs["groups"][0]
    loaded = load_isoflop(grouped, group=first["group"])
    assert {"group": first["group"], **loaded.to_dict()} == first
    with pytest.raises(InputError, match=r"by_setting.json: holds 15 IsoFLOP analyses, one "
                                         r"per value of 'setting' .*group="):
        load_isoflop(grouped)
    with pytest.raises(InputError, match=r"no group 'nope' among the 15 analyses .* one of 'owt2/"):
        load_isoflop(grouped, group="nope")
    # and it is not read as a table of runs
    with pytest.raises(InputError, match=r"scalinglaws IsoFLOP analysis file \(kind "
                                         r"'scalinglaws.isoflop'\), not a table of runs"):
        sl.load_runs(grouped)
    # Akima profiles have no residuals to resample: --seed-noise (it had no flag here)
    assert main(["isoflop", str(DEFAULT_DATA), "--curve", "akima", "--bootstrap", "20",
                 "--seed-noise", "0.005", "--json"]) == 0
    doc = _json(capsys)
    assert doc["options"]["seed_noise"] == 0.005 and len(doc["a_bootstrap"]) == 20


def test_isoflop_on_continuous_compute(epoch_csv, capsys):
    """Epoch's runs have a compute value each: the CLI needs --budget bin (issue 17 item 2)."""
    assert main(["isoflop", str(epoch_csv)]) == 2
    assert "--budget bin" in capsys.readouterr().err
    assert main(["isoflop", str(epoch_csv), "--budget", "bin", "--n-bins", "8", "--json"]) == 0
    doc = _json(capsys)
    assert doc["n_budgets_used"] + doc["n_budgets_excluded"] == 8
    # Epoch's refit of the same runs (Approach 3) gives a = 0.51 (Besiroglu et al. 2024)
    assert doc["a_interval"][0] < 0.51 < doc["a_interval"][1]
    assert main(["isoflop", str(epoch_csv), "--bin-width-dex", "0.5", "--json"]) == 0
    assert math.isfinite(_json(capsys)["a"])


def test_warnings_are_one_line_and_name_the_group(shared_dir, capsys):
    porian = shared_dir / "datasets" / "porian2024" / "porian2024_isoflop.csv"
    assert main(["isoflop", str(porian), "--by", "setting", "--curve", "akima"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err and all(line.startswith("scalinglaws: warning: setting=") for line in err), err
    assert not any(".py:" in line for line in err)  # no source paths or lines


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


# ------------------------------------------------------------------ the vocabulary
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


def test_diagnose_takes_lists_like_predict(fit_file, capsys):
    assert main(["diagnose", str(fit_file), "--N", "7B", "175B", "--D", "300B", "--json"]) == 0
    docs = _json(capsys)
    header = ["kind", "schema_version", "package_version"]
    assert list(docs) == [*header, "models"] and docs["kind"] == "scalinglaws.diagnose"
    assert len(docs["models"]) == 2
    assert main(["diagnose", str(fit_file), "--N", "175B", "--D", "300B", "--json"]) == 0
    single = _json(capsys)  # one diagnosis is a document headed inside, as --out writes it
    assert single == {**{name: docs[name] for name in header}, **docs["models"][1]}


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


def test_optimal_table_fits_a_terminal(boot_file, capsys):
    assert main(["optimal", str(boot_file), "--C", "5.76e23", "1e24"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and max(map(len, lines)) <= 100, lines
    assert "[" in lines[1]  # intervals shown as value [low, high]
    assert lines[4] == "confidence intervals: 95% two-sided (bootstrap percentile, over 30 draws)"


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


def test_quantities_broadcast_and_name_both_flags():
    import argparse

    args = argparse.Namespace(N=[1e9, 2e9], D=[3e10], C=None)
    got = _common.quantities(args, ("N", "D", "C"))
    assert set(got) == {"N", "D"} and list(got["D"]) == [3e10, 3e10]
    args = argparse.Namespace(N=[1e9, 2e9], D=[1e10, 2e10, 3e10])
    with pytest.raises(ValueError, match="--N has 2 values but --D has 3"):
        _common.quantities(args, ("N", "D"))


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


def test_the_isoflop_advice_on_continuous_compute_is_a_command_that_runs(tmp_path, capsys):
    """Every run at its own compute: isoflop refuses, naming the flags that group the runs;
    the command with them runs (the error mixed budget='bin' with flags)."""
    import re

    import numpy as np
    import pandas as pd

    frame = pd.read_csv(DEFAULT_DATA)
    frame["C"] *= np.exp(np.random.default_rng(0).normal(0.0, 0.05, len(frame)))
    continuous = tmp_path / "continuous.csv"
    frame.drop(columns="budget").to_csv(continuous, index=False)
    assert main(["isoflop", str(continuous)]) == 2
    err = capsys.readouterr().err
    advice = re.search(r"pass (--budget \w+) with (--[a-z-]+) or (--[a-z-]+)", err)
    assert advice, err
    budget, width, bins = advice.groups()
    assert (width, bins) == ("--bin-width-dex", "--n-bins")
    assert main(["isoflop", str(continuous), *budget.split(), bins, "9", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["options"]["budget"].startswith("9 log10(C) bins")


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
