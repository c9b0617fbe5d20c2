"""The last step of a fit: refine one point with scipy, exactly on the fit's objective.

The engine (:mod:`.engine`) finds the optima of many starts at once; :func:`polish`
takes one of them to a certified stationary point with scipy's trust-region least
squares (Huber through ``loss="huber"``, bootstrap multiplicities as repeated
residuals) and, when that stops short, L-BFGS-B, and reports the relative projected
gradient every fit's convergence test reads.
"""

from __future__ import annotations

import numpy as np

from .._blas import one_blas_thread
from ..laws.losses import Loss
from .engine import _EXACT_FIT, ResidualFn, _bound_tolerance, _objective, _relative

__all__ = ["polish"]


def _least_squares(residuals, x, loss, lower, upper, w):
    """scipy's trust-region least squares on the same objective, or None if it cannot.

    scipy's ``loss="huber"`` with ``f_scale=delta`` is exactly Huber_delta
    (``0.5 f_scale^2 rho(r^2 / f_scale^2)`` = ``r^2/2`` or ``delta(|r| - delta/2)``).
    Weights enter as ``sqrt(w)`` on the residuals, exact for squared loss; for Huber
    that is exact only for weights 0 or 1, so integer weights (a bootstrap resample's
    multiplicities) repeat each residual ``w`` times instead, and other weights skip
    this method.
    """
    from scipy import optimize

    weighted = not np.isscalar(w)
    repeat = None
    root = 1.0
    if weighted and loss.name == "huber" and np.any((w != 0) & (w != 1)):
        if not np.all(w == np.round(w)) or w.sum() > 50 * w.size:
            return None
        repeat = np.repeat(np.arange(w.size), w.astype(int))
    elif weighted:
        root = np.sqrt(w)
    kwargs = {"loss": "huber", "f_scale": loss.delta} if loss.name == "huber" else {}
    lo = np.where(np.isfinite(lower), lower, -np.inf)
    hi = np.where(np.isfinite(upper), upper, np.inf)
    start = np.clip(x, lo, hi)
    inside = (start > lo) & (start < hi)
    if not np.all(inside):  # least_squares needs a strictly feasible start
        start = np.where(inside, start, np.clip(start, lo + _bound_tolerance(lo, 1e-10),
                                                hi - _bound_tolerance(hi, 1e-10)))
    if repeat is None:
        def fun(t):
            return root * residuals(t[None, :])[0][0]

        def jac(t):
            return (root * residuals(t[None, :])[1][0]).T
    else:
        def fun(t):
            return residuals(t[None, :])[0][0][repeat]

        def jac(t):
            return residuals(t[None, :])[1][0][:, repeat].T
    try:
        res = optimize.least_squares(fun, start, jac=jac, bounds=(lo, hi), method="trf",
                                 xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=2000, **kwargs)
    except (ValueError, np.linalg.LinAlgError):
        return None
    r, _ = residuals(res.x[None, :])
    res.fun = float(_objective(loss, r, None if not weighted else w)[0])
    return res


def polish(residuals: ResidualFn, x: np.ndarray, loss: Loss, lower, upper, *,
           gtol: float = 1e-13, max_iter: int = 2000, weights: np.ndarray | None = None):
    """Refine one point with scipy's trust-region least squares and L-BFGS-B; keep the best.

    Returns ``(x, fun, ok, relative_gradient)``. ``relative_gradient`` is the
    largest ratio, over free parameters, of the projected gradient to the sum
    of the magnitudes of the per-run terms that make it up: 0 at an exact
    stationary point and 1 when nothing cancels, whatever the scale of the
    objective.

    BLAS runs on one thread meanwhile (:func:`scalinglaws._blas.one_blas_thread`): on
    OpenBLAS's default two threads the SVDs inside ``least_squares`` made the joint fit
    of Porian et al.'s 15 settings (1,745 runs, 47 parameters) 8-13x slower in median,
    up to 108x, on the 2-core machine shared with other work
    (``bench/bench_blas_threads.py``).
    """
    with one_blas_thread():
        return _polish(residuals, x, loss, lower, upper, gtol, max_iter, weights)


def _polish(residuals, x, loss, lower, upper, gtol, max_iter, weights):
    """:func:`polish`'s work, on whatever BLAS threads are set."""
    from scipy import optimize

    w = 1.0 if weights is None else np.asarray(weights, dtype=float)

    def fun(theta):
        r, jac = residuals(theta[None, :])
        value = float(_objective(loss, r, weights)[0])
        grad = jac[0] @ (w * loss.psi(r[0]))
        return value, grad

    f0, _ = fun(x)
    xb, fb, ok = x, f0, False
    if max_iter:
        # least_squares (Gauss-Newton trust region) is fast and precise on these
        # problems; L-BFGS-B is the fallback when it is skipped, fails or stops
        # short of a stationary point.
        candidate = _least_squares(residuals, x, loss, lower, upper, w)
        if candidate is not None and np.isfinite(candidate.fun) and candidate.fun <= fb:
            xb, fb, ok = candidate.x, float(candidate.fun), bool(candidate.success)
        if not ok or _relative_gradient(residuals, xb, loss, lower, upper, w) > 1e-6:
            candidate = optimize.minimize(fun, xb, jac=True, method="L-BFGS-B",
                                      bounds=list(zip(lower, upper)),
                                      options={"ftol": 1e-15, "gtol": gtol, "maxiter": max_iter,
                                               "maxcor": 30})
            if np.isfinite(candidate.fun) and candidate.fun <= fb:
                xb, fb, ok = candidate.x, float(candidate.fun), bool(candidate.success)
    r, _ = residuals(xb[None, :])
    if fb <= _EXACT_FIT * r.size:
        # an exact fit of a non-negative objective is a global minimum
        return xb, fb, True, 0.0
    return xb, fb, ok, _relative_gradient(residuals, xb, loss, lower, upper, w)


def _relative_gradient(residuals, x, loss, lower, upper, w=1.0) -> float:
    """Largest ratio of the projected gradient to the summed magnitude of its per-run terms."""
    r, jac = residuals(x[None, :])
    psi = w * loss.psi(r[0])
    grad = jac[0] @ psi
    gross = np.abs(jac[0]) @ np.abs(psi)
    return float(_relative(grad[None], gross[None], x[None], lower, upper)[0])
