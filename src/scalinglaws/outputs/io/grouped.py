"""Reading a grouped fit back: the document :meth:`GroupedFitResult.save
<scalinglaws.fitting.grouped_result.GroupedFitResult.save>` writes (kind
``scalinglaws.grouped_fit``).

The document holds, per group, the parameters (shared values included), the group's
part of the joint objective, its runs, status, gradient, data fingerprint and fitted
range of inputs (whence predictions far beyond the group's runs warn), and the separate
optima; the loaded result predicts exactly as the saved one (the parameters are
written with every digit). Not saved, hence not loaded: each group's residuals, local
optima and the rows of the fitted table (``group_rows`` is empty).

>>> import os, tempfile
>>> import scalinglaws as sl
>>> runs = sl.generate_sweep(rng=0)
>>> runs = runs.frame.assign(half=(runs.frame.index % 2).map({0: "a", 1: "b"}))
>>> grouped = sl.fit(runs, groups="half", shared=["alpha", "beta"])
>>> with tempfile.TemporaryDirectory() as folder:
...     grouped.save(os.path.join(folder, "grouped.json"))
...     loaded = sl.load_grouped(os.path.join(folder, "grouped.json"))
>>> loaded.groups, loaded.params.equals(grouped.params)
(('a', 'b'), True)
"""

from __future__ import annotations

import math
from typing import Any

from ..._exceptions import InputError
from ..._files import parse_json, read_bounded
from ...fitting.grouped_result import _KIND, GroupedFitResult
from ...fitting.result import FitResult
from .fit import _fitted_range
from .validate import LOADER_HINTS, form_from_doc

__all__ = ["load_grouped", "grouped_from_dict", "grouped_from_json"]

#: a grouped fit file holds a few kB per group; anything this large is not one
_MAX_BYTES = 2**30


def _float(value: Any) -> float:
    """A number of the document (JSON ``null`` for a value that was not finite)."""
    return float("nan") if value is None else float(value)


def _params(form, values: Any, source: str, field: str) -> dict:
    """Every parameter of ``form`` from ``values``, finite, else an InputError naming the
    field."""
    if not isinstance(values, dict) or sorted(values) != sorted(form.param_names):
        got = sorted(values) if isinstance(values, dict) else type(values).__name__
        raise InputError(f"{source}: field {field} must give {', '.join(form.param_names)}, "
                         f"got {got}")
    out = {}
    for name in form.param_names:
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            raise InputError(f"{source}: field {field}.{name} must be a finite number, "
                             f"got {value!r}")
        out[name] = float(value)
    return out


def _group_result(form, entry: dict, options: dict, free: tuple, source: str,
                  field: str, doc: dict) -> FitResult:
    """One group's FitResult, as the grouped fit held it."""
    params = _params(form, entry.get("params"), source, f"{field}.params")
    own = dict(options, group=entry["group"])
    return FitResult(form=form, params=params, free_params=free,
                     fixed=dict(options.get("fixed") or {}), tied=dict(options.get("tied") or {}),
                     objective=_float(entry.get("objective")), n_runs=int(entry["n_runs"]),
                     success=int(entry["status"]) == 0, status=int(entry["status"]),
                     message=str(entry.get("message", "")),
                     at_bounds=tuple(entry.get("at_bounds") or ()), options=own,
                     data_fingerprint=str(entry.get("data_fingerprint", "")),
                     nit=int(doc.get("nit", 0)), nfev=int(doc.get("nfev", 0)),
                     gradient=_float(entry.get("gradient")),
                     # absent in files written before groups kept it: no range, no warning
                     fitted_range=_fitted_range(entry.get("fitted_range") or {}, form,
                                                f"{source}: field {field}"),
                     package_version=str(doc.get("package_version", "")),
                     diagnostics=dict(entry.get("diagnostics") or {}))


def grouped_from_dict(doc: Any, *, source: str = "grouped fit JSON") -> GroupedFitResult:
    """Rebuild a :class:`~scalinglaws.fitting.grouped_result.GroupedFitResult` from its
    document (:meth:`~scalinglaws.fitting.grouped_result.GroupedFitResult.to_dict`).

    Raises
    ------
    InputError
        Naming ``source`` and the field: not a grouped fit document (another kind names
        its loader), an unregistered form or another config, a group without every
        parameter as a finite number, or groups whose shared parameters differ from
        ``shared_params``.
    """
    if not isinstance(doc, dict):
        raise InputError(f"{source}: expected a JSON object, got {type(doc).__name__}")
    kind = doc.get("kind")
    if kind != _KIND:
        raise InputError(f"{source}: not a grouped fit (kind {kind!r}; a grouped fit file is "
                         f"what GroupedFitResult.save writes, kind {_KIND!r})"
                         + LOADER_HINTS.get(kind, ""))
    try:
        form = form_from_doc(doc["form"], source)
        options = dict(doc.get("options") or {})
        shared = tuple(doc.get("shared") or ())
        options["shared"] = shared
        restricted = set(options.get("fixed") or {}) | set(options.get("tied") or {})
        free = tuple(n for n in form.param_names if n not in restricted)
        shared_params = {name: float(value)
                         for name, value in (doc.get("shared_params") or {}).items()}
        entries = doc["groups"]
        if not isinstance(entries, list) or not entries:
            raise InputError(f"{source}: field groups must be a non-empty list of groups")
        results = {}
        for i, entry in enumerate(entries):
            field = f"groups[{i}]"
            if not isinstance(entry, dict) or "group" not in entry:
                raise InputError(f"{source}: field {field} must be an object with a `group`")
            if entry["group"] in results:
                raise InputError(f"{source}: field {field}.group: group {entry['group']!r} "
                                 "appears twice")
            result = _group_result(form, entry, options, free, source, field, doc)
            for name, value in shared_params.items():
                if result.params.get(name) != value:
                    raise InputError(f"{source}: field {field}.params.{name} is "
                                     f"{result.params.get(name)!r}, but the shared value "
                                     f"(shared_params.{name}) is {value!r}")
            results[entry["group"]] = result
        separate = {}
        for i, entry in enumerate(doc.get("separate") or ()):
            params = _params(form, entry.get("params"), source, f"separate[{i}].params")
            separate[entry["group"]] = FitResult.from_params(form, params)
        status = int(doc["status"])
        return GroupedFitResult(
            form=form, group_column=str(doc["group_column"]), results=results, shared=shared,
            shared_params=shared_params, objective=_float(doc.get("objective")),
            separate_objective=_float(doc.get("separate_objective")),
            n_runs=int(doc["n_runs"]), success=bool(doc.get("success", status == 0)),
            status=status, message=str(doc.get("message", "")), separate=separate,
            gradient=_float(doc.get("gradient")), options=options,
            nit=int(doc.get("nit", 0)), nfev=int(doc.get("nfev", 0)),
            warnings=tuple(doc.get("warnings") or ()),
            package_version=str(doc.get("package_version", "")))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{source}: malformed grouped fit document ({type(exc).__name__}: "
                         f"{exc})") from None


def grouped_from_json(text: str | bytes, *, source: str = "grouped fit JSON") -> GroupedFitResult:
    """Parse and check a grouped fit document (see :func:`grouped_from_dict`)."""
    if not isinstance(text, (str, bytes, bytearray)):
        raise InputError(f"{source}: expected JSON text, got {type(text).__name__}")
    return grouped_from_dict(parse_json(text, source, finite=False), source=source)


def load_grouped(path) -> GroupedFitResult:
    """Read a grouped fit written by :meth:`GroupedFitResult.save
    <scalinglaws.fitting.grouped_result.GroupedFitResult.save>`, checking it first; each
    group's law (``loaded[group]``) is a :class:`~scalinglaws.FitResult` usable wherever a
    fit is, and predicts exactly as the saved one."""
    source, text = read_bounded(path, what="grouped fit file", max_bytes=_MAX_BYTES)
    return grouped_from_json(text, source=source)
