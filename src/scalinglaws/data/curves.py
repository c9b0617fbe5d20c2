"""Training curves: the loss of each run at many steps, with the learning rate of every step.

:func:`load_curves` reads a CSV/TSV/JSON/JSON-lines/Parquet table (long format: one row
per logged point), a Weights & Biases export (the API's ``run.history()`` with ``_step``,
``train/loss``, ``lr``... or the web UI's wide ``"<run> - <metric>"`` panel export), a
TensorBoard event directory (needs ``tensorboard``) or an MLflow tracking store (needs
``mlflow``), a DataFrame or a dict of columns, and returns a :class:`Curves`: a validated,
frozen table whose canonical columns are

==========  ============================================================================
run_id      which run the point belongs to (text)
step        optimizer step, 0-based (integer >= 0; or tokens / ``tokens_per_step``)
loss        the logged loss, nats/token (> 0)
lr          the LR used at that step, where logged (NaN elsewhere)
tokens      training tokens seen at that step (given, or step x ``tokens_per_step``)
N           parameters of the run (one value per run)
==========  ============================================================================

plus every other column under its own name. A curve law needs the LR of *every* step;
:meth:`Curves.lr_array` gives it from a schedule attached with
:meth:`Curves.with_schedules`, or from the logged ``lr`` column when it covers every step
(or, with ``lr_policy="interpolate"``, by linear interpolation between logged values).

What the logs get wrong, and what happens (each an explicit policy):

* a bad cell (text, inf, a negative step, a loss <= 0) always raises, naming file, row,
  line and column;
* a missing loss raises (``nan_policy="raise"``) or the row is dropped and counted
  (``"omit"``; the default for W&B exports, which log each metric at its own steps);
* a step logged twice in a run raises (``duplicates="raise"``) or keeps the ``"first"``
  or ``"last"`` logged value or their ``"mean"``;
* steps that go backwards (a restarted run) raise (``unsorted="raise"``) or are sorted
  (``"sort"``; with ``duplicates="last"`` a restart's re-logged steps win);
* a loss spike (more than ``spike_threshold`` above the medians of its 3 neighbours on
  either side; the last point of a run against its left side only) is kept with a
  warning (``spikes="warn"``), kept silently, dropped or raises. The first point of a run
  is not judged: with neighbours on one side only, a spike there looks like the falling
  start every curve has.

TensorBoard and MLflow logs are read point by point in the order logged, repeats included,
so these policies see a resumed run's re-logged steps as they see a table's; their
messages name the run and step instead of a row.

This module reads and validates; the table it returns, :class:`Curves`, lives in
:mod:`scalinglaws.data.curve_table` (and is importable from here).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._exceptions import InputError, ScalingLawsWarning
from .._text import named_list
from .._validation import check_choice, check_positive, parse_quantity
from .curve_logs import CURVE_ALIASES, from_wide, is_wandb, resolve_curve_columns, sniff_directory
from .curve_policies import (MAX_STEPS, Places, apply_spike_policy, cell_text, check_step_count,
                             logged_lr, one_run_advice, order_points, steps_of_tokens)
from ._plausibility import LOSS_UNITS, loss_tails, to_nats, warn_units
from .curve_table import Curves, _readonly  # the table itself; re-exported here
from .readers import checked_frame, read_data, read_table
from .runs import _to_float

__all__ = ["CURVE_ALIASES", "MAX_STEPS", "Curves", "load_curves"]

_CANONICAL = tuple(CURVE_ALIASES)


# ----------------------------------------------------------------------------- building


def _numbers(table, column, name, source, places, thousands):
    values, not_number = _to_float(table[column], thousands)
    bad = not_number | np.isinf(values)
    if name == "step":
        with np.errstate(invalid="ignore"):
            bad |= (values < 0) | (np.isfinite(values) & (values != np.round(values)))
    elif name in ("loss", "N", "tokens"):
        with np.errstate(invalid="ignore"):
            bad |= values <= 0 if name != "tokens" else values < 0
    elif name == "lr":
        with np.errstate(invalid="ignore"):
            bad |= values < 0
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        cell = table[column].iloc[row]
        what = {"step": "a whole number >= 0", "loss": "a finite number > 0",
                "N": "a finite number > 0", "tokens": "a finite number >= 0",
                "lr": "a finite number >= 0"}.get(name, "a number")
        first = f"{places.cell(row, column, name)}: value {cell_text(cell)} is not {what}"
        raise InputError(f"{source}: " + named_list([first], total=int(bad.sum()), sep="; ",
                                                    noun="bad cell"))
    return values


def _build(table: pd.DataFrame, source: str, lines, thousands: bool, *, columns, metric, lr,
           run, N, tokens_per_step, nan_policy, duplicates, unsorted, spikes,
           spike_threshold, lr_policy, loss_units=None, wandb: bool, log: bool = False,
           loss_name=None, origin=None) -> Curves:
    table = checked_frame(table, source, "points")
    columns = dict(columns or {})
    for name, given in (("loss", metric), ("lr", lr)):
        if given is not None:
            if name in columns:
                raise InputError(f"give the {name} column once (columns= or "
                                 f"{'metric' if name == 'loss' else 'lr'}=)")
            columns[name] = given
    mapping = resolve_curve_columns(table, columns, source, tokens_per_step is not None)
    places = (Places(runs=table[mapping["run_id"]].astype(str).to_numpy(dtype=object),
                      steps=table[mapping["step"]].to_numpy()) if log else
              Places(lines, file_rows=origin["rows"], headers=origin["headers"]) if origin else
              Places(lines))
    values = {name: _numbers(table, column, name, source, places, thousands)
              for name, column in mapping.items() if name != "run_id"}
    if "step" not in mapping:  # the steps from a tokens column
        values["step"] = steps_of_tokens(values["tokens"], tokens_per_step, source, places,
                                         mapping["tokens"])
        tokens_per_step = None
    check_step_count(values["step"], source, places, mapping.get("step", mapping.get("tokens")))
    loss_name = loss_name or mapping["loss"]  # a log's metric, as the user knows it
    if loss_units not in (None, "nats"):
        column = lambda row: places.header(row, "loss") or loss_name  # noqa: E731
        values["loss"] = to_nats(values["loss"], loss_units, source, column, places.point)
    policy = nan_policy if nan_policy != "auto" else ("omit" if wandb else "raise")
    missing = np.isnan(values["loss"]) | np.isnan(values["step"])
    notes = list(origin["notes"]) if origin else []
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        if policy == "raise":
            what = "loss" if np.isnan(values["loss"][row]) else "step"
            raise InputError(f"{source}: {places.point(row, what)}: no {what} value "
                             f"({int(missing.sum())} such rows); to drop them set nan_policy "
                             "to 'omit'")
    if "run_id" in mapping:
        labels = table[mapping["run_id"]]
        if labels.isna().any():
            row = int(np.flatnonzero(labels.isna().to_numpy())[0])
            raise InputError(f"{source}: {places.point(row)}: no run id in column "
                             f"'{mapping['run_id']}'")
        runs = labels.astype(str).to_numpy(dtype=object)
    else:
        default = "run" if source.startswith("<") else Path(source).stem
        runs = np.full(len(table), run or default or "run", dtype=object)
    after, tails = loss_tails(runs, values["step"], ~missing)
    if missing.any():
        notes.append(f"dropped {int(missing.sum())} rows without a loss or step value (first: "
                     f"{places.point(row)}): {int((missing & ~after).sum())} of other "
                     "metrics (their LR is kept)" + (f", {int(after.sum())} after the last "
                                                     "loss of a run that diverged"
                                                     if after.any() else ""))
    for name, (last_loss, last, intervals) in tails.items():
        warnings.warn(f"{source}: run {name!r} logs no loss after step {last_loss:,} but goes on "
                      f"to step {last:,} ({intervals:.0f} of its loss intervals): did it diverge "
                      f"(NaN losses from there)? Its curve ends at step {last_loss:,}",
                      ScalingLawsWarning, stacklevel=2)
    frame = pd.DataFrame({"run_id": runs, "step": values["step"], "loss": values["loss"]})
    for name in ("lr", "tokens", "N"):
        if name in values:
            frame[name] = values[name]
    extras = [c for c in table.columns if c not in mapping.values()]
    for column in extras:
        frame[column if column not in frame.columns else f"{column}_unused"] = table[column]
    frame["_row"] = np.arange(len(table))
    logged = frame  # with the rows without a loss, which may log an LR
    frame = frame.loc[~missing].reset_index(drop=True)
    if frame.empty:
        raise InputError(f"{source}: no points left after dropping rows without a loss")
    # the checks load_runs makes: a loss named or sized like a perplexity or bits
    rows = frame["_row"].to_numpy()
    warn_units(frame[["loss"]], {"loss": loss_name}, (), source,
               lambda i: places.point(int(rows[i]), "loss"), loss_units=loss_units)
    frame["step"] = frame["step"].astype(np.int64)
    advice = "" if "run_id" in mapping or run is not None else \
        one_run_advice(frame, table.columns, extras, source, places)
    frame, dropped = order_points(frame, source, places, duplicates, unsorted, notes,
                                  advice=advice)
    lr_log = (logged_lr(logged, source, places, duplicates, unsorted, notes, advice)
              if "lr" in logged.columns else {})
    frame, spiked = apply_spike_policy(frame, source, places, spikes, spike_threshold, notes)
    frame = _run_level(frame, N, tokens_per_step, source)
    rows = tuple(places.file_row(int(r)) for r in frame.pop("_row"))
    ordered = [c for c in _CANONICAL if c in frame.columns]
    frame = frame[ordered + [c for c in frame.columns if c not in ordered]]
    for note in notes:
        if "spike" in note and spikes == "warn":
            warnings.warn(f"{source}: {note}", ScalingLawsWarning, stacklevel=2)
    return Curves(_frame=_readonly(frame), source=source, row_numbers=rows, lr_log=lr_log,
                  n_dropped=int(missing.sum()) + dropped + spiked, notes=tuple(notes),
                  n_lr_only=int((missing & ~after).sum()),
                  lr_policy=lr_policy, headers={k: str(v) for k, v in mapping.items()})


def _size(value):
    """``N=`` as a number: ``"100M"`` and ``"1.4B"`` are read as the CLI's ``--N`` reads
    them (a table's cells too); anything else goes to the positivity check as given."""
    if isinstance(value, str):
        parsed = parse_quantity(value)
        return value if parsed is None else parsed
    return value


def _run_level(frame, N, tokens_per_step, source):
    """One N per run (column, scalar or mapping); tokens from tokens_per_step if asked."""
    if N is not None:
        if "N" in frame.columns:
            raise InputError("N is both a column and an argument; give it once")
        if isinstance(N, Mapping):
            unknown = [r for r in N if r not in set(frame["run_id"])]
            if unknown:
                raise InputError(f"`N` names unknown runs {unknown}")
            frame["N"] = frame["run_id"].map({r: check_positive(f"N[{r!r}]", _size(v))
                                              for r, v in N.items()}).astype(float)
        else:
            frame["N"] = check_positive("N", _size(N))
    if "N" in frame.columns:
        spread = frame.groupby("run_id", sort=False)["N"].agg(["min", "max"])
        varying = spread.index[(spread["min"] != spread["max"]).to_numpy()]
        if len(varying):
            raise InputError(f"{source}: run {varying[0]!r} has several values of N; N is one "
                             "value per run")
    if tokens_per_step is not None:
        if "tokens" in frame.columns:
            raise InputError("tokens is both a column and tokens_per_step; give it once")
        frame["tokens"] = frame["step"].to_numpy(dtype=float) * check_positive(
            "tokens_per_step", tokens_per_step)
    return frame


# ----------------------------------------------------------------------------- entry point

_LOG_FORMATS = ("tensorboard", "mlflow")


def load_curves(data: Any, columns: Mapping | None = None, *, format: str | None = None,
                metric: str | None = None, lr: str | None = None, run: str | None = None,
                N=None, tokens_per_step: float | None = None, schedules: Mapping | None = None,
                nan_policy: str = "auto", duplicates: str = "raise", unsorted: str = "raise",
                spikes: str = "warn", spike_threshold: float = 0.2,
                lr_policy: str = "exact", loss_units: str | None = None) -> Curves:
    """Read and validate training curves (see the module docstring for the formats).

    Parameters
    ----------
    data : path, list of paths, DataFrame or dict
        A table file, a list of them (a run per file unless they hold a run column), a
        TensorBoard log directory or an MLflow store (``format=`` says which; a
        directory holding ``*.tfevents.*`` files is read as TensorBoard, one holding
        ``meta.yaml`` files as MLflow), a DataFrame or a dict of columns.
    columns : mapping, optional
        Canonical name (``run_id``, ``step``, ``loss``, ``lr``, ``tokens``, ``N``) ->
        column, tag or metric name; wins over recognised headers (:data:`CURVE_ALIASES`).
    format : str, optional
        ``csv``, ``tsv``, ``json``, ``jsonl``, ``parquet``, ``tensorboard`` or ``mlflow``.
    metric, lr : str, optional
        The column/tag/metric holding the loss and the LR (shorthands for ``columns``).
    run : str, optional
        Run id for a table without a run column (default: the file name).
    N : float or mapping, optional
        Parameters of every run, or per run id.
    tokens_per_step : float, optional
        Tokens per optimizer step (batch size x sequence length): ``tokens = step x
        tokens_per_step``, or, for a table with a tokens column and no step column,
        ``step = tokens / tokens_per_step``. Steps beyond :data:`MAX_STEPS` (1e7) are
        refused: a count of tokens read as steps.
    schedules : mapping, optional
        Run id -> LR array or schedule, as :meth:`Curves.with_schedules`.
    nan_policy : {"auto", "raise", "omit"}
        Rows without a loss: raise or drop (``auto``: drop for W&B exports and
        TensorBoard/MLflow logs, where metrics are logged at different steps; raise
        otherwise).
    duplicates : {"raise", "first", "last", "mean"}
        A step logged twice in one run.
    unsorted : {"raise", "sort"}
        Steps that go backwards within a run.
    spikes : {"warn", "keep", "omit", "raise"}
        Losses more than ``spike_threshold`` (relative) above the median of their
        neighbours.
    lr_policy : {"exact", "interpolate"}
        How :meth:`Curves.lr_array` fills steps whose LR was not logged.
    loss_units : {"nats", "bits", "perplexity"}, optional
        What the loss holds, converted to nats per token (bits x ln 2, ln perplexity).
        Without it a loss named or sized like a perplexity or bits is announced with a
        :class:`~scalinglaws.UnitsWarning`, as :func:`~scalinglaws.data.runs.load_runs`
        does (:mod:`scalinglaws.data._plausibility`).

    Returns
    -------
    Curves

    Examples
    --------
    >>> curves = load_curves({"step": [0, 1, 2], "loss": [4.0, 3.5, 3.2],
    ...                       "lr": [1e-4, 2e-4, 2e-4]}, run="demo")
    >>> curves.runs, curves.lr_array("demo").tolist()
    (('demo',), [0.0001, 0.0002, 0.0002])
    """
    nan_policy = check_choice("nan_policy", nan_policy, ("auto", "raise", "omit"))
    duplicates = check_choice("duplicates", duplicates, ("raise", "first", "last", "mean"))
    unsorted = check_choice("unsorted", unsorted, ("raise", "sort"))
    spikes = check_choice("spikes", spikes, ("warn", "keep", "omit", "raise"))
    lr_policy = check_choice("lr_policy", lr_policy, ("exact", "interpolate"))
    spike_threshold = check_positive("spike_threshold", spike_threshold)
    if loss_units is not None:
        loss_units = check_choice("loss_units", loss_units, LOSS_UNITS)
    if columns is not None and not isinstance(columns, Mapping):
        raise InputError(f"`columns` must map canonical names to columns, got {columns!r}")
    options = dict(columns=columns, metric=metric, lr=lr, run=run, N=N,
                   tokens_per_step=tokens_per_step, nan_policy=nan_policy,
                   duplicates=duplicates, unsorted=unsorted, spikes=spikes,
                   spike_threshold=spike_threshold, lr_policy=lr_policy, loss_units=loss_units)
    # the readers' warnings are said again from here, so that they point at the caller's
    # line (the readers are 1 to 3 calls deeper, depending on the source)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        curves = _load_any(data, format, options)
    for warning in said:
        warnings.warn(warning.message, warning.category, stacklevel=2)
    return curves.with_schedules(schedules) if schedules else curves


def _load_any(data, format, options) -> Curves:
    if isinstance(data, (list, tuple)) and data and all(
            isinstance(d, (str, os.PathLike)) for d in data):
        return _load_many(list(data), format, options)
    if isinstance(data, (str, os.PathLike)):
        return _load_path(os.fspath(data), format, options)
    if format is not None:
        raise InputError(f"`format`={format!r} applies only when data is a path")
    if not isinstance(data, (pd.DataFrame, Mapping)):
        raise InputError("`data` must be a path, a list of paths, a DataFrame or a dict of "
                         f"columns, not {type(data).__name__}")
    table, source = read_data(data)
    return _build(table.frame, source, None, True, wandb=is_wandb(table.frame), **options)


def _load_path(path: str, format: str | None, options: dict) -> Curves:
    kind = (format or "").lower() or None
    if kind is None and os.path.isdir(path):
        kind = sniff_directory(path)
    if kind in _LOG_FORMATS:
        from .curve_logs import read_mlflow, read_tensorboard  # optional extras

        reader = read_tensorboard if kind == "tensorboard" else read_mlflow
        table = reader(path, metric=options["metric"], lr=options["lr"])
        if options["columns"]:
            raise InputError(f"{path}: name the loss and LR of {kind} logs with metric= and lr=, "
                             "not columns=")
        given = {k: v for k, v in options.items() if k not in ("metric", "lr", "columns")}
        fixed = {"run_id": "run_id", "step": "step", "loss": "loss",
                 **({"lr": "lr"} if "lr" in table.columns else {}),
                 **({"N": "N"} if "N" in table.columns else {})}
        return _build(table, path, None, True, columns=fixed, metric=None, lr=None, wandb=True,
                      log=True, loss_name=options["metric"], **given)
    table = read_table(path, format=format)
    frame = table.frame
    wide = (from_wide(frame, options["metric"], options["lr"], path)
            if options["columns"] is None else None)
    if wide is not None:  # a W&B panel export, reshaped; messages name the file's rows
        wide, origin = wide
        given = dict(options, metric=None, lr=None)
        return _build(wide, path, table.lines, table.thousands, wandb=True,
                      loss_name=origin["metric"], origin=origin, **given)
    return _build(frame, path, table.lines, table.thousands, wandb=is_wandb(frame), **options)


def _load_many(paths: Sequence, format: str | None, options: dict) -> Curves:
    loaded = []
    for path in paths:
        # each file's run defaults to its name (in _build); `run` stays None unless given
        loaded.append(_load_path(os.fspath(path), format, options))
    frames = [c._frame for c in loaded]
    runs = [r for c in loaded for r in c.runs]
    if len(runs) != len(set(runs)):
        repeated = sorted({r for r in runs if runs.count(r) > 1})
        raise InputError(f"run {repeated[0]!r} appears in several files; give each file its "
                         "own run ids")
    frame = pd.concat(frames, ignore_index=True)
    return Curves(_frame=_readonly(frame), source=", ".join(map(os.fspath, paths)),
                  lr_log={r: v for c in loaded for r, v in c.lr_log.items()},
                  row_numbers=tuple(r for c in loaded for r in c.row_numbers),
                  n_dropped=sum(c.n_dropped for c in loaded),
                  n_lr_only=sum(c.n_lr_only for c in loaded),
                  notes=tuple(n for c in loaded for n in c.notes),
                  lr_policy=options["lr_policy"],
                  headers={k: v for c in loaded for k, v in c.headers.items()})

