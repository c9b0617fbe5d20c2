r"""Can a task's accuracy be predicted from the ladder? A verdict per task, with its reason.

Two measurements from the ladder alone, before any target is trained:

* **a rollout inside the ladder**: the same two-step procedure fitted on the smallest rungs
  (sizes N) predicts the runs of the largest rung; its mean absolute error, in accuracy
  points, is how well the procedure extrapolates on this task. By default the fit keeps
  the smallest half of the rungs (at least two), the deepest rollout the ladder allows: a
  target is usually an order of magnitude beyond the ladder, so the deepest rollout is the
  closest analogue.
* **checkpoint-to-checkpoint noise**: the standard deviation of accuracy between
  neighbouring checkpoints near the end of each fitted run (successive differences over
  sqrt 2, so a trend does not count as noise), pooled over runs, in accuracy points.

The verdict, with ``tolerance`` (default 2 points: the ladder paper's claim of "within 2
points"):

* **predictable**: the rollout's error is within the tolerance;
* **noisy**: it is not, but the noise is at least half the rollout's error (the miss is
  the size of the scatter between checkpoints), or the noise of a target's
  ``target_window``-checkpoint mean alone is above half the tolerance;
* **not predictable**: the rollout misses by more than the tolerance and by more than
  twice the noise: a systematic error of the procedure on this task.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from .._exceptions import InputError
from .._validation import check_finite, check_int
from ..data.tasks import TaskTable
from .downstream import fit_downstream, observed, preset_with
from .downstream_preset import DownstreamPreset

__all__ = ["Verdict", "predictability", "checkpoint_noise", "VERDICTS"]

VERDICTS = ("predictable", "noisy", "not predictable")


@dataclass(frozen=True)
class Verdict:
    """The predictability of one task. Frozen.

    Attributes
    ----------
    task : str
    verdict : {"predictable", "noisy", "not predictable"}
    reason : str
        One sentence with the numbers behind the verdict.
    rollout_error : float
        Mean absolute error of the rollout's chained accuracy on the held-out rung, in
        points.
    rollout_bias : float
        Mean signed error (predicted - observed), in points.
    rollout_loss_error : float
        Mean relative error of the rollout's step-1 task loss, in percent (signed).
    noise : float
        Checkpoint-to-checkpoint standard deviation of accuracy, in points.
    tolerance : float
    fit_sizes : tuple of float
        The rungs (N) the rollout fitted.
    held_out_size : float
        The rung it predicted.
    notes : tuple of str
        Warnings raised by the rollout's fits.
    """

    task: str
    verdict: str
    reason: str
    rollout_error: float
    rollout_bias: float
    rollout_loss_error: float
    noise: float
    tolerance: float
    fit_sizes: tuple
    held_out_size: float
    notes: tuple = ()

    def to_dict(self) -> dict:
        return {"task": self.task, "verdict": self.verdict, "reason": self.reason,
                "rollout_error": self.rollout_error, "rollout_bias": self.rollout_bias,
                "rollout_loss_error": self.rollout_loss_error, "noise": self.noise,
                "tolerance": self.tolerance, "fit_sizes": list(self.fit_sizes),
                "held_out_size": self.held_out_size}


def checkpoint_noise(table: TaskTable, task: str, last: int = 10) -> float:
    """Standard deviation of accuracy between neighbouring checkpoints, in points.

    For each run, the successive differences of its last ``last`` checkpoints' accuracy,
    divided by sqrt 2 (two independent noises per difference); the root mean square over
    all differences of all runs.
    """
    last = check_int("last", last, 2)
    rows = table.only(tasks=[task]).frame
    squares = []
    for _, run in rows.groupby("run_id", sort=False):
        values = run["accuracy"].to_numpy(dtype=float)[-last:]
        if values.size >= 2:
            squares.append(np.diff(values) ** 2 / 2.0)
    if not squares:
        return math.nan
    return 100.0 * float(np.sqrt(np.mean(np.concatenate(squares))))


def _size(n: float) -> str:
    return f"{n / 1e9:.3g}B" if n >= 1e9 else f"{n / 1e6:.3g}M"


def _classify(error: float, noise: float, window: int, tolerance: float) -> tuple[str, str]:
    window_noise = noise / math.sqrt(window)
    if not math.isfinite(error):
        return "not predictable", "the rollout's fits gave no finite prediction"
    if error <= tolerance and window_noise <= tolerance / 2:
        return "predictable", f"within the {tolerance:g}-point tolerance"
    if window_noise > tolerance / 2:
        return "noisy", (f"the noise of a {window}-checkpoint mean ({window_noise:.2f} points) "
                         f"is above half the tolerance")
    if noise >= error / 2:
        return "noisy", f"a miss of the size of the checkpoint noise ({noise:.2f} points)"
    return "not predictable", (f"a systematic miss, {error / max(noise, 1e-12):.1f} times the "
                               f"checkpoint noise ({noise:.2f} points)")


def predictability(table: TaskTable, preset: DownstreamPreset | None = None, *, tasks=None,
                   tolerance: float = 2.0, fit_rungs: int | None = None,
                   noise_checkpoints: int = 10, **overrides) -> dict:
    """A :class:`Verdict` per task, from a rollout inside the ladder and checkpoint noise.

    Parameters
    ----------
    table : TaskTable
        Every checkpoint of the ladder (the preset's ``fit_runs`` picks the ladder).
    preset : DownstreamPreset, optional
        The procedure to judge (default :data:`~scalinglaws.analysis.downstream_preset.LADDER`), with
        ``**overrides`` as in :func:`~scalinglaws.analysis.downstream.fit_downstream`.
    tasks : sequence of str, optional
    tolerance : float
        Accuracy points: the error a prediction may make (default 2, the ladder paper's).
    fit_rungs : int, optional
        How many of the smallest rungs the rollout fits (default: half of the rungs, at
        least 2); it predicts the largest rung.
    noise_checkpoints : int
        Checkpoints at the end of each run that measure the noise.

    Returns
    -------
    dict of str to Verdict
    """
    tolerance = check_finite("tolerance", tolerance, minimum=0.0)
    if tolerance <= 0:
        raise InputError("`tolerance` must be positive (accuracy points)")
    preset = preset_with(preset, **overrides)
    if isinstance(tasks, str):
        tasks = (tasks,)
    tasks = tuple(tasks if tasks is not None else (preset.tasks or table.tasks))
    rows = preset.prepare(table, tasks)
    if preset.fit_runs:
        rows = rows.query(preset.fit_runs)
    rows = rows.only(tasks=list(tasks))
    rungs = np.unique(rows.frame["N"].to_numpy(dtype=float))
    if rungs.size < 3:
        raise InputError(f"a rollout needs at least 3 sizes N among the fitted runs (2 to fit, "
                         f"1 to predict); found {rungs.size}")
    keep = max(2, rungs.size // 2) if fit_rungs is None else check_int("fit_rungs", fit_rungs, 2)
    if keep >= rungs.size:
        raise InputError(f"`fit_rungs`={keep} leaves no rung to predict ({rungs.size} sizes)")
    fit_sizes, largest = rungs[:keep], rungs[-1]
    frame = rows.frame
    train = rows.select(frame["N"].isin(fit_sizes).to_numpy())
    held = [run for run in rows.run_ids
            if float(frame.loc[frame["run_id"] == run, "N"].iloc[0]) == largest]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rollout = fit_downstream(train, preset, tasks=tasks, fit_runs=None)
    notes = tuple(str(w.message) for w in caught)
    window = max(1, preset.target_window)
    out = {}
    for task in tasks:
        fit = rollout[task]
        errors, loss_errors = [], []
        for run in held:
            seen = observed(rows, run, task, window)
            errors.append(100.0 * (float(fit.predict(seen["N"], seen["D"])) - seen["accuracy"]))
            if "task_loss" in seen:
                loss_errors.append(100.0 * (float(fit.predict_loss(seen["N"], seen["D"]))
                                            / seen["task_loss"] - 1.0))
        error = float(np.mean(np.abs(errors)))
        noise = checkpoint_noise(rows, task, noise_checkpoints)
        verdict, why = _classify(error, noise, window, tolerance)
        sizes = "+".join(_size(n) for n in fit_sizes)
        reason = (f"{why}: fitted on {sizes}, the procedure misses the {_size(largest)} runs "
                  f"by {error:.1f} points (mean |error|; bias {np.mean(errors):+.1f}, task "
                  f"loss {np.mean(loss_errors) if loss_errors else math.nan:+.1f}%); "
                  f"checkpoint noise {noise:.2f} points")
        out[task] = Verdict(task=task, verdict=verdict, reason=reason, rollout_error=error,
                            rollout_bias=float(np.mean(errors)),
                            rollout_loss_error=float(np.mean(loss_errors)) if loss_errors
                            else math.nan, noise=noise, tolerance=tolerance,
                            fit_sizes=tuple(float(n) for n in fit_sizes),
                            held_out_size=float(largest),
                            notes=tuple(n for n in notes if task in n))
    return out
