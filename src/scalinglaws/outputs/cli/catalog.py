"""Subcommands generate and forms: a synthetic sweep from a known law, and the laws that
can be fitted (registered after :mod:`.fitting`'s, so ``--help`` lists them where it did)."""

from __future__ import annotations

import os
import textwrap

from ..._exceptions import InputError
from ..._text import counted
from ._common import (UNITS, add_form_option, add_json_option, add_output_options,
                      add_seed_option, output_file, positive_float, print_json, quantity)

#: ``schema_version`` of the document ``forms --json`` prints (the laws under ``forms``)
FORMS_SCHEMA_VERSION = 1


def cmd_generate(args) -> int:
    from ...laws.forms import get_form
    from ...laws.synthetic import generate_sweep

    # CSV, or TSV by the name: a Parquet or JSON-lines name would hold CSV text
    suffix = os.path.splitext(args.out)[1].lower()
    if suffix in (".parquet", ".pq", ".jsonl", ".ndjson"):
        raise InputError(f"--out {args.out!r}: generate writes the runs as CSV or TSV, not "
                         f"{suffix[1:]}; end the name with .csv or .tsv")
    unique = _generate_unique_tokens(args, get_form(args.form))
    runs = generate_sweep(args.form, noise=args.noise, rng=args.seed, **unique)
    with output_file(args.out) as tmp:
        runs.to_frame().to_csv(tmp, index=False, float_format="%.10g",
                               sep="\t" if suffix in (".tsv", ".tab") else ",")
    layout = "".join(f", {flag} {' '.join(f'{v:g}' for v in values)}"
                     for flag, values in (("--U", args.U), ("--epochs", args.epochs)) if values)
    print(f"wrote {counted(len(runs), 'run')} to {args.out} (form {args.form}{layout}, noise "
          f"{args.noise}, "
          f"seed {args.seed})")
    return 0


def _generate_unique_tokens(args, form) -> dict:
    """``generate_sweep``'s unique-token layout from ``--U`` or ``--epochs``: exactly one
    of them for a law of unique tokens U, neither otherwise (refused naming the flags)."""
    given = [flag for flag, value in (("--U", args.U), ("--epochs", args.epochs)) if value]
    if "U" not in form.inputs:
        if given:
            raise InputError(f"{given[0]} is for a law of unique tokens (--form "
                             f"data_constrained); form {form.name!r} takes "
                             f"{', '.join(form.inputs)}")
        return {}
    if len(given) != 1:
        raise InputError(f"form {form.name!r} trains on a limited number of unique tokens: "
                         "give --U (unique tokens, e.g. --U 5B) or --epochs (passes over "
                         "them, e.g. --epochs 1 4 16), "
                         + ("not both" if given else "got neither"))
    if args.epochs:
        return {"epochs": list(args.epochs)}
    # one U: every run on it; several: every run once on each (the same for one value)
    return ({"unique_tokens": args.U[0]} if len(args.U) == 1
            else {"unique_grid": list(args.U)})


def cmd_forms(args) -> int:
    from ...laws.forms import available_forms, get_form

    try:  # the data-constrained forms register themselves when their module is imported
        from ...laws import datablations  # noqa: F401
    except ImportError:  # pragma: no cover
        pass
    forms = [get_form(name) for name in available_forms()]
    if args.json:  # headed as every command's document, the forms a list inside it
        print_json(args, {"forms": [{"name": f.name, "inputs": list(f.inputs),
                                     "parameters": list(f.param_names), "formula": f.formula}
                                    for f in forms]}, schema_version=FORMS_SCHEMA_VERSION)
        return 0
    print(_forms_table(forms))
    return 0


def _forms_table(forms, width: int = 100) -> str:
    """name, inputs, parameters and the law, aligned; long laws wrap under their column."""
    rows = [("name", "inputs", "parameters", "law")]
    first_with: dict[str, str] = {}
    for form in forms:
        law = form.formula
        if law in first_with:  # same law, other settings (e.g. a parameter's search scale)
            config = getattr(form, "config", lambda: {})()
            settings = ", ".join(f"{k}={v}" for k, v in config.items())
            law = f"as {first_with[law]}" + (f", with {settings}" if settings else "")
        else:
            first_with[law] = form.name
        rows.append((form.name, ",".join(form.inputs), ", ".join(form.param_names), law))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    indent = sum(widths) + 6
    lines = []
    for row in rows:
        head = "  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths))
        law = textwrap.wrap(row[3], max(40, width - indent), break_long_words=False) or [""]
        lines.append(f"{head}  {law[0]}")
        lines += [" " * indent + more for more in law[1:]]
    return "\n".join(lines)


def register(sub) -> None:
    """Add this module's subcommands to the parser's subparsers."""
    p = sub.add_parser("generate", help="write a synthetic IsoFLOP sweep from a known law",
                       description="Write a synthetic IsoFLOP sweep (9 budgets 6e18..3e21 FLOP x "
                                   "12 sizes) whose losses follow a known law. The "
                                   "data_constrained law also needs the unique tokens of each "
                                   "run: --U or --epochs (every run of the grid once per value; "
                                   "columns U and epochs). " + UNITS)
    add_form_option(p)
    p.add_argument("--noise", type=float, default=0.01,
                   help="log-normal noise sd on the loss (default 0.01, about 1%%)")
    unique = p.add_argument_group("unique tokens (--form data_constrained: give one)")
    unique.add_argument("--U", nargs="+", type=quantity, metavar="TOKENS",
                        help="unique tokens each run may draw its D training tokens from, "
                             "e.g. 5B (a count of tokens, not epochs); several values: every "
                             "run once on each; a run with D > U repeats its data D/U times")
    unique.add_argument("--epochs", nargs="+", type=positive_float, metavar="E",
                        help="epochs, passes over the unique data (D/U, a ratio of tokens), "
                             "e.g. 1 4 16: every run once at each, on U = D/E unique tokens "
                             "(below 1: U > D, only D of them seen)")
    add_seed_option(p)
    add_output_options(p, "table", what="the runs (CSV; TSV for a .tsv name)", json_flag=False,
                       required=True)
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("forms", help="list the laws that can be fitted")
    add_json_option(p)
    p.set_defaults(func=cmd_forms)
