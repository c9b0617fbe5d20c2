"""Bootstrap of a grouped fit: runs resampled within each group, every resample refitted.

Each resample draws, in every group, as many runs as the group has, with replacement
(:func:`~scalinglaws.uncertainty.resampling.resample_counts` with the group column as
strata), so every resample keeps every group and its size; when rows are checkpoints of
the same runs (a repeated ``run_id``, or the ``clusters`` column), whole runs are drawn
within each group, as many as it has. As in the single-fit
bootstrap, drawing runs is weighting them by their multiplicity, so all resamples
share the residual functions and are refitted together: each from the full-data
optimum, by the block Levenberg-Marquardt step of the grouped fit
(:func:`scalinglaws.fitting._stacked.block_lm`), in chunks of resamples (parallel with
``n_jobs``; ``backend="dask"`` inside a ``dask.distributed.Client`` runs the chunks on a
cluster). Without shared parameters the groups decouple and each group's refit is its own
problem, and the few refits the batch leaves unconverged are polished alone by scipy.
With shared parameters a resample is one joint problem, and one that the block step
leaves unconverged is finished alone (:func:`_settle`): scale parameters pushed to a
bound tried on it, the groups' own parameters refined with the shared ones held, and
where that does not certify it, scipy's polish of the whole joint vector. A resample
drawing only 3-4 distinct runs of a small group needs it: the block step left about
half of those unconverged (a group of 5 runs beside one of 108, alpha and beta shared:
104 of 186 identified resamples, and a failed joint refit is lost to every group), at
the optimum (an exact fit of the group, whose relative gradient is rounding noise) or
short of it (a coefficient whose best value is 0, reached only in the limit). Finished,
all of them converged there (also at 400 resamples: 0 failed of 359, against 228), each to
the optimum scipy finds on its own from several starts (objective within 1e-12,
``tests/uncertainty/test_grouped_bootstrap_stalls.py``). A group fitted exactly counts as
stationary in its own parameters, as the engine counts an exact fit.

The draws of resample ``r`` for all groups come from the same resample, so any function
of several groups' parameters (a difference of exponents, an effective-compute
multiplier) has its bootstrap distribution by evaluating it draw by draw.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .._draws import check_n_resamples
from .._exceptions import (BootstrapResamplingWarning, ConvergenceWarning, InputError,
                           user_stacklevel)
from .._files import atomic_write, check_output_path, json_text
from .._parallel import map_blocks
from .._text import counted
from .._validation import FrozenOnUnpickle
from .._validation import check_confidence_level, check_int, deep_freeze, to_plain
from .._version import __version__
from ..data.runs import as_runs
from ..fitting._stacked import (StackedGroups, _gradient, _moments, block_lm, joint_bounds,
                                joint_residuals)
from ..fitting.engine import _EXACT_FIT
from ..fitting.polish import polish
from ..fitting.estimator import GRADIENT_TOLERANCE, LawFitter
from ..fitting.grouped import GroupedFitResult, GroupedFitter, check_weights
from .bootstrap_result import BootstrapResult
from .delta import restriction_kind
from .resampling import (CLUSTERS_DEFAULT, design_points, distinct_points, resample_counts,
                         resolve_clusters)

__all__ = ["DOCUMENT_KIND", "SCHEMA_VERSION", "GroupedBootstrapResult", "bootstrap_groups"]

#: ``kind`` and ``schema_version`` of :meth:`GroupedBootstrapResult.to_dict` (read:
#: outputs.io.grouped_bootstrap)
DOCUMENT_KIND, SCHEMA_VERSION = "scalinglaws.grouped_bootstrap", 1

_CHUNK_ELEMENTS = 1 << 22  # resamples x groups x parameters x runs per batch: bounds memory
# a parameter is kept on a bound if the objective there rises by at most this (relative):
# rounding, as when a coefficient of exp(-29.998) goes to exp(-30)
_BOUND_RTOL = 1e-12
# a finished joint refit this close to stationary is not polished (exact fits, bounds)
_CLEARLY_STATIONARY = 1e-8


@dataclass(frozen=True, eq=False)
class GroupedBootstrapResult(FrozenOnUnpickle):
    """Bootstrap draws of a grouped fit, paired across groups by resample. Frozen.

    Attributes
    ----------
    form : Form
    group_column : str
    groups : tuple
        The group values, in the order of the second axis of ``draws``.
    shared : tuple of str
        Parameters shared by every group in the fit that was resampled.
    point : Mapping
        Group value -> the full-data parameters (public units).
    draws : ndarray, shape (n_resamples, n_groups, n_params)
        Parameters of every resample and group (``form.param_names`` order); NaN where
        the refit failed (the whole resample with shared parameters, else one group).
        Read-only.
    n_resamples : int
    n_failed : Mapping
        Group value -> resamples whose refit failed for it (excluded, never dropped
        silently).
    n_degenerate : Mapping
        Group value -> resamples that drew fewer distinct runs of it than its own free
        parameters (not identified: excluded, NaN in ``draws``; empty in results made
        before this was counted).
    confidence_level : float
    seed : int or None
    method : str
        ``"percentile"``.
    clusters : str or None
        Column whose rows were resampled together within each group (``"run_id"``: whole
        runs); None: rows.
    flops_per_token : float
        k in C = k N D of the runs fitted (each group's :meth:`group` result uses it, as
        the fit's allocation does).
    restriction : str
        The fit's ties or fixed parameters (``"tie"``, ``"fixed-parameter"``...; ``""``:
        none), handed to each group's :meth:`group` result, whose allocation intervals
        then say that a tie's bias is excluded.
    """

    form: object
    group_column: str
    groups: tuple
    shared: tuple
    point: Mapping
    draws: np.ndarray = field(repr=False)
    n_resamples: int
    n_failed: Mapping
    confidence_level: float = 0.95
    seed: int | None = None
    method: str = "percentile"
    n_degenerate: Mapping = field(default_factory=dict)
    clusters: str | None = None
    flops_per_token: float = 6.0
    restriction: str = ""

    def __post_init__(self):
        for name in ("groups", "shared", "point", "draws", "n_failed", "n_degenerate"):
            object.__setattr__(self, name, deep_freeze(getattr(self, name)))

    def index(self, group) -> int:
        """Position of ``group`` on the second axis of ``draws``."""
        try:
            return self.groups.index(group)
        except ValueError:
            raise InputError(f"no group {group!r}; groups: {list(self.groups)}") from None

    def group(self, group) -> BootstrapResult:
        """The draws of one group as a :class:`~scalinglaws.BootstrapResult` (its failed
        resamples left out), usable as ``draws=`` of every analysis function."""
        values = self.draws[:, self.index(group)]
        ok = np.all(np.isfinite(values), axis=1)
        degenerate = int(self.n_degenerate.get(group, 0))
        return BootstrapResult(form=self.form, point=dict(self.point[group]), draws=values[ok],
                               objectives=np.full(int(ok.sum()), np.nan),
                               n_resamples=self.n_resamples,
                               n_failed=int((~ok).sum()) - degenerate, n_degenerate=degenerate,
                               n_best_start_changed=0, confidence_level=self.confidence_level,
                               method="percentile", seed=self.seed, groups=self.group_column,
                               clusters=self.clusters, restriction=self.restriction,
                               flops_per_token=self.flops_per_token)

    def parameters(self, group) -> dict:
        """``{name: array (n_resamples,)}`` of one group's draws (NaN where failed)."""
        values = self.draws[:, self.index(group)]
        return {name: values[:, i] for i, name in enumerate(self.form.param_names)}

    def interval(self, statistic: Callable[[Mapping], np.ndarray], *,
                 confidence_level: float | None = None) -> tuple[float, float, float]:
        """Estimate and percentile interval of ``statistic(params)``, where ``params``
        maps each group to ``{name: values}`` (floats for the estimate, arrays of one
        value per resample for the interval). Resamples giving NaN are left out."""
        level = check_confidence_level(self.confidence_level if confidence_level is None
                                       else confidence_level)
        estimate = float(np.asarray(statistic({g: dict(self.point[g]) for g in self.groups})))
        values = np.asarray(statistic({g: self.parameters(g) for g in self.groups}), dtype=float)
        values = values[np.isfinite(values)]
        if values.size < 2:
            return estimate, float("nan"), float("nan")
        tail = (1 - level) / 2
        low, high = np.quantile(values, [tail, 1 - tail])
        return estimate, float(low), float(high)

    def to_dict(self, *, include_draws: bool = False) -> dict:
        """Plain types: the law, the settings, each group's point estimate and failures,
        and (optionally: what :meth:`save` writes, and ``load_grouped_bootstrap`` needs)
        the draws, a null row where a group's refit was left out."""
        doc = {"kind": DOCUMENT_KIND, "schema_version": SCHEMA_VERSION,
               "package_version": __version__, "form": self.form.to_dict(),
               "method": self.method, "n_resamples": self.n_resamples,
               "confidence_level": self.confidence_level, "seed": self.seed,
               "group_column": self.group_column, "clusters": self.clusters,
               "shared": list(self.shared), "flops_per_token": self.flops_per_token,
               "restriction": self.restriction,
               "n_failed": [{"group": g, "n_failed": int(self.n_failed[g])} for g in self.groups],
               "n_degenerate": [{"group": g, "n_degenerate": int(self.n_degenerate.get(g, 0))}
                                for g in self.groups],
               "param_names": list(self.form.param_names),
               # the full-data parameters the draws belong to (a loader given the fit
               # refuses them under other parameters)
               "point": [{"group": g, "params": dict(self.point[g])} for g in self.groups]}
        if include_draws:
            doc["draws"] = [{"group": g, "draws": np.where(np.isfinite(self.draws[:, i]),
                                                           self.draws[:, i], None).tolist()}
                            for i, g in enumerate(self.groups)]
        return to_plain(doc)

    def to_json(self, **kwargs) -> str:
        """:meth:`to_dict` with the draws, as JSON text (``kwargs`` go to
        :func:`json.dumps`)."""
        return json_text(self.to_dict(include_draws=True), what="the grouped bootstrap",
                         **kwargs)

    def save(self, path, *, force: bool = False) -> None:
        """Write :meth:`to_json` to ``path``, atomically (read back by
        ``scalinglaws.load_grouped_bootstrap``); an existing file that is not a grouped
        bootstrap is replaced only with ``force``."""
        text = self.to_json() + "\n"
        target = check_output_path(path, kind="json", force=force, argument="`path`",
                                   document=DOCUMENT_KIND)
        atomic_write(target, text)


def _refit_chunk(fitter, shared_index, inputs, targets, weights, theta0, counts, max_iter):
    """Refit a chunk of resamples (``counts`` ``(K, G, n_max)`` multiplicities)."""
    stack = StackedGroups(fitter, inputs, targets, weights)
    scaled = counts * stack.weights[None]
    k = counts.shape[0]
    out = block_lm(stack, np.repeat(theta0[None], k, axis=0), fitter.loss, fitter.lower,
                   fitter.upper, shared_index, weights=scaled, max_iter=max_iter)
    theta = out["theta"]
    ok = np.broadcast_to((out["gradient"] <= GRADIENT_TOLERANCE).reshape(
        (k, -1)), (k, stack.n_groups)).copy()
    ok &= np.isfinite(out["f"])
    if shared_index.size == 0:
        # the few resamples the batch leaves creeping along a flat valley: polish alone
        for i, g in zip(*np.nonzero(~ok)):
            count = stack.counts[g]
            x, value, _, gradient = polish(stack.functions[g], theta[i, g], fitter.loss,
                                           fitter.lower, fitter.upper,
                                           weights=scaled[i, g, :count])
            if np.isfinite(value) and gradient <= GRADIENT_TOLERANCE:
                theta[i, g], ok[i, g] = x, True
        return theta, ok
    failed = np.flatnonzero(~ok.all(axis=1))
    if failed.size:
        theta[failed], settled = _settle(stack, fitter, shared_index, theta[failed],
                                         scaled[failed], max_iter)
        ok[failed] = settled[:, None]
    return theta, ok


def _settle(stack, fitter, shared, theta, weights, max_iter):
    """Finish the joint refits the block LM left unconverged (``theta`` ``(K, G, q)``).

    A resample that draws only 3-4 distinct runs of a small group nearly interpolates
    them with the group's own parameters, or can fit them only with a coefficient at 0:
    the block LM then stalls before such a group's residuals reach rounding level (where
    its relative gradient is rounding noise) or while a log coefficient creeps toward
    its bound. Each resample, alone: the cheap steps (:func:`_finish`) and, unless they
    leave it at a clearly stationary point (relative gradient at most
    ``_CLEARLY_STATIONARY``), scipy's polish of the whole joint vector
    (:func:`~scalinglaws.fitting.polish.polish`, one BLAS thread), then the cheap steps
    again. The polish is needed even when the cheap steps pass the convergence test: in
    a flat valley they cross 1e-4 short of the optimum (Porian et al.'s 15 settings, 4
    of 200 resamples: objective 1e-5 above scipy's, alpha 0.002 off, where the polish
    lands on it). Deterministic per resample, so independent of the chunking. Returns
    ``theta`` and whether each resample is now certified stationary.
    """
    per = np.setdiff1d(np.arange(stack.q), shared)
    # f: the joint objective at the returned theta, which _finish's stationarity test
    # computed (the same numbers, row by row, as _objective of each resample alone)
    theta, gradient, f = _finish(stack, fitter, shared, per, theta, weights, max_iter)
    residuals, pack, unpack, rows = joint_residuals(stack, shared, per)
    lower, upper = joint_bounds(fitter.lower, fitter.upper, shared, per, stack.n_groups)
    again = np.flatnonzero(~(gradient <= _CLEARLY_STATIONARY))
    for i in again:
        x, value, _, _ = polish(residuals, pack(theta[i]), fitter.loss, lower, upper,
                                weights=weights[i].ravel()[rows])
        if np.isfinite(value) and value <= f[i]:
            theta[i] = unpack(x[None])[0]
    if again.size:
        theta[again], gradient[again], _ = _finish(stack, fitter, shared, per, theta[again],
                                                   weights[again], max_iter)
    return theta, gradient <= GRADIENT_TOLERANCE


def _finish(stack, fitter, shared, per, theta, weights, max_iter):
    """Cheap last steps of joint refits; returns them, their relative gradient and
    their joint objective (:func:`_stationary`).

    Each parameter that the gradient pushes toward a finite bound is tried on the bound
    and kept there if the objective does not rise beyond rounding (a log coefficient
    whose best value is 0 reaches it only in the limit, its gradient shrinking with
    it); then the groups' own parameters are refined with the shared ones held (groups
    decoupled: a group near interpolation goes on to rounding level, which lowers the
    joint objective and leaves the shared values as they are)."""
    lower, upper = fitter.lower, fitter.upper
    f, grad = _objective(stack, fitter, theta, weights, gradient=True)
    total_grad = grad.copy()
    total_grad[:, :, shared] = grad[:, :, shared].sum(axis=1, keepdims=True)
    for i in range(theta.shape[0]):
        push = (((total_grad[i] > 0) & np.isfinite(lower)) | ((total_grad[i] < 0)
                                                                & np.isfinite(upper)))
        push[1:, shared] = False  # a shared parameter is tried once, on every group
        for g, j in zip(*np.nonzero(push)):
            trial = theta[i].copy()
            bound = lower[j] if total_grad[i, g, j] > 0 else upper[j]
            if j in shared:
                trial[:, j] = bound
            else:
                trial[g, j] = bound
            value = _objective(stack, fitter, trial[None], weights[i][None])[0]
            if np.isfinite(value) and value <= f[i] + _BOUND_RTOL * abs(f[i]):
                theta[i], f[i] = trial, value
    own = block_lm(stack, theta, fitter.loss, lower, upper, shared, hold_shared=True,
                   weights=weights, max_iter=max_iter)
    better = own["f"].sum(axis=1) <= f
    theta = np.where(better[:, None, None], own["theta"], theta)
    return (theta, *_stationary(stack, fitter, shared, per, theta, weights))


def _objective(stack, fitter, theta, weights, gradient=False):
    """Joint objective ``(K,)`` of ``theta`` ``(K, G, q)`` (and each group's gradient)."""
    f, grad, *_ = _moments(stack, theta, fitter.loss, weights, majoriser=False)
    total = f.sum(axis=1)
    return (total, grad) if gradient else total


def _stationary(stack, fitter, shared, per, theta, weights):
    """Relative projected gradient ``(K,)`` of joint problems, and their joint objective
    ``(K,)`` (:func:`_objective`'s numbers, from the same evaluation). The gradient is the
    engine's measure
    except that a group fitted exactly (objective per run drawn at most the engine's
    ``_EXACT_FIT``: residuals at rounding level) is stationary in its own parameters,
    and every parameter when all groups are: a non-negative objective at 0 is at its
    minimum, where the relative gradient measures only rounding."""
    f, grad, _, _, gross, _ = _moments(stack, theta, fitter.loss, weights, majoriser=False)
    exact = f <= _EXACT_FIT * np.maximum((weights > 0).sum(axis=-1), 1)
    gross = gross.copy()
    gross[..., per] = np.where(exact[..., None], np.inf, gross[..., per])
    gross[..., shared] = np.where(exact.all(axis=1)[:, None, None], np.inf, gross[..., shared])
    relative = _gradient(grad, gross, theta, fitter.lower, fitter.upper, shared, per, True)
    total = f.sum(axis=1)
    return np.where(np.isfinite(total), relative, np.inf), total


def bootstrap_groups(result: GroupedFitResult, runs, n_resamples: int = 1000, *,
                     confidence_level: float = 0.95, rng=None, weights=None, n_jobs: int = 1,
                     backend: str | None = None, progress: bool | None = None,
                     max_iter: int = 200, chunk_size: int | None = None,
                     clusters: str | None = CLUSTERS_DEFAULT) -> GroupedBootstrapResult:
    """Bootstrap a grouped fit by resampling runs within each group.

    Parameters
    ----------
    result : GroupedFitResult
        The full-data fit (its options and shared parameters are reused).
    runs : Runs, DataFrame or path
        The runs it was fitted on (each group checked against its data fingerprint).
    n_resamples : int
        Resamples (each one draws every group anew).
    confidence_level : float
        Level of the percentile intervals.
    rng : None, int or numpy.random.Generator
        Source of randomness; the same seed gives the same draws whatever ``n_jobs``.
    weights : array or str, optional
        The per-run weights the fit used, if any.
    n_jobs, backend :
        Parallel workers (joblib) over chunks of resamples; without ``backend``, processes
        start only when the first chunk, timed in-process, shows that the work per worker
        pays for them, else threads when each gets enough work (1.3x as fast on 2 cores
        for 4 groups x 200-1,000 resamples), else in-process; ``backend="dask"`` inside a
        ``dask.distributed.Client`` runs them on a cluster.
    progress : bool, optional
        tqdm bar (default: a terminal and more than 200 resamples).
    max_iter : int
        Block Levenberg-Marquardt iterations per resample (and per finishing pass of a
        joint refit it leaves unconverged).
    chunk_size : int, optional
        Resamples per batch (default: as many as keep a batch near 4M numbers).
    clusters : "auto", str or None
        Rows resampled together, within each group, as
        :func:`~scalinglaws.bootstrap`'s ``clusters``: ``"auto"`` (default) whole runs
        when some ``run_id`` repeats, else rows (the same draws as without it); a column
        name; None for rows.

    Returns
    -------
    GroupedBootstrapResult

    Examples
    --------
    >>> import pandas as pd
    >>> from scalinglaws import fit, generate_sweep
    >>> frame = pd.concat([generate_sweep(rng=i).to_frame().assign(recipe=name)
    ...                    for i, name in enumerate(["baseline", "new"])])
    >>> joint = fit(frame, "chinchilla", groups="recipe", shared=["alpha", "beta"])
    >>> boot = bootstrap_groups(joint, frame, n_resamples=50, rng=0)
    >>> boot.draws.shape
    (50, 2, 5)
    """
    if not isinstance(result, GroupedFitResult):
        raise InputError(f"`result` must be a GroupedFitResult, got {type(result).__name__}")
    runs = as_runs(runs)
    n_resamples = check_n_resamples(n_resamples)
    level = check_confidence_level(confidence_level)
    max_iter = check_int("max_iter", max_iter, 1)
    if chunk_size is not None:
        chunk_size = check_int("chunk_size", chunk_size, 1)
    if not isinstance(n_jobs, (int, np.integer)) or isinstance(n_jobs, bool) or n_jobs == 0:
        raise InputError(f"`n_jobs` must be a non-zero integer, got {n_jobs!r}")
    options = {k: v for k, v in result.options.items() if k in LawFitter.REFIT_OPTIONS}
    grouped = GroupedFitter(LawFitter(result.form, **options), shared=result.shared)
    fitter = grouped.fitter
    if isinstance(weights, str):
        if weights not in runs.columns:
            raise InputError(f"`weights` names column {weights!r}, which the runs do not have")
        weights = runs.frame[weights].to_numpy(dtype=float)
    weights = check_weights(weights, len(runs))
    keys, rows, inputs, targets, per_weights, prints = grouped._split(
        runs, result.group_column, weights)
    if tuple(keys) != result.groups:
        raise InputError(f"`runs` have groups {list(keys)} in column {result.group_column!r}, "
                         f"the fit has {list(result.groups)}")
    for key, fingerprint in zip(keys, prints):
        if result[key].data_fingerprint and fingerprint != result[key].data_fingerprint:
            raise InputError(f"`runs` of group {result.group_column}={key!r} are not the data "
                             "the fit was made on (data fingerprints differ)")
    seed = int(rng) if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) else None
    generator = np.random.default_rng(rng)
    labels = runs.frame[result.group_column].to_numpy()
    clusters, codes = resolve_clusters(runs, clusters, labels)
    counts = resample_counts(len(runs), n_resamples, generator, labels, codes)
    stack = StackedGroups(fitter, inputs, targets, per_weights)
    degenerate = _degenerate(keys, rows, inputs, counts, stack.q - len(grouped.shared_index),
                             result.group_column)
    spread = stack.spread(counts[:, np.concatenate(rows)])  # (R, G, n_max), group order
    # a group a resample cannot identify is left out of that resample's refit (weight 0),
    # so its flat directions neither stall the others' shared parameters nor count as a
    # failed refit
    spread[degenerate] = 0.0
    free = [fitter.form.param_names.index(n) for n in fitter.free]
    theta0 = np.array([fitter.form.to_internal(fitter.form.params_vector(result[k].params))[free]
                       for k in keys])
    per_chunk = chunk_size or max(1, _CHUNK_ELEMENTS // (len(keys) * stack.q * stack.n_max))
    chunks = [spread[i:i + per_chunk] for i in range(0, n_resamples, per_chunk)]
    show = (sys.stderr.isatty() and n_resamples > 200) if progress is None else bool(progress)
    args = (fitter, grouped.shared_index, inputs, targets, per_weights, theta0)
    outputs = _run_chunks(args, chunks, max_iter, n_jobs, backend, show)
    theta = np.concatenate([o[0] for o in outputs])
    ok = np.concatenate([o[1] for o in outputs])
    draws = fitter.form.to_public(fitter._expand(theta.reshape(-1, stack.q))).reshape(
        n_resamples, len(keys), -1)
    ok &= ~degenerate
    draws[~ok] = np.nan
    failed = {k: int((~ok[:, g] & ~degenerate[:, g]).sum()) for g, k in enumerate(keys)}
    left_out = {k: int(degenerate[:, g].sum()) for g, k in enumerate(keys)}
    if any(left_out.values()):
        warnings.warn("grouped bootstrap: " + ", ".join(
            f"{count} of {n_resamples} resamples of {result.group_column}={k!r}"
            for k, count in left_out.items() if count) + " drew fewer distinct runs than the "
            "group's own free parameters, which they cannot identify: left out of its "
            "intervals (see n_degenerate)", BootstrapResamplingWarning,
            stacklevel=user_stacklevel())
    if any(failed.values()):
        worst = sum(failed.values())
        warnings.warn(f"grouped bootstrap: {worst} group refits (of {n_resamples * len(keys)}) "
                      "failed to converge and are excluded from the intervals (see n_failed)",
                      ConvergenceWarning, stacklevel=user_stacklevel())
    return GroupedBootstrapResult(
        form=fitter.form, group_column=result.group_column, groups=tuple(keys),
        shared=result.shared, point={k: dict(result[k].params) for k in keys}, draws=draws,
        n_resamples=n_resamples, n_failed=failed, confidence_level=level, seed=seed,
        n_degenerate=left_out, clusters=clusters,
        flops_per_token=float(result.options.get("flops_per_token", 6.0)),
        restriction=restriction_kind(fitter.tied, fitter.fixed))


def _degenerate(keys, rows, inputs, counts, n_own, column) -> np.ndarray:
    """``(R, G)``: resamples that draw fewer distinct design points of a group than its
    own (unshared) free parameters ``n_own``. A group whose runs are not more than
    ``n_own`` is refused: nothing to resample."""
    out = np.zeros((counts.shape[0], len(keys)), bool)
    for g, (key, index) in enumerate(zip(keys, rows)):
        points = design_points(inputs[g])
        if points.max(initial=-1) + 1 <= n_own:
            raise InputError(f"group {column}={key!r} has {counted(len(index), 'run')} at "
                             f"{points.max(initial=-1) + 1} distinct inputs for its {n_own} own "
                             "free parameters: no residual degrees of freedom, so nothing to "
                             "resample (share more parameters, or fix or tie some)")
        out[:, g] = distinct_points(counts[:, index], points) < n_own
    return out


def _run_chunks(args, chunks, max_iter, n_jobs, backend, show):
    """Refit every chunk of resamples: in-process unless the work per worker pays for
    starting processes or threads (the first chunk, timed in-process, tells) or ``backend``
    is given."""
    return map_blocks(_refit_chunk, [args + (chunk, max_iter) for chunk in chunks],
                      n_jobs=n_jobs, backend=backend, show=show, desc="grouped bootstrap",
                      unit="chunk", threads=True)
