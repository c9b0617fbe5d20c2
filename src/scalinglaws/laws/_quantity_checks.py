"""The argument check of the laws stage's accounting functions, and their return rule.

:func:`check_quantity` turns a scalar or array-like into a float64 array after checking it
(finite, positive or non-negative, whole where asked), raising
:class:`~scalinglaws.InputError` naming the argument; :func:`as_output` gives a Python
float for a 0-d result. Used by :mod:`.flops`, :mod:`.critical_batch`,
:mod:`.kaplan_counting`, :mod:`.gradient_noise` and the analysis stage's cost (all
import them from :mod:`.flops` or here).
"""

from __future__ import annotations

import numpy as np

from .._exceptions import InputError

__all__ = ["as_output", "check_quantity"]


def check_quantity(name, value, *, integer=False, allow_zero=False):
    """``value`` as a float64 array after checking it (finite, > 0 or >= 0, whole).

    Shared by the laws stage (:mod:`.flops`, :mod:`.kaplan`, :mod:`.gradient_noise`...);
    raises :class:`~scalinglaws.InputError` naming ``name``.
    """
    if isinstance(value, (bool, np.bool_)) or isinstance(value, (str, bytes)):
        raise InputError(f"{name} must be a number, got {value!r}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number or an array of numbers, got {value!r}") from None
    if arr.size == 0:
        raise InputError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} must be finite, got {value!r}")
    if allow_zero:
        if np.any(arr < 0):
            raise InputError(f"{name} must be non-negative, got {value!r}")
    elif np.any(arr <= 0):
        raise InputError(f"{name} must be positive, got {value!r}")
    if integer and np.any(arr != np.round(arr)):
        raise InputError(f"{name} must be a whole number, got {value!r}")
    return arr


def as_output(x):
    """A Python float for 0-d results, the array otherwise."""
    x = np.asarray(x, dtype=float)
    return float(x) if x.ndim == 0 else x
