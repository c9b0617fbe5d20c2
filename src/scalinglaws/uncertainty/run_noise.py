"""The noise of one run's points, redrawn for the intervals of what is refitted on them.

A run part-way through has a few dozen logged points whose noise is autocorrelated (an
AR(1) coefficient of 0.7 is typical of training curves). A quantity refitted on them (a
run-specific L0) is off by a weighted mean of that noise, whose spread a moving-block
bootstrap of so few points understates: blocks shorter than the correlation cut it, and
resamples of a few longer blocks barely vary. :func:`ar1_noise_draws` redraws the noise
from a fitted AR(1) model instead (a sieve bootstrap), with the corrections a short series
needs:

* the AR(1) coefficient is bias-corrected: the least-squares lag-1 coefficient of
  residuals that had the refitted parameters projected out is biased towards zero by about
  (1 + 3 phi) / n (Marriott and Pope 1954; Kendall 1954), 0.10 at 30 points and phi = 0.7.
  The correction here is the exact one for the run's own design: the coefficient whose
  simulated residuals (same points, same projection, common random numbers) have, on
  average, the observed least-squares coefficient;
* the innovation variance is rescaled by the same simulation: residuals of n points with a
  fitted offset hold ``E[r'r] = sigma^2 tr(M R(phi))``, not ``n gamma_0``;
* the innovations of the residuals (centred, standardised) are resampled with
  replacement and filtered through the fitted AR(1) with a stationary start;
* ``studentize=True`` (the default) scales each redrawn series by the ratio of the
  observed run's standard error of the target to the one the same estimator finds on that
  series (a bootstrap-t for the run's part): the coefficient estimated from 30 points is
  itself uncertain (standard error about 0.13 at phi = 0.7), and the variance of a mean
  grows as (1 + phi) / (1 - phi), so a plug-in model understates the tails.

The caller refits on the fitted curve times ``exp(noise)`` for each draw. Deterministic
given ``rng``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._exceptions import InputError
from .._validation import FrozenOnUnpickle, check_int, check_rng, freeze_array_fields

__all__ = ["AR1Noise", "ar1_noise_draws"]

#: AR(1) coefficients at which the estimator's bias and the residuals' variance are
#: simulated; a bias-corrected coefficient is interpolated between them (and clipped to
#: their ends: beyond 0.99 a run of a few dozen points says nothing about its variance)
COEFFICIENT_GRID = np.concatenate([np.linspace(-0.9, 0.9, 37), np.linspace(0.91, 0.99, 9)])

#: simulated series per grid coefficient (common random numbers across the grid)
N_CALIBRATION = 200


@dataclass(frozen=True)
class AR1Noise(FrozenOnUnpickle):
    """Redrawn log-noise series of one run and the AR(1) model they come from.

    Attributes
    ----------
    draws : ndarray, shape (n_resamples, n_points)
        Log-noise series (read-only): the run's fitted curve times ``exp(draws[k])`` is
        the k-th pseudo-run.
    coefficient : float
        The bias-corrected AR(1) coefficient.
    observed_coefficient : float
        The least-squares lag-1 coefficient of the residuals (biased towards 0).
    innovation_sd : float
        Standard deviation of the innovations, corrected for the projection.
    studentized : bool
        Whether each series was scaled by the ratio of standard errors (bootstrap-t).
    """

    draws: np.ndarray = field(repr=False)
    coefficient: float
    observed_coefficient: float
    innovation_sd: float
    studentized: bool

    def __post_init__(self):
        freeze_array_fields(self, ("draws",))

    @property
    def n_points(self) -> int:
        return int(self.draws.shape[1])

    def describe(self) -> str:
        """One phrase for what the run's part of an interval rests on."""
        kind = "studentized AR(1) sieve bootstrap" if self.studentized else \
            "AR(1) sieve bootstrap"
        return (f"{kind} of the run's residuals (AR coefficient {self.coefficient:.2f} "
                f"bias-corrected from {self.observed_coefficient:.2f}, {self.n_points} points)")


def _ar1(coefficient: float, shocks: np.ndarray) -> np.ndarray:
    """Stationary AR(1) series with coefficient ``coefficient`` driven by ``shocks`` (rows)."""
    from scipy.signal import lfilter

    start = shocks.copy()
    start[..., 0] /= np.sqrt(1 - coefficient ** 2)
    return lfilter([1.0], [1.0, -coefficient], start, axis=-1)


def _projector(design: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the design's columns (the refitted parameters' directions)."""
    q, _ = np.linalg.qr(design)
    return q


def _project_out(series: np.ndarray, basis: np.ndarray) -> np.ndarray:
    return series - (series @ basis) @ basis.T


def _lag_one(residuals: np.ndarray) -> np.ndarray:
    """Least-squares lag-1 coefficient of each row (regression of r_t on r_{t-1})."""
    num = np.sum(residuals[..., 1:] * residuals[..., :-1], axis=-1)
    den = np.sum(residuals[..., :-1] ** 2, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, 0.0)


def _unit_variance(weights: np.ndarray, coefficient: float) -> float:
    """``w' R w`` for an AR(1) of unit innovations: the variance of the linear target."""
    from scipy.signal import lfilter

    # sum_{i,j} w_i w_j phi^|i-j| / (1 - phi^2): the cross terms through the recursion
    # c_i = phi (c_{i-1} + w_{i-1})
    lagged = np.concatenate([[0.0], weights[:-1]])
    carried = lfilter([coefficient], [1.0, -coefficient], lagged)
    return float((weights @ weights + 2 * weights @ carried) / (1 - coefficient ** 2))


class _Calibration:
    """The least-squares coefficient's mean and ``E[r'r]`` (unit innovations) for each
    grid coefficient, simulated on the run's design; inverted by interpolation."""

    def __init__(self, basis: np.ndarray, n: int, rng: np.random.Generator):
        shocks = rng.standard_normal((N_CALIBRATION, n))
        means, sums = [], []
        for coefficient in COEFFICIENT_GRID:
            residuals = _project_out(_ar1(coefficient, shocks), basis)
            means.append(np.mean(_lag_one(residuals)))
            sums.append(np.mean(np.sum(residuals ** 2, axis=-1)))
        # common random numbers make the mean smooth; monotone for a safe inversion
        self.means = np.maximum.accumulate(np.array(means))
        self.sums = np.array(sums)

    def coefficient(self, observed):
        return np.interp(observed, self.means, COEFFICIENT_GRID)

    def innovation_sd(self, residuals: np.ndarray, coefficient):
        return np.sqrt(np.sum(residuals ** 2, axis=-1)
                       / np.interp(coefficient, COEFFICIENT_GRID, self.sums))


def ar1_noise_draws(residuals, design, n_resamples: int, *, target=None,
                    studentize: bool = True, rng=None) -> AR1Noise:
    """Redraw one run's log noise from a bias-corrected AR(1) fit to its residuals.

    Parameters
    ----------
    residuals : array_like, shape (n,)
        The run's log residuals at its refitted parameters (``log loss - log fit``), in
        the order logged.
    design : array_like, shape (n, q)
        Derivatives of the log fit with respect to the refitted parameters at those
        points: the directions the refit removed from the residuals.
    n_resamples : int
        Series to draw.
    target : array_like, shape (n,), optional
        The linear map from log noise to the quantity of interest (for a refitted L0 and
        the final loss: ``g (J'J)^-1 J'``). Needed with ``studentize``; default the
        least-squares offset of the first design column.
    studentize : bool
        Scale each series by the ratio of standard errors of ``target`` (module
        docstring).
    rng : None, int or Generator

    Returns
    -------
    AR1Noise

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> noise = np.zeros(60)
    >>> for i in range(1, 60):
    ...     noise[i] = 0.7 * noise[i - 1] + rng.normal(0, 1e-3)
    >>> design = np.ones((60, 1))
    >>> draws = ar1_noise_draws(noise - noise.mean(), design, 200, rng=1)
    >>> draws.draws.shape, draws.observed_coefficient < draws.coefficient
    ((200, 60), True)
    """
    generator = check_rng("rng", rng)
    residuals = np.asarray(residuals, dtype=float)
    design = np.asarray(design, dtype=float)
    n_resamples = check_int("n_resamples", n_resamples, 1)
    if residuals.ndim != 1 or residuals.size < 3 or not np.all(np.isfinite(residuals)):
        raise InputError("`residuals` must be a 1-D array of at least 3 finite values")
    if design.ndim == 1:
        design = design[:, None]
    if design.shape[0] != residuals.size or not np.all(np.isfinite(design)):
        raise InputError(f"`design` must be finite with one row per residual "
                         f"({residuals.size}), got shape {design.shape}")
    if design.shape[1] >= residuals.size - 1:
        raise InputError(f"`design` has {design.shape[1]} columns for {residuals.size} "
                         "points: nothing is left to estimate the noise from")
    basis = _projector(design)
    if target is None:
        first = design[:, :1]
        target = (first / (first.T @ first)).ravel()
    target = np.asarray(target, dtype=float).ravel()
    if target.size != residuals.size or not np.all(np.isfinite(target)):
        raise InputError(f"`target` must be {residuals.size} finite weights")

    n = residuals.size
    calibration = _Calibration(basis, n, generator)
    observed = float(_lag_one(residuals))
    coefficient = float(calibration.coefficient(observed))
    sd = float(calibration.innovation_sd(residuals, coefficient))
    # the sieve: the residuals' own innovations, centred and standardised, resampled
    innovations = residuals[1:] - coefficient * residuals[:-1]
    spread = innovations.std()
    innovations = (innovations - innovations.mean()) / spread if spread > 0 else \
        np.zeros_like(innovations)
    shocks = innovations[generator.integers(0, innovations.size, (n_resamples, n))]
    series = sd * _ar1(coefficient, shocks)
    if studentize and sd > 0:
        # the same estimator on each redrawn series: its coefficient and innovation sd,
        # hence its standard error of the target; the series scaled by observed / redrawn
        redrawn = _project_out(series, basis)
        coefficients = calibration.coefficient(_lag_one(redrawn))
        sds = calibration.innovation_sd(redrawn, coefficients)
        grid_variance = np.array([_unit_variance(target, c) for c in COEFFICIENT_GRID])
        se_observed = sd * np.sqrt(np.interp(coefficient, COEFFICIENT_GRID, grid_variance))
        se_redrawn = sds * np.sqrt(np.interp(coefficients, COEFFICIENT_GRID, grid_variance))
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(se_redrawn > 0, se_observed / se_redrawn, 1.0)
        series = series * scale[:, None]
    return AR1Noise(draws=series, coefficient=coefficient, observed_coefficient=observed,
                    innovation_sd=sd, studentized=bool(studentize))
