"""``fit``'s flags do what they say or are refused, and the fit's FLOP accounting reaches
``optimal``/``diagnose`` (scalinglaws.outputs.cli.fitting; review s27 F2, F5, F11, F16)."""

import json
import shlex
import shutil
from pathlib import Path

import pandas as pd
import pytest

from scalinglaws.fitting import estimator
from scalinglaws.outputs.cli import main

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "datasets" / "synthetic_chinchilla_sweep.csv"


def _json(capsys):
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def k8_table(tmp_path_factory):
    """The bundled sweep as N, C = 8 N D, loss (D is derived with k = 8)."""
    sweep = pd.read_csv(DATA)
    path = tmp_path_factory.mktemp("k8") / "nc.csv"
    pd.DataFrame({"N": sweep.N, "C": 8 * sweep.N * sweep.D, "loss": sweep.loss}).to_csv(
        path, index=False)
    return path


# ------------------------------------------------------------------ F2: k travels with the fit
@pytest.mark.parametrize("extra", [[], ["--uncertainty", "--bootstrap", "0"]])
def test_optimal_and_diagnose_use_the_k_the_fit_was_made_with(k8_table, tmp_path, capsys,
                                                               extra):
    import scalinglaws as sl
    from scalinglaws.analysis.allocation import compute_optimal

    out = tmp_path / "fit.json"
    assert main(["fit", str(k8_table), "--flops-per-token", "8", *extra, "--out", str(out)]) \
        in (0, 1)
    capsys.readouterr()
    # the same law refitted in Python; its allocation at k = 8 is checked against a brute
    # force in tests/analysis/test_allocation_fit_k.py
    law = sl.fit(sl.load_runs(k8_table, flops_per_token=8))
    at8, at6 = (float(compute_optimal(law, 1e22, flops_per_token=k).N) for k in (8, 6))
    assert main(["optimal", str(out), "--C", "1e22", "--json"]) == 0
    row = _json(capsys)["rows"][0]
    assert row["N"] == pytest.approx(at8, rel=1e-6)
    assert main(["diagnose", str(out), "--N", "7B", "--D", "100B", "--json"]) == 0
    doc = _json(capsys)
    assert doc["flops_per_token"] == 8 and doc["C"] == pytest.approx(8 * 7e9 * 1e11)
    # a typed k wins, with a note that it is not the fit's
    assert main(["optimal", str(out), "--C", "1e22", "--flops-per-token", "6", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["rows"][0]["N"] == pytest.approx(at6, rel=1e-6)
    assert "--flops-per-token 6 replaces the C = 8*N*D this fit was made with" in captured.err


def test_no_note_when_the_typed_k_is_the_fits(tmp_path, capsys):
    out = tmp_path / "fit.json"
    assert main(["fit", str(DATA), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["optimal", str(out), "--C", "1e22", "--flops-per-token", "6"]) == 0
    assert "note" not in capsys.readouterr().err


# ------------------------------------------------------------------ F5: --uncertainty's bootstrap
def test_uncertainty_bootstrap_takes_level_method_and_strata(tmp_path, capsys):
    out = tmp_path / "u.json"
    assert main(["fit", str(DATA), "--uncertainty", "--bootstrap", "30", "--confidence-level",
                 "0.8", "--ci-method", "basic", "--group", "budget", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "80% basic interval, 30 resamples" in text
    boot = json.loads(out.read_text())["bootstrap"]
    assert (boot["confidence_level"], boot["method"], boot["groups"]) == (0.8, "basic", "budget")
    # predictions from the file default to the level asked for
    assert main(["predict", str(out), "--N", "1B", "--D", "20B"]) == 0
    assert "confidence intervals: 80% two-sided" in capsys.readouterr().out


# ------------------------------------------------------------------ F11: no flag ignored
@pytest.fixture
def no_fitting(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the command started fitting before refusing the flag")
    monkeypatch.setattr(estimator, "fit", refuse)


@pytest.mark.parametrize("flags, message", [
    (["--loss", "squared", "--delta", "0.5"], "--delta is the Huber threshold: it has no "
                                               "effect with --loss squared"),
    (["--axis", "N"], "--axis has no effect without --uncertainty"),
    (["--scatter", "power"], "--scatter has no effect without --uncertainty"),
    (["--replicates", "no_such_column"], "--replicates has no effect without --uncertainty"),
    (["--ci-method", "bca"], "--ci-method has no effect without a bootstrap (--bootstrap N)"),
    (["--group", "budget"], "--group has no effect without a bootstrap"),
    (["--confidence-level", "0.8"], "--confidence-level has no effect without a bootstrap"),
    (["--bootstrap", "0", "--ci-method", "basic"], "--ci-method has no effect without"),
    (["--uncertainty", "--bootstrap", "0", "--group", "budget"],
     "--group has no effect with --bootstrap 0 (delta-method intervals)"),
    (["--uncertainty", "--bootstrap", "0", "--confidence-level", "0.9"],
     "choose the level when predicting (predict --confidence-level)"),
    (["--fix", "E=1.69", "--fix", "E=1.7"], "--fix gives E twice (E=1.69 and E=1.7)"),
    (["--tie", "beta=alpha,beta=E"], "--tie gives beta twice"),
])
def test_a_flag_without_effect_is_refused_in_one_line(no_fitting, capsys, flags, message):
    assert main(["fit", str(DATA), *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("scalinglaws: error: "), err
    assert message in err, err


def test_the_defaults_typed_out_are_accepted(capsys):
    assert main(["fit", str(DATA), "--loss", "huber", "--delta", "1e-3", "--json"]) == 0
    assert _json(capsys)["loss"]["delta"] == 1e-3
    assert main(["fit", str(DATA), "--loss", "squared", "--json"]) == 0
    assert _json(capsys)["loss"]["name"] == "squared"


# ------------------------------------------------------------------ F16: text that is true
def test_datasets_readme_regenerate_command_runs_and_reproduces_the_file(tmp_path,
                                                                          monkeypatch):
    text = (ROOT / "datasets" / "README.md").read_text()
    start = text.index("Regenerate: `") + len("Regenerate: `")
    command = shlex.split(text[start:text.index("`", start)])
    assert command[0] == "scalinglaws"
    (tmp_path / "datasets").mkdir()
    shutil.copy(DATA, tmp_path / "datasets" / DATA.name)
    monkeypatch.chdir(tmp_path)
    assert main(command[1:]) == 0
    assert (tmp_path / "datasets" / DATA.name).read_bytes() == DATA.read_bytes()


def test_task_loss_help_names_the_tables_units_not_nats(capsys):
    assert main(["predict", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--task-loss" in help_text and "nats per token of the correct" not in help_text
    # what the code does: bpb is loaded as task_loss unconverted
    import scalinglaws as sl

    table = pd.DataFrame({"N": [1e8, 2e8, 4e8, 8e8], "D": [2e9, 4e9, 8e9, 1.6e10], "task": "t",
                          "bpb": [1.1, 1.0, 0.95, 0.9], "acc": [0.6, 0.62, 0.64, 0.66]})
    assert list(sl.load_tasks(table).frame["task_loss"]) == [1.1, 1.0, 0.95, 0.9]
    assert "bits per byte of the correct answer, not converted" in help_text
