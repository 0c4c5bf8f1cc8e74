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


def _brute_neighbours(X, i, k):
    d = np.linalg.norm(X - X[i], axis=1)
    d[i] = np.inf
    return np.argsort(d, kind="stable")[:k]


def test_neighbourhood_examples_pick_the_paper_s_kinds():
    # Clean: tight one-class blobs (every neighbour shares the label). Unclean: ten points of
    # ten labels around one spot (neighbours' labels all distinct), and a few label-mixed pairs.
    rng = np.random.default_rng(0)
    blobs = np.repeat(np.arange(3), 20)
    X_clean = np.array([[40.0 * c, 0.0] for c in blobs]) + rng.normal(0, 0.5, (60, 2))
    X_mixed = np.array([[0.0, 100.0]]) + rng.normal(0, 0.5, (10, 2))
    X_pairs = np.array([[200.0 + 30 * i, 50.0] for i in range(10)]) + rng.normal(0, 0.1, (10, 2))
    X = np.vstack([X_clean, X_mixed, X_pairs])
    y = np.concatenate([blobs, np.arange(10), np.arange(10) % 2])
    clean = np.r_[np.ones(60, bool), np.zeros(20, bool)]
    c_rows, u_rows = me.neighbourhood_examples(X, y, clean, n_examples=3, k=8, seed=1)
    assert c_rows.shape == (3, 9) and u_rows.shape == (3, 9)
    assert clean[c_rows[:, 0]].all() and not clean[u_rows[:, 0]].any()
    for row in c_rows:
        assert (y[row[1:]] == y[row[0]]).all()
        np.testing.assert_array_equal(row[1:], _brute_neighbours(X, row[0], 8))
    for row in u_rows:
        assert 60 <= row[0] < 70 and len(set(y[row])) == 9  # the ten-label spot
        np.testing.assert_array_equal(row[1:], _brute_neighbours(X, row[0], 8))
    again = me.neighbourhood_examples(X, y, clean, n_examples=3, k=8, seed=1)
    np.testing.assert_array_equal(again[0], c_rows)
    # Ties are broken by the seed: another seed draws other clean examples of the same kind.
    other = me.neighbourhood_examples(X, y, clean, n_examples=3, k=8, seed=2)[0]
    assert set(other[:, 0]) != set(c_rows[:, 0]) and all((y[r[1:]] == y[r[0]]).all() for r in other)


def test_neighbourhood_examples_without_unclean_samples():
    X = np.random.default_rng(0).standard_normal((20, 3))
    c_rows, u_rows = me.neighbourhood_examples(X, np.arange(20) % 2, np.ones(20, bool), n_examples=2, k=3)
    assert c_rows.shape == (2, 4) and u_rows.shape == (0, 4)
