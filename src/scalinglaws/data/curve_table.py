"""The validated, frozen table of training curves: :class:`Curves`.

One row per logged point (``run_id``, ``step``, ``loss`` and, when known, ``lr``,
``tokens``, ``N``; the columns are described in :mod:`scalinglaws.data.curves`, whose
:func:`~scalinglaws.data.curves.load_curves` builds the table from files and frames).
This module holds what the table answers once it is built: views of a run's points, the
LR of every step (from an attached schedule or the logged LR), selections and
truncations, and the fingerprint a fit records.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .._exceptions import InputError
from .._text import counted, named_list
from .._validation import FrozenDict, check_positive, readonly_array
from .curve_logs import CURVE_ALIASES
from .runs import _PANDAS_COPY_ON_WRITE, fingerprint_arrays

__all__ = ["Curves"]


@dataclass(frozen=True, eq=False)
class Curves:
    """Validated training curves; build them with :func:`load_curves`.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per point, sorted by run (in order of first appearance) then step:
        ``run_id`` (str), ``step`` (int64), ``loss`` (float64) and, when known, ``lr``,
        ``tokens``, ``N`` (float64), then the other columns. A copy: writing to it
        leaves the curves unchanged.
    source : str
        The file(s), or ``"<DataFrame>"``/``"<dict>"``.
    schedules : mapping
        Run id -> its per-step LR array (read-only), attached with
        :meth:`with_schedules`.
    lr_log : mapping
        Run id -> ``(steps, lr)`` of every logged LR, rows without a loss included (a
        W&B history logs the LR at every step and the validation loss at few).
    row_numbers : tuple of int
        Source row of each point (for messages).
    n_dropped : int
        Rows dropped by the missing-value, duplicate and spike policies, of which
    n_lr_only : int
        rows without a loss that are another metric's (W&B logs each at its own steps;
        their LR is kept), not those after the last loss of a run that diverged.
    notes : tuple of str
        What the policies did, in words.
    lr_policy : str
        ``"exact"`` or ``"interpolate"`` (see :meth:`lr_array`).
    headers : mapping
        Canonical name -> the header it was read from (``run_id`` -> ``run_name``), so
        the user's names keep working (:meth:`column`).
    """

    _frame: pd.DataFrame
    source: str = "<DataFrame>"
    schedules: Mapping = field(default_factory=dict)
    lr_log: Mapping = field(default_factory=dict)
    row_numbers: tuple = ()
    n_dropped: int = 0
    n_lr_only: int = 0
    notes: tuple = ()
    lr_policy: str = "exact"
    headers: Mapping = field(default_factory=dict)

    def __post_init__(self):
        for name in ("schedules", "lr_log", "headers"):
            object.__setattr__(self, name, FrozenDict(getattr(self, name)))

    # -- views -----------------------------------------------------------------------
    @property
    def frame(self) -> pd.DataFrame:
        """The points (a copy, as :attr:`Runs.frame`: writing to it leaves the curves and
        their fingerprint unchanged; cheap under pandas' copy-on-write)."""
        return self._frame.copy(deep=not _PANDAS_COPY_ON_WRITE)

    def to_frame(self) -> pd.DataFrame:
        """A copy of the points."""
        return self._frame.copy()

    @property
    def runs(self) -> tuple[str, ...]:
        """Run ids, in order."""
        return tuple(pd.unique(self._frame["run_id"]))

    def __len__(self) -> int:
        return len(self._frame)

    def column(self, name) -> str | None:
        """The column ``name`` stands for: itself, or the canonical column read from the
        header ``name`` (``"run_name"`` -> ``"run_id"``); None when there is none."""
        if name in self._frame.columns:
            return name
        return next((c for c, header in self.headers.items() if header == name), None)

    def has(self, name: str) -> bool:
        """Whether the points have column ``name`` with at least one value."""
        return name in self._frame.columns and bool(self._frame[name].notna().any())

    def _rows(self, run: str) -> np.ndarray:
        rows = np.flatnonzero(self._frame["run_id"].to_numpy() == run)
        if not rows.size:
            raise InputError(f"no run {run!r}; runs: {', '.join(self.runs)}")
        return rows

    def steps(self, run: str) -> np.ndarray:
        """Logged steps of ``run``."""
        return self._frame["step"].to_numpy()[self._rows(run)]

    def loss(self, run: str) -> np.ndarray:
        """Logged losses of ``run``."""
        return self._frame["loss"].to_numpy()[self._rows(run)]

    def run_value(self, run: str, column: str) -> float | None:
        """The run's value of a per-run column such as ``N`` (None when absent)."""
        if not self.has(column):
            return None
        values = self._frame[column].to_numpy()[self._rows(run)]
        return None if np.all(pd.isna(values)) else values[0]

    def __repr__(self) -> str:
        last = self._frame.groupby("run_id", sort=False)["step"].max()
        return (f"Curves({counted(len(self.runs), 'run')}, {counted(len(self), 'point')} from "
                f"{Path(self.source).name if os.sep in self.source else self.source}; "
                f"steps up to {int(last.max()):,}; loss {self._frame['loss'].min():.4g}–"
                f"{self._frame['loss'].max():.4g}"
                + (f"; {self.n_lr_only} rows of other metrics" if self.n_lr_only else "")
                + (f"; {n} rows dropped" if (n := self.n_dropped - self.n_lr_only) else "") + ")")

    # -- the LR of every step --------------------------------------------------------
    def lr_array(self, run: str) -> np.ndarray:
        """The LR of every step ``0 … T-1`` of ``run`` (read-only).

        From the attached schedule if any; else from the logged ``lr`` column when it
        covers every step up to the last logged one; else, with
        ``lr_policy="interpolate"``, linearly between logged values (which must
        include step 0) and constant after the last. Otherwise :class:`InputError`.
        """
        if run in self.schedules:
            return self.schedules[run]
        rows = self._rows(run)
        last = int(self._frame["step"].to_numpy()[rows].max())
        if run not in self.lr_log:
            raise InputError(f"run {run!r}: no learning rates: a curve law needs the LR of "
                             "every step; name the logged LR when loading (lr=<column, tag "
                             "or metric>, --lr) or attach the run's schedule with "
                             "curves.with_schedules({run: schedule}) (or --schedules)"
                             + _other_columns(self._frame))
        steps, lr = self.lr_log[run]
        steps, lr = steps[steps <= last], lr[steps <= last]
        if len(steps) == last + 1:
            out = np.empty(last + 1)
            out[steps] = lr
        elif self.lr_policy == "interpolate" and len(steps) and steps[0] == 0:
            out = np.interp(np.arange(last + 1), steps, lr)
        else:
            advice = ("give its schedule with curves.with_schedules({run: schedule}) (or "
                      "--schedules TABLE" + _schedule_key_hint(self._frame) + ")")
            if not len(steps) or steps[0] != 0:  # interpolation would start from nothing
                advice += (f"; interpolating (lr_policy='interpolate') needs the LR of step 0, "
                           f"and its first logged LR is at step {int(steps[0]):,}"
                           if len(steps) else "")
            elif self.lr_policy != "interpolate":
                advice += ", or load with lr_policy='interpolate'"
            if len(steps) == last and steps[0] == 1:  # every step but 0: counted from 1
                advice = (f"its steps count from 1 (HF Trainer, Megatron), a curve law's from 0: "
                          f"subtract 1 from column {self.headers.get('step', 'step')!r} and load "
                          f"again, or {advice}")
            raise InputError(f"run {run!r} logs the LR at {len(steps):,} of its {last + 1:,} "
                             f"steps 0 … {last:,}; a curve law needs the LR of every step: "
                             + advice)
        return readonly_array(out)

    def with_schedules(self, schedules: Mapping, *, check: bool = True,
                       rtol: float = 1e-6) -> Curves:
        """Curves with the per-step LR of some runs given.

        ``schedules`` maps a run id to an array of the LR of every step, or to an object
        with an ``lr_array()`` method (a :class:`~scalinglaws.laws.schedules.Schedule`).
        The array must cover the run's last logged step; with ``check``, where the run
        logs its LR, the schedule must agree to ``rtol`` (this catches a schedule that is
        off by one step, or the wrong run's).
        """
        if not isinstance(schedules, Mapping):
            raise InputError("`schedules` must map run ids to LR arrays or schedules")
        attached = dict(self.schedules)
        for run, schedule in schedules.items():
            rows = self._rows(run)
            lr = schedule.lr_array() if hasattr(schedule, "lr_array") else schedule
            try:
                lr = readonly_array(lr)
            except (TypeError, ValueError):
                raise InputError(f"schedule of run {run!r} is not an array of numbers") from None
            last = int(self._frame["step"].to_numpy()[rows].max())
            if lr.ndim != 1 or len(lr) <= last:
                raise InputError(f"the schedule of run {run!r} has {lr.size:,} steps but the run "
                                 f"logs step {last:,}")
            if not np.all(np.isfinite(lr)) or np.any(lr < 0):
                raise InputError(f"the schedule of run {run!r} has a negative or non-finite LR")
            if check and "lr" in self._frame.columns:
                steps = self._frame["step"].to_numpy()[rows]
                logged = self._frame["lr"].to_numpy(dtype=float)[rows]
                known = np.isfinite(logged)
                gap = np.abs(lr[steps[known]] - logged[known]) > rtol * np.abs(logged[known]) + 1e-300
                if gap.any():
                    i = int(np.flatnonzero(gap)[0])
                    given, seen = float(lr[steps[known][i]]), float(logged[known][i])
                    # one digit more than first shows the two apart (the check is to rtol,
                    # 1e-6; at 6 digits both read 0.0003), so the last one is not rounded
                    digits = next((d + 1 for d in range(6, 17)
                                   if f"{given:.{d}g}" != f"{seen:.{d}g}"), 17)
                    raise InputError(
                        f"the schedule of run {run!r} gives LR {given:.{digits}g} at step "
                        f"{int(steps[known][i])} but the run logged {seen:.{digits}g} there"
                        + (f" (relative difference {abs(given / seen - 1):.2g}, more than "
                           f"rtol={rtol:g})" if seen else "")
                        + f"; {int(gap.sum())} disagreements; is it the right schedule, with "
                        "step t holding the LR used at step t?")
            attached[run] = lr
        return replace(self, schedules=attached)

    # -- selections ---------------------------------------------------------------------
    def select(self, runs=None, *, mask=None) -> Curves:
        """The curves of some ``runs`` (ids), or the points where ``mask`` is True."""
        keep = np.ones(len(self), bool)
        if runs is not None:
            runs = [runs] if isinstance(runs, str) else list(runs)
            for run in runs:
                self._rows(run)
            keep &= self._frame["run_id"].isin(runs).to_numpy()
        if mask is not None:
            mask = mask(self._frame) if callable(mask) else mask
            mask = np.asarray(mask)
            if mask.dtype != bool or mask.shape != (len(self),):
                raise InputError(f"`mask` must be {len(self)} booleans")
            keep &= mask
        if not keep.any():
            raise InputError("the selection keeps no point")
        frame = self._frame.loc[keep].reset_index(drop=True)
        kept = set(frame["run_id"])
        return replace(self, _frame=_readonly(frame),
                       row_numbers=tuple(np.asarray(self.row_numbers)[keep].tolist()),
                       schedules={r: a for r, a in self.schedules.items() if r in kept},
                       lr_log={r: v for r, v in self.lr_log.items() if r in kept})

    def truncate(self, fraction: float | None = None, *, max_step: int | None = None) -> Curves:
        """Each run's points up to ``max_step``, or up to ``fraction`` of its last step
        (a run part-way through); schedules keep their full length."""
        if (fraction is None) == (max_step is None):
            raise InputError("give exactly one of `fraction` and `max_step`")
        steps = self._frame["step"].to_numpy()
        if fraction is not None:
            fraction = check_positive("fraction", fraction)
            last = self._frame.groupby("run_id", sort=False)["step"].transform("max").to_numpy()
            return self.select(mask=steps <= fraction * last)
        return self.select(mask=steps <= max_step)

    def fingerprint(self) -> str:
        """``"sha256:<hex>"`` of run ids, steps, losses and the LR arrays used."""
        parts = [("step", self._frame["step"].to_numpy(dtype=float)),
                 ("loss", self._frame["loss"].to_numpy(dtype=float))]
        codes = pd.factorize(self._frame["run_id"])[0].astype(float)
        parts.append(("run", codes))
        for run in self.runs:
            if run in self.schedules:
                parts.append((f"lr:{run}", self.schedules[run]))
        return fingerprint_arrays(parts)


def _readonly(frame: pd.DataFrame) -> pd.DataFrame:
    for column in frame.columns:
        values = frame[column].to_numpy()
        if isinstance(values, np.ndarray) and values.dtype != object:
            try:
                values.flags.writeable = False
            except ValueError:  # pandas may hand out a copy; nothing to protect then
                pass
    return frame


def _schedule_key_hint(frame) -> str:
    """`` --schedule-key COLUMN``, naming the column most likely to key each run's schedule:
    of those named like one, the one with the most values (Luo et al.'s curves:
    ``schedule_file``, one per schedule, not ``schedule``, one per kind)."""
    named = sorted((c for c in frame.columns if "schedule" in str(c).lower()),
                   key=lambda column: -frame[column].nunique())
    return (f" --schedule-key {named[0]}, the column naming each run's schedule in both tables"
            if named else " --schedule-key COLUMN")


def _other_columns(frame) -> str:
    """The columns beyond a curve's own that may hold the LR (named in the error)."""
    others = [c for c in frame.columns if c not in CURVE_ALIASES]  # beyond a curve's own
    return f"; other columns loaded: {named_list(others, 10)}" if others else ""

