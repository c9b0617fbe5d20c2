"""Tests of scalinglaws.data._hints: close column names, missing-column messages, files that
are not tables of runs."""

from __future__ import annotations

import json
import re
import shlex

import pytest

import scalinglaws as sl
from scalinglaws._exceptions import InputError
from scalinglaws.data._hints import close_columns
from scalinglaws.data.runs import load_runs

LOSS = [3.9, 3.5, 3.1]


# ----------------------------------------------------------------------------- close names


@pytest.mark.parametrize("name, column", [
    ("N", "N (params)"), ("N", "num_params"), ("N", "params_M"), ("N", "Params [B]"),
    ("N", "non_embedding_params"), ("N", "total params"), ("N", "n_parameters"),
    ("D", "tokens"), ("D", "num_tokens"), ("D", "D (tokens)"), ("D", "Tokens (B)"),
    ("D", "ntokens"), ("D", "train_tokens_seen"), ("C", "C (FLOP)"), ("C", "FLOPs (6ND)"),
    ("loss", "loss (nats)"), ("loss", "Val Loss [nats]"), ("loss", "eval_los"),
])
def test_close_columns_ignore_case_spacing_and_units(name, column):
    others = ["lr", "seed", "batch_size", "step", "model"]
    assert close_columns(name, [*others, column]) == [column]


@pytest.mark.parametrize("name", ["N", "D", "C", "loss"])
def test_unrelated_columns_are_not_suggested(name):
    assert close_columns(name, ["lr", "seed", "batch_size", "warmup", "accuracy", "run"]) == []


# ----------------------------------------------------------------------------- messages


def test_missing_tokens_lists_columns_suggests_and_shows_the_mapping(tmp_path):
    path = tmp_path / "numtokens.csv"
    path.write_text("num_params,num_tokens,loss\n7e7,1.4e9,3.9\n1.4e8,2.8e9,3.5\n")
    runs = load_runs(path)  # N is recognised; D is not, but a table may lack D
    with pytest.raises(InputError) as caught:
        _ = runs.D
    assert str(caught.value) == (
        f"runs from {path} have no 'D' column (tokens); give tokens or compute (with "
        "parameters). Columns: N, loss, num_tokens. Did you mean 'num_tokens'? Recognised "
        "names for D: d, tokens, n_tokens, training_tokens, train_tokens, data, tokens_seen "
        "(any case); "
        "or say which column holds it with the columns option (D=num_tokens)")
    assert load_runs(path, columns={"D": "num_tokens"}).D.tolist() == [1.4e9, 2.8e9]


def test_a_header_with_units_is_suggested_quoted_for_the_shell():
    table = {"N (params)": [7e7, 1.4e8, 2.8e8], "D (tokens)": [1.4e9, 2.8e9, 5.6e9],
             "loss": LOSS}
    runs = load_runs(table)
    with pytest.raises(InputError, match=r"Columns: loss, N \(params\), D \(tokens\)\. Did you "
                                         r"mean 'N \(params\)'\?.* with the columns option "
                                         r"\(N='N \(params\)'\)$") as caught:
        runs.inputs(["N", "D"])
    # the suggestion, as typed after --columns, is one shell word that maps the column
    suggested = re.search(r"columns option \((.*)\)$", str(caught.value)).group(1)
    assert shlex.split(suggested) == ["N=N (params)"]
    fixed = load_runs(table, columns={"N": "N (params)", "D": "D (tokens)"})
    assert fixed.N.tolist() == [7e7, 1.4e8, 2.8e8]


def test_a_suggested_header_naming_a_scale_says_to_multiply_it():
    # The reviewer's case: 'params (M)' was suggested as N with no word that its values are
    # millions; mapped as suggested, the fit gave A = 3.86 instead of 431.9.
    runs = load_runs({"params (M)": [70, 140, 280], "tokens": [1.4e9, 2.8e9, 5.6e9],
                      "loss": LOSS})
    with pytest.raises(InputError) as caught:
        _ = runs.N
    message = str(caught.value)
    assert "Did you mean 'params (M)'?" in message
    assert message.endswith(
        "with the columns option (N='params (M)'). Mind the units of 'params (M)': its header "
        "says millions, while N is read as a count of parameters: multiply the values by 1e6 "
        "before loading (or write them with a suffix, as 70M or 1.4B), or if they already are "
        "parameters, rename the column")


def test_no_close_column_gives_the_placeholder():
    runs = load_runs({"N": [7e7, 1.4e8], "loss": [3.9, 3.5], "seed": [0, 1]})
    with pytest.raises(InputError, match=r"Columns: N, loss, seed\. Recognised names for D: .*"
                                         r"\(D=<column>\)$"):
        _ = runs.D


def test_missing_loss_suggests_a_header_with_units_and_a_perplexity():
    with pytest.raises(InputError, match=r"no loss column\..* Hint: to use 'loss \(nats\)', set "
                                         r"the columns option \(loss='loss \(nats\)'\)"):
        load_runs({"N": [7e7, 1.4e8], "loss (nats)": [3.9, 3.5]})
    with pytest.raises(InputError, match=r"Hint: 'val_ppl' looks like a perplexity: set the "
                                         r"columns option \(loss=val_ppl\), and set loss_units"):
        load_runs({"N": [7e7, 1.4e8], "val_ppl": [49.0, 33.0]})


# ----------------------------------------------------------------------------- files


def test_a_fit_file_is_named_as_such(tmp_path):
    from scalinglaws.laws.synthetic import generate_sweep

    path = tmp_path / "fit_boot.json"
    sl.save(sl.fit(generate_sweep(rng=0), "chinchilla"), path)
    with pytest.raises(InputError, match=rf"^{path}: this is a scalinglaws fit file \(kind "
                                         r"'scalinglaws\.fit'\), not a table of runs; give "
                                         r"the table of runs"):
        load_runs(path)
    renamed = tmp_path / "fit.txt"  # whatever its name
    renamed.write_bytes(path.read_bytes())
    with pytest.raises(InputError, match="this is a scalinglaws fit file"):
        load_runs(renamed, format="json")


def test_other_scalinglaws_documents_are_named(tmp_path):
    path = tmp_path / "cmp.json"
    path.write_text(json.dumps({"schema_version": 1, "kind": "scalinglaws.comparison",
                                "rows": [1, 2]}))
    with pytest.raises(InputError, match=r"this is a scalinglaws comparison file \(kind "
                                         r"'scalinglaws\.comparison'\)"):
        load_runs(path)


def test_a_json_table_with_a_kind_column_is_still_a_table(tmp_path):
    path = tmp_path / "runs.json"
    path.write_text(json.dumps([{"N": 7e7, "D": 1.4e9, "loss": 3.9, "kind": "scalinglaws.x"},
                                {"N": 1.4e8, "D": 2.8e9, "loss": 3.5, "kind": "b"}]))
    assert len(load_runs(path)) == 2


def test_a_json_object_that_is_not_columns_says_the_shapes_expected(tmp_path):
    path = tmp_path / "meta.json"
    path.write_text(json.dumps({"model": "x", "results": {"loss": 3.9}, "N": [7e7, 1.4e8]}))
    with pytest.raises(InputError, match=rf"^{path}: an object is read as a table of columns, "
                                         r"each key holding a list of values, all of one "
                                         r"length, but here 'model' holds a single value; "
                                         r"'results' holds an object\. Expected a list of "
                                         r"records .*split orient"):
        load_runs(path)
    path.write_text(json.dumps({"N": [7e7, 1.4e8], "loss": [3.9]}))
    with pytest.raises(InputError, match=r"the lists differ in length \('N': 2, 'loss': 1\)"):
        load_runs(path)


def test_records_nested_under_a_key_are_pointed_at(tmp_path):
    path = tmp_path / "wrapped.json"
    path.write_text(json.dumps({"runs": [{"N": 7e7, "D": 1.4e9, "loss": 3.9},
                                         {"N": 1.4e8, "D": 2.8e9, "loss": 3.5}]}))
    with pytest.raises(InputError, match=r"no loss column\..* Hint: the runs seem to be nested "
                                         r"under 'runs'; give the table itself: a list of "
                                         r"records"):
        load_runs(path)


def test_a_dict_of_unequal_columns_names_the_lengths():
    with pytest.raises(InputError, match=r"^<dict>: an object is read as a table of columns.* "
                                         r"the lists differ in length \('N': 2, 'loss': 3\)"):
        load_runs({"N": [7e7, 1.4e8], "loss": LOSS})
