"""Benchmark: 1,000-resample bootstrap with re-optimisation against scipy BFGS per resample.

On the 240 Epoch AI Chinchilla runs, times ``scalinglaws.bootstrap`` (every
resample re-optimised in one batched engine run, from the full-data optimum
and the full fit's other optima) beside the replication's method measured in
the same run: ``scipy.optimize.minimize(method="BFGS")`` per resample from one
start (Hoffmann's unrounded values), numerical gradient. Prints wall time,
peak traced memory, and per-resample objectives of both on the same resamples
(the baseline runs on the first ``--baseline-resamples``; its time is scaled).

    python bench/bench_bootstrap.py [--data PATH] [--resamples 1000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from pathlib import Path

import numpy as np
from scipy import optimize, special

import scalinglaws as sl
from scalinglaws.uncertainty.bootstrap import bootstrap, resample_counts

DEFAULT_DATA = (Path(__file__).resolve().parents[2] / "shared" / "datasets" / "chinchilla_epoch"
                / "svg_extracted_data.csv")
HOFFMANN_TEX = np.array([0.5267228, 6.0073404, 6.0179186, 0.33917084, 0.2849083])  # e, a, b, α, β


def baseline(runs, counts):
    ln_n, ln_d, ln_l = np.log(runs.N), np.log(runs.D), np.log(runs.loss)
    out = []
    for weights in counts:
        def objective(p, w=weights):
            e, a, b, alpha, beta = p
            pred = np.logaddexp(np.logaddexp(a - alpha * ln_n, b - beta * ln_d), e)
            return float(np.sum(w * special.huber(1e-3, pred - ln_l)))
        out.append(optimize.minimize(objective, HOFFMANN_TEX, method="BFGS").fun)
    return np.array(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--baseline-resamples", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    runs = sl.load_runs(args.data).exclude_top_loss(5)
    result = sl.fit(runs)
    bootstrap(result, runs, 20, rng=1)  # warm-up

    start = time.perf_counter()
    boot = bootstrap(result, runs, args.resamples, rng=args.seed, n_jobs=args.jobs)
    ours = time.perf_counter() - start
    tracemalloc.start()  # a separate run: tracing slows numpy down
    bootstrap(result, runs, args.resamples, rng=args.seed)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    counts = resample_counts(len(runs), args.resamples, np.random.default_rng(args.seed))
    subset = counts[:args.baseline_resamples]
    start = time.perf_counter()
    base_fun = baseline(runs, subset)
    base_time = (time.perf_counter() - start) * args.resamples / len(subset)
    ours_fun = boot.objectives[:len(subset)]
    diff = ours_fun - base_fun
    print(f"data: {len(runs)} runs; {args.resamples} resamples; jobs={args.jobs}")
    print(f"scalinglaws.bootstrap : {ours:7.2f} s  peak {peak / 2**20:6.1f} MiB  failed "
          f"{boot.n_failed}  best start changed {boot.n_best_start_changed}  (peak in-process, jobs=1)")
    print(f"BFGS per resample     : {base_time:7.2f} s  (measured on {len(subset)}, scaled)")
    print(f"speed-up              : {base_time / ours:7.1f} x")
    print(f"objective per resample (ours - BFGS) on {len(subset)}: max {diff.max():+.3e}, "
          f"median {np.median(diff):+.3e}; ours lower or equal (1e-12 rel) in "
          f"{np.mean(diff <= 1e-12 * base_fun):.1%}, BFGS lower by >1e-9 rel in "
          f"{np.mean(diff > 1e-9 * base_fun):.1%}")
    print(boot.summary())


if __name__ == "__main__":
    main()
