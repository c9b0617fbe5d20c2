r"""Allocation intervals of a restricted fit: widened to the fit without the restriction.

A fit with tied or fixed parameters keeps its restriction in every bootstrap refit, so
the percentiles of anything allocated from its draws hold the restriction as exact.
``preset="extrapolate"`` ties :math:`\beta = \alpha`, which fixes the compute-optimal
exponents at :math:`a = b = 0.5`: every draw's :math:`N_{opt}` grows as :math:`C^{0.5}`,
and where the truth's exponents differ, even slightly, the interval drifts away from the
true :math:`N_{opt}` as the budget grows (README, "Tied fits and the compute-optimal
allocation": from 33 of 40 sweeps at 1e20 FLOP to 0 of 40 at 1e23, with the truth's
:math:`a = 0.513`).

A calibrated law (:func:`scalinglaws.calibrate`) carries the same law fitted without the
restriction (:class:`~scalinglaws.uncertainty.delta.UnrestrictedLaw`, with its
delta-method covariance). An allocated quantity's interval is then the restricted
percentiles widened, on each side where it is wider, to the unrestricted fit's
delta-method interval (:math:`\log q_u \pm z\, s_u`, the gradient of :math:`\log q` by
central differences in the internal parameters): the runs' own evidence on the
exponents is the free fit's. Hausman's squared-bias allowance, which the loss's
confidence intervals use (:mod:`scalinglaws.uncertainty.delta`), is too weak here: the
contrast between the two fits grows with the budget no faster than its own noise, so it
is clipped to zero in most sweeps (11 of 40 at 1e23 FLOP; an unclipped one, 28 of 40).
Without a calibrated law the intervals stay the restricted percentiles and their method
says so (``"bootstrap percentile (tie bias excluded)"``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ..uncertainty.delta import delta_variance, normal_quantile, restriction_kind
from ._common import shaped

__all__ = ["restricted_intervals"]

# relative step of the central differences in the internal parameters (log A, log B,
# alpha...): the allocated quantities are smooth there, and 1e-5 keeps the truncation
# (h^2) and rounding (eps / h) errors of a log-quantity's gradient near 1e-10
_STEP = 1e-5


def restricted_intervals(fit, evaluate: Callable[[np.ndarray], Mapping[str, np.ndarray]],
                         intervals: Mapping, level: float) -> tuple[dict, str]:
    """The percentile ``intervals`` of an allocation from ``fit``'s draws, widened to the
    unrestricted fit's delta-method interval where ``fit`` is a calibrated restricted law,
    and the intervals' method (module notes).

    ``evaluate(rows)`` returns every quantity of ``intervals`` (positive; NaN or inf where
    a row has none) at public parameter vectors ``rows`` ``(m, p)``: an array ``(m, n)``
    per quantity, one column per element of the allocation in the order of its flattened
    intervals. Returns ``(intervals, method)``; ``method`` is ``""`` without intervals.
    """
    if not intervals:
        return dict(intervals), ""
    restricted = getattr(fit, "fit", fit)  # a CalibratedFit holds the restricted FitResult
    tied = dict(getattr(restricted, "tied", None) or {})
    fixed = dict(getattr(restricted, "fixed", None) or {})
    if not (tied or fixed):
        return dict(intervals), "bootstrap percentile"
    law = getattr(fit, "unrestricted", None)
    if law is None:
        return dict(intervals), (f"bootstrap percentile ({restriction_kind(tied, fixed)} "
                                 "bias excluded)")
    form = restricted.form
    point = form.to_internal(form.params_vector(law.params))
    p = point.size
    steps = _STEP * (1.0 + np.abs(point))
    shifts = np.eye(p) * steps[:, None]
    rows = np.vstack([point[None, :], point + shifts, point - shifts])
    with np.errstate(all="ignore"):
        values = evaluate(form.to_public(rows))
    z = normal_quantile(level)
    out = {}
    for name, (low, high) in intervals.items():
        shape = np.shape(low)
        low_flat = np.asarray(low, dtype=float).ravel()
        high_flat = np.asarray(high, dtype=float).ravel()
        with np.errstate(all="ignore"):
            logs = np.log(np.asarray(values[name], dtype=float).reshape(len(rows), -1))
            gradient = (logs[1:1 + p] - logs[1 + p:]) / (2 * steps[:, None])  # (p, n)
            sd = np.sqrt(delta_variance(gradient, law.covariance))
            free_low, free_high = np.exp(logs[0] - z * sd), np.exp(logs[0] + z * sd)
        # where the free fit has no finite interval (a target it never reaches), the
        # restricted percentiles are all there is
        usable = np.isfinite(free_low) & np.isfinite(free_high)
        out[name] = (shaped(np.where(usable, np.fmin(low_flat, free_low), low_flat), shape),
                     shaped(np.where(usable, np.fmax(high_flat, free_high), high_flat), shape))
    return out, f"bootstrap percentile, widened to {_unrestricted_fit(law)} (delta method)"


def _unrestricted_fit(law) -> str:
    """The fit ``law`` is, in words for an interval's method: ``'the fit without the
    tie'``, ``'the fit with the fixed parameters free'`` or both."""
    parts = (["without the tie"] if law.ties else []) + (
        ["with the fixed parameters free"] if law.fixed else [])
    return "the fit " + (" and ".join(parts) or "without the restriction")
