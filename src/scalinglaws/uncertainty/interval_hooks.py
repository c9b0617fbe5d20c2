"""The interval hooks of back-tests and rollouts: call a user's hook, check its bounds and
record what kind of interval it returned (so coverage pools one kind and level per hook).

A hook is ``hook(fit, runs_train, inputs)`` returning ``(low, high)`` or a result with
``low``, ``high`` and what they are (a ``Prediction``, ``CalibratedFit.interval(...)``, the
bootstrap's ``Interval``/``Estimate``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .._exceptions import InputError
from .._validation import FrozenDict

__all__ = ["check_interval_bounds", "check_intervals", "check_same_description",
           "described_interval_bounds"]


def check_interval_bounds(hook, fit_result, train, inputs, n_test, where, name="interval"):
    """Call an interval ``hook`` and return its ``(low, high)`` as arrays of ``n_test``;
    :class:`InputError` (naming ``name`` and the fold ``where``) for a bad return."""
    low, high, _ = described_interval_bounds(hook, fit_result, train, inputs, n_test, where,
                                             name)
    return low, high


def _description(returned) -> FrozenDict | None:
    """What a returned ``Prediction`` (``interval``, ``confidence_level``, ``method``) or
    ``IntervalBounds`` (``kind``...) says its interval is; None if neither kind nor level."""
    kind = next((k for k in (getattr(returned, "interval", None), getattr(returned, "kind", None))
                 if isinstance(k, str) and k), None)
    level, method = getattr(returned, "confidence_level", None), getattr(returned, "method", None)
    level = float(level) if isinstance(level, (int, float)) and not isinstance(level, bool) \
        else None
    if kind is None and level is None:
        return None
    return FrozenDict({"interval": None if kind is None else str(kind), "confidence_level": level,
                       "method": str(method) if isinstance(method, str) and method else None})


def described_interval_bounds(hook, fit_result, train, inputs, n_test, where,
                              name="interval"):
    """:func:`check_interval_bounds` and what the interval is: ``(low, high, description)``.
    A hook returns ``(low, high)`` (description None) or a result with ``low``, ``high`` and
    what they are: ``predict(fit, draws=..., **inputs)``, ``CalibratedFit.interval(...)``."""
    try:
        returned = hook(fit_result, train, inputs)
        # a described result (a Prediction, or the bootstrap's Interval/Estimate, which
        # are tuples too) before a bare (low, high) pair
        if hasattr(returned, "low") and hasattr(returned, "high"):
            low, high, description = returned.low, returned.high, _description(returned)
        else:
            (low, high), description = returned, None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"`{name}` must return a (low, high) pair of arrays, or a result "
                         f"with low and high such as a Prediction ({exc})") from None
    if low is None or high is None:
        raise InputError(f"`{name}` returned no interval for fold {where} (low or high is "
                         "None: a prediction made without draws or a kind of interval?)")
    try:
        low = np.broadcast_to(np.asarray(low, dtype=float), (n_test,)).copy()
        high = np.broadcast_to(np.asarray(high, dtype=float), (n_test,)).copy()
    except ValueError:
        raise InputError(f"`{name}` returned bounds of shapes {np.shape(low)} and "
                         f"{np.shape(high)} for the {n_test} held-out runs of fold {where}") from None
    if np.any(low > high):
        raise InputError(f"`{name}` returned low > high for fold {where}")
    return low, high, description


def check_same_description(described, before, name: str, where) -> None:
    """Refuse a hook whose interval changed kind or level between folds: coverage pools
    one kind and level of interval per hook."""
    if described != before:
        said = [", ".join(f"{key} {value!r}" for key, value in d.items()) if d
                else "bare bounds" for d in (described, before)]
        raise InputError(f"`{name}` returned {said[0]} for fold {where} but {said[1]} before: "
                         "coverage needs one kind and level of interval per hook")


def check_intervals(intervals) -> dict:
    if intervals is None:
        return {}
    if not isinstance(intervals, Mapping):
        raise InputError("`intervals` must be a dict {kind: hook(fit, runs_train, inputs) -> "
                         f"(low, high)}}, got {type(intervals).__name__}")
    for kind, hook in intervals.items():
        if not isinstance(kind, str) or not kind:
            raise InputError(f"`intervals` keys must be non-empty strings, got {kind!r}")
        if not callable(hook):
            raise InputError(f"`intervals[{kind!r}]` must be callable, got {type(hook).__name__}")
    return dict(intervals)
