"""What fit says about the runs themselves (fitting/run_warnings.py): here, rows that
share a run id are checkpoints of one run, or replicas (seeds) of one configuration."""

from __future__ import annotations

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
    table = _seeds(2)
    table = table[np.exp(table["loss"]) < 14.4].reset_index(drop=True)  # the larger runs
    table["recipe"] = np.where(np.arange(len(table)) % 2 == 0, "nats", "perplexity")
    table.loc[table["recipe"] == "perplexity", "loss"] = np.exp(
        table.loc[table["recipe"] == "perplexity", "loss"])
    with pytest.warns(sl.ScalingLawsWarning) as caught:
        joint = sl.fit(table, groups="recipe")
    said = [str(w.message) for w in caught]
    replicas = [text for text in said if "share their run_id" in text]
    assert len(replicas) == 1 and all(w.filename == __file__ for w in caught)
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
