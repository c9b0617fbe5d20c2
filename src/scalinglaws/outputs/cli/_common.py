"""The flag vocabulary every subcommand shares, and the helpers behind it.

One dialect for every command (``scalinglaws COMMAND --help`` lists the flags a
command takes; the README section "The command line" shows the same table)::

    PATH                  a runs table: .csv .tsv .json .jsonl .parquet (positional)
    FIT                   a fit file written by `scalinglaws fit --out` (positional)
    --data PATH           the runs table, for commands whose first input is a fit
    --columns NAME=COL    map canonical names (N, D, C, loss, U, ...) to your headers
                          (`fit` records it; a command given the fit and --data re-applies it)
    --format F            csv | tsv | json | jsonl | parquet (default: from the suffix)
    --sep CHAR            field delimiter of a text table (default: , or sniffed ; tab |)
    --flops-per-token K   k in C = k*N*D (default 6; a command reading a fit: the fit's)
    --nan-policy P        raise (default) | omit
    --exclude-top-loss K  drop the K runs with the largest loss; checkpoints of runs (run_id
                          repeats) go by whole run, ranked by final loss (`fit` records both
                          in the fit file; a command given the fit and --data re-applies them)
    --form NAME           the law (default chinchilla; `scalinglaws forms` lists them)
    --N/--D/--C V [V ..]  lists of positive numbers with unit suffixes (7B, 1.4T, 1e24);
                          lists of equal length pair up, a single value broadcasts
    --U/--S-min/--task-loss  the same for the other inputs of a form: unique tokens
                          (data_constrained), minimum steps (kaplan_ns), a task loss (task forms)
    --group COLUMN        the column labelling groups of runs inside one analysis
                          (bootstrap strata, the held-out group)
    --cluster COLUMN|auto|none  the rows that are one run: a bootstrap resamples them
                          together, fit --uncertainty's scatter and rollout and backtest
                          --rollout take whole runs (default auto: by run_id when it repeats,
                          else rows; none: rows)
    --loss-units U        nats (default) | bits | perplexity: the loss column's units,
                          converted to nats (`fit` records it; --data re-applies it)
    --duplicates P        warn (default) | keep | drop | raise: rows repeating an earlier row
                          (tasks fit: raise | drop; curves: steps logged twice, raise |
                          first | last | mean)
    --zero-tokens P       raise (default) | drop: rows at D = 0 (untrained checkpoints)
    --by COLUMN           repeat the analysis for each value of COLUMN
    --bootstrap N         resamples (0 = none)
    --confidence-level P  two-sided level of intervals (default 0.95)
    --seed S              seed of everything random (default 0: same seed, same output)
    --jobs J              workers (default 1; -1 = every core; capped at the cores; in-process
                          unless the work pays for starting processes)
    --out PATH            where the result goes; checked before any work: never an input
                          of the command, never another kind of file, and never an existing
                          table or JSON file scalinglaws did not write, unless --force
    --force               allow --out to replace such a file
    --json                print JSON instead of a table
    --verbose             show tracebacks; accepted before or after the command

A command module builds its parser from the ``add_*`` functions below and, in its
handler, uses :func:`runs_from_args`, :func:`quantities`, :func:`for_each_group`,
:func:`output_file` / :func:`write_output` and :func:`activity` (tables print through :mod:`._tables`). Handlers import
their heavy dependencies (scipy, pandas, matplotlib, the fitting engine) inside the
handler, so ``scalinglaws --help`` stays instant.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
from pathlib import Path

from ..._exceptions import InputError
from ..._files import atomic_output
# the runs-reading flags (._runs) and the value types (._values) are split from here by
# job and re-exported, so that every command imports its flags from one place
from ._runs import (DEFAULT_FLOPS_PER_TOKEN, add_data_options,  # noqa: F401
                    add_flops_per_token_option, delimiter, optional_runs_from_args,
                    runs_from_args)
from ._tables import json_document
from ._values import (_quantity, _type, fraction, key_values, nonnegative_int,  # noqa: F401
                      nonnegative_quantity, positive_float, positive_int, probability,
                      quantity)

__all__ = ["UNITS", "DEFAULT_SEED", "FIGURE_FORMATS", "key_values", "quantity", "positive_int", "nonnegative_int",
           "positive_float", "probability", "jobs", "add_data_options", "add_fit_argument",
           "add_form_option", "add_quantity_options", "quantity_flag", "add_flops_per_token_option",
           "add_json_option", "add_group_option", "add_by_option", "add_budget_options",
           "add_bootstrap_options", "add_seed_option", "add_jobs_option", "add_output_options",
           "runs_from_args", "optional_runs_from_args", "delimiter", "quantities", "for_each_group",
           "group_label", "current_group", "check_out", "output_file", "command_document",
           "print_json", "write_output",
           "save_figure", "activity", "show_progress", "worker_count"]

UNITS = ("units: N = parameters (count), D = training tokens, C = training compute in FLOP "
         f"(C = k*N*D, k = {DEFAULT_FLOPS_PER_TOKEN:g} by default), loss = nats per token")

#: the one default seed of every command: without --seed a command is reproducible
DEFAULT_SEED = 0

#: the formats of an option naming a figure (--figure, plot --out), in its help: those of
#: outputs.plot._formats.image_formats, which is matplotlib's list; --help does not import
#: matplotlib (seconds) to print it, and a name in another format is refused with it whole
FIGURE_FORMATS = ("format from the suffix: any that matplotlib writes, such as .png, .pdf, "
                  ".svg, .eps, .jpg, .tiff, .webp")

#: attributes of the parsed arguments that name files a command reads; --out may be none
INPUT_ATTRIBUTES = ("path", "fit", "data", "schedules", "log")

#: suffix -> kind of file a result table or document is written as
_RESULT_SUFFIXES = {".csv": "table", ".tsv": "table", ".json": "json"}


# ------------------------------------------------------------------ value types
# (argparse types and NAME=VALUE lists live in ._values, shared with ._runs)
def _cores() -> int:
    from ..._parallel import usable_cores

    return usable_cores()


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number (-1 = every core)") from None
    if value == 0 or value < -1:
        raise ValueError(f"{text!r}: give a positive number of workers, or -1 for every core")
    return value


#: ``type=`` of --jobs: a positive count or -1 (see :func:`worker_count` for the cap)
jobs = _type(_jobs, "workers")


def worker_count(requested: int) -> int:
    """``--jobs`` as a number of workers: -1 is every core; more than the cores is capped
    at the cores with a warning (more processes than cores only cost memory)."""
    cores = _cores()
    if requested == -1:
        return cores
    if requested > cores:
        import warnings

        from ..._exceptions import ScalingLawsWarning

        warnings.warn(f"--jobs {requested} is more than the {cores} cores of this machine; "
                      f"using {cores}", ScalingLawsWarning, stacklevel=2)
        return cores
    return requested


# ------------------------------------------------------------------ flags
def add_json_option(parser, help: str = "print JSON instead of a table") -> None:
    """``--json``: print JSON instead of a readable table (or text)."""
    parser.add_argument("--json", action="store_true", help=help)


def add_fit_argument(parser) -> None:
    """The positional FIT: a fit file written by ``scalinglaws fit --out``."""
    parser.add_argument("fit", metavar="FIT", help="fit JSON written by `scalinglaws fit --out`")


def add_form_option(parser, default: str = "chinchilla") -> None:
    parser.add_argument("--form", default=default, metavar="NAME",
                        help=f"law to fit (see `scalinglaws forms`; default {default})")


_QUANTITY_HELP = {"N": "parameters, e.g. 7B or 7e9", "D": "training tokens, e.g. 1.4T",
                  "C": "training compute in FLOP, e.g. 1e24 (1 PF-day = 8.64e19 FLOP)",
                  "U": "unique tokens available, e.g. 25B (form data_constrained: D/U is the "
                       "number of epochs; a model sees D tokens drawn from U distinct ones)",
                  "S_min": "minimum optimisation steps, e.g. 1e5 (form kaplan_ns: Kaplan et al. "
                           "2020's S_min, steps at batch size much larger than B_crit)",
                  "task_loss": "task loss in the units of the table the fit was made on "
                               "(the ladder's: bits per byte of the correct answer, not "
                               "converted), e.g. 0.8 (task forms task_sigmoid, "
                               "task_sigmoid_floor, task_logistic_log: step 2 of the "
                               "ladder); may be 0"}

#: the flags of an input whose name is not itself the flag (--C has its old spellings)
_QUANTITY_FLAGS = {"C": ("--C", "--compute", "--budgets"), "S_min": ("--S-min",),
                   "task_loss": ("--task-loss",)}


def quantity_flag(name: str) -> str:
    """The flag a user types for the input ``name`` (``S_min`` -> ``--S-min``)."""
    return _QUANTITY_FLAGS.get(name, (f"--{name}",))[0]


def add_quantity_options(parser, names=("N", "D", "C"), *, required=(), help=None) -> None:
    """List flags ``--N``, ``--D``, ``--C`` (``--compute`` and ``--budgets``, as in
    ``compare`` and ``report``, are ``--C``) with unit suffixes.

    Read them back with :func:`quantities`, which pairs lists of equal length and
    broadcasts single values.
    """
    help = help or {}
    for name in names:
        flags = _QUANTITY_FLAGS.get(name, (f"--{name}",))
        parser.add_argument(*flags, dest=name, nargs="+", required=name in required,
                            # a task loss may be 0 (the ladder's anchor); the rest are > 0
                            type=nonnegative_quantity if name == "task_loss" else quantity,
                            metavar="FLOP" if name == "C" else name,
                            help=help.get(name, _QUANTITY_HELP.get(name, name)))
    parser.set_defaults(quantity_names=tuple(names))


def add_cluster_option(parser, what: str) -> None:
    """``--cluster COLUMN|auto|none`` (``fit``, ``backtest``): the rows that are one run,
    read back with :func:`clusters_from_flag`; ``what`` says what the command does with
    whole runs."""
    parser.add_argument("--cluster", metavar="COLUMN|auto|none",
                        help=f"the rows sharing a value of this column are one run: {what} "
                             "(default auto: by run_id when rows are checkpoints of the same "
                             "runs, else rows); none takes every row for a run")


def clusters_from_flag(flag):
    """``--cluster``'s value as the Python ``clusters`` (``bootstrap``, ``calibrate``,
    ``rollout``): not typed, ``"auto"``; ``none`` (any case), None (rows); else the
    column (or ``auto``)."""
    if flag is None:
        return "auto"
    return None if flag.strip().lower() == "none" else flag


def add_group_option(parser, help: str) -> None:
    """``--group COLUMN`` (``--groups`` still accepted)."""
    parser.add_argument("--group", metavar="COLUMN", help=help)
    parser.add_argument("--groups", dest="group", help=argparse.SUPPRESS)


def add_by_option(parser) -> None:
    parser.add_argument("--by", metavar="COLUMN",
                        help="repeat the analysis for each value of this column (e.g. setting); "
                             "warnings name the group")


def add_budget_options(parser) -> None:
    """``--budget C|bin|COLUMN``, ``--n-bins K``, ``--bin-width-dex W``: how runs form the
    budgets of IsoFLOP profiles (``isoflop_fit``'s ``budget``, ``n_bins``,
    ``bin_width_dex``), in the words of ``scalinglaws isoflop``; ``plot isoflop`` takes
    them too, read by the isoflop command's ``_budget_options``."""
    parser.add_argument("--budget", metavar="C|bin|COLUMN", default=None,
                        help="how runs form budgets: C (runs with the same compute), bin (bins "
                             "of log10 C, see --n-bins / --bin-width-dex), or a column holding "
                             "each run's budget label (default: C, refusing continuous "
                             "compute)")
    parser.add_argument("--n-bins", type=positive_int, default=None, metavar="K",
                        help="with --budget bin: K equal bins of log10 C between the smallest "
                             "and largest compute")
    parser.add_argument("--bin-width-dex", type=positive_float, default=None, metavar="W",
                        help="with --budget bin: bins W decades wide from the smallest compute "
                             "(e.g. 0.1)")


def add_bootstrap_options(parser, *, default: int | None = 0, what: str = "the runs") -> None:
    """``--bootstrap N`` and ``--confidence-level``; ``default=None`` leaves "not given"
    to the command (``fit``: none, or 1000 with ``--uncertainty``)."""
    shown = ("none; 1000 with --uncertainty" if default is None
             else f"{default}{', none' if not default else ''}")
    parser.add_argument("--bootstrap", type=nonnegative_int, default=default, metavar="N",
                        help=f"bootstrap N resamples of {what}, each re-optimised, for intervals "
                             f"(default {shown})")
    add_confidence_level_option(parser)


def add_confidence_level_option(parser, *, from_fit: bool = False) -> None:
    """``--confidence-level P``; with ``from_fit`` (commands reading a saved fit) it
    defaults to the level the fit's bootstrap was made at, else 0.95 (``--level`` is
    accepted as an old spelling, unlisted, in every command that has the flag)."""
    if not from_fit:
        parser.add_argument("--confidence-level", type=probability, default=0.95, metavar="P",
                            help="two-sided level of the intervals (default 0.95)")
        parser.add_argument("--level", type=probability, dest="confidence_level",
                            help=argparse.SUPPRESS)
        return
    parser.add_argument("--confidence-level", type=probability, default=None, metavar="P",
                        help="two-sided level of the intervals (default: the level the fit's "
                             "bootstrap was made at, else 0.95)")
    parser.add_argument("--level", type=probability, dest="confidence_level",
                        help=argparse.SUPPRESS)


def add_seed_option(parser) -> None:
    parser.add_argument("--seed", type=nonnegative_int, default=DEFAULT_SEED, metavar="S",
                        help=f"seed of everything random (default {DEFAULT_SEED}; the same seed "
                             "gives the same output)")


def add_jobs_option(parser) -> None:
    parser.add_argument("--jobs", type=jobs, default=1, metavar="J",
                        help="workers (default 1; -1 = every core; more than the cores is "
                             "capped at the cores); processes start only when the work per "
                             "worker pays for them, otherwise the work runs in-process")


def add_output_options(parser, kind: str | None, *, default: str | None = None,
                       what: str = "the result", json_flag: bool = True,
                       required: bool = False, schema_version: int | None = None) -> None:
    """``--out`` (checked before any work), ``--force`` and, optionally, ``--json``.

    ``kind`` is the kind of file written (``fit``, ``json``, ``table``, ``html``,
    ``image``), or None for a result written as a table (.csv, .tsv) or JSON (.json)
    by the suffix of ``--out``. ``schema_version`` is that of the JSON document the
    command prints and writes through :func:`print_json` / :func:`write_output` (the
    command module's constant; they stamp it in the document's header).
    """
    if kind is None:
        text = f"write {what} to a file: .csv or .tsv (a table) or .json (the whole result)"
    else:
        text = f"write {what} to this file"
    if default:
        text += f" (default {default})"
    parser.add_argument("--out", default=default, metavar="PATH", help=text, required=required)
    parser.add_argument("--force", action="store_true",
                        help="let --out replace an existing file of another kind, or a table "
                             "or JSON file scalinglaws did not write (it may be data)")
    if json_flag:
        add_json_option(parser, "print JSON instead of a readable table")
    parser.set_defaults(out_kind=kind, schema_version=schema_version)


def _has_option(parser, flag: str) -> bool:
    return flag in parser._option_string_actions


# ------------------------------------------------------------------ reading
def quantities(args, names=None, *, required=()) -> dict:
    """The list flags ``names`` as float arrays of one common length.

    Lists of equal length pair up; a single value is repeated. Lengths that differ
    otherwise raise an :class:`InputError` naming both flags. A name in ``required``
    that was not given raises an :class:`InputError` naming the flag.
    """
    import numpy as np

    names = tuple(names if names is not None else getattr(args, "quantity_names", ()))
    given = {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
    missing = [n for n in required if n not in given]
    if missing:
        raise InputError(f"{' and '.join(quantity_flag(n) for n in missing)} required")
    lengths = {n: len(v) for n, v in given.items()}
    longest = max(lengths.values(), default=1)
    for name, length in lengths.items():
        if length not in (1, longest):
            other = next(n for n, k in lengths.items() if k == longest)
            flag, other = quantity_flag(name), quantity_flag(other)
            raise InputError(f"{flag} has {length} value{'s' * (length != 1)} but {other} "
                             f"has {longest}: give one value, or as many as {other}")
    return {n: np.resize(np.asarray(v, dtype=float), longest) for n, v in given.items()}


# ------------------------------------------------------------------ groups and warnings
_GROUPS: list[str] = []


@contextlib.contextmanager
def group_label(label: str):
    """Warnings raised inside name ``label`` (``scalinglaws: warning: setting=x: ...``)."""
    _GROUPS.append(label)
    try:
        yield
    finally:
        _GROUPS.pop()


def current_group() -> str | None:
    return ": ".join(_GROUPS) if _GROUPS else None


def for_each_group(args, runs):
    """``(key, runs)`` per value of ``--by`` (or ``(None, runs)`` without it); warnings
    raised while the caller works on a group name it."""
    if not getattr(args, "by", None):
        yield None, runs
        return
    for key, subset in runs.groupby(args.by):
        with group_label(f"{args.by}={key}"):
            yield key, subset


# ------------------------------------------------------------------ writing
#: the JSON document a command writes with --out, by (command, action), where it is not
#: "scalinglaws.<command>_<action>" (what write_output stamps on a plain result)
_DOCUMENTS = {("fit", None): "scalinglaws.fit",
              ("reproduce", None): "scalinglaws.fit",
              ("curves", "fit"): "scalinglaws.curve_fit", ("tasks", "fit"): "scalinglaws.tasks",
              ("compare", None): "scalinglaws.comparison"}


def document_kind(args) -> str:
    """The top-level ``kind`` of the JSON document ``args``' command writes."""
    command = getattr(args, "command", None) or "result"
    action = next((getattr(args, name) for name in vars(args)
                   if name.endswith("_command") and getattr(args, name)), None)
    default = f"scalinglaws.{command}" + (f"_{action}" if action else "")
    return _DOCUMENTS.get((command, action), default)


def check_out(args, path=None):
    """Refuse ``--out`` (or ``path``) and ``--figure`` before any work (see
    ``scalinglaws._files``).

    Neither may be any input of the command (PATH, FIT, --data), nor may they name the
    same file (one would replace the other), ``--force`` or not; each may replace an
    existing file only of the same kind unless ``--force``; a figure's name must end with
    a format matplotlib writes. Returns the ``--out`` path, or None without ``--out``.
    """
    from ..._files import check_output_path

    out = path if path is not None else getattr(args, "out", None)
    inputs = [p for p in (getattr(args, name, None) for name in INPUT_ATTRIBUTES) if p]
    force = getattr(args, "force", False)
    checked = None
    if out is not None:
        from ..._files import writes_into_stream

        kind = getattr(args, "out_kind", None)
        if kind is None:
            kind = _RESULT_SUFFIXES.get(Path(out).suffix.lower())
            if kind is None and writes_into_stream(out):
                # /dev/stdout, a pipe: a table goes in as CSV, or as JSON with --json
                kind = "json" if getattr(args, "json", False) else "table"
            if kind is None:
                raise InputError(f"--out {os.fspath(out)!r}: end the name with .csv, .tsv or "
                                 ".json")
        document = document_kind(args) if kind in ("json", "fit") else None
        checked = check_output_path(out, inputs=inputs, kind=kind, force=force,
                                    document=document)
        if kind == "image":  # before any drawing: the format comes from the suffix
            _check_image_format("--out", out)
    figure = getattr(args, "figure", None)
    if figure is not None:  # --figure (compare, plan, backtest, tasks fit): the same rules
        check_output_path(figure, inputs=inputs, kind="image", force=force,
                          argument="--figure", outputs=[("--out", out)] if out else ())
        _check_image_format("--figure", figure)
    return checked


def _check_image_format(argument: str, path) -> None:
    """Refuse a figure name whose suffix is no format matplotlib writes here (``--force``
    or not: the drawing would fail after all the work)."""
    from ..plot._formats import check_image_format

    check_image_format(path, argument)


#: ``with output_file(out) as tmp:`` a temporary path beside ``out`` that becomes ``out``
#: only on success (fsync, rename; removed on an error or an interrupt): the package's one
#: atomic writer, :func:`scalinglaws._files.atomic_output`, so a symlink's target is
#: replaced and the link kept, and a FIFO or ``/dev/stdout`` is written into, not replaced
output_file = atomic_output


def save_figure(fig, path, *, dpi: int = 150) -> Path:
    """Write a matplotlib figure to ``path`` (format from its suffix) atomically, signed as
    the package's (so a later run may replace it unasked, and nothing else)."""
    from ..plot._formats import write_figure

    fmt = Path(path).suffix.lower().lstrip(".") or "png"
    with output_file(path) as tmp:
        write_figure(fig, tmp, fmt, dpi=dpi)
    return Path(path)


def command_document(args, result, *, schema_version: int | None = None,
                     kind: str | None = None):
    """The JSON document of a command's result (:func:`~._tables.json_document`), headed
    by its ``kind`` (:func:`document_kind`, or ``kind``), its ``schema_version`` (the one
    the command declared with :func:`add_output_options`, or ``schema_version``: a
    command whose document's version is its library's, as ``isoflop --by``'s) and the
    package's version: the one place that stamps that header."""
    version = schema_version if schema_version is not None else \
        getattr(args, "schema_version", None)
    return json_document(result, kind or document_kind(args), version)


def print_json(args, result, *, schema_version: int | None = None,
               kind: str | None = None) -> None:
    """``--json``: print the document ``--out x.json`` writes (:func:`command_document`)."""
    document = command_document(args, result, schema_version=schema_version, kind=kind)
    print(json.dumps(document, indent=2))


def write_output(args, result, *, schema_version: int | None = None) -> Path | None:
    """Write a result (a DataFrame, or a JSON-able document) to ``--out``, atomically.

    Tables go to .csv/.tsv at full precision, or to .json as a document, as documents do
    (:func:`command_document`: what ``--json`` prints); into a stream named
    without either (``--out /dev/stdout``, a pipe), a table goes as CSV, or with
    ``--json`` as that document.
    """
    from ..._files import writes_into_stream

    if not getattr(args, "out", None):
        return None
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".tsv", ".json") and writes_into_stream(out):
        if getattr(args, "json", False):  # what --json prints
            suffix = ".json"
        elif hasattr(result, "to_csv"):
            suffix = ".csv"
    if hasattr(result, "to_csv") and suffix in (".csv", ".tsv"):
        # full precision: pandas writes each float's repr
        text = result.to_csv(index=False, sep="\t" if suffix == ".tsv" else ",")
    else:
        if not hasattr(result, "to_csv") and suffix != ".json" \
                and getattr(args, "out_kind", None) != "json":  # (a JSON command: any name)
            raise InputError(f"--out {args.out!r}: this result is a JSON document; end the "
                             "name with .json")
        document = command_document(args, result, schema_version=schema_version)
        text = json.dumps(document, indent=2) + "\n"
    with output_file(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return out


# ------------------------------------------------------------------ progress
def show_progress() -> bool:
    """Whether to draw progress: only when stderr is a terminal (never into a log file)."""
    return sys.stderr.isatty()


@contextlib.contextmanager
def activity(label: str, *, every: float = 0.5, force: bool | None = None):
    """Show ``scalinglaws: LABEL ... 12 s`` on stderr, updated while the block runs.

    For steps that cannot report a fraction done (writing a report, drawing a
    figure); only on a terminal unless ``force``. The line is cleared at the end.
    """
    if not (show_progress() if force is None else force):
        yield
        return
    stop = threading.Event()
    start = time.monotonic()

    def tick():
        while not stop.wait(every):
            sys.stderr.write(f"\rscalinglaws: {label} ... {time.monotonic() - start:.0f} s")
            sys.stderr.flush()

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
