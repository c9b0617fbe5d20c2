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
  event-file loader, which ``tbparse`` installs); ``metric`` and
  ``lr`` are scalar tags (recognised names such as ``val/loss`` or ``lr`` are found
  without them).
* MLflow: a file store folder (``mlruns``) or a SQLite database file (``mlflow.db``); every
  run of every experiment is a run, named by its run name (its id when names repeat);
  ``metric`` and ``lr`` are metric keys; a parameter called like ``N`` (``n_params``,
  ``params``...) gives the run's N.

What logs get wrong is judged here too, the same way whatever the source:
:func:`order_points` applies ``duplicates=``/``unsorted=`` (:func:`logged_lr` to the
logged LRs), :func:`apply_spike_policy` ``spikes=``; :func:`one_run_advice` finds a run
column under an unknown header, :func:`check_step_count` tokens read as steps;
:class:`Places` words where a bad row is (row and line of a file, run and step of a log).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from .._exceptions import InputError
from .._validation import FrozenOnUnpickle, check_positive, readonly_array
from .columns import normalise
from .runs import _number_text, _row_text

__all__ = [
    "CURVE_ALIASES",
    "MAX_STEPS",
    "Places",
    "apply_spike_policy",
    "cell_text",
    "check_step_count",
    "from_wide",
    "is_wandb",
    "logged_lr",
    "order_points",
    "read_mlflow",
    "read_tensorboard",
    "resolve_curve_columns",
    "sniff_directory",
    "spike_flags",
    "steps_of_tokens",
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

_NEIGHBOURS = 3  # spikes are judged against the median of 3 points on each side

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
    wide = pd.concat(parts, ignore_index=True)
    wide.attrs["metric"] = metric  # the loss's name, for the units checks
    return wide


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


# ------------------------------------------------- what logs get wrong: the policies' rules
#
# load_curves (curves.py) reads every source into one long table in log order; these
# apply its duplicates/unsorted/spikes policies to it, whatever the source.


@dataclass(frozen=True)
class Places(FrozenOnUnpickle):
    """Where a row of the table read came from, in words the user can find: its row and
    line in a file, or, in a TensorBoard/MLflow log, whose rows are the reader's, its run
    and step. Frozen, its arrays read-only."""

    lines: np.ndarray | None = None
    runs: np.ndarray | None = None
    steps: np.ndarray | None = None

    def __post_init__(self):
        for name in ("lines", "runs", "steps"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, readonly_array(value, dtype=None))

    @property
    def log(self) -> bool:
        return self.runs is not None

    def point(self, row: int) -> str:
        """``row 3 (line 5)``, or ``run 'a' step 30`` in a log."""
        if not self.log:
            return _row_text(row, self.lines)
        return f"run {self.runs[row]!r} step {cell_text(self.steps[row])}"

    def cell(self, row: int, column, name: str) -> str:
        """The point and the column (a log's columns are the reader's names)."""
        return f"{self.point(row)}, " + (name if self.log else f"column '{column}' ({name})")

    def row(self, row: int) -> str:
        """``row 3 (line 5): `` before a message that names the run and step; in a log,
        nothing (its rows are the reader's)."""
        return "" if self.log else f"{_row_text(row, self.lines)}: "


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
             + ("" if places.log else f", {_row_text(row, places.lines)}"))
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
