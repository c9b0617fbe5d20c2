"""scipy's last step on one point (fitting/polish.py), on a grouped fit's sizes."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from scalinglaws import _blas
from scalinglaws.fitting.polish import polish
from scalinglaws.laws.losses import Huber

# the size of a joint grouped fit (Porian et al.'s 15 settings, alpha and beta shared:
# 1,745 runs, 47 parameters), where scipy's SVDs are large enough for OpenBLAS to thread:
# 23 groups with their own amplitude and offset and one shared decay rate
N_GROUPS, N_ROWS = 23, 1745
GROUP = np.arange(N_ROWS) % N_GROUPS
X = np.random.default_rng(0).uniform(0.0, 4.0, N_ROWS)
TRUTH = np.concatenate([np.linspace(1.0, 3.0, N_GROUPS), np.linspace(0.1, 0.5, N_GROUPS), [1.3]])
LO, HI = np.full(TRUTH.size, -10.0), np.full(TRUTH.size, 10.0)
LO[-1] = 0.0


def _model(theta):
    a, c, b = theta[:N_GROUPS], theta[N_GROUPS:-1], theta[-1]
    e = np.exp(-b * X)
    value = a[GROUP] * e + c[GROUP]
    jac = np.zeros((TRUTH.size, N_ROWS))
    jac[GROUP, np.arange(N_ROWS)] = e
    jac[N_GROUPS + GROUP, np.arange(N_ROWS)] = 1.0
    jac[-1] = -a[GROUP] * X * e
    return value, jac


Y = _model(TRUTH)[0] + np.random.default_rng(1).normal(0.0, 0.01, N_ROWS)
START = TRUTH * 1.2


def residuals(theta):
    value, jac = _model(theta[0])
    return (value - Y)[None], jac[None]


def _brute_force_gradient(x):
    """The Huber objective's gradient at ``x`` by central differences (independent of
    the Jacobian passed to polish)."""
    loss = Huber(0.05)

    def objective(t):
        return float(np.sum(loss.rho(residuals(t[None])[0][0])))

    steps = 1e-6 * np.maximum(1.0, np.abs(x))
    return np.array([(objective(x + h) - objective(x - h)) / (2 * h[i])
                     for i, h in enumerate(np.diag(steps))])


def test_reaches_a_stationary_point_on_a_grouped_fits_size():
    x, f, ok, gradient = polish(residuals, START, Huber(0.05), LO, HI)
    assert ok and gradient < 1e-8
    # the objective's gradient at the answer, by finite differences, vanishes (to the
    # differencing error: 1e-6 steps on an objective of order 1e-1 with terms ~1e-4)
    assert np.max(np.abs(_brute_force_gradient(x))) < 1e-6
    # and the answer is near the truth the noise (sd 0.01 on 76 runs a group) allows
    np.testing.assert_allclose(x, TRUTH, atol=0.05)


@pytest.mark.slow  # 2-25 s: the polish on two BLAS threads of a loaded machine
def test_blas_runs_on_one_thread_inside_and_the_answer_is_the_same_bit_for_bit(monkeypatch):
    seen = []

    def watched(theta):
        if not seen:
            seen.append({pool["num_threads"] for pool in threadpool_info()
                         if pool["user_api"] == "blas"})
        return residuals(theta)

    with threadpool_limits(2, user_api="blas"):
        limited = polish(watched, START, Huber(0.05), LO, HI)
        assert seen == [{1}]
        monkeypatch.setattr(_blas, "_blas_controller", lambda: None)  # the limit off
        free = polish(residuals, START, Huber(0.05), LO, HI)
    np.testing.assert_array_equal(limited[0], free[0])
    assert limited[1:] == free[1:]
