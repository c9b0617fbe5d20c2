r"""Two-step prediction of downstream accuracy: (N, D) -> task loss -> accuracy.

The OLMo ladder's procedure (Bhagia et al. 2024) and its variants, on a
:class:`~scalinglaws.data.task_table.TaskTable`:

1. **step 1** fits a loss law (``chinchilla`` by default; any form, ``fixed`` and ``tied``
   included) to the task loss, one point per run, with :class:`~scalinglaws.LawFitter`;
2. **step 2** fits an accuracy law of the task loss (``task_sigmoid`` by default; see
   :mod:`scalinglaws.laws.tasks`) to the runs' checkpoints, with
   :meth:`~scalinglaws.LawFitter.fit_arrays`;
3. the **chained** prediction is ``acc(N, D) = step2(step1(N, D))``.

What is fitted and how is a :class:`~scalinglaws.analysis.downstream_preset.
DownstreamPreset` (:data:`~scalinglaws.analysis.downstream_preset.LADDER` by default); any
of its fields can be overridden by keyword. :func:`fit_direct` fits the direct law instead (accuracy from (N, D) with no
task loss). :mod:`scalinglaws.analysis.downstream_predict` turns fits into prediction
tables with intervals and verdicts.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

import numpy as np

from .._exceptions import ConvergenceWarning, IdentifiabilityWarning, InputError
from .._text import named_list
from .._validation import FrozenOnUnpickle
from .._validation import FrozenDict, check_numbers, deep_freeze
from ..data.runs import Runs
from ..data.task_table import TaskTable
from ..fitting.estimator import FitResult, LawFitter
from ..laws.forms import get_form
from ..laws.tasks import STEP2_FORMS, TASK_INPUT
from .downstream_preset import LADDER, DownstreamPreset

__all__ = [
    "DirectFit",
    "DownstreamFit",
    "TaskFit",
    "fit_direct",
    "fit_downstream",
    "observed",
    "preset_with",
]


def preset_with(preset: DownstreamPreset | None = None, **overrides) -> DownstreamPreset:
    """``preset`` (default :data:`LADDER`) with some fields replaced; unknown names raise."""
    preset = LADDER if preset is None else preset
    if not isinstance(preset, DownstreamPreset):
        raise InputError(f"`preset` must be a DownstreamPreset such as LADDER, got "
                         f"{type(preset).__name__}")
    known = {f.name for f in fields(DownstreamPreset)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise InputError(f"unknown option {unknown[0]!r}; the options are the fields of "
                         f"DownstreamPreset: {', '.join(sorted(known - {'name'}))}")
    return replace(preset, **overrides) if overrides else preset


def _fit_quietly(fit, what: str, notes: list):
    """Run a fit, keeping its warnings as notes (announced once per task by the caller)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fit()
    for warning in caught:
        if issubclass(warning.category, Warning):
            notes.append(f"{what}: {warning.message}")
    return result


def _trouble(result: FitResult, ceiling_ok: bool) -> str | None:
    """What is wrong with a fit, or None. A step-2 ceiling on its bound of 1 is the anchor
    point (accuracy 1 at zero loss) doing its job, not trouble."""
    if result.status >= 2:
        return result.message
    bounds = [name for name in result.at_bounds
              if not (ceiling_ok and name in ("b", "ceiling"))]
    if bounds:
        return f"optimum on a bound for {', '.join(bounds)}"
    return None


def _announce(task: str, what: str, result: FitResult, *, ceiling_ok: bool) -> None:
    """One warning per fit in trouble, naming the task (the fit's own were kept as notes)."""
    problem = _trouble(result, ceiling_ok)
    if problem:
        warnings.warn(f"{task}: {what} ({result.form.name}): {problem}", ConvergenceWarning,
                      stacklevel=5)
    diagnostics = result.diagnostics or {}
    if not diagnostics.get("identifiable", True):
        warnings.warn(f"{task}: {what} ({result.form.name}): the points cannot separate the "
                      f"parameters (condition number {diagnostics['condition_number']:.3g})",
                      IdentifiabilityWarning, stacklevel=5)


@dataclass(frozen=True)
class TaskFit(FrozenOnUnpickle):
    """The two fits of one task. Frozen.

    Attributes
    ----------
    task : str
    chance : float
        The task's chance accuracy (NaN when unknown).
    step1 : FitResult
        Task loss as a function of (N, D).
    step2 : FitResult
        Accuracy as a function of the task loss.
    step1_runs : Runs
        The points step 1 fitted (loss = task loss), one per run.
    step2_data : mapping
        The points step 2 fitted: ``task_loss``, ``accuracy``, ``run_id`` (read-only
        arrays; the anchor point, if any, is the last and has run ``"<anchor>"``).
    step1_weights : ndarray or None
        The weight of each step-1 point (None: all alike).
    notes : tuple of str
        Warnings raised while fitting.
    """

    task: str
    chance: float
    step1: FitResult
    step2: FitResult
    step1_runs: Runs = field(repr=False)
    step2_data: Mapping = field(repr=False)
    step1_weights: np.ndarray | None = field(default=None, repr=False)
    notes: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "step2_data", deep_freeze(dict(self.step2_data)))
        object.__setattr__(self, "step1_weights", deep_freeze(self.step1_weights))

    def predict_loss(self, N, D) -> np.ndarray:
        """Step 1: the task loss at (N, D)."""
        return self.step1.predict(N=N, D=D)

    def predict_accuracy(self, task_loss) -> np.ndarray:
        """Step 2: the accuracy at a task loss."""
        return self.step2.form.predict(self.step2.params, **{TASK_INPUT: task_loss})

    def predict(self, N, D) -> np.ndarray:
        """The chained prediction: step 2 of step 1 at (N, D)."""
        return self.predict_accuracy(self.predict_loss(N, D))


@dataclass(frozen=True)
class DownstreamFit:
    """Two-step fits of several tasks with one preset. Frozen.

    Attributes
    ----------
    preset : DownstreamPreset
        The choices that made it.
    fits : mapping of str to TaskFit
    table : TaskTable
        The fitted runs' rows (every checkpoint, after aggregation), kept for the
        bootstrap and the verdicts.
    """

    preset: DownstreamPreset
    fits: Mapping
    table: TaskTable = field(repr=False)

    def __post_init__(self):
        object.__setattr__(self, "fits", FrozenDict(self.fits))

    @property
    def tasks(self) -> tuple:
        return tuple(self.fits)

    def __getitem__(self, task: str) -> TaskFit:
        if task not in self.fits:
            raise InputError(f"no task {task!r} in this fit; tasks: {', '.join(self.fits)}")
        return self.fits[task]

    def predict(self, N, D):
        """A table (pandas) of task, N, D, predicted task loss and chained accuracy."""
        import pandas as pd

        N = check_numbers("N", N, positive=True)
        D = check_numbers("D", D, positive=True)
        N, D = (np.ravel(a) for a in np.broadcast_arrays(N, D))
        rows = []
        for task, fit in self.fits.items():
            loss = np.atleast_1d(fit.predict_loss(N, D))
            accuracy = np.atleast_1d(fit.predict_accuracy(loss))
            rows.extend({"task": task, "N": n, "D": d, "task_loss": lo, "accuracy": acc}
                        for n, d, lo, acc in zip(N, D, loss, accuracy))
        return pd.DataFrame(rows)


def _step2_starts(form, fitter: LawFitter, x, y, chance: float, preset: DownstreamPreset):
    """The form's grid of starts (public values of the free parameters), plus the
    repository's ``(chance - 1, 0.9, 3, 1)`` when the preset asks and chance is known."""
    grid = form.to_public(form.start_grid({TASK_INPUT: x}, y))
    starts = [dict(zip(form.param_names, row)) for row in grid]
    if preset.step2_start == "chance" and math.isfinite(chance):
        repo = {"a": chance - 1.0, "x0": 0.9, "k": 3.0, "b": 1.0, "floor": chance,
                "ceiling": 1.0}
        if all(name in repo for name in fitter.free):
            starts.append(repo)
    # the engine clips starts into the bounds, so a start outside them is harmless
    return np.array([[start[name] for name in fitter.free] for start in starts], dtype=float)


def _step2_fitter(preset: DownstreamPreset, chance: float) -> LawFitter:
    options = dict(preset.step2_options)
    form = get_form(preset.step2_form)
    if form.inputs != (TASK_INPUT,):
        raise InputError(f"step2_form {form.name!r} does not take the task loss; step-2 forms: "
                         f"{', '.join(STEP2_FORMS)}")
    fixed = dict(options.pop("fixed", None) or {})
    for name, value in list(fixed.items()):
        if value == "chance":  # fixed={"floor": "chance"}: each task's own chance level
            if not math.isfinite(chance):
                raise InputError(f"step2_options fix {name!r} at the chance level, but the "
                                 "task's chance level is unknown (give chance= to load_tasks)")
            fixed[name] = chance
    return LawFitter(form, fixed=fixed or None, **options)


def _fit_task(table: TaskTable, step1_table: TaskTable, step2_table: TaskTable, task: str,
              preset: DownstreamPreset) -> TaskFit:
    notes: list = []
    chance = table.chance(task)
    runs = step1_table.to_runs(task)
    fitter1 = LawFitter(preset.step1_form, **dict(preset.step1_options))
    weights = runs.N / runs.N.max() if preset.step1_weights == "N" else None
    step1 = _fit_quietly(lambda: fitter1.fit(runs, weights=weights), "step 1", notes)
    data = step2_table.arrays(task)
    x, y, run_id = data["task_loss"], data["accuracy"], data["run_id"]
    if preset.anchor is not None:
        x = np.append(x, float(preset.anchor[0]))
        y = np.append(y, float(preset.anchor[1]))
        run_id = np.append(run_id, "<anchor>")
    fitter2 = _step2_fitter(preset, chance)
    fitter2.starts = _step2_starts(fitter2.form, fitter2, x, y, chance, preset)
    step2 = _fit_quietly(lambda: fitter2.fit_arrays({TASK_INPUT: x}, y), "step 2", notes)
    _announce(task, "step 1", step1, ceiling_ok=False)
    _announce(task, "step 2", step2, ceiling_ok=True)
    return TaskFit(task=task, chance=chance, step1=step1, step2=step2, step1_runs=runs,
                   step2_data={"task_loss": x, "accuracy": y, "run_id": run_id},
                   step1_weights=weights, notes=tuple(notes))


def fit_rows(table: TaskTable, preset: DownstreamPreset, tasks) -> tuple[TaskTable, tuple]:
    """The rows of ``tasks`` (default: the preset's, else the table's) the preset fits:
    prepared by it and restricted to its ``fit_runs``; and the tasks, as a tuple."""
    if not isinstance(table, TaskTable):
        raise InputError(f"`table` must be a TaskTable (see load_tasks), got "
                         f"{type(table).__name__}")
    if isinstance(tasks, str):
        tasks = (tasks,)
    if tasks is None and preset.tasks:
        _check_preset_tasks(table, preset)
    tasks = tuple(tasks if tasks is not None else (preset.tasks or table.tasks))
    table = preset.prepare(table, tasks)
    if preset.fit_runs:
        try:
            table = table.query(preset.fit_runs)
        except InputError as error:  # a preset's query on a user's table, most often
            raise InputError(f"fit_runs (the runs to fit, preset {preset.name!r}): {error}; to "
                             "fit every run, set fit_runs to None (on the command line "
                             "--fit-runs '')") from None
    return table.only(tasks=list(tasks)), tasks


def _check_preset_tasks(table: TaskTable, preset: DownstreamPreset) -> None:
    """The preset's tasks (its paper's), when none were chosen, must be in the table; if
    not (a user's own ladder), say to choose them, and whether the preset's fit_runs
    works on this table too."""
    def available(task):
        subsets = preset.aggregates.get(task)
        return task in table.tasks or (subsets is not None
                                       and all(name in table.tasks for name in subsets))

    missing = [task for task in preset.tasks if not available(task)]
    if not missing:
        return
    message = (f"{table.source} does not hold the tasks of preset {preset.name!r} (no "
               f"{named_list([repr(task) for task in missing], 3)}): "
               f"choose the tasks to predict with the tasks option (on the command line "
               f"--tasks TASK ...) among the table's: {named_list(table.tasks, 20)}")
    if preset.fit_runs:
        try:
            table.query(preset.fit_runs)
        except InputError:
            message += (f"; and the preset fits only the runs where {preset.fit_runs}, which "
                        "this table cannot say: to fit every run, set fit_runs to None (on "
                        "the command line --fit-runs '')")
    raise InputError(message)


def fit_downstream(table: TaskTable, preset: DownstreamPreset | None = None, *, tasks=None,
                   **overrides) -> DownstreamFit:
    """Fit the two steps of every task of ``table``.

    Parameters
    ----------
    table : TaskTable
        Every run and checkpoint (from :func:`~scalinglaws.data.tasks.load_tasks`);
        the preset's ``fit_runs`` selects the fitted runs.
    preset : DownstreamPreset, optional
        Default :data:`~scalinglaws.analysis.downstream_preset.LADDER`.
    tasks : sequence of str, optional
        The tasks to fit (default: the preset's, else every task).
    **overrides
        Fields of the preset to change, e.g. ``step1_options={"fixed": {"E": 0.5}}``,
        ``fit_runs="N < 3e9"``, ``step2_form="task_sigmoid_floor"``.

    Returns
    -------
    DownstreamFit

    Warns
    -----
    ConvergenceWarning
        Per task, when a fit did not converge or sits on a bound (other than the
        step-2 ceiling at 1, where the anchor point puts it).
    IdentifiabilityWarning
        Per task, when a fit's points cannot separate its parameters.

    Examples
    --------
    >>> from scalinglaws.laws.tasks import synthetic_task_table
    >>> table = synthetic_task_table(run_sd=0.001, rng=0)
    >>> fit = fit_downstream(table, tasks=["synthetic"], fit_runs=None)
    >>> fit["synthetic"].predict(N=7e9, D=1.4e11).round(2)
    np.float64(0.76)
    """
    preset = preset_with(preset, **overrides)
    rows, tasks = fit_rows(table, preset, tasks)
    preset = preset.used(tasks)  # recorded: the tasks fitted, not the preset's defaults
    step1_rows, step2_rows = preset.step1_table(rows), preset.step2_table(rows)
    fits = {task: _fit_task(rows, step1_rows, step2_rows, task, preset) for task in tasks}
    return DownstreamFit(preset=preset, fits=fits, table=rows)


def observed(table: TaskTable, run_id: str, task: str, window: int = 1) -> dict:
    """What a target run reached on ``task``: the mean task loss and accuracy of its last
    ``window`` checkpoints (a trailing moving average read at the end), with its N and D
    at the last checkpoint."""
    rows = table.only(tasks=[task], runs=[run_id]).last(window)
    data = rows.arrays(task)
    out = {"N": float(data["N"][0]), "D": float(data["D"][0]),
           "accuracy": float(data["accuracy"][0])}
    if "task_loss" in data:
        out["task_loss"] = float(data["task_loss"][0])
    return out


# ----------------------------------------------------------------------------- direct law


@dataclass(frozen=True)
class DirectFit:
    """The direct law of each task: ``-log acc = f(N, D)``. Frozen.

    Attributes
    ----------
    preset : DownstreamPreset
    fits : mapping of str to FitResult
        Per task, the law of ``-log(accuracy)``.
    flops_per_token : float
        The k of C = k·N·D for a law in C.
    notes : mapping of str to tuple of str
        Per task, the warnings its fit raised.
    """

    preset: DownstreamPreset
    fits: Mapping
    flops_per_token: float = 6.0
    notes: Mapping = field(default_factory=FrozenDict)

    def __post_init__(self):
        object.__setattr__(self, "fits", FrozenDict(self.fits))
        object.__setattr__(self, "notes", deep_freeze(dict(self.notes)))

    @property
    def tasks(self) -> tuple:
        return tuple(self.fits)

    def predict_task(self, task: str, N, D) -> np.ndarray:
        """The predicted accuracy of ``task`` at (N, D)."""
        if task not in self.fits:
            raise InputError(f"no task {task!r} in this fit; tasks: {', '.join(self.fits)}")
        result = self.fits[task]
        inputs = {"N": N, "D": D}
        if "C" in result.form.inputs:
            inputs["C"] = self.flops_per_token * np.asarray(N, float) * np.asarray(D, float)
        return np.exp(-result.predict(**{k: inputs[k] for k in result.form.inputs}))


def fit_direct(table: TaskTable, preset: DownstreamPreset | None = None, *, tasks=None,
               form: str = "direct_nd", options: Mapping | None = None,
               **overrides) -> DirectFit:
    """Fit the direct law ``-log acc(N, D)`` (Krajewski et al. 2025) to every task.

    Points are the preset's step-1 points (the mean accuracy of each fitted run's last
    ``step1_last`` checkpoints); ``form`` is ``"direct_nd"`` (``A/N^alpha + B/D^beta``) or
    any law of N and D (or ``"kaplan_c"``: ``(C_c/C)^alpha``, C = k·N·D with the table's
    k), fitted with
    ``options`` (default: Huber on log residuals, as step 1).
    """
    preset = preset_with(preset, **overrides)
    rows, tasks = fit_rows(table, preset, tasks)
    preset = preset.used(tasks)
    points = preset.step1_table(rows)
    fits, notes = {}, {}
    fitter = LawFitter(form, **dict(options or {}))
    for task in tasks:
        data = points.arrays(task)
        accuracy = data["accuracy"]
        if np.any(accuracy <= 0) or np.any(accuracy >= 1):
            raise InputError(f"{task}: the direct law needs accuracies strictly between 0 "
                             "and 1 (it fits -log(accuracy))")
        inputs = {"N": data["N"], "D": data["D"],
                  "C": table.flops_per_token * data["N"] * data["D"]}
        kept: list = []
        chosen = {k: inputs[k] for k in fitter.form.inputs}
        target = -np.log(accuracy)
        fits[task] = _fit_quietly(lambda chosen=chosen, target=target: fitter.fit_arrays(
            chosen, target), "direct", kept)
        notes[task] = tuple(kept)
        _announce(task, "direct law", fits[task], ceiling_ok=False)
    return DirectFit(preset=preset, fits=fits, flops_per_token=table.flops_per_token,
                     notes=notes)
