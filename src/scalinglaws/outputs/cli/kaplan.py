"""Subcommand kaplan: Kaplan et al.'s allocation and overfitting rule, and the gradient noise
scale from logged gradient norms.

    scalinglaws kaplan allocate --C 8.64e21 8.64e23          Table 6 at these C_min (FLOP)
    scalinglaws kaplan overfit --N 1e9 [--D 2.3e10]           Eq. 4.3-4.4
    scalinglaws kaplan noise LOG.csv --small-batch 16 --big-batch 128

Each writes its result with ``--out`` (allocate, overfit: a .csv/.tsv table or a .json
document; noise: a JSON document), as every other command does (``_common``).
"""

from __future__ import annotations

from ._common import (UNITS, add_json_option, add_output_options, add_quantity_options,
                      positive_float, print_json, probability, write_output)

#: ``schema_version`` of the documents ``kaplan allocate``, ``overfit`` and ``noise`` print
#: (``--json``) and write (``--out x.json``), stamped with their ``kind`` and the package
#: version by ``_common.print_json`` / ``write_output``
ALLOCATE_SCHEMA_VERSION = 1
OVERFIT_SCHEMA_VERSION = 1
NOISE_SCHEMA_VERSION = 1


def _show(args, frame, notes) -> None:
    """Print the table (or with ``--json`` the document ``--out x.json`` writes, its notes
    inside) and write it to ``--out``."""
    frame.attrs["notes"] = list(notes)
    if args.json:
        print_json(args, frame)
    else:
        print(frame.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        for note in notes:
            print(note)
    write_output(args, frame)


def cmd_allocate(args) -> int:
    import numpy as np

    from ...laws.kaplan import compute_efficient

    frame = compute_efficient(np.array(args.C)).to_frame()
    frame = frame.rename(columns={"compute": "C_min (FLOP)", "compute_pf_days": "C_min (PF-days)",
                                  "batch_size": "B_crit (tokens)", "min_steps": "S_min"})
    _show(args, frame, ["Kaplan et al. (2020) Table 6: N non-embedding; train at B_crit "
                              "(2 S_min steps, 2 C_min FLOP) and stop early."])
    return 0


def cmd_overfit(args) -> int:
    import numpy as np
    import pandas as pd

    from ..._exceptions import InputError
    from ...laws.kaplan import overfitting, overfitting_rule

    rule = overfitting_rule(threshold=args.threshold)
    n = np.array(args.N, dtype=float)
    frame = pd.DataFrame({"N": n, f"D for delta L = {args.threshold:g}": rule.tokens(n)})
    if args.D is not None:
        d = np.array(args.D, dtype=float)
        if d.size not in (1, n.size):
            raise InputError(f"--D has {d.size} values and --N {n.size}: give one or as many")
        frame["D"] = np.broadcast_to(d, n.shape)
        frame["delta L (Eq. 4.3)"] = overfitting(n, frame["D"].to_numpy())
    _show(args, frame, [f"Eq. 4.4 from Eq. 4.3: D >~ {rule.prefactor:.4g} N^{rule.exponent:.4f}"
                              " (printed: 5e3 N^0.74); Table 2 constants."])
    return 0


def cmd_noise(args) -> int:
    from ..._exceptions import InputError
    from ...data.readers import number_columns, read_table
    from ...laws.gradient_noise import gradient_noise_scale
    from ._common import delimiter

    if not args.small_batch < args.big_batch:  # flags named, before the file is read
        raise InputError(f"--small-batch ({args.small_batch:g}) must be smaller than "
                         f"--big-batch ({args.big_batch:g})")
    # the package's reader: line numbers, BOM, delimiters; each bad cell named by file,
    # row (line) and column, as load_runs does
    table = read_table(args.log, format=args.format, sep=delimiter(args.sep))
    norms = number_columns(table, args.log, {"--small-column": args.small_column,
                                             "--big-column": args.big_column},
                           "steps", allow_zero=True, nan_policy=args.nan_policy)
    result = gradient_noise_scale(norms["--small-column"], norms["--big-column"],
                                  args.small_batch, args.big_batch,
                                  confidence_level=args.confidence_level)
    if args.json:
        print_json(args, result.to_dict())
    else:
        print(result)
    write_output(args, result.to_dict())
    return 0


def register(sub) -> None:
    """Add the ``kaplan`` subcommand group to the parser's subparsers."""

    p = sub.add_parser("kaplan", help="Kaplan et al. (2020) allocation, overfitting rule; "
                                      "gradient noise scale",
                       description="Kaplan et al. (2020) at the paper's constants (N counts "
                                   "non-embedding parameters; C is C_min, the compute well below "
                                   "the critical batch), and McCandlish et al.'s (2018) gradient "
                                   "noise scale from logged gradient norms. " + UNITS)
    group = p.add_subparsers(dest="kaplan_command", metavar="WHAT", required=True)

    q = group.add_parser("allocate", help="Table 6: N, B_crit, S_min, D and the loss at C_min")
    add_quantity_options(q, ("C",), required=("C",),
                         help={"C": "C_min budgets in FLOP (1 PF-day = 8.64e19)"})
    add_output_options(q, None, what="the allocation table",
                       schema_version=ALLOCATE_SCHEMA_VERSION)
    q.set_defaults(func=cmd_allocate)

    q = group.add_parser("overfit", help="Eq. 4.3-4.4: tokens that keep overfitting at bay")
    add_quantity_options(q, ("N", "D"), required=("N",),
                         help={"N": "non-embedding parameters", "D": "tokens (adds delta L)"})
    q.add_argument("--threshold", type=positive_float, default=0.02,
                   help="largest acceptable delta L = L(N, D) / L(N, infinite D) - 1, a "
                        "relative excess loss, not nats (default 0.02, Kaplan's seed noise)")
    add_output_options(q, None, what="the table of tokens",
                       schema_version=OVERFIT_SCHEMA_VERSION)
    q.set_defaults(func=cmd_overfit)

    q = group.add_parser("noise", help="B_simple = tr(Sigma)/|G|^2 from gradient norms at two "
                                       "batch sizes (McCandlish et al. 2018)")
    q.add_argument("log", metavar="PATH", help="table of logged steps (CSV, TSV, JSON, Parquet)")
    q.add_argument("--small-batch", type=positive_float, required=True,
                   help="batch size of the small-batch gradient (e.g. one worker's), in "
                        "sequences or tokens: B_simple comes out in the same unit (Kaplan's "
                        "B_crit is in tokens)")
    q.add_argument("--big-batch", type=positive_float, required=True,
                   help="batch size of the big-batch gradient (e.g. the all-reduced one), in "
                        "the unit of --small-batch")
    q.add_argument("--small-column", default="norm_sq_small",
                   help="column of squared small-batch gradient norms (default norm_sq_small)")
    q.add_argument("--big-column", default="norm_sq_big",
                   help="column of squared big-batch gradient norms (default norm_sq_big)")
    q.add_argument("--format", choices=["csv", "tsv", "json", "jsonl", "parquet"],
                   help="format of the log (default: from the file's suffix)")
    q.add_argument("--sep", metavar="CHAR",
                   help="field delimiter of a text log, e.g. ';' (default ',', tab for .tsv; "
                        "a header that splits evenly on ';', tab or '|' is read so)")
    q.add_argument("--nan-policy", choices=["raise", "omit"], default="raise",
                   help="'omit' drops steps missing a norm and says how many (default raise)")
    q.add_argument("--confidence-level", type=probability, default=0.95, metavar="P",
                   help="two-sided level of Fieller's interval (default 0.95)")
    add_output_options(q, "json", what="the noise scale (JSON)", json_flag=False,
                       schema_version=NOISE_SCHEMA_VERSION)
    add_json_option(q, "print JSON instead of text")
    q.set_defaults(func=cmd_noise)
