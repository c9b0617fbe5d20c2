"""Reading comparison documents back.

``scalinglaws compare --out`` and :meth:`Comparison.save
<scalinglaws.analysis.compare_result.Comparison.save>` write one JSON object (``kind``
``"scalinglaws.comparison"``): the settings, the three tables as row records, the test,
the notes and the fit the multipliers came from. :func:`load_comparison` checks it field
by field (every failure names the file and the field) and rebuilds the
:class:`~scalinglaws.analysis.compare_result.Comparison`, its fit included (a grouped fit,
or every group's IsoFLOP analysis), so its tables, summary and figures are the saved
ones. What the document does not hold stays None: the separate fits behind a shared
fit's exponent comparisons and the resampled draws (run ``compare`` again for those).

Examples
--------
>>> import os, tempfile, warnings
>>> import scalinglaws as sl
>>> runs = sl.generate_sweep(rng=0).to_frame()
>>> runs["recipe"] = ["base", "new"] * (len(runs) // 2)
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore", sl.ScalingLawsWarning)  # a small sweep's caveats
...     result = sl.compare(runs, "base", groups="recipe", n_resamples=20, rng=0,
...                         progress=False)
>>> with tempfile.TemporaryDirectory() as folder:
...     result.save(os.path.join(folder, "comparison.json"))
...     loaded = sl.load_comparison(os.path.join(folder, "comparison.json"))
>>> loaded.summary() == result.summary()
True
"""

from __future__ import annotations

import math
from typing import Any

from ..._exceptions import InputError
from ..._files import parse_json, read_bounded
from ...analysis.compare_result import DOCUMENT_KIND, SCHEMA_VERSION, Comparison
from ...uncertainty.bootstrap_doc import SectionFields
from .validate import refuse_newer_version, refuse_other_kind

__all__ = ["comparison_from_dict", "comparison_from_json", "load_comparison"]

_MAX_BYTES = 2**30
#: the fields :meth:`Comparison.to_dict` writes; any other is refused, as every loader does
_FIELDS = {"kind", "schema_version", "package_version", "approach", "group_column", "groups",
           "reference", "confidence_level", "correction", "n_resamples", "seed", "options",
           "estimates", "differences", "multipliers", "test", "notes", "fit"}
#: columns holding text, and the one holding a decision
_TEXT_COLUMNS = {"quantity", "at", "caveat"}
_APPROACHES = ("parametric", "isoflop")
#: the columns of each table that hold text, flags or labels; every other column is a
#: number, written as null where it was not finite (NaN, inf), read back as NaN
_NOT_NUMBERS = {"group", "reference", "versus", "quantity", "at", "caveat", "differs",
                "unreachable"}
#: the columns a row of each table must hold (an IsoFLOP comparison's multipliers have no
#: ``caveat``, for one; a column a row lacks reads as missing in the table)
_REQUIRED = {"estimates": ("group", "quantity", "value", "value_low", "value_high"),
             "differences": ("group", "versus", "quantity", "difference", "difference_low",
                             "difference_high", "p_adjusted", "differs"),
             "multipliers": ("group", "reference", "at", "multiplier", "multiplier_low",
                             "multiplier_high")}


def _table(fields: SectionFields, name: str) -> tuple:
    """The rows of table ``name``: objects holding at least its columns, numbers as
    numbers (null as NaN)."""
    rows = fields.get(name)
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        fields.fail(name, "must be a list of row objects")
    out = []
    for i, row in enumerate(rows):
        missing = [c for c in _REQUIRED[name] if c not in row]
        if missing:
            fields.fail(f"{name}[{i}]", f"lacks the column(s) {', '.join(missing)}")
        parsed = dict(row)
        for column, value in row.items():
            if column in _TEXT_COLUMNS and not isinstance(value, str):
                fields.fail(f"{name}[{i}].{column}", f"must be text, got {value!r}")
            if column == "differs" and not isinstance(value, bool):
                fields.fail(f"{name}[{i}].differs", f"must be true or false, got {value!r}")
            if column in _NOT_NUMBERS:
                continue
            if value is None:
                parsed[column] = math.nan
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                fields.fail(f"{name}[{i}].{column}", f"must be a number or null, got {value!r}")
        out.append(parsed)
    return tuple(out)


def _label(value) -> bool:
    """A group's label as JSON holds one: text, a number or a flag (not a list, an object
    or null)."""
    return isinstance(value, (str, int, float, bool))


def _fit(doc: dict, approach: str, groups: list, source: str):
    """The fit the multipliers came from: a grouped fit (parametric) or every group's
    IsoFLOP analysis (isoflop), holding exactly the compared ``groups``; None when the
    document holds none."""
    fit = doc.get("fit")
    if fit is None:
        return None
    if not isinstance(fit, dict):
        raise InputError(f"{source}: field fit must be an object or null")
    where = f"{source} (field fit)"
    fields = SectionFields(fit, source, "fit.")
    if approach == "parametric":
        from .grouped import grouped_from_dict

        result = grouped_from_dict(fit, source=where)
        held = list(result.groups)
    else:
        from ...fitting.isoflop_groups import GroupedIsoFLOPResult
        from .isoflop import isoflop_from_dict

        entries = fields.get("groups")
        if not isinstance(entries, list) or not all(
                isinstance(e, dict) and _label(e.get("group")) for e in entries):
            fields.fail("groups", "must be a list of IsoFLOP analyses, each with its group "
                                  "(text or a number)")
        if not isinstance(fields.get("group_column"), str):
            fields.fail("group_column", f"must be text, got {fields.get('group_column')!r}")
        held = [e["group"] for e in entries]
        if len(set(held)) < len(held):
            fields.fail("groups", "names a group twice")
        result = GroupedIsoFLOPResult(
            group_column=fields.get("group_column"),
            results={e["group"]: isoflop_from_dict(
                {k: v for k, v in e.items() if k != "group"},
                source=f"{where}, group {e['group']!r}") for e in entries},
            confidence_level=fields.level(), n_runs=fields.count("n_runs"),
            options=dict(fields.get("options", {})))
    if sorted(map(repr, held)) != sorted(map(repr, groups)):
        raise InputError(f"{source}: field fit holds the groups {held!r}, not the compared "
                         f"groups {groups!r}")
    return result


def comparison_from_dict(doc: Any, *, source: str = "comparison JSON") -> Comparison:
    """Check a comparison document and rebuild its
    :class:`~scalinglaws.analysis.compare_result.Comparison`.

    Raises
    ------
    InputError
        Naming ``source`` and the field: not a JSON object, another kind of scalinglaws
        document (naming its loader), a newer schema version, a missing field or one of
        the wrong type, a table row without its columns, or a fit the grouped-fit or
        IsoFLOP loader refuses.
    """
    if not isinstance(doc, dict):
        raise InputError(f"{source}: expected a JSON object, got {type(doc).__name__}")
    refuse_other_kind(doc, DOCUMENT_KIND, source, what="a comparison",
                      writer="a comparison file is what `scalinglaws compare --out` "
                             "(Comparison.save) writes")
    if doc.get("kind") != DOCUMENT_KIND:
        raise InputError(f"{source}: not a comparison (field kind must be "
                         f"{DOCUMENT_KIND!r}, got {doc.get('kind')!r})")
    refuse_newer_version(doc, SCHEMA_VERSION, source)
    fields = SectionFields(doc, source, "")
    version = doc.get("schema_version", 1)  # version 1 was first written without it
    if isinstance(version, bool) or not isinstance(version, int) or \
            not 1 <= version <= SCHEMA_VERSION:
        fields.fail("schema_version", f"must be an integer from 1 to {SCHEMA_VERSION}, got "
                                      f"{version!r}")
    unknown = sorted(set(doc) - _FIELDS)
    if unknown:
        raise InputError(f"{source}: unknown field(s) {', '.join(unknown)} (a comparison "
                         f"holds {', '.join(sorted(_FIELDS))})")
    approach = fields.get("approach")
    if approach not in _APPROACHES:
        fields.fail("approach", f"must be one of {', '.join(_APPROACHES)}, got {approach!r}")
    for name in ("group_column", "correction"):
        if not isinstance(fields.get(name), str):
            fields.fail(name, f"must be text, got {fields.get(name)!r}")
    groups = fields.get("groups")
    if not isinstance(groups, list) or not groups or not all(map(_label, groups)):
        fields.fail("groups", "must be a non-empty list of the groups compared (text or "
                              "numbers)")
    if len(set(groups)) < len(groups):
        fields.fail("groups", "names a group twice")
    if fields.get("reference") not in groups:
        fields.fail("reference", f"= {fields.get('reference')!r} is not one of the groups")
    test = fields.get("test")
    if not isinstance(test, dict):
        fields.fail("test", "must be an object (empty when no test was made)")
    notes = fields.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        fields.fail("notes", "must be a list of text")
    options = fields.get("options", {})
    if not isinstance(options, dict):
        fields.fail("options", "must be an object")
    if "method" not in options and "interval" in options:  # version 1 before the field's name
        options = {**options, "method": options["interval"]}
    package_version = fields.get("package_version", None)
    if package_version is not None and not isinstance(package_version, str):
        fields.fail("package_version", f"must be text, got {package_version!r}")
    return Comparison(
        approach=approach, group_column=doc["group_column"], groups=tuple(groups),
        reference=doc["reference"], confidence_level=fields.level(),
        correction=doc["correction"], estimates=_table(fields, "estimates"),
        differences=_table(fields, "differences"), multipliers=_table(fields, "multipliers"),
        test=test, n_resamples=fields.count("n_resamples"), seed=fields.seed(),
        fit=_fit(doc, approach, groups, source), options=options, notes=tuple(notes),
        **({} if package_version is None else {"package_version": package_version}))


def comparison_from_json(text: str | bytes, *, source: str = "comparison JSON") -> Comparison:
    """:func:`comparison_from_dict` of JSON text."""
    return comparison_from_dict(parse_json(text, source), source=source)


def load_comparison(path) -> Comparison:
    """Read a comparison written by ``scalinglaws compare --out`` or
    :meth:`Comparison.save <scalinglaws.analysis.compare_result.Comparison.save>`,
    checking it first (:func:`comparison_from_dict`)."""
    source, text = read_bounded(path, what="comparison file", max_bytes=_MAX_BYTES)
    return comparison_from_json(text, source=source)
