"""Tests of scalinglaws.data.columns: which column holds what, and plain-words messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglaws import InputError, load_runs


def test_two_numeric_columns_with_one_meaning_are_named():
    table = {"N": [1e8, 2e8], "params": [1.2e8, 2.2e8], "D": [1e9, 2e9], "loss": [3.0, 2.9]}
    with pytest.raises(InputError, match=r"<dict>: columns 'N' and 'params' both look like N "
                                         r"\(parameters\); say which to use with the columns "
                                         r"option \(N=N or N=params\)"):
        load_runs(table)
    runs = load_runs(table, {"N": "params"})
    assert runs.N.tolist() == [1.2e8, 2.2e8]
    assert runs.frame["N_unused"].tolist() == [1e8, 2e8]


def test_csv_with_n_and_params(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("N,params,D,loss\n1e8,5,1e9,3\n2e8,5,2e9,2.9\n")
    with pytest.raises(InputError, match=r"runs.csv: columns 'N' and 'params' both look like N"):
        load_runs(path)


def test_a_column_of_labels_is_not_a_second_meaning():
    """Porian et al.'s table has N and param_count = "kaplan"/"standard": a label, kept."""
    table = pd.DataFrame({"N": [1e8, 1e9], "param_count": ["kaplan", "standard"],
                          "D": [1e9, 1e10], "loss": [3.0, 2.8]})
    runs = load_runs(table)
    assert runs.source_columns["N"] == "N"
    assert runs.frame["param_count"].tolist() == ["kaplan", "standard"]


def test_explicit_mapping_wins_over_a_column_called_like_the_name():
    """Issue 10: columns={"N": "N_no_embed"} with a column N present used to raise."""
    table = pd.DataFrame({"N": [1e9, 2e9], "N_no_embed": [8e8, 1.6e9], "D": [1e10, 2e10],
                          "loss": [2.5, 2.4]})
    runs = load_runs(table, columns={"N": "N_no_embed"})
    assert runs.N.tolist() == [8e8, 1.6e9]
    assert runs.frame["N_unused"].tolist() == [1e9, 2e9]  # the other column stays, renamed
    assert runs.source_columns["N"] == "N_no_embed"
    assert runs.C.tolist() == [6 * 8e8 * 1e10, 6 * 1.6e9 * 2e10]


def test_a_column_declared_absent_does_not_clash_with_the_derived_one():
    table = {"N": [1e9], "D": [1e10], "C": [1.0], "loss": [2.5]}  # a broken C column
    runs = load_runs(table, columns={"C": None})
    assert runs.derived == ("C",) and runs.C.tolist() == [6e19]
    assert runs.frame["C_unused"].tolist() == [1.0]


@pytest.mark.parametrize("columns, message", [
    ({"D": "tokns"}, r"the columns option maps D to 'tokns', but there is no such column\. "
                     r"Did you mean 'tokens'\? Columns: N, tokens, loss$"),
    ({"N": "nothing"}, r"maps N to 'nothing', but there is no such column\. Columns: N, "),
    ({"tokens": "D"}, r"the columns option names 'tokens', not one of N, D, C, loss"),
    # the pair the wrong way round says which way it goes
    ({"tokens": "D"}, r"not one of N, D, C, loss.*; the canonical name comes first: D=tokens$"),
    ({"tokenz": "tokens"}, r"names 'tokenz', not one of N, D, C, loss, U, step, group, "
                           r"run_id, S_min, task_loss$"),
    ({"N": "N", "D": "N"}, r"the columns option maps both N and D to column 'N'"),
])
def test_mapping_mistakes_in_plain_words(columns, message):
    with pytest.raises(InputError, match=message) as caught:
        load_runs({"N": [1e8], "tokens": [1e9], "loss": [3.0]}, columns)
    assert "{" not in str(caught.value) and "columns=" not in str(caught.value)


def test_missing_loss_suggests_a_close_header():
    with pytest.raises(InputError, match=r"no loss column\. Did you mean 'val_los'\? The table "
                                         r"has: N \(read as N\), val_los \(extra\)\. "
                                         r"Recognised names for the loss: loss, "
                                         r"val_loss") as caught:
        load_runs({"N": [1e8], "val_los": [3.0]})
    assert "{" not in str(caught.value) and "columns=" not in str(caught.value)


def test_mapping_must_be_a_mapping():
    with pytest.raises(InputError, match="the columns option must map canonical names"):
        load_runs({"N": [1e8], "loss": [3.0]}, ["N"])


def test_long_header_lists_are_shortened():
    table = {f"c{i}": [1.0] for i in range(30)}
    with pytest.raises(InputError, match=r"The table has: c0 \(extra\), c1 \(extra\), .*"
                                         r"c19 \(extra\) and 10 more\. "):
        load_runs(table)


def test_headers_training_code_writes_are_recognised(tmp_path):
    # a reviewer's sweep: n_params, tokens_seen, total_flops, val_loss needed --columns
    import pandas as pd

    import scalinglaws as sl

    table = tmp_path / "sweep.csv"
    pd.DataFrame({"run_name": ["a", "b"], "n_params": [1e8, 2e8],
                  "tokens_seen": [2e9, 1e9], "total_flops": [1.2e18, 1.2e18],
                  "val_loss": [3.1, 3.0]}).to_csv(table, index=False)
    runs = sl.load_runs(table)
    assert list(runs.N) == [1e8, 2e8] and list(runs.D) == [2e9, 1e9]
    assert list(runs.C) == [1.2e18, 1.2e18] and runs.derived == ()


def chinchilla_like(n: int = 12) -> pd.DataFrame:
    """Runs of a Chinchilla-like law (N, D in counts, loss in nats), C not given."""
    N = np.geomspace(2e7, 2e9, n)
    D = 20.0 * N * np.geomspace(0.3, 3.0, n)
    return pd.DataFrame({"N": N, "D": D, "loss": 1.82 + 482.0 / N**0.348 + 2085.0 / D**0.366})


@pytest.mark.parametrize("n_header, d_header", [
    ("total_params", "tokens"), ("params", "num_tokens"), ("num_parameters", "total_tokens"),
    ("n_parameters", "consumed_tokens"), ("Total Parameters", "tokens")])
def test_export_spellings_of_n_and_d_are_read_not_derived(n_header, d_header):
    """Review s27 F1: total_params and num_tokens were ignored, and N (or D) derived from a
    FLOP column counted another way (3·N·D here): N came out half the file's values."""
    table = chinchilla_like()
    frame = pd.DataFrame({n_header: table.N, d_header: table.D, "flops": 3 * table.N * table.D,
                          "loss": table.loss})
    runs = load_runs(frame)
    assert runs.derived == ()
    assert runs.N.tolist() == table.N.tolist() and runs.D.tolist() == table.D.tolist()
    assert runs.source_columns["N"] == n_header and runs.source_columns["D"] == d_header


@pytest.mark.parametrize("other", ["eval/loss", "train/loss", "val/loss", "eval_loss"])
def test_a_plain_loss_next_to_a_split_loss_is_refused_alike(other):
    """Review s27 F1: loss next to eval_loss was refused, next to eval/loss fitted silently."""
    table = chinchilla_like()
    frame = pd.DataFrame({"params": table.N, "tokens": table.D, "loss": table.loss * 0.97,
                          other: table.loss})
    with pytest.raises(InputError, match=rf"<DataFrame>: columns 'loss' and '{other}' both "
                                         rf"look like loss \(loss\); say which to use with the "
                                         rf"columns option \(loss=loss or loss={other}\)"):
        load_runs(frame)
    runs = load_runs(frame, {"loss": other})
    assert runs.loss.tolist() == table.loss.tolist()


def test_an_empty_column_name_says_there_is_no_such_column():
    """--columns N= on the command line arrives as N='' : the same as N=None."""
    table = {"N": [1e9], "D": [1e10], "C": [1.0], "loss": [2.5]}
    runs = load_runs(table, columns={"C": ""})
    assert runs.derived == ("C",) and runs.C.tolist() == [6e19]


def test_empty_optional_columns_are_absent(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("N,D,loss,unique_tokens,step,group,run_id,note\n"
                    "1e8,1e9,3,,,,,a\n2e8,2e9,2.9, ,NA,,,\n")
    runs = load_runs(path)
    assert runs.columns == ["N", "D", "C", "loss", "note"]
    assert not runs.has("U") and not runs.has("group")
    with pytest.raises(InputError, match=r"have no 'U' column \(unique tokens\)"):
        runs.U


@pytest.mark.parametrize("name, cells", [("U", [np.nan, np.nan]), ("group", [None, None]),
                                         ("run_id", ["", "  "]), ("step", [None, "n/a"])])
def test_an_empty_optional_column_mapped_or_recognised_is_absent(name, cells):
    table = {"N": [1e8, 2e8], "D": [1e9, 2e9], "loss": [3.0, 2.9], "x": cells}
    assert load_runs(table, {name: "x"}).columns == ["N", "D", "C", "loss"]
    assert load_runs({**table, name: cells}).columns == ["N", "D", "C", "loss", "x"]


def test_an_optional_column_with_one_value_is_kept_and_checked():
    table = {"N": [1e8, 2e8], "D": [1e9, 2e9], "loss": [3.0, 2.9]}
    assert load_runs({**table, "group": ["a", None]}).frame["group"].isna().tolist() == [False,
                                                                                        True]
    with pytest.raises(InputError, match=r"row 0, column 'U' \(U\): value is missing"):
        load_runs({**table, "U": [np.nan, 1e9]})
