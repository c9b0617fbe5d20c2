"""JSON of an IsoFLOP analysis (Hoffmann et al.'s Approach 2): plain types, never pickle.

An IsoFLOP document is the JSON object :meth:`IsoFLOPResult.save
<scalinglaws.fitting.isoflop.IsoFLOPResult.save>` and ``scalinglaws isoflop --out`` write
(``kind`` ``"scalinglaws.isoflop"``, :meth:`~scalinglaws.fitting.isoflop.IsoFLOPResult.to_dict`):
the exponents and coefficients with their intervals, both log-log regressions, the options,
the per-budget table, and with resampling every resample's lines and minima
(``scalinglaws isoflop --by COLUMN --out`` writes one document of the same kind holding
one such analysis per value of COLUMN under ``groups``; ``group=`` picks one). Reading checks
it against :data:`ISOFLOP_SCHEMA` (shipped as ``scalinglaws/schema/isoflop.schema.json``), then what a schema cannot say (the counts agree with the
per-budget table, the exponents are the regressions', the draws have one row per resample),
and rebuilds a result that predicts, prints and saves exactly what the saved one did. Every
failure is an :class:`~scalinglaws.InputError` naming the file and the field.

Version 2 writes ``flops_per_token`` null, and ``flops_per_token_range`` (the lowest and
highest C/(N_opt D_opt) of the used budgets), when D* did not come from one k
(``flop_model`` ``"runs"``: the runs' own C/(N D); ``"flops"``: the user's FLOP model);
version 1 wrote the runs' unused k there and no range, and loads with no k (None), as
the envelope's version 1 does. ``scalinglaws isoflop --by`` documents hold each group's
analysis in its own version. ``scalinglaws isoflop --C`` adds ``predict_optimal``'s rows at
those budgets (``optimal``) and what their intervals are (``interval``, ``method``,
``n_draws``: the resampled lines behind them, 0 for a t interval), as ``envelope --C``
does; the loader checks them and leaves them (they follow from the analysis).

Examples
--------
>>> import os, tempfile
>>> import scalinglaws as sl
>>> result = sl.isoflop_fit(sl.generate_sweep(rng=0), budget="budget")
>>> with tempfile.TemporaryDirectory() as folder:
...     result.save(os.path.join(folder, "isoflop.json"))
...     loaded = load_isoflop(os.path.join(folder, "isoflop.json"))
>>> loaded.a == result.a and loaded.to_dict() == result.to_dict()
True
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from ..._exceptions import InputError
from ..._files import parse_json, read_bounded
from ...fitting.isoflop import DOCUMENT_KIND, SCHEMA_VERSION, IsoFLOPResult
from .validate import check_json_schema, one_group, refuse_newer_version, refuse_other_kind

__all__ = ["ISOFLOP_SCHEMA", "isoflop_from_dict", "isoflop_from_json", "isoflop_schema",
           "load_isoflop"]

#: a document is a few kB plus the resamples (budgets x resamples numbers)
_MAX_BYTES = 2**30

#: the per-budget table's columns, in order (``IsoFLOPResult.budgets``)
BUDGET_COLUMNS = ("budget", "C", "C_spread_dex", "n_points", "n_fitted", "N_min", "N_max",
                  "N_opt", "ln_N_opt_se", "D_opt", "flops_per_token", "loss_opt",
                  "edge_fraction", "status", "reason", "used")
_FLOAT_COLUMNS = ("C", "C_spread_dex", "N_min", "N_max", "N_opt", "ln_N_opt_se", "D_opt",
                  "flops_per_token", "loss_opt", "edge_fraction")

@lru_cache(maxsize=1)
def _schema_text() -> str:
    return resources.files("scalinglaws").joinpath("schema/isoflop.schema.json").read_text(
        "utf-8")


#: The JSON Schema of IsoFLOP documents, shipped as ``scalinglaws/schema/isoflop.schema.json``
#: as the fit, curve-fit and task schemas are (the subset of draft 2020-12 that
#: :func:`~scalinglaws.outputs.io.validate.check_json_schema` implements); its enums are
#: the package's ``CURVES``, ``STATUSES`` and ``FLOP_MODELS``.
ISOFLOP_SCHEMA = json.loads(_schema_text())

#: the fields both approaches hold with resampling (Approach 2 adds ``log_N_opt_draws``)
_RESAMPLED = ("a_bootstrap_interval", "b_bootstrap_interval", "a_bootstrap", "b_bootstrap",
              "N_line_bootstrap", "D_line_bootstrap")


def isoflop_schema() -> dict:
    """The JSON Schema of IsoFLOP documents (``scalinglaws/schema/isoflop.schema.json``), a
    fresh copy."""
    return json.loads(_schema_text())


def _nan(value: Any) -> Any:
    """A number of the document as written: null was a NaN; lists stay lists."""
    if value is None:
        return math.nan
    if isinstance(value, list):
        return [_nan(v) for v in value]
    return float(value)


def _pair(value) -> tuple | None:
    return None if value is None else tuple(_nan(value))


def _array(value) -> np.ndarray | None:
    return None if value is None else np.asarray(_nan(value), dtype=float)


def _fail(source: str, field: str, problem: str):
    raise InputError(f"{source}: field {field} {problem}")


def check_resampled(doc: dict, field: str, rows: int, source: str) -> None:
    """``field`` is null exactly without resampling (``options.n_resamples`` 0), and
    otherwise holds ``rows`` rows."""
    n_resamples, value = doc["options"]["n_resamples"], doc[field]
    if (value is None) != (n_resamples == 0):
        _fail(source, field, "must be null without resampling (options.n_resamples 0)"
              if n_resamples == 0 else f"is missing: options.n_resamples is {n_resamples}")
    if value is not None and len(value) != rows:
        _fail(source, field, f"must have {rows} rows, got {len(value)}")


def check_lines(doc: dict, used: int, points: str, source: str) -> None:
    """What the schema cannot say of the lines through the optima, which Approaches 1 and 2
    share: each regression rests on the ``used`` optima (``points``, e.g. "used budgets"),
    the exponents and coefficients are the regressions', and the resampled lines are there
    exactly with resampling, one row per resample, the exponents their slopes."""
    for name, exponent, coef in (("N", "a", "N_coef"), ("D", "b", "D_coef")):
        line = doc["regression"][name]
        if line["n"] != used:
            _fail(source, f"regression.{name}.n", f"must be the {used} {points}, got "
                                                  f"{line['n']}")
        if doc[exponent] != line["exponent"] or line["params"][1] != line["exponent"]:
            _fail(source, exponent, f"must be regression.{name}.exponent and its slope "
                                    f"params[1] ({line['exponent']!r}), got {doc[exponent]!r}")
        if doc[coef] != line["coef"] or not math.isclose(
                line["coef"], math.exp(line["params"][0]), rel_tol=1e-12):
            _fail(source, coef, f"must be regression.{name}.coef = exp(params[0]) "
                                f"({math.exp(line['params'][0])!r}), got {doc[coef]!r}")
    n_resamples = doc["options"]["n_resamples"]
    for field in _RESAMPLED:
        # an interval is a pair, whatever the resamples
        check_resampled(doc, field, 2 if field.endswith("_interval") else n_resamples, source)
    if n_resamples:
        for draws, lines in (("a_bootstrap", "N_line_bootstrap"),
                             ("b_bootstrap", "D_line_bootstrap")):
            slopes = [pair[1] for pair in doc[lines]]
            if not np.array_equal(_array(doc[draws]), _array(slopes), equal_nan=True):
                _fail(source, draws, f"must be the slopes of {lines} (the second of each pair)")


def optima_fields(doc: dict) -> dict:
    """The fields of :class:`~scalinglaws.fitting._optima.OptimaResult` (what Approaches 1
    and 2 share) from a checked document."""
    regression = {name: {key: (value if key == "n" else _nan(value))
                         for key, value in line.items()}
                  for name, line in doc["regression"].items()}
    return dict(
        a=float(doc["a"]), a_interval=_pair(doc["a_interval"]), a_se=_nan(doc["a_se"]),
        b=float(doc["b"]), b_interval=_pair(doc["b_interval"]), b_se=_nan(doc["b_se"]),
        N_coef=float(doc["N_coef"]), N_coef_interval=_pair(doc["N_coef_interval"]),
        D_coef=float(doc["D_coef"]), D_coef_interval=_pair(doc["D_coef_interval"]),
        confidence_level=float(doc["confidence_level"]),
        flops_per_token=None if doc["flops_per_token"] is None else float(
            doc["flops_per_token"]), options=doc["options"],
        regression=regression,
        a_bootstrap_interval=_pair(doc["a_bootstrap_interval"]),
        b_bootstrap_interval=_pair(doc["b_bootstrap_interval"]),
        a_bootstrap=_array(doc["a_bootstrap"]), b_bootstrap=_array(doc["b_bootstrap"]),
        N_line_bootstrap=_array(doc["N_line_bootstrap"]),
        D_line_bootstrap=_array(doc["D_line_bootstrap"]))


def _check_meaning(doc: dict, source: str) -> None:
    """What the schema cannot say: counts that agree, exponents that are the regressions',
    and resamples present exactly when the options asked for them, one row each."""
    rows = doc["budgets"]
    for i, row in enumerate(rows):
        if row["used"] != (row["status"] == "ok"):
            _fail(source, f"budgets[{i}].used", f"must be {row['status'] == 'ok'} for status "
                                                f"{row['status']!r}")
        if row["N_min"] > row["N_max"]:
            _fail(source, f"budgets[{i}].N_min", f"must be <= N_max ({row['N_max']!r}), got "
                                                 f"{row['N_min']!r}")
        if row["used"] and any(row[name] is None or row[name] <= 0
                               for name in ("N_opt", "D_opt")):
            _fail(source, f"budgets[{i}]", "is used, so its N_opt and D_opt must be positive")
        if row["used"] and not (row["flops_per_token"] is not None and math.isclose(
                row["flops_per_token"], row["C"] / (row["N_opt"] * row["D_opt"]),
                rel_tol=1e-9)):  # what flops_per_token_range and k are checked against
            _fail(source, f"budgets[{i}].flops_per_token", "must be C/(N_opt D_opt) = "
                  f"{row['C'] / (row['N_opt'] * row['D_opt'])!r}, got {row['flops_per_token']!r}")
    used = sum(row["used"] for row in rows)
    if used != doc["n_budgets_used"]:
        _fail(source, "n_budgets_used", f"must be the {used} used rows of budgets, got "
                                        f"{doc['n_budgets_used']}")
    if len(rows) - used != doc["n_budgets_excluded"]:
        _fail(source, "n_budgets_excluded", f"must be the {len(rows) - used} rows of budgets "
                                            f"not used, got {doc['n_budgets_excluded']}")
    check_lines(doc, used, "used budgets", source)
    _check_compute(doc, source)
    # every used budget's minimum in every resample
    n_resamples = doc["options"]["n_resamples"]
    check_resampled(doc, "log_N_opt_draws", used, source)
    if n_resamples and any(len(row) != n_resamples for row in doc["log_N_opt_draws"]):
        _fail(source, "log_N_opt_draws", f"must have {n_resamples} resamples in each row")
    if doc.get("n_draws", 0) > n_resamples:  # `isoflop --C`: the lines behind its intervals
        _fail(source, "n_draws", f"must be at most options.n_resamples ({n_resamples}), got "
                                 f"{doc['n_draws']}")


def _check_compute(doc: dict, source: str) -> None:
    """``flops_per_token`` is k, the used budgets' C/(N_opt D_opt), and
    ``flops_per_token_range`` absent, with ``flop_model`` "flops_per_token"; with "runs" or
    "flops" no one k made D*, and version 2 has ``flops_per_token`` null and the range, the
    lowest and highest C/(N_opt D_opt) of the used budgets (version 1 wrote the runs' k
    whatever the model, read as None). The budget rows' own ratios are checked first
    (:func:`_check_meaning`)."""
    model = doc["flop_model"]
    ratios = [row["flops_per_token"] for row in doc["budgets"] if row["used"]]
    if model == "flops_per_token":
        k = doc["flops_per_token"]
        if k is None:
            _fail(source, "flops_per_token", "must be k of C = k N D (flop_model "
                                             "'flops_per_token'), got null")
        if not all(math.isclose(ratio, k, rel_tol=1e-9) for ratio in ratios):
            _fail(source, "flops_per_token", f"must be C/(N_opt D_opt) of every used budget "
                  f"with flop_model 'flops_per_token' ({min(ratios):.6g}-{max(ratios):.6g}), "
                  f"got {k!r}")
        if "flops_per_token_range" in doc:
            _fail(source, "flops_per_token_range", "is for flop_model 'runs' or 'flops' (D* "
                                                   "not from one k), not for C = k N D")
        return
    if doc["schema_version"] >= 2:
        if doc["flops_per_token"] is not None:
            _fail(source, "flops_per_token", f"must be null with flop_model {model!r}: no "
                                             "one k in C = k N D made D_opt")
        if "flops_per_token_range" not in doc:
            _fail(source, "flops_per_token_range", f"is missing (flop_model {model!r})")
    if "flops_per_token_range" in doc:
        low, high = doc["flops_per_token_range"]
        if not (math.isclose(low, min(ratios), rel_tol=1e-9)
                and math.isclose(high, max(ratios), rel_tol=1e-9)):
            _fail(source, "flops_per_token_range", f"must be the lowest and highest "
                  f"C/(N_opt D_opt) of the used budgets, [{min(ratios)!r}, {max(ratios)!r}], "
                  f"got [{low!r}, {high!r}]")


def isoflop_from_dict(doc: Any, *, source: str = "IsoFLOP JSON",
                      group: Any = None) -> IsoFLOPResult:
    """Check an IsoFLOP document and rebuild its :class:`~scalinglaws.fitting.isoflop.
    IsoFLOPResult`.

    Parameters
    ----------
    doc : dict
        One analysis (``IsoFLOPResult.to_dict``), or the document of
        ``scalinglaws isoflop --by COLUMN``: one analysis per value of COLUMN under
        ``groups``, of which ``group`` names the one to read.
    source : str
        The file or text's name, for messages.
    group : optional
        With a ``--by`` document, the group's value (``"rw/tuned"``; a number may be
        given as text).

    Raises
    ------
    InputError
        Naming ``source`` and the field, for a document that is not an IsoFLOP analysis
        (another scalinglaws document says which), has a newer schema version, breaks
        :data:`ISOFLOP_SCHEMA` (types, enums, ranges, unknown fields, non-finite numbers)
        or whose numbers disagree (see the module's docstring; a version 2
        ``flops_per_token`` must be null, beside its range, exactly when ``flop_model`` is
        not "flops_per_token"); for a ``--by`` document
        without ``group`` (naming the groups), or a ``group`` it does not hold.
    """
    import pandas as pd

    if not isinstance(doc, dict):
        raise InputError(f"{source}: expected a JSON object, got {type(doc).__name__}")
    if doc.get("kind") == DOCUMENT_KIND:
        doc = one_group(doc, group, source, command="isoflop", loader="load_isoflop",
                        analysis=("IsoFLOP analysis", "IsoFLOP analyses"))
    refuse_other_kind(doc, DOCUMENT_KIND, source, what="an IsoFLOP analysis",
                      writer="an IsoFLOP file is what `scalinglaws isoflop --out` "
                             "(IsoFLOPResult.save) writes")
    refuse_newer_version(doc, SCHEMA_VERSION, source)
    check_json_schema(doc, ISOFLOP_SCHEMA, source)
    _check_meaning(doc, source)
    budgets = pd.DataFrame.from_records(doc["budgets"], columns=list(BUDGET_COLUMNS))
    for name in _FLOAT_COLUMNS:
        budgets[name] = [_nan(v) for v in budgets[name]]
    budgets = budgets.astype({"n_points": "int64", "n_fitted": "int64", "used": bool,
                              **{name: float for name in _FLOAT_COLUMNS}})
    fields = optima_fields(doc)
    if doc["flop_model"] != "flops_per_token":  # version 1 wrote the runs' unused k there
        fields["flops_per_token"] = None
    return IsoFLOPResult(
        _budgets=budgets, **fields,
        n_budgets_used=doc["n_budgets_used"], n_budgets_excluded=doc["n_budgets_excluded"],
        n_runs=doc["n_runs"], log_N_opt_draws=_array(doc["log_N_opt_draws"]),
        flop_model=doc["flop_model"])


def isoflop_from_json(text: str | bytes, *, source: str = "IsoFLOP JSON",
                      group: Any = None) -> IsoFLOPResult:
    """Parse and check an IsoFLOP document (see :func:`isoflop_from_dict`)."""
    if not isinstance(text, (str, bytes, bytearray)):
        raise InputError(f"{source}: expected JSON text, got {type(text).__name__}")
    return isoflop_from_dict(parse_json(text, source, finite=True), source=source, group=group)


def load_isoflop(path, *, group: Any = None) -> IsoFLOPResult:
    """Read an IsoFLOP analysis written by :meth:`IsoFLOPResult.save
    <scalinglaws.fitting.isoflop.IsoFLOPResult.save>` or ``scalinglaws isoflop --out``,
    checking it first.

    ``scalinglaws isoflop --by COLUMN --out`` writes one document holding an analysis per
    value of COLUMN: ``group`` names the one to read (without it the message lists them).
    """
    source, text = read_bounded(path, what="IsoFLOP file", max_bytes=_MAX_BYTES)
    if text.lstrip()[:1] == b"[":  # what `isoflop --by` wrote before its document had a kind
        raise InputError(f"{source}: holds a list of analyses (`scalinglaws isoflop --by` "
                         "wrote one per group before its file was one document); "
                         "load_isoflop reads a JSON object: run the command again")
    return isoflop_from_json(text, source=source, group=group)
