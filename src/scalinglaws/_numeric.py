"""Small vectorised numerical helpers shared by several stages.

:func:`minimise_1d` minimises many one-dimensional problems at once (a dense grid
brackets each global minimum, a golden section narrows it, finite-difference Newton
steps finish); :func:`bisect_decreasing` solves many ``f(x) = target`` at once.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["minimise_1d", "bisect_decreasing"]

_N_GRID = 401  # points of the dense grid that brackets each optimum
_N_GOLDEN = 30  # golden-section steps: shrink the 2-cell bracket 0.618**30 ~ 5e-7-fold
_N_NEWTON = 2  # finite-difference Newton steps after the golden section
_FD_STEP = 1e-4  # step of the Newton finite differences
_N_BISECT = 64  # bisection steps (width / 2**64 is below float resolution)
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def minimise_1d(objective, lower, upper, *, polish=True):
    """Minimise ``objective`` elementwise over ``[lower, upper]``, all problems at once.

    ``objective`` maps ``x`` of shape ``S + (j,)`` to values of the same shape (``lower``
    and ``upper`` have shape ``S``). A dense grid brackets the minimum (so a non-convex
    law still gives its global minimum on the grid), a golden section narrows the
    bracket, and finite-difference Newton steps finish: the golden section alone stops
    near ``sqrt(eps)`` in ``x`` because the loss is flat at its minimum, while the
    Newton step uses the slope, which is accurate to ``eps / step``.

    Returns ``x`` (nan where no grid point is finite) and a flag marking minima on the
    first or last grid point (the search range, not the law, decided them).
    """
    fraction = np.linspace(0.0, 1.0, _N_GRID)
    grid = lower[..., None] + (upper - lower)[..., None] * fraction
    values = objective(grid)
    values = np.where(np.isfinite(values), values, np.inf)
    best = np.argmin(values, axis=-1)
    found = np.isfinite(np.take_along_axis(values, best[..., None], -1)[..., 0])
    at_edge = found & ((best == 0) | (best == _N_GRID - 1))

    def f(x):
        value = objective(x[..., None])[..., 0]
        return np.where(np.isfinite(value), value, np.inf)

    a = np.take_along_axis(grid, np.clip(best - 1, 0, _N_GRID - 1)[..., None], -1)[..., 0]
    b = np.take_along_axis(grid, np.clip(best + 1, 0, _N_GRID - 1)[..., None], -1)[..., 0]
    c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(_N_GOLDEN):
        keep_left = fc < fd  # the minimum lies in [a, d]
        a, b = np.where(keep_left, a, c), np.where(keep_left, d, b)
        new = np.where(keep_left, b - _GOLDEN * (b - a), a + _GOLDEN * (b - a))
        f_new = f(new)
        c, d, fc, fd = (np.where(keep_left, new, d), np.where(keep_left, c, new),
                        np.where(keep_left, f_new, fd), np.where(keep_left, fc, f_new))
    x = 0.5 * (a + b)
    if polish:
        offsets = np.array([-_FD_STEP, 0.0, _FD_STEP])
        for _ in range(_N_NEWTON):
            with np.errstate(all="ignore"):
                minus, centre, plus = np.moveaxis(objective(x[..., None] + offsets), -1, 0)
                slope = (plus - minus) / (2 * _FD_STEP)
                curvature = (plus - 2 * centre + minus) / _FD_STEP ** 2
                step = -slope / curvature
            # the golden bracket already holds the minimum to ~1e-7: a longer step is noise
            usable = np.isfinite(step) & (curvature > 0) & (np.abs(step) < 1e-3)
            x = np.clip(x + np.where(usable, step, 0.0), lower, upper)
    return np.where(found, x, np.nan), at_edge


def bisect_decreasing(function, lower, upper, target, unreachable=np.nan):
    """Solve ``function(x) = target`` for a decreasing function between ``lower`` and ``upper``.

    Returns the solution (``unreachable`` where ``function(upper) > target``: not reached
    in the range) and a flag where ``function(lower) <= target`` (the answer is at or below
    ``lower``; ``lower`` is returned).
    """
    low, high = np.array(lower, dtype=float), np.array(upper, dtype=float)
    reachable = function(high) <= target
    below_range = function(low) <= target
    for _ in range(_N_BISECT):
        middle = 0.5 * (low + high)
        reached = function(middle) <= target
        low, high = np.where(reached, low, middle), np.where(reached, middle, high)
    x = np.where(below_range, lower, 0.5 * (low + high))
    return np.where(reachable, x, unreachable), below_range & reachable
