"""A fit's record of how its runs were chosen from their table (``options["rows"]``:
:attr:`Runs.selection <scalinglaws.data.runs.Runs.selection>`), made again on the runs of
that table: :meth:`Runs.with_selection <scalinglaws.data.runs.Runs.with_selection>`, which
a command given a fit and ``--data`` uses to read the runs the fit was made on; the
column mapping the runs were read with (``columns``: runs that read other columns warn,
:func:`warn_other_columns`); and the words for the rows the record leaves out
(:func:`left_out_text`: the fit's summary and its report).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._exceptions import DataMismatchWarning, InputError, user_stacklevel
from .._text import named_list
from .readers import checked_mask

__all__ = ["group_step", "replay_selection", "columns_record", "columns_text",
           "column_differences", "differences_text", "warn_other_columns", "steps_text",
           "left_out_text", "read_with_recorded_columns"]


def group_step(column: str, key: Any) -> dict:
    """:meth:`Runs.groupby`'s selection step of group ``key``, plain (None: missing values)."""
    key = key.item() if isinstance(key, np.generic) else key
    return {"groupby": column, "value": None if pd.isna(key) else key}


def columns_record(columns: Mapping | None, read: Mapping) -> dict:
    """The ``columns`` given to :func:`~scalinglaws.load_runs` as a fit records them
    (``options["rows"]["columns"]``): each canonical name given, with the header it was
    read from (``read``: :attr:`Runs.source_columns`, the file's spelling), or None for
    "no such column" (None or an empty name, or an optional column read as absent since
    every cell of it is empty: what the runs read, so reading the table again with the
    record reads the same). Empty when no mapping was given."""
    out = {}
    for name, column in (columns or {}).items():
        missing = column is None or (isinstance(column, str) and not column.strip())
        out[str(name)] = None if missing or read.get(name) is None else str(read[name])
    return out


def columns_text(columns: Mapping) -> str:
    """A column mapping as ``--columns`` takes it: ``N=nonembedding_params,C=``."""
    return ",".join(f"{name}={'' if column is None else column}"
                    for name, column in columns.items())


def read_with_recorded_columns(read, recorded: bool, where: str, otherwise: str):
    """``read()``, the runs of a table read with a fit's recorded column mapping; an error
    about the table's columns (a mapped column it lacks) says, when ``recorded``, that the
    mapping came from the fit (``where``: how its caller names the record) and how to read
    the table otherwise (``otherwise``). Other errors pass as they are."""
    try:
        return read()
    except InputError as error:
        if not recorded or "the columns option" not in str(error):
            raise
        raise InputError(f"{error} (the column mapping the fit records, {where}; "
                         f"{otherwise})") from None


def column_differences(runs, columns: Mapping) -> list:
    """``(name, read, recorded)`` for each canonical name of the mapping ``columns`` (a
    fit's record) that ``runs`` read from another column (``read``: its header, or None
    when the runs read no such column): what the runs read, not how they were asked to,
    so that the same columns mapped otherwise (or found by their names) differ in
    nothing."""
    read = {name: None if runs.source_columns.get(name) is None
            else str(runs.source_columns[name]) for name in columns}
    return [(name, read[name], recorded) for name, recorded in columns.items()
            if read[name] != recorded]


def differences_text(differences) -> str:
    """``N from column 'params', but the fit was made reading it from 'nonembedding_params'``
    for each of :func:`column_differences`."""
    def column(header):
        return "no column" if header is None else f"column {header!r}"

    return "; ".join(f"{name} from {column(read)}, but the fit was made reading it from "
                     f"{'no column' if recorded is None else repr(recorded)}"
                     for name, read, recorded in differences)


def warn_other_columns(runs, columns: Mapping) -> None:
    """A :class:`DataMismatchWarning` when ``runs`` read other columns than the fit's
    record ``columns``, naming both mappings (the runs are used as they were read)."""
    differences = column_differences(runs, columns)
    if differences:
        own = runs.selection.get("columns")
        own = columns_text(own) if own else "none, headers read by their names"
        warnings.warn(f"{runs.source}: these runs read {differences_text(differences)} "
                      f"(these runs' column mapping: {own}; the fit's: {columns_text(columns)})",
                      DataMismatchWarning, stacklevel=user_stacklevel())


def replay_selection(runs, rows: Mapping):
    """``runs`` (a :class:`~scalinglaws.data.runs.Runs` of the whole table) selected as
    ``rows`` says, step by step: exclude_top_loss, query, select, groupby."""
    if not isinstance(rows, Mapping):
        raise InputError(f"`rows` must be a fit's options['rows'], got {type(rows).__name__}")
    units = rows.get("loss_units")
    if units is not None and runs.selection.get("loss_units") != units:
        raise InputError(
            f"`rows` says the loss was read with loss_units={units!r}, but these runs were "
            f"loaded with loss_units={runs.selection.get('loss_units')!r}; load the table "
            f"with load_runs(..., loss_units={units!r}) first")
    if rows.get("columns"):
        warn_other_columns(runs, dict(rows["columns"]))
    k = rows.get("exclude_top_loss", 0)
    for step in rows.get("steps") or ([{"exclude_top_loss": k}] if k else []):
        if "exclude_top_loss" in step:
            runs = runs.exclude_top_loss(int(step["exclude_top_loss"]))
        elif "query" in step:
            runs = runs.query(step["query"])
        elif "select" in step:
            keep = ~np.isin(runs.row_numbers, list(step["select"]))
            runs = runs._subset(checked_mask(keep, len(runs), "runs"), None)
        elif "groupby" in step:  # the group as groupby makes it, recorded alike
            parts = {group_step(step["groupby"], key)["value"]: part
                     for key, part in runs.groupby(step["groupby"])}
            if step.get("value") not in parts:
                raise InputError(f"`rows`: no group {step.get('value')!r} in column "
                                 f"{step['groupby']!r}")
            runs = parts[step.get("value")]
        else:
            raise InputError(f"`rows`: unknown selection step {dict(step)!r} (known: "
                             "exclude_top_loss, query, select, groupby)")
    return runs


def steps_text(steps) -> str:
    """A record's selection steps in words: ``--exclude-top-loss 5; query 'N > 1e9'``."""
    said = {"exclude_top_loss": lambda s: f"--exclude-top-loss {s['exclude_top_loss']}",
            "query": lambda s: f"query {s['query']!r}",
            "select": lambda s: f"select ({len(s['select'])} rows left out)",
            "groupby": lambda s: f"group {s['groupby']}={s.get('value')!r}"}
    return "; ".join(next(text(step) for name, text in said.items() if name in step)
                     for step in steps)


def left_out_text(rows: Mapping) -> str:
    """The rows of the table a fit's record ``rows`` (``options["rows"]``) leaves out, and
    why: ``2 row(s) dropped on loading (rows 3, 40); the 5 of largest loss excluded
    (--exclude-top-loss: rows 0, 1, 10, 11, 23)``; ``""`` when none were (what ``fit``
    prints after "not fitted:", and the report of the fit says)."""
    rows = rows or {}
    parts = []
    if rows.get("dropped_rows"):
        parts.append(f"{len(rows['dropped_rows'])} row(s) dropped on loading "
                     f"({_row_list(rows['dropped_rows'])})")
    if rows.get("excluded_rows"):
        excluded = rows["excluded_rows"]
        if rows.get("steps"):  # a query, a mask or a group, perhaps besides the largest losses
            parts.append(f"{len(excluded)} row(s) left out by the row selection "
                         f"({steps_text(rows['steps'])}: {_row_list(excluded)})")
        else:
            parts.append(f"the {rows.get('exclude_top_loss', len(excluded))} of largest loss "
                         f"excluded (--exclude-top-loss: {_row_list(excluded)})")
    return "; ".join(parts)


def _row_list(rows, shown: int = 10) -> str:
    """0-based data rows, the first ``shown`` of them and how many more."""
    return f"rows {named_list(rows, shown)}"
