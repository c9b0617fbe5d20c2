"""The fitting engine: vectorised multi-start minimisation of a robust objective.

Every form and every bootstrap resample needs the same thing: the global
minimum of ``sum_i w_i rho(r_i(theta))`` over a handful of parameters, from many
starting points. Instead of a Python loop of scipy calls, starts are stepped
together as arrays:

* **rank before you iterate**: one value-only pass scores every start (in
  blocks of starts and rows, so memory does not grow with either); only the
  ``rank`` best starts of each group go on;
* each iteration is then a Levenberg-Marquardt step on the IRLS majoriser of
  the loss (weights ``psi(r) / r``; the right-hand side is the exact
  gradient), with Marquardt's diagonal scaling and a per-start damping
  factor. ``J^T W J`` and ``J^T psi`` are accumulated over blocks of rows, so
  a million rows cost time, not memory;
* box bounds are handled by projection, freezing a parameter for a step when
  it sits on a bound and the gradient pushes outward;
* after ``prune_after`` iterations only the ``keep`` best starts of a group go
  on; a start stops when its quadratic model predicts a gain below ``ftol``
  (converged) or when its objective has not improved by a relative ``1e-12``
  for ``stall`` accepted steps (a *stall*, reported apart from convergence);
* the caller polishes the best optima with scipy (:func:`~scalinglaws.fitting.polish.polish`).

Refine mode (``refine=``) is for many weight vectors refitted from a few shared
points near an optimum (bootstrap resamples). The caller's model makes the passes:
the first one once per distinct start, contracted with each row's weights; a
Newton curvature (Gauss-Newton's plus the residuals' second derivatives, which
matter with Huber: most runs lie outside ``delta``, where ``psi`` is not small);
lean passes with the objective, gradient and curvature only. The loop keeps the
first pass's damping scale, retries a rejected step once at the minimum of the
parabola along it (raising a tiny damping barely shortens a Newton step), and
takes the Gauss-Newton step where the Newton model curves the wrong way along its
step.

Reductions are plain sums along rows in a fixed block layout (no BLAS), so a
start's path depends only on its own data: the same start gives the same bits
whatever else is in the batch and however many BLAS threads run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._validation import FrozenOnUnpickle
from ..laws.losses import Loss

__all__ = ["MultiStartResult", "multistart_minimize", "evaluate_starts", "distinct_optima",
           "row_blocks", "ROWS_PER_BLOCK"]

#: relative projected gradient accepted as stationary (every fit's convergence test)
GRADIENT_TOLERANCE = 1e-4

ResidualFn = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]

#: rows per block of the residual function (fixed by the number of rows only, so
#: the sums, and hence every result, do not depend on how starts are batched)
ROWS_PER_BLOCK = 8192
_VALUE_ELEMENTS = 1 << 16  # starts x rows per block of the value-only pass (cache-sized)
_JACOBIAN_ELEMENTS = 1 << 18  # starts x parameters x rows per block of the LM pass
_STALL_RTOL = 1e-12  # relative gain below which an iteration does not count as progress
_EXACT_FIT = 1e-24  # objective per row below which a fit is exact (as in polish)


@dataclass(frozen=True)
class MultiStartResult(FrozenOnUnpickle):
    """Outcome of :func:`multistart_minimize` for every start.

    Attributes
    ----------
    x : ndarray, shape (m, p)
        Final point of each start (where pruned starts were abandoned).
    fun : ndarray, shape (m,)
        Objective at ``x``.
    converged : ndarray of bool, shape (m,)
        The start met the convergence test (small relative projected gradient,
        or a step that no longer moves it).
    pruned : ndarray of bool, shape (m,)
        The start was abandoned as clearly losing (ranked out by the value
        pass or by the pruning after ``prune_after`` iterations).
    nit : int
        Iterations of the batched loop.
    nfev : int
        Residual evaluations, counted per start (the value pass counts one each).
    x0 : ndarray, shape (m, p)
        The starting points (clipped into the bounds).
    stalled : ndarray of bool, shape (m,)
        The start stopped because its own objective stopped improving (the stall
        test), its damping ran away, or it ran out of iterations, before the convergence
        test was met.
    gradient : ndarray, shape (m,)
        Relative projected gradient at ``x`` (see :func:`polish`); NaN where
        not computed (pruned starts).
    """

    x: np.ndarray
    fun: np.ndarray
    converged: np.ndarray
    pruned: np.ndarray
    nit: int
    nfev: int
    x0: np.ndarray | None = None
    stalled: np.ndarray | None = None
    gradient: np.ndarray | None = None

    @property
    def best(self) -> int:
        return int(np.nanargmin(np.where(np.isfinite(self.fun), self.fun, np.inf)))


def row_blocks(make_residuals: Callable[[slice], ResidualFn], n_rows: int,
               rows_per_block: int = ROWS_PER_BLOCK) -> list:
    """Split a residual function into blocks of rows: ``[(residuals_for_rows, rows), ...]``.

    ``make_residuals(rows)`` returns the residual function of the rows in the
    slice ``rows``. The layout depends only on ``n_rows``.
    """
    if n_rows <= rows_per_block:
        return [(make_residuals(slice(0, n_rows)), slice(0, n_rows))]
    return [(make_residuals(slice(i, min(i + rows_per_block, n_rows))),
             slice(i, min(i + rows_per_block, n_rows)))
            for i in range(0, n_rows, rows_per_block)]


def _as_blocks(residuals) -> list:
    if callable(residuals):
        return [(residuals, slice(None))]
    return list(residuals)


def _objective(loss: Loss, r: np.ndarray, weights=None) -> np.ndarray:
    terms = loss.rho(r)
    out = (terms if weights is None else terms * weights).sum(axis=-1)
    return np.where(np.isfinite(out), out, np.inf)


def _batch(fn, rows, x, elements_per_row, budget):
    """Starts per call so that a call holds about ``budget`` elements."""
    if rows.stop is not None:
        n = rows.stop - (rows.start or 0)
    else:
        n = fn(x[:1])[0].shape[1]
    return max(1, budget // max(elements_per_row * n, 1))


def evaluate_starts(residuals, x: np.ndarray, loss: Loss, weights=None) -> np.ndarray:
    """Objective of every row of ``x`` (value-only pass, blocks of starts and of rows).

    ``residuals`` is a residual function or a list of ``(function, rows)``
    blocks (:func:`row_blocks`); ``weights`` is ``None``, ``(n,)`` or ``(m, n)``.
    """
    blocks = _as_blocks(residuals)
    m = x.shape[0]
    if weights is not None:
        weights = np.broadcast_to(np.asarray(weights, dtype=float), (m, weights.shape[-1]))
    f = np.zeros(m)
    with np.errstate(all="ignore"):  # a start far off overflows: its objective is inf
        _value_pass(blocks, x, loss, weights, f)
    return np.where(np.isfinite(f), f, np.inf)


def _value_pass(blocks, x, loss, weights, f):
    m = x.shape[0]
    for fn, rows in blocks:
        step = _batch(fn, rows, x, 1, _VALUE_ELEMENTS)
        lo = 0
        while lo < m:
            sel = slice(lo, min(lo + step, m))
            r, _ = fn(x[sel])
            f[sel] += _objective(loss, r, None if weights is None else weights[sel, rows])
            lo = sel.stop


def _pass(blocks, x, loss, weights, idx):
    """:func:`_accumulate` with floating-point warnings silenced: a trial point far off
    overflows, and its objective is then set to inf (rejected)."""
    with np.errstate(all="ignore"):
        return _accumulate(blocks, x, loss, weights, idx)


def _accumulate(blocks, x, loss, weights, idx):
    """Objective, gradient ``J^T psi``, Gauss-Newton Hessian ``J^T diag(psi') J``, the
    diagonal of the IRLS majoriser ``J^T diag(psi / r) J`` (always positive: it scales
    the damping) and the gross gradient ``|J|^T |psi|`` of the starts ``x`` (rows
    ``idx`` of the weights), accumulated over row blocks."""
    k, p = x.shape
    f = np.zeros(k)
    grad = np.zeros((k, p))
    gross = np.zeros((k, p))
    hess = np.zeros((k, p, p))
    scale = np.zeros((k, p))
    n_rows = 0
    for fn, rows in blocks:
        step = _batch(fn, rows, x, p, _JACOBIAN_ELEMENTS)
        lo = 0
        while lo < k:
            sel = slice(lo, min(lo + step, k))
            r, jac = fn(x[sel])
            (terms, psi), curv, irls = loss.rho_and_psi(r), loss.psi_deriv(r), loss.weights(r)
            if weights is not None:
                w_run = weights[idx[sel]] if rows == slice(0, weights.shape[1]) or \
                    rows == slice(None) else weights[idx[sel]][:, rows]
                terms, psi, curv, irls = terms * w_run, psi * w_run, curv * w_run, irls * w_run
            f[sel] += terms.sum(axis=-1)
            # einsum without `optimize` runs numpy's own loops (never BLAS): each
            # start's sums come out the same whatever the batch and the BLAS threads
            grad[sel] += np.einsum("kpn,kn->kp", jac, psi)
            gross[sel] += np.einsum("kpn,kn->kp", np.abs(jac), np.abs(psi))
            scale[sel] += np.einsum("kpn,kpn,kn->kp", jac, jac, irls)
            hess[sel] += np.einsum("kin,kjn->kij", jac * curv[:, None, :], jac)
            n_rows += r.shape[1] if lo == 0 else 0
            lo = sel.stop
    bad = ~np.isfinite(f) | ~np.all(np.isfinite(grad), axis=1) | ~np.all(
        np.isfinite(hess), axis=(1, 2)) | ~np.all(np.isfinite(scale), axis=1)
    f[bad] = np.inf
    # an exact fit (residuals at rounding level) of a non-negative objective is a global
    # minimum, where the relative gradient is rounding noise: report it as stationary
    gross[f <= _EXACT_FIT * n_rows] = np.inf
    return f, grad, hess, gross, scale


def _relative(grad, gross, x, lower, upper):
    """Largest ratio of projected gradient to gross gradient, per start."""
    near_lower = x <= lower + _bound_tolerance(lower)
    near_upper = x >= upper - _bound_tolerance(upper)
    projected = np.where(near_lower & (grad > 0) | near_upper & (grad < 0), 0.0, grad)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.abs(projected) / (gross + 1e-300)
    return np.max(ratio, axis=1, initial=0.0)


def solve_each(system, rhs):
    """Batched solve ``system @ x = rhs`` (``system`` ``(..., n, n)``, ``rhs`` ``(..., n,
    m)``); if one system is singular, each is solved alone and the singular ones by least
    squares (so a start's step never depends on whether another start's was singular)."""
    try:
        return np.linalg.solve(system, rhs)
    except np.linalg.LinAlgError:
        flat_s = system.reshape((-1,) + system.shape[-2:])
        flat_r = rhs.reshape((-1,) + rhs.shape[-2:])
        out = np.empty_like(flat_r)
        for i, (s, b) in enumerate(zip(flat_s, flat_r)):
            try:
                out[i] = np.linalg.solve(s, b)
            except np.linalg.LinAlgError:
                out[i] = np.linalg.lstsq(s, b, rcond=None)[0]
        return out.reshape(rhs.shape)


def _damped(hess, lam, scale, free, blocked):
    """The Levenberg-Marquardt system of each start: ``hess + lam * diag(scale)`` on its free
    parameters, the identity on those held at a bound (their step is zero)."""
    eye = np.eye(hess.shape[-1])
    system = hess + (lam[:, None] * scale)[:, :, None] * eye
    return system * (free[:, :, None] & free[:, None, :]) + blocked[:, :, None] * eye


def _top_per_group(score, labels, candidates, count):
    """Indices among ``candidates`` that are the ``count`` lowest ``score`` of their group."""
    order = candidates[np.lexsort((candidates, score[candidates], labels[candidates]))]
    rank = np.arange(order.size) - np.searchsorted(labels[order], labels[order])
    return order[rank < count], order[rank >= count]


def multistart_minimize(
    residuals,
    x0: np.ndarray,
    loss: Loss,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    max_iter: int = 100,
    ftol: float = 1e-14,
    gtol: float = 1e-10,
    rank: int | None = None,
    scores: np.ndarray | None = None,
    prune_after: int = 3,
    keep: int = 64,
    stall: int = 5,
    weights: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    damping: float = 1e-3,
    refine: Callable | None = None,
) -> MultiStartResult:
    """Minimise ``sum(w * loss.rho(residuals(x)))`` from every row of ``x0`` at once.

    Parameters
    ----------
    residuals : callable or list of (callable, slice)
        ``residuals(theta)`` with ``theta`` of shape ``(k, p)`` returns the
        residuals ``(k, n)`` and their Jacobian ``(k, p, n)``; or a list of
        such functions, each for a block of rows (:func:`row_blocks`).
    x0 : ndarray, shape (m, p)
        Starting points (clipped into the bounds).
    loss : Loss
        Robust loss applied to each residual.
    lower, upper : ndarray, shape (p,)
        Box bounds.
    max_iter : int
        Iterations of the batched loop.
    ftol, gtol : float
        A start has converged when the quadratic model at its point (exact
        gradient, Gauss-Newton curvature, damping below 1) predicts that the
        next step would lower the objective by at most ``ftol`` relative, or
        when its relative projected gradient (see :func:`polish`) is at most
        ``gtol``, or when no damped step lowers the objective at all and the
        gradient is below ``1e-6``.
    rank : int, optional
        Score every start with one value-only pass and iterate only the
        ``rank`` best of each group (``None``: iterate all).
    scores : ndarray, shape (m,), optional
        Scores to rank by instead of the value pass (e.g. the objective on a
        subsample of rows).
    prune_after : int
        Iteration after which only the ``keep`` best starts of each group
        continue (``prune_after=0`` disables this pruning).
    keep : int
        Number of starts per group kept after pruning.
    stall : int
        A start stops (``stalled``) when its objective has not improved by a
        relative 1e-12 on this many accepted steps in a row (0 disables the test).
    weights : ndarray, shape (n,) or (m, n), optional
        Non-negative weight of each residual, per start when 2-D: the
        objective is ``sum_i w_i rho(r_i)``. A bootstrap resample is a weight
        vector of run multiplicities, so many resamples are fitted in one batch.
    groups : ndarray of int, shape (m,), optional
        Group label of each start (e.g. its resample); ranking and pruning act
        within each group.
    damping : float
        Initial Levenberg-Marquardt factor of every start (relative to the
        diagonal of the IRLS majoriser).
    refine : callable, optional
        Refine mode (see the module docstring) with the model
        ``refine(blocks, x, live, loss)``: an object with ``n_starts`` (residual
        evaluations of its first pass), ``n_rows`` (residuals per start),
        ``first_pass(weights, rows)`` returning the
        objective, gradient, Newton and Gauss-Newton curvature and the damping's scale
        of ``rows`` at their starts, and ``lean_pass(x, weights, rows)`` returning the
        first four at the points ``x`` (the bootstrap's ``ResampleModel``). A start
        then converges when both its Newton and its Gauss-Newton model predict a gain
        of at most ``ftol``; ``gtol``, ``stall`` and the gradient test are not used
        (``gradient`` is NaN).
    """
    blocks = _as_blocks(residuals)
    x = np.clip(np.array(x0, dtype=float), lower, upper)
    starts = x.copy()
    m, p = x.shape
    if weights is not None:
        weights = np.broadcast_to(np.asarray(weights, dtype=float), (m, weights.shape[-1]))
    labels = np.zeros(m, int) if groups is None else np.asarray(groups)
    _, group_of = np.unique(labels, return_inverse=True)
    pruned = np.zeros(m, bool)
    nfev = 0
    f = np.full(m, np.inf)
    if rank is not None and np.bincount(group_of).max() > rank:
        if scores is None:
            scores = evaluate_starts(blocks, x, loss, weights)
            nfev += m
        scores = np.where(np.isfinite(scores), scores, np.inf)
        _, out = _top_per_group(scores, group_of, np.flatnonzero(np.isfinite(scores)), rank)
        pruned[out] = True
        pruned[~np.isfinite(scores)] = True
        f = scores.copy()
    live = np.flatnonzero(~pruned)
    grad = np.zeros((m, p))
    gross = np.zeros((m, p))
    hess = np.zeros((m, p, p))
    gradient = np.full(m, np.nan)
    scaling = np.zeros((m, p))
    model = None
    if refine:
        hess_gn = np.zeros((m, p, p))
        shrink, last_step = np.full(m, np.nan), np.zeros((m, p))
        model = refine(blocks, x, live, loss)
        if live.size:
            f[live], grad[live], hess[live], hess_gn[live], scaling[live] = model.first_pass(
                weights, live)
            nfev += model.n_starts
    elif live.size:
        f[live], grad[live], hess[live], gross[live], scaling[live] = _pass(
            blocks, x[live], loss, weights, live)
        nfev += live.size
        gradient[live] = _relative(grad[live], gross[live], x[live], lower, upper)
    pruned |= ~np.isfinite(f)
    lam = np.full(m, float(damping))
    converged = np.zeros(m, bool)
    stalled = np.zeros(m, bool)
    since_gain = np.zeros(m, int)
    nit = 0
    for nit in range(1, max_iter + 1):
        if prune_after and nit == prune_after + 1:
            _, out = _top_per_group(f, group_of, np.flatnonzero(~pruned & ~converged & ~stalled),
                                    keep)
            pruned[out] = True
        idx = np.flatnonzero(~pruned & ~converged & ~stalled)
        if idx.size == 0:
            break
        xa, fa, ga, ha = x[idx], f[idx], grad[idx], hess[idx]
        blocked = ((xa <= lower) & (ga > 0)) | ((xa >= upper) & (ga < 0))
        diag = scaling[idx]
        scale = np.maximum(diag, 1e-12 * np.maximum(diag.max(axis=1, keepdims=True), 1e-300))
        free = ~blocked
        system = _damped(ha, lam[idx], scale, free, blocked)
        rhs = np.where(blocked, 0.0, -ga)
        step = solve_each(system, rhs[..., None])[..., 0]
        step = np.where(np.isfinite(step), step, 0.0)
        if refine:
            # where the approximate second-order term bends the model the wrong way along
            # the step (an indefinite Newton model), take the Gauss-Newton step instead
            along = (step * (ha * step[:, None, :]).sum(axis=-1)).sum(axis=1)
            wrong = np.flatnonzero((along <= 0) | ((ga * step).sum(axis=1) >= 0))
            if wrong.size:
                ha[wrong] = hess_gn[idx[wrong]]
                system[wrong] = _damped(ha[wrong], lam[idx[wrong]], scale[wrong], free[wrong],
                                        blocked[wrong])
                fixed = solve_each(system[wrong], rhs[wrong, :, None])[..., 0]
                step[wrong] = np.where(np.isfinite(fixed), fixed, 0.0)
            retry = np.isfinite(shrink[idx])
            step[retry] = shrink[idx[retry], None] * last_step[idx[retry]]
        # Converged when the local quadratic model (exact gradient, Gauss-Newton
        # curvature) predicts that a step would gain less than `ftol` of the objective:
        # near an optimum the model is accurate, so this bounds the distance to it.
        predicted = -((ga * step).sum(axis=1) + 0.5 * (step * (ha * step[:, None, :]).sum(
            axis=-1)).sum(axis=1))
        settled = (lam[idx] <= 1.0) & (predicted <= ftol * np.abs(fa))
        if refine:
            # the Newton model's curvature is approximate: the Gauss-Newton model (exact
            # curvature of the residuals' linearisation) must predict as little
            settled &= (predicted >= 0) & ~retry
            sub = np.flatnonzero(settled)
            if sub.size:
                gn_system = system[sub] + (hess_gn[idx[sub]] - ha[sub]) * (
                    free[sub, :, None] & free[sub, None, :])
                gn_step = solve_each(gn_system, rhs[sub, :, None])[..., 0]
                gn_step = np.where(np.isfinite(gn_step), gn_step, 0.0)
                gn_gain = -((ga[sub] * gn_step).sum(axis=1) + 0.5 * (gn_step * (
                    hess_gn[idx[sub]] * gn_step[:, None, :]).sum(axis=-1)).sum(axis=1))
                settled[sub] = gn_gain <= ftol * np.abs(fa[sub])
            # an exact fit of a non-negative objective is a global minimum (as in _accumulate)
            settled |= fa <= _EXACT_FIT * model.n_rows
        converged[idx[settled]] = True
        idx, xa, fa, ga, step = (idx[~settled], xa[~settled], fa[~settled], ga[~settled],
                                 step[~settled])
        if idx.size == 0:
            continue
        xn = np.clip(xa + step, lower, upper)
        nfev += idx.size
        if refine:
            fn, gn, hn, hgn = model.lean_pass(xn, weights, idx)
            accept = fn < fa
            upd = idx[accept]
            x[upd], f[upd], grad[upd], hess[upd], hess_gn[upd] = (
                xn[accept], fn[accept], gn[accept], hn[accept], hgn[accept])
            lam[idx] = np.where(accept, np.maximum(lam[idx] * 0.3, 1e-12), lam[idx] * 4.0)
            stalled[idx[~accept & (lam[idx] > 1e10)]] = True
            # a rejected step is retried shorter, to the minimum of the parabola through
            # f(0), f'(0) and f(1) along it (clamped to [0.1, 0.5]): raising the damping
            # alone barely shortens a Newton step whose damping is tiny
            taken = xn - xa
            slope = (ga * taken).sum(axis=1)
            with np.errstate(all="ignore"):
                t = np.clip(-slope / (2 * (fn - fa - slope)), 0.1, 0.5)
            # once only: a shortened step that fails too goes back to raising the damping
            again = ~accept & ~retry[~settled] & (slope < 0)
            shrink[idx] = np.where(again, np.where(np.isfinite(t), t, 0.5), np.nan)
            last_step[idx] = taken
            continue
        fn, gn, hn, grn, dn = _pass(blocks, xn, loss, weights, idx)
        accept = fn < fa
        upd = idx[accept]
        x[upd], f[upd], grad[upd], hess[upd], gross[upd], scaling[upd] = (
            xn[accept], fn[accept], gn[accept], hn[accept], grn[accept], dn[accept])
        gradient[upd] = _relative(gn[accept], grn[accept], xn[accept], lower, upper)
        lam[idx] = np.where(accept, np.maximum(lam[idx] * 0.3, 1e-12), lam[idx] * 4.0)
        flat = gradient[idx] <= gtol
        stuck = ~accept & (lam[idx] > 1e10)
        converged[idx[flat | (stuck & (gradient[idx] <= 1e-6))]] = True
        stalled[idx[stuck & ~(gradient[idx] <= 1e-6)]] = True
        if stall:
            # a start whose own objective gains less than 1e-12 (relative) on `stall`
            # accepted steps in a row stops; a rejected step (the damping is still
            # rising) neither counts nor resets
            gained = accept & (fa - fn > _STALL_RTOL * np.abs(fa))
            since_gain[idx] = np.where(gained, 0, since_gain[idx] + accept)
            stalled[idx[(since_gain[idx] >= stall) & ~converged[idx]]] = True
    stalled |= ~pruned & ~converged & np.isfinite(f)
    return MultiStartResult(x=x, fun=f, converged=converged, pruned=pruned, nit=nit, nfev=nfev,
                            x0=starts, stalled=stalled, gradient=gradient)


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


def _bound_tolerance(bound, relative: float = 1e-8):
    """Distance within which a point counts as on ``bound`` (0 for an infinite bound)."""
    bound = np.asarray(bound, dtype=float)
    finite = np.isfinite(bound)
    return np.where(finite, relative * (1 + np.abs(np.where(finite, bound, 0.0))), 0.0)
