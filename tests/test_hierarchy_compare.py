"""Tree comparison (embtree.hierarchy.compare): Robinson-Foulds, clade recall / precision, Deformity Index."""

import dendropy
from dendropy.calculate import treecompare
import numpy as np
import pytest

from embtree.centroids import class_centroids
from embtree.data.planted import planted_tree
from embtree.hierarchy.compare import (
    COMPARE_COLUMNS,
    ReferenceTree,
    clade_deformations,
    clade_scores,
    compare_trees,
    deformity_index,
    max_clade_deformation,
    robinson_foulds,
    robinson_foulds_details,
)
from embtree.hierarchy.newick import leaf_names, parse_newick
from embtree.relation_trees import upgma


# ---------------------------------------------------------------- helpers


def _clades(newick):
    """Non-trivial clades (frozensets of leaf names) of a rooted Newick tree: a plain reference."""
    t = parse_newick(newick)
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
    t = parse_newick(newick)
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


# ---------------------------------------------------------------- Robinson-Foulds


def test_rf_known_values():
    assert robinson_foulds("((a,b),(c,d));", "((a,b),(c,d));") == 0
    assert robinson_foulds("((a,b),(c,d));", "((a,c),(b,d));") == 2
    assert robinson_foulds("((a,b),(c,d));", "((a,c),(b,d));", rooted=True) == 4
    # rooting does not matter for unrooted RF
    assert robinson_foulds("(((a,b),c),(d,e));", "((a,b),(c,(d,e)));") == 0
    # multifurcating reference: 2 splits vs 1 -> RF 1 (odd values, as in the paper's table 17)
    d = robinson_foulds_details("(((a,b),c),(d,e));", "((a,b),c,d,e);")
    assert d == {"rf": 1, "rf_max": 3, "rf_norm": pytest.approx(1 / 3), "n_splits_a": 2, "n_splits_b": 1}


def test_rf_matches_plain_split_count_on_random_trees():
    rng = np.random.default_rng(3)
    names = [f"t{i}" for i in range(12)]
    for _ in range(10):
        a = upgma(rng.normal(size=(12, 3)), names)
        b = upgma(rng.normal(size=(12, 3)), names)
        sa, sb = _splits(a), _splits(b)
        d = robinson_foulds_details(a, b)
        assert d["rf"] == len(sa ^ sb)
        assert d["rf_max"] == len(sa) + len(sb) == 2 * (12 - 3)
        ca, cb = _clades(a), _clades(b)
        assert robinson_foulds(a, b, rooted=True) == len(ca ^ cb)


def test_rf_errors():
    with pytest.raises(ValueError, match="different leaf sets"):
        robinson_foulds("((a,b),c);", "((a,b),d);")
    with pytest.raises(ValueError, match="duplicate"):
        robinson_foulds("((a,b),(a,c));", "((a,b),c);")
    with pytest.raises(ValueError, match="at least 3"):
        robinson_foulds("(a,b);", "(a,b);")
    with pytest.raises(ValueError, match="parsed"):
        robinson_foulds("((a,b),c", "((a,b),c);")


# ---------------------------------------------------------------- Deformity Index


REF = "(((a,b),c),((d,e),f),(g,h,i));"  # multifurcating reference, 9 leaves


def _defin(target, reference):
    """Deformity Index computed literally as the authors' DefIn program does it
    (github.com/aritramhp/DefIn, ``Deformity_Score_for_Clade`` / ``main``): per
    reference clade, per target internal node, dendropy MRCAs and node levels."""
    ref = dendropy.Tree.get(data=reference, schema="newick", preserve_underscores=True, rooting="force-rooted")
    clades = [{x.taxon.label for x in nd.leaf_nodes()} for nd in ref.internal_nodes()]
    tree = dendropy.Tree.get(data=target, schema="newick", preserve_underscores=True, rooting="force-rooted")
    leaves = {x.taxon.label for x in tree.leaf_nodes()}
    level = {nd: nd.level() for nd in tree.preorder_node_iter()}
    node = {x.taxon.label: x for x in tree.leaf_nodes()}
    dc = []
    for clade in clades:
        if not leaves - clade:
            dc.append(0)
            continue
        scores = []
        for v in tree.internal_nodes():
            lv = {x.taxon.label for x in v.leaf_nodes()}
            missed, correct, wrong = clade - lv, clade & lv, lv - clade
            t_in = 0
            for x in missed:
                m = tree.mrca(taxon_labels=list((correct or wrong) | {x}))
                t_in += (level[node[x].parent_node] - level[m]) + (level[v] - level[m])
            t_out = sum(level[node[y].parent_node] - level[v] + 1 for y in wrong)
            scores.append((t_in + t_out) * len(clade) * 1.0 / len(lv))
        dc.append(min(scores))
    return sum(dc) * 1.0 / len(dc)


def _random_multifurcating(rng, names):
    """A random rooted tree with polytomies: UPGMA with some internal edges contracted."""
    t = parse_newick(upgma(rng.normal(size=(len(names), 2)), names))
    for nd in list(t.postorder_internal_node_iter(exclude_seed_node=True)):
        if rng.random() < 0.4:
            nd.edge.collapse()
    return t.as_string(schema="newick", suppress_edge_lengths=True).strip()


def _all_binary_trees(leaves):
    """Every rooted binary tree on ``leaves`` (nested tuples), by inserting the last leaf on every edge."""
    if len(leaves) == 2:
        yield tuple(leaves)
        return

    def insert(t, x):
        yield (t, x)
        if isinstance(t, tuple):
            yield from ((a, t[1]) for a in insert(t[0], x))
            yield from ((t[0], b) for b in insert(t[1], x))

    for t in _all_binary_trees(leaves[:-1]):
        yield from insert(t, leaves[-1])


def _nwk(t):
    return "(" + ",".join(_nwk(c) for c in t) + ")" if isinstance(t, tuple) else t


def test_di_zero_for_trees_keeping_all_reference_clades():
    assert deformity_index(REF, REF) == 0.0
    # any binary resolution of the polytomies keeps every reference clade
    resolved = "((((a,b),c),((d,e),f)),(g,(h,i)));"
    assert deformity_index(resolved, REF) == 0.0
    assert deformity_index(resolved, REF, normalize=True) == 0.0
    assert robinson_foulds(resolved, REF) > 0  # RF penalises the resolution, DI does not


def test_di_known_value_by_hand():
    ref = "((a,b,c),(d,e));"
    tree = "((((d,e),a),b),c);"  # levels: c 1, b 2, a 3, d e 4; spine u0..u3 at levels 0..3
    # Clade {a,b,c}, DefIn score (transfer-in + transfer-out) * |C| / |L(v)| at each node:
    #   u0 (all):     out d,e: 4 + 4            -> 3/5 * 8 = 4.8   <- minimum
    #   u1 {a,b,d,e}: in c: 1; out d,e: 3 + 3   -> 3/4 * 7 = 5.25
    #   u2 {a,d,e}:   in b: 1, c: 2; out: 2 + 2 -> 3/3 * 7 = 7
    #   u3 {d,e}:     in a 1, b 2, c 3; out 1+1 -> 3/2 * 8 = 12
    # {d,e} is a clade (0); the root clade counts with 0: DI = (0 + 4.8 + 0) / 3.
    rows = clade_deformations(tree, ref)
    assert [(r["members"], r["deformation"]) for r in rows] == [
        (list("abcde"), 0.0),
        (list("abc"), pytest.approx(4.8)),
        (list("de"), 0.0),
    ]
    assert deformity_index(tree, ref) == pytest.approx(1.6)
    assert deformity_index(tree, ref) == pytest.approx(_defin(tree, ref))
    # bounded form: 4.8 over the worst case for |C| = 3 of 5 leaves, mean over the 2 non-root clades
    worst = max_clade_deformation(5, 3)
    assert deformity_index(tree, ref, normalize=True) == pytest.approx((4.8 / worst + 0) / 2)


def test_di_equals_the_authors_algorithm_on_random_trees():
    rng = np.random.default_rng(7)
    names = [f"x{i}" for i in range(11)]
    for it in range(24):
        ref = _random_multifurcating(rng, names) if it % 2 else upgma(rng.normal(size=(11, 2)), names)
        tree = _random_multifurcating(rng, names) if it % 3 == 0 else upgma(rng.normal(size=(11, 3)), names)
        assert deformity_index(tree, ref) == pytest.approx(_defin(tree, ref), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("n", [4, 5, pytest.param(6, marks=pytest.mark.slow)])
def test_max_clade_deformation_is_the_maximum_over_all_binary_trees(n):
    names = [f"l{i}" for i in range(n)]
    for k in range(2, n):
        ref = ReferenceTree("((" + ",".join(names[:k]) + ")," + ",".join(names[k:]) + ");")
        worst = max(r[1]["deformation"] for r in (clade_deformations(_nwk(t) + ";", ref)
                                                  for t in _all_binary_trees(names)))  # fmt: skip
        assert max_clade_deformation(n, k) == pytest.approx(worst)
        # reached by the caterpillar with the clade's members nearest the root
        top = _caterpillar(names[k:][::-1] + names[:k][::-1])
        assert clade_deformations(top, ref)[1]["deformation"] == pytest.approx(worst)
    sizes = np.arange(2, 40)
    np.testing.assert_array_equal(max_clade_deformation(40, sizes),
                                  [max_clade_deformation(40, int(k)) for k in sizes])  # fmt: skip


def test_di_bounded_and_zero_iff_clade_kept_random():
    rng = np.random.default_rng(5)
    names = [f"x{i}" for i in range(10)]
    ref = upgma(rng.normal(size=(10, 2)), names)
    ref_clades = _clades(ref)
    for _ in range(30):
        t = upgma(rng.normal(size=(10, 2)), names)
        kept = _clades(t)
        rows = clade_deformations(t, ref)
        for r in rows[1:]:  # row 0 is the root clade
            assert (r["deformation"] == 0) == (frozenset(r["members"]) in kept)
            assert 0 <= r["deformation"] <= r["max_deformation"] + 1e-9
        assert len(rows) == len(ref_clades) + 1
        assert 0 <= deformity_index(t, ref, normalize=True) <= 1


def test_di_errors():
    with pytest.raises(ValueError, match="different leaf sets"):
        deformity_index("((a,b),c);", "((a,b),d);")
    with pytest.raises(ValueError, match="duplicate"):
        deformity_index("((a,b),(a,c));", "((a,b),c);")
    with pytest.raises(ValueError, match="at least 3"):
        deformity_index("(a,b);", "(a,b);")
    with pytest.raises(ValueError, match="size"):
        max_clade_deformation(5, 5)


# ---------------------------------------------------------------- clade recall / precision


def test_clade_counts_match_dendropy_and_rf_is_unchanged():
    rng = np.random.default_rng(8)
    names = [f"x{i}" for i in range(14)]
    for it in range(20):
        ref = _random_multifurcating(rng, names) if it % 2 else upgma(rng.normal(size=(14, 2)), names)
        tree = _random_multifurcating(rng, names) if it % 5 == 0 else upgma(rng.normal(size=(14, 3)), names)
        tns = dendropy.TaxonNamespace()
        a, b = parse_newick(tree, tns, rooted=False), parse_newick(ref, tns, rooted=False)
        assert robinson_foulds(tree, ref) == treecompare.symmetric_difference(a, b)
        tns = dendropy.TaxonNamespace()
        a, b = parse_newick(tree, tns), parse_newick(ref, tns)
        fp, fn = treecompare.false_positives_and_negatives(b, a)
        c = clade_scores(tree, ref)
        assert (c["false_positives"], c["false_negatives"]) == (fp, fn)
        ct, cr = _clades(tree), _clades(ref)
        assert c["clade_recall"] == len(ct & cr) / len(cr)
        compatible = [e for e in ct if all(e <= r or r <= e or not e & r for r in cr)]
        assert c["clade_precision"] == len(compatible) / len(ct)


def test_recall_precision_known_values():
    c = clade_scores("((((a,b),c),((d,e),f)),(g,(h,i)));", REF)  # resolves every polytomy
    assert c["clade_recall"] == 1.0 and c["clade_precision"] == 1.0 and c["false_positives"] == 2
    # {a,b,c} and {d,e} are one unrooted split but two clades: RF sees no error, recall does
    c = clade_scores("((((d,e),a),b),c);", "((a,b,c),(d,e));")
    assert robinson_foulds("((((d,e),a),b),c);", "((a,b,c),(d,e));") == 1
    assert c["clade_recall"] == 0.5 and c["clade_precision"] == pytest.approx(1 / 3)
    star = clade_scores("((a,b),c,d);", "(a,b,c,d);")
    assert np.isnan(star["clade_recall"]) and star["clade_precision"] == 1.0


def _planted_upgma(branching, depth, seed):
    X, y, names, truth = planted_tree(depth=depth, branching=branching, dim=16, samples_per_class=20,
                                               decay=0.35, noise=0.3, seed=seed)  # fmt: skip
    return upgma(class_centroids(X, y), names), truth


@pytest.mark.parametrize("branching,depth", [(2, 3), (3, 3), (4, 2), (10, 2)])
def test_planted_tree_upgma_recovery_scores_perfect(branching, depth):
    nwk, truth = _planted_upgma(branching, depth, seed=branching)
    out = compare_trees(nwk, truth)
    assert out["clade_recall"] == 1.0 and out["clade_precision"] == 1.0
    assert out["di"] == 0.0 and out["di_norm"] == 0.0
    if branching > 2:  # the binary tree's extra resolution is all RF counts
        assert out["rf"] == out["rf_max"] - 2 * len(_splits(truth)) > 0


@pytest.mark.parametrize("branching", [3, 4])
def test_one_misplaced_leaf_lowers_recall_by_the_clades_it_breaks(branching):
    *_, truth = planted_tree(depth=3, branching=branching, dim=2, samples_per_class=1)
    leaves = leaf_names(truth)
    x, z = leaves[0], leaves[-1]  # different top-level subtrees
    moved = truth.replace(f"({x},", "(").replace(f",{z})", f",({z},{x}))")
    assert sorted(leaf_names(moved)) == sorted(leaves)
    ref_clades = _clades(truth)
    broken = [c for c in ref_clades if (x in c) != (z in c)]
    assert len(broken) == 4  # x's two ancestors' clades and z's
    c = clade_scores(moved, truth)
    assert c["clade_recall"] == pytest.approx(1 - len(broken) / len(ref_clades))
    assert c["false_negatives"] == len(broken)


def test_random_binary_trees_are_imprecise_against_a_multifurcating_reference():
    *_, truth = planted_tree(depth=2, branching=5, dim=2, samples_per_class=1)
    names = leaf_names(truth)
    rng = np.random.default_rng(9)
    for _ in range(10):
        out = compare_trees(upgma(rng.normal(size=(len(names), 3)), names), truth)
        assert out["clade_precision"] < 1 and out["clade_recall"] < 1 and out["di"] > 0


def test_reference_tree_is_reusable_and_compare_columns():
    ref = ReferenceTree(REF)
    rng = np.random.default_rng(10)
    names = list("abcdefghi")
    for _ in range(5):
        t = upgma(rng.normal(size=(9, 2)), names)
        assert compare_trees(t, ref) == compare_trees(t, REF)
    out = compare_trees("((a,b),(c,d));", "((a,c),(b,d));")
    assert tuple(out) == COMPARE_COLUMNS
    assert out["rf"] == 2 and out["rf_norm"] == 1.0 and out["di"] > 0
    assert out["clade_recall"] == 0.0 and out["clade_precision"] == 0.0


def test_deep_caterpillar_parses_and_compares():
    names = [f"c{i}" for i in range(1100)]  # deeper than Python's default recursion limit
    out = compare_trees(_caterpillar(names), _caterpillar(names[::-1]))
    # the same unrooted tree, rooted at the other end: RF 0, no clade shared
    assert out["rf"] == 0 and out["clade_recall"] == 0.0 and out["di"] > 0


# ---------------------------------------------------------------- one parsed tree type


def test_comparisons_take_parsed_trees_and_leave_them_unchanged():
    rng = np.random.default_rng(11)
    names = [f"x{i}" for i in range(9)]
    ref = "((((x0,x1)),x2),((x3,x4,x5),(x6,(x7,x8))));"  # a unary node: skipped, not suppressed
    tree = upgma(rng.normal(size=(9, 2)), names)
    t, r = parse_newick(tree), parse_newick(ref)
    before = t.as_string(schema="newick"), r.as_string(schema="newick")
    assert compare_trees(t, r) == compare_trees(tree, ref) == compare_trees(t, ReferenceTree(r))
    assert clade_deformations(t, r) == clade_deformations(tree, ref)
    assert robinson_foulds(t, r, rooted=True) == robinson_foulds(tree, ref, rooted=True)
    assert robinson_foulds_details(t, ReferenceTree(r), rooted=True) == robinson_foulds_details(tree, ref, rooted=True)
    assert (t.as_string(schema="newick"), r.as_string(schema="newick")) == before
    # skipping unary nodes scores as dendropy's suppress_unifurcations would
    r.suppress_unifurcations()
    assert compare_trees(tree, r) == compare_trees(tree, ref)
    # labels that need quotes survive the rooted comparison of parsed trees
    odd = ["a b", "c'd", "e_f", "g(h)"]
    a, b = "((('a b','c''d'),e_f),'g(h)');", "(('a b',e_f),('c''d','g(h)'));"
    assert sorted(leaf_names(a)) == sorted(odd)
    assert robinson_foulds(parse_newick(a), parse_newick(b), rooted=True) == robinson_foulds(a, b, rooted=True) > 0
