"""Class granularity and multi-labels from a reference tree (embtree.hierarchy.granularity):
coarse labels at a tree depth, multi-label files, ancestor label sets."""

import json

import numpy as np
import pytest

from conftest import ANCESTOR_NAMES, ANCESTOR_TREE
from embtree.hierarchy import granularity
from embtree.hierarchy.newick import parse_newick


TREE = "((a,b)ab,((c,d)cd,e)cde)root;"


def test_coarse_labels_at_depth():
    names = ["a", "b", "c", "d", "e"]
    c1, n1 = granularity.coarsen_classes(TREE, names, 1)
    np.testing.assert_array_equal(c1, [0, 0, 1, 1, 1])
    assert n1 == ["ab", "cde"]
    c2, n2 = granularity.coarsen_classes(TREE, names, 2)
    # a, b, e are at depth 2 (kept); c, d (depth 3) go to cd.
    np.testing.assert_array_equal(c2, [0, 1, 2, 2, 3])
    assert n2 == ["a", "b", "cd", "e"]
    c3, _ = granularity.coarsen_classes(TREE, names, 3)
    np.testing.assert_array_equal(c3, np.arange(5))
    with pytest.raises(ValueError, match="coarse depth=4 must be an int in 1..3"):
        granularity.coarsen_classes(TREE, names, 4)
    with pytest.raises(ValueError, match="differ"):
        granularity.coarsen_classes(TREE, ["a", "b"], 1)


def test_granularity_takes_a_parsed_tree():
    names = ["a", "b", "c", "d", "e"]
    tree = parse_newick(TREE)
    for depth in (1, 2, 3):
        c, n = granularity.coarsen_classes(tree, names, depth)
        cs, ns = granularity.coarsen_classes(TREE, names, depth)
        np.testing.assert_array_equal(c, cs)
        assert n == ns
    assert granularity.leaf_depths(tree) == granularity.leaf_depths(TREE) == {"a": 2, "b": 2, "c": 3, "d": 3, "e": 2}
    anc = parse_newick(ANCESTOR_TREE)
    np.testing.assert_array_equal(granularity.ancestor_label_sets(anc, ANCESTOR_NAMES),
                                  granularity.ancestor_label_sets(ANCESTOR_TREE, ANCESTOR_NAMES))


def test_read_multi_labels(tmp_path):
    path = tmp_path / "real.json"
    path.write_text(json.dumps([[0], [1, "c"], []]))
    S = granularity.read_multi_labels(path, ["a", "b", "c"], 3)
    np.testing.assert_array_equal(S, [[1, 0, 0], [0, 1, 1], [0, 0, 0]])
    with pytest.raises(ValueError, match="4 label lists"):
        granularity.read_multi_labels(path, ["a", "b", "c"], 4)


def test_ancestor_label_sets_by_synset_and_by_name():
    syn = ["poodle.n.01", "", "dog.n.01", "cat.n.01", "lion.n.01", "tiger.n.01", "feline.n.01"]
    S = granularity.ancestor_label_sets(ANCESTOR_TREE, ANCESTOR_NAMES, syn)
    expected = np.eye(7, dtype=bool)
    expected[[0, 1], 2] = True  # poodle, terrier -> dog (the dog.n.01 node)
    expected[[4, 5], 6] = True  # lion, tiger -> feline (an internal node named like the class)
    np.testing.assert_array_equal(S, expected)
    # Without synsets only the node named like a class counts.
    S = granularity.ancestor_label_sets(ANCESTOR_TREE, ANCESTOR_NAMES)
    np.testing.assert_array_equal(S[:, 2], np.eye(7, dtype=bool)[:, 2])
    assert S[4, 6] and S[5, 6] and not S[3, 6]
    # All-leaf classes (CIFAR-10, ImageNet-1K): every set is the class alone.
    np.testing.assert_array_equal(granularity.ancestor_label_sets(TREE, list("abcde")), np.eye(5, dtype=bool))
    with pytest.raises(ValueError, match="differ"):
        granularity.ancestor_label_sets(ANCESTOR_TREE, ANCESTOR_NAMES[:3])


def test_superclasses_at_a_depth_auto_and_named_nodes():
    # TREE = ((a,b)ab,((c,d)cd,e)cde)root: depth 1 = ab / cde; depth 2 keeps a, b, e and joins c, d.
    sup, d = granularity.superclasses(TREE, 1)
    assert d == 1 and sup == {"a": "ab", "b": "ab", "c": "cde", "d": "cde", "e": "cde"}
    sup, d = granularity.superclasses(TREE, 2)
    assert sup == {"a": "a", "b": "b", "c": "cd", "d": "cd", "e": "e"}
    assert granularity.superclasses(TREE, 9) == granularity.superclasses(TREE, 3)  # clipped to the deepest leaf
    # auto: depth 1's largest superclass holds 3/5 = 60 % (<= AUTO_MAX_SHARE): depth 1.
    assert granularity.superclasses(TREE, "auto")[1] == 1
    # A 90 % superclass at depth 1 is too coarse: auto goes down to depth 2.
    lopsided = "(x,((a,b)ab,(c,d)cd,(e,f)ef,(g,h)gh,i)big)root;"
    sup, d = granularity.superclasses(lopsided, "auto")
    assert d == 2 and sup["a"] == "ab" and sup["i"] == "i" and sup["x"] == "x"
    # Named nodes (paper 001 fig. 8): the deepest listed ancestor; None under none; unknown labels ignored.
    sup, d = granularity.superclasses(TREE, nodes=["cde", "cd", "nope"])
    assert d is None and sup == {"a": None, "b": None, "c": "cd", "d": "cd", "e": "cde"}
    # An unlabelled clade is named by its first and last leaf, not by every leaf.
    assert granularity.superclasses("((a,b,c),(d,e));", 1)[0]["b"] == "a…c"
    with pytest.raises(ValueError, match="depth=0"):
        granularity.superclasses(TREE, 0)


def test_superclasses_max_groups_takes_the_deepest_depth_that_fits():
    # TREE: 2 superclasses at depth 1 (ab, cde), 4 at depth 2 (a, b, cd, e), the 5 leaves at depth 3.
    assert granularity.superclasses(TREE, max_groups=2) == granularity.superclasses(TREE, 1)
    assert granularity.superclasses(TREE, max_groups=3)[1] == 1
    assert granularity.superclasses(TREE, max_groups=4) == granularity.superclasses(TREE, 2)
    assert granularity.superclasses(TREE, max_groups=5)[1] == 3
    # A chain above the clades (WordNet: entity > physical_entity > ...) is passed through.
    chain = "((((a,b)ab,(c,d)cd)x)y)root;"
    sup, d = granularity.superclasses(chain, max_groups=2)
    assert d == 3 and sup == {"a": "ab", "b": "ab", "c": "cd", "d": "cd"}
    # Not even depth 1 fits: depth 1.
    assert granularity.superclasses("(a,b,c);", max_groups=2)[1] == 1
    # A depth given wins over max_groups; bad values are named.
    assert granularity.superclasses(TREE, 2, max_groups=2)[1] == 2
    with pytest.raises(ValueError, match="max_groups=0"):
        granularity.superclasses(TREE, max_groups=0)
