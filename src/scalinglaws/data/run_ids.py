"""Which rows are one training run: the ``run_id`` column read as run numbers.

Rows that share a ``run_id`` are checkpoints of one run, which share its error. The
fitting stage warns about them (:func:`scalinglaws.fit`), and the uncertainty stage
resamples, cuts and scores whole runs (``clusters="auto"``); both ask the one question
here, "does some run id repeat?", so they never disagree.
"""

from __future__ import annotations

import numpy as np

from .._exceptions import InputError
from .._text import counted

__all__ = ["run_numbers", "checkpoint_runs", "without_top_loss"]


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


def without_top_loss(runs, k: int) -> np.ndarray:
    """The rows to keep (booleans) when the ``k`` runs of largest loss go (``k`` >= 1):
    a row is a run, ties going by the earlier row, unless some ``run_id`` repeats
    (:func:`checkpoint_runs`): then every checkpoint of the ``k`` runs whose final loss
    (the loss of the checkpoint of most tokens, the last such row) is largest goes, ties
    going by the run first in the table. Epoch's replication drops 5 runs of largest loss
    from a table of one row per run; ranking checkpoints would drop the earliest
    checkpoints of the smallest runs, which are no outliers.

    Examples
    --------
    >>> import scalinglaws as sl
    >>> runs = sl.load_runs({"N": [1e8, 1e8, 2e8, 2e8], "D": [1e9, 2e9, 1e9, 2e9],
    ...                      "loss": [4.0, 3.4, 3.9, 3.1], "run": ["a", "a", "b", "b"]})
    >>> without_top_loss(runs, 1).tolist()
    [False, False, True, True]
    """
    loss, codes = runs.loss, checkpoint_runs(runs)
    if codes is None:
        if k >= len(loss):
            raise InputError(f"exclude_top_loss: k={k} would drop all {counted(len(loss), 'run')}")
        keep = np.ones(len(loss), dtype=bool)
        keep[np.argsort(-loss, kind="stable")[:k]] = False
        return keep
    n_runs = int(codes.max()) + 1
    if k >= n_runs:
        raise InputError(f"exclude_top_loss: k={k} would drop all {counted(n_runs, 'run')} "
                         f"({len(loss)} rows are their checkpoints)")
    tokens = runs.D if runs.has("D") else np.zeros(len(loss))
    order = np.lexsort((np.arange(len(loss)), tokens, codes))  # by run, then tokens, row
    last = order[np.r_[codes[order][1:] != codes[order][:-1], True]]  # each run's final row
    final = np.empty(n_runs)
    final[codes[last]] = loss[last]
    return ~np.isin(codes, np.argsort(-final, kind="stable")[:k])
