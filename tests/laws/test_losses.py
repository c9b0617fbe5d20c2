import numpy as np
import pytest
from scipy import special

from scalinglaws import Huber, InputError, Squared
from scalinglaws.laws.losses import get_loss

R = np.linspace(-0.01, 0.01, 401)


@pytest.mark.parametrize("loss", [Huber(1e-3), Huber(0.5), Squared()])
def test_psi_is_derivative_of_rho(loss):
    h = 1e-7
    numeric = (loss.rho(R + h) - loss.rho(R - h)) / (2 * h)
    np.testing.assert_allclose(loss.psi(R), numeric, atol=1e-6)


@pytest.mark.parametrize("loss", [Huber(1e-3), Squared()])
def test_weights_are_psi_over_r(loss):
    r = R[R != 0]
    np.testing.assert_allclose(loss.weights(r), loss.psi(r) / r)


def test_huber_matches_scipy_convention():
    np.testing.assert_allclose(Huber(1e-3).rho(R), special.huber(1e-3, R))


def test_get_loss_validates():
    assert isinstance(get_loss("huber", 0.1), Huber)
    assert isinstance(get_loss("squared"), Squared)
    with pytest.raises(InputError, match="`loss` must be one of"):
        get_loss("cauchy")
    with pytest.raises(InputError, match="`delta`"):
        Huber(-1)
