"""Subcommands ``curves fit``, ``predict`` and ``final``: learning-curve laws from training logs.

``scalinglaws curves fit PATH [--law mpl|momentum] --out FIT.json`` reads curves (a table,
a W&B export, a TensorBoard log folder or an MLflow store), fits the law and prints its
parameters and per-curve scores; ``scalinglaws curves predict FIT.json --schedule wsd
--steps 24000 ...`` prints the loss the fitted law predicts for a schedule not yet trained;
``scalinglaws curves final FIT.json PATH --schedules TABLE --schedule-key COLUMN`` where runs
part-way through will end (with intervals when the fit file holds bootstrap draws).
"""

from __future__ import annotations

from ..._exceptions import InputError
from ._common import (
    add_bootstrap_options,
    add_output_options,
    add_seed_option,
    key_values,
    nonnegative_int,
    output_file,
    positive_float,
    positive_int,
    print_json,
    probability,
    quantity,
    show_progress,
    write_output,
)

_LAWS = ("mpl", "momentum")

#: ``schema_version`` of the documents ``curves predict`` and ``curves final`` print
#: (``--json``) and write (``--out x.json``), stamped with their ``kind`` and the package
#: version by ``_common.print_json`` / ``write_output`` (``curves fit`` writes the curve-fit
#: document of ``outputs.io.curves``, with its own version)
PREDICT_SCHEMA_VERSION = 1
FINAL_SCHEMA_VERSION = 1


def _kind(frame) -> str:
    """The level and kind of a curve table's intervals, as its ``attrs`` say
    (``95% bootstrap percentile intervals``: percentiles of the draws' values)."""
    return f"{100 * frame.attrs['confidence_level']:g}% {frame.attrs['method']} intervals"


def _load(args):
    from ...data.curves import load_curves
    from ...laws.schedules import attach_schedules

    curves = load_curves(args.path, format=args.format, metric=args.metric, lr=args.lr,
                         run=args.run, N=args.N, tokens_per_step=args.tokens_per_step,
                         columns=key_values(args.columns, "--columns", str) or None,
                         nan_policy=args.nan_policy, duplicates=args.duplicates,
                         unsorted=args.unsorted, spikes=args.spikes, lr_policy=args.lr_policy,
                         loss_units=args.loss_units)
    for condition in args.where or []:
        if "=" not in condition:
            raise InputError(f"--where expects COLUMN=VALUE, got {condition!r}")
        given, value = (part.strip() for part in condition.split("=", 1))
        column = curves.column(given)  # the user's header works: run_name, read as run_id
        if column is None:
            raise InputError(f"--where: no column {given!r}; columns: "
                             f"{', '.join(map(str, curves.frame.columns))}")
        curves = curves.select(mask=(curves.frame[column].astype(str) == value).to_numpy())
    if args.schedules:
        if not args.schedule_key:
            raise InputError("--schedules needs --schedule-key: the column naming each run's "
                             "schedule (in both tables), or run_id")
        curves = attach_schedules(curves, args.schedules, key=args.schedule_key)
    return curves


def cmd_fit(args) -> int:
    from ...analysis.curves import curve_scores
    from ...fitting.curves import fit_curves
    from ..io.curves import curve_fit_to_dict, save_curve_fit

    curves = _load(args)
    result = fit_curves(curves, args.law, warmup=args.warmup,
                        fixed=key_values(args.fix, "--fix") or None,
                        tied=key_values(args.tie, "--tie", str) or None,
                        quadrature={"exact": True} if args.exact else None,
                        method=args.recipe)
    draws = None
    if args.bootstrap:
        from ...uncertainty.curves import bootstrap_curves

        draws = bootstrap_curves(result, curves, args.bootstrap, method=args.method,
                                 confidence_level=args.confidence_level, rng=args.seed,
                                 progress=show_progress())
    scores = curve_scores(result, curves)
    if args.json:
        import json

        print(json.dumps(curve_fit_to_dict(result, draws), indent=2))
    else:
        print(f"{curves!r}\n")
        print(result.summary())
        if draws is not None:
            print(f"\n{draws.describe()}")
            for name, (low, high) in draws.intervals.items():
                print(f"  {name:<10} [{low:.6g}, {high:.6g}]")
        print("\nper-curve scores on the fitted curves (loss scale):")
        print(_text(scores))
    if args.out:
        with output_file(args.out) as tmp:
            save_curve_fit(result, tmp, draws, force=True)  # --out: checked
        if not args.json:
            print(f"\nwrote {args.out}")
    return 0 if result.success else 1


def cmd_predict(args) -> int:
    import dataclasses

    from ...analysis.curves import predict_curve
    from ...laws.schedules import Schedule
    from ..io.curves import load_curve_bootstrap, load_curve_fit

    result = load_curve_fit(args.fit)
    spec = {"kind": args.schedule, "total_steps": args.steps, "peak_lr": args.peak_lr,
            "warmup_steps": args.warmup_steps, "final_lr": args.final_lr,
            "decay_start": args.decay_start, "decay_shape": args.decay_shape,
            "milestones": args.milestones, "factor": args.factor}
    if args.decay_steps is not None:  # checked in its own terms, not as the decay_start
        # it becomes (which the user never typed)
        if args.decay_start is not None:
            raise InputError("give --decay-start or --decay-steps, not both")
        if args.schedule not in ("wsd", "two_stage"):
            raise InputError(f"--decay-steps applies to a wsd schedule (the length of its "
                             f"decay; two_stage: of its second stage), not to {args.schedule}")
        room = args.steps - args.warmup_steps
        if room < 0:  # the first mistake, not the negative room it leaves the decay
            raise InputError(f"--warmup-steps {args.warmup_steps} is longer than --steps "
                             f"{args.steps}")
        if args.decay_steps > room:
            raise InputError(f"--decay-steps {args.decay_steps} is longer than the {room} steps "
                             f"after warmup (--steps {args.steps} minus --warmup-steps "
                             f"{args.warmup_steps})")
        spec["decay_start"] = args.steps - args.decay_steps
    if args.schedule == "wsd" and spec["decay_shape"] is None:
        spec["decay_shape"] = "linear"
    schedule = Schedule.from_spec({k: v for k, v in spec.items() if v is not None},
                                  where="the schedule options")
    steps = None
    if args.at:
        steps = sorted(set(args.at))
    elif args.every:
        steps = sorted(set(range(args.every, args.steps, args.every)) | {args.steps - 1})
    draws = load_curve_bootstrap(args.fit)
    if draws is not None and args.confidence_level is not None:
        draws = dataclasses.replace(draws, confidence_level=args.confidence_level)
    prediction = predict_curve(result, schedule, steps=steps, N=args.N, draws=draws)
    frame = prediction.to_frame()
    if "low" in frame.columns:
        frame = frame.rename(columns={"low": "loss_low", "high": "loss_high"})
    if args.json:
        print_json(args, frame)
    else:
        print(_text(frame))
        if draws is not None:
            print(f"\nloss_low, loss_high: {_kind(frame)}, a confidence band of the law's "
                  "curve (parameter uncertainty, not an interval for one logged loss)\n"
                  f"  from the fit's bootstrap: {draws.describe()}")
        elif args.confidence_level is not None:
            print("\nno band: the fit file holds no bootstrap draws "
                  "(`curves fit --bootstrap N --out FIT`)")
    write_output(args, frame)
    return 0


def cmd_final(args) -> int:
    import dataclasses

    from ...analysis.curves import predict_final
    from ..io.curves import load_curve_bootstrap, load_curve_fit

    result = load_curve_fit(args.fit)
    draws = load_curve_bootstrap(args.fit)
    curves = _load(args)
    logged = None
    if args.seen is not None:
        # a back-test: each finished run is predicted at its last logged step, beside the
        # loss logged there, from its points up to the fraction seen
        logged = {run: (int(curves.steps(run)[-1]), float(curves.loss(run)[-1]))
                  for run in curves.runs}
        curves = curves.with_schedules({run: curves.lr_array(run)[:step + 1]
                                        for run, (step, _) in logged.items()})
        curves = curves.truncate(args.seen)
    refit = () if args.no_refit else tuple(args.refit)
    frame = predict_final(result, curves, refit=refit, draws=draws,
                          confidence_level=args.confidence_level,
                          block_length=args.block_length, rng=args.seed,
                          **({"run_noise": args.run_noise} if args.run_noise else {}))
    if logged is not None:
        frame["logged_loss"] = [logged[run][1] for run in frame["run_id"]]
        frame["error"] = frame["final_loss"] / frame["logged_loss"] - 1
    if args.json:
        print_json(args, frame)
    else:
        print(_text(frame))
        if draws is not None:
            if args.confidence_level is not None:
                draws = dataclasses.replace(draws, confidence_level=args.confidence_level)
            refitted = (f"; each draw's {', '.join(refit)} refitted on the run's own points, "
                        f"their noise redrawn by {frame.attrs['run_points']}") \
                if refit and frame.attrs.get("run_points") else ""
            print(f"\nfinal_low, final_high: {_kind(frame)} of the law's final loss (not of "
                  f"one logged value; {_coverage_note(frame)}){refitted}\n  from the fit's "
                  f"bootstrap: {draws.describe()}")
        else:
            print("\nno interval: the fit file holds no bootstrap draws "
                  "(`curves fit --bootstrap N --out FIT`)")
        if logged is not None:
            print(f"back-test: each run seen to {args.seen:g} of its last logged step, "
                  "predicted at that step; error = final_loss / logged_loss - 1")
    write_output(args, frame)
    return 0


def _coverage_note(frame) -> str:
    """How such intervals covered (README, "Where will a run end?"): the defaults, the law's
    draws and the run's noise both by the AR(1) sieve, held the truth at their level in
    simulations where the law holds; moving blocks fell short; on real curves the law's
    misfit is in neither."""
    from ...analysis.curve_final import RUN_POINTS

    law_draws, run_points = frame.attrs.get("resampling"), frame.attrs.get("run_points")
    if law_draws == "ar1" and run_points == RUN_POINTS["ar1"]:
        return ("at its level in simulations where the law holds, but the law's own misfit "
                "is not in it: on Luo et al.'s curves it held 18 of 54 logged last losses; "
                "see the README")
    if law_draws == "blocks" or run_points == RUN_POINTS["blocks"]:
        return "moving blocks: below nominal coverage in simulations, see the README"
    return "see the README for its coverage"


def _text(frame) -> str:
    """A table for the terminal: steps and counts as integers, scores to 6 digits (R² of
    0.99993 stays 0.99993)."""
    return frame.to_string(index=False, float_format=lambda v: f"{v:.6g}")


def _help(parser):
    def show(args) -> int:
        parser.print_help()
        return 2
    return show


def _add_load_options(f) -> None:
    """PATH and the options that read curves and attach their schedules (fit, final)."""
    f.add_argument("path", metavar="PATH",
                   help="curves: a table (.csv .tsv .json .jsonl .parquet, W&B export), a "
                        "TensorBoard log folder or an MLflow store")
    f.add_argument("--format", help="csv, tsv, json, jsonl, parquet, tensorboard or mlflow "
                                    "(default: from the path)")
    f.add_argument("--metric", help="the column, tag or metric holding the loss")
    f.add_argument("--lr", help="the column, tag or metric holding the learning rate")
    f.add_argument("--loss-units", choices=["nats", "bits", "perplexity"],
                   help="what the loss holds, converted to nats per token (bits x ln 2, "
                        "ln(perplexity)); giving it silences the warning about a loss named "
                        "or sized like a perplexity or bits (default: nats)")
    f.add_argument("--columns", action="append", metavar="NAME=COLUMN",
                   help="map canonical names (run_id, step, loss, lr, tokens, N) to columns")
    f.add_argument("--run", help="run id of a table without a run column")
    f.add_argument("--N", type=quantity, help="parameters of every run (e.g. 100M)")
    f.add_argument("--tokens-per-step", type=positive_float, metavar="K",
                   help="tokens per optimizer step (batch size x sequence length): tokens "
                        "= step x K without a tokens column, step = tokens / K without a "
                        "step column")
    f.add_argument("--schedules", metavar="TABLE",
                   help="a table of schedules (kind, total_steps, peak_lr, warmup_steps, "
                        "final_lr, decay_start, decay_shape...), one row per schedule")
    f.add_argument("--schedule-key", metavar="COLUMN",
                   help="the column naming each run's schedule, in both tables (run_id: by "
                        "run id)")
    f.add_argument("--where", action="append", metavar="COLUMN=VALUE",
                   help="keep only the points where COLUMN equals VALUE (repeatable)")
    f.add_argument("--nan-policy", choices=["auto", "raise", "omit"], default="auto",
                   help="rows without a loss: raise, or omit (auto: omit for W&B and "
                        "TensorBoard/MLflow logs, raise otherwise)")
    f.add_argument("--duplicates", choices=["raise", "first", "last", "mean"], default="raise",
                   help="a step logged twice in a run (default raise)")
    f.add_argument("--unsorted", choices=["raise", "sort"], default="raise",
                   help="steps that go backwards in a run (default raise)")
    f.add_argument("--spikes", choices=["warn", "keep", "omit", "raise"], default="warn",
                   help="losses well above their neighbours (default warn and keep)")
    f.add_argument("--lr-policy", choices=["exact", "interpolate"], default="exact",
                   help="steps whose LR was not logged: refuse, or interpolate")


def register(sub) -> None:
    """Add ``curves fit``, ``curves predict`` and ``curves final``."""
    p = sub.add_parser("curves", help="learning curves: fit a schedule-aware law (Multi-Power "
                                      "Law, momentum law) and predict new schedules",
                       description="Fit learning-curve laws to training logs and predict the "
                                   "loss of schedules and runs not yet trained. Loss in "
                                   "nats/token; steps are optimizer steps.")
    p.set_defaults(func=_help(p))
    actions = p.add_subparsers(dest="curves_command", metavar="ACTION")

    f = actions.add_parser("fit", help="fit a curve law to training curves",
                           description="Fit the Multi-Power Law (Luo et al. 2025) or the "
                                       "momentum law (Tissue et al. 2024) by Huber(1e-3) on log "
                                       "loss to every logged point of every curve.")
    _add_load_options(f)
    f.add_argument("--law", choices=_LAWS, default="mpl", help="the law (default mpl)")
    f.add_argument("--warmup", choices=["include", "exclude"],
                   help="whether the warmup's LR rise enters the loss-drop sum (default: mpl "
                        "include, as Luo et al.'s code; momentum exclude)")
    f.add_argument("--fix", action="append", metavar="NAME=VALUE",
                   help="hold a parameter at a value, e.g. --fix lambda=0.999")
    f.add_argument("--tie", action="append", metavar="NAME=OTHER",
                   help="set a parameter equal to another, e.g. --tie gamma=beta")
    f.add_argument("--exact", action="store_true",
                   help="exact loss-drop sums (slow) instead of the default quadrature")
    f.add_argument("--recipe", choices=["optimum", "luo2025"], default="optimum",
                   help="optimum: the optimum of the objective (default); luo2025: Luo et "
                        "al.'s own early-stopped AdamW recipe for the mpl law, to reproduce "
                        "their published fits (about 30 s per 3 curves; not an optimum: "
                        "exit status 1 and a warning say so)")
    add_bootstrap_options(f, what="the curves (--method says how)")
    # (--run-noise, curves final's name for its ar1/blocks choice, is accepted here too)
    f.add_argument("--method", "--run-noise", choices=["ar1", "blocks", "curves", "points"],
                   default="ar1",
                   help="what the bootstrap resamples: ar1 (the default): each curve's noise "
                        "redrawn by an AR(1) sieve around the fitted curve (covers near "
                        "nominal in simulations where blocks fall short: README); blocks: "
                        "moving blocks of consecutive points (the default before); curves: "
                        "whole curves (warns below 8 curves: few distinct resamples); points: "
                        "single points (warns: correlated points, too narrow; for comparison "
                        "only)")
    add_seed_option(f)
    add_output_options(f, "json", what="the fit (JSON, with the bootstrap draws)")
    f.set_defaults(func=cmd_fit)

    q = actions.add_parser("predict", help="predict the curve of a schedule from a curve fit",
                           description="Predict the loss (nats/token) at steps of a schedule "
                                       "from a curve fit saved with `curves fit --out`.")
    q.add_argument("fit", metavar="FIT", help="curve fit JSON written by `curves fit --out`")
    q.add_argument("--schedule", required=True,
                   choices=["constant", "cosine", "linear", "wsd", "two_stage", "step"],
                   help="the schedule's kind (LR after a linear warmup from 0)")
    q.add_argument("--steps", type=positive_int, required=True, metavar="T",
                   help="total optimizer steps of the run")
    q.add_argument("--peak-lr", type=positive_float, required=True, metavar="LR",
                   help="the LR after warmup")
    q.add_argument("--final-lr", type=float, metavar="LR",
                   help="LR the decay ends at (cosine, linear, wsd) or of the second stage")
    q.add_argument("--warmup-steps", type=nonnegative_int, default=0, metavar="W",
                   help="steps of linear warmup from 0 (default 0)")
    q.add_argument("--decay-start", type=nonnegative_int, metavar="STEP",
                   help="wsd: step where the decay starts; two_stage: where the second "
                        "stage starts")
    q.add_argument("--decay-steps", type=nonnegative_int, metavar="STEPS",
                   help="wsd: length of the decay at the end of the run")
    q.add_argument("--decay-shape", choices=["exponential", "linear", "cosine", "sqrt"],
                   help="wsd: shape of the decay (default linear)")
    q.add_argument("--milestones", type=nonnegative_int, nargs="+", metavar="STEP",
                   help="step: the steps where the LR is multiplied by --factor")
    q.add_argument("--factor", type=positive_float,
                   help="step: the multiplier at each milestone")
    q.add_argument("--N", type=quantity, help="model size (parameters, e.g. 100M), for a "
                   "size-scaled law or a user law of N")
    where = q.add_mutually_exclusive_group()
    where.add_argument("--every", type=positive_int, metavar="K",
                       help="predict every K steps and at the last step")
    where.add_argument("--at", type=nonnegative_int, nargs="+", metavar="STEP",
                       help="predict at these steps (default: 101 steps from the end of "
                            "warmup to the last step)")
    q.add_argument("--confidence-level", type=probability, metavar="P",
                   help="two-sided level of the band (default: the fit file's draws')")
    add_output_options(q, None, what="the predicted curve",
                       schema_version=PREDICT_SCHEMA_VERSION)
    q.set_defaults(func=cmd_predict)

    e = actions.add_parser("final", help="where runs part-way through will end",
                           description="Predict the final loss (nats/token) of runs part-way "
                                       "through: the law of a curve fit (`curves fit --out`, "
                                       "fitted on finished runs), with --refit parameters "
                                       "(default L0, a run-specific offset) refitted on each "
                                       "run's points so far, at the last step of the run's "
                                       "planned schedule (--schedules). With bootstrap draws "
                                       "in FIT, a percentile interval per run.")
    e.add_argument("fit", metavar="FIT", help="curve fit JSON written by `curves fit --out` "
                                              "(with --bootstrap N for intervals)")
    _add_load_options(e)
    which = e.add_mutually_exclusive_group()
    which.add_argument("--refit", nargs="+", default=["L0"], metavar="NAME",
                       help="parameters refitted on each run's own points (default L0)")
    which.add_argument("--no-refit", action="store_true",
                       help="refit nothing: the law's parameters as fitted")
    e.add_argument("--seen", type=probability, metavar="F",
                   help="back-test on finished runs: keep each run's points up to this "
                        "fraction of its last logged step (e.g. 0.5) and predict the loss at "
                        "that last logged step, printed beside the logged one (logged_loss, "
                        "error)")
    e.add_argument("--confidence-level", type=probability, metavar="P",
                   help="two-sided level of the intervals (default: the fit file's draws')")
    # (--method, curves fit's name for the same ar1/blocks choice, is accepted here too)
    e.add_argument("--run-noise", "--method", choices=("ar1", "blocks"), default=None,
                   help="how each draw redraws the run's own noise before refitting: ar1, a "
                        "studentized AR(1) sieve bootstrap of its residuals (default), or "
                        "blocks, moving blocks of its points")
    e.add_argument("--block-length", type=positive_int, metavar="K",
                   help="points per block with --run-noise blocks (implies it; default: "
                        "from the autocorrelation of the run's residuals)")
    add_seed_option(e)
    add_output_options(e, None, what="the table of final losses",
                       schema_version=FINAL_SCHEMA_VERSION)
    e.set_defaults(func=cmd_final)
