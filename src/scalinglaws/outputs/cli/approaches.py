"""Subcommands isoflop (Hoffmann's Approach 2), envelope (Approach 1) and backtest."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..._exceptions import InputError
from ._common import (FIGURE_FORMATS, UNITS, add_bootstrap_options, add_budget_options,
                      add_by_option, add_cluster_option, add_data_options, add_form_option,
                      add_group_option, add_output_options, add_quantity_options, add_seed_option, for_each_group, positive_float,
                      positive_int, print_json, probability, quantities, runs_from_args,
                      show_progress, write_output, save_figure, clusters_from_flag)
from ._optimal_analysis import allocation_lines
from ._tables import table_records

#: ``schema_version`` of the document ``backtest`` prints (``--json``) and writes (``--out``),
#: stamped with its ``kind`` and the package version by ``_common.print_json`` /
#: ``write_output``; ``isoflop`` and ``envelope`` write their analyses' own documents
#: (``IsoFLOPResult.to_dict``, ``EnvelopeResult.to_dict``), whose version heads a ``--by``
#: document too
BACKTEST_SCHEMA_VERSION = 1


def _budget_options(args) -> dict:
    """``--budget``, ``--n-bins``, ``--bin-width-dex`` as isoflop_fit's keyword arguments."""
    if (args.n_bins is not None or args.bin_width_dex is not None) and args.budget not in (
            None, "bin"):
        raise InputError(f"--n-bins and --bin-width-dex group runs by log compute: use them "
                         f"with --budget bin, not --budget {args.budget}")
    if args.n_bins is not None and args.bin_width_dex is not None:
        raise InputError("give --n-bins or --bin-width-dex, not both")
    budget = args.budget
    if budget is None and (args.n_bins is not None or args.bin_width_dex is not None):
        budget = "bin"
    return {"budget": budget, "n_bins": args.n_bins, "bin_width_dex": args.bin_width_dex}


def _seed_streams(args, runs):
    """``--seed`` for each ``--by`` group: group i resamples with the i-th child of the
    seed, as ``isoflop_fit(groups=...)`` does; without ``--by``, the seed itself."""
    from ..._validation import check_rng

    return iter(check_rng("--seed", args.seed).spawn(len(runs.groupby(args.by)))
                if args.by else [args.seed])


def _with_allocation(document: dict, result, budgets):
    """``isoflop --C``: the analysis' document with predict_optimal's rows at ``budgets``
    under ``optimal`` and what their intervals are (``interval``, ``method``, ``n_draws``:
    the resampled lines behind them, 0 for a t interval), as ``envelope --C`` writes them;
    and that table (None without --C, the document then the analysis' own)."""
    if budgets is None:
        return document, None
    table = result.predict_optimal(budgets)
    return {**document, "interval": table.attrs["interval"], "method": table.attrs["method"],
            "n_draws": table.attrs.get("n_draws", 0), "optimal": table_records(table)}, table


def _print_allocation(result, table) -> None:
    """The rows at --C after an analysis (``isoflop``, ``envelope``), as ``optimal`` on
    its saved document prints them."""
    if table is not None:
        print("\ncompute-optimal allocation at --C")
        print("\n".join(allocation_lines(result, table)))


def cmd_isoflop(args) -> int:
    from ...fitting.isoflop import SCHEMA_VERSION, isoflop_fit

    budget = _budget_options(args)
    budgets = quantities(args, ("C",))["C"] if args.C is not None else None
    runs = runs_from_args(args)
    documents = []
    # one call per group (so that warnings name their group), seeded as the library does
    streams = _seed_streams(args, runs)
    for key, subset in for_each_group(args, runs):
        if key is not None and not args.json:
            print(f"\n== {args.by} = {key}", flush=True)
        # (an error's budget='bin' reads as --budget bin on the command line: cli.in_flags)
        result = isoflop_fit(subset, **budget, curve=args.curve, degree=args.degree,
                             min_points=args.min_points, n_resamples=args.bootstrap,
                             seed_noise=args.seed_noise,
                             confidence_level=args.confidence_level, rng=next(streams),
                             flops_per_token=args.flops_per_token)
        document, table = _with_allocation(result.to_dict(), result, budgets)
        if args.by:  # each group drew from a child of --seed: the seed recorded is --seed's,
            # as isoflop_fit(runs, groups=..., rng=seed) records it
            document["options"]["seed"] = args.seed
            document = {"group": key, **document}
        documents.append(document)
        if not args.json:
            print(result.summary())
            _print_allocation(result, table)
    # --by: one document naming its groups (kind scalinglaws.isoflop, like one analysis,
    # so that a re-run replaces it; load_isoflop(path, group=...) reads one)
    document = {"by": args.by, "groups": documents} if args.by else documents[0]
    if args.json:
        print_json(args, document, schema_version=SCHEMA_VERSION)
    write_output(args, document, schema_version=SCHEMA_VERSION)
    return 0


#: envelope_fit's keywords -> the flags that set them, for the library's messages
_ENVELOPE_FLAGS = {"`run_column`": "--run-column", "`n_points`": "--points",
                   "pass bracket=False": "pass --no-bracket"}


def _envelope_document(result, budgets) -> tuple[dict, "object"]:
    """The analysis as the JSON document ``envelope --out x.json`` writes, and the table a
    .csv ``--out`` writes: with ``--C``, predict_optimal's N_opt and D_opt at those budgets
    (under ``optimal`` in the document), else the envelope (one row per grid compute).
    When C is the table's own FLOP column, ``flops_per_token`` is null (no one k made it)
    and ``flops_per_token_range`` gives C/(N·D) along the envelope, as ``to_dict`` says."""
    # what the intervals of an allocation from this fit are: predict_optimal's own word
    # (the bootstrap over runs when there is one, else the regression's t interval)
    probe = result.predict_optimal(budgets if budgets is not None
                                   else result.envelope["C"].max())
    document = {**result.to_dict(), "interval": "confidence", "method": probe.attrs["method"],
                "n_draws": result.options["n_resamples"]}
    if budgets is None:
        return document, result.to_frame()
    document["optimal"] = table_records(probe)
    return document, probe


def _print_envelope(result, table, budgets) -> None:
    print(result.summary())
    ratios = result.flops_per_token_range
    compute = (f"C = {result.flops_per_token:g} N D" if ratios is None else
               f"C the table's own FLOP column, not k N D: C/(N D) {ratios[0]:.3g}-"
               f"{ratios[1]:.3g} along the envelope")
    print(f"\nfitted lines (C in FLOP; N parameters, D tokens; {compute})")
    print(f"  N_opt = {result.N_coef:.4g} * C^{result.a:.4f}")
    print(f"  D_opt = {result.D_coef:.4g} * C^{result.b:.4f}")
    _print_allocation(result, table if budgets is not None else None)


def cmd_envelope(args) -> int:
    from ...fitting.envelope import SCHEMA_VERSION, envelope_fit

    budgets = quantities(args, ("C",))["C"] if args.C is not None else None
    runs = runs_from_args(args)
    if args.run_column not in runs.frame.columns:  # before any group is split off
        raise InputError(f"--run-column {args.run_column!r}: no such column; every row must "
                         "be a checkpoint of a training run, with a column naming its run "
                         f"(columns: {', '.join(map(str, runs.frame.columns))})")
    documents, tables = [], []
    streams = _seed_streams(args, runs)
    for key, subset in for_each_group(args, runs):
        if key is not None and not args.json:
            print(f"\n== {args.by} = {key}", flush=True)
        try:
            result = envelope_fit(subset, run_column=args.run_column, n_points=args.points,
                                  bracket=args.bracket, n_resamples=args.bootstrap,
                                  rng=next(streams), confidence_level=args.confidence_level,
                                  flops_per_token=args.flops_per_token)
        except InputError as exc:  # the library names its keywords; say the flags
            message = str(exc)
            for keyword, flag in _ENVELOPE_FLAGS.items():
                message = message.replace(keyword, flag)
            raise InputError(message) from None
        document, table = _envelope_document(result, budgets)
        if args.by:  # each group drew from a child of --seed: the seed recorded is --seed's
            document["options"]["seed"] = args.seed
            document = {"group": key, **document}
            table.insert(0, args.by, key)
        documents.append(document)
        tables.append(table)
        if not args.json:
            _print_envelope(result, table, budgets)
    document = {"by": args.by, "groups": documents} if args.by else documents[0]
    if args.json:
        print_json(args, document, schema_version=SCHEMA_VERSION)
    suffix = Path(args.out).suffix.lower() if args.out else ""
    if suffix in (".csv", ".tsv") or (args.out and suffix != ".json" and not args.json):
        # a table (a stream such as /dev/stdout takes it as CSV, or the document with --json)
        import pandas as pd

        write_output(args, pd.concat(tables, ignore_index=True) if args.by else tables[0],
                     schema_version=SCHEMA_VERSION)
    else:
        write_output(args, document, schema_version=SCHEMA_VERSION)
    return 0


def cmd_backtest(args) -> int:
    from ...uncertainty.backtest import backtest

    if args.holdout == "group" and not args.group:
        raise InputError("--holdout group needs --group COLUMN")
    if args.figure and not args.rollout:
        raise InputError("--figure draws a rollout: add --rollout")
    if args.cluster is not None and not args.rollout:
        # one cut holds out the runs above it whole or in part, as the Python backtest does
        raise InputError("--cluster applies with --rollout (each run on one side of every "
                         "cut): add --rollout")
    runs = runs_from_args(args)
    if args.rollout:
        result = backtest(runs, args.form, rollout=True, axis=args.axis, n_cuts=args.cuts,
                          fit_options={"preset": args.preset}, progress=show_progress(),
                          clusters=clusters_from_flag(args.cluster))
    else:
        result = backtest(runs, args.form, holdout=args.holdout, threshold=args.threshold,
                          fraction=args.fraction, group=args.group,
                          fit_options={"preset": args.preset})
    document = result.to_dict()
    if args.json:
        print_json(args, document)
    else:
        print(result.summary())
    write_output(args, document)
    if args.figure:
        import matplotlib

        matplotlib.use("Agg")
        from .. import plot

        ax = plot.rollout_errors(result)
        save_figure(ax.figure, args.figure)
        if not args.json:
            print(f"wrote {args.figure}")
    return 0


def register(sub) -> None:
    """Add this module's subcommands to the parser's subparsers."""
    p = sub.add_parser("isoflop", help="Hoffmann's Approach 2: IsoFLOP profiles -> N_opt ~ C^a",
                       description="Group runs by compute budget, fit loss against log N per "
                                   "budget, take each minimum, and fit N_opt ~ C^a and "
                                   "D_opt ~ C^b with intervals. Budgets whose minimum is not "
                                   "inside their sampled sizes are reported and excluded. "
                                   "Continuous compute values (every run its own C) need "
                                   "--budget bin with --n-bins or --bin-width-dex. " + UNITS)
    add_data_options(p)
    add_budget_options(p)
    p.add_argument("--budget-column", dest="budget", help=argparse.SUPPRESS)
    p.add_argument("--curve", default="parabola", choices=["parabola", "poly", "akima"],
                   help="per-budget curve of loss against log N (default parabola)")
    p.add_argument("--degree", type=positive_int, default=2, metavar="K",
                   help="polynomial degree for --curve poly (default 2)")
    p.add_argument("--min-points", type=positive_int, default=5, metavar="K",
                   help="fewest runs a budget needs (default 5)")
    add_quantity_options(p, ("C",), help={
        "C": "compute budgets in FLOP at which to predict N_opt (parameters) and D_opt "
             "(tokens) after the analysis, e.g. 1e22 5.76e23 (as `optimal` on its --out "
             "file; --budgets and --compute are the same flag)"})
    add_by_option(p)
    add_bootstrap_options(p, what="each budget's profile (residuals of the polynomial, or "
                               "--seed-noise)")
    p.add_argument("--seed-noise", type=positive_float, default=None, metavar="SD",
                   help="with --bootstrap: relative seed-to-seed SD of the loss to resample "
                        "each profile with (e.g. 0.005; needed with --curve akima, which has "
                        "no residuals to resample)")
    add_seed_option(p)
    add_output_options(p, "json", what="the analysis (JSON; with --C its rows under "
                                        "optimal)")
    p.set_defaults(func=cmd_isoflop)

    p = sub.add_parser("envelope", help="Hoffmann's Approach 1: minimum over training curves "
                                        "-> N_opt ~ C^a",
                       description="Every row is a checkpoint of a training run: the run's id "
                                   "(--run-column, default run_id), its size N (the same on "
                                   "every row of a run), the tokens D seen so far (or the "
                                   "compute C so far) and the loss there. Each run's loss is "
                                   "interpolated against log C, the lowest loss over the runs "
                                   "at each compute is the envelope, and N_opt ~ C^a and "
                                   "D_opt ~ C^b are fitted through the sizes attaining it. "
                                   "The envelope points are not independent: the regression's "
                                   "t intervals are far too narrow, and --bootstrap N "
                                   "(resampling whole runs) gives the intervals to quote. "
                                   + UNITS)
    add_data_options(p)
    p.add_argument("--run-column", default="run_id", metavar="COLUMN",
                   help="the column naming the training run of each checkpoint (default "
                        "run_id); N must not change within a run")
    p.add_argument("--points", type=positive_int, default=1500, metavar="K",
                   help="log-spaced compute values of the envelope (default 1500, as Hoffmann "
                        "et al.; at least 10)")
    p.add_argument("--no-bracket", dest="bracket", action="store_false",
                   help="also fit the envelope points attained by the smallest or largest "
                        "run reaching that compute (by default left out: there the optimum "
                        "may lie outside the sizes trained)")
    add_quantity_options(p, ("C",), help={
        "C": "compute budgets in FLOP at which to predict N_opt (parameters) and D_opt "
             "(tokens), e.g. 1e22 5.76e23 (--budgets and --compute are the same flag)"})
    add_by_option(p)
    add_bootstrap_options(p, what="the training runs (whole runs with all their "
                               "checkpoints; the envelope rebuilt)")
    add_seed_option(p)
    add_output_options(p, None, what="the result (a table: with --C the N_opt/D_opt rows, "
                                     "else the envelope)")
    p.set_defaults(func=cmd_envelope)

    p = sub.add_parser("backtest", help="fit on the smaller runs, predict the larger ones",
                       description="Back-test extrapolation: fit the law on the runs below a "
                                   "threshold of C (FLOP), N (parameters) or D (tokens), or "
                                   "leave one group out, and report the relative error of the "
                                   "predicted loss on the held-out runs. " + UNITS)
    add_data_options(p)
    add_form_option(p)
    p.add_argument("--holdout", default="C", choices=["C", "N", "D", "group"],
                   help="hold out by compute (default), parameters, tokens, or by group")
    p.add_argument("--threshold", type=positive_float, default=None,
                   help="hold out runs above this value (FLOP, parameters or tokens; unit "
                        "suffixes allowed)")
    p.add_argument("--fraction", type=probability, default=0.25,
                   help="without --threshold, hold out this top fraction (default 0.25)")
    add_group_option(p, help="the group column of --holdout group")
    p.add_argument("--rollout", action="store_true",
                   help="rollout: repeat the back-test with expanding windows (fit below each "
                        "of several cuts, predict everything above) and report error and bias "
                        "against the extrapolation factor")
    p.add_argument("--axis", default="C", choices=["C", "N", "D"],
                   help="with --rollout: the column the runs are cut along (default C)")
    p.add_argument("--cuts", type=positive_int, default=5, metavar="K",
                   help="with --rollout: most cuts (default 5)")
    add_cluster_option(p, "with --rollout, each run goes to one side of every cut (the side "
                          "of its largest value) and is scored once, at its last row")
    p.add_argument("--preset", default="hoffmann", choices=["hoffmann", "extrapolate"],
                   help="the estimator to back-test (see `fit --preset`)")
    p.add_argument("--figure", "--plot", metavar="FILE.png",
                   help="with --rollout: draw the errors against the extrapolation factor "
                        f"({FIGURE_FORMATS}; --plot is the former name)")
    add_output_options(p, "json", what="the back-test (JSON)",
                       schema_version=BACKTEST_SCHEMA_VERSION)
    p.set_defaults(func=cmd_backtest)
