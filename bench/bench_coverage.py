"""Coverage of bootstrap intervals on simulated sweeps (the larger run behind the CI test).

Generates sweeps from a known Chinchilla law (Besiroglu et al. Table 1
parameters, 9 budgets x 12 sizes, 1% log-normal noise; sweep ``i`` from
``rng=10_000 + i``), fits each, bootstraps it (``rng=i``), and prints how often
the nominal intervals cover the truth for E, alpha, beta and the allocation
exponent a = beta/(alpha+beta).

    python bench/bench_coverage.py [--sweeps 200] [--resamples 500] [--method percentile]
    python bench/bench_coverage.py --json bench/coverage_record.json     # write the record
    python bench/bench_coverage.py --compare bench/coverage_record.json  # check against it
    python bench/bench_coverage.py --sweeps 10 --compare bench/coverage_record.json

``bench/coverage_record.json`` is the default run's record: its settings, the counts the
README quotes, and which sweeps each interval covered. ``--compare`` checks a run against
it sweep by sweep (a run of fewer sweeps against the record's first ones) and exits with
status 1 on any difference; ``tests/uncertainty/test_bootstrap_methods_coverage.py``
checks the README against the record and reruns the first sweeps against it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import scalinglaws as sl
from scalinglaws._files import atomic_write, json_text
from scalinglaws._progress import progress_bar
from scalinglaws.laws.synthetic import DEFAULT_TRUTH
from scalinglaws.uncertainty.bootstrap import bootstrap

QUANTITIES = ("E", "alpha", "beta", "a")
SETTINGS = ("resamples", "noise", "method", "level")  # a record holds only runs with these


def sweep_hits(seed: int, resamples: int, noise: float, method: str, level: float):
    """Sweep ``seed``: ``({quantity: its interval holds the truth}, failed resamples)``."""
    truth = dict(DEFAULT_TRUTH["chinchilla"])
    truth["a"] = truth["beta"] / (truth["alpha"] + truth["beta"])
    runs = sl.generate_sweep(noise=noise, rng=10_000 + seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        result = sl.fit(runs)
        boot = bootstrap(result, runs, resamples, rng=seed, method=method,
                         confidence_level=level, progress=False)
    bounds = {name: boot.intervals[name] for name in ("E", "alpha", "beta")}
    bounds["a"] = boot.allocation_exponents()["a"][1:]
    return {name: bool(low <= truth[name] <= high) for name, (low, high) in bounds.items()}, \
        boot.n_failed


def run(sweeps: int, resamples: int, noise: float, method: str, level: float,
        show: bool = False) -> dict:
    """The record of a run: settings, counts, failed resamples and, per quantity, a string
    with one character per sweep ("1": covered)."""
    hits = {name: [] for name in QUANTITIES}
    failed = 0
    for seed in progress_bar(range(sweeps), desc="sweeps", disable=not show):
        covered, n_failed = sweep_hits(seed, resamples, noise, method, level)
        failed += n_failed
        for name in QUANTITIES:
            hits[name].append(covered[name])
    return {"sweeps": sweeps, "resamples": resamples, "noise": noise, "method": method,
            "level": level, "failed": failed,
            "counts": {name: int(sum(flags)) for name, flags in hits.items()},
            "hits": {name: "".join("1" if f else "0" for f in flags)
                     for name, flags in hits.items()}}


def differences(record: dict, reference: dict) -> list[str]:
    """What differs between a run and a reference record (a shorter run is compared with
    the reference's first sweeps)."""
    problems = [f"{key}: {record[key]!r} here, {reference[key]!r} in the record"
                for key in SETTINGS if record[key] != reference[key]]
    if problems:
        return problems
    if record["sweeps"] > reference["sweeps"]:
        return [f"{record['sweeps']} sweeps here, only {reference['sweeps']} in the record"]
    if record["sweeps"] == reference["sweeps"]:
        for key in ("failed", "counts"):
            if record[key] != reference[key]:
                problems.append(f"{key}: {record[key]} here, {reference[key]} in the record")
    for name in QUANTITIES:
        ours, theirs = record["hits"][name], reference["hits"][name][:record["sweeps"]]
        changed = [i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b]
        if changed:
            problems.append(f"{name}: sweeps {changed[:10]} differ from the record")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweeps", type=int, default=200)
    parser.add_argument("--resamples", type=int, default=500)
    parser.add_argument("--noise", type=float, default=0.01)
    parser.add_argument("--method", default="percentile")
    parser.add_argument("--level", type=float, default=0.95)
    parser.add_argument("--json", help="write the run's record (settings, counts, hits) here")
    parser.add_argument("--compare", help="compare the run with this record; status 1 if "
                                          "anything differs")
    args = parser.parse_args()
    # read the record first: a wrong path fails before minutes of simulation
    reference = json.loads(Path(args.compare).read_text()) if args.compare else None
    start = time.perf_counter()
    record = run(args.sweeps, args.resamples, args.noise, args.method, args.level,
                 show=sys.stderr.isatty())
    elapsed = time.perf_counter() - start
    print(f"{args.sweeps} sweeps x {args.resamples} resamples ({args.method}, "
          f"{100 * args.level:g}%), noise {args.noise}: {elapsed:.0f} s, "
          f"{record['failed']} failed resamples")
    for name, count in record["counts"].items():
        rate = count / args.sweeps
        se = np.sqrt(rate * (1 - rate) / args.sweeps)
        print(f"  coverage {name:<6} {rate:6.1%}  ({count} of {args.sweeps}; ± {se:.1%})")
    if args.json:
        atomic_write(args.json, json_text({**record, "seconds": round(elapsed)}) + "\n")
    if reference is not None:
        problems = differences(record, reference)
        for problem in problems:
            print(f"  differs from {args.compare}: {problem}")
        if problems:
            sys.exit(1)
        print(f"  matches {args.compare} ({args.sweeps} of its {reference['sweeps']} sweeps)")


if __name__ == "__main__":
    main()
