"""JSON export and import of fitted laws (plain types only; never pickle).

A fit file is one JSON object with ``schema_version``, the package version,
the form (by registered name and constructor config), every parameter, the
loss settings, the data fingerprint and the fit diagnostics. The JSON Schema
shipped as ``scalinglaws/schema/fit.schema.json`` describes it. Loading needs
the form to be registered (built-in forms always are; a user-defined form must
be registered again: code is never read from a file).
"""

from __future__ import annotations

import json
import os
from importlib import resources
from typing import Any

from ..._version import __version__
from ..._exceptions import InputError
from ..._validation import to_plain as _plain
from ...laws.forms import get_form

__all__ = ["SCHEMA_VERSION", "fit_to_dict", "fit_from_dict", "to_json", "from_json", "save",
           "load", "schema"]

SCHEMA_VERSION = 1
_KIND = "scalinglaws.fit"


def fit_to_dict(result) -> dict:
    """The JSON document of a :class:`~scalinglaws.fit.FitResult` as a dict."""
    doc = {
        "schema_version": SCHEMA_VERSION,
        "kind": _KIND,
        "package_version": result.package_version,
        "form": result.form.to_dict(),
        "params": result.params,
        "free_params": list(result.free_params),
        "fixed": result.fixed,
        "tied": result.tied,
        "loss": {"name": result.options.get("loss"), "delta": result.options.get("delta")},
        "space": result.options.get("space"),
        "objective": result.objective,
        "n_runs": result.n_runs,
        "data_fingerprint": result.data_fingerprint,
        "success": result.success,
        "status": result.status,
        "message": result.message,
        "at_bounds": list(result.at_bounds),
        "optimizer": {"n_starts": result.n_starts,
                      "n_best_basin": len(result.best_basin_starts),
                      "best_basin_starts": list(result.best_basin_starts),
                      "nit": result.nit, "nfev": result.nfev, "gradient": result.gradient},
        "local_optima": list(result.local_optima),
        "diagnostics": result.diagnostics,
        "options": result.options,
    }
    doc["bootstrap"] = None if result.bootstrap is None else result.bootstrap.to_dict()
    return _plain(doc)


def _require(doc: dict, key: str, kind, where: str = "fit JSON"):
    if key not in doc:
        raise InputError(f"{where}: missing key {key!r}")
    value = doc[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise InputError(f"{where}: key {key!r} must be {names}, got {type(value).__name__}")
    return value


def fit_from_dict(doc: Any, *, source: str = "fit JSON"):
    """Rebuild a :class:`~scalinglaws.fit.FitResult` from its JSON document.

    Raises :class:`~scalinglaws.InputError` naming the problem for a document
    that is not a fit, has another schema version, names an unregistered form
    or lacks a parameter.
    """
    from ...fitting.estimator import FitResult

    if not isinstance(doc, dict):
        raise InputError(f"{source}: expected a JSON object, got {type(doc).__name__}")
    version = _require(doc, "schema_version", int, source)
    if version != SCHEMA_VERSION:
        raise InputError(f"{source}: schema_version {version} is not supported (this is "
                         f"scalinglaws {__version__}, which reads version {SCHEMA_VERSION})")
    if doc.get("kind", _KIND) != _KIND:
        raise InputError(f"{source}: kind {doc.get('kind')!r} is not {_KIND!r}")
    form_doc = _require(doc, "form", dict, source)
    name = _require(form_doc, "name", str, f"{source} form")
    config = form_doc.get("config") or {}
    if not isinstance(config, dict):
        raise InputError(f"{source}: form config must be an object")
    form = get_form(name)
    if config and form.config() != config:
        raise InputError(f"{source}: form {name!r} registered here has config {form.config()}, "
                         f"the file has {config}")
    params = _require(doc, "params", dict, source)
    values = {}
    for pname in form.param_names:
        value = params.get(pname)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f"{source}: parameter {pname!r} of form {name!r} is missing or not "
                             f"a number (got {value!r})")
        values[pname] = float(value)
    extra = [k for k in params if k not in form.param_names]
    if extra:
        raise InputError(f"{source}: unknown parameter(s) {extra} for form {name!r}")
    loss = _optional(doc, "loss", dict, source)
    options = dict(_optional(doc, "options", dict, source))
    options.setdefault("loss", loss.get("name"))
    options.setdefault("delta", loss.get("delta"))
    options.setdefault("space", doc.get("space"))
    optimizer = _optional(doc, "optimizer", dict, source)
    boot = _optional(doc, "bootstrap", dict, source)
    try:
        result = FitResult(
            form=form, params=values,
            free_params=tuple(_optional(doc, "free_params", list, source) or form.param_names),
            fixed=dict(_optional(doc, "fixed", dict, source)),
            tied=dict(_optional(doc, "tied", dict, source)),
            objective=_number(doc.get("objective")),
            n_runs=int(_require(doc, "n_runs", int, source)),
            success=bool(doc.get("success", False)), status=int(doc.get("status", 2)),
            message=str(doc.get("message", "")),
            at_bounds=tuple(_optional(doc, "at_bounds", list, source)),
            n_starts=int(optimizer.get("n_starts", 0)),
            best_basin_starts=tuple(optimizer.get("best_basin_starts") or ()),
            local_optima=tuple(_optional(doc, "local_optima", list, source)), options=options,
            data_fingerprint=str(doc.get("data_fingerprint", "")),
            nit=int(optimizer.get("nit", 0)), nfev=int(optimizer.get("nfev", 0)),
            gradient=_number(optimizer.get("gradient")),
            diagnostics=dict(_optional(doc, "diagnostics", dict, source)),
            package_version=str(doc.get("package_version", "")),
        )
    except (TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{source}: malformed field ({exc})") from None
    if boot:
        from ...uncertainty.bootstrap_result import BootstrapResult

        result = result.with_bootstrap(BootstrapResult.from_dict(boot, form, values, source))
    return result


def _optional(doc: dict, key: str, kind, source: str):
    """An optional field: absent or null gives an empty ``kind``; a wrong type raises."""
    value = doc.get(key)
    if value is None:
        return kind()
    if not isinstance(value, kind):
        raise InputError(f"{source}: key {key!r} must be {kind.__name__}, got {type(value).__name__}")
    return value


def _number(value) -> float:
    return float("nan") if value is None else float(value)


def to_json(result, **kwargs) -> str:
    """Serialise a fit to a JSON string (``allow_nan=False``: non-finite numbers become null)."""
    kwargs.setdefault("indent", 2)
    return json.dumps(fit_to_dict(result), allow_nan=False, **kwargs)


def from_json(text: str | bytes, *, source: str = "fit JSON"):
    """Parse a fit from a JSON string, raising :class:`~scalinglaws.InputError` on any problem."""
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as exc:
        raise InputError(f"{source}: not valid JSON ({exc})") from None
    except RecursionError:
        raise InputError(f"{source}: JSON nested too deeply") from None
    return fit_from_dict(doc, source=source)


def save(result, path: str | os.PathLike) -> None:
    """Write ``result`` as JSON to ``path``."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(to_json(result))
        handle.write("\n")


def load(path: str | os.PathLike):
    """Read a fit written by :func:`save` (or ``scalinglaws fit --out``)."""
    try:
        with open(path, "rb") as handle:
            text = handle.read()
    except OSError as exc:
        raise InputError(f"{os.fspath(path)}: cannot read fit file ({exc.strerror})") from None
    return from_json(text, source=os.fspath(path))


def schema() -> dict:
    """The JSON Schema of fit files (``scalinglaws/schema/fit.schema.json``)."""
    text = resources.files("scalinglaws").joinpath("schema/fit.schema.json").read_text("utf-8")
    return json.loads(text)
