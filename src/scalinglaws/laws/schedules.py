"""Learning-rate schedules as formulas: the LR of every step of a run, trained or not.

A curve law (:mod:`scalinglaws.laws.curve_laws`) needs the learning rate of *every*
optimizer step, not only of the logged ones. A :class:`Schedule` gives it from a few
numbers, so the loss of a run that was never trained can be predicted from its planned
schedule:

============  ==================================================================
kind          LR at step t >= W (after a linear warmup of W steps)
============  ==================================================================
constant      eta_max
cosine        eta_end + (eta_max - eta_end) (1 + cos(pi (t - W) / (T - W))) / 2
linear        eta_max + (eta_end - eta_max) (t - W) / (T - W)
wsd           eta_max until ``decay_start`` = d, then a decay to eta_end at T with
              shape ``exponential`` (eta_max^((T-t)/(T-d)) eta_end^((t-d)/(T-d))),
              ``linear``, ``cosine`` or ``sqrt`` (eta_max - (eta_max - eta_end)
              sqrt((t-d)/(T-d)), Hägele et al. 2024)
two_stage     eta_max until ``decay_start``, then ``final_lr``
step          eta_max times ``factor`` to the number of ``milestones`` <= t
============  ==================================================================

Conventions (Luo et al. 2025, the Multi-Power Law repository's ``lr_schedules.py``,
checked against every row of their published curves): steps are 0-based, the array
holds T values, ``lr[t]`` is the LR *used at* step t, and the warmup is
``lr[0:W] = linspace(0, eta_max, W)`` (so ``lr[0] = 0`` and ``lr[W-1] = eta_max``).

Examples
--------
>>> wsd = Schedule.wsd(24000, 3e-4, final_lr=3e-5, decay_start=20000, warmup_steps=2160)
>>> lr = wsd.lr_array()
>>> len(lr), float(lr[2159]), float(lr[19999]), round(float(lr[-1]), 8)
(24000, 0.0003, 0.0003, 3.007e-05)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._exceptions import InputError
from .._text import named_list
from .._validation import check_choice, check_int, check_nonnegative, check_positive

__all__ = ["DECAY_SHAPES", "KINDS", "Schedule", "attach_schedules", "read_schedules"]

KINDS = ("constant", "cosine", "linear", "wsd", "two_stage", "step")
DECAY_SHAPES = ("exponential", "linear", "cosine", "sqrt")
#: other names accepted for a kind (e.g. the columns of Luo et al.'s schedule table)
_KIND_ALIASES = {"wsd_exp": ("wsd", "exponential"), "wsd_linear": ("wsd", "linear"),
                 "wsdld": ("wsd", "linear"), "wsd_cosine": ("wsd", "cosine"),
                 "wsd_sqrt": ("wsd", "sqrt"), "wsdcon": ("two_stage", None),
                 "twostage": ("two_stage", None), "const": ("constant", None),
                 "cos": ("cosine", None)}
#: spec keys and the other names a table may use for them
_SPEC_ALIASES = {
    "kind": ("kind", "schedule", "type"),
    "total_steps": ("total_steps", "steps"),
    "peak_lr": ("peak_lr", "lr", "max_lr", "eta_max"),
    "warmup_steps": ("warmup_steps", "warmup"),
    "final_lr": ("final_lr", "end_lr", "min_lr", "second_lr", "final_or_second_stage_lr",
                 "eta_end"),
    "decay_start": ("decay_start", "switch_step", "decay_or_switch_step"),
    "decay_shape": ("decay_shape", "decay"),
    "milestones": ("milestones",),
    "factor": ("factor", "gamma"),
}
#: a table's decay_shape cell may say it in words
_SHAPE_WORDS = {"exp": "exponential", "geometric": "exponential", "lin": "linear",
                "cos": "cosine", "1-sqrt": "sqrt"}


@dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule given by a formula (see the module docstring).

    Build one with the class methods (:meth:`constant`, :meth:`cosine`, :meth:`linear`,
    :meth:`wsd`, :meth:`two_stage`, :meth:`step`) or :meth:`from_spec`.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    total_steps : int
        T, the number of optimizer steps (the array has T values, steps 0 … T-1).
    peak_lr : float
        eta_max, the LR after warmup.
    warmup_steps : int
        W, steps of linear warmup from 0 (0 for none).
    final_lr : float or None
        eta_end: the LR the decay ends at (cosine, linear, wsd), or the second-stage LR
        (two_stage).
    decay_start : int or None
        Step where the wsd decay starts, or where two_stage switches.
    decay_shape : str or None
        Shape of the wsd decay, one of :data:`DECAY_SHAPES`.
    milestones : tuple of int
        Steps where a ``step`` schedule multiplies the LR by ``factor``.
    factor : float or None
        The multiplier of a ``step`` schedule.
    """

    kind: str
    total_steps: int
    peak_lr: float
    warmup_steps: int = 0
    final_lr: float | None = None
    decay_start: int | None = None
    decay_shape: str | None = None
    milestones: tuple = field(default=())
    factor: float | None = None

    def __post_init__(self):
        kind = check_choice("kind", self.kind, KINDS)
        total = check_int("total_steps", self.total_steps, 1)
        from ..data.curves import MAX_STEPS  # lr_array() holds every step

        if total > MAX_STEPS:
            raise InputError(f"`total_steps` is {total:,}, beyond {MAX_STEPS:,}: more optimizer "
                             "steps than any training run; is it a count of tokens (steps = "
                             "tokens / (batch size x sequence length))?")
        peak = check_positive("peak_lr", self.peak_lr)
        warmup = check_int("warmup_steps", self.warmup_steps, 0, total)
        final, start, shape, factor = self.final_lr, self.decay_start, self.decay_shape, None
        milestones = ()
        if kind in ("cosine", "linear", "wsd", "two_stage"):
            if final is None:
                raise InputError(f"a {kind} schedule needs `final_lr` (the LR "
                                 + ("of the second stage)" if kind == "two_stage"
                                    else "the decay ends at), e.g. 0.1 * peak_lr"))
            final = check_nonnegative("final_lr", final)
            if kind != "two_stage" and final > peak:
                # the laws' loss-drop terms read a decay's LR decreases; a rising one is
                # another schedule (a second stage above the first is a two_stage)
                raise InputError(f"`final_lr` ({final:g}) is above `peak_lr` ({peak:g}): a "
                                 f"{kind} schedule decays from the peak LR down to the final one")
        elif final is not None:
            raise InputError(f"`final_lr` does not apply to a {kind} schedule")
        if kind in ("wsd", "two_stage"):
            if start is None:
                raise InputError(f"a {kind} schedule needs `decay_start` (the step where "
                                 + ("the second stage starts)" if kind == "two_stage"
                                    else "the decay starts)"))
            start = check_int("decay_start", start, warmup, total)
        elif start is not None:
            raise InputError(f"`decay_start` does not apply to a {kind} schedule")
        if kind == "wsd":
            shape = check_choice("decay_shape", shape or "linear", DECAY_SHAPES)
            if shape == "exponential" and final == 0:
                raise InputError("an exponential wsd decay needs `final_lr` > 0 (it interpolates "
                                 "log LR between peak_lr and final_lr)")
        elif shape is not None:
            raise InputError(f"`decay_shape` applies to wsd schedules, not to {kind}")
        if kind == "step":
            milestones = tuple(check_int("milestones", m, warmup, total)
                               for m in (self.milestones or ()))
            if not milestones or list(milestones) != sorted(set(milestones)):
                raise InputError("a step schedule needs `milestones`: increasing steps where the "
                                 f"LR is multiplied by `factor`, got {self.milestones!r}")
            factor = check_positive("factor", self.factor if self.factor is not None else -1.0)
        elif self.milestones or self.factor is not None:
            raise InputError(f"`milestones` and `factor` apply to step schedules, not to {kind}")
        for name, value in (("kind", kind), ("total_steps", total), ("peak_lr", peak),
                            ("warmup_steps", warmup), ("final_lr", final), ("decay_start", start),
                            ("decay_shape", shape), ("milestones", milestones),
                            ("factor", factor)):
            object.__setattr__(self, name, value)

    # -- constructors --------------------------------------------------------------
    @classmethod
    def constant(cls, total_steps, peak_lr, *, warmup_steps=0) -> Schedule:
        """Constant LR after warmup."""
        return cls("constant", total_steps, peak_lr, warmup_steps)

    @classmethod
    def cosine(cls, total_steps, peak_lr, *, final_lr, warmup_steps=0) -> Schedule:
        """Cosine decay from ``peak_lr`` (end of warmup) to ``final_lr`` (step T)."""
        return cls("cosine", total_steps, peak_lr, warmup_steps, final_lr)

    @classmethod
    def linear(cls, total_steps, peak_lr, *, final_lr, warmup_steps=0) -> Schedule:
        """Linear decay from ``peak_lr`` (end of warmup) to ``final_lr`` (step T)."""
        return cls("linear", total_steps, peak_lr, warmup_steps, final_lr)

    @classmethod
    def wsd(cls, total_steps, peak_lr, *, final_lr, decay_start=None, decay_steps=None,
            decay_shape="linear", warmup_steps=0) -> Schedule:
        """Warmup-stable-decay: ``peak_lr`` until the decay, which takes the last
        ``decay_steps`` steps (or starts at ``decay_start``) and ends at ``final_lr``."""
        if (decay_start is None) == (decay_steps is None):
            raise InputError("give exactly one of `decay_start` and `decay_steps`")
        if decay_steps is not None:
            decay_start = check_int("total_steps", total_steps, 1) - check_int(
                "decay_steps", decay_steps, 0, total_steps)
        return cls("wsd", total_steps, peak_lr, warmup_steps, final_lr, decay_start, decay_shape)

    @classmethod
    def two_stage(cls, total_steps, peak_lr, *, final_lr, decay_start, warmup_steps=0) -> Schedule:
        """``peak_lr`` until ``decay_start``, then ``final_lr`` (a step drop)."""
        return cls("two_stage", total_steps, peak_lr, warmup_steps, final_lr, decay_start)

    @classmethod
    def step(cls, total_steps, peak_lr, *, milestones, factor, warmup_steps=0) -> Schedule:
        """``peak_lr`` multiplied by ``factor`` at each of ``milestones``."""
        return cls("step", total_steps, peak_lr, warmup_steps, milestones=tuple(milestones),
                   factor=factor)

    def with_total_steps(self, total_steps: int) -> Schedule:
        """The same schedule over ``total_steps`` steps (a wsd decay keeps its length)."""
        total_steps = check_int("total_steps", total_steps, 1)
        if self.kind == "wsd":
            length = self.total_steps - self.decay_start
            return replace(self, total_steps=total_steps,
                           decay_start=max(self.warmup_steps, total_steps - length))
        return replace(self, total_steps=total_steps)

    # -- the LR array ----------------------------------------------------------------
    def lr_array(self) -> np.ndarray:
        """The LR of every step ``0 … T-1`` (float64, read-only)."""
        T, W, peak = self.total_steps, self.warmup_steps, self.peak_lr
        lr = np.empty(T)
        lr[:W] = np.linspace(0.0, peak, W)
        t = np.arange(W, T, dtype=float)
        span = max(T - W, 1)
        final = self.final_lr
        if self.kind == "constant":
            lr[W:] = peak
        elif self.kind == "cosine":
            lr[W:] = final + 0.5 * (peak - final) * (1.0 + np.cos(np.pi * (t - W) / span))
        elif self.kind == "linear":
            lr[W:] = peak + (final - peak) * (t - W) / span
        elif self.kind == "two_stage":
            lr[W:] = np.where(t < self.decay_start, peak, final)
        elif self.kind == "step":
            lr[W:] = peak * self.factor ** np.searchsorted(self.milestones, t, side="right")
        else:  # wsd
            d = self.decay_start
            x = np.clip((t - d) / max(T - d, 1), 0.0, None)
            if self.decay_shape == "exponential":
                decayed = peak ** (1.0 - x) * final ** x
            elif self.decay_shape == "linear":
                decayed = peak + (final - peak) * x
            elif self.decay_shape == "cosine":
                decayed = final + 0.5 * (peak - final) * (1.0 + np.cos(np.pi * x))
            else:
                decayed = peak - (peak - final) * np.sqrt(x)
            lr[W:] = np.where(t < d, peak, decayed)
        lr.flags.writeable = False
        return lr

    # -- plain data ----------------------------------------------------------------
    def to_spec(self) -> dict:
        """Plain-type description; :meth:`from_spec` rebuilds the schedule from it."""
        spec = {"kind": self.kind, "total_steps": self.total_steps, "peak_lr": self.peak_lr,
                "warmup_steps": self.warmup_steps}
        for name in ("final_lr", "decay_start", "decay_shape", "factor"):
            if getattr(self, name) is not None:
                spec[name] = getattr(self, name)
        if self.milestones:
            spec["milestones"] = list(self.milestones)
        return spec

    @classmethod
    def from_spec(cls, spec: Mapping, *, where: str = "schedule") -> Schedule:
        """A schedule from a dict such as ``{"kind": "wsd", "total_steps": 24000,
        "peak_lr": 3e-4, "final_lr": 3e-5, "decay_start": 20000, "decay_shape":
        "exponential", "warmup_steps": 2160}``. Keys may use the other names in
        ``_SPEC_ALIASES`` (e.g. Luo et al.'s ``final_or_second_stage_lr``); the kinds
        ``wsd_exp``, ``wsd_linear`` and ``wsdcon`` are understood; missing values (None,
        NaN, "") are absent."""
        if not isinstance(spec, Mapping):
            raise InputError(f"{where}: a schedule spec must be a dict, got {type(spec).__name__}")
        given = {_normal(key): value for key, value in spec.items() if not _missing(value)}
        values: dict[str, Any] = {}
        for name, aliases in _SPEC_ALIASES.items():
            found = [alias for alias in aliases if alias in given]
            if len(found) > 1:
                raise InputError(f"{where}: both {found[0]!r} and {found[1]!r} give {name}")
            if found:
                values[name] = given[found[0]]
        if "kind" not in values:
            raise InputError(f"{where}: no schedule kind (one of {', '.join(KINDS)})")
        kind = _normal(values["kind"])
        kind, implied_shape = _KIND_ALIASES.get(kind, (kind, None))
        values["kind"] = kind
        if implied_shape is not None:
            values["decay_shape"] = implied_shape
        elif "decay_shape" in values:
            word = _normal(values["decay_shape"]).split(" ")[0]
            values["decay_shape"] = _SHAPE_WORDS.get(word, word)
        for name in ("total_steps", "warmup_steps", "decay_start"):
            if name in values:
                values[name] = _whole(values[name], f"{where}: {name}")
        for name in ("peak_lr", "final_lr", "factor"):
            if name in values:
                values[name] = _float(values[name], f"{where}: {name}")
        if "milestones" in values:
            raw = values["milestones"]
            raw = raw.replace(";", ",").split(",") if isinstance(raw, str) else list(raw)
            values["milestones"] = tuple(_whole(m, f"{where}: milestones") for m in raw)
        if "total_steps" not in values or "peak_lr" not in values:
            raise InputError(f"{where}: a schedule needs total_steps and peak_lr")
        try:
            return cls(**values)
        except InputError as error:
            raise InputError(f"{where}: {error}") from None


def _normal(text) -> str:
    return str(text).strip().lower().replace("-", "_")


def _missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() in ("", "nan", "none", "null", "na")
    return isinstance(value, float) and math.isnan(value)


def _float(value, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where} must be a number, got {value!r}") from None


def _whole(value, where: str) -> int:
    number = _float(value, where)
    if not math.isfinite(number) or number != int(number):
        raise InputError(f"{where} must be a whole number of steps, got {value!r}")
    return int(number)


def _key_column(columns, key: str, same_as: str | None, path) -> str:
    """The column of a schedules table keyed by ``key``: ``key`` itself, else, when the
    curves' column ``same_as`` is given, the one column that means it as
    :func:`~scalinglaws.data.curves.load_curves` reads headers (``run_name`` for
    ``run_id`` and back)."""
    from ..data.columns import normalise
    from ..data.curve_logs import CURVE_ALIASES

    if key in columns:
        return key

    def canonical(name):
        return next((c for c, aliases in CURVE_ALIASES.items()
                     if name == c or normalise(name) in aliases), None)

    found = [] if same_as is None else [c for c in columns if same_as in (c, canonical(c))]
    if len(found) != 1:
        raise InputError(f"{path}: no column {key!r} to key the schedules by; columns: "
                         f"{', '.join(map(str, columns))}")
    return found[0]


def read_schedules(path, *, key: str, format: str | None = None,
                   same_as: str | None = None) -> dict[str, Schedule]:
    """A schedule per row of a table (CSV, JSONL, Parquet...), keyed by column ``key``.

    The columns are the spec keys of :meth:`Schedule.from_spec` or their other names,
    so Luo et al.'s ``mpl_luo2025_schedules.csv`` reads as is with
    ``key="schedule_file"``; other columns are ignored. Messages name the row. With
    ``same_as`` (the curves' column ``key`` stands for, as :func:`attach_schedules` gives
    it), a column read as the same curve column also keys them (``key="run_id"`` finds
    ``run_name``, and back).
    """
    from ..data.readers import read_table

    table = read_table(str(path), format=format)
    frame = table.frame
    key = _key_column(frame.columns, key, same_as, path)
    schedules: dict[str, Schedule] = {}
    for row, record in enumerate(frame.to_dict(orient="records")):
        line = "" if table.lines is None else f" (line {int(table.lines[row])})"
        name = str(record.pop(key))
        if name in schedules:
            raise InputError(f"{path}: row {row}{line}: {key} {name!r} appears twice")
        schedules[name] = Schedule.from_spec(record, where=f"{path}: row {row}{line}")
    if not schedules:
        raise InputError(f"{path}: no schedules (the table is empty)")
    return schedules


def attach_schedules(curves, schedules, *, key: str = "run_id", check: bool = True):
    """``curves`` with each run's schedule attached from a table (a path, as
    :func:`read_schedules`) or a mapping of schedules, looked up by the run's value of
    column ``key`` (``"run_id"``: by run id; the header the run ids were read from, such
    as ``"run_name"``, also means them, in both tables).

    Examples
    --------
    >>> from scalinglaws.data.curves import load_curves
    >>> curves = load_curves({"run_id": ["a", "a"], "step": [5, 9], "loss": [3.0, 2.9],
    ...                       "plan": ["short", "short"]})
    >>> plans = {"short": Schedule.constant(10, 1e-3, warmup_steps=2)}
    >>> attach_schedules(curves, plans, key="plan").lr_array("a")[:3].tolist()
    [0.0, 0.001, 0.001]
    """
    # the user's own header works too: run_name, read as run_id
    column = "run_id" if key in ("run_id", "run") else curves.column(key)
    if column is None:
        raise InputError(f"the curves have no column {key!r} naming each run's schedule; "
                         f"columns: {', '.join(map(str, curves.frame.columns))}")
    table = read_schedules(schedules, key=key, same_as=column) \
        if not isinstance(schedules, Mapping) else schedules
    names = {run: run if column == "run_id" else str(curves.run_value(run, column))
             for run in curves.runs}
    missing = sorted({name for name in names.values() if name not in table})
    if missing:
        keys = sorted(map(str, table))
        raise InputError(f"no schedule for {named_list([repr(name) for name in missing])}; the "
                         f"schedules are keyed {named_list([repr(key) for key in keys], 10)} "
                         f"(matched against the curves' {column!r})")
    return curves.with_schedules({run: table[name] for run, name in names.items()},
                                 check=check)
