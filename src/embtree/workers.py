"""Independent tasks over forked worker processes, results in task order.

:func:`fork_map`
    ``[fn(shared, item) for item in items]``, the items spread over ``n_jobs`` processes that
    fork from the caller and so read ``shared`` (e.g. a 400 MB logit matrix) without a copy.

For pure-numpy loops that hold one core: the bootstrap replicates of a tree (each one L2H or one
set of figures) are independent, but each is a Python loop of small array steps that a second
BLAS / OpenMP thread does not speed up, so a job given two threads used one. Threads would
contend for the GIL; ``joblib``'s process pools pickle (or hash and dump) the shared arrays for
every task. A forked child inherits them. The result of every task is the one the caller would
compute itself (same function, same inputs), so output does not depend on ``n_jobs``.

Tasks must not run numba's parallel kernels (:mod:`embtree.distances`): numba's threading layer
here is GNU OpenMP, which cannot be used in a child forked from a process that started it
(``set_threads`` does): the child prints "fork() called from a process already using GNU OpenMP"
and hangs. NumPy, BLAS, scipy's linkage and matplotlib are fine (the L2H replicates, the
dendrograms).
"""

from __future__ import annotations

import multiprocessing as mp

__all__ = ["fork_map"]

# What the forked children read: set by fork_map just before the pool forks, cleared after.
_SHARED = None
_FN = None


def _call(item):
    return _FN(_SHARED, item)


def fork_map(fn, items, n_jobs=1, shared=None):
    """``[fn(shared, item) for item in items]`` over ``n_jobs`` forked processes.

    Parameters
    ----------
    fn : callable(shared, item) -> result
        Its results are pickled back to the caller (keep them small: a linkage, not a matrix).
    items : iterable
        The tasks, each pickled to a child (keep them small: indices, not arrays).
    n_jobs : int >= 1
        Processes. 1, or a platform without ``fork`` (Windows; macOS forks), runs in the caller.
    shared : object, optional
        Read by every task without being copied (children see it through the fork).

    Returns
    -------
    list, in the order of ``items``
    """
    global _SHARED, _FN
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise ValueError(f"n_jobs={n_jobs!r} must be an int >= 1")
    items = list(items)
    if n_jobs == 1 or len(items) < 2 or "fork" not in mp.get_all_start_methods():
        return [fn(shared, item) for item in items]
    _SHARED, _FN = shared, fn
    try:
        with mp.get_context("fork").Pool(min(n_jobs, len(items))) as pool:
            return pool.map(_call, items, chunksize=1)
    finally:
        _SHARED = _FN = None
