"""Tests of scalinglaws.runs: reading, validating and slicing tables of runs."""

from __future__ import annotations

import json
import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalinglaws._exceptions import InputError, ScalingLawsWarning, UnitsWarning
from scalinglaws.data.runs import Runs, as_runs, load_runs


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


SIMPLE = {"N": [1e8, 2e8, 4e8], "D": [2e9, 4e9, 8e9], "loss": [3.0, 2.8, 2.6]}


# ----------------------------------------------------------------------------- columns


@pytest.mark.parametrize("header", ["N", "params", "n_params", "Num-Params", "parameters",
                                    "Model Size", " model_size ", "param_count", "n"])
def test_parameter_aliases(header):
    runs = load_runs({header: [1e8, 2e8], "D": [1e9, 2e9], "loss": [3.0, 2.9]})
    assert runs.N.tolist() == [1e8, 2e8]
    assert header not in runs.columns or header == "N"


@pytest.mark.parametrize("header", ["D", "tokens", "n_tokens", "Training Tokens",
                                    "train_tokens", "data"])
def test_token_aliases(header):
    assert load_runs({"N": [1e8], header: [2e9], "loss": [3.0]}).D.tolist() == [2e9]


@pytest.mark.parametrize("header", ["C", "FLOPs", "flop", "compute", "Training FLOP",
                                    "training-flops", "train_flops"])
def test_compute_aliases(header):
    runs = load_runs({"N": [1e8], header: [1.2e18], "loss": [3.0]})
    assert runs.C.tolist() == [1.2e18]


@pytest.mark.parametrize("header", ["loss", "val_loss", "Eval Loss", "validation loss",
                                    "final_loss", "train-loss"])
def test_loss_aliases(header):
    assert load_runs({"N": [1e8], header: [2.5]}).loss.tolist() == [2.5]


def test_optional_canonical_columns():
    runs = load_runs({"N": [1e8, 2e8], "D": [1e9, 1e9], "loss": [3, 2.9],
                      "unique_tokens": [5e8, 5e8], "Run ID": ["a", "b"], "group": [1, 1],
                      "step": [10, 20]})
    assert runs.U.tolist() == [5e8, 5e8]
    assert runs.columns[:8] == ["N", "D", "C", "loss", "U", "step", "group", "run_id"]
    assert runs.frame["run_id"].tolist() == ["a", "b"]


def test_explicit_mapping_overrides_detection():
    table = pd.DataFrame({"params": [1e9, 2e9], "nonembedding_params": [8e8, 1.6e9],
                          "tokens": [1e10, 2e10], "lm_loss_v2": [2.5, 2.4]})
    runs = load_runs(table, {"N": "nonembedding_params", "loss": "lm_loss_v2"})
    assert runs.N.tolist() == [8e8, 1.6e9]
    assert runs.frame["params"].tolist() == [1e9, 2e9]  # kept as an extra
    assert runs.source_columns["N"] == "nonembedding_params"


def test_explicit_mapping_errors():
    with pytest.raises(InputError, match=r"maps N to 'nope', but there is no such column\. "
                                         r"Columns: N, D, loss$"):
        load_runs(SIMPLE, {"N": "nope"})
    with pytest.raises(InputError, match=r"names 'tokenz', not one of N, D, C, loss"):
        load_runs(SIMPLE, {"tokenz": "D"})


def test_duplicated_meaning_names_both_columns():
    table = {"params": [1e8], "Model Size": [1e8], "tokens": [1e9], "loss": [3.0]}
    with pytest.raises(InputError, match=r"'params' and 'Model Size' both look like N "
                                         r"\(parameters\); say which to use with the columns "
                                         r"option \(N=params or N=Model Size\)"):
        load_runs(table)
    assert load_runs(table, {"N": "Model Size"}).frame["params"].tolist() == [1e8]


def test_missing_loss_column_lists_columns_and_names():
    with pytest.raises(InputError, match=r"no loss column\. The table has: params \(read as N\), "
                                         r"tokens \(read as D\)\. "
                                         r"Recognised names for the loss: loss, val_loss.*"
                                         r"with the columns option \(loss=<column>\)$"):
        load_runs({"params": [1e8], "tokens": [1e9]})


def test_extra_columns_kept_with_original_names():
    runs = load_runs({"N": [1e8, 2e8], "D": [1e9, 2e9], "loss": [3, 2.9],
                      "Setting Label": ["a", "b"], "seed": [0, 1]})
    assert runs.columns == ["N", "D", "C", "loss", "Setting Label", "seed"]
    assert runs.frame["Setting Label"].tolist() == ["a", "b"]


# ----------------------------------------------------------------------------- values


@pytest.mark.parametrize("text, value", [
    ("70M", 7e7), ("70m", 7e7), ("1.4B", 1.4e9), ("2T", 2e12), ("500k", 5e5), ("500K", 5e5),
    ("1.5e9", 1.5e9), ("3,000,000", 3e6), ("1.2 G", 1.2e9), ("1P", 1e15), (" 42 ", 42.0),
])
def test_unit_suffixes(text, value):
    if value < 1e4:  # a whole sweep below 1e4 parameters is announced
        with pytest.warns(UnitsWarning, match="every value of column 'N'"):
            assert load_runs({"N": [text], "loss": [3.0]}).N[0] == value
    else:
        assert load_runs({"N": [text], "loss": [3.0]}).N[0] == value


def test_unit_suffixes_in_csv(tmp_path):
    path = write(tmp_path, "runs.csv",
                 'params,tokens,loss\n70M,1.4B,3.1\n"3,000,000,000",2T,2.9\n')
    runs = load_runs(path)
    assert runs.N.tolist() == [7e7, 3e9]
    assert runs.D.tolist() == [1.4e9, 2e12]


def test_text_cell_names_file_row_line_and_column(tmp_path):
    path = write(tmp_path, "runs.csv", "params,loss\n1e8,3\n70 million,2.9\n")
    with pytest.raises(InputError, match=r"runs.csv: row 1 \(line 3\), column 'params' \(N\): "
                                         r"value '70 million' is not a number"):
        load_runs(path)


@pytest.mark.parametrize("bad, message", [
    ("-3", "value -3 is not positive"),
    ("0", "value 0 is not positive"),
    ("inf", "value 'inf' is not finite"),
    ("", "value is missing"),
    ("nan", "value is missing"),
])
def test_bad_numbers_name_row_line_and_column(tmp_path, bad, message):
    rows = ["1e8,3.0"] * 7 + [f"{bad},3.0"]
    path = write(tmp_path, "runs.csv", "Model Size,loss\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputError, match=rf"runs.csv: row 7 \(line 9\), column 'Model Size' \(N\): "
                                         rf"{message}"):
        load_runs(path)


def test_dataframe_source_has_no_line():
    frame = pd.DataFrame({"N": [1e8, -3.0], "loss": [3.0, 2.0]})
    with pytest.raises(InputError, match=r"^<DataFrame>: row 1, column 'N' \(N\): value -3 is"):
        load_runs(frame)


def test_several_bad_cells_reports_first_and_counts_rest():
    frame = pd.DataFrame({"N": [1e8] * 6, "loss": [3.0, -1.0, 0.0, -2.0, np.inf, -5.0]})
    with pytest.raises(InputError, match=r"row 1, column 'loss'.*and 4 more bad cells in column "
                                         r"'loss'"):
        load_runs(frame)


def test_boolean_cells_are_not_numbers():
    with pytest.raises(InputError, match="value True is not a number"):
        load_runs({"N": [True], "loss": [3.0]})


def test_empty_table(tmp_path):
    with pytest.raises(InputError, match="no runs"):
        load_runs(write(tmp_path, "runs.csv", "N,D,loss\n"))
    with pytest.raises(InputError, match="no runs"):
        load_runs(write(tmp_path, "empty.csv", ""))
    with pytest.raises(InputError, match="no runs"):
        load_runs(pd.DataFrame({"N": [], "loss": []}))


def test_nan_policy_omit_drops_and_warns(tmp_path):
    path = write(tmp_path, "runs.csv", "N,D,loss\n1e8,1e9,3\n2e8,,2.9\n4e8,4e9,\n8e8,8e9,2.5\n")
    with pytest.warns(ScalingLawsWarning, match="dropped 2 of 4 rows"):
        runs = load_runs(path, nan_policy="omit")
    assert len(runs) == 2
    assert runs.n_dropped == 2
    assert runs.dropped_rows == (1, 2)
    assert runs.row_numbers == (0, 3)
    assert runs.row_label(1) == f"row 3 (line 5) of {path}"


def test_nan_policy_omit_still_rejects_other_bad_values():
    with pytest.raises(InputError, match="row 2, column 'N' .* is not positive"):
        load_runs({"N": [1e8, np.nan, -1.0], "loss": [3, 3, 3]}, nan_policy="omit")
    with pytest.raises(InputError, match="no runs left"):
        load_runs({"N": [np.nan], "loss": [3.0]}, nan_policy="omit")


@pytest.mark.parametrize("kwargs, argument", [
    ({"nan_policy": "drop"}, "nan_policy"),
    ({"flops_per_token": 0}, "flops_per_token"),
    ({"flops_per_token": math.inf}, "flops_per_token"),
    ({"flops_per_token": "6"}, "flops_per_token"),
    ({"format": "xlsx"}, "format"),
])
def test_bad_arguments_are_named(kwargs, argument):
    with pytest.raises(InputError, match=argument):
        load_runs(SIMPLE if "format" not in kwargs else "runs.csv", **kwargs)


# ----------------------------------------------------------------------------- derivation


def test_derive_tokens_from_compute():
    runs = load_runs({"N": [1e9, 2e9], "C": [6e19, 3e20], "loss": [2.5, 2.4]})
    assert runs.derived == ("D",)
    np.testing.assert_allclose(runs.D, [1e10, 2.5e10], rtol=1e-15)
    runs8 = load_runs({"N": [1e9], "C": [8e19], "loss": [2.5]}, flops_per_token=8)
    np.testing.assert_allclose(runs8.D, [1e10], rtol=1e-15)


def test_derive_compute_and_parameters():
    runs = load_runs(SIMPLE)
    assert runs.derived == ("C",)
    np.testing.assert_allclose(runs.C, 6 * runs.N * runs.D)
    runs = load_runs({"C": [6e19], "D": [1e10], "loss": [2.5]})
    assert runs.derived == ("N",)
    np.testing.assert_allclose(runs.N, [1e9])


def test_all_three_given_are_kept_and_mismatch_reported():
    runs = load_runs({"N": [1e9, 1e9], "D": [1e10, 1e10], "C": [6e19, 6.6e19], "loss": [2, 2]})
    assert runs.derived == ()
    assert runs.C.tolist() == [6e19, 6.6e19]
    assert runs.compute_mismatch() == pytest.approx(0.1 / 1.1)


def test_absent_column_message():
    runs = load_runs({"N": [1e8], "loss": [3.0]}, format=None)
    assert not runs.has("D")
    with pytest.raises(InputError, match=r"runs from <dict> have no 'D' column \(tokens\); "
                                         "give tokens or compute"):
        runs.D
    with pytest.raises(InputError, match="no 'C' column"):
        runs.inputs(["N", "C"])
    assert set(runs.inputs(["N", "loss"])) == {"N", "loss"}


# ----------------------------------------------------------------------------- formats


def test_formats_give_same_runs(tmp_path):
    frame = pd.DataFrame({"params": [1e8, 2e8], "tokens": [1e9, 2e9], "loss": [3.0, 2.9],
                          "label": ["a", "b"]})
    paths = {
        "csv": tmp_path / "runs.csv", "tsv": tmp_path / "runs.tsv", "tab": tmp_path / "runs.tab",
        "records": tmp_path / "records.json", "columns": tmp_path / "columns.json",
        "jsonl": tmp_path / "runs.jsonl", "parquet": tmp_path / "runs.parquet",
    }
    frame.to_csv(paths["csv"], index=False)
    frame.to_csv(paths["tsv"], sep="\t", index=False)
    frame.to_csv(paths["tab"], sep="\t", index=False)
    frame.to_json(paths["records"], orient="records")
    frame.to_json(paths["columns"], orient="columns")
    frame.to_json(paths["jsonl"], orient="records", lines=True)
    pytest.importorskip("pyarrow")
    frame.to_parquet(paths["parquet"])
    expected = load_runs(frame).fingerprint()
    for path in paths.values():
        runs = load_runs(path)
        assert runs.fingerprint() == expected, path
        assert runs.frame["label"].tolist() == ["a", "b"]
    assert load_runs(frame.to_dict(orient="list")).fingerprint() == expected


def test_format_override_and_file_errors(tmp_path):
    path = write(tmp_path, "runs.txt", "N\tloss\n1e8\t3\n")
    with pytest.raises(InputError, match=r"runs.txt: cannot tell the format from the suffix "
                                         r"'\.txt'; give the format, one of csv, json"):
        load_runs(path)
    assert load_runs(path, format="tsv").N.tolist() == [1e8]
    with pytest.raises(InputError, match=r"missing.csv: no such file"):
        load_runs(tmp_path / "missing.csv")
    with pytest.raises(InputError, match=r"bad.json: not valid JSON"):
        load_runs(write(tmp_path, "bad.json", "{not json"))
    with pytest.raises(InputError, match=r"bad.jsonl: line 2: not valid JSON"):
        load_runs(write(tmp_path, "bad.jsonl", '{"N": 1, "loss": 2}\n{oops\n'))
    with pytest.raises(InputError, match="data must be"):
        load_runs(42)


def test_json_row_has_no_line(tmp_path):
    path = write(tmp_path, "runs.json", json.dumps([{"N": 1e8, "loss": 3}, {"N": 0, "loss": 3}]))
    with pytest.raises(InputError, match=r"runs.json: row 1, column 'N' \(N\): value 0"):
        load_runs(path)


def test_parquet_without_pyarrow(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "pyarrow":
            raise ImportError("no pyarrow")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    path = write(tmp_path, "runs.parquet", "")
    with pytest.raises(InputError, match=r"pip install pyarrow.*scalinglaws\[parquet\]"):
        load_runs(path)


# ----------------------------------------------------------------------------- Runs API


def sweep() -> Runs:
    return load_runs(pd.DataFrame({
        "N": [1e8, 2e8, 4e8, 8e8, 1.6e9],
        "D": [1e9, 2e9, 4e9, 8e9, 1.6e10],
        "loss": [3.5, 3.0, 2.9, 2.7, 4.0],
        "family": ["a", "b", "a", "b", "a"],
    }))


def test_select_query_and_row_numbers():
    runs = sweep()
    small = runs.select(runs.N < 5e8)
    assert len(small) == 3 and small.row_numbers == (0, 1, 2)
    assert runs.select(lambda frame: frame["family"] == "b").row_numbers == (1, 3)
    assert runs.query("N > 1e8 and family == 'a'").row_numbers == (2, 4)
    assert small.select(small.loss < 3.2).row_numbers == (1, 2)
    with pytest.raises(InputError, match="keeps none"):
        runs.select(runs.N > 1e12)
    with pytest.raises(InputError, match="5 booleans"):
        runs.select([True, False])
    with pytest.raises(InputError, match="query"):
        runs.query("nonexistent > 3")


def test_exclude_top_loss():
    runs = sweep()
    assert runs.exclude_top_loss(0) is runs
    assert runs.exclude_top_loss(2).row_numbers == (1, 2, 3)
    with pytest.raises(InputError, match="k=5"):
        runs.exclude_top_loss(5)
    with pytest.raises(InputError, match="non-negative"):
        runs.exclude_top_loss(-1)


def test_groupby():
    groups = sweep().groupby("family")
    assert [key for key, _ in groups] == ["a", "b"]
    assert [part.row_numbers for _, part in groups] == [(0, 2, 4), (1, 3)]
    with pytest.raises(InputError, match="no column 'nope'"):
        sweep().groupby("nope")


def test_fingerprint_stable_and_sensitive():
    first, second = sweep(), sweep()
    assert first.fingerprint() == second.fingerprint()
    assert first.fingerprint().startswith("sha256:") and len(first.fingerprint()) == 7 + 64
    changed = sweep().to_frame()
    changed.loc[3, "loss"] = np.nextafter(changed.loc[3, "loss"], 10)
    assert load_runs(changed).fingerprint() != first.fingerprint()
    assert first.fingerprint(("N",)) != first.fingerprint(("D",))
    # extra columns do not count
    relabelled = sweep().to_frame().assign(family="z")
    assert load_runs(relabelled).fingerprint() == first.fingerprint()


def test_arrays_are_read_only_and_repr():
    runs = sweep()
    with pytest.raises(ValueError):
        runs.N[0] = 1.0
    assert repr(runs).startswith("Runs(5 runs from <DataFrame>; N 1e8–1.6e9, D 1e9–1.6e10")
    assert runs.to_frame() is not runs.frame


def test_from_arrays_and_as_runs():
    runs = Runs.from_arrays(N=[1e8, 2e8], D=[1e9, 2e9], loss=[3.0, 2.9], tokens=[5, 6])
    assert runs.derived == ("C",) and runs.frame["tokens"].tolist() == [5, 6]
    assert as_runs(runs) is runs
    assert len(as_runs(SIMPLE)) == 3
    with pytest.raises(InputError, match="flops_per_token"):
        as_runs(runs, flops_per_token=8.0)
    with pytest.raises(InputError, match="same length"):
        Runs.from_arrays(N=[1e8, 2e8], loss=[3.0])


def test_a_policy_that_would_change_loaded_runs_is_refused_not_ignored():
    # the audit's case: sl.fit(loaded, duplicates="drop") kept the duplicate rows and fitted
    # them as extra runs, where sl.fit(path, duplicates="drop") dropped them
    frame = pd.DataFrame({"N": [1e8, 2e8, 4e8, 4e8], "D": [1e9, 2e9, 4e9, 4e9],
                          "loss": [3.0, 2.9, 2.8, 2.8]})
    with pytest.warns(ScalingLawsWarning, match="repeat"):
        loaded = load_runs(frame)
    with pytest.warns(ScalingLawsWarning, match="dropped 1 row"):
        assert len(loaded) == 4 and len(load_runs(frame, duplicates="drop")) == 3
    for option, value in (("duplicates", "drop"), ("duplicates", "raise"), ("nan_policy", "omit")):
        with pytest.raises(InputError, match=rf"{option}='{value}' applies when loading a table"):
            as_runs(loaded, **{option: value})
    # the policies that change nothing pass: the runs themselves come back
    assert as_runs(loaded, duplicates="warn", nan_policy="raise") is loaded
    assert as_runs(loaded, duplicates="keep") is loaded


# ----------------------------------------------------------------------------- real data


def test_epoch_chinchilla_file(epoch_csv):
    runs = load_runs(epoch_csv)
    assert len(runs) == 245
    assert runs.source_columns["N"] == "Model Size"
    assert runs.source_columns["C"] == "Training FLOP"
    assert runs.derived == ("D",)
    np.testing.assert_allclose(runs.D, runs.C / (6 * runs.N))
    assert runs.D.min() == pytest.approx(2.45e8, rel=1e-3)
    assert runs.D.max() == pytest.approx(3.18e11, rel=1e-3)
    assert {"x", "y", "color"} <= set(runs.columns)
    trimmed = runs.exclude_top_loss(5)
    assert len(trimmed) == 240
    assert trimmed.loss.max() < 3.447
    assert set(range(245)) - set(trimmed.row_numbers) == {0, 1, 2, 3, 4}


# ----------------------------------------------------------------------------- property


_GOOD_CELLS = st.one_of(
    st.floats(min_value=1e-3, max_value=1e12),
    st.sampled_from(["70M", "1.4B", "3,000,000", "1.2 G", "500k", "2e9"]),
)
_BAD_CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=1e300),
    st.integers(min_value=-(10**20), max_value=10**400),
    st.sampled_from(["", "abc", "-3", "1e400", "nan", "0", "1,2", "5e-400"]),
    st.text(max_size=6),
    st.none(),
    st.booleans(),
)
# Mostly good cells, so that a fair share of tables load and get their values checked.
_CELLS = st.integers(0, 9).flatmap(lambda draw: _GOOD_CELLS if draw < 8 else _BAD_CELLS)
_HEADERS = [("N", "params", None), ("D", "tokens", None), ("C", None), ("label", None)]


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    headers=st.tuples(*(st.sampled_from(choices) for choices in _HEADERS)),
    extra_loss=st.sampled_from([None, "loss", "val_loss"]),
    n_rows=st.integers(min_value=0, max_value=4),
    cells=st.lists(_CELLS, min_size=20, max_size=20),
    nan_policy=st.sampled_from(["raise", "omit"]),
)
def test_load_runs_either_validates_or_raises_input_error(
    headers, extra_loss, n_rows, cells, nan_policy
):
    chosen = [header for header in (*headers, "loss", extra_loss) if header is not None]
    table = pd.DataFrame({
        header: pd.Series(cells[column * 4:column * 4 + n_rows], dtype=object)
        for column, header in enumerate(dict.fromkeys(chosen))
    })
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalingLawsWarning)
        try:
            runs = load_runs(table, nan_policy=nan_policy)
        except InputError:
            return
    for name in ("N", "D", "C", "loss"):
        if runs.has(name):
            values = getattr(runs, name)
            assert values.dtype == np.float64
            assert np.all(np.isfinite(values)) and np.all(values > 0)
    assert len(runs) == len(runs.row_numbers) > 0


_TEXT_PIECES = st.sampled_from(["N", "D", "loss", "params", ",", "\t", "\n", "1e9", "70M", "-1",
                                "nan", "inf", '"', "{", "}", "[", "]", ":", "abc", "0", " ",
                                '"loss"', "2.5", "\x00", "é"])


@settings(max_examples=150, derandomize=True, deadline=None)
@given(pieces=st.lists(_TEXT_PIECES, max_size=40),
       suffix=st.sampled_from([".csv", ".tsv", ".json", ".jsonl"]))
def test_fuzzed_files_load_or_raise_input_error(tmp_path_factory, pieces, suffix):
    """Malformed, truncated or binary-ish files: a valid Runs or InputError, nothing else."""
    path = tmp_path_factory.mktemp("fuzz") / f"runs{suffix}"
    path.write_text("".join(pieces), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalingLawsWarning)
        try:
            runs = load_runs(path)
        except InputError:
            return
    assert len(runs) > 0 and np.all(np.isfinite(runs.loss)) and np.all(runs.loss > 0)


def test_exact_canonical_name_wins_over_alias():
    table = pd.DataFrame({"N": [1e8, 1e9], "param_count": ["kaplan", "kaplan"],
                          "D": [1e9, 1e10], "loss": [3.0, 2.8]})
    runs = load_runs(table)
    assert runs.source_columns["N"] == "N" and "param_count" in runs.columns
    with pytest.raises(InputError, match="both look like N"):
        load_runs(table.rename(columns={"N": "params"}).assign(param_count=[1e8, 1e9]))


# ----------------------------------------------------------------------------- frozen


def test_frame_is_a_copy_and_everything_is_read_only():
    runs = sweep()
    fingerprint = runs.fingerprint()
    frame = runs.frame
    frame.loc[0, "loss"] = 99.0
    frame["N"] = 1.0
    assert runs.loss[0] == 3.5 and runs.N[0] == 1e8
    assert runs.frame is not runs.frame
    with pytest.raises(ValueError):
        runs.frame["loss"].to_numpy()[0] = 99.0
    assert runs.fingerprint() == fingerprint
    with pytest.raises(TypeError):
        runs.source_columns["N"] = "other"
    path_runs = load_runs({"N": [1e8], "loss": [3.0]})
    assert path_runs.source_lines is None and path_runs.first_line is None
    with pytest.raises(AttributeError):
        runs.source = "elsewhere"


def test_file_lines_are_read_only(tmp_path):
    runs = load_runs(write(tmp_path, "runs.csv", "N,loss\n1e8,3\n"))
    assert runs.first_line == 2
    with pytest.raises(ValueError):
        runs.source_lines[0] = 7


def test_runs_pickle_and_stay_frozen(tmp_path):
    """Parallel backends pickle runs; the copy is the same data, as frozen."""
    import copy
    import pickle

    runs = load_runs(write(tmp_path, "runs.csv", "N,D,loss\n1e8,1e9,3\n\n2e8,2e9,2.9\n"))
    for twin in (pickle.loads(pickle.dumps(runs)), copy.deepcopy(runs)):
        assert twin.fingerprint() == runs.fingerprint()
        assert twin.row_label(1) == runs.row_label(1) == f"row 1 (line 4) of {runs.source}"
        with pytest.raises(TypeError):
            twin.source_columns["N"] = "x"
        with pytest.raises(ValueError):
            twin.source_lines[0] = 7


# ----------------------------------------------------------------------------- compute


def test_compute_far_from_k_n_d_warns_naming_rows(tmp_path):
    path = write(tmp_path, "runs.csv", "N,D,C,loss\n1e9,1e10,6e19,2.5\n1e9,2e10,1.2e23,2.4\n"
                                       "2e9,2e10,2.4e20,2.3\n\n4e9,1e10,2.4e17,2.2\n")
    with pytest.warns(ScalingLawsWarning, match=(
            r"runs.csv: C differs from 6·N·D by more than a factor 2 in 2 of 4 rows \(row 1 "
            r"\(line 3\), row 3 \(line 6\); the largest gap is C/\(6·N·D\) = 1e\+03 at row 1 "
            r"\(line 3\)\)\. The C column is used as given wherever compute is needed")):
        runs = load_runs(path)
    assert runs.C.tolist() == [6e19, 1.2e23, 2.4e20, 2.4e17]  # kept as given, as it says


def test_compute_within_a_factor_2_is_quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        runs = load_runs({"N": [1e9, 1e9], "D": [1e10, 1e10], "C": [1.19e20, 0.31e20],
                          "loss": [2.5, 2.4]})
    assert runs.compute_mismatch() == pytest.approx((6e19 - 0.31e20) / 0.31e20)


def test_an_absurd_in_memory_table_is_refused(monkeypatch):
    from scalinglaws import _validation

    monkeypatch.setattr(_validation, "available_memory", lambda: 500)
    with pytest.raises(InputError, match=r"<dict>: 3 runs need about 576 bytes of memory for "
                                         r"validating the table, and about 500 bytes is "
                                         r"available: at most about 2 runs fit"):
        load_runs(SIMPLE)


@pytest.mark.parametrize("call, message", [
    (lambda r: r.groupby(["family"]), r"groupby: no column \['family'\]"),
    (lambda r: r.select(lambda frame: frame["nope"]), r"select: the mask function failed on "
                                                      r"runs.frame: KeyError"),
    (lambda r: r.inputs(3), r"inputs: expected a column name or a list of them, got 3"),
    (lambda r: r.row_label(99), r"row_label: i must be an integer index of the 5 runs"),
    (lambda r: r.fingerprint(5), r"fingerprint: expected a column name"),
    (lambda r: r.query(None), r"query: expr must be text"),
])
def test_hostile_arguments_to_runs_methods(call, message):
    with pytest.raises(InputError, match=message):
        call(sweep())
    assert sweep().fingerprint("loss") == sweep().fingerprint(["loss"])


def test_declaring_no_loss_column_is_refused_plainly():
    with pytest.raises(InputError, match=r"says the table has no loss column \(loss=None\)"):
        load_runs({"N": [1.0], "loss": [2.0]}, {"loss": None})


@pytest.mark.parametrize("kind", ["frame", "text", "json", "jsonl"])
def test_a_row_whose_every_cell_is_empty_is_dropped_from_any_table(tmp_path, kind):
    # as a CSV file's ",,," row is; before, a DataFrame's or JSON file's blank row (a
    # spreadsheet's empty row read by pandas, a {} record) was refused as missing values
    records = [{"N": 1e8, "D": 1e9, "loss": 3.0}, {"N": 2e8, "D": 2e9, "loss": 2.9}, {},
               {"N": 4e8, "D": 4e9, "loss": 2.8}]
    frame = pd.DataFrame(records, columns=["N", "D", "loss"])
    if kind == "frame":
        data = frame
    elif kind == "text":  # blank text cells, as a sheet read without na_values gives
        data = frame.astype(object)
        data.iloc[2] = ["", " ", None]
    elif kind == "json":
        data = write(tmp_path, "runs.json", json.dumps(records))
    else:
        data = write(tmp_path, "runs.jsonl", "\n".join(map(json.dumps, records)))
    runs = load_runs(data)
    assert runs.N.tolist() == [1e8, 2e8, 4e8]
    assert runs.row_numbers == (0, 1, 3) and runs.dropped_rows == (2,)  # said, not hidden
    with pytest.raises(InputError, match=r"row 3.*column 'D'"):  # later rows keep their number
        load_runs(frame.assign(D=[1e9, 2e9, np.nan, -1.0]))
    with pytest.raises(InputError, match=r"no runs \(every row of the table is empty\)"):
        load_runs(frame.iloc[[2, 2]])


def test_exclude_top_loss_drops_whole_runs_of_checkpoints():
    # rows that are checkpoints of runs (run_id repeats): the K runs of largest final loss
    # go, every checkpoint of each; the earliest checkpoints (the largest losses of the
    # table) are no runs to drop
    runs = load_runs({"run_id": ["a"] * 3 + ["b"] * 3 + ["c"] * 3,
                      "N": [1e8] * 3 + [2e8] * 3 + [4e8] * 3,
                      "D": [1e9, 2e9, 4e9] * 3,
                      "loss": [5.0, 3.9, 3.5, 4.8, 3.6, 3.2, 4.9, 3.7, 3.3]})
    dropped = runs.exclude_top_loss(1)  # a ends at 3.5, the largest final loss
    assert dropped.row_numbers == (3, 4, 5, 6, 7, 8)
    assert dropped.selection["excluded_rows"] == (0, 1, 2)
    assert dropped.selection["exclude_top_loss"] == 1
    assert runs.exclude_top_loss(2).frame["run_id"].unique().tolist() == ["b"]
    # the final checkpoint is the one of most tokens, in whatever order the rows come
    shuffled = load_runs(runs.frame.iloc[[2, 1, 0, 3, 4, 5, 6, 7, 8]].reset_index(drop=True))
    assert set(shuffled.exclude_top_loss(1).frame["run_id"]) == {"b", "c"}
    with pytest.raises(InputError, match=r"k=3 would drop all 3 runs \(9 rows are their "
                                         r"checkpoints\)"):
        runs.exclude_top_loss(3)
    # reapplied from the record, the same rows go
    assert runs.with_selection(dropped.selection).row_numbers == dropped.row_numbers


# ---------------------------------------------------------------- a law's inputs beyond N, D, C
# A law's declared inputs are read by their name: S_min (kaplan_ns), task_loss (the task
# forms), a custom form's input. Before: "unknown input 'S_min'; the canonical inputs are
# ['N', 'D', 'C', 'loss', 'U']" (no file), and columns={"S_min": ...} was refused.
def test_a_laws_other_inputs_are_read_by_name_when_asked():
    table = {"N": [1e8, 2e8, 4e8], "D": [1e9, 2e9, 4e9], "loss": [3.0, 2.9, 2.8],
             "S min": ["1k", "2e3", 4000], "task_loss": [0.0, 0.5, 1.5], "x": [-1, 0, 1]}
    runs = load_runs(table)
    assert runs.source_columns["S_min"] == "S min"
    got = runs.inputs(("N", "S_min", "task_loss", "x"))
    assert got["S_min"].tolist() == [1e3, 2e3, 4e3] and got["task_loss"].tolist() == [0, 0.5, 1.5]
    assert got["x"].tolist() == [-1.0, 0.0, 1.0]  # a custom form's input, by its column's name
    assert not got["S_min"].flags.writeable
    mapped = load_runs({**table, "steps": [5, 6, 7]}, {"S_min": "steps"})
    assert mapped.inputs(("S_min",))["S_min"].tolist() == [5, 6, 7]
    assert mapped.frame["S min"].tolist() == ["1k", "2e3", 4000]  # the other stays an extra
    assert runs.fingerprint(("N", "S_min")) != runs.fingerprint(("N",))


def test_a_laws_other_inputs_are_checked_only_when_a_law_takes_them(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("N,D,loss,S_min,task_loss\n1e8,1e9,3.0,1e3,\n2e8,2e9,2.9,oops,0.4\n")
    runs = load_runs(path)  # a Chinchilla fit of this table need not read them
    assert runs.N.tolist() == [1e8, 2e8]
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}: row 1 \(line 3\), column "
                                         r"'S_min' \(S_min, an input of the law\): value 'oops' "
                                         r"is not a number$"):
        runs.inputs(("N", "S_min"))
    with pytest.raises(InputError, match=r"row 0 \(line 2\), column 'task_loss' \(task_loss, an "
                                         r"input of the law\): value is missing: fill it"):
        runs.inputs(("task_loss",))
    with pytest.raises(InputError, match=rf"runs from {re.escape(str(path))} have no column "
                                         r"'x', an input of the law; columns: \['N', 'D'"):
        runs.inputs(("x",))


def test_fitting_kaplan_ns_from_a_dataframe():
    from scalinglaws import fit
    from scalinglaws.laws.published import KAPLAN_2020_NS as p

    n, s = np.repeat(np.geomspace(1e7, 1e9, 4), 5), np.tile(np.geomspace(1e3, 1e5, 5), 4)
    loss = (p["N_c"] / n) ** p["alpha_N"] + (p["S_c"] / s) ** p["alpha_S"]  # Eq. 1.6
    frame = pd.DataFrame({"N": n, "D": 20 * n, "S_min": s, "loss": loss})
    assert fit(frame, "kaplan_ns").params == pytest.approx(dict(p), rel=1e-4)
    with pytest.raises(InputError, match=r"runs from <DataFrame> have no 'S_min' column "
                                         r"\(minimum optimisation steps\); form kaplan_ns takes"):
        fit(frame.drop(columns="S_min"), "kaplan_ns")


# ----------------------------------------------------------------------------- D = 0 rows
ZERO = {"run_id": ["a", "a", "a", "b", "b", "b"], "N": [1e8] * 3 + [4e8] * 3,
        "tokens": [0, 1e9, 2e9, 0, 4e9, 8e9], "flops": [0, 6e17, 1.2e18, 0, 9.6e18, 1.92e19],
        "loss": [11.0, 3.2, 3.0, 11.1, 2.8, 2.6]}


def test_untrained_rows_are_refused_offering_zero_tokens():
    """Review s35: `envelope olmo_ladder_checkpoints.csv` stopped at its two step-0
    checkpoints with no way past them; load_tasks had zero_tokens='drop'."""
    with pytest.raises(InputError) as caught:
        load_runs(ZERO)
    assert str(caught.value) == (
        "<dict>: row 0, column 'tokens' (D): value 0 is not positive; and 1 more bad cell in "
        "column 'tokens', 2 more bad cells in column 'flops'; 2 rows at D = 0 (untrained "
        "checkpoints?); to drop them, set zero_tokens to 'drop'")


def test_zero_tokens_drop_drops_them_and_records_it():
    with pytest.warns(ScalingLawsWarning, match=r"^<dict>: dropped 2 rows at D = 0 \(untrained "
                                                r"checkpoints; zero_tokens='drop'\); the first "
                                                r"is row 0$"):
        runs = load_runs(ZERO, zero_tokens="drop")
    assert runs.D.tolist() == [1e9, 2e9, 4e9, 8e9] and runs.row_numbers == (1, 2, 4, 5)
    assert runs.dropped_rows == (0, 3) and runs.n_dropped == 2
    assert dict(runs.selection) == {"zero_tokens": "drop", "dropped_rows": (0, 3)}
    # a bad cell elsewhere is still refused, and without the offer (no row at 0 is left)
    with pytest.raises(InputError, match=r"row 1, column 'loss' \(loss\): value -3 is not "
                                         r"positive$"):
        load_runs({**ZERO, "loss": [11.0, -3, 3.0, 11.1, 2.8, 2.6]}, zero_tokens="drop")
    with pytest.raises(InputError, match="`zero_tokens` must be one of"):
        load_runs(ZERO, zero_tokens="keep")


def test_zero_compute_counts_in_a_table_without_tokens():
    table = {key: value for key, value in ZERO.items() if key != "tokens"}
    with pytest.raises(InputError, match=r"2 rows at C = 0 \(untrained checkpoints\?\)"):
        load_runs(table)
    with pytest.warns(ScalingLawsWarning, match="dropped 2 rows at C = 0"):
        runs = load_runs(table, zero_tokens="drop")
    assert len(runs) == 4 and runs.derived == ("D",)


def test_every_row_at_zero_leaves_no_runs():
    with pytest.raises(InputError, match="no runs left: all 2 rows have missing values or "
                                         "D = 0"):
        load_runs({"N": [1e8, 2e8], "D": [0, 0], "loss": [11.0, 11.0]}, zero_tokens="drop")


def test_zero_tokens_drop_applies_when_loading_not_to_loaded_runs():
    with pytest.warns(ScalingLawsWarning):
        runs = load_runs(ZERO, zero_tokens="drop")
    with pytest.raises(InputError, match="zero_tokens='drop' applies when loading"):
        as_runs(runs, zero_tokens="drop")
