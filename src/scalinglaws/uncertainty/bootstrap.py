"""Bootstrap confidence intervals for fitted laws, with re-optimisation of every resample.

A resample draws whole runs with replacement (optionally within groups, e.g.
per compute budget); when several rows are checkpoints of one run (a repeated
``run_id``, or the ``clusters`` column), all rows of a run are drawn together
(:mod:`.resampling`). Drawing runs with replacement is the same as weighting
each run by its multiplicity, so all resamples share one residual function
and are refitted together as one batch of the engine (resample x start rows,
each with its own weight vector): no Python loop over scipy calls.

Each resample is re-optimised from the full-data optimum *and* from the other
distinct local optima the full fit found (plus a few of the best grid starts),
and keeps its best; how often the best start is not the full-data optimum is
recorded, as is every resample whose refit failed. The optima are refitted in
the engine's refine mode with :class:`ResampleModel` (one first pass per optimum
shared by every resample, then Newton steps whose curvature adds the residuals'
second derivatives at the optimum to Gauss-Newton's; see
:func:`~scalinglaws.fitting.engine.multistart_minimize`); grid starts take the
default search. A draw is kept only when the engine's convergence test holds
(both the Newton and the Gauss-Newton model predict less than 1e-14 relative to
gain) or, for the few that stall, after a polish with scipy's trust-region least
squares on the resample (each run repeated as often as it was drawn, so the
Huber objective is exactly the resample's).

A resample holding fewer distinct design points (runs at distinct inputs) than the law
has free parameters cannot determine them: its "refit" stays wherever it starts (on an
exact fit, at the full-data optimum, giving intervals of zero width). Such a resample is
not a valid draw: it is counted in ``n_degenerate``, left out of the intervals and
announced with a :class:`BootstrapResamplingWarning`. A resample with exactly as many
distinct points as free parameters is kept: it determines them (the law through those
points, as linear regression's design of rank ``p`` does), and the Huber objective near
``delta = 1e-3`` fits that way anyway (a least-absolute-deviation fit passes through
``p`` of its points). Data with no more runs than free parameters leave nothing to
resample (no residual degrees of freedom) and are refused.

Determinism: resamples are split into blocks by ``chunk_size`` alone, and a
resample's refit depends only on its own weights (the engine's sums are plain
numpy loops, never BLAS), so the same seed gives the same draws, bit for bit,
whatever ``n_jobs``, the backend or the number of BLAS threads.
"""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np

from .._draws import check_n_resamples
from .._exceptions import BootstrapResamplingWarning, ConvergenceWarning, InputError
from .._parallel import map_blocks, plan_threads, plan_workers
from .._text import counted, named_list
from .._validation import check_bool, check_confidence_level as _check_level, check_int, check_rng
from ..fitting.estimator import GRADIENT_TOLERANCE, FitResult, LawFitter
from ..fitting.result import check_fitted_on
from ..laws.forms import get_form
from ..fitting.engine import _JACOBIAN_ELEMENTS, multistart_minimize
from ..fitting.polish import polish
from ..data.runs import Runs, as_runs
from .bootstrap_result import METHODS, BootstrapResult, _check_method
from .delta import restriction_kind
from .draws_caveats import warn_few_draws
# the resampling itself (re-exported: grouped.py, downstream.py and users import it here)
from .resampling import (CLUSTERS_DEFAULT, design_points, distinct_points, leave_one_out,
                         resample_counts, resolve_clusters, runs_column)

__all__ = ["BootstrapResult", "BootstrapResamplingWarning", "bootstrap", "resample_counts",
           "distinct_points", "plan_workers", "METHODS"]

_CHUNK_ROWS = 4096  # engine rows (resamples x starts) per batch: bounds memory
_SAME_BASIN = 1e-8  # relative objective gain below which two starts reached one optimum
# Initial Levenberg-Marquardt factor of a refit: resamples start at an optimum, where the
# Newton model is good; on the 240 Epoch runs 1e-5 took the fewest passes (1e-3 to 1e-7
# tried: larger factors creep, smaller ones overshoot and are rejected)
_DAMPING = 1e-5
# Estimated in-process cost of a resample per run and start, to decide whether worker
# processes pay (:func:`~scalinglaws._parallel.plan_workers`). Measured on the README's
# 2-core machine with refine mode: 10,000 resamples of the 240 Epoch runs took 1.2 s
# in-process against 2.5 s on two fresh workers and 0.84 s on a warm pool
# (bench/bench_bootstrap.py, load average 2.7); about 0.5 us per run and start.
SECONDS_PER_RESAMPLE_RUN_START = 0.5e-6


def _optima(result: FitResult, fitter: LawFitter) -> list:
    """The full-data optimum, then the other distinct optima (internal free parameters)."""
    free_idx = [result.form.param_names.index(n) for n in fitter.free]
    points = [result.form.to_internal(result.form.params_vector(result.params))[free_idx]]
    for optimum in result.local_optima[1:]:
        values = [optimum["params"][n] for n in result.form.param_names]
        if all(v is not None and np.isfinite(v) for v in values):
            points.append(result.form.to_internal(np.array(values, dtype=float))[free_idx])
    return [p for p in points if np.all(np.isfinite(p))]


def _starts(result: FitResult, fitter: LawFitter, runs: Runs, extra_grid_starts: int):
    """Full-data optimum first, then the other distinct optima, then a few grid starts."""
    points = _optima(result, fitter)
    if extra_grid_starts:
        grid = fitter._start_points(runs.inputs(fitter.form.inputs), runs.loss)
        step = max(1, len(grid) // extra_grid_starts)
        points.extend(grid[::step][:extra_grid_starts])
    return np.clip(np.array(points), fitter.lower, fitter.upper)


class ResampleModel:
    """The engine's refine-mode model for resamples: per-run data at the distinct
    starts, shared by every resample, and the lean passes.

    For each row block and each distinct start ``s``: the first-pass terms (objective,
    gradient, Gauss-Newton curvature, IRLS diagonal, second-order curvature) per run,
    so a row's first pass is one contraction with its weights; and the residuals'
    second derivatives ``d2r_i`` (upper triangle, central differences of the analytic
    Jacobian), which later passes weight by ``w_i psi(r_i)`` at the row's point. Use
    it as ``multistart_minimize(..., refine=ResampleModel)``; it lives here because
    the fitting stage may not import this one.
    """

    def __init__(self, blocks, x, live, loss):
        self.blocks, self.loss, self.p = blocks, loss, x.shape[1]
        self.upper = np.triu_indices(self.p)
        points, inverse = np.unique(x[live], axis=0, return_inverse=True)
        self.n_starts = len(points)
        self.start_of = np.full(x.shape[0], -1)
        self.start_of[live] = inverse.ravel()
        self.first, self.curvature = [], []
        iu, ju = self.upper
        for fn, _ in blocks:
            with np.errstate(all="ignore"):
                r, jac = fn(points)
                second = _second_derivatives(fn, points, jac)[:, iu, ju]  # (s, t, n)
                second = np.where(np.isfinite(second), second, 0.0)
                psi = loss.psi(r)[:, None, :]
                self.first.append(np.concatenate([
                    loss.rho(r)[:, None, :], jac * psi,
                    (jac[:, iu] * jac[:, ju]) * loss.psi_deriv(r)[:, None, :],
                    jac * jac * loss.weights(r)[:, None, :], second * psi], axis=1))
            self.curvature.append(second)
        self.n_rows = sum(c.shape[-1] for c in self.curvature)

    def _unpack(self, packed):
        out = np.empty(packed.shape[:-1] + (self.p, self.p))
        out[..., self.upper[0], self.upper[1]] = packed
        out[..., self.upper[1], self.upper[0]] = packed
        return out

    def _by_start(self, rows, contract):
        """``contract(sub, s)`` for each distinct start ``s`` among ``rows`` (``sub`` indexes
        the rows that have it)."""
        if self.n_starts == 1:
            return contract(slice(None), 0)
        starts = self.start_of[rows]
        for s in np.unique(starts):
            contract(np.flatnonzero(starts == s), s)

    def first_pass(self, weights, rows):
        """Objective, gradient, Newton and Gauss-Newton curvature, IRLS diagonal of
        ``rows`` at their starts: each a contraction of the row's weights."""
        p, t = self.p, len(self.upper[0])
        out = np.zeros((rows.size, 1 + 2 * p + 2 * t))
        for (_, cols), terms in zip(self.blocks, self.first):
            def contract(sub, s, terms=terms, cols=cols):
                w = np.ones((rows[sub].size, terms.shape[-1])) if weights is None else \
                    weights[rows[sub]][:, cols]
                out[sub] += _contract(w, terms[s])
            with np.errstate(all="ignore"):
                self._by_start(rows, contract)
        f, grad = out[:, 0], out[:, 1:1 + p]
        gauss_newton = out[:, 1 + p:1 + p + t]
        scale, second = out[:, 1 + p + t:1 + 2 * p + t], out[:, 1 + 2 * p + t:]
        return self._finish(f, grad, gauss_newton, second) + (scale,)

    def lean_pass(self, x, weights, rows):
        """Objective, gradient, Newton and Gauss-Newton curvature at the points ``x`` of
        ``rows`` (blocks of starts and of rows, like the engine's own passes)."""
        k, p = x.shape
        t = len(self.upper[0])
        f, grad = np.zeros(k), np.zeros((k, p))
        gauss_newton, second = np.zeros((k, t)), np.zeros((k, t))
        for (fn, cols), curvature in zip(self.blocks, self.curvature):
            step = max(1, _JACOBIAN_ELEMENTS // max(p * curvature.shape[-1], 1))
            for lo in range(0, k, step):
                sel = slice(lo, min(lo + step, k))
                with np.errstate(all="ignore"):
                    r, jac = fn(x[sel])
                    jac = np.ascontiguousarray(jac)
                    w = np.ones(r.shape) if weights is None else weights[rows[sel]][:, cols]
                    rho, psi = self.loss.rho_and_psi(r)
                    f[sel] += np.einsum("kn,kn->k", w, rho)
                    weighted_psi = w * psi
                    grad[sel] += np.einsum("kpn,kn->kp", jac, weighted_psi)
                    gauss_newton[sel] += _sparse_outer(jac, w * self.loss.psi_deriv(r), self.upper)

                    def contract(sub, s, weighted_psi=weighted_psi, curvature=curvature,
                                 rows_second=second[sel]):
                        rows_second[sub] += _contract(weighted_psi[sub], curvature[s])
                    self._by_start(rows[sel], contract)
        return self._finish(f, grad, gauss_newton, second)

    def _finish(self, f, grad, gauss_newton, second):
        hess_gn = self._unpack(gauss_newton)
        hess = self._unpack(gauss_newton + second)
        bad = ~np.isfinite(f) | ~np.all(np.isfinite(grad), axis=1) | ~np.all(
            np.isfinite(hess), axis=(1, 2))
        f = np.where(bad, np.inf, f)
        return f, grad, hess, hess_gn


def _contract(weights, terms):
    """``(k, n) x (q, n) -> (k, q)``: numpy's own sum-of-products loop, never BLAS."""
    return np.einsum("kn,qn->kq", weights, terms)


def _sparse_outer(jac, curvature, upper):
    """Upper triangle of ``sum_n c[k, n] J[k, :, n] J[k, :, n]^T`` over the pairs with
    ``c != 0`` only (most Huber residuals lie outside ``delta``): each row's sum runs
    over its own terms alone, so it does not depend on the other rows."""
    k, p, n = jac.shape
    out = np.zeros((k, len(upper[0])))
    flat = np.flatnonzero(curvature != 0)
    if flat.size:
        rows = flat // n
        picked = np.take(jac, flat + rows * ((p - 1) * n) + (np.arange(p) * n)[:, None])
        terms = (picked * curvature.ravel()[flat])[upper[0]] * picked[upper[1]]
        first = np.concatenate(([0], np.flatnonzero(rows[1:] != rows[:-1]) + 1))
        out[rows[first]] = np.add.reduceat(terms, first, axis=1).T
    return out


def _second_derivatives(fn, points, jac, relative=1e-5):
    """``d2 r_i / d theta^2`` ``(s, p, p, n)`` at ``points`` by central differences of the
    analytic Jacobian ``jac`` (symmetrised)."""
    s, p = points.shape
    out = np.zeros((s, p, p, jac.shape[-1]))
    for j in range(p):
        h = relative * (1 + np.abs(points[:, j]))
        up, down = points.copy(), points.copy()
        up[:, j] += h
        down[:, j] -= h
        out[:, :, j] = (fn(up)[1] - fn(down)[1]) / (2 * h)[:, None, None]
    return 0.5 * (out + out.transpose(0, 2, 1, 3))


def _refit_chunk(fitter: LawFitter, inputs, target, starts, counts, max_iter, n_optima=1):
    """Refit a block of resamples (rows of ``counts``) from every start; best per resample.

    The first ``n_optima`` starts are optima of the full data, refitted in
    the engine's ``refine`` mode (a shared first pass and a Newton model, see
    :func:`~scalinglaws.fitting.engine.multistart_minimize`); grid starts, far from any
    optimum, take the engine's default search.
    """
    residuals = fitter.array_residual_function(inputs, target)
    x, best_fun, ok, best = _refit_once(fitter, residuals, starts, counts, max_iter, n_optima)
    # Refine mode is a fast path, not the only one: a resample it leaves unconverged (even
    # after the polish) gets the engine's default search from the same starts before it is
    # counted as failed (measured: 1 of 100 datablations resamples, R*_D on its flat ridge).
    retry = np.flatnonzero(~ok)
    if n_optima and retry.size:
        rx, rfun, rok, rbest = _refit_once(fitter, residuals, starts, counts[retry], max_iter, 0)
        x[retry], best_fun[retry], ok[retry], best[retry] = rx, rfun, rok, rbest
    return x, best_fun, ok, best


def _refit_once(fitter, residuals, starts, counts, max_iter, n_optima):
    """One pass of :func:`_refit_chunk`: the first ``n_optima`` starts in refine mode."""
    n_res, (n_starts, p) = counts.shape[0], starts.shape
    n_optima = min(n_optima, n_starts)
    fun = np.full((n_res, n_starts), np.inf)
    x_all = np.zeros((n_res, n_starts, p))
    converged = np.zeros((n_res, n_starts), bool)
    for cols, refine in ((slice(0, n_optima), True), (slice(n_optima, n_starts), False)):
        width = cols.stop - cols.start
        if width == 0:
            continue
        # stall=0: every start of a resample runs to its own convergence, so a start from
        # another optimum is never cut short while it is still heading somewhere lower
        out = multistart_minimize(residuals, np.tile(starts[cols], (n_res, 1)), fitter.loss,
                                  fitter.lower, fitter.upper, max_iter=max_iter, prune_after=0,
                                  stall=0, weights=np.repeat(counts, width, axis=0),
                                  groups=np.repeat(np.arange(n_res), width),
                                  **({"damping": _DAMPING, "refine": ResampleModel}
                                     if refine else {}))
        fun[:, cols] = np.where(np.isfinite(out.fun), out.fun, np.inf).reshape(n_res, width)
        x_all[:, cols] = out.x.reshape(n_res, width, p)
        converged[:, cols] = out.converged.reshape(n_res, width)
    every = np.arange(n_res)
    best = np.argmin(fun, axis=1)
    # Another start "wins" only if it reached a genuinely lower objective than the
    # full-data optimum's start, not the same basin a rounding error lower.
    same_basin = fun[every, best] >= fun[:, 0] * (1 - _SAME_BASIN)
    best = np.where(same_basin, 0, best)
    x, best_fun = x_all[every, best], fun[every, best]
    ok = np.isfinite(best_fun) & converged[every, best]
    # A resample whose search stalled is finished on its own (exact objective, see the
    # module docstring) rather than reported short of its optimum or called failed.
    for i in np.flatnonzero(~ok & np.isfinite(best_fun)):
        x[i], best_fun[i], _, gradient = polish(residuals, x[i], fitter.loss, fitter.lower,
                                                fitter.upper, weights=counts[i])
        ok[i] = gradient <= GRADIENT_TOLERANCE
    return x, best_fun, ok, best


def bootstrap(result: FitResult, runs, n_resamples: int = 1000, *, confidence_level: float = 0.95,
              method: str = "percentile", rng=None, groups: str | None = None,
              n_jobs: int = 1, backend: str | None = None, progress: bool | None = None,
              extra_starts: int = 0, max_iter: int = 200, jackknife: bool | None = None,
              chunk_size: int | None = None,
              clusters: str | None = CLUSTERS_DEFAULT) -> BootstrapResult:
    """Bootstrap a fit by resampling whole runs and re-optimising every resample.

    Parameters
    ----------
    result : FitResult
        The full-data fit (its options are reused for every resample).
    runs : Runs, DataFrame or path
        The runs the fit was made on (checked against its data fingerprint).
    n_resamples : int
        Number of bootstrap resamples.
    confidence_level : float
        Two-sided level of the intervals.
    method : {"percentile", "basic", "bca"}
        Interval method (BCa uses a leave-one-run-out jackknife, also
        computed in one batch; with ``clusters``, leave-one-cluster-out). In
        simulated sweeps the percentile and BCa intervals held the truth at
        their level and the basic one did not (A, B, alpha at 87.5-88.5% for
        95%; README, "Which method").
    rng : None, int or numpy.random.Generator
        Source of randomness; the same seed gives the same draws, bit for bit,
        whatever ``n_jobs``, ``backend``, ``chunk_size`` and the number of BLAS
        threads.
    groups : str, optional
        Column of ``runs`` to resample within (e.g. ``"budget"``).
    clusters : "auto", str or None
        Rows resampled together. ``"auto"`` (default): when some ``run_id`` repeats
        (rows are checkpoints of the same runs, e.g. from
        :func:`~scalinglaws.anytime_points`), whole runs, all their rows together;
        otherwise rows, as without it (the same draws, bit for bit). A column name (as
        the runs hold it, or the header it was read from) resamples by its values; None
        resamples rows. With ``groups``, clusters are resampled within each group.
        Checkpoints of one run share its error, so resampling them as rows makes the
        intervals too narrow (README, "Checkpoints: whole runs are resampled").
    n_jobs : int
        Workers over blocks of resamples (joblib's convention: ``-1`` = every
        core). Capped by the cores and the blocks; without ``backend``, worker
        processes are started only when the work per worker outweighs their
        start-up (:func:`plan_workers`); below that, threads when each gets
        enough work (:func:`~scalinglaws._parallel.plan_threads`), otherwise the
        bootstrap runs in-process.
    backend : str, optional
        joblib backend to use as given, e.g. ``"loky"`` (processes),
        ``"threading"``, or ``"dask"`` inside ``with dask.distributed.Client(...)``.
    progress : bool, optional
        tqdm progress bar; default on only for an interactive terminal and
        more than 200 resamples.
    extra_starts : int
        Grid starts added to the full-data optimum and local optima (>= 0).
    max_iter : int
        Iterations of the batched search per resample.
    jackknife : bool, optional
        Compute the leave-one-out estimates (default: only for BCa).
    chunk_size : int, optional
        Resamples per block (default: as many as keep a block near 4,096
        engine rows). Blocks are the unit of parallel work.

    Returns
    -------
    BootstrapResult

    Examples
    --------
    >>> import scalinglaws as sl
    >>> runs = sl.generate_sweep(noise=0.01, rng=5)
    >>> boot = bootstrap(sl.fit(runs), runs, 50, rng=0)
    >>> boot.draws.shape, boot.n_failed
    ((50, 5), 0)
    """
    runs = as_runs(runs)
    if not isinstance(result, FitResult):
        raise InputError(f"`result` must be a FitResult, got {type(result).__name__}")
    n_resamples = check_n_resamples(n_resamples)
    level = _check_level(confidence_level)
    method = _check_method(method)
    generator = check_rng("rng", rng)
    n_jobs = check_int("n_jobs", n_jobs, -(os.cpu_count() or 1))
    if n_jobs == 0:
        raise InputError("`n_jobs` must be a non-zero integer (-1 = every core), got 0")
    if backend is not None and not isinstance(backend, str):
        raise InputError(f"`backend` must be None or the name of a joblib backend, got {backend!r}")
    progress = None if progress is None else check_bool("progress", progress)
    jackknife = None if jackknife is None else check_bool("jackknife", jackknife)
    extra_starts = check_int("extra_starts", extra_starts, 0)
    max_iter = check_int("max_iter", max_iter, 1)
    chunk_size = None if chunk_size is None else check_int("chunk_size", chunk_size, 1)
    options = {k: v for k, v in result.options.items()
               if k in LawFitter.OBJECTIVE_OPTIONS + ("max_iter", "prune_after", "keep")}
    fitter = LawFitter(get_form(result.form), **options)
    check_fitted_on(result, runs)
    labels = None
    if groups is not None:
        groups = runs_column(runs, groups) or groups  # the header a column was read from too
        if groups not in runs.columns:
            raise InputError(f"`groups` (--group) column {groups!r} is not in the runs "
                             f"(columns: {', '.join(map(str, runs.columns))})")
        # a run with no label would be in the point fit and in no resample: refused, naming
        # its row, as `clusters` and compare's `groups` refuse it
        labels = runs.labels(groups, "groups")
    clusters, codes = resolve_clusters(runs, clusters, labels)
    n_units = len(runs) if codes is None else int(codes.max()) + 1
    if codes is not None and n_units < 2:
        raise InputError(f"bootstrap: every row of the runs is in one cluster of `clusters` "
                         f"(--cluster) column {clusters!r}, so every resample draws the same "
                         "rows; give a column that tells the runs apart, or clusters=None "
                         "(--cluster none) to resample rows")
    if labels is not None:
        _warn_singleton_strata(groups, labels if codes is None else labels[
            np.unique(codes, return_index=True)[1]])
    seed = int(rng) if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) else None
    inputs, target = runs.inputs(fitter.form.inputs), runs.loss
    point_of_run = design_points(inputs)
    _check_degrees_of_freedom(result, int(point_of_run.max()) + 1, fitter)
    # every resample is drawn, as always (the same stream), and only those that can
    # identify the parameters are refitted: a resample's refit depends on its own weights
    # alone, so each valid draw is the one it was before degenerate ones were set aside
    counts = resample_counts(len(runs), n_resamples, generator, labels, codes)
    valid = distinct_points(counts, point_of_run) >= len(fitter.free)
    n_degenerate = int(n_resamples - np.count_nonzero(valid))
    counts = counts[valid]
    n_refits = len(counts)
    starts = _starts(result, fitter, runs, extra_starts)
    n_optima = len(_optima(result, fitter))
    seconds = n_refits * len(starts) * len(runs) * SECONDS_PER_RESAMPLE_RUN_START
    per_chunk = chunk_size or _chunk_size(max(n_refits, 1), len(starts), n_jobs, backend, seconds)
    blocks = [counts[i:i + per_chunk] for i in range(0, n_refits, per_chunk)]
    show = (sys.stderr.isatty() and n_resamples > 200) if progress is None else progress
    outputs = _run_blocks(fitter, inputs, target, (starts, n_optima), blocks, max_iter, n_jobs,
                          backend, show, seconds)
    p = len(fitter.free)
    x = np.concatenate([o[0] for o in outputs] or [np.empty((0, p))])
    fun = np.concatenate([o[1] for o in outputs] or [np.empty(0)])
    ok = np.concatenate([o[2] for o in outputs] or [np.empty(0, bool)])
    best_start = np.concatenate([o[3] for o in outputs] or [np.empty(0, int)])
    draws = fitter.form.to_public(fitter._expand(x[ok]))
    jack = None
    if jackknife or (jackknife is None and method == "bca"):
        loo = leave_one_out(codes, len(runs))
        jx, _, jok, _ = _refit_chunk(fitter, inputs, target, starts[:1], loo, max_iter)
        jack = fitter.form.to_public(fitter._expand(jx))
        # a leave-one-out set that cannot identify the parameters (replicated runs) is no
        # jackknife value either
        jack[~jok | (distinct_points(loo, point_of_run) < p)] = np.nan
    n_failed = int(np.sum(~ok))
    if n_failed:
        warnings.warn(f"bootstrap: {n_failed} of {n_resamples} resamples failed to converge and "
                      "are excluded from the intervals (see n_failed)", ConvergenceWarning,
                      stacklevel=2)
    _warn_small_sample(n_units, p, n_resamples, n_degenerate)
    warn_few_draws(len(draws), level, stacklevel=3)
    return BootstrapResult(form=fitter.form, point=dict(result.params), draws=draws,
                           objectives=fun[ok], n_resamples=int(n_resamples), n_failed=n_failed,
                           n_best_start_changed=int(np.sum(best_start[ok] != 0)),
                           confidence_level=level, method=method, seed=seed, groups=groups,
                           jackknife=jack, n_degenerate=n_degenerate, clusters=clusters,
                           restriction=restriction_kind(result.tied, result.fixed),
                           flops_per_token=result.flops_per_token)


def _warn_singleton_strata(column: str, labels: np.ndarray) -> None:
    """Warn when a stratum holds one run: every resample redraws that run once, so it adds
    no variation and the intervals understate the spread (the stratified bootstrap's
    variance has the factor ``(n_h - 1) / n_h`` per stratum, 0 for ``n_h = 1``)."""
    names, sizes = np.unique(labels.astype(str), return_counts=True)
    single = names[sizes == 1]
    if single.size == 0:
        return
    shown = named_list([repr(str(name)) for name in single], 10)
    warnings.warn(f"bootstrap: {single.size} of {names.size} strata of `groups` (--group) "
                  f"column {column!r} hold a single run ({shown}); every resample "
                  "redraws that run, so it adds no variation and the intervals understate "
                  "the spread: merge small strata (e.g. neighbouring budgets) or resample "
                  "without `groups` (--group)", BootstrapResamplingWarning, stacklevel=3)


def _check_degrees_of_freedom(result: FitResult, n_points: int, fitter: LawFitter) -> None:
    """Refuse runs that leave nothing to resample: no more runs than free parameters (no
    residual degrees of freedom: the law passes through every run and every resample
    either repeats that fit or cannot identify the parameters), or fewer distinct design
    points than free parameters (the data themselves do not identify them)."""
    p, free, n_runs = len(fitter.free), ", ".join(fitter.free), result.n_runs
    if result.residual_df <= 0:
        raise InputError(f"bootstrap: `runs` has {counted(n_runs, 'run')} for {p} free parameters "
                         f"({free}): no residual degrees of freedom, so nothing to resample "
                         f"(the law passes through every run; a resample's refit cannot "
                         f"move, or cannot identify the parameters); the bootstrap needs "
                         f"more than {p} runs (fix or tie parameters to free fewer)")
    if n_points < p:
        raise InputError(f"bootstrap: `runs` has {counted(n_runs, 'run')} at only {n_points} "
                         f"distinct {'/'.join(fitter.form.inputs)} points for {p} free parameters "
                         f"({free}): no resample can identify them")


def _chunk_size(n_resamples, n_starts, n_jobs, backend, seconds):
    """Resamples per block: near :data:`_CHUNK_ROWS` engine rows, and, when the blocks will
    run on threads, a whole number of blocks per thread (10,000 resamples on 2 threads:
    4 blocks of 2,500, not 4,096 + 4,096 + 1,808). A resample's refit does not depend on
    its block, so this changes only the time."""
    largest = max(1, _CHUNK_ROWS // n_starts)
    n_blocks = -(-n_resamples // largest)
    threads = 1 if (n_jobs == 1 or backend is not None) else plan_threads(
        n_jobs, n_resamples, seconds)
    if threads > 1 and plan_workers(n_jobs, n_resamples, seconds) == 1:
        n_blocks = -(-n_blocks // threads) * threads
    return max(1, -(-n_resamples // n_blocks))


def _run_blocks(fitter, inputs, target, starts, blocks, max_iter, n_jobs, backend, show,
                seconds):
    """Refit every block, in-process, on threads or on joblib workers (:func:`plan_workers`
    and :func:`plan_threads` decide from the estimated in-process ``seconds``); results in
    block order. ``starts`` is ``(points, n_optima)`` as :func:`_starts` returns it."""
    starts, n_optima = starts
    tasks = [(fitter, inputs, target, starts, block, max_iter, n_optima) for block in blocks]
    return map_blocks(_refit_chunk, tasks, n_jobs=n_jobs, backend=backend, seconds=seconds,
                      show=show, desc="bootstrap", threads=True)


#: Coverage of the 95% percentile intervals of E, alpha and beta on Chinchilla sweeps cut to
#: few runs (1% noise; 50 sweeps x 100 resamples per size, degenerate resamples left out;
#: tests/uncertainty/test_bootstrap_small_samples.py), keyed by runs per free parameter
#: (5 free): the sizes where some parameter's count fell below 43 of 50, three Monte
#: Carlo errors under 95%: 6 runs held E 41, alpha 42, beta 36 of 50 (three quarters of
#: their resamples degenerate). From 8 runs (1.6 per parameter) on, every count was 47-50
#: of 50 (8, 12, 20, 40 runs); 7 runs were not measured and are warned about.
SMALL_SAMPLE_COVERAGE = {1.2: {"E": 41 / 50, "alpha": 42 / 50, "beta": 36 / 50}}
#: runs per free parameter from which the percentile interval was measured to cover
ENOUGH_RUNS_PER_PARAMETER = 1.6


def _warn_small_sample(n_runs: int, n_free: int, n_resamples: int, n_degenerate: int) -> None:
    """Say when the intervals are below their level: degenerate resamples left out, or too
    few runs per free parameter for the percentile interval to cover (measured, quoted)."""
    if n_degenerate:
        warnings.warn(f"bootstrap: {n_degenerate} of {n_resamples} resamples drew fewer than "
                      f"{n_free} distinct runs and cannot identify the {n_free} free "
                      "parameters; they are not draws and are left out of the intervals "
                      "(see n_degenerate)", BootstrapResamplingWarning, stacklevel=3)
    ratio = n_runs / n_free
    if ratio >= ENOUGH_RUNS_PER_PARAMETER:
        return
    # the measured size nearest below this one (the smallest measured, if below them all)
    below = [r for r in SMALL_SAMPLE_COVERAGE if r <= ratio + 1e-9]
    measured = max(below) if below else min(SMALL_SAMPLE_COVERAGE)
    held = ", ".join(f"{name} {100 * share:.0f}%"
                     for name, share in SMALL_SAMPLE_COVERAGE[measured].items())
    warnings.warn(f"bootstrap: {counted(n_runs, 'run')} for {n_free} free parameters "
                  f"({ratio:.2g} per parameter) are too few for the interval to hold its level: in simulated "
                  f"Chinchilla sweeps of {round(5 * measured)} runs ({measured:g} per "
                  f"parameter, 1% noise) the 95% percentile intervals held the truth in "
                  f"{held} of 50 sweeps; from {ENOUGH_RUNS_PER_PARAMETER:g} runs per "
                  "parameter on they covered. Add runs, or fix or tie parameters",
                  BootstrapResamplingWarning, stacklevel=3)
