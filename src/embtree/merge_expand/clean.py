"""Evaluation of Merge & Expand's clean / unclean demarcation (paper 003, table I, fig. 4c).

:func:`consistent_neighbours`
    For every sample, how many of its k nearest neighbours share its true label.
:func:`clean_scores`
    ACC / NMI / ARI / AMI over all, clean and unclean samples.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.neighbors import NearestNeighbors

from embtree.metrics import flat_scores
from embtree.validation import check_matrix

__all__ = ["consistent_neighbours", "clean_scores"]


def consistent_neighbours(X, labels_true, *, k=10):
    """Fig. 4c: for every sample, how many of its ``k`` nearest neighbours share its true label.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), euclidean
    labels_true : ndarray of shape (n_samples,)

    Returns
    -------
    ndarray of shape (n_samples,), int64 in 0..k
    """
    X = check_matrix(X, "X", min_rows=2)
    y = np.asarray(labels_true)
    if y.shape != (X.shape[0],):
        raise ValueError(f"labels_true has shape {y.shape}, expected ({X.shape[0]},)")
    k = int(k)
    if not 1 <= k < X.shape[0]:
        raise ValueError(f"k={k} must be in 1..n_samples-1={X.shape[0] - 1}")
    nn = NearestNeighbors(n_neighbors=k + 1).fit(X)
    nbr = nn.kneighbors(X, return_distance=False)
    idx = np.arange(X.shape[0])[:, None]
    # Remove the query itself (normally column 0; with duplicates it may sit elsewhere).
    is_self = nbr == idx
    drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), k)
    keep = np.ones_like(nbr, dtype=bool)
    keep[np.arange(len(nbr)), drop] = False
    nbr = nbr[keep].reshape(len(nbr), k)
    return (y[nbr] == y[:, None]).sum(axis=1).astype(np.int64)


def clean_scores(labels_true, labels_pred, clean):
    """ACC (Hungarian) / NMI / ARI / AMI over all, clean and unclean samples (table I's last row).

    Returns a dict; the scores of an empty subset are NaN.
    """
    labels_true, labels_pred, clean = np.asarray(labels_true), np.asarray(labels_pred), np.asarray(clean, bool)
    out = {}
    for name, m in (("all", np.ones_like(clean)), ("clean", clean), ("unclean", ~clean)):
        if m.sum() == 0:
            out.update({f"{k}_{name}": math.nan for k in ("acc", "nmi", "ari", "ami")})
            continue
        s = flat_scores(labels_true[m], labels_pred[m])
        out.update({f"{k}_{name}": s[k] for k in ("acc", "nmi", "ari", "ami")})
    return out
