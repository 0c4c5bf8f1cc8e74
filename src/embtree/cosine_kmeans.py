"""Cosine (spherical) k-means: the k-means baseline of paper 002, section 5.

Inputs are L2-normalised, samples join the centre of highest cosine similarity, and
centres are re-normalised after every iteration. scikit-learn has no spherical k-means
(its KMeans is euclidean on unnormalised centres), hence this small Lloyd loop; the
seeding is scikit-learn's k-means++ on the normalised data, all restarts seeded together
(:func:`embtree.seeding.plusplus_restarts`).

:func:`cosine_kmeans`
    Labels and unit-norm centres (the flat grid's ``kmeans-cosine``, the heads' baseline).
:func:`nearest_centres`
    The k most cosine-similar centres of every sample.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from embtree.seeding import plusplus_restarts, seeding_rows
from embtree.validation import check_matrix

__all__ = ["cosine_kmeans", "nearest_centres"]


# Bytes of one (rows, n_clusters) float64 similarity block: rows = min(chunk, this / (8 K)), so the
# block stays bounded as K grows (65,536 x 10,000 would be 5.2 GB; 3,355 rows at K = 10,000).
_BLOCK_BYTES = 256 * 2**20


def _rows_per_block(chunk, n_clusters):
    return max(1, min(int(chunk), _BLOCK_BYTES // (8 * int(n_clusters))))


def _normalise(X):
    norm = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norm == 0, 1.0, norm)


def nearest_centres(features, centres, k=1, *, chunk=65536):
    """Indices of the ``k`` most cosine-similar centres of every sample, best first.

    features : (n_samples, n_features); centres : (n_clusters, n_features) -> (n_samples, k) int64.
    Row blocks (at most ``chunk`` rows and 256 MB) keep the similarity block bounded.
    """
    X = _normalise(check_matrix(features, "features"))
    Cn = _normalise(check_matrix(centres, "centres"))
    if not 1 <= k <= len(Cn):
        raise ValueError(f"k={k} must lie in 1..n_clusters={len(Cn)}")
    out = np.empty((len(X), k), dtype=np.int64)
    chunk = _rows_per_block(chunk, len(Cn))
    for s in range(0, len(X), chunk):  # row blocks, bounded memory
        sim = X[s:s + chunk] @ Cn.T
        top = np.argpartition(-sim, k - 1, axis=1)[:, :k] if k < len(Cn) else np.tile(np.arange(len(Cn)), (len(sim), 1))
        order = np.argsort(-np.take_along_axis(sim, top, axis=1), axis=1, kind="stable")
        out[s:s + chunk] = np.take_along_axis(top, order, axis=1)
    return out


def _lloyd(Xn, centres, max_iter, chunk):
    n, K = len(Xn), len(centres)
    chunk = _rows_per_block(chunk, K)
    labels = np.full(n, -1, dtype=np.int64)
    best = np.empty(n)
    for _ in range(max_iter):
        new = np.empty(n, dtype=np.int64)
        for s in range(0, n, chunk):  # row blocks, bounded memory
            sim = Xn[s:s + chunk] @ centres.T
            new[s:s + chunk] = sim.argmax(axis=1)
            best[s:s + chunk] = sim[np.arange(len(sim)), new[s:s + chunk]]
        counts = np.bincount(new, minlength=K)
        empty = np.flatnonzero(counts == 0)
        if len(empty):  # re-seed empty clusters at the worst-fitting samples
            far = np.argsort(best, kind="stable")[: len(empty)]
            new[far] = empty
            best[far] = 1.0
        if np.array_equal(new, labels):
            break
        labels = new
        # Per-cluster sums as a (K, n) indicator matrix times Xn: the same sums in the same
        # order as np.add.at (rows of one cluster added by increasing sample index), 8x faster.
        onehot = sparse.csr_matrix((np.ones(n), (labels, np.arange(n))), shape=(K, n))
        centres = _normalise(np.asarray(onehot @ Xn))
    return labels, centres, float(best.sum())


def cosine_kmeans(features, n_clusters, *, seed=0, n_init=10, max_iter=300, chunk=65536, check_input=True,
                  init_max_samples=100_000):
    """Spherical k-means: maximise the summed cosine similarity to the assigned centre.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
    n_clusters : int, ``1 <= n_clusters <= n_samples``
    seed : int, random state of the k-means++ seeding (init ``i`` uses ``seed + i``)
    n_init : int, restarts; the one with the highest objective is kept
    max_iter : int, Lloyd iterations per restart (stops earlier when labels are stable)
    check_input : bool, check that ``features`` is a finite real 2-D array (a pass over every
        value); False where the caller has checked it (the flat grid, :mod:`embtree.clustering`)
    init_max_samples : int >= n_clusters, k-means++ runs on a seeded subsample of this many rows
        when ``n_samples`` is larger (the rows :func:`embtree.kmeans.kmeans` and
        :func:`embtree.faiss_kmeans.faiss_kmeans` draw for the same seed):
        its cost is ``n_clusters`` passes over the rows it seeds on (at 1.28 M x 768 and 10,000
        clusters, ~20 h on all rows)

    Returns
    -------
    labels : ndarray of shape (n_samples,), int64
    centres : ndarray of shape (n_clusters, n_features), unit norm
    """
    X = check_matrix(features, "features") if check_input else features
    n = len(X)
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)) or not 1 <= n_clusters <= n:
        raise ValueError(f"n_clusters={n_clusters!r} must be an int in 1..n_samples={n}")
    for name, v, least in (("n_init", n_init, 1), ("max_iter", max_iter, 1),
                           ("init_max_samples", init_max_samples, n_clusters)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
            raise ValueError(f"{name}={v!r} must be an int >= {least}")
    Xn = _normalise(X.astype(np.float64))
    # the seeding subsample: the rows embtree.kmeans / faiss_kmeans draw for the same seed
    idx = seeding_rows(n, init_max_samples, seed)
    # every restart's k-means++ rows, seeded together (one pass over the rows per step for all restarts)
    inits = idx[plusplus_restarts(Xn[idx] if len(idx) < n else Xn, int(n_clusters), [seed + i for i in range(n_init)])]
    best = None
    for init in inits:  # restarts
        labels, centres, obj = _lloyd(Xn, _normalise(Xn[init]), max_iter, chunk)
        if best is None or obj > best[2]:
            best = (labels, centres, obj)
    return best[0], best[1]
