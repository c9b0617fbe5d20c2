"""Tables of training runs: the input of every fit.

A sweep is read from a CSV/TSV/JSON/JSON-lines/Parquet file, a pandas
DataFrame or a dict of columns, and becomes a :class:`Runs`: a validated table
whose canonical columns are ``N`` (parameters), ``D`` (training tokens), ``C``
(training compute, FLOP) and ``loss`` (nats/token), plus the optional ``U``
(unique tokens), ``step``, ``group`` and ``run_id``. Every other column is kept
under its original name. Problems raise :class:`~scalinglaws.InputError` naming
the file, row, line and column.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._exceptions import InputError, ScalingLawsWarning

__all__ = ["Runs", "load_runs", "as_runs", "ALIASES"]

#: Header names recognised for each canonical column, after normalisation
#: (lower case, surrounding whitespace removed, ``_``/``-``/spaces as one space).
ALIASES: dict[str, tuple[str, ...]] = {
    "N": ("n", "params", "n params", "num params", "parameters", "model size", "param count"),
    "D": ("d", "tokens", "n tokens", "training tokens", "train tokens", "data"),
    "C": ("c", "flops", "flop", "compute", "training flop", "training flops", "train flops"),
    "loss": ("loss", "val loss", "eval loss", "validation loss", "final loss", "train loss"),
    "U": ("u", "unique tokens"),
    "step": ("step",),
    "group": ("group",),
    "run_id": ("run id", "run"),
}
_ALIAS_TO_NAME = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
# Columns that must hold finite positive numbers; the others are labels kept as given.
_NUMERIC = ("N", "D", "C", "loss", "U")
_MEANING = {"N": "parameters", "D": "tokens", "C": "compute", "loss": "loss", "U": "unique tokens"}
_HOW_TO_GET = {
    "N": "give parameters or compute (with tokens)",
    "D": "give tokens or compute (with parameters)",
    "C": "give compute or parameters and tokens",
    "loss": "give a loss column",
    "U": "give unique tokens",
}
_FORMATS = {
    "csv": "csv", "tsv": "tsv", "tab": "tsv", "json": "json", "jsonl": "jsonl",
    "ndjson": "jsonl", "parquet": "parquet", "pq": "parquet",
}  # fmt: skip
_SCALE = {"k": 3, "m": 6, "b": 9, "g": 9, "t": 12, "p": 15}
_NUMBER = re.compile(
    r"([+-]?(?:\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*([kmbgtp]?)",
    re.IGNORECASE,
)
_MISSING_TEXT = {"", "nan", "na", "n/a", "null", "none"}


def _normalise(header: Any) -> str:
    return re.sub(r"[\s_\-]+", " ", str(header).strip().lower()).strip()


def _number_text(value: float) -> str:
    if math.isfinite(value) and value == int(value) and abs(value) < 1e16:
        return str(int(value))
    return repr(float(value))


def _short(value: float, digits: int) -> str:
    return re.sub(r"e\+?(-?)0*(\d)", r"e\1\2", f"{value:.{digits}g}")


def _row_text(row: int, first_line: int | None) -> str:
    return f"row {row}" if first_line is None else f"row {row} (line {row + first_line})"


def _where(source: str, row: int, first_line: int | None) -> str:
    return f"{source}: {_row_text(row, first_line)}"


def _parse_cell(value: Any) -> float | None:
    """Return a cell as a float (NaN when missing), or None when it is not a number."""
    if value is None or value is pd.NA or value is pd.NaT:
        return math.nan
    if isinstance(value, (bool, np.bool_)):
        return None  # True/False are flags, not sizes
    if isinstance(value, numbers.Real):
        try:
            return float(value)
        except OverflowError:  # a Python int beyond float64
            return math.inf if value > 0 else -math.inf
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.lower() in _MISSING_TEXT:
        return math.nan
    if text.lower().lstrip("+-") in ("inf", "infinity"):
        return float(text.lower().replace("infinity", "inf"))
    match = _NUMBER.fullmatch(text)
    if match is None:
        return None
    mantissa, suffix = match.group(1).replace(",", ""), match.group(2).lower()
    if not suffix:
        return float(mantissa)
    if "e" in mantissa.lower():
        return float(mantissa) * 10.0 ** _SCALE[suffix]
    # Writing the exponent into the text keeps "1.4B" exactly float("1.4e9").
    return float(f"{mantissa}e{_SCALE[suffix]}")


def _to_float(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Return (values, not_a_number mask) of a column; unparseable cells are NaN."""
    dtype = series.dtype
    if (
        pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype)
        and not pd.api.types.is_complex_dtype(dtype)
    ):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, np.zeros(len(values), dtype=bool)
    parsed = [_parse_cell(cell) for cell in series.astype(object)]
    not_number = np.array([value is None for value in parsed], dtype=bool)
    values = np.array([math.nan if value is None else value for value in parsed], dtype=np.float64)
    return values, not_number


# ----------------------------------------------------------------------------- reading


def _table_from_mapping(data: Mapping, source: str) -> pd.DataFrame:
    try:
        return pd.DataFrame(dict(data))  # dict of lists, or dict of dicts (pandas "columns")
    except (ValueError, TypeError) as error:
        raise InputError(f"{source}: cannot make a table of these columns: {error}") from error


def _table_from_json(obj: Any, source: str) -> pd.DataFrame:
    if isinstance(obj, list):
        for position, record in enumerate(obj):
            if not isinstance(record, dict):
                raise InputError(
                    f"{source}: record {position} is a {type(record).__name__}; "
                    "expected one JSON object per run"
                )
        return pd.DataFrame(obj)
    if isinstance(obj, dict):
        if {"columns", "data"} <= obj.keys():  # pandas "split" orient
            return pd.DataFrame(obj["data"], columns=obj["columns"])
        return _table_from_mapping(obj, source)
    raise InputError(f"{source}: expected a list of records or an object of columns")


def _read_jsonl(path: str) -> pd.DataFrame:
    records = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except ValueError as error:
                    raise InputError(f"{path}: line {number} is not valid JSON: {error}") from error
    return _table_from_json(records, path)


def _read_file(path: str, format: str | None) -> tuple[pd.DataFrame, int | None]:
    """Read a file; return the table and the line number of its row 0 (None if unknown)."""
    if format is not None:
        kind = _FORMATS.get(str(format).lower().lstrip("."))
        if kind is None:
            raise InputError(f"format={format!r} is not one of {sorted(set(_FORMATS.values()))}")
    else:
        suffix = Path(path).suffix.lower()
        kind = _FORMATS.get(suffix.lstrip("."))
        if kind is None:
            raise InputError(
                f"{path}: cannot tell the format from the suffix {suffix!r}; pass format= one "
                f"of {sorted(set(_FORMATS.values()))}"
            )
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file")
    if not os.path.isfile(path):
        raise InputError(f"{path}: not a file")
    try:
        if kind in ("csv", "tsv"):
            table = pd.read_csv(path, sep="," if kind == "csv" else "\t", skipinitialspace=True)
            # One record per line is assumed: the header is line 1, so row 0 is line 2.
            return table, 2
        if kind == "json":
            with open(path, encoding="utf-8") as handle:
                return _table_from_json(json.load(handle), path), None
        if kind == "jsonl":
            return _read_jsonl(path), None
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise InputError(
                f"{path}: reading Parquet needs pyarrow; install it with `pip install pyarrow` "
                "or `pip install 'scalinglaws[parquet]'`"
            ) from None
        return pd.read_parquet(path, engine="pyarrow"), None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: no runs (the file is empty)") from None
    except InputError:
        raise
    # Parser, decoding, JSON and Arrow errors all derive from ValueError or OSError.
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: cannot read it as {kind.upper()}: {error}") from error


# ----------------------------------------------------------------------------- building


def _check_options(flops_per_token: Any, nan_policy: Any) -> float:
    if (
        isinstance(flops_per_token, (bool, np.bool_))
        or not isinstance(flops_per_token, numbers.Real)
        or not math.isfinite(flops_per_token)
        or flops_per_token <= 0
    ):
        raise InputError(
            f"flops_per_token must be a finite positive number, got {flops_per_token!r}"
        )
    if nan_policy not in ("raise", "omit"):
        raise InputError(f"nan_policy must be 'raise' or 'omit', got {nan_policy!r}")
    return float(flops_per_token)


def _find_column(wanted: Any, available: list, source: str, name: str) -> Any:
    if wanted in available:
        return wanted
    matches = [column for column in available if _normalise(column) == _normalise(wanted)]
    if len(matches) == 1:
        return matches[0]
    raise InputError(
        f"columns={{{name!r}: {wanted!r}}}: {source} has no column {wanted!r}; "
        f"available columns: {available}"
    )


def _resolve_columns(table: pd.DataFrame, columns: Mapping | None, source: str) -> dict:
    """Map each canonical name present to the table's column holding it."""
    available = list(table.columns)
    if columns is not None and not isinstance(columns, Mapping):
        raise InputError(f"columns must be a mapping like {{'N': 'params'}}, got {columns!r}")
    explicit = dict(columns or {})
    unknown = [key for key in explicit if key not in ALIASES]
    if unknown:
        raise InputError(f"columns=: unknown canonical name(s) {unknown}; use {list(ALIASES)}")
    mapping = {
        name: _find_column(column, available, source, name)
        for name, column in explicit.items()
        if column is not None  # None means "this file has no such column"
    }
    if len(set(mapping.values())) < len(mapping):
        raise InputError(f"columns=: several canonical names map to one column: {mapping}")
    # A column named exactly like a canonical name ("N", "loss") wins over alias
    # matches ("param_count"), which then stay as ordinary extra columns.
    exact = [c for c in available if isinstance(c, str) and c in ALIASES]
    for column in exact + [c for c in available if c not in exact]:
        name = _ALIAS_TO_NAME.get(_normalise(column))
        if name is None or name in explicit or column in mapping.values():
            continue
        if name in mapping and mapping[name] in exact:
            continue
        if name in mapping:
            raise InputError(
                f"{source}: columns '{mapping[name]}' and '{column}' both look like {name!r}; "
                f"say which to use, e.g. columns={{{name!r}: {str(mapping[name])!r}}}"
            )
        mapping[name] = column
    if "loss" not in mapping:
        raise InputError(
            f"{source}: no loss column; available columns: {available}; accepted names for "
            f"loss: {[alias.replace(' ', '_') for alias in ALIASES['loss']]} (any case), or pass "
            "columns={'loss': '<your column>'}"
        )
    return mapping


def _bad_cells_message(bad: dict, table: pd.DataFrame, mapping: dict, source: str,
                       first_line: int | None, raw: dict, nan_policy: str) -> str:
    """Describe the first bad cell (by row, then column order) and count the rest."""
    order = list(table.columns)
    row, name = min(
        ((int(np.flatnonzero(mask)[0]), name) for name, mask in bad.items()),
        key=lambda item: (item[0], order.index(mapping[item[1]])),
    )
    values, not_number = raw[name]
    cell, value = table[mapping[name]].iloc[row], values[row]
    shown = (repr(cell) if isinstance(cell, str)
             else str(cell)[:40] if not_number[row] else _number_text(value))
    if not_number[row]:
        what = f"value {shown} is not a number (give digits, optionally with a k/M/B/G/T/P suffix)"
    elif math.isnan(value):
        what = "value is missing"
        if nan_policy == "raise":
            what += "; pass nan_policy='omit' to drop rows with missing values"
    elif math.isinf(value):
        what = f"value {shown} is not finite"
    else:
        what = f"value {shown} is not positive"
    message = f"{_where(source, row, first_line)}, column '{mapping[name]}' ({name}): {what}"
    counts = [(mapping[key], int(mask.sum()) - (key == name)) for key, mask in bad.items()]
    others = [f"{count} more bad cell{'s' * (count > 1)} in column '{column}'"
              for column, count in counts if count]
    return message + ("; and " + ", ".join(others) if others else "")


def _build_runs(table: pd.DataFrame, source: str, first_line: int | None, columns: Mapping | None,
                flops_per_token: float, nan_policy: str) -> Runs:
    if table.columns.has_duplicates:
        duplicated = sorted({str(c) for c in table.columns[table.columns.duplicated()]})
        raise InputError(f"{source}: duplicated column names {duplicated}")
    if len(table) == 0 or len(table.columns) == 0:
        raise InputError(f"{source}: no runs (the table is empty)")
    table = table.reset_index(drop=True)
    mapping = _resolve_columns(table, columns, source)
    # An unused column literally called "N" (say) would collide with the canonical one.
    clashes = [column for column in table.columns
               if column in ALIASES and column not in mapping.values()]
    if clashes:
        raise InputError(
            f"{source}: column '{clashes[0]}' has a canonical name but columns= maps "
            f"{clashes[0]!r} elsewhere; rename or drop that column"
        )
    numeric = [name for name in _NUMERIC if name in mapping]
    raw = {name: _to_float(table[mapping[name]]) for name in numeric}
    missing = {name: np.isnan(values) & ~not_number for name, (values, not_number) in raw.items()}
    bad = {}
    for name, (values, not_number) in raw.items():
        with np.errstate(invalid="ignore"):
            mask = not_number | np.isinf(values) | (values <= 0)
        if nan_policy == "raise":
            mask |= missing[name]
        if mask.any():
            bad[name] = mask
    if bad:
        raise InputError(
            _bad_cells_message(bad, table, mapping, source, first_line, raw, nan_policy)
        )

    keep = ~np.logical_or.reduce(list(missing.values()))
    dropped = tuple(int(row) for row in np.flatnonzero(~keep))
    if len(dropped) == len(table):
        raise InputError(f"{source}: no runs left: all {len(table)} rows have missing values")
    if dropped:
        warnings.warn(
            f"{source}: dropped {len(dropped)} of {len(table)} rows with missing values "
            f"(nan_policy='omit'); the first is {_row_text(dropped[0], first_line)}",
            ScalingLawsWarning,
            stacklevel=3,
        )

    frame = table.loc[keep].rename(columns={column: name for name, column in mapping.items()})
    frame = frame.reset_index(drop=True)
    for name in numeric:
        frame[name] = raw[name][0][keep]
    derived = _derive(frame, flops_per_token, source, first_line, np.flatnonzero(keep))
    ordered = [name for name in ALIASES if name in frame.columns]
    frame = frame[ordered + [column for column in frame.columns if column not in ordered]]
    return Runs(
        frame=frame,
        source=source,
        flops_per_token=flops_per_token,
        derived=derived,
        n_dropped=len(dropped),
        dropped_rows=dropped,
        row_numbers=tuple(int(row) for row in np.flatnonzero(keep)),
        source_columns=dict(mapping),
        first_line=first_line,
    )


def _derive(frame: pd.DataFrame, k: float, source: str, first_line: int | None,
            rows: np.ndarray) -> tuple[str, ...]:
    """Fill the one missing member of C = k·N·D in place; return the derived names."""
    have = {name for name in ("N", "D", "C") if name in frame.columns}
    recipes = {
        "D": (("N", "C"), f"C/({k:g}·N)", lambda f: f["C"] / (k * f["N"])),
        "C": (("N", "D"), f"{k:g}·N·D", lambda f: k * f["N"] * f["D"]),
        "N": (("C", "D"), f"C/({k:g}·D)", lambda f: f["C"] / (k * f["D"])),
    }
    for name, (needs, formula, compute) in recipes.items():
        if name in have or not set(needs) <= have:
            continue
        with np.errstate(over="ignore", under="ignore"):
            values = compute(frame).to_numpy(dtype=np.float64)
        broken = np.flatnonzero(~np.isfinite(values) | (values <= 0))
        if broken.size:
            row = int(rows[broken[0]])
            raise InputError(
                f"{_where(source, row, first_line)}: derived {name} = {formula} = "
                f"{_number_text(values[broken[0]])} is not a finite positive number "
                f"({broken.size} such rows): float64 over- or underflows"
            )
        frame[name] = values
        return (name,)
    return ()


# ----------------------------------------------------------------------------- public API


def fingerprint_arrays(named_arrays: Iterable[tuple[str, Any]]) -> str:
    """``"sha256:<hex>"`` of ``(name, array)`` pairs: for each, the UTF-8 text
    ``"<name>:<count>\\n"`` then the values as little-endian float64 bytes."""
    digest = hashlib.sha256()
    for name, values in named_arrays:
        values = np.ascontiguousarray(values, dtype="<f8")
        digest.update(f"{name}:{len(values)}\n".encode())
        digest.update(values.tobytes())
    return "sha256:" + digest.hexdigest()


def load_runs(data: Any, columns: Mapping | None = None, *, flops_per_token: float = 6.0,
              nan_policy: str = "raise", format: str | None = None) -> Runs:
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
        overrides header detection for those names. ``None`` as a value means
        the table has no such column. Canonical names: ``N``, ``D``, ``C``,
        ``loss``, ``U``, ``step``, ``group``, ``run_id``; see :data:`ALIASES`
        for the headers recognised without a mapping (case, surrounding
        whitespace and ``_``/``-``/space differences are ignored).
    flops_per_token : float, default 6.0
        The k in C = k·N·D, used to derive the one of N, D, C that is absent.
        When all three are given they are kept as is (see
        :meth:`Runs.compute_mismatch`).
    nan_policy : {"raise", "omit"}
        What to do with missing cells in N, D, C, loss or U: raise, or drop
        those rows with a :class:`~scalinglaws.ScalingLawsWarning`.
        Infinite, zero, negative and non-numeric cells always raise.
    format : str, optional
        ``"csv"``, ``"tsv"``, ``"json"``, ``"jsonl"`` or ``"parquet"``;
        overrides detection by file suffix.

    Returns
    -------
    Runs

    Raises
    ------
    InputError
        For an unreadable or unknown file, an empty table, a missing loss
        column, two columns with one meaning, or a bad cell (the message names
        the row, the line of a CSV/TSV file and the column).

    Notes
    -----
    Cells may be numbers or text such as ``"70M"``, ``"1.4B"``, ``"2T"``,
    ``"500k"``, ``"1.5e9"``, ``"3,000,000"`` or ``"1.2 G"``. Suffixes are
    case-insensitive: k = 1e3, M = 1e6 (so ``"m"`` also means million, never
    milli), B = G = 1e9, T = 1e12, P = 1e15.
    """
    k = _check_options(flops_per_token, nan_policy)
    if isinstance(data, pd.DataFrame):
        table, source, first_line = data, "<DataFrame>", None
    elif isinstance(data, Mapping):
        table, source, first_line = _table_from_mapping(data, "<dict>"), "<dict>", None
    elif isinstance(data, (str, os.PathLike)):
        source = os.fspath(data)
        table, first_line = _read_file(source, format)
        return _build_runs(table, source, first_line, columns, k, nan_policy)
    else:
        raise InputError(
            f"data must be a file path, a pandas DataFrame or a dict of columns, "
            f"not {type(data).__name__}"
        )
    if format is not None:
        raise InputError(f"format={format!r} applies only when data is a file path")
    return _build_runs(table, source, first_line, columns, k, nan_policy)


def as_runs(data: Any, **kwargs: Any) -> Runs:
    """Return ``data`` if it is already :class:`Runs`, else ``load_runs(data, **kwargs)``.

    Reading options (``columns``, ``format``) cannot apply to loaded runs and
    raise :class:`InputError`, as does a ``flops_per_token`` different from the
    one the runs were loaded with; ``nan_policy`` is ignored.
    """
    if not isinstance(data, Runs):
        return load_runs(data, **kwargs)
    for option in ("columns", "format"):
        if kwargs.get(option) is not None:
            raise InputError(f"{option}= applies when loading a table, not to loaded Runs")
    k = kwargs.get("flops_per_token")
    if k is not None and _check_options(k, "raise") != data.flops_per_token:
        raise InputError(
            f"flops_per_token={k!r} differs from the {data.flops_per_token:g} the runs were "
            "loaded with; reload them with load_runs"
        )
    return data


@dataclass(frozen=True, eq=False)
class Runs:
    """A validated table of training runs; build it with :func:`load_runs`.

    Attributes
    ----------
    frame : pandas.DataFrame
        Canonical columns (``N``, ``D``, ``C``, ``loss``, ``U`` as finite
        positive float64; ``step``, ``group``, ``run_id`` as given) first, then
        every other column under its original name; index 0..n-1.
    source : str
        The file path, or ``"<DataFrame>"``, ``"<dict>"``, ``"<arrays>"``.
    flops_per_token : float
        The k of C = k·N·D.
    derived : tuple of str
        Canonical columns computed from C = k·N·D rather than read.
    n_dropped, dropped_rows : int, tuple of int
        Rows (0-based positions in the source) dropped for missing values.
    row_numbers : tuple of int
        Source position of each kept row, so messages can name the user's row.
    source_columns : dict
        Canonical name → the source column it was read from.
    first_line : int or None
        Line number of row 0 in a CSV/TSV file; None when lines do not apply.
    """

    frame: pd.DataFrame
    source: str = "<DataFrame>"
    flops_per_token: float = 6.0
    derived: tuple[str, ...] = ()
    n_dropped: int = 0
    dropped_rows: tuple[int, ...] = ()
    row_numbers: tuple[int, ...] = ()
    source_columns: dict = field(default_factory=dict)
    first_line: int | None = None

    def __post_init__(self) -> None:
        if not self.row_numbers:
            object.__setattr__(self, "row_numbers", tuple(range(len(self.frame))))
        if len(self.row_numbers) != len(self.frame):
            raise InputError("row_numbers must give one source row per run")

    @classmethod
    def from_arrays(cls, N: Any = None, D: Any = None, C: Any = None, loss: Any = None, *,
                    flops_per_token: float = 6.0, nan_policy: str = "raise",
                    **extra: Any) -> Runs:
        """Build runs from arrays; ``extra`` columns are kept (``U``, ``group``... recognised)."""
        k = _check_options(flops_per_token, nan_policy)
        given = {name: value for name, value in zip("NDC", (N, D, C)) if value is not None}
        if loss is None:
            raise InputError("from_arrays needs loss=")
        table = _table_from_mapping({**given, "loss": loss, **extra}, "<arrays>")
        # Only the keyword arguments name N, D, C; an extra called "tokens" stays an extra.
        columns = {name: (name if name in given else None) for name in "NDC"}
        return _build_runs(table, "<arrays>", None, {**columns, "loss": "loss"}, k, nan_policy)

    def __len__(self) -> int:
        return len(self.frame)

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
        if name not in _NUMERIC:
            raise InputError(f"unknown input {name!r}; the canonical inputs are {list(_NUMERIC)}")
        if name not in self.frame.columns:
            raise InputError(
                f"runs from {self.source} have no {name!r} column ({_MEANING[name]}); "
                f"{_HOW_TO_GET[name]}"
            )
        values = self.frame[name].to_numpy(dtype=np.float64, copy=True)
        values.flags.writeable = False
        return values

    N = property(lambda self: self._array("N"), doc="Parameters (float64 array).")
    D = property(lambda self: self._array("D"), doc="Training tokens (float64 array).")
    C = property(lambda self: self._array("C"), doc="Training compute, FLOP (float64 array).")
    loss = property(lambda self: self._array("loss"), doc="Loss, nats/token (float64 array).")
    U = property(lambda self: self._array("U"), doc="Unique tokens (float64 array).")

    @property
    def columns(self) -> list:
        """Names of the frame's columns, canonical first."""
        return list(self.frame.columns)

    def has(self, name: str) -> bool:
        """Whether the frame has column ``name`` (canonical, derived or extra)."""
        return name in self.frame.columns

    def inputs(self, names: Iterable[str]) -> dict[str, np.ndarray]:
        """Arrays for the canonical ``names`` a law needs; InputError names a missing one."""
        names = (names,) if isinstance(names, str) else tuple(names)
        return {name: self._array(name) for name in names}

    def row_label(self, i: int) -> str:
        """Human label of run ``i``, e.g. ``"row 7 (line 9) of runs.csv"``."""
        return f"{_row_text(self.row_numbers[i], self.first_line)} of {self.source}"

    def to_frame(self) -> pd.DataFrame:
        """A copy of the frame."""
        return self.frame.copy()

    def compute_mismatch(self) -> float:
        """Largest relative gap max |C − k·N·D| / C, to check given N, D, C agree."""
        N, D, C = self.inputs(("N", "D", "C")).values()
        return float(np.max(np.abs(C - self.flops_per_token * N * D) / C))

    def fingerprint(self, names: Iterable[str] = ("N", "D", "C", "loss")) -> str:
        """A stable hash of the data: ``"sha256:<hex>"``.

        For each of ``names`` present, in order, the SHA-256 is fed the UTF-8
        text ``"<name>:<count>\\n"`` and then the column as little-endian
        float64 bytes. Absent names are skipped; extra columns never count.
        """
        for name in names:
            if name not in _NUMERIC:
                raise InputError(f"fingerprint: {name!r} is not one of {list(_NUMERIC)}")
        return fingerprint_arrays((name, self._array(name)) for name in names if self.has(name))

    def select(self, mask: Any) -> Runs:
        """Runs where ``mask`` (booleans, or a callable frame → booleans) is True."""
        if callable(mask):
            mask = mask(self.frame)
        if isinstance(mask, pd.Series) and not mask.index.equals(self.frame.index):
            raise InputError("select: the mask Series is not indexed like runs.frame")
        keep = np.asarray(mask)
        if keep.dtype != bool or keep.shape != (len(self),):
            raise InputError(
                f"select: mask must be {len(self)} booleans, got dtype {keep.dtype} "
                f"and shape {keep.shape}"
            )
        if not keep.any():
            raise InputError(f"select: the mask keeps none of the {len(self)} runs")
        return replace(
            self,
            frame=self.frame.loc[keep].reset_index(drop=True),
            row_numbers=tuple(np.asarray(self.row_numbers)[keep].tolist()),
        )

    def query(self, expr: str) -> Runs:
        """Runs matching a :meth:`pandas.DataFrame.query` expression, e.g. ``"N > 1e9"``."""
        try:
            picked = self.frame.query(expr)
        # pandas raises many unrelated types (SyntaxError, NameError, KeyError...).
        except Exception as error:
            raise InputError(
                f"query {expr!r} failed: {error}; columns: {self.columns}"
            ) from error
        return self.select(self.frame.index.isin(picked.index))

    def exclude_top_loss(self, k: int) -> Runs:
        """Drop the ``k`` runs of largest loss (ties: the earlier row goes first)."""
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral) or k < 0:
            raise InputError(f"exclude_top_loss: k must be a non-negative integer, got {k!r}")
        if k == 0:
            return self
        if k >= len(self):
            raise InputError(f"exclude_top_loss: k={k} would drop all {len(self)} runs")
        keep = np.ones(len(self), dtype=bool)
        keep[np.argsort(-self.loss, kind="stable")[:k]] = False
        return self.select(keep)

    def groupby(self, column: str) -> list[tuple[Any, Runs]]:
        """``(key, runs)`` for each value of ``column``, sorted by key (NaN keys kept)."""
        if column not in self.frame.columns:
            raise InputError(f"groupby: no column {column!r}; columns: {self.columns}")
        return [
            (key, self.select(self.frame.index.isin(part.index)))
            for key, part in self.frame.groupby(column, sort=True, dropna=False)
        ]
