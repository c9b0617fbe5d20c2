r"""Rollout back-tests: fit below a cut, predict everything above, for several cuts.

A scaling law is fitted on small runs to predict a much larger one, so the test of
an estimator is how well it predicts runs beyond the ones it saw, as a function of
how far beyond. :func:`rollout` sorts the runs along an axis (``C``, ``N`` or ``D``),
and for each of several cuts :math:`c_k` fits the law on every run with
:math:`x \le c_k` (expanding windows) and predicts every run with :math:`x > c_k`.
Each held-out run of each fold is one record: the cut, the predicted loss, the signed
relative error :math:`(\hat L - L)/L`, its absolute value, the log error
:math:`\log \hat L - \log L`, and the extrapolation factor :math:`x / \max_{train} x`
(its C over the largest fitted C, or N, or D). Interval hooks add, per kind, the
interval and whether it covered the observed loss. A run above several cuts appears
once per fold, with the factor of that fold.

How cuts are chosen (:func:`rollout_cuts`): the distinct values of the axis (values
within ``rtol`` of each other are one level, so an IsoFLOP budget is never split
between fit and test); every level that leaves at least ``min_train`` runs at or below
it and at least ``min_test`` above is admissible; if more than ``n_cuts`` are, the
cuts are the admissible levels nearest to ``n_cuts`` points evenly spaced in log
between the smallest and the largest admissible level (both ends included), each point
its own level: where two points are nearest one level, the distinct levels in order
with the least total log distance (a tie, within 1e-9, going to the lower level), so a
point at the geometric midpoint of two levels never costs a fold.

With ``clusters`` (rows that are checkpoints of one run, read by
:func:`~.resampling.resolve_clusters`), a run goes to one side of every cut, the side of
its largest value along the axis: a fold fits on the runs whose every row is at or below
the cut and holds out every row of the others, their early checkpoints too (whose factor
can then be below 1). Cut row by row, a fold fitted a run's early checkpoints and was
scored on its later ones, which share the run's error: the held-out error of a run the
fit had partly seen.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .._exceptions import InputError
from .._text import counted
from .._validation import FrozenOnUnpickle
from .._validation import FrozenDict, deep_freeze, readonly_array, to_plain
from ..data.runs import Runs, as_runs
from ..fitting.estimator import FitResult, LawFitter
from ..laws.forms import Form
from .interval_hooks import (check_interval_bounds, check_intervals, check_same_description,
                             described_interval_bounds)
from .prediction import describe_interval
from .resampling import CLUSTERS_DEFAULT, resolve_clusters
# the choice of cuts has its own module; imported from here by calibration and users
from .cuts import rollout_cuts

__all__ = ["AXES", "RolloutResult", "rollout", "rollout_cuts", "check_interval_bounds",
           "run_maxima"]

AXES = ("C", "N", "D")

#: ``hook(fit_result, runs_train, inputs) -> (low, high)``: bounds of an interval of the
#: loss at ``inputs`` (the held-out runs' input arrays by the form's input names), or a
#: result with ``low``, ``high`` and what they are (a ``Prediction``).
IntervalHook = Callable[[FitResult, Runs, dict], tuple]

#: Edges of the extrapolation-factor bins of :meth:`RolloutResult.by_factor`.
FACTOR_EDGES = (1.0, 2.0, 4.0, 10.0, 30.0, 100.0, math.inf)


@dataclass(frozen=True)
class RolloutResult(FrozenOnUnpickle):
    """Outcome of :func:`rollout`: one record per (fold, held-out run). Frozen.

    Attributes
    ----------
    form : Form
        The law fitted.
    axis : {"C", "N", "D"}
        The axis the runs were cut along.
    label : str
        Name of the estimator (for tables and figures).
    cuts : tuple of float
        The cut of each fold: fitted on runs with ``axis <= cut``.
    n_train : tuple of int
        Training runs of each fold.
    fits : tuple of FitResult
        The fit of each fold.
    fold : ndarray of int
        Fold index of each record (into ``cuts``).
    row : ndarray of int
        Source row of each record's run (position in the table the runs came from).
    inputs : mapping of str to ndarray
        ``N``, ``D``, ``C`` of each record's run (those the runs have).
    loss, predicted : ndarray
        Observed and predicted loss.
    relative_error, signed_relative_error, log_error : ndarray
        ``|predicted - loss| / loss``, ``(predicted - loss) / loss`` (positive: the
        law over-predicts the loss) and ``log(predicted) - log(loss)``.
    factor : ndarray
        Extrapolation factor: the run's ``axis`` value over the largest ``axis``
        value of its fold's training runs (> 1 for every record).
    intervals : mapping of str to (low, high)
        Per interval kind (the hook's key), the bounds for each record.
    interval_descriptions : mapping of str to mapping
        Per kind whose hook returned a result saying what its interval is (a
        ``Prediction``, an ``IntervalBounds``): its ``interval`` (``"confidence"`` or
        ``"prediction"``), ``confidence_level`` and ``method``; see :meth:`describe_interval`.
    options : mapping
        The settings (plain types).
    """

    form: Form
    axis: str
    label: str
    cuts: tuple
    n_train: tuple
    fits: tuple = field(repr=False)
    fold: np.ndarray = field(repr=False)
    row: np.ndarray = field(repr=False)
    inputs: Mapping = field(repr=False)
    loss: np.ndarray = field(repr=False)
    predicted: np.ndarray = field(repr=False)
    relative_error: np.ndarray = field(repr=False)
    signed_relative_error: np.ndarray = field(repr=False)
    log_error: np.ndarray = field(repr=False)
    factor: np.ndarray = field(repr=False)
    intervals: Mapping = field(default_factory=FrozenDict, repr=False)
    options: Mapping = field(default_factory=FrozenDict, repr=False)
    interval_descriptions: Mapping = field(default_factory=FrozenDict, repr=False)

    def __setstate__(self, state: dict) -> None:
        # a rollout pickled before its hooks' intervals were described: none were
        super().__setstate__({"interval_descriptions": FrozenDict(), **state})

    # -- summaries ---------------------------------------------------------
    @property
    def n_records(self) -> int:
        """Held-out (fold, run) records, over every fold."""
        return int(self.loss.size)

    @property
    def mean_relative_error(self) -> float:
        """Mean of ``relative_error`` over every record."""
        return float(np.mean(self.relative_error))

    @property
    def max_relative_error(self) -> float:
        """Largest ``relative_error`` over every record."""
        return float(np.max(self.relative_error))

    @property
    def bias(self) -> float:
        """Mean ``signed_relative_error``: positive when the law over-predicts."""
        return float(np.mean(self.signed_relative_error))

    def covered(self, kind: str) -> np.ndarray:
        """Whether each record's loss lies in its ``kind`` interval (bounds included)."""
        if kind not in self.intervals:
            raise InputError(f"no interval kind {kind!r}; this rollout has "
                             f"{sorted(self.intervals) or 'none'}")
        low, high = self.intervals[kind]
        return (low <= self.loss) & (self.loss <= high)

    def describe_interval(self, kind: str) -> str | None:
        """What the ``kind`` hook's interval is (``"95% bootstrap percentile confidence
        interval"``); None when the hook returned bare bounds."""
        self.covered(kind)  # InputError naming the kinds recorded
        described = self.interval_descriptions.get(kind)
        if not described:
            return None
        return describe_interval(described["confidence_level"], described["method"],
                                 described["interval"])

    @property
    def coverage(self) -> dict:
        """Fraction of records covered, per interval kind."""
        return {kind: float(np.mean(self.covered(kind))) for kind in self.intervals}

    def by_factor(self, edges=FACTOR_EDGES):
        """Errors, bias and coverage in bins of the extrapolation factor.

        Returns a DataFrame, one row per non-empty bin ``[low, high)``: ``n``,
        ``mean_relative_error``, ``median_relative_error``, ``max_relative_error``,
        ``bias`` and ``coverage_<kind>`` per interval kind.
        """
        import pandas as pd

        edges = np.asarray(edges, dtype=float)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise InputError("`edges` must be at least two increasing factor values")
        rows = []
        for low, high in zip(edges[:-1], edges[1:]):
            inside = (self.factor >= low) & (self.factor < high)
            if not inside.any():
                continue
            errors = self.relative_error[inside]
            row = {"factor_low": low, "factor_high": high, "n": int(inside.sum()),
                   "mean_relative_error": float(errors.mean()),
                   "median_relative_error": float(np.median(errors)),
                   "max_relative_error": float(errors.max()),
                   "bias": float(self.signed_relative_error[inside].mean())}
            for kind in self.intervals:
                row[f"coverage_{kind}"] = float(self.covered(kind)[inside].mean())
            rows.append(row)
        return pd.DataFrame(rows)

    def to_frame(self):
        """One row per record: ``fold``, ``cut``, ``row``, inputs, ``loss``,
        ``predicted``, the three errors, ``factor``, ``label`` and per interval kind
        ``<kind>_low``, ``<kind>_high``, ``<kind>_covered``."""
        import pandas as pd

        columns = {"fold": self.fold, "cut": np.asarray(self.cuts, dtype=float)[self.fold],
                   "row": self.row, **self.inputs, "loss": self.loss,
                   "predicted": self.predicted, "relative_error": self.relative_error,
                   "signed_relative_error": self.signed_relative_error,
                   "log_error": self.log_error, "factor": self.factor}
        frame = pd.DataFrame({k: np.array(v) for k, v in columns.items()})
        frame["label"] = self.label
        for kind, (low, high) in self.intervals.items():
            frame[f"{kind}_low"], frame[f"{kind}_high"] = np.array(low), np.array(high)
            frame[f"{kind}_covered"] = self.covered(kind)
        return frame

    def to_dict(self) -> dict:
        """Plain-type dictionary: settings, summary, per-fold fits and every record."""
        return to_plain({
            "form": self.form.to_dict(), "axis": self.axis, "label": self.label,
            "options": dict(self.options),
            "summary": {"n_records": self.n_records,
                        "mean_relative_error": self.mean_relative_error,
                        "max_relative_error": self.max_relative_error, "bias": self.bias,
                        "coverage": self.coverage},
            "interval_descriptions": {kind: dict(value) for kind, value
                                      in self.interval_descriptions.items()},
            "folds": [{"cut": cut, "n_train": n, "fit": fit.to_dict()}
                      for cut, n, fit in zip(self.cuts, self.n_train, self.fits)],
            "records": self.to_frame().drop(columns="label").to_dict(orient="list"),
        })

    def summary(self, edges=FACTOR_EDGES) -> str:
        """Readable account: folds, overall errors, and errors by extrapolation factor."""
        lines = [f"rollout of {self.form.name} ({self.label}) along {self.axis}: "
                 f"{len(self.cuts)} folds, {self.n_records} held-out records",
                 f"relative error |predicted - loss| / loss: mean {_percent(self.mean_relative_error)}, "
                 f"max {_percent(self.max_relative_error)}; bias (mean signed) "
                 f"{_percent(self.bias, sign=True)}"]
        for kind, value in self.coverage.items():
            described = self.describe_interval(kind)
            lines.append(f"{kind} interval{f' ({described})' if described else ''} coverage "
                         f"{value:.1%} ({int(self.covered(kind).sum())} of {self.n_records})")
        lines += ["", f"{'fold':>4}  {'cut':>10}{'train':>7}{'held':>6}{'mean err':>10}"
                      f"{'max err':>9}{'bias':>9}"]
        for k, (cut, n) in enumerate(zip(self.cuts, self.n_train)):
            inside = self.fold == k
            lines.append(f"{k:>4}  {cut:>10.4g}{n:>7}{int(inside.sum()):>6}"
                         f"{_percent(self.relative_error[inside].mean()):>10}"
                         f"{_percent(self.relative_error[inside].max()):>9}"
                         f"{_percent(self.signed_relative_error[inside].mean(), True):>9}")
        table = self.by_factor(edges)
        lines += ["", f"{'factor':>14}{'n':>6}{'mean err':>10}{'max err':>9}{'bias':>9}"
                  + "".join(f"{'cover ' + k:>14}" for k in self.intervals)]
        for _, row in table.iterrows():
            span = f"[{row.factor_low:g}, {row.factor_high:g})"
            lines.append(f"{span:>14}{int(row.n):>6}{_percent(row.mean_relative_error):>10}"
                         f"{_percent(row.max_relative_error):>9}{_percent(row.bias, True):>9}"
                         + "".join(f"{row[f'coverage_{k}']:>14.1%}" for k in self.intervals))
        return "\n".join(lines)

    def __str__(self):
        return self.summary()


def _percent(fraction: float, sign: bool = False) -> str:
    return f"{100 * fraction:{'+' if sign else ''}.3g}%"


def _weights_for(weights, runs: Runs, train: np.ndarray):
    """Fit weights of the training runs: from a column name, an array over all runs, or a
    callable ``weights(runs_train) -> array``."""
    if weights is None:
        return None
    if isinstance(weights, str):
        if weights not in runs.columns:
            raise InputError(f"`weights` names column {weights!r}, which the runs do not have; "
                             f"columns: {list(runs.columns)}")
        return runs.frame[weights].to_numpy(dtype=float)[train]
    if callable(weights):
        return weights(runs.select(train))
    values = np.asarray(weights, dtype=float)
    if values.shape != (len(runs),):
        raise InputError(f"`weights` must have one value per run ({len(runs)}), got shape "
                         f"{values.shape}")
    return values[train]


def _label(fitter: LawFitter, weights) -> str:
    options = fitter.options()
    loss = fitter.loss
    text = f"{fitter.form.name}, {options['space']} {loss.name}"
    if getattr(loss, "delta", None) is not None and np.isfinite(loss.delta):
        text += f" delta={loss.delta:g}"
    if getattr(loss, "ratio", None) is not None:
        text += f" ratio={loss.ratio:g}"
    for kind in ("fixed", "tied"):
        if options[kind]:
            text += f", {kind} " + ", ".join(f"{k}={v}" for k, v in options[kind].items())
    if weights is not None:
        text += f", weights={weights if isinstance(weights, str) else getattr(weights, '__name__', 'given')}"
    return text


# -- the rollout ---------------------------------------------------------------------
def rollout(runs, form: str | Form = "chinchilla", *, axis: str = "C", cuts=None,
            n_cuts: int = 5, min_train: int | None = None, min_test: int = 1,
            rtol: float = 1e-6, fit_options: Mapping | None = None, weights=None,
            intervals: Mapping | None = None, label: str | None = None,
            progress: bool | None = None, clusters: str | None = CLUSTERS_DEFAULT,
            **fit_kwargs) -> RolloutResult:
    r"""Expanding-window back-test: for each cut, fit on runs at or below it, predict those above.

    Parameters
    ----------
    runs : Runs, DataFrame or path
        The runs (see :func:`scalinglaws.load_runs`).
    form : str or Form
        The law to fit.
    axis : {"C", "N", "D"}
        The column the runs are cut along.
    cuts : sequence of float, optional
        Explicit cut values (fit on ``axis <= cut``). Default: :func:`rollout_cuts`.
    n_cuts : int, default 5
        Most cuts chosen when ``cuts`` is None.
    min_train : int, optional
        Fewest training runs of a fold; default ``max(2 (q + 1), ceil(n / 3))`` for a
        law with ``q`` free parameters and ``n`` runs, so the first fold already
        fits on a third of the sweep.
    min_test : int, default 1
        Fewest held-out runs of a fold.
    rtol : float, default 1e-6
        Axis values within this relative distance are one level, never split.
    fit_options : dict, optional
        :class:`~scalinglaws.LawFitter` options (``loss``, ``delta``, ``space``,
        ``tied``, ``fixed``, ``bounds``, ``starts``...), the same for every fold;
        keyword arguments (``**fit_kwargs``) are merged into them.
    weights : str, array or callable, optional
        Fit weights: a column name, one value per run, or ``weights(runs_train) ->
        array`` (e.g. ``lambda r: r.C / r.C.max()`` to weigh runs by compute).
    intervals : dict, optional
        ``{kind: hook(fit_result, runs_train, inputs) -> (low, high)}``, evaluated
        per fold on the held-out ``inputs``; records ``intervals[kind]`` and
        ``coverage[kind]``. A hook returning a ``Prediction`` (or ``IntervalBounds``) has
        its kind, level and method recorded too (``interval_descriptions``).
    label : str, optional
        Name of the estimator in tables and figures (default: from the options).
    progress : bool, optional
        tqdm progress bar over folds; default on for an interactive terminal and
        more than 3 folds.
    clusters : "auto", str or None
        Rows that are one run (:func:`~.resampling.resolve_clusters`): each run is cut
        by its largest value along ``axis``, all its rows on one side (module notes);
        ``cuts``, ``min_train`` and ``min_test`` still count rows. ``"auto"`` (default,
        as for :func:`scalinglaws.bootstrap` and :func:`scalinglaws.calibrate`): ``run_id``
        when it repeats (checkpoints of one run), rows otherwise; None: rows, so a run's
        early checkpoints can train the fold that scores its later ones.

    Returns
    -------
    RolloutResult

    Raises
    ------
    InputError
        A bad argument, a missing column, or no cut that leaves ``min_train`` runs
        to fit and ``min_test`` to predict.

    Examples
    --------
    >>> from scalinglaws import generate_sweep
    >>> result = rollout(generate_sweep(rng=0, noise=0.0), axis="C", n_cuts=3)
    >>> len(result.cuts), bool(result.max_relative_error < 1e-6), bool(result.factor.min() > 1)
    (3, True, True)
    """
    runs = as_runs(runs)
    if axis not in AXES:
        raise InputError(f"`axis` must be one of {', '.join(map(repr, AXES))}, got {axis!r}")
    if fit_options is not None and not isinstance(fit_options, Mapping):
        raise InputError(f"`fit_options` must be a dict of LawFitter options, got "
                         f"{type(fit_options).__name__}")
    options = {**(fit_options or {}), **fit_kwargs}
    if "form" in options:
        raise InputError("`fit_options` must not contain 'form'; pass form= to rollout")
    if "weights" in options:
        raise InputError("pass `weights` to rollout itself, not inside `fit_options`")
    hooks = check_intervals(intervals)
    if weights is not None and not (isinstance(weights, str) or callable(weights)):
        weights = np.asarray(weights, dtype=float)
    fitter = LawFitter(form, **options)  # validates the options once, up front
    runs.inputs(fitter.form.inputs)  # InputError naming a column the law needs
    values = runs.inputs((axis,))[axis]
    column, codes = resolve_clusters(runs, clusters)
    cut_on = values if codes is None else run_maxima(values, codes)
    if min_train is None:
        min_train = max(2 * (len(fitter.free) + 1), math.ceil(len(runs) / 3))
    elif isinstance(min_train, bool) or not isinstance(min_train, (int, np.integer)) \
            or min_train <= len(fitter.free):
        raise InputError(f"`min_train` must be an integer > {len(fitter.free)} (the free "
                         f"parameters of {fitter.form.name}), got {min_train!r}")
    if cuts is None:
        cut_values = rollout_cuts(cut_on, n_cuts=n_cuts, min_train=int(min_train),
                                  min_test=min_test, rtol=rtol)
    else:
        cut_values = _check_cuts(cuts, cut_on, len(fitter.free) + 1, axis)
    label = _label(fitter, weights) if label is None else str(label)

    show = (sys.stderr.isatty() and len(cut_values) > 3) if progress is None else bool(progress)
    from .._progress import progress_bar as tqdm

    shown = [c for c in ("N", "D", "C") if runs.has(c)]
    parts, fits, n_train, descriptions = [], [], [], {}
    for k, cut in enumerate(tqdm(cut_values, disable=not show, desc=f"rollout {label}",
                                 unit="fold")):
        train = cut_on <= cut  # a chosen cut is the largest value of its level
        train_runs, held = runs.select(train), runs.select(~train)
        fit = fitter.fit(train_runs, weights=_weights_for(weights, runs, train))
        inputs = held.inputs(fitter.form.inputs)
        predicted = np.asarray(fit.predict(**inputs), dtype=float).reshape(len(held))
        part = {"fold": np.full(len(held), k), "row": np.asarray(held.row_numbers),
                "loss": held.loss, "predicted": predicted,
                "factor": held.inputs((axis,))[axis] / values[train].max(),
                **{c: held.inputs((c,))[c] for c in shown}}
        for kind, hook in hooks.items():
            where = f"{k} ({axis} > {cut:.4g})"
            low, high, described = described_interval_bounds(
                hook, fit, train_runs, inputs, len(held), where, f"intervals[{kind!r}]")
            part[kind] = (low, high)
            if k:
                check_same_description(described, descriptions[kind], f"intervals[{kind!r}]",
                                       where)
            descriptions[kind] = described
        parts.append(part)
        fits.append(fit)
        n_train.append(int(train.sum()))

    def joined(key):
        return np.concatenate([p[key] for p in parts])

    loss, predicted = joined("loss"), joined("predicted")
    with np.errstate(divide="ignore", invalid="ignore"):
        log_error = np.log(predicted) - np.log(loss)
    return RolloutResult(
        form=fitter.form, axis=axis, label=label,
        cuts=tuple(float(c) for c in cut_values), n_train=tuple(n_train), fits=tuple(fits),
        fold=readonly_array(joined("fold"), int), row=readonly_array(joined("row"), int),
        inputs=FrozenDict({c: readonly_array(joined(c)) for c in shown}),
        loss=readonly_array(loss), predicted=readonly_array(predicted),
        relative_error=readonly_array(np.abs(predicted - loss) / loss),
        signed_relative_error=readonly_array((predicted - loss) / loss),
        log_error=readonly_array(log_error), factor=readonly_array(joined("factor")),
        intervals=FrozenDict({kind: (readonly_array(np.concatenate([p[kind][0] for p in parts])),
                                     readonly_array(np.concatenate([p[kind][1] for p in parts])))
                              for kind in hooks}),
        interval_descriptions=FrozenDict({kind: value for kind, value in descriptions.items()
                                          if value is not None}),
        options=deep_freeze({
            "form": fitter.form.name, "axis": axis, "cuts": None if cuts is None else "given",
            "n_cuts": n_cuts, "min_train": int(min_train), "min_test": min_test, "rtol": rtol,
            "fit_options": fitter.options(),
            "weights": None if weights is None else (
                weights if isinstance(weights, str)
                else getattr(weights, "__name__", "callable") if callable(weights) else "given"),
            "intervals": sorted(hooks),
            # only when set: a rollout of rows is recorded as it was
            **({} if column is None else {"clusters": column})}),
    )


def run_maxima(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Each row's run's largest value (``codes``: each row's run number, ``0..G-1``).

    Examples
    --------
    >>> run_maxima(np.array([1.0, 4.0, 2.0]), np.array([0, 0, 1]))
    array([4., 4., 2.])
    """
    largest = np.full(int(codes.max()) + 1, -np.inf)
    np.maximum.at(largest, codes, values)
    return largest[codes]


def _check_cuts(cuts, values, needed, axis) -> np.ndarray:
    try:
        cut_values = np.unique(np.asarray(cuts, dtype=float).ravel())
    except (TypeError, ValueError):
        raise InputError(f"`cuts` must be numbers, got {cuts!r:.80}") from None
    if cut_values.size == 0 or not np.all(np.isfinite(cut_values)):
        raise InputError(f"`cuts` must be finite numbers, got {cuts!r:.80}")
    for cut in cut_values:
        n_below = int(np.sum(values <= cut))
        if n_below < needed:
            raise InputError(f"`cuts` value {cut:.6g} leaves {counted(n_below, 'run')} with "
                             f"{axis} <= "
                             f"{cut:.6g} to fit; the law needs at least {needed}")
        if n_below == values.size:
            raise InputError(f"`cuts` value {cut:.6g} holds out no run: the largest {axis} is "
                             f"{values.max():.6g}")
    return cut_values
