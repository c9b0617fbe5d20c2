"""Sweep planning in simulation: standard grid vs planned grid vs active design.

Plans three designs under a prior (default: Hoffmann et al.'s unrounded coefficients with
Besiroglu et al.'s spread), simulates each many times from a known law (default: Besiroglu
et al. Table 1, the package's synthetic truth; or a misspecified law from
``scalinglaws.laws.misspecified``) with log-normal scatter, fits the Chinchilla law to
every simulated sweep (Approach 3, Huber on log residuals) with a bootstrap, and prints,
at equal sweep compute and at fractions of it, the interval width and the error of
ln N_opt at the target compute:

* standard: Hoffmann's nine-budget, twelve-size IsoFLOP layout scaled to the compute;
* planned:  the IsoFLOP layout chosen by ``planned_design`` (brackets the prior's optimum);
* active:   the runs chosen by ``active_design`` (greedy, variance reduction per FLOP).

For the two IsoFLOP designs Approach 2 (``isoflop_fit`` + ``predict_optimal``) is also
reported. Every seed is fixed: the same command prints the same table.

    python bench/bench_plan.py [--sweeps 100] [--resamples 200] [--truth exact]
    python bench/bench_plan.py --extend 30 --sweeps 40     # next runs of a fitted sweep
    python bench/bench_plan.py --json bench/plan_record.json   # also write the record

``--json PATH`` writes what was printed as a record (atomically): the main study under
``"main"``, ``--extend`` under ``"extend"``, each number with the digits printed, and the
printed lines under ``"printed"``; the other study's section of an existing PATH is kept,
so the two commands fill one file (``bench/plan_record.json``, which
``tests/test_bench_records.py`` checks the README against).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import scalinglaws as sl
from scalinglaws._files import atomic_write, json_text
from scalinglaws.analysis.active import active_design
from scalinglaws.analysis.designs import design_sd, planned_design, standard_design
from scalinglaws.analysis.prior import Target, published_prior
from scalinglaws.data.runs import Runs
from scalinglaws.laws.misspecified import KINDS, true_loss


def true_log_n_opt(kind: str, compute: float) -> float:
    """ln N_opt of the true law at ``compute`` (C = 6ND): a dense grid in ln N refined by
    the parabola through the three lowest points (grid step 5e-4 in ln N)."""
    log_n = np.linspace(math.log(1e7), math.log(1e14), 32_001)
    N = np.exp(log_n)
    loss = true_loss(kind)(N, compute / (6.0 * N))
    i = int(np.argmin(loss))
    y0, y1, y2 = loss[i - 1:i + 2]
    shift = 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2)
    return float(log_n[i] + shift * (log_n[1] - log_n[0]))


def simulate(design, kind: str, noise: float, generator) -> Runs:
    N, D = design.N, design.D
    loss = true_loss(kind)(N, D) * np.exp(noise * generator.standard_normal(N.size))
    runs = design.runs
    return Runs.from_arrays(N=N, D=D, C=runs["C"].to_numpy(), loss=loss,
                            budget=runs["budget"].to_numpy())


def approach3(runs: Runs, compute: float, resamples: int, seed: int):
    result = sl.fit(runs)
    boot = sl.bootstrap(result, runs, resamples, rng=seed)
    allocation = sl.compute_optimal(result, compute, draws=boot)
    low, high = allocation.intervals["N"]
    return math.log(allocation.N), math.log(low), math.log(high)


def approach2(runs: Runs, compute: float):
    iso = sl.isoflop_fit(runs, budget="budget")
    row = iso.predict_optimal(compute).iloc[0]
    return math.log(row["N"]), math.log(row["N_low"]), math.log(row["N_high"])


class Printed:
    """Print lines and keep them, for the record's ``printed``."""

    def __init__(self):
        self.lines = []

    def __call__(self, text: str) -> None:
        print(text)
        self.lines.append(text)


def _printed(value: float, digits: int):
    """``value`` with the digits the table prints (None for NaN: JSON has none)."""
    return None if math.isnan(value) else round(float(value), digits)


def _command(argv) -> str:
    """The command that made the record, without its ``--json PATH``."""
    kept, skip = [], False
    for token in argv:
        if skip:
            skip = False
        elif token == "--json":
            skip = True
        elif not token.startswith("--json="):
            kept.append(token)
    return shlex.join(["python", "bench/bench_plan.py", *kept])


def write_record(path, section: str, record: dict) -> None:
    """Put ``record`` under ``section`` of the JSON file ``path`` (atomically), keeping the
    other study's section of an existing file."""
    path = Path(path)
    document = json.loads(path.read_text()) if path.exists() else {}
    document["_about"] = ("bench/bench_plan.py --json: the printed tables as numbers with "
                          "the digits printed (4 decimals; width 3; coverage 0.1%); "
                          "'printed' keeps the lines as printed")
    document[section] = record
    atomic_write(path, json_text(document, what="the bench record", indent=1,
                                 ensure_ascii=False) + "\n")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweeps", type=int, default=100)
    parser.add_argument("--resamples", type=int, default=200)
    parser.add_argument("--sweep-budget", type=float, default=1e21)
    parser.add_argument("--target-compute", type=float, default=1e24)
    parser.add_argument("--prior", default="hoffmann", choices=("hoffmann", "epoch"))
    parser.add_argument("--truth", default="exact", choices=KINDS)
    parser.add_argument("--noise", type=float, default=0.01)
    parser.add_argument("--fractions", default="1,0.5,0.25",
                        help="fractions of the sweep budget given to the active design")
    parser.add_argument("--extend", type=int, default=0, metavar="K",
                        help="instead: fit small sweeps, choose K more runs with the active "
                             "design, simulate and refit them, and compare the predicted and "
                             "realised shrink of the bootstrap sd of ln N_opt")
    parser.add_argument("--json", metavar="PATH",
                        help="also write the printed tables as a record (module docstring)")
    args = parser.parse_args(argv)
    if args.json and not Path(args.json).resolve().parent.is_dir():
        parser.error(f"--json {args.json}: no such folder")  # before minutes of work
    if args.extend:
        return extend(args, argv)
    say = Printed()
    fractions = [float(f) for f in args.fractions.split(",")]
    S, C = args.sweep_budget, args.target_compute
    say(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}; {datetime.date.today()}")
    say(f"prior {args.prior}; truth {args.truth} (misspecified.py), noise sd {args.noise}; "
        f"sweep budget {S:.3g} FLOP; target ln N_opt at {C:.3g} FLOP; {args.sweeps} sweeps x "
        f"{args.resamples} bootstrap resamples (seeds 0..{args.sweeps - 1})")
    start = time.perf_counter()
    prior = published_prior(args.prior, scatter=args.noise, rng=0)
    target = Target.make("N_opt", C=C)
    designs = {"standard": standard_design(S), "planned": planned_design(prior, target, S)}
    full = active_design(prior, target, sweep_budget=S)
    for fraction in fractions:
        plan = full if fraction == 1 else active_design(prior, target, sweep_budget=fraction * S,
                                                        max_run_compute=S / 20)
        designs[f"active x{fraction:g}"] = plan.design()
    reach = full.compute_to_reach(design_sd(designs["standard"], prior, target))
    say(f"planning: {time.perf_counter() - start:.1f} s; the active design's linearised sd "
        f"reaches the standard grid's after {reach / S:.2f} of the sweep budget")
    truth = true_log_n_opt(args.truth, C)
    # the planner's prediction had it known the truth (exact law only: Besiroglu et al.'s
    # Table 1 is the simulated law)
    oracle = published_prior("epoch", scatter=args.noise, rng=0) if args.truth == "exact" else None
    rows = []
    for name, design in designs.items():
        analyses = ["A3"] + (["A2"] if name in ("standard", "planned") else [])
        for analysis in analyses:
            errors, widths, covered, failed = [], [], 0, 0
            for seed in range(args.sweeps):
                generator = np.random.default_rng([seed, 1])  # same noise stream per design
                runs = simulate(design, args.truth, args.noise, generator)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        est, low, high = (approach3(runs, C, args.resamples, seed)
                                          if analysis == "A3" else approach2(runs, C))
                    except sl.InputError:
                        failed += 1
                        continue
                errors.append(est - truth)
                widths.append(high - low)
                covered += low <= truth <= high
            errors, widths = np.array(errors), np.array(widths)
            n = len(errors)
            rows.append((name, analysis, design.total_compute / S, design.n_runs,
                         design_sd(design, prior, target),
                         math.nan if oracle is None else design_sd(design, oracle, target),
                         errors.std(ddof=1),
                         float(np.sqrt(np.mean(errors ** 2))), errors.mean(),
                         math.exp(np.median(widths)), covered / max(n, 1), failed))
            print(f"  {name} {analysis} done ({time.perf_counter() - start:.0f} s)",
                  file=sys.stderr)
    say(f"{'design':<14} {'fit':<3} {'compute':>7} {'runs':>5} {'pred sd':>8} {'@truth':>7} "
        f"{'sd':>7} {'rmse':>7} {'bias':>7} {'width':>7} {'cover':>6} {'fail':>4}")
    for r in rows:
        say(f"{r[0]:<14} {r[1]:<3} {r[2]:7.3f} {r[3]:5d} {r[4]:8.4f} {r[5]:7.4f} {r[6]:7.4f} "
            f"{r[7]:7.4f} {r[8]:+7.4f} {r[9]:7.3f} {r[10]:6.1%} {r[11]:4d}")
    seconds = round(time.perf_counter() - start)
    say("pred sd: linearised sd of ln N_opt under the prior (what the planner predicts); "
        "@truth: the same under a prior centred on the simulated law; sd, "
        "rmse, bias: of the estimated ln N_opt against the truth over the sweeps; width: "
        "median 95% interval as a factor high/low (A3: bootstrap percentile; A2: t interval of "
        "the fitted line); cover: share of intervals containing the true N_opt; fail: sweeps "
        f"the analysis refused. {seconds} s in all.")
    if args.json:
        names = ("design", "analysis", "compute", "runs", "pred_sd", "pred_sd_at_truth", "sd",
                 "rmse", "bias", "width", "coverage", "failed")
        digits = (None, None, 3, None, 4, 4, 4, 4, 4, 3, 3, None)  # as the table prints them
        write_record(args.json, "main", {
            "command": _command(argv), "sweeps": args.sweeps, "resamples": args.resamples,
            "prior": args.prior, "truth": args.truth, "noise": args.noise,
            "sweep_budget": S, "target_compute": C, "reach_fraction": round(reach / S, 2),
            "seconds": float(seconds),
            "rows": [{name: value if places is None else _printed(value, places)
                      for name, value, places in zip(names, row, digits)} for row in rows],
            "printed": say.lines})


def extend(args, argv):
    """Predicted against realised shrink when K active-design runs join a fitted sweep."""
    from scalinglaws.analysis.prior import prior_from_fit, target_values

    say = Printed()
    C = args.target_compute
    target = Target.make("N_opt", C=C)
    say(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}; {datetime.date.today()}")
    say(f"{args.sweeps} fitted sweeps (4 budgets 1e18..3e19 x 12 sizes, noise "
        f"{args.noise}), {args.extend} more runs each (largest 1e20 FLOP), "
        f"{args.resamples} bootstrap resamples, target ln N_opt at {C:.3g} FLOP")
    start = time.perf_counter()
    form = sl.get_form("chinchilla")
    from scalinglaws.laws.synthetic import DEFAULT_TRUTH

    law = DEFAULT_TRUTH["chinchilla"]

    def sd_of_target(boot):
        values = target_values(target, form, boot.draws)
        return float(np.std(values[np.isfinite(values)], ddof=1))

    predicted, realised, added_compute = [], [], []
    for seed in range(args.sweeps):
        runs = sl.generate_sweep(noise=args.noise, rng=100 + seed,
                                 budgets=(1e18, 3e18, 1e19, 3e19))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = sl.fit(runs)
            boot = sl.bootstrap(result, runs, args.resamples, rng=seed)
        prior = prior_from_fit(result.with_bootstrap(boot))
        plan = active_design(prior, target, k=args.extend, max_run_compute=1e20, max_draws=100)
        added = plan.design()
        generator = np.random.default_rng([seed, 2])
        new = form.predict(law, N=added.N, D=added.D) * np.exp(
            args.noise * generator.standard_normal(added.n_runs))
        frame = runs.to_frame()
        both = Runs.from_arrays(N=np.concatenate([frame["N"], added.N]),
                                D=np.concatenate([frame["D"], added.D]),
                                loss=np.concatenate([frame["loss"], new]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            refit = sl.fit(both)
            after = sd_of_target(sl.bootstrap(refit, both, args.resamples, rng=seed))
        predicted.append(plan.shrink)
        realised.append(after / sd_of_target(boot))
        added_compute.append(added.total_compute)
    predicted, realised = np.array(predicted), np.array(realised)
    fitted = sum(12 * c for c in (1e18, 3e18, 1e19, 3e19))
    sd_of_mean = realised.std(ddof=1) / np.sqrt(realised.size)
    seconds = round(time.perf_counter() - start)
    say(f"added compute per sweep: median {np.median(added_compute):.3g} FLOP "
        f"(the fitted sweep: {fitted:.3g})")
    say(f"shrink of the sd of ln N_opt: predicted mean {predicted.mean():.3f} "
        f"(range {predicted.min():.3f}-{predicted.max():.3f}), realised mean "
        f"{realised.mean():.3f} (range {realised.min():.3f}-{realised.max():.3f}, "
        f"sd of the mean {sd_of_mean:.3f}); {seconds} s")
    if args.json:
        def g3(value):  # printed with 3 significant digits
            return float(f"{value:.3g}")

        write_record(args.json, "extend", {
            "command": _command(argv), "sweeps": args.sweeps, "k": args.extend,
            "resamples": args.resamples, "added_compute_median": g3(np.median(added_compute)),
            "fitted_sweep_compute": g3(fitted),
            "predicted_mean": _printed(predicted.mean(), 3),
            "predicted_range": [_printed(predicted.min(), 3), _printed(predicted.max(), 3)],
            "realised_mean": _printed(realised.mean(), 3),
            "realised_range": [_printed(realised.min(), 3), _printed(realised.max(), 3)],
            "realised_sd_of_mean": _printed(sd_of_mean, 3), "seconds": float(seconds),
            "printed": say.lines})


if __name__ == "__main__":
    main()
