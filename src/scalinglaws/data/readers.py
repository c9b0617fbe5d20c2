"""Reading tables of runs from files: formats, delimiters, line numbers, size limits.

:func:`read_table` turns a path into a :class:`Table`: a pandas DataFrame plus the line of
the file each row came from, so messages can name it. CSV/TSV files get a structural pass
with the :mod:`csv` module before pandas parses the values: it finds repeated header names,
rows with more fields than the header, and the true line of each record (blank lines
and quoted fields that span lines included); it drops the rows whose every field is
empty (``,,,`` where a spreadsheet export had a blank row), whose lines are not counted as
runs, while every other row keeps its line in messages; and it recognises a file separated by
``;``, tab or ``|`` when the suffix says CSV. A ``;``-separated file (Excel's CSV where
the decimal mark is a comma) has a column written with decimal commas (``3,425``) read as
numbers. JSON is parsed with a nesting limit and refuses repeated keys. A file too large to
hold in memory is refused before it is read; a workbook, a Parquet file, a zip or gzip
archive under a text suffix is named as such (by its suffix or first bytes). Validating the
values is :mod:`scalinglaws.data.runs`' job; the text of a cell read as infinite
(``1e400``, ``Infinity``) is kept for its message (:func:`with_cell_texts`).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._exceptions import InputError
from .._files import parse_json
from .._text import named_list
from .._validation import FrozenOnUnpickle, check_fits_in_memory

__all__ = ["Table", "read_data", "read_table", "table_from_json", "table_from_mapping",
           "checked_frame", "checked_mask", "number_columns", "FORMATS"]

#: file suffix (or ``format=`` value) -> reader
FORMATS = {
    "csv": "csv", "tsv": "tsv", "tab": "tsv", "json": "json", "jsonl": "jsonl",
    "ndjson": "jsonl", "parquet": "parquet", "pq": "parquet",
}  # fmt: skip
_KINDS = sorted(set(FORMATS.values()))
# Bytes of memory per byte of file while reading and validating it (text kept once,
# parsed cells, Python objects per JSON record); only absurd files trip the check.
_MEMORY_PER_FILE_BYTE = {"csv": 6, "tsv": 6, "json": 12, "jsonl": 12, "parquet": 8}
_SNIFFED = (";", "\t", "|", ",")
_SAMPLE_LINES = 50
#: Suffixes of spreadsheet workbooks, which are exported as CSV rather than read.
_WORKBOOKS = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".numbers")
_EXPORT = ("export the sheet as CSV (in Excel: File > Save As > CSV UTF-8), or read it with "
           "pandas.read_excel and pass the DataFrame")
#: What a file is, by its first bytes, when its suffix says text.
_MAGIC = (
    (b"PAR1", "a Parquet file (it starts with the bytes PAR1)",
     "rename it to .parquet, or give the format parquet (format= in Python, --format on the "
     "command line)"),
    (b"PK\x03\x04", "a zip archive, such as an Excel workbook (it starts with the bytes PK)",
     f"if it is a workbook, {_EXPORT}; otherwise unzip it"),
    (b"\x1f\x8b", "gzip-compressed (it starts with the bytes 1f 8b)", "decompress it first"),
)
# A number written with a decimal comma, or without decimals: 3,425 / -0,5 / 1,2e-3 / 42.
_DECIMAL_COMMA = re.compile(r"^[+-]?(?:\d+(?:,\d*)?|,\d+)(?:[eE][+-]?\d+)?$")
# ... unless every comma in the column could as well separate thousands (2,500).
_THOUSANDS_LIKE = re.compile(r"^[+-]?\d{1,3},\d{3}$")


@dataclass(frozen=True)
class Table(FrozenOnUnpickle):
    """What a reader got from a file.

    Attributes
    ----------
    frame : pandas.DataFrame
        The cells, one row per record, columns under the file's names.
    lines : numpy.ndarray or None
        Line number (1-based) in the file where each row starts; None when lines do not
        apply (JSON, Parquet) or could not be matched to pandas' rows.
    thousands : bool
        Whether a comma inside a number is a thousands separator (False in a
        ``;``-separated file, where it may be a decimal mark).
    hint : str
        Advice to add to a "no such column" message (e.g. about the delimiter), or "".
    cell_texts : dict or None
        ``{(row, column): text}`` of the cells of a CSV/TSV file read as infinite
        (``1e400``, ``Infinity``), so a message can quote what the file says; None when
        there are none.
    """

    frame: Any
    lines: np.ndarray | None = None
    thousands: bool = True
    hint: str = ""
    cell_texts: Any = None


def _names(delimiter: str) -> str:
    return {"\t": "tab", ",": "','", ";": "';'", "|": "'|'"}.get(delimiter, repr(delimiter))


def table_from_mapping(data: Mapping, source: str):
    """A DataFrame of a dict of columns (lists, arrays, or dicts of row -> value)."""
    import pandas as pd

    try:
        return pd.DataFrame(dict(data))
    except (ValueError, TypeError) as error:
        raise InputError(f"{source}: cannot make a table of these columns: {error}") from error


def read_data(data: Any, *, format: str | None = None, sep: str | None = None):
    """``(table, source)`` of what a loader was given: a file path (read with
    :func:`read_table`), a pandas DataFrame or a dict of columns (a :class:`Table` without
    line numbers). ``format`` and ``sep`` apply only to a path."""
    import pandas as pd

    if isinstance(data, (str, os.PathLike)):
        source = os.fspath(data)
        return read_table(source, format=format, sep=sep), source
    if isinstance(data, pd.DataFrame):
        table, source = Table(data), "<DataFrame>"
    elif isinstance(data, Mapping):
        table, source = Table(table_from_mapping(data, "<dict>")), "<dict>"
    else:
        raise InputError(f"data must be a file path, a pandas DataFrame or a dict of columns, "
                         f"not {type(data).__name__}")
    for option, value in (("format", format), ("sep", sep)):
        if value is not None:
            raise InputError(f"`{option}`={value!r} applies only when data is a file path")
    return table, source


def checked_mask(mask: Any, length: int, what: str) -> np.ndarray:
    """``mask`` as the booleans of a ``select`` over ``length`` rows (of ``what``, e.g.
    "runs"), keeping at least one of them."""
    keep = np.asarray(mask)
    if keep.dtype != bool or keep.shape != (length,):
        raise InputError(f"select: mask must be {length} booleans, got dtype {keep.dtype} "
                         f"and shape {keep.shape}")
    if not keep.any():
        raise InputError(f"select: the mask keeps none of the {length} {what}")
    return keep


def checked_frame(frame, source: str, what: str):
    """``frame`` with a fresh index, after refusing a column named twice and an empty table
    (no ``what``, e.g. "runs", in it)."""
    if frame.columns.has_duplicates:
        duplicated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise InputError(f"{source}: column {duplicated[0]!r} appears twice; rename or drop one")
    if len(frame) == 0 or len(frame.columns) == 0:
        raise InputError(f"{source}: no {what} (the table is empty)")
    return frame.reset_index(drop=True)


def number_columns(table: Table, source: str, columns: Mapping, what: str, *,
                   allow_zero: bool = False, nan_policy: str = "raise") -> dict:
    """The cells of some columns of ``table`` as float64 arrays, checked as
    :func:`scalinglaws.load_runs` checks N, D, C and loss.

    ``columns`` maps what each column holds (the word shown in messages, e.g. a flag) to
    its header in ``table.frame``. Refuses, with one :class:`~scalinglaws.InputError`: a
    column that is absent (listing those present), an empty table (no ``what``, e.g.
    "steps"), and bad cells (text that is no number, infinite, negative, zero unless
    ``allow_zero``, missing unless ``nan_policy`` is ``"omit"``), naming the file, row
    (line) and column of the first and counting the rest. With ``"omit"``, rows missing a
    value are dropped from every column, with a warning.
    """
    import warnings

    from .._exceptions import ScalingLawsWarning
    from .cells import _bad_cells_message, _row_text, _to_float

    frame = checked_frame(table.frame, source, what)
    present = list(frame.columns)
    for meaning, column in columns.items():
        if column not in present:
            hint = f"; {table.hint}" if table.hint else ""
            raise InputError(f"{source}: no column {column!r} ({meaning}); columns: "
                             f"{named_list([repr(str(c)) for c in present], 20)}{hint}")
    raw = {meaning: _to_float(frame[column], table.thousands)
           for meaning, column in columns.items()}
    missing = {meaning: np.isnan(values) & ~not_number
               for meaning, (values, not_number) in raw.items()}
    bad = {}
    for meaning, (values, not_number) in raw.items():
        with np.errstate(invalid="ignore"):
            mask = not_number | np.isinf(values) | (values < 0 if allow_zero else values <= 0)
        if nan_policy != "omit":
            mask |= missing[meaning]
        if mask.any():
            bad[meaning] = mask
    if bad:
        raise InputError(_bad_cells_message(bad, frame, dict(columns), source, table.lines, raw,
                                            nan_policy, table.thousands))
    keep = ~np.logical_or.reduce(list(missing.values()))
    if not keep.any():
        raise InputError(f"{source}: no {what} left: all {len(frame)} rows have missing values")
    if not keep.all():
        first = int(np.flatnonzero(~keep)[0])
        warnings.warn(f"{source}: dropped {int((~keep).sum())} of {len(frame)} rows with "
                      f"missing values (nan_policy='omit'); the first is "
                      f"{_row_text(first, table.lines)}", ScalingLawsWarning, stacklevel=2)
    return {meaning: values[keep] for meaning, (values, _) in raw.items()}


def table_from_json(obj: Any, source: str):
    """A DataFrame of parsed JSON: a list of records, an object of columns, or pandas'
    ``split`` orient (``{"columns": [...], "data": [[...], ...]}``)."""
    import pandas as pd

    if isinstance(obj, list):
        for position, record in enumerate(obj):
            if not isinstance(record, dict):
                raise InputError(f"{source}: record {position} is a {type(record).__name__}; "
                                 "expected one JSON object per run")
        return pd.DataFrame(obj)
    if isinstance(obj, dict):
        if {"columns", "data"} <= obj.keys():  # pandas "split" orient
            columns = obj["columns"]
            if not isinstance(columns, list) or not isinstance(obj["data"], list):
                raise InputError(f"{source}: 'columns' and 'data' must be lists")
            repeated = sorted({str(c) for c in columns if columns.count(c) > 1})
            if repeated:
                raise InputError(f"{source}: column {repeated[0]!r} is named twice in 'columns'")
            try:
                return pd.DataFrame(obj["data"], columns=columns)
            except (ValueError, TypeError) as error:
                raise InputError(f"{source}: cannot make a table of 'data': {error}") from None
        return table_from_mapping(obj, source)
    raise InputError(f"{source}: expected a list of records or an object of columns")


# ----------------------------------------------------------------------------- reading


def _kind(path: str, format: Any, sep: Any) -> str:
    if format is not None:
        kind = FORMATS.get(str(format).lower().lstrip("."))
        if kind is None:
            raise InputError(f"`format` must be one of {', '.join(_KINDS)}, got {format!r}")
        return kind
    suffix = Path(path).suffix.lower()
    kind = FORMATS.get(suffix.lstrip("."))
    if kind is None and sep is not None:
        return "csv"  # a delimiter was given: a delimited text file whatever its suffix
    if kind is None and suffix in _WORKBOOKS:
        raise InputError(f"{path}: a spreadsheet workbook ({suffix}) is not read as a table of "
                         f"runs: {_EXPORT}")
    if kind is None:
        what = f"the suffix {suffix!r}" if suffix else "a name without a suffix"
        raise InputError(f"{path}: cannot tell the format from {what}; give the format, one "
                         f"of {', '.join(_KINDS)} (format= in Python, --format on the command "
                         "line)")
    return kind


def _check_path(path: str) -> None:
    if os.path.isdir(path):
        tables = sorted(entry.name for entry in os.scandir(path)
                        if entry.is_file() and Path(entry.name).suffix.lower().lstrip(".")
                        in FORMATS)
        inside = (f"; it holds {named_list(tables)}"
                  if tables else "; it holds no table file")
        raise InputError(f"{path}: is a folder, not a file: give the path of one table of "
                         f"runs{inside}")
    save = "save the table to a file and give the file's path"
    if not os.path.exists(path):
        if path == "-":
            raise InputError(f"-: standard input is not read as a table; {save}")
        raise InputError(f"{path}: no such file")
    if not os.path.isfile(path):  # a pipe (cat runs.csv | ... /dev/stdin), a device
        raise InputError(f"{path}: not a regular file (a pipe or a device): a table is read "
                         f"from a file; {save}")


def _check_size(path: str, kind: str, available: int | None = None) -> None:
    """Refuse, before reading, a file that cannot be held in memory."""
    size = os.path.getsize(path)
    if size < 2**26:  # 64 MiB never needs checking
        return
    with open(path, "rb") as handle:
        sample = handle.read(2**20)
    per_row = len(sample) / max(sample.count(b"\n"), 1) if kind != "parquet" else 64
    check_fits_in_memory(
        max(int(size / per_row), 1), per_row * _MEMORY_PER_FILE_BYTE[kind], what="runs",
        task="reading the file", where=path, available=available,
        advice="A scaling-law fit needs thousands of runs, not millions: keep the runs you "
               "will fit (for example the last checkpoint of each run) or split the file.")


def read_table(path: str, *, format: str | None = None, sep: str | None = None) -> Table:
    """Read a table of runs from ``path`` (see :func:`scalinglaws.load_runs`)."""
    if sep is not None and (not isinstance(sep, str) or len(sep) != 1 or sep in "\"\r\n"):
        raise InputError(f"`sep` must be one character such as ',' ';' or a tab, got {sep!r}")
    if format is not None and FORMATS.get(str(format).lower().lstrip(".")) is None:
        raise InputError(f"`format` must be one of {', '.join(_KINDS)}, got {format!r}")
    _check_path(path)
    kind = _kind(path, format, sep)
    if sep is not None and kind not in ("csv", "tsv"):
        raise InputError(f"{path}: `sep` applies to CSV and TSV files, not to {kind.upper()}")
    _check_size(path, kind)
    if kind == "parquet":
        return Table(_read_parquet(path))
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as error:
        raise InputError(f"{path}: cannot read it ({error.strerror})") from None
    for magic, what, advice in _MAGIC:
        if raw.startswith(magic):
            raise InputError(f"{path}: this looks like {what}, not {kind.upper()} text; "
                             f"{advice}")
    if kind == "json":
        return Table(table_from_json(parse_json(raw, path, finite=False), path))
    try:
        # Excel's "Unicode text" is UTF-16 with a byte-order mark; anything else is UTF-8.
        text = (raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff")
                else raw.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start}); "
                         "save it as UTF-8") from None
    if kind == "jsonl":
        return _read_jsonl(text, path)
    return _read_delimited(text, path, sep or ("\t" if kind == "tsv" else ","), sep is None)


def _read_parquet(path: str):
    import pandas as pd

    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise InputError(f"{path}: reading Parquet needs pyarrow; install it with `pip install "
                         "pyarrow` or `pip install 'scalinglaws[parquet]'`") from None
    try:
        return pd.read_parquet(path, engine="pyarrow")
    except (OSError, ValueError) as error:  # Arrow errors derive from these
        raise InputError(f"{path}: cannot read it as Parquet: {error}") from None


def _read_jsonl(text: str, path: str) -> Table:
    records, lines = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            record = parse_json(line, f"{path}: line {number}", finite=False)
            if not isinstance(record, dict):
                raise InputError(f"{path}: line {number} is a JSON {type(record).__name__}; "
                                 "expected one JSON object per run")
            records.append(record)
            lines.append(number)
    return Table(table_from_json(records, path), np.array(lines, dtype=np.int64))


def _sniff_delimiter(text: str, delimiter: str) -> str:
    """The delimiter of a text table when the expected one splits nothing but another
    splits every sampled line into the same number (>= 2) of fields."""
    sample = [line for line in text.splitlines()[:_SAMPLE_LINES] if line.strip()]
    if not sample or delimiter in sample[0]:
        return delimiter
    for candidate in _SNIFFED:
        if candidate == delimiter:
            continue
        counts = {len(next(csv.reader([line], delimiter=candidate))) for line in sample}
        if len(counts) == 1 and counts.pop() >= 2:
            return candidate
    return delimiter


def _read_delimited(text: str, path: str, delimiter: str, sniff: bool) -> Table:
    import pandas as pd

    if sniff:
        delimiter = _sniff_delimiter(text, delimiter)
    header, header_line, lines, end = None, 0, [], 0
    physical = list(io.StringIO(text, newline=""))  # the lines as csv counts them
    empty = []  # (first, last) line of each record whose every field is empty: dropped
    reader = csv.reader(iter(physical), delimiter=delimiter, skipinitialspace=True)
    try:
        for record in reader:
            start, end = end + 1, reader.line_num
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # a blank line, as pandas skips it
            if not any(field.strip() for field in record):
                empty.append((start, end))  # ",,,": a spreadsheet's blank row
                continue
            if header is None:
                header, header_line = [name.strip() for name in record], start
                _check_header(header, header_line, path)
                continue
            if len(record) > len(header):
                raise InputError(
                    f"{path}: line {start} has {len(record)} fields but the header (line "
                    f"{header_line}) has {len(header)}; "
                    + (_comment_advice(header, header_line, text) or
                       f"remove the extra field{'s' * (len(record) - len(header) > 1)} or "
                       f"name {'them' if len(record) - len(header) > 1 else 'it'} in the "
                       f"header"))
            lines.append(start)
    except csv.Error as error:
        raise InputError(f"{path}: line {reader.line_num}: cannot read it as delimited text "
                         f"({error})") from None
    if header is None:
        raise InputError(f"{path}: no runs (the file is empty)")
    hint = _comment_advice(header, header_line, text)
    if empty:  # pandas reads the rest; every kept record keeps its line
        for first, last in empty:
            physical[first - 1:last] = [""] * (last - first + 1)
        text = "".join(physical)
    if len(header) == 1 and not hint:
        found = [d for d in _SNIFFED if d != delimiter and d in header[0]]
        if found:
            hint = (f"the header is one column {header[0]!r}: if the file is separated by "
                    f"{_names(found[0])}, set sep to {_names(found[0])}")
    try:
        frame = pd.read_csv(io.StringIO(text, newline=""), sep=delimiter,
                            skipinitialspace=True, index_col=False)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: no runs (the file is empty)") from None
    except (ValueError, OSError) as error:  # ParserError and friends
        raise InputError(f"{path}: cannot read it as {_names(delimiter)}-separated text: "
                         f"{error}") from None
    matched = np.array(lines, dtype=np.int64) if len(lines) == len(frame) else None
    if delimiter == ";":
        frame = _read_decimal_commas(frame)
    texts = (_infinite_cell_texts(frame, text, delimiter, len(header))
             if matched is not None else None)
    return Table(frame, matched, thousands=delimiter != ";", hint=hint, cell_texts=texts)


def _comment_advice(header: list, line: int, text: str) -> str:
    """What to do when the header, line ``line`` of ``text``, starts with ``#`` (a comment
    above the table), or "" when it does not."""
    if not header or not header[0].startswith("#") or (header[0] == "#" and len(header) > 1):
        return ""  # a first column named '#' (row numbers) is a header
    shown = next(iter(text.splitlines()[line - 1:line]), header[0]).strip()
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return (f"line {line} ({shown!r}) looks like a comment, which is not skipped: the "
            f"header must be the first line; delete the comment lines, or read the file with "
            f"pandas.read_csv(path, comment='#') and pass the DataFrame")


def _read_decimal_commas(frame):
    """``frame`` with each text column whose every cell is a number written with a decimal
    comma (``3,4258``; at least one comma) read as numbers, as pandas' ``decimal=","``
    would: a ``;``-separated file is how Excel writes CSV where the comma is the decimal
    mark. A column whose commas all could separate thousands (``2,500``: 2.5 or 2500?),
    mixes decimal commas and points, or holds other text is left to be refused cell by
    cell, with a message saying to write a decimal point."""
    import pandas as pd

    for position, column in enumerate(frame.columns):
        series = frame.iloc[:, position]
        if series.dtype != object and not pd.api.types.is_string_dtype(series.dtype):
            continue
        cells = series.dropna()
        if not len(cells) or not all(isinstance(cell, str) for cell in cells):
            continue
        cells = cells.str.strip()
        commas = cells[cells.str.contains(",", regex=False)]
        if not len(commas) or not cells.map(lambda cell: bool(_DECIMAL_COMMA.match(cell))).all():
            continue
        if commas.map(lambda cell: bool(_THOUSANDS_LIKE.match(cell))).all():
            continue  # 2,500 may be 2.5 or 2500: left to be refused, cell by cell
        frame[column] = pd.to_numeric(series.str.strip().str.replace(",", ".", regex=False))
    return frame


def _infinite_cell_texts(frame, text: str, delimiter: str, width: int) -> dict | None:
    """``{(row, column): text}`` of the cells pandas read as ±inf (``1e400``,
    ``Infinity``), from a second pass of :mod:`csv` over ``text`` (only when there are
    such cells); None when there are none or rows and fields cannot be matched."""
    numeric = frame.select_dtypes("number")
    if numeric.empty or len(frame.columns) != width:
        return None
    infinite = np.isinf(numeric.to_numpy(dtype=np.float64, na_value=np.nan))
    if not infinite.any():
        return None
    wanted: dict = {}
    for row, place in zip(*np.nonzero(infinite)):
        column = numeric.columns[place]
        wanted.setdefault(int(row), []).append((frame.columns.get_loc(column), column))
    texts, row = {}, -1
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                        skipinitialspace=True)
    for record in reader:
        if not record or (len(record) == 1 and not record[0].strip()):
            continue
        if row >= 0 and row in wanted:
            for position, column in wanted[row]:
                if position < len(record):
                    texts[(row, column)] = record[position].strip()
        row += 1
    return texts or None


def with_cell_texts(frame, texts: Mapping | None, columns) -> Any:
    """A copy of ``frame`` whose ``columns`` hold the file's text where ``texts`` (a
    :attr:`Table.cell_texts`) has it, for a message quoting a bad cell as written;
    ``frame`` itself when there is nothing to put back."""
    chosen = {key: text for key, text in (texts or {}).items() if key[1] in set(columns)}
    if not chosen:
        return frame
    frame = frame.copy()
    for column in {column for _, column in chosen}:
        frame[column] = frame[column].astype(object)
    for (row, column), text in chosen.items():
        frame.at[frame.index[row], column] = text
    return frame


def _check_header(header: list, line: int, path: str) -> None:
    seen: dict = {}
    for position, name in enumerate(header, start=1):
        if not name:
            continue
        if name in seen:
            raise InputError(f"{path}: the header (line {line}) names column {name!r} twice "
                             f"(fields {seen[name]} and {position}); rename or remove one")
        seen[name] = position
