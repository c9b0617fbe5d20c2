"""The attack harness of issue 19, kept in the suite (library level).

Hostile fit files, tables and arguments, failing and concurrent writes. Every case must
end in a :class:`scalinglaws.InputError` that names the file and field (or the argument),
in a warning that names the rows, or in a correct result: never a traceback, a silent
wrong answer or a damaged file. The cases use the public API (``import scalinglaws as
sl``) wherever one exists, so they can be run against an older version of the package to
show what they catch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws import InputError, ScalingLawsWarning


@pytest.fixture(scope="module")
def fitted():
    return sl.fit(sl.generate_sweep(noise=0.01, rng=0))


@pytest.fixture()
def fit_file(fitted, tmp_path):
    path = tmp_path / "fit.json"
    sl.save(fitted, path)
    return path


def _rewrite(path, mutate) -> str:
    """Apply ``mutate`` to the document at ``path``; a returned string is a literal (NaN)
    written in place of ``params.E``."""
    doc = json.loads(path.read_text())
    literal = mutate(doc)
    if isinstance(literal, str):
        doc["params"]["E"] = "<literal>"
        path.write_text(json.dumps(doc).replace('"<literal>"', literal))
    else:
        path.write_text(json.dumps(doc))
    return str(path)


# ----------------------------------------------------------------------------- fit files

FIT_FILE_ATTACKS = {
    "NaN": (lambda d: "NaN", "params.E"),
    "Infinity": (lambda d: "Infinity", "params.E"),
    "-Infinity": (lambda d: "-Infinity", "params.E"),
    "1e400": (lambda d: "1e400", "params.E"),
    "negative scale": (lambda d: d["params"].update(A=-5), "params.A"),
    "zero scale": (lambda d: d["params"].update(B=0), "params.B"),
    "exponent past its bound": (lambda d: d["params"].update(alpha=40.0), "params.alpha"),
    "negative n_runs": (lambda d: d.update(n_runs=-5), "n_runs"),
    "status 7": (lambda d: d.update(status=7), "status"),
    "loss l1": (lambda d: d["loss"].update(name="l1"), "loss.name"),
    "space sqrt": (lambda d: d.update(space="sqrt"), "space"),
    "local optima ints": (lambda d: d.update(local_optima=[1, 2]), r"local_optima\[0\]"),
    "local optimum text": (lambda d: d["local_optima"][0]["params"].update(E="x"),
                           r"local_optima\[0\].params.E"),
    "local optimum wrong names": (lambda d: d["local_optima"][0].update(params={"Q": 1.0}),
                                  r"local_optima\[0\].params"),
    "diagnostics text": (lambda d: d["diagnostics"].update(condition_number="big"),
                         "diagnostics.condition_number"),
    "diagnostics list": (lambda d: d.update(diagnostics=[1]), "diagnostics"),
    "options max_iter": (lambda d: d["options"].update(max_iter="x"), "options.max_iter"),
    "options fixed text": (lambda d: d["options"].update(fixed={"E": "abc"}), "options.fixed.E"),
    "options bounds text": (lambda d: d["options"].update(bounds={"E": "abc"}),
                            "options.bounds.E"),
    "options list": (lambda d: d.update(options=[1, 2]), "options"),
    "fixed not held": (lambda d: d.update(fixed={"E": 1.0}), "params.E"),
    "delta negative": (lambda d: d["loss"].update(delta=-1e-3), "loss.delta"),
    "fingerprint garbage": (lambda d: d.update(data_fingerprint=7), "data_fingerprint"),
    "unknown field": (lambda d: d.update(extra=1), "extra"),
}


@pytest.mark.parametrize("name", sorted(FIT_FILE_ATTACKS))
def test_hostile_fit_file_names_file_and_field(fit_file, name):
    mutate, field = FIT_FILE_ATTACKS[name]
    path = _rewrite(fit_file, mutate)
    with pytest.raises(InputError, match=rf"^{path}: .*field {field}(?![\w.\[])"):
        sl.load(path)


def test_deeply_nested_fit_file(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"schema_version": 1, "options": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(InputError, match=r"deep.json: JSON nested more than 64 levels deep"):
        sl.load(path)


def test_repeated_key_in_a_fit_file(fit_file):
    text = fit_file.read_text().replace('"E": ', '"E": 99.0, "E": ', 1)
    fit_file.write_text(text)
    with pytest.raises(InputError, match=r"key 'E' appears twice"):
        sl.load(fit_file)


def test_draws_and_covariance_of_other_parameters_are_refused(fitted, tmp_path):
    # A hand edit of params would otherwise print a loss outside its own stored interval.
    runs = sl.generate_sweep(noise=0.01, rng=0)
    boot = sl.bootstrap(fitted, runs, 10, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        calibrated = sl.calibrate(fitted, runs, n_resamples=0, rollout=False)
    cases = {"bootstrap": (fitted.with_bootstrap(boot), "bootstrap.point.E"),
             "uncertainty": (calibrated, "uncertainty.point.E")}
    for name, (law, field) in cases.items():
        path = tmp_path / f"{name}.json"
        sl.save(law, path)
        sl.load(path)  # as written: loads
        _rewrite(path, lambda d: d["params"].update(E=d["params"]["E"] * 1.01))
        with pytest.raises(InputError, match=rf"^{path}: field {field} is .* but params.E is"):
            sl.load(path)
    # a file written before the point was kept has nothing to compare: it still loads
    path = tmp_path / "old.json"
    sl.save(fitted.with_bootstrap(boot), path)
    _rewrite(path, lambda d: d["bootstrap"].pop("point"))
    assert sl.load(path).bootstrap.n_resamples == 10


# ----------------------------------------------------------------------------- writes


def test_a_save_that_fails_keeps_the_previous_file(fitted, fit_file):
    import dataclasses

    before = fit_file.read_bytes()
    unencodable = dataclasses.replace(fitted, options={**fitted.options, "hook": object()})
    with pytest.raises(InputError, match=r"options\.hook \(object\) is not a JSON value"):
        sl.save(unencodable, fit_file)
    assert fit_file.read_bytes() == before
    assert sl.load(fit_file).params == fitted.params


WRITER = r"""
import sys, time
import scalinglaws as sl
target, seconds, sources = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
results = [sl.load(p) for p in sources]
end, n = time.time() + seconds, 0
while time.time() < end:
    sl.save(results[n % len(results)], target)
    n += 1
print(n)
"""


def test_concurrent_saves_and_reads_never_see_a_damaged_file(fitted, tmp_path):
    """Two processes save alternately a small and a 0.2 MB fit to one path for 2 s while
    this one loads it: every load must succeed (the old code truncated the file first:
    most concurrent reads failed, and racing saves could leave an unloadable file)."""
    small = tmp_path / "small.json"
    sl.save(fitted, small)
    doc = json.loads(small.read_text())
    doc["local_optima"] = doc["local_optima"][:1] * 1000
    large = tmp_path / "large.json"
    large.write_text(json.dumps(doc))
    target = tmp_path / "target.json"
    sl.save(fitted, target)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(target), "2", str(small),
                                 str(large)], stdout=subprocess.PIPE, text=True)
               for _ in range(2)]
    reads, failures = 0, []
    try:
        while any(w.poll() is None for w in writers):
            try:
                sl.load(target)
            except InputError as error:
                failures.append(str(error)[:120])
            reads += 1
    finally:
        saves = [w.communicate(timeout=60)[0] for w in writers]
    assert all(w.returncode == 0 for w in writers), saves
    assert failures == [], f"{len(failures)} of {reads} reads failed, e.g. {failures[0]}"
    assert reads > 20 and sum(int(s) for s in saves) > 10
    assert sl.load(target).params == fitted.params
    assert sorted(os.listdir(tmp_path)) == ["large.json", "small.json", "target.json"]


# ----------------------------------------------------------------------------- tables


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, message", [
    ("N,D,loss,loss\n1e8,1e9,3,4\n", r"names column 'loss' twice"),
    ("N,N,D,loss\n1e8,5,1e9,3\n", r"names column 'N' twice"),
    ("N,params,D,loss\n1e8,5,1e9,3\n", r"columns 'N' and 'params' both look like N"),
    ("N,D,loss\n1e8,1e9,3,7\n2e8,2e9,2.9\n", r"line 2 has 4 fields but the header"),
    # every row one field longer: pandas made the first field the index and shifted the
    # rest, so N read the tokens and D the losses, silently
    ("N,D,loss\n1e8,1e9,3,7\n2e8,2e9,2.9,8\n", r"line 2 has 4 fields but the header"),
    ("N,D,loss\n\n1e8,1e9,3\n\n2e8,abc,2.9\n", r"row 1 \(line 5\), column 'D'"),
    ('N,D,loss,note\n1e8,1e9,3,"a\nb"\n2e8,abc,2.9,x\n', r"row 1 \(line 4\), column 'D'"),
], ids=["loss-twice", "N-twice", "N-and-params", "extra-field", "extra-field-every-row",
        "blank-lines", "quoted-newline"])
def test_hostile_csv(tmp_path, text, message):
    with pytest.raises(InputError, match=r"runs.csv: .*" + message):
        sl.load_runs(write(tmp_path, "runs.csv", text))


def test_compute_unlike_k_n_d_warns_naming_rows():
    table = {"N": [1e8, 2e8, 4e8], "D": [1e9, 2e9, 4e9], "loss": [3.0, 2.9, 2.8],
             "C": [6e17, 1000 * 6 * 4e17, 6 * 16e17]}
    with pytest.warns(ScalingLawsWarning, match=r"C differs from 6·N·D by more than a factor "
                                                r"2 in 1 of 3 rows \(row 1; .*C column is used "
                                                r"as given"):
        sl.load_runs(table)


@pytest.mark.parametrize("name, text", [
    ("deep.json", "[" * 100_000 + "]" * 100_000),
    ("deep.jsonl", "[" * 100_000 + "]" * 100_000 + "\n"),
], ids=["json", "jsonl"])
def test_deeply_nested_runs_file(tmp_path, name, text):
    with pytest.raises(InputError, match=rf"{name}.*JSON nested more than 64 levels deep"):
        sl.load_runs(write(tmp_path, name, text))


def test_semicolons_folders_and_typos(tmp_path):
    runs = sl.load_runs(write(tmp_path, "semi.csv", "N;D;loss\n1e8;1e9;3\n2e8;2e9;2.9\n"))
    assert runs.N.tolist() == [1e8, 2e8]
    assert sl.load_runs(write(tmp_path, "semi.txt", "N;loss\n1e8;3\n"), sep=";").N[0] == 1e8
    with pytest.raises(InputError, match=r"is a folder, not a file: give the path of one table"):
        sl.load_runs(tmp_path)
    with pytest.raises(InputError, match=r"Did you mean 'tokens'\?") as caught:
        sl.load_runs({"N": [1e8], "tokens": [1e9], "loss": [3.0]}, {"D": "tokns"})
    assert "{" not in str(caught.value)


def test_explicit_mapping_wins_and_the_other_column_stays():
    table = pd.DataFrame({"N": [1e9, 2e9], "N_no_embed": [8e8, 1.6e9], "D": [1e10, 2e10],
                          "loss": [2.5, 2.4]})
    runs = sl.load_runs(table, columns={"N": "N_no_embed"})
    assert runs.N.tolist() == [8e8, 1.6e9] and "N_unused" in runs.columns


def test_runs_cannot_be_changed_behind_their_back():
    runs = sl.load_runs({"N": [1e8, 2e8], "D": [1e9, 2e9], "loss": [3.0, 2.9]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas says the assignment hits a copy: it does
        runs.frame.loc[0, "loss"] = 99.0
    assert runs.loss.tolist() == [3.0, 2.9]
    with pytest.raises(ValueError):
        runs.loss[0] = 99.0


def test_a_table_too_large_for_memory(tmp_path):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as handle:
        handle.write(b"N,D,loss\n" + b"1000000000,20000000000,2.5\n" * 1000)
        handle.truncate(2**40)  # 1 TiB, sparse
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"runs need about .* at most about [\d,]+ runs fit"):
        sl.load_runs(path)
    assert time.perf_counter() - start < 10  # refused from its size, not read


# ----------------------------------------------------------------------------- arguments


@pytest.mark.parametrize("value", [-1, "seed", 2.5, True, [1, -2], np.random.RandomState(0)])
def test_rng_checker(value):
    from scalinglaws._validation import check_rng

    with pytest.raises(InputError, match=r"^`rng` must be None, a non-negative integer seed"):
        check_rng("rng", value)


@pytest.mark.parametrize("value", [-1, 0, 2.5, "4", True, None])
def test_positive_int_checker(value):
    from scalinglaws._validation import check_int

    with pytest.raises(InputError, match=r"^`chunk_size` must be an integer >= 1, got"):
        check_int("chunk_size", value, 1)


@pytest.mark.parametrize("value, message", [
    ({"E": "abc"}, r"`fixed\['E'\]` must be a finite number, got 'abc'"),
    ({"E": float("nan")}, r"`fixed\['E'\]` must be a finite number, got nan"),
    ({"Q": 1.0}, r"`fixed` names unknown key 'Q'; known: E, A"),
    ("E=1", r"`fixed` must be a dict of names to numbers"),
])
def test_number_mapping_checker(value, message):
    from scalinglaws._validation import check_number_mapping

    with pytest.raises(InputError, match=message):
        check_number_mapping("fixed", value, keys=("E", "A"))


@pytest.mark.parametrize("value, message", [
    ({"E": ("abc", 2)}, r"`bounds\['E'\]` low must be a finite number or None, got 'abc'"),
    ({"E": "abc"}, r"`bounds\['E'\]` must be a \(low, high\) pair, got 'abc'"),
    ({"E": (2, 1)}, r"`bounds\['E'\]` = \(2, 1\) is empty"),
    ({"A": (0, 10)}, r"`bounds\['A'\]` low must be > 0, got 0"),
])
def test_bounds_checker(value, message):
    from scalinglaws._validation import check_bounds

    with pytest.raises(InputError, match=message):
        check_bounds("bounds", value, keys=("E", "A"), positive=("A",))


@pytest.mark.parametrize("value", ["big", [1e9, "x"], None, True, {"a": 1}, [[1, 2], [3]],
                                   [float("inf")], [-1.0]])
def test_prediction_input_checker(value):
    from scalinglaws._validation import check_numbers

    with pytest.raises(InputError, match=r"^`N` must be"):
        check_numbers("N", value, positive=True)
    assert check_numbers("N", ["7B", 70e9], positive=True).tolist() == [7e9, 70e9]
