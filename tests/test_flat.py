"""Tests of embtree.flat.cluster: every clusterer of the grid (embtree.clustering's and merge-expand), end to end."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_mutual_info_score

from embtree import flat


def planted_tree(depth=3, dim=24, per_class=60, step=8.0, seed=0):
    """Gaussian classes at the leaves of a binary tree; offsets halve at each level (planted-like)."""
    rng = np.random.default_rng(seed)
    means = [np.zeros(dim)]
    for level in range(depth):
        scale = step * 0.5**level / np.sqrt(dim)
        means = [m + rng.normal(scale=scale, size=dim) for m in means for _ in range(2)]
    X = np.concatenate([m + rng.normal(scale=0.5, size=(per_class, dim)) for m in means])
    return X, np.repeat(np.arange(len(means)), per_class)


@pytest.mark.parametrize("method", sorted(flat.CLUSTERERS))
def test_every_clusterer_recovers_separated_blobs(blobs, method):
    X, y = blobs
    pred = flat.cluster(X, method, n_clusters=8, seed=0)
    assert pred.shape == y.shape and pred.dtype == np.int64
    assert adjusted_mutual_info_score(y, pred) > 0.95


# UMAP's numba JIT costs ~15-40 s per process on the shared machine: slow; PCA covers the path fast.
@pytest.mark.parametrize("reducer", ["pca", pytest.param("umap", marks=pytest.mark.slow)])
def test_kmeans_end_to_end_on_planted_tree(reducer):
    X, y = planted_tree()
    Z = flat.reduce(X, reducer, seed=0)  # paper defaults: PCA 90 % variance, UMAP 50 -> 24 dims
    assert len(Z) == len(X) and 1 <= Z.shape[1] <= X.shape[1]
    pred = flat.cluster(Z, "kmeans", n_clusters=8, seed=0)
    scores = flat.evaluate(Z, y, pred, silhouette_sample_size=200, seed=0)
    assert scores["ami"] > 0.9 and scores["n_clusters"] == 8 and scores["noise_fraction"] == 0.0
    assert 0.3 < scores["silhouette"] <= 1.0
    # A fixed seed gives the same reduction.
    np.testing.assert_array_equal(Z, flat.reduce(X, reducer, seed=0))


@pytest.mark.parametrize("method", sorted(flat.CLUSTERERS))
def test_fixed_seed_is_deterministic(blobs, method):
    X, _ = blobs
    noisy = X + np.random.default_rng(0).normal(scale=3.0, size=X.shape)  # ambiguous: seeds matter
    # Exercise the guard's seeded subsample too where the clusterer has one.
    cap = {"max_quadratic_samples": 300} if "max_quadratic_samples" in flat.CLUSTERERS[method] else {}
    if method == "merge-expand":  # its classifier trains for seconds per round: fewer rounds and steps
        cap.update(n_rounds=2, steps=100)
    a = flat.cluster(noisy, method, n_clusters=8, seed=7, **cap)
    b = flat.cluster(noisy, method, n_clusters=8, seed=7, **cap)
    np.testing.assert_array_equal(a, b)


def test_bad_input_raises_clear_errors(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="unknown clusterer 'kmedoids'"):
        flat.cluster(X, "kmedoids", n_clusters=2)
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['dampening'\]"):
        flat.cluster(X, "affinity-propagation", dampening=0.5)
    with pytest.raises(ValueError, match="n_samples=480 should be >= n_clusters=481"):
        flat.cluster(X, "kmeans", n_clusters=481)
    with pytest.raises(ValueError, match="needs n_clusters"):
        flat.cluster(X, "spectral")
    bad = X.copy()
    bad[5, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or inf in 1 rows"):
        flat.cluster(bad, "kmeans", n_clusters=2)
    with pytest.raises(ValueError, match="max_quadratic_samples=5 should be >= n_clusters=8"):
        flat.cluster(X, "spectral", n_clusters=8, max_quadratic_samples=5)
