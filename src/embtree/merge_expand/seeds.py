"""Merge & Expand phase 2 (paper 003, II.B.3): seed regions by the max-min criterion with the skip rule.

:func:`select_seeds`
    Seed regions of eq. 1, skipping a candidate that could replace a seed.
:func:`replacement_similarity`
    The skip rule's similarity of the partitions with and without a swap.
:func:`partition_ari`
    Adjusted Rand index of two region-level labelings, regions weighted by size.
"""

from __future__ import annotations

import logging

import numpy as np

__all__ = ["partition_ari", "replacement_similarity", "select_seeds"]

log = logging.getLogger(__name__)


def partition_ari(a, b, weights):
    """Adjusted Rand index of two region-level labelings, each region weighted by its size.

    Equals ``sklearn.metrics.adjusted_rand_score`` on the point-level labels
    ``a[regions]``, ``b[regions]`` without materialising them (the skip rule
    evaluates it for every candidate x seed).

    Parameters
    ----------
    a, b : ndarray of shape (n_R,), int labels
    weights : ndarray of shape (n_R,), region sizes (integers)
    """
    _, a = np.unique(a, return_inverse=True)
    _, b = np.unique(b, return_inverse=True)
    C = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(C, (a, b), np.asarray(weights, dtype=np.float64))
    comb = lambda x: x * (x - 1) / 2  # noqa: E731
    n = C.sum()
    sum_ij = comb(C).sum()
    sum_a, sum_b = comb(C.sum(axis=1)).sum(), comb(C.sum(axis=0)).sum()
    expected = sum_a * sum_b / comb(n) if n > 1 else 0.0
    max_index = (sum_a + sum_b) / 2
    if max_index == expected:  # both trivial partitions: identical by convention (as sklearn)
        return 1.0
    return float((sum_ij - expected) / (max_index - expected))


def replacement_similarity(D, seeds, cand, sizes):
    """Skip rule: for every seed s, ARI of the partition with c in s's place against the current one.

    The partition induced by a seed set assigns each region to its nearest seed
    (by ``D``); points inherit their region's assignment (:func:`partition_ari`).

    Parameters
    ----------
    D : ndarray of shape (n_R, n_R)
    seeds : ndarray of shape (K,), current seed regions
    cand : int, candidate region
    sizes : ndarray of shape (n_R,)

    Returns
    -------
    ndarray of shape (K,), float64
    """
    S = np.asarray(seeds)
    K = len(S)
    Ds = D[:, S]  # (n_R, K)
    current = np.argmin(Ds, axis=1)
    alt = np.repeat(Ds[None], K, axis=0)  # alt[s]: distances with seed s replaced by c
    alt[np.arange(K), :, np.arange(K)] = D[:, cand][None, :]
    alt_assign = np.argmin(alt, axis=2)  # (K, n_R), all K alternatives at once
    return np.asarray([partition_ari(current, a, sizes) for a in alt_assign])


def select_seeds(D, sizes, filtered, *, seed_size_ratio=0.5, skip_similarity=0.8, max_skips=5, max_seeds=30):
    """Phase 2 (II.B.3): seed regions by the max-min criterion of eq. 1 with the skip rule.

    Parameters
    ----------
    D : ndarray of shape (n_R, n_R), average inter-region distances
    sizes : ndarray of shape (n_R,), region sizes
    filtered : ndarray of shape (n_R,), bool, the filtered regions F

    Returns
    -------
    seeds : ndarray of shape (K,), int64 region ids in selection order
    skipped : ndarray, int64 region ids skipped (added to F)
    """
    D = np.asarray(D, dtype=np.float64)
    sizes = np.asarray(sizes, dtype=np.float64)
    n_r = len(sizes)
    ok = ~np.asarray(filtered, dtype=bool)
    if ok.sum() < 2:
        raise ValueError(
            f"only {int(ok.sum())} region(s) left after the mixed-region filter "
            "(merge_expand.mixed_filter_ratio too high, or too few merge_expand.n_regions)"
        )
    ratio = np.minimum.outer(sizes, sizes) / np.maximum(np.maximum.outer(sizes, sizes), 1e-12)
    pair_ok = np.outer(ok, ok) & (ratio >= seed_size_ratio)
    np.fill_diagonal(pair_ok, False)
    if not pair_ok.any():
        raise ValueError(
            f"no seed pair found: no two unfiltered regions with size ratio >= "
            f"merge_expand.seed_size_ratio={seed_size_ratio}"
        )
    i, j = np.unravel_index(np.argmax(np.where(pair_ok, D, -np.inf)), D.shape)
    seeds = [int(min(i, j)), int(max(i, j))]
    available = ok.copy()
    available[seeds] = False
    min_d = D[:, seeds].min(axis=1)
    skipped, run = [], 0
    while run < max_skips and len(seeds) < max_seeds and available.any():
        cand = int(np.argmax(np.where(available, min_d, -np.inf)))  # eq. 1
        available[cand] = False
        S = np.asarray(seeds)
        Dss = D[np.ix_(S, S)] + np.diag(np.full(len(S), np.inf))
        # c "can replace" s: within half of s's distance to its nearest other seed, and the swap
        # keeps the partition (docs/methods/merge-expand.md).
        near = D[cand, S] < 0.5 * Dss.min(axis=1)
        sim = replacement_similarity(D, seeds, cand, sizes)
        best = float(np.max(np.where(near, sim, -1.0)))
        if best >= skip_similarity:
            skipped.append(cand)
            run += 1
            log.info("seed candidate %d skipped (replaces a seed, ARI %.3f)", cand, best)
        else:
            seeds.append(cand)
            min_d = np.minimum(min_d, D[:, cand])
            run = 0
    if len(seeds) >= max_seeds:
        log.warning("seed selection stopped at merge_expand.max_seeds=%d", max_seeds)
    return np.asarray(seeds, dtype=np.int64), np.asarray(skipped, dtype=np.int64)
