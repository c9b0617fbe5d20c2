"""The CLI under attack (issue 19): outputs that would destroy inputs, absurd arguments,
signals. Every case ends in one line on stderr and a conventional exit status, before any
work is done, with no file left half-written and no process left behind."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import scalinglaws.fitting.estimator as estimator
from scalinglaws.outputs.cli import main

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "datasets" / "synthetic_chinchilla_sweep.csv"


@pytest.fixture
def runs_csv(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_bytes(DEFAULT_DATA.read_bytes())
    return path


@pytest.fixture(scope="module")
def fit_json(tmp_path_factory):
    path = tmp_path_factory.mktemp("fit") / "fit.json"
    assert main(["fit", str(DEFAULT_DATA), "--out", str(path)]) == 0
    return path


@pytest.fixture
def no_fitting(monkeypatch):
    """Any fit started by the command fails the test: refusals must come before work."""
    def refuse(*args, **kwargs):
        raise AssertionError("the command started fitting before refusing its arguments")
    monkeypatch.setattr(estimator, "fit", refuse)


def _one_line_error(capsys, *fragments):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("scalinglaws: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    return err


# ------------------------------------------------------------------ outputs
def test_fit_out_over_its_input_is_refused_before_work(runs_csv, capsys, no_fitting):
    before = runs_csv.read_bytes()
    assert main(["fit", str(runs_csv), "--out", str(runs_csv)]) == 2
    _one_line_error(capsys, "--out", "is also an input")
    assert runs_csv.read_bytes() == before
    # the same file by another spelling
    other = runs_csv.parent / "." / runs_csv.name
    assert main(["fit", str(runs_csv), "--out", str(other), "--force"]) == 2
    _one_line_error(capsys, "is also an input")
    assert runs_csv.read_bytes() == before


def test_report_out_over_the_fit_or_the_data_is_refused(fit_json, runs_csv, capsys):
    before = fit_json.read_bytes()
    assert main(["report", str(fit_json), "--out", str(fit_json)]) == 2
    _one_line_error(capsys, "is also an input")
    assert main(["report", str(fit_json), "--data", str(runs_csv), "--out", str(runs_csv)]) == 2
    _one_line_error(capsys, "is also an input")
    assert main(["plot", "fit", str(fit_json), "--data", str(runs_csv),
                 "--out", str(fit_json)]) == 2
    _one_line_error(capsys, "is also an input")
    assert fit_json.read_bytes() == before


def test_another_kind_of_file_is_replaced_only_with_force(tmp_path, capsys, fit_json):
    page = tmp_path / "page.json"
    page.write_text('{"not": "a fit"}')
    assert main(["fit", str(DEFAULT_DATA), "--out", str(page)]) == 2
    _one_line_error(capsys, "--force")
    assert json.loads(page.read_text()) == {"not": "a fit"}
    assert main(["fit", str(DEFAULT_DATA), "--out", str(page), "--force"]) == 0
    assert json.loads(page.read_text())["form"]["name"] == "chinchilla"
    table = tmp_path / "table.csv"
    table.write_text("a,b\n1,2\n")
    assert main(["diagnose", str(fit_json), "--N", "7B", "--D", "1T", "--out",
                 str(tmp_path / "d.csv")]) == 2  # a document is JSON
    capsys.readouterr()
    assert main(["report", str(fit_json), "--out", str(table)]) == 2
    _one_line_error(capsys, "--out", "table", "--force")


def test_out_into_a_missing_folder_is_refused_before_work(tmp_path, capsys, no_fitting):
    assert main(["fit", str(DEFAULT_DATA), "--bootstrap", "1000",
                 "--out", str(tmp_path / "nowhere" / "fit.json")]) == 2
    _one_line_error(capsys, "does not exist")
    assert main(["fit", str(DEFAULT_DATA), "--out", str(tmp_path)]) == 2
    _one_line_error(capsys, "is a folder")


def test_reproduce_out_over_its_data_is_refused(runs_csv, capsys):
    assert main(["reproduce", "hoffmann", "--data", str(runs_csv), "--out", str(runs_csv)]) == 2
    _one_line_error(capsys, "is also an input")


def test_curves_fit_out_over_its_schedules_is_refused(tmp_path, capsys):
    schedules = tmp_path / "schedules.json"
    schedules.write_text('{"cosine_24000": {"kind": "cosine", "total_steps": 24000, '
                         '"peak_lr": 3e-4, "warmup_steps": 2160}}')
    curves = tmp_path / "curves.csv"
    curves.write_text("run_id,schedule_file,step,loss\nr,cosine_24000,2200,3.9\n")
    before = schedules.read_text()
    assert main(["curves", "fit", str(curves), "--schedules", str(schedules),
                 "--schedule-key", "schedule_file", "--out", str(schedules)]) == 2
    _one_line_error(capsys, "is also an input")
    assert schedules.read_text() == before


def test_every_file_a_command_reads_is_protected_from_out():
    """Each option or argument that names a file to read is one --out may not be."""
    import argparse

    from scalinglaws.outputs.cli import build_parser
    from scalinglaws.outputs.cli._common import INPUT_ATTRIBUTES

    readers = set()
    top = build_parser()
    commands = [a for a in top._actions if isinstance(a, argparse._SubParsersAction)]
    stack = [parser for action in commands for parser in action.choices.values()]
    while stack:
        parser = stack.pop()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack.extend(action.choices.values())
            elif action.metavar in ("PATH", "TABLE", "FIT", "FILE", "CSV") and \
                    action.dest not in ("out", "figure"):
                readers.add(action.dest)
    assert readers and readers <= set(INPUT_ATTRIBUTES), readers - set(INPUT_ATTRIBUTES)


# ------------------------------------------------------------------ arguments
@pytest.mark.parametrize("argv, fragments", [
    (["predict", "FIT", "--N", "-7e9", "--D", "1e12"], ["--N", "'-7e9'", "positive"]),
    (["predict", "FIT", "--N", "0", "--D", "1e12"], ["--N", "'0'", "positive"]),
    (["predict", "FIT", "--N", "abc", "--D", "1e12"], ["--N", "'abc'", "not a number"]),
    (["predict", "FIT", "--N", "nan", "--D", "1e12"], ["--N", "'nan'"]),
    (["predict", "FIT", "--N", "inf", "--D", "1e12"], ["--N", "'inf'", "finite"]),
    (["predict", "FIT", "--N", "1e9", "--D", "-1T"], ["--D", "'-1T'", "positive"]),
    (["predict", "FIT", "--N", "1e9", "2e9", "--D", "1e12", "2e12", "3e12"],
     ["--N has 2 values but --D has 3"]),
    (["diagnose", "FIT", "--N", "1e9", "2e9", "--D", "1e12", "2e12", "3e12"],
     ["--N has 2 values but --D has 3"]),
    (["optimal", "FIT", "--compute", "-1e24"], ["--C/--compute", "positive"]),
    (["optimal", "FIT", "--flops-per-token", "0", "--C", "1e24"], ["--flops-per-token"]),
    (["plot", "fit", "FIT", "--dpi", "100000"], ["--dpi", "10 to 2400", "100000"]),
    (["plot", "fit", "FIT", "--dpi", "0"], ["--dpi"]),
    (["fit", "DATA", "--jobs", "0"], ["--jobs", "-1 for every core"]),
    (["fit", "DATA", "--jobs", "-2"], ["--jobs"]),
    (["fit", "DATA", "--bootstrap", "-1"], ["--bootstrap", "at least 0"]),
    (["fit", "DATA", "--bootstrap", "2.5"], ["--bootstrap", "whole number"]),
    (["fit", "DATA", "--seed", "-1"], ["--seed"]),
    (["fit", "DATA", "--confidence-level", "1.5"], ["--confidence-level", "between 0 and 1"]),
    (["fit", "DATA", "--delta", "-1"], ["--delta"]),
    (["fit", "DATA", "--exclude-top-loss", "-3"], ["--exclude-top-loss"]),
    (["isoflop", "DATA", "--n-bins", "0"], ["--n-bins"]),
    (["isoflop", "DATA", "--budget", "budget", "--n-bins", "4"], ["--budget bin"]),
    (["isoflop", "DATA", "--n-bins", "4", "--bin-width-dex", "0.1"], ["not both"]),
    (["backtest", "DATA", "--holdout", "group"], ["--group COLUMN"]),
    (["backtest", "DATA", "--fraction", "1.5"], ["--fraction"]),
    (["fit", "DATA", "--no-such-flag"], ["unrecognized arguments: --no-such-flag"]),
    (["nonsense"], ["invalid choice"]),
])
def test_bad_arguments_are_one_line_naming_the_flag(argv, fragments, fit_json, capsys,
                                                    no_fitting):
    argv = [str(fit_json) if a == "FIT" else str(DEFAULT_DATA) if a == "DATA" else a
            for a in argv]
    assert main(argv) == 2
    _one_line_error(capsys, *fragments)


def test_jobs_is_capped_at_the_cores(monkeypatch):
    from scalinglaws.outputs.cli import _common

    monkeypatch.setattr(_common, "_cores", lambda: 2)
    with pytest.warns(Warning, match="--jobs 1000 is more than the 2 cores"):
        assert _common.worker_count(1000) == 2
    assert _common.worker_count(-1) == 2 and _common.worker_count(1) == 1


def test_help_and_version_exit_zero(capsys):
    assert main(["--help"]) == 0
    assert main(["--version"]) == 0
    assert "scalinglaws" in capsys.readouterr().out


# ------------------------------------------------------------------ signals
def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _alive(pids) -> list[int]:
    return [p for p in pids if Path(f"/proc/{p}").exists()]


#: the CLI with worker processes even for a bootstrap that would run in-process (the engine
#: starts processes only when each worker gets more than a few seconds of work), touching
#: the file named by $STARTED when the bootstrap's blocks start. Ctrl-C's handler is
#: installed explicitly: a test run launched in the background (``cmd &``) starts with
#: SIGINT ignored, which every child inherits (POSIX), and the test would then measure that
_CLI_WITH_WORKERS = ("import os, signal, sys\n"
                     "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
                     "from pathlib import Path\n"
                     "import scalinglaws._parallel as parallel\n"
                     "import scalinglaws.uncertainty.bootstrap as engine\n"
                     "parallel.PROCESS_CROSSOVER_SECONDS = 0.0\n"
                     "run_blocks = engine._run_blocks\n"
                     "def started(*args, **kwargs):\n"
                     "    Path(os.environ['STARTED']).touch()\n"
                     "    return run_blocks(*args, **kwargs)\n"
                     "engine._run_blocks = started\n"
                     "from scalinglaws.outputs.cli import main\n"
                     "sys.exit(main(sys.argv[1:]))\n")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to watch child processes")
@pytest.mark.parametrize("signum, status, jobs", [
    (signal.SIGINT, 130, "1"),
    # worker processes take ~5 s to start on 2 busy cores: in the full (--slow) run
    pytest.param(signal.SIGINT, 130, "2", marks=pytest.mark.slow),
    pytest.param(signal.SIGTERM, 143, "2", marks=pytest.mark.slow)])
def test_a_signal_ends_the_command_with_one_line(signum, status, jobs, tmp_path,
                                                 tmp_path_factory):
    out = tmp_path / "fit.json"
    marker = tmp_path_factory.mktemp("marker") / "started"
    process = subprocess.Popen(
        [sys.executable, "-c", _CLI_WITH_WORKERS, "fit", str(DEFAULT_DATA),
         "--bootstrap", "100000", "--jobs", jobs, "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, STARTED=str(marker)))
    start = time.monotonic()
    children: list[int] = []
    while time.monotonic() < start + 120:  # until the bootstrap is under way
        children = _children(process.pid)
        if marker.exists() and (jobs == "1" or len(children) >= 2):
            break
        assert process.poll() is None, process.communicate()
        time.sleep(0.1)
    time.sleep(1.0)
    children = sorted(set(children) | set(_children(process.pid)))
    process.send_signal(signum)
    try:
        stdout, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # pragma: no cover - the failure being tested for
        process.kill()
        raise
    assert process.returncode == status, stderr
    # joblib's loky resource tracker is a separate process that can outlive ours on a busy
    # machine and report the interrupted pool's semaphore ("leaked semlock objects") on the
    # shared stderr after our last line (seen once in a full CI run at load ~3): its lines
    # are not ours
    ours = [line for line in stderr.strip().splitlines()
            if "resource_tracker" not in line and line.strip() != "warnings.warn("
            and not line.strip().startswith("warnings.warn('resource_tracker")]
    assert ours[-1] == "scalinglaws: interrupted", stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert not out.exists() and os.listdir(tmp_path) == []  # no partial or temporary file
    if jobs != "1":
        assert len(children) >= 2, children  # worker processes were running
    gone_by = time.monotonic() + 10
    while _alive(children) and time.monotonic() < gone_by:
        time.sleep(0.1)
    assert _alive(children) == []  # no worker left behind
