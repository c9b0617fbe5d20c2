import numpy as np
import pytest

from scalinglaws.laws.losses import Huber, Squared
from scalinglaws.fitting.engine import (distinct_optima, evaluate_starts, multistart_minimize,
                                        row_blocks)
from scalinglaws.fitting.polish import polish
from scalinglaws.uncertainty.bootstrap import ResampleModel

X = np.linspace(0.0, 4.0, 30)
Y = 2.5 * np.exp(-1.3 * X) + 0.4


def exp_residuals(theta):
    a, b, c = theta[:, :1], theta[:, 1:2], theta[:, 2:3]
    e = np.exp(-b * X)
    r = a * e + c - Y
    jac = np.stack([e, -a * X * e, np.ones_like(e)], axis=1)
    return r, jac


LO, HI = np.array([-10.0, 0.0, -10.0]), np.array([10.0, 10.0, 10.0])


def test_all_starts_reach_truth_on_a_clean_problem():
    starts = np.random.default_rng(0).uniform([0, 0.1, -1], [5, 5, 1], size=(50, 3))
    out = multistart_minimize(exp_residuals, starts, Squared(), LO, HI, prune_after=0, stall=0)
    np.testing.assert_allclose(out.x[out.best], [2.5, 1.3, 0.4], rtol=1e-6)
    assert out.converged.sum() >= 45


def test_weights_equal_duplicated_data():
    noisy = Y + np.random.default_rng(1).normal(0, 0.05, X.size)
    counts = np.random.default_rng(2).integers(0, 3, X.size)

    def weighted_residuals(theta):
        r, jac = exp_residuals(theta)
        return r + (Y - noisy), jac

    def duplicated(theta):
        r, jac = weighted_residuals(theta)
        rep = np.repeat(np.arange(X.size), counts)
        return r[:, rep], jac[:, :, rep]

    start = np.array([[2.0, 1.0, 0.0]])
    a = multistart_minimize(weighted_residuals, start, Huber(0.05), LO, HI, weights=counts)
    b = multistart_minimize(duplicated, start, Huber(0.05), LO, HI)
    xa, fa, *_ = polish(weighted_residuals, a.x[0], Huber(0.05), LO, HI, weights=counts)
    xb, fb, *_ = polish(duplicated, b.x[0], Huber(0.05), LO, HI)
    np.testing.assert_allclose(xa, xb, rtol=1e-6)
    # the reported objective is the weighted Huber sum, recomputed here from scratch
    r = xa[0] * np.exp(-xa[1] * X) + xa[2] - noisy
    direct = np.sum(counts * np.where(np.abs(r) <= 0.05, 0.5 * r**2, 0.05 * (np.abs(r) - 0.025)))
    assert fa == pytest.approx(direct, rel=1e-13)
    assert abs(fa - fb) <= 1e-12 * fb


def test_pruning_keeps_best_per_group():
    starts = np.random.default_rng(3).uniform([0, 0.1, -1], [5, 5, 1], size=(40, 3))
    groups = np.repeat([0, 1], 20)
    out = multistart_minimize(exp_residuals, starts, Squared(), LO, HI, prune_after=1, keep=3,
                              groups=groups)
    assert (~out.pruned[:20]).sum() <= 3 and (~out.pruned[20:]).sum() <= 3
    assert (~out.pruned[:20]).sum() >= 1 and (~out.pruned[20:]).sum() >= 1


def test_bounds_respected_and_distinct_optima_grouped():
    lo, hi = np.array([-10.0, 2.0, -10.0]), HI  # true b = 1.3 is outside
    starts = np.random.default_rng(4).uniform([0, 2, -1], [5, 5, 1], size=(20, 3))
    out = multistart_minimize(exp_residuals, starts, Squared(), lo, hi, prune_after=0)
    assert np.all(out.x[:, 1] >= 2.0)
    assert out.x[out.best, 1] == 2.0
    groups = distinct_optima(out)
    assert sum(len(g) for g in groups) == 20
    assert groups[0][0] == out.best or out.fun[groups[0][0]] == out.fun[out.best]


def test_value_pass_ranks_and_only_the_best_iterate():
    starts = np.random.default_rng(5).uniform([0, 0.1, -1], [5, 5, 1], size=(60, 3))
    scores = evaluate_starts(exp_residuals, starts, Squared())
    r, _ = exp_residuals(starts)
    np.testing.assert_allclose(scores, 0.5 * np.sum(r**2, axis=1), rtol=1e-14)
    groups = np.repeat([0, 1, 2], 20)
    out = multistart_minimize(exp_residuals, starts, Squared(), LO, HI, rank=4, groups=groups,
                              prune_after=0)
    for g in range(3):
        members = np.flatnonzero(groups == g)
        kept = members[np.argsort(scores[members], kind="stable")[:4]]
        assert set(np.flatnonzero(~out.pruned & (groups == g))) == set(kept)
    np.testing.assert_allclose(out.x[out.best], [2.5, 1.3, 0.4], rtol=1e-6)


def test_row_blocks_give_the_same_fit_as_one_block():
    x = np.linspace(0.0, 4.0, 1000)
    y = 2.5 * np.exp(-1.3 * x) + 0.4 + np.random.default_rng(6).normal(0, 0.01, x.size)

    def make(rows):
        xs, ys = x[rows], y[rows]

        def residuals(theta):
            a, b, c = theta[:, :1], theta[:, 1:2], theta[:, 2:3]
            e = np.exp(-b * xs)
            return a * e + c - ys, np.stack([e, -a * xs * e, np.ones_like(e)], axis=1)
        return residuals

    starts = np.random.default_rng(7).uniform([0, 0.1, -1], [5, 5, 1], size=(30, 3))
    whole = multistart_minimize(make(slice(None)), starts, Huber(0.02), LO, HI, rank=8)
    split = multistart_minimize(row_blocks(make, x.size, rows_per_block=64), starts,
                                Huber(0.02), LO, HI, rank=8)
    assert len(row_blocks(make, x.size, rows_per_block=64)) == 16
    np.testing.assert_allclose(split.x[split.best], whole.x[whole.best], rtol=1e-9)
    assert split.fun[split.best] == pytest.approx(whole.fun[whole.best], rel=1e-12)


def test_a_start_gives_the_same_bits_alone_or_in_a_batch():
    starts = np.random.default_rng(8).uniform([0, 0.1, -1], [5, 5, 1], size=(25, 3))
    weights = np.random.default_rng(9).integers(0, 3, (25, X.size)).astype(float)
    batch = multistart_minimize(exp_residuals, starts, Huber(0.05), LO, HI, weights=weights,
                                groups=np.arange(25), prune_after=0, stall=0)
    for i in (0, 7, 24):
        alone = multistart_minimize(exp_residuals, starts[i:i + 1], Huber(0.05), LO, HI,
                                    weights=weights[i:i + 1], prune_after=0, stall=0)
        assert np.array_equal(alone.x[0], batch.x[i]) and alone.fun[0] == batch.fun[i]


def test_stall_test_stops_a_start_that_no_longer_improves():
    # with the model and gradient tests switched off (ftol = gtol = 0) a start at its
    # optimum goes on until no damped step helps (the damping passes 1e10); the stall
    # test stops it once its gains have stayed below 1e-12 for 5 accepted steps
    starts = np.random.default_rng(0).uniform([0, 0.1, -1], [5, 5, 1], size=(20, 3))
    noisy = Y + np.random.default_rng(1).normal(0, 0.05, X.size)

    def residuals(theta):
        r, jac = exp_residuals(theta)
        return r + (Y - noisy), jac

    kwargs = dict(prune_after=0, ftol=0.0, gtol=0.0, max_iter=300)
    with_stall = multistart_minimize(residuals, starts, Squared(), LO, HI, **kwargs)
    without = multistart_minimize(residuals, starts, Squared(), LO, HI, stall=0, **kwargs)
    assert with_stall.nit < without.nit < 300
    assert with_stall.stalled[~with_stall.pruned].any()
    assert with_stall.fun[with_stall.best] == pytest.approx(without.fun[without.best], rel=1e-12)
    assert np.isfinite(with_stall.gradient).all()  # the gradient test is still reported
    assert with_stall.gradient[with_stall.best] < 1e-6


def _resampled_problem(n_rows=40, seed=11):
    """A Huber fit of the exponential model on noisy data, and bootstrap-like integer
    weights (each row's multiplicity in a resample of the points)."""
    rng = np.random.default_rng(seed)
    noisy = Y + rng.normal(0, 0.05, X.size)

    def residuals(theta):
        r, jac = exp_residuals(theta)
        return r + (Y - noisy), jac

    full = multistart_minimize(residuals, np.array([[2.0, 1.0, 0.0]]), Huber(0.02), LO, HI)
    picks = rng.integers(0, X.size, (n_rows, X.size))
    weights = np.stack([np.bincount(p, minlength=X.size) for p in picks]).astype(float)
    return residuals, full.x[0], weights


def test_refine_mode_reaches_the_default_searchs_optimum():
    """Refine mode (with the bootstrap's model: shared first pass, Newton curvature, lean
    passes) ends no higher than the
    default search, an independent path (Gauss-Newton LM with every pass in full), from
    the same optimum of the full data, to 1e-12 relative, on every weight vector."""
    residuals, optimum, weights = _resampled_problem()
    x0 = np.tile(optimum, (len(weights), 1))
    options = dict(weights=weights, groups=np.arange(len(weights)), prune_after=0, stall=0)
    default = multistart_minimize(residuals, x0, Huber(0.02), LO, HI, **options)
    refined = multistart_minimize(residuals, x0, Huber(0.02), LO, HI, damping=1e-5,
                                  refine=ResampleModel, **options)
    assert default.converged.all() and refined.converged.all()
    assert np.all(refined.fun <= default.fun * (1 + 1e-12))
    assert refined.nfev < default.nfev  # one shared first pass, fewer passes after it
    assert np.isnan(refined.gradient).all()  # the gradient test is not part of refine mode
    # and each end point is a stationary point of its own weighted objective
    for i in (0, 17, 39):
        _, f_polished, _, gradient = polish(residuals, refined.x[i], Huber(0.02), LO, HI,
                                            weights=weights[i])
        assert refined.fun[i] <= f_polished * (1 + 1e-12) and gradient < 1e-6


def test_refine_mode_gives_the_same_bits_alone_or_in_a_batch():
    # two distinct starts shared by the rows, as a bootstrap with two optima has
    residuals, optimum, weights = _resampled_problem(n_rows=24, seed=12)
    x0 = np.where(np.arange(24)[:, None] % 2 == 0, optimum, optimum * 1.01)
    batch = multistart_minimize(residuals, x0, Huber(0.02), LO, HI, weights=weights,
                                groups=np.arange(24), prune_after=0, stall=0, refine=ResampleModel)
    for i in (0, 5, 23):
        alone = multistart_minimize(residuals, x0[i:i + 1], Huber(0.02), LO, HI,
                                    weights=weights[i:i + 1], prune_after=0, stall=0,
                                    refine=ResampleModel)
        assert np.array_equal(alone.x[0], batch.x[i]) and alone.fun[0] == batch.fun[i]
