"""TensorBoard and MLflow logs written here, read point by point in the order logged: a run
resumed from a checkpoint (steps 0..5, then 3..6 again) meets load_curves' duplicates= and
unsorted= policies as a table does, and messages name the run and the step."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from scalinglaws import InputError
from scalinglaws.data.curves import load_curves

# A run logs steps 0..5, crashes, and is resumed from the checkpoint of step 3: it logs
# 3..6 again, with other losses and (to see that the LR is paired with its own pass)
# another LR. TensorBoard shows the resumed values; so does keep-last.
FIRST_PASS = {"steps": [0, 1, 2, 3, 4, 5], "loss": [4.0, 3.9, 3.8, 3.7, 3.6, 3.5],
              "lr": [1e-3, 2e-3, 3e-3, 4e-3, 5e-3, 6e-3]}
RESUMED = {"steps": [3, 4, 5, 6], "loss": [3.75, 3.65, 3.55, 3.45],
           "lr": [4.5e-3, 5.5e-3, 6.5e-3, 7e-3]}
LAST = {"loss": [4.0, 3.9, 3.8, 3.75, 3.65, 3.55, 3.45],
        "lr": [1e-3, 2e-3, 3e-3, 4.5e-3, 5.5e-3, 6.5e-3, 7e-3]}
FIRST = {"loss": [4.0, 3.9, 3.8, 3.7, 3.6, 3.5, 3.45],
         "lr": [1e-3, 2e-3, 3e-3, 4e-3, 5e-3, 6e-3, 7e-3]}


def _tensorboard():
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    return Event, Summary, EventFileWriter


def _write_events(folder, passes, *, separate_events=False, tensors=False):
    """One event file per pass (a resumed job opens a new file) or, with one pass list
    of two, both in one file; loss and LR in one event or (as torch's add_scalar does)
    one event each; values as simple_value or as TF2's tensor scalars."""
    Event, Summary, EventFileWriter = _tensorboard()
    from tensorboard.plugins.scalar.metadata import create_summary_metadata
    from tensorboard.util.tensor_util import make_tensor_proto

    first_of_tag = set()

    def value(tag, number):
        if not tensors:
            return Summary.Value(tag=tag, simple_value=number)
        metadata = None if tag in first_of_tag else create_summary_metadata("", "")
        first_of_tag.add(tag)  # TF2 writes the plugin metadata with a tag's first value only
        return Summary.Value(tag=tag, tensor=make_tensor_proto(np.float32(number)),
                             metadata=metadata)

    for group in passes:
        writer = EventFileWriter(str(folder))
        for logged in group:
            for step, loss, lr in zip(logged["steps"], logged["loss"], logged["lr"]):
                values = [value("lr", lr), value("train/loss", loss)]
                events = [[v] for v in values] if separate_events else [values]
                for part in events:
                    writer.add_event(Event(wall_time=time.time(), step=step,
                                           summary=Summary(value=part)))
        writer.close()
        if len(passes) > 1:
            time.sleep(1.05)  # the next file's name (its start time in seconds) sorts after


def _restart_meets_the_policies(logs, source, rtol):
    """The resumed run of a log folder: each order/duplicate policy raises naming the run
    and step, or keeps the pass it says, losses and LRs alike. Returns the curves read
    with ``duplicates`` last and first."""
    with pytest.raises(InputError, match=rf"{source}: step 3 of run 'resumed' comes after "
                                         r"step 5 \(a restarted run\?\)"):
        load_curves(logs, duplicates="raise", unsorted="raise")
    with pytest.raises(InputError, match=rf"{source}: run 'resumed' logs step 3 more than once"):
        load_curves(logs, duplicates="raise", unsorted="sort")
    read = {}
    for policy, expected in (("last", LAST), ("first", FIRST)):
        curves = read[policy] = load_curves(logs, duplicates=policy, unsorted="sort")
        np.testing.assert_array_equal(curves.steps("resumed"), np.arange(7))
        np.testing.assert_allclose(curves.loss("resumed"), expected["loss"], rtol=rtol)
        np.testing.assert_allclose(curves.lr_array("resumed"), expected["lr"], rtol=rtol)
    return read


@pytest.mark.parametrize("layout", ["one file", "a file per pass", "torch-style events",
                                    "tensor scalars"])
def test_tensorboard_restart_meets_the_policies(tmp_path, layout):
    folder = tmp_path / "tb" / "resumed"
    passes = ([[FIRST_PASS, RESUMED]] if layout != "a file per pass"
              else [[FIRST_PASS], [RESUMED]])
    _write_events(folder, passes, separate_events=layout == "torch-style events",
                  tensors=layout == "tensor scalars")
    logs = tmp_path / "tb"
    # float32 event values: 1e-6
    for policy, curves in _restart_meets_the_policies(logs, "tb", rtol=1e-6).items():
        expected = {"last": LAST, "first": FIRST}[policy]
        np.testing.assert_allclose(curves.frame["lr"], expected["lr"], rtol=1e-6)
        assert f"merged 3 repeated steps (duplicates='{policy}')" in curves.notes
    mean = load_curves(logs, duplicates="mean", unsorted="sort")
    assert mean.loss("resumed")[3] == pytest.approx((3.7 + 3.75) / 2, rel=1e-6)


def test_tensorboard_restart_that_repeats_only_the_lr(tmp_path):
    """Validation loss every 4 steps; the resumed pass repeats LR-only steps 5..6: the LR
    log meets the same policies (the loss curve alone would not show the restart)."""
    Event, Summary, EventFileWriter = _tensorboard()
    writer = EventFileWriter(str(tmp_path / "tb" / "r"))
    for step, lr in [(s, 1e-3) for s in range(7)] + [(5, 2e-3), (6, 2e-3), (7, 2e-3),
                                                      (8, 2e-3)]:
        values = [Summary.Value(tag="lr", simple_value=lr)]
        if step % 4 == 0:
            values.append(Summary.Value(tag="val/loss", simple_value=4.0 - 0.1 * step))
        writer.add_event(Event(wall_time=time.time(), step=step, summary=Summary(value=values)))
    writer.close()
    with pytest.raises(InputError, match="the LR of step 5 of run 'r' comes after step 6"):
        load_curves(tmp_path / "tb")
    curves = load_curves(tmp_path / "tb", unsorted="sort", duplicates="last")
    np.testing.assert_allclose(curves.lr_array("r"), [1e-3] * 5 + [2e-3] * 4, rtol=1e-6)
    assert "LR log: merged 2 repeated steps (duplicates='last')" in curves.notes
    np.testing.assert_allclose(curves.loss("r"), [4.0, 3.6, 3.2], rtol=1e-6)


def test_tensorboard_messages_name_run_and_step_with_plain_numbers(tmp_path):
    Event, Summary, EventFileWriter = _tensorboard()
    for run, bad in (("tbnan", np.nan), ("tbinf", np.inf)):
        writer = EventFileWriter(str(tmp_path / run / "run1"))
        for step, loss in enumerate([4.0, 3.8, bad, 3.5]):
            writer.add_event(Event(wall_time=time.time(), step=10 * step, summary=Summary(
                value=[Summary.Value(tag="loss", simple_value=loss)])))
        writer.close()
    with pytest.raises(InputError, match=r"tbnan: run 'run1' step 20: no loss value \(1 such"):
        load_curves(tmp_path / "tbnan", nan_policy="raise")
    assert len(load_curves(tmp_path / "tbnan")) == 3  # auto: dropped, as for W&B
    with pytest.raises(InputError, match=r"tbinf: run 'run1' step 20, loss: value inf is not "
                                         r"a finite number > 0$") as raised:
        load_curves(tmp_path / "tbinf")
    assert "row" not in str(raised.value) and "np." not in str(raised.value)


def _mlflow_store(folder, log):
    """Write an MLflow file store with ``log(client, experiment_id)``."""
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow 3 refuses new file stores
    try:
        client = MlflowClient(tracking_uri="file:" + str(folder))
        log(client, client.create_experiment("sweep"))
    finally:
        del os.environ["MLFLOW_ALLOW_FILE_STORE"]


def test_mlflow_restart_meets_the_policies(tmp_path):
    def log(client, experiment):
        run = client.create_run(experiment, run_name="resumed").info.run_id
        for logged in (FIRST_PASS, RESUMED):
            for step, loss, lr in zip(logged["steps"], logged["loss"], logged["lr"]):
                client.log_metric(run, "lr", lr, step=step)
                client.log_metric(run, "val_loss", loss, step=step)
                time.sleep(0.002)  # distinct millisecond timestamps, as a real job has
        clean = client.create_run(experiment, run_name="clean").info.run_id
        for step in range(7):
            client.log_metric(clean, "val_loss", 4.2 - 0.01 * step, step=step)

    store = tmp_path / "mlruns"
    _mlflow_store(store, log)
    for curves in _restart_meets_the_policies(store, "mlruns", rtol=1e-7).values():
        np.testing.assert_allclose(curves.loss("clean"), 4.2 - 0.01 * np.arange(7))


def test_mlflow_messages_name_run_and_step(tmp_path):
    def log(client, experiment):
        run = client.create_run(experiment, run_name="m1").info.run_id
        for step, loss in enumerate([4.0, 3.8, float("inf"), 3.5]):
            client.log_metric(run, "loss", loss, step=5 * step)

    _mlflow_store(tmp_path / "mlruns", log)
    with pytest.raises(InputError, match=r"mlruns: run 'm1' step 10, loss: value inf is not "
                                         r"a finite number > 0$"):
        load_curves(tmp_path / "mlruns")


def test_mlflow_batch_logged_at_one_timestamp_reads_in_step_order(tmp_path):
    # log_batch with one timestamp for every step, the LR at every step and the loss at
    # every 5th: read in the order of the histories (loss, then LR) they went backwards
    def log(client, experiment):
        from mlflow.entities import Metric

        run = client.create_run(experiment, run_name="batched").info.run_id
        stamp = int(time.time() * 1000)
        metrics = [Metric("lr", 1e-3 * min(1.0, (s + 1) / 10), stamp, s) for s in range(40)]
        metrics += [Metric("train_loss", 4.0 - 0.02 * s, stamp, s) for s in range(0, 40, 5)]
        client.log_batch(run, metrics=metrics)

    store = tmp_path / "mlruns"
    _mlflow_store(store, log)
    curves = load_curves(store)
    np.testing.assert_array_equal(curves.steps("batched"), np.arange(0, 40, 5))
    np.testing.assert_allclose(curves.loss("batched"), 4.0 - 0.02 * np.arange(0, 40, 5))
    np.testing.assert_allclose(curves.lr_array("batched"),
                               1e-3 * np.minimum(1.0, (np.arange(36) + 1) / 10))


def test_lightning_lr_monitor_tag_is_the_lr_and_a_missing_lr_says_how_to_name_it(tmp_path):
    # PyTorch Lightning's LearningRateMonitor logs the LR as lr-<optimizer class>
    Event, Summary, EventFileWriter = _tensorboard()
    for folder, lr_tag in (("pl", "lr-AdamW"), ("odd", "my_schedule_value")):
        writer = EventFileWriter(str(tmp_path / folder / "run"))
        for step in range(5):
            writer.add_event(Event(wall_time=time.time(), step=step, summary=Summary(value=[
                Summary.Value(tag=lr_tag, simple_value=1e-3),
                Summary.Value(tag="train_loss", simple_value=4.0 - 0.1 * step)])))
        writer.close()
    curves = load_curves(tmp_path / "pl")
    np.testing.assert_allclose(curves.lr_array("run"), [1e-3] * 5, rtol=1e-6)
    odd = load_curves(tmp_path / "odd")
    with pytest.raises(InputError, match=r"no learning rates: .*name the logged LR when "
                                         r"loading \(lr=<column, tag or metric>, --lr\)"):
        odd.lr_array("run")
    named = load_curves(tmp_path / "odd", lr="my_schedule_value")
    np.testing.assert_allclose(named.lr_array("run"), [1e-3] * 5, rtol=1e-6)
