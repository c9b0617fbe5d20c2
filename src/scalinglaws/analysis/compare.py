r"""Compare recipes: effective-compute multipliers, exponent differences and a test of
shared exponents, each with its uncertainty.

``compare(runs, "baseline", groups="recipe")`` fits the law to every group (separately,
and with ``shared`` parameters common to all groups if asked), bootstraps the fits by
resampling runs within each group, and reports:

(a) the **effective-compute multiplier** of each group over the reference at compute
    budgets ``C`` (or at losses): the compute the reference needs to reach the loss the
    group reaches with ``C``, divided by ``C``,

    .. math:: M_g(C) = C^*_{\mathrm{ref}}\big(L^*_g(C)\big) / C,
              \qquad M_g(L) = C^*_{\mathrm{ref}}(L) / C^*_g(L),

    with ``L*`` the compute-optimal loss and ``C*`` its inverse (the package's
    allocation solvers, :mod:`scalinglaws.analysis.solvers`; the Chinchilla frontier
    in closed form). ``M = 2``: the group is worth twice the compute. With shared
    exponents and ``E`` the multiplier does not depend on ``C``;
(b) the **differences of exponents** (``alpha``, ``beta``) and of the compute-optimal
    allocation exponents ``a = beta/(alpha+beta)``, ``b = alpha/(alpha+beta)`` from the
    separate fits, each with a percentile interval of its paired bootstrap draws, a
    p-value and Holm's correction over the comparisons of each quantity;
(c) a **test** that every group shares the exponents (Wald's heterogeneity test with
    the bootstrap covariances, :mod:`._compare_stats`), one test for all groups.

``compare(isoflop_fit(runs, groups=...), reference)`` makes the same comparisons for
Approach 2: the exponent ``a`` of ``N_opt ∝ C^a`` and ``N_opt`` at budgets
(:mod:`.compare_isoflop`).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from .._exceptions import ExtrapolationWarning, InputError, LackOfFitWarning, user_stacklevel
from .._validation import (check_choice, check_confidence_level, check_int, check_numbers,
                           given_draws)
from ..data.runs import as_runs
from ..fitting.estimator import LawFitter, fitted_range
from ..fitting.grouped import GroupedFitResult
from ..fitting.grouped import fit as _fit_groups
from ..fitting.isoflop_groups import GroupedIsoFLOPResult
from ..fitting.lack_of_fit import warn_lack_of_fit_groups
from ..laws.frontier import frontier_terms
from ..uncertainty.grouped import GroupedBootstrapResult, bootstrap_groups
from ._common import (check_allocatable, check_method, irreducible, summarise,
                      warn_far_beyond)
from ._compare_caveats import misfit_groups, misfit_note, multiplier_caveats
from ._compare_stats import compared_pairs, difference, difference_rows, wald_heterogeneity
from .compare_result import Comparison
from .solvers import compute_for_loss_rows, optimal_for_compute

__all__ = ["Comparison", "compare", "effective_compute_multiplier"]

_LOAD_KEYS = ("columns", "flops_per_token", "nan_policy", "format", "sep")
#: options of a grouped fit, beyond its objective, that its separate refit keeps (the
#: grouped search's ``rank``; no ``preset``: its ties are in ``tied`` already)
_REFIT_ENGINE_OPTIONS = ("max_iter", "prune_after", "keep", "polish", "rank")
_MIN_RESAMPLES = 20


def fit_groups(runs, form, **options) -> GroupedFitResult:
    """:func:`scalinglaws.fit` with ``groups`` (the grouped fit with the package's estimator)."""
    return _fit_groups(runs, form, estimator=LawFitter, **options)


def _fit_quietly(runs, form, **options) -> GroupedFitResult:
    """:func:`fit_groups` without its :class:`~scalinglaws.LackOfFitWarning`: the
    comparison gives one of its own, saying what rests on the laws that misfit."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=LackOfFitWarning)
        return fit_groups(runs, form, **options)


#: what a comparison's lack-of-fit warning says rests on the laws that misfit
_MISFIT_CONSEQUENCE = ("The effective-compute multipliers and exponent differences of these "
                       "groups assume forms that fit; a multiplier from a law that misfits can "
                       "be off by orders of magnitude where the observed losses agree (the "
                       "summary says why, row by row)")


def exponent_names(form, per_group) -> tuple:
    """The exponents compared: per-group parameters that are not scales."""
    return tuple(n for n in per_group if n not in form.log_params)


def quantities(form, rows: np.ndarray, names) -> dict:
    """``{name: values (m,)}`` of the compared quantities for parameter rows ``(m, p)``:
    the exponents ``names`` and, for Chinchilla, the allocation exponents ``a``, ``b``
    (Hoffmann et al. 2022 Eq 4, :func:`scalinglaws.laws.frontier.frontier_terms`)."""
    out = {n: rows[:, form.param_names.index(n)] for n in names}
    if form.name == "chinchilla":
        terms = frontier_terms(rows)
        out["a"], out["b"] = terms["a"][:, 0], terms["b"][:, 0]
    return out


def _rows(form, draws: GroupedBootstrapResult | None, group, point) -> np.ndarray:
    """Point (row 0) and the group's draws (rows 1..R, NaN where failed)."""
    vector = np.array([point[n] for n in form.param_names], dtype=float)[None, :]
    if draws is None:
        return vector
    return np.vstack([vector, draws.draws[:, draws.index(group)]])


def effective_compute_multiplier(fit: GroupedFitResult, group, reference, *, compute=None,
                                 loss=None, draws: GroupedBootstrapResult | None = None,
                                 flops_per_token: float | None = None,
                                 confidence_level: float = 0.95, fitted_ranges=None) -> dict:
    r"""Effective-compute multiplier of ``group`` over ``reference``, with an interval.

    At budgets ``compute`` (FLOP): ``M(C) = C*_ref(L*_group(C)) / C``; at losses
    ``loss``: ``M(L) = C*_ref(L) / C*_group(L)`` (module docstring). Draw ``r`` of
    the group and of the reference come from the same resample; a draw under which
    the reference never reaches the group's loss gives ``inf``.

    The fitted laws are asked at the compute-optimal N and D of the group (at ``C``, or
    for the loss) and of the reference (for the loss): beyond 100x either group's runs
    an :class:`~scalinglaws.ExtrapolationWarning` says so, as :func:`scalinglaws.predict`
    does (a grouped fit's laws do not keep their runs' range: ``fitted_ranges``,
    ``{group: {"N": (low, high), "D": ..., "N*D": ...}}``, gives it; :func:`compare`
    passes its runs'). A loss at or below a group's fitted floor (its irreducible loss ``E``) is
    reached by no compute: its multiplier is NaN and an ExtrapolationWarning names it.

    Returns a dict: ``multiplier`` (array like the budgets or losses), ``low``,
    ``high`` (percentile interval over the draws, infinite draws included; NaN without
    draws), and per budget or loss ``n_failed_draws`` (draws with no answer: an optimum
    on the edge of the search, left out) and ``n_infinite_draws`` (draws under which the
    reference never reaches the loss, kept: they make ``high`` infinite when they pass
    the upper tail), and ``unreachable`` (per loss: why no compute reaches it, or "").
    """
    form = fit.form
    check_allocatable(form)
    draws = given_draws(draws)  # False: no draws, as None here
    if (compute is None) == (loss is None):
        raise InputError("give `compute` (budgets in FLOP) or `loss` (target losses), not both")
    level = check_confidence_level(confidence_level)
    if flops_per_token is None:  # the runs' own accounting, recorded by the grouped fit
        flops_per_token = fit.options.get("flops_per_token", 6.0)
    k = float(check_numbers("flops_per_token", flops_per_token, positive=True))
    method = check_method("auto", form)
    group_rows = _rows(form, draws, group, fit.group_of(group).params)
    ref_rows = _rows(form, draws, reference, fit.group_of(reference).params)
    n_draws = group_rows.shape[0] - 1
    with np.errstate(all="ignore"):
        # One formula, M = C*_ref(L) / C_group at the loss L the group reaches: with a
        # budget, C_group = C and L = L*_group(C); at a loss, C_group = C*_group(L).
        if compute is not None:
            given = check_numbers("compute", compute, positive=True)
            own = given.reshape(1, -1)
            n_g, d_g, reached, edge_g = optimal_for_compute(form, group_rows, own, k, method)
        else:
            given = check_numbers("loss", loss, positive=True)
            reached = given.reshape(1, -1)
            own, n_g, d_g, edge_g = compute_for_loss_rows(form, group_rows, reached, k, method)
        needed, n_r, d_r, edge_r = compute_for_loss_rows(form, ref_rows, reached, k, method)
        value = needed / own
    unreachable = ([""] * given.size if loss is None else
                   _unreachable(form, fit, {group: group_rows, reference: ref_rows}, given))
    for name, n, d in ((group, n_g, d_g), (reference, n_r, d_r)):
        finite = np.isfinite(n[0]) & np.isfinite(d[0])
        if finite.any():  # the point estimate's own allocation, where one exists
            law = fit.group_of(name)
            if not law.fitted_range and (fitted_ranges or {}).get(name):
                law = dataclasses.replace(law, fitted_range=fitted_ranges[name])
            warn_far_beyond(law, {"N": n[0][finite], "D": d[0][finite]},
                            stacklevel=user_stacklevel() + 1, subject=f"{fit.group_column} "
                            f"{name!r} (effective-compute multiplier)", unsettled=False)
    shape = given.shape
    value = np.where(edge_g | edge_r, np.nan, value)
    point, intervals, _ = summarise({"multiplier": value}, shape, level, n_draws)
    low, high = intervals.get("multiplier", (np.full(shape, np.nan), np.full(shape, np.nan)))
    # counted per budget: one count for all budgets made a budget's draws look failed
    # because another budget's were, and counted kept infinite draws as failures
    drawn = np.asarray(value[1:], dtype=float).reshape(n_draws, int(np.prod(shape)))
    return {"multiplier": np.asarray(point["multiplier"]), "low": np.asarray(low),
            "high": np.asarray(high),
            "n_failed_draws": np.isnan(drawn).sum(axis=0).reshape(shape),
            "n_infinite_draws": np.isinf(drawn).sum(axis=0).reshape(shape),
            "unreachable": np.array(unreachable, dtype=object).reshape(shape)}


def _fitted_ranges(runs, column) -> dict:
    """``{group: fitted_range}`` of each group's runs, as a plain fit keeps it."""
    if runs is None or not (runs.has("N") and runs.has("D")) or not runs.has(column):
        return {}
    return {key: fitted_range({"N": part.N, "D": part.D})
            for key, part in runs.groupby(column)}


def _unreachable(form, fit, rows: dict, losses) -> list:
    """Per target loss: why the fitted laws reach it with no compute ("" when they do),
    warned as an :class:`~scalinglaws.ExtrapolationWarning`."""
    floors = {name: float(irreducible(form, r[:1])[0, 0]) for name, r in rows.items()}
    out = []
    for target in np.ravel(losses):
        below = [f"E = {floor:.4g} of {name!r}" for name, floor in floors.items()
                 if target <= floor]
        out.append(f"loss {target:.4g} is at or below the fitted irreducible loss "
                   f"{' and '.join(below)}: no compute reaches it" if below else "")
    for reason in filter(None, out):
        warnings.warn(f"{fit.group_column} comparison: {reason}; its multiplier is NaN",
                      ExtrapolationWarning, stacklevel=user_stacklevel())
    return out


def _differences(values: dict, groups, pairs, level: float) -> list[dict]:
    """Rows of the differences table: every pair, every quantity, Holm per quantity."""
    rows = []
    names = next(iter(values.values())).keys()
    for name in names:
        def pair_rows(name=name):
            for group, versus in pairs:
                a, b = values[group][name], values[versus][name]
                yield group, versus, difference(a[0] - b[0], a[1:] - b[1:] if a.size > 1
                                                else None, level)

        rows.extend(difference_rows(name, pair_rows(), level))
    return rows


def _estimates(values: dict, level: float) -> list[dict]:
    rows = []
    tail = (1.0 - level) / 2.0
    for group, named in values.items():
        for name, v in named.items():
            draws = v[1:][np.isfinite(v[1:])]
            low, high = (np.quantile(draws, [tail, 1 - tail]) if draws.size >= 2
                         else (np.nan, np.nan))
            rows.append({"group": group, "quantity": name, "value": float(v[0]),
                         "value_low": float(low), "value_high": float(high),
                         "se": float(np.std(draws, ddof=1)) if draws.size >= 2 else np.nan})
    return rows


def _shared_test(separate: GroupedFitResult, draws: GroupedBootstrapResult, names, level,
                 model: GroupedFitResult) -> dict:
    form = separate.form
    index = [form.param_names.index(n) for n in names]
    estimates, covariances = [], []
    for group in separate.groups:
        values = draws.draws[:, draws.index(group)][:, index]
        values = values[np.all(np.isfinite(values), axis=1)]
        if len(values) < len(index) + 2:
            raise InputError(f"group {group!r}: too few successful bootstrap resamples "
                             f"({len(values)}) for the test; increase `n_resamples`")
        estimates.append([separate[group].params[n] for n in names])
        covariances.append(np.atleast_2d(np.cov(values, rowvar=False)))
    out = wald_heterogeneity(np.array(estimates), np.array(covariances))
    return {"method": "Wald test of one value for every group, bootstrap covariances",
            "quantities": list(names), "statistic": out["statistic"], "df": out["df"],
            "p_value": out["p_value"],
            "rejected": bool(np.isfinite(out["p_value"]) and out["p_value"] < 1.0 - level),
            "pooled": dict(zip(names, out["pooled"])),
            "objective_separate": separate.objective,
            "objective_shared": model.objective if model.shared else None}


def compare(data, reference=None, *, groups: str | None = None, form="chinchilla",
            shared=(), budgets=None, losses=None, runs=None,
            bootstrap: GroupedBootstrapResult | None = None, n_resamples: int = 200,
            confidence_level: float = 0.95, rng=None, pairs: str = "reference",
            flops_per_token: float | None = None, n_jobs: int = 1, backend: str | None = None,
            progress: bool | None = None, **fit_options) -> Comparison:
    """Compare groups of runs (recipes, settings, data mixtures) with a reference group.

    Parameters
    ----------
    data : Runs, DataFrame, path, GroupedFitResult or GroupedIsoFLOPResult
        The runs (then ``groups`` names their group column and the law is fitted here),
        a grouped fit (:func:`scalinglaws.fit` with ``groups``; pass its ``runs`` for the
        bootstrap), or an Approach 2 analysis by group
        (:func:`scalinglaws.isoflop_fit` with ``groups``; its own resampled minima give
        the intervals).
    reference : optional
        The group the others are compared with (default: the first, sorted).
    groups : str
        The group column, when ``data`` are runs.
    form : str or Form
        The law fitted to runs (default Chinchilla).
    shared : sequence of str
        Parameters common to every group in the fit the multipliers come from (e.g.
        ``["E", "alpha", "beta"]``: one multiplier at every budget). The exponent
        comparisons and the test always use separate fits.
    budgets, losses : array_like, optional
        Compute budgets (FLOP) and/or losses at which to give the multipliers (Approach
        2: budgets for ``N_opt``). Default: the largest compute among the runs.
    runs : Runs, DataFrame or path, optional
        The runs of a ``GroupedFitResult`` given as ``data``.
    bootstrap : GroupedBootstrapResult, optional
        Resamples of the fit given as ``data`` (else drawn here).
    n_resamples : int
        Bootstrap resamples (runs resampled within each group), at least 20.
    confidence_level : float
        Level of every interval; decisions (``differs``, the test) are made at
        ``1 - confidence_level``.
    rng : None, int or numpy.random.Generator
        Randomness of the resampling; the same seed gives the same result.
    pairs : {"reference", "all"}
        Compare each group with the reference, or every pair of groups.
    flops_per_token : float, optional
        ``k`` in ``C = k N D`` for the allocation (and for deriving C or D when loading a
        table). Default: the k the runs were loaded with (a grouped fit's: the one it
        records), else 6.
    n_jobs, backend, progress :
        Parallel fits and resamples, as :func:`scalinglaws.fit` and the bootstrap.
    **fit_options
        Options of the fits (``loss``, ``delta``, ``fixed``, ``bounds``...) and of
        loading the runs.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> import pandas as pd
    >>> from scalinglaws import generate_sweep
    >>> frame = pd.concat([generate_sweep(rng=i).to_frame().assign(recipe=name)
    ...                    for i, name in enumerate(["baseline", "new"])])
    >>> result = compare(frame, "baseline", groups="recipe", budgets=[1e21], n_resamples=50,
    ...                  rng=0)
    >>> result.table_multipliers.columns[:6].tolist()
    ['group', 'reference', 'at', 'C', 'loss', 'multiplier']
    """
    level = check_confidence_level(confidence_level)
    pairs = check_choice("pairs", pairs, ("reference", "all"))
    if isinstance(data, GroupedIsoFLOPResult):
        from .compare_isoflop import compare_isoflop

        return compare_isoflop(data, reference, budgets=budgets, confidence_level=level,
                               pairs=pairs)
    n_resamples = check_int("n_resamples", n_resamples, _MIN_RESAMPLES)
    load = {k: fit_options.pop(k) for k in list(fit_options) if k in _LOAD_KEYS}
    weights = fit_options.pop("weights", None)
    fit_kwargs = {"n_jobs": n_jobs, "backend": backend, "progress": progress,
                  "weights": weights}
    if isinstance(data, GroupedFitResult):
        if runs is None and (bootstrap is None or data.shared):
            raise InputError("`runs` are needed to bootstrap the grouped fit given as `data`")
        model = data
        runs = None if runs is None else as_runs(runs, **load)
        options = {k: v for k, v in data.options.items()
                   if k in LawFitter.OBJECTIVE_OPTIONS + _REFIT_ENGINE_OPTIONS}
        # the runs were warned of when `data` was fitted: the refit does not repeat it
        separate = model if not model.shared else _fit_quietly(
            runs, data.form, groups=data.group_column, warn_runs=False, **options,
            **fit_kwargs)
    else:
        if groups is None:
            raise InputError("`groups` must name the column of `data` that defines the groups")
        if flops_per_token is not None:  # C and D derived with the k the allocation uses
            load["flops_per_token"] = flops_per_token
        runs = as_runs(data, **load)
        separate = _fit_quietly(runs, form, groups=groups, **fit_options, **fit_kwargs)
        # the same runs again, jointly: what the first fit said about them is not repeated
        model = separate if not shared else _fit_quietly(runs, form, groups=groups,
                                                          shared=shared, warn_runs=False,
                                                          **fit_options, **fit_kwargs)
    if flops_per_token is None:  # the runs' accounting, which the grouped fit records
        flops_per_token = model.options.get("flops_per_token", 6.0)
    group_list = separate.groups
    reference, chosen = compared_pairs(group_list, reference, pairs, separate.group_column)
    if budgets is None and losses is None and runs is not None:
        budgets = [float(np.max(runs.C))] if runs.has("C") else None
    generator = np.random.default_rng(rng)
    seed = int(rng) if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) else None
    separate_stream, model_stream = generator.spawn(2)
    boot_kwargs = {"n_jobs": n_jobs, "backend": backend, "progress": progress,
                   "confidence_level": level, "weights": weights}
    if bootstrap is not None and not model.shared:
        separate_draws = bootstrap
    else:
        separate_draws = bootstrap_groups(separate, runs, n_resamples, rng=separate_stream,
                                          **boot_kwargs)
    if model is separate:
        model_draws = separate_draws
    elif bootstrap is not None:
        model_draws = bootstrap
    else:
        model_draws = bootstrap_groups(model, runs, n_resamples, rng=model_stream, **boot_kwargs)

    names = exponent_names(separate.form, separate.per_group)
    values = {g: quantities(separate.form, _rows(separate.form, separate_draws, g,
                                                 separate[g].params), names)
              for g in group_list}
    estimates = _estimates(values, level)
    differences = _differences(values, group_list, chosen, level)
    test = _shared_test(separate, separate_draws, names, level, model) if names else {}
    multipliers = []
    if set(model.form.inputs) == {"N", "D"}:
        ranges = _fitted_ranges(runs, separate.group_column)
        for what, grid in (("C", budgets), ("loss", losses)):
            if grid is None:
                continue
            grid = check_numbers("budgets" if what == "C" else "losses", grid,
                                 positive=True).ravel()
            for group in group_list:
                if group == reference:
                    continue
                out = effective_compute_multiplier(
                    model, group, reference, draws=model_draws, confidence_level=level,
                    flops_per_token=flops_per_token, fitted_ranges=ranges,
                    **({"compute": grid} if what == "C" else {"loss": grid}))
                for i, at in enumerate(grid):
                    multipliers.append({
                        "group": group, "reference": reference, "at": what,
                        "C": float(at) if what == "C" else np.nan,
                        "loss": float(at) if what == "loss" else np.nan,
                        "multiplier": float(out["multiplier"].ravel()[i]),
                        "multiplier_low": float(out["low"].ravel()[i]),
                        "multiplier_high": float(out["high"].ravel()[i]),
                        "n_failed_draws": int(out["n_failed_draws"].ravel()[i]),
                        "n_infinite_draws": int(out["n_infinite_draws"].ravel()[i]),
                        **({"unreachable": str(out["unreachable"].ravel()[i])}
                           if what == "loss" else {})})
    multipliers = multiplier_caveats(multipliers, model, runs, flops_per_token,
                                     check_method("auto", model.form),
                                     len(model_draws.draws) if model_draws is not None else 0)
    notes = []
    misfit = {**misfit_groups(separate), **misfit_groups(model)}  # exponents, multipliers
    if misfit:
        notes.append(misfit_note(misfit, len(group_list)))
        warn_lack_of_fit_groups((model if misfit_groups(model) else separate).results,
                                runs.source if runs is not None else "compare",
                                separate.group_column, consequence=_MISFIT_CONSEQUENCE)
    if model.shared:
        notes.append(f"multipliers from the fit with {', '.join(model.shared)} shared by every "
                     "group; exponent comparisons and the test from separate fits")
    if any(row["n_infinite_draws"] for row in multipliers):
        notes.append("an infinite multiplier bound: in some draws the reference never reaches "
                     "the group's loss at any compute (its fitted floor E lies above it); "
                     "those draws count as infinite multipliers (n_infinite_draws)")
    return Comparison(
        approach="parametric", group_column=separate.group_column, groups=group_list,
        reference=reference, confidence_level=level, correction="holm", estimates=estimates,
        differences=differences, multipliers=multipliers, test=test, n_resamples=n_resamples,
        seed=seed, fit=model, separate=separate, draws=model_draws,
        options={"form": separate.form.name, "shared": list(model.shared), "pairs": pairs,
                 "flops_per_token": float(flops_per_token), "method": "bootstrap percentile, "
                 "runs resampled within groups"},
        notes=tuple(notes))
