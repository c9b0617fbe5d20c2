"""The per-task prediction table: chained accuracy at a target, its interval and verdict.

:func:`predict_tasks` takes a :class:`~scalinglaws.analysis.downstream.DownstreamFit` and a
target (N and D, or a run of the table) and returns :class:`TaskPredictions`: for every
task the step-1 task loss, the chained accuracy, optionally a bootstrap interval
(:mod:`scalinglaws.uncertainty.downstream`, one draw of runs shared by every task) and a
verdict (:mod:`scalinglaws.analysis.downstream_verdict`), and, when the target run is in
the table, what it reached and the errors. JSON: :mod:`scalinglaws.outputs.io.tasks`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from .._exceptions import InputError
from .._draws import check_n_resamples
from .._validation import (FrozenDict, check_confidence_level, check_rng, deep_freeze,
                           seed_of)
from ..data.task_table import TaskTable
from ..uncertainty.downstream import bootstrap_two_step, draw_runs
from .downstream import DownstreamFit, observed
from .downstream_verdict import Verdict, predictability

__all__ = ["COLUMNS", "INTERVAL_KIND", "TaskPredictions", "predict_tasks"]

#: the columns of :attr:`TaskPredictions.frame`, in order
COLUMNS = ("task", "N", "D", "task_loss", "task_loss_low", "task_loss_high", "accuracy",
           "accuracy_low", "accuracy_high", "observed_task_loss", "observed_accuracy",
           "step2_accuracy", "error", "covered", "verdict", "reason")
#: what the interval is (printed with it, stored in the JSON)
INTERVAL_KIND = ("bootstrap percentile interval of the chained law's prediction: runs "
                 "resampled with replacement, each bringing its step-1 point and its block of "
                 "step-2 checkpoints, both steps refitted; parameter uncertainty only, not "
                 "the scatter of one more run")


@dataclass(frozen=True)
class TaskPredictions:
    """Predictions of several tasks at one target. Frozen.

    Attributes
    ----------
    target : mapping
        ``N``, ``D`` and, when the target is a run of the table, ``run_id``.
    rows : tuple of mapping
        One per task, with the keys of :data:`COLUMNS` (NaN / None where not known):
        ``error`` is predicted minus observed accuracy in points, ``covered`` whether
        the interval holds the observed accuracy, ``step2_accuracy`` step 2 at the
        observed task loss.
    confidence_level : float or None
        Of the intervals (None without a bootstrap).
    n_resamples, n_failed : int
        Bootstrap resamples drawn, and those left out (every task together).
    interval_kind : str
    preset : mapping
        The procedure (:meth:`DownstreamPreset.to_dict`).
    tolerance : float or None
        Of the verdicts, in accuracy points.
    seed : int or None
        The integer ``rng`` the bootstrap drew with (None when a Generator was passed, or
        for a document written before it was recorded).
    """

    target: Mapping
    rows: tuple
    confidence_level: float | None = None
    n_resamples: int = 0
    n_failed: int = 0
    interval_kind: str = INTERVAL_KIND
    preset: Mapping = field(default_factory=FrozenDict)
    tolerance: float | None = None
    seed: int | None = None

    def __post_init__(self):
        for name in ("target", "rows", "preset"):
            object.__setattr__(self, name, deep_freeze(getattr(self, name)))

    @property
    def tasks(self) -> tuple:
        return tuple(row["task"] for row in self.rows)

    @property
    def frame(self):
        """The table as a pandas DataFrame (a new copy each time)."""
        import pandas as pd

        return pd.DataFrame([dict(row) for row in self.rows], columns=list(COLUMNS))

    def __getitem__(self, task: str) -> Mapping:
        for row in self.rows:
            if row["task"] == task:
                return row
        raise InputError(f"no task {task!r} in these predictions; tasks: {', '.join(self.tasks)}")

    def summary(self) -> str:
        """A readable table: accuracy [interval], observed, error and verdict per task."""
        target = self.target
        head = f"Downstream predictions at N = {target['N']:.4g}, D = {target['D']:.4g}"
        if target.get("run_id"):
            head += f" (run {target['run_id']})"
        lines = [head]
        interval = self.confidence_level is not None
        if interval:
            lines.append(f"  accuracy intervals: {self.confidence_level:.0%} bootstrap "
                         f"percentile over runs ({self.n_resamples} resamples, {self.n_failed} "
                         "left out): the chained law's parameter uncertainty, not a new run's "
                         "scatter")
        seen = any(_known(row["observed_accuracy"]) for row in self.rows)
        judged = any(row["verdict"] for row in self.rows)
        columns = [("task", "<", [row["task"] for row in self.rows]),
                   ("task loss", ">", [f"{row['task_loss']:.4f}" for row in self.rows]),
                   ("accuracy", ">", [f"{row['accuracy']:.4f}" for row in self.rows])]
        if interval:
            columns.append(("interval", ">", [f"[{row['accuracy_low']:.3f}, "
                                              f"{row['accuracy_high']:.3f}]"
                                              for row in self.rows]))
        if seen:
            columns.append(("observed", ">", [_text(row["observed_accuracy"], ".4f")
                                              for row in self.rows]))
            columns.append(("error", ">", [_text(row["error"], "+.1f") for row in self.rows]))
        if judged:
            columns.append(("verdict", "<", [row["verdict"] or "" for row in self.rows]))
        widths = [max(len(title), *(len(cell) for cell in cells)) for title, _, cells in columns]
        lines.append("  " + "  ".join(f"{title:{align}{width}}" for (title, align, _), width
                                      in zip(columns, widths)).rstrip())
        for i in range(len(self.rows)):
            lines.append("  " + "  ".join(f"{cells[i]:{align}{width}}" for (_, align, cells),
                                          width in zip(columns, widths)).rstrip())
        if seen:
            lines.append("  error = predicted - observed, in accuracy points")
        reasons = [f"  {row['task']}: {row['reason']}" for row in self.rows if row["reason"]]
        if reasons:
            lines.append("why:")
            lines.extend(reasons)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _known(value) -> bool:
    return value is not None and isinstance(value, float) and math.isfinite(value)


def _text(value, spec: str) -> str:
    return format(value, spec) if _known(value) else ""


def _target(fit: DownstreamFit, N, D, run, table) -> tuple[dict, TaskTable | None]:
    if run is None:
        if N is None or D is None:
            raise InputError("give the target: N and D, or run= (a run of the table)")
        return {"N": _positive("N", N), "D": _positive("D", D)}, None
    if table is None:
        raise InputError("run= names a run of a table: give the table (table=...) too")
    if not isinstance(table, TaskTable):
        raise InputError(f"`table` must be a TaskTable, got {type(table).__name__}")
    table = fit.preset.prepare(table, fit.tasks)
    reached = observed(table, str(run), fit.tasks[0], max(1, fit.preset.target_window))
    target = {"N": _positive("N", N) if N is not None else reached["N"],
              "D": _positive("D", D) if D is not None else reached["D"], "run_id": str(run)}
    return target, table


def _positive(name: str, value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputError(f"`{name}` must be one positive number, got {value!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"`{name}` must be a finite positive number, got {value!r}")
    return value


def predict_tasks(fit: DownstreamFit, N=None, D=None, *, run: str | None = None,
                  table: TaskTable | None = None, n_resamples: int = 0, rng=None,
                  confidence_level: float = 0.95, verdicts=None, tolerance: float = 2.0,
                  progress: bool | None = None) -> TaskPredictions:
    """The chained prediction of every task of ``fit`` at one target.

    Parameters
    ----------
    fit : DownstreamFit
    N, D : float, optional
        The target. With ``run`` they default to the run's last checkpoint.
    run : str, optional
        A run of ``table`` to compare with: its observed task loss and accuracy (the mean
        of its last ``target_window`` checkpoints, as the preset says) and the errors.
    table : TaskTable, optional
        The table holding ``run`` (every run, not only the fitted ones).
    n_resamples : int
        Bootstrap resamples for the intervals (0: none).
    rng : None, int or numpy.random.Generator
    confidence_level : float
    verdicts : None, True or mapping of str to Verdict
        ``True`` computes them for this target's N (:func:`~scalinglaws.analysis.
        downstream_verdict.predictability` on the fitted runs); a mapping gives them.
    tolerance : float
        Of the verdicts computed here, in accuracy points.
    progress : bool, optional
        Progress bar of the bootstrap.

    Returns
    -------
    TaskPredictions

    Examples
    --------
    >>> from scalinglaws.laws.tasks import synthetic_task_table
    >>> from scalinglaws.analysis.downstream import fit_downstream
    >>> fit = fit_downstream(synthetic_task_table(run_sd=0.001, rng=0),
    ...                      tasks=["synthetic"], fit_runs=None)
    >>> print(predict_tasks(fit, N=7e9, D=1.4e11).summary())  # doctest: +ELLIPSIS
    Downstream predictions at N = 7e+09, D = 1.4e+11
      task       task loss  accuracy
      synthetic     0.70...   0.76...
    """
    if not isinstance(fit, DownstreamFit):
        raise InputError(f"`fit` must be a DownstreamFit (see fit_downstream), got "
                         f"{type(fit).__name__}")
    n_resamples = check_n_resamples(n_resamples, none=True)  # the package's one rule
    level = check_confidence_level(confidence_level)
    target, full = _target(fit, N, D, run, table)
    if verdicts is True:
        verdicts = predictability(fit.table, fit.preset, tasks=fit.tasks, fit_runs=None,
                                  target_N=target["N"], tolerance=tolerance)
    elif verdicts is not None and not isinstance(verdicts, Mapping):
        raise InputError("`verdicts` must be None, True or a mapping of task to Verdict")
    boots, n_failed = {}, 0
    if n_resamples:
        run_ids = tuple(dict.fromkeys(str(r) for r in fit[fit.tasks[0]].step1_runs.frame["run_id"]))
        counts = draw_runs(len(run_ids), n_resamples, check_rng("rng", rng))
        for task in fit.tasks:
            part = fit[task]
            boots[task] = bootstrap_two_step(part.step1, part.step1_runs, part.step2,
                                             part.step2_data, counts=counts, run_ids=run_ids,
                                             step1_weights=part.step1_weights,
                                             confidence_level=level, progress=progress)
            n_failed = max(n_failed, boots[task].n_failed)
    rows = []
    for task in fit.tasks:
        part = fit[task]
        loss = float(part.predict_loss(target["N"], target["D"]))
        accuracy = float(part.predict_accuracy(loss))
        row = dict.fromkeys(COLUMNS, math.nan)
        row.update(task=task, N=target["N"], D=target["D"], task_loss=loss, accuracy=accuracy,
                   covered=None, verdict=None, reason=None)
        if task in boots:
            low, high = boots[task].interval(target["N"], target["D"])
            row["accuracy_low"], row["accuracy_high"] = float(low), float(high)
            low, high = boots[task].interval(target["N"], target["D"], of="task_loss")
            row["task_loss_low"], row["task_loss_high"] = float(low), float(high)
        if full is not None:
            seen = observed(full, target["run_id"], task, max(1, fit.preset.target_window))
            row["observed_accuracy"] = seen["accuracy"]
            row["error"] = 100.0 * (accuracy - seen["accuracy"])
            if "task_loss" in seen:
                row["observed_task_loss"] = seen["task_loss"]
                row["step2_accuracy"] = float(part.predict_accuracy(seen["task_loss"]))
            if task in boots:
                row["covered"] = bool(row["accuracy_low"] <= seen["accuracy"]
                                      <= row["accuracy_high"])
        if verdicts is not None and task in verdicts:
            verdict = verdicts[task]
            if not isinstance(verdict, Verdict):
                raise InputError(f"`verdicts[{task!r}]` must be a Verdict")
            row["verdict"], row["reason"] = verdict.verdict, verdict.reason
        rows.append(row)
    return TaskPredictions(target=target, rows=tuple(rows),
                           confidence_level=level if n_resamples else None,
                           n_resamples=n_resamples, n_failed=n_failed,
                           preset=fit.preset.to_dict(),
                           tolerance=_tolerance(verdicts),
                           seed=seed_of(rng) if n_resamples else None)


def _tolerance(verdicts) -> float | None:
    for verdict in (verdicts or {}).values():
        return float(verdict.tolerance)
    return None
