"""The profile objective of a Chinchilla fit over (alpha, beta), with the optimum marked
(:func:`scalinglaws.fitting.varpro.profile_objective`)."""

from __future__ import annotations

import numpy as np

from ..._exceptions import InputError
from ..._validation import check_confidence_level, check_int
from ._checks import check_canvas, check_cmap, check_result, check_runs
from ._style import new_axes

__all__ = ["profile"]


def profile(result, runs, *, alphas=None, betas=None, size: int = 41,
            confidence_level: float = 0.95, intervals: bool = True, cmap: str = "viridis",
            ax=None, figsize=None):
    """Profile objective over the exponents (alpha, beta) of a Chinchilla fit.

    Every cell holds ``min over (E, A, B)`` of the fit's objective with ``(alpha, beta)``
    fixed (variable projection: the scales are solved for each cell). The colour is the
    robust likelihood-ratio statistic ``2 [P(alpha, beta) - f_min] / c`` of
    :mod:`scalinglaws.uncertainty.profile` (log scale); the black contour is the joint
    ``confidence_level`` region (statistic <= chi-square quantile with 2 degrees of
    freedom), the star the fit's optimum, and the dashed lines the one-parameter profile
    intervals of alpha and beta (``intervals=False`` skips them: each costs a few seconds).

    Parameters
    ----------
    result : FitResult
        A Chinchilla fit with every parameter free.
    runs : Runs, DataFrame or path
        Its runs.
    alphas, betas : array_like, optional
        Grid axes. Default: ``size`` values over the estimate +- max(20%, 0.06).
    size : int
        Grid points per axis when the axes are not given (5 to 201).
    confidence_level : float
    intervals : bool
        Draw the one-parameter profile intervals.
    cmap : str
    ax : matplotlib Axes, optional
    figsize : (float, float), optional
        Size in inches of the new figure (default 6.4 x 5.2); not with ``ax``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import scalinglaws as sl
    >>> from scalinglaws import plot
    >>> runs = sl.generate_sweep(noise=0.01, rng=5)
    >>> ax = plot.profile(sl.fit(runs), runs, size=9, intervals=False)
    >>> ax.get_xlabel()
    'α (exponent of N)'
    """
    from scipy import stats

    from ...uncertainty.profile import profile_intervals, profile_map

    check_result(result)
    runs = check_runs(runs, fit=result)
    level = check_confidence_level(confidence_level)
    size = check_int("size", size, 5)
    if size > 201:
        raise InputError(f"`size` must be at most 201 (a {size}x{size} grid is slow), got {size}")
    check_cmap("cmap", cmap)
    check_canvas(ax, figsize)
    if result.form.name != "chinchilla" or tuple(result.free_params) != result.form.param_names:
        raise InputError("`result` must be a chinchilla fit with every parameter free")
    axes = []
    for name, given in (("alphas", alphas), ("betas", betas)):
        centre = result.params[name[:-1]]
        if given is None:
            half = max(0.2 * centre, 0.06)
            given = np.linspace(max(centre - half, 0.0), centre + half, size)
        given = np.asarray(given, dtype=float).ravel()
        if given.size < 2 or not np.all(np.isfinite(given)) or np.any(np.diff(given) <= 0):
            raise InputError(f"`{name}` must be at least 2 finite increasing values")
        axes.append(given)
    alphas, betas = axes
    statistic = profile_map(result, runs, alphas, betas).statistic
    import matplotlib.colors as mcolors

    ax = new_axes(ax, figsize, default=(6.4, 5.2))
    floor = 0.1  # the colour resolves the statistic from 0.1 (well inside any region) up
    shown = np.clip(statistic, floor, None).T
    mesh = ax.pcolormesh(alphas, betas, shown, cmap=cmap, shading="nearest",
                         norm=mcolors.LogNorm(vmin=floor, vmax=float(np.nanmax(shown))))
    ax.figure.colorbar(mesh, ax=ax, label="2 (P − P_min) / c   (robust LR statistic)")
    region = stats.chi2.ppf(level, 2)
    ax.contour(alphas, betas, statistic.T, levels=[region], colors="black", linewidths=1.5)
    ax.plot([], [], color="black", lw=1.5, label=_region_label(result, level))
    ax.plot(result.params["alpha"], result.params["beta"], marker="*", markersize=14,
            color="red", markeredgecolor="black", linestyle="none",
            label=f"optimum α={result.params['alpha']:.4f}, β={result.params['beta']:.4f}")
    if intervals:
        found = profile_intervals(result, runs, confidence_level=level)
        for name, draw in (("alpha", ax.axvline), ("beta", ax.axhline)):
            for value in (found[name].low, found[name].high):
                if np.isfinite(value):
                    draw(value, color="#d95f02", linestyle="--", linewidth=1.3)
        ax.plot([], [], color="#d95f02", linestyle="--",
                label=f"profile {100 * level:g}% intervals of α and β")
    ax.set_xlabel("α (exponent of N)")
    ax.set_ylabel("β (exponent of D)")
    ax.set_title("Profile objective over (α, β): E, A, B solved in every cell")
    ax.legend(loc="upper right", fontsize="small", framealpha=0.8)
    return ax


def _region_label(result, level: float) -> str:
    """The joint region's legend entry: asymptotic, and at 95% what it covered in the
    simulation (60 sweeps, README; tests/uncertainty/test_profile.py): 51 of 60 (about 85%)
    under Huber delta = 1e-3, the default, and 56 (about 93%) under squared loss."""
    label = f"joint {100 * level:g}% region (asymptotic"
    options = getattr(result, "options", None) or {}
    simulated = {("huber", 1e-3): "85%", ("squared", None): "93%"}.get(
        (options.get("loss"), options.get("delta")))
    if level == 0.95 and simulated:
        return f"{label}; covered about {simulated} in simulation)"
    return f"{label})"
