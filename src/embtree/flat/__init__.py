"""Flat clustering benchmark: dimensionality reducers x clusterers (zs-ssl-clustering, paper 004).

The experimental grid of Lowe et al. (§ 3.2, § 3.5, appendix E): embeddings are optionally
reduced, clustered and scored. What the paper leaves open and what embtree chose:
``docs/methods/flat.md``.

:func:`reduce` (:mod:`~embtree.flat.reducers`)
    ``none`` / ``pca`` / ``umap`` / ``pacmap``.
:func:`cluster`
    ``kmeans``, ``kmeans-cosine``, ``spectral``, ``agglomerative-ward``, ``agglomerative-average``,
    ``agglomerative`` (any of E.7's linkage x metric options), ``agglomerative-threshold`` ("AC w/o
    C"), ``affinity-propagation``, ``hdbscan``, ``hdbscan-sklearn`` (:mod:`embtree.clustering`)
    and ``merge-expand`` (:mod:`embtree.merge_expand`).
:func:`evaluate`, :func:`silhouette` (:mod:`~embtree.flat.evaluation`)
    AMI (primary), ARI, NMI, ACC, purity and the silhouette score in the reduced space.
:func:`select`, :func:`threshold_grid`, :func:`group_means` (:mod:`~embtree.flat.selection`)
    Settings chosen on development data sets (appendix E), scores aggregated by data-set group (fig. 1).
:data:`REDUCERS`, :data:`CLUSTERERS`, :data:`NEEDS_N_CLUSTERS`, :data:`SEED_DEPENDENT_REDUCERS`, \
:func:`check_params` (:mod:`~embtree.flat.registry`)
    Every tunable hyper-parameter with the paper's default; unknown names raise ``ValueError``.
"""

from __future__ import annotations

import numpy as np

from embtree import clustering
from embtree.flat.evaluation import evaluate, silhouette
from embtree.flat.reducers import reduce
from embtree.flat.selection import group_means, select, threshold_grid
from embtree.flat.registry import (
    CLUSTERERS,
    NEEDS_N_CLUSTERS,
    REDUCERS,
    SEED_DEPENDENT_REDUCERS,
    check_params,
)
from embtree.merge_expand import merge_expand
from embtree.validation import check_matrix

__all__ = [
    "REDUCERS",
    "CLUSTERERS",
    "NEEDS_N_CLUSTERS",
    "SEED_DEPENDENT_REDUCERS",
    "check_params",
    "reduce",
    "cluster",
    "silhouette",
    "evaluate",
    "select",
    "threshold_grid",
    "group_means",
]


def cluster(features, method, *, n_clusters=None, seed=0, **params) -> np.ndarray:
    """Cluster (reduced) embeddings with paper 004's defaults (§ 3.2, appendix E).

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
        Finite features (usually the output of :func:`reduce`).
    method : {"kmeans", "kmeans-cosine", "spectral", "agglomerative-ward", "agglomerative-average", \
"agglomerative", "agglomerative-threshold", "affinity-propagation", "hdbscan", "hdbscan-sklearn", "merge-expand"}
    n_clusters : int, optional
        Required by :data:`NEEDS_N_CLUSTERS` (``1 <= n_clusters <= n_samples``);
        ignored by ``affinity-propagation``, ``hdbscan`` and ``merge-expand`` (they find k) and by
        agglomerative clustering given a ``distance_threshold``.
    seed : int
        Random state of k-means, spectral, AP, merge-expand and of the O(N^2) guard's subsample.
    **params
        Overrides of :data:`CLUSTERERS` ``[method]``; ``max_quadratic_samples``
        bounds the O(N^2) clusterers (:func:`embtree.clustering.cluster`).

    Returns
    -------
    ndarray of shape (n_samples,), int64
        Cluster ids ``>= 0``; ``-1`` marks noise (HDBSCAN, non-converged AP).
    """
    X = check_matrix(features, "features", min_rows=2)
    p = check_params("clusterer", method, params)
    if method != "merge-expand":
        return clustering.cluster(X, method, n_clusters=n_clusters, seed=seed, check_input=False, **p)
    # Merge & Expand finds k itself; it subsamples its own O(N^2) step (phase 1), so it takes
    # the cap as a parameter.
    cap = p.pop("max_quadratic_samples", None)
    labels = merge_expand(X, seed=seed, max_quadratic_samples=cap, check_input=False, **p).labels
    return np.asarray(labels, dtype=np.int64)
