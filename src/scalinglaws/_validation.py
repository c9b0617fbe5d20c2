"""Small checks and conversions shared by the modules that validate arguments or emit JSON."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._exceptions import InputError


def check_confidence_level(value: Any) -> float:
    """``value`` as a float in (0, 1), else :class:`InputError` naming ``confidence_level``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InputError(f"`confidence_level` must be a number in (0, 1), got {value!r}")
    if not 0 < float(value) < 1:
        raise InputError(f"`confidence_level` must be in (0, 1), got {value!r}")
    return float(value)


def to_plain(value: Any) -> Any:
    """Numpy/pandas values to JSON-safe plain types; non-finite floats become None."""
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, (np.ndarray, np.generic)) or hasattr(value, "tolist"):
        return to_plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def check_ratio_bounds(bounds) -> tuple[float, float]:
    """``tokens_per_param_bounds`` as ``(low, high)`` with ``0 < low < high < inf``."""
    try:
        low, high = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise InputError("`tokens_per_param_bounds` must be a (low, high) pair, "
                         f"got {bounds!r}") from None
    if not (0 < low < high < np.inf):
        raise InputError("`tokens_per_param_bounds` must satisfy 0 < low < high < inf, "
                         f"got {bounds!r}")
    return low, high


def check_int(name: str, value: Any, minimum: int = 0) -> int:
    """``value`` as an int ``>= minimum`` (bools refused), else :class:`InputError` naming ``name``."""
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral)
            or value < minimum):
        raise InputError(f"`{name}` must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_positive(name: str, value: Any) -> float:
    """``value`` as a finite float ``> 0`` (bools refused), else :class:`InputError`."""
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or value <= 0):
        raise InputError(f"`{name}` must be a finite positive number, got {value!r}")
    return float(value)


def check_nonnegative(name: str, value: Any) -> float:
    """``value`` as a finite float ``>= 0`` (bools refused), else :class:`InputError`."""
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or value < 0):
        raise InputError(f"`{name}` must be a finite number >= 0, got {value!r}")
    return float(value)


def check_bool(name: str, value: Any) -> bool:
    """``value`` as a bool (Python or numpy), else :class:`InputError` naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(f"`{name}` must be True or False, got {value!r}")
    return bool(value)
