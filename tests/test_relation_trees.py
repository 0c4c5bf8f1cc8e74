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
