"""calibrate on checkpoints: ``clusters=`` through the scatter, the rollout, the bootstrap,
the file, the summary and the command line (the coverage it reaches:
``test_cluster_calibrate_coverage.py``)."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import InputError
from scalinglaws.uncertainty.calibrated import calibrate
from scalinglaws.uncertainty.rollout import rollout, run_maxima
from scalinglaws.uncertainty.scatter import estimate_scatter
from test_cluster_bootstrap_coverage import _law, checkpoint_sweep


def _fit(runs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)  # "rows are checkpoints"
        return sl.fit(runs)


@pytest.fixture(scope="module")
def checkpoints():
    runs = checkpoint_sweep(40_000)  # 20 runs x 4 checkpoints, 1% per run, 0.2% per row
    return runs, _fit(runs)


def test_without_repeated_run_ids_nothing_changes_bit_for_bit():
    """'auto' on runs of one row each is rows: the same JSON as clusters=None, byte for
    byte, with no clusters key anywhere (a file as it was before clusters existed)."""
    runs = sl.generate_sweep(rng=0)
    result = sl.fit(runs)
    auto = calibrate(result, runs, n_resamples=20, rng=1, progress=False)
    rows = calibrate(result, runs, n_resamples=20, rng=1, progress=False, clusters=None)
    assert auto.clusters is None and auto.to_json() == rows.to_json()
    assert "clusters" not in json.dumps(auto.uncertainty_dict())
    assert "whole runs" not in auto.summary()


def test_the_rollout_keeps_every_run_on_one_side_of_each_cut(checkpoints):
    """With clusters, no run has rows both fitted and held out in any fold; cut row by row,
    some run does (the leak this prevents)."""
    runs, _ = checkpoints
    run = runs.frame["run_id"].to_numpy()
    C = np.asarray(runs.C)

    def split_runs(back):
        leaked = 0
        for k, cut in enumerate(back.cuts):
            held = set(back.row[back.fold == k])
            fitted = {r for r in range(len(runs)) if r not in held}
            leaked += len({run[r] for r in held} & {run[r] for r in fitted})
        return leaked

    whole = rollout(runs, axis="C", n_cuts=3, min_train=32, clusters="run_id")
    rows = rollout(runs, axis="C", n_cuts=3, min_train=32, clusters=None)
    assert split_runs(whole) == 0 < split_runs(rows)
    assert whole.options["clusters"] == "run_id" and "clusters" not in rows.options
    # by default, as the bootstrap and calibrate: run_id, which repeats here
    default = rollout(runs, axis="C", n_cuts=3, min_train=32)
    assert default.options["clusters"] == "run_id" and split_runs(default) == 0
    # a run's rows are cut by its largest C: a held-out early checkpoint sits below the cut
    assert whole.factor.min() < 1 < whole.factor.max()
    assert np.array_equal(run_maxima(C, np.zeros(C.size, int)), np.full(C.size, C.max()))


def test_the_scatter_of_whole_runs_counts_runs_and_finds_a_new_runs_spread():
    """On 150 runs of 4 checkpoints (1% per run, 0.2% per row) the whole-run scatter is
    within 10% of a new run's true sd, sqrt(1%^2 + 0.2%^2), with G - p degrees of freedom;
    rows count 600 - p and, the fit following each run's rows, find less."""
    rng = np.random.default_rng(7)
    n_runs, fractions = 150, np.array([0.125, 0.25, 0.5, 1.0])
    N = np.repeat(np.geomspace(5e7, 2e9, n_runs), fractions.size)
    D = N * np.repeat(rng.choice([20.0, 80.0], n_runs), fractions.size) * np.tile(fractions, n_runs)
    error = np.repeat(0.01 * rng.standard_normal(n_runs), fractions.size) \
        + 0.002 * rng.standard_normal(N.size)
    runs = sl.load_runs({"N": N, "D": D, "loss": _law(N, D) * np.exp(error),
                         "run_id": np.repeat(np.arange(n_runs), fractions.size)})
    result = _fit(runs)
    whole = estimate_scatter(result, runs, clusters="auto")
    rows = estimate_scatter(result, runs)
    truth = math.hypot(0.01, 0.002)
    assert whole.clusters == "run_id" and whole.n_runs == n_runs and whole.dof == n_runs - 5
    assert abs(whole.sigma / truth - 1) < 0.10
    assert rows.clusters is None and rows.dof == 4 * n_runs - 5 and rows.sigma < whole.sigma


def test_calibrate_takes_whole_runs_and_says_so(checkpoints, tmp_path):
    runs, result = checkpoints
    law = calibrate(result, runs, n_resamples=20, rng=0, progress=False)
    assert law.clusters == law.scatter.clusters == law.calibration.clusters == "run_id"
    assert law.bootstrap.clusters == "run_id"
    assert law.scatter.n_runs == 20 and law.scatter.dof == 15
    # one record per held-out run and fold: at most 20 runs, fewer than the fold's rows
    assert law.calibration.n_points <= 20 * law.calibration.n_folds
    summary = law.summary()
    assert "whole runs (run_id): 20 runs" in summary
    assert "whole runs (run_id) resampled" in summary
    path = tmp_path / "law.json"
    law.save(path)
    back = sl.load(path)
    assert back.clusters == back.scatter.clusters == back.calibration.clusters == "run_id"
    assert back.to_json() == law.to_json()
    rows = calibrate(result, runs, n_resamples=0, progress=False, clusters=None)
    assert rows.clusters is None and rows.scatter.dof == 75
    # the user's own column, named as the runs hold it
    named = sl.load_runs(runs.to_frame().assign(seed_run=runs.frame["run_id"]))
    again = calibrate(_fit(named), named, n_resamples=0, progress=False, clusters="seed_run")
    assert again.clusters == "seed_run" and again.scatter.sigma == law.scatter.sigma


def test_a_bad_clusters_argument_is_refused_up_front(checkpoints):
    runs, result = checkpoints
    with pytest.raises(InputError, match=r"`clusters` \(--cluster\) names column 'seed', "
                                         r"which the runs do not have \(columns: N, D"):
        calibrate(result, runs, n_resamples=0, clusters="seed")
    one = sl.load_runs(runs.to_frame().assign(sweep="s"))
    with pytest.raises(InputError, match=r"column 'sweep' puts every row in one run"):
        calibrate(_fit(one), one, n_resamples=0, clusters="sweep")
    with pytest.raises(InputError, match=r"must be 'auto', a column name or None, got int"):
        calibrate(result, runs, n_resamples=0, clusters=1)


def test_a_file_with_a_bad_clusters_field_is_refused(checkpoints):
    from scalinglaws.outputs.io.uncertainty import calibrated_from_dict

    runs, result = checkpoints
    law = calibrate(result, runs, n_resamples=0, progress=False)
    doc = law.uncertainty_dict()
    doc["scatter"]["clusters"] = 3
    with pytest.raises(InputError, match=r"uncertainty.scatter.clusters must be a column name"):
        calibrated_from_dict(doc, result)


def test_cli_fit_uncertainty_takes_the_cluster_flag(checkpoints, tmp_path, capsys):
    from scalinglaws.outputs.cli import main

    runs, _ = checkpoints
    table = tmp_path / "runs.csv"
    runs.to_frame().to_csv(table, index=False)
    saved = {}
    for name, flags in (("auto", []), ("none", ["--cluster", "none"])):
        saved[name] = tmp_path / f"{name}.json"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sl.ScalingLawsWarning)
            assert main(["fit", str(table), "--uncertainty", "--bootstrap", "0", *flags,
                         "--out", str(saved[name])]) == 0
    assert "whole runs (run_id): 20 runs" in capsys.readouterr().out
    assert sl.load(saved["auto"]).clusters == "run_id"
    assert sl.load(saved["none"]).clusters is None
    assert main(["fit", str(table), "--cluster", "run_id"]) == 2  # no bootstrap, no --uncertainty
    assert "--cluster has no effect without a bootstrap" in capsys.readouterr().err


def test_rows_without_a_run_id_are_runs_of_their_own(checkpoints):
    """'auto', as the bootstrap reads it: a row with no run id is a run of its own, in the
    scatter and in every fold of the rollout (not an error naming the row)."""
    runs, _ = checkpoints
    frame = runs.to_frame()
    frame.loc[frame.index[-4:], "run_id"] = np.nan  # the last run's four rows
    holed = sl.load_runs(frame)
    law = calibrate(_fit(holed), holed, n_resamples=10, rng=0, progress=False)
    assert law.clusters == "run_id" and law.bootstrap.clusters == "run_id"
    assert law.scatter.n_runs == 19 + 4 and law.scatter.dof == 23 - 5


def test_cli_backtest_rollout_takes_the_cluster_flag(checkpoints, tmp_path, capsys):
    """backtest --rollout --cluster COLUMN|auto|none (before: no such flag, always auto):
    whole runs keep each run on one side of every cut (checked against the table's run_id),
    rows do not."""
    from scalinglaws.outputs.cli import main

    runs, _ = checkpoints
    table = tmp_path / "runs.csv"
    runs.to_frame().to_csv(table, index=False)
    run = runs.frame["run_id"].to_numpy()
    documents = {}
    for name, flags in (("default", []), ("auto", ["--cluster", "auto"]),
                        ("column", ["--cluster", "run_id"]), ("none", ["--cluster", "None"])):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sl.ScalingLawsWarning)
            assert main(["backtest", str(table), "--rollout", "--cuts", "3", *flags,
                         "--json"]) == 0, name
        documents[name] = json.loads(capsys.readouterr().out)

    def leaked(document):
        records = document["records"]
        count = 0
        for k in range(len(document["folds"])):
            held = {r for r, f in zip(records["row"], records["fold"]) if f == k}
            fitted = set(range(len(run))) - held
            count += len({run[r] for r in held} & {run[r] for r in fitted})
        return count

    for name in ("default", "auto", "column"):
        assert documents[name]["options"]["clusters"] == "run_id", name
        assert leaked(documents[name]) == 0, name
    assert "clusters" not in documents["none"]["options"] and leaked(documents["none"]) > 0
    assert main(["backtest", str(table), "--cluster", "run_id"]) == 2
    assert "--cluster applies with --rollout" in capsys.readouterr().err


def test_replicas_under_one_run_id_are_counted_as_runs_in_the_summary(tmp_path, capsys):
    """`fit seeds.csv --uncertainty --replicates seed`, 108 configurations x 3 seeds with
    run_id the configuration: the summary said 'whole runs (run_id): 324 runs' (the rows)
    and called the scatter a new run's, where it is the replicas' spread."""
    import pandas as pd

    from scalinglaws.outputs.cli import main

    frame = pd.read_csv("datasets/synthetic_chinchilla_sweep.csv")
    rng = np.random.default_rng(0)
    table = pd.DataFrame([dict(run_id=f"config{i}", seed=s, N=r.N, D=r.D, C=r.C,
                               loss=r.loss * np.exp(rng.normal(0, 0.005)))
                          for i, r in frame.iterrows() for s in range(3)])
    table.to_csv(tmp_path / "seeds.csv", index=False)
    runs = sl.load_runs(tmp_path / "seeds.csv")
    law = calibrate(_fit(runs), runs, n_resamples=0, replicates="seed", progress=False)
    configurations = table["run_id"].nunique()
    assert configurations == 108
    assert law.scatter.n_runs == configurations and law.scatter.clusters == "run_id"
    assert law.scatter.dof == 324 - 108  # two degrees of freedom from each triple
    assert (f"whole runs (run_id): {configurations} runs; the scatter is the replicas' "
            "spread" in law.summary())
    capsys.readouterr()
    assert main(["fit", str(tmp_path / "seeds.csv"), "--uncertainty", "--replicates",
                 "seed", "--bootstrap", "0"]) == 0
    printed = capsys.readouterr()
    assert "whole runs (run_id): 108 runs" in printed.out
    assert "replicas such as seeds of one configuration, not checkpoints" in printed.err
