"""Variable projection for the Chinchilla form: only the two exponents need a search.

``L = E + A N^-alpha + B D^-beta`` is linear in ``(E, A, B)`` once ``(alpha, beta)``
are fixed (the idea of Open-Athena's ``vpnls``). So over an exhaustive exponent grid
the *inner* problem can be solved for every cell at once:

* exactly for squared loss in linear space: weighted linear least squares with
  ``E, A, B >= 0`` (every subset of active constraints is solved and the best
  feasible one kept), from sums that cost one pass over the runs per exponent;
* approximately in log space (``log f - log L ~ (f - L) / L``) by the same solve
  with weights ``1 / L^2``: good starting points, which the engine then refines;
* exactly for any loss and space by the batched engine itself, run on the three
  scale parameters with the exponents held (:func:`profile_objective`).

Used as the start generator of the Chinchilla fit (:func:`separable_starts`), for the
profile-objective map ``plot.profile`` and for profile-likelihood intervals
(:mod:`scalinglaws.uncertainty.profile`).

All sums are plain numpy reductions (no BLAS), so the starts, and the fit, do not
depend on the number of BLAS threads.
"""

from __future__ import annotations

import itertools
import numpy as np

from .engine import multistart_minimize, row_blocks

__all__ = ["linear_inner_solve", "separable_starts", "profile_objective", "EXPONENT_GRID"]

#: default exponent grid of the start generator (covers Hoffmann's 0..2 in steps of 0.05)
EXPONENT_GRID = np.round(np.arange(0.0, 2.0001, 0.05), 10)
_LOG_FLOOR = -30.0  # internal lower bound of a log-stored scale: stands for a zero scale
_ROWS_PER_BLOCK = 256
_SUBSETS = [s for k in (1, 2, 3) for s in itertools.combinations(range(3), k)]


def _basis(log_input, exponents):
    """``exp(-exponent * log_input)``, shape (B, G, n), each row scaled to max 1 (and the
    scales, shape (B, G))."""
    log_terms = -(exponents[None, :, None] * log_input[:, None, :])
    top = log_terms.max(axis=-1, keepdims=True)
    return np.exp(log_terms - top), top[..., 0]


def linear_inner_solve(N, D, L, alphas, betas, weights=None):
    """Best non-negative ``(E, A, B)`` for every ``(alpha, beta)`` cell, by weighted least squares.

    Minimises ``sum_i w_i (E + A N_i^-alpha + B D_i^-beta - L_i)^2`` with ``E, A, B >= 0``
    for each cell of the grid ``alphas x betas``. ``N``, ``D``, ``L`` (and ``weights``) may
    carry a leading axis of groups, shape ``(B, n)``: every group is solved in the same
    pass, operation for operation as on its own (the grouped fits' starts).

    Returns
    -------
    log_scales : ndarray, shape (Ga, Gb, 3), or (B, Ga, Gb, 3) for groups
        ``log(E), log(A), log(B)``; a coefficient at zero is ``-30`` (the
        internal lower bound).
    sse : ndarray, shape (Ga, Gb), or (B, Ga, Gb) for groups
        The weighted residual sum of squares at the solution.

    Examples
    --------
    >>> import numpy as np
    >>> N = np.geomspace(1e7, 1e10, 30); D = 20 * N[::-1]
    >>> L = 1.7 + 400 * N**-0.34 + 1000 * D**-0.28
    >>> scales, sse = linear_inner_solve(N, D, L, [0.34], [0.28])
    >>> # exact data: the residual is rounding, relative to the sum of squares (below
    >>> # 1e-20 with numpy's AVX2 kernels, 1.1e-13 of 620 with its AVX-512 ones)
    >>> np.exp(scales[0, 0]).round(6).tolist(), bool(sse[0, 0] < 1e-12 * np.sum(L**2))
    ([1.7, 400.0, 1000.0], True)
    """
    N, D, L = (np.asarray(v, dtype=float) for v in (N, D, L))
    grouped = L.ndim == 2
    if not grouped:
        N, D, L = (v.ravel()[None, :] for v in (N, D, L))
    alphas, betas = np.atleast_1d(np.asarray(alphas, float)), np.atleast_1d(np.asarray(betas, float))
    w = (np.ones_like(L) if weights is None
         else np.asarray(weights, dtype=float).reshape(L.shape))
    x, log_x = _basis(np.log(N), alphas)  # (B, Ga, n), scale exp(log_x)
    y, log_y = _basis(np.log(D), betas)  # (B, Gb, n)
    shape = (len(L), len(alphas), len(betas))
    wx, wy = w[:, None, :] * x, w[:, None, :] * y
    # the 3x3 normal equations of every cell: [1, x, y] against itself and against L
    s1 = np.broadcast_to(w.sum(axis=-1)[:, None, None], shape)
    sx = np.broadcast_to(wx.sum(axis=-1)[:, :, None], shape)
    sy = np.broadcast_to(wy.sum(axis=-1)[:, None, :], shape)
    sxx = np.broadcast_to((wx * x).sum(axis=-1)[:, :, None], shape)
    syy = np.broadcast_to((wy * y).sum(axis=-1)[:, None, :], shape)
    sxy = np.zeros(shape)
    for lo in range(0, L.shape[1], _ROWS_PER_BLOCK):  # blocks of rows bound the product
        hi = lo + _ROWS_PER_BLOCK
        sxy += (wx[:, :, None, lo:hi] * y[:, None, :, lo:hi]).sum(axis=-1)
    gram = np.stack([np.stack([s1, sx, sy], -1), np.stack([sx, sxx, sxy], -1),
                     np.stack([sy, sxy, syy], -1)], -2)  # (B, Ga, Gb, 3, 3)
    rhs = np.stack([np.broadcast_to((w * L).sum(axis=-1)[:, None, None], shape),
                    np.broadcast_to((wx * L[:, None, :]).sum(axis=-1)[:, :, None], shape),
                    np.broadcast_to((wy * L[:, None, :]).sum(axis=-1)[:, None, :], shape)], -1)
    total = (w * L * L).sum(axis=-1)[:, None, None]
    best_sse = np.full(shape, np.inf)
    best = np.zeros(shape + (3,))
    for subset in _SUBSETS:
        sub = list(subset)
        g = gram[..., sub, :][..., :, sub]
        b = rhs[..., sub]
        with np.errstate(all="ignore"):
            # a tiny ridge keeps a rank-deficient cell (alpha = 0 makes x a constant) solvable
            ridge = 1e-13 * np.trace(g, axis1=-2, axis2=-1)[..., None, None] * np.eye(len(sub))
            coef = np.linalg.solve(g + ridge, b[..., None])[..., 0]
            sse = total - 2 * (coef * b).sum(-1) + np.einsum("...i,...ij,...j->...", coef, g, coef)
        ok = np.all(coef > 0, axis=-1) & np.isfinite(sse) & (sse < best_sse)
        full = np.zeros(shape + (3,))
        full[..., sub] = coef
        best = np.where(ok[..., None], full, best)
        best_sse = np.where(ok, sse, best_sse)
    with np.errstate(divide="ignore"):
        logs = np.log(best)
    logs[..., 1] -= log_x[:, :, None]
    logs[..., 2] -= log_y[:, None, :]
    logs = np.where(best > 0, logs, _LOG_FLOOR)
    sse = np.maximum(best_sse, 0.0)
    return (logs, sse) if grouped else (logs[0], sse[0])


def _grid_points(log_scales, alphas, betas):
    aa, bb = np.meshgrid(alphas, betas, indexing="ij")
    return np.concatenate([log_scales, aa[..., None], bb[..., None]], axis=-1).reshape(-1, 5)


def separable_starts(inputs, target, *, space: str = "log", weights=None,
                     alphas=EXPONENT_GRID, betas=EXPONENT_GRID, count: int = 64) -> np.ndarray:
    """Internal Chinchilla starts ``(count, 5)``: the best cells of the exponent grid, each
    with its inner least-squares solution (weights ``1/L^2`` in log space)."""
    L = np.asarray(target, dtype=float)
    w = np.ones_like(L) if weights is None else np.asarray(weights, dtype=float)
    if space == "log":
        w = w / (L * L)
    log_scales, sse = linear_inner_solve(inputs["N"], inputs["D"], L, alphas, betas, w)
    points = _grid_points(log_scales, alphas, betas)
    order = np.argsort(sse.ravel(), kind="stable")
    order = order[np.isfinite(sse.ravel()[order])][:count]
    return points[order]


def _held_residuals(residuals, held):
    """Residual function whose Jacobian columns ``held`` are zero: the engine never moves them."""
    def wrapped(theta):
        r, jac = residuals(theta)
        jac = jac.copy()
        jac[:, held, :] = 0.0
        return r, jac
    return wrapped


def profile_objective(fitter, inputs, target, alphas, betas, *, weights=None,
                      max_iter: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Profile objective ``min_{E,A,B} objective(E, A, B, alpha, beta)`` on a grid.

    ``fitter`` is a :class:`~scalinglaws.fitting.estimator.LawFitter` of the
    Chinchilla form with every parameter free. Every cell is solved by the
    batched engine with the exponents held, from the cell's inner least-squares
    solution and from the neighbouring scales of the linear solve; returns the
    objective ``(Ga, Gb)`` and the minimising log-scales ``(Ga, Gb, 3)``.
    """
    if fitter.form.name != "chinchilla" or fitter.free != fitter.form.param_names:
        from .._exceptions import InputError

        raise InputError("the profile over (alpha, beta) needs the chinchilla form with every "
                         "parameter free")
    alphas = np.atleast_1d(np.asarray(alphas, float))
    betas = np.atleast_1d(np.asarray(betas, float))
    L = np.asarray(target, dtype=float)
    w = np.ones_like(L) if weights is None else np.asarray(weights, dtype=float)
    wl = w / (L * L) if fitter.space == "log" else w
    log_scales, _ = linear_inner_solve(inputs["N"], inputs["D"], L, alphas, betas, wl)
    points = _grid_points(log_scales, alphas, betas)
    n = len(L)
    blocks = row_blocks(lambda rows: _held_residuals(fitter.array_residual_function(
        {k: np.asarray(v, float)[rows] for k, v in inputs.items()}, L[rows]), [3, 4]), n)
    out = multistart_minimize(blocks, points, fitter.loss, fitter.lower, fitter.upper,
                              max_iter=max_iter, prune_after=0, stall=0,
                              weights=None if weights is None else w)
    shape = (len(alphas), len(betas))
    return out.fun.reshape(shape), out.x[:, :3].reshape(shape + (3,))
