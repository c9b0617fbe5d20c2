"""Subcommands fit, predict, optimal, diagnose, generate, forms: fit a law and use it."""

from __future__ import annotations

import json

import numpy as np

from ..._exceptions import InputError
from ._common import (UNITS, add_data_options, key_values, runs_from_args,
                      print_table)


def cmd_fit(args) -> int:
    from ...fitting.estimator import fit

    runs = runs_from_args(args)
    result = fit(runs, args.form, loss=args.loss, delta=args.delta, space=args.space,
                 fixed=key_values(args.fix, "--fix") or None,
                 tied=key_values(args.tie, "--tie", str) or None)
    if args.bootstrap:
        from ...uncertainty.bootstrap import bootstrap

        draws = bootstrap(result, runs, args.bootstrap, rng=args.seed, n_jobs=args.jobs,
                          method=args.ci_method, confidence_level=args.confidence_level,
                          groups=args.groups, progress=None if not args.json else False)
        result = result.with_bootstrap(draws)
    if args.json:
        print(result.to_json())
    else:
        print(f"{runs!r}\n")
        print(result.summary())
    if args.out:
        result.save(args.out)
        if not args.json:
            print(f"\nwrote {args.out}")
    return 0 if result.success else 1


def cmd_predict(args) -> int:
    from ...analysis.extrapolate import predict
    from ..io import load

    result = load(args.fit)
    inputs = {name: np.asarray(getattr(args, name), dtype=float)
              for name in ("N", "D", "C") if getattr(args, name) is not None}
    missing = [n for n in result.form.inputs if n not in inputs]
    if missing:
        raise InputError(f"form {result.form.name!r} needs --{' --'.join(missing)}")
    used = dict(zip(result.form.inputs,
                    np.broadcast_arrays(*(inputs[n] for n in result.form.inputs))))
    prediction = predict(result, draws=result.bootstrap, **used)
    print_table(prediction.to_frame(), args.json)
    return 0


def cmd_optimal(args) -> int:
    from ...analysis.extrapolate import compute_optimal
    from ..io import load

    result = load(args.fit)
    allocation = compute_optimal(result, np.asarray(args.compute, dtype=float),
                                 flops_per_token=args.flops_per_token, draws=result.bootstrap)
    print_table(allocation.to_frame(), args.json)
    return 0


def cmd_diagnose(args) -> int:
    from ...analysis.extrapolate import diagnose
    from ..io import load

    result = load(args.fit)
    diagnosis = diagnose(result, args.N, args.D, flops_per_token=args.flops_per_token,
                         draws=result.bootstrap)
    print(json.dumps(diagnosis.to_dict(), indent=2) if args.json else diagnosis)
    return 0


def cmd_generate(args) -> int:
    from ...laws.synthetic import generate_sweep

    runs = generate_sweep(args.form, noise=args.noise, rng=args.seed)
    runs.to_frame().to_csv(args.out, index=False, float_format="%.10g")
    print(f"wrote {len(runs)} runs to {args.out} (form {args.form}, noise {args.noise}, seed {args.seed})")
    return 0


def cmd_forms(args) -> int:
    from ...laws.forms import available_forms, get_form

    for name in available_forms():
        form = get_form(name)
        print(f"{name:<18} {form.formula}   parameters: {', '.join(form.param_names)}")
    return 0


def register(sub) -> None:
    """Add this module's subcommands to the parser's subparsers."""
    p = sub.add_parser("fit", help="fit a law to a table of runs and print its coefficients",
                       description="Fit a scaling law to a table of training runs. " + UNITS)
    add_data_options(p)
    p.add_argument("--form", default="chinchilla",
                   help="law to fit (see `scalinglaws forms`; default chinchilla: "
                        "L = E + A/N^alpha + B/D^beta)")
    p.add_argument("--loss", default="huber", choices=["huber", "squared"],
                   help="loss on each residual (default huber, as Hoffmann et al.)")
    p.add_argument("--delta", type=float, default=1e-3,
                   help="Huber threshold in residual units (default 1e-3 on log residuals)")
    p.add_argument("--space", default="log", choices=["log", "linear"],
                   help="residuals log(pred) - log(loss) (default) or pred - loss")
    p.add_argument("--fix", action="append", metavar="NAME=VALUE",
                   help="hold a parameter at a value, e.g. --fix E=1.69")
    p.add_argument("--tie", action="append", metavar="NAME=OTHER",
                   help="set a parameter equal to another, e.g. --tie beta=alpha")
    p.add_argument("--bootstrap", type=int, default=0, metavar="N",
                   help="bootstrap N resamples of the runs (each re-optimised) and print "
                        "value [low, high] per parameter; the draws are saved in the JSON")
    p.add_argument("--seed", type=int, default=None, help="seed of the bootstrap (same seed, same JSON)")
    p.add_argument("--jobs", type=int, default=1, help="parallel workers for the bootstrap")
    p.add_argument("--ci-method", default="percentile", choices=["percentile", "basic", "bca"],
                   help="bootstrap interval method (default percentile)")
    p.add_argument("--confidence-level", type=float, default=0.95,
                   help="two-sided level of the intervals (default 0.95)")
    p.add_argument("--groups", metavar="COLUMN",
                   help="resample runs within groups of this column (e.g. a compute-budget label)")
    p.add_argument("--out", metavar="FIT.json", help="write the fit as JSON")
    p.add_argument("--json", action="store_true", help="print the fit as JSON instead of a table")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("predict", help="predict losses from a saved fit",
                       description="Predict the loss (nats/token) of models from a fit saved "
                                   "with `fit --out`. Give N (parameters) and D (tokens), or "
                                   "whatever inputs the form needs; lists broadcast. " + UNITS)
    p.add_argument("fit", help="fit JSON written by `scalinglaws fit --out`")
    p.add_argument("--N", type=float, nargs="+", help="parameters, e.g. 7e9")
    p.add_argument("--D", type=float, nargs="+", help="training tokens, e.g. 1.4e12")
    p.add_argument("--C", type=float, nargs="+", help="training compute in FLOP")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("optimal", help="compute-optimal N and D for compute budgets",
                       description="Compute-optimal model size N (parameters), tokens D and the "
                                   "loss there for each budget C in FLOP (e.g. 5.76e23, Gopher's); "
                                   "intervals when the fit JSON holds a bootstrap. " + UNITS)
    p.add_argument("fit", help="fit JSON written by `scalinglaws fit --out`")
    p.add_argument("--compute", type=float, nargs="+", required=True, metavar="FLOP",
                   help="training budgets in FLOP (1 PF-day = 8.64e19 FLOP)")
    p.add_argument("--flops-per-token", type=float, default=6.0, metavar="K",
                   help="k in C = k*N*D (default 6)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_optimal)

    p = sub.add_parser("diagnose", help="is a trained model compute-optimal? (under-training)",
                       description="Diagnose a trained model of N parameters and D tokens: its "
                                   "compute, the optimal model for that compute, the budget at "
                                   "which N would be optimal and the compute an optimal model "
                                   "needs for the same loss. " + UNITS)
    p.add_argument("fit", help="fit JSON written by `scalinglaws fit --out`")
    p.add_argument("--N", type=float, required=True, help="parameters, e.g. 175e9")
    p.add_argument("--D", type=float, required=True, help="training tokens, e.g. 300e9")
    p.add_argument("--flops-per-token", type=float, default=6.0, metavar="K")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_diagnose)

    p = sub.add_parser("generate", help="write a synthetic IsoFLOP sweep from a known law",
                       description="Write a synthetic IsoFLOP sweep (9 budgets 6e18..3e21 FLOP x "
                                   "12 sizes) whose losses follow a known law. " + UNITS)
    p.add_argument("--form", default="chinchilla")
    p.add_argument("--noise", type=float, default=0.01,
                   help="log-normal noise sd on the loss (default 0.01, about 1%%)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="CSV file to write")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("forms", help="list the laws that can be fitted")
    p.set_defaults(func=cmd_forms)
