"""Tests of embtree.merge_expand.clean: consistent neighbours (fig. 4c) against brute force."""

import numpy as np
from sklearn.metrics import pairwise_distances

from embtree import merge_expand as me


def test_consistent_neighbours_match_brute_force():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((50, 4))
    y = rng.integers(0, 3, 50)
    got = me.consistent_neighbours(X, y, k=5)
    D = pairwise_distances(X)
    np.fill_diagonal(D, np.inf)
    ref = [(y[np.argsort(D[i])[:5]] == y[i]).sum() for i in range(50)]
    np.testing.assert_array_equal(got, ref)
