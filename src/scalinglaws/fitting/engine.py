"""The fitting engine: vectorised multi-start minimisation of a robust objective.

Every form and every bootstrap resample needs the same thing: the global
minimum of ``sum_i rho(r_i(theta))`` over a handful of parameters, from many
starting points. Instead of a Python loop of scipy calls, all starts are
stepped together as one ``(starts, runs)`` array:

* each iteration is a Levenberg-Marquardt step on the IRLS majoriser of the
  loss (weights ``psi(r) / r``; the right-hand side is the exact gradient),
  with Marquardt's diagonal scaling and a per-start damping factor;
* box bounds are handled by projection, freezing a parameter for a step when
  it sits on a bound and the gradient pushes outward;
* after a few iterations the clearly losing starts are pruned;
* the best few distinct optima are then polished with scipy's L-BFGS-B on the
  exact objective and gradient (a handful of calls, not thousands).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize as sopt

from ..laws.losses import Loss

__all__ = ["MultiStartResult", "multistart_minimize", "distinct_optima", "polish",
           "information_diagnostics"]

ResidualFn = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class MultiStartResult:
    """Outcome of :func:`multistart_minimize` for every start.

    Attributes
    ----------
    x : ndarray, shape (m, p)
        Final point of each start (where pruned starts were abandoned).
    fun : ndarray, shape (m,)
        Objective at ``x``.
    converged : ndarray of bool, shape (m,)
        The start met the convergence test.
    pruned : ndarray of bool, shape (m,)
        The start was abandoned as clearly losing.
    nit : int
        Iterations of the batched loop.
    nfev : int
        Residual evaluations, counted per start.
    x0 : ndarray, shape (m, p)
        The starting points (clipped into the bounds).
    """

    x: np.ndarray
    fun: np.ndarray
    converged: np.ndarray
    pruned: np.ndarray
    nit: int
    nfev: int
    x0: np.ndarray | None = None

    @property
    def best(self) -> int:
        return int(np.nanargmin(np.where(np.isfinite(self.fun), self.fun, np.inf)))


def _objective(loss: Loss, r: np.ndarray, weights=None) -> np.ndarray:
    terms = loss.rho(r)
    out = (terms if weights is None else terms * weights).sum(axis=-1)
    return np.where(np.isfinite(out), out, np.inf)


def multistart_minimize(
    residuals: ResidualFn,
    x0: np.ndarray,
    loss: Loss,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    max_iter: int = 100,
    ftol: float = 1e-10,
    xtol: float = 1e-8,
    prune_after: int = 3,
    keep: int = 64,
    weights: np.ndarray | None = None,
    groups: np.ndarray | None = None,
) -> MultiStartResult:
    """Minimise ``sum(loss.rho(residuals(x)))`` from every row of ``x0`` at once.

    Parameters
    ----------
    residuals : callable
        ``residuals(theta)`` with ``theta`` of shape ``(k, p)`` returns the
        residuals ``(k, n)`` and their Jacobian ``(k, p, n)``.
    x0 : ndarray, shape (m, p)
        Starting points (clipped into the bounds).
    loss : Loss
        Robust loss applied to each residual.
    lower, upper : ndarray, shape (p,)
        Box bounds.
    max_iter : int
        Iterations of the batched loop.
    ftol, xtol : float
        A start has converged when an accepted step lowers the objective by
        less than ``ftol`` relative and either moves every parameter by less
        than ``xtol`` (relative to ``1 + |x|``) or was taken with little
        damping, or when no damped step lowers the objective at all.
    prune_after : int
        Iteration after which only the ``keep`` best starts continue
        (``prune_after=0`` disables pruning).
    keep : int
        Number of starts kept after pruning (per group when ``groups`` is given).
    weights : ndarray, shape (n,) or (m, n), optional
        Non-negative weight of each residual, per start when 2-D: the
        objective is ``sum_i w_i rho(r_i)``. A bootstrap resample is a weight
        vector of run multiplicities, so many resamples are fitted in one batch.
    groups : ndarray of int, shape (m,), optional
        Group label of each start (e.g. its resample); pruning keeps the
        ``keep`` best starts of every group.
    """
    x = np.clip(np.array(x0, dtype=float), lower, upper)
    starts = x.copy()
    m, p = x.shape
    if weights is not None:
        weights = np.broadcast_to(np.asarray(weights, dtype=float), (m, weights.shape[-1]))
    r, jac = residuals(x)
    f = _objective(loss, r, weights)
    lam = np.full(m, 1e-3)
    converged = np.zeros(m, bool)
    pruned = ~np.isfinite(f)
    nfev = m
    eye = np.eye(p)
    nit = 0
    for nit in range(1, max_iter + 1):
        if prune_after and nit == prune_after + 1:
            live = np.flatnonzero(~pruned & ~converged)
            labels = np.zeros(m, int) if groups is None else np.asarray(groups)
            order = live[np.lexsort((f[live], labels[live]))]
            rank = np.arange(order.size) - np.searchsorted(labels[order], labels[order])
            pruned[order[rank >= keep]] = True
        idx = np.flatnonzero(~pruned & ~converged)
        if idx.size == 0:
            break
        xa, ra, ja, fa = x[idx], r[idx], jac[idx], f[idx]
        w = loss.weights(ra)
        psi = loss.psi(ra)
        if weights is not None:
            w, psi = w * weights[idx], psi * weights[idx]
        grad = np.einsum("kn,kpn->kp", psi, ja)
        hess = np.matmul(ja * w[:, None, :], np.swapaxes(ja, 1, 2))
        blocked = ((xa <= lower) & (grad > 0)) | ((xa >= upper) & (grad < 0))
        diag = np.diagonal(hess, axis1=1, axis2=2)
        scale = np.maximum(diag, 1e-12 * np.maximum(diag.max(axis=1, keepdims=True), 1e-300))
        system = hess + (lam[idx, None] * scale)[:, :, None] * eye
        free = ~blocked
        system = system * (free[:, :, None] & free[:, None, :]) + blocked[:, :, None] * eye
        rhs = np.where(blocked, 0.0, -grad)
        try:
            step = np.linalg.solve(system, rhs[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = np.stack([np.linalg.lstsq(s, g, rcond=None)[0] for s, g in zip(system, rhs)])
        step = np.where(np.isfinite(step), step, 0.0)
        xn = np.clip(xa + step, lower, upper)
        rn, jn = residuals(xn)
        fn = _objective(loss, rn, None if weights is None else weights[idx])
        nfev += idx.size
        accept = fn < fa
        moved = np.abs(xn - xa) / (1.0 + np.abs(xa))
        # IRLS creeps along flat valleys (A and B trading off against alpha and beta),
        # so a tiny objective change with little damping counts as converged even if
        # x still moves; the polish step finishes those.
        tiny_gain = (fa - fn) <= ftol * np.abs(fa)
        small = accept & tiny_gain & ((moved.max(axis=1) <= xtol) | (lam[idx] < 1.0))
        stuck = ~accept & (lam[idx] > 1e10)
        upd = idx[accept]
        x[upd], r[upd], jac[upd], f[upd] = xn[accept], rn[accept], jn[accept], fn[accept]
        lam[idx] = np.where(accept, np.maximum(lam[idx] * 0.3, 1e-12), lam[idx] * 4.0)
        converged[idx[small | stuck]] = True
    return MultiStartResult(x=x, fun=f, converged=converged, pruned=pruned, nit=nit, nfev=nfev,
                            x0=starts)


def distinct_optima(result: MultiStartResult, *, rtol_fun: float = 1e-6, xtol: float = 1e-3,
                    limit: int = 256):
    """Group the best unpruned starts into distinct optima, best first.

    Two end points belong to the same optimum when their objectives agree to
    ``rtol_fun`` (relative) and their parameters to ``xtol`` (relative to
    ``1 + |x|``). Only the ``limit`` best end points are grouped. Returns a
    list of index arrays (starts of each optimum).
    """
    idx = np.flatnonzero(~result.pruned & np.isfinite(result.fun))
    idx = idx[np.argsort(result.fun[idx], kind="stable")][:limit]
    groups: list[list[int]] = []
    reps: list[int] = []
    for i in idx:
        for group, rep in zip(groups, reps):
            same_f = abs(result.fun[i] - result.fun[rep]) <= rtol_fun * abs(result.fun[rep]) + 1e-300
            close = np.all(np.abs(result.x[i] - result.x[rep]) <= xtol * (1 + np.abs(result.x[rep])))
            if same_f and close:
                group.append(int(i))
                break
        else:
            groups.append([int(i)])
            reps.append(int(i))
    return [np.array(g) for g in groups]


def _least_squares(residuals, x, loss, lower, upper, w):
    """scipy's trust-region least squares on the same objective, or None if it fails.

    scipy's ``loss="huber"`` with ``f_scale=delta`` is exactly Huber_delta
    (``0.5 f_scale^2 rho(r^2 / f_scale^2)`` = ``r^2/2`` or ``delta(|r| - delta/2)``);
    weights enter as ``sqrt(w)`` on the residuals, exact for squared loss and
    for Huber only when every weight is 0 or 1, so weighted Huber is skipped.
    """
    weighted = not np.isscalar(w)
    if loss.name == "huber" and weighted and np.any((w != 0) & (w != 1)):
        return None
    root = np.sqrt(w) if weighted else 1.0
    kwargs = {"loss": "huber", "f_scale": loss.delta} if loss.name == "huber" else {}
    lo = np.where(np.isfinite(lower), lower, -np.inf)
    hi = np.where(np.isfinite(upper), upper, np.inf)
    start = np.clip(x, lo, hi)
    inside = (start > lo) & (start < hi)
    if not np.all(inside):  # least_squares needs a strictly feasible start
        start = np.where(inside, start, np.clip(start, lo + _bound_tolerance(lo, 1e-10),
                                                hi - _bound_tolerance(hi, 1e-10)))
    try:
        res = sopt.least_squares(lambda t: root * residuals(t[None, :])[0][0], start,
                                 jac=lambda t: (root * residuals(t[None, :])[1][0]).T,
                                 bounds=(lo, hi), method="trf", xtol=1e-15, ftol=1e-15,
                                 gtol=1e-15, max_nfev=2000, **kwargs)
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
    """
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
            candidate = sopt.minimize(fun, xb, jac=True, method="L-BFGS-B",
                                      bounds=list(zip(lower, upper)),
                                      options={"ftol": 1e-15, "gtol": gtol, "maxiter": max_iter,
                                               "maxcor": 30})
            if np.isfinite(candidate.fun) and candidate.fun <= fb:
                xb, fb, ok = candidate.x, float(candidate.fun), bool(candidate.success)
    r, _ = residuals(xb[None, :])
    if fb <= 1e-24 * r.size:
        # an exact fit of a non-negative objective is a global minimum
        return xb, fb, True, 0.0
    return xb, fb, ok, _relative_gradient(residuals, xb, loss, lower, upper, w)


def _bound_tolerance(bound, relative: float = 1e-8):
    """Distance within which a point counts as on ``bound`` (0 for an infinite bound)."""
    bound = np.asarray(bound, dtype=float)
    finite = np.isfinite(bound)
    return np.where(finite, relative * (1 + np.abs(np.where(finite, bound, 0.0))), 0.0)


def _relative_gradient(residuals, x, loss, lower, upper, w=1.0) -> float:
    """Largest ratio of the projected gradient to the summed magnitude of its per-run terms."""
    r, jac = residuals(x[None, :])
    psi = w * loss.psi(r[0])
    grad = jac[0] @ psi
    gross = np.abs(jac[0]) @ np.abs(psi)
    # least_squares stays strictly inside the box, so "on a bound" needs a tolerance
    near_lower = x <= lower + _bound_tolerance(lower)
    near_upper = x >= upper - _bound_tolerance(upper)
    projected = np.where(near_lower & (grad > 0) | near_upper & (grad < 0), 0.0, grad)
    return float(np.max(np.abs(projected) / (gross + 1e-300), initial=0.0))


def information_diagnostics(jac: np.ndarray, weights: np.ndarray):
    """Information matrix ``sum_i w_i J_i J_i^T`` and the condition number of its
    correlation-scaled form (1 for orthogonal parameters; huge when the data
    cannot separate some of them)."""
    info = (jac * weights) @ jac.T
    scale = np.sqrt(np.clip(np.diag(info), 1e-300, None))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        condition = float(np.linalg.cond(info / np.outer(scale, scale)))
    return info, condition if np.isfinite(condition) else float("inf")
