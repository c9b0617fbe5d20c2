"""`--out` destroys nothing (scalinglaws.outputs.cli._common.output_file, which is
scalinglaws._files.atomic_output): a symlink keeps pointing at the file it names, a FIFO or
the null device is written into and never replaced, and paths that name no file (``-``,
the empty path, a folder that takes no file) are refused before any work, in one line."""

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from scalinglaws.fitting import estimator
from scalinglaws.outputs.cli import main

DATA = Path(__file__).resolve().parents[3] / "datasets" / "synthetic_chinchilla_sweep.csv"


@pytest.fixture
def no_fitting(monkeypatch):
    """Any fit started by the command fails the test: refusals must come before work."""
    def refuse(*args, **kwargs):
        raise AssertionError("the command started fitting before refusing its --out")
    monkeypatch.setattr(estimator, "fit", refuse)


def _one_line_error(capsys, *fragments):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("scalinglaws: error: "), err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    return err


def test_out_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "target").mkdir()
    assert main(["fit", str(DATA), "--out", "target/real.json"]) == 0
    assert json.loads((tmp_path / "target/real.json").read_text())["bootstrap"] is None
    Path("out_link.json").symlink_to("target/real.json")
    assert main(["fit", str(DATA), "--bootstrap", "10", "--out", "out_link.json"]) == 0
    assert Path("out_link.json").is_symlink()
    assert os.readlink("out_link.json") == "target/real.json"
    assert json.loads((tmp_path / "target/real.json").read_text())["bootstrap"] is not None
    assert sorted(os.listdir(tmp_path)) == ["out_link.json", "target"]
    assert os.listdir(tmp_path / "target") == ["real.json"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_out_into_a_fifo_writes_the_fit_and_keeps_the_fifo(tmp_path):
    """`mkfifo f; scalinglaws fit X --out f` (also what --out >(cat > x) hands over)."""
    fifo = tmp_path / "fit.json"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    chunks = []
    try:
        process = subprocess.Popen([sys.executable, "-m", "scalinglaws", "fit", str(DATA),
                                    "--out", str(fifo)], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
        try:
            _, err = process.communicate(timeout=120)
        finally:
            process.kill()
        while chunk := os.read(reader, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(reader)
    assert process.returncode == 0, err
    assert json.loads(b"".join(chunks))["kind"] == "scalinglaws.fit"
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and os.listdir(tmp_path) == ["fit.json"]


def test_out_dev_null_discards_and_never_replaces_it(devnull_guarded, capsys):
    before = devnull_guarded
    assert main(["fit", str(DATA), "--out", os.devnull]) == 0
    after = os.stat(os.devnull)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert after.st_ino == before.st_ino
    assert f"wrote {os.devnull}" in capsys.readouterr().out


@pytest.mark.parametrize("out, fragments", [
    ("-", ["--out '-'", "not read as standard output", "--out /dev/stdout", "--json", "./-"]),
    ("", ["--out: the path is empty"]),
])
def test_out_naming_no_file_is_refused_before_work(tmp_path, monkeypatch, capsys, no_fitting,
                                                   out, fragments):
    monkeypatch.chdir(tmp_path)
    assert main(["fit", str(DATA), "--out", out]) == 2
    _one_line_error(capsys, *fragments)
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="uses /proc, a folder that takes no file")
def test_out_in_a_folder_that_takes_no_file_is_refused_before_work(capsys, no_fitting):
    assert main(["fit", str(DATA), "--out", "/proc/fit.json"]) == 2
    err = _one_line_error(capsys, "--out '/proc/fit.json': cannot write here", "'/proc'")
    assert "scalinglaws-" not in err and "Traceback" not in err


def test_a_figure_without_an_image_suffix_is_refused_before_drawing(tmp_path, monkeypatch,
                                                                     capsys):
    # before: the figure was drawn, then saving failed naming the hidden temporary file
    monkeypatch.chdir(tmp_path)
    assert main(["fit", str(DATA), "--out", "fit.json"]) == 0
    capsys.readouterr()
    import matplotlib.figure

    def refuse(*args, **kwargs):
        raise AssertionError("the command drew before refusing its --out")
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", refuse)
    assert main(["plot", "fit", "fit.json", "--data", str(DATA), "--out", "noext"]) != 0
    _one_line_error(capsys, "--out 'noext': end the name with the image format", ".png")
    assert not list(tmp_path.glob(".noext*"))


def test_a_missing_cell_names_the_flag_that_drops_it(tmp_path, capsys):
    # the reader's advice "set nan_policy to omit" was not spelt as the command's flag
    data = tmp_path / "runs.csv"
    data.write_text("N,D,loss\n1e8,2e9,3.1\n2e8,,3.0\n")
    assert main(["fit", str(data)]) != 0
    _one_line_error(capsys, "row 1 (line 3), column 'D'", "pass --nan-policy omit")


# --out naming standard output (scalinglaws.outputs.cli._stdout_once): the stream holds the
# file once. Before, `--json --out /dev/stdout` printed the document twice (json.loads of
# the output failed with "Extra data"), and `--out /dev/stdout` put the summary around it.
# Run in a process of their own: under pytest's capture, /dev/stdout is a deleted file.


def _run(*argv, **kwargs):
    """``(stdout, stderr)`` of ``python -m scalinglaws ARGV`` into pipes; fails on an error."""
    process = subprocess.run([sys.executable, "-m", "scalinglaws", *map(str, argv)],
                             capture_output=True, text=True, timeout=120, **kwargs)
    assert process.returncode == 0, process.stderr
    return process.stdout, process.stderr


def test_json_with_out_on_stdout_prints_the_document_once(tmp_path):
    _run("fit", DATA, "--out", tmp_path / "fit.json")
    out, err = _run("fit", DATA, "--json", "--out", "/dev/stdout")
    assert json.loads(out) == json.loads((tmp_path / "fit.json").read_text())  # one document
    assert err == ""


def test_out_on_stdout_without_json_holds_the_file_and_the_summary_goes_to_stderr():
    out, err = _run("fit", DATA, "--out", "/dev/stdout")
    assert json.loads(out)["kind"] == "scalinglaws.fit"
    assert "form       chinchilla" in err and err.rstrip().endswith("wrote /dev/stdout")


@pytest.mark.parametrize("command", ["isoflop", "backtest"])
def test_a_json_document_goes_to_stdout_once(command):
    # before: the document was printed, then writing it was refused after the work ("end
    # the name with .json"), exit status 2
    out, err = _run(command, DATA, "--json", "--out", "/dev/fd/1")
    assert json.loads(out)["kind"] == f"scalinglaws.{command}" and err == ""


def test_out_naming_the_file_stdout_is_redirected_to_holds_one_document(tmp_path):
    """`scalinglaws fit X --json --out f.json > f.json`: one document in f.json."""
    target = tmp_path / "f.json"
    with open(target, "w") as stdout:
        process = subprocess.run([sys.executable, "-m", "scalinglaws", "fit", str(DATA),
                                  "--json", "--out", str(target)], stdout=stdout,
                                 stderr=subprocess.PIPE, text=True, timeout=120)
    assert process.returncode == 0, process.stderr
    assert json.loads(target.read_text())["kind"] == "scalinglaws.fit"
    assert os.listdir(tmp_path) == ["f.json"]


def test_out_on_stdout_appended_to_a_file_keeps_what_the_file_held(tmp_path):
    """`scalinglaws fit X --out /dev/stdout >> log`: the document is appended through the
    stream. Before, /dev/stdout was followed to the log file and the file replaced by the
    document: the log's earlier lines were lost."""
    log = tmp_path / "log.txt"
    log.write_text("an earlier line\n")
    with open(log, "a") as stdout:
        process = subprocess.run([sys.executable, "-m", "scalinglaws", "fit", str(DATA),
                                  "--out", "/dev/stdout"], stdout=stdout,
                                 stderr=subprocess.PIPE, text=True, timeout=120)
    assert process.returncode == 0, process.stderr
    first, rest = log.read_text().split("\n", 1)
    assert first == "an earlier line"
    assert json.loads(rest)["kind"] == "scalinglaws.fit"
    assert os.listdir(tmp_path) == ["log.txt"]


def test_a_table_goes_to_stdout_as_csv(tmp_path):
    """Table commands into a stream named without a suffix: CSV (before: refused, "end the
    name with .csv, .tsv or .json")."""
    import pandas as pd

    import scalinglaws as sl

    _run("fit", DATA, "--out", tmp_path / "fit.json")
    out, err = _run("predict", tmp_path / "fit.json", "--N", "1e9", "3e9", "--D", "2e10",
                    "6e10", "--out", "/dev/stdout")
    table = pd.read_csv(io.StringIO(out))
    expected = sl.load(tmp_path / "fit.json").predict(N=[1e9, 3e9], D=[2e10, 6e10])
    assert list(table.columns) == ["N", "D", "loss"]
    assert table.loss.to_numpy() == pytest.approx(expected, rel=1e-15)
    assert err.splitlines()[0].split() == ["N", "D", "loss"]  # the readable table: stderr


def test_a_table_goes_to_stdout_as_json_with_json(tmp_path):
    """`predict ... --json --out /dev/stdout`: the JSON document --json asks for (before:
    CSV, with --json ignored)."""
    _run("fit", DATA, "--out", tmp_path / "fit.json")
    out, _ = _run("predict", tmp_path / "fit.json", "--N", "1e9", "--D", "2e10", "--json",
                  "--out", "/dev/stdout")
    printed, _ = _run("predict", tmp_path / "fit.json", "--N", "1e9", "--D", "2e10", "--json")
    assert json.loads(out) == json.loads(printed)
    assert json.loads(out)["kind"] == "scalinglaws.predict"


def test_a_document_goes_to_stdout_as_json_prints_it():
    """`plan --json --out /dev/stdout` (a document, not a table): what --json prints.
    Before: refused after the work ("end the name with .json")."""
    argv = ["plan", "--target-compute", "1e23", "--sweep-budget", "1e20", "--max-draws", "30",
            "--json"]
    out, _ = _run(*argv, "--out", "/dev/stdout")
    printed, _ = _run(*argv)
    assert out == printed and json.loads(out)["kind"] == "scalinglaws.plan"


def test_out_elsewhere_keeps_the_printed_json(tmp_path, capsys):
    assert main(["fit", str(DATA), "--json", "--out", str(tmp_path / "fit.json")]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads((tmp_path / "fit.json").read_text())


def test_json_and_out_both_on_the_null_device_replace_nothing(devnull_guarded, monkeypatch):
    before = devnull_guarded
    with open(os.devnull, "w") as sink:
        monkeypatch.setattr(sys, "stdout", sink)
        assert main(["fit", str(DATA), "--json", "--out", os.devnull]) == 0
    after = os.stat(os.devnull)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev


def test_reproduce_keeps_its_tables_on_stderr_when_the_fit_goes_to_stdout(epoch_csv):
    """reproduce's --json prints the comparison with the paper, not the fit --out writes."""
    out, err = _run("reproduce", "hoffmann", "--data", epoch_csv, "--bootstrap", "0", "--json",
                    "--out", "/dev/stdout")
    assert json.loads(out)["kind"] == "scalinglaws.fit"
    assert json.loads(err)["title"].startswith("Hoffmann et al. (2022)")


def _sweep_with_groups(tmp_path):
    """DATA with a two-valued column ``half`` (for compare --group)."""
    import pandas as pd

    frame = pd.read_csv(DATA)
    frame["half"] = ["x", "y"] * (len(frame) // 2) + ["x"] * (len(frame) % 2)
    path = tmp_path / "runs.csv"
    frame.to_csv(path, index=False)
    return path


#: commands with both --out and --figure, and what they need besides (a FIGURE placeholder)
_FIGURE_COMMANDS = {
    "backtest": ["backtest", str(DATA), "--rollout"],
    "compare": ["compare", "RUNS", "--group", "half", "--bootstrap", "20"],
    "plan": ["plan", "--target-compute", "1e24", "--sweep-budget", "1e21"],
    "tasks": ["tasks", "fit", str(DATA)],
}


def _figure_argv(name, tmp_path):
    return [str(_sweep_with_groups(tmp_path)) if a == "RUNS" else a
            for a in _FIGURE_COMMANDS[name]]


@pytest.mark.parametrize("command", sorted(_FIGURE_COMMANDS))
@pytest.mark.parametrize("spelling", ["same", "relative", "symlink", "hardlink"])
def test_out_and_figure_naming_one_file_are_refused_before_work(command, spelling, tmp_path,
                                                               monkeypatch, capsys, no_fitting):
    # before: backtest --out same.svg --figure same.svg --force exited 0 with the JSON lost
    # (the figure replaced it); plan wrote the JSON, then failed drawing over it
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    # (the --out of plan and tasks fit is a table or JSON by its suffix)
    suffix = ".svg" if command in ("backtest", "compare") else ".json"
    name = "same" + suffix
    out = tmp_path / name
    out.write_text("kept")
    figure = {"same": name, "relative": "sub/../" + name, "symlink": "link" + suffix,
              "hardlink": "hard" + suffix}[spelling]
    if spelling == "symlink":
        Path(figure).symlink_to(name)
    elif spelling == "hardlink":
        os.link(name, figure)
    argv = [*_figure_argv(command, tmp_path), "--out", name, "--figure", figure, "--force"]
    assert main(argv) == 2
    _one_line_error(capsys, f"--figure {figure!r} and --out {name!r} name the same file")
    assert out.read_text() == "kept"


@pytest.mark.parametrize("command", sorted(_FIGURE_COMMANDS))
def test_a_figure_suffix_matplotlib_cannot_write_is_refused_before_work_even_with_force(
        command, tmp_path, monkeypatch, capsys, no_fitting):
    # before: with --force the work ran, then "error: ValueError: Format 'txt' is not supported"
    monkeypatch.chdir(tmp_path)
    assert main([*_figure_argv(command, tmp_path), "--figure", "fig.txt", "--force"]) == 2
    _one_line_error(capsys, "--figure 'fig.txt': end the name with the image format", ".png")
    assert not list(tmp_path.glob("*fig*"))


@pytest.mark.parametrize("command", sorted(_FIGURE_COMMANDS))
def test_a_figure_named_like_a_table_is_refused_with_every_format_matplotlib_writes(
        command, tmp_path, monkeypatch, capsys, no_fitting):
    # before: "end it with .png, .pdf or .svg (or pass --force)", though every format
    # matplotlib lists is written and --force could not draw a .csv
    from scalinglaws.outputs.plot._formats import image_formats

    monkeypatch.chdir(tmp_path)
    assert main([*_figure_argv(command, tmp_path), "--figure", "fig.csv"]) == 2
    err = _one_line_error(capsys, "--figure 'fig.csv': end the name with the image format, "
                                  "one of ." + ", .".join(image_formats()))
    assert "--force" not in err


@pytest.mark.parametrize("argv", [["plan"], ["compare"], ["backtest"], ["tasks", "fit"],
                                  ["plot"]], ids=" ".join)
def test_a_figure_options_help_names_formats_matplotlib_writes(argv, capsys):
    # before: plan's --figure help said (.png, .pdf, .svg); each command had its own list
    from scalinglaws.outputs.cli._common import FIGURE_FORMATS
    from scalinglaws.outputs.plot._formats import image_formats

    assert main([*argv, "--help"]) == 0
    assert FIGURE_FORMATS in " ".join(capsys.readouterr().out.split())
    named = [word.strip(".,") for word in FIGURE_FORMATS.split() if word.startswith(".")]
    assert len(named) >= 5 and set(named) <= set(image_formats()), named


def test_force_replaces_a_table_with_the_fit_instead_of_failing_after_the_work(tmp_path, capsys):
    # before: the inner save of the temporary file was not given --force, and refused its
    # .csv name after the fit: "error: `path` '/…/.other.csv.scalinglaws-….tmp.csv': …"
    import scalinglaws as sl

    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    assert main(["fit", str(DATA), "--out", str(other), "--force"]) == 0
    capsys.readouterr()
    doc = json.loads(other.read_text())
    assert doc["kind"] == "scalinglaws.fit"
    library = sl.fit(sl.load_runs(DATA), "chinchilla")
    assert doc["params"] == pytest.approx(dict(library.params), rel=1e-12)
    assert not list(tmp_path.glob(".other*"))


def test_force_replaces_a_table_with_a_comparison(tmp_path, capsys):
    # compare's inner result.save(tmp) had the same fault
    from scalinglaws import compare

    runs = _sweep_with_groups(tmp_path)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    assert main(["compare", str(runs), "--group", "half", "--bootstrap", "20", "--out",
                 str(other), "--force"]) == 0
    capsys.readouterr()
    doc = json.loads(other.read_text())
    import pandas as pd

    library = compare(pd.read_csv(runs), "x", groups="half", n_resamples=20, rng=0)
    assert doc["multipliers"] == json.loads(library.to_json())["multipliers"]
