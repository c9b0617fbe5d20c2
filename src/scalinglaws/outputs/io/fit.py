"""JSON export and import of fitted laws (plain types only; never pickle).

A fit file is one JSON object with ``schema_version``, the package version, the form (by
registered name and constructor config), every parameter, the loss settings, the data
fingerprint and the fit diagnostics, described by the JSON Schema shipped as
``scalinglaws/schema/fit.schema.json``. Writing is atomic (a reader never sees a
truncated file; a failed save leaves the old file intact). Reading checks the document
against that schema and then its meaning (:mod:`.validate`) before building a result:
a hand-edited or hostile file gets an :class:`~scalinglaws.InputError` naming the file
and the field, never a result that predicts NaN. Loading needs the form to be registered
(the package's own forms always are; a user-defined form must be registered again: code
is never read from a file).

The ``"bootstrap"`` section is written by ``BootstrapResult.to_dict`` and read by
``BootstrapResult.from_dict`` (uncertainty serialisation will live in its own module).
"""

from __future__ import annotations

import json
import math
import os
from functools import lru_cache
from importlib import resources
from typing import Any

from ..._exceptions import InputError
from ..._files import atomic_write, check_output_path, json_text, parse_json, read_bounded
from ..._version import __version__
from ...fitting.result import DOCUMENT_KIND, SCHEMA_VERSION, FitResult
from .validate import check_fit_semantics, check_json_schema, form_from_doc, refuse_other_kind

__all__ = ["SCHEMA_VERSION", "SUPPORTED_VERSIONS", "fit_to_dict", "fit_from_dict", "to_json",
           "from_json", "save", "load", "schema"]

#: version written; :data:`SUPPORTED_VERSIONS` are read
SUPPORTED_VERSIONS = (1, 2, 3)
_KIND = DOCUMENT_KIND
#: a fit file is a few kB (plus bootstrap draws); anything this large is not one
_MAX_BYTES = 2**30


def fit_to_dict(result) -> dict:
    """The document of a fit (:meth:`FitResult.to_dict`), or of a CalibratedFit: its fit's
    document with the bootstrap and the ``"uncertainty"`` section (:mod:`.uncertainty`)."""
    if isinstance(result, FitResult):  # the common case needs no later stage imported
        return result.to_dict()
    from ...uncertainty.calibrated import CalibratedFit

    if not isinstance(result, CalibratedFit):
        saves_itself = callable(getattr(result, "save", None))
        raise InputError(f"`result` must be a FitResult or a CalibratedFit, got "
                         f"{type(result).__name__}"
                         + (" (it saves itself: result.save(path))" if saves_itself else ""))
    return result.to_dict()


@lru_cache(maxsize=1)
def _schema_text() -> str:
    return resources.files("scalinglaws").joinpath("schema/fit.schema.json").read_text("utf-8")


def schema() -> dict:
    """The JSON Schema of fit files (``scalinglaws/schema/fit.schema.json``), a fresh copy."""
    return json.loads(_schema_text())


@lru_cache(maxsize=1)
def _cached_schema() -> dict:
    return json.loads(_schema_text())


def _check_version(doc: dict, source: str) -> None:
    """A readable message for a version this package does not read (before the schema)."""
    version = doc.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) \
            and version not in SUPPORTED_VERSIONS:
        raise InputError(f"{source}: schema_version {version} is not supported (this is "
                         f"scalinglaws {__version__}, which reads version"
                         f"{'s' * (len(SUPPORTED_VERSIONS) > 1)} "
                         f"{', '.join(map(str, SUPPORTED_VERSIONS))})")


def fit_from_dict(doc: Any, *, source: str = "fit JSON"):
    """Rebuild a :class:`~scalinglaws.FitResult` from its JSON document.

    Raises
    ------
    InputError
        Naming ``source`` and the field, for a document that is not a fit, has another
        schema version, breaks the shipped schema (types, enums, ranges, unknown
        fields, non-finite numbers), names an unregistered form, or whose numbers do
        not make sense for the form (a parameter outside the fit's bounds, a tied
        parameter not equal to its target, counts that disagree...).
    """
    if not isinstance(doc, dict):
        raise InputError(f"{source}: expected a JSON object, got {type(doc).__name__}")
    refuse_other_kind(doc, DOCUMENT_KIND, source, what="a fit",
                      writer="a fit file is what `scalinglaws fit --out` (scalinglaws.save) "
                             "writes")
    _check_version(doc, source)
    check_json_schema(doc, _cached_schema(), source)
    form = form_from_doc(doc["form"], source)
    check_fit_semantics(doc, form, source)
    values = {name: float(doc["params"][name]) for name in form.param_names}
    loss = doc["loss"]
    options = dict(doc.get("options") or {})
    options.setdefault("loss", loss.get("name"))
    options.setdefault("delta", loss.get("delta"))
    options.setdefault("space", doc.get("space"))
    if "ratio" in loss:
        options.setdefault("ratio", loss["ratio"])
    optimizer = doc.get("optimizer") or {}
    result = FitResult(
        form=form, params=values,
        free_params=tuple(doc.get("free_params") or form.param_names),
        fixed={k: float(v) for k, v in (doc.get("fixed") or {}).items()},
        tied=dict(doc.get("tied") or {}),
        objective=_number(doc["objective"]), n_runs=int(doc["n_runs"]),
        success=doc["success"], status=int(doc["status"]), message=doc["message"],
        at_bounds=tuple(doc.get("at_bounds") or ()),
        n_starts=int(optimizer.get("n_starts", 0)),
        best_basin_starts=tuple(int(i) for i in optimizer.get("best_basin_starts") or ()),
        local_optima=tuple(doc.get("local_optima") or ()), options=options,
        data_fingerprint=doc["data_fingerprint"],
        fitted_range=_fitted_range(doc.get("fitted_range") or {}, form, source),
        nit=int(optimizer.get("nit", 0)), nfev=int(optimizer.get("nfev", 0)),
        gradient=_number(optimizer.get("gradient")),
        diagnostics=_diagnostics(doc.get("diagnostics") or {}),
        package_version=doc["package_version"],
    )
    bootstrap = None
    if doc.get("bootstrap") is not None:  # an empty section is refused, not read as none
        from ...uncertainty.bootstrap_result import BootstrapResult

        from ...uncertainty.delta import restriction_kind

        # the fit's k and restriction: a bootstrap section written before it recorded them
        # takes them, one stating others is refused (its labels would be another fit's)
        bootstrap = BootstrapResult.from_dict(
            doc["bootstrap"], form, values, source, flops_per_token=result.flops_per_token,
            restriction=restriction_kind(result.tied, result.fixed),
            # the jackknife left out each of the fit's runs; a fit without a fingerprint
            # was bootstrapped on whatever runs were given (check_fitted_on), so unchecked
            n_runs=result.n_runs if result.data_fingerprint else None)
    if doc.get("uncertainty") is not None:
        from .uncertainty import calibrated_from_dict

        return calibrated_from_dict(doc["uncertainty"], result, bootstrap, source=source)
    return result if bootstrap is None else result.with_bootstrap(bootstrap)


def _number(value) -> float:
    return float("nan") if value is None else float(value)


def _diagnostics(doc: dict) -> dict:
    """Diagnostics as the fit made them: a null number was a NaN (JSON has none)."""
    out = dict(doc)
    if "condition_number" in out:
        out["condition_number"] = _number(out["condition_number"])
    if isinstance(out.get("most_correlated"), dict):
        pair = dict(out["most_correlated"])
        pair["correlation"] = _number(pair.get("correlation"))
        out["most_correlated"] = pair
    return out


def to_json(result, **kwargs) -> str:
    """Serialise a fit to a JSON string (non-finite numbers become null; ``kwargs`` go to
    :func:`json.dumps`). A value JSON cannot hold raises :class:`InputError` naming it."""
    return json_text(fit_to_dict(result), what="the fit", **kwargs)


def from_json(text: str | bytes, *, source: str = "fit JSON"):
    """Parse a fit from a JSON string, raising :class:`~scalinglaws.InputError` on any problem."""
    if not isinstance(text, (str, bytes, bytearray)):
        raise InputError(f"{source}: expected JSON text, got {type(text).__name__}")
    return fit_from_dict(parse_json(text, source, finite=True), source=source)


def _fitted_range(ranges: dict, form, source: str) -> dict:
    """``fitted_range`` of a fit file: the form's inputs (and ``N*D`` for a form of N and
    D), each [smallest, largest], positive for a form of positive inputs."""
    known = set(form.inputs) | ({"N*D"} if {"N", "D"} <= set(form.inputs) else set())
    positive = getattr(form, "positive_inputs", True)
    out = {}
    for name, pair in ranges.items():
        if name not in known:
            raise InputError(f"{source}: field fitted_range.{name}: form {form.name!r} takes "
                             f"inputs {', '.join(form.inputs)}")
        low, high = (float(v) for v in pair)
        if not (low <= high and math.isfinite(low) and math.isfinite(high)) or \
                (positive and low <= 0):
            bound = "0 < smallest <= largest" if positive else "smallest <= largest"
            raise InputError(f"{source}: field fitted_range.{name} must be [smallest, largest] "
                             f"with {bound}, got {list(pair)}")
        out[name] = (low, high)
    return out


def save(result, path: str | os.PathLike, *, force: bool = False) -> None:
    """Write ``result`` (a FitResult, or a CalibratedFit with its uncertainty) as JSON to
    ``path``, atomically.

    The document is built and encoded first, then written to a temporary file beside
    ``path`` and renamed into place: a save that fails (a value JSON cannot hold, a full
    disk, Ctrl-C) leaves any previous file at ``path`` intact, and a concurrent reader
    sees the old file or the new one, never a mixture. An existing fit file is
    replaced; any other existing file (a table of runs, an image) only with
    ``force=True``.

    Examples
    --------
    >>> import os, tempfile
    >>> import scalinglaws as sl
    >>> result = sl.fit(sl.generate_sweep(rng=0))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     sl.save(result, os.path.join(folder, "fit.json"))
    ...     print(sl.load(os.path.join(folder, "fit.json")).params == result.params)
    True
    """
    if not isinstance(path, (str, os.PathLike)):
        raise InputError(f"`path` must be a file path, got {type(path).__name__}")
    text = to_json(result) + "\n"
    target = check_output_path(path, kind="fit", force=force, argument="`path`")
    atomic_write(target, text)


def load(path: str | os.PathLike):
    """Read a fit written by :func:`save` (or ``scalinglaws fit --out``), checking it first.

    The document is checked against the schema and for meaning (positive scales, draws
    made at the file's own parameters) before anything is built; a file that fails
    raises :class:`~scalinglaws.InputError` naming the file and the field. A fit saved
    with its bootstrap comes back with it, so predictions from the loaded fit carry the
    same intervals.

    Examples
    --------
    >>> import os, tempfile
    >>> import scalinglaws as sl
    >>> runs = sl.generate_sweep(rng=0)
    >>> result = sl.fit(runs)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     result.save(os.path.join(folder, "fit.json"))
    ...     loaded = sl.load(os.path.join(folder, "fit.json"))
    >>> float(loaded.predict(N=7e10, D=1.4e12)) == float(result.predict(N=7e10, D=1.4e12))
    True
    """
    if not isinstance(path, (str, os.PathLike)):
        raise InputError(f"`path` must be a file path, got {type(path).__name__}")
    source, text = read_bounded(path, what="fit file", max_bytes=_MAX_BYTES)
    start = text.lstrip()[:1]
    if start and start not in ("{", b"{"):
        raise InputError(f"{source}: not a fit file (a fit file is the JSON object written by "
                         "`scalinglaws fit --out` or scalinglaws.save); a table of runs is "
                         "fitted first: `scalinglaws fit RUNS --out fit.json`")
    return from_json(text, source=source)
