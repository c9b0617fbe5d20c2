"""The fit against its data: :func:`fit_vs_data` (loss against N, D or C, or another input
of the law such as S_min, with the law through each group of runs) and :func:`residuals`
(against N, D and C, with the Huber band).
"""

from __future__ import annotations

import math

import numpy as np

from ..._exceptions import InputError
from ..._text import counted
from ..._validation import check_bool
from ...fitting._budgets import BUDGET_RTOL, group_budgets
from ._checks import (
    range_shown,
    allocatable,
    check_canvas,
    check_cmap,
    check_figsize,
    check_result,
    check_runs,
    require_allocatable,
)
from ._style import (CANONICAL, LABELS, log_norm_or_linear, new_axes, ordered_unique, pyplot,
                     readable_log_ticks, sci)

__all__ = ["fit_vs_data", "residuals"]

#: line styles of the curves at each stated value of an input such as U
_STYLES = ("-", "--", ":", "-.")

#: inputs the runs hold as such (``Runs.inputs``); a law's other inputs (``S_min`` of
#: kaplan_ns, ``task_loss`` of the task forms) are read from the runs' column of that name
_RUN_INPUTS = CANONICAL + ("U",)
#: axis labels of those other inputs
_OTHER_LABELS = {"S_min": "minimum steps S_min",
                 "task_loss": "task loss (nats/token of the correct answer)"}
#: inputs spread over decades, drawn on a log axis (a task loss is not: it may be 0)
_LOG_INPUTS = _RUN_INPUTS + ("S_min",)
#: most values of a law's other inputs the runs may share for a curve to be drawn at each
_MAX_STATED = 8


def _label(name) -> str:
    return LABELS.get(name) or _OTHER_LABELS.get(name, name)


def _values(runs, name) -> np.ndarray:
    """The input ``name`` of a law at each run: N, D, C, U as the runs hold them, any other
    (``S_min``, ``task_loss``) from the runs' column of that name."""
    if name in _RUN_INPUTS:
        return runs.inputs((name,))[name]  # InputError names a missing column
    if not runs.has(name):
        raise InputError(f"the runs have no column {name!r}, an input of the law; columns: "
                         f"{runs.columns}")
    try:
        values = runs.frame[name].to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"column {name!r} of the runs must be numeric") from None
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise InputError(f"column {name!r}: {runs.row_label(int(bad[0]))} is not a number")
    return values


def _grid(low, high, log, size=200):
    return np.geomspace(low, high, size) if log else np.linspace(low, high, size)


def _at_stated_values(ax, result, x, xs, inputs, rest, colors, colormap, norm, label, log):
    """Draw a law with an input beyond N, D, C and U (kaplan_ns's S_min) against ``x``: a
    curve at each value of its other inputs ``rest`` that runs share, through those runs'
    range of ``x`` (Kaplan et al. 2020 Fig. 4: loss against S_min, a curve per N), or,
    when the runs share few (each its own S_min), the law at three quantiles of the first
    of ``rest`` (any other at its median) across the runs' range. Returns the curves drawn."""
    keys = np.column_stack([np.round(np.log10(inputs[n]), 3) if np.all(inputs[n] > 0)
                            else np.round(inputs[n], 6) for n in rest])
    unique, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    drawn = 0
    if len(unique) <= _MAX_STATED and counts.min() >= 2:
        for j in range(len(unique)):
            sub = inverse == j
            held = {n: np.median(inputs[n][sub]) for n in rest}
            if np.ptp(xs[sub]) == 0:
                continue  # its runs are points at one x: nothing to draw through them
            grid = _grid(xs[sub].min(), xs[sub].max(), log, 120)
            along = {x: grid, **{n: np.full_like(grid, v) for n, v in held.items()}}
            ax.plot(grid, result.predict(**along), lw=1.4, zorder=2,
                    color=colormap(norm(np.median(colors[sub]))),
                    label=f"{label} at each {', '.join(rest)} of the runs" if not drawn else None)
            drawn += 1
        if drawn:
            return drawn
    first, grid = rest[0], _grid(xs.min(), xs.max(), log)
    held = {n: np.full_like(grid, np.median(inputs[n])) for n in rest[1:]}
    for q in (0.1, 0.5, 0.9):
        value = float(np.quantile(inputs[first], q))
        along = {x: grid, first: np.full_like(grid, value), **held}
        ax.plot(grid, result.predict(**along), lw=1.4, zorder=2, color=colormap(norm(value)),
                label=f"fit at {first} = {sci(value, 2)}")
    return 3


def _same_value_keys(runs, name):
    """A key per run that runs share when their ``name`` agree: C by the package's budget
    rule (within :data:`~scalinglaws.fitting._budgets.BUDGET_RTOL`, what ``isoflop_fit``
    calls one budget: logged FLOP counts differ by rounding), N and D to 3 decimals of
    log10."""
    if name == "C":
        return group_budgets(runs, "C", None, None, BUDGET_RTOL)[0]
    return np.round(np.log10(runs.inputs(name)[name]), 3)


def _group_labels(runs, groups):
    """Labels of the runs' groups (an array), or None when the runs form no groups."""
    frame = runs.frame
    if groups is not None:
        if isinstance(groups, str):
            if groups in CANONICAL and runs.has(groups):
                return _same_value_keys(runs, groups)
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
            keys = _same_value_keys(runs, name)
            unique, counts = np.unique(keys, return_counts=True)
            if 2 <= unique.size <= max(3, len(runs) // 3) and counts.min() >= 3:
                return keys
    return None


def _auto_color_by(runs, labels) -> str:
    """Colour by compute for groups of one budget each, else by tokens."""
    if labels is not None and runs.has("C"):
        C = runs.C
        same = all(np.ptp(np.log10(C[labels == key])) < 1e-3 for key in ordered_unique(labels))
        if same:
            return "C"
    return "D" if runs.has("D") else ("C" if runs.has("C") else "N")


#: what an input other than N, D and C counts, in a legend ("U = 4e9 unique tokens")
_HELD_UNITS = {"U": "unique tokens"}


def _held_text(held) -> str:
    return ", ".join(f"{name} = {sci(value, 2)}" + (f" {_HELD_UNITS[name]}" if name in
                                                     _HELD_UNITS else "")
                     for name, value in held.items())


def _held_subsets(runs, names, mask):
    """``[(held, submask)]``: the runs of ``mask`` split by their values of ``names`` (inputs
    such as U that no budget ties to x), each value the subset's own (runs agreeing to 3
    decimals of log10 share one)."""
    if not names:
        return [({}, mask)]
    keys = np.column_stack([np.round(np.log10(runs.inputs(n)[n]), 3) for n in names])
    out = []
    for key in np.unique(keys[mask], axis=0):
        sub = mask & np.all(keys == key, axis=1)
        out.append(({n: float(np.median(runs.inputs(n)[n][sub])) for n in names}, sub))
    return out


def _curve_inputs(form, runs, x, mask, grid, held=None):
    """Inputs of the law along ``grid`` of ``x`` for the runs in ``mask``: each input in
    ``held`` at its value there, each other input following the runs' own log-linear
    relation to ``x`` (exact for C = kND budgets)."""
    values = {}
    log_x = np.log(runs.inputs(x)[x][mask])
    for name in form.inputs:
        if name == x:
            values[name] = grid
            continue
        if held and name in held:
            values[name] = np.full_like(grid, held[name])
            continue
        log_v = np.log(runs.inputs(name)[name][mask])
        if np.ptp(log_v) < 1e-12:
            values[name] = np.full_like(grid, math.exp(log_v[0]))
        else:
            slope, intercept = np.polyfit(log_x, log_v, 1)
            values[name] = np.exp(intercept + slope * np.log(grid))
    return values


@range_shown
def fit_vs_data(result, runs, x: str | None = None, color_by: str | None = None, *,
                groups=None,
                frontier: bool | None = None, cmap: str = "viridis", ax=None, figsize=None):
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
    x : {"N", "D", "C"} or str, optional
        Horizontal axis (log scale): ``"N"`` by default, or any input of the law (``S_min``
        of ``kaplan_ns``, ``task_loss`` of a task form, the default for those: a linear
        axis). Inputs other than N, D, C and U are read from the runs' column of that
        name; a law with one is drawn through the runs sharing each value of its other
        inputs (kaplan_ns against N: a curve per S_min; against S_min: per N).
    color_by : str, optional
        ``"D"``, ``"C"``, ``"N"``, ``"loss"`` or any numeric column of ``runs.frame``. By
        default ``"C"`` when each group is one compute budget, else ``"D"`` (``"N"`` when
        ``x="C"``); for a law with an input beyond N, D, C and U, its other input.
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
    figsize : (float, float), optional
        Size in inches of the new figure (default 6.4 x 4.6); not with ``ax``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from scalinglaws import fit, generate_sweep, plot
    >>> runs = generate_sweep(rng=0)
    >>> ax = plot.fit_vs_data(fit(runs, "chinchilla"), runs)
    >>> ax.get_xlabel()
    'parameters N'
    """
    form = check_result(result)
    runs = check_runs(runs, fit=result)
    # inputs beyond N, D, C and U (S_min, task_loss): no budget ties them to x
    other = [name for name in form.inputs if name not in _RUN_INPUTS]
    if x is None:
        x = "N" if set(form.inputs) & set(CANONICAL) else form.inputs[0]
    if not isinstance(x, str) or (x not in CANONICAL and x not in form.inputs):
        raise InputError(f"`x` must be one of {', '.join(dict.fromkeys(CANONICAL + form.inputs))}"
                         f", got {x!r}")
    if other and x not in form.inputs:
        raise InputError(f"`x` must be an input of form {form.name!r} "
                         f"({', '.join(form.inputs)}), got {x!r}")
    frontier = check_bool("frontier", frontier, allow_none=True)
    check_cmap("cmap", cmap)
    figsize = check_canvas(ax, figsize)
    xs = _values(runs, x)  # InputError names a missing column
    inputs = {name: _values(runs, name) for name in form.inputs}
    log_x = x in _LOG_INPUTS
    labels = None if other else _group_labels(runs, groups)
    rest = [name for name in form.inputs if name != x]
    if color_by is None and other:
        color_by = rest[0] if rest else ("N" if runs.has("N") else "loss")
    elif color_by is None:
        color_by = "N" if x == "C" else _auto_color_by(runs, labels)
    frame = runs.frame
    if not isinstance(color_by, str):
        raise InputError(f"`color_by` must be N, D, C, loss or a column of the runs, got "
                         f"{color_by!r}")
    if color_by in CANONICAL or color_by == "loss":
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
        frontier = x == "C" and allocatable(form)
    if frontier:
        require_allocatable(form, "the compute-optimal frontier")

    plt = pyplot()
    ax = new_axes(ax, figsize)
    colormap = plt.get_cmap(cmap)
    norm = log_norm_or_linear(colors)
    points = ax.scatter(xs, runs.loss, c=colors, cmap=colormap, norm=norm, s=22,
                        edgecolors="white", linewidths=0.4, zorder=3, label=f"runs ({len(runs)})")
    label = f"fit: {form.name}"
    x_low, x_high = xs.min(), xs.max()
    # inputs no budget ties to x (U, unique tokens): curves are drawn at stated values
    extra = [name for name in form.inputs if name not in CANONICAL]
    if form.inputs == (x,):
        margin = (x_high - x_low) * 0.1
        grid = (np.geomspace(x_low / 1.5, x_high * 1.5, 200) if log_x else
                np.linspace(x_low - margin, x_high + margin, 200))
        ax.plot(grid, result.predict(**{x: grid}), color="black", lw=1.6, label=label, zorder=2)
    elif other:
        _at_stated_values(ax, result, x, xs, inputs, rest, colors, colormap, norm, label, log_x)
    elif set(form.inputs) <= set(CANONICAL) | {"U"}:
        groups_list = ([(key, labels == key) for key in ordered_unique(labels)]
                       if labels is not None else [])
        held_sets = _held_subsets(runs, extra, np.ones(len(runs), bool))
        # a few values of U: a curve per group and value, a line style per value; many: U
        # follows the group's runs (a fit of log U on log x), and the legend says so
        split = len(held_sets) <= len(_STYLES)
        styles = {_held_text(held): style for (held, _), style in zip(held_sets, _STYLES)}
        if extra and not split:
            label = (f"fit: {form.name} ({', '.join(extra)} from a fit of log "
                     f"{', log '.join(extra)} on log {x} in each group)")
        drawn, named, ticked = 0, set(), False
        for key, mask in groups_list:
            for held, sub in (_held_subsets(runs, extra, mask) if split else [({}, mask)]):
                group_x = xs[sub]
                if sub.sum() < 1:
                    continue
                if group_x.max() <= group_x.min() * (1 + BUDGET_RTOL):
                    # one x value (an IsoFLOP budget against C): the law at each run of the
                    # budget's profile, a tick beside its point, not a vertical line
                    fitted = result.predict(**{n: v[sub] for n, v in inputs.items()})
                    ax.scatter(group_x, fitted, marker="_", s=110, color="black", lw=1.2,
                               zorder=4, label=None if ticked else (
                                   "fit at each run's N, D" + (f", {', '.join(extra)}"
                                                              if extra else "")))
                    ticked = True
                    continue
                grid = np.geomspace(group_x.min(), group_x.max(), 120)
                along = _curve_inputs(form, runs, x, sub, grid, held)
                shade = colormap(norm(np.median(colors[sub])))
                text = _held_text(held)
                named.add(text)
                ax.plot(grid, result.predict(**along), color=shade, lw=1.4, zorder=2,
                        ls=styles.get(text, "-"),
                        label=label if not held and drawn == 0 else None)
                drawn += 1
        for text, style in styles.items():  # one legend entry per stated value, in black
            if text and text in named:
                ax.plot([], [], color="0.15", lw=1.4, ls=style,
                        label=f"fit: {form.name} at {text}")
        held = {name: float(np.median(inputs[name])) for name in extra}
        stated = f", {_held_text(held)} (median of the runs)" if held else ""
        if drawn == 0 and not ticked and not frontier and "D" in form.inputs and x != "D":
            # no groups: iso-D lines at a few token counts across the range
            for q in (0.1, 0.5, 0.9):
                d_value = float(np.quantile(inputs["D"], q))
                grid = np.geomspace(x_low, x_high, 120)
                mask = np.ones(len(runs), bool)
                along = _curve_inputs(form, runs, x, mask, grid, held)
                along["D"] = np.full_like(grid, d_value)
                shade = colormap(norm(d_value)) if color_by == "D" else "0.3"
                ax.plot(grid, result.predict(**along), color=shade, lw=1.4, zorder=2,
                        label=f"fit at D = {sci(d_value, 2)} tokens{stated}")
        elif drawn == 0 and not ticked and not frontier:
            grid = np.geomspace(x_low, x_high, 200)
            along = _curve_inputs(form, runs, x, np.ones(len(runs), bool), grid, held)
            ax.plot(grid, result.predict(**along), color="black", lw=1.4, label=label + stated)
    if frontier:
        from ...analysis.extrapolate import compute_optimal

        budgets = np.geomspace(runs.C.min() / 1.5, runs.C.max() * 1.5, 120)
        alloc = compute_optimal(result, budgets, flops_per_token=runs.flops_per_token,
                                draws=False)
        if x == "C":
            curve_x = budgets
        else:
            curve_x = alloc.N if x == "N" else alloc.D
        ax.plot(curve_x, alloc.loss, color="black", ls="--", lw=1.4, zorder=2,
                label="compute-optimal loss L*(C) (fit)")
    if log_x:
        ax.set_xscale("log")
        readable_log_ticks(ax, counts=x != "C")
    ax.set_xlabel(_label(x))
    # a task form maps task loss to accuracy, the value its runs hold as "loss"
    y_label = "accuracy" if "task_loss" in form.inputs else LABELS["loss"]
    ax.set_ylabel(y_label)
    colorbar = ax.figure.colorbar(points, ax=ax, pad=0.02)
    colorbar.set_label(y_label if color_by == "loss" else _label(color_by))
    ax.legend(loc="best", fontsize="small", framealpha=0.9)
    ax.set_title(f"{form.name} fit to {counted(len(runs), 'run')}", fontsize="medium")
    ax.grid(True, which="major", alpha=0.3)
    return ax


# =========================================================================== residuals
def residuals(result, runs, axes=None, *, color_by: str | None = "loss", figsize=None):
    """Residuals of the fit against N, D and C (three panels).

    In log space (the default fit) the residual is ``log L_fit - log L_obs`` (about the
    relative error); in linear space ``L_fit - L_obs`` in nats/token. With the Huber loss
    the band ``±delta`` (where the loss is quadratic) is shaded, and the legend counts the
    runs inside it: a run inside counts as in least squares, a run outside linearly, so
    its pull on the fit stops growing with its residual (down-weighted, not set aside as an
    outlier). With ``delta`` far below the residuals' spread (Hoffmann et al.'s 1e-3 on log
    residuals of ~1%) most runs lie outside and the fit is close to least absolute
    deviations.

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
    figsize : (float, float), optional
        Size in inches of the new figure (default 13 x 4.2); not with ``axes``.

    Returns
    -------
    numpy.ndarray of Axes, shape (3,)

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from scalinglaws import fit, generate_sweep, plot
    >>> runs = generate_sweep(rng=0)
    >>> axes = plot.residuals(fit(runs, "chinchilla"), runs)
    >>> [ax.get_xlabel() for ax in axes]
    ['parameters N', 'training tokens D', 'training compute C (FLOP)']
    """
    form = check_result(result)
    runs = check_runs(runs, fit=result)
    if axes is not None:
        from matplotlib.axes import Axes

        axes = np.asarray(axes, dtype=object).ravel()
        if axes.size != 3 or not all(isinstance(a, Axes) for a in axes):
            raise InputError("`axes` must be a sequence of 3 matplotlib Axes (N, D, C panels)")
    figsize = check_figsize(figsize, given=axes, given_name="axes")
    observed = runs.loss
    colors = None
    if color_by is not None:
        if not isinstance(color_by, str):
            raise InputError(f"`color_by` must be N, D, C, loss, a column or None, got "
                             f"{color_by!r}")
        if color_by == "loss" or color_by in CANONICAL:
            colors = observed if color_by == "loss" else runs.inputs(color_by)[color_by]
        elif color_by in runs.frame.columns:
            try:
                colors = runs.frame[color_by].to_numpy(dtype=float)
            except (TypeError, ValueError):
                raise InputError(f"`color_by` column {color_by!r} must be numeric") from None
        else:
            raise InputError(f"`color_by` must be N, D, C, loss, a column or None, got "
                             f"{color_by!r}; columns: {list(runs.frame.columns)}")
    if axes is None:
        _fig, axes = pyplot().subplots(1, 3, figsize=figsize or (13, 4.2), sharey=True,
                                       layout="constrained")
    axes = np.asarray(axes, dtype=object).ravel()
    options = getattr(result, "options", {}) or {}
    space = options.get("space", "log")
    predicted = result.predict(**runs.inputs(form.inputs))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log(predicted) - np.log(observed) if space == "log" else predicted - observed
    delta = options.get("delta")
    huber = options.get("loss") == "huber" and delta is not None
    ylabel = ("log residual  log L_fit − log L_obs" if space == "log"
              else "residual  L_fit − L_obs (nats/token)")
    scatter = None
    for ax, name in zip(axes, CANONICAL):
        if not runs.has(name):
            ax.text(0.5, 0.5, f"no {name} column in the runs", ha="center", va="center",
                    transform=ax.transAxes, color="0.4")
            ax.set_xlabel(LABELS[name])
            ax.tick_params(axis="x", bottom=False, labelbottom=False)
            continue
        values = runs.inputs(name)[name]
        if huber:
            inside = int(np.sum(np.abs(r) <= delta))
            ax.axhspan(-delta, delta, color="tab:orange", alpha=0.25, lw=0,
                       label=f"Huber quadratic zone ±δ (δ = {delta:g}; {inside} of "
                             f"{counted(len(runs), 'run')} inside)")
        ax.axhline(0.0, color="black", lw=0.8)
        scatter = ax.scatter(values, r, c=colors if colors is not None else "tab:blue",
                             cmap="viridis" if colors is not None else None, s=16,
                             edgecolors="none", label="runs")
        ax.set_xscale("log")
        readable_log_ticks(ax, counts=name != "C")
        ax.set_xlabel(LABELS[name])
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel(ylabel)
    axes[0].legend(loc="best", fontsize="small")
    if colors is not None and scatter is not None:
        bar = axes[-1].figure.colorbar(scatter, ax=list(axes), pad=0.01)
        bar.set_label(LABELS.get(color_by, color_by))
    rms = float(np.sqrt(np.nanmean(r**2)))
    axes[1].set_title(f"{form.name}: residuals of {counted(len(runs), 'run')} (rms {rms:.3g}, "
                      f"{options.get('loss', '?')} loss, {space} space)", fontsize="medium")
    return axes

