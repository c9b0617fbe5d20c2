import json
import subprocess
import sys
from pathlib import Path

import pytest

from scalinglaws.outputs.cli import main

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "datasets" / "synthetic_chinchilla_sweep.csv"


def test_fit_default_data_prints_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "fit.json"
    assert main(["fit", str(DEFAULT_DATA), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for name in ("E", "A", "B", "alpha", "beta", "converged", "108"):
        assert name in printed
    doc = json.loads(out.read_text())
    assert doc["form"]["name"] == "chinchilla"


def test_predict_from_saved_fit(tmp_path, capsys):
    out = tmp_path / "fit.json"
    main(["fit", str(DEFAULT_DATA), "--out", str(out)])
    capsys.readouterr()
    assert main(["predict", str(out), "--N", "7e10", "--D", "1.4e12", "2.8e12", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2 and rows[0]["loss"] > rows[1]["loss"] > 1.5


def test_fit_options(tmp_path, capsys, epoch_csv):
    assert main(["fit", str(epoch_csv), "--exclude-top-loss", "5", "--tie", "beta=alpha",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n_runs"] == 240 and doc["params"]["alpha"] == doc["params"]["beta"]
    assert main(["fit", str(DEFAULT_DATA), "--form", "kaplan_nd", "--loss", "squared", "--json"]) == 0


def test_generate_reproduces_bundled_default_data(tmp_path):
    out = tmp_path / "sweep.csv"
    assert main(["generate", "--out", str(out), "--seed", "0"]) == 0
    assert out.read_text() == DEFAULT_DATA.read_text()


@pytest.mark.parametrize("argv, message", [
    (["fit", "missing.csv"], "missing.csv"),
    (["fit", str(DEFAULT_DATA), "--form", "nope"], "`form` must be one of"),
    (["fit", str(DEFAULT_DATA), "--fix", "E"], "NAME=VALUE"),
    (["fit", str(DEFAULT_DATA), "--columns", "N=nothing"], "nothing"),
    (["predict", "missing.json", "--N", "1e9"], "cannot read fit file"),
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


def test_help_explains_units():
    result = subprocess.run([sys.executable, "-m", "scalinglaws", "fit", "--help"],
                            capture_output=True, text=True, check=True)
    assert "FLOP" in result.stdout and "nats per token" in result.stdout
    assert "tokens" in result.stdout and "parameters" in result.stdout


def test_backtest_command(epoch_csv, capsys):
    assert main(["backtest", str(epoch_csv), "--exclude-top-loss", "5", "--threshold", "1e21",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["n_held_out"] == 23
    assert doc["summary"]["median_relative_error"] < 0.012


def test_optimal_and_diagnose_commands(tmp_path, capsys):
    out = tmp_path / "fit.json"
    main(["fit", str(DEFAULT_DATA), "--bootstrap", "30", "--seed", "1", "--out", str(out)])
    capsys.readouterr()
    assert main(["optimal", str(out), "--compute", "5.76e23", "1e24", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2 and rows[0]["n_params_low"] < rows[0]["n_params"] < rows[0]["n_params_high"]
    assert main(["diagnose", str(out), "--N", "175e9", "--D", "300e9"]) == 0
    assert "under-trained" in capsys.readouterr().out
    assert main(["predict", str(out), "--N", "7e10", "--D", "1.4e12", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert row["loss_low"] < row["loss"] < row["loss_high"]


def test_same_seed_same_json_from_cli(tmp_path):
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    for path, jobs in zip(paths, ("1", "2")):
        main(["fit", str(DEFAULT_DATA), "--bootstrap", "40", "--seed", "7", "--jobs", jobs,
              "--out", str(path)])
    assert paths[0].read_text() == paths[1].read_text()


def test_isoflop_command(capsys, shared_dir):
    assert main(["isoflop", str(DEFAULT_DATA), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert 0.45 < doc["a"] < 0.58
    porian = shared_dir / "datasets" / "porian2024" / "porian2024_isoflop.csv"
    assert main(["isoflop", str(porian), "--by", "setting", "--curve", "akima", "--json"]) == 0
    docs = json.loads(capsys.readouterr().out)
    assert len(docs) == 15


def test_plot_and_report_commands(tmp_path, capsys):
    fit_path = tmp_path / "fit.json"
    main(["fit", str(DEFAULT_DATA), "--bootstrap", "30", "--seed", "0", "--out", str(fit_path)])
    for kind in ("fit", "residuals", "frontier", "landscape", "corner", "isoflop"):
        out = tmp_path / f"{kind}.png"
        assert main(["plot", kind, str(fit_path), "--data", str(DEFAULT_DATA),
                     "--out", str(out)]) == 0
        assert out.stat().st_size > 10_000
    html = tmp_path / "report.html"
    assert main(["report", str(fit_path), "--data", str(DEFAULT_DATA), "--out", str(html)]) == 0
    assert html.read_text().count("data:image/png;base64,") >= 5
    capsys.readouterr()
    assert main(["plot", "fit", str(fit_path), "--out", str(tmp_path / "x.png")]) == 2
    assert "needs the runs" in capsys.readouterr().err
