"""Back-testing: fit a law on the smaller runs and predict the larger ones held out.

A scaling law is used to extrapolate, so the honest check of a fit is how
well it predicts runs it has not seen and that lie beyond the ones it was fitted
on. :func:`backtest` holds out the runs above a threshold of ``N``, ``D`` or
``C`` (or each value of a group column in turn), fits the rest, predicts the
held-out runs and reports the relative errors

.. math::

    e_i = \\frac{|\\hat L_i - L_i|}{L_i}

and, given an ``interval`` hook, how often the held-out loss falls inside its
prediction interval. ``rollout=True`` repeats this over several cuts (expanding
windows, see :mod:`scalinglaws.uncertainty.rollout`) and returns a
:class:`~scalinglaws.uncertainty.rollout.RolloutResult`.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._exceptions import InputError
from .._text import counted
from ..fitting.estimator import FitResult, LawFitter
from ..laws.forms import Form
from ..data.runs import Runs, as_runs
from .prediction import describe_interval
from .interval_hooks import check_same_description, described_interval_bounds
from .rollout import RolloutResult, rollout as run_rollout

__all__ = ["HOLDOUTS", "BacktestResult", "backtest"]

HOLDOUTS = ("N", "D", "C", "group")

#: ``interval(fit_result, runs_train, inputs) -> (low, high)``: prediction
#: interval bounds of the loss at ``inputs`` (the held-out runs' input arrays,
#: by the form's input names), each an array of one value per held-out run; or the
#: result that has them and says what they are (a ``Prediction``, an ``IntervalBounds``).
IntervalHook = Callable[[FitResult, Runs, dict], object]


@dataclass(frozen=True)
class BacktestResult:
    """Outcome of :func:`backtest`. Frozen.

    Attributes
    ----------
    form : Form
        The law fitted.
    holdout : {"N", "D", "C", "group"}
        How runs were held out.
    threshold : float or None
        Runs with ``holdout`` column above it were held out (None for groups).
    group : str or None
        The group column of a leave-one-group-out back-test.
    fits : tuple of FitResult
        One fit per fold: a single fit for a threshold, one per group value.
    folds : tuple
        Label of each fold: ``"C > 1e+21"`` or the group value.
    n_train : tuple of int
        Training runs of each fold.
    table : pandas.DataFrame
        One row per held-out run: ``fold``, ``row`` (position in the source
        table), the columns ``N``, ``D``, ``C`` present, ``loss``,
        ``predicted``, ``relative_error`` = ``|predicted - loss| / loss``,
        ``signed_relative_error`` = ``(predicted - loss) / loss`` and, with an
        interval hook, ``low``, ``high`` and ``covered``.
    mean_relative_error, median_relative_error, max_relative_error : float
        Of ``relative_error`` over every held-out run.
    bias : float
        Mean ``signed_relative_error``: positive when the law over-predicts
        the loss of larger runs.
    coverage : float or None
        Fraction of held-out losses inside their interval (None without an
        interval hook).
    options : dict
        The back-test settings (plain types).
    interval_description : mapping or None
        What the hook's interval is, when the hook returned a result that says so (a
        ``Prediction`` from ``predict(fit, draws=...)``, an ``IntervalBounds`` from
        ``CalibratedFit.interval``): its ``interval`` (``"confidence"`` or
        ``"prediction"``), ``confidence_level`` and ``method``, as a rollout's
        ``interval_descriptions`` records them; see :meth:`describe_interval`. None
        without a hook or when it returned bare ``(low, high)``.
    """

    form: Form
    holdout: str
    threshold: float | None
    group: str | None
    fits: tuple
    folds: tuple
    n_train: tuple
    table: pd.DataFrame = field(repr=False, compare=False)
    mean_relative_error: float = float("nan")
    median_relative_error: float = float("nan")
    max_relative_error: float = float("nan")
    bias: float = float("nan")
    coverage: float | None = None
    options: dict = field(default_factory=dict)
    # a class default too, so a result pickled before this field reads None
    interval_description: Mapping | None = None

    @property
    def n_held_out(self) -> int:
        """Held-out runs, over every fold."""
        return len(self.table)

    @property
    def fit(self) -> FitResult:
        """The fit of a threshold back-test (a group back-test has one per group: :attr:`fits`)."""
        if len(self.fits) != 1:
            raise InputError(f"this back-test has {len(self.fits)} fits, one per {self.group!r} "
                             "value; use .fits")
        return self.fits[0]

    def describe_interval(self) -> str | None:
        """What the hook's interval is (``"95% bootstrap percentile confidence interval"``);
        None without a hook or when it returned bare bounds."""
        described = self.interval_description
        if not described:
            return None
        return describe_interval(described.get("confidence_level"), described.get("method"),
                                 described.get("interval"))

    def to_frame(self) -> pd.DataFrame:
        """A copy of the per-held-out-run table. When the hook said what its interval is,
        the frame's ``attrs`` say it too, as the analysis tables' do: ``interval`` (the
        kind), ``method`` and ``confidence_level`` of ``low`` and ``high``."""
        frame = self.table.copy()
        if self.interval_description:
            frame.attrs.update(dict(self.interval_description))
        return frame

    def summary(self) -> str:
        """Readable account of what was held out and how well it was predicted."""
        if self.holdout == "group":
            held = f"leave-one-{self.group}-out over {len(self.folds)} groups"
        else:
            held = (f"fit on {counted(self.n_train[0], 'run')} with {self.holdout} <= "
                    f"{self.threshold:.4g}, predict the {self.n_held_out} above")
        errors = (f"relative error |predicted - loss| / loss over {self.n_held_out} held-out "
                  f"runs: mean {_percent(self.mean_relative_error)}, "
                  f"median {_percent(self.median_relative_error)}, "
                  f"max {_percent(self.max_relative_error)}; "
                  f"bias (mean signed) {_percent(self.bias, sign=True)}")
        lines = [f"back-test of {self.form.name}: {held}", errors]
        if self.coverage is not None:
            covered = int(self.table["covered"].sum())
            described = self.describe_interval()
            lines.append(f"interval{f' ({described})' if described else ''} coverage "
                         f"{self.coverage:.1%} ({covered} of {self.n_held_out})")
        if len(self.folds) > 1:
            lines.append("")
            lines.append(f"{'fold':<16}{'train':>7}{'held':>7}{'median err':>12}{'max err':>10}")
            for label, n_train in zip(self.folds, self.n_train):
                part = self.table.loc[self.table["fold"] == label, "relative_error"]
                lines.append(f"{label!s:<16}{n_train:>7}{len(part):>7}"
                             f"{_percent(part.median()):>12}{_percent(part.max()):>10}")
        return "\n".join(lines)

    def __str__(self):
        return self.summary()

    def to_dict(self) -> dict:
        """Plain-type dictionary: settings, summary statistics, the fits and the table."""
        rows = json.loads(self.table.to_json(orient="records"))  # numpy -> plain, NaN -> null
        described = ({} if self.coverage is None else  # only with a hook: null for bare bounds
                     {"interval_description": None if self.interval_description is None
                      else dict(self.interval_description)})
        return {
            "form": self.form.to_dict(),
            "holdout": self.holdout,
            "threshold": self.threshold,
            "group": self.group,
            "options": dict(self.options),
            "summary": {"n_held_out": self.n_held_out,
                        "mean_relative_error": _plain_float(self.mean_relative_error),
                        "median_relative_error": _plain_float(self.median_relative_error),
                        "max_relative_error": _plain_float(self.max_relative_error),
                        "bias": _plain_float(self.bias),
                        "coverage": None if self.coverage is None else float(self.coverage)},
            **described,
            "folds": [{"label": _plain_label(label), "n_train": int(n), "fit": fit.to_dict()}
                      for label, n, fit in zip(self.folds, self.n_train, self.fits)],
            "runs": rows,
        }


def _percent(fraction: float, sign: bool = False) -> str:
    # 3 significant digits, so a noise-free back-test shows 1.2e-08% rather than 0.000%
    return f"{100 * fraction:{'+' if sign else ''}.3g}%"


def _plain_float(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _plain_label(label):
    if isinstance(label, (np.generic,)):
        label = label.item()
    if isinstance(label, float) and not math.isfinite(label):
        return None
    return label if isinstance(label, (str, int, float, bool)) or label is None else str(label)


def _check_fraction(fraction) -> float:
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real):
        raise InputError(f"`fraction` must be a number in (0, 1), got {fraction!r}")
    fraction = float(fraction)
    if not 0 < fraction < 1:
        raise InputError(f"`fraction` must be in (0, 1), got {fraction!r}")
    return fraction


def _cut(values: np.ndarray, threshold, fraction: float, column: str) -> float:
    """The threshold: given, or the value above which the top ``fraction`` of runs lie."""
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) \
                or not math.isfinite(float(threshold)):
            raise InputError(f"`threshold` must be a finite number, got {threshold!r}")
        return float(threshold)
    n_held = max(1, round(fraction * len(values)))
    if n_held >= len(values):
        raise InputError(f"`fraction`={fraction!r} would hold out all "
                         f"{counted(len(values), 'run')}")
    # Runs tied with the cut stay in training, so one value of `column` (e.g. one
    # compute budget of an IsoFLOP sweep) is never split between fit and test.
    return float(np.sort(values)[::-1][n_held])


def backtest(runs, form: str | Form = "chinchilla", holdout: str = "C", threshold=None,
             fraction: float = 0.25, group: str | None = None, fit_options: Mapping | None = None,
             interval: IntervalHook | None = None, *, rollout: bool = False,
             axis: str | None = None, intervals: Mapping | None = None,
             **rollout_options) -> BacktestResult | RolloutResult:
    r"""Fit a law on the smaller runs and predict the held-out larger ones.

    Parameters
    ----------
    runs : Runs, DataFrame or path
        The runs (see :func:`scalinglaws.load_runs`).
    form : str or Form
        The law to fit (any registered or user-defined form).
    holdout : {"C", "N", "D", "group"}
        ``"C"``, ``"N"`` or ``"D"``: hold out the runs whose value of that
        column exceeds ``threshold`` and fit the rest. ``"group"``:
        leave-one-group-out over the values of column ``group``, one fit per
        value, each predicting that value's runs.
    threshold : float, optional
        Hold out runs with ``holdout`` column ``> threshold``. Default: the
        top ``fraction`` of runs by that column (runs tied at the cut stay in
        training).
    fraction : float in (0, 1), default 0.25
        Share of runs held out when ``threshold`` is None.
    group : str, optional
        Column of group labels, for ``holdout="group"``.
    fit_options : dict, optional
        Keyword arguments of :class:`~scalinglaws.LawFitter` (``loss``,
        ``space``, ``bounds``, ``starts``...), the same for every fold.
    interval : callable, optional
        ``interval(fit_result, runs_train, inputs) -> (low, high)``: bounds of
        a prediction interval of the loss at the held-out ``inputs`` (a dict of
        arrays by the form's input names), e.g. from a bootstrap of the fit.
        Adds ``low``, ``high``, ``covered`` to the table and the coverage
        :math:`\frac{1}{m}\sum_i [\,low_i \le L_i \le high_i\,]`. A hook that
        returns the result itself (a ``Prediction``, an ``IntervalBounds``) has its
        kind, method and level recorded (``interval_description``), shown by
        ``summary()``, ``to_frame().attrs`` and ``to_dict()``.
    rollout : bool, default False
        Expanding windows instead of one cut: fit below each of several cuts
        along ``axis`` and predict every run above (see
        :func:`scalinglaws.uncertainty.rollout.rollout`, which takes the other
        keyword arguments: ``cuts``, ``n_cuts``, ``min_train``, ``min_test``,
        ``weights``, ``label``, ``progress``). ``threshold``, ``fraction`` and
        ``group`` do not apply.
    axis : {"C", "N", "D"}, optional
        The rollout's axis (default: ``holdout``).
    intervals : dict, optional
        Rollout only: ``{kind: hook}`` interval hooks (``interval=`` is the kind
        ``"interval"``).

    Returns
    -------
    BacktestResult, or RolloutResult when ``rollout=True``

    Notes
    -----
    An interval hook from the bootstrap of each fold's fit::

        from scalinglaws.uncertainty.bootstrap import bootstrap
        from scalinglaws.analysis.extrapolate import predict

        def bootstrap_interval(fit, runs_train, inputs):
            draws = bootstrap(fit, runs_train, n_resamples=200, rng=0).draws
            return predict(fit, draws=draws, **inputs)

    A hook may return ``(low, high)``; returning the :class:`Prediction` itself records
    what its intervals are (kind, method, level): the back-test's
    ``interval_description`` (``describe_interval()``, ``summary()``, ``to_frame().attrs``),
    a rollout's ``interval_descriptions`` and the legend of ``plot.rollout_errors``.

    These intervals carry the uncertainty of the fitted parameters only, not
    the scatter of a single run about the law, so they under-cover held-out
    runs (on the Epoch Chinchilla runs above 1e21 FLOP: 3 of 23).

    Raises
    ------
    InputError
        For a bad argument, a threshold that holds out no run or leaves no
        more training runs than the law has free parameters, or a group
        column with fewer than two values.

    Examples
    --------
    >>> from scalinglaws import generate_sweep
    >>> result = backtest(generate_sweep(rng=0, noise=0.0), "chinchilla", holdout="C",
    ...                   threshold=1e20)
    >>> bool(result.max_relative_error < 1e-6)
    True
    """
    if rollout:
        return _rollout(runs, form, holdout, threshold, fraction, group, fit_options, interval,
                        axis, intervals, rollout_options)
    if axis is not None or intervals is not None or rollout_options:
        given = ["axis"] * (axis is not None) + ["intervals"] * (intervals is not None)
        raise InputError(f"{', '.join(map(repr, given + sorted(rollout_options)))} "
                         "apply only with rollout=True")
    runs = as_runs(runs)
    if holdout not in HOLDOUTS:
        raise InputError(f"`holdout` must be one of {', '.join(map(repr, HOLDOUTS))}, "
                         f"got {holdout!r}")
    if fit_options is None:
        fit_options = {}
    if not isinstance(fit_options, Mapping):
        raise InputError(f"`fit_options` must be a dict of LawFitter options, got "
                         f"{type(fit_options).__name__}")
    if "form" in fit_options:
        raise InputError("`fit_options` must not contain 'form'; pass form= to backtest")
    if interval is not None and not callable(interval):
        raise InputError(f"`interval` must be callable or None, got {type(interval).__name__}")
    fitter = LawFitter(form, **fit_options)  # validates the options once, up front
    runs.inputs(fitter.form.inputs)  # raises InputError naming a column the law needs
    needed = len(fitter.free) + 1

    if holdout == "group":
        if group is None:
            raise InputError('`group` must name a column when holdout="group"')
        if threshold is not None:
            raise InputError('`threshold` does not apply when holdout="group"')
        if group not in runs.columns:
            raise InputError(f"`group`={group!r} is not a column; columns: {runs.columns}")
        indices = runs.frame.groupby(group, sort=True, dropna=False).indices
        if len(indices) < 2:
            raise InputError(f"`group`={group!r} has {len(indices)} value(s); leave-one-group-out "
                             "needs at least 2")
        folds = []
        for label, rows in indices.items():
            test = np.zeros(len(runs), dtype=bool)
            test[rows] = True
            if (~test).sum() < needed:
                raise InputError(f"leaving out `group` {group}={label!r} leaves {(~test).sum()} "
                                 f"training runs; the {fitter.form.name} law needs at least "
                                 f"{needed} ({len(fitter.free)} free parameters + 1)")
            folds.append((label, test))
        cut = None
    else:
        if group is not None:
            raise InputError(f'`group` applies only to holdout="group", not holdout={holdout!r}')
        values = runs.inputs((holdout,))[holdout]
        fraction = _check_fraction(fraction)
        cut = _cut(values, threshold, fraction, holdout)
        test = values > cut
        if not test.any():
            raise InputError(f"`threshold`={cut:.6g} holds out no run: the largest {holdout} is "
                             f"{values.max():.6g}")
        if (~test).sum() < needed:
            raise InputError(f"`threshold`={cut:.6g} leaves {(~test).sum()} training runs with "
                             f"{holdout} <= {cut:.6g}; the {fitter.form.name} law needs at least "
                             f"{needed} ({len(fitter.free)} free parameters + 1)")
        folds = [(f"{holdout} > {cut:.4g}", test)]

    fits, labels, n_train, parts, descriptions = [], [], [], [], []
    shown = [c for c in ("N", "D", "C") if runs.has(c)]
    for label, test in folds:
        train, held = runs.select(~test), runs.select(test)
        result = fitter.fit(train)
        inputs = held.inputs(fitter.form.inputs)
        predicted = np.asarray(result.predict(**inputs), dtype=float).reshape(len(held))
        loss = held.loss
        part = pd.DataFrame({"fold": [label] * len(held),
                             "row": np.asarray(held.row_numbers, dtype=int),
                             **{c: held.inputs((c,))[c] for c in shown},
                             "loss": loss, "predicted": predicted,
                             "relative_error": np.abs(predicted - loss) / loss,
                             "signed_relative_error": (predicted - loss) / loss})
        if interval is not None:
            low, high, described = described_interval_bounds(interval, result, train, inputs,
                                                             len(held), label)
            if descriptions:
                check_same_description(described, descriptions[0], "interval", repr(label))
            descriptions.append(described)
            part["low"], part["high"] = low, high
            part["covered"] = (low <= loss) & (loss <= high)
        fits.append(result)
        labels.append(label)
        n_train.append(len(train))
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    errors = table["relative_error"].to_numpy()
    return BacktestResult(
        form=fitter.form, holdout=holdout, threshold=cut, group=group, fits=tuple(fits),
        folds=tuple(labels), n_train=tuple(n_train), table=table,
        mean_relative_error=float(np.mean(errors)),
        median_relative_error=float(np.median(errors)),
        max_relative_error=float(np.max(errors)),
        bias=float(np.mean(table["signed_relative_error"])),
        coverage=None if interval is None else float(table["covered"].mean()),
        options={"form": fitter.form.name, "holdout": holdout, "threshold": cut,
                 "fraction": None if holdout == "group" or threshold is not None else fraction,
                 "group": group, "fit_options": fitter.options(),
                 "interval": None if interval is None else getattr(interval, "__name__",
                                                                    type(interval).__name__)},
        interval_description=descriptions[0] if descriptions else None,
    )


def _rollout(runs, form, holdout, threshold, fraction, group, fit_options, interval, axis,
             intervals, options) -> RolloutResult:
    """``backtest(..., rollout=True)``: check what does not apply, then run the rollout."""
    if threshold is not None or group is not None or fraction != 0.25:
        raise InputError("`threshold`, `fraction` and `group` do not apply with rollout=True "
                         "(the cuts are chosen by `cuts`, `n_cuts`, `min_train`)")
    if holdout == "group":
        raise InputError('rollout=True needs an axis "C", "N" or "D", not holdout="group"')
    hooks = dict(intervals or {})
    if interval is not None:
        if not callable(interval):
            raise InputError(f"`interval` must be callable or None, got {type(interval).__name__}")
        if "interval" in hooks:
            raise InputError("`interval` and `intervals['interval']` are both given")
        hooks["interval"] = interval
    return run_rollout(runs, form, axis=holdout if axis is None else axis,
                       fit_options=fit_options, intervals=hooks or None, **options)
