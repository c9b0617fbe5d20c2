"""The bounds of one bootstrap interval from a value's draws: percentile, basic or BCa."""

from __future__ import annotations

import numpy as np

__all__ = ["interval_bounds"]


def interval_bounds(estimate: float, values: np.ndarray, jack, level: float, method: str):
    """``(low, high)`` of one value from its ``values`` over the draws (the non-finite
    left out) and, for BCa, its leave-one-run-out values ``jack``."""
    values = values[np.isfinite(values)]
    if values.size < 2:
        return float("nan"), float("nan")
    alpha = (1 - level) / 2
    if method == "percentile":
        low, high = np.quantile(values, [alpha, 1 - alpha])
    elif method == "basic":
        q_low, q_high = np.quantile(values, [alpha, 1 - alpha])
        low, high = 2 * estimate - q_high, 2 * estimate - q_low
    else:
        jack = jack[np.isfinite(jack)]
        from scipy import stats

        # Efron's bias correction z0 and acceleration a (scipy.stats.bootstrap's BCa)
        z0 = stats.norm.ppf((np.sum(values < estimate) + 0.5 * np.sum(values == estimate))
                            / values.size)
        spread = jack.mean() - jack
        denominator = 6 * np.sum(spread**2) ** 1.5
        accel = np.sum(spread**3) / denominator if denominator > 0 else 0.0
        z = stats.norm.ppf([alpha, 1 - alpha])
        adjusted = stats.norm.cdf(z0 + (z0 + z) / (1 - accel * (z0 + z)))
        low, high = np.quantile(values, np.clip(adjusted, 0, 1))
    return float(low), float(high)
