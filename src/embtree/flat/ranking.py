"""Comparing clusterers across runs (paper 004, § 4.2 and fig. 6; § 4.6 and figs. 4, 10).

:func:`rank_clusterers`
    Rank of every clusterer within each block (an encoder x data set x reducer run), its mean
    rank, and the Wilcoxon signed-rank test of the best-ranked clusterer against each other.
:func:`score_correlation`
    Spearman's rank correlation of two scores over runs (AMI against the label-free silhouette).

Both take plain arrays; the report builds them from the flat stage's per-run tables.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["rank_clusterers", "score_correlation"]


def rank_clusterers(scores, *, higher_is_better=True):
    """Mean rank of every clusterer over blocks, and paired tests against the best one.

    Within each block (row) the clusterers are ranked 1 = best, ties sharing their mean rank
    (``scipy.stats.rankdata``); a block where a clusterer has no score is left out of that
    clusterer's mean and of every test involving it. The best clusterer is the one with the
    lowest mean rank; each other one is compared with it by the Wilcoxon signed-rank test on
    their paired scores (two-sided; zero differences dropped, ``zero_method="wilcox"``), as the
    paper compares the best clusterer with each other one.

    Parameters
    ----------
    scores : array-like of shape (n_blocks, n_clusterers), float; NaN = no score
    higher_is_better : bool, default True (AMI)

    Returns
    -------
    dict with ``mean_rank`` (n_clusterers,), ``n_blocks`` (n_clusterers,) blocks scored,
    ``best`` (int, column of the lowest mean rank), ``p_vs_best`` (n_clusterers,): the test's
    p-value against the best (NaN for the best itself, and where fewer than 2 paired blocks
    differ).
    """
    S = np.asarray(scores, dtype=float)
    if S.ndim != 2 or S.shape[1] < 2:
        raise ValueError(f"scores must have shape (n_blocks, n_clusterers >= 2), got {S.shape}")
    signed = S if higher_is_better else -S
    ranks = np.full(S.shape, np.nan)
    for i, row in enumerate(signed):
        ok = np.isfinite(row)
        if ok.sum() >= 1:
            # rankdata ranks ascending: rank the negated scores so that 1 = the best
            ranks[i, ok] = stats.rankdata(-row[ok], method="average")
    n_blocks = np.isfinite(ranks).sum(axis=0)
    with np.errstate(invalid="ignore"):
        mean_rank = np.where(n_blocks > 0, np.nansum(ranks, axis=0) / np.maximum(n_blocks, 1), np.nan)
    if not np.isfinite(mean_rank).any():
        raise ValueError("no block has a score")
    best = int(np.nanargmin(mean_rank))
    p = np.full(S.shape[1], np.nan)
    for j in range(S.shape[1]):
        if j == best:
            continue
        both = np.isfinite(S[:, best]) & np.isfinite(S[:, j])
        diff = S[both, best] - S[both, j]
        if np.count_nonzero(diff) >= 2:
            p[j] = float(stats.wilcoxon(S[both, best], S[both, j]).pvalue)
    return {"mean_rank": mean_rank, "n_blocks": n_blocks, "best": best, "p_vs_best": p}


def score_correlation(a, b):
    """Spearman's rank correlation of two scores over the same runs (NaN pairs dropped).

    Paper 004 § 4.6 correlates AMI with the silhouette score (in the space the clusterer saw),
    to judge the silhouette as a label-free proxy of cluster quality.

    Returns
    -------
    dict with ``rho``, ``p`` and ``n`` (pairs used); rho and p are NaN below 3 pairs.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a and b must be 1-D of one shape, got {a.shape} and {b.shape}")
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return {"rho": float("nan"), "p": float("nan"), "n": int(ok.sum())}
    res = stats.spearmanr(a[ok], b[ok])
    return {"rho": float(res.statistic), "p": float(res.pvalue), "n": int(ok.sum())}
