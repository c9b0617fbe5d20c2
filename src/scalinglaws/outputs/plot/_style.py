"""What every figure shares: axis labels with units, number formats, colour scales, and
the Axes a figure is drawn on. Imports matplotlib only inside functions."""

from __future__ import annotations

import numpy as np

#: Axis labels with units, by canonical column.
LABELS = {
    "N": "parameters N",
    "D": "training tokens D",
    "C": "training compute C (FLOP)",
    "loss": "loss (nats/token)",
    "U": "unique tokens U",
}

#: The inputs a figure can put on a horizontal axis.
CANONICAL = ("N", "D", "C")

#: Greek letters for parameter names in panel labels.
GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "alpha_N": "α_N", "alpha_D": "α_D",
         "alpha_C": "α_C"}


def pyplot():
    """``matplotlib.pyplot``, imported on first use."""
    import matplotlib.pyplot as plt

    return plt


def new_axes(ax, figsize, default=(6.4, 4.6)):
    """``ax`` (already checked) or the Axes of a new constrained-layout figure of
    ``figsize`` inches (``default`` when None)."""
    if ax is not None:
        return ax
    _fig, ax = pyplot().subplots(figsize=figsize or default, layout="constrained")
    return ax


def readable_log_ticks(ax, which: str = "x", counts: bool = True) -> None:
    """On a log axis spanning under about two decades, label the decades and the 2s and 5s
    between them compactly (``20M``, ``50M``, ``100M``; compute as ``2e+19``): matplotlib
    labels every minor tick there, and on a figure's width its ``2x10^7 3x10^7 ...``
    overlap. Wider axes keep matplotlib's labels (decades only)."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    from ...analysis.results import fmt_count

    axis = ax.xaxis if which == "x" else ax.yaxis
    low, high = ax.get_xlim() if which == "x" else ax.get_ylim()
    if not (0 < low < high) or high / low > 300:
        return

    def label(value, _):
        if value <= 0:
            return ""
        return fmt_count(value) if counts else f"{value:.3g}"

    def some(value, _):
        mantissa = f"{value:.0e}"[0] if value > 0 else ""
        return label(value, _) if mantissa in "25" else ""

    axis.set_major_formatter(FuncFormatter(label))
    axis.set_minor_locator(LogLocator(base=10, subs=(2, 3, 4, 5, 6, 7, 8, 9)))
    axis.set_minor_formatter(FuncFormatter(some))
    # minor ticks are shorter: pad their labels so all labels sit on one line
    rc = pyplot().rcParams
    key = "xtick" if which == "x" else "ytick"
    axis.set_tick_params(which="minor", pad=rc[f"{key}.major.pad"] + rc[f"{key}.major.size"]
                         - rc[f"{key}.minor.size"])


def plain_log_ticks(ax, which: str = "y") -> None:
    """Plain-number ticks on a short log axis, which matplotlib labels too sparsely: under a
    decade (a multiplier's band 0.97-1.07 had the one label "1", a loss axis 2-3.5 only "2"
    and "3") round linear steps, 0.98 1 1.02 ... or 2 2.5 3 ...; under two decades the
    decades and the 2s, 3s and 5s between them. Longer axes keep matplotlib's labels. Call
    it once the axis holds everything it shows (it reads the limits)."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter, NullLocator

    axis = ax.xaxis if which == "x" else ax.yaxis
    low, high = ax.get_xlim() if which == "x" else ax.get_ylim()
    if not (0 < low < high) or high / low >= 100:
        return
    plain = FuncFormatter(lambda value, _: f"{value:g}" if value > 0 else "")
    if high / low < 10:
        axis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        axis.set_minor_locator(NullLocator())
        axis.set_minor_formatter(NullFormatter())
    else:  # the minor ticks 2, 3 and 5 of each decade (the others would crowd)
        axis.set_minor_formatter(FuncFormatter(
            lambda value, _: f"{value:g}" if value > 0 and f"{value:.0e}"[0] in "235" else ""))
    axis.set_major_formatter(plain)


def sci(value: float, digits: int = 3) -> str:
    """Compact scientific text: 1e21, 5.76e23."""
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def log_norm_or_linear(values):
    """A colour scale for ``values``: logarithmic when they are positive and span more than
    a factor 20, else linear."""
    from matplotlib.colors import LogNorm, Normalize

    finite = values[np.isfinite(values)]
    if finite.size and np.all(finite > 0) and finite.max() / finite.min() > 20:
        return LogNorm(vmin=finite.min(), vmax=finite.max())
    if finite.size == 0:
        return Normalize(0, 1)
    low, high = finite.min(), finite.max()
    return Normalize(low, high if high > low else low + 1)


def ordered_unique(labels):
    """The distinct labels, sorted when they can be, else in order of appearance."""
    seen = []
    for value in labels.tolist():
        if value not in seen:
            seen.append(value)
    try:
        return sorted(seen)
    except TypeError:
        return seen


def legend_clear_of_points(ax, **options):
    """``ax.legend(loc="best", **options)``, moved below the axes (frameless, under the
    tick labels and the axis label) when the place matplotlib picks inside still covers
    the centre of a point of the Axes' scatters: a wide legend over runs hid the very
    runs it names (the IsoFLOP figure's excluded outlier). Only in a figure with a layout
    engine (the package's own), which makes room for it; elsewhere (an ``ax`` of the
    caller's plain figure) a legend below the axes could fall off the canvas. There its
    lines wrap to the panel's width, inside and below."""
    figure = ax.figure
    if figure.get_layout_engine() is None:
        return ax.legend(loc="best", **options)
    # wrapped to the panel's width before the layout: one line wider than the figure
    # collapses a constrained layout
    handles, labels = ax.get_legend_handles_labels()
    legend = ax.legend(handles, _wrapped(labels, ax, options.get("fontsize")), loc="best",
                       **options)
    figure.draw_without_rendering()  # the layout places the Axes, "best" the legend
    box = legend.get_window_extent()
    points = [collection.get_offset_transform().transform(collection.get_offsets())
              for collection in ax.collections if len(collection.get_offsets())]
    if not points:
        return legend
    xy = np.concatenate(points)
    covered = ((xy[:, 0] >= box.x0) & (xy[:, 0] <= box.x1) & (xy[:, 1] >= box.y0)
               & (xy[:, 1] <= box.y1))
    if not covered.any():
        return legend
    from matplotlib.transforms import ScaledTranslation

    legend.remove()
    # below the tick labels and the axis label by their height in inches, which stays
    # right when the layout then shrinks the Axes to make room
    gap = (ax.get_window_extent().y0 - ax.xaxis.get_tightbbox().y0) / figure.dpi + 0.05
    below = ax.transAxes + ScaledTranslation(0, -gap, figure.dpi_scale_trans)
    options = {key: value for key, value in options.items() if key != "framealpha"}
    handles, labels = ax.get_legend_handles_labels()
    return ax.legend(handles, _wrapped(labels, ax, options.get("fontsize")), loc="upper center",
                     bbox_to_anchor=(0.5, 0.0), bbox_transform=below, frameon=False, **options)


def _wrapped(labels, ax, fontsize):
    """``labels`` wrapped to lines no wider than ``ax``: a legend below the axes wider than
    them widened the layout's column, and the colour bar beside it floated far from its
    panel (the IsoFLOP profiles' line naming the excluded budgets)."""
    import textwrap

    from matplotlib.font_manager import FontProperties

    points = FontProperties(size=fontsize).get_size_in_points()
    inches = ax.get_window_extent().width / ax.figure.dpi - 0.5  # less the marker column
    # an average character of a sans-serif font is about 0.55 em wide
    width = max(20, int(inches * 72 / (0.55 * points)))
    return [textwrap.fill(label, width, break_on_hyphens=False) for label in labels]
