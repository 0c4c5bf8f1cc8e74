"""Scores of a hierarchy against the true labels (paper 001, appendix B.3).

Public names
------------
:func:`leaf_purity`, :func:`dendrogram_purity` (exact, or sampled for big trees),
:func:`lhd` (least hierarchical distance), :func:`hierarchy_scores` (paper 001's table-1 row).

A hierarchy is a scipy linkage ``Z`` over ``n_leaves`` leaves plus ``leaf_of_sample``,
the leaf holding each sample: leaves may be clusters holding many samples (L2H, the
agglomerative baseline cut at K, class trees) or single samples (a sample-level
dendrogram, ``leaf_of_sample = arange(N)``).
"""

from __future__ import annotations

import numpy as np
from scipy.cluster import hierarchy
from sklearn import metrics as skm

from embtree.metrics import cluster_accuracy, purity

__all__ = ["leaf_purity", "dendrogram_purity", "lhd", "hierarchy_scores"]


def _check_tree(linkage, leaf_of_sample, labels):
    """Validate a hierarchy: (Z float64, n_leaves, leaf int64, labels as 0..n_classes-1)."""
    Z = np.asarray(linkage, dtype=np.float64)
    try:
        hierarchy.is_valid_linkage(Z, throw=True, name="linkage")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"linkage is not a valid scipy linkage matrix: {exc}") from exc
    n_leaves = Z.shape[0] + 1
    leaf = np.asarray(leaf_of_sample)
    y = np.asarray(labels)
    if leaf.ndim != 1 or y.ndim != 1:
        raise ValueError(
            f"leaf_of_sample and labels must be 1-D, got shapes {leaf.shape} and {y.shape}"
        )
    if len(leaf) != len(y):
        raise ValueError(f"len(leaf_of_sample)={len(leaf)} != len(labels)={len(y)}")
    if len(leaf) == 0:
        raise ValueError("leaf_of_sample and labels are empty")
    if not np.issubdtype(leaf.dtype, np.integer):
        raise ValueError(f"leaf_of_sample must be integers, got dtype {leaf.dtype}")
    if leaf.min() < 0 or leaf.max() >= n_leaves:
        raise ValueError(
            f"leaf_of_sample must lie in 0..{n_leaves - 1} (the linkage has {n_leaves} leaves), "
            f"got range {leaf.min()}..{leaf.max()}; drop unassigned (-1) samples first"
        )
    _, yi = np.unique(y, return_inverse=True)
    return Z, n_leaves, leaf.astype(np.int64), yi.astype(np.int64)


def _leaf_class_counts(leaf, yi, n_leaves):
    M = np.zeros((n_leaves, int(yi.max()) + 1), dtype=np.int64)
    np.add.at(M, (leaf, yi), 1)
    return M


def _parents_depths(Z, n_leaves):
    """Parent (-1 at the root) and depth (edges from the root) of every node 0..2n-2."""
    kids = Z[:, :2].astype(np.int64)
    n_nodes = 2 * n_leaves - 1
    parent = np.full(n_nodes, -1, dtype=np.int64)
    parent[kids[:, 0]] = np.arange(n_leaves, n_nodes)
    parent[kids[:, 1]] = np.arange(n_leaves, n_nodes)
    depth = np.zeros(n_nodes, dtype=np.int64)
    # A parent's id is larger than its children's: fill from the root down.
    for i in range(n_leaves - 2, -1, -1):
        d = depth[n_leaves + i] + 1
        depth[kids[i, 0]] = d
        depth[kids[i, 1]] = d
    return parent, depth


def leaf_purity(leaf_of_sample, labels):
    """Leaf purity (LP): purity of the leaf-level clustering (L2H paper, B.3).

    ``LP = (1/N) sum_leaf max_class |leaf ∩ class|``, the same quantity as
    :func:`purity` with the leaves as clusters.

    Parameters
    ----------
    leaf_of_sample : array of shape (n_samples,)
    labels : array of shape (n_samples,)
    """
    return purity(labels, leaf_of_sample)


def _dp_exact(Z, n_leaves, M):
    """Exact DP from per-node class counts; O(n_nodes * n_classes) time and memory.

    Pairs of class k whose LCA is node z: n_zk (n_zk - 1) / 2 inside a leaf z,
    n_ak * n_bk for an internal node z with children a, b. Each contributes
    pur(lvs(z), C_k) = n_zk / |z| (Kobren et al. 2017, definition of DP).
    """
    kids = Z[:, :2].astype(np.int64)
    counts = np.empty((2 * n_leaves - 1, M.shape[1]), dtype=np.float64)
    counts[:n_leaves] = M
    for i in range(n_leaves - 1):
        counts[n_leaves + i] = counts[kids[i, 0]] + counts[kids[i, 1]]
    size = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        pur = np.where(size[:, None] > 0, counts / np.maximum(size, 1)[:, None], 0.0)
    pairs_leaf = M * (M - 1) / 2.0
    pairs_int = counts[kids[:, 0]] * counts[kids[:, 1]]
    total = (M.sum(axis=0) * (M.sum(axis=0) - 1) / 2.0).sum()
    num = (pairs_leaf * pur[:n_leaves]).sum() + (pairs_int * pur[n_leaves:]).sum()
    return float(num / total)


def _binary_lift(parent, depth):
    """Ancestor tables ``up[j][v]`` = 2^j-th ancestor (root maps to itself)."""
    root = len(parent) - 1
    up = [np.where(parent < 0, root, parent)]
    for _ in range(max(1, int(depth.max()).bit_length())):
        up.append(up[-1][up[-1]])
    return up


def _lca(u, v, up, depth):
    """Vectorised lowest common ancestors of node arrays ``u``, ``v`` (binary lifting)."""
    u = u.copy()
    v = v.copy()
    swap = depth[u] < depth[v]
    u[swap], v[swap] = v[swap], u[swap]
    diff = depth[u] - depth[v]
    for j in range(len(up)):
        bit = (diff >> j) & 1 == 1
        u[bit] = up[j][u[bit]]
    for j in range(len(up) - 1, -1, -1):
        move = up[j][u] != up[j][v]
        u[move] = up[j][u[move]]
        v[move] = up[j][v[move]]
    return np.where(u == v, u, up[0][u])


def _dp_sampled(Z, n_leaves, leaf, yi, n_pairs, seed):
    """Monte-Carlo DP: mean purity over ``n_pairs`` same-class pairs drawn uniformly from P*.

    Pairs are drawn with replacement: class k with probability |P*_k| / |P*|,
    then two distinct samples of class k uniformly. Returns (estimate, standard
    error = sample std / sqrt(n_pairs)). Memory O(N + n_pairs + n_nodes log depth).
    """
    rng = np.random.default_rng(seed)
    n_cls = np.bincount(yi)
    w = n_cls * (n_cls - 1) / 2.0
    per_class = rng.multinomial(n_pairs, w / w.sum())
    by_class = np.argsort(yi, kind="stable")
    start = np.concatenate([[0], np.cumsum(n_cls)])
    k = np.repeat(np.arange(len(n_cls)), per_class)
    i = rng.integers(0, n_cls[k])
    j = rng.integers(0, n_cls[k] - 1)
    j = j + (j >= i)  # distinct from i
    a = by_class[start[k] + i]
    b = by_class[start[k] + j]
    parent, depth = _parents_depths(Z, n_leaves)
    z = _lca(leaf[a], leaf[b], _binary_lift(parent, depth), depth)
    # Leaves in dendrogram (DFS) order; every node covers a contiguous range [lo, hi).
    order = _leaf_order(Z, n_leaves)
    pos = np.empty(n_leaves, dtype=np.int64)
    pos[order] = np.arange(n_leaves)
    lo, hi = _node_ranges(Z, n_leaves, pos)
    sample_pos = pos[leaf]
    leaf_sizes = np.bincount(sample_pos, minlength=n_leaves)
    csum = np.concatenate([[0], np.cumsum(leaf_sizes)])
    node_size = csum[hi[z]] - csum[lo[z]]
    key = np.sort(yi * n_leaves + sample_pos)
    in_class = np.searchsorted(key, k * n_leaves + hi[z]) - np.searchsorted(key, k * n_leaves + lo[z])
    vals = in_class / node_size
    se = float(vals.std(ddof=1) / np.sqrt(len(vals))) if len(vals) > 1 else float("nan")
    return float(vals.mean()), se


def _leaf_order(Z, n_leaves):
    return hierarchy.leaves_list(Z)


def _node_ranges(Z, n_leaves, pos):
    kids = Z[:, :2].astype(np.int64)
    lo = np.empty(2 * n_leaves - 1, dtype=np.int64)
    hi = np.empty(2 * n_leaves - 1, dtype=np.int64)
    lo[:n_leaves] = pos
    hi[:n_leaves] = pos + 1
    for i in range(n_leaves - 1):
        a, b = kids[i]
        lo[n_leaves + i] = min(lo[a], lo[b])
        hi[n_leaves + i] = max(hi[a], hi[b])
    return lo, hi


def dendrogram_purity(
    linkage, leaf_of_sample, labels, *, max_exact=20_000_000, n_pairs=200_000, seed=0, return_se=False
):
    """Dendrogram purity (DP; Kobren et al. 2017, as in the L2H paper, appendix B.3).

    ``DP = 1/|P*| sum_k sum_{(x_i, x_j) in P*_k} pur(lvs(LCA(x_i, x_j)), C*_k)``
    over the unordered pairs P* of distinct samples with the same label, where
    ``pur(S, C) = |S ∩ C| / |S|`` and ``lvs(z)`` are the samples below node z.
    Two samples in the same leaf have that leaf as LCA.

    Parameters
    ----------
    linkage : ndarray of shape (n_leaves - 1, 4)
        scipy linkage over the leaves.
    leaf_of_sample : int array of shape (n_samples,)
        Leaf (0..n_leaves-1) of each sample.
    labels : array of shape (n_samples,)
        True classes C*.
    max_exact : int
        The exact computation keeps class counts for every node, an array of
        ``(2 n_leaves - 1) * n_classes`` floats; it is used when that count is
        at most ``max_exact`` (default 2e7 = 160 MB), whatever the number of
        samples (trees over K clusters are always exact). Larger trees (e.g.
        sample-level dendrograms of big data sets) use the sampled estimator.
    n_pairs : int
        Pairs drawn by the sampled estimator (uniform over P*, with
        replacement); its standard error is ``std / sqrt(n_pairs)``.
    seed : int
        Seed of the sampled estimator.
    return_se : bool
        Also return the standard error (0.0 for the exact computation).

    Returns
    -------
    dp : float in [0, 1]  (or ``(dp, se)`` when ``return_se``)

    Raises
    ------
    ValueError
        Invalid linkage, length mismatch, leaves out of range, or no two
        samples sharing a label (P* empty).
    """
    Z, n_leaves, leaf, yi = _check_tree(linkage, leaf_of_sample, labels)
    _check_dp(yi, n_pairs)
    dp, se = _dendrogram_purity(Z, n_leaves, leaf, yi, max_exact, n_pairs, seed)
    return (dp, se) if return_se else dp


def _check_dp(yi, n_pairs):
    if not (np.bincount(yi) > 1).any():
        raise ValueError("dendrogram purity is undefined: no two samples share a label (P* is empty)")
    if n_pairs < 1:
        raise ValueError(f"n_pairs={n_pairs} should be >= 1")


def _dendrogram_purity(Z, n_leaves, leaf, yi, max_exact, n_pairs, seed):
    """(DP, standard error): exact when the count table fits ``max_exact``, else sampled."""
    if (2 * n_leaves - 1) * (int(yi.max()) + 1) <= max_exact:
        return _dp_exact(Z, n_leaves, _leaf_class_counts(leaf, yi, n_leaves)), 0.0
    return _dp_sampled(Z, n_leaves, leaf, yi, int(n_pairs), seed)


def lhd(linkage, leaf_of_sample, labels):
    """Least Hierarchical Distance (LHD; L2H paper, appendix B.3).

    ``LHD = 1/|P̄*| sum_{(x_i, x_j) in P̄*} (log2 td(l_i, l_j) - 1) / (log2 K - 1)``
    over the unordered same-label pairs in *different* leaves, where ``td`` is
    the number of edges between the two leaves (>= 2 in a binary tree, so each
    term is >= 0) and K the number of leaves of the tree (the normalisation
    makes a caterpillar's deepest pair, td = K, score 1). Lower is better.

    Conventions for the degenerate cases (the formula is 0/0 there): LHD = 0
    when P̄* is empty (every class inside one leaf) and when the tree has only
    two leaves (every split pair is then at the minimal distance td = 2).

    Parameters
    ----------
    linkage : ndarray of shape (n_leaves - 1, 4)
    leaf_of_sample : int array of shape (n_samples,)
    labels : array of shape (n_samples,)

    Returns
    -------
    float in [0, 1]

    Notes
    -----
    Same-label pair counts between leaves a, b are ``(M M^T)[a, b]`` for the
    leaf-by-class count matrix M; the pairs are visited node by node (leaves
    below the left child x leaves below the right child share that LCA), so
    time is O(n_leaves^2 n_classes) and memory O(n_leaves^2 / 4) at worst:
    meant for trees over clusters or classes, not sample-level dendrograms.
    """
    Z, n_leaves, leaf, yi = _check_tree(linkage, leaf_of_sample, labels)
    return _lhd(Z, n_leaves, leaf, yi)


def _lhd(Z, n_leaves, leaf, yi):
    if n_leaves == 2:
        return 0.0
    M = _leaf_class_counts(leaf, yi, n_leaves).astype(np.float64)
    _, depth = _parents_depths(Z, n_leaves)
    kids = Z[:, :2].astype(np.int64)
    below = {v: np.array([v]) for v in range(n_leaves)}
    num = den = 0.0
    for i in range(n_leaves - 1):
        A = below.pop(kids[i, 0])
        B = below.pop(kids[i, 1])
        W = M[A] @ M[B].T  # same-label pairs between each leaf of A and each leaf of B
        if W.any():
            td = depth[A][:, None] + depth[B][None, :] - 2 * depth[n_leaves + i]
            num += float((W * (np.log2(td) - 1.0)).sum())
            den += float(W.sum())
        below[n_leaves + i] = np.concatenate([A, B])
    if den == 0:
        return 0.0
    return float(num / den / (np.log2(n_leaves) - 1.0))


def hierarchy_scores(linkage, leaf_of_sample, labels, *, max_exact=20_000_000, n_pairs=200_000, seed=0):
    """The L2H paper's table-1 row for one hierarchy: NMI, ARI, ACC, LP (flat, at the
    leaves) and DP, its standard error, LHD (hierarchical).

    Parameters as in :func:`dendrogram_purity`. Returns a dict with keys
    ``nmi, ari, acc, lp, dp, dp_se, lhd``.
    """
    Z, n_leaves, leaf, yi = _check_tree(linkage, leaf_of_sample, labels)
    _check_dp(yi, n_pairs)
    labels = np.asarray(labels)
    dp, dp_se = _dendrogram_purity(Z, n_leaves, leaf, yi, max_exact, n_pairs, seed)
    return {
        "nmi": float(skm.normalized_mutual_info_score(labels, leaf)),
        "ari": float(skm.adjusted_rand_score(labels, leaf)),
        "acc": cluster_accuracy(labels, leaf),
        "lp": leaf_purity(leaf, labels),
        "dp": dp,
        "dp_se": dp_se,
        "lhd": _lhd(Z, n_leaves, leaf, yi),
    }
