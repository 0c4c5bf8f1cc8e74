"""Merge & Expand phase 3 scores of the seed pairs (paper 003, II.B.4, eq. 2-5).

:func:`co_contribution`
    Co-contribution M1 (eq. 2) and the consensus labels.
:func:`seed_pairs`
    The merged pairs, in the order of the merged-pair classifiers.
:func:`leakage_matrix`, :func:`leakage_scores`
    Leakage matrix L (eq. 3) and leakage score M2 (eq. 4, one-sided rank-sum p-values).
:func:`replacement_scores`
    Replacement score M3 (eq. 5).
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy import stats

__all__ = ["co_contribution", "seed_pairs", "leakage_matrix", "leakage_scores", "replacement_scores"]


def co_contribution(probs):
    """Co-contribution M1 (eq. 2).

    m1_ij = 1 / (|T_i| n_r) sum_{x in T_i} sum_l f_j^l(x), T_i = points whose
    consensus label (argmax of the mean output over rounds) is i.

    Parameters
    ----------
    probs : ndarray of shape (n_rounds, n_samples, K), classifier outputs

    Returns
    -------
    M1 : ndarray of shape (K, K) (rows of empty T_i are 0)
    y0 : ndarray of shape (n_samples,), consensus labels
    """
    probs = np.asarray(probs, dtype=np.float64)
    mean = probs.mean(axis=0)
    K = mean.shape[1]
    y0 = mean.argmax(axis=1)
    onehot = np.zeros((len(y0), K))
    onehot[np.arange(len(y0)), y0] = 1.0
    sums = onehot.T @ mean
    count = onehot.sum(axis=0)
    return sums / np.maximum(count, 1)[:, None], y0


def seed_pairs(K):
    """The (K choose 2) seed pairs (i, k), i < k, in ``itertools.combinations`` order. (P, 2) int64."""
    return np.asarray(list(itertools.combinations(range(K), 2)), dtype=np.int64).reshape(-1, 2)


def leakage_matrix(y0, merged, pairs, K):
    """Leakage matrix L of eq. 3: L[p, j] = |{x : y0(x) = j, y_{pair p}(x) = the combined class}|.

    Parameters
    ----------
    y0 : ndarray of shape (n_samples,), K-class consensus labels
    merged : ndarray of shape (P, n_samples), bool: predicted into the combined class by pair p's model
    pairs : ndarray of shape (P, 2), the merged pairs (i, k)

    Returns
    -------
    ndarray of shape (P, K), int64
    """
    onehot = np.zeros((len(y0), K), dtype=np.int64)
    onehot[np.arange(len(y0)), y0] = 1
    return np.asarray(merged, dtype=np.int64) @ onehot


def leakage_scores(L, pairs, K):
    """Leakage score M2 (eq. 4): one-sided Wilcoxon rank-sum p-values (``scipy.stats.ranksums``).

    m2_ij = p-value of "L(R_i, j) is larger than the background L(R_{1:K}, j)",
    both without the rows whose pair contains j (``docs/methods/merge-expand.md``). All (i, j)
    are tested in one vectorised call. Diagonal: 1.

    Parameters
    ----------
    L : ndarray of shape (K*(K-1)/2, K), rows in ``itertools.combinations`` order
    pairs : ndarray of shape (K*(K-1)/2, 2)

    Returns
    -------
    ndarray of shape (K, K), float64 (all 1 for K < 3)
    """
    M2 = np.ones((K, K))
    if K < 3:
        return M2
    L = np.asarray(L, dtype=np.float64)
    P = len(pairs)
    has = np.zeros((P, K), dtype=bool)
    has[np.arange(P), pairs[:, 0]] = True
    has[np.arange(P), pairs[:, 1]] = True
    # For each (i, j), i != j: rows containing i but not j (K-2 of them); background for j:
    # rows not containing j (C(K-1, 2) of them). Index arrays of fixed width, built once.
    rows_i_not_j = np.zeros((K, K, K - 2), dtype=np.int64)
    bg = np.zeros((K, (K - 1) * (K - 2) // 2), dtype=np.int64)
    for j in range(K):  # K small index builds (not the hot path: the test below is vectorised)
        bg[j] = np.nonzero(~has[:, j])[0]
        for i in range(K):
            if i != j:
                rows_i_not_j[i, j] = np.nonzero(has[:, i] & ~has[:, j])[0]
    cols = np.arange(K)
    x = L[rows_i_not_j, cols[None, :, None]]  # (K, K, K-2): x[i, j] = L(R_i \ j, j)
    y = np.broadcast_to(L[bg, cols[:, None]][None], (K, K, bg.shape[1]))  # (K, K, C(K-1,2))
    p = stats.ranksums(x, y, alternative="greater", axis=-1).pvalue
    M2 = np.where(np.eye(K, dtype=bool), 1.0, p)
    return np.nan_to_num(M2, nan=1.0)


def replacement_scores(y0, y_loo):
    """Replacement score M3 (eq. 5): m3_ij = |{y0 = i, y_{-i} = j}| / |{y0 = i}|.

    Parameters
    ----------
    y0 : ndarray of shape (n_samples,), K-class consensus labels
    y_loo : ndarray of shape (K, n_samples), labels (original ids) of the model without seed i

    Returns
    -------
    ndarray of shape (K, K), float64 (rows of empty classes 0; diagonal 0)
    """
    y_loo = np.asarray(y_loo)
    K = y_loo.shape[0]
    M3 = np.zeros((K, K))
    rows = np.broadcast_to(np.arange(K)[:, None], y_loo.shape)
    sel = y0[None, :] == rows  # (K, n): x with y0 = i, in row i
    np.add.at(M3, (rows[sel], y_loo[sel]), 1.0)
    count = np.bincount(y0, minlength=K).astype(np.float64)
    M3 = M3 / np.maximum(count, 1)[:, None]
    np.fill_diagonal(M3, 0.0)
    return M3
