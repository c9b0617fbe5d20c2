r"""One IsoFLOP profile: fit a curve of the loss against ln N and find its minimum.

Used by :func:`scalinglaws.fitting.isoflop.isoflop_fit` (Hoffmann et al. 2022,
Approach 2) for every compute budget. The curve is a least-squares polynomial in
``x = ln N`` (the parabola of Hoffmann et al., any degree, optionally on a window of
sizes around the lowest loss) or the Akima interpolant of Porian et al. (2024); its
minimum comes with a standard error (delta method, or the spread over resampled
profiles) and a status saying whether it can be trusted.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._draws import check_n_resamples
from .._exceptions import InputError, ScalingLawsWarning, user_stacklevel
from .._validation import check_bool, check_int, check_positive

#: Curves :func:`scalinglaws.isoflop_fit` can fit to each IsoFLOP profile.
CURVES = ("parabola", "poly", "akima")

_GRID = 2001  # evaluation points for the minimum of an Akima interpolant / high-degree poly
_UNSTABLE = 0.5  # budgets whose resampled minimum is on the edge more often are excluded
# A run is an outlier of its profile when its externally studentized residual is
# significant at this level after Bonferroni's correction for the profile's runs (the
# test statsmodels' OLSResults.outlier_test(method="bonf") makes): a run that diverged or
# was logged wrong, which would otherwise bend the parabola and move its minimum. At 1e-3,
# 1 of 3,600 budgets of clean synthetic sweeps (1% noise) was flagged (p = 8.9e-4); a
# diverged run among 7 scored 6.6e-5 (a new user's sweep); with few runs per budget (few
# degrees of freedom) even a gross outlier cannot score much lower
_OUTLIER_ALPHA = 1e-4
# ... and lies off its profile by more than this share of the loss: on noise-free data the
# leave-one-out scale is rounding error, and a studentized residual of rounding is no finding
_OUTLIER_FLOOR = 1e-3
#: A fitted polynomial misfits its profile when its residual SD over the runs it fits
#: exceeds this share of the loss: the loss of one configuration varies from seed to seed
#: by well under 1%, so 3% is a curve of the wrong shape (a parabola over a wide range of
#: sizes). Measured: Porian et al.'s full profiles, 21 of 155 budgets above 3% (up to
#: 5.1%), whose parabola minima lie up to 0.17 nats below the lowest run; synthetic
#: sweeps of the right shape (100 of each, 9 budgets of 12 sizes): none at 0.5% or 1%
#: noise, 11 of 100 sweeps at 2% noise (a residual SD of 1.5 noise SDs by chance)
MISFIT_RESIDUAL_SD = 0.03


def check_profile_options(*, curve, degree, window, log_loss, min_points, bracket, weighted,
                          n_resamples, seed_noise) -> dict:
    """Every per-budget option of :func:`scalinglaws.isoflop_fit`, validated."""
    if curve not in CURVES:
        raise InputError(f"`curve` must be one of {', '.join(CURVES)}, got {curve!r}")
    degree = check_int("degree", degree, 2)
    if curve == "parabola" and degree != 2:
        raise InputError(f"`degree`={degree} needs curve='poly' (a parabola has degree 2)")
    if curve == "akima" and degree != 2:
        raise InputError("`degree` applies to curve='poly', not to 'akima'")
    min_points = check_int("min_points", min_points, max(3, degree + 1))
    if window is not None:
        if curve == "akima":
            raise InputError("`window` applies to polynomial curves, not to curve='akima'")
        window = check_int("window", window, degree + 1)
    log_loss = (curve == "akima") if log_loss is None else check_bool("log_loss", log_loss)
    weighted = check_bool("weighted", weighted)
    bracket = check_bool("bracket", bracket)
    n_resamples = check_n_resamples(n_resamples, none=True)  # the bootstrap's minimum
    if seed_noise is not None:
        seed_noise = check_positive("seed_noise", seed_noise)
    if curve == "akima" and n_resamples and seed_noise is None:
        raise InputError("curve='akima' interpolates every point, so it has no residuals to "
                         "resample: give `seed_noise` (relative SD of the loss) with `n_resamples`")
    if weighted and curve == "akima" and not n_resamples:
        raise InputError("`weighted`=True needs standard errors of the minima; with "
                         "curve='akima' pass `n_resamples` and `seed_noise`")
    return {"curve": curve, "degree": degree, "window": window, "log_loss": log_loss,
            "min_points": min_points, "bracket": bracket, "weighted": weighted,
            "n_resamples": n_resamples, "seed_noise": seed_noise}


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


def _outlier(V: np.ndarray, y: np.ndarray):
    """``(index, Bonferroni p)`` of the run with the largest externally studentized
    residual of the least-squares fit ``y ~ V`` when it is an outlier (see
    :data:`_OUTLIER_ALPHA`), else None. Needs two more runs than coefficients."""
    n, p = V.shape
    if n < p + 2:
        return None
    from scipy import stats

    coefs, *_ = np.linalg.lstsq(V, y, rcond=None)
    resid = y - V @ coefs
    hat = np.einsum("ij,jk,ik->i", V, np.linalg.pinv(V.T @ V), V)
    keep = 1.0 - hat
    with np.errstate(divide="ignore", invalid="ignore"):
        left_out_sse = np.maximum(resid @ resid - resid**2 / keep, 0.0)  # SSE without run i
        t = resid / np.sqrt(left_out_sse / (n - p - 1) * keep)
    t = np.where((keep > 1e-12) & (np.abs(resid) > _OUTLIER_FLOOR * np.abs(y)),
                 np.abs(np.nan_to_num(t, nan=0.0, posinf=np.inf)), 0.0)
    index = int(np.argmax(t))
    p_value = min(1.0, n * 2 * float(stats.t.sf(t[index], n - p - 1)))
    return (index, p_value) if p_value < _OUTLIER_ALPHA else None


def _window(x: np.ndarray, y: np.ndarray, window: int | None) -> slice:
    """The ``window`` consecutive points centred on the lowest one (all points if None)."""
    n = len(x)
    if window is None or window >= n:
        return slice(0, n)
    low = int(np.argmin(y)) - window // 2
    low = min(max(low, 0), n - window)
    return slice(low, low + window)


def profile_curve(x, y, *, curve, degree, window, points: int = 200):
    """The curve :func:`fit_profile` fits to one profile, evaluated on ``points`` values of
    ``x`` spanning the points it uses (for figures).

    ``x`` is ln N (sorted, distinct) and ``y`` the loss or ln loss, as for
    :func:`fit_profile`; the window, centring and least squares are the fit's own.
    Returns ``(grid, values)``, both on the scales of ``x`` and ``y``.
    """
    if curve == "akima":
        from scipy.interpolate import Akima1DInterpolator

        grid = np.linspace(x[0], x[-1], points)
        return grid, Akima1DInterpolator(x, y)(grid)
    part = _window(x, y, window)
    xs, ys = x[part], y[part]
    centre = xs.mean()
    coefs = np.linalg.lstsq(_design(xs - centre, degree), ys, rcond=None)[0]
    grid = np.linspace(xs[0], xs[-1], points)
    return grid, _design(grid - centre, degree) @ coefs


def fit_profile(x, y, *, curve, degree, window, bracket, n_resamples, seed_noise, log_loss,
                 generator) -> dict:
    """Fit one IsoFLOP profile (x = ln N sorted, y = loss or ln loss) and find its minimum.

    Returns a dict: ``x`` (ln N*, NaN unless the status is ok), ``se`` (its standard
    error: delta method, or the SD of the resampled minima), ``y`` (the curve at its
    minimum), ``status`` and ``reason`` (see :data:`scalinglaws.fitting.isoflop.STATUSES`),
    ``n_fitted`` (points the curve used), ``draws`` (ln N* per resample, NaN where the
    resampled minimum was not interior; None without resampling), ``edge_fraction`` and
    ``residual_sd`` (the polynomial's residual SD as a share of the loss; NaN for Akima,
    which passes through every run, and with no residual degrees of freedom).
    Options as in :func:`scalinglaws.isoflop_fit`.
    """
    out = {"x": math.nan, "se": math.nan, "y": math.nan, "status": "ok", "reason": "",
           "n_fitted": len(x), "draws": None, "edge_fraction": math.nan,
           "residual_sd": math.nan}
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
    if curve != "akima":
        outlier = _outlier(_design(u, degree), ys)
        if outlier is not None:
            index, p_value = outlier
            out.update(x=math.nan, y=math.nan, status="outlier",
                       reason=f"the run at N = {np.exp(xs[index]):.4g} (loss {ys[index]:.5g}) "
                              f"is an outlier of this profile (Bonferroni p = {p_value:.2g}): "
                              "a diverged or mislogged run bends the curve; drop it or check it")
            return out

    if curve != "akima":  # delta method, from the OLS covariance of the coefficients
        p = degree + 1
        V = _design(u, degree)
        coefs = np.linalg.lstsq(V, ys, rcond=None)[0]
        resid = ys - V @ coefs
        if len(xs) > p:
            sigma2 = float(resid @ resid) / (len(xs) - p)
            relative = resid if log_loss else resid / ys  # residuals as shares of the loss
            out["residual_sd"] = float(np.sqrt(relative @ relative / (len(xs) - p)))
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


def warn_misfits(label: str, misfits: list, n_used: int, merged) -> None:
    """Warn that a polynomial misses its runs by more than :data:`MISFIT_RESIDUAL_SD` at
    ``misfits`` (``(C, residual SD, curve minimum, lowest run)`` per budget); ``merged``
    joins the per-budget texts."""
    warnings.warn(f"{label}: the fitted curve misses the runs by more than "
                  f"{MISFIT_RESIDUAL_SD:.0%} of the loss (residual SD) at {len(misfits)} "
                  f"of {n_used} budgets, far more than seed noise: a curve of the wrong "
                  "shape, whose minima are not to be trusted; fit fewer sizes around each "
                  "minimum (`window`, e.g. 5) or curve='akima'. "
                  + merged([f"C={c:.4g} (SD {sd:.1%}; minimum {minimum:.4g} vs lowest "
                            f"run {low:.4g})" for c, sd, minimum, low in misfits]),
                  ScalingLawsWarning, stacklevel=user_stacklevel())
