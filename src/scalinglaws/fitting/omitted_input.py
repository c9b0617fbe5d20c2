"""A law of one of N and D fitted to runs where the other one varies and matters.

Kaplan et al.'s L(N) (``kaplan_n``, ``kaplan_n_offset``) describes models trained until
data is no bottleneck (early-stopped on a large set), and L(D) (``kaplan_d``,
``kaplan_d_offset``) models large enough that size is none. Fitted to an IsoFLOP sweep,
where D runs against N over three decades, either fits a line through runs that differ
in the quantity it leaves out, and nothing said so: the audit's ``fit runs.csv --form
kaplan_n`` on ``datasets/synthetic_chinchilla_sweep.csv`` (D spanning 2,240x) gave
alpha_N = 0.035, a tenth of the sweep's own 0.34, without a word. The sign is in the
residuals: they follow the omitted quantity (correlation 0.88 with log D there).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._exceptions import ScalingLawsWarning, user_stacklevel

__all__ = ["OMITTED_SPAN", "OMITTED_CORRELATION", "warn_omitted_input"]

#: The omitted quantity matters only when the runs spread it: more than this factor
#: between its smallest and largest value (a sweep "at one D" logs D within a few percent)
OMITTED_SPAN = 10.0
#: ...and when the residuals follow its logarithm: a correlation at least this strong
#: (in size) and at least 3 standard errors from 0 (t = r sqrt(n - 2) / sqrt(1 - r^2)), so
#: that noise over a handful of runs does not warn. An IsoFLOP sweep fitted with L(N) gives
#: 0.88 (datasets/synthetic_chinchilla_sweep.csv, 108 runs); the same runs at one D, 0.
OMITTED_CORRELATION = 0.5

#: the other quantity of each one-input law of N or D, and what the law assumes of it
_OMITTED = {"N": ("D", "training tokens D are no bottleneck (every model trained until more "
                       "data would not help, or all on one D)"),
            "D": ("N", "model size N is no bottleneck (one model size, or models large "
                       "enough that size does not limit the loss)")}


def warn_omitted_input(result, runs) -> None:
    """Warn (:class:`~scalinglaws.ScalingLawsWarning`) when ``result``, a law of N alone or
    of D alone, was fitted to ``runs`` whose other quantity spans more than
    :data:`OMITTED_SPAN` and whose residuals follow its logarithm
    (:data:`OMITTED_CORRELATION`): the law's assumption does not hold on these runs."""
    inputs = tuple(result.form.inputs)
    if len(inputs) != 1 or inputs[0] not in _OMITTED:
        return
    other, assumption = _OMITTED[inputs[0]]
    residuals = getattr(result, "residuals", None)
    if residuals is None or not runs.has(other) or len(runs) < 5:
        return
    values = runs.inputs((other,))[other]
    residuals = np.asarray(residuals, dtype=float)
    span = float(values.max() / values.min())
    if span <= OMITTED_SPAN or residuals.shape != values.shape or np.ptp(residuals) == 0:
        return
    r = float(np.corrcoef(np.log(values), residuals)[0, 1])
    t = abs(r) * math.sqrt(len(values) - 2) / math.sqrt(max(1.0 - r * r, 1e-12))
    if not (abs(r) >= OMITTED_CORRELATION and t >= 3.0):
        return
    both = "chinchilla or kaplan_nd (a law of N and D)"
    keep = ("the runs of one D (or each size's lowest loss)" if other == "D"
            else "the runs of one N")
    warnings.warn(f"{runs.source}: form {result.form.name!r} is a law of {inputs[0]} alone, "
                  f"which assumes {assumption}; but {other} spans {span:.3g}x here "
                  f"({values.min():.3g} to {values.max():.3g}) and the residuals follow "
                  f"log {other} (correlation {r:.2f}): the fit mixes the effect of {other} "
                  f"into its {inputs[0]} exponent. Fit {both}, or keep {keep}",
                  ScalingLawsWarning, stacklevel=user_stacklevel())
