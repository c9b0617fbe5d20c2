"""The downstream section of the HTML report: a per-task table of predictions (accuracy,
interval, what the target reached, error, verdict and its reason) and, given the fit, one
figure per task (accuracy against task loss), embedded as base64 PNG. All text is escaped.
"""

from __future__ import annotations

import html
import math

from .._exceptions import InputError
from .figures import _png_base64
from .plot._checks import check_dpi

__all__ = ["tasks_html"]


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _cell(value, spec: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return format(value, spec)


def tasks_html(predictions, fit=None, *, dpi: int = 90) -> str:
    """HTML of a downstream prediction table (a ``<section>``), for the report.

    Parameters
    ----------
    predictions : TaskPredictions
        From :func:`~scalinglaws.analysis.downstream_predict.predict_tasks`.
    fit : DownstreamFit, optional
        With it, one figure per task (:func:`~scalinglaws.outputs.plot.tasks.task_accuracy`).
    dpi : int
        Resolution of the figures.

    Returns
    -------
    str

    Examples
    --------
    >>> from scalinglaws.analysis.downstream import fit_downstream
    >>> from scalinglaws.analysis.downstream_predict import predict_tasks
    >>> from scalinglaws.laws.tasks import synthetic_task_table
    >>> fit = fit_downstream(synthetic_task_table(run_sd=0.001, rng=0),
    ...                      tasks=["synthetic"], fit_runs=None)
    >>> page = tasks_html(predict_tasks(fit, N=7e9, D=1.4e11))
    >>> page.startswith('<section id="downstream">'), "<td>synthetic</td>" in page
    (True, True)
    """
    from ..analysis.downstream_predict import TaskPredictions

    if not isinstance(predictions, TaskPredictions):
        raise InputError(f"`predictions` must be TaskPredictions, got "
                         f"{type(predictions).__name__}")
    dpi = check_dpi(dpi)
    target = predictions.target
    where = f"N = {target['N']:.4g} parameters, D = {target['D']:.4g} tokens"
    if target.get("run_id"):
        where += f" (run {target['run_id']})"
    from .plot.tasks import task_loss_label

    header = ["task", task_loss_label(fit), "accuracy"]  # its column and unit when known
    interval = predictions.confidence_level is not None
    if interval:
        header.append(f"{predictions.confidence_level:.0%} interval")
    header += ["observed", "error (points)", "verdict", "why"]
    rows = []
    for row in predictions.rows:
        cells = [_e(row["task"]), _cell(row["task_loss"], ".4f"), _cell(row["accuracy"], ".4f")]
        if interval:
            cells.append(f"[{_cell(row['accuracy_low'], '.3f')}, "
                         f"{_cell(row['accuracy_high'], '.3f')}]")
        cells += [_cell(row["observed_accuracy"], ".4f"), _cell(row["error"], "+.1f"),
                  _e(row["verdict"] or "—"), _e(row["reason"] or "")]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    parts = ['<section id="downstream">', "<h2>Downstream tasks</h2>",
             (f"<p>Two-step predictions at {_e(where)}: step 1 the task loss of (N, D), "
              "step 2 the accuracy of the task loss, chained.</p>")]
    if interval:
        parts.append(f"<p>Intervals: {_e(predictions.interval_kind)} "
                     f"({predictions.n_resamples} resamples, {predictions.n_failed} left "
                     "out).</p>")
    parts.append(f'<table class="tasks"><thead><tr>{head}</tr></thead>\n<tbody>\n'
                 + "\n".join(rows) + "\n</tbody></table>")
    if fit is not None:
        from ..analysis.downstream import DownstreamFit
        from .plot.tasks import task_accuracy

        if not isinstance(fit, DownstreamFit):
            raise InputError(f"`fit` must be a DownstreamFit, got {type(fit).__name__}")
        for task in predictions.tasks:
            ax = task_accuracy(fit, task, predictions=predictions)
            data = _png_base64(ax.figure, dpi)
            parts.append(f'<figure id="task-{_e(task)}"><img src="data:image/png;base64,{data}" '
                         f'alt="{_e(task)}: accuracy against task loss"><figcaption>'
                         f"{_e(task)}: accuracy against task loss; the ladder's checkpoints, "
                         "the fitted curve and the target</figcaption></figure>")
    parts.append("</section>")
    return "\n".join(parts)
