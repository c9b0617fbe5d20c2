"""The AR(1) sieve bootstrap of one run's noise (uncertainty/run_noise.py).

Checked against what is known independently of the code: Marriott and Pope's (1954)
first-order bias of the least-squares AR(1) coefficient after removing a mean,
E[phi_hat] = phi - (1 + 3 phi) / n; the exact variance of a mean of a stationary AR(1),
w' Sigma w by brute force; and the coverage of the interval it gives for a mean in
simulated AR(1) series of known mean.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from scalinglaws import InputError
from scalinglaws.uncertainty.run_noise import _unit_variance, ar1_noise_draws
from coverage_checks import band

LEVEL = 0.95


def ar1_series(rng, n, coefficient, k, sd=1e-3):
    """``k`` stationary AR(1) series of ``n`` points, innovations of standard deviation
    ``sd`` (written out here, apart from the module's filter)."""
    e = np.empty((k, n))
    e[:, 0] = rng.normal(size=k) / math.sqrt(1 - coefficient ** 2)
    for i in range(1, n):
        e[:, i] = coefficient * e[:, i - 1] + rng.normal(size=k)
    return sd * e


def test_unit_variance_is_the_brute_force_quadratic_form():
    rng = np.random.default_rng(3)
    w = rng.normal(size=25)
    for phi in (-0.5, 0.0, 0.7, 0.95):
        lags = np.abs(np.subtract.outer(np.arange(25), np.arange(25)))
        sigma = phi ** lags / (1 - phi ** 2)
        assert _unit_variance(w, phi) == pytest.approx(w @ sigma @ w, rel=1e-12)


def test_coefficient_is_bias_corrected_to_the_truth():
    # 400 series of 30 points, phi = 0.7, the mean removed (a refitted L0): the raw
    # least-squares coefficient averages Marriott and Pope's 0.7 - 3.1/30 = 0.597 (their
    # expansion is first order: within 0.01), the corrected one the truth within 3
    # standard errors of the mean of 400 estimates (their sd is about 0.18)
    n, phi = 30, 0.7
    series = ar1_series(np.random.default_rng(0), n, phi, 400)
    raw, corrected = [], []
    for k, e in enumerate(series):
        out = ar1_noise_draws(e - e.mean(), np.ones((n, 1)), 2, rng=k)
        raw.append(out.observed_coefficient)
        corrected.append(out.coefficient)
    assert np.mean(raw) == pytest.approx(phi - (1 + 3 * phi) / n, abs=0.01)
    error = np.std(corrected) / math.sqrt(len(corrected))
    assert error < 0.01
    assert np.mean(corrected) == pytest.approx(phi, abs=3 * error)


def test_same_seed_same_draws_and_bad_input_is_named():
    rng = np.random.default_rng(1)
    e = ar1_series(rng, 40, 0.5, 1)[0]
    design = np.ones((40, 1))
    one = ar1_noise_draws(e - e.mean(), design, 50, rng=7)
    two = ar1_noise_draws(e - e.mean(), design, 50, rng=7)
    assert np.array_equal(one.draws, two.draws) and one.draws.shape == (50, 40)
    assert not one.draws.flags.writeable
    assert not np.array_equal(one.draws, ar1_noise_draws(e - e.mean(), design, 50,
                                                         rng=8).draws)
    assert one.describe().startswith("studentized AR(1) sieve bootstrap")
    # noise-free residuals: no noise to redraw
    assert not np.any(ar1_noise_draws(np.zeros(40), design, 5, rng=0).draws)
    with pytest.raises(InputError, match="`residuals`"):
        ar1_noise_draws([1e-3, np.nan, 0.0, 1e-3], np.ones((4, 1)), 5)
    with pytest.raises(InputError, match="`design`"):
        ar1_noise_draws(e, np.ones((39, 1)), 5)
    with pytest.raises(InputError, match="nothing is left"):
        ar1_noise_draws(e[:3], np.ones((3, 2)), 5)
    with pytest.raises(InputError, match="`target`"):
        ar1_noise_draws(e, design, 5, target=np.ones(3))
    with pytest.raises(InputError, match="n_resamples"):
        ar1_noise_draws(e, design, 0)


# Measured with the seeds below (series from rng 0; draws of series k from rng=k), 400
# series, mean estimated, 200 draws each: intervals holding the true mean.
MEASURED = {(30, 0.7, True): 379, (30, 0.0, True): 380, (120, 0.7, True): 381,
            (30, 0.7, False): 358}


@pytest.mark.slow
@pytest.mark.parametrize(("n", "phi", "studentize"), list(MEASURED))
def test_interval_for_a_mean_covers(n, phi, studentize):
    # y = mu + e, e AR(1): the estimate mu_hat = mean(y) is off by mean(e); the interval
    # mu_hat - percentiles of the redrawn series' means holds mu when the percentiles of
    # the draws bracket -mean(e) (symmetric noise). Studentized: within 3 Monte Carlo
    # errors of 95% at 30 points (phi 0.7 and 0), and at 120; the plug-in AR(1) model
    # without it (358 of 400 at 30 points) is why the default studentizes.
    series = ar1_series(np.random.default_rng(0), n, phi, 400)
    w = np.full(n, 1 / n)
    hits = 0
    for k, e in enumerate(series):
        draws = ar1_noise_draws(e - e.mean(), np.ones((n, 1)), 200, target=w,
                                studentize=studentize, rng=k).draws @ w
        low, high = np.percentile(draws, [2.5, 97.5])
        hits += bool(low <= -e.mean() <= high)
    assert hits == MEASURED[(n, phi, studentize)]
    low, high = band(len(series), LEVEL)
    assert (low <= hits <= high) == studentize
