r"""Power laws through compute-optimal points, shared by Hoffmann's Approaches 1 and 2.

Both approaches end the same way: a set of compute-optimal points ``(C, N*, D*)`` and
the log-log regressions

.. math:: \ln N^* = \ln G_N + a \ln C, \qquad \ln D^* = \ln G_D + b \ln C

(Hoffmann et al. 2022, Sec 3.1-3.2, Table 2). This module holds that shared end: the
regression (statsmodels OLS or WLS, t intervals), the vectorised slope of resampled
optima, percentile intervals (warned about when the draws are few),
:class:`OptimaResult` (the fields and methods both results share, ``predict_optimal``
among them), and the allocation table with the package's one vocabulary
(``C``, ``N``, ``D``, ``tokens_per_parameter``, ``N_low``...), whose former column
names (``N_opt``, ``tokens_per_param``...) still work with a ``FutureWarning``.
"""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .._draws import warn_few_draws
from .._exceptions import InputError, ScalingLawsDeprecationWarning, user_stacklevel
from .._validation import FrozenOnUnpickle
from .._validation import deep_freeze, readonly_array

#: how ``predict_optimal``'s interval is made, by kind (the table's ``attrs["method"]``;
#: its ``attrs["interval"]`` is the kind of interval, "confidence", as every allocation's)
INTERVAL_KINDS = types.MappingProxyType({
    "bootstrap": "bootstrap percentile (the resampled optima's lines)",
    "t": "t interval of the regression line (optima taken as independent)",
    "t_minima": ("t interval of the regression line, or where wider of the minima's own "
                 "standard errors carried through it (Welch-Satterthwaite df)"),
})

#: former column names of ``predict_optimal`` -> the package's vocabulary
DEPRECATED_COLUMNS = types.MappingProxyType({
    "N_opt": "N", "N_opt_low": "N_low", "N_opt_high": "N_high",
    "D_opt": "D", "D_opt_low": "D_low", "D_opt_high": "D_high",
    "tokens_per_param": "tokens_per_parameter",
})


# =========================================================================== frozen data
def frozen_array(value: Any) -> np.ndarray | None:
    """A read-only float copy of ``value`` (None stays None)."""
    return None if value is None else readonly_array(value)


# =========================================================================== regression
def loglog_regression(log_c: np.ndarray, log_y: np.ndarray, weights: np.ndarray | None,
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


class LineError(NamedTuple):
    """The t interval of a fitted line's log-optimum at some budgets: ``se``, ``df`` and the
    quantile ``t`` per budget, and the interval's ``kind`` (a key of ``INTERVAL_KINDS``)."""

    se: np.ndarray
    df: np.ndarray
    t: np.ndarray
    kind: str


def minima_line_error(budgets: np.ndarray, se: np.ndarray, df: np.ndarray,
                      compute: np.ndarray):
    """Standard error and Welch-Satterthwaite df of the OLS line's ``ln N`` at ``compute``
    from the optima's own standard errors ``se`` (each on ``df`` residual degrees of
    freedom) at ``budgets``: ``ln N = sum_i L_i y_i`` has variance ``sum_i L_i^2 se_i^2``.
    None with fewer than 3 optima or an error that is not finite and positive or rests
    on under 3 df.

    Why: on 600 synthetic sweeps the parabola minima's SD grew from 0.043 (smallest
    budget) to 0.086 (largest), which the regression's pooled variance averages away:
    its t interval alone held the true N_opt 89.3 / 91.2 / 91.8% of the time at 1x /
    10x / 100x the largest budget; the wider of it and this one, 96.2 / 96.2 / 97.3%.
    On Porian et al.'s profiles the minima scatter about the line 5x more (in variance)
    than these errors say, so there the regression's interval is the wider one.
    """
    se, df = np.asarray(se, dtype=float), np.asarray(df, dtype=float)
    if len(se) < 3 or not (np.all(np.isfinite(se) & (se > 0)) and np.all(df >= 3)):
        return None
    X = np.column_stack([np.ones(len(se)), np.log(np.asarray(budgets, dtype=float))])
    x = np.column_stack([np.ones_like(compute), np.log(compute)])
    weights = x @ np.linalg.solve(X.T @ X, X.T)  # (targets, optima): ln N = weights @ y
    terms = weights ** 2 * se ** 2
    variance = terms.sum(axis=1)
    return np.sqrt(variance), variance ** 2 / (terms ** 2 / df).sum(axis=1)


def bootstrap_lines(log_c: np.ndarray, draws: np.ndarray,
                    weights: np.ndarray | None) -> np.ndarray:
    """``(R, 2)`` intercept and slope of the (weighted) least-squares line of every column
    of ``draws`` on ``log_c``.

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
    return np.column_stack([ym - slope * xm, slope])


def bootstrap_slopes(log_c: np.ndarray, draws: np.ndarray,
                     weights: np.ndarray | None) -> np.ndarray:
    """Slope of :func:`bootstrap_lines` for every column of ``draws``."""
    return bootstrap_lines(log_c, draws, weights)[:, 1]


def percentile_interval(values: np.ndarray, level: float) -> tuple[float, float]:
    """Equal-tailed percentile interval of the finite ``values`` (NaNs if fewer than two,
    as the bootstrap's: one draw is no interval, and gave one of zero width)."""
    values = values[np.isfinite(values)]
    if values.size < 2:
        return (math.nan, math.nan)
    tail = 50.0 * (1.0 - level)
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return (float(low), float(high))


def resampled_intervals(a_draws: np.ndarray, b_draws: np.ndarray, level: float,
                        label: str) -> tuple[tuple, tuple]:
    """:func:`percentile_interval` of the resampled exponents ``a`` and ``b``, with the
    bootstrap's warning when their finite draws are too few for ``level``
    (:func:`scalinglaws._draws.warn_few_draws`, its message starting with ``label``)."""
    warn_few_draws(np.isfinite(a_draws).sum(), level, label=label, stacklevel=user_stacklevel())
    return percentile_interval(a_draws, level), percentile_interval(b_draws, level)


# =========================================================================== the allocation table
def _current_name(key: Any, columns) -> Any:
    if isinstance(key, str) and key in DEPRECATED_COLUMNS and key not in columns:
        new = DEPRECATED_COLUMNS[key]
        warnings.warn(f"column {key!r} of predict_optimal() is now {new!r} (the package's "
                      f"vocabulary: C, N, D, tokens_per_parameter); {key!r} will be removed",
                      ScalingLawsDeprecationWarning, stacklevel=3)
        return new
    return key


class AllocationFrame(pd.DataFrame):
    """A :class:`pandas.DataFrame` whose former column names still work, with a warning.

    ``table["N_opt"]`` and ``table.N_opt`` return the ``N`` column and emit a
    ``FutureWarning``; every operation returns a plain DataFrame.
    """

    @property
    def _constructor(self):
        return pd.DataFrame

    def __getitem__(self, key):
        if isinstance(key, list):
            key = [_current_name(k, self.columns) for k in key]
        else:
            key = _current_name(key, self.columns)
        return super().__getitem__(key)

    def __getattr__(self, name):
        if name in DEPRECATED_COLUMNS:
            return self[name]
        return super().__getattr__(name)


@dataclass(frozen=True, eq=False, kw_only=True)
class OptimaResult(FrozenOnUnpickle):
    """What the results of Approaches 1 and 2 share: the power laws through the optima.

    Frozen, with read-only mappings and arrays. The attributes are documented on
    :class:`~scalinglaws.fitting.isoflop.IsoFLOPResult`; the methods here are
    ``predict_optimal``, the scalar part of ``to_dict`` and the summary lines.
    """

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
    confidence_level: float
    flops_per_token: float | None
    options: Mapping = field(default_factory=dict)
    regression: Mapping = field(default_factory=dict, repr=False)
    a_bootstrap_interval: tuple | None = None
    b_bootstrap_interval: tuple | None = None
    a_bootstrap: np.ndarray | None = field(default=None, repr=False)
    b_bootstrap: np.ndarray | None = field(default=None, repr=False)
    N_line_bootstrap: np.ndarray | None = field(default=None, repr=False)
    D_line_bootstrap: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "options", deep_freeze(self.options))
        object.__setattr__(self, "regression", deep_freeze(self.regression))
        for name in ("a_bootstrap", "b_bootstrap", "N_line_bootstrap", "D_line_bootstrap"):
            object.__setattr__(self, name, frozen_array(getattr(self, name)))

    @property
    def flops_per_token_range(self) -> tuple[float, float] | None:
        """``(low, high)`` of C/(N D) along the optima when no one ``k`` made their D (then
        :attr:`flops_per_token` is None), else None; see
        :attr:`IsoFLOPResult.flops_per_token_range
        <scalinglaws.fitting.isoflop.IsoFLOPResult.flops_per_token_range>` and
        :attr:`EnvelopeResult.flops_per_token_range
        <scalinglaws.fitting.envelope.EnvelopeResult.flops_per_token_range>`."""
        return None

    def _compute_fields(self) -> dict:
        """What C = k N D is, as :meth:`to_dict` and :meth:`predict_optimal`'s ``attrs``
        say it: ``flops_per_token`` (k, or None when no one k made the optima's D: C the
        table's own FLOP column, or a FLOP model of the user's) and then
        ``flops_per_token_range`` (C/(N D) along the optima)."""
        k = self.flops_per_token
        fields = {"flops_per_token": None if k is None else float(k)}
        span = self.flops_per_token_range
        if span is not None:
            fields["flops_per_token_range"] = [float(span[0]), float(span[1])]
        return fields

    def _bootstrap_covers(self) -> bool:
        """Whether ``interval="auto"`` takes the bootstrap's lines (Approach 1: always; the
        t interval held the truth at 100x the largest compute in 44 of 100 sweeps)."""
        return True

    def _minima_error(self, compute: np.ndarray, name: str):
        """Standard error and Welch-Satterthwaite df of the line's ``ln N`` (or ``ln D``) at
        ``compute`` from the optima's own standard errors, or None where they are not known
        (Approach 1: its envelope points have none)."""
        return None

    def _line_error(self, compute: np.ndarray, name: str) -> "LineError":
        """Standard error, degrees of freedom, t quantile and kind of the fitted line's
        ``ln N`` (``name`` "N") or ``ln D`` at ``compute``, for its t interval: the
        regression's (scatter of the optima about the line; kind ``"t"``), or, where
        :meth:`_minima_error` knows the optima's own errors (kind ``"t_minima"``) and
        their interval is wider, that one (:func:`minima_line_error`)."""
        from scipy import stats

        reg = self.regression[name]
        x = np.column_stack([np.ones_like(compute), np.log(compute)])
        se = np.sqrt(np.einsum("ij,jk,ik->i", x, np.asarray(reg["cov"], dtype=float), x))
        df = np.full(compute.shape, float(reg["df_resid"]))
        q = 0.5 + self.confidence_level / 2
        with np.errstate(invalid="ignore"):
            t = np.where(df > 0, stats.t.ppf(q, np.where(df > 0, df, 1.0)), math.nan)
        extra = self._minima_error(compute, name)
        if extra is None or not reg["df_resid"] > 0:
            return LineError(se, df, t, "t")
        se_minima, df_minima = extra
        t_minima = stats.t.ppf(q, df_minima)
        wider = t_minima * se_minima > t * se
        return LineError(np.where(wider, se_minima, se), np.where(wider, df_minima, df),
                         np.where(wider, t_minima, t), "t_minima")

    def predict_optimal(self, compute: Any, *, interval: str = "auto") -> pd.DataFrame:
        r"""Compute-optimal N and D at ``compute`` from the fitted power laws.

        ``N = G_N C^a`` and ``D = G_D C^b``, with an interval at ``confidence_level``
        for the fitted *line* (the expected log-optimum, not a new budget's noisy
        minimum); far outside the fitted budgets it rests entirely on the power law
        holding there.

        Parameters
        ----------
        compute : float or array_like
            Budgets C in FLOP (finite, positive).
        interval : {"auto", "bootstrap", "t"}
            ``"bootstrap"``: percentiles of the resampled optima's lines at each C
            (needs ``n_resamples`` > 0 in the fit); ``"t"``: the regression's t
            interval, ``ln N ± t_{df} sqrt(x' V x)`` for ``x = [1, ln C]`` and ``V`` the
            covariance of intercept and slope, which treats the optima as independent
            (too narrow for Approach 1, whose envelope points are not); for Approach 2's
            polynomial minima the wider of that and the minima's own standard errors
            carried through the line (:meth:`_line_error`); ``"auto"``
            (default): the bootstrap when the fit has one and its kind of resampling
            covers (:meth:`_bootstrap_covers`), else t.

        Returns
        -------
        pandas.DataFrame
            One row per budget: ``C``, ``N``, ``N_low``, ``N_high``, ``D``,
            ``D_low``, ``D_high``, ``tokens_per_parameter`` (= D/N); ``attrs``
            holds, as every allocation table's, ``interval`` ("confidence": an interval
            for the line), ``method`` (how it is made: bootstrap percentile or which t
            interval), ``confidence_level``, ``flops_per_token`` (k in C = k N D; None
            when no one k made the optima's D, with ``flops_per_token_range``, C/(N D)
            along the optima; D is then the line through the optima's own D, never
            C/(k N)) and, for the bootstrap, ``n_draws`` (the resampled lines used). The
            former
            names (``N_opt``, ``N_opt_low``, ``D_opt``..., ``tokens_per_param``)
            still select the same columns, with a ``FutureWarning``.
        """
        try:
            c = np.atleast_1d(np.asarray(compute, dtype=float)).ravel()
        except (TypeError, ValueError):
            raise InputError(f"`compute` must be finite positive FLOP counts, got {compute!r}") \
                from None
        if c.size == 0 or not np.all(np.isfinite(c)) or np.any(c <= 0):
            raise InputError(f"`compute` must be finite positive FLOP counts, got {compute!r}")
        if interval not in ("auto", "bootstrap", "t"):
            raise InputError(f"`interval` must be 'auto', 'bootstrap' or 't', got {interval!r}")
        resampled = self.N_line_bootstrap is not None and self.D_line_bootstrap is not None
        if interval == "bootstrap" and not resampled:
            raise InputError("`interval`='bootstrap' needs a fit with n_resamples > 0")
        use_bootstrap = resampled and (interval == "bootstrap"
                                       or (interval == "auto" and self._bootstrap_covers()))
        x = np.column_stack([np.ones_like(c), np.log(c)])
        out = {"C": c}
        kind, n_draws = "t", []
        for name in ("N", "D"):
            reg = self.regression[name]
            params = np.asarray(reg["params"])
            centre = x @ params
            if use_bootstrap:
                lines = getattr(self, f"{name}_line_bootstrap")
                lines = lines[np.all(np.isfinite(lines), axis=1)]
                n_draws.append(len(lines))
                tail = 50.0 * (1.0 - self.confidence_level)
                low, high = (np.percentile(lines @ x.T, [tail, 100.0 - tail], axis=0)
                             if len(lines) >= 2 else (np.full(c.size, np.nan),) * 2)
            else:
                line = self._line_error(c, name)
                kind = line.kind
                low, high = centre - line.t * line.se, centre + line.t * line.se
            out[name] = np.exp(centre)
            out[f"{name}_low"] = np.exp(low)
            out[f"{name}_high"] = np.exp(high)
        out["tokens_per_parameter"] = out["D"] / out["N"]
        frame = AllocationFrame(out)
        kind = "bootstrap" if use_bootstrap else kind
        frame.attrs.update(interval="confidence", method=INTERVAL_KINDS[kind],
                           confidence_level=self.confidence_level, **self._compute_fields())
        if use_bootstrap:
            frame.attrs["n_draws"] = min(n_draws)
        return frame

    def _scalar_dict(self) -> dict:
        """The exponents, coefficients and their intervals as plain values."""
        return {
            "a": self.a, "a_interval": list(self.a_interval), "a_se": self.a_se,
            "b": self.b, "b_interval": list(self.b_interval), "b_se": self.b_se,
            "N_coef": self.N_coef, "N_coef_interval": list(self.N_coef_interval),
            "D_coef": self.D_coef, "D_coef_interval": list(self.D_coef_interval),
            "a_bootstrap_interval": self.a_bootstrap_interval,
            "b_bootstrap_interval": self.b_bootstrap_interval,
            "a_bootstrap": self.a_bootstrap, "b_bootstrap": self.b_bootstrap,
            "N_line_bootstrap": self.N_line_bootstrap, "D_line_bootstrap": self.D_line_bootstrap,
            "confidence_level": self.confidence_level, **self._compute_fields(),
            "options": self.options, "regression": self.regression,
        }

    def __str__(self) -> str:
        return self.summary()

    def _scalar_lines(self) -> list[str]:
        level = f"{100 * self.confidence_level:g}%"
        t_head = f"{level} t interval (regression)"
        rows = []
        for name, value, interval, boot in (
                ("a", self.a, self.a_interval, self.a_bootstrap_interval),
                ("b", self.b, self.b_interval, self.b_bootstrap_interval)):
            rows.append((name, f"{value:.4f}", f"[{interval[0]:.4f}, {interval[1]:.4f}]",
                         "" if boot is None else f"[{boot[0]:.4f}, {boot[1]:.4f}]"))
        for name, value, interval in (("G_N", self.N_coef, self.N_coef_interval),
                                      ("G_D", self.D_coef, self.D_coef_interval)):
            rows.append((name, f"{value:.4g}", f"[{interval[0]:.4g}, {interval[1]:.4g}]", ""))
        width = max(len(t_head), *(len(r[2]) for r in rows))
        boot_head = (f"   {level} bootstrap percentile"
                     if self.a_bootstrap_interval is not None else "")
        lines = [f"{'':<10}{'value':>10}  {t_head:<{width}}{boot_head}".rstrip()]
        for name, value, t_text, boot_text in rows:
            lines.append(f"{name:<10}{value:>10}  {t_text:<{width}}"
                         f"{'   ' + boot_text if boot_text else ''}".rstrip())
        return lines
