"""One BLAS thread around the package's small linear algebra (``scalinglaws._blas``)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import warnings
from contextlib import contextmanager

import numpy as np
import scipy.linalg  # noqa: F401  (scipy's own BLAS loaded, as in a fit)
from threadpoolctl import OpenBLASController, threadpool_info, threadpool_limits

import scalinglaws as sl
from scalinglaws import _blas
from scalinglaws._blas import one_blas_thread


def _threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_one_thread_inside_and_the_previous_counts_after():
    with threadpool_limits(2, user_api="blas"):
        assert set(_threads()) == {2}
        with one_blas_thread():
            assert set(_threads()) == {1}
            with one_blas_thread():
                assert set(_threads()) == {1}
            assert set(_threads()) == {1}  # the inner one left the outer's limit alone
        assert set(_threads()) == {2}


def test_a_users_own_limit_is_never_widened():
    with threadpool_limits(1, user_api="blas"):
        with one_blas_thread():
            assert set(_threads()) == {1}
        assert set(_threads()) == {1}


def test_restored_when_it_raises():
    with threadpool_limits(2, user_api="blas"):
        try:
            with one_blas_thread():
                raise KeyError("x")
        except KeyError:
            pass
        assert set(_threads()) == {2}


@contextmanager
def _two_threads_set_by_nobody():
    """BLAS on two threads, the way a process starts on 2 cores: threadpoolctl >= 3.6
    lets only the thread that set OpenBLAS's count change it until it lets go, so the
    limit set here is let go of at once."""
    release = getattr(OpenBLASController, "clear_controlling_thread", lambda: None)
    limiter = threadpool_limits(2, user_api="blas")
    release()
    try:
        yield
    finally:
        limiter.restore_original_limits()
        release()


def test_overlapping_threads_keep_the_limit_until_the_last_leaves():
    # A enters, B enters, A leaves (B still needs one thread), B leaves: the counts A saw
    # come back, although B (not A, which set them) is the one that restores them
    inside_b, a_left = threading.Event(), threading.Event()
    seen = {}

    def a():
        with one_blas_thread():
            seen["a inside"] = set(_threads())
            inside_b.wait()
        a_left.set()

    def b():
        with one_blas_thread():
            inside_b.set()
            a_left.wait()
            seen["b after a left"] = set(_threads())

    with _two_threads_set_by_nobody():
        assert set(_threads()) == {2}
        threads = [threading.Thread(target=a), threading.Thread(target=b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert seen == {"a inside": {1}, "b after a left": {1}}
        assert set(_threads()) == {2}
        with one_blas_thread():  # and this thread can still set them
            assert set(_threads()) == {1}
        assert set(_threads()) == {2}


def test_a_blas_library_loaded_after_the_first_use_is_limited_too():
    # numpy's and scipy's OpenBLAS are separate libraries; the first use here sees only
    # numpy's, the second must see scipy's as well
    code = """if True:
        import json, numpy
        from threadpoolctl import OpenBLASController, threadpool_info, threadpool_limits
        from scalinglaws._blas import one_blas_thread
        with one_blas_thread():
            pass
        import scipy.linalg
        with threadpool_limits(2, user_api="blas"):
            with one_blas_thread():
                inside = [p["num_threads"] for p in threadpool_info()]
        print(json.dumps([len(inside), inside]))
    """
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    n_libraries, inside = json.loads(out.stdout)
    assert n_libraries >= 2 and set(inside) == {1}


def test_a_fit_is_the_same_bit_for_bit_with_and_without_the_limit(shared_dir, monkeypatch):
    # the default fit on the 240 Epoch runs (a grouped fit's size, where OpenBLAS does
    # thread, is checked on polish itself in tests/fitting/test_polish.py)
    runs = sl.load_runs(shared_dir / "datasets" / "chinchilla_epoch" / "svg_extracted_data.csv"
                        ).exclude_top_loss(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        limited = sl.fit(runs)
        with threadpool_limits(2, user_api="blas"):
            monkeypatch.setattr(_blas, "_blas_controller", lambda: None)  # limit off
            free = sl.fit(runs)
    assert json.dumps(limited.to_dict(), sort_keys=True, default=str) == \
        json.dumps(free.to_dict(), sort_keys=True, default=str)
    assert dict(limited.params) == dict(free.params)
