"""What users ask of a fitted curve law: scores, the curve of any schedule, the final loss
of a run part-way through, and "anytime" scaling points.

* :func:`curve_scores`: per-curve R², MAE, RMSE, PredE = mean |L - L_hat| / L and
  WorstE = max |L - L_hat| / L, on the loss (not its log), as Luo et al. (2025) score.
* :func:`predict_curve`: the predicted loss at every step of a schedule not yet trained,
  with a bootstrap band when draws are given.
* :func:`predict_final` (from :mod:`.curve_final`): where runs that are part-way through
  will end: the law fitted on other runs, with ``refit`` parameters (default ``L0``, a
  run-specific offset) refitted on each run's points so far, predicts its loss at the
  last step of its schedule; with bootstrap draws of the law, a percentile interval that
  also redraws the run's own noise (an AR(1) sieve bootstrap of its residuals, or moving
  blocks).
* :func:`anytime_points`: points of the curves that can stand for a separately trained
  run, as a table of runs for :func:`scalinglaws.fit`: the end of every LR decay
  (Hägele et al. 2024 cool a constant-LR run down from several checkpoints), the final
  point of every run, or every point of a constant-LR phase with the loss the law predicts
  after a short cooldown there.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass

import numpy as np

from .._exceptions import ExtrapolationWarning, InputError, user_stacklevel
from .._validation import FrozenOnUnpickle, check_choice, check_confidence_level, check_positive
from ..data.curves import Curves
from ..laws.curve_laws import prediction_inputs
from .curve_final import _check_result, curve_draws, interval_attrs, predict_final

__all__ = [
    "CurvePrediction",
    "anytime_points",
    "curve_scores",
    "predict_curve",
    "predict_final",
]


_COOLED_ELEMENTS = 1 << 21  # LR steps of the cooled runs predicted at a time (16 MB)
#: :func:`predict_curve` warns for a schedule longer than this many times the longest
#: fitted curve (its last logged step), or a peak LR this many times above the largest
#: fitted peak or below the smallest: the MPL paper's checks (Luo et al. 2025) predict
#: at most a few times the fitted length, at the fitted sizes' tuned peak LRs
FAR_LONGER = 4.0
FAR_PEAK_LR = 2.0
#: ... or a model size this many times outside the fitted curves' sizes (a law of N: a
#: size-scaled law's power laws, measured on its fitted sizes only)
FAR_SIZE = 10.0


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
    n_draws : int
        Bootstrap draws the band rests on (0 without one).
    resampling : str
        What the bootstrap resampled (``"blocks"``, ``"curves"``, ``"points"``).
    """

    steps: np.ndarray
    lr: np.ndarray
    loss: np.ndarray
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    confidence_level: float | None = None
    n_draws: int = 0
    resampling: str = ""

    def to_frame(self):
        """A DataFrame with columns step, lr, loss (and low, high); with a band, its
        ``attrs`` say what it is (``interval``, ``method``, ``confidence_level``...), so a
        file written from the table says it too."""
        import pandas as pd

        table = {"step": self.steps, "lr": self.lr, "loss": self.loss}
        if self.low is not None:
            table.update(low=self.low, high=self.high)
        frame = pd.DataFrame(table)
        if self.low is not None:
            frame.attrs.update(interval_attrs(self.confidence_level, self.n_draws,
                                              self.resampling, "the law's curve"))
        return frame


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
                  confidence_level: float | None = None,
                  tokens_per_step: float | None = None) -> CurvePrediction:
    """The loss ``result``'s law predicts at ``steps`` (default: 101 steps evenly from the end
    of warmup to the last step) of ``schedule`` (a :class:`~scalinglaws.laws.schedules.Schedule` or an LR
    array); ``N`` for a size-scaled law. With ``draws`` (a
    :class:`~scalinglaws.uncertainty.curves.CurveBootstrap`), ``low``/``high`` are the
    percentile band of the draws' curves at ``confidence_level`` (default: the draws');
    ``draws=None`` (default) or ``False`` gives no band.
    A user-defined law (:func:`~scalinglaws.laws.curve_custom.define_curve_law`) of the
    feature ``N`` takes ``N`` too, and one of ``tokens`` takes ``tokens_per_step`` (tokens
    at step t = t × tokens_per_step, as :func:`~scalinglaws.data.curves.load_curves`
    derives steps from tokens).

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
    inputs = prediction_inputs(result.law, steps, N=N, tokens_per_step=tokens_per_step)
    law = result.law
    sums = law.make_sums([lr], [steps], point_inputs=inputs,
                         quadrature=result.options.get("quadrature"))
    loss = law.predict(result.params, sums)
    _warn_outside(result, lr, steps, loss, inputs.get("N"))
    low = high = None
    level = None
    draws = curve_draws(draws)  # None or False: no intervals
    if draws is not None:
        level = draws.confidence_level if confidence_level is None else \
            check_confidence_level(confidence_level)
        theta = law.to_internal(draws.draws)
        curves, _ = law.evaluate(theta, sums)
        low, high = draws.percentile_ends(curves, level)
    return CurvePrediction(steps=steps, lr=lr[steps], loss=loss, low=low, high=high,
                           confidence_level=level,
                           n_draws=0 if draws is None else int(draws.n_draws),
                           resampling="" if draws is None else str(draws.method))


def _warn_outside(result, lr: np.ndarray, steps: np.ndarray, loss: np.ndarray,
                  N=None) -> None:
    """An :class:`~scalinglaws.ExtrapolationWarning` when the schedule is more than
    :data:`FAR_LONGER` times longer than the fitted curves, its peak LR more than
    :data:`FAR_PEAK_LR` times outside their peaks, or the model size ``N`` (a law of N)
    more than :data:`FAR_SIZE` times outside theirs (fits made before the range was kept,
    and given parameters, have none: no warning)."""
    fitted = (result.diagnostics or {}).get("fitted_range") or {}
    reasons = []
    if N is not None and "N" in fitted:
        size, (low, high) = float(np.max(N)), fitted["N"]
        if size > FAR_SIZE * high or size * FAR_SIZE < low:
            reasons.append(f"a model size N = {size:.3g}, outside the fitted curves' sizes "
                           f"({low:.3g} to {high:.3g}) by more than {FAR_SIZE:g}x")
    if "steps" in fitted and len(lr) - 1 > FAR_LONGER * fitted["steps"][1]:
        reasons.append(f"{len(lr) - 1} steps, {(len(lr) - 1) / fitted['steps'][1]:.3g}x the "
                       f"longest fitted curve ({fitted['steps'][1]:.0f} steps)")
    if "peak_lr" in fitted:
        peak, (low, high) = float(np.max(lr)), fitted["peak_lr"]
        if peak > FAR_PEAK_LR * high or peak * FAR_PEAK_LR < low:
            reasons.append(f"a peak LR of {peak:.3g}, outside the fitted curves' peaks "
                           f"({low:.3g} to {high:.3g}) by more than {FAR_PEAK_LR:g}x")
    if not reasons:
        return
    after = np.asarray(steps) >= int(np.argmax(lr))  # past warmup the loss should fall
    rise = ""
    if np.count_nonzero(after) > 1:
        later = np.asarray(loss)[after]
        i = int(np.argmax(later - np.minimum.accumulate(later)))
        j = int(np.argmin(later[:i + 1]))
        if later[i] > later[j] * (1 + 1e-3):
            rise = (f"; the predicted loss rises during training ({later[j]:.4g} at step "
                    f"{np.asarray(steps)[after][j]} to {later[i]:.4g} at step "
                    f"{np.asarray(steps)[after][i]})")
    warnings.warn(f"predicting a curve with {' and '.join(reasons)} (warned beyond "
                  f"{FAR_LONGER:g}x the length, {FAR_PEAK_LR:g}x the peak LR, {FAR_SIZE:g}x the "
                  f"size): the law was not "
                  f"fitted there and nothing measured its error{rise}",
                  ExtrapolationWarning, stacklevel=user_stacklevel())


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
        of the steps up to there (needs ``result``). A cooled point depends only on N
        and the LR history up to it, so one whose run shares both with an earlier run
        (runs of one size that differ only later, e.g. in their decays) is the same
        value and is kept once, for the first of them.
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
    seen = set()  # cooled points already taken: (N, tokens, LR history up to the point)
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
            ends = []
            for i, s in enumerate(steps):
                if s < 2 or np.any(lr[round(s * (1 - cooldown_fraction)):s + 1] != lr[s]):
                    continue
                key = (float(curves.run_value(run, "N")), float(tokens[i]),
                       hashlib.sha1(lr[:s + 1].tobytes()).hexdigest())
                if key not in seen:  # another run's point, to the bit: counted once
                    seen.add(key)
                    ends.append(i)
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
