"""A fit's record of how its runs were chosen from their table (``options["rows"]``:
:attr:`Runs.selection <scalinglaws.data.runs.Runs.selection>`), made again on the runs of
that table: :meth:`Runs.with_selection <scalinglaws.data.runs.Runs.with_selection>`, which
a command given a fit and ``--data`` uses to read the runs the fit was made on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._exceptions import InputError
from .readers import checked_mask

__all__ = ["group_step", "replay_selection"]


def group_step(column: str, key: Any) -> dict:
    """:meth:`Runs.groupby`'s selection step of group ``key``, plain (None: missing values)."""
    key = key.item() if isinstance(key, np.generic) else key
    return {"groupby": column, "value": None if pd.isna(key) else key}


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
