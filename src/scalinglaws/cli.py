"""Command-line interface: ``scalinglaws fit | predict | generate | forms``.

Units everywhere: N = parameters (a count), D = training tokens, C = training
compute in FLOP (not PF-days; C = 6·N·D unless --flops-per-token says
otherwise), loss = cross-entropy in nats per token.

Bad input prints one line on stderr and exits with status 2 (``--verbose``
shows the traceback); a fit that did not converge exits with status 1 after
printing its result.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings

import numpy as np

from . import __version__
from ._exceptions import InputError, ScalingLawsWarning

UNITS = ("units: N = parameters (count), D = training tokens, C = training compute in FLOP "
         "(C = k*N*D, k = 6 by default), loss = nats per token")


def _key_values(items, arg, convert=float) -> dict:
    out = {}
    for item in items or []:
        for part in item.split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise InputError(f"{arg} expects NAME=VALUE pairs, got {part!r}")
            key, value = (s.strip() for s in part.split("=", 1))
            try:
                out[key] = convert(value)
            except ValueError:
                raise InputError(f"{arg}: {value!r} is not a number (in {part!r})") from None
    return out


def _add_data_options(parser, positional: bool = True):
    if positional:
        parser.add_argument("path", help="runs table: .csv, .tsv, .json, .jsonl or .parquet")
    parser.add_argument("--columns", action="append", metavar="NAME=COLUMN",
                        help="map canonical names (N, D, C, loss) to your column names, e.g. "
                             "--columns N=nonembedding_params,loss=val_loss")
    parser.add_argument("--flops-per-token", type=float, default=6.0, metavar="K",
                        help="k in C = k*N*D, used to derive D or C when one is missing (default 6)")
    parser.add_argument("--nan-policy", choices=["raise", "omit"], default="raise",
                        help="'omit' drops rows with missing values and says how many (default raise)")
    parser.add_argument("--exclude-top-loss", type=int, default=0, metavar="K",
                        help="drop the K runs with the largest loss before fitting (Epoch's "
                             "replication drops 5 on the Chinchilla data)")


def _load(args):
    from .runs import load_runs

    runs = load_runs(args.path, columns=_key_values(args.columns, "--columns", str) or None,
                     flops_per_token=args.flops_per_token, nan_policy=args.nan_policy)
    if args.exclude_top_loss:
        runs = runs.exclude_top_loss(args.exclude_top_loss)
    return runs


def _cmd_fit(args) -> int:
    from .fit import fit

    runs = _load(args)
    result = fit(runs, args.form, loss=args.loss, delta=args.delta, space=args.space,
                 fixed=_key_values(args.fix, "--fix") or None,
                 tied=_key_values(args.tie, "--tie", str) or None)
    if args.bootstrap:
        from .bootstrap import bootstrap

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


def _print_table(frame, as_json: bool) -> None:
    """Print a result table readably, or as JSON records."""
    if as_json:
        print(json.dumps(json.loads(frame.to_json(orient="records")), indent=2))
    else:
        print(frame.to_string(index=False, float_format=lambda v: f"{v:.6g}"))


def _cmd_predict(args) -> int:
    from .extrapolate import predict
    from .io import load

    result = load(args.fit)
    inputs = {name: np.asarray(getattr(args, name), dtype=float)
              for name in ("N", "D", "C") if getattr(args, name) is not None}
    missing = [n for n in result.form.inputs if n not in inputs]
    if missing:
        raise InputError(f"form {result.form.name!r} needs --{' --'.join(missing)}")
    used = dict(zip(result.form.inputs,
                    np.broadcast_arrays(*(inputs[n] for n in result.form.inputs))))
    prediction = predict(result, draws=result.bootstrap, **used)
    _print_table(prediction.to_frame(), args.json)
    return 0


def _cmd_optimal(args) -> int:
    from .extrapolate import compute_optimal
    from .io import load

    result = load(args.fit)
    allocation = compute_optimal(result, np.asarray(args.compute, dtype=float),
                                 flops_per_token=args.flops_per_token, draws=result.bootstrap)
    _print_table(allocation.to_frame(), args.json)
    return 0


def _cmd_diagnose(args) -> int:
    from .extrapolate import diagnose
    from .io import load

    result = load(args.fit)
    diagnosis = diagnose(result, args.N, args.D, flops_per_token=args.flops_per_token,
                         draws=result.bootstrap)
    print(json.dumps(diagnosis.to_dict(), indent=2) if args.json else diagnosis)
    return 0


def _cmd_isoflop(args) -> int:
    from .isoflop import isoflop_fit

    runs = _load(args)
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


def _cmd_backtest(args) -> int:
    from .backtest import backtest

    runs = _load(args)
    result = backtest(runs, args.form, holdout=args.holdout, threshold=args.threshold,
                      fraction=args.fraction, group=args.group)
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.summary())
    return 0


def _cmd_reproduce(args) -> int:
    from . import reproduce

    function = getattr(reproduce, f"reproduce_{args.study}")
    kwargs = {"n_resamples": args.bootstrap, "rng": args.seed, "n_jobs": args.jobs} \
        if args.study == "hoffmann" else {}
    report = function(args.data, **kwargs)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report)
    if args.out and report.fit is not None:
        report.fit.save(args.out)
    return 0


def _load_optional_runs(args):
    """The runs of ``--data`` (with the usual loading options), or None."""
    if not args.data:
        return None
    args.path = args.data
    return _load(args)


def _cmd_plot(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from .io import load
    from .report import save_figure

    result = load(args.fit)
    kwargs = {"x": args.x} if args.kind == "fit" and args.x else {}
    print(save_figure(args.kind, result, _load_optional_runs(args), args.out or f"{args.kind}.png",
                      dpi=args.dpi, **kwargs))
    return 0


def _cmd_report(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from .io import load
    from .report import DEFAULT_BUDGETS, make_report

    result = load(args.fit)
    budgets = DEFAULT_BUDGETS if not args.budgets else [float(b) for b in args.budgets]
    print(make_report(result, _load_optional_runs(args), args.out, budgets=budgets,
                      title=args.title))
    return 0


def _cmd_generate(args) -> int:
    from .synthetic import generate_sweep

    runs = generate_sweep(args.form, noise=args.noise, rng=args.seed)
    runs.to_frame().to_csv(args.out, index=False, float_format="%.10g")
    print(f"wrote {len(runs)} runs to {args.out} (form {args.form}, noise {args.noise}, seed {args.seed})")
    return 0


def _cmd_forms(args) -> int:
    from .forms import available_forms, get_form

    for name in available_forms():
        form = get_form(name)
        print(f"{name:<18} {form.formula}   parameters: {', '.join(form.param_names)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scalinglaws", description="Fit, reproduce and extrapolate neural scaling laws. " + UNITS,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"scalinglaws {__version__}")
    parser.add_argument("--verbose", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("fit", help="fit a law to a table of runs and print its coefficients",
                       description="Fit a scaling law to a table of training runs. " + UNITS)
    _add_data_options(p)
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
    p.set_defaults(func=_cmd_fit)

    p = sub.add_parser("predict", help="predict losses from a saved fit",
                       description="Predict the loss (nats/token) of models from a fit saved "
                                   "with `fit --out`. Give N (parameters) and D (tokens), or "
                                   "whatever inputs the form needs; lists broadcast. " + UNITS)
    p.add_argument("fit", help="fit JSON written by `scalinglaws fit --out`")
    p.add_argument("--N", type=float, nargs="+", help="parameters, e.g. 7e9")
    p.add_argument("--D", type=float, nargs="+", help="training tokens, e.g. 1.4e12")
    p.add_argument("--C", type=float, nargs="+", help="training compute in FLOP")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_predict)

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
    p.set_defaults(func=_cmd_optimal)

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
    p.set_defaults(func=_cmd_diagnose)

    p = sub.add_parser("isoflop", help="Hoffmann's Approach 2: IsoFLOP profiles -> N_opt ~ C^a",
                       description="Group runs by compute budget, fit loss against log N per "
                                   "budget, take each minimum, and fit N_opt ~ C^a and "
                                   "D_opt ~ C^b with intervals. Budgets whose minimum is not "
                                   "inside their sampled sizes are reported and excluded. "
                                   + UNITS)
    _add_data_options(p)
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
    p.set_defaults(func=_cmd_isoflop)

    p = sub.add_parser("backtest", help="fit on the smaller runs, predict the larger ones",
                       description="Back-test extrapolation: fit the law on the runs below a "
                                   "threshold of C (FLOP), N (parameters) or D (tokens), or "
                                   "leave one group out, and report the relative error of the "
                                   "predicted loss on the held-out runs. " + UNITS)
    _add_data_options(p)
    p.add_argument("--form", default="chinchilla", help="law to fit (default chinchilla)")
    p.add_argument("--holdout", default="C", choices=["C", "N", "D", "group"],
                   help="hold out by compute (default), parameters, tokens, or by group")
    p.add_argument("--threshold", type=float, default=None,
                   help="hold out runs above this value (FLOP, parameters or tokens)")
    p.add_argument("--fraction", type=float, default=0.25,
                   help="without --threshold, hold out this top fraction (default 0.25)")
    p.add_argument("--group", metavar="COLUMN", help="group column for --holdout group")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_backtest)

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
    p.set_defaults(func=_cmd_reproduce)

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
    _add_data_options(p, positional=False)
    p.add_argument("--out", default=None, help="image file; format from the suffix (.png, .pdf, "
                                                ".svg); default KIND.png")
    p.add_argument("--dpi", type=int, default=150)
    p.add_argument("--x", choices=["N", "D", "C"], help="horizontal axis of `fit` (default N)")
    p.set_defaults(func=_cmd_plot)

    p = sub.add_parser("report", help="one self-contained HTML report of a saved fit",
                       description="Write an HTML page (images embedded) with the coefficients "
                                   "and intervals, the figures, an allocation table for a few "
                                   "budgets and the fit diagnostics. " + UNITS)
    p.add_argument("fit", help="fit JSON written by `scalinglaws fit --out`")
    p.add_argument("--data", metavar="PATH", help="the runs the fit was made on")
    _add_data_options(p, positional=False)
    p.add_argument("--out", default="report.html", help="HTML file to write (default report.html)")
    p.add_argument("--title", default=None)
    p.add_argument("--budgets", nargs="+", metavar="FLOP",
                   help="compute budgets of the allocation table (FLOP)")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("generate", help="write a synthetic IsoFLOP sweep from a known law",
                       description="Write a synthetic IsoFLOP sweep (9 budgets 6e18..3e21 FLOP x "
                                   "12 sizes) whose losses follow a known law. " + UNITS)
    p.add_argument("--form", default="chinchilla")
    p.add_argument("--noise", type=float, default=0.01,
                   help="log-normal noise sd on the loss (default 0.01, about 1%%)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="CSV file to write")
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("forms", help="list the laws that can be fitted")
    p.set_defaults(func=_cmd_forms)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default", ScalingLawsWarning)
            return args.func(args)
    except InputError as exc:
        if args.verbose:
            raise
        print(f"scalinglaws: error: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        if args.verbose:
            raise
        print(f"scalinglaws: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
