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
