"""Tests of embtree.flat.evaluation: the silhouette score (noise as one cluster) and evaluate."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_score

from embtree import flat


@pytest.fixture(scope="module")
def blobs():
    # 8 equal, well-separated blobs (as tests/test_flat.py).
    X, y = make_blobs(n_samples=480, centers=8, n_features=12, cluster_std=0.6, center_box=(-20, 20), random_state=3)
    return X, y


def test_silhouette_matches_sklearn_and_counts_noise_as_a_cluster(blobs):
    X, y = blobs
    assert flat.silhouette(X, y) == pytest.approx(silhouette_score(X, y))
    pred = y.copy()
    pred[:40] = -1
    assert flat.silhouette(X, pred) == pytest.approx(silhouette_score(X, pred))
    sampled = flat.silhouette(X, y, sample_size=200, seed=0)
    assert sampled == flat.silhouette(X, y, sample_size=200, seed=0)
    assert abs(sampled - silhouette_score(X, y)) < 0.05
    assert np.isnan(flat.silhouette(X, np.zeros(len(X), dtype=int)))  # one cluster: undefined


def test_evaluate_on_a_permuted_labelling_is_perfect(blobs):
    X, y = blobs
    perm = np.array([3, 5, 0, 7, 1, 2, 6, 4])
    scores = flat.evaluate(X, y, perm[y])
    assert scores["ami"] == pytest.approx(1.0) and scores["acc"] == 1.0 and scores["purity"] == 1.0
    assert list(scores) == ["ami", "ari", "nmi", "acc", "purity", "silhouette", "n_clusters", "noise_fraction"]
