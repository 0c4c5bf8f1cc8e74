"""L2H (paper 001, Algorithm 1): known merge orders, fast == naive, logit sources, baseline."""

import numpy as np
import pytest
from scipy.cluster import hierarchy
from sklearn.metrics import adjusted_rand_score

from embtree import l2h as l2h_module
from embtree import validation
from embtree.l2h import (
    assign_leaves,
    _l2h_naive,
    agglomerative_baseline,
    build_hierarchy,
    kmeans_logits,
    l2h,
    match_clusters_to_classes,
)
from embtree.hierarchy.scores import dendrogram_purity, lhd


def _rows(*per_cluster):
    """Stack (logit row, repeat count) pairs into a logits matrix."""
    return np.array([row for row, n in per_cluster for _ in range(n)], dtype=float)


def test_known_merge_order_two_pairs():
    # Clusters 0/1 and 2/3 are confused with each other; confidences 0 < 2 < 1 < 3.
    logits = _rows(([2, 1, 0, 0], 5), ([1, 3, 0, 0], 5), ([0, 0, 2.5, 1], 5), ([0, 0, 1, 4], 5))
    expected = np.array([[0, 1, 1, 2], [2, 3, 2, 2], [4, 5, 3, 4]], dtype=float)
    for impl in (l2h, _l2h_naive):
        np.testing.assert_array_equal(impl(logits), expected)


def test_merge_partner_uses_mean_over_group_clusters():
    # Cluster 1 (least confident) joins 2 first. Then cluster 0's samples send 5 units of
    # reassigned probability to group {1, 2} (mean 2.5 per cluster) and 3 units to
    # cluster 3: L2H picks 3 (a sum instead of the mean would pick {1, 2}).
    logits = _rows(
        ([0, 1.0, 0.9, 0], 2),
        ([0, 0, 5, 0], 2),
        ([0, 0, 0, 5], 2),
        ([2, 1.5, 0, 0], 3),
        ([2, 0, 1.5, 0], 2),
        ([2, 0, 0, 1.5], 3),
    )
    expected = np.array([[1, 2, 1, 2], [0, 3, 2, 2], [4, 5, 3, 4]], dtype=float)
    for impl in (l2h, _l2h_naive):
        np.testing.assert_array_equal(impl(logits), expected)


def test_ties_and_empty_clusters():
    # All logits equal: every sample goes to cluster 0, clusters 1 and 2 are empty
    # (score 0). Ties go to the first group in the listing's order (lowest node id),
    # and an empty G* joins the first other group.
    logits = np.zeros((4, 3))
    expected = np.array([[1, 0, 1, 2], [2, 3, 2, 3]], dtype=float)
    for impl in (l2h, _l2h_naive):
        np.testing.assert_array_equal(impl(logits), expected)


def _random_logits(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(5, 400)), int(rng.integers(2, 40))
    L = rng.normal(size=(n, k)) * rng.uniform(0.1, 5)
    L[np.arange(n), rng.integers(0, k, n)] += rng.uniform(0, 6)
    if seed % 3 == 0:
        L = np.round(L)  # many exact ties in the argmax and in the scores
    if seed % 4 == 0:
        L[:, int(rng.integers(k))] = L[:, 0]  # a duplicated column
    if seed % 5 == 0:
        L = L.astype(np.float32)
    return L


@pytest.mark.parametrize("seed", range(24))
def test_fast_equals_naive(seed):
    L = _random_logits(seed)
    Z = l2h(L)
    assert hierarchy.is_valid_linkage(Z, throw=True)
    np.testing.assert_array_equal(Z, _l2h_naive(L))
    k = L.shape[1]
    np.testing.assert_array_equal(Z[:, 2], np.arange(1, k))
    assert Z[-1, 3] == k


def test_naive_prefix():
    L = _random_logits(7)
    np.testing.assert_array_equal(_l2h_naive(L, n_steps=3), l2h(L)[:3])


def _hierarchical_blobs(seed=0, per_class=60):
    """8 classes at the leaves of a depth-3 binary tree; sibling classes are closest."""
    rng = np.random.default_rng(seed)
    centres = []
    for path in range(8):
        bits = [(path >> s) & 1 for s in (2, 1, 0)]
        c = np.zeros(6)
        for level, (b, scale) in enumerate(zip(bits, (12.0, 6.0, 3.0))):
            c[2 * level + b] = scale
        centres.append(c)
    y = np.repeat(np.arange(8), per_class)
    X = np.array(centres)[y] + rng.normal(scale=0.6, size=(len(y), 6))
    return X, y


def test_kmeans_l2h_recovers_planted_hierarchy():
    X, y = _hierarchical_blobs()
    logits, hard = kmeans_logits(X, 8, temperature=1.0, seed=0)
    assert logits.shape == (len(y), 8)
    np.testing.assert_array_equal(logits.argmax(axis=1), hard)
    assert adjusted_rand_score(y, hard) > 0.99
    Z = l2h(logits)
    leaf = logits.argmax(axis=1)
    assert dendrogram_purity(Z, leaf, y) > 0.95
    # Each pair of sibling classes is split only at the tree's lowest levels.
    assert lhd(Z, leaf, y) < 0.05
    # The top split of the tree separates classes 0-3 from 4-7, as planted.
    names = match_clusters_to_classes(leaf, y, 8, [str(c) for c in range(8)])
    root = hierarchy.to_tree(Z)
    sides = {frozenset(int(names[v]) for v in side.pre_order()) for side in (root.get_left(), root.get_right())}
    assert sides == {frozenset(range(4)), frozenset(range(4, 8))}


def test_kmeans_logits_relative_temperature_is_scale_free():
    X, _ = _hierarchical_blobs(per_class=20)
    a, _ = kmeans_logits(X, 8, temperature=0.5, seed=0)
    b, _ = kmeans_logits(10 * X, 8, temperature=0.5, seed=0)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    c, _ = kmeans_logits(X, 8, temperature=0.5, relative=False, seed=0)
    assert not np.allclose(a, c)


def test_agglomerative_baseline_matches_sklearn_ward_cut():
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(0)
    X, y = _hierarchical_blobs(per_class=15)
    X = np.hstack([X, rng.normal(size=(len(X), 4))])
    labels, Z = agglomerative_baseline(X, 8, pca_components=5, seed=0)
    assert hierarchy.is_valid_linkage(Z, throw=True)
    assert Z.shape == (7, 4) and Z[-1, 3] == 8
    assert np.all(np.diff(Z[:, 2]) >= 0)  # Ward heights stay monotone
    Y = PCA(n_components=5, random_state=0).fit_transform(X)
    sk = AgglomerativeClustering(n_clusters=8, linkage="ward").fit_predict(Y)
    assert adjusted_rand_score(sk, labels) == 1.0
    assert dendrogram_purity(Z, labels, y) > 0.95


def test_agglomerative_baseline_subsample():
    X, y = _hierarchical_blobs(per_class=30)
    labels, Z = agglomerative_baseline(X, 8, max_samples=100, seed=1)
    assert labels.shape == y.shape and set(np.unique(labels)) == set(range(8))
    assert adjusted_rand_score(y, labels) > 0.95


def test_match_clusters_to_classes_inverts_a_permutation():
    y = np.array([0, 0, 1, 1, 2, 2, 2])
    perm = np.array([2, 0, 1])
    names = match_clusters_to_classes(perm[y], y, 4, ["cat", "dog", "eel"])
    assert names == ["dog", "eel", "cat", "cluster_3"]


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.array([[0.0, np.nan], [1.0, 2.0]]), "NaN or inf"),
        (np.array([[0.0, np.inf], [1.0, 2.0]]), "NaN or inf"),
        (np.zeros((5, 1)), "at least 2"),
        (np.zeros(5), "2-D"),
        (np.zeros((0, 3)), "no rows"),
    ],
)
def test_bad_logits(bad, match):
    with pytest.raises(ValueError, match=match):
        l2h(bad)
    with pytest.raises(ValueError, match=match):
        _l2h_naive(bad)


def test_bad_source_input():
    with pytest.raises(ValueError, match="n_samples=3 should be >= n_clusters=5"):
        kmeans_logits(np.zeros((3, 2)), 5, temperature=1.0)
    with pytest.raises(ValueError, match="temperature"):
        kmeans_logits(np.random.default_rng(0).normal(size=(10, 2)), 2, temperature=0)
    with pytest.raises(ValueError, match="shape"):
        match_clusters_to_classes(np.zeros(3, int), np.zeros(4, int), 2, ["a"])


def test_build_hierarchy_sources_and_missing_logits():
    X, y = _hierarchical_blobs(per_class=20)
    names = [f"c{i}" for i in range(8)]
    with pytest.raises(ValueError, match="needs logits"):
        build_hierarchy("classifier", X, y, names, None)
    with pytest.raises(ValueError, match="one column per class"):
        build_hierarchy("classifier", X, y, names, np.zeros((len(y), 5)))
    with pytest.raises(ValueError, match="source="):
        build_hierarchy("turtle", X, y, names)
    # Perfect classifier logits: leaves are the classes, named directly.
    logits = np.eye(8)[y] * 5.0
    h = build_hierarchy("classifier", X, y, names, logits)
    np.testing.assert_array_equal(h["leaf_of_sample"], y)
    assert h["names"] == names
    for source in ("kmeans", "agglomerative"):
        h = build_hierarchy(source, X, y, names, seed=0)
        assert sorted(h["names"]) == names
        assert [h["names"][k] for k in h["leaf_of_sample"]] == [names[c] for c in y]


def test_given_logits_are_validated_once(monkeypatch):
    """build_hierarchy checks the logits it is given once, then runs the L2H kernel."""
    X, y = _hierarchical_blobs(per_class=10)
    logits = np.eye(8)[y] * 5.0
    seen = []

    def counting(A, name, **kwargs):
        seen.append(name)
        return validation.check_matrix(A, name, **kwargs)

    monkeypatch.setattr(l2h_module, "check_matrix", counting)
    h = build_hierarchy("classifier", X, y, [f"c{i}" for i in range(8)], logits)
    assert seen == ["logits"]
    np.testing.assert_array_equal(h["linkage"], l2h(logits))


# ---------------------------------------------------------------- bootstrap support


def _planted_clades(Z, names):
    """The planted tree's clades (pairs, quadruples of _hierarchical_blobs) found in Z, with their row."""
    from embtree.hierarchy.support import linkage_clades

    index = {int(n): i for i, n in enumerate(names)}
    want = [frozenset(range(a, a + w)) for w in (2, 4) for a in range(0, 8, w)]
    rows = {}
    for k, b in enumerate(linkage_clades(Z)):
        leaves = frozenset(c for c, i in index.items() if b >> i & 1)
        if leaves in want:
            rows[leaves] = k
    return want, rows


@pytest.mark.parametrize("source", ["classifier", "kmeans", "agglomerative"])
def test_planted_hierarchy_has_full_support(source):
    from embtree.l2h import build_hierarchy, hierarchy_support

    X, y = _hierarchical_blobs()
    names = [str(c) for c in range(8)]
    # Classifier logits: the negative squared distance to the class means.
    means = np.stack([X[y == c].mean(axis=0) for c in range(8)])
    logits = -((X[:, None, :] - means[None]) ** 2).sum(-1) / 4.0
    h = build_hierarchy(source, X, y, names, logits, seed=0)
    support = hierarchy_support(h, y, 40, seed=0)
    want, rows = _planted_clades(h["linkage"], h["names"])
    if source != "classifier":  # L2H on logits merges the pairs, not always the quadruples
        assert set(rows) == set(want)
    assert rows and all(support[k] == 1.0 for k in rows.values())
    assert support[-1] == 1.0


def test_random_labels_l2h_support_near_chance():
    from embtree.l2h import build_hierarchy, hierarchy_support

    rng = np.random.default_rng(1)
    y = rng.permutation(np.repeat(np.arange(12), 40))
    logits = rng.normal(size=(len(y), 12))
    h = build_hierarchy("classifier", np.zeros((len(y), 2)), y, [str(c) for c in range(12)], logits)
    assert hierarchy_support(h, y, 40)[:-1].mean() < 0.5
    X = rng.normal(size=(len(y), 6))
    h = build_hierarchy("agglomerative", X, y, [str(c) for c in range(12)], pca_components=6)
    assert hierarchy_support(h, y, 40)[:-1].mean() < 0.5


def test_l2h_support_does_not_depend_on_n_jobs():
    """The replicates drawn, and so the support, are the same whether L2H runs them in one
    process or in forked workers (random labels: support strictly between 0 and 1)."""
    from embtree.l2h import build_hierarchy, hierarchy_support

    rng = np.random.default_rng(2)
    y = rng.permutation(np.repeat(np.arange(12), 30))
    logits = rng.normal(size=(len(y), 12)) + 1.5 * np.eye(12)[y]
    h = build_hierarchy("classifier", np.zeros((len(y), 2)), y, [str(c) for c in range(12)], logits)
    one = hierarchy_support(h, y, 25, seed=3)
    assert 0 < one[:-1].mean() < 1
    np.testing.assert_array_equal(hierarchy_support(h, y, 25, seed=3, n_jobs=2), one)
    assert not np.array_equal(hierarchy_support(h, y, 25, seed=4, n_jobs=2), one)  # the seed does matter


def test_l2h_on_rows_is_l2h_of_the_gathered_rows():
    """A bootstrap replicate runs L2H on ``L[rows]`` without gathering it, from the per-row
    assignments and confidences of all of ``L``: the merges equal those of ``l2h(L[rows])``,
    also with repeated rows, a column no drawn row is assigned to, and float32 logits."""
    from embtree.l2h import _assign_and_confidence, _l2h

    rng = np.random.default_rng(5)
    y = rng.integers(0, 15, 700)
    for dtype in (np.float64, np.float32):
        L = (rng.normal(size=(700, 15)) + 2.0 * np.eye(15)[y]).astype(dtype)
        pre = _assign_and_confidence(L)
        for rows in (np.sort(rng.integers(0, 700, 700)), np.flatnonzero(pre[0] != 3), np.arange(700)[::-1]):
            np.testing.assert_array_equal(_l2h(L, rows, pre), l2h(L[rows]))


@pytest.mark.parametrize("seed", [0, 3])
def test_kmeans_source_is_scikit_learns_kmeans(seed):
    """The kmeans source's k-means (restarts seeded together) is KMeans(n_init=3, random_state=seed):
    same labels, centres and inertia, on data where the restarts end at different inertias."""
    from sklearn.cluster import KMeans
    from sklearn.cluster._kmeans import _is_same_clustering

    from embtree.l2h import _same_clustering, _sklearn_kmeans

    X = np.random.default_rng(seed).uniform(size=(300, 4))  # no cluster structure: restarts disagree
    inertias = [KMeans(12, n_init=1, random_state=s).fit(X).inertia_ for s in range(3)]
    assert len(set(inertias)) > 1
    ref = KMeans(12, n_init=3, random_state=seed).fit(X)
    got = _sklearn_kmeans(np.asfortranarray(X), 12, 3, seed)
    np.testing.assert_array_equal(got.labels_, ref.labels_)
    np.testing.assert_array_equal(got.cluster_centers_, ref.cluster_centers_)
    assert got.inertia_ == ref.inertia_
    perm = np.random.default_rng(1).permutation(12)
    for a, b in ((ref.labels_, perm[ref.labels_]), (ref.labels_, np.roll(ref.labels_, 1)),
                 (np.zeros(300, int), ref.labels_)):
        assert _same_clustering(a, b) == _is_same_clustering(a.astype(np.int32), b.astype(np.int32), 12)


def test_weighted_ward_is_the_top_of_ward():
    """Ward over the K cut clusters (centroids, sizes) gives the baseline's tree: the replicate
    of the agglomerative source without resampling is the tree built on the data."""
    from embtree.hierarchy.support import linkage_clades
    from embtree.l2h import _weighted_ward

    X, y = _hierarchical_blobs(seed=3, per_class=25)
    X = X + np.random.default_rng(0).normal(scale=2.0, size=X.shape)  # overlapping clusters
    for max_samples in (None, 120):
        h = build_hierarchy("agglomerative", X, y, [str(c) for c in range(8)], pca_components=4,
                            max_samples=max_samples, seed=0)
        lab, Y = h["ward_labels"], h["ward_points"]
        cent = np.stack([Y[lab == k].mean(axis=0) for k in range(8)])
        Zw = _weighted_ward(cent, np.bincount(lab))
        assert hierarchy.is_valid_linkage(Zw)
        assert linkage_clades(Zw) == linkage_clades(h["linkage"])
        np.testing.assert_allclose(Zw[:, 2], h["linkage"][:, 2], rtol=1e-9)
    rng = np.random.default_rng(1)
    P = rng.normal(size=(40, 3))
    np.testing.assert_allclose(_weighted_ward(P, np.ones(40)), hierarchy.linkage(P, "ward"), rtol=1e-9)


def test_hierarchy_support_is_byte_identical_with_a_seed():
    from embtree.l2h import hierarchy_support

    X, y = _hierarchical_blobs(per_class=15)
    X = X + np.random.default_rng(0).normal(scale=3.0, size=X.shape)
    for source in ("kmeans", "agglomerative"):
        h = build_hierarchy(source, X, y, [str(c) for c in range(8)], seed=0)
        a, b = hierarchy_support(h, y, 15, seed=2), hierarchy_support(h, y, 15, seed=2)
        assert a.tobytes() == b.tobytes() and a.shape == (7,)
    with pytest.raises(ValueError, match="n_boot=0"):
        hierarchy_support(h, y, 0)


@pytest.mark.parametrize("source", ["kmeans", "agglomerative", "classifier"])
def test_held_out_samples_land_in_their_class_leaf(source):
    # Well-separated classes: a fresh draw of each class falls in the leaf of its class.
    rng = np.random.default_rng(0)
    centres = 20 * rng.standard_normal((5, 8))
    y, ye = np.repeat(np.arange(5), 40), np.repeat(np.arange(5), 15)
    X = centres[y] + rng.standard_normal((len(y), 8))
    Xe = centres[ye] + rng.standard_normal((len(ye), 8))
    names = list("abcde")
    logits = -((X[:, None, :] - centres[None]) ** 2).sum(-1)  # a perfect classifier's logits
    h = build_hierarchy(source, X, y, names, logits, seed=0)
    held_logits = -((Xe[:, None, :] - centres[None]) ** 2).sum(-1)
    leaf = assign_leaves(h, features=Xe, logits=held_logits)
    assert leaf.shape == ye.shape
    named = np.array(h["names"])[leaf]
    assert (named == np.array(names)[ye]).all()
    # The fit samples themselves land where the build put them.
    np.testing.assert_array_equal(assign_leaves(h, features=X, logits=logits), h["leaf_of_sample"])
    with pytest.raises(ValueError, match="none given"):
        assign_leaves(h)
