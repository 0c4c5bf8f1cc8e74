"""Tests of embtree.merge_expand.pair_scores: M1, L, M2 and M3 (paper 003, eq. 2-5) against plain loops."""

import itertools

import numpy as np
import pytest
from scipy import stats

from embtree import merge_expand as me


def test_co_contribution_matches_loop():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(4), size=(3, 40))  # (n_r, N, K)
    M1, y0 = me.co_contribution(probs)
    mean = probs.mean(axis=0)
    ref = np.zeros((4, 4))
    for i in range(4):
        T = [x for x in range(40) if mean[x].argmax() == i]
        for j in range(4):
            ref[i, j] = sum(probs[l, x, j] for x in T for l in range(3)) / (len(T) * 3) if T else 0.0
    np.testing.assert_allclose(M1, ref)
    np.testing.assert_array_equal(y0, mean.argmax(axis=1))


def test_leakage_matrix_and_scores_match_loop():
    K, N = 5, 300
    rng = np.random.default_rng(1)
    y0 = rng.integers(0, K, N)
    pairs = np.asarray(list(itertools.combinations(range(K), 2)))
    merged = rng.random((len(pairs), N)) < rng.random((len(pairs), 1))
    L = me.leakage_matrix(y0, merged, pairs, K)
    ref = np.array([[np.sum((y0 == j) & merged[p]) for j in range(K)] for p in range(len(pairs))])
    np.testing.assert_array_equal(L, ref)
    M2 = me.leakage_scores(L, pairs, K)
    for i in range(K):
        for j in range(K):
            if i == j:
                assert M2[i, j] == 1.0
                continue
            x = [L[p, j] for p, (a, b) in enumerate(pairs) if i in (a, b) and j not in (a, b)]
            bg = [L[p, j] for p, (a, b) in enumerate(pairs) if j not in (a, b)]
            assert len(x) == K - 2
            assert M2[i, j] == pytest.approx(stats.ranksums(x, bg, alternative="greater").pvalue)


def test_leakage_score_low_for_the_leaking_partner():
    # Class 1's points leak into every combined class holding seed 0, nowhere else.
    K = 6
    pairs = np.asarray(list(itertools.combinations(range(K), 2)))
    L = np.ones((len(pairs), K))
    for p, (a, b) in enumerate(pairs):
        if 0 in (a, b):
            L[p, 1] = 50
    M2 = me.leakage_scores(L, pairs, K)
    assert M2[0, 1] < 0.05
    assert np.all(M2[2:, 1] > 0.05)


def test_replacement_scores_match_loop():
    K, N = 4, 200
    rng = np.random.default_rng(2)
    y0 = rng.integers(0, K, N)
    y_loo = rng.integers(0, K, (K, N))
    M3 = me.replacement_scores(y0, y_loo)
    for i in range(K):
        for j in range(K):
            ref = 0.0 if i == j else np.sum((y0 == i) & (y_loo[i] == j)) / np.sum(y0 == i)
            assert M3[i, j] == pytest.approx(ref)
