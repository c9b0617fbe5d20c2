"""Sandwich covariance: HC0/HC1 against a covariance computed here from scratch, the
warning when Huber's quadratic zone holds too few runs, and one meaning of the
condition number (the fit's identifiability routine)."""

import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import InputError
from scalinglaws.fitting.identifiability import identifiability as design_identifiability
from scalinglaws.uncertainty.asymptotic import (SandwichWarning, asymptotic_covariance,
                                               identifiability)


def _by_hand(result, runs):
    """A^-1 B A^-1 from finite-difference gradients of the log residuals (independent of
    the package's Jacobians), in the internal parametrisation (e, a, b, alpha, beta)."""
    names = result.form.param_names
    theta = np.array([np.log(result.params[n]) if n in ("E", "A", "B") else result.params[n]
                      for n in names])
    ln_n, ln_d, ln_l = np.log(runs.N), np.log(runs.D), np.log(runs.loss)

    def residuals(t):
        e, a, b, alpha, beta = t
        return np.logaddexp(np.logaddexp(a - alpha * ln_n, b - beta * ln_d), e) - ln_l

    step = 1e-6
    jac = np.stack([(residuals(theta + step * np.eye(5)[i]) - residuals(theta - step * np.eye(5)[i]))
                    / (2 * step) for i in range(5)])
    r = residuals(theta)
    return jac, r


def test_hc0_and_hc1_for_squared_loss_match_a_hand_computed_sandwich():
    runs = sl.generate_sweep(noise=0.01, rng=9)
    result = sl.fit(runs, loss="squared")
    jac, r = _by_hand(result, runs)
    bread = jac @ jac.T
    meat = (jac * r**2) @ jac.T
    cov = np.linalg.inv(bread) @ meat @ np.linalg.inv(bread)
    hc0 = asymptotic_covariance(result, runs)
    hc1 = asymptotic_covariance(result, runs, correction="HC1")
    # finite differences with step 1e-6 carry ~1e-9 relative error into the covariance
    np.testing.assert_allclose(hc0.covariance_internal, cov, rtol=1e-5)
    n, p = len(runs), 5
    np.testing.assert_allclose(hc1.covariance_internal, cov * n / (n - p), rtol=1e-5)
    assert hc0.correction == "HC0" and hc1.correction == "HC1"
    assert hc0.n_quadratic == n  # squared loss: every run is "in the quadratic zone"
    # public standard errors by the delta method: SE(alpha) is the internal SD itself
    assert hc1.standard_errors["alpha"] == pytest.approx(np.sqrt(cov[3, 3] * n / (n - p)),
                                                         rel=1e-5)
    assert hc1.standard_errors["E"] == pytest.approx(result.params["E"] * np.sqrt(
        cov[0, 0] * n / (n - p)), rel=1e-5)


def test_warns_when_few_runs_sit_in_the_quadratic_zone():
    # 5% noise with delta = 1e-3 on log residuals: almost every run is in the linear zone
    runs = sl.generate_sweep(noise=0.05, rng=1)
    result = sl.fit(runs)
    with pytest.warns(SandwichWarning, match=r"only \d+ of 108 runs are in Huber's quadratic"):
        out = asymptotic_covariance(result, runs)
    assert out.n_quadratic < 15
    assert issubclass(SandwichWarning, sl.ScalingLawsWarning)


def test_no_warning_when_the_quadratic_zone_is_well_populated():
    runs = sl.generate_sweep(noise=0.0005, rng=1)
    result = sl.fit(runs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = asymptotic_covariance(result, runs)
    assert out.n_quadratic >= 15


def test_condition_number_is_that_of_the_scaled_bread():
    runs = sl.generate_sweep(noise=0.002, rng=4)
    result = sl.fit(runs)
    jac, r = _by_hand(result, runs)
    inside = np.abs(r) <= 1e-3
    bread = (jac * inside) @ jac.T
    scale = np.sqrt(np.diag(bread))
    expected = np.linalg.cond(bread / np.outer(scale, scale))
    assert asymptotic_covariance(result, runs).condition_number == pytest.approx(expected,
                                                                                 rel=1e-4)


def test_identifiability_is_the_fits_own_diagnostics():
    runs = sl.generate_sweep(noise=0.002, rng=4)
    result = sl.fit(runs)
    again = identifiability(result, runs)
    assert again["condition_number"] == pytest.approx(result.diagnostics["condition_number"],
                                                      rel=1e-9)
    assert again["identifiable"] == result.diagnostics["identifiable"]
    jac, _ = _by_hand(result, runs)
    by_hand = design_identifiability(jac, result.free_params)
    assert again["condition_number"] == pytest.approx(by_hand["condition_number"], rel=1e-4)


def test_bad_arguments():
    runs = sl.generate_sweep(noise=0.01, rng=9)
    result = sl.fit(runs)
    with pytest.raises(InputError, match="`correction`"):
        asymptotic_covariance(result, runs, correction="HC3")
    with pytest.raises(InputError, match="fingerprints differ"):
        asymptotic_covariance(result, sl.generate_sweep(noise=0.01, rng=10))


def test_an_exact_fit_has_no_sandwich_standard_errors():
    # 5 runs for 5 free parameters: the law passes through every run, the "meat" is zero,
    # and HC0 used to give standard errors of about 1e-15 (HC1: inf) instead of refusing
    runs = sl.load_runs(sl.generate_sweep(rng=0).to_frame().iloc[[0, 20, 40, 60, 80]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        result = sl.fit(runs)
    for correction in ("HC0", "HC1"):
        with pytest.raises(InputError, match="5 runs for 5 free parameters: no residual"):
            asymptotic_covariance(result, runs, correction=correction)
