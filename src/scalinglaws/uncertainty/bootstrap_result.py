"""The frozen result of a bootstrap: the parameter draws and the intervals they give."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .._exceptions import InputError, ScalingLawsWarning
from .._validation import FrozenOnUnpickle, check_numbers, check_positive, deep_freeze
from .._validation import check_confidence_level as _check_level
from .._validation import freeze_array_fields
from ..fitting.result import check_same_point, law_inputs
from ..laws.forms import Form
from ..laws.frontier import tokens_per_parameter as frontier_ratio
from .draws_caveats import few_draws_note, warn_few_draws
from .bootstrap_bounds import interval_bounds
from .bootstrap_prediction import BootstrapPrediction
from .prediction import Estimate
from .resampling import resampled_text

__all__ = ["BootstrapResult", "BootstrapPrediction", "METHODS"]

METHODS = ("percentile", "basic", "bca")
#: each method as tables, figures and predictions name it ("bootstrap BCa interval")
_METHOD_NAMES = {"percentile": "percentile", "basic": "basic", "bca": "BCa"}



def _check_method(method) -> str:
    if method not in METHODS:
        raise InputError(f"`method` must be one of {', '.join(METHODS)}, got {method!r}")
    return method


def _interval_method(method: str) -> str:
    """``"bootstrap BCa"`` for ``method="bca"``: how tables, predictions and intervals name
    the method."""
    return f"bootstrap {_METHOD_NAMES[method]}"


def _one_value(name: str, value, *, for_many: str, positive: bool = True) -> float:
    """``value`` (a number or text such as ``"1e24"``) as one float, else an InputError
    naming ``name``: these methods give one interval, for one point; ``for_many`` is the
    function that takes arrays."""
    array = check_numbers(name, value, positive=positive)
    if array.size != 1:
        raise InputError(f"`{name}` must be a single number here (one interval at one point), "
                         f"got {array.size} values; for many, attach the bootstrap "
                         f"(result.with_bootstrap(boot)) and use {for_many}")
    return float(array.ravel()[0])


@dataclass(frozen=True)
class BootstrapResult(FrozenOnUnpickle):
    """Bootstrap distribution of a fitted law's parameters. Frozen.

    Attributes
    ----------
    form : Form
        The fitted law.
    point : dict
        The full-data estimate (public units).
    draws : ndarray, shape (n_ok, p)
        Parameters of every successful resample, columns in
        ``form.param_names`` order.
    objectives : ndarray, shape (n_ok,)
        Objective reached by each successful resample.
    n_resamples : int
        Resamples drawn.
    n_failed : int
        Resamples whose refit did not converge or was not finite; they are
        excluded from ``draws`` and counted here (never dropped silently).
    n_best_start_changed : int
        Successful resamples where a start other than the full-data optimum
        reached an objective lower by more than 1e-8 (relative): a different
        optimum, not the same one reached a rounding error lower.
    confidence_level : float
    method : {"percentile", "basic", "bca"}
    seed : int or None
        The integer seed, when one was given.
    groups : str or None
        Column resampled within (None: plain resampling of runs).
    jackknife : ndarray or None, shape (n, p)
        Leave-one-run-out estimates (one row per cluster left out, with ``clusters``),
        used by the BCa method.
    n_degenerate : int
        Resamples that drew fewer distinct runs (design points) than the law has free
        parameters: they cannot identify the parameters, are not draws, and are left out
        of ``draws`` and the intervals (not refitted, not in ``n_failed``). ``draws`` has
        ``n_resamples - n_degenerate - n_failed`` rows. 0 in documents written before it
        was counted.
    clusters : str or None
        Column whose rows were resampled together (``"run_id"``: whole runs, every
        checkpoint of a drawn run with it); None: rows resampled one by one (and in
        documents written before clusters were resampled).
    restriction : str
        What the fit held in every refit: ``"tie"``, ``"fixed-parameter"`` or ``"tie and
        fixed-parameter"`` (:func:`~scalinglaws.uncertainty.delta.restriction_kind`);
        ``""`` for a free fit (and in documents written before it was recorded). The
        allocation intervals (:meth:`allocation_exponents`,
        :meth:`tokens_per_parameter`) then hold the restriction as exact and their method
        says so: ``"bootstrap percentile (tie bias excluded)"``.
    flops_per_token : float
        ``k`` in ``C = k N D`` of the fit's runs (:attr:`FitResult.flops_per_token`), the
        default of :meth:`tokens_per_parameter` as of :func:`scalinglaws.compute_optimal`.
    """

    form: Form
    point: dict
    draws: np.ndarray = field(repr=False)
    objectives: np.ndarray = field(repr=False)
    n_resamples: int
    n_failed: int
    n_best_start_changed: int
    confidence_level: float = 0.95
    method: str = "percentile"
    seed: int | None = None
    groups: str | None = None
    jackknife: np.ndarray | None = field(default=None, repr=False)
    n_degenerate: int = 0
    clusters: str | None = None
    restriction: str = ""
    flops_per_token: float = 6.0

    def __post_init__(self):
        # deeply frozen like every result: read-only draws, a mapping that refuses changes
        object.__setattr__(self, "point", deep_freeze(dict(self.point)))
        freeze_array_fields(self, ("draws", "objectives")
                            + (("jackknife",) if self.jackknife is not None else ()))

    # -- derived quantities ------------------------------------------------
    def _params(self, values: np.ndarray) -> dict:
        return {name: values[..., i] for i, name in enumerate(self.form.param_names)}

    @property
    def resampled(self) -> str:
        """What was resampled, as summaries say it: ``"whole runs (run_id) resampled"``
        (:attr:`clusters`), or ``"rows resampled"``."""
        return resampled_text(self.clusters)

    @property
    def interval_method(self) -> str:
        """How the intervals are made, as tables and predictions name it: ``"bootstrap
        percentile"``, ``"bootstrap basic"`` or ``"bootstrap BCa"`` (from ``method``)."""
        return _interval_method(self.method)

    def interval(self, statistic: str | Callable[[dict], np.ndarray], *, confidence_level=None,
                 method=None) -> Estimate:
        """Estimate and interval of a parameter, or of any function of the parameters.

        Parameters
        ----------
        statistic : str or callable
            A parameter name (``"E"``: its ``(low, high)`` is ``intervals["E"]``), or
            ``statistic(params)`` with ``params`` a dict of arrays (one value
            per draw) returning an array of the same length (it must
            broadcast, e.g. ``lambda p: p["beta"] / (p["alpha"] + p["beta"])``). A
            statistic of several values (one per budget, say) returns, at the estimate
            (``params`` of scalars), an array of shape ``S`` and over the draws an array
            of shape ``(n_draws, *S)``: each value gets its own interval.
        confidence_level, method
            Override the bootstrap's.

        Returns
        -------
        Estimate
            The tuple ``(estimate, low, high)``: the full-data estimate and the interval
            (nan bounds when fewer than two draws give a finite value); floats, or
            read-only arrays of shape ``S`` for a statistic of several values. It unpacks
            and compares as that tuple and says what the interval is: ``kind``
            (``"confidence"``), ``method`` (:attr:`interval_method`, or the ``method``
            given: ``"bootstrap percentile"``...) and ``confidence_level``.

        Raises
        ------
        InputError
            ``statistic`` neither a parameter name nor a callable, or of several values
            whose shape over the draws is not ``(n_draws, *S)``; a bad
            ``confidence_level`` or ``method``.

        Examples
        --------
        >>> import scalinglaws as sl
        >>> runs = sl.generate_sweep(rng=0)
        >>> result = sl.fit(runs)
        >>> boot = sl.bootstrap(result, runs, 50, rng=0, progress=False)
        >>> estimate, low, high = boot.interval("E")
        >>> (low, high) == boot.intervals["E"], bool(low < estimate < high)
        (True, True)
        >>> a = boot.interval(lambda p: p["beta"] / (p["alpha"] + p["beta"]))
        >>> a.kind, a.method, a.confidence_level
        ('confidence', 'bootstrap percentile', 0.95)
        """
        estimate, low, high, _ = self._estimate_and_interval(statistic, confidence_level,
                                                             method)
        level = self.confidence_level if confidence_level is None else confidence_level
        if confidence_level is not None:  # the bootstrap warned about its own level
            warn_few_draws(len(self.draws), float(level))
        return Estimate(estimate, low, high, confidence_level=float(level), kind="confidence",
                        method=_interval_method(self.method if method is None else method))

    def _estimate_and_interval(self, statistic, confidence_level, method):
        """:meth:`interval`'s ``(estimate, low, high)`` and the number of draws whose
        statistic is not finite (left out of the interval); arrays of the statistic's
        shape for a statistic of several values."""
        if isinstance(statistic, str):
            if statistic not in self.form.param_names:
                raise InputError(f"`statistic` must be a parameter of form {self.form.name!r} "
                                 f"({', '.join(self.form.param_names)}) or a callable, got "
                                 f"{statistic!r}")
            statistic = (lambda p, name=statistic: p[name])
        elif not callable(statistic):
            raise InputError("`statistic` must be a parameter name or a callable "
                             f"statistic(params), got {type(statistic).__name__} {statistic!r}")
        level = _check_level(self.confidence_level if confidence_level is None else confidence_level)
        method = _check_method(self.method if method is None else method)
        if method == "bca" and self.jackknife is None:
            raise InputError("method='bca' needs the jackknife: run bootstrap(..., "
                             "method='bca') or jackknife=True")
        point = self.form.params_vector(self.point)
        estimate = np.asarray(statistic(self._params(point)), dtype=float)
        values = np.asarray(statistic(self._params(self.draws)), dtype=float)
        jack = None if method != "bca" else np.asarray(
            statistic(self._params(self.jackknife)), dtype=float)
        if estimate.size == 1:  # one value: every draw's values, flattened, as always
            low, high = interval_bounds(float(estimate.ravel()[0]), values.ravel(),
                                     None if jack is None else jack.ravel(), level, method)
            return (float(estimate.ravel()[0]), low, high,
                    int(np.count_nonzero(~np.isfinite(values))))
        # several values (one per budget...): one interval per value, over its column
        shape, n = estimate.shape, len(self.draws)
        for name, array, rows in (("draws", values, n),
                                  ("jackknife", jack, None if jack is None else len(jack))):
            if array is not None and array.shape != (rows, *shape):
                raise InputError(f"`statistic` gives {shape} values at the estimate but shape "
                                 f"{array.shape} over the {rows} {name}; it must give "
                                 f"{(rows, *shape)} (one row per draw)")
        columns = values.reshape(n, -1)
        bounds = [interval_bounds(float(e), columns[:, j],
                               None if jack is None else jack.reshape(len(jack), -1)[:, j],
                               level, method) for j, e in enumerate(estimate.ravel())]
        low, high = (np.reshape([b[i] for b in bounds], shape) for i in (0, 1))
        n_not_finite = int(np.count_nonzero(~np.isfinite(columns).all(axis=1)))
        return estimate, low, high, n_not_finite

    @property
    def intervals(self) -> dict:
        """``{name: (low, high)}`` for every parameter: each an
        :class:`~scalinglaws.uncertainty.prediction.Interval`, the tuple ``(low, high)`` that
        also says what it is (``kind`` ``"confidence"``, ``method`` :attr:`interval_method`,
        ``confidence_level``). A new dict each time.

        Examples
        --------
        >>> import scalinglaws as sl
        >>> runs = sl.generate_sweep(rng=0)
        >>> boot = sl.bootstrap(sl.fit(runs), runs, 50, rng=0, progress=False)
        >>> low, high = boot.intervals["alpha"]
        >>> boot.intervals["alpha"].describe()
        '95% bootstrap percentile confidence interval'
        """
        return {name: self.interval(name).bounds() for name in self.form.param_names}

    @property
    def standard_errors(self) -> dict:
        """Bootstrap standard deviation of each parameter."""
        sd = np.std(self.draws, axis=0, ddof=1) if len(self.draws) > 1 else np.full(
            self.form.n_params, np.nan)
        return {name: float(v) for name, v in zip(self.form.param_names, sd)}

    @property
    def covariance(self) -> np.ndarray:
        """Bootstrap covariance matrix of the parameters (``form.param_names`` order)."""
        return np.cov(self.draws, rowvar=False)

    def allocation_exponents(self) -> dict:
        """Intervals of Chinchilla's compute-optimal exponents a = β/(α+β), b = α/(α+β).

        ``N_opt ∝ C^a`` and ``D_opt ∝ C^b`` (Hoffmann et al. 2022, Eq. 4).

        Returns
        -------
        dict
            ``{"a": Estimate, "b": Estimate}``: each the tuple ``(estimate, low, high)`` of
            :meth:`interval`, which also says what its interval is.

        Raises
        ------
        InputError
            A form other than ``chinchilla``.

        Examples
        --------
        >>> import scalinglaws as sl
        >>> runs = sl.generate_sweep(rng=0)
        >>> boot = sl.bootstrap(sl.fit(runs), runs, 50, rng=0, progress=False)
        >>> a, low, high = boot.allocation_exponents()["a"]
        >>> boot.allocation_exponents()["b"].describe()
        '95% bootstrap percentile confidence interval'
        """
        if self.form.name != "chinchilla":
            raise InputError("allocation exponents in closed form exist for the chinchilla form "
                             "only; use scalinglaws.extrapolate.compute_optimal with draws")
        exponents = {"a": self._allocated(lambda p: p["beta"] / (p["alpha"] + p["beta"])),
                     "b": self._allocated(lambda p: p["alpha"] / (p["alpha"] + p["beta"]))}
        a = exponents["a"]
        if self.restriction and len(self.draws) and a.low == a.high:
            warnings.warn(f"bootstrap: the fit's {self.restriction} holds a = {a.estimate:.4g} "
                          "and b in every refit, so their interval has zero width and says "
                          "nothing of what the runs show about them; fit without the "
                          "restriction, or calibrate the law (scalinglaws.calibrate), whose "
                          "allocation intervals are widened to the free fit's "
                          "(scalinglaws.chinchilla_frontier)", ScalingLawsWarning, stacklevel=2)
        return exponents

    def tokens_per_parameter(self, compute: float, flops_per_token: float | None = None):
        """Interval of D_opt/N_opt at one compute budget (Chinchilla closed form).

        Parameters
        ----------
        compute : float or str
            One training budget C in FLOP (``1e24`` or ``"1e24"``).
        flops_per_token : float, optional
            ``k`` in ``C = k N D`` (default: the fit's, :attr:`flops_per_token`).

        Returns
        -------
        Estimate
            As :meth:`interval`: the tuple ``(estimate, low, high)`` of floats, which also
            says what its interval is (``kind``, ``method``, ``confidence_level``).

        Raises
        ------
        InputError
            A form other than ``chinchilla``; ``compute`` not one positive number;
            ``flops_per_token`` not a positive number. For many budgets use
            :func:`~scalinglaws.compute_optimal` with the bootstrap attached.

        Examples
        --------
        >>> import scalinglaws as sl
        >>> runs = sl.generate_sweep(rng=0)
        >>> boot = sl.bootstrap(sl.fit(runs), runs, 50, rng=0, progress=False)
        >>> ratio = boot.tokens_per_parameter(5.88e23)
        >>> ratio.kind, bool(ratio.low < ratio.estimate < ratio.high)
        ('confidence', True)
        """
        if self.form.name != "chinchilla":
            raise InputError("use scalinglaws.extrapolate.compute_optimal with draws for "
                             f"form {self.form.name!r}")
        compute = _one_value("compute", compute, for_many="scalinglaws.compute_optimal")
        flops_per_token = check_positive("flops_per_token", self.flops_per_token
                                         if flops_per_token is None else flops_per_token)

        def ratio(p):
            rows = np.column_stack([np.ravel(p[n]) for n in self.form.param_names])
            return frontier_ratio(rows, compute, flops_per_token).reshape(np.shape(p["A"]))

        return self._allocated(ratio)

    def _allocated(self, statistic) -> Estimate:
        """:meth:`interval` of an allocated quantity. A restricted fit's refits all keep the
        restriction (``beta = alpha`` gives a = b = 0.5 in every draw), so such an interval
        takes it as exact and its method says so, as :func:`scalinglaws.compute_optimal`'s
        does for a plain restricted fit."""
        estimate = self.interval(statistic)
        if not self.restriction:
            return estimate
        return Estimate(estimate.estimate, estimate.low, estimate.high,
                        confidence_level=estimate.confidence_level, kind=estimate.kind,
                        method=f"{estimate.method} ({self.restriction} bias excluded)")

    def predict(self, **inputs) -> BootstrapPrediction:
        """The predicted loss at one point and its confidence interval over the draws,
        e.g. ``predict(N=7e10, D=1.4e12)``.

        Parameters
        ----------
        **inputs : float or str
            One value for each of the form's inputs (``N=7e10, D="1.4T"``), or ``C`` with
            one of ``N`` and ``D`` (``C = k N D``, ``k`` the fit's :attr:`flops_per_token`).

        Returns
        -------
        Prediction
            What :func:`scalinglaws.predict` returns: ``loss`` (the full-data estimate),
            ``low`` and ``high`` (also ``bounds("loss")``), ``interval`` the kind
            (``"confidence"``: where the law's mean loss is, from parameter uncertainty),
            ``method`` how it was made (:attr:`interval_method`: this bootstrap's own
            percentile, basic or BCa interval, at its ``confidence_level``), ``n_draws``
            and ``n_failed_draws`` (draws with a non-finite loss, left out), ``to_frame()``.
            For the percentile method the numbers are those of
            ``scalinglaws.predict(result.with_bootstrap(boot), ...)``, which takes arrays
            of points and, given :func:`~scalinglaws.calibrate`'s result, prediction
            intervals. Unpacking it as the tuple ``(estimate, low, high)`` this method
            returned before still works, with a
            :class:`~scalinglaws.ScalingLawsDeprecationWarning`. A bootstrap does not keep
            the runs' range or the fit's status, so this shortcut does not warn of a
            prediction far beyond the runs, or of a fit they did not determine, as
            ``scalinglaws.predict(result.with_bootstrap(boot), ...)`` does.

        Raises
        ------
        InputError
            An input missing, unknown, not a positive number, or given several values.

        Examples
        --------
        >>> import scalinglaws as sl
        >>> runs = sl.generate_sweep(rng=0)
        >>> result = sl.fit(runs)
        >>> boot = sl.bootstrap(result, runs, 50, rng=0, progress=False)
        >>> p = boot.predict(N=7e10, D=1.4e12)
        >>> p.interval, p.method, p.confidence_level, bool(p.low < p.loss < p.high)
        ('confidence', 'bootstrap percentile', 0.95, True)
        """
        # C with one of N and D gives the other (C = k N D, the fit's k), as sl.predict
        inputs = law_inputs(self.form, inputs, self.flops_per_token)
        X, _ = self.form._broadcast_inputs(inputs)  # names a missing or non-numeric input
        point = {name: _one_value(name, inputs[name], for_many="scalinglaws.predict",
                                  positive=self.form.positive_inputs)
                 for name in self.form.inputs}

        def loss(p):
            theta = np.stack([np.atleast_1d(p[n]) for n in self.form.param_names], axis=-1)
            internal = self.form.to_internal(theta)
            logf, _ = self.form.log_value_and_jacobian(internal, X)
            out = np.exp(logf[:, 0])
            return out if np.ndim(p[self.form.param_names[0]]) else out[0]

        estimate, low, high, n_not_finite = self._estimate_and_interval(loss, None, None)
        return BootstrapPrediction(
            inputs=point, loss=estimate, low=low, high=high, intervals={"loss": (low, high)},
            confidence_level=self.confidence_level, n_draws=len(self.draws),
            n_failed_draws=n_not_finite, interval="confidence", confidence_low=low,
            confidence_high=high, method=self.interval_method)

    def summary(self) -> str:
        """Value [low, high] per parameter."""
        level = f"{100 * self.confidence_level:g}%"
        # rows resampled one by one, as always, go unsaid; whole runs are said
        whole = "" if self.clusters is None else f"; {self.resampled}"
        lines = [f"bootstrap: {self.n_resamples} resamples ({self.method}, {level}{whole}), "
                 f"{self.n_failed} failed, best start differed in {self.n_best_start_changed}"
                 + (f", {self.n_degenerate} degenerate (too few distinct runs; left out)"
                    if self.n_degenerate else "")]
        for name, (low, high) in self.intervals.items():
            lines.append(f"{name:<12}{self.point[name]:>14.6g}  [{low:.6g}, {high:.6g}]")
        if self.caveat is not None:
            lines.append(f"warning: {self.caveat}")
        return "\n".join(lines)

    @property
    def caveat(self) -> str | None:
        """Why the intervals hold less than their level from the draws alone (too few
        draws for the level's tails: :func:`~.draws_caveats.draws_needed`), else None."""
        return few_draws_note(len(self.draws), self.confidence_level)

    def to_frame(self):
        """The parameters as a table, one row per parameter in ``form.param_names`` order.

        Columns ``name``, ``value`` (the full-data estimate), ``low`` and ``high`` (the
        interval of :attr:`intervals`: this bootstrap's method at its
        ``confidence_level``) and ``standard_error`` (:attr:`standard_errors`). Its
        ``attrs`` say what the interval is, as the analysis tables' do: ``interval``
        (``"confidence"``), ``method`` (:attr:`interval_method`), ``confidence_level``,
        ``n_resamples``, ``n_draws`` (successful resamples), ``n_failed``, ``groups`` and
        ``clusters``.
        A new DataFrame each time.

        Examples
        --------
        >>> import scalinglaws as sl
        >>> runs = sl.generate_sweep(rng=0)
        >>> result = sl.fit(runs)
        >>> frame = sl.bootstrap(result, runs, 50, rng=0, progress=False).to_frame()
        >>> list(frame.columns), frame.attrs["method"], frame.attrs["n_resamples"]
        (['name', 'value', 'low', 'high', 'standard_error'], 'bootstrap percentile', 50)
        """
        import pandas as pd

        names = list(self.form.param_names)
        intervals, errors = self.intervals, self.standard_errors
        frame = pd.DataFrame({"name": names,
                              "value": [float(self.point[n]) for n in names],
                              "low": [intervals[n][0] for n in names],
                              "high": [intervals[n][1] for n in names],
                              "standard_error": [errors[n] for n in names]})
        frame.attrs.update(interval="confidence", method=self.interval_method,
                           confidence_level=self.confidence_level,
                           n_resamples=self.n_resamples, n_draws=len(self.draws),
                           n_failed=self.n_failed, groups=self.groups, clusters=self.clusters)
        return frame

    def to_dict(self, *, include_draws: bool = True) -> dict:
        """Plain-type summary (stored under ``"bootstrap"`` in the fit JSON)."""
        doc = {"method": self.method, "n_resamples": self.n_resamples,
               "confidence_level": self.confidence_level, "seed": self.seed,
               "groups": self.groups, "clusters": self.clusters, "n_failed": self.n_failed,
               "n_best_start_changed": self.n_best_start_changed,
               "n_degenerate": self.n_degenerate, "restriction": self.restriction,
               "flops_per_token": self.flops_per_token,
               "intervals": {k: list(v) for k, v in self.intervals.items()},
               "standard_errors": self.standard_errors,
               "param_names": list(self.form.param_names),
               # the point estimate the draws belong to: a loader refuses them under other
               # parameters (fitting/result.check_same_point)
               "point": {k: float(v) for k, v in self.point.items()}}
        if include_draws:
            doc["draws"] = self.draws.tolist()
            if self.jackknife is not None:
                doc["jackknife"] = self.jackknife.tolist()
        return doc

    @classmethod
    def from_dict(cls, doc: Mapping, form: Form, point: Mapping, source: str = "fit JSON", *,
                  flops_per_token: float | None = None, restriction: str | None = None,
                  n_runs: int | None = None):
        """Rebuild from :meth:`to_dict` output (needs the draws), checking every field
        (:func:`~.bootstrap_doc.read_bootstrap_fields`).

        ``flops_per_token`` and ``restriction`` are the fit's (its ``k`` and
        ``restriction_kind(fit.tied, fit.fixed)``): a document written before the
        bootstrap recorded them takes them, and one that states others is refused with an
        :class:`~scalinglaws.InputError` naming the field. None: no fit to compare with.
        ``n_runs``, the fit's runs, checks the jackknife's rows (one per run left out).
        """
        from .bootstrap_doc import read_bootstrap_fields

        check_same_point(doc.get("point") if isinstance(doc, Mapping) else None, point,
                         source, "bootstrap.point")
        fields = read_bootstrap_fields(doc, list(form.param_names), source, methods=METHODS,
                                       restriction=restriction,
                                       flops_per_token=flops_per_token, n_runs=n_runs)
        return cls(form=form, point=dict(point),
                   objectives=np.full(len(fields["draws"]), np.nan), **fields)
