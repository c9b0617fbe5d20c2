"""From a multi-start search to a :class:`FitResult`: the estimator's last step.

The batched search (:mod:`.engine`) ends with many end points. This module decides
what the fit reports: which distinct optima get scipy's polish (:func:`worth_polishing`),
which end points are one optimum, whether the best one sits on a bound or at the end of
a flat valley running into one (:func:`flat_to_bound`), the status and message, the
identifiability diagnostics, and the warnings that announce trouble
(:func:`warn_about`).
"""

from __future__ import annotations

import warnings

import numpy as np

from .._exceptions import ConvergenceWarning, IdentifiabilityWarning, user_stacklevel
from .engine import GRADIENT_TOLERANCE, _bound_tolerance, distinct_optima
from .identifiability import ILL_CONDITIONED, design_limits, identifiability
from .polish import polish
from .result import FitResult

__all__ = ["flat_to_bound", "result_from_search", "warn_about", "worth_polishing"]

_N_POLISHED = 3  # at most this many distinct optima are polished with scipy
# ...and only those whose batched-search objective is within this relative gap of the
# best: the search stops near each optimum, and polishing never moved an optimum that
# far (largest relative gain from polishing on the 152 fits of bench/bench_objectives.py: 6.7e-3)
_POLISH_WITHIN = 2e-2
_SAME_OPTIMUM = 1e-7  # relative objective gap under which two polished optima are one
_SAME_BASIN = 1e-6  # same for unpolished end points, which stop short of the optimum


def result_from_search(fitter, n_runs, fingerprint, residuals, search, n_starts,
                       weights=None, fitted_range=None) -> FitResult:
    """The :class:`FitResult` of ``fitter``'s multi-start ``search``: the best few optima
    polished and merged, bounds and flat valleys detected, status, message and
    warnings (see the module docstring)."""
    groups = distinct_optima(search) if np.isfinite(search.fun).any() else []
    common = dict(form=fitter.form, free_params=fitter.free, fixed=dict(fitter.fixed),
                  tied=dict(fitter.tied), n_runs=n_runs, n_starts=n_starts,
                  options={**fitter.options(), "weighted": weights is not None},
                  nit=search.nit, nfev=search.nfev,
                  data_fingerprint=fingerprint, fitted_range=fitted_range or {})
    if not groups:
        nan_params = {n: float("nan") for n in fitter.form.param_names}
        result = FitResult(params=nan_params, objective=float("inf"), success=False, status=3,
                           message="no starting point gave a finite objective", **common)
        warn_about(result)
        return result
    # Polish the best few optima; a polished point can fall into a better basin,
    # so optima are merged by their polished objective afterwards.
    candidates = []
    near = worth_polishing(groups, search.fun)
    seeds = [(group, search.x[group[np.argmin(search.fun[group])]]) for group in near]
    if fitter.polish and n_starts <= _N_POLISHED:
        # With a few explicit starts (NIST's certified ones, say) the batched loop
        # can stray into a flat region; the trust-region polish from the raw
        # start is a second, independent attempt.
        seeds += [(np.array([i]), x) for i, x in enumerate(search.x0)]
    for group, start in seeds:
        x, f, _, gradient = polish(residuals, start, fitter.loss, fitter.lower, fitter.upper,
                                   max_iter=2000 if fitter.polish else 0, weights=weights)
        for cand in candidates:
            if abs(cand["f"] - f) <= _SAME_OPTIMUM * abs(cand["f"]):
                # a start polished twice (as a group's best and as a raw start)
                # counts once: a fit file refuses repeated start indices
                cand["starts"] = np.union1d(cand["starts"], group)
                break
        else:
            candidates.append({"x": x, "f": f, "gradient": gradient, "starts": group})
    for group in groups[len(near):]:
        if not search.converged[group].all():
            continue
        f = search.fun[group[0]]
        # converged end points spread along flat valleys: same objective, same optimum
        for cand in candidates:
            if abs(cand["f"] - f) <= _SAME_BASIN * abs(cand["f"]):
                cand["starts"] = np.union1d(cand["starts"], group)
                break
        else:
            candidates.append({"x": search.x[group[0]], "f": f,
                               "gradient": float("nan"), "starts": group})
    candidates.sort(key=lambda c: c["f"])
    best = candidates[0]
    x_best, f_best, gradient = best["x"], best["f"], best["gradient"]
    full_public = fitter.form.to_public(fitter._expand(x_best[None, :])[0])
    params = {n: float(v) for n, v in zip(fitter.form.param_names, full_public)}
    lower, upper = fitter.lower, fitter.upper
    on_bound = (np.isfinite(lower) & (x_best <= lower + _bound_tolerance(lower))) | (
        np.isfinite(upper) & (x_best >= upper - _bound_tolerance(upper)))
    x_best, flat = flat_to_bound(fitter, residuals, x_best, f_best, on_bound, weights)
    if flat:
        on_bound = on_bound | np.isin(np.arange(len(fitter.free)), flat)
        full_public = fitter.form.to_public(fitter._expand(x_best[None, :])[0])
        params = {n: float(v) for n, v in zip(fitter.form.param_names, full_public)}
    at_bounds = tuple(n for n, b in zip(fitter.free, on_bound) if b)
    converged = gradient <= GRADIENT_TOLERANCE
    if not converged:
        status, message = 2, (f"did not converge: relative gradient {gradient:.2g} at the best "
                              "point; try more starts, max_iter or other bounds")
    elif at_bounds:
        status, message = 1, (f"optimum on a bound for {', '.join(at_bounds)}; the fit is "
                              "constrained there: fix the parameter (fixed= in Python, --fix "
                              "NAME=VALUE on the command line) or, in Python, widen `bounds`")
        if flat:
            names = ", ".join(fitter.free[i] for i in flat)
            message += (f" ({names}: the objective is flat from the fitted value to the "
                        "bound, so the runs do not identify it)")
    else:
        status, message = 0, "converged"
    local = []
    for cand in candidates[:20]:
        values = fitter.form.to_public(fitter._expand(cand["x"][None, :])[0])
        local.append({"params": {n: float(v) for n, v in zip(fitter.form.param_names, values)},
                      "objective": float(cand["f"]), "n_starts": int(len(cand["starts"]))})
    basin = best["starts"]
    r, jac = residuals(x_best[None, :])
    diagnostics = identifiability(jac[0], fitter.free)
    if flat:
        diagnostics = {**diagnostics, "flat_to_bound": [fitter.free[i] for i in flat],
                       "identifiable": False}
    design = design_limits(fitted_range, n_runs, fitter.free)
    if design:
        diagnostics = {**diagnostics, "design": design}
    result = FitResult(params=params, objective=float(f_best), success=bool(converged),
                       status=status, message=message, at_bounds=at_bounds,
                       best_basin_starts=tuple(int(i) for i in np.sort(basin)),
                       local_optima=tuple(local), gradient=float(gradient),
                       residuals=r[0], diagnostics=diagnostics, **common)
    warn_about(result)
    return result


def flat_to_bound(fitter, residuals, x, f, on_bound, weights):
    """Free parameters whose bound is reached with no rise of the objective.

    A law can trade a parameter for another along a flat valley that runs into the
    parameter's bound (E -> 0 when A / N^alpha is nearly constant over the sizes): the
    search then stops anywhere on the flat stretch, short of the bound test. Each free
    parameter not on a bound is moved to each finite bound in turn; if the objective
    there is no higher (within 1e-12 relative), the optimum is on that bound and the
    parameter is not identified. Returns the (possibly moved) point and those indices.
    """
    flat = []
    x = np.array(x, dtype=float)
    for i in range(x.size):
        if on_bound[i]:
            continue
        for bound in (fitter.lower[i], fitter.upper[i]):
            if not np.isfinite(bound):
                continue
            trial = x.copy()
            trial[i] = bound
            r, _ = residuals(trial[None, :])
            terms = fitter.loss.rho(r[0])
            value = float(np.sum(terms if weights is None else terms * weights))
            if np.isfinite(value) and value <= f + 1e-12 * abs(f):
                x, flat = trial, flat + [i]
                break
    return x, flat


def warn_about(result: FitResult) -> None:
    """Announce a fit's trouble: a ConvergenceWarning for a nonzero status, an
    IdentifiabilityWarning for a flat valley to a bound, a design that cannot determine
    the law (:func:`~.identifiability.design_limits`) or an ill-conditioned Jacobian,
    each pointing at the user's line (:func:`~scalinglaws._exceptions.user_stacklevel`)."""
    stacklevel = user_stacklevel()
    if result.status != 0:
        warnings.warn(f"{result.form.name} fit: {result.message}", ConvergenceWarning,
                      stacklevel=stacklevel)
    diagnostics = result.diagnostics or {}
    if diagnostics.get("flat_to_bound"):
        names = ", ".join(diagnostics["flat_to_bound"])
        warnings.warn(f"{result.form.name} fit: {names} not identified: the objective does not "
                      f"change from the fitted value to the bound; fix {names} or add runs that "
                      "separate it", IdentifiabilityWarning, stacklevel=stacklevel)
    for limit in diagnostics.get("design") or ():
        warnings.warn(f"{result.form.name} fit: {limit}", IdentifiabilityWarning,
                      stacklevel=stacklevel)
    if diagnostics.get("condition_number", 0) > ILL_CONDITIONED:
        pair = diagnostics.get("most_correlated") or {}
        warnings.warn(f"{result.form.name} fit: the runs cannot separate the parameters "
                      f"(condition number {diagnostics['condition_number']:.3g}"
                      + (f"; {' and '.join(pair['params'])} correlate at "
                         f"{pair['correlation']:+.6f}" if pair else "")
                      + "): vary N and D independently, add sizes, or fix a parameter",
                      IdentifiabilityWarning, stacklevel=stacklevel)


def worth_polishing(groups, fun) -> list:
    """The distinct optima (groups of starts, best first) that get scipy's polish: at most
    :data:`_N_POLISHED`, and only those within :data:`_POLISH_WITHIN` of the best."""
    best = fun[groups[0][0]]
    return [g for g in groups[:_N_POLISHED] if fun[g[0]] <= best + _POLISH_WITHIN * abs(best)]
