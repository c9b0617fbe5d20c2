"""Names beside points without overlap (the models on the efficient frontier)."""

from __future__ import annotations

import numpy as np


def place_labels(ax, xs, ys, texts, fontsize=8):
    """Annotate points with their names without (much) overlap.

    Points whose markers coincide on screen share one label (``"GPT-3 / Jurassic"``).
    Each label then takes, greedily from left to right, the offset that overlaps least
    with the labels already placed, the markers, the legend and the axes edge; a label
    set away from its point gets a thin leader line.
    """
    fig = ax.figure
    try:
        fig.draw_without_rendering()  # apply the layout so positions are final
        renderer = fig.canvas.get_renderer()
    except AttributeError:  # a backend without a renderer: plain offsets
        renderer = None
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    pixels = ax.transData.transform(np.column_stack([xs, ys]))
    radius = 4.5 * fig.dpi / 72  # about a marker
    # merge points that sit on each other
    groups, assigned = [], np.full(len(xs), -1)
    for i in np.argsort(xs):
        if assigned[i] >= 0:
            continue
        close = np.flatnonzero((np.hypot(*(pixels - pixels[i]).T) < 1.6 * radius)
                               & (assigned < 0))
        assigned[close] = len(groups)
        groups.append(close)
    candidates = [(6, 5, "left", "bottom"), (6, -5, "left", "top"), (-6, 5, "right", "bottom"),
                  (-6, -5, "right", "top"), (9, 0, "left", "center"),
                  (-9, 0, "right", "center"), (0, 9, "center", "bottom"),
                  (0, -9, "center", "top"), (16, 16, "left", "bottom"),
                  (-16, 16, "right", "bottom"), (16, -16, "left", "top"),
                  (-16, -16, "right", "top"), (0, 26, "center", "bottom"),
                  (0, -26, "center", "top"), (28, 0, "left", "center"),
                  (-28, 0, "right", "center")]
    obstacles, annotations = [], []
    if renderer is not None:
        from matplotlib.transforms import Bbox

        markers = [Bbox([[px - radius, py - radius], [px + radius, py + radius]])
                   for px, py in pixels]
        axes_box = ax.get_window_extent(renderer)
        legend = ax.get_legend()
        legend_box = legend.get_window_extent(renderer) if legend is not None else None
    for members in groups:
        x, y = np.exp(np.log(xs[members]).mean()), np.exp(np.log(ys[members]).mean())
        text = " / ".join(texts[i] for i in members)
        best = None
        for dx, dy, ha, va in candidates if renderer is not None else candidates[:1]:
            far = abs(dx) > 10 or abs(dy) > 12
            ann = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points",
                              ha=ha, va=va, fontsize=fontsize, zorder=6,
                              bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                                    "alpha": 0.75},
                              arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "0.35",
                                          "shrinkA": 0, "shrinkB": 3} if far else None)
            if renderer is None:
                best = (0.0, ann, None)
                break
            box = ann.get_window_extent(renderer)
            area = box.width * box.height
            cost = 2.0 * sum(_overlap(box, other) for other in obstacles)
            cost += sum(_overlap(box, m) for m in markers)
            if legend_box is not None:
                cost += 3.0 * _overlap(box, legend_box)
            cost += 4.0 * (area - _overlap(box, axes_box))
            cost += 0.004 * area * (abs(dx) + abs(dy))  # prefer labels close to the point
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, ann, box)
            else:
                ann.remove()
        if best[2] is not None:
            obstacles.append(best[2])
        annotations.append(best[1])
    return annotations


def _overlap(a, b) -> float:
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return width * height if width > 0 and height > 0 else 0.0
