r"""Fit one law to many groups of runs at once, some parameters shared by every group.

``fit(runs, "chinchilla", groups="setting", shared=["alpha", "beta"])`` minimises one
objective over all groups,

.. math:: F = \sum_g \sum_{i \in g} \rho\big(\log f(x_i; u, v_g) - \log L_i\big),

with ``u`` the shared parameters (one value for every group) and ``v_g`` the others (one
value per group); ``shared=()`` fits every group separately, in one batch.

How the search scales with the number of groups ``G`` (Hoffmann's 4,500-point grid per
group, jointly, would be a grid in ``3G + 2`` dimensions):

1. **every group separately, in one batch of the engine**
   (:func:`~scalinglaws.fitting.engine.multistart_minimize`, groups of starts): each
   group's starts (for Chinchilla the best cells of a coarse variable-projection grid,
   exponents in steps of 0.25 with their inner least-squares E, A, B, solved for all the
   groups of the same size in one batched pass; otherwise the form's start grid, thinned)
   are labelled with their group and stepped together for a few iterations, the engine
   ranking and pruning within each group; the form evaluates all groups' runs in one
   call when it computes run by run (:class:`~scalinglaws.fitting._stacked.StackedGroups`);
2. each group's best end point is finished by the block Levenberg-Marquardt step
   (:func:`~scalinglaws.fitting._stacked.block_lm`), groups decoupled; a group left
   unconverged or on a bound is refitted alone by the full single-fit search (Hoffmann's
   grid, variable projection, polish), keeping the better optimum. These are the
   separate optima;
3. with shared parameters, the joint start weights each group's shared estimates by the
   information it has about them once its own parameters are profiled out (the Schur
   complement of its IRLS information matrix) and moves each group's own parameters
   along to first order; with at most 10 groups the median of the estimates is a second
   start, with at most 3 each group's own estimates are more. All parameters then move
   together by block Levenberg-Marquardt, whose step solves the arrowhead system
   ``J^T W J`` through the Schur complement of the group blocks (time linear in ``G``);
   the best start wins, and problems of at most 60 joint parameters are polished once
   more by the engine's :func:`~scalinglaws.fitting.polish.polish` on the whole
   objective.

With ``n_jobs``/``backend`` the separate fits of steps 1-2 can run in blocks of groups on
joblib workers (``backend="dask"`` inside a ``dask.distributed.Client``: a cluster);
the groups are one block unless the work, estimated from the number of runs
(:data:`SECONDS_PER_GROUP_RUN`), exceeds what starting two workers costs; then they are
blocks of 50 groups, and without ``backend`` worker processes start only when the first
block, timed in-process, shows that each worker would get more work than starting it
costs (:func:`scalinglaws._parallel.plan_workers`). The blocks depend on the data alone,
so the fit is the same, bit for bit, whatever ``n_jobs`` and ``backend``. Unlike the
bootstrap's, these blocks never go to threads, which did not pay on the README's 2-core
machine (``bench/bench_grouped.py --jobs``): the batched step (many small numpy calls
that hold the GIL) in halves on two threads took 1.1-2.1x the time of one block, and
the single-fit refits of step 2, two to four at a time, 0.79-1.03x (0.93-1.03x in 9
of 10 runs; load 6-10). Step 3 couples all groups and runs in the calling process.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

from .._exceptions import ConvergenceWarning, IdentifiabilityWarning, InputError, user_stacklevel
from .._parallel import PROCESS_CROSSOVER_SECONDS, map_blocks
from .._text import counted, named_list
from .._validation import as_names, check_numbers
from ..data.run_ids import checkpoint_runs
from ..data.runs import as_runs, fingerprint_arrays
from ._stacked import (StackedGroups, block_lm, joint_bounds, joint_residuals, labelled_residuals,
                       separable_starts_by_group)
from .engine import GRADIENT_TOLERANCE, _bound_tolerance, multistart_minimize
from .polish import polish
from .grouped_result import GroupedFitResult
from .identifiability import design_limits, identifiability
from .lack_of_fit import misfit_diagnostics, warn_lack_of_fit_groups
from .omitted_input import warn_omitted_input_groups
from .outliers import diverged_of, warn_diverged
from .result import FitResult, fitted_range
from .run_warnings import warn_checkpoints, warn_floor_units_groups

__all__ = ["GroupedFitResult", "GroupedFitter", "fit", "group_rows", "SECONDS_PER_GROUP_RUN"]

_GRID_STARTS = 128  # thinned start grid per group (Hoffmann's grid has 4,500 points)
_VARPRO_GRID = np.round(np.arange(0.0, 2.0001, 0.25), 10)  # coarse exponent grid per group
_VARPRO_STARTS = 8
_POLISH_PARAMS = 60
_OWN_CANDIDATES = 3  # up to this many groups, each one's shared values is a joint start
_MEDIAN_CANDIDATE = 10  # ...and up to this many, the median of the groups' values is one too
_SEARCH_ITERATIONS = 12  # batched search per group; the block LM finishes from its best  # joint problems this small get the engine's scipy polish as well
_GROUPS_PER_BLOCK = 50  # groups per parallel task
#: Estimated in-process seconds of the separate fits per run, the upper end of the CPU time
#: measured on the README's 2-core machine at load 7-10 (16 and 64 groups of 60-240 runs:
#: 20-28 us with Chinchilla's variable-projection starts, 66-101 us with a parameter fixed
#: or tied, 128 grid starts per group); high rather than low, so that a job which might
#: pay for processes goes in blocks, the first timed to decide
SECONDS_PER_GROUP_RUN = 1e-4
_LOAD_KEYS = ("columns", "flops_per_token", "nan_policy", "format", "sep")


def group_rows(runs, column: str):
    """Sorted group values and, for each, the indices of its rows (in table order).

    Raises :class:`InputError` for a missing column or a missing value (naming the row).
    """
    import pandas as pd

    runs.labels(column, "groups")  # no such column, or a missing value (naming its row)
    codes, uniques = pd.factorize(runs.frame[column], sort=True)
    keys = tuple(k.item() if isinstance(k, np.generic) else k for k in uniques)
    return keys, [np.flatnonzero(codes == i) for i in range(len(keys))]


class GroupedFitter:
    """Estimator of a law over groups of runs; :meth:`fit` returns a :class:`GroupedFitResult`.

    Parameters
    ----------
    fitter : LawFitter
        The estimator of one group (form and every fitting option: ``loss``, ``delta``,
        ``space``, ``fixed``, ``tied``, ``bounds``, ``starts``, ``max_iter``...), the
        same for every group.
    shared : sequence of str
        Free parameters with one value for every group (e.g. ``["alpha", "beta"]``);
        the other free parameters take one value per group. Empty: separate fits.
    rank : int
        Starts per group that iterate after the value-only pass (default 8).
    """

    def __init__(self, fitter, *, shared=(), rank: int = 8):
        self.fitter = fitter
        shared = as_names(shared, "`shared` must be a list of parameter names")
        free = self.fitter.free
        for name in shared:
            if name in free:
                continue
            why = ("is fixed" if name in self.fitter.fixed
                   else f"is tied to {self.fitter.tied[name]!r}: share that one"
                   if name in self.fitter.tied else "is not a parameter of form "
                   f"{self.fitter.form.name!r} ({', '.join(self.fitter.form.param_names)})")
            raise InputError(f"`shared` names {name!r}, which {why}")
        if len(set(shared)) != len(shared):
            raise InputError(f"`shared` names a parameter twice: {list(shared)}")
        if set(shared) == set(free):
            raise InputError("`shared` names every free parameter: that is one fit of all "
                             "the runs pooled; call fit(runs, form) without `groups`")
        self.shared = tuple(n for n in free if n in shared)  # in the form's order
        self.shared_index = np.array([free.index(n) for n in self.shared], dtype=int)
        self.per_group = tuple(n for n in free if n not in shared)
        if not isinstance(rank, (int, np.integer)) or isinstance(rank, bool) or rank < 1:
            raise InputError(f"`rank` must be a positive integer, got {rank!r}")
        self.rank = int(rank)

    def options(self) -> dict:
        return {**self.fitter.options(), "shared": list(self.shared), "rank": self.rank}

    # -- data ---------------------------------------------------------------
    def _split(self, runs, column, weights):
        keys, rows = group_rows(runs, column)
        inputs = runs.inputs(self.fitter.form.inputs)
        target = runs.loss
        q = len(self.per_group)
        for key, index in zip(keys, rows):
            if len(index) < q:
                raise InputError(f"group {column}={key!r} has {counted(len(index), 'run')}, fewer "
                                 f"than its {q} own parameters ({', '.join(self.per_group)})")
        if len(target) < q * len(keys) + len(self.shared):
            raise InputError(f"{counted(len(target), 'run')} cannot determine "
                             f"{q * len(keys) + len(self.shared)} parameters")
        per_inputs = [{k: v[index] for k, v in inputs.items()} for index in rows]
        per_target = [target[index] for index in rows]
        for g, (x, t) in enumerate(zip(per_inputs, per_target)):
            self.fitter._check_arrays(x, t)  # finite, positive where logs are taken
        per_weights = None if weights is None else [weights[index] for index in rows]
        names = self.fitter.form.inputs
        prints = [fingerprint_arrays([*((n, x[n]) for n in names), ("loss", t)]
                                     + ([("weights", w)] if per_weights is not None else []))
                  for x, t, w in zip(per_inputs, per_target, per_weights or [None] * len(keys))]
        return keys, rows, per_inputs, per_target, per_weights, prints

    # -- fitting ------------------------------------------------------------
    def fit(self, runs, *, groups: str, weights=None, n_jobs: int = 1, backend: str | None = None,
            progress: bool | None = None, warn_runs: bool = True,
            **load_kwargs) -> GroupedFitResult:
        """Fit every group of ``runs`` (a :class:`Runs`, DataFrame or path) at once.

        ``groups`` names the column whose values define the groups; ``weights`` is a
        weight per run or the name of a column holding them. ``warn_runs=False`` leaves
        out the warnings about the runs themselves (checkpoints, runs far off their law, a
        floor in other units, an omitted input), for a second fit of runs already warned
        of (a comparison fits them alone and with shared parameters).
        """
        runs = as_runs(runs, **load_kwargs)
        if isinstance(weights, str):
            if weights not in runs.columns:
                raise InputError(f"`weights` names column {weights!r}, which the runs do not "
                                 f"have; columns: {list(runs.columns)}")
            weights = runs.frame[weights].to_numpy(dtype=float)
        weights = check_weights(weights, len(runs))
        if not isinstance(n_jobs, (int, np.integer)) or isinstance(n_jobs, bool) or n_jobs == 0:
            raise InputError(f"`n_jobs` must be a non-zero integer, got {n_jobs!r}")
        keys, rows, inputs, targets, per_weights, prints = self._split(runs, groups, weights)
        if warn_runs:  # rows of one run share its error, as for a single fit
            warn_checkpoints(runs, groups=groups, bootstrap="scalinglaws.bootstrap_groups")
        stack = StackedGroups(self.fitter, inputs, targets, per_weights)
        show = (sys.stderr.isatty() and len(keys) > 100) if progress is None else bool(progress)
        theta, f_sep, n_starts, nfev = _separate_fits(self, inputs, targets, per_weights,
                                                      n_jobs, backend, show, stack)
        separate = theta.copy()
        nit = 0
        if self.shared:
            theta, joint_nit, joint_nfev = self._joint(stack, theta)
            nit += joint_nit
            nfev += joint_nfev
        final = block_lm(stack, theta[None], self.fitter.loss, self.fitter.lower,
                         self.fitter.upper, self.shared_index, max_iter=0)
        # each group's own range of inputs: a prediction from a group's law warns when it
        # reaches far beyond that group's runs, as a single fit's does
        ranges = [fitted_range(x) for x in inputs]
        recorded = {"weighted": per_weights is not None}
        if {"N", "D"} <= set(self.fitter.form.inputs):
            # the FLOP accounting the runs were loaded with (C = k N D), as a single fit
            # records it: allocation from a group's law defaults to it instead of 6
            recorded["flops_per_token"] = float(runs.flops_per_token)
        if runs.selection:  # which rows of their table the runs are, as a single fit says
            recorded["rows"] = runs.selection
        return self._result(stack, keys, rows, prints, ranges, separate, f_sep, final, n_starts,
                            nit, nfev, groups, recorded, (runs, inputs, targets), warn_runs)

    def _joint(self, stack, separate):
        """Step 3 of the module docstring: the joint starts and the joint block LM."""
        loss, lower, upper = self.fitter.loss, self.fitter.lower, self.fitter.upper
        values = separate[:, self.shared_index]
        pooled = _pooled_start(stack, separate, self.shared_index, loss)
        starts = [] if pooled is None else [pooled]
        if pooled is None or len(separate) <= _MEDIAN_CANDIDATE:
            median = separate.copy()
            median[:, self.shared_index] = np.median(values, axis=0)
            starts.append(median)
        if len(separate) <= _OWN_CANDIDATES:  # few groups: each group's own values as well
            for own in values:
                start = separate.copy()
                start[:, self.shared_index] = own
                starts.append(start)
        theta0 = np.array(starts)
        joint = block_lm(stack, theta0, loss, lower, upper, self.shared_index, max_iter=500)
        best = int(np.argmin(np.where(np.isfinite(joint["f"].sum(1)), joint["f"].sum(1), np.inf)))
        theta = joint["theta"][best]
        nit, nfev = joint["nit"], joint["nfev"]
        p_total = len(self.shared) + len(separate) * len(self.per_group)
        if self.fitter.polish and p_total <= _POLISH_PARAMS:
            theta = _dense_polish(self, stack, theta, joint["f"][best].sum())
        return theta, nit, nfev

    def _result(self, stack, keys, rows, prints, ranges, separate, f_sep, final, n_starts, nit,
                nfev, column, recorded, data, warn_runs=True):
        form, fitter = self.fitter.form, self.fitter
        runs, inputs, targets = data  # the runs, and each group's inputs and losses
        row_numbers = np.asarray(runs.row_numbers)  # each run's row in its table
        compute = runs.C if runs.has("C") else None
        runs_of = checkpoint_runs(runs)  # each row's run when rows share runs (seeds)
        theta = final["theta"][0]
        f_groups = final["f"][0]
        coupled = bool(self.shared)
        gradient = (np.full(len(keys), float(final["gradient"][0])) if coupled
                    else final["gradient"][0])
        r, jac = (a[0] for a in stack.evaluate(theta[None]))
        per_index = [fitter.free.index(n) for n in self.per_group]
        options = {**fitter.options(), **recorded}
        grouping = {"groups": column, "shared": list(self.shared)}
        results, separate_results, problems, diverged = {}, {}, [], []
        on_lower = theta <= fitter.lower + _bound_tolerance(fitter.lower)
        on_upper = theta >= fitter.upper - _bound_tolerance(fitter.upper)
        bound = (np.isfinite(fitter.lower) & on_lower) | (np.isfinite(fitter.upper) & on_upper)
        for g, key in enumerate(keys):
            count = stack.counts[g]
            at_bounds = tuple(n for n, b in zip(fitter.free, bound[g]) if b)
            status, message = _status(float(gradient[g]), at_bounds, f_groups[g])
            if status:
                problems.append(f"{key!r} ({message})")
            public = form.to_public(fitter._expand(theta[g][None])[0])
            diagnostics = identifiability(jac[g][per_index][:, :count], self.per_group)
            # the design check of a single fit, on the group's own runs and parameters: the
            # shared ones are fixed by the other groups too, so only per-group ones count
            design = design_limits(ranges[g], int(count), self.per_group)
            if design:
                diagnostics = {**diagnostics, "design": design}
            results[key] = FitResult(
                form=form, params=dict(zip(form.param_names, map(float, public))),
                free_params=fitter.free, fixed=dict(fitter.fixed), tied=dict(fitter.tied),
                objective=float(f_groups[g]), n_runs=int(count), success=status == 0,
                status=status, message=message, at_bounds=at_bounds, n_starts=int(n_starts[g]),
                options={**options, **grouping, "group": key}, data_fingerprint=prints[g],
                nit=int(nit), nfev=int(nfev), gradient=float(gradient[g]),
                residuals=r[g, :count], diagnostics=diagnostics, fitted_range=ranges[g])
            # runs far off the group's law, by their rows in the table, as a single fit
            # names them (diagnostics["outliers"] and a warning naming the group, below)
            outliers = diverged_of(results[key], inputs[g], targets[g],
                                   row_numbers[rows[g]], runs.source_lines)
            # the size of its residuals and their trend (a form that misfits), as a single fit
            misfit = misfit_diagnostics(results[key], inputs[g], targets[g],
                                        compute[rows[g]] if compute is not None else None,
                                        None if runs_of is None else runs_of[rows[g]])
            results[key] = results[key].with_diagnostics(misfit, outliers=outliers)
            if outliers:
                diverged.append(key)
            if coupled:
                values = form.to_public(fitter._expand(separate[g][None])[0])
                separate_results[key] = FitResult.from_params(form, dict(zip(form.param_names,
                                                                            map(float, values))))
        shared_params = {n: float(form.to_public(fitter._expand(theta[:1])[0])[
            form.param_names.index(n)]) for n in self.shared}
        messages = []
        if problems:
            messages.append(f"grouped {form.name} fit: {len(problems)} of {len(keys)} groups did "
                            f"not converge cleanly: " + named_list(problems, sep="; "))
        unidentified = [repr(k) for k, res in results.items()
                        if not res.diagnostics.get("identifiable", True)]
        if unidentified:
            messages.append(f"grouped {form.name} fit: the runs of {len(unidentified)} group(s) "
                            f"cannot separate their own parameters ({', '.join(self.per_group)}): "
                            + ", ".join(unidentified[:5]))
        for key, res in results.items():
            for limit in res.diagnostics.get("design") or ():
                messages.append(f"grouped {form.name} fit, group {key!r}: {limit}")
        worst = max((res.status for res in results.values()), default=0)
        overall = float(np.max(gradient)) if len(gradient) else float("nan")
        status, message = (0, "converged") if worst == 0 else (
            worst, f"{len(problems)} of {len(keys)} groups: " + problems[0])
        result = GroupedFitResult(
            form=form, group_column=column, results=results, shared=self.shared,
            shared_params=shared_params, objective=float(np.sum(f_groups)),
            separate_objective=float(np.sum(f_sep)), separate=separate_results,
            n_runs=int(stack.counts.sum()), success=worst == 0, status=int(worst),
            message=message, gradient=overall, options={**options, **self.options(),
                                                        "groups": column},
            nit=int(nit), nfev=int(nfev), warnings=tuple(messages),
            group_rows={k: tuple(idx.tolist()) for k, idx in zip(keys, rows)})
        for text in messages:
            category = ConvergenceWarning if "converge" in text else IdentifiabilityWarning
            warnings.warn(text, category, stacklevel=user_stacklevel())
        for key in diverged if warn_runs else ():
            warn_diverged(results[key], runs, stacklevel=user_stacklevel() + 1,
                          group=f"{column}={key!r}")
        warn_lack_of_fit_groups(results, runs.source, column)
        if warn_runs:  # what a single fit says about its runs, once for the groups
            warn_floor_units_groups(results, runs, column)
            warn_omitted_input_groups(results, runs, dict(zip(keys, rows)), column)
        return result


def check_weights(weights, n: int):
    """``weights`` as ``n`` finite non-negative floats, not all zero (or None)."""
    if weights is None:
        return None
    values = np.ravel(check_numbers("weights", weights, positive=True, allow_zero=True))
    if values.shape != (n,):
        raise InputError(f"`weights` must have one value per run ({n}), got {values.size}")
    if not values.any():
        raise InputError("`weights` are all zero")
    return values


def _pooled_start(stack, separate, shared, loss):
    """A joint start from the separate optima: each group's shared estimates weighted by
    the information it has about them once its own parameters are profiled out (the
    Schur complement of its IRLS information matrix), and each group's own parameters
    moved along with them to first order. None when an information matrix is singular."""
    r, jac = stack.evaluate(separate[None])
    weights = loss.weights(r[0]) * stack.weights
    info = np.einsum("gpn,gn,gqn->gpq", jac[0], weights, jac[0])
    per = np.setdiff1d(np.arange(stack.q), shared)
    h_ss = info[:, shared[:, None], shared[None, :]]
    h_sp = info[:, shared[:, None], per[None, :]]
    h_pp = info[:, per[:, None], per[None, :]]
    try:
        coupling = np.linalg.solve(h_pp, np.swapaxes(h_sp, 1, 2))  # H_PP^-1 H_PS
        schur = h_ss - h_sp @ coupling
        values = separate[:, shared]
        pooled = np.linalg.solve(schur.sum(axis=0), np.einsum("gij,gj->i", schur, values))
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(pooled)):
        return None
    start = separate.copy()
    start[:, shared] = pooled
    start[:, per] = separate[:, per] - np.einsum("gps,gs->gp", coupling, pooled - values)
    return start


def _status(gradient: float, at_bounds, objective) -> tuple[int, str]:
    if not np.isfinite(objective):
        return 3, "no starting point gave a finite objective"
    if not gradient <= GRADIENT_TOLERANCE:
        return 2, (f"did not converge: relative gradient {gradient:.2g} at the best point; try "
                   "more starts (rank), max_iter or other bounds")
    if at_bounds:
        return 1, (f"optimum on a bound for {', '.join(at_bounds)}; fix the parameter "
                   "(fixed= in Python, --fix NAME=VALUE on the command line) or, in Python, "
                   "widen `bounds`")
    return 0, "converged"


# ---------------------------------------------------------------------------- separate fits
def _group_starts(gf: GroupedFitter, inputs, targets, weights) -> list:
    """Internal starts ``(m, q)`` of each group. Chinchilla with every parameter free: the
    best cells of a coarse variable-projection grid (exponents in steps of 0.25, each
    with its inner least-squares E, A, B), for all groups in batched passes; otherwise the
    form's start grid, thinned."""
    fitter = gf.fitter
    if (fitter.starts is None and fitter.form.name == "chinchilla"
            and fitter.free == fitter.form.param_names):
        return separable_starts_by_group(inputs, targets, space=fitter.space, weights=weights,
                                         alphas=_VARPRO_GRID, betas=_VARPRO_GRID,
                                         count=_VARPRO_STARTS)
    starts = []
    for x, t in zip(inputs, targets):
        points = fitter._start_points(x, t)
        if len(points) > _GRID_STARTS:
            points = points[np.linspace(0, len(points) - 1, _GRID_STARTS).round().astype(int)]
        starts.append(points)
    return starts


def _separate_block(gf: GroupedFitter, inputs, targets, weights, stack=None):
    """Steps 1-2 for a list of groups (laid out as ``stack`` when given): their separate
    optima ``(G, q)`` and objectives."""
    fitter = gf.fitter
    stack = StackedGroups(fitter, inputs, targets, weights) if stack is None else stack
    starts = _group_starts(gf, inputs, targets, weights)
    labels = np.concatenate([np.full(len(s), g) for g, s in enumerate(starts)])
    x0 = np.column_stack([np.concatenate(starts), labels])
    lower = np.append(fitter.lower, 0.0)
    upper = np.append(fitter.upper, float(stack.n_groups - 1))
    per_start = None if weights is None else stack.weights[labels]
    search = multistart_minimize(labelled_residuals(stack), x0, fitter.loss, lower, upper,
                                 max_iter=min(fitter.max_iter, _SEARCH_ITERATIONS), rank=gf.rank,
                                 prune_after=fitter.prune_after, keep=min(fitter.keep, 4),
                                 weights=per_start, groups=labels)
    fun = np.where(np.isfinite(search.fun) & ~search.pruned, search.fun, np.inf)
    theta = np.empty((stack.n_groups, stack.q))
    for g in range(stack.n_groups):
        members = np.flatnonzero(labels == g)
        theta[g] = search.x[members[np.argmin(fun[members])], :-1]
    finished = block_lm(stack, theta[None], fitter.loss, fitter.lower, fitter.upper, [],
                        max_iter=500)
    f = np.where(np.isfinite(finished["f"][0]), finished["f"][0], np.inf)
    best = finished["theta"][0]
    # A group the batch leaves unconverged or on a bound (a flat valley, a coefficient
    # running to zero) is refitted alone by the full single-fit search (Hoffmann's grid,
    # variable projection, polish); the better of the two is kept.
    on_bound = np.any((best <= fitter.lower + _bound_tolerance(fitter.lower))
                      | (best >= fitter.upper - _bound_tolerance(fitter.upper)), axis=1)
    again = np.flatnonzero(~(finished["gradient"][0] <= GRADIENT_TOLERANCE) | on_bound)
    # Not on threads: two to four such single fits on 2 threads took 0.79-1.03x the time
    # of one after the other (0.93-1.03x in 9 of 10 runs, medians of 5-11, load 6-10, on
    # the README's 2-core machine; bench/bench_grouped.py --jobs), and real data leave few
    # groups to them (Porian et al.'s 15 settings: one)
    for g in again:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            alone = fitter.fit_arrays(inputs[g], targets[g],
                                      weights=None if weights is None else weights[g])
        if np.isfinite(alone.objective) and not alone.objective > f[g]:
            free = [fitter.form.param_names.index(n) for n in fitter.free]
            best[g] = fitter.form.to_internal(fitter.form.params_vector(alone.params))[free]
            f[g] = alone.objective
    counts = np.bincount(labels, minlength=stack.n_groups)
    return best, f, counts, search.nfev + finished["nfev"]


def _separate_fits(gf, inputs, targets, weights, n_jobs, backend, show, stack=None):
    """Steps 1-2 for every group, in blocks of groups (parallel with ``n_jobs``/``backend``);
    one block reuses ``stack``, the layout of every group."""
    n = len(targets)
    # The blocks depend on the data alone, never on n_jobs, backend or a progress bar: a
    # group's bits depend on its block's widest group (the stacked arrays' padding). All
    # groups are one block unless the estimated work is more than two workers' start-up
    # (a 200-group fit takes well under a second on one core): blocks of groups cost time
    # in one process (64 groups in two: 1.1-1.5x) and do not pay on threads. Larger jobs
    # go in blocks of groups (bounded memory, a progress bar), the first timed in-process
    # to decide whether processes pay for the rest (map_blocks).
    seconds = SECONDS_PER_GROUP_RUN * sum(len(t) for t in targets)
    size = n if seconds <= 2 * PROCESS_CROSSOVER_SECONDS else _GROUPS_PER_BLOCK
    blocks = [slice(i, min(i + size, n)) for i in range(0, n, size)]
    args = [(gf, inputs[b], targets[b], None if weights is None else weights[b],
             stack if len(blocks) == 1 else None) for b in blocks]
    outputs = map_blocks(_separate_block, args, n_jobs=n_jobs, backend=backend, show=show,
                         desc="grouped fit")
    theta = np.concatenate([o[0] for o in outputs])
    f = np.concatenate([o[1] for o in outputs])
    counts = np.concatenate([o[2] for o in outputs])
    return theta, f, counts, int(sum(o[3] for o in outputs))


def _dense_polish(gf: GroupedFitter, stack: StackedGroups, theta, f_block):
    """The engine's scipy polish on the whole joint vector (small problems only)."""
    fitter = gf.fitter
    shared, per = gf.shared_index, np.array([fitter.free.index(n) for n in gf.per_group])
    residuals, pack, unpack, rows = joint_residuals(stack, shared, per)
    lower, upper = joint_bounds(fitter.lower, fitter.upper, shared, per, stack.n_groups)
    weights = stack.weights.ravel()[rows] if stack.weighted else None
    x, f, _, _ = polish(residuals, pack(theta), fitter.loss, lower, upper, weights=weights)
    if np.isfinite(f) and f < f_block:
        return unpack(x[None])[0]
    return theta


def fit(runs, form="chinchilla", *, estimator, groups: str | None = None, shared=(),
        weights=None, n_jobs: int = 1, backend: str | None = None,
        progress: bool | None = None, rank: int = 8, warn_runs: bool = True,
        **options) -> GroupedFitResult:
    """Fit a law to every group of runs at once, ``shared`` parameters common to all groups.

    Called by :func:`scalinglaws.fit` when it is given ``groups`` (which passes
    ``estimator``); use that.

    Parameters
    ----------
    runs : Runs, DataFrame or path
        The runs, with a column naming each run's group.
    form : str or Form
        The law (default Chinchilla).
    estimator : type
        The estimator of one group, :class:`~scalinglaws.LawFitter`.
    groups : str
        Column whose values define the groups (a setting, a recipe, a data mixture).
    shared : sequence of str
        Free parameters with one value for every group (``["alpha", "beta"]``: common
        exponents, per-group coefficients). Default none: separate fits, one batch.
    weights : array or str, optional
        Weight per run, or the column holding them.
    n_jobs, backend : optional
        Parallel workers (joblib) for the separate fits, in blocks of groups when there
        is much work; without ``backend``, processes start only when the work per worker
        pays for them, else the blocks run in-process (threads do not pay here);
        ``backend="dask"`` inside a ``dask.distributed.Client`` spreads the blocks over a
        cluster. The fit is the same to the last bit whatever ``n_jobs`` and ``backend``.
    progress : bool, optional
        tqdm bar over the blocks (default: a terminal and more than 100 groups).
    rank : int
        Starts per group that iterate after ranking (default 8).
    warn_runs : bool
        False leaves out the warnings about the runs themselves (see
        :meth:`GroupedFitter.fit`): for a second fit of runs already warned of.
    **options
        Fitting options of :class:`~scalinglaws.LawFitter` (loss, delta, space, fixed,
        tied, bounds, ...) and loading options of :func:`~scalinglaws.load_runs`.

    Returns
    -------
    GroupedFitResult
        Runs more than 25 robust standard deviations off their group's law (a diverged
        run) are named, with the group, in a warning and in that group's
        ``result[group].diagnostics["outliers"]``, as a single fit names them
        (:mod:`.outliers`).

    Examples
    --------
    >>> import pandas as pd
    >>> import scalinglaws as sl
    >>> frame = pd.concat([sl.generate_sweep(rng=i).to_frame().assign(recipe=name)
    ...                    for i, name in enumerate(["baseline", "new"])])
    >>> joint = sl.fit(frame, "chinchilla", groups="recipe", shared=["alpha", "beta"])
    >>> joint.groups, sorted(joint.shared_params)
    (('baseline', 'new'), ['alpha', 'beta'])
    >>> bool(joint["new"].params["alpha"] == joint["baseline"].params["alpha"])
    True
    """
    if groups is None:
        raise InputError("`groups` must name the column that defines the groups"
                         + (" (`shared` needs groups)" if shared else ""))
    load_kwargs = {k: options.pop(k) for k in list(options) if k in _LOAD_KEYS}
    fitter = GroupedFitter(estimator(form, **options), shared=shared, rank=rank)
    return fitter.fit(runs, groups=groups, weights=weights, n_jobs=n_jobs, backend=backend,
                      progress=progress, warn_runs=warn_runs, **load_kwargs)
