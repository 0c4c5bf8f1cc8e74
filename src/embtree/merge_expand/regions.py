"""Merge & Expand phases 1-2 on the embedding: regions and what seed selection reads of them.

:func:`make_regions`
    Phase 1 (paper 003, II.B.2): spectral clustering into small tight regions.
:func:`region_sample`
    A seeded subsample of at most a given number of members of every region.
:func:`region_distances`
    Average inter-region distances d(r_i, r_j) of eq. 1.
:func:`neighbourhood_agreement`, :func:`mixed_regions`
    The label-free mixed-region filter F.
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.metrics import pairwise_distances
from sklearn.neighbors import NearestNeighbors

from embtree import clustering
from embtree.merge_expand.params import region_count

__all__ = ["make_regions", "region_sample", "region_distances", "neighbourhood_agreement", "mixed_regions"]

log = logging.getLogger(__name__)


def make_regions(X, n_regions, *, seed=0, max_quadratic_samples=10_000, min_region_size=5):
    """Phase 1 (II.B.2): spectral clustering of the embeddings into small tight regions.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Finite features (prior validation assumed: :func:`~embtree.merge_expand.merge_expand` does it).
    n_regions : int >= 2, capped at ``max(n_samples // min_region_size, 2)`` with a warning
        (:func:`region_count`)
    seed : int
    max_quadratic_samples : int
        Above this many samples spectral clustering is fitted on a seeded
        subsample and the rest join the nearest fitted sample
        (:func:`embtree.clustering.cluster`).

    Returns
    -------
    ndarray of shape (n_samples,), int64, contiguous region ids ``0 .. n_R-1``
    """
    n = X.shape[0]
    if n < 2:
        raise ValueError(f"n_samples={n}: phase 1 needs at least 2 samples")
    capped = region_count(n, n_regions, min_region_size)
    if capped < n_regions:
        log.warning("merge_expand.n_regions=%d capped at max(n_samples // min_region_size, 2) = %d // %d = %d "
                    "for this small data set", n_regions, n, min_region_size, capped)
        n_regions = capped
    if max_quadratic_samples < n_regions:
        raise ValueError(
            f"max_quadratic_samples={max_quadratic_samples} should be >= n_regions={n_regions}"
        )
    labels = clustering.cluster(
        X, "spectral", n_clusters=int(n_regions), seed=seed, max_quadratic_samples=int(max_quadratic_samples),
        check_input=False,
    )
    _, labels = np.unique(labels, return_inverse=True)  # drop empty clusters
    return labels.astype(np.int64)


def region_sample(regions, per_region, seed):
    """Seeded subsample of at most ``per_region`` members of every region (sorted indices)."""
    rng = np.random.default_rng(seed)
    # Random keys, then the first ``per_region`` of each region in key order: vectorised.
    key = rng.random(len(regions))
    order = np.lexsort((key, regions))
    r_sorted = regions[order]
    start = np.searchsorted(r_sorted, r_sorted, side="left")
    rank = np.arange(len(order)) - start
    return np.sort(order[rank < per_region])


def region_distances(X, regions, *, samples_per_region=32, seed=0):
    """Average inter-region distances d(r_i, r_j) of eq. 1, euclidean.

    d(r_i, r_j) = mean over x in r_i, x* in r_j of ||x - x*||, on at most
    ``samples_per_region`` seeded members per region; computed as P^T D P with
    the column-normalised membership matrix P (no loop over members).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    regions : ndarray of shape (n_samples,), ids 0..n_R-1

    Returns
    -------
    ndarray of shape (n_R, n_R), float64 (diagonal: mean within-region distance)
    """
    n_r = int(regions.max()) + 1
    idx = region_sample(regions, samples_per_region, seed)
    r = regions[idx]
    D = pairwise_distances(np.asarray(X[idx], dtype=np.float64), metric="euclidean")
    counts = np.bincount(r, minlength=n_r).astype(np.float64)
    P = np.zeros((len(idx), n_r))
    P[np.arange(len(idx)), r] = 1.0 / counts[r]
    out = P.T @ D @ P
    return (out + out.T) / 2


def neighbourhood_agreement(X, regions, *, n_neighbors=10, samples_per_region=32, seed=0):
    """Per region: mean fraction of a member's ``n_neighbors`` nearest neighbours in the same region.

    Label-free "mixed region" statistic (``docs/methods/merge-expand.md``). Members are
    subsampled as in :func:`region_distances`; neighbours are searched among all
    samples (the query point itself excluded).

    Returns
    -------
    ndarray of shape (n_R,), float64 in [0, 1]
    """
    n = X.shape[0]
    k = min(n_neighbors, n - 1)
    idx = region_sample(regions, samples_per_region, seed)
    nn = NearestNeighbors(n_neighbors=k + 1).fit(X)
    nbr = nn.kneighbors(X[idx], return_distance=False)
    # Drop the query itself wherever it appears (duplicates may push it off column 0).
    same = regions[nbr] == regions[idx][:, None]
    self_hit = nbr == idx[:, None]
    frac = (same & ~self_hit).sum(axis=1) / np.maximum((~self_hit).sum(axis=1), 1)
    n_r = int(regions.max()) + 1
    total = np.bincount(regions[idx], weights=frac, minlength=n_r)
    return total / np.maximum(np.bincount(regions[idx], minlength=n_r), 1)


def mixed_regions(agreement, ratio):
    """Filtered regions F: agreement below ``ratio`` x the median agreement. Bool (n_R,)."""
    agreement = np.asarray(agreement, dtype=np.float64)
    return agreement < ratio * np.median(agreement)
