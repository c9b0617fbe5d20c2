"""Comparisons between groups of runs: loss against compute per group with the fitted
frontiers, and the effective-compute multiplier against compute with its band.

The figure only draws. The frontier of each group is
:func:`scalinglaws.compute_optimal`'s loss; the multiplier and its band are
:func:`scalinglaws.analysis.compare.effective_compute_multiplier` over the comparison's
bootstrap draws (Approach 2: the ratio of the compute-optimal model sizes,
:func:`scalinglaws.analysis.compare_isoflop.log_n_opt_draws`).
"""

from __future__ import annotations

import numpy as np

from ..._exceptions import InputError
from ._checks import range_shown, check_ax, check_figsize, positive_array
from ._style import LABELS, plain_log_ticks, pyplot

__all__ = ["compare_groups"]

# groups whose legend still fits inside a panel; beyond, the legends go below the panels
_LEGEND_INSIDE_UP_TO = 6
# characters of a reference name that still fit in an axis label beside the panel
_NAME_ON_AXIS_UP_TO = 24


def _compute_grid(comparison, runs, compute):
    if compute is not None:
        return np.sort(positive_array("compute", compute, minimum_size=2))
    if runs is not None and runs.has("C"):
        low, high = float(np.min(runs.C)), float(np.max(runs.C))
    else:
        budgets = [r["C"] for r in comparison.multipliers if np.isfinite(r["C"])]
        low, high = (min(budgets) / 100, max(budgets)) if budgets else (1e18, 1e22)
    return np.geomspace(low / 3, high * 30, 61)


@range_shown
def compare_groups(comparison, runs=None, *, compute=None, axes=None, figsize=None):
    """Two panels: each group's runs and fitted frontier, and each group's multiplier.

    Parametric comparisons: loss against compute ``C`` (the runs, if given, and each
    group's compute-optimal loss ``L*(C)``), then the effective-compute multiplier of each
    group over the reference against ``C`` with its bootstrap band (a horizontal line
    at 1 is the reference). Approach 2 comparisons: the IsoFLOP minima ``N_opt`` and
    each group's fitted ``N_opt ∝ C^a``, then ``N_opt(group) / N_opt(reference)``.

    Parameters
    ----------
    comparison : Comparison
        The result of :func:`scalinglaws.analysis.compare.compare`.
    runs : Runs, DataFrame or path, optional
        The runs, drawn on the left panel (parametric) with the group column.
    compute : array_like, optional
        Budgets in FLOP for the lines (default: the runs' range, a third below to 30x
        above).
    axes : pair of matplotlib Axes, optional
        Where to draw; default a new figure of two panels.
    figsize : (float, float), optional
        Size of the new figure in inches (default 11 x 4.6); not with ``axes``.

    Returns
    -------
    tuple of matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from scalinglaws import generate_sweep
    >>> from scalinglaws.analysis.compare import compare
    >>> frame = pd.concat([generate_sweep(rng=i).to_frame().assign(recipe=name)
    ...                    for i, name in enumerate(["baseline", "new"])])
    >>> result = compare(frame, "baseline", groups="recipe", n_resamples=30, rng=0)
    >>> left, right = compare_groups(result, frame)
    >>> right.get_ylabel()
    'effective-compute multiplier over baseline'
    """
    from ...analysis.compare_result import Comparison

    if not isinstance(comparison, Comparison):
        raise InputError(f"`comparison` must be a Comparison, got {type(comparison).__name__}")
    if axes is not None:
        try:
            left, right = axes
        except (TypeError, ValueError):
            raise InputError("`axes` must be a pair of matplotlib Axes") from None
        check_ax(left, "axes[0]")
        check_ax(right, "axes[1]")
    figsize = check_figsize(figsize, given=axes, given_name="axes")
    if runs is not None:
        from ...data.runs import as_runs

        runs = as_runs(runs)
        if comparison.group_column not in runs.columns:
            raise InputError(f"`runs` lack the group column {comparison.group_column!r}")
    grid = _compute_grid(comparison, runs, compute)
    many = len(comparison.groups) > _LEGEND_INSIDE_UP_TO
    if axes is None:
        # many groups: the legends go below the panels, in a taller figure
        height = 4.6 + (0.17 * (len(comparison.groups) + 2) if many else 0.0)
        _, (left, right) = pyplot().subplots(1, 2, figsize=figsize or (11, height),
                                               layout="constrained")
    style = _group_styles(comparison.groups)
    if comparison.approach == "parametric":
        banded = _parametric(comparison, runs, grid, left, right, style)
    else:
        banded = _isoflop(comparison, grid, left, right, style)
    _band_legend(right, comparison.confidence_level, banded)
    right.axhline(1.0, color=style[comparison.reference]["color"], lw=1, ls="--",
                  label=f"{comparison.reference} (reference)")
    for ax in (left, right):
        plain_log_ticks(ax, "y")  # short log axes read better in plain numbers
        ax.set_xscale("log")
        ax.set_xlabel(LABELS["C"])
        ax.grid(True, which="major", alpha=0.3)
        if many:
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13))
        else:
            ax.legend(fontsize=8)
    return left, right


def _group_styles(groups) -> dict:
    """A line style per group (``color``, ``ls``): the style's colour cycle while it has
    enough colours, solid; else tab20's ten strong colours solid, then its ten light ones
    dashed (tab20 in its own order puts each light colour beside its strong one, and
    Porian's 15 settings read as pairs of near-twins), and evenly spaced colours of a
    continuous map beyond 20; so no two groups share a colour."""
    colours = pyplot().rcParams["axes.prop_cycle"].by_key()["color"]
    if len(groups) <= len(colours):
        return {g: {"color": colours[i], "ls": "-"} for i, g in enumerate(groups)}
    from matplotlib import colormaps

    if len(groups) <= 20:
        tab20 = list(colormaps["tab20"].colors)
        colours = tab20[0::2] + tab20[1::2]
        return {g: {"color": colours[i], "ls": "-" if i < 10 else (0, (4, 1.5))}
                for i, g in enumerate(groups)}
    colours = [colormaps["turbo"](t) for t in np.linspace(0.05, 0.95, len(groups))]
    return {g: {"color": colours[i], "ls": "-"} for i, g in enumerate(groups)}


def _band_alpha(n_groups: int) -> float:
    """Opacity of one group's band: 0.2 for a few groups; fainter for many, so a dozen
    overlapping bands stay light enough for the lines to read through."""
    return max(0.06, 0.2 * min(1.0, _LEGEND_INSIDE_UP_TO / max(n_groups, 1)))


def _band_legend(ax, level, drawn: bool):
    """One legend entry for every band, after the groups' lines (a zero-area band at the
    reference's 1, which every panel's range holds)."""
    if drawn:
        x = ax.get_lines()[0].get_xdata()[:1]
        ax.fill_between(x, 1.0, 1.0, color="0.5", alpha=0.3, lw=0,
                        label=f"{100 * level:g}% bootstrap percentile intervals (shaded)")


def _reference_on_axis(reference, otherwise: str) -> str:
    """The reference's name for an axis label, or ``otherwise`` when the name would not fit
    beside the axis (the legend names it)."""
    return str(reference) if len(str(reference)) <= _NAME_ON_AXIS_UP_TO else otherwise


def _parametric(comparison, runs, grid, left, right, style) -> bool:
    """Draws the panels; whether any band was drawn."""
    from ...analysis.compare import effective_compute_multiplier
    from ...analysis.extrapolate import compute_optimal

    fit, draws, level = comparison.fit, comparison.draws, comparison.confidence_level
    alpha = _band_alpha(len(comparison.groups))
    for group in comparison.groups:
        colour = {group: style[group]["color"]}
        if runs is not None:
            mask = runs.frame[comparison.group_column].to_numpy() == group
            left.scatter(runs.C[mask], runs.loss[mask], s=9, alpha=0.5, color=colour[group])
        left.plot(grid, compute_optimal(fit[group], grid, draws=False).loss,
                  lw=1.8, label=f"{group}: L*(C)", **style[group])
        if group == comparison.reference:
            continue
        out = effective_compute_multiplier(fit, group, comparison.reference, compute=grid,
                                           draws=draws, confidence_level=level)
        right.plot(grid, out["multiplier"], lw=1.8, label=str(group), **style[group])
        if draws is not None:
            high = np.where(np.isfinite(out["high"]), out["high"], np.nan)
            right.fill_between(grid, out["low"], high, color=colour[group], alpha=alpha, lw=0)
    left.set_yscale("log")
    left.set_ylabel(LABELS["loss"])
    left.set_title("runs and each group's compute-optimal loss", fontsize=10)
    right.set_yscale("log")
    right.set_ylabel("effective-compute multiplier over "
                     + _reference_on_axis(comparison.reference, "the reference"))
    right.set_title("compute the reference needs for the group's loss / C", fontsize=10)
    return draws is not None and len(comparison.groups) > 1


def _isoflop(comparison, grid, left, right, style) -> bool:
    """Draws the panels; whether any band was drawn."""
    from ...analysis.compare_isoflop import log_n_opt_draws

    result, level = comparison.fit, comparison.confidence_level
    reference = comparison.reference
    ref_line = np.log(result[reference].predict_optimal(grid)["N"].to_numpy())
    ref_draws = log_n_opt_draws(result[reference], grid)
    tail = 50 * (1 - level)
    alpha, banded = _band_alpha(len(comparison.groups)), False
    for group in comparison.groups:
        colour = {group: style[group]["color"]}
        table = result[group].budgets
        used = table[table["used"]]
        line = np.log(result[group].predict_optimal(grid)["N"].to_numpy())
        left.scatter(used["C"], used["N_opt"], s=16, color=colour[group])
        left.plot(grid, np.exp(line), lw=1.5, label=f"{group}: a = {result[group].a:.3f}",
                  **style[group])
        if group == reference:
            continue
        right.plot(grid, np.exp(line - ref_line), lw=1.8, label=str(group), **style[group])
        draws = log_n_opt_draws(result[group], grid)
        if draws is not None and ref_draws is not None:
            low, high = np.nanpercentile(draws - ref_draws, [tail, 100 - tail], axis=0)
            right.fill_between(grid, np.exp(low), np.exp(high), color=colour[group],
                               alpha=alpha, lw=0)
            banded = True
    left.set_yscale("log")
    left.set_ylabel("compute-optimal " + LABELS["N"])
    left.set_title("IsoFLOP minima and N_opt ∝ C^a per group", fontsize=10)
    right.set_yscale("log")
    right.set_ylabel(f"N_opt(group) / N_opt({_reference_on_axis(reference, 'reference')})")
    right.set_title("compute-optimal model size relative to the reference", fontsize=10)
    return banded
