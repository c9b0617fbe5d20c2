"""Which rows are one training run: the ``run_id`` column read as run numbers.

Rows that share a ``run_id`` are checkpoints of one run, which share its error. The
fitting stage warns about them (:func:`scalinglaws.fit`), and the uncertainty stage
resamples, cuts and scores whole runs (``clusters="auto"``); both ask the one question
here, "does some run id repeat?", so they never disagree.

A table whose rows look like checkpoints but which has no column read as the run id
(``exp_name``, ``experiment``) would count every checkpoint as a run: the loader says so,
naming the columns that could be it (:func:`unnamed_runs`, :func:`warn_unnamed_runs`).
"""

from __future__ import annotations

import json
import re
import shlex
import warnings
from contextlib import contextmanager

import numpy as np

from .._exceptions import InputError, ScalingLawsWarning, user_stacklevel
from .._text import counted, named_list
from .columns import ALIASES, normalise
from .curve_logs import CURVE_ALIASES

__all__ = ["run_numbers", "checkpoint_runs", "without_top_loss", "unnamed_runs",
           "warn_unnamed_runs", "runs_named_by_caller", "run_id_advice", "MANY_CHECKPOINTS"]


def run_numbers(values) -> np.ndarray:
    """Codes ``0..k-1`` of ``values`` by first appearance; a missing value is a run of its
    own (one code each).

    Examples
    --------
    >>> run_numbers(["a", "b", None, "a", None]).tolist()
    [0, 1, 2, 0, 3]
    """
    import pandas as pd

    codes = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)[0].copy()
    missing = codes < 0
    if missing.any():
        codes[missing] = codes.max(initial=-1) + 1 + np.arange(np.count_nonzero(missing))
    return pd.factorize(codes)[0]


def checkpoint_runs(runs) -> np.ndarray | None:
    """Each row's run number when some ``run_id`` repeats (the rows are checkpoints of
    fewer runs), else None (no ``run_id`` column, or every run id once).

    Examples
    --------
    >>> import scalinglaws as sl
    >>> runs = sl.load_runs({"N": [1e8, 1e8, 2e8], "D": [1e9, 2e9, 4e9],
    ...                      "loss": [3.2, 3.0, 2.8], "run": ["a", "a", "b"]})
    >>> checkpoint_runs(runs).tolist()
    [0, 0, 1]
    """
    if not runs.has("run_id"):
        return None
    codes = run_numbers(runs.frame["run_id"].to_numpy())
    if codes.size == 0 or codes.max() + 1 == codes.size:
        return None
    return codes


def without_top_loss(runs, k: int) -> np.ndarray:
    """The rows to keep (booleans) when the ``k`` runs of largest loss go (``k`` >= 1):
    a row is a run, ties going by the earlier row, unless some ``run_id`` repeats
    (:func:`checkpoint_runs`): then every checkpoint of the ``k`` runs whose final loss
    (the loss of the checkpoint of most tokens, the last such row) is largest goes, ties
    going by the run first in the table. Epoch's replication drops 5 runs of largest loss
    from a table of one row per run; ranking checkpoints would drop the earliest
    checkpoints of the smallest runs, which are no outliers.

    Examples
    --------
    >>> import scalinglaws as sl
    >>> runs = sl.load_runs({"N": [1e8, 1e8, 2e8, 2e8], "D": [1e9, 2e9, 1e9, 2e9],
    ...                      "loss": [4.0, 3.4, 3.9, 3.1], "run": ["a", "a", "b", "b"]})
    >>> without_top_loss(runs, 1).tolist()
    [False, False, True, True]
    """
    loss, codes = runs.loss, checkpoint_runs(runs)
    if codes is None:
        if k >= len(loss):
            raise InputError(f"exclude_top_loss: k={k} would drop all {counted(len(loss), 'run')}")
        keep = np.ones(len(loss), dtype=bool)
        keep[np.argsort(-loss, kind="stable")[:k]] = False
        return keep
    n_runs = int(codes.max()) + 1
    if k >= n_runs:
        raise InputError(f"exclude_top_loss: k={k} would drop all {counted(n_runs, 'run')} "
                         f"({len(loss)} rows are their checkpoints)")
    tokens = runs.D if runs.has("D") else np.zeros(len(loss))
    order = np.lexsort((np.arange(len(loss)), tokens, codes))  # by run, then tokens, row
    last = order[np.r_[codes[order][1:] != codes[order][:-1], True]]  # each run's final row
    final = np.empty(n_runs)
    final[codes[last]] = loss[last]
    return ~np.isin(codes, np.argsort(-final, kind="stable")[:k])


# ----------------------------------------------------------------- checkpoints without a run id

#: Rows of one run a column's typical value (its median) must hold for a table without a
#: step column to look like checkpoints: an ordinary sweep trains a model at a few token
#: counts (the public sweeps of ../shared: at most 16 for one N, Muennighoff et al.;
#: Porian et al. 11, Epoch's Chinchilla 5), a logged run holds tens to hundreds of
#: checkpoints (the OLMo ladder's: 37 to 202). Also the steps one N must reach when no
#: column could name the runs.
MANY_CHECKPOINTS = 20
#: Headers of a step column besides the loader's own ``step``, after normalising: those
#: the training-curve readers know (``iteration``, ``global_step``, ``trainer/global_step``)
_STEP_HEADERS = CURVE_ALIASES["step"]
#: Words of a header naming a run, put first among the candidates, and the only ones under
#: which a column of integers may be one (``exp_id`` 0, 1, 2...; an integer column is
#: otherwise a count or a setting, constant within a run: ``batch_size``, ``n_layers``)
_RUN_WORDS = {"run", "runs", "exp", "experiment", "name", "id", "job", "trial", "model"}


def _words(column) -> set:
    return set(normalise(column).replace("/", " ").split())


def _step_column(frame):
    """The column holding each row's optimiser step, or None: the canonical ``step`` (the
    loader's alias) or a header the training-curve readers know (``iteration``)."""
    if "step" in frame.columns:
        return "step"
    return next((column for column in frame.columns if column not in ALIASES
                 and normalise(column) in _STEP_HEADERS), None)


def _could_name_runs(frame, column, key, steps: bool) -> bool:
    """Whether ``column`` of ``frame`` may name the runs whose rows are checkpoints: labels
    (text, or integers under a run's name), at least two, some repeated, each at one N,
    and each ``key`` (the step when ``steps``, else D) once within a value, D rising with
    the step."""
    import pandas as pd

    values = frame[column]
    if column in ALIASES or str(column).endswith("_unused") or pd.api.types.is_bool_dtype(
            values.dtype):
        return False
    if values.dtype == object and not values.dropna().map(np.isscalar).all():
        return False  # lists or objects in cells (a JSON export's tags) are no run labels
    if pd.api.types.is_numeric_dtype(values.dtype):
        whole = values.dropna()
        if not (_words(column) & _RUN_WORDS) or not np.all(np.mod(whole, 1) == 0):
            return False
    known = frame.loc[values.notna() & key.notna(), [column, "N"]].assign(_key=key)
    count = known[column].nunique()
    if count < 2 or count == len(known):
        return False
    if known.groupby(column, sort=False)["N"].nunique().max() > 1:
        return False
    if known.duplicated([column, "_key"]).any():  # a step twice: two runs under one value
        return False
    if not steps or "D" not in frame.columns:
        return True
    ordered = known.assign(D=frame["D"]).sort_values([column, "_key"], kind="stable")
    same = ordered[column].to_numpy()[1:] == ordered[column].to_numpy()[:-1]
    return bool(np.all(np.diff(ordered["D"].to_numpy())[same] >= 0))


def unnamed_runs(frame) -> dict | None:
    """What says that the rows of ``frame`` (a :class:`~scalinglaws.data.runs.Runs`
    frame: canonical ``N``, ``D``, ``step``, extras by their own names) are checkpoints of
    training runs that no column is read as: None when a ``run_id`` is there, or when they
    do not look so.

    The rows look like checkpoints when a step column (``step``, or a header such as
    ``iteration``) takes several values at one N and some column could name the runs
    (:func:`_could_name_runs`: at one N per value, each step once, D rising with the step;
    a model's label, one per N, repeats the steps of its several runs), or no column
    could but one N reaches :data:`MANY_CHECKPOINTS` steps; without a step column, when a
    column could name the runs and its values hold a median of
    :data:`MANY_CHECKPOINTS` rows or more each, as no sweep trains a model at so many
    token counts. The answer: ``step`` (the column or None), ``spread`` (the most steps,
    or rows, of one N or value), ``at`` (that N, or None) and ``columns`` (the columns
    that could name the runs, those named like a run first, then by how many values).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"N": [1e8] * 3 + [2e8] * 3, "D": [1e9, 2e9, 4e9] * 2,
    ...                       "step": [1, 2, 4] * 2, "loss": [3.5, 3.2, 3.0, 3.3, 3.0, 2.8],
    ...                       "exp_name": ["a"] * 3 + ["b"] * 3})
    >>> unnamed_runs(frame)["columns"]
    ['exp_name']
    """
    import pandas as pd

    if "run_id" in frame.columns or "N" not in frame.columns or len(frame) < 4:
        return None
    step = _step_column(frame)
    if step is not None:
        key = pd.to_numeric(frame[step], errors="coerce")
    elif "D" in frame.columns:
        key = frame["D"]
    else:
        return None
    columns = [column for column in frame.columns
               if _could_name_runs(frame, column, key, step is not None)]
    columns.sort(key=lambda column: (not _words(column) & _RUN_WORDS,
                                     -frame[column].nunique()))
    if step is not None:
        spread = key.groupby(frame["N"].to_numpy()).nunique()
        most = int(spread.max())
        if most < 2 or (not columns and most < MANY_CHECKPOINTS):
            return None
        return {"step": step, "spread": most, "at": float(spread.idxmax()), "columns": columns}
    sizes = {column: frame.groupby(column, sort=False).size() for column in columns}
    columns = [column for column in columns if sizes[column].median() >= MANY_CHECKPOINTS]
    if not columns:
        return None
    return {"step": None, "spread": int(sizes[columns[0]].median()), "at": None,
            "columns": columns}


def run_id_advice(column) -> str:
    """How to say that ``column`` names the runs: the columns option in the plain words of
    every message, then as typed in Python and on the command line."""
    return (f"set the columns option (run_id={shlex.quote(str(column))}): "
            f"columns={{\"run_id\": {json.dumps(str(column))}}} in Python, --columns "
            f"{shlex.quote(f'run_id={column}')} on the command line")


#: What counting checkpoints as runs does, in the README's simulation ("Checkpoints:
#: whole runs are resampled"; tests/uncertainty/test_cluster_bootstrap_coverage.py)
_WHY = ("the bootstrap and calibrate, which take whole runs by their run id, draw and "
        "score rows instead, and their intervals come out too narrow (in 200 simulated "
        "sweeps of 20 runs x 4 checkpoints, 95% intervals drawn by row held the true alpha "
        "in 151, by run in 194)")
#: The words that start the warning (after the source), to silence it by
_LOOK_LIKE = "the rows look like checkpoints of training runs"


@contextmanager
def runs_named_by_caller():
    """Silence :func:`warn_unnamed_runs` while loading runs for a caller that names the
    column of the runs itself: :func:`~scalinglaws.fitting.envelope.envelope_fit`'s
    ``run_column``, the command line's ``--run-column`` and ``--cluster COLUMN``."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=f".*{re.escape(_LOOK_LIKE)}",
                                category=ScalingLawsWarning)
        yield


def warn_unnamed_runs(frame, mapping, columns, source: str) -> None:
    """Warn (:class:`~scalinglaws.ScalingLawsWarning`) when the rows of ``frame`` look like
    checkpoints of runs no column is read as (:func:`unnamed_runs`), naming the columns
    that could name the runs and the mapping to give; ``mapping`` is canonical name ->
    source column. A ``run_id`` the ``columns`` option names, or declares absent
    (``run_id=None``: every row a run of its own), is the user's answer: no warning."""
    if "run_id" in (columns or {}):
        return
    found = unnamed_runs(frame)
    if found is None:
        return
    step, candidates = found["step"], found["columns"]
    if step is not None:
        shown = str(mapping.get("step", step)) if step == "step" else str(step)
        evidence = (f"column {shown!r} takes {found['spread']} values at N = "
                    f"{found['at']:.3g}")
    else:
        evidence = (f"column {str(candidates[0])!r} holds {frame[candidates[0]].nunique()} "
                    f"values, each at one N with a median of {found['spread']} rows of distinct "
                    f"D")
    what = "step" if step is not None else "D"
    if candidates:
        one = len(candidates) == 1
        quoted = [repr(str(column)) for column in candidates]
        named = (f"Column {quoted[0]} holds" if one else "Columns " + (
            named_list(quoted, 3) if len(quoted) > 3
            else f"{', '.join(quoted[:-1])} and {quoted[-1]}") + " each hold")
        advice = (f"{named} one N per value and each {what} once, as a run's name does: if "
                  f"{'it' if one else 'one'} names the runs, {run_id_advice(candidates[0])}")
    else:
        advice = ("No column names the runs: add one naming each run and set the columns "
                  "option (run_id=<column>)")
    warnings.warn(
        f"{source}: {_LOOK_LIKE} ({evidence}), but no "
        f"column is read as the run id, so each row counts as an independent run: {_WHY}. "
        f"{advice}; if every row is a run of its own, say so with run_id=None (--columns "
        f"run_id= on the command line)", ScalingLawsWarning, stacklevel=user_stacklevel())
