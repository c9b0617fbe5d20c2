"""One BLAS thread around the package's own small dense linear algebra.

The package's matrices are small (runs x a few parameters: at most a few thousand rows
and some tens of columns), and OpenBLAS's threads spin-wait for one another: on the
README's 2-core machine shared with other work (load 5-9), one SVD of a 1,745 x 47
matrix (what scipy's ``least_squares`` takes each step of the joint fit of Porian et
al.'s 15 settings with alpha and beta shared) took 0.7-1.0 s on OpenBLAS's default two
threads against 2.5 ms on one, and the whole fit 37 s against 2.8 s (medians;
``bench/bench_blas_threads.py``). :func:`one_blas_thread` limits the BLAS libraries
loaded in this process (numpy's and scipy's OpenBLAS, MKL...) to one thread while the
block runs and restores them after; entering and leaving it costs 14-80 us. On the same
machine idle (load 0.6-0.9) one thread is still the faster: 1.83 ms against 3.08 ms for
that SVD and 0.74 s against 0.95 s for that fit (medians).

It only ever lowers the thread count, so a user's own ``OPENBLAS_NUM_THREADS``,
``OMP_NUM_THREADS`` or ``threadpoolctl.threadpool_limits`` is never widened (and while
another Python thread holds its own ``threadpool_limits`` on OpenBLAS's pthreads
build, threadpoolctl >= 3.6 leaves that thread's setting alone: the limit is then
the user's). The fits checked come out the same bit for bit with and without it
(``tests/test_blas.py``, ``tests/fitting/test_polish.py``); the SVD's U can differ in
the last bit between one and two threads, so one thread also keeps a polish from
depending on the machine's cores. ``threadpoolctl`` (scikit-learn's small pure-Python
dependency) does the limiting; it is imported on the first use.
"""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager

__all__ = ["one_blas_thread"]

# numpy's and scipy's BLAS are separate libraries (two OpenBLAS copies in the wheels),
# loaded when these modules are first imported; a controller made before scipy.linalg
# was imported would not see scipy's, so the cache is keyed by which of them are loaded
_BLAS_MODULES = ("numpy", "scipy.linalg")
_lock = threading.Lock()
_controllers: dict = {}
# one limit for all threads of the process: BLAS's thread count is a global of each
# library, so the first thread to enter sets it and the last to leave restores it (two
# overlapping limits each restoring what it saw would leave the process at one thread)
_depth = 0
_limiter = None


def _blas_controller():
    """A cached ``threadpoolctl.ThreadpoolController`` of the BLAS libraries loaded now
    (creating one scans the process's libraries: ~1 ms; entering its limit ~20 us).
    ``bench/bench_blas_threads.py`` replaces this by ``lambda: None`` to time the
    package without the limit."""
    key = tuple(name in sys.modules for name in _BLAS_MODULES)
    if key not in _controllers:
        from threadpoolctl import ThreadpoolController

        _controllers[key] = ThreadpoolController().select(user_api="blas")
    return _controllers[key]


@contextmanager
def one_blas_thread():
    """Run the block with every loaded BLAS library limited to one thread.

    A no-op inside another ``one_blas_thread``. Safe from several threads at once: the
    limit holds until the last of them leaves, and that one restores the thread counts
    seen by the first.

    Examples
    --------
    >>> import numpy as np
    >>> with one_blas_thread():
    ...     float(np.linalg.svd(np.eye(3), compute_uv=False).sum())
    3.0
    """
    global _depth, _limiter
    with _lock:
        if _depth == 0:
            controller = _blas_controller()
            _limiter = None if controller is None else (controller.limit(limits=1),
                                                        threading.current_thread())
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _limiter is not None:
                _restore(*_limiter)
                _limiter = None


def _restore(limiter, setter) -> None:
    """Put back the thread counts ``limiter`` saw, from whichever thread leaves last.

    threadpoolctl >= 3.6 lets only the thread that last set OpenBLAS's (process-wide,
    pthreads) thread count set it again until that thread lets go; the thread that set
    the limit may have left already, so it is let go of here before restoring, and the
    restoring thread lets go after.
    """
    from threadpoolctl import OpenBLASController

    release = getattr(OpenBLASController, "clear_controlling_thread", None)
    if release is not None and setter is not threading.current_thread():
        release(force=True)
    limiter.restore_original_limits()
    if release is not None:
        release()
