"""Cells of a table read as numbers, and the words that name a row or a bad cell.

Shared by the data stage's readers of runs, curves and task tables (:mod:`.runs`,
:mod:`.curves`, :mod:`.tasks`): :func:`_parse_cell` and :func:`_to_float` read a cell or a
column as float64 (``"70M"``, ``"1.4B"``, ``"3,000,000"``...; text that is no number is
flagged, never guessed), :func:`_row_text` and :func:`_where` name a row and its line in
the file, :func:`_bad_cells_message` describes the first bad cell of a table and counts the
rest, :func:`_number_text` and :func:`_short` print numbers in messages. The names keep their
leading underscore: they are the stage's, importable from :mod:`.runs` as before.
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Any

import numpy as np
import pandas as pd

from .._exceptions import InputError
from .._text import named_list
from .._validation import _NUMBER, parse_quantity

__all__ = ["_bad_cells_message", "_number_text", "_parse_cell", "_row_text", "_short",
           "_to_float", "_where", "blank_cells", "blank_rows", "check_decimal_commas",
           "has_unit_suffix", "input_values"]

# A number whose one comma may separate thousands or be a decimal mark: 3,426.
_COMMA_THREE = re.compile(r"^[+-]?\d{1,3},\d{3}$")
# A number written with a decimal comma that is no thousands separator: 3,28 or 0,5.
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+(?:[eE][+-]?\d+)?$")


def _number_text(value: float) -> str:
    if math.isfinite(value) and value == int(value) and abs(value) < 1e16:
        return str(int(value))
    return repr(float(value))


def _short(value: float, digits: int) -> str:
    import re

    return re.sub(r"e\+?(-?)0*(\d)", r"e\1\2", f"{value:.{digits}g}")


def _row_text(row: int, lines: np.ndarray | None) -> str:
    return f"row {row}" if lines is None else f"row {row} (line {int(lines[row])})"


def _where(source: str, row: int, lines: np.ndarray | None) -> str:
    return f"{source}: {_row_text(row, lines)}"


def _parse_cell(value: Any, thousands: bool = True) -> float | None:
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
    return parse_quantity(value, thousands=thousands)


def _to_float(series: pd.Series, thousands: bool) -> tuple[np.ndarray, np.ndarray]:
    """Return (values, not_a_number mask) of a column; unparseable cells are NaN."""
    dtype = series.dtype
    if (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
            and not pd.api.types.is_complex_dtype(dtype)):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, np.zeros(len(values), dtype=bool)
    parsed = [_parse_cell(cell, thousands) for cell in series.astype(object)]
    not_number = np.array([value is None for value in parsed], dtype=bool)
    values = np.array([math.nan if value is None else value for value in parsed], dtype=np.float64)
    return values, not_number


def _bad_cells_message(bad: dict, table: pd.DataFrame, mapping: dict, source: str,
                       lines: np.ndarray | None, raw: dict, nan_policy: str,
                       thousands: bool) -> str:
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
    repeated = [str(header).strip() for header in order]
    if not_number[row] and [str(c).strip() for c in table.iloc[row]] == repeated:
        # a file appended to another with its header (cat a.csv b.csv)
        what = ("this row repeats the header: remove it (two files joined with their headers, "
                "as cat a.csv b.csv does)")
    elif not_number[row]:
        what = f"value {shown} is not a number (give digits, optionally with a k/M/B/G/T/P suffix)"
        if not thousands and isinstance(cell, str) and "," in cell:
            what += ("; in a ';'-separated file a comma may be a decimal mark, so write the "
                     "number with a decimal point and no thousands separators")
        elif isinstance(cell, str) and _DECIMAL_COMMA.match(cell.strip()):
            what += (f"; is it {cell.strip().replace(',', '.')} written with a decimal "
                     f"comma? Here a comma inside a number separates thousands (groups of "
                     f"three digits): write numbers with a decimal point, or read the file "
                     f"with pandas.read_csv(path, decimal=',') and pass the DataFrame")
    elif math.isnan(value):
        what = "value is missing"
        if nan_policy == "raise":
            what += "; to drop rows with missing values instead, set nan_policy to 'omit'"
    elif math.isinf(value):
        what = f"value {shown} is not finite"
    else:
        what = f"value {shown} is not positive"
    message = f"{_where(source, row, lines)}, column '{mapping[name]}' ({name}): {what}"
    counts = [(mapping[key], int(mask.sum()) - (key == name)) for key, mask in bad.items()]
    others = [f"{count} more bad cell{'s' * (count > 1)} in column '{column}'"
              for column, count in counts if count]
    return message + ("; and " + ", ".join(others) if others else "")


def blank_cells(column: pd.Series) -> np.ndarray:
    """Which cells of a column are empty: missing (NaN, None) or text of blanks only (a
    missing-value word such as "NA" is text here; a column of them is read as absent
    elsewhere, :func:`~.columns.without_empty_optional`).

    Examples
    --------
    >>> blank_cells(pd.Series(["a", "", "  ", None, 3], dtype=object)).tolist()
    [False, True, True, True, False]
    """
    blank = column.isna().to_numpy().copy()
    if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
        rows = np.flatnonzero(~blank)
        blank[rows] = [isinstance(cell, str) and not cell.strip()
                       for cell in column.iloc[rows].tolist()]
    return blank


def blank_rows(table: pd.DataFrame) -> np.ndarray:
    """Which rows of ``table`` have every cell missing (NaN, None) or blank text."""
    blank = np.ones(len(table), bool)
    for position in range(table.shape[1]):  # only the rows still blank are looked at
        rows = np.flatnonzero(blank)
        blank[rows] = blank_cells(table.iloc[rows, position])
    return blank


def input_values(series: pd.Series, name: str, column: Any, source: str,
                 rows: Any, lines: np.ndarray | None) -> np.ndarray:
    """A law's input read from its column when the law asks for it (``S_min``,
    ``task_loss``, a custom form's ``x``): finite numbers, or InputError naming the first
    bad cell by its source row (``rows``: the source row of each) and line. Missing cells
    are refused too: loading kept those rows (the column was no input then)."""
    values, not_number = _to_float(series, True)
    bad = not_number | ~np.isfinite(values)
    if not bad.any():
        return values
    first = int(np.flatnonzero(bad)[0])
    cell = series.iloc[first]
    what = (f"value {cell!r} is not a number" if not_number[first]
            else "value is missing: fill it, or leave the row out of the table" if
            math.isnan(values[first]) else f"value {_number_text(values[first])} is not finite")
    raise InputError(named_list([f"{_where(source, int(rows[first]), lines)}, column '{column}' "
                                 f"({name}, an input of the law): {what}"],
                                total=int(bad.sum()), sep="; ", noun="bad cell"))


def has_unit_suffix(series: pd.Series) -> bool:
    """Whether a column's text cells carry a unit suffix (``22.36M``, ``1.4B``): its
    values are then read in units whatever its header says (``params_M``)."""
    if series.dtype != object and not pd.api.types.is_string_dtype(series.dtype):
        return False
    for cell in series.head(1000).tolist():
        match = _NUMBER.fullmatch(cell.strip()) if isinstance(cell, str) else None
        if match is not None and match.group(2):
            return True
    return False


def check_decimal_commas(series: pd.Series, source: str, column: str,
                         lines: np.ndarray | None, largest: float) -> None:
    """Refuse a loss column written with decimal commas in a file whose commas separate
    thousands (a ``,``-separated CSV from a spreadsheet in a German or French locale quotes
    ``"3,426"``): every cell with a comma has one comma and three digits after it, none has a
    decimal point, and read with a decimal comma every value is at most ``largest`` (a
    plausible loss), while read as thousands each is 1000 or more."""
    if series.dtype != object and not pd.api.types.is_string_dtype(series.dtype):
        return
    texts = [(row, cell.strip()) for row, cell in enumerate(series.tolist())
             if isinstance(cell, str)]
    commas = [(row, text) for row, text in texts if "," in text]
    if not commas or any("." in text for _, text in texts) \
            or not all(_COMMA_THREE.match(text) for _, text in commas):
        return
    decimal = [parse_quantity(text.replace(",", "."), thousands=False) for _, text in texts]
    if not all(value is not None and (math.isnan(value) or abs(value) <= largest)
               for value in decimal):
        return
    row, text = commas[0]
    raise InputError(
        f"{_where(source, row, lines)}, column {column!r} (loss): {text!r} reads as "
        f"{_number_text(parse_quantity(text))} with a comma separating thousands, and "
        f"{len(commas)} of the column's cells are written so; as a loss it is probably "
        f"{text.replace(',', '.')} written with a decimal comma. Write the loss with a "
        f"decimal point, or read the file with pandas.read_csv(path, decimal=',') and pass "
        f"the DataFrame; if the values are "
        f"thousands, write them without the comma")
