"""The corner plot of bootstrap draws: histograms and pairwise scatter with correlations."""

from __future__ import annotations

import numpy as np

from ..._exceptions import InputError
from ..._validation import check_int
from ._checks import check_figsize
from ._style import GREEK, pyplot

__all__ = ["bootstrap_corner"]

#: More histogram bins than this draw nothing a reader can see.
MAX_BINS = 1000


def bootstrap_corner(bootstrap_result, params=None, fig=None, *, bins: int = 25,
                     max_points: int = 4000, figsize=None):
    """Corner plot of bootstrap draws: histograms on the diagonal, pairwise scatter below.

    Shows how the parameters trade off between resamples, e.g. the ridge between an
    exponent and its scale (alpha-A, beta-B for Chinchilla). Scale parameters
    (``form.log_params``: E, A, B...) are drawn on log axes; each panel gives the
    correlation (of the logs for scale parameters) and marks the full-data estimate.

    Parameters
    ----------
    bootstrap_result : BootstrapResult or FitResult
        Draws of :func:`scalinglaws.bootstrap.bootstrap` (or a fit carrying them).
    params : sequence of str, optional
        Parameters shown (default: every parameter that varies between draws).
    fig : matplotlib Figure, optional
        Figure to draw into (cleared); a new one when None.
    bins : int
        Histogram bins (2 to 1000).
    max_points : int
        At most this many draws are scattered, evenly spaced through the draws (all enter
        the histograms).
    figsize : (float, float), optional
        Size in inches of the new figure (default about 2.2 inches a panel); not with
        ``fig``.

    Returns
    -------
    numpy.ndarray of Axes, shape (p, p)
        Upper-triangle panels are hidden.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from scalinglaws import bootstrap, fit, generate_sweep, plot
    >>> runs = generate_sweep(rng=0)
    >>> result = fit(runs, "chinchilla")
    >>> axes = plot.bootstrap_corner(bootstrap(result, runs, 20, rng=0))
    >>> axes.shape
    (5, 5)
    """
    boot = bootstrap_result
    if boot is not None and not hasattr(boot, "draws") and hasattr(boot, "bootstrap"):
        boot = boot.bootstrap
    if boot is None or not hasattr(boot, "draws") or not hasattr(boot, "form"):
        raise InputError("`bootstrap_result` must be a BootstrapResult (or a FitResult with "
                         "one attached): run scalinglaws.bootstrap.bootstrap(result, runs) first")
    draws = np.asarray(boot.draws, dtype=float)
    names = list(boot.form.param_names)
    if draws.ndim != 2 or draws.shape[1] != len(names) or draws.shape[0] < 2:
        raise InputError(f"need at least 2 bootstrap draws of {len(names)} parameters, got "
                         f"shape {draws.shape}")
    if params is None:
        params = [n for i, n in enumerate(names) if np.nanstd(draws[:, i]) > 0]
        if not params:
            raise InputError("no parameter varies between the bootstrap draws")
    else:
        params = [params] if isinstance(params, str) else list(params)
        unknown = [p for p in params if not isinstance(p, str) or p not in names]
        if unknown or not params or len(set(params)) != len(params):
            raise InputError(f"`params` must name distinct parameters of form "
                             f"{boot.form.name!r} ({', '.join(names)}), got {params!r}")
    bins = check_int("bins", bins, 2)
    if bins > MAX_BINS:
        raise InputError(f"`bins` must be at most {MAX_BINS}, got {bins!r}")
    max_points = check_int("max_points", max_points, 1)
    if fig is not None:
        from matplotlib.figure import Figure

        if not isinstance(fig, Figure):
            raise InputError(f"`fig` must be a matplotlib Figure or None, got "
                             f"{type(fig).__name__}")
    figsize = check_figsize(figsize, given=fig, given_name="fig")
    finite = np.all(np.isfinite(draws[:, [names.index(n) for n in params]]), axis=1)
    if finite.sum() < 2:
        raise InputError(f"need at least 2 bootstrap draws with finite {', '.join(params)}, "
                         f"got {int(finite.sum())}")
    p = len(params)
    columns = {name: draws[:, names.index(name)] for name in params}
    point = getattr(boot, "point", {}) or {}
    intervals = {}
    try:
        intervals = boot.intervals
    except (AttributeError, InputError):
        pass
    log_scale = {name: name in boot.form.log_params and np.all(columns[name] > 0)
                 for name in params}

    plt = pyplot()
    size = max(1.9, min(2.6, 11.0 / p))
    if fig is None:
        fig = plt.figure(figsize=figsize or (size * p + 0.6, size * p + 0.6),
                         layout="constrained")
    else:
        fig.clear()
    axes = np.asarray(fig.subplots(p, p, squeeze=False), dtype=object)
    scatter_rows = np.flatnonzero(finite)
    if scatter_rows.size > max_points:  # draws are exchangeable: an even subset, no randomness
        scatter_rows = scatter_rows[np.linspace(0, scatter_rows.size - 1, max_points).astype(int)]

    def transformed(name):
        values = columns[name][finite]
        return np.log(values) if log_scale[name] else values

    def label(name):
        return GREEK.get(name, name)

    for i, row_name in enumerate(params):
        for j, col_name in enumerate(params):
            ax = axes[i, j]
            if j > i:
                ax.set_axis_off()
                continue
            x = columns[col_name]
            if i == j:
                values = x[finite]
                edges = (np.geomspace(values.min(), values.max(), bins + 1) if log_scale[col_name]
                         and values.max() > values.min() else bins)
                ax.hist(values, bins=edges, color="tab:blue", alpha=0.7)
                if col_name in point:
                    ax.axvline(point[col_name], color="tab:red", lw=1.2)
                if col_name in intervals:
                    for bound in intervals[col_name]:
                        if np.isfinite(bound):
                            ax.axvline(bound, color="black", ls="--", lw=0.8)
                    low, high = intervals[col_name]
                    ax.set_title(f"{label(col_name)} = {point.get(col_name, np.nan):.4g}\n"
                                 f"[{low:.4g}, {high:.4g}]", fontsize=8)
                ax.set_yticks([])
            else:
                y = columns[row_name]
                ax.scatter(x[scatter_rows], y[scatter_rows], s=5, alpha=0.5, color="tab:blue",
                           edgecolors="none", rasterized=len(scatter_rows) > 1000)
                if col_name in point and row_name in point:
                    ax.plot(point[col_name], point[row_name], marker="+", color="tab:red",
                            ms=10, mew=1.5)
                a, b = transformed(col_name), transformed(row_name)
                rho = (float(np.corrcoef(a, b)[0, 1]) if np.std(a) > 0 and np.std(b) > 0
                       else float("nan"))
                ax.text(0.04, 0.94, f"ρ = {rho:+.2f}", transform=ax.transAxes, fontsize=8,
                        va="top", bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none",
                                            "alpha": 0.8})
                if log_scale[row_name]:
                    ax.set_yscale("log")
            if log_scale[col_name]:
                ax.set_xscale("log")
            _corner_ticks(ax, columns[col_name][finite], "x", log_scale[col_name])
            if i != j:
                _corner_ticks(ax, columns[row_name][finite], "y", log_scale[row_name])
            ax.tick_params(labelsize=7)
            if i == p - 1:
                ax.set_xlabel(label(col_name) + (" (log)" if log_scale[col_name] else ""))
                for tick in ax.get_xticklabels(which="both"):
                    tick.set_rotation(45)
            else:
                ax.tick_params(labelbottom=False, which="both")
            if j == 0 and i > 0:
                ax.set_ylabel(label(row_name) + (" (log)" if log_scale[row_name] else ""))
            elif i != j:
                ax.tick_params(labelleft=False, which="both")
    # share ranges down each column and along each row
    for j, name in enumerate(params):
        values = columns[name][finite]
        span = (values.min(), values.max())
        if log_scale[name]:
            pad = (span[1] / span[0]) ** 0.05 if span[1] > span[0] else 1.1
            lim = (span[0] / pad, span[1] * pad)
        else:
            pad = 0.05 * (span[1] - span[0]) or 0.05 * abs(span[0]) or 0.05
            lim = (span[0] - pad, span[1] + pad)
        for i in range(j, p):
            axes[i, j].set_xlim(*lim)
        for jj in range(j):
            axes[j, jj].set_ylim(*lim)
    level = getattr(boot, "confidence_level", 0.95)
    # boot.intervals are of the bootstrap's own method (percentile, basic or BCa)
    method = getattr(boot, "method", None)
    kind = "bootstrap " + ({"bca": "BCa"}.get(method, method) + " " if method else "")
    fig.suptitle(f"Bootstrap draws of the {boot.form.name} fit: {len(draws)} resamples "
                 f"({getattr(boot, 'n_failed', 0)} failed); red = full-data estimate"
                 + (f", dashed = {100 * level:g}% {kind}interval" if intervals else ""),
                 fontsize=9)
    return axes


def _corner_ticks(ax, values, which, log):
    """Readable ticks on a narrow log axis: a few round values, plain numbers."""
    if not log or values.size == 0 or values.max() >= 10 * values.min():
        return
    from matplotlib.ticker import FormatStrFormatter, MaxNLocator, NullLocator

    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_locator(MaxNLocator(nbins=4))
    axis.set_major_formatter(FormatStrFormatter("%g"))
    axis.set_minor_locator(NullLocator())

