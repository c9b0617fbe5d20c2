"""The loss landscape: predicted loss over (N, D), iso-compute lines and the
compute-optimal path (:func:`scalinglaws.compute_optimal`)."""

from __future__ import annotations

import math

import numpy as np

from ..._exceptions import InputError
from ..._validation import check_int, check_positive
from ._checks import (
    range_shown,
    check_canvas,
    check_cmap,
    check_result,
    check_runs,
    positive_array,
    positive_range,
    require_allocatable,
)
from ._style import LABELS, new_axes, sci

__all__ = ["loss_landscape"]

#: More contour levels than this are unreadable (and slow).
MAX_LEVELS = 200


#: Font size (points) of the iso-compute lines' labels.
_LABEL_POINTS = 7.5
# contour labels whose centre lies this close to the frame (axes fraction) are dropped:
# half of a 7-point label would be cut off there
_LABEL_MARGIN = 0.03


def _label_start(ax, xs, ys, avoid, text, fontsize) -> int:
    """Where on a visible line segment ``(xs, ys)`` a label ``text`` written along it
    starts: its whole (estimated) length on the segment and clear of the point ``avoid``
    (the budget's optimum, where :func:`~scalinglaws.plot.sweep_plan` draws its target
    star, which hid the end of "C = 1e24 FLOP"), as near a fifth of the way along as
    that allows."""
    points = ax.transData.transform(np.column_stack([xs, ys]))
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))])
    pixels = ax.figure.dpi / 72 * fontsize
    width = 0.62 * pixels * len(text)  # an estimate of the text's length, in pixels
    clear = 1.6 * pixels  # around the marker
    mark = ax.transData.transform(np.asarray(avoid, float).reshape(1, 2))[0]
    distance = np.hypot(*(points - mark).T)
    fits = (along >= pixels) & (along + width <= along[-1] - pixels)  # an em from the ends
    if not fits.any():
        fits = along + width <= along[-1]
    candidates = np.flatnonzero(fits) if fits.any() else np.array([0])
    nearest = int(np.argmin(distance))
    gap = np.full(candidates.size, np.inf)
    if distance[nearest] < clear:  # the point is on (or next to) this segment
        at, start = along[nearest], along[candidates]
        gap = np.maximum(start - at, at - (start + width))  # < 0: the label covers it
    clear_of = gap >= clear
    if clear_of.any():  # as near a fifth of the way as the point allows
        shown = candidates[clear_of]
        return int(shown[np.argmin(np.abs(along[shown] - along[-1] / 5))])
    return int(candidates[np.argmax(gap)])  # no room: as far from the point as it goes


def _default_budgets(n_range, d_range, k):
    low = math.ceil(math.log10(k * n_range[0] * d_range[0])) + 1
    high = math.floor(math.log10(k * n_range[1] * d_range[1])) - 1
    if high < low:
        return np.array([10.0 ** round((low + high) / 2)])
    step = max(1, math.ceil((high - low) / 4))
    return 10.0 ** np.arange(low, high + 1, step)


@range_shown
def loss_landscape(result, n_range=None, d_range=None, budgets=None, *, runs=None,
                   flops_per_token: float | None = None, levels: int = 18, cmap: str = "viridis_r",
                   ax=None, figsize=None):
    """Predicted loss over (N, D), with iso-compute lines and the compute-optimal path.

    Parameters
    ----------
    result : FitResult
        A law in N and D.
    n_range, d_range : (float, float), optional
        Parameters and tokens shown (log axes). Default: around the runs when given, else
        1e7-1e12 parameters and 1e9-1e14 tokens.
    budgets : array_like, optional
        Compute budgets (FLOP) drawn as iso-compute lines ``C = kND`` (labelled), each with
        its compute-optimal point. Default: every other decade inside the window.
    runs : Runs, DataFrame or path, optional
        Runs drawn on top.
    flops_per_token : float, optional
        ``k`` in ``C = kND``; default the fit's own (``result.flops_per_token``: the
        runs' FLOP accounting at fit time, 6 for a fit that records none), as
        :func:`scalinglaws.compute_optimal` takes it.
    levels : int
        Filled contour levels (2 to 200).
    cmap : str
        Colour map (low loss dark by default).
    ax : matplotlib Axes, optional
    figsize : (float, float), optional
        Size in inches of the new figure (default 7.0 x 5.4); not with ``ax``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from scalinglaws import fit, generate_sweep, plot
    >>> ax = plot.loss_landscape(fit(generate_sweep(rng=0), "chinchilla"), budgets=[1e21])
    >>> [t.get_text() for t in ax.texts if "FLOP" in t.get_text()]
    ['C = 1e21 FLOP']
    """
    from ...analysis._common import fit_flops_per_token
    from ...analysis.extrapolate import compute_optimal

    form = check_result(result)
    require_allocatable(form, "the loss landscape")
    k = check_positive("flops_per_token", fit_flops_per_token(result, flops_per_token))
    levels = check_int("levels", levels, 2)
    if levels > MAX_LEVELS:
        raise InputError(f"`levels` must be at most {MAX_LEVELS}, got {levels!r}")
    check_cmap("cmap", cmap)
    figsize = check_canvas(ax, figsize)
    run_table = check_runs(runs, fit=result) if runs is not None else None
    default_n, default_d = (1e7, 1e12), (1e9, 1e14)
    if run_table is not None:
        default_n = (run_table.N.min() / 3, run_table.N.max() * 30)
        default_d = (run_table.D.min() / 3, run_table.D.max() * 30)
    n_range = positive_range("n_range", n_range, default_n)
    d_range = positive_range("d_range", d_range, default_d)
    budgets = (_default_budgets(n_range, d_range, k) if budgets is None
               else np.sort(positive_array("budgets", budgets)))

    ax = new_axes(ax, figsize, default=(7.0, 5.4))
    n_grid = np.geomspace(*n_range, 240)
    d_grid = np.geomspace(*d_range, 240)
    NN, DD = np.meshgrid(n_grid, d_grid)
    with np.errstate(all="ignore"):
        loss = result.predict(N=NN, D=DD)
    finite = loss[np.isfinite(loss)]
    if finite.size == 0:
        raise InputError("the law gives no finite loss over this (N, D) window")
    from matplotlib import patheffects
    from matplotlib.ticker import MaxNLocator

    halo = [patheffects.withStroke(linewidth=1.6, foreground="black")]
    top = float(np.quantile(finite, 0.97))
    # round levels from just below the lowest predicted loss
    contour_levels = MaxNLocator(levels).tick_values(float(finite.min()), top)
    contour_levels = contour_levels[(contour_levels <= top)
                                    & (contour_levels > contour_levels[0] - 1)]
    contour_levels = contour_levels[np.searchsorted(contour_levels, finite.min(), "right") - 1:]
    # the axes' log scales first: contour labels are placed along the lines as drawn
    ax.set_xscale("log")
    ax.set_yscale("log")
    filled = ax.contourf(NN, DD, loss, levels=contour_levels, cmap=cmap, extend="max")
    lines = ax.contour(NN, DD, loss, levels=contour_levels[2::3], colors="white",
                       linewidths=0.6, alpha=0.8)
    ax.set_xlim(*n_range)
    ax.set_ylim(*d_range)
    to_axes = ax.transData + ax.transAxes.inverted()
    for text in ax.clabel(lines, fmt="%.2f", fontsize=7, inline=True):
        where = to_axes.transform(text.get_position())
        if np.any(where < _LABEL_MARGIN) or np.any(where > 1 - _LABEL_MARGIN):
            text.remove()  # half of it would be cut off at the frame (the plan's "7.20")
        else:
            text.set_path_effects(halo)
    bar = ax.figure.colorbar(filled, ax=ax, pad=0.02, format="%.4g")
    bar.set_label("predicted " + LABELS["loss"])

    # compute-optimal path across the window
    c_low, c_high = k * n_range[0] * d_range[0], k * n_range[1] * d_range[1]
    path_c = np.geomspace(c_low, c_high, 200)
    path = compute_optimal(result, path_c, flops_per_token=k, draws=False)
    ax.plot(path.N, path.D, color="tab:red", lw=2.0, zorder=4,
            label="compute-optimal path (N_opt, D_opt)")
    optimal = compute_optimal(result, budgets, flops_per_token=k, draws=False)
    optimal_n, optimal_d = np.atleast_1d(optimal.N), np.atleast_1d(optimal.D)
    ax.plot(optimal_n, optimal_d, "o", color="tab:red", markeredgecolor="white", ms=6,
            zorder=5)
    for budget, point in zip(budgets, zip(optimal_n, optimal_d)):
        d_line = budget / (k * n_grid)
        inside = (d_line >= d_range[0]) & (d_line <= d_range[1])
        if not inside.any():
            continue
        ax.plot(n_grid[inside], d_line[inside], color="white", ls="--", lw=1.0, zorder=3)
        # along the line, on its visible segment and clear of the budget's optimum
        text = f"C = {sci(budget)} FLOP"
        idx = np.flatnonzero(inside)
        j = idx[_label_start(ax, n_grid[idx], d_line[idx], point, text, _LABEL_POINTS)]
        p0 = ax.transData.transform((n_grid[j], d_line[j]))
        p1 = ax.transData.transform((n_grid[min(j + 5, len(n_grid) - 1)],
                                     d_line[min(j + 5, len(n_grid) - 1)]))
        angle = math.degrees(math.atan2(p1[1] - p0[1], p1[0] - p0[0]))
        ax.text(n_grid[j], d_line[j], text, color="white", fontsize=_LABEL_POINTS,
                rotation=angle, rotation_mode="anchor", ha="left", va="bottom", zorder=5,
                path_effects=halo)
    ax.plot([], [], color="0.45", ls="--", lw=1.0, label=f"iso-compute C = {k:g}ND")
    if run_table is not None:
        ax.scatter(run_table.N, run_table.D, s=9, color="black", edgecolors="white",
                   linewidths=0.3, zorder=5, label=f"runs ({len(run_table)})")
    ax.set_xlabel(LABELS["N"])
    ax.set_ylabel(LABELS["D"])
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize="small",
              frameon=False, handlelength=2.2)
    ax.set_title(f"Loss landscape of the {form.name} fit", fontsize="medium", pad=24)
    return ax

