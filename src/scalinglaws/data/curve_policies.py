"""What training logs get wrong, judged the same way whatever the source.

:func:`~scalinglaws.data.curves.load_curves` reads every source into one long table in
log order (:mod:`.curve_logs`); these apply its policies to it: :func:`order_points`
``duplicates=``/``unsorted=`` (:func:`logged_lr` to the logged LRs),
:func:`apply_spike_policy` ``spikes=``; :func:`one_run_advice` finds a run column under an
unknown header, :func:`check_step_count` tokens read as steps (:data:`MAX_STEPS`);
:class:`Places` words where a bad row is (row and line of a file, run and step of a log).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .._exceptions import InputError
from .._validation import FrozenOnUnpickle, check_positive, deep_freeze, readonly_array
from .runs import _number_text, _row_text

__all__ = ["MAX_STEPS", "Places", "apply_spike_policy", "cell_text", "check_step_count",
           "logged_lr", "one_run_advice", "order_points", "spike_flags", "steps_of_tokens"]

_NEIGHBOURS = 3  # spikes are judged against the median of 3 points on each side


@dataclass(frozen=True)
class Places(FrozenOnUnpickle):
    """Where a row of the table read came from, in words the user can find: its row and
    line in a file, or, in a TensorBoard/MLflow log, whose rows are the reader's, its run
    and step. Frozen, its arrays read-only."""

    lines: np.ndarray | None = None
    runs: np.ndarray | None = None
    steps: np.ndarray | None = None
    #: a reshaped file (a W&B panel export): the file's row of each row read, and
    #: canonical name -> the file's column of each row read (None where it has none)
    file_rows: np.ndarray | None = None
    headers: Mapping | None = None

    def __post_init__(self):
        for name in ("lines", "runs", "steps", "file_rows"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, readonly_array(value, dtype=None))
        if self.headers is not None:
            object.__setattr__(self, "headers", deep_freeze(
                {k: np.asarray(v, dtype=object) for k, v in self.headers.items()}))

    @property
    def log(self) -> bool:
        return self.runs is not None

    def file_row(self, row: int) -> int:
        """The file's own row of row ``row`` of the table read."""
        return row if self.file_rows is None else int(self.file_rows[row])

    def header(self, row: int, name: str):
        """The file's column holding ``name`` at row ``row`` of a reshaped file, or None."""
        if self.headers is None or name not in self.headers:
            return None
        return self.headers[name][row]

    def point(self, row: int, name: str | None = None) -> str:
        """``row 3 (line 5)``, or ``run 'a' step 30`` in a log; in a reshaped file the
        file's own row and, given the canonical ``name``, its column."""
        if not self.log:
            column = self.header(row, name) if name is not None else None
            return (_row_text(self.file_row(row), self.lines)
                    + (f", column '{column}'" if column is not None else ""))
        return f"run {self.runs[row]!r} step {cell_text(self.steps[row])}"

    def cell(self, row: int, column, name: str) -> str:
        """The point and the column (a log's columns are the reader's names; a reshaped
        file's, its own headers)."""
        if self.log:
            return f"{self.point(row)}, {name}"
        column = self.header(row, name) or column
        return f"{self.point(row)}, column '{column}' ({name})"

    def row(self, row: int) -> str:
        """``row 3 (line 5): `` before a message that names the run and step; in a log,
        nothing (its rows are the reader's)."""
        return "" if self.log else f"{self.point(row)}: "


def cell_text(cell) -> str:
    """A cell as the user wrote it: text quoted, numbers plain (``inf``, not
    ``np.float64(inf)``)."""
    if isinstance(cell, str):
        return repr(cell)
    if isinstance(cell, (int, float, np.integer, np.floating)) and not isinstance(cell, bool):
        return _number_text(float(cell))
    return str(cell)[:40]


#: Steps beyond this are refused: no training run has so many, and a curve law needs
#: the LR of every step, its sums about 400 bytes per step (measured, MPL, one run: 1e6
#: steps 0.4 GB, 1e7 steps 4.1 GB and 23 s). The longest published pretraining runs have
#: about 1e6 optimizer steps (BERT: 1,000,000, Devlin et al. 2019; the longest of Luo et
#: al.'s curves here: 72k), so 1e7 leaves 10x; a column of tokens read as steps (4.2e9
#: for a 4B-token run) asked for 31 GiB for the LR array alone.
MAX_STEPS = 10_000_000


def check_step_count(steps, source, places, column) -> None:
    """Refuse steps that no run reaches, before anything is sized by them."""
    with np.errstate(invalid="ignore"):
        beyond = np.flatnonzero(steps > MAX_STEPS)
    if beyond.size:
        row = int(beyond[np.argmax(steps[beyond])])
        raise InputError(f"{source}: {places.cell(row, column, 'step')}: step "
                         f"{int(steps[row]):,} is beyond {MAX_STEPS:,}, more optimizer steps "
                         "than any training run (the longest published have about 1e6), and a "
                         "curve law needs the LR of every step: is it a count of tokens? Map "
                         f"it as tokens (columns={{'tokens': {column!r}}}) and give the tokens of "
                         "one step (batch size x sequence length) with `tokens_per_step` to "
                         "derive step = tokens / tokens_per_step")


def steps_of_tokens(tokens, tokens_per_step, source, places, column):
    """step = tokens / tokens_per_step (the inverse of tokens = step x tokens_per_step),
    which must be a whole number of steps (to 1e-6 of one step: float rounding; tokens
    written rounded, 1.14e9, or the wrong tokens_per_step are off by far more)."""
    per_step = check_positive("tokens_per_step", tokens_per_step)
    steps = tokens / per_step
    with np.errstate(invalid="ignore"):
        off = np.flatnonzero(np.abs(steps - np.round(steps)) > 1e-6)
    if off.size:
        row = int(off[0])
        raise InputError(f"{source}: {places.cell(row, column, 'tokens')}: {tokens[row]:.17g} "
                         f"tokens are {steps[row]:.6g} steps of tokens_per_step={per_step:g}, "
                         f"not a whole number ({off.size} such rows); is tokens_per_step the "
                         "tokens of one optimizer step (batch size x sequence length)?")
    return np.round(steps)


def logged_lr(frame, source, places, duplicates, unsorted, notes, advice="") -> dict:
    """Every logged LR per run, by step, a step logged twice (a restart) treated by the
    same policies as the losses."""
    from .._validation import readonly_array

    known = frame.loc[np.isfinite(frame["lr"].to_numpy()) & np.isfinite(
        frame["step"].to_numpy(dtype=float)), ["run_id", "step", "lr", "_row"]]
    if known.empty:
        return {}
    known = known.astype({"step": np.int64}).reset_index(drop=True)
    said = []
    known, _ = order_points(known, source, places, duplicates, unsorted, said, what="the LR of ",
                            advice=advice)
    notes.extend(f"LR log: {note}" for note in said if note not in notes)  # once is enough
    log = {}
    for run, part in known.groupby("run_id", sort=False):
        log[run] = (readonly_array(part["step"], np.int64), readonly_array(part["lr"]))
    return log


def _run_like_columns(frame, columns) -> list:
    """The text columns among ``columns`` of ``frame`` (points in log order, read as one
    run) that split it into runs whose steps each only increase, with 2 to half as many
    values as points: the run column under a header not recognised (a per-point text,
    such as a date, has too many values)."""
    import pandas as pd

    steps, found = frame["step"].to_numpy(), []
    for column in columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) or values.isna().any():
            continue  # numbers are steps, times, losses...; a run column is text
        codes = pd.factorize(values.astype(str))[0]
        if not 2 <= codes.max() + 1 <= len(codes) // 2:
            continue
        order = np.argsort(codes, kind="stable")  # each value's points, in log order
        same, ordered = codes[order][1:] == codes[order][:-1], steps[order]
        if np.all(~same | (ordered[1:] > ordered[:-1])):
            found.append(column)
    return found


def one_run_advice(frame, columns, extras, source, places) -> str:
    """What to say when a table without a recognised run column (``frame``: its points in
    log order, read as one run) has steps that restart or repeat: first, name the run
    column (a restart is rarer than a run column under another header).

    Raises when a text column of ``extras`` changes value where they do, whatever
    ``unsorted``/``duplicates`` say: sorting would merge the runs into one curve that is
    none of them (three W&B runs averaged point by point), which fits without complaint
    and prints numbers nobody should cite, and the policies' own message led there. The
    rare one run whose text column changes where it restarts (a job id) is read by naming
    it (``run=``), which says the file is one run. Otherwise returns the advice for the
    policies' messages."""
    steps = frame["step"].to_numpy()
    restarts = np.flatnonzero(np.diff(steps) <= 0)
    candidates = _run_like_columns(frame, extras) if restarts.size else []
    if not candidates:
        return (f"no run column was found (columns: {', '.join(map(str, columns))}), so the "
                f"file was read as one run: if it holds several, say which column names them "
                f"with columns={{'run_id': <column>}} (--columns run_id=<column>)")
    at = int(restarts[0]) + 1
    again = ("is logged again" if steps[at] == steps[at - 1]
             else f"comes after step {steps[at - 1]}")
    named, example = " or ".join(repr(c) for c in candidates), candidates[0]
    raise InputError(f"{source}: {places.row(int(frame['_row'].iloc[at]))}step {steps[at]} "
                     f"{again}, yet no run column was recognised, so the file reads as one run "
                     f"({frame['run_id'].iloc[0]!r}) and sorting would merge its runs: column "
                     f"{named} changes value where the steps restart, as a run column does: say "
                     f"so with columns={{'run_id': {example!r}}} (on the command line --columns "
                     f"run_id={example}); if it is one restarted run, name it (set run to "
                     "'<name>') and set unsorted to 'sort'")


def order_points(frame, source, places, duplicates, unsorted, notes, what="", advice=""):
    """Sort by run (first appearance) and step, applying the duplicate/order policies.

    ``frame`` is in log order; a step below the one logged before it *in the same run*
    (other runs' rows may come between) goes backwards. ``advice`` comes first in the
    remedies of a message (a table read as one run: :func:`one_run_advice`).
    """
    import pandas as pd

    advice = f"{advice}; otherwise, " if advice else ""
    order_of_run = {r: i for i, r in enumerate(pd.unique(frame["run_id"]))}
    run_code = frame["run_id"].map(order_of_run).to_numpy()
    steps = frame["step"].to_numpy()
    by_run = np.argsort(run_code, kind="stable")  # each run's rows, still in log order
    backwards = np.zeros(len(frame), bool)
    backwards[1:] = ((run_code[by_run][1:] == run_code[by_run][:-1])
                     & (steps[by_run][1:] < steps[by_run][:-1]))
    if backwards.any() and unsorted == "raise":
        first = int(np.flatnonzero(backwards)[0])
        at, before = by_run[first], by_run[first - 1]
        raise InputError(f"{source}: {places.row(int(frame['_row'].iloc[at]))}{what}step "
                         f"{steps[at]} of run {frame['run_id'].iloc[at]!r} comes after step "
                         f"{steps[before]} (a restarted run?); {advice}set unsorted to 'sort' "
                         "(and duplicates to 'last' to keep a restart's values)")
    if backwards.any():
        notes.append(f"sorted {int(backwards.sum())} out-of-order steps")
    position = np.lexsort((np.arange(len(frame)), steps, run_code))  # stable: log order kept
    frame = frame.iloc[position].reset_index(drop=True)
    key = frame["run_id"].astype(str) + "\x00" + frame["step"].astype(str)
    repeated = key.duplicated(keep=False).to_numpy()
    if not repeated.any():
        return frame, 0
    if duplicates == "raise":
        at = int(np.flatnonzero(repeated)[0])
        raise InputError(f"{source}: {places.row(int(frame['_row'].iloc[at]))}run "
                         f"{frame['run_id'].iloc[at]!r} logs {what}step "
                         f"{frame['step'].iloc[at]} more than once ({int(repeated.sum())} "
                         f"rows; a restarted run?); {advice}set duplicates to 'first', "
                         "'last' or 'mean'")
    before = len(frame)
    if duplicates == "mean":
        numeric = [c for c in ("loss", "lr", "tokens", "N") if c in frame.columns]
        means = frame.groupby(["run_id", "step"], sort=False)[numeric].transform("mean")
        frame[numeric] = means
        frame = frame.loc[~key.duplicated(keep="first").to_numpy()]
    else:
        frame = frame.loc[~key.duplicated(keep=duplicates).to_numpy()]
    frame = frame.reset_index(drop=True)
    notes.append(f"merged {before - len(frame)} repeated steps (duplicates={duplicates!r})")
    return frame, before - len(frame)


def _side_medians(values, run_code, side):
    """Median of the (up to) ``_NEIGHBOURS`` points of the same run on one side of each
    point (``side`` -1: before, +1: after); NaN where there is none."""
    n = len(values)
    neighbours = np.arange(n)[:, None] + side * np.arange(1, _NEIGHBOURS + 1)
    inside = (neighbours >= 0) & (neighbours < n)
    neighbours = np.clip(neighbours, 0, n - 1)
    inside &= run_code[neighbours] == run_code[:, None]
    window = np.sort(np.where(inside, values[neighbours], np.nan), axis=1)  # NaN last
    count = inside.sum(axis=1)
    rows = np.arange(n)
    # the middle one or two of the `count` known values (np.median's rule)
    low = window[rows, np.maximum(count - 1, 0) // 2]
    high = window[rows, np.minimum(count // 2, _NEIGHBOURS - 1)]
    return np.where(count > 0, (low + high) / 2, np.nan)


def spike_flags(loss, run_code, threshold):
    """Points more than ``threshold`` above the medians of their neighbours on both sides.

    A spike stands above both sides (on a falling curve the left side is higher); the
    last point of a run has only its left side, which suffices; the first has only its
    right, which on a falling curve is lower, so it is not judged.
    """
    left = _side_medians(loss, run_code, -1)
    right = _side_medians(loss, run_code, +1)
    with np.errstate(invalid="ignore"):
        return ~np.isnan(left) & (loss > (1 + threshold) * np.fmax(left, right))


def apply_spike_policy(frame, source, places, policy, threshold, notes):
    """Flag points far above the median of their neighbours; apply the spike policy."""
    import pandas as pd

    if policy == "keep" or len(frame) < 2:
        return frame, 0
    run_code = pd.factorize(frame["run_id"])[0]
    flagged = spike_flags(frame["loss"].to_numpy(dtype=float), run_code, threshold)
    if not flagged.any():
        return frame, 0
    first = int(np.flatnonzero(flagged)[0])
    row = int(frame["_row"].iloc[first])
    where = (f"run {frame['run_id'].iloc[first]!r} step {int(frame['step'].iloc[first])}"
             + ("" if places.log else f", {places.point(row, 'loss')}"))
    if policy == "raise":
        raise InputError(f"{source}: {int(flagged.sum())} loss spikes (more than "
                         f"{threshold:.0%} above the median of their neighbours), the first at "
                         f"{where}; set spikes to 'keep', 'warn' or 'omit'")
    if policy == "omit":
        notes.append(f"dropped {int(flagged.sum())} loss spikes (first at {where})")
        return frame.loc[~flagged].reset_index(drop=True), int(flagged.sum())
    notes.append(f"{int(flagged.sum())} loss spikes kept (more than {threshold:.0%} above the "
                 f"median of their neighbours; first at {where}); set spikes to 'omit' to drop "
                 "them or 'keep' to silence this")
    return frame, 0
