"""Named figures of a fit, drawn to a file: the registry behind ``scalinglaws plot``
(:func:`save_figure`) and the figures of :func:`scalinglaws.report.make_report`.

Before anything is drawn: the kind, the fit, the resolution and figure size (a raster of
at most 1e8 pixels, see :mod:`scalinglaws.outputs.plot._checks`) and the output path
(never the runs' own file; another kind of file only with ``force``). Runs that are not
the data the fit was made on (by fingerprint) draw a :class:`DataMismatchWarning`. The
image is written atomically. Importing this module does not import matplotlib.
"""

from __future__ import annotations

import base64
import io
import os
import warnings
from pathlib import Path

from .._exceptions import DataMismatchWarning, InputError
from .._files import atomic_write, check_output_path
from .._text import counted
from .._validation import check_bool
from . import plot
from .plot._checks import (check_dpi, check_figsize, check_raster_size, check_result,
                           fitted_runs)
from .plot._formats import check_image_format, write_figure

__all__ = ["FIGURE_KINDS", "DataMismatchWarning", "save_figure"]


def _needs_runs(kind, runs):
    if runs is None:
        raise InputError(f"figure {kind!r} needs the runs (--data PATH)")


def _draw_fit(result, runs, **kwargs):
    _needs_runs("fit", runs)
    return plot.fit_vs_data(result, runs, **kwargs).figure


def _draw_residuals(result, runs, **kwargs):
    _needs_runs("residuals", runs)
    return plot.residuals(result, runs, **kwargs)[0].figure


def _draw_frontier(result, runs, **kwargs):
    return plot.efficient_frontier(result, **kwargs).figure


def _draw_landscape(result, runs, **kwargs):
    kwargs.setdefault("runs", runs)
    return plot.loss_landscape(result, **kwargs).figure


def _draw_corner(result, runs, **kwargs):
    boot = kwargs.pop("bootstrap", None) or getattr(result, "bootstrap", None)
    if boot is None:
        raise InputError("figure 'corner' needs bootstrap draws: fit with --bootstrap N "
                         "(or attach them with result.with_bootstrap)")
    return plot.bootstrap_corner(boot, **kwargs)[0, 0].figure


def _draw_isoflop(result, runs, **kwargs):
    """The valleys and the allocation they imply, side by side."""
    from ..fitting.isoflop import isoflop_fit

    _needs_runs("isoflop", runs)
    options = dict(kwargs.pop("isoflop_options", None) or {})
    figsize = check_figsize(kwargs.pop("figsize", None)) or (13.5, 5.0)
    if "budget" not in options and runs.has("budget"):
        options["budget"] = "budget"
    analysis = isoflop_fit(runs, **options)
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=figsize, layout="constrained")
    try:
        plot.isoflop_profiles(analysis, runs, ax=left, **kwargs)
        plot.isoflop_frontier(analysis, ax=right)
    except BaseException:
        plt.close(fig)
        raise
    return fig


def _draw_rollout(result, runs, **kwargs):
    back = kwargs.pop("rollout", None)
    if back is None:
        _needs_runs("rollout", runs)
        from ..uncertainty.rollout import rollout

        back = rollout(runs, result.form, fit_options=_refit_options(result), progress=False)
    return plot.rollout_errors(back, **kwargs).figure


def _refit_options(result) -> dict:
    """The fitting options of ``result`` that a rollout of the same estimator reuses."""
    from ..fitting.estimator import LawFitter

    recorded = getattr(result, "options", None) or {}
    return {k: v for k, v in recorded.items() if k in LawFitter.REFIT_OPTIONS
            and k not in ("max_iter", "prune_after", "keep", "rank", "polish")}


#: Kinds of :func:`save_figure`: what each shows, and the function that draws it on a
#: new figure, ``draw(result, runs, **kwargs) -> Figure``. A new figure is one entry here.
_FIGURES = {
    "fit": ("loss against N: the runs and the fitted law through them", _draw_fit),
    "residuals": ("residuals against N, D and C with the Huber band", _draw_residuals),
    "frontier": ("compute-optimal N against compute, published frontiers and known models",
                 _draw_frontier),
    "landscape": ("predicted loss over (N, D) with iso-compute lines and the optimal path",
                  _draw_landscape),
    "corner": ("pairwise scatter of the bootstrap draws", _draw_corner),
    "isoflop": ("IsoFLOP valleys: loss against N per budget with the fitted minima",
                _draw_isoflop),
    "rollout": ("rollout back-test: prediction error against extrapolation factor",
                _draw_rollout),
}

#: Kinds that draw the fit through the runs (the others use the fit or the runs alone).
_FIT_WITH_RUNS = {"fit", "residuals", "landscape"}

#: Kinds of :func:`save_figure`, with what each shows.
FIGURE_KINDS = {kind: text for kind, (text, _draw) in _FIGURES.items()}


def _check_kind(kind):
    if not isinstance(kind, str) or kind not in _FIGURES:
        raise InputError(f"unknown figure kind {kind!r}; choose one of {', '.join(_FIGURES)}")
    return kind


def _draw(kind: str, result, runs, **kwargs):
    """Draw figure ``kind`` on a new figure; return the Figure."""
    return _FIGURES[_check_kind(kind)][1](result, runs, **kwargs)


def _source_path(runs):
    """The file the runs were read from, when they were read from one."""
    source = getattr(runs, "source", "") or ""
    return None if not source or source.startswith("<") else source


def _fingerprints(result, runs):
    """``(runs', fit's)`` data fingerprints of the columns the form uses, or None when there
    is nothing to compare. A weighted fit's fingerprint is the data's plus ``+weights``."""
    stored = (getattr(result, "data_fingerprint", "") or "").split("+")[0]
    if runs is None or not stored:
        return None
    try:
        return runs.fingerprint(tuple(result.form.inputs) + ("loss",)), stored
    except InputError:  # a form whose inputs are not run columns
        return None


def _warn_if_other_data(result, runs, *, stacklevel: int = 3) -> None:
    """Warn when ``runs`` are not the data ``result`` was fitted on."""
    pair = _fingerprints(result, runs)
    if pair is not None and pair[0] != pair[1]:
        given, stored = pair
        where = _source_path(runs) or "the runs given"
        warnings.warn(f"{where} ({counted(len(runs), 'run')}) is not the data this fit was made on "
                      f"(data fingerprint {given[:19]}... vs the fit's {stored[:19]}...): the "
                      "figures show other runs than the fit's", DataMismatchWarning,
                      stacklevel=stacklevel)


def save_figure(kind: str, result, runs=None, out="figure.png", *, dpi: int = 150,
                force: bool = False, **kwargs) -> Path:
    """Draw one figure of a fit and write it to ``out``.

    Parameters
    ----------
    kind : {"fit", "residuals", "frontier", "landscape", "corner", "isoflop"}
        See :data:`FIGURE_KINDS`.
    result : FitResult
        The fit (e.g. :func:`scalinglaws.load` of a fit JSON).
    runs : Runs, DataFrame, path or None
        The runs; needed by ``fit``, ``residuals`` and ``isoflop``, drawn on ``landscape``.
        A table (path, DataFrame) is read with the column mapping the fit's runs were
        read with (``result.options["rows"]["columns"]``). Runs that are not the fit's
        data (by fingerprint), or read another column than that mapping, draw a
        :class:`DataMismatchWarning`.
    out : str or path
        Output file; the format follows the suffix: any matplotlib writes (``.png``,
        ``.pdf``, ``.svg``, ``.eps``, ``.jpg``, ``.tiff``, ``.webp``...; ``.pgf`` with
        TeX installed), else an InputError before any drawing. Never the runs' own file;
        an existing file of another kind, or a figure the package did not sign (TIFF, WebP,
        AVIF, SVGZ and raw figures carry none it reads back), only with ``force``.
    dpi : int
        Resolution of raster output, 10 to 2400; the image may hold at most 1e8 pixels
        (32,768 a side).
    force : bool
        Replace an existing file of another kind (e.g. a ``.json`` named ``out``).
    **kwargs
        Passed to the plotting function (e.g. ``x="C"`` for ``fit``, ``figsize=(8, 6)``
        inches). For ``isoflop``, ``isoflop_options={...}`` go to
        :func:`scalinglaws.isoflop_fit` (by default ``budget="budget"`` when the runs have
        a ``budget`` column, else exact C values).

    Returns
    -------
    pathlib.Path
        The file written (atomically: a failed write leaves no partial file).

    Examples
    --------
    >>> import tempfile, pathlib, matplotlib; matplotlib.use("Agg")
    >>> from scalinglaws import fit, generate_sweep
    >>> runs = generate_sweep(rng=0)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "fit.png"
    >>> save_figure("fit", fit(runs, "chinchilla"), runs, out, dpi=50).name
    'fit.png'
    """
    _check_kind(kind)
    check_result(result)
    dpi = check_dpi(dpi)
    force = check_bool("force", force)
    figsize = check_figsize(kwargs.get("figsize"))
    if figsize is not None:
        check_raster_size(figsize, dpi)
    if not isinstance(out, (str, os.PathLike)):
        raise InputError(f"`out` must be a file path, got {type(out).__name__}")
    out = Path(out)
    suffix = check_image_format(out, "`out`")
    runs = fitted_runs(runs, result)  # a table: read with the column mapping the fit records
    check_output_path(out, inputs=[_source_path(runs)], kind="image", force=force,
                      argument="`out`")
    if kind in _FIT_WITH_RUNS:
        _warn_if_other_data(result, runs)
    fig = _draw(kind, result, runs, **kwargs)
    import matplotlib.pyplot as plt

    try:
        check_raster_size(fig.get_size_inches(), dpi)
        buffer = io.BytesIO()
        write_figure(fig, buffer, suffix, dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    try:
        atomic_write(out, buffer.getvalue())
    except OSError as error:
        raise InputError(f"{out}: cannot write the figure ({error.strerror or error})") from None
    return out


def _png_base64(fig, dpi) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        check_raster_size(fig.get_size_inches(), dpi)
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
