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

``--jobs`` measures instead what ``n_jobs=2`` buys (issue 18: never more than 10% slower
than ``n_jobs=1``): 4, 16 and 64 groups of 60-240 runs (each group its own law and sweep)
and Porian et al.'s 15 settings (``../shared``, or $SCALINGLAWS_SHARED), each fitted
separately and with alpha and beta shared, ``n_jobs=1`` and ``n_jobs=2`` interleaved,
medians of ``--repeats``; and whether threads would pay for the separate fits (steps 1-2
of ``scalinglaws.fitting.grouped``): the groups in halves on two threads against one
block in-process, and the single-fit refits of groups the batch leaves unconverged, two at
a time on threads against one after the other. The load average is printed with each line:
on 2 cores, another process's work takes the second core a thread would use. On a loaded
machine OpenBLAS's own threads used to make the scipy polish of a joint fit (Porian's
settings, alpha and beta shared: 47 parameters, 1,745 runs) vary up to 4x between
identical calls (31 s, then 7.5 s, at load 10); the polish now runs on one BLAS thread
(``scalinglaws._blas.one_blas_thread``; ``bench/bench_blas_threads.py``).

    python bench/bench_grouped.py [--groups 200] [--repeats 3]
    python bench/bench_grouped.py --jobs [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

import scalinglaws as sl
from scalinglaws.laws.synthetic import DEFAULT_BUDGETS, DEFAULT_TRUTH


def _group_params(rng, truth) -> dict:
    """A group's own E, A, B drawn around ``truth`` (alpha, beta kept)."""
    return dict(truth, E=truth["E"] * rng.uniform(0.8, 1.2),
                A=truth["A"] * rng.uniform(0.5, 2.0), B=truth["B"] * rng.uniform(0.5, 2.0))


def tasks(n_groups: int, own_runs: bool) -> pd.DataFrame:
    """``n_groups`` groups with their own E, A, B (and one alpha, beta)."""
    rng = np.random.default_rng(0)
    truth = DEFAULT_TRUTH["chinchilla"]
    frames = []
    for g in range(n_groups):
        params = _group_params(rng, truth)
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


SHARED = Path(os.environ.get("SCALINGLAWS_SHARED", Path(__file__).resolve().parents[2] / "shared"))
PORIAN = SHARED / "datasets" / "porian2024" / "porian2024_isoflop.csv"


def mixed_groups(n_groups: int, noise: float = 0.01) -> pd.DataFrame:
    """``n_groups`` groups of 60, 120, 200 and 240 runs in turn (6-12 budgets x 10-20
    sizes), each with its own E, A, B (alpha, beta the default truth's) and sweep."""
    rng = np.random.default_rng(0)
    truth = DEFAULT_TRUTH["chinchilla"]
    frames = []
    for g in range(n_groups):
        params = _group_params(rng, truth)
        n_budgets, n_sizes = ((6, 10), (8, 15), (10, 20), (12, 20))[g % 4]
        frames.append(sl.generate_sweep(params=params, budgets=np.geomspace(6e18, 3e21, n_budgets),
                                        n_sizes=n_sizes, noise=noise, rng=g).to_frame()
                      .assign(task=g))
    return pd.concat(frames, ignore_index=True)


def porian_settings() -> pd.DataFrame | None:
    """Porian et al.'s IsoFLOP runs, one group per setting (15 groups of 88-132 runs)."""
    if not PORIAN.exists():
        return None
    frame = pd.read_csv(PORIAN)
    return frame[["N", "D", "C", "loss", "setting"]].rename(columns={"setting": "task"})


def load() -> str:
    return "load %.2f" % os.getloadavg()[0]


def interleaved(functions, repeats: int) -> list[float]:
    """Median wall-clock seconds of each function, the functions called in turn
    ``repeats`` times (so a change in the machine's load falls on all of them)."""
    times = [[] for _ in functions]
    for _ in range(repeats):
        for function, record in zip(functions, times):
            start = time.perf_counter()
            function()
            record.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def separate_parts(frame):
    """The grouped fitter and each group's inputs and losses, as ``fit`` splits them."""
    from scalinglaws.data.runs import as_runs
    from scalinglaws.fitting.estimator import LawFitter
    from scalinglaws.fitting.grouped import GroupedFitter

    fitter = GroupedFitter(LawFitter("chinchilla"))
    _, _, inputs, targets, _, _ = fitter._split(as_runs(frame), "task", None)
    return fitter, inputs, targets


def on_two_threads(function, tasks):
    with ThreadPoolExecutor(max_workers=2) as pool:
        return [future.result() for future in [pool.submit(function, *t) for t in tasks]]


def jobs_section(repeats: int):
    """``n_jobs=2`` against ``n_jobs=1``, and what threads would do for the separate fits."""
    from scalinglaws.fitting import grouped

    print(f"\nn_jobs=2 / n_jobs=1, medians of {repeats} interleaved ({load()}):")
    cases = [(f"{g} groups of 60-240 runs", mixed_groups(g)) for g in (4, 16, 64)]
    porian = porian_settings()
    if porian is not None:
        cases.append(("Porian's 15 settings", porian))
    # 10% noise leaves 3 of the 64 groups to the single-fit refits, which n_jobs=2 runs on
    # threads (the first timed here, two on threads)
    noisy = ("64 groups, 10% noise", mixed_groups(64, noise=0.1))
    for label, frame in cases + [noisy]:
        for shared in ([], ["alpha", "beta"]):
            def run(n_jobs, frame=frame, shared=shared):
                return sl.fit(frame, "chinchilla", groups="task", shared=shared, n_jobs=n_jobs)

            one, two = run(1), run(2)
            same = one.objective == two.objective and all(
                one[g].params == two[g].params for g in one.groups)
            t1, t2 = interleaved([lambda: run(1), lambda: run(2)], repeats)
            print(f"  {label:26s} {len(frame):6d} runs, {'shared alpha, beta' if shared else 'separate':18s}"
                  f" n_jobs=1 {t1:7.3f} s; n_jobs=2 {t2 / t1:5.2f}x; same fit: {same}; {load()}",
                  flush=True)

    print(f"\nthreads for the separate fits (steps 1-2), against in-process, medians of {repeats}:")
    for label, frame in cases:
        fitter, inputs, targets = separate_parts(frame)
        whole = (fitter, inputs, targets, None)
        cut = len(targets) // 2
        halves = [(fitter, inputs[:cut], targets[:cut], None),
                  (fitter, inputs[cut:], targets[cut:], None)]
        block = grouped._separate_block
        t_one, t_halves, t_threads = interleaved(
            [lambda: block(*whole), lambda: [block(*h) for h in halves],
             lambda: on_two_threads(block, halves)], repeats)
        print(f"  {label:26s} one block {t_one:6.3f} s; halves in-process {t_halves / t_one:5.2f}x;"
              f" halves on 2 threads {t_threads / t_one:5.2f}x; {load()}", flush=True)

    # the groups a batch leaves unconverged or on a bound are refitted alone by the full
    # single-fit search: the one part of the separate fits that is independent per group
    for label, frame in [noisy] + ([("Porian's 15 settings", porian)] if porian is not None
                                   else []):
        fitter, inputs, targets = separate_parts(frame)
        refitted = []
        single = fitter.fitter.fit_arrays
        fitter.fitter.fit_arrays = lambda x, t, **k: (refitted.append(id(t)), single(x, t, **k))[1]
        grouped._separate_block(fitter, inputs, targets, None)
        fitter.fitter.fit_arrays = single
        chosen = [g for g, t in enumerate(targets) if id(t) in refitted]
        if len(chosen) < 2:  # Porian's data leave one group to refit: time two groups' refits
            chosen = [0, 1]
        tasks = [(inputs[g], targets[g]) for g in chosen]
        t_serial, t_threads = interleaved(
            [lambda: [single(*t) for t in tasks], lambda: on_two_threads(single, tasks)], repeats)
        print(f"  {label:26s} {len(refitted)} group(s) refitted alone; {len(tasks)} single fits "
              f"{t_serial:6.3f} s in-process, on 2 threads {t_threads / t_serial:5.2f}x; {load()}",
              flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", action="store_true",
                        help="measure n_jobs=2 against n_jobs=1 and threads for the separate fits")
    args = parser.parse_args()
    warnings.simplefilter("ignore", sl.ScalingLawsWarning)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"{platform.python_implementation()} {platform.python_version()}, numpy {np.__version__}")
    if args.jobs:
        jobs_section(max(args.repeats, 5))
        return
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
