"""``scalinglaws optimal`` of an IsoFLOP (Approach 2) or envelope (Approach 1) analysis.

``optimal FILE --C ...`` reads a fit (``fit --out``), an IsoFLOP document (``isoflop
--out``) or an envelope document (``envelope --out``), dispatching on the document's
``kind``. For an analysis, N_opt and D_opt at each budget are its own
``predict_optimal`` (the power laws through its optima, with the interval it gives: the
resampled lines' percentiles or the line's t interval, as its ``attrs`` say), shown in
the shapes of ``optimal`` on a fit (:mod:`.fitting`): the table and the line saying what
its intervals are; ``--json`` and ``--out x.json`` the ``scalinglaws.optimal`` document
(header, ``approach``, with a ``--by`` document ``by`` and ``group``, the table's
``attrs``: ``interval``, ``method``, ``confidence_level``, ``flops_per_token``,
``n_draws``, then ``rows``); ``--out x.csv`` the rows. ``--group-value VALUE`` picks one
analysis of an ``isoflop --by`` / ``envelope --by`` document, as ``group=`` does for
``load_isoflop`` and ``load_envelope``. ``isoflop --C`` and ``envelope --C`` print the same
lines after their analysis (:func:`allocation_lines`).
"""

from __future__ import annotations

import textwrap

from ..._exceptions import InputError
from ..._text import named_list

__all__ = ["ANALYSES", "allocation_lines", "optimal_of_analysis", "refuse_other_document"]

#: ``kind`` of an analysis document -> (the command that writes it, one, several, approach)
ANALYSES = {
    "scalinglaws.isoflop": ("isoflop", "IsoFLOP analysis", "IsoFLOP analyses", "Approach 2"),
    "scalinglaws.envelope": ("envelope", "envelope analysis", "envelope analyses",
                             "Approach 1"),
}

#: the largest analysis document read (the loaders' own bound)
_MAX_BYTES = 2**30


def refuse_other_document(path) -> str | None:
    """The ``kind`` of the scalinglaws document at ``path`` when it is an analysis; None
    when it is a fit or no scalinglaws document (the fit loader then says what it is);
    another scalinglaws document is refused, naming what ``optimal`` reads."""
    from ..._files import document_kind

    kind = document_kind(path)
    if kind in ANALYSES:
        return kind
    if kind is None or kind == "scalinglaws.fit":
        return None
    from ...data._hints import document_name

    raise InputError(f"{path}: this is a scalinglaws {document_name(kind)} file (kind "
                     f"{kind!r}); `optimal` reads a fit (what `scalinglaws fit --out` "
                     "writes), an IsoFLOP analysis (`isoflop --out`) or an envelope analysis "
                     "(`envelope --out`)")


def _refuse_fit_flags(args, kind: str) -> None:
    """The flags of ``optimal`` that mean nothing for an analysis, each refused naming it:
    its allocation is its own power laws' (no unique tokens, no other k) at its own level."""
    from ._runs import given

    command, one, _, approach = ANALYSES[kind]
    if args.U is not None:
        raise InputError(f"--U (unique tokens) is for a data_constrained fit; {args.fit} "
                         f"holds an {one} ({approach}), whose N_opt and D_opt are its power "
                         "laws through the optima")
    if given(args.flops_per_token):
        raise InputError(f"--flops-per-token: {args.fit} holds an {one} ({approach}), whose "
                         "D_opt is its own line through the optima, made with the k the "
                         f"analysis ran with; give k there (`{command} --flops-per-token K`)")


def _pick_group(flag, doc, source: str, kind: str):
    """The group's label ``--group-value`` names in a ``--by`` document (None in a document
    of one analysis), in the flag's words: a ``--by`` document without it lists its
    groups, a value it does not hold is refused with them, and ``--group-value`` on one
    analysis is refused. A malformed ``groups`` field is left to the loader."""
    command, one, several, _ = ANALYSES[kind]
    grouped = isinstance(doc, dict) and "groups" in doc and "a" not in doc  # as one_group
    if not grouped:
        if flag is not None:
            raise InputError(f"--group-value {flag!r}: {source} holds one {one}, not one per "
                             "group "
                             f"(what `scalinglaws {command} --by COLUMN` writes): leave "
                             "--group-value out")
        return None
    groups = doc.get("groups")
    if not isinstance(groups, list) or not all(isinstance(g, dict) and "group" in g
                                               for g in groups):
        return flag
    labels = [g["group"] for g in groups]
    by, shown = doc.get("by"), named_list([repr(label) for label in labels], 20)
    if flag is None:
        raise InputError(f"{source}: holds {len(labels)} {several}, one per value of {by!r} "
                         f"(`scalinglaws {command} --by {by}`): pick one with --group-value "
                         "VALUE, "
                         f"one of {shown}")
    found = [label for label in labels if str(label) == flag]  # a number given as text
    if not found:
        raise InputError(f"--group-value {flag!r}: {source} has no such group among its "
                         f"{len(labels)} {several} (by {by!r}); --group-value is one of {shown}")
    return found[0]


def _load(args, kind: str):
    """``(analysis, by, group)``: the analysis FILE holds (the ``--group-value`` one of a
    ``--by`` document), read and checked as ``load_isoflop(path, group=...)`` /
    ``load_envelope(path, group=...)`` read it."""
    from ..._files import parse_json, read_bounded

    command, one, _, _ = ANALYSES[kind]
    source, text = read_bounded(args.fit, what=f"{command} file", max_bytes=_MAX_BYTES)
    doc = parse_json(text, source, finite=True)
    group = _pick_group(args.group_value, doc, source, kind)
    if kind == "scalinglaws.isoflop":
        from ..io.isoflop import isoflop_from_dict as from_dict
    else:
        from ..io.envelope import envelope_from_dict as from_dict
    result = from_dict(doc, source=source, group=group)
    level = args.confidence_level
    if level is not None and level != result.confidence_level:
        raise InputError(f"--confidence-level {level:g}: the intervals of an {one} are made at "
                         f"its own level, {100 * result.confidence_level:g}%, chosen when it "
                         f"ran (`{command} --confidence-level`); leave the flag out, or run "
                         "the analysis again at that level")
    return result, (doc.get("by") if group is not None else None), group


def _wrapped(line: str) -> str:
    """A line of text in a terminal's 100 columns, as the table's (the methods are long:
    "t interval of the regression line, or where wider...")."""
    return textwrap.fill(line, 100, subsequent_indent="  ", break_on_hyphens=False)


def allocation_lines(result, table) -> list[str]:
    """The compute-optimal table of an analysis (``predict_optimal``'s) as ``optimal``
    shows it, with the line saying what its intervals are and, for an envelope's t
    intervals, that they are far too narrow."""
    from ...fitting.envelope import EnvelopeResult
    from ._tables import format_table, interval_line

    lines = [interval_line(table.attrs["confidence_level"], table.attrs["method"],
                           table.attrs.get("n_draws", 0))]
    if result.N_line_bootstrap is None and isinstance(result, EnvelopeResult):
        lines.append("note: without resamples these are the regression's t intervals, which "
                     "take the envelope's dependent points as independent and are far too "
                     "narrow: run `envelope --bootstrap N` (e.g. 200) before quoting them")
    return [format_table(table), "", *map(_wrapped, lines)]


def _source_line(result, kind: str, by, group) -> str:
    """Where the table came from: the analysis, its group and its power laws' exponents."""
    _, one, _, approach = ANALYSES[kind]
    ratios = result.flops_per_token_range
    compute = (f"C = {result.flops_per_token:g} N D" if ratios is None else
               f"C/(N D) {ratios[0]:.3g}-{ratios[1]:.3g} along the optima")
    of = f", {by} = {group}" if group is not None else ""
    return (f"from the {one} ({approach}){of}: N_opt ~ C^{result.a:.4f}, "
            f"D_opt ~ C^{result.b:.4f}; {compute}")


def optimal_of_analysis(args, kind: str) -> int:
    """``optimal`` of the analysis FILE holds (``kind``: its document's): its
    ``predict_optimal`` at ``--C``, printed, or as ``--json`` the document ``--out x.json``
    writes, and written to ``--out`` (a .csv/.tsv table or that document)."""
    from ._common import print_json, quantities, write_output

    _refuse_fit_flags(args, kind)
    budgets = quantities(args, ("C",), required=("C",))["C"]
    result, by, group = _load(args, kind)
    table = result.predict_optimal(budgets)
    # what the rows came from, then what predict_optimal says of them (n_draws 0 for a t
    # interval, as a fit's allocation without draws says it)
    source = {"approach": ANALYSES[kind][0],
              **({"by": by, "group": group} if group is not None else {})}
    table.attrs = {**source, **table.attrs, "n_draws": table.attrs.get("n_draws", 0)}
    if args.json:
        print_json(args, table)
    else:
        print("\n".join([*allocation_lines(result, table),
                         _wrapped(_source_line(result, kind, by, group))]))
    write_output(args, table)
    return 0
