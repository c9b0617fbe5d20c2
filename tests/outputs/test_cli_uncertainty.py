"""The CLI of issue 10: `fit --uncertainty`, prediction intervals in `predict`, presets and
`backtest --rollout`."""

import json
from pathlib import Path

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.outputs.cli import main

DATA = Path(__file__).resolve().parents[2] / "datasets" / "synthetic_chinchilla_sweep.csv"


@pytest.fixture(scope="module")
def law_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("law") / "fit.json"
    assert main(["fit", str(DATA), "--uncertainty", "--bootstrap", "40", "--seed", "3",
                 "--out", str(out)]) == 0
    return out


def _rows(capsys):
    return json.loads(capsys.readouterr().out)


def test_fit_uncertainty_saves_a_calibrated_fit(law_file, capsys):
    law = sl.load(law_file)
    assert isinstance(law, sl.CalibratedFit)
    assert law.bootstrap is not None and len(law.bootstrap.draws) == 40
    assert law.calibration is not None and law.calibration.n_folds == 5
    # the same numbers as the library with the same settings
    runs = sl.load_runs(DATA)
    again = sl.calibrate(sl.fit(runs), runs, n_resamples=40, rng=3, progress=False)
    assert law.scatter == again.scatter and law.calibration == again.calibration
    np.testing.assert_array_equal(law.bootstrap.draws, again.bootstrap.draws)


def test_bootstrap_and_resamples_name_one_number(tmp_path, capsys):
    # --bootstrap N with --uncertainty is the number of resamples (it was silently ignored)
    out = tmp_path / "law.json"
    assert main(["fit", str(DATA), "--uncertainty", "--bootstrap", "12", "--out", str(out)]) == 0
    assert sl.load(out).bootstrap.n_resamples == 12
    capsys.readouterr()
    argv = ["fit", str(DATA), "--uncertainty", "--bootstrap", "50", "--resamples", "20"]
    assert main(argv) == 2
    assert "two numbers of resamples" in capsys.readouterr().err
    # --resamples is --bootstrap's old spelling: alone it bootstraps too
    assert main(["fit", str(DATA), "--resamples", "20", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["bootstrap"]["n_resamples"] == 20
    # --bootstrap 0 with --uncertainty asks for the delta method (it used to mean 1000)
    assert main(["fit", str(DATA), "--uncertainty", "--bootstrap", "0", "--out", str(out),
                 "--force"]) == 0
    assert sl.load(out).bootstrap is None


def test_fit_uncertainty_warns_once_about_a_diverged_run(tmp_path, capsys):
    """One run's loss tripled: the fit named it (25 robust sd and more), and calibrate's
    scatter, which sets it aside, named it again."""
    import pandas as pd

    frame = pd.read_csv(DATA)
    frame.loc[20, "loss"] *= 3
    frame.to_csv(tmp_path / "diverged.csv", index=False)
    assert main(["fit", str(tmp_path / "diverged.csv"), "--uncertainty", "--bootstrap",
                 "0"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines()
                if line.startswith("scalinglaws: warning:")]
    assert len(warnings) == 1, warnings
    assert "1 run lies more than 25" in warnings[0] and "row 20 (line 22)" in warnings[0]


def test_predict_prints_both_intervals_at_the_level_asked(law_file, capsys):
    assert main(["predict", str(law_file), "--N", "1B", "7B", "--D", "20B", "140B",
                 "--json"]) == 0
    doc = _rows(capsys)
    assert (doc["kind"], doc["interval"], doc["confidence_level"]) == \
        ("scalinglaws.predict", "prediction", 0.95)
    rows = doc["rows"]
    assert [r["N"] for r in rows] == [1e9, 7e9]
    for row in rows:
        assert row["prediction_low"] < row["confidence_low"] < row["loss"] \
            < row["confidence_high"] < row["prediction_high"]
    law = sl.load(law_file)
    expected = sl.predict(law, N=[1e9, 7e9], D=[2e10, 1.4e11], confidence_level=0.8)
    assert main(["predict", str(law_file), "--N", "1B", "7B", "--D", "20B", "140B",
                 "--confidence-level", "0.8", "--json"]) == 0
    narrow = _rows(capsys)
    assert narrow["confidence_level"] == 0.8
    narrow = narrow["rows"]
    assert [r["prediction_high"] for r in narrow] == pytest.approx(
        list(expected.prediction_high), rel=1e-12)
    assert narrow[1]["prediction_high"] < rows[1]["prediction_high"]


def test_predict_with_a_plain_fit_has_no_prediction_columns(tmp_path, capsys):
    out = tmp_path / "plain.json"
    assert main(["fit", str(DATA), "--out", str(out), "--json"]) == 0
    capsys.readouterr()
    assert main(["predict", str(out), "--N", "1B", "--D", "20B", "--json"]) == 0
    doc = _rows(capsys)
    # no interval: nothing to say of one
    assert set(doc) == {"kind", "schema_version", "package_version", "rows"}
    assert set(doc["rows"][0]) == {"N", "D", "loss"}


def test_preset_extrapolate_ties_the_exponents(tmp_path, capsys):
    out = tmp_path / "tied.json"
    assert main(["fit", str(DATA), "--preset", "extrapolate", "--out", str(out), "--json"]) == 0
    result = sl.load(out)
    assert result.params["alpha"] == result.params["beta"]
    assert result.options["preset"] == "extrapolate"


def test_backtest_rollout_with_a_figure(tmp_path, capsys):
    figure = tmp_path / "rollout.png"
    assert main(["backtest", str(DATA), "--rollout", "--cuts", "3", "--figure", str(figure),
                 "--json"]) == 0
    document = _rows(capsys)
    assert document["axis"] == "C" and len(document["folds"]) == 3
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["backtest", str(DATA), "--plot", str(tmp_path / "x.png")]) == 2  # former name
    assert "--figure draws a rollout: add --rollout" in capsys.readouterr().err


def test_plot_kinds_are_the_figure_kinds(law_file, tmp_path):
    from scalinglaws.outputs.cli import build_parser
    from scalinglaws.outputs.figures import FIGURE_KINDS

    parser = build_parser()
    plot = parser._subparsers._group_actions[0].choices["plot"]
    kind = next(a for a in plot._actions if a.dest == "kind")
    assert set(kind.choices) == set(FIGURE_KINDS)
    out = tmp_path / "rollout.png"
    assert main(["plot", "rollout", str(law_file), "--data", str(DATA), "--out", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
