"""Training logs as tables: which column is which, W&B exports, TensorBoard, MLflow.

:func:`resolve_curve_columns` finds the canonical columns of a table of curves
(:data:`CURVE_ALIASES`); :func:`is_wandb` recognises a W&B ``run.history()`` export and
:func:`from_wide` turns the web UI's ``"<run> - <metric>"`` panel export into a long table.
The log readers return a long table (``run_id``, ``step``, ``loss`` and, when found,
``lr`` and ``N``), one row per logged point in the order logged, repeats included (a run
resumed from a checkpoint logs some steps twice), that
:func:`scalinglaws.data.curves.load_curves` orders and validates like any other; their
libraries are optional extras (``pip install 'scalinglaws[curves]'``), imported only
inside them.

* TensorBoard: every sub-folder holding event files is a run (read with ``tensorboard``'s
  event-file loader, from the ``curves`` extra); ``metric`` and
  ``lr`` are scalar tags (recognised names such as ``val/loss`` or ``lr`` are found
  without them).
* MLflow: a file store folder (``mlruns``) or a SQLite database file (``mlflow.db``); every
  run of every experiment is a run, named by its run name (its id when names repeat);
  ``metric`` and ``lr`` are metric keys; a parameter called like ``N`` (``n_params``,
  ``params``...) gives the run's N.

What logs get wrong (order, repeats, spikes, tokens read as steps) is judged in
:mod:`.curve_policies`, the same way whatever the source.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping
from contextlib import contextmanager

import numpy as np

from .._exceptions import InputError, ScalingLawsWarning
from .cells import blank_cells
from .columns import normalise

__all__ = [
    "CURVE_ALIASES",
    "from_wide",
    "is_wandb",
    "read_mlflow",
    "read_tensorboard",
    "resolve_curve_columns",
    "sniff_directory",
]

#: Header names recognised for each canonical column, after :func:`normalise` (lower
#: case, ``_``/``-``/spaces as one space; ``/`` kept, so ``train/loss`` stays itself).
CURVE_ALIASES: dict[str, tuple[str, ...]] = {
    "run_id": ("run id", "run", "run name", "name", "run path"),
    "step": ("step", "global step", "iteration", "iter", "trainer/global step",
             "train/global step", "optimizer step"),
    "loss": ("loss", "val loss", "eval loss", "validation loss", "train loss", "train/loss",
             "val/loss", "eval/loss", "validation/loss", "loss/val", "loss/train", "lm loss"),
    "lr": ("lr", "learning rate", "train/lr", "train/learning rate", "optimizer/lr",
           "trainer/lr", "lr/0", "lr 0",
           # PyTorch Lightning's LearningRateMonitor: lr-<optimizer class>
           "lr adamw", "lr adam", "lr sgd", "lr adafactor", "lr lion", "lr muon",
           "lr rmsprop"),
    "tokens": ("tokens", "n tokens", "num tokens", "consumed tokens", "tokens seen",
               "train/tokens", "training tokens", "train/consumed tokens"),
    "N": ("n", "params", "n params", "num params", "parameters", "param count",
          "n parameters", "num parameters"),
}
_ALIAS_TO_NAME = {alias: name for name, aliases in CURVE_ALIASES.items() for alias in aliases}


_WIDE = re.compile(r"^(?P<run>.+?) - (?P<metric>.+?)(?:__(?:MIN|MAX|min|max))?$")


def resolve_curve_columns(table, columns: Mapping | None, source: str,
                          steps_from_tokens: bool = False) -> dict:
    """Map each canonical name present to the table's column (explicit mapping wins); with
    ``steps_from_tokens`` a tokens column may stand in for a missing step column."""
    available = list(table.columns)
    explicit = dict(columns or {})
    unknown = [key for key in explicit if key not in CURVE_ALIASES]
    if unknown:
        raise InputError(f"`columns` names {unknown}; the canonical names are "
                         f"{', '.join(CURVE_ALIASES)}")
    mapping = {}
    for name, column in explicit.items():
        if column is None:
            continue
        if column not in available:
            near = [c for c in available if normalise(c) == normalise(column)]
            if len(near) != 1:
                raise InputError(f"{source}: `columns` maps {name} to {column!r}, which is not a "
                                 f"column; columns: {', '.join(map(str, available))}")
            column = near[0]
        mapping[name] = column
    found: dict = {}
    for column in available:
        name = _ALIAS_TO_NAME.get(normalise(column))
        if name is not None and name not in explicit and column not in mapping.values():
            found.setdefault(name, []).append(column)
    for name, candidates in found.items():
        exact = [c for c in candidates if c == name]
        if len(candidates) > 1 and len(exact) != 1:
            raise InputError(f"{source}: columns {', '.join(map(repr, candidates))} all look "
                             f"like {name}; say which with columns={{{name!r}: <column>}}"
                             + (" or metric=<column>" if name == "loss" else ""))
        mapping[name] = exact[0] if len(candidates) > 1 else candidates[0]
    if "step" not in mapping and "tokens" in mapping and not steps_from_tokens:
        raise InputError(f"{source}: no step column, but tokens in column "
                         f"{mapping['tokens']!r}: the curve laws count optimizer steps; give "
                         "the tokens per step (batch size x sequence length) with "
                         "`tokens_per_step` to derive step = tokens / tokens_per_step, or "
                         "say which column holds the steps with columns={'step': <column>}")
    for name in ("step", "loss"):
        if name not in mapping and not (name == "step" and steps_from_tokens
                                        and "tokens" in mapping):
            recognised = ", ".join(CURVE_ALIASES[name])
            raise InputError(f"{source}: no {name} column; columns: "
                             f"{', '.join(map(str, available))}; recognised names: {recognised}"
                             f" (any case), or say which with columns={{{name!r}: <column>}}"
                             + (" or metric=<column>" if name == "loss" else ""))
    return mapping


def is_wandb(table) -> bool:
    """Whether a table is a W&B ``run.history()`` export (``_step``, ``_runtime``...)."""
    names = {str(c) for c in table.columns}
    return "_step" in names or ("_runtime" in names and "_timestamp" in names)


def sniff_directory(path: str) -> str:
    """``"tensorboard"`` or ``"mlflow"``: what kind of log folder ``path`` is."""
    for root, _, files in os.walk(path):
        if any(".tfevents." in name for name in files):
            return "tensorboard"
        if "meta.yaml" in files:
            return "mlflow"
    raise InputError(f"{path}: a folder with neither TensorBoard event files nor an MLflow "
                     "store; give format='tensorboard' or 'mlflow', or the path of a table")


def _filled(column) -> np.ndarray:
    """Which cells of a column hold something (not missing, not blank)."""
    return ~blank_cells(column)


def from_wide(table, metric: str | None, lr: str | None, source: str):
    """A W&B panel export (``Step``, ``<run> - <metric>``...) in long format, or None.

    Returns ``(long, origin)``: ``long`` has ``run_id``, ``step``, ``loss``, ``lr`` (the
    metric named ``lr=`` or the one recognised as an LR) and every other metric as a column
    of its own, as a long table keeps its extra columns (W&B's ``__MIN``/``__MAX`` bands
    are left out); ``origin`` holds ``rows``, the file's row of each long row, ``headers``,
    canonical name -> the file's column of each long row (so that messages name the
    file's own row and column), ``metric`` (the loss's name) and ``notes``. A run's rows
    are only those where it logged something: the export has one Step column for all runs,
    and a shorter run's cells are empty at the steps of the others.
    """
    import pandas as pd

    matches = {c: _WIDE.match(str(c)) for c in table.columns}
    bands = ("__MIN", "__MAX", "__min", "__max")
    wide = {c: m for c, m in matches.items() if m and not str(c).endswith(bands)}
    steps = [c for c in table.columns if normalise(c) in CURVE_ALIASES["step"]]
    if not wide or len(steps) != 1:
        return None
    metrics = sorted({m["metric"] for m in wide.values()})
    if lr is not None and lr not in metrics:
        raise InputError(f"{source}: the W&B export has no metric {lr!r} (lr=); it has "
                         f"{', '.join(metrics)}")
    lr_like = [lr] if lr is not None else [
        m for m in metrics if normalise(m) in CURVE_ALIASES["lr"] and m != metric]
    if len(lr_like) > 1:
        raise InputError(f"{source}: metrics {', '.join(map(repr, lr_like))} of the W&B export "
                         "all look like the LR; say which with lr=<name>")
    lr = lr_like[0] if lr_like else None
    candidates = [m for m in metrics if m != lr]
    if metric is None and len(candidates) > 1:
        loss_like = [m for m in candidates if normalise(m) in CURVE_ALIASES["loss"]]
        if len(loss_like) != 1:
            raise InputError(f"{source}: a W&B export of several metrics ({', '.join(metrics)}); "
                             "say which is the loss with metric=<name>")
        metric = loss_like[0]
    metric = metric or (candidates or metrics)[0]
    if metric not in metrics:
        raise InputError(f"{source}: the W&B export has no metric {metric!r}; it has "
                         f"{', '.join(metrics)}")
    lr = lr if lr != metric else None  # a panel of the LR alone: it is read as the loss
    names = {metric: "loss", **({lr: "lr"} if lr else {})}
    extras = [m for m in metrics if m not in names]
    for m in extras:  # every other metric under its own name, as a long table's columns
        names[m] = m if m not in ("run_id", "step", "loss", "lr") else f"{m}_unused"
    runs: dict = {}
    for column, match in matches.items():
        if match:  # bands included: a run logged at a step if any of its cells is filled
            runs.setdefault(match["run"], []).append(column)
    parts, rows, headers, without = [], [], {}, []
    step = table[steps[0]].to_numpy(dtype=object)
    for run, columns in runs.items():
        by_metric = {wide[c]["metric"]: c for c in columns if c in wide}
        if metric not in by_metric:
            without.append(f"{run!r} (columns {', '.join(map(repr, columns))})")
            continue
        logged = np.flatnonzero(np.logical_or.reduce([_filled(table[c]) for c in columns]))
        part = {"run_id": np.full(len(logged), run, dtype=object), "step": step[logged]}
        part_headers = {"step": steps[0]}
        for name, as_column in names.items():
            column = by_metric.get(name)
            part[as_column] = (table[column].to_numpy(dtype=object)[logged]
                               if column is not None else np.full(len(logged), np.nan))
            if column is not None and as_column in ("loss", "lr"):
                part_headers[as_column] = column
        parts.append(pd.DataFrame(part))
        rows.append(logged)
        for name in ("step", "loss", "lr"):
            headers.setdefault(name, []).append(
                np.full(len(logged), part_headers.get(name), dtype=object))
    if without:  # a run of the export without the loss: left out, and said
        warnings.warn(f"{source}: {len(without)} run{'s' * (len(without) > 1)} of the W&B "
                      f"export {'have' if len(without) > 1 else 'has'} no column for the loss "
                      f"metric {metric!r} and {'are' if len(without) > 1 else 'is'} left out: "
                      f"{'; '.join(without)}; if a run logs its loss under another name, rename "
                      f"that column to '<run> - {metric}'",
                      ScalingLawsWarning, stacklevel=3)
    long = pd.concat(parts, ignore_index=True)
    for column in long.columns[2:]:  # numbers stay numbers; a text cell stays as written
        converted = pd.to_numeric(long[column], errors="coerce")
        if converted.notna().sum() == long[column].notna().sum():
            long[column] = converted
    notes = ([f"metrics {', '.join(map(repr, extras))} of the W&B export are kept as extra "
              "columns, not used by the curve laws (the loss is "
              f"{metric!r}{f', the LR {lr!r}' if lr else ''})"] if extras else [])
    origin = {"rows": np.concatenate(rows), "metric": metric, "notes": notes,
              "headers": {name: np.concatenate(parts_) for name, parts_ in headers.items()}}
    return long, origin


def _pick(names, wanted, kind, aliases, source):
    """The tag/metric holding ``kind``: the one asked for, or the one recognised name."""
    names = sorted(set(names))
    if wanted is not None:
        if wanted not in names:
            raise InputError(f"{source}: no {kind} named {wanted!r}; found "
                             f"{', '.join(names) or 'none'}")
        return wanted
    found = [n for n in names if normalise(n) in aliases]
    if len(found) == 1:
        return found[0]
    if kind == "lr":
        return None  # the LR may come from a schedule instead
    if found:
        raise InputError(f"{source}: several {kind}s look like the loss ({', '.join(found)}); "
                         "say which with metric=<name>")
    raise InputError(f"{source}: no recognised loss among {', '.join(names) or 'no metrics'}; "
                     "say which with metric=<name>")


def _pair_in_log_order(points):
    """One row per run, step and time that step was logged, in the order first logged.

    ``points`` holds one row per logged value (``run_id``, ``column``, ``step``,
    ``value``, ``position``: a total order of logging, runs one after another). The k-th
    loss logged at a step pairs with the k-th LR logged at that step, so a run restarted
    from an earlier step keeps both of its passes, each with its own LR; nothing is
    merged here: the policies of :func:`~scalinglaws.data.curves.load_curves` decide.
    """
    points = points.sort_values("position", kind="stable")
    points["k"] = points.groupby(["run_id", "column", "step"], sort=False).cumcount()
    keys = ["run_id", "step", "k"]
    values = points.pivot(index=keys, columns="column", values="value")
    first = points.groupby(keys)["position"].min()
    table = values.join(first).sort_values("position", kind="stable").reset_index()
    table.columns.name = None
    return table[["run_id", "step"] + [c for c in ("loss", "lr") if c in table.columns]]


def _event_scalars(path: str):
    """Every scalar of every event file under ``path`` as (run, tag, step, value), in log
    order: run folders in sorted order, a folder's files by name (the name starts with the
    writer's start time), events in file order."""
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader
    from tensorboard.util import tensor_util

    root = os.path.basename(os.path.normpath(path))
    logged = []
    for folder, subfolders, files in os.walk(path):
        subfolders.sort()
        names = sorted(name for name in files if ".tfevents." in name)
        relative = os.path.relpath(folder, path)
        run = root if relative == "." else relative.replace(os.sep, "/")
        scalar_tags: set = set()  # TF2 writes a tag's plugin metadata with its first value only
        for name in names:
            for event in LegacyEventFileLoader(os.path.join(folder, name)).Load():
                if not event.HasField("summary"):
                    continue
                for value in event.summary.value:
                    kind = value.WhichOneof("value")
                    if value.metadata.plugin_data.plugin_name == "scalars":
                        scalar_tags.add(value.tag)
                    if kind == "simple_value":
                        number = value.simple_value
                    elif kind == "tensor" and value.tag in scalar_tags:
                        array = tensor_util.make_ndarray(value.tensor)
                        if array.size != 1:
                            continue
                        number = array.item()
                    else:
                        continue
                    logged.append((run, value.tag, int(event.step), float(number)))
    return logged


def read_tensorboard(path: str, *, metric: str | None = None, lr: str | None = None):
    """Scalars of a TensorBoard log directory as a long table, one row per logged point.

    Every folder holding event files is a run. Rows come in the order they were logged,
    repeats included (a run resumed from a checkpoint logs some steps twice), so that
    ``duplicates=`` and ``unsorted=`` of :func:`~scalinglaws.data.curves.load_curves`
    apply. The events are read in file order with tensorboard's own loader (tbparse
    sorts the points of a file by step and so hides a restart).
    """
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        raise InputError(f"{path}: reading TensorBoard logs needs tensorboard; install it with "
                         "`pip install tensorboard` or `pip install 'scalinglaws[curves]'`"
                         ) from None
    import pandas as pd

    if not os.path.isdir(path):
        raise InputError(f"{path}: not a folder of TensorBoard event files")
    logged = _event_scalars(path)
    if not logged:
        raise InputError(f"{path}: no scalar summaries in the event files")
    scalars = pd.DataFrame(logged, columns=["run_id", "tag", "step", "value"])
    tags = scalars["tag"].unique().tolist()
    loss_tag = _pick(tags, metric, "loss", CURVE_ALIASES["loss"], path)
    lr_tag = _pick(tags, lr, "lr", CURVE_ALIASES["lr"], path)
    wanted = {loss_tag: "loss", **({lr_tag: "lr"} if lr_tag else {})}
    points = scalars[scalars["tag"].isin(list(wanted))]
    points = pd.DataFrame({"run_id": points["run_id"], "column": points["tag"].map(wanted),
                           "step": points["step"].astype(np.int64), "value": points["value"],
                           "position": np.arange(len(points))})
    return _pair_in_log_order(points)


@contextmanager
def _file_store_allowed():
    """MLflow 3 refuses file stores unless told otherwise; reading one is what we want."""
    previous = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
        else:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = previous


def read_mlflow(path: str, *, metric: str | None = None, lr: str | None = None):
    """Metric histories of every run in an MLflow store as a long table, one row per
    logged point, repeats included, in the order logged (see :func:`read_tensorboard`)."""
    import pandas as pd

    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise InputError(f"{path}: reading MLflow stores needs mlflow; install it with "
                         "`pip install mlflow-skinny` or `pip install 'scalinglaws[curves]'`"
                         ) from None
    if os.path.isdir(path):
        uri = "file:" + os.path.abspath(path)
    elif os.path.isfile(path):
        uri = "sqlite:///" + os.path.abspath(path)
    else:
        raise InputError(f"{path}: no such MLflow store (a folder such as mlruns, or a .db file)")
    with _file_store_allowed():
        try:
            client = MlflowClient(tracking_uri=uri)
            experiments = client.search_experiments()
            runs = client.search_runs([e.experiment_id for e in experiments]) if experiments \
                else []
        except Exception as error:  # noqa: BLE001 - mlflow raises many unrelated types
            raise InputError(f"{path}: cannot read it as an MLflow store: {error}") from None
        if not runs:
            raise InputError(f"{path}: the MLflow store holds no runs")
        names = [r.info.run_name or r.info.run_id for r in runs]
        repeated = {n for n in names if names.count(n) > 1}
        parts, sizes, offset = [], {}, 0
        for record, name in zip(runs, names):
            keys = list(record.data.metrics)
            loss_key = _pick(keys, metric, "loss", CURVE_ALIASES["loss"], f"{path}: run {name!r}")
            lr_key = _pick(keys, lr, "lr", CURVE_ALIASES["lr"], f"{path}: run {name!r}") \
                if keys else None
            run_id = record.info.run_id if name in repeated else name
            logged = [(column, int(m.step), float(m.value), int(m.timestamp))
                      for key, column in ((loss_key, "loss"), (lr_key, "lr")) if key is not None
                      for m in client.get_metric_history(record.info.run_id, key)]
            part = pd.DataFrame(logged, columns=["column", "step", "value", "timestamp"])
            # log order is time order, and steps logged at one time (log_batch gives a
            # batch one timestamp) in step order: ordering by step first would hide a
            # resumed run's second pass from the unsorted policy
            part = part.sort_values(["timestamp", "step"], kind="stable")
            part.insert(0, "run_id", run_id)
            part["position"] = offset + np.arange(len(part))
            offset += len(part)
            parts.append(part.drop(columns="timestamp"))
            found = [v for k, v in record.data.params.items()
                     if normalise(k) in CURVE_ALIASES["N"]]
            if len(found) == 1:
                sizes[run_id] = found[0]
    points = pd.concat(parts, ignore_index=True)
    points["step"] = points["step"].astype(np.int64)
    table = _pair_in_log_order(points)
    if sizes:
        table["N"] = table["run_id"].map(sizes)
    return table
