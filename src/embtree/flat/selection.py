"""Choosing settings on development data sets, and aggregating by data-set group (paper 004).

:func:`select`
    The candidate (a reducer, a distance threshold, ...) with the best weighted-average score over
    the development data sets (§ 3.5, appendix E: ImageNet-1k weighted twice the two 10-class
    subsets); with ``relative=True`` each data set's scores are first divided by its best one
    (E.7, the distance threshold of "AC w/o C").
:func:`threshold_grid`
    E.7's 21 distance thresholds from 0.001 to 5000, and its twice-as-fine refinement.
:func:`group_means`
    Mean score per row over the data sets of each group (§ 3.3's five domains; fig. 1), with the
    rank of every row within each group.

Plain arrays in and out; the report builds them from the flat stage's per-run tables.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

__all__ = ["select", "threshold_grid", "group_means"]


def select(scores, weights=None, *, relative=False):
    """Weighted-average score of every candidate over the development data sets, and the best one.

    Paper 004, appendix E: "we took the weighted-average AMI over the three datasets, weighting
    ImageNet-1k twice as much as the two 10-class subsets, and selected the parameter value which
    yielded the highest weighted-average AMI". A candidate that lacks a data set's score is not
    comparable with the others and gets no average (NaN).

    Parameters
    ----------
    scores : array-like of shape (n_candidates, n_datasets), float; NaN = not run
    weights : array-like of shape (n_datasets,), optional
        Non-negative, not all zero; default equal weights.
    relative : bool
        Divide each data set's column by its best score first (E.7: "scaled ... relative to the
        maximum AMI ... gives each dataset the same dynamic range"). A data set whose best score
        is not above 0 carries no information on the ranking and is left out (weight 0).

    Returns
    -------
    dict with ``weighted`` (n_candidates,) the weighted averages (NaN for an incomplete
    candidate), ``best`` (int, row of the highest average; the first on ties; -1 when no
    candidate is complete) and ``weights`` (n_datasets,) the weights used (normalised to sum 1).
    """
    S = np.asarray(scores, dtype=float)
    if S.ndim != 2 or S.shape[0] < 1 or S.shape[1] < 1:
        raise ValueError(f"scores must have shape (n_candidates >= 1, n_datasets >= 1), got {S.shape}")
    w = np.ones(S.shape[1]) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (S.shape[1],) or not np.all(np.isfinite(w)) or np.any(w < 0) or not np.any(w > 0):
        raise ValueError(f"weights must be {S.shape[1]} non-negative finite numbers, not all 0, got {w.tolist()}")
    if relative:
        with warnings.catch_warnings():  # a data set no candidate ran on: max NaN, left out below
            warnings.filterwarnings("ignore", "All-NaN slice encountered", RuntimeWarning)
            top = np.nanmax(S, axis=0)
        informative = np.isfinite(top) & (top > 0)
        w = np.where(informative, w, 0.0)
        S = np.where(informative, S / np.where(informative, top, 1.0), 0.0)
        if not np.any(w > 0):
            return {"weighted": np.full(S.shape[0], np.nan), "best": -1, "weights": w}
    used = w > 0
    complete = np.all(np.isfinite(S[:, used]), axis=1)
    weighted = np.full(S.shape[0], np.nan)
    weighted[complete] = S[np.ix_(complete, used)] @ (w[used] / w[used].sum())
    best = int(np.nanargmax(weighted)) if complete.any() else -1
    return {"weighted": weighted, "best": best, "weights": w / w.sum()}


def threshold_grid(refine=False):
    """Paper 004 E.7's distance thresholds: 21 values "sampled logarithmically from 0.001 to 5000".

    The 1-2-5 series (0.001, 0.002, 0.005, ..., 2000, 5000), which holds every threshold of
    tables 3-4; ``refine=True`` adds the geometric mean between neighbours ("twice the
    resolution", for PCA-reduced embeddings: the tables' 0.71 = sqrt(0.5 x 1)).

    Returns
    -------
    ndarray of shape (21,) or (41,), increasing
    """
    grid = np.array([m * 10.0**e for e in range(-3, 4) for m in (1, 2, 5)])
    if refine:
        mid = np.sqrt(grid[:-1] * grid[1:])
        grid = np.sort(np.concatenate([grid, mid]))
    return grid


def group_means(scores, groups):
    """Mean score of every row over the data sets (columns) of each group, and the rows' rank per group.

    Paper 004 § 4.2, fig. 1: AMI per encoder averaged within each of § 3.3's five groups of data
    sets (in-domain, domain-shifted, near-OOD, fine-grained, far-OOD). A row's mean over a group
    uses the data sets it has a score on; ``n`` says how many.

    Parameters
    ----------
    scores : array-like of shape (n_rows, n_datasets), float; NaN = no score
    groups : sequence of length n_datasets
        The group of every data set (column).

    Returns
    -------
    dict with ``groups`` (the distinct groups, first-seen order), ``mean`` (n_rows, n_groups),
    ``n`` (n_rows, n_groups) data sets averaged, ``rank`` (n_rows, n_groups): 1 = the highest
    mean in its group, ties sharing their mean rank, NaN without a mean.
    """
    S = np.asarray(scores, dtype=float)
    groups = list(groups)
    if S.ndim != 2 or S.shape[1] != len(groups):
        raise ValueError(f"scores must have shape (n_rows, {len(groups)}), got {S.shape}")
    names = list(dict.fromkeys(groups))
    g = np.array([names.index(x) for x in groups])
    mean = np.full((S.shape[0], len(names)), np.nan)
    n = np.zeros((S.shape[0], len(names)), dtype=np.int64)
    for j in range(len(names)):
        block = S[:, g == j]
        n[:, j] = np.isfinite(block).sum(axis=1)
        has = n[:, j] > 0
        mean[has, j] = np.nansum(block[has], axis=1) / n[has, j]
    rank = np.full(mean.shape, np.nan)
    for j in range(len(names)):
        ok = np.isfinite(mean[:, j])
        if ok.any():
            # means equal but for float noise ((0.2 + 0.4) / 2 vs 0.3) tie
            rank[ok, j] = stats.rankdata(-np.round(mean[ok, j], 12), method="average")
    return {"groups": names, "mean": mean, "n": n, "rank": rank}
