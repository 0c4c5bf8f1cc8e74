"""UPGMA relation trees (embtree.relation_trees) and the placement of samples at their nearest leaf."""

import numpy as np
import pytest
from scipy.cluster import hierarchy

from embtree.centroids import class_centroids
from embtree.hierarchy.compare import robinson_foulds
from embtree.hierarchy.scores import dendrogram_purity, lhd
from embtree.relation_trees import TREE_METRICS, nearest_leaf, tree_label_metrics, upgma, upgma_linkage


# The tree of the points _tree_points places (leaves named by their path from the root).
TREE_OF_POINTS = "(((000,001),(010,011)),((100,101),(110,111)));"


def _tree_points(rng, root, scale, depth=3, dim=16):
    """Points placed by a known binary tree, ``{path: point}``: from ``np.full(dim, root)`` each
    level moves every child by its own random step, ``sgn * scale / 2**level * rng.normal(size=dim)``,
    which shrinks with depth, so UPGMA must recover the tree (:data:`TREE_OF_POINTS`)."""
    points = {"": np.full(dim, root)}
    for level in range(depth):
        step = scale / 2**level
        points = {
            k + b: v + sgn * step * rng.normal(size=dim)
            for k, v in points.items()
            for b, sgn in (("0", 1), ("1", -1))
        }
    return points


# ---------------------------------------------------------------- UPGMA


def test_upgma_is_scipy_average_linkage():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(12, 4))
    for metric, scipy_name in TREE_METRICS.items():
        Z = upgma_linkage(X, metric)
        Zs = hierarchy.linkage(X, method="average", metric=scipy_name)
        np.testing.assert_allclose(Z, Zs)


def test_upgma_eq16_update_by_hand():
    # 1-D points 0, 1, 5, 11: merges {0,1}@1, then d({0,1},5) = (5+4)/2 = 4.5 -> merge @4.5,
    # then d({0,1,5},11) = (11+10+6)/3 = 9.
    Z = upgma_linkage(np.array([[0.0], [1.0], [5.0], [11.0]]), "manhattan")
    np.testing.assert_allclose(Z[:, 2], [1.0, 4.5, 9.0])


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "canberra"])
def test_upgma_recovers_tree_of_placed_points(metric):
    points = _tree_points(np.random.default_rng(2), 20.0, 8.0)  # offset keeps Canberra away from 0/0
    names = sorted(points)
    X = np.stack([points[k] for k in names])
    nwk = upgma(X, [f"{n}" for n in names], metric)
    assert robinson_foulds(nwk, TREE_OF_POINTS, rooted=True) == 0


def test_upgma_input_errors():
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="duplicate"):
        upgma(X, ["a", "b", "a", "c"])
    with pytest.raises(ValueError, match="at least 3"):
        upgma(X[:2], ["a", "b"])
    with pytest.raises(ValueError, match="metric"):
        upgma(X, list("abcd"), "cosine")
    with pytest.raises(ValueError, match="len\\(names\\)"):
        upgma(X, list("abc"))
    with pytest.raises(ValueError, match="NaN"):
        upgma(np.full((4, 2), np.nan), list("abcd"))


# ---------------------------------------------------------------- samples -> leaves


def test_nearest_leaf():
    X = np.array([[0.0, 0], [2, 0], [10, 10], [12, 10]])
    y = np.array([0, 0, 1, 1])
    G = class_centroids(X, y)
    assert nearest_leaf(X, G, "manhattan").tolist() == [0, 0, 1, 1]


def test_tree_label_metrics_are_dp_and_lhd():
    rng = np.random.default_rng(12)
    Z = upgma_linkage(rng.normal(size=(6, 3)))
    leaf, y = rng.integers(0, 6, 50), rng.integers(0, 3, 50)
    assert tree_label_metrics(Z, leaf, y) == {"dp": dendrogram_purity(Z, leaf, y), "lhd": lhd(Z, leaf, y)}
    dp = dendrogram_purity(Z, leaf, y, max_exact=0, n_pairs=1_000, seed=3)
    assert tree_label_metrics(Z, leaf, y, max_exact=0, n_pairs=1_000, seed=3)["dp"] == dp


# ---------------------------------------------------------------- planted tree chain


def test_planted_tree_chain_recovers_tree():
    caec = pytest.importorskip("embtree.caec", reason="embtree.caec (CAEC issue) not available yet")
    rng = np.random.default_rng(6)
    n_per, dim = 60, 16
    centres = _tree_points(rng, 10.0, 6.0, dim=dim)
    names = sorted(centres)
    X = np.concatenate([centres[k] + 0.3 * rng.normal(size=(n_per, dim)) for k in names])
    y = np.repeat(np.arange(len(names)), n_per)
    res = caec.grow_clusters(X, y, metric="euclidean")
    for pts in (res.final_centroids, res.mmp):
        nwk = upgma(np.asarray(pts), names, "euclidean")
        assert robinson_foulds(nwk, TREE_OF_POINTS, rooted=True) == 0


# ---------------------------------------------------------------- bootstrap support


def _true_clades(newick, names):
    """Non-root clades of a (multifurcating) reference as sets of leaf indices (bitsets)."""
    from embtree.hierarchy.newick import parse_newick

    index = {n: i for i, n in enumerate(names)}
    tree = parse_newick(newick)
    out = set()
    for nd in tree.postorder_internal_node_iter():
        if nd is not tree.seed_node:
            out.add(sum(1 << index[x.taxon.label] for x in nd.leaf_nodes()))
    return out


def _before_support(X, y, n_boot=50, seed=0, metric="euclidean"):
    from embtree.relation_trees import class_point_replicates, upgma_support

    Z = upgma_linkage(class_centroids(X, y), metric)
    reps = ({"G": G} for G in class_point_replicates(X, y, n_boot, seed=seed))
    return Z, upgma_support({(metric, "G"): Z}, reps)[metric, "G"]


def test_planted_classes_get_full_support_on_every_true_clade():
    from embtree.data.planted import planted_tree
    from embtree.hierarchy.support import linkage_clades

    X, y, names, ref = planted_tree(depth=2, branching=3, dim=16, samples_per_class=40, step_scale=6.0,
                                    noise=0.5, seed=1)
    for metric in TREE_METRICS:
        Z, support = _before_support(X, y, metric=metric)
        clades = dict(zip(linkage_clades(Z), support))
        true = _true_clades(ref, list(names))
        assert true <= set(clades)  # UPGMA recovers the planted tree ...
        assert all(clades[c] == 1.0 for c in true)  # ... in every replicate


def test_random_labels_get_support_near_chance():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 8))
    y = rng.permutation(np.repeat(np.arange(12), 50))
    _, support = _before_support(X, y)
    assert support[-1] == 1.0  # the root
    assert support[:-1].mean() < 0.5


def test_before_support_is_byte_identical_with_a_seed():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 5)).astype(np.float32)
    y = np.repeat(np.arange(8), 25)
    a, b, c = (_before_support(X, y, n_boot=20, seed=s)[1] for s in (3, 3, 4))
    assert a.tobytes() == b.tobytes()
    assert not np.array_equal(a, c)


def test_cluster_point_replicates_resample_each_final_cluster():
    from embtree.caec import grow_clusters
    from embtree.relation_trees import cluster_point_replicates

    X, y = _planted_blobs()
    res = grow_clusters(X, y, metric="euclidean", step="auto")
    indptr, members = res.member_csr()
    reps = list(cluster_point_replicates(X, y, indptr, members, res.classes, res.centroids, 300, seed=0))
    Gf = np.mean([r["G"] for r in reps], axis=0)
    P = np.mean([r["P"] for r in reps], axis=0)
    # The resampled means scatter around the cluster's G^f and P (eq. 14, eq. 7) ...
    np.testing.assert_allclose(Gf, res.final_centroids, atol=0.15)
    np.testing.assert_allclose(P, res.mmp, atol=0.15)
    # ... and every replicate point is a mean of the cluster's own members.
    for k, m in enumerate(res.members):
        lo, hi = X[m].min(axis=0), X[m].max(axis=0)
        assert all(((r["G"][k] >= lo - 1e-9) & (r["G"][k] <= hi + 1e-9)).all() for r in reps[:20])
    # A cluster whose draw holds no own member keeps P = G (as CAEC sets it).
    foreign = np.array([1, 2, 3])
    one = next(cluster_point_replicates(X, y, np.array([0, 3]), foreign, np.array([y[0]]) * 0 + 99,
                                        res.centroids[:1], 1))
    np.testing.assert_array_equal(one["P"][0], res.centroids[0])


def _planted_blobs():
    rng = np.random.default_rng(4)
    centres = rng.normal(scale=8.0, size=(5, 6))
    y = np.repeat(np.arange(5), 40)
    return centres[y] + rng.normal(size=(200, 6)), y


def test_caec_tree_support_planted():
    from embtree.caec import grow_clusters
    from embtree.relation_trees import cluster_point_replicates, upgma_support

    X, y = _planted_blobs()
    res = grow_clusters(X, y, metric="euclidean", step="auto")
    indptr, members = res.member_csr()
    trees = {(m, p): upgma_linkage(pts, m) for m in ("euclidean", "canberra")
             for p, pts in (("G", res.final_centroids), ("P", res.mmp))}
    reps = cluster_point_replicates(X, y, indptr, members, res.classes, res.centroids, 30, seed=1)
    support = upgma_support(trees, reps)
    assert set(support) == set(trees)
    for s in support.values():
        assert s.shape == (4,) and s[-1] == 1.0 and ((s >= 0) & (s <= 1)).all()


def test_bad_bootstrap_input():
    from embtree.relation_trees import class_point_replicates

    X = np.zeros((6, 2))
    with pytest.raises(ValueError, match="n_boot=0"):
        next(class_point_replicates(X, np.repeat([0, 1, 2], 2), 0))
    with pytest.raises(ValueError, match="every class"):
        next(class_point_replicates(X, np.repeat([0, 2, 3], 2), 2))


@pytest.mark.slow  # ~20 s: UPGMA of 10,000 points and the Deformity Index at 10,000 leaves
def test_planted_tree_of_10000_classes_recovered_by_centroids_and_upgma():
    # issue 28's acceptance check: 10,000 well-separated classes (depth 4 x branching 10, the
    # planted recipe's step_scale / decay, small noise) -> class centroids -> UPGMA is the planted tree.
    from embtree.data.planted import planted_tree
    from embtree.hierarchy.compare import compare_trees

    X, y, names, ref = planted_tree(depth=4, branching=10, dim=32, samples_per_class=1, noise=0.1, seed=0)
    tree = upgma(class_centroids(X, y, len(names)), list(names))
    out = compare_trees(tree, ref)
    assert out["clade_recall"] == 1.0 and out["clade_precision"] == 1.0 and out["di"] == 0.0
    # the binary tree resolves every multifurcation: RF counts exactly those extra splits
    assert out["rf"] == (len(names) - 3) - (10 + 100 + 1000)  # binary splits minus the planted ones
