"""Which estimator extrapolates best: a rollout study on public and synthetic sweeps.

For every sweep (see bench/extrapolation_sweeps.py) the runs are cut along C at the
same cuts for every estimator (scalinglaws.uncertainty.rollout.rollout_cuts: at most 4
cuts, evenly spaced in log C, the first leaving a third of the runs to fit), each
estimator is fitted below each cut and predicts every run above it, and the held-out
(fold, run) records give the mean and max absolute relative error of the predicted
loss, the signed bias, errors by extrapolation factor (C / largest fitted C) and the
coverage of 95% parameter-bootstrap intervals (100 resamples per fold, percentile).

To keep the study to minutes on 2 shared cores, the Chinchilla fits start from a
243-point subset of Hoffmann's 4,500-point grid (alpha, beta in {0.5, 1, 1.5};
log E in {-1, 0, 1}; log A, log B in {0, 10, 20}); ``--check-starts`` refits every
fold of the default estimator from the full grid and prints the largest gap in the
objective.

``select`` is evaluated honestly by nested rollouts: in each outer fold it runs a
rollout of every candidate on that fold's training runs only (2 inner cuts), picks the
candidate with the lowest inner mean |log error|, and is scored on the outer held-out
runs with that candidate's fit. It never sees the outer test runs.

    python bench/bench_extrapolation.py [--sweeps SUBSTRING ...] [--json out.json] [--check-starts]

Deterministic: fixed seeds for the synthetic sweeps and the bootstrap.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import extrapolation_sweeps as sweeps_module  # noqa: E402

import scalinglaws as sl  # noqa: E402
from scalinglaws.laws.losses import AsymmetricHuber  # noqa: E402
from scalinglaws.uncertainty.bootstrap import bootstrap  # noqa: E402
from scalinglaws.uncertainty.rollout import rollout, rollout_cuts  # noqa: E402

N_CUTS, N_INNER_CUTS, N_RESAMPLES, LEVEL = 4, 2, 100, 0.95
BINS = (1.0, 4.0, 30.0, math.inf)  # extrapolation-factor bins of the by-factor table


def by_compute(train):
    """Weights proportional to training compute (largest run 1)."""
    return train.C / train.C.max()


#: a 243-point subset of Hoffmann's grid (public units)
STARTS = {"E": np.exp([-1.0, 0.0, 1.0]), "A": np.exp([0.0, 10.0, 20.0]),
          "B": np.exp([0.0, 10.0, 20.0]), "alpha": [0.5, 1.0, 1.5], "beta": [0.5, 1.0, 1.5]}
TIED_STARTS = {k: v for k, v in STARTS.items() if k != "beta"}

#: label -> (form, LawFitter options, weights); "nonemb" and "select" are added per sweep
ESTIMATORS = {
    "huber1e-3": ("chinchilla", {"starts": STARTS}, None),  # today's default (objective)
    "huber1e-4": ("chinchilla", {"delta": 1e-4, "starts": STARTS}, None),
    "huber1e-2": ("chinchilla", {"delta": 1e-2, "starts": STARTS}, None),
    "sq-log": ("chinchilla", {"loss": "squared", "starts": STARTS}, None),
    "sq-lin": ("chinchilla", {"loss": "squared", "space": "linear", "starts": STARTS}, None),
    "w-compute": ("chinchilla", {"starts": STARTS}, by_compute),
    "tied": ("chinchilla", {"tied": {"beta": "alpha"}, "starts": TIED_STARTS}, None),
    "asym": ("chinchilla", {"loss": AsymmetricHuber(1e-3, 2.0), "starts": STARTS}, None),
    "kaplan_nd": ("kaplan_nd", {}, None),
}
CANDIDATES = ("huber1e-3", "sq-log", "sq-lin", "tied", "asym", "kaplan_nd")
#: estimators whose bootstrap intervals are scored: not w-compute (the bootstrap does not
#: carry fit weights) nor asym (its resamples are polished one by one: minutes per sweep)
COVERAGE_FOR = ("huber1e-3", "huber1e-4", "huber1e-2", "sq-log", "sq-lin", "tied",
                "kaplan_nd", "nonemb")


def bootstrap_interval(fit, train, inputs):
    """95% percentile interval of the predicted loss from a 100-resample parameter bootstrap."""
    boot = bootstrap(fit, train, N_RESAMPLES, rng=0, progress=False)
    names = fit.form.param_names
    draws = [fit.form.predict(dict(zip(names, row)), **inputs) for row in boot.draws]
    tail = 100 * (1 - LEVEL) / 2
    return np.percentile(draws, tail, axis=0), np.percentile(draws, 100 - tail, axis=0)


def min_train(n: int) -> int:
    return max(12, math.ceil(n / 3))


def run_estimator(runs, cuts, label, form, options, weights):
    hooks = {"bootstrap": bootstrap_interval} if label in COVERAGE_FOR else None
    return rollout(runs, form, axis="C", cuts=cuts, fit_options=options, weights=weights,
                   intervals=hooks, label=label, progress=False)


def inner_score(train, spec) -> float:
    """Mean |log error| of a rollout on the training runs alone (inf if none fits)."""
    form, options, weights = spec
    try:
        cuts = rollout_cuts(train.C, n_cuts=N_INNER_CUTS, min_train=min_train(len(train)))
    except sl.InputError:
        return math.inf
    result = rollout(train, form, axis="C", cuts=cuts, fit_options=options, weights=weights,
                     progress=False)
    return float(np.mean(np.abs(result.log_error)))


def study(name, runs):
    """Rollouts of every estimator on one sweep, and the nested selection."""
    cuts = rollout_cuts(runs.C, n_cuts=N_CUTS, min_train=min_train(len(runs)))
    specs = dict(ESTIMATORS)
    if runs.has("N_nonembedding"):
        specs["nonemb"] = ("chinchilla", {"starts": STARTS}, None)
    results = {}
    for label, (form, options, weights) in specs.items():
        data = sweeps_module.with_nonembedding(runs) if label == "nonemb" else runs
        results[label] = run_estimator(data, cuts, label, form, options, weights)
    candidates = CANDIDATES + (("nonemb",) if "nonemb" in specs else ())
    chosen = []
    for cut in cuts:
        train = runs.select(runs.C <= cut)
        scores = {}
        for label in candidates:
            data = sweeps_module.with_nonembedding(train) if label == "nonemb" else train
            scores[label] = inner_score(data, specs[label])
        best = min(scores, key=lambda k: (scores[k], k != "huber1e-3"))
        chosen.append(best if math.isfinite(scores[best]) else "huber1e-3")
    return cuts, results, chosen


def select_records(results, chosen):
    """The outer records of `select`: in fold k, those of the candidate chosen for fold k."""
    parts = {key: [] for key in ("relative_error", "signed_relative_error", "factor", "log_error")}
    for k, label in enumerate(chosen):
        result = results[label]
        inside = result.fold == k
        for key in parts:
            parts[key].append(getattr(result, key)[inside])
    return {key: np.concatenate(value) for key, value in parts.items()}


def metrics(records, coverage=None, n_bad=0) -> dict:
    errors, factor = records["relative_error"], records["factor"]
    row = {"mean": float(errors.mean()), "max": float(errors.max()),
           "bias": float(records["signed_relative_error"].mean()),
           "n": int(errors.size), "coverage": coverage, "n_bad_fits": n_bad}
    for low, high in zip(BINS[:-1], BINS[1:]):
        inside = (factor >= low) & (factor < high)
        row[f"mean_{low:g}-{high:g}"] = float(errors[inside].mean()) if inside.any() else None
    return row


def summarise(results, chosen) -> dict:
    table = {}
    for label, result in results.items():
        records = {key: getattr(result, key) for key in
                   ("relative_error", "signed_relative_error", "factor", "log_error")}
        table[label] = metrics(records, result.coverage.get("bootstrap"),
                               sum(f.status != 0 for f in result.fits))
    table["select"] = metrics(select_records(results, chosen))
    table["select"]["chosen"] = list(chosen)
    return table


def _cell(value, scale=100.0, signed=False):
    if value is None:
        return "—"
    return f"{scale * value:+.2f}" if signed else f"{scale * value:.2f}"


def print_tables(all_rows: dict, labels) -> None:
    short = {name: name.replace("porian ", "p:").replace("synthetic ", "syn:")
             for name in all_rows}
    width = max(map(len, short.values())) + 1
    for key, title, signed in (("mean", "mean |relative error| of held-out runs, %", False),
                               ("max", "max |relative error|, %", False),
                               ("bias", "bias (mean signed relative error; + over-predicts), %", True),
                               ("coverage", "coverage of 95% parameter-bootstrap intervals, %", False)):
        print(f"\n## {title}")
        print(f"{'sweep':<{width}}{'runs':>5}{'recs':>5}" + "".join(f"{lab:>10}" for lab in labels))
        for name, rows in all_rows.items():
            cells = "".join(f"{_cell(rows[lab][key], signed=signed) if lab in rows else '':>10}"
                            for lab in labels)
            print(f"{short[name]:<{width}}{rows['_n_runs']:>5}{rows['huber1e-3']['n']:>5}{cells}")
        for group, test in (("public", lambda n: not n.startswith("synthetic")),
                            ("synthetic", lambda n: n.startswith("synthetic"))):
            names = [n for n in all_rows if test(n)]
            if not names:
                continue
            cells = ""
            for lab in labels:
                rows = [all_rows[n][lab] for n in names if lab in all_rows[n]]
                if key == "coverage":  # pooled over records
                    pairs = [(r[key], r["n"]) for r in rows if r[key] is not None]
                    value = (sum(c * n for c, n in pairs) / sum(n for _, n in pairs)
                             if len(pairs) == len(names) else None)
                else:
                    values = [abs(r[key]) if signed else r[key] for r in rows]
                    value = np.mean(values) if len(values) == len(names) else None
                cells += f"{_cell(value):>10}"
            label = (f"pooled {group}" if key == "coverage"
                     else f"mean {group}" + (" |bias|" if signed else ""))
            print(f"{label:<{width}}{'':>10}{cells}")
        if key == "mean":
            sources = {"epoch": ["epoch"], "datablations": ["datablations"], "olmo": ["olmo"],
                       "porian": [n for n in all_rows if n.startswith("porian")]}
            sources = {k: [n for n in v if n in all_rows] for k, v in sources.items()}
            sources = {k: v for k, v in sources.items() if v}
            if sources:
                cells = "".join(
                    f"{_cell(np.mean([np.mean([all_rows[n][lab]['mean'] for n in v]) for v in sources.values()])) if all(lab in all_rows[n] for v in sources.values() for n in v) else '—':>10}"
                    for lab in labels)
                print(f"{'mean per source':<{width}}{'':>10}{cells}")
            for group, test in (("public", lambda n: not n.startswith("synthetic")),
                                ("synthetic", lambda n: n.startswith("synthetic"))):
                names = [n for n in all_rows if test(n)]
                cells = "".join(
                    f"{sum(all_rows[n][lab]['mean'] < all_rows[n]['huber1e-3']['mean'] for n in names if lab in all_rows[n]):>10}"
                    for lab in labels)
                if names:
                    print(f"{'beats default, ' + group:<{width}}{'':>10}{cells}")
    print("\n## mean |relative error| by extrapolation factor, public sweeps pooled by sweep mean, %")
    bins = [f"mean_{a:g}-{b:g}" for a, b in zip(BINS[:-1], BINS[1:])]
    print(f"{'estimator':<12}" + "".join(f"{b[5:] + 'x':>12}" for b in bins))
    public = [n for n in all_rows if not n.startswith("synthetic")]
    for lab in labels:
        cells = ""
        for b in bins:
            values = [all_rows[n][lab][b] for n in public
                      if lab in all_rows[n] and all_rows[n][lab][b] is not None]
            cells += f"{_cell(np.mean(values)) if values else '—':>12}"
        print(f"{lab:<12}{cells}")
    print("\n## select: candidate chosen per outer fold (nested rollout, inner mean |log error|)")
    for name, rows in all_rows.items():
        print(f"{short[name]:<{width}}{', '.join(rows['select']['chosen'])}")
    print("\n## rank of each estimator by mean error (1 = best), averaged over sweeps")
    for group, test in (("public", lambda n: not n.startswith("synthetic")),
                        ("synthetic", lambda n: n.startswith("synthetic"))):
        names = [n for n in all_rows if test(n)]
        if not names:
            continue
        common = [lab for lab in labels if all(lab in all_rows[n] for n in names)]
        ranks = {lab: [] for lab in common}
        for n in names:
            order = sorted(common, key=lambda lab: all_rows[n][lab]["mean"])
            for r, lab in enumerate(order, 1):
                ranks[lab].append(r)
        text = ", ".join(f"{lab} {np.mean(v):.1f}" for lab, v in
                         sorted(ranks.items(), key=lambda kv: np.mean(kv[1])))
        print(f"{group}: {text}")


def check_starts(sweeps) -> None:
    """Default estimator, every fold: objective from the 243-start subset vs the full grid."""
    print(f"{'sweep':<45}{'fold':>5}{'subset':>16}{'full grid':>16}{'rel. gap':>11}")
    worst = 0.0
    for name, runs in sweeps.items():
        cuts = rollout_cuts(runs.C, n_cuts=N_CUTS, min_train=min_train(len(runs)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sl.ScalingLawsWarning)
            for k, cut in enumerate(cuts):
                train = runs.select(runs.C <= cut)
                subset = sl.LawFitter("chinchilla", starts=STARTS).fit(train).objective
                full = sl.LawFitter("chinchilla").fit(train).objective
                gap = (subset - full) / full
                worst = max(worst, gap)
                print(f"{name:<45}{k:>5}{subset:>16.10g}{full:>16.10g}{gap:>11.2e}", flush=True)
    print(f"largest relative gap (subset - full) / full: {worst:.2e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweeps", nargs="*", help="only sweeps whose name contains one of these")
    parser.add_argument("--json", help="write every number to this JSON file")
    parser.add_argument("--from-json", help="print the tables of a saved --json run")
    parser.add_argument("--check-starts", action="store_true",
                        help="only compare the default's objective from the subset and the full grid")
    args = parser.parse_args()
    labels = list(ESTIMATORS) + ["nonemb", "select"]
    if args.from_json:
        return print_tables(json.loads(Path(args.from_json).read_text()), labels)
    sweeps = sweeps_module.all_sweeps()
    if args.sweeps:
        sweeps = {k: v for k, v in sweeps.items() if any(s in k for s in args.sweeps)}
    print(f"# estimator study: {len(sweeps)} sweeps, rollout along C, {N_CUTS} cuts, "
          f"{os.cpu_count()} cores")
    start = time.perf_counter()
    if args.check_starts:
        return check_starts(sweeps)
    all_rows = {}
    for name, runs in sweeps.items():
        began = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sl.ScalingLawsWarning)
            cuts, results, chosen = study(name, runs)
        rows = summarise(results, chosen)
        rows["_n_runs"] = len(runs)
        rows["_cuts"] = list(cuts)
        all_rows[name] = rows
        print(f"  {name}: {len(runs)} runs, cuts {', '.join(f'{c:.3g}' for c in cuts)}, "
              f"{time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)
    print_tables(all_rows, labels)
    print(f"\n(wall time {time.perf_counter() - start:.0f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(all_rows, indent=1, default=float))


if __name__ == "__main__":
    main()
