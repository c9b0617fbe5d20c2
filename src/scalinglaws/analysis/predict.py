"""Predictions of a fitted law, with percentile intervals over parameter draws."""

from __future__ import annotations

import numpy as np

from .._exceptions import InputError
from .._validation import check_confidence_level as _check_level
from .._validation import check_draws
from ..fitting.result import law_inputs
from ..laws.flops import inputs_from_compute
from ..laws.forms import Chinchilla
from ..laws.frontier import frontier_terms
from ..uncertainty.delta import FIXED_AS_EXACT, draws_log_predictions
from ._common import (DEFAULT_LEVEL, warn_far_beyond, check_fit, chosen_draws, irreducible,
                      loss_at_shared_inputs, parameter_rows, quiet, require_frontier,
                      rows_and_level, shaped, summarise, warn_unsettled)
from ._common import fit_flops_per_token
from .restricted import restricted_intervals
from .results import FrontierCoefficients, Prediction

__all__ = ["predict", "chinchilla_frontier", "irreducible_loss"]


@quiet
def irreducible_loss(fit) -> float:
    """Infimum of the law over N and D: ``E`` for Chinchilla, ``L(1e100, 1e100)`` otherwise.

    For a law without an offset (Kaplan's) the infimum is 0 and the value returned is
    the law at N = D = 1e100, a tiny positive number.
    """
    form, point = check_fit(fit)
    if set(form.inputs) == {"N", "D"}:
        return float(irreducible(form, point[None, :])[0, 0])
    values = dict(zip(form.param_names, point))
    return float(values.get("E", 0.0))


@quiet
def predict(fit, draws=None, confidence_level=None, *, interval: str | None = None,
            **inputs) -> Prediction:
    """Predicted loss at broadcast inputs, with a confidence or a prediction interval.

    Parameters
    ----------
    fit : FitResult or CalibratedFit
        The law. A :class:`~scalinglaws.uncertainty.calibrated.CalibratedFit` (from
        :func:`scalinglaws.calibrate`) also gives prediction intervals, and its
        bootstrap draws are used for confidence intervals.
    draws : None, False, BootstrapResult, DataFrame or array (m, p), optional
        The parameter draws the confidence interval is taken over (percentiles of
        their predictions). ``None`` (default): the bootstrap that travels with the fit
        (``fit.bootstrap``, from :meth:`~scalinglaws.FitResult.with_bootstrap`, ``fit
        --bootstrap`` or :func:`scalinglaws.calibrate`), or no interval when it has none.
        ``False``: no interval (the point estimate only). Otherwise the draws to use
        instead: a bootstrap result, a DataFrame with a column per parameter, or an
        array of parameter vectors in ``fit.form.param_names`` order.
    confidence_level : float, optional
        Coverage of the intervals. Default: the bootstrap's own ``confidence_level``
        when the draws are a bootstrap result (the fit's own, or one passed as
        ``draws``), else 0.95. A number always wins. The result's
        ``confidence_level`` is the level used.
    interval : {"confidence", "prediction"}, optional
        Which interval ``low``/``high`` hold. Default: ``"prediction"`` for a
        CalibratedFit, ``"confidence"`` otherwise. A confidence interval says where the
        law (the mean loss at those inputs) is; a prediction interval says where one
        new run will land (parameter uncertainty, run-to-run scatter and the
        extrapolation error measured on the sweep's own rollout) and always contains
        the confidence interval at the same level.
    **inputs : array_like
        The form's inputs by name (``N=..., D=...``); arrays broadcast. A law of N and D
        also takes ``C=`` (FLOP) with one of them, the other derived from ``C = k N D``
        (k the fit's ``flops_per_token``). With a CalibratedFit, ``C=`` may also be added
        to N and D to place the prediction on the compute axis.

    Returns
    -------
    Prediction

    Raises
    ------
    InputError
        ``draws=True`` or draws of the wrong shape; ``interval`` with ``draws=False``;
        ``interval="prediction"`` for a fit that is not calibrated.

    Examples
    --------
    >>> from scalinglaws import FitResult
    >>> law = FitResult.from_params("chinchilla", dict(E=1.69, A=406.4, B=410.7, alpha=0.34,
    ...                                                beta=0.28))  # Hoffmann et al.'s, printed
    >>> round(predict(law, N=70e9, D=1.4e12).loss, 4)
    1.9366

    A fit with a bootstrap gives its interval at the bootstrap's level, unless asked
    otherwise:

    >>> import scalinglaws as sl
    >>> runs = sl.generate_sweep(rng=0)
    >>> result = sl.fit(runs)
    >>> result = result.with_bootstrap(sl.bootstrap(result, runs, 100, rng=0,
    ...                                             confidence_level=0.8, progress=False))
    >>> p = predict(result, N=3e10, D=6e11)
    >>> p.confidence_level, p.n_draws, bool(p.low < p.loss < p.high)
    (0.8, 100, True)
    >>> predict(result, N=3e10, D=6e11, draws=False).low is None
    True
    """
    from ..uncertainty.calibrated import CalibratedFit

    if interval not in (None, "confidence", "prediction"):
        raise InputError(f"`interval` must be 'confidence' or 'prediction', got {interval!r}")
    draws = check_draws(draws)
    if interval is not None and draws is False:
        raise InputError(f"`interval={interval!r}` asks for an interval and `draws=False` "
                         "for none: drop one")
    if isinstance(fit, CalibratedFit):
        # its fit's status and diagnostics, as a plain fit's are on every prediction (the
        # calibrated law warns beyond its range itself)
        warn_unsettled(fit.fit)
        return _calibrated_prediction(fit, draws, confidence_level, interval, inputs)
    if interval == "prediction":
        raise InputError("prediction intervals need the run-to-run scatter and the "
                         "extrapolation calibration: pass scalinglaws.calibrate(result, runs) "
                         "instead of the fit")
    form, point = check_fit(fit)
    rows, n_draws, level = rows_and_level(fit, form, point, draws, confidence_level)
    X, shape = form._broadcast_inputs(law_inputs(form, inputs, fit_flops_per_token(fit)))
    warn_far_beyond(fit, X, typed=tuple(inputs))
    values = loss_at_shared_inputs(form, rows, X)
    point_values, intervals, failed = summarise({"loss": values}, shape, level, n_draws)
    low, high = intervals.get("loss", (None, None))
    broadcast = {name: shaped(X[name], shape) for name in form.inputs}
    return Prediction(inputs=broadcast, loss=point_values["loss"], low=low, high=high,
                      intervals=intervals, confidence_level=level, n_draws=n_draws,
                      n_failed_draws=failed, interval="confidence" if n_draws else None,
                      confidence_low=low, confidence_high=high,
                      method=_percentile_method(fit) if n_draws else "")


def _percentile_method(fit) -> str:
    """The plain fit's interval method: a fit's fixed values are held by every refit of
    its bootstrap, so its percentiles take them as exact (README, "Fixed parameters,
    simulated": 60.8% in range with E 0.10 too high); the label says so, as the delta
    method's does, and :func:`scalinglaws.calibrate` adds the allowance."""
    return "bootstrap percentile" + (FIXED_AS_EXACT if getattr(fit, "fixed", None) else "")


def _calibrated_prediction(law, draws, confidence_level, interval, inputs) -> Prediction:
    """Both intervals of a CalibratedFit; ``low``/``high`` hold the kind asked for.

    The confidence interval is over the chosen draws (the law's bootstrap by default),
    or by the delta method without any; the prediction interval contains it."""
    form, typed = law.form, tuple(inputs)
    # C with one of N and D gives the other (the interval's axis too); with both, C
    # places the prediction on the compute axis (CalibratedFit.interval)
    inputs = inputs_from_compute(inputs, form.inputs, law.flops_per_token)
    own = {k: v for k, v in inputs.items() if k in form.inputs}
    X, shape = form._broadcast_inputs(own)
    # far below its runs (a value in other units?): the law's interval says only how far
    # above them its rollout measured
    warn_far_beyond(law, X, typed=typed, unsettled=False, below_only=True, stacklevel=5)
    loss = shaped(np.asarray(law.fit.predict(**X), dtype=float), shape)
    broadcast = {name: shaped(X[name], shape) for name in form.inputs}
    if draws is False:
        level = _check_level(DEFAULT_LEVEL if confidence_level is None else confidence_level)
        return Prediction(inputs=broadcast, loss=loss, confidence_level=level)
    chosen, level = chosen_draws(law, draws, confidence_level)
    rows, n_draws = parameter_rows(form, np.asarray(form.params_vector(law.params)), chosen)
    array = rows[1:] if n_draws else None
    predicted = law.interval("prediction", level, draws=array, **dict(inputs))
    confident = law.interval("confidence", level, warn=False, draws=array, **dict(inputs))
    kind = interval or "prediction"
    chosen_bounds = predicted if kind == "prediction" else confident
    failed = 0
    if n_draws:
        logs = draws_log_predictions(form, array, X)
        failed = int((~np.isfinite(logs).all(axis=1)).sum())

    def out(values):
        return shaped(np.asarray(values), shape)

    return Prediction(inputs=broadcast, loss=loss,
                      low=out(chosen_bounds.low), high=out(chosen_bounds.high),
                      intervals={"loss": (out(chosen_bounds.low), out(chosen_bounds.high))},
                      confidence_level=level, n_draws=n_draws, n_failed_draws=failed,
                      interval=kind,
                      confidence_low=out(confident.low), confidence_high=out(confident.high),
                      prediction_low=out(predicted.low), prediction_high=out(predicted.high),
                      extrapolation_factor=out(np.exp(predicted.log_factor)),
                      beyond_calibration=np.asarray(predicted.beyond_calibration).reshape(shape)
                      if shape else bool(predicted.beyond_calibration),
                      method=chosen_bounds.method, confidence_method=confident.method,
                      prediction_method=predicted.method)


@quiet
def chinchilla_frontier(fit, draws=None, confidence_level=None) -> FrontierCoefficients:
    r"""Efficient-frontier coefficients of a Chinchilla law (Hoffmann et al. 2022 Eq 4).

    .. math::

        N_{opt}(C) = G \left(\frac{C}{k}\right)^a,\quad
        D_{opt}(C) = G^{-1} \left(\frac{C}{k}\right)^b,\quad
        G = \left(\frac{\alpha A}{\beta B}\right)^{\frac{1}{\alpha+\beta}},\quad
        a = \frac{\beta}{\alpha+\beta},\quad b = \frac{\alpha}{\alpha+\beta}

    and the frontier loss :math:`L^*(C) = E + K (C/k)^{-\gamma}` with
    :math:`\gamma = \alpha\beta/(\alpha+\beta)`, :math:`K = A G^{-\alpha} + B G^{\beta}`.

    Parameters
    ----------
    fit : FitResult
        A Chinchilla law.
    draws, confidence_level :
        See :func:`predict`: by default the bootstrap saved with the fit, at its level;
        ``draws=False`` gives no intervals.

    Returns
    -------
    FrontierCoefficients

    Examples
    --------
    With Hoffmann's printed coefficients (App D.2 Eq 10) ``G = 1.3447, a = 0.4516``; with
    the unrounded TeX values ``G = 1.3000, a = 0.4565``.
    """
    form, point = check_fit(fit)
    if not isinstance(form, Chinchilla):
        raise InputError(f"`fit` must use the chinchilla form for its closed-form frontier, "
                         f"got form {form.name!r}; use compute_optimal(..., method='numerical')")
    require_frontier(form, point)
    rows, n_draws, level = rows_and_level(fit, form, point, draws, confidence_level)

    def evaluate(parameter_rows):
        terms = frontier_terms(parameter_rows)
        return {"G": np.exp(terms["log_G"]), "a": terms["a"], "b": terms["b"],
                "gamma": terms["gamma"], "K": np.exp(terms["log_K"])}

    point_values, intervals, failed = summarise(evaluate(rows), (), level, n_draws)
    # a tied fit's a = b = 0.5 in every draw: widened to the fit without the tie when the
    # law is calibrated, labelled otherwise (analysis/restricted.py)
    intervals, interval_method = restricted_intervals(fit, evaluate, intervals, level)
    return FrontierCoefficients(**point_values, intervals=intervals, confidence_level=level,
                                n_draws=n_draws, n_failed_draws=failed,
                                interval_method=interval_method)
