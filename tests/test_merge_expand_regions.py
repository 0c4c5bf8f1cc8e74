"""Tests of embtree.merge_expand.regions: phase 1 regions, region distances, the mixed-region filter."""

import numpy as np
import pytest
from sklearn.metrics import pairwise_distances

from conftest import blobs_around
from embtree import merge_expand as me


def test_region_distances_match_brute_force():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((60, 3))
    regions = rng.integers(0, 5, 60)
    D = me.region_distances(X, regions, samples_per_region=1000)
    full = pairwise_distances(X)
    for i in range(5):
        for j in range(5):
            assert D[i, j] == pytest.approx(full[np.ix_(regions == i, regions == j)].mean())


def test_mixed_regions_filters_low_agreement():
    assert me.mixed_regions([0.9, 0.8, 0.85, 0.2], 0.5).tolist() == [False, False, False, True]


def test_small_data_caps_the_regions_with_a_warning(caplog):
    # Issue: 120 samples failed the default run (n_regions=200); now 120 // 5 = 24 regions.
    X, _ = blobs_around(np.eye(3) * 8, 10, 0.5)  # 30 samples, fewer than n_regions
    with caplog.at_level("WARNING", logger="embtree.merge_expand.regions"):
        regions = me.make_regions(X, 50, min_region_size=5)
    assert regions.max() + 1 <= 6 and "merge_expand.n_regions=50 capped" in caplog.text and "= 6" in caplog.text
    with pytest.raises(ValueError, match="at least 2 samples"):
        me.make_regions(X[:1], 50)
