"""Result tables for a terminal, or as JSON: how every command prints a table."""

from __future__ import annotations

__all__ = ["format_table", "json_document", "table_document", "table_records"]


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


def json_document(result, kind: str):
    """The JSON document of a command's result: what ``--out x.json`` writes and
    ``--json`` prints.

    A table (DataFrame) becomes :func:`table_document`; a dict is named inside by
    ``kind`` unless it names itself (so that running the command again may replace the
    file unasked: the path check reads the ``kind``). Several results (one per model or
    ``--by`` group) are a dict naming its list (``{"models": [...]}``), named the same
    way; a bare list, which has no place for a kind, is refused.
    """
    if hasattr(result, "to_csv"):
        return table_document(result, kind)
    if not isinstance(result, dict):
        raise TypeError(f"a command's JSON document is a table or a dict, got "
                        f"{type(result).__name__} (name a list inside a dict)")
    return result if "kind" in result else {"kind": kind, **result}


def table_document(frame, kind: str) -> dict:
    """A result table as one JSON document, what ``--out x.json`` writes and ``--json``
    prints: its ``kind`` (``scalinglaws.predict``...), what the table's ``attrs`` say of
    its rows (``interval``, ``method``, ``confidence_level``, ``n_draws``...) and its
    ``rows`` as records at full precision."""
    from ..._validation import to_plain

    return {"kind": kind, **to_plain(dict(frame.attrs)), "rows": table_records(frame)}


def table_records(frame) -> list:
    """A table as JSON records at full precision (pandas' to_json keeps 10 digits)."""
    from ..._validation import to_plain

    return to_plain(frame.to_dict(orient="records"))
