import numpy as np
import pytest
from scipy import special

from scalinglaws import Huber, InputError, Squared
from scalinglaws.laws.losses import AsymmetricHuber, get_loss

R = np.linspace(-0.01, 0.01, 401)
LOSSES = [Huber(1e-3), Huber(0.5), Squared(), AsymmetricHuber(1e-3, 3.0),
          AsymmetricHuber(2e-3, 0.5), AsymmetricHuber(np.inf, 2.0)]


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_psi_is_derivative_of_rho(loss):
    h = 1e-7
    numeric = (loss.rho(R + h) - loss.rho(R - h)) / (2 * h)
    np.testing.assert_allclose(loss.psi(R), numeric, atol=1e-6)


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_weights_are_psi_over_r(loss):
    r = R[R != 0]
    np.testing.assert_allclose(loss.weights(r), loss.psi(r) / r)


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_psi_deriv_is_derivative_of_psi_away_from_the_kinks(loss):
    h = 1e-9
    delta = getattr(loss, "delta", np.inf)
    r = R[(np.abs(np.abs(R) - delta) > 1e-6) & (np.abs(R) > 1e-6)]
    numeric = (loss.psi(r + h) - loss.psi(r - h)) / (2 * h)
    np.testing.assert_allclose(loss.psi_deriv(r), numeric, atol=1e-5)


def test_huber_rho_and_psi_share_work_bit_for_bit():
    """``psi (r - psi / 2)`` equals the two branches of rho exactly, kinks and infinities too."""
    loss = Huber(1e-3)
    r = np.concatenate([np.random.default_rng(0).normal(0, 3e-3, 10_000),
                        [1e-3, -1e-3, 0.0, np.inf, -np.inf, 1e300, -1e300, 5e-324]])
    rho, psi = loss.rho_and_psi(r)
    a = np.abs(r)
    with np.errstate(over="ignore"):  # 0.5 r r of the unused branch at r = 1e300
        branches = np.where(a <= 1e-3, 0.5 * r * r, 1e-3 * (a - 0.5e-3))
    assert np.array_equal(rho, branches) and np.array_equal(psi, loss.psi(r))
    assert np.array_equal(loss.rho(r), rho)


def test_huber_matches_scipy_convention():
    np.testing.assert_allclose(Huber(1e-3).rho(R), special.huber(1e-3, R))


def test_asymmetric_huber_weighs_over_estimates_by_ratio():
    # independent reference: scipy's Huber, times the ratio for positive residuals
    loss = AsymmetricHuber(1e-3, 3.0)
    expected = special.huber(1e-3, R) * np.where(R > 0, 3.0, 1.0)
    np.testing.assert_allclose(loss.rho(R), expected)
    np.testing.assert_allclose(AsymmetricHuber(1e-3, 1.0).rho(R), special.huber(1e-3, R))
    np.testing.assert_allclose(AsymmetricHuber(np.inf, 2.0).rho(R),
                               0.5 * R ** 2 * np.where(R > 0, 2.0, 1.0))
    assert loss.rho(0.0) == 0.0 and loss.psi(0.0) == 0.0


def test_asymmetric_squared_loss_gives_the_expectile():
    # The minimiser c of sum_i w(c - y_i)(c - y_i)^2 solves sum_i w_i (c - y_i) = 0,
    # the expectile of the data; check it against a brute-force grid.
    y = np.array([0.0, 0.1, 0.3, 1.0, 2.0])
    loss = AsymmetricHuber(np.inf, 4.0)
    grid = np.linspace(-1, 3, 400_001)
    objective = loss.rho(grid[:, None] - y[None, :]).sum(axis=1)
    best = grid[np.argmin(objective)]
    side = np.where(best - y > 0, 4.0, 1.0)
    assert abs(np.sum(side * (best - y))) < 1e-3  # the first-order condition
    assert best < y.mean()  # over-estimates cost more, so the fit sits lower


def test_get_loss_validates():
    assert isinstance(get_loss("huber", 0.1), Huber)
    assert isinstance(get_loss("squared"), Squared)
    asym = get_loss("asymmetric_huber", 0.01)
    assert isinstance(asym, AsymmetricHuber) and asym.delta == 0.01 and asym.ratio == 2.0
    again = get_loss(AsymmetricHuber(0.02, 5.0).to_dict())
    assert (again.delta, again.ratio) == (0.02, 5.0)
    assert isinstance(get_loss({"name": "huber", "delta": 0.3}), Huber)
    with pytest.raises(InputError, match="`loss` must be one of"):
        get_loss("cauchy")
    with pytest.raises(InputError, match="`loss` must name one of"):
        get_loss({"name": "cauchy"})
    with pytest.raises(InputError, match="options"):
        get_loss({"name": "squared", "delta": 1.0})
    with pytest.raises(InputError, match="`delta`"):
        Huber(-1)
    with pytest.raises(InputError, match="`delta`"):
        AsymmetricHuber(0.0)
    with pytest.raises(InputError, match="`ratio`"):
        AsymmetricHuber(1e-3, -2.0)
