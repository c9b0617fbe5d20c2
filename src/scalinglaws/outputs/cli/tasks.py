"""Subcommand tasks: predict downstream task accuracy with a two-step law.

    scalinglaws tasks fit PATH --target N=13.2B,D=5T [--preset ladder] [--bootstrap 200]
    scalinglaws tasks fit PATH --target-run olmo2-13B-5T --verdicts --out preds.json

PATH is a long table of evaluations (one row per run, checkpoint and task: task loss,
accuracy, chance; see ``scalinglaws.data.tasks.load_tasks``).
"""

from __future__ import annotations

import argparse
import json

from ..._exceptions import InputError
from ._common import (
    FIGURE_FORMATS,
    _quantity,
    add_bootstrap_options,
    add_data_options,
    add_output_options,
    add_seed_option,
    delimiter,
    fraction,
    key_values,
    output_file,
    positive_float,
    show_progress,
    write_output,
    save_figure,)

_DESCRIPTION = (
    "Predict the accuracy of a target model on downstream tasks from a ladder of small runs: "
    "step 1 fits the task loss as a law of (N, D), step 2 the accuracy as a function of the "
    "task loss, and the prediction chains them. The preset says which runs, points and laws "
    "(ladder: the OLMo ladder's procedure, Bhagia et al. 2024). Accuracies are fractions, "
    "errors points (100 x fraction); N = parameters, D = training tokens.")


def _table(args):
    from ...data.tasks import load_tasks

    if args.exclude_top_loss:
        raise InputError("--exclude-top-loss applies to tables of runs, not to task tables")
    if args.loss_units is not None:
        raise InputError("--loss-units converts the loss of a table of runs to nats per token; "
                         "a task table's task loss (bits per byte of the answer, for the OLMo "
                         "ladder) is fitted in the units it is given")
    # NAME= (nothing after =) says the table has no such column: run_id= makes each (N, D)
    # a run of its own, which load_tasks otherwise refuses when one N has several D
    columns = {name: column or None
               for name, column in key_values(args.columns, "--columns", str).items()}
    return load_tasks(args.path, columns=columns or None,
                      flops_per_token=args.flops_per_token, nan_policy=args.nan_policy,
                      zero_tokens=args.zero_tokens, format=args.format,
                      sep=delimiter(args.sep), duplicates=args.duplicates)


def _target(args) -> dict:
    target = key_values(args.target, "--target", _quantity)
    unknown = [name for name in target if name not in ("N", "D")]
    if unknown:  # case-sensitive, as the flags --N and --D of the other commands
        hint = ("; the names are N and D, in capitals (as the flags --N and --D)"
                if {name.upper() for name in unknown} & {"N", "D"} else "")
        raise InputError(f"--target takes N=... and D=..., not {', '.join(unknown)}{hint}")
    if args.target_run is None and set(target) != {"N", "D"}:
        raise InputError("give --target N=...,D=... (e.g. N=13.2B,D=5T) or --target-run RUN")
    return target


def cmd_tasks_fit(args) -> int:
    from ...analysis.downstream import fit_downstream
    from ...analysis.downstream_predict import predict_tasks
    from ...analysis.downstream_preset import PRESETS

    target = _target(args)
    table = _table(args)
    if args.target_run is not None:  # a run the table lacks: said before the fits, not after
        table.only(runs=[args.target_run])
    overrides = {}
    if args.fit_runs is not None:
        overrides["fit_runs"] = args.fit_runs or None
    if args.step2_drop_fraction is not None:
        overrides["step2_drop_fraction"] = args.step2_drop_fraction
    if args.preset not in PRESETS:
        raise InputError(f"--preset must be one of {', '.join(sorted(PRESETS))}, got "
                         f"{args.preset!r}")
    fit = fit_downstream(table, PRESETS[args.preset], tasks=args.tasks, **overrides)
    predictions = predict_tasks(fit, target.get("N"), target.get("D"), run=args.target_run,
                                table=table if args.target_run else None,
                                n_resamples=args.bootstrap, rng=args.seed,
                                confidence_level=args.confidence_level,
                                verdicts=True if args.verdicts else None,
                                tolerance=args.tolerance, progress=show_progress())
    from ..io.tasks import predictions_to_dict, save_predictions

    if args.json:
        print(json.dumps(predictions_to_dict(predictions), indent=2))
    else:
        print(f"{table!r}\n")
        print(predictions.summary())
    if args.out:
        if args.out.lower().endswith(".json") or (  # or --json into /dev/stdout: as printed
                args.json and not args.out.lower().endswith((".csv", ".tsv"))):
            with output_file(args.out) as tmp:
                save_predictions(predictions, tmp, force=True)
        else:
            write_output(args, predictions.frame)
        if not args.json:
            print(f"\nwrote {args.out}")
    if args.figure:
        from ..plot.tasks import task_accuracy_grid

        figure = task_accuracy_grid(fit, predictions=predictions)
        save_figure(figure, args.figure, dpi=110)
        if not args.json:
            print(f"wrote {args.figure}")
    failed = [task for task, part in fit.fits.items()
              if part.step1.status >= 2 or part.step2.status >= 2]
    return 1 if failed else 0


def register(sub) -> None:
    """Add the ``tasks`` group of subcommands (imports nothing heavy: --help stays fast)."""
    group = sub.add_parser("tasks", help="predict downstream task accuracy (two-step laws)",
                           description=_DESCRIPTION)
    commands = group.add_subparsers(dest="tasks_command", metavar="COMMAND")
    commands.required = True
    p = commands.add_parser("fit", help="fit both steps on a ladder and predict a target",
                            description=_DESCRIPTION)
    add_data_options(p)
    # the shared options speak of a runs table; say what a task table's are
    p._option_string_actions["--columns"].help = (
        "map canonical names (task, task_loss, accuracy, chance, run_id, N, D, C, step) to "
        "your column names, e.g. --columns accuracy=acc_norm,run_id=model; NAME= says there "
        "is no such column (run_id= makes each (N, D) a run of its own)")
    next(action for action in p._actions if action.dest == "path").help = (
        "task table, one row per run, checkpoint and task: .csv, .tsv, .json, .jsonl or "
        ".parquet")
    for refused in ("--exclude-top-loss", "--loss-units"):  # see _table: not listed
        p._option_string_actions[refused].help = argparse.SUPPRESS
    # a repeated row is a second copy of one checkpoint, which a task table refuses anyway
    p.set_defaults(duplicates="raise")
    p._option_string_actions["--duplicates"].choices = ["raise", "drop"]
    p._option_string_actions["--duplicates"].help = (
        "rows repeating an earlier row in every column (a log appended twice): refuse them "
        "(default), or drop all but the first (with a warning)")
    p.add_argument("--target", action="append", metavar="N=...,D=...",
                   help="the target model: parameters and tokens with unit suffixes, e.g. "
                        "--target N=13.2B,D=5T")
    hint = ("the target model is one flag here: --target N=7B,D=140B (several targets: "
            "repeat --target)")
    p.flag_hints.update({"--n": hint, "--d": hint})
    p.add_argument("--target-run", metavar="RUN",
                   help="a run of the table to compare with (its N and D unless --target "
                        "gives them): what it reached, and the errors")
    p.add_argument("--preset", default="ladder",
                   help="the procedure (default ladder: Bhagia et al. 2024's OLMo ladder)")
    p.add_argument("--tasks", nargs="+", metavar="TASK",
                   help="the tasks to predict (default: the preset's)")
    p.add_argument("--fit-runs", metavar="EXPR",
                   help="which runs to fit, as a query on the table's columns (default: the "
                        "preset's, e.g. \"paper_role == 'ladder_fit'\"; '' fits every run)")
    p.add_argument("--step2-drop-fraction", type=fraction, metavar="F",
                   help="step 2 fits each run's checkpoints after dropping its first ceil(F n) "
                        "of n (default: the preset's, 0.1 for ladder; 0 keeps a table's one "
                        "evaluation per run)")
    add_bootstrap_options(p, what="the ladder's runs (each with its block of checkpoints)")
    p.add_argument("--verdicts", action="store_true",
                   help="judge each task's predictability (a rollout inside the ladder and "
                        "checkpoint noise)")
    p.add_argument("--tolerance", type=positive_float, default=2.0, metavar="POINTS",
                   help="accuracy points a prediction may miss by, for the verdicts (default 2)")
    add_seed_option(p)
    p.add_argument("--figure", metavar="PNG",
                   help=f"also draw accuracy against task loss, one panel per task "
                        f"({FIGURE_FORMATS})")
    add_output_options(p, None, what="the prediction table")
    p.set_defaults(func=cmd_tasks_fit)
