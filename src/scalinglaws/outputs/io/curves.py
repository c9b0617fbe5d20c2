"""JSON export and import of curve-law fits (plain types only; never pickle).

A curve-fit file is one JSON object (``kind`` ``"scalinglaws.curve_fit"``) with
``schema_version``, the package version, the law by name and configuration, every
parameter, the objective and status, the curves fitted (run ids and N), the quadrature
and loss options, the data fingerprint and, optionally, bootstrap draws. The JSON Schema
ships as ``scalinglaws/schema/curves.schema.json``. A user-defined law must be registered
again before loading (:func:`~scalinglaws.laws.curve_laws.register_curve_law`): code is
never read from a file.

Examples
--------
>>> from scalinglaws.fitting.curves import CurveFitResult
>>> from scalinglaws.laws.curve_synthetic import LUO_2025_MPL
>>> fit = CurveFitResult.from_params("mpl", LUO_2025_MPL["25M"])
>>> curve_fit_from_json(curve_fit_to_json(fit)).params == fit.params
True
"""

from __future__ import annotations

import json
import math
import os
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from ..._exceptions import InputError
from ..._files import atomic_write, check_output_path, parse_json
from ..._validation import to_plain
from ..._version import __version__
from .validate import check_json_schema, check_restrictions

__all__ = [
    "CURVE_SCHEMA_VERSION",
    "curve_fit_from_dict",
    "curve_fit_from_json",
    "curve_fit_to_dict",
    "curve_fit_to_json",
    "curves_schema",
    "load_curve_bootstrap",
    "load_curve_fit",
    "save_curve_fit",
]

CURVE_SCHEMA_VERSION = 1
_KIND = "scalinglaws.curve_fit"


def curve_fit_to_dict(result, bootstrap=None) -> dict:
    """The JSON document of a :class:`~scalinglaws.fitting.curves.CurveFitResult` (with
    the draws of a :class:`~scalinglaws.uncertainty.curves.CurveBootstrap`, if given)."""
    law = result.law
    doc = {
        "schema_version": CURVE_SCHEMA_VERSION,
        "kind": _KIND,
        "package_version": result.package_version,
        "law": {"name": law.name, "config": law.config(), "param_names": list(law.param_names),
                "formula": law.formula},
        "params": dict(result.params),
        "free_params": list(result.free_params),
        "fixed": dict(result.fixed),
        "tied": dict(result.tied),
        "objective": result.objective,
        "runs": list(result.runs),
        "run_N": dict(result.run_N),
        "n_points": result.n_points,
        "success": result.success,
        "status": result.status,
        "message": result.message,
        "at_bounds": list(result.at_bounds),
        "optimizer": {"n_starts": result.n_starts, "nit": result.nit, "nfev": result.nfev,
                      "gradient": result.gradient},
        "local_optima": list(result.local_optima),
        "diagnostics": dict(result.diagnostics),
        "options": dict(result.options),
        "data_fingerprint": result.data_fingerprint,
        "bootstrap": None,
    }
    if bootstrap is not None:
        if bootstrap.law != law or dict(bootstrap.point) != dict(result.params):
            raise InputError("`bootstrap` was not computed from this fit")
        doc["bootstrap"] = {"method": bootstrap.method, "n_resamples": bootstrap.n_resamples,
                            "n_failed": bootstrap.n_failed,
                            "confidence_level": bootstrap.confidence_level,
                            "seed": bootstrap.seed, "block_lengths": dict(bootstrap.block_lengths),
                            "ar1_coefficients": dict(bootstrap.ar1_coefficients),
                            "n_distinct": bootstrap.n_distinct, "n_curves": bootstrap.n_curves,
                            "at_bounds": list(bootstrap.at_bounds),
                            "draws": np.asarray(bootstrap.draws).tolist()}
    return to_plain(doc)


def _need(doc: dict, key: str, kind, source: str):
    if key not in doc:
        raise InputError(f"{source}: missing key {key!r}")
    value = doc[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        name = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise InputError(f"{source}: key {key!r} must be {name}, got {type(value).__name__}")
    return value


def _maybe(doc: dict, key: str, kind, source: str):
    value = doc.get(key)
    if value is None:
        return kind()
    if not isinstance(value, kind):
        raise InputError(f"{source}: key {key!r} must be {kind.__name__}, got "
                         f"{type(value).__name__}")
    return value


def _number(value) -> float:
    return float("nan") if value is None else float(value)


@lru_cache(maxsize=1)
def _schema_text() -> str:
    return resources.files("scalinglaws").joinpath("schema/curves.schema.json").read_text("utf-8")


@lru_cache(maxsize=1)
def _cached_schema() -> dict:
    return json.loads(_schema_text())


def curve_fit_from_dict(doc: Any, *, source: str = "curve fit JSON"):
    """Rebuild ``(CurveFitResult, CurveBootstrap or None)`` from a document.

    The document is checked against the shipped schema (``curves.schema.json``: types,
    the bootstrap's method and confidence level, unknown fields...) before anything is
    built, as fit and IsoFLOP files are.

    Raises
    ------
    InputError
        Naming ``source`` and the field (``curves.json: field bootstrap.method must be one
        of 'blocks', 'curves', 'points', 'ar1', got 'garbage'``).
    """
    from ...fitting.curves import CurveFitResult
    from ...laws.curve_laws import get_curve_law
    from ...uncertainty.curves import CurveBootstrap

    if not isinstance(doc, dict):
        raise InputError(f"{source}: expected a JSON object, got {type(doc).__name__}")
    if doc.get("kind") != _KIND:
        raise InputError(f"{source}: kind {doc.get('kind')!r} is not {_KIND!r} (a curve fit "
                         "written by `scalinglaws curves fit --out`)")
    version = _need(doc, "schema_version", int, source)
    if version != CURVE_SCHEMA_VERSION:
        raise InputError(f"{source}: schema_version {version} is not supported (scalinglaws "
                         f"{__version__} reads version {CURVE_SCHEMA_VERSION})")
    check_json_schema(doc, _cached_schema(), source)
    law_doc = _need(doc, "law", dict, source)
    name = _need(law_doc, "name", str, f"{source} law")
    config = _maybe(law_doc, "config", dict, f"{source} law")
    try:
        law = get_curve_law(name, **config)
    except InputError as exc:  # the registry's words, with the file and the field
        raise InputError(f"{source}: field law: {exc}") from None
    params = _need(doc, "params", dict, source)
    values = {}
    for pname in law.param_names:
        value = params.get(pname)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not math.isfinite(value):
            raise InputError(f"{source}: parameter {pname!r} of law {name!r} is missing or not "
                             f"a finite number (got {value!r})")
        values[pname] = float(value)
    extra = sorted(set(params) - set(law.param_names))
    if extra:
        raise InputError(f"{source}: unknown parameter(s) {extra} for law {name!r}")
    # the fit files' check: fixed and tied name the law's parameters and hold
    check_restrictions({**doc, "params": values}, law, source)
    optimizer = _maybe(doc, "optimizer", dict, source)
    try:
        result = CurveFitResult(
            law=law, params=values,
            free_params=tuple(_maybe(doc, "free_params", list, source) or law.param_names),
            fixed=dict(_maybe(doc, "fixed", dict, source)),
            tied=dict(_maybe(doc, "tied", dict, source)),
            objective=_number(doc.get("objective")),
            runs=tuple(str(r) for r in _maybe(doc, "runs", list, source)),
            n_points=int(_need(doc, "n_points", int, source)),
            success=bool(doc.get("success", False)), status=int(doc.get("status", 2)),
            message=str(doc.get("message", "")),
            at_bounds=tuple(_maybe(doc, "at_bounds", list, source)),
            n_starts=int(optimizer.get("n_starts", 0)),
            local_optima=tuple(_maybe(doc, "local_optima", list, source)),
            options=dict(_maybe(doc, "options", dict, source)),
            data_fingerprint=str(doc.get("data_fingerprint", "")),
            nit=int(optimizer.get("nit", 0)), nfev=int(optimizer.get("nfev", 0)),
            gradient=_number(optimizer.get("gradient")),
            diagnostics=dict(_maybe(doc, "diagnostics", dict, source)),
            run_N={str(k): float(v) for k, v in _maybe(doc, "run_N", dict, source).items()},
            package_version=str(doc.get("package_version", "")))
    except (TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{source}: malformed field ({exc})") from None
    boot = doc.get("bootstrap")
    if boot is None:
        return result, None
    if not isinstance(boot, dict):
        raise InputError(f"{source}: key 'bootstrap' must be an object or null")
    # the schema made every draw a list of numbers; each must hold one per parameter
    if any(len(row) != law.n_params for row in boot["draws"]):
        raise InputError(f"{source}: field bootstrap.draws must have {law.n_params} values "
                         f"(one per parameter of law {name!r}) in each draw")
    draws = np.array(boot["draws"], dtype=float).reshape(len(boot["draws"]), law.n_params)
    # the schema requires what every writer wrote (method, counts, level, seed, block
    # lengths): a file without one was edited, and no default stands in for it
    n_resamples, n_failed = int(boot["n_resamples"]), int(boot["n_failed"])
    if len(draws) + n_failed > n_resamples:
        raise InputError(f"{source}: field bootstrap.n_resamples = {n_resamples} is fewer than "
                         f"the draws ({len(draws)}) plus n_failed ({n_failed})")
    bootstrap = CurveBootstrap(law=law, point=dict(values), draws=draws,
                               n_resamples=n_resamples, n_failed=n_failed,
                               # the quantile rule depends on the method: never assumed
                               # (every writer wrote it; a missing one used to read as
                               # "blocks", which the sieve's files are not)
                               method=boot["method"],
                               block_lengths=dict(boot["block_lengths"]),
                               # absent from files written before the AR(1) sieve
                               ar1_coefficients={str(k): float(v) for k, v in
                                                 (boot.get("ar1_coefficients") or {}).items()},
                               confidence_level=float(boot["confidence_level"]),
                               seed=boot["seed"],
                               # what the intervals rest on (absent from files of before
                               # these were recorded: unknown, not zero)
                               n_distinct=_optional_int(boot.get("n_distinct")),
                               n_curves=_optional_int(boot.get("n_curves")),
                               at_bounds=tuple(str(n) for n in boot.get("at_bounds") or ()))
    return result, bootstrap


def _optional_int(value):
    return None if value is None else int(value)


def curve_fit_to_json(result, bootstrap=None, **kwargs) -> str:
    """The fit (and draws) as JSON text; non-finite numbers become null."""
    kwargs.setdefault("indent", 2)
    return json.dumps(curve_fit_to_dict(result, bootstrap), allow_nan=False, **kwargs)


def _parse(text, source: str):
    """The project's JSON reader: no repeated keys, no NaN/Infinity (the writer makes a
    value that is not finite null), a nesting limit."""
    if not isinstance(text, (str, bytes, bytearray)):
        raise InputError(f"{source}: expected JSON text, got {type(text).__name__}")
    return parse_json(text, source, finite=True)


def curve_fit_from_json(text: str | bytes, *, source: str = "curve fit JSON"):
    """The :class:`~scalinglaws.fitting.curves.CurveFitResult` in JSON text."""
    return curve_fit_from_dict(_parse(text, source), source=source)[0]


def save_curve_fit(result, path, bootstrap=None, *, inputs=(), force: bool = False) -> None:
    """Write the fit (and draws) as JSON to ``path``, atomically; never over one of
    ``inputs`` (e.g. the curves it was fitted on) or another kind of file unless ``force``."""
    text = curve_fit_to_json(result, bootstrap) + "\n"
    check_output_path(path, inputs=inputs, kind="json", force=force, argument="path")
    atomic_write(path, text)


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise InputError(f"{os.fspath(path)}: cannot read curve fit file ({exc.strerror})") from None


def load_curve_fit(path):
    """Read a :class:`~scalinglaws.fitting.curves.CurveFitResult` saved by
    :func:`save_curve_fit` (or ``scalinglaws curves fit --out``)."""
    return curve_fit_from_dict(_parse(_read(path), os.fspath(path)), source=os.fspath(path))[0]


def load_curve_bootstrap(path):
    """The :class:`~scalinglaws.uncertainty.curves.CurveBootstrap` saved with a fit, or
    None when the file holds none."""
    return curve_fit_from_dict(_parse(_read(path), os.fspath(path)), source=os.fspath(path))[1]


def curves_schema() -> dict:
    """The JSON Schema of curve-fit files (``scalinglaws/schema/curves.schema.json``), a
    fresh copy."""
    return json.loads(_schema_text())
