"""k-means++ seeding of several restarts at once (embtree.seeding)."""

import numpy as np
import pytest
from sklearn.cluster import kmeans_plusplus

from embtree import cosine_kmeans
from embtree.seeding import kmeans_restart_states, plusplus_restarts


def _blobs(n, d, k, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(k, d))[rng.integers(k, size=n)] * 3 + rng.normal(size=(n, d))


@pytest.mark.parametrize("n, d, k, block_bytes", [
    (500, 8, 20, 2**30),   # all restarts in one block
    (500, 8, 20, 1),       # one restart per block
    (1200, 33, 64, 2**30),
    (300, 5, 1, 2**30),    # a single centre: the first draw only
    (40, 3, 40, 2**30),    # as many centres as rows
])
def test_same_rows_as_scikit_learns_kmeans_plusplus(n, d, k, block_bytes):
    X = _blobs(n, d, 6, seed=n + k)
    seeds = [0, 1, 7, 123]
    got = plusplus_restarts(X, k, seeds, block_bytes=block_bytes)
    ref = np.array([kmeans_plusplus(X, k, random_state=s)[1] for s in seeds])
    assert got.shape == (4, k) and got.dtype == np.int64
    np.testing.assert_array_equal(got, ref)
    assert all(len(np.unique(row)) == k for row in got)  # distinct rows: a chosen row has distance 0


def test_restarts_differ_and_are_independent_of_their_company():
    X = _blobs(600, 10, 8, seed=5)
    both = plusplus_restarts(X, 30, [3, 4])
    assert not np.array_equal(both[0], both[1])
    np.testing.assert_array_equal(both[1], plusplus_restarts(X, 30, [4])[0])


@pytest.mark.parametrize("k", [1, 2, 25])
def test_kmeans_restart_states_continue_one_stream(k):
    """KMeans(n_init=3, random_state=s) seeds its restarts one after another from one generator:
    the states put each restart where that stream stands, so the seedings done together are
    kmeans_plusplus called three times on one RandomState."""
    X = _blobs(400, 6, 5, seed=k)
    shared = np.random.RandomState(11)
    ref = np.array([kmeans_plusplus(X, k, random_state=shared)[1] for _ in range(3)])
    got = plusplus_restarts(X, k, kmeans_restart_states(11, 3, k))
    np.testing.assert_array_equal(got, ref)
    if k > 1:
        assert not np.array_equal(got[0], got[1])


def test_bad_shapes():
    with pytest.raises(ValueError, match="n_clusters"):
        plusplus_restarts(np.zeros((5, 2)), 6, [0])
    with pytest.raises(ValueError, match="2-D"):
        plusplus_restarts(np.zeros(5), 1, [0])


def test_cosine_kmeans_equals_restarts_seeded_one_by_one():
    """cosine_kmeans = scikit-learn's kmeans_plusplus per restart + the Lloyd loop, best objective kept."""
    X = _blobs(800, 16, 12, seed=9)
    labels, centres = cosine_kmeans.cosine_kmeans(X, 12, seed=4, n_init=3)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    best = None
    for i in range(3):
        init = kmeans_plusplus(Xn, 12, random_state=4 + i)[0]
        run = cosine_kmeans._lloyd(Xn, init / np.linalg.norm(init, axis=1, keepdims=True), 300, 65536)
        if best is None or run[2] > best[2]:
            best = run
    np.testing.assert_array_equal(labels, best[0])
    np.testing.assert_array_equal(centres, best[1])


def test_seeding_rows_all_up_to_the_bound_else_a_seeded_sorted_sample():
    from embtree.seeding import seeding_rows

    np.testing.assert_array_equal(seeding_rows(50, 50, seed=3), np.arange(50))
    got = seeding_rows(1000, 100, seed=3)
    np.testing.assert_array_equal(got, np.sort(np.random.default_rng(3).choice(1000, size=100, replace=False)))
    assert len(np.unique(got)) == 100 and np.all(np.diff(got) > 0)
