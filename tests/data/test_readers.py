"""Tests of scalinglaws.data.readers: file formats, delimiters, line numbers, size limits."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest

from scalinglaws import InputError, load_runs
from scalinglaws.data import readers
from scalinglaws.data.readers import read_table


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- structure


@pytest.mark.parametrize("header, column, fields", [
    ("N,D,loss,loss", "loss", "3 and 4"),
    ("N,N,D,loss", "N", "1 and 2"),
    ("N, D ,loss,D", "D", "2 and 4"),
])
def test_repeated_header_names_the_column_and_fields(tmp_path, header, column, fields):
    path = write(tmp_path, "runs.csv", f"{header}\n1e8,1e9,3,4\n")
    with pytest.raises(InputError, match=rf"runs.csv: the header \(line 1\) names column "
                                         rf"'{column}' twice \(fields {fields}\)"):
        load_runs(path)


@pytest.mark.parametrize("text, line", [
    ("N,D,loss\n1e8,1e9,3,7\n2e8,2e9,2.9\n", 2),  # pandas alone would make N the index
    ("N,D,loss\n1e8,1e9,3\n2e8,2e9,2.9,7\n", 3),
    ('N,D,loss\n\n1e8,1e9,"3\n"\n\n2e8,2e9,2.9,7,8\n', 6),
])
def test_row_with_more_fields_than_the_header_names_its_line(tmp_path, text, line):
    path = write(tmp_path, "runs.csv", text)
    with pytest.raises(InputError, match=rf"runs.csv: line {line} has \d fields but the header "
                                         r"\(line 1\) has 3"):
        load_runs(path)


def test_row_with_fewer_fields_is_a_missing_value_on_its_line(tmp_path):
    path = write(tmp_path, "runs.csv", "N,D,loss\n1e8,1e9,3\n2e8,2e9\n")
    with pytest.raises(InputError, match=r"row 1 \(line 3\), column 'loss' \(loss\): value is "
                                         "missing"):
        load_runs(path)


@pytest.mark.parametrize("text, row, line", [
    ("N,D,loss\n\n1e8,1e9,3\n\n\n2e8,abc,2.9\n", 1, 6),                # blank lines
    ('N,D,loss,note\n1e8,1e9,3,"two\nlines"\n2e8,abc,2.9,x\n', 1, 4),   # a quoted newline
    ('N,D,loss,note\n1e8,1e9,3,"a\n\nb"\n   \n2e8,abc,2.9,x\n', 1, 6),  # both, and spaces
    ("\n\nN,D,loss\n1e8,abc,3\n", 0, 4),                                # blank lines first
    ("N,D,loss\r\n1e8,1e9,3\r\n2e8,abc,2.9\r\n", 1, 3),                 # Windows line ends
])
def test_line_numbers_count_blank_lines_and_quoted_newlines(tmp_path, text, row, line):
    path = write(tmp_path, "runs.csv", text)
    with pytest.raises(InputError, match=rf"runs.csv: row {row} \(line {line}\), column 'D'"):
        load_runs(path)


def test_line_numbers_survive_dropping_rows(tmp_path):
    path = write(tmp_path, "runs.csv", "N,D,loss\n\n1e8,1e9,3\n\n2e8,,2.9\n4e8,4e9,2.8\n")
    with pytest.warns(UserWarning, match=r"the first is row 1 \(line 5\)"):
        runs = load_runs(path, nan_policy="omit")
    assert runs.row_label(1) == f"row 2 (line 6) of {path}"
    assert runs.source_lines.tolist() == [3, 5, 6]


@pytest.mark.parametrize("name, text, lines", [
    ("runs.csv", "N,D,loss\n1e8,1e9,3\n2e8,2e9,2.9\n,,\n,,\n", [2, 3]),     # a sheet's tail
    ("runs.csv", "N,D,loss\n1e8,1e9,3\n, ,\n2e8,2e9,2.9\n", [2, 4]),        # a separator
    ("runs.csv", ",,\nN,D,loss\n1e8,1e9,3\n,,,,,\n2e8,2e9,2.9\n", [3, 5]),  # first; wider
    ("runs.csv", 'N,D,loss\n1e8,1e9,3\n"",,""\n2e8,2e9,2.9\n', [2, 4]),     # quoted empties
    ("runs.tsv", "N\tD\tloss\n1e8\t1e9\t3\n\t\t\n2e8\t2e9\t2.9\n", [2, 4]),
    ("runs.csv", "N;D;loss\n1e8;1e9;3\n;;\n2e8;2e9;2,9\n", [2, 4]),        # ';'-separated
])
def test_rows_whose_every_field_is_empty_are_dropped(tmp_path, name, text, lines):
    runs = load_runs(write(tmp_path, name, text))
    assert runs.N.tolist() == [1e8, 2e8] and runs.loss.tolist() == [3, 2.9]
    assert runs.source_lines.tolist() == lines and runs.n_dropped == 0


def test_an_error_after_an_empty_row_names_its_own_line(tmp_path):
    path = write(tmp_path, "runs.csv", "N,D,loss\n1e8,1e9,3\n,,\n,,\n2e8,abc,2.9\n,,\n")
    with pytest.raises(InputError, match=r"runs.csv: row 1 \(line 5\), column 'D'"):
        load_runs(path)
    path = write(tmp_path, "runs.csv", "N,D,loss\n1e8,1e9,3\n,,\n2e8,,2.9\n4e8,4e9,2.8\n")
    with pytest.warns(UserWarning, match=r"the first is row 1 \(line 4\)"):
        runs = load_runs(path, nan_policy="omit")
    assert runs.row_label(1) == f"row 2 (line 5) of {path}"


def test_a_file_of_empty_rows_has_no_runs(tmp_path):
    with pytest.raises(InputError, match=r"runs.csv: no runs \(the table is empty\)"):
        load_runs(write(tmp_path, "runs.csv", "N,D,loss\n,,\n,,\n"))


def test_jsonl_rows_name_their_lines(tmp_path):
    path = write(tmp_path, "runs.jsonl", '{"N": 1e8, "loss": 3}\n\n{"N": -1, "loss": 3}\n')
    with pytest.raises(InputError, match=r"runs.jsonl: row 1 \(line 3\), column 'N'"):
        load_runs(path)
    with pytest.raises(InputError, match=r"line 1 is a JSON list; expected one JSON object"):
        load_runs(write(tmp_path, "list.jsonl", "[1, 2]\n"))


# ----------------------------------------------------------------------------- delimiters


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_other_delimiters_in_a_csv_are_recognised(tmp_path, delimiter):
    rows = ["N", "D", "loss"], ["1e8", "1e9", "3.0"], ["2e8", "2e9", "2.9"]
    path = write(tmp_path, "runs.csv", "\n".join(delimiter.join(r) for r in rows) + "\n")
    runs = load_runs(path)
    assert runs.N.tolist() == [1e8, 2e8] and runs.loss.tolist() == [3.0, 2.9]


def test_semicolon_file_refuses_commas_in_numbers(tmp_path):
    """In a ';'-separated file "2,500" may mean 2.5: refused, never read as 2500."""
    path = write(tmp_path, "runs.csv", "N;D;loss\n1e8;1e9;2,500\n")
    with pytest.raises(InputError, match=r"value '2,500' is not a number.*a comma may be a "
                                         "decimal mark"):
        load_runs(path)
    comma = write(tmp_path, "comma.csv", 'N,D,loss\n"3,000,000",1e9,2.5\n')
    assert load_runs(comma).N.tolist() == [3e6]  # in a ','-separated file it is thousands


def test_semicolon_file_with_decimal_commas_is_read(tmp_path):
    """Excel's CSV where the comma is the decimal mark: ';' between fields, 3,425884 in
    cells; refused before, now read as pandas' decimal=',' reads it."""
    path = tmp_path / "excel.csv"
    path.write_bytes("N;D;loss;lr\r\n22360680;44721359550;3,425884;0,0003\r\n"
                     "33986245;29423668300;3,279608;1,5e-4\r\n".encode("utf-8-sig"))
    runs = load_runs(path)
    assert runs.loss.tolist() == [3.425884, 3.279608]
    assert runs.frame["lr"].tolist() == [0.0003, 0.00015]  # an extra column too
    assert runs.N.tolist() == [22360680, 33986245]


@pytest.mark.parametrize("cells, bad", [
    (["3,425", "3,280"], "'3,425'"),  # every comma could separate thousands: 3.425 or 3425?
    (["3,425884", "3.279608"], "'3,425884'"),  # decimal commas and points mixed
])
def test_semicolon_file_with_ambiguous_commas_is_still_refused(tmp_path, cells, bad):
    path = write(tmp_path, "runs.csv", "N;D;loss\n1e8;1e9;" + "\n2e8;2e9;".join(cells) + "\n")
    with pytest.raises(InputError, match=rf"value {bad} is not a number.*a comma may be a "
                                         "decimal mark, so write the number with a decimal "
                                         "point"):
        load_runs(path)


def test_a_comment_above_the_header_is_named(tmp_path):
    path = write(tmp_path, "runs.csv", "# sweep from 2024\nN,D,loss\n1e8,2e9,3.0\n")
    with pytest.raises(InputError, match=r"runs.csv: line 2 has 3 fields but the header \(line "
                                         r"1\) has 1; line 1 \('# sweep from 2024'\) looks "
                                         r"like a comment, which is not skipped: the header "
                                         r"must be the first line; delete the comment lines, "
                                         r"or read the file with pandas.read_csv\(path, "
                                         r"comment='#'\)"):
        load_runs(path)
    # a comment with commas (the bundled datasets' source lines) makes a wide false header
    wide = write(tmp_path, "wide.csv", "# source: a paper, Table 3, typed in\nN,D,loss\n"
                                       "1e8,2e9,3.0\n")
    with pytest.raises(InputError, match=r"no loss column\..*Hint: line 1 \('# source: a "
                                         r"paper, Table 3, typed in'\) looks like a comment"):
        load_runs(wide)
    # a header whose first column is named '#' (a row number) is a header
    numbered = write(tmp_path, "numbered.csv", "#,N,D,loss\n1,1e8,2e9,3.0\n")
    assert load_runs(numbered).N.tolist() == [1e8]


@pytest.mark.parametrize("suffix", [".xlsx", ".xls", ".ods"])
def test_a_workbook_is_told_to_be_exported_as_csv(tmp_path, suffix):
    path = tmp_path / f"runs{suffix}"
    path.write_bytes(b"PK\x03\x04junk")
    with pytest.raises(InputError, match=rf"runs\{suffix}: a spreadsheet workbook \({suffix}\) "
                                         r"is not read as a table of runs: export the sheet "
                                         r"as CSV"):
        load_runs(path)


@pytest.mark.parametrize("name, head, what", [
    ("runs.csv", b"PAR1", r"a Parquet file \(it starts with the bytes PAR1\), not CSV text; "
                          r"rename it to .parquet"),
    ("runs.json", b"PAR1", r"a Parquet file .* not JSON text"),
    ("runs.csv", b"PK\x03\x04", r"a zip archive, such as an Excel workbook .* export the "
                                 r"sheet as CSV"),
    ("runs.csv", b"\x1f\x8b\x08", r"gzip-compressed .* decompress it first"),
])
def test_a_binary_file_under_a_text_suffix_is_named(tmp_path, name, head, what):
    path = tmp_path / name
    path.write_bytes(head + bytes(range(256)))
    with pytest.raises(InputError, match=rf"{name}: this looks like {what}"):
        load_runs(path)


def test_a_parquet_file_named_csv_reads_with_its_format(tmp_path):
    pytest.importorskip("pyarrow")
    import pandas as pd

    path = tmp_path / "runs.csv"
    pd.DataFrame({"N": [1e8, 2e8], "D": [2e9, 4e9], "loss": [3.0, 2.9]}).to_parquet(path)
    with pytest.raises(InputError, match="looks like a Parquet file"):
        load_runs(path)
    assert load_runs(path, format="parquet").N.tolist() == [1e8, 2e8]


def test_utf16_with_a_byte_order_mark_is_read(tmp_path):
    """Excel's "Unicode text" export: UTF-16 with a byte-order mark, tab-separated."""
    path = tmp_path / "runs.tsv"
    path.write_bytes("N\tD\tloss\r\n1e8\t2e9\t3.0\r\n".encode("utf-16"))
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    assert load_runs(path).D.tolist() == [2e9]


@pytest.mark.parametrize("text", ["1e400", "Infinity", "-inf", "INF"])
def test_an_infinite_cell_is_quoted_as_written(tmp_path, text):
    rows = ["1e8,2e9,3.0"] * 3 + [f"2e8,{text},2.9"]
    path = write(tmp_path, "runs.csv", "N,D,loss\n\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputError, match=rf"runs.csv: row 3 \(line 6\), column 'D' \(D\): "
                                         rf"value '{re.escape(text)}' is not finite$"):
        load_runs(path)


def test_infinite_cells_of_extra_columns_stay_numbers(tmp_path):
    path = write(tmp_path, "runs.csv", "N,D,loss,grad_norm\n1e8,2e9,3.0,inf\n2e8,4e9,2.9,1.5\n")
    runs = load_runs(path)
    assert runs.frame["grad_norm"].tolist() == [np.inf, 1.5]
    assert read_table(str(path)).cell_texts == {(0, "grad_norm"): "inf"}


def test_unrecognised_delimiter_gets_a_hint(tmp_path):
    """Lines that do not split evenly are not guessed at: the message says what to do."""
    path = write(tmp_path, "runs.csv", "N;D;C;loss;budget\n1e8;1e9;6e17;3\n")
    with pytest.raises(InputError, match=r"no loss column\..*Hint: the header is one column "
                                         r"'N;D;C;loss;budget': if the file is separated by "
                                         r"';', set sep to ';'"):
        load_runs(path)


def test_sep_and_format_arguments(tmp_path):
    path = write(tmp_path, "runs.txt", "N;D;loss\n1e8;1e9;3\n")
    assert load_runs(path, sep=";").N.tolist() == [1e8]  # a delimiter implies delimited text
    assert load_runs(path, format="csv", sep=";").N.tolist() == [1e8]
    tsv = write(tmp_path, "runs.dat", "N\tloss\n1e8\t3\n")
    assert load_runs(tsv, format="tsv").N.tolist() == [1e8]
    with pytest.raises(InputError, match=r"`sep` must be one character"):
        load_runs(path, sep=";;")
    with pytest.raises(InputError, match=r"`sep` applies to CSV and TSV files, not to JSON"):
        load_runs(write(tmp_path, "runs.json", "[]"), sep=";")
    with pytest.raises(InputError, match=r"`sep`=';' applies only when data is a file path"):
        load_runs({"N": [1e8], "loss": [3.0]}, sep=";")
    with pytest.raises(InputError, match=r"`format` must be one of csv, json, jsonl, parquet, tsv, got 'xlsx'"):
        load_runs(path, format="xlsx")


def test_a_folder_names_the_tables_inside(tmp_path):
    write(tmp_path, "b.csv", "N,loss\n1,2\n")
    write(tmp_path, "a.json", "[]")
    write(tmp_path, "notes.txt", "x")
    with pytest.raises(InputError, match=rf"{tmp_path}: is a folder, not a file: give the path "
                                         r"of one table of runs; it holds a.json, b.csv$"):
        load_runs(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="it holds no table file"):
        load_runs(empty)


def test_no_suffix_gives_a_plain_message(tmp_path):
    path = write(tmp_path, "runs", "N,loss\n1,2\n")
    with pytest.raises(InputError, match=r"cannot tell the format from a name without a suffix; "
                                         r"give the format, one of csv, json"):
        load_runs(path)


# ----------------------------------------------------------------------------- JSON


@pytest.mark.parametrize("name, text", [
    ("deep.json", "[" * 100_000 + "]" * 100_000),
    ("deep.jsonl", "[" * 100_000 + "]" * 100_000 + "\n"),
    ("deep_cell.json", '[{"N": 1, "loss": ' + "[" * 70 + "]" * 70 + "}]"),
])
def test_deep_json_is_an_input_error(tmp_path, name, text):
    with pytest.raises(InputError, match=r"JSON nested more than 64 levels deep"):
        load_runs(write(tmp_path, name, text))


def test_repeated_key_in_a_json_record(tmp_path):
    path = write(tmp_path, "runs.json", '[{"N": 1e8, "loss": 3, "loss": 4}]')
    with pytest.raises(InputError, match=r"runs.json: not valid JSON \(key 'loss' appears twice"):
        load_runs(path)
    split = write(tmp_path, "split.json", json.dumps({"columns": ["N", "N", "loss"],
                                                      "data": [[1, 2, 3]]}))
    with pytest.raises(InputError, match=r"column 'N' is named twice"):
        load_runs(split)


def test_json_keeps_nan_as_a_missing_cell(tmp_path):
    path = write(tmp_path, "runs.json", '[{"N": 1e8, "loss": 3}, {"N": NaN, "loss": 3}]')
    with pytest.raises(InputError, match=r"row 1, column 'N' \(N\): value is missing"):
        load_runs(path)


def test_not_utf8(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_bytes(b"N,loss\n1e8,3\xff\n")
    with pytest.raises(InputError, match=r"runs.csv: not UTF-8 text .* save it as UTF-8"):
        load_runs(path)


# ----------------------------------------------------------------------------- size


def test_a_file_too_large_for_memory_is_refused_before_reading(tmp_path):
    """1 TiB (sparse: no disk used) is refused from its size, in well under a second."""
    path = tmp_path / "huge.csv"
    with open(path, "wb") as handle:
        handle.write(b"N,D,loss\n" + b"1000000000,20000000000,2.5\n" * 1000)
        handle.truncate(2**40)
    with pytest.raises(InputError, match=r"huge.csv: [\d,]+ runs need about [\d.]+ TiB of memory "
                                         r"for reading the file, and about .* is available: at "
                                         r"most about [\d,]+ runs fit\. A scaling-law fit needs"):
        load_runs(path)


def test_size_message_counts_the_runs_that_fit(tmp_path, monkeypatch):
    from scalinglaws import _validation

    path = tmp_path / "big.csv"
    row = b"1000000000,20000000000,2.5\n"  # 27 bytes a run
    n_rows = 2**26 // len(row) + 1000  # just past the 64 MiB below which nothing is checked
    path.write_bytes(b"N,D,loss\n" + row * n_rows)
    # Reading costs 6 bytes of memory per byte of CSV: 162 bytes a run here.
    monkeypatch.setattr(_validation, "available_memory", lambda: 162 * 1_000_000)
    with pytest.raises(InputError) as caught:
        read_table(str(path))
    message = str(caught.value)
    match = re.fullmatch(r".*big.csv: ([\d,]+) runs need about 384 MiB of memory for reading "
                         r"the file, and about 154 MiB is available: at most about ([\d,]+) runs "
                         r"fit\. A scaling-law fit needs thousands of runs, not millions: .*",
                         message)
    assert match, message
    counted, fitting = (int(group.replace(",", "")) for group in match.groups())
    assert counted == pytest.approx(n_rows, rel=1e-3)  # estimated from the first MiB
    assert fitting == pytest.approx(1_000_000, rel=1e-3)


def test_tables_of_ordinary_size_are_not_checked(tmp_path, monkeypatch):
    from scalinglaws import _validation

    monkeypatch.setattr(_validation, "available_memory", lambda: 1)
    path = write(tmp_path, "runs.csv", "N,D,loss\n1e8,1e9,3\n")
    assert len(read_table(str(path)).frame) == 1
    assert np.array_equal(read_table(str(path)).lines, [2])


def test_standard_input_and_pipes_are_refused_saying_what_to_do(tmp_path):
    # before: "-: no such file" and "/dev/stdin: not a regular file", with nothing to do
    with pytest.raises(InputError, match=r"^-: standard input is not read as a table; save "
                                         r"the table to a file and give the file's path$"):
        read_table("-")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"pipe.csv: not a regular file \(a pipe or a "
                                         r"device\): a table is read from a file; save"):
        read_table(str(fifo))
