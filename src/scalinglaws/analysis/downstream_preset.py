"""Presets of a two-step downstream prediction: which tasks, runs, points and fits.

A :class:`DownstreamPreset` records every choice of the procedure in one frozen, documented
object (the processing of :class:`~scalinglaws.data.task_table.TaskTable` and the laws and
options of both steps); :data:`LADDER` is the OLMo ladder's (Bhagia et al. 2024).
:func:`scalinglaws.analysis.downstream.fit_downstream` takes a preset and overrides of any
of its fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .._exceptions import InputError
from .._validation import FrozenDict, deep_freeze
from ..data.task_table import MMLU_TEST_WEIGHTS, TaskTable

__all__ = ["LADDER", "PRESETS", "DownstreamPreset"]


@dataclass(frozen=True)
class DownstreamPreset:
    """A documented set of choices for a two-step downstream prediction.

    Attributes
    ----------
    name : str
    aggregates : mapping of str to mapping of str to float
        New tasks made as weighted means of subsets (:meth:`TaskTable.aggregate`).
    tasks : tuple of str
        The tasks predicted.
    fit_runs : str
        A :meth:`TaskTable.query` expression selecting the runs that are fitted.
    step1_last : int
        Step 1 fits one point per run: the mean of its last ``step1_last`` checkpoints'
        task loss, at the last checkpoint's D.
    step1_drop_fraction : float or None
        Instead, fit step 1 on every checkpoint of each run after dropping the first
        ``ceil(fraction * n)`` (smoothed as step 2's): more points, but an intermediate
        checkpoint of a decaying learning-rate schedule is not the end of a shorter run.
    step1_weights : None or "N"
        Weight each step-1 point by its run's N over the largest N (the rungs nearest the
        target count most); None weighs all alike.
    step2_drop_fraction, step2_window, partial_windows
        Step 2 fits every checkpoint of the fitted runs after dropping the first
        ``ceil(fraction * n)`` of each run, then a trailing ``step2_window``-point moving
        average of task loss and accuracy (the first points averaged over the checkpoints
        available when ``partial_windows``).
    target_window : int
        The observed value of a target run: the mean of its last ``target_window``
        checkpoints (a trailing moving average read at its last checkpoint).
    step1_form, step1_options, step2_form, step2_options
        The laws and :class:`~scalinglaws.LawFitter` options of each step.
    anchor : (float, float) or None
        An extra (task loss, accuracy) point appended to the step-2 data.
    step2_start : str
        ``"chance"``: also start the step-2 search from the repository's
        ``(a, x0, k, b) = (chance - 1, 0.9, 3, 1)``.
    """

    name: str
    aggregates: Mapping = field(default_factory=FrozenDict)
    tasks: tuple = ()
    fit_runs: str | None = None
    step1_last: int = 5
    step1_drop_fraction: float | None = None
    step1_weights: str | None = None
    step2_drop_fraction: float = 0.0
    step2_window: int = 1
    partial_windows: bool = True
    target_window: int = 1
    step1_form: str = "chinchilla"
    step1_options: Mapping = field(default_factory=FrozenDict)
    step2_form: str = "task_sigmoid"
    step2_options: Mapping = field(default_factory=FrozenDict)
    anchor: tuple | None = None
    step2_start: str | None = None

    def __post_init__(self):
        for name in ("aggregates", "step1_options", "step2_options"):
            object.__setattr__(self, name, deep_freeze(dict(getattr(self, name))))
        object.__setattr__(self, "tasks", tuple(self.tasks))
        if self.step1_weights not in (None, "N"):
            raise InputError(f"`step1_weights` must be None or 'N', got {self.step1_weights!r}")

    def prepare(self, table: TaskTable, tasks=None) -> TaskTable:
        """``table`` with this preset's aggregate tasks added (those among ``tasks``, or
        all of them)."""
        for name, weights in self.aggregates.items():
            if name not in table.tasks and (tasks is None or name in tasks):
                missing = [task for task in weights if task not in table.tasks]
                if missing:
                    raise InputError(f"task {name!r} of preset {self.name!r} is the weighted "
                                     f"mean of {', '.join(weights)}, but the table has no "
                                     f"{missing[0]!r}; choose the tasks (tasks=...) or give "
                                     "them")
                table = table.aggregate(name, weights)
        return table

    def used(self, tasks) -> DownstreamPreset:
        """This preset as a fit of ``tasks`` used it: those tasks, and the aggregates among
        them (what a fit records: before, a fit of a user's own task kept the ladder's
        eight tasks and its MMLU aggregate in its JSON)."""
        tasks = tuple(tasks)
        return replace(self, tasks=tasks, aggregates={name: weights for name, weights
                                                      in self.aggregates.items()
                                                      if name in tasks})

    def step1_table(self, table: TaskTable) -> TaskTable:
        """Step 1's points: one per run and task (the mean of its last checkpoints), or,
        with ``step1_drop_fraction``, its later checkpoints smoothed."""
        if self.step1_drop_fraction is None:
            return table.last(self.step1_last)
        table = _drop_early(table, self.step1_drop_fraction, "step1_drop_fraction")
        if self.step2_window > 1:
            table = table.moving_average(self.step2_window, partial=self.partial_windows)
        return table

    def step2_table(self, table: TaskTable) -> TaskTable:
        """The checkpoints step 2 fits: early ones dropped, then smoothed."""
        if self.step2_drop_fraction:
            table = _drop_early(table, self.step2_drop_fraction, "step2_drop_fraction")
        if self.step2_window > 1:
            table = table.moving_average(self.step2_window, partial=self.partial_windows)
        return table

    def to_dict(self) -> dict:
        return {"name": self.name, "aggregates": {k: dict(v) for k, v in self.aggregates.items()},
                "tasks": list(self.tasks), "fit_runs": self.fit_runs,
                "step1_last": self.step1_last,
                "step1_drop_fraction": self.step1_drop_fraction,
                "step1_weights": self.step1_weights,
                "step2_drop_fraction": self.step2_drop_fraction,
                "step2_window": self.step2_window, "partial_windows": self.partial_windows,
                "target_window": self.target_window, "step1_form": self.step1_form,
                "step1_options": dict(self.step1_options), "step2_form": self.step2_form,
                "step2_options": dict(self.step2_options),
                "anchor": None if self.anchor is None else list(self.anchor),
                "step2_start": self.step2_start}


#: the flags of ``tasks fit`` that set a preset's fields, for messages read on either side
_ON_THE_COMMAND_LINE = {"step2_drop_fraction": "; on the command line --step2-drop-fraction 0"}


def _drop_early(table: TaskTable, fraction: float, option: str) -> TaskTable:
    """:meth:`TaskTable.drop_early`, refusing to leave a task with no checkpoint (its runs
    have one checkpoint each: a table of final evaluations, or runs not told apart)."""
    kept = table.drop_early(fraction)
    lost = [task for task in table.tasks if task not in kept.tasks]
    if lost:
        rows = table.only(tasks=lost[0]).frame
        most = int(rows.groupby("run_id", sort=False).size().max())
        raise InputError(
            f"{option}={fraction:g} drops the first ceil({fraction:g} n) of each run's n "
            f"checkpoints, which leaves no row of task {lost[0]!r} in {table.source}: each of "
            f"its {rows['run_id'].nunique()} runs has at most {most} checkpoint"
            f"{'s' * (most > 1)}. If the runs have more, the table's run column is missing "
            f"or wrong (say which column names the run with the columns option, "
            f"run_id=<column>); if the table holds one evaluation per run, set {option} to 0 (a "
            f"keyword of fit_downstream" + _ON_THE_COMMAND_LINE.get(option, "") + ")")
    return kept


#: The OLMo ladder's procedure (Bhagia et al. 2024; allenai/OLMo-ladder, scripts step1.py,
#: step2.py, predict.py with ``--moving_avg 5 --skip_perc 0.1``): MMLU as the weighted mean
#: of its test subsets; step 1 = Chinchilla by Huber (delta 1e-3) on log residuals over the
#: 16 ``ladder_fit`` runs, one point per run (mean of the last 5 checkpoints); step 2 = the
#: sigmoid by least squares over every checkpoint of those runs after dropping the first
#: 10% of each, smoothed by a 5-point trailing mean, plus the point (0, 1); a target's
#: observed value is the mean of its last 5 checkpoints.
LADDER = DownstreamPreset(
    name="ladder",
    aggregates={"mmlu_avg_test": MMLU_TEST_WEIGHTS},
    tasks=("mmlu_avg_test", "hellaswag_val", "arc_challenge_test", "arc_easy_test",
           "piqa_val", "csqa_val", "socialiqa_val", "openbookqa_test"),
    fit_runs="paper_role == 'ladder_fit'",
    step1_last=5, step2_drop_fraction=0.1, step2_window=5, partial_windows=True,
    target_window=5,
    step1_form="chinchilla", step1_options={"loss": "huber", "delta": 1e-3, "space": "log"},
    step2_form="task_sigmoid", step2_options={"loss": "squared", "space": "linear"},
    anchor=(0.0, 1.0), step2_start="chance")

#: presets by name (the CLI's ``--preset``)
PRESETS = FrozenDict({"ladder": LADDER})
