"""IsoFLOP figures (Hoffmann et al. 2022 Fig 3): the valleys of loss against N per
budget, and the allocation N_opt(C), D_opt(C) through their minima. They draw an
:class:`~scalinglaws.fitting.isoflop.IsoFLOPResult`; they fit nothing of their own except
the per-budget curve on a fine grid, with the options the result records."""

from __future__ import annotations

import numpy as np

from ..._exceptions import InputError
from ..._text import named_list
from ._checks import check_canvas, check_cmap, check_isoflop, check_runs, positive_array
from ._style import LABELS, legend_clear_of_points, new_axes, pyplot, sci

__all__ = ["isoflop_frontier", "isoflop_profiles"]


def _budget_members(isoflop_result, table, runs):
    """For each row of the budget table, the mask of the runs in that budget."""
    grouping = str((getattr(isoflop_result, "options", {}) or {}).get("budget", ""))
    if grouping.startswith("column '") and grouping.endswith("'"):
        column = grouping[len("column '"):-1]
        if column in runs.frame.columns:
            keys = runs.frame[column].to_numpy()
            return [keys == key for key in table["budget"]]
    # exact C values or bins: each run goes to the budget of nearest log compute
    log_c = np.log(runs.C)
    centres = np.log(table["C"].to_numpy(float))
    nearest = np.argmin(np.abs(log_c[:, None] - centres[None, :]), axis=1)
    return [nearest == i for i in range(len(table))]


def _profile_curve(log_n, y, options):
    """The curve :func:`~scalinglaws.isoflop.isoflop_fit` fitted to one profile, on a grid
    (:func:`scalinglaws.fitting._profile.profile_curve` with the options the result records).

    ``log_n`` sorted with distinct values, ``y`` the losses. Returns ``(N, loss)``.
    """
    from ...fitting._profile import profile_curve

    curve = options.get("curve", "parabola")
    log_loss = bool(options.get("log_loss", curve == "akima"))
    grid, fitted = profile_curve(log_n, np.log(y) if log_loss else y, curve=curve,
                                 degree=int(options.get("degree", 2) or 2),
                                 window=options.get("window"))
    return np.exp(grid), (np.exp(fitted) if log_loss else fitted)


def _column(lines, name, suffix=""):
    """Column ``N``/``D`` (+ suffix) of ``predict_optimal()``; ``N_opt``... before 0.2."""
    new = f"{name}{suffix}"
    return lines[new] if new in lines.columns else lines[f"{name}_opt{suffix}"]


def isoflop_profiles(isoflop_result, runs=None, ax=None, *, cmap: str = "viridis",
                     figsize=None):
    """IsoFLOP valleys (Hoffmann et al. 2022 Fig 3 left): loss against N per budget.

    Each budget's runs are drawn as points coloured by compute, with the curve
    :func:`scalinglaws.isoflop.isoflop_fit` fitted to them (same curve, degree, window and
    loss scale) and its minimum ``(N_opt, loss_opt)`` marked. Budgets left out of the
    regression are drawn hollow, without a minimum, and named in the legend.

    Parameters
    ----------
    isoflop_result : IsoFLOPResult
        From :func:`scalinglaws.isoflop.isoflop_fit`.
    runs : Runs, DataFrame or path, optional
        The runs it was fitted to. Without them only the minima are drawn.
    ax : matplotlib Axes, optional
    cmap : str
        Colour map of the budgets.
    figsize : (float, float), optional
        Size in inches of the new figure (default 7.0 x 5.0); not with ``ax``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from scalinglaws import generate_sweep, isoflop_fit, plot
    >>> runs = generate_sweep(rng=0)
    >>> ax = plot.isoflop_profiles(isoflop_fit(runs), runs)
    >>> ax.get_title()
    'IsoFLOP profiles: 9 of 9 budgets used'
    """
    from matplotlib.colors import LogNorm

    table = check_isoflop(isoflop_result)
    options = getattr(isoflop_result, "options", {}) or {}
    run_table = check_runs(runs) if runs is not None else None
    check_cmap("cmap", cmap)
    figsize = check_canvas(ax, figsize)
    plt = pyplot()
    ax = new_axes(ax, figsize, default=(7.0, 5.0))
    colormap = plt.get_cmap(cmap)
    c_values = table["C"].to_numpy(float)
    norm = LogNorm(c_values.min(), c_values.max() if c_values.max() > c_values.min()
                   else c_values.min() * 10)
    members = _budget_members(isoflop_result, table, run_table) if run_table is not None else None
    excluded = []
    for i, row in enumerate(table.itertuples(index=False)):
        colour = colormap(norm(row.C))
        used = bool(getattr(row, "used", row.status == "ok"))
        if not used:
            excluded.append(f"C = {sci(row.C)} ({row.status})")
        if members is not None and members[i].any():
            n, loss = run_table.N[members[i]], run_table.loss[members[i]]
            ax.scatter(n, loss, s=18, zorder=3, color=colour if used else "none",
                       edgecolors=colour, linewidths=0.8)
            order = np.argsort(n)
            n, loss = n[order], loss[order]
            sizes, _first = np.unique(n, return_index=True)
            best = np.array([loss[n == value].min() for value in sizes])
            if used and sizes.size >= max(3, int(options.get("degree", 2) or 2) + 1):
                grid, curve = _profile_curve(np.log(sizes), best, options)
                ax.plot(grid, curve, color=colour, lw=1.3, zorder=2)
        if used and np.isfinite(row.N_opt) and np.isfinite(row.loss_opt):
            ax.plot(row.N_opt, row.loss_opt, marker="D", ms=6, color=colour,
                    markeredgecolor="black", markeredgewidth=0.7, zorder=4)
    used_rows = table.loc[table["status"] == "ok"].sort_values("C")
    if len(used_rows) > 1:
        ax.plot(used_rows["N_opt"], used_rows["loss_opt"], color="0.3", ls=":", lw=1.0,
                zorder=1)
    # legend proxies
    ax.plot([], [], marker="D", ls="none", color="0.6", markeredgecolor="black",
            label="minimum of the fitted curve (N_opt)")
    if members is not None:
        curve = options.get("curve", "parabola")
        scale = "ln loss" if options.get("log_loss") else "loss"
        ax.plot([], [], color="0.4", lw=1.3, label=f"{curve} fit of {scale} against ln N")
        ax.scatter([], [], s=18, color="0.6", label="runs")
    if excluded:
        ax.scatter([], [], s=18, color="none", edgecolors="0.4",
                   label="excluded: " + named_list(excluded, 3, sep="; "))
    ax.set_xscale("log")
    ax.set_xlabel(LABELS["N"])
    ax.set_ylabel(LABELS["loss"])
    mappable = plt.cm.ScalarMappable(norm=norm, cmap=colormap)
    bar = ax.figure.colorbar(mappable, ax=ax, pad=0.02)
    bar.set_label(LABELS["C"] + ", budget")
    ax.grid(True, alpha=0.3)
    ax.set_title(f"IsoFLOP profiles: {int((table['status'] == 'ok').sum())} of {len(table)} "
                 "budgets used", fontsize="medium")
    legend_clear_of_points(ax, fontsize="small", framealpha=0.9)  # last: the layout is set
    return ax


def isoflop_frontier(isoflop_result, ax=None, *, compute=None, figsize=None):
    """N_opt(C) and D_opt(C) from IsoFLOP minima (Hoffmann et al. 2022 Fig 3 centre, right).

    The per-budget minima are drawn with error bars (``±1.96`` standard errors of
    ``ln N_opt`` when known; excluded budgets hollow) and the fitted power laws
    ``N_opt = G_N C^a`` and ``D_opt = G_D C^b`` with the confidence band of the
    regression line (:meth:`~scalinglaws.isoflop.IsoFLOPResult.predict_optimal`).

    Parameters
    ----------
    isoflop_result : IsoFLOPResult
        From :func:`scalinglaws.isoflop.isoflop_fit`.
    ax : matplotlib Axes, optional
    compute : array_like, optional
        Budgets (FLOP) of the fitted lines (at least two); default the budgets' range
        widened 3x.
    figsize : (float, float), optional
        Size in inches of the new figure (default 6.6 x 4.8); not with ``ax``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from scalinglaws import generate_sweep, isoflop_fit, plot
    >>> ax = plot.isoflop_frontier(isoflop_fit(generate_sweep(rng=0)))
    >>> ax.get_yscale()
    'log'
    """
    table = check_isoflop(isoflop_result)
    if not hasattr(isoflop_result, "predict_optimal"):
        raise InputError("`isoflop_result` has no predict_optimal(): pass an IsoFLOPResult")
    c_values = table["C"].to_numpy(float)
    if compute is None:
        compute = np.geomspace(c_values.min() / 3, c_values.max() * 3, 100)
    compute = np.sort(positive_array("compute", compute, minimum_size=2))
    figsize = check_canvas(ax, figsize)
    lines = isoflop_result.predict_optimal(compute)
    ax = new_axes(ax, figsize, default=(6.6, 4.8))
    level = getattr(isoflop_result, "confidence_level", 0.95)
    used = (table["used"] if "used" in table.columns else table["status"] == "ok").to_numpy(bool)
    se = (table["ln_N_opt_se"].to_numpy(float) if "ln_N_opt_se" in table.columns
          else np.full(len(table), np.nan))
    z = 1.959963984540054
    for name, colour, exponent, interval, unit in (
            ("N", "tab:blue", "a", "a_interval", "parameters"),
            ("D", "tab:orange", "b", "b_interval", "tokens")):
        value = table[f"{name}_opt"].to_numpy(float)
        finite = np.isfinite(value)
        # ln D* = ln C - ln k - ln N*: the same standard error in log space (with the runs'
        # own C/(N D) or a FLOP model of the user's, k moves with N* too, by a slope the
        # table does not hold: the bars are then N*'s, approximately D*'s)
        err = np.where(np.isfinite(se), se, 0.0)
        yerr = np.vstack([value - value * np.exp(-z * err), value * np.exp(z * err) - value])
        keep = finite & used
        ax.errorbar(c_values[keep], value[keep], yerr=yerr[:, keep], fmt="o", color=colour,
                    ms=5, capsize=2, lw=1, zorder=4)
        if (finite & ~used).any():
            ax.scatter(c_values[finite & ~used], value[finite & ~used], s=28, color="none",
                       edgecolors=colour, zorder=4)
        low, high = getattr(isoflop_result, interval, (np.nan, np.nan))
        a_value = getattr(isoflop_result, exponent, np.nan)
        text = (f"{name}_opt ∝ C^{a_value:.3f} ({unit})"
                + (f"; t interval [{low:.3f}, {high:.3f}]" if np.isfinite(low) and np.isfinite(high)
                   else ""))
        ax.plot(compute, _column(lines, name), color=colour, lw=1.8, label=text, zorder=3)
        band_low, band_high = _column(lines, name, "_low"), _column(lines, name, "_high")
        if np.all(np.isfinite(band_low)) and np.all(np.isfinite(band_high)):
            ax.fill_between(compute, band_low, band_high, color=colour, alpha=0.18, lw=0,
                            zorder=2)
    kind = ("bootstrap percentile" if str(lines.attrs.get("method", "")).startswith("bootstrap")
            else "t")
    ax.fill_between([], [], [], color="0.5", alpha=0.3,
                    label=f"{100 * level:g}% {kind} interval of the fitted line")
    ax.errorbar([], [], yerr=[], fmt="o", color="0.4", ms=5, capsize=2,
                label="IsoFLOP minima (±1.96 SE)")
    if not used.all():
        ax.scatter([], [], s=28, color="none", edgecolors="0.4", label="excluded budgets")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(compute.min(), compute.max())
    ax.set_xlabel(LABELS["C"])
    ax.set_ylabel("compute-optimal N_opt (parameters), D_opt (tokens)")
    ax.legend(loc="upper left", fontsize="small", framealpha=0.9)
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title("IsoFLOP allocation (Hoffmann et al. 2022, Approach 2)", fontsize="medium")
    return ax
