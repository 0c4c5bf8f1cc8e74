"""Newick reading and writing (embtree.hierarchy.newick): Newick <-> linkage, quoting, parsed trees."""

import numpy as np
import pytest
from scipy.cluster import hierarchy

from embtree.hierarchy.newick import (
    as_tree,
    check_names,
    check_tree_leaves,
    leaf_names,
    linkage_to_newick,
    newick_to_linkage,
    parse_newick,
    quote_label,
)


# ---------------------------------------------------------------- Newick <-> linkage


def test_linkage_newick_roundtrip_and_quoting():
    rng = np.random.default_rng(0)
    Z = hierarchy.average(rng.normal(size=(9, 3)))
    names = ["a_b", "c d", "e'f", "g(h)", "i", "j", "k", "l", "m"]
    nwk = linkage_to_newick(Z, names)
    assert sorted(leaf_names(nwk)) == sorted(names)
    Z2, names2 = newick_to_linkage(nwk, names)
    assert names2 == names
    np.testing.assert_allclose(Z2, Z)
    # same cophenetic distances = same ultrametric tree
    np.testing.assert_allclose(hierarchy.cophenet(Z2), hierarchy.cophenet(Z))


def test_newick_to_linkage_topological_heights_and_multifurcation():
    Z, names = newick_to_linkage("((a,b),(c,(d,e)));")
    assert names == ["a", "b", "c", "d", "e"]
    assert Z[:, 2].tolist() == [1.0, 1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="binary"):
        newick_to_linkage("((a,b,c),d);")


def test_quote_label_and_check_names():
    assert quote_label("maple_tree") == "maple_tree" and quote_label("c d") == "'c d'"
    assert quote_label("e'f") == "'e''f'"
    assert check_names(np.array(["a", "b"])) == ["a", "b"]
    with pytest.raises(ValueError, match="duplicate leaf names: \\['a'\\]"):
        check_names(["a", "b", "a"])
    with pytest.raises(ValueError, match="len\\(names\\)=2 != number of leaves 3"):
        check_names(["a", "b"], 3)
    with pytest.raises(ValueError, match="empty name"):
        check_names(["a", ""])


# ---------------------------------------------------------------- one parsed tree type


def test_parse_newick_keeps_underscores_and_rejects_bad_input():
    tree = parse_newick("((maple_tree,'oak tree'),pine)")  # the ';' may be missing
    assert [x.taxon.label for x in tree.leaf_node_iter()] == ["maple_tree", "oak tree", "pine"]
    for bad, match in (("", "non-empty"), ("((a,b),c", "parsed"), ("((a,b),(,c));", "unlabelled")):
        with pytest.raises(ValueError, match=match):
            parse_newick(bad)


UNARY = "((((a:1,b:2):0.5):1,(c:1,(d:1,e:1):0.25):2):0.5);"  # unary nodes, the root's too


def test_functions_take_a_parsed_tree_and_leave_it_unchanged():
    tree = parse_newick(UNARY)
    before = tree.as_string(schema="newick")
    assert as_tree(tree) is tree
    assert leaf_names(tree) == leaf_names(UNARY) == list("abcde")
    Z, names = newick_to_linkage(tree, list("edcba"))
    Zs, _ = newick_to_linkage(UNARY, list("edcba"))
    assert Z.tobytes() == Zs.tobytes() and names == list("edcba")
    assert tree.as_string(schema="newick") == before
    # unary nodes are skipped exactly as dendropy's suppress_unifurcations removes them
    suppressed = parse_newick(UNARY)
    suppressed.suppress_unifurcations()
    assert newick_to_linkage(suppressed, list("edcba"))[0].tobytes() == Z.tobytes()
    assert Z[:, 2].tolist() == [1.0, 1.25, 2.0, 3.5]  # (a,b) reaches the root over 0.5 + 1


def test_check_tree_leaves_reports_mismatch():
    assert check_tree_leaves("((aquarium_fish,b),c);", ["aquarium_fish", "b", "c"])  # underscores kept
    with pytest.raises(ValueError, match=r"classes missing from the tree: \['d'\]"):
        check_tree_leaves("((a,b),c);", ["a", "b", "c", "d"])
