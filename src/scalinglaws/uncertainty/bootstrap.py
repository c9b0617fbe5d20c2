"""Bootstrap confidence intervals for fitted laws, with re-optimisation of every resample.

A resample draws whole runs with replacement (optionally within groups, e.g.
per compute budget). Drawing runs with replacement is the same as weighting
each run by its multiplicity, so all resamples share one residual function
and are refitted together as one batch of the engine (resample x start rows,
each with its own weight vector): no Python loop over scipy calls.

Each resample is re-optimised from the full-data optimum *and* from the other
distinct local optima the full fit found (plus a few of the best grid starts),
and keeps its best; how often the best start is not the full-data optimum is
recorded, as is every resample whose refit failed.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

from .._exceptions import ConvergenceWarning, InputError
from .._validation import check_confidence_level as _check_level
from ..fitting.estimator import GRADIENT_TOLERANCE, FitResult, LawFitter
from ..laws.forms import get_form
from ..fitting.engine import multistart_minimize, polish
from ..data.runs import Runs, as_runs
from .bootstrap_result import METHODS, BootstrapResult, _check_method

__all__ = ["BootstrapResult", "bootstrap", "resample_counts", "METHODS"]

_CHUNK_ROWS = 4096  # engine rows (resamples x starts) per batch: bounds memory
_SAME_BASIN = 1e-8  # relative objective gain below which two starts reached one optimum


def resample_counts(n_runs: int, n_resamples: int, rng, groups=None) -> np.ndarray:
    """Multiplicity of each run in each resample, ``(n_resamples, n_runs)``.

    Within ``groups`` (an array of labels), each group is resampled to its own
    size, so every resample keeps the design (e.g. runs per compute budget).
    """
    if groups is None:
        picks = rng.integers(0, n_runs, size=(n_resamples, n_runs))
        counts = np.zeros((n_resamples, n_runs))
        np.add.at(counts, (np.arange(n_resamples)[:, None], picks), 1)
        return counts
    counts = np.zeros((n_resamples, n_runs))
    labels = np.asarray(groups)
    for label in sorted(set(labels.tolist()), key=str):
        members = np.flatnonzero(labels == label)
        picks = members[rng.integers(0, members.size, size=(n_resamples, members.size))]
        np.add.at(counts, (np.arange(n_resamples)[:, None], picks), 1)
    return counts


def _starts(result: FitResult, fitter: LawFitter, runs: Runs, extra_grid_starts: int):
    """Full-data optimum first, then the other distinct optima, then a few grid starts."""
    free_idx = [result.form.param_names.index(n) for n in fitter.free]
    points = [result.form.to_internal(result.form.params_vector(result.params))[free_idx]]
    for optimum in result.local_optima[1:]:
        values = [optimum["params"][n] for n in result.form.param_names]
        if all(v is not None and np.isfinite(v) for v in values):
            points.append(result.form.to_internal(np.array(values, dtype=float))[free_idx])
    points = [p for p in points if np.all(np.isfinite(p))]
    if extra_grid_starts:
        grid = fitter._start_points(runs.inputs(fitter.form.inputs), runs.loss)
        step = max(1, len(grid) // extra_grid_starts)
        points.extend(grid[::step][:extra_grid_starts])
    return np.clip(np.array(points), fitter.lower, fitter.upper)


def _refit_chunk(fitter: LawFitter, inputs, target, starts, counts, max_iter):
    """Refit a block of resamples (rows of ``counts``) from every start; best per resample."""
    residuals = fitter.array_residual_function(inputs, target)
    n_res, n_starts = counts.shape[0], starts.shape[0]
    x0 = np.tile(starts, (n_res, 1))
    weights = np.repeat(counts, n_starts, axis=0)
    labels = np.repeat(np.arange(n_res), n_starts)
    out = multistart_minimize(residuals, x0, fitter.loss, fitter.lower, fitter.upper,
                              max_iter=max_iter, prune_after=0, weights=weights, groups=labels)
    fun = np.where(np.isfinite(out.fun), out.fun, np.inf).reshape(n_res, n_starts)
    best = np.argmin(fun, axis=1)
    # Another start "wins" only if it reached a genuinely lower objective than the
    # full-data optimum's start, not the same basin a rounding error lower.
    same_basin = fun[np.arange(n_res), best] >= fun[:, 0] * (1 - _SAME_BASIN)
    best = np.where(same_basin, 0, best)
    rows = np.arange(n_res) * n_starts + best
    x, best_fun = out.x[rows], fun[np.arange(n_res), best]
    ok = np.isfinite(best_fun) & out.converged[rows]
    # The batched search creeps along flat valleys for a few resamples; finish
    # those one by one rather than call them failed.
    for i in np.flatnonzero(~ok & np.isfinite(best_fun)):
        x[i], best_fun[i], _, gradient = polish(residuals, x[i], fitter.loss, fitter.lower,
                                                fitter.upper, weights=counts[i])
        ok[i] = gradient <= GRADIENT_TOLERANCE
    return x, best_fun, ok, best


def bootstrap(result: FitResult, runs, n_resamples: int = 1000, *, confidence_level: float = 0.95,
              method: str = "percentile", rng=None, groups: str | None = None,
              n_jobs: int = 1, backend: str | None = None, progress: bool | None = None,
              extra_starts: int = 0, max_iter: int = 200, jackknife: bool | None = None,
              chunk_size: int | None = None) -> BootstrapResult:
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
        computed in one batch).
    rng : None, int or numpy.random.Generator
        Source of randomness; the same seed gives the same draws whatever ``n_jobs``.
    groups : str, optional
        Column of ``runs`` to resample within (e.g. ``"budget"``).
    n_jobs : int
        Parallel workers (joblib) over blocks of resamples.
    backend : str, optional
        joblib backend, e.g. ``"dask"`` inside ``with dask.distributed.Client(...)``.
    progress : bool, optional
        tqdm progress bar; default on only for an interactive terminal and
        more than 200 resamples.
    extra_starts : int
        Grid starts added to the full-data optimum and local optima.
    max_iter : int
        Iterations of the batched search per resample.
    jackknife : bool, optional
        Compute the leave-one-out estimates (default: only for BCa).
    chunk_size : int, optional
        Resamples per batch (default: as many as keep a batch near 4,096 rows).

    Returns
    -------
    BootstrapResult
    """
    runs = as_runs(runs)
    if not isinstance(result, FitResult):
        raise InputError(f"`result` must be a FitResult, got {type(result).__name__}")
    if not isinstance(n_resamples, (int, np.integer)) or n_resamples < 2:
        raise InputError(f"`n_resamples` must be an integer >= 2, got {n_resamples!r}")
    level = _check_level(confidence_level)
    method = _check_method(method)
    if not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise InputError(f"`n_jobs` must be a non-zero integer, got {n_jobs!r}")
    options = {k: v for k, v in result.options.items() if k in (
        "loss", "delta", "space", "fixed", "tied", "bounds", "max_iter", "prune_after", "keep")}
    fitter = LawFitter(get_form(result.form), **options)
    fingerprint = runs.fingerprint(fitter.form.inputs + ("loss",))
    if result.data_fingerprint and fingerprint != result.data_fingerprint:
        raise InputError("`runs` are not the data `result` was fitted on (data fingerprints "
                         "differ); pass the same runs, after the same exclusions")
    labels = None
    if groups is not None:
        if groups not in runs.columns:
            raise InputError(f"`groups` column {groups!r} is not in the runs "
                             f"(columns: {', '.join(map(str, runs.columns))})")
        labels = runs.frame[groups].to_numpy()
    seed = int(rng) if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) else None
    generator = np.random.default_rng(rng)
    counts = resample_counts(len(runs), n_resamples, generator, labels)
    starts = _starts(result, fitter, runs, extra_starts)
    inputs, target = runs.inputs(fitter.form.inputs), runs.loss
    per_chunk = chunk_size or max(1, _CHUNK_ROWS // len(starts))
    blocks = [counts[i:i + per_chunk] for i in range(0, n_resamples, per_chunk)]
    show = (sys.stderr.isatty() and n_resamples > 200) if progress is None else bool(progress)
    outputs = _run_blocks(fitter, inputs, target, starts, blocks, max_iter, n_jobs, backend, show)
    x = np.concatenate([o[0] for o in outputs])
    fun = np.concatenate([o[1] for o in outputs])
    ok = np.concatenate([o[2] for o in outputs])
    best_start = np.concatenate([o[3] for o in outputs])
    draws = fitter.form.to_public(fitter._expand(x[ok]))
    jack = None
    if jackknife or (jackknife is None and method == "bca"):
        loo = 1.0 - np.eye(len(runs))
        jx, _, jok, _ = _refit_chunk(fitter, inputs, target, starts[:1], loo, max_iter)
        jack = fitter.form.to_public(fitter._expand(jx))
        jack[~jok] = np.nan
    n_failed = int(np.sum(~ok))
    if n_failed:
        warnings.warn(f"bootstrap: {n_failed} of {n_resamples} resamples failed to converge and "
                      "are excluded from the intervals (see n_failed)", ConvergenceWarning,
                      stacklevel=2)
    return BootstrapResult(form=fitter.form, point=dict(result.params), draws=draws,
                           objectives=fun[ok], n_resamples=int(n_resamples), n_failed=n_failed,
                           n_best_start_changed=int(np.sum(best_start[ok] != 0)),
                           confidence_level=level, method=method, seed=seed, groups=groups,
                           jackknife=jack)


def _run_blocks(fitter, inputs, target, starts, blocks, max_iter, n_jobs, backend, show):
    from tqdm.auto import tqdm

    if n_jobs == 1 and backend is None:
        return [_refit_chunk(fitter, inputs, target, starts, block, max_iter)
                for block in tqdm(blocks, disable=not show, desc="bootstrap", unit="block")]
    from joblib import Parallel, delayed, parallel_backend

    tasks = (delayed(_refit_chunk)(fitter, inputs, target, starts, block, max_iter)
             for block in blocks)
    if backend is None:
        return Parallel(n_jobs=n_jobs)(tqdm(tasks, total=len(blocks), disable=not show,
                                            desc="bootstrap", unit="block"))
    with parallel_backend(backend, n_jobs=n_jobs):
        return Parallel()(tqdm(tasks, total=len(blocks), disable=not show, desc="bootstrap",
                               unit="block"))
