"""Scores of a flat clustering (paper 004, § 3.4, appendix C).

:func:`evaluate`
    AMI (the primary metric), ARI, NMI, ACC, purity, silhouette, k and the noise fraction.
:func:`silhouette`
    The silhouette score in the space the clusterer saw; noise (``-1``) counts as one cluster.
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from embtree.metrics import flat_scores
from embtree.validation import check_matrix

__all__ = ["silhouette", "evaluate"]


def silhouette(features, labels, *, sample_size=None, seed=0) -> float:
    """Mean silhouette coefficient (Rousseeuw 1987; paper 004, appendix C.2, eq. 3), euclidean.

    Computed in the space the clusterer saw (the paper's label-free proxy for AMI,
    § 4.6). Noise (``-1``) counts as one cluster (``docs/methods/flat.md``). For
    ``n_samples > sample_size`` a seeded random subsample of ``sample_size``
    samples is scored (sklearn's ``sample_size`` with ``random_state=seed``).

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
    labels : ndarray of shape (n_samples,)
    sample_size : int, optional
    seed : int

    Returns
    -------
    float in [-1, 1], or NaN when the (sampled) partition has fewer than 2 or
    more than ``n - 1`` distinct labels (silhouette undefined).
    """
    X = check_matrix(features, "features", min_rows=2)
    labels = np.asarray(labels)
    if labels.shape != (X.shape[0],):
        raise ValueError(f"labels has shape {labels.shape}, expected ({X.shape[0]},)")
    if sample_size is not None and (isinstance(sample_size, bool) or int(sample_size) < 2):
        raise ValueError(f"sample_size={sample_size!r} must be an int >= 2")
    n = X.shape[0]
    sample_size = None if sample_size is None or n <= sample_size else int(sample_size)
    k = len(np.unique(labels))
    if not 2 <= k <= (sample_size or n) - 1:
        return float("nan")
    try:
        return float(skm.silhouette_score(X, labels, metric="euclidean", sample_size=sample_size,
                                          random_state=seed))
    except ValueError as exc:  # the subsample lost all but one label (or kept n distinct ones)
        if "Number of labels" not in str(exc):
            raise
        return float("nan")


def evaluate(features, labels_true, labels_pred, *, silhouette_sample_size=None, seed=0) -> dict:
    """Flat scores of a clustering: AMI (primary), ARI, NMI, ACC, purity, silhouette, k, noise.

    The supervised scores come from :func:`embtree.metrics.flat_scores` (noise is
    one extra cluster there); ``silhouette`` is :func:`silhouette` on ``features``.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
        The (reduced) features that were clustered.
    labels_true, labels_pred : ndarray of shape (n_samples,)

    Returns
    -------
    dict with keys ami, ari, nmi, acc, purity, silhouette, n_clusters, noise_fraction
    """
    scores = flat_scores(labels_true, labels_pred)
    scores["silhouette"] = silhouette(features, labels_pred, sample_size=silhouette_sample_size, seed=seed)
    order = ["ami", "ari", "nmi", "acc", "purity", "silhouette", "n_clusters", "noise_fraction"]
    return {k: scores[k] for k in order}
