"""Figures of fitted scaling laws (matplotlib, imported only when a function is called).

Every function draws on an existing Axes (``ax=``) or makes a new figure, and returns
what it drew on:

=========================  ===============================================================
:func:`fit_vs_data`        loss against N (or D, C): the runs and the fitted law through them
:func:`residuals`          residuals against N, D and C, with the Huber quadratic zone
:func:`efficient_frontier` compute-optimal N against compute, with published frontiers and
                           known models (above the line: more parameters than the compute
                           warrants, i.e. under-trained)
:func:`loss_landscape`     predicted loss over (N, D), iso-compute lines, compute-optimal path
:func:`bootstrap_corner`   pairwise scatter of bootstrap draws (the alpha-A, beta-B ridges)
:func:`isoflop_profiles`   IsoFLOP valleys: loss against N per budget (needs
                           :mod:`scalinglaws.isoflop`)
:func:`isoflop_frontier`   N_opt(C) and D_opt(C) from the IsoFLOP minima
=========================  ===============================================================

Units on every axis: N = parameters, D = training tokens, C = training compute in FLOP,
loss in nats per token. Importing this module does not import matplotlib.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..._exceptions import InputError

__all__ = [
    "LABELS",
    "bootstrap_corner",
    "efficient_frontier",
    "fit_vs_data",
    "hoffmann_frontier",
    "isoflop_frontier",
    "isoflop_profiles",
    "kaplan_frontier",
    "known_models_table",
    "loss_landscape",
    "residuals",
]

#: Axis labels with units, by canonical column.
LABELS = {
    "N": "parameters N",
    "D": "training tokens D",
    "C": "training compute C (FLOP)",
    "loss": "loss (nats/token)",
    "U": "unique tokens U",
}

PF_DAY = 8.64e19  # FLOP in one petaflop/s-day

#: Kaplan et al. 2020, App A Table 6 / Eq 6.1: N_opt = 1.3e9 * C_min^0.73, C_min in PF-days,
#: N non-embedding parameters.
KAPLAN_FRONTIER = {"N_e": 1.3e9, "p_N": 0.73}
#: Hoffmann et al. 2022, Eq 4 with the unrounded Approach-3 (TeX source) coefficients:
#: N_opt = G (C/6)^a.
HOFFMANN_FRONTIER = {"G": 1.3000, "a": 0.4565, "k": 6.0}

_CANONICAL = ("N", "D", "C")
_KNOWN_MODELS = Path(__file__).resolve().parents[2] / "data" / "known_models.csv"


# =========================================================================== helpers
def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def _new_axes(ax, figsize=(6.4, 4.6)):
    """``ax`` checked, or the Axes of a new constrained-layout figure."""
    if ax is None:
        plt = _pyplot()
        _fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return ax
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise InputError(f"`ax` must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _check_result(result):
    """The form and the finite parameters of a fitted law."""
    from ...laws.forms import Form

    form = getattr(result, "form", None)
    params = getattr(result, "params", None)
    if not isinstance(form, Form) or not isinstance(params, Mapping):
        raise InputError("`result` must be a FitResult (with a Form `.form` and `.params`), got "
                         f"{type(result).__name__}")
    values = form.params_vector(params)
    if not np.all(np.isfinite(values)):
        raise InputError(f"cannot plot a fit whose parameters are not all finite: {dict(params)}")
    return form


def _check_runs(runs):
    from ...data.runs import as_runs

    if runs is None:
        raise InputError("`runs` is required: the runs the law was fitted to")
    return as_runs(runs)


def _allocatable(form) -> bool:
    return set(form.inputs) == {"N", "D"}


def _require_allocatable(form, what: str):
    if not _allocatable(form):
        raise InputError(f"{what} needs a law in N and D (e.g. chinchilla, kaplan_nd); form "
                         f"{form.name!r} has inputs ({', '.join(form.inputs)})")


def _positive_range(name, value, default):
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


def _positive_array(name, value):
    try:
        array = np.atleast_1d(np.asarray(value, dtype=float))
    except (TypeError, ValueError):
        raise InputError(f"`{name}` must be positive numbers, got {value!r}") from None
    if array.ndim != 1 or array.size == 0 or not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise InputError(f"`{name}` must be a non-empty list of finite positive numbers, "
                         f"got {value!r}")
    return array


def _sci(value: float, digits: int = 3) -> str:
    """Compact scientific text: 1e21, 5.76e23."""
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def _count(value: float) -> str:
    """Human count: 70B, 1.4T, 125M."""
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def _draw_rows(result, draws):
    """The bootstrap draws to use: ``draws`` (array, DataFrame or BootstrapResult) or the
    fit's attached bootstrap, or None."""
    if draws is None:
        boot = getattr(result, "bootstrap", None)
        return None if boot is None else boot.draws
    return getattr(draws, "draws", draws)


def _log_norm_or_linear(values):
    from matplotlib.colors import LogNorm, Normalize

    finite = values[np.isfinite(values)]
    if finite.size and np.all(finite > 0) and finite.max() / finite.min() > 20:
        return LogNorm(vmin=finite.min(), vmax=finite.max())
    if finite.size == 0:
        return Normalize(0, 1)
    low, high = finite.min(), finite.max()
    return Normalize(low, high if high > low else low + 1)


# =========================================================================== fit vs data
def _group_labels(runs, groups):
    """Labels of the runs' groups (an array), or None when the runs form no groups."""
    frame = runs.frame
    if groups is not None:
        if isinstance(groups, str):
            if groups in _CANONICAL and runs.has(groups):
                return np.round(np.log10(runs.inputs(groups)[groups]), 3)
            if groups not in frame.columns:
                raise InputError(f"`groups` names no column of the runs: {groups!r}; columns: "
                                 f"{list(frame.columns)}")
            return frame[groups].to_numpy()
        labels = np.asarray(groups)
        if labels.shape != (len(runs),):
            raise InputError(f"`groups` must name a column or give {len(runs)} labels, got "
                             f"shape {labels.shape}")
        return labels
    for column in ("budget", "group"):
        if column in frame.columns:
            return frame[column].to_numpy()
    for name in ("C", "D"):  # an IsoFLOP (few compute values) or fixed-data sweep
        if runs.has(name):
            keys = np.round(np.log10(runs.inputs(name)[name]), 3)
            unique, counts = np.unique(keys, return_counts=True)
            if 2 <= unique.size <= max(3, len(runs) // 3) and counts.min() >= 3:
                return keys
    return None


def _auto_color_by(runs, labels) -> str:
    """Colour by compute for groups of one budget each, else by tokens."""
    if labels is not None and runs.has("C"):
        C = runs.C
        same = all(np.ptp(np.log10(C[labels == key])) < 1e-3 for key in _unique(labels))
        if same:
            return "C"
    return "D" if runs.has("D") else ("C" if runs.has("C") else "N")


def _unique(labels):
    seen = []
    for value in labels.tolist():
        if value not in seen:
            seen.append(value)
    try:
        return sorted(seen)
    except TypeError:
        return seen


def _curve_inputs(form, runs, x, mask, grid):
    """Inputs of the law along ``grid`` of ``x`` for the runs in ``mask``: each other input
    follows the runs' own log-linear relation to ``x`` (exact for C = kND budgets)."""
    values = {}
    log_x = np.log(runs.inputs(x)[x][mask])
    for name in form.inputs:
        if name == x:
            values[name] = grid
            continue
        log_v = np.log(runs.inputs(name)[name][mask])
        if np.ptp(log_v) < 1e-12:
            values[name] = np.full_like(grid, math.exp(log_v[0]))
        else:
            slope, intercept = np.polyfit(log_x, log_v, 1)
            values[name] = np.exp(intercept + slope * np.log(grid))
    return values


def fit_vs_data(result, runs, x: str = "N", color_by: str | None = None, *, groups=None,
                frontier: bool | None = None, cmap: str = "viridis", ax=None):
    """Observed losses and the fitted law through them.

    The runs are drawn as points coloured by ``color_by`` (with a colour bar); the law is
    drawn through each group of runs (an IsoFLOP budget, a ``group`` column, or runs sharing
    C or D), along that group's own range of ``x``, with the group's other inputs following
    the runs (e.g. ``D = C/(kN)`` inside a budget). A law of ``x`` alone is one curve.

    Parameters
    ----------
    result : FitResult
        The fitted law.
    runs : Runs, DataFrame or path
        The runs (usually those the law was fitted to).
    x : {"N", "D", "C"}
        Horizontal axis (log scale).
    color_by : str, optional
        ``"D"``, ``"C"``, ``"N"``, ``"loss"`` or any numeric column of ``runs.frame``. By
        default ``"C"`` when each group is one compute budget, else ``"D"`` (``"N"`` when
        ``x="C"``).
    groups : str or array, optional
        Column (or labels) grouping the runs into curves. By default a ``budget`` or
        ``group`` column, else C or D when the runs take a few distinct values of it.
    frontier : bool, optional
        Also draw the compute-optimal loss ``L*(C)`` (laws in N and D only; with
        ``x="C"``). Default: when ``x="C"`` and the law is in N and D.
    cmap : str
        Matplotlib colour map of the points.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes
    """
    form = _check_result(result)
    runs = _check_runs(runs)
    if x not in _CANONICAL:
        raise InputError(f"`x` must be one of N, D, C, got {x!r}")
    xs = runs.inputs(x)[x]  # InputError names a missing column
    inputs = runs.inputs(form.inputs)
    labels = _group_labels(runs, groups)
    if color_by is None:
        color_by = "N" if x == "C" else _auto_color_by(runs, labels)
    frame = runs.frame
    if color_by in _CANONICAL or color_by == "loss":
        colors = runs.inputs(color_by)[color_by] if color_by != "loss" else runs.loss
    elif isinstance(color_by, str) and color_by in frame.columns:
        try:
            colors = frame[color_by].to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise InputError(f"`color_by` column {color_by!r} must be numeric") from None
    else:
        raise InputError(f"`color_by` must be N, D, C, loss or a column of the runs, got "
                         f"{color_by!r}; columns: {list(frame.columns)}")
    if frontier is None:
        frontier = x == "C" and _allocatable(form)
    if frontier:
        _require_allocatable(form, "the compute-optimal frontier")

    plt = _pyplot()
    ax = _new_axes(ax)
    colormap = plt.get_cmap(cmap)
    norm = _log_norm_or_linear(colors)
    points = ax.scatter(xs, runs.loss, c=colors, cmap=colormap, norm=norm, s=22,
                        edgecolors="white", linewidths=0.4, zorder=3, label=f"runs ({len(runs)})")
    label = f"fit: {form.name}"
    x_low, x_high = xs.min(), xs.max()
    if form.inputs == (x,):
        grid = np.geomspace(x_low / 1.5, x_high * 1.5, 200)
        ax.plot(grid, result.predict(**{x: grid}), color="black", lw=1.6, label=label, zorder=2)
    elif set(form.inputs) <= set(_CANONICAL) | {"U"}:
        groups_list = ([(key, labels == key) for key in _unique(labels)] if labels is not None
                       else [])
        drawn = 0
        for key, mask in groups_list:
            group_x = xs[mask]
            if mask.sum() < 2 or np.ptp(np.log(group_x)) < 1e-9:
                continue  # one x value: no curve along x
            grid = np.geomspace(group_x.min(), group_x.max(), 120)
            along = _curve_inputs(form, runs, x, mask, grid)
            shade = colormap(norm(np.median(colors[mask])))
            ax.plot(grid, result.predict(**along), color=shade, lw=1.4, zorder=2,
                    label=label if drawn == 0 else None)
            drawn += 1
        if drawn == 0 and not frontier and "D" in form.inputs and x != "D":
            # no groups: iso-D lines at a few token counts across the range
            for q in (0.1, 0.5, 0.9):
                d_value = float(np.quantile(inputs["D"], q))
                grid = np.geomspace(x_low, x_high, 120)
                mask = np.ones(len(runs), bool)
                along = _curve_inputs(form, runs, x, mask, grid)
                along["D"] = np.full_like(grid, d_value)
                shade = colormap(norm(d_value)) if color_by == "D" else "0.3"
                ax.plot(grid, result.predict(**along), color=shade, lw=1.4, zorder=2,
                        label=f"fit at D = {_sci(d_value, 2)} tokens")
        elif drawn == 0 and not frontier:
            grid = np.geomspace(x_low, x_high, 200)
            along = _curve_inputs(form, runs, x, np.ones(len(runs), bool), grid)
            ax.plot(grid, result.predict(**along), color="black", lw=1.4, label=label)
    if frontier:
        from ...analysis.extrapolate import compute_optimal

        budgets = np.geomspace(runs.C.min() / 1.5, runs.C.max() * 1.5, 120)
        alloc = compute_optimal(result, budgets, flops_per_token=runs.flops_per_token)
        if x == "C":
            curve_x = budgets
        else:
            curve_x = alloc.n_params if x == "N" else alloc.n_tokens
        ax.plot(curve_x, alloc.loss, color="black", ls="--", lw=1.4, zorder=2,
                label="compute-optimal loss L*(C) (fit)")
    ax.set_xscale("log")
    ax.set_xlabel(LABELS[x])
    ax.set_ylabel(LABELS["loss"])
    colorbar = ax.figure.colorbar(points, ax=ax, pad=0.02)
    colorbar.set_label(LABELS.get(color_by, color_by))
    ax.legend(loc="lower left", fontsize="small", framealpha=0.9)
    ax.set_title(f"{form.name} fit to {len(runs)} runs", fontsize="medium")
    ax.grid(True, which="major", alpha=0.3)
    return ax


# =========================================================================== residuals
def residuals(result, runs, axes=None, *, color_by: str | None = "loss"):
    """Residuals of the fit against N, D and C (three panels).

    In log space (the default fit) the residual is ``log L_fit - log L_obs`` (about the
    relative error); in linear space ``L_fit - L_obs`` in nats/token. With the Huber loss
    the band ``±delta`` (where the loss is quadratic) is shaded: points outside it count
    linearly, i.e. as outliers.

    Parameters
    ----------
    result : FitResult
    runs : Runs, DataFrame or path
        The runs (usually those the law was fitted to).
    axes : sequence of 3 Axes, optional
        Panels for N, D and C; a new 1x3 figure when None. A panel whose column the runs
        lack says so.
    color_by : str or None
        Colour of the points (``"loss"`` by default; None for one colour).

    Returns
    -------
    numpy.ndarray of Axes, shape (3,)
    """
    form = _check_result(result)
    runs = _check_runs(runs)
    plt = _pyplot()
    if axes is None:
        _fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharey=True, layout="constrained")
    else:
        from matplotlib.axes import Axes

        axes = np.asarray(axes, dtype=object).ravel()
        if axes.size != 3 or not all(isinstance(a, Axes) for a in axes):
            raise InputError("`axes` must be a sequence of 3 matplotlib Axes (N, D, C panels)")
    axes = np.asarray(axes, dtype=object).ravel()
    options = getattr(result, "options", {}) or {}
    space = options.get("space", "log")
    predicted = result.predict(**runs.inputs(form.inputs))
    observed = runs.loss
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log(predicted) - np.log(observed) if space == "log" else predicted - observed
    colors = None
    if color_by is not None:
        if color_by == "loss" or color_by in _CANONICAL:
            colors = observed if color_by == "loss" else runs.inputs(color_by)[color_by]
        elif color_by in runs.frame.columns:
            colors = runs.frame[color_by].to_numpy(dtype=float)
        else:
            raise InputError(f"`color_by` must be N, D, C, loss, a column or None, got "
                             f"{color_by!r}")
    delta = options.get("delta")
    huber = options.get("loss") == "huber" and delta is not None
    ylabel = ("log residual  log L_fit − log L_obs" if space == "log"
              else "residual  L_fit − L_obs (nats/token)")
    scatter = None
    for ax, name in zip(axes, _CANONICAL):
        if not runs.has(name):
            ax.text(0.5, 0.5, f"no {name} column in the runs", ha="center", va="center",
                    transform=ax.transAxes, color="0.4")
            ax.set_xlabel(LABELS[name])
            ax.tick_params(axis="x", bottom=False, labelbottom=False)
            continue
        values = runs.inputs(name)[name]
        if huber:
            ax.axhspan(-delta, delta, color="tab:orange", alpha=0.25, lw=0,
                       label=f"Huber quadratic zone ±δ (δ = {delta:g})")
        ax.axhline(0.0, color="black", lw=0.8)
        scatter = ax.scatter(values, r, c=colors if colors is not None else "tab:blue",
                             cmap="viridis" if colors is not None else None, s=16,
                             edgecolors="none", label="runs")
        ax.set_xscale("log")
        ax.set_xlabel(LABELS[name])
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel(ylabel)
    axes[0].legend(loc="best", fontsize="small")
    if colors is not None and scatter is not None:
        bar = axes[-1].figure.colorbar(scatter, ax=list(axes), pad=0.01)
        bar.set_label(LABELS.get(color_by, color_by))
    rms = float(np.sqrt(np.nanmean(r**2)))
    axes[1].set_title(f"{form.name}: residuals of {len(runs)} runs (rms {rms:.3g}, "
                      f"{options.get('loss', '?')} loss, {space} space)", fontsize="medium")
    return axes


# =========================================================================== frontier
def kaplan_frontier(compute):
    """Kaplan et al. 2020 (App A Table 6, Eq 6.1) compute-efficient model size.

    ``N_opt = 1.3e9 * C_min^0.73`` with ``C_min`` in PF-days (``compute`` is taken in FLOP
    and divided by 8.64e19) and N non-embedding parameters.
    """
    compute = np.asarray(compute, dtype=float)
    return KAPLAN_FRONTIER["N_e"] * (compute / PF_DAY) ** KAPLAN_FRONTIER["p_N"]


def hoffmann_frontier(compute):
    """Hoffmann et al. 2022 Eq 4 with the unrounded Approach-3 coefficients.

    ``N_opt = 1.3000 * (C/6)^0.4565`` (C in FLOP; N total parameters).
    """
    compute = np.asarray(compute, dtype=float)
    c = HOFFMANN_FRONTIER
    return c["G"] * (compute / c["k"]) ** c["a"]


def known_models_table(models=None):
    """The table of well-known models: ``name``, ``params``, ``tokens``, ``flops``.

    Parameters
    ----------
    models : DataFrame, path or None
        A table with columns ``name``, ``params``, ``tokens`` and optionally ``flops``
        (``#`` comment lines allowed). None reads the table shipped with the package
        (``scalinglaws/data/known_models.csv``, typed in from the papers it cites).

    Returns
    -------
    DataFrame or None
        Missing ``flops`` are filled with ``6 * params * tokens``.
    """
    import pandas as pd

    if models is None:
        if not _KNOWN_MODELS.is_file():
            return None
        models = _KNOWN_MODELS
    if isinstance(models, (str, os.PathLike)):
        try:
            models = pd.read_csv(models, comment="#", skipinitialspace=True)
        except (OSError, ValueError) as error:
            raise InputError(f"{os.fspath(models)}: cannot read the models table ({error})") from None
    if not isinstance(models, pd.DataFrame):
        raise InputError(f"`models` must be a DataFrame or a path, got {type(models).__name__}")
    missing = [c for c in ("name", "params", "tokens") if c not in models.columns]
    if missing:
        raise InputError(f"the models table lacks column(s) {missing}; it needs name, params, "
                         "tokens and optionally flops")
    table = models.copy()
    for column in ("params", "tokens", "flops"):
        if column in table.columns:
            table[column] = pd.to_numeric(table[column], errors="coerce")
    if "flops" not in table.columns:
        table["flops"] = np.nan
    table["flops"] = table["flops"].fillna(6.0 * table["params"] * table["tokens"])
    bad = ~(np.isfinite(table[["params", "flops"]].to_numpy(float)).all(axis=1)
            & (table["params"] > 0) & (table["flops"] > 0))
    if bad.any():
        raise InputError(f"models table row(s) {list(np.flatnonzero(bad))} lack positive params "
                         "and tokens/flops")
    return table.reset_index(drop=True)


def _place_labels(ax, xs, ys, texts, fontsize=8):
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


def efficient_frontier(result, compute=None, draws=None, known_models=True, published=True, *,
                       models=None, confidence_level: float = 0.95, label_models: bool = True,
                       ax=None):
    """Compute-optimal model size N_opt against training compute, with comparisons.

    Draws the fit's N_opt(C) (:func:`scalinglaws.extrapolate.compute_optimal`, C = 6ND)
    with its bootstrap band, the published frontiers of Kaplan et al. (2020) and Hoffmann
    et al. (2022), and well-known models at their (C, N). A model above the fit's line has
    more parameters than its compute warrants: it is under-trained (too few tokens).

    Parameters
    ----------
    result : FitResult
        A law in N and D (chinchilla, kaplan_nd, ...).
    compute : array_like, optional
        Budgets in FLOP; by default 1e18 to 1e26 (widened to the models shown).
    draws : BootstrapResult or array (m, p), optional
        Parameter draws for the band; by default ``result.bootstrap`` when attached.
    known_models : bool
        Show the models of ``models``.
    published : bool
        Show Kaplan's frontier ``N_opt = 1.3e9 * C_min^0.73`` (C_min in PF-days, N
        non-embedding parameters: not directly comparable) and Hoffmann's
        ``N_opt = 1.3000 * (C/6)^0.4565`` (unrounded Approach-3 coefficients).
    models : DataFrame or path, optional
        Table with ``name``, ``params``, ``tokens`` and optionally ``flops`` (else 6ND).
        Default: the table shipped with the package (``scalinglaws/data/known_models.csv``).
    confidence_level : float
        Coverage of the band.
    label_models : bool
        Write each model's name beside its marker.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    from ...analysis.extrapolate import compute_optimal

    form = _check_result(result)
    _require_allocatable(form, "the efficient frontier")
    table = known_models_table(models) if known_models else None
    if compute is None:
        low, high = 1e18, 1e26
        if table is not None and len(table):
            low = min(low, table["flops"].min() / 3)
            high = max(high, table["flops"].max() * 3)
        compute = np.geomspace(low, high, 81)
    compute = np.sort(_positive_array("compute", compute))
    if compute.size < 2:
        raise InputError("`compute` must hold at least two budgets to draw a line")
    rows = _draw_rows(result, draws)
    alloc = compute_optimal(result, compute, draws=rows, confidence_level=confidence_level)

    ax = _new_axes(ax, figsize=(7.2, 5.4))
    ax.plot(compute, alloc.n_params, color="tab:blue", lw=2.2, zorder=4,
            label=f"this fit ({form.name}): N_opt(C)")
    if "n_params" in alloc.intervals:
        low, high = alloc.intervals["n_params"]
        ax.fill_between(compute, low, high, color="tab:blue", alpha=0.2, lw=0, zorder=3,
                        label=f"{100 * alloc.confidence_level:g}% bootstrap interval "
                              f"({alloc.n_draws} draws)")
    if published:
        ax.plot(compute, hoffmann_frontier(compute), color="tab:green", ls="--", lw=1.5,
                zorder=3, label="Hoffmann et al. 2022: 1.30·(C/6)^0.4565")
        ax.plot(compute, kaplan_frontier(compute), color="tab:purple", ls=":", lw=1.8, zorder=3,
                label="Kaplan et al. 2020: 1.3e9·C_min^0.73\n(C_min in PF-days; "
                      "non-embedding N)")
    if table is not None and len(table):
        predicted = compute_optimal(result, table["flops"].to_numpy(float)).n_params
        ratio = table["params"].to_numpy(float) / np.asarray(predicted, dtype=float)
        over = ratio > 1
        xs, ys = table["flops"].to_numpy(float), table["params"].to_numpy(float)
        if over.any():
            ax.scatter(xs[over], ys[over], marker="^", s=46, color="tab:red", zorder=5,
                       edgecolors="black", linewidths=0.5,
                       label="models above the fit's N_opt (under-trained)")
        if (~over).any():
            ax.scatter(xs[~over], ys[~over], marker="v", s=46, color="tab:orange", zorder=5,
                       edgecolors="black", linewidths=0.5,
                       label="models at/below the fit's N_opt (more tokens per parameter)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(compute.min(), compute.max())
    ax.set_xlabel(LABELS["C"] + ", C = 6ND")
    ax.set_ylabel("parameters N (lines: compute-optimal N_opt)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper left", fontsize="small", framealpha=0.92)
    ax.set_title("Efficient frontier: model size for a compute budget", fontsize="medium")
    if table is not None and len(table) and label_models:
        _place_labels(ax, xs, ys, list(table["name"].astype(str)), fontsize=7.5)
    return ax


# =========================================================================== landscape
def _default_budgets(n_range, d_range, k):
    low = math.ceil(math.log10(k * n_range[0] * d_range[0])) + 1
    high = math.floor(math.log10(k * n_range[1] * d_range[1])) - 1
    if high < low:
        return np.array([10.0 ** round((low + high) / 2)])
    step = max(1, math.ceil((high - low) / 4))
    return 10.0 ** np.arange(low, high + 1, step)


def loss_landscape(result, n_range=None, d_range=None, budgets=None, *, runs=None,
                   flops_per_token: float = 6.0, levels: int = 18, cmap: str = "viridis_r",
                   ax=None):
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
    flops_per_token : float
        ``k`` in ``C = kND``.
    levels : int
        Filled contour levels.
    cmap : str
        Colour map (low loss dark by default).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    from ...analysis.extrapolate import compute_optimal

    form = _check_result(result)
    _require_allocatable(form, "the loss landscape")
    if not (isinstance(flops_per_token, (int, float)) and math.isfinite(flops_per_token)
            and flops_per_token > 0):
        raise InputError(f"`flops_per_token` must be a positive number, got {flops_per_token!r}")
    if not isinstance(levels, (int, np.integer)) or levels < 2:
        raise InputError(f"`levels` must be an integer >= 2, got {levels!r}")
    k = float(flops_per_token)
    run_table = _check_runs(runs) if runs is not None else None
    default_n, default_d = (1e7, 1e12), (1e9, 1e14)
    if run_table is not None:
        default_n = (run_table.N.min() / 3, run_table.N.max() * 30)
        default_d = (run_table.D.min() / 3, run_table.D.max() * 30)
    n_range = _positive_range("n_range", n_range, default_n)
    d_range = _positive_range("d_range", d_range, default_d)
    budgets = (_default_budgets(n_range, d_range, k) if budgets is None
               else np.sort(_positive_array("budgets", budgets)))

    ax = _new_axes(ax, figsize=(7.0, 5.4))
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
    filled = ax.contourf(NN, DD, loss, levels=contour_levels, cmap=cmap, extend="max")
    lines = ax.contour(NN, DD, loss, levels=contour_levels[2::3], colors="white",
                       linewidths=0.6, alpha=0.8)
    for text in ax.clabel(lines, fmt="%.2f", fontsize=7, inline=True):
        text.set_path_effects(halo)
    bar = ax.figure.colorbar(filled, ax=ax, pad=0.02, format="%.4g")
    bar.set_label("predicted " + LABELS["loss"])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(*n_range)
    ax.set_ylim(*d_range)

    # compute-optimal path across the window
    c_low, c_high = k * n_range[0] * d_range[0], k * n_range[1] * d_range[1]
    path_c = np.geomspace(c_low, c_high, 200)
    path = compute_optimal(result, path_c, flops_per_token=k)
    ax.plot(path.n_params, path.n_tokens, color="tab:red", lw=2.0, zorder=4,
            label="compute-optimal path (N_opt, D_opt)")
    optimal = compute_optimal(result, budgets, flops_per_token=k)
    ax.plot(np.atleast_1d(optimal.n_params), np.atleast_1d(optimal.n_tokens), "o",
            color="tab:red", markeredgecolor="white", ms=6, zorder=5)
    for budget in budgets:
        d_line = budget / (k * n_grid)
        inside = (d_line >= d_range[0]) & (d_line <= d_range[1])
        if not inside.any():
            continue
        ax.plot(n_grid[inside], d_line[inside], color="white", ls="--", lw=1.0, zorder=3)
        # label near the left end of the visible segment, along the line
        idx = np.flatnonzero(inside)
        j = idx[min(len(idx) - 1, max(0, len(idx) // 5))]
        p0 = ax.transData.transform((n_grid[j], d_line[j]))
        p1 = ax.transData.transform((n_grid[min(j + 5, len(n_grid) - 1)],
                                     d_line[min(j + 5, len(n_grid) - 1)]))
        angle = math.degrees(math.atan2(p1[1] - p0[1], p1[0] - p0[0]))
        ax.text(n_grid[j], d_line[j], f"C = {_sci(budget)} FLOP", color="white", fontsize=7.5,
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


# =========================================================================== corner
_GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "alpha_N": "α_N", "alpha_D": "α_D",
          "alpha_C": "α_C"}


def bootstrap_corner(bootstrap_result, params=None, fig=None, *, bins: int = 25,
                     max_points: int = 4000):
    """Corner plot of bootstrap draws: histograms on the diagonal, pairwise scatter below.

    Shows how the parameters trade off between resamples, e.g. the ridge between an
    exponent and its scale (alpha-A, beta-B for Chinchilla). Scale parameters
    (``form.log_params``: E, A, B...) are drawn on log axes; each panel gives the
    correlation (of the logs for scale parameters) and marks the full-data estimate.

    Parameters
    ----------
    bootstrap_result : BootstrapResult or FitResult
        Draws of :func:`scalinglaws.bootstrap.bootstrap` (or a fit carrying them).
    params : sequence of str, optional
        Parameters shown (default: every parameter that varies between draws).
    fig : matplotlib Figure, optional
        Figure to draw into (cleared); a new one when None.
    bins : int
        Histogram bins.
    max_points : int
        At most this many draws are scattered (all enter the histograms).

    Returns
    -------
    numpy.ndarray of Axes, shape (p, p)
        Upper-triangle panels are hidden.
    """
    boot = bootstrap_result
    if boot is not None and not hasattr(boot, "draws") and hasattr(boot, "bootstrap"):
        boot = boot.bootstrap
    if boot is None or not hasattr(boot, "draws") or not hasattr(boot, "form"):
        raise InputError("`bootstrap_result` must be a BootstrapResult (or a FitResult with "
                         "one attached): run scalinglaws.bootstrap.bootstrap(result, runs) first")
    draws = np.asarray(boot.draws, dtype=float)
    names = list(boot.form.param_names)
    if draws.ndim != 2 or draws.shape[1] != len(names) or draws.shape[0] < 2:
        raise InputError(f"need at least 2 bootstrap draws of {len(names)} parameters, got "
                         f"shape {draws.shape}")
    if params is None:
        params = [n for i, n in enumerate(names) if np.nanstd(draws[:, i]) > 0]
        if not params:
            raise InputError("no parameter varies between the bootstrap draws")
    else:
        params = [params] if isinstance(params, str) else list(params)
        unknown = [p for p in params if p not in names]
        if unknown or not params:
            raise InputError(f"`params` must name parameters of form {boot.form.name!r} "
                             f"({', '.join(names)}), got {params!r}")
    if not isinstance(bins, (int, np.integer)) or bins < 2:
        raise InputError(f"`bins` must be an integer >= 2, got {bins!r}")
    p = len(params)
    columns = {name: draws[:, names.index(name)] for name in params}
    point = getattr(boot, "point", {}) or {}
    intervals = {}
    try:
        intervals = boot.intervals
    except (AttributeError, InputError):
        pass
    log_scale = {name: name in boot.form.log_params and np.all(columns[name] > 0)
                 for name in params}

    plt = _pyplot()
    size = max(1.9, min(2.6, 11.0 / p))
    if fig is None:
        fig = plt.figure(figsize=(size * p + 0.6, size * p + 0.6), layout="constrained")
    else:
        fig.clear()
    axes = np.asarray(fig.subplots(p, p, squeeze=False), dtype=object)
    finite = np.all(np.isfinite(draws[:, [names.index(n) for n in params]]), axis=1)
    rng = np.random.default_rng(0)
    scatter_rows = np.flatnonzero(finite)
    if scatter_rows.size > max_points:
        scatter_rows = np.sort(rng.choice(scatter_rows, max_points, replace=False))

    def transformed(name):
        values = columns[name][finite]
        return np.log(values) if log_scale[name] else values

    def label(name):
        return _GREEK.get(name, name)

    for i, row_name in enumerate(params):
        for j, col_name in enumerate(params):
            ax = axes[i, j]
            if j > i:
                ax.set_axis_off()
                continue
            x = columns[col_name]
            if i == j:
                values = x[finite]
                edges = (np.geomspace(values.min(), values.max(), bins + 1) if log_scale[col_name]
                         and values.max() > values.min() else bins)
                ax.hist(values, bins=edges, color="tab:blue", alpha=0.7)
                if col_name in point:
                    ax.axvline(point[col_name], color="tab:red", lw=1.2)
                if col_name in intervals:
                    for bound in intervals[col_name]:
                        if np.isfinite(bound):
                            ax.axvline(bound, color="black", ls="--", lw=0.8)
                    low, high = intervals[col_name]
                    ax.set_title(f"{label(col_name)} = {point.get(col_name, np.nan):.4g}\n"
                                 f"[{low:.4g}, {high:.4g}]", fontsize=8)
                ax.set_yticks([])
            else:
                y = columns[row_name]
                ax.scatter(x[scatter_rows], y[scatter_rows], s=5, alpha=0.5, color="tab:blue",
                           edgecolors="none", rasterized=len(scatter_rows) > 1000)
                if col_name in point and row_name in point:
                    ax.plot(point[col_name], point[row_name], marker="+", color="tab:red",
                            ms=10, mew=1.5)
                a, b = transformed(col_name), transformed(row_name)
                rho = (float(np.corrcoef(a, b)[0, 1]) if np.std(a) > 0 and np.std(b) > 0
                       else float("nan"))
                ax.text(0.04, 0.94, f"ρ = {rho:+.2f}", transform=ax.transAxes, fontsize=8,
                        va="top", bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none",
                                            "alpha": 0.8})
                if log_scale[row_name]:
                    ax.set_yscale("log")
            if log_scale[col_name]:
                ax.set_xscale("log")
            _corner_ticks(ax, columns[col_name][finite], "x", log_scale[col_name])
            if i != j:
                _corner_ticks(ax, columns[row_name][finite], "y", log_scale[row_name])
            ax.tick_params(labelsize=7)
            if i == p - 1:
                ax.set_xlabel(label(col_name) + (" (log)" if log_scale[col_name] else ""))
                for tick in ax.get_xticklabels(which="both"):
                    tick.set_rotation(45)
            else:
                ax.tick_params(labelbottom=False, which="both")
            if j == 0 and i > 0:
                ax.set_ylabel(label(row_name) + (" (log)" if log_scale[row_name] else ""))
            elif i != j:
                ax.tick_params(labelleft=False, which="both")
    # share ranges down each column and along each row
    for j, name in enumerate(params):
        values = columns[name][finite]
        span = (values.min(), values.max())
        if log_scale[name]:
            pad = (span[1] / span[0]) ** 0.05 if span[1] > span[0] else 1.1
            lim = (span[0] / pad, span[1] * pad)
        else:
            pad = 0.05 * (span[1] - span[0]) or 0.05 * abs(span[0]) or 0.05
            lim = (span[0] - pad, span[1] + pad)
        for i in range(j, p):
            axes[i, j].set_xlim(*lim)
        for jj in range(j):
            axes[j, jj].set_ylim(*lim)
    level = getattr(boot, "confidence_level", 0.95)
    fig.suptitle(f"Bootstrap draws of the {boot.form.name} fit: {len(draws)} resamples "
                 f"({getattr(boot, 'n_failed', 0)} failed); red = full-data estimate, dashed = "
                 f"{100 * level:g}% interval", fontsize=9)
    return axes


def _corner_ticks(ax, values, which, log):
    """Readable ticks on a narrow log axis: a few round values, plain numbers."""
    if not log or values.size == 0 or values.max() >= 10 * values.min():
        return
    from matplotlib.ticker import FormatStrFormatter, MaxNLocator, NullLocator

    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_locator(MaxNLocator(nbins=4))
    axis.set_major_formatter(FormatStrFormatter("%g"))
    axis.set_minor_locator(NullLocator())


# =========================================================================== IsoFLOP
def _check_isoflop(isoflop_result):
    table = getattr(isoflop_result, "budgets", None)
    needed = {"C", "N_opt", "loss_opt", "status"}
    if table is None or not hasattr(table, "columns") or not needed <= set(table.columns):
        raise InputError("`isoflop_result` must be an IsoFLOPResult of "
                         "scalinglaws.isoflop.isoflop_fit (with a per-budget `budgets` table), "
                         f"got {type(isoflop_result).__name__}")
    return table


def _budget_members(isoflop_result, table, runs):
    """For each row of the budget table, the mask of the runs in that budget."""
    grouping = str((getattr(isoflop_result, "options", {}) or {}).get("budget", ""))
    if grouping.startswith("column '") and grouping.endswith("'"):
        column = grouping[len("column '"):-1]
        if column in runs.frame.columns:
            keys = runs.frame[column].to_numpy()
            return [keys == key for key in table["budget"]]
    # exact C values or bins: each run goes to the budget of nearest log compute
    log_c = np.log(runs.C)
    centres = np.log(table["C"].to_numpy(float))
    nearest = np.argmin(np.abs(log_c[:, None] - centres[None, :]), axis=1)
    return [nearest == i for i in range(len(table))]


def _profile_curve(log_n, y, options):
    """The curve :func:`~scalinglaws.isoflop.isoflop_fit` fitted to one profile, on a grid.

    ``log_n`` sorted with distinct values, ``y`` the losses. Returns ``(N, loss)``.
    """
    curve = options.get("curve", "parabola")
    degree = int(options.get("degree", 2) or 2)
    window = options.get("window")
    log_loss = bool(options.get("log_loss", curve == "akima"))
    values = np.log(y) if log_loss else y
    if curve == "akima":
        from scipy.interpolate import Akima1DInterpolator

        grid = np.linspace(log_n[0], log_n[-1], 200)
        fitted = Akima1DInterpolator(log_n, values)(grid)
    else:
        lo, hi = 0, len(log_n)
        if window is not None and window < len(log_n):
            lo = min(max(int(np.argmin(values)) - window // 2, 0), len(log_n) - window)
            hi = lo + window
        x, v = log_n[lo:hi], values[lo:hi]
        centre = x.mean()
        coefs = np.polyfit(x - centre, v, degree)
        grid = np.linspace(x[0], x[-1], 200)
        fitted = np.polyval(coefs, grid - centre)
    return np.exp(grid), (np.exp(fitted) if log_loss else fitted)


def isoflop_profiles(isoflop_result, runs=None, ax=None, *, cmap: str = "viridis"):
    """IsoFLOP valleys (Hoffmann et al. 2022 Fig 3 left): loss against N per budget.

    Each budget's runs are drawn as points coloured by compute, with the curve
    :func:`scalinglaws.isoflop.isoflop_fit` fitted to them (same curve, degree, window and
    loss scale) and its minimum ``(N_opt, loss_opt)`` marked. Budgets left out of the
    regression are drawn hollow, without a minimum, and named in the legend.

    Parameters
    ----------
    isoflop_result : IsoFLOPResult
        From :func:`scalinglaws.isoflop.isoflop_fit`.
    runs : Runs, DataFrame or path, optional
        The runs it was fitted to. Without them only the minima are drawn.
    ax : matplotlib Axes, optional
    cmap : str
        Colour map of the budgets.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from matplotlib.colors import LogNorm

    table = _check_isoflop(isoflop_result)
    options = getattr(isoflop_result, "options", {}) or {}
    run_table = _check_runs(runs) if runs is not None else None
    plt = _pyplot()
    ax = _new_axes(ax, figsize=(7.0, 5.0))
    colormap = plt.get_cmap(cmap)
    c_values = table["C"].to_numpy(float)
    norm = LogNorm(c_values.min(), c_values.max() if c_values.max() > c_values.min()
                   else c_values.min() * 10)
    members = _budget_members(isoflop_result, table, run_table) if run_table is not None else None
    excluded = []
    for i, row in enumerate(table.itertuples(index=False)):
        colour = colormap(norm(row.C))
        used = bool(getattr(row, "used", row.status == "ok"))
        if not used:
            excluded.append(f"C = {_sci(row.C)} ({row.status})")
        if members is not None and members[i].any():
            n, loss = run_table.N[members[i]], run_table.loss[members[i]]
            ax.scatter(n, loss, s=18, zorder=3, color=colour if used else "none",
                       edgecolors=colour, linewidths=0.8)
            order = np.argsort(n)
            n, loss = n[order], loss[order]
            sizes, _first = np.unique(n, return_index=True)
            best = np.array([loss[n == value].min() for value in sizes])
            if used and sizes.size >= max(3, int(options.get("degree", 2) or 2) + 1):
                grid, curve = _profile_curve(np.log(sizes), best, options)
                ax.plot(grid, curve, color=colour, lw=1.3, zorder=2)
        if used and np.isfinite(row.N_opt) and np.isfinite(row.loss_opt):
            ax.plot(row.N_opt, row.loss_opt, marker="D", ms=6, color=colour,
                    markeredgecolor="black", markeredgewidth=0.7, zorder=4)
    used_rows = table.loc[table["status"] == "ok"].sort_values("C")
    if len(used_rows) > 1:
        ax.plot(used_rows["N_opt"], used_rows["loss_opt"], color="0.3", ls=":", lw=1.0,
                zorder=1)
    # legend proxies
    ax.plot([], [], marker="D", ls="none", color="0.6", markeredgecolor="black",
            label="minimum of the fitted curve (N_opt)")
    if members is not None:
        curve = options.get("curve", "parabola")
        scale = "ln loss" if options.get("log_loss") else "loss"
        ax.plot([], [], color="0.4", lw=1.3, label=f"{curve} fit of {scale} against ln N")
        ax.scatter([], [], s=18, color="0.6", label="runs")
    if excluded:
        ax.scatter([], [], s=18, color="none", edgecolors="0.4",
                   label="excluded: " + "; ".join(excluded[:3])
                   + (f"; +{len(excluded) - 3} more" if len(excluded) > 3 else ""))
    ax.set_xscale("log")
    ax.set_xlabel(LABELS["N"])
    ax.set_ylabel(LABELS["loss"])
    mappable = plt.cm.ScalarMappable(norm=norm, cmap=colormap)
    bar = ax.figure.colorbar(mappable, ax=ax, pad=0.02)
    bar.set_label(LABELS["C"] + ", budget")
    ax.legend(loc="best", fontsize="small", framealpha=0.9)
    ax.grid(True, alpha=0.3)
    ax.set_title(f"IsoFLOP profiles: {int((table['status'] == 'ok').sum())} of {len(table)} "
                 "budgets used", fontsize="medium")
    return ax


def isoflop_frontier(isoflop_result, ax=None, *, compute=None):
    """N_opt(C) and D_opt(C) from IsoFLOP minima (Hoffmann et al. 2022 Fig 3 centre, right).

    The per-budget minima are drawn with error bars (``±1.96`` standard errors of
    ``ln N_opt`` when known; excluded budgets hollow) and the fitted power laws
    ``N_opt = G_N C^a`` and ``D_opt = G_D C^b`` with the confidence band of the
    regression line (:meth:`~scalinglaws.isoflop.IsoFLOPResult.predict_optimal`).

    Parameters
    ----------
    isoflop_result : IsoFLOPResult
        From :func:`scalinglaws.isoflop.isoflop_fit`.
    ax : matplotlib Axes, optional
    compute : array_like, optional
        Budgets (FLOP) of the fitted lines; default the budgets' range widened 3x.

    Returns
    -------
    matplotlib.axes.Axes
    """
    table = _check_isoflop(isoflop_result)
    if not hasattr(isoflop_result, "predict_optimal"):
        raise InputError("`isoflop_result` has no predict_optimal(): pass an IsoFLOPResult")
    c_values = table["C"].to_numpy(float)
    if compute is None:
        compute = np.geomspace(c_values.min() / 3, c_values.max() * 3, 100)
    compute = np.sort(_positive_array("compute", compute))
    lines = isoflop_result.predict_optimal(compute)
    ax = _new_axes(ax, figsize=(6.6, 4.8))
    level = getattr(isoflop_result, "confidence_level", 0.95)
    used = (table["used"] if "used" in table.columns else table["status"] == "ok").to_numpy(bool)
    se = (table["ln_N_opt_se"].to_numpy(float) if "ln_N_opt_se" in table.columns
          else np.full(len(table), np.nan))
    z = 1.959963984540054
    for name, colour, exponent, interval, unit in (
            ("N", "tab:blue", "a", "a_interval", "parameters"),
            ("D", "tab:orange", "b", "b_interval", "tokens")):
        value = table[f"{name}_opt"].to_numpy(float)
        finite = np.isfinite(value)
        # ln D* = ln C - ln k - ln N*: the same standard error in log space
        err = np.where(np.isfinite(se), se, 0.0)
        yerr = np.vstack([value - value * np.exp(-z * err), value * np.exp(z * err) - value])
        keep = finite & used
        ax.errorbar(c_values[keep], value[keep], yerr=yerr[:, keep], fmt="o", color=colour,
                    ms=5, capsize=2, lw=1, zorder=4)
        if (finite & ~used).any():
            ax.scatter(c_values[finite & ~used], value[finite & ~used], s=28, color="none",
                       edgecolors=colour, zorder=4)
        low, high = getattr(isoflop_result, interval, (np.nan, np.nan))
        a_value = getattr(isoflop_result, exponent, np.nan)
        text = (f"{name}_opt ∝ C^{a_value:.3f}"
                + (f" [{low:.3f}, {high:.3f}]" if np.isfinite(low) and np.isfinite(high) else "")
                + f" ({unit})")
        ax.plot(compute, lines[f"{name}_opt"], color=colour, lw=1.8, label=text, zorder=3)
        band_low, band_high = lines[f"{name}_opt_low"], lines[f"{name}_opt_high"]
        if np.all(np.isfinite(band_low)) and np.all(np.isfinite(band_high)):
            ax.fill_between(compute, band_low, band_high, color=colour, alpha=0.18, lw=0,
                            zorder=2)
    ax.fill_between([], [], [], color="0.5", alpha=0.3,
                    label=f"{100 * level:g}% interval of the fitted line")
    ax.errorbar([], [], yerr=[], fmt="o", color="0.4", ms=5, capsize=2,
                label="IsoFLOP minima (±1.96 SE)")
    if not used.all():
        ax.scatter([], [], s=28, color="none", edgecolors="0.4", label="excluded budgets")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(compute.min(), compute.max())
    ax.set_xlabel(LABELS["C"])
    ax.set_ylabel("compute-optimal N_opt (parameters), D_opt (tokens)")
    ax.legend(loc="upper left", fontsize="small", framealpha=0.9)
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title("IsoFLOP allocation (Hoffmann et al. 2022, Approach 2)", fontsize="medium")
    return ax
