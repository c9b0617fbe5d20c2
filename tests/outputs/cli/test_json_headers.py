"""Every JSON document a command prints (``--json``) or writes (``--out x.json``) opens
with one header, as the fit file does: ``kind`` (``"scalinglaws.<name>"``), an int
``schema_version`` and the ``package_version`` that wrote it; and the documents say what
their intervals are in one vocabulary (``interval``: the kind; ``method``: how made).

Before, ``predict``, ``optimal``, ``diagnose``, ``backtest``, ``plan``, ``isoflop --by``,
``curves predict`` and ``curves final`` carried no version (several no kind),
``diagnose`` said ``interval_method`` and ``forms`` printed a bare list."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scalinglaws
from scalinglaws.outputs.cli import main

from curve_logs import write_lr_logged_curves

DATASETS = Path(__file__).resolve().parents[3] / "datasets"
SWEEP = DATASETS / "synthetic_chinchilla_sweep.csv"

# these tests take few resamples to stay fast (the warnings that few draws narrow an
# interval are tested where the intervals are made)
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*too few:scalinglaws.CurveResamplingWarning")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Inputs of every command: a fit of the bundled sweep with a bootstrap and one
    without, two recipes made of the sweep, checkpoints of training runs, learning curves
    with a curve fit, a log of gradient norms and a task table."""
    folder = tmp_path_factory.mktemp("inputs")
    paths = {"sweep": SWEEP, "fit": folder / "fit.json", "plain": folder / "plain.json"}
    assert main(["fit", str(SWEEP), "--bootstrap", "20", "--out", str(paths["fit"])]) == 0
    assert main(["fit", str(SWEEP), "--out", str(paths["plain"])]) == 0
    sweep = pd.read_csv(SWEEP)
    paths["recipes"] = folder / "recipes.csv"
    pd.concat([sweep.assign(recipe="base"),
               sweep.assign(recipe="new", loss=sweep["loss"] * 1.01)]).to_csv(
        paths["recipes"], index=False)

    from scalinglaws.laws.curve_synthetic import synthetic_curves
    from scalinglaws.laws.synthetic import synthetic_training_curves

    paths["checkpoints"] = folder / "checkpoints.csv"
    synthetic_training_curves(rng=0).to_frame().to_csv(paths["checkpoints"], index=False)
    paths["isoflop"] = folder / "isoflop.json"
    assert main(["isoflop", str(SWEEP), "--out", str(paths["isoflop"])]) == 0
    paths["envelope"] = folder / "envelope.json"
    assert main(["envelope", str(paths["checkpoints"]), "--points", "300", "--out",
                 str(paths["envelope"])]) == 0
    paths["settings"] = folder / "settings.csv"
    pd.concat([synthetic_training_curves(rng=i).to_frame().assign(setting=name)
               for i, name in enumerate(["a", "b"])]).to_csv(paths["settings"], index=False)
    curves, _ = synthetic_curves("momentum", rng=0, noise=0.0, every=512)
    paths["logs"] = write_lr_logged_curves(curves, folder / "logs.csv")
    paths["curve_fit"] = folder / "curve_fit.json"
    assert main(["curves", "fit", str(paths["logs"]), "--law", "momentum", "--nan-policy",
                 "omit", "--bootstrap", "5", "--out", str(paths["curve_fit"])]) == 0
    rng = np.random.default_rng(0)
    paths["norms"] = folder / "norms.csv"
    pd.DataFrame({"norm_sq_small": 1 + rng.uniform(0, 0.1, 200),
                  "norm_sq_big": 0.5 + rng.uniform(0, 0.05, 200)}).to_csv(paths["norms"],
                                                                           index=False)
    from scalinglaws.laws.tasks import synthetic_task_table

    paths["tasks"] = folder / "evals.csv"
    table = synthetic_task_table(run_sd=0.001, checkpoint_sd=0.001, rng=0).frame
    table[["run_id", "N", "D", "task", "task_loss", "accuracy", "chance"]].to_csv(
        paths["tasks"], index=False)
    return paths


#: (command line, with {name} for an input of `files`; the kind of its document)
COMMANDS = {
    "fit": (["fit", "{sweep}"], "scalinglaws.fit"),
    "predict": (["predict", "{fit}", "--N", "1B", "--D", "20B"], "scalinglaws.predict"),
    "optimal": (["optimal", "{fit}", "--C", "1e21"], "scalinglaws.optimal"),
    # N_opt and D_opt of an analysis (Approach 2, Approach 1): the same document
    "optimal isoflop": (["optimal", "{isoflop}", "--C", "1e21"], "scalinglaws.optimal"),
    "optimal envelope": (["optimal", "{envelope}", "--C", "1e21"], "scalinglaws.optimal"),
    "diagnose": (["diagnose", "{fit}", "--N", "1B", "--D", "20B"], "scalinglaws.diagnose"),
    "diagnose several": (["diagnose", "{fit}", "--N", "1B", "2B", "--D", "20B"],
                         "scalinglaws.diagnose"),
    "backtest": (["backtest", "{sweep}"], "scalinglaws.backtest"),
    "plan": (["plan", "--target-compute", "1e24", "--sweep-budget", "1e21", "--max-draws",
              "20"], "scalinglaws.plan"),
    "isoflop": (["isoflop", "{sweep}"], "scalinglaws.isoflop"),
    "isoflop --by": (["isoflop", "{recipes}", "--by", "recipe"], "scalinglaws.isoflop"),
    "isoflop --C": (["isoflop", "{sweep}", "--C", "1e22"], "scalinglaws.isoflop"),
    "envelope": (["envelope", "{checkpoints}", "--points", "300", "--C", "1e22"],
                 "scalinglaws.envelope"),
    "envelope --by": (["envelope", "{settings}", "--points", "300", "--by", "setting"],
                      "scalinglaws.envelope"),
    "compare": (["compare", "{recipes}", "--group", "recipe", "--reference", "base",
                 "--approach", "isoflop", "--bootstrap", "0", "--budgets", "1e21"],
                "scalinglaws.comparison"),
    "curves fit": (["curves", "fit", "{logs}", "--law", "momentum", "--nan-policy", "omit"],
                   "scalinglaws.curve_fit"),
    "curves predict": (["curves", "predict", "{curve_fit}", "--schedule", "cosine", "--steps",
                        "10000", "--peak-lr", "3e-4", "--final-lr", "3e-5", "--at", "9999"],
                       "scalinglaws.curves_predict"),
    "curves final": (["curves", "final", "{curve_fit}", "{logs}", "--nan-policy", "omit",
                      "--seen", "0.5"], "scalinglaws.curves_final"),
    "tasks fit": (["tasks", "fit", "{tasks}", "--tasks", "synthetic", "--fit-runs", "",
                   "--target", "N=7B,D=140B"], "scalinglaws.tasks"),
    "kaplan allocate": (["kaplan", "allocate", "--C", "1e21"], "scalinglaws.kaplan_allocate"),
    "kaplan overfit": (["kaplan", "overfit", "--N", "1e9"], "scalinglaws.kaplan_overfit"),
    "kaplan noise": (["kaplan", "noise", "{norms}", "--small-batch", "16", "--big-batch",
                      "128"], "scalinglaws.kaplan_noise"),
    "reproduce kaplan": (["reproduce", "kaplan"], "scalinglaws.reproduction"),
    # a list of the laws, under the header as every document (it printed a bare list)
    "forms": (["forms"], "scalinglaws.forms"),
}

#: commands whose --out writes what --json prints (reproduce --out writes the refitted law;
#: forms writes nothing)
SAME_DOCUMENT = set(COMMANDS) - {"reproduce kaplan", "forms"}


def _argv(name, files):
    return [part.format(**{k: str(v) for k, v in files.items()}) for part in COMMANDS[name][0]]


def _header(document, kind):
    assert {"kind", "schema_version", "package_version"} <= set(document), list(document)
    assert document["kind"] == kind
    version = document["schema_version"]
    assert type(version) is int and version >= 1
    assert document["package_version"] == scalinglaws.__version__


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_document_opens_with_kind_schema_version_and_package_version(name, files,
                                                                         tmp_path, capsys):
    argv, kind = _argv(name, files), COMMANDS[name][1]
    capsys.readouterr()
    assert main([*argv, "--json"]) in (0, 1)  # (1: a fit that did not converge, reported)
    printed = json.loads(capsys.readouterr().out)
    _header(printed, kind)
    for inner in printed.get("groups", []) + printed.get("models", []):
        # one analysis per group keeps its own header (load_isoflop(path, group=...)
        # reads it); a diagnosis of several models is under the list's header
        if name.endswith("--by"):
            _header(inner, kind)
            assert inner["schema_version"] == printed["schema_version"]
    if name in SAME_DOCUMENT:
        out = tmp_path / "document.json"
        assert main([*argv, "--out", str(out)]) in (0, 1)
        capsys.readouterr()
        written = json.loads(out.read_text())
        _header(written, kind)
        assert written == printed


def test_a_command_s_version_is_its_declared_constant(files, capsys):
    """The version each document states is the one constant declared next to the code
    that builds it (a layout change raises it there, once)."""
    from scalinglaws.analysis import compare_result
    from scalinglaws.fitting import envelope, isoflop
    from scalinglaws.outputs.cli import (approaches, catalog, curves, fitting, kaplan, plan,
                                         present)
    from scalinglaws.outputs.io import curves as curve_io, tasks as task_io

    declared = {"predict": fitting.PREDICT_SCHEMA_VERSION,
                "optimal": fitting.OPTIMAL_SCHEMA_VERSION,
                "diagnose": fitting.DIAGNOSE_SCHEMA_VERSION,
                "backtest": approaches.BACKTEST_SCHEMA_VERSION, "plan": plan.SCHEMA_VERSION,
                "isoflop --by": isoflop.SCHEMA_VERSION, "envelope": envelope.SCHEMA_VERSION,
                "compare": compare_result.SCHEMA_VERSION,
                "curves predict": curves.PREDICT_SCHEMA_VERSION,
                "curves final": curves.FINAL_SCHEMA_VERSION,
                "curves fit": curve_io.CURVE_SCHEMA_VERSION,
                "tasks fit": task_io.SCHEMA_VERSION,
                "kaplan noise": kaplan.NOISE_SCHEMA_VERSION,
                "reproduce kaplan": present.REPRODUCTION_SCHEMA_VERSION,
                "forms": catalog.FORMS_SCHEMA_VERSION}
    for name, version in declared.items():
        capsys.readouterr()
        assert main([*_argv(name, files), "--json"]) in (0, 1)
        assert json.loads(capsys.readouterr().out)["schema_version"] == version, name
    # the layouts that changed say so: diagnose's intervals, tasks' interval, envelope's k
    assert (fitting.DIAGNOSE_SCHEMA_VERSION, task_io.SCHEMA_VERSION,
            envelope.SCHEMA_VERSION) == (2, 2, 2)


def test_diagnose_says_its_intervals_as_the_tables_do(files, capsys):
    """``interval`` (the kind) and ``method`` (how made), as ``optimal``'s table says them
    for the same fit, where the document said ``interval_method``; the closed-form
    solution (a Chinchilla law's) is ``solution``, where it was ``method``."""
    capsys.readouterr()
    assert main(["diagnose", str(files["fit"]), "--N", "1B", "--D", "20B", "--json"]) == 0
    diagnosis = json.loads(capsys.readouterr().out)
    assert main(["optimal", str(files["fit"]), "--C", "1e21", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert "interval_method" not in diagnosis
    # fit --bootstrap's draws (percentile, the default --ci-method), a confidence interval
    assert (diagnosis["interval"], diagnosis["method"]) == ("confidence", "bootstrap percentile")
    assert (table["interval"], table["method"]) == (diagnosis["interval"], diagnosis["method"])
    assert diagnosis["solution"] == "closed_form" and diagnosis["n_draws"] == 20
    assert main(["diagnose", str(files["fit"]), "--N", "1B", "2B", "--D", "20B",
                 "--json"]) == 0
    for model in json.loads(capsys.readouterr().out)["models"]:
        assert (model["interval"], model["method"], model["solution"]) == (
            "confidence", "bootstrap percentile", "closed_form")
    # a fit without draws: no interval, and nothing to say of one
    assert main(["diagnose", str(files["plain"]), "--N", "1B", "--D", "20B", "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert (plain["interval"], plain["method"], plain["n_draws"]) == (None, None, 0)
    assert "intervals" in plain and plain["intervals"] == {}


def test_forms_lists_every_law_under_the_header(capsys):
    from scalinglaws.laws.forms import available_forms, get_form

    assert main(["forms", "--json"]) == 0
    forms = json.loads(capsys.readouterr().out)["forms"]
    assert [f["name"] for f in forms] == available_forms()
    chinchilla = next(f for f in forms if f["name"] == "chinchilla")
    assert chinchilla == {"name": "chinchilla", "inputs": ["N", "D"],
                          "parameters": ["E", "A", "B", "alpha", "beta"],
                          "formula": get_form("chinchilla").formula}
