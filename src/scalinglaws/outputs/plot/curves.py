"""Figures of learning curves: the logged loss, the fitted law through it, and the LR.

:func:`learning_curves` draws each fitted curve's points (filled) and the law's curve
through them (solid line), each held-out curve's points (hollow) and the law's prediction
for its schedule (dashed), in one colour per run, with the learning rate of every run on
a twin axis (thin lines, right). :func:`curve_band` draws a
:class:`~scalinglaws.analysis.curves.CurvePrediction` with its bootstrap band.
Matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

import numpy as np

from ..._exceptions import InputError
from ._style import LABELS, new_axes, pyplot

__all__ = ["curve_band", "learning_curves"]


def _check(result, curves, name):
    from ...data.curves import Curves
    from ...fitting.curves import CurveFitResult

    if not isinstance(result, CurveFitResult):
        raise InputError(f"`result` must be a CurveFitResult, got {type(result).__name__}")
    if curves is not None and not isinstance(curves, Curves):
        raise InputError(f"`{name}` must be Curves, got {type(curves).__name__}")


def _draw(ax, lr_ax, result, curves, style, colours, start, x, stride):
    law = result.law
    predicted = law.predict(result.params, law.prepare(curves,
                                                       quadrature=result.options.get("quadrature")))
    runs = curves.frame["run_id"].to_numpy()
    for i, run in enumerate(curves.runs):
        colour = colours(start + i)
        mask = runs == run
        steps = curves.steps(run)
        scale = 1.0 if x == "step" else curves.frame["tokens"].to_numpy()[mask] / np.maximum(
            steps, 1)
        where = steps * scale
        marker = dict(marker="o", s=9, color=colour, lw=0) if style == "fit" else \
            dict(marker="o", s=12, facecolors="none", edgecolors=colour, lw=0.8)
        ax.scatter(where[::stride], curves.loss(run)[::stride], zorder=3, **marker)
        ax.plot(where, predicted[mask], color=colour, lw=1.6,
                ls="-" if style == "fit" else "--",
                label=f"{run} ({'fitted' if style == 'fit' else 'predicted'})")
        if lr_ax is not None:
            lr = curves.lr_array(run)
            grid = np.arange(len(lr))
            lr_ax.plot(grid * (scale if np.isscalar(scale) else np.median(scale)), lr,
                       color=colour, lw=0.8, alpha=0.5, ls=":")


def learning_curves(result, curves=None, heldout=None, *, ax=None, x: str = "step",
                    show_lr: bool = True, stride: int = 1, figsize=None, legend: bool = True):
    """Observed against fitted curves, held-out schedules in another style, LR on a twin axis.

    Parameters
    ----------
    result : CurveFitResult
    curves : Curves, optional
        The fitted curves (filled points, solid lines).
    heldout : Curves, optional
        Curves not used in the fit (hollow points, dashed predictions).
    ax : matplotlib Axes, optional
    x : {"step", "tokens"}
        Horizontal axis (tokens need a ``tokens`` column).
    show_lr : bool
        Draw every run's LR on a twin axis.
    stride : int
        Draw every ``stride``-th point (lines use every point).

    Returns
    -------
    matplotlib Axes
        The loss axes (the LR axes is ``ax.lr_axes`` when drawn).
    """
    if curves is None and heldout is None:
        raise InputError("give `curves`, `heldout` or both")
    _check(result, curves, "curves")
    _check(result, heldout, "heldout")
    if x not in ("step", "tokens"):
        raise InputError(f"`x` must be 'step' or 'tokens', got {x!r}")
    for part in (curves, heldout):
        if part is not None and x == "tokens" and not part.has("tokens"):
            raise InputError("x='tokens' needs curves with a tokens column")
    if not isinstance(stride, (int, np.integer)) or stride < 1:
        raise InputError(f"`stride` must be a positive integer, got {stride!r}")
    ax = new_axes(ax, figsize, default=(7.5, 6.0))
    lr_ax = ax.twinx() if show_lr else None
    colours = pyplot().get_cmap("tab10")
    start = 0
    for part, style in ((curves, "fit"), (heldout, "heldout")):
        if part is not None:
            _draw(ax, lr_ax, result, part, style, colours, start, x, stride)
            start += len(part.runs)
    ax.set_xlabel("optimizer step" if x == "step" else LABELS["D"])
    ax.set_ylabel(LABELS["loss"])
    ax.set_title(f"{result.law.name}: solid = fitted, dashed = predicted for held-out "
                 "schedules", fontsize=9)
    if lr_ax is not None:
        lr_ax.set_ylabel("learning rate (dotted lines)")
        lr_ax.set_ylim(0, None)
        ax.set_zorder(lr_ax.get_zorder() + 1)  # points and fits above the LR lines
        ax.patch.set_visible(False)
        ax.lr_axes = lr_ax
    if legend:  # below the axes: the curves fill the plot
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13),
                  ncol=2 if start > 3 else 1, frameon=False)
    return ax


def curve_band(prediction, *, ax=None, label: str | None = None, color=None, figsize=None):
    """A predicted curve and, when it has one, its bootstrap band (fitted-curve uncertainty)."""
    from ...analysis.curves import CurvePrediction

    if not isinstance(prediction, CurvePrediction):
        raise InputError(f"`prediction` must be a CurvePrediction, got {type(prediction).__name__}")
    ax = new_axes(ax, figsize)
    line, = ax.plot(prediction.steps, prediction.loss, color=color, lw=1.6, label=label)
    if prediction.low is not None:
        ax.fill_between(prediction.steps, prediction.low, prediction.high, alpha=0.25,
                        color=line.get_color(), lw=0,
                        label=f"{100 * prediction.confidence_level:g}% bootstrap band")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(LABELS["loss"])
    return ax
