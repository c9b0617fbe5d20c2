"""The fit file records which rows of the table were fitted (``options.rows``), and a
command given the table with ``--data`` re-applies it (scalinglaws.outputs.cli._runs;
review s27 F12: ``--exclude-top-loss`` and ``--nan-policy omit`` were lost)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalinglaws.outputs.cli import main

DATA = Path(__file__).resolve().parents[3] / "datasets" / "synthetic_chinchilla_sweep.csv"


def test_exclude_top_loss_is_recorded_with_the_rows_it_left_out(tmp_path, capsys):
    out = tmp_path / "ex5.json"
    assert main(["fit", str(DATA), "--exclude-top-loss", "5", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    rows = json.loads(out.read_text())["options"]["rows"]
    # the five largest losses of the file, found here with pandas
    largest = sorted(pd.read_csv(DATA)["loss"].nlargest(5).index.tolist())
    assert rows == {"exclude_top_loss": 5, "excluded_rows": largest}
    assert json.loads(out.read_text())["n_runs"] == 103
    assert "not fitted: the 5 of largest loss excluded" in printed
    assert ", ".join(map(str, largest)) in printed


def test_plot_with_the_original_data_reapplies_the_exclusion(tmp_path, capsys):
    fit = tmp_path / "ex5.json"
    assert main(["fit", str(DATA), "--exclude-top-loss", "5", "--out", str(fit)]) == 0
    capsys.readouterr()
    assert main(["plot", "residuals", str(fit), "--data", str(DATA),
                 "--out", str(tmp_path / "r.png")]) == 0
    err = capsys.readouterr().err
    assert "not the data this fit was made on" not in err
    assert "reading the runs as the fit was made: --exclude-top-loss 5" in err
    # a typed flag overrides the record: all 108 runs are then not the fit's data
    assert main(["plot", "residuals", str(fit), "--data", str(DATA), "--exclude-top-loss",
                 "0", "--out", str(tmp_path / "r0.png")]) == 0
    assert "(108 runs) is not the data this fit was made on" in capsys.readouterr().err


def test_nan_policy_omit_is_recorded_and_reapplied(tmp_path, capsys):
    table = pd.read_csv(DATA)
    table.loc[[3, 40], "loss"] = np.nan
    path = tmp_path / "holes.csv"
    table.to_csv(path, index=False)
    fit = tmp_path / "fit.json"
    assert main(["fit", str(path), "--nan-policy", "omit", "--out", str(fit)]) == 0
    assert "2 row(s) dropped on loading (rows 3, 40)" in capsys.readouterr().out
    assert json.loads(fit.read_text())["options"]["rows"] == {
        "nan_policy": "omit", "dropped_rows": [3, 40]}
    # without the record, --data would refuse the NaN rows (nan_policy raise)
    assert main(["plot", "residuals", str(fit), "--data", str(path),
                 "--out", str(tmp_path / "r.png")]) == 0
    err = capsys.readouterr().err
    assert "--nan-policy omit" in err and "not the data" not in err


def test_a_fit_without_a_selection_records_none(tmp_path):
    out = tmp_path / "fit.json"
    assert main(["fit", str(DATA), "--out", str(out)]) == 0
    assert "rows" not in json.loads(out.read_text())["options"]


@pytest.mark.parametrize("k", ["8"])
def test_plot_reads_the_data_with_the_fits_k(tmp_path, capsys, k):
    """A table of N, C, loss fitted with k = 8: --data derives D with the fit's k, so the
    runs are the fit's (with k = 6 they would not be)."""
    sweep = pd.read_csv(DATA)
    path = tmp_path / "nc.csv"
    pd.DataFrame({"N": sweep.N, "C": 8 * sweep.N * sweep.D, "loss": sweep.loss}).to_csv(
        path, index=False)
    fit = tmp_path / "fit.json"
    assert main(["fit", str(path), "--flops-per-token", k, "--out", str(fit)]) == 0
    capsys.readouterr()
    assert main(["plot", "residuals", str(fit), "--data", str(path),
                 "--out", str(tmp_path / "r.png")]) == 0
    err = capsys.readouterr().err
    assert "--flops-per-token 8" in err and "not the data" not in err


@pytest.mark.parametrize("command", ["plot", "report"])
def test_loss_units_are_recorded_and_reapplied(tmp_path, capsys, command):
    """A perplexity column fitted with --loss-units perplexity: the fit file records the
    units in options.rows, and --data converts the column again (without the record the
    runs read as perplexities are not the fit's)."""
    sweep = pd.read_csv(DATA)
    path = tmp_path / "ppl.csv"
    pd.DataFrame({"N": sweep.N, "D": sweep.D, "loss": np.exp(sweep.loss)}).to_csv(
        path, index=False)
    fit = tmp_path / "fit.json"
    assert main(["fit", str(path), "--loss-units", "perplexity", "--out", str(fit)]) == 0
    assert json.loads(fit.read_text())["options"]["rows"] == {"loss_units": "perplexity"}
    capsys.readouterr()
    out = tmp_path / ("r.png" if command == "plot" else "r.html")
    args = ["plot", "residuals"] if command == "plot" else ["report"]
    assert main([*args, str(fit), "--data", str(path), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "--loss-units perplexity" in err and "not the data" not in err
    # typed, the flag wins: read as nats, the perplexities are not the fit's data
    assert main([*args, str(fit), "--data", str(path), "--loss-units", "nats",
                 "--out", str(out)]) == 0
    assert "not the data this fit was made on" in capsys.readouterr().err


def test_exclude_top_loss_on_checkpoints_drops_whole_runs(tmp_path, capsys):
    # rows that are checkpoints (run_id repeats): --exclude-top-loss 2 drops the two runs
    # of largest final loss, every checkpoint of each, not two early checkpoints
    from scalinglaws.laws.synthetic import synthetic_training_curves

    frame = synthetic_training_curves(rng=0).to_frame()
    path = tmp_path / "checkpoints.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "envelope.json"
    assert main(["envelope", str(path), "--exclude-top-loss", "2", "--out", str(out)]) == 0
    capsys.readouterr()
    # each run's final loss (at its most tokens), and the two largest, found here by pandas
    final = frame.sort_values("D", kind="stable").groupby("run_id", sort=False)["loss"].last()
    worst = final.nlargest(2).index
    dropped = frame.index[frame["run_id"].isin(worst)].tolist()
    document = json.loads(out.read_text())
    assert document["n_runs"] == frame["run_id"].nunique() - 2
    fitted = tmp_path / "fit.json"
    assert main(["fit", str(path), "--exclude-top-loss", "2", "--out", str(fitted)]) == 0
    capsys.readouterr()
    assert json.loads(fitted.read_text())["options"]["rows"] == {
        "exclude_top_loss": 2, "excluded_rows": dropped}


def _table(tmp_path, **columns):
    """The sweep under other headers: each keyword a column (a function of the sweep)."""
    sweep = pd.read_csv(DATA)
    path = tmp_path / "table.csv"
    pd.DataFrame({name: make(sweep) for name, make in columns.items()}).to_csv(path,
                                                                               index=False)
    return path


# review s38: the fit's --columns was not recorded, so --data read `params` (1.2 N) as N,
# or `train_loss` as the loss, and said only "not the data this fit was made on"
TABLES = {
    "N": ({"nonembedding_params": lambda s: s.N, "tokens": lambda s: s.D,
           "loss": lambda s: s.loss, "params": lambda s: 1.2 * s.N},
          "N=nonembedding_params", {"N": "nonembedding_params"}),
    "loss": ({"N": lambda s: s.N, "D": lambda s: s.D, "my_loss": lambda s: s.loss,
              "train_loss": lambda s: s.loss - 0.26},
             "loss=my_loss", {"loss": "my_loss"}),
}


@pytest.mark.parametrize("command", ["plot", "report"])
@pytest.mark.parametrize("which", list(TABLES))
def test_the_column_mapping_is_recorded_and_reapplied(tmp_path, capsys, command, which):
    columns, flag, record = TABLES[which]
    path = _table(tmp_path, **columns)
    fit = tmp_path / "fit.json"
    assert main(["fit", str(path), "--columns", flag, "--out", str(fit)]) == 0
    assert json.loads(fit.read_text())["options"]["rows"] == {"columns": record}
    capsys.readouterr()
    out = tmp_path / ("r.png" if command == "plot" else "r.html")
    args = ["plot", "residuals"] if command == "plot" else ["report"]
    assert main([*args, str(fit), "--data", str(path), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"reading the runs as the fit was made: --columns {flag}" in err
    assert "warning" not in err
    # the same mapping typed: the same runs, nothing to say about the columns
    assert main([*args, str(fit), "--data", str(path), "--columns", flag,
                 "--out", str(out)]) == 0
    assert "warning" not in capsys.readouterr().err


def test_a_typed_mapping_wins_and_a_different_one_is_named_beside_the_fits(tmp_path, capsys):
    columns, flag, _ = TABLES["N"]
    path = _table(tmp_path, **columns)
    fit = tmp_path / "fit.json"
    assert main(["fit", str(path), "--columns", flag, "--out", str(fit)]) == 0
    capsys.readouterr()
    assert main(["plot", "residuals", str(fit), "--data", str(path), "--columns", "N=params",
                 "--out", str(tmp_path / "r.png")]) == 0
    err = capsys.readouterr().err
    assert ("these runs read N from column 'params', but the fit was made reading it from "
            "'nonembedding_params' (these runs' column mapping: N=params; the fit's: "
            "N=nonembedding_params)") in err
    assert err.count("these runs read N") == 1
    assert "(108 runs) is not the data this fit was made on" in err  # the typed one was used


def test_a_recorded_column_missing_from_the_data_says_where_the_mapping_came_from(
        tmp_path, capsys):
    columns, flag, _ = TABLES["N"]
    path = _table(tmp_path, **columns)
    fit = tmp_path / "fit.json"
    assert main(["fit", str(path), "--columns", flag, "--out", str(fit)]) == 0
    capsys.readouterr()
    other = _table(tmp_path, N=lambda s: s.N, D=lambda s: s.D, loss=lambda s: s.loss)
    assert main(["plot", "residuals", str(fit), "--data", str(other),
                 "--out", str(tmp_path / "r.png")]) == 2
    err = capsys.readouterr().err
    assert "no such column" in err and "the column mapping the fit records" in err
    assert "type --columns" in err


@pytest.mark.parametrize("command", ["plot", "report"])
def test_the_help_says_a_fits_data_is_read_with_its_recorded_options(capsys, command):
    assert main([command, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "what the fit records, else warn" in text  # --duplicates
    assert "warn and keep them (default)" not in text
    assert "default: the mapping the fit records" in text  # --columns
