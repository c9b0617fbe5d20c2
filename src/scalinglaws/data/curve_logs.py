"""Training logs as tables: which column is which, W&B exports, TensorBoard, MLflow.

:func:`resolve_curve_columns` finds the canonical columns of a table of curves
(:data:`CURVE_ALIASES`); :func:`is_wandb` recognises a W&B ``run.history()`` export and
:func:`from_wide` turns the web UI's ``"<run> - <metric>"`` panel export into a long table.
The log readers return a long table (``run_id``, ``step``, ``loss`` and, when found,
``lr`` and ``N``) that :func:`scalinglaws.data.curves.load_curves` validates like any
other; their libraries are optional extras (``pip install 'scalinglaws[curves]'``),
imported only inside them.

* TensorBoard: every sub-folder holding event files is a run (``tbparse``); ``metric`` and
  ``lr`` are scalar tags (recognised names such as ``val/loss`` or ``lr`` are found
  without them).
* MLflow: a file store folder (``mlruns``) or a SQLite database file (``mlflow.db``); every
  run of every experiment is a run, named by its run name (its id when names repeat);
  ``metric`` and ``lr`` are metric keys; a parameter called like ``N`` (``n_params``,
  ``params``...) gives the run's N.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from contextlib import contextmanager

import numpy as np

from .._exceptions import InputError
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
           "trainer/lr", "lr/0", "lr 0"),
    "tokens": ("tokens", "n tokens", "num tokens", "consumed tokens", "tokens seen",
               "train/tokens", "training tokens", "train/consumed tokens"),
    "N": ("n", "params", "n params", "num params", "parameters", "param count",
          "n parameters", "num parameters"),
}
_ALIAS_TO_NAME = {alias: name for name, aliases in CURVE_ALIASES.items() for alias in aliases}

_WIDE = re.compile(r"^(?P<run>.+?) - (?P<metric>.+?)(?:__(?:MIN|MAX|min|max))?$")


def resolve_curve_columns(table, columns: Mapping | None, source: str) -> dict:
    """Map each canonical name present to the table's column (explicit mapping wins)."""
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
    for name in ("step", "loss"):
        if name not in mapping:
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


def from_wide(table, metric: str | None, source: str):
    """A W&B panel export (``Step``, ``<run> - <metric>``...) in long format, or None."""
    matches = {c: _WIDE.match(str(c)) for c in table.columns}
    wide = {c: m for c, m in matches.items() if m and not str(c).endswith(("__MIN", "__MAX"))}
    steps = [c for c in table.columns if normalise(c) in CURVE_ALIASES["step"]]
    if not wide or len(steps) != 1:
        return None
    metrics = sorted({m["metric"] for m in wide.values()})
    if metric is None and len(metrics) > 1:
        loss_like = [m for m in metrics if normalise(m) in CURVE_ALIASES["loss"]]
        if len(loss_like) != 1:
            raise InputError(f"{source}: a W&B export of several metrics ({', '.join(metrics)}); "
                             "say which is the loss with metric=<name>")
        metric = loss_like[0]
    metric = metric or metrics[0]
    import pandas as pd

    parts = []
    for column, match in wide.items():
        if match["metric"] != metric:
            continue
        part = pd.DataFrame({"run_id": match["run"], "step": table[steps[0]],
                             "loss": table[column]})
        parts.append(part)
    if not parts:
        raise InputError(f"{source}: the W&B export has no metric {metric!r}; it has "
                         f"{', '.join(metrics)}")
    return pd.concat(parts, ignore_index=True)




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


def read_tensorboard(path: str, *, metric: str | None = None, lr: str | None = None):
    """Scalars of a TensorBoard log directory as a long table (one row per run and step)."""
    try:
        from tbparse import SummaryReader
    except ImportError:
        raise InputError(f"{path}: reading TensorBoard logs needs tbparse; install it with "
                         "`pip install tbparse` or `pip install 'scalinglaws[curves]'`") from None
    if not os.path.isdir(path):
        raise InputError(f"{path}: not a folder of TensorBoard event files")
    scalars = SummaryReader(path, pivot=False, extra_columns={"dir_name"}).scalars
    if scalars is None or scalars.empty:
        raise InputError(f"{path}: no scalar summaries in the event files")
    tags = scalars["tag"].unique().tolist()
    loss_tag = _pick(tags, metric, "loss", CURVE_ALIASES["loss"], path)
    lr_tag = _pick(tags, lr, "lr", CURVE_ALIASES["lr"], path)
    wanted = {loss_tag: "loss", **({lr_tag: "lr"} if lr_tag else {})}
    part = scalars[scalars["tag"].isin(list(wanted))].copy()
    part["dir_name"] = part["dir_name"].fillna("").astype(str)
    root = os.path.basename(os.path.normpath(path))
    part["run_id"] = part["dir_name"].where(part["dir_name"] != "", root)
    # the last value logged for a (run, step, tag) wins, as TensorBoard shows it
    table = part.pivot_table(index=["run_id", "step"], columns="tag", values="value",
                             aggfunc="last").reset_index()
    table = table.rename(columns=wanted)
    table.columns.name = None
    return table[["run_id", "step"] + [c for c in ("loss", "lr") if c in table.columns]]


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
    """Metric histories of every run in an MLflow store as a long table."""
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
        parts = []
        for record, name in zip(runs, names):
            keys = list(record.data.metrics)
            loss_key = _pick(keys, metric, "loss", CURVE_ALIASES["loss"], f"{path}: run {name!r}")
            lr_key = _pick(keys, lr, "lr", CURVE_ALIASES["lr"], f"{path}: run {name!r}") \
                if keys else None
            run_id = record.info.run_id if name in repeated else name
            series = {}
            for key, column in ((loss_key, "loss"), (lr_key, "lr")):
                if key is None:
                    continue
                history = client.get_metric_history(record.info.run_id, key)
                series[column] = pd.Series({int(m.step): float(m.value) for m in history},
                                           dtype=float)
            part = pd.DataFrame(series)
            part.index.name = "step"
            part = part.reset_index()
            part.insert(0, "run_id", run_id)
            sizes = [v for k, v in record.data.params.items()
                     if normalise(k) in CURVE_ALIASES["N"]]
            if len(sizes) == 1:
                part["N"] = sizes[0]
            parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    table["step"] = table["step"].astype(np.int64)
    return table
