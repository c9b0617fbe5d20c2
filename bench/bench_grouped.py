"""Grouped fits at scale: 200 groups fitted jointly against one group, timed in one run.

Target (issue 14): 200 groups fitted jointly (one objective, alpha and beta shared,
E, A, B per group) take less than 20x the time of fitting one group with
``scalinglaws.fit``. Two layouts of the 200 groups:

* ``shared runs``: the same 108 runs (9 budgets x 12 sizes) scored on 200 tasks or
  domains, each with its own law and noise: the per-task / per-domain case, where the
  groups share one evaluation of the law per step;
* ``own runs``: 200 different sweeps (each group's own sizes), the worst case.

Each timing is the median of ``--repeats`` runs; the baseline ``scalinglaws.fit`` of one
group is measured in the same process, so the ratio does not depend on the machine's
speed (it does on its load: run on a quiet machine). Beside the wall-clock ratio the
script prints the same ratio in CPU time of this process, which other work on a shared
machine disturbs much less (numpy runs these fits on one thread).

    python bench/bench_grouped.py [--groups 200] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np
import pandas as pd

import scalinglaws as sl
from scalinglaws.laws.synthetic import DEFAULT_BUDGETS, DEFAULT_TRUTH


def tasks(n_groups: int, own_runs: bool) -> pd.DataFrame:
    """``n_groups`` groups with their own E, A, B (and one alpha, beta)."""
    rng = np.random.default_rng(0)
    truth = DEFAULT_TRUTH["chinchilla"]
    frames = []
    for g in range(n_groups):
        params = dict(truth, E=truth["E"] * rng.uniform(0.8, 1.2),
                      A=truth["A"] * rng.uniform(0.5, 2.0), B=truth["B"] * rng.uniform(0.5, 2.0))
        # own runs: each group sweeps its own budgets and sizes (no two groups share a run)
        sizes = {"n_sizes": 10 + g % 5, "span": 8.0 + (g % 7),
                 "budgets": np.array(DEFAULT_BUDGETS) * (1 + 0.01 * g)} if own_runs else {}
        frames.append(sl.generate_sweep(params=params, rng=g, **sizes).to_frame()
                      .assign(task=g))
    return pd.concat(frames, ignore_index=True)


def timed(function, repeats: int) -> tuple[float, float, object]:
    """Median wall-clock and CPU seconds of ``repeats`` calls, and the last output."""
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = function()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    return float(np.median(walls)), float(np.median(cpus)), out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore", sl.ScalingLawsWarning)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"{platform.python_implementation()} {platform.python_version()}, numpy {np.__version__}")
    for label, own in (("shared runs", False), ("own runs", True)):
        frame = tasks(args.groups, own)
        # one group: the median time of scalinglaws.fit over the first ten groups
        ones = [frame[frame["task"] == g].drop(columns="task") for g in range(10)]
        sl.fit(ones[0], "chinchilla")  # warm up imports and caches
        singles = [timed(lambda one=one: sl.fit(one, "chinchilla"), args.repeats)[:2]
                   for one in ones]
        single, single_cpu = np.median(singles, axis=0)
        joint, joint_cpu, result = timed(
            lambda frame=frame: sl.fit(frame, "chinchilla", groups="task",
                                       shared=["alpha", "beta"]), args.repeats)
        separate, separate_cpu, _ = timed(
            lambda frame=frame: sl.fit(frame, "chinchilla", groups="task"), args.repeats)
        first = frame[frame["task"] == 0]
        lone, _, _ = timed(lambda first=first: sl.fit(first, "chinchilla", groups="task"),
                           args.repeats)

        def ratio(wall, cpu, single=single, single_cpu=single_cpu):
            return (f"{wall:8.3f} s = {wall / single:5.1f}x one group "
                    f"(CPU {cpu:6.3f} s = {cpu / single_cpu:5.1f}x)")

        print(f"\n{label}: {args.groups} groups, {len(frame)} runs")
        print(f"  one group, scalinglaws.fit (median of 10 groups) {single:8.3f} s "
              f"(CPU {single_cpu:6.3f} s)")
        print(f"  one group, fit(groups=)            {lone:8.3f} s")
        print(f"  {args.groups} groups separately, one batch  {ratio(separate, separate_cpu)}")
        print(f"  {args.groups} groups jointly (alpha, beta shared) {ratio(joint, joint_cpu)}; "
              f"target < 20x; status {result.status}, objective {result.objective:.12g}, "
              f"alpha = {result.shared_params['alpha']:.4f}, "
              f"beta = {result.shared_params['beta']:.4f}")

if __name__ == "__main__":
    main()
