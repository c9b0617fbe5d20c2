"""Alternatives to a downstream procedure, chosen on one target and reported on another.

:data:`LADDER_VARIANTS` lists the changes to the ladder's procedure that its data allows,
fixed before looking at any target: the direct law (no task loss), every ladder run (the
3.2B rung, the 0.5xC runs and the reruns), step 1 on many checkpoints per run, step 1
weighted towards the largest rungs, and a sigmoid whose floor is the chance level.
:func:`compare_variants` scores each on some target runs (the mean absolute error of the
chained accuracy over the tasks, in points) and picks the best on one of them, so the
other target judges the pick without having tuned it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

import numpy as np

from .._exceptions import InputError
from .._validation import FrozenDict
from ..data.task_table import TaskTable
from .downstream import fit_direct, fit_downstream, observed, preset_with
from .downstream_preset import DownstreamPreset

__all__ = ["LADDER_VARIANTS", "compare_variants"]

_ALL_LADDER = "paper_role in ['ladder_fit', 'ladder_extra']"

#: name -> overrides of the preset; ``"direct": True`` fits the direct law instead
LADDER_VARIANTS = FrozenDict({
    "published": {},
    "direct law": {"direct": True},
    "every ladder run": {"fit_runs": _ALL_LADDER},
    "every ladder run, direct law": {"direct": True, "fit_runs": _ALL_LADDER},
    "step 1 on checkpoints": {"step1_drop_fraction": 0.5},
    "step 1 weighted by N": {"step1_weights": "N"},
    "floor at chance": {"step2_form": "task_sigmoid_floor",
                        "step2_options": {"loss": "squared", "space": "linear",
                                          "fixed": {"floor": "chance"}}},
})


def compare_variants(table: TaskTable, targets: Mapping, *, choose_on: str,
                     preset: DownstreamPreset | None = None, variants: Mapping | None = None,
                     tasks=None, progress: bool | None = None):
    """Score procedures on target runs; choose the best on ``choose_on`` only.

    Parameters
    ----------
    table : TaskTable
        Every run (the ladder and the targets).
    targets : mapping of str to str
        Label -> run of ``table``, e.g. ``{"7B": "olmo2-7B-4T-anneal", "13B": ...}``.
    choose_on : str
        The label whose error picks the variant.
    preset : DownstreamPreset, optional
        The base procedure (default :data:`~scalinglaws.analysis.downstream_preset.LADDER`).
    variants : mapping, optional
        Name -> overrides (default :data:`LADDER_VARIANTS`).
    tasks : sequence of str, optional
    progress : bool, optional
        A tqdm bar over the variants (default: on a terminal).

    Returns
    -------
    pandas.DataFrame
        One row per variant and task: ``variant``, ``task``, and per target label the
        predicted accuracy, the observed one and the error (points); plus a column
        ``chosen`` (True on the rows of the variant with the smallest mean absolute error
        on ``choose_on``).
    """
    import pandas as pd

    if choose_on not in targets:
        raise InputError(f"`choose_on` must be one of the targets ({', '.join(targets)}), "
                         f"got {choose_on!r}")
    preset = preset_with(preset)
    tasks = tuple(tasks if tasks is not None else preset.tasks or table.tasks)
    full = preset.prepare(table, tasks)
    window = max(1, preset.target_window)
    seen = {label: {task: observed(full, run, task, window) for task in tasks}
            for label, run in targets.items()}
    rows = []
    chosen_variants = dict(variants or LADDER_VARIANTS)
    names = list(chosen_variants)
    if sys.stderr.isatty() if progress is None else progress:
        from .._progress import progress_bar as tqdm

        names = tqdm(names, desc="variants", leave=False)
    for name in names:
        overrides = chosen_variants[name]
        overrides = dict(overrides)
        direct = overrides.pop("direct", False)
        if direct:
            fitted = fit_direct(table, preset, tasks=tasks, **overrides)
            predict = fitted.predict_task
        else:
            fitted = fit_downstream(table, preset, tasks=tasks, **overrides)
            predict = lambda task, N, D, fitted=fitted: fitted[task].predict(N, D)
        for task in tasks:
            row = {"variant": name, "task": task}
            for label, reached in seen.items():
                point = reached[task]
                accuracy = float(predict(task, point["N"], point["D"]))
                row[f"{label}_predicted"] = accuracy
                row[f"{label}_observed"] = point["accuracy"]
                row[f"{label}_error"] = 100.0 * (accuracy - point["accuracy"])
            rows.append(row)
    frame = pd.DataFrame(rows)
    score = frame.groupby("variant", sort=False)[f"{choose_on}_error"].apply(
        lambda errors: float(np.mean(np.abs(errors))))
    frame["chosen"] = frame["variant"] == score.idxmin()
    return frame
