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

__all__ = ["INTERVAL_METHOD", "NoiseScale", "gradient_noise_scale"]

#: the kind of :attr:`NoiseScale.confidence_interval`: ``b_simple -/+ z SE`` with the
#: delta-method standard error of a ratio of two step means (a normal approximation)
INTERVAL_METHOD = "delta method"


@dataclass(frozen=True)
class NoiseScale:
    """B_simple = tr(Sigma)/|G|^2 estimated from gradient norms at two batch sizes.

    Attributes
    ----------
    b_simple : float
        The noise scale, in the unit of the batch sizes; nan when the estimate of |G|^2 is
        not positive (noise swamps the signal: log more steps or use a larger big batch).
    gradient_norm_sq, trace_sigma : float
        The step-averaged estimates of |G|^2 and tr(Sigma).
    standard_error : float
        Delta-method standard error of ``b_simple`` from the step-to-step scatter of the two
        estimates, treating steps as independent (nan with one step).
    confidence_interval : (float, float)
        ``b_simple -/+ z * standard_error`` at ``confidence_level`` (a normal-approximation
        interval; with autocorrelated steps it is too narrow: thin the steps first).
    n_steps : int
        Steps averaged.
    batch_small, batch_big : float
        The two batch sizes.
    method : str
        What kind of interval ``confidence_interval`` is: ``"delta method"``, a normal
        approximation with the delta-method standard error (the only kind made here;
        results saved before this field existed load with it).
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
        """Plain JSON-safe types (``None`` for a value that is not finite)."""
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
        """The result :meth:`to_dict` wrote (``None`` reads as nan); a document written
        before ``method`` existed gets the only kind there was, ``"delta method"``."""
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
        return cls(b_simple=number(doc["b_simple"]),
                   gradient_norm_sq=number(doc["gradient_norm_sq"]),
                   trace_sigma=number(doc["trace_sigma"]),
                   standard_error=number(doc["standard_error"]),
                   confidence_interval=(number(low), number(high)),
                   confidence_level=float(doc["confidence_level"]), n_steps=int(doc["n_steps"]),
                   batch_small=float(doc["batch_small"]), batch_big=float(doc["batch_big"]),
                   method=str(doc.get("method", INTERVAL_METHOD)))

    def __str__(self) -> str:
        low, high = self.confidence_interval
        return (f"B_simple = {self.b_simple:.4g} [{low:.4g}, {high:.4g}] "
                f"({self.confidence_level:.0%} {self.method} interval, {self.n_steps} steps; "
                f"|G|^2 = {self.gradient_norm_sq:.4g}, tr(Sigma) = {self.trace_sigma:.4g})")


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
        Level of the normal-approximation interval (its kind, ``"delta method"``, is
        recorded as :attr:`NoiseScale.method`).

    Returns
    -------
    NoiseScale

    Examples
    --------
    >>> # E|G_B|^2 = |G|^2 + tr(Sigma)/B with |G|^2 = 1 and tr(Sigma) = 64:
    >>> result = gradient_noise_scale([1 + 64 / 8], [1 + 64 / 64], 8, 64)
    >>> result.b_simple, result.gradient_norm_sq, result.trace_sigma
    (64.0, 1.0, 64.0)
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
    if g_mean <= 0:
        warnings.warn(f"the estimated |G|^2 ({g_mean:.3g}) is not positive over {n} steps: the "
                      "gradient noise swamps the signal; B_simple is undefined (log more steps "
                      "or use a larger batch_big)", ScalingLawsWarning, stacklevel=2)
        nan = float("nan")
        return NoiseScale(b_simple=nan, gradient_norm_sq=g_mean, trace_sigma=s_mean,
                          standard_error=nan, confidence_interval=(nan, nan),
                          confidence_level=level, n_steps=n, batch_small=b_small,
                          batch_big=b_big)
    ratio = s_mean / g_mean
    if n > 1:
        cov = np.cov(np.vstack([trace, g2]))  # rows: tr(Sigma), |G|^2 per step
        # delta method for the ratio of two means
        variance = (cov[0, 0] / g_mean ** 2 - 2.0 * s_mean * cov[0, 1] / g_mean ** 3
                    + s_mean ** 2 * cov[1, 1] / g_mean ** 4) / n
        se = math.sqrt(max(float(variance), 0.0))
        from statistics import NormalDist

        z = NormalDist().inv_cdf(0.5 + level / 2.0)
        interval = (ratio - z * se, ratio + z * se)
    else:
        se = float("nan")
        interval = (float("nan"), float("nan"))
    return NoiseScale(b_simple=ratio, gradient_norm_sq=g_mean, trace_sigma=s_mean,
                      standard_error=se, confidence_interval=interval, confidence_level=level,
                      n_steps=n, batch_small=b_small, batch_big=b_big)
