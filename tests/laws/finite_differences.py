"""The finite-difference check every analytic Jacobian of a law is held to (test_forms,
test_datablations, test_task_laws, test_custom, test_curve_laws)."""

from __future__ import annotations

import numpy as np


def central_differences(values, theta: np.ndarray, step: float = 1e-6) -> np.ndarray:
    """Central differences ``(p, n)`` of ``values(theta)[0]`` with respect to each internal
    parameter at row 0 of ``theta`` ``(1, p)``, each step ``step * max(1, |theta_i|)``."""
    columns = []
    for i in range(theta.shape[1]):
        h = step * max(1.0, abs(theta[0, i]))
        up, down = theta.copy(), theta.copy()
        up[0, i] += h
        down[0, i] -= h
        columns.append((values(up) - values(down))[0] / (2 * h))
    return np.array(columns)
