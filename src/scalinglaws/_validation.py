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
