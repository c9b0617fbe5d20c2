"""Tests of scalinglaws._files: atomic writes, output-path checks, file kinds, bounded JSON."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scalinglaws import InputError
from scalinglaws._files import (
    MAX_JSON_DEPTH,
    JsonDocument,
    atomic_output,
    atomic_write,
    check_output_path,
    file_kind,
    parse_json,
)

# ----------------------------------------------------------------------------- atomic_write


def test_atomic_write_replaces_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "out.json"
    assert atomic_write(path, "one") == path
    atomic_write(path, b"two")
    assert path.read_text() == "two"
    assert os.listdir(tmp_path) == ["out.json"]


def test_atomic_write_keeps_permissions_and_uses_the_umask(tmp_path):
    path = tmp_path / "out.txt"
    atomic_write(path, "x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    path.chmod(0o640)
    atomic_write(path, "y")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_atomic_write_follows_a_symlink(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    atomic_write(link, "new")
    assert link.is_symlink() and target.read_text() == "new"


def test_a_failed_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_output(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("writer died")
    with pytest.raises(KeyboardInterrupt), atomic_output(path) as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_atomic_output_keeps_the_suffix_for_writers_that_read_it(tmp_path):
    with atomic_output(tmp_path / "plot.png") as tmp:
        assert tmp.suffix == ".png" and tmp.parent == tmp_path
        tmp.write_bytes(b"\x89PNG")
    assert (tmp_path / "plot.png").read_bytes() == b"\x89PNG"


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing" / "out.json", r"folder '.*missing' does not exist"),
    (lambda p: p, r"is a folder, not a file"),
])
def test_atomic_write_bad_destinations(tmp_path, make, message):
    with pytest.raises(InputError, match=message):
        atomic_write(make(tmp_path), "x")


def test_atomic_write_unwritable_folder(tmp_path, monkeypatch):
    """As a user without write permission sees it (simulated: the tests may run as root)."""
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(InputError, match=r"out.json: cannot write here: folder .* takes no "
                                         r"new file \(Permission denied\)"):
        atomic_write(tmp_path / "out.json", "x")


def test_a_failing_rename_is_an_input_error_and_cleans_up(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(InputError, match=r"out.json: cannot write it \(No space left on device\)"):
        atomic_write(tmp_path / "out.json", "x")
    assert os.listdir(tmp_path) == []


def test_atomic_write_refuses_other_data():
    with pytest.raises(InputError, match="data must be text or bytes"):
        atomic_write("x.json", {"a": 1})


# ----------------------------------------------------------------------------- special paths
TEMPORARY = re.compile(r"\.(?P<name>.+)\.scalinglaws-[a-z0-9_]{8}\.tmp(?P<suffix>.*)")


def test_temporary_files_are_named_recognisably(tmp_path):
    with atomic_output(tmp_path / "report.html") as tmp:
        match = TEMPORARY.fullmatch(tmp.name)
        assert match and match["name"] == "report.html" and match["suffix"] == ".html", tmp.name


def test_a_very_long_name_still_gets_a_temporary_file(tmp_path):
    path = tmp_path / ("a" * 240 + ".json")  # fine for the file; too long with a suffix added
    atomic_write(path, "x")
    assert path.read_text() == "x" and os.listdir(tmp_path) == [path.name]


def test_stale_temporaries_of_the_same_target_are_removed_after_a_day(tmp_path):
    day_old = time.time() - 86400 - 60
    names = {"stale": ".fit.json.scalinglaws-abcd1234.tmp.json",
             "nested": "..fit.json.scalinglaws-abcd1234.tmp.json.scalinglaws-0123_xyz.tmp.json",
             "fresh": ".fit.json.scalinglaws-efgh5678.tmp.json",
             "other target": ".runs.csv.scalinglaws-abcd1234.tmp.csv",
             "not ours": ".fit.json.abcd1234.json"}
    for name in names.values():
        (tmp_path / name).write_text("")
        if name != names["fresh"]:
            os.utime(tmp_path / name, (day_old, day_old))
    atomic_write(tmp_path / "fit.json", "{}")
    left = set(os.listdir(tmp_path))
    assert left == {"fit.json", names["fresh"], names["other target"], names["not ours"]}


@pytest.mark.parametrize("path, cli, python", [
    ("", r"^--out: the path is empty", r"^`path`: the path is empty"),
    ("-", (r"^--out '-': '-' is not read as standard output; to write there pass --out "
           r"/dev/stdout \(or --json.*\), or '\./-' for a file named '-'$"),
     (r"^`path` '-': '-' is not read as standard output; to write there pass '/dev/stdout', "
      r"or '\./-' for a file named '-'$")),
])
def test_empty_and_dash_are_refused_by_name(tmp_path, monkeypatch, path, cli, python):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=cli):
        check_output_path(path, kind="fit")
    with pytest.raises(InputError, match=python):
        check_output_path(path, kind="fit", argument="`path`")
    with pytest.raises(InputError, match="empty|'-'"):
        atomic_write(path, "x")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("path", ["results/", "fit.json/"])
def test_a_path_ending_with_a_separator_is_refused_as_a_folder(tmp_path, monkeypatch, path):
    # before: pathlib dropped the '/', and `--out results/` wrote a file named results
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fit.json").write_text("{}")
    with pytest.raises(InputError, match=rf"^--out '{path}' ends with '/', so it names a "
                                         rf"folder, not a file; name the file to write in it "
                                         rf"\({path}NAME\)$"):
        check_output_path(path, kind="fit")
    with pytest.raises(InputError, match="names a folder"):
        atomic_write(path, "x")
    assert os.listdir(tmp_path) == ["fit.json"] and (tmp_path / "fit.json").read_text() == "{}"


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="uses /proc, a folder that takes no file")
def test_an_unwritable_folder_is_refused_before_work_naming_the_path():
    """Even as root (for whom os.access says yes), /proc takes no new file."""
    with pytest.raises(InputError, match=r"^--out '/proc/fit.json': cannot write here: folder "
                                         r"'/proc' takes no new file") as caught:
        check_output_path("/proc/fit.json", kind="fit")
    assert "scalinglaws-" not in str(caught.value)  # never the hidden temporary name
    with pytest.raises(InputError, match=r"^/proc/fit.json: cannot write here"):
        atomic_write("/proc/fit.json", "x")


def _fifo(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("FIFOs are POSIX")
    path = tmp_path / "fit.json"
    os.mkfifo(path)
    return path


def test_checking_a_fifo_never_opens_it(tmp_path):
    """Opening a FIFO to read it waits for a writer forever: the check must not."""
    fifo = _fifo(tmp_path)
    code = ("import sys; from scalinglaws._files import check_output_path; "
            "print(check_output_path(sys.argv[1], kind='fit', document='scalinglaws.fit'))")
    done = subprocess.run([sys.executable, "-c", code, str(fifo)], capture_output=True,
                          text=True, timeout=30, check=False)
    assert done.returncode == 0 and done.stdout.strip() == str(fifo), done.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_fifo_is_written_into_not_replaced(tmp_path):
    fifo = _fifo(tmp_path)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # the writer's open need not wait
    try:
        code = "import sys; from scalinglaws._files import atomic_write; " \
               "atomic_write(sys.argv[1], 'streamed')"
        done = subprocess.run([sys.executable, "-c", code, str(fifo)], capture_output=True,
                              text=True, timeout=60, check=False)
        received = os.read(reader, 1 << 16)
    finally:
        os.close(reader)
    assert done.returncode == 0, done.stderr
    assert received == b"streamed"
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and os.listdir(tmp_path) == ["fit.json"]


def test_dev_null_is_written_into_never_replaced(devnull_guarded):
    """The real /dev/null: a rename onto it is caught before it happens (as the old code
    did, as root), and it is still the null device afterwards."""
    before = devnull_guarded
    assert check_output_path(os.devnull, kind="fit", document="scalinglaws.fit") \
        == Path(os.devnull)
    atomic_write(os.devnull, "discarded")
    after = os.stat(os.devnull)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert after.st_ino == before.st_ino


def test_other_special_files_are_refused_even_with_force(tmp_path):
    import socket

    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("Unix sockets are POSIX")
    path = tmp_path / "s.json"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        for call in (lambda: check_output_path(path, kind="fit", force=True),
                     lambda: atomic_write(path, "x")):
            with pytest.raises(InputError, match=r"s.json'? is a socket, not a file"):
                call()
        assert stat.S_ISSOCK(os.stat(path).st_mode)
    # a device that is neither null nor a terminal (never read: force skips the content)
    with pytest.raises(InputError, match=r"^--out '/dev/zero' is a character device, not a "
                                         r"file: .*name a file \(or pass --json"):
        check_output_path("/dev/zero", kind="fit", force=True)


WRITER = r"""
import sys, time
from scalinglaws._files import atomic_write
path, seconds = sys.argv[1], float(sys.argv[2])
small, large = "s" * 10, "L" * 300_000
end, n = time.time() + seconds, 0
while time.time() < end:
    atomic_write(path, small if n % 2 else large)
    n += 1
print(n)
"""


def test_readers_never_see_a_partial_file(tmp_path):
    """Two processes rewrite one file in a loop while this one reads it."""
    path = tmp_path / "shared.txt"
    atomic_write(path, "s" * 10)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), "1.5"],
                                stdout=subprocess.PIPE, text=True) for _ in range(2)]
    reads, bad = 0, []
    while any(w.poll() is None for w in writers):
        text = path.read_text()
        reads += 1
        if text not in ("s" * 10, "L" * 300_000):
            bad.append(len(text))
    writes = sum(int(w.communicate()[0]) for w in writers)
    assert all(w.returncode == 0 for w in writers)
    assert bad == [] and reads > 50 and writes > 50, (reads, writes)
    assert os.listdir(tmp_path) == ["shared.txt"]


# ----------------------------------------------------------------------------- output paths


def test_output_over_an_input_is_refused_even_with_force(tmp_path):
    runs = tmp_path / "runs.csv"
    runs.write_text("N,loss\n1,2\n")
    for out in (runs, tmp_path / "." / "runs.csv"):
        with pytest.raises(InputError, match=r"--out .* is also an input of this command"):
            check_output_path(out, inputs=[runs], kind="fit", force=True)
    link = tmp_path / "alias.csv"
    link.symlink_to(runs)
    hard = tmp_path / "hard.csv"
    os.link(runs, hard)
    for out in (link, hard):
        with pytest.raises(InputError, match="is also an input"):
            check_output_path(out, inputs=[runs])


def test_output_over_another_kind_needs_force(tmp_path):
    table = tmp_path / "runs.csv"
    table.write_text("N,loss\n1,2\n")
    with pytest.raises(InputError, match=r"--out '.*runs.csv' exists and holds a table file, not "
                                         r"a fit file; choose another name or pass --force"):
        check_output_path(table, kind="fit")
    assert check_output_path(table, kind="fit", force=True) == table
    fit_file = tmp_path / "fit.json"
    fit_file.write_text('{"schema_version": 1, "kind": "scalinglaws.fit"}')
    with pytest.raises(InputError, match="holds a fit file, not an HTML file"):
        check_output_path(fit_file, kind="html", argument="--report")
    assert check_output_path(fit_file, kind="fit") == fit_file
    assert check_output_path(tmp_path / "new.json", kind="fit") == tmp_path / "new.json"


def test_an_existing_table_or_foreign_json_is_replaced_only_with_force(tmp_path):
    # the package cannot tell its own tables from a user's sweep: a second `predict --out
    # predictions.csv`, or predictions written over runs.csv, must not destroy data unasked
    table = tmp_path / "runs.csv"
    table.write_text("N,D,loss\n1e8,2e9,3.1\n")
    with pytest.raises(InputError, match=r"--out '.*runs.csv' exists and holds a table that "
                                         r"may be data .* pass --force to replace it"):
        check_output_path(table, kind="table")
    assert check_output_path(table, kind="table", force=True) == table
    records = tmp_path / "runs.json"
    records.write_text('[{"N": 1e8, "D": 2e9, "loss": 3.1}]')
    with pytest.raises(InputError, match="holds a JSON file that may be data"):
        check_output_path(records, kind="json")
    # a file of no known kind (runs.txt, a name without suffix) is no safer to replace
    for name in ("runs.txt", "runs"):
        other = tmp_path / name
        other.write_text("N,D,loss\n1e8,2e9,3.1\n")
        with pytest.raises(InputError, match="holds a file that may be data"):
            check_output_path(other, kind="fit")
    # a document that quotes a fit (a back-test holding its folds' fits) is not a fit, but
    # it is the package's own: replaced unasked by a document of its kind
    backtest = tmp_path / "backtest.json"
    backtest.write_text('{"kind": "scalinglaws.backtest", "folds": [{"kind": "scalinglaws.fit"}]}')
    assert file_kind(backtest) == "json"
    assert check_output_path(backtest, kind="json") == backtest
    ours = tmp_path / "comparison.json"
    ours.write_text('{"kind": "scalinglaws.comparison", "rows": []}')
    assert check_output_path(ours, kind="json") == ours
    empty = tmp_path / "empty.csv"
    empty.write_text("")  # nothing to lose (e.g. a temporary file made for the output)
    assert check_output_path(empty, kind="table") == empty


def test_a_new_file_named_like_another_kind_is_refused(tmp_path):
    # `fit --out fit.csv` would leave JSON under a table's name for the next tool to misread
    with pytest.raises(InputError, match=r"--out '.*fit.csv': a fit file is written here, but "
                                         r"the name ends like a table file; end it with .json"):
        check_output_path(tmp_path / "fit.csv", kind="fit")
    # a figure's name is checked against every format matplotlib writes by the figure
    # writers (outputs.plot._formats), not here with a list of three ("end it with .png,
    # .pdf or .svg (or pass --force)": --force could not draw it)
    assert check_output_path(tmp_path / "plot.html", kind="image") == tmp_path / "plot.html"
    for name, kind in (("fit.json", "fit"), ("out.json", "json"), ("t.tsv", "table"),
                       ("t.parquet", "table"), ("f.svg", "image"), ("noext", "fit")):
        assert check_output_path(tmp_path / name, kind=kind) == tmp_path / name
    assert check_output_path(tmp_path / "fit.csv", kind="fit", force=True) == tmp_path / "fit.csv"


def test_saving_a_fit_never_replaces_a_table(tmp_path, plain_result):
    import scalinglaws as sl

    table = tmp_path / "runs.csv"
    table.write_text("N,D,loss\n1e8,2e9,3.1\n")
    for save in (plain_result.save, lambda path, **kw: sl.save(plain_result, path, **kw)):
        with pytest.raises(InputError, match=r"`path` .* holds a table file, not a fit file"):
            save(table)
        assert table.read_text() == "N,D,loss\n1e8,2e9,3.1\n"
    fit_file = tmp_path / "fit.json"
    plain_result.save(fit_file)
    sl.save(plain_result, fit_file)  # a fit replaces a fit
    assert sl.load(fit_file).params == plain_result.params
    sl.save(plain_result, table, force=True)
    assert sl.load(table).params == plain_result.params


class _Document(JsonDocument):
    _document = "the probe"

    def __init__(self, doc):
        self.doc = doc

    def to_dict(self):
        return self.doc


def test_json_document_writes_its_dict_compactly_or_indented_and_safely(tmp_path):
    """The to_json/save of the grouped fit and the comparison: compact text unless an
    indent is given, a saved file indented by 2 with a final newline, written atomically
    and never over another kind of file; a value JSON cannot hold is named."""
    doc = {"a": [1, 2.5], "b": {"c": None}}
    document = _Document(doc)
    assert document.to_json() == '{"a": [1, 2.5], "b": {"c": null}}'
    assert document.to_json(indent=1, sort_keys=True) == json.dumps(doc, indent=1,
                                                                    sort_keys=True)
    out = tmp_path / "doc.json"
    document.save(out)
    assert out.read_text() == json.dumps(doc, indent=2) + "\n"
    table = tmp_path / "runs.csv"
    table.write_text("N,loss\n1,2\n")
    with pytest.raises(InputError, match=r"`path` '.*runs.csv' exists and holds a table file"):
        document.save(table)
    assert table.read_text() == "N,loss\n1,2\n"
    with pytest.raises(InputError, match=r"cannot write the probe as JSON: .*x.* \(object\) is "
                                         r"not a JSON value"):
        _Document({"x": object()}).to_json()


def test_json_document_save_keeps_another_scalinglaws_document(tmp_path):
    """A comparison or grouped fit saved over an IsoFLOP analysis (or another kind of
    scalinglaws document) replaced it silently: save now tells the path check the kind its
    document names, so only the same kind is replaced unasked."""
    isoflop = tmp_path / "isoflop.json"
    isoflop_text = '{"kind": "scalinglaws.isoflop", "schema_version": 1}'
    isoflop.write_text(isoflop_text)
    comparison = _Document({"kind": "scalinglaws.comparison", "rows": []})
    with pytest.raises(InputError, match=r"`path` '.*isoflop.json' exists and holds another "
                                         r"scalinglaws document \('scalinglaws.isoflop', not "
                                         r"'scalinglaws.comparison'\)"):
        comparison.save(isoflop)
    assert isoflop.read_text() == isoflop_text
    grouped = tmp_path / "grouped.json"
    _Document({"kind": "scalinglaws.grouped_fit", "groups": {}}).save(grouped)
    with pytest.raises(InputError, match="holds another scalinglaws document"):
        comparison.save(grouped)
    comparison.save(tmp_path / "comparison.json")
    comparison.save(tmp_path / "comparison.json")  # the same kind is replaced unasked
    comparison.save(isoflop, force=True)
    assert json.loads(isoflop.read_text())["kind"] == "scalinglaws.comparison"


def test_the_comparison_and_the_grouped_fit_save_through_json_document():
    """They write their files with JsonDocument.save (tested above), not a save of their own."""
    from scalinglaws.analysis.compare_result import Comparison
    from scalinglaws.fitting.grouped_result import GroupedFitResult

    assert Comparison.save is JsonDocument.save
    assert GroupedFitResult.save is JsonDocument.save


def test_python_saves_say_force_true_and_the_command_line_says_force(tmp_path, plain_result):
    """A Python user passes ``force=True``, not ``--force``: the messages said ``--force``
    to both."""
    import scalinglaws as sl

    table = tmp_path / "runs.csv"
    table.write_text("N,D,loss\n1e8,2e9,3.1\n")
    foreign = tmp_path / "records.json"
    foreign.write_text('[{"N": 1e8}]')
    isoflop = tmp_path / "isoflop.json"
    isoflop.write_text('{"kind": "scalinglaws.isoflop"}')
    saves = [(plain_result.save, table), (lambda p: sl.save(plain_result, p), table),
             (plain_result.save, tmp_path / "fit.csv"),
             (_Document({"kind": "scalinglaws.comparison"}).save, foreign),
             (_Document({"kind": "scalinglaws.comparison"}).save, isoflop),
             (_Document({"kind": "scalinglaws.comparison"}).save, table)]
    for save, path in saves:
        with pytest.raises(InputError, match=r"^`path` .*pass force=True") as caught:
            save(path)
        assert "--force" not in str(caught.value)
    for path, kind, document in ((table, "fit", None), (table, "table", None),
                                 (isoflop, "json", "scalinglaws.comparison"),
                                 (tmp_path / "fit.csv", "fit", None)):
        with pytest.raises(InputError, match=r"^--out .*pass --force") as caught:
            check_output_path(path, kind=kind, document=document)
        assert "force=True" not in str(caught.value)
        with pytest.raises(InputError, match=r"pass --replace\b"):
            check_output_path(path, kind=kind, document=document, argument="`path`",
                              force_option="--replace")


def test_output_folder_problems(tmp_path):
    with pytest.raises(InputError, match="is a folder, not a file"):
        check_output_path(tmp_path)
    with pytest.raises(InputError, match=r"--plot '.*/nope/a.png': folder '.*nope' does not exist"):
        check_output_path(tmp_path / "nope" / "a.png", argument="--plot")


@pytest.mark.parametrize("name, content, kind", [
    ("a.png", b"\x89PNG\r\n", "image"),
    ("a", b"\x89PNG\r\n", "image"),
    ("plot.json", b"%PDF-1.4", "image"),
    ("r", b"<!DOCTYPE html><html>", "html"),
    ("fit.txt", b'{"schema_version": 1, "kind": "scalinglaws.fit"}', "fit"),
    ("x.json", b'[{"N": 1}]', "json"),
    ("notes", b"[1, 2]", "json"),
    ("t.parquet", b"PAR1....", "table"),
    ("runs.csv", b"N,loss\n", "table"),
    ("notes.txt", b"hello", None),
])
def test_file_kind_reads_content_before_suffix(tmp_path, name, content, kind):
    path = tmp_path / name
    path.write_bytes(content)
    assert file_kind(path) == kind
    assert file_kind(tmp_path / "missing.html") == "html"


# ----------------------------------------------------------------------------- JSON


@pytest.mark.parametrize("text, message", [
    ('{"a": NaN}', r"field a is not a finite number"),
    ('{"a": {"b": [1, Infinity]}}', r"field a.b\[1\] is not a finite number"),
    ('{"a": -Infinity}', r"field a is not a finite number"),
    ('{"a": 1e400}', r"field a is not a finite number"),
    ('{"a": 1, "a": 2}', r"key 'a' appears twice"),
    ("[" * 100_000 + "]" * 100_000, r"nested more than 64 levels deep"),
    ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), r"nested more than 64 levels"),
    ("{", r"not valid JSON"),
    (b"\xff", r"not UTF-8 text|not valid JSON"),
], ids=["nan", "infinity-in-list", "minus-infinity", "overflow", "repeated-key", "very-deep",
        "just-too-deep", "truncated", "not-utf8"])
def test_parse_json_refusals(text, message):
    with pytest.raises(InputError, match=r"^f.json: .*(" + message + ")"):
        parse_json(text, "f.json")


def test_parse_json_accepts_what_it_should():
    assert parse_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, "f") is not None
    assert parse_json('{"a": NaN}', "f", finite=False)["a"] != 0  # runs files keep NaN cells
    start = time.perf_counter()
    parse_json("[" + ",".join(["1.5"] * 200_000) + "]", "f")
    assert time.perf_counter() - start < 5  # linear, not quadratic
