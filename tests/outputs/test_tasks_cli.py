"""Downstream outputs: the CLI ``scalinglaws tasks fit``, the JSON of a prediction table
(round trip, the shipped schema checked by jsonschema too, refused documents), the figure
(its curve against the step-2 formula) and the report section."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from scalinglaws import ConvergenceWarning, InputError
from scalinglaws.analysis.downstream import fit_downstream, preset_with
from scalinglaws.analysis.downstream_predict import predict_tasks
from scalinglaws.analysis.downstream_preset import LADDER
from scalinglaws.data.tasks import load_tasks
from scalinglaws.laws.tasks import synthetic_task_table
from scalinglaws.outputs.cli import main
from scalinglaws.outputs.io.tasks import (
    load_predictions,
    predictions_from_dict,
    predictions_from_json,
    predictions_to_dict,
    predictions_to_json,
    save_predictions,
    schema,
)

PRESET = preset_with(LADDER, tasks=("synthetic",), fit_runs=None, aggregates={},
                     step1_options={"bounds": {"E": (0.1, None)}})


@pytest.fixture(scope="module")
def synthetic_csv(tmp_path_factory):
    # little run-level noise: step 1's five parameters are identified (with the default
    # 0.5% the optimum of E creeps to 0 and the CLI says the fit did not converge)
    path = tmp_path_factory.mktemp("tasks") / "ladder.csv"
    frame = synthetic_task_table(run_sd=0.001, checkpoint_sd=0.001, rng=0).frame
    frame.drop(columns=["checkpoint", "source_row"]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def fitted(synthetic_csv):
    table = load_tasks(synthetic_csv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = fit_downstream(table, PRESET)
    return table, fit


@pytest.fixture(scope="module")
def predictions(fitted):
    table, fit = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return predict_tasks(fit, run="1.3e+09-10x", table=table, n_resamples=20, rng=0,
                             verdicts=True)


# ----------------------------------------------------------------------------- CLI


def test_cli_prints_the_prediction_and_writes_json(synthetic_csv, tmp_path, capsys):
    out = tmp_path / "preds.json"
    code = main(["tasks", "fit", str(synthetic_csv), "--tasks", "synthetic", "--fit-runs", "",
                 "--target", "N=7B,D=140B", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        library = fit_downstream(load_tasks(synthetic_csv), LADDER, tasks=["synthetic"],
                                 fit_runs=None)["synthetic"]
    back = load_predictions(out)
    row = back["synthetic"]
    assert back.target == {"N": 7e9, "D": 1.4e11}  # 7B and 140B read with their suffixes
    assert row["accuracy"] == float(library.predict(7e9, 1.4e11))
    assert f"{row['accuracy']:.4f}" in printed


def test_cli_json_flag_csv_out_and_target_run(synthetic_csv, tmp_path, capsys):
    out = tmp_path / "preds.csv"
    code = main(["tasks", "fit", str(synthetic_csv), "--tasks", "synthetic", "--fit-runs", "",
                 "--target-run", "1.3e+09-10x", "--json", "--out", str(out)])
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert document["kind"] == "scalinglaws.tasks"
    assert document["target"]["run_id"] == "1.3e+09-10x"
    row = document["tasks"][0]
    assert row["error"] == pytest.approx(100 * (row["accuracy"] - row["observed_accuracy"]))
    assert out.read_text().splitlines()[0].startswith("task,N,D,task_loss")


@pytest.mark.parametrize("arguments, message", [
    ([], "give --target N=...,D=..."),
    (["--target", "N=abc,D=1T"], "--target: 'abc' is not a number"),
    (["--target", "N=7B,C=1e24"], "--target takes N=... and D=..., not C"),
    # a value that is a number but not a size says so (before: "'0' is not a number")
    (["--target", "N=7B,D=0"], "--target: '0' must be a finite positive number (in 'D=0')"),
    (["--target", "N=7B,D=-1T"], "--target: '-1T' must be a finite positive number"),
    # names are case-sensitive, as the flags --N and --D; each wrong one is named (before:
    # only the first in sorted order, 'd', so n looked accepted)
    (["--target", "n=7B,d=140B"], "--target takes N=... and D=..., not n, d; the names are N "
                                  "and D, in capitals (as the flags --N and --D)"),
    (["--target", "N=7B,d=140B"], "not d; the names are N and D, in capitals"),
    (["--target", "N=7B,D=1T", "--exclude-top-loss", "2"], "--exclude-top-loss applies to"),
    (["--target", "N=7B,D=1T", "--tasks", "nope"], "no task 'nope'"),
    (["--target", "N=7B,D=1T", "--loss-units", "bits"], "--loss-units converts the loss of a "
                                                        "table of runs"),
])
def test_cli_errors_are_one_line(synthetic_csv, arguments, message, capsys):
    code = main(["tasks", "fit", str(synthetic_csv), "--fit-runs", ""] + arguments)
    error = capsys.readouterr().err
    assert code == 2 and message in error and error.count("\n") == 1, error


def test_cli_reads_a_run_name_column_and_refuses_a_table_without_one(synthetic_csv,
                                                                      tmp_path, capsys):
    """A run column called run_name is the run (it made every checkpoint a run of its own,
    and the CLI then said "no task 'synthetic' ...; tasks: " with no task listed); a run
    column it cannot recognise is refused naming it, unless run_id= says each row is a run."""
    import pandas as pd

    frame = pd.read_csv(synthetic_csv)
    runs = frame["run_id"].nunique()
    arguments = ["--tasks", "synthetic", "--fit-runs", "", "--target", "N=7B,D=140B"]
    named = tmp_path / "run_name.csv"
    frame.rename(columns={"run_id": "run_name"}).to_csv(named, index=False)
    assert main(["tasks", "fit", str(named)] + arguments) == 0
    assert f"{len(frame)} rows from run_name.csv: {runs} runs, 1 task" in capsys.readouterr().out
    model = tmp_path / "model.csv"
    frame.rename(columns={"run_id": "model"}).to_csv(model, index=False)
    assert main(["tasks", "fit", str(model)] + arguments) == 2
    error = capsys.readouterr().err
    assert "no run column" in error and "'model' could be it" in error
    assert error.count("\n") == 1
    # the last checkpoints only, each (N, D) a run, knowingly: one checkpoint per run,
    # which step 2's first-10% rule drops entirely, and the message says so
    final = frame[frame["D"] == frame.groupby("run_id")["D"].transform("max")]
    final.drop(columns="run_id").to_csv(model, index=False)
    assert main(["tasks", "fit", str(model), "--columns", "run_id="] + arguments) == 2
    error = capsys.readouterr().err
    assert "step2_drop_fraction=0.1 drops the first ceil(0.1 n)" in error
    assert "at most 1 checkpoint" in error and "run column is missing or wrong" in error
    # the way out it names is a flag (before: only fit_downstream's keyword, no flag had it)
    assert error.rstrip().endswith("set step2_drop_fraction to 0 (a keyword of "
                                   "fit_downstream; on the command line --step2-drop-fraction 0)")
    out = tmp_path / "final.json"
    assert main(["tasks", "fit", str(model), "--columns", "run_id=", "--step2-drop-fraction", "0",
                 "--out", str(out)] + arguments) == 0
    capsys.readouterr()
    document = json.loads(out.read_text())
    assert document["preset"]["step2_drop_fraction"] == 0
    # what was used is recorded: the task fitted, not the ladder's eight (and no MMLU)
    assert document["preset"]["tasks"] == ["synthetic"]
    assert document["preset"]["aggregates"] == {} and document["preset"]["fit_runs"] is None
    assert 0 < document["tasks"][0]["accuracy"] < 1
    for bad in ("1", "-0.1", "x"):
        assert main(["tasks", "fit", str(model), "--step2-drop-fraction", bad] + arguments) == 2
        assert "--step2-drop-fraction" in capsys.readouterr().err


def test_cli_help_speaks_of_task_tables(capsys):
    assert main(["tasks", "fit", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "PATH task table, one row per run, checkpoint and task" in text
    assert ("--columns NAME=COLUMN map canonical names (task, task_loss, accuracy, chance, "
            "run_id, N, D, C, step)") in text
    # only what a task table can do with a repeat (keep and warn were listed, then refused)
    assert "--duplicates {raise,drop} rows repeating an earlier row" in text
    assert "--loss-units" not in text and "--exclude-top-loss" not in text  # refused


def test_cli_honours_duplicates(synthetic_csv, tmp_path, capsys):
    import pandas as pd

    frame = pd.read_csv(synthetic_csv)
    twice = tmp_path / "twice.csv"
    pd.concat([frame, frame.iloc[[7]]]).to_csv(twice, index=False)
    arguments = ["tasks", "fit", str(twice), "--tasks", "synthetic", "--fit-runs", "",
                 "--target", "N=7B,D=140B"]
    assert main(arguments) == 2
    err = capsys.readouterr().err
    assert "1 row repeats an earlier row in every column" in err
    assert err.rstrip().endswith("pass --duplicates drop to keep the first of each")
    for policy in ("keep", "warn"):
        assert main(arguments + ["--duplicates", policy]) == 2
        assert "invalid choice" in capsys.readouterr().err
    assert main(arguments + ["--duplicates", "drop"]) == 0
    captured = capsys.readouterr()
    assert "dropped 1 row that repeats" in captured.err
    assert f"({len(frame)} rows from twice.csv" in captured.out


def test_cli_refuses_to_write_over_its_input(synthetic_csv, capsys):
    code = main(["tasks", "fit", str(synthetic_csv), "--target", "N=7B,D=1T", "--out",
                 str(synthetic_csv)])
    assert code == 2 and "is also an input" in capsys.readouterr().err


def test_cli_zero_tokens_error_names_the_flag(synthetic_csv, tmp_path, capsys):
    # before: "set zero_tokens to drop to drop them", the Python argument on the command line
    import pandas as pd

    frame = pd.read_csv(synthetic_csv)
    frame.loc[frame.index[:2], "D"] = 0
    path = tmp_path / "zeros.csv"
    frame.to_csv(path, index=False)
    assert main(["tasks", "fit", str(path), "--tasks", "synthetic", "--fit-runs", "",
                 "--target", "N=7B,D=1T"]) == 2
    assert "2 rows are at 0); to drop them, pass --zero-tokens drop" in capsys.readouterr().err


def test_cli_json_into_stdout_is_the_printed_document(synthetic_csv):
    """`tasks fit --json --out /dev/stdout`: the document --json prints (before: the table's
    CSV). In a process of its own: under pytest's capture /dev/stdout is a deleted file."""
    import subprocess
    import sys

    argv = [sys.executable, "-m", "scalinglaws", "tasks", "fit", str(synthetic_csv),
            "--tasks", "synthetic", "--fit-runs", "", "--target", "N=7B,D=1T", "--json"]
    printed, into = (subprocess.run(argv + extra, capture_output=True, text=True, timeout=300)
                     for extra in ([], ["--out", "/dev/stdout"]))
    assert printed.returncode == into.returncode == 0, into.stderr
    assert into.stdout == printed.stdout and json.loads(into.stdout)


def test_cli_reproduces_a_ladder_number(shared_dir, capsys):
    path = shared_dir / "datasets" / "downstream_evals" / "olmo_ladder_tasks.csv"
    code = main(["tasks", "fit", str(path), "--zero-tokens", "drop", "--tasks", "piqa_val",
                 "--target-run", "olmo2-13B-5T"])
    printed = capsys.readouterr().out
    assert code == 0
    line = next(line for line in printed.splitlines() if line.strip().startswith("piqa_val"))
    # the repository's chained 13B prediction 0.8208 against 0.8296 reached: -0.9 points
    assert line.split()[1:5] == ["0.8748", "0.8208", "0.8296", "-0.9"]


# ----------------------------------------------------------------------------- JSON


def test_json_round_trip(predictions, tmp_path):
    path = tmp_path / "p.json"
    save_predictions(predictions, path)
    back = load_predictions(path)
    assert back.target == predictions.target and back.tasks == predictions.tasks
    for mine, theirs in zip(back.rows, predictions.rows):
        for key, value in theirs.items():
            if isinstance(value, float) and math.isnan(value):
                assert math.isnan(mine[key]), key
            else:
                assert mine[key] == value, key
    assert predictions_to_json(back) == predictions_to_json(predictions)


def test_the_shipped_schema_accepts_documents_by_jsonschema_too(predictions):
    import jsonschema

    jsonschema.validate(predictions_to_dict(predictions), schema())


@pytest.mark.parametrize("change, message", [
    (lambda d: d["tasks"][0].update(N=1.0), r"tasks\[0\].N must be the target's"),
    (lambda d: d["tasks"][0].update(covered=not d["tasks"][0]["covered"]),
     r"tasks\[0\].covered says"),
    (lambda d: d["tasks"][0].update(accuracy_low=None), r"accuracy_low and _high must"),
    (lambda d: d["tasks"][0].update(error=12.0), r"tasks\[0\].error must be 100 x"),
    (lambda d: d.update(tolerance=None), "tolerance must be given with verdicts"),
    (lambda d: d["tasks"][0].update(verdict="maybe"), r"tasks\[0\].verdict"),
    (lambda d: d.update(extra=1), "extra"),
    (lambda d: d.update(schema_version=7), "schema_version 7 is not supported"),
    (lambda d: d["tasks"].append(dict(d["tasks"][0])), r"tasks\[1\].task repeats"),
])
def test_bad_documents_name_the_field(predictions, change, message):
    document = predictions_to_dict(predictions)
    change(document)
    with pytest.raises(InputError, match=message):
        predictions_from_dict(document, source="p.json")


def test_non_json_numbers_are_refused(predictions):
    text = predictions_to_json(predictions).replace('"task_loss":', '"task_loss": NaN, "x":', 1)
    with pytest.raises(InputError, match="not a finite number"):
        predictions_from_json(text)


def _version_1(document: dict) -> dict:
    """A version 1 document, as scalinglaws wrote it before every document said what its
    intervals are in one vocabulary: the interval's fields in one object ``interval``, the
    method's text as its ``kind``."""
    old = {key: value for key, value in document.items()
           if key not in ("interval", "method", "confidence_level", "n_resamples", "n_failed",
                          "seed")}
    old["schema_version"] = 1
    old["interval"] = {"confidence_level": document["confidence_level"],
                       "n_resamples": document["n_resamples"],
                       "n_failed": document["n_failed"], "seed": document["seed"],
                       "kind": document["method"]}
    return old


def test_the_interval_is_its_kind_as_in_every_document_and_version_1_still_loads(
        predictions):
    import jsonschema

    from scalinglaws.analysis.downstream_predict import INTERVAL_KIND

    document = predictions_to_dict(predictions)
    # version 2: interval the kind (a string, as predict's and optimal's), its method and
    # the bootstrap's settings beside it (20 resamples, rng=0: the fixture's)
    assert document["schema_version"] == 2
    assert (document["interval"], document["method"]) == ("confidence", INTERVAL_KIND)
    assert (document["confidence_level"], document["n_resamples"], document["seed"]) == (
        0.95, 20, 0)
    old = _version_1(document)
    assert isinstance(old["interval"], dict)
    jsonschema.validate(old, schema())  # the shipped schema describes both versions
    back = predictions_from_dict(old, source="old.json")
    assert predictions_to_dict(back) == document  # read as it was, written as version 2
    # without a bootstrap there is no interval to name
    import dataclasses

    bare = predictions_to_dict(dataclasses.replace(predictions, confidence_level=None,
                                                   n_resamples=0, n_failed=0, seed=None))
    assert (bare["interval"], bare["confidence_level"], bare["n_resamples"]) == (None, None, 0)
    assert predictions_from_dict(bare).confidence_level is None


def _with(document: dict, **changes) -> dict:
    return {**document, **changes}


def _without(document: dict, name: str) -> dict:
    return {key: value for key, value in document.items() if key != name}


def _v1_without_kind(document: dict) -> dict:
    old = _version_1(document)
    old["interval"] = _without(old["interval"], "kind")
    return old


@pytest.mark.parametrize("change, message", [
    # a version 2 document with the version 1 object, or without its fields
    (lambda d: _with(d, interval={"kind": "x"}), "field interval must be one of "
                                                 "'confidence', null"),
    (lambda d: _with(d, interval="prediction"), "field interval must be one of"),
    (lambda d: _without(d, "method"), "field method is missing"),
    (lambda d: _without(d, "n_resamples"), "field n_resamples is missing"),
    # a version 1 document with a version 2 field, or its object incomplete
    (lambda d: _with(_version_1(d), method="x"), "field method is not allowed here"),
    (lambda d: _with(_version_1(d), interval="confidence"), "field interval must be an "
                                                             "object"),
    (_v1_without_kind, r"field interval.kind is missing"),
])
def test_each_version_is_checked_as_itself(predictions, change, message):
    with pytest.raises(InputError, match=message):
        predictions_from_dict(change(predictions_to_dict(predictions)), source="p.json")

# ----------------------------------------------------------------------------- figure


def test_figure_draws_the_fitted_curve_and_the_target(fitted, predictions):
    import matplotlib

    matplotlib.use("Agg")
    from scalinglaws.plot import task_accuracy

    _, fit = fitted
    ax = task_accuracy(fit, "synthetic", predictions=predictions)
    curve = next(line for line in ax.get_lines() if line.get_label().startswith("step 2"))
    x, y = curve.get_xdata(), curve.get_ydata()
    p = fit["synthetic"].step2.params  # the sigmoid written out here
    np.testing.assert_allclose(y, p["a"] / (1 + np.exp(-p["k"] * (x - p["x0"]))) + p["b"],
                               rtol=1e-12)
    assert x.min() < predictions["synthetic"]["task_loss"]
    points = ax.collections[0].get_offsets()
    assert len(points) == len(fit["synthetic"].step2_data["task_loss"]) - 1  # not the anchor
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "target: predicted\n(95% bootstrap percentile interval)" in labels
    assert "target: reached" in labels
    with pytest.raises(InputError, match="give the task to draw"):
        task_accuracy(fit)


# ----------------------------------------------------------------------------- report


def test_report_section_escapes_and_embeds(fitted, predictions):
    from scalinglaws.outputs.report_tasks import tasks_html

    _, fit = fitted
    page = tasks_html(predictions, fit)
    assert page.startswith('<section id="downstream">') and page.endswith("</section>")
    assert page.count("data:image/png;base64,") == 1
    row = predictions["synthetic"]
    assert f"<td>{row['accuracy']:.4f}</td>" in page and row["verdict"] in page
    with pytest.raises(InputError, match="`predictions` must be TaskPredictions"):
        tasks_html({"tasks": []})


def test_the_document_records_the_bootstrap_seed_and_older_ones_load(synthetic_csv, tmp_path,
                                                                      capsys):
    # before: tasks fit --bootstrap 20 --seed 4 differed by seed but held no seed
    out = tmp_path / "seeded.json"
    code = main(["tasks", "fit", str(synthetic_csv), "--tasks", "synthetic", "--fit-runs", "",
                 "--target", "N=7B,D=140B", "--bootstrap", "20", "--seed", "4",
                 "--out", str(out)])
    capsys.readouterr()
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["seed"] == 4 and load_predictions(out).seed == 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = fit_downstream(load_tasks(synthetic_csv), LADDER, tasks=["synthetic"],
                             fit_runs=None)
        library = predict_tasks(fit, 7e9, 1.4e11, n_resamples=20, rng=4)
    assert library.seed == 4
    assert doc["tasks"][0]["accuracy_low"] == library.rows[0]["accuracy_low"]
    del doc["seed"]  # written before the field: loads, with no seed
    assert predictions_from_dict(doc, source="old.json").seed is None
