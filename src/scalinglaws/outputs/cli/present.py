"""Subcommands reproduce, plot, report: papers, figures, the HTML report."""

from __future__ import annotations

import json


from ._common import (UNITS, add_data_options, optional_runs_from_args)


def cmd_reproduce(args) -> int:
    from .. import reproduce

    function = getattr(reproduce, f"reproduce_{args.study}")
    kwargs = {"n_resamples": args.bootstrap, "rng": args.seed, "n_jobs": args.jobs} \
        if args.study == "hoffmann" else {}
    report = function(args.data, **kwargs)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report)
    if args.out and report.fit is not None:
        report.fit.save(args.out)
    return 0


def cmd_plot(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from ..io import load
    from ..report import save_figure

    result = load(args.fit)
    kwargs = {"x": args.x} if args.kind == "fit" and args.x else {}
    print(save_figure(args.kind, result, optional_runs_from_args(args), args.out or f"{args.kind}.png",
                      dpi=args.dpi, **kwargs))
    return 0


def cmd_report(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from ..io import load
    from ..report import DEFAULT_BUDGETS, make_report

    result = load(args.fit)
    budgets = DEFAULT_BUDGETS if not args.budgets else [float(b) for b in args.budgets]
    print(make_report(result, optional_runs_from_args(args), args.out, budgets=budgets,
                      title=args.title))
    return 0


def register(sub) -> None:
    """Add this module's subcommands to the parser's subparsers."""
    p = sub.add_parser("reproduce", help="reproduce published coefficients from public data",
                       description="Refit published scaling laws on public data and compare with "
                                   "the papers. hoffmann: Approach 3 on Epoch AI's digitised "
                                   "Chinchilla runs (downloaded from Epoch's repository with a "
                                   "SHA-256 check and cached, or --data PATH); kaplan: Approach 2 "
                                   "on Porian et al.'s IsoFLOP sweeps (--data PATH required); "
                                   "muennighoff: the data-constrained law on the datablations runs "
                                   "(--data PATH required). " + UNITS)
    p.add_argument("study", choices=["hoffmann", "kaplan", "muennighoff"])
    p.add_argument("--data", metavar="PATH", help="the public data file (or its folder)")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                   help="bootstrap resamples for intervals (hoffmann; default 1000, 0 = none)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--out", metavar="FIT.json", help="write the refitted law as JSON")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_reproduce)

    kinds = ["fit", "residuals", "frontier", "landscape", "corner", "isoflop"]
    p = sub.add_parser("plot", help="draw one figure of a saved fit",
                       description="Draw a figure of a fit saved with `fit --out`: fit (loss vs "
                                   "N with the fitted curves), residuals (log residuals vs N, D, "
                                   "C with the Huber band), frontier (N_opt vs compute with the "
                                   "bootstrap band, published frontiers and known models), "
                                   "landscape (loss contours over N, D with iso-compute lines), "
                                   "corner (bootstrap draws), isoflop (Approach 2 profiles). "
                                   + UNITS)
    p.add_argument("kind", choices=kinds)
    p.add_argument("fit", help="fit JSON written by `scalinglaws fit --out`")
    p.add_argument("--data", metavar="PATH",
                   help="runs table (needed by fit, residuals and isoflop; drawn on landscape)")
    add_data_options(p, positional=False)
    p.add_argument("--out", default=None, help="image file; format from the suffix (.png, .pdf, "
                                                ".svg); default KIND.png")
    p.add_argument("--dpi", type=int, default=150)
    p.add_argument("--x", choices=["N", "D", "C"], help="horizontal axis of `fit` (default N)")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("report", help="one self-contained HTML report of a saved fit",
                       description="Write an HTML page (images embedded) with the coefficients "
                                   "and intervals, the figures, an allocation table for a few "
                                   "budgets and the fit diagnostics. " + UNITS)
    p.add_argument("fit", help="fit JSON written by `scalinglaws fit --out`")
    p.add_argument("--data", metavar="PATH", help="the runs the fit was made on")
    add_data_options(p, positional=False)
    p.add_argument("--out", default="report.html", help="HTML file to write (default report.html)")
    p.add_argument("--title", default=None)
    p.add_argument("--budgets", nargs="+", metavar="FLOP",
                   help="compute budgets of the allocation table (FLOP)")
    p.set_defaults(func=cmd_report)
