"""Tests of embtree.flat.evaluation: the silhouette score (noise as one cluster) and evaluate."""

import numpy as np
import pytest
from sklearn.metrics import silhouette_score

from embtree import flat


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
