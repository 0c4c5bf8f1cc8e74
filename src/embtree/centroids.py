"""Class centroids: :func:`class_centroids`, the mean embedding of every class (G of paper 000, eq. 1)."""

from __future__ import annotations

import numpy as np

__all__ = ["class_centroids"]


def class_centroids(features, labels, n_classes=None):
    """Mean embedding of every class: the "before clustering" centroids G.

    Parameters
    ----------
    features : array of shape (n_samples, n_features)
    labels : int array of shape (n_samples,), values in ``0 .. n_classes-1``
    n_classes : int, optional (default ``labels.max() + 1``)

    Returns
    -------
    G : float64 array of shape (n_classes, n_features); raises if a class is empty.

    The one class-mean function (CAEC eq. 1 uses it too). Hand-written rather than
    sklearn's ``NearestCentroid``, which gives the same means but copies X to float64 and
    computes per-class spreads; here float32 features are averaged in float64 class by class.
    """
    X = np.asarray(features)
    y = np.asarray(labels)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"features {X.shape} and labels {y.shape} do not match")
    if y.size and y.min() < 0:
        raise ValueError(f"labels contain negative values (min {y.min()})")
    k = int(y.max()) + 1 if n_classes is None else int(n_classes)
    counts = np.bincount(y, minlength=k)
    if len(counts) > k:
        raise ValueError(f"labels go up to {y.max()} but n_classes={k}")
    if np.any(counts == 0):
        raise ValueError(f"classes {np.flatnonzero(counts == 0).tolist()[:10]} have no samples")
    order = np.argsort(y, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    return np.stack([X[order[a:b]].mean(axis=0, dtype=np.float64) for a, b in zip(bounds[:-1], bounds[1:])])
