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
