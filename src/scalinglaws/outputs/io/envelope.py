"""JSON of an Approach 1 analysis (Hoffmann et al.'s minimum over training curves): plain
types, never pickle.

An Approach 1 document is the JSON object :meth:`EnvelopeResult.save
<scalinglaws.fitting.envelope.EnvelopeResult.save>` and ``scalinglaws envelope --out`` write
(``kind`` ``"scalinglaws.envelope"``, :meth:`~scalinglaws.fitting.envelope.EnvelopeResult.to_dict`):
the exponents and coefficients with their intervals, both log-log regressions, the options,
the envelope (one value per log-spaced compute value in each column) and with resampling
every resample's lines. The command adds what its intervals are (``interval``, ``method``,
``n_draws``) and with ``--C`` the allocation rows (``optimal``), which the loader checks and
leaves: they follow from the analysis. ``scalinglaws envelope --by COLUMN --out`` writes
one document of the same kind holding one analysis per value of COLUMN under ``groups``;
``group=`` picks one. Reading checks the document against :data:`ENVELOPE_SCHEMA` (shipped
as ``scalinglaws/schema/envelope.schema.json``), then what a schema cannot say (the
envelope's columns have ``options.n_points`` values, a used point has its size, tokens,
loss and run, the counts agree with the envelope, the exponents are the regressions', the
draws have one row per resample), and rebuilds a result that predicts, prints and saves
exactly what the saved one did. Every failure is an :class:`~scalinglaws.InputError`
naming the file and the field.

Documents the command wrote before ``to_dict`` carried ``schema_version`` and
``package_version`` lack them (they are version 1), and the earliest lack
``options.seed``: they load as they are. Version 2 writes ``flops_per_token`` null, and
``flops_per_token_range``, when C is the table's own FLOP column (``flop_model``
``"runs"``); a version 1 document's k there, the runs' unused default, is read as None.

Examples
--------
>>> import os, tempfile
>>> from scalinglaws.fitting.envelope import envelope_fit
>>> from scalinglaws.laws.synthetic import synthetic_training_curves
>>> result = envelope_fit(synthetic_training_curves(rng=0), n_points=200)
>>> with tempfile.TemporaryDirectory() as folder:
...     result.save(os.path.join(folder, "envelope.json"))
...     loaded = load_envelope(os.path.join(folder, "envelope.json"))
>>> loaded.a == result.a and loaded.envelope.equals(result.envelope)
True
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources
from typing import Any

from ..._exceptions import InputError
from ..._files import parse_json, read_bounded
from ...fitting.envelope import DOCUMENT_KIND, SCHEMA_VERSION, EnvelopeResult
from .isoflop import _fail, _nan, check_lines, optima_fields
from .validate import check_json_schema, one_group, refuse_newer_version, refuse_other_kind

__all__ = ["ENVELOPE_COLUMNS", "ENVELOPE_SCHEMA", "envelope_from_dict", "envelope_from_json",
           "envelope_schema", "load_envelope"]

#: a document is ~100 kB for the default 1,500 compute values, plus the resamples' lines
_MAX_BYTES = 2**30

#: the envelope table's columns, in order (``EnvelopeResult.envelope``)
ENVELOPE_COLUMNS = ("C", "loss", "N", "D", "run", "n_covering", "used")
#: what a used point has, and a point no run attains has not (null)
_ATTAINED = ("N", "D", "loss", "run")


@lru_cache(maxsize=1)
def _schema_text() -> str:
    return resources.files("scalinglaws").joinpath("schema/envelope.schema.json").read_text(
        "utf-8")


#: The JSON Schema of Approach 1 documents, shipped as
#: ``scalinglaws/schema/envelope.schema.json`` (the subset of draft 2020-12 that
#: :func:`~scalinglaws.outputs.io.validate.check_json_schema` implements); its regression,
#: pair and number definitions are the IsoFLOP schema's.
ENVELOPE_SCHEMA = json.loads(_schema_text())


def envelope_schema() -> dict:
    """The JSON Schema of Approach 1 documents (``scalinglaws/schema/envelope.schema.json``),
    a fresh copy."""
    return json.loads(_schema_text())


def _check_envelope(doc: dict, source: str) -> int:
    """The envelope's columns: ``options.n_points`` values each, C increasing, a used point
    attained (size, tokens, loss and run; positive size and tokens) and a point no run
    attains without any; at most ``n_runs`` runs cover a point. Returns the used points."""
    table, n_points, n_runs = doc["envelope"], doc["options"]["n_points"], doc["n_runs"]
    for name in ENVELOPE_COLUMNS:
        if len(table[name]) != n_points:
            _fail(source, f"envelope.{name}", f"must have {n_points} values (options.n_points), "
                                              f"got {len(table[name])}")
    compute = table["C"]
    if any(later <= earlier for earlier, later in zip(compute, compute[1:])):
        _fail(source, "envelope.C", "must increase (log-spaced compute values)")
    for i in range(n_points):
        if table["used"][i]:
            for name in _ATTAINED:
                if table[name][i] is None:
                    _fail(source, f"envelope.{name}[{i}]", "must be given at a used point")
            for name in ("N", "D"):
                if table[name][i] <= 0:
                    _fail(source, f"envelope.{name}[{i}]", f"must be > 0 at a used point, got "
                                                           f"{table[name][i]!r}")
        if table["N"][i] is None:
            for name in _ATTAINED[1:]:
                if table[name][i] is not None:
                    _fail(source, f"envelope.{name}[{i}]", "must be null where envelope.N is "
                                                           "(no run attains the envelope there)")
        if table["n_covering"][i] > n_runs:
            _fail(source, f"envelope.n_covering[{i}]", f"= {table['n_covering'][i]} exceeds the "
                                                       f"{n_runs} runs (n_runs)")
    return sum(table["used"])


def _check_meaning(doc: dict, source: str) -> None:
    """What the schema cannot say (see the module's docstring)."""
    used = _check_envelope(doc, source)
    if used != doc["n_points_used"]:
        _fail(source, "n_points_used", f"must be the {used} used points of envelope, got "
                                       f"{doc['n_points_used']}")
    if doc["n_sizes"] > doc["n_runs"]:
        _fail(source, "n_sizes", f"must be at most n_runs ({doc['n_runs']}), got "
                                 f"{doc['n_sizes']}")
    check_lines(doc, used, "used envelope points", source)
    n_resamples = doc["options"]["n_resamples"]
    if "n_draws" in doc and doc["n_draws"] != n_resamples:
        _fail(source, "n_draws", f"must be options.n_resamples ({n_resamples}), got "
                                 f"{doc['n_draws']}")
    _check_compute(doc, source)


def _check_compute(doc: dict, source: str) -> None:
    """``flops_per_token`` null and ``flops_per_token_range`` only with ``flop_model``
    "runs" (C the table's own column), where version 2 has them; the range is C/(N D)
    over the envelope points a run attains (C increasing, so no point is dropped)."""
    runs = doc["flop_model"] == "runs"
    if not runs:
        if doc["flops_per_token"] is None:
            _fail(source, "flops_per_token", "must be k of C = k N D (flop_model 'C = k N D'), "
                                             "got null")
        if "flops_per_token_range" in doc:
            _fail(source, "flops_per_token_range", "is for flop_model 'runs' (C the table's "
                                                   "own FLOP column), not for C = k N D")
        return
    if doc.get("schema_version", 1) >= 2:
        if doc["flops_per_token"] is not None:
            _fail(source, "flops_per_token", "must be null with flop_model 'runs': C is the "
                                             "table's own FLOP column, not k N D for one k")
        if "flops_per_token_range" not in doc:
            _fail(source, "flops_per_token_range", "is missing (flop_model 'runs')")
    if "flops_per_token_range" in doc:
        table = doc["envelope"]
        ratios = [c / (n * d) for c, n, d in zip(table["C"], table["N"], table["D"])
                  if n is not None and d is not None]
        low, high = doc["flops_per_token_range"]
        if ratios and not (math.isclose(low, min(ratios), rel_tol=1e-9)
                           and math.isclose(high, max(ratios), rel_tol=1e-9)):
            _fail(source, "flops_per_token_range", f"must be the lowest and highest C/(N D) "
                  f"of the envelope, [{min(ratios)!r}, {max(ratios)!r}], got "
                  f"[{low!r}, {high!r}]")


def envelope_from_dict(doc: Any, *, source: str = "envelope JSON",
                       group: Any = None) -> EnvelopeResult:
    """Check an Approach 1 document and rebuild its
    :class:`~scalinglaws.fitting.envelope.EnvelopeResult`.

    Parameters
    ----------
    doc : dict
        One analysis (``EnvelopeResult.to_dict``, or what ``scalinglaws envelope --out``
        writes), or the document of ``scalinglaws envelope --by COLUMN``: one analysis
        per value of COLUMN under ``groups``, of which ``group`` names the one to read.
    source : str
        The file or text's name, for messages.
    group : optional
        With a ``--by`` document, the group's value (a number may be given as text).

    Raises
    ------
    InputError
        Naming ``source`` and the field, for a document that is not an Approach 1
        analysis (another scalinglaws document says which and where it is read), has a
        newer schema version, breaks :data:`ENVELOPE_SCHEMA` (types, ranges, unknown
        fields, a missing field) or whose numbers disagree (see the module's docstring);
        for a ``--by`` document without ``group`` (naming the groups), or a ``group`` it
        does not hold.
    """
    import pandas as pd

    if not isinstance(doc, dict):
        raise InputError(f"{source}: expected a JSON object, got {type(doc).__name__}")
    if doc.get("kind") == DOCUMENT_KIND:
        doc = one_group(doc, group, source, command="envelope", loader="load_envelope",
                        analysis=("Approach 1 (envelope) analysis",
                                  "Approach 1 (envelope) analyses"))
    refuse_other_kind(doc, DOCUMENT_KIND, source, what="an Approach 1 (envelope) analysis",
                      writer="an Approach 1 file is what `scalinglaws envelope --out` "
                             "(EnvelopeResult.save) writes")
    refuse_newer_version(doc, SCHEMA_VERSION, source)
    check_json_schema(doc, ENVELOPE_SCHEMA, source)
    _check_meaning(doc, source)
    columns = doc["envelope"]
    table = pd.DataFrame({name: (columns[name] if name in ("run", "n_covering", "used")
                                 else [_nan(v) for v in columns[name]])
                          for name in ENVELOPE_COLUMNS})
    table = table.astype({"n_covering": "int64", "used": bool,
                          **{name: float for name in ("C", "loss", "N", "D")}})
    fields = optima_fields(doc)
    if doc["flop_model"] == "runs":  # version 1 wrote the runs' unused k: no k made C
        fields["flops_per_token"] = None
    return EnvelopeResult(
        _envelope=table, **fields, n_points_used=doc["n_points_used"],
        n_runs=doc["n_runs"], n_sizes=doc["n_sizes"], n_checkpoints=doc["n_checkpoints"],
        flop_model=doc["flop_model"])


def envelope_from_json(text: str | bytes, *, source: str = "envelope JSON",
                       group: Any = None) -> EnvelopeResult:
    """Parse and check an Approach 1 document (see :func:`envelope_from_dict`)."""
    if not isinstance(text, (str, bytes, bytearray)):
        raise InputError(f"{source}: expected JSON text, got {type(text).__name__}")
    # the writer never wrote NaN (to_plain makes it null), so a NaN literal was not written by it
    return envelope_from_dict(parse_json(text, source, finite=True), source=source, group=group)


def load_envelope(path, *, group: Any = None) -> EnvelopeResult:
    """Read an Approach 1 analysis written by :meth:`EnvelopeResult.save
    <scalinglaws.fitting.envelope.EnvelopeResult.save>` or ``scalinglaws envelope --out``,
    checking it first; it predicts (``predict_optimal``, with the same intervals), prints
    and saves exactly as the saved one.

    ``scalinglaws envelope --by COLUMN --out`` writes one document holding an analysis per
    value of COLUMN: ``group`` names the one to read (without it the message lists them).
    """
    source, text = read_bounded(path, what="envelope file", max_bytes=_MAX_BYTES)
    return envelope_from_json(text, source=source, group=group)
