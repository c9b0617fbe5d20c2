"""Figures of learning curves: the logged loss, the fitted law through it, and the LR.

:func:`learning_curves` draws each fitted curve's points (filled) and the law's curve
through them (solid line), each held-out curve's points (hollow) and the law's prediction
for its schedule (dashed), in one colour per run, with the learning rate of every run on
a twin axis (thin lines, right) and, in a panel below, each curve's points relative to the
law (%). :func:`curve_band` draws a
:class:`~scalinglaws.analysis.curves.CurvePrediction` with its bootstrap band, and the band
relative to the prediction in an inset.
Matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

import numpy as np

from ..._exceptions import InputError
from ._style import LABELS, new_axes, pyplot

__all__ = ["curve_band", "learning_curves"]

#: points drawn per curve by default (every point of a 72k-step log is a solid band)
_POINTS_PER_CURVE = 120


def _check(result, curves, name):
    from ...data.curves import Curves
    from ...fitting.curves import CurveFitResult

    if not isinstance(result, CurveFitResult):
        raise InputError(f"`result` must be a CurveFitResult, got {type(result).__name__}")
    if curves is not None and not isinstance(curves, Curves):
        raise InputError(f"`{name}` must be Curves, got {type(curves).__name__}")


def _draw(ax, lr_ax, res_ax, result, curves, style, colours, start, x, stride, shown):
    """Draw one part (fitted or held out); add its points' and law's losses after each
    run's warmup to ``shown`` (for the y-range)."""
    law = result.law
    predicted = law.predict(result.params, law.prepare(curves,
                                                       quadrature=result.options.get("quadrature")))
    runs = curves.frame["run_id"].to_numpy()
    for i, run in enumerate(curves.runs):
        colour = colours(start + i)
        mask = runs == run
        steps = curves.steps(run)
        after = steps >= int(np.argmax(curves.lr_array(run)))  # warmup ends at the LR's peak
        shown["points"].append(curves.loss(run)[after])
        shown["law"].append(predicted[mask][after])
        scale = 1.0 if x == "step" else curves.frame["tokens"].to_numpy()[mask] / np.maximum(
            steps, 1)
        where = steps * scale
        marker = dict(marker="o", s=9, color=colour, lw=0, alpha=0.6) if style == "fit" \
            else dict(marker="o", s=12, facecolors="none", edgecolors=colour, lw=0.8, alpha=0.6)
        # the law's lines over the points, and the fitted curves over the held-out ones
        # (a held-out run that repeats a fitted one's start would hide it)
        above = 0.5 if style == "fit" else 0.0
        every = stride or max(1, len(steps) // _POINTS_PER_CURVE)
        ax.scatter(where[::every], curves.loss(run)[::every], zorder=2 + above, **marker)
        ax.plot(where, predicted[mask], color=colour, lw=1.6, zorder=3 + above,
                ls="-" if style == "fit" else "--",
                label=f"{run} ({'fitted' if style == 'fit' else 'predicted'})")
        if res_ax is not None:  # where the points leave the law, in % of the loss
            res_ax.plot(where, 100 * (curves.loss(run) / predicted[mask] - 1), color=colour,
                        lw=0.9, ls="-" if style == "fit" else "--")
        if lr_ax is not None:
            lr = curves.lr_array(run)
            grid = np.arange(len(lr))
            lr_ax.plot(grid * (scale if np.isscalar(scale) else np.median(scale)), lr,
                       color=colour, lw=1.0, alpha=0.7, ls=":")


def _loss_range(ax, shown) -> None:
    """The loss axis from just below the lowest point or law value after warmup to the
    90th percentile of the points after warmup. The first logged losses (13.4 nats at
    step 0 of a W&B run, near ln V) would otherwise set the range and squeeze what the
    figure is for, the hundredths of a nat by which schedules differ late in training,
    into one line; the early fall leaves through the top, as in the papers' figures."""
    points = np.concatenate(shown["points"]) if shown["points"] else np.zeros(0)
    law = np.concatenate(shown["law"]) if shown["law"] else np.zeros(0)
    points, law = points[np.isfinite(points)], law[np.isfinite(law)]
    if not points.size:
        return
    low = min(points.min(), law.min() if law.size else np.inf)
    high = max(np.percentile(points, 90), points.min())
    margin = 0.05 * (high - low) if high > low else 0.01 * abs(high)
    ax.set_ylim(low - margin, high + margin)


def learning_curves(result, curves=None, heldout=None, *, ax=None, x: str = "step",
                    show_lr: bool = True, stride: int | None = None, figsize=None,
                    legend: bool = True, residuals: bool | None = None):
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
    stride : int, optional
        Draw every ``stride``-th point (lines use every point). Default: about
        :data:`_POINTS_PER_CURVE` points per curve, so the laws' lines stay visible
        between the markers of a 72k-step log.
    residuals : bool, optional
        A panel below the curves with each curve's points relative to the law,
        ``100 (observed / law - 1)`` %: the curves overlap and fall by a nat, their misfits
        are tenths of a percent (default: when the figure is made here, not with ``ax``).

    The loss axis spans the points after warmup up to their 90th percentile (the steep
    first steps leave through the top; ``ax.set_ylim`` shows them).

    Returns
    -------
    matplotlib Axes
        The loss axes (the LR axes is ``ax.lr_axes`` when drawn, the residual panel
        ``ax.residual_axes``).
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
    if stride is not None and (not isinstance(stride, (int, np.integer)) or stride < 1):
        raise InputError(f"`stride` must be a positive integer, got {stride!r}")
    if residuals and ax is not None:
        raise InputError("`residuals=True` draws its own panel below the curves: give no "
                         "`ax`, or residuals=False")
    res_ax = None
    if ax is None and residuals is not False:
        _fig, (ax, res_ax) = pyplot().subplots(2, 1, sharex=True, height_ratios=(3, 1.3),
                                               figsize=figsize or (7.5, 7.5),
                                               layout="constrained")
    ax = new_axes(ax, figsize, default=(7.5, 6.0))
    lr_ax = ax.twinx() if show_lr else None
    colours = pyplot().get_cmap("tab10")
    start, shown = 0, {"points": [], "law": []}
    for part, style in ((curves, "fit"), (heldout, "heldout")):
        if part is not None:
            _draw(ax, lr_ax, res_ax, result, part, style, colours, start, x, stride, shown)
            start += len(part.runs)
    _loss_range(ax, shown)
    (ax if res_ax is None else res_ax).set_xlabel("optimizer step" if x == "step"
                                                  else LABELS["D"])
    ax.set_ylabel(LABELS["loss"])
    if res_ax is not None:
        res_ax.axhline(0.0, color="0.3", lw=0.8)
        res_ax.set_ylabel("observed / law − 1 (%)")
        ax.residual_axes = res_ax
    styles = ["solid = fitted"] * (curves is not None) + \
        ["dashed = predicted for held-out schedules"] * (heldout is not None)
    ax.set_title(f"{result.law.name}: {', '.join(styles)}", fontsize=9)
    if lr_ax is not None:
        lr_ax.set_ylabel("learning rate (dotted lines)")
        lr_ax.set_ylim(0, None)
        ax.set_zorder(lr_ax.get_zorder() + 1)  # points and fits above the LR lines
        ax.patch.set_visible(False)
        ax.lr_axes = lr_ax
    if legend:  # below the axes: the curves fill the plot
        below = ax if res_ax is None else res_ax
        handles, labels = ax.get_legend_handles_labels()
        below.legend(handles, labels, fontsize=7, loc="upper center",
                     bbox_to_anchor=(0.5, -0.13 if res_ax is None else -0.32),
                     ncol=2 if start > 3 else 1, frameon=False)
    return ax


def curve_band(prediction, *, ax=None, label: str | None = None, color=None, figsize=None,
               inset: bool = True):
    """A predicted curve and, when it has one, its bootstrap band (fitted-curve uncertainty).

    The band is a few thousandths of a nat around a curve that falls by a nat or more, too
    thin to see on the curve's own axis: with ``inset`` (default) an inset in the upper
    right draws it relative to the prediction (``band - predicted``, nats), at every step;
    it is returned as ``ax.band_axes``.
    """
    from ...analysis.curves import CurvePrediction

    if not isinstance(prediction, CurvePrediction):
        raise InputError(f"`prediction` must be a CurvePrediction, got {type(prediction).__name__}")
    ax = new_axes(ax, figsize)
    line, = ax.plot(prediction.steps, prediction.loss, color=color, lw=1.6, label=label)
    if prediction.low is not None:
        band = f"{100 * prediction.confidence_level:g}% bootstrap percentile band"
        ax.fill_between(prediction.steps, prediction.low, prediction.high, alpha=0.25,
                        color=line.get_color(), lw=0, label=band)
        if inset:
            low, high = prediction.low - prediction.loss, prediction.high - prediction.loss
            largest = np.nanmax(np.abs(np.r_[low, high])) if np.any(np.isfinite(low)) else 0.0
            power = int(np.floor(np.log10(largest))) if largest > 0 else 0
            unit = "nats" if power == 0 else f"$10^{{{power}}}$ nats"
            width = ax.inset_axes([0.5, 0.56, 0.47, 0.38])
            width.fill_between(prediction.steps, low / 10.0 ** power, high / 10.0 ** power,
                               alpha=0.35, color=line.get_color(), lw=0)
            width.axhline(0.0, color=line.get_color(), lw=1.0)
            width.set_title(f"{band} − predicted ({unit})", fontsize=7)
            width.tick_params(labelsize=6)
            ax.band_axes = width
    if label:  # the curve's own name, and the band's (the inset is in the upper right)
        ax.legend(loc="lower left", fontsize=8)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(LABELS["loss"])
    return ax
