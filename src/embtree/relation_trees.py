"""Relation trees between classes: UPGMA over class points (paper 000, section 3.3, eq. 15-16).

Public names
------------
:data:`TREE_METRICS`, :func:`upgma_linkage`, :func:`upgma` (as Newick),
:func:`nearest_leaf` (the leaf of every sample), :func:`tree_label_metrics`
(dendrogram purity and LHD of a class tree).
"""

from __future__ import annotations

from scipy.cluster import hierarchy
from scipy.spatial.distance import pdist

from embtree.distances import nearest
from embtree.hierarchy.newick import check_names, linkage_to_newick
from embtree.hierarchy.scores import dendrogram_purity, lhd
from embtree.validation import check_matrix

__all__ = ["TREE_METRICS", "nearest_leaf", "tree_label_metrics", "upgma", "upgma_linkage"]

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
