"""Reading a grouped bootstrap back: the document :meth:`GroupedBootstrapResult.save
<scalinglaws.uncertainty.grouped.GroupedBootstrapResult.save>` writes (kind
``scalinglaws.grouped_bootstrap``, :meth:`~scalinglaws.uncertainty.grouped.
GroupedBootstrapResult.to_dict` with ``include_draws=True``).

The document holds the law (by name and config, as a fit file does), the settings
(``n_resamples``, ``confidence_level``, ``seed``, ``group_column``, ``clusters``,
``shared``, the fit's ``flops_per_token`` and ``restriction``), per group, in the order
of the draws' second axis, its failed and left-out resamples (``n_failed``,
``n_degenerate``), its full-data parameters (``point``) and its draws: one row per
resample, ``null`` throughout where that group's refit failed or was left out. Every
field is checked as a fit file's bootstrap section is (:mod:`scalinglaws.uncertainty.
bootstrap_doc`), then what ties them: as many rows as resamples, the rows without a
refit counted by ``n_failed`` plus ``n_degenerate``, the shared parameters equal in every
group's point and in every resample. The loaded result gives the same draws, intervals
and comparisons as the saved one. Every failure is an :class:`~scalinglaws.InputError`
naming the file and the field.

Given the grouped fit (``fit=``, e.g. from :func:`~scalinglaws.load_grouped`), the
document must be of its law, groups, group column and shared parameters, its points the
fit's, and its ``k`` and restriction the fit's (taken from the fit when absent). Documents
that ``to_dict(include_draws=True)`` gave before it named its kind, law and points load
only so: the fit supplies them.

>>> import os, tempfile
>>> import pandas as pd
>>> import scalinglaws as sl
>>> frame = pd.concat([sl.generate_sweep(rng=i).to_frame().assign(recipe=name)
...                    for i, name in enumerate(["baseline", "new"])])
>>> joint = sl.fit(frame, groups="recipe", shared=["alpha", "beta"])
>>> boot = sl.bootstrap_groups(joint, frame, n_resamples=20, rng=0)
>>> with tempfile.TemporaryDirectory() as folder:
...     boot.save(os.path.join(folder, "boot.json"))
...     loaded = sl.load_grouped_bootstrap(os.path.join(folder, "boot.json"))
>>> loaded.group("new").intervals == boot.group("new").intervals
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..._exceptions import InputError
from ..._files import parse_json, read_bounded
from ...fitting.grouped_result import GroupedFitResult
from ...fitting.result import check_same_point
from ...uncertainty.bootstrap_doc import (SectionFields, check_flops_per_token,
                                          check_restriction)
from ...uncertainty.delta import restriction_kind
from ...uncertainty.grouped import DOCUMENT_KIND, SCHEMA_VERSION, GroupedBootstrapResult
from .grouped import _params
from .validate import form_from_doc, refuse_newer_version, refuse_other_kind

__all__ = ["grouped_bootstrap_from_dict", "grouped_bootstrap_from_json",
           "load_grouped_bootstrap"]

#: numbers of resamples x groups x parameters: anything this large is not one
_MAX_BYTES = 2**30
_FIELDS = ("kind", "schema_version", "package_version", "form", "method", "n_resamples",
           "confidence_level", "seed", "group_column", "clusters", "shared",
           "flops_per_token", "restriction", "n_failed", "n_degenerate", "param_names",
           "point", "draws")
_OLDER = ("a grouped bootstrap written before it held its law and point estimates loads "
          "with its grouped fit (fit=)")


def _per_group(fields: SectionFields, name: str, groups: list | None) -> list:
    """``[{"group": g, name: count}, ...]`` as ``[(g, count), ...]``; in the order of
    ``groups`` when given, each group once."""
    entries = fields.get(name)
    if not isinstance(entries, list) or not entries:
        fields.fail(name, f"must be a non-empty list of {{group, {name}}} objects")
    out = []
    for i, entry in enumerate(entries):
        count = entry.get(name) if isinstance(entry, Mapping) else None
        if not isinstance(entry, Mapping) or isinstance(count, bool) \
                or not isinstance(count, int) or count < 0 \
                or not isinstance(entry.get("group", []), (str, int, float, bool, type(None))):
            fields.fail(f"{name}[{i}]", f"must be {{group, {name}}}: a group value and a count "
                                        f">= 0, got {entry!r}")
        group = entry["group"]
        if groups is None and group in [g for g, _ in out]:
            fields.fail(f"{name}[{i}].group", f"repeats group {group!r}")
        out.append((group, count))
    if groups is not None:
        _in_order(fields, name, [g for g, _ in out], groups)
    return out


def _in_order(fields: SectionFields, name: str, found: list, groups: list) -> None:
    for i, group in enumerate(groups):
        got = found[i] if i < len(found) else None
        if i >= len(found) or got != group:
            fields.fail(f"{name}[{i}].group", f"must be {group!r} (the groups in the order of "
                                              f"n_failed), got {got!r}")
    if len(found) > len(groups):
        fields.fail(name, f"has {len(found)} groups, n_failed {len(groups)}")


def _form(doc: Mapping, fields: SectionFields, fit, source: str):
    if "form" not in doc:
        if fit is None:
            fields.fail("form", f"is missing: {_OLDER}")
        return fit.form
    if not isinstance(doc["form"], Mapping) or not isinstance(doc["form"].get("name"), str):
        fields.fail("form", "must be an object naming the law (its name and config)")
    form = form_from_doc(doc["form"], source)
    if fit is not None and form != fit.form:
        fields.fail("form", f"names law {form.name!r}, the fit's is {fit.form.name!r}")
    return form


def _shared(fields: SectionFields, form) -> tuple:
    shared = fields.get("shared")
    if not isinstance(shared, list):
        fields.fail("shared", f"must be a list of parameter names, got {shared!r}")
    for i, name in enumerate(shared):
        if name not in form.param_names or name in shared[:i]:
            fields.fail(f"shared[{i}]", f"= {name!r} is not a parameter of form {form.name!r} "
                                        "(or repeats one)")
    return tuple(shared)


def _points(doc: Mapping, fields: SectionFields, form, groups: list, shared: tuple, fit,
            source: str) -> dict:
    """Each group's full-data parameters: the document's (the fit's, when given, must be
    the same), else the fit's; shared parameters equal in every group."""
    if "point" not in doc:
        if fit is None:
            fields.fail("point", f"is missing: {_OLDER}")
        return {group: dict(fit[group].params) for group in groups}
    entries = fields.get("point")
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) and "group" in e
                                                for e in entries):
        fields.fail("point", "must be a list of {group, params} objects")
    _in_order(fields, "point", [e["group"] for e in entries], groups)
    points = {}
    for i, (group, entry) in enumerate(zip(groups, entries)):
        params = _params(form, entry.get("params"), source, f"point[{i}].params")
        if fit is not None:
            check_same_point(params, fit[group].params, source, f"point[{i}].params")
        for name in shared:
            first = points[groups[0]][name] if points else params[name]
            if not math.isclose(params[name], first, rel_tol=1e-12, abs_tol=0.0):
                fields.fail(f"point[{i}].params.{name}", f"= {params[name]!r} differs from "
                            f"group {groups[0]!r}'s {first!r} (a shared parameter)")
        points[group] = params
    return points


def _draws(fields: SectionFields, form, groups: list, counts: dict, n_resamples: int,
           shared: tuple) -> np.ndarray:
    """``(n_resamples, groups, parameters)``: each group's rows, a refit or none (NaN),
    as many without one as its counts say, shared parameters equal across groups."""
    if "draws" not in fields.doc:
        fields.fail("draws", "is missing: GroupedBootstrapResult.to_dict() leaves the draws "
                             "out; save() and to_dict(include_draws=True) write them")
    entries = fields.get("draws")
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) and "group" in e
                                                for e in entries):
        fields.fail("draws", "must be a list of {group, draws} objects")
    _in_order(fields, "draws", [e["group"] for e in entries], groups)
    p, blocks = form.n_params, []
    for i, (group, entry) in enumerate(zip(groups, entries)):
        name = f"draws[{i}].draws"
        inner = SectionFields(entry, fields.source, f"{fields.prefix}draws[{i}].")
        rows = inner.matrix("draws", p, min_rows=0)
        if len(rows) != n_resamples:
            fields.fail(name, f"must have {n_resamples} rows (one per resample, n_resamples), "
                              f"got {len(rows)}")
        finite = np.isfinite(rows)
        mixed = np.flatnonzero(finite.any(axis=1) & ~finite.all(axis=1))
        if mixed.size:
            fields.fail(f"{name}[{mixed[0]}]", f"must be {p} numbers (a refit) or {p} nulls "
                                               "(none)")
        failed, degenerate = counts[group]
        missing = int((~finite.all(axis=1)).sum())
        if missing != failed + degenerate:
            fields.fail(name, f"has {missing} rows without a refit, but n_failed ({failed}) "
                              f"plus n_degenerate ({degenerate}) of group {group!r} say "
                              f"{failed + degenerate}")
        blocks.append(rows)
    draws = np.stack(blocks, axis=1)
    for name in shared:
        values = draws[:, :, form.param_names.index(name)]  # (resamples, groups)
        first = np.argmax(np.isfinite(values), axis=1)  # the first group with a refit
        reference = values[np.arange(len(values)), first]
        differs = np.isfinite(values) & ~np.isclose(values, reference[:, None], rtol=1e-12,
                                                    atol=0.0)
        if differs.any():
            row, column = (int(k[0]) for k in np.nonzero(differs))
            fields.fail(f"draws[{column}].draws[{row}]", f"differs from group "
                        f"{groups[first[row]]!r}'s in the shared {name}")
    return draws


def grouped_bootstrap_from_dict(doc: Any, *, fit: GroupedFitResult | None = None,
                                source: str = "grouped bootstrap JSON"
                                ) -> GroupedBootstrapResult:
    """Rebuild a :class:`~scalinglaws.uncertainty.grouped.GroupedBootstrapResult` from its
    document (:meth:`~scalinglaws.uncertainty.grouped.GroupedBootstrapResult.to_dict` with
    the draws).

    Parameters
    ----------
    doc : dict
        The document.
    fit : GroupedFitResult, optional
        The grouped fit that was resampled: its law, groups and points must be the
        document's, and it supplies what documents written before they were recorded
        lack (the law, the points, ``k`` and the restriction).
    source : str
        The file or text's name, for messages.

    Raises
    ------
    InputError
        Naming ``source`` and the field: another kind of document (naming its loader), a
        newer schema version, an unknown or missing field (the draws, left out by
        ``to_dict()`` without ``include_draws``), a value of the wrong type or range, an
        unregistered law, groups out of order or repeated, counts beyond ``n_resamples``,
        rows that are not one per resample or whose missing refits the counts do not
        account for, shared parameters that differ between groups, or a ``fit`` of other
        parameters, groups, ``k`` or restriction.
    """
    if not isinstance(doc, dict):
        raise InputError(f"{source}: expected a JSON object, got {type(doc).__name__}")
    refuse_other_kind(doc, DOCUMENT_KIND, source, what="a grouped bootstrap",
                      writer="a grouped bootstrap file is what GroupedBootstrapResult.save "
                             "writes")
    refuse_newer_version(doc, SCHEMA_VERSION, source)
    if fit is not None and not isinstance(fit, GroupedFitResult):
        raise InputError(f"{source}: `fit` must be a GroupedFitResult (the grouped fit that "
                         f"was resampled), got {type(fit).__name__}")
    fields = SectionFields(doc, source, prefix="")
    for key in doc:
        if key not in _FIELDS:
            fields.fail(key, "is not a known field")
    # absent from documents to_dict gave before it named itself
    for key, expected in (("kind", DOCUMENT_KIND), ("schema_version", SCHEMA_VERSION)):
        if key in doc and doc[key] != expected:
            fields.fail(key, f"must be {expected!r}, got {doc[key]!r}")
    form = _form(doc, fields, fit, source)
    names = list(form.param_names)
    if fields.get("param_names", names) != names:
        fields.fail("param_names", f"must be {names} (the form's parameters), got "
                                   f"{doc['param_names']!r}")
    method = fields.get("method")
    if method != "percentile":  # the only interval bootstrap_groups makes
        fields.fail("method", f"must be one of percentile, got {method!r}")
    n_resamples = fields.count("n_resamples", minimum=2)
    column = fields.get("group_column")
    if not isinstance(column, str) or not column:
        fields.fail("group_column", f"must be a column name, got {column!r}")
    shared = _shared(fields, form)
    failed = _per_group(fields, "n_failed", None)
    groups = [group for group, _ in failed]
    # absent from documents written before left-out resamples were counted: none
    degenerate = (_per_group(fields, "n_degenerate", groups) if "n_degenerate" in doc
                  else [(group, 0) for group in groups])
    counts = {g: (f, d) for (g, f), (_, d) in zip(failed, degenerate)}
    for i, (group, (f, d)) in enumerate(counts.items()):
        if f + d > n_resamples:
            fields.fail(f"n_failed[{i}].n_failed", f"= {f} plus n_degenerate {d} exceeds "
                                                   f"n_resamples {n_resamples}")
    if fit is not None:
        if groups != list(fit.groups):
            fields.fail("n_failed", f"names the groups {groups!r}, but the fit's are "
                                    f"{list(fit.groups)!r}")
        for key, ours, theirs in (("group_column", column, fit.group_column),
                                  ("shared", shared, tuple(fit.shared))):
            if ours != theirs:
                fields.fail(key, f"is {ours!r}, but the fit's is {theirs!r}")
    first = fit[groups[0]] if fit is not None else None
    return GroupedBootstrapResult(
        form=form, group_column=column, groups=tuple(groups), shared=shared,
        point=_points(doc, fields, form, groups, shared, fit, source),
        draws=_draws(fields, form, groups, counts, n_resamples, shared),
        n_resamples=n_resamples, n_failed={g: f for g, (f, _) in counts.items()},
        confidence_level=fields.level(), seed=fields.seed(), method=method,
        n_degenerate={g: d for g, (_, d) in counts.items()},
        clusters=fields.text_or_null("clusters"),
        flops_per_token=check_flops_per_token(
            fields, None if fit is None else float(fit.options.get("flops_per_token", 6.0))),
        restriction=check_restriction(
            fields, None if first is None else restriction_kind(first.tied, first.fixed)))


def grouped_bootstrap_from_json(text: str | bytes, *, fit: GroupedFitResult | None = None,
                                source: str = "grouped bootstrap JSON"
                                ) -> GroupedBootstrapResult:
    """Parse and check a grouped bootstrap document (see
    :func:`grouped_bootstrap_from_dict`)."""
    if not isinstance(text, (str, bytes, bytearray)):
        raise InputError(f"{source}: expected JSON text, got {type(text).__name__}")
    # the writer never wrote NaN (a refit left out is null), so a NaN literal was not its
    return grouped_bootstrap_from_dict(parse_json(text, source, finite=True), fit=fit,
                                       source=source)


def load_grouped_bootstrap(path, *, fit: GroupedFitResult | None = None
                           ) -> GroupedBootstrapResult:
    """Read a grouped bootstrap written by :meth:`GroupedBootstrapResult.save
    <scalinglaws.uncertainty.grouped.GroupedBootstrapResult.save>`, checking it first;
    with ``fit`` (the grouped fit resampled, e.g. :func:`~scalinglaws.load_grouped`'s),
    also against it. Its ``group(...)`` and ``interval(...)`` give what the saved one
    gave, and it may be passed as ``bootstrap=`` to :func:`scalinglaws.compare`."""
    source, text = read_bounded(path, what="grouped bootstrap file", max_bytes=_MAX_BYTES)
    return grouped_bootstrap_from_json(text, fit=fit, source=source)
