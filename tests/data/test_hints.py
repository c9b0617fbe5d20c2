"""Tests of scalinglaws.data._hints: close column names, missing-column messages, files that
are not tables of runs."""

from __future__ import annotations

import json
import re
import shlex

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws._exceptions import InputError, ScalingLawsWarning
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
    path = tmp_path / "tokenstrained.csv"
    path.write_text("num_params,tokens_trained,loss\n7e7,1.4e9,3.9\n1.4e8,2.8e9,3.5\n")
    runs = load_runs(path)  # N is recognised; D is not, but a table may lack D
    with pytest.raises(InputError) as caught:
        _ = runs.D
    assert str(caught.value) == (
        f"runs from {path} have no 'D' column (tokens); give tokens or compute (with "
        "parameters). The file has: num_params (read as N), tokens_trained (extra), loss (read "
        "as loss). Did you mean 'tokens_trained'? Recognised "
        "names for D: d, tokens, n_tokens, training_tokens, train_tokens, data, tokens_seen, "
        "num_tokens, total_tokens, consumed_tokens (any case); "
        "or say which column holds it with the columns option (D=tokens_trained)")
    assert load_runs(path, columns={"D": "tokens_trained"}).D.tolist() == [1.4e9, 2.8e9]


def test_a_header_with_units_is_suggested_quoted_for_the_shell():
    table = {"N (params)": [7e7, 1.4e8, 2.8e8], "D (tokens)": [1.4e9, 2.8e9, 5.6e9],
             "loss": LOSS}
    runs = load_runs(table)
    with pytest.raises(InputError, match=r"The table has: N \(params\) \(extra\), D \(tokens\) "
                                         r"\(extra\), loss \(read as loss\)\. Did you "
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
    with pytest.raises(InputError, match=r"The table has: N \(read as N\), loss \(read as loss\), "
                                         r"seed \(extra\)\. Recognised names for D: .*"
                                         r"\(D=<column>\)$"):
        _ = runs.D


def test_missing_loss_suggests_a_header_with_units_and_a_perplexity():
    with pytest.raises(InputError, match=r"no loss column\..* Hint: to use 'loss \(nats\)', set "
                                         r"the columns option \(loss='loss \(nats\)'\)"):
        load_runs({"N": [7e7, 1.4e8], "loss (nats)": [3.9, 3.5]})
    with pytest.raises(InputError, match=r"Hint: 'val_ppl' looks like a perplexity: set the "
                                         r"columns option \(loss=val_ppl\), and say what it holds "
                                         r"with loss_units \(--loss-units on the command "
                                         r"line\): 'nats', 'bits' or 'perplexity'$"):
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


# ----------------------------------------------------------------------------- unused columns


def _sweep_with(**columns):
    """Twelve runs of a Chinchilla-like law, with the named columns made from N, D, loss."""

    N = np.geomspace(2e7, 2e9, 12)
    D = 20.0 * N * np.geomspace(0.3, 3.0, 12)
    loss = 1.82 + 482.0 / N**0.348 + 2085.0 / D**0.366
    return {name: make(N, D, loss) for name, make in columns.items()}, N, D, loss


def test_a_column_like_n_left_unused_while_n_is_derived_warns(tmp_path):
    """Review s27 F1: N derived as C/(6·D) from a FLOP column counted as 3·N·D while the
    file's own N sat unused under a name not recognised: N came out half the true one."""
    table, N, D, _ = _sweep_with(nonembedding_params=lambda N, D, L: N,
                                 tokens=lambda N, D, L: D, flops=lambda N, D, L: 3 * N * D,
                                 loss=lambda N, D, L: L)
    path = tmp_path / "wandb.csv"
    pd.DataFrame(table).to_csv(path, index=False)
    with pytest.warns(sl.ScalingLawsWarning) as caught:
        runs = load_runs(path)
    assert runs.derived == ("N",)  # still derived: a warning, the user says which
    assert [str(w.message) for w in caught] == [
        f"{path}: N (parameters) is derived from C = k·N·D using 'tokens' and 'flops', while "
        "column 'nonembedding_params', which looks like N, is left unused. If it holds N, set "
        "the columns option (N=nonembedding_params); to derive N anyway, say the table has no "
        "N column (N=None in the columns option, --columns N= on the command line)"]
    # either answer silences it, and the mapping gives the file's N
    assert load_runs(path, columns={"N": "nonembedding_params"}).N.tolist() == N.tolist()
    for absent in (None, ""):
        assert load_runs(path, columns={"N": absent}).derived == ("N",)


def test_a_column_like_d_left_unused_warns_and_ratios_do_not():
    table, *_ = _sweep_with(params=lambda N, D, L: N, **{"D (tokens)": lambda N, D, L: D},
                            flops=lambda N, D, L: 7.8 * N * D, loss=lambda N, D, L: L)
    with pytest.warns(sl.ScalingLawsWarning, match=r"^<dict>: D \(tokens\) is derived from "
                      r"C = k·N·D using 'params' and 'flops', while column 'D \(tokens\)', "
                      r"which looks like D, is left unused\. If it holds D, set the columns "
                      r"option \(D='D \(tokens\)'\); to derive D anyway"):
        load_runs(table)
    # a ratio names tokens but holds no count of them: no warning (warnings are errors here)
    ratios, *_ = _sweep_with(params=lambda N, D, L: N, flops=lambda N, D, L: 6 * N * D,
                             tokens_per_param=lambda N, D, L: D / N,
                             data_repeats=lambda N, D, L: 1 + 0 * N,
                             loss=lambda N, D, L: L)
    assert load_runs(ratios).derived == ("D",)


def test_total_and_non_embedding_parameters_say_which_was_taken(tmp_path):
    """Review s38: a table with params and nonembedding_params fitted total parameters
    without a word (the look-alike warning fired only for an N derived from C)."""
    table, N, D, _ = _sweep_with(params=lambda N, D, L: 1.2 * N,
                                 nonembedding_params=lambda N, D, L: N,
                                 tokens=lambda N, D, L: D, loss=lambda N, D, L: L)
    path = tmp_path / "both.csv"
    pd.DataFrame(table).to_csv(path, index=False)
    with pytest.warns(sl.ScalingLawsWarning) as caught:
        runs = load_runs(path)
    assert runs.N.tolist() == table["params"].tolist()  # still the recognised header
    assert [str(w.message) for w in caught] == [
        f"{path}: N (parameters) is read from column 'params', while column "
        "'nonembedding_params', which looks like N too, is left unused (total and "
        "non-embedding parameter counts give different laws). To fit 'nonembedding_params', "
        "set the columns option (N=nonembedding_params); to keep 'params' and silence this, "
        "set the columns option (N=params)"]
    # either choice is quiet (warnings are errors here)
    assert load_runs(path, columns={"N": "nonembedding_params"}).N.tolist() == N.tolist()
    assert load_runs(path, columns={"N": "params"}).N.tolist() == table["params"].tolist()
    # a part of the count (embedding parameters alone) or a ratio holds no N: quiet
    for other in ("embedding_params", "params_per_layer"):
        quiet = dict(table)
        quiet[other] = quiet.pop("nonembedding_params")
        load_runs(quiet)


def test_a_plain_loss_next_to_another_split_loss_warns():
    """Review s27 F1: loss (the train loss) fitted without a word next to eval/lm_loss."""
    table, *_ = _sweep_with(N=lambda N, D, L: N, D=lambda N, D, L: D,
                            loss=lambda N, D, L: 0.97 * L,
                            **{"eval/lm_loss": lambda N, D, L: L,
                               "val_loss_std": lambda N, D, L: 0 * L + 0.01})
    with pytest.warns(sl.ScalingLawsWarning) as caught:
        load_runs(table)
    assert [str(w.message) for w in caught] == [
        "<dict>: the loss fitted is column 'loss', whose name does not say whether it is a "
        "training or a validation loss, while 'eval/lm_loss' also holds losses. If "
        "'eval/lm_loss' is the one to fit, set the columns option (loss=eval/lm_loss); to keep "
        "'loss', set the columns option (loss=loss)"]
    assert load_runs(table, columns={"loss": "loss"}).loss.tolist() == table["loss"].tolist()
    # a loss named for its split next to another split's loss is a common table: quiet
    named = dict(table)
    named["val_loss"] = named.pop("loss")
    load_runs(named)


def test_a_missing_column_lists_the_files_headers_and_how_each_was_read(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("params,tokns,N,loss,group,lr\n1e8,1e9,5,3.9,,1e-3\n2e8,2e9,5,3.5,,1e-3\n")
    runs = load_runs(path, columns={"N": "params"})
    with pytest.raises(InputError, match=re.escape(
            f"runs from {path} have no 'D' column (tokens); give tokens or compute (with "
            "parameters). The file has: params (read as N), tokns (extra), N (extra, as "
            "N_unused), loss (read as loss), group (empty: absent), lr (extra). Did you mean "
            "'tokns'?")):
        runs.inputs(["N", "D"])
    with pytest.raises(InputError, match=r"no 'C' column .*The file has: params \(read as N\)"):
        runs.C


@pytest.mark.parametrize("table, name, column", [
    ({"params": [1e8, 2e8, 4e8], "dataset_size": [2e9, 4e9, 8e9]}, "D", "dataset_size"),
    ({"size": [1e8, 2e8, 4e8], "tokens": [2e9, 4e9, 8e9]}, "N", "size"),
])
def test_a_vague_size_header_left_unused_beside_a_derived_quantity_is_named(table, name, column):
    # the audit's case: 'size' / 'dataset_size' next to a flops column were left as extra
    # columns while N or D was derived from C = k N D, without a word (model_params and
    # D_tokens did warn)
    table = {**table, "flops": [1.3e18, 5e18, 2e19], "loss": [3.1, 2.9, 2.7]}
    with pytest.warns(ScalingLawsWarning, match=rf"{name} \(.*\) is derived from C = k·N·D .* "
                                                rf"column '{column}', which looks like {name}"):
        runs = load_runs(table)
    assert runs.derived == (name,)
