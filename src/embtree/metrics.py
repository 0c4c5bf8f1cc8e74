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
    "leaf_purity",
    "dendrogram_purity",
    "lhd",
    "hierarchy_scores",
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
    from scipy import sparse

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


# ---------------------------------------------------------------------------
# Hierarchy metrics (L2H paper, appendix B.3)
# ---------------------------------------------------------------------------
#
# A hierarchy is a scipy linkage ``Z`` over ``n_leaves`` leaves plus
# ``leaf_of_sample``, the leaf holding each sample: leaves may be clusters
# holding many samples (L2H, the agglomerative baseline cut at K, class trees)
# or single samples (a sample-level dendrogram, ``leaf_of_sample = arange(N)``).


def _check_tree(linkage, leaf_of_sample, labels):
    from scipy.cluster import hierarchy

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
    from scipy.cluster import hierarchy

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
    n_cls = np.bincount(yi)
    if not (n_cls > 1).any():
        raise ValueError("dendrogram purity is undefined: no two samples share a label (P* is empty)")
    if n_pairs < 1:
        raise ValueError(f"n_pairs={n_pairs} should be >= 1")
    if (2 * n_leaves - 1) * len(n_cls) <= max_exact:
        dp, se = _dp_exact(Z, n_leaves, _leaf_class_counts(leaf, yi, n_leaves)), 0.0
    else:
        dp, se = _dp_sampled(Z, n_leaves, leaf, yi, int(n_pairs), seed)
    return (dp, se) if return_se else dp


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
    Z, _, leaf, _ = _check_tree(linkage, leaf_of_sample, labels)
    labels = np.asarray(labels)
    dp, dp_se = dendrogram_purity(
        Z, leaf, labels, max_exact=max_exact, n_pairs=n_pairs, seed=seed, return_se=True
    )
    return {
        "nmi": float(skm.normalized_mutual_info_score(labels, leaf)),
        "ari": float(skm.adjusted_rand_score(labels, leaf)),
        "acc": cluster_accuracy(labels, leaf),
        "lp": leaf_purity(leaf, labels),
        "dp": dp,
        "dp_se": dp_se,
        "lhd": lhd(Z, leaf, labels),
    }
