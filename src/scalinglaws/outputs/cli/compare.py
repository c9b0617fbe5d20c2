"""Subcommand compare: groups of runs (recipes, settings) against a reference group."""

from __future__ import annotations

import argparse
import json

from ..._exceptions import InputError
from ._common import FIGURE_FORMATS
from ._common import (UNITS, add_bootstrap_options, add_data_options, add_form_option,
                      add_group_option, add_jobs_option, add_output_options, add_seed_option,
                      output_file, positive_float, quantity, runs_from_args, show_progress,
                      worker_count, save_figure)


def _names(text: str | None) -> list[str]:
    return [] if not text else [n.strip() for n in text.split(",") if n.strip()]


def _reference(runs, column: str, text: str):
    """The group value named by ``--reference`` (compared as text, so ``--reference 2``
    finds the group 2 of a numeric column)."""
    values = list(dict.fromkeys(runs.frame[column].tolist()))
    for value in values:
        if str(value) == text:
            return value
    raise InputError(f"--reference {text!r} is not a value of column {column!r}; values: "
                     + ", ".join(map(str, sorted(values, key=str))))


def cmd_compare(args) -> int:
    from ...analysis.compare import compare

    if not args.group:
        raise InputError("--group COLUMN required: the column whose values are the groups "
                         "(--group-column is the same flag)")
    figure = args.figure  # checked with --out before any work (check_out)
    runs = runs_from_args(args)
    if args.group not in runs.columns:
        raise InputError(f"--group: no column {args.group!r}; columns: {runs.columns}")
    reference = _reference(runs, args.group, args.reference) if args.reference else None
    if args.approach == "isoflop":
        from ...fitting.isoflop import isoflop_fit

        if args.shared or args.losses:
            raise InputError("--shared and --losses apply to --approach parametric")
        if args.curve == "akima" and args.bootstrap and args.seed_noise is None:
            raise InputError("--approach isoflop with --curve akima resamples the losses by seed "
                             "noise (Akima's interpolant has no residuals): give --seed-noise "
                             "SD (e.g. 0.005), --curve parabola (the default) for a residual "
                             "bootstrap, or --bootstrap 0 for intervals from the regression's "
                             "standard errors")
        analysis = isoflop_fit(runs, groups=args.group, curve=args.curve,
                               n_resamples=args.bootstrap, seed_noise=args.seed_noise,
                               rng=args.seed, confidence_level=args.confidence_level)
        result = compare(analysis, reference, budgets=args.budgets,
                         confidence_level=args.confidence_level,
                         pairs="all" if args.all_pairs else "reference")
    else:
        if args.bootstrap < 20:
            raise InputError(f"--bootstrap {args.bootstrap}: the intervals of a parametric "
                             "comparison come from the bootstrap; give at least 20 resamples")
        result = compare(runs, reference, groups=args.group, form=args.form,
                         shared=_names(args.shared), budgets=args.budgets, losses=args.losses,
                         n_resamples=args.bootstrap, confidence_level=args.confidence_level,
                         rng=args.seed, pairs="all" if args.all_pairs else "reference",
                         flops_per_token=args.flops_per_token, n_jobs=worker_count(args.jobs),
                         progress=show_progress())
    document = result.to_dict()
    print(json.dumps(document, indent=2) if args.json else result.summary())
    if args.out:
        with output_file(args.out) as tmp:
            result.save(tmp, force=True)  # --out was checked with --force
    if figure is not None:
        import matplotlib

        matplotlib.use("Agg")
        from ..plot.compare import compare_groups

        fig = compare_groups(result, runs)[0].figure
        save_figure(fig, figure)
        print(figure)
    return 0


def register(sub) -> None:
    """Add the compare subcommand."""
    p = sub.add_parser(
        "compare", help="compare groups of runs with a reference: multipliers, exponents, test",
        description="Fit the law to every group of runs (a recipe, a setting, a data mixture) "
                    "and compare each group with a reference group: the effective-compute "
                    "multiplier (the compute the reference needs to reach the group's loss, "
                    "divided by the group's) at --budgets or --losses, the differences of "
                    "the exponents and of the compute-optimal allocation exponents with "
                    "bootstrap intervals (runs resampled within groups) and Holm-adjusted "
                    "p-values, and a test that every group shares the exponents. With "
                    "--approach isoflop: Hoffmann's Approach 2 per group (a, and N_opt at "
                    "--budgets). " + UNITS)
    add_data_options(p)
    add_group_option(p, help="the column whose values are the groups (e.g. setting)")
    p.add_argument("--group-column", dest="group", help=argparse.SUPPRESS)
    p.add_argument("--reference", metavar="VALUE",
                   help="the group the others are compared with (default: the first, sorted)")
    add_form_option(p)
    p.add_argument("--approach", choices=["parametric", "isoflop"], default="parametric",
                   help="compare fitted laws (default) or Approach 2 power laws of the "
                        "IsoFLOP minima")
    p.add_argument("--shared", metavar="NAMES",
                   help="parameters common to every group in the fit the multipliers come "
                        "from, e.g. E,alpha,beta (default none: separate fits)")
    p.add_argument("--budgets", "--C", "--compute", dest="budgets", type=quantity, nargs="+",
                   metavar="FLOP", help="compute budgets of the multipliers (default: the "
                                        "largest compute among the runs)")
    p.add_argument("--losses", type=positive_float, nargs="+", metavar="LOSS",
                   help="losses at which to give the multipliers (nats per token)")
    p.add_argument("--all-pairs", action="store_true",
                   help="compare every pair of groups, not only each group with the reference")
    # the same default as `isoflop --curve` (it was akima here, which then refused to
    # bootstrap without --seed-noise): one flag, one meaning
    p.add_argument("--curve", default="parabola", choices=["parabola", "poly", "akima"],
                   help="--approach isoflop: the per-budget curve of loss against log N, as "
                        "in `isoflop` (default parabola; akima, as Porian et al., needs "
                        "--seed-noise to bootstrap)")
    p.add_argument("--seed-noise", type=positive_float, default=None, metavar="SD",
                   help="--approach isoflop with --bootstrap: relative seed-to-seed SD of the "
                        "loss to resample each profile with, as in `isoflop` (e.g. 0.005; "
                        "needed with --curve akima)")
    add_bootstrap_options(p, default=200, what="the runs within each group")
    add_seed_option(p)
    add_jobs_option(p)
    add_output_options(p, "json", what="the comparison (JSON)")
    p.add_argument("--figure", metavar="PATH",
                   help="also draw loss against compute per group with the fitted frontiers "
                        f"and the multiplier against compute ({FIGURE_FORMATS})")
    p.set_defaults(func=cmd_compare)
