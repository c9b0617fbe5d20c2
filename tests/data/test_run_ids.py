"""Run numbers of checkpoint rows (data/run_ids.py): the one answer the fit's warning and
the uncertainty stage's clusters="auto" share."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.data.run_ids import checkpoint_runs, run_numbers
from scalinglaws.uncertainty.resampling import resolve_clusters

SWEEP_CSV = Path(__file__).resolve().parents[2] / "datasets" / "synthetic_chinchilla_sweep.csv"


def _runs(ids):
    n = len(ids)
    return sl.load_runs({"N": np.geomspace(1e7, 1e9, n), "D": np.geomspace(1e9, 1e11, n),
                         "loss": np.linspace(3.5, 2.5, n), "run": ids})


def test_a_missing_run_id_is_a_run_of_its_own():
    assert run_numbers(["a", None, "a", None, "b"]).tolist() == [0, 1, 0, 2, 3]


def test_the_fit_warning_and_the_bootstrap_clusters_agree():
    repeated = _runs(["a", "a", None, "b", "b", "c", None, "d"])
    codes = checkpoint_runs(repeated)
    assert codes.tolist() == [0, 0, 1, 2, 2, 3, 4, 5]
    column, clusters = resolve_clusters(repeated)
    assert column == "run_id" and clusters.tolist() == codes.tolist()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sl.fit(repeated, fixed={"E": 1.5})
    said = [str(w.message) for w in caught if "checkpoints" in str(w.message)]
    assert len(said) == 1 and "8 rows are checkpoints of 6 runs" in said[0]
    # every run id once (the missing ones too): no clusters and no warning
    once = _runs(["a", None, "b", "c", None, "d", "e", "f"])
    assert checkpoint_runs(once) is None and resolve_clusters(once) == (None, None)


# ------------------------------------------------------------- checkpoints without a run id


def _olmo_checkpoints(shared_dir, run_column="exp_name"):
    """The reviewer's table (s38): the OLMo ladder's checkpoints with the run column under
    a name the loader does not read as the run id, and the model label (one per N, six runs
    each: it repeats every step, so it names no run)."""
    import pandas as pd

    table = pd.read_csv(shared_dir / "datasets" / "downstream_evals" /
                        "olmo_ladder_checkpoints.csv").query("tokens > 0")
    return table.rename(columns={"run_id": run_column, "c4_en_loss": "loss"})[
        [run_column, "model", "n_params", "step", "tokens", "loss"]]


def test_checkpoints_without_a_run_id_name_the_column_that_tells_the_runs_apart(
        shared_dir, tmp_path):
    """Review s38: 3,848 checkpoints of 33 runs were fitted and bootstrapped as 3,848
    independent runs without a word, though a step column was read."""
    path = tmp_path / "olmo.csv"
    _olmo_checkpoints(shared_dir).to_csv(path, index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = sl.load_runs(path)
    said = [str(w.message) for w in caught if "look like checkpoints" in str(w.message)]
    assert len(said) == 1, [str(w.message) for w in caught]
    assert said[0].startswith(
        f"{path}: the rows look like checkpoints of training runs (column 'step' takes 649 "
        "values at N = 3.17e+09), but no column is read as the run id, so each row counts "
        "as an independent run")
    assert ("Column 'exp_name' holds one N per value and each step once, as a run's name "
            "does: if it names the runs, set the columns option (run_id=exp_name): "
            "columns={\"run_id\": \"exp_name\"} in Python, --columns run_id=exp_name on the "
            "command line") in said[0]
    assert "'model'" not in said[0]  # six runs per model: it repeats every step
    assert checkpoint_runs(runs) is None  # as the warning says: rows, not runs
    # naming the column silences it and makes the rows checkpoints of 33 runs; saying
    # every row is a run of its own silences it too
    for columns in ({"run_id": "exp_name"}, {"run_id": None}):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            named = sl.load_runs(path, columns=columns)
        assert not [w for w in caught if "look like checkpoints" in str(w.message)]
    assert checkpoint_runs(named) is None
    assert int(checkpoint_runs(sl.load_runs(path, columns={"run_id": "exp_name"})).max()) == 32


def _curves(**renames):
    """48 runs x 4 checkpoints (synthetic_training_curves), the run column named as
    ``renames`` says, as text."""
    from scalinglaws.laws.synthetic import synthetic_training_curves

    frame = synthetic_training_curves(n_checkpoints=4, rng=0).frame.drop(columns="horizon")
    frame["run_id"] = [f"run-{code}" for code in frame["run_id"]]
    return frame.rename(columns=renames)


def test_an_iteration_column_is_a_step_and_several_candidates_are_named():
    frame = _curves(run_id="experiment", step="iteration")
    frame["source_file"] = frame["experiment"] + ".csv"
    with pytest.warns(sl.ScalingLawsWarning, match=r"look like checkpoints of training runs "
                      r"\(column 'iteration' takes 4 values at N = 7e\+07\).*Columns "
                      r"'experiment' and 'source_file' each hold one N per value and each "
                      r"step once, as a run's name does: if one names the runs, set the "
                      r"columns option \(run_id=experiment\)"):
        sl.load_runs(frame)


def test_checkpoints_with_no_column_naming_the_runs_say_to_add_one():
    from scalinglaws.laws.synthetic import synthetic_training_curves

    frame = synthetic_training_curves(n_checkpoints=30, horizons=(20.0,), rng=0).frame
    frame = frame.drop(columns=["run_id", "horizon"])  # one run per N, told apart by N alone
    with pytest.warns(sl.ScalingLawsWarning, match=r"column 'step' takes 30 values at N = "
                      r"7e\+07.*No column names the runs: add one naming each run and set "
                      r"the columns option \(run_id=<column>\)"):
        sl.load_runs(frame)


def test_many_rows_of_one_n_in_a_text_column_without_steps_look_like_checkpoints():
    frame = _curves(run_id="exp_name")
    frame = frame.drop(columns="step")
    # four rows per run: an ordinary sweep trains a model at as many token counts
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sl.load_runs(frame)
    from scalinglaws.laws.synthetic import synthetic_training_curves

    many = synthetic_training_curves(n_checkpoints=25, rng=0).frame.drop(
        columns=["step", "horizon"])
    many["exp_name"] = [f"run-{code}" for code in many.pop("run_id")]
    with pytest.warns(sl.ScalingLawsWarning, match=r"look like checkpoints of training runs "
                      r"\(column 'exp_name' holds 48 values, each at one N with a median of 25 "
                      r"rows of distinct D\).*set the columns option \(run_id=exp_name\)"):
        sl.load_runs(many)


def _grid_sweep():
    """An IsoFLOP grid: 8 sizes, each trained at 5 compute budgets (5 token counts)."""
    import pandas as pd

    N, C = np.meshgrid(np.geomspace(2e7, 8e8, 8), [1e18, 3e18, 1e19, 3e19, 1e20])
    D = C / (6 * N)
    loss = 1.82 + 482.0 / N**0.348 + 2085.0 / D**0.366
    return pd.DataFrame({"N": N.ravel(), "D": D.ravel(), "loss": loss.ravel()})


@pytest.mark.parametrize("extra", [
    {"model": lambda frame: [f"{n / 1e6:.0f}M" for n in frame["N"]]},  # 5 rows per label
    {"name": lambda frame: [f"run{i}" for i in range(len(frame))],
     "_step": lambda frame: 1000 + 0 * frame["N"]},
], ids=["model label", "W&B summary"])
def test_an_ordinary_sweep_with_labels_is_quiet(extra):
    """A sweep names its models (one label per N, at several D) and W&B's summary export
    names each run once: neither is a table of checkpoints."""
    frame = _grid_sweep()
    for column, make in extra.items():
        frame[column] = make(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sl.load_runs(frame)


def test_a_sweep_with_each_runs_final_step_beside_a_model_label_is_ambiguous():
    """What the loader cannot tell: a sweep listing each run's final step (D rising with
    it) beside one label per size reads exactly as checkpoints of one run per label. It
    says so; run_id=None (every row a run of its own) is the answer that silences it."""
    frame = _grid_sweep().assign(step=lambda f: (f["D"] / 2**20).round(),
                                 model=lambda f: [f"{n / 1e6:.0f}M" for n in f["N"]])
    with pytest.warns(sl.ScalingLawsWarning, match=r"look like checkpoints.*Column 'model'"):
        sl.load_runs(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sl.load_runs(frame, columns={"run_id": None})


def test_a_column_of_lists_is_no_run_label(tmp_path):
    """Review s38: the checkpoint check counted a JSON export's list-valued field (W&B
    tags) and load_runs raised a bare TypeError (unhashable type: 'list') on tables it
    read before."""
    import pandas as pd

    frame = pd.read_csv(SWEEP_CSV)
    frame["tags"] = [["x", "y"]] * len(frame)
    frame["config"] = [{"lr": 1e-3}] * len(frame)
    path = tmp_path / "runs.jsonl"
    frame.to_json(path, orient="records", lines=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(sl.load_runs(frame)) == len(sl.load_runs(path)) == len(frame)
