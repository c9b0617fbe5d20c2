"""JSON of a downstream prediction table (:class:`~scalinglaws.analysis.downstream_predict.
TaskPredictions`): plain types, checked against ``scalinglaws/schema/tasks.schema.json``.

A document holds ``schema_version``, ``kind`` (``"scalinglaws.tasks"``), the package
version, the target, what the intervals are (in the words of every other document:
``interval``, the kind, "confidence", null without a bootstrap; ``method``, how they were
made; ``confidence_level``, ``n_resamples``, ``n_failed``, ``seed``), the verdicts'
tolerance, the preset (the procedure, field by field) and one row per task. Writing is
atomic and never over an input; reading checks the schema, then what a schema cannot say
(see the schema's ``$comment``), and every failure names the file and the field.

Version 1 documents (written before every document shared that vocabulary) held those
fields in one object, ``interval`` (its ``kind`` the method's text): they load as they are.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources
from typing import Any

from ..._exceptions import InputError
from ..._files import atomic_write, check_output_path, parse_json, read_bounded
from ..._validation import to_plain
from ..._version import __version__
from ...analysis.downstream_predict import COLUMNS, TaskPredictions
from .validate import check_json_schema

__all__ = [
    "KIND",
    "SCHEMA_VERSION",
    "SUPPORTED_VERSIONS",
    "load_predictions",
    "predictions_from_dict",
    "predictions_from_json",
    "predictions_to_dict",
    "predictions_to_json",
    "save_predictions",
    "schema",
]

#: 2: ``interval`` is the kind of the intervals (a string, as in every other document) and
#: their ``method``, ``confidence_level``, ``n_resamples``, ``n_failed`` and ``seed`` are
#: fields of the document (1: an object ``interval`` holding them, the method as ``kind``)
SCHEMA_VERSION = 2
#: the versions :func:`predictions_from_dict` reads
SUPPORTED_VERSIONS = (1, 2)
KIND = "scalinglaws.tasks"
#: the fields of a version 1 document's ``interval`` object, now fields of the document
#: (its ``kind`` is the ``method``)
_INTERVAL_FIELDS = ("confidence_level", "n_resamples", "n_failed", "seed")
_MAX_BYTES = 2**26  # a table of tasks is a few kB


@lru_cache(maxsize=1)
def _schema_text() -> str:
    return resources.files("scalinglaws").joinpath("schema/tasks.schema.json").read_text("utf-8")


def schema() -> dict:
    """The JSON Schema of task prediction files, a fresh copy."""
    return json.loads(_schema_text())


def _number(value):
    return None if value is None or (isinstance(value, float) and not math.isfinite(value)) \
        else float(value)


def predictions_to_dict(predictions: TaskPredictions) -> dict:
    """The document of ``predictions`` (plain JSON types; NaN written as null)."""
    if not isinstance(predictions, TaskPredictions):
        raise InputError(f"`predictions` must be TaskPredictions, got "
                         f"{type(predictions).__name__}")
    rows = []
    for row in predictions.rows:
        out = {}
        for name in COLUMNS:
            value = row[name]
            if name in ("task", "verdict", "reason"):
                out[name] = value
            elif name == "covered":
                out[name] = None if value is None else bool(value)
            else:
                out[name] = _number(value)
        rows.append(out)
    target = {"N": float(predictions.target["N"]), "D": float(predictions.target["D"]),
              "run_id": predictions.target.get("run_id")}
    drawn = predictions.confidence_level is not None
    return {"schema_version": SCHEMA_VERSION, "kind": KIND, "package_version": __version__,
            "target": target,
            "interval": "confidence" if drawn else None,  # parameter uncertainty only
            "method": predictions.interval_kind,
            "confidence_level": predictions.confidence_level,
            "n_resamples": int(predictions.n_resamples),
            "n_failed": int(predictions.n_failed), "seed": predictions.seed,
            "tolerance": predictions.tolerance, "preset": to_plain(dict(predictions.preset)),
            "tasks": rows}


def _fail(source: str, field: str, problem: str):
    raise InputError(f"{source}: field {field} {problem}")


def _check_meaning(doc: dict, source: str) -> None:
    names = [row["task"] for row in doc["tasks"]]
    for i, name in enumerate(names):
        if name in names[:i]:
            _fail(source, f"tasks[{i}].task", f"repeats task {name!r}")
    target = doc["target"]
    verdicts = [row.get("verdict") is not None for row in doc["tasks"]]
    if any(verdicts) and not all(verdicts):
        _fail(source, "tasks", "must give a verdict on every row or on none")
    if any(verdicts) and doc["tolerance"] is None:
        _fail(source, "tolerance", "must be given with verdicts")
    for i, row in enumerate(doc["tasks"]):
        where = f"tasks[{i}]"
        for axis in ("N", "D"):
            if not math.isclose(row[axis], target[axis], rel_tol=1e-12):
                _fail(source, f"{where}.{axis}", f"must be the target's {target[axis]!r}, got "
                      f"{row[axis]!r}")
        for base in ("accuracy", "task_loss"):
            low, high = row.get(f"{base}_low"), row.get(f"{base}_high")
            if (low is None) != (high is None):
                _fail(source, f"{where}.{base}_low", "and _high must both be given or neither")
            if low is not None and low > high:
                _fail(source, f"{where}.{base}_low", f"must not exceed _high ({low!r} > {high!r})")
        seen, covered = row.get("observed_accuracy"), row.get("covered")
        if covered is not None:
            low, high = row.get("accuracy_low"), row.get("accuracy_high")
            if seen is None or low is None:
                _fail(source, f"{where}.covered", "needs an interval and an observed accuracy")
            if covered != (low <= seen <= high):
                _fail(source, f"{where}.covered", f"says {covered} but the interval [{low!r}, "
                      f"{high!r}] {'holds' if low <= seen <= high else 'misses'} {seen!r}")
        error = row.get("error")
        if error is not None and (seen is None or not math.isclose(
                error, 100.0 * (row["accuracy"] - seen), rel_tol=1e-9, abs_tol=1e-9)):
            _fail(source, f"{where}.error", "must be 100 x (accuracy - observed_accuracy)")


def predictions_from_dict(doc: Any, *, source: str = "tasks JSON") -> TaskPredictions:
    """Rebuild :class:`TaskPredictions` from its document, after every check.

    Raises
    ------
    InputError
        Naming ``source`` and the field.
    """
    if not isinstance(doc, dict):
        raise InputError(f"{source}: expected a JSON object, got {type(doc).__name__}")
    version = doc.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) \
            and version not in SUPPORTED_VERSIONS:
        raise InputError(f"{source}: schema_version {version} is not supported (this is "
                         f"scalinglaws {__version__}, which reads versions "
                         f"{', '.join(map(str, SUPPORTED_VERSIONS))})")
    check_json_schema(doc, json.loads(_schema_text()), source)
    _check_meaning(doc, source)
    if version == 1:  # the interval's fields in one object, the method as its kind
        old = doc["interval"]
        doc = {**doc, **{name: old.get(name) for name in _INTERVAL_FIELDS},
               "method": old["kind"]}
    rows = []
    for row in doc["tasks"]:
        full = {}
        for name in COLUMNS:
            value = row.get(name)
            if name in ("task", "verdict", "reason", "covered"):
                full[name] = value
            else:
                full[name] = math.nan if value is None else float(value)
        rows.append(full)
    target = {"N": float(doc["target"]["N"]), "D": float(doc["target"]["D"])}
    if doc["target"].get("run_id") is not None:
        target["run_id"] = doc["target"]["run_id"]
    return TaskPredictions(target=target, rows=tuple(rows),
                           confidence_level=doc["confidence_level"],
                           n_resamples=doc["n_resamples"], n_failed=doc["n_failed"],
                           interval_kind=doc["method"], preset=doc["preset"],
                           tolerance=doc["tolerance"], seed=doc.get("seed"))


def predictions_to_json(predictions: TaskPredictions, **kwargs) -> str:
    """The JSON text of ``predictions`` (``json.dumps`` keywords pass through)."""
    kwargs.setdefault("indent", 2)
    return json.dumps(predictions_to_dict(predictions), allow_nan=False, **kwargs)


def predictions_from_json(text: str | bytes, *, source: str = "tasks JSON") -> TaskPredictions:
    """Parse and check a task prediction document."""
    return predictions_from_dict(parse_json(text, source), source=source)


def save_predictions(predictions: TaskPredictions, path, *, inputs=(),
                     force: bool = False) -> None:
    """Write ``predictions`` to ``path`` atomically; never over one of ``inputs`` (e.g. the
    table it was computed from) or another kind of file unless ``force``."""
    text = predictions_to_json(predictions) + "\n"
    check_output_path(path, inputs=inputs, kind="json", force=force, argument="path")
    atomic_write(path, text)


def load_predictions(path) -> TaskPredictions:
    """Read and check a task prediction file written by :func:`save_predictions`."""
    source, text = read_bounded(path, what="task prediction file", max_bytes=_MAX_BYTES)
    return predictions_from_json(text, source=source)
