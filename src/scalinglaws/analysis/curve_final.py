"""Where runs that are part-way through will end, with intervals.

:func:`predict_final` takes a curve law fitted on finished runs, refits a few parameters
(default ``L0``, a run-specific offset) on each new run's points so far, and predicts the
loss at the last step of the run's planned schedule. With bootstrap draws of the law
(:func:`~scalinglaws.uncertainty.curves.bootstrap_curves`), each run gets a percentile
interval: every draw's parameters, with the same parameters refitted on a pseudo-run (the
run's fitted curve times noise redrawn from a bias-corrected, studentized AR(1) sieve
bootstrap of its residuals, :mod:`scalinglaws.uncertainty.run_noise`), predict the final
loss, so the interval holds both the law's uncertainty and the noise of the run's points
so far. (``block_length=`` resamples the run's own points in moving blocks instead: with
a part-way run's few correlated points that understates their noise; README.)

The point estimate and every draw are refitted by one function with the fit's own
objective (loss, delta, bounds, and ties among refitted parameters), so they answer the
same question.
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Mapping

import numpy as np

from .._exceptions import ConvergenceWarning, CurveResamplingWarning, InputError, ScalingLawsWarning
from .._text import counted
from .._validation import (
    as_names,
    check_choice,
    check_confidence_level,
    check_int,
    check_rng,
)
from ..data.curves import Curves
from ..fitting.curves import CurveFitResult
from ..laws.curve_laws import SizeScaled

__all__ = ["RUN_NOISE", "predict_final"]

#: how a run's noise is redrawn for the draws' refits, and what ``attrs["run_points"]``
#: then says
RUN_POINTS = {"ar1": "studentized AR(1) sieve bootstrap of the run's residuals "
                     "(AR coefficient bias-corrected for the run's length and refit)",
              "blocks": "moving blocks"}
RUN_NOISE = tuple(RUN_POINTS)


def _check_result(result) -> CurveFitResult:
    if not isinstance(result, CurveFitResult):
        raise InputError(f"`result` must be a CurveFitResult (fit_curves, or "
                         f"CurveFitResult.from_params), got {type(result).__name__}")
    return result


def _check_refit(result: CurveFitResult, refit) -> tuple:
    """``refit`` as names in the law's own order (the order the fitter solves them in)."""
    refit = as_names(refit, "`refit` must be parameter names, e.g. ('L0',)")
    names = result.law.param_names
    unknown = [p for p in refit if p not in names]
    if unknown:
        raise InputError(f"`refit` names {unknown}; the law has {', '.join(names)}")
    repeated = sorted({p for p in refit if refit.count(p) > 1})
    if repeated:
        raise InputError(f"`refit` names {', '.join(map(repr, repeated))} more than once")
    for p in refit:
        if p in result.fixed:
            raise InputError(f"`refit` names {p!r}, which the fit held fixed at "
                             f"{result.fixed[p]:g}: a run cannot refit what the law fixes")
        if p in result.tied:
            raise InputError(f"`refit` names {p!r}, which the fit tied to "
                             f"{result.tied[p]!r}: refit {result.tied[p]!r} instead")
    return tuple(p for p in names if p in refit)


def curve_draws(draws, result: CurveFitResult | None = None):
    """``draws=`` of a curve prediction: None for None or False (no intervals, as
    ``draws=False`` is everywhere), else a CurveBootstrap, checked to be draws of
    ``result`` when given (and to hold a converged refit)."""
    from ..uncertainty.curves import CurveBootstrap

    if draws is None or (isinstance(draws, (bool, np.bool_)) and not draws):
        return None
    if not isinstance(draws, CurveBootstrap):
        raise InputError(f"`draws` must be a CurveBootstrap (bootstrap_curves), or None or "
                         f"False for no intervals; got {type(draws).__name__}")
    if result is None:
        return draws
    if draws.law.name != result.law.name or any(
            not np.isclose(draws.point[name], value, rtol=1e-12, atol=0.0)
            for name, value in result.params.items()):
        raise InputError("`draws` are not draws of `result` (another law or other "
                         "parameters): bootstrap this fit with bootstrap_curves")
    if draws.n_draws == 0:
        raise InputError("`draws` hold no converged refit: no interval can rest on them")
    return draws


def _seed_entropy(rng) -> int:
    """One integer from ``rng``: each run's resamples are seeded by it and the run id, so a
    run's interval does not depend on which other runs are in the table."""
    generator = check_rng("rng", rng)  # validates every accepted form
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return int(rng)
    return int(generator.integers(2 ** 63))


def _run_generator(entropy: int, run) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(
        entropy, spawn_key=(zlib.crc32(str(run).encode()),)))


class _RunRefit:
    """Refits ``refit`` on one run's points by the fit's objective, the other parameters
    held at given values (a tied parameter whose source is refitted follows it; the fit's
    bounds apply)."""

    def __init__(self, result: CurveFitResult, part: Curves, refit: tuple):
        law = result.law
        self.law, self.refit = law, refit
        self.sums = law.prepare(part, quadrature=result.options.get("quadrature"))
        self.bound = law.bind(self.sums)
        self.target = part.frame["loss"].to_numpy(dtype=float)
        self.inputs = {"point": np.arange(self.sums.n_points, dtype=float)}
        self.tied = {k: v for k, v in result.tied.items() if v in refit}
        bounds = result.options.get("bounds") or {}
        self.bounds = {k: v for k, v in bounds.items() if k in refit}
        self.objective = {"loss": result.options.get("loss", "huber"),
                          "delta": result.options.get("delta", 1e-3)}

    def _fitter(self, params: Mapping):
        """The fitter of the refitted parameters with the others held at ``params``, and
        the indices of its free parameters in the law's order."""
        from ..fitting.estimator import LawFitter

        names = self.law.param_names
        fixed = {n: float(params[n]) for n in names
                 if n not in self.refit and n not in self.tied}
        fitter = LawFitter(self.bound, space="log", fixed=fixed, tied=self.tied,
                           bounds=self.bounds, **self.objective)
        return fitter, [names.index(n) for n in fitter.free]  # == self.refit, law's order

    def __call__(self, params: Mapping, weights=None, start: Mapping | None = None,
                 target=None):
        """``(params with the refitted values, converged)``: from ``start``'s values of
        the refitted parameters (default ``params``'), on ``target`` (default the run's
        logged losses)."""
        from ..fitting.polish import polish
        from ..fitting.estimator import GRADIENT_TOLERANCE

        law, names = self.law, self.law.param_names
        fitter, free = self._fitter(params)
        origin = law.to_internal(law.params_vector({**params, **(start or {})}))[free]
        origin = np.clip(origin, fitter.lower, fitter.upper)
        target = self.target if target is None else target
        x, _, _, gradient = polish(fitter.array_residual_function(self.inputs, target),
                                   origin, fitter.loss, fitter.lower, fitter.upper,
                                   weights=weights)
        full = law.to_public(fitter._expand(x[None, :]))[0]
        return dict(zip(names, map(float, full))), bool(gradient <= GRADIENT_TOLERANCE)

    def linearized(self, params: Mapping, final_sums):
        """At refitted ``params``: the derivatives of the run's log fit with respect to the
        refitted (internal) parameters, ``(n, q)``, and the linear map from the run's log
        noise to the final loss through the refit, ``g (J'J)^-1 J'`` (Gauss-Newton; ties
        followed)."""
        law = self.law
        fitter, free = self._fitter(params)
        theta = law.to_internal(law.params_vector(params))
        x = theta[free][None, :]
        _, jac = fitter.array_residual_function(self.inputs, self.target)(x)
        design = jac[0].T
        _, final_jac = law.evaluate(fitter._expand(x), final_sums)
        gradient = fitter._contract(final_jac)[0][:, 0]
        target = gradient @ np.linalg.pinv(design)  # (J'J)^-1 J', safe if J'J is singular
        return design, target

    def fitted(self, params: Mapping) -> np.ndarray:
        """The law's loss at the run's points at ``params``."""
        return self.law.predict(params, self.sums)

    def residuals(self, params: Mapping) -> np.ndarray:
        """Log residuals of the run's points at ``params``."""
        return np.log(self.law.predict(params, self.sums)) - np.log(self.target)


def interval_attrs(level: float, n_draws: int, resampling: str, of: str) -> dict:
    """What a curve table's bootstrap intervals are, as its ``attrs``: a two-sided
    confidence interval (parameter uncertainty) ``of`` a quantity of the law, not a
    prediction interval for one noisy logged loss."""
    return {"interval": "confidence", "method": "bootstrap percentile",
            "confidence_level": float(level), "n_draws": int(n_draws),
            "resampling": resampling, "of": of}


def predict_final(result, curves: Curves, *, refit=("L0",), schedules=None, draws=None,
                  confidence_level: float | None = None, run_noise: str | None = None,
                  block_length: int | None = None, rng=None):
    """Where each run of ``curves`` (part-way through) ends, by ``result``'s law.

    For each run, the parameters in ``refit`` are fitted on the run's points so far, by
    the fit's own objective (loss, delta, bounds; a parameter tied to a refitted one
    follows it), the others held at ``result``'s values (``refit=()`` refits nothing),
    and the law predicts the loss at the last step of the run's LR array (attach the
    *planned* schedule with ``curves.with_schedules`` or give ``schedules``).

    Parameters
    ----------
    result : CurveFitResult
        The law, fitted on *other* runs (finished ones).
    curves : Curves
        The runs part-way through.
    refit : str or tuple of str
        Parameters refitted on each run's own points (default ``("L0",)``: a run-specific
        offset, e.g. another data mix); not ones the fit fixed or tied.
    schedules : mapping, optional
        Run id -> planned :class:`~scalinglaws.laws.schedules.Schedule` or LR array.
    draws : CurveBootstrap, None or False, optional
        Bootstrap draws of ``result`` (:func:`~scalinglaws.uncertainty.curves.bootstrap_curves`
        on the curves it was fitted on). With them each run gets a percentile interval of its
        final loss: for every draw, the draw's parameters, with ``refit`` refitted on a
        pseudo-run carrying redrawn noise (``run_noise``), predict the final loss. The
        interval holds both the law's uncertainty and the noise of the run's points so far;
        it is an interval for the law's final loss, not for one noisy logged value (README:
        its coverage in simulations).
    confidence_level : float, optional
        Default: the draws'.
    run_noise : {"ar1", "blocks"}, optional
        How the run's noise is redrawn for the draws' refits. ``"ar1"`` (the default): the
        run's fitted curve times ``exp`` of a log-noise series from a studentized AR(1)
        sieve bootstrap of its residuals, the AR coefficient bias-corrected for a short
        series (:func:`~scalinglaws.uncertainty.run_noise.ar1_noise_draws`). ``"blocks"``
        (the default when ``block_length`` is given): moving-block resamples of the run's
        own points, blocks as ``bootstrap_curves`` sizes them; with a part-way run's few
        correlated points they understate its noise (README), so it is kept for
        comparison and for runs long enough for many blocks.
    block_length : int, optional
        Points per block of the run's resamples (``run_noise="blocks"``; default: from its
        residuals).
    rng : None, int or Generator
        For the runs' resamples: each run's are seeded by ``rng`` and its run id, so the
        same seed gives the same interval for a run whatever other runs are in ``curves``.

    Returns
    -------
    DataFrame
        ``run_id``, ``last_logged_step``, ``last_logged_loss``, ``final_step``,
        ``final_loss``, the refitted values (``refit_<name>``) and, with ``draws``,
        ``final_low``, ``final_high``, ``n_draws`` (the draws whose refit converged; the
        others are left out and announced with ``ConvergenceWarning``), ``block_length``
        (points per block of the run's resamples; 0 unless ``run_noise="blocks"`` and
        something is refitted) and ``noise_ar1`` (the bias-corrected AR(1) coefficient of
        the run's residuals; NaN unless ``run_noise="ar1"`` and something is refitted).
        With draws, ``attrs`` say what the interval is (``interval``, ``method``,
        ``confidence_level``, ``resampling`` of the law's draws, ``run_points`` for the
        run's noise...).

    Examples
    --------
    >>> from scalinglaws.fitting.curves import fit_curves
    >>> from scalinglaws.laws.curve_synthetic import default_schedules, synthetic_curves
    >>> from scalinglaws.uncertainty.curves import bootstrap_curves
    >>> schedules = default_schedules()
    >>> wsd = schedules.pop("wsd")
    >>> finished, truth = synthetic_curves("momentum", schedules=schedules, rng=0,
    ...                                    noise=0.001, autocorrelation=0.7)
    >>> law = fit_curves(finished, "momentum")
    >>> draws = bootstrap_curves(law, finished, 40, rng=0)
    >>> run, _ = synthetic_curves("momentum", truth, schedules={"new": wsd}, rng=1,
    ...                           noise=0.001, autocorrelation=0.7)
    >>> table = predict_final(law, run.truncate(0.5), draws=draws, rng=0)
    >>> row = table.iloc[0]
    >>> bool(row.final_low < row.final_loss < row.final_high), int(row.n_draws)
    (True, 40)
    >>> table.attrs["run_points"][:33]
    'studentized AR(1) sieve bootstrap'
    """
    import pandas as pd

    result = _check_result(result)
    if not isinstance(curves, Curves):
        raise InputError(f"`curves` must be Curves, got {type(curves).__name__}")
    refit = _check_refit(result, refit)
    if confidence_level is not None:
        confidence_level = check_confidence_level(confidence_level)
    if block_length is not None:
        block_length = check_int("block_length", block_length, 1)
    if run_noise is None:
        run_noise = "ar1" if block_length is None else "blocks"
    run_noise = check_choice("run_noise", run_noise, RUN_NOISE)
    if block_length is not None and run_noise != "blocks":
        raise InputError('`block_length` sizes the blocks of run_noise="blocks"; '
                         f"run_noise={run_noise!r} has none")
    entropy = _seed_entropy(rng)
    draws = curve_draws(draws, result)
    if draws is not None:
        level = draws.confidence_level if confidence_level is None else confidence_level
    if schedules:
        curves = curves.with_schedules(schedules)
    unplanned = [run for run in curves.runs if run not in curves.schedules]
    if unplanned:
        # without the planned schedule the LR array ends at the last logged step, and the
        # "final" loss would be the loss there, not at the run's end
        raise InputError(f"run {unplanned[0]!r} has no planned schedule: predict_final needs "
                         "the LR the run will follow to its end; attach it with "
                         "curves.with_schedules({run: schedule}) or give `schedules` "
                         f"({len(unplanned)} of {counted(len(curves.runs), 'run')} without one)")
    rows = []
    for run in curves.runs:
        part = curves.select([run])
        params = dict(result.params)
        # a run with no more points than refitted parameters keeps the law's values
        run_refit = refit if len(part) > len(refit) else ()
        if refit and not run_refit:
            warnings.warn(f"predict_final: run {run!r} has {len(part)} point(s), no more than "
                          f"the {len(refit)} refitted parameter(s): it keeps the law's "
                          f"{', '.join(refit)}", ScalingLawsWarning, stacklevel=2)
        refitter = _RunRefit(result, part, run_refit) if run_refit else None
        if refitter is not None:
            params, converged = refitter(params)
            if not converged:
                warnings.warn(f"predict_final: the refit of {', '.join(run_refit)} on run "
                              f"{run!r} did not reach a stationary point", ConvergenceWarning,
                              stacklevel=2)
        final_step = len(part.lr_array(run)) - 1
        final_sums = _final_sums(result, part)
        final = _final_losses(result.law, final_sums, np.array(
            [[params[n] for n in result.law.param_names]]))
        steps = part.steps(run)
        row = {"run_id": run, "last_logged_step": int(steps[-1]),
               "last_logged_loss": float(part.loss(run)[-1]),
               "final_step": final_step, "final_loss": float(final[0]),
               **{f"refit_{p}": params[p] for p in refit}}
        if draws is not None:
            finals, length, coefficient = _final_draws(
                result, part, final_sums, params, refitter, draws, run_noise, block_length,
                _run_generator(entropy, run))
            low, high = draws.percentile_ends(finals, level) if finals.size else \
                (np.nan, np.nan)
            row.update(final_low=float(low), final_high=float(high), n_draws=int(finals.size),
                       block_length=length, noise_ar1=coefficient)
        rows.append(row)
    frame = pd.DataFrame(rows)
    if draws is not None:  # what the interval is, for whoever reads a file of the table
        frame.attrs.update(interval_attrs(level, draws.n_draws, draws.method,
                                          "the law's final loss"),
                           refit=list(refit),
                           run_points=RUN_POINTS[run_noise] if refit else "")
    return frame


def _final_sums(result, part: Curves):
    """The law's sums at the last step of ``part``'s one run (its planned schedule's end)."""
    law = result.law
    run = part.runs[0]
    lr = part.lr_array(run)
    inputs = {}
    if isinstance(law, SizeScaled):
        inputs["N"] = float(part.run_value(run, "N"))
    return law.make_sums([lr], [[len(lr) - 1]], point_inputs=inputs,
                         quadrature=result.options.get("quadrature"))


def _final_losses(law, sums, public: np.ndarray) -> np.ndarray:
    """The loss at the one point of ``sums`` for each row of public parameters."""
    values, _ = law.evaluate(law.to_internal(public), sums)
    return values[:, 0]


def _final_draws(result, part: Curves, final_sums, params: dict, refitter, draws,
                 run_noise: str, block_length, rng):
    """The final loss of ``part``'s one run (at ``final_sums``) under every draw of the
    law: the draw's parameters with ``refitter``'s parameters refitted (from the run's
    point estimate ``params``) on the run's noise redrawn by ``run_noise``: a pseudo-run
    from :func:`~scalinglaws.uncertainty.run_noise.ar1_noise_draws` (``"ar1"``) or a
    moving-block resample of its points (``"blocks"``). Draws whose refit does not reach
    a stationary point are left out and announced. Returns the final losses, the block
    length (0 unless blocks) and the bias-corrected AR(1) coefficient (NaN unless
    ``"ar1"``)."""
    from ..uncertainty.curves import block_counts, residual_block_length
    from ..uncertainty.run_noise import ar1_noise_draws

    names = result.law.param_names
    public = np.array(draws.draws, dtype=float)
    ok = np.ones(len(public), dtype=bool)
    length, coefficient = 0, float("nan")
    if refitter is not None:
        n = len(refitter.target)
        counts = targets = None
        if run_noise == "blocks":
            length = min(block_length or residual_block_length(refitter.residuals(params), n),
                         n)
            counts = block_counts(n, length, len(public), rng)
        elif n < len(refitter.refit) + 3:
            # too few points left over to estimate an AR(1): the draws are refitted on the
            # run itself, and the interval lacks the run's noise
            warnings.warn(f"predict_final: run {part.runs[0]!r} has {n} point(s), too few "
                          f"beyond the {len(refitter.refit)} refitted parameter(s) to estimate "
                          "its noise: its interval holds the law's uncertainty only",
                          CurveResamplingWarning, stacklevel=3)
        else:
            design, target = refitter.linearized(params, final_sums)
            # residuals as noise: log loss - log fit
            noise = ar1_noise_draws(-refitter.residuals(params), design, len(public),
                                    target=target, rng=rng)
            coefficient = noise.coefficient
            targets = refitter.fitted(params) * np.exp(noise.draws)
        start = {p: params[p] for p in refitter.refit}
        for k in range(len(public)):
            refitted, ok[k] = refitter(
                dict(zip(names, public[k])), start=start,
                weights=None if counts is None else counts[k],
                target=None if targets is None else targets[k])
            public[k] = [refitted[name] for name in names]
        failed = int(np.sum(~ok))
        if failed:
            warnings.warn(f"predict_final: the refit of {', '.join(refitter.refit)} on run "
                          f"{part.runs[0]!r} did not converge for {failed} of {len(public)} "
                          "draws; they are left out of its interval", ConvergenceWarning,
                          stacklevel=3)
    return _final_losses(result.law, final_sums, public[ok]), int(length), coefficient
