"""Flat scores, mapped top-k accuracies and calibration (embtree.metrics)."""

import numpy as np
import pytest

from embtree import metrics
from embtree.metrics import cluster_accuracy, cluster_purities, purity


def test_accuracy_invariant_to_cluster_permutation():
    y = np.array([0, 0, 1, 1, 2, 2, 2])
    pred = np.array([2, 2, 0, 0, 1, 1, 1])
    assert cluster_accuracy(y, pred) == 1.0
    assert purity(y, pred) == 1.0
    assert cluster_accuracy(y, np.array([2, 2, 0, 0, 1, 1, 0])) == pytest.approx(6 / 7)


def test_cluster_purities_per_cluster_and_weighted_mean():
    y = np.array([0, 0, 1, 1, 1, 2])
    pred = np.array([0, 0, 0, 2, 2, 2])  # cluster 1 is empty
    p = cluster_purities(y, pred, 3)
    np.testing.assert_allclose(p, [2 / 3, np.nan, 2 / 3])
    sizes = np.bincount(pred, minlength=3)
    assert np.nansum(p * sizes) / len(y) == pytest.approx(purity(y, pred))


def test_hungarian_map_and_top_k_to_one():
    y = np.array([0, 0, 1, 1, 2, 2])
    # top-1 clusters are a relabelling (c -> c+1 mod 3); second choices vary.
    ranked = np.array([[1, 0], [1, 2], [2, 0], [2, 1], [0, 1], [0, 1]])
    np.testing.assert_array_equal(metrics.hungarian_map(y, ranked[:, 0]), [2, 0, 1])
    assert metrics.top_k_to_one(y, ranked, 1) == 1.0
    wrong = ranked.copy()
    wrong[0, 0], wrong[0, 1] = 2, 1  # sample 0 top-1 wrong, its top-2 holds the right cluster
    assert metrics.top_k_to_one(y, wrong, 1) == pytest.approx(5 / 6)
    assert metrics.top_k_to_one(y, wrong, 2) == 1.0
    # More clusters than classes: the unmatched cluster 3 maps to -1 (always wrong).
    m = metrics.hungarian_map(np.array([0, 0, 1]), np.array([0, 3, 1]))
    assert m[1] == 1 and m[2] == -1 and (m == -1).sum() == 2


def test_top_k_to_many():
    y = np.array([0, 1, 2, 0])
    ranked = np.array([[0, 1], [1, 2], [2, 0], [1, 0]])
    S = np.zeros((4, 3), dtype=bool)
    S[np.arange(4), y] = True
    S[3, 1] = True  # sample 3 is also "class 1"
    # Map from the GT: 0->0, 1->1, 2->2; sample 3 predicts 1 which is in its label set.
    assert metrics.top_k_to_many(S, ranked, 1, map_labels=y) == 1.0
    assert metrics.top_k_to_one(y, ranked, 1) == pytest.approx(0.75)
    # Random single labels from S_L: still a valid accuracy in [0, 1], deterministic by seed.
    a = metrics.top_k_to_many(S, ranked, 2, n_repeats=5, seed=1)
    assert a == metrics.top_k_to_many(S, ranked, 2, n_repeats=5, seed=1) and 0 <= a <= 1


def test_ece_hand_made():
    conf = np.array([0.95, 0.95, 0.95, 0.95, 0.55, 0.55])
    correct = np.array([1, 1, 1, 0, 1, 0], dtype=bool)
    # bin (0.9,1]: acc 0.75 conf 0.95 (4/6); bin (0.5,0.6]: acc 0.5, conf 0.55 (2/6)
    expected = 4 / 6 * 0.2 + 2 / 6 * 0.05
    assert metrics.expected_calibration_error(conf, correct, 15) == pytest.approx(expected)
    assert metrics.expected_calibration_error(np.ones(3), np.ones(3, bool)) == 0.0
    b = metrics.calibration_bins(conf, correct, 10)
    assert b["count"].sum() == 6 and b["count"][9] == 4 and b["count"][5] == 2
    with pytest.raises(ValueError, match="confidence"):
        metrics.expected_calibration_error(np.array([1.5]), np.array([True]))
