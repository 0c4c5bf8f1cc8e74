"""Flat clustering scores, mapped top-k accuracies and calibration, shared by every stage.

Public names
------------
:func:`contingency`, :func:`cluster_accuracy`, :func:`purity`, :func:`cluster_purities`,
:func:`rand_index`, :func:`flat_scores` (a predicted partition vs the true labels);
:func:`hungarian_map`, :func:`top_k_to_one`, :func:`top_k_to_many` (paper 002, section 4.4);
:func:`calibration_bins`, :func:`expected_calibration_error`. Scores of a hierarchy
(dendrogram purity, LHD, leaf purity) are in :mod:`embtree.hierarchy.scores`.

Noise convention: a predicted label of ``-1`` means "no cluster" (HDBSCAN noise,
or a sample outside every CAEC cluster). Flat metrics treat all noise points as
one extra cluster of their own unless stated otherwise, so noise is penalised,
never silently dropped; :func:`flat_scores` also reports the noise fraction.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.optimize import linear_sum_assignment
from sklearn import metrics as skm
from sklearn.metrics.cluster import contingency_matrix

__all__ = [
    "contingency",
    "cluster_accuracy",
    "purity",
    "cluster_purities",
    "rand_index",
    "flat_scores",
    "hungarian_map",
    "top_k_to_one",
    "top_k_to_many",
    "calibration_bins",
    "expected_calibration_error",
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
    M = contingency_matrix(labels, pred).astype(np.int64, copy=False)
    return M, np.unique(labels), np.unique(pred)


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


def cluster_purities(labels, pred, n_clusters):
    """Purity of each cluster ``j`` in ``0..n_clusters-1``: ``max_i M[i, j] / |cluster j|``.

    Returns float ndarray of shape (n_clusters,), NaN for a cluster without samples; the
    size-weighted mean over clusters is :func:`purity`. The L2H dendrogram labels show it
    (paper 001, appendix C: "matched label and purity of each leaf").
    """
    M, _, clusters = contingency(labels, pred)
    out = np.full(int(n_clusters), np.nan)
    out[clusters] = M.max(axis=0) / M.sum(axis=0)
    return out


def rand_index(labels, pred):
    """Rand Index (CAEC paper eq. 18): share of sample pairs on which the partitions agree.

    ``(x + y) / C(n, 2)`` with x pairs together in both and y pairs apart in both;
    :func:`sklearn.metrics.rand_score`. Noise (-1) counts as one cluster.
    """
    labels, pred = _check_pair(labels, pred)
    return float(skm.rand_score(labels, pred))


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


# ---------------------------------------------------------------------------
# Mapped top-k accuracies and calibration (paper 002, sections 4.4 and 6)
# ---------------------------------------------------------------------------


def hungarian_map(labels, pred, n_clusters=None, n_classes=None):
    """Best one-to-one map cluster -> class (Hungarian on the contingency table).

    Parameters
    ----------
    labels : int array of shape (n_samples,), classes ``0 .. n_classes-1``
    pred : int array of shape (n_samples,), clusters ``0 .. n_clusters-1``

    Returns
    -------
    ndarray of shape (n_clusters,), int64
        The class of every cluster; ``-1`` for clusters left unmatched (more clusters
        than classes), which then always count as wrong.
    """
    labels, pred = _check_pair(labels, pred)
    if labels.min() < 0 or pred.min() < 0:
        raise ValueError("labels and pred must be non-negative class / cluster ids")
    K = int(pred.max()) + 1 if n_clusters is None else int(n_clusters)
    C = int(labels.max()) + 1 if n_classes is None else int(n_classes)
    M = np.zeros((K, C), dtype=np.int64)
    np.add.at(M, (pred, labels), 1)
    rows, cols = linear_sum_assignment(M, maximize=True)
    mapping = np.full(K, -1, dtype=np.int64)
    mapping[rows] = cols
    return mapping


def _check_ranked(ranked, n, k):
    ranked = np.asarray(ranked)
    if ranked.ndim != 2 or ranked.shape[0] != n:
        raise ValueError(f"ranked must have shape ({n}, n_ranked), got {ranked.shape}")
    if not 1 <= k <= ranked.shape[1]:
        raise ValueError(f"k={k} must lie in 1..{ranked.shape[1]} (columns of ranked)")
    return ranked.astype(np.int64)


def top_k_to_one(labels, ranked, k=5, n_clusters=None):
    """Top-k -> 1 accuracy (paper 002, section 4.4; SCAN's top-5).

    The Hungarian map is estimated from the top-1 predictions ``ranked[:, 0]``; the top
    ``k`` clusters of each sample are then mapped to classes, and a sample counts as
    correct when its label is among them. ``k = 1`` is the clustering accuracy.

    Parameters
    ----------
    labels : int array of shape (n_samples,)
    ranked : int array of shape (n_samples, >= k), clusters by decreasing score
    """
    labels = np.asarray(labels)
    ranked = _check_ranked(ranked, len(labels), k)
    mapping = hungarian_map(labels, ranked[:, 0], n_clusters=n_clusters or int(ranked.max()) + 1)
    mapped = mapping[ranked[:, :k]]
    return float((mapped == labels[:, None]).any(axis=1).mean())


def top_k_to_many(multi_labels, ranked, k=1, *, map_labels=None, n_repeats=50, seed=0):
    """Top-k -> L accuracy against multi-labels (paper 002, section 4.4).

    A sample is correct when any of its top-``k`` mapped predictions is in its label set
    ``S_L``. The Hungarian map comes from the top-1 predictions and one label per sample:
    ``map_labels`` when given (e.g. the ground truth), else one label drawn uniformly
    from each ``S_L``, repeated ``n_repeats`` times (seeded) and the accuracies averaged
    (the paper's protocol for ImageNet-1K ReaL).

    Parameters
    ----------
    multi_labels : bool array of shape (n_samples, n_classes) or scipy sparse matrix
        ``multi_labels[i, c]`` is True when class ``c`` is in ``S_L`` of sample ``i``.
        Samples with an empty set count as wrong.
    ranked : int array of shape (n_samples, >= k)
    map_labels : int array of shape (n_samples,), optional
    """
    S = sparse.csr_matrix(multi_labels, dtype=bool)
    n, C = S.shape
    ranked = _check_ranked(ranked, n, k)
    K = int(ranked.max()) + 1

    def accuracy(single):
        mapping = hungarian_map(single, ranked[:, 0], n_clusters=K, n_classes=C)
        mapped = mapping[ranked[:, :k]]
        rows = np.repeat(np.arange(n), k)
        hit = np.asarray(S[rows, np.maximum(mapped.ravel(), 0)]).ravel() & (mapped.ravel() >= 0)
        return float(hit.reshape(n, k).any(axis=1).mean())

    if map_labels is not None:
        return accuracy(np.asarray(map_labels, dtype=np.int64))
    counts = np.diff(S.indptr)
    rng = np.random.default_rng(seed)
    accs = []
    for _ in range(n_repeats):  # few repeats; each is vectorised over samples
        pick = S.indptr[:-1] + (rng.random(n) * np.maximum(counts, 1)).astype(np.int64)
        single = np.where(counts > 0, S.indices[np.minimum(pick, len(S.indices) - 1)], 0)
        accs.append(accuracy(single))
    return float(np.mean(accs))


def calibration_bins(confidence, correct, n_bins=15):
    """Equal-width confidence bins on [0, 1] (Guo et al. 2017): count, accuracy, mean confidence.

    Parameters
    ----------
    confidence : float array of shape (n_samples,), in [0, 1] (e.g. the max softmax probability)
    correct : bool array of shape (n_samples,)

    Returns
    -------
    dict of arrays of shape (n_bins,): ``edges`` (n_bins + 1,), ``count``, ``accuracy``,
    ``confidence`` (NaN for empty bins).
    """
    conf = np.asarray(confidence, dtype=np.float64)
    ok = np.asarray(correct, dtype=bool)
    if conf.ndim != 1 or conf.shape != ok.shape or len(conf) == 0:
        raise ValueError(f"confidence and correct must be 1-D of equal non-zero length, got {conf.shape}, {ok.shape}")
    if not np.all(np.isfinite(conf)) or conf.min() < 0 or conf.max() > 1:
        raise ValueError("confidence must be finite and lie in [0, 1]")
    if not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins={n_bins!r} must be an int >= 1")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Bins (lo, hi]; confidence 0 goes to the first bin.
    b = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(b, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.bincount(b, weights=ok, minlength=n_bins) / count
        mean_conf = np.bincount(b, weights=conf, minlength=n_bins) / count
    return {"edges": edges, "count": count, "accuracy": acc, "confidence": mean_conf}


def expected_calibration_error(confidence, correct, n_bins=15):
    """ECE = sum_b (|B_b| / N) |acc(B_b) - conf(B_b)| over equal-width bins (Guo et al. 2017)."""
    bins = calibration_bins(confidence, correct, n_bins)
    full = bins["count"] > 0
    w = bins["count"][full] / bins["count"].sum()
    return float((w * np.abs(bins["accuracy"][full] - bins["confidence"][full])).sum())
