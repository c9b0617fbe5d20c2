r"""A fitted law with everything needed for honest intervals: :func:`calibrate`.

Two kinds of interval answer two questions:

* a **confidence interval** says where the *law* (the mean loss of a model at those
  inputs) is: parameter uncertainty only (bootstrap percentiles when the bootstrap was
  run, else the delta method; for a fit with tied or fixed parameters the delta
  method's variance gets the restriction's squared-bias allowance, estimated from the
  same law fitted without the ties and with the fixed parameters free, :mod:`.delta`,
  and so, on each side, do the bootstrap percentiles of a fit with fixed parameters,
  whose refits hold them fixed too);
* a **prediction interval** says where the loss of *one new run* will land: parameter
  uncertainty, plus the run-to-run scatter (:mod:`.scatter`), plus the extrapolation
  error measured on the sweep's own rollout (:mod:`.calibration`).

On log loss, the prediction interval at level :math:`1-\alpha` is

.. math::

    \log \hat L(x) \pm q\, \sqrt{s_\theta(x)^2 + s_\varepsilon(x)^2
        + [u(x) > 0]\,(\tau^2 + \kappa^2 u(x)^2)},
    \qquad u(x) = \max\!\big(0, \log(x_{\text{axis}} / x_{\max})\big),

with :math:`s_\theta` the delta-method parameter standard deviation (:mod:`.delta`),
:math:`s_\varepsilon` the scatter, :math:`\tau`, :math:`\kappa` and the multiplier :math:`q` from the
rollout (conformal when the rollout has enough held-out runs, else Student's t with the
scatter's degrees of freedom), and :math:`x_{\max}` the largest value of the axis among
the fitted runs. Beyond the fitted range a side is never narrower than the in-range
rule (Student's t, no extrapolation term) gives at the same point, so an interval does
not shrink as a run steps past the largest fitted one when the conformal :math:`q` is
below t's. Beyond the largest extrapolation the rollout saw, the interval is
flagged and an :class:`~scalinglaws.ExtrapolationWarning` says so.

A new run varies more than the mean loss, so the prediction interval holds the confidence
interval at the same level: on each side the parameter term :math:`q\, s_\theta` is
replaced by the confidence interval's half-width on that side (in log loss) where that is
wider, and the scatter and extrapolation terms are added to it in quadrature,

.. math::

    \log \hat L \mp \sqrt{\max(q\, s_\theta,\, h_\mp)^2
        + q^2 \big(s_\varepsilon^2 + [u > 0](\tau^2 + \kappa^2 u^2)\big)},

with :math:`h_-, h_+` the distances from :math:`\log \hat L` to the confidence bounds.
The bootstrap's percentiles are asymmetric and, far out, wider than the delta method's
(conservative: tests/uncertainty/test_calibrated.py), and a conformal :math:`q` can be
below the normal quantile of the delta-method confidence interval; only then does a
side differ from the first formula, and only by widening. A tied or fixed fit's bias
allowance (:mod:`.delta`) is left out of :math:`h_\mp` here, since the scatter (the
restricted fit's residuals) and the rollout's errors (restricted folds) already carry
that bias; a side is widened to the confidence bound only where it would not hold it.

**Checkpoints.** When rows are checkpoints of one training run (``clusters``: ``"auto"``
finds a repeated ``run_id``, as :func:`~.bootstrap.bootstrap` does, through
:func:`~.resampling.resolve_clusters`), the interval is for a new *run*: the scatter is
its spread about the law, run deviation plus row noise, with degrees of freedom (so
Student's t) counted in runs (:mod:`.scatter`); the rollout puts every run on the side
of each cut where its largest value along the axis falls, and scores each held-out run
once, at its last row (:mod:`.calibration`); the bootstrap resamples whole runs.
:attr:`CalibratedFit.clusters` records the column. Without repeated run ids nothing
changes, bit for bit.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .._exceptions import ExtrapolationWarning, InputError, ScalingLawsWarning
from .._text import counted
from .._validation import FrozenOnUnpickle
from .._validation import (FrozenDict, check_bool, check_confidence_level, check_int, given_draws,
                           readonly_array)
from ..data.runs import as_runs
from ..fitting.outliers import SET_ASIDE, rows_text
from ..fitting.result import FitResult, check_fitted_on
from ..fitting.result import fitted_range as runs_range
from ..laws.flops import inputs_from_compute, training_flops
from .bootstrap_result import BootstrapResult
from .calibrated_text import uncertainty_summary
from .calibration import ExtrapolationCalibration, calibrate_extrapolation
from .resampling import CLUSTERS_DEFAULT, resolve_clusters
from .delta import (FIXED_AS_EXACT, UnrestrictedLaw, draws_log_predictions, log_prediction_sd,
                    normal_quantile, parameter_covariance, restriction_kind,
                    unrestricted_law_or_warn)
from .scatter import MODELS as SCATTER_MODELS
from .scatter import Scatter, estimate_scatter, outlier_runs

__all__ = ["CalibratedFit", "calibrate", "IntervalBounds"]

_AXES = ("C", "N", "D")
_WITH_BIAS = " + "  # in the confidence method's name when it has the bias allowance


@dataclass(frozen=True)
class IntervalBounds(FrozenOnUnpickle):
    """Bounds of an interval of the loss at broadcast inputs. Frozen.

    Attributes
    ----------
    kind : {"confidence", "prediction"}
    low, high : ndarray
        Bounds of the loss.
    confidence_level : float
    method : str
        How the bounds were made (``bootstrap percentile``, ``delta method``,
        ``conformal`` or ``t``); for a tied or fixed fit's delta method, ``delta method +
        tie bias`` / ``+ fixed-parameter bias`` / ``+ tie and fixed-parameter bias``, or
        ``(... bias excluded)`` when the unrestricted refit failed; for a fit with fixed
        parameters, ``bootstrap percentile + fixed-parameter bias`` (or ``+ tie and
        fixed-parameter bias``).
    log_factor : ndarray
        ``log(x / x_max)`` along the calibration axis (negative inside the fitted range).
    beyond_calibration : ndarray of bool
        Prediction intervals beyond the largest extrapolation the rollout measured (or,
        without a calibration, beyond the fitted range).
    """

    kind: str
    low: np.ndarray
    high: np.ndarray
    confidence_level: float
    method: str
    log_factor: np.ndarray
    beyond_calibration: np.ndarray


@dataclass(frozen=True)
class CalibratedFit(FrozenOnUnpickle):
    """A fitted law with its parameter covariance, scatter, extrapolation calibration and
    (optionally) bootstrap draws. Made by :func:`calibrate`; frozen.

    Attributes
    ----------
    fit : FitResult
        The point estimate.
    scatter : Scatter
        Run-to-run scatter of log loss.
    covariance : ndarray, shape (p, p)
        Delta-method covariance of the internal parameters (read-only).
    fitted_range : mapping
        ``{axis: (min, max)}`` of the fitted runs for N, D and C, and ``"N*D"`` (as a
        fit's: how far a prediction reaches in compute, run by run) for a law of N and D.
    flops_per_token : float
        Median ``C / (N D)`` of the fitted runs (used to place a prediction given by N
        and D on the compute axis).
    calibration : ExtrapolationCalibration or None
        The rollout calibration (None when it was not run or the sweep is too small).
    bootstrap : BootstrapResult or None
        Bootstrap draws for confidence intervals.
    unrestricted : UnrestrictedLaw or None
        For a fit with tied or fixed parameters, the same law fitted without the ties and
        with the fixed parameters free: the delta-method confidence interval adds the
        restriction's bias it reveals (None for a fit without either, or when that fit
        failed: the interval's method then says the bias is excluded). ``untied`` is its
        former name (read-only).
    clusters : str or None
        The column whose rows are checkpoints of one run (``run_id``): the scatter, the
        rollout and the bootstrap took whole runs (module notes); None when every row is a
        run.
    """

    fit: FitResult
    scatter: Scatter
    covariance: np.ndarray
    fitted_range: Mapping
    flops_per_token: float = 6.0
    calibration: ExtrapolationCalibration | None = None
    bootstrap: BootstrapResult | None = None
    unrestricted: UnrestrictedLaw | None = None
    clusters: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "covariance", readonly_array(self.covariance))
        ranges = dict(self.fitted_range)
        if "N*D" not in ranges and "N*D" in (self.fit.fitted_range or {}):
            ranges["N*D"] = self.fit.fitted_range["N*D"]  # a file keeps it with the fit
        object.__setattr__(self, "fitted_range", FrozenDict(
            {k: (float(lo), float(hi)) for k, (lo, hi) in ranges.items()}))

    def __setstate__(self, state: dict) -> None:
        # pickled before fixed parameters were freed, the field was called `untied`
        state = dict(state)
        if "untied" in state:
            state.setdefault("unrestricted", state.pop("untied"))
        super().__setstate__({"unrestricted": None, "clusters": None, **state})

    @property
    def untied(self) -> UnrestrictedLaw | None:
        """Former name of :attr:`unrestricted`."""
        return self.unrestricted

    # the law itself, so a CalibratedFit can stand where a FitResult is expected
    @property
    def form(self):
        return self.fit.form

    @property
    def params(self):
        return self.fit.params

    def __getattr__(self, name: str):
        # what is not about uncertainty is the fit's (fixed, tied, status, options...)
        if name.startswith("__") or name in ("fit", "scatter", "calibration", "bootstrap",
                                             "clusters"):
            raise AttributeError(name)
        return getattr(self.fit, name)

    # -- the file: the fit's document, its bootstrap and the "uncertainty" section. Defined
    # here: forwarded to the fit, save() wrote a plain fit and the intervals were lost
    def uncertainty_dict(self) -> dict:
        """The ``"uncertainty"`` section of the fit file, as plain types."""
        return {
            "scatter": self.scatter.to_dict(),
            "covariance": [[float(v) for v in row] for row in np.asarray(self.covariance)],
            "fitted_range": {k: [float(lo), float(hi)]  # N*D is the fit's own section's
                             for k, (lo, hi) in self.fitted_range.items() if k in _AXES},
            "flops_per_token": float(self.flops_per_token),
            "calibration": None if self.calibration is None else self.calibration.to_dict(),
            "unrestricted": None if self.unrestricted is None else self.unrestricted.to_dict(),
            # the point estimate the covariance was computed at (checked on loading)
            "point": {k: float(v) for k, v in self.fit.params.items()},
            # only when set: a law of runs without checkpoints is saved as it was
            **({} if self.clusters is None else {"clusters": self.clusters}),
        }

    def to_dict(self) -> dict:
        """The fit file's document: the fit's (:meth:`FitResult.to_dict`) with this law's
        bootstrap and the ``"uncertainty"`` section (read back by :func:`scalinglaws.load`)."""
        from .._validation import to_plain

        doc = self.fit.to_dict()
        doc["bootstrap"] = None if self.bootstrap is None else to_plain(self.bootstrap.to_dict())
        doc["uncertainty"] = to_plain(self.uncertainty_dict())
        return doc

    def to_json(self, **kwargs) -> str:
        """The document as JSON text; ``kwargs`` go to :func:`json.dumps`."""
        from .._files import json_text

        return json_text(self.to_dict(), what="the calibrated fit", **kwargs)

    def save(self, path, *, force: bool = False) -> None:
        """Write the calibrated fit to ``path`` as JSON, atomically (the same as
        ``scalinglaws.save(law, path)``): :func:`scalinglaws.load` gives it back with its
        scatter, calibration and bootstrap. An existing file that is not a fit is replaced
        only with ``force=True``."""
        from .._files import atomic_write, check_output_path

        target = check_output_path(path, kind="fit", force=force, argument="`path`")
        atomic_write(target, self.to_json() + "\n")

    def with_bootstrap(self, bootstrap) -> CalibratedFit:
        """A copy of this law carrying ``bootstrap`` (its confidence intervals)."""
        import dataclasses

        if bootstrap is not None and not isinstance(bootstrap, BootstrapResult):
            raise InputError(f"`bootstrap` must be a BootstrapResult or None, got "
                             f"{type(bootstrap).__name__}")
        self.fit.with_bootstrap(bootstrap)  # checks it was computed from this fit
        return dataclasses.replace(self, bootstrap=bootstrap)

    @property
    def axis(self) -> str:
        """The extrapolation axis of the calibration (the scatter's axis without one)."""
        return self.calibration.axis if self.calibration is not None else self.scatter.axis

    def predict(self, **inputs) -> np.ndarray:
        """Predicted loss (the point estimate) at the given inputs."""
        return self.fit.predict(**inputs)

    # -- intervals ---------------------------------------------------------
    def _axis_values(self, X: Mapping, extra: Mapping) -> np.ndarray:
        axis = self.axis
        if axis in X:
            return np.asarray(X[axis], dtype=float)
        if axis in extra and extra[axis] is not None:
            return np.asarray(extra[axis], dtype=float)
        if axis == "C" and "N" in X and "D" in X:
            return training_flops(X["N"], X["D"], self.flops_per_token)
        raise InputError(f"the calibration axis is {axis}; give {axis}= with the inputs")

    def interval(self, kind: str = "prediction", confidence_level: float = 0.95, *,
                 warn: bool = True, draws=None, **inputs) -> IntervalBounds:
        """Confidence or prediction interval of the loss at broadcast ``inputs``.

        ``inputs`` are the form's inputs (``N=..., D=...``); ``C=`` may be added to
        place a prediction on the compute axis when the runs' compute is not
        ``flops_per_token * N * D``, or given with one of N and D for the other
        (:func:`~scalinglaws.laws.flops.inputs_from_compute`). ``draws`` (an array ``(m, p)`` of parameter vectors
        in ``form.param_names`` order) replaces the bootstrap's draws: the confidence
        interval is then their percentiles; ``draws=False`` leaves the bootstrap out (the
        delta method's confidence interval, as without one). The prediction interval
        always contains the confidence interval at the same level (module notes).
        """
        if kind not in ("confidence", "prediction"):
            raise InputError(f"`interval` must be 'confidence' or 'prediction', got {kind!r}")
        level = check_confidence_level(confidence_level)
        if draws is None and self.bootstrap is not None:
            draws = self.bootstrap.draws
        draws = given_draws(draws)  # False: no draws (the delta method), True refused
        if draws is not None:
            draws = np.asarray(draws, dtype=float)
            if draws.ndim != 2 or draws.shape[1] != self.fit.form.n_params:
                raise InputError(f"`draws` must have shape (n_draws, {self.fit.form.n_params}),"
                                 f" got {draws.shape}")
        form = self.fit.form
        inputs = inputs_from_compute(inputs, form.inputs, self.flops_per_token)
        extra = {k: inputs.pop(k) for k in list(inputs) if k not in form.inputs}
        unknown = [k for k in extra if k not in _AXES]
        if unknown:
            raise InputError(f"form {form.name!r} takes inputs {', '.join(form.inputs)}; "
                             f"unknown input(s) {', '.join(unknown)}")
        X, shape = form._broadcast_inputs(inputs)
        log_point = np.log(np.asarray(self.fit.predict(**X), dtype=float))
        x_axis = np.broadcast_to(self._axis_values(X, {k: np.ravel(v) for k, v in extra.items()}),
                                 log_point.shape)
        log_factor = np.log(x_axis / self.fitted_range[self.axis][1])
        u = np.clip(log_factor, 0.0, None)
        if self.calibration is not None:
            beyond = u > self.calibration.max_log_factor
        else:
            beyond = u > 0
        parameter_sd = log_prediction_sd(self.fit, self.covariance, X)
        lo, hi, method = self._log_confidence(X, log_point, parameter_sd, level, draws)
        confidence_method = method
        if kind == "prediction":
            scatter_sd = self.scatter.sd({**X, self.scatter.axis: self._scatter_axis(X, x_axis)})
            extra_sd = (0.0 if self.calibration is None
                        else self.calibration.extra_sd(log_factor))
            # inside the fitted range the classical t quantile is right for a correct law;
            # beyond it, the rollout's conformal multiplier (when there are enough runs)
            from scipy import stats

            q_t = float(stats.t.ppf(0.5 + level / 2, df=max(self.scatter.dof, 1.0)))
            q_out = None if self.calibration is None else self.calibration.multiplier(level)
            method = "t" if q_out is None else "t inside the fitted range, conformal beyond"
            # a restriction's bias is already in the scatter (the restricted fit's
            # residuals) and, beyond the range, in the rollout's errors (its folds are
            # restricted fits): the parameter term leaves the confidence interval's bias
            # allowance out, and the bounds are widened to that interval only where they
            # would not hold it (counted twice, the Epoch runs' median width of the tied
            # fit went from 3.0% to 3.4% of the loss)
            with_bias = (lo, hi) if _WITH_BIAS in confidence_method else None
            if with_bias is not None:
                lo, hi, _ = self._log_confidence(X, log_point, parameter_sd, level, draws,
                                                 restriction_bias=False)

            def half_widths(q, rest_sd):
                # a new run varies more than the mean: each side's parameter term is at
                # least the confidence interval's half-width there (fmax: a side the draws
                # could not bound keeps the delta method's term)
                below = np.fmax(q * parameter_sd, log_point - lo)
                above = np.fmax(q * parameter_sd, hi - log_point)
                return np.sqrt(below**2 + (q * rest_sd) ** 2), np.sqrt(above**2 + (q * rest_sd) ** 2)

            # inside the range: t, scatter and parameter terms (extra_sd is 0 there). Beyond
            # it: the conformal multiplier with the extrapolation term, but never narrower
            # than the in-range rule at the same point; otherwise a run just past the
            # largest fitted one got a narrower interval than one just inside it
            in_below, in_above = half_widths(q_t, scatter_sd)
            past_below, past_above = half_widths(q_t if q_out is None else q_out,
                                                 np.sqrt(scatter_sd**2 + extra_sd**2))
            past = log_factor > 0
            below = np.where(past, np.fmax(past_below, in_below), in_below)
            above = np.where(past, np.fmax(past_above, in_above), in_above)
            if with_bias is not None:  # the prediction interval holds the confidence interval
                below = np.fmax(below, log_point - with_bias[0])
                above = np.fmax(above, with_bias[1] - log_point)
            lo, hi = log_point - below, log_point + above
            if warn and np.any(beyond):
                what = ("the largest extrapolation its rollout measured "
                        f"({np.exp(self.calibration.max_log_factor):.3g}x)"
                        if self.calibration is not None else
                        "the fitted runs (no rollout calibration: the interval has no "
                        "extrapolation term)")
                warnings.warn(f"{int(np.sum(beyond))} prediction(s) lie beyond {what} along "
                              f"{self.axis}; their intervals are themselves extrapolated",
                              ExtrapolationWarning, stacklevel=3)

        def out(values):
            return np.asarray(values, dtype=float).reshape(shape)

        return IntervalBounds(kind=kind, low=out(np.exp(lo)), high=out(np.exp(hi)),
                              confidence_level=level, method=method,
                              log_factor=out(log_factor), beyond_calibration=out(beyond).astype(bool))

    def _log_confidence(self, X, log_point, parameter_sd, level, draws,
                        restriction_bias=True):
        """Log bounds of the confidence interval and how they were made: percentiles of
        the draws' predictions, or the delta method without (enough) draws (with a tied
        or fixed fit's bias allowance unless ``restriction_bias`` is false; the draws'
        percentiles of a fit with fixed parameters get it too)."""
        z = normal_quantile(level)
        law = self.unrestricted
        if draws is not None and len(draws) > 1:
            logs = draws_log_predictions(self.fit.form, draws, X)
            tail = 50.0 * (1.0 - level)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                lo, hi = np.nanpercentile(logs, [tail, 100 - tail], axis=0)
            if not self.fit.fixed:
                # a tie is refitted in every resample, whose percentiles widen where the
                # truth breaks it (README); only fixed values are held by every refit
                return lo, hi, "bootstrap percentile"
            if law is None or not restriction_bias:
                return lo, hi, f"bootstrap percentile{FIXED_AS_EXACT}"
            # the refits hold the fixed values too, so the draws carry none of their bias:
            # each side gets the squared-bias allowance, as the delta method's variance
            # does (a side widens only where the contrast exceeds its noise)
            allowance = z**2 * law.bias_variance(self.fit, self.covariance, X)
            below = np.sqrt(np.clip(log_point - lo, 0.0, None) ** 2 + allowance)
            above = np.sqrt(np.clip(hi - log_point, 0.0, None) ** 2 + allowance)
            widen = allowance > 0
            return (np.where(widen, np.minimum(lo, log_point - below), lo),
                    np.where(widen, np.maximum(hi, log_point + above), hi),
                    f"bootstrap percentile + {law.kind} bias")
        sd, method = parameter_sd, "delta method"
        if law is not None and restriction_bias:  # a restricted fit: its bias too (mean
            # squared error): "delta method + tie bias", "+ fixed-parameter bias"...
            sd = np.sqrt(parameter_sd**2 + law.bias_variance(self.fit, self.covariance, X))
            method = f"delta method{_WITH_BIAS}{law.kind} bias"
        elif self.fit.tied or self.fit.fixed:
            method = f"delta method ({restriction_kind(self.fit.tied, self.fit.fixed)} bias excluded)"
        return log_point - z * sd, log_point + z * sd, method

    def _scatter_axis(self, X, x_axis):
        """The scatter's axis values at the inputs (the calibration axis may differ)."""
        if self.scatter.axis == self.axis:
            return x_axis
        return self._axis_values_for(self.scatter.axis, X)

    def _axis_values_for(self, axis, X):
        if axis in X:
            return np.asarray(X[axis], dtype=float)
        if axis == "C" and "N" in X and "D" in X:
            return training_flops(X["N"], X["D"], self.flops_per_token)
        raise InputError(f"the scatter scales with {axis}; give {axis}= with the inputs")

    def summary(self) -> str:
        """The fit's summary (with the bootstrap's parameter intervals) followed by the
        uncertainty model."""
        fit = self.fit
        if fit.bootstrap is None and self.bootstrap is not None:
            fit = fit.with_bootstrap(self.bootstrap)
        return "\n".join([fit.summary(), "", "uncertainty", *uncertainty_summary(self)])

    def __str__(self):
        return self.summary()


def calibrate(result: FitResult, runs, *, n_resamples: int = 1000, rng=None,
              axis: str = "C", scatter: str | None = None, replicates: str | None = None,
              rollout: bool = True, n_cuts: int = 5, n_jobs: int = 1,
              progress: bool | None = None,
              clusters: str | None = CLUSTERS_DEFAULT) -> CalibratedFit:
    """Everything a fit needs for honest intervals: scatter, extrapolation, bootstrap.

    Parameters
    ----------
    result : FitResult
        The fitted law.
    runs : Runs, DataFrame or path
        The runs it was fitted on.
    n_resamples : int, default 1000
        Bootstrap resamples for confidence intervals (0 skips the bootstrap;
        confidence intervals then use the delta method, with, for a fit with tied or
        fixed parameters, an allowance for their bias from the law refitted without the
        ties and with the fixed parameters free). A bootstrap's refits keep the
        restriction: its percentiles of a fit with fixed parameters get the same
        allowance on each side; those of a tied fit, which the resamples re-estimate,
        none.
    rng : seed or numpy Generator, optional
        Randomness of the bootstrap.
    axis : {"C", "N", "D"}
        Axis along which extrapolation is measured and calibrated.
    scatter : {"ratio", "constant", "power"}, optional
        Scatter model (see :func:`~.scatter.estimate_scatter`). Default ``"ratio"``
        (scatter growing away from the sweep's typical tokens per parameter; it reduces
        to constant scatter when the residuals do not grow) for laws in N and D, else
        ``"constant"``.
    replicates : str, optional
        Column of seed labels: the scatter then comes from replicas.
    rollout : bool, default True
        Calibrate the extrapolation error with a rollout of the same estimator.
    n_cuts : int
        Folds of the rollout.
    n_jobs : int
        Workers of the bootstrap.
    progress : bool, optional
        Progress bars.
    clusters : "auto", str or None
        Rows that are checkpoints of one run, as :func:`~.bootstrap.bootstrap` reads it:
        ``"auto"`` (default) is ``run_id`` when some run id repeats, else rows (the same
        law as without it, bit for bit); a column name groups by its values; None takes
        every row for a run. With clusters, the scatter is a new run's with degrees of
        freedom in runs, the rollout cuts and scores whole runs, and the bootstrap
        resamples them (module notes).

    Returns
    -------
    CalibratedFit

    Examples
    --------
    >>> import scalinglaws as sl
    >>> runs = sl.generate_sweep(rng=0)
    >>> law = sl.calibrate(sl.fit(runs), runs, n_resamples=0)
    >>> bounds = law.interval("prediction", N=1e9, D=2e10)
    >>> bool(bounds.low < law.predict(N=1e9, D=2e10) < bounds.high)
    True
    """
    runs = as_runs(runs)
    if axis not in _AXES:
        raise InputError(f"`axis` must be one of {', '.join(_AXES)}, got {axis!r}")
    if not isinstance(result, FitResult):
        raise InputError(f"`result` must be a FitResult, got {type(result).__name__}")
    check_fitted_on(result, runs)
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) \
            or n_resamples < 0:
        raise InputError(f"`n_resamples` must be a non-negative integer, got {n_resamples!r}")
    # checked here, not where used: n_cuts inside the rollout's try became a warning, and a
    # bad scatter model was named `model`
    rollout = check_bool("rollout", rollout)
    progress = check_bool("progress", progress, allow_none=True)
    n_cuts = check_int("n_cuts", n_cuts, minimum=1)
    if scatter is not None and scatter not in SCATTER_MODELS:
        raise InputError(f"`scatter` must be one of {', '.join(SCATTER_MODELS)}, got {scatter!r}")
    if scatter is None:
        scatter = "ratio" if {"N", "D"} <= set(runs.columns) else "constant"
    # checked and recorded here; the argument itself goes on (a fold of the rollout reads
    # "auto" on its own runs, where a missing run id is a run of its own, not an error)
    column, codes = resolve_clusters(runs, clusters)
    if codes is not None and codes.max() < 1:
        raise InputError(f"`clusters` column {column!r} puts every row in one run: give a "
                         "column that tells the runs apart, or clusters=None (rows)")
    spread = estimate_scatter(result, runs, model=scatter, axis=axis, replicates=replicates,
                              clusters=clusters)
    covariance = parameter_covariance(result, runs, spread)
    unrestricted = unrestricted_law_or_warn(result, runs, spread)
    # the one builder of a fit's ranges: with "N*D", which the far-beyond warnings of
    # predict, compute_optimal, diagnose and report measure compute by
    fitted_range = runs_range({c: np.asarray(runs.frame[c], dtype=float)
                               for c in _AXES if c in runs.columns})
    if axis not in fitted_range:
        raise InputError(f"the runs have no {axis} column to calibrate along")
    k = 6.0
    if {"C", "N", "D"} <= set(runs.columns):
        frame = runs.frame
        k = float(np.median(frame["C"] / (frame["N"] * frame["D"])))
    calibration = None
    if rollout:
        # the runs the scatter set aside stay in the rollout: a run the law mispredicts is
        # what the extrapolation term measures (leaving them out took the OLMo ladder's
        # calibrated coverage from 100% to 37%). A diverged run among them inflates tau:
        # say so, naming them, so the user can drop it
        # (a ScalingLawsWarning, as the fit's own about the runs: a run far off the law
        # is a question about the data, not an extrapolation). Runs the fit's own warning
        # named (result.diagnostics["outliers"]: fitting.outliers.warn_diverged, which says
        # what they do here too) are not named again (`fit --uncertainty` warned twice)
        outliers = outlier_runs(result, runs, spread)
        named = ((result.diagnostics or {}).get("outliers") or {}).get("rows", ())
        outliers &= ~np.isin(np.asarray(runs.row_numbers), np.asarray(named, dtype=int))
        if outliers.any():
            n = int(outliers.sum())
            warnings.warn(f"{runs.source}: {counted(n, 'run')} {'lies' if n == 1 else 'lie'} "
                          f"more than {SET_ASIDE:g} robust standard deviations off the fit "
                          f"({rows_text(runs, np.flatnonzero(outliers))}); the scatter sets "
                          f"{'it' if n == 1 else 'them'} aside but the rollout keeps "
                          f"{'it' if n == 1 else 'them'}, so a diverged or mislogged run"
                          f"{'' if n == 1 else ' among them'} widens every interval beyond "
                          "the fitted range: drop it and "
                          "calibrate again", ScalingLawsWarning, stacklevel=2)
        try:
            calibration = calibrate_extrapolation(result, runs, axis=axis, model=scatter,
                                                  n_cuts=n_cuts, progress=progress,
                                                  clusters=clusters)
        except InputError as exc:  # too few runs or levels for a rollout of this law
            warnings.warn(f"the extrapolation error was not calibrated ({exc}); prediction "
                          "intervals beyond the fitted range have no extrapolation term and "
                          "are flagged", ExtrapolationWarning, stacklevel=2)
    boot = None
    if n_resamples:
        from .bootstrap import bootstrap

        boot = bootstrap(result, runs, n_resamples, rng=rng, n_jobs=n_jobs, progress=progress,
                         clusters=clusters)
    return CalibratedFit(fit=result, scatter=spread, covariance=covariance,
                         fitted_range=fitted_range, flops_per_token=k,
                         calibration=calibration, bootstrap=boot, unrestricted=unrestricted,
                         clusters=column)

