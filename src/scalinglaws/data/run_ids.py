"""Which rows are one training run: the ``run_id`` column read as run numbers.

Rows that share a ``run_id`` are checkpoints of one run, which share its error. The
fitting stage warns about them (:func:`scalinglaws.fit`), and the uncertainty stage
resamples, cuts and scores whole runs (``clusters="auto"``); both ask the one question
here, "does some run id repeat?", so they never disagree.
"""

from __future__ import annotations

import numpy as np

__all__ = ["run_numbers", "checkpoint_runs"]


def run_numbers(values) -> np.ndarray:
    """Codes ``0..k-1`` of ``values`` by first appearance; a missing value is a run of its
    own (one code each).

    Examples
    --------
    >>> run_numbers(["a", "b", None, "a", None]).tolist()
    [0, 1, 2, 0, 3]
    """
    import pandas as pd

    codes = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)[0].copy()
    missing = codes < 0
    if missing.any():
        codes[missing] = codes.max(initial=-1) + 1 + np.arange(np.count_nonzero(missing))
    return pd.factorize(codes)[0]


def checkpoint_runs(runs) -> np.ndarray | None:
    """Each row's run number when some ``run_id`` repeats (the rows are checkpoints of
    fewer runs), else None (no ``run_id`` column, or every run id once).

    Examples
    --------
    >>> import scalinglaws as sl
    >>> runs = sl.load_runs({"N": [1e8, 1e8, 2e8], "D": [1e9, 2e9, 4e9],
    ...                      "loss": [3.2, 3.0, 2.8], "run": ["a", "a", "b"]})
    >>> checkpoint_runs(runs).tolist()
    [0, 0, 1]
    """
    if not runs.has("run_id"):
        return None
    codes = run_numbers(runs.frame["run_id"].to_numpy())
    if codes.size == 0 or codes.max() + 1 == codes.size:
        return None
    return codes
