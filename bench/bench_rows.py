"""Benchmark: fit time and peak memory against the number of rows (runs).

Each size runs in a fresh child process (so its peak resident memory is its own):
synthetic runs with N and D log-uniform over 1e7-1e10 parameters and 1e9-1e12 tokens,
loss from Besiroglu et al.'s Table 1 law times 1% log-normal noise, fitted with the
default Chinchilla settings after a warm-up fit. Prints, per size, the wall time of the
fit, time per row and its ratio to the 24,000-row size, the peak RSS of the whole child
(Python, numpy, scipy and the data included) and before the fit, the objective and the
fitted exponents, then the log-log slope of time against rows.

    python bench/bench_rows.py [--rows 240 2400 24000 240000 1000000]
"""

from __future__ import annotations

import os

# one BLAS thread, as the issue measured: on a busy 2-core machine OpenBLAS threads
# spin-wait and slow the scipy loops by an order of magnitude
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse
import json
import subprocess
import sys

import numpy as np

CHILD = r"""
import json, resource, sys, time
import numpy as np
import scalinglaws as sl
from scalinglaws.laws.forms import get_form
from scalinglaws.laws.synthetic import DEFAULT_TRUTH

n = int(sys.argv[1])
rng = np.random.default_rng(0)
N = np.exp(rng.uniform(np.log(1e7), np.log(1e10), n))
D = np.exp(rng.uniform(np.log(1e9), np.log(1e12), n))
L = get_form("chinchilla").predict(DEFAULT_TRUTH["chinchilla"], N=N, D=D) * np.exp(
    rng.normal(0, 0.01, n))
sl.fit(sl.generate_sweep(rng=0))  # warm-up: imports and caches
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
start = time.perf_counter()
result = sl.LawFitter("chinchilla").fit_arrays({"N": N, "D": D}, L)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"rows": n, "seconds": seconds, "peak": peak, "before": before,
                  "objective": result.objective, "status": result.status,
                  "alpha": result.params["alpha"], "beta": result.params["beta"]}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+",
                        default=[240, 2400, 24000, 240000, 1000000])
    args = parser.parse_args()
    from bench_fit import machine

    print(f"machine: {machine()}")
    out = []
    for n in args.rows:
        done = subprocess.run([sys.executable, "-c", CHILD, str(n)], capture_output=True,
                              text=True, check=True)
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    reference = next((o for o in out if o["rows"] == 24000), out[0])
    per_row_ref = reference["seconds"] / reference["rows"]
    print(f"{'rows':>9} {'seconds':>8} {'us/row':>8} {'/24k':>6} {'peak RSS':>9} "
          f"{'before fit':>10}  objective       status alpha   beta")
    for o in out:
        per_row = o["seconds"] / o["rows"]
        print(f"{o['rows']:>9,} {o['seconds']:8.2f} {per_row * 1e6:8.2f} "
              f"{per_row / per_row_ref:6.2f} {o['peak'] / 2**20:7.0f}MB {o['before'] / 2**20:8.0f}MB"
              f"  {o['objective']:.9g} {o['status']:>3}   {o['alpha']:.4f}  {o['beta']:.4f}")
    rows = np.array([o["rows"] for o in out], float)
    seconds = np.array([o["seconds"] for o in out])
    big = rows >= 24000
    if big.sum() >= 2:
        slope = np.polyfit(np.log(rows[big]), np.log(seconds[big]), 1)[0]
        print(f"log-log slope of time against rows (>= 24,000 rows): {slope:.2f}")
    slope_all = np.polyfit(np.log(rows), np.log(seconds), 1)[0]
    print(f"log-log slope of time against rows (all sizes): {slope_all:.2f}")


if __name__ == "__main__":
    main()
