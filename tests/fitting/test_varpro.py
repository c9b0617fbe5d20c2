"""Variable projection: the inner solve against scipy's NNLS and exact truths, the
profile objective against an independent 3-parameter minimisation per cell."""

import numpy as np
import pytest
from scipy import optimize

import scalinglaws as sl
from scalinglaws import InputError
from scalinglaws.fitting.varpro import (EXPONENT_GRID, linear_inner_solve, profile_objective,
                                        separable_starts)
from scalinglaws.laws.forms import get_form
from scalinglaws.laws.synthetic import DEFAULT_TRUTH

TRUTH = DEFAULT_TRUTH["chinchilla"]


def _design(n=60, seed=0):
    rng = np.random.default_rng(seed)
    N = np.exp(rng.uniform(np.log(1e7), np.log(1e10), n))
    D = np.exp(rng.uniform(np.log(1e9), np.log(1e12), n))
    return N, D


def test_inner_solve_is_exact_on_noise_free_data():
    N, D = _design()
    L = get_form("chinchilla").predict(TRUTH, N=N, D=D)
    scales, sse = linear_inner_solve(N, D, L, [TRUTH["alpha"]], [TRUTH["beta"]])
    np.testing.assert_allclose(np.exp(scales[0, 0]), [TRUTH["E"], TRUTH["A"], TRUTH["B"]],
                               rtol=1e-7)
    assert sse[0, 0] < 1e-20


@pytest.mark.parametrize("seed", [1, 2])
def test_inner_solve_matches_scipy_nnls(seed):
    N, D = _design(seed=seed)
    rng = np.random.default_rng(seed)
    L = get_form("chinchilla").predict(TRUTH, N=N, D=D) * np.exp(rng.normal(0, 0.05, N.size))
    w = rng.uniform(0.5, 2.0, N.size)
    alphas, betas = [0.1, 0.35, 0.9], [0.05, 0.37, 1.4]
    scales, sse = linear_inner_solve(N, D, L, alphas, betas, w)
    for i, alpha in enumerate(alphas):
        for j, beta in enumerate(betas):
            # same problem, column-scaled for conditioning, solved by scipy's NNLS
            cols = np.stack([np.ones_like(N), N**-alpha, D**-beta], axis=1)
            norms = np.linalg.norm(cols, axis=0)
            root = np.sqrt(w)
            coef, residual = optimize.nnls(root[:, None] * cols / norms, root * L)
            coef = coef / norms
            ours = np.where(scales[i, j] > -30, np.exp(scales[i, j]), 0.0)
            assert sse[i, j] == pytest.approx(residual**2, rel=1e-8, abs=1e-14)
            np.testing.assert_allclose(ours, coef, rtol=1e-5, atol=1e-12 * np.abs(coef).max())


def test_scales_stay_non_negative():
    N, D = _design()
    L = 400.0 * N**-0.3 + 900.0 * D**-0.25  # no irreducible term: E = 0
    scales, _ = linear_inner_solve(N, D, L, [0.3], [0.25])
    assert np.exp(scales[0, 0, 0]) < 1e-9  # zero up to rounding (or the -30 floor)
    np.testing.assert_allclose(np.exp(scales[0, 0, 1:]), [400.0, 900.0], rtol=1e-6)
    # a cell whose unconstrained solution has E < 0 gets the best feasible subset instead
    L2 = 400.0 * N**-0.3 + 900.0 * D**-0.25 - 0.05
    scales, sse = linear_inner_solve(N, D, L2, [0.3], [0.25])
    assert scales[0, 0, 0] == -30.0 and np.all(np.isfinite(scales)) and sse[0, 0] > 0


def test_separable_starts_rank_the_cells_near_the_truth_first():
    runs = sl.generate_sweep(noise=0.002, rng=0)
    starts = separable_starts(runs.inputs(("N", "D")), runs.loss, count=5)
    assert starts.shape == (5, 5)
    assert abs(starts[0, 3] - TRUTH["alpha"]) <= 0.05 + 1e-9  # within one grid step
    assert abs(starts[0, 4] - TRUTH["beta"]) <= 0.05 + 1e-9
    assert set(np.round(starts[:, 3], 10)) <= set(EXPONENT_GRID)


def test_profile_objective_equals_a_brute_force_minimum_per_cell():
    runs = sl.generate_sweep(noise=0.01, rng=3)
    fitter = sl.LawFitter("chinchilla")
    alphas, betas = np.array([0.30, 0.35, 0.45]), np.array([0.33, 0.37])
    objective, scales = profile_objective(fitter, runs.inputs(("N", "D")), runs.loss, alphas,
                                          betas)
    ln_n, ln_d, ln_l = np.log(runs.N), np.log(runs.D), np.log(runs.loss)
    for i, alpha in enumerate(alphas):
        for j, beta in enumerate(betas):
            def residuals(t):
                return np.logaddexp(np.logaddexp(t[1] - alpha * ln_n, t[2] - beta * ln_d),
                                    t[0]) - ln_l

            best = np.inf
            for x0 in ([0.6, 6.0, 7.5], [0.0, 10.0, 10.0], list(scales[i, j])):
                fit = optimize.least_squares(residuals, x0, loss="huber", f_scale=1e-3,
                                             xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=5000)
                r = residuals(fit.x)
                best = min(best, np.sum(np.where(np.abs(r) <= 1e-3, 0.5 * r**2,
                                                 1e-3 * (np.abs(r) - 0.5e-3))))
            assert objective[i, j] <= best * (1 + 1e-9), (alpha, beta)
            assert objective[i, j] == pytest.approx(best, rel=1e-6)
    # the profile's minimum over a grid through the optimum is the fit's objective
    result = fitter.fit(runs)
    at_optimum, _ = profile_objective(fitter, runs.inputs(("N", "D")), runs.loss,
                                      [result.params["alpha"]], [result.params["beta"]])
    assert at_optimum[0, 0] == pytest.approx(result.objective, rel=1e-9)


def test_profile_needs_chinchilla_with_every_parameter_free():
    runs = sl.generate_sweep(rng=0)
    with pytest.raises(InputError, match="chinchilla form with every parameter free"):
        profile_objective(sl.LawFitter("chinchilla", fixed={"E": 1.8}),
                          runs.inputs(("N", "D")), runs.loss, [0.3], [0.3])
