import os

import pytest

from scalinglaws import _parallel
from scalinglaws._parallel import map_blocks


def test_workers_capped_by_cores_and_blocks_and_worth_starting():
    from scalinglaws._parallel import PROCESS_CROSSOVER_SECONDS, plan_workers

    assert plan_workers(1000, 1, seconds=1e6, cpu_count=2) == 1  # one block: one worker
    assert plan_workers(1000, 50, seconds=1e6, cpu_count=2) == 2  # never 1000 processes
    assert plan_workers(-1, 50, seconds=1e6, cpu_count=2) == 2
    assert plan_workers(-2, 50, seconds=1e6, cpu_count=4) == 3
    # too little work per worker to pay for starting processes: in-process
    assert plan_workers(2, 50, seconds=PROCESS_CROSSOVER_SECONDS, cpu_count=2) == 1
    assert plan_workers(2, 50, seconds=4 * PROCESS_CROSSOVER_SECONDS, cpu_count=2) == 2
    # an explicit backend is obeyed (a dask cluster may have more workers than local cores)
    assert plan_workers(8, 50, seconds=0.1, backend="dask", cpu_count=2) == 8
    assert plan_workers(8, 50, seconds=0.1, backend="loky", cpu_count=2) == 2


def _pid_after(seconds, value):
    import time

    time.sleep(seconds)
    return os.getpid(), value


def test_blocks_run_in_process_when_processes_do_not_pay():
    """The first block is timed in-process; 0.05 s a block is far below the crossover."""
    out = map_blocks(_pid_after, [(0.05, i) for i in range(4)], n_jobs=2)
    assert [v for _, v in out] == [0, 1, 2, 3] and {pid for pid, _ in out} == {os.getpid()}


def test_blocks_go_to_workers_when_the_first_block_says_they_pay(monkeypatch):
    monkeypatch.setattr(_parallel, "PROCESS_CROSSOVER_SECONDS", 0.01)
    out = map_blocks(_pid_after, [(0.05, i) for i in range(5)], n_jobs=2)
    pids = [pid for pid, _ in out]
    assert [v for _, v in out] == [0, 1, 2, 3, 4]  # in order
    assert pids[0] == os.getpid() and os.getpid() not in pids[1:]  # the timed block, then workers


@pytest.mark.parametrize("backend", ["threading"])
def test_an_explicit_backend_is_used_as_given(backend):
    out = map_blocks(_pid_after, [(0.0, i) for i in range(3)], n_jobs=2, backend=backend)
    assert [v for _, v in out] == [0, 1, 2]


def test_threads_only_where_each_gets_enough_work():
    from scalinglaws._parallel import THREAD_CROSSOVER_SECONDS, plan_threads

    assert plan_threads(2, 4, seconds=4 * THREAD_CROSSOVER_SECONDS, cpu_count=2) == 2
    assert plan_threads(-1, 4, seconds=4 * THREAD_CROSSOVER_SECONDS, cpu_count=2) == 2
    assert plan_threads(8, 4, seconds=1e6, cpu_count=2) == 2  # capped by the cores
    assert plan_threads(2, 1, seconds=1e6, cpu_count=2) == 1  # one block: one thread
    assert plan_threads(2, 4, seconds=THREAD_CROSSOVER_SECONDS, cpu_count=2) == 1


def _thread_after(seconds, value):
    import threading
    import time

    time.sleep(seconds)
    return threading.get_ident(), value


def test_work_that_releases_the_gil_runs_on_threads_in_order(monkeypatch):
    import threading

    monkeypatch.setattr(_parallel, "THREAD_CROSSOVER_SECONDS", 0.01)
    monkeypatch.setattr(_parallel, "usable_cores", lambda: 2)
    out = map_blocks(_thread_after, [(0.05, i) for i in range(5)], n_jobs=2, threads=True)
    idents = [ident for ident, _ in out]
    assert [v for _, v in out] == [0, 1, 2, 3, 4]
    # the first block is timed here; the rest ran on other threads of this process
    assert idents[0] == threading.get_ident() and threading.get_ident() not in idents[1:]
    # without threads=True (or with n_jobs=1) everything stays on this thread
    out = map_blocks(_thread_after, [(0.05, i) for i in range(3)], n_jobs=1, threads=True)
    assert {ident for ident, _ in out} == {threading.get_ident()}


def test_cores_are_the_ones_this_process_may_use(monkeypatch):
    # a container or taskset may allow fewer CPUs than os.cpu_count() reports
    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity on this system")
    monkeypatch.setattr(_parallel.os, "sched_getaffinity", lambda pid: {0})
    monkeypatch.setattr(_parallel.os, "cpu_count", lambda: 64)
    assert _parallel.usable_cores() == 1
    assert _parallel.plan_threads(-1, 8, seconds=100.0) == 1
    assert _parallel.plan_workers(-1, 8, seconds=1e6) == 1
