"""The flags that read a runs table (``add_data_options``), the runs they give, and the
row selection a fit file records so that later commands read the same runs.

A flag left at its default is told apart from the same value typed (:func:`given`): a
command reading a fit with ``--data`` re-applies the fit's recorded column mapping, row
selection, loss units and FLOP accounting (``options.rows``, ``options.flops_per_token``)
unless a flag says otherwise, and ``optimal``/``diagnose`` default to the fit's ``k``. The
record is the runs' own (:attr:`Runs.selection <scalinglaws.data.runs.Runs.selection>`,
which every fit keeps), made again by :meth:`Runs.with_selection
<scalinglaws.data.runs.Runs.with_selection>`: a fit made in Python from
``runs.exclude_top_loss(5)`` (or a query, a mask, a group) reads back as one made here.
"""

from __future__ import annotations

import contextlib
import sys

from ..._exceptions import InputError
from ._values import key_values, nonnegative_int, positive_float

__all__ = ["add_data_options", "add_flops_per_token_option", "runs_from_args",
           "optional_runs_from_args", "delimiter", "given", "with_row_selection",
           "flops_per_token_for", "DEFAULT_FLOPS_PER_TOKEN"]

DEFAULT_FLOPS_PER_TOKEN = 6.0


# A flag's default, marked: argparse stores the default object itself when a flag is not
# typed, so these subclasses (equal to and used as the plain value) say "not given".
class _DefaultFloat(float):
    pass


class _DefaultStr(str):
    pass


class _DefaultInt(int):
    pass


def given(value) -> bool:
    """Whether a flag's value was typed (not its marked default)."""
    return value is not None and not isinstance(value, (_DefaultFloat, _DefaultStr, _DefaultInt))


def add_data_options(parser, positional: bool = True) -> None:
    """PATH (or, with ``positional=False``, ``--data PATH``) and the loading options."""
    if positional:
        parser.add_argument("path", metavar="PATH",
                            help="runs table: .csv, .tsv, .json, .jsonl or .parquet")
    elif "--data" not in parser._option_string_actions:
        parser.add_argument("--data", metavar="PATH", help="the runs table (optional)")
    parser.add_argument("--columns", action="append", metavar="NAME=COLUMN",
                        help="map canonical names (N, D, C, loss; U, S_min, task_loss, the "
                             "inputs of forms that take them) to your column names, e.g. "
                             "--columns N=nonembedding_params,loss=val_loss"
                             + ("" if positional else " (default: the mapping the fit records, "
                                "else headers read by their names; typed, it replaces the "
                                "fit's, with a warning where they read other columns)"))
    parser.add_argument("--format", choices=["csv", "tsv", "json", "jsonl", "parquet"],
                        help="format of the table (default: from the file's suffix; needed for "
                             "a name like runs.txt or runs.data)")
    parser.add_argument("--sep", metavar="CHAR",
                        help="field delimiter of a text table, e.g. ';' (default ',', tab for "
                             ".tsv; a header without ',' that splits evenly on ';', tab or '|' "
                             "is read with that delimiter)")
    # with --data beside a fit, a flag left untyped takes what the fit records
    default = "default " if positional else "default: what the fit records, else "
    add_flops_per_token_option(parser, ", used to derive D or C when one is missing",
                               from_fit=None if positional else "")
    parser.add_argument("--nan-policy", choices=["raise", "omit"], default=_DefaultStr("raise"),
                        help="'omit' drops rows with missing values and says how many "
                             f"({default}raise)")
    parser.add_argument("--exclude-top-loss", type=nonnegative_int, default=_DefaultInt(0),
                        metavar="K",
                        help="drop the K runs with the largest loss before fitting (Epoch's "
                             "replication drops 5 on the Chinchilla data; rows that are "
                             "checkpoints, run_id repeating, go by whole run, ranked by its "
                             "final loss"
                             + (")" if positional else f"; {default}0)"))
    parser.add_argument("--loss-units", choices=["nats", "bits", "perplexity"],
                        help="what the loss column holds, converted to nats per token "
                             "(bits x ln 2, ln(perplexity)); giving it silences the warning "
                             "about a loss column named like a perplexity or bits ("
                             + ("default: nats)" if positional
                                else "default: what the fit records, else nats)"))
    parser.add_argument("--duplicates", choices=["warn", "keep", "drop", "raise"],
                        default=_DefaultStr("warn"),
                        help="rows repeating an earlier row in every column: warn and keep "
                             "them, keep them quietly, drop all but the first (with a "
                             f"warning), or refuse ({default}warn)")
    # (load_runs' and load_tasks' zero_tokens: one flag, one meaning for both tables)
    parser.add_argument("--zero-tokens", choices=["raise", "drop"],
                        default=_DefaultStr("raise"),
                        help="rows at D = 0 (untrained step-0 checkpoints; C = 0 in a table "
                             "without tokens): refuse them, or drop them with a warning "
                             f"saying how many ({default}raise)")


def add_flops_per_token_option(parser, purpose: str = "", *,
                               from_fit: str | None = None) -> None:
    """``--flops-per-token K``: k in C = k*N*D (default :data:`DEFAULT_FLOPS_PER_TOKEN`,
    marked as not given); the one place its help states the default.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        Where the flag goes.
    purpose : str
        What else ``k`` does in this command, appended to "k in C = k*N*D" (e.g.
        ", used to derive D or C when one is missing").
    from_fit : str, optional
        For a command whose default is a fit's own ``k``: when it reads one (``""``: always,
        ``"with --prior FIT, "``); the help then says the default is the k that fit was
        made with, else 6.
    """
    default = f"default {DEFAULT_FLOPS_PER_TOKEN:g}"
    if from_fit is not None:
        default = (f"default: {from_fit}the k the fit was made with, fit --flops-per-token, "
                   f"else {DEFAULT_FLOPS_PER_TOKEN:g}")
    parser.add_argument("--flops-per-token", type=positive_float,
                        default=_DefaultFloat(DEFAULT_FLOPS_PER_TOKEN), metavar="K",
                        help=f"k in C = k*N*D{purpose} ({default})")


def flops_per_token_for(args, result) -> float | None:
    """``k`` for an allocation of ``result``: ``--flops-per-token`` when typed (with a note
    on stderr when it differs from the fit's own), else None (the fit's: the analysis
    functions default to ``result.flops_per_token``)."""
    if not given(args.flops_per_token):
        return None
    own = getattr(result, "flops_per_token", None)
    if own is not None and float(own) != float(args.flops_per_token):
        print(f"scalinglaws: note: --flops-per-token {args.flops_per_token:g} replaces the "
              f"C = {own:g}*N*D this fit was made with", file=sys.stderr)
    return float(args.flops_per_token)


def _recorded(fit) -> dict:
    """The loading options a fit records: ``options.rows`` plus its ``flops_per_token``."""
    if fit is None:
        return {}
    options = getattr(fit, "options", None) or {}
    out = dict(options.get("rows") or {})
    if "flops_per_token" in options:
        out["flops_per_token"] = options["flops_per_token"]
    return out


def runs_from_args(args, path=None, *, fit=None):
    """The runs of PATH (or ``path``) with the loading options of :func:`add_data_options`.

    With ``fit``, a flag left at its default takes the value the fit records (column
    mapping, row selection and ``k``), so that ``--data`` gives the runs the fit was made
    on; a note on stderr says what was re-applied. A typed ``--columns`` wins; where it
    reads other columns than the fit's record, the figure or report of these runs warns
    naming both (:func:`~scalinglaws.outputs.plot._checks.fitted_runs`).
    """
    from ...data.run_ids import runs_named_by_caller
    from ...data.runs import load_runs
    from ...data.selection import columns_text, read_with_recorded_columns, steps_text

    settings = {"flops_per_token": args.flops_per_token, "nan_policy": args.nan_policy,
                "duplicates": getattr(args, "duplicates", "warn"),
                "loss_units": getattr(args, "loss_units", None),
                "zero_tokens": getattr(args, "zero_tokens", "raise"),
                "exclude_top_loss": args.exclude_top_loss}
    recorded = _recorded(fit)
    # the fit's row selection, made again after loading unless --exclude-top-loss is typed
    selection = {} if given(args.exclude_top_loss) else dict(
        (getattr(fit, "options", None) or {}).get("rows") or {})
    # the fit's column mapping, read with unless --columns is typed (the figure or report
    # then compares the runs with it: fitted_runs)
    selection.pop("columns", None)
    fit_columns = dict(recorded.get("columns") or {})
    columns = key_values(args.columns, "--columns", str) or None
    from_fit = columns is None and bool(fit_columns)
    reapplied = [f"--columns {columns_text(fit_columns)}"] if from_fit else []
    if from_fit:
        columns = fit_columns
    if selection.get("steps"):
        reapplied.append(f"the row selection {steps_text(selection['steps'])}")
    for name, value in recorded.items():
        if name == "exclude_top_loss" and selection.get("steps"):
            continue  # said by the steps
        if name in settings and not given(settings[name]) and value != settings[name]:
            settings[name] = value
            reapplied.append(f"--{name.replace('_', '-')} {value:g}" if name == "flops_per_token"
                             else f"--{name.replace('_', '-')} {value}")
    if reapplied:
        print(f"scalinglaws: note: reading the runs as the fit was made: {' '.join(reapplied)} "
              "(recorded in the fit file; type the flag to override)", file=sys.stderr)
    # a command told which column names the runs (envelope's --run-column, --cluster
    # COLUMN or none) needs no word that none is read as the run id
    cluster = getattr(args, "cluster", None)
    named = hasattr(args, "run_column") or (cluster is not None
                                            and str(cluster).lower() != "auto")
    def read():
        with runs_named_by_caller() if named else contextlib.nullcontext():
            return load_runs(path if path is not None else args.path, columns=columns,
                             flops_per_token=settings["flops_per_token"],
                             nan_policy=settings["nan_policy"],
                             format=args.format, sep=delimiter(args.sep),
                             loss_units=settings["loss_units"],
                             duplicates=settings["duplicates"],
                             zero_tokens=settings["zero_tokens"])
    runs = read_with_recorded_columns(
        read, from_fit, where=f"--columns {columns_text(fit_columns)}",
        otherwise="type --columns to read the table otherwise")
    by = getattr(args, "by", None)
    if by is not None and not runs.has(by):  # --by, checked before any work
        from ...data.columns import no_column_message

        raise InputError(no_column_message(by, runs.columns, "--by"))
    if given(getattr(args, "loss_units", None)):  # typed: it replaces the recorded units
        selection.pop("loss_units", None)
    if selection:
        return runs.with_selection(selection)
    if settings["exclude_top_loss"]:
        runs = runs.exclude_top_loss(int(settings["exclude_top_loss"]))
    return runs


def with_row_selection(result, args, runs):
    """``result`` recording in ``options.rows`` how ``runs`` were selected from the file
    (:attr:`Runs.selection <scalinglaws.data.runs.Runs.selection>`: ``nan_policy``,
    ``duplicates``, the rows dropped on loading, ``exclude_top_loss`` and the rows it
    excluded). A fit records its runs' selection itself; this adds it to a result that
    lacks it. ``args`` is not read: the runs carry what the flags did."""
    import dataclasses

    if not runs.selection or "rows" in (result.options or {}):
        return result
    return dataclasses.replace(result, options={**result.options, "rows": runs.selection})


def delimiter(sep):
    """``--sep``: one character, with the shell-friendly names ``tab`` and ``\\t``."""
    if sep is None:
        return None
    sep = {"tab": "\t", "\\t": "\t"}.get(sep, sep)
    if len(sep) != 1:
        raise InputError(f"--sep takes one character (or 'tab'), got {sep!r}")
    return sep


def optional_runs_from_args(args, fit=None):
    """The runs of ``--data`` (with the usual loading options, defaulting to what ``fit``
    records), or None."""
    if not getattr(args, "data", None):
        return None
    return runs_from_args(args, args.data, fit=fit)
