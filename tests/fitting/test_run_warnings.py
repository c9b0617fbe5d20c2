"""What fit says about the runs themselves (fitting/run_warnings.py): here, rows that
share a run id are checkpoints of one run, or replicas (seeds) of one configuration."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl


def _seeds(n_seeds=3):
    """The bundled sweep's 108 configurations, each trained with ``n_seeds`` seeds: run_id
    names the configuration, so it repeats at the same N and D."""
    frame = pd.read_csv("datasets/synthetic_chinchilla_sweep.csv")
    rng = np.random.default_rng(0)
    rows = [dict(run_id=f"config{i}", seed=s, N=r.N, D=r.D, C=r.C,
                 loss=r.loss * np.exp(rng.normal(0, 0.005)))
            for i, r in frame.iterrows() for s in range(n_seeds)]
    return pd.DataFrame(rows)


def test_seeds_of_one_configuration_are_called_replicas_not_checkpoints():
    table = _seeds()
    with pytest.warns(sl.ScalingLawsWarning, match="run_id") as caught:
        sl.fit(table)
    said = [str(w.message) for w in caught if "run_id" in str(w.message)]
    assert len(said) == 1
    assert ("324 rows share their run_id with rows at the same inputs (108 runs): replicas "
            "such as seeds of one configuration, not checkpoints") in said[0]
    assert "are checkpoints" not in said[0]


def test_checkpoints_are_still_called_checkpoints():
    # one run id whose rows differ in tokens, among replicas: the table holds checkpoints
    table = _seeds().assign(D=lambda f: f["D"] * np.where(f["run_id"] == "config0",
                                                        1 + f["seed"], 1))
    table = table.assign(C=6 * table["N"] * table["D"])
    with pytest.warns(sl.ScalingLawsWarning, match=r"324 rows are checkpoints of 108 runs "
                                                   r"\(run_id repeats\)"):
        sl.fit(table)


def test_a_grouped_fit_says_what_a_single_fit_says_about_its_runs():
    """Stop 36's list: a grouped fit named diverged runs and misfits but not checkpoints or
    a floor in other units. Seeds of each configuration, in two recipes, one of them
    logged as perplexities (the floor-units case of test_estimator)."""
    seeds = _seeds(2)
    seeds = seeds[np.exp(seeds["loss"]) < 14.4].reset_index(drop=True)  # the larger runs
    table = pd.concat([seeds.assign(recipe="nats"),
                       seeds.assign(recipe="perplexity", loss=np.exp(seeds["loss"]))],
                      ignore_index=True)
    with pytest.warns(sl.ScalingLawsWarning) as caught:
        joint = sl.fit(table, groups="recipe")
    said = [str(w.message) for w in caught]
    replicas = [text for text in said if "share their run_id" in text]
    assert len(replicas) == 1 and all(w.filename == __file__ for w in caught)
    # the grouped fit's own bootstrap, and no calibrate (it takes single fits)
    assert "scalinglaws.bootstrap_groups resamples whole runs" in replicas[0]
    assert "calibrate" not in replicas[0]
    floor = [text for text in said if "fitted irreducible loss" in text]
    e = joint["perplexity"].params["E"]
    assert e > 3.0 > joint["nats"].params["E"]  # the premise: only one group is implausible
    assert floor == [f"<DataFrame>: the fitted irreducible loss E (nats per token) of 1 of 2 "
                     f"groups of column 'recipe' ('perplexity' {e:.4g}) is above 3, beyond every "
                     f"published sweep's (1.69-2.4; each has runs below 2.75): is the loss column "
                     f"a perplexity (set loss_units to 'perplexity'), bits, or a loss of another "
                     f"kind? If it is right, silence this with warnings.filterwarnings('ignore', "
                     f"category=scalinglaws.UnitsWarning)"]
    assert [w.category for w in caught if "irreducible" in str(w.message)] == [sl.UnitsWarning]


def test_groups_that_number_their_runs_alike_are_not_checkpoints():
    """Review s37: each recipe names its runs config0, config1, ... (every id once within
    its recipe): the ids repeat across groups only, and the grouped fit called them seeds."""
    frame = pd.read_csv("datasets/synthetic_chinchilla_sweep.csv")
    table = pd.concat([frame.assign(run_id=[f"config{i}" for i in range(len(frame))],
                                    recipe=name, loss=frame["loss"] * scale)
                       for name, scale in (("a", 1.0), ("b", 1.01))], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sl.ScalingLawsWarning)
        sl.fit(table, groups="recipe")


def _labelled_by_model(column, n_checkpoints=4, step=False):
    """48 runs x ``n_checkpoints`` (synthetic_training_curves), the run named in ``column``
    (one N per value), without a run_id and, unless ``step``, without a step column."""
    from scalinglaws.laws.synthetic import synthetic_training_curves

    frame = synthetic_training_curves(n_checkpoints=n_checkpoints, rng=0).frame
    frame[column] = [f"run-{code}" for code in frame.pop("run_id")]
    return frame.drop(columns=["horizon"] + ([] if step else ["step"]))


def test_a_group_column_holding_one_n_per_value_is_not_called_separate_experiments():
    """Review s38: 'experiment' naming each run (one N per value, several rows each) was
    called separate experiments to fit with groups='experiment', each a law of one N."""
    with pytest.warns(sl.ScalingLawsWarning) as caught:
        sl.fit(_labelled_by_model("experiment"))
    said = [str(w.message) for w in caught if "'experiment'" in str(w.message)]
    assert len(said) == 1, said
    assert "groups=" not in said[0] and "--group" not in said[0]
    assert said[0].startswith(
        "<DataFrame>: column 'experiment' holds 48 values in 192 rows, each value at a "
        "single N: it names runs or models, not separate experiments to fit apart (a law of N "
        "and D fitted to one value would see one N).")
    assert ("If its rows are checkpoints of one run per value, set the columns option "
            "(run_id=experiment): columns={\"run_id\": \"experiment\"} in Python, --columns "
            "run_id=experiment on the command line") in said[0]
    # the loader already names it when the rows look like checkpoints (a step column):
    # one warning about the column, the loader's
    with pytest.warns(sl.ScalingLawsWarning) as caught:
        sl.fit(_labelled_by_model("experiment", step=True))
    said = [str(w.message) for w in caught if "'experiment'" in str(w.message)]
    assert len(said) == 1 and "look like checkpoints" in said[0], said
