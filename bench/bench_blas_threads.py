"""BLAS threads and the package's small linear algebra: what one thread buys, in one run.

OpenBLAS starts as many threads as cores and its threads spin-wait for one another; on a
2-core machine busy with other work, a small SVD (1,745 x 47: the scipy polish of a joint
grouped fit) can take a hundred times as long on two threads as on one. The package
therefore runs its scipy polish (``fitting/polish.py``) with BLAS on one thread
(``scalinglaws._blas.one_blas_thread``). This script measures, in one process, the
medians of ``--repeats`` interleaved calls of

* ``scalinglaws.fit`` with default settings on the 240 Epoch AI runs (5 highest-loss
  runs dropped);
* the joint fit of Porian et al.'s 15 settings with alpha and beta shared
  (``sl.fit(runs, groups="setting", shared=["alpha", "beta"])``, 1,745 runs, 47
  parameters);
* ``sl.isoflop_fit`` on Porian's runs (statsmodels OLS on the optima),

each in three modes: ``before`` (the package's limit switched off: BLAS on its default
threads, as before the limit), ``package`` (as shipped) and ``user 1`` (the whole call
inside ``threadpoolctl.threadpool_limits(1)``, what ``OPENBLAS_NUM_THREADS=1`` gives).
Then what one thread could cost where the cores are free: one ``scipy.linalg.svd`` of a
1,745 x 47 matrix (as ``least_squares`` calls it on the grouped fit) on one thread and
on BLAS's default threads, ``--svd-calls`` interleaved calls each, the fastest and the
5th percentile (on a shared machine, the calls that found the cores free; on an idle
one, all of them). Then the cost of entering the limit: ``one_blas_thread()``, a cached
``ThreadpoolController().limit(limits=1, user_api="blas")`` and
``threadpool_limits(1)``, against a default fit's time.

The ratios come first, then the machine (``nproc``, the BLAS libraries and their
threads) and every timing with the load average when it was taken. The case that matters
is a machine loaded by other work; ``--busy 2`` adds two busy-loop processes for the run
when the machine happens to be quiet. Do not set ``OPENBLAS_NUM_THREADS`` for this script.

    python bench/bench_blas_threads.py [--repeats 5] [--svd-calls 400] [--busy 0]
                                       [--data-dir ../shared]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import scalinglaws as sl
import scalinglaws._blas as blas

SHARED = Path(os.environ.get("SCALINGLAWS_SHARED",
                             Path(__file__).resolve().parents[2] / "shared"))
MODES = ("before", "package", "user 1")


def _spin() -> None:  # a competing busy loop, in its own process
    while True:
        pass


def _load() -> str:
    return "load %.1f" % os.getloadavg()[0]


def _call(function, mode: str) -> float:
    """Seconds of one call of ``function`` in ``mode``."""
    from threadpoolctl import threadpool_limits

    original = blas._blas_controller
    if mode == "before":
        blas._blas_controller = lambda: None
    try:
        start = time.perf_counter()
        if mode == "user 1":
            with threadpool_limits(1):
                function()
        else:
            function()
        return time.perf_counter() - start
    finally:
        blas._blas_controller = original


def cases(data_dir: Path) -> dict:
    """The calls to time, by name."""
    epoch = sl.load_runs(data_dir / "datasets" / "chinchilla_epoch" / "svg_extracted_data.csv"
                         ).exclude_top_loss(5)
    porian = sl.load_runs(data_dir / "datasets" / "porian2024" / "porian2024_isoflop.csv",
                          columns={"N": "N"})
    return {
        "fit, Epoch 240 runs": lambda: sl.fit(epoch),
        "grouped, Porian shared alpha beta": lambda: sl.fit(porian, groups="setting",
                                                             shared=["alpha", "beta"]),
        "isoflop_fit, Porian": lambda: sl.isoflop_fit(porian),
    }


def svd_times(n_calls: int) -> dict:
    """Seconds of each of ``n_calls`` SVDs of a 1,745 x 47 matrix, by BLAS threads
    (1 and the default), interleaved."""
    from scipy import linalg
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController().select(user_api="blas")
    default = max(pool["num_threads"] for pool in controller.info())
    matrix = np.random.default_rng(0).standard_normal((1745, 47))
    times = {1: [], default: []}
    for i in range(n_calls):
        for threads in (1, default) if i % 2 else (default, 1):
            with controller.limit(limits=threads):
                start = time.perf_counter()
                # scipy.optimize's trf takes this SVD of the scaled Jacobian each step
                linalg.svd(matrix, full_matrices=False)
                times[threads].append(time.perf_counter() - start)
    return times


def entry_costs(n: int = 300, batches: int = 5) -> dict:
    """Median seconds to enter and leave each way of limiting BLAS to one thread."""
    from threadpoolctl import ThreadpoolController, threadpool_limits

    controller = ThreadpoolController()

    def cached():
        with controller.limit(limits=1, user_api="blas"):
            pass

    def fresh():
        with threadpool_limits(1):
            pass

    def helper():
        with blas.one_blas_thread():
            pass

    out = {}
    for name, function in (("one_blas_thread()", helper),
                           ("cached ThreadpoolController().limit", cached),
                           ("threadpool_limits(1)", fresh)):
        function()
        times = []
        for _ in range(batches):
            start = time.perf_counter()
            for _ in range(n):
                function()
            times.append((time.perf_counter() - start) / n)
        out[name] = statistics.median(times)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--svd-calls", type=int, default=400)
    parser.add_argument("--busy", type=int, default=0,
                        help="busy-loop processes to start for the run")
    parser.add_argument("--data-dir", type=Path, default=SHARED)
    args = parser.parse_args()
    from threadpoolctl import threadpool_info

    warnings.simplefilter("ignore")  # a fit's convergence notes are not what is measured
    spinners = [multiprocessing.get_context("fork").Process(target=_spin, daemon=True)
                for _ in range(args.busy)]
    for process in spinners:
        process.start()
    lines = []
    try:
        calls = cases(args.data_dir)
        for function in calls.values():  # warm: imports, caches
            function()
        times = {(name, mode): [] for name in calls for mode in MODES}
        for repeat in range(args.repeats):
            for name, function in calls.items():
                # interleaved, and the order of the modes turned each repeat
                for mode in MODES[repeat % 3:] + MODES[:repeat % 3]:
                    seconds = _call(function, mode)
                    times[name, mode].append(seconds)
                    line = f"  {name:36s} {mode:8s} {seconds:8.3f} s  {_load()}"
                    lines.append(line)
                    print(line, file=sys.stderr, flush=True)
        svd_load = _load()
        svds = svd_times(args.svd_calls)
        costs = entry_costs()
        cost_load = _load()
    finally:
        for process in spinners:
            process.terminate()
            process.join()

    median = {key: statistics.median(value) for key, value in times.items()}
    print(f"medians of {args.repeats}, interleaved; {args.busy} busy-loop processes of ours")
    print(f"{'case':36s} {'before':>9s} {'package':>9s} {'user 1':>9s} "
          f"{'before/package':>15s} {'package/user 1':>15s}")
    for name in calls:
        b, p, u = (median[name, mode] for mode in MODES)
        print(f"{name:36s} {b:8.3f}s {p:8.3f}s {u:8.3f}s {b / p:14.2f}x {p / u:14.2f}x")
    print(f"\nsvd 1745x47, {args.svd_calls} interleaved calls per thread count ({svd_load}):")
    for threads, seconds in svds.items():
        fastest, p5, mid = np.min(seconds), *np.percentile(seconds, [5, 50])
        print(f"  {threads} BLAS thread{'s' if threads > 1 else ' '}  fastest "
              f"{fastest * 1e3:7.2f} ms  5th percentile {p5 * 1e3:7.2f} ms  median "
              f"{mid * 1e3:7.2f} ms")
    if len(svds) > 1:
        one, many = (np.array(v) for v in svds.values())
        print(f"  one thread / default: fastest {one.min() / many.min():.2f}x, 5th "
              f"percentile {np.percentile(one, 5) / np.percentile(many, 5):.2f}x, median "
              f"{np.median(one) / np.median(many):.2f}x (below 1: one thread is faster)")
    fit_seconds = median["fit, Epoch 240 runs", "package"]
    print(f"\nentering and leaving a one-thread limit ({cost_load}), against the default "
          f"fit's {fit_seconds * 1e3:.0f} ms:")
    for name, seconds in costs.items():
        print(f"  {name:38s} {seconds * 1e6:8.1f} us  {seconds / fit_seconds:8.4%} of a fit")
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores (nproc "
          f"{len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'}), "
          f"Python {platform.python_version()}, numpy {np.__version__}, "
          f"load average {' '.join('%.1f' % x for x in os.getloadavg())}")
    for pool in threadpool_info():
        print(f"  {pool['internal_api']} {pool['version']} ({pool['threading_layer']}): "
              f"{pool['num_threads']} threads, {Path(pool['filepath']).name}")
    env = {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                      "MKL_NUM_THREADS") if k in os.environ}
    print(f"  thread variables set: {env or 'none'}")
    print("\nevery call:")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
