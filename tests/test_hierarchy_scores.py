"""Hierarchy scores (embtree.hierarchy.scores: LP, DP, LHD) on hand-computed trees and against brute force."""

import itertools

import numpy as np
import pytest
from scipy.cluster import hierarchy

from embtree.hierarchy.scores import dendrogram_purity, hierarchy_scores, leaf_purity, lhd

# Tree over 3 leaves: node 3 = (0, 1), root 4 = (2, 3). Leaf 2 hangs off the root.
Z3 = np.array([[0, 1, 1, 2], [2, 3, 2, 3]], dtype=float)
# Six samples: leaf 0 = {a, a}, leaf 1 = {a, b}, leaf 2 = {b, b}.
LEAF3 = np.array([0, 0, 1, 1, 2, 2])
Y3 = np.array([0, 0, 0, 1, 1, 1])


def _ancestors(Z, n):
    """node -> list of ancestors from itself up to the root (plain dict walk)."""
    parent = {}
    for i, (a, b, _, _) in enumerate(Z):
        parent[int(a)] = n + i
        parent[int(b)] = n + i
    out = {}
    for v in range(2 * n - 1):
        chain = [v]
        while chain[-1] in parent:
            chain.append(parent[chain[-1]])
        out[v] = chain
    return out


def _brute(Z, leaf, y):
    """DP and LHD straight from the definitions, pair by pair."""
    n = Z.shape[0] + 1
    anc = _ancestors(Z, n)
    below = {v: {s for s in range(len(leaf)) if v in anc[leaf[s]]} for v in range(2 * n - 1)}
    pur, dist = [], []
    for i, j in itertools.combinations(range(len(y)), 2):
        if y[i] != y[j]:
            continue
        common = [v for v in anc[leaf[i]] if v in anc[leaf[j]]][0]
        members = below[common]
        pur.append(sum(y[s] == y[i] for s in members) / len(members))
        if leaf[i] != leaf[j]:
            td = anc[leaf[i]].index(common) + anc[leaf[j]].index(common)
            dist.append((np.log2(td) - 1) / (np.log2(n) - 1))
    return np.mean(pur), (np.mean(dist) if dist else 0.0)


def test_hand_computed_tree():
    # DP: pairs (a: 1, .75, .75; b: 1, .5, .5) -> 4.5 / 6. LHD: a-pairs td=2 -> 0, b-pairs td=3 -> 1.
    assert dendrogram_purity(Z3, LEAF3, Y3) == pytest.approx(0.75)
    assert lhd(Z3, LEAF3, Y3) == pytest.approx(0.5)
    assert leaf_purity(LEAF3, Y3) == pytest.approx(5 / 6)


def test_perfect_tree_scores():
    # Every leaf pure and every class in exactly one leaf: DP = 1, LHD = 0, LP = 1.
    leaf = np.array([0, 0, 1, 1, 2, 2, 3])
    y = np.array([5, 5, 7, 7, 9, 9, 4])
    Z = np.array([[0, 1, 1, 2], [2, 3, 2, 2], [4, 5, 3, 4]], dtype=float)
    assert dendrogram_purity(Z, leaf, y) == pytest.approx(1.0)
    assert lhd(Z, leaf, y) == 0.0
    assert leaf_purity(leaf, y) == 1.0


def test_dp_is_one_for_pure_subtrees_even_when_classes_span_leaves():
    # Class 0 split over leaves 0 and 1 which are siblings: DP still 1, LHD 0 (td = 2).
    leaf = np.array([0, 1, 2, 2])
    y = np.array([0, 0, 1, 1])
    assert dendrogram_purity(Z3, leaf, y) == pytest.approx(1.0)
    assert lhd(Z3, leaf, y) == 0.0
    # Split over leaves 1 and 2 instead: LCA is the root -> DP < 1, LHD = 1.
    leaf = np.array([1, 2, 0, 0])
    assert dendrogram_purity(Z3, leaf, y) == pytest.approx((2 / 4 + 1) / 2)
    assert lhd(Z3, leaf, y) == pytest.approx(1.0)


@pytest.mark.parametrize("seed", range(4))
def test_exact_metrics_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    n_leaves = int(rng.integers(3, 9))
    Z = hierarchy.linkage(rng.normal(size=(n_leaves, 2)), "average")
    leaf = rng.integers(0, n_leaves, 40)
    y = rng.integers(0, 4, 40)
    dp, dist = _brute(Z, leaf, y)
    assert dendrogram_purity(Z, leaf, y) == pytest.approx(dp)
    assert lhd(Z, leaf, y) == pytest.approx(dist)


def test_sampled_dp_matches_exact_within_standard_error():
    rng = np.random.default_rng(0)
    n = 300
    y = rng.integers(0, 5, n)
    X = rng.normal(size=(n, 3)) + y[:, None]
    Z = hierarchy.linkage(X, "ward")  # sample-level dendrogram
    leaf = np.arange(n)
    exact, se0 = dendrogram_purity(Z, leaf, y, return_se=True)
    assert se0 == 0.0
    est, se = dendrogram_purity(Z, leaf, y, max_exact=0, n_pairs=20_000, seed=1, return_se=True)
    assert 0 < se < 0.01
    assert abs(est - exact) < 4 * se
    # Seeded: the same seed gives the same estimate.
    assert dendrogram_purity(Z, leaf, y, max_exact=0, n_pairs=20_000, seed=1) == est


def test_bad_input():
    with pytest.raises(ValueError, match="len\\(leaf_of_sample\\)"):
        dendrogram_purity(Z3, LEAF3, Y3[:-1])
    with pytest.raises(ValueError, match="0..2"):
        lhd(Z3, np.array([0, 3, 1, 1, 2, 2]), Y3)
    with pytest.raises(ValueError, match="linkage"):
        dendrogram_purity(np.array([[0, 1, 1]], dtype=float), np.array([0, 1]), np.array([0, 0]))
    with pytest.raises(ValueError, match="P\\* is empty"):
        dendrogram_purity(Z3, np.array([0, 1, 2]), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="integers"):
        lhd(Z3, LEAF3.astype(float), Y3)


def test_hierarchy_scores_equal_the_single_scores():
    # hierarchy_scores validates once and runs the kernels: the same numbers as each public score.
    rng = np.random.default_rng(4)
    Z = hierarchy.linkage(rng.normal(size=(7, 2)), "average")
    leaf = rng.integers(0, 7, 60)
    y = rng.integers(0, 3, 60)
    s = hierarchy_scores(Z, leaf, y)
    assert s["dp"] == dendrogram_purity(Z, leaf, y) and s["dp_se"] == 0.0
    assert s["lhd"] == lhd(Z, leaf, y) and s["lp"] == leaf_purity(leaf, y)
    s = hierarchy_scores(Z, leaf, y, max_exact=0, n_pairs=5_000, seed=2)
    assert (s["dp"], s["dp_se"]) == dendrogram_purity(Z, leaf, y, max_exact=0, n_pairs=5_000, seed=2, return_se=True)
    with pytest.raises(ValueError, match="P\\* is empty"):
        hierarchy_scores(Z3, np.array([0, 1, 2]), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="n_pairs=0"):
        hierarchy_scores(Z3, LEAF3, Y3, n_pairs=0)
