"""Tests of embtree.merge_expand.seeds: phase 2 seed selection and the size-weighted region ARI."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, pairwise_distances

from embtree import merge_expand as me


def test_partition_ari_equals_sklearn_on_points():
    rng = np.random.default_rng(3)
    sizes = rng.integers(1, 20, 30)
    a, b = rng.integers(0, 4, 30), rng.integers(0, 5, 30)
    point_a, point_b = np.repeat(a, sizes), np.repeat(b, sizes)
    assert me.partition_ari(a, b, sizes) == pytest.approx(adjusted_rand_score(point_a, point_b))


def test_seed_selection_one_seed_per_separated_group():
    # 4 far-apart groups of 4 regions each: one seed per group, then 5 skips.
    rng = np.random.default_rng(6)
    centres = rng.standard_normal((4, 8)) * 100
    pts = np.concatenate([c + rng.standard_normal((4, 8)) for c in centres])  # region "centres"
    D = pairwise_distances(pts)
    np.fill_diagonal(D, 0.5)
    group = np.repeat(np.arange(4), 4)
    seeds, skipped = me.select_seeds(D, np.full(16, 10), np.zeros(16, bool))
    assert sorted(group[seeds]) == [0, 1, 2, 3]
    assert len(skipped) == 5


def test_seed_selection_errors():
    D = np.ones((4, 4))
    with pytest.raises(ValueError, match="mixed_filter_ratio"):
        me.select_seeds(D, np.full(4, 10), np.array([True, True, True, False]))
    with pytest.raises(ValueError, match="seed_size_ratio"):
        me.select_seeds(D, np.array([1, 10, 100, 1000]), np.zeros(4, bool), seed_size_ratio=0.9)
