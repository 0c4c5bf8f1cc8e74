"""Euclidean k-means (Lloyd) in bounded memory, for arrays larger than scikit-learn's KMeans handles.

:func:`kmeans`
    scikit-learn's algorithm and stopping rules (k-means++ seeding on a seeded subsample, Lloyd
    iterations) over row blocks of the array, which may be a read-only memory map; the flat
    grid's ``kmeans`` above ``max_sklearn_samples`` (paper 004, appendix E.1).

Why scikit-learn's KMeans does not do at ImageNet-1K train size, and how this loop keeps its
algorithm: ``docs/methods/flat.md`` ("k-means at scale"). Peak memory beyond the input: a few
row blocks, the centres, and O(n_samples) labels.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import sparse

from embtree.seeding import plusplus_restarts, seeding_rows
from embtree.validation import check_matrix

__all__ = ["kmeans"]

log = logging.getLogger(__name__)


def _blocks(n, rows):
    for s in range(0, n, rows):
        yield s, min(n, s + rows)


def _mean_and_variance(X, rows):
    """Per-feature mean (float64, two passes over row blocks) and the mean per-feature variance."""
    n = len(X)
    mean = np.zeros(X.shape[1])
    for s, e in _blocks(n, rows):
        mean += X[s:e].sum(axis=0, dtype=np.float64)
    mean /= n
    ss = np.zeros(X.shape[1])
    for s, e in _blocks(n, rows):
        ss += ((X[s:e] - mean) ** 2).sum(axis=0)
    return mean, float(ss.mean() / n)


def _assign(X, mean, centres, rows):
    """Nearest centre of every row and its squared distance (centred coordinates).

    X : (n, d); mean : (d,); centres : (K, d) float64, centred -> labels (n,) int64, dist (n,) float64.
    """
    C = centres.astype(X.dtype)
    c_sq = np.einsum("ij,ij->i", C, C)
    m = mean.astype(X.dtype)
    labels = np.empty(len(X), dtype=np.int64)
    dist = np.empty(len(X))
    for s, e in _blocks(len(X), rows):
        B = X[s:e] - m
        D = B @ C.T
        D *= -2
        D += c_sq
        lab = D.argmin(axis=1)
        labels[s:e] = lab
        dist[s:e] = np.maximum(np.einsum("ij,ij->i", B, B) + D[np.arange(e - s), lab], 0)
    return labels, dist


def _sums(X, mean, labels, n_clusters, rows):
    """Per-cluster sums of the centred rows, float64 (n_clusters, d), as indicator x block products."""
    sums = np.zeros((n_clusters, X.shape[1]))
    for s, e in _blocks(len(X), rows):
        onehot = sparse.csr_matrix((np.ones(e - s), (labels[s:e], np.arange(e - s))), shape=(n_clusters, e - s))
        sums += onehot @ (X[s:e] - mean)
    return sums


def _lloyd(X, mean, centres, *, max_iter, tol, rows):
    """Lloyd iterations from ``centres`` (float64, centred); scikit-learn's stopping rules.

    Returns labels (n,) int64, centres (K, d) float64 centred, inertia, iterations run.
    """
    K = len(centres)
    labels_old = None
    strict = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        labels, dist = _assign(X, mean, centres, rows)
        sums = _sums(X, mean, labels, K, rows)
        counts = np.bincount(labels, minlength=K).astype(np.float64)
        empty = np.flatnonzero(counts == 0)
        if len(empty):  # re-seed at the farthest samples; labels stay as assigned (as sklearn)
            far = np.argsort(-dist, kind="stable")[: len(empty)]
            for i, k in zip(far, empty):
                x = np.asarray(X[i], dtype=np.float64) - mean
                sums[labels[i]] -= x
                counts[labels[i]] -= 1
                sums[k], counts[k] = x, 1
            log.info("k-means iteration %d: %d empty clusters re-seeded", n_iter, len(empty))
        new = sums / np.maximum(counts, 1)[:, None]
        new[counts == 0] = centres[counts == 0]  # a cluster emptied by re-seeding keeps its centre
        shift = float(((new - centres) ** 2).sum())
        centres = new
        if labels_old is not None and np.array_equal(labels, labels_old):
            strict = True
            break
        log.info("k-means iteration %d: centre shift %.6g (tol %.6g)", n_iter, shift, tol)
        if shift <= tol:
            break
        labels_old = labels
    if not strict:  # labels consistent with the final centres
        labels, dist = _assign(X, mean, centres, rows)
    return labels, centres, float(dist.sum()), n_iter


def kmeans(features, n_clusters, *, seed=0, n_init=1, max_iter=300, tol=1e-4, init_max_samples=100_000,
           block_rows=16384, check_input=True):
    """Euclidean k-means with k-means++ seeding, reading ``features`` in row blocks.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
        float32 or float64; a read-only memory map is used in place (never written, never copied).
    n_clusters : int, ``1 <= n_clusters <= n_samples``
    seed : int
        Seeds the subsample and k-means++ (restart ``i`` uses ``seed + i``).
    n_init : int
        Restarts; the one with the lowest inertia is kept.
    max_iter : int
        Lloyd iterations per restart.
    tol : float
        Stop when the summed squared centre shift is ``<= tol`` x mean per-feature variance.
    init_max_samples : int
        k-means++ runs on a seeded subsample of this many rows when ``n_samples`` is larger.
    block_rows : int
        Rows per block (memory: ``block_rows x (n_features + n_clusters)`` floats a block).
    check_input : bool
        Check that ``features`` is a finite real 2-D array (a pass over every row). False where
        the caller has checked it already (the flat grid's ``kmeans``, :mod:`embtree.clustering`).

    Returns
    -------
    labels : ndarray of shape (n_samples,), int64
    centres : ndarray of shape (n_clusters, n_features), float64
    inertia : float, summed squared distance to the assigned centre
    """
    X = check_matrix(features, "features") if check_input else features
    n = len(X)
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)) or not 1 <= n_clusters <= n:
        raise ValueError(f"n_clusters={n_clusters!r} must be an int in 1..n_samples={n}")
    for name, v, least in (("n_init", n_init, 1), ("max_iter", max_iter, 1), ("init_max_samples", init_max_samples,
                           n_clusters), ("block_rows", block_rows, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
            raise ValueError(f"{name}={v!r} must be an int >= {least}")
    if not np.isfinite(tol) or tol < 0:
        raise ValueError(f"tol={tol!r} must be a finite number >= 0")
    idx = seeding_rows(n, init_max_samples, seed)
    inits = []
    # Seeding first, on the subsample centred on its own mean, and freed before the passes over
    # all rows: the float64 subsample and the whole mapped file are never resident together.
    sub = np.empty((len(idx), X.shape[1]))
    for s, e in _blocks(len(idx), block_rows):  # gathered in blocks: no float32 copy of the subsample
        sub[s:e] = X[idx[s:e]]
    sub_mean = sub.mean(axis=0)
    sub -= sub_mean
    # the chosen rows themselves (not centre + sub_mean): bit-equal starts, centred like the data
    for chosen in plusplus_restarts(sub, int(n_clusters), [seed + i for i in range(n_init)]):
        inits.append(np.asarray(X[idx[chosen]], dtype=np.float64))
    del sub
    mean, variance = _mean_and_variance(X, block_rows)
    best = None
    for i, init in enumerate(inits):
        labels, centres, inertia, n_iter = _lloyd(X, mean, init - mean, max_iter=max_iter, tol=tol * variance,
                                                  rows=block_rows)
        log.info("k-means restart %d: %d iterations, inertia %.6g", i, n_iter, inertia)
        if best is None or inertia < best[2]:
            best = (labels, centres + mean, inertia)
    return best
