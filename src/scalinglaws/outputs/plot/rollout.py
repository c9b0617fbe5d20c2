"""How prediction error grows with extrapolation: rollout back-tests, one or more estimators."""

from __future__ import annotations

import numpy as np

from ..._exceptions import InputError
from ._checks import check_canvas
from ._style import new_axes, readable_log_ticks

__all__ = ["rollout_errors"]

#: percentiles of the errors in a bin that bound the shaded band (its central 80%)
_BAND_LOW, _BAND_HIGH = 10, 90


def _rollouts(rollout):
    """One rollout result or a sequence of them (each with a distinct ``label``)."""
    from ...uncertainty.rollout import RolloutResult

    items = [rollout] if isinstance(rollout, RolloutResult) else list(rollout) \
        if isinstance(rollout, (list, tuple)) else None
    if not items or not all(isinstance(r, RolloutResult) for r in items):
        raise InputError("`rollout` must be a RolloutResult (from backtest(..., rollout=True) "
                         "or rollout(...)) or a list of them")
    labels = [r.label for r in items]
    if len(set(labels)) != len(labels):
        raise InputError(f"the rollouts must have distinct labels to be told apart, got {labels}")
    return items


def rollout_errors(rollout, ax=None, *, interval: str | None = None, n_bins: int = 8,
                   figsize=None):
    """Signed prediction error of held-out runs against the extrapolation factor.

    Every held-out (fold, run) record is a point: horizontally its extrapolation factor
    (its compute, or N or D, over the largest the fold was fitted on), vertically
    ``(predicted - observed) / observed`` in percent (above zero: the law over-predicts
    the loss). The line through each estimator's points is the median error in bins of
    the factor, and the band its central 80% (10th to 90th percentile of the errors in the
    bin: their spread, not an interval estimate; the legend says so). With ``interval`` (a
    kind the rollout recorded, e.g. ``"prediction"``), records outside their interval are
    ringed, and the legend names the interval's level and kind when the rollout recorded
    them (its hook returned a ``Prediction``: "95% bootstrap percentile confidence
    interval").

    Parameters
    ----------
    rollout : RolloutResult or list of RolloutResult
        One rollout, or several (each estimator in its own colour, by ``label``).
    ax : matplotlib Axes, optional
    interval : str, optional
        Interval kind whose misses are marked.
    n_bins : int
        Bins of the log factor for the median line.
    figsize : (float, float), optional

    Returns
    -------
    matplotlib Axes
    """
    items = _rollouts(rollout)
    figsize = check_canvas(ax, figsize)
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise InputError(f"`n_bins` must be a positive integer, got {n_bins!r}")
    if interval is not None:
        missing = [r.label for r in items if interval not in r.intervals]
        if missing:
            raise InputError(f"`interval` {interval!r} was not recorded by rollout(s) {missing}")
    ax = new_axes(ax, figsize, default=(7.0, 4.6))
    colours = [f"C{i % 10}" for i in range(len(items))]
    factors = np.concatenate([np.asarray(r.factor, float) for r in items])
    edges = np.geomspace(factors.min(), factors.max() * (1 + 1e-9), n_bins + 1)
    for r, colour in zip(items, colours):
        factor = np.asarray(r.factor, float)
        error = 100 * np.asarray(r.signed_relative_error, float)
        ax.scatter(factor, error, s=12, alpha=0.45, color=colour, linewidths=0,
                   label=f"{r.label}: mean |error| {100 * r.mean_relative_error:.2g}%")
        if interval is not None:
            missed = ~r.covered(interval)
            ax.scatter(factor[missed], error[missed], s=40, facecolors="none",
                       edgecolors=colour, linewidths=1.0)
        centres, median, low, high = [], [], [], []
        for a, b in zip(edges[:-1], edges[1:]):
            inside = (factor >= a) & (factor < b)
            if inside.sum() >= 3:
                centres.append(np.sqrt(a * b))
                q_low, q50, q_high = np.percentile(error[inside], [_BAND_LOW, 50, _BAND_HIGH])
                median.append(q50), low.append(q_low), high.append(q_high)
        if centres:
            ax.plot(centres, median, color=colour, lw=2.0)
            ax.fill_between(centres, low, high, color=colour, alpha=0.15, linewidth=0)
    ax.axhline(0.0, color="0.3", lw=0.8)
    ax.set_xscale("log")
    readable_log_ticks(ax, "x", counts=False)  # a factor of 1.5-100: 2, 5, 10, 20, 50
    axis = items[0].axis
    ax.set_xlabel(f"extrapolation factor ({axis} / largest fitted {axis})")
    ax.set_ylabel("signed error, (predicted − observed) / observed (%)")
    ax.set_title("rollout back-test: fit below each cut, predict above", fontsize=10)
    # below the axes: inside, the longer legend hid the records it explains
    ax.legend(*_legend(ax, interval, items, colours), fontsize=8, frameon=False, ncols=2,
              loc="upper center", bbox_to_anchor=(0.5, -0.13))
    return ax


def _missed(interval, items) -> str:
    """What the rings mark: records outside the ``interval`` hook's interval, named by its
    level and kind when the rollout recorded them (a hook returning a Prediction), per
    estimator when they differ."""
    described = {r.label: r.describe_interval(interval) for r in items}
    kinds = set(described.values())
    if kinds == {None}:
        return f"outside its {interval!r} interval (the rollout's hook)"
    if len(kinds) == 1:
        return f"outside its {kinds.pop()} ({interval!r})"
    # one line per estimator: on one line the legend squeezed the axes to nothing
    return "\n".join([f"outside its {interval!r} interval:"]
                     + [f"  {label}: {kind or 'kind not recorded'}"
                        for label, kind in described.items()])


def _legend(ax, interval, items, colours):
    """The estimators' points, then what the lines, the bands and the rings are: the band is
    the spread of the records' errors in a bin (their 10th to 90th percentiles), not an
    interval estimate, and the legend says so (an audit found it unnamed). Their keys take
    the one estimator's colour as drawn (grey keys of a blue band and line read as other
    marks); with several estimators, grey keys say that each is in its estimator's colour."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    one = len(items) == 1
    colour, each = (colours[0], "") if one else ("0.35", " (each estimator's colour)")
    handles, labels = ax.get_legend_handles_labels()
    handles += [Line2D([], [], color=colour, lw=2.0),
                Patch(facecolor=colour, alpha=0.15 if one else 0.25, linewidth=0)]
    labels += [f"median error per bin of the factor{each}",
               f"central {_BAND_HIGH - _BAND_LOW}% of errors per bin "
               f"({_BAND_LOW}th–{_BAND_HIGH}th percentile){each}"]
    if interval is not None:
        handles.append(Line2D([], [], ls="", marker="o", ms=6, mfc="none", mec=colour))
        labels.append(_missed(interval, items))
    return handles, labels
