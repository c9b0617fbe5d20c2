import numpy as np

from scalinglaws.laws.losses import Huber, Squared
from scalinglaws.fitting.engine import distinct_optima, multistart_minimize, polish

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
    assert fa == np.float64(fa) and abs(fa - fb) <= 1e-12 * fb


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
