"""One BLAS thread around the package's own small dense linear algebra.

The package's matrices are small (runs x a few parameters: at most a few thousand rows
and some tens of columns). For them one BLAS thread is as fast as several on an idle
machine, and much faster on a busy one: OpenBLAS's threads spin-wait for a core, so on
the README's 2-core machine at load 8, the SVDs inside scipy's ``least_squares`` on a
joint grouped fit (Porian et al.'s 15 settings, alpha and beta shared: 1,745 x 47) took
6-10x as long with OpenBLAS's default two threads as with one
(``bench/bench_blas_threads.py``). :func:`one_blas_thread` limits the BLAS libraries
loaded in this process (numpy's and scipy's OpenBLAS, MKL...) to one thread while the
block runs and restores them after.

It only ever lowers the thread count, so a user's own ``OPENBLAS_NUM_THREADS``,
``OMP_NUM_THREADS`` or ``threadpoolctl.threadpool_limits`` is never widened (and while
another Python thread holds its own ``threadpool_limits`` on OpenBLAS's pthreads
build, threadpoolctl >= 3.6 leaves that thread's setting alone: the limit is then
the user's). The
number of threads does not change what the package's calls compute on these sizes
(``tests/test_blas.py`` checks a fit bit for bit). ``threadpoolctl`` (scikit-learn's
small pure-Python dependency) does the limiting; it is imported on the first use.
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

    A no-op where BLAS already runs on one thread or inside another
    ``one_blas_thread``. Safe from several threads at once: the limit holds
    until the last of them leaves, and that one restores the thread counts seen by the
    first.

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
            needed = controller is not None and any(
                (pool["num_threads"] or 1) > 1 for pool in controller.info())
            _limiter = (controller.limit(limits=1), threading.current_thread()) if needed \
                else None
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
