r"""Compute-optimal allocation without a parametric loss law: Hoffmann et al. (2022) Approaches 1 and 2.

Both approaches estimate the exponents of

.. math::

    N_{opt}(C) = G_N\, C^{a}, \qquad D_{opt}(C) = G_D\, C^{b}

(Hoffmann et al. 2022, Sec 3.1-3.2 and Table 2) from where the loss is lowest,
instead of fitting a law ``L(N, D)`` and differentiating it (Approach 3,
:func:`scalinglaws.fit` then :func:`scalinglaws.extrapolate.chinchilla_frontier`).

==================================  =========================================================
:func:`isoflop_fit`                 Approach 2, IsoFLOP profiles: per compute budget, fit the
                                    loss against log N, take its minimum N*, then regress
                                    log N* on log C
:func:`envelope_fit`                Approach 1, minimum over training curves: the lower
                                    envelope of loss against compute across runs, the size
                                    attaining it, then log N on log C
:func:`synthetic_training_curves`   per-checkpoint training curves from a known law (tests)
==================================  =========================================================

Compute is ``C = k N D`` with ``k = flops_per_token`` (6, Hoffmann et al. Sec 3 and
App F), so at a fixed budget ``D* = C / (k N*)`` and, budget by budget,
``ln D* = ln C - ln k - ln N*``: the two regressions share their residuals and
``b = 1 - a`` exactly (as in Hoffmann et al.'s Table 2 for Approaches 1 and 2:
0.50 + 0.50 and 0.49 + 0.51).

Both log-log regressions use statsmodels (OLS, or WLS for Approach 2 with
``weighted=True``); their intervals are t intervals at ``confidence_level``. The
per-point independence they assume is reasonable for Approach 2 (one minimum per
budget, each from different runs) and wrong for Approach 1 (see
:func:`envelope_fit`), which is why Approach 1 also offers a bootstrap over runs.

Results are frozen dataclasses with ``to_frame()`` (the per-budget or per-compute
table), ``to_dict()`` (plain JSON-safe types), ``summary()`` and
``predict_optimal(compute)``.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._exceptions import InputError, ScalingLawsWarning
from .._validation import check_confidence_level as _check_level
from .._validation import to_plain as _plain
from ..laws.forms import Form, get_form
from ..data.runs import Runs, as_runs

__all__ = [
    "CURVES",
    "DEFAULT_CURVE_SIZES",
    "DEFAULT_HORIZONS",
    "STATUSES",
    "EnvelopeResult",
    "IsoFLOPResult",
    "envelope_fit",
    "isoflop_fit",
    "synthetic_training_curves",
]

#: Curves :func:`isoflop_fit` can fit to each IsoFLOP profile.
CURVES = ("parabola", "poly", "akima")

#: Per-budget statuses of :func:`isoflop_fit`; only ``"ok"`` budgets enter the regression.
STATUSES = ("ok", "too_few_points", "edge_minimum", "not_convex", "unstable")

_SAME_C_DEX = 1e-6 / math.log(10)  # two C values within 1e-6 relative are one budget
_GRID = 2001  # evaluation points for the minimum of an Akima interpolant / high-degree poly
_UNSTABLE = 0.5  # budgets whose resampled minimum is on the edge more often are excluded


# =========================================================================== validation
def _check_int(name: str, value: Any, minimum: int) -> int:
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral)
            or value < minimum):
        raise InputError(f"`{name}` must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_positive(name: str, value: Any) -> float:
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or value <= 0):
        raise InputError(f"`{name}` must be a finite positive number, got {value!r}")
    return float(value)


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(f"`{name}` must be True or False, got {value!r}")
    return bool(value)


def _load(runs: Any, flops_per_token: Any) -> Runs:
    if flops_per_token is None:
        return as_runs(runs)
    return as_runs(runs, flops_per_token=_check_positive("flops_per_token", flops_per_token))


# =========================================================================== regression
def _loglog(log_c: np.ndarray, log_y: np.ndarray, weights: np.ndarray | None,
            level: float) -> dict:
    """Regress ``ln y`` on ``ln C`` (statsmodels OLS, or WLS with ``weights``).

    Returns plain numbers: ``exponent``, ``exponent_se``, ``exponent_interval``,
    ``coef`` (= e^intercept), ``coef_interval``, ``params`` [intercept, slope],
    ``cov`` (2x2), ``df_resid``, ``r_squared``, ``residual_sd``, ``n``.
    With two points the line is exact and every interval is NaN.
    """
    import statsmodels.api as sm

    X = sm.add_constant(np.asarray(log_c, float), has_constant="add")
    y = np.asarray(log_y, float)
    model = sm.OLS(y, X) if weights is None else sm.WLS(y, X, weights=weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels divides by df_resid = 0 for 2 points
        res = model.fit()
        params = np.asarray(res.params, float)
        if res.df_resid > 0:
            cov = np.asarray(res.cov_params(), float)
            ci = np.asarray(res.conf_int(alpha=1 - level), float)
            r2 = float(res.rsquared)
        else:
            cov, ci, r2 = np.full((2, 2), np.nan), np.full((2, 2), np.nan), 1.0
    return {
        "exponent": float(params[1]),
        "exponent_se": float(np.sqrt(cov[1, 1])),
        "exponent_interval": (float(ci[1, 0]), float(ci[1, 1])),
        "coef": float(np.exp(params[0])),
        "coef_interval": (float(np.exp(ci[0, 0])), float(np.exp(ci[0, 1]))),
        "params": params.tolist(),
        "cov": cov.tolist(),
        "df_resid": float(res.df_resid),
        "r_squared": r2,
        "residual_sd": float(np.sqrt(res.scale)) if res.df_resid > 0 else math.nan,
        "n": len(y),
    }


def _bootstrap_slopes(log_c: np.ndarray, draws: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Slope of the (weighted) least-squares line of every column of ``draws`` on ``log_c``.

    ``draws`` is ``(n_points, R)`` with NaN for a missing draw; a column with fewer
    than two finite entries gives NaN. Vectorised over the R columns.
    """
    valid = np.isfinite(draws)
    w = valid * (1.0 if weights is None else weights[:, None])
    y = np.where(valid, draws, 0.0)
    x = log_c[:, None]
    sw = w.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        xm = (w * x).sum(axis=0) / sw
        ym = (w * y).sum(axis=0) / sw
        sxx = (w * (x - xm) ** 2).sum(axis=0)
        sxy = (w * (x - xm) * (y - ym)).sum(axis=0)
        slope = sxy / sxx
    slope[(valid.sum(axis=0) < 2) | ~(sxx > 0)] = np.nan
    return slope


def _percentile_interval(values: np.ndarray, level: float) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (math.nan, math.nan)
    tail = 50.0 * (1.0 - level)
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return (float(low), float(high))


class _AllocationMixin:
    """``predict_optimal`` and the shared scalar export of the two results."""

    def predict_optimal(self, compute: Any) -> pd.DataFrame:
        r"""Compute-optimal N and D at ``compute`` from the fitted power laws.

        ``N_opt = G_N C^a`` and ``D_opt = G_D C^b`` with t confidence intervals of
        the regression line at ``confidence_level``: for ``x = [1, ln C]``,
        ``ln N_opt ± t_{df} sqrt(x' V x)`` with ``V`` the covariance of the
        intercept and slope. These are intervals for the fitted *line* (the
        expected log-optimum), not for a new budget's noisy minimum; far outside
        the fitted budgets they rest entirely on the power law holding there.

        Parameters
        ----------
        compute : float or array_like
            Budgets in FLOP (finite, positive).

        Returns
        -------
        pandas.DataFrame
            One row per budget: ``C``, ``N_opt``, ``N_opt_low``, ``N_opt_high``,
            ``D_opt``, ``D_opt_low``, ``D_opt_high``, ``tokens_per_param``.
        """
        try:
            c = np.atleast_1d(np.asarray(compute, dtype=float)).ravel()
        except (TypeError, ValueError):
            raise InputError(f"`compute` must be finite positive FLOP counts, got {compute!r}") \
                from None
        if c.size == 0 or not np.all(np.isfinite(c)) or np.any(c <= 0):
            raise InputError(f"`compute` must be finite positive FLOP counts, got {compute!r}")
        x = np.column_stack([np.ones_like(c), np.log(c)])
        out = {"C": c}
        for name in ("N", "D"):
            reg = self.regression[name]
            params, cov = np.asarray(reg["params"]), np.asarray(reg["cov"])
            centre = x @ params
            se = np.sqrt(np.einsum("ij,jk,ik->i", x, cov, x))
            t = stats.t.ppf(0.5 + self.confidence_level / 2, reg["df_resid"]) \
                if reg["df_resid"] > 0 else math.nan
            out[f"{name}_opt"] = np.exp(centre)
            out[f"{name}_opt_low"] = np.exp(centre - t * se)
            out[f"{name}_opt_high"] = np.exp(centre + t * se)
        out["tokens_per_param"] = out["D_opt"] / out["N_opt"]
        return pd.DataFrame(out)

    def _scalar_lines(self) -> list[str]:
        level = f"{100 * self.confidence_level:g}%"
        lines = [f"{'':<10}{'value':>10}  {level} interval"]
        for name, value, interval in (("a", self.a, self.a_interval),
                                      ("b", self.b, self.b_interval)):
            lines.append(f"{name:<10}{value:>10.4f}  [{interval[0]:.4f}, {interval[1]:.4f}]"
                         + (f"   bootstrap [{self.a_bootstrap_interval[0]:.4f}, "
                            f"{self.a_bootstrap_interval[1]:.4f}]"
                            if name == "a" and self.a_bootstrap_interval is not None else "")
                         + (f"   bootstrap [{self.b_bootstrap_interval[0]:.4f}, "
                            f"{self.b_bootstrap_interval[1]:.4f}]"
                            if name == "b" and self.b_bootstrap_interval is not None else ""))
        for name, value, interval in (("G_N", self.N_coef, self.N_coef_interval),
                                      ("G_D", self.D_coef, self.D_coef_interval)):
            lines.append(f"{name:<10}{value:>10.4g}  [{interval[0]:.4g}, {interval[1]:.4g}]")
        return lines


# =========================================================================== Approach 2
@dataclass(frozen=True, eq=False)
class IsoFLOPResult(_AllocationMixin):
    r"""Hoffmann et al. (2022) Approach 2: IsoFLOP minima and their power laws. Frozen.

    Attributes
    ----------
    budgets : pandas.DataFrame
        One row per compute budget: ``budget`` (the group key: the budget's C, a
        bin's index or the value of the budget column), ``C`` (geometric mean of
        the runs' compute), ``C_spread_dex`` (log10 max/min of C in the group, 0
        for exact budgets), ``n_points`` (runs), ``n_fitted`` (runs the curve was
        fitted to, fewer with ``window``), ``N_min``, ``N_max`` (sampled sizes),
        ``N_opt`` (the curve's minimum), ``ln_N_opt_se`` (standard error of
        ``ln N_opt``, natural log; NaN when not estimated), ``D_opt`` (= C/(k
        N_opt)), ``loss_opt`` (the curve at its minimum), ``edge_fraction``
        (share of resamples whose minimum fell on the edge; NaN without
        resamples), ``status`` (one of :data:`STATUSES`), ``reason`` (text,
        empty when ok) and ``used`` (entered the regression).
    a, b : float
        Exponents of ``N_opt ∝ C^a`` and ``D_opt ∝ C^b`` (``b = 1 - a``).
    a_interval, b_interval : tuple of float
        t confidence intervals of the slopes at ``confidence_level`` (NaN with
        two budgets).
    a_se, b_se : float
        Standard errors of the slopes.
    N_coef, D_coef : float
        ``G_N`` and ``G_D`` in ``N_opt = G_N C^a``, ``D_opt = G_D C^b`` (C in FLOP).
    N_coef_interval, D_coef_interval : tuple of float
        Their intervals (exponentiated intercept intervals; wide, since the
        intercept sits at C = 1 FLOP).
    a_bootstrap_interval, b_bootstrap_interval : tuple of float or None
        Percentile intervals of the slopes over the per-budget resamples
        (``n_resamples > 0``), else None.
    n_budgets_used, n_budgets_excluded : int
        Budgets in the regression, and budgets reported but left out.
    n_runs : int
        Runs read.
    confidence_level : float
        Coverage of the intervals.
    flops_per_token : float
        ``k`` in ``C = k N D``.
    options : dict
        The options of :func:`isoflop_fit` that produced this result.
    regression : dict
        ``{"N": ..., "D": ...}``: intercept/slope (``params``, ln units), their
        covariance ``cov``, ``df_resid``, ``r_squared``, ``residual_sd`` and
        ``n`` of each log-log regression (used by :meth:`predict_optimal`).
    """

    budgets: pd.DataFrame
    a: float
    a_interval: tuple
    a_se: float
    b: float
    b_interval: tuple
    b_se: float
    N_coef: float
    N_coef_interval: tuple
    D_coef: float
    D_coef_interval: tuple
    n_budgets_used: int
    n_budgets_excluded: int
    n_runs: int
    confidence_level: float
    flops_per_token: float
    options: dict = field(default_factory=dict)
    regression: dict = field(default_factory=dict, repr=False)
    a_bootstrap_interval: tuple | None = None
    b_bootstrap_interval: tuple | None = None

    @property
    def excluded(self) -> pd.DataFrame:
        """The per-budget rows left out of the regression, with their reason."""
        return self.budgets.loc[~self.budgets["used"]].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """A copy of the per-budget table :attr:`budgets`."""
        return self.budgets.copy()

    def to_dict(self) -> dict:
        """Every field as plain types; ``budgets`` as a list of row records."""
        doc = {
            "approach": "isoflop",
            "a": self.a, "a_interval": list(self.a_interval), "a_se": self.a_se,
            "b": self.b, "b_interval": list(self.b_interval), "b_se": self.b_se,
            "N_coef": self.N_coef, "N_coef_interval": list(self.N_coef_interval),
            "D_coef": self.D_coef, "D_coef_interval": list(self.D_coef_interval),
            "a_bootstrap_interval": self.a_bootstrap_interval,
            "b_bootstrap_interval": self.b_bootstrap_interval,
            "n_budgets_used": self.n_budgets_used,
            "n_budgets_excluded": self.n_budgets_excluded,
            "n_runs": self.n_runs,
            "confidence_level": self.confidence_level,
            "flops_per_token": self.flops_per_token,
            "options": dict(self.options),
            "regression": self.regression,
            "budgets": self.budgets.to_dict(orient="records"),
        }
        return _plain(doc)

    def summary(self) -> str:
        """A readable report: options, the per-budget table, and the fitted exponents."""
        o = self.options
        curve = o["curve"] + (f" (degree {o['degree']})" if o["curve"] == "poly" else "")
        lines = [
            "IsoFLOP profiles (Hoffmann et al. 2022, Approach 2)",
            f"curve      {curve} of {'ln loss' if o['log_loss'] else 'loss'} against ln N"
            + (f", {o['window']} points around the lowest" if o.get("window") else ""),
            (f"budgets    {self.n_budgets_used} used, {self.n_budgets_excluded} excluded "
            f"(grouped by {o['budget']}); {self.n_runs} runs; minima SE: {o['se_method']}"),
            f"regression {'WLS (1/SE^2)' if o['weighted'] else 'OLS'} of ln N_opt on ln C",
            "",
            f"{'C':>10} {'n':>3} {'N_opt':>10} {'±ln':>6} {'D_opt':>10} {'loss_opt':>9}  status",
        ]
        for row in self.budgets.itertuples():
            se = "" if not np.isfinite(row.ln_N_opt_se) else f"{row.ln_N_opt_se:.3f}"
            n_opt = "" if not np.isfinite(row.N_opt) else f"{row.N_opt:.4g}"
            d_opt = "" if not np.isfinite(row.D_opt) else f"{row.D_opt:.4g}"
            loss = "" if not np.isfinite(row.loss_opt) else f"{row.loss_opt:.4f}"
            status = row.status + (f": {row.reason}" if row.reason else "")
            lines.append(f"{row.C:>10.4g} {row.n_points:>3d} {n_opt:>10} {se:>6} {d_opt:>10} "
                         f"{loss:>9}  {status}")
        lines += ["", *self._scalar_lines()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _split_sorted(log_c: np.ndarray, gap: float) -> np.ndarray:
    """Group labels 0..g-1 for values split where consecutive sorted values differ by > gap."""
    order = np.argsort(log_c, kind="stable")
    breaks = np.concatenate([[False], np.diff(log_c[order]) > gap])
    labels = np.empty(len(log_c), dtype=int)
    labels[order] = np.cumsum(breaks)
    return labels


def _group_budgets(runs: Runs, budget: Any, n_bins: Any, bin_width_dex: Any):
    """Return (keys per run, description of the grouping)."""
    log_c = np.log10(runs.C)
    if budget is None and (n_bins is not None or bin_width_dex is not None):
        budget = "bin"
    if budget in (None, "C"):
        if n_bins is not None or bin_width_dex is not None:
            raise InputError("`n_bins`/`bin_width_dex` apply only with budget='bin'")
        labels = _split_sorted(log_c, _SAME_C_DEX)
        n_distinct = int(labels.max()) + 1
        if budget is None and n_distinct > len(runs) / 3:
            raise InputError(
                f"`budget`: column 'C' takes {n_distinct} distinct values over {len(runs)} runs, "
                "too many to be IsoFLOP budgets; pass budget='bin' with `bin_width_dex` or "
                "`n_bins` to group them by log compute, or budget='<column>' naming a budget column"
            )
        centres = np.array([np.exp(np.mean(np.log(runs.C[labels == g]))) for g in range(n_distinct)])
        return centres[labels], "C (exact values)"
    if budget == "bin":
        if n_bins is not None and bin_width_dex is not None:
            raise InputError("give one of `n_bins` and `bin_width_dex`, not both")
        if n_bins is None and bin_width_dex is None:
            raise InputError("budget='bin' needs `n_bins` or `bin_width_dex`")
        low, high = log_c.min(), log_c.max()
        if n_bins is not None:
            n_bins = _check_int("n_bins", n_bins, 1)
            width = (high - low) / n_bins if high > low else 1.0
            description = f"{n_bins} log10(C) bins of {width:.3g} dex"
        else:
            width = _check_positive("bin_width_dex", bin_width_dex)
            description = f"log10(C) bins of {width:g} dex from {low:.3f}"
        index = np.floor((log_c - low) / width).astype(int)
        if n_bins is not None:
            index = np.minimum(index, n_bins - 1)  # the maximum closes the last bin
        return index, description
    if not isinstance(budget, str):
        raise InputError(f"`budget` must be None, 'C', 'bin' or a column name, got {budget!r}")
    if n_bins is not None or bin_width_dex is not None:
        raise InputError("`n_bins`/`bin_width_dex` apply only with budget='bin'")
    if budget not in runs.frame.columns:
        raise InputError(f"`budget`: no column {budget!r}; columns: {runs.columns}")
    keys = runs.frame[budget]
    if keys.isna().any():
        row = int(np.flatnonzero(keys.isna().to_numpy())[0])
        raise InputError(f"`budget`: column {budget!r} is missing at {runs.row_label(row)}")
    return keys.to_numpy(), f"column {budget!r}"


def _design(x: np.ndarray, degree: int) -> np.ndarray:
    return np.vander(x, degree + 1, increasing=True)


def _poly_minimum(coefs: np.ndarray, lo: float, hi: float, degree: int):
    """Minimum of polynomials (columns of ``coefs``, increasing powers) on [lo, hi].

    Returns ``(x_star, status)`` per column; status 0 interior minimum, 1 the
    lowest point of [lo, hi] is an end (the minimum is not inside), 2 a parabola
    opening downward (or flat). NaN ``x_star`` unless status is 0.
    """
    if degree == 2:
        c1, c2 = coefs[1], coefs[2]
        with np.errstate(divide="ignore", invalid="ignore"):
            x = -c1 / (2 * c2)
        status = np.where(~(c2 > 0), 2, np.where((x > lo) & (x < hi), 0, 1))
        return np.where(status == 0, x, np.nan), status
    grid = np.linspace(lo, hi, _GRID)
    x_star, status = _grid_minimum(grid, _design(grid, degree) @ coefs)
    # Newton steps on p'(x) = 0 polish the grid minimum (the grid brackets it).
    powers = np.arange(degree + 1)[:, None]
    for _ in range(3):
        d1 = (powers[1:] * coefs[1:] * x_star ** (powers[1:] - 1)).sum(axis=0)
        d2 = (powers[2:] * (powers[2:] - 1) * coefs[2:] * x_star ** (powers[2:] - 2)).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(d2 > 0, d1 / d2, 0.0)
        x_star = np.clip(x_star - np.nan_to_num(step), lo, hi)
    return np.where(status == 0, x_star, np.nan), status


def _grid_minimum(grid: np.ndarray, values: np.ndarray):
    """Argmin of each column on ``grid``, refined by the parabola through its neighbours."""
    index = np.nanargmin(values, axis=0)
    cols = np.arange(values.shape[1])
    edge = (index == 0) | (index == len(grid) - 1)
    inner = np.clip(index, 1, len(grid) - 2)
    y0, y1, y2 = values[inner - 1, cols], values[inner, cols], values[inner + 1, cols]
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2)
    shift = np.where(np.isfinite(shift), np.clip(shift, -1, 1), 0.0)
    step = grid[1] - grid[0]
    x = grid[inner] + shift * step
    return np.where(edge, grid[index], x), edge.astype(int)


def _window(x: np.ndarray, y: np.ndarray, window: int | None) -> slice:
    """The ``window`` consecutive points centred on the lowest one (all points if None)."""
    n = len(x)
    if window is None or window >= n:
        return slice(0, n)
    low = int(np.argmin(y)) - window // 2
    low = min(max(low, 0), n - window)
    return slice(low, low + window)


def _fit_profile(x, y, *, curve, degree, window, bracket, n_resamples, seed_noise, log_loss,
                 generator) -> dict:
    """Fit one IsoFLOP profile (x = ln N sorted, y = loss or ln loss) and find its minimum."""
    out = {"x": math.nan, "se": math.nan, "y": math.nan, "status": "ok", "reason": "",
           "n_fitted": len(x), "draws": None, "edge_fraction": math.nan}
    lowest = int(np.argmin(y))
    if bracket and lowest in (0, len(x) - 1):
        side = "smallest" if lowest == 0 else "largest"
        out.update(status="edge_minimum",
                   reason=f"lowest sampled loss at the {side} size (N = {np.exp(x[lowest]):.4g}); "
                          "the minimum is not bracketed")
        return out
    part = _window(x, y, window if curve != "akima" else None)
    xs, ys = x[part], y[part]
    out["n_fitted"] = len(xs)
    lo, hi = xs[0], xs[-1]
    centre = xs.mean()
    u = xs - centre

    def minima(Y):
        """(x*, status, y*) for every column of Y (n, R)."""
        if curve == "akima":
            from scipy.interpolate import Akima1DInterpolator

            grid = np.linspace(lo, hi, _GRID)
            spline = Akima1DInterpolator(xs, Y, axis=0)
            x_star, status = _grid_minimum(grid, spline(grid))
            y_star = spline(x_star[0])[:1] if Y.shape[1] == 1 else None
            return x_star, status, y_star
        coefs = np.linalg.lstsq(_design(u, degree), Y, rcond=None)[0]
        u_star, status = _poly_minimum(coefs, lo - centre, hi - centre, degree)
        y_star = (_design(np.nan_to_num(u_star), degree) * coefs.T).sum(axis=1)
        return u_star + centre, status, y_star

    x_star, status, y_star = (v[0] for v in minima(ys[:, None]))
    if status == 2:
        out.update(status="not_convex", reason="the fitted parabola opens downward (no minimum)")
        return out
    if status == 1:
        out.update(status="edge_minimum",
                   reason=f"the fitted minimum lies outside the sampled sizes "
                          f"{np.exp(lo):.4g}-{np.exp(hi):.4g}")
        return out
    out.update(x=float(x_star), y=float(y_star))

    if curve != "akima":  # delta method, from the OLS covariance of the coefficients
        p = degree + 1
        V = _design(u, degree)
        coefs = np.linalg.lstsq(V, ys, rcond=None)[0]
        resid = ys - V @ coefs
        if len(xs) > p:
            sigma2 = float(resid @ resid) / (len(xs) - p)
            cov = sigma2 * np.linalg.inv(V.T @ V)
            us = x_star - centre
            powers = np.arange(p)
            curvature = float(np.sum(powers[2:] * (powers[2:] - 1) * coefs[2:]
                                     * us ** (powers[2:] - 2)))
            grad_x = -powers * np.where(powers > 0, us ** np.maximum(powers - 1, 0), 0) / curvature
            out["se"] = float(np.sqrt(grad_x @ cov @ grad_x))

    if n_resamples:
        n = len(xs)
        if seed_noise is not None:
            z = generator.standard_normal((n, n_resamples))
            Y = ys[:, None] + seed_noise * z if log_loss else ys[:, None] * np.exp(seed_noise * z)
        else:  # residual bootstrap, residuals rescaled for the p fitted coefficients
            V = _design(u, degree)
            fitted = V @ np.linalg.lstsq(V, ys, rcond=None)[0]
            resid = (ys - fitted) * math.sqrt(n / max(n - degree - 1, 1))
            Y = fitted[:, None] + resid[generator.integers(0, n, (n, n_resamples))]
        draws, draw_status, _ = minima(Y)
        if bracket:  # the resampled lowest loss at an end of the profile: not bracketed
            lowest_draw = np.argmin(Y, axis=0)
            draw_status = np.where(((lowest_draw == 0) & (part.start == 0))
                                   | ((lowest_draw == n - 1) & (part.stop == len(x))),
                                   1, draw_status)
        draws = np.where(draw_status == 0, draws, np.nan)
        valid = np.isfinite(draws)
        out["edge_fraction"] = float(1 - valid.mean())
        out["draws"] = draws
        out["se"] = float(np.std(draws[valid], ddof=1)) if valid.sum() > 1 else math.nan
        if 1 - valid.mean() > _UNSTABLE:
            out.update(status="unstable",
                       reason=f"the minimum falls outside the sampled sizes in "
                              f"{100 * (1 - valid.mean()):.0f}% of resamples")
    return out


def isoflop_fit(runs: Any, *, budget: str | None = None, n_bins: int | None = None,
                bin_width_dex: float | None = None, curve: str = "parabola", degree: int = 2,
                window: int | None = None, log_loss: bool | None = None, min_points: int = 5,
                bracket: bool = True,
                weighted: bool = False, n_resamples: int = 0, seed_noise: float | None = None,
                rng=None, confidence_level: float = 0.95,
                flops_per_token: float | None = None) -> IsoFLOPResult:
    r"""Hoffmann et al. (2022) Approach 2: fit N_opt ∝ C^a from IsoFLOP profiles.

    For every compute budget C the runs trace an IsoFLOP profile, the loss
    against model size at fixed compute (Hoffmann et al. Sec 3.2, Fig 3). A
    curve is fitted to each profile against ``x = ln N`` and its minimum gives
    ``N*(C)``, ``D*(C) = C / (k N*)`` and ``L*(C)``. Then

    .. math:: \ln N^* = \ln G_N + a \ln C, \qquad \ln D^* = \ln G_D + b \ln C

    are fitted by least squares (statsmodels), giving ``a``, ``b`` (= 1 - a) and
    their t intervals.

    Parameters
    ----------
    runs : Runs, DataFrame, dict or path
        Runs with ``N``, ``loss`` and compute (``C``, or ``N`` and ``D``).
    budget : None, "C", "bin" or str
        How runs are grouped into budgets. ``"C"``: runs whose C agree to 1e-6
        relative. ``None`` (default): the same, but an
        :class:`~scalinglaws.InputError` if C takes more than one distinct value
        per three runs (then C is not a set of budgets). ``"bin"``: bins of
        log10 C (with ``n_bins`` equal bins between the smallest and largest C,
        or ``bin_width_dex`` wide from the smallest). Any other string: a column
        of ``runs`` holding the budget label (e.g. ``"budget"`` from
        :func:`scalinglaws.generate_sweep`). A budget's C is the geometric mean
        of its runs' C; ``C_spread_dex`` in the table shows how far they differ.
    n_bins, bin_width_dex : int, float, optional
        Binning for ``budget="bin"`` (giving either implies it).
    curve : {"parabola", "poly", "akima"}
        ``"parabola"`` (default, Hoffmann et al.): least-squares quadratic in
        ln N. ``"poly"``: polynomial of ``degree``. ``"akima"``: the Akima
        interpolant of the profile (Porian et al. 2024; ``interpolation`` in
        their released ``analysis.py``): it passes through every point, is local
        (each piece depends on the neighbouring points only, so the far tails of
        a wide, asymmetric sweep do not pull the minimum) and is minimised on a
        2001-point grid refined by a three-point parabola.
    degree : int
        Polynomial degree for ``curve="poly"`` (2 for the parabola).
    window : int, optional
        Fit the polynomial only to the ``window`` consecutive sizes centred on
        the lowest sampled loss (a local quadratic); default all of them.
        Useful when the sweep is wide and the profile asymmetric.
    log_loss : bool, optional
        Fit ``ln loss`` instead of ``loss``; default False for polynomials
        (Hoffmann) and True for ``"akima"`` (Porian et al.).
    min_points : int
        Budgets with fewer runs are reported with status ``"too_few_points"``
        and left out (at least ``degree + 1``, and 3).
    bracket : bool
        Also require the lowest *sampled* loss of a budget to lie strictly
        inside its sizes (default). With False only the fitted curve's minimum
        must be inside, as in Porian et al.'s code; an interpolant can then
        overshoot and place a "minimum" between the two smallest sizes of a
        profile whose data only rise.
    weighted : bool
        Weighted least squares with weights ``1 / se²`` of ``ln N*`` (needs
        standard errors: polynomials, or ``n_resamples > 0``). The residual
        scale is still estimated, so the weights are relative.
    n_resamples : int
        With ``n_resamples > 0`` each budget's profile is resampled that many
        times and re-minimised: by adding log-normal seed noise of relative size
        ``seed_noise`` to every loss (a simplified form of Porian et al.'s
        bootstrap, whose noise SD grows with the loss) or, for
        polynomials without ``seed_noise``, by a residual bootstrap. The minima's
        SD replaces the delta-method SE, a budget whose resampled minimum falls
        outside its sizes (or, with ``bracket``, whose resampled lowest loss is
        at an end) in more than half of the resamples is excluded
        (``"unstable"``), and the regression is repeated per resample to give
        ``a_bootstrap_interval``.
    seed_noise : float, optional
        Relative seed-to-seed SD of the loss for the resampling (e.g. 0.005);
        required with ``curve="akima"`` and ``n_resamples > 0``.
    rng : None, int or numpy.random.Generator
        Randomness of the resampling.
    confidence_level : float
        Two-sided level of every interval.
    flops_per_token : float, optional
        ``k`` for loading ``runs`` and for ``D* = C/(k N*)``; default that of
        the runs (6).

    Returns
    -------
    IsoFLOPResult

    Raises
    ------
    InputError
        For a bad argument, a missing column, or fewer than two usable budgets
        (the message lists every budget's status).

    Warns
    -----
    ScalingLawsWarning
        When budgets are excluded (listing them with the reason), or when only
        two budgets remain (no intervals).

    Notes
    -----
    *Guard rails.* A budget enters the regression only if it has at least
    ``min_points`` runs, its lowest sampled loss is not at its smallest or
    largest size (``bracket``), the fitted curve has an interior minimum (a
    parabola opening upward) strictly inside the sizes it was fitted to, and
    (with resampling)
    that stays so in at least half of the resamples. Others are reported in
    :attr:`IsoFLOPResult.budgets` and never extrapolated.

    *Uncertainty of N\*.* For polynomials without resampling the standard error
    of ``x* = ln N*`` is the delta method on the OLS covariance ``V`` of the
    coefficients ``θ`` (``σ²`` estimated from the residuals): ``x*`` solves
    ``p'(x*) = 0``, so ``∂x*/∂θ_j = -j x*^{j-1} / p''(x*)``, which for the
    parabola ``θ_0 + θ_1 x + θ_2 x²`` is the gradient of ``-θ_1 / (2 θ_2)``.
    It is NaN when there are no more points than coefficients and for the
    Akima interpolant without resampling.

    *Shape bias.* Around its minimum an IsoFLOP profile of the Chinchilla law is
    ``A N^-α + B (C/kN)^-β`` (plus E), not a parabola in ln N: a parabola fitted
    over a wide or off-centre sweep puts its vertex away from the true minimum.
    The shift is the same at every budget when the sweeps sit at the same
    offset from the optimum, so it biases ``G_N`` but not ``a``; it biases
    ``a`` when the offset drifts with C. ``window`` or ``curve="akima"`` make
    the estimate local.

    References
    ----------
    Hoffmann et al. (2022), "Training Compute-Optimal Large Language Models",
    Sec 3.2, Fig 3, Table 2 (a = 0.49, b = 0.51). Porian et al. (2024),
    "Resolving Discrepancies in Compute-Optimal Scaling of Language Models",
    arXiv:2406.19146, and their code (github.com/formll/resolving-scaling-law-
    discrepancies, ``analysis.py``): Akima interpolation of ln loss against
    ln N per budget, a bootstrap adding seed noise to the losses, budgets whose
    minimum is at the end of the grid dropped, then (weighted) least squares of
    ln N* on ln C.

    Examples
    --------
    >>> from scalinglaws import generate_sweep
    >>> result = isoflop_fit(generate_sweep(rng=0), budget="budget")
    >>> round(result.a, 2)
    0.52
    """
    runs = _load(runs, flops_per_token)
    if curve not in CURVES:
        raise InputError(f"`curve` must be one of {', '.join(CURVES)}, got {curve!r}")
    degree = _check_int("degree", degree, 2)
    if curve == "parabola" and degree != 2:
        raise InputError(f"`degree`={degree} needs curve='poly' (a parabola has degree 2)")
    if curve == "akima" and degree != 2:
        raise InputError("`degree` applies to curve='poly', not to 'akima'")
    min_points = _check_int("min_points", min_points, max(3, degree + 1))
    if window is not None:
        if curve == "akima":
            raise InputError("`window` applies to polynomial curves, not to curve='akima'")
        window = _check_int("window", window, degree + 1)
    log_loss = (curve == "akima") if log_loss is None else _check_bool("log_loss", log_loss)
    weighted = _check_bool("weighted", weighted)
    bracket = _check_bool("bracket", bracket)
    n_resamples = _check_int("n_resamples", n_resamples, 0)
    if seed_noise is not None:
        seed_noise = _check_positive("seed_noise", seed_noise)
    if curve == "akima" and n_resamples and seed_noise is None:
        raise InputError("curve='akima' interpolates every point, so it has no residuals to "
                         "resample: give `seed_noise` (relative SD of the loss) with `n_resamples`")
    if weighted and curve == "akima" and not n_resamples:
        raise InputError("`weighted`=True needs standard errors of the minima; with "
                         "curve='akima' pass `n_resamples` and `seed_noise`")
    level = _check_level(confidence_level)
    generator = np.random.default_rng(rng)

    keys, grouping = _group_budgets(runs, budget, n_bins, bin_width_dex)
    N, C, L = runs.N, runs.C, runs.loss
    k = runs.flops_per_token
    rows, draws = [], []
    for key in pd.unique(pd.Series(keys)):
        member = np.asarray(keys == key)
        order = np.argsort(N[member], kind="stable")
        n_b, l_b, c_b = N[member][order], L[member][order], C[member]
        c_value = float(c_b[0] if c_b.min() == c_b.max() else np.exp(np.mean(np.log(c_b))))
        row = {"budget": key.item() if isinstance(key, np.generic) else key, "C": c_value,
               "C_spread_dex": float(np.log10(c_b.max() / c_b.min())),
               "n_points": int(member.sum()), "n_fitted": 0,
               "N_min": float(n_b.min()), "N_max": float(n_b.max()),
               "N_opt": math.nan, "ln_N_opt_se": math.nan, "D_opt": math.nan,
               "loss_opt": math.nan, "edge_fraction": math.nan, "status": "ok", "reason": ""}
        distinct = np.unique(n_b).size
        if member.sum() < min_points or distinct < max(3, degree + 1):
            row.update(status="too_few_points",
                       reason=f"{int(member.sum())} runs ({distinct} distinct sizes); "
                              f"`min_points` is {min_points}")
            rows.append(row)
            draws.append(None)
            continue
        if distinct < len(n_b):  # repeated sizes: keep the best run of each (as Porian et al.)
            first = np.unique(n_b, return_index=True)[1]
            best = np.array([l_b[n_b == value].min() for value in n_b[first]])
            n_b, l_b = n_b[first], best
        fitted = _fit_profile(np.log(n_b), np.log(l_b) if log_loss else l_b, curve=curve,
                              degree=degree, window=window, bracket=bracket,
                              n_resamples=n_resamples,
                              seed_noise=seed_noise, log_loss=log_loss, generator=generator)
        row.update(status=fitted["status"], reason=fitted["reason"],
                   n_fitted=fitted["n_fitted"], edge_fraction=fitted["edge_fraction"],
                   ln_N_opt_se=fitted["se"])
        if np.isfinite(fitted["x"]):
            n_opt = math.exp(fitted["x"])
            row.update(N_opt=n_opt, D_opt=c_value / (k * n_opt),
                       loss_opt=math.exp(fitted["y"]) if log_loss else fitted["y"])
        rows.append(row)
        draws.append(fitted["draws"])

    table = pd.DataFrame(rows).sort_values("C", kind="stable")
    order = table.index.to_numpy()
    table = table.reset_index(drop=True)
    draws = [draws[i] for i in order]
    table["used"] = table["status"] == "ok"
    if weighted:
        bad = table["used"] & ~(np.isfinite(table["ln_N_opt_se"]) & (table["ln_N_opt_se"] > 0))
        if bad.any():
            raise InputError(
                f"`weighted`=True: no positive standard error for the minimum at budget(s) "
                f"{', '.join(f'{c:.4g}' for c in table.loc[bad, 'C'])}; use weighted=False"
            )
    used = table.loc[table["used"]]
    excluded = table.loc[~table["used"]]
    if len(used) < 2:
        listing = "; ".join(f"C={r.C:.4g}: {r.status}" + (f" ({r.reason})" if r.reason else "")
                            for r in table.itertuples())
        raise InputError(f"isoflop_fit needs at least two usable budgets, found {len(used)} "
                         f"of {len(table)}: {listing}")
    if len(excluded):
        warnings.warn(
            f"isoflop_fit: excluded {len(excluded)} of {len(table)} budgets: "
            + "; ".join(f"C={r.C:.4g} ({r.status}: {r.reason})" for r in excluded.itertuples()),
            ScalingLawsWarning, stacklevel=2)
    if len(used) == 2:
        warnings.warn("isoflop_fit: only two usable budgets; the exponents have no intervals",
                      ScalingLawsWarning, stacklevel=2)

    log_c = np.log(used["C"].to_numpy())
    log_n = np.log(used["N_opt"].to_numpy())
    log_d = np.log(used["D_opt"].to_numpy())
    weights = 1.0 / used["ln_N_opt_se"].to_numpy() ** 2 if weighted else None
    reg_n = _loglog(log_c, log_n, weights, level)
    reg_d = _loglog(log_c, log_d, weights, level)

    a_boot = b_boot = None
    if n_resamples:
        index = np.flatnonzero(table["used"].to_numpy())
        matrix = np.vstack([draws[i] for i in index])  # (budgets, R) of ln N*
        slopes = _bootstrap_slopes(log_c, matrix, weights)
        a_boot = _percentile_interval(slopes, level)
        b_boot = _percentile_interval(1.0 - slopes, level)

    options = {"budget": grouping, "curve": curve, "degree": degree, "window": window,
               "log_loss": log_loss, "min_points": min_points, "bracket": bracket,
               "weighted": weighted,
               "n_resamples": n_resamples, "seed_noise": seed_noise,
               "se_method": ("none" if curve == "akima" and not n_resamples
                             else "resampling SD" if n_resamples else "delta method")}
    return IsoFLOPResult(
        budgets=table, a=reg_n["exponent"], a_interval=reg_n["exponent_interval"],
        a_se=reg_n["exponent_se"], b=reg_d["exponent"], b_interval=reg_d["exponent_interval"],
        b_se=reg_d["exponent_se"], N_coef=reg_n["coef"], N_coef_interval=reg_n["coef_interval"],
        D_coef=reg_d["coef"], D_coef_interval=reg_d["coef_interval"],
        n_budgets_used=len(used), n_budgets_excluded=len(excluded),
        n_runs=len(runs), confidence_level=level, flops_per_token=k, options=options,
        regression={"N": reg_n, "D": reg_d}, a_bootstrap_interval=a_boot,
        b_bootstrap_interval=b_boot)


# =========================================================================== Approach 1
@dataclass(frozen=True, eq=False)
class EnvelopeResult(_AllocationMixin):
    r"""Hoffmann et al. (2022) Approach 1: the loss-compute envelope and its power laws. Frozen.

    Attributes
    ----------
    envelope : pandas.DataFrame
        One row per grid compute value: ``C``, ``loss`` (the lowest
        interpolated loss of any run at C), ``N`` (size of the run attaining
        it), ``D`` (= C/(k N)), ``run`` (its run id), ``n_covering`` (runs whose
        checkpoints span C) and ``used`` (entered the regression: with
        ``bracket``, some run reaching C is smaller and some larger than N).
    a, b, a_interval, b_interval, a_se, b_se, N_coef, D_coef, N_coef_interval, D_coef_interval
        As in :class:`IsoFLOPResult`, from OLS over the used envelope points.
        These t intervals treat the grid points as independent, which they are
        not (see :func:`envelope_fit`): they are far too narrow.
    a_bootstrap_interval, b_bootstrap_interval : tuple of float or None
        Percentile intervals from resampling whole runs (``n_resamples > 0``).
    n_points_used : int
        Envelope points in the regression.
    n_runs, n_sizes, n_checkpoints : int
        Training runs, distinct sizes and rows (checkpoints) read.
    confidence_level, flops_per_token, options, regression
        As in :class:`IsoFLOPResult`.
    """

    envelope: pd.DataFrame
    a: float
    a_interval: tuple
    a_se: float
    b: float
    b_interval: tuple
    b_se: float
    N_coef: float
    N_coef_interval: tuple
    D_coef: float
    D_coef_interval: tuple
    n_points_used: int
    n_runs: int
    n_sizes: int
    n_checkpoints: int
    confidence_level: float
    flops_per_token: float
    options: dict = field(default_factory=dict)
    regression: dict = field(default_factory=dict, repr=False)
    a_bootstrap_interval: tuple | None = None
    b_bootstrap_interval: tuple | None = None

    def to_frame(self) -> pd.DataFrame:
        """A copy of the envelope table."""
        return self.envelope.copy()

    def sizes(self) -> pd.DataFrame:
        """Per size on the envelope: the compute range where it is the best run.

        Columns ``N``, ``C_from``, ``C_to``, ``n_points`` (envelope points it
        attains) and ``n_used`` (of those, points in the regression).
        """
        env = self.envelope.dropna(subset=["N"])
        grouped = env.groupby("N", sort=True)
        return pd.DataFrame({"C_from": grouped["C"].min(), "C_to": grouped["C"].max(),
                             "n_points": grouped.size(), "n_used": grouped["used"].sum()}
                            ).reset_index()

    def to_dict(self) -> dict:
        """Every field as plain types; ``envelope`` as a dict of columns."""
        doc = {
            "approach": "envelope",
            "a": self.a, "a_interval": list(self.a_interval), "a_se": self.a_se,
            "b": self.b, "b_interval": list(self.b_interval), "b_se": self.b_se,
            "N_coef": self.N_coef, "N_coef_interval": list(self.N_coef_interval),
            "D_coef": self.D_coef, "D_coef_interval": list(self.D_coef_interval),
            "a_bootstrap_interval": self.a_bootstrap_interval,
            "b_bootstrap_interval": self.b_bootstrap_interval,
            "n_points_used": self.n_points_used, "n_runs": self.n_runs,
            "n_sizes": self.n_sizes, "n_checkpoints": self.n_checkpoints,
            "confidence_level": self.confidence_level,
            "flops_per_token": self.flops_per_token,
            "options": dict(self.options),
            "regression": self.regression,
            "envelope": {c: self.envelope[c].tolist() for c in self.envelope.columns},
        }
        return _plain(doc)

    def summary(self) -> str:
        """A readable report: the sizes along the envelope and the fitted exponents."""
        used = self.envelope.loc[self.envelope["used"], "C"]
        lines = [
            "Minimum over training curves (Hoffmann et al. 2022, Approach 1)",
            f"runs       {self.n_runs} ({self.n_sizes} sizes, {self.n_checkpoints} checkpoints)",
            (f"envelope   {len(self.envelope)} log-spaced compute values, {self.n_points_used} "
            f"used (C {used.min():.3g}-{used.max():.3g})"),
            "regression OLS of ln N on ln C over the envelope points (dependent points: the "
            "t intervals are too narrow" + ("; see the bootstrap intervals)"
                                           if self.a_bootstrap_interval is not None else ")"),
            "", f"{'N':>10} {'C from':>10} {'C to':>10} {'points':>7} {'used':>5}",
        ]
        for row in self.sizes().itertuples():
            lines.append(f"{row.N:>10.4g} {row.C_from:>10.3g} {row.C_to:>10.3g} "
                         f"{row.n_points:>7d} {row.n_used:>5d}")
        lines += ["", *self._scalar_lines()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _envelope(matrix: np.ndarray, sizes: np.ndarray, rows: np.ndarray, bracket: bool):
    """Lower envelope of the ``rows`` of ``matrix`` (runs x grid).

    Returns (loss, run index, N, used mask) per grid point; NaN / -1 where no
    selected run covers the point. With ``bracket`` a point is used only if some
    run reaching that compute is smaller, and some larger, than the one attaining
    the envelope.
    """
    sub = matrix[rows]
    finite = np.isfinite(sub)
    covered = finite.any(axis=0)
    best = np.argmin(np.where(finite, sub, np.inf), axis=0)
    run = np.where(covered, rows[best], -1)
    loss = np.where(covered, sub[best, np.arange(sub.shape[1])], np.nan)
    n = np.where(covered, sizes[np.maximum(run, 0)], np.nan)
    used = covered.copy()
    if bracket:
        reach = sizes[rows][:, None]
        smallest = np.where(finite, reach, np.inf).min(axis=0)
        largest = np.where(finite, reach, -np.inf).max(axis=0)
        used &= (n > smallest) & (n < largest)
    return loss, run, n, used


def envelope_fit(runs: Any, *, run_column: str = "run_id", n_points: int = 1500,
                 bracket: bool = True, n_resamples: int = 0, rng=None,
                 confidence_level: float = 0.95,
                 flops_per_token: float | None = None) -> EnvelopeResult:
    r"""Hoffmann et al. (2022) Approach 1: fit N_opt ∝ C^a from the minimum over training curves.

    Every row is a checkpoint of a training run: its run id, the run's size
    ``N``, the tokens seen so far ``D`` and the loss there, so compute so far
    is ``C = k N D`` (or the ``C`` column when given). Following Hoffmann et
    al. (Sec 3.1, Fig 2; App D.1):

    1. each run's loss curve is linearly interpolated against ``ln C`` onto
       ``n_points`` log-spaced compute values spanning all checkpoints (a run
       contributes only between its first and last checkpoint: no
       extrapolation);
    2. at every grid value the lowest loss across runs is the envelope, and
       the size of the run attaining it is ``N(C)``, with ``D(C) = C/(k N)``;
    3. ``ln N = ln G_N + a ln C`` and ``ln D = ln G_D + b ln C`` are fitted by
       OLS (statsmodels) over the envelope points (``b = 1 - a``).

    Parameters
    ----------
    runs : Runs, DataFrame, dict or path
        Checkpoint rows with ``N``, ``loss``, tokens ``D`` (or ``C``) and the
        run id column.
    run_column : str
        Column identifying the run of each checkpoint (``N`` must be constant
        within a run).
    n_points : int
        Log-spaced compute values of the envelope (1,500 as Hoffmann et al.).
    bracket : bool
        Use only envelope points whose size is bracketed (default): some run
        that reaches that compute is smaller, and some larger, than the run
        attaining the envelope. Elsewhere the envelope is pinned to the
        smallest or largest size available there (at the lowest compute, say,
        only the early checkpoints of a few runs exist), which says nothing
        about the optimum; this is Approach 2's edge rule applied per compute.
    n_resamples : int
        Bootstrap over runs: resample the runs with replacement this many
        times, rebuild the envelope and refit, giving percentile intervals
        ``a_bootstrap_interval`` and ``b_bootstrap_interval``.
    rng : None, int or numpy.random.Generator
        Randomness of the bootstrap.
    confidence_level : float
        Two-sided level of every interval.
    flops_per_token : float, optional
        ``k``, for loading ``runs`` and ``D = C/(k N)``; default that of the runs.

    Returns
    -------
    EnvelopeResult

    Raises
    ------
    InputError
        For a bad argument, a missing run column, a run whose ``N`` changes, or
        an envelope attained by fewer than two sizes inside the edges.

    Warns
    -----
    ScalingLawsWarning
        When runs with a single checkpoint are skipped (they cannot be
        interpolated).

    Notes
    -----
    *Dependence.* The envelope's N is a step function of C (one step per
    trained size) evaluated at ~1,500 points, and neighbouring points share
    the same runs. OLS treats them as 1,500 independent observations, so its
    intervals understate the uncertainty by roughly the square root of the
    points per step; they are reported because they are what a naive fit
    gives, but the bootstrap over runs (``n_resamples``) is the honest
    interval. Hoffmann et al. bootstrap 80% subsamples of the runs for Table 2.

    *Discreteness.* With sizes spaced by a factor r the envelope N is off by up
    to a factor sqrt(r) from the continuous optimum; the regression through the
    staircase recovers the exponent when several steps are used.

    References
    ----------
    Hoffmann et al. (2022), "Training Compute-Optimal Large Language Models",
    Sec 3.1, Fig 2, Table 2 (a = 0.50, b = 0.50), App D.1.
    """
    runs = _load(runs, flops_per_token)
    if not isinstance(run_column, str) or run_column not in runs.frame.columns:
        raise InputError(f"`run_column`: no column {run_column!r} identifying the run of each "
                         f"checkpoint; columns: {runs.columns}")
    n_points = _check_int("n_points", n_points, 10)
    bracket = _check_bool("bracket", bracket)
    n_resamples = _check_int("n_resamples", n_resamples, 0)
    level = _check_level(confidence_level)
    generator = np.random.default_rng(rng)
    k = runs.flops_per_token
    ids = runs.frame[run_column]
    if ids.isna().any():
        row = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise InputError(f"`run_column`: column {run_column!r} is missing at {runs.row_label(row)}")
    N, C, L = runs.N, runs.C, runs.loss
    log_c = np.log(C)
    grid = np.linspace(log_c.min(), log_c.max(), n_points)
    curves, sizes, names, single = [], [], [], []
    for key, index in runs.frame.groupby(run_column, sort=True).indices.items():
        key = key.item() if isinstance(key, np.generic) else key
        n_run = N[index]
        if not np.all(n_run == n_run[0]):
            raise InputError(f"`run_column`: run {key!r} has several sizes N "
                             f"({n_run.min():.4g}-{n_run.max():.4g}); column {run_column!r} must "
                             "identify one training run")
        order = np.argsort(log_c[index], kind="stable")
        x, y = log_c[index][order], L[index][order]
        if np.unique(x).size < 2:
            single.append(key)
            continue
        x, first = np.unique(x, return_index=True)  # repeated C: keep the first checkpoint
        curves.append(np.interp(grid, x, y[first], left=np.nan, right=np.nan))
        sizes.append(n_run[0])
        names.append(key)
    if single:
        warnings.warn(f"envelope_fit: skipped {len(single)} run(s) with a single checkpoint "
                      f"(cannot interpolate): {single[:5]}{' ...' if len(single) > 5 else ''}",
                      ScalingLawsWarning, stacklevel=2)
    if len(curves) < 2:
        raise InputError(f"envelope_fit needs at least two runs with two or more checkpoints, "
                         f"found {len(curves)}")
    matrix, sizes = np.vstack(curves), np.asarray(sizes, float)
    all_rows = np.arange(len(sizes))
    loss, run, n_env, used = _envelope(matrix, sizes, all_rows, bracket)
    c_grid = np.exp(grid)
    covering = np.isfinite(matrix).sum(axis=0)
    table = pd.DataFrame({"C": c_grid, "loss": loss, "N": n_env, "D": c_grid / (k * n_env),
                          "run": [names[i] if i >= 0 else None for i in run],
                          "n_covering": covering, "used": used})
    on_envelope = np.unique(n_env[used])
    if on_envelope.size < 2:
        raise InputError(
            f"envelope_fit: the bracketed envelope is attained by "
            f"{on_envelope.size} size(s); at least two are needed for a slope (train more sizes, "
            "longer runs, or pass bracket=False)")
    log_cu = grid[used]
    reg_n = _loglog(log_cu, np.log(n_env[used]), None, level)
    reg_d = _loglog(log_cu, np.log(c_grid[used] / (k * n_env[used])), None, level)

    a_boot = b_boot = None
    if n_resamples:
        slopes = np.full(n_resamples, np.nan)
        for r in range(n_resamples):
            rows = np.unique(generator.integers(0, len(sizes), len(sizes)))
            _, _, n_r, used_r = _envelope(matrix, sizes, rows, bracket)
            if np.unique(n_r[used_r]).size >= 2:
                x = grid[used_r]
                y = np.log(n_r[used_r])
                slopes[r] = np.polyfit(x, y, 1)[0]
        a_boot = _percentile_interval(slopes, level)
        b_boot = _percentile_interval(1.0 - slopes, level)

    options = {"run_column": run_column, "n_points": n_points,
               "bracket": bracket, "n_resamples": n_resamples,
               "interpolation": "linear loss against ln C"}
    return EnvelopeResult(
        envelope=table, a=reg_n["exponent"], a_interval=reg_n["exponent_interval"],
        a_se=reg_n["exponent_se"], b=reg_d["exponent"], b_interval=reg_d["exponent_interval"],
        b_se=reg_d["exponent_se"], N_coef=reg_n["coef"], N_coef_interval=reg_n["coef_interval"],
        D_coef=reg_d["coef"], D_coef_interval=reg_d["coef_interval"],
        n_points_used=int(used.sum()), n_runs=len(sizes), n_sizes=int(np.unique(sizes).size),
        n_checkpoints=len(runs), confidence_level=level, flops_per_token=k, options=options,
        regression={"N": reg_n, "D": reg_d}, a_bootstrap_interval=a_boot,
        b_bootstrap_interval=b_boot)


# =========================================================================== synthetic data
#: Default sizes of :func:`synthetic_training_curves`: 70M to 10B, as Hoffmann's Approach 1.
DEFAULT_CURVE_SIZES = tuple(np.geomspace(7e7, 1e10, 12).tolist())
#: Default horizons, tokens per parameter at the end of the cosine schedule: four
#: spanning 16x, as Hoffmann et al. (App D.1).
DEFAULT_HORIZONS = tuple(np.geomspace(5.0, 80.0, 4).tolist())


def synthetic_training_curves(form: str | Form = "chinchilla",
                              params: Mapping[str, float] | None = None, *,
                              sizes: Sequence[float] = DEFAULT_CURVE_SIZES,
                              horizons: Sequence[float] = DEFAULT_HORIZONS,
                              n_checkpoints: int = 40, first_fraction: float = 0.01,
                              noise: float = 0.005, flops_per_token: float = 6.0,
                              rng=None) -> Runs:
    r"""Per-checkpoint training curves from a known law (input for :func:`envelope_fit`).

    For every size ``N`` in ``sizes`` and horizon ``h`` in ``horizons`` there is
    one run trained to ``D_H = h N`` tokens, logged at ``n_checkpoints``
    log-spaced fractions ``t`` of its horizon from ``first_fraction`` to 1.
    The checkpoint at ``D_t = t D_H`` gets the loss ``L(N, D_t)`` of the law
    times log-normal noise of relative SD ``noise`` (independent per
    checkpoint).

    Parameters
    ----------
    form : str or Form
        The true law; its inputs must be ``N`` and ``D`` (e.g. ``"chinchilla"``).
    params : dict, optional
        True parameters; default :data:`scalinglaws.synthetic.DEFAULT_TRUTH`.
    sizes : sequence of float
        Model sizes (default 12 from 70M to 10B).
    horizons : sequence of float
        Tokens per parameter at the end of each run (default 5 to 80).
    n_checkpoints : int
        Checkpoints per run.
    first_fraction : float
        Fraction of the horizon at the first checkpoint, in (0, 1).
    noise : float
        Relative SD of the multiplicative noise on each checkpoint's loss.
    flops_per_token : float
        ``k`` in ``C = k N D``.
    rng : None, int or numpy.random.Generator
        Source of the noise.

    Returns
    -------
    Runs
        Columns ``N``, ``D``, ``C``, ``loss``, ``step`` (checkpoint index),
        ``run_id`` and ``horizon`` (the run's final tokens ``D_H``).

    Notes
    -----
    Simplification: a checkpoint at fraction ``t`` of a cosine schedule is
    given the loss of a run *trained to* ``t D_H`` with its own matched
    schedule, which is what the law describes (Hoffmann et al. fit it to
    final losses). Real mid-schedule checkpoints are worse, since their
    learning rate has not decayed, which is why Hoffmann et al. train several
    horizons per size and take the envelope (Sec 3.1, App D.1); here the
    horizons only set how far each run reaches, and the envelope is
    ``min_i L(N_i, C/(k N_i))`` over the sizes that reach C, whose optimum
    follows ``N_opt ∝ C^{β/(α+β)}`` for the Chinchilla law.
    """
    form = get_form(form)
    if set(form.inputs) != {"N", "D"}:
        raise InputError(f"`form` {form.name!r} has inputs {form.inputs}; training curves need "
                         "a law of N and D")
    if params is None:
        from ..laws.synthetic import DEFAULT_TRUTH

        if form.name not in DEFAULT_TRUTH:
            raise InputError(f"no default parameters for form {form.name!r}; pass `params`")
        params = DEFAULT_TRUTH[form.name]
    arrays = {}
    for name, value in (("sizes", sizes), ("horizons", horizons)):
        array = np.asarray(value, dtype=float).ravel()
        if array.size == 0 or not np.all(np.isfinite(array)) or np.any(array <= 0):
            raise InputError(f"`{name}` must be a non-empty list of positive numbers, got {value!r}")
        arrays[name] = array
    n_checkpoints = _check_int("n_checkpoints", n_checkpoints, 2)
    first_fraction = _check_positive("first_fraction", first_fraction)
    if first_fraction >= 1:
        raise InputError(f"`first_fraction` must be in (0, 1), got {first_fraction!r}")
    if (isinstance(noise, (bool, np.bool_)) or not isinstance(noise, numbers.Real)
            or not math.isfinite(noise) or noise < 0):
        raise InputError(f"`noise` must be a finite number >= 0, got {noise!r}")
    k = _check_positive("flops_per_token", flops_per_token)
    generator = np.random.default_rng(rng)
    fractions = np.geomspace(first_fraction, 1.0, n_checkpoints)
    size, horizon, fraction = np.meshgrid(arrays["sizes"], arrays["horizons"], fractions,
                                          indexing="ij")
    n_runs = arrays["sizes"].size * arrays["horizons"].size
    N = size.ravel()
    final = (horizon * size).ravel()
    D = fraction.ravel() * final
    clean = form.predict(dict(params), N=N, D=D)
    loss = clean * np.exp(noise * generator.standard_normal(N.size))
    return Runs.from_arrays(N=N, D=D, C=k * N * D, loss=loss, flops_per_token=k,
                            run_id=np.repeat(np.arange(n_runs), n_checkpoints),
                            step=np.tile(np.arange(n_checkpoints), n_runs), horizon=final)
