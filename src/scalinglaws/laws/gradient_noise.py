r"""The gradient noise scale from gradient norms logged at two batch sizes.

McCandlish, Kaplan, Amodei (2018), "An Empirical Model of Large-Batch Training" (arXiv
1812.06162): the critical batch size is predicted by the noise scale

.. math::

    B_{noise} = \frac{\mathrm{tr}(H\Sigma)}{G^T H G} \approx
    B_{simple} = \frac{\mathrm{tr}(\Sigma)}{|G|^2}

(equal when the Hessian H is a multiple of the identity), with ``G`` the true gradient and
``Sigma`` the per-example gradient covariance. A training run can measure B_simple without
per-example gradients: the squared norm of a gradient averaged over a batch of ``B``
examples has expectation ``|G|^2 + tr(Sigma)/B``, so the norms at two batch sizes (in data
parallel training, one worker's gradient and the all-reduced one) give unbiased estimates

.. math::

    |G|^2 \approx \frac{B_{big}|G_{B_{big}}|^2 - B_{small}|G_{B_{small}}|^2}{B_{big} - B_{small}},
    \qquad
    \mathrm{tr}(\Sigma) \approx \frac{|G_{B_{small}}|^2 - |G_{B_{big}}|^2}{1/B_{small} - 1/B_{big}}

(McCandlish et al., App. A.1). Each is averaged over steps *before* the ratio is taken
(the ratio of single-step estimates is biased and noisy). Kaplan et al. (2020) relate the
critical batch to this scale (B_crit ~ B_noise; their Eq. 1.4 / 5.3 fit is
:func:`~scalinglaws.laws.flops.critical_batch_size`).

Units follow the batch sizes: batch sizes in sequences give B_simple in sequences, in
tokens give it in tokens (Kaplan's B_crit is in tokens).

B_simple is a ratio of two means, so its interval is Fieller's (1954): the values ``b``
for which the step mean of ``tr(Sigma)_i - b |G|^2_i`` is within a Student t quantile (on
``steps - 1`` degrees of freedom) of zero. It is exact when the per-step estimates are
normal, widens as the |G|^2 estimate nears zero, and has no upper end when the |G|^2
estimate cannot be told from zero; the delta method's ``b -/+ z SE`` (this module's
interval before) covered 86% at 4 steps and its symmetric shape ignores both effects.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .._exceptions import InputError, ScalingLawsWarning
from .._validation import check_confidence_level
from .flops import check_quantity

__all__ = ["INTERVAL_METHOD", "MIN_STEPS", "NoiseScale", "gradient_noise_scale"]

#: the kind of :attr:`NoiseScale.confidence_interval`: Fieller's interval for a ratio of
#: two correlated step means, with a t quantile on ``steps - 1`` degrees of freedom
INTERVAL_METHOD = "Fieller"
#: the kind of interval in documents written before ``method`` was recorded
_LEGACY_METHOD = "delta method"
#: fewer logged steps than this get a warning: one step has no interval, and at two (one
#: degree of freedom, t quantile 12.7) Fieller's interval still covers (937-969 of 1,000
#: simulated runs) but has no upper end in 70-90% of them: it says almost nothing
MIN_STEPS = 3


@dataclass(frozen=True)
class NoiseScale:
    """B_simple = tr(Sigma)/|G|^2 estimated from gradient norms at two batch sizes.

    Attributes
    ----------
    b_simple : float
        The noise scale, in the unit of the batch sizes; nan when the estimate of |G|^2 or
        of tr(Sigma) is not positive (noise swamps the signal: log more steps or use a
        larger big batch).
    gradient_norm_sq, trace_sigma : float
        The step-averaged estimates of |G|^2 and tr(Sigma).
    standard_error : float
        Delta-method standard error of ``b_simple`` from the step-to-step scatter of the two
        estimates, treating steps as independent (nan with one step). A scale of the
        uncertainty only: the interval is not ``b_simple -/+ z * standard_error``.
    confidence_interval : (float, float)
        Fieller's interval at ``confidence_level`` (t quantile on ``n_steps - 1`` degrees of
        freedom), cut at 0 (B_simple is never negative). Not symmetric about ``b_simple``;
        its upper end is ``inf`` when the |G|^2 estimate cannot be told from zero (the data
        then only bound B_simple from below). Given also when ``b_simple`` is nan (the
        set does not need the point estimate: a non-positive |G|^2 estimate typically
        leaves ``[low, inf]``); ``(nan, nan)`` with one step or when no value >= 0 is in
        the set. With autocorrelated steps it is too narrow: thin the steps first.
    n_steps : int
        Steps averaged.
    batch_small, batch_big : float
        The two batch sizes.
    method : str
        What kind of interval ``confidence_interval`` is: ``"Fieller"``. Documents written
        before this field existed load with ``"delta method"``, the kind they hold.
    """

    b_simple: float
    gradient_norm_sq: float
    trace_sigma: float
    standard_error: float
    confidence_interval: tuple
    confidence_level: float
    n_steps: int
    batch_small: float
    batch_big: float
    method: str = INTERVAL_METHOD

    def to_dict(self) -> dict:
        """Plain JSON-safe types: ``None`` for a value that is not finite, so an interval
        with no upper end is ``[low, None]`` (and no interval ``[None, None]``)."""
        def plain(x):
            return None if not math.isfinite(x) else float(x)

        return {"b_simple": plain(self.b_simple), "gradient_norm_sq": plain(self.gradient_norm_sq),
                "trace_sigma": plain(self.trace_sigma),
                "standard_error": plain(self.standard_error),
                "confidence_interval": [plain(v) for v in self.confidence_interval],
                "confidence_level": self.confidence_level, "method": self.method,
                "n_steps": self.n_steps, "batch_small": self.batch_small,
                "batch_big": self.batch_big}

    @classmethod
    def from_dict(cls, doc) -> NoiseScale:
        """The result :meth:`to_dict` wrote (``None`` reads as nan, except an upper end
        after a finite lower one: inf); a document written before ``method`` existed gets
        the kind it holds, ``"delta method"``."""
        if not isinstance(doc, Mapping):
            raise InputError(f"a noise-scale document must be a mapping, got {type(doc).__name__}")
        names = ("b_simple", "gradient_norm_sq", "trace_sigma", "standard_error",
                 "confidence_interval", "confidence_level", "n_steps", "batch_small", "batch_big")
        missing = [name for name in names if name not in doc]
        if missing:
            raise InputError(f"noise-scale document lacks {', '.join(missing)}")

        def number(x):
            return float("nan") if x is None else float(x)

        low, high = doc["confidence_interval"]
        high = math.inf if high is None and low is not None else number(high)
        return cls(b_simple=number(doc["b_simple"]),
                   gradient_norm_sq=number(doc["gradient_norm_sq"]),
                   trace_sigma=number(doc["trace_sigma"]),
                   standard_error=number(doc["standard_error"]),
                   confidence_interval=(number(low), high),
                   confidence_level=float(doc["confidence_level"]), n_steps=int(doc["n_steps"]),
                   batch_small=float(doc["batch_small"]), batch_big=float(doc["batch_big"]),
                   method=str(doc.get("method", _LEGACY_METHOD)))

    def __str__(self) -> str:
        low, high = self.confidence_interval
        steps = f"{self.n_steps} step{'s' * (self.n_steps != 1)}"
        estimates = f"|G|^2 = {self.gradient_norm_sq:.4g}, tr(Sigma) = {self.trace_sigma:.4g}"
        if math.isfinite(self.b_simple):
            head = f"B_simple = {self.b_simple:.4g} "
        else:  # the interval, when there is one, does not need the point estimate
            head = "B_simple undefined (an estimate is not positive); "
        if not math.isfinite(low):
            return f"{head.rstrip('; ')} (no interval, {steps}; {estimates})"
        level = f"{self.confidence_level:.0%} {self.method} interval"
        if math.isfinite(self.b_simple):
            return f"{head}[{low:.4g}, {high:.4g}] ({level}, {steps}; {estimates})"
        return f"{head}{level} [{low:.4g}, {high:.4g}] ({steps}; {estimates})"


def _t_quantile(level: float, df: int) -> float:
    """Two-sided Student t quantile at ``level`` on ``df`` degrees of freedom."""
    from scipy import stats

    return float(stats.t.ppf(0.5 + level / 2.0, df))


def _fieller(trace, g2, level: float) -> tuple[float, float]:
    """Fieller's interval for mean(trace) / mean(g2) from paired per-step values, cut at 0.

    The set of ``b`` with ``(s - b g)^2 <= q (v_ss - 2 b v_sg + b^2 v_gg)``, ``q = t^2/n``
    (``s``, ``g`` the means, ``v`` the sample covariances): a quadratic
    ``A b^2 - 2 B b + C <= 0``. With ``A > 0`` (the mean of g2 is distinguishable from zero)
    it is the interval between the roots; otherwise a union of rays, whose part at
    ``b >= 0`` is ``[larger root, inf)`` (or, taking its hull, all of it when 0 itself is
    inside). ``(nan, nan)`` when no ``b >= 0`` is in the set (the norms contradict the
    model, e.g. swapped columns). Defined whatever the signs of the two means, so it
    exists when the point estimate does not.
    """
    n = trace.size
    (v_ss, v_sg), (_, v_gg) = np.cov(np.vstack([trace, g2])).tolist()
    s, g = float(np.mean(trace)), float(np.mean(g2))
    q = _t_quantile(level, n - 1) ** 2 / n
    a, b, c = g * g - q * v_gg, s * g - q * v_sg, s * s - q * v_ss
    discriminant = b * b - a * c
    if a > 0:
        if discriminant < 0 or b + math.sqrt(discriminant) < 0:  # empty, or all below 0
            return math.nan, math.nan
        root = math.sqrt(discriminant)
        return max((b - root) / a, 0.0), (b + root) / a
    if a < 0 < c:  # roots of opposite signs: B_simple >= the positive one
        return max((b - math.sqrt(discriminant)) / a, 0.0), math.inf
    return 0.0, math.inf


def gradient_noise_scale(norm_sq_small, norm_sq_big, batch_small, batch_big, *,
                         confidence_level=0.95) -> NoiseScale:
    """Estimate the simple noise scale B_simple = tr(Sigma)/|G|^2 (McCandlish et al. 2018).

    Parameters
    ----------
    norm_sq_small, norm_sq_big : float or array_like
        Squared L2 norms of the gradient averaged over ``batch_small`` and ``batch_big``
        examples, one value per logged step (same length). In data-parallel training: the
        local gradient of one worker and the all-reduced gradient, at the same steps.
    batch_small, batch_big : float
        The two batch sizes (``batch_small < batch_big``), in examples or tokens.
    confidence_level : float, default 0.95
        Level of Fieller's interval (its kind, ``"Fieller"``, is recorded as
        :attr:`NoiseScale.method`).

    Returns
    -------
    NoiseScale

    Warns
    -----
    ScalingLawsWarning
        When the |G|^2 or tr(Sigma) estimate is not positive (B_simple is nan), when fewer
        than :data:`MIN_STEPS` steps are given, and when the interval has no upper end.

    Examples
    --------
    >>> # E|G_B|^2 = |G|^2 + tr(Sigma)/B: 4 steps logged at B = 16 and 128
    >>> result = gradient_noise_scale([5.1, 4.9, 5.0, 5.2], [1.52, 1.48, 1.50, 1.51], 16, 128)
    >>> round(result.b_simple, 2), [round(v, 2) for v in result.confidence_interval]
    (65.15, [61.33, 69.04])
    """
    small = check_quantity("norm_sq_small", norm_sq_small, allow_zero=True).ravel()
    big = check_quantity("norm_sq_big", norm_sq_big, allow_zero=True).ravel()
    if small.shape != big.shape:
        raise InputError(f"norm_sq_small and norm_sq_big must have one value per step each; "
                         f"got {small.size} and {big.size}")
    b_small = check_quantity("batch_small", batch_small)
    b_big = check_quantity("batch_big", batch_big)
    if b_small.ndim or b_big.ndim:
        raise InputError("batch_small and batch_big must be single numbers")
    b_small, b_big = float(b_small), float(b_big)
    if not b_small < b_big:
        raise InputError(f"batch_small ({b_small:g}) must be smaller than batch_big ({b_big:g})")
    level = check_confidence_level(confidence_level)
    g2 = (b_big * big - b_small * small) / (b_big - b_small)
    trace = (small - big) / (1.0 / b_small - 1.0 / b_big)
    n = small.size
    g_mean, s_mean = float(np.mean(g2)), float(np.mean(trace))
    nan = float("nan")
    # Fieller's set exists whatever the signs of the two means: kept when B_simple is not
    interval = _fieller(trace, g2, level) if n > 1 else (nan, nan)
    if n > 1:
        cov = np.cov(np.vstack([trace, g2]))  # rows: tr(Sigma), |G|^2 per step
        # delta method for the ratio of two means: the reported scale of the uncertainty
        variance = (cov[0, 0] / g_mean ** 2 - 2.0 * s_mean * cov[0, 1] / g_mean ** 3
                    + s_mean ** 2 * cov[1, 1] / g_mean ** 4) / n
        se = math.sqrt(max(float(variance), 0.0))
    else:
        se = nan
    steps = f"{n} step{'s' * (n != 1)}"
    undefined = None
    if g_mean <= 0:
        undefined = (f"the estimated |G|^2 ({g_mean:.3g}) is not positive over {steps}: the "
                     "gradient noise swamps the signal")
    elif s_mean <= 0:
        undefined = (f"the estimated tr(Sigma) ({s_mean:.3g}) is not positive over {steps}: "
                     "the small-batch norms are not above the big-batch ones by more than "
                     "their noise (they should be, on average: check the two are not swapped)")
    if undefined:
        bound = (f"; the {level:.0%} interval [{interval[0]:.4g}, {interval[1]:.4g}] is all "
                 "the data say" if math.isfinite(interval[0]) else "")
        warnings.warn(f"{undefined}; B_simple is undefined{bound} (log more steps or use a "
                      "larger big batch)", ScalingLawsWarning, stacklevel=2)
        return NoiseScale(b_simple=nan, gradient_norm_sq=g_mean, trace_sigma=s_mean,
                          standard_error=nan, confidence_interval=interval,
                          confidence_level=level, n_steps=n, batch_small=b_small,
                          batch_big=b_big)
    if n < MIN_STEPS:
        warnings.warn(f"{steps}: "
                      + ("no interval from one step" if n == 1 else
                         "the interval rests on one degree of freedom (t quantile "
                         f"{_t_quantile(level, 1):.3g}): it is very wide, usually with no "
                         "upper end")
                      + f"; log at least {MIN_STEPS} steps (tens for a useful width)",
                      ScalingLawsWarning, stacklevel=2)
    elif math.isinf(interval[1]):
        warnings.warn(f"over {steps} the |G|^2 estimate ({g_mean:.3g}) cannot be told from "
                      f"zero at the {level:.0%} level, so the interval has no upper end: "
                      f"B_simple >= {interval[0]:.4g} is all the data say (log more steps or "
                      "use a larger big batch for an upper bound)", ScalingLawsWarning,
                      stacklevel=2)
    return NoiseScale(b_simple=s_mean / g_mean, gradient_norm_sq=g_mean, trace_sigma=s_mean,
                      standard_error=se, confidence_interval=interval, confidence_level=level,
                      n_steps=n, batch_small=b_small, batch_big=b_big)
