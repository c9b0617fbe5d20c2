"""Asymptotic (sandwich) covariance of a fitted law.

For an M-estimator minimising ``sum_i rho(r_i(theta))`` the sandwich estimate is

.. math::

    \\widehat{\\mathrm{Cov}}(\\hat\\theta) = c\\, A^{-1} B A^{-1}, \\qquad
    A = \\sum_i \\psi'(r_i)\\, J_i J_i^\\top, \\qquad
    B = \\sum_i \\psi(r_i)^2\\, J_i J_i^\\top,

with ``J_i`` the gradient of residual ``i`` (Huber 1967; for squared loss it
reduces to White's heteroscedasticity-robust least-squares covariance). ``c = 1``
is HC0; ``c = n / (n - p)`` is HC1, MacKinnon & White's (1985) small-sample
correction for the ``p`` fitted parameters. It is computed in the internal
parametrisation (logs of scale parameters) and mapped to public units by the
delta method.

``A`` rests only on the runs inside Huber's quadratic zone (``|r| <= delta``,
where ``psi' = 1``; ``psi' = 0`` outside). With Hoffmann's ``delta = 1e-3`` on log
residuals those are a minority (about 16% of the Epoch runs), so the estimate is
rough; when fewer than ``3 p`` runs are in the zone :class:`SandwichWarning` is
emitted. Prefer :func:`scalinglaws.uncertainty.bootstrap.bootstrap` for intervals
you will quote.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .._exceptions import InputError, SandwichWarning
from .._text import counted
from .._validation import FrozenOnUnpickle
from .._validation import check_choice, freeze_array_fields
from ..data.runs import as_runs
from ..fitting.estimator import FitResult, LawFitter
from ..fitting.identifiability import identifiability as _identifiability
from ..fitting.identifiability import information_matrix, scaled_condition_number
from ..fitting.result import check_fitted_on

__all__ = ["AsymptoticResult", "SandwichWarning", "asymptotic_covariance", "identifiability",
           "CORRECTIONS", "MIN_QUADRATIC_PER_PARAMETER"]

CORRECTIONS = ("HC0", "HC1")
#: the sandwich warns when fewer than this many runs per free parameter sit in
#: Huber's quadratic zone (A is then estimated from a handful of runs)
MIN_QUADRATIC_PER_PARAMETER = 3


@dataclass(frozen=True)
class AsymptoticResult(FrozenOnUnpickle):
    """Sandwich covariance of the free parameters and derived diagnostics. Frozen.

    Attributes
    ----------
    names : tuple of str
        Free parameters, in order.
    covariance_internal : ndarray
        Covariance in the internal parametrisation (log of scale parameters).
    standard_errors : dict
        Public-unit standard errors (delta method).
    correlation : ndarray
        Correlation matrix of the estimates.
    condition_number : float
        Condition number of the correlation-scaled *bread* ``A = sum psi'(r_i) J_i J_i^T``
        (the information carried by the runs in Huber's quadratic zone), computed by
        :func:`scalinglaws.fitting.identifiability.scaled_condition_number`, the routine
        behind the fit's diagnostics (which use the unweighted design ``J J^T``).
    correction : {"HC0", "HC1"}
        Small-sample correction applied.
    n_quadratic : int
        Runs in Huber's quadratic zone (all runs for squared loss).
    n_runs : int
        Runs used.
    """

    names: tuple
    covariance_internal: np.ndarray = field(repr=False)
    standard_errors: dict
    correlation: np.ndarray = field(repr=False)
    condition_number: float
    correction: str = "HC0"
    n_quadratic: int = 0
    n_runs: int = 0

    def __post_init__(self):
        freeze_array_fields(self, ("covariance_internal", "correlation"))

    def most_correlated(self):
        """``(name_i, name_j, correlation)`` of the most strongly correlated pair."""
        corr = np.array(self.correlation, dtype=float)
        np.fill_diagonal(corr, 0.0)
        if corr.size <= 1 or not np.isfinite(corr).any():
            return None
        i, j = np.unravel_index(np.nanargmax(np.abs(corr)), corr.shape)
        return self.names[i], self.names[j], float(corr[i, j])


def fitted_objective(result: FitResult, runs):
    """The estimator of ``result``'s objective (its recorded objective options) and the
    internal vector of its free parameters at the fit, after checking that ``runs`` are
    the data it was fitted on."""
    options = {k: v for k, v in result.options.items() if k in LawFitter.OBJECTIVE_OPTIONS}
    fitter = LawFitter(result.form, **options)
    check_fitted_on(result, runs)
    free_idx = [result.form.param_names.index(n) for n in fitter.free]
    theta = result.form.to_internal(result.form.params_vector(result.params))[free_idx]
    return fitter, theta


def _jacobian_and_residuals(result: FitResult, runs):
    fitter, theta = fitted_objective(result, runs)
    r, jac = fitter.residual_function(runs)(theta[None, :])
    return fitter, theta, r[0], jac[0]


def asymptotic_covariance(result: FitResult, runs, *, correction: str = "HC0") -> AsymptoticResult:
    """Sandwich covariance of ``result``'s free parameters on the runs it was fitted to.

    Parameters
    ----------
    result : FitResult
    runs : Runs, DataFrame or path
        The runs of the fit (checked against its data fingerprint).
    correction : {"HC0", "HC1"}
        ``"HC1"`` multiplies the covariance by ``n / (n - p)``.

    Examples
    --------
    >>> import scalinglaws as sl
    >>> runs = sl.generate_sweep(noise=0.01, rng=9)
    >>> result = sl.fit(runs, loss="squared")
    >>> hc0 = asymptotic_covariance(result, runs)
    >>> hc1 = asymptotic_covariance(result, runs, correction="HC1")
    >>> round(hc1.standard_errors["alpha"] / hc0.standard_errors["alpha"], 6)  # sqrt(108/103)
    1.023984
    """
    runs = as_runs(runs)
    correction = check_choice("correction", correction, CORRECTIONS)
    fitter, theta, r, jac = _jacobian_and_residuals(result, runs)
    loss = fitter.loss
    psi = loss.psi(r)
    curvature = loss.psi_deriv(r)
    bread = information_matrix(jac, curvature)
    condition = scaled_condition_number(bread)
    meat = information_matrix(jac, psi**2)
    inverse = np.linalg.pinv(bread)
    cov = inverse @ meat @ inverse
    n, p = len(r), len(fitter.free)
    if n <= p:  # an exact fit: zero residuals give a zero "meat", not a small error
        raise InputError(f"sandwich covariance: {counted(n, 'run')} for {p} free parameters: no "
                         "residual degrees of freedom, so there are no standard errors (fit "
                         "more runs, or fix or tie parameters)")
    if correction == "HC1":
        cov = cov * n / (n - p)
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(sd, sd)
    errors = {}
    for i, name in enumerate(fitter.free):
        factor = result.params[name] if name in result.form.log_params else 1.0
        errors[name] = float(abs(factor) * sd[i])
    n_quadratic = int(np.sum(curvature > 0))
    if n_quadratic < MIN_QUADRATIC_PER_PARAMETER * p:
        warnings.warn(f"sandwich covariance: only {n_quadratic} of {counted(n, 'run')} are in "
                      f"Huber's quadratic zone (|r| <= delta), fewer than "
                      f"{MIN_QUADRATIC_PER_PARAMETER} per free parameter ({p}); its standard "
                      "errors are rough: use the "
                      "bootstrap", SandwichWarning, stacklevel=2)
    return AsymptoticResult(names=fitter.free, covariance_internal=cov, standard_errors=errors,
                            correlation=corr, condition_number=condition, correction=correction,
                            n_quadratic=n_quadratic, n_runs=n)


def identifiability(result: FitResult, runs) -> dict:
    """The fit's identifiability diagnostics recomputed on ``runs``, as plain data.

    Same routine and meaning as ``result.diagnostics``
    (:func:`scalinglaws.fitting.identifiability.identifiability`: condition number of
    the correlation-scaled design ``J J^T`` at the optimum, and the most correlated pair).
    """
    runs = as_runs(runs)
    fitter, _, _, jac = _jacobian_and_residuals(result, runs)
    return _identifiability(jac, fitter.free)
