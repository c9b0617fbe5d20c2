"""The fingerprint of a table's data: a stable hash a fit records, to tell the data it was
made on (:meth:`~scalinglaws.data.runs.Runs.fingerprint`, the curves', the task tables')."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["fingerprint_arrays"]


def fingerprint_arrays(named_arrays: Iterable[tuple[str, Any]]) -> str:
    """``"sha256:<hex>"`` of ``(name, array)`` pairs: for each, the UTF-8 text
    ``"<name>:<count>\\n"`` then the values as little-endian float64 bytes."""
    digest = hashlib.sha256()
    for name, values in named_arrays:
        values = np.ascontiguousarray(values, dtype="<f8")
        digest.update(f"{name}:{len(values)}\n".encode())
        digest.update(values.tobytes())
    return "sha256:" + digest.hexdigest()
