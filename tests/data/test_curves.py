"""Loading training curves: tables, W&B exports, TensorBoard and MLflow logs written here,
and the explicit policies for what logs get wrong."""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
import pandas as pd
import pytest

from scalinglaws import InputError, ScalingLawsWarning, UnitsWarning
from scalinglaws.data.curves import load_curves
from scalinglaws.laws.schedules import Schedule


def _table(**extra):
    return {"run_id": ["a"] * 4 + ["b"] * 3, "step": [0, 10, 20, 30, 0, 10, 20],
            "loss": [4.0, 3.5, 3.3, 3.2, 4.1, 3.6, 3.4],
            "lr": [0.0, 1e-4, 1e-4, 1e-4, 0.0, 2e-4, 2e-4], **extra}


def test_long_table_in_every_file_format(tmp_path):
    frame = pd.DataFrame(_table(N=["70M"] * 4 + ["1.4B"] * 3))
    paths = [tmp_path / "c.csv", tmp_path / "c.jsonl", tmp_path / "c.parquet"]
    frame.to_csv(paths[0], index=False)
    frame.to_json(paths[1], orient="records", lines=True)
    frame.assign(N=[7e7] * 4 + [1.4e9] * 3).to_parquet(paths[2])
    for path in paths:
        curves = load_curves(path)
        assert curves.runs == ("a", "b") and len(curves) == 7
        assert curves.run_value("b", "N") == 1.4e9
        np.testing.assert_array_equal(curves.steps("a"), [0, 10, 20, 30])
        assert curves.frame["step"].dtype == np.int64
    with pytest.raises(ValueError):  # read-only view
        curves.frame["loss"].to_numpy()[0] = 1.0


def test_wandb_history_export_keeps_lr_of_rows_without_loss(tmp_path):
    path = tmp_path / "myrun.csv"
    pd.DataFrame({"_step": [0, 1, 2, 3, 4], "_runtime": [1, 2, 3, 4, 5],
                  "_timestamp": [9, 9, 9, 9, 9], "train/loss": [4.0, None, 3.5, None, 3.1],
                  "lr": [1e-4, 2e-4, 3e-4, 3e-4, 3e-4]}).to_csv(path, index=False)
    curves = load_curves(path)  # nan_policy auto: W&B logs metrics at their own steps
    assert curves.runs == ("myrun",) and len(curves) == 3 and curves.n_dropped == 2
    np.testing.assert_array_equal(curves.lr_array("myrun"), [1e-4, 2e-4, 3e-4, 3e-4, 3e-4])
    with pytest.raises(InputError, match=r"row 1 \(line 3\): no loss value"):
        load_curves(path, nan_policy="raise")


def test_wandb_panel_export_is_read_as_long(tmp_path):
    path = tmp_path / "panel.csv"
    pd.DataFrame({"Step": [0, 10, 20], "r1 - train/loss": [4, 3.5, 3.2],
                  "r1 - train/loss__MIN": [4, 3.5, 3.2], "r2 - train/loss": [4.1, 3.6, 3.3],
                  "r2 - train/loss__MAX": [4.1, 3.6, 3.3]}).to_csv(path, index=False)
    curves = load_curves(path)
    assert curves.runs == ("r1", "r2")
    np.testing.assert_array_equal(curves.loss("r2"), [4.1, 3.6, 3.3])


def _panel(path, n=4, **columns):
    """A W&B web panel export: one Step column, run 'a' logging a loss at every step."""
    loss = [4.0 - 0.1 * i for i in range(n)]
    pd.DataFrame({"Step": range(0, 10 * n, 10), "a - train/loss": loss,
                  "a - train/loss__MIN": loss, **columns}).to_csv(path, index=False)
    return path


def test_wandb_panel_messages_name_the_file_line_and_column(tmp_path):
    path = _panel(tmp_path / "panel.csv", **{"b - train/loss": [4.1, 3.6, "abc", 3.1]})
    with pytest.raises(InputError, match=r"row 2 \(line 4\), column 'b - train/loss' \(loss\): "
                                         r"value 'abc'"):
        load_curves(path)
    path = _panel(tmp_path / "high.csv", **{"b - train/loss": [19.6, 3.6, 3.3, 3.1]})
    with pytest.warns(UnitsWarning, match=r"at row 0 \(line 2\), column 'b - train/loss'\)"):
        curves = load_curves(path)
    assert curves.row_numbers == (0, 1, 2, 3, 0, 1, 2, 3)  # the file's rows


def test_wandb_panel_run_without_the_loss_metric_is_left_out_with_a_warning(tmp_path):
    # run b logged only its LR: it was left out without a word
    path = _panel(tmp_path / "panel.csv", **{"b - lr": [1e-4] * 4,
                                             "c - train/loss": [4.1, 3.6, 3.3, 3.1]})
    with pytest.warns(ScalingLawsWarning, match=r"panel.csv: 1 run of the W&B export has no "
                                                r"column for the loss metric 'train/loss' and "
                                                r"is left out: 'b' \(columns 'b - lr'\)"):
        curves = load_curves(path)
    assert curves.runs == ("a", "c")


def test_wandb_panel_perplexity_error_names_the_files_column(tmp_path):
    path = _panel(tmp_path / "panel.csv", **{"b - train/loss": [41.0, 36.0, 0.5, 31.0]})
    with pytest.raises(InputError, match=r"row 2 \(line 4\), column 'b - train/loss' \(loss\): "
                                         r"perplexity 0.5 is not above 1"):
        load_curves(path, loss_units="perplexity")


def test_wandb_panel_shorter_run_ends_without_a_divergence_warning(tmp_path):
    b = [4.1, 3.6, 3.4] + [None] * 7  # run b stops at step 20; the export goes on to 90
    path = _panel(tmp_path / "panel.csv", n=10, **{"b - train/loss": b, "b - train/loss__MAX": b})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        curves = load_curves(path)
    np.testing.assert_array_equal(curves.steps("b"), [0, 10, 20])
    assert curves.n_dropped == 0
    # a real row after its last loss (an LR logged, no loss) still says so
    path = _panel(tmp_path / "lr.csv", n=10, **{"b - train/loss": b, "b - lr": [1e-4] * 10})
    with pytest.warns(ScalingLawsWarning, match=r"run 'b' logs no loss after step 20 but goes "
                                                r"on to step 90"):
        load_curves(path)


@pytest.mark.parametrize("name", ["lr", "learning_rate", "train/learning_rate"])
def test_wandb_panel_lr_column_is_the_runs_lr(tmp_path, name):
    path = _panel(tmp_path / "panel.csv", **{f"a - {name}": [1e-4, 2e-4, 3e-4, 3e-4],
                                             "b - train/loss": [4.1, 3.6, 3.3, 3.1],
                                             f"b - {name}": [2e-4, 2e-4, 2e-4, 2e-4],
                                             "b - grad_norm": [1.0, 0.9, 0.8, 0.7]})
    curves = load_curves(path, lr_policy="interpolate")
    np.testing.assert_allclose(curves.frame["lr"], [1e-4, 2e-4, 3e-4, 3e-4] + [2e-4] * 4)
    assert curves.lr_array("a")[[0, 10, 15, 20]].tolist() == pytest.approx(
        [1e-4, 2e-4, 2.5e-4, 3e-4])
    # a metric neither used nor recognised is kept under its own name, and said once
    assert curves.frame["grad_norm"].tolist()[4:] == [1.0, 0.9, 0.8, 0.7]
    assert [n for n in curves.notes if "'grad_norm'" in n and "not used" in n]
    with pytest.raises(InputError, match="no metric 'lr_typo'"):
        load_curves(path, lr="lr_typo")


def _write_tensorboard(folder):
    writer_module = pytest.importorskip("tensorboard.summary.writer.event_file_writer")
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary

    for run, start in (("small", 4.0), ("large", 3.8)):
        writer = writer_module.EventFileWriter(str(folder / run))
        for step in range(60):
            values = [Summary.Value(tag="lr", simple_value=3e-4 * min(1.0, (step + 1) / 10))]
            if step % 10 == 9:
                values.append(Summary.Value(tag="val/loss", simple_value=start - 0.01 * step))
            writer.add_event(Event(wall_time=time.time(), step=step,
                                   summary=Summary(value=values)))
        writer.close()


def test_tensorboard_event_directory(tmp_path):
    _write_tensorboard(tmp_path / "tb")
    curves = load_curves(tmp_path / "tb")
    assert set(curves.runs) == {"small", "large"}
    np.testing.assert_allclose(curves.loss("small"), 4.0 - 0.01 * np.arange(9, 60, 10),
                               rtol=1e-6)
    lr = curves.lr_array("large")  # logged at every step, so the LR array is exact
    assert len(lr) == 60
    np.testing.assert_allclose(lr, 3e-4 * np.minimum(1.0, (np.arange(60) + 1) / 10), rtol=1e-6)
    with pytest.raises(InputError, match="no loss named 'eval/loss'"):
        load_curves(tmp_path / "tb", metric="eval/loss")


def _write_mlflow(folder):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow 3 refuses new file stores
    try:
        client = MlflowClient(tracking_uri="file:" + str(folder))
        experiment = client.create_experiment("sweep")
        for name, size in (("m1", "25M"), ("m2", "100M")):
            run = client.create_run(experiment, run_name=name).info.run_id
            for step in range(40):
                client.log_metric(run, "lr", 1e-4, step=step)
            for step in range(0, 40, 5):
                client.log_metric(run, "val_loss", 4.0 - 0.01 * step, step=step)
            client.log_param(run, "n_params", size)
            client.set_terminated(run)
    finally:
        del os.environ["MLFLOW_ALLOW_FILE_STORE"]


def test_mlflow_file_store(tmp_path):
    _write_mlflow(tmp_path / "mlruns")
    curves = load_curves(tmp_path / "mlruns")
    assert set(curves.runs) == {"m1", "m2"}
    assert curves.run_value("m2", "N") == 1e8
    np.testing.assert_allclose(curves.loss("m1"), 4.0 - 0.01 * np.arange(0, 40, 5))
    assert len(curves.lr_array("m1")) == 36
    assert "MLFLOW_ALLOW_FILE_STORE" not in os.environ  # the reader restores the environment


@pytest.mark.parametrize("table, kwargs, message", [
    (_table(loss=[4.0, "abc", 3.3, 3.2, 4.1, 3.6, 3.4]), {},
     r"row 1, column 'loss' \(loss\): value 'abc' is not a finite number > 0"),
    (_table(step=[0, 10, -20, 30, 0, 10, 20]), {}, r"row 2, column 'step'"),
    (_table(step=[0, 10.5, 20, 30, 0, 10, 20]), {}, "not a whole number >= 0"),
    (_table(loss=[4.0, 0.0, 3.3, 3.2, 4.1, 3.6, 3.4]), {}, "not a finite number > 0"),
    (_table(loss=[4.0, np.nan, 3.3, 3.2, 4.1, 3.6, 3.4]), {}, r"row 1: no loss value"),
    (_table(step=[0, 10, 10, 30, 0, 10, 20]), {}, "logs step 10 more than once"),
    (_table(step=[0, 20, 10, 30, 0, 10, 20]), {}, "comes after step 20"),
    ({"step": [0, 1], "val_loss": [3, 2], "train_loss": [3, 2]}, {}, "all look like loss"),
    ({"step": [0, 1], "perplexity": [3, 2]}, {}, "no loss column"),
    (_table(), {"columns": {"loss": "nll"}}, "not a column"),
    (_table(), {"N": -1}, "`N` must be a finite positive"),
    (_table(N=[1, 1, 2, 2, 5, 5, 5]), {}, "several values of N"),
    (_table(), {"duplicates": "newest"}, "`duplicates` must be one of"),
])
def test_bad_curves_raise_naming_row_and_column(table, kwargs, message):
    with pytest.raises(InputError, match=message):
        load_curves(table, **kwargs)


def test_table_checks_are_the_loaders_of_runs_and_tasks():
    """What a loader is given and the table's shape are checked as load_runs and load_tasks
    check them (readers.read_data, readers.checked_frame); the curves' own inputs (a
    list of paths, a log folder) keep their own words."""
    twice = pd.DataFrame([[0, 4.0, 3.9]], columns=["step", "loss", "loss"])
    with pytest.raises(InputError, match=r"<DataFrame>: column 'loss' appears twice; rename"):
        load_curves(twice)
    with pytest.raises(InputError, match=r"<dict>: no points \(the table is empty\)"):
        load_curves({"step": [], "loss": []})
    with pytest.raises(InputError, match="a path, a list of paths, a DataFrame or a dict of "):
        load_curves(42)
    with pytest.raises(InputError, match="`format`='csv' applies only when data is a path"):
        load_curves(_table(), format="csv")
    curves = load_curves(pd.DataFrame(_table(), index=range(10, 17)))
    assert curves.frame.index.tolist() == list(range(7))  # a fresh index


def test_csv_messages_name_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("run_id,step,loss\na,0,4.0\na,10,x\n")
    with pytest.raises(InputError, match=r"bad\.csv: row 1 \(line 3\), column 'loss'"):
        load_curves(path)


def test_policies_for_repeats_restarts_missing_values_and_spikes():
    restarted = _table(step=[0, 10, 20, 10, 0, 10, 20], loss=[4.0, 3.5, 3.3, 3.45, 4.1, 3.6, 3.4])
    curves = load_curves(restarted, unsorted="sort", duplicates="last")
    np.testing.assert_array_equal(curves.loss("a"), [4.0, 3.45, 3.3])  # the restart wins
    assert load_curves(restarted, unsorted="sort", duplicates="first").loss("a")[1] == 3.5
    assert load_curves(restarted, unsorted="sort", duplicates="mean").loss("a")[1] == 3.475
    missing = load_curves(_table(loss=[4.0, np.nan, 3.3, 3.2, 4.1, 3.6, 3.4]), nan_policy="omit")
    assert len(missing) == 6 and missing.n_dropped == 1
    spiky = {"step": np.arange(9), "loss": [4, 3.8, 3.7, 3.6, 5.5, 3.5, 3.45, 3.4, 3.38]}
    with pytest.warns(ScalingLawsWarning, match="1 loss spikes kept"):
        load_curves(spiky)
    assert len(load_curves(spiky, spikes="omit")) == 8
    with pytest.raises(InputError, match="1 loss spikes"):
        load_curves(spiky, spikes="raise")
    falling = {"step": np.arange(6), "loss": [9.0, 6.0, 4.5, 4.0, 3.8, 3.7]}
    assert len(load_curves(falling, spikes="raise")) == 6  # a falling start is no spike
    last = {"run_id": ["a"] * 6 + ["b"] * 3, "step": [*range(6), *range(3)],
            "loss": [4.0, 3.8, 3.7, 3.6, 3.5, 9.0, 4.1, 3.9, 3.8]}
    with pytest.raises(InputError, match=r"1 loss spikes .* the first at run 'a' step 5, row 5"):
        load_curves(last, spikes="raise")  # the last point, against its left side only
    assert load_curves(last, spikes="omit").loss("a")[-1] == 3.5
    assert len(load_curves(dict(last, loss=last["loss"][:5] + [4.1] + last["loss"][6:]),
                           spikes="raise")) == 9  # 4.1 is within 20% of median(3.7, 3.6, 3.5)


def _spikes_one_point_at_a_time(loss, runs, threshold):
    """The rule as the docstring states it, point by point, with np.median (the reference
    for the vectorised version)."""
    flagged = np.zeros(len(loss), bool)
    for run in dict.fromkeys(runs):
        rows = np.flatnonzero(np.asarray(runs) == run)
        values = np.asarray(loss)[rows]
        for i in range(1, len(values)):  # the first point of a run is not judged
            sides = [values[max(0, i - 3):i], values[i + 1:i + 4]]
            reference = max(np.median(side) for side in sides if len(side))
            flagged[rows[i]] = values[i] > (1 + threshold) * reference
    return flagged


def test_vectorised_spike_rule_is_the_point_by_point_rule():
    from scalinglaws.data.curve_policies import spike_flags

    rng = np.random.default_rng(12)
    flagged = last_flagged = judged = 0
    for _ in range(40):
        sizes = rng.integers(1, 9, size=rng.integers(1, 5))
        runs = np.repeat([f"r{i}" for i in range(len(sizes))], sizes)
        loss = 4.0 * np.exp(rng.normal(0, 0.12, runs.size))  # spikes of 20% are common
        expected = _spikes_one_point_at_a_time(loss, runs, 0.2)
        got = spike_flags(loss, pd.factorize(runs)[0], 0.2)
        np.testing.assert_array_equal(got, expected)
        ends = np.cumsum(sizes) - 1
        flagged, last_flagged = flagged + expected.sum(), last_flagged + expected[ends].sum()
        judged += runs.size - len(sizes)
    assert 0 < flagged < judged and last_flagged > 0  # the comparison saw both outcomes
    many = {"step": np.arange(200_000), "loss": 4.0 - 1e-6 * np.arange(200_000)}
    many["loss"][[0, 100_000, 199_999]] *= [3.0, 1.5, 1.5]
    with pytest.raises(InputError, match="2 loss spikes .* first at run 'run' step 100000"):
        load_curves(many, spikes="raise")


def test_frame_is_a_copy_and_messages_show_plain_numbers():
    curves = load_curves(_table())
    fingerprint = curves.fingerprint()
    frame = curves.frame
    frame["loss"] = 1.0
    frame.loc[0, "step"] = 99
    assert curves.frame["loss"].tolist() == [4.0, 3.5, 3.3, 3.2, 4.1, 3.6, 3.4]
    assert curves.steps("a")[0] == 0 and curves.fingerprint() == fingerprint
    with pytest.raises(InputError, match=r"row 2, column 'loss' \(loss\): value inf is not a "
                                         r"finite number > 0$"):
        load_curves(pd.DataFrame(_table(loss=[4.0, 3.5, np.inf, 3.2, 4.1, 3.6, 3.4])))
    with pytest.raises(InputError, match=r"value -20 is not a whole number >= 0"):
        load_curves(pd.DataFrame(_table(step=[0, 10, -20, 30, 0, 10, 20])))


def test_steps_going_back_are_seen_within_a_run_when_runs_interleave():
    interleaved = {"run_id": ["a", "b", "a", "b", "a"], "step": [0, 0, 10, 10, 5],
                   "loss": [4.0, 4.1, 3.5, 3.6, 3.7]}
    with pytest.raises(InputError, match=r"row 4: step 5 of run 'a' comes after step 10"):
        load_curves(interleaved)
    assert load_curves(interleaved, unsorted="sort").steps("a").tolist() == [0, 5, 10]


def test_lr_arrays_from_logs_schedules_and_interpolation():
    curves = load_curves(_table())
    with pytest.raises(InputError, match="logs the LR at 4 of its 31 steps"):
        curves.lr_array("a")
    interpolated = load_curves(_table(), lr_policy="interpolate").lr_array("a")
    assert len(interpolated) == 31 and interpolated[5] == pytest.approx(5e-5)
    schedule = Schedule.constant(40, 1e-4, warmup_steps=2)
    attached = curves.with_schedules({"a": schedule})
    assert len(attached.lr_array("a")) == 40
    with pytest.raises(InputError, match="gives LR 0.0001 at step 0 but the run logged 0 there; 1 disag"):
        curves.with_schedules({"a": Schedule.constant(40, 1e-4)})
    # off by 5e-6 (relative): the two numbers are printed with the digits that differ
    # (at 6 digits both read 0.0001, as the old message printed them)
    close = Schedule.constant(40, 1e-4 * (1 + 5e-6), warmup_steps=2)
    with pytest.raises(InputError, match=r"gives LR 0.0001000005 at step 10 but the run logged "
                                         r"0.0001 there \(relative difference 5e-06, more than "
                                         r"rtol=1e-06\); 3 disagreements"):
        curves.with_schedules({"a": close})
    with pytest.raises(InputError, match="has 20 steps but the run logs step 30"):
        curves.with_schedules({"a": Schedule.constant(20, 1e-4, warmup_steps=1)})
    with pytest.raises(InputError, match="no learning rates"):
        load_curves({"step": [1, 2], "loss": [3.0, 2.9]}, run="x").lr_array("x")
    logged = load_curves(_table(step=[0, 1, 2, 3, 0, 1, 2]))
    frozen = [interpolated, attached.lr_array("a"), attached.schedules["a"],
              logged.lr_array("a"), *logged.lr_log["a"]]
    assert not any(array.flags.writeable for array in frozen)  # read-only, all of them
    assert logged.lr_log["a"][0].dtype == np.int64


def test_selection_truncation_tokens_and_fingerprint():
    curves = load_curves(_table(), tokens_per_step=1000.0, N=1e8)
    assert curves.frame["tokens"].tolist()[:2] == [0.0, 10_000.0]
    half = curves.truncate(0.5)
    assert half.steps("a").tolist() == [0, 10] and half.steps("b").tolist() == [0, 10]
    assert curves.select(["b"]).runs == ("b",)
    assert curves.fingerprint() == load_curves(_table(), tokens_per_step=1000.0,
                                               N=1e8).fingerprint()
    assert curves.fingerprint() != half.fingerprint()
    with pytest.raises(InputError, match="no run 'c'"):
        curves.select(["c"])


def test_curves_pickle_with_their_mappings_read_only():
    """Schedules and the LR log are FrozenDicts (a MappingProxyType cannot be pickled)."""
    import pickle

    curves = load_curves(_table()).with_schedules(
        {"a": Schedule.constant(40, 1e-4, warmup_steps=2)})
    twin = pickle.loads(pickle.dumps(curves))
    assert twin.fingerprint() == curves.fingerprint() and twin.runs == curves.runs
    np.testing.assert_array_equal(twin.lr_array("a"), curves.lr_array("a"))
    np.testing.assert_array_equal(twin.lr_log["b"][1], curves.lr_log["b"][1])
    for mapping in (twin.schedules, twin.lr_log):
        with pytest.raises(TypeError):
            mapping["c"] = None


def test_several_files_are_one_run_each(tmp_path):
    for name, loss in (("r1", [4.0, 3.0]), ("r2", [4.2, 3.1])):
        pd.DataFrame({"step": [1, 2], "loss": loss}).to_csv(tmp_path / f"{name}.csv", index=False)
    curves = load_curves([tmp_path / "r1.csv", tmp_path / "r2.csv"])
    assert curves.runs == ("r1", "r2")


def test_unrecognised_run_column_is_named_and_never_merged_by_sorting(tmp_path):
    # a W&B export whose run column is called `experiment`: three runs, steps 0..4 each
    path = tmp_path / "w7.csv"
    pd.DataFrame({"experiment": np.repeat(["const", "cos", "wsd"], 5),
                  "_step": np.tile(np.arange(5), 3),
                  "train/loss": np.r_[np.linspace(4, 3, 5), np.linspace(4.1, 3.1, 5),
                                      np.linspace(4.2, 3.2, 5)],
                  "date": [f"2024-01-{d:02d}" for d in range(1, 16)]}).to_csv(path, index=False)
    hint = (r"column 'experiment' changes value where the steps restart, as a run column does: "
            r"say so with columns=\{'run_id': 'experiment'\} \(on the command line --columns "
            r"run_id=experiment\)")
    with pytest.raises(InputError, match=r"row 5 \(line 7\): step 0 comes after step 4, yet no "
                                         r"run column was recognised.*" + hint):
        load_curves(path)
    for duplicates in ("first", "last", "mean"):  # what the old message led to: one curve
        with pytest.raises(InputError, match=hint):
            load_curves(path, unsorted="sort", duplicates=duplicates)
    curves = load_curves(path, columns={"run_id": "experiment"})
    assert curves.runs == ("const", "cos", "wsd") and len(curves) == 15
    merged = load_curves(path, run="one", unsorted="sort", duplicates="mean")  # said so
    assert merged.runs == ("one",) and len(merged) == 5
    with pytest.raises(InputError, match=r"no run column was found \(columns: step, loss\), so "
                                         r"the file was read as one run: if it holds several, "
                                         r"say which column names them with columns="
                                         r"\{'run_id': <column>\}.*otherwise, set unsorted"):
        load_curves({"step": [0, 1, 2, 0, 1], "loss": [4.0, 3.5, 3.2, 4.1, 3.6]})


def test_loss_in_perplexity_or_bits_is_announced_or_converted(shared_dir, tmp_path):
    import warnings

    from scalinglaws import UnitsWarning

    nats = np.array([10.9, 6.2, 4.1, 3.6, 3.3, 3.2])  # a curve from initialisation
    table = {"run_id": ["a"] * 6, "step": np.arange(0, 60, 10), "lr": 1e-4}
    # a perplexity: e^10.9 = 54,176 at step 0, read as 54,176 nats without a word before
    with pytest.warns(UnitsWarning, match=r"column 'loss' \(loss\) exceeds 14.45 nats per "
                                          r"token in 6 of 6 rows .*set loss_units to "
                                          r"'perplexity'"):
        load_curves(dict(table, loss=np.exp(nats)))
    converted = load_curves(dict(table, loss=np.exp(nats)), loss_units="perplexity")
    np.testing.assert_allclose(converted.loss("a"), nats, rtol=1e-12)
    bits = load_curves(dict(table, loss=nats / np.log(2)), loss_units="bits")
    np.testing.assert_allclose(bits.loss("a"), nats, rtol=1e-12)
    path = tmp_path / "ppl.csv"  # named like a perplexity, as a W&B export logs it
    pd.DataFrame(dict(table, **{"train/ppl": np.exp(nats)})).to_csv(path, index=False)
    with pytest.warns(UnitsWarning, match=r"column 'train/ppl' \(loss\) is named like a "
                                          r"perplexity"):
        load_curves(path, metric="train/ppl")
    with pytest.raises(InputError, match=r"<dict>: row 0, column 'train/ppl' \(loss\): "
                                         r"perplexity 0.5 is not above 1"):
        load_curves(dict(table, **{"train/ppl": np.r_[0.5, np.exp(nats[1:])]}),
                    metric="train/ppl", loss_units="perplexity")
    with pytest.raises(InputError, match="`loss_units` must be one of"):
        load_curves(dict(table, loss=nats), loss_units="ppl")
    # quiet on real curves in nats: Luo et al.'s 27 curves and the synthetic ones
    from scalinglaws.laws.curve_synthetic import synthetic_curves

    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitsWarning)
        folder = shared_dir / "datasets" / "lr_schedule_curves"
        assert len(load_curves(folder / "mpl_luo2025_curves.csv").runs) == 27
        for law in ("mpl", "momentum"):
            curves, _ = synthetic_curves(law, rng=0)
            load_curves(curves.frame)
    assert len(load_curves(dict(table, loss=nats))) == 6


def test_tokens_read_as_steps_are_refused_before_any_array_is_sized_by_them(tmp_path):
    from scalinglaws.data.curves import MAX_STEPS

    per_step = 262_144  # a batch of 128 sequences of 2048 tokens
    steps = np.array([0, 100, 8000, 15998])
    path = tmp_path / "tokens.csv"
    pd.DataFrame({"run_id": "a", "tokens": steps * per_step, "loss": [11.0, 6.0, 3.3, 3.1],
                  "lr": [0.0, 3e-4, 3e-4, 3e-4]}).to_csv(path, index=False)
    # what the "no step column" message used to suggest: the tokens as steps, up to 4.2e9,
    # whose LR array (np.interp over every step) asked for 31 GiB; now refused on loading
    with pytest.raises(InputError, match=r"row 3 \(line 5\), column 'tokens' \(step\): step "
                                         r"4,193,779,712 is beyond 10,000,000.*is it a count of "
                                         r"tokens\? Map it as tokens.*`tokens_per_step`"):
        load_curves(path, columns={"step": "tokens"}, lr_policy="interpolate")
    with pytest.raises(InputError, match=r"no step column, but tokens in column 'tokens': .*"
                                         r"`tokens_per_step` to derive step = tokens / "
                                         r"tokens_per_step"):
        load_curves(path)
    curves = load_curves(path, tokens_per_step=per_step, lr_policy="interpolate")
    np.testing.assert_array_equal(curves.steps("a"), steps)
    np.testing.assert_array_equal(curves.frame["tokens"], steps * per_step)
    assert len(curves.lr_array("a")) == 15999
    with pytest.raises(InputError, match=r"row 1 \(line 3\), column 'tokens' \(tokens\): "
                                         r"26214400 tokens are 99.9996 steps of "
                                         r"tokens_per_step=262145, not a whole number"):
        load_curves(path, tokens_per_step=per_step + 1)
    assert len(load_curves({"step": [0, MAX_STEPS], "loss": [4.0, 3.0]})) == 2  # the bound
    with pytest.raises(InputError, match="`total_steps` is 4,193,779,712, beyond 10,000,000"):
        Schedule.constant(int(steps[-1] * per_step), 3e-4)


def test_rows_of_other_metrics_a_diverged_run_and_steps_counted_from_one(tmp_path):
    # a W&B history: the LR at every step, the loss every 10; run b's loss is NaN from
    # step 60 on (it diverged) while its rows go on to step 99
    steps = np.arange(100)
    loss = np.where(steps % 10 == 0, 4.0 - 0.005 * steps, np.nan)
    frame = pd.DataFrame({"run_name": np.repeat(["a", "b"], 100), "_step": np.tile(steps, 2),
                          "lr": 1e-3, "train/loss": np.r_[loss, np.where(steps < 60, loss,
                                                                         np.nan)]})
    path = tmp_path / "diverged.csv"
    frame.to_csv(path, index=False)
    with pytest.warns(ScalingLawsWarning, match=r"run 'b' logs no loss after step 50 but goes "
                                                r"on to step 99 \(5 of its loss intervals\): "
                                                r"did it diverge"):
        curves = load_curves(path)
    # rows of the LR alone: a's 90, b's 45 before its last loss; b's 49 after it dropped
    assert (curves.n_lr_only, curves.n_dropped) == (135, 184)
    assert "135 rows of other metrics; 49 rows dropped" in repr(curves)
    assert "135 of other metrics (their LR is kept), 49 after the last loss of a run that " \
        "diverged" in curves.notes[0]
    healthy = load_curves(frame[frame["run_name"] == "a"])  # quiet: no tail
    assert healthy.n_lr_only == healthy.n_dropped == 90 and "dropped" not in repr(healthy)
    # steps counted from 1 (HF Trainer's global_step): the message says what to do
    ones = frame[frame["run_name"] == "a"].assign(_step=steps + 1)
    with pytest.raises(InputError, match=r"its steps count from 1 \(HF Trainer, Megatron\), a "
                                         r"curve law's from 0: subtract 1 from column '_step'"):
        load_curves(ones, lr_policy="interpolate").lr_array("a")
    shifted = load_curves(ones.assign(_step=ones["_step"] - 1))
    assert len(shifted.lr_array("a")) == 91  # to its last loss, step 90


def test_n_given_as_text_is_read_as_the_command_line_reads_it():
    frame = pd.DataFrame({"run_id": ["a"] * 3 + ["b"] * 3, "step": [1, 2, 3] * 2,
                          "loss": [4.0, 3.9, 3.8] * 2, "lr": [1e-3] * 6})
    assert set(load_curves(frame, N="100M").frame["N"]) == {1e8}
    assert load_curves(frame, N={"a": "1.4B", "b": 7e7}).frame.groupby("run_id")["N"] \
        .first().to_dict() == {"a": 1.4e9, "b": 7e7}
    with pytest.raises(InputError, match="`N` must be a finite positive number, got 'big'"):
        load_curves(frame, N="big")


def test_an_empty_lr_cell_is_a_step_whose_lr_was_not_logged(tmp_path):
    # the loaders read an empty (NaN) LR cell as "not logged at this step", as W&B rows of
    # other metrics are: the log's own LR array then refuses the gap (lr_policy exact), and
    # a schedule fills it, checked against the steps that did log an LR
    path = tmp_path / "gap.csv"
    pd.DataFrame(_table(lr=[0.0, np.nan, 1e-4, 1e-4, 0.0, 2e-4, 2e-4])).to_csv(path, index=False)
    assert "a,10,3.5,\n" in path.read_text()  # the cell is empty in the file
    curves = load_curves(path)
    assert curves.lr_log["a"][0].tolist() == [0, 20, 30]
    with pytest.raises(InputError, match="logs the LR at 3 of its 31 steps"):
        curves.lr_array("a")
    attached = curves.with_schedules({"a": Schedule.constant(40, 1e-4, warmup_steps=2)})
    assert attached.lr_array("a")[10] == 1e-4
    with pytest.raises(InputError, match="gives LR 0.0002 at step 20 but the run logged 0.0001"):
        curves.with_schedules({"a": Schedule.constant(40, 2e-4, warmup_steps=2)})


def test_a_log_without_step_0_is_not_told_to_interpolate():
    """Review s35: Luo et al.'s curves (logged from step 2,176, after the warmup) were told
    to load with --lr-policy interpolate, which then failed: "interpolation needs the LR of
    step 0". The advice is now the schedule, keyed by the column that names it."""
    # two runs of one kind of schedule, each its own file (as Luo et al.'s columns)
    late = {"run_id": ["a"] * 3 + ["b"] * 3, "step": [20, 30, 40] * 2,
            "loss": [3.5, 3.3, 3.2, 3.6, 3.4, 3.3], "lr": [1e-4] * 6,
            "schedule": ["cosine"] * 6, "schedule_file": ["cos_40.csv"] * 3 + ["cos_80.csv"] * 3}
    for policy in ("exact", "interpolate"):
        with pytest.raises(InputError) as caught:
            load_curves(late, lr_policy=policy).lr_array("a")
        assert str(caught.value) == (
            "run 'a' logs the LR at 3 of its 41 steps 0 … 40; a curve law needs the LR of "
            "every step: give its schedule with curves.with_schedules({run: schedule}) (or "
            "--schedules TABLE --schedule-key schedule_file, the column naming each run's "
            "schedule in both tables); interpolating (lr_policy='interpolate') needs the LR "
            "of step 0, and its first logged LR is at step 20")
    # a log from step 0 with gaps is still offered the interpolation
    with pytest.raises(InputError, match=r"\(or --schedules TABLE --schedule-key COLUMN\), or "
                                         r"load with lr_policy='interpolate'$"):
        load_curves(_table()).lr_array("a")
