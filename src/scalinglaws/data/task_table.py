"""The validated table of downstream evaluations, :class:`TaskTable`, and its processing.

:func:`~scalinglaws.data.tasks.load_tasks` builds it (see that module for the columns);
its methods derive new tables (``aggregate``, ``drop_early``, ``moving_average``,
``last``, ``select``/``query``/``only``), each step recorded in ``history``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .._exceptions import InputError
from .._text import counted
from .._validation import FrozenDict, FrozenOnUnpickle, check_finite, check_int
from .columns import _listing, nearest_first
from .readers import checked_mask
from .runs import Runs, _row_text

__all__ = ["MMLU_TEST_WEIGHTS", "TaskTable"]

_ORDER = ("run_id", "N", "D", "C", "step", "checkpoint", "task", "task_loss", "accuracy",
          "chance", "source_row")


def _located(source: str, row: int, lines) -> str:
    return f"{source}: {_row_text(row, lines)}"


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    """Sorted by task, run (both in order of first appearance), D and step; checkpoint
    numbered within each run and task; canonical columns first."""
    frame = frame.copy()
    task_code = pd.factorize(frame["task"])[0]
    run_code = pd.factorize(frame["run_id"])[0]
    step = frame["step"] if "step" in frame.columns else pd.Series(0.0, index=frame.index)
    order = np.lexsort((pd.to_numeric(step, errors="coerce").to_numpy(dtype=float),
                        frame["D"].to_numpy(), run_code, task_code))
    frame = frame.iloc[order].reset_index(drop=True)
    frame["checkpoint"] = frame.groupby(["task", "run_id"], sort=False).cumcount()
    ordered = [name for name in _ORDER if name in frame.columns]
    return frame[ordered + [c for c in frame.columns if c not in ordered]]


#: MMLU's four test subsets and the weights the ladder's repository averages them with
#: (``WEIGHT_BY_KEY`` in ``src/scaling/task_utils.py`` of allenai/OLMo-ladder)
MMLU_TEST_WEIGHTS = FrozenDict({"mmlu_stem_test": 0.215, "mmlu_humanities_test": 0.335,
                                "mmlu_social_sciences_test": 0.219, "mmlu_other_test": 0.231})

@dataclass(frozen=True, eq=False)
class TaskTable(FrozenOnUnpickle):
    """A validated long table of downstream evaluations; build it with :func:`load_tasks`.

    Frozen: every method returns a new table, recording what it did in :attr:`history`.

    Attributes
    ----------
    frame : pandas.DataFrame
        The rows (a copy), canonical columns first (see the module docstring).
    source : str
    flops_per_token : float
    derived : tuple of str
        Which of N, D, C were derived from C = k·N·D.
    n_dropped : int
        Rows dropped at loading for missing values (``nan_policy="omit"``).
    history : tuple of str
        The processing applied since loading, in order.
    source_lines : numpy.ndarray or None
        Line in the file of each source row, for messages.
    task_loss_column : str or None
        The source's column read as ``task_loss`` (``task_bpb``...), whose units are the
        task loss's (figures name it); None without a task loss or when not known.
    """

    _frame: pd.DataFrame = field(repr=False)
    source: str = "<DataFrame>"
    flops_per_token: float = 6.0
    derived: tuple = ()
    n_dropped: int = 0
    history: tuple = ()
    source_lines: np.ndarray | None = field(default=None, repr=False)
    task_loss_column: str | None = None

    # -- looking ---------------------------------------------------------
    @property
    def frame(self) -> pd.DataFrame:
        return self._frame.copy()

    def __len__(self) -> int:
        return len(self._frame)

    def __repr__(self) -> str:
        return (f"TaskTable({len(self)} rows from {os.path.basename(self.source)}: "
                f"{counted(len(self.run_ids), 'run')}, {counted(len(self.tasks), 'task')}"
                + (f"; {'; '.join(self.history)}" if self.history else "") + ")")

    @property
    def tasks(self) -> tuple:
        """Task names, in order of first appearance."""
        return tuple(pd.unique(self._frame["task"]).tolist())

    @property
    def run_ids(self) -> tuple:
        """Run names, in order of first appearance."""
        return tuple(pd.unique(self._frame["run_id"]).tolist())

    @property
    def has_task_loss(self) -> bool:
        return "task_loss" in self._frame.columns

    def chance(self, task: str) -> float:
        """The chance accuracy of ``task`` (NaN when unknown)."""
        rows = self._rows_of(task)
        return float(rows["chance"].iloc[0])

    def _rows_of(self, task: str) -> pd.DataFrame:
        rows = self._frame[self._frame["task"] == task]
        if rows.empty:
            raise InputError(f"no task {task!r} in {self.source}; tasks: "
                             f"{_listing(list(self.tasks))}" if len(self) else
                             f"no rows of task {task!r} are left from {self.source}"
                             + f" after {'; '.join(self.history)}" * bool(self.history))
        return rows

    def _row_label(self, source_row: int) -> str:
        return _located(self.source, int(source_row), self.source_lines)

    def _check_consistent(self, advice: str = "") -> None:
        frame = self._frame
        step = frame["step"] if "step" in frame.columns else pd.Series(0.0, index=frame.index)
        keys = pd.DataFrame({"run": frame["run_id"], "task": frame["task"], "D": frame["D"],
                             "step": pd.to_numeric(step, errors="coerce")})
        twice = keys.duplicated(keep=False).to_numpy()
        if twice.any():
            first, second = frame.loc[twice, "source_row"].to_numpy()[:2]
            row = frame.loc[twice].iloc[0]
            other = _row_text(int(second), self.source_lines)
            raise InputError(f"{self._row_label(first)} and {other}"
                             f" are the same checkpoint of run {row['run_id']!r} on task "
                             f"{row['task']!r} (D = {row['D']:.6g}); remove one, or give them "
                             f"different run names{advice}")
        sizes = frame.groupby("run_id", sort=False)["N"].nunique()
        if (sizes > 1).any():
            run = sizes.index[np.argmax(sizes.to_numpy() > 1)]
            values = sorted(frame.loc[frame["run_id"] == run, "N"].unique())
            raise InputError(f"{self.source}: run {run!r} has {len(values)} values of N "
                             f"({values[0]:.6g}, {values[1]:.6g}...): a run has one size; "
                             "give each model its own run name")

    def _derive(self, frame: pd.DataFrame, step: str) -> TaskTable:
        return replace(self, _frame=_ordered(frame), history=self.history + (step,))

    # -- selecting -------------------------------------------------------
    def select(self, mask: Any) -> TaskTable:
        """Rows where ``mask`` (booleans, or a callable frame -> booleans) is True."""
        if callable(mask):
            mask = mask(self.frame)
        keep = checked_mask(mask, len(self), "rows")
        return replace(self, _frame=_ordered(self._frame.loc[keep]))

    def query(self, expr: str) -> TaskTable:
        """Rows matching a :meth:`pandas.DataFrame.query` expression, e.g.
        ``"paper_role == 'ladder_fit'"``."""
        if not isinstance(expr, str):
            raise InputError(f"query: expr must be text such as \"N < 2e9\", got {expr!r}")
        try:
            picked = self._frame.query(expr)
        except Exception as error:  # pandas raises many unrelated types
            raise InputError(f"query {expr!r} failed: {error}; columns: "
                             f"{list(self._frame.columns)}") from error
        if picked.empty:
            raise InputError(f"query {expr!r} selects no row of {self.source}")
        return self.select(self._frame.index.isin(picked.index))

    def only(self, tasks=None, runs=None) -> TaskTable:
        """The rows of the named ``tasks`` and/or ``runs`` (names must exist)."""
        frame = self._frame
        keep = np.ones(len(frame), dtype=bool)
        for what, names, column, known in (("task", tasks, "task", self.tasks),
                                           ("run", runs, "run_id", self.run_ids)):
            if names is None:
                continue
            names = [names] if isinstance(names, str) else list(names)
            unknown = [n for n in names if n not in known]
            if unknown:
                near, listing = nearest_first(unknown[0], list(known))
                raise InputError(f"no {what} {unknown[0]!r} in {self.source}"
                                 + (f"; did you mean {' or '.join(map(repr, near))}?"
                                    if near else "")
                                 + f" The {counted(len(known), what)}: {listing}")
            keep &= frame[column].isin(names).to_numpy()
        return self.select(keep)

    # -- processing ------------------------------------------------------
    def aggregate(self, name: str, weights: Mapping, *, chance: float | None = None,
                  keep_subsets: bool = True) -> TaskTable:
        """Add task ``name``: the weighted mean of the tasks in ``weights`` at each checkpoint.

        Task loss and accuracy (and chance, unless given) are averaged as
        ``sum(w_i x_i) / sum(w_i)``. Every checkpoint must have every subset. Other
        columns are kept where the subsets agree.

        Examples
        --------
        >>> from scalinglaws import load_tasks
        >>> table = load_tasks({"run": "a", "N": 1e8, "D": [1e9, 1e9], "task": ["x", "y"],
        ...                     "task_loss": [1.0, 2.0], "acc": [0.3, 0.6]}, chance=0.25)
        >>> mean = table.aggregate("xy", {"x": 1, "y": 3}).only(tasks="xy").frame
        >>> mean["accuracy"].round(3).tolist()
        [0.525]
        """
        if not isinstance(name, str) or not name or name in self.tasks:
            raise InputError(f"aggregate: name must be a new task name, got {name!r}")
        if not isinstance(weights, Mapping) or not weights:
            raise InputError("aggregate: weights must map subset tasks to weights, e.g. "
                             "{'mmlu_stem_test': 0.215, ...}")
        w = {str(k): check_finite(f"weights[{k!r}]", v, minimum=0.0) for k, v in weights.items()}
        if sum(w.values()) <= 0:
            raise InputError("aggregate: the weights are all zero")
        subsets = self.only(tasks=list(w))._frame
        key = ["run_id", "D"] + (["step"] if "step" in subsets.columns else [])
        grouped = subsets.groupby(key, sort=False, dropna=False)
        counts = grouped["task"].nunique()
        if (counts < len(w)).any():
            where = counts.index[np.argmax(counts.to_numpy() < len(w))]
            have = set(grouped.get_group(where)["task"])
            missing = sorted(set(w) - have)
            raise InputError(f"aggregate {name!r}: run {where[0]!r} at D = {where[1]:.6g} has "
                             f"no row for {', '.join(missing)}; every checkpoint needs every "
                             "subset")
        weight = subsets["task"].map(w).to_numpy(dtype=float)
        values = {"__w__": weight}
        averaged = ["accuracy", "chance"] + (["task_loss"] if self.has_task_loss else [])
        for column in averaged:
            values[column] = subsets[column].to_numpy(dtype=float) * weight
        sums = pd.DataFrame(values).groupby(grouped.ngroup().to_numpy()).sum()
        first = grouped.head(1).reset_index(drop=True)
        for column in averaged:
            first[column] = (sums[column] / sums["__w__"]).to_numpy()
        if chance is not None:
            first["chance"] = check_finite("chance", chance, minimum=0.0, maximum=1.0)
        for column in first.columns:
            if column in _ORDER or column in averaged:
                continue
            agree = grouped[column].nunique(dropna=False).to_numpy() <= 1
            if not agree.all():
                first[column] = first[column].where(agree)
        first["task"] = name
        frame = self._frame if keep_subsets else self._frame[~self._frame["task"].isin(list(w))]
        text = " + ".join(f"{v:g} {k}" for k, v in w.items())
        return self._derive(pd.concat([frame, first], ignore_index=True),
                            f"aggregate {name} = ({text}) / {sum(w.values()):g}")

    def _positions(self):
        frame = self._frame
        groups = frame.groupby(["task", "run_id"], sort=False)
        position = groups.cumcount().to_numpy()
        size = groups["task"].transform("size").to_numpy()
        return position, size

    def drop_early(self, fraction: float) -> TaskTable:
        """Drop the first ``ceil(fraction * n)`` of each run's n checkpoints (per task)."""
        fraction = check_finite("fraction", fraction, minimum=0.0, maximum=1.0)
        if fraction >= 1:
            raise InputError("drop_early: fraction must be below 1 (it would drop every "
                             "checkpoint)")
        position, size = self._positions()
        cut = np.ceil(fraction * size)
        return self._derive(self._frame.loc[position >= cut],
                            f"drop_early(fraction={fraction:g})")

    def moving_average(self, window: int, *, partial: bool = True) -> TaskTable:
        """Trailing mean over ``window`` checkpoints of task loss and accuracy, per run.

        The value at a checkpoint averages it and the ``window - 1`` before it (N, D, C
        and step stay the checkpoint's own). The first ``window - 1`` checkpoints of a run
        average what is available when ``partial`` (the ladder's choice), else are dropped.
        """
        window = check_int("window", window, 1)
        position, _ = self._positions()
        frame = self._frame.copy()
        span = np.minimum(position + 1, window)
        rows = np.arange(len(frame))
        for column in ("task_loss", "accuracy") if self.has_task_loss else ("accuracy",):
            totals = np.concatenate([[0.0], np.cumsum(frame[column].to_numpy(dtype=float))])
            frame[column] = (totals[rows + 1] - totals[rows + 1 - span]) / span
        if not partial:
            frame = frame.loc[position >= window - 1]
        return self._derive(frame, f"moving_average(window={window}, partial={partial})")

    def last(self, k: int) -> TaskTable:
        """One row per run and task: the mean task loss and accuracy of its last ``k``
        checkpoints (all of them when it has fewer), at its last checkpoint's N, D, C."""
        k = check_int("k", k, 1)
        position, size = self._positions()
        tail = self._frame.loc[position >= size - k]
        groups = tail.groupby(["task", "run_id"], sort=False)
        out = groups.tail(1).reset_index(drop=True)
        columns = ["task_loss", "accuracy"] if self.has_task_loss else ["accuracy"]
        means = groups[columns].mean().reset_index()
        out = out.drop(columns=columns).merge(means, on=["task", "run_id"], how="left")
        return self._derive(out, f"last(k={k})")

    # -- handing on ------------------------------------------------------
    def to_runs(self, task: str) -> Runs:
        """The rows of ``task`` as :class:`~scalinglaws.Runs` (loss = task loss), for a
        step-1 fit with :func:`scalinglaws.fit`."""
        if not self.has_task_loss:
            raise InputError(f"{self.source} has no task loss column: step 1 needs one (say "
                             "which column holds it with the columns option, "
                             "task_loss=<column>)")
        rows = self._rows_of(task)
        extra = {name: rows[name].to_numpy() for name in ("run_id", "step") if name in rows}
        return Runs.from_arrays(N=rows["N"].to_numpy(), D=rows["D"].to_numpy(),
                                C=rows["C"].to_numpy(), loss=rows["task_loss"].to_numpy(),
                                flops_per_token=self.flops_per_token, **extra)

    def arrays(self, task: str) -> dict:
        """Columns of ``task`` as float arrays (``N``, ``D``, ``C``, ``accuracy``,
        ``task_loss`` when present) plus ``run_id``: what step-2 and direct fits take."""
        rows = self._rows_of(task)
        out = {name: rows[name].to_numpy(dtype=float)
               for name in ("N", "D", "C", "task_loss", "accuracy") if name in rows}
        out["run_id"] = rows["run_id"].to_numpy(dtype=object)
        return out
