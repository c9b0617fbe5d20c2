"""A self-contained HTML report of a fit.

:func:`make_report` writes one HTML page (figures embedded as base64 PNG, no external
files) with the fitted coefficients and their bootstrap intervals, the figures of
:mod:`scalinglaws.plot` that apply to the law, the compute-optimal allocation at a few
budgets and the fit's diagnostics, and says how many rows of the table were fitted and
which were left out, and why (the fit's record; the HTML pieces and the sections about the
fit itself: :mod:`._report_sections`). It writes atomically, refuses to write over its input
table or over a file of another kind (``force=True`` allows the latter), checks the
resolution before drawing, and warns with :class:`DataMismatchWarning` when the runs
given are not the data the fit was made on. Single figures are written by
:func:`save_figure` (:mod:`scalinglaws.outputs.figures`, re-exported here: the
``scalinglaws plot`` command). Importing this module does not import matplotlib.
"""

from __future__ import annotations

import datetime
import os
import sys
import warnings
from pathlib import Path

import numpy as np

from .._exceptions import InputError
from .._files import GENERATOR, atomic_write, check_output_path
from .._text import counted
from .._validation import check_bool
from .._version import __version__
from ._report_sections import (_diagnostics, _e, _identification_warning,
                               _not_identified_note, _num, _table, fitted_rows_text)
from .figures import (
    FIGURE_KINDS,
    DataMismatchWarning,
    _draw,
    _png_base64,
    _source_path,
    _warn_if_other_data,
    save_figure,
)
from .plot._checks import check_dpi, check_result, fitted_runs

__all__ = ["DEFAULT_BUDGETS", "FIGURE_KINDS", "DataMismatchWarning", "make_report",
           "save_figure"]

#: Budgets (FLOP) of the report's allocation table; 5.76e23 is Gopher/Chinchilla's.
DEFAULT_BUDGETS = (1e21, 1e22, 1e23, 5.76e23, 1e24, 1e25)


# =========================================================================== HTML pieces
def _bootstrap_kind(method: str) -> str:
    """The name of a bootstrap interval method (BootstrapResult.method) in a header."""
    return {"bca": "BCa"}.get(method, str(method))


def _coefficients(result) -> str:
    form = result.form
    boot = getattr(result, "bootstrap", None)
    intervals = boot.intervals if boot is not None else {}
    fixed = getattr(result, "fixed", {}) or {}
    tied = getattr(result, "tied", {}) or {}
    at_bounds = getattr(result, "at_bounds", ()) or ()
    header = ["parameter", "value"]
    if intervals:
        header += [f"{100 * boot.confidence_level:g}% bootstrap {_bootstrap_kind(boot.method)} "
                   "interval low", "high"]
    header.append("note")
    rows = []
    for name in form.param_names:
        note = ("fixed" if name in fixed else f"tied to {tied[name]}" if name in tied
                else "on a bound" if name in at_bounds else "")
        row = [f"<code>{_e(name)}</code>", _num(result.params[name])]
        if intervals:
            low, high = intervals.get(name, (float("nan"), float("nan")))
            varied = name not in fixed and name not in tied
            row += [_num(low) if varied else "", _num(high) if varied else ""]
        row.append(_e(note))
        rows.append(row)
    text = _table(header, rows, "coefficients")
    if boot is not None:
        text += (f'<p class="note">Bootstrap: {_e(boot.n_resamples)} resamples '
                 f"({_e(boot.method)}), {_e(boot.n_failed)} failed"
                 + (f", resampled within <code>{_e(boot.groups)}</code>" if boot.groups else "")
                 + (f", seed {_e(boot.seed)}" if boot.seed is not None else "") + ".</p>")
    else:
        text += ('<p class="note">No bootstrap draws attached: fit with <code>--bootstrap N'
                 "</code> (or <code>result.with_bootstrap(bootstrap(result, runs))</code>) for "
                 "intervals.</p>")
    if form.name == "chinchilla":
        from ..analysis.extrapolate import chinchilla_frontier

        try:
            coef = chinchilla_frontier(result)
        except InputError:
            coef = None
        if coef is not None:
            rows = []
            for name, meaning in (("G", "N_opt = G (C/6)^a"), ("a", "N_opt ∝ C^a"),
                                  ("b", "D_opt ∝ C^b")):
                row = [f"<code>{name}</code>", _num(getattr(coef, name)), _e(meaning)]
                if coef.intervals:
                    low, high = coef.intervals[name]
                    row.insert(2, f"[{_num(low)}, {_num(high)}]")
                rows.append(row)
            # the frontier's intervals are percentiles of the coefficients computed from each
            # bootstrap draw (analysis.predict.chinchilla_frontier), whatever interval
            # method the parameters' own intervals use (a tied fit's: widened or labelled,
            # analysis/restricted.py)
            method = coef.interval_method or "bootstrap percentile"
            interval = (f"{100 * coef.confidence_level:g}% {_e(method)} interval "
                        f"({coef.n_draws} draws)")
            header = (["frontier", "value"] + ([interval] if coef.intervals else [])
                      + ["meaning"])
            text += ("<h3>Efficient frontier (Hoffmann et al. 2022, Eq 4)</h3>"
                     + _table(header, rows, "coefficients"))
    return text


def _allocation(result, budgets) -> str:
    from ..analysis.extrapolate import compute_optimal

    if set(result.form.inputs) != {"N", "D"}:
        return (f'<p class="note">The {_e(result.form.name)} law has inputs '
                f"({_e(', '.join(result.form.inputs))}): it cannot split compute between "
                "parameters and tokens, so there is no allocation table.</p>")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            alloc = compute_optimal(result, budgets)
        except InputError as error:
            return f'<p class="note">No allocation: {_e(error)}</p>'
    intervals = alloc.intervals

    def cell(name, i, fmt):
        value = fmt(np.atleast_1d(getattr(alloc, name))[i])
        if name in intervals:
            low, high = (np.atleast_1d(b)[i] for b in intervals[name])
            value += f' <span class="ci">[{fmt(low)}, {fmt(high)}]</span>'
        return value

    rows = []
    for i, budget in enumerate(budgets):
        rows.append([_num(budget, 3), cell("N", i, lambda v: _num(v, 3)),
                     cell("D", i, lambda v: _num(v, 3)),
                     cell("tokens_per_parameter", i, lambda v: _num(v, 3)),
                     cell("loss", i, lambda v: _num(v, 4))])
    header = ["compute C (FLOP)", "N_opt (parameters)", "D_opt (tokens)", "D/N",
              "loss (nats/token)"]
    text = _table(header, rows, "allocation")
    note = (f"C = {alloc.flops_per_token:g}·N·D; {_e(alloc.method)} solution"
            + (f"; brackets: {100 * alloc.confidence_level:g}% "
               f"{_e(alloc.interval_method or 'bootstrap percentile')} interval "
               f"over {alloc.n_draws} draws ({alloc.n_failed_draws} failed)"
               if intervals else "; no intervals without bootstrap draws") + ".")
    text += f'<p class="note">{note}</p>'
    for warning in caught:
        text += f'<p class="warn">Warning: {_e(warning.message)}</p>'
    return text


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.8em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.7em; text-align: left; }
thead th { background: #f2f2f2; }
td { font-variant-numeric: tabular-nums; }
.diagnostics th { background: #f7f7f7; font-weight: 600; white-space: nowrap; }
.ci { color: #666; font-size: 0.9em; }
.note { color: #555; font-size: 0.9em; }
.warn { color: #a40; font-size: 0.9em; }
.alert { border: 2px solid #b42318; background: #fef3f2; color: #7a271a; padding: 0.7em 1em;
         margin: 1em 0; border-radius: 4px; }
figure { margin: 1.2em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
code { background: #f4f4f4; padding: 0 0.2em; }
"""


def _looks_isoflop(runs) -> bool:
    """Runs grouped by compute budget (a ``budget`` column, or few distinct C values)."""
    if runs.has("budget"):
        return True
    if not runs.has("C"):
        return False
    distinct = np.unique(np.round(np.log10(runs.C), 6)).size
    return 2 <= distinct <= len(runs) / 3


#: Caption of each figure of the report, by its id on the page.
_CAPTIONS = {
    "fit": "Observed losses (points) and the fitted law through each group of runs.",
    "fit_c": ("The same runs against compute: black ticks mark the fitted law at each run's "
              "N and D (a budget's runs share one C), the dashed line the fit's "
              "compute-optimal loss L*(C)."),
    "residuals": ("Residuals against N, D and C; the shaded band is the Huber loss's quadratic "
                  "zone ±δ: a run inside it counts as in least squares, a run outside linearly "
                  "(down-weighted, not set aside as an outlier). With δ far below the "
                  "residuals' spread (Hoffmann et al.'s 1e-3) most runs lie outside, and the "
                  "fit is close to least absolute deviations."),
    "frontier": ("Compute-optimal model size against compute, with the published frontiers; "
                 "models above the fit's line have more parameters than their compute warrants "
                 "(under-trained)."),
    "landscape": ("Predicted loss over (N, D); dashed: iso-compute lines C = {k}·N·D (the "
                  "fit's FLOPs per token); red: the compute-optimal path."),
    "isoflop": ("IsoFLOP profiles (Hoffmann et al. 2022 Approach 2, independent of the fitted "
                "law): a parabola per budget, its minimum, and the power laws N_opt ∝ C^a, "
                "D_opt ∝ C^b through the minima."),
    "corner": ("Bootstrap draws: histograms and pairwise scatter with correlations (scale "
               "parameters on log axes)."),
    "rollout": ("Rollout back-test: fitted below each cut, the law predicts every larger run; "
                "signed error (predicted − observed) / observed against how far it "
                "extrapolates (median and central 80% per bin)."),
}


def _is_calibrated(result) -> bool:
    from ..uncertainty.calibrated import CalibratedFit

    return isinstance(result, CalibratedFit)


def _rollouts(rollout, result, runs) -> list:
    """The rollout(s) to show: none, given ones, or one run here (``True``)."""
    if rollout is None or rollout is False:
        return []
    if rollout is True:
        if runs is None:
            raise InputError("`rollout=True` needs the runs")
        from ..uncertainty.rollout import rollout as run_rollout
        from .figures import _refit_options

        return [run_rollout(runs, result.form, fit_options=_refit_options(result),
                            progress=False)]
    from ..uncertainty.rollout import RolloutResult

    items = [rollout] if isinstance(rollout, RolloutResult) else list(rollout) \
        if isinstance(rollout, (list, tuple)) else []
    if not items or not all(isinstance(r, RolloutResult) for r in items):
        raise InputError("`rollout` must be True, a RolloutResult or a list of them, got "
                         f"{type(rollout).__name__}")
    return items


def _rollout_tables(rollouts) -> str:
    parts = []
    for back in rollouts:
        table = back.by_factor()
        rows = [[f"{row.factor_low:g}–{row.factor_high:g}", _e(int(row.n)),
                 f"{100 * row.mean_relative_error:.3g}%", f"{100 * row.max_relative_error:.3g}%",
                 f"{100 * row.bias:+.3g}%"] for row in table.itertuples()]
        parts.append(f'<p class="note">{_e(back.label)}: {len(back.cuts)} folds along '
                     f"{_e(back.axis)}, {back.n_records} held-out records; mean error "
                     f"{100 * back.mean_relative_error:.3g}%, bias {100 * back.bias:+.3g}%.</p>")
        parts.append(_table(["extrapolation factor", "records", "mean error", "max error",
                             "bias"], rows))
    return "\n".join(parts)


def _uncertainty(law) -> str:
    """The uncertainty model of a CalibratedFit, as a table."""
    s, c = law.scatter, law.calibration
    rows = [["run-to-run scatter", f"sd(log loss) = {s.sigma:.4g} ({_e(s.model)}"
             + (f", coefficient {s.coefficient:.3g}" if s.coefficient else "")
             + f"; {s.dof:.0f} dof, {counted(s.n_outliers, 'outlier')} set aside)"],
            ["parameters", "delta-method covariance"
             + (f"; bootstrap of {law.bootstrap.n_resamples} resamples for confidence intervals"
                if law.bootstrap is not None else "")]]
    if c is not None:
        q = c.multiplier(0.95)
        rows.append(["extrapolation", f"tau = {c.tau:.4g}, kappa = {c.kappa:.4g} per unit "
                     f"log({_e(c.axis)}/{_e(c.axis)}_max); rollout of {c.n_folds} folds, "
                     f"{c.n_points} held-out runs, up to {np.exp(c.max_log_factor):.3g}x; 95% "
                     + (f"multiplier {q:.3g} (conformal)" if q is not None else
                        "multiplier from Student's t")])
    else:
        rows.append(["extrapolation", "not calibrated: prediction intervals beyond the fitted "
                                      "range have no extrapolation term"])
    return _table(["part", "model"], rows) + (
        '<p class="note">Prediction intervals (where one new run will land) combine all three; '
        "confidence intervals (where the law is) use the parameter part only.</p>")


def _figure_plan(result, runs):
    """``(ident, kind, kwargs, caption)`` of the figures that apply to this law and data,
    in page order. A new figure of the report is an entry here and in ``_CAPTIONS`` (its
    kind one in :data:`scalinglaws.outputs.figures.FIGURE_KINDS`)."""
    allocatable = set(result.form.inputs) == {"N", "D"}
    plan = [("fit", "fit", {}), ("residuals", "residuals", {})]
    if runs is not None and runs.has("C") and "N" in result.form.inputs and allocatable:
        plan.insert(1, ("fit_c", "fit", {"x": "C"}))
    if allocatable:
        plan += [("frontier", "frontier", {}), ("landscape", "landscape", {})]
    if runs is not None and _looks_isoflop(runs):
        plan.append(("isoflop", "isoflop", {}))
    if getattr(result, "bootstrap", None) is not None:
        plan.append(("corner", "corner", {}))
    from ..analysis._common import fit_flops_per_token

    k = f"{fit_flops_per_token(result):g}"  # the k the landscape draws, as the table states
    return [(ident, kind, kwargs, _CAPTIONS[ident].format(k=k)) for ident, kind, kwargs in plan]


def _render(plan, result, runs, dpi, show_progress, budgets):
    """Each figure of ``plan`` as ``(ident, caption, base64 PNG or None, error, notes)``,
    with a progress bar over the figures (one step per figure, then one for the tables)."""
    import matplotlib
    from .._progress import progress_bar as tqdm

    figures = []
    with matplotlib.rc_context({"figure.max_open_warning": 0}), \
            tqdm(total=len(plan) + 1, desc="report", unit="figure", disable=not show_progress,
                 file=sys.stderr, mininterval=0) as bar:  # a few slow steps: show each
        for ident, kind, kwargs, caption in plan:
            bar.set_postfix_str(ident)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:  # a figure that does not apply is noted on the page...
                    figure = _draw(kind, result, runs, **kwargs)
                except InputError as problem:
                    image, error = None, str(problem)
                else:  # ...an image too large for `dpi` stops the report
                    image, error = _png_base64(figure, dpi), None
            notes = [str(w.message) for w in caught
                     if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning))]
            figures.append((ident, caption, image, error, notes))
            bar.update()
        bar.set_postfix_str("tables")
        tables = (_coefficients(result), _allocation(result, budgets),
                  _diagnostics(result, runs))
        bar.update()
    return figures, tables


def make_report(result, runs, out="report.html", budgets=DEFAULT_BUDGETS, title=None, *,
                dpi: int = 110, progress: bool | None = None, force: bool = False,
                rollout=None, tasks=None) -> Path:
    """Write a self-contained HTML report of a fit.

    The page holds the coefficients (with bootstrap intervals when ``result.bootstrap`` is
    attached), the figures that apply to the law (all of them for a law in N and D; the
    fit and residuals for a single-variable law; the corner plot when there are draws),
    the compute-optimal allocation at ``budgets`` and the fit's diagnostics. Images are
    embedded as base64 PNG: the file stands alone. All text is HTML-escaped.

    Parameters
    ----------
    result : FitResult
        The fit.
    runs : Runs, DataFrame, path or None
        The runs it was fitted to (None: no data figures); a table (path, DataFrame) is
        read with the fit's column mapping, as :func:`save_figure` reads it. Runs that
        are not the fit's data (by fingerprint) draw a :class:`DataMismatchWarning`, and
        the diagnostics say so.
    out : str or path
        The HTML file to write (atomically). Never the runs' own file; an existing file of
        another kind only with ``force``.
    budgets : sequence of float
        Compute budgets (FLOP) of the allocation table.
    title : str, optional
        Page title; default names the law and the data.
    dpi : int
        Resolution of the embedded figures, 10 to 2400 (at most 1e8 pixels a figure).
    progress : bool, optional
        A tqdm bar over the figures on stderr; default on only for an interactive
        terminal.
    force : bool
        Replace an existing file of another kind.
    rollout : bool, RolloutResult or list of RolloutResult, optional
        A rollout back-test to show (error against extrapolation factor, and its table by
        factor); ``True`` runs one of the fit's own estimator on ``runs``.
    tasks : TaskPredictions or (TaskPredictions, DownstreamFit), optional
        Downstream task predictions to add (table and, with the fit, one figure per task).

    When ``result`` is a :class:`~scalinglaws.uncertainty.calibrated.CalibratedFit`, the
    page also describes its uncertainty model (scatter, extrapolation term, bootstrap).

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile, pathlib, matplotlib; matplotlib.use("Agg")
    >>> from scalinglaws import fit, generate_sweep
    >>> runs = generate_sweep(rng=0)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report.html"
    >>> make_report(fit(runs, "chinchilla"), runs, out, dpi=30).read_text()[:15]
    '<!DOCTYPE html>'
    """
    check_result(result)
    runs = fitted_runs(runs, result)  # a table: read with the column mapping the fit records
    try:
        budgets = np.atleast_1d(np.asarray(budgets, dtype=float))
    except (TypeError, ValueError):
        budgets = None
    if budgets is None or budgets.ndim != 1 or budgets.size == 0 or not np.all(
            np.isfinite(budgets)) or np.any(budgets <= 0):
        raise InputError(f"`budgets` must be a non-empty list of positive FLOP counts, "
                         f"got {budgets!r}")
    dpi = check_dpi(dpi)
    if title is not None and not isinstance(title, str):
        raise InputError(f"`title` must be text or None, got {type(title).__name__}")
    progress = check_bool("progress", progress, allow_none=True)
    force = check_bool("force", force)
    if not isinstance(out, (str, os.PathLike)):
        raise InputError(f"`out` must be a file path, got {type(out).__name__}")
    out = check_output_path(out, inputs=[_source_path(runs)], kind="html", force=force,
                            argument="`out`")
    if title is None:
        source = f" — {Path(_source_path(runs)).name}" if _source_path(runs) else ""
        title = f"Scaling-law fit: {result.form.name}{source}"
    _warn_if_other_data(result, runs)
    show_progress = sys.stderr.isatty() if progress is None else progress
    rollouts = _rollouts(rollout, result, runs)
    plan = _figure_plan(result, runs)
    if rollouts:
        plan.append(("rollout", "rollout", {"rollout": rollouts}, _CAPTIONS["rollout"]))
    figures, (coefficients, allocation, diagnostics) = _render(
        plan, result, runs, dpi, show_progress, budgets)

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta name="generator" content="{GENERATOR} {__version__}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        (f'<p class="note"><code>{_e(result.form.formula)}</code> fitted to '
        f"{_e(fitted_rows_text(result))}. Units: N = parameters, D = training tokens, C = "
        "training "
        "compute in FLOP, loss in nats per token. Generated "
        f"{_e(datetime.datetime.now().strftime('%Y-%m-%d %H:%M'))} by scalinglaws "
        f"{_e(__version__)}.</p>"),
        _identification_warning(result, runs),
        "<h2>Coefficients</h2>",
        _not_identified_note(result),
        coefficients,
        "<h2>Figures</h2>",
    ]
    for kind, caption, data, error, notes in figures:
        if data is None:
            parts.append(f'<p class="warn">Figure <code>{_e(kind)}</code> not drawn: '
                         f"{_e(error)}</p>")
            continue
        parts.append(f'<figure id="fig-{_e(kind)}"><img src="data:image/png;base64,{data}" '
                     f'alt="{_e(kind)} figure"><figcaption>{_e(caption)}</figcaption></figure>')
        parts += [f'<p class="warn">Warning: {_e(note)}</p>' for note in notes]
    parts += ["<h2>Compute-optimal allocation</h2>", _not_identified_note(result), allocation]
    if _is_calibrated(result):
        parts += ["<h2>Uncertainty of predictions</h2>", _uncertainty(result)]
    if rollouts:
        parts += ["<h2>Rollout back-test</h2>", _rollout_tables(rollouts)]
    if tasks is not None:
        from .report_tasks import tasks_html

        predictions, task_fit = tasks if isinstance(tasks, tuple) else (tasks, None)
        parts.append(tasks_html(predictions, task_fit))
    parts += ["<h2>Fit diagnostics</h2>", diagnostics, "</body></html>"]
    try:
        atomic_write(out, "\n".join(parts) + "\n")
    except OSError as error:
        raise InputError(f"{out}: cannot write the report ({error.strerror or error})") from None
    return out
