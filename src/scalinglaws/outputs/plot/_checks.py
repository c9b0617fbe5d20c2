"""Argument checks shared by the figure functions and by :mod:`scalinglaws.report`.

Every public figure function checks all of its arguments here (and with the package's
scalar checks, :mod:`scalinglaws._validation`), before it creates a figure, and each
failure is an :class:`~scalinglaws.InputError` naming the argument.
The resolution and size limits keep ``savefig`` from asking for gigabytes: a figure of
``w x h`` inches at ``dpi`` is a raster of ``w*dpi x h*dpi`` pixels (4 bytes each), and
``dpi=100000`` on a 6.4-inch figure asked matplotlib for a 640,000-pixel-wide canvas.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Mapping

import numpy as np

from ..._exceptions import InputError

#: Resolution limits of raster output (dots per inch). 1200 dpi is the usual ceiling of
#: journals' line-art requirements; 2400 leaves room for small figures.
MIN_DPI, MAX_DPI = 10, 2400
#: Figure side limits (inches).
MIN_INCHES, MAX_INCHES = 1.0, 100.0
#: Largest raster: 1e8 pixels (400 MB as RGBA) and 32,768 pixels a side (Agg's hard limit
#: is 65,536).
MAX_PIXELS, MAX_SIDE_PIXELS = 100_000_000, 32_768


def range_shown(function):
    """Decorate a figure that draws a law over a range of its own choosing (and marks the
    fitted runs): the far-beyond-the-runs warning of the calls inside it is the figure's
    to show, not a warning to print."""
    @functools.wraps(function)
    def drawn(*args, **kwargs):
        from ...analysis._common import far_beyond_shown

        with far_beyond_shown():
            return function(*args, **kwargs)

    return drawn


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


# ------------------------------------------------------------------ scalars
def positive_range(name: str, value, default):
    """``value`` as ``(low, high)`` with ``0 < low < high`` finite; ``default`` when None."""
    if value is None:
        return default
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise InputError(f"`{name}` must be a (low, high) pair of positive numbers, got "
                         f"{value!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low < high):
        raise InputError(f"`{name}` must satisfy 0 < low < high (finite), got {value!r}")
    return low, high


def positive_array(name: str, value, *, minimum_size: int = 1):
    """``value`` as a 1-D float array of finite positive numbers."""
    try:
        array = np.atleast_1d(np.asarray(value, dtype=float))
    except (TypeError, ValueError):
        raise InputError(f"`{name}` must be positive numbers, got {value!r}") from None
    if array.ndim != 1 or array.size == 0 or not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise InputError(f"`{name}` must be a non-empty list of finite positive numbers, "
                         f"got {value!r}")
    if array.size < minimum_size:
        raise InputError(f"`{name}` must hold at least {minimum_size} values, got {array.size}")
    return array


# ------------------------------------------------------------------ matplotlib objects
def check_cmap(name: str, value):
    """A matplotlib colour map name (or Colormap)."""
    import matplotlib
    from matplotlib.colors import Colormap

    if isinstance(value, Colormap):
        return value
    if not isinstance(value, str) or value not in matplotlib.colormaps:
        raise InputError(f"`{name}` must name a matplotlib colour map (e.g. 'viridis'), got "
                         f"{value!r}")
    return value


def check_figsize(figsize, *, given=None, given_name: str = "ax"):
    """``figsize`` as ``(width, height)`` inches within the limits, or None.

    ``given`` is the Axes/Figure the caller passed: a size then has nothing to apply to.
    """
    if figsize is None:
        return None
    if given is not None:
        raise InputError(f"`figsize` sizes a new figure; it cannot be combined with "
                         f"`{given_name}` (size that figure yourself)")
    try:
        width, height = figsize
    except (TypeError, ValueError):
        raise InputError(f"`figsize` must be a (width, height) pair in inches, got "
                         f"{figsize!r}") from None
    for value in (width, height):
        if not _is_number(value) or not MIN_INCHES <= value <= MAX_INCHES:
            raise InputError(f"`figsize` sides must be numbers from {MIN_INCHES:g} to "
                             f"{MAX_INCHES:g} inches, got {figsize!r}")
    return float(width), float(height)


def check_ax(ax, name: str = "ax"):
    """``ax`` is None or a matplotlib Axes."""
    if ax is None:
        return None
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise InputError(f"`{name}` must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def check_canvas(ax, figsize):
    """Check where a single-Axes figure is drawn: ``ax`` (None or a matplotlib Axes) and
    ``figsize`` (the size of a new figure, so not with ``ax``); returns ``figsize``."""
    check_ax(ax)
    return check_figsize(figsize, given=ax)


def check_dpi(dpi, name: str = "dpi") -> int:
    """A resolution from :data:`MIN_DPI` to :data:`MAX_DPI` dots per inch."""
    if not _is_int(dpi) or not MIN_DPI <= dpi <= MAX_DPI:
        raise InputError(f"`{name}` must be an integer from {MIN_DPI} to {MAX_DPI}, got {dpi!r}")
    return int(dpi)


def check_raster_size(size_inches, dpi: int, name: str = "dpi") -> None:
    """Refuse a raster larger than :data:`MAX_PIXELS` (or :data:`MAX_SIDE_PIXELS` a side)
    before matplotlib allocates it; the message gives the size and what would fit."""
    width, height = (float(v) for v in size_inches)
    pixels_w, pixels_h = width * dpi, height * dpi
    if pixels_w * pixels_h > MAX_PIXELS or max(pixels_w, pixels_h) > MAX_SIDE_PIXELS:
        fits = int(min(math.sqrt(MAX_PIXELS / (width * height)),
                       MAX_SIDE_PIXELS / max(width, height)))
        raise InputError(f"`{name}` = {dpi} makes this {width:.3g} x {height:.3g} inch figure "
                         f"{pixels_w:,.0f} x {pixels_h:,.0f} pixels, over the limit of "
                         f"{MAX_PIXELS:,} pixels ({MAX_SIDE_PIXELS:,} a side); use dpi <= {fits} "
                         "or a vector format (.pdf, .svg)")


# ------------------------------------------------------------------ fits and data
def check_result(result, name: str = "result"):
    """The form of a fitted law with finite parameters."""
    from ...laws.forms import Form

    form = getattr(result, "form", None)
    params = getattr(result, "params", None)
    if not isinstance(form, Form) or not isinstance(params, Mapping):
        raise InputError(f"`{name}` must be a FitResult (with a Form `.form` and `.params`), "
                         f"got {type(result).__name__}")
    values = form.params_vector(params)
    if not np.all(np.isfinite(values)):
        raise InputError(f"cannot plot a fit whose parameters are not all finite: {dict(params)}")
    return form


def check_runs(runs, name: str = "runs", *, fit=None):
    """``runs`` as :class:`~scalinglaws.Runs` (required); with ``fit``, a table is read
    with the column mapping the fit records (:func:`fitted_runs`; Runs are compared with
    it, as with the fit's fingerprint, by save_figure and the report, not by each
    figure)."""
    if runs is None:
        raise InputError(f"`{name}` is required: the runs the law was fitted to")
    return fitted_runs(runs, fit, check=False)


def fitted_runs(data, fit, *, check: bool = True):
    """``data`` (Runs, a path, a DataFrame or a dict of columns; None stays None) as the
    runs of ``fit``: a table is read with the column mapping the fit's runs were read with
    (``fit.options["rows"]["columns"]``, when it records one); Runs are taken as they
    were loaded, with (``check``) a :class:`~scalinglaws.DataMismatchWarning` naming both
    mappings where they read another column than the fit's record
    (:func:`scalinglaws.data.selection.warn_other_columns`)."""
    if data is None:
        return None
    from ...data.runs import Runs, as_runs
    from ...data.selection import read_with_recorded_columns, warn_other_columns

    rows = (getattr(fit, "options", None) or {}).get("rows") or {}
    columns = dict(rows.get("columns") or {})
    if not isinstance(data, Runs):
        return read_with_recorded_columns(
            lambda: as_runs(data, columns=columns or None), bool(columns),
            where=f"options['rows']['columns'] = {columns!r}",
            otherwise="pass Runs loaded with load_runs(..., columns=...) to read the table "
                      "otherwise")
    if columns and check:
        warn_other_columns(data, columns)
    return data


def allocatable(form) -> bool:
    """Whether the law splits compute between parameters and tokens (inputs N and D)."""
    return set(form.inputs) == {"N", "D"}


def require_allocatable(form, what: str) -> None:
    if not allocatable(form):
        raise InputError(f"{what} needs a law in N and D (e.g. chinchilla, kaplan_nd); form "
                         f"{form.name!r} has inputs ({', '.join(form.inputs)})")


def check_isoflop(isoflop_result, name: str = "isoflop_result"):
    """The per-budget table of an IsoFLOP result."""
    table = getattr(isoflop_result, "budgets", None)
    needed = {"C", "N_opt", "loss_opt", "status"}
    if table is None or not hasattr(table, "columns") or not needed <= set(table.columns):
        raise InputError(f"`{name}` must be an IsoFLOPResult of "
                         "scalinglaws.isoflop.isoflop_fit (with a per-budget `budgets` table), "
                         f"got {type(isoflop_result).__name__}")
    return table
