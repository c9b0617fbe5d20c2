"""What users ask of a fitted curve law: scores, the curve of any schedule, the final loss
of a run part-way through, and "anytime" scaling points.

* :func:`curve_scores`: per-curve R², MAE, RMSE, PredE = mean |L - L_hat| / L and
  WorstE = max |L - L_hat| / L, on the loss (not its log), as Luo et al. (2025) score.
* :func:`predict_curve`: the predicted loss at every step of a schedule not yet trained,
  with a bootstrap band when draws are given.
* :func:`predict_final`: where runs that are part-way through will end: the law fitted on
  other runs, with ``refit`` parameters (default ``L0``, a run-specific offset) refitted
  on each run's points so far, predicts its loss at the last step of its schedule; with
  bootstrap draws of the law, a percentile interval that also resamples blocks of the
  run's own points.
* :func:`anytime_points`: points of the curves that can stand for a separately trained
  run, as a table of runs for :func:`scalinglaws.fit`: the end of every LR decay
  (Hägele et al. 2024 cool a constant-LR run down from several checkpoints), the final
  point of every run, or every point of a constant-LR phase with the loss the law predicts
  after a short cooldown there.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .._exceptions import ConvergenceWarning, InputError
from .._validation import (FrozenOnUnpickle, check_choice, check_confidence_level, check_int,
                           check_positive, check_rng)
from ..data.curves import Curves
from ..fitting.curves import CurveFitResult, fit_curves
from ..laws.curve_laws import SizeScaled

__all__ = [
    "CurvePrediction",
    "anytime_points",
    "curve_scores",
    "predict_curve",
    "predict_final",
]


_COOLED_ELEMENTS = 1 << 21  # LR steps of the cooled runs predicted at a time (16 MB)

def _check_result(result) -> CurveFitResult:
    if not isinstance(result, CurveFitResult):
        raise InputError(f"`result` must be a CurveFitResult (fit_curves, or "
                         f"CurveFitResult.from_params), got {type(result).__name__}")
    return result


def curve_scores(result, curves: Curves, *, quadrature=None):
    """Per-curve scores of ``result``'s law and parameters on ``curves`` (a DataFrame:
    ``run_id``, ``n_points``, ``R2``, ``MAE``, ``RMSE``, ``PredE``, ``WorstE``). Average
    the rows for Luo et al.'s per-set figures (they average per-curve scores).
    ``quadrature={"exact": True}`` scores with the exact loss-drop sums."""
    import pandas as pd

    result = _check_result(result)
    predicted = result.law.predict_curves(result.params, curves, quadrature=quadrature)
    observed = curves.frame["loss"].to_numpy(dtype=float)
    runs = curves.frame["run_id"].to_numpy()
    rows = []
    for run in curves.runs:
        mask = runs == run
        y, error = observed[mask], observed[mask] - predicted[mask]
        total = np.sum((y - y.mean()) ** 2)
        rows.append({"run_id": run, "n_points": int(mask.sum()),
                     "R2": 1.0 - np.sum(error ** 2) / total if total > 0 else float("nan"),
                     "MAE": float(np.mean(np.abs(error))),
                     "RMSE": float(np.sqrt(np.mean(error ** 2))),
                     "PredE": float(np.mean(np.abs(error) / y)),
                     "WorstE": float(np.max(np.abs(error) / y))})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class CurvePrediction(FrozenOnUnpickle):
    """A predicted learning curve.

    Attributes
    ----------
    steps, lr, loss : ndarray
        Steps, the LR used at each, the predicted loss.
    low, high : ndarray or None
        A bootstrap percentile band of the *fitted curve* (parameter uncertainty; it is
        not an interval for the noisy logged loss), when draws were given.
    confidence_level : float or None
    """

    steps: np.ndarray
    lr: np.ndarray
    loss: np.ndarray
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    confidence_level: float | None = None

    def to_frame(self):
        """A DataFrame with columns step, lr, loss (and low, high)."""
        import pandas as pd

        table = {"step": self.steps, "lr": self.lr, "loss": self.loss}
        if self.low is not None:
            table.update(low=self.low, high=self.high)
        return pd.DataFrame(table)


def _lr(schedule) -> np.ndarray:
    lr = schedule.lr_array() if hasattr(schedule, "lr_array") else schedule
    try:
        lr = np.asarray(lr, dtype=float)
    except (TypeError, ValueError):
        raise InputError("`schedule` must be a Schedule or an array of per-step LRs") from None
    if lr.ndim != 1 or len(lr) < 2 or not np.all(np.isfinite(lr)) or np.any(lr < 0):
        raise InputError("`schedule` must give a finite, non-negative LR for at least 2 steps")
    return lr


def predict_curve(result, schedule, *, steps=None, N: float | None = None, draws=None,
                  confidence_level: float | None = None) -> CurvePrediction:
    """The loss ``result``'s law predicts at ``steps`` (default: 101 steps evenly from the end
    of warmup to the last step) of ``schedule`` (a :class:`~scalinglaws.laws.schedules.Schedule` or an LR
    array); ``N`` for a size-scaled law. With ``draws`` (a
    :class:`~scalinglaws.uncertainty.curves.CurveBootstrap`), ``low``/``high`` are the
    percentile band of the draws' curves at ``confidence_level`` (default: the draws').

    Examples
    --------
    >>> from scalinglaws.fitting.curves import CurveFitResult
    >>> from scalinglaws.laws.curve_synthetic import LUO_2025_MPL
    >>> from scalinglaws.laws.schedules import Schedule
    >>> fit = CurveFitResult.from_params("mpl", LUO_2025_MPL["25M"])
    >>> wsd = Schedule.wsd(24000, 3e-4, final_lr=3e-5, decay_start=20000, warmup_steps=2160,
    ...                    decay_shape="exponential")
    >>> round(float(predict_curve(fit, wsd, steps=[23999]).loss[0]), 3)
    3.266
    """
    result = _check_result(result)
    lr = _lr(schedule)
    if steps is None:  # from the end of warmup (the first peak of the LR): a law fitted
        # on logged curves says nothing about the first steps
        first = max(int(np.argmax(lr)), 1)
        steps = np.unique(np.r_[np.linspace(first, len(lr) - 1, 101).round(), len(lr) - 1])
    steps = np.asarray(steps, dtype=np.int64)
    if steps.ndim != 1 or np.any(steps < 0) or np.any(steps >= len(lr)):
        raise InputError(f"`steps` must lie in 0 … {len(lr) - 1}")
    inputs = {}
    if isinstance(result.law, SizeScaled):
        if N is None:
            raise InputError("a size-scaled law needs N= (the model size to predict)")
        inputs["N"] = check_positive("N", N)
    law = result.law
    sums = law.make_sums([lr], [steps], point_inputs=inputs,
                         quadrature=result.options.get("quadrature"))
    loss = law.predict(result.params, sums)
    low = high = None
    level = None
    if draws is not None:
        level = draws.confidence_level if confidence_level is None else \
            check_confidence_level(confidence_level)
        theta = law.to_internal(draws.draws)
        curves, _ = law.evaluate(theta, sums)
        tail = 50 * (1 - level)
        low, high = np.nanpercentile(curves, [tail, 100 - tail], axis=0)
    return CurvePrediction(steps=steps, lr=lr[steps], loss=loss, low=low, high=high,
                           confidence_level=level)


def predict_final(result, curves: Curves, *, refit=("L0",), schedules=None, draws=None,
                  confidence_level: float | None = None, block_length: int | None = None,
                  rng=None):
    """Where each run of ``curves`` (part-way through) ends, by ``result``'s law.

    For each run, the parameters in ``refit`` are fitted on the run's points so far
    (the others held at ``result``'s values; ``refit=()`` refits nothing) and the law
    predicts the loss at the last step of the run's LR array (attach the *planned*
    schedule with ``curves.with_schedules`` or give ``schedules``).

    Parameters
    ----------
    result : CurveFitResult
        The law, fitted on *other* runs (finished ones).
    curves : Curves
        The runs part-way through.
    refit : tuple of str
        Parameters refitted on each run's own points (default ``("L0",)``: a run-specific
        offset, e.g. another data mix).
    schedules : mapping, optional
        Run id -> planned :class:`~scalinglaws.laws.schedules.Schedule` or LR array.
    draws : CurveBootstrap, optional
        Bootstrap draws of ``result`` (:func:`~scalinglaws.uncertainty.curves.bootstrap_curves`
        on the curves it was fitted on). With them each run gets a percentile interval of its
        final loss: for every draw, the draw's parameters, with ``refit`` refitted on a
        moving-block resample of the run's own points (blocks as ``bootstrap_curves`` sizes
        them, from the autocorrelation of the run's residuals), predict the final loss. The
        interval holds both the law's uncertainty and the noise of the run's points so far;
        it is an interval for the law's final loss, not for one noisy logged value.
    confidence_level : float, optional
        Default: the draws'.
    block_length : int, optional
        Points per block of the run's resamples (default: from its residuals).
    rng : None, int or Generator
        For the run's resamples; the same seed gives the same interval.

    Returns
    -------
    DataFrame
        ``run_id``, ``last_logged_step``, ``last_logged_loss``, ``final_step``,
        ``final_loss``, the refitted values (``refit_<name>``) and, with ``draws``,
        ``final_low``, ``final_high`` and ``n_draws`` (the draws whose refit converged; the
        others are left out and announced with ``ConvergenceWarning``).
    """
    import pandas as pd

    result = _check_result(result)
    refit = tuple(refit)
    unknown = [p for p in refit if p not in result.law.param_names]
    if unknown:
        raise InputError(f"`refit` names {unknown}; the law has {', '.join(result.law.param_names)}")
    if draws is not None:
        _check_draws(draws, result)
        level = draws.confidence_level if confidence_level is None else \
            check_confidence_level(confidence_level)
        if block_length is not None:
            block_length = check_int("block_length", block_length, 1)
        generator = check_rng("rng", rng)
    if schedules:
        curves = curves.with_schedules(schedules)
    unplanned = [run for run in curves.runs if run not in curves.schedules]
    if unplanned:
        # without the planned schedule the LR array ends at the last logged step, and the
        # "final" loss would be the loss there, not at the run's end
        raise InputError(f"run {unplanned[0]!r} has no planned schedule: predict_final needs "
                         "the LR the run will follow to its end; attach it with "
                         "curves.with_schedules({run: schedule}) or give `schedules` "
                         f"({len(unplanned)} of {len(curves.runs)} runs have none)")
    rows = []
    for run in curves.runs:
        part = curves.select([run])
        params = dict(result.params)
        if refit and len(part) > len(refit):
            fixed = {k: v for k, v in params.items() if k not in refit}
            fit = fit_curves(part, result.law, fixed=fixed,
                             starts={p: [params[p]] for p in refit},
                             quadrature=result.options.get("quadrature"))
            params = dict(fit.params)
        lr = part.lr_array(run)
        N = part.run_value(run, "N")
        final = CurveFitResult.from_params(result.law, params).predict(
            lr, [len(lr) - 1], N=N, quadrature=result.options.get("quadrature"))
        steps = part.steps(run)
        row = {"run_id": run, "last_logged_step": int(steps[-1]),
               "last_logged_loss": float(part.loss(run)[-1]),
               "final_step": len(lr) - 1, "final_loss": float(final[0]),
               **{f"refit_{p}": params[p] for p in refit}}
        if draws is not None:
            finals = _final_draws(result, part, params, refit if len(part) > len(refit) else (),
                                  draws, block_length, generator)
            tail = 50 * (1 - level)
            low, high = np.nanpercentile(finals, [tail, 100 - tail]) if finals.size else \
                (np.nan, np.nan)
            row.update(final_low=float(low), final_high=float(high), n_draws=int(finals.size))
        rows.append(row)
    return pd.DataFrame(rows)


def _check_draws(draws, result: CurveFitResult) -> None:
    from ..uncertainty.curves import CurveBootstrap

    if not isinstance(draws, CurveBootstrap):
        raise InputError(f"`draws` must be a CurveBootstrap (bootstrap_curves), got "
                         f"{type(draws).__name__}")
    if draws.law.name != result.law.name or any(
            not np.isclose(draws.point[name], value, rtol=1e-12, atol=0.0)
            for name, value in result.params.items()):
        raise InputError("`draws` are not draws of `result` (another law or other "
                         "parameters): bootstrap this fit with bootstrap_curves")
    if draws.n_draws == 0:
        raise InputError("`draws` hold no converged refit: no interval can rest on them")


def _final_draws(result, part: Curves, params: dict, refit: tuple, draws, block_length, rng):
    """The final loss of ``part``'s one run under every draw of the law: the draw's
    parameters with ``refit`` refitted, by the fit's objective, on a moving-block resample
    of the run's own points (from the run's point estimate ``params``). Draws whose refit
    does not reach a stationary point are left out and announced."""
    from ..fitting.engine import polish
    from ..fitting.estimator import GRADIENT_TOLERANCE, LawFitter
    from ..uncertainty.curves import block_counts, residual_block_length

    law = result.law
    quadrature = result.options.get("quadrature")
    run = part.runs[0]
    theta = law.to_internal(np.asarray(draws.draws, dtype=float))
    ok = np.ones(len(theta), dtype=bool)
    if refit:
        sums = law.prepare(part, quadrature=quadrature)
        bound = law.bind(sums)
        target = part.frame["loss"].to_numpy(dtype=float)
        inputs = {"point": np.arange(sums.n_points, dtype=float)}
        residuals = np.log(law.predict(params, sums)) - np.log(target)
        length = block_length or residual_block_length(residuals, len(target))
        counts = block_counts(len(target), length, len(theta), rng)
        index = [law.param_names.index(p) for p in refit]
        start = law.to_internal(law.params_vector(params))[index]
        objective = {"loss": result.options.get("loss", "huber"),
                     "delta": result.options.get("delta", 1e-3)}
        for k, draw in enumerate(np.asarray(draws.draws, dtype=float)):
            fixed = {n: float(v) for n, v in zip(law.param_names, draw) if n not in refit}
            fitter = LawFitter(bound, space="log", fixed=fixed, **objective)
            x, _, _, gradient = polish(fitter.array_residual_function(inputs, target), start,
                                       fitter.loss, fitter.lower, fitter.upper,
                                       weights=counts[k])
            ok[k] = gradient <= GRADIENT_TOLERANCE
            theta[k, index] = x
        failed = int(np.sum(~ok))
        if failed:
            warnings.warn(f"predict_final: the refit of {', '.join(refit)} on run {run!r} did "
                          f"not converge for {failed} of {len(theta)} draws; they are left out "
                          "of its interval", ConvergenceWarning, stacklevel=3)
    lr = part.lr_array(run)
    inputs = {}
    if isinstance(law, SizeScaled):
        inputs["N"] = float(part.run_value(run, "N"))
    final_sums = law.make_sums([lr], [[len(lr) - 1]], point_inputs=inputs,
                               quadrature=quadrature)
    values, _ = law.evaluate(theta[ok], final_sums)
    return values[:, 0]


def _decays(lr: np.ndarray, min_drop: float, min_length: float):
    """``(start, end)`` of every stretch of falling LR that lowers it by at least
    ``min_drop`` (relative) over at least ``min_length`` of the steps up to its end (a
    step drop is a second stage of training, not a cooldown)."""
    falling = np.diff(lr) < 0
    found, start = [], None
    for t, down in enumerate(falling, start=1):
        if down and start is None:
            start = t - 1
        if start is not None and (not down or t == len(lr) - 1):
            end = t if down else t - 1
            if lr[end] <= (1 - min_drop) * lr[start] and end - start >= min_length * end:
                found.append((start, end))
            start = None
    return found


def anytime_points(curves: Curves, *, kind: str = "decay_end", result=None,
                   tokens_per_step: float | None = None, min_drop: float = 0.5,
                   cooldown_fraction: float = 0.2, final_lr_fraction: float = 0.1):
    """Scaling-law points taken from curves, as :class:`~scalinglaws.data.runs.Runs`
    (``N``, ``D`` = tokens at the point, ``loss``, ``run_id``, ``step``, ``kind``).

    Parameters
    ----------
    kind : {"decay_end", "final", "cooled"}
        ``decay_end``: at the end of each gradual LR decay (over at least 1% of the steps
        up to its end) that lowers the LR by at least ``min_drop`` (relative): the last
        logged point in the decay's final 5%, or the first one after it while the LR stays
        at its end value;
        ``final``: the last point of every run; ``cooled``: every logged point of a
        constant-LR stretch, with the loss ``result``'s law predicts had the LR decayed
        linearly to ``final_lr_fraction`` of itself over the last ``cooldown_fraction``
        of the steps up to there (needs ``result``).
    tokens_per_step : float, optional
        Used when the curves have no ``tokens`` column.
    """
    from ..data.runs import load_runs

    kind = check_choice("kind", kind, ("decay_end", "final", "cooled"))
    if not curves.has("N"):
        raise InputError("anytime points need the N of every run (an N column or N=)")
    if kind == "cooled":
        result = _check_result(result)
    records = {"N": [], "D": [], "loss": [], "run_id": [], "step": [], "kind": []}
    for run in curves.runs:
        steps, loss = curves.steps(run), curves.loss(run)
        tokens = (curves.frame["tokens"].to_numpy()[curves.frame["run_id"].to_numpy() == run]
                  if curves.has("tokens") else None)
        if tokens is None:
            if tokens_per_step is None:
                raise InputError("the curves have no tokens column: give tokens_per_step")
            tokens = steps * check_positive("tokens_per_step", tokens_per_step)
        picks, values = [], []
        if kind == "final":
            picks, values = [len(steps) - 1], [loss[-1]]
        elif kind == "decay_end":
            lr = curves.lr_array(run)
            for start, end in _decays(lr, min_drop, 0.01):
                # the last logged point of the decay's final 5% (or the first after it,
                # while the LR stays at its end value)
                near = lr[end] + 0.05 * (lr[start] - lr[end])
                inside = np.flatnonzero((steps >= start) & (steps <= end) & (lr[steps] <= near))
                after = np.flatnonzero(steps > end)
                if inside.size:
                    i = int(inside[-1])
                elif after.size and np.all(lr[end:steps[after[0]] + 1] == lr[end]):
                    i = int(after[0])
                else:
                    continue
                picks.append(i)
                values.append(loss[i])
        else:
            lr = curves.lr_array(run)
            ends = [i for i, s in enumerate(steps)
                    if s >= 2 and np.all(lr[round(s * (1 - cooldown_fraction)):s + 1] == lr[s])]
            picks, values = ends, []
            # the cooled LR arrays in batches of about _COOLED_ELEMENTS steps: one per point
            # of a 72k-step run would hold 150 MB at once
            batch = []
            for k, i in enumerate(ends):
                s = int(steps[i])
                start = round(s * (1 - cooldown_fraction))
                new = lr[:s + 1].copy()
                new[start:] = np.linspace(lr[s], final_lr_fraction * lr[s], s + 1 - start)
                batch.append(new)
                if k == len(ends) - 1 or sum(map(len, batch)) >= _COOLED_ELEMENTS:
                    sums = result.law.make_sums(
                        batch, [[len(a) - 1] for a in batch],
                        point_inputs={"N": float(curves.run_value(run, "N"))},
                        quadrature=result.options.get("quadrature"))
                    values.extend(result.law.predict(result.params, sums))
                    batch = []
        for i, value in zip(picks, values):
            records["N"].append(float(curves.run_value(run, "N")))
            records["D"].append(float(tokens[i]))
            records["loss"].append(float(value))
            records["run_id"].append(run)
            records["step"].append(int(steps[i]))
            records["kind"].append(kind)
    if not records["N"]:
        raise InputError(f"no {kind} points in these curves")
    return load_runs(records)
