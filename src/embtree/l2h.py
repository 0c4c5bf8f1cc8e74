"""L2H (paper 001): hierarchies of clusters from logits, their logit sources and baseline.

:func:`l2h`                        hierarchy of the K logit columns (Algorithm 1), a scipy linkage
:func:`kmeans_logits`              soft k-means assignments as logits (a second logit source)
:func:`agglomerative_baseline`     the paper's PCA + Ward baseline, cut at K (appendix B.2)
:func:`build_hierarchy`            one hierarchy from a named source (:data:`SOURCES`)
:func:`match_clusters_to_classes`  leaf names by Hungarian matching
:func:`hierarchy_support`          bootstrap support of every clade of a built hierarchy

``_l2h_naive`` is the direct transcription of Algorithm 1 that the tests and
``benchmarks/bench_l2h.py`` compare :func:`l2h` with. The semantics the paper leaves implicit
(ties, empty clusters, summation order, the linkage rows) and why: docs/methods/l2h.md.
The dendrogram figure is :func:`embtree.report.figures.l2h.plot_dendrogram`.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.cluster import hierarchy
from scipy.optimize import linear_sum_assignment
from scipy.special import softmax
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import pairwise_distances_argmin

from embtree.centroids import class_centroids
from embtree.hierarchy.support import CladeCounter, group_means, resample_groups
from embtree.seeding import kmeans_restart_states, plusplus_restarts
from embtree.validation import check_matrix
from embtree.workers import fork_map

__all__ = [
    "l2h",
    "kmeans_logits",
    "agglomerative_baseline",
    "match_clusters_to_classes",
    "SOURCES",
    "build_hierarchy",
    "assign_leaves",
    "hierarchy_support",
]

SOURCES = ("classifier", "kmeans", "agglomerative", "temi", "scanv2")
# Sources whose logits are given (log soft assignments of a clustering head, paper 002);
# their columns are clusters, so leaves are named by Hungarian matching like kmeans.
CLUSTER_LOGIT_SOURCES = ("temi", "scanv2")

log = logging.getLogger(__name__)

# Rows of logits processed at once when computing softmax confidences (memory bound).
_CHUNK = 8192


def _check_logits(logits, arg="logits"):
    L = np.asarray(logits)
    if L.ndim == 2 and L.shape[1] < 2:
        raise ValueError(f"{arg} has n_clusters={L.shape[1]} columns; L2H needs at least 2")
    return check_matrix(L, arg, axes="(n_samples, n_clusters)")


def _assign_and_confidence(L):
    """``argmax`` per row and the max softmax probability ``1 / sum(exp(l - max))`` (float64)."""
    n = L.shape[0]
    assign = np.empty(n, dtype=np.int64)
    conf = np.empty(n, dtype=np.float64)
    for start in range(0, n, _CHUNK):
        block = np.asarray(L[start : start + _CHUNK], dtype=np.float64)
        mx = block.max(axis=1, keepdims=True)
        assign[start : start + _CHUNK] = block.argmax(axis=1)
        # max_c softmax = exp(0) / sum exp(l - max): the same arithmetic as scipy's softmax.
        conf[start : start + _CHUNK] = 1.0 / np.sum(np.exp(block - mx), axis=1)
    return assign, conf


def l2h(logits):
    """Hierarchy of the K logit columns by L2H (paper 001, Algorithm 1).

    Parameters
    ----------
    logits : array_like of shape (n_samples, n_clusters)
        Logits of a flat clustering or classification model; finite values.
        Any float dtype (computations are done in float64 on row blocks, so a
        float32 input is not copied as a whole).

    Returns
    -------
    Z : ndarray of shape (n_clusters - 1, 4)
        scipy linkage matrix in L2H merge order: leaves ``0..K-1`` are the
        logit columns, node ``K + i`` is created by row ``i``; row ``i`` =
        ``[G*, G^dagger, i + 1, n_leaves_below]`` (docs/methods/l2h.md). Passes
        ``scipy.cluster.hierarchy.is_valid_linkage``.

    Notes
    -----
    The merges are identical (including tie-breaking) to
    ``_l2h_naive``, a direct transcription of the algorithm; this
    version avoids its per-step O(N K) work:

    * cluster confidences ``mean g(x)`` never change, so they are computed
      once and group scores are carried incrementally (left-to-right sums in
      the group's merge order, the naive version's arithmetic);
    * samples are pre-sorted by assigned cluster, so ``D^{G*}`` is gathered
      from contiguous slices, and only those rows and the columns outside
      ``G*`` enter the masked softmax of eq. (1);
    * only groups that receive reassigned probability can beat the others
      (all of which score exactly 0), so only those group means are evaluated.

    Per step the cost is O(|D^{G*}| (K - |G*|) + K); the naive version costs
    O(N K) per step for the scores alone.
    """
    return _l2h(_check_logits(logits))


def _l2h(L, sample_rows=None, assign_conf=None):
    """:func:`l2h` on logits ``L`` checked by ``_check_logits`` (prior validation assumed).

    With ``sample_rows`` (int array): L2H on the logit rows ``L[sample_rows]`` (a bootstrap
    replicate) without gathering them; ``assign_conf`` then is ``_assign_and_confidence(L)`` of all
    of ``L``, computed once for every replicate (per-row values: indexed by ``sample_rows`` they are
    the bits ``_assign_and_confidence(L[sample_rows])`` gives; a quarter (float64 logits) to a half
    (float32) of a replicate's time at 50,000 x 1,000).
    """
    if sample_rows is None:
        assign, conf = _assign_and_confidence(L)
    else:
        assign, conf = assign_conf[0][sample_rows], assign_conf[1][sample_rows]
    n, K = len(assign), L.shape[1]

    # Samples grouped by assigned cluster, ascending sample index inside a cluster.
    order = np.argsort(assign, kind="stable")
    bounds = np.searchsorted(assign[order], np.arange(K + 1))
    cluster_mean = np.zeros(K, dtype=np.float64)
    for c in range(K):
        seg = conf[order[bounds[c] : bounds[c + 1]]]
        if seg.size:
            cluster_mean[c] = seg.mean()

    n_nodes = 2 * K - 1
    score = np.full(n_nodes, np.inf)
    score[:K] = cluster_mean  # a singleton's score: 0.0 + mean, i.e. the mean itself
    members = {c: np.array([c], dtype=np.int64) for c in range(K)}
    group_of = np.arange(K, dtype=np.int64)  # cluster -> node id of its current group
    size = np.ones(n_nodes)  # clusters per group (1 for inactive ids: avoids 0/0)
    Z = np.empty((K - 1, 4), dtype=np.float64)

    for step in range(K - 1):
        # argmin returns the first minimum, i.e. the lowest node id = the listing's order.
        g_star = int(np.argmin(score))
        clusters = members[g_star]
        rows = np.concatenate([order[bounds[c] : bounds[c + 1]] for c in clusters])
        rows.sort()  # the naive version's row order (np.nonzero), so sums round identically
        if rows.size:
            # Masked softmax of eq. (1), in row blocks: G*'s columns at -inf (exp -> 0).
            arg = np.empty(rows.size, dtype=np.int64)
            q = np.empty(rows.size, dtype=np.float64)
            for start in range(0, rows.size, _CHUNK):
                block = rows[start : start + _CHUNK]
                sub = np.array(L[block if sample_rows is None else sample_rows[block]], dtype=np.float64)
                sub[:, clusters] = -np.inf
                a = sub.argmax(axis=1)
                sub -= sub[np.arange(len(block)), a][:, None]
                np.exp(sub, out=sub)
                arg[start : start + _CHUNK] = a
                q[start : start + _CHUNK] = 1.0 / sub.sum(axis=1)
            # Total reassigned probability per group, accumulated in sample order.
            total = np.bincount(group_of[arg], weights=q, minlength=n_nodes)
            # Groups that received nothing score exactly 0 < any candidate: argmax over all
            # node ids (first maximum = lowest id = the listing's order) is the listing's max.
            g_dag = int(np.argmax(total / size))
        else:
            # D^{G*} empty: every group's mean is 0; the first group other than G* wins.
            active = np.flatnonzero(np.isfinite(score))
            g_dag = int(active[active != g_star][0])
        new = K + step
        merged = np.concatenate([members.pop(g_star), members.pop(g_dag)])
        members[new] = merged
        group_of[merged] = new
        size[new] = len(merged)
        # Left-to-right sum over the new group's clusters, continuing from s(G*).
        tail = cluster_mean[merged[len(clusters) :]]
        score[new] = np.cumsum(np.concatenate([[score[g_star]], tail]))[-1]
        score[g_star] = score[g_dag] = np.inf
        Z[step] = (g_star, g_dag, step + 1, len(merged))
    return Z


def _l2h_naive(logits, n_steps=None):
    """Straightforward transcription of Algorithm 1 (what tests and benchmarks compare with).

    Recomputes every group score from the samples at every step and evaluates
    eq. (1) with explicit masks, as the paper's listing does; tie-breaking and
    floating-point summation order are the ones documented in
    docs/methods/l2h.md. ``n_steps`` stops after that many merges (benchmarks time a
    fraction of the K - 1 steps). Returns the linkage rows computed so far.
    """
    L = _check_logits(logits)
    x = np.asarray(L, dtype=np.float64)
    K = x.shape[1]
    probs = softmax(x, axis=1)
    assignments = np.argmax(x, axis=1)
    pred_probs = np.max(probs, axis=1)
    groups = [(c,) for c in range(K)]
    node_of = {(c,): c for c in range(K)}
    n_steps = K - 1 if n_steps is None else min(int(n_steps), K - 1)
    Z = []
    for step in range(n_steps):
        scores = []
        for group in groups:
            s = 0.0
            for c in group:
                sel = pred_probs[assignments == c]
                s += sel.mean() if sel.size else 0.0
            scores.append(s)
        lsg = groups[min(range(len(groups)), key=scores.__getitem__)]
        idx = np.nonzero(np.isin(assignments, lsg))[0]
        others = [g for g in groups if g != lsg]
        # Mean over the group's clusters of rp(c) (eq. 1) = (total reassigned probability
        # into the group) / |G|; the total is accumulated sample by sample, in sample order.
        total = np.zeros(len(others))
        if idx.size:
            masked = x[idx]
            masked[:, list(lsg)] = -np.inf  # softmax restricted to clusters outside G*
            re_probs = softmax(masked, axis=1)
            reassign = np.argmax(masked, axis=1)
            re_pred = np.max(re_probs, axis=1)
            position = {c: i for i, g in enumerate(others) for c in g}
            target = np.array([position[c] for c in reassign])
            total = np.bincount(target, weights=re_pred, minlength=len(others))
        avg = [total[i] / len(g) for i, g in enumerate(others)]
        mtg = others[max(range(len(others)), key=avg.__getitem__)]
        new = lsg + mtg
        groups = [g for g in groups if g not in (lsg, mtg)] + [new]
        node_of[new] = K + step
        Z.append((node_of[lsg], node_of[mtg], step + 1, len(new)))
    return np.array(Z, dtype=np.float64).reshape(-1, 4)


# ---------------------------------------------------------------------------
# Logit sources
# ---------------------------------------------------------------------------


def _check_features(features, n_clusters, arg="features"):
    X = check_matrix(features, arg)
    if int(n_clusters) != n_clusters or n_clusters < 2:
        raise ValueError(f"n_clusters={n_clusters} should be an integer >= 2")
    if len(X) < n_clusters:
        raise ValueError(f"n_samples={len(X)} should be >= n_clusters={n_clusters}")
    return np.asarray(X, dtype=np.float64)


def _sklearn_kmeans(X, n_clusters, n_init, seed):
    """``KMeans(n_clusters, n_init=n_init, random_state=seed).fit(X)`` with the restarts' k-means++
    seedings run together (:func:`embtree.seeding.plusplus_restarts`; 1.9x faster seeding at
    50,000 x 768, K = 1,000, n_init = 3, where seeding is three quarters of the fit: 90 s -> 52 s).

    The rest is KMeans' own: the seedings draw what KMeans draws
    (:func:`embtree.seeding.kmeans_restart_states`) on the data centred as ``KMeans.fit`` centres
    it; each restart is ``KMeans(init=<its seeds>, n_init=1)`` (which centres the seeds by the same
    mean), and the best restart is chosen by KMeans' rule: lower inertia and not the same
    clustering as the best so far. -> the fitted ``KMeans`` of the best restart.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)  # the layout KMeans validates to: same mean and norms
    chosen = plusplus_restarts(X - X.mean(axis=0), n_clusters, kmeans_restart_states(seed, n_init, n_clusters))
    best = None
    for rows in chosen:
        km = KMeans(n_clusters=n_clusters, init=X[rows], n_init=1).fit(X)
        if best is None or (km.inertia_ < best.inertia_ and not _same_clustering(km.labels_, best.labels_)):
            best = km
    return best


def _same_clustering(a, b):
    """scikit-learn's ``_is_same_clustering``: every label of ``a`` maps to one label of ``b``."""
    pairs = np.unique(np.stack([a, b]), axis=1)
    return len(np.unique(pairs[0])) == pairs.shape[1]


def kmeans_logits(features, n_clusters, *, temperature=1.0, relative=True, seed=0, n_init=3, return_centres=False):
    """Soft k-means assignments as logits: ``-||x - c_k||^2 / (T * scale)``.

    The issue's second logit source: any flat clusterer's soft assignments can
    feed L2H; here k-means (scikit-learn, k-means++ init) on the embeddings.

    Parameters
    ----------
    features : array_like of shape (n_samples, n_features)
    n_clusters : int >= 2
    temperature : float > 0
        Softmax temperature T.
    relative : bool, default True
        Measure T in units of the mean squared distance of a sample to its own
        centroid (``inertia / n_samples``), so T = 1 means the same softness
        whatever the feature scale. With ``relative=False`` the scale is 1 and
        T is in squared feature units; raw CNN features then give softmaxes that
        round to exactly 1, so every cluster confidence ties and L2H's group
        scores stop carrying information.
    seed : int
        ``random_state`` of :class:`sklearn.cluster.KMeans`.
    n_init : int
        k-means restarts.

    Returns
    -------
    logits : ndarray of shape (n_samples, n_clusters), float64
    labels : ndarray of shape (n_samples,), int64
        Hard k-means labels (``argmax`` of ``logits`` up to exact ties).
    centres : ndarray of shape (n_clusters, n_features), with ``return_centres=True`` only
    """
    X = _check_features(features, n_clusters)
    if not temperature > 0:
        raise ValueError(f"temperature={temperature} should be > 0")
    km = _sklearn_kmeans(X, int(n_clusters), int(n_init), seed)
    d2 = km.transform(X) ** 2
    scale = 1.0
    if relative:
        scale = float(d2.min(axis=1).mean())
        if scale <= 0:  # every sample sits on its centroid: nothing to rescale
            scale = 1.0
    logits = -d2 / (temperature * scale)
    if return_centres:
        return logits, km.labels_.astype(np.int64), km.cluster_centers_
    return logits, km.labels_.astype(np.int64)


def _cut_linkage(Zfull, n_clusters):
    """Flat labels at ``n_clusters`` and the linkage over those clusters (the top merges).

    ``Zfull`` is a monotone linkage over samples (Ward). The flat clusters are
    the subtrees hanging below the last ``n_clusters - 1`` merges; cluster ids
    are given in order of their smallest sample index (deterministic).
    Not scipy's ``cut_tree`` / ``fcluster``: with tied merge heights ``cut_tree`` orders
    merges by its own heap, so its clusters are not the subtrees below the rows the returned
    linkage is built from, and ``fcluster(criterion="maxclust")`` gives fewer clusters.
    """
    n = Zfull.shape[0] + 1
    k = int(n_clusters)
    parent = np.full(2 * n - 1, -1, dtype=np.int64)
    children = Zfull[:, :2].astype(np.int64)
    parent[children[:, 0]] = np.arange(n, 2 * n - 1)
    parent[children[:, 1]] = np.arange(n, 2 * n - 1)
    first_top = 2 * n - 1 - (k - 1)  # node ids >= first_top are the top k-1 merges
    tops = children[n - k :]
    cut = np.setdiff1d(tops.ravel(), np.arange(first_top, 2 * n - 1))
    # Climb from every sample to its cut node.
    anc = np.arange(n)
    is_cut = np.zeros(2 * n - 1, dtype=bool)
    is_cut[cut] = True
    todo = ~is_cut[anc]
    while todo.any():
        anc[todo] = parent[anc[todo]]
        todo = ~is_cut[anc]
    # Number clusters by first appearance in sample order.
    _, first = np.unique(anc, return_index=True)
    cut_sorted = anc[np.sort(first)]
    new_id = np.full(2 * n - 1, -1, dtype=np.int64)
    new_id[cut_sorted] = np.arange(k)
    labels = new_id[anc]
    new_id[first_top:] = np.arange(k, 2 * k - 1)
    Z = np.empty((k - 1, 4), dtype=np.float64)
    size = np.ones(2 * k - 1)
    for i, (a, b) in enumerate(tops):
        na, nb = new_id[a], new_id[b]
        size[k + i] = size[na] + size[nb]
        Z[i] = (na, nb, Zfull[n - k + i, 2], size[k + i])
    return labels, Z


def agglomerative_baseline(features, n_clusters, *, pca_components=50, max_samples=None, seed=0):
    """The paper's agglomerative baseline: PCA, Ward linkage, cut at K (paper 001, B.2).

    Ward is run over the samples (scipy ``linkage(method="ward")``) on the
    first ``pca_components`` principal components. The hierarchy that is
    scored is the one over the K flat clusters, i.e. the top K - 1 Ward merges,
    exactly the object L2H outputs (a tree over K leaves, each leaf a set of
    samples), so LP, DP and LHD are computed with the same code on the same
    kind of tree ("# leaves = K" in the paper's table 1).

    Parameters
    ----------
    features : array_like of shape (n_samples, n_features)
    n_clusters : int >= 2
    pca_components : int
        Capped at ``min(n_samples, n_features)``.
    max_samples : int or None
        Ward needs O(n^2) memory (the condensed distance matrix: 10,000 samples
        take 400 MB). Above ``max_samples`` Ward runs on a seeded uniform
        subsample and the other samples join the cluster with the nearest
        centroid (in PCA space). None: never subsample.
    seed : int
        PCA solver and subsample seed.

    Returns
    -------
    labels : ndarray of shape (n_samples,), int64 in 0..K-1
    Z : ndarray of shape (K - 1, 4)
        Linkage over the K clusters (heights: Ward merge distances).
    """
    X = _check_agglomerative(features, n_clusters, pca_components, max_samples)
    labels, Z, _, _, _ = _agglomerative(X, n_clusters, pca_components, max_samples, seed)
    return labels, Z


def _check_agglomerative(features, n_clusters, pca_components, max_samples):
    X = _check_features(features, n_clusters)
    if pca_components < 1:
        raise ValueError(f"pca_components={pca_components} should be >= 1")
    if max_samples is not None and len(X) > max_samples and max_samples < n_clusters:
        raise ValueError(f"max_samples={max_samples} should be >= n_clusters={n_clusters}")
    return X


def _agglomerative(X, n_clusters, pca_components, max_samples, seed):
    """:func:`agglomerative_baseline` on checked input, plus the PCA rows Ward ran on, their clusters
    and the fitted PCA."""
    n = len(X)
    ncomp = int(min(pca_components, n, X.shape[1]))
    pca = PCA(n_components=ncomp, random_state=seed)
    Y = pca.fit_transform(X)
    if max_samples is not None and n > max_samples:
        rng = np.random.default_rng(seed)
        sub = np.sort(rng.choice(n, size=int(max_samples), replace=False))
        log.info("Ward on a subsample of %d of %d samples", max_samples, n)
        sub_labels, Z = _cut_linkage(hierarchy.linkage(Y[sub], method="ward"), n_clusters)
        centroids = np.stack([Y[sub][sub_labels == k].mean(axis=0) for k in range(n_clusters)])
        labels = pairwise_distances_argmin(Y, centroids)
        labels[sub] = sub_labels
        return labels.astype(np.int64), Z, Y[sub], sub_labels, pca
    labels, Z = _cut_linkage(hierarchy.linkage(Y, method="ward"), n_clusters)
    return labels, Z, Y, labels, pca


def build_hierarchy(
    source,
    features,
    labels,
    class_names,
    logits=None,
    *,
    kmeans_temperature=1.0,
    pca_components=50,
    max_samples=None,
    seed=0,
):
    """One hierarchy over K = len(class_names) clusters from a named source.

    * ``classifier``: L2H on the encoder's own logits; column c is class c,
      so leaves are named by their class directly (no matching).
    * ``kmeans``: L2H on :func:`kmeans_logits` of the features; leaves named
      by Hungarian matching (:func:`match_clusters_to_classes`).
    * ``agglomerative``: :func:`agglomerative_baseline`; leaves named by
      Hungarian matching.

    Parameters
    ----------
    source : {"classifier", "kmeans", "agglomerative"}
    features : ndarray of shape (n_samples, n_features)
    labels : int ndarray of shape (n_samples,), values in 0..K-1
    class_names : sequence of str, length K
    logits : ndarray of shape (n_samples, K) or None
        Required for ``classifier``.

    Returns
    -------
    dict with ``linkage`` (K - 1, 4), ``leaf_of_sample`` (n_samples,),
    ``names`` (list of K str), ``height`` (what column 2 of the linkage means), and what
    :func:`hierarchy_support` rebuilds the tree from: ``logits`` (n_samples, K) for the L2H
    sources, ``ward_points`` (n_ward, n_components) and ``ward_labels`` (n_ward,) for
    ``agglomerative`` (the PCA rows Ward ran on and their cluster); ``source``; and what
    :func:`assign_leaves` places new samples with: ``centres`` (K, n_features) for ``kmeans``,
    ``pca`` (the fitted PCA) and ``centroids`` (K, n_components) for ``agglomerative``.
    """
    if source not in SOURCES:
        raise ValueError(f"source={source!r} should be one of {SOURCES}")
    K = len(class_names)
    labels = np.asarray(labels)
    if len(labels) != len(features):
        raise ValueError(f"len(labels)={len(labels)} != len(features)={len(features)}")
    if source == "classifier":
        if logits is None:
            raise ValueError("source='classifier' needs logits, but the embeddings carry none")
        logits = np.asarray(logits)
        if logits.ndim != 2 or logits.shape != (len(labels), K):
            raise ValueError(
                f"source='classifier' needs logits of shape ({len(labels)}, {K}) (one column per "
                f"class), got {logits.shape}"
            )
        L = _check_logits(logits)
        Z = _l2h(L)
        leaf, _ = _assign_and_confidence(L)
        return {"linkage": Z, "leaf_of_sample": leaf, "names": [str(c) for c in class_names],
                "height": "L2H merge step", "logits": L, "source": source}
    if source in CLUSTER_LOGIT_SOURCES:
        if logits is None or np.asarray(logits).shape != (len(labels), K):
            raise ValueError(f"source={source!r} needs logits of shape ({len(labels)}, {K}) (the head's "
                             f"log soft assignments), got {None if logits is None else np.shape(logits)}")
        L = _check_logits(logits)
        Z = _l2h(L)
        leaf, _ = _assign_and_confidence(L)
        height = "L2H merge step"
    elif source == "kmeans":
        logits, _, centres = kmeans_logits(features, K, temperature=kmeans_temperature, seed=seed,
                                           return_centres=True)
        L = _check_logits(logits)  # -d^2 / (T scale) overflows to -inf for a tiny temperature
        Z = _l2h(L)
        leaf, _ = _assign_and_confidence(L)
        height = "L2H merge step"
    else:
        X = _check_agglomerative(features, K, pca_components, max_samples)
        leaf, Z, ward_points, ward_labels, pca = _agglomerative(X, K, pca_components, max_samples, seed)
        names = match_clusters_to_classes(leaf, labels, K, class_names)
        # Every sample's PCA row: the clusters' centroids place new samples (the cut at K
        # leaves no cluster empty).
        centroids = class_centroids(pca.transform(X), leaf, K)
        return {"linkage": Z, "leaf_of_sample": leaf, "names": names, "height": "Ward distance",
                "ward_points": ward_points, "ward_labels": ward_labels, "source": source, "pca": pca,
                "centroids": centroids}
    names = match_clusters_to_classes(leaf, labels, K, class_names)
    out = {"linkage": Z, "leaf_of_sample": leaf, "names": names, "height": height, "logits": L, "source": source}
    if source == "kmeans":
        out["centres"] = centres
    return out


def assign_leaves(h, features=None, logits=None):
    """The leaf of each new sample (a held-out evaluation set) in a hierarchy of :func:`build_hierarchy`.

    The tree stays the one built on the fit set; new samples are placed as the source places
    its own: ``classifier`` / ``temi`` / ``scanv2`` by the argmax of their logits (the model's
    outputs on the new samples, ``logits``), ``kmeans`` by the nearest fitted centre, and
    ``agglomerative`` by the nearest cluster centroid in the fitted PCA space (``features``).

    Parameters
    ----------
    h : dict returned by :func:`build_hierarchy`
    features : ndarray of shape (n_new, n_features), for ``kmeans`` and ``agglomerative``
    logits : ndarray of shape (n_new, K), for the other sources

    Returns
    -------
    leaf : int64 ndarray of shape (n_new,), values in 0..K-1
    """
    K = h["linkage"].shape[0] + 1
    source = h["source"]
    if source in ("kmeans", "agglomerative"):
        if features is None:
            raise ValueError(f"source={source!r} places new samples by their features; none given")
        X = check_matrix(features, "features", min_rows=1)
        ref = h["centres"] if source == "kmeans" else h["centroids"]
        if source == "agglomerative":
            X = h["pca"].transform(X)
        elif X.shape[1] != ref.shape[1]:
            raise ValueError(f"features has {X.shape[1]} columns, the fitted centres {ref.shape[1]}")
        return pairwise_distances_argmin(X, ref).astype(np.int64)
    if logits is None:
        raise ValueError(f"source={source!r} places new samples by their logits; none given")
    L = _check_logits(logits)
    if L.shape[1] != K:
        raise ValueError(f"logits has {L.shape[1]} columns; the hierarchy has {K} leaves")
    return _assign_and_confidence(L)[0]


# ---------------------------------------------------------------------------
# Naming leaves
# ---------------------------------------------------------------------------


def match_clusters_to_classes(leaf_of_sample, labels, n_clusters, class_names):
    """Name each cluster by its Hungarian-matched class (unique names for Newick / RF).

    ``linear_sum_assignment`` maximises the number of samples whose cluster is
    matched to their class (the ACC matching). With K = C every cluster gets a
    distinct class name, so the tree's leaf set equals the reference's;
    clusters left unmatched (K > C) are named ``cluster_<k>``.

    Parameters
    ----------
    leaf_of_sample : array_like of shape (n_samples,), ints in 0..n_clusters-1
    labels : array_like of shape (n_samples,), ints in 0..len(class_names)-1
    n_clusters : int
    class_names : sequence of str

    Returns
    -------
    names : list of str, length n_clusters
    """
    leaf = np.asarray(leaf_of_sample)
    y = np.asarray(labels)
    if leaf.shape != y.shape or leaf.ndim != 1:
        raise ValueError(
            f"leaf_of_sample shape {leaf.shape} and labels shape {y.shape} must be equal and 1-D"
        )
    C = len(class_names)
    if leaf.size and (leaf.min() < 0 or leaf.max() >= n_clusters):
        raise ValueError(f"leaf_of_sample must lie in 0..{n_clusters - 1}, got {leaf.min()}..{leaf.max()}")
    if y.size and (y.min() < 0 or y.max() >= C):
        raise ValueError(f"labels must lie in 0..{C - 1}, got {y.min()}..{y.max()}")
    M = np.zeros((n_clusters, C), dtype=np.int64)
    np.add.at(M, (leaf, y), 1)
    rows, cols = linear_sum_assignment(M, maximize=True)
    names = [f"cluster_{k}" for k in range(n_clusters)]
    for r, c in zip(rows, cols):
        names[r] = str(class_names[c])
    return names


# ---------------------------------------------------------------------------
# Bootstrap support (docs/methods/support.md)
# ---------------------------------------------------------------------------


def _weighted_ward(points, weights):
    """Ward linkage over weighted points (cluster centroids with their sizes).

    Ward's merge cost of two clusters depends only on their centroids and sizes
    (d^2 = 2 n_a n_b / (n_a + n_b) |c_a - c_b|^2, Lance-Williams update on d^2), so the top
    K - 1 merges of Ward over samples are Ward over the K clusters below them; heights are
    scipy's (``sqrt`` of d^2). Generic algorithm with a nearest-neighbour cache: O(K^2) memory,
    each merge O(K) vectorised plus the rows whose neighbour was merged.
    Row ``i`` is ``[a, b, height, leaves below]`` with ``a < b`` node ids.
    """
    C = np.asarray(points, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    K = len(C)
    sq = np.einsum("ij,ij->i", C, C)
    D = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (C @ C.T), 0.0)
    D *= 2.0 * np.outer(w, w) / (w[:, None] + w[None, :])
    np.fill_diagonal(D, np.inf)
    nn = D.argmin(axis=1)
    nd = D[np.arange(K), nn]
    node = np.arange(K)
    leaves = np.ones(K, dtype=np.int64)
    active = np.ones(K, dtype=bool)
    Z = np.empty((K - 1, 4))
    for step in range(K - 1):
        i = int(np.argmin(nd))
        j = int(nn[i])
        i, j = min(i, j), max(i, j)
        dij = D[i, j]
        Z[step] = (min(node[i], node[j]), max(node[i], node[j]), np.sqrt(dij), leaves[i] + leaves[j])
        ni, nj = w[i], w[j]
        new = ((ni + w) * D[i] + (nj + w) * D[j] - w * dij) / (ni + nj + w)
        active[j] = False
        new[~active] = np.inf
        new[i] = np.inf
        D[i], D[:, i] = new, new
        D[j], D[:, j] = np.inf, np.inf
        nd[j] = np.inf
        w[i], node[i], leaves[i] = ni + nj, K + step, leaves[i] + leaves[j]
        redo = active & ((nn == i) | (nn == j))
        redo[i] = active[i] and step < K - 2
        closer = active & ~redo & (new < nd)
        nn[closer], nd[closer] = i, new[closer]
        for k in np.flatnonzero(redo):
            nn[k] = int(np.argmin(D[k]))
            nd[k] = D[k, nn[k]]
    return Z


def _l2h_of_rows(shared, rows):
    """One bootstrap replicate: L2H on the logit rows ``rows`` (a :func:`fork_map` task);
    ``shared`` = (logits, their ``_assign_and_confidence``)."""
    L, assign_conf = shared
    return _l2h(L, rows, assign_conf)


def hierarchy_support(h, labels, n_boot, *, seed=0, n_jobs=1):
    """Bootstrap support of every clade of a hierarchy from :func:`build_hierarchy`.

    Each replicate rebuilds the tree, as the source builds it, on resampled data; leaf ``k``
    stays cluster (logit column) ``k`` in every replicate, so its name is the one
    :func:`build_hierarchy` gave it:

    * L2H sources (``classifier``, ``kmeans``, ``temi``, ``scanv2``): within each class, as
      many samples as it has are drawn with replacement, and L2H (Algorithm 1) runs on their
      logit rows. The logits are *not* recomputed: the classifier, the soft k-means fit and
      the TEMI / SCANv2 heads are not retrained on the resample (that would cost a training
      run per replicate), so the support says how much the tree depends on which samples
      were drawn, given the model. A cluster that no drawn sample is assigned to stays a
      leaf; L2H scores it 0 and merges it first (docs/methods/l2h.md).
    * ``agglomerative``: within each of the K Ward clusters (over the rows Ward ran on), as
      many rows as it has are drawn with replacement, and Ward's K - 1 merges are rerun over
      the resampled cluster centroids (Ward's merge cost depends only on centroids and
      sizes, so without resampling this gives the tree built on the data). The flat Ward
      clustering below the cut is not redone: that is one O(n^2) Ward per replicate
      (4 s at 10,000 samples, 100 replicates 7 minutes); this costs milliseconds.

    Parameters
    ----------
    h : dict returned by :func:`build_hierarchy`
    labels : int array of shape (n_samples,), the class of each sample (as given to it)
    n_boot : int >= 1, the number of replicates
    seed : int, seeds one ``numpy.random.default_rng`` for all replicates
    n_jobs : int >= 1, processes the L2H replicates run in (:func:`embtree.workers.fork_map`;
        the support does not depend on it)

    Returns
    -------
    support : ndarray of shape (K - 1,), the share of replicates containing each clade
        (row of ``h["linkage"]``; :func:`embtree.hierarchy.support.clade_support`)
    """
    if int(n_boot) != n_boot or n_boot < 1:
        raise ValueError(f"n_boot={n_boot} should be an integer >= 1")
    counter = CladeCounter(h["linkage"])
    rng = np.random.default_rng(seed)
    if "logits" in h:
        L = h["logits"]
        y = np.asarray(labels)
        if y.shape != (len(L),):
            raise ValueError(f"labels has shape {y.shape}; the hierarchy has {len(L)} samples")
        rows = np.argsort(y, kind="stable")
        indptr = np.concatenate([[0], np.cumsum(np.bincount(y))])
        # Every draw first, from the one generator (the replicates do not depend on n_jobs); then
        # the L2H runs, each a loop of small steps on one core, over n_jobs forked processes.
        # (int32: 100 draws of 1.28 M rows are 0.5 GB, beside 5 GB of logits)
        draws = [np.sort(rows[resample_groups(indptr, rng)]).astype(np.int32) for _ in range(int(n_boot))]
        shared = (L, _assign_and_confidence(L))  # per-row values: once, not per replicate
        for b, Z in enumerate(fork_map(_l2h_of_rows, draws, n_jobs, shared=shared)):
            counter.add(Z, f"replicate {b}")
        return counter.support()
    Y, lab = h["ward_points"], np.asarray(h["ward_labels"])
    K = h["linkage"].shape[0] + 1
    rows = np.argsort(lab, kind="stable")
    sizes = np.bincount(lab, minlength=K)
    indptr = np.concatenate([[0], np.cumsum(sizes)])
    for b in range(int(n_boot)):
        centroids = group_means(Y, indptr, rows[resample_groups(indptr, rng)])
        counter.add(_weighted_ward(centroids, sizes), f"replicate {b}")
    return counter.support()
