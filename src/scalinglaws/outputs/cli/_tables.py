"""Result tables for a terminal, or as JSON: how every command prints a table, and the
header every JSON document of a command starts with."""

from __future__ import annotations

__all__ = ["document_header", "format_table", "interval_line", "json_document",
           "table_document", "table_records"]


def format_table(frame) -> str:
    """A result table for a terminal: each ``X`` with ``X_low``/``X_high`` becomes one
    column ``X [low, high]``; counts read as 7B / 1.4T, compute in FLOP as 1.2e+24; a
    yes/no column that is "no" everywhere is left out."""
    from ...analysis.results import fmt_count

    columns = list(frame.columns)
    shown: dict[str, list[str]] = {}
    for name in columns:
        if name.endswith(("_low", "_high")) and name.rsplit("_", 1)[0] in columns:
            continue
        values = frame[name].tolist()
        if values and all(v is False for v in values):
            continue  # a flag that is false everywhere (still in --json and --out)
        fmt = _formatter(name, values, fmt_count)
        cells = [fmt(v) for v in values]
        if f"{name}_low" in columns and f"{name}_high" in columns:
            cells = [f"{c} [{fmt(lo)}, {fmt(hi)}]" for c, lo, hi in
                     zip(cells, frame[f"{name}_low"].tolist(), frame[f"{name}_high"].tolist())]
        shown[name] = cells
    widths = {n: max(len(n), *(len(c) for c in cells)) if cells else len(n)
              for n, cells in shown.items()}
    lines = ["  ".join(n.rjust(widths[n]) for n in shown)]
    for i in range(len(frame)):
        lines.append("  ".join(shown[n][i].rjust(widths[n]) for n in shown))
    return "\n".join(lines)


def interval_line(level: float, method: str | None, n_draws: int | None = 0) -> str:
    """The line under a table with confidence intervals: their level and how they were
    made, in the words of the result's own ``method`` (a 0.8 interval looks like a 0.95
    one otherwise); without a ``method``, a bootstrap percentile one over draws, else the
    delta method. ``optimal`` and ``predict`` print it, of a fit or of an analysis."""
    source = method or ("bootstrap percentile" if n_draws else "delta method")
    over = f", over {n_draws} draws" if n_draws and "bootstrap" in source else ""
    return f"confidence intervals: {100 * level:g}% two-sided ({source}{over})"


def _formatter(name: str, values, fmt_count):
    if all(isinstance(v, bool) for v in values):
        return lambda v: "yes" if v else "no"
    if not all(isinstance(v, (int, float)) for v in values):
        return str
    base = name.lower()
    if base in ("c", "compute", "flops") or base.startswith(("c_", "compute")):
        return lambda v: f"{v:.3g}"
    if base in ("n", "d", "u") or base.startswith(("n_", "d_", "n_params", "n_tokens")):
        return fmt_count
    if "loss" in base:
        return lambda v: f"{v:.4f}"
    if all(float(v).is_integer() and abs(v) < 1e12 for v in values):
        return lambda v: f"{int(v)}"  # steps, counts: 12000, not 1.2e+04
    return lambda v: f"{v:.4g}"


def document_header(kind: str, schema_version: int) -> dict:
    """What every JSON document a command prints or writes starts with, as the fit file
    does: its ``kind`` (``"scalinglaws.predict"``...), ``schema_version`` (an int, raised
    when the layout changes; each command declares its own, next to its handler) and
    ``package_version`` (the version that wrote it)."""
    from ..._version import __version__

    if isinstance(schema_version, bool) or not isinstance(schema_version, int):
        raise TypeError(f"the document {kind!r} needs an int schema_version, got "
                        f"{schema_version!r} (declare it with add_output_options)")
    return {"kind": kind, "schema_version": schema_version, "package_version": __version__}


def json_document(result, kind: str, schema_version: int):
    """The JSON document of a command's result: what ``--out x.json`` writes and
    ``--json`` prints, opened by :func:`document_header`.

    A table (DataFrame) becomes :func:`table_document`; a dict gets the header in front
    of its own fields, which win (an IsoFLOP analysis keeps the ``schema_version`` of its
    ``to_dict``); a dict naming another kind of document is left as it is. The ``kind``
    lets running the command again replace the file unasked (the path check reads it).
    Several results (one per model or ``--by`` group) are a dict naming its list
    (``{"models": [...]}``), headed the same way; a bare list, which has no place for a
    header, is refused.
    """
    if hasattr(result, "to_csv"):
        return table_document(result, kind, schema_version)
    if not isinstance(result, dict):
        raise TypeError(f"a command's JSON document is a table or a dict, got "
                        f"{type(result).__name__} (name a list inside a dict)")
    if result.get("kind", kind) != kind:
        return result
    return {**document_header(kind, schema_version), **result}


def table_document(frame, kind: str, schema_version: int) -> dict:
    """A result table as one JSON document, what ``--out x.json`` writes and ``--json``
    prints: its header (:func:`document_header`), what the table's ``attrs`` say of its
    rows (``interval``, ``method``, ``confidence_level``, ``n_draws``...) and its ``rows``
    as records at full precision."""
    from ..._validation import to_plain

    header = document_header(kind, schema_version)
    attrs = {k: v for k, v in to_plain(dict(frame.attrs)).items() if k not in header}
    return {**header, **attrs, "rows": table_records(frame)}


def table_records(frame) -> list:
    """A table as JSON records at full precision (pandas' to_json keeps 10 digits)."""
    from ..._validation import to_plain

    return to_plain(frame.to_dict(orient="records"))
