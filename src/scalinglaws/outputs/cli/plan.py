"""Subcommand plan: which runs to train so the prediction at the target scale is as sure as
possible per FLOP (standard grid, planned grid, active design; real shapes).

    scalinglaws plan --target-compute 1e24 --sweep-budget 1e21
    scalinglaws plan --target-compute 1e24 --sweep-budget 1e21 --prior fit.json --json
    scalinglaws plan --target loss --N 7B --D 140B --sweep-budget 1e21
    scalinglaws plan --target-compute 1e24 --sweep-budget 1e21 --shapes --throughput 4e14 \\
        --out plan.csv --figure plan.png
"""

from __future__ import annotations

import argparse

from ._common import (
    FIGURE_FORMATS,
    UNITS,
    activity,
    add_flops_per_token_option,
    add_output_options,
    add_quantity_options,
    add_seed_option,
    positive_float,
    positive_int,
    print_json,
    probability,
    quantities,
    show_progress,
    write_output,
    save_figure,)

#: published priors by name (scalinglaws.analysis.prior.PUBLISHED_PRIORS, kept here so that
#: `scalinglaws --help` does not import the analysis stage)
_PUBLISHED = ("hoffmann", "epoch")

#: ``schema_version`` of the plan's document (``--json``, ``--out plan.json``), stamped with
#: its ``kind`` and the package version by ``_common.print_json`` / ``write_output``
SCHEMA_VERSION = 1


class _PriorAction(argparse.Action):
    """``--prior``: a published prior's name, or a fit file (then also an input of the
    command, so ``--out`` may not overwrite it)."""

    def __call__(self, parser, namespace, value, option_string=None):
        namespace.prior = value
        namespace.fit = None if value in _PUBLISHED else value


def _prior(args):
    """The prior, and the FLOP per token its target counts with: --flops-per-token, else
    the fit's own k (a published prior: --flops-per-token as given)."""
    from ..._exceptions import InputError
    from ...analysis.prior import prior_from_fit, published_prior

    if args.fit is None:
        return (published_prior(args.prior, scatter=args.scatter or 0.01, rng=args.seed),
                args.flops_per_token)
    import os

    if not os.path.exists(args.fit):
        raise InputError(f"--prior {args.fit!r}: neither a published prior "
                         f"({', '.join(_PUBLISHED)}) nor an existing fit file")
    from ..io import load

    law = load(args.fit)
    fit = getattr(law, "fit", law)
    # what a fit file must carry: bootstrap draws, and the scatter of a new run, which only
    # `fit --uncertainty` saves (a fit file keeps no residuals to estimate it from)
    write = (f"write it with `scalinglaws fit RUNS --uncertainty --bootstrap 200 --out "
             f"{args.fit}`")
    if getattr(law, "bootstrap", None) is None and getattr(fit, "bootstrap", None) is None:
        raise InputError(f"{args.fit}: the fit carries no bootstrap draws; {write} (the "
                         "draws and the scatter of a new run, which the planner needs)")
    if args.scatter is None and getattr(law, "scatter", None) is None \
            and getattr(fit, "residuals", None) is None:
        raise InputError(f"{args.fit}: the run-to-run scatter of a new run is unknown for "
                         f"this fit (a fit file keeps no residuals, and `fit --bootstrap` "
                         f"alone saves no scatter): {write}, or pass --scatter SD (the sd of "
                         f"log loss between runs, e.g. --scatter 0.01)")
    # the target's C = k N D counts FLOP as the fit did, unless --flops-per-token says
    from ._runs import flops_per_token_for

    k = flops_per_token_for(args, law)
    return (prior_from_fit(law, scatter=args.scatter, fresh=args.fresh),
            law.flops_per_token if k is None else k)


def _target(args, flops_per_token):
    from ..._exceptions import InputError
    from ...analysis.prior import Target

    if args.target == "loss":
        values = quantities(args, ("N", "D"), required=("N", "D"))
        if len(values["N"]) != 1:
            raise InputError("--target loss takes one model: one value each of --N and --D")
        return Target.make("loss", N=float(values["N"][0]), D=float(values["D"][0]),
                           flops_per_token=flops_per_token)
    if args.N is not None or args.D is not None:
        raise InputError(f"--N and --D go with --target loss, not --target {args.target}")
    if args.target_compute is None:
        raise InputError(f"--target {args.target} needs --target-compute FLOP (the compute of "
                         "the model the sweep is for, e.g. 1e24)")
    return Target.make(args.target, C=args.target_compute, flops_per_token=flops_per_token)


def cmd_plan(args) -> int:
    from ...analysis.plan import plan_sweep

    # (--figure is checked with --out before any work: _common.check_out)
    prior, flops_per_token = _prior(args)
    target = _target(args, flops_per_token)
    shape_options = {"accounting": args.accounting, "n_ctx": args.n_ctx, "d_head": args.d_head,
                     "width_multiple": args.width_multiple, "throughput": args.throughput}
    if args.n_vocab is not None:
        shape_options["n_vocab"] = args.n_vocab
    with activity("planning the sweep"):
        plan = plan_sweep(prior, target_compute=args.target_compute,
                          sweep_budget=args.sweep_budget, target=target, shapes=args.shapes,
                          shape_options=shape_options, max_run_compute=args.max_run_compute,
                          confidence_level=args.confidence_level, max_draws=args.max_draws,
                          rng=args.seed, progress=show_progress())
    if args.json:
        print_json(args, plan.to_dict())
    else:
        print(plan)
    if args.out:
        suffix = args.out.lower().rsplit(".", 1)[-1]
        # the runs as a table, unless the plan's document is asked for (.json, or --json
        # into a stream such as /dev/stdout: what --json prints)
        document = suffix == "json" or (args.json and suffix not in ("csv", "tsv"))
        write_output(args, plan.to_dict() if document else _runs_table(plan))
    if args.figure:
        import matplotlib

        matplotlib.use("Agg")
        from ..plot.plan import sweep_plan

        with activity("drawing the plan"):
            save_figure(sweep_plan(plan).figure, args.figure)
    return 0


def _runs_table(plan):
    """The runs of the planned grid and of the active design, one row each (with shapes)."""
    import pandas as pd

    if plan.shapes is not None:
        return plan.shapes
    parts = []
    for name, runs in (("active", plan.active.runs), ("planned", plan.planned.runs)):
        frame = runs[["N", "D", "C"]].copy()
        frame.insert(0, "design", name)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def register(sub) -> None:
    """Add the ``plan`` subcommand to the parser's subparsers."""
    p = sub.add_parser(
        "plan", help="plan a sweep: which runs pin the prediction at the target scale down "
                     "best per FLOP",
        description="Compare, at equal sweep compute, Hoffmann's IsoFLOP layout, an IsoFLOP "
                    "grid planned around the prior's optimum (bracketing it at every budget), "
                    "and runs chosen one by one for the largest variance reduction of the "
                    "target per FLOP. Widths are linearised predictions averaged over the "
                    "prior's draws. " + UNITS,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target-compute", type=positive_float, metavar="FLOP",
                   help="training compute of the model the sweep is for, e.g. 1e24 (with "
                        "--target loss: k N D of --N/--D, which it may repeat but not "
                        "contradict)")
    p.add_argument("--sweep-budget", type=positive_float, required=True, metavar="FLOP",
                   help="compute the sweep may spend, e.g. 1e21")
    p.add_argument("--prior", default="hoffmann", action=_PriorAction, metavar="NAME|FIT",
                   help="what is known: 'hoffmann' (default) or 'epoch' (published "
                        "coefficients with Besiroglu et al.'s spread), or a fit JSON with a "
                        "bootstrap (`scalinglaws fit RUNS --bootstrap 200 --out fit.json`)")
    p.set_defaults(fit=None)
    p.add_argument("--fresh", action="store_true",
                   help="with a fit: plan a new sweep fitted on its own (default: runs added "
                        "to the fitted ones)")
    p.add_argument("--target", choices=("N_opt", "loss", "exponent"), default="N_opt",
                   help="what to pin down: N_opt at --target-compute (default), the loss of "
                        "the model --N/--D, or the compute-optimal exponent")
    add_quantity_options(p, ("N", "D"), help={"N": "the model of --target loss (parameters)",
                                               "D": "its training tokens"})
    p.add_argument("--scatter", type=positive_float, default=None, metavar="SD",
                   help="run-to-run sd of log loss of a new run (default 0.01 for published "
                        "priors, and for a fit file the scatter `fit --uncertainty` saved in "
                        "it; a plain fit file keeps none and needs --scatter)")
    p.add_argument("--max-run-compute", type=positive_float, default=None, metavar="FLOP",
                   help="largest single run the active design may choose (default "
                        "sweep budget / 20)")
    p.add_argument("--max-draws", type=positive_int, default=200, metavar="M",
                   help="prior draws the criteria average over (default 200)")
    p.add_argument("--confidence-level", type=probability, default=0.95, metavar="P",
                   help="level of the widths (default 0.95)")
    add_flops_per_token_option(p, from_fit="with --prior FIT, ")
    shapes = p.add_argument_group("shapes (with --shapes)")
    shapes.add_argument("--shapes", action="store_true",
                        help="propose a real shape (layers, width, heads, batch, steps, exact "
                             "FLOP) for every run of the planned grid and the active design")
    shapes.add_argument("--accounting", choices=("hoffmann", "kaplan"), default="hoffmann",
                        help="parameter and FLOP counts (default hoffmann: embeddings counted)")
    shapes.add_argument("--n-vocab", type=positive_int, default=None, metavar="V",
                        help="vocabulary (default 32000)")
    shapes.add_argument("--n-ctx", type=positive_int, default=2048, metavar="T",
                        help="context length (default 2048)")
    shapes.add_argument("--d-head", type=positive_int, default=128, metavar="H",
                        help="head width (default 128)")
    shapes.add_argument("--width-multiple", type=positive_int, default=128, metavar="M",
                        help="d_model is a multiple of this (default 128)")
    shapes.add_argument("--throughput", type=positive_float, default=None, metavar="FLOP/S",
                        help="achieved training FLOP/s per accelerator, for accelerator-hours")
    add_seed_option(p)
    add_output_options(p, None, what="the plan or its runs",
                       schema_version=SCHEMA_VERSION)
    p.add_argument("--figure", metavar="PATH",
                   help=f"draw the runs over the prior's loss landscape ({FIGURE_FORMATS})")
    p.set_defaults(func=cmd_plan)


__all__ = ["cmd_plan", "register"]
