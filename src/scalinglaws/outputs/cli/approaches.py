"""Subcommands isoflop (Approach 2) and backtest."""

from __future__ import annotations

import json


from ._common import (UNITS, add_data_options, runs_from_args)


def cmd_isoflop(args) -> int:
    from ...fitting.isoflop import isoflop_fit

    runs = runs_from_args(args)
    groups = runs.groupby(args.by) if args.by else [(None, runs)]
    documents = []
    for key, subset in groups:
        result = isoflop_fit(subset, budget=args.budget_column, curve=args.curve,
                             degree=args.degree, min_points=args.min_points,
                             n_resamples=args.bootstrap, rng=args.seed)
        if args.json:
            documents.append({"group": key, **result.to_dict()})
        else:
            if key is not None:
                print(f"\n== {args.by} = {key}")
            print(result.summary())
    if args.json:
        print(json.dumps(documents if args.by else documents[0], indent=2))
    return 0


def cmd_backtest(args) -> int:
    from ...uncertainty.backtest import backtest

    runs = runs_from_args(args)
    result = backtest(runs, args.form, holdout=args.holdout, threshold=args.threshold,
                      fraction=args.fraction, group=args.group)
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.summary())
    return 0


def register(sub) -> None:
    """Add this module's subcommands to the parser's subparsers."""
    p = sub.add_parser("isoflop", help="Hoffmann's Approach 2: IsoFLOP profiles -> N_opt ~ C^a",
                       description="Group runs by compute budget, fit loss against log N per "
                                   "budget, take each minimum, and fit N_opt ~ C^a and "
                                   "D_opt ~ C^b with intervals. Budgets whose minimum is not "
                                   "inside their sampled sizes are reported and excluded. "
                                   + UNITS)
    add_data_options(p)
    p.add_argument("--budget-column", default=None, metavar="COLUMN",
                   help="column naming each run's budget (default: group by distinct C; "
                        "'bin' bins log C)")
    p.add_argument("--curve", default="parabola", choices=["parabola", "poly", "akima"],
                   help="per-budget curve of loss against log N (default parabola)")
    p.add_argument("--degree", type=int, default=2, help="polynomial degree for --curve poly")
    p.add_argument("--min-points", type=int, default=5, help="fewest runs a budget needs")
    p.add_argument("--by", metavar="COLUMN", help="analyse each value of this column separately "
                                                  "(e.g. setting)")
    p.add_argument("--bootstrap", type=int, default=0, metavar="N",
                   help="resample each budget's runs N times for the minima's uncertainty")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_isoflop)

    p = sub.add_parser("backtest", help="fit on the smaller runs, predict the larger ones",
                       description="Back-test extrapolation: fit the law on the runs below a "
                                   "threshold of C (FLOP), N (parameters) or D (tokens), or "
                                   "leave one group out, and report the relative error of the "
                                   "predicted loss on the held-out runs. " + UNITS)
    add_data_options(p)
    p.add_argument("--form", default="chinchilla", help="law to fit (default chinchilla)")
    p.add_argument("--holdout", default="C", choices=["C", "N", "D", "group"],
                   help="hold out by compute (default), parameters, tokens, or by group")
    p.add_argument("--threshold", type=float, default=None,
                   help="hold out runs above this value (FLOP, parameters or tokens)")
    p.add_argument("--fraction", type=float, default=0.25,
                   help="without --threshold, hold out this top fraction (default 0.25)")
    p.add_argument("--group", metavar="COLUMN", help="group column for --holdout group")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_backtest)
