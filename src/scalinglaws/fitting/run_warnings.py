"""What :func:`scalinglaws.fit` says about the runs themselves, once per fit: a loss
column that looks like it is in other units (:func:`warn_floor_units`; for a grouped fit
:func:`warn_floor_units_groups`), a column that pools separate experiments
(:func:`warn_pooled_groups`), rows that are checkpoints or replicas of fewer runs
(:func:`warn_checkpoints`). A run far off the law is :mod:`.outliers`'s."""

from __future__ import annotations

import warnings

from .._exceptions import ScalingLawsWarning, UnitsWarning, user_stacklevel
from .._text import named_list
from ..data.run_ids import checkpoint_runs, run_id_advice, run_numbers, unnamed_runs
from ..data.runs import Runs
from .result import FitResult

__all__ = ["MAX_PLAUSIBLE_FLOOR", "GROUP_COLUMNS", "warn_checkpoints", "warn_floor_units",
           "warn_floor_units_groups", "warn_pooled_groups"]


#: An irreducible loss above this many nats per token says the loss column is in other
#: units: every public sweep in ../shared has runs below 2.75 nats (its lowest losses are
#: 1.02 to 2.75), and fitted floors are 1.69 (Hoffmann et al.), 1.82 (Epoch's refit) to
#: about 2.4. A column of perplexities below 14.45 escapes the loader's per-row check
#: (values above 14.45 nats) and fits E of 3.5 (a synthetic sweep's larger runs) to 5.5
#: (the audit's sweep).
MAX_PLAUSIBLE_FLOOR = 3.0


def _implausible_floor(result: FitResult, runs: Runs) -> float | None:
    """The fitted ``E`` of a built-in law of N and D when it lies above
    :data:`MAX_PLAUSIBLE_FLOOR` and the runs were not converted (``loss_units`` not given).

    None when the law misfits its runs (``diagnostics["lack_of_fit"]``, warned of by
    :mod:`.lack_of_fit`): a form that does not fit puts ``E`` anywhere (3.13 for Porian
    et al.'s tuned RefinedWeb setting, above its lowest loss, 3.10), and the hint pointed
    away from the cause. A column of perplexities does not misfit so: the audit's sweep
    as perplexities (five seeds) fits with residuals of 2.3-2.5% RMS and no trend."""
    if (result.diagnostics or {}).get("lack_of_fit"):
        return None
    e = result.params.get("E")
    # the floor of a built-in law of N and D; a law of D alone (one model's curve) has
    # E + A/N^alpha as its floor, 3 nats and more for small models
    builtin = (type(result.form).__module__.startswith("scalinglaws.laws.")
               and {"N", "D"} <= set(result.form.inputs))
    if (e is None or not builtin or "loss_units" in runs.selection
            or not e > MAX_PLAUSIBLE_FLOOR):
        return None
    return float(e)


#: what a floor above MAX_PLAUSIBLE_FLOOR says, and how to silence it (one text for both)
_FLOOR_ADVICE = (f"above {MAX_PLAUSIBLE_FLOOR:g}, beyond every published sweep's (1.69-2.4; "
                 "each has runs below 2.75): is the loss column a perplexity (set "
                 "loss_units to 'perplexity'), bits, or a loss of another kind? If it is "
                 "right, silence this with warnings.filterwarnings('ignore', "
                 "category=scalinglaws.UnitsWarning)")


def warn_floor_units(result: FitResult, runs: Runs) -> None:
    """A :class:`~scalinglaws.UnitsWarning` when a built-in law of N and D fits ``E`` above
    :data:`MAX_PLAUSIBLE_FLOOR` on runs that were not converted (see
    :func:`_implausible_floor`)."""
    e = _implausible_floor(result, runs)
    if e is not None:
        warnings.warn(f"{runs.source}: the fitted irreducible loss E = {e:.4g} nats per token "
                      f"is {_FLOOR_ADVICE}", UnitsWarning, stacklevel=user_stacklevel())


def warn_floor_units_groups(results: dict, runs: Runs, column: str, *, shown: int = 5) -> None:
    """:func:`warn_floor_units` for a grouped fit (``results``: group -> FitResult): one
    :class:`~scalinglaws.UnitsWarning` naming the groups whose ``E`` is implausible."""
    high = {key: e for key, res in results.items()
            if (e := _implausible_floor(res, runs)) is not None}
    if not high:
        return
    named = named_list([f"{key!r} {e:.4g}" for key, e in high.items()], shown)
    warnings.warn(f"{runs.source}: the fitted irreducible loss E (nats per token) of "
                  f"{len(high)} of {len(results)} groups of column {column!r} ({named}) "
                  f"is {_FLOOR_ADVICE}", UnitsWarning, stacklevel=user_stacklevel())


#: Columns whose values name separate experiments (recipes, data sets, train and validation
#: losses: Porian et al.'s table mixes 15 settings and both), each with its own law; one
#: whose every value sits at a single N names runs or models instead (warn_pooled_groups)
GROUP_COLUMNS = ("group", "setting", "recipe", "dataset", "loss_type", "split", "experiment")


def _one_n_each(runs: Runs, column: str) -> bool:
    """Whether every value of ``column`` sits at a single N, some with several rows: it
    names runs (their checkpoints) or models, and a law of N and D fitted to one value
    would see one N."""
    if not runs.has("N"):
        return False
    frame = runs.frame
    return bool(frame.groupby(column, sort=False)["N"].nunique().max() == 1
                and frame[column].nunique() < len(frame))


def warn_pooled_groups(runs: Runs) -> None:
    """Warn when a column named like :data:`GROUP_COLUMNS` holds several values: the fit
    pools them into one law without a word otherwise (Porian et al.'s 15 settings fit as
    one with residuals of 9%), where ``groups=`` fits each (``shared=`` some jointly). A
    column whose every value sits at one N (``experiment`` naming each run) is no such
    grouping: the warning says it may name the runs (``run_id=``), unless the loader
    said so already (:func:`~scalinglaws.data.run_ids.warn_unnamed_runs`)."""
    for column in GROUP_COLUMNS:
        if column not in runs.columns:
            continue
        values = runs.frame[column].astype(str).unique()
        if not 1 < values.size < len(runs):
            continue
        if not _one_n_each(runs, column):
            shown = named_list([repr(value) for value in values])
            warnings.warn(f"{runs.source}: column {column!r} holds {values.size} values "
                          f"({shown}), fitted here as one law: fit each with "
                          f"groups={column!r} (shared=['alpha', 'beta'] to share exponents; "
                          f"`scalinglaws compare RUNS --group {column}` on the command "
                          f"line), or select one",
                          ScalingLawsWarning, stacklevel=user_stacklevel())
        elif column not in (unnamed_runs(runs.frame) or {"columns": ()})["columns"]:
            warnings.warn(
                f"{runs.source}: column {column!r} holds {values.size} values in {len(runs)} "
                f"rows, each value at a single N: it names runs or models, not separate "
                f"experiments to fit apart (a law of N and D fitted to one value would see "
                f"one N). If its rows are checkpoints of one run per value, "
                f"{run_id_advice(column)}, so that the bootstrap resamples whole runs; if "
                f"each row is a run of its own, nothing is wrong",
                ScalingLawsWarning, stacklevel=user_stacklevel())
        return


def warn_checkpoints(runs: Runs, *, groups: str | None = None,
                     bootstrap: str = "scalinglaws.bootstrap") -> None:
    """Warn, once per fit, when rows are checkpoints of the same runs (``run_id`` repeats;
    with ``groups``, the column of a grouped fit, repeats within a group: groups may
    number their runs alike): the fit treats every row alike, but a run's rows share its
    error, so the bootstrap (``bootstrap`` names it) resamples whole runs
    (``clusters="auto"``), as calibrate's scatter and rollout take them."""
    codes = checkpoint_runs(runs)  # the one answer the bootstrap's clusters="auto" uses
    if codes is not None and groups is not None:  # a run is a run id within its group
        codes = run_numbers(list(zip(runs.frame[groups].astype(str), codes)))
        codes = None if codes.max() + 1 == codes.size else codes
    if codes is None:
        return
    n_runs = int(codes.max()) + 1
    runs_text = f"{n_runs} run{'s' * (n_runs != 1)}"
    # rows of one run id at the same inputs are replicas (seeds of a configuration), not
    # checkpoints, which differ in tokens: say which the table holds
    inputs = runs.frame[[c for c in ("N", "D", "C") if runs.has(c)]]
    if not inputs.groupby(codes).nunique().gt(1).any().any():
        what = (f"{codes.size} rows share their run_id with rows at the same inputs "
                f"({runs_text}): replicas such as seeds of one configuration, not "
                "checkpoints; rows of one run_id share its deviation from the law")
    else:
        what = (f"{codes.size} rows are checkpoints of {runs_text} (run_id repeats): a "
                "run's checkpoints share its error, so they are not independent runs")
    calibrate = ("" if groups is not None else
                 ", and calibrate takes whole runs in its scatter and rollout too")
    warnings.warn(f"{runs.source}: {what}; {bootstrap} resamples whole runs (clusters='auto'; "
                  f"--cluster on the command line), not rows{calibrate}", ScalingLawsWarning,
                  stacklevel=user_stacklevel())
