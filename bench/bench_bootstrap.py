"""Benchmark: bootstrap with re-optimisation, against one fit and against BFGS per resample.

On the 240 Epoch AI Chinchilla runs, measured in this one process:

* one default ``scalinglaws.fit`` (median of 5): the unit the bootstrap is compared with;
* ``scalinglaws.bootstrap`` with ``--resamples`` (default 1,000 and 10,000) and
  ``n_jobs`` 1 and 2 (the package's own choice of workers: processes when the work per
  worker outweighs starting them, else threads when each gets enough work, else
  in-process) and, to measure that crossover, with worker
  processes forced (``backend="loky"``, first call and reused pool);
* the engine's default search (Gauss-Newton LM, every pass in full: the bootstrap's
  path before its refine mode) on the first 1,000 resamples, objective by objective;
* the replication's method on the first ``--baseline-resamples`` resamples:
  ``scipy.optimize.minimize(method="BFGS")`` per resample from Hoffmann's unrounded
  values, numerical gradient; its time is scaled to 1,000 resamples, and both methods'
  objectives are compared resample by resample.

    python bench/bench_bootstrap.py [--resamples 1000 10000] [--jobs 1 2]
"""

from __future__ import annotations

import os

# one BLAS thread, as the issue measured: on a busy 2-core machine OpenBLAS threads
# spin-wait and slow the scipy loops by an order of magnitude
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

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


def default_search(result, runs, counts):
    """Objective of each resample refitted by the engine's default search from the
    full-data optimum (the bootstrap's refits before refine mode), and its time."""
    from scalinglaws.fitting.engine import multistart_minimize
    from scalinglaws.fitting.estimator import LawFitter
    from scalinglaws.laws.forms import get_form
    from scalinglaws.uncertainty.bootstrap import _starts

    options = {k: v for k, v in result.options.items() if k in LawFitter.OBJECTIVE_OPTIONS}
    fitter = LawFitter(get_form(result.form), **options)
    start = _starts(result, fitter, runs, 0)[:1]
    residuals = fitter.array_residual_function(runs.inputs(fitter.form.inputs), runs.loss)
    out, seconds = timed(multistart_minimize, residuals, np.repeat(start, len(counts), axis=0),
                         fitter.loss, fitter.lower, fitter.upper, max_iter=200, prune_after=0,
                         stall=0, weights=counts, groups=np.arange(len(counts)))
    return out.fun, seconds


def pass_floor(result, runs, fit_cpu, n=2000, seed=0):
    """Passes per resample, the CPU cost of one pass in rows of the fit's value pass, and
    the ratio to one fit that 10,000 resamples would reach at 5 passes and no other cost."""
    from scalinglaws.fitting.engine import evaluate_starts
    from scalinglaws.fitting.estimator import LawFitter
    from scalinglaws.laws.forms import get_form
    from scalinglaws.uncertainty import bootstrap as module

    options = {k: v for k, v in result.options.items() if k in LawFitter.OBJECTIVE_OPTIONS}
    fitter = LawFitter(get_form(result.form), **options)
    inputs = runs.inputs(fitter.form.inputs)
    residuals = fitter.array_residual_function(inputs, runs.loss)
    grid = fitter._start_points(inputs, runs.loss)
    _, value_pass = cpu_timed(evaluate_starts, residuals, grid, fitter.loss)
    rows, seconds = [0], [0.0]
    lean = module.ResampleModel.lean_pass

    def counted(self, x, weights, idx):
        out, spent = cpu_timed(lean, self, x, weights, idx)
        rows[0] += len(idx)
        seconds[0] += spent
        return out

    module.ResampleModel.lean_pass = counted
    try:
        bootstrap(result, runs, n, rng=seed)
    finally:
        module.ResampleModel.lean_pass = lean
    per_row = value_pass / len(grid)
    passes, cost = rows[0] / n, seconds[0] / rows[0] / per_row
    floor = 10_000 * 5 * cost * per_row / fit_cpu
    print(f"refine mode on {n} resamples: {passes:.2f} passes per resample; a pass costs "
          f"{cost:.2f} rows of the fit's value pass ({seconds[0] / rows[0] * 1e6:.1f} us "
          f"against {per_row * 1e6:.1f} us); one fit = {fit_cpu / value_pass:.2f} value passes "
          f"over {len(grid)} starts; 10,000 resamples at 5 passes and no other cost: "
          f"{floor:.1f} x one fit's CPU time")


def cpu_timed(function, *args, **kwargs):
    start = time.process_time()
    value = function(*args, **kwargs)
    return value, time.process_time() - start


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--resamples", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--baseline-resamples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-processes", action="store_true",
                        help="skip the forced worker-process runs")
    args = parser.parse_args()
    from bench_fit import machine

    print(f"machine: {machine()}")
    runs = sl.load_runs(args.data).exclude_top_loss(5)
    result = sl.fit(runs)
    bootstrap(result, runs, 20, rng=1)  # warm-up
    fit_times = [timed(sl.fit, runs)[1] for _ in range(5)]
    fit_time = float(np.median(fit_times))
    # CPU seconds too: on a shared machine they move less with the load than wall time
    fit_cpu = float(np.median([cpu_timed(sl.fit, runs)[1] for _ in range(5)]))
    print(f"data: {len(runs)} runs; one fit: {fit_time * 1e3:.1f} ms (median of 5; "
          f"CPU {fit_cpu * 1e3:.1f} ms)")
    reference = {}
    for n in args.resamples:
        for jobs in args.jobs:
            boot, seconds = timed(bootstrap, result, runs, n, rng=args.seed, n_jobs=jobs)
            reference.setdefault(n, (boot, seconds))
            same = np.array_equal(boot.draws, reference[n][0].draws)
            print(f"bootstrap {n:>6} resamples, n_jobs={jobs}: {seconds:7.2f} s = "
                  f"{seconds / fit_time:6.1f} x one fit; {seconds / reference[n][1]:5.2f} x "
                  f"n_jobs={args.jobs[0]}; failed {boot.n_failed}; draws identical: {same}")
        if not args.no_processes:
            for label in ("first call", "reused pool"):
                # 8 blocks, so both workers have work (the default block is 4,096 resamples)
                boot, seconds = timed(bootstrap, result, runs, n, rng=args.seed, n_jobs=2,
                                      backend="loky", chunk_size=max(1, n // 8))
                print(f"bootstrap {n:>6} resamples, 2 worker processes, 8 blocks ({label}): "
                      f"{seconds:7.2f} s = {seconds / reference[n][1]:5.2f} x in-process; "
                      f"draws identical: {np.array_equal(boot.draws, reference[n][0].draws)}")
            from joblib.externals.loky import get_reusable_executor

            get_reusable_executor().shutdown(wait=True)  # the next size pays start-up again
    for n in args.resamples:  # in-process: the process's CPU seconds are the bootstrap's
        _, cpu = cpu_timed(bootstrap, result, runs, n, rng=args.seed)
        print(f"bootstrap {n:>6} resamples, n_jobs=1, CPU time: {cpu:7.2f} s = "
              f"{cpu / fit_cpu:6.1f} x one fit's CPU time")
    pass_floor(result, runs, fit_cpu)
    n = args.resamples[0]
    tracemalloc.start()  # a separate run: tracing slows numpy down
    bootstrap(result, runs, n, rng=args.seed)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    boot, ours = reference[n]
    counts = resample_counts(len(runs), n, np.random.default_rng(args.seed))
    subset = counts[:args.baseline_resamples]
    base_fun, base_time = timed(baseline, runs, subset)
    base_time *= n / len(subset)
    default_fun, default_time = default_search(result, runs, counts[:1000])
    # boot.objectives holds the converged resamples only: they line up with the
    # resamples only when none failed
    if boot.n_failed:
        raise SystemExit(f"{boot.n_failed} resamples failed: the objective comparisons below "
                         "would not line up")
    change = boot.objectives[:len(default_fun)] / default_fun - 1
    diff = boot.objectives[:len(subset)] - base_fun
    print(f"peak traced memory, {n} resamples in-process: {peak / 2**20:.1f} MiB")
    print(f"engine's default search on {len(default_fun)} resamples: {default_time:.2f} s; "
          f"objective (ours / default - 1) max {change.max():+.2e}, min {change.min():+.2e}; "
          f"ours lower or equal (1e-12 rel) in {np.mean(change <= 1e-12):.1%}")
    print(f"BFGS per resample: {base_time:.2f} s for {n} (measured on {len(subset)}, scaled); "
          f"speed-up {base_time / ours:.1f} x")
    print(f"objective per resample (ours - BFGS) on {len(subset)}: max {diff.max():+.3e}, "
          f"median {np.median(diff):+.3e}; ours lower or equal (1e-12 rel) in "
          f"{np.mean(diff <= 1e-12 * base_fun):.1%}")
    print(boot.summary())


if __name__ == "__main__":
    main()
