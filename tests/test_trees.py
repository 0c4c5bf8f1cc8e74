"""Relation trees (UPGMA), Newick <-> linkage, Robinson-Foulds and Deformity Index."""

import itertools

import dendropy
import numpy as np
import pytest
from scipy.cluster import hierarchy

from embtree import trees

# ---------------------------------------------------------------- helpers


def _clades(newick):
    """Non-trivial clades (frozensets of leaf names) of a rooted Newick tree: a plain reference."""
    t = trees.parse_newick(newick)
    t.suppress_unifurcations()
    n = len(t.leaf_nodes())
    out = set()
    for nd in t.postorder_internal_node_iter():
        s = frozenset(x.taxon.label for x in nd.leaf_iter())
        if 1 < len(s) < n:
            out.add(s)
    return out


def _splits(newick):
    """Non-trivial unrooted splits as canonical frozensets (side without the smallest leaf)."""
    t = trees.parse_newick(newick)
    leaves = frozenset(x.taxon.label for x in t.leaf_node_iter())
    anchor = min(leaves)
    out = set()
    for c in _clades(newick) | {frozenset(x.taxon.label for x in ch.leaf_iter()) for ch in t.seed_node.child_nodes()}:
        side = c if anchor not in c else leaves - c
        if 1 < len(side) < len(leaves) - 1:
            out.add(side)
    return out


def _caterpillar(names):
    s = names[0]
    for x in names[1:]:
        s = f"({s},{x})"
    return s + ";"


# ---------------------------------------------------------------- Newick <-> linkage


def test_linkage_newick_roundtrip_and_quoting():
    rng = np.random.default_rng(0)
    Z = hierarchy.average(rng.normal(size=(9, 3)))
    names = ["a_b", "c d", "e'f", "g(h)", "i", "j", "k", "l", "m"]
    nwk = trees.linkage_to_newick(Z, names)
    assert sorted(trees.leaf_names(nwk)) == sorted(names)
    Z2, names2 = trees.newick_to_linkage(nwk, names)
    assert names2 == names
    np.testing.assert_allclose(Z2, Z)
    # same cophenetic distances = same ultrametric tree
    np.testing.assert_allclose(hierarchy.cophenet(Z2), hierarchy.cophenet(Z))


def test_newick_to_linkage_topological_heights_and_multifurcation():
    Z, names = trees.newick_to_linkage("((a,b),(c,(d,e)));")
    assert names == ["a", "b", "c", "d", "e"]
    assert Z[:, 2].tolist() == [1.0, 1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="binary"):
        trees.newick_to_linkage("((a,b,c),d);")


# ---------------------------------------------------------------- UPGMA


def test_upgma_is_scipy_average_linkage():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(12, 4))
    for metric, scipy_name in trees.TREE_METRICS.items():
        Z = trees.upgma_linkage(X, metric)
        Zs = hierarchy.linkage(X, method="average", metric=scipy_name)
        np.testing.assert_allclose(Z, Zs)


def test_upgma_eq16_update_by_hand():
    # 1-D points 0, 1, 5, 11: merges {0,1}@1, then d({0,1},5) = (5+4)/2 = 4.5 -> merge @4.5,
    # then d({0,1,5},11) = (11+10+6)/3 = 9.
    Z = trees.upgma_linkage(np.array([[0.0], [1.0], [5.0], [11.0]]), "manhattan")
    np.testing.assert_allclose(Z[:, 2], [1.0, 4.5, 9.0])


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "canberra"])
def test_upgma_recovers_tree_of_placed_points(metric):
    # Points placed by a known binary tree: each level adds a displacement that
    # shrinks with depth, so UPGMA must recover the tree exactly.
    rng = np.random.default_rng(2)
    depth, dim = 3, 16
    points = {"": np.full(dim, 20.0)}  # offset keeps Canberra away from 0/0
    for level in range(depth):
        scale = 8.0 / 2**level
        points = {
            k + b: v + sgn * scale * rng.normal(size=dim)
            for k, v in points.items()
            for b, sgn in (("0", 1), ("1", -1))
        }
    names = sorted(points)
    X = np.stack([points[k] for k in names])
    truth = "(((000,001),(010,011)),((100,101),(110,111)));"
    nwk = trees.upgma(X, [f"{n}" for n in names], metric)
    assert trees.robinson_foulds(nwk, truth, rooted=True) == 0


def test_upgma_input_errors():
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="duplicate"):
        trees.upgma(X, ["a", "b", "a", "c"])
    with pytest.raises(ValueError, match="at least 3"):
        trees.upgma(X[:2], ["a", "b"])
    with pytest.raises(ValueError, match="metric"):
        trees.upgma(X, list("abcd"), "cosine")
    with pytest.raises(ValueError, match="len\\(names\\)"):
        trees.upgma(X, list("abc"))
    with pytest.raises(ValueError, match="NaN"):
        trees.upgma(np.full((4, 2), np.nan), list("abcd"))


# ---------------------------------------------------------------- Robinson-Foulds


def test_rf_known_values():
    assert trees.robinson_foulds("((a,b),(c,d));", "((a,b),(c,d));") == 0
    assert trees.robinson_foulds("((a,b),(c,d));", "((a,c),(b,d));") == 2
    assert trees.robinson_foulds("((a,b),(c,d));", "((a,c),(b,d));", rooted=True) == 4
    # rooting does not matter for unrooted RF
    assert trees.robinson_foulds("(((a,b),c),(d,e));", "((a,b),(c,(d,e)));") == 0
    # multifurcating reference: 2 splits vs 1 -> RF 1 (odd values, as in the paper's table 17)
    d = trees.robinson_foulds_details("(((a,b),c),(d,e));", "((a,b),c,d,e);")
    assert d == {"rf": 1, "rf_max": 3, "rf_norm": pytest.approx(1 / 3), "n_splits_a": 2, "n_splits_b": 1}


def test_rf_matches_plain_split_count_on_random_trees():
    rng = np.random.default_rng(3)
    names = [f"t{i}" for i in range(12)]
    for _ in range(10):
        a = trees.upgma(rng.normal(size=(12, 3)), names)
        b = trees.upgma(rng.normal(size=(12, 3)), names)
        sa, sb = _splits(a), _splits(b)
        d = trees.robinson_foulds_details(a, b)
        assert d["rf"] == len(sa ^ sb)
        assert d["rf_max"] == len(sa) + len(sb) == 2 * (12 - 3)
        ca, cb = _clades(a), _clades(b)
        assert trees.robinson_foulds(a, b, rooted=True) == len(ca ^ cb)


def test_rf_errors():
    with pytest.raises(ValueError, match="different leaf sets"):
        trees.robinson_foulds("((a,b),c);", "((a,b),d);")
    with pytest.raises(ValueError, match="duplicate"):
        trees.robinson_foulds("((a,b),(a,c));", "((a,b),c);")
    with pytest.raises(ValueError, match="at least 3"):
        trees.robinson_foulds("(a,b);", "(a,b);")
    with pytest.raises(ValueError, match="parsed"):
        trees.robinson_foulds("((a,b),c", "((a,b),c);")


# ---------------------------------------------------------------- Deformity Index


REF = "(((a,b),c),((d,e),f),(g,h,i));"  # multifurcating reference, 9 leaves


def test_di_zero_for_trees_keeping_all_reference_clades():
    assert trees.deformity_index(REF, REF) == 0.0
    # any binary resolution of the polytomies keeps every reference clade
    resolved = "((((a,b),c),((d,e),f)),(g,(h,i)));"
    assert trees.deformity_index(resolved, REF) == 0.0
    assert trees.robinson_foulds(resolved, REF) > 0  # RF penalises the resolution, DI does not


def test_di_caterpillar_with_clade_members_on_top_is_maximal():
    # One reference clade: the caterpillar with its members at the top levels reaches
    # the bound (n - k)(k - 1) and no tree does better.
    ref = "((a,b,c),d,e,f,g);"
    names = list("abcdefg")
    worst = _caterpillar(list("defgabc"))  # a, b, c nearest the root
    assert trees.deformity_index(worst, ref) == (7 - 3) * (3 - 1)
    assert trees.deformity_index(worst, ref, normalize=True) == 1.0
    rng = np.random.default_rng(4)
    for _ in range(100):
        assert trees.deformity_index(trees.upgma(rng.normal(size=(7, 2)), names), ref) <= 8
    # Nested clades: every clade's deformation stays within its bound, the worst
    # caterpillar scores above one that keeps the clades together, the reference scores 0.
    ref6 = "(((a,b),c),((d,e),f));"
    scores = {p: trees.deformity_index(_caterpillar(list(p)), ref6) for p in itertools.permutations("abcdef")}
    top = max(scores.values())
    for _ in range(100):
        t = trees.upgma(rng.normal(size=(6, 2)), list("abcdef"))
        assert all(0 <= r["deformation"] <= r["max_deformation"] for r in trees.clade_deformations(t, ref6))
    assert 0 < trees.deformity_index(_caterpillar(list("abcdef")), ref6) < top
    assert trees.deformity_index(ref6, ref6) == 0


def test_di_known_value_by_hand():
    ref = "((a,b,c),(d,e));"
    tree = "((((d,e),a),b),c);"
    # {a,b,c}: MRCA = root -> 2 intruders (d,e); fragments a, b, c -> Dc = 2*(3-1) = 4
    # {d,e}: intact -> 0.   DI = (4 + 0) / 2
    assert trees.deformity_index(tree, ref) == 2.0
    assert trees.deformity_index(tree, ref, normalize=True) == pytest.approx((4 / 4 + 0 / 3) / 2)


def test_di_zero_iff_clade_kept_random():
    rng = np.random.default_rng(5)
    names = [f"x{i}" for i in range(10)]
    ref = trees.upgma(rng.normal(size=(10, 2)), names)
    ref_clades = _clades(ref)
    for _ in range(30):
        t = trees.upgma(rng.normal(size=(10, 2)), names)
        kept = _clades(t)
        for r in trees.clade_deformations(t, ref):
            assert (r["deformation"] == 0) == (frozenset(r["members"]) in kept)
        assert len(trees.clade_deformations(t, ref)) == len(ref_clades)


def test_di_errors():
    with pytest.raises(ValueError, match="different leaf sets"):
        trees.deformity_index("((a,b),c);", "((a,b),d);")
    with pytest.raises(ValueError, match="duplicate"):
        trees.deformity_index("((a,b),(a,c));", "((a,b),c);")
    with pytest.raises(ValueError, match="at least 3"):
        trees.deformity_index("(a,b);", "(a,b);")


def test_compare_trees_columns():
    out = trees.compare_trees("((a,b),(c,d));", "((a,c),(b,d));")
    assert set(out) == {"rf", "rf_max", "rf_norm", "di"}
    assert out["rf"] == 2 and out["rf_norm"] == 1.0 and out["di"] > 0


# ---------------------------------------------------------------- helpers for the stage


def test_class_centroids_and_nearest_leaf():
    X = np.array([[0.0, 0], [2, 0], [10, 10], [12, 10]])
    y = np.array([0, 0, 1, 1])
    G = trees.class_centroids(X, y)
    np.testing.assert_allclose(G, [[1, 0], [11, 10]])
    assert trees.nearest_leaf(X, G, "manhattan").tolist() == [0, 0, 1, 1]
    with pytest.raises(ValueError, match="no samples"):
        trees.class_centroids(X, y, n_classes=3)


# ---------------------------------------------------------------- planted tree chain


def test_planted_tree_chain_recovers_tree():
    caec = pytest.importorskip("embtree.caec", reason="embtree.caec (CAEC issue) not available yet")
    rng = np.random.default_rng(6)
    depth, dim, n_per = 3, 16, 60
    centres = {"": np.full(dim, 10.0)}
    for level in range(depth):
        scale = 6.0 / 2**level
        centres = {
            k + b: v + sgn * scale * rng.normal(size=dim)
            for k, v in centres.items()
            for b, sgn in (("0", 1), ("1", -1))
        }
    names = sorted(centres)
    X = np.concatenate([centres[k] + 0.3 * rng.normal(size=(n_per, dim)) for k in names])
    y = np.repeat(np.arange(len(names)), n_per)
    truth = "(((000,001),(010,011)),((100,101),(110,111)));"
    res = caec.grow_clusters(X, y, metric="euclidean")
    for pts in (res.final_centroids, res.mmp):
        nwk = trees.upgma(np.asarray(pts), names, "euclidean")
        assert trees.robinson_foulds(nwk, truth, rooted=True) == 0
