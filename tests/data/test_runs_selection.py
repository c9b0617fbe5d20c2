"""Runs carry the row selection they were made by (``Runs.selection``): a fit of them
records it in ``options["rows"]`` as ``scalinglaws fit`` does for its flags, and
``Runs.with_selection`` makes it again on the table read anew, so that a fit file made
in Python reads back, and refits, on the same runs (review: ``sl.fit(runs.exclude_top_loss(5))``
recorded nothing)."""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws import InputError
from scalinglaws.fitting.estimator import LawFitter
from scalinglaws.outputs.cli import main
from scalinglaws.outputs.io import fit_from_dict

DATA = Path(__file__).resolve().parents[2] / "datasets" / "synthetic_chinchilla_sweep.csv"


@pytest.fixture(scope="module")
def excluded(tmp_path_factory):
    path = tmp_path_factory.mktemp("fit") / "ex5.json"
    result = sl.fit(sl.load_runs(DATA).exclude_top_loss(5))
    result.save(path)
    return result, path


def test_the_json_of_a_fit_names_the_exclusion(excluded):
    _, path = excluded
    rows = json.loads(path.read_text())["options"]["rows"]
    # the five largest losses of the file, found here with pandas
    largest = sorted(pd.read_csv(DATA)["loss"].nlargest(5).index.tolist())
    assert rows == {"exclude_top_loss": 5, "excluded_rows": largest}


def test_the_record_is_the_one_the_cli_writes(excluded, tmp_path, capsys):
    _, path = excluded
    out = tmp_path / "cli.json"
    assert main(["fit", str(DATA), "--exclude-top-loss", "5", "--out", str(out)]) == 0
    capsys.readouterr()
    cli, python = (json.loads(p.read_text()) for p in (out, path))
    assert cli["options"]["rows"] == python["options"]["rows"]
    assert cli["params"] == python["params"]


def test_loading_and_refitting_reproduces_the_fit(excluded):
    result, path = excluded
    loaded = sl.load(path)
    runs = sl.load_runs(DATA).with_selection(loaded.options["rows"])
    assert len(runs) == 103 and runs.fingerprint(("N", "D", "loss")) == loaded.data_fingerprint
    refit = LawFitter.from_result(loaded).fit(runs)
    assert dict(refit.params) == dict(result.params) == dict(loaded.params)
    assert refit.objective == result.objective
    assert dict(refit.options["rows"]) == dict(loaded.options["rows"])


def test_every_selection_is_recorded_in_order_and_made_again(tmp_path):
    table = pd.read_csv(DATA).assign(half=lambda f: np.where(f.index % 2, "odd", "even"))
    table.loc[[4, 9], "loss"] = np.nan
    path = tmp_path / "runs.csv"
    table.to_csv(path, index=False)

    def read():
        return sl.load_runs(path, nan_policy="omit")

    with pytest.warns(sl.ScalingLawsWarning, match="dropped 2"):
        runs = read()
    even_large = dict(runs.groupby("half"))["even"].query("N > 3e7")
    chosen = even_large.select(np.arange(len(even_large)) >= 2).exclude_top_loss(2)
    rows = dict(chosen.selection)
    assert rows["nan_policy"] == "omit" and rows["dropped_rows"] == (4, 9)
    assert [next(iter(step)) for step in rows["steps"]] == ["groupby", "query", "select",
                                                           "exclude_top_loss"]
    # the even rows, minus the missing and the small, minus the mask's first two, minus
    # the two of largest loss: the rows left out, counted here with pandas
    even = table[(table.index % 2 == 0) & table.loss.notna()]
    large = even[even.N > 3e7].iloc[2:]
    kept = large.drop(large["loss"].nlargest(2).index).index
    assert chosen.row_numbers == tuple(kept)
    assert rows["excluded_rows"] == tuple(sorted(set(table.index) - set(kept) - {4, 9}))
    result = sl.fit(chosen)
    result.save(tmp_path / "fit.json")
    loaded = sl.load(tmp_path / "fit.json")
    with pytest.warns(sl.ScalingLawsWarning, match="dropped 2"):
        again = read().with_selection(loaded.options["rows"])
    assert again.row_numbers == chosen.row_numbers
    assert json.dumps(sl.fit(again).to_dict()["options"]["rows"]) == \
        json.dumps(result.to_dict()["options"]["rows"])


def test_the_cli_reads_a_python_selection_back(tmp_path, capsys):
    fit = tmp_path / "fit.json"
    sl.fit(sl.load_runs(DATA).query("N > 3e7").exclude_top_loss(2)).save(fit)
    assert main(["plot", "residuals", str(fit), "--data", str(DATA),
                 "--out", str(tmp_path / "r.png")]) == 0
    err = capsys.readouterr().err
    assert "not the data" not in err
    assert "the row selection query 'N > 3e7'; --exclude-top-loss 2" in err


def test_selections_add_up_and_a_selection_that_keeps_every_run_says_nothing():
    runs = sl.load_runs(DATA)
    twice, once = runs.exclude_top_loss(2).exclude_top_loss(3), runs.exclude_top_loss(5)
    assert dict(twice.selection) == dict(once.selection)
    assert twice.row_numbers == once.row_numbers
    assert dict(runs.query("N > 0").selection) == {} and dict(runs.selection) == {}
    # a fit of every row of a table read with the defaults records no selection
    assert "rows" not in sl.fit(runs).options


@pytest.mark.parametrize("rows, match", [
    ([("exclude_top_loss", 5)], "options\\['rows'\\]"),
    ({"steps": [{"shuffle": 1}]}, "unknown selection step"),
    ({"steps": [{"groupby": "N", "value": 1.0}]}, "no group 1.0"),
])
def test_a_bad_record_is_refused(rows, match):
    with pytest.raises(InputError, match=match):
        sl.load_runs(DATA).with_selection(rows)


def test_the_fit_file_refuses_a_malformed_step():
    doc = sl.fit(sl.load_runs(DATA).query("N > 3e7")).to_dict()
    doc["options"]["rows"]["steps"][0] = {"query": 3}
    with pytest.raises(InputError, match="options.rows.steps"):
        fit_from_dict(doc, source="f.json")


def test_a_grouped_fit_records_the_selection_too(tmp_path):
    runs = sl.load_runs(pd.read_csv(DATA).assign(half=lambda f: f.index % 2)).exclude_top_loss(3)
    grouped = sl.fit(runs, groups="half", shared=["alpha", "beta"])
    grouped.save(tmp_path / "grouped.json")
    for result in (grouped, sl.load_grouped(tmp_path / "grouped.json")):
        for record in (result.options, *(result[g].options for g in result.groups)):
            assert record["rows"]["exclude_top_loss"] == 3
            assert list(record["rows"]["excluded_rows"]) == list(runs.selection["excluded_rows"])


def test_loss_units_are_recorded_and_must_match_when_made_again(tmp_path):
    table = pd.read_csv(DATA).assign(loss=lambda f: np.exp(f["loss"]))
    runs = sl.load_runs(table, loss_units="perplexity")
    assert dict(runs.selection) == {"loss_units": "perplexity"}
    assert dict(runs.exclude_top_loss(2).selection)["loss_units"] == "perplexity"
    result = sl.fit(runs)
    assert dict(result.options["rows"]) == {"loss_units": "perplexity"}
    result.save(tmp_path / "fit.json")
    rows = sl.load(tmp_path / "fit.json").options["rows"]
    assert dict(rows) == {"loss_units": "perplexity"}
    assert sl.load_runs(table, loss_units="perplexity").with_selection(rows).loss.tolist() \
        == runs.loss.tolist()
    with pytest.raises(InputError, match=r"loss_units='perplexity', but these runs were loaded "
                                         r"with loss_units='nats'"):
        with pytest.warns(sl.UnitsWarning, match="exceeds 14.45 nats"):
            as_nats = sl.load_runs(table, loss_units="nats")
        as_nats.with_selection(rows)


def test_the_column_mapping_is_recorded_and_made_again(tmp_path, two_size_columns):
    """review s38: a fit made with columns={"N": "nonembedding_params"} recorded no mapping,
    so its data read again took ``params`` as N."""
    path = two_size_columns
    runs = sl.load_runs(path, columns={"N": "nonembedding_params"})
    assert dict(runs.selection) == {"columns": {"N": "nonembedding_params"}}
    # the header as read (any case), and "no such column" as None
    assert dict(sl.load_runs(path, columns={"N": "NonEmbedding_Params", "C": ""})
                .selection["columns"]) == {"N": "nonembedding_params", "C": None}
    with pytest.warns(sl.ScalingLawsWarning, match="looks like N too"):  # two N columns
        assert dict(sl.load_runs(path).selection) == {}  # no mapping given: none recorded
    result = sl.fit(runs)
    assert dict(result.options["rows"]) == {"columns": {"N": "nonembedding_params"}}
    result.save(tmp_path / "fit.json")
    rows = sl.load(tmp_path / "fit.json").options["rows"]
    assert dict(rows["columns"]) == {"N": "nonembedding_params"}
    again = sl.load_runs(path, columns=dict(rows["columns"])).with_selection(rows)
    assert again.fingerprint(("N", "D", "loss")) == result.data_fingerprint


def test_runs_read_with_another_mapping_warn_naming_both(tmp_path, two_size_columns):
    path = two_size_columns
    rows = sl.fit(sl.load_runs(path, columns={"N": "nonembedding_params"})).options["rows"]
    with pytest.warns(sl.ScalingLawsWarning, match="looks like N too"):  # two N columns
        unmapped = sl.load_runs(path)
    with pytest.warns(sl.DataMismatchWarning,
                      match=r"N from column 'params'.*'nonembedding_params'.*N=nonembedding_params"):
        unmapped.with_selection(rows)
    with pytest.warns(sl.DataMismatchWarning, match="N from column 'params'"):
        sl.load_runs(path, columns={"N": "params"}).with_selection(rows)
    # the same columns read, however the mapping was given: silent
    sl.load_runs(path, columns={"N": "nonembedding_params", "loss": "loss"}).with_selection(rows)


def test_a_mapped_column_read_as_absent_is_recorded_as_none(tmp_path):
    """Review s38: a mapped optional column whose every cell is empty is read as absent;
    the record kept its header, and the same file read again with the same mapping warned
    that the runs read U 'from no column, but the fit was made reading it from uniq'."""
    table = pd.read_csv(DATA).assign(uniq=np.nan)
    path = tmp_path / "uniq.csv"
    table.to_csv(path, index=False)
    runs = sl.load_runs(path, columns={"U": "uniq"})
    assert dict(runs.selection["columns"]) == {"U": None}
    rows = sl.fit(runs).options["rows"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = sl.load_runs(path, columns=dict(rows["columns"])).with_selection(rows)
        sl.load_runs(path, columns={"U": "uniq"}).with_selection(rows)
    assert len(again) == len(runs)
