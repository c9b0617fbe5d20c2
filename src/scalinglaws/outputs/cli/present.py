"""Subcommands reproduce, plot, report: papers, figures, the HTML report."""

from __future__ import annotations

import argparse

from ..._exceptions import InputError
from ._common import (DEFAULT_SEED, FIGURE_FORMATS, UNITS, activity, add_bootstrap_options, add_budget_options,
                      add_data_options, add_fit_argument, add_jobs_option, add_output_options,
                      add_seed_option, check_out, optional_runs_from_args, output_file,
                      positive_int, print_json, quantity, show_progress, worker_count)
from .approaches import _budget_options  # the isoflop command's reading of the three flags

#: the ``kind`` and ``schema_version`` of what ``reproduce --json`` prints (the comparison with
#: the paper; ``--out`` writes the refitted law, a fit document), stamped with the package
#: version by ``_common.print_json``
REPRODUCTION_KIND, REPRODUCTION_SCHEMA_VERSION = "scalinglaws.reproduction", 1


def _dpi(text: str) -> int:
    """``--dpi``: an integer within the figure module's limits (a raster of a sane size)."""
    from ..plot._checks import check_dpi
    from ..._exceptions import InputError

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    try:
        return check_dpi(int(value) if value.is_integer() else value, "--dpi")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_reproduce(args) -> int:
    from .. import reproduce

    function = getattr(reproduce, f"reproduce_{args.study}")
    if args.study == "hoffmann":
        kwargs = {"n_resamples": args.bootstrap, "rng": args.seed,
                  "n_jobs": worker_count(args.jobs), "progress": show_progress(),
                  "confidence_level": args.confidence_level}
    else:
        # these flags drive the hoffmann refit only; given here they would be ignored
        given = [flag for flag, value, default in (
            ("--bootstrap", args.bootstrap, 1000), ("--seed", args.seed, DEFAULT_SEED),
            ("--jobs", args.jobs, 1), ("--confidence-level", args.confidence_level, 0.95))
            if value != default]
        if args.out and args.study == "kaplan":
            given.append("--out")
        if given:
            raise InputError(f"reproduce {args.study} does not use {', '.join(given)} "
                             f"(they drive the hoffmann bootstrap and fit file; use --json for "
                             "the tables)")
        kwargs = {}
    report = function(args.data, **kwargs)
    if args.json:
        print_json(args, report.to_dict(), kind=REPRODUCTION_KIND,
                   schema_version=REPRODUCTION_SCHEMA_VERSION)
    else:
        print(report)
    if args.out and report.fit is not None:
        with output_file(args.out) as tmp:
            report.fit.save(tmp, force=True)  # --out checked with --force
    return 0


def cmd_plot(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from ..io import load
    from ..report import save_figure

    out = check_out(args, args.out or f"{args.kind}.png")
    kwargs = {"x": args.x} if args.kind == "fit" and args.x else {}
    budget = {name: value for name, value in _budget_options(args).items() if value is not None}
    if args.min_points is not None:
        budget["min_points"] = args.min_points
    if budget and args.kind != "isoflop":
        raise InputError("--budget, --n-bins, --bin-width-dex and --min-points say how runs form "
                         f"the budgets of IsoFLOP profiles: they apply to plot isoflop, not "
                         f"{args.kind}")
    if budget:  # else isoflop_fit's default (a budget column when the runs have one, else C)
        kwargs["isoflop_options"] = budget
    result = load(args.fit)
    runs = optional_runs_from_args(args, fit=result)
    # (an error's budget='bin' reads as --budget bin on the command line: cli.in_flags)
    with activity(f"drawing {args.kind}"), output_file(out) as tmp:
        save_figure(args.kind, result, runs, tmp, dpi=args.dpi, **kwargs)
    print(out)
    return 0


def cmd_report(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from ..io import load
    from ..report import DEFAULT_BUDGETS, make_report

    result = load(args.fit)
    runs = optional_runs_from_args(args, fit=result)
    budgets = DEFAULT_BUDGETS if not args.C else args.C
    with output_file(args.out) as tmp:  # a bar over the figures on a terminal
        make_report(result, runs, tmp, budgets=budgets, title=args.title,
                    progress=show_progress(), rollout=args.rollout or None)
    print(args.out)
    return 0


def register(sub) -> None:
    """Add this module's subcommands to the parser's subparsers."""
    p = sub.add_parser("reproduce", help="reproduce published coefficients from public data",
                       description="Refit published scaling laws on public data and compare with "
                                   "the papers. hoffmann: Approach 3 on Epoch AI's digitised "
                                   "Chinchilla runs (downloaded from Epoch's repository with a "
                                   "SHA-256 check and cached, or --data PATH); kaplan: Approach 2 "
                                   "on Porian et al.'s IsoFLOP sweeps (--data PATH for the Approach 2 table; "
                                   "Kaplan's own tables need none); "
                                   "muennighoff: the data-constrained law on the datablations runs "
                                   "(--data PATH required). " + UNITS)
    p.add_argument("study", choices=["hoffmann", "kaplan", "muennighoff"],
                   help="which paper: hoffmann (Approach 3), kaplan (Approach 2 per setting), "
                        "muennighoff (data-constrained law)")
    p.add_argument("--data", metavar="PATH", help="the public data file (or its folder)")
    add_bootstrap_options(p, default=1000, what="the runs (hoffmann)")
    add_seed_option(p)
    add_jobs_option(p)
    add_output_options(p, "fit", what="the refitted law (JSON)")
    # --json prints the comparison with the paper, not the fit --out writes
    p.set_defaults(func=cmd_reproduce, json_is_out=False)

    # the kinds of outputs.figures.FIGURE_KINDS, typed here so that --help imports no
    # plotting code (a test checks the two lists agree)
    kinds = ["fit", "residuals", "frontier", "landscape", "corner", "isoflop", "rollout"]
    p = sub.add_parser("plot", help="draw one figure of a saved fit",
                       description="Draw a figure of a fit saved with `fit --out`: fit (loss vs "
                                   "N with the fitted curves), residuals (log residuals vs N, D, "
                                   "C with the Huber band), frontier (N_opt vs compute with the "
                                   "bootstrap band, published frontiers and known models), "
                                   "landscape (loss contours over N, D with iso-compute lines), "
                                   "corner (bootstrap draws), isoflop (Approach 2 profiles), "
                                   "rollout (back-test error against extrapolation factor; "
                                   "needs --data). "
                                   + UNITS)
    p.add_argument("kind", choices=kinds, help="which figure (see above)")
    add_fit_argument(p)
    p.add_argument("--data", metavar="PATH",
                   help="runs table (needed by fit, residuals and isoflop; drawn on landscape)")
    add_data_options(p, positional=False)
    add_output_options(p, "image", what=f"the figure ({FIGURE_FORMATS})", default="KIND.png",
                       json_flag=False)
    p.add_argument("--dpi", type=_dpi, default=150,
                   help="resolution of raster images, 10 to 2400 dots per inch (default 150)")
    p.add_argument("--x", choices=["N", "D", "C"], help="horizontal axis of `fit` (default N)")
    add_budget_options(p)  # isoflop: how the runs form budgets, as `scalinglaws isoflop`
    p.add_argument("--min-points", type=positive_int, default=None, metavar="K",
                   help="isoflop: fewest runs a budget needs (default 5)")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("report", help="one self-contained HTML report of a saved fit",
                       description="Write an HTML page (images embedded) with the coefficients "
                                   "and intervals, the figures, an allocation table for a few "
                                   "budgets and the fit diagnostics. " + UNITS)
    add_fit_argument(p)
    p.add_argument("--data", metavar="PATH", help="the runs the fit was made on")
    add_data_options(p, positional=False)
    add_output_options(p, "html", default="report.html", what="the HTML report", json_flag=False)
    p.add_argument("--title", default=None, help="page title (default names the law and data)")
    p.add_argument("--rollout", action="store_true",
                   help="add a rollout back-test of the fit's estimator on --data (error "
                        "against extrapolation factor; takes a few fits)")
    p.add_argument("--C", "--compute", "--budgets", dest="C", type=quantity, nargs="+",
                   metavar="FLOP", help="compute budgets of the allocation table (FLOP)")
    p.set_defaults(func=cmd_report)
