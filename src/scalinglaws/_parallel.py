"""Independent blocks of work, run in-process or on joblib workers, whichever pays.

Starting worker processes costs a fresh interpreter importing numpy, scipy and the
package, then receiving the data: 0.5-8 s on the README's 2-core machine depending on its
load. The bootstrap, the grouped bootstrap and grouped fits therefore run their blocks
in-process unless each worker would get more than :data:`PROCESS_CROSSOVER_SECONDS` of
work (:func:`plan_workers`); an explicit ``backend`` (``"loky"``, ``"threading"``,
``"dask"`` inside a ``dask.distributed.Client``...) is always used as given. A block's
result never depends on where it ran, so the choice changes only the time.

Work that spends its time inside numpy calls that release the GIL (elementwise
operations and ``einsum`` on large arrays: the bootstrap's refits) can say so
(``threads=True``); when processes do not pay, its blocks then run on threads of this
process, which start in microseconds and share its memory (:func:`plan_threads`).
"""

from __future__ import annotations

import os
import time

__all__ = ["PROCESS_CROSSOVER_SECONDS", "THREAD_CROSSOVER_SECONDS", "plan_workers",
           "plan_threads", "map_blocks", "usable_cores"]

# Measured on the README's 2-core machine: starting two loky workers cost 0.5-8 s
# depending on the machine's load (bench/bench_bootstrap.py); below this many estimated
# seconds of work per worker, processes do not pay
PROCESS_CROSSOVER_SECONDS = 8.0
# Below this many estimated seconds of work per thread, threads do not pay: measured on the
# README's 2-core machine with the bootstrap (in halves on 2 threads against in-process,
# medians of 7): 200 resamples of the 240 Epoch runs 0.68x, 1,000 1.05x, 3,000 1.24x,
# 10,000 1.33-1.44x; the GIL-bound step logic between numpy calls caps the gain. Grouped
# fits do not use threads: their batched step (many small numpy calls) in halves on 2
# threads took 1.1-2.1x the time of one block (4-64 groups of 60-240 runs, Porian et al.'s
# 15 settings; load 0.7-12), their single-fit refits 0.79-1.03x, 0.93-1.03x in 9 of
# 10 runs (load 6-10; bench/bench_grouped.py --jobs)
THREAD_CROSSOVER_SECONDS = 0.15


def usable_cores() -> int:
    """The CPUs this process may run on: its affinity where the system says (a container
    or ``taskset`` may allow fewer than the machine has), else ``os.cpu_count()``."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def plan_workers(n_jobs: int, n_blocks: int, seconds: float, backend: str | None = None,
                 cpu_count: int | None = None) -> int:
    """Worker processes (or ``backend`` workers) a blocked job will use; 1 means in-process.

    ``n_jobs`` follows joblib (``-1`` = every core, ``-2`` = all but one); the count is
    capped by the cores and the number of blocks (``n_jobs=1000`` on 2 cores with 3
    blocks gives 2 workers, never 1000). Without an explicit ``backend``, processes are
    used only when the estimated in-process time ``seconds`` per worker exceeds
    :data:`PROCESS_CROSSOVER_SECONDS`, the start-up cost measured on this machine.

    Examples
    --------
    >>> plan_workers(1000, 3, seconds=600.0, cpu_count=2)
    2
    >>> plan_workers(2, 10, seconds=0.5, cpu_count=2)   # 0.5 s of work: not worth a process
    1
    """
    cores = cpu_count or usable_cores()
    wanted = n_jobs if n_jobs > 0 else max(1, cores + 1 + n_jobs)
    local = backend in (None, "loky", "multiprocessing", "threading")
    workers = max(1, min(wanted, n_blocks, cores if local else wanted))
    if backend is None and seconds / workers < PROCESS_CROSSOVER_SECONDS:
        return 1
    return workers


def plan_threads(n_jobs: int, n_blocks: int, seconds: float, cpu_count: int | None = None) -> int:
    """Threads a blocked job whose work releases the GIL will use; 1 means this thread.

    Capped like :func:`plan_workers` by the cores and the blocks; more than one only
    when each thread gets more than :data:`THREAD_CROSSOVER_SECONDS` of work.

    Examples
    --------
    >>> plan_threads(-1, 3, seconds=1.0, cpu_count=2)
    2
    >>> plan_threads(2, 3, seconds=0.01, cpu_count=2)   # 10 ms: not worth a thread
    1
    """
    workers = plan_workers(n_jobs, n_blocks, seconds, "threading", cpu_count)
    return workers if seconds / workers >= THREAD_CROSSOVER_SECONDS else 1


def map_blocks(function, tasks, *, n_jobs: int, backend: str | None = None,
               seconds: float | None = None, show: bool = False, desc: str = "",
               unit: str = "block", threads: bool = False) -> list:
    """``[function(*task) for task in tasks]``, in order, in-process or on workers.

    ``seconds`` is the estimated in-process time of all tasks; without it (and without
    an explicit ``backend``) the first task runs in-process and its time, times the
    number of tasks left, is the estimate for the rest. ``show`` draws a progress bar.
    ``threads`` says that ``function`` spends its time in numpy calls that release the
    GIL: when processes do not pay, the tasks then run on :func:`plan_threads` threads.
    On Ctrl-C no worker process outlives the interrupt.

    Examples
    --------
    >>> map_blocks(pow, [(2, 3), (3, 2)], n_jobs=2)   # far too little work for processes
    [8, 9]
    """
    from ._progress import progress_bar

    tasks = list(tasks)
    done = []
    if backend is None and n_jobs != 1 and len(tasks) > 1 and seconds is None:
        start = time.perf_counter()
        done.append(function(*tasks[0]))
        tasks = tasks[1:]
        seconds = (time.perf_counter() - start) * len(tasks)
    workers = 1 if (n_jobs == 1 and backend is None) else plan_workers(
        n_jobs, len(tasks), seconds or 0.0, backend)
    bar = progress_bar(tasks, disable=not show, desc=desc, unit=unit, initial=len(done),
                       total=len(done) + len(tasks))
    if workers == 1 and backend is None:
        n_threads = plan_threads(n_jobs, len(tasks), seconds or 0.0) if threads and n_jobs != 1 \
            else 1
        if n_threads > 1:
            return done + _on_threads(function, tasks, n_threads, bar)
        return done + [function(*task) for task in bar]
    from joblib import Parallel, delayed, parallel_backend

    try:
        with parallel_backend(backend or "loky", n_jobs=workers):
            return done + list(Parallel()(delayed(function)(*task) for task in bar))
    except KeyboardInterrupt:
        # joblib stops feeding tasks; make sure no worker process outlives the interrupt
        # (loky keeps an idle pool alive for reuse otherwise)
        if backend in (None, "loky"):
            from joblib.externals.loky import reusable_executor

            pool = getattr(reusable_executor, "_executor", None)
            if pool is not None:
                pool.shutdown(wait=False, kill_workers=True)
        raise


def _on_threads(function, tasks, n_threads, bar) -> list:
    """The tasks on ``n_threads`` threads, results in task order, ``bar`` advanced as each
    finishes; on Ctrl-C the tasks not started are cancelled (a running one finishes)."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    pool = ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="scalinglaws")
    try:
        futures = [pool.submit(function, *task) for task in tasks]
        for _ in as_completed(futures):
            bar.update(1)
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
