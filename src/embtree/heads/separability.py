"""Class separability of an embedding (paper 002, section 6 and appendix B.1, fig. 4).

:func:`alignment_loss` (``L_align`` over true positive nearest neighbours),
:func:`separability_scores` (``L_align``, the Davies-Bouldin score, the silhouette and the
share of true positive neighbours of one run), :func:`coefficient_of_determination` (the
figure's R² of a measure against the linear probing accuracy across runs).

The paper's definitions: ``L_align(g) = E_{(x1, x2) ~ p_pos} ||g(x1) - g(x2)||_2^2`` (Wang &
Isola 2020, their ``alpha = 2``) with ``p_pos`` the *true positive nearest neighbours*, "images
that share the same labels": here every pair ``(i, j)`` with ``j`` among the ``k`` cosine
nearest neighbours of ``i`` (the heads' kNN) and ``y_i = y_j``. Wang & Isola's ``g`` maps to the
unit hypersphere, and the paper compares encoders whose feature scales differ, so the features
are L2-normalised first (``normalize=True``; then ``L_align = 2 - 2 cos`` in [0, 4]) and the
Davies-Bouldin score (Davies & Bouldin 1979, :func:`sklearn.metrics.davies_bouldin_score`,
lower = better separated) and the silhouette (:func:`sklearn.metrics.silhouette_score`,
Euclidean) are computed on the same points, with the true classes as clusters. Details:
docs/methods/heads.md ("Class separability").
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from embtree.heads.params import is_int
from embtree.validation import check_matrix

__all__ = ["alignment_loss", "separability_scores", "coefficient_of_determination"]

#: Rows of one (rows, k, d) difference block of :func:`alignment_loss` (bounded memory).
_ALIGN_BLOCK_FLOATS = 2**24


def _check(features, labels, neighbors):
    X = check_matrix(features, "features", min_rows=2)
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != X.shape[0]:
        raise ValueError(f"labels must have shape ({X.shape[0]},), got {y.shape}")
    nbr = None
    if neighbors is not None:
        nbr = np.asarray(neighbors)
        if nbr.ndim != 2 or nbr.shape[0] != X.shape[0] or nbr.shape[1] < 1:
            raise ValueError(f"neighbors must have shape ({X.shape[0]}, k >= 1), got {nbr.shape}")
        if not np.issubdtype(nbr.dtype, np.integer) or nbr.min() < 0 or nbr.max() >= X.shape[0]:
            raise ValueError(f"neighbors must be sample indices in 0..{X.shape[0] - 1}")
    return X, y, nbr


def _normalized(X):
    X = np.asarray(X, dtype=np.float64)
    return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)  # eps as F.normalize


def _alignment(Z, y, nbr):
    """(sum of squared distances, number) over the true positive pairs of validated input."""
    n, k = nbr.shape
    rows = max(1, _ALIGN_BLOCK_FLOATS // (k * Z.shape[1]))
    total, count = 0.0, 0
    for r0 in range(0, n, rows):  # blocks of rows: (rows, k, d) differences at a time
        idx = nbr[r0:r0 + rows]
        pos = y[idx] == y[r0:r0 + rows, None]
        sq = ((Z[r0:r0 + rows, None, :] - Z[idx]) ** 2).sum(-1)
        total += float(sq[pos].sum())
        count += int(pos.sum())
    return total, count


def alignment_loss(features, labels, neighbors, *, normalize=True) -> float:
    """``L_align`` over the true positive nearest neighbours (paper 002 appendix B.1).

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
    labels : array of shape (n_samples,), the true classes
    neighbors : int ndarray of shape (n_samples, k), the nearest neighbours of every sample
        (e.g. :func:`embtree.heads.mine_knn`)
    normalize : bool, L2-normalise the features first (Wang & Isola's hypersphere)

    Returns
    -------
    float
        Mean ``||z_i - z_j||^2`` over the pairs ``(i, j)``, ``j`` in ``neighbors[i]`` with
        ``labels[i] == labels[j]`` (each listed pair once); NaN when no neighbour shares the label.
    """
    X, y, nbr = _check(features, labels, neighbors)
    Z = _normalized(X) if normalize else np.asarray(X, dtype=np.float64)
    total, count = _alignment(Z, y, nbr)
    return total / count if count else float("nan")


def separability_scores(features, labels, neighbors, *, normalize=True, silhouette_samples=None, seed=0) -> dict:
    """The class separability measures of one embedding (paper 002 fig. 4).

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
    labels : array of shape (n_samples,), the true classes (at least 2, fewer than n_samples)
    neighbors : int ndarray of shape (n_samples, k)
    normalize : bool, every measure on the L2-normalised features
    silhouette_samples : int or None, score the silhouette on this many samples drawn without
        replacement (seeded; ``O(S^2 d)``); None or >= n_samples: all
    seed : int, the silhouette subsample's seed

    Returns
    -------
    dict: ``l_align`` (lower = tighter classes), ``davies_bouldin`` (lower = better separated),
    ``silhouette`` (in [-1, 1], higher = better), ``knn_precision`` (share of the listed
    neighbours with the sample's class), ``n_pos_pairs``, ``knn`` (k), ``n_samples``,
    ``n_classes``, ``silhouette_samples`` (samples the silhouette used).
    """
    X, y, nbr = _check(features, labels, neighbors)
    n_classes = len(np.unique(y))
    if not 2 <= n_classes < len(y):
        raise ValueError(f"labels must have 2..n_samples-1={len(y) - 1} classes, got {n_classes}")
    if silhouette_samples is not None and (not is_int(silhouette_samples) or silhouette_samples < 2):
        raise ValueError(f"silhouette_samples={silhouette_samples!r} must be an int >= 2 or None")
    Z = _normalized(X) if normalize else np.asarray(X, dtype=np.float64)
    total, count = _alignment(Z, y, nbr)
    S = len(y) if silhouette_samples is None else min(int(silhouette_samples), len(y))
    if S < len(y):
        pick = np.random.default_rng(seed).choice(len(y), S, replace=False)
        Zs, ys = Z[pick], y[pick]
        if len(np.unique(ys)) < 2:  # a tiny subsample of one class: no silhouette
            sil = float("nan")
        else:
            sil = float(skm.silhouette_score(Zs, ys))
    else:
        sil = float(skm.silhouette_score(Z, y))
    return {"l_align": total / count if count else float("nan"),
            "davies_bouldin": float(skm.davies_bouldin_score(Z, y)),
            "silhouette": sil,
            "knn_precision": float((y[nbr] == y[:, None]).mean()),
            "n_pos_pairs": count, "knn": int(nbr.shape[1]), "n_samples": int(len(y)), "n_classes": int(n_classes),
            "silhouette_samples": int(S)}


def coefficient_of_determination(x, y) -> float:
    """R² of the least-squares line ``y ~ a + b x`` (paper 002 fig. 4: a separability measure
    against the linear probing accuracy across benchmarks).

    ``1 - SS_res / SS_tot``, equal to the squared Pearson correlation. NaN for fewer than 3
    finite pairs (two points always lie on a line) or a constant ``y``.

    Parameters
    ----------
    x, y : arrays of shape (n_points,); pairs with a NaN are left out
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of one length, got shapes {x.shape} and {y.shape}")
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 3:
        return float("nan")
    ss_tot = float(((y - y.mean()) ** 2).sum())
    if ss_tot == 0:
        return float("nan")
    slope, intercept = np.polyfit(x, y, 1) if np.ptp(x) > 0 else (0.0, y.mean())
    ss_res = float(((y - (intercept + slope * x)) ** 2).sum())
    return 1.0 - ss_res / ss_tot
