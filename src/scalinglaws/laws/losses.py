"""Robust losses applied to residuals: small classes with their formula in the docstring.

A fit minimises ``sum_i rho(r_i)`` over the residuals ``r_i`` (log or linear
space). Each loss provides ``rho``, its derivative ``psi``, the IRLS weight
``psi(r) / r`` and ``psi_deriv``; the optimiser needs only these.
"""

from __future__ import annotations

import numpy as np

from .._exceptions import InputError

__all__ = ["Loss", "Huber", "Squared", "AsymmetricHuber", "get_loss"]


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

    def rho_and_psi(self, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``rho(r)`` and ``psi(r)`` together (a loss may share work between them)."""
        return self.rho(r), self.psi(r)

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
        return self.rho_and_psi(r)[0]

    def psi(self, r):
        return np.clip(r, -self.delta, self.delta)

    def rho_and_psi(self, r):
        # psi (r - psi / 2) is r^2 / 2 inside delta and delta (|r| - delta / 2) outside, bit
        # for bit the same as the two branches (0.5 r and r - 0.5 r are exact), in fewer
        # array passes than np.where: this runs on every residual of every pass
        psi = self.psi(r)
        return psi * (r - 0.5 * psi), psi

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


class AsymmetricHuber(Loss):
    r"""Huber loss that weighs over-estimates ``ratio`` times more than under-estimates.

    .. math::

        \rho(r) = w(r)\,\rho_\delta(r), \qquad
        w(r) = \begin{cases} \text{ratio} & r > 0 \\ 1 & r \le 0 \end{cases}

    with :math:`\rho_\delta` the :class:`Huber` loss and ``r = prediction -
    observation`` (log or linear space), so ``r > 0`` is a law that over-estimates the
    loss of a run. ``psi(r) = w(r) clip(r, -delta, delta)`` is continuous (both sides
    vanish at 0), so the objective stays once differentiable. ``delta=inf`` gives the
    asymmetric squared loss (an expectile regression).

    Why: the observed loss of a run is the law plus scatter, but also plus any
    shortfall of that run's recipe (a learning rate, a schedule or a shape off its
    optimum) which only ever raises the loss. Penalising over-estimates more pulls the
    law toward the lower envelope of the runs, the best-tuned ones; ``ratio < 1`` does
    the opposite.

    Parameters
    ----------
    delta : float
        Positive Huber threshold in residual units (``inf`` for squared loss).
    ratio : float
        Positive weight of a positive residual relative to a negative one.
    """

    name = "asymmetric_huber"

    def __init__(self, delta: float = 1e-3, ratio: float = 2.0):
        delta, ratio = float(delta), float(ratio)
        if np.isnan(delta) or delta <= 0:
            raise InputError(f"`delta` must be a positive number (or inf), got {delta!r}")
        if not np.isfinite(ratio) or ratio <= 0:
            raise InputError(f"`ratio` must be a finite positive number, got {ratio!r}")
        self.delta, self.ratio = delta, ratio

    def _side(self, r):
        return np.where(np.asarray(r) > 0, self.ratio, 1.0)

    def rho(self, r):
        a = np.abs(r)
        core = (0.5 * r * r if np.isinf(self.delta)
                else np.where(a <= self.delta, 0.5 * r * r, self.delta * (a - 0.5 * self.delta)))
        return self._side(r) * core

    def psi(self, r):
        return self._side(r) * np.clip(r, -self.delta, self.delta)

    def psi_deriv(self, r):
        return self._side(r) * (np.abs(r) <= self.delta)

    def weights(self, r):
        a = np.abs(r)
        return self._side(r) * np.minimum(1.0, self.delta / np.maximum(a, 1e-300))

    def to_dict(self):
        return {"name": self.name, "delta": self.delta, "ratio": self.ratio}

    def __repr__(self):
        return f"AsymmetricHuber(delta={self.delta:g}, ratio={self.ratio:g})"


def get_loss(loss: str | Loss | dict = "huber", delta: float = 1e-3) -> Loss:
    """Turn a loss name, a :meth:`Loss.to_dict` dictionary or a :class:`Loss` into a :class:`Loss`.

    Names: ``"huber"``, ``"squared"`` and ``"asymmetric_huber"`` (default ``ratio``;
    pass the instance or its ``to_dict()`` for another). ``delta`` applies to the
    Huber losses when a name is given.
    """
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, dict):
        options = {k: v for k, v in loss.items() if k != "name"}
        cls = _BY_NAME.get(str(loss.get("name", "")).lower())
        if cls is None:
            raise InputError(f"`loss` must name one of {', '.join(_BY_NAME)}, got {loss!r}")
        try:
            return cls(**options)
        except TypeError:
            raise InputError(f"`loss` {loss!r} has options {cls.__name__} does not take") from None
    names = ("huber", "squared", "l2", "least_squares", "asymmetric_huber")
    if not isinstance(loss, str) or loss.lower() not in names:
        raise InputError(f"`loss` must be one of 'huber', 'squared', 'asymmetric_huber', "
                         f"got {loss!r}")
    name = loss.lower()
    if name == "huber":
        return Huber(delta)
    if name == "asymmetric_huber":
        return AsymmetricHuber(delta)
    return Squared()


_BY_NAME = {"huber": Huber, "squared": Squared, "asymmetric_huber": AsymmetricHuber}
