"""Downstream figures: a task's accuracy against its task loss, with the ladder's checkpoints,
the fitted step-2 curve, the chance floor and the target's prediction (and what it reached)."""

from __future__ import annotations

import math

import numpy as np

from ..._exceptions import InputError
from ._checks import check_canvas, check_figsize
from ._style import new_axes, pyplot, sci

__all__ = ["task_accuracy", "task_accuracy_grid"]


def _task_fit(fit, task):
    from ...analysis.downstream import DownstreamFit, TaskFit

    if isinstance(fit, TaskFit):
        if task is not None and task != fit.task:
            raise InputError(f"`task` is {task!r} but the fit is of {fit.task!r}")
        return fit
    if isinstance(fit, DownstreamFit):
        if task is None:
            raise InputError(f"give the task to draw, one of {', '.join(fit.tasks)}")
        return fit[task]
    raise InputError(f"`fit` must be a DownstreamFit or a TaskFit, got {type(fit).__name__}")


def _row(predictions, task):
    if predictions is None:
        return None
    from ...analysis.downstream_predict import TaskPredictions

    if not isinstance(predictions, TaskPredictions):
        raise InputError(f"`predictions` must be TaskPredictions, got "
                         f"{type(predictions).__name__}")
    return predictions[task]


def _interval_name(predictions) -> str:
    """Level and kind of the accuracy interval, e.g. ``"95% bootstrap percentile interval"``:
    the kind is the head of ``predictions.interval_kind`` (the text stored with the
    predictions, :data:`~scalinglaws.analysis.downstream_predict.INTERVAL_KIND`), whose
    rest says how the runs were resampled."""
    kind = str(predictions.interval_kind).split(" interval", 1)[0].strip()
    level = predictions.confidence_level
    return (f"{100 * level:g}% " if level is not None else "") + f"{kind or 'unnamed'} interval"


def task_loss_label(fit) -> str:
    """What the task loss is, for an axis or a table header: the column it was read from
    (a DownstreamFit's table records it, :attr:`TaskTable.task_loss_column`) and its unit
    when the name says it (``bpb``: bits per byte, as the OLMo ladder's ``task_bpb``);
    plain "task loss" when neither is known (a TaskFit alone, a column named task_loss)."""
    from ...data.columns import normalise

    column = getattr(getattr(fit, "table", None), "task_loss_column", None)
    if column is None or normalise(column) == "task loss":
        return "task loss"
    words = f" {normalise(column)} "
    unit = ("bits per byte" if " bpb " in words or "bits per byte" in words
            else "the column's units")
    return f"task loss ({column}: {unit})"


def _finite(value) -> bool:
    return value is not None and isinstance(value, float) and math.isfinite(value)


def task_accuracy(fit, task: str | None = None, *, predictions=None, ax=None, figsize=None):
    """Accuracy against task loss for one task: step 2 of a two-step prediction.

    Draws the checkpoints step 2 fitted (coloured by the run's N), the fitted curve over
    them and out to the target's predicted task loss, the task's chance level, and, with
    ``predictions``, the target: its predicted (task loss, accuracy) with the interval of
    the accuracy when there is one (the legend names its level and kind, e.g. "95%
    bootstrap percentile interval"), and what the target run reached when it is known.

    Parameters
    ----------
    fit : DownstreamFit or TaskFit
    task : str, optional
        Which task of a DownstreamFit.
    predictions : TaskPredictions, optional
        From :func:`~scalinglaws.analysis.downstream_predict.predict_tasks`.
    ax : matplotlib Axes, optional
    figsize : (float, float), optional
        Size of a new figure (default 5.2 x 4.0 inches); not with ``ax``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from scalinglaws.analysis.downstream import fit_downstream
    >>> from scalinglaws.laws.tasks import synthetic_task_table
    >>> fit = fit_downstream(synthetic_task_table(run_sd=0.001, rng=0),
    ...                      tasks=["synthetic"], fit_runs=None)
    >>> ax = task_accuracy(fit, "synthetic")
    >>> ax.get_xlabel()
    'task loss'
    """
    from matplotlib.colors import LogNorm

    part = _task_fit(fit, task)
    figsize = check_canvas(ax, figsize)
    row = _row(predictions, part.task)
    ax = new_axes(ax, figsize, default=(5.2, 4.0))
    data = part.step2_data
    runs = np.asarray(data["run_id"], dtype=object)
    real = runs != "<anchor>"
    x, y = np.asarray(data["task_loss"])[real], np.asarray(data["accuracy"])[real]
    sizes = dict(zip(part.step1_runs.frame["run_id"].astype(str), part.step1_runs.N))
    n = np.array([sizes.get(str(r), np.nan) for r in runs[real]])
    norm = LogNorm(vmin=np.nanmin(n), vmax=np.nanmax(n)) if np.nanmax(n) > np.nanmin(n) else None
    points = ax.scatter(x, y, c=n, cmap="viridis", norm=norm, s=6, alpha=0.6, linewidths=0,
                        label="ladder checkpoints (fitted)")
    colorbar = ax.figure.colorbar(points, ax=ax, pad=0.02)
    colorbar.set_label("parameters N of the run")
    low, high = float(np.min(x)), float(np.max(x))
    if row is not None and _finite(row["task_loss"]):
        low = min(low, row["task_loss"])
        if _finite(row["observed_task_loss"]):
            low = min(low, row["observed_task_loss"])
    span = high - low
    grid = np.linspace(max(low - 0.15 * span, 1e-9), high + 0.05 * span, 300)
    ax.plot(grid, part.predict_accuracy(grid), color="black", lw=1.5,
            label=f"step 2: {part.step2.form.name}")
    if math.isfinite(part.chance):
        ax.axhline(part.chance, color="grey", ls=":", lw=1, label=f"chance {part.chance:.3g}")
    if row is not None:
        kwargs = {"color": "crimson", "zorder": 5}
        if _finite(row["accuracy_low"]):
            error = [[row["accuracy"] - row["accuracy_low"]],
                     [row["accuracy_high"] - row["accuracy"]]]
            ax.errorbar([row["task_loss"]], [row["accuracy"]], yerr=error, fmt="D", ms=6,
                        capsize=3, label=f"target: predicted\n({_interval_name(predictions)})",
                        **kwargs)
        else:
            ax.plot([row["task_loss"]], [row["accuracy"]], "D", ms=6,
                    label="target: predicted", **kwargs)
        if _finite(row["observed_accuracy"]) and _finite(row["observed_task_loss"]):
            ax.plot([row["observed_task_loss"]], [row["observed_accuracy"]], "*", ms=11,
                    color="darkorange", zorder=6, label="target: reached")
    title = part.task
    if row is not None:
        title += f" at N = {sci(row['N'])}, D = {sci(row['D'])}"
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(task_loss_label(fit))
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=7, loc="best")  # clear of the curve and the target, wherever they are
    return ax


def task_accuracy_grid(fit, *, predictions=None, columns: int = 4, figsize=None):
    """:func:`task_accuracy` for every task of a DownstreamFit, one panel each.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ...analysis.downstream import DownstreamFit

    if not isinstance(fit, DownstreamFit):
        raise InputError(f"`fit` must be a DownstreamFit, got {type(fit).__name__}")
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
        raise InputError(f"`columns` must be a positive integer, got {columns!r}")
    columns = min(columns, len(fit.tasks))
    rows = math.ceil(len(fit.tasks) / columns)
    figsize = check_figsize(figsize) or (4.6 * columns, 3.6 * rows)
    figure, axes = pyplot().subplots(rows, columns, figsize=figsize, layout="constrained",
                                     squeeze=False)
    for ax, task in zip(axes.ravel(), fit.tasks):
        task_accuracy(fit, task, predictions=predictions, ax=ax)
    for ax in axes.ravel()[len(fit.tasks):]:
        ax.set_visible(False)
    return figure
