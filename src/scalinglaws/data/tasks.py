"""Tables of downstream evaluations: task loss and accuracy per checkpoint, per task.

:func:`load_tasks` reads a long table (one row per run, checkpoint and task) and returns a
:class:`TaskTable`, validated like :func:`~scalinglaws.load_runs` (same readers, headers
for ``N``, ``D``, ``C`` and ``step``, units checks and messages naming file, row, line and
column; the run column also under load_curves' names, :data:`RUN_ALIASES`). Columns:

===============  ===========================================================================
``run_id``       the training run (without a run column, each (N, D) is a run, if one N
                 has one D; else the table is refused, unless ``run_id=None`` says so)
``N, D, C``      parameters, tokens seen at the checkpoint, FLOP (C = k·N·D when absent)
``step``         optimizer step, if the table has one
``checkpoint``   0, 1, 2... : the checkpoint's place in its run (ordered by D, then step)
``task``         the task's name
``task_loss``    the task loss (e.g. bits per byte of the correct answer), if given
``accuracy``     in [0, 1]
``chance``       the task's chance accuracy, if known (NaN otherwise)
``source_row``   the row of the source (0-based) each row came from
===============  ===========================================================================

Processing is explicit and recorded in :attr:`TaskTable.history`: :meth:`TaskTable.aggregate`
(a weighted mean of task subsets, e.g. MMLU's four), :meth:`~TaskTable.drop_early` (the
first fraction of each run's checkpoints), :meth:`~TaskTable.moving_average` (trailing,
per run) and :meth:`~TaskTable.last` (the mean of each run's last k checkpoints).
:data:`scalinglaws.analysis.downstream_preset.LADDER` records the OLMo ladder's choices
(Bhagia et al. 2024) as a preset of these options and of the fits.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._exceptions import InputError, ScalingLawsWarning, user_stacklevel
from .._text import named_list
from .._validation import check_choice, check_finite
from .columns import (_close, _did_you_mean, _find, _holds_numbers, _listing, normalise,
                      resolve_columns)
from ._hints import missing_column_message
from ._plausibility import ZERO_TOKENS, repeated_rows, warn_units, warn_untrained
from .curve_logs import CURVE_ALIASES
from .readers import checked_frame, read_data
from .runs import _build_runs, _check_options, _row_text, _to_float
from .task_table import _ORDER, MMLU_TEST_WEIGHTS, TaskTable, _located, _ordered

__all__ = ["MMLU_TEST_WEIGHTS", "TASK_ALIASES", "TaskTable", "load_tasks"]

#: Header names recognised for the task columns (compared after :func:`normalise`).
TASK_ALIASES: dict[str, tuple[str, ...]] = {
    "task": ("task", "task name", "benchmark"),
    "task_loss": ("task loss", "task bpb", "bpb", "task ce", "task nll"),
    "accuracy": ("accuracy", "acc", "task accuracy", "score"),
    "chance": ("chance", "chance level", "chance accuracy", "task minimum"),
}
#: Header names recognised for the run column: those of :func:`~scalinglaws.load_curves`
#: (the bootstrap draws runs: without the run column, checkpoints would count as runs).
RUN_ALIASES: tuple = CURVE_ALIASES["run_id"]
_REQUIRED = ("task", "accuracy")
_RUNS_NAMES = ("run_id", "N", "D", "C", "step")  # the columns option's other names
_NO_RUN_COLUMN = ("; the table has no run column, so runs are told apart by N and D: say "
                  "which column names the run with the columns option (run_id=<column>)")


def _task_columns(frame: pd.DataFrame, explicit: Mapping, source: str) -> tuple[dict, dict]:
    """(task columns, runs-table columns): the columns option checked against the file's
    own columns (so that a message lists those), then headers recognised by
    :data:`TASK_ALIASES` and :data:`RUN_ALIASES` (``run_id`` itself preferred)."""
    available, mapping = list(frame.columns), {}
    for name, column in explicit.items():
        if name not in (*TASK_ALIASES, *_RUNS_NAMES):
            raise InputError(f"the columns option names {str(name)!r}, not one of "
                             f"{', '.join((*TASK_ALIASES, *_RUNS_NAMES))}"
                             + " (a task table's loss is task_loss)" * (name == "loss"))
        mapping[name] = column if column is None else _find(column, available, source, name)
    for name, aliases in {**TASK_ALIASES, "run_id": RUN_ALIASES}.items():
        found = [column for column in available if normalise(column) in aliases]
        found = ["run_id"] if name == "run_id" and "run_id" in found else found
        if name not in mapping and len(found) > 1:
            raise InputError(f"{source}: columns {' and '.join(repr(str(c)) for c in found)} "
                             f"both look like {name}; say which with the columns option "
                             f"({' or '.join(f'{name}={column}' for column in found)})")
        if name not in mapping and found:
            mapping[name] = found[0]
    used = [column for column in mapping.values() if column is not None]
    twice = next((column for column in used if used.count(column) > 1), None)
    if twice is not None:
        raise InputError(f"{source}: column {str(twice)!r} would be both "
                         f"{' and '.join(k for k, v in mapping.items() if v == twice)}; say "
                         f"which with the columns option")
    for name in _REQUIRED:
        if mapping.get(name) is None:
            near = _close(name, [c for c in available if c not in mapping.values()])
            recognised = ", ".join(a.replace(" ", "_") for a in TASK_ALIASES[name])
            raise InputError(f"{source}: no {name} column.{_did_you_mean(near)} Columns: "
                             f"{_listing(available)}. Recognised names: {recognised} (any "
                             f"case); or say which column holds it with the columns option "
                             f"({name}=<column>)")
    runs = {name: mapping.pop(name) for name in _RUNS_NAMES if name in mapping}
    return {name: column for name, column in mapping.items() if column is not None}, runs


def _fraction_column(frame, column: str, name: str, source: str, lines, thousands: bool,
                     missing_ok: bool) -> tuple[np.ndarray, np.ndarray]:
    """A column of numbers in [0, 1]: (values, missing mask); a bad cell raises."""
    values, not_number = _to_float(frame[column], thousands)
    missing = np.isnan(values) & ~not_number
    with np.errstate(invalid="ignore"):
        bad = not_number | np.isinf(values) | (values < 0) | (values > 1)
    if not missing_ok:
        bad |= missing
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        cell = frame[column].iloc[row]
        what = ("is missing; to drop rows with missing values instead, set nan_policy to 'omit'"
                if missing[row] else f"{cell!r} is not a number" if not_number[row]
                else f"{float(values[row])!r} is not in [0, 1]")
        raise InputError(named_list([f"{_located(source, row, lines)}, column '{column}' "
                                     f"({name}): value {what}"], total=int(bad.sum()), sep="; ",
                                    noun=f"bad cell in column '{column}'",
                                    plural=f"bad cells in column '{column}'"))
    return values, missing


def _task_labels(frame, column: str, source: str, lines, nan_policy: str) -> np.ndarray:
    labels = frame[column].astype(object).to_numpy()
    missing = np.array([cell is None or (isinstance(cell, float) and math.isnan(cell))
                        or (isinstance(cell, str) and not cell.strip()) for cell in labels])
    if missing.any() and nan_policy == "raise":
        row = int(np.flatnonzero(missing)[0])
        raise InputError(f"{_located(source, row, lines)}, column '{column}' (task): value is "
                         "missing; to drop rows with missing values instead, set nan_policy "
                         "to omit")
    return np.array([None if gone else str(cell).strip() for cell, gone in zip(labels, missing)],
                    dtype=object)


def _chance_levels(chance: Any, tasks) -> dict:
    if isinstance(chance, Mapping):
        levels = {str(k): check_finite(f"chance[{k!r}]", v, minimum=0.0, maximum=1.0)
                  for k, v in chance.items()}
        return {task: levels.get(task, math.nan) for task in tasks}
    level = check_finite("chance", chance, minimum=0.0, maximum=1.0)
    return {task: level for task in tasks}


def load_tasks(data: Any, columns: Mapping | None = None, *, chance: Any = None,
               flops_per_token: float = 6.0, nan_policy: str = "raise",
               zero_tokens: str = "raise", format: str | None = None,
               sep: str | None = None, duplicates: str = "raise") -> TaskTable:
    """Read and validate a long table of downstream evaluations.

    Parameters
    ----------
    data : str, os.PathLike, pandas.DataFrame or dict
        A file (any format :func:`~scalinglaws.load_runs` reads), a DataFrame or a dict
        of columns, with one row per run, checkpoint and task.
    columns : mapping, optional
        Canonical name -> the table's column: ``task``, ``task_loss``, ``accuracy``,
        ``chance`` (see :data:`TASK_ALIASES` for the headers recognised without it) and
        those of :func:`~scalinglaws.load_runs` (``N``, ``D``, ``C``, ``step``,
        ``run_id``, also recognised as in :data:`RUN_ALIASES`). ``None`` as a value means
        "no such column". Required: task, accuracy, N and D (or C); the task loss is
        needed for two-step fits only.
    chance : float or mapping, optional
        Chance accuracy, for all tasks or per task, when the table has no chance column.
    flops_per_token : float
        The k of C = k·N·D, to derive the one of N, D, C that is absent.
    nan_policy : {"raise", "omit"}
        Missing N, D, C, task loss, accuracy or task: raise, or drop the row with a
        warning. A missing chance level is allowed (NaN: "no single chance level").
    zero_tokens : {"raise", "drop"}
        Rows at D = 0 (the untrained initial checkpoint that some logs hold, e.g. the
        OLMo 2 7B and 13B logs): raise, as for any non-positive D, or drop them with a
        warning saying how many.
    format, sep
        As in :func:`~scalinglaws.load_runs`.
    duplicates : {"raise", "drop"}, default "raise"
        Rows repeating an earlier row in every column: raise, or drop all but the first
        of each with a warning. A repeat is a second copy of a checkpoint on a task, which
        the table holds once, so :func:`~scalinglaws.load_runs`' ``"warn"`` and ``"keep"``
        (count it as another run) have no meaning here.

    Returns
    -------
    TaskTable

    Raises
    ------
    InputError
        Naming the file, row, line and column of a bad cell (an accuracy or chance
        outside [0, 1] included), a missing required column, two checkpoints of one run
        and task at the same D and step, a run whose N changes, no run column where one N
        has several D (see ``run_id`` above), a repeated row, or a bad argument.

    Warns
    -----
    UnitsWarning
        For N, D and C, as :func:`~scalinglaws.load_runs` (values in millions...).

    Examples
    --------
    >>> table = load_tasks({"run": ["a", "a", "b", "b"], "N": [1e8, 1e8, 4e8, 4e8],
    ...                     "tokens": [1e9, 2e9, 1e9, 2e9], "task": "piqa",
    ...                     "bpb": [1.1, 1.0, 0.95, 0.9], "acc": [0.6, 0.62, 0.64, 0.66]},
    ...                    chance=0.5)
    >>> table.tasks, table.run_ids, table.frame["checkpoint"].tolist()
    (('piqa',), ('a', 'b'), [0, 1, 0, 1])
    """
    k = _check_options(flops_per_token, nan_policy)
    check_choice("duplicates", duplicates, ("raise", "drop"))
    check_choice("zero_tokens", zero_tokens, ZERO_TOKENS)
    if columns is not None and not isinstance(columns, Mapping):
        raise InputError(f"the columns option must map canonical names to columns, such as "
                         f"accuracy to acc_norm; got {columns!r}")
    table, source = read_data(data, format=format, sep=sep)
    lines, thousands, hint = table.lines, table.thousands, table.hint
    frame = checked_frame(table.frame, source, "rows")
    copies = _repeated_rows(frame, duplicates, source, lines)
    mapping, explicit = _task_columns(frame, dict(columns or {}), source)
    if chance is not None and "chance" in mapping:
        raise InputError(f"{source}: the table has a chance column ({mapping['chance']!r}); "
                         "give chance levels once (drop the chance argument, or map chance to "
                         "None in columns)")
    labels = _task_labels(frame, mapping["task"], source, lines, nan_policy)
    accuracy, lost = _fraction_column(frame, mapping["accuracy"], "accuracy", source, lines,
                                      thousands, missing_ok=nan_policy == "omit")
    levels = (_fraction_column(frame, mapping["chance"], "chance", source, lines, thousands,
                               missing_ok=True)[0] if "chance" in mapping else None)
    lost |= np.array([label is None for label in labels])
    # The task loss stands in as the "loss" of the runs table, so that load_runs' own checks
    # (positive, finite, missing, C = k·N·D) apply to it with its messages; without a task
    # loss a column of ones stands in and is dropped afterwards.
    work = frame.copy()
    loss_column = mapping.get("task_loss")
    if loss_column is None:
        loss_column = "__no_task_loss__"
        work[loss_column] = 1.0
    if lost.any():  # rows dropped for a missing accuracy or task: load_runs counts them
        work[loss_column] = work[loss_column].astype(object).where(~lost, np.nan)
    work["__accuracy__"], work["__task__"] = accuracy, labels
    work["__chance__"] = levels if levels is not None else np.nan
    work["__row__"] = np.arange(len(work))
    for column in mapping.values():  # the originals are replaced by the checked copies
        work = work.drop(columns=column) if column != loss_column else work
    resolved = resolve_columns(work, {**explicit, "loss": loss_column}, source, hint)
    if sum(name in resolved for name in "NDC") < 2:  # the third is C = k·N·D's
        read_as = {column: f"read as {name}"
                   for name, column in {**resolved, **mapping}.items() if name != "loss"}
        raise InputError(missing_column_message(
            "N" if "N" not in resolved else "D", source, list(frame.columns), "a task table "
            "needs N and D at every checkpoint (or C, from which the one missing is derived)",
            headers=[(str(column), read_as.get(column, "extra")) for column in frame.columns]))
    untrained = _untrained_rows(work, resolved, source, thousands,
                                drop=zero_tokens == "drop", lines=lines)
    runs = _build_runs(work, source, {**explicit, "loss": loss_column}, k, nan_policy,
                       lines=lines, thousands=thousands, hint=hint)
    out = runs.frame.rename(columns={"loss": "task_loss", "__accuracy__": "accuracy",
                                     "__task__": "task", "__chance__": "chance",
                                     "__row__": "source_row"})
    if mapping.get("task_loss") is None:
        out = out.drop(columns="task_loss")
    n_dropped = runs.n_dropped
    for rows in (r for r in (untrained, copies) if r is not None and len(r)):
        gone = out["source_row"].isin(rows).to_numpy()  # repeats: unless dropped already
        if gone.all():
            raise InputError(f"{source}: no rows left: every row is at D = 0")
        out, n_dropped = out.loc[~gone].reset_index(drop=True), n_dropped + int(gone.sum())
        if gone.any() and rows is untrained:
            warn_untrained(source, int(gone.sum()), _row_text(int(min(untrained)), lines))
    if chance is not None:
        out["chance"] = out["task"].map(_chance_levels(chance, out["task"].unique()))
    out["chance"] = out["chance"].astype(float)
    levels = out.groupby("task", sort=False)["chance"].nunique()
    if (levels > 1).any():
        task = levels.index[np.argmax(levels.to_numpy() > 1)]
        values = out.loc[out["task"] == task, "chance"].dropna().unique()
        raise InputError(f"{source}: task {task!r} has {len(values)} chance levels "
                         f"({', '.join(f'{v:.4g}' for v in values[:3])}); a task has one")
    # a missing chance cell takes its task's level
    out["chance"] = out.groupby("task", sort=False)["chance"].transform("first")
    _warn_all_below_chance(out, mapping["accuracy"], source)
    # load_runs' units checks of N, D, C; a task loss is no loss per token (NaN stands in)
    sizes, rows = dict(runs.source_columns), out["source_row"].to_numpy()
    warn_units(out[["N", "D", "C"]].astype(float).reset_index(drop=True).assign(loss=np.nan),
               {**sizes, "loss": "task loss"}, runs.derived, source,
               lambda i: _row_text(int(rows[i]), lines), loss_units="nats")
    built = "run_id" not in out.columns
    if built:
        if "run_id" not in explicit:  # run_id=None says "each (N, D) is a run", knowingly
            _check_without_run_column(out, source, lines)
        out["run_id"] = [f"N={n:.6g},D={d:.6g}" for n, d in zip(out["N"], out["D"])]
    out["run_id"] = out["run_id"].astype(str)
    result = TaskTable(_frame=_ordered(out), source=source, flops_per_token=k,
                       derived=runs.derived, n_dropped=n_dropped, source_lines=lines,
                       task_loss_column=None if mapping.get("task_loss") is None
                       else str(mapping["task_loss"]))
    result._check_consistent(_NO_RUN_COLUMN if built else "")
    return result


def _warn_all_below_chance(out: pd.DataFrame, column: str, source: str) -> None:
    """Warn, naming the task and column, when every accuracy of a task lies below its
    chance level: the accuracy law (a sigmoid from chance up) has nothing above chance to
    fit, and its prediction is arbitrary (the audit's case: 1.0 predicted where every
    checkpoint read 0.05 against chance 0.25). A wrong chance level, an error rate in place
    of an accuracy, or a ladder too small for the task; single rows below chance are
    ordinary noise (29 of 3,850 of OLMo's hellaswag rows)."""
    below = out.dropna(subset=["chance"]).groupby("task", sort=False).agg(
        top=("accuracy", "max"), chance=("chance", "first"))
    for task, row in below[below["top"] < below["chance"]].iterrows():
        warnings.warn(f"{source}: every accuracy of task {task!r} (column {column!r}) is below "
                      f"its chance level {row['chance']:.4g} (the highest is {row['top']:.4g}): "
                      f"its accuracy law has nothing above chance to fit and its prediction is "
                      f"arbitrary; is the chance level right, or the column an error rate? "
                      f"Leave the task out until the ladder reaches above chance",
                      ScalingLawsWarning, stacklevel=user_stacklevel())


def _check_without_run_column(out: pd.DataFrame, source: str, lines) -> None:
    """Without a run column each (N, D) is a run: refuse one N at several D on a task (the
    checkpoints of one run?), naming the text columns with one N per value."""
    spread = out.groupby(["task", "N"], sort=False)["D"].nunique()
    if (spread > 1).any():
        task, size = spread.index[np.argmax(spread.to_numpy() > 1)]
        rows = sorted(out.loc[(out["task"] == task) & (out["N"] == size), "source_row"])
        could = sorted((c for c in out.columns if c not in _ORDER and out[c].nunique() > 1
                        and not pd.api.types.is_bool_dtype(out[c]) and not _holds_numbers(out[c])
                        and out.groupby(c, sort=False)["N"].nunique().max() == 1),
                       key=lambda column: -out[column].nunique())
        could = f": {' or '.join(map(repr, map(str, could[:3])))} could be it (one N each)" \
            if could else ""
        shown = named_list([_row_text(int(r), lines) for r in rows], 3)
        raise InputError(
            f"{source}: no run column, and N = {size:.6g} has {int(spread.max())} values of D "
            f"on task {task!r} ({shown}): checkpoints of one run? Without a run column each "
            f"(N, D) counts as a run of its own ({len(out.groupby(['N', 'D']))} runs of "
            f"{out['N'].nunique()} sizes here), and the intervals, which draw runs, come out "
            f"far too narrow. Say which column names the run with the columns option "
            f"(run_id=<column>){could}. Recognised names: "
            f"{', '.join(a.replace(' ', '_') for a in RUN_ALIASES)} (any case). If every row is "
            f"a run of its own (one evaluation per run), say so with run_id=None (on the "
            f"command line --columns run_id=)")


def _repeated_rows(frame: pd.DataFrame, policy: str, source: str, lines) -> np.ndarray:
    """:func:`~._plausibility.repeated_rows` (its warnings point at load_tasks' caller)."""
    return repeated_rows(frame, policy, source, lambda row: _row_text(int(row), lines),
                         copy_of="a checkpoint on a task")


def _untrained_rows(work: pd.DataFrame, mapping: Mapping, source: str, thousands: bool,
                    drop: bool, lines=None) -> list | None:
    """Source rows whose tokens (or, without a token column, compute) are exactly 0. To drop
    them, their cell is set to 1 in ``work`` so that validation passes, and the rows go
    afterwards; otherwise the first raises, saying how to drop them."""
    column = mapping.get("D", mapping.get("C"))
    if column is None:
        return [] if drop else None
    values, _ = _to_float(work[column], thousands)
    zero = values == 0
    rows = work.loc[zero, "__row__"].tolist()
    if not drop:
        if rows:
            raise InputError(f"{_located(source, int(rows[0]), lines)}, column '{column}': "
                             f"value 0 (an untrained checkpoint? {len(rows)} rows are at 0); "
                             "to drop them, set zero_tokens to 'drop'")
        return None
    if zero.any():
        work[column] = work[column].astype(object).where(~zero, 1.0)
        other = mapping.get("C") if column == mapping.get("D") else None
        if other is not None:
            work[other] = work[other].astype(object).where(~zero, 1.0)
    return rows
