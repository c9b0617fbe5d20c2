"""Resampling indices: rows, strata, whole clusters (checkpoints of one run), the jackknife;
and ``clusters=`` through bootstrap, bootstrap_groups, the fit JSON and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
import warnings

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws import InputError
from scalinglaws.laws.synthetic import DEFAULT_TRUTH
from scalinglaws.uncertainty.bootstrap import bootstrap
from scalinglaws.uncertainty.grouped import bootstrap_groups
from scalinglaws.uncertainty.resampling import (leave_one_out, resample_counts,
                                                resampled_text, resolve_clusters)

TRUTH = DEFAULT_TRUTH["chinchilla"]


def _law(N, D):
    return TRUTH["E"] + TRUTH["A"] / N ** TRUTH["alpha"] + TRUTH["B"] / D ** TRUTH["beta"]


def _checkpoints(seed=0, n_sizes=8, header="run_id", extra=None):
    """``n_sizes`` x 2 runs, 3 checkpoints each (1/4, 1/2, all of the run's tokens)."""
    rng = np.random.default_rng(seed)
    size, horizon, fraction = np.meshgrid(np.geomspace(5e7, 2e9, n_sizes), [20.0, 80.0],
                                          [0.25, 0.5, 1.0], indexing="ij")
    N, D = size.ravel(), (size * horizon * fraction).ravel()
    run = np.repeat(np.arange(N.size // 3), 3)
    loss = _law(N, D) * np.exp(0.01 * rng.standard_normal(run.max() + 1)[run]
                               + 0.002 * rng.standard_normal(N.size))
    table = {"N": N, "D": D, "loss": loss, header: [f"r{r}" for r in run], **(extra or {})}
    return sl.load_runs(table)


def _fit(runs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        return sl.fit(runs)


@pytest.fixture(scope="module")
def checkpoints():
    runs = _checkpoints()
    return runs, _fit(runs)


# --- the indices ---------------------------------------------------------------------


def test_whole_clusters_are_drawn_together():
    codes = np.repeat(np.arange(5), [1, 2, 3, 4, 2])
    counts = resample_counts(codes.size, 300, np.random.default_rng(1), clusters=codes)
    for c in range(5):
        rows = codes == c
        assert np.all(counts[:, rows] == counts[:, rows][:, :1])  # one multiplicity per run
    per_cluster = counts[:, np.unique(codes, return_index=True)[1]]
    # five clusters drawn per resample, whatever their sizes
    assert np.all(per_cluster.sum(axis=1) == 5)
    assert set(np.unique(per_cluster)) <= set(range(6)) and per_cluster.max() > 1


def test_same_seed_same_draws():
    codes = np.repeat(np.arange(7), 3)
    a = resample_counts(codes.size, 50, np.random.default_rng(3), clusters=codes)
    b = resample_counts(codes.size, 50, np.random.default_rng(3), clusters=codes)
    assert np.array_equal(a, b)


def test_singleton_clusters_are_rows_bit_for_bit():
    for groups in (None, np.array(list("aabbbcc") * 2)):
        rows = resample_counts(14, 40, np.random.default_rng(5), groups)
        same = resample_counts(14, 40, np.random.default_rng(5), groups, np.arange(14))
        assert np.array_equal(rows, same)


def test_clusters_within_groups_keep_each_groups_count_of_clusters():
    groups = np.array(["x"] * 6 + ["y"] * 4)
    clusters = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    counts = resample_counts(10, 200, np.random.default_rng(0), groups, clusters)
    first = np.unique(clusters, return_index=True)[1]
    per_cluster = counts[:, first]
    assert np.all(per_cluster[:, :3].sum(axis=1) == 3)  # group x: three runs
    assert np.all(per_cluster[:, 3:].sum(axis=1) == 2)  # group y: two runs


def test_leave_one_out_drops_one_whole_cluster():
    weights = leave_one_out(np.array([0, 1, 1, 2]), 4)
    assert weights.tolist() == [[0, 1, 1, 1], [1, 0, 0, 1], [1, 1, 1, 0]]
    assert np.array_equal(leave_one_out(None, 3), 1 - np.eye(3))


def test_auto_finds_repeated_run_ids_and_only_them(checkpoints):
    runs, _ = checkpoints
    column, codes = resolve_clusters(runs)
    assert column == "run_id" and codes.tolist() == np.repeat(np.arange(16), 3).tolist()
    plain = sl.generate_sweep(rng=0)
    assert resolve_clusters(plain) == (None, None)  # no run_id column
    once = sl.load_runs(plain.to_frame().assign(run_id=[f"r{i}" for i in range(len(plain))]))
    assert resolve_clusters(once) == (None, None)  # run ids that do not repeat
    assert resolve_clusters(runs, None) == (None, None)


def test_auto_takes_a_missing_run_id_for_a_run_of_its_own():
    runs = sl.load_runs({"N": [1e8] * 4, "D": [1e9, 2e9, 3e9, 4e9], "loss": [3, 2.9, 2.8, 2.7],
                         "run_id": ["a", "a", None, None]})
    assert resolve_clusters(runs)[1].tolist() == [0, 0, 1, 2]


def test_the_users_header_names_the_column_too():
    runs = _checkpoints(header="Run")
    assert "run_id" in runs.columns and dict(runs.source_columns)["run_id"] == "Run"
    assert resolve_clusters(runs, "Run")[0] == "run_id"
    assert resolve_clusters(runs, "run_id")[0] == "run_id"


def test_a_bad_clusters_argument_is_refused_naming_it(checkpoints):
    runs, result = checkpoints
    with pytest.raises(InputError, match=r"`clusters` \(--cluster\) names column 'seed', "
                                          r"which the runs do not have \(columns: N, D, C"):
        bootstrap(result, runs, 10, clusters="seed")
    # a typo: the column it is close to, and None as the command line spells it
    seeded = sl.load_runs(runs.to_frame().assign(seed=0))
    with pytest.raises(InputError, match=r"names column 'sed', which the runs do not have: "
                                         r"did you mean 'seed'\? .*or None \(--cluster none "
                                         r"on the command line"):
        bootstrap(result, seeded, 10, clusters="sed")
    with pytest.raises(InputError, match=r"`clusters` \(--cluster\) must be 'auto', a column "
                                         r"name or None, got int 3"):
        bootstrap(result, runs, 10, clusters=3)
    one = sl.load_runs(runs.to_frame().assign(sweep="s"))
    with pytest.raises(InputError, match=r"every row of the runs is in one cluster of "
                                         r"`clusters` \(--cluster\) column 'sweep'"):
        bootstrap(result, one, 10, clusters="sweep")
    holed = runs.to_frame().assign(seed=[1.0] * (len(runs) - 1) + [np.nan])
    with pytest.raises(InputError, match=r"`clusters`: column 'seed' is missing at row 47"):
        bootstrap(result, sl.load_runs(holed), 10, clusters="seed")


# --- through the bootstrap -------------------------------------------------------------


def test_bootstrap_resamples_whole_runs_when_run_ids_repeat(checkpoints):
    runs, result = checkpoints
    boot = bootstrap(result, runs, 30, rng=0, progress=False, method="bca")
    assert boot.clusters == "run_id"
    # the draws are those of the clusters' counts: the same seed, the same draws
    again = bootstrap(result, runs, 30, rng=0, progress=False, clusters="run_id")
    assert np.array_equal(boot.draws, again.draws)
    rows = bootstrap(result, runs, 30, rng=0, progress=False, clusters=None)
    assert rows.clusters is None and not np.array_equal(boot.draws, rows.draws)
    # the jackknife leaves out one run (three rows) at a time: 16 runs
    assert boot.jackknife.shape == (16, 5)
    assert "whole runs (run_id) resampled" in boot.summary()
    assert "resampled" not in rows.summary().splitlines()[0]
    assert boot.to_frame().attrs["clusters"] == "run_id"
    assert resampled_text(None) == "rows resampled"


def test_data_without_repeated_run_ids_give_the_row_draws_bit_for_bit():
    runs = sl.generate_sweep(noise=0.01, rng=5)
    result = sl.fit(runs)
    auto = bootstrap(result, runs, 20, rng=1, progress=False, groups="budget")
    rows = bootstrap(result, runs, 20, rng=1, progress=False, groups="budget", clusters=None)
    assert auto.clusters is None and np.array_equal(auto.draws, rows.draws)
    # a column of one value per row gives the rows' draws, and says which column it was
    labelled = sl.load_runs(runs.to_frame().assign(seed=np.arange(len(runs))))
    by_seed = bootstrap(result, labelled, 20, rng=1, progress=False, groups="budget",
                        clusters="seed")
    assert by_seed.clusters == "seed" and np.array_equal(by_seed.draws, rows.draws)


def test_clusters_survive_the_json_round_trip(checkpoints, tmp_path):
    runs, result = checkpoints
    boot = bootstrap(result, runs, 20, rng=0, progress=False)
    path = tmp_path / "fit.json"
    sl.save(result.with_bootstrap(boot), path)
    assert json.loads(path.read_text())["bootstrap"]["clusters"] == "run_id"
    loaded = sl.load(path).bootstrap
    assert loaded.clusters == "run_id" and np.array_equal(loaded.draws, boot.draws)
    # a document written before clusters were recorded: rows
    doc = boot.to_dict()
    del doc["clusters"]
    old = type(boot).from_dict(doc, boot.form, boot.point)
    assert old.clusters is None
    with pytest.raises(InputError, match="clusters must be a column name or null, got 3"):
        type(boot).from_dict({**doc, "clusters": 3}, boot.form, boot.point)


def test_fit_warns_once_that_rows_are_checkpoints():
    runs = _checkpoints()
    with pytest.warns(sl.ScalingLawsWarning) as record:
        sl.fit(runs)
    said = [str(w.message) for w in record if "checkpoints" in str(w.message)]
    assert said == ["<dict>: 48 rows are checkpoints of 16 runs (run_id repeats): a run's "
                    "checkpoints share its error, so they are not independent runs; "
                    "scalinglaws.bootstrap resamples whole runs (clusters='auto'; --cluster "
                    "on the command line), not rows, and calibrate takes whole runs in its "
                    "scatter and rollout too"]


def test_grouped_bootstrap_resamples_whole_runs_within_groups():
    frame = pd.concat([_checkpoints(seed=i).to_frame().assign(recipe=name)
                       for i, name in enumerate(["base", "new"])], ignore_index=True)
    frame["run_id"] = frame["recipe"] + "-" + frame["run_id"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        joint = sl.fit(frame, "chinchilla", groups="recipe", shared=["alpha", "beta"])
    boot = bootstrap_groups(joint, frame, n_resamples=20, rng=0)
    rows = bootstrap_groups(joint, frame, n_resamples=20, rng=0, clusters=None)
    assert boot.clusters == "run_id" and rows.clusters is None
    assert boot.to_dict()["clusters"] == "run_id" and boot.group("new").clusters == "run_id"
    assert not np.allclose(boot.draws, rows.draws, equal_nan=True)
    with pytest.raises(InputError, match=r"`clusters` \(--cluster\) names column 'seed'"):
        bootstrap_groups(joint, frame, n_resamples=20, rng=0, clusters="seed")


# --- the command line ------------------------------------------------------------------


def test_cli_fit_cluster_flag(tmp_path, capsys):
    from scalinglaws.outputs.cli import main

    table = tmp_path / "runs.csv"
    _checkpoints().to_frame().rename(columns={"run_id": "run"}).to_csv(table, index=False)
    files = {}
    for name, flags in (("auto", []), ("column", ["--cluster", "run"]),
                        ("none", ["--cluster", "none"])):
        files[name] = tmp_path / f"{name}.json"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sl.ScalingLawsWarning)
            assert main(["fit", str(table), "--bootstrap", "20", *flags,
                         "--out", str(files[name])]) == 0
    out = capsys.readouterr().out
    assert "whole runs (run_id) resampled" in out
    docs = {name: json.loads(path.read_text())["bootstrap"] for name, path in files.items()}
    assert docs["auto"]["clusters"] == docs["column"]["clusters"] == "run_id"
    assert docs["auto"]["draws"] == docs["column"]["draws"]
    assert docs["none"]["clusters"] is None and docs["none"]["draws"] != docs["auto"]["draws"]
    assert main(["fit", str(table), "--cluster", "run"]) == 2
    assert "--cluster has no effect without a bootstrap (--bootstrap N)" in \
        capsys.readouterr().err
    assert main(["fit", str(table), "--bootstrap", "20", "--cluster", "seed"]) == 2
    assert "names column 'seed', which the runs do not have" in capsys.readouterr().err


# --- strata with an empty label --------------------------------------------------------


def test_resample_counts_refuses_a_missing_stratum_label():
    # a run whose group is NaN matched no stratum and was never drawn (an all-zero column)
    with pytest.raises(InputError, match=r"`groups` is missing at rows 6, 7, 8 \(a run with no "
                                         r"stratum would never be drawn\)"):
        resample_counts(9, 5, np.random.default_rng(0),
                        groups=[0, 0, 0, 1, 1, 1, np.nan, np.nan, np.nan])
    with pytest.raises(InputError, match=r"`groups` is missing at row 1 "):
        resample_counts(3, 5, np.random.default_rng(0), groups=np.array(["a", None, "a"],
                                                                          dtype=object))


def _budgets_with_holes(tmp_path, rows=(3, 7, 11, 20, 30)):
    table = tmp_path / "holed.csv"
    frame = pd.read_csv(Path(__file__).resolve().parents[2] / "datasets"
                        / "synthetic_chinchilla_sweep.csv")
    frame.loc[list(rows), "budget"] = np.nan
    frame.to_csv(table, index=False)
    return table


def test_bootstrap_groups_refuses_runs_with_an_empty_group_cell(tmp_path):
    # they were in the point fit and silently in no resample (count 0 in every one)
    table = _budgets_with_holes(tmp_path)
    runs = sl.load_runs(table)
    result = sl.fit(runs)
    with pytest.raises(InputError) as caught:
        bootstrap(result, runs, 20, rng=0, groups="budget", progress=False)
    assert str(caught.value) == ("`groups`: column 'budget' is missing at row 3 (line 5), "
                                 f"row 7 (line 9), row 11 (line 13) and 2 more rows of {table}")


def test_cli_fit_group_refuses_an_empty_group_cell(tmp_path, capsys):
    from scalinglaws.outputs.cli import main

    table = _budgets_with_holes(tmp_path, rows=(3, 7, 11))
    assert main(["fit", str(table), "--bootstrap", "20", "--group", "budget"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("scalinglaws: error: `groups`: column 'budget' is missing at row 3 (line 5), "
                   f"row 7 (line 9), row 11 (line 13) of {table}"), err
