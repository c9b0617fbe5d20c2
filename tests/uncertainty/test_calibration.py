"""The extrapolation term of prediction intervals, calibrated on a rollout."""

import math

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.laws.misspecified import misspecified_sweep
from scalinglaws.uncertainty.calibration import (MIN_CONFORMAL, ExtrapolationCalibration,
                                                 _fit_components, calibrate_extrapolation)


def test_variance_components_are_recovered_by_maximum_likelihood():
    rng = np.random.default_rng(0)
    u = rng.uniform(0.1, 3.0, 4000)
    base = np.full(u.size, 0.004)
    errors = rng.standard_normal(u.size) * np.sqrt(base**2 + 0.003**2 + (0.002 * u) ** 2)
    tau, kappa = _fit_components(errors, base, u)
    # 4,000 draws: each component within ~10% (a few standard errors of the MLE)
    assert tau == pytest.approx(0.003, rel=0.15)
    assert kappa == pytest.approx(0.002, rel=0.1)


def test_no_extrapolation_term_when_the_folds_already_explain_the_errors():
    rng = np.random.default_rng(1)
    u = rng.uniform(0.1, 3.0, 2000)
    base = np.full(u.size, 0.01)
    tau, kappa = _fit_components(0.01 * rng.standard_normal(u.size), base, u)
    assert tau < 0.002 and kappa < 0.001


def test_conformal_multiplier_is_the_finite_sample_quantile():
    scores = tuple(np.linspace(0.1, 3.0, 39))
    calibration = ExtrapolationCalibration(axis="C", tau=0.0, kappa=0.0, scores=scores,
                                           max_log_factor=2.0, n_folds=3)
    # ceil((39 + 1) * 0.95) = 38th smallest score
    assert calibration.multiplier(0.95) == pytest.approx(scores[37])
    assert calibration.multiplier(0.99) is None  # rank 40 > 39 scores
    few = ExtrapolationCalibration(axis="C", tau=0.0, kappa=0.0,
                                   scores=scores[:MIN_CONFORMAL - 1], max_log_factor=1.0,
                                   n_folds=2)
    assert few.multiplier(0.5) is None


def test_extra_sd_applies_beyond_the_fitted_range_only():
    calibration = ExtrapolationCalibration(axis="C", tau=0.003, kappa=0.004, scores=(1.0,),
                                           max_log_factor=1.0, n_folds=1)
    sd = calibration.extra_sd(np.array([-1.0, 0.0, 0.5]))
    assert sd[0] == sd[1] == 0.0
    assert sd[2] == pytest.approx(math.hypot(0.003, 0.002))


def test_correct_law_needs_little_extrapolation_term_and_misspecified_needs_more():
    exact = misspecified_sweep("exact", rng=0)
    embeddings = misspecified_sweep("embeddings", rng=0)
    calm = calibrate_extrapolation(sl.fit(exact), exact, progress=False)
    rough = calibrate_extrapolation(sl.fit(embeddings), embeddings, progress=False)
    assert calm.n_points >= MIN_CONFORMAL and calm.n_folds == 5
    # with the right law the folds' own parameter and scatter terms explain the errors:
    # the extrapolation term stays below the 1% noise even at the largest factor seen
    assert calm.extra_sd(calm.max_log_factor) < 0.01
    assert rough.extra_sd(rough.max_log_factor) > 2 * calm.extra_sd(calm.max_log_factor)
    assert calm.to_dict()["axis"] == "C"


def test_the_first_fold_sees_three_sizes_and_three_token_counts():
    # an OLMo calibration fold of 8 runs at 2 model sizes left E and alpha unidentified (two
    # optima, one objective, chosen by rounding): the first fold now grows until every
    # input has taken 3 distinct values, in order along the axis
    from scalinglaws.uncertainty.calibration import _runs_to_vary_every_input

    N = np.array([1e8, 1e8, 2e8, 2e8, 1e8, 2e8, 4e8, 4e8, 8e8])
    D = np.array([1e9, 2e9, 1e9, 2e9, 4e9, 4e9, 1e9, 2e9, 1e9])
    runs = sl.Runs.from_arrays(N=N, D=D, loss=np.full(9, 3.0))
    order = np.argsort(6 * N * D, kind="stable")
    needed = _runs_to_vary_every_input(runs, ("N", "D"), "C")
    first = order[:needed]
    assert len(np.unique(N[first])) >= 3 and len(np.unique(D[first])) >= 3
    assert len(np.unique(N[order[:needed - 1]])) < 3 or len(np.unique(D[order[:needed - 1]])) < 3
    # a table that never varies an input that much asks nothing more
    assert _runs_to_vary_every_input(runs.select(mask=N < 4e8), ("N", "D"), "C") == 0
