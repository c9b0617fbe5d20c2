"""Identifiability of a fit: how well the runs separate the free parameters."""

from __future__ import annotations

import numpy as np

from .engine import information_diagnostics

__all__ = ["identifiability", "ILL_CONDITIONED"]

ILL_CONDITIONED = 1e8  # condition number of the scaled J J^T beyond which we warn


def identifiability(jac: np.ndarray, names: tuple) -> dict:
    """How well the runs separate the free parameters: condition number of the
    correlation-scaled design ``J J^T`` and the strongest correlation it implies."""
    info, condition = information_diagnostics(jac, np.ones(jac.shape[1]))
    out = {"condition_number": condition, "most_correlated": None, "identifiable": True}
    if len(names) > 1:
        scale = np.sqrt(np.clip(np.diag(info), 1e-300, None))
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            cov = np.linalg.pinv(info / np.outer(scale, scale), hermitian=True)
            sd = np.sqrt(np.clip(np.abs(np.diag(cov)), 1e-300, None))
            corr = np.clip(cov / np.outer(sd, sd), -1.0, 1.0)
        np.fill_diagonal(corr, 0.0)
        i, j = np.unravel_index(np.argmax(np.abs(np.nan_to_num(corr))), corr.shape)
        out["most_correlated"] = {"params": [names[i], names[j]], "correlation": float(corr[i, j])}
    out["identifiable"] = bool(condition <= ILL_CONDITIONED)
    return out
