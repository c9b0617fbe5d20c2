"""Coverage of bootstrap intervals on simulated sweeps (the larger run behind the CI test).

Generates sweeps from a known Chinchilla law (Besiroglu et al. Table 1
parameters, 9 budgets x 12 sizes, 1% log-normal noise), fits each, bootstraps
it, and prints how often the nominal intervals cover the truth for E, alpha,
beta and the allocation exponent a = beta/(alpha+beta).

    python bench/bench_coverage.py [--sweeps 200] [--resamples 500] [--method percentile]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import scalinglaws as sl
from scalinglaws.uncertainty.bootstrap import bootstrap
from scalinglaws.laws.synthetic import DEFAULT_TRUTH


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweeps", type=int, default=200)
    parser.add_argument("--resamples", type=int, default=500)
    parser.add_argument("--noise", type=float, default=0.01)
    parser.add_argument("--method", default="percentile")
    parser.add_argument("--level", type=float, default=0.95)
    args = parser.parse_args()
    truth = dict(DEFAULT_TRUTH["chinchilla"])
    truth_a = truth["beta"] / (truth["alpha"] + truth["beta"])
    hits = {"E": 0, "alpha": 0, "beta": 0, "a": 0}
    failed = 0
    start = time.perf_counter()
    for seed in range(args.sweeps):
        runs = sl.generate_sweep(noise=args.noise, rng=10_000 + seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sl.ScalingLawsWarning)
            result = sl.fit(runs)
            boot = bootstrap(result, runs, args.resamples, rng=seed, method=args.method,
                             confidence_level=args.level)
        failed += boot.n_failed
        for name in ("E", "alpha", "beta"):
            low, high = boot.intervals[name]
            hits[name] += low <= truth[name] <= high
        _, low, high = boot.allocation_exponents()["a"]
        hits["a"] += low <= truth_a <= high
    elapsed = time.perf_counter() - start
    print(f"{args.sweeps} sweeps x {args.resamples} resamples ({args.method}, "
          f"{100 * args.level:g}%), noise {args.noise}: {elapsed:.0f} s, {failed} failed resamples")
    for name, count in hits.items():
        rate = count / args.sweeps
        se = np.sqrt(rate * (1 - rate) / args.sweeps)
        print(f"  coverage {name:<6} {rate:6.1%}  (± {se:.1%})")


if __name__ == "__main__":
    main()
