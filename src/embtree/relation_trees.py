"""Relation trees between classes: UPGMA over class points (paper 000, section 3.3, eq. 15-16).

Public names
------------
:data:`TREE_METRICS`, :func:`upgma_linkage`, :func:`upgma` (as Newick),
:func:`nearest_leaf` (the leaf of every sample), :func:`tree_label_metrics`
(dendrogram purity and LHD of a class tree).

Bootstrap support of the trees' clades (docs/methods/support.md): :func:`class_point_replicates`
(before/ trees: class centroids of a within-class resample), :func:`cluster_point_replicates`
(CAEC G / P trees: G^f and P of a resample of each final cluster's members),
:func:`upgma_support` (UPGMA on every replicate, clades counted).
"""

from __future__ import annotations

import numpy as np
from scipy.cluster import hierarchy
from scipy.spatial.distance import pdist

from embtree.distances import condensed, nearest
from embtree.hierarchy.newick import check_names, linkage_to_newick
from embtree.hierarchy.scores import dendrogram_purity, lhd
from embtree.hierarchy.support import CladeCounter, group_means, resample_groups
from embtree.validation import check_matrix

__all__ = [
    "TREE_METRICS",
    "class_point_replicates",
    "cluster_point_replicates",
    "nearest_leaf",
    "tree_label_metrics",
    "upgma",
    "upgma_linkage",
    "upgma_support",
]

#: Tree metrics of the CAEC paper (eq. 11-13) -> scipy ``pdist`` names.
TREE_METRICS = {"euclidean": "euclidean", "manhattan": "cityblock", "canberra": "canberra"}


def _check_points(points, arg="points"):
    X = check_matrix(points, arg, axes="(n_leaves, n_features)").astype(float, copy=False)
    if X.shape[0] < 3:
        raise ValueError(f"{arg} has {X.shape[0]} rows; a relation tree needs at least 3 leaves")
    return X


def _check_metric(metric):
    if metric not in TREE_METRICS:
        raise ValueError(f"metric={metric!r} is not one of {sorted(TREE_METRICS)}")


def _upgma_linkage(X, metric):
    """Average linkage of validated float points under a validated tree metric."""
    return hierarchy.linkage(pdist(X, metric=TREE_METRICS[metric]), method="average")


def upgma_linkage(points, metric="euclidean"):
    """UPGMA (average-linkage) linkage matrix of a set of points.

    UPGMA merges the two closest clusters, with the cluster distance the mean
    pairwise distance (eq. 15), updated by the size-weighted average (eq. 16);
    this is exactly ``scipy.cluster.hierarchy.linkage(method="average")``.

    Parameters
    ----------
    points : array-like of shape (n_leaves, n_features)
        One point per leaf (class centroids G, final centroids G^f or MMPs P).
    metric : {"euclidean", "manhattan", "canberra"}
        Leaf-to-leaf distance (eq. 11-13). Canberra terms with ``|x_i|+|y_i| = 0``
        count 0 (scipy's convention).

    Returns
    -------
    Z : ndarray of shape (n_leaves - 1, 4)
    """
    _check_metric(metric)
    return _upgma_linkage(_check_points(points), metric)


def upgma(points, names, metric="euclidean") -> str:
    """UPGMA relation tree over labelled points, as Newick (CAEC paper 3.3, eq. 15-16).

    Parameters
    ----------
    points : array-like of shape (n_leaves, n_features)
        One point per leaf; ``n_leaves >= 3``.
    names : sequence of str, length n_leaves
        Unique leaf labels (class names), in the row order of ``points``.
    metric : {"euclidean", "manhattan", "canberra"}

    Returns
    -------
    str
        Rooted Newick with branch lengths = differences of merge heights.
    """
    X = _check_points(points)
    names = check_names(names, X.shape[0])
    _check_metric(metric)
    return linkage_to_newick(_upgma_linkage(X, metric), names)


def nearest_leaf(features, points, metric="euclidean"):
    """Index of the nearest leaf point for every sample (bounded memory).

    This is how a sample is placed in a relation tree whose leaves are classes
    (for dendrogram purity): its nearest tree point (G, G^f or P) under the
    tree metric, i.e. the Voronoi cell of the leaf. See
    :func:`embtree.distances.nearest` (fused float32 argmin for Manhattan /
    Canberra, the float64 argmins of ``cdist``).
    """
    return nearest(features, points, metric)


def tree_label_metrics(Z, leaf_of_sample, labels, **kwargs) -> dict:
    """Tree-vs-labels metrics of a class tree: dendrogram purity and LHD.

    Delegates to :func:`embtree.hierarchy.scores.dendrogram_purity` and
    :func:`embtree.hierarchy.scores.lhd` (one implementation shared with the L2H stage).
    ``Z`` is the linkage over the leaves, ``leaf_of_sample`` [n_samples] the
    leaf of each sample, ``labels`` [n_samples] the true classes.
    """
    out = {}
    dp = dendrogram_purity(Z, leaf_of_sample, labels, **kwargs)
    out["dp"] = float(dp[0] if isinstance(dp, tuple) else dp)
    out["lhd"] = float(lhd(Z, leaf_of_sample, labels))
    return out


# ---------------------------------------------------------------------------
# Bootstrap support (docs/methods/support.md)
# ---------------------------------------------------------------------------


def _check_n_boot(n_boot):
    if int(n_boot) != n_boot or n_boot < 1:
        raise ValueError(f"n_boot={n_boot} should be an integer >= 1")
    return int(n_boot)


def _check_labels(labels, n, arg="labels"):
    y = np.asarray(labels)
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{arg} must be integers of shape ({n},), got {y.dtype} {y.shape}")
    return y


def class_point_replicates(features, labels, n_boot, *, n_classes=None, seed=0):
    """Class centroids G of bootstrap resamples: the points of the before/ trees, resampled.

    Every replicate draws, within each class, as many samples as the class has, with
    replacement, and takes their mean (as :func:`embtree.centroids.class_centroids` does
    on the data), so leaf ``k`` is class ``k`` in every replicate.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : int array of shape (n_samples,), values in ``0 .. n_classes-1``; every class non-empty
    n_boot : int >= 1, the number of replicates
    n_classes : int, optional (default ``labels.max() + 1``)
    seed : int, seeds one ``numpy.random.default_rng`` for all replicates

    Yields
    ------
    G : float64 ndarray of shape (n_classes, n_features), one per replicate
    """
    X = check_matrix(features, "features")
    y = _check_labels(labels, len(X))
    n_boot = _check_n_boot(n_boot)
    k = int(y.max()) + 1 if n_classes is None else int(n_classes)
    counts = np.bincount(y, minlength=k)
    if len(counts) > k or (counts == 0).any():
        raise ValueError(f"labels must cover every class 0..{k - 1} (got counts {counts[:10]}...)")
    rows = np.argsort(y, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(counts)])
    X64 = np.asarray(X, dtype=np.float64)  # once: the sparse product would upcast X per replicate
    rng = np.random.default_rng(seed)
    for _ in range(n_boot):
        yield group_means(X64, indptr, rows[resample_groups(indptr, rng)])


def cluster_point_replicates(features, labels, member_indptr, member_indices, classes, centroids, n_boot,
                             *, seed=0):
    """G^f and P of bootstrap resamples of each CAEC final cluster: the points of the G / P trees.

    Every replicate draws, within each final cluster X_k, ``|X_k|`` members with replacement
    (the clusters stay those CAEC grew; the growing is not redone), and recomputes from them
    G^f_k = the mean of the drawn members (eq. 14) and P_k = the mean of the drawn members
    of class k (eq. 7: G_k + the mean offset of the own members), or G_k when the draw holds
    none of them (as CAEC sets P = G for a cluster without own members).

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features), the embeddings CAEC ran on
    labels : int array of shape (n_samples,), their class values
    member_indptr : int array of shape (n_clusters + 1,), ``clusters.npz`` CSR bounds
    member_indices : int array of shape (member_indptr[-1],), the members (rows of features)
    classes : int array of shape (n_clusters,), the class value of every cluster
    centroids : array-like of shape (n_clusters, n_features), the class centroids G
    n_boot : int >= 1
    seed : int, seeds one ``numpy.random.default_rng`` for all replicates

    Yields
    ------
    dict with ``"G"`` (G^f) and ``"P"``, float64 ndarrays of shape (n_clusters, n_features)
    """
    X = check_matrix(features, "features")
    y = _check_labels(labels, len(X))
    n_boot = _check_n_boot(n_boot)
    indptr = np.asarray(member_indptr, dtype=np.int64)
    members = np.asarray(member_indices, dtype=np.int64)
    classes = np.asarray(classes)
    G = check_matrix(centroids, "centroids", axes="(n_clusters, n_features)")
    C = len(indptr) - 1
    if indptr.ndim != 1 or C < 1 or indptr[-1] != len(members) or classes.shape != (C,) or G.shape != (C, X.shape[1]):
        raise ValueError(f"member_indptr ({len(indptr)} bounds), member_indices ({len(members)}), classes "
                         f"{classes.shape} and centroids {G.shape} do not describe the same clusters")
    if np.any(np.diff(indptr) < 1):
        raise ValueError(f"clusters {np.flatnonzero(np.diff(indptr) < 1)[:10].tolist()} have no members")
    if members.size and (members.min() < 0 or members.max() >= len(X)):
        raise ValueError(f"member_indices must lie in 0..{len(X) - 1}")
    group = np.repeat(np.arange(C), np.diff(indptr))
    X64 = np.asarray(X, dtype=np.float64)
    rng = np.random.default_rng(seed)
    for _ in range(n_boot):
        rows = members[resample_groups(indptr, rng)]
        P = group_means(X64, indptr, rows, keep=y[rows] == classes[group])
        none = np.isnan(P[:, 0])
        P[none] = G[none]
        yield {"G": group_means(X64, indptr, rows), "P": P}


def upgma_support(linkages, replicates):
    """Bootstrap support of UPGMA trees: UPGMA on every replicate's points, clades counted.

    Parameters
    ----------
    linkages : dict mapping (metric, point) to ndarray of shape (n_leaves - 1, 4)
        The trees built on the data (:func:`upgma_linkage` of the points ``point`` under
        ``metric``); ``metric`` one of :data:`TREE_METRICS`.
    replicates : iterable of dict mapping point to array of shape (n_leaves, n_features)
        Resampled points (:func:`class_point_replicates` wrapped as ``{"G": ...}``, or
        :func:`cluster_point_replicates`); each is used by every metric's tree.

    Returns
    -------
    dict mapping (metric, point) to ndarray of shape (n_leaves - 1,)
        Share of replicates containing each clade (row of the linkage); see
        :func:`embtree.hierarchy.support.clade_support`.
    """
    counters = {}
    for metric, point in linkages:
        _check_metric(metric)
        counters[metric, point] = CladeCounter(linkages[metric, point])
    for b, rep in enumerate(replicates):
        for (metric, point), counter in counters.items():
            # The replicate points are means of checked features: finite, no validation needed.
            # The distances are most of a replicate's cost: embtree.distances.condensed, whose
            # multi-threaded kernels compute the upper triangle only, in float32 for Manhattan /
            # Canberra (relative error <= 1e-6, far below what moves a replicate's clades; 3-4x
            # faster than pdist in float64 at 1,000 x 768), the float64 GEMM for Euclidean.
            X = np.asarray(rep[point], dtype=np.float64 if metric == "euclidean" else np.float32)
            D = condensed(X, metric, check_input=False)
            counter.add(hierarchy.linkage(D, method="average"), f"replicate {b} ({metric}, {point})")
    return {key: c.support() for key, c in counters.items()}
