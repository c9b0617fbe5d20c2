r"""Bootstrap of a two-step downstream prediction, propagated to the predicted accuracy.

Step 1 (task loss of (N, D)) is fitted on one point per run; step 2 (accuracy of the task
loss) on many checkpoints of the same runs, which are not independent: neighbouring
checkpoints of a run share its noise. So a resample draws **runs** with replacement, and
each drawn run brings its step-1 point *and its whole block of step-2 checkpoints* (a
block bootstrap over runs). Both steps are refitted on the same draw of runs, each with
the engine from the full-data optimum and the other optima it found (as
:func:`~scalinglaws.uncertainty.bootstrap.bootstrap`), and the chained accuracy
``step2_b(step1_b(N, D))`` of every resample gives a percentile interval: an interval for
the *law's* prediction (parameter uncertainty), not for one more run's noisy score.

An anchor point of step 2 (the ladder's ``(0, 1)``) belongs to no run and is kept, with
weight 1, in every resample.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .._draws import check_n_resamples
from .._exceptions import ConvergenceWarning, InputError
from .._validation import FrozenOnUnpickle
from .._validation import (check_confidence_level, check_numbers, check_rng,
                           freeze_array_fields)
from ..data.runs import Runs
from ..fitting.estimator import FitResult, LawFitter
from ..laws.forms import Form
from ..laws.tasks import TASK_INPUT
from .bootstrap import _refit_chunk, _starts, resample_counts

__all__ = ["ANCHOR_RUN", "TwoStepBootstrap", "bootstrap_two_step", "draw_runs"]

#: the run name of a step-2 point that belongs to no run (kept in every resample)
ANCHOR_RUN = "<anchor>"
# engine rows (resamples x starts) times data rows times parameters per refit block: keeps
# the Jacobian of one block near 32 MB
_BLOCK_ELEMENTS = 1 << 22


@dataclass(frozen=True)
class TwoStepBootstrap(FrozenOnUnpickle):
    """Joint bootstrap draws of the two steps of one task. Frozen.

    Attributes
    ----------
    step1_form, step2_form : Form
    step1_draws, step2_draws : ndarray, shape (n_ok, p)
        Public parameters of each successful resample (fixed and tied ones included),
        columns in each form's ``param_names`` order; row ``b`` of both comes from the
        same draw of runs.
    n_resamples, n_failed : int
        Resamples drawn, and those dropped because a refit did not converge.
    confidence_level : float
    run_ids : tuple of str
        The runs resampled.
    """

    step1_form: Form
    step2_form: Form
    step1_draws: np.ndarray = field(repr=False)
    step2_draws: np.ndarray = field(repr=False)
    n_resamples: int
    n_failed: int
    confidence_level: float = 0.95
    run_ids: tuple = ()

    def __post_init__(self):
        freeze_array_fields(self, ("step1_draws", "step2_draws"))

    def predict_loss(self, N, D) -> np.ndarray:
        """Draws of the step-1 task loss at (N, D): shape ``(n_ok,) + shape of N, D``."""
        N, D = np.broadcast_arrays(check_numbers("N", N, positive=True),
                                   check_numbers("D", D, positive=True))
        theta = self.step1_form.to_internal(self.step1_draws)
        log_loss, _ = self.step1_form.log_value_and_jacobian(
            theta, {"N": N.ravel(), "D": D.ravel()})
        return np.exp(log_loss).reshape((len(theta),) + N.shape)

    def predict(self, N, D) -> np.ndarray:
        """Draws of the chained accuracy at (N, D): each resample's step 2 of its step 1."""
        loss = self.predict_loss(N, D)
        out = np.empty_like(loss)
        for b, params in enumerate(self.step2_draws):
            out[b] = self.step2_form.predict(params, **{TASK_INPUT: loss[b]})
        return out

    def interval(self, N, D, confidence_level: float | None = None, *, of: str = "accuracy"):
        """Percentile interval ``(low, high)`` of the chained accuracy (or, with
        ``of="task_loss"``, of the step-1 loss) at (N, D)."""
        level = check_confidence_level(self.confidence_level if confidence_level is None
                                       else confidence_level)
        if of not in ("accuracy", "task_loss"):
            raise InputError(f"`of` must be 'accuracy' or 'task_loss', got {of!r}")
        draws = self.predict(N, D) if of == "accuracy" else self.predict_loss(N, D)
        tail = (1.0 - level) / 2.0
        low, high = np.quantile(draws, [tail, 1.0 - tail], axis=0)
        return (low[()], high[()]) if low.ndim == 0 else (low, high)


def draw_runs(n_runs: int, n_resamples: int, rng) -> np.ndarray:
    """Multiplicity of each of ``n_runs`` runs in each resample, ``(n_resamples, n_runs)``."""
    return resample_counts(n_runs, n_resamples, check_rng("rng", rng))


def _refit(result: FitResult, inputs: Mapping, target: np.ndarray, weights: np.ndarray,
           starts: np.ndarray, max_iter: int, progress) -> tuple[np.ndarray, np.ndarray]:
    """Refit ``result``'s law for each row of ``weights``; full public draws and ok flags."""
    fitter = LawFitter.from_result(result)
    n_res, n_rows = weights.shape
    per_block = max(1, _BLOCK_ELEMENTS // (len(starts) * n_rows * max(len(fitter.free), 1)))
    draws = np.full((n_res, result.form.n_params), np.nan)
    ok = np.zeros(n_res, dtype=bool)
    for begin in range(0, n_res, per_block):
        rows = slice(begin, min(begin + per_block, n_res))
        x, _, good, _ = _refit_chunk(fitter, inputs, target, starts, weights[rows], max_iter)
        draws[rows] = result.form.to_public(fitter._expand(x))
        ok[rows] = good
        if progress is not None:
            progress.update(rows.stop - rows.start)
    return draws, ok


def bootstrap_two_step(step1: FitResult, step1_runs: Runs, step2: FitResult, step2_data: Mapping,
                       n_resamples: int = 1000, *, rng=None, counts: np.ndarray | None = None,
                       step1_weights=None,
                       run_ids=None, confidence_level: float = 0.95, extra_starts: int = 2,
                       max_iter: int = 1000, progress: bool | None = None) -> TwoStepBootstrap:
    """Bootstrap both steps of a two-step prediction over runs, jointly.

    Parameters
    ----------
    step1, step1_runs : FitResult, Runs
        The step-1 fit and its points (with a ``run_id`` column; usually one per run).
    step2, step2_data : FitResult, mapping
        The step-2 fit and its points: arrays ``task_loss``, ``accuracy`` and ``run_id``
        (a point whose run is ``"<anchor>"`` is kept in every resample).
    n_resamples : int
    rng : None, int or numpy.random.Generator
    counts : ndarray, optional
        ``(n_resamples, n_runs)`` multiplicities of the runs ``run_ids`` (from
        :func:`draw_runs`), to share one draw between tasks; drawn from ``rng`` if None.
    run_ids : sequence of str, optional
        The order of the columns of ``counts`` (default: the step-1 runs' order).
    step1_weights : array, optional
        The step-1 fit's weight of each point (they multiply the resampling counts).
    confidence_level : float
    extra_starts : int
        Grid starts added to step 1's refits (its optimum is often poorly identified).
    max_iter : int
        Iterations of the batched search per resample (step 1's small, poorly
        identified fits creep: 1,000 leaves none of 200 ladder resamples to finish one by
        one, 200 leaves a quarter).
    progress : bool, optional
        tqdm bar over resamples (default: on a terminal, for more than 200 resamples).

    Returns
    -------
    TwoStepBootstrap

    Warns
    -----
    ConvergenceWarning
        When some resamples did not converge (they are dropped and counted).
    """
    if not isinstance(step1, FitResult) or not isinstance(step2, FitResult):
        raise InputError("`step1` and `step2` must be FitResults")
    if not isinstance(step1_runs, Runs) or not step1_runs.has("run_id"):
        raise InputError("`step1_runs` must be Runs with a run_id column")
    level = check_confidence_level(confidence_level)
    step1_names = [str(r) for r in step1_runs.frame["run_id"]]
    run_ids = tuple(dict.fromkeys(step1_names) if run_ids is None else (str(r) for r in run_ids))
    index = {run: i for i, run in enumerate(run_ids)}
    missing = sorted(set(step1_names) - set(index))
    if missing:
        raise InputError(f"step-1 point of run {missing[0]!r}, which is not in `run_ids`")
    step2_runs = [str(r) for r in step2_data["run_id"]]
    unknown = sorted({r for r in step2_runs if r != ANCHOR_RUN and r not in index})
    if unknown:
        raise InputError(f"step-2 point of run {unknown[0]!r}, which has no step-1 point")
    if counts is None:
        n_resamples = check_n_resamples(n_resamples)
        counts = draw_runs(len(run_ids), n_resamples, rng)
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2 or counts.shape[1] != len(run_ids):
        raise InputError(f"`counts` must have shape (n_resamples, {len(run_ids)})")
    n_resamples = counts.shape[0]
    weights1 = counts[:, [index[r] for r in step1_names]]
    if step1_weights is not None:
        weights1 = weights1 * np.asarray(step1_weights, dtype=float)[None, :]
    column = np.array([index.get(r, -1) for r in step2_runs])
    weights2 = np.where(column >= 0, counts[:, np.maximum(column, 0)], 1.0)
    bar = _bar(progress, 2 * n_resamples)
    try:
        fitter1 = LawFitter.from_result(step1)
        starts1 = _starts(step1, fitter1, step1_runs, extra_starts)
        draws1, ok1 = _refit(step1, step1_runs.inputs(step1.form.inputs),
                             np.asarray(step1_runs.loss), weights1, starts1, max_iter, bar)
        fitter2 = LawFitter.from_result(step2)
        starts2 = _starts(step2, fitter2, None, 0)
        target2 = np.asarray(step2_data["accuracy"], dtype=float)
        draws2, ok2 = _refit(step2, {TASK_INPUT: np.asarray(step2_data["task_loss"], float)},
                             target2, weights2, starts2, max_iter, bar)
    finally:
        if bar is not None:
            bar.close()
    ok = ok1 & ok2 & np.all(np.isfinite(draws1), axis=1) & np.all(np.isfinite(draws2), axis=1)
    n_failed = int((~ok).sum())
    if n_failed:
        warnings.warn(f"{n_failed} of {n_resamples} two-step resamples did not converge and are "
                      "left out of the intervals", ConvergenceWarning, stacklevel=2)
    if ok.sum() < 2:
        raise InputError("fewer than two resamples converged; no interval can be formed")
    return TwoStepBootstrap(step1_form=step1.form, step2_form=step2.form,
                            step1_draws=draws1[ok], step2_draws=draws2[ok],
                            n_resamples=n_resamples, n_failed=n_failed,
                            confidence_level=level, run_ids=run_ids)


def _bar(progress, total: int):
    show = (sys.stderr.isatty() and total > 400) if progress is None else bool(progress)
    if not show:
        return None
    from .._progress import progress_bar as tqdm

    return tqdm(total=total, desc="two-step bootstrap", unit="refit", leave=False)
