"""Benchmark: the default fit against its floor and against L-BFGS-B loops, in one run.

On the 240 Epoch AI Chinchilla runs (5 highest-loss runs dropped, as in the
replication), all minimising the same objective (sum of Huber_{1e-3} on log residuals,
Hoffmann et al. App. D.2), measured in this one process:

* the **floor**: one vectorised value-only evaluation of the objective over Hoffmann's
  4,500 starts x 240 runs (a (4500, 240) numpy array, ``np.logaddexp``), the issue's
  definition; also shown, the same evaluation in cache-sized blocks of starts and the
  engine's own value pass;
* ``scalinglaws.fit`` with default settings (median and minimum of ``--repeats``);
* the replication's loop: scipy ``minimize(method="L-BFGS-B")`` from every grid start,
  finite-difference gradient (timed on ``--fd-starts`` starts, scaled to 4,500);
* the same loop with the exact gradient (timed on ``--exact-starts`` starts, scaled).

Prints every time, the ratios (fit / floor, loops / fit) and the objectives, then the
peak traced memory of a fit. Ratios are what to compare across machines.

    python bench/bench_fit.py [--data PATH] [--repeats 7] [--fd-starts 100] [--exact-starts 500]
"""

from __future__ import annotations

import os

# one BLAS thread, as the issue measured: on a busy 2-core machine OpenBLAS threads
# spin-wait and slow the scipy loops by an order of magnitude
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse
import itertools
import platform
import time
import tracemalloc
from pathlib import Path

import numpy as np
from scipy import optimize, special

import scalinglaws as sl

DEFAULT_DATA = (Path(__file__).resolve().parents[2] / "shared" / "datasets" / "chinchilla_epoch"
                / "svg_extracted_data.csv")
GRID = np.array(list(itertools.product(np.arange(-1, 1.01, 0.5), np.arange(0, 26, 5),
                                       np.arange(0, 26, 5), np.arange(0, 2.01, 0.5),
                                       np.arange(0, 2.01, 0.5))), dtype=float)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{os.cpu_count()} cores, {cpu}; load average {load:.2f} at start"


CPU = {}  # label -> CPU seconds of each call (robust to other processes on the machine)


def best_of(function, repeats, label=None):
    times, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        value = function()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    if label:
        CPU[label] = cpu
    return value, times


def floor_vectorised(ln_n, ln_d, ln_l):
    """The objective at every grid start, one (4500, 240) array (the issue's floor)."""
    e, a, b, alpha, beta = (GRID[:, i:i + 1] for i in range(5))
    pred = np.logaddexp(np.logaddexp(a - alpha * ln_n, b - beta * ln_d), e)
    return special.huber(1e-3, pred - ln_l).sum(axis=1)


def floor_blocked(ln_n, ln_d, ln_l, block=256):
    out = np.empty(len(GRID))
    for lo in range(0, len(GRID), block):
        g = GRID[lo:lo + block]
        t1, t2, e = g[:, 1:2] - g[:, 3:4] * ln_n, g[:, 2:3] - g[:, 4:5] * ln_d, g[:, 0:1]
        top = np.maximum(np.maximum(t1, t2), e)
        total = np.exp(t1 - top)
        total += np.exp(t2 - top)
        total += np.exp(e - top)
        r = np.log(total)
        r += top
        r -= ln_l
        size = np.abs(r)
        out[lo:lo + block] = np.where(size <= 1e-3, 0.5 * r * r, 1e-3 * (size - 0.5e-3)).sum(1)
    return out


def loop(ln_n, ln_d, ln_l, starts, exact):
    """L-BFGS-B from each start (finite differences or exact gradient); the best result."""
    def objective(p):
        e, a, b, alpha, beta = p
        t1, t2 = a - alpha * ln_n, b - beta * ln_d
        pred = np.logaddexp(np.logaddexp(t1, t2), e)
        r = pred - ln_l
        value = float(np.sum(special.huber(1e-3, r)))
        if not exact:
            return value
        psi = np.clip(r, -1e-3, 1e-3)
        s_e, s_a, s_b = np.exp(e - pred), np.exp(t1 - pred), np.exp(t2 - pred)
        grad = np.array([psi @ s_e, psi @ s_a, psi @ s_b, -(psi * s_a) @ ln_n,
                         -(psi * s_b) @ ln_d])
        return value, grad

    best = None
    for start in starts:
        res = optimize.minimize(objective, start, jac=exact, method="L-BFGS-B")
        if res.success and (best is None or res.fun < best.fun):
            best = res
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="Epoch svg_extracted_data.csv")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats of fit and floor")
    parser.add_argument("--fd-starts", type=int, default=100,
                        help="grid starts timed for the finite-difference loop (scaled to 4500)")
    parser.add_argument("--exact-starts", type=int, default=500,
                        help="grid starts timed for the exact-gradient loop (scaled to 4500)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    runs = sl.load_runs(args.data).exclude_top_loss(5)
    ln_n, ln_d, ln_l = np.log(runs.N), np.log(runs.D), np.log(runs.loss)
    sl.fit(runs)  # warm-up (imports, caches)
    fitter = sl.LawFitter("chinchilla")
    from scalinglaws.fitting.engine import evaluate_starts

    residuals = fitter.residual_function(runs)
    floor_value, floor_times = best_of(lambda: floor_vectorised(ln_n, ln_d, ln_l), args.repeats,
                                       "floor")
    blocked_value, blocked_times = best_of(lambda: floor_blocked(ln_n, ln_d, ln_l), args.repeats)
    _, engine_times = best_of(lambda: evaluate_starts(residuals, GRID, fitter.loss), args.repeats)
    assert np.allclose(floor_value, blocked_value, rtol=1e-9)
    result, fit_times = best_of(lambda: sl.fit(runs), args.repeats, "fit")
    fd_grid = GRID[np.linspace(0, len(GRID) - 1, min(args.fd_starts, len(GRID))).astype(int)]
    exact_grid = GRID[np.linspace(0, len(GRID) - 1, min(args.exact_starts, len(GRID))).astype(int)]
    fd_best, fd_time = best_of(lambda: loop(ln_n, ln_d, ln_l, fd_grid, False), 1, "fd")
    exact_best, exact_time = best_of(lambda: loop(ln_n, ln_d, ln_l, exact_grid, True), 1, "exact")
    fd_full = fd_time[0] * len(GRID) / len(fd_grid)
    exact_full = exact_time[0] * len(GRID) / len(exact_grid)
    tracemalloc.start()
    sl.fit(runs)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    fit_med, fit_min = float(np.median(fit_times)), min(fit_times)
    floor_min = min(floor_times)
    print(f"data: {len(runs)} runs from {args.data}")
    print(f"floor (one (4500, {len(runs)}) value-only evaluation): {floor_min * 1e3:7.1f} ms"
          f"  [in blocks of 256 starts: {min(blocked_times) * 1e3:.1f} ms; engine's value pass "
          f"{min(engine_times) * 1e3:.1f} ms]")
    print(f"scalinglaws.fit (default)  : {fit_med * 1e3:7.1f} ms median, {fit_min * 1e3:.1f} ms "
          f"min of {args.repeats}; objective {result.objective:.15g}; {result.nit} iterations")
    print(f"L-BFGS-B, finite differences: {fd_full:7.1f} s for 4500 starts ({len(fd_grid)} timed, "
          f"{fd_time[0]:.1f} s); best objective {fd_best.fun:.15g}")
    print(f"L-BFGS-B, exact gradient    : {exact_full:7.1f} s for 4500 starts ({len(exact_grid)} "
          f"timed, {exact_time[0]:.1f} s); best objective {exact_best.fun:.15g}")
    print(f"ratio fit / floor           : {fit_med / floor_min:7.2f} x (median fit; min "
          f"{fit_min / floor_min:.2f}; against the blocked floor {fit_med / min(blocked_times):.2f})")
    print(f"speed-up vs finite-diff loop: {fd_full / fit_med:7.0f} x")
    print(f"speed-up vs exact-grad loop : {exact_full / fit_med:7.0f} x")
    print(f"objective (fit - loop)      : finite differences {result.objective - fd_best.fun:+.3e}"
          f" ({(result.objective - fd_best.fun) / fd_best.fun:+.2e} rel), exact gradient "
          f"{result.objective - exact_best.fun:+.3e} "
          f"({(result.objective - exact_best.fun) / exact_best.fun:+.2e} rel)")
    fit_cpu, floor_cpu = float(np.median(CPU["fit"])), min(CPU["floor"])
    fd_cpu = CPU["fd"][0] * len(GRID) / len(fd_grid)
    exact_cpu = CPU["exact"][0] * len(GRID) / len(exact_grid)
    print(f"the same in CPU seconds     : fit {fit_cpu * 1e3:.1f} ms, floor {floor_cpu * 1e3:.1f} ms"
          f" (ratio {fit_cpu / floor_cpu:.2f}); loops {fd_cpu:.1f} s and {exact_cpu:.1f} s "
          f"(speed-ups {fd_cpu / fit_cpu:.0f} x and {exact_cpu / fit_cpu:.0f} x)")
    print(f"peak traced memory of a fit : {peak / 2**20:.1f} MiB")
    print("params (fit)                : " + ", ".join(f"{k}={v:.6g}"
                                                      for k, v in result.params.items()))


if __name__ == "__main__":
    main()
