"""embtree.kmeans: k-means in row blocks, the flat grid's kmeans at scale (its switch: test_clustering.py)."""

import tracemalloc

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from conftest import kmeans_blobs
from embtree import kmeans as km


@pytest.mark.parametrize("rows", [97, 4096])
def test_lloyd_matches_sklearn_from_the_same_start(rows):
    # Overlapping blobs so Lloyd needs several iterations; a bad start (the first k rows).
    X, _ = kmeans_blobs()
    start = X[:8].copy()
    ref = KMeans(8, init=start, n_init=1, max_iter=300, tol=1e-4, algorithm="lloyd").fit(X)
    mean, var = km._mean_and_variance(X, rows)
    labels, centres, inertia, n_iter = km._lloyd(X, mean, start - mean, max_iter=300, tol=1e-4 * var, rows=rows)
    assert n_iter == ref.n_iter_ > 2
    np.testing.assert_array_equal(labels, ref.labels_)
    np.testing.assert_allclose(centres + mean, ref.cluster_centers_, rtol=1e-10, atol=1e-10)
    assert inertia == pytest.approx(ref.inertia_, rel=1e-10)


def test_lloyd_reseeds_an_empty_cluster_at_the_farthest_sample():
    X, _ = kmeans_blobs(n=600, k=3)
    start = np.vstack([X[:3], X.max(axis=0) + 100.0])  # the 4th centre attracts no sample
    mean, var = km._mean_and_variance(X, 128)
    labels, dist = km._assign(X, mean, start - mean, 128)
    far = int(np.argmax(dist))
    out, _, _, _ = km._lloyd(X, mean, start - mean, max_iter=1, tol=0.0, rows=128)
    assert np.bincount(out, minlength=4)[3] > 0
    # after one iteration the re-seeded centre sits at the farthest sample, which is its own
    # nearest point
    assert out[far] == 3
    ref = KMeans(4, init=start, n_init=1, max_iter=300, algorithm="lloyd").fit(X)
    full, *_ = km._lloyd(X, mean, start - mean, max_iter=300, tol=1e-4 * var, rows=128)
    np.testing.assert_array_equal(full, ref.labels_)


def test_kmeans_equals_sklearn_when_the_seeding_sees_all_rows():
    X, _ = kmeans_blobs(n=2000, d=10, k=6, seed=3)
    labels, centres, inertia = km.kmeans(X, 6, seed=5, max_iter=1000, init_max_samples=len(X), block_rows=256)
    ref = KMeans(6, random_state=5, n_init=1, max_iter=1000, algorithm="lloyd").fit(X)
    np.testing.assert_array_equal(labels, ref.labels_)
    np.testing.assert_allclose(centres, ref.cluster_centers_, rtol=1e-9, atol=1e-9)
    assert inertia == pytest.approx(ref.inertia_, rel=1e-9)


def test_kmeans_on_a_read_only_memory_map_without_a_copy(tmp_path):
    X, y = kmeans_blobs(n=40_000, d=128, k=10, seed=1, dtype=np.float32, std=1.0)
    np.save(tmp_path / "x.npy", X)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    tracemalloc.start()
    labels, centres, _ = km.kmeans(mm, 10, seed=0, n_init=2, init_max_samples=2000, block_rows=2048)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # a copy would be >= X.nbytes; blocks, the seeding subsample and O(n) labels stay below half
    assert peak < 0.5 * X.nbytes, f"peak allocation {peak} bytes for {X.nbytes} bytes of input"
    np.testing.assert_array_equal(mm, X)  # untouched
    assert adjusted_rand_score(y, labels) > 0.95
    assert centres.shape == (10, 128) and labels.dtype == np.int64


def test_restarts_keep_the_lowest_inertia():
    X, _ = kmeans_blobs(n=900, k=9, seed=4)
    runs = [km.kmeans(X, 9, seed=s, n_init=1, max_iter=50) for s in (0, 1, 2)]
    best = km.kmeans(X, 9, seed=0, n_init=3, max_iter=50)
    assert best[2] == min(r[2] for r in runs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_clusters": 0}, "n_clusters=0"),
        ({"n_clusters": 3, "init_max_samples": 2}, "init_max_samples=2"),
        ({"n_clusters": 3, "n_init": 0}, "n_init=0"),
        ({"n_clusters": 3, "tol": -1.0}, "tol=-1.0"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, match):
    X, _ = kmeans_blobs(n=50)
    with pytest.raises(ValueError, match=match):
        km.kmeans(X, **kwargs)


def test_nan_rows_are_named_across_blocks():
    X, _ = kmeans_blobs(n=50)
    X[[3, 41]] = np.nan
    with pytest.raises(ValueError, match=r"NaN or inf in 2 rows \(first: \[3, 41\]\)"):
        km.kmeans(X, 3)


def test_check_input_false_skips_only_the_array_scan():
    X, _ = kmeans_blobs(n=300)
    ref = km.kmeans(X, 3, seed=1)
    got = km.kmeans(X, 3, seed=1, check_input=False)  # the caller validated X (embtree.clustering)
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1], ref[1])
    with pytest.raises(ValueError, match="n_init=0"):
        km.kmeans(X, 3, n_init=0, check_input=False)
