"""Evaluation of Merge & Expand's clean / unclean demarcation (paper 003, table I, fig. 4c).

:func:`consistent_neighbours`
    For every sample, how many of its k nearest neighbours share its true label.
:func:`clean_scores`
    ACC / NMI / ARI / AMI over all, clean and unclean samples.
:func:`neighbourhood_examples`
    Fig. 4a/b: a clean sample whose nearest neighbours share its label, an unclean one whose
    neighbours' labels all differ.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.neighbors import NearestNeighbors

from embtree.metrics import flat_scores
from embtree.validation import check_matrix

__all__ = ["consistent_neighbours", "clean_scores", "neighbourhood_examples"]


def _neighbours(X, queries, k):
    """Indices (len(queries), k) of the ``k`` nearest rows of ``X`` to each row ``X[queries]``,
    nearest first, the query itself left out (euclidean)."""
    nbr = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X[queries], return_distance=False)
    # Remove the query itself (normally column 0; with duplicates it may sit elsewhere, or be
    # crowded out by them: then the farthest goes).
    is_self = nbr == np.asarray(queries)[:, None]
    drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), k)
    keep = np.ones_like(nbr, dtype=bool)
    keep[np.arange(len(nbr)), drop] = False
    return nbr[keep].reshape(len(nbr), k)


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
    nbr = _neighbours(X, np.arange(X.shape[0]), k)
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


def neighbourhood_examples(X, labels_true, clean, *, n_examples=1, k=8, seed=0, max_candidates=2000):
    """Fig. 4a/b: example clean and unclean samples, each with its ``k`` nearest neighbours.

    The paper's fig. 4a is a clean image whose 8 nearest neighbours in the embedding all share
    its class, fig. 4b an unclean image whose 8 nearest neighbours "all have distinct class
    labels". Clean candidates are ranked by the number of neighbours sharing their true label,
    unclean ones by the number of distinct true labels among the sample and its neighbours
    (ties: fewer neighbours sharing its label); among equally ranked candidates the choice is
    random (``seed``). At most ``max_candidates`` of each kind (a seeded subsample) are
    scored, so the cost stays that of a few thousand neighbour queries.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), euclidean
    labels_true : ndarray of shape (n_samples,)
    clean : ndarray of shape (n_samples,), bool
    n_examples : int, examples of each kind (fewer where fewer samples are of that kind)
    k : int, neighbours shown (the paper: 8, a 3x3 mosaic)

    Returns
    -------
    clean_rows : ndarray of shape (n_clean_examples, k + 1), int64
        each row the example's index, then its neighbours' (nearest first)
    unclean_rows : ndarray of shape (n_unclean_examples, k + 1), int64
    """
    X = check_matrix(X, "X", min_rows=2)
    y = np.asarray(labels_true)
    clean = np.asarray(clean, dtype=bool)
    if y.shape != (X.shape[0],) or clean.shape != (X.shape[0],):
        raise ValueError(f"labels_true {y.shape} and clean {clean.shape} should have shape ({X.shape[0]},)")
    k, n_examples = int(k), int(n_examples)
    if not 1 <= k < X.shape[0]:
        raise ValueError(f"k={k} must be in 1..n_samples-1={X.shape[0] - 1}")
    if n_examples < 1:
        raise ValueError(f"n_examples={n_examples} should be >= 1")
    rng = np.random.default_rng(seed)
    out = []
    for want_clean in (True, False):
        cand = np.flatnonzero(clean == want_clean)
        cand = rng.permutation(cand)[: int(max_candidates)]  # random order: ties broken by seed
        if not len(cand):
            out.append(np.zeros((0, k + 1), dtype=np.int64))
            continue
        nbr = _neighbours(X, cand, k)
        same = (y[nbr] == y[cand][:, None]).sum(axis=1)
        if want_clean:
            score = same
        else:  # distinct labels among the sample and its neighbours first, then fewer sharing its label
            both = np.sort(np.column_stack([y[cand], y[nbr]]), axis=1)
            distinct = 1 + (both[:, 1:] != both[:, :-1]).sum(axis=1)
            score = distinct * (k + 1) + (k - same)
        best = np.argsort(-score, kind="stable")[:n_examples]
        out.append(np.column_stack([cand[best], nbr[best]]).astype(np.int64))
    return out[0], out[1]
