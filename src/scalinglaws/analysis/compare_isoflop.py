r"""Compare groups through Hoffmann's Approach 2: the exponent ``a`` and ``N_opt`` at budgets.

The input is :func:`scalinglaws.isoflop_fit` with ``groups=`` (a
:class:`~scalinglaws.fitting.isoflop_groups.GroupedIsoFLOPResult`). With resampling
(``n_resamples > 0``) every group keeps its resampled exponents ``a_bootstrap`` and its
resampled minima ``log_N_opt_draws`` (budgets x resamples); groups are resampled with
independent streams, so the draws of two groups pair by index into draws of their
difference. Then

* ``a`` and ``b`` per group, and their differences, get percentile intervals of those
  draws, p-values from the bootstrap standard error and Holm's correction;
* ``N_opt(C)`` of each resample is its own least-squares line through the resampled
  minima (the same weights as the fit) evaluated at ``C``, and the ratio
  ``N_opt(group) / N_opt(reference)`` gets a percentile interval;
* one value of ``a`` for every group is tested by Wald's heterogeneity test with the
  bootstrap variances.

Without resampling the regressions' standard errors give t intervals on
Welch-Satterthwaite df (``a_se``; for ``log N_opt(C)`` each line's t error, from the
minima's own standard errors where those are wider).
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_numbers
from ..fitting._optima import bootstrap_slopes
from ._compare_stats import (compared_pairs, difference, difference_rows, wald_heterogeneity,
                             welch_df)
from .compare_result import Comparison

__all__ = ["compare_isoflop", "log_n_opt_draws"]


def _used(result):
    table = result.budgets
    used = table[table["used"]]
    weights = 1.0 / used["ln_N_opt_se"].to_numpy() ** 2 if result.options.get("weighted") \
        else None
    return np.log(used["C"].to_numpy()), weights


def log_n_opt_draws(result, compute: np.ndarray) -> np.ndarray | None:
    """``ln N_opt`` at ``compute`` of every resample's line, ``(R, n_budgets)`` (None
    without resampling): the slope from :func:`~scalinglaws.fitting._optima.bootstrap_slopes`
    and the line through the (weighted) mean of each resample's minima."""
    if result.log_N_opt_draws is None:
        return None
    log_c, weights = _used(result)
    draws = np.asarray(result.log_N_opt_draws, dtype=float)  # (budgets, R)
    slope = bootstrap_slopes(log_c, draws, weights)
    valid = np.isfinite(draws)
    w = valid * (1.0 if weights is None else weights[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        x_mean = (w * log_c[:, None]).sum(axis=0) / w.sum(axis=0)
        y_mean = (w * np.where(valid, draws, 0.0)).sum(axis=0) / w.sum(axis=0)
    target = np.log(np.asarray(compute, dtype=float))
    return y_mean[:, None] + slope[:, None] * (target[None, :] - x_mean[:, None])


def compare_isoflop(result, reference=None, *, budgets=None, confidence_level: float = 0.95,
                    pairs: str = "reference") -> Comparison:
    """Approach 2 comparisons of a :class:`GroupedIsoFLOPResult` (see the module docstring).

    Called by :func:`scalinglaws.analysis.compare.compare`; ``budgets`` default to the
    largest budget any group used.
    """
    level = confidence_level
    groups = tuple(result.groups)
    reference, chosen = compared_pairs(groups, reference, pairs, result.group_column)
    resampled = all(result[g].a_bootstrap is not None for g in groups)
    if budgets is None:
        budgets = [max(float(result[g].budgets.loc[result[g].budgets["used"], "C"].max())
                       for g in groups)]
    budgets = check_numbers("budgets", budgets, positive=True).ravel()
    tail = (1 - level) / 2

    values = {}
    for g in groups:
        r = result[g]
        values[g] = {"a": (r.a, None if r.a_bootstrap is None else np.asarray(r.a_bootstrap),
                           r.a_se),
                     "b": (r.b, None if r.b_bootstrap is None else np.asarray(r.b_bootstrap),
                           r.b_se)}
    estimates = []
    for g in groups:
        for name, (value, draws, se) in values[g].items():
            if draws is not None and np.isfinite(draws).sum() >= 2:
                finite = draws[np.isfinite(draws)]
                low, high = np.quantile(finite, [tail, 1 - tail])
                spread = float(np.std(finite, ddof=1))
            else:
                interval = getattr(result[g], f"{name}_interval")
                low, high, spread = interval[0], interval[1], se
            estimates.append({"group": g, "quantity": name, "value": float(value),
                              "value_low": float(low), "value_high": float(high),
                              "se": float(spread)})
    differences = []
    for name in ("a", "b"):
        def pair_rows(name=name):
            for g, versus in chosen:
                (va, da, sa), (vb, db, sb) = values[g][name], values[versus][name]
                paired = None if da is None or db is None else da - db
                # without draws: the regressions' t, on Welch-Satterthwaite degrees of
                # freedom (a normal interval on ~7 df each covered 91.3% of 600 pairs)
                reg = "N" if name == "a" else "D"
                df = welch_df(sa, result[g].regression[reg]["df_resid"], sb,
                              result[versus].regression[reg]["df_resid"])
                yield g, versus, difference(va - vb, paired, level, se=math.hypot(sa, sb),
                                            df=df)

        differences.extend(difference_rows(name, pair_rows(), level))

    variances, points = [], []
    for g in groups:
        value, draws, se = values[g]["a"]
        finite = None if draws is None else draws[np.isfinite(draws)]
        variances.append(np.var(finite, ddof=1) if finite is not None and finite.size >= 2
                         else se ** 2)
        points.append(value)
    wald = wald_heterogeneity(np.array(points)[:, None], np.array(variances)[:, None, None])
    test = {"method": "Wald test of one value for every group, "
                      + ("bootstrap variances" if resampled else "regression standard errors"),
            "quantities": ["a"], "statistic": wald["statistic"], "df": wald["df"],
            "p_value": wald["p_value"],
            "rejected": bool(np.isfinite(wald["p_value"]) and wald["p_value"] < 1 - level),
            "pooled": {"a": wald["pooled"][0]}}

    multipliers = []
    ref_point = np.log(result[reference].predict_optimal(budgets)["N"].to_numpy())
    ref_draws = log_n_opt_draws(result[reference], budgets)
    for g in groups:
        if g == reference:
            continue
        point = np.log(result[g].predict_optimal(budgets)["N"].to_numpy())
        draws = log_n_opt_draws(result[g], budgets)
        for i, c in enumerate(budgets):
            if draws is not None and ref_draws is not None:
                row = difference(point[i] - ref_point[i], draws[:, i] - ref_draws[:, i], level)
            else:  # each line's t error (the minima's own where wider, see _line_error)
                line_g = result[g]._line_error(budgets, "N")
                line_r = result[reference]._line_error(budgets, "N")
                se_g, df_g, se_r, df_r = line_g.se[i], line_g.df[i], line_r.se[i], line_r.df[i]
                df = welch_df(se_g, df_g, se_r, df_r)
                row = difference(point[i] - ref_point[i], None, level,
                                 se=math.hypot(se_g, se_r), df=df)
            failed = 0 if draws is None else int(np.sum(~np.isfinite(
                draws[:, i] - ref_draws[:, i])))
            multipliers.append({"group": g, "reference": reference, "at": "C", "C": float(c),
                                "loss": np.nan, "multiplier": math.exp(row["difference"]),
                                "multiplier_low": math.exp(row["low"]),
                                "multiplier_high": math.exp(row["high"]),
                                "n_failed_draws": failed, "n_infinite_draws": 0})
    notes = [("groups are resampled independently: groups that reuse the same training runs "
              "(e.g. one sweep with different parameter counts) are dependent, and their "
              "intervals and tests ignore it")]
    n_resamples = 0
    if resampled:
        n_resamples = int(min(len(result[g].a_bootstrap) for g in groups))
    return Comparison(
        approach="isoflop", group_column=result.group_column, groups=groups,
        reference=reference, confidence_level=level, correction="holm", estimates=estimates,
        differences=differences, multipliers=multipliers, test=test, n_resamples=n_resamples,
        fit=result, separate=result, draws=None,
        options={"pairs": pairs,
                 "method": "bootstrap percentile of the groups' resampled exponents and minima"
                 if resampled else "t, regression standard errors (N_opt: the minima's own "
                 "where wider; differences on Welch-Satterthwaite degrees of freedom)"},
        notes=tuple(notes))
