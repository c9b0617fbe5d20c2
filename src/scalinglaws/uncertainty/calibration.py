r"""Extrapolation error, calibrated on the sweep's own rollout.

A law fitted on small runs and used on a large one errs by more than the scatter of
runs and the uncertainty of its parameters: the form itself is only approximately
right, and the approximation error grows the farther it extrapolates. How fast it
grows differs from sweep to sweep, so it is measured on the user's own sweep with a
rollout back-test (:func:`scalinglaws.uncertainty.rollout.rollout`): fit on the runs
below a cut, predict the ones above, for several cuts.

Each held-out run :math:`i` of a rollout gives its log error
:math:`e_i = \log \hat L_i - \log L_i`, its log extrapolation factor
:math:`u_i = \log(x_i / x_{\max})` along the axis (``x_max`` the largest value the
fold was fitted on) and the standard deviation the fold itself predicts from
parameter uncertainty and scatter, :math:`s_{0,i}` (:mod:`.delta`, :mod:`.scatter`).
The extrapolation term is a variance component that appears beyond the fitted range,

.. math::

    s_i^2 = s_{0,i}^2 + \tau^2 + (\kappa\, u_i)^2 \qquad (u_i > 0),

:math:`\tau` the excess error of a run just beyond the largest fitted one (out of
sample, a law misfits more than its residuals show) and :math:`\kappa` its growth per
unit of log extrapolation factor. :math:`\tau, \kappa \ge 0` are fitted by Gaussian
maximum likelihood on the rollout's errors (both 0 when the folds' own uncertainty
already explains them). The tails are then calibrated conformally: a prediction interval
at level :math:`1-\alpha` uses as its multiplier of :math:`s` the
:math:`\lceil (n+1)(1-\alpha) \rceil`-th smallest standardised error
:math:`|z_i| = |e_i| / s_i` instead of a normal quantile, when the rollout has at least
:data:`MIN_CONFORMAL` held-out runs. The rollout's records are not exchangeable with a
future run (folds share runs), so this is a calibration, not a finite-sample guarantee;
the tests measure the coverage it reaches on synthetic and public sweeps.

With ``clusters`` (rows that are checkpoints of one run), the rollout keeps every run on
one side of every cut, the side of its largest value along the axis
(:func:`~.rollout.rollout`), each fold's scatter is a new run's
(:func:`~.scatter.estimate_scatter`), and each held-out run gives one record, its row of
largest value along the axis (the last checkpoint: a new run's loss where it ends); the
first fold fits ``max(q + 3, G / 3)`` runs of the ``G``, and :data:`MIN_CONFORMAL` counts
held-out runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._exceptions import InputError
from .._validation import check_confidence_level
from ..data.runs import Runs, as_runs
from ..fitting.estimator import LawFitter
from .delta import log_prediction_sd, parameter_covariance
from .resampling import resolve_clusters
from .rollout import rollout, rollout_cuts, run_maxima
from .scatter import estimate_scatter

__all__ = ["ExtrapolationCalibration", "calibrate_extrapolation", "MIN_CONFORMAL"]

MIN_CONFORMAL = 20  # held-out rollout runs needed before the tails are taken from them


@dataclass(frozen=True)
class ExtrapolationCalibration:
    """How the prediction error grows with extrapolation, measured by a rollout. Frozen.

    Attributes
    ----------
    axis : {"C", "N", "D"}
        The axis along which extrapolation is measured.
    tau : float
        Excess log-error standard deviation of a run just beyond the fitted range.
    kappa : float
        Growth of the log-error standard deviation per unit of log extrapolation factor.
    scores : tuple of float
        Sorted ``|z_i|`` of the rollout's held-out runs, standardised with ``tau`` and
        ``kappa``.
    max_log_factor : float
        Largest ``log(x / x_max)`` in the rollout: beyond it the calibration is itself
        an extrapolation, and predictions say so.
    n_folds : int
        Folds of the rollout.
    model : str
        Scatter model used in the folds.
    clusters : str or None
        The column whose rows are one run: the rollout cut whole runs and scored each
        held-out run once (module notes); None when every row is a run.
    """

    axis: str
    tau: float
    kappa: float
    scores: tuple
    max_log_factor: float
    n_folds: int
    model: str = "constant"
    clusters: str | None = None

    def extra_sd(self, log_factor) -> np.ndarray:
        """The extrapolation term ``sqrt(tau^2 + (kappa u)^2)`` (0 where ``u <= 0``)."""
        u = np.asarray(log_factor, dtype=float)
        return np.where(u > 0, np.sqrt(self.tau**2 + (self.kappa * np.clip(u, 0, None)) ** 2), 0.0)

    @property
    def n_points(self) -> int:
        """Held-out runs the calibration rests on."""
        return len(self.scores)

    def multiplier(self, confidence_level: float) -> float | None:
        """Conformal multiplier of the standard deviation at ``confidence_level``.

        None when the rollout has fewer than :data:`MIN_CONFORMAL` held-out runs or too
        few for this level (the caller then uses a normal or t quantile).
        """
        level = check_confidence_level(confidence_level)
        n = self.n_points
        rank = math.ceil((n + 1) * level)
        if n < MIN_CONFORMAL or rank > n:
            return None
        return float(self.scores[rank - 1])

    def to_dict(self) -> dict:
        """Plain-type record (for JSON)."""
        return {"axis": self.axis, "tau": float(self.tau), "kappa": float(self.kappa),
                "scores": [float(s) for s in self.scores],
                "max_log_factor": float(self.max_log_factor), "n_folds": int(self.n_folds),
                "model": self.model,
                # only when set: a calibration of rows is recorded as it was
                **({} if self.clusters is None else {"clusters": self.clusters})}


def _fold_sd_hook(model: str, axis: str, clusters: str | None = None):
    """Rollout interval hook: a one-standard-deviation band from parameter uncertainty."""

    def band(fit, train, inputs):
        scatter = estimate_scatter(fit, train, model=model, axis=axis, clusters=clusters)
        covariance = parameter_covariance(fit, train, scatter)
        X = {n: np.asarray(inputs[n], dtype=float).ravel() for n in fit.form.inputs}
        sd = log_prediction_sd(fit, covariance, X)
        predicted = np.asarray(fit.predict(**X), dtype=float).ravel()
        return predicted * np.exp(-sd), predicted * np.exp(sd)

    return band


def _fit_components(errors: np.ndarray, base_sd: np.ndarray, log_factor: np.ndarray):
    """Gaussian maximum-likelihood ``(tau, kappa) >= 0`` of ``e ~ N(0, s0^2 + tau^2 + kappa^2 u^2)``."""
    from scipy import optimize

    scale = float(np.sqrt(np.mean(errors**2))) or 1.0  # work in units of the error size

    def negative_log_likelihood(params):
        tau, kappa = params
        variance = (base_sd / scale) ** 2 + tau**2 + (kappa * log_factor) ** 2
        return 0.5 * float(np.sum(np.log(variance) + (errors / scale) ** 2 / variance))

    best = None
    for start in ((0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (0.5, 0.5)):
        fit = optimize.minimize(negative_log_likelihood, start, method="L-BFGS-B",
                                bounds=[(0.0, None), (0.0, None)])
        if best is None or fit.fun < best.fun:
            best = fit
    tau, kappa = (float(v) * scale for v in best.x)
    return tau, kappa


#: distinct values of each input the first fold of a calibration must see: a law's term
#: in one input (A / N^alpha) is not identified by fewer (an OLMo fold of 8 runs at 2
#: sizes gave E 2.97 or 2.62, alpha 1.00 or 0.30, at one objective, as rounding fell)
MIN_DISTINCT = 3


def _runs_to_vary_every_input(runs, inputs, axis) -> int:
    """Runs, in order along ``axis``, until every input of the law has taken
    :data:`MIN_DISTINCT` distinct values (0 if the whole table never does)."""
    values = runs.inputs(tuple(inputs) + (axis,))
    order = np.argsort(np.asarray(values[axis], dtype=float), kind="stable")
    needed = 0
    for name in inputs:
        column = np.asarray(values[name], dtype=float)[order]
        _, first = np.unique(column, return_index=True)
        if len(first) < MIN_DISTINCT:
            return 0
        needed = max(needed, int(np.sort(first)[MIN_DISTINCT - 1]) + 1)
    return needed


def calibrate_extrapolation(result, runs, *, axis: str = "C", model: str = "constant",
                            n_cuts: int = 5, min_train: int | None = None,
                            progress: bool | None = None,
                            clusters: str | None = None) -> ExtrapolationCalibration:
    """Measure how a fitted law's prediction error grows with extrapolation.

    Runs a rollout of ``result``'s estimator (same form and options) on ``runs`` along
    ``axis`` and fits the extrapolation term of the prediction interval (module notes).

    Parameters
    ----------
    result : FitResult
        The fit whose estimator is rolled out (its form and options are reused).
    runs : Runs, DataFrame or path
        The runs it was fitted on.
    axis : {"C", "N", "D"}
        Extrapolation axis.
    model : {"constant", "power"}
        Scatter model in each fold (see :func:`~.scatter.estimate_scatter`).
    n_cuts, min_train : int
        Rollout folds (see :func:`~scalinglaws.uncertainty.rollout.rollout`); by default
        the first fold fits ``max(q + 3, n / 3)`` runs (``q`` free parameters), and more if
        that many have not yet taken 3 distinct values of every input of the law.
    progress : bool, optional
        Progress bar over folds.
    clusters : "auto", str or None
        Rows that are one run (:func:`~.resampling.resolve_clusters`): whole runs are
        cut, fitted and scored (module notes), and ``min_train`` counts runs. None
        (default): every row is a run.

    Returns
    -------
    ExtrapolationCalibration
    """
    runs = as_runs(runs)
    if not isinstance(runs, Runs):  # pragma: no cover - as_runs always returns Runs
        raise InputError("`runs` must be a table of runs")
    options = {k: v for k, v in (result.options or {}).items()
               if k in LawFitter.OBJECTIVE_OPTIONS}
    column, codes = resolve_clusters(runs, clusters)
    axis_values = runs.inputs((axis,))[axis]
    # each run's last row along the axis: with clusters, the one row a run is cut by,
    # counted by and scored at (without, every row is its own run's last)
    last = np.ones(len(runs), bool) if codes is None else _last_rows(axis_values, codes)
    if min_train is None:
        # smaller first folds than a plain rollout's (which wants 2 (q + 1) runs): a
        # calibration needs some held-out runs even on a small sweep, and a fold fitted on
        # few runs errs more, which only widens the extrapolation term
        final = runs if codes is None else runs.select(last)
        min_train = max(len(result.free_params) + 3, math.ceil(len(final) / 3),
                        _runs_to_vary_every_input(final, result.form.inputs, axis))
    cuts = None
    if codes is not None:  # chosen among the runs (the rollout's own rule counts rows)
        cuts = rollout_cuts(axis_values[last], n_cuts=n_cuts, min_train=int(min_train))
    back = rollout(runs, result.form, axis=axis, cuts=cuts, n_cuts=n_cuts,
                   min_train=min_train, fit_options=options,
                   intervals={"sd": _fold_sd_hook(model, axis, clusters)},
                   progress=progress, label="calibration", clusters=clusters)
    low, high = back.intervals["sd"]
    parameter_sd = 0.5 * (np.log(high) - np.log(low))
    cut_on = axis_values if codes is None else run_maxima(axis_values, codes)
    scatter_sd = np.empty(back.n_records)
    scored = np.empty(back.n_records, bool)
    for k, cut in enumerate(back.cuts):
        in_fold = back.fold == k
        train = runs.select(cut_on <= cut)
        scatter = estimate_scatter(back.fits[k], train, model=model, axis=axis,
                                   clusters=clusters)
        scatter_sd[in_fold] = scatter.sd({c: np.asarray(v)[in_fold] for c, v in back.inputs.items()})
        scored[in_fold] = last[cut_on > cut]  # the fold's records are its held-out rows
    base = np.sqrt(parameter_sd**2 + scatter_sd**2)
    errors = np.asarray(back.log_error, dtype=float)
    log_factor = np.log(np.asarray(back.factor, dtype=float))
    usable = scored & np.isfinite(errors) & np.isfinite(base) & (base > 0)
    if usable.sum() < 2:
        raise InputError("the rollout left fewer than 2 usable held-out runs: the "
                         "extrapolation error cannot be calibrated")
    errors, base, log_factor = errors[usable], base[usable], log_factor[usable]
    tau, kappa = _fit_components(errors, base, log_factor)
    scores = np.sort(np.abs(errors) / np.sqrt(base**2 + tau**2 + (kappa * log_factor) ** 2))
    return ExtrapolationCalibration(axis=axis, tau=tau, kappa=kappa,
                                    scores=tuple(float(s) for s in scores),
                                    max_log_factor=float(log_factor.max()),
                                    n_folds=len(back.cuts), model=model, clusters=column)


def _last_rows(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Which rows are their run's largest value along the axis (the first of equals).

    Examples
    --------
    >>> _last_rows(np.array([1.0, 4.0, 2.0, 2.0]), np.array([0, 0, 1, 1]))
    array([False,  True,  True, False])
    """
    order = np.lexsort((np.arange(values.size), -values, codes))  # per run: largest first
    last = np.zeros(values.size, bool)
    last[order[np.r_[True, codes[order][1:] != codes[order][:-1]]]] = True
    return last
