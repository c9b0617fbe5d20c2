"""Where a rollout cuts the runs: :func:`rollout_cuts` (its rule is told in
:mod:`scalinglaws.uncertainty.rollout`'s notes), the levels of an axis and the matching
of evenly spaced targets to distinct levels."""

from __future__ import annotations

import numpy as np

from .._exceptions import InputError
from .._text import counted

__all__ = ["rollout_cuts"]


def _levels(values: np.ndarray, rtol: float) -> np.ndarray:
    """Sorted distinct values; a value within ``rtol`` (relative) of the level it follows
    joins that level, which keeps its largest member."""
    ordered = np.sort(values)
    levels = [ordered[0]]
    start = ordered[0]
    for value in ordered[1:]:
        if value <= start * (1 + rtol):
            levels[-1] = value
        else:
            levels.append(value)
            start = value
    return np.array(levels)


def rollout_cuts(values, *, n_cuts: int = 5, min_train: int = 10, min_test: int = 1,
                 rtol: float = 1e-6) -> np.ndarray:
    """The cuts of a rollout along ``values`` (see the module notes for the rule).

    Parameters
    ----------
    values : array of positive float
        The axis value of every run.
    n_cuts : int
        Most cuts returned.
    min_train, min_test : int
        Fewest runs at or below a cut, and above it.
    rtol : float
        Values within this relative distance are one level (never split).

    Returns
    -------
    ndarray
        Increasing cut values (each the largest value of its level).

    Examples
    --------
    >>> rollout_cuts([1, 1, 2, 2, 4, 4, 8, 8, 16], n_cuts=2, min_train=4)
    array([2., 8.])
    """
    values = np.asarray(values, dtype=float).ravel()
    if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise InputError("`values` must be finite positive numbers")
    for name, value, least in (("n_cuts", n_cuts, 1), ("min_train", min_train, 1),
                               ("min_test", min_test, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise InputError(f"`{name}` must be an integer >= {least}, got {value!r}")
    if isinstance(rtol, bool) or not (isinstance(rtol, (int, float)) and 0 <= rtol < 1):
        raise InputError(f"`rtol` must be a number in [0, 1), got {rtol!r}")
    levels = _levels(values, float(rtol))
    n_below = np.searchsorted(np.sort(values), levels, side="right")
    admissible = levels[(n_below >= min_train) & (values.size - n_below >= min_test)]
    if admissible.size == 0:
        raise InputError(f"no cut leaves {counted(min_train, 'run')} to fit and {min_test} to "
                         "predict: "
                         f"there are {counted(values.size, 'run')} on "
                         f"{counted(levels.size, 'distinct level')}")
    if admissible.size <= n_cuts:
        return admissible
    targets = np.linspace(np.log(admissible[0]), np.log(admissible[-1]), n_cuts)
    return admissible[_matched_levels(np.log(admissible), targets)]


_TIE = 1e-9  # log distances (relative gaps of the values) closer than this are equal


def _matched_levels(levels: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Indices of distinct ``levels`` (sorted logs), one per target (sorted, no more than
    the levels), in order, with the least total distance ``sum |levels[j_i] - targets[i]|``.

    The nearest level of each target where those are distinct (the rule as it was); where
    two targets are nearest the same level, the next best distinct one, so a rollout asked
    for 5 folds among 6 levels gets 5 (taking the nearest of each and merging repeats, a
    target at the geometric midpoint of two levels, as 5 targets over 6 even levels are,
    went to either by the last bits of C, and a fold came and went with them). Totals
    within :data:`_TIE` of each other count as equal, the lower levels going first."""
    k, m = targets.size, levels.size
    distance = np.abs(levels[None, :] - targets[:, None])
    cost = np.full((k, m), np.inf)
    back = np.zeros((k, m), dtype=int)
    cost[0] = distance[0]
    for i in range(1, k):
        best, arg = np.inf, -1
        for j in range(i, m - (k - 1 - i)):
            if cost[i - 1, j - 1] < best - _TIE:  # the best predecessor below j
                best, arg = cost[i - 1, j - 1], j - 1
            cost[i, j], back[i, j] = best + distance[i, j], arg
    last, total = -1, np.inf
    for j in range(k - 1, m):
        if cost[k - 1, j] < total - _TIE:
            last, total = j, cost[k - 1, j]
    chosen = [last]
    for i in range(k - 1, 0, -1):
        chosen.append(back[i, chosen[-1]])
    return np.array(chosen[::-1])
