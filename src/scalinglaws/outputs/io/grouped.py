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
from functools import lru_cache
from typing import Any

from ..._exceptions import InputError
from ..._files import parse_json, read_bounded
from ...fitting.grouped_result import _KIND, GroupedFitResult
from ...fitting.result import FitResult
from .fit import _cached_schema, _fitted_range
from .validate import LOADER_HINTS, check_group_semantics, check_json_schema, form_from_doc

__all__ = ["load_grouped", "grouped_from_dict", "grouped_from_json"]

#: a grouped fit file holds a few kB per group; anything this large is not one
_MAX_BYTES = 2**30


@lru_cache(maxsize=1)
def _schema() -> dict:
    """The layout of a grouped fit document, in the fit schema's own terms: each group's
    parameters, counts, status, range and diagnostics as a fit file's, ``options`` as a
    fit file's (flops_per_token, fixed, tied, bounds...)."""
    fit = _cached_schema()
    props = fit["properties"]
    number_or_null = {"type": ["number", "null"]}
    group = {"type": "object", "required": ["group", "params", "n_runs", "status"],
             "properties": {"group": {"type": ["string", "number", "boolean", "null"]},
                            "params": props["params"], "objective": props["objective"],
                            "n_runs": props["n_runs"], "status": props["status"],
                            "message": props["message"], "at_bounds": props["at_bounds"],
                            "gradient": number_or_null,
                            "data_fingerprint": props["data_fingerprint"],
                            "fitted_range": props["fitted_range"],
                            "diagnostics": props["diagnostics"]}}
    return {"$defs": fit["$defs"], "type": "object",
            "required": ["form", "group_column", "groups", "options", "n_runs", "status"],
            "properties": {
                "form": props["form"], "options": props["options"],
                "shared": {"$ref": "#/$defs/names"},
                "shared_params": {"type": "object", "additionalProperties": {"type": "number"}},
                "groups": {"type": "array", "minItems": 1, "items": group},
                "separate": {"type": "array", "items": {
                    "type": "object", "required": ["group", "params"],
                    "properties": {"params": props["params"]}}},
                "objective": number_or_null, "separate_objective": number_or_null,
                "gradient": number_or_null, "n_runs": props["n_runs"],
                "status": props["status"], "success": {"type": "boolean"},
                "message": props["message"], "nit": {"$ref": "#/$defs/count"},
                "nfev": {"$ref": "#/$defs/count"},
                "warnings": {"type": "array", "items": {"type": "string"}},
                "package_version": props["package_version"]}}


def _check(doc: dict, form, source: str) -> None:
    """The document's layout (:func:`_schema`), then what the single-fit loader checks of
    a fit's parameters, for each group: positive where the form takes the logarithm,
    inside the bounds, fixed values and ties held (a group breaking them would predict as
    another law than the one fitted)."""
    if "options" not in doc:
        # every version of GroupedFitResult.save wrote it; without it k would fall back to
        # 6 and the ties and fixed values would be lost, and the groups predict otherwise
        raise InputError(f"{source}: field options is missing (GroupedFitResult.save always "
                         "writes it: the fit's flops_per_token, fixed and tied parameters)")
    check_json_schema(doc, _schema(), source)
    names = list(form.param_names)
    for i, name in enumerate(doc.get("shared") or ()):
        if name not in names:
            raise InputError(f"{source}: field shared[{i}] = {name!r} is not a parameter of "
                             f"form {form.name!r} ({', '.join(names)})")
    for i, entry in enumerate(doc["groups"]):
        field = f"groups[{i}]"
        params = _params(form, entry["params"], source, f"{field}.params")
        check_group_semantics(params, entry.get("at_bounds") or (), doc["options"], form,
                              source, field)


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
        its loader), a field of the wrong type or missing (``options`` included: every
        writer wrote it), an unregistered form or another config, a group without every
        parameter as a finite number, a group's parameter that the single-fit loader
        would refuse (not positive where the form takes its logarithm, outside the
        bounds, off its fixed value or its tie), or groups whose shared parameters differ
        from ``shared_params``.
    """
    if not isinstance(doc, dict):
        raise InputError(f"{source}: expected a JSON object, got {type(doc).__name__}")
    kind = doc.get("kind")
    if kind != _KIND:
        raise InputError(f"{source}: not a grouped fit (kind {kind!r}; a grouped fit file is "
                         f"what GroupedFitResult.save writes, kind {_KIND!r})"
                         + LOADER_HINTS.get(kind, ""))
    if not isinstance(doc.get("form"), dict):
        check_json_schema(doc, _schema(), source)  # names the missing or malformed form
    form = form_from_doc(doc["form"], source)
    _check(doc, form, source)
    try:
        options = dict(doc["options"])
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
    # the writer never wrote NaN (to_plain makes it null), so a NaN literal was not written by it
    return grouped_from_dict(parse_json(text, source, finite=True), source=source)


def load_grouped(path) -> GroupedFitResult:
    """Read a grouped fit written by :meth:`GroupedFitResult.save
    <scalinglaws.fitting.grouped_result.GroupedFitResult.save>`, checking it first; each
    group's law (``loaded[group]``) is a :class:`~scalinglaws.FitResult` usable wherever a
    fit is, and predicts exactly as the saved one."""
    source, text = read_bounded(path, what="grouped fit file", max_bytes=_MAX_BYTES)
    return grouped_from_json(text, source=source)
