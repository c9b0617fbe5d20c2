"""Benchmark: scalinglaws.fit against a scipy L-BFGS-B loop over Hoffmann's 4,500 starts.

Both minimise the same objective (sum of Huber_{1e-3} on log residuals, Hoffmann
et al. App. D.2) on the 240 Epoch AI Chinchilla runs (5 highest-loss runs
dropped, as in the replication). The baseline is what the replication ran:
``scipy.optimize.minimize(method="L-BFGS-B")`` with default settings and a
numerical gradient from every grid point, keeping the best. Prints wall time,
ratio, objectives and peak traced memory of each.

    python bench/bench_fit.py [--data PATH] [--baseline-starts 4500]
"""

from __future__ import annotations

import argparse
import itertools
import time
import tracemalloc
from pathlib import Path

import numpy as np
from scipy import optimize, special

import scalinglaws as sl

DEFAULT_DATA = (Path(__file__).resolve().parents[2] / "shared" / "datasets" / "chinchilla_epoch"
                / "svg_extracted_data.csv")


def baseline(runs, n_starts):
    """The replication's method: L-BFGS-B from each of Hoffmann's grid points."""
    ln_n, ln_d, ln_l = np.log(runs.N), np.log(runs.D), np.log(runs.loss)

    def objective(p):
        # plain numpy (no special.logsumexp list overhead): a fast, fair baseline
        e, a, b, alpha, beta = p
        pred = np.logaddexp(np.logaddexp(a - alpha * ln_n, b - beta * ln_d), e)
        return float(np.sum(special.huber(1e-3, pred - ln_l)))

    grid = list(itertools.product(np.arange(-1, 1.01, 0.5), np.arange(0, 26, 5),
                                  np.arange(0, 26, 5), np.arange(0, 2.01, 0.5),
                                  np.arange(0, 2.01, 0.5)))[:n_starts]
    best = None
    for start in grid:
        res = optimize.minimize(objective, start, method="L-BFGS-B")
        if res.success and (best is None or res.fun < best.fun):
            best = res
    return best, len(grid)


def measure(function, *args, trace_memory: bool = True):
    """Wall time of one call, then (separately: tracing slows numpy) its peak traced memory."""
    start = time.perf_counter()
    value = function(*args)
    elapsed = time.perf_counter() - start
    peak = float("nan")
    if trace_memory:
        tracemalloc.start()
        function(*args)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return value, elapsed, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="Epoch svg_extracted_data.csv")
    parser.add_argument("--baseline-starts", type=int, default=4500,
                        help="grid points for the baseline (4500 = Hoffmann's full grid; fewer "
                             "are timed and scaled to 4500)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats of scalinglaws.fit")
    args = parser.parse_args()
    runs = sl.load_runs(args.data).exclude_top_loss(5)
    sl.fit(runs)  # warm-up (imports, caches)
    times = []
    for repeat in range(args.repeats):
        result, elapsed, peak_now = measure(sl.fit, runs, trace_memory=repeat == 0)
        peak = peak_now if repeat == 0 else peak
        times.append(elapsed)
    fit_time = float(np.median(times))
    (best, n_base), base_time, _ = measure(baseline, runs, args.baseline_starts, trace_memory=False)
    _, _, base_peak = measure(baseline, runs, 20)
    per_start = base_time / n_base
    full_base = per_start * 4500
    print(f"data: {len(runs)} runs from {args.data}")
    print(f"scalinglaws.fit   : {fit_time:8.3f} s (median of {args.repeats}; min {min(times):.3f}) "
          f"objective {result.objective:.12g}  peak {peak / 2**20:6.1f} MiB  "
          f"starts {result.n_starts}, {len(result.best_basin_starts)} in the best basin")
    print(f"L-BFGS-B loop     : {base_time:8.3f} s for {n_base} starts "
          f"({full_base:.1f} s for 4500)  objective {best.fun:.12g}  peak {base_peak / 2**20:6.1f} MiB "
          "(20 starts)")
    print(f"speed-up          : {full_base / fit_time:8.1f} x   objective difference "
          f"(fit - baseline) {result.objective - best.fun:+.3e}")
    print("params (fit)      : " + ", ".join(f"{k}={v:.6g}" for k, v in result.params.items()))


if __name__ == "__main__":
    main()
