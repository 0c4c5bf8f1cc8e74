"""embtree.workers.fork_map: the results of a list comprehension, in order, from forked processes."""

import os

import numpy as np
import pytest

from embtree.workers import fork_map


def _row_sum_and_pid(shared, i):
    return float(shared[i].sum()), os.getpid()


def test_fork_map_equals_the_loop_in_order_and_forks():
    shared = np.arange(60.0).reshape(20, 3)
    items = list(range(19, -1, -1))  # not sorted: order must follow items
    got = fork_map(_row_sum_and_pid, items, n_jobs=2, shared=shared)
    assert [v for v, _ in got] == [float(shared[i].sum()) for i in items]
    if "fork" in __import__("multiprocessing").get_all_start_methods():
        assert os.getpid() not in {pid for _, pid in got}  # the tasks ran in children
    inline = fork_map(_row_sum_and_pid, items, n_jobs=1, shared=shared)
    assert {pid for _, pid in inline} == {os.getpid()}
    assert [v for v, _ in inline] == [v for v, _ in got]


def test_fork_map_takes_closures_and_passes_errors_on():
    scale = 3.0
    assert fork_map(lambda s, x: s * x * scale, [1, 2, 3], n_jobs=2, shared=2.0) == [6.0, 12.0, 18.0]

    def boom(_, x):
        if x == 2:
            raise ValueError("task 2 failed")
        return x

    with pytest.raises(ValueError, match="task 2 failed"):
        fork_map(boom, [1, 2, 3], n_jobs=2)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_fork_map_rejects_bad_n_jobs(bad):
    with pytest.raises(ValueError, match="n_jobs"):
        fork_map(lambda s, x: x, [1], n_jobs=bad)
