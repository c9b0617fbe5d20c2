"""Tables of training runs: the input of every fit.

A sweep is read from a CSV/TSV/JSON/JSON-lines/Parquet file (:mod:`.readers`), a pandas
DataFrame or a dict of columns, and becomes a :class:`Runs`: a validated, deeply frozen
table whose canonical columns are ``N`` (parameters), ``D`` (training tokens), ``C``
(training compute, FLOP) and ``loss`` (nats/token), plus the optional ``U`` (unique
tokens), ``step``, ``group`` and ``run_id`` (which column is which: :mod:`.columns`).
Every other column is kept under its original name. Problems raise
:class:`~scalinglaws.InputError` naming the file, row, line and column; numbers that look
like other units warn, and repeated rows are announced (:mod:`._plausibility`); how a cell
is read as a number and how a bad one is named: :mod:`.cells`; the one of N, D, C derived
from C = k·N·D, or the three checked against it: :mod:`.compute`.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._exceptions import InputError, ScalingLawsWarning, user_stacklevel
from .._text import named_list
from .._validation import (FrozenDict, FrozenOnUnpickle, as_names, check_choice,
                           check_fits_in_memory, deep_freeze)
from ._hints import loss_hint, missing_column_message, read_explained, warn_unused_lookalikes
from ._plausibility import (DUPLICATES, LOSS_UNITS, MAX_PLAUSIBLE_LOSS, ZERO_TOKENS,
                            repeated_rows, to_nats, untrained_advice, warn_units, warn_untrained)
# cells read as numbers and the words naming rows (re-exported: the stage imports them here)
from .cells import (_bad_cells_message, _number_text, _parse_cell, _row_text,  # noqa: F401
                    _short, _to_float, _where, blank_cells, blank_rows, check_decimal_commas,
                    has_unit_suffix, input_values)
from .columns import (ALIASES, HOW_TO_GET, no_column_message, resolve_columns,
                      unused_name, without_empty_optional)
# C = k·N·D derived or checked (COMPUTE_TOLERANCE re-exported: it was defined here)
from .compute import (COMPUTE_TOLERANCE, check_flops_per_token, derive_compute,
                      warn_compute_mismatch)
from .fingerprint import fingerprint_arrays
from .readers import checked_frame, checked_mask, table_from_mapping, with_cell_texts
from .run_ids import warn_unnamed_runs
from .selection import columns_record
from .selection import group_step as _group_step

__all__ = ["Runs", "load_runs", "as_runs", "ALIASES", "fingerprint_arrays",
           "COMPUTE_TOLERANCE"]

# Columns that must hold finite positive numbers; the others are labels kept as given.
_NUMERIC = ("N", "D", "C", "loss", "U")
_PANDAS_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3


# ----------------------------------------------------------------------------- building


def _build_runs(table: pd.DataFrame, source: str, columns: Mapping | None,
                flops_per_token: float, nan_policy: str, *, lines: np.ndarray | None = None,
                thousands: bool = True, hint: str = "", checked: bool = False,
                loss_units: str | None = None, duplicates: str = "keep",
                cell_texts: Mapping | None = None, zero_tokens: str = "raise") -> Runs:
    """Runs of a table; ``checked`` adds the units checks of :mod:`._plausibility` (with
    ``loss_units``, None when not given), ``duplicates`` the policy on repeated rows and
    ``zero_tokens`` on rows at D = 0; ``cell_texts`` is the file's text of cells read as
    infinite, quoted in messages."""
    table = checked_frame(table, source, "runs")
    # The copies made while validating: only an absurd table trips this.
    check_fits_in_memory(len(table), 64.0 * len(table.columns), task="validating the table",
                         where=source, advice="Keep the runs you will fit, or split the table.")
    if checked:
        hint = "; ".join(text for text in (loss_hint(table, columns), hint) if text)
    headers = list(table.columns)
    table, mapping = without_empty_optional(table, resolve_columns(table, columns, source, hint))
    numeric = [name for name in _NUMERIC if name in mapping]
    if thousands and loss_units != "perplexity":  # "3,426": 3.426 nats, never 3426
        check_decimal_commas(table[mapping["loss"]], source, mapping["loss"], lines,
                             MAX_PLAUSIBLE_LOSS / (math.log(2) if loss_units == "bits" else 1))
    raw = {name: _to_float(table[mapping[name]], thousands) for name in numeric}
    # a row whose every cell is empty (a DataFrame's or JSON file's blank row, as a CSV
    # file's ",,," is skipped by the reader) is no run: dropped, and listed in dropped_rows
    blank = blank_rows(table)
    if blank.all():
        raise InputError(f"{source}: no runs (every row of the table is empty)")
    # rows at D = 0 (C = 0 without a token column): untrained checkpoints, dropped on request
    tokens = "D" if "D" in raw else "C" if "C" in raw else None
    untrained = (raw[tokens][0] == 0) & ~blank if tokens else np.zeros(len(table), bool)
    skipped = blank | untrained if zero_tokens == "drop" else blank
    missing = {name: np.isnan(values) & ~not_number & ~skipped
               for name, (values, not_number) in raw.items()}
    bad = {}
    for name, (values, not_number) in raw.items():
        with np.errstate(invalid="ignore"):
            mask = (not_number | np.isinf(values) | (values <= 0)) & ~skipped
        if nan_policy == "raise":
            mask |= missing[name]
        if mask.any():
            bad[name] = mask
    if bad:
        advice = (f"; {untrained_advice(int(untrained.sum()), tokens)}"
                  if untrained.any() and zero_tokens == "raise" else "")
        raise InputError(_bad_cells_message(bad, with_cell_texts(table, cell_texts,
                                                                 mapping.values()),
                                            mapping, source, lines, raw, nan_policy, thousands)
                         + advice)
    if loss_units not in (None, "nats"):
        raw["loss"] = (to_nats(raw["loss"][0], loss_units, source, mapping["loss"],
                               lambda row: _row_text(row, lines)), raw["loss"][1])

    incomplete = np.logical_or.reduce(list(missing.values()))
    keep = ~incomplete & ~skipped
    dropped = tuple(int(row) for row in np.flatnonzero(~keep))
    if len(dropped) == len(table):
        raise InputError(f"{source}: no runs left: all {len(table)} rows have missing values"
                         + (f" or {tokens} = 0" if untrained.any() else ""))
    if zero_tokens == "drop" and untrained.any():
        warn_untrained(source, int(untrained.sum()),
                       _row_text(int(np.flatnonzero(untrained)[0]), lines), tokens)
    if incomplete.any():
        first = int(np.flatnonzero(incomplete)[0])
        warnings.warn(
            f"{source}: dropped {int(incomplete.sum())} of {len(table)} rows with missing "
            f"values (nan_policy='omit'); the first is {_row_text(first, lines)}",
            ScalingLawsWarning, stacklevel=user_stacklevel())

    # A column called like a canonical name but not used as it stays, renamed, as an extra.
    renames = {column: name for name, column in mapping.items()}
    taken = set(map(str, table.columns)) | set(ALIASES)
    for column in table.columns:
        if column not in renames and column in ALIASES:
            renames[column] = unused_name(column, taken)
            taken.add(renames[column])
    frame = table.loc[keep].rename(columns=renames).reset_index(drop=True)
    read_as = {column: f"read as {name}" for name, column in mapping.items()}
    read_as.update({column: f"extra, as {renames[column]}" for column in table.columns
                    if column in renames and column not in read_as})
    headers = tuple((str(column), read_as.get(column, "extra") if column in table.columns
                     else "empty: absent") for column in headers)
    for name in numeric:
        frame[name] = raw[name][0][keep]
    rows = np.flatnonzero(keep)
    label = lambda i: _row_text(int(rows[i]), lines)  # the rows kept so far
    copies = repeated_rows(frame, duplicates, source, label)
    if copies.size:
        dropped = tuple(sorted((*dropped, *(int(rows[i]) for i in copies))))
        frame, rows = frame.drop(index=copies).reset_index(drop=True), np.delete(rows, copies)
    derived = derive_compute(frame, flops_per_token, source, lines, rows)
    if checked:
        warn_units(frame, mapping, derived, source, label, loss_units=loss_units,
                   suffixed={name for name in numeric if has_unit_suffix(table[mapping[name]])})
        warn_unused_lookalikes(table, mapping, derived, columns, source)
        warn_unnamed_runs(frame, mapping, columns, source)  # checkpoints counted as runs
    if not derived and {"N", "D", "C"} <= set(frame.columns):
        warn_compute_mismatch(frame, flops_per_token, source, lines, rows)
    ordered = [name for name in ALIASES if name in frame.columns]
    frame = frame[ordered + [column for column in frame.columns if column not in ordered]]
    if lines is not None:
        lines = np.asarray(lines, dtype=np.int64).copy()
        lines.flags.writeable = False
    # how the rows were read (the defaults say nothing): the start of Runs.selection
    selection = {**({"nan_policy": nan_policy} if nan_policy != "raise" else {}),
                 **({"duplicates": duplicates} if duplicates in ("drop", "raise") else {}),
                 **({"loss_units": loss_units} if loss_units is not None else {}),
                 **({"zero_tokens": zero_tokens} if zero_tokens != "raise" else {}),
                 **({"dropped_rows": dropped} if dropped else {})}
    return Runs(_frame=frame, source=source, flops_per_token=flops_per_token, derived=derived,
                n_dropped=len(dropped), dropped_rows=dropped,
                row_numbers=tuple(int(row) for row in rows), selection=deep_freeze(selection),
                source_columns=FrozenDict(mapping), source_lines=lines, source_headers=headers)


def _names_of(names: Any, where: str) -> tuple:
    """Column names as a tuple: one name, or an iterable of names."""
    return as_names(names, f"{where}: expected a column name or a list of them")


# ----------------------------------------------------------------------------- public API


def _check_options(flops_per_token: Any, nan_policy: Any, loss_units: Any = None,
                   duplicates: Any = "keep", zero_tokens: Any = "raise") -> float:
    k = check_flops_per_token(flops_per_token)
    check_choice("nan_policy", nan_policy, ("raise", "omit"))
    check_choice("zero_tokens", zero_tokens, ZERO_TOKENS)
    if loss_units is not None:
        check_choice("loss_units", loss_units, LOSS_UNITS)
    check_choice("duplicates", duplicates, DUPLICATES)
    return k


def load_runs(data: Any, columns: Mapping | None = None, *, flops_per_token: float = 6.0,
              nan_policy: str = "raise", format: str | None = None, sep: str | None = None,
              loss_units: str | None = None, duplicates: str = "warn",
              zero_tokens: str = "raise") -> Runs:
    """Read and validate a table of training runs.

    Parameters
    ----------
    data : str, os.PathLike, pandas.DataFrame or dict
        A file (``.csv``; ``.tsv``/``.tab``; ``.json`` holding a list of
        records or a pandas "records", "columns" or "split" orient;
        ``.jsonl``/``.ndjson``; ``.parquet``/``.pq``, which needs pyarrow),
        a DataFrame, or a dict of columns.
    columns : mapping, optional
        Canonical name → the table's column, e.g. ``{"N": "nonembedding_params"}``;
        wins over header detection. ``None`` as a value means the table has no such
        column. Canonical names: ``N``, ``D``, ``C``, ``loss``, ``U``, ``step``,
        ``group``, ``run_id``, and ``S_min`` (``kaplan_ns``) and ``task_loss`` (the task
        forms), read as numbers only when a law takes them; see :data:`ALIASES` for the
        headers recognised without a mapping (case, surrounding whitespace and
        ``_``/``-``/space differences are ignored). A column named like a canonical name
        but mapped away (``N`` when ``columns={"N": "N_no_embed"}``) stays as an extra
        called ``N_unused``. The mapping given is recorded in :attr:`Runs.selection`
        (``columns``), so a fit of the runs records it and its data is read again with it
        (``scalinglaws plot``/``report --data``, a table given to a figure or report of
        the fit). An optional column (all but N, D, C, loss) whose every cell
        is empty is read as absent. In a CSV/TSV file, rows whose every field is empty are skipped;
        in any other table, rows whose every cell is missing or blank are dropped and
        listed in ``dropped_rows``.
    flops_per_token : float, default 6.0
        The k in C = k·N·D, used to derive the one of N, D, C that is absent. When
        all three are given they are kept as is; a gap larger than
        :data:`COMPUTE_TOLERANCE` (2x) warns, naming the rows.
    nan_policy : {"raise", "omit"}
        What to do with missing cells in N, D, C, loss or U: raise, or drop
        those rows with a :class:`~scalinglaws.ScalingLawsWarning`.
        Infinite, zero, negative and non-numeric cells always raise.
    format : str, optional
        ``"csv"``, ``"tsv"``, ``"json"``, ``"jsonl"`` or ``"parquet"``;
        overrides detection by file suffix.
    sep : str, optional
        Field delimiter of a CSV/TSV file (one character, e.g. ``";"``). By default
        ``,`` (tab for ``.tsv``), and a file whose header holds no ``,`` but splits every
        line evenly on ``;``, tab or ``|`` is read with that delimiter. In a
        ``;``-separated file a comma inside a number is refused (it may be a decimal
        mark).
    loss_units : {"nats", "bits", "perplexity"}, optional
        What the loss column holds, converted to nats per token (bits × ln 2,
        ln(perplexity)). Giving it, even ``"nats"``, silences the warning about a loss
        column named like a perplexity or bits (ppl, bpb, bpc...).
    duplicates : {"warn", "keep", "drop", "raise"}, default "warn"
        A row repeating an earlier row in every column (a log appended twice) counts as
        one more run: keep it with a warning naming both rows, keep it quietly, drop it
        (the first of each stays; ``dropped_rows`` lists the rest) or raise. Runs that
        share N and D but differ in loss (seeds) are not repeats.
    zero_tokens : {"raise", "drop"}, default "raise"
        Rows at D = 0 (C = 0 without a token column): the untrained step-0 checkpoint some
        logs hold. Raise, as for any value not positive (the message offers this option),
        or drop them with a warning saying how many (``dropped_rows`` lists them), as
        :func:`~scalinglaws.load_tasks` does.

    Returns
    -------
    Runs

    Raises
    ------
    InputError
        For an unreadable or unknown file, a folder, an empty table, a header naming
        a column twice, a row with more fields than the header, a missing loss
        column, two columns with one meaning, a bad cell (the message names the row,
        the line of a CSV/TSV/JSON-lines file and the column), a file too large to
        read into memory, a scalinglaws fit (or other) file, a JSON object that is not
        a table (the message shows the shapes expected), or a repeated row with
        ``duplicates="raise"``.

    Warns
    -----
    UnitsWarning
        A loss column named like a perplexity or bits (unless ``loss_units`` is given), a
        loss above 14.45 nats, a column of N, D, C or U whose header names a scale
        (``params (M)``, ``tokens_B``), every N < 1e4, D < 1e6 or C < 6e10, a median D/N
        above 1e5 or below 1 (most runs with fewer tokens than parameters: N and D
        swapped?), a few rows 1,000 times beyond all others (why:
        :mod:`scalinglaws.data._plausibility`); naming file and column.
    ScalingLawsWarning
        Rows dropped or repeated (``nan_policy``, ``duplicates``); C far from k·N·D; a
        column like N left unused (``nonembedding_params`` beside ``params``); rows that
        look like checkpoints with no run id read (:mod:`.run_ids`, naming the columns
        that could be it).

    Notes
    -----
    Cells may be numbers or text such as ``"70M"``, ``"1.4B"``, ``"2T"``,
    ``"500k"``, ``"1.5e9"``, ``"3,000,000"`` or ``"1.2 G"``. Suffixes are
    case-insensitive: k = 1e3, M = 1e6 (so ``"m"`` also means million, never
    milli), B = G = 1e9, T = 1e12, P = 1e15.

    Examples
    --------
    >>> runs = load_runs({"params": ["70M", "1.4B"], "tokens": [1.4e9, 2.8e10],
    ...                   "loss": [3.9, 2.9]})
    >>> runs.N.tolist(), runs.derived
    ([70000000.0, 1400000000.0], ('C',))

    A perplexity column, converted to nats per token:

    >>> runs = load_runs({"N": [7e7, 1.4e9], "D": [1.4e9, 2.8e10], "val_ppl": [49.4, 18.2]},
    ...                  columns={"loss": "val_ppl"}, loss_units="perplexity")
    >>> runs.loss.round(3).tolist()
    [3.9, 2.901]
    """
    k = _check_options(flops_per_token, nan_policy, loss_units, duplicates, zero_tokens)
    table, source = read_explained(data, format=format, sep=sep)
    runs = _build_runs(table.frame, source, columns, k, nan_policy, lines=table.lines,
                       thousands=table.thousands, hint=table.hint, checked=True,
                       loss_units=loss_units, duplicates=duplicates,
                       cell_texts=table.cell_texts, zero_tokens=zero_tokens)
    # the mapping given, recorded with the rows (a fit's data is read again with it)
    record = columns_record(columns, runs.source_columns)
    return replace(runs, selection=deep_freeze({"columns": record, **runs.selection})) \
        if record else runs


def as_runs(data: Any, **kwargs: Any) -> Runs:
    """Return ``data`` if it is already :class:`Runs`, else ``load_runs(data, **kwargs)``.

    Reading options, a ``flops_per_token`` other than the runs' and policies that would
    change the table (``duplicates="drop"``, ``nan_policy="omit"``...) raise InputError.
    """
    if not isinstance(data, Runs):
        return load_runs(data, **kwargs)
    acting = {"duplicates": ("drop", "raise"), "nan_policy": ("omit",),
              "zero_tokens": ("drop",)}
    for option in ("columns", "format", "sep", "loss_units", "duplicates", "nan_policy",
                   "zero_tokens"):
        value = kwargs.get(option)
        if value is not None and value in acting.get(option, (value,)):
            raise InputError(f"{option}={value!r} applies when loading a table, not to loaded "
                             f"Runs: pass the file or DataFrame, or give it to load_runs")
    k = kwargs.get("flops_per_token")
    if k is not None and _check_options(k, "raise") != data.flops_per_token:
        raise InputError(f"flops_per_token={k!r} differs from the {data.flops_per_token:g} the "
                         "runs were loaded with; reload them with load_runs")
    return data


@dataclass(frozen=True, eq=False)
class Runs(FrozenOnUnpickle):
    """A validated, deeply frozen table of training runs; build it with :func:`load_runs`.

    Attributes
    ----------
    frame : pandas.DataFrame
        Canonical columns (``N``, ``D``, ``C``, ``loss``, ``U`` as finite
        positive float64; ``step``, ``group``, ``run_id`` as given) first, then
        every other column under its original name; index 0..n-1. Each access
        returns a copy (copy-on-write, so it costs nothing until written to):
        changing it never changes the runs.
    source : str
        The file path, or ``"<DataFrame>"``, ``"<dict>"``, ``"<arrays>"``.
    flops_per_token : float
        The k of C = k·N·D.
    derived : tuple of str
        Canonical columns computed from C = k·N·D rather than read.
    n_dropped, dropped_rows : int, tuple of int
        Rows (0-based positions in the source) dropped for missing values
        (``nan_policy="omit"``), as repeats of an earlier row (``duplicates="drop"``) or at
        D = 0 (``zero_tokens="drop"``).
    row_numbers : tuple of int
        Source position of each kept row, so messages can name the user's row.
    source_columns : mapping (read-only)
        Canonical name → the source column it was read from.
    source_lines : numpy.ndarray or None (read-only)
        Line in the file of each source row (CSV/TSV/JSON lines); None when lines do
        not apply.
    source_headers : tuple of (str, str)
        Each header of the source table, in order, with how it was read: ``"read as N"``
        (a canonical name), ``"extra"`` (kept under its name), ``"extra, as N_unused"`` or
        ``"empty: absent"``; a message about a missing column lists them.
    selection : mapping (read-only)
        How the runs were chosen from the source table, recorded by a fit of them as
        ``options["rows"]`` (empty: every row, default loading): ``nan_policy``,
        ``duplicates``, ``zero_tokens`` (not the defaults), ``loss_units`` and
        ``columns`` (when given: each canonical name mapped, with the header read or
        None) and ``dropped_rows`` on loading; since then
        (:meth:`exclude_top_loss`, :meth:`select`, :meth:`query`, :meth:`groupby`)
        ``excluded_rows``, ``exclude_top_loss`` (k in all) and, after any other
        selection, ``steps`` in order. :meth:`with_selection` makes them again.
    """

    _frame: pd.DataFrame = field(repr=False)
    source: str = "<DataFrame>"
    flops_per_token: float = 6.0
    derived: tuple[str, ...] = ()
    n_dropped: int = 0
    dropped_rows: tuple[int, ...] = ()
    row_numbers: tuple[int, ...] = ()
    source_columns: Mapping = field(default_factory=FrozenDict)
    source_lines: np.ndarray | None = field(default=None, repr=False)
    selection: Mapping = field(default_factory=FrozenDict, repr=False)
    source_headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if not self.row_numbers:
            object.__setattr__(self, "row_numbers", tuple(range(len(self._frame))))
        if len(self.row_numbers) != len(self._frame):
            raise InputError("row_numbers must give one source row per run")

    @property
    def frame(self) -> pd.DataFrame:
        """The table (a copy: writing to it leaves the runs unchanged)."""
        return self._frame.copy(deep=not _PANDAS_COPY_ON_WRITE)

    @property
    def first_line(self) -> int | None:
        """Line in the file of source row 0 (None when lines do not apply)."""
        return None if self.source_lines is None else int(self.source_lines[0])

    @classmethod
    def from_arrays(cls, N: Any = None, D: Any = None, C: Any = None, loss: Any = None, *,
                    flops_per_token: float = 6.0, nan_policy: str = "raise",
                    **extra: Any) -> Runs:
        """Build runs from arrays; ``extra`` columns are kept (``U``, ``group``... recognised)."""
        k = _check_options(flops_per_token, nan_policy)
        given = {name: value for name, value in zip("NDC", (N, D, C)) if value is not None}
        if loss is None:
            raise InputError("from_arrays needs loss=")
        table = table_from_mapping({**given, "loss": loss, **extra}, "<arrays>")
        # Only the keyword arguments name N, D, C; an extra called "tokens" stays an extra.
        columns = {name: (name if name in given else None) for name in "NDC"}
        return _build_runs(table, "<arrays>", {**columns, "loss": "loss"}, k, nan_policy)

    def __len__(self) -> int:
        return len(self._frame)

    def __repr__(self) -> str:
        ranges = [
            f"{name} {_short(values.min(), digits)}–{_short(values.max(), digits)}"
            for name, digits in (("N", 2), ("D", 2), ("C", 2), ("loss", 3))
            if self.has(name)
            for values in [self._array(name)]
        ]
        count = f"{len(self)} run{'s' if len(self) != 1 else ''}"
        return f"Runs({count} from {Path(self.source).name}; {', '.join(ranges)})"

    def _array(self, name: str) -> np.ndarray:
        if name not in self._frame.columns and name not in HOW_TO_GET:
            raise InputError(f"runs from {self.source} have no column {name!r}, an input of the "
                             f"law; columns: {self.columns}")
        if name not in self._frame.columns:
            raise InputError(missing_column_message(name, self.source, self.columns,
                                                    HOW_TO_GET[name], self._frame,
                                                    headers=self.source_headers))
        values = (self._frame[name].to_numpy(dtype=np.float64, copy=True) if name in _NUMERIC
                  else input_values(self._frame[name], name, self.source_columns.get(name, name),
                                    self.source, self.row_numbers, self.source_lines))
        values.flags.writeable = False
        return values

    N = property(lambda self: self._array("N"), doc="Parameters (read-only float64 array).")
    D = property(lambda self: self._array("D"), doc="Training tokens (read-only float64 array).")
    C = property(lambda self: self._array("C"), doc="Training compute, FLOP (read-only array).")
    loss = property(lambda self: self._array("loss"), doc="Loss, nats/token (read-only array).")
    U = property(lambda self: self._array("U"), doc="Unique tokens (read-only float64 array).")

    @property
    def columns(self) -> list:
        """Names of the frame's columns, canonical first."""
        return list(self._frame.columns)

    def has(self, name: str) -> bool:
        """Whether the frame has column ``name`` (canonical, derived or extra)."""
        return name in self._frame.columns

    def inputs(self, names: Iterable[str]) -> dict[str, np.ndarray]:
        """Arrays for the ``names`` a law takes; InputError names a missing one or a bad cell.
        Beyond N, D, C, loss and U (checked on loading), a name is read from its column now
        (``S_min``, ``task_loss``, a custom form's input by its column's name)."""
        names = _names_of(names, "inputs")
        return {name: self._array(name) for name in names}

    def row_label(self, i: int) -> str:
        """Human label of run ``i``, e.g. ``"row 7 (line 9) of runs.csv"``."""
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, numbers.Integral) \
                or not -len(self) <= i < len(self):
            raise InputError(f"row_label: i must be an integer index of the {len(self)} runs, "
                             f"got {i!r}")
        return f"{_row_text(self.row_numbers[i], self.source_lines)} of {self.source}"

    def to_frame(self) -> pd.DataFrame:
        """A copy of the frame."""
        return self._frame.copy()

    def compute_mismatch(self) -> float:
        """Largest relative gap max |C − k·N·D| / C, to check given N, D, C agree."""
        N, D, C = self.inputs(("N", "D", "C")).values()
        return float(np.max(np.abs(C - self.flops_per_token * N * D) / C))

    def fingerprint(self, names: Iterable[str] = ("N", "D", "C", "loss")) -> str:
        """A stable hash of the data: ``"sha256:<hex>"``.

        For each of ``names`` present, in order, the SHA-256 is fed the UTF-8
        text ``"<name>:<count>\\n"`` and then the column as little-endian
        float64 bytes. Absent names are skipped; extra columns count only when named
        (a law's input such as ``S_min``).
        """
        names = _names_of(names, "fingerprint")
        for name in names:
            if name not in HOW_TO_GET and not self.has(name):
                raise InputError(f"fingerprint: {name!r} is neither one of {list(HOW_TO_GET)} "
                                 f"nor a column of the runs")
        return fingerprint_arrays((name, self._array(name)) for name in names if self.has(name))

    def select(self, mask: Any) -> Runs:
        """Runs where ``mask`` (booleans, or a callable frame → booleans) is True."""
        if callable(mask):
            try:
                mask = mask(self.frame)
            except Exception as error:  # the user's function: say where it failed
                raise InputError(f"select: the mask function failed on runs.frame: "
                                 f"{type(error).__name__}: {error}") from error
        if isinstance(mask, pd.Series) and not mask.index.equals(self._frame.index):
            raise InputError("select: the mask Series is not indexed like runs.frame")
        return self._subset(checked_mask(mask, len(self), "runs"), None)

    def _subset(self, keep: np.ndarray, step: dict | None) -> Runs:
        """The runs where ``keep``, recording ``step`` (None: a mask's) in :attr:`selection`."""
        rows = np.asarray(self.row_numbers)
        kept = replace(self, _frame=self._frame.loc[keep].reset_index(drop=True),
                       row_numbers=tuple(rows[keep].tolist()))
        left_out = tuple(rows[~keep].tolist())
        if not left_out:
            return kept
        record = dict(self.selection)
        record["excluded_rows"] = tuple(sorted(record.get("excluded_rows", ()) + left_out))
        step = {"select": left_out} if step is None else step
        prior = record.get("exclude_top_loss", 0)
        if "exclude_top_loss" in step:
            record["exclude_top_loss"] = prior + step["exclude_top_loss"]
        if "steps" in record or "exclude_top_loss" not in step:
            # without steps so far, every earlier selection excluded runs of largest loss
            earlier = record.get("steps", ({"exclude_top_loss": prior},) if prior else ())
            record["steps"] = (*earlier, step)
        return replace(kept, selection=deep_freeze(record))

    def with_selection(self, rows: Mapping) -> Runs:
        """The runs selected as ``rows`` (a fit's ``options["rows"]``) says, step by step;
        load the table with its ``columns``, ``nan_policy``, ``duplicates``, ``loss_units``
        and ``zero_tokens`` first (:func:`load_runs`): a ``loss_units`` other than the one
        recorded raises, runs that read another column than its ``columns`` warn
        (:class:`~scalinglaws.DataMismatchWarning`, naming both;
        :func:`.selection.replay_selection`)."""
        from .selection import replay_selection

        return replay_selection(self, rows)

    def query(self, expr: str) -> Runs:
        """Runs matching a :meth:`pandas.DataFrame.query` expression, e.g. ``"N > 1e9"``."""
        if not isinstance(expr, str):
            raise InputError(f"query: expr must be text such as 'N > 1e9', got {expr!r}")
        try:
            picked = self._frame.query(expr)
        # pandas raises many unrelated types (SyntaxError, NameError, KeyError...).
        except Exception as error:
            raise InputError(f"query {expr!r} failed: {error}; columns: {self.columns}") from error
        return self._subset(checked_mask(self._frame.index.isin(picked.index), len(self), "runs"),
                            {"query": expr})

    def exclude_top_loss(self, k: int) -> Runs:
        """Drop the ``k`` runs of largest loss (ties: the earlier row goes first); rows that
        are checkpoints (``run_id`` repeats) go by run, ranked by final loss
        (:func:`.run_ids.without_top_loss`)."""
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral) or k < 0:
            raise InputError(f"exclude_top_loss: k must be a non-negative integer, got {k!r}")
        from .run_ids import without_top_loss

        return self if k == 0 else self._subset(without_top_loss(self, k),
                                                {"exclude_top_loss": int(k)})

    def labels(self, column: str, argument: str) -> np.ndarray:
        """The values of ``column``, which the argument ``argument`` names (groups,
        budgets, run ids, clusters): :class:`InputError` naming it when there is no such
        column or a value is missing (naming the first three such rows, and how many more,
        and the file)."""
        if not isinstance(column, str) or column not in self._frame.columns:
            raise InputError(no_column_message(column, self.columns, f"`{argument}`"))
        values = self._frame[column]
        if values.isna().any():
            missing = np.flatnonzero(values.isna().to_numpy())
            rows = named_list((_row_text(self.row_numbers[i], self.source_lines)
                               for i in missing[:3]), 3, total=missing.size, noun="row")
            raise InputError(f"`{argument}`: column {column!r} is missing at {rows} of "
                             f"{self.source}")
        return values.to_numpy()

    def groupby(self, column: str) -> list[tuple[Any, Runs]]:
        """``(key, runs)`` for each value of ``column``, sorted by key (NaN keys kept)."""
        if not isinstance(column, str) or column not in self._frame.columns:
            raise InputError(no_column_message(column, self.columns, "groupby"))
        return [(key, self._subset(self._frame.index.isin(part.index), _group_step(column, key)))
                for key, part in self._frame.groupby(column, sort=True, dropna=False)]
