"""Asymptotic (sandwich) covariance of a fitted law and identifiability diagnostics.

For an M-estimator minimising ``sum_i rho(r_i(theta))`` the sandwich estimate is

.. math::

    \\widehat{\\mathrm{Cov}}(\\hat\\theta) = A^{-1} B A^{-1}, \\qquad
    A = \\sum_i \\psi'(r_i)\\, J_i J_i^\\top, \\qquad
    B = \\sum_i \\psi(r_i)^2\\, J_i J_i^\\top,

with ``J_i`` the gradient of residual ``i`` (Huber 1967; for squared loss it
reduces to the heteroscedasticity-robust least-squares covariance). It is
computed in the internal parametrisation (logs of scale parameters) and mapped
to public units by the delta method. With Hoffmann's ``delta = 1e-3`` on log
residuals only a minority of runs sit in Huber's quadratic zone, ``A`` rests on
those few, and the estimate is rough (within a factor of about 2 of the
bootstrap on the Epoch data): prefer :func:`scalinglaws.bootstrap.bootstrap`
for intervals you will quote.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._exceptions import InputError
from ..fitting.estimator import FitResult, LawFitter
from ..fitting.identifiability import information_matrix, scaled_condition_number
from ..data.runs import as_runs

__all__ = ["AsymptoticResult", "asymptotic_covariance", "identifiability"]


@dataclass(frozen=True)
class AsymptoticResult:
    """Sandwich covariance of the free parameters and derived diagnostics.

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
        Condition number of the correlation-scaled information matrix ``A``;
        large values mean the data cannot separate some parameters.
    """

    names: tuple
    covariance_internal: np.ndarray = field(repr=False)
    standard_errors: dict
    correlation: np.ndarray = field(repr=False)
    condition_number: float

    def most_correlated(self):
        """``(name_i, name_j, correlation)`` of the most strongly correlated pair."""
        corr = np.array(self.correlation, dtype=float)
        np.fill_diagonal(corr, 0.0)
        if corr.size <= 1 or not np.isfinite(corr).any():
            return None
        i, j = np.unravel_index(np.nanargmax(np.abs(corr)), corr.shape)
        return self.names[i], self.names[j], float(corr[i, j])


def _jacobian_and_residuals(result: FitResult, runs):
    options = {k: v for k, v in result.options.items() if k in (
        "loss", "delta", "space", "fixed", "tied", "bounds")}
    fitter = LawFitter(result.form, **options)
    residuals = fitter.residual_function(runs)
    free_idx = [result.form.param_names.index(n) for n in fitter.free]
    theta = result.form.to_internal(result.form.params_vector(result.params))[free_idx]
    r, jac = residuals(theta[None, :])
    return fitter, theta, r[0], jac[0]


def asymptotic_covariance(result: FitResult, runs) -> AsymptoticResult:
    """Sandwich covariance of ``result``'s free parameters on the runs it was fitted to."""
    runs = as_runs(runs)
    fitter, theta, r, jac = _jacobian_and_residuals(result, runs)
    if result.data_fingerprint and runs.fingerprint(fitter.form.inputs + ("loss",)) != \
            result.data_fingerprint:
        raise InputError("`runs` are not the data `result` was fitted on (fingerprints differ)")
    loss = fitter.loss
    psi = loss.psi(r)
    bread = information_matrix(jac, loss.psi_deriv(r))
    condition = scaled_condition_number(bread)
    meat = (jac * psi**2) @ jac.T
    inverse = np.linalg.pinv(bread)
    cov = inverse @ meat @ inverse
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(sd, sd)
    errors = {}
    for i, name in enumerate(fitter.free):
        factor = result.params[name] if name in result.form.log_params else 1.0
        errors[name] = float(abs(factor) * sd[i])
    return AsymptoticResult(names=fitter.free, covariance_internal=cov, standard_errors=errors,
                            correlation=corr, condition_number=condition)


def identifiability(result: FitResult, runs) -> dict:
    """Condition number and strongest correlation of the estimates, as plain data."""
    asym = asymptotic_covariance(result, runs)
    pair = asym.most_correlated()
    return {"condition_number": asym.condition_number,
            "most_correlated": None if pair is None else {"params": list(pair[:2]),
                                                          "correlation": pair[2]}}
