"""Cosine (spherical) k-means (embtree.cosine_kmeans)."""

import numpy as np
import pytest

from embtree import cosine_kmeans, flat, metrics


def test_cosine_kmeans_on_directions():
    rng = np.random.default_rng(0)
    dirs = np.eye(4)[:3] * 5
    # Same directions at very different norms: euclidean k-means splits by norm, cosine does not.
    X = np.concatenate([d * s + 0.05 * rng.normal(size=(30, 4)) for d in dirs for s in (1, 20)])
    y = np.repeat(np.arange(3), 60)
    labels, centres = cosine_kmeans.cosine_kmeans(X, 3, seed=0, n_init=3)
    assert metrics.cluster_accuracy(y, labels) == 1.0
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 1)
    top = cosine_kmeans.nearest_centres(X, centres, k=3)
    np.testing.assert_array_equal(top[:, 0], labels)
    assert (np.sort(top, 1) == np.arange(3)).all()
    assert metrics.cluster_accuracy(y, flat.cluster(X, "kmeans-cosine", n_clusters=3, seed=0)) == 1.0
    with pytest.raises(ValueError, match="n_clusters"):
        cosine_kmeans.cosine_kmeans(X, 0)


def _reference_lloyd(Xn, centres, max_iter):
    """Spherical Lloyd written out: full similarity matrix, np.add.at sums, reseed empty clusters."""
    labels = np.full(len(Xn), -1)
    for _ in range(max_iter):
        sim = Xn @ centres.T
        new = sim.argmax(axis=1)
        best = sim[np.arange(len(Xn)), new]
        empty = np.setdiff1d(np.arange(len(centres)), new)
        far = np.argsort(best, kind="stable")[: len(empty)]
        new[far], best[far] = empty, 1.0
        if np.array_equal(new, labels):
            break
        labels = new
        sums = np.zeros_like(centres)
        np.add.at(sums, labels, Xn)
        centres = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    return labels, centres, best.sum()


def test_cosine_kmeans_lloyd_equals_the_reference_loop_bit_for_bit():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(900, 12)) + 3 * rng.normal(size=(30, 12))[rng.integers(30, size=900)]
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    init = Xn[rng.choice(900, 40, replace=False)]
    got = cosine_kmeans._lloyd(Xn, init, 300, chunk=128)  # several row blocks
    ref = _reference_lloyd(Xn, init, 300)
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1], ref[1])
    assert got[2] == ref[2]


def test_similarity_blocks_shrink_as_the_clusters_grow(monkeypatch):
    assert cosine_kmeans._rows_per_block(65536, 10) == 65536
    assert cosine_kmeans._rows_per_block(65536, 10_000) == 3355  # 256 MB of float64 similarities
    # a tiny memory bound (blocks of a few rows) gives the same clustering
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 6)) + 4 * rng.normal(size=(8, 6))[rng.integers(8, size=300)]
    full = cosine_kmeans.cosine_kmeans(X, 8, seed=0, n_init=2)
    monkeypatch.setattr(cosine_kmeans, "_BLOCK_BYTES", 8 * 8 * 7)  # 7 rows per block at K = 8
    small = cosine_kmeans.cosine_kmeans(X, 8, seed=0, n_init=2)
    np.testing.assert_array_equal(full[0], small[0])
    np.testing.assert_array_equal(full[1], small[1])


def test_seeding_on_a_subsample_above_init_max_samples():
    from sklearn.cluster import kmeans_plusplus

    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 5)) + 4 * rng.normal(size=(6, 5))[rng.integers(6, size=400)]
    whole = cosine_kmeans.cosine_kmeans(X, 6, seed=3, n_init=2)
    same = cosine_kmeans.cosine_kmeans(X, 6, seed=3, n_init=2, init_max_samples=400)  # n <= bound: all rows
    np.testing.assert_array_equal(whole[1], same[1])
    got = cosine_kmeans.cosine_kmeans(X, 6, seed=3, n_init=2, init_max_samples=100)
    # reference: the seeded subsample (the rows embtree.kmeans draws), k-means++ on it, Lloyd on all rows
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    idx = np.sort(np.random.default_rng(3).choice(400, size=100, replace=False))
    best = None
    for i in range(2):
        chosen = kmeans_plusplus(Xn[idx], 6, random_state=3 + i)[1]
        run = cosine_kmeans._lloyd(Xn, Xn[idx[chosen]], 300, 65536)
        if best is None or run[2] > best[2]:
            best = run
    np.testing.assert_array_equal(got[0], best[0])
    np.testing.assert_array_equal(got[1], best[1])
    with pytest.raises(ValueError, match="init_max_samples"):
        cosine_kmeans.cosine_kmeans(X, 6, init_max_samples=5)
