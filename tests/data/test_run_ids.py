"""Run numbers of checkpoint rows (data/run_ids.py): the one answer the fit's warning and
the uncertainty stage's clusters="auto" share."""

from __future__ import annotations

import warnings

import numpy as np

import scalinglaws as sl
from scalinglaws.data.run_ids import checkpoint_runs, run_numbers
from scalinglaws.uncertainty.resampling import resolve_clusters


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
