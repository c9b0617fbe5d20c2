r"""The statistics of comparisons between groups: which pairs are compared, differences
with bootstrap intervals, their p-values with Holm's correction, and the Wald test of one
value for every group.

* A **difference** ``d = θ_g - θ_ref`` gets the percentile interval of its paired
  bootstrap draws ``d*_r = θ*_{g,r} - θ*_{ref,r}`` and a two-sided p-value from the
  bootstrap standard error, ``p = 2 Φ(-|d| / sd(d*))`` (a normal approximation: the
  percentile of zero itself cannot resolve the small p-values a correction needs).
  Without draws (Approach 2 fitted without resampling) the standard errors of the two
  estimates give ``sd = sqrt(se_g² + se_ref²)`` and a normal interval.
* **Holm's step-down correction** (Holm 1979) adjusts the p-values of one family of
  comparisons (one quantity, all the groups compared): it controls the probability of
  any false "differs" at the nominal level under any dependence between the
  comparisons, and is uniformly more powerful than Bonferroni.
* The **test of one shared value** across ``G`` groups is Wald's heterogeneity test
  (Cochran's Q for vectors): with per-group estimates ``θ_g`` and covariances ``V_g``
  (from each group's bootstrap draws; the groups are resampled independently),
  ``θ̄ = (Σ V_g⁻¹)⁻¹ Σ V_g⁻¹ θ_g`` and ``T = Σ (θ_g - θ̄)ᵀ V_g⁻¹ (θ_g - θ̄)``, referred
  to χ² with ``(G - 1) d`` degrees of freedom. One test for all groups: no correction.
"""

from __future__ import annotations

import math

import numpy as np

from .._exceptions import InputError

__all__ = ["compared_pairs", "difference", "difference_rows", "holm", "wald_heterogeneity"]


def compared_pairs(groups: tuple, reference, pairs: str, group_column: str) -> tuple:
    """``(reference, [(group, versus), ...])``: the reference (default: the first group,
    sorted), checked to be one of at least two ``groups``, and the pairs compared, each
    group with the reference (``pairs="reference"``) or every pair of groups (``"all"``)."""
    reference = groups[0] if reference is None else reference
    if reference not in groups:
        raise InputError(f"`reference` {reference!r} is not a group of column "
                         f"{group_column!r}; groups: {list(groups)}")
    if len(groups) < 2:
        raise InputError("a comparison needs at least two groups")
    if pairs == "reference":
        return reference, [(g, reference) for g in groups if g != reference]
    return reference, [(groups[j], groups[i]) for i in range(len(groups))
                       for j in range(i + 1, len(groups))]


def holm(p_values) -> np.ndarray:
    """Holm-adjusted p-values (step-down Bonferroni), NaN kept where given.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    if finite.size == 0:
        return out
    order = finite[np.argsort(p[finite], kind="stable")]
    m = order.size
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out


def _normal_p(z):
    from scipy import stats

    return float(2.0 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan")


def welch_df(se_a: float, df_a: float, se_b: float, df_b: float) -> float:
    """Welch-Satterthwaite degrees of freedom of the difference of two independent
    estimates with standard errors ``se_a``, ``se_b`` on ``df_a``, ``df_b`` degrees."""
    num = (se_a**2 + se_b**2) ** 2
    den = (se_a**4 / df_a if df_a > 0 else math.inf) + (se_b**4 / df_b if df_b > 0 else math.inf)
    return num / den if den > 0 else math.inf


def difference(estimate: float, draws: np.ndarray | None, level: float,
               se: float | None = None, df: float | None = None) -> dict:
    """``difference``, ``low``, ``high``, ``se``, ``p_value`` of one difference.

    ``draws`` are its paired bootstrap draws (NaN left out); without them ``se`` (the
    standard error of the difference) gives a t interval on ``df`` degrees of freedom
    (normal when ``df`` is None or infinite).
    """
    tail = (1.0 - level) / 2.0
    if draws is not None:
        values = np.asarray(draws, dtype=float)
        values = values[np.isfinite(values)]
        if values.size >= 2:
            sd = float(np.std(values, ddof=1))
            low, high = np.quantile(values, [tail, 1.0 - tail])
            return {"difference": float(estimate), "low": float(low), "high": float(high),
                    "se": sd, "p_value": _normal_p(estimate / sd if sd > 0 else math.inf)}
        se = float("nan")
    from scipy import stats

    se = float("nan") if se is None else float(se)
    t_based = df is not None and math.isfinite(df) and df > 0
    half = (stats.t.ppf(1.0 - tail, df) if t_based else stats.norm.ppf(1.0 - tail)) * se
    z = estimate / se if se > 0 else math.inf
    p_value = (float(2.0 * stats.t.sf(abs(z), df)) if t_based and np.isfinite(z)
               else _normal_p(z))
    return {"difference": float(estimate), "low": float(estimate - half),
            "high": float(estimate + half), "se": se, "p_value": p_value}


def wald_heterogeneity(estimates: np.ndarray, covariances: np.ndarray) -> dict:
    """Wald test that every group has the same value (see the module docstring).

    ``estimates`` ``(G, d)``, ``covariances`` ``(G, d, d)``. Returns ``statistic``,
    ``df``, ``p_value`` and the precision-weighted ``pooled`` value (NaN when a
    covariance is singular: draws that do not vary cannot test anything).

    Examples
    --------
    >>> import numpy as np
    >>> out = wald_heterogeneity(np.array([[0.3], [0.5]]), np.array([[[0.01]], [[0.01]]]))
    >>> round(out["statistic"], 6), out["df"]
    (2.0, 1)
    """
    from scipy import stats

    theta = np.asarray(estimates, dtype=float)
    cov = np.asarray(covariances, dtype=float)
    df = int((theta.shape[0] - 1) * theta.shape[1])
    try:
        precision = np.linalg.inv(cov)
        pooled = np.linalg.solve(precision.sum(axis=0), np.einsum("gij,gj->i", precision, theta))
    except np.linalg.LinAlgError:  # a group whose draws do not vary (noise-free runs)
        nan = float("nan")
        return {"statistic": nan, "df": df, "p_value": nan, "pooled": [nan] * theta.shape[1]}
    gaps = theta - pooled
    statistic = float(np.einsum("gi,gij,gj->", gaps, precision, gaps))
    return {"statistic": statistic, "df": df, "p_value": float(stats.chi2.sf(statistic, df)),
            "pooled": pooled.tolist()}


def difference_rows(name: str, pairs, level: float) -> list[dict]:
    """Rows of a differences table for one quantity ``name``, Holm-adjusted as one family.

    ``pairs`` yields ``(group, versus, row)`` with ``row`` from :func:`difference`; each
    row gets ``p_adjusted`` and ``differs`` (adjusted p below ``1 - level``).
    """
    block = [{"group": group, "versus": versus, "quantity": name,
              "difference": row["difference"], "difference_low": row["low"],
              "difference_high": row["high"], "se": row["se"], "p_value": row["p_value"]}
             for group, versus, row in pairs]
    for r, p in zip(block, holm([r["p_value"] for r in block])):
        r["p_adjusted"] = float(p)
        r["differs"] = bool(np.isfinite(p) and p < 1.0 - level)
    return block
