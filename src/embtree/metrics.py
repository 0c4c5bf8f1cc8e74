"""Clustering and hierarchy metrics shared by every stage.

Flat metrics (this file's first half) compare a predicted partition with the
true labels; the hierarchy metrics (dendrogram purity, LHD, leaf purity) compare
a tree over clusters with the labels (L2H paper, appendix B.3).

Noise convention: a predicted label of ``-1`` means "no cluster" (HDBSCAN noise,
or a sample outside every CAEC cluster). Flat metrics treat all noise points as
one extra cluster of their own unless stated otherwise, so noise is penalised,
never silently dropped; :func:`flat_scores` also reports the noise fraction.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn import metrics as skm

__all__ = [
    "contingency",
    "cluster_accuracy",
    "purity",
    "flat_scores",
]


def _check_pair(labels, pred):
    labels = np.asarray(labels)
    pred = np.asarray(pred)
    if labels.ndim != 1 or pred.ndim != 1:
        raise ValueError(f"labels and pred must be 1-D, got shapes {labels.shape} and {pred.shape}")
    if len(labels) != len(pred):
        raise ValueError(f"len(labels)={len(labels)} != len(pred)={len(pred)}")
    if len(labels) == 0:
        raise ValueError("labels and pred are empty")
    return labels, pred


def contingency(labels, pred):
    """Contingency table ``M[i, j]`` = #samples with true class i and cluster j.

    Returns ``(M, classes, clusters)`` with ``M`` of shape (n_classes, n_clusters).
    """
    labels, pred = _check_pair(labels, pred)
    classes, yi = np.unique(labels, return_inverse=True)
    clusters, pj = np.unique(pred, return_inverse=True)
    M = np.zeros((len(classes), len(clusters)), dtype=np.int64)
    np.add.at(M, (yi, pj), 1)
    return M, classes, clusters


def cluster_accuracy(labels, pred):
    """Clustering accuracy with the best one-to-one cluster→class map (Hungarian).

    ``ACC = max_perm (1/N) sum_i 1[y_i = perm(c_i)]``, solved with
    :func:`scipy.optimize.linear_sum_assignment` on the contingency table. With
    more clusters than classes the unmatched clusters count as errors.

    Parameters
    ----------
    labels : array of shape (n_samples,)
    pred : array of shape (n_samples,)

    Returns
    -------
    float in [0, 1]
    """
    M, _, _ = contingency(labels, pred)
    rows, cols = linear_sum_assignment(M, maximize=True)
    return float(M[rows, cols].sum() / M.sum())


def purity(labels, pred):
    """Purity: each cluster votes for its majority class, ``(1/N) sum_j max_i M[i, j]``."""
    M, _, _ = contingency(labels, pred)
    return float(M.max(axis=0).sum() / M.sum())


def flat_scores(labels, pred):
    """All flat metrics of a partition as a dict (AMI, ARI, NMI, ACC, purity, k, noise).

    Noise (``pred == -1``) forms one extra cluster here (see module docstring).
    """
    labels, pred = _check_pair(labels, pred)
    noise = pred == -1
    found = np.unique(pred[~noise])
    return {
        "ami": float(skm.adjusted_mutual_info_score(labels, pred)),
        "ari": float(skm.adjusted_rand_score(labels, pred)),
        "nmi": float(skm.normalized_mutual_info_score(labels, pred)),
        "acc": cluster_accuracy(labels, pred),
        "purity": purity(labels, pred),
        "n_clusters": int(len(found)),
        "noise_fraction": float(noise.mean()),
    }
