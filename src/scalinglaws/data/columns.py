"""Which column holds what: recognised headers, the ``columns`` mapping, suggestions.

:func:`resolve_columns` maps each canonical name (``N``, ``D``, ``C``, ``loss``, ``U``,
``step``, ``group``, ``run_id``, and the inputs of the laws beyond these: ``S_min`` of
``kaplan_ns``, ``task_loss`` of the task forms) to the table's column holding it. An
explicit mapping always wins; otherwise a header is recognised by :data:`ALIASES`
(ignoring case, surrounding whitespace and ``_``/``-``/space differences). Two columns that
both look like one quantity are an error naming both, unless one of them holds no number at
all (a label such as Porian et al.'s ``param_count`` = "kaplan"). Messages are plain words,
the same in Python and on the command line. An optional column (``U``, ``step``,
``group``, ``run_id``, ``S_min``, ``task_loss``) whose every cell is empty is absent
(:func:`without_empty_optional`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from .._exceptions import InputError
from .._text import named_list
from .._validation import MISSING_TEXT, parse_quantity

__all__ = ["ALIASES", "OPTIONAL", "HOW_TO_GET", "resolve_columns", "unused_name", "normalise",
           "without_empty_optional", "headers_read_as", "no_column_message", "nearest_first"]

#: Header names recognised for each canonical column, after normalisation
#: (lower case, surrounding whitespace removed, ``_``/``-``/spaces as one space).
#: Besides the short names, the spellings of W&B, Hugging Face and Megatron exports
#: (``total_params``, ``num_tokens``, ``eval/loss``; ``/`` is kept by :func:`normalise`,
#: as in :data:`~scalinglaws.data.curve_logs.CURVE_ALIASES`). Two of them in one table
#: (``loss`` and ``eval/loss``) are refused as ambiguous, never picked between.
ALIASES: dict[str, tuple[str, ...]] = {
    "N": ("n", "params", "n params", "num params", "parameters", "model size", "param count",
          "n parameters", "num parameters", "total params", "total parameters"),
    "D": ("d", "tokens", "n tokens", "training tokens", "train tokens", "data", "tokens seen",
          "num tokens", "total tokens", "consumed tokens"),
    "C": ("c", "flops", "flop", "compute", "training flop", "training flops", "train flops",
          "total flops"),
    "loss": ("loss", "val loss", "eval loss", "validation loss", "final loss", "train loss",
             "train/loss", "val/loss", "eval/loss", "validation/loss", "loss/train",
             "loss/val"),
    "U": ("u", "unique tokens"),
    "step": ("step",),
    "group": ("group",),
    # Only these two. An alias renames its column run_id, which the fit's bootstrap and
    # calibrate then take whole runs by (clusters="auto"), so it must never catch a column
    # that is no run: "name" and "model" label a model size in sweeps (one per N, at several
    # D: separate runs), "experiment" and "exp name" a recipe or setting in others (a group:
    # fitting.run_warnings.GROUP_COLUMNS), and "run name" is Muennighoff et al.'s unique
    # name per run, which users query by. When rows look like checkpoints and no run id is
    # read, the loader names the columns that could be it instead (run_ids.warn_unnamed_runs).
    "run_id": ("run id", "run"),
    # the inputs of laws beyond N, D, C and U: read as numbers when a law takes them
    # (Runs.inputs), so that a table fitted with another law may leave them as they are
    "S_min": ("s min",),
    "task_loss": ("task loss",),
}
#: Canonical columns a table of runs may lack whatever law is fitted: one the header names
#: but whose every cell is empty is read as absent (:func:`without_empty_optional`).
OPTIONAL = ("U", "step", "group", "run_id", "S_min", "task_loss")
_ALIAS_TO_NAME = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
MEANING = {"N": "parameters", "D": "tokens", "C": "compute", "loss": "loss",
           "U": "unique tokens", "step": "step", "group": "group", "run_id": "run id",
           "S_min": "minimum optimisation steps", "task_loss": "task loss"}
#: how to get each canonical column a table lacks (the message naming it missing)
HOW_TO_GET = {
    "N": "give parameters or compute (with tokens)",
    "D": "give tokens or compute (with parameters)",
    "C": "give compute or parameters and tokens",
    "loss": "give a loss column",
    "U": "give unique tokens",
    "S_min": "form kaplan_ns takes it",
    "task_loss": "the task forms take it (a task table: scalinglaws.fit_downstream)",
}


def normalise(header: Any) -> str:
    """A header as compared with :data:`ALIASES`: lower case, one space for ``_``/``-``."""
    return re.sub(r"[\s_\-]+", " ", str(header).strip().lower()).strip()


def _listing(columns: list) -> str:
    return named_list(columns, 20)


def nearest_first(wanted: Any, names: list, *, shown: int = 20) -> tuple[list, str]:
    """The ``names`` most like ``wanted`` (a run or task that is not there: difflib's close
    matches, then names sharing a number or a word with it, ``peteish7`` ->
    ``olmo2-7B-stage1``), and a listing of all of them, those first, ``shown`` at most
    and how many more: what a message shows instead of the first 20 in table order, which
    hid the names a user meant."""
    def words(text: str) -> set:
        return {w for w in re.findall(r"[a-z]+|\d+(?:\.\d+)?", str(text).lower())
                if len(w) > 1 or w.isdigit()}

    typed, by_key = words(wanted), {}
    for name in names:
        by_key.setdefault(str(name).lower(), name)
    if str(wanted).lower() in by_key:  # the same name in other case: that one
        near = [by_key[str(wanted).lower()]]
    else:
        close = [by_key[key] for key in difflib.get_close_matches(
            str(wanted).lower(), list(by_key), n=3, cutoff=0.6)]
        sharing = sorted((name for name in names if name not in close and typed & words(name)),
                         key=lambda name: -len(typed & words(name)))
        near = (close + sharing)[:3]
    ordered = near + [name for name in names if name not in near]
    return near, named_list(ordered, shown)


def _close(wanted: str, candidates: list) -> list:
    """Columns whose normalised name is close to ``wanted`` (best first)."""
    by_key: dict = {}
    for column in candidates:
        by_key.setdefault(normalise(column), column)
    keys = difflib.get_close_matches(normalise(wanted), list(by_key), n=3, cutoff=0.6)
    return [by_key[key] for key in keys]


def headers_read_as(source: str, headers) -> str:
    """``The file has: params (read as N), lr (extra).``: the headers of the source (a
    file, or a table when ``source`` is ``<DataFrame>``...) with how each was read, from
    ``(header, how)`` pairs (:attr:`~scalinglaws.data.runs.Runs.source_headers`)."""
    shown = named_list([f"{header} ({how})" for header, how in headers], 20)
    return f"The {'table' if source.startswith('<') else 'file'} has: {shown}."


def no_column_message(column: Any, columns: list, argument: str) -> str:
    """``ARGUMENT: no column 'x'. Did you mean 'y'? Columns: ...``: a column named by an
    argument (``groupby``, `` `groups` ``, ``--by``) that the table lacks."""
    close = _close(str(column), [str(c) for c in columns])
    return (f"{argument}: no column {column!r}.{_did_you_mean(close)} Columns: "
            f"{_listing(list(columns))}")


def _did_you_mean(columns: list) -> str:
    if not columns:
        return ""
    quoted = " or ".join(repr(str(column)) for column in columns)
    return f" Did you mean {quoted}?"


def _find(wanted: Any, available: list, source: str, name: str) -> Any:
    if wanted in available:
        return wanted
    matches = [column for column in available if normalise(column) == normalise(wanted)]
    if len(matches) == 1:
        return matches[0]
    raise InputError(f"{source}: the columns option maps {name} to {str(wanted)!r}, but there is "
                     f"no such column.{_did_you_mean(_close(str(wanted), available))} "
                     f"Columns: {_listing(available)}")


def _holds_numbers(series) -> bool:
    """Whether any cell of a column reads as a number (a column of labels does not)."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
            series.dtype):
        return True
    for cell in series.head(1000).tolist():
        if isinstance(cell, str) and cell.strip().lower() not in MISSING_TEXT:
            number = parse_quantity(cell)
            if number is not None:
                return True
        elif isinstance(cell, (int, float)) and not isinstance(cell, bool):
            return True
    return False


def unused_name(column: str, taken) -> str:
    """The name under which a column called like a canonical name, but not used as it,
    stays in the table (``N`` -> ``N_unused``)."""
    candidate, number = f"{column}_unused", 2
    while candidate in taken:
        candidate, number = f"{column}_unused{number}", number + 1
    return candidate


def resolve_columns(table, columns: Mapping | None, source: str, hint: str = "") -> dict:
    """Map each canonical name present to the table's column holding it.

    ``columns`` (canonical name -> column, or None for "no such column") wins over
    recognised headers. ``hint`` is added to a "no loss column" message.
    """
    available = list(table.columns)
    if columns is not None and not isinstance(columns, Mapping):
        raise InputError(f"the columns option must map canonical names to columns, such as "
                         f"N to params; got {columns!r}")
    # An empty column name says "no such column", as None does: --columns N= on the
    # command line (the task table's CLI reads it the same way).
    explicit = {name: (None if isinstance(column, str) and not column.strip() else column)
                for name, column in (columns or {}).items()}
    unknown = [key for key in explicit if key not in ALIASES]
    if unknown:
        # params=N: the pair written the wrong way round (canonical name first: N=params)
        flipped = [f"{explicit[key]}={key}" for key in unknown
                   if isinstance(explicit[key], str) and explicit[key] in ALIASES]
        hint = f"; the canonical name comes first: {', '.join(flipped)}" if flipped else ""
        raise InputError(f"the columns option names {', '.join(map(repr, map(str, unknown)))}, "
                         f"not one of {', '.join(ALIASES)}{hint}")
    if "loss" in explicit and explicit["loss"] is None:
        raise InputError("the columns option says the table has no loss column (loss=None), "
                         "but every fit needs one")
    mapping = {name: _find(column, available, source, name)
               for name, column in explicit.items() if column is not None}
    used: dict = {}
    for name, column in mapping.items():
        if column in used:
            raise InputError(f"{source}: the columns option maps both {used[column]} and {name} "
                             f"to column {str(column)!r}")
        used[column] = name
    candidates: dict = {}
    for column in available:
        name = _ALIAS_TO_NAME.get(normalise(column))
        if name is not None and name not in explicit and column not in used:
            candidates.setdefault(name, []).append(column)
    for name, found in candidates.items():
        if len(found) > 1:  # a column of labels cannot hold the quantity: it stays an extra
            numeric = [column for column in found if _holds_numbers(table[column])]
            found = numeric or [column for column in found if column == name] or found[:1]
        if len(found) > 1:
            choices = " or ".join(f"{name}={column}" for column in found)
            raise InputError(
                f"{source}: columns {' and '.join(repr(str(c)) for c in found)} both look like "
                f"{name} ({MEANING[name]}); say which to use with the columns option ({choices})")
        mapping[name] = found[0]
    if "loss" not in mapping:
        near = [column for column in available
                if difflib.get_close_matches(normalise(column), ALIASES["loss"], n=1, cutoff=0.75)]
        recognised = ", ".join(alias.replace(" ", "_") for alias in ALIASES["loss"])
        read_as = {column: f"read as {name}" for name, column in mapping.items()}
        listing = headers_read_as(source, [(str(column), read_as.get(column, "extra"))
                                           for column in available])
        raise InputError(
            f"{source}: no loss column.{_did_you_mean(near)} {listing} "
            f"Recognised names for the loss: {recognised} (any case); or say which column "
            f"holds it with the columns option (loss=<column>)" + (f". Hint: {hint}" if hint else ""))
    return mapping


def _all_missing(series) -> bool:
    """Whether every cell of a column is missing: NaN, None, or text such as "" or "NA"."""
    import pandas as pd

    missing = series.isna().to_numpy()
    if missing.all():
        return True
    if series.dtype != object and not pd.api.types.is_string_dtype(series.dtype):
        return False
    return all(isinstance(cell, str) and cell.strip().lower() in MISSING_TEXT
               for cell in series[~missing].tolist())


def without_empty_optional(table, mapping: Mapping) -> tuple:
    """``(table, mapping)`` without the :data:`OPTIONAL` columns (``U``, ``step``,
    ``group``, ``run_id``) whose every cell is missing: a header a spreadsheet or a logger
    wrote over no values means the table has no such column, not one of missing values.
    ``mapping`` is what :func:`resolve_columns` returned; both are returned unchanged when
    no such column is empty."""
    empty = {name: mapping[name] for name in OPTIONAL
             if name in mapping and _all_missing(table[mapping[name]])}
    if not empty:
        return table, mapping
    return (table.drop(columns=list(empty.values())),
            {name: column for name, column in mapping.items() if name not in empty})
