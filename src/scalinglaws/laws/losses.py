"""Robust losses applied to residuals: small classes with their formula in the docstring.

A fit minimises ``sum_i rho(r_i)`` over the residuals ``r_i`` (log or linear
space). Each loss provides ``rho``, its derivative ``psi``, the IRLS weight
``psi(r) / r`` and ``psi_deriv``; the optimiser needs only these.
"""

from __future__ import annotations

import numpy as np

from .._exceptions import InputError

__all__ = ["Loss", "Huber", "Squared", "get_loss"]


class Loss:
    """Base class of residual losses."""

    name: str = "loss"

    def rho(self, r: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def psi(self, r: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def psi_deriv(self, r: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def weights(self, r: np.ndarray) -> np.ndarray:
        """IRLS weights ``psi(r) / r`` (the limit 1 at ``r = 0`` for both losses here)."""
        raise NotImplementedError  # pragma: no cover

    def to_dict(self) -> dict:
        """Plain-type description used in JSON exports."""
        return {"name": self.name}


class Huber(Loss):
    r"""Huber loss with threshold ``delta`` in raw residual units.

    .. math::

        \rho_\delta(r) = \begin{cases} r^2/2 & |r| \le \delta \\
                         \delta\,(|r| - \delta/2) & |r| > \delta \end{cases}

    This is ``scipy.special.huber(delta, r)``, the convention of Hoffmann et
    al. (2022, App. D.2) with ``delta = 1e-3`` on log residuals (note that
    statsmodels' ``HuberT`` instead scales residuals by a robust scale
    estimate). ``psi(r) = clip(r, -delta, delta)``.

    Parameters
    ----------
    delta : float
        Positive threshold between the quadratic and the linear regime.
    """

    name = "huber"

    def __init__(self, delta: float = 1e-3):
        delta = float(delta)
        if not np.isfinite(delta) or delta <= 0:
            raise InputError(f"`delta` must be a finite positive number, got {delta!r}")
        self.delta = delta

    def rho(self, r):
        a = np.abs(r)
        return np.where(a <= self.delta, 0.5 * r * r, self.delta * (a - 0.5 * self.delta))

    def psi(self, r):
        return np.clip(r, -self.delta, self.delta)

    def psi_deriv(self, r):
        return (np.abs(r) <= self.delta).astype(float)

    def weights(self, r):
        a = np.abs(r)
        return np.minimum(1.0, self.delta / np.maximum(a, 1e-300))

    def to_dict(self):
        return {"name": self.name, "delta": self.delta}

    def __repr__(self):
        return f"Huber(delta={self.delta:g})"


class Squared(Loss):
    r"""Squared loss, :math:`\rho(r) = r^2 / 2` (so the objective is half the residual sum of squares)."""

    name = "squared"

    def rho(self, r):
        return 0.5 * r * r

    def psi(self, r):
        return np.asarray(r, dtype=float)

    def psi_deriv(self, r):
        return np.ones_like(r, dtype=float)

    def weights(self, r):
        return np.ones_like(r, dtype=float)

    def __repr__(self):
        return "Squared()"


def get_loss(loss: str | Loss = "huber", delta: float = 1e-3) -> Loss:
    """Turn a loss name (``"huber"`` or ``"squared"``) or a :class:`Loss` into a :class:`Loss`."""
    if isinstance(loss, Loss):
        return loss
    if not isinstance(loss, str) or loss.lower() not in ("huber", "squared", "l2", "least_squares"):
        raise InputError(f"`loss` must be one of 'huber', 'squared', got {loss!r}")
    return Huber(delta) if loss.lower() == "huber" else Squared()
