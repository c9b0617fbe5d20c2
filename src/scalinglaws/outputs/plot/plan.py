"""A sweep plan on the (N, D) plane: the runs each design would train, over the prior's
loss landscape, with the target (:func:`scalinglaws.analysis.plan.plan_sweep`)."""

from __future__ import annotations

import numpy as np

from ..._exceptions import InputError
from ..._text import counted
from ..._validation import check_int
from ._checks import range_shown, check_canvas, positive_range
from .landscape import MAX_LEVELS, loss_landscape

__all__ = ["sweep_plan"]

#: How each design is drawn: marker, face colour, edge colour, label.
_STYLES = {
    "standard": ("x", "0.85", "0.85", "standard grid"),
    "planned": ("o", "none", "tab:cyan", "planned grid"),
    "active": ("o", "tab:orange", "black", "active design"),
}


@range_shown
def sweep_plan(plan, *, designs=("standard", "planned", "active"), n_range=None, d_range=None,
               levels: int = 18, ax=None, figsize=None):
    """The runs of a sweep plan over the prior's predicted loss.

    Draws :func:`~scalinglaws.plot.loss_landscape` of the prior's centre (contours, the
    compute-optimal path, the iso-compute line of the target budget), then the runs of each
    design in ``designs`` (active-design runs chosen several times drawn larger), and the
    target: the compute-optimal (N, D) at the target compute, or the model whose loss is the
    target.

    Parameters
    ----------
    plan : SweepPlan
        From :func:`scalinglaws.analysis.plan.plan_sweep`.
    designs : sequence of {"standard", "planned", "active"}
        Which designs to draw.
    n_range, d_range : (float, float), optional
        Window; default every run and the target, with a margin.
    levels : int
        Filled contour levels (2 to 200).
    ax : matplotlib Axes, optional
    figsize : (float, float), optional
        Size in inches of a new figure (default 8 x 6); not with ``ax``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from ...analysis.extrapolate import compute_optimal
    from ...analysis.plan import SweepPlan

    if not isinstance(plan, SweepPlan):
        raise InputError(f"`plan` must be a SweepPlan (analysis.plan.plan_sweep), got "
                         f"{type(plan).__name__}")
    if isinstance(designs, str) or not all(d in _STYLES for d in designs):
        raise InputError(f"`designs` must be a list of {', '.join(_STYLES)}, got {designs!r}")
    levels = check_int("levels", levels, 2)
    if levels > MAX_LEVELS:
        raise InputError(f"`levels` must be at most {MAX_LEVELS}, got {levels!r}")
    figsize = check_canvas(ax, figsize)
    target = plan.target
    law = plan.prior.law()
    k = target.flops_per_token
    budget = target.C if target.C is not None else k * target.N * target.D
    if target.kind == "loss":
        goal_n, goal_d = target.N, target.D
    else:
        optimum = compute_optimal(law, budget, flops_per_token=k, draws=False)
        goal_n, goal_d = float(optimum.N), float(optimum.D)
    tables = {"standard": plan.standard.runs, "planned": plan.planned.runs,
              "active": plan.active.runs}
    shown = [tables[name] for name in designs]
    all_n = np.concatenate([t["N"].to_numpy() for t in shown] + [[goal_n]])
    all_d = np.concatenate([t["D"].to_numpy() for t in shown] + [[goal_d]])
    n_range = positive_range("n_range", n_range, (all_n.min() / 3, all_n.max() * 10))
    d_range = positive_range("d_range", d_range, (all_d.min() / 3, all_d.max() * 10))
    largest = max(float(t["C"].max()) for t in tables.values())
    ax = loss_landscape(law, n_range, d_range, budgets=sorted({largest, budget}),
                        flops_per_token=k, levels=levels, ax=ax,
                        figsize=figsize if figsize or ax is not None else (8.0, 6.0))
    for name in designs:
        marker, face, edge, label = _STYLES[name]
        table = tables[name]
        if name == "active":
            counts = table.groupby(["N", "D"]).size().reset_index(name="times")
            ax.scatter(counts["N"], counts["D"], s=14 * np.sqrt(counts["times"]), marker=marker,
                       facecolors=face, edgecolors=edge, linewidths=0.4, zorder=7,
                       label=f"{label}: {counted(len(table), 'run')}, {table['C'].sum():.3g} FLOP")
        else:
            ax.scatter(table["N"], table["D"], s=16, marker=marker,
                       facecolors=face if marker != "x" else edge,
                       edgecolors=edge if marker != "x" else None, linewidths=0.8, zorder=6,
                       label=f"{label}: {counted(len(table), 'run')}, {table['C'].sum():.3g} FLOP")
    what = "N_opt, D_opt" if target.kind != "loss" else "the model"
    ax.plot([goal_n], [goal_d], marker="*", ms=16, color="gold", markeredgecolor="black",
            ls="none", zorder=8, label=f"target ({what}) at C = {budget:.3g} FLOP")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize="small",
              frameon=False, handlelength=2.2)
    ax.set_title(f"Sweep plan: {target.describe()}; prior {plan.prior.source.split(';')[0]}",
                 fontsize="medium", pad=58)
    return ax
