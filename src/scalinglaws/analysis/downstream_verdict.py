r"""Can a task's accuracy be predicted from the ladder? A verdict per task, with its reason.

Two measurements from the ladder alone, before any target is trained:

* **a rollout inside the ladder**: the same two-step procedure fitted on all but the
  largest rung (size N) predicts the runs of the largest rung; its mean absolute error,
  in accuracy points, is how well the procedure extrapolates on this task. The fit keeps
  at least three rungs: with two sizes, ``E + A / N^alpha`` has more unknowns than sizes
  and the rollout's extrapolation would be arbitrary even for data that follow the law.
* **checkpoint-to-checkpoint noise** ``sigma``: the standard deviation of accuracy between
  neighbouring checkpoints near the end of each fitted run (second differences over
  sqrt 6, so a linear trend does not count as noise), pooled over runs, in accuracy
  points. A
  target's observed value averages ``target_window`` checkpoints: its noise is
  ``sigma_w = sigma / sqrt(target_window)``.

The rollout error is split into noise and a systematic part,
``e_sys = sqrt(max(e^2 - sigma_w^2, 0))``. With a target size ``target_N`` the systematic
part is projected to the target's extrapolation, assuming it grows in proportion to the
log of the extrapolation factor: ``e_target = e_sys * ln(target_N / N_fit) / ln(N_held /
N_rollout)`` (``N_fit`` the largest fitted size, ``N_rollout`` the largest the rollout
fitted, ``N_held`` the rung it predicted; never scaled below 1). The expected miss is
``sqrt(e_target^2 + sigma_w^2)``, and with ``tolerance`` (default 2 points: the ladder
paper's "within 2 points"):

* **predictable**: the expected miss is within the tolerance;
* **noisy**: it is not, and the rollout's systematic part (before projection) is no larger
  than the checkpoint noise ``sigma``: noisy checkpoints scatter the fits as much as they
  miss;
* **not predictable**: it is not, and the systematic part is larger than the noise: the
  procedure misses on this task by more than its checkpoints scatter.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from .._exceptions import InputError
from .._validation import check_finite, check_int
from ..data.task_table import TaskTable
from .downstream import fit_downstream, fit_rows, observed, preset_with
from .downstream_preset import DownstreamPreset

__all__ = ["VERDICTS", "Verdict", "checkpoint_noise", "predictability"]

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
    expected_error : float
        The expected miss at the target (or at the held-out rung without a target), in
        points: ``sqrt(e_target^2 + sigma_w^2)``.
    scale : float
        The factor that projected the rollout's systematic error to the target (1
        without a target).
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
    expected_error: float
    scale: float
    fit_sizes: tuple
    held_out_size: float
    notes: tuple = ()

    def to_dict(self) -> dict:
        return {"task": self.task, "verdict": self.verdict, "reason": self.reason,
                "rollout_error": self.rollout_error, "rollout_bias": self.rollout_bias,
                "rollout_loss_error": self.rollout_loss_error, "noise": self.noise,
                "tolerance": self.tolerance, "expected_error": self.expected_error,
                "scale": self.scale, "fit_sizes": list(self.fit_sizes),
                "held_out_size": self.held_out_size}


def checkpoint_noise(table: TaskTable, task: str, last: int = 10) -> float:
    """Standard deviation of accuracy between neighbouring checkpoints, in points.

    For each run, the second differences ``x[t+1] - 2 x[t] + x[t-1]`` of its last ``last``
    checkpoints' accuracy, which cancel a linear trend and have variance ``6 sigma^2``
    for independent noise; the root mean square over all runs, over sqrt 6.
    """
    last = check_int("last", last, 3)
    rows = table.only(tasks=[task]).frame
    squares = []
    for _, run in rows.groupby("run_id", sort=False):
        values = run["accuracy"].to_numpy(dtype=float)[-last:]
        if values.size >= 3:
            squares.append(np.diff(values, 2) ** 2 / 6.0)
    if not squares:
        return math.nan
    return 100.0 * float(np.sqrt(np.mean(np.concatenate(squares))))


def _size(n: float) -> str:
    return f"{n / 1e9:.3g}B" if n >= 1e9 else f"{n / 1e6:.3g}M"


def _classify(error: float, noise: float, window: int, scale: float,
              tolerance: float) -> tuple[str, str, float]:
    """(verdict, why, expected miss) from the rollout's error and the noise, in points."""
    window_noise = noise / math.sqrt(window)
    if not math.isfinite(error):
        return "not predictable", "the rollout's fits gave no finite prediction", math.inf
    rollout_systematic = math.sqrt(max(error ** 2 - window_noise ** 2, 0.0))
    systematic = scale * rollout_systematic
    expected = math.hypot(systematic, window_noise)
    where = "at the target" if scale != 1.0 else "at the held-out rung"
    if expected <= tolerance:
        return ("predictable", (f"expected miss {where} {expected:.1f} points, within the "
                                f"{tolerance:g}-point tolerance"), expected)
    if noise >= rollout_systematic:
        return ("noisy", (f"expected miss {where} {expected:.1f} points; the rollout's miss "
                          f"({rollout_systematic:.1f}) is within the checkpoint noise"), expected)
    return ("not predictable", (f"expected miss {where} {expected:.1f} points, systematic: "
                                f"the rollout's miss ({rollout_systematic:.1f}) exceeds the "
                                "checkpoint noise"), expected)


def predictability(table: TaskTable, preset: DownstreamPreset | None = None, *, tasks=None,
                   target_N: float | None = None, tolerance: float = 2.0,
                   fit_rungs: int | None = None, noise_checkpoints: int = 10,
                   **overrides) -> dict:
    """A :class:`Verdict` per task, from a rollout inside the ladder and checkpoint noise.

    Parameters
    ----------
    table : TaskTable
        Every checkpoint of the ladder (the preset's ``fit_runs`` picks the ladder).
    preset : DownstreamPreset, optional
        The procedure to judge (default :data:`~scalinglaws.analysis.downstream_preset.
        LADDER`), with ``**overrides`` as in :func:`~scalinglaws.analysis.downstream.
        fit_downstream`.
    tasks : sequence of str, optional
    target_N : float, optional
        The size of the target: the rollout's systematic error is projected to its
        extrapolation factor (see the module docstring). Without it the verdict judges
        the rollout's own, shorter extrapolation.
    tolerance : float
        Accuracy points: the error a prediction may make (default 2, the ladder paper's).
    fit_rungs : int, optional
        How many of the smallest rungs the rollout fits (default: all but the largest;
        at least 3); it predicts the largest rung.
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
    rows, tasks = fit_rows(table, preset, tasks)
    rungs = np.unique(rows.frame["N"].to_numpy(dtype=float))
    if rungs.size < 4:
        raise InputError(f"a rollout needs at least 4 sizes N among the fitted runs (3 to fit, "
                         f"1 to predict); found {rungs.size}")
    keep = rungs.size - 1 if fit_rungs is None else check_int("fit_rungs", fit_rungs, 3)
    if keep >= rungs.size:
        raise InputError(f"`fit_rungs`={keep} leaves no rung to predict ({rungs.size} sizes)")
    fit_sizes, largest = rungs[:keep], rungs[-1]
    scale = 1.0
    if target_N is not None:
        target_N = check_finite("target_N", target_N, minimum=0.0)
        scale = max(1.0, math.log(target_N / rungs[-1]) / math.log(largest / fit_sizes[-1]))
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
        verdict, why, expected = _classify(error, noise, window, scale, tolerance)
        sizes = "+".join(_size(n) for n in fit_sizes)
        reason = (f"{why}: fitted on {sizes}, the procedure misses the {_size(largest)} runs "
                  f"by {error:.1f} points (mean |error|; bias {np.mean(errors):+.1f}, task "
                  f"loss {np.mean(loss_errors) if loss_errors else math.nan:+.1f}%); "
                  f"checkpoint noise {noise:.2f} points"
                  + (f"; projected x{scale:.2f} to N = {target_N:.3g}" if scale != 1 else ""))
        out[task] = Verdict(task=task, verdict=verdict, reason=reason, rollout_error=error,
                            rollout_bias=float(np.mean(errors)),
                            rollout_loss_error=float(np.mean(loss_errors)) if loss_errors
                            else math.nan, noise=noise, tolerance=tolerance,
                            expected_error=expected, scale=scale,
                            fit_sizes=tuple(float(n) for n in fit_sizes),
                            held_out_size=float(largest),
                            notes=tuple(n for n in notes if task in n))
    return out
