"""Subcommands fit, predict, optimal, diagnose: fit a law and use it (``generate`` and
``forms``, the synthetic sweeps and the laws, are :mod:`.catalog`'s)."""

from __future__ import annotations

import argparse
import json
import os

from ..._exceptions import InputError
from ._common import (UNITS, add_bootstrap_options, add_cluster_option,
                      add_confidence_level_option, add_data_options, add_fit_argument,
                      add_flops_per_token_option, add_form_option, add_group_option,
                      add_jobs_option, add_output_options,
                      add_quantity_options, add_seed_option, key_values, output_file,
                      quantity_flag,
                      nonnegative_int, positive_float, print_json, quantities,
                      runs_from_args, show_progress, worker_count, write_output,
                      clusters_from_flag)
from ._runs import flops_per_token_for, with_row_selection
from ._tables import format_table, interval_line

#: ``schema_version`` of the JSON documents ``predict``, ``optimal`` and ``diagnose`` print
#: (``--json``) and write (``--out x.json``); ``_common.print_json`` / ``write_output``
#: stamp it with the ``kind`` and the package version. ``diagnose`` 2: its intervals are
#: said as every document says them, ``interval`` (the kind) and ``method``, and the
#: closed-form or numerical solution is ``solution`` (1, unversioned: ``interval_method``,
#: and ``method`` for the solution)
PREDICT_SCHEMA_VERSION = 1
OPTIMAL_SCHEMA_VERSION = 1
DIAGNOSE_SCHEMA_VERSION = 2


def cmd_fit(args) -> int:
    from ...fitting.estimator import fit

    # --resamples is the old spelling of --bootstrap (unlisted): one number of resamples
    if None not in (args.bootstrap, args.resamples) and args.bootstrap != args.resamples:
        raise InputError(f"--bootstrap {args.bootstrap} and --resamples {args.resamples} ask for "
                         "two numbers of resamples; give --bootstrap N alone")
    resamples = args.bootstrap if args.bootstrap is not None else args.resamples
    if args.uncertainty and resamples is None:
        resamples = 1000
    _refuse_unused_fit_flags(args, resamples)
    _refuse_replacing_more(args, resamples)
    fixed = key_values(args.fix, "--fix") or None
    tied = key_values(args.tie, "--tie", str) or None
    runs = runs_from_args(args)
    delta = 1e-3 if args.delta is None else args.delta
    result = fit(runs, args.form, loss=args.loss, delta=delta, space=args.space,
                 fixed=fixed, tied=tied, preset=args.preset)
    # the file says which rows of PATH were fitted (--nan-policy, --exclude-top-loss...)
    result = with_row_selection(result, args, runs)
    law = result
    if args.uncertainty:
        from ...uncertainty.calibrated import calibrate

        # calibrate's own bootstrap takes neither a level, a method nor strata: the same
        # bootstrap (same seed, same draws) is made below with them and attached
        law = calibrate(result, runs, n_resamples=0, rng=args.seed,
                        axis=args.axis or "C", scatter=args.scatter, replicates=args.replicates,
                        n_jobs=worker_count(args.jobs), progress=show_progress(),
                        clusters=clusters_from_flag(args.cluster))
    if resamples:
        law = law.with_bootstrap(_bootstrap(args, result, runs, resamples))
    _show_fit(args, runs, result, law)
    return 0 if result.success else 1


def _refuse_replacing_more(args, resamples) -> None:
    """``--out`` naming a fit that carries a bootstrap or a calibration this fit will not
    have (minutes of resampling): replaced only with ``--force``, as the README's --out row
    says. The shared check (``_files.check_output_path``) replaces a document of the same
    kind unasked (re-running a command replaces its own), and every fit is a fit."""
    if not args.out or args.force or not os.path.isfile(args.out):
        return
    try:
        with open(args.out, "rb") as handle:
            head = handle.read(1)
            doc = json.loads(head + handle.read()) if head == b"{" else None
    except (OSError, ValueError, RecursionError):
        return  # not a JSON document: the shared check has judged it
    if not isinstance(doc, dict) or doc.get("kind") != "scalinglaws.fit":
        return
    boot = doc.get("bootstrap")
    lost = [*([f"its bootstrap ({boot.get('n_resamples', '?')} resamples)"]
              if isinstance(boot, dict) and not resamples else []),
            *(["its calibration (fit --uncertainty)"]
              if doc.get("uncertainty") and not args.uncertainty else [])]
    if lost:
        raise InputError(f"--out {args.out!r} holds a fit with {' and '.join(lost)}, which this "
                         "fit, without them, would replace; choose another name or pass "
                         "--force to replace it")


def _bootstrap(args, result, runs, resamples):
    """The bootstrap of ``fit`` (also of ``fit --uncertainty``): ``resamples`` resamples
    with the flags' seed, workers, interval method, level and strata."""
    from ...uncertainty.bootstrap import bootstrap

    level = 0.95 if args.confidence_level is None else args.confidence_level
    return bootstrap(result, runs, resamples, rng=args.seed, n_jobs=worker_count(args.jobs),
                     method=args.ci_method or "percentile", confidence_level=level,
                     groups=args.group, clusters=clusters_from_flag(args.cluster),
                     progress=show_progress())


def _show_fit(args, runs, result, law) -> None:
    """Print ``law`` (the fit, or the calibrated fit, with any bootstrap) as its JSON or
    the runs, the rows left out and its summary, and write it to ``--out``."""
    from ..io import save, to_json

    if args.json:
        print(to_json(law))
    else:
        print(f"{runs!r}{_selection_text(result)}\n")
        print(law.summary())
    if args.out:
        with output_file(args.out) as tmp:
            save(law, tmp, force=True)  # --out was checked with --force
        if not args.json:
            print(f"\nwrote {args.out}")


def _selection_text(result) -> str:
    """The rows of the table left out of the fit (recorded in the file's options.rows)."""
    from ...data.selection import left_out_text

    text = left_out_text(result.options.get("rows") or {})
    return f"\nnot fitted: {text}" if text else ""


def _refuse_unused_fit_flags(args, resamples) -> None:
    """One clear line for a flag of ``fit`` that the other flags leave without effect
    (typed, it would otherwise be accepted and ignored)."""
    if args.delta is not None and args.loss != "huber":
        raise InputError(f"--delta is the Huber threshold: it has no effect with --loss "
                         f"{args.loss}")
    if not args.uncertainty:
        for flag, value in (("--axis", args.axis), ("--scatter", args.scatter),
                            ("--replicates", args.replicates)):
            if value is not None:
                raise InputError(f"{flag} has no effect without --uncertainty (it sets how "
                                 "the prediction intervals are calibrated)")
    if not resamples:
        why = ("with --bootstrap 0 (delta-method intervals)" if args.uncertainty
               else "without a bootstrap (--bootstrap N)")
        # --cluster also tells --uncertainty's scatter and rollout what one run is
        flags = (("--ci-method", args.ci_method), ("--group", args.group),
                 *(() if args.uncertainty else (("--cluster", args.cluster),)),
                 ("--confidence-level", args.confidence_level))
        for flag, value in flags:
            if value is not None:
                advice = ("; choose the level when predicting (predict --confidence-level)"
                          if flag == "--confidence-level" else "")
                raise InputError(f"{flag} has no effect {why}{advice}")


def _load_fit(args):
    from ..io import load

    return load(args.fit)


#: every input a built-in form takes, each with its flag (--N, --D, --C, --U, --S-min,
#: --task-loss: ``_common.add_quantity_options``); ``predict`` accepts them all
FORM_INPUTS = ("N", "D", "C", "U", "S_min", "task_loss")


def _form_inputs(args, form) -> dict:
    """The inputs ``form`` needs, from their flags; refuses a missing one and one the form
    does not take, naming the flags. For a law of N and D, --C with one of --N and --D
    stands for the other (``scalinglaws.predict`` derives it from C = k N D)."""
    given = {n for n in FORM_INPUTS if getattr(args, n, None) is not None}
    pair = {"N", "D"} <= set(form.inputs) and "C" not in form.inputs
    derived = ({"N", "D"} - given).pop() if pair and "C" in given and len({"N", "D"} & given) == 1 \
        else None
    missing = [n for n in form.inputs if n not in given and n != derived]
    no_flag = [n for n in missing if n not in FORM_INPUTS]
    if no_flag:
        raise InputError(f"form {form.name!r} takes the input{'s' * (len(no_flag) > 1)} "
                         f"{', '.join(no_flag)}, which has no command-line flag; predict in "
                         "Python: scalinglaws.load(FIT).predict(...)")
    hint = " (or --C with one of --N and --D)" if pair else ""
    if missing:
        raise InputError(f"form {form.name!r} takes {', '.join(form.inputs)}: give "
                         f"{' and '.join(quantity_flag(n) for n in missing)}{hint}")
    unused = [n for n in FORM_INPUTS if n in given and n not in form.inputs
              and not (n == "C" and derived)]
    if unused:
        raise InputError(f"form {form.name!r} takes {', '.join(form.inputs)}, not "
                         f"{' '.join(quantity_flag(n) for n in unused)}"
                         + ("; --C stands for the one of --N and --D not given"
                            if unused == ["C"] and pair else ""))
    return quantities(args, [n for n in form.inputs if n != derived] + ["C"] * bool(derived))


def cmd_predict(args) -> int:
    from ...analysis.predict import predict

    result = _load_fit(args)
    used = _form_inputs(args, result.form)
    prediction = predict(result, confidence_level=args.confidence_level, **used)
    frame = prediction.to_frame()
    _print_table(args, frame)
    method, predicted = prediction.method, None
    if prediction.interval == "prediction" and not args.json:
        # a calibrated law's method is the prediction interval's; the confidence columns
        # have their own (the draws' percentiles, with or without a restriction's allowance)
        predicted = method
        method = predict(result, confidence_level=args.confidence_level,
                         interval="confidence", **used).method
    _print_level(args, prediction.confidence_level, prediction.n_draws, method,
                 prediction_method=predicted)
    _print_restriction(args, getattr(result, "fit", result), prediction.n_draws, method)
    write_output(args, frame)
    return 0


def _print_table(args, frame) -> None:
    """The table readably, or with ``--json`` the document ``--out x.json`` writes."""
    if args.json:
        print_json(args, frame)
    else:
        print(format_table(frame))


def _print_level(args, level, n_draws, method: str, *,
                 prediction_method: str | None = None) -> None:
    """Under a table with intervals, their level and kind (a 0.8 interval looks like a
    0.95 one otherwise), in the words of the result's own ``method`` (the JSON's: a fixed
    parameter's bias excluded, a tie's widening...); ``prediction_method`` for a
    calibrated law's prediction intervals."""
    if args.json or not (n_draws or prediction_method is not None):
        return
    # every interval over draws (predict, optimal) is a percentile one, whatever method
    # the fit's bootstrap had (scalinglaws.predict warns when that differs)
    print("\n" + interval_line(level, method, n_draws))
    if prediction_method is not None:
        print(f"prediction intervals: {100 * level:g}% two-sided ({prediction_method}: "
              "delta-method parameter term, or the confidence interval where wider, plus "
              "run-to-run scatter and the rollout's extrapolation term)")


def cmd_optimal(args) -> int:
    from ...analysis.allocation import compute_optimal
    from ._optimal_analysis import optimal_of_analysis, refuse_other_document

    # FILE is a fit, or an IsoFLOP or envelope analysis (by its document's kind)
    kind = refuse_other_document(args.fit)
    if kind is not None:
        return optimal_of_analysis(args, kind)
    if args.group_value is not None:
        raise InputError(f"--group-value {args.group_value!r} picks one analysis of an "
                         f"`isoflop --by` or `envelope --by` document; {args.fit} is not one "
                         "(a fit has no groups): leave --group-value out")
    result = _load_fit(args)
    # k: --flops-per-token when typed (noted if it is not the fit's), else the fit's own
    k = flops_per_token_for(args, result)
    if "U" in result.form.inputs:
        return _data_constrained_optimal(args, result, k)
    if args.U is not None:
        raise InputError(f"--U (unique tokens) is for a data_constrained fit; form "
                         f"{result.form.name!r} takes {', '.join(result.form.inputs)}")
    budgets = quantities(args, ("C",), required=("C",))["C"]
    allocation = compute_optimal(result, budgets, flops_per_token=k,
                                 confidence_level=args.confidence_level)
    frame = allocation.to_frame()
    _print_table(args, frame)
    _print_level(args, allocation.confidence_level, allocation.n_draws,
                 allocation.interval_method)
    _print_restriction(args, getattr(result, "fit", result), allocation.n_draws,
                       allocation.interval_method, allocation=True)
    write_output(args, frame)
    return 0


def _print_restriction(args, fit, n_draws, method: str, *, allocation: bool = False) -> None:
    """Under intervals over draws of a tied or fixed fit (``predict``, ``optimal``): what
    they do with the restriction, as their ``method`` says. A plain fit's bootstrap refits
    keep it, so they hold it as exact (a reviewer read a preset extrapolate law's N_opt
    interval, 2.59-3.22B, as the data's; untied, 2.10-5.62B); a calibrated law's are
    widened to the fit without it (analysis/restricted.py) or, for a prediction, get its
    bias allowance (uncertainty/calibrated.py)."""
    if args.json or not n_draws or not (fit.tied or fit.fixed):
        return
    from ...uncertainty.delta import describe_restriction

    restriction = describe_restriction(fit.tied, fit.fixed)
    tied = dict(fit.tied)
    exponent = ("; with beta = alpha, N_opt and D_opt grow as C^0.5 exactly"
                if allocation and (tied.get("beta") == "alpha" or tied.get("alpha") == "beta")
                else "")
    if "widened" in method:
        print(f"note: the fit holds {restriction}{exponent}; the intervals are widened to the "
              "fit without it (delta method), which is what the runs say where the truth "
              "breaks it")
    elif " bias excluded" in method:
        print(f"note: the intervals hold {restriction} as exact (every bootstrap refit keeps "
              f"it{exponent}); a fit without it gives the data's own spread, and a calibrated "
              "law (fit --uncertainty) widens them to it")
    elif " + " in method and "bias" in method:
        print(f"note: the fit holds {restriction}{exponent}; the confidence intervals add an "
              "allowance for the bias it may cause, estimated from the fit without it")


def _data_constrained_optimal(args, result, k) -> int:
    """``optimal`` of a data-constrained fit: Muennighoff et al.'s allocation of each budget
    under a limit of U unique tokens, with bootstrap percentile intervals when the fit
    carries a bootstrap (``analysis.data_constrained.data_constrained_allocation``); ``k``
    is ``--flops-per-token`` when typed, else None (the fit's own)."""
    from ...analysis.data_constrained import data_constrained_allocation
    from ...laws.datablations import DataConstrained

    form = result.form
    if not isinstance(form, DataConstrained):
        raise InputError(f"form {form.name!r} takes {', '.join(form.inputs)}; `optimal` "
                         "allocates compute only for laws in N and D and for data_constrained")
    if args.U is None:
        raise InputError(f"form {form.name!r} allocates compute under a limit of unique "
                         "tokens: give --U (unique tokens available, e.g. --U 25B)")
    given = quantities(args, ("C", "U"), required=("C", "U"))
    law = getattr(result, "fit", result)  # a calibrated fit carries its FitResult
    best = data_constrained_allocation(law, given["C"], given["U"],
                                       flops_per_token=k,
                                       confidence_level=args.confidence_level)
    frame = best.to_frame()
    frame.attrs.update(form=form.name)
    _print_table(args, frame)
    if best.n_draws and not args.json:
        print(f"\nintervals: {best.interval}s (two-sided, over {best.n_draws} bootstrap "
              f"draws of the fit's parameters, {best.n_failed_draws} left out)")
    write_output(args, frame)
    return 0


def cmd_diagnose(args) -> int:
    from ...analysis.diagnose import diagnose

    result = _load_fit(args)
    models = quantities(args, ("N", "D"), required=("N", "D"))
    k = flops_per_token_for(args, result)
    diagnoses = [diagnose(result, n, d, flops_per_token=k,
                          confidence_level=args.confidence_level)
                 for n, d in zip(models["N"], models["D"])]
    documents = [_diagnosis_document(d) for d in diagnoses]
    # several models: one document naming its list, so that it carries the kind too
    document = documents[0] if len(documents) == 1 else {"models": documents}
    if args.json:
        print_json(args, document)
    else:
        print("\n\n".join(str(d) for d in diagnoses))
    write_output(args, document)
    return 0


def _diagnosis_document(diagnosis) -> dict:
    """A diagnosis as ``diagnose`` writes it: the fields of ``Diagnosis.to_dict()``, its
    intervals said as the tables' ``attrs`` say them (``interval``: "confidence", null
    without draws; ``method``: how they were made, e.g. "bootstrap percentile"), where
    ``to_dict`` has ``interval_method``, and the solution ("closed_form", "numerical")
    under ``solution``, where ``to_dict`` has ``method``."""
    attrs = diagnosis.to_frame().attrs  # the one place that says what intervals are
    document = {}
    for key, value in diagnosis.to_dict().items():
        if key == "method":
            document["solution"] = value
        elif key == "interval_method":
            document["interval"] = attrs.get("interval")
            document["method"] = attrs.get("method")
        else:
            document[key] = value
    return document


def register(sub) -> None:
    """Add this module's subcommands to the parser's subparsers."""
    p = sub.add_parser("fit", help="fit a law to a table of runs and print its coefficients",
                       description="Fit a scaling law to a table of training runs. " + UNITS)
    add_data_options(p)
    add_form_option(p)
    p.add_argument("--loss", default="huber", choices=["huber", "squared"],
                   help="loss on each residual (default huber, as Hoffmann et al.)")
    p.add_argument("--delta", type=positive_float, default=None,
                   help="Huber threshold in residual units (default 1e-3 on log residuals)")
    p.add_argument("--space", default="log", choices=["log", "linear"],
                   help="residuals log(pred) - log(loss) (default) or pred - loss")
    p.add_argument("--fix", action="append", metavar="NAME=VALUE",
                   help="hold a parameter at a value, e.g. --fix E=1.69")
    p.add_argument("--tie", action="append", metavar="NAME=OTHER",
                   help="set a parameter equal to another, e.g. --tie beta=alpha")
    p.add_argument("--preset", default="hoffmann", choices=["hoffmann", "extrapolate"],
                   help="named estimator: hoffmann (Hoffmann et al.'s objective, the default) or "
                        "extrapolate (exponents tied, beta = alpha: the better extrapolator in "
                        "the README's rollout study)")
    p.add_argument("--uncertainty", action="store_true",
                   help="also calibrate prediction intervals: bootstrap (--bootstrap N, default "
                        "1000 here; 0 = delta-method confidence intervals), run-to-run scatter "
                        "and the extrapolation error measured by a rollout of this estimator on "
                        "these runs; all saved in --out")
    p.add_argument("--resamples", type=nonnegative_int,
                   help=argparse.SUPPRESS).alias_of = "--bootstrap"
    p.add_argument("--axis", default=None, choices=["C", "N", "D"],
                   help="with --uncertainty: the axis extrapolation is measured along (default C)")
    p.add_argument("--scatter", default=None, choices=["ratio", "constant", "power"],
                   help="with --uncertainty: scatter model (default ratio: grows away from the "
                        "runs' typical tokens per parameter)")
    p.add_argument("--replicates", metavar="COLUMN",
                   help="with --uncertainty: column of seed labels; the scatter then comes from "
                        "the replicas")
    add_bootstrap_options(p, default=None)
    p.add_argument("--ci-method", default=None, choices=["percentile", "basic", "bca"],
                   help="bootstrap interval method of the parameters' intervals (default "
                        "percentile; predictions from the saved fit use percentiles)")
    add_group_option(p, help="resample runs within each value of this column (e.g. a "
                             "compute-budget label)")
    add_cluster_option(p, "the bootstrap resamples them together and, with --uncertainty, "
                          "the scatter and the rollout take whole runs")
    # None = not typed: a level, method or strata without a bootstrap is refused
    p.set_defaults(confidence_level=None)
    add_seed_option(p)
    add_jobs_option(p)
    add_output_options(p, "fit", what="the fit (JSON, with the bootstrap draws)")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("predict", help="predict losses from a saved fit",
                       description="Predict the loss (nats/token) of models from a fit saved "
                                   "with `fit --out`. Give the inputs the fit's form takes "
                                   "(`scalinglaws forms` lists them): --N (parameters) and --D "
                                   "(tokens) for chinchilla (or --C with one of them: the other "
                                   "from C = k N D, k the fit's FLOPs per token), also --U "
                                   "(unique tokens) for data_constrained, --N and --S-min (steps) for kaplan_ns, "
                                   "--C for kaplan_c, --task-loss for the task forms; lists of "
                                   "equal length pair up, a single value broadcasts. A fit "
                                   "saved with `fit "
                                   "--uncertainty` gives confidence_low/high (where the law is) "
                                   "and prediction_low/high (where one new run will land); a fit "
                                   "with a bootstrap gives confidence_low/high. " + UNITS)
    add_fit_argument(p)
    add_quantity_options(p, FORM_INPUTS)
    add_confidence_level_option(p, from_fit=True)
    add_output_options(p, None, what="the predictions",
                       schema_version=PREDICT_SCHEMA_VERSION)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("optimal", help="compute-optimal N and D for compute budgets",
                       description="Compute-optimal model size N (parameters), tokens D and the "
                                   "loss there for each budget C in FLOP (e.g. 5.76e23, Gopher's); "
                                   "intervals when the fit JSON holds a bootstrap. A "
                                   "data_constrained fit also needs --U, the unique tokens "
                                   "available: the allocation then repeats data (epochs = D/U) "
                                   "where that pays (Muennighoff et al. 2023; bootstrap "
                                   "percentile intervals when the fit holds a bootstrap). "
                                   "Also from an IsoFLOP analysis (`isoflop --out`, "
                                   "Approach 2) or an envelope analysis (`envelope --out`, "
                                   "Approach 1): N and D from its power laws through the "
                                   "optima, with the intervals it gives (the resampled "
                                   "lines', else the line's t interval) at its own level; "
                                   "--group-value VALUE picks one analysis of a --by document. "
                                   + UNITS)
    p.add_argument("fit", metavar="FILE",
                   help="a fit written by `scalinglaws fit --out`, or an analysis written by "
                        "`scalinglaws isoflop --out` or `scalinglaws envelope --out`")
    add_quantity_options(p, ("C", "U"), required=("C",),
                         help={"C": "training budgets in FLOP (1 PF-day = 8.64e19 FLOP)",
                               "U": "unique tokens available, for a data_constrained fit, "
                                    "e.g. 25B; one value, or one per budget"})
    add_flops_per_token_option(p, from_fit="")
    add_confidence_level_option(p, from_fit=True)
    p.add_argument("--group-value", metavar="VALUE",
                   help="with an `isoflop --by` or `envelope --by` document: the group whose "
                        "analysis to use (as load_isoflop(path, group=...)); without it the "
                        "error lists the groups")
    add_output_options(p, None, what="the allocation table",
                       schema_version=OPTIMAL_SCHEMA_VERSION)
    p.set_defaults(func=cmd_optimal)

    p = sub.add_parser("diagnose", help="is a trained model compute-optimal? (under-training)",
                       description="Diagnose trained models of N parameters and D tokens: "
                                   "compute, the optimal model for that compute, the budget at "
                                   "which N would be optimal and the compute an optimal model "
                                   "needs for the same loss. " + UNITS)
    add_fit_argument(p)
    add_quantity_options(p, ("N", "D"), required=("N", "D"),
                         help={"N": "parameters, e.g. 175B", "D": "training tokens, e.g. 300B"})
    add_flops_per_token_option(p, from_fit="")
    add_confidence_level_option(p, from_fit=True)
    add_output_options(p, "json", what="the diagnosis (JSON)",
                       schema_version=DIAGNOSE_SCHEMA_VERSION)
    p.set_defaults(func=cmd_diagnose)
