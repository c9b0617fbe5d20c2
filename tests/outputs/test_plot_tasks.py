"""Tests of scalinglaws.outputs.plot.tasks' axis: the task loss says what it is (the column
it was read from and, for bits per byte, its unit), on the figure and in the report's table.

The unit is the data's: the OLMo ladder's ``task_bpb`` is bits per byte of the correct
answer (the shared data's README); the package only reads it off the column's name.
"""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from test_plot import _close_figures  # noqa: E402,F401

from scalinglaws import ConvergenceWarning  # noqa: E402
from scalinglaws.analysis.downstream import fit_downstream, preset_with  # noqa: E402
from scalinglaws.analysis.downstream_preset import LADDER  # noqa: E402
from scalinglaws.data.tasks import load_tasks  # noqa: E402
from scalinglaws.laws.tasks import synthetic_task_table  # noqa: E402
from scalinglaws.plot import task_accuracy  # noqa: E402

PRESET = preset_with(LADDER, tasks=("synthetic",), fit_runs=None, aggregates={},
                     step1_options={"bounds": {"E": (0.1, None)}})


def _fit(column):
    frame = synthetic_task_table(run_sd=0.001, checkpoint_sd=0.001, rng=0).frame
    frame = frame.drop(columns=["checkpoint", "source_row"]).rename(
        columns={"task_loss": column})
    table = load_tasks(frame)
    assert table.task_loss_column == column
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit_downstream(table, PRESET)


@pytest.fixture(scope="module")
def bpb_fit():
    return _fit("task_bpb")


def test_a_bits_per_byte_column_labels_the_axis_with_its_unit(bpb_fit, tmp_path):
    # before: the x-axis said "task loss", no unit, on the OLMo ladder's bits per byte
    ax = task_accuracy(bpb_fit, "synthetic")
    ax.figure.savefig(tmp_path / "task_bpb.png", dpi=60)
    assert ax.get_xlabel() == "task loss (task_bpb: bits per byte)"


def test_the_report_table_heads_the_task_loss_the_same_way(bpb_fit):
    from scalinglaws.analysis.downstream_predict import predict_tasks
    from scalinglaws.outputs.report_tasks import tasks_html

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        predictions = predict_tasks(bpb_fit, N=7e9, D=1.4e11)
    page = tasks_html(predictions, bpb_fit)
    assert "<th>task loss (task_bpb: bits per byte)</th>" in page


def test_another_column_is_named_without_a_guessed_unit():
    fit = _fit("task_ce")
    assert task_accuracy(fit, "synthetic").get_xlabel() == (
        "task loss (task_ce: the column's units)")
    # a TaskFit alone does not know its table; a column named task_loss says nothing more
    assert task_accuracy(fit["synthetic"]).get_xlabel() == "task loss"
    assert task_accuracy(_fit("task_loss"), "synthetic").get_xlabel() == "task loss"
